/* SPDX-License-Identifier: MIT */
/* audit_show.c and audit_reader.c: `audit show` on a small trail, its
 * filters, and the trail read across a rotation and past bad lines. */
#include "audit.h"
#include "audit_helpers.h"
#include "audit_reader.h"
#include "audit_record.h"
#include "helpers.h"
#include "result.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

/* cppcheck-suppress unknownMacro */
TestSuite(audit_show, .init = audit_setup, .fini = audit_teardown);

/* A process whose name is "hivebox", as a launcher still running. */
static pid_t fake_hivebox(void)
{
	int p[2];
	char c;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		prctl(PR_SET_NAME, "hivebox");
		(void)!write(p[1], "x", 1);
		for (;;)
			pause();
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return child;
}

static int show(const struct hb_audit_query *q, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	cr_assert_not_null(f);
	r = hb_audit_show(&audit, q, f);
	fclose(f);
	*out = keep(buf);
	return r;
}

/* The line of text holding s, or NULL. */
static char *line_with(const char *text, const char *s)
{
	const char *at = strstr(text, s), *start, *end;

	if (!at)
		return NULL;
	for (start = at; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(at, '\n');
	return keep(
		strndup(start, end ? (size_t)(end - start) : strlen(start)));
}

/* The run's row holds these words and ends in these numbers. */
static void expect_row(const char *text, const char *id, const char *outcome,
		       const char *wall, const char *viol, const char *alerts)
{
	char *row = line_with(text, id), nums[64];

	cr_assert_not_null(row, "no row for %s in:\n%s", id, text);
	cr_assert_not_null(strstr(row, outcome), "'%s' not in: %s", outcome,
			   row);
	snprintf(nums, sizeof(nums), "  %7s  %10s  %6s", wall, viol, alerts);
	cr_assert(strlen(row) > strlen(nums) &&
			  strcmp(row + strlen(row) - strlen(nums), nums) == 0,
		  "'%s' does not end in '%s'", row, nums);
}

Test(audit_show, lists_runs_in_start_order)
{
	struct hb_audit_query q = {0};
	char *out, *pa, *pb, *pc, *pd, *ev;

	small_trail();
	cr_assert_eq(show(&q, &out), 0);
	cr_assert(strncmp(out, "START", 5) == 0, "%s", out);
	pa = strstr(out, ID_A);
	pb = strstr(out, ID_B);
	pc = strstr(out, ID_C);
	pd = strstr(out, ID_D);
	cr_assert(pa && pb && pc && pd, "%s", out);
	cr_assert(pa < pb && pb < pc && pc < pd, "%s", out);
	expect_row(out, ID_A, "  exit 0  ", "100", "0", "0");
	cr_assert_not_null(strstr(line_with(out, ID_A),
				  "2001-01-01T09:00:00.000Z  " ID_A
				  "  /srv/a.py  " STRICT " "),
			   "%s", out);
	expect_row(out, ID_B, "  timeout SIGKILL  ", "5000", "1", "0");
	expect_row(out, ID_C, "  launcher died  ", "-", "0", "1");
	cr_assert_not_null(strstr(line_with(out, ID_C), LOOSE), "%s", out);
	expect_row(out, ID_D, "  not started  ", "-", "1", "0");
	cr_assert_not_null(strstr(line_with(out, ID_D), STRICT), "%s", out);
	ev = strstr(out, "  timeout: ran longer than 5 s\n");
	cr_assert(ev && ev > pb && ev < pc, "%s", out);
	ev = strstr(out, "  memory_usage_alert: memory at 90%\n");
	cr_assert(ev && ev > pc && ev < pd, "%s", out);
	ev = strstr(out, "  refusal: --memory-mb would loosen the policy\n");
	cr_assert(ev && ev > pd, "%s", out);
	cr_assert_eq(count_lines(out), 8, "%s", out);
}

Test(audit_show, running_launcher)
{
	static const struct run_rec run_e = {ID_E, "2004-01-01T09:00:00.000Z",
					     "/srv/e.py", STRICT};
	struct hb_audit_query q = {0};
	char *out, want[64];
	pid_t pid = fake_hivebox();

	open_log(false);
	append_start(&run_e, pid);
	cr_assert_eq(show(&q, &out), 0);
	snprintf(want, sizeof(want), "  running (pid %d)  ", (int)pid);
	expect_row(out, ID_E, want, "-", "0", "0");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	child = -1;
	cr_assert_eq(show(&q, &out), 0);
	expect_row(out, ID_E, "  launcher died  ", "-", "0", "0");
}

Test(audit_show, pid_reused_by_another_program)
{
	static const struct run_rec run_e = {ID_E, "2004-01-01T09:00:00.000Z",
					     "/srv/e.py", STRICT};
	struct hb_audit_query q = {0};
	char *out;

	open_log(false);
	/* Alive, but the test runner, not a hivebox. */
	append_start(&run_e, getppid());
	cr_assert_eq(show(&q, &out), 0);
	expect_row(out, ID_E, "  launcher died  ", "-", "0", "0");
}

Test(audit_show, exec_filter)
{
	struct hb_audit_query q = {.exec_id = ID_B};
	char *out;

	small_trail();
	cr_assert_eq(show(&q, &out), 0);
	/* One run: in full, field by field. */
	cr_assert(strncmp(out, "exec id:          " ID_B "\n", 55) == 0, "%s",
		  out);
	cr_assert_not_null(strstr(out, "\nscript:           /srv/b.py\n"), "%s",
			   out);
	cr_assert_not_null(strstr(out, "\npolicy:           " STRICT "\n"),
			   "%s", out);
	cr_assert_not_null(strstr(out, "\noutcome:          timeout SIGKILL"),
			   "%s", out);
	cr_assert_not_null(strstr(out, "\nwall ms:          5000\n"), "%s",
			   out);
	cr_assert_not_null(strstr(out, "\nevents: 1\n"), "%s", out);
	cr_assert_not_null(strstr(out, "  timeout (violation): ran longer than "
				       "5 s\n"),
			   "%s", out);
	cr_assert_null(strstr(out, ID_A), "%s", out);
	cr_assert_null(strstr(out, ID_C), "%s", out);
	cr_assert_null(strstr(out, ID_D), "%s", out);
}

Test(audit_show, exec_prefix)
{
	struct hb_audit_query q = {.exec_id = "bbbb"};
	char *out;

	small_trail();
	cr_assert_eq(show(&q, &out), 0);
	cr_assert(strncmp(out, "exec id:          " ID_B "\n", 55) == 0, "%s",
		  out);
	/* A prefix that every run shares is no answer. */
	q.exec_id = "";
	cr_assert_eq(show(&q, &out), -ENOTUNIQ);
}

Test(audit_show, event_filter)
{
	struct hb_audit_query q = {.event = "memory_usage_alert"};
	char *out;

	small_trail();
	cr_assert_eq(show(&q, &out), 0);
	expect_row(out, ID_C, "  launcher died  ", "-", "0", "1");
	cr_assert_not_null(strstr(out, "  memory_usage_alert: memory at 90%"));
	cr_assert_null(strstr(out, ID_A), "%s", out);
	cr_assert_null(strstr(out, ID_B), "%s", out);
	cr_assert_null(strstr(out, "timeout:"), "%s", out);
	cr_assert_eq(count_lines(out), 3, "%s", out);
	q.event = "file_size_limit";
	cr_assert_eq(show(&q, &out), 0);
	cr_assert_str_eq(out, "no runs match\n");
}

Test(audit_show, script_filter)
{
	struct hb_audit_query q = {.script = "/srv/a.py"};
	char *out;

	small_trail();
	cr_assert_eq(show(&q, &out), 0);
	expect_row(out, ID_A, "  exit 0  ", "100", "0", "0");
	expect_row(out, ID_C, "  launcher died  ", "-", "0", "1");
	cr_assert_null(strstr(out, ID_B), "%s", out);
	cr_assert_null(strstr(out, ID_D), "%s", out);
	cr_assert_null(strstr(out, "timeout:"), "%s", out);
}

Test(audit_show, since_filter)
{
	struct hb_audit_query q = {0};
	char *out;

	small_trail();
	/* 10:00 at +01:00 is B's 09:00 UTC: B is in, A is not. */
	q.since = "2002-01-01T10:00:00+01:00";
	cr_assert_eq(show(&q, &out), 0);
	cr_assert_null(strstr(out, ID_A), "%s", out);
	cr_assert(strstr(out, ID_B) && strstr(out, ID_C) && strstr(out, ID_D),
		  "%s", out);
	cr_assert_not_null(strstr(out, "  timeout: ran longer than 5 s\n"));
	q.since = "2002-01-01T09:00:01Z";
	cr_assert_eq(show(&q, &out), 0);
	cr_assert_null(strstr(out, ID_B), "%s", out);
	cr_assert(strstr(out, ID_C) && strstr(out, ID_D), "%s", out);
	q.since = "2002-01-02";
	cr_assert_eq(show(&q, &out), 0);
	cr_assert_null(strstr(out, ID_A), "%s", out);
	cr_assert_null(strstr(out, ID_B), "%s", out);
	cr_assert_not_null(strstr(out, ID_C), "%s", out);
	q.since = "last tuesday";
	cr_assert_eq(show(&q, &out), -EINVAL);
}

Test(audit_show, json_lines_parse)
{
	struct hb_audit_query q = {.json = true};
	char *out, *v[8], *p;
	const char *ids[] = {ID_A, ID_B, ID_C, ID_D};
	json_object *o, *ev;
	size_t n = 0;

	small_trail();
	cr_assert_eq(show(&q, &out), 0);
	for (p = out; *p && n < ARRAY_SIZE(v);) {
		char *nl = strchr(p, '\n');
		cr_assert_not_null(nl, "%s", p);
		*nl = '\0';
		v[n++] = p;
		p = nl + 1;
	}
	cr_assert_eq(n, 4, "%s", out);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(str_of(parse(v[i]), "exec_id"), ids[i]);
	o = parse(v[0]);
	cr_assert_str_eq(str_of(o, "reason"), "exit");
	cr_assert_str_eq(str_of(o, "outcome"), "exit 0");
	cr_assert_eq(int_of(o, "exit_code"), 0);
	cr_assert_eq(int_of(o, "wall_ms"), 100);
	cr_assert_str_eq(str_of(o, "script"), "/srv/a.py");
	cr_assert_str_eq(str_of(o, "start_time"), run_a.start);
	cr_assert_eq(json_object_array_length(member(o, "events")), 0);
	o = parse(v[1]);
	cr_assert_str_eq(str_of(o, "reason"), "timeout");
	cr_assert_eq(int_of(o, "signal"), SIGKILL);
	cr_assert_eq(int_of(o, "violations"), 1);
	cr_assert_null(member(o, "exit_code"));
	ev = json_object_array_get_idx(member(o, "events"), 0);
	cr_assert_not_null(ev);
	cr_assert_str_eq(str_of(ev, "kind"), "timeout");
	cr_assert_str_eq(str_of(ev, "severity"), "violation");
	cr_assert_str_eq(str_of(ev, "message"), "ran longer than 5 s");
	cr_assert(json_object_is_type(member(ev, "details"), json_type_object));
	o = parse(v[2]);
	cr_assert_str_eq(str_of(o, "reason"), "launcher_died");
	cr_assert_str_eq(str_of(o, "outcome"), "launcher died");
	cr_assert_eq(int_of(o, "alerts"), 1);
	cr_assert_null(member(o, "end_time"));
	o = parse(v[3]);
	cr_assert_str_eq(str_of(o, "reason"), "not_started");
	cr_assert_str_eq(str_of(o, "policy"), STRICT);
	cr_assert_eq(int_of(o, "violations"), 1);
}

Test(audit_show, nothing_to_show)
{
	struct hb_audit_query q = {0};
	char *out, *err;

	open_log(false);
	cr_assert_eq(show(&q, &out), 0);
	cr_assert_str_eq(out, "no runs match\n");
	/* JSON Lines on stdout: no runs is no line. */
	q.json = true;
	stderr_capture_start();
	cr_assert_eq(show(&q, &out), 0);
	err = keep(stderr_capture_stop());
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(err, "no runs match\n");
}

Test(audit_show, control_characters_not_printed)
{
	static const struct run_rec run_x = {ID_E, "2004-01-01T09:00:00.000Z",
					     "/srv/\033]0;owned\007.py",
					     STRICT};
	struct hb_audit_query q = {0};
	char *out;

	open_log(false);
	append_start(&run_x, gone_pid());
	cr_assert_eq(show(&q, &out), 0);
	cr_assert_null(strchr(out, '\033'), "%s", out);
	cr_assert_null(strchr(out, '\007'), "%s", out);
	/* As recorded: escaped. */
	cr_assert_not_null(strstr(out, "/srv/\\x1b]0;owned\\x07.py"), "%s",
			   out);
}

/* Nothing a terminal would act on: no C0 control but the newline, no
 * DEL, no byte that is not ASCII (C1 controls, U+202E, invalid UTF-8). */
static void expect_plain(const char *out)
{
	for (const char *p = out; *p; p++)
		cr_assert((*p >= 0x20 && *p < 0x7f) || *p == '\n',
			  "byte %#x at %zu of\n%s", (unsigned char)*p,
			  (size_t)(p - out), out);
}

#define ODD "/srv/a\x7f\x9b\xc2\x9b\xe2\x80\xae\xff\x1b[2J.py"
#define ODD_SHOWN "/srv/a\\x7f\\x9b\\xc2\\x9b\\xe2\\x80\\xae\\xff\\x1b[2J.py"

/* A log written before hivebox escaped its strings (or by hand) holds
 * raw bytes: show and stats escape them, in text and in JSON, and keep
 * the columns in line. */
Test(audit_show, raw_bytes_of_an_old_log_are_escaped)
{
	char *start[] = {"{\"seq\":1,\"type\":\"start\",\"exec_id\":\"" ID_E
			 "\",\"start_time\":\"2004-01-01T09:00:00.000Z\","
			 "\"script\":{\"path\":\"" ODD "\"},"
			 "\"policy\":{\"path\":\"" STRICT "\"},\"pid\":1,"
			 "\"hash\":\"" PREV "\"}"};
	char *event[] = {"{\"seq\":1,\"type\":\"event\",\"exec_id\":\"" ID_E
			 "\",\"time\":\"2004-01-01T09:00:01.000Z\","
			 "\"kind\":\"timeout\",\"severity\":\"violation\","
			 "\"message\":\"" ODD "\",\"details\":{\"path\":\"" ODD
			 "\"}}"};
	struct hb_audit_query q = {0};
	char *out, *line, *head;

	open_log(false);
	log_write(LOG, start, 1, false);
	log_write(SEC, event, 1, false);
	cr_assert_eq(show(&q, &out), 0);
	expect_plain(out);
	line = line_with(out, ODD_SHOWN "  " STRICT);
	cr_assert_not_null(line, "%s", out);
	head = line_with(out, "SCRIPT");
	cr_assert_eq(strstr(head, "POLICY") - head, strstr(line, STRICT) - line,
		     "columns out of line:\n%s", out);
	cr_assert_not_null(strstr(out, "timeout: " ODD_SHOWN "\n"), "%s", out);
	q.json = true;
	cr_assert_eq(show(&q, &out), 0);
	expect_plain(out);
	cr_assert_str_eq(str_of(parse(out), "script"), ODD_SHOWN);
	cr_assert_eq(stats(&q, &out), 0);
	expect_plain(out);
	cr_assert(has(member(parse(out), "by_script"), ODD_SHOWN), "%s", out);
	q.json = false;
	cr_assert_eq(stats(&q, &out), 0);
	expect_plain(out);
	cr_assert_not_null(strstr(out, ODD_SHOWN), "%s", out);
	/* --script finds a run by the bytes as given, in an old log and in
	 * a new one, which records them escaped. */
	append_start(&(struct run_rec){ID_D, "2004-01-01T10:00:00.000Z", ODD,
				       STRICT},
		     gone_pid());
	q.script = ODD;
	cr_assert_eq(show(&q, &out), 0);
	cr_assert_not_null(strstr(out, ID_E), "%s", out);
	cr_assert_not_null(strstr(out, ID_D), "%s", out);
}

/* A run wholly in the rotated file (A), one that spans the rotation (B),
 * and its security event, also in a rotated file. */
Test(audit_show, records_across_a_rotation)
{
	struct hb_result ra = {.reason = HB_REASON_EXIT, .wall_ms = 7};
	struct hb_result rb = {
		.reason = HB_REASON_EXIT, .exit_code = 3, .wall_ms = 42};
	struct hb_audit_query q = {0};
	pid_t gone = gone_pid();
	char *out, *ev;

	open_log(false);
	append_start(&run_a, gone);
	append_end(&run_a, &ra);
	append_start(&run_b, gone);
	append_event(ID_B, "cpu_usage_alert", HB_EV_ALERT, "cpu at 80%", NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_SECURITY), 0);
	append_end(&run_b, &rb);
	cr_assert_eq(show(&q, &out), 0);
	expect_row(out, ID_A, "  exit 0  ", "7", "0", "0");
	expect_row(out, ID_B, "  exit 3  ", "42", "0", "0");
	cr_assert_not_null(strstr(line_with(out, ID_B), "/srv/b.py"), "%s",
			   out);
	ev = strstr(out, "  cpu_usage_alert: cpu at 80%\n");
	cr_assert(ev && ev > strstr(out, ID_B), "%s", out);
	cr_assert_eq(count_lines(out), 4, "%s", out);
}

Test(audit_show, corrupt_lines_skipped)
{
	struct hb_result ra = {.reason = HB_REASON_EXIT, .wall_ms = 100};
	struct hb_audit_query q = {0};
	char *v[MAX_LINES], *w[4], *out, *err, want[600];

	open_log(false);
	append_start(&run_a, gone_pid());
	append_end(&run_a, &ra);
	cr_assert_eq(log_lines(LOG, v), 2);
	w[0] = v[0];
	w[1] = "\001 not a record";
	w[2] = v[1];
	w[3] = "{\"seq\":3,\"ti";
	log_write(LOG, w, 4, true);
	stderr_capture_start();
	cr_assert_eq(show(&q, &out), 0);
	err = keep(stderr_capture_stop());
	expect_row(out, ID_A, "  exit 0  ", "100", "0", "0");
	snprintf(want, sizeof(want),
		 "hivebox: %s/%s:2: not an audit record, skipped", logdir, LOG);
	cr_assert_not_null(strstr(err, want), "%s", err);
	snprintf(want, sizeof(want),
		 "hivebox: %s/%s:4: not an audit record, skipped", logdir, LOG);
	cr_assert_not_null(strstr(err, want), "%s", err);
	cr_assert_eq(count_lines(err), 2, "%s", err);
	stderr_capture_start();
	cr_assert_eq(stats(&q, &out), 0);
	keep(stderr_capture_stop());
	cr_assert(strncmp(out, "executions: 1\n", 14) == 0, "%s", out);
}

/* A refused run leaves an end record without a start, built from what
 * the launcher knew (here: no policy read, no plan): show and stats
 * count it as a run that was refused, with its refusal event. */
Test(audit_show, refused_run_is_a_run)
{
	struct hb_audit_query q = {0};
	struct hb_plan plan = {.script_fd = -1};
	struct hb_run_info info = {.argc = 0};
	struct hb_result res = {0};
	json_object *rec, *r;
	char *out, *v[MAX_LINES];

	open_log(true);
	snprintf(info.exec_id, sizeof(info.exec_id), "%s", ID_D);
	snprintf(info.start_time, sizeof(info.start_time), "%s",
		 "2004-01-01T09:00:00.000Z");
	plan.policy_path = strdup("missing.ini");
	plan.script = strdup("/srv/d.py");
	hb_result_refused(&res, "missing.ini: No such file or directory",
			  false);
	snprintf(res.exec_id, sizeof(res.exec_id), "%s", ID_D);
	res.violations = 1; /* the refusal event */
	append_event(ID_D, "refusal", HB_EV_VIOLATION,
		     "missing.ini: No such file or directory", NULL);
	cr_assert_eq(hb_audit_append(
			     &audit, HB_LOG_EXEC,
			     hb_audit_record_refused(&info, &plan, &res), NULL),
		     0);
	hb_plan_free(&plan);
	cr_assert_eq(log_lines(LOG, v), 1);
	rec = parse(v[0]);
	cr_assert_str_eq(str_of(rec, "type"), "end");
	cr_assert_str_eq(str_of(rec, "script"), "/srv/d.py");
	cr_assert_null(member(rec, "cwd"));
	cr_assert(has(rec, "user") && has(rec, "argv"));
	r = member(rec, "result");
	cr_assert_str_eq(str_of(r, "reason"), "refused");
	cr_assert_eq(int_of(r, "hivebox_exit_code"), 125);
	cr_assert_null(member(r, "network"));
	cr_assert_str_eq(str_of(member(r, "refusal"), "message"),
			 "missing.ini: No such file or directory");
	cr_assert_eq(show(&q, &out), 0);
	expect_row(out, ID_D, "refused", "0", "1", "0");
	cr_assert_not_null(strstr(out, "refusal: missing.ini: No such file"),
			   "%s", out);
	cr_assert_eq(stats(&q, &out), 0);
	cr_assert(strncmp(out, "executions: 1\n", 14) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "  refused          1\n"), "%s", out);
}

Test(audit_show, since_takes_the_forms_an_investigator_types)
{
	/* 2026-11-28T12:34:56Z */
	const time_t now = 1795869296;
	char out[32];

	cr_assert_eq(hb_audit_parse_since("2h", now, out), 0);
	cr_assert_str_eq(out, "2026-11-28T10:34:56");
	cr_assert_eq(hb_audit_parse_since("30m", now, out), 0);
	cr_assert_str_eq(out, "2026-11-28T12:04:56");
	cr_assert_eq(hb_audit_parse_since("3d", now, out), 0);
	cr_assert_str_eq(out, "2026-11-25T12:34:56");
	cr_assert_eq(hb_audit_parse_since("2026-11-01", now, out), 0);
	cr_assert_str_eq(out, "2026-11-01");
	cr_assert_eq(hb_audit_parse_since("2026-11-01T10:00+02:00", now, out),
		     0);
	cr_assert_str_eq(out, "2026-11-01T08:00:00");
	cr_assert_eq(hb_audit_parse_since("2026-11-01 10:00:05.5Z", now, out),
		     0);
	cr_assert_str_eq(out, "2026-11-01T10:00:05");
	/* Local midnight, in UTC: whatever the zone, today is within the
	 * last day and yesterday a day before it. */
	cr_assert_eq(hb_audit_parse_since("today", now, out), 0);
	cr_assert_eq(strlen(out), 19, "%s", out);
	{
		char y[32];
		struct tm tm = {0};
		time_t t0, t1;
		cr_assert_eq(hb_audit_parse_since("yesterday", now, y), 0);
		cr_assert_not_null(strptime(out, "%Y-%m-%dT%H:%M:%S", &tm));
		t0 = timegm(&tm);
		cr_assert_not_null(strptime(y, "%Y-%m-%dT%H:%M:%S", &tm));
		t1 = timegm(&tm);
		cr_assert(t0 <= now && now - t0 < 86400 + 3600, "%s", out);
		cr_assert(t0 - t1 >= 23 * 3600 && t0 - t1 <= 25 * 3600, "%s %s",
			  out, y);
	}
	for (const char *const *bad =
		     (const char *const[]){"", "2", "2x", "h", "-2h", "2h ago",
					   "tomorrow", "2026-13-01",
					   "2026-11-01T",
					   "2026-11-01T10:00junk", NULL};
	     *bad; bad++)
		cr_assert_eq(hb_audit_parse_since(*bad, now, out), -EINVAL,
			     "'%s'", *bad);
}

Test(audit_show, event_kinds_are_known)
{
	cr_assert(hb_audit_event_kind_known("syscall_denied"));
	cr_assert(hb_audit_event_kind_known("refusal"));
	cr_assert_not(hb_audit_event_kind_known("syscall_deny"));
	cr_assert_not(hb_audit_event_kind_known(""));
}

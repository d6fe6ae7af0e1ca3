/* SPDX-License-Identifier: MIT */
/* result.c and hb_result_classify(): wait statuses in, reasons and JSON
 * out, the JSON parsed back with json-c. */
#include "helpers.h"
#include "audit_record.h"
#include "result.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static struct hb_policy policy;
static struct hb_plan plan;

static void result_setup(void)
{
	hb_policy_init(&policy);
	policy.limits.cpu_seconds = 10;
	policy.limits.memory_mb = 128;
	policy.path = strdup("/etc/hivebox/strict.ini");
	plan = (struct hb_plan){.policy = &policy};
	cr_assert_eq(hb_plan_settings(&plan, &policy), 0);
	plan.script = strdup("/srv/jobs/tally.py");
}

static void result_teardown(void)
{
	hb_plan_free(&plan);
	hb_policy_free(&policy);
}

/* cppcheck-suppress unknownMacro */
TestSuite(result, .init = result_setup, .fini = result_teardown);

static struct hb_result classify(int status, unsigned long long user_ms,
				 unsigned long long system_ms)
{
	struct hb_result r;

	memset(&r, 0, sizeof(r));
	r.user_ms = user_ms;
	r.system_ms = system_ms;
	hb_result_classify(&r, status, &plan);
	return r;
}

/* A fatal signal with what the kernel counted: the interpreter's CPU
 * time as RLIMIT_CPU counts it, and the bytes the sandbox wrote. */
static struct hb_result classify_counted(int status, unsigned long long cpu_ms,
					 unsigned long long written)
{
	struct hb_result r;

	memset(&r, 0, sizeof(r));
	r.interp_cpu_ms = cpu_ms;
	r.written_bytes = written;
	hb_result_classify(&r, status, &plan);
	return r;
}

/* The plan keeps how each limit was set, for the line that names it. */
Test(result, limit_texts_from_the_policy)
{
	cr_assert_str_eq(hb_plan_limit_text(&plan, HB_K_CPU),
			 "cpu_seconds = 10 (built-in default)");
	cr_assert_str_eq(hb_plan_limit_text(&plan, HB_K_TMP_SIZE),
			 "tmp_size_mb = 64 (built-in default)");
	cr_assert_str_eq(hb_plan_limit_text(&plan, HB_K_AUDIT_DIR), "?");
}

Test(result, reason_names)
{
	cr_assert_str_eq(hb_reason_name(HB_REASON_EXIT), "exit");
	cr_assert_str_eq(hb_reason_name(HB_REASON_SIGNAL), "signal");
	cr_assert_str_eq(hb_reason_name(HB_REASON_TIMEOUT), "timeout");
	cr_assert_str_eq(hb_reason_name(HB_REASON_CPU_LIMIT), "cpu_limit");
	cr_assert_str_eq(hb_reason_name(HB_REASON_MEMORY_LIMIT),
			 "memory_limit");
	cr_assert_str_eq(hb_reason_name(HB_REASON_FILE_SIZE_LIMIT),
			 "file_size_limit");
	cr_assert_str_eq(hb_reason_name(HB_REASON_SETUP_ERROR), "setup_error");
	cr_assert_str_eq(hb_reason_name((enum hb_reason)42), "?");
}

Test(result, classify_exit)
{
	struct hb_result r = classify(W_EXITCODE(3, 0), 5, 5);

	cr_assert_eq(r.reason, HB_REASON_EXIT);
	cr_assert_eq(r.exit_code, 3);
	cr_assert_eq(r.hivebox_exit, 3);
	cr_assert_eq(r.signal, 0);
	r = classify(W_EXITCODE(0, 0), 0, 0);
	cr_assert_eq(r.reason, HB_REASON_EXIT);
	cr_assert_eq(r.hivebox_exit, 0);
	r = classify(W_EXITCODE(255, 0), 0, 0);
	cr_assert_eq(r.exit_code, 255);
	cr_assert_eq(r.hivebox_exit, 255);
}

Test(result, classify_exit_after_much_cpu)
{
	/* An exit is an exit, however much CPU it used. */
	struct hb_result r = classify(W_EXITCODE(1, 0), 60000, 60000);

	cr_assert_eq(r.reason, HB_REASON_EXIT);
	cr_assert_eq(r.hivebox_exit, 1);
}

Test(result, classify_signal)
{
	struct hb_result r = classify(W_EXITCODE(0, SIGTERM), 0, 0);

	cr_assert_eq(r.reason, HB_REASON_SIGNAL);
	cr_assert_eq(r.signal, SIGTERM);
	cr_assert_eq(r.hivebox_exit, 128 + SIGTERM);
	/* A core dump flag does not change the signal. */
	r = classify(SIGSEGV | WCOREFLAG, 0, 0);
	cr_assert_eq(r.reason, HB_REASON_SIGNAL);
	cr_assert_eq(r.signal, SIGSEGV);
	cr_assert_eq(r.hivebox_exit, 128 + SIGSEGV);
}

Test(result, classify_sigxcpu)
{
	/* cpu_seconds = 10: the kernel sends SIGXCPU at 10000 ms. */
	struct hb_result r = classify_counted(SIGXCPU, 10000, 0);

	cr_assert_eq(r.reason, HB_REASON_CPU_LIMIT);
	cr_assert_eq(r.signal, SIGXCPU);
	cr_assert_eq(r.hivebox_exit, 128 + SIGXCPU);
	r = classify_counted(SIGXCPU, 10004, 0);
	cr_assert_eq(r.reason, HB_REASON_CPU_LIMIT);
}

/* A SIGXCPU before the limit was reached is one the script sent: a
 * signal, named, and no limit.  getrusage()'s times, which read low
 * under load, play no part. */
Test(result, classify_self_sent_sigxcpu)
{
	struct hb_result r = classify_counted(SIGXCPU, 19, 0);

	cr_assert_eq(r.reason, HB_REASON_SIGNAL);
	cr_assert_eq(r.signal, SIGXCPU);
	cr_assert_eq(r.hivebox_exit, 128 + SIGXCPU);
	r = classify_counted(SIGXCPU, 9999, 0);
	cr_assert_eq(r.reason, HB_REASON_SIGNAL);
	r.user_ms = 60000;
	hb_result_classify(&r, SIGXCPU, &plan);
	cr_assert_eq(r.reason, HB_REASON_SIGNAL);
}

Test(result, classify_sigkill_after_cpu_limit)
{
	/* SIGXCPU caught or ignored: SIGKILL at the hard limit. */
	struct hb_result r = classify_counted(SIGKILL, 11000, 0);

	cr_assert_eq(r.reason, HB_REASON_CPU_LIMIT);
	cr_assert_eq(r.signal, SIGKILL);
	cr_assert_eq(r.hivebox_exit, 128 + SIGKILL);
	r = classify_counted(SIGKILL, 10000, 0);
	cr_assert_eq(r.reason, HB_REASON_CPU_LIMIT);
}

Test(result, classify_sigkill_below_cpu_limit)
{
	struct hb_result r = classify_counted(SIGKILL, 9999, 0);

	cr_assert_eq(r.reason, HB_REASON_SIGNAL);
	cr_assert_eq(r.signal, SIGKILL);
	cr_assert_eq(r.hivebox_exit, 137);
}

Test(result, classify_sigxfsz)
{
	const unsigned long long limit = plan.limits.file_size_mb * 1024 * 1024;
	struct hb_result r = classify_counted(SIGXFSZ, 0, limit);

	cr_assert_eq(r.reason, HB_REASON_FILE_SIZE_LIMIT);
	cr_assert_eq(r.signal, SIGXFSZ);
	cr_assert_eq(r.hivebox_exit, 128 + SIGXFSZ);
	/* Less than file_size_mb written in all: the script sent it. */
	r = classify_counted(SIGXFSZ, 0, limit - 1);
	cr_assert_eq(r.reason, HB_REASON_SIGNAL);
	cr_assert_eq(r.signal, SIGXFSZ);
	cr_assert_eq(r.hivebox_exit, 128 + SIGXFSZ);
	/* Other signals are signals, whatever was counted. */
	r = classify_counted(SIGUSR1, 60000, limit);
	cr_assert_eq(r.reason, HB_REASON_SIGNAL);
}

/* The JSON of r, parsed back; the caller puts it. */
static json_object *json_of(const struct hb_result *r)
{
	char *text = hb_result_json(r, &plan);
	json_object *o;

	cr_assert_not_null(text);
	o = json_tokener_parse(text);
	cr_assert_not_null(o, "not JSON: %s", text);
	cr_assert(json_object_is_type(o, json_type_object));
	free(text);
	return o;
}

static json_object *field(json_object *o, const char *key)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "no '%s'", key);
	return v;
}

static void expect_null(json_object *o, const char *key)
{
	cr_assert_null(field(o, key), "'%s' is not null", key);
}

static void expect_int(json_object *o, const char *key, int64_t want)
{
	json_object *v = field(o, key);

	cr_assert(json_object_is_type(v, json_type_int), "'%s' is no int", key);
	cr_assert_eq(json_object_get_int64(v), want, "'%s'", key);
}

static void expect_string(json_object *o, const char *key, const char *want)
{
	json_object *v = field(o, key);

	cr_assert(json_object_is_type(v, json_type_string), "'%s' is no string",
		  key);
	cr_assert_str_eq(json_object_get_string(v), want, "'%s'", key);
}

Test(result, json_exit)
{
	struct hb_result r = classify(W_EXITCODE(3, 0), 120, 30);
	json_object *o;

	r.wall_ms = 1500;
	r.peak_rss_kb = 20480;
	o = json_of(&r);
	expect_string(o, "reason", "exit");
	expect_int(o, "exit_code", 3);
	expect_null(o, "signal");
	expect_null(o, "signal_name");
	expect_int(o, "hivebox_exit_code", 3);
	expect_int(o, "wall_ms", 1500);
	expect_int(o, "cpu_user_ms", 120);
	expect_int(o, "cpu_system_ms", 30);
	expect_int(o, "peak_rss_kb", 20480);
	expect_null(o, "setup_error");
	expect_string(o, "policy", "/etc/hivebox/strict.ini");
	expect_string(o, "script", "/srv/jobs/tally.py");
	expect_null(o, "exec_id");
	expect_int(o, "violations", 0);
	expect_int(o, "alerts", 0);
	json_object_put(o);
}

Test(result, json_monitoring_and_audit)
{
	struct hb_result r = classify(W_EXITCODE(0, 0), 0, 0);
	json_object *o, *a;

	snprintf(r.exec_id, sizeof(r.exec_id), "%s",
		 "0f8fad5b-d9cb-469f-a165-70867728950e");
	r.violations = 2;
	r.alerts = 1;
	r.peak_memory_kb = 65536;
	r.peak_processes = 4;
	r.audit_dir = "/var/log/hivebox";
	r.audit_hmac = true;
	r.audit_errors = 3;
	o = json_of(&r);
	expect_string(o, "exec_id", "0f8fad5b-d9cb-469f-a165-70867728950e");
	expect_int(o, "violations", 2);
	expect_int(o, "alerts", 1);
	expect_int(o, "peak_memory_kb", 65536);
	expect_int(o, "peak_processes", 4);
	a = field(o, "audit");
	expect_string(a, "dir", "/var/log/hivebox");
	cr_assert(json_object_get_boolean(field(a, "hmac")));
	expect_int(a, "write_errors", 3);
	json_object_put(o);
}

Test(result, json_without_audit_trail)
{
	struct hb_result r = classify(W_EXITCODE(0, 0), 0, 0);
	json_object *o = json_of(&r), *a = field(o, "audit");

	expect_null(a, "dir");
	cr_assert(json_object_is_type(field(a, "hmac"), json_type_boolean));
	cr_assert_not(json_object_get_boolean(field(a, "hmac")));
	expect_int(a, "write_errors", 0);
	json_object_put(o);
}

Test(result, json_text_is_one_plain_line)
{
	struct hb_result r = classify(W_EXITCODE(0, 0), 0, 0);
	char *text = hb_result_json(&r, &plan);

	cr_assert_not_null(text);
	cr_assert_null(strchr(text, '\n'), "%s", text);
	/* Paths are written as they are, not as "\/srv\/jobs". */
	cr_assert_not_null(strstr(text, "\"/srv/jobs/tally.py\""), "%s", text);
	free(text);
}

/* The end record carries the result without what the start record holds
 * already (the limits and paths), and names the run itself. */
Test(result, end_record_result_leaves_out_the_start_records_part)
{
	static const char *const gone[] = {"limits", "policy", "script",
					   "exec_id"};
	static const char *id = "0f8fad5b-d9cb-469f-a165-70867728950e";
	struct hb_result r = classify_counted(SIGXCPU, 10000, 0);
	struct hb_run_info info;
	json_object *end, *res, *cg, *whole;

	memset(&info, 0, sizeof(info));
	snprintf(info.exec_id, sizeof(info.exec_id), "%s", id);
	snprintf(r.exec_id, sizeof(r.exec_id), "%s", id);
	snprintf(info.start_time, sizeof(info.start_time), "%s",
		 "2026-11-28T01:02:03.456Z");
	end = hb_audit_record_end(&info, &plan, &r);
	expect_string(end, "type", "end");
	expect_string(end, "exec_id", id);
	expect_string(end, "script", "/srv/jobs/tally.py");
	expect_string(end, "policy", "/etc/hivebox/strict.ini");
	res = field(end, "result");
	for (size_t i = 0; i < ARRAY_SIZE(gone); i++)
		cr_assert_not(json_object_object_get_ex(res, gone[i], NULL),
			      "the end record's result has '%s'", gone[i]);
	expect_string(res, "reason", "cpu_limit");
	cg = field(res, "cgroup");
	cr_assert_not(json_object_get_boolean(field(cg, "used")));
	expect_string(cg, "why_not", hb_cgroup_status());
	/* The --result object keeps them. */
	whole = hb_result_object(&r, &plan);
	for (size_t i = 0; i < ARRAY_SIZE(gone); i++)
		cr_assert(json_object_object_get_ex(whole, gone[i], NULL),
			  "the result lost '%s'", gone[i]);
	json_object_put(whole);
	json_object_put(end);
}

Test(result, json_exit_zero_is_not_null)
{
	struct hb_result r = classify(W_EXITCODE(0, 0), 0, 0);
	json_object *o = json_of(&r);

	expect_int(o, "exit_code", 0);
	expect_int(o, "hivebox_exit_code", 0);
	json_object_put(o);
}

Test(result, json_signal)
{
	struct hb_result r = classify_counted(SIGXCPU, 10000, 0);
	json_object *o = json_of(&r);

	expect_string(o, "reason", "cpu_limit");
	expect_null(o, "exit_code");
	expect_int(o, "signal", SIGXCPU);
	expect_string(o, "signal_name", "SIGXCPU");
	expect_int(o, "hivebox_exit_code", 128 + SIGXCPU);
	expect_null(o, "setup_error");
	json_object_put(o);
	r = classify_counted(SIGXFSZ, 0, 100 * 1024 * 1024);
	o = json_of(&r);
	expect_string(o, "reason", "file_size_limit");
	expect_string(o, "signal_name", "SIGXFSZ");
	json_object_put(o);
}

/* A script can end itself with a real-time signal, which has no
 * abbreviation: the result must still be written. */
Test(result, json_realtime_signal)
{
	struct hb_result r = classify(SIGRTMIN + 2, 0, 0);
	json_object *o;

	cr_assert_eq(r.reason, HB_REASON_SIGNAL);
	o = json_of(&r);
	expect_int(o, "signal", SIGRTMIN + 2);
	expect_int(o, "hivebox_exit_code", 128 + SIGRTMIN + 2);
	expect_null(o, "signal_name");
	json_object_put(o);
}

Test(result, json_timeout)
{
	struct hb_result r;
	json_object *o;

	memset(&r, 0, sizeof(r));
	r.reason = HB_REASON_TIMEOUT;
	r.signal = SIGKILL;
	r.hivebox_exit = 124;
	o = json_of(&r);
	expect_string(o, "reason", "timeout");
	expect_null(o, "exit_code");
	expect_string(o, "signal_name", "SIGKILL");
	expect_int(o, "hivebox_exit_code", 124);
	json_object_put(o);
}

/* A run refused before its policy was read has an empty plan: every
 * field is there, what nobody knows is null, and the JSON is valid. */
Test(result, json_refused_without_a_plan)
{
	struct hb_plan empty = {.script_fd = -1};
	struct hb_result r;
	char *text;
	json_object *o;

	memset(&r, 0, sizeof(r));
	hb_result_refused(&r, "p.ini:3: unknown key 'x' in [execution]", false);
	text = hb_result_json(&r, &empty);
	cr_assert_not_null(text);
	o = json_tokener_parse(text);
	cr_assert_not_null(o, "not JSON: %s", text);
	free(text);
	expect_string(o, "reason", "refused");
	expect_int(o, "hivebox_exit_code", 125);
	expect_null(o, "exit_code");
	expect_null(o, "signal");
	expect_null(o, "signal_name");
	expect_null(o, "exec_id");
	expect_null(o, "setup_error");
	expect_null(o, "network");
	expect_null(o, "limits");
	expect_null(o, "policy");
	expect_null(o, "script");
	expect_int(o, "wall_ms", 0);
	expect_string(field(o, "refusal"), "message",
		      "p.ini:3: unknown key 'x' in [execution]");
	cr_assert(json_object_is_type(field(o, "audit"), json_type_object));
	json_object_put(o);
	/* Read, the policy's limits are what the run would have had. */
	hb_result_refused(&r, "m", true);
	o = json_of(&r);
	expect_int(field(field(o, "limits"), "cpu_seconds"), "value", 10);
	expect_string(o, "script", "/srv/jobs/tally.py");
	json_object_put(o);
	/* Any other reason has no refusal. */
	r = classify(0, 0, 0);
	o = json_of(&r);
	expect_null(o, "refusal");
	json_object_put(o);
}

Test(result, json_setup_error)
{
	struct hb_result r;
	json_object *o, *s;

	memset(&r, 0, sizeof(r));
	r.reason = HB_REASON_SETUP_ERROR;
	r.hivebox_exit = 125;
	hb_error_set(&r.setup, HB_STAGE_MOUNTS, ENOENT, "bind /srv/data");
	o = json_of(&r);
	expect_string(o, "reason", "setup_error");
	expect_null(o, "exit_code");
	expect_null(o, "signal");
	expect_int(o, "hivebox_exit_code", 125);
	s = field(o, "setup_error");
	cr_assert(json_object_is_type(s, json_type_object));
	expect_string(s, "stage", hb_stage_name(HB_STAGE_MOUNTS));
	expect_string(s, "stage", "build the root file system");
	expect_int(s, "errno", ENOENT);
	expect_string(s, "error", "No such file or directory");
	expect_string(s, "what", "bind /srv/data");
	json_object_put(o);
}

Test(result, json_limits_and_cgroup)
{
	static const struct {
		const char *name;
		unsigned long long value;
		const char *mechanism;
	} want[] = {
		{"timeout_seconds", 300, "supervisor timer"},
		{"cpu_seconds", 10, "RLIMIT_CPU"},
		{"memory_mb", 128, "RLIMIT_AS"},
		{"file_size_mb", 100, "RLIMIT_FSIZE"},
		{"max_processes", 16, "RLIMIT_NPROC"},
		{"max_open_files", 256, "RLIMIT_NOFILE"},
		{"tmp_size_mb", 64, "tmpfs"},
	};
	struct hb_result r = classify(W_EXITCODE(0, 0), 0, 0);
	json_object *o = json_of(&r), *limits, *cg;

	limits = field(o, "limits");
	cr_assert_eq((size_t)json_object_object_length(limits),
		     ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		json_object *l = field(limits, want[i].name);
		json_object *how = field(l, "enforced_by");

		expect_int(l, "value", (int64_t)want[i].value);
		cr_assert_not_null(
			strstr(json_object_get_string(how), want[i].mechanism),
			"%s: %s", want[i].name, json_object_get_string(how));
	}
	cg = field(o, "cgroup");
	cr_assert(json_object_is_type(field(cg, "used"), json_type_boolean));
	cr_assert_not(json_object_get_boolean(field(cg, "used")));
	expect_string(cg, "why_not", hb_cgroup_status());
	json_object_put(o);
}

/* One of the sentences cgroup_status() can say, whatever the machine. */
Test(result, cgroup_status_is_a_sentence)
{
	static const char *const known[] = {
		"no unified cgroup v2 hierarchy at /sys/fs/cgroup; the "
		"supervisor bounds the sandbox's CPU and memory, rlimits each "
		"process",
		"cgroup v2 has no memory and pids controllers here; the "
		"supervisor bounds the sandbox's CPU and memory, rlimits each "
		"process",
		"per-run cgroups are not built yet; the supervisor bounds the "
		"sandbox's CPU and memory, rlimits each process",
	};
	const char *s = hb_cgroup_status();
	size_t i = 0;

	cr_assert_not_null(s);
	while (i < ARRAY_SIZE(known) && strcmp(s, known[i]) != 0)
		i++;
	cr_assert_lt(i, ARRAY_SIZE(known), "not a sentence of ours: %s", s);
	cr_assert_eq(hb_cgroup_status(), s, "read once, the same text");
}

Test(result, write_fd_one_line)
{
	struct hb_result r = classify(W_EXITCODE(7, 0), 0, 0);
	char *text = hb_result_json(&r, &plan);
	char buf[8192];
	int fds[2];
	ssize_t n;
	json_object *o;

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(hb_result_write_fd(fds[1], text), 0);
	free(text);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	cr_assert_gt(n, 1);
	buf[n] = '\0';
	cr_assert_eq(buf[n - 1], '\n', "ends with a newline");
	cr_assert_eq(strchr(buf, '\n'), buf + n - 1, "exactly one line");
	o = json_tokener_parse(buf);
	cr_assert_not_null(o);
	expect_int(o, "exit_code", 7);
	json_object_put(o);
}

Test(result, write_fd_bad_descriptor)
{
	cr_assert_eq(hb_result_write_fd(-1, "{}"), -EBADF);
}

Test(result, write_file)
{
	struct hb_result r = classify_counted(SIGXFSZ, 0, 100 * 1024 * 1024);
	char *dir = tmpdir_new();
	char *path = path_join(dir, "result.json");
	char *link = path_join(dir, "link.json");
	char *text;
	json_object *o;
	struct stat st;
	int fd;

	make_file(dir, "result.json", "old content, longer than nothing\n");
	fd = hb_result_open_file(path);
	cr_assert_geq(fd, 0);
	/* Yesterday's result is gone as soon as the run has the file. */
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_size, 0);
	text = hb_result_json(&r, &plan);
	cr_assert_eq(hb_result_write_file(fd, text), 0);
	free(text);
	close(fd);
	o = json_object_from_file(path);
	cr_assert_not_null(o, "%s is not JSON", path);
	expect_string(o, "reason", "file_size_limit");
	json_object_put(o);
	/* Never through a symlink, never into a directory. */
	cr_assert_eq(symlink(path, link), 0);
	cr_assert_eq(hb_result_open_file(link), -ELOOP);
	cr_assert_eq(hb_result_open_file(dir), -EISDIR);
	free(path);
	path = path_join(dir, "no/such/dir.json");
	cr_assert_eq(hb_result_open_file(path), -ENOENT);
	free(path);
	path = path_join(dir, "new.json");
	fd = hb_result_open_file(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	close(fd);
	free(path);
	free(link);
	tmpdir_remove(dir);
}

/* --result names something a script could have planted: a device or a
 * FIFO is refused, and opening a FIFO never waits for a reader. */
Test(result, open_file_refuses_devices_and_fifos)
{
	char *dir = tmpdir_new();
	char *fifo = path_join(dir, "fifo");
	int rd;

	cr_assert_eq(hb_result_open_file("/dev/null"), -EINVAL);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(hb_result_open_file(fifo), -ENXIO, "no reader");
	rd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert_geq(rd, 0);
	cr_assert_eq(hb_result_open_file(fifo), -EINVAL, "with a reader");
	close(rd);
	free(fifo);
	tmpdir_remove(dir);
}

/* The exit status of every way a run ends comes from one table. */
Test(result, exit_status_table)
{
	struct hb_error e;
	struct hb_result r;

	memset(&r, 0, sizeof(r));
	hb_result_timeout(&r, SIGTERM);
	cr_assert_eq(r.reason, HB_REASON_TIMEOUT);
	cr_assert_eq(r.signal, SIGTERM);
	cr_assert_eq(r.hivebox_exit, 124);
	memset(&r, 0, sizeof(r));
	hb_result_memory_limit(&r);
	cr_assert_eq(r.reason, HB_REASON_MEMORY_LIMIT);
	cr_assert_eq(r.hivebox_exit, 128 + SIGKILL);
	hb_error_set(&e, HB_STAGE_MOUNTS, EACCES, "/srv");
	hb_result_setup_error(&r, &e, false);
	cr_assert_eq(r.reason, HB_REASON_SETUP_ERROR);
	cr_assert_eq(r.hivebox_exit, 125);
	cr_assert_str_eq(r.setup.what, "/srv");
	hb_error_set(&e, HB_STAGE_EXEC, ENOENT, "/usr/bin/python3");
	hb_result_setup_error(&r, &e, true);
	cr_assert_eq(r.hivebox_exit, 127);
	cr_assert(r.exec_failed);
	e.err = EACCES;
	hb_result_setup_error(&r, &e, true);
	cr_assert_eq(r.hivebox_exit, 126);
	cr_assert_eq(HB_EXIT_REFUSED, 120);
}

/* Each stage has its own name: the supervisor's are not the init's. */
Test(result, stage_names)
{
	for (int s = 0; s < HB_STAGE_MAX; s++) {
		cr_assert_not_null(hb_stage_name(s), "stage %d", s);
		for (int t = 0; t < s; t++)
			cr_assert_str_neq(hb_stage_name(s), hb_stage_name(t));
	}
	cr_assert_str_eq(hb_stage_name(HB_STAGE_CLONE),
			 "create the namespaces");
	cr_assert_str_eq(hb_stage_name(HB_STAGE_MAX), "?");
}

/* Context goes in front, once per level; the errno stays. */
Test(result, error_wrap)
{
	struct hb_error e;

	cr_assert_eq(hb_error_set(&e, HB_STAGE_NET_HOST, ENOSPC, "build %s",
				  "the batch"),
		     -ENOSPC);
	cr_assert_eq(hb_error_wrap(&e, "add the table %s", "hivebox_3"),
		     -ENOSPC);
	cr_assert_str_eq(e.what, "add the table hivebox_3: build the batch");
	cr_assert_eq(e.stage, HB_STAGE_NET_HOST);
	cr_assert_eq(e.err, ENOSPC);
	hb_error_set(&e, HB_STAGE_IDS, EPERM, "%s", "");
	hb_error_wrap(&e, "setresuid");
	cr_assert_str_eq(e.what, "setresuid");
}

/* A plan whose one writable bind is dir/rw (and a read-only dir/ro). */
static void exposed_plan(struct hb_plan *p, const char *dir)
{
	char path[PATH_MAX];

	memset(p, 0, sizeof(*p));
	p->mounts = calloc(2, sizeof(*p->mounts));
	cr_assert_not_null(p->mounts);
	snprintf(path, sizeof(path), "%s/rw", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	p->mounts[0] = (struct hb_mount){
		.kind = HB_MNT_BIND,
		.source = strdup(path),
		.target = strdup(path),
		.attrs = HB_ATTR_NOSUID | HB_ATTR_NODEV | HB_ATTR_NOEXEC,
		.is_dir = true,
		.why = "read_write"};
	snprintf(path, sizeof(path), "%s/ro", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	p->mounts[1] = (struct hb_mount){.kind = HB_MNT_BIND,
					 .source = strdup(path),
					 .target = strdup(path),
					 .attrs = HB_ATTR_RDONLY,
					 .is_dir = true,
					 .why = "read_only"};
	p->n_mounts = 2;
}

static const struct hb_mount *exposed(const struct hb_plan *p, const char *dir,
				      const char *name)
{
	const struct hb_mount *m = (const struct hb_mount *)1;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(hb_result_exposed(p, path, &m), 0, "%s", path);
	return m;
}

/* --result FILE where the sandbox can write: by name, and by identity
 * under another name; what it cannot write is fine. */
Test(result, exposed_result_paths)
{
	char *dir = tmpdir_new();
	char path[PATH_MAX], target[PATH_MAX];
	struct hb_plan p;

	exposed_plan(&p, dir);
	cr_assert_eq(exposed(&p, dir, "rw/result.json"), &p.mounts[0]);
	cr_assert_eq(exposed(&p, dir, "rw/deeper/result.json"), &p.mounts[0]);
	cr_assert_eq(exposed(&p, dir, "rw"), &p.mounts[0]);
	cr_assert_null(exposed(&p, dir, "ro/result.json"));
	cr_assert_null(exposed(&p, dir, "result.json"));
	cr_assert_null(exposed(&p, dir, "rwx/result.json"));
	/* A directory that is rw under another name. */
	snprintf(path, sizeof(path), "%s/alias", dir);
	snprintf(target, sizeof(target), "%s/rw", dir);
	cr_assert_eq(symlink(target, path), 0);
	cr_assert_eq(exposed(&p, dir, "alias/result.json"), &p.mounts[0]);
	/* A directory inside it, under another name. */
	snprintf(path, sizeof(path), "%s/rw/sub", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(target, sizeof(target), "%s/sub-alias", dir);
	cr_assert_eq(symlink(path, target), 0);
	cr_assert_eq(exposed(&p, dir, "sub-alias/result.json"), &p.mounts[0]);
	/* The root holds no writable bind of its own. */
	cr_assert_null(exposed(&p, "", "result.json"));
	hb_plan_free(&p);
	tmpdir_remove(dir);
}

/* SPDX-License-Identifier: MIT */
/* events.c: security events recorded in the security log, counted,
 * printed unless quiet, and the alert command run once per kind. */
#include "audit.h"
#include "audit_helpers.h"
#include "events.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>

/* cppcheck-suppress unknownMacro */
TestSuite(audit_watch, .init = audit_setup, .fini = audit_teardown);

/* ---- Security events through events.c ---- */

Test(audit_watch, events_recorded_and_counted)
{
	struct hb_events w = {.audit = &audit, .quiet = true};
	const char *kinds[] = {"memory_usage_alert", "timeout", "cpu_limit",
			       "alert_command_failed"};
	const char *sev[] = {"alert", "violation", "violation", "error"};
	const enum hb_event_class cls[] = {HB_EV_ALERT, HB_EV_VIOLATION,
					   HB_EV_VIOLATION, HB_EV_ERROR};
	json_object *details = json_object_new_object(), *o, *d;
	char *v[MAX_LINES], *err, *report, msg[32];

	open_log(true);
	snprintf(w.exec_id, sizeof(w.exec_id), "%s", ID_A);
	json_object_object_add(details, "used", json_object_new_int(950));
	json_object_object_add(details, "unit", json_object_new_string("KiB"));
	stderr_capture_start();
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		snprintf(msg, sizeof(msg), "message %zu", i);
		hb_events_event(&w, kinds[i], cls[i], msg, i ? NULL : details);
	}
	err = keep(stderr_capture_stop());
	cr_assert_str_eq(err, "", "quiet, yet printed: %s", err);
	cr_assert_eq(w.alerts, 1);
	cr_assert_eq(w.violations, 2);
	cr_assert_eq(w.audit_errors, 0);
	cr_assert_eq(log_lines(SEC, v), 4);
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		o = parse(v[i]);
		snprintf(msg, sizeof(msg), "message %zu", i);
		cr_assert_eq(int_of(o, "seq"), (long long)i + 1);
		cr_assert_str_eq(str_of(o, "type"), "event");
		cr_assert_str_eq(str_of(o, "exec_id"), ID_A);
		cr_assert_str_eq(str_of(o, "kind"), kinds[i]);
		cr_assert_str_eq(str_of(o, "severity"), sev[i]);
		cr_assert_str_eq(str_of(o, "message"), msg);
		d = member(o, "details");
		cr_assert(json_object_is_type(d, json_type_object));
		cr_assert_eq(json_object_object_length(d), i ? 0 : 2);
	}
	d = member(parse(v[0]), "details");
	cr_assert_eq(int_of(d, "used"), 950);
	cr_assert_str_eq(str_of(d, "unit"), "KiB");
	cr_assert_not(exists(LOG), "events go to the security log only");
	cr_assert_eq(verify_log(HB_LOG_SECURITY, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, SEC ": OK, 4 records in 1 file, "
					      "HMAC-SHA-256"),
			   "%s", report);
}

Test(audit_watch, not_quiet_prints_the_event)
{
	struct hb_notice q;
	struct hb_events w = {.audit = &audit, .notice = &q};
	char *err;

	open_log(false);
	snprintf(w.exec_id, sizeof(w.exec_id), "%s", ID_B);
	stderr_capture_start();
	hb_notice_open(&q, STDERR_FILENO);
	hb_events_event(&w, "timeout", HB_EV_VIOLATION, "ran too long", NULL);
	hb_notice_close(&q);
	err = keep(stderr_capture_stop());
	cr_assert_str_eq(err, "hivebox: timeout: ran too long\n");
	cr_assert_eq(w.violations, 1);
	cr_assert_eq(w.alerts, 0);
}

/* --quiet silences notices, never what cron mail must carry: an event
 * shown always, hivebox's own errors; one the caller says itself is
 * never shown twice. */
Test(audit_watch, quiet_keeps_what_cron_must_see)
{
	struct hb_notice q;
	struct hb_events w = {.audit = &audit, .notice = &q, .quiet = true};
	char *err, *v[MAX_LINES];

	open_log(false);
	snprintf(w.exec_id, sizeof(w.exec_id), "%s", ID_B);
	stderr_capture_start();
	hb_notice_open(&q, STDERR_FILENO);
	hb_events_event(&w, "memory_usage_alert", HB_EV_ALERT, "a", NULL);
	hb_events_event(&w, "syscall_denied", HB_EV_VIOLATION, "b", NULL);
	hb_events_record(&w, "output_limit", HB_EV_VIOLATION, HB_SHOW_ALWAYS,
			 "c", NULL);
	hb_events_event(&w, "alert_command_failed", HB_EV_ERROR, "d", NULL);
	w.quiet = false;
	hb_events_record(&w, "timeout", HB_EV_VIOLATION, HB_SHOW_NEVER, "e",
			 NULL);
	hb_notice_close(&q);
	err = keep(stderr_capture_stop());
	cr_assert_str_eq(err, "hivebox: output_limit: c\n"
			      "hivebox: alert_command_failed: d\n");
	cr_assert_eq(w.violations, 3);
	cr_assert_eq(w.alerts, 1);
	cr_assert_eq(log_lines(SEC, v), 5, "every event is recorded");
}

Test(audit_watch, without_an_audit_only_counts)
{
	struct hb_events w = {.quiet = true};
	struct stat st;

	snprintf(w.exec_id, sizeof(w.exec_id), "%s", ID_C);
	hb_events_event(&w, "cpu_usage_alert", HB_EV_ALERT, "cpu", NULL);
	hb_events_event(&w, "refusal", HB_EV_VIOLATION, "no", NULL);
	cr_assert_eq(w.alerts, 1);
	cr_assert_eq(w.violations, 1);
	cr_assert_eq(w.audit_errors, 0);
	cr_assert_eq(stat(logdir, &st), -1, "nothing was written");
}

/* The alert command runs once per kind of alert or violation, and never
 * for hivebox's own errors; /bin/true exits 0, so reaping it is no event. */
Test(audit_watch, alert_command_runs_once_per_kind)
{
	static const struct {
		const char *kind;
		enum hb_event_class cls;
	} ev[] = {
		{"syscall_denied", HB_EV_VIOLATION},
		{"syscall_denied", HB_EV_VIOLATION},
		{"cpu_usage_alert", HB_EV_ALERT},
		{"alert_command_failed", HB_EV_ERROR},
		{"syscall_denied", HB_EV_VIOLATION},
		{"cpu_usage_alert", HB_EV_ALERT},
	};
	struct hb_events w = {.quiet = true,
			      .alert_command = "/bin/true",
			      .alert_timeout_s = 10};
	size_t started = 0;
	char *err;

	snprintf(w.exec_id, sizeof(w.exec_id), "%s", ID_C);
	for (size_t i = 0; i < ARRAY_SIZE(ev); i++)
		hb_events_event(&w, ev[i].kind, ev[i].cls, "m", NULL);
	for (size_t i = 0; i < HB_MAX_ALERT_CHILDREN; i++)
		started += w.children[i].pid > 0;
	cr_assert_eq(started, 2, "one command per kind, none for an error");
	cr_assert_str_eq(w.children[0].kind, "syscall_denied");
	cr_assert_str_eq(w.children[1].kind, "cpu_usage_alert");
	cr_assert_str_eq(w.alerted_kinds[0], "syscall_denied");
	cr_assert_str_eq(w.alerted_kinds[1], "cpu_usage_alert");
	cr_assert_str_eq(w.alerted_kinds[2], "");
	w.quiet = false;
	stderr_capture_start();
	hb_events_reap(&w, true);
	err = keep(stderr_capture_stop());
	cr_assert_str_eq(err, "", "reaping /bin/true said: %s", err);
	for (size_t i = 0; i < HB_MAX_ALERT_CHILDREN; i++)
		cr_assert_eq(w.children[i].pid, 0, "slot %zu not reaped", i);
	cr_assert_eq(w.violations, 3);
	cr_assert_eq(w.alerts, 2);
	cr_assert_eq(w.audit_errors, 0);
}

Test(audit_watch, a_failed_write_is_counted_and_said)
{
	struct hb_notice q;
	struct hb_events w = {.audit = &audit, .quiet = true, .notice = &q};
	char *err;
	int saved;

	open_log(false);
	snprintf(w.exec_id, sizeof(w.exec_id), "%s", ID_C);
	append_notes(HB_LOG_SECURITY, 1, 1, NULL);
	/* A write that cannot happen: no directory to write in. */
	saved = audit.dirfd;
	audit.dirfd = -1;
	stderr_capture_start();
	hb_notice_open(&q, STDERR_FILENO);
	hb_events_event(&w, "timeout", HB_EV_VIOLATION, "ran too long", NULL);
	hb_notice_close(&q);
	err = keep(stderr_capture_stop());
	audit.dirfd = saved;
	cr_assert_eq(w.audit_errors, 1);
	cr_assert_eq(w.violations, 1);
	cr_assert_not_null(strstr(err, "hivebox: cannot record a security "
				       "event: "),
			   "%s", err);
	cr_assert_not_null(strstr(err, strerror(EBADF)), "%s", err);
}

/* Far from memory_mb the sampling interval is the policy's; from half of
 * it, the fast one; before half, no longer than the last growth rate
 * takes to get there, and never faster than the fast one. */
Test(sampling, speeds_up_as_memory_nears_its_limit)
{
	struct hb_events w = {.sample_ms = 100};
	const unsigned long long mb = 200, half_kb = mb * 1024 / 2;

	cr_assert_eq(hb_events_next_sample_ms(&w, mb), 100);
	w.last_total_kb = half_kb;
	cr_assert_eq(hb_events_next_sample_ms(&w, mb), HB_SAMPLE_FAST_MS);
	w.last_total_kb = half_kb - 40 * 1024;
	w.growth_kb_per_ms = 1024; /* 40 ms from half */
	cr_assert_eq(hb_events_next_sample_ms(&w, mb), 40);
	w.growth_kb_per_ms = 100 * 1024;
	cr_assert_eq(hb_events_next_sample_ms(&w, mb), HB_SAMPLE_FAST_MS);
	w.growth_kb_per_ms = 10;
	cr_assert_eq(hb_events_next_sample_ms(&w, mb), 100);
	/* From idle, no longer than a burst takes to reach half. */
	w.growth_kb_per_ms = 0;
	w.last_total_kb = 0;
	w.burst_kb_per_ms = 4096;
	cr_assert_eq(hb_events_next_sample_ms(&w, mb), 25);
	w.growth_kb_per_ms = 8192;
	cr_assert_eq(hb_events_next_sample_ms(&w, mb), 12);
	w.burst_kb_per_ms = 0;
	w.growth_kb_per_ms = 0;
	/* A policy that samples faster than the fast interval keeps its. */
	w.sample_ms = 1;
	w.last_total_kb = half_kb;
	cr_assert_eq(hb_events_next_sample_ms(&w, mb), 1);
}

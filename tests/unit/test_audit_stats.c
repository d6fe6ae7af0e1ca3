/* SPDX-License-Identifier: MIT */
/* audit_stats.c: `audit stats` on the small trail, as text and as JSON.
 * The tests belong to the audit_show suite, which test_audit_show.c
 * declares. */
#include "audit.h"
#include "audit_helpers.h"

#include <criterion/criterion.h>
#include <string.h>

/* The number stats prints for key under "title:", or -1. */
static long long stat_count(const char *text, const char *title, const char *k)
{
	char head[64];
	const char *p;

	snprintf(head, sizeof(head), "\n%s:\n", title);
	p = strstr(text, head);
	if (!p)
		return -1;
	for (p += strlen(head); p && strncmp(p, "  ", 2) == 0;) {
		char name[256];
		long long n;
		if (sscanf(p, " %255s %lld", name, &n) == 2 &&
		    strcmp(name, k) == 0)
			return n;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return -1;
}

Test(audit_show, stats_text)
{
	struct hb_audit_query q = {0};
	char *out;

	small_trail();
	cr_assert_eq(stats(&q, &out), 0);
	cr_assert(strncmp(out, "executions: 3\n", 14) == 0, "%s", out);
	/* A and its exit 0 succeeded; B's timeout and C's dead launcher
	 * did not. */
	cr_assert_not_null(strstr(out, "\nsucceeded: 1 (exit 0)\nfailed: 2\n"),
			   "%s", out);
	cr_assert_eq(stat_count(out, "failed by reason", "timeout"), 1, "%s",
		     out);
	cr_assert_eq(stat_count(out, "failed by reason", "launcher_died"), 1,
		     "%s", out);
	cr_assert_eq(stat_count(out, "failed by reason", "exit"), -1, "%s",
		     out);
	cr_assert_eq(stat_count(out, "by reason", "exit"), 1, "%s", out);
	cr_assert_eq(stat_count(out, "by reason", "timeout"), 1, "%s", out);
	cr_assert_eq(stat_count(out, "by reason", "launcher_died"), 1, "%s",
		     out);
	cr_assert_eq(stat_count(out, "by reason", "signal"), 0, "%s", out);
	cr_assert_eq(stat_count(out, "by policy", STRICT), 2, "%s", out);
	cr_assert_eq(stat_count(out, "by policy", LOOSE), 1, "%s", out);
	cr_assert_eq(stat_count(out, "by script", "/srv/a.py"), 2, "%s", out);
	cr_assert_eq(stat_count(out, "by script", "/srv/b.py"), 1, "%s", out);
	cr_assert_not_null(strstr(out, "\nviolations: 2\n"), "%s", out);
	cr_assert_eq(stat_count(out, "violations by kind", "timeout"), 1, "%s",
		     out);
	cr_assert_eq(stat_count(out, "violations by kind", "refusal"), 1, "%s",
		     out);
	cr_assert_eq(
		stat_count(out, "violations by kind", "memory_usage_alert"), -1,
		"%s", out);
	cr_assert_not_null(strstr(out, "\nalerts: 1\n"), "%s", out);
	cr_assert_eq(stat_count(out, "alerts by kind", "memory_usage_alert"), 1,
		     "%s", out);
	cr_assert_not_null(strstr(out, "\nwall ms: median 100, p95 5000 (over "
				       "2 finished runs)\n"),
			   "%s", out);
}

Test(audit_show, stats_json_and_filters)
{
	struct hb_audit_query q = {.json = true};
	json_object *o;
	char *out;

	small_trail();
	cr_assert_eq(stats(&q, &out), 0);
	cr_assert_eq(count_lines(out), 1, "%s", out);
	o = parse(out);
	cr_assert_eq(int_of(o, "executions"), 3);
	cr_assert_eq(int_of(o, "succeeded"), 1);
	cr_assert_eq(int_of(o, "failed"), 2);
	cr_assert_eq(int_of(o, "running"), 0);
	cr_assert_eq(int_of(member(o, "failed_by_reason"), "timeout"), 1);
	cr_assert_eq(int_of(member(o, "failed_by_reason"), "launcher_died"), 1);
	cr_assert_not(has(member(o, "failed_by_reason"), "exit"));
	cr_assert_eq(int_of(member(o, "by_reason"), "exit"), 1);
	cr_assert_eq(int_of(member(o, "by_reason"), "timeout"), 1);
	cr_assert_eq(int_of(member(o, "by_reason"), "launcher_died"), 1);
	cr_assert_eq(int_of(member(o, "by_reason"), "memory_limit"), 0);
	cr_assert_eq(int_of(member(o, "by_policy"), STRICT), 2);
	cr_assert_eq(int_of(o, "violations"), 2);
	cr_assert_eq(int_of(member(o, "violations_by_kind"), "timeout"), 1);
	cr_assert_eq(int_of(member(o, "violations_by_kind"), "refusal"), 1);
	cr_assert_eq(int_of(o, "alerts"), 1);
	cr_assert_eq(int_of(member(o, "alerts_by_kind"), "memory_usage_alert"),
		     1);
	cr_assert_eq(int_of(o, "finished_runs"), 2);
	cr_assert_eq(int_of(o, "median_wall_ms"), 100);
	cr_assert_eq(int_of(o, "p95_wall_ms"), 5000);
	cr_assert_null(member(o, "since"));
	/* From B on: B and C run, B's timeout and D's refusal. */
	q.since = "2002-01-01";
	cr_assert_eq(stats(&q, &out), 0);
	o = parse(out);
	cr_assert_eq(int_of(o, "executions"), 2);
	cr_assert_eq(int_of(member(o, "by_reason"), "exit"), 0);
	cr_assert_eq(int_of(o, "violations"), 2);
	cr_assert_eq(int_of(o, "median_wall_ms"), 5000);
	cr_assert_str_eq(str_of(o, "since"), "2002-01-01");
	/* Only the runs with a timeout event. */
	q.since = NULL;
	q.event = "timeout";
	cr_assert_eq(stats(&q, &out), 0);
	o = parse(out);
	cr_assert_eq(int_of(o, "executions"), 1);
	cr_assert_eq(int_of(member(o, "by_reason"), "timeout"), 1);
	cr_assert_eq(int_of(o, "violations"), 1);
	cr_assert_eq(int_of(o, "alerts"), 0);
}

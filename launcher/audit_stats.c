/* SPDX-License-Identifier: MIT */
/* `hivebox audit stats`: totals over the runs the query lets through. */
#include "audit_reader.h"

#include <string.h>

/* Counters are JSON objects, which keep their keys in insertion order. */
static int count(json_object *counts, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(counts, key, &v))
		return json_object_int_inc(v, 1) ? 0 : -EINVAL;
	v = json_object_new_int64(1);
	if (!v || json_object_object_add(counts, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

struct stats {
	json_object *top; /* the --json object, which owns the counters */
	json_object *by_reason, *by_policy, *by_script, *viol, *alerts;
	json_object *failed_by; /* what ended a run that did not succeed */
	long long executions, succeeded, failed, running, n_viol, n_alerts;
	unsigned long long *wall;
	size_t n_wall;
};

static int stats_init(struct stats *s, size_t n)
{
	static const char *const reasons[] = {
		"exit",		 "signal",	    "timeout",	   "cpu_limit",
		"memory_limit",	 "file_size_limit", "setup_error", "refused",
		"launcher_died", "write_quota",
	};

	memset(s, 0, sizeof(*s));
	s->top = json_object_new_object();
	s->by_reason = json_object_new_object();
	s->by_policy = json_object_new_object();
	s->by_script = json_object_new_object();
	s->viol = json_object_new_object();
	s->alerts = json_object_new_object();
	s->failed_by = json_object_new_object();
	s->wall = calloc(n ?: 1, sizeof(*s->wall));
	if (!s->top || !s->by_reason || !s->by_policy || !s->by_script ||
	    !s->viol || !s->alerts || !s->failed_by || !s->wall)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++)
		if (json_object_object_add(s->by_reason, reasons[i],
					   json_object_new_int64(0)) < 0)
			return -ENOMEM;
	return 0;
}

static void stats_free(struct stats *s)
{
	json_object_put(s->top);
	json_object_put(s->by_reason);
	json_object_put(s->by_policy);
	json_object_put(s->by_script);
	json_object_put(s->viol);
	json_object_put(s->alerts);
	json_object_put(s->failed_by);
	free(s->wall);
}

static int stats_events(struct stats *s, const struct hb_audit_run *run)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < run->n_ev; i++) {
		const struct hb_audit_event *e = &run->ev[i];
		const char *sev = e->severity ?: "";
		if (strcmp(sev, "violation") == 0) {
			s->n_viol++;
			r = count(s->viol, e->kind ?: "?");
		} else if (strcmp(sev, "alert") == 0) {
			s->n_alerts++;
			r = count(s->alerts, e->kind ?: "?");
		}
	}
	return r;
}

/* An event without a run (a refusal) counts among the events only. */
static int stats_add(struct stats *s, const struct hb_audit_run *run)
{
	int r = stats_events(s, run);

	if (r < 0 || (!run->has_start && !run->has_end))
		return r;
	s->executions++;
	if (run->has_wall)
		s->wall[s->n_wall++] = run->wall_ms;
	r = count(s->by_reason, run->state);
	/* Success is exit 0 and nothing else; a run still going is
	 * neither.  A non-zero exit is a failure of its own kind. */
	if (strcmp(run->state, "running") == 0)
		s->running++;
	else if (strcmp(run->state, "exit") == 0 && run->has_exit &&
		 run->exit_code == 0)
		s->succeeded++;
	else if (r == 0) {
		s->failed++;
		r = count(s->failed_by, strcmp(run->state, "exit") == 0
						? "exit_nonzero"
						: run->state);
	}
	if (r == 0)
		r = count(s->by_policy, run->policy ?: "(unknown)");
	if (r == 0)
		r = count(s->by_script, run->script ?: "(unknown)");
	return r;
}

static int cmp_u64(const void *x, const void *y)
{
	unsigned long long a = *(const unsigned long long *)x;
	unsigned long long b = *(const unsigned long long *)y;

	return a < b ? -1 : a > b;
}

/* Nearest rank: the smallest value with at least pct % at or below it. */
static unsigned long long percentile(const struct stats *s, unsigned pct)
{
	size_t rank = (s->n_wall * pct + 99) / 100;

	return s->wall[rank ? rank - 1 : 0];
}

struct count_entry {
	const char *key;
	long long n;
};

static int cmp_counts(const void *x, const void *y)
{
	const struct count_entry *a = x, *b = y;

	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* The keys, by count (most first) or as inserted; the caller frees the
 * array. */
static struct count_entry *list_counts(json_object *counts, bool sort,
				       size_t *ret_n)
{
	size_t n = (size_t)json_object_object_length(counts), i = 0;
	struct count_entry *v = calloc(n ?: 1, sizeof(*v));

	if (!v)
		return NULL;
	json_object_object_foreach(counts, key, val)
	{
		v[i].key = key;
		v[i++].n = json_object_get_int64(val);
	}
	if (sort)
		qsort(v, n, sizeof(*v), cmp_counts);
	*ret_n = n;
	return v;
}

static int print_counts(FILE *out, const char *title, json_object *counts,
			bool sort)
{
	_cleanup_free_ struct count_entry *v = NULL;
	size_t n = 0;
	int width = 0;

	fprintf(out, "%s:\n", title);
	v = list_counts(counts, sort, &n);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (hb_audit_text_width(v[i].key) > width)
			width = hb_audit_text_width(v[i].key);
	for (size_t i = 0; i < n; i++) {
		fputs("  ", out);
		hb_audit_put_text(out, v[i].key, width);
		fprintf(out, "  %lld\n", v[i].n);
	}
	if (!n)
		fputs("  none\n", out);
	return 0;
}

static int print_stats_text(FILE *out, const struct stats *s,
			    const struct hb_audit_query *q)
{
	int r;

	fprintf(out, "executions: %lld", s->executions);
	if (q->since) {
		fputs(" since ", out);
		hb_audit_put_text(out, q->since, 0);
	}
	fputc('\n', out);
	fprintf(out, "succeeded: %lld (exit 0)\nfailed: %lld\n", s->succeeded,
		s->failed);
	if (s->running)
		fprintf(out, "running: %lld\n", s->running);
	r = print_counts(out, "failed by reason", s->failed_by, true);
	if (r == 0)
		r = print_counts(out, "by reason", s->by_reason, false);
	if (r == 0)
		r = print_counts(out, "by policy", s->by_policy, true);
	if (r == 0)
		r = print_counts(out, "by script", s->by_script, true);
	fprintf(out, "violations: %lld\n", s->n_viol);
	if (r == 0)
		r = print_counts(out, "violations by kind", s->viol, true);
	fprintf(out, "alerts: %lld\n", s->n_alerts);
	if (r == 0)
		r = print_counts(out, "alerts by kind", s->alerts, true);
	if (s->n_wall)
		fprintf(out,
			"wall ms: median %llu, p95 %llu (over %zu finished "
			"run%s)\n",
			percentile(s, 50), percentile(s, 95), s->n_wall,
			s->n_wall == 1 ? "" : "s");
	else
		fputs("wall ms: no finished runs\n", out);
	return r;
}

/* Sorted copies: a JSON object prints its keys in insertion order. */
static json_object *sorted_object(json_object *counts)
{
	_cleanup_free_ struct count_entry *v = NULL;
	json_object *o = json_object_new_object();
	size_t n = 0;

	v = list_counts(counts, true, &n);
	if (!o || !v) {
		json_object_put(o);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		json_object_object_add(o, v[i].key,
				       json_object_new_int64(v[i].n));
	return o;
}

static int print_stats_json(FILE *out, struct stats *s,
			    const struct hb_audit_query *q)
{
	json_object *o = s->top;

	json_object_object_add(
		o, "since", q->since ? json_object_new_string(q->since) : NULL);
	json_object_object_add(o, "executions",
			       json_object_new_int64(s->executions));
	json_object_object_add(o, "succeeded",
			       json_object_new_int64(s->succeeded));
	json_object_object_add(o, "failed", json_object_new_int64(s->failed));
	json_object_object_add(o, "running", json_object_new_int64(s->running));
	json_object_object_add(o, "failed_by_reason",
			       sorted_object(s->failed_by));
	json_object_object_add(o, "by_reason", json_object_get(s->by_reason));
	json_object_object_add(o, "by_policy", sorted_object(s->by_policy));
	json_object_object_add(o, "by_script", sorted_object(s->by_script));
	json_object_object_add(o, "violations",
			       json_object_new_int64(s->n_viol));
	json_object_object_add(o, "violations_by_kind", sorted_object(s->viol));
	json_object_object_add(o, "alerts", json_object_new_int64(s->n_alerts));
	json_object_object_add(o, "alerts_by_kind", sorted_object(s->alerts));
	json_object_object_add(o, "finished_runs",
			       json_object_new_uint64(s->n_wall));
	json_object_object_add(
		o, "median_wall_ms",
		s->n_wall ? json_object_new_uint64(percentile(s, 50)) : NULL);
	json_object_object_add(
		o, "p95_wall_ms",
		s->n_wall ? json_object_new_uint64(percentile(s, 95)) : NULL);
	return hb_audit_put_json(out, o);
}

int hb_audit_stats(struct hb_audit *a, const struct hb_audit_query *q,
		   FILE *out)
{
	struct hb_audit_trail t;
	struct stats s = {0};
	struct hb_audit_run **v = NULL;
	size_t n = 0;
	int r = hb_audit_trail_load(&t, a, q, &v, &n);

	if (r == 0)
		r = stats_init(&s, n);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = stats_add(&s, v[i]);
	if (r == 0 && s.n_wall)
		qsort(s.wall, s.n_wall, sizeof(*s.wall), cmp_u64);
	if (r == 0)
		r = q->json ? print_stats_json(out, &s, q)
			    : print_stats_text(out, &s, q);
	stats_free(&s);
	free(v);
	hb_audit_trail_free(&t);
	if (r == 0 && (fflush(out) == EOF || ferror(out)))
		r = -EIO;
	return r;
}

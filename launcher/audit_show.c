/* SPDX-License-Identifier: MIT */
/* `hivebox audit show`: one line, or one JSON object, per run, then its
 * security events. */
#include "audit_reader.h"

#include <string.h>

enum { COL_TIME, COL_ID, COL_SCRIPT, COL_POLICY, COL_OUTCOME, COL_TEXT };

static void text_cols(const struct hb_audit_run *run, const char *col[COL_TEXT])
{
	col[COL_TIME] = run->start_time ?: "-";
	col[COL_ID] = run->exec_id;
	col[COL_SCRIPT] = run->script ?: "-";
	col[COL_POLICY] = run->policy ?: "-";
	col[COL_OUTCOME] = run->outcome;
}

static void print_row(FILE *out, const char *col[COL_TEXT],
		      const int width[COL_TEXT], const char *num[3])
{
	for (int i = 0; i < COL_TEXT; i++) {
		hb_audit_put_text(out, col[i], width[i]);
		fputs("  ", out);
	}
	fprintf(out, "%7s  %10s  %6s\n", num[0], num[1], num[2]);
}

static void print_run(FILE *out, const struct hb_audit_run *run,
		      const int width[COL_TEXT])
{
	const char *col[COL_TEXT];
	char wall[24] = "-", viol[24], alerts[24];
	const char *num[3] = {wall, viol, alerts};

	text_cols(run, col);
	if (run->has_wall)
		snprintf(wall, sizeof(wall), "%llu", run->wall_ms);
	snprintf(viol, sizeof(viol), "%lld", run->violations);
	snprintf(alerts, sizeof(alerts), "%lld", run->alerts);
	print_row(out, col, width, num);
	for (size_t i = 0; i < run->n_ev; i++) {
		const struct hb_audit_event *e = &run->ev[i];
		fputs("    ", out);
		hb_audit_put_text(out, e->time, 24);
		fputs("  ", out);
		hb_audit_put_text(out, e->kind, 0);
		fputs(": ", out);
		hb_audit_put_text(out, e->message, 0);
		fputc('\n', out);
	}
}

static void print_table(FILE *out, struct hb_audit_run **v, size_t n)
{
	const char *head[COL_TEXT] = {"START", "EXEC ID", "SCRIPT", "POLICY",
				      "OUTCOME"};
	const char *num[3] = {"WALL MS", "VIOLATIONS", "ALERTS"};
	int width[COL_TEXT];

	for (int i = 0; i < COL_TEXT; i++)
		width[i] = (int)strlen(head[i]);
	for (size_t i = 0; i < n; i++) {
		const char *col[COL_TEXT];
		text_cols(v[i], col);
		for (int j = 0; j < COL_TEXT; j++)
			if (hb_audit_text_width(col[j]) > width[j])
				width[j] = hb_audit_text_width(col[j]);
	}
	print_row(out, head, width, num);
	for (size_t i = 0; i < n; i++)
		print_run(out, v[i], width);
}

/* One field of the run in full: its label, then the value as text, or
 * as one line of JSON where it is not a string (argv, user, limits). */
static void put_field(FILE *out, const char *label, json_object *v)
{
	fprintf(out, "%-18s", label);
	if (!v)
		fputs("-\n", out);
	else if (json_object_is_type(v, json_type_string)) {
		hb_audit_put_text(out, json_object_get_string(v), 0);
		fputc('\n', out);
	} else
		(void)hb_audit_put_json(out, v);
}

static json_object *field(json_object *o, const char *path)
{
	char key[64];
	const char *dot = strchr(path, '.');
	json_object *v = NULL;

	snprintf(key, sizeof(key), "%.*s",
		 dot ? (int)(dot - path) : (int)strlen(path), path);
	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return dot ? field(v, dot + 1) : v;
}

/* show --exec ID: everything the trail says of one run.  A refused run
 * has no start record; its end record says who called and from where. */
static void print_detail(FILE *out, const struct hb_audit_run *run)
{
	static const struct {
		const char *label, *path;
	} rows[] = {
		{"script:", "script.path"},
		{"script sha256:", "script.sha256"},
		{"policy:", "policy.path"},
		{"policy sha256:", "policy.sha256"},
		{"effective sha256:", "policy.effective_sha256"},
		{"annotated sha256:", "policy.annotated_sha256"},
		{"argv:", "argv"},
		{"cwd:", "cwd"},
		{"user:", "user"},
		{"host uid:", "host_uid"},
		{"command:", "command"},
		{"limits:", "limits"},
	};
	json_object *rec = run->start_rec ?: run->end_rec;
	char num[64];

	fprintf(out, "%-18s", "exec id:");
	hb_audit_put_text(out, run->exec_id, 0);
	fputc('\n', out);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		json_object *v = field(rec, rows[i].path);
		/* An end record names the script and the policy by path. */
		if (!v && (strcmp(rows[i].path, "script.path") == 0 ||
			   strcmp(rows[i].path, "policy.path") == 0))
			v = field(rec,
				  rows[i].path[0] == 's' ? "script" : "policy");
		put_field(out, rows[i].label, v);
	}
	fprintf(out, "%-18s", "started:");
	hb_audit_put_text(out, run->start_time, 0);
	fprintf(out, "\n%-18s", "ended:");
	hb_audit_put_text(out, run->end_time, 0);
	fprintf(out, "\n%-18s", "outcome:");
	hb_audit_put_text(out, run->outcome, 0);
	snprintf(num, sizeof(num), "%llu", run->wall_ms);
	fprintf(out, "\n%-18s%s\n", "wall ms:", run->has_wall ? num : "-");
	fprintf(out, "%-18s%lld\n%-18s%lld\n", "violations:", run->violations,
		"alerts:", run->alerts);
	fprintf(out, "events: %zu\n", run->n_ev);
	for (size_t i = 0; i < run->n_ev; i++) {
		const struct hb_audit_event *e = &run->ev[i];
		fputs("  ", out);
		hb_audit_put_text(out, e->time, 24);
		fputs("  ", out);
		hb_audit_put_text(out, e->kind, 0);
		fputs(" (", out);
		hb_audit_put_text(out, e->severity, 0);
		fputs("): ", out);
		hb_audit_put_text(out, e->message, 0);
		fputc('\n', out);
		if (e->details) {
			fputs("    ", out);
			(void)hb_audit_put_json(out, e->details);
		}
	}
}

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *events_json(const struct hb_audit_run *run)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < run->n_ev; i++) {
		const struct hb_audit_event *e = &run->ev[i];
		json_object *o = json_object_new_object();
		if (!o)
			break;
		json_object_object_add(o, "time", str_or_null(e->time));
		json_object_object_add(o, "kind", str_or_null(e->kind));
		json_object_object_add(o, "severity", str_or_null(e->severity));
		json_object_object_add(o, "message", str_or_null(e->message));
		json_object_object_add(o, "details",
				       json_object_get(e->details));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *run_json(const struct hb_audit_run *run)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "exec_id", str_or_null(run->exec_id));
	json_object_object_add(o, "start_time", str_or_null(run->start_time));
	json_object_object_add(o, "end_time", str_or_null(run->end_time));
	json_object_object_add(o, "script", str_or_null(run->script));
	json_object_object_add(o, "policy", str_or_null(run->policy));
	json_object_object_add(o, "outcome", str_or_null(run->outcome));
	json_object_object_add(o, "reason", str_or_null(run->state));
	json_object_object_add(
		o, "exit_code",
		run->has_exit ? json_object_new_int(run->exit_code) : NULL);
	json_object_object_add(o, "signal",
			       run->signal ? json_object_new_int(run->signal)
					   : NULL);
	json_object_object_add(
		o, "wall_ms",
		run->has_wall ? json_object_new_uint64(run->wall_ms) : NULL);
	json_object_object_add(o, "violations",
			       json_object_new_int64(run->violations));
	json_object_object_add(o, "alerts", json_object_new_int64(run->alerts));
	json_object_object_add(o, "events", events_json(run));
	/* --exec: the records in full, as the trail has them. */
	if (run->start_rec)
		json_object_object_add(o, "start_record",
				       json_object_get(run->start_rec));
	if (run->end_rec)
		json_object_object_add(o, "end_record",
				       json_object_get(run->end_rec));
	return o;
}

static int print_json_runs(FILE *out, struct hb_audit_run **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_object *o = run_json(v[i]);
		int r = o ? hb_audit_put_json(out, o) : -ENOMEM;
		json_object_put(o);
		if (r < 0)
			return r;
	}
	return 0;
}

int hb_audit_show(struct hb_audit *a, const struct hb_audit_query *q, FILE *out)
{
	struct hb_audit_trail t;
	struct hb_audit_run **v = NULL;
	size_t n = 0;
	int r = hb_audit_trail_load(&t, a, q, &v, &n);

	if (r == 0 && n == 0)
		/* Not in the JSON Lines on stdout: no runs is no line. */
		fputs("no runs match\n", q->json ? stderr : out);
	else if (r == 0 && q->json)
		r = print_json_runs(out, v, n);
	else if (r == 0 && q->exec_id)
		print_detail(out, v[0]);
	else if (r == 0)
		print_table(out, v, n);
	free(v);
	hb_audit_trail_free(&t);
	if (r == 0 && (fflush(out) == EOF || ferror(out)))
		r = -EIO;
	return r;
}

/* SPDX-License-Identifier: MIT */
/* hivebox doctor: the table, its verdicts and its two outputs.  The
 * checks themselves are in doctor_kernel.c and doctor_files.c. */
#include "doctor.h"

#include <stdarg.h>
#include <string.h>

struct hb_doctor_row *hb_doctor_add(struct hb_doctor *d, const char *name,
				    enum hb_verdict v, bool needed,
				    const char *fmt, ...)
{
	struct hb_doctor_row *row;
	va_list ap;

	if (d->n == d->size) {
		size_t size = d->size ? 2 * d->size : 32;
		row = reallocarray(d->rows, size, sizeof(*row));
		if (!row) {
			d->lost = d->lost || v == HB_VERDICT_FAIL;
			d->lost_needed = d->lost_needed ||
					 (v == HB_VERDICT_FAIL && needed);
			return NULL;
		}
		d->rows = row;
		d->size = size;
	}
	row = &d->rows[d->n++];
	memset(row, 0, sizeof(*row));
	snprintf(row->name, sizeof(row->name), "%s", name);
	row->verdict = v;
	row->needed = needed;
	va_start(ap, fmt);
	vsnprintf(row->found, sizeof(row->found), fmt, ap);
	va_end(ap);
	return row;
}

void hb_doctor_fix(struct hb_doctor_row *row, const char *fmt, ...)
{
	va_list ap;

	if (!row)
		return;
	va_start(ap, fmt);
	vsnprintf(row->fix, sizeof(row->fix), fmt, ap);
	va_end(ap);
}

void hb_doctor_without(struct hb_doctor_row *row, const char *fmt, ...)
{
	va_list ap;

	if (!row)
		return;
	va_start(ap, fmt);
	vsnprintf(row->without, sizeof(row->without), fmt, ap);
	va_end(ap);
}

void hb_doctor_fixed(struct hb_doctor *d, const char *fmt, ...)
{
	va_list ap;

	if (d->n_fixed >= ARRAY_SIZE(d->fixed))
		return;
	va_start(ap, fmt);
	vsnprintf(d->fixed[d->n_fixed++], sizeof(d->fixed[0]), fmt, ap);
	va_end(ap);
}

void hb_doctor_free(struct hb_doctor *d)
{
	free(d->rows);
	d->rows = NULL;
	d->n = d->size = 0;
}

int hb_doctor_exit(const struct hb_doctor *d)
{
	int code = d->lost_needed ? 2 : d->lost ? 1 : 0;

	for (size_t i = 0; i < d->n; i++) {
		if (d->rows[i].verdict != HB_VERDICT_FAIL)
			continue;
		if (d->rows[i].needed)
			return 2;
		code = 1;
	}
	return code;
}

const char *hb_verdict_name(enum hb_verdict v)
{
	static const char *const names[] = {"ok", "warn", "FAIL"};

	return v < ARRAY_SIZE(names) ? names[v] : "?";
}

bool hb_doctor_overlaps(uint32_t net, unsigned len, uint32_t dst,
			unsigned dst_len)
{
	unsigned shorter = len < dst_len ? len : dst_len;
	uint32_t mask;

	if (dst_len == 0 || len > 32 || dst_len > 32)
		return false;
	mask = shorter == 0 ? 0 : ~0u << (32 - shorter);
	return (net & mask) == (dst & mask);
}

static void print_row(const struct hb_doctor_row *r, FILE *out)
{
	fprintf(out, "%-4s  %-26s %s\n", hb_verdict_name(r->verdict), r->name,
		r->found);
	if (r->verdict != HB_VERDICT_OK && r->fix[0])
		fprintf(out, "      %-26s fix: %s\n", "", r->fix);
	if (r->verdict != HB_VERDICT_OK && r->without[0])
		fprintf(out, "      %-26s without it: %s\n", "", r->without);
}

void hb_doctor_print(const struct hb_doctor *d, FILE *out)
{
	int code = hb_doctor_exit(d);
	size_t warnings = 0;

	for (size_t i = 0; i < d->n; i++)
		warnings += d->rows[i].verdict == HB_VERDICT_WARN;
	for (size_t i = 0; i < d->n_fixed; i++)
		fprintf(out, "fixed: %s\n", d->fixed[i]);
	for (size_t i = 0; i < d->n; i++)
		print_row(&d->rows[i], out);
	fputs(code == 2	  ? "strict.ini cannot run here: see the FAIL rows "
			    "marked needed above"
	      : code == 1 ? "strict.ini can run; some features cannot (FAIL "
			    "rows above)"
			  : "everything hivebox uses works here",
	      out);
	if (warnings)
		fprintf(out, "; %zu warning%s to mend", warnings,
			warnings == 1 ? "" : "s");
	fputc('\n', out);
}

static json_object *row_json(const struct hb_doctor_row *r)
{
	json_object *o = json_object_new_object();
	bool ok = r->verdict == HB_VERDICT_OK;

	json_object_object_add(o, "check", json_object_new_string(r->name));
	json_object_object_add(
		o, "verdict",
		json_object_new_string(r->verdict == HB_VERDICT_OK ? "ok"
				       : r->verdict == HB_VERDICT_WARN
					       ? "warn"
					       : "fail"));
	json_object_object_add(o, "needed_by_strict",
			       json_object_new_boolean(r->needed));
	json_object_object_add(o, "found", json_object_new_string(r->found));
	json_object_object_add(o, "fix",
			       !ok && r->fix[0] ? json_object_new_string(r->fix)
						: NULL);
	json_object_object_add(o, "without",
			       !ok && r->without[0]
				       ? json_object_new_string(r->without)
				       : NULL);
	return o;
}

json_object *hb_doctor_json(const struct hb_doctor *d)
{
	json_object *o = json_object_new_object();
	json_object *rows = json_object_new_array();
	json_object *fixed = json_object_new_array();

	for (size_t i = 0; i < d->n; i++)
		json_object_array_add(rows, row_json(&d->rows[i]));
	for (size_t i = 0; i < d->n_fixed; i++)
		json_object_array_add(fixed,
				      json_object_new_string(d->fixed[i]));
	json_object_object_add(o, "rows", rows);
	json_object_object_add(o, "fixed", fixed);
	json_object_object_add(o, "exit",
			       json_object_new_int(hb_doctor_exit(d)));
	return o;
}

int hb_doctor_run(const struct hb_doctor_opts *opts, struct hb_doctor *d)
{
	_cleanup_free_ char *dir = hb_doctor_audit_dir(opts);
	struct hb_strv paths = {0};
	int r;

	memset(d, 0, sizeof(*d));
	if (opts->fix)
		hb_doctor_fix_files(opts, d);
	r = hb_doctor_policy_paths(opts, &paths);
	if (r == 0)
		hb_doctor_kernel(d, &paths);
	hb_strv_clear(&paths);
	if (r < 0)
		return r;
	hb_doctor_files(opts, d);
	hb_doctor_trail(opts, dir, d);
	return 0;
}

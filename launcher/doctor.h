/* SPDX-License-Identifier: MIT */
/* hivebox doctor: is this machine fit to run hivebox?  Each check is one
 * row of a table, with a verdict, what was found, a one-line fix and, for
 * a feature that is missing, what still works without it.  The checks
 * (doctor_kernel.c, doctor_files.c) probe the real kernel and files; the
 * table, its verdicts and its output (doctor.c) are pure. */
#pragma once

#include "util.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum hb_verdict {
	HB_VERDICT_OK,
	HB_VERDICT_WARN, /* works, but should be mended */
	HB_VERDICT_FAIL, /* missing or broken */
};

struct hb_doctor_row {
	char name[48];
	enum hb_verdict verdict;
	/* strict.ini cannot run without it: a failure makes the exit 2. */
	bool needed;
	char found[320];
	char fix[200];	   /* one line; empty when ok */
	char without[200]; /* a failure: what works without it */
};

struct hb_doctor {
	struct hb_doctor_row *rows; /* grown as rows are added */
	size_t n, size;
	/* A row that could not be had (out of memory) is not lost from the
	 * verdict: the worst such is kept here and counts in the exit. */
	bool lost, lost_needed;
	/* What --fix did, one line each. */
	char fixed[8][200];
	size_t n_fixed;
};

/* What doctor checks, as the options name it. */
struct hb_doctor_opts {
	const char *config;	  /* NULL: HB_CONFIG_DEFAULT */
	const char *audit_dir;	  /* NULL: the caller's default */
	const char *key_file;	  /* NULL: HB_AUDIT_DEFAULT_KEY */
	const char *policies_dir; /* NULL: hivebox.conf's [policies]
				   * system_dir (root), else
				   * HB_POLICY_SYSTEM_DIR */
	bool fix;
};

/* A new row, its found text printf-formatted; the table grows to hold
 * every row (one per policy linted, however many).  NULL only when out
 * of memory: a FAIL row then still counts in hb_doctor_exit(). */
struct hb_doctor_row *hb_doctor_add(struct hb_doctor *d, const char *name,
				    enum hb_verdict v, bool needed,
				    const char *fmt, ...) _printf_(5, 6);
/* Set a row's fix or without text. */
void hb_doctor_fix(struct hb_doctor_row *row, const char *fmt, ...)
	_printf_(2, 3);
void hb_doctor_without(struct hb_doctor_row *row, const char *fmt, ...)
	_printf_(2, 3);
void hb_doctor_fixed(struct hb_doctor *d, const char *fmt, ...) _printf_(2, 3);
/* Free the rows; d may be reused, empty. */
void hb_doctor_free(struct hb_doctor *d);

/* The exit status: 2 when a row strict.ini needs fails, 1 when another
 * fails, 0 when none does (warnings included). */
int hb_doctor_exit(const struct hb_doctor *d);
const char *hb_verdict_name(enum hb_verdict v);
void hb_doctor_print(const struct hb_doctor *d, FILE *out);
json_object *hb_doctor_json(const struct hb_doctor *d);

/* Whether a route to dst/dst_len meets the range net/len (addresses in
 * host byte order): one holds the other.  A default route (len 0) meets
 * nothing: the pool's own routes are more specific. */
bool hb_doctor_overlaps(uint32_t net, unsigned len, uint32_t dst,
			unsigned dst_len);

/* Run every check (after the fixes, with opts->fix) into d. */
int hb_doctor_run(const struct hb_doctor_opts *opts, struct hb_doctor *d);

/* The audit directory checked: --audit-dir, else the caller's default;
 * malloc'd, NULL if there is none. */
char *hb_doctor_audit_dir(const struct hb_doctor_opts *o);
/* The host paths the policies name, absolute, and the current directory
 * (where a root run most often finds its script). */
int hb_doctor_policy_paths(const struct hb_doctor_opts *o,
			   struct hb_strv *paths);
/* The kernel's rows (doctor_kernel.c); paths are tried for idmapped
 * mounts. */
void hb_doctor_kernel(struct hb_doctor *d, const struct hb_strv *paths);
/* --fix (doctor_files.c): the audit directory, its key, their modes. */
void hb_doctor_fix_files(const struct hb_doctor_opts *o, struct hb_doctor *d);
/* hivebox.conf and its pool, the audit directory, key and logs. */
void hb_doctor_files(const struct hb_doctor_opts *o, struct hb_doctor *d);
/* The trail in dir verifies; the policies pass lint (doctor_trail.c). */
void hb_doctor_trail(const struct hb_doctor_opts *o, const char *dir,
		     struct hb_doctor *d);

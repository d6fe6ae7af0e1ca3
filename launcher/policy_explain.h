/* SPDX-License-Identifier: MIT */
/* hivebox policy explain and policy lint: what a policy exposes, weighed,
 * and what a careful reviewer would flag in it.  Pure: a loaded policy
 * in, data out; the printers write to the stream they are given. */
#pragma once

#include "policy.h"

#include <json-c/json.h>
#include <stdio.h>

#define HB_EXPOSURE_MAX 64
#define HB_LINT_MAX 64

/* One weakening: the key that causes it and its weight in tenths of a
 * point of the 0-10 exposure score. */
struct hb_weakening {
	enum hb_key key;
	unsigned weight; /* tenths */
	char what[256];
};

struct hb_exposure {
	struct hb_weakening w[HB_EXPOSURE_MAX];
	size_t n;
	unsigned score; /* tenths, at most 100 */
};

/* The weakenings of p, heaviest first, and the score: their sum, at
 * most 10.  Relative paths are judged against cwd. */
int hb_policy_explain(const struct hb_policy *p, const char *cwd,
		      struct hb_exposure *ret);
/* "low" below 2, "medium" below 5, "high" below 8, else "unsafe". */
const char *hb_exposure_level(unsigned score);
void hb_exposure_print(const struct hb_policy *p, const struct hb_exposure *e,
		       FILE *out);
json_object *hb_exposure_json(const struct hb_policy *p,
			      const struct hb_exposure *e);

struct hb_lint_warning {
	enum hb_key key; /* its origin is where the warning points */
	char msg[320];
};

struct hb_lint {
	struct hb_lint_warning w[HB_LINT_MAX];
	size_t n;
};

/* The warnings of p; parent, when not NULL, is the policy p extends,
 * loaded alone, to find the limits p loosens. */
int hb_policy_lint(const struct hb_policy *p, const struct hb_policy *parent,
		   const char *cwd, struct hb_lint *ret);
/* One line per warning, "file:line: warning: ...", at the key's origin;
 * a warning about a default names the file linted, as name gives it. */
void hb_lint_print(const struct hb_policy *p, const char *name,
		   const struct hb_lint *l, FILE *out);
/* The file path's [policy] extends names, absolute; *ret NULL when it
 * extends nothing. */
int hb_policy_parent_path(const char *path, const struct hb_policy_dirs *dirs,
			  char **ret);

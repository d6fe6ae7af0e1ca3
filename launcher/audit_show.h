/* SPDX-License-Identifier: MIT */
/* Reading the audit trail back: `hivebox audit show` (audit_show.c) and
 * `audit stats` (audit_stats.c), both over audit_reader.c. */
#pragma once

#include "audit.h"

#include <stdbool.h>
#include <stdio.h>

struct hb_audit_query {
	const char *exec_id; /* NULL: every run */
	const char *since;   /* ISO 8601 prefix, compared as text; NULL: all */
	const char *event;   /* a security event kind; NULL: all */
	const char *script;  /* a script path; NULL: all */
	bool json;
};

/* One line (or JSON object) per run: time, exec id, script, policy,
 * outcome ("launcher died" for a start without an end whose hivebox is
 * gone), violations; then the matching security events. */
int hb_audit_show(struct hb_audit *a, const struct hb_audit_query *q,
		  FILE *out);
/* Totals: executions, by reason, by policy, by script; violations by
 * kind; alerts; median and p95 duration. */
int hb_audit_stats(struct hb_audit *a, const struct hb_audit_query *q,
		   FILE *out);

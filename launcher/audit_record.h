/* SPDX-License-Identifier: MIT */
/* The execution records: what ran, under which policy, and how it ended.
 * Built as JSON objects here; written by the audit module. */
#pragma once

#include "audit.h"
#include "plan.h"
#include "result.h"

#include <json-c/json.h>

struct hb_run_info {
	char exec_id[37];
	char script_sha[HB_SHA256_HEX];
	char policy_sha[HB_SHA256_HEX];	   /* the file named */
	char effective_sha[HB_SHA256_HEX]; /* its canonical form, stored */
	char annotated_sha[HB_SHA256_HEX]; /* with origins, for reading */
	char start_time[32];
	int argc;
	char **argv;	       /* hivebox's own */
	const char *replay_of; /* the exec id a replay reproduces, or NULL */
};

/* Hashes the script and the policy file, stores the effective policy. */
int hb_audit_record_prepare(struct hb_run_info *info, struct hb_audit *audit,
			    const struct hb_plan *plan);
json_object *hb_audit_record_start(const struct hb_run_info *info,
				   const struct hb_plan *plan);
json_object *hb_audit_record_end(const struct hb_run_info *info,
				 const struct hb_plan *plan,
				 const struct hb_result *res);
/* A refused run has no start record, only this end record (the run
 * ended before it began): the result says "refused" and why, and it
 * carries what a start record would say of the caller (user, pid, cwd,
 * argv).  plan may be partial; start_time is the refusal's time. */
json_object *hb_audit_record_refused(const struct hb_run_info *info,
				     const struct hb_plan *plan,
				     const struct hb_result *res);

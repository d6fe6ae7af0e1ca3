/* SPDX-License-Identifier: MIT */
/* The supervisor: clones the sandbox init into new namespaces, writes its
 * id maps, then waits on one poll loop for the init's exit, signals to
 * forward, the wall-clock timer and the init's reports. */
#pragma once

#include "plan.h"
#include "events.h"

#include <json-c/json.h>

#include <stdbool.h>

enum hb_reason {
	HB_REASON_EXIT,
	HB_REASON_SIGNAL,
	HB_REASON_TIMEOUT,
	HB_REASON_CPU_LIMIT,
	HB_REASON_MEMORY_LIMIT,
	HB_REASON_FILE_SIZE_LIMIT,
	HB_REASON_SETUP_ERROR,
};

struct hb_result {
	enum hb_reason reason;
	int exit_code;	  /* the script's, when reason is exit */
	int signal;	  /* the fatal signal, when there is one */
	int hivebox_exit; /* what hivebox exits with, per the table */
	int setup_stage;  /* enum hb_stage, when reason is setup_error */
	int setup_errno;
	char setup_what[256];
	bool exec_failed;
	unsigned long long wall_ms, user_ms, system_ms, peak_rss_kb;
	int forwarded_signal; /* a signal hivebox got and passed on */
	/* Filled in by main from the events sink and the audit trail. */
	char exec_id[37];
	unsigned violations, alerts, audit_errors;
	unsigned long long peak_memory_kb; /* sampled: RSS sum + tmpfs */
	unsigned peak_processes;
	const char *audit_dir; /* NULL: no audit trail for this run */
	unsigned long long denied_syscalls; /* every denied call */
	json_object *denied_counts;	    /* {"name": count}; main puts it */
	json_object *network; /* the filtered network's addresses; main puts
				 it */
	bool audit_hmac;
};

/* Run the plan; events receives events and samples (never NULL). */
int hb_supervise(const struct hb_plan *plan, struct hb_events *events,
		 struct hb_result *ret);
const char *hb_reason_name(enum hb_reason reason);
/* The result from the interpreter's wait status, CPU time and limits. */
void hb_result_classify(struct hb_result *r, int status,
			const struct hb_plan *plan);

/* SPDX-License-Identifier: MIT */
/* The machine-readable result: one JSON object per run, written to
 * --result FILE or --result-fd N, so that a script cannot forge its
 * outcome through its exit code. */
#pragma once

#include "error.h"
#include "events.h"
#include "plan.h"

#include <json-c/json.h>
#include <stdbool.h>

/* hivebox's exit status, as cron reads it (DESIGN.md, hivebox(1) EXIT
 * STATUS): the script's own, or one of these.  No other file writes these
 * numbers. */
enum {
	HB_EXIT_REFUSED = 120,	   /* static analysis refused the script */
	HB_EXIT_TIMEOUT = 124,	   /* the wall-clock timeout */
	HB_EXIT_FAILED = 125,	   /* hivebox itself: usage, policy, setup */
	HB_EXIT_CANNOT_EXEC = 126, /* the interpreter cannot run */
	HB_EXIT_NOT_FOUND = 127,   /* the interpreter is not there */
	HB_EXIT_SIGNAL = 128,	   /* + N: killed by signal N */
};

enum hb_reason {
	HB_REASON_EXIT,
	HB_REASON_SIGNAL,
	HB_REASON_TIMEOUT,
	HB_REASON_CPU_LIMIT,
	HB_REASON_MEMORY_LIMIT,
	HB_REASON_FILE_SIZE_LIMIT,
	HB_REASON_SETUP_ERROR,
	HB_REASON_REFUSED, /* after the arguments, before anything ran */
	HB_REASON_WRITE_QUOTA,
};

/* How a run ended.  The reason and hivebox's exit status are set here
 * only, by the hb_result_* functions below; the supervisor says what it
 * saw, main adds what the events sink and the audit trail counted. */
struct hb_result {
	enum hb_reason reason;
	int exit_code;	       /* the script's, when reason is exit */
	int signal;	       /* the fatal signal, when there is one */
	int hivebox_exit;      /* what hivebox exits with, per the table */
	struct hb_error setup; /* when reason is setup_error */
	bool exec_failed;      /* and the interpreter could not be run */
	/* When reason is refused: the one line that says why (without
	 * "hivebox: "; the caller owns it), and whether the policy was read,
	 * without which the result has no limits. */
	const char *refusal;
	bool policy_read;
	unsigned long long wall_ms, user_ms, system_ms, peak_rss_kb;
	/* As the kernel counted them: the interpreter's CPU time as
	 * RLIMIT_CPU counts it, the bytes the whole sandbox wrote. */
	unsigned long long interp_cpu_ms, written_bytes;
	int forwarded_signal; /* a signal hivebox got and passed on */
	/* What the read_write paths gained, as the write quota counted it
	 * (quota.h), and the events it could not count. */
	unsigned long long quota_bytes, quota_files, quota_lost;
	/* Filled in by main from the events sink and the audit trail. */
	char exec_id[37];
	unsigned violations, alerts, audit_errors;
	unsigned long long notices_dropped; /* stderr did not take them */
	unsigned long long peak_memory_kb;  /* sampled: RSS sum + tmpfs */
	/* One process's largest address space, sampled, and whether the
	 * backstop (RLIMIT_AS) refused a call the supervisor saw. */
	unsigned long long peak_vm_kb;
	bool backstop_hit;
	/* The sandbox's CPU: the sampled total, or what the init's wait
	 * status counted of everything reaped, whichever is more. */
	unsigned long long cpu_total_ms;
	/* For limits_hit: the threads left when the interpreter ended, and
	 * the sampled peaks of threads and of one process's descriptors. */
	unsigned long long end_tasks;
	unsigned peak_tasks, peak_fds;
	unsigned peak_processes;
	const char *audit_dir; /* NULL: no audit trail for this run */
	unsigned long long denied_syscalls; /* every denied call */
	json_object *denied_counts;	    /* {"name": count}; main puts it */
	json_object *network; /* the filtered network's addresses; main puts
				 it */
	bool audit_hmac;
	/* [audit] forward: NULL for none; messages sent and dropped. */
	const char *forward_to;
	unsigned long forward_sent, forward_dropped;
};

const char *hb_reason_name(enum hb_reason reason);
/* The script's end, from the interpreter's wait status, what the kernel
 * counted (interp_cpu_ms and written_bytes, set before) and the
 * plan's limits. */
void hb_result_classify(struct hb_result *r, int status,
			const struct hb_plan *plan);
/* The timer ended the run; signal is what the interpreter died of. */
void hb_result_timeout(struct hb_result *r, int signal);
/* The supervisor killed the sandbox for its total memory. */
void hb_result_memory_limit(struct hb_result *r);
/* The supervisor killed the sandbox for its total CPU time. */
void hb_result_cpu_limit(struct hb_result *r);
/* The sandbox went past its write quota: killed for it, or it ended
 * before the supervisor could (killed false). */
void hb_result_write_quota(struct hb_result *r, bool killed);
/* Nothing ran: setup failed as e says, or (exec_failed) the interpreter
 * could not be executed, which is 127 for ENOENT and 126 otherwise. */
void hb_result_setup_error(struct hb_result *r, const struct hb_error *e,
			   bool exec_failed);
/* Nothing ran: the run was refused as message says (kept by the
 * caller), after the policy was read or not. */
void hb_result_refused(struct hb_result *r, const char *message,
		       bool policy_read);
/* What the events sink counted during the run, and the run's id. */
void hb_result_add_events(struct hb_result *r, const struct hb_events *w);

/* Why no per-run cgroup bounds this run, in one sentence. */
const char *hb_cgroup_status(void);

/* The seven limits by name: plain values (the start record), or objects
 * {value, enforced_by} (the result). */
json_object *hb_limits_json(const struct hb_limits *limits, bool with_how);

/* The result as a JSON object (the caller puts it), and as text (the
 * caller frees it).  For a refused run the plan may be partial or empty:
 * what it does not know is null. */
json_object *hb_result_object(const struct hb_result *r,
			      const struct hb_plan *plan);
char *hb_result_json(const struct hb_result *r, const struct hb_plan *plan);
/* Write that text and a newline: one serialisation for every
 * destination. */
int hb_result_write_fd(int fd, const char *text);
/* --result FILE must not be in a directory the sandbox can write: there
 * the script could put a file of its own in its place, which the caller
 * would read as the result.  ret is the plan's writable directory that
 * holds abs (an absolute, lexical path) by name, or by identity: abs's
 * directory, or one above it, is that directory under another name (a
 * symlink, a bind mount).  NULL: none does. */
int hb_result_exposed(const struct hb_plan *plan, const char *abs,
		      const struct hb_mount **ret);
/* --result FILE: opened before the run (a regular file, no symlink) and
 * emptied, written after it or after a refusal. */
int hb_result_open_file(const char *path);
int hb_result_write_file(int fd, const char *text);

/* SPDX-License-Identifier: MIT */
/* What the supervisor reports to while a sandbox runs: security events
 * into the audit trail, alerts to stderr, syslog and the policy's
 * alert_command, and the resource peaks it sampled. */
#pragma once

#include "audit.h"
#include "monitor.h"
#include "notice.h"

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#define HB_MAX_ALERT_CHILDREN 8
#define HB_MAX_ALERT_KINDS 16

struct hb_events {
	struct hb_audit *audit; /* NULL: nothing is recorded */
	char exec_id[37];
	bool quiet;
	struct hb_notice *notice; /* stderr; NULL: nothing is printed */
	unsigned cpu_alert_pct, memory_alert_pct; /* 0: off */
	const char *alert_command;		  /* NULL: none */
	unsigned alert_timeout_s;
	unsigned sample_ms;
	/* What happened. */
	unsigned alerts, violations, audit_errors;
	bool cpu_alerted, memory_alerted, memory_killed, cpu_killed;
	unsigned long long peak_total_kb;
	unsigned long long peak_vm_kb; /* one process's address space */
	/* The backstop (RLIMIT_AS) would have refused a call the filter
	 * sent: what it asked for and what its process had mapped, in
	 * bytes; memory_killed is set too.  0: it never did. */
	unsigned long long backstop_asked, backstop_mapped;
	/* The sandbox's CPU as sampled (cpu_total_ms), never going down:
	 * a sample that missed a process reaped during its walk does not
	 * take back what an earlier one counted. */
	unsigned long long cpu_total_ms;
	unsigned long long last_total_kb;    /* the latest sample's memory */
	unsigned long long last_sample_ms;   /* when it was taken */
	unsigned long long growth_kb_per_ms; /* since the one before */
	unsigned long long fast_until_ms;    /* a large request was seen */
	/* The fastest the sandbox is assumed to fill memory from idle
	 * (HB_BURST_KB_PER_MS_PER_CPU); 0: only the growth seen counts. */
	unsigned long long burst_kb_per_ms;
	unsigned peak_processes;
	unsigned peak_tasks, peak_fds; /* hb_sample's tasks and fds_max */
	char alerted_kinds[HB_MAX_ALERT_KINDS][32]; /* alert_command ran */
	struct {
		pid_t pid;
		unsigned long long deadline_ms;
		char kind[32];
	} children[HB_MAX_ALERT_CHILDREN];
};

enum hb_event_class {
	HB_EV_ALERT,	 /* a threshold crossed */
	HB_EV_VIOLATION, /* a limit hit, a refusal, a denied operation */
	HB_EV_ERROR, /* hivebox's own trouble, e.g. an alert command failed */
};

/* Whether an event is also a line on stderr.  --quiet (quiet) silences
 * notices; it never silences what cron mail must carry: why a run failed,
 * output that was lost, hivebox's own trouble. */
enum hb_event_show {
	HB_SHOW_NOTICE, /* unless quiet: an alert, a violation survived */
	HB_SHOW_ALWAYS, /* even when quiet */
	HB_SHOW_NEVER,	/* the caller prints the one line that says it */
};

/* Record a security event in the security log and syslog, and on stderr
 * (through the notice queue, never waiting for it) as show says; alerts
 * and violations also go to the alert_command.  details is consumed. */
void hb_events_record(struct hb_events *w, const char *kind,
		      enum hb_event_class cls, enum hb_event_show show,
		      const char *message, json_object *details);
/* The same, shown as a notice; hivebox's own errors (HB_EV_ERROR)
 * always. */
void hb_events_event(struct hb_events *w, const char *kind,
		     enum hb_event_class cls, const char *message,
		     json_object *details);

/* Past cpu_seconds, the sandbox's total gets what one process gets past
 * its soft RLIMIT_CPU: one more second, then SIGKILL.  Without it the
 * supervisor and RLIMIT_CPU would race on a single busy process, and its
 * end (SIGXCPU, exit status 152) would depend on the sampling phase. */
#define HB_CPU_GRACE_MS 1000

/* One sample of src: peaks, thresholds, the whole-sandbox memory and
 * CPU limits.  Returns true when the sandbox must be killed, the first
 * time only; memory_killed or cpu_killed says why. */
bool hb_events_sample(struct hb_events *w, const struct hb_monitor_src *src,
		      unsigned long long memory_mb, unsigned long long cpu_s);

/* Near memory_mb the supervisor samples faster, so that a fast
 * allocator passes the limit by what it allocates in HB_SAMPLE_FAST_MS,
 * not in a whole sample_interval_ms.  Measured (scripts/bench-limits, 2
 * cores under load): 4 processes growing in 16 MiB chunks passed 200 MiB
 * by 80 % at a fixed 100 ms, by a median of 9 % (20 runs) with this. */
#define HB_SAMPLE_FAST_MS 2
#define HB_SAMPLE_FAST_PCT 50
/* A request for more than HB_GUARD_ASK_BYTES at once (one large object)
 * may be filled faster than any growth rate foretells, and by a script
 * that ends before the next sample: the supervisor, which sees the
 * request, samples fast for this long (fast_until_ms). */
#define HB_SAMPLE_HURRY_MS 1000
/* A script can go from idle to filling memory as fast as the kernel
 * faults pages in, faster than any growth seen before: measured here,
 * four Python processes on 2 cores filled 16 MiB chunks at 3.9 MiB/ms,
 * and passed memory_mb = 200 by 187 MiB before the first 100 ms sample.
 * So the interval is also no longer than this rate (per CPU, for up to
 * HB_BURST_CPUS of them) takes to reach half of memory_mb. */
#define HB_BURST_KB_PER_MS_PER_CPU 2048
#define HB_BURST_CPUS 4
/* The interval until the next sample: HB_SAMPLE_FAST_MS once the last
 * sample held HB_SAMPLE_FAST_PCT % of memory_mb, or until fast_until_ms;
 * before, no longer than the last growth rate, or burst_kb_per_ms if
 * faster, takes to get there; at most sample_ms. */
unsigned hb_events_next_sample_ms(const struct hb_events *w,
				  unsigned long long memory_mb);

/* Reap finished alert commands; with final, wait for the rest until their
 * deadlines and kill what is left (hb_events_wait() without signals). */
void hb_events_reap(struct hb_events *w, bool final);
/* The end of a run: wait for the alert commands still running until their
 * deadlines, or until one of the signals in stop (blocked by the caller;
 * NULL: none) arrives; kill and record what is left.  Returns the signal
 * that cut the wait short, or 0. */
int hb_events_wait(struct hb_events *w, const sigset_t *stop);

/* SPDX-License-Identifier: MIT */
/* The supervisor's side of the seccomp filter: every denied call arrives
 * as a user notification, is recorded (the first few of each call in
 * detail, the rest counted) and answered with the policy's errno, or,
 * when the policy says kill, not answered at all: the caller's process is
 * killed while the call waits (SIGSYS, or SIGKILL where SIGSYS could be
 * survived).  A guarded call (seccomp_guard.h) is judged first: a plant
 * is refused with EPERM (plant_denied), another process's limits too
 * (syscall_denied); what the policy allows goes on without a record.
 * openat2 always answers ENOSYS, so that the caller falls back to
 * openat.  A large mmap or mremap that RLIMIT_AS would refuse ends the
 * run: memory_limit, as the supervisor's own bound on memory_mb. */
#pragma once

#include "seccomp_filter.h"
#include "events.h"

#include <stdbool.h>
#include <sys/types.h>

#define HB_SECCOMP_NOTIFY_DETAILED 10 /* detailed events per system call */
/* The counts' slot for numbers outside the table: an allow-list sends
 * syscall(1000) to the supervisor too, and its flood must be limited. */
#define HB_SECCOMP_NOTIFY_NR_OTHER HB_SYSCALL_NR_END

struct hb_seccomp_notify {
	int fd; /* the listener; -1 when there is none */
	void *req, *resp;
	size_t req_size, resp_size;
	int deny_errno;
	bool kill;
	const bool *whole; /* the filter's: calls denied whatever their args */
	struct hb_events *events;
	unsigned long long as_limit; /* RLIMIT_AS in the sandbox, bytes */
	unsigned long long counts[HB_SYSCALL_NR_END + 1];
	unsigned long long total;
};

/* f outlives n. */
int hb_seccomp_notify_init(struct hb_seccomp_notify *n, int fd,
			   const struct hb_filter *f, struct hb_events *events,
			   unsigned long long as_limit);
/* Receive and answer one notification.  Never blocks on the sandbox.
 * True when the run must end: a request past the backstop, whose caller
 * was killed (events->memory_killed says so); the sandbox is the
 * caller's to kill. */
bool hb_seccomp_notify_handle(struct hb_seccomp_notify *n);
void hb_seccomp_notify_close(struct hb_seccomp_notify *n);
/* {"name": count, ...} of the run's denied calls; those without a name
 * (outside the table, or newer than libseccomp) together as "?". */
json_object *hb_seccomp_notify_counts(const struct hb_seccomp_notify *n);

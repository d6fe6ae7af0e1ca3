/* SPDX-License-Identifier: MIT */
/* The write quota: what a run adds to its read_write paths, in bytes and
 * in files created, watched with fanotify by the supervisor.
 *
 * Two groups, because no one kind of mark sees both.  Bytes: a mount
 * mark on each writable tree hb_mounts_prepare() cloned, so only writes
 * made through the sandbox's own mounts reach it (FAN_MODIFY, with a
 * descriptor of the file), and FAN_OPEN_PERM, whose opener waits until
 * the supervisor has measured the file: what it held before the run is
 * known before anything is written to it.  Files: directory-entry events (FAN_CREATE)
 * exist only for inode and file-system marks, so a file-system mark on
 * each writable tree's file system, keeping only the events of processes
 * in the sandbox's PID namespace. */
#pragma once

#include "error.h"
#include "plan.h"

#include <stdbool.h>
#include <sys/types.h>

/* Per file, what it held when the run first touched it and what it holds
 * now: the bytes a run added are the sum of the growths, a file never
 * counting below what it held.  Pure data, so that it can be tested. */
struct hb_quota_file {
	dev_t dev;
	ino_t ino;
	unsigned long long base, now;
	bool used;
};

struct hb_quota_ledger {
	struct hb_quota_file *v;
	size_t cap, n;		  /* cap: a power of two, or 0 */
	unsigned long long added; /* the sum of max(now - base, 0) */
};

/* File (dev, ino) holds bytes now; created says the run made it, so that
 * it held nothing before.  A file seen for the first time otherwise
 * counts from what it holds now.  -ENOMEM leaves the ledger as it was. */
int hb_quota_ledger_note(struct hb_quota_ledger *l, dev_t dev, ino_t ino,
			 bool created, unsigned long long bytes);
void hb_quota_ledger_free(struct hb_quota_ledger *l);

struct hb_quota {
	int bytes_fd, files_fd; /* -1: not watched */
	unsigned long long max_bytes, max_files;
	unsigned long long files; /* created by the sandbox so far */
	struct hb_quota_ledger ledger;
	/* Files born at or after this (statx btime) are the run's own. */
	long long start_sec;
	unsigned start_nsec;
	dev_t ns_dev; /* the sandbox's PID namespace, once cloned */
	ino_t ns_ino;
	bool have_ns;
	/* Events the kernel could not queue, and files that could not be
	 * measured: what the figures may have missed. */
	unsigned long long lost;
	unsigned ignored; /* files whose opens no longer wait */
};

/* Before the clone, while trees (hb_mounts_prepare()) are open: the
 * marks on every writable tree.  Nothing is watched when the plan has no
 * quota.  On failure returns -errno and e says what. */
int hb_quota_start(struct hb_quota *q, const struct hb_plan *plan,
		   const int *trees, struct hb_error *e);
/* Once the init is cloned: its PID namespace is the sandbox's. */
int hb_quota_set_init(struct hb_quota *q, pid_t init);
/* Read what fd (bytes_fd or files_fd) has queued, a bounded amount at a
 * time so that the loop goes on.  True once the run is past its quota. */
bool hb_quota_read(struct hb_quota *q, int fd);
/* Everything still queued, once the sandbox is gone. */
void hb_quota_drain(struct hb_quota *q);
bool hb_quota_over(const struct hb_quota *q);
void hb_quota_close(struct hb_quota *q);

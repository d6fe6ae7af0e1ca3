/* SPDX-License-Identifier: MIT */
/* Resource sampling of a running sandbox from the host's /proc: every
 * process below the sandbox init, and the sandbox's tmpfs usage.  Used
 * where no per-run cgroup exists, which is every machine today. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct hb_sample {
	unsigned long long rss_kb;     /* sum over the sandbox's processes */
	unsigned long long tmpfs_kb;   /* /tmp and /dev/shm in use */
	unsigned long long total_kb;   /* rss_kb + tmpfs_kb */
	unsigned long long cpu_max_ms; /* the busiest single process */
	unsigned processes;
};

/* Sample the tree below init (a host pid), every process of it, however
 * many.  Before the init has pivoted, /proc/INIT/root is still the
 * host's: with_tmpfs false leaves the tmpfs usage out.  Returns -ENOMEM
 * when memory ran out on the way: ret then holds what was counted. */
int hb_monitor_sample(pid_t init, bool with_tmpfs, struct hb_sample *ret);

/* SPDX-License-Identifier: MIT */
/* Resource sampling of a running sandbox from the host's /proc: every
 * process below the sandbox init, the sandbox's tmpfs usage and what its
 * IPC namespace holds.  Used where no per-run cgroup exists, which is
 * every machine today. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Kernel memory that no page count shows, as the supervisor estimates
 * it per object (x86_64, Linux 6.x, measured and rounded up): an empty
 * tmpfs file (inode and dentry), a System V message besides its text (a
 * struct msg_msg in a 64- or 96-byte slab, with accounting), a System V
 * semaphore (struct sem is cache-line aligned).  plan.c bounds the IPC
 * namespace with the same figures. */
#define HB_TMPFS_INODE_BYTES 1024
#define HB_IPC_MSG_BYTES 128
#define HB_IPC_SEM_BYTES 64

/* The /proc/sysvipc files of the sandbox's IPC namespace. */
enum hb_ipc_file {
	HB_IPC_SHM,
	HB_IPC_MSG,
	HB_IPC_SEM,
	HB_IPC_FILES,
};

/* Where one sample looks. */
struct hb_monitor_src {
	pid_t init; /* the sandbox init, a host pid */
	/* Before the init has pivoted, /proc/INIT/root is still the host's:
	 * false leaves the tmpfs usage out. */
	bool in_root;
	/* Opened by the init, so that the kernel lists its namespace, not
	 * the host's; -1 where none came. */
	int ipc[HB_IPC_FILES];
};

struct hb_sample {
	unsigned long long rss_kb;     /* sum over the sandbox's processes */
	unsigned long long tmpfs_kb;   /* /tmp and /dev/shm: pages, inodes */
	unsigned long long ipc_kb;     /* System V IPC of its namespace */
	unsigned long long total_kb;   /* rss_kb + tmpfs_kb + ipc_kb */
	unsigned long long cpu_max_ms; /* the busiest single process */
	/* The largest address space of one process, as RLIMIT_AS counts
	 * it: how near the backstop it came. */
	unsigned long long vm_max_kb;
	/* The whole sandbox: every living (or not yet reaped) process's
	 * own CPU, every thread's, and that of the children it reaped, plus
	 * what the init reaped.  What escapes: a process the kernel reaped
	 * itself because its parent ignored SIGCHLD or set SA_NOCLDWAIT.
	 * One sample may read low (a process reaped during the walk); it
	 * never counts one twice. */
	unsigned long long cpu_total_ms;
	unsigned processes;
	/* Threads of every process, as RLIMIT_NPROC counts them, and the
	 * most descriptors one process holds (the size that stat() gives
	 * /proc/PID/fd, Linux 6.2 and later; 0 before). */
	unsigned tasks, fds_max;
};

/* Sample the tree below src->init (a host pid), every process of it,
 * however many, and what the sandbox keeps outside its processes.
 * Before the init has pivoted, /proc/INIT/root is still the host's:
 * src->in_root false leaves the tmpfs usage out.  Returns -ENOMEM when
 * memory ran out on the way: ret then holds what was counted. */
int hb_monitor_sample(const struct hb_monitor_src *src, struct hb_sample *ret);

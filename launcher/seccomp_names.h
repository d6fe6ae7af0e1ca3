/* SPDX-License-Identifier: MIT */
/* The names of the system-call policy: named groups, the calls no policy
 * may allow, the blocked_operations, errno names, and their expansion
 * into call numbers.  The policy checks names with this and the filter
 * builds on it; this knows neither. */
#pragma once

#include "util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* One past the highest system-call number the filter and the supervisor's
 * counts have a slot for: above every x86_64 call. */
#define HB_SYSCALL_NR_END 512

/* The groups no policy may allow (seccomp_groups.c). */
extern const char hb_always_denied[];
extern const char hb_always_denied_args[];

/* The ioctl requests no policy may allow (seccomp_groups.c): those that
 * change a terminal.  Compared on the low 32 bits, all the kernel reads. */
struct hb_ioctl {
	uint32_t request;
	const char *name; /* "TCSETS" */
	/* Allowed in a hivebox shell, whose only terminal is its own pty:
	 * the settings a prompt's line editor makes. */
	bool own_pty;
};
extern const struct hb_ioctl hb_denied_ioctls[];
extern const size_t hb_n_denied_ioctls;
/* The name of a denied request, or NULL. */
const char *hb_denied_ioctl_name(unsigned long long request);

struct hb_syscall_group {
	const char *name;     /* "@mount" */
	const char *syscalls; /* space-separated names and @groups */
	const char *doc;
};

extern const struct hb_syscall_group hb_syscall_groups[];
extern const size_t hb_n_syscall_groups;

/* blocked_operations = delete, chmod, ... */
struct hb_operation {
	const char *name;
	const char *syscalls;
	const char *doc;
};
extern const struct hb_operation hb_operations[];
extern const size_t hb_n_operations;

/* Check a name from a policy: a known group or a system call this
 * architecture has. */
bool hb_syscall_name_known(const char *name);
const struct hb_syscall_group *hb_syscall_group_find(const char *name);
const struct hb_operation *hb_operation_find(const char *name);
/* Is a call (or every call of a group) one that no policy may allow? */
bool hb_syscall_always_denied(const char *name);
/* Mark in set (HB_SYSCALL_NR_END entries) every call a space-separated
 * list of names and @groups names; calls this architecture lacks are
 * skipped. */
int hb_syscalls_mark(const char *list, bool *set);
/* The calls hb_always_denied names, as such a set. */
int hb_syscalls_always_denied(const bool **ret);

/* Every group, blocked operation and the always-denied set, for
 * `hivebox policy groups`. */
void hb_syscall_groups_print(FILE *out);

/* Resolve an errno name ("EPERM") to its number; -1 if unknown. */
int hb_errno_from_name(const char *name);
const char *hb_errno_name(int e);

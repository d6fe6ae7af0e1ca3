/* SPDX-License-Identifier: MIT */
/* The system-call policy: named groups, the calls no policy may allow, the
 * mapping of blocked_operations, and the libseccomp filter built from
 * them in the launcher and exported as BPF for the sandbox to load last. */
#pragma once

#include "util.h"

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct hb_policy;

/* One past the highest system-call number the filter and the supervisor's
 * counts have a slot for: above every x86_64 call. */
#define HB_SYSCALL_NR_END 512

/* The groups no policy may allow (syscall_groups.c). */
extern const char hb_always_denied[];

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

struct hb_filter {
	struct sock_filter *prog; /* exported BPF */
	unsigned short len;
	int deny_errno;	   /* what a denied call returns */
	bool kill;	   /* on_violation = kill: SIGSYS instead */
	bool default_deny; /* an allow-list */
};

/* Build the filter for the policy.  exec_arg0 is the address of the
 * interpreter's path in the sandbox init's memory: under an allow-list,
 * that one execve is allowed and any other is denied. */
int hb_filter_build(const struct hb_policy *p, uintptr_t exec_arg0,
		    struct hb_filter *ret, struct hb_diag *diag);
void hb_filter_free(struct hb_filter *f);
void hb_filter_print(const struct hb_policy *p, const struct hb_filter *f,
		     FILE *out);

/* Every group, blocked operation and the always-denied set, for
 * `hivebox policy groups`. */
void hb_syscall_groups_print(FILE *out);

/* Resolve an errno name ("EPERM") to its number; -1 if unknown. */
int hb_errno_from_name(const char *name);
const char *hb_errno_name(int e);

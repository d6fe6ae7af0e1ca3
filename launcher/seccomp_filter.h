/* SPDX-License-Identifier: MIT */
/* The system-call filter: built with libseccomp in the launcher from the
 * policy and the names of seccomp_names.h, and exported as BPF for the
 * sandbox to load last. */
#pragma once

#include "seccomp_names.h"
#include "util.h"

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct hb_policy;

struct hb_filter {
	struct sock_filter *prog; /* exported BPF */
	unsigned short len;
	int deny_errno;	   /* what a denied call returns */
	bool kill;	   /* on_violation = kill: SIGSYS instead */
	bool default_deny; /* an allow-list */
	/* The calls the filter sends to the supervisor whatever their
	 * arguments: denied by the policy (or by hivebox) as a whole.  The
	 * supervisor tells by it a guarded call (seccomp_guard.h) that the
	 * policy allows, notified to be looked at, from a denied one. */
	bool whole[HB_SYSCALL_NR_END];
};

/* Build the filter for the policy.  exec_arg0 is the address of the
 * interpreter's path in the sandbox init's memory: under an allow-list,
 * that one execve is allowed and any other is denied. */
int hb_filter_build(const struct hb_policy *p, uintptr_t exec_arg0,
		    struct hb_filter *ret, struct hb_diag *diag);
void hb_filter_free(struct hb_filter *f);
void hb_filter_print(const struct hb_policy *p, const struct hb_filter *f,
		     FILE *out);

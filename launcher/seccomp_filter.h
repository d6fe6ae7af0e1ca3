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

/* Everything the compiler reads, resolved from the policy: the BPF is a
 * function of this, of exec_arg0, of hivebox's own tables (its build) and
 * of libseccomp.  The filter cache's key is a serialisation of this same
 * struct, so that an input the compiler gains is an input of the key.
 * Only the fields the mode uses are set: two policies that compile alike
 * share a key. */
struct hb_filter_input {
	bool default_deny;     /* an allow-list */
	bool inet;	       /* mode = filtered: IP sockets allowed */
	bool truncate_blocked; /* opening with O_TRUNC is truncating */
	bool own_terminal;     /* hivebox shell: the own_pty ioctls allowed */
	bool allow[HB_SYSCALL_NR_END];	 /* allow-list only */
	bool denied[HB_SYSCALL_NR_END];	 /* always denied, and deny = */
	bool blocked[HB_SYSCALL_NR_END]; /* by blocked_operations */
	bool newer[HB_SYSCALL_NR_END];	 /* deny-list: newer than libseccomp */
};

struct hb_filter {
	struct sock_filter *prog; /* exported BPF */
	unsigned short len;
	int deny_errno;	   /* what a denied call returns */
	bool kill;	   /* on_violation = kill: SIGSYS instead */
	bool default_deny; /* an allow-list */
	bool cached;	   /* read from the filter cache, not compiled */
	/* The calls the filter sends to the supervisor whatever their
	 * arguments: denied by the policy (or by hivebox) as a whole.  The
	 * supervisor tells by it a guarded call (seccomp_guard.h) that the
	 * policy allows, notified to be looked at, from a denied one. */
	bool whole[HB_SYSCALL_NR_END];
};

/* Build the filter for the policy.  exec_arg0 is the address of the
 * interpreter's path in the sandbox init's memory: under an allow-list,
 * that one execve is allowed and any other is denied. */
/* own_terminal: for hivebox shell, whose only terminal is its own pty
 * (hb_ioctl.own_pty). */
int hb_filter_build(const struct hb_policy *p, uintptr_t exec_arg0,
		    bool own_terminal, struct hb_filter *ret,
		    struct hb_diag *diag);
/* The same, through the cache in the directory open at cache_dir (-1:
 * none): a filter found there, valid, is used instead of compiling; one
 * compiled is stored.  Any trouble with the cache means compiling, never
 * failing: the cache can only save time. */
int hb_filter_build_cached(const struct hb_policy *p, uintptr_t exec_arg0,
			   bool own_terminal, int cache_dir,
			   struct hb_filter *ret, struct hb_diag *diag);
/* The compiler's input for the policy; diag names a policy that cannot
 * start its interpreter. */
int hb_filter_input_of(const struct hb_policy *p, struct hb_filter_input *ret,
		       struct hb_diag *diag);
/* The BPF for in, malloc'ed into *ret_prog. */
int hb_filter_compile(const struct hb_filter_input *in, uintptr_t exec_arg0,
		      struct sock_filter **ret_prog, unsigned short *ret_len);
/* The calls an allow-list lets through only by their arguments (ioctl
 * but the denied requests, prctl but PR_SET_SECCOMP, clone without
 * namespace flags, socket and socketpair of the allowed families,
 * personality queries, the interpreter's execve, never clone3). */
bool hb_filter_by_args(int nr);
/* Their rules, for those of them allow says, added to the libseccomp
 * context ctx (execve's only for a NULL path: clear it in allow to have
 * none); a call they do not let through falls to ctx's default.  inet:
 * IP sockets too.  For hivebox learn, whose job's filter is not this
 * compiler's. */
int hb_filter_allow_by_args(void *ctx, const bool *allow, bool inet);
void hb_filter_free(struct hb_filter *f);
void hb_filter_print(const struct hb_policy *p, const struct hb_filter *f,
		     FILE *out);

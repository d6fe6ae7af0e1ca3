/* SPDX-License-Identifier: MIT */
/* Between the parts of hivebox learn: the observing sandbox
 * (learn_sandbox.c), what the supervisor makes of each notification
 * (learn_watch.c) and the verb itself (learn.c). */
#pragma once

#include "learn.h"
#include "net_pool.h"

#include <linux/seccomp.h>
#include <stdint.h>
#include <sys/types.h>

/* A host mount seen read-only in the observing sandbox, opened before
 * the sandbox's own mounts hide it. */
struct hb_learn_mount {
	char *path;
	int fd; /* O_PATH */
	bool dir;
};

/* What the sandbox init and the job need; filled by the launcher before
 * the clone, read by the init after it (a copy of the same memory). */
struct hb_learn_box {
	char **argv; /* interpreter, script, args */
	char **envp;
	char *cwd;
	uid_t uid;    /* the script's owner: the job runs as it, but */
	gid_t gid;    /* root's (uid or gid 0): one of hivebox's range */
	int uid_lock; /* holds that uid of the range (ids.h), or -1 */
	struct hb_learn_mount *mounts;
	size_t n_mounts;
	int sock;  /* the init sends the job's listener on it */
	int go_fd; /* with a network: a byte once the host side is up */
	bool network;
	struct hb_net_pool_slot slot;
	struct hb_limits limits;
	bool allow[HB_SYSCALL_NR_END]; /* by the base, without notifying */
};

/* The host's mounts, each opened; the pseudo file systems the sandbox
 * makes afresh (/proc, /sys, /dev) are left out. */
int hb_learn_box_mounts(struct hb_learn_box *b);
void hb_learn_box_free(struct hb_learn_box *b);
/* The sandbox init, PID 1 of the new namespaces: the read-only view of
 * the host, then the job; exits with the job's status (128 + signal). */
_Noreturn void hb_learn_box_init(const struct hb_learn_box *b);
/* Is nr one the job's filter always sends to the supervisor? */
bool hb_learn_watched(int nr);

/* The supervisor's side: one notification recorded into o and answered
 * (CONTINUE, or the errno hivebox would answer).  base_allows: the
 * box's allow. */
void hb_learn_watch(struct hb_learn_obs *o, const bool *always_denied,
		    const bool *base_allows, const struct seccomp_notif *req,
		    struct seccomp_notif_resp *resp, int notify_fd);

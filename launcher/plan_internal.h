/* SPDX-License-Identifier: MIT */
/* Shared by the files of the plan: plan.c builds it, plan_host.c adds
 * the host's paths, plan_net.c the network part. */
#pragma once

#include "plan.h"

#include <sys/stat.h>

#define ATTR_SYSTEM (HB_ATTR_RDONLY | HB_ATTR_NOSUID | HB_ATTR_NODEV)
#define ATTR_RW (HB_ATTR_NOSUID | HB_ATTR_NODEV | HB_ATTR_NOEXEC)

/* A bind of the host inode fd stands for, st its fstat(); takes fd. */
int hb_plan_add_bind_fd(struct hb_plan *plan, int fd, const struct stat *st,
			const char *source, const char *target, unsigned attrs,
			const char *why);
/* Targets that the sandbox makes itself and a policy cannot replace. */
bool hb_plan_reserved(const char *target);
/* Is target visible through a directory bind already in the plan? */
bool hb_plan_covered(const struct hb_plan *plan, const char *target);
/* The policy's paths and the script, opened as the sandbox's host ids
 * (plan_host.c). */
int hb_plan_host_paths(struct hb_plan *plan, const struct hb_policy *p,
		       const struct hb_invocation *inv, struct hb_diag *diag);

/* Add a file holding data, created in the root tmpfs, at target. */
int hb_plan_add_file(struct hb_plan *plan, const char *target, const char *data,
		     const char *why);

/* mode = filtered: resolve allowed_domains, parse the ports, and write
 * the names into /etc/hosts and, where allowed, a resolver. */
int hb_plan_network(struct hb_plan *plan, const struct hb_policy *p,
		    const struct hb_invocation *inv, struct hb_diag *diag);

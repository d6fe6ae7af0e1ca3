/* SPDX-License-Identifier: MIT */
/* Shared by the files of the plan: plan.c builds it, plan_net.c adds the
 * network part. */
#pragma once

#include "plan.h"

/* Add a file holding data, created in the root tmpfs, at target. */
int hb_plan_add_file(struct hb_plan *plan, const char *target, const char *data,
		     const char *why);

/* mode = filtered: resolve allowed_domains, parse the ports, and write
 * the names into /etc/hosts and, where allowed, a resolver. */
int hb_plan_network(struct hb_plan *plan, const struct hb_policy *p,
		    const struct hb_invocation *inv, struct hb_diag *diag);

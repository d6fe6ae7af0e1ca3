/* SPDX-License-Identifier: MIT */
/* Carry out the plan's mounts inside the new mount namespace and pivot
 * into the new root.  Runs in the sandbox init, before privileges go. */
#pragma once

#include "error.h"
#include "plan.h"

/* Clone every host source into a detached tree, while the init still
 * has the caller's identity: a source below a directory that only the
 * caller may enter (a job in /root, a clone in a 0700 dir) is reached as
 * the caller reaches it.  ret_trees holds one descriptor per mount (-1 for
 * non-binds).  On failure e names the source, in HB_STAGE_MOUNTS. */
int hb_mounts_open_sources(const struct hb_plan *plan, int **ret_trees,
			   struct hb_error *e);
void hb_mounts_close_sources(const struct hb_plan *plan, int *trees);

/* Build the new root from the trees and pivot into it.  On failure returns
 * -errno and e names the target that failed, in HB_STAGE_MOUNTS. */
int hb_mounts_apply(const struct hb_plan *plan, const int *trees,
		    struct hb_error *e);

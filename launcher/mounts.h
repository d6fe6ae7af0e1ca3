/* SPDX-License-Identifier: MIT */
/* Carry out the plan's mounts inside the new mount namespace and pivot
 * into the new root.  Runs in the sandbox init, before privileges go. */
#pragma once

#include "plan.h"

/* Clone every host source into a detached tree, while the init still
 * has the caller's identity: a source below a directory that only the
 * caller may enter (a job in /root, a clone in a 0700 dir) is reached as
 * the caller reaches it.  ret_trees holds one descriptor per mount (-1 for
 * non-binds). */
int hb_mounts_open_sources(const struct hb_plan *plan, int **ret_trees,
			   const char **ret_what);
void hb_mounts_close_sources(const struct hb_plan *plan, int *trees);

/* Build the new root from the trees and pivot into it.  On failure returns
 * -errno and points *ret_what at the target that failed, for the stage
 * report. */
int hb_mounts_apply(const struct hb_plan *plan, const int *trees,
		    const char **ret_what);

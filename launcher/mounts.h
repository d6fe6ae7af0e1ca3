/* SPDX-License-Identifier: MIT */
/* Carry out the plan's mounts inside the new mount namespace and pivot
 * into the new root.  Runs in the sandbox init, before privileges go. */
#pragma once

#include "error.h"
#include "plan.h"

/* Clone every host source into a detached tree with the plan's
 * attributes; ret_trees holds one descriptor per mount (-1 for non-binds).
 * What is cloned is the inode the plan opened and checked: the kernel
 * clones only mounts of the caller's mount namespace, so, started as
 * root, the launcher calls this before the clone, in the host's
 * namespace, on the plan's own descriptors, and hands the trees to the
 * init; unprivileged, the init calls it in its own namespace, where each
 * source is opened again without following a symlink and must be the
 * inode the plan checked.  On failure e names the source, in
 * HB_STAGE_MOUNTS. */
int hb_mounts_open_sources(const struct hb_plan *plan, int **ret_trees,
			   struct hb_error *e);
void hb_mounts_close_sources(const struct hb_plan *plan, int *trees);

/* Make every mount of the init's namespace private, build the new root
 * from the trees and pivot into it.  On failure returns
 * -errno and e names the target that failed, in HB_STAGE_MOUNTS. */
int hb_mounts_apply(const struct hb_plan *plan, const int *trees,
		    struct hb_error *e);

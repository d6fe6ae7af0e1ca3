/* SPDX-License-Identifier: MIT */
/* Carry out the plan's mounts inside the new mount namespace and pivot
 * into the new root.  Runs in the sandbox init, before privileges go. */
#pragma once

#include "error.h"
#include "plan.h"

/* Started as root, when the run starts and before its start record:
 * clone every host source, in the host's mount namespace (the kernel
 * clones only mounts of the caller's), from the descriptor the plan
 * opened and checked, into a detached tree with the plan's attributes,
 * and idmap each listed path and the script to its owner (one user
 * namespace per owner and group, hb_ids_userns()).  ret_trees holds one
 * descriptor per mount (-1 for non-binds), for the init to inherit.  A
 * tree that cannot be idmapped (a file system without support, an
 * idmapped mount below a listed directory) refuses the run: diag names
 * the path, where it was listed, and the mount that refused. */
int hb_mounts_prepare(const struct hb_plan *plan, int **ret_trees,
		      struct hb_diag *diag);
/* Started unprivileged, the init clones every host source in its own
 * mount namespace: each is opened again without following a symlink and
 * must be the inode the plan checked.  On failure e names the source, in
 * HB_STAGE_MOUNTS. */
int hb_mounts_open_sources(const struct hb_plan *plan, int **ret_trees,
			   struct hb_error *e);
void hb_mounts_close_sources(const struct hb_plan *plan, int *trees);

/* Make every mount of the init's namespace private, build the new root
 * from the trees and pivot into it.  On failure returns
 * -errno and e names the target that failed, in HB_STAGE_MOUNTS. */
int hb_mounts_apply(const struct hb_plan *plan, const int *trees,
		    struct hb_error *e);
/* In a new procfs mounted on /proc: what in it writes to the kernel,
 * read-only; what describes the host and no job needs, masked with
 * /dev/null (which must exist).  Also used by hivebox learn. */
int hb_mounts_protect_proc(void);

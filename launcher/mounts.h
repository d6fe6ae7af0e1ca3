/* SPDX-License-Identifier: MIT */
/* Carry out the plan's mounts inside the new mount namespace and pivot
 * into the new root.  Runs in the sandbox init, before privileges go. */
#pragma once

#include "plan.h"

/* On failure returns -errno and points *ret_what at the target that
 * failed, for the stage report. */
int hb_mounts_apply(const struct hb_plan *plan, const char **ret_what);

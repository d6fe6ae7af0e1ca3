/* SPDX-License-Identifier: MIT */
/* The supervisor: clones the sandbox init into new namespaces, writes its
 * id maps, then waits on one poll loop for the init's exit, signals to
 * forward, the wall-clock timer and the init's reports. */
#pragma once

#include "events.h"
#include "plan.h"
#include "result.h"

/* Run the plan; events receives events and samples (never NULL).
 * Started as root, trees are the sources hb_mounts_prepare() cloned, one
 * per mount, which the init inherits; the supervisor takes them and
 * closes them once the init is cloned.  NULL unprivileged, where the
 * init clones them itself. */
int hb_supervise(const struct hb_plan *plan, int *trees,
		 struct hb_events *events, struct hb_result *ret);

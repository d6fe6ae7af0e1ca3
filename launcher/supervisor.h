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
/* What the caller does while the init builds the sandbox: the start
 * record, made durable in parallel with the mounts, before the init may
 * start the script.  A failure (< 0) ends the run before the script's
 * first instruction: the init is killed and hb_supervise() returns
 * -ECANCELED, with nothing in ret. */
struct hb_start_hook {
	int (*fn)(void *arg);
	void *arg;
};

/* A shell (plan->shell) runs on a pty of its own, relayed to the
 * caller's terminal; record_fd, -1 or the transcript's file, is taken. */
int hb_supervise(const struct hb_plan *plan, int *trees,
		 struct hb_events *events, const struct hb_start_hook *hook,
		 int record_fd, struct hb_result *ret);

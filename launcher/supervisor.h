/* SPDX-License-Identifier: MIT */
/* The supervisor: clones the sandbox init into new namespaces, writes its
 * id maps, then waits on one poll loop for the init's exit, signals to
 * forward, the wall-clock timer and the init's reports. */
#pragma once

#include "events.h"
#include "plan.h"
#include "result.h"

/* Run the plan; events receives events and samples (never NULL). */
int hb_supervise(const struct hb_plan *plan, struct hb_events *events,
		 struct hb_result *ret);

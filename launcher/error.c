/* SPDX-License-Identifier: MIT */
#include "error.h"

#include <stdarg.h>
#include <string.h>

static const char *const stage_names[HB_STAGE_MAX] = {
	[HB_STAGE_SIGNALS] = "set up signals and timers",
	[HB_STAGE_NET_HOST] = "set up the host side of the network",
	[HB_STAGE_CLONE] = "create the namespaces",
	[HB_STAGE_ID_MAPS] = "write the id maps",
	[HB_STAGE_SUPERVISE] = "supervise the sandbox",
	[HB_STAGE_IDS] = "switch to the mapped ids",
	[HB_STAGE_HOSTNAME] = "set the hostname",
	[HB_STAGE_LOOPBACK] = "bring the loopback interface up",
	[HB_STAGE_NETWORK] = "set up the network",
	[HB_STAGE_IPC] = "bound the IPC namespace",
	[HB_STAGE_MOUNTS] = "build the root file system",
	[HB_STAGE_PRIVILEGES] = "drop privileges",
	[HB_STAGE_FORK] = "fork the interpreter",
	[HB_STAGE_RLIMITS] = "set rlimits",
	[HB_STAGE_CHDIR] = "enter the start directory",
	[HB_STAGE_SECCOMP] = "load the system-call filter",
	[HB_STAGE_EXEC] = "execute the interpreter",
};

const char *hb_stage_name(enum hb_stage stage)
{
	return stage < HB_STAGE_MAX ? stage_names[stage] : "?";
}

int hb_error_set(struct hb_error *e, enum hb_stage stage, int err,
		 const char *fmt, ...)
{
	va_list ap;

	e->stage = (int)stage;
	e->err = err;
	va_start(ap, fmt);
	vsnprintf(e->what, sizeof(e->what), fmt, ap);
	va_end(ap);
	return -err;
}

int hb_error_wrap(struct hb_error *e, const char *fmt, ...)
{
	char was[sizeof(e->what)];
	va_list ap;
	size_t n;

	memcpy(was, e->what, sizeof(was));
	va_start(ap, fmt);
	vsnprintf(e->what, sizeof(e->what), fmt, ap);
	va_end(ap);
	n = strlen(e->what);
	/* Cut, not lost, where the two do not fit. */
	if (was[0] && n + 2 < sizeof(e->what))
		snprintf(e->what + n, sizeof(e->what) - n, ": %s", was);
	return -e->err;
}

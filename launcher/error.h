/* SPDX-License-Identifier: MIT */
/* One runtime failure: the stage it happened in, its errno and what it
 * was about, with context added on the way up (crun's libcrun_error_t and
 * crun_error_wrap()).  The supervisor, the host side of the network, the
 * mounts and the sandbox init raise it; the init's report carries it to
 * the supervisor, the result carries it to main, which alone prints it:
 * "sandbox setup failed at 'STAGE' on WHAT: strerror(err)". */
#pragma once

#include "util.h"

enum hb_stage {
	/* The supervisor's own, on the host. */
	HB_STAGE_SIGNALS,
	HB_STAGE_NET_HOST,
	HB_STAGE_CLONE,
	HB_STAGE_ID_MAPS,
	HB_STAGE_SUPERVISE,
	/* The sandbox init's, inside its new namespaces. */
	HB_STAGE_IDS,
	HB_STAGE_HOSTNAME,
	HB_STAGE_LOOPBACK,
	HB_STAGE_NETWORK,
	HB_STAGE_IPC,
	HB_STAGE_MOUNTS,
	HB_STAGE_PRIVILEGES,
	HB_STAGE_FORK,
	HB_STAGE_RLIMITS,
	HB_STAGE_CHDIR,
	HB_STAGE_SECCOMP,
	HB_STAGE_EXEC,
	HB_STAGE_MAX,
};

/* Plain data of fixed size: the init sends it to the supervisor as it
 * is. */
struct hb_error {
	int stage; /* enum hb_stage */
	int err;   /* errno */
	char what[256];
};

/* Fill e (err is a positive errno); returns -err, so that a caller can
 * write "return hb_error_set(e, ...);". */
int hb_error_set(struct hb_error *e, enum hb_stage stage, int err,
		 const char *fmt, ...) _printf_(4, 5);
/* Put "context: " before what e says; returns -e->err. */
int hb_error_wrap(struct hb_error *e, const char *fmt, ...) _printf_(2, 3);

const char *hb_stage_name(enum hb_stage stage);

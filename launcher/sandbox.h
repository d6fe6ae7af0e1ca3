/* SPDX-License-Identifier: MIT */
/* The sandbox init: PID 1 of the new PID namespace.  It builds the root,
 * drops every privilege, forks the interpreter, reaps, and reports to the
 * supervisor over a SOCK_SEQPACKET socket. */
#pragma once

#include "error.h"
#include "net_pool.h"
#include "plan.h"

#include <stdint.h>

enum hb_msg_type {
	HB_MSG_SETUP_FAILED = 1, /* error */
	HB_MSG_EXEC_FAILED,	 /* error: HB_STAGE_EXEC, the interpreter */
	HB_MSG_EXITED,		 /* status, cpu_ms, written */
	HB_MSG_READY,		 /* the new root is in place */
	HB_MSG_LISTENER,	 /* the seccomp listener, in SCM_RIGHTS */
	HB_MSG_IPC_FILE, /* status: an enum hb_ipc_file, its fd in SCM_RIGHTS */
};

struct hb_msg {
	int32_t type;
	int32_t status;
	/* What the kernel counted: the interpreter's CPU time as RLIMIT_CPU
	 * counts it (CPUCLOCK_PROF), read before it was reaped, and the
	 * bytes that every process of the sandbox wrote (wchar). */
	uint64_t cpu_ms, written;
	/* The threads of the sandbox (the init's aside) when the interpreter
	 * ended, before the rest were killed: RLIMIT_NPROC counts those. */
	uint64_t tasks;
	struct hb_error error;
};

/* Never returns.  trees are the sources the launcher cloned, started as
 * root (hb_mounts_prepare()), NULL unprivileged: the init clones them
 * itself then.  sock is the init's end of the report socket; slot is the
 * filtered network's addresses, NULL without one. */
_Noreturn void hb_sandbox_main(const struct hb_plan *plan, int *trees,
			       const struct hb_net_pool_slot *slot, int sock);

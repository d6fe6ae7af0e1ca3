/* SPDX-License-Identifier: MIT */
/* The guarded calls: calls a policy may allow, but only with some
 * arguments, whatever it says.  No privilege can be planted: no setuid or
 * setgid file, no device node and no file capability, on any mount (on an
 * idmapped mount the sandbox acts as the path's owner, who may be root,
 * and what it leaves there outlives the run).  And no other process's
 * resource limits are changed.  And a large request for address space is
 * weighed against the backstop (RLIMIT_AS) before the kernel refuses it,
 * so that a run it stops ends as memory_limit.  One table, read by the filter
 * (seccomp_filter.c), which sends the suspect calls to the supervisor,
 * and by the supervisor (seccomp_notify.c), which judges them with the
 * functions below: the two cannot disagree on what a route is. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* x86_64 numbers of calls that this libseccomp may not know by name. */
#define HB_NR_OPENAT2 437
#define HB_NR_FCHMODAT2 452
#define HB_NR_SETXATTRAT 463

/* The mode bits that carry a privilege. */
#define HB_PLANT_MODE_BITS 06000 /* S_ISUID | S_ISGID */
/* The open flags with which the mode is used: O_CREAT, and O_TMPFILE's
 * own bit (O_TMPFILE includes O_DIRECTORY), whose file is linked in
 * later with the mode it was opened with. */
#define HB_OPEN_CREATE_BITS (0100 | 020000000)

/* mmap and mremap asking for more than this go to the supervisor, which
 * compares the process's address space and the request with RLIMIT_AS.
 * Python asks for this much only for one large object, or for a new
 * thread's malloc arena (128 MiB of reserve), so the round trip (tens of
 * microseconds) is rare, and small beside touching the memory.  A request
 * this size or smaller fails at the backstop unseen only when the process
 * already holds more than RLIMIT_AS less this, which
 * hb_plan_backstop_bytes() keeps at least 960 MiB above memory_mb. */
#define HB_GUARD_ASK_BYTES (64ULL << 20)

enum hb_guard_kind {
	HB_GUARD_MODE,	 /* chmod, fchmod, fchmodat(2), creat: arg, the mode */
	HB_GUARD_CREATE, /* open, openat: arg, the mode; arg2, the flags */
	HB_GUARD_NODE,	 /* mknod, mknodat: arg, the mode (and type) */
	HB_GUARD_WHITEOUT, /* renameat2: arg, the flags (RENAME_WHITEOUT) */
	HB_GUARD_XATTR,	   /* the setxattr family: arg, the name (memory) */
	HB_GUARD_OPEN_HOW, /* openat2: arg, its struct open_how (memory) */
	HB_GUARD_PRLIMIT,  /* prlimit64: arg, the pid; arg2, the new limits */
	HB_GUARD_SIZE,	   /* mmap, mremap: arg, the length asked for */
};

struct hb_guard {
	int nr;
	const char *name;
	enum hb_guard_kind kind;
	signed char arg, arg2; /* argument indexes; -1 for none */
};

extern const struct hb_guard hb_guards[];
extern const size_t hb_n_guards;

/* The guard of call nr, or NULL. */
const struct hb_guard *hb_guard_find(int nr);
/* What a call would plant, judged on its registers alone: "a setuid
 * file", "a character device", ...; NULL if nothing, and always for the
 * kinds whose arguments are in memory. */
const char *hb_guard_plant(const struct hb_guard *g,
			   const unsigned long long args[6]);
/* The same for openat2's struct open_how. */
const char *hb_guard_plant_open_how(uint64_t flags, uint64_t mode);
/* The same for an extended attribute's name (NULL: unread). */
const char *hb_guard_plant_xattr(const char *name);
/* The mode a call of kind MODE, CREATE or NODE passes, as the kernel
 * reads it (a umode_t: the low 16 bits). */
unsigned hb_guard_mode(const struct hb_guard *g,
		       const unsigned long long args[6]);

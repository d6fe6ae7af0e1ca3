/* SPDX-License-Identifier: MIT */
#include "seccomp_guard.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

_Static_assert(HB_PLANT_MODE_BITS == (S_ISUID | S_ISGID), "mode bits");
_Static_assert(HB_OPEN_CREATE_BITS == (O_CREAT | (O_TMPFILE & ~O_DIRECTORY)),
	       "create flags");
_Static_assert(HB_NR_OPENAT2 == SYS_openat2, "openat2");
#ifdef SYS_fchmodat2
_Static_assert(HB_NR_FCHMODAT2 == SYS_fchmodat2, "fchmodat2");
#endif
#ifdef SYS_setxattrat
_Static_assert(HB_NR_SETXATTRAT == SYS_setxattrat, "setxattrat");
#endif

const struct hb_guard hb_guards[] = {
	{SYS_chmod, "chmod", HB_GUARD_MODE, 1, -1},
	{SYS_fchmod, "fchmod", HB_GUARD_MODE, 1, -1},
	{SYS_fchmodat, "fchmodat", HB_GUARD_MODE, 2, -1},
	{HB_NR_FCHMODAT2, "fchmodat2", HB_GUARD_MODE, 2, -1},
	{SYS_creat, "creat", HB_GUARD_MODE, 1, -1},
	{SYS_open, "open", HB_GUARD_CREATE, 2, 1},
	{SYS_openat, "openat", HB_GUARD_CREATE, 3, 2},
	{SYS_mknod, "mknod", HB_GUARD_NODE, 1, -1},
	{SYS_mknodat, "mknodat", HB_GUARD_NODE, 2, -1},
	{SYS_renameat2, "renameat2", HB_GUARD_WHITEOUT, 4, -1},
	{SYS_setxattr, "setxattr", HB_GUARD_XATTR, 1, -1},
	{SYS_lsetxattr, "lsetxattr", HB_GUARD_XATTR, 1, -1},
	{SYS_fsetxattr, "fsetxattr", HB_GUARD_XATTR, 1, -1},
	{HB_NR_SETXATTRAT, "setxattrat", HB_GUARD_XATTR, 3, -1},
	{HB_NR_OPENAT2, "openat2", HB_GUARD_OPEN_HOW, 2, 3},
	{SYS_prlimit64, "prlimit64", HB_GUARD_PRLIMIT, 0, 2},
	{SYS_mmap, "mmap", HB_GUARD_SIZE, 1, -1},
	{SYS_mremap, "mremap", HB_GUARD_SIZE, 2, -1},
};
const size_t hb_n_guards = ARRAY_SIZE(hb_guards);

const struct hb_guard *hb_guard_find(int nr)
{
	for (size_t i = 0; i < hb_n_guards; i++)
		if (hb_guards[i].nr == nr)
			return &hb_guards[i];
	return NULL;
}

static const char *plant_bits(uint64_t mode)
{
	switch (mode & HB_PLANT_MODE_BITS) {
	case S_ISUID:
		return "a setuid file";
	case S_ISGID:
		return "a setgid file";
	case S_ISUID | S_ISGID:
		return "a setuid and setgid file";
	default:
		return NULL;
	}
}

unsigned hb_guard_mode(const struct hb_guard *g,
		       const unsigned long long args[6])
{
	return g->arg >= 0 ? (unsigned)(args[g->arg] & 0xffff) : 0;
}

/* mknod: a device of either kind (a whiteout, 0:0, included: the
 * kernel lets anyone make one), or the bits with any type.  A FIFO or a
 * socket carries no privilege: os.mkfifo() works as it does bare. */
static const char *plant_node(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	default:
		return plant_bits(mode);
	}
}

const char *hb_guard_plant(const struct hb_guard *g,
			   const unsigned long long args[6])
{
	switch (g->kind) {
	case HB_GUARD_MODE:
		return plant_bits(hb_guard_mode(g, args));
	case HB_GUARD_CREATE:
		return args[g->arg2] & HB_OPEN_CREATE_BITS
			       ? plant_bits(hb_guard_mode(g, args))
			       : NULL;
	case HB_GUARD_NODE:
		return plant_node(hb_guard_mode(g, args));
	case HB_GUARD_WHITEOUT:
		/* A whiteout is a 0:0 character device. */
		return args[g->arg] & RENAME_WHITEOUT
			       ? "a whiteout (a character device)"
			       : NULL;
	default:
		return NULL;
	}
}

const char *hb_guard_plant_open_how(uint64_t flags, uint64_t mode)
{
	return flags & HB_OPEN_CREATE_BITS ? plant_bits(mode) : NULL;
}

const char *hb_guard_plant_xattr(const char *name)
{
	/* The kernel compares the name as it is (XATTR_NAME_CAPS). */
	return name && strcmp(name, "security.capability") == 0
		       ? "a file capability"
		       : NULL;
}

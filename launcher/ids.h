/* SPDX-License-Identifier: MIT */
/* The sandbox's identity on the host, started as root.  Its processes run
 * as a host uid of their own, taken when the run starts under a lock, so
 * that no two runs that are alive at once share one.  On every path the
 * policy lists, and on the script, it acts as that path's owner: each is
 * an idmapped mount whose user namespace maps the owner's uid and gid to
 * the sandbox's host uid and gid. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* One byte of the lock file (hivebox.conf [identity] uid_lock, by default
 * HB_CONFIG_UID_LOCK_DEFAULT) per uid of the range: a run holds an OFD
 * lock on its uid's byte for as long as it lives, and the kernel drops
 * the lock when the last descriptor of it goes, however the run ends.  So
 * there is no state to clean after a crash, and no file per uid. */

/* Take a free index below range, the first one at or after start
 * (modulo range) that no other open file description of lock_path holds:
 * a write lock on byte index, held by the returned descriptor (O_CLOEXEC;
 * closing it gives the index back).  The directory of lock_path, and any
 * missing parent, is created 0700; it must be the caller's and writable
 * by neither group nor others (-EPERM), as must the lock file, a regular
 * file.  -EUSERS when every index is held. */
int hb_ids_acquire(const char *lock_path, unsigned range, unsigned start,
		   unsigned *ret_index);

/* The mode bits a listed path needs its owner to have: R_OK (read_only,
 * the script) or W_OK (read_write), and X_OK with either for a
 * directory, which must be entered. */
int hb_ids_needs(bool is_dir, bool write);
/* Whether uid and gid could do mask (R_OK, W_OK, X_OK) on a file of st by
 * its mode bits alone, as a process without capabilities: the owner's
 * bits if uid owns it, else the group's if gid is its group, else the
 * others'. */
bool hb_ids_may(const struct stat *st, uid_t uid, gid_t gid, int mask);
/* "u+rx" and the like: the owner bits of mask that mode lacks, written
 * for chmod into buf (at least 8 bytes). */
const char *hb_ids_chmod_text(mode_t mode, int mask, char *buf, size_t n);

/* Who besides root could have changed the way to a path: a user who can
 * rename entries in a directory on it can put another tree at the path
 * while hivebox opens it, and the sandbox would act on that tree as its
 * owner.  Found while the path is opened one component at a time. */
struct hb_ids_way {
	uid_t changer;	   /* the one such user, or (uid_t)-1 for none */
	bool others;	   /* more than one could: a group, all, two owners */
	char at[PATH_MAX]; /* the directory that let changer or others in */
	mode_t mode;	   /* its mode */
};

/* Take one step of the way: looking up a name in the directory at
 * dir_path (stat dir) found entry.  Its owner could change it, and so
 * could its group and all where its mode lets them, but in a sticky
 * directory only the entry's owner may rename the entry. */
void hb_ids_way_step(struct hb_ids_way *w, const char *dir_path,
		     const struct stat *dir, const struct stat *entry);
/* Whether an inode of owner's found by that way is owner's to give: no
 * one but root and owner could have changed the way. */
bool hb_ids_way_trusted(const struct hb_ids_way *w, uid_t owner);
/* Open the absolute, normalised path abs with flags, one component at a
 * time from "/", following no symlink (hb_open_nofollow()), and describe
 * the way in ret_way.  The descriptor, or -errno. */
int hb_ids_open(const char *abs, int flags, struct hb_ids_way *ret_way);

/* A user namespace whose only ids are owner -> host_uid and group ->
 * host_gid: idmapped with it, a mount shows the owner's files as the
 * sandbox's own (kuid host_uid), and what the sandbox creates there gets
 * owner and group on disk.  Root only.  The namespace's descriptor, or
 * -errno.  It costs a short-lived child (clone with CLONE_NEWUSER and
 * CLONE_VM, which exits at once; its maps are written while it is a
 * zombie, then it is reaped). */
int hb_ids_userns(uid_t owner, gid_t group, uid_t host_uid, gid_t host_gid);

/* SPDX-License-Identifier: MIT */
/* What is mounted below a directory, read from /proc/self/mountinfo: a
 * policy directory is cloned with its submounts, so a host procfs, sysfs
 * or devpts mounted somewhere below it (a chroot's /proc, /run/netns)
 * would reach the sandbox with it. */
#pragma once

#include <limits.h>
#include <stddef.h>

/* "/proc", "/sys" or "/dev" if a file system of statfs() magic number
 * magic is one of the host's own there, else NULL. */
const char *hb_host_fs_by_magic(long magic);

/* Look through the mount table text for a mount strictly below dir that
 * is the host's own: a /proc, /sys or /dev file system by type, or the
 * host's root bound again.  0 with *ret_what NULL if there is none; 0
 * with *ret_what "/proc", "/sys", "/dev" or "/" and ret_at its mount
 * point otherwise; -errno if the table cannot be read. */
int hb_mountinfo_host_below(const char *table, const char *dir,
			    const char **ret_what, char ret_at[PATH_MAX]);
/* The file system type of the mount whose id (statx() STATX_MNT_ID) is
 * mnt_id, into type; -ENOENT if the table has no such mount. */
int hb_mountinfo_type(const char *table, unsigned long long mnt_id, char *type,
		      size_t n);
/* The nth mount (from 0, in table order) strictly below dir: its mount
 * point into ret_at and its type into type; -ENOENT past the last. */
int hb_mountinfo_below_nth(const char *table, const char *dir, size_t nth,
			   char ret_at[PATH_MAX], char *type, size_t n);
/* This process's /proc/self/mountinfo as text, malloc'ed; -errno. */
int hb_mountinfo_read(char **ret);

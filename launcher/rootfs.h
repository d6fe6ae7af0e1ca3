/* SPDX-License-Identifier: MIT */
/* What the minimal root is made of, generated at build time from the host
 * interpreter by scripts/gen-rootfs and compiled in, so that a run reads
 * no manifest file and nobody can edit it between build and run. */
#pragma once

#include <stddef.h>

enum hb_rootfs_kind {
	HB_ROOTFS_BIND,	   /* the host path, bound read-only at the same path */
	HB_ROOTFS_SYMLINK, /* a symlink recreated with the same text */
};

struct hb_rootfs_entry {
	enum hb_rootfs_kind kind;
	const char *path;
	const char *target; /* symlink text, NULL for a bind */
};

struct hb_manifest {
	const char *interpreter; /* as a policy names it */
	const char *realpath;	 /* what it resolves to on the build host */
	const struct hb_rootfs_entry *entries;
	size_t n_entries;
};

/* Skeleton /etc files, from rootfs/etc/. */
struct hb_etc_file {
	const char *path;
	const char *content;
};

extern const struct hb_manifest hb_manifests[];
extern const size_t hb_n_manifests;
extern const struct hb_etc_file hb_etc_files[];
extern const size_t hb_n_etc_files;

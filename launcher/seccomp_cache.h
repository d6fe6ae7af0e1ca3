/* SPDX-License-Identifier: MIT */
/* The filter cache: the BPF that libseccomp compiled for an input, kept
 * in a directory of root's (HB_CONFIG_FILTER_CACHE_DEFAULT, or [filters]
 * cache_dir of hivebox.conf), one file per key, so that a run compiles
 * only what no run before it compiled.  Only runs as root use it: the
 * machine's settings, where the directory is named, are read as root
 * only.
 *
 * The key is the SHA-256 of a text that spells out struct
 * hb_filter_input, the build ids of hivebox and of libseccomp,
 * libseccomp's version and API level, the native architecture and
 * hivebox's guard and ioctl tables.  A file is
 *
 *	struct hb_filter_cache_head, then len struct sock_filter
 *
 * and is used only if, on the descriptor opened: a regular file of
 * root's, written by no one else (no group or other write bit), its size
 * that of the header and len instructions, magic and key as expected and
 * the SHA-256 of the instructions the header's.  Anything else is a miss:
 * the filter is compiled and the file replaced (temporary file, then
 * rename).
 *
 * The interpreter's execve is allowed by the address of its path, which
 * differs per run.  The cache keeps the program compiled for
 * HB_FILTER_ARG0_PLACEHOLDER and each run writes its own address where
 * the placeholder's two halves are: the program is then, byte for byte,
 * the one libseccomp compiles for that address (a unit test holds it). */
#pragma once

#include "seccomp_filter.h"

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

#define HB_FILTER_KEY_BYTES 32
#define HB_FILTER_CACHE_MAGIC "HBBPF01\n"
/* No address the interpreter's path has: its halves, "HBXF" and "EXEC",
 * are no constant the filter compares with either. */
#define HB_FILTER_ARG0_PLACEHOLDER 0x4842584645584543ULL

struct hb_filter_cache_head {
	char magic[8];
	uint32_t len; /* instructions that follow */
	uint32_t zero;
	unsigned char key[HB_FILTER_KEY_BYTES];
	unsigned char sum[HB_FILTER_KEY_BYTES]; /* SHA-256 of them */
};

/* The text the key hashes, malloc'ed; -ENOENT when hivebox carries no
 * build id to tell its builds apart (then nothing is cached). */
int hb_filter_key_text(const struct hb_filter_input *in, char **ret);
int hb_filter_key(const struct hb_filter_input *in,
		  unsigned char ret[HB_FILTER_KEY_BYTES]);

/* The file's name for a key: 64 hex digits and ".bpf". */
#define HB_FILTER_CACHE_NAME_MAX (2 * HB_FILTER_KEY_BYTES + 5)
void hb_filter_cache_name(const unsigned char key[HB_FILTER_KEY_BYTES],
			  char ret[HB_FILTER_CACHE_NAME_MAX]);

/* The program stored under key in dir.  -ENOENT: none; -EPERM: not
 * root's alone, or not a regular file; -EBADMSG: not what it claims
 * (size, magic, key, checksum). */
int hb_filter_cache_load(int dir, const unsigned char key[HB_FILTER_KEY_BYTES],
			 struct sock_filter **ret_prog,
			 unsigned short *ret_len);
/* Store prog under key, replacing the file whole. */
int hb_filter_cache_store(int dir, const unsigned char key[HB_FILTER_KEY_BYTES],
			  const struct sock_filter *prog, unsigned short len);

/* Replace the address from by to in the comparisons of execve's first
 * argument: there must be exactly pairs of them (-EBADMSG otherwise),
 * and neither half of to may be a constant of the program already
 * (-EEXIST: libseccomp would have merged blocks); on error prog is left
 * as it was. */
int hb_filter_patch_arg0(struct sock_filter *prog, unsigned short len,
			 uint64_t from, uint64_t to, int pairs);

/* The program for in with exec_arg0, from the cache in dir if a valid
 * one is there (*ret_cached), else compiled and stored. */
int hb_filter_cache_get(int dir, const struct hb_filter_input *in,
			uintptr_t exec_arg0, struct sock_filter **ret_prog,
			unsigned short *ret_len, bool *ret_cached);

/* SPDX-License-Identifier: MIT */
/* Shared by the unit tests: INI text through fmemopen(), throw-away
 * directories, and output captured in memory. */
#pragma once

#include "plan.h"
#include "policy.h"

/* hb_policy_init(p), then parse text as "test.ini" into it. */
int parse_text(struct hb_policy *p, const char *text, struct hb_diag *d);
/* Parse text named name on top of p as it stands (no init). */
int parse_more(struct hb_policy *p, const char *text, const char *name,
	       struct hb_diag *d);

/* Parse text, validate it and build its system-call filter, the one
 * execve it allows being that of the path at exec_addr; fails the test
 * on any error. */
void filter_of_text(const char *text, uintptr_t exec_addr, struct hb_filter *f);

/* path, relative to the top of the repository, made absolute from
 * where the test binary is (build/), not from the caller's directory:
 * the suites may be started from anywhere.  malloc'ed. */
char *repo_path(const char *path);

/* A new directory under /tmp, absolute and free of symlinks. */
char *tmpdir_new(void);
/* rm -rf dir, then free it. */
void tmpdir_remove(char *dir);
/* dir/name, malloc'ed. */
char *path_join(const char *dir, const char *name);
/* Create dir/name holding text (a file) or a directory (text NULL). */
void make_file(const char *dir, const char *name, const char *text);
void make_dir(const char *dir, const char *name);
void make_symlink(const char *dir, const char *name, const char *target);

/* What hb_policy_show() / hb_diag_print() print, malloc'ed. */
char *policy_show_text(const struct hb_policy *p);
char *diag_print_text(const struct hb_diag *d);

/* Lift the append-only inode flag from every file below dir, so that it
 * can be rewritten or removed (root's audit logs carry the flag). */
void clear_append_only(const char *dir);
/* The whole of dir/name, malloc'ed; NULL if it cannot be read. */
char *read_text(const char *dir, const char *name);
/* Everything written to stderr (fd 2) between the two calls, malloc'ed. */
void stderr_capture_start(void);
char *stderr_capture_stop(void);

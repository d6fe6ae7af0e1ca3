/* SPDX-License-Identifier: MIT */
/* hivebox check: the static analyzer (scripts/hivebox-check) run by
 * hivebox itself, inside a sandbox of its own, on scripts it must not
 * trust.  Here are the pure parts: the analyzer's policy and argv, and the
 * risk levels its verdicts use. */
#pragma once

#include "policy.h"

#include <limits.h>
#include <stdbool.h>

/* The analyzer installed by `make install`; a binary in a build tree
 * uses the one in the tree's scripts/ instead. */
#ifndef HB_LIBEXECDIR
#define HB_LIBEXECDIR "/usr/local/libexec/hivebox"
#endif
#define HB_CHECK_ANALYZER "hivebox-check"

/* hivebox-check exits 0 when every file is below the gate, 1 when one
 * reaches it, 2 when it could not read a file. */
#define HB_CHECK_EXIT_BAD_FILE 2
/* The most of the analyzer's output the gate reads for one script. */
#define HB_CHECK_OUTPUT_MAX (4u << 20)

struct hb_check_req {
	const char *analyzer;		 /* absolute path of hivebox-check */
	const struct hb_policy *context; /* NULL: no policy to judge against */
	bool json;
	bool sha256;	      /* each object names the hash of what was read */
	enum hb_risk fail_at; /* exit 1 from this risk up */
	char *const *files;   /* files and directories, as the caller wrote */
	size_t n_files;
};

/* The policy the analyzer runs under, as INI text: the interpreter the
 * scripts will run with (the parser that will run them), no network,
 * nothing writable, the files and the analyzer read-only, tight limits.
 * cwd makes relative file names absolute. */
int hb_check_policy_text(const struct hb_check_req *req, const char *cwd,
			 char **ret_text);
/* The analyzer's own arguments: --json, --fail-at, the policy context
 * (--network, --ro, --rw, relative paths as the policy wrote them: the
 * sandbox starts in the same directory) and the files. */
int hb_check_args(const struct hb_check_req *req, struct hb_strv *ret);
/* hivebox itself running the analyzer: "hivebox --quiet [--audit-dir
 * DIR] --policy POLICY ANALYZER ARGS...", for execv("/proc/self/exe"). */
int hb_check_exec_argv(const struct hb_check_req *req, const char *audit_dir,
		       const char *policy_path, struct hb_strv *ret);
/* The analyzer's policy in a memfd, without close-on-exec: the hivebox
 * executed reads it as path, /proc/self/fd/N, and nothing on disk is
 * left to remove.  Returns the descriptor or -errno. */
int hb_check_policy_memfd(const char *text, char path[64]);
/* Run argv (hivebox itself) with stdin on /dev/null and stdout kept, up
 * to max bytes (more is -EFBIG); ret_status as waitpid() gives it. */
int hb_check_capture(char *const *argv, size_t max, char **ret_out,
		     int *ret_status);
/* Where the analyzer is: next to this binary's build tree, or installed
 * under HB_LIBEXECDIR.  -ENOENT if neither. */
int hb_check_find_analyzer(char ret[PATH_MAX]);
/* The name under which the analyzer sees path: path itself, or, where a
 * symlink is on its way, the path it resolves to (the sandbox binds what
 * is there, never a symlink). */
int hb_check_resolve(const char *cwd, const char *path, char **ret);
/* The longest absolute path a "read_only = " line of the policy reader
 * (199 characters) can hold. */
#define HB_CHECK_PATH_MAX 187
/* A file or directory given to check: it exists, and its name, made
 * absolute against cwd, can be written in a policy's list. */
int hb_check_file_ok(const char *cwd, const char *path, struct hb_diag *diag);

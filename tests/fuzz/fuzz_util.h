/* SPDX-License-Identifier: MIT */
/* Shared by the libFuzzer targets: one scratch directory per process,
 * files written into it, and a sink for reports nobody reads. */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* A directory of this process's own in $TMPDIR (or /tmp), absolute and
 * free of symlinks, removed with everything in it at exit.  Made on the
 * first call. */
const char *fuzz_tmpdir(void);

/* dirfd/name holds exactly len bytes of data afterwards; with data NULL
 * it is gone.  A failure is the harness's, not the input's: it aborts. */
void fuzz_put_file(int dirfd, const char *name, const void *data, size_t len);

/* /dev/null, open for writing, for the text the code under test prints;
 * stdout if HB_FUZZ_VERBOSE is set. */
FILE *fuzz_devnull(void);

/* An input broke a promise the code makes (not a crash, which the
 * sanitizers see): say which, on stderr even under -close_fd_mask=2, and
 * abort, so that libFuzzer keeps the input. */
void fuzz_fail(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

/* The harness itself cannot go on: say why (with errno) and abort. */
void fuzz_die(const char *what) __attribute__((noreturn));

/* SPDX-License-Identifier: MIT */
#include "fuzz_util.h"
#include "util.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

static char *tmpdir;
static int report_fd = 2;

/* Before main(): libFuzzer's -close_fd_mask=2 later closes stderr to
 * silence the code under test, and what the harness says must not be
 * silenced with it. */
__attribute__((constructor)) static void keep_stderr(void)
{
	int fd = fcntl(2, F_DUPFD_CLOEXEC, 3);

	if (fd >= 0)
		report_fd = fd;
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdprintf(report_fd, fmt, ap);
	va_end(ap);
	dprintf(report_fd, "\n");
	abort();
}

void fuzz_die(const char *what)
{
	fuzz_fail("fuzz harness: %s: %s", what, strerror(errno));
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

/* Run by exit(), which is how libFuzzer ends a bounded run; after a
 * crash it calls _exit() and the directory stays (scripts/fuzz gives
 * each run a TMPDIR of its own under build/fuzz/ and removes it). */
static void tmpdir_remove(void)
{
	nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(tmpdir);
	tmpdir = NULL;
}

const char *fuzz_tmpdir(void)
{
	const char *parent = getenv("TMPDIR");
	char tmpl[PATH_MAX], real[PATH_MAX];

	if (tmpdir)
		return tmpdir;
	if (!parent || !*parent)
		parent = "/tmp";
	if ((size_t)snprintf(tmpl, sizeof(tmpl), "%s/hivebox-fuzz-XXXXXX",
			     parent) >= sizeof(tmpl)) {
		errno = ENAMETOOLONG;
		fuzz_die(parent);
	}
	if (!mkdtemp(tmpl))
		fuzz_die(tmpl);
	if (!realpath(tmpl, real) || !(tmpdir = strdup(real)))
		fuzz_die(tmpl);
	if (atexit(tmpdir_remove) != 0)
		fuzz_die("atexit");
	return tmpdir;
}

void fuzz_put_file(int dirfd, const char *name, const void *data, size_t len)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (!data) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			fuzz_die(name);
		return;
	}
	fd = openat(dirfd, name,
		    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0)
		fuzz_die(name);
	r = hb_write_all(fd, data, len);
	if (r < 0) {
		errno = -r;
		fuzz_die(name);
	}
}

FILE *fuzz_devnull(void)
{
	static FILE *f;

	/* To see what an input makes the code print, when reproducing. */
	if (!f && getenv("HB_FUZZ_VERBOSE"))
		f = stdout;
	if (!f && !(f = fopen("/dev/null", "we")))
		fuzz_die("/dev/null");
	return f;
}

/* SPDX-License-Identifier: MIT */
#include "helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

int parse_more(struct hb_policy *p, const char *text, const char *name,
	       struct hb_diag *d)
{
	size_t len = strlen(text);
	FILE *f;
	int r;

	/* fmemopen() of an empty buffer is refused by some libcs; /dev/null
	 * is an empty stream as well. */
	f = len ? fmemopen((void *)text, len, "r") : fopen("/dev/null", "re");
	cr_assert_not_null(f, "cannot open the INI text: %s", strerror(errno));
	r = hb_policy_parse(p, f, name, 0, d);
	fclose(f);
	return r;
}

int parse_text(struct hb_policy *p, const char *text, struct hb_diag *d)
{
	hb_policy_init(p);
	return parse_more(p, text, "test.ini", d);
}

char *repo_path(const char *path)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	cr_assert_gt(n, 0, "/proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	/* .../build/unit-tests: two levels up is the repository. */
	for (int up = 0; up < 2; up++) {
		slash = strrchr(exe, '/');
		cr_assert_not_null(slash, "%s", exe);
		*slash = '\0';
	}
	return path_join(exe, path);
}

void filter_of_text(const char *text, uintptr_t exec_addr, struct hb_filter *f)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r = parse_text(&p, text, &d);

	if (r == 0)
		r = hb_policy_validate(&p, &d);
	if (r == 0)
		r = hb_filter_build(&p, exec_addr, false, f, &d);
	hb_policy_free(&p);
	cr_assert_eq(r, 0, "%s:%u: %s\nfor:\n%s", d.file, d.line, d.msg, text);
}

char *tmpdir_new(void)
{
	char tmpl[] = "/tmp/hb-unit-XXXXXX";
	char real[PATH_MAX];

	cr_assert_not_null(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
	cr_assert_not_null(realpath(tmpl, real));
	return strdup(real);
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

void tmpdir_remove(char *dir)
{
	if (!dir)
		return;
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

char *path_join(const char *dir, const char *name)
{
	char *s = NULL;

	cr_assert_geq(asprintf(&s, "%s/%s", dir, name), 0);
	return s;
}

void make_file(const char *dir, const char *name, const char *text)
{
	char *path = path_join(dir, name);
	FILE *f = fopen(path, "we");

	cr_assert_not_null(f, "cannot create %s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	free(path);
}

void make_dir(const char *dir, const char *name)
{
	char *path = path_join(dir, name);

	cr_assert_eq(mkdir(path, 0755), 0, "mkdir %s: %s", path,
		     strerror(errno));
	free(path);
}

void make_symlink(const char *dir, const char *name, const char *target)
{
	char *path = path_join(dir, name);

	cr_assert_eq(symlink(target, path), 0, "symlink %s: %s", path,
		     strerror(errno));
	free(path);
}

char *policy_show_text(const struct hb_policy *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	hb_policy_show(p, f);
	fclose(f);
	return buf;
}

char *diag_print_text(const struct hb_diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	hb_diag_print(d, f);
	fclose(f);
	return buf;
}

static int unflag_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	int fd, flags = 0;

	(void)ftw;
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_APPEND_FL)) {
		flags &= ~FS_APPEND_FL;
		(void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
	return 0;
}

void clear_append_only(const char *dir)
{
	if (dir)
		nftw(dir, unflag_one, 16, FTW_PHYS);
}

char *read_text(const char *dir, const char *name)
{
	char *path = path_join(dir, name);
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, len = 0;

	free(path);
	if (!f)
		return NULL;
	for (;;) {
		size_t n;
		if (cap - len < 4096) {
			char *more = realloc(buf, cap + 65536);
			cr_assert_not_null(more);
			buf = more;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static FILE *captured;
static int saved_stderr = -1;

void stderr_capture_start(void)
{
	fflush(stderr);
	captured = tmpfile();
	cr_assert_not_null(captured, "tmpfile: %s", strerror(errno));
	saved_stderr = dup(STDERR_FILENO);
	cr_assert_geq(saved_stderr, 0);
	cr_assert_geq(dup2(fileno(captured), STDERR_FILENO), 0);
}

char *stderr_capture_stop(void)
{
	char *buf;
	long len;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	len = ftell(captured);
	buf = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
	cr_assert_not_null(buf);
	rewind(captured);
	if (len > 0 && fread(buf, 1, (size_t)len, captured) != (size_t)len)
		buf[0] = '\0';
	fclose(captured);
	captured = NULL;
	return buf;
}

/* The tests play hivebox's part: its dispositions (SIGPIPE, SIGTSTP,
 * SIGTTIN and SIGTTOU ignored), set
 * in every process that runs a test, as main() sets them. */
__attribute__((constructor)) static void hivebox_signals(void)
{
	hb_signals_init();
}

/* SPDX-License-Identifier: MIT */
#include "helpers.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <string.h>
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

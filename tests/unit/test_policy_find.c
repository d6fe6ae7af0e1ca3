/* SPDX-License-Identifier: MIT */
/* policy_find.c: where a bare policy name is searched, in which order,
 * and what the error says.  Three throw-away directories stand for the
 * including file's, /etc/hivebox/policies and the shipped one. */
#include "helpers.h"
#include "policy.h"
#include "policy_explain.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *top, *near, *sys, *shipped;

static void dirs_setup(void)
{
	top = tmpdir_new();
	make_dir(top, "near");
	make_dir(top, "etc");
	make_dir(top, "share");
	near = path_join(top, "near");
	sys = path_join(top, "etc");
	shipped = path_join(top, "share");
}

static void dirs_teardown(void)
{
	free(near);
	free(sys);
	free(shipped);
	tmpdir_remove(top);
}

/* cppcheck-suppress unknownMacro */
TestSuite(policy_find, .init = dirs_setup, .fini = dirs_teardown);

/* A policy whose description says where it lies. */
static void policy_in(const char *dir, const char *name, const char *says)
{
	char text[256];

	snprintf(text, sizeof(text), "[policy]\ndescription = %s\n", says);
	make_file(dir, name, text);
}

/* Load near/child.ini, which extends parent; the description of the
 * policy read, malloc'ed, or the error. */
static char *extended(const char *parent, struct hb_diag *d)
{
	char text[256], *path = path_join(near, "child.ini");
	struct hb_policy p;
	char *got;
	int r;

	snprintf(text, sizeof(text), "[policy]\nextends = %s\n", parent);
	make_file(near, "child.ini", text);
	hb_policy_init(&p);
	p.dirs = (struct hb_policy_dirs){sys, shipped};
	r = hb_policy_load(&p, path, d);
	got = strdup(r < 0 ? "error" : p.description ?: "none");
	hb_policy_free(&p);
	free(path);
	return got;
}

static void expect_extended(const char *parent, const char *want)
{
	struct hb_diag d = {0};
	char *got = extended(parent, &d), read[64];

	snprintf(read, sizeof(read), "%s", got);
	free(got);
	cr_assert_str_eq(read, want, "extends = %s read %s's policy (%s)",
			 parent, read, d.msg);
}

Test(policy_find, next_to_the_file_first)
{
	policy_in(near, "base.ini", "near");
	policy_in(sys, "base.ini", "etc");
	policy_in(shipped, "base.ini", "share");
	expect_extended("base.ini", "near");
}

Test(policy_find, then_the_machine_s_policies)
{
	policy_in(sys, "base.ini", "etc");
	policy_in(shipped, "base.ini", "share");
	expect_extended("base.ini", "etc");
}

Test(policy_find, then_the_shipped_ones)
{
	policy_in(shipped, "base.ini", "share");
	expect_extended("base.ini", "share");
}

Test(policy_find, ini_may_be_left_out)
{
	policy_in(sys, "base.ini", "etc");
	policy_in(shipped, "base", "share-bare");
	/* The name as given comes first in each directory, in order. */
	expect_extended("base", "etc");
}

Test(policy_find, a_directory_is_passed_over)
{
	make_dir(near, "base.ini");
	policy_in(shipped, "base.ini", "share");
	expect_extended("base.ini", "share");
}

/* An administrator's policy that cannot be read is an error, never a
 * reason to fall back to the shipped one. */
Test(policy_find, a_bad_file_stops_the_search)
{
	char *fifo = path_join(sys, "base.ini");
	struct hb_diag d = {0};
	char *got;
	int r = mkfifo(fifo, 0600);

	free(fifo);
	cr_assert_eq(r, 0);
	policy_in(shipped, "base.ini", "share");
	got = extended("base.ini", &d);
	r = strcmp(got, "error");
	free(got);
	cr_assert_eq(r, 0, "the shipped policy was read");
	cr_assert_not_null(strstr(d.msg, "not a regular file"), "%s", d.msg);
}

Test(policy_find, a_path_is_not_searched)
{
	struct hb_diag d = {0};
	char *got;
	int r;

	policy_in(sys, "base.ini", "etc");
	got = extended("./base.ini", &d);
	r = strcmp(got, "error");
	free(got);
	cr_assert_eq(r, 0, "./base.ini was searched for");
}

Test(policy_find, the_error_lists_the_places_tried)
{
	struct hb_diag d = {0};
	char want[1024];
	char *got = extended("nope.ini", &d);
	int r = strcmp(got, "error");

	free(got);
	cr_assert_eq(r, 0);
	snprintf(want, sizeof(want),
		 "cannot extend 'nope.ini': no such policy in %s, %s, %s", near,
		 sys, shipped);
	cr_assert_str_eq(d.msg, want);
	cr_assert_eq(d.line, 2);
}

Test(policy_find, unset_directories_are_not_searched)
{
	struct hb_policy_dirs dirs = {NULL, shipped};
	char tried[512], *ret = NULL;
	int r;

	policy_in(sys, "base.ini", "etc");
	r = hb_policy_find("base.ini", near, &dirs, &ret, tried, sizeof(tried));
	free(ret);
	cr_assert_eq(r, -ENOENT);
	cr_assert_eq(strstr(tried, sys), NULL, "%s", tried);
}

/* --policy NAME: from the current directory, named as typed there, and
 * recorded as the absolute path of the file read. */
Test(policy_find, command_line_name_from_the_current_directory)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	char *want = path_join(near, "job.ini");
	bool same;
	int r;

	policy_in(near, "job.ini", "near");
	policy_in(sys, "job.ini", "etc");
	cr_assert_eq(chdir(near), 0);
	hb_policy_init(&p);
	p.dirs = (struct hb_policy_dirs){sys, shipped};
	r = hb_policy_load(&p, "job", &d);
	same = r == 0 && strcmp(p.path, want) == 0 &&
	       strcmp(p.description, "near") == 0;
	hb_policy_free(&p);
	free(want);
	cr_assert(same, "r %d: %s", r, d.msg);
}

Test(policy_find, command_line_name_not_found)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	char want[1024];
	int r;

	cr_assert_eq(chdir(near), 0);
	hb_policy_init(&p);
	p.dirs = (struct hb_policy_dirs){sys, shipped};
	r = hb_policy_load(&p, "nope", &d);
	hb_policy_free(&p);
	cr_assert_eq(r, -ENOENT);
	snprintf(want, sizeof(want),
		 "cannot read policy: no such policy in %s, %s, %s", near, sys,
		 shipped);
	cr_assert_str_eq(d.msg, want);
	cr_assert_str_eq(d.file, "nope");
}

/* policy lint loads the parent alone: hb_policy_parent_path() finds it
 * where the reader did. */
Test(policy_find, parent_path_searches_as_the_reader)
{
	struct hb_policy_dirs dirs = {sys, shipped};
	char *child = path_join(sys, "child.ini");
	char *want = path_join(shipped, "base.ini");
	char *got = NULL;
	bool same;
	int r;

	policy_in(shipped, "base.ini", "share");
	make_file(sys, "child.ini", "[policy]\nextends = base\n");
	r = hb_policy_parent_path(child, &dirs, &got);
	same = r == 0 && got && strcmp(got, want) == 0;
	free(child);
	free(want);
	free(got);
	cr_assert(same, "r %d", r);
}

/* Root takes nothing from a first place another user controls: the
 * directory or the file owned by someone else, or writable by group or
 * others; the search goes on to the machine's policies. */
static void expect_skipped_as_root(void (*spoil)(void), const char *why)
{
	struct hb_diag d = {0};
	char *got, *etc = path_join(sys, "base.ini");
	int r;

	if (geteuid() != 0)
		cr_skip_test("root's search only");
	policy_in(near, "base.ini", "near");
	policy_in(sys, "base.ini", "etc");
	spoil();
	expect_extended("base.ini", "etc");
	r = unlink(etc);
	free(etc);
	cr_assert_eq(r, 0);
	got = extended("base.ini", &d);
	r = strcmp(got, "error");
	free(got);
	cr_assert_eq(r, 0, "the planted policy was read");
	cr_assert_not_null(strstr(d.msg, why), "%s", d.msg);
}

static void near_owned_by_nobody(void)
{
	cr_assert_eq(chown(near, 65534, 65534), 0);
}

static void near_world_writable(void)
{
	cr_assert_eq(chmod(near, 01777), 0);
}

static void file_owned_by_nobody(void)
{
	char *path = path_join(near, "base.ini");

	cr_assert_eq(chown(path, 65534, 65534), 0);
	free(path);
}

static void file_group_writable(void)
{
	char *path = path_join(near, "base.ini");

	cr_assert_eq(chmod(path, 0664), 0);
	free(path);
}

Test(policy_find, root_skips_a_directory_another_user_owns)
{
	expect_skipped_as_root(near_owned_by_nobody,
			       "(skipped: not owned by root)");
}

Test(policy_find, root_skips_a_world_writable_directory)
{
	expect_skipped_as_root(near_world_writable,
			       "(skipped: writable by group or others)");
}

Test(policy_find, root_skips_a_file_another_user_owns)
{
	expect_skipped_as_root(file_owned_by_nobody,
			       "(skipped: not owned by root)");
}

Test(policy_find, root_skips_a_group_writable_file)
{
	expect_skipped_as_root(file_group_writable,
			       "(skipped: writable by group or others)");
}

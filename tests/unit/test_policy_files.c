/* SPDX-License-Identifier: MIT */
/* policy_*.c across files: extends, load, validate, tighten and show. */
#include "helpers.h"
#include "policy.h"

#include <criterion/criterion.h>
#include <string.h>

static char *dir;

static void dir_setup(void)
{
	dir = tmpdir_new();
}

static void dir_teardown(void)
{
	tmpdir_remove(dir);
	dir = NULL;
}

/* Load dir/name; the policy is initialised here and freed by the caller. */
static int load(struct hb_policy *p, const char *name, struct hb_diag *d)
{
	char *path = path_join(dir, name);
	int r;

	hb_policy_init(p);
	/* Bare names are searched next to the file alone: nothing of the
	 * machine's policies is read (test_policy_find.c sets its own). */
	p->dirs = (struct hb_policy_dirs){NULL, NULL};
	r = hb_policy_load(p, path, d);
	free(path);
	return r;
}

/* The helpers free before they assert: a failed assertion ends the test
 * at once, and LeakSanitizer would blame the test for what it held. */
static bool is_in_dir(const char *path, const char *name)
{
	char *want = path_join(dir, name);
	bool same = path && strcmp(path, want) == 0;

	free(want);
	return same;
}

static void expect_origin(const struct hb_policy *p, enum hb_key key,
			  const char *name, unsigned line)
{
	cr_assert(is_in_dir(p->origin[key].file, name), "%s comes from %s",
		  hb_key_name(key),
		  p->origin[key].file ? p->origin[key].file : "(default)");
	cr_assert_eq(p->origin[key].line, line, "%s comes from line %u",
		     hb_key_name(key), p->origin[key].line);
}

static void expect_diag(const struct hb_diag *d, const char *name,
			unsigned line, const char *want)
{
	cr_assert(is_in_dir(d->file, name), "file '%s', not %s (%s)", d->file,
		  name, d->msg);
	cr_assert_eq(d->line, line, "line %u (%s)", d->line, d->msg);
	cr_assert_not_null(strstr(d->msg, want), "'%s' lacks '%s'", d->msg,
			   want);
}

static const char parent_ini[] = "[policy]\n"		   /* 1 */
				 "description = parent\n"  /* 2 */
				 "[execution]\n"	   /* 3 */
				 "timeout_seconds = 100\n" /* 4 */
				 "memory_mb = 300\n"	   /* 5 */
				 "max_processes = 7\n"	   /* 6 */
				 "[filesystem]\n"	   /* 7 */
				 "read_only = p1, p2\n"	   /* 8 */
				 "read_write = pw\n"	   /* 9 */
				 "[environment]\n"	   /* 10 */
				 "set = FROM=parent\n";	   /* 11 */

/* cppcheck-suppress unknownMacro */
TestSuite(policy_extends, .init = dir_setup, .fini = dir_teardown,
	  .timeout = 20);

Test(policy_extends, child_overrides_key_by_key)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	make_file(dir, "parent.ini", parent_ini);
	make_file(dir, "child.ini",
		  "[policy]\n"
		  "extends = parent.ini ; the base\n"
		  "[execution]\n"
		  "memory_mb = 200\n"
		  "[filesystem]\n"
		  "read_only = c1\n");
	cr_assert_eq(load(&p, "child.ini", &d), 0, "%s:%u: %s", d.file, d.line,
		     d.msg);
	/* Overridden by the child. */
	cr_assert_eq(p.limits.memory_mb, 200);
	expect_origin(&p, HB_K_MEMORY, "child.ini", 4);
	cr_assert_eq(p.read_only.n, 1);
	cr_assert_str_eq(p.read_only.v[0], "c1");
	expect_origin(&p, HB_K_READ_ONLY, "child.ini", 6);
	/* Inherited from the parent. */
	cr_assert_str_eq(p.description, "parent");
	expect_origin(&p, HB_K_DESCRIPTION, "parent.ini", 2);
	cr_assert_eq(p.limits.timeout_seconds, 100);
	expect_origin(&p, HB_K_TIMEOUT, "parent.ini", 4);
	cr_assert_eq(p.limits.max_processes, 7);
	cr_assert_eq(p.read_write.n, 1);
	cr_assert_str_eq(p.read_write.v[0], "pw");
	expect_origin(&p, HB_K_READ_WRITE, "parent.ini", 9);
	cr_assert_eq(p.env_set.n, 1);
	cr_assert_str_eq(p.env_set.v[0], "FROM=parent");
	/* Named by neither: the built-in default. */
	cr_assert_eq(p.limits.cpu_seconds, 60);
	cr_assert_null(p.origin[HB_K_CPU].file);
	hb_policy_free(&p);
}

Test(policy_extends, relative_to_the_child_not_the_cwd)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	make_dir(dir, "base");
	make_dir(dir, "jobs");
	make_file(dir, "base/parent.ini", parent_ini);
	make_file(dir, "jobs/child.ini",
		  "[policy]\nextends = ../base/parent.ini\n");
	cr_assert_eq(chdir("/"), 0);
	cr_assert_eq(load(&p, "jobs/child.ini", &d), 0, "%s:%u: %s", d.file,
		     d.line, d.msg);
	cr_assert_eq(p.limits.memory_mb, 300);
	expect_origin(&p, HB_K_MEMORY, "base/parent.ini", 5);
	hb_policy_free(&p);
}

Test(policy_extends, relative_policy_path_on_the_command_line)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	char *want = path_join(dir, "child.ini");

	make_file(dir, "parent.ini", parent_ini);
	make_file(dir, "child.ini", "[policy]\nextends = parent.ini\n");
	cr_assert_eq(chdir(dir), 0);
	hb_policy_init(&p);
	cr_assert_eq(hb_policy_load(&p, "child.ini", &d), 0, "%s:%u: %s",
		     d.file, d.line, d.msg);
	cr_assert_str_eq(p.path, want, "the policy's path is absolute");
	cr_assert_eq(p.limits.timeout_seconds, 100);
	hb_policy_free(&p);
	free(want);
}

Test(policy_extends, absolute_parent_path)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	char *parent = path_join(dir, "parent.ini");
	char text[1024];

	make_file(dir, "parent.ini", parent_ini);
	make_dir(dir, "elsewhere");
	snprintf(text, sizeof(text), "[policy]\nextends = %s\n", parent);
	make_file(dir, "elsewhere/child.ini", text);
	cr_assert_eq(load(&p, "elsewhere/child.ini", &d), 0, "%s", d.msg);
	cr_assert_eq(p.limits.max_processes, 7);
	hb_policy_free(&p);
	free(parent);
}

Test(policy_extends, chain_of_three)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	make_file(dir, "grand.ini",
		  "[execution]\ncpu_seconds = 40\nmemory_mb = 400\n"
		  "[environment]\nkeep = TZ\n");
	make_file(dir, "parent.ini",
		  "[policy]\nextends = grand.ini\n[execution]\nmemory_mb = "
		  "300\n[environment]\nkeep = LANGUAGE\nkeep = LC_ALL\n");
	make_file(dir, "child.ini",
		  "[policy]\nextends = parent.ini\n[execution]\n"
		  "cpu_seconds = 20\n");
	cr_assert_eq(load(&p, "child.ini", &d), 0, "%s", d.msg);
	cr_assert_eq(p.limits.cpu_seconds, 20);
	cr_assert_eq(p.limits.memory_mb, 300);
	expect_origin(&p, HB_K_MEMORY, "parent.ini", 4);
	cr_assert_eq(p.env_keep.n, 2);
	cr_assert_str_eq(p.env_keep.v[0], "LANGUAGE");
	cr_assert_str_eq(p.env_keep.v[1], "LC_ALL");
	hb_policy_free(&p);
}

Test(policy_extends, cycle_is_an_error)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r;

	make_file(dir, "a.ini", "[policy]\nextends = b.ini\n");
	make_file(dir, "b.ini", "; b\n[policy]\nextends = a.ini\n");
	r = load(&p, "a.ini", &d);
	hb_policy_free(&p);
	cr_assert_lt(r, 0);
	cr_assert_not_null(strstr(d.msg, "extends goes deeper than"), "%s",
			   d.msg);
	cr_assert_not_null(strstr(d.msg, "cycle"), "%s", d.msg);
	cr_assert(strstr(d.file, "/a.ini") || strstr(d.file, "/b.ini"), "%s",
		  d.file);
	cr_assert_eq(d.line, strstr(d.file, "/a.ini") ? 2u : 3u);
}

Test(policy_extends, self_is_a_cycle)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r;

	make_file(dir, "self.ini", "[policy]\nextends = ./self.ini\n");
	r = load(&p, "self.ini", &d);
	hb_policy_free(&p);
	cr_assert_lt(r, 0);
	expect_diag(&d, "self.ini", 2, "(a cycle?)");
}

/* A parent that cannot be read is the child's error, at its extends line,
 * with the reason. */
Test(policy_extends, missing_parent)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r;

	make_file(dir, "child.ini", "; child\n[policy]\nextends = nope.ini\n");
	r = load(&p, "child.ini", &d);
	hb_policy_free(&p);
	cr_assert_lt(r, 0);
	expect_diag(&d, "child.ini", 3, "nope.ini");
	cr_assert_not_null(strstr(d.msg, "no such policy in "), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, dir), "%s names %s", d.msg, dir);
}

/* Found by tests/fuzz/fuzz_policy: an empty value (or one that starts
 * with a NUL byte) was refused with an empty message, so that hivebox
 * printed "hivebox: " and nothing else. */
Test(policy_extends, empty_value)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r;

	make_file(dir, "child.ini", "; child\n[policy]\nextends =\n");
	r = load(&p, "child.ini", &d);
	hb_policy_free(&p);
	cr_assert_lt(r, 0);
	expect_diag(&d, "child.ini", 3, "empty value for extends");
}

Test(policy_extends, parent_is_a_directory)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r;

	make_dir(dir, "sub");
	/* A path, not searched: a bare name passes directories over. */
	make_file(dir, "child.ini", "[policy]\nextends = ./sub\n");
	r = load(&p, "child.ini", &d);
	hb_policy_free(&p);
	cr_assert_lt(r, 0);
	expect_diag(&d, "child.ini", 2, "sub");
	cr_assert_not_null(strstr(d.msg, "not a regular file"), "%s", d.msg);
}

Test(policy_extends, error_in_parent_names_the_parent)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r;

	make_file(dir, "parent.ini", "[execution]\n\n\nmemory_mb = lots\n");
	make_file(dir, "child.ini",
		  "[policy]\nextends = parent.ini\n[execution]\n"
		  "cpu_seconds = 1\n");
	r = load(&p, "child.ini", &d);
	hb_policy_free(&p);
	cr_assert_lt(r, 0);
	expect_diag(&d, "parent.ini", 4, "bad value 'lots' for memory_mb");
}

Test(policy_extends, duplicate_extends)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r;

	make_file(dir, "parent.ini", parent_ini);
	make_file(dir, "child.ini",
		  "[policy]\nextends = parent.ini\nextends = parent.ini\n");
	r = load(&p, "child.ini", &d);
	hb_policy_free(&p);
	cr_assert_lt(r, 0);
	expect_diag(&d, "child.ini", 3, "duplicate key 'extends' in [policy]");
}

/* cppcheck-suppress unknownMacro */
TestSuite(policy_load, .init = dir_setup, .fini = dir_teardown);

Test(policy_load, missing_file)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r = load(&p, "absent.ini", &d);

	hb_policy_free(&p);
	cr_assert_eq(r, -ENOENT);
	expect_diag(&d, "absent.ini", 0,
		    "cannot read policy: No such file or directory");
}

Test(policy_load, shipped_policies_load)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	/* Found from the binary, not the caller's directory: started from
	 * anywhere but the top of the repository, a relative path failed. */
	char *strict = repo_path("policies/strict.ini");

	hb_policy_init(&p);
	cr_assert_eq(hb_policy_load(&p, strict, &d), 0, "%s:%u: %s", d.file,
		     d.line, d.msg);
	cr_assert_eq(p.limits.memory_mb, 256);
	cr_assert_eq(p.limits.max_processes, 4);
	hb_policy_free(&p);
	free(strict);
}

Test(policy_load, load_validates)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r;

	make_file(dir, "bad.ini",
		  "[filesystem]\nread_only = data\nread_write = data\n");
	r = load(&p, "bad.ini", &d);
	hb_policy_free(&p);
	cr_assert_lt(r, 0);
	expect_diag(&d, "bad.ini", 3, "is both read_only");
}

Test(policy_validate, contradiction)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p,
				"[filesystem]\n"
				"read_only = conf, data\n"
				"read_write = out\n"
				"read_write = data\n",
				&d),
		     0, "%s", d.msg);
	cr_assert_lt(hb_policy_validate(&p, &d), 0);
	cr_assert_str_eq(d.file, "test.ini");
	cr_assert_eq(d.line, 4);
	cr_assert_str_eq(
		d.msg, "'data' is both read_only (test.ini:2) and read_write");
	hb_policy_free(&p);
}

Test(policy_validate, distinct_paths_pass)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p,
				"[filesystem]\nread_only = conf, data\n"
				"read_write = data/out, datax\n",
				&d),
		     0);
	cr_assert_eq(hb_policy_validate(&p, &d), 0, "%s", d.msg);
	cr_assert_str_eq(d.msg, "");
	hb_policy_free(&p);
}

/* One wording of where a value came from, for every message. */
Test(policy_origin, file_line_option_or_default)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	char buf[HB_ORIGIN_TEXT_MAX];

	cr_assert_eq(parse_text(&p, "[execution]\n\nmemory_mb = 256\n", &d), 0);
	cr_assert_str_eq(hb_policy_origin(&p, HB_K_MEMORY), "test.ini");
	cr_assert_str_eq(
		hb_policy_origin_text(&p, HB_K_MEMORY, buf, sizeof(buf)),
		"test.ini:3");
	cr_assert_str_eq(hb_policy_origin(&p, HB_K_CPU), "built-in default");
	cr_assert_str_eq(hb_policy_origin_text(&p, HB_K_CPU, buf, sizeof(buf)),
			 "built-in default");
	cr_assert_eq(hb_policy_tighten(&p, HB_K_CPU, "--cpu", "5", &d), 0);
	cr_assert_str_eq(hb_policy_origin(&p, HB_K_CPU), "--cpu");
	cr_assert_str_eq(hb_policy_origin_text(&p, HB_K_CPU, buf, sizeof(buf)),
			 "--cpu");
	/* Cut to the buffer, never past it. */
	cr_assert_str_eq(hb_policy_origin_text(&p, HB_K_MEMORY, buf, 5),
			 "test");
	hb_policy_free(&p);
}

/* A limit as the line that names it says where it was set. */
Test(policy_origin, setting_text)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	char buf[HB_ORIGIN_TEXT_MAX + 64];

	cr_assert_eq(parse_text(&p, "[execution]\ntimeout_seconds = 5\n", &d),
		     0);
	cr_assert_str_eq(
		hb_policy_setting_text(&p, HB_K_TIMEOUT, buf, sizeof(buf)),
		"timeout_seconds = 5 (test.ini:2)");
	cr_assert_str_eq(hb_policy_setting_text(&p, HB_K_CPU, buf, sizeof(buf)),
			 "cpu_seconds = 60 (built-in default)");
	cr_assert_eq(hb_policy_tighten(&p, HB_K_TIMEOUT, "--timeout", "3", &d),
		     0);
	cr_assert_str_eq(
		hb_policy_setting_text(&p, HB_K_TIMEOUT, buf, sizeof(buf)),
		"--timeout 3");
	hb_policy_free(&p);
}

Test(policy_tighten, lower_is_taken)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p, "[execution]\nmemory_mb = 256\n", &d), 0);
	cr_assert_eq(hb_policy_tighten(&p, HB_K_MEMORY, "--memory", "128", &d),
		     0, "%s", d.msg);
	cr_assert_eq(p.limits.memory_mb, 128);
	cr_assert_str_eq(p.origin[HB_K_MEMORY].file, "--memory");
	cr_assert_eq(p.origin[HB_K_MEMORY].line, 0);
	/* Equal is not looser. */
	cr_assert_eq(hb_policy_tighten(&p, HB_K_MEMORY, "--memory", "128", &d),
		     0, "%s", d.msg);
	cr_assert_eq(p.limits.memory_mb, 128);
	hb_policy_free(&p);
}

/* Each option lowers its own limit and no other. */
Test(policy_tighten, each_key_its_own_field)
{
	static const struct {
		enum hb_key key;
		const char *option, *value;
		size_t offset;
	} cases[] = {
		{HB_K_TIMEOUT, "--timeout", "299",
		 offsetof(struct hb_policy, limits.timeout_seconds)},
		{HB_K_CPU, "--cpu", "59",
		 offsetof(struct hb_policy, limits.cpu_seconds)},
		{HB_K_MEMORY, "--memory", "511",
		 offsetof(struct hb_policy, limits.memory_mb)},
		{HB_K_FILE_SIZE, "--file-size", "99",
		 offsetof(struct hb_policy, limits.file_size_mb)},
		{HB_K_MAX_PROCESSES, "--max-processes", "15",
		 offsetof(struct hb_policy, limits.max_processes)},
		{HB_K_MAX_OPEN_FILES, "--max-open-files", "255",
		 offsetof(struct hb_policy, limits.max_open_files)},
		{HB_K_TMP_SIZE, "--tmp-size", "63",
		 offsetof(struct hb_policy, limits.tmp_size_mb)},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hb_policy p, before;
		struct hb_diag d = {0};
		unsigned long long *field, *old;

		hb_policy_init(&p);
		before = p;
		field = (unsigned long long *)((char *)&p + cases[i].offset);
		old = (unsigned long long *)((char *)&before + cases[i].offset);
		cr_assert_eq(hb_policy_tighten(&p, cases[i].key,
					       cases[i].option, cases[i].value,
					       &d),
			     0, "%s: %s", cases[i].option, d.msg);
		cr_assert_eq(*field, *old - 1, "%s", cases[i].option);
		cr_assert_str_eq(p.origin[cases[i].key].file, cases[i].option);
		/* Put it back: then every limit must equal the default. */
		*field = *old;
		cr_assert_eq(p.limits.timeout_seconds,
			     before.limits.timeout_seconds);
		cr_assert_eq(p.limits.cpu_seconds, before.limits.cpu_seconds);
		cr_assert_eq(p.limits.memory_mb, before.limits.memory_mb);
		cr_assert_eq(p.limits.file_size_mb, before.limits.file_size_mb);
		cr_assert_eq(p.limits.max_processes,
			     before.limits.max_processes);
		cr_assert_eq(p.limits.max_open_files,
			     before.limits.max_open_files);
		cr_assert_eq(p.limits.tmp_size_mb, before.limits.tmp_size_mb);
		hb_policy_free(&p);
	}
}

Test(policy_tighten, higher_is_refused)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p, "[execution]\n\nmemory_mb = 256\n", &d), 0);
	cr_assert_lt(hb_policy_tighten(&p, HB_K_MEMORY, "--memory", "257", &d),
		     0);
	/* Told apart from a malformed value: main records it as a refusal. */
	cr_assert_eq(hb_policy_tighten(&p, HB_K_MEMORY, "--memory", "257", &d),
		     -EPERM);
	cr_assert_str_eq(d.file, "", "a command-line error has no file");
	cr_assert_eq(d.line, 0);
	cr_assert_not_null(strstr(d.msg, "--memory 257"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "loosen"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "memory_mb = 256"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "(test.ini:3)"), "%s", d.msg);
	cr_assert_eq(p.limits.memory_mb, 256, "the policy is unchanged");
	cr_assert_str_eq(p.origin[HB_K_MEMORY].file, "test.ini");
	hb_policy_free(&p);
}

Test(policy_tighten, higher_than_default_is_refused)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r;

	hb_policy_init(&p);
	r = hb_policy_tighten(&p, HB_K_CPU, "--cpu", "61", &d);
	cr_assert_eq(p.limits.cpu_seconds, 60);
	hb_policy_free(&p);
	cr_assert_lt(r, 0);
	cr_assert_eq(r, -EPERM);
	cr_assert_not_null(strstr(d.msg, "loosen"), "%s", d.msg);
	cr_assert_not_null(strstr(d.msg, "cpu_seconds = 60"), "%s", d.msg);
	/* A default has no file and no line: no "built-in default:0". */
	cr_assert_not_null(strstr(d.msg, "(built-in default)"), "%s", d.msg);
}

Test(policy_tighten, bad_values)
{
	const char *bad[] = {
		"abc", "256MB", "-1", "", "8", "0", "99999999999999999999999"};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct hb_policy p;
		struct hb_diag d = {0};
		char want[128];

		hb_policy_init(&p);
		cr_assert_lt(hb_policy_tighten(&p, HB_K_MEMORY, "--memory",
					       bad[i], &d),
			     0, "'%s' accepted", bad[i]);
		/* Malformed, not loosening: no refusal is recorded. */
		cr_assert_eq(hb_policy_tighten(&p, HB_K_MEMORY, "--memory",
					       bad[i], &d),
			     -EINVAL, "'%s'", bad[i]);
		snprintf(want, sizeof(want),
			 "bad value '%s' for --memory: expected a whole number "
			 "of MiB from 16 to 1048576",
			 bad[i]);
		cr_assert_str_eq(d.msg, want);
		cr_assert_eq(p.limits.memory_mb, 512);
		hb_policy_free(&p);
	}
}

Test(policy_tighten, not_a_limit)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	hb_policy_init(&p);
	cr_assert_eq(hb_policy_tighten(&p, HB_K_INTERPRETER, "--x", "1", &d),
		     -EINVAL);
	cr_assert_eq(hb_policy_tighten(&p, HB_K_READ_ONLY, "--x", "1", &d),
		     -EINVAL);
	/* A number whose schema row says the command line leaves it alone:
	 * an alert lowered to 0 would be switched off. */
	cr_assert_eq(hb_policy_tighten(&p, HB_K_CPU_ALERT, "--x", "0", &d),
		     -EINVAL);
	cr_assert_eq(p.cpu_alert_pct, 80);
	cr_assert_eq(hb_policy_tighten(&p, HB_K_MAX, "--x", "1", &d), -EINVAL);
	hb_policy_free(&p);
}

static void expect_shown(const char *text, const char *want)
{
	cr_assert_not_null(strstr(text, want), "'%s' not in:\n%s", want, text);
}

Test(policy_show, values_and_origins)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	char *text;

	cr_assert_eq(parse_text(&p,
				"[policy]\n"
				"description = shown\n"
				"[execution]\n"
				"memory_mb = 128\n"
				"[filesystem]\n"
				"read_only = a, b\n"
				"[environment]\n"
				"set = A=1\n"
				"set = B=2\n"
				"keep = TZ\n"
				"[audit]\n"
				"required = yes\n"
				"dir = /srv/audit\n",
				&d),
		     0, "%s", d.msg);
	p.path = strdup("/etc/hivebox/test.ini");
	cr_assert_eq(hb_policy_tighten(&p, HB_K_CPU, "--cpu", "5", &d), 0);
	text = policy_show_text(&p);
	expect_shown(text, "; effective policy of /etc/hivebox/test.ini\n");
	expect_shown(text, "[policy]\ndescription = shown\t; test.ini:2\n");
	expect_shown(text, "[execution]\ninterpreter = /usr/bin/python3\t; "
			   "built-in default\n");
	expect_shown(text, "\ntimeout_seconds = 300\t; built-in default\n");
	expect_shown(text, "\ncpu_seconds = 5\t; command line --cpu\n");
	expect_shown(text, "\nmemory_mb = 128\t; test.ini:4\n");
	expect_shown(text, "\ntmp_size_mb = 64\t; built-in default\n");
	expect_shown(text, "[filesystem]\nread_only = a, b\t; test.ini:6\n");
	expect_shown(text, "[network]\nmode = none\t; built-in default\n");
	expect_shown(text, "\nkeep = TZ\t; test.ini:10\n");
	expect_shown(text, "\nset = A=1");
	expect_shown(text, "\nset = B=2");
	expect_shown(text, "[identity]\nhost_uid = auto\t; built-in default\n");
	expect_shown(text, "[audit]\ndir = /srv/audit\t; test.ini:13\n");
	expect_shown(text, "\nrequired = yes\t; test.ini:12\n");
	cr_assert_null(strstr(text, "extends"), "extends is not a value");
	free(text);
	hb_policy_free(&p);
}

Test(policy_show, defaults_only)
{
	struct hb_policy p;
	char *text;

	hb_policy_init(&p);
	text = policy_show_text(&p);
	cr_assert_null(strstr(text, "description"), "no description:\n%s",
		       text);
	expect_shown(text, "; set = (none)\n");
	expect_shown(text, "\n; read_only = (none)\t; built-in default\n");
	expect_shown(text, "\n; keep = (none)\t; built-in default\n");
	expect_shown(text, "\nmemory_mb = 512\t; built-in default\n");
	expect_shown(text, "\n; workdir = (the directory hivebox is started "
			   "in)\t; built-in default\n");
	expect_shown(text, "\nmax_processes = 16\t; built-in default\n");
	expect_shown(text, "\nmax_open_files = 256\t; built-in default\n");
	expect_shown(text, "\nfile_size_mb = 100\t; built-in default\n");
	expect_shown(text, "[audit]\n; dir = (none)\t; built-in default\n");
	expect_shown(text, "\n; required = (yes when run as root, else no)\t; "
			   "built-in default\n");
	expect_shown(text, "\n; key_file = (none)\t; built-in default\n");
	expect_shown(
		text,
		"[monitoring]\ncpu_usage_alert = 80\t; built-in default\n");
	expect_shown(text, "\nsample_interval_ms = 100\t; built-in default\n");
	expect_shown(text, "\n; alert_command = (none)\t; built-in default\n");
	free(text);
	hb_policy_free(&p);
}

/* The output of policy show is itself a policy that gives the same
 * values. */
Test(policy_show, output_parses_again)
{
	static const char *const inputs[] = {
		"",
		"[policy]\ndescription = round trip\n[execution]\n"
		"memory_mb = 100\ncpu_seconds = 3\nworkdir = /srv/jobs\n"
		"[filesystem]\n"
		"read_only = a, b/c\nread_write = d\n[environment]\n"
		"keep = TZ, LC_ALL\nset = A=1\nset = B=x y\n"
		"[identity]\nhost_uid = 4242\n[audit]\ndir = /a\nrequired = "
		"no\n"
		"[monitoring]\ncpu_usage_alert = 0\nalert_command = /bin/x\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
		struct hb_policy p, q;
		struct hb_diag d = {0};
		char *text;

		cr_assert_eq(parse_text(&p, inputs[i], &d), 0, "%s", d.msg);
		text = policy_show_text(&p);
		cr_assert_eq(parse_text(&q, text, &d), 0,
			     "show output refused: %u: %s\n%s", d.line, d.msg,
			     text);
		cr_assert_eq(q.limits.memory_mb, p.limits.memory_mb);
		cr_assert_eq(q.limits.cpu_seconds, p.limits.cpu_seconds);
		cr_assert_eq(q.read_only.n, p.read_only.n);
		cr_assert_eq(q.read_write.n, p.read_write.n);
		cr_assert_eq(q.env_keep.n, p.env_keep.n);
		cr_assert_eq(q.env_set.n, p.env_set.n);
		for (size_t j = 0; j < p.env_set.n; j++)
			cr_assert_str_eq(q.env_set.v[j], p.env_set.v[j]);
		for (size_t j = 0; j < p.read_only.n; j++)
			cr_assert_str_eq(q.read_only.v[j], p.read_only.v[j]);
		cr_assert_eq(q.host_uid.kind, p.host_uid.kind);
		cr_assert_eq(q.host_uid.uid, p.host_uid.uid);
		cr_assert_eq(q.audit_required, p.audit_required);
		cr_assert_eq(q.cpu_alert_pct, p.cpu_alert_pct);
		if (p.audit_dir)
			cr_assert_str_eq(q.audit_dir, p.audit_dir);
		else
			cr_assert_null(q.audit_dir);
		if (p.workdir)
			cr_assert_str_eq(q.workdir, p.workdir);
		else
			cr_assert_null(q.workdir);
		if (p.alert_command)
			cr_assert_str_eq(q.alert_command, p.alert_command);
		else
			cr_assert_null(q.alert_command);
		if (p.description)
			cr_assert_str_eq(q.description, p.description);
		else
			cr_assert_null(q.description);
		free(text);
		hb_policy_free(&p);
		hb_policy_free(&q);
	}
}

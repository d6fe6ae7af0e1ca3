/* SPDX-License-Identifier: MIT */
/* config.c: hivebox.conf, its defaults and its errors. */
#include "config.h"
#include "helpers.h"
#include "policy.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir;

static void setup_dir(void)
{
	dir = tmpdir_new();
}

static void teardown_dir(void)
{
	tmpdir_remove(dir);
}

/* cppcheck-suppress unknownMacro */
TestSuite(config, .init = setup_dir, .fini = teardown_dir);

static int load_text(struct hb_config *c, const char *text, struct hb_diag *d)
{
	char *path;
	int r;

	make_file(dir, "hivebox.conf", text);
	path = path_join(dir, "hivebox.conf");
	r = hb_config_load(c, path, d);
	free(path);
	return r;
}

static void expect_error(const char *text, unsigned line, const char *want)
{
	struct hb_config c;
	struct hb_diag d = {0};
	int r = load_text(&c, text, &d);

	hb_config_free(&c);
	cr_assert_lt(r, 0, "accepted:\n%s", text);
	cr_assert_eq(d.line, line, "line %u, not %u: %s", d.line, line, d.msg);
	cr_assert_not_null(strstr(d.file, "hivebox.conf"));
	cr_assert_not_null(strstr(d.msg, want), "'%s' lacks '%s'", d.msg, want);
}

Test(config, values)
{
	struct hb_config c;
	struct hb_diag d = {0};

	cr_assert_eq(load_text(&c,
			       "; site settings\n[network]\n"
			       "pool = 10.99.0.0/24\nstate_dir = /run/x\n"
			       "[identity]\nuid_lock = /run/y/uids\n"
			       "[filters]\ncache_dir = /var/tmp/f\n",
			       &d),
		     0, "%s", d.msg);
	cr_assert_str_eq(c.filter_cache, "/var/tmp/f");
	cr_assert_str_eq(c.pool_text, "10.99.0.0/24");
	cr_assert_eq(c.pool.network, 0x0a630000);
	cr_assert_eq(c.pool.count, 64);
	cr_assert_str_eq(c.state_dir, "/run/x");
	cr_assert_str_eq(c.uid_lock, "/run/y/uids");
	cr_assert_not_null(strstr(c.path, "hivebox.conf"));
	hb_config_free(&c);
}

Test(config, defaults_for_an_empty_file)
{
	struct hb_config c;
	struct hb_diag d = {0};

	cr_assert_eq(load_text(&c, "", &d), 0, "%s", d.msg);
	cr_assert_str_eq(c.pool_text, HB_CONFIG_POOL_DEFAULT);
	cr_assert_eq(c.pool.count, 16384);
	cr_assert_str_eq(c.state_dir, HB_CONFIG_STATE_DIR_DEFAULT);
	cr_assert_str_eq(c.uid_lock, HB_CONFIG_UID_LOCK_DEFAULT);
	cr_assert_str_eq(c.filter_cache, HB_CONFIG_FILTER_CACHE_DEFAULT);
	hb_config_free(&c);
}

Test(config, no_filter_cache)
{
	struct hb_config c;
	struct hb_diag d = {0};

	cr_assert_eq(load_text(&c, "[filters]\ncache_dir = none\n", &d), 0,
		     "%s", d.msg);
	cr_assert_null(c.filter_cache);
	hb_config_free(&c);
	expect_error("[filters]\ncache_dir = cache\n", 2,
		     "cache_dir must be an absolute path");
}

Test(config, a_named_file_must_exist)
{
	struct hb_config c;
	struct hb_diag d = {0};
	char *path = path_join(dir, "nope.conf");

	cr_assert_lt(hb_config_load(&c, path, &d), 0);
	cr_assert_not_null(strstr(d.msg, "No such file"), "%s", d.msg);
	hb_config_free(&c);
	free(path);
}

Test(config, errors_name_the_line)
{
	expect_error("[network]\npool = 10.0.0.0/8\n", 2,
		     "bad value '10.0.0.0/8' for pool");
	expect_error("[network]\npool = 10.0.0.1/24\n", 2,
		     "bad value '10.0.0.1/24' for pool");
	expect_error("[network]\npool = 10.0.0.0/31\n", 2, "for pool");
	expect_error("[network]\n\npools = 10.0.0.0/24\n", 3,
		     "unknown key 'pools' in [network]");
	expect_error("[net]\npool = 10.0.0.0/24\n", 2,
		     "unknown key 'pool' in [net]");
	expect_error("[network]\nstate_dir = run/x\n", 2,
		     "state_dir must be an absolute path");
	expect_error("[network]\npool = 10.0.0.0/24\npool = 10.1.0.0/24\n", 3,
		     "duplicate key 'pool'");
	expect_error("[identity]\nuid_lock = uids.lock\n", 2,
		     "uid_lock must be an absolute path");
	expect_error("[network]\nuid_lock = /run/x\n", 2,
		     "unknown key 'uid_lock' in [network]");
	expect_error("[network\n", 1, "syntax error");
}

/* A directory or a FIFO named as the settings is refused, and a FIFO at
 * once: reading one would wait for a writer that never comes. */
/* cppcheck-suppress unknownMacro */
Test(config, only_a_regular_file_is_read, .timeout = 10)
{
	const char *names[] = {"conf.d", "fifo.conf"};
	char *path;

	make_dir(dir, "conf.d");
	path = path_join(dir, "fifo.conf");
	cr_assert_eq(mkfifo(path, 0600), 0);
	free(path);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct hb_config c;
		struct hb_diag d = {0};
		int r;

		path = path_join(dir, names[i]);
		r = hb_config_load(&c, path, &d);
		hb_config_free(&c);
		cr_assert_lt(r, 0, "%s accepted", names[i]);
		cr_assert_str_eq(d.file, path);
		free(path);
		cr_assert_eq(d.line, 0);
		cr_assert_str_eq(d.msg, "cannot read: not a regular file");
	}
}

/* [policies] moves the search for bare policy names (policy_find.c);
 * unset, the directories compiled in stay. */
Test(config, policy_dirs)
{
	struct hb_config c;
	struct hb_diag d = {0};
	int r = load_text(&c,
			  "[policies]\nsystem_dir = /srv/hb/etc\n"
			  "shipped_dir = /srv/hb/share\n",
			  &d);
	bool ok = r == 0 && c.policy_system_dir && c.policy_shipped_dir &&
		  strcmp(c.policy_system_dir, "/srv/hb/etc") == 0 &&
		  strcmp(c.policy_shipped_dir, "/srv/hb/share") == 0;

	hb_config_free(&c);
	cr_assert(ok, "r %d: %s", r, d.msg);
	r = load_text(&c, "[network]\npool = 10.9.0.0/16\n", &d);
	ok = r == 0 && !c.policy_system_dir && !c.policy_shipped_dir;
	hb_config_free(&c);
	cr_assert(ok, "unset [policies] keys are not NULL");
}

Test(config, policy_dirs_are_absolute)
{
	expect_error("[policies]\nsystem_dir = etc/policies\n", 2,
		     "system_dir must be an absolute path");
	expect_error("[policies]\nshipped_dir = /a\nshipped_dir = /b\n", 3,
		     "duplicate key 'shipped_dir' in [policies]");
}

/* hb_config_policy_dirs: as root, what hivebox.conf names replaces the
 * directories; what it leaves unset keeps what dirs held. */
Test(config, policy_dirs_helper_fills_dirs_for_root)
{
	struct hb_config c = {0};
	struct hb_policy_dirs dirs = {"/compiled/etc", "/compiled/share"};
	struct hb_diag d = {0};
	char *path;
	int r;

	if (geteuid() != 0)
		cr_skip_test("hivebox.conf is root's");
	make_file(dir, "hivebox.conf",
		  "[policies]\nsystem_dir = /srv/hb/etc\n");
	path = path_join(dir, "hivebox.conf");
	r = hb_config_policy_dirs(&c, path, &dirs, &d);
	free(path);
	cr_assert_eq(r, 0, "%s", d.msg);
	cr_assert_str_eq(dirs.system, "/srv/hb/etc");
	cr_assert_str_eq(dirs.shipped, "/compiled/share");
	hb_config_free(&c);
}

/* SPDX-License-Identifier: MIT */
/* check.c: the analyzer's policy and arguments, and `check` on the
 * command line. */
#include "check.h"
#include "cli.h"

#include <criterion/criterion.h>
#include <string.h>

static char *files[] = {"job.py", "/srv/jobs", "./job.py"};

Test(check, policy_text_lists_each_file_once_read_only)
{
	struct hb_check_req req = {.files = files, .n_files = 3};
	char *text = NULL;
	struct hb_policy p;
	struct hb_diag d = {0};
	FILE *f;

	cr_assert_eq(hb_check_policy_text(&req, "/home/ops", &text), 0);
	cr_assert_not_null(strstr(text, "read_only = /home/ops/job.py\n"
					"read_only = /srv/jobs\n[network]\n"));
	cr_assert_not_null(strstr(text, "mode = none\n"));
	cr_assert_null(strstr(text, "read_write"));
	cr_assert_null(strstr(text, "interpreter"));
	/* What hivebox reads back: a valid policy, the strict one. */
	hb_policy_init(&p);
	f = fmemopen(text, strlen(text), "r");
	cr_assert_eq(hb_policy_parse(&p, f, "check.ini", 0, &d), 0, "%s",
		     d.msg);
	fclose(f);
	cr_assert_eq(hb_policy_validate(&p, &d), 0, "%s", d.msg);
	cr_assert_eq(p.read_only.n, 2);
	cr_assert_eq(p.network_mode, HB_NET_NONE);
	cr_assert_eq(p.syscalls_default, HB_SC_DENY);
	cr_assert_eq(p.limits.memory_mb, 512);
	cr_assert_eq(p.read_write.n, 0);
	hb_policy_free(&p);
	free(text);
}

Test(check, args_carry_the_policy_context)
{
	struct hb_policy p;
	struct hb_check_req req = {.files = files,
				   .n_files = 2,
				   .json = true,
				   .fail_at = HB_RISK_MEDIUM,
				   .context = &p};
	struct hb_strv argv = {0};
	const char *want[] = {"--json",	  "--fail-at", "medium", "--network",
			      "filtered", "--ro",      "in",	 "--rw",
			      "/srv/out", "--",	       "job.py", "/srv/jobs"};

	hb_policy_init(&p);
	p.network_mode = HB_NET_FILTERED;
	hb_strv_push(&p.read_only, "in");
	hb_strv_push(&p.read_write, "/srv/out");
	cr_assert_eq(hb_check_args(&req, &argv), 0);
	cr_assert_eq(argv.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < argv.n; i++)
		cr_assert_str_eq(argv.v[i], want[i]);
	hb_strv_clear(&argv);
	hb_policy_free(&p);
}

Test(check, unlistable_names_are_refused)
{
	struct hb_diag d = {0};
	char longname[HB_CHECK_PATH_MAX + 2];

	cr_assert_lt(hb_check_file_ok("/", "a,b.py", &d), 0);
	cr_assert_str_eq(d.file, "a,b.py");
	cr_assert_lt(hb_check_file_ok("/", " x.py", &d), 0);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_lt(hb_check_file_ok("/", longname, &d), 0);
	cr_assert_not_null(strstr(d.msg, "longer than 187"));
	cr_assert_lt(hb_check_file_ok("/", "/nonexistent/x.py", &d), 0);
	cr_assert_str_eq(d.msg, "cannot check: No such file or directory");
	cr_assert_eq(hb_check_file_ok("/", "/etc/passwd", &d), 0);
}

Test(check, cli_verb)
{
	struct hb_cli cli;
	struct hb_diag d = {0};
	char *argv[] = {"hivebox",  "check", "a.py", "--json",
			"--policy", "p.ini", "b.py", NULL};

	cr_assert_eq(hb_cli_parse(&cli, 7, argv, &d), 0, "%s", d.msg);
	cr_assert_eq(cli.verb, HB_VERB_CHECK);
	cr_assert(cli.check.json);
	cr_assert_str_eq(cli.policy, "p.ini");
	cr_assert_eq(cli.check.n_files, 2);
	cr_assert_str_eq(cli.check.files[0], "a.py");
	cr_assert_str_eq(cli.check.files[1], "b.py");
}

/* SPDX-License-Identifier: MIT */
/* migrate_cron.c: crontab lines, the commands in them, the Python jobs
 * found, and the rewrite; migrate.c's pure helpers; the verb's options. */
#include "cli.h"
#include "migrate.h"
#include "migrate_cron.h"

#include <criterion/criterion.h>
#include <string.h>

static const char fixture[] =
	"# gov jobs\n"
	"MAILTO=ops@example.org\n"
	"SHELL = /bin/sh\n"
	"PATH=\"/usr/local/bin:/usr/bin:/bin\"\n"
	"\n"
	"5 0 * * * cd /srv/gov && python3 tally.py >> log 2>&1\n"
	"*/15 * * * * /usr/bin/python3 -u /srv/gov/report.py --date today\n"
	"@daily /srv/gov/.venv/bin/python /srv/gov/report.py\n"
	"this line is not one\n"
	"0 3 * jan-mar mon,fri /usr/bin/find /tmp -delete\n"
	"@fortnightly python3 x.py\n"
	"0 4 1 * * python3 /srv/x.py % stdin";

static struct hb_crontab parse(const char *text, bool user_field)
{
	struct hb_crontab t;

	cr_assert_eq(hb_crontab_parse(&t, text, strlen(text), user_field), 0);
	return t;
}

static const char *word(const struct hb_crontab *t, size_t line, size_t cmd,
			size_t w)
{
	cr_assert_lt(cmd, t->lines[line].n_cmds);
	cr_assert_lt(w, t->lines[line].cmds[cmd].n);
	return t->lines[line].cmds[cmd].w[w].value;
}

Test(migrate_cron, line_kinds_and_numbers)
{
	struct hb_crontab t = parse(fixture, false);
	enum hb_cron_kind want[] = {
		HB_CRON_COMMENT, HB_CRON_ENV, HB_CRON_ENV, HB_CRON_ENV,
		HB_CRON_BLANK,	 HB_CRON_JOB, HB_CRON_JOB, HB_CRON_JOB,
		HB_CRON_BAD,	 HB_CRON_JOB, HB_CRON_BAD, HB_CRON_JOB,
	};

	cr_assert_eq(t.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < t.n; i++) {
		cr_assert_eq(t.lines[i].kind, want[i], "line %zu", i + 1);
		cr_assert_eq(t.lines[i].lineno, i + 1);
	}
	cr_assert_str_eq(t.lines[2].name, "SHELL");
	cr_assert_str_eq(t.lines[2].value, "/bin/sh");
	cr_assert_str_eq(hb_crontab_env(&t, t.n, "PATH"),
			 "/usr/local/bin:/usr/bin:/bin");
	cr_assert_null(hb_crontab_env(&t, 1, "MAILTO"));
	cr_assert_str_eq(t.lines[10].why, "unknown @ schedule");
	/* cron ends the command at an unescaped %: the rest is stdin. */
	cr_assert_eq(t.text[t.lines[11].cmd_end], '%');
	cr_assert_str_eq(word(&t, 11, 0, 1), "/srv/x.py");
	cr_assert_eq(t.lines[11].cmds[0].n, 2);
	hb_crontab_free(&t);
}

Test(migrate_cron, commands_words_and_redirections)
{
	struct hb_crontab t = parse(fixture, false);
	const struct hb_cron_line *l = &t.lines[5];

	cr_assert_eq(l->n_cmds, 2);
	cr_assert_eq(l->cmds[0].n, 2);
	cr_assert_str_eq(word(&t, 5, 0, 0), "cd");
	cr_assert_str_eq(word(&t, 5, 0, 1), "/srv/gov");
	/* ">> log" and "2>&1" are the shell's, not the command's words. */
	cr_assert_eq(l->cmds[1].n, 2);
	cr_assert_str_eq(word(&t, 5, 1, 0), "python3");
	cr_assert_str_eq(word(&t, 5, 1, 1), "tally.py");
	cr_assert_eq(strncmp(t.text + l->cmds[1].w[1].start, "tally.py >>", 11),
		     0);
	hb_crontab_free(&t);
}

Test(migrate_cron, quotes_assignments_and_expansions)
{
	const char *text = "* * * * * FOO=1 python3 '/srv/my job.py' \"a b\" "
			   "$HOME/x 2>/dev/null; exec python3 \"$D/y.py\"\n";
	struct hb_crontab t = parse(text, false);
	struct hb_cron_py py;

	cr_assert_eq(t.lines[0].n_cmds, 2);
	cr_assert_eq(t.lines[0].cmds[0].n, 4);
	cr_assert_str_eq(word(&t, 0, 0, 0), "python3");
	cr_assert_str_eq(word(&t, 0, 0, 1), "/srv/my job.py");
	cr_assert(t.lines[0].cmds[0].w[1].plain);
	cr_assert_str_eq(word(&t, 0, 0, 2), "a b");
	cr_assert_not(t.lines[0].cmds[0].w[3].plain);
	/* The leading assignment is kept apart, for the policy. */
	cr_assert_eq(t.lines[0].cmds[0].n_assign, 1);
	cr_assert_str_eq(t.lines[0].cmds[0].assign[0].value, "FOO=1");
	cr_assert(t.lines[0].cmds[0].assign[0].plain);
	cr_assert_eq(t.lines[0].cmds[1].n_assign, 0);
	hb_cron_python(&t.lines[0].cmds[0], &py);
	cr_assert_eq(py.form, HB_PY_INTERP);
	cr_assert_eq(py.script, 1);
	/* A script the shell computes cannot be resolved here. */
	hb_cron_python(&t.lines[0].cmds[1], &py);
	cr_assert_eq(py.form, HB_PY_REFUSED);
	cr_assert_eq(py.prog, 1);
	hb_crontab_free(&t);
	cr_assert_eq(
		hb_crontab_parse(&t, "* * * * * python3 'x.py\n", 23, false),
		0);
	cr_assert_eq(t.lines[0].kind, HB_CRON_BAD);
	cr_assert_str_eq(t.lines[0].why,
			 "an unterminated quote in the command");
	hb_crontab_free(&t);
}

Test(migrate_cron, escaped_percent_stays_in_the_command)
{
	const char *text = "@daily python3 /srv/x.py 50\\% %mail body\n";
	struct hb_crontab t = parse(text, false);

	cr_assert_eq(t.lines[0].cmds[0].n, 3);
	cr_assert_str_eq(word(&t, 0, 0, 2), "50%");
	cr_assert_str_eq(t.text + t.lines[0].cmd_end, "%mail body\n");
	hb_crontab_free(&t);
}

Test(migrate_cron, user_field)
{
	const char *text =
		"17 * * * * root cd / && run-parts /etc/cron.hourly\n"
		"@daily gov python3 /srv/t.py\n"
		"@daily\n";
	struct hb_crontab t = parse(text, true);

	cr_assert_str_eq(t.lines[0].user, "root");
	cr_assert_str_eq(word(&t, 0, 0, 0), "cd");
	cr_assert_str_eq(t.lines[1].user, "gov");
	cr_assert_str_eq(word(&t, 1, 0, 0), "python3");
	cr_assert_eq(t.lines[2].kind, HB_CRON_BAD);
	cr_assert_str_eq(t.lines[2].why, "no user field");
	hb_crontab_free(&t);
}

static struct hb_cron_py classify(const char *cmd)
{
	char text[256];
	struct hb_crontab t;
	struct hb_cron_py py;

	snprintf(text, sizeof(text), "* * * * * %s\n", cmd);
	t = parse(text, false);
	cr_assert_eq(t.lines[0].kind, HB_CRON_JOB, "%s", cmd);
	hb_cron_python(&t.lines[0].cmds[0], &py);
	hb_crontab_free(&t);
	return py;
}

Test(migrate_cron, python_forms)
{
	struct hb_cron_py py = classify("/usr/bin/python3 -u -OO x.py a");

	cr_assert_eq(py.form, HB_PY_INTERP);
	cr_assert_eq(py.script, 3);
	cr_assert(py.opts.unbuffered);
	cr_assert_eq(py.opts.optimize, 2);
	cr_assert_eq(classify("/srv/.venv/bin/python x.py").form, HB_PY_INTERP);
	cr_assert_eq(classify("python3.11 -B x.py").form, HB_PY_INTERP);
	cr_assert(classify("python3.11 -B x.py").opts.no_bytecode);
	cr_assert_eq(classify("nohup python3 x.py").prog, 1);
	cr_assert_eq(classify("python3 -m http.server").form, HB_PY_REFUSED);
	cr_assert_str_eq(classify("python3 -c 'print(1)'").why,
			 "python -c runs no script file");
	cr_assert_eq(classify("python3 -W error x.py").form, HB_PY_REFUSED);
	/* -v changes what the job prints: not dropped silently. */
	cr_assert_eq(classify("python3 -v x.py").form, HB_PY_REFUSED);
	/* -s holds in the sandbox (no user site under its HOME); -I, -P
	 * and -E would not: hivebox puts the script's directory first on
	 * sys.path and the policy sets PYTHON* variables. */
	cr_assert_eq(classify("python3 -s x.py").form, HB_PY_INTERP);
	cr_assert_eq(classify("python3 -I x.py").form, HB_PY_REFUSED);
	cr_assert_str_eq(classify("python3 -sP x.py").why,
			 "python -I and -P keep the script's directory off "
			 "sys.path, which hivebox puts first");
	cr_assert_eq(classify("python3 -E x.py").form, HB_PY_REFUSED);
	cr_assert_eq(classify("python3").form, HB_PY_REFUSED);
	cr_assert_eq(classify("python3-config --libs").form, HB_PY_NONE);
	cr_assert_eq(classify("/srv/gov/job.py").form, HB_PY_NONE);
	cr_assert_eq(
		classify("/usr/local/bin/hivebox --policy /p/x.ini x.py").form,
		HB_PY_WRAPPED);
}

Test(migrate_cron, wrapped_names_its_policy)
{
	struct hb_crontab t = parse(
		"@daily cd /srv && hivebox --policy /p/x.ini x.py\n", false);
	struct hb_cron_py py;

	hb_cron_python(&t.lines[0].cmds[1], &py);
	cr_assert_eq(py.form, HB_PY_WRAPPED);
	cr_assert_str_eq(py.policy, "/p/x.ini");
	hb_crontab_free(&t);
}

Test(migrate_cron, shebangs)
{
	struct hb_py_opts o;
	char *interp = NULL;

	cr_assert_eq(hb_cron_shebang("#!/usr/bin/env python3", &interp, &o), 1);
	cr_assert_str_eq(interp, "python3");
	free(interp);
	cr_assert_eq(
		hb_cron_shebang("#!/srv/.venv/bin/python -u\n", &interp, &o),
		1);
	cr_assert_str_eq(interp, "/srv/.venv/bin/python");
	cr_assert(o.unbuffered);
	free(interp);
	interp = NULL;
	cr_assert_eq(hb_cron_shebang("#!/bin/sh", &interp, &o), 0);
	cr_assert_eq(hb_cron_shebang("import os", &interp, &o), 0);
	cr_assert_eq(hb_cron_shebang("#!/usr/bin/python3 -m x", &interp, &o),
		     0);
	cr_assert_null(interp);
}

/* The whole text rewritten: only the python command changes. */
static char *rewrite(const char *text, bool user_field)
{
	struct hb_crontab t = parse(text, user_field);
	struct hb_cron_edit e[8];
	size_t n = 0, len;
	char *out = NULL;

	for (size_t i = 0; i < t.n; i++)
		for (size_t k = 0; k < t.lines[i].n_cmds; k++) {
			struct hb_cron_py py;
			hb_cron_python(&t.lines[i].cmds[k], &py);
			if (py.form != HB_PY_INTERP)
				continue;
			cr_assert_eq(hb_cron_wrap(&t.lines[i].cmds[k], &py,
						  "/usr/local/bin/hivebox",
						  "/etc/hb/j.ini", NULL, &e[n]),
				     0);
			n++;
		}
	cr_assert_eq(hb_cron_splice(text, strlen(text), e, n, &out, &len), 0);
	cr_assert_eq(strlen(out), len);
	for (size_t i = 0; i < n; i++)
		free(e[i].text);
	hb_crontab_free(&t);
	return out;
}

Test(migrate_cron, rewrite_keeps_everything_else)
{
	char *out = rewrite("MAILTO=x\n# c\n\n"
			    "5 0 * * * cd /srv && python3 -u t.py a >> l 2>&1\n"
			    "@daily echo hi | logger\n"
			    "@hourly python3 a.py && /usr/bin/python3 b.py",
			    false);

	cr_assert_str_eq(
		out, "MAILTO=x\n# c\n\n"
		     "5 0 * * * cd /srv && /usr/local/bin/hivebox --policy "
		     "/etc/hb/j.ini t.py a >> l 2>&1\n"
		     "@daily echo hi | logger\n"
		     "@hourly /usr/local/bin/hivebox --policy /etc/hb/j.ini "
		     "a.py && /usr/local/bin/hivebox --policy /etc/hb/j.ini "
		     "b.py");
	free(out);
	out = rewrite("@daily gov python3 /srv/t.py\n", true);
	cr_assert_str_eq(out, "@daily gov /usr/local/bin/hivebox --policy "
			      "/etc/hb/j.ini /srv/t.py\n");
	free(out);
}

Test(migrate_cron, wrap_refuses_what_cannot_stand_unquoted)
{
	struct hb_crontab t = parse("* * * * * python3 x.py\n", false);
	struct hb_cron_edit e = {0};
	struct hb_cron_py py;

	hb_cron_python(&t.lines[0].cmds[0], &py);
	cr_assert_eq(hb_cron_wrap(&t.lines[0].cmds[0], &py, "/bin/hivebox",
				  "/etc/my policies/x.ini", NULL, &e),
		     -EINVAL);
	cr_assert_eq(hb_cron_wrap(&t.lines[0].cmds[0], &py, "/bin/hivebox",
				  "/etc/100%/x.ini", NULL, &e),
		     -EINVAL);
	cr_assert_not(hb_cron_safe_word("a$b"));
	cr_assert(hb_cron_safe_word("/usr/local/bin/hivebox"));
	py.form = HB_PY_WRAPPED;
	cr_assert_eq(hb_cron_wrap(&t.lines[0].cmds[0], &py, "/bin/hivebox",
				  "/x.ini", NULL, &e),
		     -EINVAL);
	hb_crontab_free(&t);
}

/* A script found along PATH: hivebox does not search PATH, so its word
 * becomes the absolute path; without one it is refused. */
Test(migrate_cron, wrap_names_a_path_found_script_by_its_path)
{
	const char *text = "@hourly dj --now >/dev/null\n";
	struct hb_crontab t = parse(text, false);
	struct hb_cron_edit e = {0};
	struct hb_cron_py py;
	char *out = NULL;
	size_t len;

	hb_cron_python(&t.lines[0].cmds[0], &py);
	cr_assert_eq(py.form, HB_PY_NONE);
	py.form = HB_PY_DIRECT; /* as migrate sets it, by the shebang */
	cr_assert_eq(hb_cron_wrap(&t.lines[0].cmds[0], &py, "/bin/hivebox",
				  "/p/x.ini", NULL, &e),
		     -EINVAL);
	cr_assert_eq(hb_cron_wrap(&t.lines[0].cmds[0], &py, "/bin/hivebox",
				  "/p/x.ini", "/srv/my dj", &e),
		     -EINVAL);
	cr_assert_eq(hb_cron_wrap(&t.lines[0].cmds[0], &py, "/bin/hivebox",
				  "/p/x.ini", "/usr/local/bin/dj", &e),
		     0);
	cr_assert_eq(hb_cron_splice(text, strlen(text), &e, 1, &out, &len), 0);
	cr_assert_str_eq(out, "@hourly /bin/hivebox --policy /p/x.ini "
			      "/usr/local/bin/dj --now >/dev/null\n");
	free(out);
	free(e.text);
	hb_crontab_free(&t);
}

Test(migrate_cron, splice_refuses_overlaps)
{
	struct hb_cron_edit e[2] = {{2, 4, "x"}, {3, 5, "y"}};
	char *out = NULL;
	size_t len;

	cr_assert_eq(hb_cron_splice("abcdef", 6, e, 2, &out, &len), -EINVAL);
	cr_assert_null(out);
	e[1] = (struct hb_cron_edit){6, 6, "!"};
	cr_assert_eq(hb_cron_splice("abcdef", 6, e, 2, &out, &len), 0);
	cr_assert_str_eq(out, "abxef!");
	free(out);
}

Test(migrate, policy_names_are_stable_and_safe)
{
	char *n = NULL;

	cr_assert_eq(hb_migrate_policy_name("gov", "/srv/gov/tally.py", 1, &n),
		     0);
	cr_assert_str_eq(n, "gov-tally.ini");
	free(n);
	cr_assert_eq(hb_migrate_policy_name("gov", "/srv/gov/tally.py", 2, &n),
		     0);
	cr_assert_str_eq(n, "gov-tally-2.ini");
	free(n);
	cr_assert_eq(hb_migrate_policy_name("my tab", "/x/.hidden", 1, &n), 0);
	cr_assert_str_eq(n, "my_tab-_hidden.ini");
	free(n);
}

/* Sources alike in name are told apart by their kind and a hash. */
Test(migrate, source_labels_never_collide)
{
	char *a = NULL, *b = NULL;

	cr_assert_eq(hb_migrate_source_label("gov", NULL, false, &a), 0);
	cr_assert_str_eq(a, "user-gov");
	free(a);
	cr_assert_eq(hb_migrate_source_label(NULL, "/etc/cron.d/gov", true, &a),
		     0);
	cr_assert_str_eq(a, "crond-gov-f63ec8");
	free(a);
	cr_assert_eq(hb_migrate_source_label(NULL, "/a/tab", false, &a), 0);
	cr_assert_eq(hb_migrate_source_label(NULL, "/b/tab", false, &b), 0);
	cr_assert(strncmp(a, "file-tab-", 9) == 0 && strlen(a) == 15, "%s", a);
	cr_assert_str_neq(a, b);
	free(a);
	free(b);
	cr_assert_eq(hb_migrate_source_label("a.b", NULL, false, &a), 0);
	cr_assert_eq(hb_migrate_source_label("a_b", NULL, false, &b), 0);
	cr_assert(strncmp(a, "user-a.b-", 9) == 0, "%s", a);
	cr_assert_str_eq(b, "user-a_b");
	free(a);
	free(b);
}

Test(migrate, user_field_backup_and_crontab_argv)
{
	struct hb_strv argv = {0};
	char *p = NULL;

	cr_assert(hb_migrate_has_user_field("/etc/crontab", false));
	cr_assert(hb_migrate_has_user_field("/etc/cron.d/gov", false));
	cr_assert_not(hb_migrate_has_user_field("/srv/gov/crontab", false));
	cr_assert(hb_migrate_has_user_field("/srv/gov/crontab", true));
	cr_assert_eq(hb_migrate_backup_path("/etc/hb", "gov", NULL, &p), 0);
	cr_assert_str_eq(p, "/etc/hb/.backup/user-gov.crontab");
	free(p);
	cr_assert_eq(
		hb_migrate_backup_path("/etc/hb", NULL, "/etc/crontab", &p), 0);
	cr_assert_str_eq(p, "/etc/hb/.backup/%etc%crontab");
	free(p);
	/* The user crontab channel: crontab(1) reads and installs. */
	cr_assert_eq(hb_migrate_crontab_argv("gov", NULL, &argv), 0);
	cr_assert_eq(argv.n, 4);
	cr_assert_str_eq(argv.v[3], "-l");
	hb_strv_clear(&argv);
	cr_assert_eq(hb_migrate_crontab_argv("gov", "/etc/hb/.backup/t", &argv),
		     0);
	cr_assert_str_eq(argv.v[0], "crontab");
	cr_assert_str_eq(argv.v[1], "-u");
	cr_assert_str_eq(argv.v[2], "gov");
	cr_assert_str_eq(argv.v[3], "/etc/hb/.backup/t");
	cr_assert_null(argv.v[4]);
	hb_strv_clear(&argv);
}

static int parse_cli(struct hb_cli *cli, struct hb_diag *d, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	memset(d, 0, sizeof(*d));
	return hb_cli_parse(cli, argc, argv, d);
}

Test(migrate, options)
{
	struct hb_cli cli;
	struct hb_diag d;
	char *ok[] = {"hivebox",      "migrate", "-u",	    "gov",
		      "--policy-dir", "/etc/hb", "--apply", NULL};
	char *none[] = {"hivebox", "migrate", "--apply", NULL};
	char *two[] = {"hivebox",   "migrate", "-u", "gov",
		       "--crontab", "x",       NULL};
	char *both[] = {"hivebox", "migrate",	 "--crontab", "x",
			"--apply", "--rollback", NULL};
	char *field[] = {"hivebox", "migrate",	    "-u",
			 "gov",	    "--user-field", NULL};

	cr_assert_eq(parse_cli(&cli, &d, ok), 0, "%s", d.msg);
	cr_assert_eq(cli.verb, HB_VERB_MIGRATE);
	cr_assert_str_eq(cli.migrate.user, "gov");
	cr_assert_str_eq(cli.migrate.policy_dir, "/etc/hb");
	cr_assert(cli.migrate.apply);
	cr_assert_lt(parse_cli(&cli, &d, none), 0);
	cr_assert_not_null(strstr(d.msg, "name one crontab"));
	cr_assert_lt(parse_cli(&cli, &d, two), 0);
	cr_assert_lt(parse_cli(&cli, &d, both), 0);
	cr_assert_not_null(strstr(d.msg, "--apply and --rollback"));
	cr_assert_lt(parse_cli(&cli, &d, field), 0);
}

/* SPDX-License-Identifier: MIT */
/* cli.c: argv arrays in, struct hb_cli or a one-line error out. */
#include "cli.h"

#include <criterion/criterion.h>
#include <string.h>

static int parse_argv(struct hb_cli *cli, struct hb_diag *d, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return hb_cli_parse(cli, argc, argv, d);
}

/* cli->args points into the compound literal, which lives as long as the
 * block around the PARSE(): keep it out of an assertion's own block where
 * args are read afterwards. */
#define PARSE(cli, d, ...)                                                     \
	parse_argv(cli, d, (char *[]){"hivebox", __VA_ARGS__, NULL})

/* The parse must fail with exactly this message and no file or line. */
#define PARSE_FAILS(want, ...)                                                 \
	do {                                                                   \
		struct hb_cli c_;                                              \
		struct hb_diag d_ = {0};                                       \
		cr_assert_lt(PARSE(&c_, &d_, __VA_ARGS__), 0);                 \
		cr_assert_str_eq(d_.msg, want);                                \
		cr_assert_str_eq(d_.file, "");                                 \
		cr_assert_eq(d_.line, 0);                                      \
	} while (0)

Test(cli, minimal_run)
{
	struct hb_cli c;
	struct hb_diag d = {0};
	int r = PARSE(&c, &d, "--policy", "p.ini", "job.py");

	cr_assert_eq(r, 0, "%s", d.msg);
	cr_assert_eq(c.verb, HB_VERB_RUN);
	cr_assert_str_eq(c.policy, "p.ini");
	cr_assert_str_eq(c.script, "job.py");
	cr_assert_eq(c.n_args, 0);
	cr_assert_null(c.args[0]);
	cr_assert_not(c.dry_run);
	cr_assert_not(c.quiet);
	cr_assert_null(c.result_file);
	cr_assert_null(c.audit_dir);
	cr_assert_eq(c.result_fd, -1);
	cr_assert_eq(c.n_tighten, 0);
}

Test(cli, every_option)
{
	struct hb_cli c;
	struct hb_diag d = {0};
	int r = PARSE(&c, &d, "--dry-run", "--quiet", "--result", "r.json",
		      "--result-fd", "3", "--audit-dir", "/srv/audit",
		      "--workdir", "/srv/gov", "--policy=s.ini", "job.py", "a",
		      "b c");

	cr_assert_eq(r, 0, "%s", d.msg);
	cr_assert(c.dry_run);
	cr_assert(c.quiet);
	cr_assert_str_eq(c.result_file, "r.json");
	cr_assert_eq(c.result_fd, 3);
	cr_assert_str_eq(c.audit_dir, "/srv/audit");
	cr_assert_str_eq(c.workdir, "/srv/gov");
	cr_assert_str_eq(c.policy, "s.ini");
	cr_assert_str_eq(c.script, "job.py");
	cr_assert_eq(c.n_args, 2);
	cr_assert_str_eq(c.args[0], "a");
	cr_assert_str_eq(c.args[1], "b c");
	cr_assert_null(c.args[2]);
}

Test(cli, options_after_the_script_are_its_own)
{
	struct hb_cli c;
	struct hb_diag d = {0};
	int r = PARSE(&c, &d, "--policy", "p.ini", "job.py", "--dry-run",
		      "--policy", "other.ini", "--memory", "1", "-h");

	cr_assert_eq(r, 0, "%s", d.msg);
	cr_assert_eq(c.verb, HB_VERB_RUN);
	cr_assert_not(c.dry_run);
	cr_assert_str_eq(c.policy, "p.ini");
	cr_assert_eq(c.n_tighten, 0);
	cr_assert_str_eq(c.script, "job.py");
	cr_assert_eq(c.n_args, 6);
	cr_assert_str_eq(c.args[0], "--dry-run");
	cr_assert_str_eq(c.args[1], "--policy");
	cr_assert_str_eq(c.args[2], "other.ini");
	cr_assert_str_eq(c.args[5], "-h");
}

Test(cli, double_dash_ends_options)
{
	struct hb_cli c;
	struct hb_diag d = {0};
	int r = PARSE(&c, &d, "--policy", "p.ini", "--", "--weird.py", "x");

	cr_assert_eq(r, 0, "%s", d.msg);
	cr_assert_str_eq(c.script, "--weird.py");
	cr_assert_eq(c.n_args, 1);
	cr_assert_str_eq(c.args[0], "x");
}

Test(cli, tighten_options_recorded_with_flag)
{
	static const struct {
		enum hb_key key;
		const char *flag, *value;
	} want[] = {
		{HB_K_TIMEOUT, "--timeout", "10"},
		{HB_K_CPU, "--cpu", "5"},
		{HB_K_MEMORY, "--memory", "256"},
		{HB_K_FILE_SIZE, "--file-size", "1"},
		{HB_K_MAX_PROCESSES, "--max-processes", "2"},
		{HB_K_MAX_OPEN_FILES, "--max-open-files", "32"},
		{HB_K_TMP_SIZE, "--tmp-size", "8"},
	};
	struct hb_cli c;
	struct hb_diag d = {0};

	cr_assert_eq(PARSE(&c, &d, "--timeout", "10", "--cpu=5", "--memory",
			   "256", "--policy", "p.ini", "--file-size", "1",
			   "--max-processes", "2", "--max-open-files", "32",
			   "--tmp-size", "8", "job.py"),
		     0, "%s", d.msg);
	cr_assert_eq(c.n_tighten, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		cr_assert_eq(c.tighten[i].key, want[i].key, "%zu", i);
		cr_assert_str_eq(c.tighten[i].option, want[i].flag);
		cr_assert_str_eq(c.tighten[i].value, want[i].value);
	}
	cr_assert_str_eq(c.script, "job.py");
}

Test(cli, tighten_abbreviation_records_the_full_flag)
{
	struct hb_cli c;
	struct hb_diag d = {0};

	cr_assert_eq(
		PARSE(&c, &d, "--policy", "p.ini", "--mem", "64", "job.py"), 0,
		"%s", d.msg);
	cr_assert_eq(c.n_tighten, 1);
	cr_assert_eq(c.tighten[0].key, HB_K_MEMORY);
	cr_assert_str_eq(c.tighten[0].option, "--memory");
	cr_assert_str_eq(c.tighten[0].value, "64");
}

Test(cli, tighten_values_are_checked_later)
{
	/* The CLI records text; hb_policy_tighten() judges it. */
	struct hb_cli c;
	struct hb_diag d = {0};

	cr_assert_eq(
		PARSE(&c, &d, "--policy", "p.ini", "--cpu", "lots", "job.py"),
		0);
	cr_assert_str_eq(c.tighten[0].value, "lots");
}

/* Every tightening asked for must be honoured or refused: dropping one
 * silently would run the script under a looser limit than the caller
 * asked for. */
Test(cli, many_tighten_options_are_not_dropped)
{
	struct hb_cli c;
	struct hb_diag d = {0};
	int r = PARSE(&c, &d, "--policy", "p.ini", "--memory", "500",
		      "--memory", "400", "--memory", "300", "--memory", "200",
		      "--memory", "100", "--memory", "90", "--memory", "80",
		      "--memory", "70", "--memory", "16", "job.py");

	cr_assert_eq(r, 0, "%s", d.msg);
	cr_assert_eq(c.n_tighten, 9, "%zu of 9 tightening options kept",
		     c.n_tighten);
	cr_assert_str_eq(c.tighten[c.n_tighten - 1].value, "16",
			 "%zu of 9 tightening options kept; the last, "
			 "--memory 16, was silently dropped",
			 c.n_tighten);
}

/* One more than there is room for is an error, never a silent drop. */
Test(cli, too_many_tighten_options_are_refused)
{
	enum { N = ARRAY_SIZE(((struct hb_cli *)0)->tighten) + 1 };
	char *argv[2 * N + 5];
	struct hb_cli c;
	struct hb_diag d = {0};
	int argc = 0;

	argv[argc++] = "hivebox";
	argv[argc++] = "--policy";
	argv[argc++] = "p.ini";
	for (int i = 0; i < N; i++) {
		argv[argc++] = "--memory";
		argv[argc++] = "64";
	}
	argv[argc++] = "job.py";
	argv[argc] = NULL;
	cr_assert_eq(N, 33);
	cr_assert_lt(hb_cli_parse(&c, argc, argv, &d), 0);
	cr_assert_str_eq(d.msg, "too many limit options");
	/* 32 fit. */
	argv[argc - 3] = "job.py";
	argv[argc - 2] = NULL;
	cr_assert_eq(hb_cli_parse(&c, argc - 2, argv, &d), 0, "%s", d.msg);
	cr_assert_eq(c.n_tighten, 32);
}

Test(cli, policy_show)
{
	struct hb_cli c;
	struct hb_diag d = {0};

	cr_assert_eq(PARSE(&c, &d, "policy", "show", "strict.ini"), 0, "%s",
		     d.msg);
	cr_assert_eq(c.verb, HB_VERB_POLICY_SHOW);
	cr_assert_str_eq(c.policy, "strict.ini");
	cr_assert_null(c.script);
}

Test(cli, policy_verb_errors)
{
	static const char usage[] =
		"usage: hivebox policy show|explain [--json]|lint FILE | "
		"hivebox policy groups";

	PARSE_FAILS(usage, "policy");
	PARSE_FAILS(usage, "policy", "explain", "--yaml", "a.ini");
	PARSE_FAILS(usage, "policy", "lint", "--json", "a.ini");
	PARSE_FAILS(usage, "policy", "list", "x");
	PARSE_FAILS(usage, "policy", "show");
	PARSE_FAILS(usage, "policy", "show", "a", "b");
	PARSE_FAILS(usage, "policy", "groups", "extra");
}

Test(cli, policy_explain_and_lint)
{
	struct hb_cli c;
	struct hb_diag d = {0};

	cr_assert_eq(PARSE(&c, &d, "policy", "explain", "a.ini"), 0);
	cr_assert_eq(c.verb, HB_VERB_POLICY_EXPLAIN);
	cr_assert_str_eq(c.policy, "a.ini");
	cr_assert_not(c.policy_json);
	cr_assert_eq(PARSE(&c, &d, "policy", "explain", "a.ini", "--json"), 0);
	cr_assert(c.policy_json);
	cr_assert_str_eq(c.policy, "a.ini");
	cr_assert_eq(PARSE(&c, &d, "policy", "explain", "--json", "b.ini"), 0);
	cr_assert(c.policy_json);
	cr_assert_str_eq(c.policy, "b.ini");
	cr_assert_eq(PARSE(&c, &d, "policy", "lint", "a.ini"), 0);
	cr_assert_eq(c.verb, HB_VERB_POLICY_LINT);
}

Test(cli, audit_verb_errors)
{
	static const char usage[] =
		"usage: hivebox audit init|verify|show|stats|rotate [options]";

	PARSE_FAILS(usage, "audit");
	PARSE_FAILS(usage, "audit", "list");
	PARSE_FAILS(usage, "audit", "--dir", "/srv/audit");
	PARSE_FAILS("unknown option '--bogus' for audit show", "audit", "show",
		    "--bogus");
	PARSE_FAILS("unknown option '-x' for audit stats", "audit", "stats",
		    "-x");
	PARSE_FAILS("option '--dir' needs a value", "audit", "show", "--dir");
	PARSE_FAILS("unexpected argument 'extra' for audit show", "audit",
		    "show", "extra");
	PARSE_FAILS("unexpected argument 'b.log' for audit verify", "audit",
		    "verify", "a.log", "b.log");
	/* Only verify takes a file. */
	PARSE_FAILS("unexpected argument 'execution_audit.log' for audit "
		    "rotate",
		    "audit", "rotate", "execution_audit.log");
}

Test(cli, audit_verify_file)
{
	struct hb_cli c;
	struct hb_diag d = {0};

	cr_assert_eq(PARSE(&c, &d, "audit", "verify", "--key", "k.key",
			   "/srv/audit/execution_audit.log"),
		     0, "%s", d.msg);
	cr_assert_eq(c.verb, HB_VERB_AUDIT);
	cr_assert_str_eq(c.audit.sub, "verify");
	cr_assert_str_eq(c.audit.key_file, "k.key");
	cr_assert_str_eq(c.audit.file, "/srv/audit/execution_audit.log");
	cr_assert_null(c.audit.dir);
	cr_assert_eq(PARSE(&c, &d, "audit", "verify", "--dir", "/srv/audit"), 0,
		     "%s", d.msg);
	cr_assert_null(c.audit.file);
	cr_assert_str_eq(c.audit.dir, "/srv/audit");
}

Test(cli, policy_groups_verb)
{
	struct hb_cli c;
	struct hb_diag d = {0};

	cr_assert_eq(PARSE(&c, &d, "policy", "groups"), 0);
	cr_assert_eq(c.verb, HB_VERB_POLICY_GROUPS);
}

Test(cli, help_and_version)
{
	struct hb_cli c;
	struct hb_diag d = {0};

	cr_assert_eq(PARSE(&c, &d, "--help"), 0);
	cr_assert_eq(c.verb, HB_VERB_HELP);
	cr_assert_eq(PARSE(&c, &d, "-h"), 0);
	cr_assert_eq(c.verb, HB_VERB_HELP);
	cr_assert_eq(PARSE(&c, &d, "--version"), 0);
	cr_assert_eq(c.verb, HB_VERB_VERSION);
	/* Help needs no policy and wins over a missing script. */
	cr_assert_eq(PARSE(&c, &d, "--policy", "p.ini", "--help"), 0);
	cr_assert_eq(c.verb, HB_VERB_HELP);
}

Test(cli, no_policy)
{
	PARSE_FAILS("no policy: use --policy FILE (try --help)", "job.py");
	PARSE_FAILS("no policy: use --policy FILE (try --help)", "--dry-run",
		    "job.py", "--policy", "p.ini");
}

Test(cli, no_script)
{
	PARSE_FAILS("no script to run (try --help)", "--policy", "p.ini");
	PARSE_FAILS("no script to run (try --help)", "--policy", "p.ini", "--");
}

Test(cli, unknown_option)
{
	PARSE_FAILS("unknown option '--bogus' (try --help)", "--policy",
		    "p.ini", "--bogus", "job.py");
	PARSE_FAILS("unknown option '--bogus=1' (try --help)", "--bogus=1",
		    "--policy", "p.ini", "job.py");
	PARSE_FAILS("unknown option '-x' (try --help)", "--policy", "p.ini",
		    "-x", "job.py");
	/* Ambiguous: --max-processes or --max-open-files. */
	PARSE_FAILS("unknown option '--max' (try --help)", "--policy", "p.ini",
		    "--max", "3", "job.py");
	/* A flag that takes no value. */
	PARSE_FAILS("unknown option '--dry-run=yes' (try --help)", "--policy",
		    "p.ini", "--dry-run=yes", "job.py");
}

/* The message must name what the user typed, not a neighbouring word. */
Test(cli, unknown_option_in_a_cluster)
{
	struct hb_cli c;
	struct hb_diag d = {0};

	cr_assert_lt(PARSE(&c, &d, "--policy", "p.ini", "-xq", "job.py"), 0);
	cr_assert_null(strstr(d.msg, "p.ini"), "names the policy file: %s",
		       d.msg);
	cr_assert_not_null(strstr(d.msg, "-x"), "%s", d.msg);
}

Test(cli, missing_value)
{
	PARSE_FAILS("option '--policy' needs a value", "--policy");
	PARSE_FAILS("option '--memory' needs a value", "--policy", "p.ini",
		    "--memory");
	PARSE_FAILS("option '--result' needs a value", "--policy", "p.ini",
		    "--result");
	PARSE_FAILS("option '--result-fd' needs a value", "--policy", "p.ini",
		    "--result-fd");
}

Test(cli, bad_result_fd)
{
	PARSE_FAILS("bad value 'abc' for --result-fd: expected a descriptor "
		    "number",
		    "--policy", "p.ini", "--result-fd", "abc", "job.py");
	PARSE_FAILS("bad value '-1' for --result-fd: expected a descriptor "
		    "number",
		    "--policy", "p.ini", "--result-fd", "-1", "job.py");
	PARSE_FAILS("bad value '' for --result-fd: expected a descriptor "
		    "number",
		    "--policy", "p.ini", "--result-fd=", "job.py");
	PARSE_FAILS("bad value '99999999999' for --result-fd: expected a "
		    "descriptor number",
		    "--policy", "p.ini", "--result-fd", "99999999999",
		    "job.py");
}

Test(cli, result_fd_zero_and_large)
{
	struct hb_cli c;
	struct hb_diag d = {0};

	cr_assert_eq(PARSE(&c, &d, "--result-fd", "0", "--policy", "p", "s.py"),
		     0);
	cr_assert_eq(c.result_fd, 0);
	cr_assert_eq(PARSE(&c, &d, "--result-fd", "1048576", "--policy", "p",
			   "s.py"),
		     0);
	cr_assert_eq(c.result_fd, 1048576);
}

Test(cli, parses_twice_from_scratch)
{
	/* getopt keeps state in globals: a second parse must not resume
	 * where the first stopped, nor keep its fields. */
	struct hb_cli c;
	struct hb_diag d = {0};

	cr_assert_eq(PARSE(&c, &d, "--dry-run", "--memory", "64", "--policy",
			   "a.ini", "one.py", "x"),
		     0);
	cr_assert_eq(PARSE(&c, &d, "--policy", "b.ini", "two.py"), 0, "%s",
		     d.msg);
	cr_assert_str_eq(c.policy, "b.ini");
	cr_assert_str_eq(c.script, "two.py");
	cr_assert_eq(c.n_args, 0);
	cr_assert_not(c.dry_run);
	cr_assert_eq(c.n_tighten, 0);
	cr_assert_eq(c.result_fd, -1);
}

Test(cli, usage_mentions_every_option)
{
	static const char *const opts[] = {
		"--policy",	   "--dry-run",	       "--result ",
		"--result-fd",	   "--quiet",	       "--timeout",
		"--cpu",	   "--memory",	       "--file-size",
		"--max-processes", "--max-open-files", "--tmp-size",
		"--help",	   "--version",	       "policy show",
		"--audit-dir",	   "--config",	       "--export-filter",
		"policy groups",   "hivebox audit ",
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	hb_cli_usage(f);
	fclose(f);
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		cr_assert_not_null(strstr(buf, opts[i]), "usage lacks %s",
				   opts[i]);
	free(buf);
}

Test(cli, shell_takes_every_operand_as_an_argument)
{
	struct hb_cli c;
	struct hb_diag d = {0};
	int r = PARSE(&c, &d, "shell", "--policy", "p.ini", "--record",
		      "t.cast", "--timeout", "60", "--", "a", "--b");

	cr_assert_eq(r, 0, "%s", d.msg);
	cr_assert_eq(c.verb, HB_VERB_SHELL);
	cr_assert_str_eq(c.policy, "p.ini");
	cr_assert_str_eq(c.record_file, "t.cast");
	cr_assert_null(c.script);
	cr_assert_eq(c.n_tighten, 1);
	cr_assert_eq(c.n_args, 2);
	cr_assert_str_eq(c.args[0], "a");
	cr_assert_str_eq(c.args[1], "--b");
}

Test(cli, shell_without_arguments)
{
	struct hb_cli c;
	struct hb_diag d = {0};
	int r = PARSE(&c, &d, "shell", "--policy", "p.ini");

	cr_assert_eq(r, 0, "%s", d.msg);
	cr_assert_eq(c.verb, HB_VERB_SHELL);
	cr_assert_null(c.record_file);
	cr_assert_eq(c.n_args, 0);
}

Test(cli, shell_needs_a_policy)
{
	PARSE_FAILS("no policy: use --policy FILE (try --help)", "shell");
}

Test(cli, record_is_for_shell_only)
{
	PARSE_FAILS("--record is an option of hivebox shell", "--record",
		    "t.cast", "--policy", "p.ini", "job.py");
}

Test(cli, replay_takes_an_id_and_its_options)
{
	struct hb_cli cli;
	struct hb_diag d = {0};

	cr_assert_eq(PARSE(&cli, &d, "replay", "--force", "07bc", "--audit-dir",
			   "/tmp/a", "--shell"),
		     0, "%s", d.msg);
	cr_assert_eq(cli.verb, HB_VERB_REPLAY);
	cr_assert_str_eq(cli.replay.exec_id, "07bc");
	cr_assert_str_eq(cli.audit_dir, "/tmp/a");
	cr_assert(cli.replay.force && cli.replay.shell && !cli.replay.help);
	cr_assert_null(cli.replay_of);
	cr_assert_eq(PARSE(&cli, &d, "replay", "--help"), 0);
	cr_assert(cli.replay.help);
}

Test(cli, replay_needs_exactly_one_id)
{
	PARSE_FAILS("usage: hivebox replay EXEC_ID [--shell] [--force] "
		    "[--audit-dir DIR]",
		    "replay");
	PARSE_FAILS("usage: hivebox replay EXEC_ID [--shell] [--force] "
		    "[--audit-dir DIR]",
		    "replay", "a", "b");
	PARSE_FAILS("replay: an empty exec id names no run", "replay", "");
	PARSE_FAILS("unknown option '--policy' for replay", "replay", "a",
		    "--policy", "p.ini");
}

Test(cli, doctor_options)
{
	struct hb_cli cli;
	struct hb_diag d = {0};

	cr_assert_eq(PARSE(&cli, &d, "doctor", "--json", "--fix", "--config",
			   "c.conf", "--audit-dir", "log", "--key", "k",
			   "--policies", "p"),
		     0);
	cr_assert_eq(cli.verb, HB_VERB_DOCTOR);
	cr_assert(cli.doctor.json && cli.doctor.fix && !cli.doctor.help);
	cr_assert_str_eq(cli.config, "c.conf");
	cr_assert_str_eq(cli.audit_dir, "log");
	cr_assert_str_eq(cli.doctor.key_file, "k");
	cr_assert_str_eq(cli.doctor.policies_dir, "p");
	PARSE_FAILS("unexpected argument 'now' for doctor", "doctor", "now");
	PARSE_FAILS("option '--key' needs a value", "doctor", "--key");
}

/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <getopt.h>
#include <string.h>

enum {
	OPT_POLICY = 1000,
	OPT_DRY_RUN,
	OPT_RESULT,
	OPT_RESULT_FD,
	OPT_QUIET,
	OPT_AUDIT_DIR,
	OPT_EXPORT_FILTER,
	OPT_CONFIG,
	OPT_WORKDIR,
	OPT_RECORD,
	OPT_TIGHTEN, /* + index into tighten_opts */
};

static const struct {
	const char *name;
	const char *flag;
	enum hb_key key;
} tighten_opts[] = {
	{"timeout", "--timeout", HB_K_TIMEOUT},
	{"cpu", "--cpu", HB_K_CPU},
	{"memory", "--memory", HB_K_MEMORY},
	{"file-size", "--file-size", HB_K_FILE_SIZE},
	{"max-processes", "--max-processes", HB_K_MAX_PROCESSES},
	{"max-open-files", "--max-open-files", HB_K_MAX_OPEN_FILES},
	{"tmp-size", "--tmp-size", HB_K_TMP_SIZE},
	{"write-quota-mb", "--write-quota-mb", HB_K_WRITE_QUOTA_MB},
	{"write-quota-files", "--write-quota-files", HB_K_WRITE_QUOTA_FILES},
};

void hb_cli_usage(FILE *out)
{
	fputs("Usage: hivebox [OPTIONS] --policy FILE SCRIPT [ARG...]\n"
	      "       hivebox shell [OPTIONS] --policy FILE [--record FILE] "
	      "[-- ARG...]\n"
	      "       hivebox policy show FILE\n"
	      "       hivebox policy groups\n"
	      "       hivebox policy explain [--json] FILE\n"
	      "       hivebox policy lint FILE\n"
	      "       hivebox check [--policy FILE] [--json] [--fail-at "
	      "LEVEL] SCRIPT...\n"
	      "       hivebox audit init|verify|show|stats|rotate [--dir DIR] "
	      "...\n"
	      "       hivebox replay EXEC_ID [--shell] [--force] [--audit-dir "
	      "DIR]\n"
	      "       hivebox doctor [--json] [--fix] [--config FILE] "
	      "[--audit-dir DIR] ...\n"
	      "       hivebox migrate --crontab FILE | -u USER | --cron-d DIR "
	      "[--policy-dir DIR]\n"
	      "               [--learn] [--apply | --rollback]   (migrate "
	      "--help)\n"
	      "       hivebox learn [--policy BASE] -o POLICY [--network] "
	      "[--json] SCRIPT [ARG...]\n"
	      "\n"
	      "Run SCRIPT with the policy's interpreter in fresh user, mount, "
	      "PID,\n"
	      "network, IPC, UTS and cgroup namespaces, on a minimal read-only "
	      "root.\n"
	      "\n"
	      "Options:\n"
	      "  --policy FILE|NAME     the policy to run under (required); a\n"
	      "                         bare NAME is searched: "
	      "hivebox-policy(5)\n"
	      "  --dry-run              print the plan and run nothing\n"
	      "  --result FILE          write the result as JSON to FILE\n"
	      "  --result-fd N          write the result as JSON to descriptor "
	      "N\n"
	      "  --quiet                no alerts or notices on stderr; why a "
	      "run\n"
	      "                         failed or was refused is always said\n"
	      "  --workdir DIR          start in DIR, as 'cd DIR && hivebox' "
	      "would\n"
	      "  --audit-dir DIR        write the audit trail to DIR\n"
	      "  --config FILE          hivebox's own settings (default\n"
	      "                         /etc/hivebox/hivebox.conf)\n"
	      "  --export-filter FILE   with --dry-run: write the seccomp BPF "
	      "to FILE\n"
	      "  --record FILE          shell: keep a transcript of the "
	      "session's\n"
	      "                         output in FILE (asciicast v2)\n"
	      "  --timeout SECONDS      lower timeout_seconds\n"
	      "  --cpu SECONDS          lower cpu_seconds\n"
	      "  --memory MB            lower memory_mb\n"
	      "  --file-size MB         lower file_size_mb\n"
	      "  --max-processes N      lower max_processes\n"
	      "  --max-open-files N     lower max_open_files\n"
	      "  --tmp-size MB          lower tmp_size_mb\n"
	      "  --write-quota-mb MB    lower (or set) write_quota_mb\n"
	      "  --write-quota-files N  lower (or set) write_quota_files\n"
	      "  -h, --help             show this help\n"
	      "  --version              show the version\n"
	      "\n"
	      "hivebox shell opens the policy's interpreter as an "
	      "interactive prompt\n"
	      "in the same sandbox, on a terminal of its own; ARGs are its "
	      "sys.argv[1:].\n"
	      "It needs a terminal on stdin; its timeout is 3600 s unless the "
	      "policy\n"
	      "sets timeout_seconds.\n"
	      "\n"
	      "Options may only tighten the policy; a value above it is an "
	      "error.\n"
	      "Exit status: the script's own; 120 refused by [analysis] "
	      "refuse_at;\n"
	      "124 timeout; 125 hivebox refused or failed and nothing ran (the "
	      "result\n"
	      "says why); 126 interpreter cannot run; 127 interpreter not "
	      "found;\n"
	      "128+N killed by signal N.\n"
	      "See hivebox(1), hivebox-check(1), hivebox-policy(5).\n",
	      out);
}

static int parse_policy_verb(struct hb_cli *cli, int argc, char **argv,
			     struct hb_diag *diag)
{
	static const struct {
		const char *name;
		enum hb_verb verb;
	} subs[] = {
		{"show", HB_VERB_POLICY_SHOW},
		{"explain", HB_VERB_POLICY_EXPLAIN},
		{"lint", HB_VERB_POLICY_LINT},
	};

	if (argc == 3 && strcmp(argv[2], "groups") == 0) {
		cli->verb = HB_VERB_POLICY_GROUPS;
		return 0;
	}
	/* explain takes --json, before or after the file. */
	if (argc == 5 && strcmp(argv[2], "explain") == 0) {
		int json = strcmp(argv[3], "--json") == 0   ? 3
			   : strcmp(argv[4], "--json") == 0 ? 4
							    : 0;
		if (json) {
			cli->verb = HB_VERB_POLICY_EXPLAIN;
			cli->policy_json = true;
			cli->policy = argv[json == 3 ? 4 : 3];
			return 0;
		}
	}
	for (size_t i = 0; argc == 4 && i < ARRAY_SIZE(subs); i++)
		if (strcmp(argv[2], subs[i].name) == 0) {
			cli->verb = subs[i].verb;
			cli->policy = argv[3];
			return 0;
		}
	return hb_diag_set(diag, NULL, 0,
			   "usage: hivebox policy show|explain [--json]|lint "
			   "FILE | hivebox policy groups");
}

static const struct {
	const char *sub, *text;
} audit_usage[] = {
	{"init", "Usage: hivebox audit init [--dir DIR] [--key FILE | "
		 "--unsigned]\n"
		 "Create DIR and the key FILE (default " HB_CLI_DEFAULT_KEY
		 ") if missing,\n"
		 "and bind the key to DIR: every record written there from "
		 "now on is\n"
		 "signed with it.  --unsigned declares the trail unsigned on "
		 "purpose.\n"},
	{"verify", "Usage: hivebox audit verify [--dir DIR] [--key FILE] "
		   "[LOG]\n"
		   "Check both logs of DIR (or LOG, a name looked for in DIR, "
		   "or a path)\n"
		   "across rotated files: hash chain, HMAC with the "
		   "directory's key, head.\n"
		   "Exit 0 intact, 1 a bad record (named as file:line), 125 "
		   "cannot check.\n"},
	{"show", "Usage: hivebox audit show [--dir DIR] [--exec ID] [--since "
		 "TIME]\n"
		 "                          [--event KIND] [--script PATH] "
		 "[--json]\n"
		 "One row per run, oldest first, with its security events; "
		 "with --exec,\n"
		 "the run in full.  ID may be a unique prefix.  TIME: today, "
		 "yesterday,\n"
		 "Nd, Nh, Nm (ago), YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|"
		 "+hh:mm].\n"
		 "PATH is resolved against the current directory.\n"},
	{"stats", "Usage: hivebox audit stats [--dir DIR] [--since TIME] "
		  "[--exec ID]\n"
		  "                           [--event KIND] [--script PATH] "
		  "[--json]\n"
		  "Runs in total, succeeded (exit 0) and failed by reason, by "
		  "policy and by\n"
		  "script; violations by kind; alerts; median and p95 "
		  "duration.\n"},
	{"rotate", "Usage: hivebox audit rotate [--dir DIR]\n"
		   "Start new log files whose first records carry the last "
		   "hash of the old,\n"
		   "signed with the directory's key.\n"},
};

int hb_cli_bad_option(int opt, char **argv, const char *verb,
		      struct hb_diag *diag)
{
	if (opt == ':')
		return hb_diag_set(diag, NULL, 0, "option '%s' needs a value",
				   argv[optind - 1]);
	return hb_diag_set(diag, NULL, 0, "unknown option '%s' for %s",
			   argv[optind - 1], verb);
}

void hb_cli_audit_usage(const char *sub, FILE *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(audit_usage); i++)
		if (!sub || strcmp(sub, audit_usage[i].sub) == 0)
			fprintf(out, "%s%s", audit_usage[i].text,
				sub ? "See hivebox(1) AUDIT COMMANDS and "
				      "hivebox-audit(5).\n"
				    : "\n");
}

static int parse_audit_verb(struct hb_cli *cli, int argc, char **argv,
			    struct hb_diag *diag)
{
	static const char *const subs[] = {"init", "verify", "show", "stats",
					   "rotate"};
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"key", required_argument, NULL, 'k'},
		{"exec", required_argument, NULL, 'e'},
		{"since", required_argument, NULL, 's'},
		{"event", required_argument, NULL, 'E'},
		{"script", required_argument, NULL, 'S'},
		{"json", no_argument, NULL, 'j'},
		{"unsigned", no_argument, NULL, 'U'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct hb_audit_cli *a = &cli->audit;
	int c;

	cli->verb = HB_VERB_AUDIT;
	for (size_t i = 0; argc >= 3 && i < ARRAY_SIZE(subs); i++)
		if (strcmp(argv[2], subs[i]) == 0)
			a->sub = subs[i];
	if (!a->sub && argc == 3 &&
	    (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		a->help = true;
		return 0;
	}
	if (!a->sub)
		return hb_diag_set(diag, NULL, 0,
				   "usage: hivebox audit "
				   "init|verify|show|stats|rotate [options]");
	optind = 3;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			a->help = true;
			return 0;
		case 'd':
			a->dir = optarg;
			break;
		case 'k':
			a->key_file = optarg;
			break;
		case 'e':
			a->exec_id = optarg;
			break;
		case 's':
			a->since = optarg;
			break;
		case 'E':
			a->event = optarg;
			break;
		case 'S':
			a->script = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'U':
			a->unsigned_ = true;
			break;
		default: {
			char verb[32];

			snprintf(verb, sizeof(verb), "audit %s", a->sub);
			return hb_cli_bad_option(c, argv, verb, diag);
		}
		}
	}
	if (optind < argc && strcmp(a->sub, "verify") == 0)
		a->file = argv[optind++];
	if (optind < argc)
		return hb_diag_set(diag, NULL, 0,
				   "unexpected argument '%s' for audit %s",
				   argv[optind], a->sub);
	return 0;
}

static int parse_check_verb(struct hb_cli *cli, int argc, char **argv,
			    struct hb_diag *diag)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"fail-at", required_argument, NULL, 'f'},
		{"audit-dir", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct hb_check_cli *c = &cli->check;
	int o;

	cli->verb = HB_VERB_CHECK;
	optind = 2;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			cli->policy = optarg;
			break;
		case 'j':
			c->json = true;
			break;
		case 'f':
			c->fail_at = optarg;
			break;
		case 'a':
			cli->audit_dir = optarg;
			break;
		case 'h':
			cli->verb = HB_VERB_HELP;
			return 0;
		default:
			return hb_cli_bad_option(o, argv, "check", diag);
		}
	}
	if (c->fail_at && hb_risk_from_string(c->fail_at) < 0)
		return hb_diag_set(diag, NULL, 0,
				   "bad value '%s' for --fail-at: expected "
				   "none, low, medium, high or critical",
				   c->fail_at);
	if (optind >= argc)
		return hb_diag_set(diag, NULL, 0,
				   "usage: hivebox check [--policy FILE] "
				   "[--json] [--fail-at LEVEL] SCRIPT...");
	c->files = argv + optind;
	c->n_files = (size_t)(argc - optind);
	return 0;
}

void hb_cli_doctor_usage(FILE *out)
{
	fputs("Usage: hivebox doctor [--json] [--fix] [--config FILE] "
	      "[--audit-dir DIR]\n"
	      "                      [--key FILE] [--policies DIR]\n"
	      "\n"
	      "Check that this machine can run hivebox: the kernel's "
	      "features, hivebox's\n"
	      "own files, the trail and the policies.  One row per check, "
	      "with a verdict\n"
	      "(ok, warn, FAIL), what was found, a fix and what works "
	      "without it.\n"
	      "\n"
	      "  --json          one JSON object, the rows as an array\n"
	      "  --fix           first do what is safe and idempotent: create "
	      "the audit\n"
	      "                  directory (0750 root:adm) and the key (as "
	      "audit init\n"
	      "                  does), take others' bits off their modes; "
	      "say what was done\n"
	      "  --config FILE   hivebox.conf to check (default "
	      "/etc/hivebox/hivebox.conf)\n"
	      "  --audit-dir DIR the trail to check (default: the caller's)\n"
	      "  --key FILE      the audit key (default " HB_CLI_DEFAULT_KEY
	      ")\n"
	      "  --policies DIR  the policies to lint (default: "
	      "hivebox.conf's\n"
	      "                  [policies] system_dir, else "
	      "/etc/hivebox/policies)\n"
	      "\n"
	      "Exit status: 0 nothing fails; 1 something fails that "
	      "strict.ini does not\n"
	      "need; 2 strict.ini cannot run here; 125 bad usage.  See "
	      "hivebox(1), DOCTOR.\n",
	      out);
}

static int parse_doctor_verb(struct hb_cli *cli, int argc, char **argv,
			     struct hb_diag *diag)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"fix", no_argument, NULL, 'f'},
		{"config", required_argument, NULL, 'c'},
		{"audit-dir", required_argument, NULL, 'a'},
		{"key", required_argument, NULL, 'k'},
		{"policies", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct hb_doctor_cli *dc = &cli->doctor;
	int o;

	cli->verb = HB_VERB_DOCTOR;
	optind = 2;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (o) {
		case 'j':
			dc->json = true;
			break;
		case 'f':
			dc->fix = true;
			break;
		case 'c':
			cli->config = optarg;
			break;
		case 'a':
			cli->audit_dir = optarg;
			break;
		case 'k':
			dc->key_file = optarg;
			break;
		case 'p':
			dc->policies_dir = optarg;
			break;
		case 'h':
			dc->help = true;
			return 0;
		default:
			return hb_cli_bad_option(o, argv, "doctor", diag);
		}
	}
	if (optind < argc)
		return hb_diag_set(diag, NULL, 0,
				   "unexpected argument '%s' for doctor",
				   argv[optind]);
	return 0;
}

void hb_cli_replay_usage(FILE *out)
{
	fputs("Usage: hivebox replay EXEC_ID [--shell] [--force] [--audit-dir "
	      "DIR]\n"
	      "Run a recorded run again: the same script, arguments and start\n"
	      "directory, under the policy snapshot the trail stored (not "
	      "today's\n"
	      "file), then print both outcomes side by side.  EXEC_ID may be a "
	      "unique\n"
	      "prefix.  The trail must verify and the snapshot hash to its "
	      "record.\n"
	      "  --force      run the script though its SHA-256 differs from "
	      "the\n"
	      "               record (not needed with [audit] keep_scripts)\n"
	      "  --shell      open hivebox shell in the recorded sandbox "
	      "instead\n"
	      "  --audit-dir  the trail to look in (default: the caller's)\n"
	      "Exit status: the replay's own; 125 refused (one line says "
	      "why).\n"
	      "See hivebox(1) REPLAY.\n",
	      out);
}

static int parse_replay_verb(struct hb_cli *cli, int argc, char **argv,
			     struct hb_diag *diag)
{
	static const struct option opts[] = {
		{"shell", no_argument, NULL, 's'},
		{"force", no_argument, NULL, 'f'},
		{"audit-dir", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct hb_replay_cli *rp = &cli->replay;
	int o;

	cli->verb = HB_VERB_REPLAY;
	optind = 2;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			rp->shell = true;
			break;
		case 'f':
			rp->force = true;
			break;
		case 'a':
			cli->audit_dir = optarg;
			break;
		case 'h':
			rp->help = true;
			return 0;
		default:
			return hb_cli_bad_option(o, argv, "replay", diag);
		}
	}
	if (optind + 1 != argc)
		return hb_diag_set(diag, NULL, 0,
				   "usage: hivebox replay EXEC_ID [--shell] "
				   "[--force] [--audit-dir DIR]");
	if (!argv[optind][0])
		return hb_diag_set(diag, NULL, 0,
				   "replay: an empty exec id names no run");
	rp->exec_id = argv[optind];
	return 0;
}

static int parse_fd(const char *s, int *ret, struct hb_diag *diag)
{
	unsigned long long v;

	if (hb_parse_u64(s, 1 << 20, &v) < 0)
		return hb_diag_set(diag, NULL, 0,
				   "bad value '%s' for --result-fd: expected a "
				   "descriptor number",
				   s);
	*ret = (int)v;
	return 0;
}

/* A limit option: the policy key it lowers, in the order given. */
static int add_tighten(struct hb_cli *cli, int c, struct hb_diag *diag)
{
	size_t i = (size_t)(c - OPT_TIGHTEN);

	if (c < OPT_TIGHTEN)
		return 0;
	if (cli->n_tighten == ARRAY_SIZE(cli->tighten))
		return hb_diag_set(diag, NULL, 0, "too many limit options");
	cli->tighten[cli->n_tighten++] = (struct hb_tighten){
		tighten_opts[i].key, tighten_opts[i].flag, optarg};
	return 0;
}

/* One option getopt_long() returned: 0 to go on, 1 for --help and
 * --version, which end the parse, or an error in diag. */
static int take_option(struct hb_cli *cli, int c, char **argv,
		       struct hb_diag *diag)
{
	switch (c) {
	case OPT_POLICY:
		cli->policy = optarg;
		break;
	case OPT_DRY_RUN:
		cli->dry_run = true;
		break;
	case OPT_RESULT:
		cli->result_file = optarg;
		break;
	case OPT_RESULT_FD:
		return parse_fd(optarg, &cli->result_fd, diag);
	case OPT_QUIET:
		cli->quiet = true;
		break;
	case OPT_AUDIT_DIR:
		cli->audit_dir = optarg;
		break;
	case OPT_EXPORT_FILTER:
		cli->export_filter = optarg;
		break;
	case OPT_CONFIG:
		cli->config = optarg;
		break;
	case OPT_WORKDIR:
		cli->workdir = optarg;
		break;
	case OPT_RECORD:
		if (cli->verb != HB_VERB_SHELL)
			return hb_diag_set(diag, NULL, 0,
					   "--record is an option of hivebox "
					   "shell");
		cli->record_file = optarg;
		break;
	case 'h':
		cli->verb = HB_VERB_HELP;
		return 1;
	case 'V':
		cli->verb = HB_VERB_VERSION;
		return 1;
	case '?':
		/* optopt names a short option; a long one is the
		 * word getopt just stepped over. */
		if (optopt > 0 && optopt < 128)
			return hb_diag_set(diag, NULL, 0,
					   "unknown option '-%c' (try --help)",
					   optopt);
		return hb_diag_set(diag, NULL, 0,
				   "unknown option '%s' (try --help)",
				   argv[optind - 1]);
	case ':':
		return hb_diag_set(diag, NULL, 0, "option '%s' needs a value",
				   argv[optind - 1]);
	default:
		return add_tighten(cli, c, diag);
	}
	return 0;
}

int hb_cli_parse(struct hb_cli *cli, int argc, char **argv,
		 struct hb_diag *diag)
{
	struct option opts[ARRAY_SIZE(tighten_opts) + 13] = {
		{"policy", required_argument, NULL, OPT_POLICY},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"result", required_argument, NULL, OPT_RESULT},
		{"result-fd", required_argument, NULL, OPT_RESULT_FD},
		{"quiet", no_argument, NULL, OPT_QUIET},
		{"audit-dir", required_argument, NULL, OPT_AUDIT_DIR},
		{"export-filter", required_argument, NULL, OPT_EXPORT_FILTER},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"workdir", required_argument, NULL, OPT_WORKDIR},
		{"record", required_argument, NULL, OPT_RECORD},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
	};
	size_t n = 12;
	bool shell = argc >= 2 && strcmp(argv[1], "shell") == 0;
	int c, r;

	memset(cli, 0, sizeof(*cli));
	cli->result_fd = -1;
	if (argc >= 2 && strcmp(argv[1], "policy") == 0)
		return parse_policy_verb(cli, argc, argv, diag);
	if (argc >= 2 && strcmp(argv[1], "audit") == 0)
		return parse_audit_verb(cli, argc, argv, diag);
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return parse_check_verb(cli, argc, argv, diag);
	if (argc >= 2 && strcmp(argv[1], "replay") == 0)
		return parse_replay_verb(cli, argc, argv, diag);
	if (argc >= 2 && strcmp(argv[1], "doctor") == 0)
		return parse_doctor_verb(cli, argc, argv, diag);
	if (argc >= 2 && strcmp(argv[1], "migrate") == 0) {
		cli->verb = HB_VERB_MIGRATE;
		return hb_migrate_parse(&cli->migrate, argc, argv, diag);
	}
	for (size_t i = 0; i < ARRAY_SIZE(tighten_opts); i++)
		opts[n++] =
			(struct option){tighten_opts[i].name, required_argument,
					NULL, OPT_TIGHTEN + (int)i};
	if (shell)
		cli->verb = HB_VERB_SHELL;
	optind = shell ? 2 : 1;
	opterr = 0;
	/* "+": the first operand is the script; what follows is its own. */
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		r = take_option(cli, c, argv, diag);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	if (!cli->policy)
		return hb_diag_set(diag, NULL, 0,
				   "no policy: use --policy FILE (try --help)");
	if (shell) {
		/* Every operand is the prompt's: its sys.argv[1:]. */
		cli->args = argv + optind;
		cli->n_args = (size_t)(argc - optind);
		return 0;
	}
	if (optind >= argc)
		return hb_diag_set(diag, NULL, 0,
				   "no script to run (try --help)");
	cli->script = argv[optind];
	cli->args = argv + optind + 1;
	cli->n_args = (size_t)(argc - optind - 1);
	return 0;
}

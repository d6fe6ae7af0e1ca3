/* SPDX-License-Identifier: MIT */
/* The command line, parsed into data; main.c decides what to do. */
#pragma once

#include "migrate.h"
#include "policy.h"

#include <stdbool.h>

enum hb_verb {
	HB_VERB_RUN,
	HB_VERB_SHELL, /* hivebox shell --policy P [--record FILE] [-- ARGS] */
	HB_VERB_POLICY_SHOW,
	HB_VERB_POLICY_GROUPS,
	HB_VERB_POLICY_EXPLAIN,
	HB_VERB_POLICY_LINT,
	HB_VERB_AUDIT,
	HB_VERB_CHECK,
	HB_VERB_REPLAY,	 /* hivebox replay EXEC_ID [--shell] [--force] */
	HB_VERB_DOCTOR,	 /* hivebox doctor [--json] [--fix] */
	HB_VERB_MIGRATE, /* hivebox migrate SOURCE [--apply|--rollback] */
	HB_VERB_HELP,
	HB_VERB_VERSION,
};

struct hb_tighten {
	enum hb_key key;
	const char *option;
	const char *value;
};

/* The default key file, as the usage names it. */
#define HB_CLI_DEFAULT_KEY "/etc/hivebox/audit.key"

/* hivebox audit SUB [options] */
struct hb_audit_cli {
	const char *sub; /* init, verify, show, stats, rotate */
	const char *dir;
	const char *key_file;
	const char *exec_id;
	const char *since; /* an ISO 8601 time or date prefix */
	const char *event; /* a security event kind */
	const char *script;
	const char *file; /* verify: one log file */
	bool json;
	bool unsigned_; /* init --unsigned */
	bool help;	/* --help: sub's usage (every sub's if NULL) */
};

/* hivebox check [--policy P] [--json] [--fail-at LEVEL] SCRIPT... */
struct hb_check_cli {
	bool json;
	const char *fail_at; /* NULL: the policy's refuse_at, or high */
	char **files;
	size_t n_files;
};

/* hivebox replay EXEC_ID [--shell] [--force] [--audit-dir DIR] */
struct hb_replay_cli {
	const char *exec_id; /* or a unique prefix of one */
	bool force;	     /* run a script whose hash has changed */
	bool shell;	     /* a prompt in the recorded sandbox instead */
	bool help;
};

/* hivebox doctor [--json] [--fix] [--config FILE] [--audit-dir DIR]
 * [--key FILE] [--policies DIR] */
struct hb_doctor_cli {
	bool json;
	bool fix;
	bool help;
	const char *key_file;	  /* NULL: HB_CLI_DEFAULT_KEY */
	const char *policies_dir; /* NULL: /etc/hivebox/policies */
};

struct hb_cli {
	enum hb_verb verb;
	struct hb_doctor_cli doctor; /* config and audit_dir below */
	struct hb_audit_cli audit;
	struct hb_check_cli check;   /* policy and audit_dir below */
	struct hb_replay_cli replay; /* audit_dir below */
	struct hb_migrate_cli migrate;
	/* Not an option: set by replay for the run it starts, whose start
	 * record names the run it reproduces. */
	const char *replay_of;
	/* Not an option either: replay's stored copy of the script. */
	bool have_script_fd;
	int script_fd;
	bool policy_json; /* policy explain --json */
	const char *policy;
	const char *script;
	char **args;
	size_t n_args;
	bool dry_run;
	bool quiet;
	const char *result_file;
	const char *record_file; /* shell --record FILE; NULL: none */
	const char *audit_dir;
	const char *export_filter;
	const char *config;  /* NULL: HB_CONFIG_DEFAULT, which may be absent */
	const char *workdir; /* --workdir; NULL: none */
	int result_fd;	     /* -1: none */
	struct hb_tighten tighten[32];
	size_t n_tighten;
};

int hb_cli_parse(struct hb_cli *cli, int argc, char **argv,
		 struct hb_diag *diag);
void hb_cli_usage(FILE *out);
/* A verb's getopt error (opt ':' or '?') for argv[optind - 1], in one
 * line: "option '--x' needs a value", "unknown option '--x' for VERB". */
int hb_cli_bad_option(int opt, char **argv, const char *verb,
		      struct hb_diag *diag);

/* hivebox doctor --help */
void hb_cli_doctor_usage(FILE *out);
/* hivebox replay --help */
void hb_cli_replay_usage(FILE *out);
/* hivebox audit [SUB] --help */
void hb_cli_audit_usage(const char *sub, FILE *out);

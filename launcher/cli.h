/* SPDX-License-Identifier: MIT */
/* The command line, parsed into data; main.c decides what to do. */
#pragma once

#include "policy.h"

#include <stdbool.h>

enum hb_verb {
	HB_VERB_RUN,
	HB_VERB_POLICY_SHOW,
	HB_VERB_HELP,
	HB_VERB_VERSION,
};

struct hb_tighten {
	enum hb_key key;
	const char *option;
	const char *value;
};

struct hb_cli {
	enum hb_verb verb;
	const char *policy;
	const char *script;
	char **args;
	size_t n_args;
	bool dry_run;
	bool quiet;
	const char *result_file;
	const char *audit_dir;
	int result_fd; /* -1: none */
	struct hb_tighten tighten[8];
	size_t n_tighten;
};

int hb_cli_parse(struct hb_cli *cli, int argc, char **argv,
		 struct hb_diag *diag);
void hb_cli_usage(FILE *out);

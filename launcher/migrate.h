/* SPDX-License-Identifier: MIT */
/* hivebox migrate: a crontab's Python jobs found, scored, given a policy
 * each, and (--apply) run under hivebox; --rollback puts the crontab
 * back.  The crontab's text is handled by migrate_cron.c; this file
 * reads and installs crontabs, runs `hivebox check` (and `hivebox learn`)
 * on each job, and writes the policies. */
#pragma once

#include "util.h"

#include <stdbool.h>
#include <stdio.h>

/* Where the policies (and .backup/) go when --policy-dir is not given. */
#define HB_MIGRATE_DIR "/etc/hivebox/migrated"
/* The user crontab channel: crontab(1). */
#define HB_MIGRATE_CRONTAB "/usr/bin/crontab"

struct hb_migrate_cli {
	const char *crontab;	/* --crontab FILE */
	const char *user;	/* -u USER */
	const char *cron_d;	/* --cron-d DIR */
	const char *policy_dir; /* NULL: HB_MIGRATE_DIR */
	const char *base;	/* --base FILE; NULL: the shipped strict.ini */
	const char *audit_dir;	/* for the check (and learn) runs */
	bool user_field;	/* --user-field: FILE has one */
	bool learn, apply, rollback, help;
	bool repropose; /* replace the policies an earlier run wrote */
	int min_score;	/* --apply wraps no job that scores less */
};

/* --min-score when not given. */
#define HB_MIGRATE_MIN_SCORE 50

/* hivebox migrate's options, from argv[2] on. */
int hb_migrate_parse(struct hb_migrate_cli *m, int argc, char **argv,
		     struct hb_diag *diag);
void hb_migrate_usage(FILE *out);

/* The whole verb: its report on out; 0, or -errno with diag set. */
int hb_migrate_run(const struct hb_migrate_cli *m, FILE *out,
		   struct hb_diag *diag);

/* Does FILE (given with --crontab) have a user field: --user-field, or
 * it is /etc/crontab, or it lies in a directory named cron.d. */
bool hb_migrate_has_user_field(const char *path, bool flag);
/* What a source's policy names start with: user-USER (and H, a hash of
 * USER, if it holds a character a policy name cannot), or crond-NAME-H
 * (a file of --cron-d) or file-NAME-H (--crontab), NAME the file's name
 * and H six hex digits of a hash of its absolute path: two sources never
 * share a name, and a source keeps its name run after run. */
int hb_migrate_source_label(const char *user, const char *path, bool cron_d,
			    char **ret);
/* The policy file's name for a job: SOURCE-STEM.ini, made of letters,
 * digits, '_' and '-' only; n > 1 adds "-N". */
int hb_migrate_policy_name(const char *source, const char *script, unsigned n,
			   char **ret);
/* Where the backup of a source is kept under the policy directory:
 * .backup/user-USER.crontab, or .backup/ and the file's absolute path
 * with '/' as '%'. */
int hb_migrate_backup_path(const char *policy_dir, const char *user,
			   const char *file, char **ret);
/* The argv that reads (-l) or installs (FILE) a user's crontab. */
int hb_migrate_crontab_argv(const char *user, const char *file,
			    struct hb_strv *ret);

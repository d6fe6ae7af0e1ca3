/* SPDX-License-Identifier: MIT */
/* Shared between migrate.c (sources, apply, rollback) and migrate_job.c
 * (each job: where it runs, its policy, its score). */
#pragma once

#include "migrate.h"
#include "migrate_cron.h"

#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

struct hb_mig_source {
	char *label;	  /* policy names start with it */
	char *path;	  /* a file source, absolute; NULL for -u USER */
	const char *user; /* -u USER */
	bool user_field;
	uid_t owner;	/* a file without a user field: its jobs run as him */
	struct stat st; /* a file: as read, for its rewrite's mode, owner */
	int dir_fd;	/* a file, --apply or --rollback: its directory */
	char *text;
	size_t len;
};

struct hb_mig_job {
	size_t line, cmd; /* indexes into the crontab's lines, its commands */
	struct hb_cron_py py;
	char *user, *cwd, *script, *interp, *venv, *policy;
	bool missing, args_plain; /* args_plain: no argument is computed */
	bool parses;		  /* hivebox check judged it, and it parses */
	int score;
};

struct hb_mig_ctx {
	const struct hb_migrate_cli *m;
	char *policy_dir; /* absolute */
	int dir_fd;	  /* policy_dir, opened once and checked: ours */
	int backup_fd;	  /* its .backup, likewise; -1 until needed */
	char *base;	  /* absolute */
	char hivebox[PATH_MAX];
	struct hb_strv names; /* the policy files named in this run */
	const char *source; /* the crontab being read, as the report names it */
	const char *label;  /* ... as its policies' names and headers do */
	FILE *out;
};

/* The largest crontab read, and four times that for what a program
 * run on it prints. */
#define CRONTAB_MAX (1u << 20)

/* Write len bytes to path (relative to dirfd, or AT_FDCWD) through a
 * temporary file in the same directory and a rename: path is the old
 * file or the new, never half.  Mode and owner as like's, or mode. */
int hb_mig_write_atomic(int dirfd, const char *path, const char *text,
			size_t len, mode_t mode, const struct stat *like);
/* The policy directory's fd, and the name of path in it. */
static inline const char *hb_mig_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The Python jobs of t, resolved: where they run, as whom, what. */
int hb_mig_find_jobs(const struct hb_mig_source *s, const struct hb_crontab *t,
		     struct hb_mig_job **ret, size_t *ret_n);
void hb_mig_jobs_free(struct hb_mig_job *jobs, size_t n);
/* Propose (and with --learn learn) the job's policy, score it, print the
 * score and its reasons.  A failure to write the policy is an error. */
int hb_mig_score(struct hb_mig_ctx *c, const struct hb_crontab *t,
		 struct hb_mig_job *j, struct hb_diag *diag);

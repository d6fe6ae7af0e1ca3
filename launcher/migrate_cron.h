/* SPDX-License-Identifier: MIT */
/* The pure half of hivebox migrate: a crontab's text into lines, each
 * job's command into the shell's simple commands, the Python ones found,
 * and the edits that wrap them spliced back into the text.  Text in,
 * structures and text out: nothing here reads a file or runs anything. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum hb_cron_kind {
	HB_CRON_BLANK,
	HB_CRON_COMMENT,
	HB_CRON_ENV, /* NAME = value */
	HB_CRON_JOB,
	HB_CRON_BAD, /* left as it is, reported with its line number */
};

/* One word of a simple command: where it is in the crontab's text and
 * its value after the shell's quote removal.  plain: the value is what
 * the shell would pass (no $, `, glob or leading ~ unquoted). */
struct hb_cron_word {
	size_t start, end;
	char *value;
	bool plain;
};

/* One simple command, without its redirections (the shell does those
 * whatever the program is); its leading VAR=value assignments apart. */
struct hb_cron_cmd {
	struct hb_cron_word *w;
	size_t n;
	struct hb_cron_word *assign; /* "NAME=value" */
	size_t n_assign;
};

struct hb_cron_line {
	enum hb_cron_kind kind;
	unsigned lineno;
	size_t start, end;	   /* the line, without its newline */
	char *name, *value;	   /* HB_CRON_ENV */
	char *user;		   /* HB_CRON_JOB with a user field */
	size_t cmd_start, cmd_end; /* the command, up to an unescaped % */
	struct hb_cron_cmd *cmds;
	size_t n_cmds;
	const char *why; /* HB_CRON_BAD */
};

struct hb_crontab {
	const char *text; /* borrowed */
	size_t len;
	bool user_field; /* /etc/crontab, cron.d: a user before the command */
	struct hb_cron_line *lines;
	size_t n;
};

int hb_crontab_parse(struct hb_crontab *t, const char *text, size_t len,
		     bool user_field);
void hb_crontab_free(struct hb_crontab *t);
/* The last value an env line gives name before line index, or NULL. */
const char *hb_crontab_env(const struct hb_crontab *t, size_t before,
			   const char *name);

/* What the python command line asked of the interpreter, kept in the
 * policy as the variable of the same meaning. */
struct hb_py_opts {
	bool unbuffered;  /* -u: PYTHONUNBUFFERED=1 */
	bool no_bytecode; /* -B: PYTHONDONTWRITEBYTECODE=1 */
	int optimize;	  /* -O, -OO: PYTHONOPTIMIZE=N */
};

enum hb_py_form {
	HB_PY_NONE,    /* not a python command; maybe a script, by shebang */
	HB_PY_INTERP,  /* python3 [OPTIONS] SCRIPT [ARGS] */
	HB_PY_DIRECT,  /* SCRIPT [ARGS], a python shebang (set by caller) */
	HB_PY_WRAPPED, /* hivebox ... already */
	HB_PY_REFUSED, /* python, but not a script it can wrap: why says */
};

struct hb_cron_py {
	enum hb_py_form form;
	size_t prog;   /* word of the program (after exec, nohup) */
	size_t script; /* word of the script */
	struct hb_py_opts opts;
	const char *policy; /* HB_PY_WRAPPED: its --policy, or NULL */
	const char *why;    /* HB_PY_REFUSED */
};

/* Is the file name an interpreter's: python, python3, python3.11? */
bool hb_cron_is_python(const char *path);
/* Classify one simple command. */
void hb_cron_python(const struct hb_cron_cmd *c, struct hb_cron_py *ret);
/* A script's first line: 1 and the interpreter (malloc'd: a path, or a
 * bare name that #!/usr/bin/env names) and its options when it is a
 * python shebang, 0 when not, -errno. */
int hb_cron_shebang(const char *line, char **ret_interp,
		    struct hb_py_opts *ret_opts);

/* One change to the text: [start, end) replaced by text. */
struct hb_cron_edit {
	size_t start, end;
	char *text;
};

/* Can s stand in a crontab command unquoted: no blank, quote, $, %, or
 * other character the shell or cron would read? */
bool hb_cron_safe_word(const char *s);
/* The edit that runs the job under "HIVEBOX --policy POLICY": the
 * interpreter and its options replaced, or the script prefixed; the
 * script, its arguments and everything around them kept.  A script the
 * shell finds along PATH (a bare name) is replaced by script, its
 * absolute path, which must stand unquoted: -EINVAL if not. */
int hb_cron_wrap(const struct hb_cron_cmd *c, const struct hb_cron_py *py,
		 const char *hivebox, const char *policy, const char *script,
		 struct hb_cron_edit *ret);
/* The text with the edits (sorted by start, not overlapping) made. */
int hb_cron_splice(const char *text, size_t len,
		   const struct hb_cron_edit *edits, size_t n, char **ret,
		   size_t *ret_len);

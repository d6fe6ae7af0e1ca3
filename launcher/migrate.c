/* SPDX-License-Identifier: MIT */
/* hivebox migrate: read a crontab, find its Python jobs, score each with
 * `hivebox check` against the policy proposed for it, write that policy,
 * and with --apply put the job under hivebox; --rollback undoes it.
 * hivebox check and hivebox learn are run as hivebox runs any verb of its
 * own: /proc/self/exe, executed, never through a shell. */
#include "cli.h"
#include "migrate.h"
#include "check.h"
#include "migrate_cron.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void hb_migrate_usage(FILE *out)
{
	fputs("Usage: hivebox migrate [--crontab FILE [--user-field] | -u USER "
	      "| --cron-d DIR]\n"
	      "                       [--policy-dir DIR] [--base FILE] "
	      "[--audit-dir DIR]\n"
	      "                       [--learn] [--repropose] [--min-score N]\n"
	      "                       [--apply | --rollback]\n"
	      "Find the Python jobs of a crontab, score how well each would "
	      "run under\n"
	      "hivebox, and write a policy for each into the policy directory "
	      "(default\n" HB_MIGRATE_DIR
	      ").  Without --apply or --rollback nothing else changes:\n"
	      "the scores and the lines that would change are printed.\n"
	      "  --crontab FILE  a crontab file; it has a user field when it "
	      "is "
	      "/etc/crontab,\n"
	      "                  lies in a cron.d directory, or with "
	      "--user-field\n"
	      "  -u USER         USER's crontab, read and installed with "
	      "crontab(1)\n"
	      "  --cron-d DIR    every file cron reads in DIR (/etc/cron.d)\n"
	      "  --base FILE     the policy each one extends (default: the "
	      "shipped strict.ini)\n"
	      "  --audit-dir DIR where the hivebox check runs of the scoring "
	      "keep their trail\n"
	      "  --learn         also run each job once under 'hivebox learn': "
	      "this EXECUTES\n"
	      "                  it, as the script's owner, on a read-only "
	      "view "
	      "of the host\n"
	      "  --repropose     propose anew the policies an earlier run "
	      "wrote (kept\n"
	      "                  as they are, and reviewed edits with them, "
	      "without it)\n"
	      "  --min-score N   --apply wraps only the jobs that parse and "
	      "score at least N\n"
	      "                  (default 50); the others are left as they "
	      "are\n"
	      "  --apply         back the crontab up, then run each job under "
	      "hivebox --policy\n"
	      "  --rollback      put back the crontab saved by --apply, byte "
	      "for "
	      "byte\n"
	      "Exit status: 0 done; 125 bad input or a failure, nothing "
	      "half-written.\n"
	      "See hivebox(1) MIGRATE.\n",
	      out);
}

static int need_one_source(const struct hb_migrate_cli *m, struct hb_diag *diag)
{
	int n = !!m->crontab + !!m->user + !!m->cron_d;

	if (n != 1)
		return hb_diag_set(diag, NULL, 0,
				   "migrate: name one crontab: --crontab FILE, "
				   "-u USER or --cron-d DIR");
	if (m->apply && m->rollback)
		return hb_diag_set(diag, NULL, 0,
				   "migrate: --apply and --rollback together");
	if ((m->learn || m->repropose) && m->rollback)
		return hb_diag_set(diag, NULL, 0,
				   "migrate: --learn and --repropose have "
				   "nothing to do in a --rollback");
	if (m->user_field && !m->crontab)
		return hb_diag_set(diag, NULL, 0,
				   "migrate: --user-field is for --crontab "
				   "FILE");
	return 0;
}

/* One option: the field it sets, or false for one not migrate's. */
static bool take_option(struct hb_migrate_cli *m, int o)
{
	switch (o) {
	case 'c':
		m->crontab = optarg;
		return true;
	case 'u':
		m->user = optarg;
		return true;
	case 'd':
		m->cron_d = optarg;
		return true;
	case 'p':
		m->policy_dir = optarg;
		return true;
	case 'b':
		m->base = optarg;
		return true;
	case 'a':
		m->audit_dir = optarg;
		return true;
	}
	return false;
}

/* --min-score N: 0 to 100. */
static int take_min_score(struct hb_migrate_cli *m, const char *arg,
			  struct hb_diag *diag)
{
	char *end = NULL;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || end == arg || *end || n < 0 || n > 100)
		return hb_diag_set(diag, NULL, 0,
				   "migrate: --min-score '%s': a number from 0 "
				   "to 100",
				   arg);
	m->min_score = (int)n;
	return 0;
}

static bool take_flag(struct hb_migrate_cli *m, int o)
{
	bool *flag = o == 'f'	? &m->user_field
		     : o == 'l' ? &m->learn
		     : o == 'A' ? &m->apply
		     : o == 'R' ? &m->rollback
		     : o == 'h' ? &m->help
		     : o == 'P' ? &m->repropose
				: NULL;

	if (flag)
		*flag = true;
	return flag != NULL;
}

int hb_migrate_parse(struct hb_migrate_cli *m, int argc, char **argv,
		     struct hb_diag *diag)
{
	static const struct option opts[] = {
		{"crontab", required_argument, NULL, 'c'},
		{"user", required_argument, NULL, 'u'},
		{"cron-d", required_argument, NULL, 'd'},
		{"policy-dir", required_argument, NULL, 'p'},
		{"base", required_argument, NULL, 'b'},
		{"audit-dir", required_argument, NULL, 'a'},
		{"user-field", no_argument, NULL, 'f'},
		{"learn", no_argument, NULL, 'l'},
		{"apply", no_argument, NULL, 'A'},
		{"rollback", no_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{"repropose", no_argument, NULL, 'P'},
		{"min-score", required_argument, NULL, 'S'},
		{0},
	};
	int o;

	memset(m, 0, sizeof(*m));
	m->min_score = HB_MIGRATE_MIN_SCORE;
	optind = 2;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":hu:", opts, NULL)) != -1) {
		if (o == 'S' && take_min_score(m, optarg, diag) < 0)
			return -EINVAL;
		if (o == 'S' || take_option(m, o) ||
		    (take_flag(m, o) && !m->help))
			continue;
		if (m->help)
			return 0;
		return hb_cli_bad_option(o, argv, "migrate", diag);
	}
	if (optind < argc)
		return hb_diag_set(diag, NULL, 0,
				   "unexpected argument '%s' for migrate",
				   argv[optind]);
	return need_one_source(m, diag);
}

bool hb_migrate_has_user_field(const char *path, bool flag)
{
	_cleanup_free_ char *abs = NULL, *cwd = getcwd(NULL, 0);
	const char *slash;

	if (flag)
		return true;
	if (!cwd || hb_path_absolute(cwd, path, &abs) < 0)
		return false;
	if (strcmp(abs, "/etc/crontab") == 0)
		return true;
	slash = strrchr(abs, '/');
	return slash && slash - abs >= 7 &&
	       strncmp(slash - 7, "/cron.d", 7) == 0;
}

/* Letters, digits, '_' and '-': anything else becomes '_'. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			*s = '_';
}

int hb_migrate_policy_name(const char *source, const char *script, unsigned n,
			   char **ret)
{
	const char *base = strrchr(script, '/');
	_cleanup_free_ char *stem = strdup(base ? base + 1 : script);
	_cleanup_free_ char *src = strdup(source);
	char *dot;
	int r;

	if (!stem || !src)
		return -ENOMEM;
	dot = strrchr(stem, '.');
	if (dot && dot != stem)
		*dot = '\0';
	sanitize(stem);
	sanitize(src);
	if (n > 1)
		r = asprintf(ret, "%s-%s-%u.ini", src, stem, n);
	else
		r = asprintf(ret, "%s-%s.ini", src, stem);
	return r < 0 ? -ENOMEM : 0;
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h & 0xffffff;
}

int hb_migrate_source_label(const char *user, const char *path, bool cron_d,
			    char **ret)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	int r;

	/* A user name the policy name would change (a.b, a_b) is told
	 * apart by its hash, a file always by its path's. */
	if (user && user[strspn(user, "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789_-")] == '\0')
		r = asprintf(ret, "user-%s", user);
	else if (user)
		r = asprintf(ret, "user-%s-%06x", user, (unsigned)fnv1a(user));
	else
		r = asprintf(ret, "%s-%s-%06x", cron_d ? "crond" : "file",
			     base ? base + 1 : path, (unsigned)fnv1a(path));
	return r < 0 ? -ENOMEM : 0;
}

int hb_migrate_backup_path(const char *policy_dir, const char *user,
			   const char *file, char **ret)
{
	_cleanup_free_ char *name = NULL;

	if (user && asprintf(&name, "user-%s.crontab", user) < 0)
		return -ENOMEM;
	if (!user) {
		name = strdup(file);
		if (!name)
			return -ENOMEM;
		for (char *p = name; *p; p++)
			if (*p == '/')
				*p = '%';
	}
	if (asprintf(ret, "%s/.backup/%s", policy_dir, name) < 0)
		return -ENOMEM;
	return 0;
}

int hb_migrate_crontab_argv(const char *user, const char *file,
			    struct hb_strv *ret)
{
	const char *words[] = {"crontab", "-u", user, file ? file : "-l"};
	int r = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(words); i++)
		r = hb_strv_push(ret, words[i]);
	return r;
}

#include "migrate_internal.h"

/* The directory path lies in, relative to dirfd, fsynced. */
static int fsync_dir_of(int dirfd, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	_cleanup_close_ int fd = -1;

	if (!slash)
		return fsync(dirfd) < 0 ? -errno : 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = openat(dirfd, dir[0] ? dir : "/",
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

/* A new file beside path, named .NAME.hivebox-XXXXXXXX: a dot name,
 * which cron ignores in cron.d while it is there. */
static int open_temp(int dirfd, const char *path, char **ret)
{
	const char *slash = strrchr(path, '/');
	int dlen = slash ? (int)(slash - path) + 1 : 0;
	unsigned char rnd[4];
	int fd = -1;

	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		free(*ret);
		*ret = NULL;
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return -errno;
		if (asprintf(ret, "%.*s.%s.hivebox-%02x%02x%02x%02x", dlen,
			     path, path + dlen, rnd[0], rnd[1], rnd[2],
			     rnd[3]) < 0)
			return -ENOMEM;
		fd = openat(dirfd, *ret,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC,
			    0600);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	return fd < 0 ? -EEXIST : fd;
}

int hb_mig_write_atomic(int dirfd, const char *path, const char *text,
			size_t len, mode_t mode, const struct stat *like)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = open_temp(dirfd, path, &tmp);
	int r = fd < 0 ? fd : hb_write_all(fd, text, len);

	if (fd < 0)
		return fd;
	if (r == 0 && fchmod(fd, like ? like->st_mode & 07777 : mode) < 0)
		r = -errno;
	if (r == 0 && like && fchown(fd, like->st_uid, like->st_gid) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, path) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	return fsync_dir_of(dirfd, path);
}

static const char *dir_error(int r)
{
	return r == -EPERM ? "not a directory of ours: owned by another "
			     "user, or writable by group or others"
	       : r == -ELOOP || r == -ENOTDIR ? "not a directory (a symlink?)"
					      : strerror(-r);
}

/* The policy directory and its .backup, opened once and checked: a
 * directory someone else could write would let him swap the policy a
 * root job runs under, or plant the backup --rollback installs. */
static int open_dirs(struct hb_mig_ctx *c, bool create, bool backup,
		     struct hb_diag *diag)
{
	_cleanup_free_ char *b = NULL;
	int r = 0;

	/* 0711: a job cron runs as another user than root reads its own
	 * policy there (hivebox runs as him), but lists none. */
	if (c->dir_fd < 0 && create)
		r = hb_mkdir_p(c->policy_dir, 0755, 0711);
	if (c->dir_fd < 0 && r == 0)
		r = hb_open_own_dir(c->policy_dir, false);
	if (c->dir_fd < 0) {
		if (r < 0)
			return hb_diag_set(diag, c->policy_dir, 0,
					   "cannot use: %s", dir_error(r));
		c->dir_fd = r;
	}
	if (!backup || c->backup_fd >= 0)
		return 0;
	r = hb_open_own_dir_at(c->dir_fd, ".backup", create);
	if (r < 0 && asprintf(&b, "%s/.backup", c->policy_dir) < 0)
		return -ENOMEM;
	if (r < 0)
		return hb_diag_set(diag, b, 0, "cannot use: %s", dir_error(r));
	c->backup_fd = r;
	return 0;
}

/* A crontab file: regular, not too large. */
static int read_file_at(int dirfd, const char *path, char **ret,
			size_t *ret_len, struct stat *st)
{
	_cleanup_close_ int fd = openat(
		dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	return hb_read_all(fd, CRONTAB_MAX, ret, ret_len);
}

static int read_file(const char *path, char **ret, size_t *ret_len,
		     struct stat *st)
{
	return read_file_at(AT_FDCWD, path, ret, ret_len, st);
}

/* crontab -u USER -l, or crontab -u USER FILE (in cwd, if not NULL). */
static int crontab_cmd(const char *user, const char *file, const char *cwd,
		       char **ret_out, size_t *ret_len)
{
	struct hb_strv argv = {0};
	int status = 0, r = hb_migrate_crontab_argv(user, file, &argv);

	if (r == 0)
		r = hb_run_capture(HB_MIGRATE_CRONTAB, argv.v, cwd,
				   4 * CRONTAB_MAX, ret_out, ret_len, &status);
	hb_strv_clear(&argv);
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		r = -EIO;
	if (r < 0 && ret_out && *ret_out) {
		free(*ret_out);
		*ret_out = NULL;
	}
	return r;
}

static void source_free(struct hb_mig_source *s)
{
	hb_closep(&s->dir_fd);
	free(s->label);
	free(s->path);
	free(s->text);
}

static int source_text(struct hb_mig_source *s, struct hb_diag *diag)
{
	int r;

	if (s->user) {
		if (!getpwnam(s->user))
			return hb_diag_set(diag, NULL, 0,
					   "migrate: -u %s: no such user",
					   s->user);
		r = crontab_cmd(s->user, NULL, NULL, &s->text, &s->len);
		if (r < 0)
			return hb_diag_set(diag, NULL, 0,
					   "migrate: cannot read the crontab "
					   "of %s with '%s -u %s -l'",
					   s->user, HB_MIGRATE_CRONTAB,
					   s->user);
		return 0;
	}
	r = read_file(s->path, &s->text, &s->len, &s->st);
	if (r < 0)
		return hb_diag_set(diag, s->path, 0, "cannot read: %s",
				   r == -EINVAL ? "not a regular file"
						: strerror(-r));
	s->owner = s->st.st_uid;
	return 0;
}

/* The directory of a file source, opened for its rewrite: one that
 * someone other than root can write would let him swap the file
 * between migrate's read and its rename. */
static int source_dir(struct hb_mig_source *s, struct hb_diag *diag)
{
	_cleanup_free_ char *dir =
		strndup(s->path, (size_t)(strrchr(s->path, '/') - s->path));
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (!dir)
		return -ENOMEM;
	fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return hb_diag_set(diag, dir[0] ? dir : "/", 0,
				   "cannot open: %s", strerror(errno));
	if (st.st_uid != 0 || (st.st_mode & 022))
		return hb_diag_set(diag, s->path, 0,
				   "cannot rewrite: its directory is writable "
				   "by someone other than root");
	s->dir_fd = TAKE_FD(fd);
	return 0;
}

/* The name of the source in the report and in the policies. */
static const char *source_name(const struct hb_mig_source *s, char *buf,
			       size_t n)
{
	if (s->user)
		snprintf(buf, n, "the crontab of %s", s->user);
	else
		snprintf(buf, n, "%s", s->path);
	return buf;
}

/* Policy names: those wrapped lines name are taken first, so that a
 * second run gives every other job the name the first gave it. */
static int name_jobs(struct hb_mig_ctx *c, const struct hb_mig_source *s,
		     struct hb_mig_job *jobs, size_t n)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++) {
		const char *p = jobs[i].py.policy;
		if (jobs[i].py.form == HB_PY_WRAPPED && p)
			r = hb_strv_push(&c->names,
					 strrchr(p, '/') ? strrchr(p, '/') + 1
							 : p);
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		_cleanup_free_ char *name = NULL;
		if ((jobs[i].py.form != HB_PY_INTERP &&
		     jobs[i].py.form != HB_PY_DIRECT) ||
		    jobs[i].missing)
			continue;
		for (unsigned k = 1; r == 0; k++) {
			free(name);
			name = NULL;
			r = hb_migrate_policy_name(s->label, jobs[i].script, k,
						   &name);
			if (r == 0 && !hb_strv_contains(&c->names, name))
				break;
		}
		if (r == 0 &&
		    asprintf(&jobs[i].policy, "%s/%s", c->policy_dir, name) < 0)
			r = -ENOMEM;
		if (r == 0)
			r = hb_strv_push(&c->names, name);
	}
	return r;
}

static bool wrappable(const struct hb_mig_job *j)
{
	return (j->py.form == HB_PY_INTERP || j->py.form == HB_PY_DIRECT) &&
	       !j->missing;
}

/* The report of one line's jobs. */
static int report_job(struct hb_mig_ctx *c, const struct hb_crontab *t,
		      struct hb_mig_job *j, struct hb_diag *diag)
{
	const struct hb_cron_line *l = &t->lines[j->line];
	const struct hb_cron_cmd *cmd = &l->cmds[j->cmd];
	const char *form = j->py.form == HB_PY_DIRECT	 ? "script"
			   : j->py.form == HB_PY_WRAPPED ? "job"
							 : "python";

	fprintf(c->out, "  line %u: %s %.*s\n", l->lineno, form,
		(int)(cmd->w[cmd->n - 1].end - cmd->w[0].start),
		t->text + cmd->w[0].start);
	if (j->py.form == HB_PY_WRAPPED) {
		fprintf(c->out, "    already under hivebox (policy %s)\n",
			j->py.policy ? j->py.policy : "?");
		return 0;
	}
	if (j->py.form == HB_PY_REFUSED) {
		fprintf(c->out, "    left as it is: %s\n", j->py.why);
		return 0;
	}
	return hb_mig_score(c, t, j, diag);
}

static int edits_of(const struct hb_mig_ctx *c, const struct hb_crontab *t,
		    const struct hb_mig_job *jobs, size_t n,
		    struct hb_cron_edit **ret, size_t *ret_n)
{
	struct hb_cron_edit *e = calloc(n ? n : 1, sizeof(*e));
	size_t k = 0;
	int r = e ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++) {
		if (!wrappable(&jobs[i]))
			continue;
		if (!jobs[i].parses || jobs[i].score < c->m->min_score) {
			fprintf(c->out,
				"  line %u: left as it is: %s (score %d, "
				"--min-score %d)\n",
				t->lines[jobs[i].line].lineno,
				jobs[i].parses ? "its score is too low"
					       : "hivebox check did not judge "
						 "it, or it does not parse",
				jobs[i].score, c->m->min_score);
			continue;
		}
		r = hb_cron_wrap(&t->lines[jobs[i].line].cmds[jobs[i].cmd],
				 &jobs[i].py, c->hivebox, jobs[i].policy,
				 jobs[i].script, &e[k]);
		if (r == -EINVAL) {
			fprintf(c->out,
				"  line %u: left as it is: its script's path "
				"%s cannot stand unquoted in a crontab\n",
				t->lines[jobs[i].line].lineno, jobs[i].script);
			r = 0;
		} else if (r == 0) {
			k++;
		}
	}
	*ret = e;
	*ret_n = k;
	return r;
}

static void edits_free(struct hb_cron_edit *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].text);
	free(e);
}

/* Each changed line, before and after. */
static int print_changes(const struct hb_mig_ctx *c, const struct hb_crontab *t,
			 const struct hb_cron_edit *e, size_t n)
{
	size_t i = 0;

	fprintf(c->out, "  %s:\n", c->m->apply ? "changed" : "would change");
	while (i < n) {
		const struct hb_cron_line *l = t->lines;
		struct hb_cron_edit rel[16];
		_cleanup_free_ char *line = NULL;
		size_t k = 0, len;
		while (!(e[i].start >= l->start && e[i].start <= l->end))
			l++;
		for (; i < n && e[i].start <= l->end && k < ARRAY_SIZE(rel);
		     i++, k++)
			rel[k] = (struct hb_cron_edit){e[i].start - l->start,
						       e[i].end - l->start,
						       e[i].text};
		if (hb_cron_splice(t->text + l->start, l->end - l->start, rel,
				   k, &line, &len) < 0)
			return -ENOMEM;
		fprintf(c->out, "  line %u:\n  - %.*s\n  + %s\n", l->lineno,
			(int)(l->end - l->start), t->text + l->start, line);
	}
	return 0;
}

static int backup_path(const struct hb_mig_ctx *c,
		       const struct hb_mig_source *s, char **ret)
{
	return hb_migrate_backup_path(c->policy_dir, s->user, s->path, ret);
}

/* What was read is what is replaced: a crontab edited while migrate
 * scored it is not overwritten (nor backed up). */
static int unchanged(const struct hb_mig_source *s, struct hb_diag *diag)
{
	_cleanup_free_ char *now = NULL;
	struct stat st;
	size_t len = 0;
	int r = s->user ? crontab_cmd(s->user, NULL, NULL, &now, &len)
			: read_file(s->path, &now, &len, &st);

	if (r == 0 && len == s->len && memcmp(now, s->text, len) == 0)
		return 0;
	return hb_diag_set(diag, s->user ? NULL : s->path, 0,
			   "%s%s%schanged while migrate read it; nothing "
			   "written, run it again",
			   s->user ? "migrate: the crontab of " : "",
			   s->user ? s->user : "", s->user ? " " : "");
}

/* Through the source's own channel: crontab(1), or the file itself. */
static int install(const struct hb_mig_ctx *c, const struct hb_mig_source *s,
		   const char *text, size_t len, struct hb_diag *diag)
{
	_cleanup_free_ char *tmp = NULL, *back = NULL, *name = NULL;
	_cleanup_close_ int fd = -1;
	size_t blen;
	int r;

	/* Mode and owner as read_file's fstat found them; in the directory
	 * opened (and checked) once. */
	if (!s->user) {
		r = hb_mig_write_atomic(s->dir_fd, hb_mig_base(s->path), text,
					len, 0, &s->st);
		return r < 0 ? hb_diag_set(diag, s->path, 0,
					   "cannot install: %s", strerror(-r))
			     : 0;
	}
	/* In .backup, which is ours: crontab(1) reads it by a name
	 * relative to it, as Debian's keeps only 100 bytes of one. */
	fd = open_temp(c->backup_fd, "install", &name);
	r = fd < 0 ? fd : hb_write_all(fd, text, len);
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = -errno;
	if (r == 0 && asprintf(&tmp, "%s/.backup", c->policy_dir) < 0)
		r = -ENOMEM;
	if (r == 0)
		r = crontab_cmd(s->user, name, tmp, NULL, NULL);
	if (fd >= 0)
		unlinkat(c->backup_fd, name, 0);
	/* What crontab -l gives back must be what was meant. */
	if (r == 0)
		r = crontab_cmd(s->user, NULL, NULL, &back, &blen);
	if (r == 0 && (blen != len || memcmp(back, text, len) != 0))
		r = -EIO;
	return r < 0 ? hb_diag_set(diag, NULL, 0,
				   "migrate: cannot install the crontab of %s "
				   "with '%s -u %s FILE': %s",
				   s->user, HB_MIGRATE_CRONTAB, s->user,
				   strerror(-r))
		     : 0;
}

/* The backup: the crontab as it was before any line was wrapped.  One
 * that already holds wrapped lines keeps the backup it has. */
static int backup(const struct hb_mig_ctx *c, const struct hb_mig_source *s,
		  bool has_wrapped, struct hb_diag *diag)
{
	_cleanup_free_ char *path = NULL;
	int r = backup_path(c, s, &path);

	if (r < 0)
		return r;
	if (has_wrapped && faccessat(c->backup_fd, hb_mig_base(path), F_OK,
				     AT_SYMLINK_NOFOLLOW) == 0) {
		fprintf(c->out,
			"  backup: %s kept (from before the first "
			"--apply)\n",
			path);
		return 0;
	}
	r = hb_mig_write_atomic(c->backup_fd, hb_mig_base(path), s->text,
				s->len, 0600, NULL);
	if (r < 0)
		return hb_diag_set(diag, path, 0, "cannot write the backup: %s",
				   strerror(-r));
	fprintf(c->out, "  backup: %s\n", path);
	return 0;
}

static int apply_source(struct hb_mig_ctx *c, const struct hb_mig_source *s,
			const struct hb_crontab *t,
			const struct hb_mig_job *jobs, size_t n,
			struct hb_diag *diag)
{
	_cleanup_free_ char *text = NULL;
	struct hb_cron_edit *e = NULL;
	bool wrapped = false;
	size_t ne = 0, len;
	int r = edits_of(c, t, jobs, n, &e, &ne);

	for (size_t i = 0; i < n; i++)
		wrapped |= jobs[i].py.form == HB_PY_WRAPPED;
	if (r == 0 && ne == 0)
		fprintf(c->out, "  nothing to change\n");
	if (r == 0 && ne)
		r = print_changes(c, t, e, ne);
	if (r == 0 && ne && c->m->apply)
		r = hb_cron_splice(s->text, s->len, e, ne, &text, &len);
	if (r == 0 && text)
		r = unchanged(s, diag);
	if (r == 0 && text)
		r = open_dirs(c, true, true, diag);
	if (r == 0 && text)
		r = backup(c, s, wrapped, diag);
	if (r == 0 && text)
		r = install(c, s, text, len, diag);
	if (r == 0 && text)
		fprintf(c->out, "  installed\n");
	edits_free(e, ne);
	return r;
}

static int migrate_source(struct hb_mig_ctx *c, const struct hb_mig_source *s,
			  struct hb_diag *diag)
{
	struct hb_crontab t;
	struct hb_mig_job *jobs = NULL;
	char name[PATH_MAX + 32];
	size_t n = 0;
	int r = hb_crontab_parse(&t, s->text, s->len, s->user_field);

	c->source = source_name(s, name, sizeof(name));
	c->label = s->label;
	fprintf(c->out, "%s (%s user field):\n", c->source,
		s->user_field ? "with a" : "no");
	if (r == 0)
		r = hb_mig_find_jobs(s, &t, &jobs, &n);
	if (r == 0)
		r = name_jobs(c, s, jobs, n);
	for (size_t i = 0, k = 0; r == 0 && i < t.n; i++) {
		if (t.lines[i].kind == HB_CRON_BAD)
			fprintf(c->out,
				"  line %u: cannot parse: %s; left as it is\n",
				t.lines[i].lineno, t.lines[i].why);
		for (; r == 0 && k < n && jobs[k].line == i; k++)
			r = report_job(c, &t, &jobs[k], diag);
	}
	if (r == 0 && n == 0)
		fprintf(c->out, "  no Python job\n");
	if (r == 0)
		r = apply_source(c, s, &t, jobs, n, diag);
	hb_mig_jobs_free(jobs, n);
	hb_crontab_free(&t);
	return r;
}

/* --rollback: the backup, byte for byte, through the same channel; what
 * was there is kept beside the backup as .before-rollback. */
static int rollback_source(struct hb_mig_ctx *c, const struct hb_mig_source *s,
			   bool required, struct hb_diag *diag)
{
	_cleanup_free_ char *path = NULL, *text = NULL, *before = NULL;
	struct stat st;
	size_t len;
	char name[PATH_MAX + 32];
	struct hb_diag dd = {0};
	int r = backup_path(c, s, &path);

	/* No directory (or no .backup) is no backup; one not ours is an
	 * error whatever required says. */
	if (r == 0 && open_dirs(c, false, true, &dd) < 0) {
		bool none = c->dir_fd < 0
				    ? access(c->policy_dir, F_OK) < 0
				    : faccessat(c->dir_fd, ".backup", F_OK,
						AT_SYMLINK_NOFOLLOW) < 0;
		if (!none)
			return open_dirs(c, false, true, diag);
		r = -ENOENT;
	}
	if (r == 0)
		r = read_file_at(c->backup_fd, hb_mig_base(path), &text, &len,
				 &st);
	if (r < 0 && (r != -ENOENT || required))
		return hb_diag_set(diag, path, 0,
				   "cannot roll back: no backup here: %s",
				   strerror(-r));
	fprintf(c->out, "%s:\n", source_name(s, name, sizeof(name)));
	if (r < 0) {
		fprintf(c->out, "  no backup at %s: nothing to roll back\n",
			path);
		return 0;
	}
	if (len == s->len && memcmp(text, s->text, len) == 0) {
		fprintf(c->out, "  already as the backup %s\n", path);
		return 0;
	}
	if (asprintf(&before, "%s.before-rollback", path) < 0)
		return -ENOMEM;
	r = unchanged(s, diag);
	if (r < 0)
		return r;
	r = hb_mig_write_atomic(c->backup_fd, hb_mig_base(before), s->text,
				s->len, 0600, NULL);
	if (r < 0)
		return hb_diag_set(diag, before, 0, "cannot write: %s",
				   strerror(-r));
	r = install(c, s, text, len, diag);
	if (r == 0)
		fprintf(c->out, "  restored from %s (what was there: %s)\n",
			path, before);
	return r;
}

/* Debian's cron reads a cron.d file only if its name is made of letters,
 * digits, '_' and '-'. */
static bool cron_reads(const char *name)
{
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return false;
	return name[0] != '\0';
}

static int one_source(struct hb_mig_ctx *c, struct hb_mig_source *s,
		      bool required, struct hb_diag *diag)
{
	int r = source_text(s, diag);

	if (r == 0 && !s->user && (c->m->apply || c->m->rollback))
		r = source_dir(s, diag);
	if (r < 0)
		return r;
	if (c->m->rollback)
		return rollback_source(c, s, required, diag);
	/* Made only once there is a crontab to migrate: a refused run
	 * leaves no directory behind. */
	r = open_dirs(c, true, false, diag);
	return r < 0 ? r : migrate_source(c, s, diag);
}

static int file_source(struct hb_mig_ctx *c, const char *path, bool cron_d,
		       bool user_field, bool required, struct hb_diag *diag)
{
	struct hb_mig_source s = {.user_field = user_field, .dir_fd = -1};
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	int r = cwd ? hb_path_absolute(cwd, path, &s.path) : -errno;

	if (r == 0)
		r = hb_migrate_source_label(NULL, s.path, cron_d, &s.label);
	if (r == 0)
		r = one_source(c, &s, required, diag);
	source_free(&s);
	return r;
}

static int cron_d(struct hb_mig_ctx *c, struct hb_diag *diag)
{
	struct dirent **names = NULL;
	int n = scandir(c->m->cron_d, &names, NULL, alphasort), r = 0;

	if (n < 0)
		return hb_diag_set(diag, c->m->cron_d, 0, "cannot read: %s",
				   strerror(errno));
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *path = NULL;
		struct stat st;
		const char *name = names[i]->d_name;
		if (r == 0 && asprintf(&path, "%s/%s", c->m->cron_d, name) < 0)
			r = -ENOMEM;
		if (r == 0 && strcmp(name, ".") != 0 && strcmp(name, "..") &&
		    !cron_reads(name))
			fprintf(c->out,
				"%s: skipped: cron does not read a "
				"file of that name\n",
				path);
		else if (r == 0 && cron_reads(name) && lstat(path, &st) == 0 &&
			 S_ISREG(st.st_mode))
			r = file_source(c, path, true, true, false, diag);
		free(names[i]);
	}
	free(names);
	return r;
}

/* The policy each job's extends: --base, else the shipped strict.ini
 * (the source tree's for a binary in build/, then /etc/hivebox/policies,
 * then the installed one), as an absolute path: extends reads a relative
 * one from the written policy's directory. */
static int find_base(struct hb_mig_ctx *c, struct hb_diag *diag)
{
	static const char libexec[] = HB_LIBEXECDIR,
			  tail[] = "/libexec/hivebox";
	char exe[PATH_MAX], cand[3][PATH_MAX + 64], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t ln = strlen(libexec), lt = strlen(tail);

	if (c->m->base) {
		c->base = realpath(c->m->base, NULL);
		return c->base ? 0
			       : hb_diag_set(diag, c->m->base, 0, "--base: %s",
					     strerror(errno));
	}
	exe[n > 0 ? n : 0] = '\0';
	slash = strrchr(exe, '/');
	/* Only a binary in a source tree's build/ uses the tree's. */
	bool tree = slash && slash - exe >= 6 &&
		    strncmp(slash - 6, "/build", 6) == 0;
	if (slash)
		*slash = '\0';
	snprintf(cand[0], sizeof(cand[0]), "%s/../policies/strict.ini", exe);
	snprintf(cand[1], sizeof(cand[1]), "/etc/hivebox/policies/strict.ini");
	snprintf(cand[2], sizeof(cand[2]),
		 "%.*s/share/hivebox/policies/strict.ini",
		 (int)(ln > lt ? ln - lt : ln), libexec);
	for (size_t i = tree ? 0 : 1; i < ARRAY_SIZE(cand) && !c->base; i++)
		c->base = realpath(cand[i], NULL);
	if (!c->base)
		return hb_diag_set(diag, NULL, 0,
				   "migrate: no strict.ini to extend (looked "
				   "in /etc/hivebox/policies and %s); name one "
				   "with --base FILE",
				   cand[2]);
	return 0;
}

static int setup(struct hb_mig_ctx *c, struct hb_diag *diag)
{
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	const char *dir = c->m->policy_dir ?: HB_MIGRATE_DIR;
	ssize_t n =
		readlink("/proc/self/exe", c->hivebox, sizeof(c->hivebox) - 1);
	int r;

	if (n <= 0 || !cwd)
		return -errno;
	c->hivebox[n] = '\0';
	if (!hb_cron_safe_word(c->hivebox))
		return hb_diag_set(diag, NULL, 0,
				   "migrate: hivebox's own path %s cannot "
				   "stand unquoted in a crontab",
				   c->hivebox);
	r = hb_path_absolute(cwd, dir, &c->policy_dir);
	if (r < 0)
		return r;
	if (!hb_cron_safe_word(c->policy_dir) || strlen(c->policy_dir) > 120)
		return hb_diag_set(diag, NULL, 0,
				   "migrate: --policy-dir %s: a crontab "
				   "line cannot name it unquoted (use "
				   "letters, digits and /._+,:@=-, up to 120)",
				   c->policy_dir);
	if (c->m->rollback)
		return 0;
	r = find_base(c, diag);
	if (r == 0 && strpbrk(c->base, ",;#"))
		r = hb_diag_set(diag, c->base, 0,
				"a policy's extends cannot name this path");
	return r;
}

int hb_migrate_run(const struct hb_migrate_cli *m, FILE *out,
		   struct hb_diag *diag)
{
	struct hb_mig_ctx c = {
		.m = m, .out = out, .dir_fd = -1, .backup_fd = -1};
	struct hb_mig_source s = {.user = m->user, .dir_fd = -1};
	int r = setup(&c, diag);

	if (r == 0 && m->learn)
		fprintf(out, "--learn: each job is EXECUTED once by hivebox "
			     "learn, as its script's owner, on a read-only "
			     "view of the host\n");
	if (r == 0 && m->user) {
		r = hb_migrate_source_label(m->user, NULL, false, &s.label);
		r = r ?: one_source(&c, &s, true, diag);
		source_free(&s);
	} else if (r == 0 && m->crontab) {
		r = file_source(
			&c, m->crontab, false,
			hb_migrate_has_user_field(m->crontab, m->user_field),
			true, diag);
	} else if (r == 0) {
		r = cron_d(&c, diag);
	}
	if (r == 0 && !m->apply && !m->rollback)
		fprintf(out,
			"dry run: only the policies in %s were written; "
			"--apply makes the changes\n",
			c.policy_dir);
	hb_closep(&c.dir_fd);
	hb_closep(&c.backup_fd);
	free(c.policy_dir);
	free(c.base);
	hb_strv_clear(&c.names);
	return r;
}

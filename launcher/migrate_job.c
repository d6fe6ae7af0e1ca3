/* SPDX-License-Identifier: MIT */
/* One cron job of hivebox migrate: where it runs and as whom, the policy
 * proposed for it (from what `hivebox check` finds in the script, or
 * learned by `hivebox learn`), and its score. */
#include "migrate_internal.h"
#include "check.h"
#include "policy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* cron's PATH when the crontab sets none. */
#define CRON_PATH "/usr/bin:/bin"
/* The longest path a policy line ("read_write = PATH") can hold. */
#define POLICY_PATH_MAX 180
#define DEFAULT_INTERP "/usr/bin/python3"

/* Points of the score, out of 100. */
enum {
	W_PARSES = 30,
	W_RISK = 20,
	W_PATHS = 15,
	W_NETWORK = 15,
	W_SPAWN = 10,
	W_USER = 10,
};

static bool is_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* name along the crontab's PATH, as the shell cron starts would find it. */
static char *path_lookup(const struct hb_crontab *t, size_t line,
			 const char *name)
{
	const char *path = hb_crontab_env(t, line, "PATH") ?: CRON_PATH;
	_cleanup_free_ char *copy = strdup(path);
	char *save = NULL, *dir, *full = NULL;

	if (!copy)
		return NULL;
	for (dir = strtok_r(copy, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		if (asprintf(&full, "%s/%s", dir, name) < 0)
			return NULL;
		if (is_file(full) && access(full, X_OK) == 0)
			return full;
		free(full);
		full = NULL;
	}
	return NULL;
}

/* The first line of a file, for its shebang. */
static int first_line(const char *path, char buf[256])
{
	int n = hb_read_text(path, buf, 256);

	if (n < 0)
		return n;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The job's user: -u USER, the line's user field, or the file's owner. */
static char *job_user(const struct hb_mig_source *s,
		      const struct hb_cron_line *l)
{
	struct passwd *pw;
	char *u = NULL;

	if (s->user)
		return strdup(s->user);
	if (l->user)
		return strdup(l->user);
	pw = getpwuid(s->owner);
	if (pw)
		return strdup(pw->pw_name);
	return asprintf(&u, "%u", (unsigned)s->owner) < 0 ? NULL : u;
}

/* Where the command starts: HOME (the crontab's, or the user's), then
 * each plain `cd DIR` before the job's command on its line. */
static int job_cwd(const struct hb_crontab *t, const struct hb_mig_job *j,
		   char **ret)
{
	const struct hb_cron_line *l = &t->lines[j->line];
	const char *home = hb_crontab_env(t, j->line, "HOME");
	struct passwd *pw = home ? NULL : getpwnam(j->user);
	_cleanup_free_ char *cwd = strdup(home ?: pw ? pw->pw_dir : "/");
	int r = cwd ? 0 : -ENOMEM;

	for (size_t k = 0; r == 0 && k < j->cmd; k++) {
		const struct hb_cron_cmd *c = &l->cmds[k];
		char *next = NULL;
		if (c->n != 2 || strcmp(c->w[0].value, "cd") != 0 ||
		    !c->w[1].plain)
			continue;
		r = hb_path_absolute(cwd, c->w[1].value, &next);
		if (r == 0) {
			free(cwd);
			cwd = next;
		}
	}
	if (r == 0)
		*ret = TAKE_PTR(cwd);
	return r;
}

/* The interpreter as a path: a bare name along PATH. */
static char *interp_path(const struct hb_crontab *t, size_t line,
			 const char *name)
{
	if (strchr(name, '/'))
		return strdup(name);
	return path_lookup(t, line, name);
}

/* A program with a python shebang, or a missing *.py: a job (1), or
 * not (0). */
static int direct_script(const struct hb_crontab *t, struct hb_mig_job *j,
			 const struct hb_cron_cmd *c)
{
	const char *prog = c->w[j->py.prog].value;
	_cleanup_free_ char *interp = NULL;
	char line[256];
	size_t n = strlen(prog);
	int r;

	if (!c->w[j->py.prog].plain || !prog[0])
		return 0;
	j->script = strchr(prog, '/') ? NULL : path_lookup(t, j->line, prog);
	if (!j->script && !strchr(prog, '/'))
		return 0;
	if (!j->script && hb_path_absolute(j->cwd, prog, &j->script) < 0)
		return -ENOMEM;
	if (!is_file(j->script)) {
		j->missing = true;
		return n > 3 && strcmp(prog + n - 3, ".py") == 0;
	}
	if (first_line(j->script, line) < 0)
		return 0;
	r = hb_cron_shebang(line, &interp, &j->py.opts);
	if (r <= 0)
		return r;
	j->py.form = HB_PY_DIRECT;
	j->interp = interp_path(t, j->line, interp);
	return 1;
}

static int resolve_interp(const struct hb_crontab *t, struct hb_mig_job *j,
			  const struct hb_cron_cmd *c)
{
	_cleanup_free_ char *cfg = NULL, *venv = NULL;
	char *slash;

	if (j->py.form == HB_PY_INTERP) {
		j->interp = interp_path(t, j->line, c->w[j->py.prog].value);
		if (hb_path_absolute(j->cwd, c->w[j->py.script].value,
				     &j->script) < 0)
			return -ENOMEM;
		j->missing = !is_file(j->script);
	}
	if (!j->interp)
		return 0;
	/* A virtualenv's bin/python: the venv must be in the sandbox. */
	venv = strdup(j->interp);
	if (!venv)
		return -ENOMEM;
	for (int up = 0; up < 2 && (slash = strrchr(venv, '/')); up++)
		*slash = '\0';
	if (venv[0] && asprintf(&cfg, "%s/pyvenv.cfg", venv) >= 0 &&
	    is_file(cfg))
		j->venv = TAKE_PTR(venv);
	return 0;
}

static int add_job(struct hb_mig_job **jobs, size_t *n, struct hb_mig_job *j)
{
	struct hb_mig_job *v = realloc(*jobs, (*n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	*jobs = v;
	v[(*n)++] = *j;
	return 0;
}

static int find_in_cmd(const struct hb_mig_source *s,
		       const struct hb_crontab *t, struct hb_mig_job *j)
{
	const struct hb_cron_cmd *c = &t->lines[j->line].cmds[j->cmd];
	int r;

	hb_cron_python(c, &j->py);
	j->user = job_user(s, &t->lines[j->line]);
	if (!j->user)
		return -ENOMEM;
	r = job_cwd(t, j, &j->cwd);
	if (r == 0 && j->py.form == HB_PY_NONE)
		r = direct_script(t, j, c);
	else if (r == 0)
		r = 1;
	if (r == 1 &&
	    (j->py.form == HB_PY_INTERP || j->py.form == HB_PY_DIRECT))
		r = resolve_interp(t, j, c) ?: 1;
	if (r == 1 && !j->missing) {
		j->args_plain = true;
		for (size_t w = j->py.script + 1; w < c->n; w++)
			j->args_plain &= c->w[w].plain;
	}
	return r;
}

static void job_free(struct hb_mig_job *j)
{
	free(j->user);
	free(j->cwd);
	free(j->script);
	free(j->interp);
	free(j->venv);
	free(j->policy);
}

int hb_mig_find_jobs(const struct hb_mig_source *s, const struct hb_crontab *t,
		     struct hb_mig_job **ret, size_t *ret_n)
{
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	for (size_t i = 0; r == 0 && i < t->n; i++) {
		for (size_t k = 0; r == 0 && k < t->lines[i].n_cmds; k++) {
			struct hb_mig_job j = {.line = i, .cmd = k};
			r = find_in_cmd(s, t, &j);
			if (r == 1)
				r = add_job(ret, ret_n, &j);
			else
				job_free(&j);
		}
	}
	if (r < 0) {
		hb_mig_jobs_free(*ret, *ret_n);
		*ret = NULL;
		*ret_n = 0;
	}
	return r < 0 ? r : 0;
}

void hb_mig_jobs_free(struct hb_mig_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		job_free(&jobs[i]);
	free(jobs);
}

/* What `hivebox check` said of the script, against one policy. */
struct verdict {
	int status; /* the check's exit status; 0 when it judged */
	char risk[16];
	bool parses, network, spawns;
	char parse_why[160], network_where[160], spawn_where[160];
	struct hb_strv outside;	 /* literal paths the policy does not show */
	struct hb_strv readonly; /* ... shows, but not writable */
	struct hb_strv risky;	 /* "rule (line N)" of medium and above */
};

static void verdict_free(struct verdict *v)
{
	hb_strv_clear(&v->outside);
	hb_strv_clear(&v->readonly);
	hb_strv_clear(&v->risky);
}

/* "X is outside the policy's paths" / "X is read-only under the policy" */
static int path_finding(struct verdict *v, const char *msg)
{
	static const char outside[] = " is outside the policy's paths";
	static const char ro[] = " is read-only under the policy";
	size_t n = strlen(msg);
	_cleanup_free_ char *p = NULL;

	if (n > sizeof(outside) - 1 &&
	    strcmp(msg + n - (sizeof(outside) - 1), outside) == 0) {
		p = strndup(msg, n - (sizeof(outside) - 1));
		return p && !hb_strv_contains(&v->outside, p)
			       ? hb_strv_push(&v->outside, p)
			       : 0;
	}
	if (n > sizeof(ro) - 1 && strcmp(msg + n - (sizeof(ro) - 1), ro) == 0) {
		p = strndup(msg, n - (sizeof(ro) - 1));
		return p && !hb_strv_contains(&v->readonly, p)
			       ? hb_strv_push(&v->readonly, p)
			       : 0;
	}
	return 0;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return "";
	return json_object_get_string(v) ?: "";
}

static int finding(struct verdict *v, json_object *f)
{
	const char *rule = jstr(f, "rule"), *sev = jstr(f, "severity");
	int line = 0;
	char where[160];
	json_object *l;

	if (json_object_object_get_ex(f, "line", &l))
		line = json_object_get_int(l);
	snprintf(where, sizeof(where), "%s (line %d)", rule, line);
	if (strcmp(rule, "syntax-error") == 0) {
		v->parses = false;
		snprintf(v->parse_why, sizeof(v->parse_why), "line %d: %s",
			 line, jstr(f, "message"));
	}
	if (strstr(rule, "network") && !v->network) {
		v->network = true;
		snprintf(v->network_where, sizeof(v->network_where), "%s",
			 where);
	}
	if ((strcmp(rule, "subprocess-use") == 0 ||
	     strcmp(rule, "shell-injection") == 0) &&
	    !v->spawns) {
		v->spawns = true;
		snprintf(v->spawn_where, sizeof(v->spawn_where), "%s", where);
	}
	if (strcmp(rule, "path-outside-policy") == 0)
		return path_finding(v, jstr(f, "message"));
	if (hb_risk_from_string(sev) >= HB_RISK_MEDIUM &&
	    !hb_strv_contains(&v->risky, where))
		return hb_strv_push(&v->risky, where);
	return 0;
}

/* Every program the script starts, judged risky or not. */
static void spawns(struct verdict *v, json_object *sp)
{
	json_object *first, *l;

	if (!sp || !json_object_is_type(sp, json_type_array) ||
	    !json_object_array_length(sp) || v->spawns)
		return;
	first = json_object_array_get_idx(sp, 0);
	v->spawns = true;
	snprintf(v->spawn_where, sizeof(v->spawn_where), "%s() (line %d)",
		 jstr(first, "call"),
		 json_object_object_get_ex(first, "line", &l)
			 ? json_object_get_int(l)
			 : 0);
}

static int parse_verdict(struct verdict *v, const char *out)
{
	json_object *o = json_tokener_parse(out), *fs, *sp = NULL;
	int r = 0;

	if (!o || !json_object_object_get_ex(o, "findings", &fs)) {
		json_object_put(o);
		return -EBADMSG;
	}
	snprintf(v->risk, sizeof(v->risk), "%s", jstr(o, "risk"));
	v->parses = true;
	json_object_object_get_ex(o, "spawns", &sp);
	spawns(v, sp);
	for (size_t i = 0; r == 0 && i < json_object_array_length(fs); i++)
		r = finding(v, json_object_array_get_idx(fs, i));
	json_object_put(o);
	return r;
}

/* The analyzer runs under the interpreter of the policy it is given
 * ("the parser that will run them"), but in a sandbox of its own that
 * does not see a virtualenv: it is given a policy that extends the job's
 * with the system's python3, the same parser.  Its path in *ret, or
 * NULL when the job's own will do. */
static int check_view(const struct hb_mig_ctx *c, const struct hb_mig_job *j,
		      char **ret)
{
	_cleanup_free_ char *text = NULL;
	const char *name = strrchr(j->policy, '/') + 1;
	int r;

	*ret = NULL;
	if (!j->interp || strcmp(j->interp, DEFAULT_INTERP) == 0)
		return 0;
	if (asprintf(ret, "%.*s.check-%s", (int)(name - j->policy), j->policy,
		     name) < 0 ||
	    asprintf(&text,
		     "; hivebox migrate: %s as hivebox check reads it\n"
		     "[policy]\nextends = %s\n[execution]\ninterpreter = "
		     "%s\n",
		     name, name, DEFAULT_INTERP) < 0)
		return -ENOMEM;
	r = hb_mig_write_atomic(c->dir_fd, hb_mig_base(*ret), text,
				strlen(text), 0600, NULL);
	if (r < 0) {
		free(*ret);
		*ret = NULL;
	}
	return r;
}

/* hivebox check --policy POLICY --json --fail-at none SCRIPT */
static int check_one(const struct hb_mig_ctx *c, const char *policy,
		     const char *script, struct verdict *v);

static int check(const struct hb_mig_ctx *c, const struct hb_mig_job *j,
		 struct verdict *v)
{
	_cleanup_free_ char *view = NULL;
	int r = check_view(c, j, &view);

	if (r < 0)
		return r;
	r = check_one(c, view ?: j->policy, j->script, v);
	if (view)
		unlinkat(c->dir_fd, hb_mig_base(view), 0);
	return r;
}

static int check_one(const struct hb_mig_ctx *c, const char *policy,
		     const char *script, struct verdict *v)
{
	struct hb_strv argv = {0};
	_cleanup_free_ char *out = NULL;
	const char *words[] = {"hivebox", "check",  "--policy",
			       policy,	  "--json", "--fail-at",
			       "none",	  "--",	    script};
	size_t len;
	int r = 0;

	memset(v, 0, sizeof(*v));
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(words); i++) {
		r = hb_strv_push(&argv, words[i]);
		if (r == 0 && i == 1 && c->m->audit_dir) {
			r = hb_strv_push(&argv, "--audit-dir");
			if (r == 0)
				r = hb_strv_push(&argv, c->m->audit_dir);
		}
	}
	if (r == 0)
		r = hb_run_capture("/proc/self/exe", argv.v, NULL,
				   4 * CRONTAB_MAX, &out, &len, &v->status);
	hb_strv_clear(&argv);
	if (r < 0)
		return r;
	if (!WIFEXITED(v->status) || WEXITSTATUS(v->status) != 0)
		return 0;
	if (parse_verdict(v, out) < 0)
		v->status = -1;
	return 0;
}

/* What the proposal holds beyond the base. */
struct proposal {
	struct hb_strv ro, rw;
	struct hb_strv left_out; /* "PATH: why" */
	char *here;		 /* the script's directory, for its modules */
	bool kept;		 /* written by an earlier run: kept as it is */
	struct hb_strv env;	 /* "NAME=value" the crontab gives the job */
	char module[64];	 /* ... one of which the script imports */
};

static void proposal_free(struct proposal *p)
{
	free(p->here);
	hb_strv_clear(&p->ro);
	hb_strv_clear(&p->rw);
	hb_strv_clear(&p->left_out);
	hb_strv_clear(&p->env);
}

static int left_out(struct proposal *p, const char *path, const char *why);

/* cron's own variables, and those the sandbox sets itself (PATH, HOME)
 * or cron sets per user: not the job's to carry. */
static bool cron_own(const char *name)
{
	static const char *const own[] = {
		"SHELL",	"MAILTO",
		"MAILFROM",	"CRON_TZ",
		"PATH",		"HOME",
		"LOGNAME",	"USER",
		"CONTENT_TYPE", "CONTENT_TRANSFER_ENCODING",
	};

	for (size_t i = 0; i < ARRAY_SIZE(own); i++)
		if (strcmp(name, own[i]) == 0)
			return true;
	return false;
}

/* NAME=value into the proposal's [environment], or left out, why. */
static int env_one(struct proposal *p, const char *name, const char *value,
		   bool plain)
{
	_cleanup_free_ char *kv = NULL;

	if (asprintf(&kv, "%s=%s", name, value) < 0)
		return -ENOMEM;
	if (!plain)
		return left_out(p, kv, "the shell computes its value");
	/* An INI line: no comment character, no blank its parser trims. */
	if (strpbrk(kv, ";#\n") || strlen(kv) > POLICY_PATH_MAX ||
	    (value[0] && (isspace((unsigned char)value[0]) ||
			  isspace((unsigned char)value[strlen(value) - 1]))))
		return left_out(p, kv, "a policy line cannot hold its value");
	/* A later setting of the name replaces an earlier one. */
	for (size_t i = 0; i < p->env.n; i++)
		if (strncmp(p->env.v[i], kv, strlen(name) + 1) == 0) {
			free(p->env.v[i]);
			p->env.v[i] = TAKE_PTR(kv);
			return 0;
		}
	return hb_strv_push(&p->env, kv);
}

/* What the crontab gives the job's environment: its env lines above the
 * job (but cron's own), then the command's leading assignments.  The
 * sandbox starts from an empty environment, so these are set in it. */
static int job_env(const struct hb_crontab *t, const struct hb_mig_job *j,
		   struct proposal *p)
{
	const struct hb_cron_cmd *c = &t->lines[j->line].cmds[j->cmd];
	int r = 0;

	for (size_t i = 0; r == 0 && i < j->line; i++) {
		const struct hb_cron_line *l = &t->lines[i];
		if (l->kind == HB_CRON_ENV && !cron_own(l->name))
			r = env_one(p, l->name, l->value, true);
	}
	for (size_t a = 0; r == 0 && a < c->n_assign; a++) {
		const char *kv = c->assign[a].value, *eq = strchr(kv, '=');
		_cleanup_free_ char *name = strndup(kv, (size_t)(eq - kv));
		r = name ? env_one(p, name, eq + 1, c->assign[a].plain)
			 : -ENOMEM;
	}
	return r;
}

/* Too wide to grant for one literal path: /, a top-level directory, a
 * home directory. */
static bool too_wide(const char *p)
{
	const char *second = strchr(p + 1, '/');

	if (strcmp(p, "/") == 0 || !second)
		return true;
	if (strcmp(p, "/root") == 0)
		return true;
	return strncmp(p, "/home/", 6) == 0 && !strchr(p + 6, '/');
}

/* The path to grant for a literal the script names: itself if it
 * exists, else its directory (a file it will create); NULL and why. */
static int grant_for(const char *literal, char **ret, const char **why)
{
	_cleanup_free_ char *p = NULL;
	struct stat st;
	char *slash;
	int r = hb_path_absolute("/", literal, &p);

	*ret = NULL;
	if (r < 0)
		return r;
	if (stat(p, &st) < 0) {
		slash = strrchr(p, '/');
		if (slash && slash != p)
			*slash = '\0';
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
			*why = "neither it nor its directory exists";
			return 0;
		}
	}
	if (too_wide(p))
		*why = "granting it would widen the policy to a top-level or "
		       "home directory";
	else if (strlen(p) > POLICY_PATH_MAX || strpbrk(p, ",;#\n"))
		*why = "a policy line cannot hold this path";
	else
		*ret = TAKE_PTR(p);
	return 0;
}

static int left_out(struct proposal *p, const char *path, const char *why)
{
	_cleanup_free_ char *s = NULL;

	if (asprintf(&s, "%s: %s", path, why) < 0)
		return -ENOMEM;
	return hb_strv_contains(&p->left_out, s)
		       ? 0
		       : hb_strv_push(&p->left_out, s);
}

/* Each literal into ro (or rw, writable), mapped by grant_for(). */
static int grant(struct proposal *p, const struct hb_strv *literals,
		 bool writable)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < literals->n; i++) {
		_cleanup_free_ char *g = NULL;
		const char *why = NULL;
		r = grant_for(literals->v[i], &g, &why);
		if (r < 0)
			break;
		if (!g) {
			r = left_out(p, literals->v[i], why);
			continue;
		}
		if (writable && !hb_strv_contains(&p->rw, g))
			r = hb_strv_push(&p->rw, g);
		else if (!writable && !hb_strv_contains(&p->ro, g) &&
			 !hb_strv_contains(&p->rw, g))
			r = hb_strv_push(&p->ro, g);
	}
	return r;
}

/* ro without what rw now holds. */
static void drop_writable(struct proposal *p)
{
	size_t k = 0;

	for (size_t i = 0; i < p->ro.n; i++) {
		if (hb_strv_contains(&p->rw, p->ro.v[i]))
			free(p->ro.v[i]);
		else
			p->ro.v[k++] = p->ro.v[i];
	}
	p->ro.n = k;
	if (p->ro.v)
		p->ro.v[k] = NULL;
}

static void list_lines(FILE *f, const char *key, const struct hb_strv *v,
		       const char *why)
{
	for (size_t i = 0; i < v->n; i++)
		fprintf(f, "; %s\n%s = %s\n", why, key, v->v[i]);
}

static void env_lines(FILE *f, const struct hb_py_opts *o,
		      const struct hb_strv *env)
{
	if (!o->unbuffered && !o->no_bytecode && !o->optimize && !env->n)
		return;
	fputs("[environment]\n", f);
	for (size_t i = 0; i < env->n; i++)
		fprintf(f, "; the crontab sets it for the job\nset = %s\n",
			env->v[i]);
	if (o->unbuffered)
		fputs("; python -u on the cron line\nset = "
		      "PYTHONUNBUFFERED=1\n",
		      f);
	if (o->no_bytecode)
		fputs("; python -B on the cron line\nset = "
		      "PYTHONDONTWRITEBYTECODE=1\n",
		      f);
	if (o->optimize)
		fprintf(f,
			"; python -O on the cron line\nset = "
			"PYTHONOPTIMIZE=%d\n",
			o->optimize);
}

static int policy_text(const struct hb_mig_ctx *c, const struct hb_crontab *t,
		       const struct hb_mig_job *j, const char *source,
		       const struct proposal *p, char **ret)
{
	const struct hb_cron_line *l = &t->lines[j->line];
	size_t len = 0, cmd = l->cmd_end - l->cmd_start;
	FILE *f = open_memstream(ret, &len);

	if (!f)
		return -errno;
	fprintf(f,
		"; written by hivebox migrate for %.100s line %u:\n"
		"; %.*s%s\n"
		"; Proposed from what hivebox check reads in the script, not "
		"from a run:\n"
		"; a path the script builds at run time is not here.  "
		"Review it before\n; --apply; hivebox migrate --learn runs the "
		"job to learn it.\n"
		"; migrate source: %s\n"
		"[policy]\nextends = %s\n",
		source, l->lineno, (int)(cmd > 120 ? 120 : cmd),
		t->text + l->cmd_start, cmd > 120 ? "..." : "", c->label,
		c->base);
	if (j->interp && strcmp(j->interp, DEFAULT_INTERP) != 0)
		fprintf(f,
			"[execution]\n; the interpreter the cron line runs\n"
			"interpreter = %s\n",
			j->interp);
	fputs("[filesystem]\n", f);
	if (j->venv)
		fprintf(f, "; the interpreter's virtualenv\nread_only = %s\n",
			j->venv);
	if (p->here)
		fprintf(f,
			"; the script's directory, sys.path[0]: it imports %s "
			"from there\nread_only = %s\n",
			p->module, p->here);
	list_lines(f, "read_only", &p->ro, "a path the script names");
	list_lines(f, "read_write", &p->rw, "a path the script writes");
	for (size_t i = 0; i < p->left_out.n; i++)
		fprintf(f, "; left out: %.180s\n", p->left_out.v[i]);
	env_lines(f, &j->py.opts, &p->env);
	return fclose(f) == 0 ? 0 : -ENOMEM;
}

/* Does name in the policy directory say it was written for this source
 * (its "; migrate source:" line)?  -ENOENT when there is no such file. */
static int says_ours(const struct hb_mig_ctx *c, const char *name)
{
	_cleanup_close_ int fd =
		openat(c->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_free_ char *want = NULL;
	char buf[2048];
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (asprintf(&want, "\n; migrate source: %s\n", c->label) < 0)
		return -ENOMEM;
	return strstr(buf, want) ? 1 : 0;
}

/* A policy there already is replaced only if it was written for this
 * source: a name another crontab's job (or an admin) uses is not taken
 * over.  A learned JOB.ini is ours if its JOB.base.ini is. */
static int may_replace(const struct hb_mig_ctx *c, const char *name)
{
	_cleanup_free_ char *base = NULL;
	size_t n = strlen(name);
	int r = says_ours(c, name);

	if (r != 0)
		return r == -ENOENT || r == 1 ? 0 : r;
	if (n > 4 && asprintf(&base, "%.*s.base.ini", (int)(n - 4), name) < 0)
		return -ENOMEM;
	return base && says_ours(c, base) == 1 ? 0 : -EEXIST;
}

/* Who reads the job's policy: root, as which hivebox reads it for a
 * root job; for a job cron runs as another user, hivebox runs as him,
 * so his group reads it too (0640 root:GROUP).  Not the world: it
 * copies the cron command, which may hold a token. */
static void policy_owner(const struct hb_mig_job *j, struct stat *st)
{
	struct passwd *pw = getpwnam(j->user);

	memset(st, 0, sizeof(*st));
	st->st_uid = geteuid();
	st->st_gid = getegid();
	st->st_mode = 0600;
	if (pw && pw->pw_uid != 0) {
		st->st_gid = pw->pw_gid;
		st->st_mode = 0640;
	}
}

static int write_policy(const struct hb_mig_ctx *c, const struct hb_crontab *t,
			const struct hb_mig_job *j, const char *source,
			const struct proposal *p, const char *path)
{
	struct stat like;

	_cleanup_free_ char *text = NULL;
	int r = may_replace(c, hb_mig_base(path));

	if (r == 0)
		r = policy_text(c, t, j, source, p, &text);
	if (r == 0)
		policy_owner(j, &like);
	if (r == 0)
		r = hb_mig_write_atomic(c->dir_fd, hb_mig_base(path), text,
					strlen(text), 0, &like);
	return r;
}

/* "import NAME" or "from NAME import" at the start of line: NAME. */
static bool import_name(const char *line, char name[64])
{
	size_t n;

	line += strspn(line, " \t");
	if (strncmp(line, "import ", 7) == 0)
		line += 7;
	else if (strncmp(line, "from ", 5) == 0)
		line += 5;
	else
		return false;
	line += strspn(line, " \t");
	n = strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_");
	if (n == 0 || n >= 64 || (line[0] >= '0' && line[0] <= '9'))
		return false;
	snprintf(name, 64, "%.*s", (int)n, line);
	return true;
}

/* Does the script import a module that lies beside it (NAME.py or a
 * package NAME/)?  Python finds it through sys.path[0], the script's
 * directory, which the sandbox then must show: p->here. */
static int sibling_module(const struct hb_mig_job *j, struct proposal *p)
{
	_cleanup_fclose_ FILE *f = fopen(j->script, "re");
	_cleanup_free_ char *line = NULL, *dir = strdup(j->script);
	char name[64], path[PATH_MAX + 80];
	size_t cap = 0;
	struct stat st;

	if (!f || !dir)
		return f ? -ENOMEM : 0;
	*strrchr(dir, '/') = '\0';
	while (getline(&line, &cap, f) > 0) {
		if (!import_name(line, name))
			continue;
		snprintf(path, sizeof(path), "%s/%s.py", dir, name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			snprintf(path, sizeof(path), "%s/%s/__init__.py", dir,
				 name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		snprintf(p->module, sizeof(p->module), "%s", name);
		if (!dir[0] || too_wide(dir) || strlen(dir) > POLICY_PATH_MAX ||
		    strpbrk(dir, ",;#"))
			return left_out(p, dir[0] ? dir : "/",
					"the script imports from its "
					"directory, which is too wide to "
					"grant");
		p->here = TAKE_PTR(dir);
		return 0;
	}
	return 0;
}

/* The proposal: a draft checked, the literal paths it names granted
 * read-only, checked again, those it writes made writable. */
static int propose(struct hb_mig_ctx *c, const struct hb_crontab *t,
		   const struct hb_mig_job *j, const char *source,
		   struct proposal *p, struct verdict *v)
{
	int r = sibling_module(j, p);

	if (r == 0)
		r = job_env(t, j, p);
	if (r == 0)
		r = write_policy(c, t, j, source, p, j->policy);

	if (r == 0)
		r = check(c, j, v);
	if (r < 0 || v->status != 0 || (!v->outside.n && !v->readonly.n))
		return r;
	r = grant(p, &v->outside, false);
	if (r == 0)
		r = grant(p, &v->readonly, true);
	if (r == 0)
		r = write_policy(c, t, j, source, p, j->policy);
	verdict_free(v);
	if (r == 0)
		r = check(c, j, v);
	if (r < 0 || v->status != 0 || !v->readonly.n)
		return r;
	r = grant(p, &v->readonly, true);
	drop_writable(p);
	if (r == 0)
		r = write_policy(c, t, j, source, p, j->policy);
	verdict_free(v);
	if (r == 0)
		r = check(c, j, v);
	return r;
}

/* hivebox learn --policy BASE -o POLICY [--network] SCRIPT ARGS, in the
 * job's directory: its report goes to our stdout. */
static int learn(struct hb_mig_ctx *c, const struct hb_crontab *t,
		 const struct hb_mig_job *j, const char *base, bool network,
		 int *status)
{
	const struct hb_cron_cmd *cmd = &t->lines[j->line].cmds[j->cmd];
	const char *words[] = {"hivebox", "learn", "--policy",
			       base,	  "-o",	   j->policy};
	struct hb_strv argv = {0};
	int r = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(words); i++)
		r = hb_strv_push(&argv, words[i]);
	if (r == 0 && network)
		r = hb_strv_push(&argv, "--network");
	if (r == 0)
		r = hb_strv_push(&argv, j->script);
	for (size_t w = j->py.script + 1; r == 0 && w < cmd->n; w++)
		r = hb_strv_push(&argv, cmd->w[w].value);
	fflush(c->out);
	if (r == 0)
		r = hb_run_capture("/proc/self/exe", argv.v, j->cwd, 0, NULL,
				   NULL, status);
	hb_strv_clear(&argv);
	return r;
}

/* hivebox learn runs the script as its owner: a job cron runs as
 * another user would be learned doing what it does not do. */
static bool learn_as_cron(const struct hb_mig_ctx *c,
			  const struct hb_mig_job *j)
{
	struct passwd *pw = getpwnam(j->user);
	struct stat st;

	if (stat(j->script, &st) == 0 && pw && pw->pw_uid == st.st_uid)
		return true;
	fprintf(c->out,
		"    learn: not run: cron runs the job as %s, hivebox learn "
		"would run it as the script's owner; learn it by hand\n",
		j->user);
	return false;
}

/* --learn: the proposal becomes JOB.base.ini, and JOB.ini what learn
 * writes on top of it.  A learn that fails leaves the proposal. */
static int learn_step(struct hb_mig_ctx *c, const struct hb_crontab *t,
		      const struct hb_mig_job *j, const char *source,
		      const struct proposal *p, bool network)
{
	_cleanup_free_ char *base = NULL;
	size_t n = strlen(j->policy);
	int status = 0, r;

	if (!learn_as_cron(c, j))
		return 0;
	if (asprintf(&base, "%.*s.base.ini", (int)(n - 4), j->policy) < 0)
		return -ENOMEM;
	r = write_policy(c, t, j, source, p, base);
	if (r < 0)
		return r;
	if (!j->args_plain) {
		fprintf(c->out, "    learn: not run: the job's arguments are "
				"computed by the shell\n");
		return 0;
	}
	fprintf(c->out,
		"    learn: running %s once under hivebox learn (it executes; "
		"the host is read-only to it)\n",
		j->script);
	r = learn(c, t, j, base, network, &status);
	if (r < 0)
		return r;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	fprintf(c->out,
		"    learn: hivebox learn failed (status %d); the proposal "
		"stands\n",
		WIFEXITED(status) ? WEXITSTATUS(status)
				  : 128 + WTERMSIG(status));
	return write_policy(c, t, j, source, p, j->policy);
}

static void reason(FILE *out, bool ok, int points, const char *fmt, ...)
	_printf_(4, 5);
static void reason(FILE *out, bool ok, int points, const char *fmt, ...)
{
	va_list ap;

	fprintf(out, "      %s %3d  ", ok ? "ok" : "--", points);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

static void list_text(const struct hb_strv *v, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < v->n && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s",
					i ? ", " : "", v->v[i]);
}

/* The parts of the score, as the verdict and the policy give them. */
struct points {
	bool judged, risk_ok, net_ok, user_ok;
	int pts[6]; /* parses, risk, paths, network, spawns, user */
};

static int points(const struct hb_mig_job *j, const struct verdict *v,
		  const struct hb_policy *pol, struct points *ret)
{
	int risk = hb_risk_from_string(v->risk), *pts = ret->pts;
	bool judged = v->status == 0;

	ret->judged = judged;
	ret->user_ok = getpwnam(j->user) != NULL;
	ret->net_ok = !v->network || pol->network_mode != HB_NET_NONE;
	ret->risk_ok = judged && risk >= 0 && risk <= HB_RISK_LOW;
	pts[0] = judged && v->parses ? W_PARSES : 0;
	pts[1] = ret->risk_ok			    ? W_RISK
		 : judged && risk == HB_RISK_MEDIUM ? W_RISK / 2
						    : 0;
	pts[2] = judged && !v->outside.n && !v->readonly.n ? W_PATHS : 0;
	pts[3] = judged && ret->net_ok ? W_NETWORK : 0;
	pts[4] = judged && !v->spawns ? W_SPAWN : 0;
	pts[5] = ret->user_ok ? W_USER : 0;
	return pts[0] + pts[1] + pts[2] + pts[3] + pts[4] + pts[5];
}

/* The lines of what hivebox check judged. */
static void judged_reasons(FILE *out, const struct verdict *v,
			   const struct proposal *p, const struct points *s)
{
	char buf[600];

	reason(out, v->parses, s->pts[0], "the script parses%s%s",
	       v->parses ? "" : ": ", v->parse_why);
	list_text(&v->risky, buf, sizeof(buf));
	reason(out, s->risk_ok, s->pts[1], "hivebox check: risk %s%s%s%s",
	       v->risk, v->risky.n ? " (" : "", buf, v->risky.n ? ")" : "");
	list_text(v->outside.n ? &v->outside : &v->readonly, buf, sizeof(buf));
	if (s->pts[2] && p->kept)
		reason(out, true, s->pts[2],
		       "its literal paths are in the policy");
	else if (s->pts[2])
		reason(out, true, s->pts[2],
		       "its literal paths are in the policy (%zu granted)",
		       p->ro.n + p->rw.n + !!p->here);
	else
		reason(out, false, 0,
		       "literal paths the policy does not cover: %s", buf);
	reason(out, s->net_ok, s->pts[3], "%s%s",
	       !v->network ? "needs no network"
	       : s->net_ok ? "needs network, which the policy gives: it uses "
			   : "needs network, which the policy does not give "
			     "(--learn learns it): ",
	       v->network_where);
	reason(out, !v->spawns, s->pts[4], "%s%s",
	       v->spawns ? "spawns programs, which the policy does not "
			   "bring in: "
			 : "spawns no program",
	       v->spawn_where);
}

/* The score and a line for each part of it; kept in the job, which
 * --apply wraps only if it parses and scores at least --min-score. */
static void score(FILE *out, struct hb_mig_job *j, const struct verdict *v,
		  const struct hb_policy *pol, const struct proposal *p)
{
	struct points s = {0};

	j->score = points(j, v, pol, &s);
	j->parses = s.judged && v->parses;
	fprintf(out, "    score %d/100\n", j->score);
	if (s.judged)
		judged_reasons(out, v, p, &s);
	else
		reason(out, false, 0,
		       "hivebox check could not judge the script (status %d)",
		       v->status < 0 ? v->status : WEXITSTATUS(v->status));
	reason(out, s.user_ok, s.pts[5], "runs as %s, %s", j->user,
	       s.user_ok ? "who exists" : "who does not exist here");
	for (size_t i = 0; i < p->left_out.n; i++)
		fprintf(out, "      left out of the policy: %s\n",
			p->left_out.v[i]);
}

/* The written policy must load as `hivebox policy show` loads it: a
 * policy that does not is this code's fault, and an error. */
int hb_mig_score(struct hb_mig_ctx *c, const struct hb_crontab *t,
		 struct hb_mig_job *j, struct hb_diag *diag)
{
	const char *source = c->source;
	struct proposal p = {0};
	struct verdict v = {0};
	struct hb_policy pol;
	int r;

	fprintf(c->out, "    script %s, as %s, in %s\n", j->script, j->user,
		j->cwd);
	if (j->missing) {
		fprintf(c->out, "    score 0/100\n");
		reason(c->out, false, 0,
		       "script %s not found: no policy, the "
		       "line is left as it is",
		       j->script);
		return 0;
	}
	fprintf(c->out, "    policy %s\n", j->policy);
	hb_policy_init(&pol);
	p.kept = !c->m->repropose &&
		 faccessat(c->dir_fd, hb_mig_base(j->policy), F_OK,
			   AT_SYMLINK_NOFOLLOW) == 0 &&
		 may_replace(c, hb_mig_base(j->policy)) == 0;
	if (p.kept)
		fprintf(c->out, "    kept as an earlier run wrote it (and you "
				"may have edited it); --repropose proposes "
				"it anew\n");
	if (p.kept && c->m->learn)
		fprintf(c->out, "    learn: not run on a kept policy\n");
	r = p.kept ? check(c, j, &v) : propose(c, t, j, source, &p, &v);
	if (r == 0 && c->m->learn && v.status == 0 && !p.kept) {
		r = learn_step(c, t, j, source, &p, v.network);
		verdict_free(&v);
		if (r == 0)
			r = check(c, j, &v);
	}
	if (r < 0) {
		hb_diag_set(diag, j->policy, 0, "cannot write the policy: %s",
			    r == -EEXIST ? "one is there that hivebox migrate "
					   "did not write for this crontab; "
					   "not replaced"
					 : strerror(-r));
	} else if (hb_policy_load(&pol, j->policy, diag) < 0) {
		r = -EINVAL;
	} else {
		score(c->out, j, &v, &pol, &p);
	}
	hb_policy_free(&pol);
	verdict_free(&v);
	proposal_free(&p);
	return r;
}

/* SPDX-License-Identifier: MIT */
#include "policy_explain.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The weights, in tenths of a point, as hivebox-policy(5) lists them.
 * The host itself is 10: root's uid outside, or / writable, alone come
 * close to it. */
enum {
	W_HOST_ROOT = 40,	 /* host_uid = root */
	W_RW_ROOT = 40,		 /* read_write = / */
	W_RW_SYSTEM = 20,	 /* read_write of a system directory, each */
	W_RW_SYSTEM_MAX = 40,	 /* ... all of them */
	W_RW_OTHER = 5,		 /* read_write of another path, each */
	W_RW_OTHER_MAX = 15,	 /* ... all of them */
	W_NO_QUOTA = 5,		 /* read_write paths without a write quota */
	W_RO_ROOT = 15,		 /* read_only = / */
	W_RO_SENSITIVE = 5,	 /* read_only of /etc, /root, /home, /var */
	W_RO_SENSITIVE_MAX = 10, /* ... all of them */
	W_NET_FILTERED = 5,	 /* mode = filtered: an eth0 to the host */
	W_NET_DOMAIN = 5,	 /* each allowed destination, if ports */
	W_NET_DOMAIN_MAX = 20,	 /* ... all of them */
	W_NET_DNS = 5,		 /* port 53 allowed: names, and a channel */
	W_SC_ALLOW = 15,	 /* syscalls default = allow: a deny-list */
	W_SC_HIDDEN_MEMORY = 3,	 /* @hidden-memory allowed */
	W_LIMIT_HIGH = 3,	 /* each limit left high */
	W_NO_BLOCKED_OPS = 5,	 /* no blocked_operations */
	W_GATE_OFF = 5,		 /* [analysis] refuse_at = none */
	W_GATE_CRITICAL = 2,	 /* refuse_at = critical only */
};

/* A limit is "left high" past these (DESIGN.md's defaults are well
 * under them): an hour, ten minutes of CPU, 2 GiB, 1 GiB, 64
 * processes, 1 GiB of /tmp. */
static const struct {
	enum hb_key key;
	unsigned long long high;
} high_limits[] = {
	{HB_K_TIMEOUT, 3600},	     {HB_K_CPU, 600},
	{HB_K_MEMORY, 2048},	     {HB_K_FILE_SIZE, 1024},
	{HB_K_MAX_PROCESSES, 64},    {HB_K_TMP_SIZE, 1024},
	{HB_K_MAX_OPEN_FILES, 4096},
};

static const char *const system_dirs[] = {
	"/etc", "/usr",	 "/bin", "/sbin", "/lib", "/lib64", "/boot", "/root",
	"/var", "/home", "/opt", "/srv",  "/run", "/dev",   "/proc", "/sys",
};

static const char *const sensitive_dirs[] = {"/etc", "/root", "/home", "/var"};

static unsigned long long limit_value(const struct hb_policy *p,
				      enum hb_key key)
{
	const struct hb_limits *l = &p->limits;

	switch (key) {
	case HB_K_TIMEOUT:
		return l->timeout_seconds;
	case HB_K_CPU:
		return l->cpu_seconds;
	case HB_K_MEMORY:
		return l->memory_mb;
	case HB_K_FILE_SIZE:
		return l->file_size_mb;
	case HB_K_MAX_PROCESSES:
		return l->max_processes;
	case HB_K_MAX_OPEN_FILES:
		return l->max_open_files;
	case HB_K_TMP_SIZE:
		return l->tmp_size_mb;
	default:
		return 0;
	}
}

static void add(struct hb_exposure *e, enum hb_key key, unsigned weight,
		const char *fmt, ...) _printf_(4, 5);
static void add(struct hb_exposure *e, enum hb_key key, unsigned weight,
		const char *fmt, ...)
{
	va_list ap;

	if (e->n == HB_EXPOSURE_MAX || weight == 0)
		return;
	e->w[e->n].key = key;
	e->w[e->n].weight = weight;
	va_start(ap, fmt);
	vsnprintf(e->w[e->n].what, sizeof(e->w[e->n].what), fmt, ap);
	va_end(ap);
	e->n++;
}

/* A system directory, or a path below one of those that hold the
 * host's programs and configuration. */
static bool system_path(const char *abs)
{
	for (size_t i = 0; i < ARRAY_SIZE(system_dirs); i++) {
		if (strcmp(abs, system_dirs[i]) == 0)
			return true;
		if (i < 7 && hb_path_under(abs, system_dirs[i]))
			return true;
	}
	return false;
}

static int explain_writable(const struct hb_policy *p, const char *cwd,
			    struct hb_exposure *e)
{
	unsigned sys = 0, other = 0;

	for (size_t i = 0; i < p->read_write.n; i++) {
		_cleanup_free_ char *abs = NULL;
		int r = hb_path_absolute(cwd, p->read_write.v[i], &abs);
		if (r < 0)
			return r;
		if (strcmp(abs, "/") == 0)
			add(e, HB_K_READ_WRITE, W_RW_ROOT,
			    "read_write = /: the whole host is writable");
		else if (system_path(abs) && sys < W_RW_SYSTEM_MAX) {
			add(e, HB_K_READ_WRITE, W_RW_SYSTEM,
			    "read_write = %s: a system directory is writable",
			    abs);
			sys += W_RW_SYSTEM;
		} else if (!system_path(abs) && other < W_RW_OTHER_MAX) {
			add(e, HB_K_READ_WRITE, W_RW_OTHER,
			    "read_write = %s: writable", abs);
			other += W_RW_OTHER;
		}
	}
	if (p->read_write.n && !p->write_quota_mb && !p->write_quota_files)
		add(e, HB_K_WRITE_QUOTA_MB, W_NO_QUOTA,
		    "no write quota: the writable paths can be filled");
	return 0;
}

static int explain_readable(const struct hb_policy *p, const char *cwd,
			    struct hb_exposure *e)
{
	unsigned sens = 0;

	for (size_t i = 0; i < p->read_only.n; i++) {
		_cleanup_free_ char *abs = NULL;
		int r = hb_path_absolute(cwd, p->read_only.v[i], &abs);
		if (r < 0)
			return r;
		if (strcmp(abs, "/") == 0) {
			add(e, HB_K_READ_ONLY, W_RO_ROOT,
			    "read_only = /: the whole host is readable");
			continue;
		}
		for (size_t j = 0; j < ARRAY_SIZE(sensitive_dirs); j++)
			if (strcmp(abs, sensitive_dirs[j]) == 0 &&
			    sens < W_RO_SENSITIVE_MAX) {
				add(e, HB_K_READ_ONLY, W_RO_SENSITIVE,
				    "read_only = %s: readable", abs);
				sens += W_RO_SENSITIVE;
			}
	}
	return 0;
}

static void explain_network(const struct hb_policy *p, struct hb_exposure *e)
{
	size_t n = p->allowed_domains.n;
	bool ports = p->allowed_ports.n > 0;
	unsigned domains = (unsigned)n * W_NET_DOMAIN;

	if (p->network_mode != HB_NET_FILTERED)
		return;
	add(e, HB_K_NETWORK_MODE, W_NET_FILTERED,
	    "network mode = filtered: an interface to the host");
	/* With no destination or no port, nothing is reachable. */
	if (n && ports)
		add(e, HB_K_NET_DOMAINS,
		    domains > W_NET_DOMAIN_MAX ? W_NET_DOMAIN_MAX : domains,
		    "%zu allowed destination%s on %zu port%s", n,
		    n == 1 ? "" : "s", p->allowed_ports.n,
		    p->allowed_ports.n == 1 ? "" : "s");
	if (n && hb_strv_contains(&p->allowed_ports, "53") &&
	    !hb_strv_contains(&p->blocked_ports, "53"))
		add(e, HB_K_NET_ALLOWED_PORTS, W_NET_DNS,
		    "port 53 allowed: DNS, a way out for data");
}

static void explain_syscalls(const struct hb_policy *p, struct hb_exposure *e)
{
	bool hidden =
		p->syscalls_default == HB_SC_ALLOW
			? !hb_strv_contains(&p->syscalls_deny, "@hidden-memory")
			: hb_strv_contains(&p->syscalls_allow,
					   "@hidden-memory");

	if (p->syscalls_default == HB_SC_ALLOW)
		add(e, HB_K_SC_DEFAULT, W_SC_ALLOW,
		    "syscalls default = allow: a deny-list, every call not "
		    "named is allowed");
	if (hidden)
		add(e,
		    p->syscalls_default == HB_SC_ALLOW ? HB_K_SC_DENY
						       : HB_K_SC_ALLOW,
		    W_SC_HIDDEN_MEMORY,
		    "@hidden-memory allowed: memory the limits cannot see");
}

static void explain_rest(const struct hb_policy *p, struct hb_exposure *e)
{
	if (p->host_uid.kind == HB_HOST_UID_ROOT)
		add(e, HB_K_HOST_UID, W_HOST_ROOT,
		    "host_uid = root: the sandbox's root is the host's");
	for (size_t i = 0; i < ARRAY_SIZE(high_limits); i++) {
		unsigned long long v = limit_value(p, high_limits[i].key);
		if (v > high_limits[i].high)
			add(e, high_limits[i].key, W_LIMIT_HIGH,
			    "%s = %llu: left high (over %llu)",
			    hb_key_name(high_limits[i].key), v,
			    high_limits[i].high);
	}
	if (p->blocked_operations.n == 0)
		add(e, HB_K_BLOCKED_OPS, W_NO_BLOCKED_OPS,
		    "no blocked_operations: delete, chmod, ... all allowed");
	if (p->refuse_at == HB_RISK_NONE)
		add(e, HB_K_ANALYSIS_REFUSE_AT, W_GATE_OFF,
		    "[analysis] refuse_at = none: scripts run unchecked");
	else if (p->refuse_at == HB_RISK_CRITICAL)
		add(e, HB_K_ANALYSIS_REFUSE_AT, W_GATE_CRITICAL,
		    "[analysis] refuse_at = critical: only the worst is "
		    "refused");
}

static int heavier_first(const void *a, const void *b)
{
	const struct hb_weakening *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight < y->weight ? 1 : -1;
	return (int)x->key - (int)y->key;
}

int hb_policy_explain(const struct hb_policy *p, const char *cwd,
		      struct hb_exposure *ret)
{
	unsigned sum = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = explain_writable(p, cwd, ret);
	if (r == 0)
		r = explain_readable(p, cwd, ret);
	if (r < 0)
		return r;
	explain_network(p, ret);
	explain_syscalls(p, ret);
	explain_rest(p, ret);
	qsort(ret->w, ret->n, sizeof(ret->w[0]), heavier_first);
	for (size_t i = 0; i < ret->n; i++)
		sum += ret->w[i].weight;
	ret->score = sum > 100 ? 100 : sum;
	return 0;
}

const char *hb_exposure_level(unsigned score)
{
	if (score < 20)
		return "low";
	if (score < 50)
		return "medium";
	if (score < 80)
		return "high";
	return "unsafe";
}

void hb_exposure_print(const struct hb_policy *p, const struct hb_exposure *e,
		       FILE *out)
{
	char where[HB_ORIGIN_TEXT_MAX];

	fprintf(out, "%s\n", p->path ? p->path : "(policy)");
	if (e->n)
		fprintf(out, "  weight  weakening (where)\n");
	for (size_t i = 0; i < e->n; i++)
		fprintf(out, "  +%u.%u    %s (%s)\n", e->w[i].weight / 10,
			e->w[i].weight % 10, e->w[i].what,
			hb_policy_origin_text(p, e->w[i].key, where,
					      sizeof(where)));
	fprintf(out, "exposure: %u.%u of 10 (%s)\n", e->score / 10,
		e->score % 10, hb_exposure_level(e->score));
}

/* 0.3, not 0.29999999999999999. */
static json_object *tenths(unsigned v)
{
	char text[32];

	snprintf(text, sizeof(text), "%u.%u", v / 10, v % 10);
	return json_object_new_double_s(v / 10.0, text);
}

json_object *hb_exposure_json(const struct hb_policy *p,
			      const struct hb_exposure *e)
{
	json_object *o = json_object_new_object();
	json_object *list = json_object_new_array();
	char where[HB_ORIGIN_TEXT_MAX];

	json_object_object_add(o, "policy",
			       json_object_new_string(p->path ? p->path : ""));
	json_object_object_add(o, "score", tenths(e->score));
	json_object_object_add(
		o, "level",
		json_object_new_string(hb_exposure_level(e->score)));
	for (size_t i = 0; i < e->n; i++) {
		json_object *w = json_object_new_object();
		json_object_object_add(
			w, "key",
			json_object_new_string(hb_key_name(e->w[i].key)));
		json_object_object_add(
			w, "weight",
			json_object_new_double(e->w[i].weight / 10.0));
		json_object_object_add(w, "what",
				       json_object_new_string(e->w[i].what));
		json_object_object_add(
			w, "origin",
			json_object_new_string(hb_policy_origin_text(
				p, e->w[i].key, where, sizeof(where))));
		json_object_array_add(list, w);
	}
	json_object_object_add(o, "weakenings", list);
	return o;
}

/* ---- lint ---------------------------------------------------------- */

static void warn(struct hb_lint *l, enum hb_key key, const char *fmt, ...)
	_printf_(3, 4);
static void warn(struct hb_lint *l, enum hb_key key, const char *fmt, ...)
{
	va_list ap;

	if (l->n == HB_LINT_MAX)
		return;
	l->w[l->n].key = key;
	va_start(ap, fmt);
	vsnprintf(l->w[l->n].msg, sizeof(l->w[l->n].msg), fmt, ap);
	va_end(ap);
	l->n++;
}

static int lint_paths(const struct hb_policy *p, const char *cwd,
		      struct hb_lint *l)
{
	for (size_t i = 0; i < p->read_write.n; i++) {
		_cleanup_free_ char *rw = NULL;
		int r = hb_path_absolute(cwd, p->read_write.v[i], &rw);
		if (r < 0)
			return r;
		for (size_t j = 0; j < p->read_only.n; j++) {
			_cleanup_free_ char *ro = NULL;
			r = hb_path_absolute(cwd, p->read_only.v[j], &ro);
			if (r < 0)
				return r;
			if (hb_path_under(rw, ro))
				warn(l, HB_K_READ_WRITE,
				     "read_write %s lies under read_only %s: "
				     "part of what reads as read-only is "
				     "writable",
				     p->read_write.v[i], p->read_only.v[j]);
		}
		if (strcmp(rw, "/") == 0 || system_path(rw))
			warn(l, HB_K_READ_WRITE,
			     "read_write %s: a system directory is writable",
			     p->read_write.v[i]);
	}
	if (p->read_write.n && !p->write_quota_mb && !p->write_quota_files)
		warn(l, HB_K_READ_WRITE,
		     "read_write paths without write_quota_mb or "
		     "write_quota_files: a job can fill them");
	return 0;
}

static bool secret_name(const char *name)
{
	static const char *const words[] = {
		"PASSWORD", "PASSWD",	   "SECRET",	"TOKEN",
		"API_KEY",  "PRIVATE_KEY", "CREDENTIAL"};

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcasestr(name, words[i]))
			return true;
	return false;
}

static void lint_network(const struct hb_policy *p, struct hb_lint *l)
{
	if (p->allowed_ports.n && !p->allowed_domains.n)
		warn(l, HB_K_NET_ALLOWED_PORTS,
		     "allowed_ports without allowed_domains: no destination "
		     "is reachable on them");
	if (p->network_mode == HB_NET_NONE &&
	    (p->allowed_domains.n || p->allowed_ports.n))
		warn(l, HB_K_NETWORK_MODE,
		     "mode = none: allowed_domains and allowed_ports are "
		     "ignored");
	if (p->network_mode == HB_NET_FILTERED && !p->allowed_domains.n &&
	    !p->allowed_ports.n)
		warn(l, HB_K_NETWORK_MODE,
		     "mode = filtered with no allowed_domains: nothing is "
		     "reachable; mode = none says so without an interface");
}

static void lint_rest(const struct hb_policy *p, struct hb_lint *l)
{
	if (p->limits.timeout_seconds > 86400)
		warn(l, HB_K_TIMEOUT,
		     "timeout_seconds = %llu: longer than a day",
		     p->limits.timeout_seconds);
	if (p->limits.cpu_seconds >
	    p->limits.timeout_seconds * p->limits.max_processes)
		warn(l, HB_K_CPU,
		     "cpu_seconds = %llu can never be reached within "
		     "timeout_seconds by max_processes processes",
		     p->limits.cpu_seconds);
	if (p->host_uid.kind == HB_HOST_UID_ROOT)
		warn(l, HB_K_HOST_UID,
		     "host_uid = root: the sandbox's root is the host's root");
	if (p->syscalls_default == HB_SC_ALLOW)
		warn(l, HB_K_SC_DEFAULT,
		     "syscalls default = allow: a deny-list lets through "
		     "every call it does not name; prefer default = deny, "
		     "allow = @python");
	for (size_t i = 0; i < p->env_keep.n; i++)
		if (secret_name(p->env_keep.v[i]))
			warn(l, HB_K_ENV_KEEP,
			     "keep = %s: passes a secret into the sandbox, "
			     "where the script and what it runs can read it",
			     p->env_keep.v[i]);
}

/* What p loosens of the policy it extends: a limit raised, a quota
 * raised or lifted, the gate lowered, the network or the syscalls
 * opened, the host's root. */
static void lint_extends(const struct hb_policy *p, const struct hb_policy *pa,
			 struct hb_lint *l)
{
	for (int k = HB_K_TIMEOUT; k < HB_K_TIMEOUT + HB_N_LIMITS; k++)
		if (limit_value(p, (enum hb_key)k) >
		    limit_value(pa, (enum hb_key)k))
			warn(l, (enum hb_key)k,
			     "%s = %llu loosens the %llu of the policy it "
			     "extends",
			     hb_key_name((enum hb_key)k),
			     limit_value(p, (enum hb_key)k),
			     limit_value(pa, (enum hb_key)k));
	if (pa->write_quota_mb &&
	    (!p->write_quota_mb || p->write_quota_mb > pa->write_quota_mb))
		warn(l, HB_K_WRITE_QUOTA_MB,
		     "write_quota_mb loosens the %llu of the policy it "
		     "extends",
		     pa->write_quota_mb);
	if (pa->write_quota_files &&
	    (!p->write_quota_files ||
	     p->write_quota_files > pa->write_quota_files))
		warn(l, HB_K_WRITE_QUOTA_FILES,
		     "write_quota_files loosens the %llu of the policy it "
		     "extends",
		     pa->write_quota_files);
	if (p->refuse_at != pa->refuse_at &&
	    (p->refuse_at == HB_RISK_NONE ||
	     (pa->refuse_at != HB_RISK_NONE && p->refuse_at > pa->refuse_at)))
		warn(l, HB_K_ANALYSIS_REFUSE_AT,
		     "refuse_at = %s loosens the gate (%s) of the policy it "
		     "extends",
		     hb_risk_to_string(p->refuse_at),
		     hb_risk_to_string(pa->refuse_at));
	if (p->network_mode == HB_NET_FILTERED &&
	    pa->network_mode == HB_NET_NONE)
		warn(l, HB_K_NETWORK_MODE,
		     "mode = filtered opens the network the policy it extends "
		     "keeps closed");
	if (p->syscalls_default == HB_SC_ALLOW &&
	    pa->syscalls_default == HB_SC_DENY)
		warn(l, HB_K_SC_DEFAULT,
		     "syscalls default = allow turns the allow-list of the "
		     "policy it extends into a deny-list");
}

static int in_line_order(const void *a, const void *b, void *arg)
{
	const struct hb_policy *p = arg;
	const struct hb_lint_warning *x = a, *y = b;
	unsigned lx = p->origin[x->key].line, ly = p->origin[y->key].line;

	return lx < ly ? -1 : lx > ly;
}

int hb_policy_lint(const struct hb_policy *p, const struct hb_policy *parent,
		   const char *cwd, struct hb_lint *ret)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	r = lint_paths(p, cwd, ret);
	if (r < 0)
		return r;
	lint_network(p, ret);
	lint_rest(p, ret);
	if (parent)
		lint_extends(p, parent, ret);
	qsort_r(ret->w, ret->n, sizeof(ret->w[0]), in_line_order, (void *)p);
	return 0;
}

void hb_lint_print(const struct hb_policy *p, const char *name,
		   const struct hb_lint *l, FILE *out)
{
	char where[HB_ORIGIN_TEXT_MAX];

	/* A warning about a default points at the file that kept it. */
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, "%s: warning: %s\n",
			p->origin[l->w[i].key].file
				? hb_policy_origin_text(p, l->w[i].key, where,
							sizeof(where))
				: name,
			l->w[i].msg);
}

struct find_extends {
	char *value;
};

static int extends_handler(void *user, const char *section, const char *name,
			   const char *value)
{
	struct find_extends *f = user;

	if (strcmp(section, "policy") == 0 && strcmp(name, "extends") == 0 &&
	    !f->value)
		f->value = strdup(value);
	return 1;
}

int hb_policy_parent_path(const char *path, const struct hb_policy_dirs *dirs,
			  char **ret)
{
	_cleanup_free_ char *cwd = getcwd(NULL, 0), *abs = NULL, *dir = NULL;
	struct find_extends f = {0};
	char tried[384];
	int r;

	*ret = NULL;
	if (!cwd)
		return -errno;
	/* The file was loaded already: what it says is known to parse. */
	if (ini_parse(path, extends_handler, &f) < 0)
		return -errno;
	if (!f.value)
		return 0;
	/* As the reader resolves it: relative to the naming file's
	 * directory, a bare name searched from there. */
	r = hb_path_absolute(cwd, path, &abs);
	if (r == 0)
		r = hb_path_absolute(abs, "..", &dir);
	if (r == 0 && hb_policy_name_is_bare(hb_strip(f.value)))
		r = hb_policy_find(hb_strip(f.value), dir, dirs, ret, tried,
				   sizeof(tried));
	else if (r == 0)
		r = hb_path_absolute(dir, hb_strip(f.value), ret);
	free(f.value);
	return r;
}

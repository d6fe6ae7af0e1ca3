/* SPDX-License-Identifier: MIT */
#include "policy.h"
#include "seccomp_filter.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ini.h>
#include <limits.h>
#include <string.h>

#define HB_EXTENDS_DEPTH 8

enum hb_type {
	T_U64,	      /* a whole number within [min, max] */
	T_TEXT,	      /* free text */
	T_ABSPATH,    /* one absolute path */
	T_PATHS,      /* comma-separated paths */
	T_NAMES,      /* comma-separated environment variable names */
	T_ENVSET,     /* NAME=value, one per line, repeatable */
	T_CHOICE,     /* one of choices */
	T_UID,	      /* auto | root | a number */
	T_OPTPATH,    /* an absolute path, or unset */
	T_SYSCALLS,   /* comma-separated system calls and @groups */
	T_OPERATIONS, /* comma-separated blocked_operations */
	T_ERRNO,      /* an errno name */
	T_HOSTS,      /* comma-separated host names and IPv4 addresses */
	T_PORTS,      /* comma-separated port numbers */
};

struct key_def {
	const char *section;
	const char *name;
	enum hb_key key;
	enum hb_type type;
	unsigned long long min, max;
	const char *unit;
	const char *choices;
};

/* One table defines every key: its section, type, range and unit. */
static const struct key_def keys[] = {
	{"policy", "extends", HB_K_EXTENDS, T_TEXT, 0, 0, NULL, NULL},
	{"policy", "description", HB_K_DESCRIPTION, T_TEXT, 0, 0, NULL, NULL},
	{"execution", "interpreter", HB_K_INTERPRETER, T_ABSPATH, 0, 0, NULL,
	 NULL},
	{"execution", "timeout_seconds", HB_K_TIMEOUT, T_U64, 1, 31536000,
	 "seconds", NULL},
	{"execution", "cpu_seconds", HB_K_CPU, T_U64, 1, 31536000, "seconds",
	 NULL},
	{"execution", "memory_mb", HB_K_MEMORY, T_U64, 16, 1048576, "MiB",
	 NULL},
	{"execution", "file_size_mb", HB_K_FILE_SIZE, T_U64, 1, 1048576, "MiB",
	 NULL},
	{"execution", "max_processes", HB_K_MAX_PROCESSES, T_U64, 1, 65536,
	 "processes", NULL},
	{"execution", "max_open_files", HB_K_MAX_OPEN_FILES, T_U64, 16, 65536,
	 "descriptors", NULL},
	{"execution", "tmp_size_mb", HB_K_TMP_SIZE, T_U64, 1, 65536, "MiB",
	 NULL},
	{"filesystem", "read_only", HB_K_READ_ONLY, T_PATHS, 0, 0, NULL, NULL},
	{"filesystem", "read_write", HB_K_READ_WRITE, T_PATHS, 0, 0, NULL,
	 NULL},
	{"network", "mode", HB_K_NETWORK_MODE, T_CHOICE, 0, 0, NULL,
	 "none|filtered"},
	{"network", "allowed_domains", HB_K_NET_DOMAINS, T_HOSTS, 0, 0, NULL,
	 NULL},
	{"network", "allowed_ports", HB_K_NET_ALLOWED_PORTS, T_PORTS, 1, 65535,
	 "port", NULL},
	{"network", "blocked_ports", HB_K_NET_BLOCKED_PORTS, T_PORTS, 1, 65535,
	 "port", NULL},
	{"environment", "keep", HB_K_ENV_KEEP, T_NAMES, 0, 0, NULL, NULL},
	{"environment", "set", HB_K_ENV_SET, T_ENVSET, 0, 0, NULL, NULL},
	{"identity", "host_uid", HB_K_HOST_UID, T_UID, 0, 0, NULL, NULL},
	{"audit", "dir", HB_K_AUDIT_DIR, T_OPTPATH, 0, 0, NULL, NULL},
	{"audit", "required", HB_K_AUDIT_REQUIRED, T_CHOICE, 0, 0, NULL,
	 "yes|no"},
	{"audit", "key_file", HB_K_AUDIT_KEY, T_OPTPATH, 0, 0, NULL, NULL},
	{"audit", "append_only", HB_K_AUDIT_APPEND_ONLY, T_CHOICE, 0, 0, NULL,
	 "yes|no"},
	{"monitoring", "cpu_usage_alert", HB_K_CPU_ALERT, T_U64, 0, 100,
	 "percent", NULL},
	{"monitoring", "memory_usage_alert", HB_K_MEMORY_ALERT, T_U64, 0, 100,
	 "percent", NULL},
	{"monitoring", "alert_command", HB_K_ALERT_COMMAND, T_OPTPATH, 0, 0,
	 NULL, NULL},
	{"monitoring", "alert_timeout_seconds", HB_K_ALERT_TIMEOUT, T_U64, 1,
	 300, "seconds", NULL},
	{"monitoring", "sample_interval_ms", HB_K_SAMPLE_MS, T_U64, 10, 60000,
	 "milliseconds", NULL},
	{"filesystem", "blocked_operations", HB_K_BLOCKED_OPS, T_OPERATIONS, 0,
	 0, NULL, NULL},
	{"syscalls", "default", HB_K_SC_DEFAULT, T_CHOICE, 0, 0, NULL,
	 "allow|deny"},
	{"syscalls", "allow", HB_K_SC_ALLOW, T_SYSCALLS, 0, 0, NULL, NULL},
	{"syscalls", "deny", HB_K_SC_DENY, T_SYSCALLS, 0, 0, NULL, NULL},
	{"syscalls", "on_violation", HB_K_SC_ON_VIOLATION, T_CHOICE, 0, 0, NULL,
	 "errno|kill"},
	{"syscalls", "errno", HB_K_SC_ERRNO, T_ERRNO, 0, 0, NULL, NULL},
};

/* Keys of features that are not built yet.  They are refused, never
 * ignored: a policy that asks for a protection must not run without it. */
static const struct {
	const char *section;
	const char *name; /* NULL: the whole section */
	const char *feature;
} unsupported[] = {
	{"filesystem", "executables", "extra executables"},
};

static const char *const sections[] = {"policy",   "execution",	  "filesystem",
				       "network",  "environment", "identity",
				       "syscalls", "monitoring",  "audit"};

const char *hb_key_name(enum hb_key key)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].key == key)
			return keys[i].name;
	return "?";
}

static const struct key_def *key_def_of(enum hb_key key)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].key == key)
			return &keys[i];
	return NULL;
}

void hb_policy_init(struct hb_policy *p)
{
	memset(p, 0, sizeof(*p));
	/* Built-in defaults: what a policy that says nothing gets. */
	p->interpreter = strdup("/usr/bin/python3");
	p->timeout_seconds = 300;
	p->cpu_seconds = 60;
	p->memory_mb = 512;
	p->file_size_mb = 100;
	p->max_processes = 16;
	p->max_open_files = 256;
	p->tmp_size_mb = 64;
	p->network_mode = strdup("none");
	p->host_uid = strdup("auto");
	p->audit_required = strdup("auto");
	p->audit_append_only = strdup("auto");
	p->cpu_alert_pct = 80;
	p->memory_alert_pct = 90;
	p->alert_timeout_seconds = 10;
	p->sample_interval_ms = 100;
	p->syscalls_default = strdup("allow");
	p->on_violation = strdup("errno");
	p->violation_errno = strdup("EPERM");
}

void hb_policy_free(struct hb_policy *p)
{
	free(p->path);
	free(p->description);
	free(p->interpreter);
	free(p->network_mode);
	free(p->host_uid);
	free(p->audit_dir);
	free(p->audit_required);
	free(p->audit_key_file);
	free(p->audit_append_only);
	free(p->alert_command);
	free(p->syscalls_default);
	free(p->on_violation);
	free(p->violation_errno);
	hb_strv_clear(&p->blocked_operations);
	hb_strv_clear(&p->syscalls_allow);
	hb_strv_clear(&p->syscalls_deny);
	hb_strv_clear(&p->read_only);
	hb_strv_clear(&p->read_write);
	hb_strv_clear(&p->env_keep);
	hb_strv_clear(&p->env_set);
	hb_strv_clear(&p->allowed_domains);
	hb_strv_clear(&p->allowed_ports);
	hb_strv_clear(&p->blocked_ports);
	for (int i = 0; i < HB_K_MAX; i++)
		free(p->origin[i].file);
	memset(p, 0, sizeof(*p));
}

static unsigned long long *u64_field(struct hb_policy *p, enum hb_key key)
{
	switch (key) {
	case HB_K_TIMEOUT:
		return &p->timeout_seconds;
	case HB_K_CPU:
		return &p->cpu_seconds;
	case HB_K_MEMORY:
		return &p->memory_mb;
	case HB_K_FILE_SIZE:
		return &p->file_size_mb;
	case HB_K_MAX_PROCESSES:
		return &p->max_processes;
	case HB_K_MAX_OPEN_FILES:
		return &p->max_open_files;
	case HB_K_TMP_SIZE:
		return &p->tmp_size_mb;
	case HB_K_CPU_ALERT:
		return &p->cpu_alert_pct;
	case HB_K_MEMORY_ALERT:
		return &p->memory_alert_pct;
	case HB_K_ALERT_TIMEOUT:
		return &p->alert_timeout_seconds;
	case HB_K_SAMPLE_MS:
		return &p->sample_interval_ms;
	default:
		return NULL;
	}
}

static char **str_field(struct hb_policy *p, enum hb_key key)
{
	switch (key) {
	case HB_K_DESCRIPTION:
		return &p->description;
	case HB_K_INTERPRETER:
		return &p->interpreter;
	case HB_K_NETWORK_MODE:
		return &p->network_mode;
	case HB_K_HOST_UID:
		return &p->host_uid;
	case HB_K_AUDIT_DIR:
		return &p->audit_dir;
	case HB_K_AUDIT_REQUIRED:
		return &p->audit_required;
	case HB_K_AUDIT_KEY:
		return &p->audit_key_file;
	case HB_K_AUDIT_APPEND_ONLY:
		return &p->audit_append_only;
	case HB_K_ALERT_COMMAND:
		return &p->alert_command;
	case HB_K_SC_DEFAULT:
		return &p->syscalls_default;
	case HB_K_SC_ON_VIOLATION:
		return &p->on_violation;
	case HB_K_SC_ERRNO:
		return &p->violation_errno;
	default:
		return NULL;
	}
}

static struct hb_strv *list_field(struct hb_policy *p, enum hb_key key)
{
	switch (key) {
	case HB_K_READ_ONLY:
		return &p->read_only;
	case HB_K_READ_WRITE:
		return &p->read_write;
	case HB_K_ENV_KEEP:
		return &p->env_keep;
	case HB_K_ENV_SET:
		return &p->env_set;
	case HB_K_BLOCKED_OPS:
		return &p->blocked_operations;
	case HB_K_SC_ALLOW:
		return &p->syscalls_allow;
	case HB_K_SC_DENY:
		return &p->syscalls_deny;
	case HB_K_NET_DOMAINS:
		return &p->allowed_domains;
	case HB_K_NET_ALLOWED_PORTS:
		return &p->allowed_ports;
	case HB_K_NET_BLOCKED_PORTS:
		return &p->blocked_ports;
	default:
		return NULL;
	}
}

/* One "name = value" line as read, before it is applied. */
struct raw {
	char *section, *name, *value;
	unsigned line;
};

struct parse_ctx {
	FILE *f;
	unsigned line;
	unsigned long_line;
	struct raw *raws;
	size_t n_raws;
	bool oom;
	unsigned bad_section_line; /* first unknown [section], even if empty */
	char bad_section[256];	   /* lines are shorter */
};

static bool known_section(const char *s);

/* inih reads through this so that we know the line of every key, and so
 * that a line longer than inih's buffer is an error instead of being split
 * into two lines silently. */
/* inih only reports a section through its keys, so an unknown section
 * with no keys would pass unnoticed; look at every header as it is read. */
static void note_section(struct parse_ctx *c, const char *line)
{
	const char *p = line + strspn(line, " \t");
	size_t len;

	if (*p != '[' || c->bad_section_line)
		return;
	p++;
	len = strcspn(p, "]");
	if (p[len] != ']')
		return;
	if (len >= sizeof(c->bad_section))
		return;
	memcpy(c->bad_section, p, len);
	c->bad_section[len] = '\0';
	if (!known_section(hb_strip(c->bad_section)))
		c->bad_section_line = c->line;
}

static char *counting_reader(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	size_t n;

	if (!fgets(str, num, c->f))
		return NULL;
	c->line++;
	n = strlen(str);
	if (n == (size_t)num - 1 && str[n - 1] != '\n') {
		/* The buffer is full: fine if the line ends right here. */
		int ch = fgetc(c->f);
		if (ch != EOF && ch != '\n') {
			if (!c->long_line)
				c->long_line = c->line;
			while ((ch = fgetc(c->f)) != EOF && ch != '\n')
				;
			str[0] = '\0';
		}
	}
	note_section(c, str);
	return str;
}

static int collect(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse_ctx *c = user;
	struct raw *r;

	r = realloc(c->raws, (c->n_raws + 1) * sizeof(*r));
	if (!r) {
		c->oom = true;
		return 0;
	}
	c->raws = r;
	r = &c->raws[c->n_raws++];
	r->section = strdup(section);
	r->name = strdup(name);
	r->value = strdup(value);
	r->line = c->line;
	if (!r->section || !r->name || !r->value)
		c->oom = true;
	return 1;
}

static void raws_free(struct parse_ctx *c)
{
	for (size_t i = 0; i < c->n_raws; i++) {
		free(c->raws[i].section);
		free(c->raws[i].name);
		free(c->raws[i].value);
	}
	free(c->raws);
}

static bool known_section(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if (strcmp(sections[i], s) == 0)
			return true;
	return false;
}

static int lookup(const struct raw *r, const char *file,
		  const struct key_def **ret, struct hb_diag *diag)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].section, r->section) == 0 &&
		    strcmp(keys[i].name, r->name) == 0) {
			*ret = &keys[i];
			return 0;
		}
	for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
		if (strcmp(unsupported[i].section, r->section) == 0 &&
		    (!unsupported[i].name ||
		     strcmp(unsupported[i].name, r->name) == 0))
			return hb_diag_set(
				diag, file, r->line,
				"'%s' in [%s] is not supported yet (%s is not "
				"built); refusing to run without it",
				r->name, r->section, unsupported[i].feature);
	if (!r->section[0])
		return hb_diag_set(diag, file, r->line,
				   "key '%s' outside any section", r->name);
	if (!known_section(r->section))
		return hb_diag_set(diag, file, r->line, "unknown section [%s]",
				   r->section);
	return hb_diag_set(diag, file, r->line, "unknown key '%s' in [%s]",
			   r->name, r->section);
}

static bool valid_env_name(const char *s, size_t len)
{
	if (len == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* A destination: an IPv4 address or a DNS name (RFC 1123 labels).  IPv6
 * is refused by name, since the filter lets no IPv6 through at all. */
static int check_host(const struct key_def *k, const char *item,
		      const char *file, unsigned line, struct hb_diag *diag)
{
	struct in6_addr a6;
	size_t len = strlen(item), label = 0;
	bool ok = len > 0 && len <= 253;

	if (inet_pton(AF_INET6, item, &a6) == 1)
		return hb_diag_set(diag, file, line,
				   "'%s' in %s is an IPv6 address; only IPv4 "
				   "destinations can be allowed",
				   item, k->name);
	for (size_t i = 0; ok && i <= len; i++) {
		char c = item[i];
		if (c == '.' || c == '\0') {
			ok = label > 0 && label <= 63 && item[i - 1] != '-';
			label = 0;
		} else if (isalnum((unsigned char)c) || (c == '-' && label)) {
			label++;
		} else {
			ok = false;
		}
	}
	if (!ok)
		return hb_diag_set(diag, file, line,
				   "'%s' in %s is neither an IPv4 address nor "
				   "a host name",
				   item, k->name);
	return 0;
}

/* The known names come from the operations table, so that the message
 * cannot fall behind it. */
static int unknown_operation(const struct key_def *k, const char *item,
			     const char *file, unsigned line,
			     struct hb_diag *diag)
{
	char known[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < hb_n_operations && len < sizeof(known); i++)
		len += (size_t)snprintf(known + len, sizeof(known) - len,
					"%s%s", i ? ", " : "",
					hb_operations[i].name);
	return hb_diag_set(diag, file, line,
			   "unknown operation '%s' in %s (known: %s)", item,
			   k->name, known);
}

/* Split a comma-separated list; empty items are an error. */
static int split_list(const char *value, const struct key_def *k,
		      struct hb_strv *out, const char *file, unsigned line,
		      struct hb_diag *diag)
{
	_cleanup_free_ char *copy = strdup(value);
	char *rest = copy, *tok;
	unsigned long long v = 0;

	if (!copy)
		return -ENOMEM;
	if (!*hb_strip(copy))
		return hb_diag_set(diag, file, line, "empty value for %s",
				   k->name);
	/* strsep, not strtok: "a,,b" has an empty item, and says so. */
	while ((tok = strsep(&rest, ","))) {
		char *item = hb_strip(tok);
		int r;
		if (!*item)
			return hb_diag_set(diag, file, line,
					   "empty item in the list for %s",
					   k->name);
		if (k->type == T_SYSCALLS && !hb_syscall_name_known(item))
			return hb_diag_set(
				diag, file, line,
				"unknown system call or group '%s' in %s", item,
				k->name);
		if (k->type == T_OPERATIONS && !hb_operation_find(item))
			return unknown_operation(k, item, file, line, diag);
		if (k->type == T_HOSTS) {
			r = check_host(k, item, file, line, diag);
			if (r < 0)
				return r;
		}
		if (k->type == T_PORTS &&
		    (hb_parse_u64(item, k->max, &v) < 0 || v < k->min))
			return hb_diag_set(diag, file, line,
					   "bad port '%s' in %s: expected a "
					   "number from %llu to %llu",
					   item, k->name, k->min, k->max);
		if (k->type == T_NAMES && !valid_env_name(item, strlen(item)))
			return hb_diag_set(
				diag, file, line,
				"bad environment variable name '%s' in %s",
				item, k->name);
		r = hb_strv_push(out, item);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_u64(const struct key_def *k, const char *value,
		     const char *file, unsigned line, unsigned long long *ret,
		     struct hb_diag *diag)
{
	int r = hb_parse_u64(value, ULLONG_MAX, ret);

	if (r < 0 || *ret < k->min || *ret > k->max)
		return hb_diag_set(diag, file, line,
				   "bad value '%s' for %s: expected a whole "
				   "number of %s from %llu to %llu",
				   value, k->name, k->unit, k->min, k->max);
	return 0;
}

/* Is value one of the '|'-separated choices? */
static bool in_choices(const char *value, const char *choices)
{
	size_t len = strlen(value);

	for (const char *c = choices; *c;) {
		size_t n = strcspn(c, "|");
		if (n == len && strncmp(c, value, n) == 0)
			return true;
		c += n + (c[n] == '|');
	}
	return false;
}

static int check_scalar(const struct key_def *k, const char *value,
			const char *file, unsigned line, struct hb_diag *diag)
{
	unsigned long long v;

	switch (k->type) {
	case T_ABSPATH:
	case T_OPTPATH:
		if (value[0] != '/')
			return hb_diag_set(
				diag, file, line,
				"%s must be an absolute path, not '%s'",
				k->name, value);
		return 0;
	case T_CHOICE:
		if (!in_choices(value, k->choices))
			return hb_diag_set(diag, file, line,
					   "bad value '%s' for %s: expected %s",
					   value, k->name, k->choices);
		return 0;
	case T_ERRNO:
		if (hb_errno_from_name(value) < 0)
			return hb_diag_set(diag, file, line,
					   "unknown errno name '%s' for %s",
					   value, k->name);
		return 0;
	case T_UID:
		if (strcmp(value, "auto") == 0 || strcmp(value, "root") == 0)
			return 0;
		if (hb_parse_u64(value, 4294967294ULL, &v) < 0 || v == 0)
			return hb_diag_set(
				diag, file, line,
				"bad value '%s' for host_uid: expected auto, "
				"root or a uid from 1 to 4294967294",
				value);
		return 0;
	default:
		return 0;
	}
}

static int replace_str(char **field, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

static int set_origin(struct hb_policy *p, enum hb_key key, const char *file,
		      unsigned line)
{
	char *f = strdup(file);

	if (!f)
		return -ENOMEM;
	free(p->origin[key].file);
	p->origin[key].file = f;
	p->origin[key].line = line;
	return 0;
}

static int apply_envset(struct hb_strv *list, const char *value,
			const char *file, unsigned line, struct hb_diag *diag)
{
	const char *eq = strchr(value, '=');

	if (!eq || !valid_env_name(value, (size_t)(eq - value)))
		return hb_diag_set(
			diag, file, line,
			"bad value '%s' for set: expected NAME=value", value);
	return hb_strv_push(list, value);
}

/* Apply one key of this file.  seen marks the list keys already met in
 * this file: the first occurrence replaces what a parent set, the later
 * ones add to it. */
static int apply(struct hb_policy *p, const struct key_def *k,
		 const struct raw *r, const char *file, bool *seen,
		 struct hb_diag *diag)
{
	struct hb_strv *list = list_field(p, k->key);
	int ret;

	if (list) {
		if (!seen[k->key])
			hb_strv_clear(list);
		if (k->type == T_ENVSET)
			ret = apply_envset(list, r->value, file, r->line, diag);
		else
			ret = split_list(r->value, k, list, file, r->line,
					 diag);
	} else if (seen[k->key]) {
		return hb_diag_set(diag, file, r->line,
				   "duplicate key '%s' in [%s]", k->name,
				   k->section);
	} else if (k->type == T_U64) {
		unsigned long long v;
		ret = check_u64(k, r->value, file, r->line, &v, diag);
		if (ret == 0)
			*u64_field(p, k->key) = v;
	} else {
		ret = check_scalar(k, r->value, file, r->line, diag);
		if (ret == 0)
			ret = replace_str(str_field(p, k->key), r->value);
	}
	if (ret < 0)
		return ret;
	seen[k->key] = true;
	return set_origin(p, k->key, file, r->line);
}

static int load_file(struct hb_policy *p, const char *path, int depth,
		     struct hb_diag *diag);

static int load_parent(struct hb_policy *p, const char *file,
		       const struct raw *r, int depth, struct hb_diag *diag)
{
	_cleanup_free_ char *cwd = NULL;
	_cleanup_free_ char *abs = NULL;
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ char *parent = NULL;
	int ret;

	if (depth >= HB_EXTENDS_DEPTH)
		return hb_diag_set(
			diag, file, r->line,
			"extends goes deeper than %d files (a cycle?)",
			HB_EXTENDS_DEPTH);
	if (file[0] != '/' && !(cwd = getcwd(NULL, 0)))
		return -errno;
	/* Relative to the directory of the file that names it. */
	ret = hb_path_absolute(cwd, file, &abs);
	if (ret == 0)
		ret = hb_path_absolute(abs, "..", &dir);
	if (ret == 0)
		ret = hb_path_absolute(dir, r->value, &parent);
	if (ret < 0)
		return ret;
	ret = load_file(p, parent, depth + 1, diag);
	/* A parent that cannot be read is this file's error, at its line;
	 * keep the parent's reason ("not a regular file", ENOENT, ...). */
	if (ret < 0 && !diag->file[0]) {
		hb_diag_set(diag, file, r->line, "cannot extend '%s': %s",
			    r->value, strerror(-ret));
	} else if (ret < 0 && strcmp(diag->file, parent) == 0 &&
		   diag->line == 0) {
		char why[sizeof(diag->msg)];
		const char *msg = diag->msg;
		if (strncmp(msg, "cannot read policy: ", 20) == 0)
			msg += 20;
		snprintf(why, sizeof(why), "%s", msg);
		hb_diag_set(diag, file, r->line, "cannot extend '%s': %s",
			    r->value, why);
	}
	return ret;
}

int hb_policy_parse(struct hb_policy *p, FILE *f, const char *name, int depth,
		    struct hb_diag *diag)
{
	struct parse_ctx c = {.f = f};
	bool seen[HB_K_MAX] = {false};
	int ret, err;

	err = ini_parse_stream(counting_reader, &c, collect, &c);
	if (c.oom) {
		ret = -ENOMEM;
		goto out;
	}
	if (c.long_line && (err == 0 || (unsigned)err > c.long_line))
		err = (int)c.long_line;
	if (err != 0) {
		ret = hb_diag_set(diag, name, err > 0 ? (unsigned)err : 0,
				  err == (int)c.long_line
					  ? "line longer than 199 characters"
					  : "syntax error: expected [section] "
					    "or name = value");
		goto out;
	}
	/* The parent comes first, so that this file overrides it. */
	for (size_t i = 0; i < c.n_raws; i++)
		if (strcmp(c.raws[i].section, "policy") == 0 &&
		    strcmp(c.raws[i].name, "extends") == 0) {
			ret = load_parent(p, name, &c.raws[i], depth, diag);
			if (ret < 0)
				goto out;
		}
	for (size_t i = 0; i <= c.n_raws; i++) {
		const struct key_def *k = NULL;
		/* Errors are reported in line order. */
		if (c.bad_section_line &&
		    (i == c.n_raws || c.raws[i].line > c.bad_section_line)) {
			ret = hb_diag_set(diag, name, c.bad_section_line,
					  "unknown section [%s]",
					  hb_strip(c.bad_section));
			goto out;
		}
		if (i == c.n_raws)
			break;
		ret = lookup(&c.raws[i], name, &k, diag);
		if (ret < 0)
			goto out;
		if (k->key == HB_K_EXTENDS) {
			if (seen[HB_K_EXTENDS]) {
				ret = hb_diag_set(
					diag, name, c.raws[i].line,
					"duplicate key 'extends' in [policy]");
				goto out;
			}
			seen[HB_K_EXTENDS] = true;
			continue;
		}
		ret = apply(p, k, &c.raws[i], name, seen, diag);
		if (ret < 0)
			goto out;
	}
	ret = 0;
out:
	raws_free(&c);
	return ret;
}

static int load_file(struct hb_policy *p, const char *path, int depth,
		     struct hb_diag *diag)
{
	int err;
	_cleanup_fclose_ FILE *f = hb_fopen_regular(path, &err);

	if (err == -EINVAL)
		return hb_diag_set(diag, path, 0,
				   "cannot read policy: not a regular file");
	if (!f) {
		hb_diag_set(diag, path, 0, "cannot read policy: %s",
			    strerror(-err));
		return err;
	}
	return hb_policy_parse(p, f, path, depth, diag);
}

int hb_policy_load(struct hb_policy *p, const char *path, struct hb_diag *diag)
{
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	int r;

	if (!cwd)
		return -errno;
	free(p->path);
	p->path = NULL;
	r = hb_path_absolute(cwd, path, &p->path);
	if (r < 0)
		return r;
	r = load_file(p, path, 0, diag);
	if (r < 0)
		return r;
	return hb_policy_validate(p, diag);
}

const char *hb_policy_origin(const struct hb_policy *p, enum hb_key key)
{
	return p->origin[key].file ?: "built-in default";
}

const char *hb_policy_origin_text(const struct hb_policy *p, enum hb_key key,
				  char *buf, size_t n)
{
	if (p->origin[key].line)
		snprintf(buf, n, "%s:%u", hb_policy_origin(p, key),
			 p->origin[key].line);
	else
		snprintf(buf, n, "%s", hb_policy_origin(p, key));
	return buf;
}

/* [syscalls]: allow goes with default = deny and deny with default =
 * allow; nothing may allow what is denied whatever the policy says. */
static int validate_syscalls(const struct hb_policy *p, struct hb_diag *diag)
{
	bool deny_default = strcmp(p->syscalls_default, "deny") == 0;
	char where[HB_ORIGIN_TEXT_MAX];

	hb_policy_origin_text(p, HB_K_SC_DEFAULT, where, sizeof(where));
	if (!deny_default && p->syscalls_allow.n)
		return hb_diag_set(
			diag, hb_policy_origin(p, HB_K_SC_ALLOW),
			p->origin[HB_K_SC_ALLOW].line,
			"allow = %s contradicts default = allow (%s): "
			"everything is allowed already; list what to deny",
			p->syscalls_allow.v[0], where);
	if (deny_default && p->syscalls_deny.n)
		return hb_diag_set(diag, hb_policy_origin(p, HB_K_SC_DENY),
				   p->origin[HB_K_SC_DENY].line,
				   "deny = %s contradicts default = deny (%s): "
				   "everything not allowed is denied already",
				   p->syscalls_deny.v[0], where);
	for (size_t i = 0; i < p->syscalls_allow.n; i++)
		if (hb_syscall_always_denied(p->syscalls_allow.v[i]))
			return hb_diag_set(
				diag, hb_policy_origin(p, HB_K_SC_ALLOW),
				p->origin[HB_K_SC_ALLOW].line,
				"allow = %s: it is denied whatever the policy "
				"says",
				p->syscalls_allow.v[i]);
	return 0;
}

/* Destinations without mode = filtered are most likely a forgotten mode
 * line: refused unless some file says mode = none in so many words. */
static int validate_network(const struct hb_policy *p, struct hb_diag *diag)
{
	static const enum hb_key lists[] = {HB_K_NET_DOMAINS,
					    HB_K_NET_ALLOWED_PORTS,
					    HB_K_NET_BLOCKED_PORTS};

	if (strcmp(p->network_mode, "none") != 0 ||
	    p->origin[HB_K_NETWORK_MODE].file)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		if (p->origin[lists[i]].file)
			return hb_diag_set(
				diag, hb_policy_origin(p, lists[i]),
				p->origin[lists[i]].line,
				"%s without mode = filtered: the network is "
				"none (loopback only) by default; add mode = "
				"filtered to [network]",
				hb_key_name(lists[i]));
	return 0;
}

int hb_policy_validate(const struct hb_policy *p, struct hb_diag *diag)
{
	char where[HB_ORIGIN_TEXT_MAX];
	int r = validate_syscalls(p, diag);

	if (r == 0)
		r = validate_network(p, diag);
	if (r < 0)
		return r;
	/* A path cannot be both read-only and read-write.  Paths are
	 * compared as written; the plan compares them again once they are
	 * absolute. */
	for (size_t i = 0; i < p->read_write.n; i++)
		if (hb_strv_contains(&p->read_only, p->read_write.v[i]))
			return hb_diag_set(
				diag, hb_policy_origin(p, HB_K_READ_WRITE),
				p->origin[HB_K_READ_WRITE].line,
				"'%s' is both read_only (%s) and read_write",
				p->read_write.v[i],
				hb_policy_origin_text(p, HB_K_READ_ONLY, where,
						      sizeof(where)));
	return 0;
}

int hb_policy_tighten(struct hb_policy *p, enum hb_key key, const char *option,
		      const char *value, struct hb_diag *diag)
{
	const struct key_def *k = key_def_of(key);
	unsigned long long *field = u64_field(p, key);
	unsigned long long v;

	if (!k || !field)
		return -EINVAL;
	if (hb_parse_u64(value, ULLONG_MAX, &v) < 0 || v < k->min || v > k->max)
		return hb_diag_set(diag, NULL, 0,
				   "bad value '%s' for %s: expected a whole "
				   "number of %s from %llu to %llu",
				   value, option, k->unit, k->min, k->max);
	if (v > *field) {
		char where[HB_ORIGIN_TEXT_MAX];
		hb_diag_set(
			diag, NULL, 0,
			"%s %llu would loosen the policy's %s = %llu (%s); "
			"the command line may only tighten",
			option, v, k->name, *field,
			hb_policy_origin_text(p, key, where, sizeof(where)));
		return -EPERM;
	}
	*field = v;
	return set_origin(p, key, option, 0);
}

static void show_origin(const struct hb_policy *p, enum hb_key key, FILE *out)
{
	char where[HB_ORIGIN_TEXT_MAX];
	/* A file without a line is an option of the command line. */
	bool option = p->origin[key].file && !p->origin[key].line;

	fprintf(out, "\t; %s%s\n", option ? "command line " : "",
		hb_policy_origin_text(p, key, where, sizeof(where)));
}

static void show_list(const struct hb_strv *l, FILE *out)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, "%s%s", i ? ", " : "", l->v[i]);
}

void hb_policy_show(const struct hb_policy *p, FILE *out)
{
	const char *section = NULL;

	fprintf(out, "; effective policy of %s\n", p->path ? p->path : "?");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key_def *k = &keys[i];
		struct hb_policy *mp = (struct hb_policy *)p;
		if (k->key == HB_K_EXTENDS)
			continue;
		if (k->key == HB_K_DESCRIPTION && !p->description)
			continue;
		if (!section || strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, "\n[%s]\n", section);
		}
		if (k->type == T_ENVSET) {
			for (size_t j = 0; j < p->env_set.n; j++) {
				fprintf(out, "set = %s", p->env_set.v[j]);
				show_origin(p, k->key, out);
			}
			if (!p->env_set.n)
				fputs("; set = (none)\n", out);
			continue;
		}
		if ((list_field(mp, k->key) && !list_field(mp, k->key)->n) ||
		    (str_field(mp, k->key) && !*str_field(mp, k->key))) {
			fprintf(out, "; %s = (none)", k->name);
			show_origin(p, k->key, out);
			continue;
		}
		if (k->key == HB_K_AUDIT_REQUIRED &&
		    strcmp(p->audit_required, "auto") == 0) {
			fputs("; required = (yes when run as root, else no)",
			      out);
			show_origin(p, k->key, out);
			continue;
		}
		if (k->key == HB_K_AUDIT_APPEND_ONLY &&
		    strcmp(p->audit_append_only, "auto") == 0) {
			fputs("; append_only = (yes for root's default "
			      "directory, else no)",
			      out);
			show_origin(p, k->key, out);
			continue;
		}
		fprintf(out, "%s = ", k->name);
		if (u64_field(mp, k->key))
			fprintf(out, "%llu", *u64_field(mp, k->key));
		else if (str_field(mp, k->key))
			fputs(*str_field(mp, k->key), out);
		else
			show_list(list_field(mp, k->key), out);
		show_origin(p, k->key, out);
	}
}

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
	T_EXTENDS,    /* the parent policy: read first, stored nowhere */
	T_U64,	      /* a whole number within [min, max] */
	T_TEXT,	      /* free text */
	T_ABSPATH,    /* one absolute path */
	T_PATHS,      /* comma-separated paths */
	T_NAMES,      /* comma-separated environment variable names */
	T_ENVSET,     /* NAME=value, one per line, repeatable */
	T_ENUM,	      /* one of the first n_choices words of choices */
	T_UID,	      /* auto | root | a number */
	T_SYSCALLS,   /* comma-separated system calls and @groups */
	T_OPERATIONS, /* comma-separated blocked_operations */
	T_ERRNO,      /* an errno name */
	T_HOSTS,      /* comma-separated host names and IPv4 addresses */
	T_PORTS,      /* comma-separated port numbers */
};

/* How a value combines along "extends" (the parent is read first). */
enum hb_merge {
	/* Not a value: each file names its own parent, once. */
	MERGE_NONE,
	/* The child's value replaces the parent's; a second line in one
	 * file is an error. */
	MERGE_REPLACE,
	/* The first line in a file replaces the parent's whole list; more
	 * lines in the same file add to it.  A child that names a list
	 * says all of it: nothing is inherited by accident. */
	MERGE_LIST,
};

/* What an option of the command line may do to the value. */
enum hb_tighten_rule {
	TIGHTEN_NEVER, /* nothing: only a policy file sets it */
	TIGHTEN_LOWER, /* lower it (a smaller limit), never raise it */
};

/* How a value is stored in struct hb_policy, by type. */
enum hb_storage {
	S_NONE,
	S_U64,	/* unsigned long long */
	S_STR,	/* char *, NULL when unset */
	S_LIST, /* struct hb_strv */
	S_ENUM, /* an enum, the size of an int */
	S_UID,	/* struct hb_host_uid */
};

struct key_def {
	const char *section;
	const char *name;
	enum hb_type type;
	size_t offset;		 /* of the value in struct hb_policy */
	unsigned long long dflt; /* T_U64; T_ENUM and T_UID: the value */
	const char *dflt_str;
	unsigned long long min, max; /* T_U64, T_PORTS */
	const char *unit;	     /* T_U64 */
	const char *const *choices;  /* T_ENUM: its string table */
	size_t n_choices;	     /* how many of them a file may write */
	/* What "policy show" says of a value left unset, or of a default
	 * no file can write (auto): "(none)" if NULL. */
	const char *unset;
	bool hide_unset; /* "policy show" leaves it out when unset */
	enum hb_merge merge;
	enum hb_tighten_rule tighten;
};

#define OFF(field) offsetof(struct hb_policy, field)

/* The enums' string tables, in the enums' order. */
static const char *const net_mode_names[HB_NET_MODE_MAX] = {
	[HB_NET_NONE] = "none",
	[HB_NET_FILTERED] = "filtered",
};

static const char *const tristate_names[HB_TRI_MAX] = {
	[HB_TRI_YES] = "yes",
	[HB_TRI_NO] = "no",
	[HB_TRI_AUTO] = "auto",
};

static const char *const sc_default_names[HB_SC_DEFAULT_MAX] = {
	[HB_SC_ALLOW] = "allow",
	[HB_SC_DENY] = "deny",
};

static const char *const violation_names[HB_VIOLATION_MAX] = {
	[HB_VIOLATION_ERRNO] = "errno",
	[HB_VIOLATION_KILL] = "kill",
};

static const char *const host_uid_kind_names[HB_HOST_UID_KIND_MAX] = {
	[HB_HOST_UID_AUTO] = "auto",
	[HB_HOST_UID_ROOT] = "root",
	[HB_HOST_UID_NUMBER] = NULL,
};

/* The schema stores every enum through an int. */
_Static_assert(sizeof(enum hb_net_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum hb_tristate) == sizeof(int), "enum size");
_Static_assert(sizeof(enum hb_sc_default) == sizeof(int), "enum size");
_Static_assert(sizeof(enum hb_violation) == sizeof(int), "enum size");

static int string_table_lookup(const char *const *table, size_t n,
			       const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (table[i] && strcmp(table[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

#define DEFINE_STRING_TABLE(name, type, table)                                 \
	const char *name##_to_string(type v)                                   \
	{                                                                      \
		return (size_t)v < ARRAY_SIZE(table) ? table[v] : NULL;        \
	}                                                                      \
	int name##_from_string(const char *s)                                  \
	{                                                                      \
		return string_table_lookup(table, ARRAY_SIZE(table), s);       \
	}

DEFINE_STRING_TABLE(hb_net_mode, enum hb_net_mode, net_mode_names)
DEFINE_STRING_TABLE(hb_tristate, enum hb_tristate, tristate_names)
DEFINE_STRING_TABLE(hb_sc_default, enum hb_sc_default, sc_default_names)
DEFINE_STRING_TABLE(hb_violation, enum hb_violation, violation_names)
DEFINE_STRING_TABLE(hb_host_uid_kind, enum hb_host_uid_kind,
		    host_uid_kind_names)

const char *hb_host_uid_text(const struct hb_host_uid *u, char *buf, size_t n)
{
	const char *name = hb_host_uid_kind_to_string(u->kind);

	if (name)
		snprintf(buf, n, "%s", name);
	else
		snprintf(buf, n, "%u", (unsigned)u->uid);
	return buf;
}

/* The schema: one row per key, in the order "policy show" prints them.
 * Init, free, parse, merge, show and tighten all read it; adding a key
 * is one row here plus the code that uses the value. */
static const struct key_def keys[HB_K_MAX] = {
	[HB_K_EXTENDS] = {.section = "policy",
			  .name = "extends",
			  .type = T_EXTENDS,
			  .merge = MERGE_NONE},
	[HB_K_DESCRIPTION] = {.section = "policy",
			      .name = "description",
			      .type = T_TEXT,
			      .offset = OFF(description),
			      .hide_unset = true,
			      .merge = MERGE_REPLACE},
	[HB_K_INTERPRETER] = {.section = "execution",
			      .name = "interpreter",
			      .type = T_ABSPATH,
			      .offset = OFF(interpreter),
			      .dflt_str = "/usr/bin/python3",
			      .merge = MERGE_REPLACE},
	[HB_K_TIMEOUT] = {.section = "execution",
			  .name = "timeout_seconds",
			  .type = T_U64,
			  .offset = OFF(timeout_seconds),
			  .dflt = 300,
			  .min = 1,
			  .max = 31536000,
			  .unit = "seconds",
			  .merge = MERGE_REPLACE,
			  .tighten = TIGHTEN_LOWER},
	[HB_K_CPU] = {.section = "execution",
		      .name = "cpu_seconds",
		      .type = T_U64,
		      .offset = OFF(cpu_seconds),
		      .dflt = 60,
		      .min = 1,
		      .max = 31536000,
		      .unit = "seconds",
		      .merge = MERGE_REPLACE,
		      .tighten = TIGHTEN_LOWER},
	[HB_K_MEMORY] = {.section = "execution",
			 .name = "memory_mb",
			 .type = T_U64,
			 .offset = OFF(memory_mb),
			 .dflt = 512,
			 .min = 16,
			 .max = 1048576,
			 .unit = "MiB",
			 .merge = MERGE_REPLACE,
			 .tighten = TIGHTEN_LOWER},
	[HB_K_FILE_SIZE] = {.section = "execution",
			    .name = "file_size_mb",
			    .type = T_U64,
			    .offset = OFF(file_size_mb),
			    .dflt = 100,
			    .min = 1,
			    .max = 1048576,
			    .unit = "MiB",
			    .merge = MERGE_REPLACE,
			    .tighten = TIGHTEN_LOWER},
	[HB_K_MAX_PROCESSES] = {.section = "execution",
				.name = "max_processes",
				.type = T_U64,
				.offset = OFF(max_processes),
				.dflt = 16,
				.min = 1,
				.max = 65536,
				.unit = "processes",
				.merge = MERGE_REPLACE,
				.tighten = TIGHTEN_LOWER},
	[HB_K_MAX_OPEN_FILES] = {.section = "execution",
				 .name = "max_open_files",
				 .type = T_U64,
				 .offset = OFF(max_open_files),
				 .dflt = 256,
				 .min = 16,
				 .max = 65536,
				 .unit = "descriptors",
				 .merge = MERGE_REPLACE,
				 .tighten = TIGHTEN_LOWER},
	[HB_K_TMP_SIZE] = {.section = "execution",
			   .name = "tmp_size_mb",
			   .type = T_U64,
			   .offset = OFF(tmp_size_mb),
			   .dflt = 64,
			   .min = 1,
			   .max = 65536,
			   .unit = "MiB",
			   .merge = MERGE_REPLACE,
			   .tighten = TIGHTEN_LOWER},
	[HB_K_READ_ONLY] = {.section = "filesystem",
			    .name = "read_only",
			    .type = T_PATHS,
			    .offset = OFF(read_only),
			    .merge = MERGE_LIST},
	[HB_K_READ_WRITE] = {.section = "filesystem",
			     .name = "read_write",
			     .type = T_PATHS,
			     .offset = OFF(read_write),
			     .merge = MERGE_LIST},
	[HB_K_NETWORK_MODE] = {.section = "network",
			       .name = "mode",
			       .type = T_ENUM,
			       .offset = OFF(network_mode),
			       .dflt = HB_NET_NONE,
			       .choices = net_mode_names,
			       .n_choices = HB_NET_MODE_MAX,
			       .merge = MERGE_REPLACE},
	[HB_K_NET_DOMAINS] = {.section = "network",
			      .name = "allowed_domains",
			      .type = T_HOSTS,
			      .offset = OFF(allowed_domains),
			      .merge = MERGE_LIST},
	[HB_K_NET_ALLOWED_PORTS] = {.section = "network",
				    .name = "allowed_ports",
				    .type = T_PORTS,
				    .offset = OFF(allowed_ports),
				    .min = 1,
				    .max = 65535,
				    .merge = MERGE_LIST},
	[HB_K_NET_BLOCKED_PORTS] = {.section = "network",
				    .name = "blocked_ports",
				    .type = T_PORTS,
				    .offset = OFF(blocked_ports),
				    .min = 1,
				    .max = 65535,
				    .merge = MERGE_LIST},
	[HB_K_ENV_KEEP] = {.section = "environment",
			   .name = "keep",
			   .type = T_NAMES,
			   .offset = OFF(env_keep),
			   .merge = MERGE_LIST},
	[HB_K_ENV_SET] = {.section = "environment",
			  .name = "set",
			  .type = T_ENVSET,
			  .offset = OFF(env_set),
			  .merge = MERGE_LIST},
	[HB_K_HOST_UID] = {.section = "identity",
			   .name = "host_uid",
			   .type = T_UID,
			   .offset = OFF(host_uid),
			   .dflt = HB_HOST_UID_AUTO,
			   .merge = MERGE_REPLACE},
	[HB_K_AUDIT_DIR] = {.section = "audit",
			    .name = "dir",
			    .type = T_ABSPATH,
			    .offset = OFF(audit_dir),
			    .merge = MERGE_REPLACE},
	[HB_K_AUDIT_REQUIRED] = {.section = "audit",
				 .name = "required",
				 .type = T_ENUM,
				 .offset = OFF(audit_required),
				 .dflt = HB_TRI_AUTO,
				 .choices = tristate_names,
				 .n_choices = 2, /* not auto */
				 .unset = "yes when run as root, else no",
				 .merge = MERGE_REPLACE},
	[HB_K_AUDIT_KEY] = {.section = "audit",
			    .name = "key_file",
			    .type = T_ABSPATH,
			    .offset = OFF(audit_key_file),
			    .merge = MERGE_REPLACE},
	[HB_K_AUDIT_APPEND_ONLY] = {.section = "audit",
				    .name = "append_only",
				    .type = T_ENUM,
				    .offset = OFF(audit_append_only),
				    .dflt = HB_TRI_AUTO,
				    .choices = tristate_names,
				    .n_choices = 2, /* not auto */
				    .unset = "yes for root's default "
					     "directory, else no",
				    .merge = MERGE_REPLACE},
	/* Lowering an alert threshold could reach 0, which is off: the
	 * command line does not touch them. */
	[HB_K_CPU_ALERT] = {.section = "monitoring",
			    .name = "cpu_usage_alert",
			    .type = T_U64,
			    .offset = OFF(cpu_alert_pct),
			    .dflt = 80,
			    .min = 0,
			    .max = 100,
			    .unit = "percent",
			    .merge = MERGE_REPLACE},
	[HB_K_MEMORY_ALERT] = {.section = "monitoring",
			       .name = "memory_usage_alert",
			       .type = T_U64,
			       .offset = OFF(memory_alert_pct),
			       .dflt = 90,
			       .min = 0,
			       .max = 100,
			       .unit = "percent",
			       .merge = MERGE_REPLACE},
	[HB_K_ALERT_COMMAND] = {.section = "monitoring",
				.name = "alert_command",
				.type = T_ABSPATH,
				.offset = OFF(alert_command),
				.merge = MERGE_REPLACE},
	[HB_K_ALERT_TIMEOUT] = {.section = "monitoring",
				.name = "alert_timeout_seconds",
				.type = T_U64,
				.offset = OFF(alert_timeout_seconds),
				.dflt = 10,
				.min = 1,
				.max = 300,
				.unit = "seconds",
				.merge = MERGE_REPLACE},
	[HB_K_SAMPLE_MS] = {.section = "monitoring",
			    .name = "sample_interval_ms",
			    .type = T_U64,
			    .offset = OFF(sample_interval_ms),
			    .dflt = 100,
			    .min = 10,
			    .max = 60000,
			    .unit = "milliseconds",
			    .merge = MERGE_REPLACE},
	[HB_K_BLOCKED_OPS] = {.section = "filesystem",
			      .name = "blocked_operations",
			      .type = T_OPERATIONS,
			      .offset = OFF(blocked_operations),
			      .merge = MERGE_LIST},
	[HB_K_SC_DEFAULT] = {.section = "syscalls",
			     .name = "default",
			     .type = T_ENUM,
			     .offset = OFF(syscalls_default),
			     .dflt = HB_SC_ALLOW,
			     .choices = sc_default_names,
			     .n_choices = HB_SC_DEFAULT_MAX,
			     .merge = MERGE_REPLACE},
	[HB_K_SC_ALLOW] = {.section = "syscalls",
			   .name = "allow",
			   .type = T_SYSCALLS,
			   .offset = OFF(syscalls_allow),
			   .merge = MERGE_LIST},
	[HB_K_SC_DENY] = {.section = "syscalls",
			  .name = "deny",
			  .type = T_SYSCALLS,
			  .offset = OFF(syscalls_deny),
			  .merge = MERGE_LIST},
	[HB_K_SC_ON_VIOLATION] = {.section = "syscalls",
				  .name = "on_violation",
				  .type = T_ENUM,
				  .offset = OFF(on_violation),
				  .dflt = HB_VIOLATION_ERRNO,
				  .choices = violation_names,
				  .n_choices = HB_VIOLATION_MAX,
				  .merge = MERGE_REPLACE},
	[HB_K_SC_ERRNO] = {.section = "syscalls",
			   .name = "errno",
			   .type = T_ERRNO,
			   .offset = OFF(violation_errno),
			   .dflt_str = "EPERM",
			   .merge = MERGE_REPLACE},
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

static enum hb_storage storage_of(enum hb_type type)
{
	switch (type) {
	case T_EXTENDS:
		return S_NONE;
	case T_U64:
		return S_U64;
	case T_TEXT:
	case T_ABSPATH:
	case T_ERRNO:
		return S_STR;
	case T_ENUM:
		return S_ENUM;
	case T_UID:
		return S_UID;
	default:
		return S_LIST;
	}
}

static void *field_of(struct hb_policy *p, const struct key_def *k)
{
	return (char *)p + k->offset;
}

static const void *cfield_of(const struct hb_policy *p, const struct key_def *k)
{
	return (const char *)p + k->offset;
}

static enum hb_key key_of(const struct key_def *k)
{
	return (enum hb_key)(k - keys);
}

const char *hb_key_name(enum hb_key key)
{
	return (unsigned)key < HB_K_MAX ? keys[key].name : "?";
}

void hb_policy_init(struct hb_policy *p)
{
	memset(p, 0, sizeof(*p));
	/* Built-in defaults: what a policy that says nothing gets.  An
	 * allocation that fails leaves a string unset. */
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key_def *k = &keys[i];
		enum hb_storage st = storage_of(k->type);
		if (st == S_U64)
			*(unsigned long long *)field_of(p, k) = k->dflt;
		else if (st == S_ENUM)
			*(int *)field_of(p, k) = (int)k->dflt;
		else if (st == S_UID)
			((struct hb_host_uid *)field_of(p, k))->kind =
				(enum hb_host_uid_kind)k->dflt;
		else if (st == S_STR && k->dflt_str)
			*(char **)field_of(p, k) = strdup(k->dflt_str);
	}
}

void hb_policy_free(struct hb_policy *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key_def *k = &keys[i];
		if (storage_of(k->type) == S_STR)
			free(*(char **)field_of(p, k));
		else if (storage_of(k->type) == S_LIST)
			hb_strv_clear(field_of(p, k));
	}
	for (int i = 0; i < HB_K_MAX; i++)
		free(p->origin[i].file);
	free(p->path);
	memset(p, 0, sizeof(*p));
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

/* A section is known when some key lives in it. */
static bool known_section(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].section, s) == 0)
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

/* Which of the row's writable choices value is; the message lists
 * them. */
static int parse_enum(const struct key_def *k, const char *value,
		      const char *file, unsigned line, int *ret,
		      struct hb_diag *diag)
{
	int v = string_table_lookup(k->choices, k->n_choices, value);
	char expected[128] = "";
	size_t len = 0;

	if (v >= 0) {
		*ret = v;
		return 0;
	}
	for (size_t i = 0; i < k->n_choices && len < sizeof(expected); i++)
		len += (size_t)snprintf(expected + len, sizeof(expected) - len,
					"%s%s", i ? "|" : "", k->choices[i]);
	return hb_diag_set(diag, file, line,
			   "bad value '%s' for %s: expected %s", value, k->name,
			   expected);
}

static int parse_uid(const struct key_def *k, const char *value,
		     const char *file, unsigned line, struct hb_host_uid *ret,
		     struct hb_diag *diag)
{
	int kind = hb_host_uid_kind_from_string(value);
	unsigned long long v;

	if (kind >= 0) {
		*ret = (struct hb_host_uid){
			.kind = (enum hb_host_uid_kind)kind};
		return 0;
	}
	if (hb_parse_u64(value, 4294967294ULL, &v) < 0 || v == 0)
		return hb_diag_set(diag, file, line,
				   "bad value '%s' for %s: expected auto, "
				   "root or a uid from 1 to 4294967294",
				   value, k->name);
	*ret = (struct hb_host_uid){.kind = HB_HOST_UID_NUMBER,
				    .uid = (uid_t)v};
	return 0;
}

static int check_str(const struct key_def *k, const char *value,
		     const char *file, unsigned line, struct hb_diag *diag)
{
	if (k->type == T_ABSPATH && value[0] != '/')
		return hb_diag_set(diag, file, line,
				   "%s must be an absolute path, not '%s'",
				   k->name, value);
	if (k->type == T_ERRNO && hb_errno_from_name(value) < 0)
		return hb_diag_set(diag, file, line,
				   "unknown errno name '%s' for %s", value,
				   k->name);
	return 0;
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

/* Check a scalar value and store it in place of the parent's. */
static int replace_value(struct hb_policy *p, const struct key_def *k,
			 const struct raw *r, const char *file,
			 struct hb_diag *diag)
{
	void *field = field_of(p, k);
	unsigned long long v;
	int ret;

	switch (storage_of(k->type)) {
	case S_U64:
		ret = check_u64(k, r->value, file, r->line, &v, diag);
		if (ret == 0)
			*(unsigned long long *)field = v;
		return ret;
	case S_ENUM:
		return parse_enum(k, r->value, file, r->line, field, diag);
	case S_UID:
		return parse_uid(k, r->value, file, r->line, field, diag);
	case S_STR:
		ret = check_str(k, r->value, file, r->line, diag);
		return ret < 0 ? ret : replace_str(field, r->value);
	default:
		return -EINVAL;
	}
}

/* Apply one key of this file, as its row's merge rule says.  seen marks
 * the keys already met in this file. */
static int apply(struct hb_policy *p, const struct key_def *k,
		 const struct raw *r, const char *file, bool *seen,
		 struct hb_diag *diag)
{
	enum hb_key key = key_of(k);
	bool again = seen[key];
	int ret;

	if (k->merge != MERGE_LIST && again)
		return hb_diag_set(diag, file, r->line,
				   "duplicate key '%s' in [%s]", k->name,
				   k->section);
	seen[key] = true;
	if (k->merge == MERGE_NONE) /* extends, read before the rest */
		return 0;
	if (k->merge == MERGE_REPLACE) {
		ret = replace_value(p, k, r, file, diag);
	} else {
		struct hb_strv *list = field_of(p, k);
		if (!again)
			hb_strv_clear(list);
		if (k->type == T_ENVSET)
			ret = apply_envset(list, r->value, file, r->line, diag);
		else
			ret = split_list(r->value, k, list, file, r->line,
					 diag);
	}
	if (ret < 0)
		return ret;
	return set_origin(p, key, file, r->line);
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
		if (strcmp(c.raws[i].section, keys[HB_K_EXTENDS].section) ==
			    0 &&
		    strcmp(c.raws[i].name, keys[HB_K_EXTENDS].name) == 0) {
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
	bool deny_default = p->syscalls_default == HB_SC_DENY;
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

	if (p->network_mode != HB_NET_NONE || p->origin[HB_K_NETWORK_MODE].file)
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
	const struct key_def *k = (unsigned)key < HB_K_MAX ? &keys[key] : NULL;
	unsigned long long *field, v;

	/* Lowering is the one tightening there is so far. */
	if (!k || k->tighten != TIGHTEN_LOWER || storage_of(k->type) != S_U64)
		return -EINVAL;
	field = field_of(p, k);
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

/* Is the value unset, or a default that no file can write (auto)? */
static bool unset(const struct hb_policy *p, const struct key_def *k)
{
	const void *v = cfield_of(p, k);

	switch (storage_of(k->type)) {
	case S_STR:
		return !*(char *const *)v;
	case S_ENUM:
		return (unsigned)*(const int *)v >= k->n_choices;
	case S_LIST:
		return ((const struct hb_strv *)v)->n == 0;
	default:
		return false;
	}
}

/* set = NAME=value is one line per variable, each with its origin. */
static void show_repeated(const struct hb_policy *p, const struct key_def *k,
			  FILE *out)
{
	const struct hb_strv *l = cfield_of(p, k);

	for (size_t j = 0; j < l->n; j++) {
		fprintf(out, "%s = %s", k->name, l->v[j]);
		show_origin(p, key_of(k), out);
	}
	if (!l->n)
		fprintf(out, "; %s = (none)\n", k->name);
}

static void show_value(const struct hb_policy *p, const struct key_def *k,
		       FILE *out)
{
	const void *v = cfield_of(p, k);
	char uid[HB_HOST_UID_TEXT_MAX];

	fprintf(out, "%s = ", k->name);
	switch (storage_of(k->type)) {
	case S_U64:
		fprintf(out, "%llu", *(const unsigned long long *)v);
		break;
	case S_STR:
		fputs(*(char *const *)v, out);
		break;
	case S_ENUM:
		fputs(k->choices[*(const int *)v], out);
		break;
	case S_UID:
		fputs(hb_host_uid_text(v, uid, sizeof(uid)), out);
		break;
	default:
		show_list(v, out);
	}
	show_origin(p, key_of(k), out);
}

void hb_policy_show(const struct hb_policy *p, FILE *out)
{
	const char *section = NULL;

	fprintf(out, "; effective policy of %s\n", p->path ? p->path : "?");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key_def *k = &keys[i];
		if (k->merge == MERGE_NONE || (k->hide_unset && unset(p, k)))
			continue;
		if (!section || strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, "\n[%s]\n", section);
		}
		if (k->type == T_ENVSET) {
			show_repeated(p, k, out);
		} else if (unset(p, k)) {
			fprintf(out, "; %s = (%s)", k->name,
				k->unset ? k->unset : "none");
			show_origin(p, key_of(k), out);
		} else {
			show_value(p, k, out);
		}
	}
}

/* SPDX-License-Identifier: MIT */
/* The policy's schema: one row per key, the string tables of its enums,
 * and what walks the rows to set up, free and trace a policy. */
#include "policy_internal.h"

#include <string.h>

#define OFF(field) offsetof(struct hb_policy, field)

/* The enums' string tables, in the enums' order. */
static const char *const net_mode_names[HB_NET_MODE_MAX] = {
	[HB_NET_NONE] = "none",
	[HB_NET_FILTERED] = "filtered",
};

static const char *const forward_names[HB_FORWARD_MAX] = {
	[HB_FORWARD_NONE] = "none",
	[HB_FORWARD_SYSLOG] = "syslog",
	[HB_FORWARD_JOURNAL] = "journal",
	[HB_FORWARD_UNSET] = "unset",
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

static const char *const risk_names[HB_RISK_MAX] = {
	[HB_RISK_NONE] = "none",	 [HB_RISK_LOW] = "low",
	[HB_RISK_MEDIUM] = "medium",	 [HB_RISK_HIGH] = "high",
	[HB_RISK_CRITICAL] = "critical",
};

static const char *const host_uid_kind_names[HB_HOST_UID_KIND_MAX] = {
	[HB_HOST_UID_AUTO] = "auto",
	[HB_HOST_UID_ROOT] = "root",
	[HB_HOST_UID_NUMBER] = NULL,
};

/* The schema stores every enum through an int. */
_Static_assert(sizeof(enum hb_net_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum hb_tristate) == sizeof(int), "enum size");
_Static_assert(sizeof(enum hb_forward_to) == sizeof(int), "enum size");
_Static_assert(sizeof(enum hb_sc_default) == sizeof(int), "enum size");
_Static_assert(sizeof(enum hb_violation) == sizeof(int), "enum size");
_Static_assert(sizeof(enum hb_risk) == sizeof(int), "enum size");

int hb_string_table_lookup(const char *const *table, size_t n, const char *s)
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
		return hb_string_table_lookup(table, ARRAY_SIZE(table), s);    \
	}

DEFINE_STRING_TABLE(hb_net_mode, enum hb_net_mode, net_mode_names)
DEFINE_STRING_TABLE(hb_forward_to, enum hb_forward_to, forward_names)
DEFINE_STRING_TABLE(hb_risk, enum hb_risk, risk_names)
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
const struct hb_key_def hb_keys[HB_K_MAX] = {
	[HB_K_EXTENDS] = {.section = "policy",
			  .name = "extends",
			  .type = HB_T_EXTENDS,
			  .merge = HB_MERGE_NONE},
	[HB_K_DESCRIPTION] = {.section = "policy",
			      .name = "description",
			      .type = HB_T_TEXT,
			      .offset = OFF(description),
			      .hide_unset = true,
			      .merge = HB_MERGE_REPLACE},
	[HB_K_INTERPRETER] = {.section = "execution",
			      .name = "interpreter",
			      .type = HB_T_ABSPATH,
			      .offset = OFF(interpreter),
			      .dflt_str = "/usr/bin/python3",
			      .merge = HB_MERGE_REPLACE},
	/* Where the script starts, and what relative paths of the command
	 * line and of [filesystem] resolve against. */
	[HB_K_WORKDIR] = {.section = "execution",
			  .name = "workdir",
			  .type = HB_T_ABSPATH,
			  .offset = OFF(workdir),
			  .unset = "the directory hivebox is started in",
			  .merge = HB_MERGE_REPLACE},
	[HB_K_TIMEOUT] = {.section = "execution",
			  .name = "timeout_seconds",
			  .type = HB_T_U64,
			  .offset = OFF(limits.timeout_seconds),
			  .dflt = 300,
			  .min = 1,
			  .max = 31536000,
			  .unit = "seconds",
			  .merge = HB_MERGE_REPLACE,
			  .tighten = HB_TIGHTEN_LOWER},
	[HB_K_CPU] = {.section = "execution",
		      .name = "cpu_seconds",
		      .type = HB_T_U64,
		      .offset = OFF(limits.cpu_seconds),
		      .dflt = 60,
		      .min = 1,
		      .max = 31536000,
		      .unit = "seconds",
		      .merge = HB_MERGE_REPLACE,
		      .tighten = HB_TIGHTEN_LOWER},
	[HB_K_MEMORY] = {.section = "execution",
			 .name = "memory_mb",
			 .type = HB_T_U64,
			 .offset = OFF(limits.memory_mb),
			 .dflt = 512,
			 .min = 16,
			 .max = 1048576,
			 .unit = "MiB",
			 .merge = HB_MERGE_REPLACE,
			 .tighten = HB_TIGHTEN_LOWER},
	[HB_K_FILE_SIZE] = {.section = "execution",
			    .name = "file_size_mb",
			    .type = HB_T_U64,
			    .offset = OFF(limits.file_size_mb),
			    .dflt = 100,
			    .min = 1,
			    .max = 1048576,
			    .unit = "MiB",
			    .merge = HB_MERGE_REPLACE,
			    .tighten = HB_TIGHTEN_LOWER},
	[HB_K_MAX_PROCESSES] = {.section = "execution",
				.name = "max_processes",
				.type = HB_T_U64,
				.offset = OFF(limits.max_processes),
				.dflt = 16,
				.min = 1,
				.max = 65536,
				.unit = "processes",
				.merge = HB_MERGE_REPLACE,
				.tighten = HB_TIGHTEN_LOWER},
	[HB_K_MAX_OPEN_FILES] = {.section = "execution",
				 .name = "max_open_files",
				 .type = HB_T_U64,
				 .offset = OFF(limits.max_open_files),
				 .dflt = 256,
				 .min = 16,
				 .max = 65536,
				 .unit = "descriptors",
				 .merge = HB_MERGE_REPLACE,
				 .tighten = HB_TIGHTEN_LOWER},
	[HB_K_TMP_SIZE] = {.section = "execution",
			   .name = "tmp_size_mb",
			   .type = HB_T_U64,
			   .offset = OFF(limits.tmp_size_mb),
			   .dflt = 64,
			   .min = 1,
			   .max = 65536,
			   .unit = "MiB",
			   .merge = HB_MERGE_REPLACE,
			   .tighten = HB_TIGHTEN_LOWER},
	[HB_K_READ_ONLY] = {.section = "filesystem",
			    .name = "read_only",
			    .type = HB_T_PATHS,
			    .offset = OFF(read_only),
			    .merge = HB_MERGE_LIST},
	[HB_K_READ_WRITE] = {.section = "filesystem",
			     .name = "read_write",
			     .type = HB_T_PATHS,
			     .offset = OFF(read_write),
			     .merge = HB_MERGE_LIST},
	/* Unset (0, "none" in a file) is no quota.  The bounds keep the
	 * byte count within 64 bits with room to add to it. */
	[HB_K_WRITE_QUOTA_MB] = {.section = "filesystem",
				 .name = "write_quota_mb",
				 .type = HB_T_U64,
				 .offset = OFF(write_quota_mb),
				 .min = 1,
				 .max = 16777216,
				 .unit = "MiB",
				 .unset = "no quota",
				 .none_word = true,
				 .merge = HB_MERGE_REPLACE,
				 .tighten = HB_TIGHTEN_LOWER},
	[HB_K_WRITE_QUOTA_FILES] = {.section = "filesystem",
				    .name = "write_quota_files",
				    .type = HB_T_U64,
				    .offset = OFF(write_quota_files),
				    .min = 1,
				    .max = 1000000000,
				    .unit = "files",
				    .unset = "no quota",
				    .none_word = true,
				    .merge = HB_MERGE_REPLACE,
				    .tighten = HB_TIGHTEN_LOWER},
	[HB_K_NETWORK_MODE] = {.section = "network",
			       .name = "mode",
			       .type = HB_T_ENUM,
			       .offset = OFF(network_mode),
			       .dflt = HB_NET_NONE,
			       .choices = net_mode_names,
			       .n_choices = HB_NET_MODE_MAX,
			       .merge = HB_MERGE_REPLACE},
	[HB_K_NET_DOMAINS] = {.section = "network",
			      .name = "allowed_domains",
			      .type = HB_T_HOSTS,
			      .offset = OFF(allowed_domains),
			      .merge = HB_MERGE_LIST},
	[HB_K_NET_ALLOWED_PORTS] = {.section = "network",
				    .name = "allowed_ports",
				    .type = HB_T_PORTS,
				    .offset = OFF(allowed_ports),
				    .min = 1,
				    .max = 65535,
				    .merge = HB_MERGE_LIST},
	[HB_K_NET_BLOCKED_PORTS] = {.section = "network",
				    .name = "blocked_ports",
				    .type = HB_T_PORTS,
				    .offset = OFF(blocked_ports),
				    .min = 1,
				    .max = 65535,
				    .merge = HB_MERGE_LIST},
	[HB_K_ENV_KEEP] = {.section = "environment",
			   .name = "keep",
			   .type = HB_T_NAMES,
			   .offset = OFF(env_keep),
			   .merge = HB_MERGE_LIST},
	[HB_K_ENV_SET] = {.section = "environment",
			  .name = "set",
			  .type = HB_T_ENVSET,
			  .offset = OFF(env_set),
			  .merge = HB_MERGE_LIST},
	[HB_K_HOST_UID] = {.section = "identity",
			   .name = "host_uid",
			   .type = HB_T_UID,
			   .offset = OFF(host_uid),
			   .dflt = HB_HOST_UID_AUTO,
			   .merge = HB_MERGE_REPLACE},
	[HB_K_AUDIT_DIR] = {.section = "audit",
			    .name = "dir",
			    .type = HB_T_ABSPATH,
			    .offset = OFF(audit_dir),
			    .merge = HB_MERGE_REPLACE},
	[HB_K_AUDIT_REQUIRED] = {.section = "audit",
				 .name = "required",
				 .type = HB_T_ENUM,
				 .offset = OFF(audit_required),
				 .dflt = HB_TRI_AUTO,
				 .choices = tristate_names,
				 .n_choices = 2, /* not auto */
				 .unset = "yes when run as root, else no",
				 .merge = HB_MERGE_REPLACE},
	[HB_K_AUDIT_KEY] = {.section = "audit",
			    .name = "key_file",
			    .type = HB_T_ABSPATH,
			    .offset = OFF(audit_key_file),
			    .merge = HB_MERGE_REPLACE},
	[HB_K_AUDIT_APPEND_ONLY] = {.section = "audit",
				    .name = "append_only",
				    .type = HB_T_ENUM,
				    .offset = OFF(audit_append_only),
				    .dflt = HB_TRI_AUTO,
				    .choices = tristate_names,
				    .n_choices = 2, /* not auto */
				    .unset = "yes for root's default "
					     "directory, else no",
				    .merge = HB_MERGE_REPLACE},
	/* Unset unless written: a policy that does not say it keeps its
	 * identity (the canonical form prints no unset value). */
	[HB_K_AUDIT_KEEP_SCRIPTS] = {.section = "audit",
				     .name = "keep_scripts",
				     .type = HB_T_ENUM,
				     .offset = OFF(audit_keep_scripts),
				     .dflt = HB_TRI_AUTO,
				     .choices = tristate_names,
				     .n_choices = 2, /* not auto */
				     .unset = "no",
				     .merge = HB_MERGE_REPLACE},
	[HB_K_AUDIT_FORWARD] = {.section = "audit",
				.name = "forward",
				.type = HB_T_ENUM,
				.offset = OFF(audit_forward),
				.dflt = HB_FORWARD_UNSET,
				.choices = forward_names,
				.n_choices = HB_FORWARD_UNSET, /* not unset */
				.unset = "none",
				.merge = HB_MERGE_REPLACE},
	/* Lowering an alert threshold could reach 0, which is off: the
	 * command line does not touch them. */
	[HB_K_CPU_ALERT] = {.section = "monitoring",
			    .name = "cpu_usage_alert",
			    .type = HB_T_U64,
			    .offset = OFF(cpu_alert_pct),
			    .dflt = 80,
			    .min = 0,
			    .max = 100,
			    .unit = "percent",
			    .merge = HB_MERGE_REPLACE},
	[HB_K_MEMORY_ALERT] = {.section = "monitoring",
			       .name = "memory_usage_alert",
			       .type = HB_T_U64,
			       .offset = OFF(memory_alert_pct),
			       .dflt = 90,
			       .min = 0,
			       .max = 100,
			       .unit = "percent",
			       .merge = HB_MERGE_REPLACE},
	[HB_K_ALERT_COMMAND] = {.section = "monitoring",
				.name = "alert_command",
				.type = HB_T_ABSPATH,
				.offset = OFF(alert_command),
				.merge = HB_MERGE_REPLACE},
	[HB_K_ALERT_TIMEOUT] = {.section = "monitoring",
				.name = "alert_timeout_seconds",
				.type = HB_T_U64,
				.offset = OFF(alert_timeout_seconds),
				.dflt = 10,
				.min = 1,
				.max = 300,
				.unit = "seconds",
				.merge = HB_MERGE_REPLACE},
	[HB_K_SAMPLE_MS] = {.section = "monitoring",
			    .name = "sample_interval_ms",
			    .type = HB_T_U64,
			    .offset = OFF(sample_interval_ms),
			    .dflt = 100,
			    .min = 10,
			    .max = 60000,
			    .unit = "milliseconds",
			    .merge = HB_MERGE_REPLACE},
	[HB_K_BLOCKED_OPS] = {.section = "filesystem",
			      .name = "blocked_operations",
			      .type = HB_T_OPERATIONS,
			      .offset = OFF(blocked_operations),
			      .merge = HB_MERGE_LIST},
	[HB_K_SC_DEFAULT] = {.section = "syscalls",
			     .name = "default",
			     .type = HB_T_ENUM,
			     .offset = OFF(syscalls_default),
			     .dflt = HB_SC_ALLOW,
			     .choices = sc_default_names,
			     .n_choices = HB_SC_DEFAULT_MAX,
			     .merge = HB_MERGE_REPLACE},
	[HB_K_SC_ALLOW] = {.section = "syscalls",
			   .name = "allow",
			   .type = HB_T_SYSCALLS,
			   .offset = OFF(syscalls_allow),
			   .merge = HB_MERGE_LIST},
	[HB_K_SC_DENY] = {.section = "syscalls",
			  .name = "deny",
			  .type = HB_T_SYSCALLS,
			  .offset = OFF(syscalls_deny),
			  .merge = HB_MERGE_LIST},
	[HB_K_SC_ON_VIOLATION] = {.section = "syscalls",
				  .name = "on_violation",
				  .type = HB_T_ENUM,
				  .offset = OFF(on_violation),
				  .dflt = HB_VIOLATION_ERRNO,
				  .choices = violation_names,
				  .n_choices = HB_VIOLATION_MAX,
				  .merge = HB_MERGE_REPLACE},
	[HB_K_SC_ERRNO] = {.section = "syscalls",
			   .name = "errno",
			   .type = HB_T_ERRNO,
			   .offset = OFF(violation_errno),
			   .dflt_str = "EPERM",
			   .merge = HB_MERGE_REPLACE},
	/* The gate before every run: hivebox check's risk for the script
	 * at or above this refuses the run (exit 120). */
	[HB_K_ANALYSIS_REFUSE_AT] = {.section = "analysis",
				     .name = "refuse_at",
				     .type = HB_T_ENUM,
				     .offset = OFF(refuse_at),
				     .dflt = HB_RISK_NONE,
				     .choices = risk_names,
				     .n_choices = HB_RISK_MAX,
				     .merge = HB_MERGE_REPLACE},
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

const struct hb_key_def *hb_key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(hb_keys); i++)
		if (strcmp(hb_keys[i].section, section) == 0 &&
		    strcmp(hb_keys[i].name, name) == 0)
			return &hb_keys[i];
	return NULL;
}

const char *hb_key_unsupported(const char *section, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
		if (strcmp(unsupported[i].section, section) == 0 &&
		    (!unsupported[i].name ||
		     strcmp(unsupported[i].name, name) == 0))
			return unsupported[i].feature;
	return NULL;
}

/* A section is known when some key lives in it. */
bool hb_section_known(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(hb_keys); i++)
		if (strcmp(hb_keys[i].section, s) == 0)
			return true;
	return false;
}

const char *hb_key_name(enum hb_key key)
{
	return (unsigned)key < HB_K_MAX ? hb_keys[key].name : "?";
}

void hb_policy_init(struct hb_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->dirs.system = HB_POLICY_SYSTEM_DIR;
	p->dirs.shipped = HB_POLICY_SHIPPED_DIR;
	/* Built-in defaults: what a policy that says nothing gets.  An
	 * allocation that fails leaves a string unset. */
	for (size_t i = 0; i < ARRAY_SIZE(hb_keys); i++) {
		const struct hb_key_def *k = &hb_keys[i];
		enum hb_storage st = hb_storage_of(k->type);
		if (st == HB_S_U64)
			*(unsigned long long *)hb_key_field(p, k) = k->dflt;
		else if (st == HB_S_ENUM)
			*(int *)hb_key_field(p, k) = (int)k->dflt;
		else if (st == HB_S_UID)
			((struct hb_host_uid *)hb_key_field(p, k))->kind =
				(enum hb_host_uid_kind)k->dflt;
		else if (st == HB_S_STR && k->dflt_str)
			*(char **)hb_key_field(p, k) = strdup(k->dflt_str);
	}
}

void hb_policy_free(struct hb_policy *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(hb_keys); i++) {
		const struct hb_key_def *k = &hb_keys[i];
		if (hb_storage_of(k->type) == HB_S_STR)
			free(*(char **)hb_key_field(p, k));
		else if (hb_storage_of(k->type) == HB_S_LIST)
			hb_strv_clear(hb_key_field(p, k));
	}
	for (int i = 0; i < HB_K_MAX; i++)
		free(p->origin[i].file);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

int hb_policy_set_origin(struct hb_policy *p, enum hb_key key, const char *file,
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

const char *hb_policy_origin(const struct hb_policy *p, enum hb_key key)
{
	return p->origin[key].file ?: "built-in default";
}

const char *hb_policy_setting_text(const struct hb_policy *p, enum hb_key key,
				   char *buf, size_t n)
{
	const struct hb_key_def *k = &hb_keys[key];
	const struct hb_origin *o = &p->origin[key];
	unsigned long long v = 0;
	char where[HB_ORIGIN_TEXT_MAX];

	if (hb_storage_of(k->type) == HB_S_U64)
		v = *(const unsigned long long *)hb_key_cfield(p, k);
	/* Line 0 with a name: an option of the command line. */
	if (o->file && !o->line)
		snprintf(buf, n, "%s %llu", o->file, v);
	else
		snprintf(buf, n, "%s = %llu (%s)", k->name, v,
			 hb_policy_origin_text(p, key, where, sizeof(where)));
	return buf;
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

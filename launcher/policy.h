/* SPDX-License-Identifier: MIT */
/* The policy: INI files parsed with inih, merged along "extends", checked
 * key by key.  Everything here is pure data; nothing is created. */
#pragma once

#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <sys/types.h>

enum hb_key {
	HB_K_EXTENDS,
	HB_K_DESCRIPTION,
	HB_K_INTERPRETER,
	HB_K_WORKDIR,
	HB_K_TIMEOUT,
	HB_K_CPU,
	HB_K_MEMORY,
	HB_K_FILE_SIZE,
	HB_K_MAX_PROCESSES,
	HB_K_MAX_OPEN_FILES,
	HB_K_TMP_SIZE,
	HB_K_READ_ONLY,
	HB_K_READ_WRITE,
	HB_K_WRITE_QUOTA_MB,
	HB_K_WRITE_QUOTA_FILES,
	HB_K_NETWORK_MODE,
	HB_K_NET_DOMAINS,
	HB_K_NET_ALLOWED_PORTS,
	HB_K_NET_BLOCKED_PORTS,
	HB_K_ENV_KEEP,
	HB_K_ENV_SET,
	HB_K_HOST_UID,
	HB_K_AUDIT_DIR,
	HB_K_AUDIT_REQUIRED,
	HB_K_AUDIT_KEY,
	HB_K_AUDIT_APPEND_ONLY,
	HB_K_AUDIT_KEEP_SCRIPTS,
	HB_K_AUDIT_FORWARD,
	HB_K_CPU_ALERT,
	HB_K_MEMORY_ALERT,
	HB_K_ALERT_COMMAND,
	HB_K_ALERT_TIMEOUT,
	HB_K_SAMPLE_MS,
	HB_K_BLOCKED_OPS,
	HB_K_SC_DEFAULT,
	HB_K_SC_ALLOW,
	HB_K_SC_DENY,
	HB_K_SC_ON_VIOLATION,
	HB_K_SC_ERRNO,
	HB_K_ANALYSIS_REFUSE_AT,
	HB_K_MAX,
};

/* The values of keys that name one of a few choices, parsed once.  Each
 * has one string table: _to_string() gives the word a policy writes
 * (NULL for a value that has none), _from_string() the value of a word
 * or -EINVAL. */

/* [network] mode */
/* [audit] forward: where each record also goes, as one message. */
enum hb_forward_to {
	HB_FORWARD_NONE,
	HB_FORWARD_SYSLOG,  /* JSON in a message on /dev/log */
	HB_FORWARD_JOURNAL, /* fields on /run/systemd/journal/socket */
	/* Not written: none, left out of the canonical form, so that a
	 * policy's identity is what it was before the key existed. */
	HB_FORWARD_UNSET,
	HB_FORWARD_MAX,
};

enum hb_net_mode {
	HB_NET_NONE,	 /* loopback only */
	HB_NET_FILTERED, /* a veth to the host and its filter */
	HB_NET_MODE_MAX,
};

/* [audit] required and append_only.  auto, the default, is decided when
 * the run starts and cannot be written in a policy. */
enum hb_tristate {
	HB_TRI_YES,
	HB_TRI_NO,
	HB_TRI_AUTO,
	HB_TRI_MAX,
};

/* [syscalls] default */
enum hb_sc_default {
	HB_SC_ALLOW, /* a deny-list */
	HB_SC_DENY,  /* an allow-list */
	HB_SC_DEFAULT_MAX,
};

/* [syscalls] on_violation */
enum hb_violation {
	HB_VIOLATION_ERRNO, /* the call fails with errno */
	HB_VIOLATION_KILL,  /* SIGSYS */
	HB_VIOLATION_MAX,
};

/* [identity] host_uid: auto, root or a number. */
enum hb_host_uid_kind {
	HB_HOST_UID_AUTO,   /* a dedicated uid for the run */
	HB_HOST_UID_ROOT,   /* host root: the plan refuses it */
	HB_HOST_UID_NUMBER, /* the uid in struct hb_host_uid */
	HB_HOST_UID_KIND_MAX,
};

/* A risk level of hivebox check, and [analysis] refuse_at: none is no
 * finding (and, as refuse_at, the gate off). */
enum hb_risk {
	HB_RISK_NONE,
	HB_RISK_LOW,
	HB_RISK_MEDIUM,
	HB_RISK_HIGH,
	HB_RISK_CRITICAL,
	HB_RISK_MAX,
};

struct hb_host_uid {
	enum hb_host_uid_kind kind;
	uid_t uid; /* HB_HOST_UID_NUMBER: 1 to 4294967294 */
};

/* Room for hb_host_uid_text(). */
#define HB_HOST_UID_TEXT_MAX 16

const char *hb_forward_to_to_string(enum hb_forward_to v);
int hb_forward_to_from_string(const char *s);
const char *hb_net_mode_to_string(enum hb_net_mode v);
int hb_net_mode_from_string(const char *s);
const char *hb_tristate_to_string(enum hb_tristate v);
int hb_tristate_from_string(const char *s);
const char *hb_sc_default_to_string(enum hb_sc_default v);
int hb_sc_default_from_string(const char *s);
const char *hb_violation_to_string(enum hb_violation v);
int hb_violation_from_string(const char *s);
const char *hb_risk_to_string(enum hb_risk v);
int hb_risk_from_string(const char *s);
const char *hb_host_uid_kind_to_string(enum hb_host_uid_kind v);
int hb_host_uid_kind_from_string(const char *s);
/* host_uid as a policy writes it: "auto", "root" or the number.  Returns
 * buf. */
const char *hb_host_uid_text(const struct hb_host_uid *u, char *buf, size_t n);

/* Where a value came from, for messages and "policy show": a file and
 * its line, an option of the command line (line 0), or, with file NULL,
 * the built-in default. */
struct hb_origin {
	char *file;
	unsigned line;
};

/* Room for hb_policy_origin_text(): a path, a colon and a line. */
#define HB_ORIGIN_TEXT_MAX (PATH_MAX + 16)

/* The seven limits as the policy sets them: what the run enforces, and
 * what the records and the result report. */
struct hb_limits {
	unsigned long long timeout_seconds;
	unsigned long long cpu_seconds;
	unsigned long long memory_mb;
	unsigned long long file_size_mb;
	unsigned long long max_processes;
	unsigned long long max_open_files;
	unsigned long long tmp_size_mb;
};
/* Their keys, in the same order: HB_K_TIMEOUT + i for the i-th. */
#define HB_N_LIMITS 7

/* Where a bare policy name is searched after the directory of the file
 * that names it (or the current directory): the machine's policies, then
 * the shipped ones.  The Makefile compiles in both; hivebox.conf's
 * [policies] keys move them for root's runs (config.h). */
#ifndef HB_POLICY_SYSTEM_DIR
#define HB_POLICY_SYSTEM_DIR "/etc/hivebox/policies"
#endif
#ifndef HB_POLICY_SHIPPED_DIR
#define HB_POLICY_SHIPPED_DIR "/usr/local/share/hivebox/policies"
#endif

struct hb_policy_dirs {
	const char *system;  /* not owned; NULL: not searched */
	const char *shipped; /* not owned; NULL: not searched */
};

struct hb_policy {
	char *path; /* the file named on the command line, absolute */
	struct hb_policy_dirs dirs; /* hb_policy_init: the compiled-in ones */
	char *description;
	char *interpreter;
	char *workdir; /* NULL: the directory hivebox was started in */
	struct hb_limits limits;
	struct hb_strv read_only; /* as written: relative to the start dir */
	struct hb_strv read_write;
	/* What the run may add to its read_write paths; 0: no quota. */
	unsigned long long write_quota_mb, write_quota_files;
	enum hb_net_mode network_mode;
	struct hb_strv allowed_domains; /* host names and IPv4 literals */
	struct hb_strv allowed_ports;	/* decimal, 1-65535 */
	struct hb_strv blocked_ports;
	struct hb_strv env_keep; /* variable names */
	struct hb_strv env_set;	 /* NAME=value */
	struct hb_host_uid host_uid;
	char *audit_dir;		 /* NULL: the default for the caller */
	enum hb_tristate audit_required; /* auto: yes for root */
	char *audit_key_file;		 /* NULL: HB_AUDIT_DEFAULT_KEY */
	enum hb_tristate audit_append_only;  /* auto: for the default dir */
	enum hb_tristate audit_keep_scripts; /* auto (unset): no */
	enum hb_forward_to audit_forward;
	unsigned long long cpu_alert_pct;    /* 0: off */
	unsigned long long memory_alert_pct; /* 0: off */
	char *alert_command;		     /* NULL: none */
	unsigned long long alert_timeout_seconds;
	unsigned long long sample_interval_ms;
	struct hb_strv blocked_operations; /* delete, chmod, ... */
	enum hb_sc_default syscalls_default;
	struct hb_strv syscalls_allow; /* names and @groups */
	struct hb_strv syscalls_deny;
	enum hb_violation on_violation;
	char *violation_errno;		   /* "EPERM", ... */
	enum hb_risk refuse_at;		   /* [analysis]: none, the gate off */
	struct hb_origin origin[HB_K_MAX]; /* file NULL: built-in default */
};

void hb_policy_init(struct hb_policy *p);
void hb_policy_free(struct hb_policy *p);

/* Load path (and what it extends) on top of the built-in defaults.  A
 * bare name (no '/') is searched as hb_policy_find() says, from the
 * current directory. */
int hb_policy_load(struct hb_policy *p, const char *path, struct hb_diag *diag);
/* Parse one INI stream named name into p; used by load and by tests. */
int hb_policy_parse(struct hb_policy *p, FILE *f, const char *name, int depth,
		    struct hb_diag *diag);
/* Cross-key checks once every file is merged. */
int hb_policy_validate(const struct hb_policy *p, struct hb_diag *diag);

/* Command-line tightening: value must not exceed the policy's.  A value
 * that would loosen the policy is -EPERM, a malformed one -EINVAL. */
int hb_policy_tighten(struct hb_policy *p, enum hb_key key, const char *option,
		      const char *value, struct hb_diag *diag);

/* hivebox shell: an interactive session's own timeout, HB_SHELL_TIMEOUT_S
 * (plan.h), where the policy leaves timeout_seconds at its default; the
 * origin says so.  Before any tightening, which it may then lower. */
int hb_policy_shell_defaults(struct hb_policy *p, unsigned long long timeout);

/* Where key's value came from: its file or option, or "built-in
 * default"; with p->origin[key].line, what a diagnostic names. */
const char *hb_policy_origin(const struct hb_policy *p, enum hb_key key);
/* The same as text for a message: "file:line", "--option" or "built-in
 * default" (never "built-in default:0").  Returns buf. */
const char *hb_policy_origin_text(const struct hb_policy *p, enum hb_key key,
				  char *buf, size_t n);
/* A number-valued key as it was set, for the line that names a limit:
 * "timeout_seconds = 5 (strict.ini:4)", "timeout_seconds = 300
 * (built-in default)", or the option that set it, "--timeout 5".
 * Returns buf. */
const char *hb_policy_setting_text(const struct hb_policy *p, enum hb_key key,
				   char *buf, size_t n);

/* The effective policy as INI, each value with its origin. */
void hb_policy_show(const struct hb_policy *p, FILE *out);
/* The policy's canonical form: keys and values only, in the schema's
 * order, no origins or comments, unset keys left out; it parses again to
 * the same rules.  Its SHA-256 is the policy's identity in the trail. */
void hb_policy_canonical(const struct hb_policy *p, FILE *out);

const char *hb_key_name(enum hb_key key);

/* Is name a bare policy name, one to search for (no '/')? */
bool hb_policy_name_is_bare(const char *name);
/* Find the bare policy name in near (NULL: the current directory, and
 * *ret relative to it), then in dirs->system, then in dirs->shipped; in
 * each, name as given, then name.ini.  A directory or a missing name is
 * passed over; anything else is taken, for the reader to accept or not.
 * For euid 0, near (or the current directory) is taken only when it and
 * the file are owned by root or euid and not group/world-writable;
 * otherwise it is skipped and tried says why.
 * -ENOENT when found nowhere; tried (size bytes) then lists the
 * directories searched, comma-separated. */
int hb_policy_find(const char *name, const char *near,
		   const struct hb_policy_dirs *dirs, char **ret, char *tried,
		   size_t size);

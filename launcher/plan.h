/* SPDX-License-Identifier: MIT */
/* The plan: everything a run will do, as data, built from the policy and
 * the invocation before any namespace exists.  --dry-run prints it; the
 * sandbox init and the supervisor only carry it out. */
#pragma once

#include "config.h"
#include "policy.h"
#include "seccomp_filter.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

enum hb_mount_kind {
	HB_MNT_BIND,	/* host source bound at target */
	HB_MNT_TMPFS,	/* a fresh tmpfs; data holds its options */
	HB_MNT_PROC,	/* a new procfs for the new PID namespace */
	HB_MNT_SYMLINK, /* a symlink whose text is data */
	HB_MNT_FILE,	/* a file in the root tmpfs holding data */
	HB_MNT_DIR,	/* an empty directory, e.g. the start directory */
};

/* Mount attributes, as in mount_setattr(2). */
#define HB_ATTR_RDONLY 0x1u
#define HB_ATTR_NOSUID 0x2u
#define HB_ATTR_NODEV 0x4u
#define HB_ATTR_NOEXEC 0x8u

struct hb_mount {
	enum hb_mount_kind kind;
	char *source; /* host path, resolved (bind only) */
	char *target; /* absolute path inside the sandbox */
	char *data;   /* tmpfs options, symlink text or file content */
	unsigned attrs;
	/* Bind: the source, opened once when the plan is built and checked
	 * there; what is mounted is this inode (-1 for other kinds). */
	int fd;
	dev_t dev; /* bind: fstat() of fd */
	ino_t ino;
	bool is_dir;	 /* bind: the source is a directory */
	const char *why; /* "interpreter", "script", "read_only", ... */
	unsigned seq;	 /* order of addition, the tie-break of the sort */
	/* Started as root, a policy path or the script is idmapped: on it
	 * the sandbox's uid and gid 0 (its host ids) stand for owner_uid
	 * and owner_gid, the fstat() of fd, so that the sandbox acts there
	 * as the path's owner (ids.h).  Never on the interpreter's files
	 * or the system's. */
	bool idmap;
	uid_t owner_uid;
	gid_t owner_gid;
	/* Where the path was listed, for a refusal when the run starts:
	 * the policy file and line, or the script as given (line 0). */
	char *listed_in;
	unsigned listed_line;
};

/* A /proc/sys file the sandbox init writes for its own namespaces. */
struct hb_sysctl {
	const char *name; /* below /proc/sys */
	char value[64];
};

#define HB_MAX_IPC_SYSCTLS 7

struct hb_rlimit {
	int resource;
	const char *name;
	rlim_t soft, hard;
};

struct hb_invocation {
	/* As given on the command line; NULL: shell (replay --shell gives
	 * one a script: bound at its path, sys.argv[0], not run). */
	const char *script;
	/* replay of a run with keep_scripts: the stored bytes, bound at
	 * script's path in place of whatever is there now. */
	bool have_script_fd;
	int script_fd;
	bool shell;  /* hivebox shell: an interactive prompt */
	char **args; /* the script's arguments */
	size_t n_args;
	const char *cwd;
	const char *workdir; /* --workdir, NULL: none */
	uid_t uid, euid;
	gid_t gid;
	char **environ;
	const struct hb_config *config; /* as root only; NULL otherwise */
};

/* The largest script hivebox hashes and runs: a script is source code,
 * and a bound keeps a file that grows under the hash from holding the
 * launcher before any limit is armed. */
#define HB_SCRIPT_MAX_BYTES (64ull << 20)

/* host_uid = auto: the sandbox's host uid is HB_UID_BASE + an index
 * below HB_UID_RANGE that no other live run holds, taken when the run
 * starts (hb_ids_acquire()); until then the plan holds HB_UID_UNSET. */
#define HB_UID_BASE 2000000000u
#define HB_UID_RANGE 65536u
#define HB_UID_UNSET ((uid_t)-1)
#define HB_GRACE_MS 1000
/* hivebox shell: the timeout where the policy sets none (an interactive
 * session outlasts a job's 300 s), and how long before the end the
 * session is warned (half the timeout when that is shorter). */
#define HB_SHELL_TIMEOUT_S 3600
#define HB_SHELL_WARN_MS 60000
/* What the interpreter runs before its prompt: nothing.  "-c" is there
 * so that the arguments after it are sys.argv[1:], not a script. */
#define HB_SHELL_CODE ""
/* replay --shell of a script's run: the script's path comes after "-c
 * CODE" and this makes it sys.argv[0], so that sys.argv is the run's. */
#define HB_REPLAY_SHELL_CODE "__import__('sys').argv.pop(0)"

/* One allowed_domains item and what it stands for. */
struct hb_net_name {
	char *name;
	bool literal;  /* an IPv4 address as written */
	uint32_t *ips; /* network order */
	size_t n_ips;
};

/* mode = filtered, as data: the destinations resolved at start and the
 * ports, each list without duplicates.  The pool slot, and with it the
 * addresses, is only taken when the run starts. */
struct hb_net_plan {
	bool filtered;
	bool allow_any; /* hivebox learn: any destination, each recorded */
	const struct hb_config *config;
	struct hb_net_name *names;
	size_t n_names;
	uint32_t *ips;
	size_t n_ips;
	uint16_t *ports; /* host order */
	size_t n_ports;
	uint16_t *blocked;
	size_t n_blocked;
	uint32_t nameservers[3]; /* the host's, where the policy allows them */
	size_t n_nameservers;
};

/* [monitoring]: when the supervisor samples and what it alerts on. */
struct hb_monitoring {
	unsigned cpu_alert_pct, memory_alert_pct; /* 0: off */
	char *alert_command;			  /* NULL: none */
	unsigned alert_timeout_s;
	unsigned sample_ms;
};

struct hb_plan {
	/* For building the plan, --dry-run and the start record's policy
	 * hash and stored canonical form only: the run reads the copies
	 * below, so that data flows plan -> apply, never back. */
	const struct hb_policy *policy;
	char *policy_path;
	struct hb_limits limits;
	/* How each limit was set, in the order of struct hb_limits, for the
	 * line that names the one that ended a run: "timeout_seconds = 5
	 * (strict.ini:4)" or "--timeout 5". */
	char *limit_text[HB_N_LIMITS];
	/* [filesystem] write_quota_*: what the run may add to its writable
	 * binds (0: no bound), and how each was set, as limit_text. */
	unsigned long long quota_bytes, quota_files;
	char *quota_text[2];
	struct hb_monitoring monitoring;
	char *interpreter;
	char *script; /* absolute, lexical; NULL for a shell */
	bool shell;   /* hivebox shell: argv is the interpreter's prompt */
	/* The script, opened once (O_RDONLY): the start record hashes it,
	 * its bind mounts it.  hb_plan_free() closes it once plan->script
	 * is set, so a plan made without hb_plan_build() that sets script
	 * sets this too (-1: none). */
	int script_fd;
	char *cwd;
	struct hb_strv argv;
	struct hb_strv env;
	bool privileged; /* started as root: ids map to a dedicated uid */
	/* host_uid = auto, started as root: host_uid and host_gid are
	 * HB_UID_UNSET until the run starts and takes one. */
	bool host_uid_at_start;
	uid_t inside_uid, host_uid;
	gid_t inside_gid, host_gid;
	struct hb_mount *mounts;
	size_t n_mounts;
	struct hb_rlimit rlimits[6];
	size_t n_rlimits;
	/* The limits of the sandbox's own IPC namespace, in proportion to
	 * memory_mb; none when unprivileged, where no one in the sandbox is
	 * that namespace's root, the only one who may write them. */
	struct hb_sysctl ipc[HB_MAX_IPC_SYSCTLS];
	size_t n_ipc;
	unsigned long long timeout_ms, grace_ms;
	const char *hostname;
	struct hb_filter filter; /* loaded last, right before execve */
	struct hb_net_plan net;
};

int hb_plan_build(struct hb_plan *plan, const struct hb_policy *policy,
		  const struct hb_invocation *inv, struct hb_diag *diag);
/* Copy into the plan what the run reads of the policy: its path, the
 * limits with where each was set, and the monitoring settings.
 * hb_plan_build() does it first; a refusal recorded before any plan is
 * built does it alone. */
int hb_plan_settings(struct hb_plan *plan, const struct hb_policy *policy);
/* Does the run watch what it adds to its writable binds? */
bool hb_plan_has_quota(const struct hb_plan *plan);
/* A host path the sandbox may write: a read_write bind. */
bool hb_mount_writable(const struct hb_mount *m);
/* How limit key (HB_K_TIMEOUT to HB_K_TMP_SIZE, or a write quota) was set, as copied by
 * hb_plan_settings(); its name alone in a plan made without it. */
const char *hb_plan_limit_text(const struct hb_plan *plan, enum hb_key key);
/* RLIMIT_AS, the per-process backstop under the supervisor's bound on
 * the whole sandbox's memory: twice memory_mb, and at least 1 GiB above
 * it, in bytes.  Address space that a process reserves and never uses
 * (thread stacks, one malloc arena of 64 MiB per thread) is not memory,
 * and must not fail a job that stays within memory_mb. */
unsigned long long hb_plan_backstop_bytes(unsigned long long memory_mb);
void hb_plan_free(struct hb_plan *plan);
void hb_plan_print(const struct hb_plan *plan, FILE *out);
const char *hb_mount_kind_name(enum hb_mount_kind kind);

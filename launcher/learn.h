/* SPDX-License-Identifier: MIT */
/* hivebox learn: run a script once in an observing sandbox (learn.c),
 * record what it touched, and write the least-privilege policy that lets
 * it run (learn_policy.c, a pure function of the observations). */
#pragma once

#include "policy.h"
#include "seccomp_names.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct hb_config;

/* The exit status of hivebox learn when nothing could be learned (bad
 * arguments, a base policy that does not load, a sandbox that could not
 * be built): HB_EXIT_FAILED of the run's table.  0 means a policy was
 * written, also when the job itself failed. */
#define HB_LEARN_EXIT_FAILED 125

/* What was done to a path, as a bit set. */
enum {
	HB_LEARN_READ = 1 << 0,	  /* opened for reading */
	HB_LEARN_LIST = 1 << 1,	  /* a directory opened, listed, entered */
	HB_LEARN_WRITE = 1 << 2,  /* opened for writing, truncated */
	HB_LEARN_CREATE = 1 << 3, /* created: file, directory, link */
	HB_LEARN_REMOVE = 1 << 4, /* unlinked or removed */
	HB_LEARN_RENAME = 1 << 5, /* renamed, from or to */
	HB_LEARN_EXEC = 1 << 6,	  /* executed */
};
#define HB_LEARN_WRITES                                                        \
	(HB_LEARN_WRITE | HB_LEARN_CREATE | HB_LEARN_REMOVE | HB_LEARN_RENAME)

/* What the host holds at a path (looked at after the run: the run changed
 * nothing there). */
enum hb_learn_host {
	HB_LEARN_HOST_NONE,
	HB_LEARN_HOST_FILE,
	HB_LEARN_HOST_DIR,
	HB_LEARN_HOST_LINK, /* a symlink: a policy path must not be one */
};

struct hb_learn_path {
	char *path; /* absolute, normalised as written (no symlink followed) */
	unsigned ops;
	unsigned count; /* calls naming it */
	/* Named after the interpreter opened the script: what it did
	 * before is its own start-up, the same in every sandbox. */
	bool after_start;
	enum hb_learn_host host;
	/* For a path written, created, removed or renamed: the nearest
	 * directory at or above its parent that exists on the host. */
	char *anchor;
};

/* A destination tried: an IPv4/IPv6 address and port, or a name asked of
 * DNS (port 0). */
struct hb_learn_dest {
	char addr[110]; /* numeric, the DNS name, or an AF_UNIX path */
	uint16_t port;
	bool udp;
	bool dns_query; /* addr is a name from a DNS query */
	bool unix_path; /* addr is an AF_UNIX socket path */
	unsigned count;
	/* Set after the run for a name: the IPv4 addresses the host's
	 * resolver gives it now, space-separated ("" if none). */
	char resolved[128];
};

struct hb_learn_peaks {
	unsigned long long wall_ms, cpu_ms;
	unsigned long long memory_kb;  /* resident, all processes together */
	unsigned long long processes;  /* at once */
	unsigned long long open_files; /* in one process */
};

enum hb_learn_end {
	HB_LEARN_EXITED,
	HB_LEARN_SIGNALED,
	HB_LEARN_TIMED_OUT,
};

/* Everything one learning run saw, and what learn_policy.c needs to judge
 * it; filled by hb_learn_run() and freed by hb_learn_obs_free(). */
struct hb_learn_obs {
	char *base;	   /* the base policy, absolute */
	char *script;	   /* absolute */
	char *interpreter; /* the base's */
	bool network;	   /* learned with --network */
	struct hb_limits base_limits;
	bool base_default_deny;
	struct hb_strv base_allow; /* the base's syscall allow-list */
	/* Paths the sandbox has anyway: the interpreter's root, /proc,
	 * /dev, the skeleton /etc files. */
	struct hb_strv implicit;
	/* Never granted whole: /, /etc, /home, /root, every home dir. */
	struct hb_strv forbidden;
	struct hb_learn_path *paths;
	size_t n_paths;
	size_t paths_dropped; /* past HB_LEARN_MAX_PATHS */
	size_t unprintable;   /* names with a control byte: not kept */
	bool started;	      /* the interpreter has opened the script */
	/* Processes (pids on the host) that executed a program other than
	 * the interpreter: what they and their children touch afterwards is
	 * that program's, which no policy can bring in, not the job's. */
	pid_t foreign[64];
	size_t n_foreign;
	struct hb_learn_dest *dests;
	size_t n_dests;
	/* Calls made that the base does not allow, by number. */
	bool beyond[HB_SYSCALL_NR_END];
	struct hb_learn_peaks peaks;
	enum hb_learn_end end;
	int status; /* exit code or signal */
	unsigned long long notifications;
};

#define HB_LEARN_MAX_PATHS 8192
#define HB_LEARN_MAX_DESTS 256

void hb_learn_obs_free(struct hb_learn_obs *o);
/* No byte below 0x20 nor 0x7f: s can go into a policy line or onto a
 * terminal as it is. */
bool hb_learn_printable(const char *s);
/* Record op on path (absolute) once more; a path that is not
 * hb_learn_printable() is only counted (o->unprintable). */
int hb_learn_obs_add_path(struct hb_learn_obs *o, const char *path,
			  unsigned op);
/* Record a destination; port 0 and dns_query for a DNS name. */
int hb_learn_obs_add_dest(struct hb_learn_obs *o, const char *addr,
			  uint16_t port, bool udp, bool dns_query,
			  bool unix_path);
/* Did the job end the way a job that worked does? */
bool hb_learn_obs_ok(const struct hb_learn_obs *o);

/* One line of the written policy's paths. */
struct hb_learn_grant {
	char *path;
	bool rw;
	char why[320]; /* the comment above it */
};

/* Something seen and not granted, and why. */
struct hb_learn_omit {
	char *what;
	char why[320];
};

/* What the observations come to: the grants and what is left out. */
struct hb_learn_result {
	struct hb_learn_grant *grants;
	size_t n_grants;
	struct hb_learn_omit *omits;
	size_t n_omits;
	size_t implicit_used;	/* paths the sandbox has anyway */
	struct hb_strv groups;	/* syscall groups to add */
	struct hb_strv domains; /* allowed_domains */
	unsigned ports[64];	/* allowed_ports */
	size_t n_ports;
	struct hb_limits limits; /* learned, with headroom */
};

/* The pure part: observations into grants and omissions. */
int hb_learn_decide(const struct hb_learn_obs *o, struct hb_learn_result *r);
void hb_learn_result_free(struct hb_learn_result *r);
/* The policy text: extends the base, every line with the comment saying
 * why. */
void hb_learn_policy_write(const struct hb_learn_obs *o,
			   const struct hb_learn_result *r, FILE *out);
/* The report, as text or JSON. */
void hb_learn_report(const struct hb_learn_obs *o,
		     const struct hb_learn_result *r, const char *policy_file,
		     bool json, FILE *out);

/* The name a DNS query in q (n bytes, as a job sends it) asks for,
 * lower case, into name; false for anything but a well-formed query of
 * one question. */
bool hb_learn_dns_name(const unsigned char *q, size_t n, char *name,
		       size_t size);

/* The NUL-terminated string at addr in the memory mem is open on (a
 * /proc/PID/mem) into buf (PATH_MAX bytes): -EFAULT if unreadable,
 * -ENAMETOOLONG if it does not end within PATH_MAX - 1 bytes. */
int hb_learn_read_str(int mem, unsigned long long addr, char *buf);

/* The command line of hivebox learn. */
struct hb_learn_cli {
	const char *policy; /* NULL: strict.ini, found as learn.c says */
	const char *output;
	const char *config; /* hivebox.conf, for --network's address pool */
	bool network;
	bool json;
	bool help;
	const char *script;
	char **args;
	size_t n_args;
};

int hb_learn_cli_parse(struct hb_learn_cli *c, int argc, char **argv,
		       struct hb_diag *diag);
void hb_learn_usage(FILE *out);
/* The base policy's path when none is given: strict.ini from
 * /etc/hivebox/policies, the installed share directory, or the source
 * tree next to the binary.  -ENOENT if none exists. */
int hb_learn_default_base(char **ret);

/* Before anything runs: root, -o in a directory only root can change
 * (reached through no symlink), the base found when none is named (into
 * *ret_base). */
int hb_learn_prepare(const struct hb_learn_cli *c, char **ret_base,
		     struct hb_diag *diag);
/* The policy into a temporary file of an unguessable name in output's
 * directory (opened once, as hb_learn_prepare() checks it), loaded from
 * there, and only then renamed over output: a policy that would not load
 * is an error that names its line, and leaves output as it was. */
int hb_learn_write_policy(const char *output, const struct hb_learn_obs *o,
			  const struct hb_learn_result *r,
			  struct hb_diag *diag);

/* Run the script once under observation.  diag names what could not be
 * set up; a job that fails is not an error. */
int hb_learn_run(const struct hb_learn_cli *c, const struct hb_policy *base,
		 const struct hb_config *config, struct hb_learn_obs *o,
		 struct hb_diag *diag);

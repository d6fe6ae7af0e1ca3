/* SPDX-License-Identifier: MIT */
/* hivebox's own settings, which belong to the machine rather than to a
 * policy: /etc/hivebox/hivebox.conf, an INI file read with inih.  Read
 * by root runs only: the unprivileged search policies in the directories
 * compiled in. */
#pragma once

#include "net_pool.h"
#include "util.h"

#include <stdbool.h>

#define HB_CONFIG_DEFAULT "/etc/hivebox/hivebox.conf"
#define HB_CONFIG_POOL_DEFAULT "10.251.0.0/16"
#define HB_CONFIG_STATE_DIR_DEFAULT "/run/hivebox/network"
/* The lock file whose bytes stand for the uids of host_uid = auto. */
#define HB_CONFIG_UID_LOCK_DEFAULT "/run/hivebox/uids.lock"
/* The compiled system-call filters (seccomp_cache.h). */
#define HB_CONFIG_FILTER_CACHE_DEFAULT "/var/cache/hivebox/filters"
/* One NFLOG group per pool index, from this number up: a pool of at most
 * 2^14 subnets (a /16) stays within the 16-bit group numbers. */
#define HB_CONFIG_POOL_MIN_PREFIXLEN 16

struct hb_config {
	char *path; /* the file read, or NULL when the default is absent */
	char *pool_text;
	struct hb_net_pool pool;
	char *state_dir;
	char *uid_lock;
	char *filter_cache; /* NULL: none, every run compiles its filter */
	/* [policies]: where bare policy names are searched (policy.h);
	 * NULL: the directory compiled in. */
	char *policy_system_dir;
	char *policy_shipped_dir;
};

/* Load path, or HB_CONFIG_DEFAULT when path is NULL; the default may be
 * missing (built-in values then), a named file may not.  Errors name the
 * file and line. */
int hb_config_load(struct hb_config *c, const char *path, struct hb_diag *diag);

struct hb_policy_dirs; /* policy.h */

/* Where every path that loads a policy (a run, policy show|explain|lint
 * and the policy a lint extends, check, doctor) searches a bare name:
 * as root, hivebox.conf (path; NULL: HB_CONFIG_DEFAULT) is loaded into c
 * and its [policies] directories, where it names them, replace dirs'
 * (c must then outlive dirs' use of them); an unprivileged caller reads
 * no file and dirs keeps what it held (hb_policy_init: the compiled-in
 * ones). */
int hb_config_policy_dirs(struct hb_config *c, const char *path,
			  struct hb_policy_dirs *dirs, struct hb_diag *diag);
void hb_config_free(struct hb_config *c);

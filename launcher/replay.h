/* SPDX-License-Identifier: MIT */
/* hivebox replay: a recorded run found in the audit trail, checked, and
 * what running it again needs (replay.c).  main.c runs it. */
#pragma once

#include "audit.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

struct hb_replay {
	char exec_id[37];    /* the original's, whole */
	char *kind;	     /* "script" or "shell" */
	char *cwd;	     /* its start directory */
	char *script;	     /* its script's absolute path; NULL: shell */
	char *script_sha;    /* the script's SHA-256 as recorded */
	char *effective_sha; /* the canonical policy's, as recorded */
	struct hb_strv args; /* the script's arguments (sys.argv[1:]) */
	char *policy_text;   /* the snapshot, hashing to effective_sha */
	char *kept_script;   /* [audit] keep_scripts: its stored copy's
			       * name under the audit dir, or NULL */
};

/* The largest policy snapshot replay reads. */
#define HB_REPLAY_POLICY_MAX (1u << 20)

/* Find the run whose exec id starts with prefix in a's trail, and check
 * that it can be run again: it started and ended, and its policy
 * snapshot is there and hashes to what the start record says.  0, or
 * -errno with diag set to one line: -ENOENT no such run, -ENOTUNIQ the
 * prefix names more than one, -ESRCH no end record, -EBADMSG a snapshot
 * that does not match, -EINVAL a run that cannot be replayed. */
int hb_replay_find(struct hb_replay *rp, const struct hb_audit *a,
		   const char *prefix, struct hb_diag *diag);
void hb_replay_free(struct hb_replay *rp);

/* The original's outcome and the replay's, side by side, as the trail
 * holds them: reason, exit code, violations by kind, denied calls,
 * blocked destinations, wall and CPU time. */
int hb_replay_compare(const struct hb_audit *a, const char *original,
		      const char *replay, FILE *out);

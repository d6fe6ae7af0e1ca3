/* SPDX-License-Identifier: MIT */
/* The audit trail: two JSON Lines files, execution_audit.log and
 * security_events.log, each record chained to the one before it by
 * SHA-256 and, where a key exists, signed with HMAC-SHA-256.  This is the
 * one way to record an execution or a security event. */
#pragma once

#include "util.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#define HB_AUDIT_DEFAULT_DIR "/var/log/hivebox"
#define HB_AUDIT_DEFAULT_KEY "/etc/hivebox/audit.key"
#define HB_AUDIT_EXEC_LOG "execution_audit.log"
#define HB_AUDIT_SECURITY_LOG "security_events.log"
#define HB_AUDIT_KEY_LEN 32	   /* crypto_auth_hmacsha256_KEYBYTES */
#define HB_SHA256_HEX 65	   /* 64 hex digits and a NUL */
#define HB_AUDIT_ROTATED_DIGITS 12 /* name.NNNNNNNNNNNN */
/* The prev_hash of a chain's first record. */
#define HB_AUDIT_GENESIS                                                       \
	"0000000000000000000000000000000000000000000000000000000000000000"
/* A longer line is not a record: readers stop looking for its end. */
#define HB_AUDIT_MAX_LINE (16u << 20)
/* Every JSON text hivebox writes: one line, '/' left unescaped. */
#define HB_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

enum hb_log {
	HB_LOG_EXEC,
	HB_LOG_SECURITY,
	HB_LOG_MAX,
};

struct hb_audit {
	int dirfd;
	char *dir;
	unsigned char key[HB_AUDIT_KEY_LEN];
	bool have_key;
	bool append_only; /* new logs get the append-only inode flag */
};

/* The default directory: /var/log/hivebox for root, else
 * $XDG_STATE_HOME/hivebox or ~/.local/state/hivebox. */
int hb_audit_default_dir(char **ret);

/* Open (and create) dir, refusing a symlink; load the key if key_file is
 * readable.  A missing key file means a plain hash chain, unless
 * key_required (the policy named it). */
enum {
	HB_AUDIT_CREATE = 1 << 0,	/* make the directory if missing */
	HB_AUDIT_KEY_REQUIRED = 1 << 1, /* the key file must be there */
	HB_AUDIT_APPEND_ONLY = 1 << 2,	/* chattr +a new logs (root only) */
};
int hb_audit_open(struct hb_audit *a, const char *dir, const char *key_file,
		  unsigned flags, struct hb_diag *diag);
void hb_audit_close(struct hb_audit *a);

/* Append one record: seq, time, prev_hash, hash and hmac are added here,
 * under an exclusive lock, then written, fsynced and anchored in the
 * head file.  rec is consumed. */
int hb_audit_append(struct hb_audit *a, enum hb_log log, json_object *rec,
		    char ret_hash[HB_SHA256_HEX]);

/* The line for rec given the previous record's seq and hash: pure, for
 * tests and for append.  Every string of rec, and every member name, is
 * written as hb_escape_bytes() with HB_ESCAPE_BACKSLASH has it, so the
 * line is printable ASCII and names the bytes exactly.  Returns a
 * malloc'd string ending in '\n', or NULL. */
char *hb_audit_encode(json_object *rec, unsigned long long seq,
		      const char *prev_hash, const unsigned char *key,
		      char ret_hash[HB_SHA256_HEX]);

/* SHA-256 of a buffer or a file, as lower-case hex. */
void hb_sha256_hex(const void *data, size_t len, char out[HB_SHA256_HEX]);
void hb_hmac_sha256_hex(const unsigned char *key, const void *data, size_t len,
			char out[HB_SHA256_HEX]);
int hb_sha256_file(const char *path, char out[HB_SHA256_HEX]);
/* SHA-256 of what fd holds, read from offset 0 with pread(2) whatever
 * fd's offset; -EFBIG past max bytes. */
int hb_sha256_fd(int fd, unsigned long long max, char out[HB_SHA256_HEX]);

/* A random UUID (version 4). */
int hb_uuid(char out[37]);

/* Store text once under dir/policies/<sha256>.ini. */
int hb_audit_store_policy(struct hb_audit *a, const char *text,
			  char ret_sha[HB_SHA256_HEX]);

/* Check one log (and the files it was rotated from); print a report to
 * out.  Returns 0 if intact, 1 if a record is bad, -errno on error. */
int hb_audit_verify(struct hb_audit *a, enum hb_log log, FILE *out);

/* Start a new file whose first record names the last hash of the old. */
int hb_audit_rotate(struct hb_audit *a, enum hb_log log);

/* Create the key file (0600) if it does not exist. */
int hb_audit_init_key(const char *key_file, struct hb_diag *diag);

const char *hb_log_name(enum hb_log log);

/* A copy of v whose every string and member name is as
 * hb_escape_bytes(flags) has it; what needs no change is shared, not
 * copied.  0, or -ENOMEM. */
int hb_json_escape(json_object *v, unsigned flags, json_object **ret);

/* o's member key if it is a string, else NULL. */
const char *hb_json_str(json_object *o, const char *key);

/* UTC, ISO 8601, milliseconds: "2026-11-28T01:02:03.456Z". */
void hb_audit_now_iso(char out[32]);

/* The rotated files of name (name.NNNNNNNNNNNN), oldest first. */
int hb_audit_rotated_files(const struct hb_audit *a, const char *name,
			   struct hb_strv *out);

/* Shared by append and rotate: the last record's seq and hash of an open
 * log (0 and the genesis hash for an empty one), and the head anchor. */
int hb_audit_tail(int fd, unsigned long long *ret_seq,
		  char ret_hash[HB_SHA256_HEX]);
int hb_audit_write_head(struct hb_audit *a, const char *name,
			unsigned long long seq, const char *hash);
/* The head's HMAC, written by append and checked by verify. */
void hb_audit_head_hmac(const unsigned char *key, unsigned long long seq,
			const char *hash, char out[HB_SHA256_HEX]);
/* Set or clear a log's append-only inode flag; returns whether it was
 * set before (false also where the file system has no such flag). */
bool hb_audit_set_append_only(int fd, bool on);

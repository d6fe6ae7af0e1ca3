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

/* The file in an audit directory that says whether its trail is signed,
 * and with which key (audit_key.c, hivebox-audit(5) KEY). */
#define HB_AUDIT_BINDING "signing"

enum hb_binding {
	HB_BIND_NONE,	  /* no binding file: an unsigned trail, by default */
	HB_BIND_UNSIGNED, /* `audit init --unsigned`: unsigned on purpose */
	HB_BIND_KEY,	  /* signed with the key the file names */
};

struct hb_forwarder; /* forward.h */

struct hb_audit {
	int dirfd;
	/* [audit] forward: each record appended also goes there; NULL:
	 * nowhere.  Not owned: hb_audit_close() leaves it. */
	struct hb_forwarder *forward;
	char *dir;
	unsigned char key[HB_AUDIT_KEY_LEN];
	bool have_key;
	bool append_only; /* new logs get the append-only inode flag */
	/* What the directory's binding says (HB_AUDIT_BOUND). */
	enum hb_binding binding;
	char *key_file;			   /* the key it names */
	char key_id[HB_SHA256_HEX];	   /* that key's fingerprint */
	char binding_mac[HB_SHA256_HEX];   /* its HMAC over what it says */
	unsigned long long signed_from[2]; /* later seqs carry an HMAC */
	unsigned long long binding_ino;	   /* 0: none; checked under lock */
	int key_errno;	    /* a reader without the bound key: why */
	bool binding_bad;   /* its HMAC does not match the key */
	bool warn_unsigned; /* root writes to a trail with no binding */
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
	/* The key is the one the directory's binding names (key_file, if
	 * given, must be that key): hivebox's runs and verbs.  Without it
	 * key_file is loaded as it is (tests, a trail with no binding). */
	HB_AUDIT_BOUND = 1 << 3,
	/* A writer: refuse what would mix signed and unsigned records. */
	HB_AUDIT_WRITER = 1 << 4,
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

/* keep_scripts: the script's bytes, read from fd (from offset 0, at
 * most max), stored once under dir/scripts/<sha256>.py (0640, written
 * whole then renamed); their hash in ret_sha.  -EFBIG past max. */
int hb_audit_store_script(struct hb_audit *a, int fd, unsigned long long max,
			  char ret_sha[HB_SHA256_HEX]);

/* Check one log (and the files it was rotated from); print a report to
 * out.  Returns 0 if intact, 1 if a record is bad, -errno on error. */
int hb_audit_verify(struct hb_audit *a, enum hb_log log, FILE *out);

/* Start a new file whose first record names the last hash of the old. */
int hb_audit_rotate(struct hb_audit *a, enum hb_log log);

/* Create the key file (0600) if it does not exist. */
int hb_audit_init_key(const char *key_file, struct hb_diag *diag);

/* Load a key file of exactly HB_AUDIT_KEY_LEN bytes into a->key.  A
 * missing or unreadable file is 0 without a key unless required. */
int hb_audit_load_key(struct hb_audit *a, const char *key_file, bool required,
		      struct hb_diag *diag);

/* The key of a's directory, by its binding file (audit_key.c). */
int hb_audit_find_key(struct hb_audit *a, const char *key_file, unsigned flags,
		      struct hb_diag *diag);
/* audit init: bind key_file (created if missing) to a's directory, or
 * declare the trail unsigned.  0 bound now, 1 already so, or -errno with
 * diag set.  Records after each log's current last seq must be signed. */
int hb_audit_bind(struct hb_audit *a, const char *key_file, bool unsigned_,
		  struct hb_diag *diag);
/* Under a log's lock, before an append: -ESTALE if the binding changed
 * since a was opened (audit init ran meanwhile), so that no record goes
 * out unsigned into a trail that has just been signed. */
int hb_audit_binding_current(const struct hb_audit *a);
/* The fingerprint of a key: HMAC-SHA-256 of a fixed text. */
void hb_audit_key_id(const unsigned char *key, char out[HB_SHA256_HEX]);
/* The binding's HMAC: over the key file's path and the signed_from seqs. */
void hb_audit_binding_hmac(const unsigned char *key, const char *key_file,
			   const unsigned long long from[2],
			   char out[HB_SHA256_HEX]);
/* Must a record of log with this seq carry an HMAC? */
bool hb_audit_must_sign(const struct hb_audit *a, enum hb_log log,
			unsigned long long seq);

const char *hb_log_name(enum hb_log log);

/* A copy of v whose every string and member name is as
 * hb_escape_bytes(flags) has it; what needs no change is shared, not
 * copied.  0, or -ENOMEM. */
int hb_json_escape(json_object *v, unsigned flags, json_object **ret);

/* o's member key if it is a string, else NULL (also for no o). */
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
/* A log opened for appending (created if missing), its lock held. */
int hb_audit_open_locked(struct hb_audit *a, const char *name);
/* The head's HMAC, written by append and checked by verify. */
void hb_audit_head_hmac(const unsigned char *key, unsigned long long seq,
			const char *hash, char out[HB_SHA256_HEX]);
/* Set or clear a log's append-only inode flag; returns whether it was
 * set before (false also where the file system has no such flag). */
bool hb_audit_set_append_only(int fd, bool on);

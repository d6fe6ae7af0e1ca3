/* SPDX-License-Identifier: MIT */
/* Shared by the audit tests (audit_helpers.c).  Every suite runs with
 * audit_setup and audit_teardown; what a helper returns lives until the
 * teardown. */
#pragma once

#include "audit.h"
#include "audit_show.h"
#include "events.h"
#include "audit_record.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

#define PREV "1111111111111111111111111111111111111111111111111111111111111111"
#define LOG HB_AUDIT_EXEC_LOG
#define SEC HB_AUDIT_SECURITY_LOG
#define MAX_LINES 32

#define ID_A "aaaaaaaa-0000-4000-8000-00000000000a"
#define ID_B "bbbbbbbb-0000-4000-8000-00000000000b"
#define ID_C "cccccccc-0000-4000-8000-00000000000c"
#define ID_D "dddddddd-0000-4000-8000-00000000000d"
#define ID_E "eeeeeeee-0000-4000-8000-00000000000e"
#define STRICT "/etc/hivebox/strict.ini"
#define LOOSE "/etc/hivebox/loose.ini"

extern char *dir;    /* the test's own directory */
extern char *logdir; /* dir/log: the audit directory */
extern struct hb_audit audit;
extern unsigned char key[HB_AUDIT_KEY_LEN];
extern pid_t child; /* a stand-in for a running hivebox */

void *keep(void *p);
json_object *keep_json(json_object *o);
void audit_setup(void);
void audit_teardown(void);

/* Reference values, computed without the code under test. */
void ref_sha256(const void *data, size_t len, char out[HB_SHA256_HEX]);
void ref_hmac(const unsigned char *k, const void *data, size_t len,
	      char out[HB_SHA256_HEX]);
unsigned occurrences(const char *s, const char *needle);
char *covered(const char *line);
json_object *parse(const char *text);
json_object *member(json_object *o, const char *k);
const char *str_of(json_object *o, const char *k);
long long int_of(json_object *o, const char *k);
bool has(json_object *o, const char *k);

/* The audit directory and its logs. */
char *write_key(size_t len);
void open_log_flags(bool with_key, unsigned flags);
void open_log(bool with_key);
json_object *note(int n);
void append_notes(enum hb_log log, int first, int last,
		  char (*hashes)[HB_SHA256_HEX]);
size_t log_lines(const char *name, char **v);
void log_write(const char *name, char *const *v, size_t n, bool torn);
void log_append_raw(const char *name, const char *bytes);
bool exists(const char *name);
void remove_log_file(const char *name);
char *replaced(const char *line, const char *from, const char *to);
char *rehashed(const char *line);
int verify_log(enum hb_log log, char **report);
void expect_fail(const char *where, const char *why);
void three_records(bool with_key, char **v, char (*h)[HB_SHA256_HEX]);
const char *flag_word(const char *name);
void need_append_only(void);

/* A small trail for show and stats. */
struct run_rec {
	const char *id, *start, *script, *policy;
};

extern const struct run_rec run_a, run_b, run_c;

pid_t gone_pid(void);
void append_start(const struct run_rec *run, pid_t pid);
void append_end(const struct run_rec *run, const struct hb_result *res);
void append_event(const char *id, const char *kind, enum hb_event_class cls,
		  const char *msg, json_object *details);
void small_trail(void);
int stats(const struct hb_audit_query *q, char **out);
unsigned count_lines(const char *text);

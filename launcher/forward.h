/* SPDX-License-Identifier: MIT */
/* [audit] forward: each record the trail takes also goes out as one
 * structured message, to syslog (JSON after an "@cee: " cookie, on a
 * non-blocking datagram socket to /dev/log) or to the journal (fields in
 * its native protocol, on a non-blocking datagram socket to
 * /run/systemd/journal/socket).  It carries the record's seq, hash and
 * prev_hash, so that a collector can check a host's chain against the
 * heads it received.  Nothing here ever waits: a message the socket
 * cannot take at once is dropped and counted. */
#pragma once

#include "policy.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

/* "/dev/log" and "/run/systemd/journal/socket"; tests point them at
 * sockets of their own. */
extern const char *hb_forward_syslog_path;
extern const char *hb_forward_journal_path;
/* Room for one message; a longer one loses its details first. */
#define HB_FORWARD_MAX_MSG 8000

struct hb_forwarder {
	enum hb_forward_to to;
	int fd; /* the socket, -1 until connected */
	unsigned long sent, dropped;
};

/* Set f up for to; syslog and journal connect at once (a missing socket
 * is tried again at each message, each one that finds none counted as
 * dropped). */
void hb_forward_open(struct hb_forwarder *f, enum hb_forward_to to);
void hb_forward_close(struct hb_forwarder *f);

/* The message of one record, as the trail wrote it (line: its JSON,
 * seq, hash and all): its main fields, with log naming the file. */
json_object *hb_forward_message(const char *log, const char *line);
/* Its severity: a security record's own, "info" for the others. */
const char *hb_forward_severity(json_object *msg);
/* The datagram for syslog (RFC 3164, as glibc's syslog() writes it):
 * "<PRI>Mmm dd hh:mm:ss hivebox[pid]: @cee: {...}".  malloc'd. */
char *hb_forward_syslog_text(json_object *msg, time_t now, pid_t pid);

/* The datagram for the journal's native protocol: MESSAGE, PRIORITY,
 * SYSLOG_IDENTIFIER and the HIVEBOX_* fields, the record's JSON as
 * HIVEBOX_RECORD; a value with a newline in the length-prefixed binary
 * form.  malloc'd, its length in *ret_len (it may hold NULs). */
char *hb_forward_journal_text(json_object *msg, size_t *ret_len);

/* Send the record the trail just took; never waits, never fails. */
void hb_forward_record(struct hb_forwarder *f, const char *log,
		       const char *line);

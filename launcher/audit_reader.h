/* SPDX-License-Identifier: MIT */
/* The audit trail read back into one entry per run, for show and stats
 * (audit_reader.c). */
#pragma once

#include "audit_show.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

struct hb_audit_event {
	char *time, *kind, *severity, *message;
	json_object *details;
};

struct hb_audit_run {
	size_t order; /* first seen: the tie-break among equal times */
	char *exec_id, *start_time, *end_time, *script, *policy;
	char *reason, *signal_name, *setup_stage;
	bool has_start, has_end, has_exit, has_wall;
	/* The records themselves, kept when the query names one run
	 * (--exec), for show to print it in full. */
	json_object *start_rec, *end_rec;
	int exit_code, signal, pid;
	unsigned long long wall_ms;
	long long violations, alerts;	    /* the end record's counts */
	long long ev_violations, ev_alerts; /* counted from the events */
	struct hb_audit_event *ev;	    /* those --event lets through */
	size_t n_ev, cap_ev;
	const char *state; /* reason, or launcher_died, running, ... */
	char outcome[96];
};

struct hb_audit_trail {
	const struct hb_audit *a;
	const struct hb_audit_query *q;
	char *script;	    /* q->script as recorded, escaped */
	char since[32];	    /* --since as a UTC time comparable as text */
	json_object *index; /* exec_id -> index in runs; -1: filtered out */
	struct hb_audit_run *runs;
	size_t n, cap;
	unsigned long corrupt;
};

/* --since as text that sorts with the logs' times (UTC,
 * "2026-11-28T10:00:00"): today or yesterday (local midnight), Nd, Nh or
 * Nm (that long before now), a date, or a date and time with an optional
 * fraction (ignored) and Z or +hh:mm offset (applied).  -EINVAL if s is
 * none of those. */
#define HB_AUDIT_SINCE_FORMS                                                   \
	"today, yesterday, Nd, Nh, Nm (that long ago), YYYY-MM-DD, "           \
	"YYYY-MM-DDTHH:MM[:SS][.fff][Z|+hh:mm]"
int hb_audit_parse_since(const char *s, time_t now, char out[32]);

/* The security events' kinds (hivebox-audit(5)), NULL-terminated: an
 * --event outside it is a mistake, not a query that matches nothing. */
extern const char *const hb_audit_event_kinds[];
bool hb_audit_event_kind_known(const char *kind);

/* Both logs read and the runs that match, sorted by start time, in
 * *ret_v (which points into t; the caller frees the array, then t).
 * -ENOTUNIQ: the query's exec id is the prefix of more than one run. */
int hb_audit_trail_load(struct hb_audit_trail *t, const struct hb_audit *a,
			const struct hb_audit_query *q,
			struct hb_audit_run ***ret_v, size_t *ret_n);
void hb_audit_trail_free(struct hb_audit_trail *t);

/* s (or "-" for NULL) padded to width, every byte outside printable
 * ASCII printed as \xNN: hivebox writes none, but a log written before it
 * escaped its strings (or by hand) may hold any. */
void hb_audit_put_text(FILE *out, const char *s, int width);
/* The columns hb_audit_put_text() takes for s. */
int hb_audit_text_width(const char *s);
/* o as one line of JSON whose strings show bytes outside printable ASCII
 * as hb_audit_put_text() does.  0, or -ENOMEM. */
int hb_audit_put_json(FILE *out, json_object *o);

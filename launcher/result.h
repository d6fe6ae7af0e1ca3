/* SPDX-License-Identifier: MIT */
/* The machine-readable result: one JSON object per run, written to
 * --result FILE or --result-fd N, so that a script cannot forge its
 * outcome through its exit code. */
#pragma once

#include "supervisor.h"

#include <json-c/json.h>

/* Why no per-run cgroup bounds this run, in one sentence. */
const char *hb_cgroup_status(void);

/* The seven limits by name: plain values (the start record), or objects
 * {value, enforced_by} (the result). */
json_object *hb_limits_json(const struct hb_policy *p, bool with_how);

/* The result as a JSON object (the caller puts it), and as text (the
 * caller frees it). */
json_object *hb_result_object(const struct hb_result *r,
			      const struct hb_plan *plan);
char *hb_result_json(const struct hb_result *r, const struct hb_plan *plan);
/* Write that text and a newline: one serialisation for every
 * destination. */
int hb_result_write_fd(int fd, const char *text);
/* --result FILE: opened before the run (a regular file, no symlink),
 * written after it.  ret_created says whether this call created it. */
int hb_result_open_file(const char *path, bool *ret_created);
int hb_result_write_file(int fd, const char *text);

/* SPDX-License-Identifier: MIT */
/* hivebox learn's report: what was observed, granted and left out, as
 * text or as one JSON object.  Pure: it prints what it is given. */
#include "learn.h"

#include <json-c/json.h>
#include <string.h>

static const char *const op_names[] = {"read",	 "list",   "write", "create",
				       "remove", "rename", "exec"};

static void job_text(const struct hb_learn_obs *o, char *buf, size_t n)
{
	if (o->end == HB_LEARN_TIMED_OUT)
		snprintf(buf, n, "failed: timed out after %llu s",
			 o->base_limits.timeout_seconds);
	else if (o->end == HB_LEARN_SIGNALED)
		snprintf(buf, n, "failed: killed by signal %d (%s)", o->status,
			 strsignal(o->status));
	else if (o->status)
		snprintf(buf, n, "failed: exit status %d", o->status);
	else
		snprintf(buf, n, "succeeded: exit status 0");
}

static void report_text(const struct hb_learn_obs *o,
			const struct hb_learn_result *r, const char *policy,
			FILE *out)
{
	const struct hb_learn_peaks *p = &o->peaks;
	char job[128];

	job_text(o, job, sizeof(job));
	fprintf(out, "hivebox learn: %s under %s\n", o->script, o->base);
	fprintf(out, "job: %s%s\n", job,
		hb_learn_obs_ok(o) ? ""
				   : " (the policy holds what it did until "
				     "then)");
	fprintf(out, "policy: written to %s\n", policy);
	fprintf(out,
		"observed: %zu paths (%zu in every sandbox already), %zu "
		"destinations, %llu calls looked at\n",
		o->n_paths, r->implicit_used, o->n_dests, o->notifications);
	fprintf(out,
		"peaks: wall %llu ms, cpu %llu ms, memory %llu KiB, tasks "
		"(processes and threads) %llu, highest descriptor + 1 %llu\n",
		p->wall_ms, p->cpu_ms, p->memory_kb, p->processes,
		p->open_files);
	fputs("granted:\n", out);
	for (size_t i = 0; i < r->n_grants; i++)
		fprintf(out, "  %-10s %s  (%s)\n",
			r->grants[i].rw ? "read_write" : "read_only",
			r->grants[i].path, r->grants[i].why);
	fprintf(out, "  network: %s\n", r->domains.n ? "filtered" : "none");
	for (size_t i = 0; i < r->domains.n; i++)
		fprintf(out, "  allowed_domains %s\n", r->domains.v[i]);
	for (size_t i = 0; i < r->n_ports; i++)
		fprintf(out, "  allowed_ports %u\n", r->ports[i]);
	for (size_t i = 0; i < r->groups.n; i++)
		fprintf(out, "  syscalls %s\n", r->groups.v[i]);
	fprintf(out,
		"  limits: timeout_seconds %llu, cpu_seconds %llu, memory_mb "
		"%llu, max_processes %llu, max_open_files %llu\n",
		r->limits.timeout_seconds, r->limits.cpu_seconds,
		r->limits.memory_mb, r->limits.max_processes,
		r->limits.max_open_files);
	fprintf(out, "left out:%s\n", r->n_omits ? "" : " nothing");
	for (size_t i = 0; i < r->n_omits; i++)
		fprintf(out, "  %s: %s\n", r->omits[i].what, r->omits[i].why);
	if (o->paths_dropped)
		fprintf(out, "  %zu more paths were not kept (over %d)\n",
			o->paths_dropped, HB_LEARN_MAX_PATHS);
}

static json_object *ops_json(unsigned ops)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < ARRAY_SIZE(op_names); i++)
		if (ops & (1u << i))
			json_object_array_add(
				a, json_object_new_string(op_names[i]));
	return a;
}

static json_object *observed_json(const struct hb_learn_obs *o)
{
	json_object *obs = json_object_new_object();
	json_object *paths = json_object_new_array();
	json_object *dests = json_object_new_array();

	for (size_t i = 0; i < o->n_paths; i++) {
		json_object *p = json_object_new_object();
		json_object_object_add(
			p, "path", json_object_new_string(o->paths[i].path));
		json_object_object_add(p, "ops", ops_json(o->paths[i].ops));
		json_object_object_add(
			p, "count", json_object_new_int64(o->paths[i].count));
		json_object_array_add(paths, p);
	}
	for (size_t i = 0; i < o->n_dests; i++) {
		const struct hb_learn_dest *d = &o->dests[i];
		json_object *j = json_object_new_object();
		json_object_object_add(
			j, "kind",
			json_object_new_string(d->unix_path   ? "unix"
					       : d->dns_query ? "dns"
					       : d->udp	      ? "udp"
							      : "tcp"));
		json_object_object_add(j, "address",
				       json_object_new_string(d->addr));
		json_object_object_add(j, "port", json_object_new_int(d->port));
		json_object_object_add(j, "count",
				       json_object_new_int64(d->count));
		if (d->dns_query)
			json_object_object_add(
				j, "resolved",
				json_object_new_string(d->resolved));
		json_object_array_add(dests, j);
	}
	json_object_object_add(obs, "paths", paths);
	json_object_object_add(obs, "destinations", dests);
	json_object_object_add(
		obs, "notifications",
		json_object_new_int64((int64_t)o->notifications));
	return obs;
}

static json_object *strv_json(const struct hb_strv *s)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < s->n; i++)
		json_object_array_add(a, json_object_new_string(s->v[i]));
	return a;
}

static void limit_json(json_object *lim, enum hb_key key, unsigned long long v)
{
	json_object_object_add(lim, hb_key_name(key),
			       json_object_new_int64((int64_t)v));
}

static json_object *granted_json(const struct hb_learn_result *r)
{
	json_object *g = json_object_new_object();
	json_object *ro = json_object_new_array();
	json_object *rw = json_object_new_array();
	json_object *ports = json_object_new_array();
	json_object *lim = json_object_new_object();

	for (size_t i = 0; i < r->n_grants; i++) {
		json_object *p = json_object_new_object();
		json_object_object_add(
			p, "path", json_object_new_string(r->grants[i].path));
		json_object_object_add(
			p, "why", json_object_new_string(r->grants[i].why));
		json_object_array_add(r->grants[i].rw ? rw : ro, p);
	}
	for (size_t i = 0; i < r->n_ports; i++)
		json_object_array_add(ports,
				      json_object_new_int((int)r->ports[i]));
	json_object_object_add(g, "read_only", ro);
	json_object_object_add(g, "read_write", rw);
	json_object_object_add(
		g, "network_mode",
		json_object_new_string(r->domains.n ? "filtered" : "none"));
	json_object_object_add(g, "allowed_domains", strv_json(&r->domains));
	json_object_object_add(g, "allowed_ports", ports);
	json_object_object_add(g, "syscall_groups", strv_json(&r->groups));
	limit_json(lim, HB_K_TIMEOUT, r->limits.timeout_seconds);
	limit_json(lim, HB_K_CPU, r->limits.cpu_seconds);
	limit_json(lim, HB_K_MEMORY, r->limits.memory_mb);
	limit_json(lim, HB_K_FILE_SIZE, r->limits.file_size_mb);
	limit_json(lim, HB_K_MAX_PROCESSES, r->limits.max_processes);
	limit_json(lim, HB_K_MAX_OPEN_FILES, r->limits.max_open_files);
	limit_json(lim, HB_K_TMP_SIZE, r->limits.tmp_size_mb);
	json_object_object_add(g, "limits", lim);
	return g;
}

static json_object *job_json(const struct hb_learn_obs *o)
{
	json_object *j = json_object_new_object();
	const struct hb_learn_peaks *p = &o->peaks;
	json_object *pk = json_object_new_object();
	char text[128];

	job_text(o, text, sizeof(text));
	json_object_object_add(j, "ok",
			       json_object_new_boolean(hb_learn_obs_ok(o)));
	json_object_object_add(
		j, "end",
		json_object_new_string(o->end == HB_LEARN_EXITED ? "exited"
				       : o->end == HB_LEARN_SIGNALED
					       ? "signaled"
					       : "timeout"));
	json_object_object_add(j, "status", json_object_new_int(o->status));
	json_object_object_add(j, "summary", json_object_new_string(text));
	json_object_object_add(pk, "wall_ms",
			       json_object_new_int64((int64_t)p->wall_ms));
	json_object_object_add(pk, "cpu_ms",
			       json_object_new_int64((int64_t)p->cpu_ms));
	json_object_object_add(pk, "memory_kb",
			       json_object_new_int64((int64_t)p->memory_kb));
	json_object_object_add(pk, "processes",
			       json_object_new_int64((int64_t)p->processes));
	json_object_object_add(pk, "open_files",
			       json_object_new_int64((int64_t)p->open_files));
	json_object_object_add(j, "peaks", pk);
	return j;
}

static void report_json(const struct hb_learn_obs *o,
			const struct hb_learn_result *r, const char *policy,
			FILE *out)
{
	json_object *root = json_object_new_object();
	json_object *left = json_object_new_array();
	json_object *execs = json_object_new_array();

	for (size_t i = 0; i < r->n_omits; i++) {
		json_object *m = json_object_new_object();
		json_object_object_add(
			m, "what", json_object_new_string(r->omits[i].what));
		json_object_object_add(m, "why",
				       json_object_new_string(r->omits[i].why));
		json_object_array_add(left, m);
	}
	for (size_t i = 0; i < o->n_paths; i++)
		if (o->paths[i].ops & HB_LEARN_EXEC &&
		    strcmp(o->paths[i].path, o->interpreter) != 0)
			json_object_array_add(execs, json_object_new_string(
							     o->paths[i].path));
	json_object_object_add(root, "script",
			       json_object_new_string(o->script));
	json_object_object_add(root, "base", json_object_new_string(o->base));
	json_object_object_add(root, "policy", json_object_new_string(policy));
	json_object_object_add(root, "network_learned",
			       json_object_new_boolean(o->network));
	json_object_object_add(root, "job", job_json(o));
	json_object_object_add(root, "observed", observed_json(o));
	json_object_object_add(
		root, "implicit_paths",
		json_object_new_int64((int64_t)r->implicit_used));
	json_object_object_add(root, "granted", granted_json(r));
	json_object_object_add(root, "left_out", left);
	json_object_object_add(root, "executables_not_brought_in", execs);
	fprintf(out, "%s\n",
		json_object_to_json_string_ext(
			root, JSON_C_TO_STRING_PRETTY |
				      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

void hb_learn_report(const struct hb_learn_obs *o,
		     const struct hb_learn_result *r, const char *policy_file,
		     bool json, FILE *out)
{
	if (json)
		report_json(o, r, policy_file, out);
	else
		report_text(o, r, policy_file, out);
}

/* SPDX-License-Identifier: MIT */
#include "audit_record.h"
#include "result.h"

#include <arpa/inet.h>
#include <pwd.h>
#include <string.h>

static char *effective_text(const struct hb_policy *p, bool canonical)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	if (canonical)
		hb_policy_canonical(p, f);
	else
		hb_policy_show(p, f);
	fclose(f);
	return text;
}

/* Both forms of the effective policy stored (or, with no trail, hashed):
 * the canonical one, whose hash is the policy's identity, and the
 * annotated one (each value with its origin) for whoever reads it. */
static int store_policy(struct hb_run_info *info, struct hb_audit *audit,
			const struct hb_policy *p)
{
	_cleanup_free_ char *canonical = effective_text(p, true);
	_cleanup_free_ char *annotated = effective_text(p, false);
	int r;

	if (!canonical || !annotated)
		return -ENOMEM;
	if (!audit) {
		hb_sha256_hex(canonical, strlen(canonical),
			      info->effective_sha);
		hb_sha256_hex(annotated, strlen(annotated),
			      info->annotated_sha);
		return 0;
	}
	r = hb_audit_store_policy(audit, canonical, info->effective_sha);
	if (r == 0)
		r = hb_audit_store_policy(audit, annotated,
					  info->annotated_sha);
	return r;
}

/* The start record is the one reader of the policy itself (through
 * plan->policy) once the plan is built: it stores the policy's canonical
 * form, which only the policy can print.  Everything else comes from the
 * plan's own copies. */
int hb_audit_record_prepare(struct hb_run_info *info, struct hb_audit *audit,
			    const struct hb_plan *plan)
{
	int r;

	hb_audit_now_iso(info->start_time);
	/* The file the plan opened and the sandbox gets, never the name
	 * again: by now the name may lead elsewhere. */
	if (plan->shell)
		r = 0;
	/* keep_scripts: the hash recorded is that of the bytes stored. */
	else if (audit && plan->policy->audit_keep_scripts == HB_TRI_YES)
		r = hb_audit_store_script(audit, plan->script_fd,
					  HB_SCRIPT_MAX_BYTES,
					  info->script_sha);
	else
		r = hb_sha256_fd(plan->script_fd, HB_SCRIPT_MAX_BYTES,
				 info->script_sha);
	if (r < 0)
		return r;
	r = hb_sha256_file(plan->policy_path, info->policy_sha);
	if (r < 0)
		return r;
	return store_policy(info, audit, plan->policy);
}

static json_object *strv_json(char **v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static json_object *user_json(void)
{
	json_object *o = json_object_new_object();
	struct passwd *pw = getpwuid(getuid());

	json_object_object_add(o, "uid", json_object_new_int((int)getuid()));
	json_object_object_add(o, "euid", json_object_new_int((int)geteuid()));
	json_object_object_add(o, "name",
			       pw ? json_object_new_string(pw->pw_name) : NULL);
	return o;
}

static json_object *file_json(const char *path, const char *sha)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "sha256", json_object_new_string(sha));
	return o;
}

static void add_common(json_object *o, const char *type,
		       const struct hb_run_info *info)
{
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "exec_id",
			       json_object_new_string(info->exec_id));
}

static json_object *ports_json(const uint16_t *ports, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int(ports[i]));
	return a;
}

/* What the run may reach, with every name as resolved at start. */
static json_object *network_json(const struct hb_net_plan *net)
{
	json_object *o = json_object_new_object();
	json_object *dests;
	char a[INET_ADDRSTRLEN];

	json_object_object_add(
		o, "mode",
		json_object_new_string(net->filtered ? "filtered" : "none"));
	if (!net->filtered)
		return o;
	dests = json_object_new_object();
	for (size_t i = 0; i < net->n_names; i++) {
		const struct hb_net_name *n = &net->names[i];
		json_object *ips = json_object_new_array();
		for (size_t j = 0; j < n->n_ips; j++)
			json_object_array_add(
				ips,
				json_object_new_string(inet_ntop(
					AF_INET, &n->ips[j], a, sizeof(a))));
		json_object_object_add(dests, n->name, ips);
	}
	json_object_object_add(o, "allowed_domains", dests);
	json_object_object_add(o, "allowed_ports",
			       ports_json(net->ports, net->n_ports));
	json_object_object_add(o, "blocked_ports",
			       ports_json(net->blocked, net->n_blocked));
	json_object_object_add(o, "pool",
			       json_object_new_string(net->config->pool_text));
	dests = json_object_new_array();
	for (size_t i = 0; i < net->n_nameservers; i++)
		json_object_array_add(
			dests,
			json_object_new_string(inet_ntop(
				AF_INET, &net->nameservers[i], a, sizeof(a))));
	json_object_object_add(o, "nameservers", dests);
	return o;
}

json_object *hb_audit_record_start(const struct hb_run_info *info,
				   const struct hb_plan *plan)
{
	json_object *o = json_object_new_object();
	json_object *pol = file_json(plan->policy_path, info->policy_sha);

	add_common(o, "start", info);
	json_object_object_add(o, "start_time",
			       json_object_new_string(info->start_time));
	json_object_object_add(o, "user", user_json());
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(o, "cwd", json_object_new_string(plan->cwd));
	/* A shell session runs no script: its records say so. */
	json_object_object_add(
		o, "kind",
		json_object_new_string(plan->shell ? "shell" : "script"));
	json_object_object_add(
		o, "script",
		plan->shell ? NULL : file_json(plan->script, info->script_sha));
	json_object_object_add(pol, "effective_sha256",
			       json_object_new_string(info->effective_sha));
	json_object_object_add(pol, "annotated_sha256",
			       json_object_new_string(info->annotated_sha));
	json_object_object_add(o, "policy", pol);
	json_object_object_add(o, "argv",
			       strv_json(info->argv, (size_t)info->argc));
	json_object_object_add(o, "command",
			       strv_json(plan->argv.v, plan->argv.n));
	/* Only a replay's: the run it reproduces. */
	if (info->replay_of)
		json_object_object_add(o, "replay_of",
				       json_object_new_string(info->replay_of));
	json_object_object_add(o, "host_uid",
			       json_object_new_int64((int64_t)plan->host_uid));
	json_object_object_add(o, "limits",
			       hb_limits_json(&plan->limits, false));
	json_object_object_add(o, "network", network_json(&plan->net));
	return o;
}

static json_object *string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

json_object *hb_audit_record_end(const struct hb_run_info *info,
				 const struct hb_plan *plan,
				 const struct hb_result *res)
{
	json_object *o = json_object_new_object();
	json_object *r = hb_result_object(res, plan);
	char end[32];

	hb_audit_now_iso(end);
	add_common(o, "end", info);
	json_object_object_add(o, "start_time",
			       json_object_new_string(info->start_time));
	json_object_object_add(o, "end_time", json_object_new_string(end));
	json_object_object_add(
		o, "kind",
		json_object_new_string(plan->shell ? "shell" : "script"));
	json_object_object_add(o, "script", string_or_null(plan->script));
	json_object_object_add(o, "policy", string_or_null(plan->policy_path));
	/* The limits and paths are in the start record already. */
	json_object_object_del(r, "limits");
	json_object_object_del(r, "policy");
	json_object_object_del(r, "script");
	json_object_object_del(r, "exec_id");
	json_object_object_add(o, "result", r);
	json_object_object_add(o, "violations",
			       json_object_new_int((int)res->violations));
	json_object_object_add(o, "alerts",
			       json_object_new_int((int)res->alerts));
	return o;
}

json_object *hb_audit_record_refused(const struct hb_run_info *info,
				     const struct hb_plan *plan,
				     const struct hb_result *res)
{
	json_object *o = hb_audit_record_end(info, plan, res);

	/* No start record says who asked, from where and how. */
	json_object_object_add(o, "user", user_json());
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(o, "cwd", string_or_null(plan->cwd));
	json_object_object_add(o, "argv",
			       strv_json(info->argv, (size_t)info->argc));
	return o;
}

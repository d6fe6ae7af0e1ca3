/* SPDX-License-Identifier: MIT */
#include "replay.h"
#include "audit_reader.h"
#include "plan.h"

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

static int dup_str(char **dst, const char *s)
{
	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

/* policies/SHA.ini, read whole and hashed: a replay never runs under a
 * snapshot that is not the one the start record names. */
static int read_snapshot(struct hb_replay *rp, const struct hb_audit *a,
			 struct hb_diag *diag)
{
	char name[128], sha[HB_SHA256_HEX];
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	ssize_t n;

	snprintf(name, sizeof(name), "policies/%s.ini", rp->effective_sha);
	fd = openat(a->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		hb_diag_set(diag, a->dir, 0,
			    "cannot replay %s: its policy snapshot %s: %s",
			    rp->exec_id, name,
			    e == ENOENT ? "missing" : strerror(e));
		return -e;
	}
	buf = malloc(HB_REPLAY_POLICY_MAX + 2);
	if (!buf)
		return -ENOMEM;
	while ((n = read(fd, buf + len, HB_REPLAY_POLICY_MAX + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		len += (size_t)n;
		if (len > HB_REPLAY_POLICY_MAX)
			break;
	}
	buf[len] = '\0';
	hb_sha256_hex(buf, len, sha);
	if (len > HB_REPLAY_POLICY_MAX || strlen(buf) != len ||
	    strcmp(sha, rp->effective_sha) != 0) {
		hb_diag_set(diag, a->dir, 0,
			    "cannot replay %s: its policy snapshot %s hashes "
			    "to %s, not to the recorded %s; it was altered",
			    rp->exec_id, name, sha, rp->effective_sha);
		return -EBADMSG;
	}
	rp->policy_text = TAKE_PTR(buf);
	return 0;
}

/* What the start record says of the run, checked for what a replay
 * needs: a start directory, a script and its arguments, the snapshot's
 * hash.  The arguments are the command's after interpreter and script
 * (a shell's after "-i -c CODE"): the policy makes the rest. */
static int from_start(struct hb_replay *rp, json_object *start,
		      struct hb_diag *diag, const char *dir)
{
	json_object *script = NULL, *policy = NULL, *command = NULL;
	size_t first, n;
	int r;

	json_object_object_get_ex(start, "script", &script);
	json_object_object_get_ex(start, "policy", &policy);
	json_object_object_get_ex(start, "command", &command);
	r = dup_str(&rp->kind, hb_json_str(start, "kind") ?: "script");
	if (r == 0)
		r = dup_str(&rp->cwd, hb_json_str(start, "cwd"));
	if (r == 0)
		r = dup_str(&rp->script, hb_json_str(script, "path"));
	if (r == 0)
		r = dup_str(&rp->script_sha, hb_json_str(script, "sha256"));
	if (r == 0)
		r = dup_str(&rp->effective_sha,
			    hb_json_str(policy, "effective_sha256"));
	if (r < 0)
		return r;
	first = strcmp(rp->kind, "shell") == 0 ? 4 : 2;
	/* A replay --shell session: its script comes after the code. */
	if (first == 4 && json_object_array_length(command) >= 5 &&
	    strcmp(json_object_get_string(json_object_array_get_idx(command, 3))
			   ?: "",
		   HB_REPLAY_SHELL_CODE) == 0) {
		free(rp->script);
		rp->script = strdup(json_object_get_string(
			json_object_array_get_idx(command, 4)));
		if (!rp->script)
			return -ENOMEM;
		first = 5;
	}
	if (!rp->cwd || rp->cwd[0] != '/' || !rp->effective_sha ||
	    strlen(rp->effective_sha) != HB_SHA256_HEX - 1 ||
	    strspn(rp->effective_sha, "0123456789abcdef") !=
		    HB_SHA256_HEX - 1 ||
	    (strcmp(rp->kind, "script") == 0 &&
	     (!rp->script || !rp->script_sha)) ||
	    !json_object_is_type(command, json_type_array) ||
	    json_object_array_length(command) < first) {
		hb_diag_set(
			diag, dir, 0,
			"cannot replay %s: its start record lacks the "
			"cwd, script, command or policy hash a replay needs",
			rp->exec_id);
		return -EINVAL;
	}
	n = json_object_array_length(command);
	for (size_t i = first; i < n; i++) {
		const char *arg = json_object_get_string(
			json_object_array_get_idx(command, i));
		r = hb_strv_push(&rp->args, arg ?: "");
		if (r < 0)
			return r;
	}
	return 0;
}

/* keep_scripts: scripts/SHA.py, if the run stored it. */
static int find_kept_script(struct hb_replay *rp, const struct hb_audit *a)
{
	char name[128];

	snprintf(name, sizeof(name), "scripts/%s.py", rp->script_sha);
	if (faccessat(a->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return dup_str(&rp->kept_script, name);
}

int hb_replay_find(struct hb_replay *rp, const struct hb_audit *a,
		   const char *prefix, struct hb_diag *diag)
{
	struct hb_audit_query q = {.exec_id = prefix};
	struct hb_audit_trail t;
	struct hb_audit_run **v = NULL;
	struct hb_audit_run *run;
	size_t n = 0;
	int r;

	memset(rp, 0, sizeof(*rp));
	r = hb_audit_trail_load(&t, a, &q, &v, &n);
	if (r == -ENOTUNIQ)
		hb_diag_set(diag, a->dir, 0,
			    "exec id '%s' is ambiguous: more than one run "
			    "starts with it",
			    prefix);
	else if (r < 0)
		hb_diag_set(diag, a->dir, 0, "cannot read the audit trail: %s",
			    strerror(-r));
	else if (n == 0) {
		hb_diag_set(diag, a->dir, 0, "no run with exec id '%s'",
			    prefix);
		r = -ENOENT;
	}
	if (r < 0)
		goto out;
	run = v[0];
	snprintf(rp->exec_id, sizeof(rp->exec_id), "%s", run->exec_id);
	if (!run->has_start || !run->start_rec) {
		hb_diag_set(diag, a->dir, 0,
			    "cannot replay %s: it was refused before it "
			    "started (%s), so nothing ran",
			    rp->exec_id, run->state ?: "no start record");
		r = -EINVAL;
	} else if (!run->has_end || !run->end_rec) {
		hb_diag_set(diag, a->dir, 0,
			    "cannot replay %s: its start record has no end "
			    "record (%s); what it did is not known",
			    rp->exec_id,
			    strcmp(run->state ?: "", "running") == 0
				    ? "it is still running"
				    : "the launcher died");
		r = -ESRCH;
	}
	if (r == 0)
		r = from_start(rp, run->start_rec, diag, a->dir);
	if (r == 0)
		r = read_snapshot(rp, a, diag);
	if (r == 0 && rp->script_sha)
		r = find_kept_script(rp, a);
	if (r < 0 && !diag->msg[0])
		hb_diag_set(diag, a->dir, 0, "cannot replay %s: %s",
			    rp->exec_id, strerror(-r));
out:
	free(v);
	hb_audit_trail_free(&t);
	if (r < 0)
		hb_replay_free(rp);
	return r;
}

void hb_replay_free(struct hb_replay *rp)
{
	free(rp->kind);
	free(rp->cwd);
	free(rp->script);
	free(rp->script_sha);
	free(rp->effective_sha);
	free(rp->policy_text);
	free(rp->kept_script);
	hb_strv_clear(&rp->args);
	memset(rp, 0, sizeof(*rp));
}

/* One column of the comparison: a run's outcome as text. */
struct outcome {
	char id[40], reason[64], exit_code[32], violations[256];
	char denied[256], blocked[256], wall[32], cpu[32];
};

/* ", NAME N" (or ", NAME" for n < 0) after what buf holds. */
static void append(char *buf, size_t size, const char *s, long long n)
{
	size_t len = strlen(buf);

	if (len + 1 >= size)
		return;
	if (n < 0)
		snprintf(buf + len, size - len, "%s%s", len ? ", " : "", s);
	else
		snprintf(buf + len, size - len, "%s%s %lld", len ? ", " : "", s,
			 n);
}

static void ms_text(char buf[32], json_object *res, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(res, key, &v) &&
	    json_object_is_type(v, json_type_int))
		snprintf(buf, 32, "%" PRId64 " ms", json_object_get_int64(v));
	else
		snprintf(buf, 32, "-");
}

/* The violations by kind, from the run's security events, and the
 * destinations its network_blocked events name. */
static void from_events(struct outcome *o, const struct hb_audit_run *run)
{
	json_object *kinds = json_object_new_object();
	json_object *v;

	for (size_t i = 0; kinds && i < run->n_ev; i++) {
		const struct hb_audit_event *e = &run->ev[i];
		const char *addr;
		char dest[64];
		int64_t k = 0;
		if (!e->kind || !e->severity ||
		    strcmp(e->severity, "violation") != 0)
			continue;
		if (json_object_object_get_ex(kinds, e->kind, &v))
			k = json_object_get_int64(v);
		json_object_object_add(kinds, e->kind,
				       json_object_new_int64(k + 1));
		addr = hb_json_str(e->details, "address");
		if (strcmp(e->kind, "network_blocked") != 0 || !addr)
			continue;
		if (json_object_object_get_ex(e->details, "port", &v) &&
		    json_object_is_type(v, json_type_int))
			snprintf(dest, sizeof(dest), "%s:%d", addr,
				 json_object_get_int(v));
		else
			snprintf(dest, sizeof(dest), "%s", addr);
		if (!strstr(o->blocked, dest))
			append(o->blocked, sizeof(o->blocked), dest, -1);
	}
	json_object_object_foreach(kinds, kind, count)
	{
		append(o->violations, sizeof(o->violations), kind,
		       (long long)json_object_get_int64(count));
	}
	json_object_put(kinds);
	if (!o->violations[0])
		snprintf(o->violations, sizeof(o->violations), "none");
	if (!o->blocked[0])
		snprintf(o->blocked, sizeof(o->blocked), "none");
}

static int load_outcome(struct outcome *o, const struct hb_audit *a,
			const char *exec_id)
{
	struct hb_audit_query q = {.exec_id = exec_id};
	struct hb_audit_trail t;
	struct hb_audit_run **v = NULL;
	json_object *res = NULL, *denied = NULL;
	size_t n = 0;
	int r = hb_audit_trail_load(&t, a, &q, &v, &n);

	memset(o, 0, sizeof(*o));
	if (r == 0 && n == 0)
		r = -ENOENT;
	if (r < 0)
		goto out;
	snprintf(o->id, sizeof(o->id), "%.36s", v[0]->exec_id);
	if (v[0]->end_rec)
		json_object_object_get_ex(v[0]->end_rec, "result", &res);
	snprintf(o->reason, sizeof(o->reason), "%s",
		 hb_json_str(res, "reason") ?: v[0]->state ?: "-");
	if (v[0]->has_exit)
		snprintf(o->exit_code, sizeof(o->exit_code), "%d",
			 v[0]->exit_code);
	else if (v[0]->signal_name)
		snprintf(o->exit_code, sizeof(o->exit_code), "%s",
			 v[0]->signal_name);
	else
		snprintf(o->exit_code, sizeof(o->exit_code), "-");
	from_events(o, v[0]);
	if (res &&
	    json_object_object_get_ex(res, "denied_syscall_counts", &denied)) {
		json_object_object_foreach(denied, name, count)
		{
			append(o->denied, sizeof(o->denied), name,
			       (long long)json_object_get_int64(count));
		}
	}
	if (!o->denied[0])
		snprintf(o->denied, sizeof(o->denied), "none");
	ms_text(o->wall, res, "wall_ms");
	ms_text(o->cpu, res, "cpu_total_ms");
out:
	free(v);
	hb_audit_trail_free(&t);
	return r;
}

int hb_replay_compare(const struct hb_audit *a, const char *original,
		      const char *replay, FILE *out)
{
	struct outcome o, p;
	int r = load_outcome(&o, a, original);

	if (r == 0)
		r = load_outcome(&p, a, replay);
	if (r < 0)
		return r;
#define ROW(label, field)                                                      \
	fprintf(out, "%-14s %-38s %s\n", label, o.field, p.field)
	fprintf(out, "%-14s %-38s %s\n", "", "original", "replay");
	ROW("exec id", id);
	ROW("reason", reason);
	ROW("exit code", exit_code);
	ROW("violations", violations);
	ROW("denied calls", denied);
	ROW("blocked", blocked);
	ROW("wall time", wall);
	ROW("CPU time", cpu);
#undef ROW
	return fflush(out) == EOF || ferror(out) ? -EIO : 0;
}

/* SPDX-License-Identifier: MIT */
#include "result.h"
#include "seccomp_guard.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

const char *hb_reason_name(enum hb_reason reason)
{
	static const char *const names[] = {
		"exit",	       "signal",       "timeout",
		"cpu_limit",   "memory_limit", "file_size_limit",
		"setup_error", "refused",      "write_quota",
	};
	return reason < ARRAY_SIZE(names) ? names[reason] : "?";
}

/* Which limit, if any, a fatal signal stands for.  A wait status does not
 * say who sent the signal (si_code), and a script can send itself SIGXCPU
 * or SIGXFSZ: only what the kernel counted decides.  RLIMIT_CPU sends
 * SIGXCPU at the soft limit, SIGKILL at the hard one (if SIGXCPU was
 * caught or ignored), both counted on the process's CPUCLOCK_PROF.  A
 * write past RLIMIT_FSIZE sends SIGXFSZ; a sandbox that wrote less than
 * file_size_mb in all can have met it only at an offset or in a file
 * already past it, which are told as the signal they were. */
static enum hb_reason limit_of(const struct hb_result *r,
			       const struct hb_plan *plan)
{
	const unsigned long long mib = 1024 * 1024;
	bool cpu = r->interp_cpu_ms >= plan->limits.cpu_seconds * 1000;

	if ((r->signal == SIGXCPU || r->signal == SIGKILL) && cpu)
		return HB_REASON_CPU_LIMIT;
	if (r->signal == SIGXFSZ &&
	    r->written_bytes >= plan->limits.file_size_mb * mib)
		return HB_REASON_FILE_SIZE_LIMIT;
	return HB_REASON_SIGNAL;
}

void hb_result_classify(struct hb_result *r, int status,
			const struct hb_plan *plan)
{
	if (WIFEXITED(status)) {
		r->reason = HB_REASON_EXIT;
		r->exit_code = WEXITSTATUS(status);
		r->hivebox_exit = r->exit_code;
		return;
	}
	r->signal = WTERMSIG(status);
	r->hivebox_exit = HB_EXIT_SIGNAL + r->signal;
	r->reason = limit_of(r, plan);
}

void hb_result_timeout(struct hb_result *r, int signal)
{
	r->reason = HB_REASON_TIMEOUT;
	r->signal = signal;
	r->hivebox_exit = HB_EXIT_TIMEOUT;
}

void hb_result_memory_limit(struct hb_result *r)
{
	r->reason = HB_REASON_MEMORY_LIMIT;
	r->signal = SIGKILL;
	r->hivebox_exit = HB_EXIT_SIGNAL + SIGKILL;
}

void hb_result_cpu_limit(struct hb_result *r)
{
	r->reason = HB_REASON_CPU_LIMIT;
	r->signal = SIGKILL;
	r->hivebox_exit = HB_EXIT_SIGNAL + SIGKILL;
}

/* 128 + SIGKILL either way: a script that ended past its quota before
 * the supervisor read the kernel's events would have been killed, and
 * cron must not read its own exit status as a success. */
void hb_result_write_quota(struct hb_result *r, bool killed)
{
	r->reason = HB_REASON_WRITE_QUOTA;
	r->signal = killed ? SIGKILL : 0;
	r->hivebox_exit = HB_EXIT_SIGNAL + SIGKILL;
}

void hb_result_setup_error(struct hb_result *r, const struct hb_error *e,
			   bool exec_failed)
{
	r->reason = HB_REASON_SETUP_ERROR;
	r->setup = *e;
	r->exec_failed = exec_failed;
	r->hivebox_exit = !exec_failed	     ? HB_EXIT_FAILED
			  : e->err == ENOENT ? HB_EXIT_NOT_FOUND
					     : HB_EXIT_CANNOT_EXEC;
}

void hb_result_refused(struct hb_result *r, const char *message,
		       bool policy_read)
{
	r->reason = HB_REASON_REFUSED;
	r->refusal = message;
	r->policy_read = policy_read;
	r->hivebox_exit = HB_EXIT_FAILED;
}

void hb_result_add_events(struct hb_result *r, const struct hb_events *w)
{
	r->violations = w->violations;
	r->alerts = w->alerts;
	r->peak_memory_kb = w->peak_total_kb;
	r->peak_vm_kb = w->peak_vm_kb;
	r->backstop_hit = w->backstop_asked != 0;
	r->peak_processes = w->peak_processes;
	r->peak_tasks = w->peak_tasks;
	r->peak_fds = w->peak_fds;
	r->cpu_total_ms = w->cpu_total_ms;
	if (r->user_ms + r->system_ms > r->cpu_total_ms)
		r->cpu_total_ms = r->user_ms + r->system_ms;
	r->notices_dropped = w->notice ? w->notice->dropped : 0;
	memcpy(r->exec_id, w->exec_id, sizeof(r->exec_id));
}

static const char *cgroup_status(void)
{
	char buf[256] = "";
	FILE *f = fopen("/sys/fs/cgroup/cgroup.controllers", "re");
	bool read;

	if (!f)
		return "no unified cgroup v2 hierarchy at /sys/fs/cgroup; "
		       "the supervisor bounds the sandbox's CPU "
		       "and memory, rlimits each process";
	read = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!read || !strstr(buf, "memory") || !strstr(buf, "pids"))
		return "cgroup v2 has no memory and pids controllers here; "
		       "the supervisor bounds the sandbox's CPU "
		       "and memory, rlimits each process";
	return "per-run cgroups are not built yet; the supervisor bounds the "
	       "sandbox's CPU and memory, rlimits each process";
}

/* Asked for by the result and by the end record: read the file once. */
const char *hb_cgroup_status(void)
{
	static const char *status;

	if (!status)
		status = cgroup_status();
	return status;
}

/* The seven limits, each with what enforces it: the start record lists
 * the values, the result the values with their mechanism. */
static const struct {
	const char *name;
	size_t offset;
	const char *how;
} table[] = {
	{"timeout_seconds", offsetof(struct hb_limits, timeout_seconds),
	 "supervisor timer: SIGTERM to the namespace, SIGKILL 1 s later"},
	{"cpu_seconds", offsetof(struct hb_limits, cpu_seconds),
	 "the supervisor on the whole sandbox (CPU of every process, "
	 "living and reaped, sampled; SIGKILL 1 s past it), and RLIMIT_CPU "
	 "per process: SIGXCPU, SIGKILL 1 s later"},
	{"memory_mb", offsetof(struct hb_limits, memory_mb),
	 "the supervisor on the whole sandbox (RSS of every process plus "
	 "tmpfs and IPC, sampled; SIGKILL past it), and RLIMIT_AS per "
	 "process as a backstop at twice memory_mb, at least memory_mb + "
	 "1 GiB (a request for more than 64 MiB that it would refuse: "
	 "SIGKILL)"},
	{"file_size_mb", offsetof(struct hb_limits, file_size_mb),
	 "RLIMIT_FSIZE, per file: writes beyond it fail with EFBIG"},
	{"max_processes", offsetof(struct hb_limits, max_processes),
	 "RLIMIT_NPROC, counted in the sandbox's user namespace"},
	{"max_open_files", offsetof(struct hb_limits, max_open_files),
	 "RLIMIT_NOFILE, per process"},
	{"tmp_size_mb", offsetof(struct hb_limits, tmp_size_mb),
	 "tmpfs size of /tmp and of /dev/shm, each"},
};

json_object *hb_limits_json(const struct hb_limits *limits, bool with_how)
{
	json_object *l = json_object_new_object();

	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		unsigned long long value;
		json_object *v;

		memcpy(&value, (const char *)limits + table[i].offset,
		       sizeof(value));
		v = json_object_new_uint64(value);
		if (with_how) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "value", v);
			json_object_object_add(
				o, "enforced_by",
				json_object_new_string(table[i].how));
			v = o;
		}
		json_object_object_add(l, table[i].name, v);
	}
	return l;
}

static json_object *setup_json(const struct hb_result *r)
{
	json_object *o;

	if (r->reason != HB_REASON_SETUP_ERROR)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "stage",
			       json_object_new_string(hb_stage_name(
				       (enum hb_stage)r->setup.stage)));
	json_object_object_add(o, "errno", json_object_new_int(r->setup.err));
	json_object_object_add(o, "error",
			       json_object_new_string(strerror(r->setup.err)));
	json_object_object_add(o, "what",
			       json_object_new_string(r->setup.what));
	return o;
}

static json_object *signal_name(int sig)
{
	char name[32];
	const char *abbrev = sig ? sigabbrev_np(sig) : NULL;

	if (!abbrev)
		return NULL;
	snprintf(name, sizeof(name), "SIG%s", abbrev);
	return json_object_new_string(name);
}

static json_object *forward_json(const struct hb_result *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "to", json_object_new_string(r->forward_to));
	json_object_object_add(o, "sent",
			       json_object_new_int64((int64_t)r->forward_sent));
	json_object_object_add(
		o, "dropped",
		json_object_new_int64((int64_t)r->forward_dropped));
	return o;
}

static json_object *audit_json(const struct hb_result *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(
		o, "dir",
		r->audit_dir ? json_object_new_string(r->audit_dir) : NULL);
	json_object_object_add(o, "hmac",
			       json_object_new_boolean(r->audit_hmac));
	json_object_object_add(o, "write_errors",
			       json_object_new_int((int)r->audit_errors));
	if (r->forward_to)
		json_object_object_add(o, "forward", forward_json(r));
	return o;
}

/* mode = none, or a filtered run that failed before the supervisor set
 * anything up (a filtered run's own object says "filtered" and, once it
 * had a slot, its addresses). */
static json_object *network_none(const struct hb_plan *plan)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "mode",
			       json_object_new_string(plan->net.filtered
							      ? "filtered"
							      : "none"));
	return o;
}

static json_object *string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *refusal_json(const struct hb_result *r)
{
	json_object *o;

	if (r->reason != HB_REASON_REFUSED)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "message", string_or_null(r->refusal));
	return o;
}

/* Nothing was set up for a refused run; a run refused before its policy
 * was read has no limits to report. */
static json_object *network_json(const struct hb_result *r,
				 const struct hb_plan *plan)
{
	if (r->network)
		return json_object_get(r->network);
	return r->reason == HB_REASON_REFUSED ? NULL : network_none(plan);
}

static json_object *limits_json(const struct hb_result *r,
				const struct hb_plan *plan)
{
	if (r->reason == HB_REASON_REFUSED && !r->policy_read)
		return NULL;
	return hb_limits_json(&plan->limits, true);
}

/* The limits the sandbox reached, whatever ended the run: a script that
 * met EAGAIN from fork or EMFILE from open and then failed ends as exit,
 * and this says why.  max_processes is RLIMIT_NPROC's count less the
 * init: threads included, at the interpreter's end or sampled;
 * max_open_files is sampled, per process. */
static json_object *limits_hit_json(const struct hb_result *r,
				    const struct hb_limits *l)
{
	json_object *a = json_object_new_array();

	if (r->cpu_total_ms >= l->cpu_seconds * 1000)
		json_object_array_add(a, json_object_new_string("cpu_seconds"));
	/* Or one process's RSS passed it between samples (the kernel's
	 * high-water mark of what the init reaped says so, exactly), or the
	 * backstop refused a call, or a process's address space came so
	 * near it that a call too small for the supervisor to see may have
	 * failed (seccomp_guard.h). */
	if (r->peak_memory_kb > l->memory_mb * 1024 ||
	    r->peak_rss_kb > l->memory_mb * 1024 || r->backstop_hit ||
	    r->peak_vm_kb * 1024 + HB_GUARD_ASK_BYTES >
		    hb_plan_backstop_bytes(l->memory_mb))
		json_object_array_add(a, json_object_new_string("memory_mb"));
	if (r->end_tasks >= l->max_processes ||
	    r->peak_tasks >= l->max_processes)
		json_object_array_add(a,
				      json_object_new_string("max_processes"));
	if (r->peak_fds >= l->max_open_files)
		json_object_array_add(a,
				      json_object_new_string("max_open_files"));
	return a;
}

static json_object *u64_or_null(unsigned long long v)
{
	return v ? json_object_new_uint64(v) : NULL;
}

/* The quota (null where none) and what the run added under it. */
static json_object *quota_json(const struct hb_result *r,
			       const struct hb_plan *plan)
{
	json_object *o;

	if (r->reason == HB_REASON_REFUSED || !hb_plan_has_quota(plan))
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "max_bytes", u64_or_null(plan->quota_bytes));
	json_object_object_add(o, "max_files", u64_or_null(plan->quota_files));
	json_object_object_add(o, "added_bytes",
			       json_object_new_uint64(r->quota_bytes));
	json_object_object_add(o, "added_files",
			       json_object_new_uint64(r->quota_files));
	json_object_object_add(o, "uncounted_events",
			       json_object_new_uint64(r->quota_lost));
	return o;
}

json_object *hb_result_object(const struct hb_result *r,
			      const struct hb_plan *plan)
{
	json_object *o = json_object_new_object();
	json_object *cg = json_object_new_object();

	json_object_object_add(
		o, "exec_id",
		r->exec_id[0] ? json_object_new_string(r->exec_id) : NULL);
	json_object_object_add(
		o, "reason", json_object_new_string(hb_reason_name(r->reason)));
	json_object_object_add(o, "exit_code",
			       r->reason == HB_REASON_EXIT
				       ? json_object_new_int(r->exit_code)
				       : NULL);
	json_object_object_add(
		o, "signal", r->signal ? json_object_new_int(r->signal) : NULL);
	json_object_object_add(o, "signal_name", signal_name(r->signal));
	json_object_object_add(o, "hivebox_exit_code",
			       json_object_new_int(r->hivebox_exit));
	json_object_object_add(o, "wall_ms",
			       json_object_new_uint64(r->wall_ms));
	json_object_object_add(o, "cpu_user_ms",
			       json_object_new_uint64(r->user_ms));
	json_object_object_add(o, "cpu_system_ms",
			       json_object_new_uint64(r->system_ms));
	json_object_object_add(o, "cpu_total_ms",
			       json_object_new_uint64(r->cpu_total_ms));
	json_object_object_add(o, "peak_rss_kb",
			       json_object_new_uint64(r->peak_rss_kb));
	json_object_object_add(o, "peak_memory_kb",
			       json_object_new_uint64(r->peak_memory_kb));
	json_object_object_add(o, "peak_processes",
			       json_object_new_int((int)r->peak_processes));
	json_object_object_add(o, "violations",
			       json_object_new_int((int)r->violations));
	json_object_object_add(o, "alerts",
			       json_object_new_int((int)r->alerts));
	json_object_object_add(o, "notices_dropped",
			       json_object_new_uint64(r->notices_dropped));
	json_object_object_add(o, "denied_syscalls",
			       json_object_new_uint64(r->denied_syscalls));
	json_object_object_add(o, "denied_syscall_counts",
			       r->denied_counts
				       ? json_object_get(r->denied_counts)
				       : json_object_new_object());
	json_object_object_add(o, "network", network_json(r, plan));
	json_object_object_add(o, "setup_error", setup_json(r));
	json_object_object_add(o, "refusal", refusal_json(r));
	json_object_object_add(o, "limits", limits_json(r, plan));
	json_object_object_add(o, "limits_hit",
			       r->reason == HB_REASON_REFUSED ||
					       r->reason ==
						       HB_REASON_SETUP_ERROR
				       ? NULL
				       : limits_hit_json(r, &plan->limits));
	json_object_object_add(o, "write_quota", quota_json(r, plan));
	json_object_object_add(cg, "used", json_object_new_boolean(0));
	json_object_object_add(cg, "why_not",
			       json_object_new_string(hb_cgroup_status()));
	json_object_object_add(o, "cgroup", cg);
	json_object_object_add(o, "policy", string_or_null(plan->policy_path));
	json_object_object_add(o, "script", string_or_null(plan->script));
	json_object_object_add(o, "audit", audit_json(r));
	return o;
}

char *hb_result_json(const struct hb_result *r, const struct hb_plan *plan)
{
	json_object *o = hb_result_object(r, plan);
	char *text = strdup(json_object_to_json_string_ext(o, HB_JSON_FLAGS));

	json_object_put(o);
	return text;
}

int hb_result_write_fd(int fd, const char *text)
{
	int r = hb_write_all(fd, text, strlen(text));

	return r < 0 ? r : hb_write_all(fd, "\n", 1);
}

int hb_result_open_file(const char *path)
{
	const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
			  O_NONBLOCK | O_CLOEXEC;
	struct stat st;
	int fd;

	/* Opened before the sandbox runs, never through a symlink or into a
	 * FIFO: a script with a read_write path could plant either where
	 * root writes the result afterwards.  Emptied at once: from now on
	 * the file says this run's outcome or nothing, never yesterday's. */
	fd = open(path, flags, 0644);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* A directory the sandbox can write: there it can replace any name.  (A
 * file it can write, /dev/null or a read_write file, it cannot replace;
 * what it wrote into one, hivebox's write after the run replaces.) */
static bool writable(const struct hb_mount *m)
{
	return m->kind == HB_MNT_BIND && m->is_dir &&
	       !(m->attrs & HB_ATTR_RDONLY);
}

/* A writable bind whose source is the very directory st is. */
static const struct hb_mount *same_as(const struct hb_plan *plan,
				      const struct stat *st)
{
	struct stat src;

	for (size_t i = 0; i < plan->n_mounts; i++) {
		const struct hb_mount *m = &plan->mounts[i];
		if (writable(m) && stat(m->source, &src) == 0 &&
		    src.st_dev == st->st_dev && src.st_ino == st->st_ino)
			return m;
	}
	return NULL;
}

/* From dir up to the root through "..", which crosses mount points as
 * the kernel resolves them: a writable bind at or above dir. */
static const struct hb_mount *above(const struct hb_plan *plan, const char *dir)
{
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	const struct hb_mount *m = NULL;
	struct stat st, up;

	while (fd >= 0 && !m && fstat(fd, &st) == 0) {
		int parent;
		m = same_as(plan, &st);
		parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = parent;
		/* The root is its own parent. */
		if (fd >= 0 && fstat(fd, &up) == 0 && up.st_dev == st.st_dev &&
		    up.st_ino == st.st_ino) {
			close(fd);
			fd = -1;
		}
	}
	hb_closep(&fd);
	return m;
}

int hb_result_exposed(const struct hb_plan *plan, const char *abs,
		      const struct hb_mount **ret)
{
	_cleanup_free_ char *dir = NULL;
	char *slash;

	*ret = NULL;
	if (abs[0] != '/')
		return -EINVAL;
	/* By name: the caller reads the result by this name later. */
	for (size_t i = 0; i < plan->n_mounts; i++)
		if (writable(&plan->mounts[i]) &&
		    hb_path_under(abs, plan->mounts[i].source)) {
			*ret = &plan->mounts[i];
			return 0;
		}
	/* By identity: its directory, or one above, is a writable one under
	 * another name. */
	dir = strdup(abs);
	if (!dir)
		return -ENOMEM;
	/* "/r.json" is in "/". */
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	*ret = above(plan, dir);
	return 0;
}

int hb_result_write_file(int fd, const char *text)
{
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	return hb_result_write_fd(fd, text);
}

/* SPDX-License-Identifier: MIT */
/* Reading the audit trail back.  Both logs are read once, oldest file
 * first, into one entry per exec_id that keeps only what show and stats
 * print: memory grows with the number of runs, not with the logs.  The
 * filters judge a run on its first record, so a run left out costs no
 * more than its id.  Nothing is verified here; `audit verify` does that,
 * and a line that is not a record is skipped with a warning. */
#include "audit_reader.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_WARNINGS 10

struct line_buf {
	char *buf;
	size_t cap;
	bool too_long;
};

static bool get_int(json_object *o, const char *k, long long *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_int))
		return false;
	*ret = (long long)json_object_get_int64(v);
	return true;
}

/* The start record names a file as {path, sha256}, the end record as a
 * plain path. */
static const char *get_path(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v))
		return NULL;
	if (json_object_is_type(v, json_type_object))
		return hb_json_str(v, "path");
	return json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* Keep the first value seen: the start record's, where there is one. */
static int set_str(char **dst, const char *s)
{
	if (*dst || !s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

/* A time relative to now: "today" and "yesterday" (local midnight), or
 * N followed by d, h or m (that long ago).  1 if s is one, 0 if not. */
static int relative_since(const char *s, time_t now, time_t *ret)
{
	struct tm tm;
	char unit = 0;
	unsigned long n = 0;
	int len = 0;

	if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
		if (!localtime_r(&now, &tm))
			return -EINVAL;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_mday -= s[0] == 'y';
		tm.tm_isdst = -1;
		*ret = mktime(&tm);
		return *ret == (time_t)-1 ? -EINVAL : 1;
	}
	if (s[0] < '0' || s[0] > '9' ||
	    sscanf(s, "%lu%c%n", &n, &unit, &len) != 2 || s[len] ||
	    !strchr("dhm", unit) || n > 100000UL * 24 * 60)
		return 0;
	*ret = now - (time_t)n * (unit == 'd'	? 86400
				  : unit == 'h' ? 3600
						: 60);
	return 1;
}

const char *const hb_audit_event_kinds[] = {
	"cpu_usage_alert",
	"memory_usage_alert",
	"output_limit",
	"timeout",
	"cpu_limit",
	"memory_limit",
	"file_size_limit",
	"write_quota",
	"syscall_killed",
	"refusal",
	"analysis_refused",
	"syscall_denied",
	"plant_denied",
	"network_blocked",
	"alert_command_failed",
	"output_failed",
	NULL,
};

bool hb_audit_event_kind_known(const char *kind)
{
	for (size_t i = 0; hb_audit_event_kinds[i]; i++)
		if (strcmp(kind, hb_audit_event_kinds[i]) == 0)
			return true;
	return false;
}

int hb_audit_parse_since(const char *s, time_t now, char out[32])
{
	struct tm tm = {0};
	const char *p;
	int oh = 0, om = 0, n = 0;
	long offset = 0;
	time_t t;
	int r = relative_since(s, now, &t);

	if (r < 0)
		return r;
	if (r > 0)
		return gmtime_r(&t, &tm) && strftime(out, 32,
						     "%Y-%m-%dT%H:%M:%S", &tm)
			       ? 0
			       : -EINVAL;
	p = strptime(s, "%Y-%m-%d", &tm);
	if (!p || !(*p == '\0' || *p == 'T' || *p == ' '))
		return -EINVAL;
	if (*p == '\0')
		return strftime(out, 32, "%Y-%m-%d", &tm) ? 0 : -EINVAL;
	p = strptime(p + 1, "%H:%M", &tm);
	if (p && *p == ':')
		p = strptime(p + 1, "%S", &tm);
	if (p && *p == '.')
		p += 1 + strspn(p + 1, "0123456789");
	if (p && (*p == '+' || *p == '-') &&
	    sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2) {
		offset = (*p == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
		p += 1 + n;
	} else if (p && *p == 'Z') {
		p++;
	}
	if (!p || *p)
		return -EINVAL;
	t = timegm(&tm) - offset;
	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	return strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) ? 0 : -EINVAL;
}

static bool wanted(const struct hb_audit_trail *t, const char *when,
		   const char *script)
{
	if (t->since[0] && (!when || strcmp(when, t->since) < 0))
		return false;
	/* As recorded, or, in a log from before hivebox escaped its
	 * strings, as given. */
	return !t->q->script || (script && (strcmp(script, t->script) == 0 ||
					    strcmp(script, t->q->script) == 0));
}

static int remember(struct hb_audit_trail *t, const char *id, int index)
{
	json_object *v = json_object_new_int(index);

	if (!v || json_object_object_add(t->index, id, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* The entry for exec_id, created on its first record if the filters let
 * it in.  *ret is NULL for a run that is filtered out. */
static int find_run(struct hb_audit_trail *t, const char *id, const char *when,
		    const char *script, struct hb_audit_run **ret)
{
	json_object *v;
	struct hb_audit_run *run;

	*ret = NULL;
	/* An exec id's prefix is enough; its runs are counted after. */
	if (t->q->exec_id &&
	    strncmp(id, t->q->exec_id, strlen(t->q->exec_id)) != 0)
		return 0;
	if (json_object_object_get_ex(t->index, id, &v)) {
		int i = json_object_get_int(v);
		*ret = i < 0 ? NULL : &t->runs[i];
		return 0;
	}
	if (!wanted(t, when, script))
		return remember(t, id, -1);
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		run = reallocarray(t->runs, cap, sizeof(*run));
		if (!run)
			return -ENOMEM;
		t->runs = run;
		t->cap = cap;
	}
	run = &t->runs[t->n];
	memset(run, 0, sizeof(*run));
	run->order = t->n;
	run->exec_id = strdup(id);
	if (!run->exec_id || remember(t, id, (int)t->n) < 0) {
		free(run->exec_id);
		return -ENOMEM;
	}
	t->n++;
	*ret = run;
	return 0;
}

static int add_start(struct hb_audit_trail *t, json_object *o, const char *id)
{
	const char *when =
		hb_json_str(o, "start_time") ?: hb_json_str(o, "time");
	const char *script = get_path(o, "script");
	struct hb_audit_run *run;
	long long pid = 0;
	int r = find_run(t, id, when, script, &run);

	if (r < 0 || !run)
		return r;
	run->has_start = true;
	if (t->q->exec_id && !run->start_rec)
		run->start_rec = json_object_get(o);
	if (get_int(o, "pid", &pid))
		run->pid = (int)pid;
	if (set_str(&run->start_time, when) < 0 ||
	    set_str(&run->script, script) < 0 ||
	    set_str(&run->policy, get_path(o, "policy")) < 0)
		return -ENOMEM;
	return 0;
}

static int add_result(struct hb_audit_run *run, json_object *res)
{
	json_object *setup;
	long long v;

	if (get_int(res, "exit_code", &v)) {
		run->has_exit = true;
		run->exit_code = (int)v;
	}
	if (get_int(res, "signal", &v))
		run->signal = (int)v;
	if (get_int(res, "wall_ms", &v) && v >= 0) {
		run->has_wall = true;
		run->wall_ms = (unsigned long long)v;
	}
	if (json_object_object_get_ex(res, "setup_error", &setup) &&
	    json_object_is_type(setup, json_type_object) &&
	    set_str(&run->setup_stage, hb_json_str(setup, "stage")) < 0)
		return -ENOMEM;
	if (set_str(&run->reason, hb_json_str(res, "reason")) < 0 ||
	    set_str(&run->signal_name, hb_json_str(res, "signal_name")) < 0)
		return -ENOMEM;
	return 0;
}

static int add_end(struct hb_audit_trail *t, json_object *o, const char *id)
{
	const char *when =
		hb_json_str(o, "start_time") ?: hb_json_str(o, "time");
	const char *script = get_path(o, "script");
	json_object *res;
	struct hb_audit_run *run;
	int r = find_run(t, id, when, script, &run);

	if (r < 0 || !run)
		return r;
	run->has_end = true;
	if (t->q->exec_id && !run->end_rec)
		run->end_rec = json_object_get(o);
	get_int(o, "violations", &run->violations);
	get_int(o, "alerts", &run->alerts);
	if (set_str(&run->start_time, when) < 0 ||
	    set_str(&run->end_time, hb_json_str(o, "end_time")) < 0 ||
	    set_str(&run->script, script) < 0 ||
	    set_str(&run->policy, get_path(o, "policy")) < 0)
		return -ENOMEM;
	if (json_object_object_get_ex(o, "result", &res) &&
	    json_object_is_type(res, json_type_object))
		return add_result(run, res);
	return 0;
}

static int push_event(struct hb_audit_run *run, json_object *o)
{
	json_object *details = NULL;
	struct hb_audit_event *e;

	if (run->n_ev == run->cap_ev) {
		size_t cap = run->cap_ev ? run->cap_ev * 2 : 4;
		e = reallocarray(run->ev, cap, sizeof(*e));
		if (!e)
			return -ENOMEM;
		run->ev = e;
		run->cap_ev = cap;
	}
	e = &run->ev[run->n_ev++];
	memset(e, 0, sizeof(*e));
	if (json_object_object_get_ex(o, "details", &details))
		e->details = json_object_get(details);
	if (set_str(&e->time, hb_json_str(o, "time")) < 0 ||
	    set_str(&e->kind, hb_json_str(o, "kind")) < 0 ||
	    set_str(&e->severity, hb_json_str(o, "severity")) < 0 ||
	    set_str(&e->message, hb_json_str(o, "message")) < 0)
		return -ENOMEM;
	return 0;
}

/* An event whose exec_id has no execution record (a refusal before the
 * run, or a run whose records were rotated away) is a run of its own. */
static int add_event(struct hb_audit_trail *t, json_object *o, const char *id)
{
	const char *kind = hb_json_str(o, "kind") ?: "?";
	const char *sev = hb_json_str(o, "severity") ?: "";
	const char *when = hb_json_str(o, "time");
	json_object *details;
	struct hb_audit_run *run;
	int r = find_run(t, id, when, NULL, &run);

	if (r < 0 || !run)
		return r;
	if (!run->has_start && !run->has_end) {
		if (json_object_object_get_ex(o, "details", &details) &&
		    set_str(&run->policy, hb_json_str(details, "policy")) < 0)
			return -ENOMEM;
		if (set_str(&run->start_time, when) < 0)
			return -ENOMEM;
	}
	run->ev_violations += strcmp(sev, "violation") == 0;
	run->ev_alerts += strcmp(sev, "alert") == 0;
	if (t->q->event && strcmp(kind, t->q->event) != 0)
		return 0;
	return push_event(run, o);
}

static int take_record(struct hb_audit_trail *t, enum hb_log log,
		       json_object *o)
{
	const char *type = hb_json_str(o, "type"),
		   *id = hb_json_str(o, "exec_id");

	if (!type || !id) /* a rotation record */
		return 0;
	if (log == HB_LOG_SECURITY)
		return strcmp(type, "event") == 0 ? add_event(t, o, id) : 0;
	if (strcmp(type, "start") == 0)
		return add_start(t, o, id);
	if (strcmp(type, "end") == 0)
		return add_end(t, o, id);
	return 0;
}

/* One line without its '\n', or -1 at the end.  Byte by byte, so that a
 * NUL (what a crash can leave behind) stays inside its line instead of
 * ending it.  A line longer than HB_AUDIT_MAX_LINE is read to its end but
 * not kept. */
static ssize_t read_line(FILE *f, struct line_buf *b)
{
	size_t len = 0;
	int c;

	b->too_long = false;
	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (b->too_long)
			continue;
		if (len + 2 > b->cap) {
			size_t cap = b->cap ? b->cap * 2 : 4096;
			char *buf;
			if (b->cap >= HB_AUDIT_MAX_LINE) {
				b->too_long = true;
				len = 0;
				continue;
			}
			buf = realloc(b->buf, cap);
			if (!buf)
				return -ENOMEM;
			b->buf = buf;
			b->cap = cap;
		}
		b->buf[len++] = (char)c;
	}
	if (c == EOF && ferror(f))
		return -EIO;
	if (c == EOF && len == 0 && !b->too_long)
		return -1;
	if (b->buf)
		b->buf[len] = '\0';
	return (ssize_t)len;
}

static void warn_corrupt(struct hb_audit_trail *t, const char *name,
			 unsigned long n)
{
	if (++t->corrupt <= MAX_WARNINGS)
		fprintf(stderr,
			"hivebox: %s/%s:%lu: not an audit record, skipped "
			"(run `hivebox audit verify`)\n",
			t->a->dir, name, n);
	else if (t->corrupt == MAX_WARNINGS + 1)
		fprintf(stderr,
			"hivebox: more lines that are not audit records; "
			"not naming them\n");
}

static int read_stream(struct hb_audit_trail *t, enum hb_log log, FILE *f,
		       const char *name)
{
	struct line_buf b = {0};
	unsigned long n = 0;
	ssize_t len = 0;
	int r = 0;

	while (r == 0 && (len = read_line(f, &b)) >= 0) {
		json_object *o = NULL;
		n++;
		if (!b.too_long && len > 0)
			o = json_tokener_parse(b.buf);
		if (!o || !json_object_is_type(o, json_type_object))
			warn_corrupt(t, name, n);
		else
			r = take_record(t, log, o);
		json_object_put(o);
	}
	free(b.buf);
	return r < 0 ? r : len < -1 ? (int)len : 0;
}

static int read_fd(struct hb_audit_trail *t, enum hb_log log, int fd,
		   const char *name)
{
	_cleanup_fclose_ FILE *f = fdopen(fd, "re");

	if (!f) {
		close(fd);
		return -errno;
	}
	return read_stream(t, log, f, name);
}

/* A rotated file that is the current file we hold open was rotated
 * while we listed: it is read once, as the current file, last. */
static int read_rotated(struct hb_audit_trail *t, enum hb_log log,
			const char *name, const struct stat *current)
{
	int fd = openat(t->a->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* removed meanwhile */
	if (fstat(fd, &st) < 0 || (current && st.st_dev == current->st_dev &&
				   st.st_ino == current->st_ino)) {
		int r = current ? 0 : -errno;
		close(fd);
		return r;
	}
	return read_fd(t, log, fd, name);
}

/* The current file is opened before the rotated ones are listed, so that
 * a rotation meanwhile neither hides records nor shows them twice. */
static int read_log(struct hb_audit_trail *t, enum hb_log log)
{
	const char *name = hb_log_name(log);
	_cleanup_close_ int fd =
		openat(t->a->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct hb_strv files = {0};
	struct stat st;
	int r;

	if (fd < 0 && errno != ENOENT)
		return -errno;
	if (fd >= 0 && fstat(fd, &st) < 0)
		return -errno;
	r = hb_audit_rotated_files(t->a, name, &files);
	for (size_t i = 0; r == 0 && i < files.n; i++)
		r = read_rotated(t, log, files.v[i], fd >= 0 ? &st : NULL);
	hb_strv_clear(&files);
	if (r == 0 && fd >= 0)
		r = read_fd(t, log, TAKE_FD(fd), name);
	return r;
}

static bool hivebox_running(int pid)
{
	char path[64], comm[32] = "";
	_cleanup_fclose_ FILE *f = NULL;

	if (pid <= 0 || pid == getpid()) /* a reused pid: this is us */
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	return f && fgets(comm, sizeof(comm), f) &&
	       strcmp(comm, "hivebox\n") == 0;
}

/* "exit 3", "signal SIGSEGV", "timeout SIGTERM", "setup_error (mounts)". */
static void describe_end(struct hb_audit_run *run)
{
	const char *reason = run->reason ?: "unknown";
	char *out = run->outcome;
	size_t len = sizeof(run->outcome);

	run->state = reason;
	if (run->has_exit)
		snprintf(out, len, "%s %d", reason, run->exit_code);
	else if (run->signal_name)
		snprintf(out, len, "%s %s", reason, run->signal_name);
	else if (run->signal)
		snprintf(out, len, "%s signal %d", reason, run->signal);
	else if (run->setup_stage)
		snprintf(out, len, "%s (%s)", reason, run->setup_stage);
	else
		snprintf(out, len, "%s", reason);
}

static void describe(struct hb_audit_run *run)
{
	if (run->has_end) {
		describe_end(run);
		return;
	}
	run->violations = run->ev_violations;
	run->alerts = run->ev_alerts;
	if (!run->has_start) {
		run->state = "not_started";
		snprintf(run->outcome, sizeof(run->outcome), "not started");
	} else if (hivebox_running(run->pid)) {
		run->state = "running";
		snprintf(run->outcome, sizeof(run->outcome), "running (pid %d)",
			 run->pid);
	} else {
		run->state = "launcher_died";
		snprintf(run->outcome, sizeof(run->outcome), "launcher died");
	}
}

static int cmp_runs(const void *x, const void *y)
{
	const struct hb_audit_run *a = *(struct hb_audit_run *const *)x;
	const struct hb_audit_run *b = *(struct hb_audit_run *const *)y;
	/* To the second: the runs' times have no fraction, the events' do. */
	int c = strncmp(a->start_time ?: "", b->start_time ?: "", 19);

	return c ? c : a->order < b->order ? -1 : a->order > b->order;
}

void hb_audit_trail_free(struct hb_audit_trail *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct hb_audit_run *run = &t->runs[i];
		for (size_t j = 0; j < run->n_ev; j++) {
			free(run->ev[j].time);
			free(run->ev[j].kind);
			free(run->ev[j].severity);
			free(run->ev[j].message);
			json_object_put(run->ev[j].details);
		}
		free(run->ev);
		json_object_put(run->start_rec);
		json_object_put(run->end_rec);
		free(run->exec_id);
		free(run->start_time);
		free(run->end_time);
		free(run->script);
		free(run->policy);
		free(run->reason);
		free(run->signal_name);
		free(run->setup_stage);
	}
	free(t->runs);
	free(t->script);
	json_object_put(t->index);
}

/* Both logs read and the runs that match, sorted by start time, in
 * *ret_v (which points into t). */
int hb_audit_trail_load(struct hb_audit_trail *t, const struct hb_audit *a,
			const struct hb_audit_query *q,
			struct hb_audit_run ***ret_v, size_t *ret_n)
{
	struct hb_audit_run **v;
	size_t n = 0;
	int r = 0;

	memset(t, 0, sizeof(*t));
	t->a = a;
	t->q = q;
	t->index = json_object_new_object();
	if (q->script)
		t->script = hb_escape_bytes(q->script, strlen(q->script),
					    HB_ESCAPE_BACKSLASH);
	if (!t->index || (q->script && !t->script))
		return -ENOMEM;
	if (q->since)
		r = hb_audit_parse_since(q->since, time(NULL), t->since);
	for (int log = 0; r == 0 && log < HB_LOG_MAX; log++)
		r = read_log(t, log);
	if (r < 0)
		return r;
	if (q->exec_id && t->n > 1)
		return -ENOTUNIQ;
	v = calloc(t->n ?: 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		if (q->event && !t->runs[i].n_ev)
			continue;
		describe(&t->runs[i]);
		v[n++] = &t->runs[i];
	}
	qsort(v, n, sizeof(*v), cmp_runs);
	*ret_v = v;
	*ret_n = n;
	return 0;
}

static bool printable(char c)
{
	return (unsigned char)c >= 0x20 && (unsigned char)c < 0x7f;
}

/* A log is written by whoever runs hivebox: none of its bytes that a
 * terminal would act on (controls, C1 controls, bidirectional overrides,
 * whatever is not UTF-8) reaches the terminal as it is. */
void hb_audit_put_text(FILE *out, const char *s, int width)
{
	int n = 0;

	for (s = s ?: "-"; *s; s++, n++)
		if (printable(*s))
			fputc(*s, out);
		else
			n += fprintf(out, "\\x%02x", (unsigned char)*s) - 1;
	for (; n < width; n++)
		fputc(' ', out);
}

int hb_audit_text_width(const char *s)
{
	int n = 0;

	for (s = s ?: "-"; *s; s++)
		n += printable(*s) ? 1 : 4;
	return n;
}

int hb_audit_put_json(FILE *out, json_object *o)
{
	json_object *e;
	int r = hb_json_escape(o, 0, &e);

	if (r < 0)
		return r;
	fprintf(out, "%s\n", json_object_to_json_string_ext(e, HB_JSON_FLAGS));
	json_object_put(e);
	return 0;
}

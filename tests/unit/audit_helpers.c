/* SPDX-License-Identifier: MIT */
/* Shared by the audit tests (test_audit_*.c, test_events.c): the test's
 * audit directory and what is kept until the teardown, reference values
 * computed without the code under test, the logs read and tampered with
 * by hand, and a small trail of runs for show and stats. */
#include "audit_helpers.h"
#include "audit_record.h"
#include "events.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define HASH_MARK ",\"hash\":\""

char *dir;    /* the test's own directory */
char *logdir; /* dir/log: the audit directory */
struct hb_audit audit;
unsigned char key[HB_AUDIT_KEY_LEN];
pid_t child = -1; /* a stand-in for a running hivebox */

/* What a test holds when an assertion ends it is freed in the teardown,
 * so that LeakSanitizer blames nobody for a failed test. */
static void *kept[512];
static json_object *kept_json[128];
static size_t n_kept, n_kept_json;

void *keep(void *p)
{
	cr_assert_lt(n_kept, ARRAY_SIZE(kept));
	kept[n_kept++] = p;
	return p;
}

json_object *keep_json(json_object *o)
{
	cr_assert_lt(n_kept_json, ARRAY_SIZE(kept_json));
	kept_json[n_kept_json++] = o;
	return o;
}

void audit_setup(void)
{
	memset(&audit, 0, sizeof(audit));
	audit.dirfd = -1;
	dir = tmpdir_new();
	logdir = path_join(dir, "log");
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(0xa0 + i);
}

void audit_teardown(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	hb_audit_close(&audit);
	while (n_kept)
		free(kept[--n_kept]);
	while (n_kept_json)
		json_object_put(kept_json[--n_kept_json]);
	if (dir) {
		clear_append_only(dir);
		tmpdir_remove(dir);
	}
	free(logdir);
	dir = logdir = NULL;
}

/* ---- Reference values, computed without the code under test ---- */

void ref_sha256(const void *data, size_t len, char out[HB_SHA256_HEX])
{
	unsigned char md[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(md, data, len);
	sodium_bin2hex(out, HB_SHA256_HEX, md, sizeof(md));
}

void ref_hmac(const unsigned char *k, const void *data, size_t len,
	      char out[HB_SHA256_HEX])
{
	unsigned char md[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256(md, data, len, k);
	sodium_bin2hex(out, HB_SHA256_HEX, md, sizeof(md));
}

unsigned occurrences(const char *s, const char *needle)
{
	unsigned n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The bytes a record's hash covers, found by hand: the line up to its one
 * ,"hash":" member, closed with a brace. */
char *covered(const char *line)
{
	const char *mark = strstr(line, HASH_MARK);
	char *body;

	cr_assert_not_null(mark, "no hash member in %s", line);
	cr_assert_eq(occurrences(line, HASH_MARK), 1, "%s", line);
	body = keep(strndup(line, (size_t)(mark - line) + 1));
	body[mark - line] = '}';
	return body;
}

json_object *parse(const char *text)
{
	json_object *o = keep_json(json_tokener_parse(text));

	cr_assert(json_object_is_type(o, json_type_object),
		  "not a JSON object: %s", text);
	return o;
}

json_object *member(json_object *o, const char *k)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, k, &v), "no member %s", k);
	return v;
}

const char *str_of(json_object *o, const char *k)
{
	json_object *v = member(o, k);

	cr_assert(json_object_is_type(v, json_type_string),
		  "%s is not a string", k);
	return json_object_get_string(v);
}

long long int_of(json_object *o, const char *k)
{
	json_object *v = member(o, k);

	cr_assert(json_object_is_type(v, json_type_int), "%s is not a number",
		  k);
	return (long long)json_object_get_int64(v);
}

bool has(json_object *o, const char *k)
{
	return json_object_object_get_ex(o, k, NULL);
}

/* ---- The audit directory and its logs ---- */

/* dir/audit.key holding len bytes: the test key, then filler. */
char *write_key(size_t len)
{
	char *path = keep(path_join(dir, "audit.key"));
	unsigned char buf[64] = {0};
	FILE *f = fopen(path, "we");

	cr_assert_not_null(f);
	cr_assert_leq(len, sizeof(buf));
	for (size_t i = 0; i < len; i++)
		buf[i] = i < sizeof(key) ? key[i] : 0x55;
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	return path;
}

void open_log_flags(bool with_key, unsigned flags)
{
	struct hb_diag d = {0};
	const char *kf = with_key ? write_key(HB_AUDIT_KEY_LEN) : NULL;
	int r = hb_audit_open(&audit, logdir, kf, HB_AUDIT_CREATE | flags, &d);

	cr_assert_eq(r, 0, "hb_audit_open: %d %s", r, d.msg);
	cr_assert_eq(audit.have_key, with_key);
}

void open_log(bool with_key)
{
	open_log_flags(with_key, 0);
}

json_object *note(int n)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string("note"));
	json_object_object_add(o, "n", json_object_new_int(n));
	return o;
}

/* Append notes first..last; hashes[i] gets note first+i's hash. */
void append_notes(enum hb_log log, int first, int last,
		  char (*hashes)[HB_SHA256_HEX])
{
	for (int i = first; i <= last; i++) {
		int r = hb_audit_append(&audit, log, note(i),
					hashes ? hashes[i - first] : NULL);
		cr_assert_eq(r, 0, "append %d: %s", i, strerror(-r));
	}
}

/* The lines of logdir/name without their newlines (a torn last line as
 * it is); they live until the teardown. */
size_t log_lines(const char *name, char **v)
{
	char *text = keep(read_text(logdir, name));
	size_t n = 0;

	cr_assert_not_null(text, "cannot read %s", name);
	for (char *p = text; *p;) {
		char *nl = strchr(p, '\n');
		cr_assert_lt(n, MAX_LINES);
		v[n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return n;
}

/* Rewrite logdir/name as these lines, the last without its newline if
 * torn: what whoever can write the directory can do. */
void log_write(const char *name, char *const *v, size_t n, bool torn)
{
	char *path = keep(path_join(logdir, name));
	FILE *f;

	clear_append_only(logdir);
	f = fopen(path, "we");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	for (size_t i = 0; i < n; i++) {
		fputs(v[i], f);
		if (i + 1 < n || !torn)
			fputc('\n', f);
	}
	cr_assert_eq(fclose(f), 0);
}

/* Append raw bytes, as an append-only file still allows. */
void log_append_raw(const char *name, const char *bytes)
{
	char *path = keep(path_join(logdir, name));
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
	close(fd);
}

bool exists(const char *name)
{
	struct stat st;

	return fstatat(audit.dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

void remove_log_file(const char *name)
{
	clear_append_only(logdir);
	cr_assert_eq(unlinkat(audit.dirfd, name, 0), 0, "%s: %s", name,
		     strerror(errno));
}

/* line with the first from replaced by to. */
char *replaced(const char *line, const char *from, const char *to)
{
	const char *at = strstr(line, from);
	char *s = NULL;

	cr_assert_not_null(at, "no '%s' in %s", from, line);
	cr_assert_geq(asprintf(&s, "%.*s%s%s", (int)(at - line), line, to,
			       at + strlen(from)),
		      0);
	return keep(s);
}

/* line with its hash recomputed over its (edited) content, as whoever can
 * write the log but has no key would do; an hmac is left as it was. */
char *rehashed(const char *line)
{
	char *copy = keep(strdup(line));
	const char *body = covered(copy);
	char h[HB_SHA256_HEX];

	ref_sha256(body, strlen(body), h);
	memcpy(strstr(copy, HASH_MARK) + strlen(HASH_MARK), h, 64);
	return copy;
}

/* The report of hb_audit_verify(), kept. */
int verify_log(enum hb_log log, char **report)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	cr_assert_not_null(f);
	r = hb_audit_verify(&audit, log, f);
	fclose(f);
	*report = keep(buf);
	return r;
}

/* verify fails, naming where (file:line) first and saying why. */
void expect_fail(const char *where, const char *why)
{
	char *report, *want = NULL;
	int r = verify_log(HB_LOG_EXEC, &report);

	cr_assert_geq(asprintf(&want, "%s: FAIL at %s: %s", LOG, where, why),
		      0);
	keep(want);
	cr_assert_eq(r, 1, "verify returned %d:\n%s", r, report);
	cr_assert(strncmp(report, want, strlen(want)) == 0,
		  "wanted '%s', got:\n%s", want, report);
}

/* Three notes in the execution log; v gets its lines, h their hashes. */
void three_records(bool with_key, char **v, char (*h)[HB_SHA256_HEX])
{
	open_log(with_key);
	append_notes(HB_LOG_EXEC, 1, 3, h);
	cr_assert_eq(log_lines(LOG, v), 3);
}

/* What verify should say of name's append-only flag. */
const char *flag_word(const char *name)
{
	int fd = openat(audit.dirfd, name, O_RDONLY | O_CLOEXEC), flags = 0;
	const char *w;

	cr_assert_geq(fd, 0);
	w = ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0
		    ? "unknown on this file system"
	    : flags & FS_APPEND_FL ? "set"
				   : "not set";
	close(fd);
	return w;
}

/* Whether root can set the append-only flag in logdir: skips if not. */
void need_append_only(void)
{
	int fd, flags = 0;
	bool supported;

	/* Criterion does not run .fini for a skipped test: clean up
	 * first (the teardown is idempotent). */
	if (geteuid() != 0) {
		audit_teardown();
		cr_skip_test("only root can set the append-only flag");
	}
	cr_assert_eq(mkdir(logdir, 0750), 0);
	make_file(logdir, "probe", "");
	fd = open(keep(path_join(logdir, "probe")), O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	supported = ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
		    (flags |= FS_APPEND_FL,
		     ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0);
	close(fd);
	clear_append_only(logdir);
	if (!supported) {
		audit_teardown();
		cr_skip_test("no append-only flag on this file system");
	}
}

/* ---- A small trail for show and stats ---- */

const struct run_rec run_a = {ID_A, "2001-01-01T09:00:00.000Z", "/srv/a.py",
			      STRICT};
const struct run_rec run_b = {ID_B, "2002-01-01T09:00:00.000Z", "/srv/b.py",
			      STRICT};
const struct run_rec run_c = {ID_C, "2003-01-01T09:00:00.000Z", "/srv/a.py",
			      LOOSE};

/* A pid that no process has now. */
pid_t gone_pid(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

/* The records record.c builds for run, with its plan and run info. */
static json_object *run_record(const struct run_rec *run,
			       const struct hb_result *res)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_run_info info;
	json_object *rec;

	hb_policy_init(&p);
	p.path = strdup(run->policy);
	plan = (struct hb_plan){.policy = &p, .script_fd = -1};
	cr_assert_eq(hb_plan_settings(&plan, &p), 0);
	plan.script = strdup(run->script);
	plan.cwd = strdup("/srv");
	cr_assert_eq(hb_strv_push(&plan.argv, "/usr/bin/python3"), 0);
	cr_assert_eq(hb_strv_push(&plan.argv, run->script), 0);
	memset(&info, 0, sizeof(info));
	snprintf(info.exec_id, sizeof(info.exec_id), "%s", run->id);
	snprintf(info.start_time, sizeof(info.start_time), "%s", run->start);
	ref_sha256(run->script, strlen(run->script), info.script_sha);
	ref_sha256(run->policy, strlen(run->policy), info.policy_sha);
	ref_sha256(run->policy, strlen(run->policy), info.effective_sha);
	rec = res ? hb_audit_record_end(&info, &plan, res)
		  : hb_audit_record_start(&info, &plan);
	hb_plan_free(&plan);
	hb_policy_free(&p);
	return rec;
}

void append_start(const struct run_rec *run, pid_t pid)
{
	json_object *rec = run_record(run, NULL);
	int r;

	json_object_object_add(rec, "pid", json_object_new_int(pid));
	r = hb_audit_append(&audit, HB_LOG_EXEC, rec, NULL);
	cr_assert_eq(r, 0, "%s", strerror(-r));
}

void append_end(const struct run_rec *run, const struct hb_result *res)
{
	int r = hb_audit_append(&audit, HB_LOG_EXEC, run_record(run, res),
				NULL);

	cr_assert_eq(r, 0, "%s", strerror(-r));
}

/* An event as the supervisor records it, through hb_events_event(). */
void append_event(const char *id, const char *kind, enum hb_event_class cls,
		  const char *msg, json_object *details)
{
	struct hb_events w = {.audit = &audit, .quiet = true};

	snprintf(w.exec_id, sizeof(w.exec_id), "%s", id);
	hb_events_event(&w, kind, cls, msg, details);
	cr_assert_eq(w.audit_errors, 0);
}

/* A finished run (A), a timeout with its violation (B), a run whose
 * launcher died after a memory alert (C), and a refusal before any run
 * (D), interleaved as concurrent runs write them. */
void small_trail(void)
{
	struct hb_result ra = {.reason = HB_REASON_EXIT, .wall_ms = 100};
	struct hb_result rb = {.reason = HB_REASON_TIMEOUT,
			       .signal = SIGKILL,
			       .wall_ms = 5000,
			       .violations = 1};
	json_object *details = json_object_new_object();
	pid_t gone = gone_pid();

	open_log(true);
	append_start(&run_a, gone);
	append_end(&run_a, &ra);
	append_start(&run_b, gone);
	append_start(&run_c, gone);
	append_event(ID_B, "timeout", HB_EV_VIOLATION, "ran longer than 5 s",
		     NULL);
	append_end(&run_b, &rb);
	append_event(ID_C, "memory_usage_alert", HB_EV_ALERT, "memory at 90%",
		     NULL);
	json_object_object_add(details, "policy",
			       json_object_new_string(STRICT));
	json_object_object_add(details, "option",
			       json_object_new_string("--memory-mb"));
	append_event(ID_D, "refusal", HB_EV_VIOLATION,
		     "--memory-mb would loosen the policy", details);
}

int stats(const struct hb_audit_query *q, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	cr_assert_not_null(f);
	r = hb_audit_stats(&audit, q, f);
	fclose(f);
	*out = keep(buf);
	return r;
}

unsigned count_lines(const char *text)
{
	return occurrences(text, "\n");
}

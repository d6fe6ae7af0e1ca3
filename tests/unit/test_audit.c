/* SPDX-License-Identifier: MIT */
/* The audit trail: records encoded and checked against libsodium, the
 * chain and its head on disk, verify on hand-tampered logs, rotation, the
 * stored policies, show and stats on a small trail, and security events.
 * Root's logs carry the append-only flag; the teardown lifts it. */
#include "audit.h"
#include "audit_show.h"
#include "helpers.h"
#include "audit_record.h"
#include "events.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/fs.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define GENESIS                                                                \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define PREV "1111111111111111111111111111111111111111111111111111111111111111"
#define LOG HB_AUDIT_EXEC_LOG
#define SEC HB_AUDIT_SECURITY_LOG
#define HASH_MARK ",\"hash\":\""
#define MAX_LINES 32

static char *dir;    /* the test's own directory */
static char *logdir; /* dir/log: the audit directory */
static struct hb_audit audit;
static unsigned char key[HB_AUDIT_KEY_LEN];
static pid_t child = -1; /* a stand-in for a running hivebox */

/* What a test holds when an assertion ends it is freed in the teardown,
 * so that LeakSanitizer blames nobody for a failed test. */
static void *kept[512];
static json_object *kept_json[128];
static size_t n_kept, n_kept_json;

static void *keep(void *p)
{
	cr_assert_lt(n_kept, ARRAY_SIZE(kept));
	kept[n_kept++] = p;
	return p;
}

static json_object *keep_json(json_object *o)
{
	cr_assert_lt(n_kept_json, ARRAY_SIZE(kept_json));
	kept_json[n_kept_json++] = o;
	return o;
}

static void audit_setup(void)
{
	memset(&audit, 0, sizeof(audit));
	audit.dirfd = -1;
	dir = tmpdir_new();
	logdir = path_join(dir, "log");
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(0xa0 + i);
}

static void audit_teardown(void)
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

/* cppcheck-suppress unknownMacro */
TestSuite(audit_crypto, .init = audit_setup, .fini = audit_teardown);
/* cppcheck-suppress unknownMacro */
TestSuite(audit_open, .init = audit_setup, .fini = audit_teardown);
/* cppcheck-suppress unknownMacro */
TestSuite(audit_append, .init = audit_setup, .fini = audit_teardown);
/* cppcheck-suppress unknownMacro */
TestSuite(audit_verify, .init = audit_setup, .fini = audit_teardown);
/* cppcheck-suppress unknownMacro */
TestSuite(audit_rotate, .init = audit_setup, .fini = audit_teardown);
/* cppcheck-suppress unknownMacro */
TestSuite(audit_show, .init = audit_setup, .fini = audit_teardown);
/* cppcheck-suppress unknownMacro */
TestSuite(audit_watch, .init = audit_setup, .fini = audit_teardown);

/* ---- Reference values, computed without the code under test ---- */

static void ref_sha256(const void *data, size_t len, char out[HB_SHA256_HEX])
{
	unsigned char md[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(md, data, len);
	sodium_bin2hex(out, HB_SHA256_HEX, md, sizeof(md));
}

static void ref_hmac(const unsigned char *k, const void *data, size_t len,
		     char out[HB_SHA256_HEX])
{
	unsigned char md[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256(md, data, len, k);
	sodium_bin2hex(out, HB_SHA256_HEX, md, sizeof(md));
}

static unsigned occurrences(const char *s, const char *needle)
{
	unsigned n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The bytes a record's hash covers, found by hand: the line up to its one
 * ,"hash":" member, closed with a brace. */
static char *covered(const char *line)
{
	const char *mark = strstr(line, HASH_MARK);
	char *body;

	cr_assert_not_null(mark, "no hash member in %s", line);
	cr_assert_eq(occurrences(line, HASH_MARK), 1, "%s", line);
	body = keep(strndup(line, (size_t)(mark - line) + 1));
	body[mark - line] = '}';
	return body;
}

static json_object *parse(const char *text)
{
	json_object *o = keep_json(json_tokener_parse(text));

	cr_assert(json_object_is_type(o, json_type_object),
		  "not a JSON object: %s", text);
	return o;
}

static json_object *member(json_object *o, const char *k)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, k, &v), "no member %s", k);
	return v;
}

static const char *str_of(json_object *o, const char *k)
{
	json_object *v = member(o, k);

	cr_assert(json_object_is_type(v, json_type_string),
		  "%s is not a string", k);
	return json_object_get_string(v);
}

static long long int_of(json_object *o, const char *k)
{
	json_object *v = member(o, k);

	cr_assert(json_object_is_type(v, json_type_int), "%s is not a number",
		  k);
	return (long long)json_object_get_int64(v);
}

static bool has(json_object *o, const char *k)
{
	return json_object_object_get_ex(o, k, NULL);
}

/* The names of o's members, in order, joined by commas. */
static char *member_names(json_object *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool first = true;

	cr_assert_not_null(f);
	json_object_object_foreach(o, k, v)
	{
		(void)v;
		fprintf(f, "%s%s", first ? "" : ",", k);
		first = false;
	}
	fclose(f);
	return keep(buf);
}

/* ---- The audit directory and its logs ---- */

/* dir/audit.key holding len bytes: the test key, then filler. */
static char *write_key(size_t len)
{
	char *path = keep(path_join(dir, "audit.key"));
	unsigned char buf[64];
	FILE *f = fopen(path, "we");

	cr_assert_not_null(f);
	cr_assert_leq(len, sizeof(buf));
	for (size_t i = 0; i < len; i++)
		buf[i] = i < sizeof(key) ? key[i] : 0x55;
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static void open_log_flags(bool with_key, unsigned flags)
{
	struct hb_diag d = {0};
	const char *kf = with_key ? write_key(HB_AUDIT_KEY_LEN) : NULL;
	int r = hb_audit_open(&audit, logdir, kf, HB_AUDIT_CREATE | flags, &d);

	cr_assert_eq(r, 0, "hb_audit_open: %d %s", r, d.msg);
	cr_assert_eq(audit.have_key, with_key);
}

static void open_log(bool with_key)
{
	open_log_flags(with_key, 0);
}

static json_object *note(int n)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string("note"));
	json_object_object_add(o, "n", json_object_new_int(n));
	return o;
}

/* Append notes first..last; hashes[i] gets note first+i's hash. */
static void append_notes(enum hb_log log, int first, int last,
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
static size_t log_lines(const char *name, char **v)
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
static void log_write(const char *name, char *const *v, size_t n, bool torn)
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
static void log_append_raw(const char *name, const char *bytes)
{
	char *path = keep(path_join(logdir, name));
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
	close(fd);
}

static bool exists(const char *name)
{
	struct stat st;

	return fstatat(audit.dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void remove_log_file(const char *name)
{
	clear_append_only(logdir);
	cr_assert_eq(unlinkat(audit.dirfd, name, 0), 0, "%s: %s", name,
		     strerror(errno));
}

/* line with the first from replaced by to. */
static char *replaced(const char *line, const char *from, const char *to)
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
static char *rehashed(const char *line)
{
	char *copy = keep(strdup(line));
	const char *body = covered(copy);
	char h[HB_SHA256_HEX];

	ref_sha256(body, strlen(body), h);
	memcpy(strstr(copy, HASH_MARK) + strlen(HASH_MARK), h, 64);
	return copy;
}

static void write_head(unsigned long long seq, const char *hash,
		       const char *mac)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"file\":\"%s\",\"seq\":%llu,\"hash\":\"%s\"%s%s%s}\n", LOG,
		 seq, hash, mac ? ",\"hmac\":\"" : "", mac ? mac : "",
		 mac ? "\"" : "");
	make_file(logdir, LOG ".head", text);
}

/* The report of hb_audit_verify(), kept. */
static int verify_log(enum hb_log log, char **report)
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
static void expect_fail(const char *where, const char *why)
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
static void three_records(bool with_key, char **v, char (*h)[HB_SHA256_HEX])
{
	open_log(with_key);
	append_notes(HB_LOG_EXEC, 1, 3, h);
	cr_assert_eq(log_lines(LOG, v), 3);
}

/* What verify should say of name's append-only flag. */
static const char *flag_word(const char *name)
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

/* ---- Encoding and hashing ---- */

Test(audit_crypto, sha256_fips_vectors)
{
	char out[HB_SHA256_HEX];
	const char *two_blocks =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	hb_sha256_hex("abc", 3, out);
	cr_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223"
			      "b00361a396177a9cb410ff61f20015ad");
	hb_sha256_hex("", 0, out);
	cr_assert_str_eq(out, "e3b0c44298fc1c149afbf4c8996fb924"
			      "27ae41e4649b934ca495991b7852b855");
	hb_sha256_hex(two_blocks, strlen(two_blocks), out);
	cr_assert_str_eq(out, "248d6a61d20638b8e5c026930c3e6039"
			      "a33ce45964ff2167f6ecedd419db06c1");
}

Test(audit_crypto, sha256_of_a_file)
{
	char out[HB_SHA256_HEX], *path = keep(path_join(dir, "f"));

	make_file(dir, "f", "abc");
	cr_assert_eq(hb_sha256_file(path, out), 0);
	cr_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223"
			      "b00361a396177a9cb410ff61f20015ad");
	cr_assert_eq(hb_sha256_file(keep(path_join(dir, "none")), out),
		     -ENOENT);
}

/* HMAC pads a key shorter than the block with zeros, so RFC 4231's
 * 20-byte and 4-byte keys padded to 32 bytes give its published values. */
Test(audit_crypto, hmac_rfc4231_vectors)
{
	unsigned char k[HB_AUDIT_KEY_LEN] = {0};
	char out[HB_SHA256_HEX], ref[HB_SHA256_HEX];
	const char *jefe = "what do ya want for nothing?";
	const char *msg = "hivebox audit record";

	memset(k, 0x0b, 20);
	hb_hmac_sha256_hex(k, "Hi There", 8, out);
	cr_assert_str_eq(out, "b0344c61d8db38535ca8afceaf0bf12b"
			      "881dc200c9833da726e9376c2e32cff7");
	memset(k, 0, sizeof(k));
	memcpy(k, "Jefe", 4);
	hb_hmac_sha256_hex(k, jefe, strlen(jefe), out);
	cr_assert_str_eq(out, "5bdcc146bf60754e6a042426089575c7"
			      "5a003f089d2739839dec58b964ec3843");
	/* A full 32-byte key (0x00..0x1f), value from Python's hmac. */
	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (unsigned char)i;
	hb_hmac_sha256_hex(k, msg, strlen(msg), out);
	cr_assert_str_eq(out, "c94e2cbb960c669613cecdeb73722052"
			      "e23553f4e50244cacbccea8d602e7b86");
	ref_hmac(k, msg, strlen(msg), ref);
	cr_assert_str_eq(out, ref);
}

/* The head's HMAC covers "SEQ:HASH"; a head file's hash of any length is
 * cut to the buffer, never read past it. */
Test(audit_crypto, head_hmac_covers_seq_and_hash)
{
	unsigned char k[HB_AUDIT_KEY_LEN];
	char out[HB_SHA256_HEX], ref[HB_SHA256_HEX], msg[128], big[400];
	const char *h = GENESIS;

	memset(k, 0x5a, sizeof(k));
	hb_audit_head_hmac(k, 42, h, out);
	snprintf(msg, sizeof(msg), "42:%s", h);
	ref_hmac(k, msg, strlen(msg), ref);
	cr_assert_str_eq(out, ref);
	memset(big, 'f', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hb_audit_head_hmac(k, 1, big, out);
	/* What fits in the 128-byte message: "1:" and 125 digits. */
	memcpy(msg, "1:", 2);
	memset(msg + 2, 'f', 125);
	ref_hmac(k, msg, 127, ref);
	cr_assert_str_eq(out, ref);
}

Test(audit_crypto, uuid_version_4)
{
	char a[37], b[37];

	for (int n = 0; n < 64; n++) {
		cr_assert_eq(hb_uuid(a), 0);
		cr_assert_eq(strlen(a), 36, "%s", a);
		for (int i = 0; i < 36; i++) {
			bool dash = i == 8 || i == 13 || i == 18 || i == 23;
			cr_assert(
				dash ? a[i] == '-'
				     : a[i] && strchr("0123456789abcdef", a[i]),
				"%s: position %d", a, i);
		}
		cr_assert_eq(a[14], '4', "version of %s", a);
		cr_assert(a[19] && strchr("89ab", a[19]), "variant of %s", a);
	}
	cr_assert_eq(hb_uuid(b), 0);
	cr_assert_str_neq(a, b);
}

static void expect_iso_time(const char *t)
{
	cr_assert_eq(strlen(t), 24, "%s", t);
	for (int i = 0; i < 24; i++) {
		char want = i == 4 || i == 7	 ? '-'
			    : i == 10		 ? 'T'
			    : i == 13 || i == 16 ? ':'
			    : i == 19		 ? '.'
			    : i == 23		 ? 'Z'
						 : '0';
		if (want == '0')
			cr_assert(t[i] >= '0' && t[i] <= '9', "%s at %d", t, i);
		else
			cr_assert_eq(t[i], want, "%s at %d", t, i);
	}
}

Test(audit_crypto, now_iso_is_utc_with_milliseconds)
{
	char t[32], want[32];
	time_t now = time(NULL);
	struct tm tm;

	hb_audit_now_iso(t);
	expect_iso_time(t);
	gmtime_r(&now, &tm);
	strftime(want, sizeof(want), "%Y-%m-%dT%H", &tm);
	/* Unless the hour turned between the two calls. */
	cr_assert(strncmp(t, want, 13) == 0 || now % 3600 == 0, "%s vs %s", t,
		  want);
}

Test(audit_crypto, json_str_and_log_names)
{
	json_object *o = keep_json(json_tokener_parse("{\"s\":\"x\",\"n\":1}"));

	cr_assert_str_eq(hb_json_str(o, "s"), "x");
	cr_assert_null(hb_json_str(o, "n"));
	cr_assert_null(hb_json_str(o, "absent"));
	cr_assert_str_eq(hb_log_name(HB_LOG_EXEC), "execution_audit.log");
	cr_assert_str_eq(hb_log_name(HB_LOG_SECURITY), "security_events.log");
}

Test(audit_crypto, encode_layout_and_hash)
{
	json_object *rec = keep_json(json_object_new_object()), *o, *alpha;
	char hash[HB_SHA256_HEX], want[HB_SHA256_HEX], before[32], after[32];
	const char *line, *body, *t;
	size_t len;

	json_object_object_add(rec, "type", json_object_new_string("start"));
	json_object_object_add(rec, "exec_id", json_object_new_string("e1"));
	json_object_object_add(rec, "zeta", json_object_new_int(1));
	alpha = json_object_new_array();
	json_object_array_add(alpha, json_object_new_string("/srv/a b.py"));
	json_object_object_add(rec, "alpha", alpha);
	hb_audit_now_iso(before);
	line = keep(hb_audit_encode(rec, 7, PREV, NULL, hash));
	hb_audit_now_iso(after);
	cr_assert_not_null(line);
	len = strlen(line);
	cr_assert(len > 2 && strcmp(line + len - 2, "}\n") == 0, "%s", line);
	cr_assert_eq(strchr(line, '\n'), line + len - 1, "one line: %s", line);
	cr_assert(strncmp(line, "{\"seq\":7,\"time\":\"", 17) == 0, "%s", line);
	o = parse(line);
	cr_assert_str_eq(member_names(o),
			 "seq,time,prev_hash,type,exec_id,zeta,alpha,hash");
	cr_assert_eq(int_of(o, "seq"), 7);
	cr_assert_str_eq(str_of(o, "prev_hash"), PREV);
	cr_assert_str_eq(str_of(o, "type"), "start");
	cr_assert_str_eq(str_of(o, "exec_id"), "e1");
	cr_assert_eq(int_of(o, "zeta"), 1);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(
				 member(o, "alpha"), 0)),
			 "/srv/a b.py");
	t = str_of(o, "time");
	expect_iso_time(t);
	cr_assert(strcmp(before, t) <= 0 && strcmp(t, after) <= 0,
		  "%s not within %s..%s", t, before, after);
	body = covered(line);
	ref_sha256(body, strlen(body), want);
	cr_assert_str_eq(hash, want);
	cr_assert_str_eq(str_of(o, "hash"), want);
	cr_assert_null(strstr(line, "hmac"), "no key, no hmac: %s", line);
}

Test(audit_crypto, encode_with_key_adds_hmac)
{
	json_object *rec = keep_json(note(1)), *o;
	char hash[HB_SHA256_HEX], mac[HB_SHA256_HEX], want[HB_SHA256_HEX];
	char *tail = NULL;
	const char *line, *body;

	line = keep(hb_audit_encode(rec, 1, GENESIS, key, hash));
	cr_assert_not_null(line);
	o = parse(line);
	cr_assert_str_eq(member_names(o),
			 "seq,time,prev_hash,type,n,hash,hmac");
	cr_assert_str_eq(str_of(o, "prev_hash"), GENESIS);
	body = covered(line);
	ref_sha256(body, strlen(body), want);
	ref_hmac(key, body, strlen(body), mac);
	cr_assert_str_neq(want, mac);
	cr_assert_str_eq(hash, want);
	cr_assert_str_eq(str_of(o, "hmac"), mac);
	/* hash and hmac are the last bytes of the line, in that order. */
	cr_assert_geq(asprintf(&tail, ",\"hash\":\"%s\",\"hmac\":\"%s\"}\n",
			       want, mac),
		      0);
	keep(tail);
	cr_assert_str_eq(line + strlen(line) - strlen(tail), tail);
}

Test(audit_crypto, encode_drops_reserved_names)
{
	json_object *rec = keep_json(json_object_new_object()), *o;
	char hash[HB_SHA256_HEX];
	const char *line;
	const char *reserved[] = {"seq", "time", "prev_hash", "hash", "hmac"};

	json_object_object_add(rec, "seq", json_object_new_int(99));
	json_object_object_add(rec, "kind", json_object_new_string("x"));
	for (size_t i = 1; i < ARRAY_SIZE(reserved); i++)
		json_object_object_add(rec, reserved[i],
				       json_object_new_string("forged"));
	line = keep(hb_audit_encode(rec, 3, PREV, key, hash));
	cr_assert_not_null(line);
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
		char quoted[32];
		snprintf(quoted, sizeof(quoted), "\"%s\":", reserved[i]);
		cr_assert_eq(occurrences(line, quoted), 1, "%s in %s", quoted,
			     line);
	}
	cr_assert_null(strstr(line, "forged"), "%s", line);
	o = parse(line);
	cr_assert_str_eq(member_names(o), "seq,time,prev_hash,kind,hash,hmac");
	cr_assert_eq(int_of(o, "seq"), 3);
	cr_assert_str_eq(str_of(o, "prev_hash"), PREV);
	cr_assert_str_eq(str_of(o, "hash"), hash);
	/* The caller's object is not changed. */
	cr_assert_eq(int_of(rec, "seq"), 99);
	cr_assert_str_eq(str_of(rec, "hash"), "forged");
}

/* ---- Opening the directory ---- */

Test(audit_open, creates_nested_directory)
{
	char *want = keep(path_join(dir, "a/b/log"));
	struct hb_diag d = {0};
	struct stat st, fst;

	cr_assert_eq(hb_audit_open(&audit, want, NULL, HB_AUDIT_CREATE, &d), 0,
		     "%s", d.msg);
	cr_assert_eq(lstat(want, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07, 0, "mode %o", st.st_mode & 0777);
	cr_assert_str_eq(audit.dir, want);
	cr_assert_eq(fstat(audit.dirfd, &fst), 0);
	cr_assert_eq(fst.st_ino, st.st_ino);
	cr_assert_not(audit.have_key);
}

Test(audit_open, relative_directory_made_absolute)
{
	struct hb_diag d = {0};

	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(
		hb_audit_open(&audit, "rel/./log", NULL, HB_AUDIT_CREATE, &d),
		0, "%s", d.msg);
	cr_assert_str_eq(audit.dir, keep(path_join(dir, "rel/log")));
}

Test(audit_open, refuses_a_symlink)
{
	char *link = keep(path_join(dir, "link"));
	const unsigned flags[] = {HB_AUDIT_CREATE, 0};

	make_dir(dir, "real");
	make_symlink(dir, "link", "real");
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		struct hb_diag d = {0};
		int r = hb_audit_open(&audit, link, NULL, flags[i], &d);
		cr_assert_lt(r, 0, "flags %u", flags[i]);
		cr_assert_not_null(strstr(d.msg, "symlink"), "%s", d.msg);
		cr_assert_str_eq(d.file, link);
		cr_assert_eq(audit.dirfd, -1);
		cr_assert_null(audit.dir);
		hb_audit_close(&audit);
	}
}

Test(audit_open, missing_directory_without_create)
{
	char *path = keep(path_join(dir, "absent"));
	struct hb_diag d = {0};
	struct stat st;

	cr_assert_lt(hb_audit_open(&audit, path, NULL, 0, &d), 0);
	cr_assert_str_eq(d.file, path);
	cr_assert_not_null(strstr(d.msg, strerror(ENOENT)), "%s", d.msg);
	cr_assert_eq(audit.dirfd, -1);
	cr_assert_eq(lstat(path, &st), -1, "it was created");
	cr_assert_eq(errno, ENOENT);
}

Test(audit_open, a_file_is_not_a_directory)
{
	char *path = keep(path_join(dir, "plain"));
	const unsigned flags[] = {HB_AUDIT_CREATE, 0};

	make_file(dir, "plain", "x");
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		struct hb_diag d = {0};
		cr_assert_lt(hb_audit_open(&audit, path, NULL, flags[i], &d),
			     0);
		cr_assert_not_null(strstr(d.msg, strerror(ENOTDIR)), "%s",
				   d.msg);
		hb_audit_close(&audit);
	}
}

Test(audit_open, key_loaded)
{
	struct hb_diag d = {0};
	char *kf = write_key(HB_AUDIT_KEY_LEN);

	cr_assert_eq(hb_audit_open(&audit, logdir, kf,
				   HB_AUDIT_CREATE | HB_AUDIT_KEY_REQUIRED, &d),
		     0, "%s", d.msg);
	cr_assert(audit.have_key);
	cr_assert_arr_eq(audit.key, key, sizeof(key));
	hb_audit_close(&audit);
	cr_assert_not(audit.have_key);
	cr_assert_eq(audit.dirfd, -1);
}

Test(audit_open, key_of_the_wrong_length)
{
	const size_t lengths[] = {0, HB_AUDIT_KEY_LEN - 1,
				  HB_AUDIT_KEY_LEN + 1};

	for (size_t i = 0; i < ARRAY_SIZE(lengths); i++) {
		struct hb_diag d = {0};
		char *kf = write_key(lengths[i]);
		cr_assert_lt(
			hb_audit_open(&audit, logdir, kf, HB_AUDIT_CREATE, &d),
			0, "%zu bytes", lengths[i]);
		cr_assert_str_eq(d.file, kf);
		cr_assert_not_null(strstr(d.msg, "exactly 32 bytes"), "%s",
				   d.msg);
		cr_assert_not(audit.have_key);
		hb_audit_close(&audit);
	}
}

Test(audit_open, missing_key_is_a_plain_chain_unless_required)
{
	char *kf = keep(path_join(dir, "no.key")), *text;
	struct hb_diag d = {0};

	cr_assert_eq(hb_audit_open(&audit, logdir, kf, HB_AUDIT_CREATE, &d), 0,
		     "%s", d.msg);
	cr_assert_not(audit.have_key);
	append_notes(HB_LOG_EXEC, 1, 1, NULL);
	text = keep(read_text(logdir, LOG));
	cr_assert_null(strstr(text, "hmac"), "%s", text);
	hb_audit_close(&audit);
	cr_assert_lt(hb_audit_open(&audit, logdir, kf,
				   HB_AUDIT_CREATE | HB_AUDIT_KEY_REQUIRED, &d),
		     0);
	cr_assert_str_eq(d.file, kf);
	cr_assert_not_null(strstr(d.msg, "cannot read the audit key"), "%s",
			   d.msg);
	cr_assert_not(audit.have_key);
}

/* ---- Appending ---- */

static void expect_chain(char **v, char (*h)[HB_SHA256_HEX], size_t n,
			 bool with_key)
{
	for (size_t i = 0; i < n; i++) {
		json_object *o = parse(v[i]);
		const char *body = covered(v[i]);
		char want[HB_SHA256_HEX];
		cr_assert_eq(int_of(o, "seq"), (long long)i + 1);
		cr_assert_eq(int_of(o, "n"), (long long)i + 1);
		cr_assert_str_eq(str_of(o, "prev_hash"),
				 i ? h[i - 1] : GENESIS);
		ref_sha256(body, strlen(body), want);
		cr_assert_str_eq(h[i], want, "line %zu", i + 1);
		cr_assert_str_eq(str_of(o, "hash"), want);
		if (!with_key) {
			cr_assert_not(has(o, "hmac"), "%s", v[i]);
			continue;
		}
		ref_hmac(key, body, strlen(body), want);
		cr_assert_str_eq(str_of(o, "hmac"), want, "line %zu", i + 1);
	}
}

Test(audit_append, chain_with_key_and_head)
{
	char h[3][HB_SHA256_HEX], want[HB_SHA256_HEX], msg[128], *v[MAX_LINES];
	json_object *head;

	three_records(true, v, h);
	expect_chain(v, h, 3, true);
	head = parse(keep(read_text(logdir, LOG ".head")));
	cr_assert_str_eq(str_of(head, "file"), LOG);
	cr_assert_eq(int_of(head, "seq"), 3);
	cr_assert_str_eq(str_of(head, "hash"), h[2]);
	snprintf(msg, sizeof(msg), "3:%s", h[2]);
	ref_hmac(key, msg, strlen(msg), want);
	cr_assert_str_eq(str_of(head, "hmac"), want);
}

Test(audit_append, chain_without_key)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];
	json_object *head;

	three_records(false, v, h);
	expect_chain(v, h, 3, false);
	head = parse(keep(read_text(logdir, LOG ".head")));
	cr_assert_eq(int_of(head, "seq"), 3);
	cr_assert_str_eq(str_of(head, "hash"), h[2]);
	cr_assert_not(has(head, "hmac"));
}

Test(audit_append, tail_agrees)
{
	char h[2][HB_SHA256_HEX], got[HB_SHA256_HEX] = "";
	unsigned long long seq = 0;
	int fd;

	open_log(false);
	append_notes(HB_LOG_EXEC, 1, 2, h);
	fd = openat(audit.dirfd, LOG, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(hb_audit_tail(fd, &seq, got), 0);
	close(fd);
	cr_assert_eq(seq, 2);
	cr_assert_str_eq(got, h[1]);
}

static int tail_of(const char *text, unsigned long long *seq, char *hash)
{
	char *path = keep(path_join(dir, "t.log"));
	int fd, r;

	make_file(dir, "t.log", text);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	r = hb_audit_tail(fd, seq, hash);
	close(fd);
	return r;
}

Test(audit_append, tail_of_empty_and_bad_logs)
{
	char hash[HB_SHA256_HEX] = "x";
	unsigned long long seq = 99;

	cr_assert_eq(tail_of("", &seq, hash), 0);
	cr_assert_eq(seq, 0);
	cr_assert_str_eq(hash, GENESIS);
	cr_assert_eq(tail_of("not json\n", &seq, hash), -EBADMSG);
	cr_assert_eq(tail_of("{\"seq\":1,\"hash\":\"abc\"}\n", &seq, hash),
		     -EBADMSG);
	cr_assert_eq(
		tail_of("{\"seq\":1,\"hash\":\"" GENESIS "\"}", &seq, hash),
		-EBADMSG);
	/* Not ending in a newline is torn, whatever the bytes before. */
	cr_assert_eq(
		tail_of("{\"seq\":1,\"hash\":\"" GENESIS "\"} ", &seq, hash),
		-EBADMSG);
}

Test(audit_append, logs_are_separate_chains)
{
	char e[2][HB_SHA256_HEX], s[1][HB_SHA256_HEX], *v[MAX_LINES];
	json_object *o;

	open_log(false);
	append_notes(HB_LOG_EXEC, 1, 2, e);
	append_notes(HB_LOG_SECURITY, 1, 1, s);
	cr_assert_eq(log_lines(SEC, v), 1);
	o = parse(v[0]);
	cr_assert_eq(int_of(o, "seq"), 1);
	cr_assert_str_eq(str_of(o, "prev_hash"), GENESIS);
	o = parse(keep(read_text(logdir, SEC ".head")));
	cr_assert_str_eq(str_of(o, "file"), SEC);
	cr_assert_eq(int_of(o, "seq"), 1);
	cr_assert_str_eq(str_of(o, "hash"), s[0]);
	o = parse(keep(read_text(logdir, LOG ".head")));
	cr_assert_eq(int_of(o, "seq"), 2);
	cr_assert_str_eq(str_of(o, "hash"), e[1]);
}

Test(audit_append, long_record_then_short)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], *blob = keep(malloc(20001));
	json_object *rec = json_object_new_object(), *o;
	int r;

	memset(blob, 'x', 20000);
	blob[20000] = '\0';
	json_object_object_add(rec, "type", json_object_new_string("note"));
	json_object_object_add(rec, "blob", json_object_new_string(blob));
	open_log(false);
	r = hb_audit_append(&audit, HB_LOG_EXEC, rec, h[0]);
	cr_assert_eq(r, 0, "%s", strerror(-r));
	append_notes(HB_LOG_EXEC, 2, 3, h + 1);
	cr_assert_eq(log_lines(LOG, v), 3);
	o = parse(v[1]);
	cr_assert_eq(int_of(o, "seq"), 2);
	cr_assert_str_eq(str_of(o, "prev_hash"), h[0]);
	o = parse(v[2]);
	cr_assert_eq(int_of(o, "seq"), 3);
	cr_assert_str_eq(str_of(o, "prev_hash"), h[1]);
}

/* A writer that died mid-line left torn bytes: the next append cuts
 * them (they were never a record), says how many in its record, and the
 * chain goes on and verifies. */
Test(audit_append, torn_log_repaired)
{
	static const char torn[] = "{\"seq\":2,\"time\":\"20";
	char hash[HB_SHA256_HEX], *after, *report;
	json_object *head, *rec;
	int r;

	open_log(false);
	append_notes(HB_LOG_EXEC, 1, 1, NULL);
	log_append_raw(LOG, torn);
	r = hb_audit_append(&audit, HB_LOG_EXEC, note(2), hash);
	cr_assert_eq(r, 0, "%d", r);
	after = keep(read_text(logdir, LOG));
	cr_assert_null(strstr(after, "\"time\":\"20{"), "%s", after);
	rec = parse(keep(strdup(strchr(after, '\n') + 1)));
	cr_assert_eq(int_of(rec, "seq"), 2);
	cr_assert_eq(int_of(rec, "repaired_torn_bytes"), (int)strlen(torn));
	head = parse(keep(read_text(logdir, LOG ".head")));
	cr_assert_eq(int_of(head, "seq"), 2);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
}

/* Whether root can set the append-only flag in logdir: skips if not. */
static void need_append_only(void)
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

Test(audit_append, append_only_when_asked)
{
	char *report;

	need_append_only();
	open_log_flags(false, HB_AUDIT_APPEND_ONLY);
	cr_assert(audit.append_only);
	append_notes(HB_LOG_EXEC, 1, 2, NULL);
	cr_assert_str_eq(flag_word(LOG), "set");
	/* The head is replaced on every append, so it must not be. */
	cr_assert_str_eq(flag_word(LOG ".head"), "not set");
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, "\n  append-only flag: set\n"), "%s",
			   report);
}

Test(audit_append, not_append_only_unless_asked)
{
	char *report;

	open_log(false);
	cr_assert_not(audit.append_only);
	append_notes(HB_LOG_EXEC, 1, 1, NULL);
	cr_assert_str_neq(flag_word(LOG), "set");
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_null(strstr(report, "append-only flag: set"), "%s", report);
}

/* ---- Verifying ---- */

Test(audit_verify, intact_without_key)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], *report, want[128];
	const char *ok = LOG ": OK, 3 records in 1 file, hash chain verified; "
			     "no key, so no HMAC checked\n";

	three_records(false, v, h);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert(strncmp(report, ok, strlen(ok)) == 0, "%s", report);
	cr_assert_not_null(strstr(report, "\n  head: matches seq 3\n"), "%s",
			   report);
	snprintf(want, sizeof(want), "\n  append-only flag: %s\n",
		 flag_word(LOG));
	cr_assert_not_null(strstr(report, want), "%s", report);
}

Test(audit_verify, intact_with_key)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], *report;
	const char *want = LOG ": OK, 3 records in 1 file, HMAC-SHA-256 and "
			       "hash chain verified\n";

	three_records(true, v, h);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert(strncmp(report, want, strlen(want)) == 0, "%s", report);
	cr_assert_null(strstr(report, "could not be checked"), "%s", report);
}

Test(audit_verify, hmac_unchecked_without_the_key)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], *report;
	struct hb_diag d = {0};

	three_records(true, v, h);
	hb_audit_close(&audit);
	cr_assert_eq(hb_audit_open(&audit, logdir, NULL, 0, &d), 0);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, "no key, so no HMAC checked\n"
					  "  3 records carry an HMAC that "
					  "could not be checked"),
			   "%s", report);
}

Test(audit_verify, no_records_yet)
{
	char *report;

	open_log(false);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0);
	cr_assert_str_eq(report, LOG ": no records yet\n");
}

/* Records without their anchor: the head was removed, and with it the
 * only way to see a cut tail. */
Test(audit_verify, head_missing_fails)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], *report;

	three_records(false, v, h);
	remove_log_file(LOG ".head");
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 1, "%s", report);
	cr_assert_not_null(strstr(report, "the head file is missing"), "%s",
			   report);
}

Test(audit_verify, head_behind_is_noted)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], *report;

	three_records(false, v, h);
	write_head(2, h[1], NULL);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, "  head: seq 2, behind the log's 3 "),
			   "%s", report);
}

Test(audit_verify, edited_byte)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	v[1] = replaced(v[1], "\"n\":2", "\"n\":7");
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":2",
		    "hash does not match the record's content (edited)\n");
}

Test(audit_verify, deleted_record)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];
	char *w[] = {NULL, NULL};

	three_records(false, v, h);
	w[0] = v[0];
	w[1] = v[2];
	log_write(LOG, w, 2, false);
	expect_fail(LOG ":2", "seq 3 follows seq 1: a record was deleted, "
			      "inserted or moved\n");
}

Test(audit_verify, inserted_record)
{
	char h[3][HB_SHA256_HEX], fh[HB_SHA256_HEX], *v[MAX_LINES];
	json_object *rec = keep_json(note(9));
	char *forged, *w[4];

	three_records(false, v, h);
	forged = keep(hb_audit_encode(rec, 2, h[0], NULL, fh));
	forged[strlen(forged) - 1] = '\0';
	w[0] = v[0];
	w[1] = forged; /* correctly hashed and linked: seq gives it away */
	w[2] = v[1];
	w[3] = v[2];
	log_write(LOG, w, 4, false);
	expect_fail(LOG ":3", "seq 2 follows seq 2: a record was deleted, "
			      "inserted or moved\n");
}

Test(audit_verify, swapped_records)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];
	char *w[3];

	three_records(false, v, h);
	w[0] = v[0];
	w[1] = v[2];
	w[2] = v[1];
	log_write(LOG, w, 3, false);
	expect_fail(LOG ":2", "seq 3 follows seq 1: ");
}

Test(audit_verify, prev_hash_broken)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	v[1] = rehashed(replaced(v[1], h[0], PREV));
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":2", "prev_hash is not the previous record's hash "
			      "(chain broken)\n");
}

Test(audit_verify, cut_tail)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	log_write(LOG, v, 2, false);
	expect_fail(LOG ":2", "the log ends before the head's last record "
			      "(tail truncated)\n");
}

Test(audit_verify, last_record_replaced)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	v[2] = rehashed(replaced(v[2], "\"n\":3", "\"n\":8"));
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":3", "the last record is not the one the head names "
			      "(replaced)\n");
}

Test(audit_verify, corrupt_line)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	v[1] = "this is not JSON";
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":2", "not a JSON object\n");
}

Test(audit_verify, torn_last_line)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	v[2][strlen(v[2]) / 2] = '\0';
	log_write(LOG, v, 3, true);
	expect_fail(LOG ":3", "the last record is cut short (truncated "
			      "mid-record)\n");
}

Test(audit_verify, hmac_stripped)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], *mark;

	three_records(true, v, h);
	mark = strstr(v[1], ",\"hmac\":\"");
	cr_assert_not_null(mark);
	strcpy(mark, "}");
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":2", "record has no HMAC although a key exists "
			      "(rewritten without the key?)\n");
}

Test(audit_verify, hmac_wrong_after_rehash)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(true, v, h);
	v[1] = rehashed(replaced(v[1], "\"n\":2", "\"n\":7"));
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":2",
		    "HMAC does not match (rewritten without the key)\n");
}

Test(audit_verify, head_hmac_wrong)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], msg[128], mac[HB_SHA256_HEX];
	unsigned char other[HB_AUDIT_KEY_LEN];

	three_records(true, v, h);
	memset(other, 0x42, sizeof(other));
	snprintf(msg, sizeof(msg), "3:%s", h[2]);
	ref_hmac(other, msg, strlen(msg), mac);
	write_head(3, h[2], mac);
	expect_fail(LOG ".head:1", "head HMAC does not match (rewritten)\n");
	write_head(3, h[2], NULL);
	expect_fail(LOG ".head:1", "head HMAC does not match (rewritten)\n");
}

Test(audit_verify, first_record_does_not_start_the_chain)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	log_write(LOG, v + 1, 2, false);
	expect_fail(LOG ":1", "the first record does not start the chain "
			      "(records before it deleted?)\n");
}

/* The hash and HMAC cover the line only up to its "hash" member.  A
 * member slipped in after them (here a second "n", which json-c and so
 * `audit show` read in place of the first) must not pass as intact. */
Test(audit_verify, member_after_the_hash_is_caught)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];
	size_t len;

	three_records(true, v, h);
	len = strlen(v[1]);
	cr_assert_eq(v[1][len - 1], '}');
	v[1] = replaced(v[1], "\"}", "\",\"n\":99}");
	cr_assert_eq(int_of(parse(v[1]), "n"), 99, "the forged value is read");
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":2", "record has no hash, or something after it");
}

/* ---- Rotating ---- */

static char *first_rotated(size_t *n)
{
	struct hb_strv files = {0};
	char *name;
	int r = hb_audit_rotated_files(&audit, LOG, &files);

	*n = files.n;
	name = files.n ? keep(strdup(files.v[0])) : NULL;
	hb_strv_clear(&files);
	cr_assert_eq(r, 0);
	return name;
}

Test(audit_rotate, continues_the_chain)
{
	char h[3][HB_SHA256_HEX], n5[1][HB_SHA256_HEX], *v[MAX_LINES], *w[3];
	char want[HB_SHA256_HEX], *report, *name;
	const char *body;
	json_object *o, *head;
	size_t n;

	three_records(true, v, h);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	name = first_rotated(&n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(name, LOG ".000000000003");
	cr_assert_eq(log_lines(name, w), 3);
	for (size_t i = 0; i < 3; i++)
		cr_assert_str_eq(w[i], v[i]);
	cr_assert_eq(log_lines(LOG, w), 1);
	o = parse(w[0]);
	cr_assert_str_eq(str_of(o, "type"), "rotation");
	cr_assert_str_eq(str_of(o, "previous_file"), LOG ".000000000003");
	cr_assert_eq(int_of(o, "previous_seq"), 3);
	cr_assert_eq(int_of(o, "seq"), 4);
	cr_assert_str_eq(str_of(o, "prev_hash"), h[2]);
	body = covered(w[0]);
	ref_hmac(key, body, strlen(body), want);
	cr_assert_str_eq(str_of(o, "hmac"), want);
	head = parse(keep(read_text(logdir, LOG ".head")));
	cr_assert_eq(int_of(head, "seq"), 4);
	cr_assert_str_eq(str_of(head, "hash"), str_of(o, "hash"));
	append_notes(HB_LOG_EXEC, 5, 5, n5);
	cr_assert_eq(log_lines(LOG, w), 2);
	cr_assert_eq(int_of(parse(w[1]), "seq"), 5);
	cr_assert_str_eq(str_of(parse(w[1]), "prev_hash"), str_of(o, "hash"));
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, ": OK, 5 records in 2 files, "), "%s",
			   report);
	cr_assert_not(exists(SEC), "the security log was not touched");
}

Test(audit_rotate, append_only_kept_on_both_files)
{
	char *report;

	need_append_only();
	open_log_flags(false, HB_AUDIT_APPEND_ONLY);
	append_notes(HB_LOG_EXEC, 1, 2, NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	cr_assert_str_eq(flag_word(LOG ".000000000002"), "set");
	cr_assert_str_eq(flag_word(LOG), "set");
	append_notes(HB_LOG_EXEC, 4, 4, NULL);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, ": OK, 4 records in 2 files, "), "%s",
			   report);
}

Test(audit_rotate, plain_log_stays_plain)
{
	open_log(false);
	append_notes(HB_LOG_EXEC, 1, 2, NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	cr_assert_str_neq(flag_word(LOG ".000000000002"), "set");
	cr_assert_str_neq(flag_word(LOG), "set");
}

Test(audit_rotate, empty_log_left_alone)
{
	struct stat st;
	size_t n;

	open_log(false);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	cr_assert_not(exists(LOG));
	make_file(logdir, LOG, "");
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	cr_assert_null(first_rotated(&n));
	cr_assert_eq(n, 0);
	cr_assert_eq(fstatat(audit.dirfd, LOG, &st, 0), 0);
	cr_assert_eq(st.st_size, 0);
	cr_assert_not(exists(LOG ".head"));
}

Test(audit_rotate, torn_log_not_rotated)
{
	size_t n;

	open_log(false);
	append_notes(HB_LOG_EXEC, 1, 1, NULL);
	log_append_raw(LOG, "{\"seq\":2");
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), -EBADMSG);
	cr_assert_null(first_rotated(&n));
}

Test(audit_rotate, rotated_files_listed_oldest_first)
{
	const char *others[] = {LOG,
				LOG ".head",
				LOG ".12",
				LOG ".00000000000a",
				LOG ".0000000000001",
				SEC ".000000000001",
				"x" LOG ".000000000005"};
	const unsigned long long seqs[] = {2,	9,   10,   35,
					   100, 123, 4096, 999999999999ULL};
	struct hb_strv files = {0};
	char got[1024] = "", want[1024] = "", name[64];
	int r;

	open_log(false);
	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		make_file(logdir, others[i], "");
	/* Newest first, so that the order on disk is not the answer. */
	for (size_t i = ARRAY_SIZE(seqs); i-- > 0;) {
		snprintf(name, sizeof(name), "%s.%012llu", LOG, seqs[i]);
		make_file(logdir, name, "");
	}
	for (size_t i = 0; i < ARRAY_SIZE(seqs); i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 "%s%s.%012llu", i ? " " : "", LOG, seqs[i]);
	r = hb_audit_rotated_files(&audit, LOG, &files);
	for (size_t i = 0; i < files.n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
			 i ? " " : "", files.v[i]);
	hb_strv_clear(&files);
	cr_assert_eq(r, 0);
	cr_assert_str_eq(got, want);
}

Test(audit_rotate, oldest_files_removed)
{
	char *report;

	open_log(false);
	append_notes(HB_LOG_EXEC, 1, 2, NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	append_notes(HB_LOG_EXEC, 4, 4, NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	append_notes(HB_LOG_EXEC, 6, 6, NULL);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, ": OK, 6 records in 3 files, "), "%s",
			   report);
	cr_assert_null(strstr(report, "begins with a rotation"), "%s", report);
	/* A file from the middle: the chain has a gap. */
	remove_log_file(LOG ".000000000004");
	expect_fail(LOG ":1", "seq 5 follows seq 2: ");
	/* The oldest files: allowed, and noted. */
	remove_log_file(LOG ".000000000002");
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, ": OK, 2 records in 1 file, "), "%s",
			   report);
	cr_assert_not_null(strstr(report, "\n  the oldest file left begins "
					  "with a rotation; older files were "
					  "removed\n"),
			   "%s", report);
}

/* After a rotation the file:line of a cut tail is still the line in the
 * current file, not a count over every file. */
Test(audit_rotate, cut_tail_after_rotation_names_the_line)
{
	char *v[MAX_LINES];

	open_log(false);
	append_notes(HB_LOG_EXEC, 1, 3, NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	append_notes(HB_LOG_EXEC, 5, 6, NULL);
	cr_assert_eq(log_lines(LOG, v), 3);
	log_write(LOG, v, 2, false);
	expect_fail(LOG ":2", "the log ends before the head's last record "
			      "(tail truncated)\n");
}

/* The same for a last record replaced after a rotation. */
Test(audit_rotate, replaced_after_rotation_names_the_line)
{
	char *v[MAX_LINES];

	open_log(false);
	append_notes(HB_LOG_EXEC, 1, 3, NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	append_notes(HB_LOG_EXEC, 5, 6, NULL);
	cr_assert_eq(log_lines(LOG, v), 3);
	v[2] = rehashed(replaced(v[2], "\"n\":6", "\"n\":8"));
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":3", "the last record is not the one the head names "
			      "(replaced)\n");
}

/* ---- Stored policies ---- */

static size_t entries(const char *name)
{
	char *path = keep(path_join(logdir, name));
	DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	cr_assert_not_null(d, "%s: %s", path, strerror(errno));
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

Test(audit_rotate, store_policy_once_by_hash)
{
	const char *text = "[limits]\ntimeout_seconds = 5\n";
	char sha[HB_SHA256_HEX], again[HB_SHA256_HEX], want[HB_SHA256_HEX];
	char name[128], *stored;

	open_log(false);
	cr_assert_eq(hb_audit_store_policy(&audit, text, sha), 0);
	ref_sha256(text, strlen(text), want);
	cr_assert_str_eq(sha, want);
	snprintf(name, sizeof(name), "policies/%s.ini", want);
	stored = keep(read_text(logdir, name));
	cr_assert_not_null(stored, "no %s", name);
	cr_assert_str_eq(stored, text);
	cr_assert_eq(entries("policies"), 1);
	/* Once there, the file is not written again. */
	make_file(logdir, name, "left alone\n");
	cr_assert_eq(hb_audit_store_policy(&audit, text, again), 0);
	cr_assert_str_eq(again, want);
	cr_assert_str_eq(keep(read_text(logdir, name)), "left alone\n");
	cr_assert_eq(entries("policies"), 1);
	cr_assert_eq(hb_audit_store_policy(&audit, "[other]\n", again), 0);
	cr_assert_str_neq(again, want);
	cr_assert_eq(entries("policies"), 2);
}

/* ---- show and stats ---- */

#define ID_A "aaaaaaaa-0000-4000-8000-00000000000a"
#define ID_B "bbbbbbbb-0000-4000-8000-00000000000b"
#define ID_C "cccccccc-0000-4000-8000-00000000000c"
#define ID_D "dddddddd-0000-4000-8000-00000000000d"
#define ID_E "eeeeeeee-0000-4000-8000-00000000000e"
#define STRICT "/etc/hivebox/strict.ini"
#define LOOSE "/etc/hivebox/loose.ini"

struct run_rec {
	const char *id, *start, *script, *policy;
};

static const struct run_rec run_a = {ID_A, "2001-01-01T09:00:00.000Z",
				     "/srv/a.py", STRICT};
static const struct run_rec run_b = {ID_B, "2002-01-01T09:00:00.000Z",
				     "/srv/b.py", STRICT};
static const struct run_rec run_c = {ID_C, "2003-01-01T09:00:00.000Z",
				     "/srv/a.py", LOOSE};

/* A pid that no process has now. */
static pid_t gone_pid(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

/* A process whose name is "hivebox", as a launcher still running. */
static pid_t fake_hivebox(void)
{
	int p[2];
	char c;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		prctl(PR_SET_NAME, "hivebox");
		(void)!write(p[1], "x", 1);
		for (;;)
			pause();
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return child;
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
	plan = (struct hb_plan){.policy = &p};
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

static void append_start(const struct run_rec *run, pid_t pid)
{
	json_object *rec = run_record(run, NULL);
	int r;

	json_object_object_add(rec, "pid", json_object_new_int(pid));
	r = hb_audit_append(&audit, HB_LOG_EXEC, rec, NULL);
	cr_assert_eq(r, 0, "%s", strerror(-r));
}

static void append_end(const struct run_rec *run, const struct hb_result *res)
{
	int r = hb_audit_append(&audit, HB_LOG_EXEC, run_record(run, res),
				NULL);

	cr_assert_eq(r, 0, "%s", strerror(-r));
}

/* An event as the supervisor records it, through hb_events_event(). */
static void append_event(const char *id, const char *kind,
			 enum hb_event_class cls, const char *msg,
			 json_object *details)
{
	struct hb_events w = {.audit = &audit, .quiet = true};

	snprintf(w.exec_id, sizeof(w.exec_id), "%s", id);
	hb_events_event(&w, kind, cls, msg, details);
	cr_assert_eq(w.audit_errors, 0);
}

/* A finished run (A), a timeout with its violation (B), a run whose
 * launcher died after a memory alert (C), and a refusal before any run
 * (D), interleaved as concurrent runs write them. */
static void small_trail(void)
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

static int show(const struct hb_audit_query *q, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	cr_assert_not_null(f);
	r = hb_audit_show(&audit, q, f);
	fclose(f);
	*out = keep(buf);
	return r;
}

static int stats(const struct hb_audit_query *q, char **out)
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

/* The line of text holding s, or NULL. */
static char *line_with(const char *text, const char *s)
{
	const char *at = strstr(text, s), *start, *end;

	if (!at)
		return NULL;
	for (start = at; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(at, '\n');
	return keep(
		strndup(start, end ? (size_t)(end - start) : strlen(start)));
}

/* The run's row holds these words and ends in these numbers. */
static void expect_row(const char *text, const char *id, const char *outcome,
		       const char *wall, const char *viol, const char *alerts)
{
	char *row = line_with(text, id), nums[64];

	cr_assert_not_null(row, "no row for %s in:\n%s", id, text);
	cr_assert_not_null(strstr(row, outcome), "'%s' not in: %s", outcome,
			   row);
	snprintf(nums, sizeof(nums), "  %7s  %10s  %6s", wall, viol, alerts);
	cr_assert(strlen(row) > strlen(nums) &&
			  strcmp(row + strlen(row) - strlen(nums), nums) == 0,
		  "'%s' does not end in '%s'", row, nums);
}

static unsigned count_lines(const char *text)
{
	return occurrences(text, "\n");
}

Test(audit_show, lists_runs_in_start_order)
{
	struct hb_audit_query q = {0};
	char *out, *pa, *pb, *pc, *pd, *ev;

	small_trail();
	cr_assert_eq(show(&q, &out), 0);
	cr_assert(strncmp(out, "START", 5) == 0, "%s", out);
	pa = strstr(out, ID_A);
	pb = strstr(out, ID_B);
	pc = strstr(out, ID_C);
	pd = strstr(out, ID_D);
	cr_assert(pa && pb && pc && pd, "%s", out);
	cr_assert(pa < pb && pb < pc && pc < pd, "%s", out);
	expect_row(out, ID_A, "  exit 0  ", "100", "0", "0");
	cr_assert_not_null(strstr(line_with(out, ID_A),
				  "2001-01-01T09:00:00.000Z  " ID_A
				  "  /srv/a.py  " STRICT " "),
			   "%s", out);
	expect_row(out, ID_B, "  timeout SIGKILL  ", "5000", "1", "0");
	expect_row(out, ID_C, "  launcher died  ", "-", "0", "1");
	cr_assert_not_null(strstr(line_with(out, ID_C), LOOSE), "%s", out);
	expect_row(out, ID_D, "  not started  ", "-", "1", "0");
	cr_assert_not_null(strstr(line_with(out, ID_D), STRICT), "%s", out);
	ev = strstr(out, "  timeout: ran longer than 5 s\n");
	cr_assert(ev && ev > pb && ev < pc, "%s", out);
	ev = strstr(out, "  memory_usage_alert: memory at 90%\n");
	cr_assert(ev && ev > pc && ev < pd, "%s", out);
	ev = strstr(out, "  refusal: --memory-mb would loosen the policy\n");
	cr_assert(ev && ev > pd, "%s", out);
	cr_assert_eq(count_lines(out), 8, "%s", out);
}

Test(audit_show, running_launcher)
{
	static const struct run_rec run_e = {ID_E, "2004-01-01T09:00:00.000Z",
					     "/srv/e.py", STRICT};
	struct hb_audit_query q = {0};
	char *out, want[64];
	pid_t pid = fake_hivebox();

	open_log(false);
	append_start(&run_e, pid);
	cr_assert_eq(show(&q, &out), 0);
	snprintf(want, sizeof(want), "  running (pid %d)  ", (int)pid);
	expect_row(out, ID_E, want, "-", "0", "0");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	child = -1;
	cr_assert_eq(show(&q, &out), 0);
	expect_row(out, ID_E, "  launcher died  ", "-", "0", "0");
}

Test(audit_show, pid_reused_by_another_program)
{
	static const struct run_rec run_e = {ID_E, "2004-01-01T09:00:00.000Z",
					     "/srv/e.py", STRICT};
	struct hb_audit_query q = {0};
	char *out;

	open_log(false);
	/* Alive, but the test runner, not a hivebox. */
	append_start(&run_e, getppid());
	cr_assert_eq(show(&q, &out), 0);
	expect_row(out, ID_E, "  launcher died  ", "-", "0", "0");
}

Test(audit_show, exec_filter)
{
	struct hb_audit_query q = {.exec_id = ID_B};
	char *out;

	small_trail();
	cr_assert_eq(show(&q, &out), 0);
	expect_row(out, ID_B, "  timeout SIGKILL  ", "5000", "1", "0");
	cr_assert_not_null(strstr(out, "  timeout: ran longer than 5 s\n"));
	cr_assert_null(strstr(out, ID_A), "%s", out);
	cr_assert_null(strstr(out, ID_C), "%s", out);
	cr_assert_null(strstr(out, ID_D), "%s", out);
	cr_assert_eq(count_lines(out), 3, "%s", out);
}

Test(audit_show, event_filter)
{
	struct hb_audit_query q = {.event = "memory_usage_alert"};
	char *out;

	small_trail();
	cr_assert_eq(show(&q, &out), 0);
	expect_row(out, ID_C, "  launcher died  ", "-", "0", "1");
	cr_assert_not_null(strstr(out, "  memory_usage_alert: memory at 90%"));
	cr_assert_null(strstr(out, ID_A), "%s", out);
	cr_assert_null(strstr(out, ID_B), "%s", out);
	cr_assert_null(strstr(out, "timeout:"), "%s", out);
	cr_assert_eq(count_lines(out), 3, "%s", out);
	q.event = "file_size_limit";
	cr_assert_eq(show(&q, &out), 0);
	cr_assert_str_eq(out, "no runs match\n");
}

Test(audit_show, script_filter)
{
	struct hb_audit_query q = {.script = "/srv/a.py"};
	char *out;

	small_trail();
	cr_assert_eq(show(&q, &out), 0);
	expect_row(out, ID_A, "  exit 0  ", "100", "0", "0");
	expect_row(out, ID_C, "  launcher died  ", "-", "0", "1");
	cr_assert_null(strstr(out, ID_B), "%s", out);
	cr_assert_null(strstr(out, ID_D), "%s", out);
	cr_assert_null(strstr(out, "timeout:"), "%s", out);
}

Test(audit_show, since_filter)
{
	struct hb_audit_query q = {0};
	char *out;

	small_trail();
	/* 10:00 at +01:00 is B's 09:00 UTC: B is in, A is not. */
	q.since = "2002-01-01T10:00:00+01:00";
	cr_assert_eq(show(&q, &out), 0);
	cr_assert_null(strstr(out, ID_A), "%s", out);
	cr_assert(strstr(out, ID_B) && strstr(out, ID_C) && strstr(out, ID_D),
		  "%s", out);
	cr_assert_not_null(strstr(out, "  timeout: ran longer than 5 s\n"));
	q.since = "2002-01-01T09:00:01Z";
	cr_assert_eq(show(&q, &out), 0);
	cr_assert_null(strstr(out, ID_B), "%s", out);
	cr_assert(strstr(out, ID_C) && strstr(out, ID_D), "%s", out);
	q.since = "2002-01-02";
	cr_assert_eq(show(&q, &out), 0);
	cr_assert_null(strstr(out, ID_A), "%s", out);
	cr_assert_null(strstr(out, ID_B), "%s", out);
	cr_assert_not_null(strstr(out, ID_C), "%s", out);
	q.since = "last tuesday";
	cr_assert_eq(show(&q, &out), -EINVAL);
}

Test(audit_show, json_lines_parse)
{
	struct hb_audit_query q = {.json = true};
	char *out, *v[8], *p;
	const char *ids[] = {ID_A, ID_B, ID_C, ID_D};
	json_object *o, *ev;
	size_t n = 0;

	small_trail();
	cr_assert_eq(show(&q, &out), 0);
	for (p = out; *p && n < ARRAY_SIZE(v);) {
		char *nl = strchr(p, '\n');
		cr_assert_not_null(nl, "%s", p);
		*nl = '\0';
		v[n++] = p;
		p = nl + 1;
	}
	cr_assert_eq(n, 4, "%s", out);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(str_of(parse(v[i]), "exec_id"), ids[i]);
	o = parse(v[0]);
	cr_assert_str_eq(str_of(o, "reason"), "exit");
	cr_assert_str_eq(str_of(o, "outcome"), "exit 0");
	cr_assert_eq(int_of(o, "exit_code"), 0);
	cr_assert_eq(int_of(o, "wall_ms"), 100);
	cr_assert_str_eq(str_of(o, "script"), "/srv/a.py");
	cr_assert_str_eq(str_of(o, "start_time"), run_a.start);
	cr_assert_eq(json_object_array_length(member(o, "events")), 0);
	o = parse(v[1]);
	cr_assert_str_eq(str_of(o, "reason"), "timeout");
	cr_assert_eq(int_of(o, "signal"), SIGKILL);
	cr_assert_eq(int_of(o, "violations"), 1);
	cr_assert_null(member(o, "exit_code"));
	ev = json_object_array_get_idx(member(o, "events"), 0);
	cr_assert_not_null(ev);
	cr_assert_str_eq(str_of(ev, "kind"), "timeout");
	cr_assert_str_eq(str_of(ev, "severity"), "violation");
	cr_assert_str_eq(str_of(ev, "message"), "ran longer than 5 s");
	cr_assert(json_object_is_type(member(ev, "details"), json_type_object));
	o = parse(v[2]);
	cr_assert_str_eq(str_of(o, "reason"), "launcher_died");
	cr_assert_str_eq(str_of(o, "outcome"), "launcher died");
	cr_assert_eq(int_of(o, "alerts"), 1);
	cr_assert_null(member(o, "end_time"));
	o = parse(v[3]);
	cr_assert_str_eq(str_of(o, "reason"), "not_started");
	cr_assert_str_eq(str_of(o, "policy"), STRICT);
	cr_assert_eq(int_of(o, "violations"), 1);
}

Test(audit_show, nothing_to_show)
{
	struct hb_audit_query q = {0};
	char *out, *err;

	open_log(false);
	cr_assert_eq(show(&q, &out), 0);
	cr_assert_str_eq(out, "no runs match\n");
	/* JSON Lines on stdout: no runs is no line. */
	q.json = true;
	stderr_capture_start();
	cr_assert_eq(show(&q, &out), 0);
	err = keep(stderr_capture_stop());
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(err, "no runs match\n");
}

Test(audit_show, control_characters_not_printed)
{
	static const struct run_rec run_x = {ID_E, "2004-01-01T09:00:00.000Z",
					     "/srv/\033]0;owned\007.py",
					     STRICT};
	struct hb_audit_query q = {0};
	char *out;

	open_log(false);
	append_start(&run_x, gone_pid());
	cr_assert_eq(show(&q, &out), 0);
	cr_assert_null(strchr(out, '\033'), "%s", out);
	cr_assert_null(strchr(out, '\007'), "%s", out);
	cr_assert_not_null(strstr(out, "/srv/?]0;owned?.py"), "%s", out);
}

/* A run wholly in the rotated file (A), one that spans the rotation (B),
 * and its security event, also in a rotated file. */
Test(audit_show, records_across_a_rotation)
{
	struct hb_result ra = {.reason = HB_REASON_EXIT, .wall_ms = 7};
	struct hb_result rb = {
		.reason = HB_REASON_EXIT, .exit_code = 3, .wall_ms = 42};
	struct hb_audit_query q = {0};
	pid_t gone = gone_pid();
	char *out, *ev;

	open_log(false);
	append_start(&run_a, gone);
	append_end(&run_a, &ra);
	append_start(&run_b, gone);
	append_event(ID_B, "cpu_usage_alert", HB_EV_ALERT, "cpu at 80%", NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_SECURITY), 0);
	append_end(&run_b, &rb);
	cr_assert_eq(show(&q, &out), 0);
	expect_row(out, ID_A, "  exit 0  ", "7", "0", "0");
	expect_row(out, ID_B, "  exit 3  ", "42", "0", "0");
	cr_assert_not_null(strstr(line_with(out, ID_B), "/srv/b.py"), "%s",
			   out);
	ev = strstr(out, "  cpu_usage_alert: cpu at 80%\n");
	cr_assert(ev && ev > strstr(out, ID_B), "%s", out);
	cr_assert_eq(count_lines(out), 4, "%s", out);
}

Test(audit_show, corrupt_lines_skipped)
{
	struct hb_result ra = {.reason = HB_REASON_EXIT, .wall_ms = 100};
	struct hb_audit_query q = {0};
	char *v[MAX_LINES], *w[4], *out, *err, want[600];

	open_log(false);
	append_start(&run_a, gone_pid());
	append_end(&run_a, &ra);
	cr_assert_eq(log_lines(LOG, v), 2);
	w[0] = v[0];
	w[1] = "\001 not a record";
	w[2] = v[1];
	w[3] = "{\"seq\":3,\"ti";
	log_write(LOG, w, 4, true);
	stderr_capture_start();
	cr_assert_eq(show(&q, &out), 0);
	err = keep(stderr_capture_stop());
	expect_row(out, ID_A, "  exit 0  ", "100", "0", "0");
	snprintf(want, sizeof(want),
		 "hivebox: %s/%s:2: not an audit record, skipped", logdir, LOG);
	cr_assert_not_null(strstr(err, want), "%s", err);
	snprintf(want, sizeof(want),
		 "hivebox: %s/%s:4: not an audit record, skipped", logdir, LOG);
	cr_assert_not_null(strstr(err, want), "%s", err);
	cr_assert_eq(count_lines(err), 2, "%s", err);
	stderr_capture_start();
	cr_assert_eq(stats(&q, &out), 0);
	keep(stderr_capture_stop());
	cr_assert(strncmp(out, "executions: 1\n", 14) == 0, "%s", out);
}

/* The number stats prints for key under "title:", or -1. */
static long long stat_count(const char *text, const char *title, const char *k)
{
	char head[64];
	const char *p;

	snprintf(head, sizeof(head), "\n%s:\n", title);
	p = strstr(text, head);
	if (!p)
		return -1;
	for (p += strlen(head); p && strncmp(p, "  ", 2) == 0;) {
		char name[256];
		long long n;
		if (sscanf(p, " %255s %lld", name, &n) == 2 &&
		    strcmp(name, k) == 0)
			return n;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return -1;
}

Test(audit_show, stats_text)
{
	struct hb_audit_query q = {0};
	char *out;

	small_trail();
	cr_assert_eq(stats(&q, &out), 0);
	cr_assert(strncmp(out, "executions: 3\n", 14) == 0, "%s", out);
	cr_assert_eq(stat_count(out, "by reason", "exit"), 1, "%s", out);
	cr_assert_eq(stat_count(out, "by reason", "timeout"), 1, "%s", out);
	cr_assert_eq(stat_count(out, "by reason", "launcher_died"), 1, "%s",
		     out);
	cr_assert_eq(stat_count(out, "by reason", "signal"), 0, "%s", out);
	cr_assert_eq(stat_count(out, "by policy", STRICT), 2, "%s", out);
	cr_assert_eq(stat_count(out, "by policy", LOOSE), 1, "%s", out);
	cr_assert_eq(stat_count(out, "by script", "/srv/a.py"), 2, "%s", out);
	cr_assert_eq(stat_count(out, "by script", "/srv/b.py"), 1, "%s", out);
	cr_assert_not_null(strstr(out, "\nviolations: 2\n"), "%s", out);
	cr_assert_eq(stat_count(out, "violations by kind", "timeout"), 1, "%s",
		     out);
	cr_assert_eq(stat_count(out, "violations by kind", "refusal"), 1, "%s",
		     out);
	cr_assert_eq(
		stat_count(out, "violations by kind", "memory_usage_alert"), -1,
		"%s", out);
	cr_assert_not_null(strstr(out, "\nalerts: 1\n"), "%s", out);
	cr_assert_eq(stat_count(out, "alerts by kind", "memory_usage_alert"), 1,
		     "%s", out);
	cr_assert_not_null(strstr(out, "\nwall ms: median 100, p95 5000 (over "
				       "2 finished runs)\n"),
			   "%s", out);
}

Test(audit_show, stats_json_and_filters)
{
	struct hb_audit_query q = {.json = true};
	json_object *o;
	char *out;

	small_trail();
	cr_assert_eq(stats(&q, &out), 0);
	cr_assert_eq(count_lines(out), 1, "%s", out);
	o = parse(out);
	cr_assert_eq(int_of(o, "executions"), 3);
	cr_assert_eq(int_of(member(o, "by_reason"), "exit"), 1);
	cr_assert_eq(int_of(member(o, "by_reason"), "timeout"), 1);
	cr_assert_eq(int_of(member(o, "by_reason"), "launcher_died"), 1);
	cr_assert_eq(int_of(member(o, "by_reason"), "memory_limit"), 0);
	cr_assert_eq(int_of(member(o, "by_policy"), STRICT), 2);
	cr_assert_eq(int_of(o, "violations"), 2);
	cr_assert_eq(int_of(member(o, "violations_by_kind"), "timeout"), 1);
	cr_assert_eq(int_of(member(o, "violations_by_kind"), "refusal"), 1);
	cr_assert_eq(int_of(o, "alerts"), 1);
	cr_assert_eq(int_of(member(o, "alerts_by_kind"), "memory_usage_alert"),
		     1);
	cr_assert_eq(int_of(o, "finished_runs"), 2);
	cr_assert_eq(int_of(o, "median_wall_ms"), 100);
	cr_assert_eq(int_of(o, "p95_wall_ms"), 5000);
	cr_assert_null(member(o, "since"));
	/* From B on: B and C run, B's timeout and D's refusal. */
	q.since = "2002-01-01";
	cr_assert_eq(stats(&q, &out), 0);
	o = parse(out);
	cr_assert_eq(int_of(o, "executions"), 2);
	cr_assert_eq(int_of(member(o, "by_reason"), "exit"), 0);
	cr_assert_eq(int_of(o, "violations"), 2);
	cr_assert_eq(int_of(o, "median_wall_ms"), 5000);
	cr_assert_str_eq(str_of(o, "since"), "2002-01-01");
	/* Only the runs with a timeout event. */
	q.since = NULL;
	q.event = "timeout";
	cr_assert_eq(stats(&q, &out), 0);
	o = parse(out);
	cr_assert_eq(int_of(o, "executions"), 1);
	cr_assert_eq(int_of(member(o, "by_reason"), "timeout"), 1);
	cr_assert_eq(int_of(o, "violations"), 1);
	cr_assert_eq(int_of(o, "alerts"), 0);
}

/* ---- Security events through events.c ---- */

Test(audit_watch, events_recorded_and_counted)
{
	struct hb_events w = {.audit = &audit, .quiet = true};
	const char *kinds[] = {"memory_usage_alert", "timeout", "cpu_limit",
			       "alert_command_failed"};
	const char *sev[] = {"alert", "violation", "violation", "error"};
	const enum hb_event_class cls[] = {HB_EV_ALERT, HB_EV_VIOLATION,
					   HB_EV_VIOLATION, HB_EV_ERROR};
	json_object *details = json_object_new_object(), *o, *d;
	char *v[MAX_LINES], *err, *report, msg[32];

	open_log(true);
	snprintf(w.exec_id, sizeof(w.exec_id), "%s", ID_A);
	json_object_object_add(details, "used", json_object_new_int(950));
	json_object_object_add(details, "unit", json_object_new_string("KiB"));
	stderr_capture_start();
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		snprintf(msg, sizeof(msg), "message %zu", i);
		hb_events_event(&w, kinds[i], cls[i], msg, i ? NULL : details);
	}
	err = keep(stderr_capture_stop());
	cr_assert_str_eq(err, "", "quiet, yet printed: %s", err);
	cr_assert_eq(w.alerts, 1);
	cr_assert_eq(w.violations, 2);
	cr_assert_eq(w.audit_errors, 0);
	cr_assert_eq(log_lines(SEC, v), 4);
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		o = parse(v[i]);
		snprintf(msg, sizeof(msg), "message %zu", i);
		cr_assert_eq(int_of(o, "seq"), (long long)i + 1);
		cr_assert_str_eq(str_of(o, "type"), "event");
		cr_assert_str_eq(str_of(o, "exec_id"), ID_A);
		cr_assert_str_eq(str_of(o, "kind"), kinds[i]);
		cr_assert_str_eq(str_of(o, "severity"), sev[i]);
		cr_assert_str_eq(str_of(o, "message"), msg);
		d = member(o, "details");
		cr_assert(json_object_is_type(d, json_type_object));
		cr_assert_eq(json_object_object_length(d), i ? 0 : 2);
	}
	d = member(parse(v[0]), "details");
	cr_assert_eq(int_of(d, "used"), 950);
	cr_assert_str_eq(str_of(d, "unit"), "KiB");
	cr_assert_not(exists(LOG), "events go to the security log only");
	cr_assert_eq(verify_log(HB_LOG_SECURITY, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, SEC ": OK, 4 records in 1 file, "
					      "HMAC-SHA-256"),
			   "%s", report);
}

Test(audit_watch, not_quiet_prints_the_event)
{
	struct hb_events w = {.audit = &audit};
	char *err;

	open_log(false);
	snprintf(w.exec_id, sizeof(w.exec_id), "%s", ID_B);
	stderr_capture_start();
	hb_events_event(&w, "timeout", HB_EV_VIOLATION, "ran too long", NULL);
	err = keep(stderr_capture_stop());
	cr_assert_str_eq(err, "hivebox: timeout: ran too long\n");
	cr_assert_eq(w.violations, 1);
	cr_assert_eq(w.alerts, 0);
}

Test(audit_watch, without_an_audit_only_counts)
{
	struct hb_events w = {.quiet = true};
	struct stat st;

	snprintf(w.exec_id, sizeof(w.exec_id), "%s", ID_C);
	hb_events_event(&w, "cpu_usage_alert", HB_EV_ALERT, "cpu", NULL);
	hb_events_event(&w, "refusal", HB_EV_VIOLATION, "no", NULL);
	cr_assert_eq(w.alerts, 1);
	cr_assert_eq(w.violations, 1);
	cr_assert_eq(w.audit_errors, 0);
	cr_assert_eq(stat(logdir, &st), -1, "nothing was written");
}

/* The alert command runs once per kind of alert or violation, and never
 * for hivebox's own errors; /bin/true exits 0, so reaping it is no event. */
Test(audit_watch, alert_command_runs_once_per_kind)
{
	static const struct {
		const char *kind;
		enum hb_event_class cls;
	} ev[] = {
		{"syscall_denied", HB_EV_VIOLATION},
		{"syscall_denied", HB_EV_VIOLATION},
		{"cpu_usage_alert", HB_EV_ALERT},
		{"alert_command_failed", HB_EV_ERROR},
		{"syscall_denied", HB_EV_VIOLATION},
		{"cpu_usage_alert", HB_EV_ALERT},
	};
	struct hb_events w = {.quiet = true,
			      .alert_command = "/bin/true",
			      .alert_timeout_s = 10};
	size_t started = 0;
	char *err;

	snprintf(w.exec_id, sizeof(w.exec_id), "%s", ID_C);
	for (size_t i = 0; i < ARRAY_SIZE(ev); i++)
		hb_events_event(&w, ev[i].kind, ev[i].cls, "m", NULL);
	for (size_t i = 0; i < HB_MAX_ALERT_CHILDREN; i++)
		started += w.children[i].pid > 0;
	cr_assert_eq(started, 2, "one command per kind, none for an error");
	cr_assert_str_eq(w.children[0].kind, "syscall_denied");
	cr_assert_str_eq(w.children[1].kind, "cpu_usage_alert");
	cr_assert_str_eq(w.alerted_kinds[0], "syscall_denied");
	cr_assert_str_eq(w.alerted_kinds[1], "cpu_usage_alert");
	cr_assert_str_eq(w.alerted_kinds[2], "");
	w.quiet = false;
	stderr_capture_start();
	hb_events_reap(&w, true);
	err = keep(stderr_capture_stop());
	cr_assert_str_eq(err, "", "reaping /bin/true said: %s", err);
	for (size_t i = 0; i < HB_MAX_ALERT_CHILDREN; i++)
		cr_assert_eq(w.children[i].pid, 0, "slot %zu not reaped", i);
	cr_assert_eq(w.violations, 3);
	cr_assert_eq(w.alerts, 2);
	cr_assert_eq(w.audit_errors, 0);
}

Test(audit_watch, a_failed_write_is_counted_and_said)
{
	struct hb_events w = {.audit = &audit, .quiet = true};
	char *err;
	int saved;

	open_log(false);
	snprintf(w.exec_id, sizeof(w.exec_id), "%s", ID_C);
	append_notes(HB_LOG_SECURITY, 1, 1, NULL);
	/* A write that cannot happen: no directory to write in. */
	saved = audit.dirfd;
	audit.dirfd = -1;
	stderr_capture_start();
	hb_events_event(&w, "timeout", HB_EV_VIOLATION, "ran too long", NULL);
	err = keep(stderr_capture_stop());
	audit.dirfd = saved;
	cr_assert_eq(w.audit_errors, 1);
	cr_assert_eq(w.violations, 1);
	cr_assert_not_null(strstr(err, "hivebox: cannot record a security "
				       "event: "),
			   "%s", err);
	cr_assert_not_null(strstr(err, strerror(EBADF)), "%s", err);
}

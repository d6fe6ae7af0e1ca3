/* SPDX-License-Identifier: MIT */
/* audit.c: records encoded and checked against libsodium, the directory
 * and key opened, the chain and its head on disk as append writes them.
 * Root's logs carry the append-only flag; the teardown lifts it. */
#include "audit.h"
#include "audit_helpers.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/fs.h>
#include <sodium.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#define GENESIS                                                                \
	"0000000000000000000000000000000000000000000000000000000000000000"

/* cppcheck-suppress unknownMacro */
TestSuite(audit_crypto, .init = audit_setup, .fini = audit_teardown);
/* cppcheck-suppress unknownMacro */
TestSuite(audit_open, .init = audit_setup, .fini = audit_teardown);
/* cppcheck-suppress unknownMacro */
TestSuite(audit_append, .init = audit_setup, .fini = audit_teardown);

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

/* The script's hash: from offset 0 whatever the descriptor's offset,
 * and never past the bound. */
Test(audit_crypto, sha256_of_a_descriptor)
{
	char out[HB_SHA256_HEX], *path = keep(path_join(dir, "f"));
	char c;
	int fd;

	make_file(dir, "f", "abc");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(read(fd, &c, 1), 1);
	cr_assert_eq(hb_sha256_fd(fd, 3, out), 0);
	cr_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223"
			      "b00361a396177a9cb410ff61f20015ad");
	cr_assert_eq(hb_sha256_fd(fd, 2, out), -EFBIG);
	close(fd);
	cr_assert_eq(hb_sha256_fd(fd, 3, out), -EBADF);
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

/* Whatever bytes a path or an argument holds, the line is printable
 * ASCII, each string reads back escaped (member names too), the hash
 * covers the line as written, and the caller's object is not changed. */
Test(audit_crypto, encode_escapes_every_string)
{
	static const char odd[] =
		"/tmp/\x7f\x9b\xc2\x9b\xe2\x80\xae\xff\x1b\\n";
	static const char want[] = "/tmp/\\x7f\\x9b\\xc2\\x9b\\xe2\\x80\\xae"
				   "\\xff\\x1b\\\\n";
	json_object *rec = keep_json(json_object_new_object()), *o, *d;
	json_object *args = json_object_new_array();
	json_object *inner = json_object_new_object();
	char hash[HB_SHA256_HEX], want_hash[HB_SHA256_HEX], mac[HB_SHA256_HEX];
	const char *line, *body;

	json_object_object_add(rec, "type", json_object_new_string("event"));
	json_object_object_add(inner, "path", json_object_new_string(odd));
	json_object_object_add(inner, odd, json_object_new_int(1));
	json_object_object_add(inner, "nul",
			       json_object_new_string_len("a\0b", 3));
	json_object_object_add(rec, "details", inner);
	json_object_array_add(args, json_object_new_string(odd));
	json_object_array_add(args, json_object_new_int(42));
	json_object_object_add(rec, "argv", args);
	line = keep(hb_audit_encode(rec, 1, GENESIS, key, hash));
	cr_assert_not_null(line);
	for (const char *p = line; *p != '\n'; p++)
		cr_assert(*p >= 0x20 && *p < 0x7f, "byte %#x at %zu of %s",
			  (unsigned char)*p, (size_t)(p - line), line);
	o = parse(line);
	d = member(o, "details");
	cr_assert_str_eq(str_of(d, "path"), want);
	cr_assert_eq(int_of(d, want), 1, "the member name is escaped");
	cr_assert_str_eq(str_of(d, "nul"), "a\\x00b");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(
				 member(o, "argv"), 0)),
			 want);
	cr_assert_eq(json_object_get_int(
			     json_object_array_get_idx(member(o, "argv"), 1)),
		     42);
	body = covered(line);
	ref_sha256(body, strlen(body), want_hash);
	ref_hmac(key, body, strlen(body), mac);
	cr_assert_str_eq(hash, want_hash);
	cr_assert_str_eq(str_of(o, "hmac"), mac);
	cr_assert_str_eq(str_of(member(rec, "details"), "path"), odd);
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

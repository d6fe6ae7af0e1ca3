/* SPDX-License-Identifier: MIT */
/* Verification of the audit logs. */
#include "audit.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

struct chain {
	enum hb_log log;
	bool started;
	unsigned long long seq;
	char hash[HB_SHA256_HEX];
	unsigned long records, files, unchecked_hmac, before_binding;
	unsigned long last_file_lines; /* lines of the file read last */
	bool after_rotation; /* the oldest file left begins with a rotation */
	char where[600];     /* file:line of the first bad record */
	char why[300];
};

static int fail(struct chain *c, const char *file, unsigned long line,
		const char *fmt, const char *detail)
{
	snprintf(c->where, sizeof(c->where), "%s:%lu", file, line);
	snprintf(c->why, sizeof(c->why), fmt, detail ? detail : "");
	return 1;
}

/* Does s start with `,"KEY":"` and 64 hex digits and a quote?  Returns
 * what follows, or NULL. */
static const char *hex_member(const char *s, const char *key)
{
	size_t klen = strlen(key);

	if (strncmp(s, ",\"", 2) != 0 || strncmp(s + 2, key, klen) != 0 ||
	    strncmp(s + 2 + klen, "\":\"", 3) != 0)
		return NULL;
	s += 5 + klen;
	if (strspn(s, "0123456789abcdef") != HB_SHA256_HEX - 1 ||
	    s[HB_SHA256_HEX - 1] != '"')
		return NULL;
	return s + HB_SHA256_HEX;
}

/* The bytes the hash covers: the line up to its "hash" member, closed.
 * Nothing may follow hash and hmac but the closing brace: a member added
 * after them would be covered by neither. */
static char *hashed_body(const char *line)
{
	const char *mark = strstr(line, ",\"hash\":\""), *end;
	char *body;

	if (!mark)
		return NULL;
	for (const char *next; (next = strstr(mark + 1, ",\"hash\":\""));)
		mark = next;
	end = hex_member(mark, "hash");
	if (end && strncmp(end, ",\"hmac\"", 7) == 0)
		end = hex_member(end, "hmac");
	if (!end || strcmp(end, "}") != 0)
		return NULL;
	body = malloc((size_t)(mark - line) + 2);
	if (!body)
		return NULL;
	memcpy(body, line, (size_t)(mark - line));
	body[mark - line] = '}';
	body[mark - line + 1] = '\0';
	return body;
}

static int check_hashes(struct chain *c, const struct hb_audit *a,
			json_object *o, const char *line, const char *file,
			unsigned long n)
{
	_cleanup_free_ char *body = hashed_body(line);
	const char *hash = hb_json_str(o, "hash"),
		   *mac = hb_json_str(o, "hmac");
	char want[HB_SHA256_HEX];
	json_object *seqo;
	unsigned long long seq = 0;

	if (!body || !hash)
		return fail(c, file, n,
			    "record has no hash, or something after it%s",
			    NULL);
	hb_sha256_hex(body, strlen(body), want);
	if (strcmp(want, hash) != 0)
		return fail(
			c, file, n,
			"hash does not match the record's content (edited)%s",
			NULL);
	if (json_object_object_get_ex(o, "seq", &seqo))
		seq = (unsigned long long)json_object_get_uint64(seqo);
	/* Records from before the key was bound may be unsigned; every
	 * later one must carry an HMAC, with the key at hand or not. */
	if (!mac && hb_audit_must_sign(a, c->log, seq))
		return fail(c, file, n,
			    "record has no HMAC in a signed trail (written "
			    "without the key?)%s",
			    NULL);
	c->before_binding += !mac && a->binding == HB_BIND_KEY;
	if (a->have_key && a->binding != HB_BIND_KEY) {
		if (!mac)
			return fail(c, file, n,
				    "record has no HMAC although a key exists "
				    "(rewritten without the key?)%s",
				    NULL);
	}
	if (a->have_key && mac) {
		hb_hmac_sha256_hex(a->key, body, strlen(body), want);
		if (strcmp(want, mac) != 0)
			return fail(c, file, n,
				    "HMAC does not match (rewritten without "
				    "the key)%s",
				    NULL);
	} else if (mac) {
		c->unchecked_hmac++;
	}
	return 0;
}

static int check_link(struct chain *c, json_object *o, const char *file,
		      unsigned long n)
{
	const char *prev = hb_json_str(o, "prev_hash"),
		   *type = hb_json_str(o, "type");
	json_object *seqo;
	unsigned long long seq;

	if (!prev || !json_object_object_get_ex(o, "seq", &seqo))
		return fail(c, file, n, "record has no seq or prev_hash%s",
			    NULL);
	seq = (unsigned long long)json_object_get_uint64(seqo);
	if (!c->started) {
		if (type && strcmp(type, "rotation") == 0)
			c->after_rotation = true;
		else if (strcmp(prev, HB_AUDIT_GENESIS) != 0 || seq != 1)
			return fail(c, file, n,
				    "the first record does not start the chain "
				    "(records before it deleted?)%s",
				    NULL);
	} else if (seq != c->seq + 1) {
		char d[96];
		snprintf(d, sizeof(d), "seq %llu follows seq %llu", seq,
			 c->seq);
		return fail(c, file, n,
			    "%s: a record was deleted, inserted or moved", d);
	} else if (strcmp(prev, c->hash) != 0) {
		return fail(c, file, n,
			    "prev_hash is not the previous record's hash "
			    "(chain broken)%s",
			    NULL);
	}
	c->started = true;
	c->seq = seq;
	snprintf(c->hash, sizeof(c->hash), "%s", hb_json_str(o, "hash"));
	return 0;
}

static int check_file(struct chain *c, const struct hb_audit *a,
		      const char *name)
{
	_cleanup_close_ int fd =
		openat(a->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long n = 0;

	if (fd < 0)
		return -errno;
	f = fdopen(TAKE_FD(fd), "r");
	if (!f)
		return -errno;
	c->files++;
	while ((len = getline(&line, &cap, f)) > 0) {
		json_object *o;
		int r;
		n++;
		if (line[len - 1] != '\n')
			return fail(c, name, n,
				    "the last record is cut short (truncated "
				    "mid-record)%s",
				    NULL);
		line[len - 1] = '\0';
		o = json_tokener_parse(line);
		if (!o || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			return fail(c, name, n, "not a JSON object%s", NULL);
		}
		r = check_hashes(c, a, o, line, name, n);
		if (r == 0)
			r = check_link(c, o, name, n);
		json_object_put(o);
		if (r)
			return r;
		c->records++;
	}
	c->last_file_lines = n;
	return 0;
}

static int check_head(struct chain *c, const struct hb_audit *a,
		      const char *name, char *note, size_t note_len)
{
	char path[300], buf[1024], mac[HB_SHA256_HEX];
	_cleanup_close_ int fd = -1;
	json_object *o, *seqo;
	const char *hash, *hmac;
	unsigned long long seq;
	ssize_t n;
	int r = 0;

	snprintf(path, sizeof(path), "%s.head", name);
	fd = openat(a->dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* The anchor goes with every append: records without it
		 * mean it was removed, and with it any way to see a cut
		 * tail. */
		return fail(c, path, 0,
			    "the head file is missing (%s); the log's tail "
			    "cannot be checked",
			    strerror(errno));
	}
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	o = json_tokener_parse(buf);
	hash = o ? hb_json_str(o, "hash") : NULL;
	hmac = o ? hb_json_str(o, "hmac") : NULL;
	if (!hash || !json_object_object_get_ex(o, "seq", &seqo)) {
		json_object_put(o);
		return fail(c, path, 1, "head file is not readable%s", NULL);
	}
	seq = (unsigned long long)json_object_get_uint64(seqo);
	if (a->have_key)
		hb_audit_head_hmac(a->key, seq, hash, mac);
	/* A head written before the key was bound has no HMAC. */
	if (a->have_key && !hmac && a->binding == HB_BIND_KEY &&
	    !hb_audit_must_sign(a, c->log, seq))
		hmac = mac;
	if (a->have_key && (!hmac || strcmp(hmac, mac) != 0))
		r = fail(c, path, 1, "head HMAC does not match (rewritten)%s",
			 NULL);
	else if (seq > c->seq)
		r = fail(c, name, c->last_file_lines,
			 "the log ends before the head's last record (tail "
			 "truncated)%s",
			 NULL);
	else if (seq == c->seq && strcmp(hash, c->hash) != 0)
		r = fail(c, name, c->last_file_lines,
			 "the last record is not the one the head names "
			 "(replaced)%s",
			 NULL);
	else if (seq < c->seq)
		snprintf(note, note_len,
			 "  head: seq %llu, behind the log's %llu (a writer "
			 "died between append and anchor)\n",
			 seq, c->seq);
	else
		snprintf(note, note_len, "  head: matches seq %llu\n", seq);
	json_object_put(o);
	return r;
}

static void report_flags(const struct hb_audit *a, const char *name, FILE *out)
{
	_cleanup_close_ int fd =
		openat(a->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int flags = 0;

	if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		fputs("  append-only flag: unknown on this file system\n", out);
	else
		fprintf(out, "  append-only flag: %s\n",
			flags & FS_APPEND_FL ? "set" : "not set");
}

int hb_audit_verify(struct hb_audit *a, enum hb_log log, FILE *out)
{
	const char *name = hb_log_name(log);
	struct hb_strv files = {0};
	struct chain c = {0};
	char note[256] = "";
	int r;

	c.log = log;
	r = hb_audit_rotated_files(a, name, &files);
	if (r == 0 && faccessat(a->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		r = hb_strv_push(&files, name);
	for (size_t i = 0; r == 0 && i < files.n; i++)
		r = check_file(&c, a, files.v[i]);
	if (r == 0 && files.n)
		r = check_head(&c, a, name, note, sizeof(note));
	if (r == 0 && a->binding_bad)
		r = fail(&c, HB_AUDIT_BINDING, 1,
			 "the key binding does not match its HMAC "
			 "(rewritten)%s",
			 NULL);
	if (r < 0) {
		hb_strv_clear(&files);
		return r;
	}
	if (r == 0 && !files.n) {
		fprintf(out, "%s: no records yet\n", name);
	} else if (r > 0) {
		fprintf(out, "%s: FAIL at %s: %s\n", name, c.where, c.why);
	} else {
		fprintf(out, "%s: OK, %lu records in %lu file%s, %s\n", name,
			c.records, c.files, c.files == 1 ? "" : "s",
			a->have_key ? "HMAC-SHA-256 and hash chain verified"
			: a->binding == HB_BIND_KEY
				? "hash chain verified; a signed trail whose "
				  "key cannot be read here, so no HMAC checked"
				: "hash chain verified; no key, so no HMAC "
				  "checked");
		if (!a->have_key && a->binding == HB_BIND_KEY)
			fprintf(out, "  key %s: %s\n", a->key_file,
				strerror(a->key_errno));
		if (c.unchecked_hmac)
			fprintf(out,
				"  %lu records carry an HMAC that could not be "
				"checked without the key\n",
				c.unchecked_hmac);
		if (c.before_binding)
			fprintf(out,
				"  %lu records from before the key was bound "
				"carry no HMAC\n",
				c.before_binding);
		if (c.after_rotation)
			fputs("  the oldest file left begins with a rotation; "
			      "older files were removed\n",
			      out);
	}
	fputs(note, out);
	if (files.n)
		report_flags(a, name, out);
	hb_strv_clear(&files);
	return r;
}

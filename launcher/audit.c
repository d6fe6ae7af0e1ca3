/* SPDX-License-Identifier: MIT */
/* Record format: one JSON object per line.  The hash covers the exact
 * bytes of the object as written without its "hash" and "hmac" members,
 * which are appended last; so a reader needs no canonical JSON to check
 * it, and the line stays plain JSON for everyone else.  Every string in a
 * record, member names included, is written as hb_escape_bytes() with
 * HB_ESCAPE_BACKSLASH has it: paths, arguments and messages carry
 * whatever bytes a script or its caller chose, and json-c would write all
 * but C0 controls as they are, so a line would be neither UTF-8 nor safe
 * to print. */
#include "audit.h"
#include "forward.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sodium.h>
#include <pwd.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

const char *hb_json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

const char *hb_log_name(enum hb_log log)
{
	return log == HB_LOG_EXEC ? HB_AUDIT_EXEC_LOG : HB_AUDIT_SECURITY_LOG;
}

void hb_sha256_hex(const void *data, size_t len, char out[HB_SHA256_HEX])
{
	unsigned char md[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(md, data, len);
	sodium_bin2hex(out, HB_SHA256_HEX, md, sizeof(md));
}

void hb_hmac_sha256_hex(const unsigned char *key, const void *data, size_t len,
			char out[HB_SHA256_HEX])
{
	unsigned char md[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256(md, data, len, key);
	sodium_bin2hex(out, HB_SHA256_HEX, md, sizeof(md));
}

int hb_sha256_file(const char *path, char out[HB_SHA256_HEX])
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char md[crypto_hash_sha256_BYTES], buf[16384];
	crypto_hash_sha256_state st;
	ssize_t n;

	if (fd < 0)
		return -errno;
	crypto_hash_sha256_init(&st);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crypto_hash_sha256_update(&st, buf, (size_t)n);
	if (n < 0)
		return -errno;
	crypto_hash_sha256_final(&st, md);
	sodium_bin2hex(out, HB_SHA256_HEX, md, sizeof(md));
	return 0;
}

int hb_sha256_fd(int fd, unsigned long long max, char out[HB_SHA256_HEX])
{
	unsigned char md[crypto_hash_sha256_BYTES], buf[16384];
	unsigned long long total = 0;
	crypto_hash_sha256_state st;
	ssize_t n;

	crypto_hash_sha256_init(&st);
	while ((n = pread(fd, buf, sizeof(buf), (off_t)total)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		total += (unsigned long long)n;
		if (total > max)
			return -EFBIG;
		crypto_hash_sha256_update(&st, buf, (size_t)n);
	}
	crypto_hash_sha256_final(&st, md);
	sodium_bin2hex(out, HB_SHA256_HEX, md, sizeof(md));
	return 0;
}

int hb_uuid(char out[37])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		return -errno;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%"
		 "02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

void hb_audit_now_iso(char out[32])
{
	unsigned long long ms = hb_clock_ms(CLOCK_REALTIME);
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

int hb_audit_default_dir(char **ret)
{
	const char *state = secure_getenv("XDG_STATE_HOME");
	const char *home = secure_getenv("HOME");
	char buf[4096];

	if (geteuid() == 0) {
		*ret = strdup(HB_AUDIT_DEFAULT_DIR);
		return *ret ? 0 : -ENOMEM;
	}
	if (state && state[0] == '/')
		snprintf(buf, sizeof(buf), "%s/hivebox", state);
	else {
		struct passwd *pw = getpwuid(geteuid());
		if (!home || home[0] != '/')
			home = pw ? pw->pw_dir : NULL;
		if (!home)
			return -ENOENT;
		snprintf(buf, sizeof(buf), "%s/.local/state/hivebox", home);
	}
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* mkdir -p, refusing a symlink at the level we create or enter last. */
static int make_dirs(const char *dir)
{
	struct stat st;
	int r = hb_mkdir_p(dir, 0755, 0750);

	if (r < 0)
		return r;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int hb_audit_load_key(struct hb_audit *a, const char *key_file, bool required,
		      struct hb_diag *diag)
{
	_cleanup_close_ int fd = -1;
	unsigned char extra;
	ssize_t n;

	fd = open(key_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* No key, or not ours to read: a plain hash chain, unless
		 * the policy named the key (then it must be there). */
		if (!required && (errno == ENOENT || errno == EACCES))
			return 0;
		return hb_diag_set(diag, key_file, 0,
				   "cannot read the audit key: %s",
				   strerror(errno));
	}
	n = read(fd, a->key, sizeof(a->key));
	if (n != (ssize_t)sizeof(a->key) || read(fd, &extra, 1) != 0)
		return hb_diag_set(diag, key_file, 0,
				   "the audit key must be exactly %d bytes",
				   HB_AUDIT_KEY_LEN);
	a->have_key = true;
	return 0;
}

int hb_audit_open(struct hb_audit *a, const char *dir, const char *key_file,
		  unsigned flags, struct hb_diag *diag)
{
	int r;
	_cleanup_free_ char *cwd = NULL;
	_cleanup_free_ char *abs = NULL;

	memset(a, 0, sizeof(*a));
	a->dirfd = -1;
	if (dir[0] != '/' && !(cwd = getcwd(NULL, 0)))
		return -errno;
	r = hb_path_absolute(cwd, dir, &abs);
	if (r < 0)
		return r;
	dir = abs;
	if (flags & HB_AUDIT_CREATE) {
		r = make_dirs(dir);
	} else {
		struct stat st;
		r = lstat(dir, &st) < 0	  ? -errno
		    : S_ISLNK(st.st_mode) ? -ELOOP
		    : S_ISDIR(st.st_mode) ? 0
					  : -ENOTDIR;
	}
	if (r == -ELOOP)
		return hb_diag_set(
			diag, dir, 0,
			"audit directory is a symlink; refusing to follow it");
	if (r < 0)
		return hb_diag_set(diag, dir, 0, "%s: %s",
				   flags & HB_AUDIT_CREATE
					   ? "cannot create the audit directory"
					   : "no audit directory",
				   strerror(-r));
	a->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (a->dirfd < 0)
		return hb_diag_set(diag, dir, 0,
				   "cannot open the audit directory: %s",
				   strerror(errno));
	a->dir = strdup(dir);
	if (!a->dir)
		return -ENOMEM;
	/* Setting the flag needs CAP_LINUX_IMMUTABLE: root only. */
	a->append_only = (flags & HB_AUDIT_APPEND_ONLY) && geteuid() == 0;
	if (flags & HB_AUDIT_BOUND)
		return hb_audit_find_key(a, key_file, flags, diag);
	return key_file ? hb_audit_load_key(a, key_file,
					    flags & HB_AUDIT_KEY_REQUIRED, diag)
			: 0;
}

void hb_audit_close(struct hb_audit *a)
{
	if (a->dirfd >= 0)
		close(a->dirfd);
	free(a->dir);
	free(a->key_file);
	explicit_bzero(a->key, sizeof(a->key));
	memset(a, 0, sizeof(*a));
	a->dirfd = -1;
}

struct escape {
	unsigned flags;
	bool ok; /* false once memory ran out */
};

static json_object *escaped(json_object *v, struct escape *x);

static json_object *escaped_string(json_object *v, struct escape *x)
{
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	_cleanup_free_ char *e = NULL;
	json_object *r;

	if (!hb_escape_needed(s, len, x->flags))
		return json_object_get(v);
	e = hb_escape_bytes(s, len, x->flags);
	r = e ? json_object_new_string(e) : NULL;
	x->ok &= r != NULL;
	return r;
}

static json_object *escaped_array(json_object *v, struct escape *x)
{
	size_t n = json_object_array_length(v);
	json_object *a = json_object_new_array_ext((int)n);

	x->ok &= a != NULL;
	for (size_t i = 0; a && i < n; i++)
		if (json_object_array_add(
			    a, escaped(json_object_array_get_idx(v, i), x)) < 0)
			x->ok = false;
	return a;
}

static json_object *escaped_object(json_object *v, struct escape *x)
{
	json_object *o = json_object_new_object();

	x->ok &= o != NULL;
	json_object_object_foreach(v, k, m)
	{
		_cleanup_free_ char *e = NULL;
		size_t len = strlen(k);
		if (!o)
			break;
		if (hb_escape_needed(k, len, x->flags) &&
		    !(e = hb_escape_bytes(k, len, x->flags)))
			x->ok = false;
		else if (json_object_object_add(o, e ?: k, escaped(m, x)) < 0)
			x->ok = false;
	}
	return o;
}

static json_object *escaped(json_object *v, struct escape *x)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		return escaped_string(v, x);
	case json_type_array:
		return escaped_array(v, x);
	case json_type_object:
		return escaped_object(v, x);
	default:
		return json_object_get(v);
	}
}

int hb_json_escape(json_object *v, unsigned flags, json_object **ret)
{
	struct escape x = {.flags = flags, .ok = true};
	json_object *e = escaped(v, &x);

	if (!x.ok) {
		json_object_put(e);
		return -ENOMEM;
	}
	*ret = e;
	return 0;
}

char *hb_audit_encode(json_object *rec, unsigned long long seq,
		      const char *prev_hash, const unsigned char *key,
		      char ret_hash[HB_SHA256_HEX])
{
	json_object *o = json_object_new_object(), *e = NULL;
	char when[32], mac[HB_SHA256_HEX];
	const char *body = NULL;
	char *line = NULL;
	size_t len;

	hb_audit_now_iso(when);
	json_object_object_add(o, "seq", json_object_new_uint64(seq));
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "prev_hash",
			       json_object_new_string(prev_hash));
	json_object_object_foreach(rec, k, v)
	{
		if (strcmp(k, "seq") && strcmp(k, "time") &&
		    strcmp(k, "prev_hash") && strcmp(k, "hash") &&
		    strcmp(k, "hmac"))
			json_object_object_add(o, k, json_object_get(v));
	}
	if (hb_json_escape(o, HB_ESCAPE_BACKSLASH, &e) == 0)
		body = json_object_to_json_string_ext(e, HB_JSON_FLAGS);
	json_object_put(o);
	if (!body) {
		json_object_put(e);
		return NULL;
	}
	len = strlen(body);
	hb_sha256_hex(body, len, ret_hash);
	if (key)
		hb_hmac_sha256_hex(key, body, len, mac);
	/* body ends in '}': replace it with the hash members. */
	if (asprintf(&line, "%.*s,\"hash\":\"%s\"%s%s%s}\n", (int)(len - 1),
		     body, ret_hash, key ? ",\"hmac\":\"" : "", key ? mac : "",
		     key ? "\"" : "") < 0)
		line = NULL;
	json_object_put(e);
	return line;
}

/* The last complete line of fd, or NULL for an empty file. */
static int last_line(int fd, char **ret)
{
	struct stat st;
	size_t chunk = 4096;
	char *buf = NULL;

	*ret = NULL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size == 0)
		return 0;
	for (;;) {
		size_t want =
			chunk < (size_t)st.st_size ? chunk : (size_t)st.st_size;
		off_t off = st.st_size - (off_t)want;
		char *nl;
		free(buf);
		buf = malloc(want + 1);
		if (!buf)
			return -ENOMEM;
		if (pread(fd, buf, want, off) != (ssize_t)want) {
			free(buf);
			return -EIO;
		}
		buf[want] = '\0';
		if (buf[want - 1] != '\n') {
			free(buf);
			return -EBADMSG; /* a torn last record */
		}
		buf[want - 1] = '\0';
		nl = strrchr(buf, '\n');
		if (nl || want == (size_t)st.st_size) {
			char *line = strdup(nl ? nl + 1 : buf);
			free(buf);
			*ret = line;
			return line ? 0 : -ENOMEM;
		}
		if (chunk >= HB_AUDIT_MAX_LINE) {
			free(buf);
			return -E2BIG;
		}
		chunk *= 4;
	}
}

int hb_audit_tail(int fd, unsigned long long *ret_seq,
		  char ret_hash[HB_SHA256_HEX])
{
	_cleanup_free_ char *line = NULL;
	json_object *o, *seq, *hash;
	int r = last_line(fd, &line);

	if (r < 0)
		return r;
	if (!line) {
		*ret_seq = 0;
		strcpy(ret_hash, HB_AUDIT_GENESIS);
		return 0;
	}
	o = json_tokener_parse(line);
	if (!o || !json_object_object_get_ex(o, "seq", &seq) ||
	    !json_object_object_get_ex(o, "hash", &hash) ||
	    json_object_get_string_len(hash) != HB_SHA256_HEX - 1) {
		json_object_put(o);
		return -EBADMSG;
	}
	*ret_seq = (unsigned long long)json_object_get_uint64(seq);
	snprintf(ret_hash, HB_SHA256_HEX, "%s", json_object_get_string(hash));
	json_object_put(o);
	return 0;
}

bool hb_audit_set_append_only(int fd, bool on)
{
	int flags = 0, was;

	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		return false;
	was = flags & FS_APPEND_FL;
	flags = on ? flags | FS_APPEND_FL : flags & ~FS_APPEND_FL;
	(void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
	return was;
}

/* Open name for appending with the lock held.  A rotation may rename the
 * file between our open and our lock; then the name is a new file and we
 * start again on it. */
int hb_audit_open_locked(struct hb_audit *a, const char *name)
{
	for (int tries = 0; tries < 16; tries++) {
		struct stat st, now;
		int fd = openat(a->dirfd, name,
				O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW |
					O_CLOEXEC,
				0640);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (fstatat(a->dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now.st_ino == st.st_ino && now.st_dev == st.st_dev) {
			if (st.st_size == 0 && a->append_only)
				hb_audit_set_append_only(fd, true);
			return fd;
		}
		close(fd);
	}
	return -EAGAIN;
}

void hb_audit_head_hmac(const unsigned char *key, unsigned long long seq,
			const char *hash, char out[HB_SHA256_HEX])
{
	char msg[128];

	/* A head file's hash may be anything: cut it, never overrun. */
	snprintf(msg, sizeof(msg), "%llu:%s", seq, hash);
	hb_hmac_sha256_hex(key, msg, strlen(msg), out);
}

/* The anchor outside the log: its last seq and hash, so that a cut tail
 * is found.  Replaced atomically. */
int hb_audit_write_head(struct hb_audit *a, const char *name,
			unsigned long long seq, const char *hash)
{
	char head[512], tmp[256], final[256], mac[HB_SHA256_HEX] = "";
	_cleanup_close_ int fd = -1;
	struct stat st;
	bool existed;
	int len, r;

	if (a->have_key)
		hb_audit_head_hmac(a->key, seq, hash, mac);
	len = snprintf(head, sizeof(head),
		       "{\"file\":\"%s\",\"seq\":%llu,\"hash\":\"%s\"%s%s%s}\n",
		       name, seq, hash, mac[0] ? ",\"hmac\":\"" : "", mac,
		       mac[0] ? "\"" : "");
	snprintf(tmp, sizeof(tmp), ".%s.head.tmp", name);
	snprintf(final, sizeof(final), "%s.head", name);
	fd = openat(a->dirfd, tmp,
		    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		    0640);
	if (fd < 0)
		return -errno;
	r = hb_write_all(fd, head, (size_t)len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	existed = r == 0 &&
		  fstatat(a->dirfd, final, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (r == 0 && renameat(a->dirfd, tmp, a->dirfd, final) < 0)
		r = -errno;
	/* The rename is durable only once the directory is.  That matters
	 * for the first head: without it a crash can leave none, which
	 * verify reports as removed.  A later rename lost in a crash
	 * leaves the head before it, one record behind the log, which
	 * verify accepts as a writer that died between append and anchor;
	 * the record itself is durable by the log's own fsync.  So the
	 * directory is synced once, not on every append (it was the
	 * slowest of the three, 2 to 4 ms here). */
	if (r == 0 && !existed && fsync(a->dirfd) < 0)
		r = -errno;
	return r;
}

/* Truncate fd after its last newline; returns the bytes cut.  Fails on an
 * append-only file, which then needs an administrator. */
static off_t cut_torn_tail(int fd)
{
	char buf[4096];
	struct stat st;
	off_t end, keep = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	for (end = st.st_size; end > 0 && !keep;) {
		size_t n = end < (off_t)sizeof(buf) ? (size_t)end : sizeof(buf);
		if (pread(fd, buf, n, end - (off_t)n) != (ssize_t)n)
			return -EIO;
		for (size_t i = n; i > 0 && !keep; i--)
			if (buf[i - 1] == '\n')
				keep = end - (off_t)n + (off_t)i;
		end -= (off_t)n;
	}
	if (ftruncate(fd, keep) < 0)
		return -errno;
	return st.st_size - keep;
}

static int append_locked(struct hb_audit *a, int fd, const char *name,
			 json_object *rec, char ret_hash[HB_SHA256_HEX])
{
	char prev[HB_SHA256_HEX];
	unsigned long long seq;
	_cleanup_free_ char *line = NULL;
	struct stat st;
	int r;

	r = hb_audit_binding_current(a);
	if (r == 0)
		r = hb_audit_tail(fd, &seq, prev);
	if (r == -EBADMSG) {
		/* A writer died mid-line: cut the torn bytes (they were
		 * never a record) and say so in the next record. */
		off_t cut = cut_torn_tail(fd);
		if (cut < 0)
			return (int)cut;
		json_object_object_add(rec, "repaired_torn_bytes",
				       json_object_new_int64(cut));
		r = hb_audit_tail(fd, &seq, prev);
	}
	if (r < 0)
		return r;
	line = hb_audit_encode(rec, seq + 1, prev, a->have_key ? a->key : NULL,
			       ret_hash);
	if (!line)
		return -ENOMEM;
	if (fstat(fd, &st) < 0)
		return -errno;
	r = hb_write_all(fd, line, strlen(line));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		/* Do not leave half a record behind (a full disk). */
		(void)!ftruncate(fd, st.st_size);
		return r;
	}
	hb_forward_record(a->forward, name, line);
	return hb_audit_write_head(a, name, seq + 1, ret_hash);
}

int hb_audit_append(struct hb_audit *a, enum hb_log log, json_object *rec,
		    char ret_hash[HB_SHA256_HEX])
{
	char hash[HB_SHA256_HEX];
	_cleanup_close_ int fd = -1;
	int r;

	fd = hb_audit_open_locked(a, hb_log_name(log));
	if (fd < 0) {
		json_object_put(rec);
		return fd;
	}
	r = append_locked(a, fd, hb_log_name(log), rec, hash);
	json_object_put(rec);
	if (r == 0 && ret_hash)
		memcpy(ret_hash, hash, HB_SHA256_HEX);
	return r;
}

/* data stored once as subdir/<sha><ext>, its content address. */
static int store_blob(struct hb_audit *a, const char *subdir, const char *ext,
		      const void *data, size_t len, char ret_sha[HB_SHA256_HEX])
{
	char name[128], tmp[160];
	_cleanup_close_ int dir = -1;
	_cleanup_close_ int fd = -1;
	int r;

	hb_sha256_hex(data, len, ret_sha);
	if (mkdirat(a->dirfd, subdir, 0750) < 0 && errno != EEXIST)
		return -errno;
	/* Through a descriptor of the real directory: a symlink planted
	 * in a writable audit directory is refused. */
	dir = openat(a->dirfd, subdir,
		     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	snprintf(name, sizeof(name), "%s%s", ret_sha, ext);
	if (faccessat(dir, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	snprintf(tmp, sizeof(tmp), ".%s.%d", ret_sha, getpid());
	fd = openat(dir, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	r = hb_write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && renameat(dir, tmp, dir, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dir, tmp, 0);
	return r;
}

int hb_audit_store_policy(struct hb_audit *a, const char *text,
			  char ret_sha[HB_SHA256_HEX])
{
	return store_blob(a, "policies", ".ini", text, strlen(text), ret_sha);
}

int hb_audit_store_script(struct hb_audit *a, int fd, unsigned long long max,
			  char ret_sha[HB_SHA256_HEX])
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;

	/* Read once: the bytes hashed are the bytes stored, whatever
	 * happens to the file meanwhile. */
	for (;;) {
		if (len == cap) {
			char *nb;
			if (cap > max)
				return -EFBIG;
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		n = pread(fd, buf + len, cap - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max)
		return -EFBIG;
	return store_blob(a, "scripts", ".py", buf ?: "", len, ret_sha);
}

int hb_audit_init_key(const char *key_file, struct hb_diag *diag)
{
	unsigned char key[HB_AUDIT_KEY_LEN];
	_cleanup_free_ char *dir = strdup(key_file);
	_cleanup_close_ int fd = -1;
	char *slash;
	int r;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		r = make_dirs(dir);
		if (r < 0)
			return hb_diag_set(diag, dir, 0, "cannot create: %s",
					   strerror(-r));
	}
	fd = open(key_file,
		  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0)
		return hb_diag_set(diag, key_file, 0,
				   "cannot create the audit key: %s",
				   strerror(errno));
	if (getrandom(key, sizeof(key), 0) != sizeof(key))
		return hb_diag_set(diag, key_file, 0, "no random bytes: %s",
				   strerror(errno));
	r = hb_write_all(fd, key, sizeof(key));
	explicit_bzero(key, sizeof(key));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		unlink(key_file);
		return hb_diag_set(diag, key_file, 0,
				   "cannot write the audit key: %s",
				   strerror(-r));
	}
	return 1; /* created */
}

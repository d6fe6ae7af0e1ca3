/* SPDX-License-Identifier: MIT */
/* The key belongs to the audit directory.  A small file there, "signing",
 * written by `hivebox audit init`, says whether the trail is signed and
 * with which key: its path, its fingerprint (an HMAC of a fixed text, so
 * the file gives nothing of the key away) and, per log, the last seq
 * before the binding (records after it must carry an HMAC), with an HMAC
 * over both so that no one without the key can move them.  Every writer
 * and reader finds the key there: a trail is signed or not as a whole,
 * and a record without an HMAC in a signed trail is always an error. */
#include "audit.h"

#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#define KEY_ID_TEXT "hivebox audit key id"
#define BINDING_TMP ".signing.tmp"

void hb_audit_key_id(const unsigned char *key, char out[HB_SHA256_HEX])
{
	hb_hmac_sha256_hex(key, KEY_ID_TEXT, strlen(KEY_ID_TEXT), out);
}

void hb_audit_binding_hmac(const unsigned char *key, const char *key_file,
			   const unsigned long long from[2],
			   char out[HB_SHA256_HEX])
{
	_cleanup_free_ char *msg = NULL;
	int n = asprintf(&msg, "%s\n%llu\n%llu", key_file, from[0], from[1]);

	if (n < 0) {
		memset(out, 0, HB_SHA256_HEX); /* matches no HMAC */
		return;
	}
	hb_hmac_sha256_hex(key, msg, (size_t)n, out);
}

bool hb_audit_must_sign(const struct hb_audit *a, enum hb_log log,
			unsigned long long seq)
{
	return a->binding == HB_BIND_KEY && seq > a->signed_from[log];
}

static bool is_hex64(const char *s)
{
	return s && strlen(s) == HB_SHA256_HEX - 1 &&
	       strspn(s, "0123456789abcdef") == HB_SHA256_HEX - 1;
}

static int parse_binding(struct hb_audit *a, const char *text,
			 const char *where, struct hb_diag *diag)
{
	json_object *o = json_tokener_parse(text), *from = NULL, *v;
	const char *kf, *id, *mac;
	int r = 0;

	if (o && json_object_object_get_ex(o, "unsigned", &v) &&
	    json_object_get_boolean(v)) {
		a->binding = HB_BIND_UNSIGNED;
		json_object_put(o);
		return 0;
	}
	kf = o ? hb_json_str(o, "key_file") : NULL;
	id = o ? hb_json_str(o, "key_id") : NULL;
	mac = o ? hb_json_str(o, "hmac") : NULL;
	if (!kf || kf[0] != '/' || !is_hex64(id) || !is_hex64(mac) ||
	    !json_object_object_get_ex(o, "signed_from", &from)) {
		json_object_put(o);
		return hb_diag_set(diag, where, 0,
				   "not a key binding hivebox wrote");
	}
	for (int log = 0; log < HB_LOG_MAX; log++) {
		if (json_object_object_get_ex(from, hb_log_name(log), &v))
			a->signed_from[log] =
				(unsigned long long)json_object_get_uint64(v);
		else
			r = hb_diag_set(diag, where, 0,
					"not a key binding hivebox wrote");
	}
	a->binding = HB_BIND_KEY;
	/* Read again (audit init on a directory opened bound): the new. */
	free(a->key_file);
	a->key_file = strdup(kf);
	snprintf(a->key_id, sizeof(a->key_id), "%s", id);
	snprintf(a->binding_mac, sizeof(a->binding_mac), "%s", mac);
	json_object_put(o);
	if (r == 0 && !a->key_file)
		r = -ENOMEM;
	return r;
}

/* The binding, if there is one, read on its descriptor: a regular file
 * that only root or the caller could have written. */
static int read_binding(struct hb_audit *a, struct hb_diag *diag)
{
	_cleanup_close_ int fd = openat(a->dirfd, HB_AUDIT_BINDING,
					O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char where[4200], buf[4096];
	struct stat st;
	ssize_t n;

	snprintf(where, sizeof(where), "%s/%s", a->dir, HB_AUDIT_BINDING);
	a->binding = HB_BIND_NONE;
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return hb_diag_set(diag, where, 0, "cannot read: %s",
				   strerror(errno));
	if (!S_ISREG(st.st_mode) ||
	    (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022))
		return hb_diag_set(diag, where, 0,
				   "not trusted: it must be a file that only "
				   "root (or you) can write");
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return hb_diag_set(diag, where, 0, "cannot read: %s",
				   strerror(errno));
	buf[n] = '\0';
	a->binding_ino = (unsigned long long)st.st_ino;
	return parse_binding(a, buf, where, diag);
}

/* Does a log's head say its last record was signed?  A trail written by
 * a hivebox before bindings existed may be signed with no binding. */
static bool head_signed(const struct hb_audit *a)
{
	for (int log = 0; log < HB_LOG_MAX; log++) {
		char name[300], buf[1024];
		_cleanup_close_ int fd = -1;
		ssize_t n;
		snprintf(name, sizeof(name), "%s.head", hb_log_name(log));
		fd = openat(a->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (strstr(buf, "\"hmac\":"))
			return true;
	}
	return false;
}

/* The binding names a key: load it (or the one given, which must be the
 * same).  A writer that cannot read it refuses; a reader goes on without
 * and says so. */
static int bound_key(struct hb_audit *a, const char *key_file, unsigned flags,
		     struct hb_diag *diag)
{
	const char *file = key_file ?: a->key_file;
	char id[HB_SHA256_HEX], mac[HB_SHA256_HEX];
	int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		a->key_errno = errno;
		if (flags & HB_AUDIT_WRITER)
			return hb_diag_set(
				diag, a->dir, 0,
				"a signed trail, and its key %s cannot be read "
				"(%s); no unsigned record is added to it",
				file, strerror(errno));
		return 0;
	}
	close(fd);
	if (hb_audit_load_key(a, file, true, diag) < 0)
		return -EINVAL;
	hb_audit_key_id(a->key, id);
	if (strcmp(id, a->key_id) != 0) {
		a->have_key = false;
		return hb_diag_set(
			diag, a->dir, 0,
			"%s is not the key bound to this trail (%s/%s "
			"names %s)",
			file, a->dir, HB_AUDIT_BINDING, a->key_file);
	}
	hb_audit_binding_hmac(a->key, a->key_file, a->signed_from, mac);
	a->binding_bad = strcmp(mac, a->binding_mac) != 0;
	if (a->binding_bad && (flags & HB_AUDIT_WRITER))
		return hb_diag_set(diag, a->dir, 0,
				   "%s/%s does not match its key's HMAC "
				   "(rewritten?); hivebox audit verify",
				   a->dir, HB_AUDIT_BINDING);
	return 0;
}

int hb_audit_find_key(struct hb_audit *a, const char *key_file, unsigned flags,
		      struct hb_diag *diag)
{
	bool writer = flags & HB_AUDIT_WRITER;
	int r = read_binding(a, diag);

	if (r < 0)
		return r;
	switch (a->binding) {
	case HB_BIND_KEY:
		return bound_key(a, key_file, flags, diag);
	case HB_BIND_UNSIGNED:
		if (key_file)
			return hb_diag_set(
				diag, a->dir, 0,
				"an unsigned trail (audit init --unsigned) was "
				"given key %s; 'hivebox audit init --dir %s "
				"--key %s' signs it from now on",
				key_file, a->dir, key_file);
		return 0;
	case HB_BIND_NONE:
		break;
	}
	if (writer && key_file)
		return hb_diag_set(diag, a->dir, 0,
				   "no key is bound to this trail; 'hivebox "
				   "audit init --dir %s --key %s' binds %s",
				   a->dir, key_file, key_file);
	if (writer && head_signed(a))
		return hb_diag_set(diag, a->dir, 0,
				   "the trail holds signed records but no key "
				   "is bound to it; 'hivebox audit init --dir "
				   "%s --key FILE' binds the key that signed "
				   "them",
				   a->dir);
	if (writer) {
		a->warn_unsigned = geteuid() == 0;
		return 0;
	}
	/* A reader of a trail with no binding (an older hivebox wrote it)
	 * may still check its HMACs with the key it names. */
	return key_file ? hb_audit_load_key(a, key_file,
					    flags & HB_AUDIT_KEY_REQUIRED, diag)
			: 0;
}

int hb_audit_binding_current(const struct hb_audit *a)
{
	struct stat st;

	if (fstatat(a->dirfd, HB_AUDIT_BINDING, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return a->binding_ino ? -ESTALE : 0;
	return (unsigned long long)st.st_ino == a->binding_ino ? 0 : -ESTALE;
}

/* Write text as the binding: to a temporary file, synced, renamed over,
 * the directory synced.  Readable by all (it holds no secret). */
static int write_binding(struct hb_audit *a, const char *text)
{
	_cleanup_close_ int fd = openat(
		a->dirfd, BINDING_TMP,
		O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	int r;

	if (fd < 0)
		return -errno;
	r = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (r == 0)
		r = hb_write_all(fd, text, strlen(text));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 &&
	    renameat(a->dirfd, BINDING_TMP, a->dirfd, HB_AUDIT_BINDING) < 0)
		r = -errno;
	if (r == 0 && fsync(a->dirfd) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(a->dirfd, BINDING_TMP, 0);
	return r;
}

/* Bind the loaded key, each log locked so that no writer appends between
 * the seqs read here and the binding's rename. */
static int bind_key(struct hb_audit *a, const char *key_file)
{
	int fds[HB_LOG_MAX] = {-1, -1}, r = 0;
	unsigned long long from[HB_LOG_MAX] = {0};
	char id[HB_SHA256_HEX], mac[HB_SHA256_HEX], prev[HB_SHA256_HEX];
	char *text = NULL;

	for (int log = 0; r == 0 && log < HB_LOG_MAX; log++) {
		fds[log] = hb_audit_open_locked(a, hb_log_name(log));
		r = fds[log] < 0 ? fds[log]
				 : hb_audit_tail(fds[log], &from[log], prev);
	}
	if (r == 0) {
		json_object *o = json_object_new_object(),
			    *f = json_object_new_object();
		hb_audit_key_id(a->key, id);
		hb_audit_binding_hmac(a->key, key_file, from, mac);
		json_object_object_add(o, "key_file",
				       json_object_new_string(key_file));
		json_object_object_add(o, "key_id", json_object_new_string(id));
		for (int log = 0; log < HB_LOG_MAX; log++)
			json_object_object_add(
				f, hb_log_name(log),
				json_object_new_uint64(from[log]));
		json_object_object_add(o, "signed_from", f);
		json_object_object_add(o, "hmac", json_object_new_string(mac));
		if (asprintf(&text, "%s\n",
			     json_object_to_json_string_ext(o, HB_JSON_FLAGS)) <
		    0)
			r = -ENOMEM;
		json_object_put(o);
	}
	if (r == 0)
		r = write_binding(a, text);
	free(text);
	for (int log = 0; log < HB_LOG_MAX; log++) {
		char head[300];
		snprintf(head, sizeof(head), "%s.head", hb_log_name(log));
		/* A log the lock made is no log yet: verify would find it
		 * without its head.  A writer waiting on it sees the name
		 * gone and makes its own. */
		if (fds[log] >= 0 && from[log] == 0 &&
		    faccessat(a->dirfd, head, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			unlinkat(a->dirfd, hb_log_name(log), 0);
		if (fds[log] >= 0)
			close(fds[log]);
	}
	return r;
}

static int bind_unsigned(struct hb_audit *a, struct hb_diag *diag)
{
	int r;

	if (a->binding == HB_BIND_KEY)
		return hb_diag_set(diag, a->dir, 0,
				   "a signed trail (%s/%s names %s) does not "
				   "become unsigned",
				   a->dir, HB_AUDIT_BINDING, a->key_file);
	if (a->binding == HB_BIND_UNSIGNED)
		return 1;
	if (head_signed(a))
		return hb_diag_set(diag, a->dir, 0,
				   "the trail holds signed records; bind the "
				   "key that signed them with --key");
	r = write_binding(a, "{\"unsigned\":true}\n");
	if (r < 0)
		return hb_diag_set(diag, a->dir, 0, "cannot write %s: %s",
				   HB_AUDIT_BINDING, strerror(-r));
	return 0;
}

/* A trail bound to a key file that is gone: no new key can sign it, so
 * none is made (a stray key beside it would only mislead). */
static int bound_key_present(const struct hb_audit *a, struct hb_diag *diag)
{
	if (a->binding != HB_BIND_KEY ||
	    faccessat(AT_FDCWD, a->key_file, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	    errno != ENOENT)
		return 0;
	return hb_diag_set(diag, a->dir, 0,
			   "bound to %s, which is missing: restore it (a new "
			   "key cannot sign this trail)",
			   a->key_file);
}

int hb_audit_bind(struct hb_audit *a, const char *key_file, bool unsigned_,
		  struct hb_diag *diag)
{
	_cleanup_free_ char *abs = NULL;
	_cleanup_free_ char *cwd = NULL;
	char id[HB_SHA256_HEX];
	int r = read_binding(a, diag);

	if (r < 0)
		return r;
	if (unsigned_)
		return bind_unsigned(a, diag);
	if (key_file[0] != '/' && !(cwd = getcwd(NULL, 0)))
		return -errno;
	r = hb_path_absolute(cwd, key_file, &abs);
	if (r < 0)
		return r;
	r = bound_key_present(a, diag);
	if (r < 0)
		return r;
	r = hb_audit_init_key(abs, diag);
	if (r < 0)
		return r;
	r = hb_audit_load_key(a, abs, true, diag);
	if (r < 0)
		return r;
	hb_audit_key_id(a->key, id);
	if (a->binding == HB_BIND_KEY)
		return strcmp(id, a->key_id) == 0
			       ? 1
			       : hb_diag_set(diag, a->dir, 0,
					     "bound to another key: %s/%s "
					     "names %s",
					     a->dir, HB_AUDIT_BINDING,
					     a->key_file);
	r = bind_key(a, abs);
	if (r < 0)
		return hb_diag_set(diag, a->dir, 0, "cannot bind the key: %s",
				   strerror(-r));
	free(a->key_file);
	a->key_file = TAKE_PTR(abs);
	a->binding = HB_BIND_KEY;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Rotation of the audit logs: a new file whose first record names the
 * last hash of the old, which keeps its name with the last seq appended
 * (name.NNNNNNNNNNNN). */
#include "audit.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* name.NNNNNNNNNNNN files, oldest first. */
int hb_audit_rotated_files(const struct hb_audit *a, const char *name,
			   struct hb_strv *out)
{
	int fd = openat(a->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t nlen = strlen(name);
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		const char *s = de->d_name + nlen + 1;
		if (strncmp(de->d_name, name, nlen) != 0 ||
		    de->d_name[nlen] != '.' ||
		    strlen(s) != HB_AUDIT_ROTATED_DIGITS ||
		    strspn(s, "0123456789") != HB_AUDIT_ROTATED_DIGITS)
			continue;
		if (hb_strv_push(out, de->d_name) < 0) {
			closedir(d);
			return -ENOMEM;
		}
	}
	closedir(d);
	if (out->n)
		qsort(out->v, out->n, sizeof(char *), cmp_names);
	return 0;
}

int hb_audit_rotate(struct hb_audit *a, enum hb_log log)
{
	const char *name = hb_log_name(log);
	char rotated[300], tmp[300], prev[HB_SHA256_HEX], hash[HB_SHA256_HEX];
	_cleanup_close_ int fd = -1;
	_cleanup_close_ int nfd = -1;
	_cleanup_free_ char *line = NULL;
	unsigned long long seq;
	json_object *rec;
	bool was_append;
	int r;

	fd = openat(a->dirfd, name, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (flock(fd, LOCK_EX) < 0)
		return -errno;
	r = hb_audit_binding_current(a);
	if (r == 0)
		r = hb_audit_tail(fd, &seq, prev);
	if (r < 0 || seq == 0)
		return r;
	snprintf(rotated, sizeof(rotated), "%s.%0*llu", name,
		 HB_AUDIT_ROTATED_DIGITS, seq);
	snprintf(tmp, sizeof(tmp), ".%s.new", name);
	rec = json_object_new_object();
	json_object_object_add(rec, "type", json_object_new_string("rotation"));
	json_object_object_add(rec, "previous_file",
			       json_object_new_string(rotated));
	json_object_object_add(rec, "previous_seq",
			       json_object_new_uint64(seq));
	line = hb_audit_encode(rec, seq + 1, prev, a->have_key ? a->key : NULL,
			       hash);
	json_object_put(rec);
	if (!line)
		return -ENOMEM;
	nfd = openat(a->dirfd, tmp,
		     O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (nfd < 0)
		return -errno;
	r = hb_write_all(nfd, line, strlen(line));
	if (r == 0 && fsync(nfd) < 0)
		r = -errno;
	if (r < 0) {
		/* Not a rotation: leave no half-written file behind. */
		unlinkat(a->dirfd, tmp, 0);
		return r;
	}
	/* A hard link to an append-only file is refused: lift the flag for
	 * the link and set it again on both names. */
	was_append = hb_audit_set_append_only(fd, false);
	r = linkat(a->dirfd, name, a->dirfd, rotated, 0) < 0 ? -errno : 0;
	if (r == 0 && renameat(a->dirfd, tmp, a->dirfd, name) < 0)
		r = -errno;
	if (was_append)
		hb_audit_set_append_only(fd, true);
	if (r < 0) {
		unlinkat(a->dirfd, tmp, 0);
		return r;
	}
	if (was_append || a->append_only)
		hb_audit_set_append_only(nfd, true);
	return hb_audit_write_head(a, name, seq + 1, hash);
}

/* SPDX-License-Identifier: MIT */
#include "ids.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

/* The lock file's directory: the caller's, writable by no one else, so
 * that nobody else can replace the file whose locks hand out uids. */
static int open_lock_dir(const char *lock_path, const char **ret_name)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(lock_path, '/');
	int fd;

	if (!slash || slash == lock_path || !slash[1] || lock_path[0] != '/' ||
	    (size_t)(slash - lock_path) >= sizeof(dir))
		return -EINVAL;
	memcpy(dir, lock_path, (size_t)(slash - lock_path));
	dir[slash - lock_path] = '\0';
	fd = hb_open_own_dir(dir, true);
	if (fd >= 0)
		*ret_name = slash + 1;
	return fd;
}

static int open_lock_file(const char *lock_path)
{
	_cleanup_close_ int dir = -1;
	_cleanup_close_ int fd = -1;
	const char *name = NULL;
	struct stat st;

	dir = open_lock_dir(lock_path, &name);
	if (dir < 0)
		return dir;
	fd = openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return -EPERM;
	return TAKE_FD(fd);
}

/* 1 if this description now holds byte index, 0 if another does. */
static int try_lock(int fd, unsigned index)
{
	struct flock fl = {.l_type = F_WRLCK,
			   .l_whence = SEEK_SET,
			   .l_start = (off_t)index,
			   .l_len = 1};

	/* OFD locks belong to the open file description, not to the
	 * process: two runs, or two descriptors of one process, exclude
	 * each other, and no lock survives the description. */
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 1;
	return errno == EAGAIN || errno == EACCES ? 0 : -errno;
}

int hb_ids_acquire(const char *lock_path, unsigned range, unsigned start,
		   unsigned *ret_index)
{
	_cleanup_close_ int fd = -1;

	if (range == 0 || range > INT_MAX)
		return -EINVAL;
	fd = open_lock_file(lock_path);
	if (fd < 0)
		return fd;
	for (unsigned i = 0; i < range; i++) {
		unsigned index =
			(unsigned)(((unsigned long long)start + i) % range);
		int r = try_lock(fd, index);
		if (r < 0)
			return r;
		if (r) {
			*ret_index = index;
			return TAKE_FD(fd);
		}
	}
	return -EUSERS;
}

int hb_ids_needs(bool is_dir, bool write)
{
	return (write ? W_OK : R_OK) | (is_dir ? X_OK : 0);
}

bool hb_ids_may(const struct stat *st, uid_t uid, gid_t gid, int mask)
{
	unsigned shift = st->st_uid == uid ? 6 : st->st_gid == gid ? 3 : 0;
	unsigned bits = ((unsigned)st->st_mode >> shift) & 7;

	return (bits & (unsigned)mask) == (unsigned)mask;
}

const char *hb_ids_chmod_text(mode_t mode, int mask, char *buf, size_t n)
{
	unsigned missing = (unsigned)mask & ~(((unsigned)mode >> 6) & 7);

	snprintf(buf, n, "u+%s%s%s", missing & R_OK ? "r" : "",
		 missing & W_OK ? "w" : "", missing & X_OK ? "x" : "");
	return buf;
}

/* Let uid (or, with anyone, a group or all) change the way at dir_path;
 * at and mode keep the first directory that let anyone but root in. */
static void let_in(struct hb_ids_way *w, uid_t uid, bool anyone,
		   const char *dir_path, mode_t mode)
{
	if (!anyone && (uid == 0 || uid == w->changer))
		return;
	if (w->changer == (uid_t)-1 && !w->others) {
		snprintf(w->at, sizeof(w->at), "%s", dir_path);
		w->mode = mode;
	}
	if (anyone || w->changer != (uid_t)-1)
		w->others = true;
	else
		w->changer = uid;
}

void hb_ids_way_step(struct hb_ids_way *w, const char *dir_path,
		     const struct stat *dir, const struct stat *entry)
{
	bool open_to_others = dir->st_mode & (S_IWGRP | S_IWOTH);
	bool sticky = dir->st_mode & S_ISVTX;

	let_in(w, dir->st_uid, open_to_others && !sticky, dir_path,
	       dir->st_mode);
	/* Sticky (/tmp): others may add names, but only an entry's owner
	 * (besides the directory's and root) may rename that entry. */
	if (open_to_others && sticky)
		let_in(w, entry->st_uid, false, dir_path, dir->st_mode);
}

bool hb_ids_way_trusted(const struct hb_ids_way *w, uid_t owner)
{
	return !w->others && (w->changer == (uid_t)-1 || w->changer == owner);
}

int hb_ids_open(const char *abs, int flags, struct hb_ids_way *ret_way)
{
	_cleanup_close_ int dir = -1;
	char copy[PATH_MAX], at[PATH_MAX] = "/";
	struct stat dst, est;
	char *comp, *slash;

	*ret_way = (struct hb_ids_way){.changer = (uid_t)-1};
	if (abs[0] != '/')
		return -EINVAL;
	if (snprintf(copy, sizeof(copy), "%s", abs) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || fstat(dir, &dst) < 0)
		return -errno;
	if (!copy[1])
		return -EINVAL;
	for (comp = copy + 1;; comp = slash + 1) {
		int next;
		slash = strchr(comp, '/');
		if (slash)
			*slash = '\0';
		if (!*comp || strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
			return -EINVAL;
		next = hb_open_nofollow(dir, comp,
					slash ? O_PATH | O_DIRECTORY | O_CLOEXEC
					      : flags);
		if (next < 0)
			return next;
		/* dst: dir, as the step before read it (it was next). */
		if (fstat(next, &est) < 0) {
			close(next);
			return -errno;
		}
		hb_ids_way_step(ret_way, at, &dst, &est);
		close(dir);
		dir = next;
		dst = est;
		if (!slash)
			return TAKE_FD(dir);
		/* at: the path up to this component, for a message. */
		snprintf(at, sizeof(at), "%.*s", (int)(slash - copy), abs);
	}
}

static int userns_child(void *arg)
{
	(void)arg;
	return 0;
}

static int write_map(pid_t pid, const char *file, unsigned inside,
		     unsigned outside)
{
	char path[64], map[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	snprintf(map, sizeof(map), "%u %u 1\n", inside, outside);
	return hb_write_text(path, map);
}

int hb_ids_userns(uid_t owner, gid_t group, uid_t host_uid, gid_t host_gid)
{
	/* The child runs on this until it exits: CLONE_VFORK holds us
	 * until then, and it only returns. */
	char stack[8192] __attribute__((aligned(16)));
	char path[64];
	int fd = -1, r;
	pid_t pid;

	/* No exit signal: the child is never reaped behind our back, even
	 * with SIGCHLD ignored, so its namespace is still there, held by
	 * the zombie's credentials, when its maps are written below. */
	pid = clone(userns_child, stack + sizeof(stack),
		    CLONE_NEWUSER | CLONE_VM | CLONE_VFORK, NULL);
	if (pid < 0)
		return -errno;
	r = write_map(pid, "uid_map", owner, host_uid);
	if (r == 0)
		r = write_map(pid, "gid_map", group, host_gid);
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			r = -errno;
	}
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	return r < 0 ? r : fd;
}

/* SPDX-License-Identifier: MIT */
/* The host's paths the sandbox gets beyond the interpreter's files: the
 * policy's read_only and read_write paths and the script, each opened
 * once, checked on that descriptor, and mounted from it. */
#include "mountinfo.h"
#include "plan_internal.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/statfs.h>

/* Targets that the sandbox makes itself and a policy cannot replace. */
bool hb_plan_reserved(const char *target)
{
	static const char *const exact[] = {"/", "/tmp", "/etc", "/dev/shm"};

	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (strcmp(target, exact[i]) == 0)
			return true;
	return hb_path_under(target, "/proc") || hb_path_under(target, "/dev");
}

/* Which of the host's own trees the inode fd stands for lies in, if one
 * the sandbox must never get: the root itself, or anything of /proc, /sys
 * or /dev, told by the file system's type or, for the root and devtmpfs
 * (a tmpfs to statfs()), by device and inode.  NULL if none. */
static int host_own(int fd, const struct stat *st, const char **ret)
{
	struct stat root, dev;
	struct statfs sf;

	*ret = NULL;
	if (fstatfs(fd, &sf) < 0 || stat("/", &root) < 0)
		return -errno;
	*ret = hb_host_fs_by_magic((long)sf.f_type);
	if (*ret)
		return 0;
	if (st->st_dev == root.st_dev && st->st_ino == root.st_ino)
		*ret = "/";
	else if (stat("/dev", &dev) == 0 && dev.st_dev != root.st_dev &&
		 st->st_dev == dev.st_dev)
		*ret = "/dev";
	return 0;
}

/* The sandbox's uid must be able to use what it is given: enter a
 * directory, read anything else.  Asked with the file-system ids the
 * path was opened with (AT_EACCESS). */
static int reachable(int fd, const struct stat *st)
{
	int mode = S_ISDIR(st->st_mode) ? X_OK : R_OK;

	return faccessat(fd, "", mode, AT_EACCESS | AT_EMPTY_PATH) < 0 ? -errno
								       : 0;
}

/* A policy path that could not be opened: the reason in the words the
 * plan has always used, a symlink named as such. */
static int path_error(const struct hb_policy *p, enum hb_key key,
		      const char *path, const char *abs, int err,
		      struct hb_diag *diag)
{
	const char *file = hb_policy_origin(p, key);
	unsigned line = p->origin[key].line;
	char real[PATH_MAX];
	struct stat st;

	if (err != ELOOP)
		return hb_diag_set(diag, file, line, "%s path '%s' (%s): %s",
				   hb_key_name(key), path, abs, strerror(err));
	if (key == HB_K_READ_WRITE && lstat(abs, &st) == 0 &&
	    S_ISLNK(st.st_mode))
		return hb_diag_set(diag, file, line,
				   "read_write path '%s' (%s) is a symlink; "
				   "name its target instead",
				   path, abs);
	if (realpath(abs, real) && strcmp(real, abs) != 0)
		return hb_diag_set(diag, file, line,
				   "%s path '%s' has a symlink on its way (it "
				   "resolves to %s); name that path instead",
				   hb_key_name(key), path, real);
	return hb_diag_set(diag, file, line,
			   "%s path '%s' (%s) has a symlink on its way; name "
			   "a path without one",
			   hb_key_name(key), path, abs);
}

static int would_give(const struct hb_policy *p, enum hb_key key,
		      const char *path, const char *what, struct hb_diag *diag)
{
	return hb_diag_set(diag, hb_policy_origin(p, key), p->origin[key].line,
			   "%s path '%s' would give the sandbox the host's %s",
			   hb_key_name(key), path, what);
}

/* A directory is cloned with what is mounted below it: a host procfs,
 * sysfs or devpts there (a chroot's /proc, /run/netns) would come too. */
static int below_own(const struct hb_policy *p, enum hb_key key,
		     const char *path, const char *abs, char **table,
		     struct hb_diag *diag)
{
	const char *what = NULL;
	char at[PATH_MAX];
	/* Read once for all the policy's directories, when the first one
	 * needs it. */
	int r = *table ? 0 : hb_mountinfo_read(table);

	if (r == 0)
		r = hb_mountinfo_host_below(*table, abs, &what, at);

	if (r < 0)
		return hb_diag_set(
			diag, hb_policy_origin(p, key), p->origin[key].line,
			"%s path '%s': cannot read the mount table: %s",
			hb_key_name(key), path, strerror(-r));
	if (!what)
		return 0;
	return hb_diag_set(diag, hb_policy_origin(p, key), p->origin[key].line,
			   "%s path '%s' would give the sandbox the host's %s, "
			   "mounted below it at %s",
			   hb_key_name(key), path, what, at);
}

/* Open a host path as the sandbox's ids (plan_host_paths() set them).
 * Where they cannot get through (-EACCES: /root/jobs/tally.py, a root
 * cron job's), root may open it instead, but only through directories no
 * one but root can change (hb_open_root_chain()): no other user can then
 * swap a component, so root opens what the policy names and nothing
 * else.  The file itself must still be usable by the sandbox's uid, which
 * the callers check (reachable(), or the script's read below). */
static int open_host(const struct hb_plan *plan, const char *abs, int flags)
{
	int fd = hb_open_nofollow(AT_FDCWD, abs, flags);
	uid_t fsuid;
	gid_t fsgid;

	if (fd != -EACCES || !plan->privileged || geteuid() != 0)
		return fd;
	fsuid = (uid_t)setfsuid(0);
	fsgid = (gid_t)setfsgid(0);
	fd = hb_open_root_chain(abs, flags);
	setfsgid(fsgid);
	setfsuid(fsuid);
	if ((uid_t)setfsuid((uid_t)-1) != fsuid ||
	    (gid_t)setfsgid((gid_t)-1) != fsgid) {
		hb_closep(&fd);
		return -EPERM;
	}
	return fd;
}

/* A policy path is opened once, following no symlink anywhere (whoever
 * can replace a directory on the way could otherwise point the sandbox
 * anywhere), and everything is checked on that descriptor, which is what
 * the sandbox gets: no name is resolved twice. */
static int plan_policy_path(struct hb_plan *plan, const struct hb_policy *p,
			    enum hb_key key, const char *path, char **table,
			    struct hb_diag *diag)
{
	_cleanup_free_ char *abs = NULL;
	_cleanup_close_ int fd = -1;
	const char *own = NULL;
	struct stat st;
	bool rw = key == HB_K_READ_WRITE;
	int r;

	r = hb_path_absolute(plan->cwd, path, &abs);
	if (r < 0)
		return r;
	if (hb_plan_reserved(abs))
		return hb_diag_set(
			diag, hb_policy_origin(p, key), p->origin[key].line,
			"%s path '%s' collides with the sandbox's own %s",
			hb_key_name(key), path, abs);
	if (hb_path_under(abs, "/proc") || hb_path_under(abs, "/sys") ||
	    hb_path_under(abs, "/dev"))
		return would_give(p, key, path, abs, diag);
	fd = open_host(plan, abs, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return path_error(p, key, path, abs, -fd, diag);
	r = fstat(fd, &st) < 0 ? -errno : reachable(fd, &st);
	if (r == 0)
		r = host_own(fd, &st, &own);
	if (r < 0)
		return path_error(p, key, path, abs, -r, diag);
	if (own)
		return would_give(p, key, path, own, diag);
	if (S_ISDIR(st.st_mode)) {
		r = below_own(p, key, path, abs, table, diag);
		if (r < 0)
			return r;
	}
	return hb_plan_add_bind_fd(plan, TAKE_FD(fd), &st, abs, abs,
				   rw ? ATTR_RW : ATTR_SYSTEM,
				   hb_key_name(key));
}

static int plan_policy_paths(struct hb_plan *plan, const struct hb_policy *p,
			     struct hb_diag *diag)
{
	_cleanup_free_ char *table = NULL; /* the mount table, once read */
	size_t first = plan->n_mounts;
	int r;

	for (size_t i = 0; i < p->read_only.n; i++) {
		r = plan_policy_path(plan, p, HB_K_READ_ONLY, p->read_only.v[i],
				     &table, diag);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < p->read_write.n; i++) {
		r = plan_policy_path(plan, p, HB_K_READ_WRITE,
				     p->read_write.v[i], &table, diag);
		if (r < 0)
			return r;
	}
	/* Two spellings of one path, one read-only and one read-write. */
	for (size_t i = first; i < plan->n_mounts; i++)
		for (size_t j = i + 1; j < plan->n_mounts; j++)
			if (strcmp(plan->mounts[i].target,
				   plan->mounts[j].target) == 0 &&
			    plan->mounts[i].attrs != plan->mounts[j].attrs)
				return hb_diag_set(
					diag,
					hb_policy_origin(p, HB_K_READ_WRITE),
					p->origin[HB_K_READ_WRITE].line,
					"'%s' is both read_only and read_write",
					plan->mounts[i].target);
	return 0;
}

/* The directory bind already in the plan through which target is
 * visible (the deepest, if several are), or NULL. */
static const struct hb_mount *covering(const struct hb_plan *plan,
				       const char *target)
{
	const struct hb_mount *best = NULL;

	for (size_t i = 0; i < plan->n_mounts; i++) {
		const struct hb_mount *m = &plan->mounts[i];
		if (m->kind == HB_MNT_BIND && m->is_dir &&
		    hb_path_under(target, m->target) &&
		    (!best || strlen(m->target) > strlen(best->target)))
			best = m;
	}
	return best;
}

bool hb_plan_covered(const struct hb_plan *plan, const char *target)
{
	return covering(plan, target) != NULL;
}

/* Open the script once: following no symlink, without blocking on a
 * FIFO, only a regular file of at most HB_SCRIPT_MAX_BYTES, nothing of
 * the host's /proc, /sys or /dev.  Where a directory the policy grants
 * holds it, it is opened through that directory's descriptor: the file
 * hashed is then the one the sandbox finds there when it starts. */
static int open_script(const struct hb_plan *plan, const char *script,
		       const struct hb_mount *cover, const char **ret_own)
{
	const int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	const char *rel = cover ? script + strlen(cover->target) : NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	/* The directory itself is no script. */
	if (rel && *rel != '/')
		return -EINVAL;
	fd = rel ? hb_open_nofollow(cover->fd, rel + 1, flags)
		 : open_host(plan, script, flags);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* Opened by root through a root-only way (open_host()): the
	 * interpreter, as the sandbox's uid, must still be able to read it. */
	if (faccessat(fd, "", R_OK, AT_EACCESS | AT_EMPTY_PATH) < 0)
		return -errno;
	if ((unsigned long long)st.st_size > HB_SCRIPT_MAX_BYTES)
		return -EFBIG;
	r = host_own(fd, &st, ret_own);
	if (r < 0)
		return r;
	return *ret_own ? -EPERM : TAKE_FD(fd);
}

static int script_error(const struct hb_invocation *inv, const char *abs,
			int err, const char *own, struct hb_diag *diag)
{
	char real[PATH_MAX];

	if (own)
		return hb_diag_set(diag, inv->script, 0,
				   "cannot use script: it lies in the host's "
				   "%s",
				   own);
	if (err == ELOOP && realpath(abs, real) && strcmp(real, abs) != 0)
		return hb_diag_set(diag, inv->script, 0,
				   "cannot use script: it has a symlink on its "
				   "way (it resolves to %s); name that path "
				   "instead",
				   real);
	if (err == ELOOP)
		return hb_diag_set(diag, inv->script, 0,
				   "cannot use script: it has a symlink on its "
				   "way");
	if (err == EINVAL)
		return hb_diag_set(diag, inv->script, 0,
				   "cannot use script: not a regular file");
	if (err == EFBIG)
		return hb_diag_set(diag, inv->script, 0,
				   "cannot use script: larger than %llu MiB",
				   HB_SCRIPT_MAX_BYTES >> 20);
	return hb_diag_set(diag, inv->script, 0, "cannot use script: %s",
			   strerror(err));
}

static int plan_script(struct hb_plan *plan, const struct hb_invocation *inv,
		       struct hb_diag *diag)
{
	const struct hb_mount *cover;
	const char *own = NULL;
	struct stat st;
	int r, fd;

	r = hb_path_absolute(plan->cwd, inv->script, &plan->script);
	if (r < 0)
		return r;
	/* Refused by name before anything is opened: an open of a device
	 * node can act (a watchdog arms), and /dev/shm is no devtmpfs. */
	static const char *const host[] = {"/proc", "/sys", "/dev"};
	for (size_t i = 0; i < ARRAY_SIZE(host); i++)
		if (hb_path_under(plan->script, host[i]))
			return script_error(inv, plan->script, EPERM, host[i],
					    diag);
	cover = covering(plan, plan->script);
	r = open_script(plan, plan->script, cover, &own);
	if (r < 0)
		return script_error(inv, plan->script, -r, own, diag);
	plan->script_fd = r;
	if (cover)
		return 0;
	fd = fcntl(plan->script_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0 || fstat(fd, &st) < 0) {
		hb_closep(&fd);
		return -errno;
	}
	return hb_plan_add_bind_fd(plan, fd, &st, plan->script, plan->script,
				   ATTR_SYSTEM | HB_ATTR_NOEXEC, "script");
}

/* The ids the launcher had before it opened paths as the sandbox's. */
struct fs_ids {
	bool changed;
	gid_t *groups;
	int n_groups;
};

/* Started as root, the policy's paths and the script are opened with the
 * sandbox's host uid and gid as file-system ids, and without root's
 * groups: a path the sandbox's uid could not reach is refused here, and
 * the sandbox is given nothing it could not reach itself.  Root's fs ids
 * drop the file capabilities (DAC override) with them, and bring them
 * back.  Only root can take other ids; a root invocation planned by
 * someone else (the unit tests) opens as itself. */
static int fs_ids_enter(const struct hb_plan *plan, struct fs_ids *saved)
{
	*saved = (struct fs_ids){0};
	if (!plan->privileged || plan->host_uid == 0 || geteuid() != 0)
		return 0;
	saved->n_groups = getgroups(0, NULL);
	if (saved->n_groups < 0)
		return -errno;
	saved->groups = calloc((size_t)saved->n_groups + 1, sizeof(gid_t));
	if (!saved->groups)
		return -ENOMEM;
	if (getgroups(saved->n_groups, saved->groups) < 0)
		return -errno;
	if (setgroups(0, NULL) < 0)
		return -errno;
	saved->changed = true;
	setfsgid(plan->host_gid);
	setfsuid(plan->host_uid);
	/* setfsuid() reports no failure: an invalid id reads it back. */
	if ((uid_t)setfsuid((uid_t)-1) != plan->host_uid ||
	    (gid_t)setfsgid((gid_t)-1) != plan->host_gid)
		return -EPERM;
	return 0;
}

static int fs_ids_leave(struct fs_ids *saved)
{
	int r = 0;

	if (saved->changed) {
		setfsuid(geteuid());
		setfsgid(getegid());
		if (setgroups((size_t)saved->n_groups, saved->groups) < 0)
			r = -errno;
		if ((uid_t)setfsuid((uid_t)-1) != geteuid() ||
		    (gid_t)setfsgid((gid_t)-1) != getegid())
			r = -EPERM;
	}
	free(saved->groups);
	*saved = (struct fs_ids){0};
	return r;
}

/* What the sandbox gets of the host beyond the interpreter's files: the
 * policy's paths and the script, opened as the sandbox's host ids. */
int hb_plan_host_paths(struct hb_plan *plan, const struct hb_policy *p,
		       const struct hb_invocation *inv, struct hb_diag *diag)
{
	struct fs_ids saved;
	int r, back;

	r = fs_ids_enter(plan, &saved);
	if (r == 0)
		r = plan_policy_paths(plan, p, diag);
	if (r == 0)
		r = plan_script(plan, inv, diag);
	back = fs_ids_leave(&saved);
	return r < 0 ? r : back;
}

/* SPDX-License-Identifier: MIT */
/* The host's paths the sandbox gets beyond the interpreter's files: the
 * policy's read_only and read_write paths and the script, each opened
 * once, checked on that descriptor, and mounted from it.  Started as
 * root, each is idmapped to its owner (ids.h): the launcher opens it as
 * itself, and refuses what the owner could not do there. */
#include "ids.h"
#include "mountinfo.h"
#include "plan_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <pwd.h>
#include <string.h>
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

/* Started unprivileged, the sandbox is the caller: it must be able to
 * use what it is given, enter a directory, read anything else.  Started
 * as root, the owner's rights are checked instead (owner_refusal()). */
static int reachable(const struct hb_plan *plan, int fd, const struct stat *st)
{
	int mode = S_ISDIR(st->st_mode) ? X_OK : R_OK;

	if (plan->privileged)
		return 0;
	return faccessat(fd, "", mode, AT_EACCESS | AT_EMPTY_PATH) < 0 ? -errno
								       : 0;
}

/* "svc (uid 998)", or "uid 998" for an id without a name. */
static const char *owner_text(uid_t uid, char *buf, size_t n)
{
	struct passwd pw, *found = NULL;
	char names[1024];

	if (getpwuid_r(uid, &pw, names, sizeof(names), &found) == 0 && found)
		snprintf(buf, n, "%s (uid %u)", found->pw_name, (unsigned)uid);
	else
		snprintf(buf, n, "uid %u", (unsigned)uid);
	return buf;
}

/* Started as root, the sandbox acts on a listed path as its owner, with
 * no capability: a read_write path its owner could not write, or a
 * read_only path its owner could not read, would fail halfway through
 * the job.  Refused before anything runs, with the fix. */
static int owner_refusal(const struct hb_policy *p, enum hb_key key,
			 const char *abs, const struct stat *st,
			 struct hb_diag *diag)
{
	bool rw = key == HB_K_READ_WRITE, dir = S_ISDIR(st->st_mode);
	int need = hb_ids_needs(dir, rw);
	char owner[96], fix[8];

	if (hb_ids_may(st, st->st_uid, st->st_gid, need))
		return 0;
	return hb_diag_set(
		diag, hb_policy_origin(p, key), p->origin[key].line,
		"%s %s is owned by %s with mode %04o: its owner cannot %s it; "
		"chmod %s %s%s",
		hb_key_name(key), abs,
		owner_text(st->st_uid, owner, sizeof(owner)),
		(unsigned)st->st_mode & 07777, rw ? "write" : "read",
		hb_ids_chmod_text(st->st_mode, need, fix, sizeof(fix)), abs,
		rw && hb_ids_may(st, st->st_uid, st->st_gid,
				 hb_ids_needs(dir, false))
			? ", or list it in read_only"
			: "");
}

/* Started as root, the way to a path must be root's and its owner's
 * alone: whoever else could rename a directory on it could put another
 * tree there while hivebox opens it (a root-only one, say), and the
 * sandbox would act on that as its owner.  Why the way is not, into
 * buf; NULL if it is. */
static const char *untrusted_way(const struct hb_ids_way *w, uid_t owner,
				 char *buf, size_t n)
{
	char who[96], changer[96];

	if (hb_ids_way_trusted(w, owner))
		return NULL;
	if (w->others)
		snprintf(buf, n,
			 "it lies below %s, which users other than root and "
			 "its owner may change (mode %04o), and started as "
			 "root, hivebox takes a path only by a way no one else "
			 "can change",
			 w->at, (unsigned)w->mode & 07777);
	else
		snprintf(buf, n,
			 "it is owned by %s, but %s on its way belongs to %s, "
			 "who could put another tree there",
			 owner_text(owner, who, sizeof(who)), w->at,
			 owner_text(w->changer, changer, sizeof(changer)));
	return buf;
}

/* Open a listed path or the script.  Started as root: as root, one
 * component at a time, with the way checked (untrusted_way()) by the
 * caller.  Unprivileged: as the caller, whose rights are the sandbox's. */
static int open_host(const struct hb_plan *plan, const char *abs, int flags,
		     struct hb_ids_way *way)
{
	*way = (struct hb_ids_way){.changer = (uid_t)-1};
	if (plan->privileged)
		return hb_ids_open(abs, flags, way);
	return hb_open_nofollow(AT_FDCWD, abs, flags);
}

/* The bind of a listed path or the script, idmapped to its owner when
 * started as root; takes fd. */
static int add_listed(struct hb_plan *plan, int fd, const struct stat *st,
		      const char *abs, unsigned attrs, const char *why,
		      const char *listed_in, unsigned listed_line)
{
	struct hb_mount *m;
	int r = hb_plan_add_bind_fd(plan, fd, st, abs, abs, attrs, why);

	if (r < 0)
		return r;
	m = &plan->mounts[plan->n_mounts - 1];
	m->idmap = plan->privileged;
	m->owner_uid = st->st_uid;
	m->owner_gid = st->st_gid;
	m->listed_line = listed_line;
	m->listed_in = listed_in ? strdup(listed_in) : NULL;
	return listed_in && !m->listed_in ? -ENOMEM : 0;
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
	struct hb_ids_way way;
	char why[PATH_MAX + 256];
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
	fd = open_host(plan, abs, O_PATH | O_CLOEXEC, &way);
	if (fd < 0)
		return path_error(p, key, path, abs, -fd, diag);
	r = fstat(fd, &st) < 0 ? -errno : reachable(plan, fd, &st);
	if (r == 0)
		r = host_own(fd, &st, &own);
	if (r < 0)
		return path_error(p, key, path, abs, -r, diag);
	if (own)
		return would_give(p, key, path, own, diag);
	if (untrusted_way(&way, st.st_uid, why, sizeof(why)))
		return hb_diag_set(diag, hb_policy_origin(p, key),
				   p->origin[key].line, "%s path '%s': %s",
				   hb_key_name(key), path, why);
	if (S_ISDIR(st.st_mode)) {
		r = below_own(p, key, path, abs, table, diag);
		if (r < 0)
			return r;
	}
	if (plan->privileged) {
		r = owner_refusal(p, key, abs, &st, diag);
		if (r < 0)
			return r;
	}
	return add_listed(plan, TAKE_FD(fd), &st, abs,
			  rw ? ATTR_RW : ATTR_SYSTEM, hb_key_name(key),
			  hb_policy_origin(p, key), p->origin[key].line);
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
		       const struct hb_mount *cover, const char **ret_own,
		       struct hb_ids_way *way)
{
	const int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	const char *rel = cover ? script + strlen(cover->target) : NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	/* The directory itself is no script. */
	if (rel && *rel != '/')
		return -EINVAL;
	*way = (struct hb_ids_way){.changer = (uid_t)-1};
	fd = rel ? hb_open_nofollow(cover->fd, rel + 1, flags)
		 : open_host(plan, script, flags, way);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
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

/* Who the interpreter is to the script: started unprivileged, the caller;
 * started as root, the owner of the path it is mounted from, its own or
 * that of the listed directory it lies in.  0 if that one may read it;
 * otherwise a refusal that says who cannot, and the fix. */
static int script_readable(const struct hb_plan *plan,
			   const struct hb_invocation *inv,
			   const struct hb_mount *cover, int fd,
			   struct hb_diag *diag)
{
	char owner[96], actor[96], fix[8];
	struct stat st;

	if (!plan->privileged)
		return faccessat(fd, "", R_OK, AT_EACCESS | AT_EMPTY_PATH) < 0
			       ? script_error(inv, plan->script, errno, NULL,
					      diag)
			       : 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!cover && !hb_ids_may(&st, st.st_uid, st.st_gid, R_OK))
		return hb_diag_set(
			diag, inv->script, 0,
			"cannot use script: %s is owned by %s with mode %04o: "
			"its owner cannot read it; chmod %s %s",
			plan->script,
			owner_text(st.st_uid, owner, sizeof(owner)),
			(unsigned)st.st_mode & 07777,
			hb_ids_chmod_text(st.st_mode, R_OK, fix, sizeof(fix)),
			plan->script);
	if (cover && !cover->idmap &&
	    !hb_ids_may(&st, plan->host_uid, plan->host_gid, R_OK))
		return hb_diag_set(diag, inv->script, 0,
				   "cannot use script: the sandbox's uid "
				   "cannot read %s (owned by %s, mode %04o) "
				   "in %s (%s); chmod o+r %s",
				   plan->script,
				   owner_text(st.st_uid, owner, sizeof(owner)),
				   (unsigned)st.st_mode & 07777, cover->target,
				   cover->why, plan->script);
	if (cover && cover->idmap &&
	    !hb_ids_may(&st, cover->owner_uid, cover->owner_gid, R_OK))
		return hb_diag_set(
			diag, inv->script, 0,
			"cannot use script: in %s the sandbox acts as its "
			"owner, %s, who cannot read %s (owned by %s, mode "
			"%04o); chown %u %s, or chmod o+r %s",
			cover->target,
			owner_text(cover->owner_uid, actor, sizeof(actor)),
			plan->script,
			owner_text(st.st_uid, owner, sizeof(owner)),
			(unsigned)st.st_mode & 07777,
			(unsigned)cover->owner_uid, plan->script, plan->script);
	return 0;
}

/* replay, keep_scripts: the stored copy bound at the script's path.
 * Over a file there already where a policy path covers it; a file made
 * for it there would be made on the host. */
static int plan_kept_script(struct hb_plan *plan,
			    const struct hb_invocation *inv,
			    struct hb_diag *diag)
{
	struct stat st;
	int r, fd;

	r = hb_path_absolute(plan->cwd, inv->script, &plan->script);
	if (r < 0)
		return r;
	plan->script_fd = fcntl(inv->script_fd, F_DUPFD_CLOEXEC, 3);
	if (plan->script_fd < 0 || fstat(plan->script_fd, &st) < 0)
		return -errno;
	if (covering(plan, plan->script) &&
	    faccessat(AT_FDCWD, plan->script, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return hb_diag_set(diag, inv->script, 0,
				   "cannot put the stored copy of the script "
				   "at %s: a policy path holds it, and there "
				   "is no file there now to bind it over",
				   plan->script);
	fd = fcntl(plan->script_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	return add_listed(plan, fd, &st, plan->script,
			  ATTR_SYSTEM | HB_ATTR_NOEXEC, "script", inv->script,
			  0);
}

static int plan_script(struct hb_plan *plan, const struct hb_invocation *inv,
		       struct hb_diag *diag)
{
	const struct hb_mount *cover;
	const char *own = NULL;
	struct hb_ids_way way;
	char why[PATH_MAX + 256];
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
	r = open_script(plan, plan->script, cover, &own, &way);
	if (r < 0)
		return script_error(inv, plan->script, -r, own, diag);
	plan->script_fd = r;
	if (fstat(plan->script_fd, &st) < 0)
		return -errno;
	if (untrusted_way(&way, st.st_uid, why, sizeof(why)))
		return hb_diag_set(diag, inv->script, 0,
				   "cannot use script: %s", why);
	r = script_readable(plan, inv, cover, plan->script_fd, diag);
	if (r < 0 || cover)
		return r;
	fd = fcntl(plan->script_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0 || fstat(fd, &st) < 0) {
		hb_closep(&fd);
		return -errno;
	}
	return add_listed(plan, fd, &st, plan->script,
			  ATTR_SYSTEM | HB_ATTR_NOEXEC, "script", inv->script,
			  0);
}

/* What the sandbox gets of the host beyond the interpreter's files: the
 * policy's paths and the script.  Started as root, they are opened as
 * root: the sandbox will act on each as its owner, whose rights the
 * checks above stand for; no other user's rights matter on them. */
int hb_plan_host_paths(struct hb_plan *plan, const struct hb_policy *p,
		       const struct hb_invocation *inv, struct hb_diag *diag)
{
	int r = plan_policy_paths(plan, p, diag);

	/* A shell has a script only as replay --shell gives it one. */
	if (r < 0 || !inv->script)
		return r;
	if (inv->have_script_fd)
		return plan_kept_script(plan, inv, diag);
	return plan_script(plan, inv, diag);
}

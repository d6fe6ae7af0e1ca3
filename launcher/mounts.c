/* SPDX-License-Identifier: MIT */
/* The root is built with the new mount API.  Every host source is cloned
 * with open_tree() from the descriptor the plan opened and checked, so the
 * inode mounted is the inode checked, and no source path is ever resolved
 * in a half-built root.  Every target is reached one component at a time
 * with O_NOFOLLOW from a descriptor of the new root, so a symlink planted
 * at a mount target is refused, never followed, and the mount lands on the
 * checked inode via move_mount(). */
#include "mounts.h"
#include "ids.h"
#include "mountinfo.h"

#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static unsigned to_mount_attr(unsigned attrs)
{
	unsigned a = 0;

	if (attrs & HB_ATTR_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	if (attrs & HB_ATTR_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (attrs & HB_ATTR_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (attrs & HB_ATTR_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	return a;
}

/* A detached, private clone of what fd stands for, with the plan's
 * attributes applied to every submount. */
static int clone_tree(int fd, unsigned attrs)
{
	struct mount_attr attr = {.attr_set = to_mount_attr(attrs),
				  .propagation = MS_PRIVATE};
	_cleanup_close_ int tree = -1;

	tree = open_tree(fd, "",
			 AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
				 AT_RECURSIVE);
	if (tree < 0)
		return -errno;
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
			  sizeof(attr)) < 0)
		return -errno;
	return TAKE_FD(tree);
}

/* The source as the init finds it in its own mount namespace: opened
 * again, following no symlink, it must be the very inode the plan checked
 * (the launcher holds that inode open, so its number cannot be reused),
 * or it was replaced since: -ESTALE. */
static int reopen(const struct hb_mount *m)
{
	_cleanup_close_ int fd =
		hb_open_nofollow(AT_FDCWD, m->source, O_PATH | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_dev != m->dev || st.st_ino != m->ino)
		return -ESTALE;
	return TAKE_FD(fd);
}

/* The kernel clones only mounts of the caller's namespace: unprivileged,
 * the init clones in its own, from the plan's inode found again. */
static int clone_source(const struct hb_mount *m)
{
	_cleanup_close_ int fd = reopen(m);

	return fd < 0 ? fd : clone_tree(fd, m->attrs);
}

static int set_idmap(int tree, int userns, unsigned flags)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP,
				  .userns_fd = (uint64_t)userns};

	/* Only a detached tree that was never attached may be idmapped. */
	return mount_setattr(tree, "", AT_EMPTY_PATH | flags, &attr,
			     sizeof(attr)) < 0
		       ? -errno
		       : 0;
}

/* Whether one mount, at path from dir, can be idmapped: a fresh clone of
 * it alone, idmapped and thrown away. */
static int try_idmap(int dir, const char *path, int userns)
{
	_cleanup_close_ int tree = open_tree(
		dir, path,
		OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW |
			(*path ? 0 : AT_EMPTY_PATH));

	return tree < 0 ? -errno : set_idmap(tree, userns, 0);
}

/* What refused an idmap: EINVAL is a file system without support for
 * it; anything else (EPERM: a mount that is idmapped already) as the
 * kernel says it. */
static int refused(const struct hb_mount *m, const char *at, const char *type,
		   int err, struct hb_diag *diag)
{
	if (err == EINVAL)
		return hb_diag_set(diag, m->listed_in, m->listed_line,
				   "%s %s: %s%sthe file system (%s) cannot be "
				   "idmapped",
				   m->why, m->source, at ? at : "",
				   at ? ": " : "", type);
	return hb_diag_set(diag, m->listed_in, m->listed_line,
			   "%s %s: %s%scannot be idmapped: %s", m->why,
			   m->source, at ? at : "", at ? ": " : "",
			   strerror(err));
}

/* The idmap of a tree failed with err: say which mount of it refused,
 * the source's own or one below it, and why.  The kernel says only that
 * one did; each is tried alone. */
static int idmap_refusal(const struct hb_mount *m, int userns, int err,
			 struct hb_diag *diag)
{
	_cleanup_free_ char *table = NULL;
	char at[PATH_MAX], type[64] = "?";
	struct statx stx;
	int r;

	(void)hb_mountinfo_read(&table);
	r = try_idmap(m->fd, "", userns);
	if (r < 0) {
		if (table &&
		    statx(m->fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) == 0)
			hb_mountinfo_type(table, stx.stx_mnt_id, type,
					  sizeof(type));
		return refused(m, NULL, type, -r, diag);
	}
	for (size_t i = 0;
	     table && hb_mountinfo_below_nth(table, m->source, i, at, type,
					     sizeof(type)) == 0;
	     i++) {
		r = try_idmap(AT_FDCWD, at, userns);
		if (r < 0)
			return refused(m, at, type, -r, diag);
	}
	return hb_diag_set(diag, m->listed_in, m->listed_line,
			   "%s %s cannot be idmapped: %s", m->why, m->source,
			   strerror(err));
}

/* fsconfig() every "key=value" of a comma-separated option string. */
static int configure(int fs, const char *options)
{
	_cleanup_free_ char *copy = strdup(options);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *o = strtok_r(copy, ",", &save); o;
	     o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		int r;
		if (eq) {
			*eq = '\0';
			r = fsconfig(fs, FSCONFIG_SET_STRING, o, eq + 1, 0);
		} else {
			r = fsconfig(fs, FSCONFIG_SET_FLAG, o, NULL, 0);
		}
		if (r < 0)
			return -errno;
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	return 0;
}

static int new_fs(const char *type, const char *options, unsigned attrs)
{
	_cleanup_close_ int fs = fsopen(type, FSOPEN_CLOEXEC);
	int r, fd;

	if (fs < 0)
		return -errno;
	r = configure(fs, options);
	if (r < 0)
		return r;
	fd = fsmount(fs, FSMOUNT_CLOEXEC, to_mount_attr(attrs));
	return fd < 0 ? -errno : fd;
}

/* Walk from dir to the parent of path's last component, creating missing
 * directories and refusing symlinks.  Returns the parent's descriptor and
 * points *ret_name at the last component. */
static int walk_parent(int root, char *path, char **ret_name)
{
	_cleanup_close_ int cur = fcntl(root, F_DUPFD_CLOEXEC, 3);
	char *comp = path, *slash;

	if (cur < 0)
		return -errno;
	while (*comp == '/')
		comp++;
	while ((slash = strchr(comp, '/'))) {
		int next;
		*slash = '\0';
		if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
			return -errno;
		next = openat(cur, comp,
			      O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		if (next < 0)
			return errno == ENOTDIR ? -ELOOP : -errno;
		close(cur);
		cur = next;
		comp = slash + 1;
		while (*comp == '/')
			comp++;
	}
	*ret_name = comp;
	return TAKE_FD(cur);
}

/* The parent directory of the mount placed last, kept open: the plan
 * lists the interpreter's files directory by directory, so most mounts go
 * where the one before went, and the walk to it (a mkdirat, an openat and
 * a close per component) is made once, not once per file.  Only hivebox
 * writes in the new root while it is built, so the directory is still the
 * one walked to, unless a mount was placed on it or above it since: then
 * the cache is dropped (parent_forget()). */
struct parent_cache {
	char path[PATH_MAX]; /* "" for the root */
	int fd;		     /* -1: none */
};

/* The parent of path's last component, borrowed from c (never closed by
 * the caller); *ret_name points into path. */
static int parent_of(int root, struct parent_cache *c, char *path,
		     char **ret_name)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;
	char dir[PATH_MAX];
	int fd;

	if (!slash || len >= sizeof(dir))
		return -EINVAL;
	memcpy(dir, path, len);
	dir[len] = '\0';
	if (c->fd >= 0 && strcmp(c->path, dir) == 0) {
		*ret_name = path + len + 1;
		return c->fd;
	}
	fd = walk_parent(root, path, ret_name);
	if (fd < 0)
		return fd;
	hb_closep(&c->fd);
	memcpy(c->path, dir, len + 1);
	c->fd = fd;
	return fd;
}

/* A mount placed at target hides what the cached directory was, if it is
 * target or below it. */
static void parent_forget(struct parent_cache *c, const char *target)
{
	size_t n = strlen(target);

	if (c->fd >= 0 && strncmp(c->path, target, n) == 0 &&
	    (c->path[n] == '\0' || c->path[n] == '/' || n == 1))
		hb_closep(&c->fd);
}

/* The mount point itself: a directory or an empty file, never a
 * symlink. */
static int make_target(int parent, const char *name, bool dir)
{
	struct stat st;
	int fd;

	if (dir) {
		if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
			return -errno;
	} else {
		/* O_EXCL: never open (and block on) a FIFO left there. */
		fd = openat(parent, name,
			    O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW |
				    O_CLOEXEC,
			    0444);
		if (fd < 0 && errno != EEXIST && errno != EROFS &&
		    errno != EACCES)
			return -errno;
		if (fd >= 0)
			close(fd);
	}
	fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
		close(fd);
		return -ELOOP;
	}
	if (dir != !!S_ISDIR(st.st_mode)) {
		close(fd);
		return dir ? -ENOTDIR : -EISDIR;
	}
	return fd;
}

static int write_file(int parent, const char *name, const char *content)
{
	_cleanup_close_ int fd = openat(
		parent, name,
		O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	size_t len = strlen(content);

	if (fd < 0)
		return -errno;
	if (write(fd, content, len) != (ssize_t)len)
		return -EIO;
	return 0;
}

static int attach(int tree, int target)
{
	if (move_mount(tree, "", target, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* procfs through the old API: the kernel checks that the caller can see
 * a full procfs already, which it can until the old root goes. */
static int mount_proc(int target, const struct hb_mount *m)
{
	char path[64];
	unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", target);
	if (mount("proc", path, "proc", flags, m->data) < 0)
		return -errno;
	return 0;
}

static int place(int root, struct parent_cache *c, const struct hb_mount *m,
		 int tree)
{
	_cleanup_free_ char *path = strdup(m->target);
	_cleanup_close_ int target = -1;
	_cleanup_close_ int fs = -1;
	char *name = NULL;
	int parent;
	bool dir;

	if (!path)
		return -ENOMEM;
	parent = parent_of(root, c, path, &name);
	if (parent < 0)
		return parent;
	switch (m->kind) {
	case HB_MNT_SYMLINK:
		return symlinkat(m->data, parent, name) < 0 ? -errno : 0;
	case HB_MNT_FILE:
		return write_file(parent, name, m->data);
	default:
		break;
	}
	dir = m->kind != HB_MNT_BIND || m->is_dir;
	target = make_target(parent, name, dir);
	if (target < 0)
		return target;
	switch (m->kind) {
	case HB_MNT_BIND:
		return attach(tree, target);
	case HB_MNT_TMPFS:
		fs = new_fs("tmpfs", m->data, m->attrs);
		return fs < 0 ? fs : attach(fs, target);
	case HB_MNT_PROC:
		return mount_proc(target, m);
	default:
		return 0;
	}
}

/* What the kernel lets root of the host write or read through procfs, as
 * OCI runtimes treat it: read-only, or hidden behind /dev/null.  Without
 * capabilities the sandbox cannot write these anyway, unless the policy
 * maps it to host root (host_uid = root). */
static const char *const proc_readonly[] = {
	"/proc/sys", "/proc/sysrq-trigger", "/proc/bus",
	"/proc/fs",  "/proc/irq",
};
/* Masked too: what describes the host and no job needs.  The kernel's
 * command line (root device, mitigations turned off, at times secrets)
 * and the boot id (the same in every run until the host reboots: it
 * recognises the host and ties runs together); per-device disk I/O and
 * per-CPU interrupt counters, which name the host's hardware and are a
 * timing side channel on everything else that runs.  What stays, because
 * libraries read it to size themselves and fail or guess without it:
 * meminfo (psutil, joblib, dask size caches and workers by it), loadavg
 * (os.getloadavg() raises on an empty file; schedulers pace by it), stat
 * (CPU times for psutil, the processor count for glibc without /sys; its
 * interrupt totals stay with it, coarser than what is masked), cpuinfo
 * (NumPy's and BLAS's choice of kernels), uptime. */
static const char *const proc_masked[] = {
	"/proc/kcore",
	"/proc/keys",
	"/proc/timer_list",
	"/proc/latency_stats",
	"/proc/sched_debug",
	"/proc/cmdline",
	"/proc/sys/kernel/random/boot_id",
	"/proc/diskstats",
	"/proc/interrupts",
	"/proc/softirqs",
};

int hb_mounts_protect_proc(void)
{
	const unsigned long ro = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
				 MS_NODEV | MS_NOEXEC;

	for (size_t i = 0; i < ARRAY_SIZE(proc_readonly); i++) {
		const char *p = proc_readonly[i];
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		if (mount(NULL, p, NULL, ro, NULL) < 0)
			return -errno;
	}
	for (size_t i = 0; i < ARRAY_SIZE(proc_masked); i++)
		if (mount("/dev/null", proc_masked[i], NULL, MS_BIND, NULL) <
			    0 &&
		    errno != ENOENT)
			return -errno;
	return 0;
}

static int pivot(int root)
{
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};

	if (fchdir(root) < 0)
		return -errno;
	/* pivot_root(".", ".") stacks the old root on top of the new one;
	 * detaching "." then leaves only the new root. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return -errno;
	if (umount2(".", MNT_DETACH) < 0)
		return -errno;
	if (chdir("/") < 0)
		return -errno;
	if (mount_setattr(AT_FDCWD, "/", 0, &ro, sizeof(ro)) < 0)
		return -errno;
	/* /dev holds only what the plan put there; nothing may be added. */
	if (mount_setattr(AT_FDCWD, "/dev", 0, &ro, sizeof(ro)) < 0)
		return -errno;
	return hb_mounts_protect_proc();
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

int hb_mounts_open_sources(const struct hb_plan *plan, int **ret_trees,
			   struct hb_error *e)
{
	int *trees = malloc((plan->n_mounts + 1) * sizeof(int));

	if (!trees)
		return hb_error_set(e, HB_STAGE_MOUNTS, ENOMEM, "/");
	for (size_t i = 0; i < plan->n_mounts; i++)
		trees[i] = -1;
	for (size_t i = 0; i < plan->n_mounts; i++) {
		if (plan->mounts[i].kind != HB_MNT_BIND)
			continue;
		trees[i] = clone_source(&plan->mounts[i]);
		if (trees[i] < 0) {
			int r = trees[i];
			hb_mounts_close_sources(plan, trees);
			return hb_error_set(e, HB_STAGE_MOUNTS, -r, "%s%s",
					    plan->mounts[i].source,
					    r == -ESTALE ? ", replaced since "
							   "it was checked"
							 : "");
		}
	}
	*ret_trees = trees;
	return 0;
}

/* One user namespace per owner and group: most runs have one (root's
 * job, root's paths), and each costs a short-lived child. */
struct userns_cache {
	struct {
		uid_t uid;
		gid_t gid;
		int fd;
	} * v;
	size_t n;
};

static int userns_for(struct userns_cache *c, const struct hb_plan *plan,
		      const struct hb_mount *m)
{
	int fd;

	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].uid == m->owner_uid && c->v[i].gid == m->owner_gid)
			return c->v[i].fd;
	fd = hb_ids_userns(m->owner_uid, m->owner_gid, plan->host_uid,
			   plan->host_gid);
	if (fd < 0)
		return fd;
	c->v[c->n].uid = m->owner_uid;
	c->v[c->n].gid = m->owner_gid;
	c->v[c->n++].fd = fd;
	return fd;
}

/* The tree of one source, cloned as root and idmapped if the plan says
 * so; a failure is said in diag. */
static int prepare_one(const struct hb_plan *plan, const struct hb_mount *m,
		       struct userns_cache *c, struct hb_diag *diag)
{
	_cleanup_close_ int tree = -1;
	int userns = -1, r;

	if (m->idmap) {
		userns = userns_for(c, plan, m);
		if (userns < 0)
			return hb_diag_set(
				diag, m->listed_in, m->listed_line,
				"%s %s: cannot make the user "
				"namespace that maps uid %u to "
				"host uid %u: %s",
				m->why, m->source, (unsigned)m->owner_uid,
				(unsigned)plan->host_uid, strerror(-userns));
	}
	tree = clone_tree(m->fd, m->attrs);
	if (tree < 0)
		return hb_diag_set(diag, m->listed_in, m->listed_line,
				   "%s %s: cannot clone it: %s", m->why,
				   m->source, strerror(-tree));
	r = userns >= 0 ? set_idmap(tree, userns, AT_RECURSIVE) : 0;
	if (r < 0)
		return idmap_refusal(m, userns, -r, diag);
	return TAKE_FD(tree);
}

int hb_mounts_prepare(const struct hb_plan *plan, int **ret_trees,
		      struct hb_diag *diag)
{
	struct userns_cache c = {.v = calloc(plan->n_mounts + 1, sizeof(*c.v))};
	int *trees = malloc((plan->n_mounts + 1) * sizeof(int));
	int r = c.v && trees ? 0 : -ENOMEM;

	for (size_t i = 0; trees && i < plan->n_mounts; i++)
		trees[i] = -1;
	for (size_t i = 0; r == 0 && i < plan->n_mounts; i++) {
		if (plan->mounts[i].kind != HB_MNT_BIND)
			continue;
		trees[i] = prepare_one(plan, &plan->mounts[i], &c, diag);
		r = trees[i] < 0 ? trees[i] : 0;
	}
	for (size_t i = 0; i < c.n; i++)
		close(c.v[i].fd);
	free(c.v);
	if (r < 0) {
		hb_mounts_close_sources(plan, trees);
		return r;
	}
	*ret_trees = trees;
	return 0;
}

void hb_mounts_close_sources(const struct hb_plan *plan, int *trees)
{
	if (trees)
		close_all(trees, plan->n_mounts);
}

int hb_mounts_apply(const struct hb_plan *plan, const int *trees,
		    struct hb_error *e)
{
	_cleanup_close_ int root = -1;
	_cleanup_close_ int stage = -1;
	struct parent_cache cache = {.fd = -1};
	int r;

	/* Nothing done in here propagates to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return hb_error_set(e, HB_STAGE_MOUNTS, errno, "/");
	root = new_fs("tmpfs", "mode=0755,size=1m",
		      HB_ATTR_NOSUID | HB_ATTR_NODEV);
	stage = open("/tmp", O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || stage < 0)
		return hb_error_set(e, HB_STAGE_MOUNTS,
				    root < 0 ? -root : errno, "/");
	r = attach(root, stage);
	if (r < 0)
		return hb_error_set(e, HB_STAGE_MOUNTS, -r, "/");
	for (size_t i = 0; i < plan->n_mounts; i++) {
		r = place(root, &cache, &plan->mounts[i], trees[i]);
		parent_forget(&cache, plan->mounts[i].target);
		if (r < 0) {
			hb_closep(&cache.fd);
			return hb_error_set(e, HB_STAGE_MOUNTS, -r, "%s",
					    plan->mounts[i].target);
		}
	}
	hb_closep(&cache.fd);
	r = pivot(root);
	return r < 0 ? hb_error_set(e, HB_STAGE_MOUNTS, -r, "pivot_root") : 0;
}

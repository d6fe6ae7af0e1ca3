/* SPDX-License-Identifier: MIT */
/* hivebox learn's observing sandbox.  PID 1 of new mount, PID, IPC, UTS
 * and network namespaces builds a root in which the host is visible and
 * nothing of it can change: each host mount becomes an overlay whose
 * lower layer is that mount (opened before anything covered it) and
 * whose upper layer is in a tmpfs that goes with the namespace; a mount
 * of a single file is bound read-only.  /proc is a new procfs protected
 * as every sandbox's (hb_mounts_protect_proc()), /dev holds the few
 * devices a run has, there is no /sys.  The job runs as the script's
 * owner (a uid of hivebox's range for root's) with no capability, under
 * a filter that sends the supervisor every call that names a path, a
 * destination or a program, and every call the base policy does not
 * allow; everything else runs unwatched. */
#include "learn_internal.h"
#include "mountinfo.h"
#include "mounts.h"
#include "net_link.h"
#include "plan.h"
#include "seccomp_filter.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/close_range.h>

/* File systems the sandbox makes afresh or does without. */
static bool pseudo(const char *type, const char *path)
{
	static const char *const types[] = {
		"proc",	   "sysfs",	  "devtmpfs", "devpts",	  "cgroup",
		"cgroup2", "mqueue",	  "tracefs",  "debugfs",  "securityfs",
		"pstore",  "bpf",	  "configfs", "fusectl",  "hugetlbfs",
		"autofs",  "binfmt_misc", "nsfs",     "efivarfs",
	};

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return hb_path_under(path, "/proc") || hb_path_under(path, "/sys") ||
	       hb_path_under(path, "/dev");
}

/* "\040" and its kind in a mountinfo path, decoded in place. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++, out++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] &&
		    s[3]) {
			*out = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*out = *s;
		}
	}
	*out = '\0';
}

static int add_mount(struct hb_learn_box *b, const char *path)
{
	struct hb_learn_mount *m;
	struct stat st;

	if (stat(path, &st) < 0)
		return 0; /* hidden under another mount, or gone */
	/* A later line for the same path is the mount on top. */
	for (size_t i = 0; i < b->n_mounts; i++)
		if (strcmp(b->mounts[i].path, path) == 0) {
			b->mounts[i].dir = S_ISDIR(st.st_mode);
			return 0;
		}
	m = realloc(b->mounts, (b->n_mounts + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	b->mounts = m;
	m = &b->mounts[b->n_mounts];
	*m = (struct hb_learn_mount){
		.path = strdup(path), .fd = -1, .dir = S_ISDIR(st.st_mode)};
	if (!m->path)
		return -ENOMEM;
	b->n_mounts++;
	return 0;
}

static int cmp_mount(const void *a, const void *b)
{
	const struct hb_learn_mount *x = a, *y = b;

	return strcmp(x->path, y->path);
}

int hb_learn_box_mounts(struct hb_learn_box *b)
{
	_cleanup_free_ char *table = NULL;
	char *line, *save = NULL;
	int r = hb_mountinfo_read(&table);

	if (r < 0)
		return r;
	for (line = strtok_r(table, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char path[PATH_MAX], type[64];
		const char *dash = strstr(line, " - ");
		if (!dash ||
		    sscanf(line, "%*s %*s %*s %*s %4095s", path) != 1 ||
		    sscanf(dash + 3, "%63s", type) != 1)
			continue;
		unescape(path);
		if (!pseudo(type, path))
			r = add_mount(b, path);
	}
	/* Parents first: a path sorts after every prefix of it. */
	if (r == 0)
		qsort(b->mounts, b->n_mounts, sizeof(*b->mounts), cmp_mount);
	return r;
}

void hb_learn_box_free(struct hb_learn_box *b)
{
	for (size_t i = 0; i < b->n_mounts; i++) {
		free(b->mounts[i].path);
		if (b->mounts[i].fd >= 0)
			close(b->mounts[i].fd);
	}
	free(b->mounts);
	b->mounts = NULL;
	b->n_mounts = 0;
}

/* ---- the root, in the init ------------------------------------------ */

#define STAGE "/tmp" /* a tmpfs over it, in our namespace */
#define ROOT STAGE "/root"

/* A host mount bound read-only as it is: a single file, or a file
 * system overlayfs cannot stack on (a write there then fails instead of
 * reaching the host). */
static int bind_ro(int fd, const char *target)
{
	char src[64];

	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	if (mount(src, target, NULL, MS_BIND, NULL) < 0)
		return 0; /* its mount point is gone in the overlay below */
	return mount(NULL, target, NULL,
		     MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
		     NULL) < 0
		       ? -errno
		       : 0;
}

static int overlay_one(const struct hb_learn_mount *m, int fd, size_t i)
{
	char up[64], work[64], opts[256], target[PATH_MAX];

	snprintf(target, sizeof(target), ROOT "%s",
		 strcmp(m->path, "/") ? m->path : "");
	/* Gone, or a mount point the mount below does not show. */
	if (fd < 0 || access(target, F_OK) < 0)
		return 0;
	if (!m->dir)
		return bind_ro(fd, target);
	snprintf(up, sizeof(up), STAGE "/u%zu", i);
	snprintf(work, sizeof(work), STAGE "/w%zu", i);
	if (mkdir(up, 0755) < 0 || mkdir(work, 0700) < 0)
		return -errno;
	snprintf(opts, sizeof(opts),
		 "lowerdir=/proc/self/fd/%d,upperdir=%s,workdir=%s", fd, up,
		 work);
	if (mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV, opts) ==
	    0)
		return 0;
	return bind_ro(fd, target);
}

static int dev_node(const char *name)
{
	char src[64], dst[64];
	int fd;

	snprintf(src, sizeof(src), "/dev/%s", name);
	snprintf(dst, sizeof(dst), ROOT "/dev/%s", name);
	fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
	if (fd < 0)
		return -errno;
	close(fd);
	return mount(src, dst, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
}

static int make_dev(void)
{
	static const char *const nodes[] = {"null", "zero", "full", "random",
					    "urandom"};
	int r = 0;

	if (mount("tmpfs", ROOT "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
		  "mode=755,size=64k") < 0)
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(nodes) && r == 0; i++)
		r = dev_node(nodes[i]);
	if (r == 0 && (mkdir(ROOT "/dev/shm", 01777) < 0 ||
		       mount("tmpfs", ROOT "/dev/shm", "tmpfs",
			     MS_NOSUID | MS_NODEV, "mode=1777") < 0 ||
		       symlink("/proc/self/fd", ROOT "/dev/fd") < 0 ||
		       symlink("/proc/self/fd/0", ROOT "/dev/stdin") < 0 ||
		       symlink("/proc/self/fd/1", ROOT "/dev/stdout") < 0 ||
		       symlink("/proc/self/fd/2", ROOT "/dev/stderr") < 0))
		r = -errno;
	return r;
}

/* A new procfs, protected as every sandbox's (mounts.c). */
static int make_proc(void)
{
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return -errno;
	return hb_mounts_protect_proc();
}

/* Each host mount, opened in this namespace (overlayfs clones its
 * lower layers, which must be mounts of the caller's namespace) and
 * before the stage covers any of them. */
static int open_mounts(const struct hb_learn_box *b, int *fds)
{
	for (size_t i = 0; i < b->n_mounts; i++) {
		fds[i] = open(b->mounts[i].path, O_PATH | O_CLOEXEC);
		/* Gone since the launcher looked: nothing to show. */
		if (fds[i] < 0 && errno != ENOENT)
			return -errno;
	}
	/* The root itself is not optional. */
	return b->n_mounts && fds[0] >= 0 ? 0 : -ENOENT;
}

static int build_root(const struct hb_learn_box *b)
{
	_cleanup_free_ int *fds = calloc(b->n_mounts + 1, sizeof(int));
	int r = fds ? 0 : -ENOMEM;

	if (r == 0)
		r = open_mounts(b, fds);
	if (r < 0)
		return r;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=755,size=512m") < 0 ||
	    mkdir(ROOT, 0755) < 0)
		return -errno;
	for (size_t i = 0; i < b->n_mounts && r == 0; i++)
		r = overlay_one(&b->mounts[i], fds[i], i);
	if (r == 0)
		r = make_dev();
	/* The host's own mounts, writable ones among them: gone before
	 * the job exists. */
	for (size_t i = 0; i < b->n_mounts; i++)
		hb_closep(&fds[i]);
	if (r < 0)
		return r;
	if (chdir(ROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return -errno;
	return make_proc();
}

/* ---- the job -------------------------------------------------------- */

static const char *const watched[] = {
	"open",	     "openat",	 "openat2",  "creat",	  "mkdir",
	"mkdirat",   "rename",	 "renameat", "renameat2", "unlink",
	"unlinkat",  "rmdir",	 "link",     "linkat",	  "symlink",
	"symlinkat", "truncate", "execve",   "execveat",  "chdir",
	"connect",   "sendto",	 "sendmsg",  "sendmmsg",  "clone3",
};

bool hb_learn_watched(int nr)
{
	for (size_t i = 0; i < ARRAY_SIZE(watched); i++)
		if (seccomp_syscall_resolve_name(watched[i]) == nr)
			return true;
	return false;
}

/* Everything the base allows runs unwatched, but the calls above; the
 * rest goes to the supervisor.  No call is let through by its arguments:
 * the listener leaves the job by the init's pidfd_getfd(), not by a call
 * of the job's (pass_listener()). */
static int load_filter(const struct hb_learn_box *b)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_NOTIFY);
	bool by_args[HB_SYSCALL_NR_END];
	int r = ctx ? 0 : -ENOMEM;

	/* ioctl, clone and the like by the real filter's argument rules:
	 * what they do not let through (TIOCSTI on the terminal hivebox
	 * was started on, clone with CLONE_NEWUSER) goes to the
	 * supervisor, which refuses it as hivebox does. */
	for (int nr = 0; nr < HB_SYSCALL_NR_END && r == 0; nr++) {
		by_args[nr] = b->allow[nr] && !hb_learn_watched(nr) &&
			      hb_filter_by_args(nr);
		if (b->allow[nr] && !hb_learn_watched(nr) && !by_args[nr])
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	/* IP sockets even without --network: the connection the job tries
	 * is what learning records (the namespace has only lo). */
	if (r == 0)
		r = hb_filter_allow_by_args(ctx, by_args, true);
	if (r == 0)
		r = seccomp_load(ctx);
	if (r == 0)
		r = seccomp_notify_fd(ctx);
	seccomp_release(ctx);
	return r;
}

static int send_fd(int sock, int fd)
{
	char data = 'n';
	struct iovec iov = {.iov_base = &data, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = {0};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

static int set_limits(const struct hb_limits *l)
{
	struct {
		int res;
		unsigned long long v;
	} set[] = {
		{RLIMIT_CPU, l->cpu_seconds + 1},
		{RLIMIT_FSIZE, l->file_size_mb << 20},
		{RLIMIT_NOFILE, l->max_open_files},
		{RLIMIT_AS, hb_plan_backstop_bytes(l->memory_mb)},
		{RLIMIT_CORE, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(set); i++) {
		struct rlimit rl = {set[i].v, set[i].v};
		if (setrlimit(set[i].res, &rl) < 0)
			return -errno;
	}
	return 0;
}

/* The script's owner, with no capability in any set, nor any way back
 * to one (no root rule on exec, no new privileges). */
static int drop_privileges(const struct hb_learn_box *b)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {{0}};

	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	if (prctl(PR_SET_SECUREBITS, 0x2f /* NOROOT, NO_SETUID_FIXUP,
					     KEEP_CAPS_LOCKED, locked */
		  ,
		  0, 0, 0) < 0 ||
	    setgroups(0, NULL) < 0 || setresgid(b->gid, b->gid, b->gid) < 0 ||
	    setresuid(b->uid, b->uid, b->uid) < 0 ||
	    syscall(SYS_capset, &h, d) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

/* The stage that failed, to the supervisor, which names it. */
static _Noreturn void fail(const struct hb_learn_box *b, const char *stage,
			   int err)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg), "%s: %s", stage, strerror(err));

	send(b->sock, msg, (size_t)n, MSG_NOSIGNAL);
	_exit(HB_LEARN_EXIT_FAILED);
}

/* to_init, from_init: the job's ends of two pipes to the init. */
static _Noreturn void job(const struct hb_learn_box *b, int to_init,
			  int from_init)
{
	int nfd, null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char go;

	int r;

	/* The report is hivebox's stdout: the job writes to its stderr. */
	/* Nothing of hivebox's goes through the exec but 0-2. */
	if (null < 0 || dup2(null, 0) < 0 || dup2(2, 1) < 0 || setsid() < 0 ||
	    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		fail(b, "standard descriptors", errno);
	if (chdir(b->cwd) < 0)
		fail(b, b->cwd, errno);
	if ((r = set_limits(&b->limits)) < 0)
		fail(b, "limits", -r);
	if ((r = drop_privileges(b)) < 0)
		fail(b, "dropping privileges", -r);
	hb_signals_reset();
	nfd = load_filter(b);
	if (nfd < 0)
		fail(b, "seccomp filter", -nfd);
	/* read and write: the base allows both (learn.c checks), so they
	 * run unwatched while nobody listens yet.  The init takes the
	 * listener, then says go. */
	if (write(to_init, &nfd, sizeof(nfd)) != sizeof(nfd) ||
	    read(from_init, &go, 1) != 1)
		_exit(HB_LEARN_EXIT_FAILED); /* the init said why */
	close(nfd);
	close(b->sock);
	close(to_init);
	close(from_init);
	execve(b->argv[0], b->argv, b->envp);
	_exit(errno == ENOENT ? 127 : 126);
}

static int network_up(const struct hb_learn_box *b)
{
	char go;

	if (b->network) {
		if (read(b->go_fd, &go, 1) != 1)
			return -EPIPE;
		return hb_net_link_sandbox_setup(
			HB_NET_POOL_SANDBOX_IFNAME, b->slot.sandbox_ip,
			HB_NET_POOL_SLOT_PREFIXLEN, b->slot.host_ip);
	}
	return 0;
}

/* The job's listener, once it says which descriptor it is: taken from
 * it (pidfd_getfd(), the init has CAP_SYS_PTRACE) and sent to the
 * supervisor; then the job may go on to its exec. */
static int pass_listener(const struct hb_learn_box *b, pid_t child,
			 int from_job, int to_job)
{
	_cleanup_close_ int pidfd = -1, fd = -1;
	int nfd, r;
	ssize_t n = read(from_job, &nfd, sizeof(nfd));

	if (n == 0)
		return 0; /* the job failed before its filter, and said why */
	if (n != sizeof(nfd))
		return n < 0 ? -errno : -EPIPE;
	pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	if (pidfd < 0)
		return -errno;
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, nfd, 0);
	if (fd < 0)
		return -errno;
	r = send_fd(b->sock, fd);
	if (r == 0 && write(to_job, "g", 1) != 1)
		r = -errno;
	return r;
}

_Noreturn void hb_learn_box_init(const struct hb_learn_box *b)
{
	int status, up[2], down[2];
	pid_t pid, child;

	int r;

	/* The init keeps its capabilities: nothing of the job may read
	 * its memory or its /proc entries. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if ((r = hb_net_link_loopback_up()) < 0 || (r = network_up(b)) < 0)
		fail(b, "network", -r);
	if ((r = build_root(b)) < 0)
		fail(b, "read-only view of the host", -r);
	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0)
		fail(b, "pipe", errno);
	child = fork();
	if (child < 0)
		fail(b, "fork", errno);
	if (child == 0) {
		close(up[0]);
		close(down[1]);
		job(b, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	if ((r = pass_listener(b, child, up[0], down[1])) < 0)
		fail(b, "taking the job's listener", -r);
	close(up[0]);
	close(down[1]);
	/* Reap everything; the job's end is the sandbox's, and its wait
	 * status goes to the supervisor as it is. */
	while ((pid = wait(&status)) >= 0 || errno == EINTR)
		if (pid == child) {
			send(b->sock, &status, sizeof(status), MSG_NOSIGNAL);
			_exit(0);
		}
	_exit(HB_LEARN_EXIT_FAILED);
}

/* SPDX-License-Identifier: MIT */
#include "sandbox.h"
#include "monitor.h"
#include "mounts.h"
#include "net_link.h"
#include "result.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <linux/securebits.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/seccomp.h>

static void send_msg(int sock, const struct hb_msg *m)
{
	/* Nothing to do if the supervisor is gone: we die with it. */
	(void)!send(sock, m, sizeof(*m), MSG_NOSIGNAL);
}

static void report(int sock, enum hb_msg_type type, int status,
		   const struct hb_error *e)
{
	struct hb_msg m = {.type = type, .status = status};

	if (e)
		m.error = *e;
	send_msg(sock, &m);
}

static _Noreturn void fail(int sock, const struct hb_error *e)
{
	report(sock, HB_MSG_SETUP_FAILED, 0, e);
	_exit(HB_EXIT_FAILED);
}

static _Noreturn void fail_at(int sock, enum hb_stage stage, int err,
			      const char *what)
{
	struct hb_error e;

	hb_error_set(&e, stage, err, "%s", what ? what : "");
	fail(sock, &e);
}

static int switch_ids(const struct hb_plan *plan)
{
	/* Root's supplementary groups (host gid 0 among them) must not
	 * follow us in; unprivileged callers cannot drop theirs. */
	if (plan->privileged && setgroups(0, NULL) < 0)
		return -errno;
	if (setresgid(plan->inside_gid, plan->inside_gid, plan->inside_gid) < 0)
		return -errno;
	if (setresuid(plan->inside_uid, plan->inside_uid, plan->inside_uid) < 0)
		return -errno;
	return 0;
}

/* Empty every capability set for good: securebits first (they need
 * CAP_SETPCAP), so that uid 0 in here regains nothing on execve, then the
 * bounding and ambient sets, then the rest. */
static int drop_privileges(void)
{
	const unsigned long bits =
		SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
		SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
		SECBIT_NO_CAP_AMBIENT_RAISE |
		SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	cap_t empty;
	int r;

	if (prctl(PR_SET_SECUREBITS, bits) < 0)
		return -errno;
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	empty = cap_init();
	if (!empty)
		return -ENOMEM;
	r = cap_set_proc(empty);
	cap_free(empty);
	if (r < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

static int set_rlimits(const struct hb_plan *plan)
{
	for (size_t i = 0; i < plan->n_rlimits; i++) {
		struct rlimit rl = {plan->rlimits[i].soft,
				    plan->rlimits[i].hard};
		if (setrlimit(plan->rlimits[i].resource, &rl) < 0)
			return -errno;
	}
	return 0;
}

/* Hand a descriptor to the supervisor: the seccomp listener, or one of
 * our /proc/sysvipc files. */
static int send_fd(int sock, enum hb_msg_type type, int status, int fd)
{
	struct hb_msg m = {.type = type, .status = status};
	char control[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control,
			     .msg_controllen = sizeof(control)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* The very last step before execve: from here on every call goes through
 * the filter, these few included (the filter allows them). */
static int load_filter(const struct hb_plan *plan, int sock)
{
	struct sock_fprog prog = {.len = plan->filter.len,
				  .filter = plan->filter.prog};
	int fd, r;

	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			  SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		return -errno;
	r = send_fd(sock, HB_MSG_LISTENER, 0, fd);
	close(fd);
	return r;
}

static _Noreturn void exec_interpreter(const struct hb_plan *plan, int sock)
{
	struct hb_error e;
	int r;

	/* The interpreter starts as it would bare: SIGPIPE that hivebox
	 * ignores is default again, and nothing is blocked. */
	hb_signals_reset();
	r = set_rlimits(plan);
	if (r < 0)
		fail_at(sock, HB_STAGE_RLIMITS, -r, NULL);
	if (chdir(plan->cwd) < 0)
		fail_at(sock, HB_STAGE_CHDIR, errno, plan->cwd);
	/* A shell leads a session of its own, whose controlling terminal is
	 * the pty on 0-2 (hb_pty_child()): Ctrl-C there is SIGINT to its
	 * foreground group.  Before the filter, which denies TIOCSCTTY. */
	if (plan->shell && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0))
		fail_at(sock, HB_STAGE_EXEC, errno, "the session's terminal");
	/* Descriptors 0-2 are the caller's (a shell's: its pty); nothing
	 * else goes in. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		fail_at(sock, HB_STAGE_EXEC, errno, "close_range");
	r = load_filter(plan, sock);
	if (r < 0)
		fail_at(sock, HB_STAGE_SECCOMP, -r, NULL);
	execve(plan->interpreter, plan->argv.v, plan->env.v);
	hb_error_set(&e, HB_STAGE_EXEC, errno, "%s", plan->interpreter);
	report(sock, HB_MSG_EXEC_FAILED, 0, &e);
	_exit(e.err == ENOENT ? HB_EXIT_NOT_FOUND : HB_EXIT_CANNOT_EXEC);
}

/* The CPU time of pid's thread group as RLIMIT_CPU counts it: the
 * process clock CPUCLOCK_PROF (user + system, as the tick accounts it),
 * which getrusage() does not give: it scales to the scheduler's runtime,
 * and read 30 % lower than the limit under load here.  The clock id is the
 * kernel's MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_PROF). */
static uint64_t prof_ms(pid_t pid)
{
	const clockid_t clock = (clockid_t)(~(unsigned)pid << 3);
	struct timespec ts;

	if (clock_gettime(clock, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The bytes every process of the sandbox wrote (wchar), from the init's
 * own I/O accounting, which adds up every process it reaped.  A
 * non-dumpable process's /proc files belong to host root, so the init
 * becomes dumpable to read it, once nothing else is left in here that
 * could ptrace it. */
static uint64_t sandbox_written(void)
{
	char buf[512];
	const char *p;

	if (prctl(PR_SET_DUMPABLE, 1) < 0 ||
	    hb_read_text("/proc/self/io", buf, sizeof(buf)) < 0)
		return 0;
	p = strstr(buf, "wchar:");
	return p ? strtoull(p + strlen("wchar:"), NULL, 10) : 0;
}

/* The threads of every process in here but ours, as RLIMIT_NPROC counts
 * them: a task directory links its threads' directories, "." and "..". */
static uint64_t count_tasks(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	uint64_t n = 0;
	char path[64 + NAME_MAX];
	struct stat st;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9' ||
		    strcmp(de->d_name, "1") == 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", de->d_name);
		if (stat(path, &st) == 0 && st.st_nlink > 2)
			n += st.st_nlink - 2;
	}
	if (d)
		closedir(d);
	return n;
}

/* Kill and reap everything in here; the interpreter's wait status.  A
 * process forked while the first kill went round is a child of ours too,
 * and the next round gets it. */
static int kill_all(pid_t child)
{
	int status = 0, st;

	for (;;) {
		pid_t pid;
		kill(-1, SIGKILL);
		pid = waitpid(-1, &st, 0);
		if (pid == child)
			status = st;
		else if (pid < 0 && errno != EINTR)
			return status;
	}
}

/* The interpreter ended.  A SIGXCPU or SIGXFSZ that the script sent
 * itself kills it as the kernel's would, and the wait status does not
 * say who sent it: what the kernel counted does, and the supervisor gets
 * it with the status.  The interpreter's CPU clock is readable only until
 * it is reaped; then the rest of the sandbox goes, as it would with our
 * exit, and what it all wrote is added up. */
static _Noreturn void interpreter_ended(pid_t child, int sock)
{
	struct hb_msg m = {.type = HB_MSG_EXITED};

	m.cpu_ms = prof_ms(child);
	m.tasks = count_tasks();
	m.status = kill_all(child);
	m.written = sandbox_written();
	send_msg(sock, &m);
	_exit(0);
}

/* Reap every process that ended, the interpreter last: it is looked at
 * before it is reaped. */
static void reap_ended(pid_t child, int sock)
{
	for (;;) {
		siginfo_t si = {0};
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid == 0)
			return;
		if (si.si_pid == child)
			interpreter_ended(child, sock);
		waitpid(si.si_pid, NULL, 0);
	}
}

/* PID 1 stays as a tiny init: the kernel does not deliver unhandled
 * signals such as SIGXCPU to a namespace's init, and someone must reap
 * orphans.  It forwards termination signals to everyone in here and
 * reports the interpreter's wait status. */
static _Noreturn void reap(pid_t child, int sock)
{
	sigset_t all, forwarded;

	sigfillset(&all);
	hb_signals_forwarded(&forwarded);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			if (sigismember(&forwarded, sig) == 1)
				kill(-1, sig);
			continue;
		}
		reap_ended(child, sock);
	}
}

static int fd_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Close every descriptor above 2 but sock and the trees the launcher
 * cloned (trees is NULL unprivileged). */
static int close_others(const struct hb_plan *plan, const int *trees, int sock)
{
	_cleanup_free_ int *keep = malloc((plan->n_mounts + 1) * sizeof(int));
	unsigned lo = 3;
	size_t n = 0;

	if (!keep)
		return -ENOMEM;
	keep[n++] = sock;
	for (size_t i = 0; trees && i < plan->n_mounts; i++)
		if (trees[i] >= 0)
			keep[n++] = trees[i];
	qsort(keep, n, sizeof(*keep), fd_cmp);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)keep[i] > lo)
			close_range(lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	close_range(lo, ~0U, 0);
	return 0;
}

static void die_with_supervisor(int sock)
{
	struct pollfd p = {.fd = sock, .events = POLLIN};

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The supervisor may have died before the line above. */
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
		_exit(HB_EXIT_FAILED);
}

/* eth0 is there by now: the supervisor made the pair before "go".  Ping
 * sockets are opened to our own group, so that ICMP reaches the host-side
 * filter and is logged there, like everything else the script tries. */
static int network_up(const struct hb_plan *plan,
		      const struct hb_net_pool_slot *slot, struct hb_error *e)
{
	const char *ping = "/proc/sys/net/ipv4/ping_group_range";
	char range[64];
	int r;

	r = hb_net_link_sandbox_setup(
		HB_NET_POOL_SANDBOX_IFNAME, slot->sandbox_ip,
		HB_NET_POOL_SLOT_PREFIXLEN, slot->host_ip);
	if (r < 0)
		return hb_error_set(e, HB_STAGE_NETWORK, -r, "%s",
				    HB_NET_POOL_SANDBOX_IFNAME);
	snprintf(range, sizeof(range), "%u %u", plan->inside_gid,
		 plan->inside_gid);
	r = hb_write_text(ping, range);
	return r < 0 ? hb_error_set(e, HB_STAGE_NETWORK, -r, "%s", ping) : 0;
}

/* The plan's bounds on our IPC namespace (as root only: its root alone
 * may write them), while /proc is still writable; the kernel applies
 * /proc/sys/kernel's IPC files to the writer's namespace.  Then the
 * supervisor gets our /proc/sysvipc files to count what the namespace
 * holds: the kernel lists the namespace of whoever opened them. */
static int bound_ipc(const struct hb_plan *plan, int sock, struct hb_error *e)
{
	static const char *const files[HB_IPC_FILES] = {
		[HB_IPC_SHM] = "/proc/sysvipc/shm",
		[HB_IPC_MSG] = "/proc/sysvipc/msg",
		[HB_IPC_SEM] = "/proc/sysvipc/sem",
	};
	char path[96];
	int r;

	for (size_t i = 0; i < plan->n_ipc; i++) {
		snprintf(path, sizeof(path), "/proc/sys/%s", plan->ipc[i].name);
		r = hb_write_text(path, plan->ipc[i].value);
		if (r < 0)
			return hb_error_set(e, HB_STAGE_IPC, -r, "%s", path);
	}
	for (int i = 0; i < HB_IPC_FILES; i++) {
		_cleanup_close_ int fd = open(files[i], O_RDONLY | O_CLOEXEC);
		/* A kernel without System V IPC has nothing to count. */
		if (fd < 0 && errno == ENOENT)
			continue;
		r = fd < 0 ? -errno : send_fd(sock, HB_MSG_IPC_FILE, i, fd);
		if (r < 0)
			return hb_error_set(e, HB_STAGE_IPC, -r, "%s",
					    files[i]);
	}
	return 0;
}

_Noreturn void hb_sandbox_main(const struct hb_plan *plan, int *trees,
			       const struct hb_net_pool_slot *slot, int sock)
{
	struct hb_error e;
	sigset_t all;
	char go;
	pid_t child;
	int r;

	/* Nothing of the supervisor's comes in but the report socket and
	 * the trees. */
	r = close_others(plan, trees, sock);
	if (r < 0)
		fail_at(sock, HB_STAGE_MOUNTS, -r, NULL);
	die_with_supervisor(sock);
	if (recv(sock, &go, 1, 0) != 1)
		_exit(HB_EXIT_FAILED);
	/* Not before: a non-dumpable process's /proc files belong to root,
	 * and an unprivileged supervisor could no longer write our id maps. */
	prctl(PR_SET_DUMPABLE, 0);
	r = trees ? 0 : hb_mounts_open_sources(plan, &trees, &e);
	if (r < 0)
		fail(sock, &e);
	r = switch_ids(plan);
	if (r < 0)
		fail_at(sock, HB_STAGE_IDS, -r, NULL);
	/* A change of ids cleared the parent-death signal, and reset the
	 * dumpable flag to fs.suid_dumpable: set both again. */
	prctl(PR_SET_DUMPABLE, 0);
	die_with_supervisor(sock);
	if (sethostname(plan->hostname, strlen(plan->hostname)) < 0)
		fail_at(sock, HB_STAGE_HOSTNAME, errno, NULL);
	r = hb_net_link_loopback_up();
	if (r < 0)
		fail_at(sock, HB_STAGE_LOOPBACK, -r, "lo");
	r = slot ? network_up(plan, slot, &e) : 0;
	if (r < 0)
		fail(sock, &e);
	r = bound_ipc(plan, sock, &e);
	if (r < 0)
		fail(sock, &e);
	r = hb_mounts_apply(plan, trees, &e);
	hb_mounts_close_sources(plan, trees);
	if (r < 0)
		fail(sock, &e);
	if (setsid() < 0)
		fail_at(sock, HB_STAGE_PRIVILEGES, errno, "setsid");
	r = drop_privileges();
	if (r < 0)
		fail_at(sock, HB_STAGE_PRIVILEGES, -r, NULL);
	/* From here on, /proc/PID/root of the init is the sandbox's. */
	report(sock, HB_MSG_READY, 0, NULL);
	/* The start record is durable by now (hb_start_hook): the script
	 * may start. */
	if (recv(sock, &go, 1, 0) != 1)
		_exit(HB_EXIT_FAILED);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	child = fork();
	if (child < 0)
		fail_at(sock, HB_STAGE_FORK, errno, NULL);
	if (child == 0)
		exec_interpreter(plan, sock);
	reap(child, sock);
}

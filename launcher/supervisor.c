/* SPDX-License-Identifier: MIT */
#include "supervisor.h"
#include "mounts.h"
#include "net_run.h"
#include "pty.h"
#include "quota.h"
#include "relay.h"
#include "seccomp_notify.h"
#include "sandbox.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <linux/sched/types.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#define NS_FLAGS                                                               \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |           \
	 CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

static int write_map(pid_t pid, const char *file, const char *text,
		     struct hb_error *e)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	r = hb_write_text(path, text);
	return r < 0 ? hb_error_set(e, HB_STAGE_ID_MAPS, -r, "%s", path) : 0;
}

static int write_maps(const struct hb_plan *plan, pid_t pid, struct hb_error *e)
{
	char map[64];
	int r;

	/* Unprivileged, gid_map may only be written once setgroups is
	 * denied; as root, the init drops its groups itself. */
	if (!plan->privileged) {
		r = write_map(pid, "setgroups", "deny", e);
		if (r < 0)
			return r;
	}
	snprintf(map, sizeof(map), "%u %u 1\n", plan->inside_uid,
		 plan->host_uid);
	r = write_map(pid, "uid_map", map, e);
	if (r < 0)
		return r;
	snprintf(map, sizeof(map), "%u %u 1\n", plan->inside_gid,
		 plan->host_gid);
	return write_map(pid, "gid_map", map, e);
}

/* The sandbox init is a copy of this process from clone3() to execve(),
 * and it calls malloc, snprintf, libmnl and libcap on the way: that is
 * safe only because the supervisor is single-threaded when it clones.  A
 * lock another thread held at the clone (malloc's, stdio's) would stay
 * held in the init for ever.  start_init() checks it before the clone. */
static pid_t clone_init(int *ret_pidfd)
{
	struct clone_args args = {
		.flags = NS_FLAGS | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)ret_pidfd,
		.exit_signal = SIGCHLD,
	};

	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* Once after ms, or every ms with repeat. */
static int arm(int tfd, unsigned long long ms, bool repeat)
{
	struct itimerspec its = {.it_value = hb_ms_timespec(ms)};

	if (repeat)
		its.it_interval = its.it_value;
	return timerfd_settime(tfd, 0, &its, NULL) < 0 ? -errno : 0;
}

struct loop {
	int pidfd, sfd, tfd, sock, sample_fd;
	unsigned sample_ms; /* the sampling timer's interval as armed */
	pid_t pid;
	struct hb_events *events;
	const struct hb_plan *plan;
	struct hb_seccomp_notify notify;
	struct hb_net_run *net; /* NULL for mode = none */
	struct hb_relay relay;	/* stdout and stderr, when they are files */
	bool notify_done;	/* the listener hung up */
	int timeout_stage;	/* 0 running, 1 TERM sent, 2 KILL sent */
	bool have_status;
	bool ready; /* the init has pivoted into the new root */
	int status;
	uint64_t cpu_ms, written, tasks; /* come with the status */
	struct hb_error failure;	 /* what the init reported */
	bool failed, exec_failed;
	sigset_t saved_mask; /* the caller's, restored on return */
	bool masked;
	/* The init's /proc/sysvipc files, which list its IPC namespace;
	 * -1 where none came. */
	int ipc_fds[HB_IPC_FILES];
	/* Started as root, the sources, until the init has them. */
	int *trees;
	struct hb_quota quota; /* the write quota's watches */
	bool quota_killed;
	/* hivebox shell: the session's terminal; warned, once the line that
	 * says the timeout is near went to the caller. */
	struct hb_pty pty;
	bool warned;
};

/* One report; a listener arrives as SCM_RIGHTS beside its message. */
static ssize_t recv_msg(int sock, struct hb_msg *m, int *ret_fd)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control,
			     .msg_controllen = sizeof(control)};
	struct cmsghdr *c;
	ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	*ret_fd = -1;
	for (c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; c;
	     c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
	return n;
}

static void on_listener(struct loop *l, int fd)
{
	const struct hb_filter *f = &l->plan->filter;

	if (l->notify.fd >= 0 ||
	    hb_seccomp_notify_init(
		    &l->notify, fd, f, l->events,
		    hb_plan_backstop_bytes(l->plan->limits.memory_mb)) < 0) {
		/* One listener per run; anything else is not ours.  A
		 * failed init keeps no descriptor, and frees what it took. */
		if (l->notify.fd < 0)
			hb_seccomp_notify_close(&l->notify);
		close(fd);
		return;
	}
}

/* One of the init's /proc/sysvipc files, which list its namespace. */
static void on_ipc_file(struct loop *l, int which, int fd)
{
	if (which < 0 || which >= HB_IPC_FILES || l->ipc_fds[which] >= 0) {
		close(fd);
		return;
	}
	l->ipc_fds[which] = fd;
}

static void read_messages(struct loop *l)
{
	struct hb_msg m;
	int fd;

	while (recv_msg(l->sock, &m, &fd) == sizeof(m)) {
		m.error.what[sizeof(m.error.what) - 1] = '\0';
		if (m.type == HB_MSG_LISTENER && fd >= 0) {
			on_listener(l, fd);
			continue;
		}
		if (m.type == HB_MSG_IPC_FILE && fd >= 0) {
			on_ipc_file(l, m.status, fd);
			continue;
		}
		if (fd >= 0)
			close(fd);
		if (m.type == HB_MSG_EXITED) {
			l->have_status = true;
			l->status = m.status;
			l->cpu_ms = m.cpu_ms;
			l->written = m.written;
			l->tasks = m.tasks;
		} else if (m.type == HB_MSG_READY) {
			l->ready = true;
		} else if (!l->failed) {
			l->failure = m.error;
			l->failed = true;
			l->exec_failed = m.type == HB_MSG_EXEC_FAILED;
		}
	}
}

/* A shell is warned before its timeout, since someone is typing in it:
 * HB_SHELL_WARN_MS before, or half the timeout when that is shorter. */
static unsigned long long warn_ms(const struct hb_plan *plan)
{
	if (!plan->shell)
		return 0;
	return plan->timeout_ms / 2 < HB_SHELL_WARN_MS ? plan->timeout_ms / 2
						       : HB_SHELL_WARN_MS;
}

static void warn(struct loop *l, const struct hb_plan *plan)
{
	unsigned long long left = warn_ms(plan);
	char line[HB_ORIGIN_TEXT_MAX + 160];

	snprintf(line, sizeof(line),
		 "\r\nhivebox: this session ends in %llu s (%s)\r\n",
		 (left + 999) / 1000, hb_plan_limit_text(plan, HB_K_TIMEOUT));
	hb_pty_say(&l->pty, line);
	l->warned = true;
	arm(l->tfd, left, false);
}

static void on_timer(struct loop *l, const struct hb_plan *plan)
{
	uint64_t ticks;

	(void)!read(l->tfd, &ticks, sizeof(ticks));
	if (plan->shell && !l->warned && l->timeout_stage == 0) {
		warn(l, plan);
	} else if (l->timeout_stage == 0) {
		/* The init passes TERM to every process in the namespace;
		 * after the grace period the namespace goes with the init. */
		hb_pidfd_signal(l->pidfd, SIGTERM);
		arm(l->tfd, plan->grace_ms, false);
		l->timeout_stage = 1;
	} else {
		hb_pidfd_signal(l->pidfd, SIGKILL);
		l->timeout_stage = 2;
	}
}

static void on_signal(struct loop *l, struct hb_result *res)
{
	struct signalfd_siginfo si;

	if (read(l->sfd, &si, sizeof(si)) != sizeof(si))
		return;
	/* The caller's window changed: the session's follows. */
	if (si.ssi_signo == SIGWINCH) {
		hb_pty_resize(&l->pty);
		return;
	}
	/* A second signal while the first is being handled ends it. */
	if (res->forwarded_signal)
		hb_pidfd_signal(l->pidfd, SIGKILL);
	else
		hb_pidfd_signal(l->pidfd, (int)si.ssi_signo);
	res->forwarded_signal = (int)si.ssi_signo;
}

/* The sampling interval as the last sample, or a request the filter
 * sent, has it (hb_events_next_sample_ms()). */
static void resample(struct loop *l, const struct hb_plan *plan)
{
	unsigned next =
		hb_events_next_sample_ms(l->events, plan->limits.memory_mb);

	if (next != l->sample_ms && arm(l->sample_fd, next, true) == 0)
		l->sample_ms = next;
}

static void on_sample(struct loop *l, const struct hb_plan *plan)
{
	struct hb_monitor_src src = {.init = l->pid, .in_root = l->ready};
	uint64_t ticks;

	(void)!read(l->sample_fd, &ticks, sizeof(ticks));
	memcpy(src.ipc, l->ipc_fds, sizeof(src.ipc));
	/* Without a cgroup, the supervisor bounds the sandbox's total
	 * memory (every process's RSS, its tmpfs pages and inodes, and what
	 * its IPC namespace holds) and its total CPU. */
	if (hb_events_sample(l->events, &src, plan->limits.memory_mb,
			     plan->limits.cpu_seconds))
		hb_pidfd_signal(l->pidfd, SIGKILL);
	resample(l, plan);
}

static void on_quota(struct loop *l, int fd)
{
	if (hb_quota_read(&l->quota, fd) && !l->quota_killed) {
		l->quota_killed = true;
		hb_pidfd_signal(l->pidfd, SIGKILL);
	}
}

static int event_loop(struct loop *l, const struct hb_plan *plan,
		      struct hb_result *res, struct hb_error *e)
{
	struct pollfd fds[] = {
		{.fd = l->pidfd, .events = POLLIN},
		{.fd = l->sfd, .events = POLLIN},
		{.fd = l->tfd, .events = POLLIN},
		{.fd = l->sock, .events = POLLIN},
		{.fd = l->sample_fd, .events = POLLIN},
		{.fd = -1, .events = POLLIN},
		{.fd = l->net ? l->net->nflog_fd : -1, .events = POLLIN},
		{.fd = -1, .events = POLLIN},
		{.fd = -1, .events = POLLIN},
		{.fd = -1, .events = POLLOUT},
		{.fd = l->quota.bytes_fd, .events = POLLIN},
		{.fd = l->quota.files_fd, .events = POLLIN},
		{.fd = -1}, /* 12-14: a shell's terminal (hb_pty_poll()) */
		{.fd = -1},
		{.fd = -1},
	};

	for (;;) {
		if (plan->shell)
			hb_pty_poll(&l->pty, &fds[12]);
		/* Once every filtered task is gone the listener hangs up,
		 * for good: stop polling it, or poll spins. */
		fds[5].fd = l->notify_done ? -1 : l->notify.fd;
		fds[7].fd = l->relay.streams[0].read_end;
		fds[8].fd = l->relay.streams[1].read_end;
		/* Notices wait in their queue, never in a write: the loop
		 * goes on while stderr is stopped or full. */
		fds[9].fd = hb_notice_poll_fd(l->events->notice);
		if (poll(fds, ARRAY_SIZE(fds), -1) < 0) {
			if (errno == EINTR)
				continue;
			return hb_error_set(e, HB_STAGE_SUPERVISE, errno,
					    "poll");
		}
		/* The script's output first: what it wrote before a denied
		 * call or its end comes before hivebox's notice of it. */
		if (plan->shell)
			hb_pty_ready(&l->pty, &fds[12]);
		for (size_t i = 0; i < ARRAY_SIZE(l->relay.streams); i++)
			if (fds[7 + i].revents)
				hb_relay_pump(&l->relay.streams[i],
					      l->relay.limit);
		if (fds[3].revents & POLLIN)
			read_messages(l);
		if (fds[3].revents & (POLLHUP | POLLERR))
			fds[3].fd = -1;
		if (fds[2].revents & POLLIN)
			on_timer(l, plan);
		if (fds[1].revents & POLLIN)
			on_signal(l, res);
		if (fds[4].revents & POLLIN)
			on_sample(l, plan);
		if (fds[5].revents & POLLIN) {
			/* At the backstop: the notification module killed
			 * the caller, the supervisor ends the sandbox, as
			 * for any limit. */
			if (hb_seccomp_notify_handle(&l->notify))
				hb_pidfd_signal(l->pidfd, SIGKILL);
			resample(l, plan);
		} else if (fds[5].revents & (POLLHUP | POLLERR))
			l->notify_done = true;
		if (fds[6].revents & (POLLIN | POLLERR))
			(void)hb_net_run_read(l->net);
		if (fds[9].revents)
			hb_notice_ready(l->events->notice, fds[9].revents);
		for (size_t i = 10; i < 12; i++)
			if (fds[i].revents & POLLIN)
				on_quota(l, fds[i].fd);
		if (fds[0].revents & POLLIN)
			return 0;
	}
}

static int setup_fds(struct loop *l, sigset_t *mask, int socks[2],
		     struct hb_error *e)
{
	hb_signals_forwarded(mask);
	if (l->plan->shell)
		sigaddset(mask, SIGWINCH);
	if (sigprocmask(SIG_BLOCK, mask, &l->saved_mask) < 0)
		return hb_error_set(e, HB_STAGE_SIGNALS, errno, "sigprocmask");
	l->masked = true;
	l->sfd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l->sfd < 0)
		return hb_error_set(e, HB_STAGE_SIGNALS, errno, "signalfd");
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->tfd < 0)
		return hb_error_set(e, HB_STAGE_SIGNALS, errno,
				    "timerfd_create");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0)
		return hb_error_set(e, HB_STAGE_SIGNALS, errno,
				    "socketpair for the init's reports");
	return 0;
}

/* What the script wrote that its file did not get. */
static void relay_report(struct loop *l)
{
	char msg[HB_ORIGIN_TEXT_MAX + 256];

	for (size_t i = 0; i < ARRAY_SIZE(l->relay.streams); i++) {
		const struct hb_relay_stream *s = &l->relay.streams[i];
		/* Even with --quiet: the job's log lost its output, which
		 * cron mail must say. */
		if (s->err == EFBIG) {
			snprintf(msg, sizeof(msg),
				 "the script's output to descriptor %d went "
				 "past %s: %llu bytes were not written, and "
				 "its writes failed from there on",
				 s->dest,
				 hb_plan_limit_text(l->plan, HB_K_FILE_SIZE),
				 s->dropped);
			hb_events_record(l->events, "output_limit",
					 HB_EV_VIOLATION, HB_SHOW_ALWAYS, msg,
					 NULL);
		} else if (s->err) {
			snprintf(msg, sizeof(msg),
				 "the script's output to descriptor %d could "
				 "not be written: %s",
				 s->dest, strerror(s->err));
			hb_events_event(l->events, "output_failed", HB_EV_ERROR,
					msg, NULL);
		}
	}
}

/* What is still queued counts too: a script that went past its quota
 * and ended before the supervisor read it did go past it. */
static bool quota_finish(struct loop *l, struct hb_result *res)
{
	hb_quota_drain(&l->quota);
	res->quota_bytes = l->quota.ledger.added;
	res->quota_files = l->quota.files;
	res->quota_lost = l->quota.lost;
	return l->quota_killed || hb_quota_over(&l->quota);
}

static void finish(struct loop *l, unsigned long long start,
		   struct hb_result *res)
{
	struct rusage ru = {0};
	struct hb_error e;
	bool over_quota;
	int status = 0;

	while (wait4(l->pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	/* The session's last output, before the line that says why it
	 * ended. */
	if (l->plan->shell)
		hb_pty_finish(&l->pty, HB_PTY_FINISH_MS);
	/* Nothing in the sandbox writes any more: the rest of its output. */
	hb_relay_finish(&l->relay);
	relay_report(l);
	read_messages(l);
	res->wall_ms = hb_now_ms() - start;
	res->user_ms = hb_timeval_ms(&ru.ru_utime);
	res->system_ms = hb_timeval_ms(&ru.ru_stime);
	res->peak_rss_kb = (unsigned long long)ru.ru_maxrss;
	res->interp_cpu_ms = l->cpu_ms;
	res->written_bytes = l->written;
	res->end_tasks = l->tasks;
	over_quota = quota_finish(l, res);
	if (l->events->memory_killed && !l->timeout_stage)
		hb_result_memory_limit(res);
	else if (l->events->cpu_killed && !l->timeout_stage)
		hb_result_cpu_limit(res);
	else if (over_quota && !l->timeout_stage && !l->failed)
		hb_result_write_quota(res, l->quota_killed);
	else if (l->timeout_stage)
		hb_result_timeout(res, l->have_status && WIFSIGNALED(l->status)
					       ? WTERMSIG(l->status)
					       : SIGKILL);
	else if (l->failed)
		hb_result_setup_error(res, &l->failure, l->exec_failed);
	else if (l->have_status)
		hb_result_classify(res, l->status, l->plan);
	else {
		/* The init died without a word: killed from outside. */
		hb_error_set(&e, HB_STAGE_SUPERVISE,
			     WIFSIGNALED(status) ? EINTR : EIO,
			     "the sandbox init ended unexpectedly");
		hb_result_setup_error(res, &e, false);
	}
}

static int arm_timers(struct loop *l, struct hb_error *e)
{
	int r = arm(l->tfd, l->plan->timeout_ms - warn_ms(l->plan), false);

	if (r < 0)
		return hb_error_set(e, HB_STAGE_SIGNALS, -r, "arm the timeout");
	l->sample_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	l->sample_ms =
		hb_events_next_sample_ms(l->events, l->plan->limits.memory_mb);
	/* The sandbox holds nothing yet: the first sample's growth is all
	 * it allocated since. */
	l->events->last_sample_ms = hb_now_ms();
	r = l->sample_fd < 0 ? -errno : arm(l->sample_fd, l->sample_ms, true);
	return r < 0 ? hb_error_set(e, HB_STAGE_SIGNALS, -r,
				    "arm the sampling timer")
		     : 0;
}

static int acquire_network(struct loop *l, struct hb_error *e)
{
	l->net = calloc(1, sizeof(*l->net));
	if (!l->net)
		return hb_error_set(e, HB_STAGE_NET_HOST, ENOMEM, "memory");
	return hb_net_run_acquire(l->net, &l->plan->net, e);
}

/* What clone_init() relies on; a run where it does not hold fails, before
 * anything is cloned. */
static int single_threaded(struct hb_error *e)
{
	int n = hb_threads();

	if (n < 0)
		return hb_error_set(e, HB_STAGE_CLONE, -n,
				    "count the supervisor's threads");
	if (n != 1)
		return hb_error_set(e, HB_STAGE_CLONE, ENOTSUP,
				    "the supervisor runs %d threads, where the "
				    "sandbox init needs it to run one",
				    n);
	return 0;
}

/* Clone the init, write its id maps and the host side of its network,
 * then let it go on. */
static int start_init(struct loop *l, int socks[2], struct hb_error *e)
{
	const struct hb_plan *plan = l->plan;
	pid_t pid;
	int r = single_threaded(e);

	if (r < 0)
		return r;
	/* Started as root, the init inherits the sources, cloned and
	 * idmapped in the host's mount namespace when the run started
	 * (hb_mounts_prepare()).  Without them it would clone its own, to
	 * no owner: a run that never prepared them does not start. */
	if (plan->privileged && !l->trees)
		return hb_error_set(e, HB_STAGE_CLONE, EINVAL,
				    "the sources were not prepared");
	/* The marks go on the trees before the init has them, so that
	 * its first write is seen. */
	r = hb_quota_start(&l->quota, plan, l->trees, e);
	if (r < 0)
		return r;
	pid = clone_init(&l->pidfd);
	if (pid == 0) {
		close(socks[0]);
		if (hb_relay_child(&l->relay) < 0)
			_exit(HB_EXIT_FAILED);
		if (plan->shell && hb_pty_child(&l->pty) < 0)
			_exit(HB_EXIT_FAILED);
		hb_sandbox_main(plan, l->trees, l->net ? &l->net->slot : NULL,
				socks[1]);
	}
	if (pid < 0)
		r = -errno;
	/* They hold the host's file systems busy: the init's copies are
	 * enough. */
	hb_mounts_close_sources(plan, TAKE_PTR(l->trees));
	if (pid < 0)
		/* Nothing was started: hivebox failed, nothing ran. */
		return hb_error_set(e, HB_STAGE_CLONE, -r, "clone3");
	hb_relay_started(&l->relay);
	hb_pty_started(&l->pty);
	close(TAKE_FD(socks[1]));
	l->sock = socks[0];
	l->pid = pid;
	/* Before the init goes on: nothing of the sandbox has run yet. */
	r = hb_quota_set_init(&l->quota, pid);
	if (r < 0)
		return hb_error_set(e, HB_STAGE_SUPERVISE, -r,
				    "the sandbox's PID namespace");
	r = write_maps(plan, pid, e);
	/* The host side of the network, once the init's namespace exists
	 * and before the init goes on to set up its end. */
	if (r == 0 && l->net)
		r = hb_net_run_host(l->net, pid, e);
	if (r == 0 && send(l->sock, "g", 1, MSG_NOSIGNAL) != 1)
		r = hb_error_set(e, HB_STAGE_SUPERVISE, errno,
				 "let the sandbox init go on");
	return r;
}

/* Everything the run held on the host goes; what it counted goes into
 * the result. */
static void release(struct loop *l, struct hb_result *res)
{
	if (l->net) {
		/* What the filter dropped while the run ended is queued. */
		while (hb_net_run_read(l->net))
			;
		hb_net_run_report(l->net, l->events);
		hb_net_run_teardown(l->net);
		res->network = hb_net_run_json(l->net);
		free(l->net);
		l->net = NULL;
	}
	hb_relay_finish(&l->relay);
	hb_pty_close(&l->pty);
	hb_closep(&l->pidfd);
	hb_closep(&l->sfd);
	hb_closep(&l->tfd);
	hb_closep(&l->sample_fd);
	/* They hold the sandbox's IPC namespace, and what is in it. */
	for (int i = 0; i < HB_IPC_FILES; i++)
		hb_closep(&l->ipc_fds[i]);
	hb_mounts_close_sources(l->plan, TAKE_PTR(l->trees));
	res->denied_syscalls = l->notify.total;
	res->denied_counts = hb_seccomp_notify_counts(&l->notify);
	hb_seccomp_notify_close(&l->notify);
	hb_quota_close(&l->quota);
}

/* The supervisor asks the scheduler for a short slice (EEVDF, Linux 6.12
 * and later; older kernels refuse it, EINVAL, and nothing changes): the
 * same share of CPU, but on waking it runs before busy tasks whose slice
 * is longer, so that a 2 ms sample near memory_mb is taken in time on a
 * machine whose cores the sandbox keeps busy.  Measured on 2 cores at a
 * load average of 7, 20 runs of each interleaved: four processes
 * allocating 16 MiB chunks passed memory_mb = 200 by a median of 13.5 MiB
 * with it, 28.5 MiB without.  Set after the init is cloned, which must
 * not inherit it (alert commands do: they are short). */
#define HB_SUPERVISOR_SLICE_NS 100000 /* the least the kernel takes */

static void ask_short_slice(void)
{
	struct sched_attr a = {.size = sizeof(a),
			       .sched_policy = SCHED_NORMAL,
			       .sched_runtime = HB_SUPERVISOR_SLICE_NS};

	(void)syscall(SYS_sched_setattr, 0, &a, 0);
}

/* The init builds the sandbox meanwhile; it starts the script once told
 * so, after the hook. */
static int let_script_start(struct loop *l, const struct hb_start_hook *hook,
			    struct hb_error *e)
{
	if (hook && hook->fn(hook->arg) < 0)
		return -ECANCELED;
	/* An init that failed its setup is gone already: what it reported
	 * says why, and the loop reads it. */
	if (send(l->sock, "x", 1, MSG_NOSIGNAL) != 1 && errno != EPIPE &&
	    errno != ECONNRESET)
		return hb_error_set(e, HB_STAGE_SUPERVISE, errno,
				    "let the sandbox init start the script");
	return 0;
}

int hb_supervise(const struct hb_plan *plan, int *trees,
		 struct hb_events *events, const struct hb_start_hook *hook,
		 int record_fd, struct hb_result *res)
{
	struct loop l = {.pidfd = -1,
			 .sfd = -1,
			 .tfd = -1,
			 .sock = -1,
			 .sample_fd = -1,
			 .pid = -1,
			 .ipc_fds = {-1, -1, -1},
			 .events = events,
			 .plan = plan,
			 .trees = trees,
			 .notify = {.fd = -1},
			 .quota = {.bytes_fd = -1, .files_fd = -1},
			 .pty = {.master = -1,
				 .slave = -1,
				 .in = -1,
				 .out = -1,
				 .record_fd = record_fd}};
	unsigned long long start = hb_now_ms();
	struct hb_error fail = {0};
	int socks[2] = {-1, -1};
	sigset_t mask;
	int r;

	memset(res, 0, sizeof(*res));
	/* First, so that release() always finds it set.  A shell's output
	 * goes through its pty, never through the caller's descriptors. */
	r = hb_relay_prepare(&l.relay, plan->shell ? -1 : STDOUT_FILENO,
			     plan->shell ? -1 : STDERR_FILENO,
			     plan->limits.file_size_mb * 1024 * 1024, &fail);
	if (r == 0 && plan->shell)
		r = hb_pty_open(&l.pty, record_fd, &fail);
	/* Signals next: a SIGTERM from here on is forwarded, and the
	 * network's teardown still runs. */
	if (r == 0)
		r = setup_fds(&l, &mask, socks, &fail);
	if (r == 0 && plan->net.filtered)
		r = acquire_network(&l, &fail);
	if (r == 0)
		r = start_init(&l, socks, &fail);
	if (r == 0)
		r = let_script_start(&l, hook, &fail);
	if (r == 0) {
		ask_short_slice();
		r = arm_timers(&l, &fail);
	}
	if (r == 0)
		r = event_loop(&l, plan, res, &fail);
	if (l.pid > 0) {
		if (r < 0)
			hb_pidfd_signal(l.pidfd, SIGKILL);
		finish(&l, start, res);
	}
	/* What failed here wins over what finish() made of the init's end;
	 * a cancelled run has no result. */
	if (r < 0 && r != -ECANCELED)
		hb_result_setup_error(res, &fail, false);
	release(&l, res);
	hb_closep(&socks[0]);
	hb_closep(&socks[1]);
	/* The signalfd is gone: the caller's mask again, so that what it
	 * does next sees signals as it did before. */
	if (l.masked)
		sigprocmask(SIG_SETMASK, &l.saved_mask, NULL);
	return r;
}

/* SPDX-License-Identifier: MIT */
/* hivebox learn, the supervisor's side of each notification: the path,
 * destination or program a call names, read from the caller's memory and
 * made absolute through its /proc entries, recorded; then the call goes
 * on (SECCOMP_USER_NOTIF_FLAG_CONTINUE), or fails the way it would under
 * hivebox.  The caller's memory is opened before the notification is
 * checked still waiting, so what is read is that caller's; it is what
 * the caller passed when it stopped: a thread of the job could change it
 * before the kernel reads it again, which makes the record wrong, never
 * the host changed. */
#include "learn_internal.h"
#include "seccomp_filter.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#ifndef AT_FDCWD
#define AT_FDCWD -100
#endif

/* The caller of one notification: its pid, and its memory, opened
 * before the notification was known to still be the caller's. */
struct caller {
	pid_t pid;
	int mem;
	int notify; /* the listener, and the notification's id */
	uint64_t id;
};

static int read_mem(int mem, unsigned long long addr, void *buf, size_t n)
{
	ssize_t got = pread(mem, buf, n, (off_t)addr);

	return got < 0 ? -errno : (int)got;
}

/* A NUL-terminated string of at most PATH_MAX - 1 bytes, which may end
 * before an unmapped page: read to the page's end first.  A longer one,
 * which the kernel refuses (ENAMETOOLONG), is not recorded. */
int hb_learn_read_str(int mem, unsigned long long addr, char *buf)
{
	size_t first = 4096 - (addr & 4095);
	int got, more;

	if (first > PATH_MAX - 1)
		first = PATH_MAX - 1;
	got = read_mem(mem, addr, buf, first);
	if (got <= 0)
		return -EFAULT;
	if (!memchr(buf, '\0', (size_t)got) && (size_t)got < PATH_MAX - 1) {
		more = read_mem(mem, addr + (unsigned)got, buf + got,
				PATH_MAX - 1 - (size_t)got);
		got = more > 0 ? got + more : got;
	}
	if (!memchr(buf, '\0', (size_t)got))
		return (size_t)got < PATH_MAX - 1 ? -EFAULT : -ENAMETOOLONG;
	return 0;
}

/* The directory a relative path starts from: the caller's cwd, or the
 * directory dirfd names.  The links show the sandbox's paths, which are
 * the host's. */
static int base_dir(pid_t pid, int dirfd, char *buf)
{
	char link[64];
	ssize_t n;

	if (dirfd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
	else
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", pid, dirfd);
	n = readlink(link, buf, PATH_MAX - 1);
	if (n <= 0 || buf[0] != '/')
		return -ENOENT;
	buf[n] = '\0';
	return 0;
}

static bool is_foreign(const struct hb_learn_obs *o, pid_t pid)
{
	for (size_t i = 0; i < o->n_foreign; i++)
		if (o->foreign[i] == pid)
			return true;
	return false;
}

/* The caller, or its parent, runs a program executed by the job. */
static bool foreign_caller(const struct hb_learn_obs *o, pid_t pid)
{
	char path[64], buf[2048];
	const char *line;
	int ppid = 0;

	if (!o->n_foreign || is_foreign(o, pid))
		return o->n_foreign > 0;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (hb_read_text(path, buf, sizeof(buf)) < 0 ||
	    !(line = strstr(buf, "\nPPid:")) ||
	    sscanf(line, "\nPPid: %d", &ppid) != 1)
		return false;
	return is_foreign(o, ppid);
}

static void record(struct hb_learn_obs *o, const struct caller *c, int dirfd,
		   unsigned long long addr, unsigned op)
{
	char path[PATH_MAX], dir[PATH_MAX];
	_cleanup_free_ char *abs = NULL;

	if (!addr || hb_learn_read_str(c->mem, addr, path) < 0 || !path[0])
		return;
	if (path[0] != '/' && base_dir(c->pid, dirfd, dir) < 0)
		return;
	if (hb_path_absolute(path[0] == '/' ? NULL : dir, path, &abs) < 0)
		return;
	if (op != HB_LEARN_EXEC && foreign_caller(o, c->pid))
		return;
	hb_learn_obs_add_path(o, abs, op);
	if (op == HB_LEARN_READ && strcmp(abs, o->script) == 0)
		o->started = true;
	if (op == HB_LEARN_EXEC && o->started &&
	    strcmp(abs, o->interpreter) != 0 && !is_foreign(o, c->pid) &&
	    o->n_foreign < ARRAY_SIZE(o->foreign))
		o->foreign[o->n_foreign++] = c->pid;
}

static unsigned open_op(unsigned long long flags)
{
	if (flags & O_PATH)
		return 0;
	if ((flags & O_ACCMODE) != O_RDONLY || flags & (O_TRUNC | O_CREAT))
		return HB_LEARN_WRITE;
	return flags & O_DIRECTORY ? HB_LEARN_LIST : HB_LEARN_READ;
}

static int nr_of(const char *name)
{
	return seccomp_syscall_resolve_name(name);
}

/* The calls that name paths: which argument is the dirfd (-1: none),
 * which the path, and what they do to it. */
static bool watch_path(struct hb_learn_obs *o, const struct seccomp_notif *q,
		       const struct caller *c)
{
	const unsigned long long *a = q->data.args;
	int nr = q->data.nr;
	unsigned long long how = 0;

	if (nr == nr_of("open"))
		record(o, c, AT_FDCWD, a[0], open_op(a[1]));
	else if (nr == nr_of("openat"))
		record(o, c, (int)a[0], a[1], open_op(a[2]));
	else if (nr == nr_of("openat2")) {
		if (read_mem(c->mem, a[2], &how, sizeof(how)) == sizeof(how))
			record(o, c, (int)a[0], a[1], open_op(how));
	} else if (nr == nr_of("creat") || nr == nr_of("truncate"))
		record(o, c, AT_FDCWD, a[0], HB_LEARN_WRITE);
	else if (nr == nr_of("mkdir"))
		record(o, c, AT_FDCWD, a[0], HB_LEARN_CREATE);
	else if (nr == nr_of("mkdirat"))
		record(o, c, (int)a[0], a[1], HB_LEARN_CREATE);
	else if (nr == nr_of("unlink") || nr == nr_of("rmdir"))
		record(o, c, AT_FDCWD, a[0], HB_LEARN_REMOVE);
	else if (nr == nr_of("unlinkat"))
		record(o, c, (int)a[0], a[1], HB_LEARN_REMOVE);
	else if (nr == nr_of("rename") || nr == nr_of("link")) {
		record(o, c, AT_FDCWD, a[0],
		       nr == nr_of("link") ? HB_LEARN_READ : HB_LEARN_RENAME);
		record(o, c, AT_FDCWD, a[1],
		       nr == nr_of("link") ? HB_LEARN_CREATE : HB_LEARN_RENAME);
	} else if (nr == nr_of("renameat") || nr == nr_of("renameat2") ||
		   nr == nr_of("linkat")) {
		bool link = nr == nr_of("linkat");
		record(o, c, (int)a[0], a[1],
		       link ? HB_LEARN_READ : HB_LEARN_RENAME);
		record(o, c, (int)a[2], a[3],
		       link ? HB_LEARN_CREATE : HB_LEARN_RENAME);
	} else if (nr == nr_of("symlink"))
		record(o, c, AT_FDCWD, a[1], HB_LEARN_CREATE);
	else if (nr == nr_of("symlinkat"))
		record(o, c, (int)a[1], a[2], HB_LEARN_CREATE);
	else if (nr == nr_of("execve"))
		record(o, c, AT_FDCWD, a[0], HB_LEARN_EXEC);
	else if (nr == nr_of("execveat"))
		record(o, c, (int)a[0], a[1], HB_LEARN_EXEC);
	else if (nr == nr_of("chdir"))
		record(o, c, AT_FDCWD, a[0], HB_LEARN_LIST);
	else
		return false;
	return true;
}

bool hb_learn_dns_name(const unsigned char *q, size_t n, char *name,
		       size_t size)
{
	size_t pos = 12, out = 0;

	/* A query (QR clear, opcode 0) with one question. */
	if (n < 17 || q[2] & 0xf8 || q[4] || q[5] != 1)
		return false;
	while (pos < n && q[pos]) {
		size_t len = q[pos];
		if (len > 63 || pos + 1 + len >= n || out + len + 2 > size)
			return false;
		if (out)
			name[out++] = '.';
		for (size_t i = 0; i < len; i++) {
			unsigned char c = q[pos + 1 + i];
			if (c <= ' ' || c >= 127)
				return false;
			name[out++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		pos += 1 + len;
	}
	name[out] = '\0';
	return out > 0 && pos + 5 <= n;
}

static void watch_payload(struct hb_learn_obs *o, int mem,
			  unsigned long long addr, size_t len)
{
	unsigned char buf[512];
	char name[256];
	int got;

	if (!addr || len < 17 || len > sizeof(buf))
		return;
	got = read_mem(mem, addr, buf, len);
	if (got == (int)len && hb_learn_dns_name(buf, len, name, sizeof(name)))
		hb_learn_obs_add_dest(o, name, 0, true, true, false);
}

/* An AF_UNIX address: a path is recorded (made absolute against the
 * caller's cwd); the call is refused whatever it names.  What was read
 * is not what the kernel reads next (another thread of the job can
 * change it), and a path may name a host service, which no sandbox
 * reaches: so the job's own sockets are refused too while it learns. */
static int watch_unix(struct hb_learn_obs *o, const struct caller *c,
		      const struct sockaddr_storage *sa, size_t len)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
	char path[sizeof(un->sun_path) + 1] = "", dir[PATH_MAX];
	_cleanup_free_ char *abs = NULL;
	size_t n = len - offsetof(struct sockaddr_un, sun_path);

	/* The job says how long it is: no more than sun_path. */
	memcpy(path, un->sun_path,
	       n < sizeof(un->sun_path) ? n : sizeof(un->sun_path));
	if (path[0] &&
	    (path[0] == '/' || base_dir(c->pid, AT_FDCWD, dir) == 0) &&
	    hb_path_absolute(path[0] == '/' ? NULL : dir, path, &abs) == 0)
		hb_learn_obs_add_dest(o, abs, 0, false, false, true);
	return -ECONNREFUSED;
}

/* A socket address: recorded.  unix_sock: the caller's socket is an
 * AF_UNIX one, whatever the address it passes says. */
static int watch_addr(struct hb_learn_obs *o, const struct caller *c,
		      unsigned long long addr, unsigned long long len, bool udp,
		      bool unix_sock)
{
	struct sockaddr_storage sa = {0};
	char text[INET6_ADDRSTRLEN];

	if (!addr)
		return 0;
	if (len > sizeof(sa))
		len = sizeof(sa);
	if (len < sizeof(sa_family_t) ||
	    read_mem(c->mem, addr, &sa, len) != (int)len)
		return unix_sock ? -ECONNREFUSED : 0;
	if (unix_sock || sa.ss_family == AF_UNIX)
		return watch_unix(o, c, &sa, len);
	if (sa.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;
		inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
		hb_learn_obs_add_dest(o, text, ntohs(in->sin_port), udp, false,
				      false);
	} else if (sa.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
		hb_learn_obs_add_dest(o, text, ntohs(in6->sin6_port), udp,
				      false, false);
	}
	return 0;
}

/* The domain of the caller's descriptor fd, and its type: a copy taken
 * with pidfd_getfd(); 0 when it is no socket or the caller is gone. */
static int sock_domain(const struct caller *c, int fd, int *ret_type)
{
	_cleanup_close_ int pidfd = -1, copy = -1;
	int domain = 0;
	socklen_t len = sizeof(int);

	*ret_type = 0;
	pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	/* The pidfd is the caller's only if its call still waits. */
	if (pidfd < 0 || seccomp_notify_id_valid(c->notify, c->id) < 0)
		return 0;
	copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (copy < 0 ||
	    getsockopt(copy, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    getsockopt(copy, SOL_SOCKET, SO_TYPE, ret_type, &len) < 0)
		return 0;
	return domain;
}

static int watch_net(struct hb_learn_obs *o, const struct seccomp_notif *q,
		     const struct caller *c, bool *ret_net)
{
	const unsigned long long *a = q->data.args;
	int nr = q->data.nr, type;
	bool unix_sock;
	struct msghdr m;
	struct iovec iov;

	*ret_net = nr == nr_of("connect") || nr == nr_of("sendto") ||
		   nr == nr_of("sendmsg") || nr == nr_of("sendmmsg");
	if (!*ret_net)
		return 0;
	unix_sock = sock_domain(c, (int)a[0], &type) == AF_UNIX;
	if (nr == nr_of("connect"))
		return watch_addr(o, c, a[1], a[2], false, unix_sock);
	if (nr == nr_of("sendto")) {
		watch_payload(o, c->mem, a[1], a[2]);
		return watch_addr(o, c, a[4], a[5], true, unix_sock);
	}
	/* sendmmsg: the first message tells where they all go.  On an
	 * AF_UNIX datagram socket the job's memory says where each goes,
	 * and it can change after it is read: refused. */
	if (read_mem(c->mem, a[1], &m, sizeof(m)) != (int)sizeof(m))
		return unix_sock && type == SOCK_DGRAM ? -ECONNREFUSED : 0;
	if (m.msg_iovlen && read_mem(c->mem, (uintptr_t)m.msg_iov, &iov,
				     sizeof(iov)) == (int)sizeof(iov))
		watch_payload(o, c->mem, (uintptr_t)iov.iov_base, iov.iov_len);
	if (watch_addr(o, c, (uintptr_t)m.msg_name, m.msg_namelen, true,
		       unix_sock) < 0 ||
	    (unix_sock && type == SOCK_DGRAM))
		return -ECONNREFUSED;
	return 0;
}

void hb_learn_watch(struct hb_learn_obs *o, const bool *always_denied,
		    const bool *base_allows, const struct seccomp_notif *req,
		    struct seccomp_notif_resp *resp, int notify_fd)
{
	int nr = req->data.nr, err = 0;
	_cleanup_close_ int mem = -1;
	struct caller c = {
		.pid = (pid_t)req->pid, .notify = notify_fd, .id = req->id};
	char path[64];
	bool net = false;

	o->notifications++;
	resp->id = req->id;
	resp->val = 0;
	resp->error = 0;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	/* The memory first, then whether the call still waits: only then is
	 * it the memory of the process that made the call, not of one that
	 * took its pid since.  A call gone is not recorded. */
	snprintf(path, sizeof(path), "/proc/%d/mem", c.pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (seccomp_notify_id_valid(notify_fd, req->id) < 0)
		return;
	c.mem = mem;
	/* As under hivebox: libc falls back to clone. */
	if (nr == nr_of("clone3")) {
		err = -ENOSYS;
	} else if (!watch_path(o, req, &c)) {
		err = watch_net(o, req, &c, &net);
		/* The base allows it, but not with these arguments (the
		 * filter's rules, hb_filter_by_args()): refused, as hivebox
		 * refuses it, and no call beyond the base. */
		if (!net && nr >= 0 && nr < HB_SYSCALL_NR_END &&
		    base_allows[nr] && hb_filter_by_args(nr)) {
			err = -EPERM;
		} else if (!net && nr >= 0 && nr < HB_SYSCALL_NR_END) {
			o->beyond[nr] = true;
			if (always_denied[nr])
				err = -EPERM;
		}
	}
	if (err) {
		resp->flags = 0;
		resp->error = err;
	}
}

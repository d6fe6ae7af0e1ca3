/* SPDX-License-Identifier: MIT */
#include "seccomp_notify.h"
#include "seccomp_guard.h"
#include "seccomp_names.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

/* Which arguments of a call are paths, to be read from the caller. */
static const struct {
	const char *name;
	signed char path[2]; /* argument indexes, -1 for none */
} path_args[] = {
	{"open", {0, -1}},	  {"openat", {1, -1}},
	{"creat", {0, -1}},	  {"unlink", {0, -1}},
	{"unlinkat", {1, -1}},	  {"rmdir", {0, -1}},
	{"mkdir", {0, -1}},	  {"mkdirat", {1, -1}},
	{"rename", {0, 1}},	  {"renameat", {1, 3}},
	{"renameat2", {1, 3}},	  {"link", {0, 1}},
	{"linkat", {1, 3}},	  {"symlink", {0, 1}},
	{"symlinkat", {0, 2}},	  {"chmod", {0, -1}},
	{"fchmodat", {1, -1}},	  {"fchmodat2", {1, -1}},
	{"chown", {0, -1}},	  {"lchown", {0, -1}},
	{"fchownat", {1, -1}},	  {"truncate", {0, -1}},
	{"mknod", {0, -1}},	  {"mknodat", {1, -1}},
	{"setxattr", {0, -1}},	  {"lsetxattr", {0, -1}},
	{"removexattr", {0, -1}}, {"lremovexattr", {0, -1}},
	{"mount", {0, 1}},	  {"umount2", {0, -1}},
	{"pivot_root", {0, 1}},	  {"chroot", {0, -1}},
	{"execve", {0, -1}},	  {"execveat", {1, -1}},
	{"acct", {0, -1}},	  {"swapon", {0, -1}},
	{"swapoff", {0, -1}},	  {"open_tree", {1, -1}},
	{"fsopen", {0, -1}},	  {"openat2", {1, -1}},
	{"setxattrat", {1, -1}},
};

/* Calls that name their file by a descriptor alone (argument 0): the
 * record names the file the descriptor is open on. */
static const char *const fd_calls[] = {"fchmod", "fsetxattr"};

int hb_seccomp_notify_init(struct hb_seccomp_notify *n, int fd,
			   const struct hb_filter *f, struct hb_events *events,
			   unsigned long long as_limit)
{
	struct seccomp_notif_sizes sizes;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->deny_errno = f->deny_errno;
	n->kill = f->kill;
	n->whole = f->whole;
	n->events = events;
	n->as_limit = as_limit;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return -errno;
	/* The kernel may know more fields than these headers. */
	n->req_size = sizes.seccomp_notif > sizeof(struct seccomp_notif)
			      ? sizes.seccomp_notif
			      : sizeof(struct seccomp_notif);
	n->resp_size =
		sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp)
			? sizes.seccomp_notif_resp
			: sizeof(struct seccomp_notif_resp);
	n->req = calloc(1, n->req_size);
	n->resp = calloc(1, n->resp_size);
	if (!n->req || !n->resp)
		return -ENOMEM;
	/* Only now: on a failure the caller still owns fd, and the loop
	 * does not poll it. */
	n->fd = fd;
	return 0;
}

void hb_seccomp_notify_close(struct hb_seccomp_notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	free(n->req);
	free(n->resp);
	n->fd = -1;
	n->req = n->resp = NULL;
}

/* A NUL-terminated string at addr in pid's memory, or NULL. */
static char *read_string(pid_t pid, unsigned long long addr)
{
	_cleanup_free_ char *buf = malloc(4097);
	_cleanup_close_ int fd = -1;
	char path[64];
	ssize_t got;

	if (!buf)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	/* A string may end before a page that is not mapped: read up to
	 * the page end first. */
	got = fd < 0 ? -1 : pread(fd, buf, 4096 - (addr & 4095), (off_t)addr);
	if (got > 0 && !memchr(buf, '\0', (size_t)got)) {
		ssize_t more = pread(fd, buf + got, 4096 - (size_t)got,
				     (off_t)(addr + (unsigned long long)got));
		got = more > 0 ? got + more : got;
	}
	if (got <= 0)
		return NULL;
	buf[got] = '\0';
	return TAKE_PTR(buf);
}

/* size bytes at addr in pid's memory. */
static int read_memory(pid_t pid, unsigned long long addr, void *buf,
		       size_t size)
{
	_cleanup_close_ int fd = -1;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return pread(fd, buf, size, (off_t)addr) == (ssize_t)size ? 0 : -EIO;
}

/* What the caller's /proc status says about it and its process. */
struct caller {
	pid_t tgid;	       /* its process, the thread group */
	pid_t ns_tgid, ns_tid; /* the same and the caller, in the sandbox */
	unsigned threads;      /* in that process */
	bool sigsys_unsafe;    /* SIGSYS blocked, ignored or caught */
};

/* The last id of a line such as "NSpid:\t4711\t3": the one in the
 * innermost PID namespace, the sandbox's (which cannot make another). */
static pid_t innermost(const char *ids)
{
	long id = 0;
	char *end;

	for (;;) {
		long v = strtol(ids, &end, 10);
		if (end == ids)
			return (pid_t)id;
		id = v;
		ids = end;
	}
}

static int read_caller(pid_t tid, struct caller *ret)
{
	const unsigned long long sys = 1ULL << (SIGSYS - 1);
	_cleanup_fclose_ FILE *f = NULL;
	unsigned long long mask;
	char path[64], line[256];
	int tgid = 0;

	memset(ret, 0, sizeof(*ret));
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* SigBlk is the caller's own mask, the others its
		 * process's. */
		if (sscanf(line, "SigBlk: %llx", &mask) == 1 ||
		    sscanf(line, "SigIgn: %llx", &mask) == 1 ||
		    sscanf(line, "SigCgt: %llx", &mask) == 1)
			ret->sigsys_unsafe |= (mask & sys) != 0;
		else if (strncmp(line, "NStgid:", 7) == 0)
			ret->ns_tgid = innermost(line + 7);
		else if (strncmp(line, "NSpid:", 6) == 0)
			ret->ns_tid = innermost(line + 6);
		else if (sscanf(line, "Tgid: %d", &tgid) != 1)
			sscanf(line, "Threads: %u", &ret->threads);
	}
	ret->tgid = tgid;
	return tgid > 0 && ret->threads > 0 ? 0 : -EIO;
}

/* What becomes of a notified call. */
enum verdict_kind {
	V_DENY,	    /* denied by the policy: its errno, syscall_denied */
	V_PLANT,    /* it would plant a privilege: EPERM, plant_denied */
	V_FOREIGN,  /* another process's limits: EPERM, syscall_denied */
	V_CONTINUE, /* a guarded call the policy allows, harmless: goes on */
	V_ENOSYS,   /* openat2 that plants nothing: ENOSYS, the caller
		       falls back to openat, whose mode the filter sees */
	V_MEMORY,   /* past the backstop, RLIMIT_AS: the run ends */
};

struct verdict {
	enum verdict_kind what;
	const struct hb_guard *guard; /* NULL: not a guarded call */
	const char *plant;	      /* V_PLANT: what it would make */
	bool has_mode;
	unsigned long long mode; /* the mode it would have, for the record */
	int pid;		 /* V_FOREIGN: prlimit64's */
	/* V_MEMORY: the address space asked for and already held. */
	unsigned long long asked, mapped;
};

/* setxattr goes on whatever the name read here says (unless the policy
 * denies the call).  The name is in the caller's memory, which another
 * of its threads can change between this read and the kernel's: what is
 * read decides only whether the call is refused and recorded as a plant,
 * never lets one through.  A "security.capability" swapped in after the
 * read reaches the kernel, which refuses it by itself (it asks for
 * CAP_SETFCAP, and nothing in the sandbox has a capability): this is
 * defence in depth and the record of the attempt. */
static void judge_xattr(const struct seccomp_notif *req, bool whole,
			struct verdict *v)
{
	_cleanup_free_ char *name =
		read_string(req->pid, req->data.args[v->guard->arg]);

	v->plant = hb_guard_plant_xattr(name);
	if (!v->plant && !whole)
		v->what = V_CONTINUE;
}

/* openat2 never runs, whatever the policy says (as clone3, whose flags
 * are in memory too): it answers ENOSYS, so that the caller falls back
 * to openat, whose flags and mode the filter sees.  An ordinary openat2
 * is no violation and is not recorded.  One that would plant is
 * refused with EPERM and recorded, so that the attempt is not lost in a
 * fallback the caller may never make.  Its struct is in memory the
 * caller may change, but every answer here is a refusal (the kernel
 * never reads the struct): the contents decide only which one. */
static void judge_open_how(const struct seccomp_notif *req, struct verdict *v)
{
	uint64_t how[2]; /* flags, mode: the start of struct open_how */

	v->what = V_ENOSYS;
	/* Smaller than the first version of the struct: EINVAL, nothing
	 * made. */
	if (req->data.args[v->guard->arg2] >= 24 &&
	    read_memory(req->pid, req->data.args[v->guard->arg], how,
			sizeof(how)) == 0) {
		v->plant = hb_guard_plant_open_how(how[0], how[1]);
		v->has_mode = true;
		v->mode = how[1];
	}
}

/* prlimit64 of a pid: the pid and the new limits are registers, which
 * the kernel uses as they were notified, so this may let the call go on.
 * Only reading limits, or one's own process (by its pid or its thread's
 * id in the sandbox), goes on. */
static void judge_prlimit(const struct seccomp_notif *req, bool whole,
			  struct verdict *v)
{
	int pid = (int)req->data.args[v->guard->arg];
	struct caller c;

	if (whole)
		return;
	if (pid == 0 || req->data.args[v->guard->arg2] == 0 ||
	    (read_caller((pid_t)req->pid, &c) == 0 &&
	     (pid == c.ns_tgid || pid == c.ns_tid))) {
		v->what = V_CONTINUE;
		return;
	}
	v->what = V_FOREIGN;
	v->pid = pid;
}

/* The address space of the caller's process, as RLIMIT_AS counts it
 * (mm->total_vm, the first field of statm), in pages. */
static int read_vm_pages(pid_t tid, unsigned long long *ret)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/statm", tid);
	if (hb_read_text(path, buf, sizeof(buf)) < 0)
		return -errno;
	return sscanf(buf, "%llu", ret) == 1 ? 0 : -EIO;
}

/* A large mmap or mremap: would the kernel refuse it for RLIMIT_AS?  It
 * does when the process's pages and the pages the call adds pass the
 * limit (may_expand_vm()).  A call that replaces mappings (MAP_FIXED,
 * MREMAP_FIXED) adds less than it asks, which is not read here: it goes
 * on, and if the kernel refuses it, the caller sees ENOMEM and the run
 * ends as the script does.  So does a request no process can have (past
 * the 47-bit address space): bare, it fails alike.  A V_MEMORY judged
 * on registers and the count of the caller's pages only, which another
 * of its threads may lower (munmap) in between: the run ends for a
 * request that might just have fitted. */
static void judge_size(const struct hb_seccomp_notify *n,
		       const struct seccomp_notif *req, bool whole,
		       struct verdict *v)
{
	const unsigned long long *a = req->data.args;
	const unsigned long long page = 4096, most = 1ULL << 47;
	unsigned long long asked, pages;

	if (whole)
		return;
	v->what = V_CONTINUE;
	if (req->data.nr == SYS_mmap) {
		if (a[3] & MAP_FIXED)
			return;
		asked = a[1];
	} else {
		if (a[3] & MREMAP_FIXED)
			return;
		/* MREMAP_DONTUNMAP keeps the old pages too. */
		asked = a[2];
		if (!(a[3] & MREMAP_DONTUNMAP))
			asked = a[2] > a[1] ? a[2] - a[1] : 0;
	}
	if (!n->as_limit || asked == 0 || asked > most ||
	    read_vm_pages((pid_t)req->pid, &pages) < 0)
		return;
	if (pages + (asked + page - 1) / page <= n->as_limit / page)
		return;
	v->what = V_MEMORY;
	v->asked = asked;
	v->mapped = pages * page;
}

/* What to do with a notified call: a guarded one is judged on its
 * arguments first, whatever else denies it, so that a plant is recorded
 * as one also where the policy denies the call.  A call that goes on
 * runs with the arguments the kernel reads after the answer: registers
 * are those that were notified, memory is whatever the caller (another
 * of its threads, a shared mapping) has put there since.  So only a
 * refusal, or which refusal, may depend on memory; an answer that lets
 * a call go on depends on registers, or on nothing that safety rests on
 * (judge_xattr()). */
static void judge(const struct hb_seccomp_notify *n,
		  const struct seccomp_notif *req, struct verdict *v)
{
	int nr = req->data.nr;
	bool whole = nr < 0 || nr >= HB_SYSCALL_NR_END || n->whole[nr];
	const struct hb_guard *g = hb_guard_find(nr);

	memset(v, 0, sizeof(*v));
	v->what = V_DENY;
	v->guard = g;
	if (!g)
		return;
	switch (g->kind) {
	case HB_GUARD_XATTR:
		judge_xattr(req, whole, v);
		break;
	case HB_GUARD_OPEN_HOW:
		judge_open_how(req, v);
		break;
	case HB_GUARD_PRLIMIT:
		judge_prlimit(req, whole, v);
		break;
	case HB_GUARD_SIZE:
		judge_size(n, req, whole, v);
		return;
	default:
		/* Registers: the filter let through whatever plants
		 * nothing, unless the policy (or O_TRUNC) denies it. */
		v->plant = hb_guard_plant(g, req->data.args);
		v->has_mode = g->kind != HB_GUARD_WHITEOUT;
		v->mode = hb_guard_mode(g, req->data.args);
	}
	if (v->plant)
		v->what = V_PLANT;
}

/* on_violation = kill: end the caller's whole process, before it has an
 * answer.  SIGSYS, as the kernel's own kill rules end a process, when
 * that is sure to end it: one thread, which neither blocks, ignores nor
 * catches SIGSYS (none of which it can change while it waits here).
 * Otherwise SIGKILL: a blocked SIGSYS stays pending while the call goes
 * on, and another thread could start to catch it.  The process is held
 * by a pidfd of its thread group (req->pid is the calling thread, for
 * which none can be opened), and trusted only while the notification is
 * live: until then neither the caller nor its process can be gone and
 * their ids reused.  force: SIGKILL whatever.  Returns the signal sent,
 * or -errno. */
static int kill_caller(struct hb_seccomp_notify *n,
		       const struct seccomp_notif *req, bool force,
		       pid_t *ret_tgid)
{
	_cleanup_close_ int pidfd = -1;
	struct caller c;
	int sig, r = read_caller((pid_t)req->pid, &c);

	if (r < 0)
		return r;
	pidfd = (int)syscall(SYS_pidfd_open, c.tgid, 0);
	if (pidfd < 0 ||
	    ioctl(n->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return -errno;
	sig = c.threads == 1 && !c.sigsys_unsafe && !force ? SIGSYS : SIGKILL;
	r = hb_pidfd_signal(pidfd, sig);
	if (r < 0)
		return r;
	*ret_tgid = c.tgid;
	return sig;
}

/* What the verdict adds to the record: what a plant would have made,
 * with the mode in octal (or the attribute's name); whose limits. */
static void describe_verdict(json_object *d, const struct verdict *v)
{
	char mode[32];

	if (v->what == V_PLANT) {
		json_object_object_add(d, "reason",
				       json_object_new_string(v->plant));
		if (v->guard->kind == HB_GUARD_XATTR)
			json_object_object_add(
				d, "name",
				json_object_new_string("security.capability"));
	}
	if (v->what == V_PLANT && v->has_mode) {
		snprintf(mode, sizeof(mode), "0%llo", v->mode);
		json_object_object_add(d, "mode", json_object_new_string(mode));
	}
	if (v->what == V_FOREIGN) {
		json_object_object_add(
			d, "reason",
			json_object_new_string("another process's limits"));
		json_object_object_add(d, "pid", json_object_new_int(v->pid));
	}
}

/* "fd_path": where the caller's descriptor (argument 0) is open, as the
 * supervisor sees it: the sandbox's paths are the host's. */
static void describe_fd(json_object *d, const struct seccomp_notif *req)
{
	char path[64], target[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", req->pid,
		 (int)req->data.args[0]);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	json_object_object_add(d, "fd_path", json_object_new_string(target));
}

/* The call and its arguments; a denied ioctl's request by its name. */
static json_object *describe(const struct seccomp_notif *req, const char *name,
			     const char *request, const struct verdict *v)
{
	json_object *d = json_object_new_object();
	json_object *args = json_object_new_array();

	json_object_object_add(d, "syscall", json_object_new_string(name));
	json_object_object_add(d, "nr", json_object_new_int(req->data.nr));
	json_object_object_add(d, "host_pid",
			       json_object_new_int((int)req->pid));
	for (int i = 0; i < 6; i++) {
		char hex[24];
		snprintf(hex, sizeof(hex), "0x%llx",
			 (unsigned long long)req->data.args[i]);
		json_object_array_add(args, json_object_new_string(hex));
	}
	json_object_object_add(d, "args", args);
	if (request)
		json_object_object_add(d, "request",
				       json_object_new_string(request));
	describe_verdict(d, v);
	for (size_t i = 0; i < ARRAY_SIZE(path_args); i++) {
		if (strcmp(path_args[i].name, name) != 0)
			continue;
		for (int j = 0; j < 2 && path_args[i].path[j] >= 0; j++) {
			char key[16];
			char *s = read_string(
				req->pid, req->data.args[path_args[i].path[j]]);
			snprintf(key, sizeof(key), j ? "path2" : "path");
			json_object_object_add(
				d, key, s ? json_object_new_string(s) : NULL);
			free(s);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(fd_calls); i++)
		if (strcmp(fd_calls[i], name) == 0)
			describe_fd(d, req);
	return d;
}

/* The event's one line: the call, and why when it is not the policy. */
static void format_message(const struct seccomp_notif *req,
			   const struct verdict *v, const char *shown,
			   const char *request, unsigned long long count,
			   char *msg, size_t msg_size)
{
	char what[96];

	if (v->what == V_PLANT)
		snprintf(what, sizeof(what), ", which would make %s", v->plant);
	else if (v->what == V_FOREIGN)
		snprintf(what, sizeof(what),
			 " of pid %d, another process's limits", v->pid);
	else
		snprintf(what, sizeof(what), "%s%s", request ? " " : "",
			 request ? request : "");
	snprintf(msg, msg_size, "denied %s%s (pid %u)%s", shown, what, req->pid,
		 count == HB_SECCOMP_NOTIFY_DETAILED
			 ? "; further ones are counted"
			 : "");
}

static unsigned long long *count_of(struct hb_seccomp_notify *n, int nr)
{
	bool in_table = nr >= 0 && nr < HB_SYSCALL_NR_END;

	return &n->counts[in_table ? nr : HB_SECCOMP_NOTIFY_NR_OTHER];
}

/* What a denied call is recorded as: everything that must be read from
 * the caller (its path arguments) is read here, while it still waits for
 * the answer.  NULL once the call is only counted. */
static json_object *prepare(struct hb_seccomp_notify *n,
			    const struct seccomp_notif *req,
			    const struct verdict *v, char *msg, size_t msg_size)
{
	unsigned long long count = ++*count_of(n, req->data.nr);
	const char *request = NULL, *shown;
	char *name;
	json_object *d;

	n->total++;
	/* After the first few of a call, only count: a loop of a million
	 * denied calls must not flood the log, nor cost a name lookup
	 * each. */
	if (count > HB_SECCOMP_NOTIFY_DETAILED)
		return NULL;
	name = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);
	/* A guarded call this libseccomp cannot name (setxattrat) is named
	 * by the table. */
	shown = name ? name : v->guard ? v->guard->name : "?";
	if (strcmp(shown, "ioctl") == 0)
		request = hb_denied_ioctl_name(req->data.args[1]);
	d = describe(req, shown, request, v);
	/* The path was read from memory the caller may change: it counts
	 * only if the call is still the one that was notified. */
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		json_object_object_add(d, "stale", json_object_new_boolean(1));
	format_message(req, v, shown, request, count, msg, msg_size);
	free(name);
	return d;
}

/* Answer with an errno, or (err 0) let the call go on; what the caller
 * got. */
static const char *answer(struct hb_seccomp_notify *n,
			  const struct seccomp_notif *req, int err)
{
	struct seccomp_notif_resp *resp = n->resp;

	memset(resp, 0, n->resp_size);
	resp->id = req->id;
	resp->error = -err;
	if (!err)
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	/* ENOENT: the caller is gone, or a signal interrupted the call
	 * (which then starts again, as a new notification). */
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0)
		return "none (the call was interrupted or the caller is gone)";
	return err ? strerror(err) : "continued";
}

/* At the backstop the run ends, and the call never returns: no script
 * goes on with a MemoryError that the bound on memory_mb would not have
 * let it see.  The caller's process is killed first, while it waits (the
 * kernel ends the rest of the sandbox only once its init is gone, which
 * is later); the supervisor then kills the sandbox, as for any limit,
 * told so by memory_killed.  ENOMEM, what the kernel would have said,
 * only if the caller could not be killed.  main records the event,
 * memory_limit, from what the events sink holds. */
static void end_at_backstop(struct hb_seccomp_notify *n,
			    const struct seccomp_notif *req,
			    const struct verdict *v)
{
	pid_t tgid;

	if (!n->events->memory_killed) {
		n->events->memory_killed = true;
		n->events->backstop_asked = v->asked;
		n->events->backstop_mapped = v->mapped;
	}
	if (kill_caller(n, req, true, &tgid) < 0)
		answer(n, req, ENOMEM);
}

bool hb_seccomp_notify_handle(struct hb_seccomp_notify *n)
{
	struct seccomp_notif *req = n->req;
	struct verdict v;
	const char *answered;
	pid_t tgid = 0;
	int sig = 0;
	json_object *d;
	char msg[200];

	memset(req, 0, n->req_size);
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
		return false; /* the caller died, or nothing was there */
	judge(n, req, &v);
	if (v.what == V_MEMORY) {
		end_at_backstop(n, req, &v);
		return true;
	}
	/* It fits: the supervisor watches it being filled. */
	if (v.what == V_CONTINUE && v.guard->kind == HB_GUARD_SIZE)
		n->events->fast_until_ms = hb_now_ms() + HB_SAMPLE_HURRY_MS;
	/* Not a violation: neither recorded nor counted, nor killed. */
	if (v.what == V_CONTINUE || v.what == V_ENOSYS) {
		answer(n, req, v.what == V_ENOSYS ? ENOSYS : 0);
		return false;
	}
	/* Its paths are read while it waits. */
	d = prepare(n, req, &v, msg, sizeof(msg));
	if (n->kill)
		sig = kill_caller(n, req, false, &tgid);
	/* A caller that was sent a signal gets no answer, so that the call
	 * never returns: the signal ends the wait (SIGSYS interrupts it,
	 * SIGKILL is fatal) and then the process.  Otherwise the answer goes
	 * first: the caller waits for it, and recording (an append and its
	 * fsyncs) may take a while.  A plant and another process's limits
	 * are refused by hivebox, not the policy: EPERM, as the kernel
	 * answers a missing privilege. */
	answered = sig == SIGKILL ? "SIGKILL"
		   : sig == SIGSYS
			   ? "SIGSYS"
			   : answer(n, req,
				    v.what == V_DENY ? n->deny_errno : EPERM);
	if (!d) {
		n->events->violations++;
		return false;
	}
	json_object_object_add(d, "answer", json_object_new_string(answered));
	if (tgid)
		json_object_object_add(d, "host_tgid",
				       json_object_new_int(tgid));
	if (sig < 0)
		json_object_object_add(d, "kill_failed",
				       json_object_new_string(strerror(-sig)));
	hb_events_event(n->events,
			v.what == V_PLANT ? "plant_denied" : "syscall_denied",
			HB_EV_VIOLATION, msg, d);
	return false;
}

json_object *hb_seccomp_notify_counts(const struct hb_seccomp_notify *n)
{
	json_object *o = json_object_new_object();
	unsigned long long unnamed = n->counts[HB_SECCOMP_NOTIFY_NR_OTHER];

	for (int nr = 0; nr < HB_SYSCALL_NR_END; nr++) {
		char *name;
		if (!n->counts[nr])
			continue;
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		/* A guarded call this libseccomp cannot name, by the
		 * table's name, as its events have it. */
		if (name || hb_guard_find(nr))
			json_object_object_add(
				o, name ? name : hb_guard_find(nr)->name,
				json_object_new_uint64(n->counts[nr]));
		else
			unnamed += n->counts[nr];
		free(name);
	}
	if (unnamed)
		json_object_object_add(o, "?", json_object_new_uint64(unnamed));
	return o;
}

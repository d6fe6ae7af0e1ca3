/* SPDX-License-Identifier: MIT */
/* syscalls.c and syscall_groups.c: the groups, the calls no policy may
 * allow, blocked operations, errno names, and the exported filter, first
 * as data and then loaded by the kernel in a child (no root needed: the
 * child sets no_new_privs).  The child has no listener, so a call the
 * filter hands to the supervisor (SECCOMP_RET_USER_NOTIF) fails with
 * ENOSYS there. */
#include "helpers.h"
#include "seccomp_filter.h"
#include "seccomp_names.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/keyctl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

/* The allow-list lets exactly one execve through: the one whose path is at
 * this address. */
static char exec_path[] = "/bin/sh";

/* ------------------------------------------------------------- as data */

/* Names in the tables that this libseccomp (2.5.4) does not know on any
 * architecture: newer calls, skipped when a filter is built. */
static const char *const newer_than_libseccomp[] = {"setxattrat",
						    "removexattrat"};

/* A call some architecture has: catches a misspelt name, which building
 * a filter would skip without a word. */
static bool known_somewhere(const char *name)
{
	static const uint32_t arches[] = {
		SCMP_ARCH_X86_64, SCMP_ARCH_X86,   SCMP_ARCH_AARCH64,
		SCMP_ARCH_ARM,	  SCMP_ARCH_PPC64, SCMP_ARCH_S390X,
	};

	for (size_t i = 0; i < ARRAY_SIZE(arches); i++)
		if (seccomp_syscall_resolve_name_arch(arches[i], name) >= 0)
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(newer_than_libseccomp); i++)
		if (strcmp(name, newer_than_libseccomp[i]) == 0)
			return true;
	return false;
}

/* How many calls x86_64 has among those list names, groups expanded;
 * each is marked in seen.  path holds the groups on the way down, to find
 * a cycle; the library expands at most four levels of groups below a
 * policy's list. */
static int count_calls(const char *list, const char *owner, const char **path,
		       int depth, bool *seen)
{
	char buf[2048];
	char *save = NULL;
	int n = 0;

	cr_assert_lt(strlen(list), sizeof(buf), "%s: list too long", owner);
	cr_assert_leq(depth, 4, "%s: groups nested too deep", owner);
	strcpy(buf, list);
	for (char *t = strtok_r(buf, " ", &save); t;
	     t = strtok_r(NULL, " ", &save)) {
		const struct hb_syscall_group *g;
		if (t[0] != '@') {
			int nr = seccomp_syscall_resolve_name_arch(
				SCMP_ARCH_X86_64, t);
			cr_assert(known_somewhere(t), "%s: no such call '%s'",
				  owner, t);
			cr_assert_lt(nr, HB_SYSCALL_NR_END);
			if (nr >= 0)
				seen[nr] = true;
			n += nr >= 0;
			continue;
		}
		g = hb_syscall_group_find(t);
		cr_assert_not_null(g, "%s names unknown group %s", owner, t);
		for (int i = 0; i < depth; i++)
			cr_assert_str_neq(path[i], t, "cycle: %s in %s", t,
					  owner);
		path[depth] = t;
		n += count_calls(g->syscalls, t, path, depth + 1, seen);
	}
	return n;
}

/* hivebox-policy(5): denied whatever the policy says. */
static const char *const always_denied_groups[] = {
	"@mount", "@module",	    "@reboot",	 "@swap",	"@keyring",
	"@bpf",	  "@io_uring",	    "@raw-io",	 "@debug",	"@namespaces",
	"@clock", "@cpu-emulation", "@obsolete", "@privileged", "@seccomp",
};

static bool in_always_denied(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(always_denied_groups); i++)
		if (strcmp(name, always_denied_groups[i]) == 0)
			return true;
	return false;
}

Test(syscall_groups, every_group_expands_to_known_calls)
{
	const char *path[8];
	bool seen[HB_SYSCALL_NR_END];

	cr_assert_gt(hb_n_syscall_groups, ARRAY_SIZE(always_denied_groups));
	for (size_t i = 0; i < hb_n_syscall_groups; i++) {
		const struct hb_syscall_group *g = &hb_syscall_groups[i];
		cr_assert_eq(g->name[0], '@', "group %s", g->name);
		cr_assert_gt(strlen(g->doc), 0, "%s has no doc", g->name);
		cr_assert_eq(hb_syscall_group_find(g->name), g,
			     "%s is listed twice", g->name);
		path[0] = g->name;
		cr_assert_geq(count_calls(g->syscalls, g->name, path, 1, seen),
			      1, "%s has no call on x86_64", g->name);
	}
}

/* What the dynamic loader, CPython's start and its threads call. */
Test(syscall_groups, python_holds_what_cpython_needs)
{
	static const char *const needed[] = {
		"read",	      "write",	      "openat",	    "close",
		"newfstatat", "fstat",	      "lseek",	    "getdents64",
		"mmap",	      "munmap",	      "mprotect",   "brk",
		"execve",     "clone",	      "wait4",	    "futex",
		"getrandom",  "rseq",	      "arch_prctl", "set_tid_address",
		"prlimit64",  "rt_sigaction", "ioctl",	    "readlink",
		"getcwd",     "exit_group",   "sysinfo",    "pipe2",
	};
	const char *path[8] = {"@python"};
	bool seen[HB_SYSCALL_NR_END] = {false};
	const struct hb_syscall_group *g = hb_syscall_group_find("@python");

	cr_assert_not_null(g);
	count_calls(g->syscalls, "@python", path, 1, seen);
	for (size_t i = 0; i < ARRAY_SIZE(needed); i++) {
		int nr = seccomp_syscall_resolve_name(needed[i]);
		cr_assert(nr >= 0 && seen[nr], "@python lacks %s", needed[i]);
	}
}

Test(syscall_groups, name_known)
{
	static const char *const known[] = {"read",	   "openat",  "clone3",
					    "ioctl",	   "@python", "@mount",
					    "@files-extra"};
	static const char *const unknown[] = {
		"frobnicate", "@nosuch", "python", "@", "", "read ", "READ",
	};

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		cr_assert(hb_syscall_name_known(known[i]), "%s", known[i]);
	for (size_t i = 0; i < ARRAY_SIZE(unknown); i++)
		cr_assert_not(hb_syscall_name_known(unknown[i]), "'%s'",
			      unknown[i]);
}

Test(syscall_groups, always_denied)
{
	static const char *const denied[] = {
		"@mount",  "mount",	  "ptrace",  "chroot",
		"unshare", "setns",	  "bpf",     "io_uring_setup",
		"keyctl",  "init_module", "seccomp",
	};
	static const char *const allowed[] = {
		"@python", "read",	  "clone", "execve",
		"ioctl",   "personality", "prctl", "@nosuch"};

	for (size_t i = 0; i < ARRAY_SIZE(always_denied_groups); i++)
		cr_assert_not_null(
			hb_syscall_group_find(always_denied_groups[i]), "%s",
			always_denied_groups[i]);
	for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
		cr_assert(hb_syscall_always_denied(denied[i]), "%s", denied[i]);
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		cr_assert_not(hb_syscall_always_denied(allowed[i]), "%s",
			      allowed[i]);
	/* Every group is on exactly one side. */
	for (size_t i = 0; i < hb_n_syscall_groups; i++) {
		const char *name = hb_syscall_groups[i].name;
		cr_assert_eq(hb_syscall_always_denied(name),
			     in_always_denied(name), "%s", name);
	}
}

Test(syscall_groups, operations)
{
	static const char *const documented[] = {
		"delete", "chmod",    "chown", "rename",
		"link",	  "truncate", "mknod", "xattr",
	};
	const char *path[8];
	bool seen[HB_SYSCALL_NR_END];

	cr_assert_eq(hb_n_operations, ARRAY_SIZE(documented));
	for (size_t i = 0; i < ARRAY_SIZE(documented); i++) {
		const struct hb_operation *op =
			hb_operation_find(documented[i]);
		cr_assert_not_null(op, "%s", documented[i]);
		cr_assert_str_eq(op->name, documented[i]);
		cr_assert_gt(strlen(op->doc), 0, "%s", op->name);
		cr_assert_geq(
			count_calls(op->syscalls, op->name, path, 0, seen), 1,
			"%s blocks no call on x86_64", op->name);
	}
	cr_assert_null(hb_operation_find("remove"));
	cr_assert_null(hb_operation_find("Delete"));
	cr_assert_null(hb_operation_find(""));
	cr_assert_not_null(
		strstr(hb_operation_find("delete")->syscalls, "unlinkat"));
	cr_assert_not_null(
		strstr(hb_operation_find("truncate")->syscalls, "ftruncate"));
}

Test(syscall_groups, errno_names)
{
	static const struct {
		const char *name;
		int value;
	} documented[] = {
		{"EPERM", EPERM},   {"EACCES", EACCES}, {"ENOSYS", ENOSYS},
		{"EINVAL", EINVAL}, {"EROFS", EROFS},	{"ENOTSUP", ENOTSUP},
		{"EIO", EIO},	    {"ENOENT", ENOENT},
	};

	for (size_t i = 0; i < ARRAY_SIZE(documented); i++) {
		int e = hb_errno_from_name(documented[i].name);
		cr_assert_eq(e, documented[i].value, "%s", documented[i].name);
		cr_assert_str_eq(hb_errno_name(e), documented[i].name);
	}
	cr_assert_eq(hb_errno_from_name("EWHATEVER"), -1);
	cr_assert_eq(hb_errno_from_name(""), -1);
	cr_assert_eq(hb_errno_from_name("EPERM "), -1);
	cr_assert_str_eq(hb_errno_name(EXDEV), "?");
	cr_assert_str_eq(hb_errno_name(0), "?");
}

/* The filter of text, exec_path being the interpreter's path. */
static void filter_of(const char *text, struct hb_filter *f)
{
	filter_of_text(text, (uintptr_t)exec_path, f);
}

static bool same_program(const struct hb_filter *a, const struct hb_filter *b)
{
	return a->len == b->len &&
	       memcmp(a->prog, b->prog, a->len * sizeof(*a->prog)) == 0;
}

#define ALLOW_LIST "[syscalls]\ndefault = deny\nallow = @python\n"

Test(filter, default_allow)
{
	struct hb_filter f;

	filter_of("", &f);
	cr_assert_not(f.default_deny);
	cr_assert_not(f.kill);
	cr_assert_eq(f.deny_errno, EPERM);
	hb_filter_free(&f);
	cr_assert_null(f.prog);
	cr_assert_eq(f.len, 0);
}

Test(filter, default_deny_python)
{
	struct hb_filter f, g;

	filter_of(ALLOW_LIST, &f);
	filter_of("", &g);
	cr_assert(f.default_deny);
	cr_assert_not(f.kill);
	cr_assert_eq(f.deny_errno, EPERM);
	cr_assert_not(same_program(&f, &g));
	hb_filter_free(&f);
	hb_filter_free(&g);
}

/* The interpreter's path is compared by address: another address, another
 * program. */
Test(filter, exec_arg0_is_in_the_program)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	struct hb_filter f, g;
	char other[sizeof(exec_path)];

	cr_assert_eq(parse_text(&p, ALLOW_LIST, &d), 0, "%s", d.msg);
	cr_assert_eq(hb_filter_build(&p, (uintptr_t)exec_path, false, &f, &d),
		     0);
	cr_assert_eq(hb_filter_build(&p, (uintptr_t)other, false, &g, &d), 0);
	hb_policy_free(&p);
	cr_assert_not(same_program(&f, &g));
	hb_filter_free(&f);
	hb_filter_free(&g);
}

Test(filter, blocked_operations)
{
	struct hb_filter deny_list, allow_list, plain_deny, plain_allow;

	filter_of("[filesystem]\nblocked_operations = truncate, delete\n",
		  &deny_list);
	filter_of("[filesystem]\nblocked_operations = truncate\n" ALLOW_LIST,
		  &allow_list);
	filter_of("", &plain_deny);
	filter_of(ALLOW_LIST, &plain_allow);
	cr_assert_not(deny_list.default_deny);
	cr_assert(allow_list.default_deny);
	cr_assert_not(same_program(&deny_list, &plain_deny));
	cr_assert_not(same_program(&allow_list, &plain_allow));
	hb_filter_free(&deny_list);
	hb_filter_free(&allow_list);
	hb_filter_free(&plain_deny);
	hb_filter_free(&plain_allow);
}

/* The supervisor kills or answers; the program is the same. */
Test(filter, on_violation_kill)
{
	struct hb_filter f, g;

	filter_of("[syscalls]\non_violation = kill\n", &f);
	filter_of("", &g);
	cr_assert(f.kill);
	cr_assert_not(f.default_deny);
	cr_assert(same_program(&f, &g));
	hb_filter_free(&f);
	hb_filter_free(&g);
	filter_of("[syscalls]\non_violation = kill\n" ALLOW_LIST, &f);
	cr_assert(f.kill);
	cr_assert(f.default_deny);
	hb_filter_free(&f);
}

Test(filter, errno_eacces)
{
	struct hb_filter f;

	filter_of("[syscalls]\nerrno = EACCES\n", &f);
	cr_assert_eq(f.deny_errno, EACCES);
	cr_assert_not(f.kill);
	hb_filter_free(&f);
	filter_of(ALLOW_LIST "errno = ENOENT\n", &f);
	cr_assert_eq(f.deny_errno, ENOENT);
	cr_assert(f.default_deny);
	hb_filter_free(&f);
}

/* Every group builds, as a deny-list, and (unless it is denied whatever
 * the policy says) as an allow-list. */
Test(filter, every_group_builds)
{
	char text[256];
	struct hb_filter f;

	for (size_t i = 0; i < hb_n_syscall_groups; i++) {
		const char *name = hb_syscall_groups[i].name;
		snprintf(text, sizeof(text), "[syscalls]\ndeny = %s\n", name);
		filter_of(text, &f);
		hb_filter_free(&f);
		if (in_always_denied(name))
			continue;
		/* With what hivebox itself needs before execve. */
		snprintf(text, sizeof(text),
			 "[syscalls]\ndefault = deny\n"
			 "allow = %s, sendmsg, close, execve, exit_group\n",
			 name);
		filter_of(text, &f);
		hb_filter_free(&f);
	}
}

/* An allow-list without what hivebox needs between loading the filter
 * and execve would hang on its own listener: refused at load, with the
 * line of allow. */
Test(filter, allow_list_must_keep_what_hivebox_needs)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	struct hb_filter f;
	int r = parse_text(&p, "[syscalls]\ndefault = deny\nallow = @time\n",
			   &d);

	cr_assert_eq(r, 0, "%s", d.msg);
	r = hb_filter_build(&p, 0, false, &f, &d);
	hb_policy_free(&p);
	cr_assert_lt(r, 0);
	cr_assert_eq(d.line, 3);
	cr_assert_not_null(strstr(d.msg, "allow must include sendmsg, close, "
					 "execve and exit_group"),
			   "%s", d.msg);
}

/* What parsing refuses, built by hand: refused with a message and
 * nothing to free. */
Test(filter, unknown_operation_refused)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	struct hb_filter f;
	int r;

	hb_policy_init(&p);
	cr_assert_eq(hb_strv_push(&p.blocked_operations, "frobnicate"), 0);
	r = hb_filter_build(&p, 0, false, &f, &d);
	hb_policy_free(&p);
	cr_assert_lt(r, 0);
	cr_assert_null(f.prog);
	cr_assert_not_null(strstr(d.msg, "cannot build the system-call filter"),
			   "%s", d.msg);
}

/* ------------------------------------------------- loaded by the kernel */

static int report_fd = -1;	  /* the child's end of the report pipe */
static int denied_errno = ENOSYS; /* what a denied call fails with */
static int io_pipe[2] = {-1, -1}; /* a descriptor to ioctl on */
static const char *trunc_path;	  /* a file holding "keep\n" */

static const char *ename(int e)
{
	const char *s = e ? strerrorname_np(e) : "no error";
	return s ? s : "?";
}

/* In the filtered child, a failure goes up the pipe and ends the child:
 * Criterion's assertions would not reach the runner from here. */
static _Noreturn _printf_(1, 2) void child_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdprintf(report_fd, fmt, ap);
	va_end(ap);
	_exit(1);
}

static void expect_ok(long r, const char *what)
{
	if (r < 0)
		child_fail("%s failed: %s", what, ename(errno));
}

static void expect_errno(long r, int e, const char *what)
{
	int got = errno;

	if (r != -1 || got != e)
		child_fail("%s returned %ld (%s), expected %s", what, r,
			   r == -1 ? ename(got) : "no error", ename(e));
}

static void expect_denied(long r, const char *what)
{
	expect_errno(r, denied_errno, what);
}

/* The calls check_denied() and check_clone3() make. */
static const int canary_calls[] = {
	SYS_mount,  SYS_unshare, SYS_setns,	  SYS_chroot,
	SYS_ptrace, SYS_keyctl,	 SYS_personality, SYS_ioctl,
	SYS_clone,  SYS_clone3,	 SYS_prctl,
};

/* Loaded first, the canary answers EXDEV to those calls.  Stacked filters
 * give the strongest action, ERRNO before USER_NOTIF, and the newest
 * filter's errno between two ERRNO answers: under it, a call hivebox hands
 * to the supervisor fails with EXDEV, and only an ERRNO of hivebox's own
 * shows. */
static struct sock_filter canary[ARRAY_SIZE(canary_calls) + 3];

static unsigned short canary_build(void)
{
	const size_t n = ARRAY_SIZE(canary_calls);

	canary[0] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	/* Instruction i + 1 jumps to the last one, n + 2, when it matches. */
	for (size_t i = 0; i < n; i++)
		canary[i + 1] = (struct sock_filter)BPF_JUMP(
			BPF_JMP | BPF_JEQ | BPF_K, (unsigned)canary_calls[i],
			(unsigned char)(n - i), 0);
	canary[n + 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						     SECCOMP_RET_ALLOW);
	canary[n + 2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						     SECCOMP_RET_ERRNO | EXDEV);
	return (unsigned short)(n + 3);
}

static int load(const struct sock_filter *insns, unsigned short len)
{
	struct sock_fprog prog = {.len = len,
				  .filter = (struct sock_filter *)insns};

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void enter_filter(const struct hb_filter *f, bool with_canary)
{
	struct rlimit no_core = {0, 0};

	/* SIGSYS would leave a core file in the working directory. */
	expect_ok(setrlimit(RLIMIT_CORE, &no_core), "setrlimit");
	expect_ok(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs");
	if (with_canary)
		expect_ok(load(canary, canary_build()), "load the canary");
	expect_ok(load(f->prog, f->len), "load the filter");
}

struct child {
	int status;
	char msg[1024];
};

/* Fork; the child loads f (after the canary if asked) and runs body, which
 * returns only if every check passed. */
static void run_child(const struct hb_filter *f, bool with_canary,
		      void (*body)(void), struct child *ret)
{
	size_t len = 0;
	ssize_t n;
	int p[2];
	pid_t pid;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		report_fd = p[1];
		enter_filter(f, with_canary);
		body();
		_exit(0);
	}
	close(p[1]);
	while (len < sizeof(ret->msg) - 1 &&
	       (n = read(p[0], ret->msg + len, sizeof(ret->msg) - 1 - len)) > 0)
		len += (size_t)n;
	ret->msg[len] = '\0';
	close(p[0]);
	cr_assert_eq(waitpid(pid, &ret->status, 0), pid);
}

static void expect_exit(const struct child *c, int code)
{
	cr_assert(WIFEXITED(c->status) && WEXITSTATUS(c->status) == code,
		  "child: %s (wait status 0x%x, expected exit %d)",
		  c->msg[0] ? c->msg : "no report", c->status, code);
}

/* Run body under the filter of text. */
static void run_policy(const char *text, bool with_canary, void (*body)(void),
		       struct child *ret)
{
	struct hb_filter f;

	filter_of(text, &f);
	run_child(&f, with_canary, body, ret);
	hb_filter_free(&f);
}

static void io_pipe_open(void)
{
	cr_assert_eq(pipe2(io_pipe, O_CLOEXEC), 0);
}

static void io_pipe_close(void)
{
	close(io_pipe[0]);
	close(io_pipe[1]);
}

/* cppcheck-suppress unknownMacro */
TestSuite(seccomp, .init = io_pipe_open, .fini = io_pipe_close, .timeout = 30);

static void *thread_main(void *arg)
{
	*(int *)arg = 42;
	return arg;
}

/* glibc tries clone3 first and falls back to clone on ENOSYS. */
static void check_thread(void)
{
	int value = 0;
	void *out = NULL;
	pthread_t t;
	int r = pthread_create(&t, NULL, thread_main, &value);

	if (r != 0)
		child_fail("pthread_create: %s", ename(r));
	r = pthread_join(t, &out);
	if (r != 0 || out != &value || value != 42)
		child_fail("pthread_join: %s, value %d", ename(r), value);
}

/* Fork; the grandchild runs grandchild() (it must not return) and must
 * exit with code. */
static void check_fork(void (*grandchild)(void), int code, const char *what)
{
	int status;
	pid_t pid = fork();

	expect_ok(pid, what);
	if (pid == 0) {
		grandchild();
		_exit(99);
	}
	if (waitpid(pid, &status, 0) != pid)
		child_fail("%s: waitpid: %s", what, ename(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != code)
		child_fail("%s: wait status 0x%x, expected exit %d", what,
			   status, code);
}

static void exit_42(void)
{
	_exit(42);
}

/* sh -c 'exit N': an exit status nothing else here gives. */
static void exec_sh(const char *path, const char *script)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	char *envp[] = {NULL};

	execve(path, argv, envp);
}

/* The same path at another address. */
static void exec_copy_of_sh(void)
{
	char copy[sizeof(exec_path)];

	memcpy(copy, exec_path, sizeof(copy));
	exec_sh(copy, "exit 7");
}

/* Every request one bit away from a denied one is allowed, unless it is
 * denied too: the patterns of an allow-list cover exactly the rest.  On a
 * pipe, what gets through is refused (ENOTTY) or harmless with a zeroed
 * argument (FIOCLEX, FIONBIO, FIOASYNC). */
static void check_ioctl_neighbours(void)
{
	char zero[64] = {0};

	for (size_t i = 0; i < hb_n_denied_ioctls; i++) {
		for (int bit = 0; bit < 32; bit++) {
			uint32_t v = hb_denied_ioctls[i].request ^ (1u << bit);
			if (hb_denied_ioctl_name(v))
				continue;
			if (syscall(SYS_ioctl, io_pipe[1], (unsigned long)v,
				    zero) == -1 &&
			    errno == denied_errno)
				child_fail("ioctl 0x%x (%s, bit %d flipped) "
					   "denied",
					   v, hb_denied_ioctls[i].name, bit);
		}
	}
}

static void check_allowed(void)
{
	struct winsize ws = {0};
	char buf[64];
	int fd, n = -1;

	expect_ok(syscall(SYS_getpid), "getpid");
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	expect_ok(fd, "open /dev/null");
	if (read(fd, buf, sizeof(buf)) != 0)
		child_fail("read /dev/null: %s", ename(errno));
	expect_ok(close(fd), "close");
	expect_ok(syscall(SYS_ioctl, io_pipe[0], (1UL << 32) | FIONREAD, &n),
		  "ioctl (1 << 32) | FIONREAD");
	if (n != 0)
		child_fail("ioctl FIONREAD: %d bytes in an empty pipe", n);
	/* What isatty() and Python ask of a terminal: allowed, and refused
	 * by the pipe. */
	expect_errno(ioctl(io_pipe[0], TIOCGWINSZ, &ws), ENOTTY,
		     "ioctl TIOCGWINSZ");
	expect_errno(ioctl(io_pipe[0], TCGETS, buf), ENOTTY, "ioctl TCGETS");
	expect_errno(syscall(SYS_ioctl, io_pipe[0], (1UL << 32) | TCGETS, buf),
		     ENOTTY, "ioctl (1 << 32) | TCGETS");
	expect_errno(ioctl(io_pipe[0], TIOCGPGRP, &n), ENOTTY,
		     "ioctl TIOCGPGRP");
	check_ioctl_neighbours();
	check_fork(exit_42, 42, "fork");
	check_thread();
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != SECCOMP_MODE_FILTER)
		child_fail("prctl(PR_GET_SECCOMP): %s", ename(errno));
	/* Not in check_denied(): the canary must let seccomp() load the
	 * filter. */
	expect_denied(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, NULL),
		      "seccomp(SECCOMP_SET_MODE_FILTER)");
	expect_denied(syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, NULL),
		      "seccomp(SECCOMP_GET_NOTIF_SIZES)");
}

/* Raw clone with one namespace flag; should it work, the new process
 * leaves at once. */
static void check_clone_flag(unsigned long flag, const char *what)
{
	long r = syscall(SYS_clone, flag | SIGCHLD, 0, 0, 0, 0);

	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	expect_denied(r, what);
}

static void check_denied(void)
{
	char zero[64] = {0};
	char c = 'x';

	expect_denied(mount("none", "/nonexistent", "tmpfs", 0, NULL), "mount");
	expect_denied(unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)");
	expect_denied(syscall(SYS_setns, -1, 0), "setns");
	expect_denied(chroot("/nonexistent"), "chroot");
	expect_denied(syscall(SYS_ptrace, PTRACE_ATTACH, 0x3fffffff, 0, 0),
		      "ptrace");
	expect_denied(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
			      KEY_SPEC_SESSION_KEYRING, 0),
		      "keyctl");
	/* Every request that changes a terminal, also with bits above the
	 * 32 the kernel reads; on a pipe, it would be ENOTTY. */
	for (size_t i = 0; i < hb_n_denied_ioctls; i++) {
		unsigned long req = hb_denied_ioctls[i].request;
		expect_denied(syscall(SYS_ioctl, io_pipe[1], req, zero),
			      hb_denied_ioctls[i].name);
		expect_denied(
			syscall(SYS_ioctl, io_pipe[1], (1UL << 32) | req, zero),
			hb_denied_ioctls[i].name);
	}
	expect_denied(syscall(SYS_ioctl, io_pipe[1], TIOCSTI, &c),
		      "ioctl TIOCSTI");
	expect_denied(syscall(SYS_personality, 0x0008), "personality(8)");
	expect_denied(syscall(SYS_personality, 0xfffffffeUL),
		      "personality(0xfffffffe)");
	check_clone_flag(CLONE_NEWUSER, "clone(CLONE_NEWUSER)");
	check_clone_flag(CLONE_NEWNS, "clone(CLONE_NEWNS)");
	check_clone_flag(CLONE_NEWPID, "clone(CLONE_NEWPID)");
	check_clone_flag(CLONE_NEWNET, "clone(CLONE_NEWNET)");
	check_clone_flag(CLONE_NEWIPC, "clone(CLONE_NEWIPC)");
	check_clone_flag(CLONE_NEWUTS, "clone(CLONE_NEWUTS)");
	check_clone_flag(CLONE_NEWCGROUP, "clone(CLONE_NEWCGROUP)");
	check_clone_flag(CLONE_NEWTIME, "clone(CLONE_NEWTIME)");
	/* A filter of its own, with no program: EFAULT should the call go
	 * through. */
	expect_denied(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL, 0, 0),
		      "prctl(PR_SET_SECCOMP)");
	expect_denied(syscall(SYS_prctl, (1UL << 32) | PR_SET_SECCOMP,
			      SECCOMP_MODE_FILTER, NULL, 0, 0),
		      "prctl((1 << 32) | PR_SET_SECCOMP)");
	/* Sharing the signal handlers outside a thread.  Without CLONE_VM
	 * the kernel would refuse it with EINVAL: nothing starts should the
	 * filter let it through. */
	expect_denied(syscall(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0),
		      "clone(CLONE_SIGHAND)");
}

/* Without the filter, a size of 0 is EINVAL. */
static void check_clone3(void)
{
	expect_errno(syscall(SYS_clone3, NULL, 0), ENOSYS, "clone3");
}

/* statmount (Linux 6.8): with a NULL request, EFAULT; denied by a
 * deny-list when this libseccomp does not know it. */
#define NR_STATMOUNT 457
static bool statmount_unknown;

/* socketpair has socket's family rule: an AF_UNIX pair, but no AF_VSOCK
 * socket (ENOTSUP should it be created). */
static void check_socketpair(void)
{
	int sv[2];

	expect_ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
		  "socketpair(AF_UNIX)");
	close(sv[0]);
	close(sv[1]);
	expect_denied(socketpair(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
		      "socketpair(AF_VSOCK)");
}

static void deny_list_body(void)
{
	struct utsname u;

	check_allowed();
	expect_ok(syscall(SYS_personality, 0xffffffffUL), "personality query");
	expect_denied(uname(&u), "uname (deny = uname)");
	check_socketpair();
	check_denied();
	check_clone3();
	if (statmount_unknown)
		expect_denied(syscall(NR_STATMOUNT, NULL, NULL, 0, 0),
			      "statmount (newer than libseccomp)");
	/* A deny-list does not look at execve. */
	check_fork(exec_copy_of_sh, 7, "exec of a copy of the path");
}

Test(seccomp, deny_list)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64,
						      NR_STATMOUNT);
	struct child c;

	statmount_unknown = !name;
	free(name);
	run_policy("[syscalls]\ndeny = uname\n", false, deny_list_body, &c);
	expect_exit(&c, 0);
}

static void allow_list_body(void)
{
	char *argv[] = {"true", NULL};
	char *envp[] = {NULL};
	char copy[sizeof(exec_path)];

	check_allowed();
	expect_ok(syscall(SYS_personality, 0xffffffffUL), "personality query");
	expect_ok(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0),
		  "socket(AF_UNIX)");
	expect_denied(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
		      "socket(AF_INET)");
	check_socketpair();
	expect_denied(syscall(SYS_setuid, getuid()), "setuid (not listed)");
	check_denied();
	check_clone3();
	expect_denied(execve("/bin/true", argv, envp), "execve /bin/true");
	memcpy(copy, exec_path, sizeof(copy));
	exec_sh(copy, "exit 3");
	expect_denied(-1, "execve of a copy of the interpreter's path");
	/* The one execve the filter lets through; sh exits 7. */
	exec_sh(exec_path, "exit 7");
	child_fail("execve of exec_arg0: %s", ename(errno));
}

Test(seccomp, allow_list)
{
	struct child c;

	run_policy(ALLOW_LIST, false, allow_list_body, &c);
	expect_exit(&c, 7);
}

/* hivebox shell: the requests a line editor makes on the sandbox's own
 * pty go through (a pipe refuses them, ENOTTY); the others stay denied. */
static void own_terminal_body(void)
{
	char zero[64] = {0};

	for (size_t i = 0; i < hb_n_denied_ioctls; i++) {
		long r = syscall(SYS_ioctl, io_pipe[1],
				 (unsigned long)hb_denied_ioctls[i].request,
				 zero);
		if (hb_denied_ioctls[i].own_pty)
			expect_errno(r, ENOTTY, hb_denied_ioctls[i].name);
		else
			expect_denied(r, hb_denied_ioctls[i].name);
	}
}

static void run_own_terminal(const char *text)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	struct hb_filter f;
	struct child c;
	int r = parse_text(&p, text, &d);

	if (r == 0)
		r = hb_policy_validate(&p, &d);
	if (r == 0)
		r = hb_filter_build(&p, (uintptr_t)exec_path, true, &f, &d);
	hb_policy_free(&p);
	cr_assert_eq(r, 0, "%s", d.msg);
	run_child(&f, false, own_terminal_body, &c);
	hb_filter_free(&f);
	expect_exit(&c, 0);
}

Test(seccomp, own_terminal_deny_list)
{
	run_own_terminal("[syscalls]\ndeny = uname\n");
}

Test(seccomp, own_terminal_allow_list)
{
	run_own_terminal(ALLOW_LIST);
}

/* Under the canary, the denied calls fail with its EXDEV (they are
 * notifications, which the supervisor logs) and clone3 with hivebox's
 * own ENOSYS. */
static void canary_body(void)
{
	denied_errno = EXDEV;
	check_denied();
	check_clone3();
}

Test(seccomp, denials_are_notifications_but_clone3)
{
	struct child c;

	run_policy("", true, canary_body, &c);
	expect_exit(&c, 0);
	run_policy(ALLOW_LIST, true, canary_body, &c);
	expect_exit(&c, 0);
}

static void truncate_body(void)
{
	struct open_how how = {.flags = O_WRONLY | O_TRUNC};
	int fd;

	expect_denied(openat(AT_FDCWD, trunc_path, O_WRONLY | O_TRUNC),
		      "openat O_TRUNC");
	expect_denied(openat(AT_FDCWD, trunc_path, O_RDONLY | O_TRUNC),
		      "openat O_RDONLY | O_TRUNC");
	expect_denied(syscall(SYS_open, trunc_path, O_WRONLY | O_TRUNC),
		      "open O_TRUNC");
	expect_denied(syscall(SYS_creat, trunc_path, 0644), "creat");
	expect_denied(truncate(trunc_path, 0), "truncate");
	/* Handed to the supervisor, which answers ENOSYS whatever is
	 * blocked: never run. */
	expect_denied(
		syscall(SYS_openat2, AT_FDCWD, trunc_path, &how, sizeof(how)),
		"openat2 O_TRUNC");
	fd = openat(AT_FDCWD, trunc_path, O_WRONLY | O_APPEND);
	expect_ok(fd, "openat without O_TRUNC");
	expect_denied(ftruncate(fd, 0), "ftruncate");
	if (write(fd, "+", 1) != 1)
		child_fail("write: %s", ename(errno));
	expect_ok(close(fd), "close");
}

/* Run body under the filter of text with trunc_path a file holding
 * "keep\n"; what the file holds afterwards. */
static char *file_after(const char *text, void (*body)(void), struct child *ret)
{
	char *dir = tmpdir_new();
	char *path = path_join(dir, "file");
	char *content;

	make_file(dir, "file", "keep\n");
	trunc_path = path;
	run_policy(text, false, body, ret);
	content = read_text(dir, "file");
	trunc_path = NULL;
	free(path);
	tmpdir_remove(dir);
	return content;
}

static void check_truncate_blocked(const char *text)
{
	struct child c;
	char *content = file_after(text, truncate_body, &c);

	expect_exit(&c, 0);
	cr_assert_str_eq(content, "keep\n+", "for:\n%s", text);
	free(content);
}

Test(seccomp, truncate_blocked)
{
	check_truncate_blocked("[filesystem]\nblocked_operations = truncate\n");
	check_truncate_blocked(
		"[filesystem]\nblocked_operations = truncate\n" ALLOW_LIST);
}

/* Without the operation blocked, O_TRUNC truncates. */
static void truncate_allowed_body(void)
{
	int fd = openat(AT_FDCWD, trunc_path, O_WRONLY | O_TRUNC);

	expect_ok(fd, "openat O_TRUNC");
	expect_ok(close(fd), "close");
}

Test(seccomp, truncate_not_blocked)
{
	struct child c;
	char *content = file_after(ALLOW_LIST, truncate_allowed_body, &c);

	expect_exit(&c, 0);
	cr_assert_str_eq(content, "");
	free(content);
}

static void x32_body(void)
{
	syscall(0x40000000 | SYS_getpid);
	child_fail("an x32 call returned: %s", ename(errno));
}

static void expect_sigsys(const struct child *c)
{
	cr_assert(WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGSYS,
		  "child: %s (wait status 0x%x, expected SIGSYS)",
		  c->msg[0] ? c->msg : "no report", c->status);
}

Test(seccomp, x32_call_kills)
{
	struct child c;

	run_policy("", false, x32_body, &c);
	expect_sigsys(&c);
	run_policy(ALLOW_LIST, false, x32_body, &c);
	expect_sigsys(&c);
}

/* getpid through the i386 entry point (its number there is 20). */
static void int80_body(void)
{
	long r = 20;

	__asm__ volatile("int $0x80" : "+a"(r) : : "memory");
	if (r != getpid())
		child_fail("int 0x80 getpid returned %ld", r);
}

Test(seccomp, int80_kills)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct hb_filter none = {.prog = &allow, .len = 1};
	struct child c;

	run_child(&none, false, int80_body, &c);
	if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0)
		cr_skip_test("no IA32 emulation: %s", c.msg);
	run_policy("", false, int80_body, &c);
	expect_sigsys(&c);
	run_policy(ALLOW_LIST, false, int80_body, &c);
	expect_sigsys(&c);
}

/* SPDX-License-Identifier: MIT */
/* seccomp_guard.c and its rules in seccomp_filter.c: no privilege can be
 * planted (setuid/setgid modes, device nodes, file capabilities) and no
 * other process's limits changed, under every kind of policy.  The
 * exported program is run here on made-up calls by a small classic-BPF
 * interpreter, and its answer compared with what the supervisor would
 * judge (hb_guard_plant()) over a sweep of modes and flags; then it is
 * loaded by the kernel in a child, which has no listener: a call handed
 * to the supervisor fails there with ENOSYS. */
#include "helpers.h"
#include "seccomp_filter.h"
#include "seccomp_guard.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#define ALLOW_LIST "[syscalls]\ndefault = deny\nallow = @python\n"

static const unsigned long long no_args[6];

static const struct hb_guard *guard(const char *name)
{
	for (size_t i = 0; i < hb_n_guards; i++)
		if (strcmp(hb_guards[i].name, name) == 0)
			return &hb_guards[i];
	cr_assert_fail("no guard %s", name);
	return NULL;
}

/* ------------------------------------------------------------- the table */

Test(guard, table_names_and_numbers)
{
	for (size_t i = 0; i < hb_n_guards; i++) {
		const struct hb_guard *g = &hb_guards[i];
		int nr = seccomp_syscall_resolve_name(g->name);
		/* A call this libseccomp cannot name is one of the numbers
		 * spelt out. */
		if (nr < 0)
			cr_assert(g->nr == HB_NR_SETXATTRAT ||
					  g->nr == HB_NR_FCHMODAT2,
				  "%s", g->name);
		else
			cr_assert_eq(nr, g->nr, "%s", g->name);
		cr_assert_eq(hb_guard_find(g->nr), g, "%s listed twice",
			     g->name);
		cr_assert(g->arg >= 0 && g->arg < 6, "%s", g->name);
		cr_assert(g->arg2 >= -1 && g->arg2 < 6, "%s", g->name);
	}
	cr_assert_null(hb_guard_find(SYS_read));
	cr_assert_null(hb_guard_find(-1));
	cr_assert_eq(guard("fchmodat2")->nr, 452);
	cr_assert_eq(guard("setxattrat")->nr, 463);
	cr_assert_eq(guard("openat2")->nr, SYS_openat2);
}

/* ---------------------------------------------------- judged on registers */

static const char *plant_of(const char *name, int arg, unsigned long long v,
			    int arg2, unsigned long long v2)
{
	unsigned long long args[6] = {0};

	args[arg] = v;
	if (arg2 >= 0)
		args[arg2] = v2;
	return hb_guard_plant(guard(name), args);
}

Test(guard, plant_by_mode)
{
	static const char *const calls[] = {"chmod", "fchmod", "fchmodat",
					    "fchmodat2", "creat"};

	for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
		int a = guard(calls[i])->arg;
		cr_assert_str_eq(plant_of(calls[i], a, 04755, -1, 0),
				 "a setuid file");
		cr_assert_str_eq(plant_of(calls[i], a, 02755, -1, 0),
				 "a setgid file");
		cr_assert_str_eq(plant_of(calls[i], a, 06755, -1, 0),
				 "a setuid and setgid file");
		cr_assert_str_eq(plant_of(calls[i], a, 04000, -1, 0),
				 "a setuid file");
		cr_assert_null(plant_of(calls[i], a, 0755, -1, 0));
		cr_assert_null(plant_of(calls[i], a, 01777, -1, 0), "sticky");
		/* The kernel reads a umode_t: bits above 16 are not
		 * there. */
		cr_assert_null(
			plant_of(calls[i], a, 0755 | (04000ULL << 16), -1, 0));
		cr_assert_str_eq(
			plant_of(calls[i], a, 04755 | (1ULL << 40), -1, 0),
			"a setuid file");
	}
	cr_assert_eq(hb_guard_mode(guard("chmod"),
				   (unsigned long long[6]){0, 0x1234567}),
		     0x4567);
}

Test(guard, plant_by_open)
{
	const int flags[] = {O_CREAT | O_WRONLY, O_CREAT | O_EXCL | O_RDWR,
			     O_TMPFILE | O_WRONLY, O_TMPFILE & ~O_DIRECTORY};
	const char *const calls[] = {"open", "openat"};

	for (size_t c = 0; c < ARRAY_SIZE(calls); c++) {
		const struct hb_guard *g = guard(calls[c]);
		for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
			cr_assert_str_eq(plant_of(calls[c], g->arg, 04755,
						  g->arg2, (unsigned)flags[i]),
					 "a setuid file");
			cr_assert_str_eq(plant_of(calls[c], g->arg, 02644,
						  g->arg2, (unsigned)flags[i]),
					 "a setgid file");
			cr_assert_null(plant_of(calls[c], g->arg, 0644, g->arg2,
						(unsigned)flags[i]));
		}
		/* Without O_CREAT or O_TMPFILE the mode is not used. */
		cr_assert_null(plant_of(calls[c], g->arg, 04755, g->arg2,
					O_WRONLY | O_TRUNC));
		cr_assert_null(plant_of(calls[c], g->arg, 04755, g->arg2,
					O_DIRECTORY));
	}
	cr_assert_str_eq(hb_guard_plant_open_how(O_CREAT, 06755),
			 "a setuid and setgid file");
	cr_assert_str_eq(hb_guard_plant_open_how(O_TMPFILE | O_RDWR, 02700),
			 "a setgid file");
	cr_assert_null(hb_guard_plant_open_how(O_RDONLY, 04755));
	cr_assert_null(hb_guard_plant_open_how(O_CREAT, 0644));
}

Test(guard, plant_by_node)
{
	const char *const calls[] = {"mknod", "mknodat"};

	for (size_t c = 0; c < ARRAY_SIZE(calls); c++) {
		int a = guard(calls[c])->arg;
		cr_assert_str_eq(plant_of(calls[c], a, S_IFCHR | 0644, -1, 0),
				 "a character device");
		/* A whiteout is a 0:0 character device. */
		cr_assert_str_eq(plant_of(calls[c], a, S_IFCHR, -1, 0),
				 "a character device");
		cr_assert_str_eq(plant_of(calls[c], a, S_IFBLK | 0600, -1, 0),
				 "a block device");
		cr_assert_str_eq(plant_of(calls[c], a, S_IFREG | 04755, -1, 0),
				 "a setuid file");
		cr_assert_str_eq(plant_of(calls[c], a, 02755, -1, 0),
				 "a setgid file");
		cr_assert_str_eq(plant_of(calls[c], a, S_IFIFO | 04644, -1, 0),
				 "a setuid file");
		cr_assert_null(plant_of(calls[c], a, S_IFIFO | 0644, -1, 0));
		cr_assert_null(plant_of(calls[c], a, S_IFSOCK | 0755, -1, 0));
		cr_assert_null(plant_of(calls[c], a, S_IFREG | 0644, -1, 0));
		cr_assert_null(plant_of(calls[c], a, 0644, -1, 0));
	}
}

Test(guard, plant_by_whiteout_and_xattr)
{
	int a = guard("renameat2")->arg;

	cr_assert_str_eq(plant_of("renameat2", a, RENAME_WHITEOUT, -1, 0),
			 "a whiteout (a character device)");
	cr_assert_null(plant_of("renameat2", a, RENAME_NOREPLACE, -1, 0));
	cr_assert_null(plant_of("renameat2", a, 0, -1, 0));
	cr_assert_str_eq(hb_guard_plant_xattr("security.capability"),
			 "a file capability");
	cr_assert_null(hb_guard_plant_xattr("security.capability2"));
	cr_assert_null(hb_guard_plant_xattr("user.security.capability"));
	cr_assert_null(hb_guard_plant_xattr("system.posix_acl_access"));
	cr_assert_null(hb_guard_plant_xattr(""));
	cr_assert_null(hb_guard_plant_xattr(NULL));
	/* Memory kinds are never judged on registers. */
	cr_assert_null(hb_guard_plant(guard("setxattr"), no_args));
	cr_assert_null(hb_guard_plant(guard("openat2"), no_args));
	cr_assert_null(hb_guard_plant(guard("prlimit64"), no_args));
}

/* ----------------------------------------------------- the exported filter */

static void filter_of(const char *text, struct hb_filter *f)
{
	filter_of_text(text, 0, f);
}

/* Classic BPF as the kernel runs a seccomp filter, for the instructions
 * libseccomp emits; anything else fails the test. */
static uint32_t bpf_run(const struct hb_filter *f, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};

	for (unsigned pc = 0; pc < f->len; pc++) {
		const struct sock_filter *i = &f->prog[pc];
		uint32_t src = BPF_SRC(i->code) == BPF_X ? x : i->k;
		bool jump;
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			cr_assert(i->k % 4 == 0 && i->k < sizeof(*d));
			memcpy(&a, (const char *)d + i->k, 4);
			continue;
		case BPF_LD | BPF_IMM:
			a = i->k;
			continue;
		case BPF_LDX | BPF_IMM:
			x = i->k;
			continue;
		case BPF_LD | BPF_MEM:
			a = mem[i->k % BPF_MEMWORDS];
			continue;
		case BPF_LDX | BPF_MEM:
			x = mem[i->k % BPF_MEMWORDS];
			continue;
		case BPF_ST:
			mem[i->k % BPF_MEMWORDS] = a;
			continue;
		case BPF_STX:
			mem[i->k % BPF_MEMWORDS] = x;
			continue;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= i->k;
			continue;
		case BPF_ALU | BPF_OR | BPF_K:
			a |= i->k;
			continue;
		case BPF_MISC | BPF_TAX:
			x = a;
			continue;
		case BPF_MISC | BPF_TXA:
			a = x;
			continue;
		case BPF_JMP | BPF_JA:
			pc += i->k;
			continue;
		case BPF_RET | BPF_K:
			return i->k;
		}
		switch (i->code & ~BPF_X) {
		case BPF_JMP | BPF_JEQ:
			jump = a == src;
			break;
		case BPF_JMP | BPF_JGT:
			jump = a > src;
			break;
		case BPF_JMP | BPF_JGE:
			jump = a >= src;
			break;
		case BPF_JMP | BPF_JSET:
			jump = (a & src) != 0;
			break;
		default:
			cr_assert_fail("instruction %u: code 0x%x", pc,
				       i->code);
		}
		pc += jump ? i->jt : i->jf;
	}
	cr_assert_fail("the program ran off its end");
	return 0;
}

/* Does the filter hand this call to the supervisor (or allow it)? */
static bool notified(const struct hb_filter *f, int nr,
		     const unsigned long long args[6])
{
	struct seccomp_data d = {.nr = nr, .arch = AUDIT_ARCH_X86_64};
	uint32_t ret;

	memcpy(d.args, args, sizeof(d.args));
	ret = bpf_run(f, &d) & SECCOMP_RET_ACTION_FULL;
	cr_assert(ret == SECCOMP_RET_USER_NOTIF || ret == SECCOMP_RET_ALLOW,
		  "nr %d: action 0x%x", nr, ret);
	return ret == SECCOMP_RET_USER_NOTIF;
}

/* What the filter must do with a guarded call: hand it over when the
 * policy denies it whole, when it would plant something (as the
 * supervisor judges it), when it opens with O_TRUNC and truncate is
 * blocked, or when it names another pid's limits; allow it otherwise. */
static bool expected(const struct hb_filter *f, const struct hb_guard *g,
		     const unsigned long long args[6], bool trunc_blocked)
{
	if (f->whole[g->nr] || hb_guard_plant(g, args))
		return true;
	switch (g->kind) {
	case HB_GUARD_CREATE:
		return trunc_blocked && (args[g->arg2] & O_TRUNC);
	case HB_GUARD_PRLIMIT:
		return (uint32_t)args[g->arg] != 0;
	case HB_GUARD_XATTR:
	case HB_GUARD_OPEN_HOW:
		return true;
	default:
		return false;
	}
}

static const unsigned long long modes[] = {
	0,     0644,  0755,  01755, 02755, 04755,
	06755, 07777, 02000, 04000, 0600,  S_ISVTX | 0777,
};
static const unsigned long long types[] = {
	0,	  S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO,
	S_IFSOCK, S_IFDIR, S_IFLNK, S_IFMT,
};
/* Bits above a umode_t, which the kernel drops. */
static const unsigned long long high[] = {0, 1ULL << 16, 0xffff0000ULL,
					  ~0ULL << 16};
static const unsigned long long open_flags[] = {
	O_RDONLY,
	O_WRONLY,
	O_CREAT | O_WRONLY,
	O_CREAT | O_EXCL | O_RDWR,
	O_TMPFILE | O_RDWR,
	O_TMPFILE & ~O_DIRECTORY,
	O_DIRECTORY,
	O_TRUNC | O_WRONLY,
	O_CREAT | O_TRUNC | O_WRONLY,
	(1ULL << 32) | O_CREAT,
	1ULL << 32,
};
static const unsigned long long rename_flags[] = {
	0,
	RENAME_NOREPLACE,
	RENAME_EXCHANGE,
	RENAME_WHITEOUT,
	RENAME_WHITEOUT | RENAME_NOREPLACE,
	(1ULL << 32) | RENAME_WHITEOUT,
	1ULL << 32,
};
static const unsigned long long pids[] = {
	0,	    1,		2,
	42,	    0x7fffffff, 0xffffffff,
	0x80000000, 1ULL << 32, (1ULL << 32) | 1,
};

/* Compare the program with expected() for one set of arguments; the
 * other arguments hold junk, on which nothing may depend. */
static unsigned check_one(const struct hb_filter *f, const struct hb_guard *g,
			  bool trunc_blocked, unsigned long long v,
			  unsigned long long v2, const char *policy)
{
	unsigned long long args[6];

	for (int i = 0; i < 6; i++)
		args[i] = 0x7ffd12340000ULL + (unsigned)i;
	args[g->arg] = v;
	if (g->arg2 >= 0)
		args[g->arg2] = v2;
	cr_assert_eq(
		notified(f, g->nr, args), expected(f, g, args, trunc_blocked),
		"%s with arg %d = 0%llo (0x%llx), arg %d = 0x%llx under:\n%s",
		g->name, g->arg, v, v, g->arg2, v2, policy);
	return 1;
}

static unsigned check_guard(const struct hb_filter *f, const struct hb_guard *g,
			    bool trunc_blocked, const char *policy)
{
	unsigned n = 0;

	for (size_t m = 0; m < ARRAY_SIZE(modes); m++)
		for (size_t t = 0; t < ARRAY_SIZE(types); t++)
			for (size_t h = 0; h < ARRAY_SIZE(high); h++) {
				unsigned long long mode =
					modes[m] | types[t] | high[h];
				if (g->kind == HB_GUARD_MODE ||
				    g->kind == HB_GUARD_NODE)
					n += check_one(f, g, trunc_blocked,
						       mode, 0, policy);
				for (size_t i = 0; g->kind == HB_GUARD_CREATE &&
						   i < ARRAY_SIZE(open_flags);
				     i++)
					n += check_one(f, g, trunc_blocked,
						       mode, open_flags[i],
						       policy);
			}
	for (size_t i = 0;
	     g->kind == HB_GUARD_WHITEOUT && i < ARRAY_SIZE(rename_flags); i++)
		n += check_one(f, g, trunc_blocked, rename_flags[i], 0, policy);
	for (size_t i = 0; g->kind == HB_GUARD_PRLIMIT && i < ARRAY_SIZE(pids);
	     i++) {
		n += check_one(f, g, trunc_blocked, pids[i], 0, policy);
		n += check_one(f, g, trunc_blocked, pids[i], 0x7ffd0000,
			       policy);
	}
	if (g->kind == HB_GUARD_XATTR || g->kind == HB_GUARD_OPEN_HOW)
		n += check_one(f, g, trunc_blocked, 0x7ffd0000, 24, policy);
	return n;
}

static void check_policy(const char *text, bool trunc_blocked)
{
	struct hb_filter f;
	unsigned n = 0;

	filter_of(text, &f);
	for (size_t i = 0; i < hb_n_guards; i++)
		n += check_guard(&f, &hb_guards[i], trunc_blocked, text);
	/* The sweep means something: thousands of calls. */
	cr_assert_gt(n, 5000);
	hb_filter_free(&f);
}

Test(guard_filter, deny_list_matches_the_supervisor)
{
	check_policy("", false);
	check_policy("[syscalls]\non_violation = kill\n", false);
	check_policy("[syscalls]\nerrno = EACCES\ndeny = prlimit64, mknod\n",
		     false);
}

Test(guard_filter, allow_list_matches_the_supervisor)
{
	check_policy(ALLOW_LIST, false);
	check_policy(ALLOW_LIST "on_violation = kill\n", false);
}

Test(guard_filter, blocked_operations_match_the_supervisor)
{
	static const char *const blocked[] = {
		"chmod", "truncate",
		"mknod", "rename",
		"xattr", "chmod, truncate, mknod, rename, xattr, delete"};
	char text[256];

	for (size_t i = 0; i < ARRAY_SIZE(blocked); i++) {
		bool trunc = strstr(blocked[i], "truncate") != NULL;
		snprintf(text, sizeof(text),
			 "[filesystem]\nblocked_operations = %s\n", blocked[i]);
		check_policy(text, trunc);
		snprintf(text, sizeof(text),
			 "[filesystem]\nblocked_operations = %s\n" ALLOW_LIST,
			 blocked[i]);
		check_policy(text, trunc);
	}
}

/* What the supervisor is told is denied whole, and so never goes on. */
Test(guard_filter, whole)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64,
						      HB_NR_SETXATTRAT);
	bool setxattrat_unknown = !name;
	struct hb_filter f;

	free(name);
	filter_of("", &f);
	cr_assert_not(f.whole[SYS_chmod]);
	cr_assert_not(f.whole[SYS_setxattr]);
	cr_assert_not(f.whole[SYS_openat2]);
	cr_assert_not(f.whole[SYS_prlimit64]);
	cr_assert(f.whole[SYS_mount]);
	cr_assert_not(f.whole[SYS_clone3], "clone3 answers ENOSYS itself");
	/* Newer than libseccomp: denied, in a deny-list, whatever it is. */
	cr_assert_eq(f.whole[HB_NR_SETXATTRAT], setxattrat_unknown);
	hb_filter_free(&f);
	filter_of("[filesystem]\nblocked_operations = chmod, truncate\n", &f);
	cr_assert(f.whole[SYS_chmod]);
	cr_assert(f.whole[HB_NR_FCHMODAT2]);
	cr_assert(f.whole[SYS_setxattr]);
	cr_assert_not(f.whole[SYS_openat2], "ENOSYS whatever is blocked");
	cr_assert(f.whole[SYS_creat]);
	cr_assert_not(f.whole[SYS_openat]);
	cr_assert_not(f.whole[SYS_mknodat]);
	hb_filter_free(&f);
	filter_of(ALLOW_LIST, &f);
	cr_assert_not(f.whole[SYS_chmod]);
	cr_assert_not(f.whole[SYS_fsetxattr]);
	cr_assert_not(f.whole[SYS_prlimit64]);
	cr_assert(f.whole[SYS_openat2], "@python has no openat2");
	cr_assert(f.whole[HB_NR_SETXATTRAT]);
	cr_assert(f.whole[SYS_setuid]);
	hb_filter_free(&f);
}

/* ------------------------------------------------- loaded by the kernel */

static int report_fd = -1;
static const char *work_dir;

static _Noreturn _printf_(1, 2) void child_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdprintf(report_fd, fmt, ap);
	va_end(ap);
	_exit(1);
}

static void expect(long r, int e, const char *what)
{
	int got = r < 0 ? errno : 0;

	if ((e == 0 && r < 0) || (e != 0 && (r != -1 || got != e)))
		child_fail("%s returned %ld (%s), expected %s", what, r,
			   got ? strerrorname_np(got) : "no error",
			   e ? strerrorname_np(e) : "success");
}

static void expect_mode(const char *path, mode_t want)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		child_fail("lstat %s: %s", path, strerrorname_np(errno));
	if (st.st_mode != want)
		child_fail("%s has mode 0%o, expected 0%o", path, st.st_mode,
			   want);
}

static void expect_absent(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		child_fail("%s exists, mode 0%o", path, st.st_mode);
}

/* Address space up to HB_GUARD_ASK_BYTES goes on; more goes to the
 * supervisor, which weighs it against RLIMIT_AS. */
static void size_body(void)
{
	const size_t ask = HB_GUARD_ASK_BYTES;
	void *p =
		mmap(NULL, ask, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		child_fail("mmap of 64 MiB: %s", strerrorname_np(errno));
	expect(syscall(SYS_mmap, NULL, ask + 1, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
	       ENOSYS, "mmap of 64 MiB + 1");
	expect(syscall(SYS_mremap, p, ask, ask + 4096, MREMAP_MAYMOVE), ENOSYS,
	       "mremap to 64 MiB + 4 KiB");
	expect(syscall(SYS_mremap, p, ask, ask / 2, 0), 0, "mremap to 32 MiB");
	expect(munmap(p, ask / 2), 0, "munmap");
}

/* Run in dir.  A call for the supervisor fails with ENOSYS here. */
static void plant_body(void)
{
	struct open_how how = {.flags = O_RDONLY};
	struct rlimit rl;
	int fd;

	umask(022);
	expect(chdir(work_dir), 0, "chdir");
	fd = open("f", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	expect(fd, 0, "open O_CREAT 0644");
	expect(chmod("f", 04755), ENOSYS, "chmod 04755");
	expect(fchmod(fd, 02755), ENOSYS, "fchmod 02755");
	expect(fchmodat(AT_FDCWD, "f", 06755, 0), ENOSYS, "fchmodat 06755");
	expect(syscall(HB_NR_FCHMODAT2, AT_FDCWD, "f", 04755, 0), ENOSYS,
	       "fchmodat2 04755");
	expect_mode("f", S_IFREG | 0644);
	expect(chmod("f", 0755), 0, "chmod 0755");
	expect(fchmod(fd, 01700), 0, "fchmod 01700");
	expect_mode("f", S_IFREG | 01700);
	expect(open("g", O_CREAT | O_WRONLY, 04755), ENOSYS, "open 04755");
	expect(syscall(SYS_open, "g", O_CREAT | O_WRONLY, 02755), ENOSYS,
	       "open(2) 02755");
	expect(syscall(SYS_creat, "g", 04755), ENOSYS, "creat 04755");
	expect(open(".", O_TMPFILE | O_WRONLY, 04755), ENOSYS,
	       "O_TMPFILE 04755");
	expect(mknod("c", S_IFCHR | 0644, makedev(1, 3)), ENOSYS,
	       "mknod S_IFCHR");
	expect(mknod("r", S_IFREG | 04755, 0), ENOSYS, "mknod S_ISUID");
	expect_absent("g");
	expect_absent("c");
	expect_absent("r");
	expect(mkfifo("p", 0644), 0, "mkfifo");
	expect_mode("p", S_IFIFO | 0644);
	/* Ask the supervisor: the name or the struct is in memory. */
	expect(setxattr("f", "user.x", "1", 1, 0), ENOSYS, "setxattr");
	expect(syscall(SYS_openat2, AT_FDCWD, "f", &how, sizeof(how)), ENOSYS,
	       "openat2");
	expect(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl), 0,
	       "prlimit64(0)");
	expect(syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &rl),
	       ENOSYS, "prlimit64(getpid())");
	expect(setrlimit(RLIMIT_NOFILE, &rl), 0, "setrlimit");
	close(fd);
	size_body();
}

static void run_in_child(const char *text)
{
	struct hb_filter f;
	char msg[512];
	ssize_t n;
	int p[2], status;
	pid_t pid;

	filter_of(text, &f);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct sock_fprog prog = {.len = f.len, .filter = f.prog};
		close(p[0]);
		report_fd = p[1];
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
			child_fail("cannot load the filter: %s",
				   strerrorname_np(errno));
		plant_body();
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(p[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	hb_filter_free(&f);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "%s (status 0x%x) under:\n%s", msg, status, text);
}

static void in_tmpdir(const char *text)
{
	char *dir = tmpdir_new();

	work_dir = dir;
	run_in_child(text);
	work_dir = NULL;
	tmpdir_remove(dir);
}

Test(guard_kernel, deny_list)
{
	in_tmpdir("");
}

Test(guard_kernel, allow_list)
{
	in_tmpdir(ALLOW_LIST);
}

/* SPDX-License-Identifier: MIT */
#include "seccomp_filter.h"
#include "seccomp_cache.h"
#include "policy.h"
#include "seccomp_guard.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define NS_FLAGS                                                               \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |           \
	 CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_NEWTIME)

/* The set of calls a list names, as a bitmap. */
static int collect(const struct hb_strv *list, bool *set)
{
	for (size_t i = 0; i < list->n; i++) {
		int r = hb_syscalls_mark(list->v[i], set);
		if (r < 0)
			return r;
	}
	return 0;
}

static int collect_operations(const struct hb_strv *ops, bool *set)
{
	for (size_t i = 0; i < ops->n; i++) {
		const struct hb_operation *op = hb_operation_find(ops->v[i]);
		int r = op ? hb_syscalls_mark(op->syscalls, set) : -EINVAL;
		if (r < 0)
			return r;
	}
	return 0;
}

/* The requests below bit, sorted, all equal to value under mask: allow
 * every request with that prefix that is none of them.  Split on bit: a
 * side that no denied request takes is allowed whole, in one pattern. */
static int allow_except(scmp_filter_ctx ctx, const uint32_t *deny, size_t n,
			int bit, uint32_t mask, uint32_t value)
{
	const uint32_t b = 1u << bit;
	size_t zeros = 0;
	int r = 0;

	while (zeros < n && !(deny[zeros] & b))
		zeros++;
	for (int one = 0; r == 0 && one < 2; one++) {
		size_t k = one ? n - zeros : zeros;
		uint32_t v = one ? value | b : value;
		if (k == 0)
			r = seccomp_rule_add(
				ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				SCMP_A1(SCMP_CMP_MASKED_EQ, mask | b, v));
		else if (bit > 0)
			r = allow_except(ctx, one ? deny + zeros : deny, k,
					 bit - 1, mask | b, v);
	}
	return r;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* ioctl is allowed unless the low 32 bits of its request (all the kernel
 * looks at) are one of hb_denied_ioctls.  libseccomp compares masked
 * values for equality only, so "none of these" is spelt out: the
 * patterns that cover every other request, from the top bit down (some
 * 80 rules for the 36 requests). */
static int allow_ioctl(scmp_filter_ctx ctx, bool own_terminal)
{
	uint32_t deny[64];
	size_t n = 0;

	if (hb_n_denied_ioctls > ARRAY_SIZE(deny))
		return -E2BIG;
	for (size_t i = 0; i < hb_n_denied_ioctls; i++)
		if (!(own_terminal && hb_denied_ioctls[i].own_pty))
			deny[n++] = hb_denied_ioctls[i].request;
	qsort(deny, n, sizeof(deny[0]), cmp_u32);
	return allow_except(ctx, deny, n, 31, 0, 0);
}

/* prctl is allowed unless its option (an int: the low 32 bits) is
 * PR_SET_SECCOMP.  A filter of the script's own, stacked on hivebox's,
 * would answer before the supervisor (its ERRNO outranks USER_NOTIF):
 * denied calls would go unrecorded.  "Not equal" is spelt out as in
 * allow_ioctl(): some bit differs. */
static int allow_prctl(scmp_filter_ctx ctx)
{
	const uint32_t x = PR_SET_SECCOMP;
	int r = 0;

	for (int i = 0; r == 0 && i < 32; i++) {
		uint32_t bit = 1u << i;
		r = seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
			SCMP_A0(SCMP_CMP_MASKED_EQ, bit, ~x & bit));
	}
	return r;
}

/* Allow-list: socket and socketpair (which creates its sockets as socket
 * does, family code and module loading included) for AF_UNIX; with a
 * filtered network IP too: the host side decides where those may go, and
 * logs where they may not. */
static int allow_socket_families(scmp_filter_ctx ctx, const bool *allow, int nr,
				 bool inet)
{
	const int families[] = {AF_UNIX, AF_INET, AF_INET6};
	int r = 0;

	for (size_t i = 0; r == 0 && allow[nr] && i < ARRAY_SIZE(families); i++)
		if (families[i] == AF_UNIX || inet)
			r = seccomp_rule_add(
				ctx, SCMP_ACT_ALLOW, nr, 1,
				SCMP_A0(SCMP_CMP_EQ, (uint64_t)families[i]));
	return r;
}

/* Opening with O_TRUNC is truncating: it needs an argument rule besides
 * the calls the operation lists. */
static bool truncate_blocked(const struct hb_policy *p)
{
	return hb_strv_contains(&p->blocked_operations, "truncate");
}

/* Allow-list: the calls that need their arguments looked at. */
static int allow_special(scmp_filter_ctx ctx, const bool *allow, bool inet,
			 bool own_terminal, uintptr_t exec_arg0)
{
	int r = 0;

	if (allow[SCMP_SYS(ioctl)])
		r = allow_ioctl(ctx, own_terminal);
	if (r == 0 && allow[SCMP_SYS(prctl)])
		r = allow_prctl(ctx);
	/* clone without namespace flags, sharing the signal handlers only
	 * as a thread (CLONE_THREAD needs CLONE_SIGHAND). */
	if (r == 0 && allow[SCMP_SYS(clone)])
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ,
					     NS_FLAGS | CLONE_SIGHAND, 0));
	if (r == 0 && allow[SCMP_SYS(clone)])
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ,
					     NS_FLAGS | CLONE_THREAD,
					     CLONE_THREAD));
	/* The interpreter's own execve, by the address of its path. */
	if (r == 0 && allow[SCMP_SYS(execve)])
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execve), 1,
				     SCMP_A0(SCMP_CMP_EQ, exec_arg0));
	if (r == 0)
		r = allow_socket_families(ctx, allow, SCMP_SYS(socket), inet);
	if (r == 0)
		r = allow_socket_families(ctx, allow, SCMP_SYS(socketpair),
					  inet);
	if (r == 0 && allow[SCMP_SYS(personality)])
		r = seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
			SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffff, 0xffffffff));
	return r;
}

/* Allow-list: a guarded call the policy allows, with the arguments that
 * plant nothing; the rest falls to the default, the supervisor.  Modes
 * are compared on the bits the kernel reads (a umode_t), flags on an
 * int's.  trunc is O_TRUNC when truncate is blocked: opening with it is
 * truncating too. */
static int allow_guarded(scmp_filter_ctx ctx, const struct hb_guard *g,
			 uint64_t trunc)
{
	/* The file types that are no device: S_IFCHR is 002 in the four
	 * type bits, S_IFBLK 006; any other has bit 1 clear, or bit 0 or 3
	 * set (FIFOs, sockets, regular files, and what the kernel refuses,
	 * EINVAL, as it would bare). */
	static const uint64_t no_device[][2] = {
		{020000, 0}, {030000, 030000}, {0120000, 0120000}};
	const uint64_t bits = HB_PLANT_MODE_BITS;
	int r = 0;

	switch (g->kind) {
	case HB_GUARD_MODE:
		return seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, g->nr, 1,
			SCMP_CMP(g->arg, SCMP_CMP_MASKED_EQ, bits, 0));
	case HB_GUARD_CREATE:
		/* Creating nothing, or creating without the bits. */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, g->nr, 1,
				     SCMP_CMP(g->arg2, SCMP_CMP_MASKED_EQ,
					      HB_OPEN_CREATE_BITS | trunc, 0));
		if (r == 0)
			r = seccomp_rule_add(
				ctx, SCMP_ACT_ALLOW, g->nr, 2,
				SCMP_CMP(g->arg, SCMP_CMP_MASKED_EQ, bits, 0),
				SCMP_CMP(g->arg2, SCMP_CMP_MASKED_EQ, trunc,
					 0));
		return r;
	case HB_GUARD_NODE:
		/* No device, and without the bits. */
		for (size_t i = 0; r == 0 && i < ARRAY_SIZE(no_device); i++)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, g->nr, 1,
					     SCMP_CMP(g->arg,
						      SCMP_CMP_MASKED_EQ,
						      no_device[i][0] | bits,
						      no_device[i][1]));
		return r;
	case HB_GUARD_WHITEOUT:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, g->nr, 1,
					SCMP_CMP(g->arg, SCMP_CMP_MASKED_EQ,
						 RENAME_WHITEOUT, 0));
	case HB_GUARD_PRLIMIT:
		/* pid 0, oneself, as setrlimit() has it; another pid, even
		 * one's own, goes to the supervisor. */
		return seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, g->nr, 1,
			SCMP_CMP(g->arg, SCMP_CMP_MASKED_EQ, 0xffffffff, 0));
	case HB_GUARD_SIZE:
		return seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, g->nr, 1,
			SCMP_CMP(g->arg, SCMP_CMP_LE, HB_GUARD_ASK_BYTES));
	default:
		/* Their arguments are in memory: every call is looked at. */
		return 0;
	}
}

bool hb_filter_by_args(int nr)
{
	return nr == SCMP_SYS(ioctl) || nr == SCMP_SYS(prctl) ||
	       nr == SCMP_SYS(clone) || nr == SCMP_SYS(execve) ||
	       nr == SCMP_SYS(socket) || nr == SCMP_SYS(socketpair) ||
	       nr == SCMP_SYS(personality) || nr == SCMP_SYS(clone3);
}

int hb_filter_allow_by_args(void *ctx, const bool *allow, bool inet)
{
	return allow_special(ctx, allow, inet, false, 0);
}

static bool special(int nr)
{
	return hb_filter_by_args(nr) || hb_guard_find(nr);
}

/* Allow-list: every call allowed, not denied and not blocked, with the
 * guarded and special ones by their arguments. */
static int build_allow_list(scmp_filter_ctx ctx,
			    const struct hb_filter_input *in,
			    uintptr_t exec_arg0, const bool *whole)
{
	uint64_t trunc = in->truncate_blocked ? O_TRUNC : 0;
	int r = 0;

	for (int nr = 0; r == 0 && nr < HB_SYSCALL_NR_END; nr++)
		if (!whole[nr] && !special(nr))
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	for (size_t i = 0; r == 0 && i < hb_n_guards; i++)
		if (!whole[hb_guards[i].nr])
			r = allow_guarded(ctx, &hb_guards[i], trunc);
	return r ? r
		 : allow_special(ctx, in->allow, in->inet, in->own_terminal,
				 exec_arg0);
}

/* Deny-list: sockets of the families a script may need only.  Others
 * reach past the network namespace (AF_VSOCK to the hypervisor) or load
 * kernel modules.  The kernel reads the family as an int: compared on the
 * low 32 bits, and anything above the known families denied whole. */
static int deny_socket_families(scmp_filter_ctx ctx)
{
	static const int allowed[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
	const int calls[] = {SCMP_SYS(socket), SCMP_SYS(socketpair)};
	int r = 0;

	for (size_t c = 0; r == 0 && c < ARRAY_SIZE(calls); c++) {
		for (int fam = 0; r == 0 && fam < AF_MAX; fam++) {
			bool ok = false;
			for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
				ok |= allowed[i] == fam;
			if (!ok)
				r = seccomp_rule_add(
					ctx, SCMP_ACT_NOTIFY, calls[c], 1,
					SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffff,
						(uint64_t)fam));
		}
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, calls[c], 1,
					     SCMP_A0(SCMP_CMP_GE, AF_MAX));
	}
	return r;
}

/* x86_64's own numbering ends at rseq; the calls added since have the
 * numbers from 424 up that every architecture shares.  A number above it
 * that this libseccomp cannot name is a newer call (mount family,
 * xattr-at, ...). */
#define HB_NR_LAST_OWN 334 /* rseq */

/* The numbers of calls newer than this libseccomp, as a bitmap built on
 * first use: the answer depends on this libseccomp only. */
static const bool *newer_calls(void)
{
	static bool set[HB_SYSCALL_NR_END];
	static bool built;

	for (int nr = HB_NR_LAST_OWN + 1; !built && nr < HB_SYSCALL_NR_END;
	     nr++) {
		char *name =
			seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		set[nr] = !name;
		free(name);
	}
	built = true;
	return set;
}

/* One rule of deny_guarded(): the call when its argument arg, under
 * mask, is value; and, with a second argument (arg2 >= 0), when that one
 * under mask2 is value2 as well. */
static int notify_when(scmp_filter_ctx ctx, int nr, int arg, uint64_t mask,
		       uint64_t value, int arg2, uint64_t mask2,
		       uint64_t value2)
{
	if (arg2 < 0)
		return seccomp_rule_add(
			ctx, SCMP_ACT_NOTIFY, nr, 1,
			SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, value));
	return seccomp_rule_add(
		ctx, SCMP_ACT_NOTIFY, nr, 2,
		SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, value),
		SCMP_CMP(arg2, SCMP_CMP_MASKED_EQ, mask2, value2));
}

/* Deny-list: a guarded call that the policy allows goes to the
 * supervisor with the arguments that would plant something (each bit on
 * its own: a rule matches one pattern), and whole when the arguments are
 * in memory.  hb_guard_plant() says the same of the registers. */
static int deny_guarded(scmp_filter_ctx ctx, const struct hb_guard *g)
{
	static const uint64_t bits[] = {S_ISUID, S_ISGID};
	static const uint64_t create[] = {O_CREAT,
					  HB_OPEN_CREATE_BITS & ~O_CREAT};
	int r = 0;

	switch (g->kind) {
	case HB_GUARD_NODE:
	case HB_GUARD_MODE:
		/* The bits, with any type; a device, with any bits. */
		for (size_t i = 0; r == 0 && i < ARRAY_SIZE(bits); i++)
			r = notify_when(ctx, g->nr, g->arg, bits[i], bits[i],
					-1, 0, 0);
		if (r == 0 && g->kind == HB_GUARD_NODE)
			r = notify_when(ctx, g->nr, g->arg, S_IFMT, S_IFCHR, -1,
					0, 0);
		if (r == 0 && g->kind == HB_GUARD_NODE)
			r = notify_when(ctx, g->nr, g->arg, S_IFMT, S_IFBLK, -1,
					0, 0);
		return r;
	case HB_GUARD_CREATE:
		for (size_t i = 0; r == 0 && i < 4; i++)
			r = notify_when(ctx, g->nr, g->arg, bits[i % 2],
					bits[i % 2], g->arg2, create[i / 2],
					create[i / 2]);
		return r;
	case HB_GUARD_WHITEOUT:
		return notify_when(ctx, g->nr, g->arg, RENAME_WHITEOUT,
				   RENAME_WHITEOUT, -1, 0, 0);
	case HB_GUARD_PRLIMIT:
		/* Any pid but 0, oneself: "not 0" is "some bit is set", on
		 * the 32 bits of a pid_t. */
		for (int i = 0; r == 0 && i < 32; i++)
			r = notify_when(ctx, g->nr, g->arg, 1ULL << i,
					1ULL << i, -1, 0, 0);
		return r;
	case HB_GUARD_SIZE:
		return seccomp_rule_add(
			ctx, SCMP_ACT_NOTIFY, g->nr, 1,
			SCMP_CMP(g->arg, SCMP_CMP_GT, HB_GUARD_ASK_BYTES));
	default:
		return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, g->nr, 0);
	}
}

/* Deny-list: every call denied whole, then the argument checks. */
static int build_deny_list(scmp_filter_ctx ctx,
			   const struct hb_filter_input *in, const bool *whole)
{
	int r = 0;

	for (int nr = 0; r == 0 && nr < HB_SYSCALL_NR_END; nr++)
		if (whole[nr])
			r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
	/* A call denied whole reaches the supervisor anyway, which judges
	 * a plant first. */
	for (size_t i = 0; r == 0 && i < hb_n_guards; i++)
		if (!whole[hb_guards[i].nr])
			r = deny_guarded(ctx, &hb_guards[i]);
	if (r == 0)
		r = deny_socket_families(ctx);
	for (uint32_t i = 0; r == 0 && i < 32; i++)
		if (NS_FLAGS & (1u << i))
			r = seccomp_rule_add(
				ctx, SCMP_ACT_NOTIFY, SCMP_SYS(clone), 1,
				SCMP_A0(SCMP_CMP_MASKED_EQ, 1u << i, 1u << i));
	/* A process sharing another's signal handlers without being one of
	 * its threads could change them behind the supervisor's back, after
	 * it chose SIGSYS for on_violation = kill. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ,
					     CLONE_SIGHAND | CLONE_THREAD,
					     CLONE_SIGHAND));
	/* A filter of the script's own would hide calls (allow_prctl()). */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(prctl), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffff,
					     PR_SET_SECCOMP));
	/* The requests that change a terminal, on every descriptor. */
	for (size_t i = 0; r == 0 && i < hb_n_denied_ioctls; i++)
		if (!(in->own_terminal && hb_denied_ioctls[i].own_pty))
			r = seccomp_rule_add(
				ctx, SCMP_ACT_NOTIFY, SCMP_SYS(ioctl), 1,
				SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffff,
					hb_denied_ioctls[i].request));
	/* personality: only the query (0xffffffff) is allowed. */
	for (uint32_t i = 0; r == 0 && i < 32; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY,
				     SCMP_SYS(personality), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, 1u << i, 0));
	if (r == 0 && in->truncate_blocked) {
		r = seccomp_rule_add(
			ctx, SCMP_ACT_NOTIFY, SCMP_SYS(openat), 1,
			SCMP_A2(SCMP_CMP_MASKED_EQ, O_TRUNC, O_TRUNC));
		if (r == 0)
			r = seccomp_rule_add(
				ctx, SCMP_ACT_NOTIFY, SCMP_SYS(open), 1,
				SCMP_A1(SCMP_CMP_MASKED_EQ, O_TRUNC, O_TRUNC));
	}
	return r;
}

/* The calls the filter sends to the supervisor whatever their
 * arguments: a function of the input alone, so that a filter read from
 * the cache gets the same table. */
static void whole_calls(const struct hb_filter_input *in, bool *whole)
{
	for (int nr = 0; nr < HB_SYSCALL_NR_END; nr++)
		if (in->default_deny)
			whole[nr] = !in->allow[nr] || in->denied[nr] ||
				    in->blocked[nr];
		else
			/* Newer than this libseccomp: denied, to be safe.
			 * clone3 has its own answer, ENOSYS. */
			whole[nr] = (in->denied[nr] || in->blocked[nr] ||
				     in->newer[nr]) &&
				    nr != SCMP_SYS(clone3);
}

int hb_filter_input_of(const struct hb_policy *p, struct hb_filter_input *ret,
		       struct hb_diag *diag)
{
	const bool *always = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->default_deny = p->syscalls_default == HB_SC_DENY;
	ret->inet = p->network_mode == HB_NET_FILTERED;
	ret->truncate_blocked = truncate_blocked(p);
	r = hb_syscalls_always_denied(&always);
	if (r < 0)
		return r;
	memcpy(ret->denied, always, sizeof(ret->denied));
	r = collect_operations(&p->blocked_operations, ret->blocked);
	if (r < 0)
		return r;
	if (!ret->default_deny) {
		memcpy(ret->newer, newer_calls(), sizeof(ret->newer));
		return collect(&p->syscalls_deny, ret->denied);
	}
	r = collect(&p->syscalls_allow, ret->allow);
	if (r < 0)
		return r;
	/* Between loading the filter and execve the sandbox hands the
	 * listener over (sendmsg), closes it and executes: without these
	 * it would wait for ever on a listener nobody reads. */
	if (!ret->allow[SCMP_SYS(sendmsg)] || !ret->allow[SCMP_SYS(close)] ||
	    !ret->allow[SCMP_SYS(execve)] || !ret->allow[SCMP_SYS(exit_group)])
		return hb_diag_set(
			diag, hb_policy_origin(p, HB_K_SC_ALLOW),
			p->origin[HB_K_SC_ALLOW].line,
			"allow must include sendmsg, close, execve "
			"and exit_group (hivebox needs them to start "
			"the interpreter); @python has them");
	return 0;
}

static int export(scmp_filter_ctx ctx, struct sock_filter **ret_prog,
		  unsigned short *ret_len)
{
	_cleanup_close_ int fd = memfd_create("hivebox-seccomp", MFD_CLOEXEC);
	_cleanup_free_ struct sock_filter *prog = NULL;
	off_t len;

	if (fd < 0)
		return -errno;
	if (seccomp_export_bpf(ctx, fd) < 0)
		return -EINVAL;
	len = lseek(fd, 0, SEEK_CUR);
	if (len <= 0 || len % (off_t)sizeof(struct sock_filter) ||
	    len / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -E2BIG;
	prog = malloc((size_t)len);
	if (!prog)
		return -ENOMEM;
	if (pread(fd, prog, (size_t)len, 0) != len)
		return -EIO;
	*ret_len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
	*ret_prog = TAKE_PTR(prog);
	return 0;
}

int hb_filter_compile(const struct hb_filter_input *in, uintptr_t exec_arg0,
		      struct sock_filter **ret_prog, unsigned short *ret_len)
{
	bool whole[HB_SYSCALL_NR_END];
	scmp_filter_ctx ctx;
	int r;

	whole_calls(in, whole);
	ctx = seccomp_init(in->default_deny ? SCMP_ACT_NOTIFY : SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	/* x32 calls and int 0x80 from a 64-bit process: killed. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			     SCMP_ACT_KILL_PROCESS);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	/* clone3 carries its flags in memory the filter cannot read. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				     SCMP_SYS(clone3), 0);
	if (r == 0)
		r = in->default_deny
			    ? build_allow_list(ctx, in, exec_arg0, whole)
			    : build_deny_list(ctx, in, whole);
	if (r == 0)
		r = export(ctx, ret_prog, ret_len);
	seccomp_release(ctx);
	return r;
}

/* What the supervisor needs besides the program. */
static void filter_meta(const struct hb_policy *p,
			const struct hb_filter_input *in, struct hb_filter *f)
{
	f->default_deny = in->default_deny;
	f->kill = p->on_violation == HB_VIOLATION_KILL;
	f->deny_errno = hb_errno_from_name(p->violation_errno);
	whole_calls(in, f->whole);
}

/* Unless a stage said what is wrong with the policy, it is libseccomp's
 * error. */
static int build_failed(const struct hb_policy *p, struct hb_filter *f, int r,
			struct hb_diag *diag)
{
	hb_filter_free(f);
	if (diag && !diag->msg[0])
		hb_diag_set(diag, p->path, 0,
			    "cannot build the system-call filter: %s",
			    strerror(-r));
	return r;
}

int hb_filter_build(const struct hb_policy *p, uintptr_t exec_arg0,
		    bool own_terminal, struct hb_filter *ret,
		    struct hb_diag *diag)
{
	return hb_filter_build_cached(p, exec_arg0, own_terminal, -1, ret,
				      diag);
}

int hb_filter_build_cached(const struct hb_policy *p, uintptr_t exec_arg0,
			   bool own_terminal, int cache_dir,
			   struct hb_filter *ret, struct hb_diag *diag)
{
	struct hb_filter_input in;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = hb_filter_input_of(p, &in, diag);
	in.own_terminal = own_terminal;
	if (r == 0 && cache_dir >= 0)
		r = hb_filter_cache_get(cache_dir, &in, exec_arg0, &ret->prog,
					&ret->len, &ret->cached);
	else if (r == 0)
		r = hb_filter_compile(&in, exec_arg0, &ret->prog, &ret->len);
	if (r < 0)
		return build_failed(p, ret, r, diag);
	filter_meta(p, &in, ret);
	return 0;
}

void hb_filter_free(struct hb_filter *f)
{
	free(f->prog);
	memset(f, 0, sizeof(*f));
}

void hb_filter_print(const struct hb_policy *p, const struct hb_filter *f,
		     FILE *out)
{
	fprintf(out,
		"system calls: %s, denied calls %s and are logged; "
		"%u BPF instructions, loaded last before execve\n",
		f->default_deny ? "allow-list (default deny)"
				: "deny-list (default allow)",
		f->kill ? "kill the process (SIGSYS, or SIGKILL where "
			  "SIGSYS could be survived)"
			: "fail",
		f->len);
	fprintf(out, "  %s\n",
		f->cached ? "BPF read from the filter cache (compiled by an "
			    "earlier run)"
			  : "BPF compiled by libseccomp for this run");
	if (!f->kill)
		fprintf(out, "  denied calls return %s\n",
			hb_errno_name(f->deny_errno));
	fprintf(out, "  always denied: %s\n", hb_always_denied);
	fprintf(out, "  and by their arguments: %s\n", hb_always_denied_args);
	for (size_t i = 0; i < p->syscalls_allow.n; i++)
		fprintf(out, "  allow %s\n", p->syscalls_allow.v[i]);
	for (size_t i = 0; i < p->syscalls_deny.n; i++)
		fprintf(out, "  deny %s\n", p->syscalls_deny.v[i]);
	for (size_t i = 0; i < p->blocked_operations.n; i++)
		fprintf(out, "  blocked operation %s\n",
			p->blocked_operations.v[i]);
}

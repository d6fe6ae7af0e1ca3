/* SPDX-License-Identifier: MIT */
/* The named groups of system calls, in the manner of systemd's
 * SystemCallFilter= sets.  One table; man/hivebox-policy.5 lists it.
 * Names this architecture does not have are skipped when a filter is
 * built. */
#include "seccomp_names.h"

#include <asm/termbits.h> /* struct termios2, for TCSETS2 */
#include <sys/ioctl.h>

const struct hb_syscall_group hb_syscall_groups[] = {
	{"@basic-io",
	 "_llseek close close_range dup dup2 dup3 lseek pread64 preadv preadv2 "
	 "pwrite64 pwritev pwritev2 read readv write writev",
	 "reading and writing open descriptors"},
	{"@file-system",
	 "access chdir chmod creat faccessat faccessat2 fallocate fchdir "
	 "fchmod "
	 "fchmodat fchmodat2 fcntl fcntl64 fgetxattr flistxattr fremovexattr "
	 "fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 ftruncate "
	 "ftruncate64 futimesat getcwd getdents getdents64 getxattr "
	 "inotify_add_watch inotify_init inotify_init1 inotify_rm_watch "
	 "lgetxattr link linkat listxattr llistxattr lremovexattr lsetxattr "
	 "lstat lstat64 mkdir mkdirat mknod mknodat newfstatat open openat "
	 "readlink readlinkat removexattr rename renameat renameat2 rmdir "
	 "setxattr stat stat64 statfs statfs64 statx symlink symlinkat "
	 "truncate truncate64 umask unlink unlinkat utime utimensat utimes",
	 "files and directories"},
	{"@chown", "chown chown32 fchown fchown32 fchownat lchown lchown32",
	 "changing file owners"},
	{"@io-event",
	 "_newselect epoll_create epoll_create1 epoll_ctl epoll_pwait "
	 "epoll_pwait2 epoll_wait eventfd eventfd2 poll ppoll pselect6 select",
	 "waiting for descriptors"},
	{"@ipc",
	 "mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedsend "
	 "mq_unlink msgctl msgget msgrcv msgsnd pipe pipe2 semctl semget semop "
	 "semtimedop",
	 "pipes, message queues, semaphores (the sandbox has its own IPC "
	 "namespace)"},
	{"@hidden-memory", "memfd_create shmat shmctl shmdt shmget",
	 "memory no process's RSS shows: memfd, which the whole-sandbox "
	 "memory limit cannot see, and System V shared memory, which it "
	 "counts a sampling interval late"},
	{"@process",
	 "capget clone execve fork getrusage kill pidfd_open pidfd_send_signal "
	 "prctl rt_sigqueueinfo rt_tgsigqueueinfo setpgid setsid tgkill times "
	 "tkill vfork wait4 waitid",
	 "processes and threads (clone without namespace flags, sharing the "
	 "signal handlers only as a thread; prctl but PR_SET_SECCOMP)"},
	{"@signal",
	 "rt_sigaction rt_sigpending rt_sigprocmask rt_sigreturn rt_sigsuspend "
	 "rt_sigtimedwait sigaltstack signalfd signalfd4",
	 "signal handling"},
	{"@timer",
	 "alarm getitimer setitimer timer_create timer_delete timer_getoverrun "
	 "timer_gettime timer_settime timerfd_create timerfd_gettime "
	 "timerfd_settime",
	 "timers"},
	{"@time",
	 "clock_getres clock_gettime clock_nanosleep gettimeofday nanosleep "
	 "time",
	 "reading the clock and sleeping"},
	{"@sync", "fdatasync fsync msync sync sync_file_range syncfs",
	 "flushing to disk"},
	{"@memory",
	 "brk get_mempolicy madvise mbind membarrier mincore mlock mlock2 "
	 "mlockall mmap mprotect mremap munlock munlockall munmap "
	 "set_mempolicy",
	 "memory mappings"},
	{"@network-io",
	 "accept accept4 bind connect getpeername getsockname getsockopt "
	 "listen "
	 "recvfrom recvmmsg recvmsg sendmmsg sendmsg sendto setsockopt "
	 "shutdown "
	 "socket socketpair",
	 "sockets (socket() and socketpair() themselves are limited to "
	 "AF_UNIX without a network)"},
	{"@system-info", "getcpu sysinfo uname", "what machine this is"},
	{"@resources",
	 "getpriority getrlimit ioprio_get prlimit64 sched_get_priority_max "
	 "sched_get_priority_min sched_getaffinity sched_getattr "
	 "sched_getparam "
	 "sched_getscheduler sched_rr_get_interval sched_setaffinity "
	 "sched_yield setpriority setrlimit",
	 "scheduling and resource limits (raising a hard limit needs a "
	 "capability nobody here has)"},
	{"@credentials",
	 "getegid geteuid getgid getgroups getpgid getpgrp getpid getppid "
	 "getresgid getresuid getsid gettid getuid",
	 "asking who one is"},
	{"@default",
	 "arch_prctl exit exit_group futex futex_waitv get_robust_list "
	 "getrandom personality restart_syscall rseq set_robust_list "
	 "set_tid_address",
	 "what every program needs (personality only to ask)"},
	{"@files-extra",
	 "copy_file_range flock ioctl readahead sendfile splice tee vmsplice",
	 "more on descriptors (ioctl without the requests that change a "
	 "terminal)"},
	/* What CPython 3 and its standard library need: the allow-list of
	 * policies/strict.ini, proved by tests/fixtures/stdlib/. */
	{"@python",
	 "@basic-io @file-system @chown @io-event @ipc @process @signal "
	 "@timer @time @sync @memory @network-io @system-info @resources "
	 "@credentials @default @files-extra",
	 "what CPython 3 and its standard library need"},
	/* The groups below are denied whatever the policy says. */
	{"@mount",
	 "chroot fsconfig fsmount fsopen fspick mount mount_setattr move_mount "
	 "open_tree pivot_root umount umount2",
	 "mounting and changing the root"},
	{"@module", "create_module delete_module finit_module init_module",
	 "kernel modules"},
	{"@reboot", "kexec_file_load kexec_load reboot", "rebooting"},
	{"@swap", "swapoff swapon", "swap"},
	{"@keyring", "add_key keyctl request_key", "the kernel keyring"},
	{"@bpf", "bpf", "eBPF"},
	{"@io_uring", "io_uring_enter io_uring_register io_uring_setup",
	 "io_uring, which bypasses this filter"},
	{"@raw-io",
	 "ioperm iopl pciconfig_iobase pciconfig_read pciconfig_write",
	 "raw hardware access"},
	{"@debug",
	 "kcmp lookup_dcookie perf_event_open pidfd_getfd process_madvise "
	 "process_vm_readv process_vm_writev ptrace",
	 "tracing and reading other processes"},
	{"@namespaces", "setns unshare",
	 "new namespaces (clone with namespace flags is denied too; clone3 "
	 "answers ENOSYS so that libc falls back to clone)"},
	{"@clock", "adjtimex clock_adjtime clock_settime settimeofday stime",
	 "setting the clock"},
	{"@cpu-emulation", "modify_ldt subpage_prot switch_endian vm86 vm86old",
	 "CPU emulation"},
	{"@obsolete",
	 "_sysctl afs_syscall bdflush break create_module ftime "
	 "get_kernel_syms getpmsg gtty idle lock mpx prof profil putpmsg "
	 "query_module security sgetmask ssetmask stty sysfs tuxcall ulimit "
	 "uselib ustat vserver",
	 "calls nothing should use any more"},
	{"@privileged",
	 "acct nfsservctl open_by_handle_at quotactl quotactl_fd "
	 "setdomainname sethostname userfaultfd vhangup",
	 "administration"},
	{"@seccomp", "seccomp",
	 "filters of the script's own, by seccomp() or prctl(PR_SET_SECCOMP): "
	 "stacked on hivebox's, their answers would outrank the supervisor's "
	 "and denied calls go unrecorded (seccomp()'s harmless queries are "
	 "denied with the rest)"},
};
const size_t hb_n_syscall_groups = ARRAY_SIZE(hb_syscall_groups);

/* Denied whatever the policy says: what namespaces do not contain, and
 * filters of the script's own, which would hide calls from the
 * supervisor. */
const char hb_always_denied[] =
	"@mount @module @reboot @swap @keyring @bpf @io_uring @raw-io @debug "
	"@namespaces @clock @cpu-emulation @obsolete @privileged @seccomp";

/* And by their arguments (seccomp_filter.c, seccomp_guard.c). */
const char hb_always_denied_args[] =
	"clone with a namespace flag or CLONE_SIGHAND outside a thread, "
	"prctl PR_SET_SECCOMP, personality other than the query, ioctl "
	"requests that change a terminal (TIOCSTI, TCSETS, TCXONC, ...; "
	"`hivebox policy groups` lists them); "
	"no privilege planted (EPERM, event plant_denied): chmod, fchmod, "
	"fchmodat, fchmodat2, creat, and open or openat with O_CREAT or "
	"O_TMPFILE, with a setuid or setgid mode; mknod and mknodat of a "
	"device node or with those bits; renameat2 with RENAME_WHITEOUT; "
	"setxattr, lsetxattr, fsetxattr and setxattrat of "
	"security.capability; prlimit64 of another process (EPERM); "
	"openat2 answers ENOSYS (EPERM if it would plant)";

/* The sandbox has no terminal of its own (no devpts in its /dev): every
 * terminal it holds is the caller's, on descriptors 0-2 or a copy or
 * reopening of them.  So these are denied on every descriptor: injecting
 * input, and changing what the caller's terminal does, whom it belongs
 * to, or its line.  A stopped terminal (TCXONC) would also stop
 * hivebox's own notices.  Asking stays allowed: TCGETS (isatty),
 * TIOCGWINSZ, TIOCGPGRP, FIONREAD, FIONBIO (sockets use it too).
 * In a hivebox shell the only terminal is the sandbox's own pty, whose
 * settings, size, flushing and foreground group are its own business:
 * those (PTY_OK) are allowed there.  Injecting input, the console, the
 * controlling terminal, the line discipline and the line stay denied. */
#define IOCTL(x)                                                               \
	{                                                                      \
		(uint32_t)(x), #x, false                                       \
	}
/* One a shell may make on its own pty (hb_ioctl.own_pty). */
#define PTY_OK(x)                                                              \
	{                                                                      \
		(uint32_t)(x), #x, true                                        \
	}
const struct hb_ioctl hb_denied_ioctls[] = {
	/* Input and the console. */
	IOCTL(TIOCSTI),
	IOCTL(TIOCLINUX),
	IOCTL(TIOCCONS),
	/* Settings: termios, termio, termios2, termiox, their lock. */
	PTY_OK(TCSETS),
	PTY_OK(TCSETSW),
	PTY_OK(TCSETSF),
	PTY_OK(TCSETA),
	PTY_OK(TCSETAW),
	PTY_OK(TCSETAF),
	PTY_OK(TCSETS2),
	PTY_OK(TCSETSW2),
	PTY_OK(TCSETSF2),
	IOCTL(TCSETX),
	IOCTL(TCSETXF),
	IOCTL(TCSETXW),
	IOCTL(TIOCSLCKTRMIOS),
	/* Flow control, flushing, breaks (a break is SysRq on a serial
	 * console). */
	PTY_OK(TCXONC),
	PTY_OK(TCFLSH),
	PTY_OK(TCSBRK),
	PTY_OK(TCSBRKP),
	IOCTL(TIOCSBRK),
	IOCTL(TIOCCBRK),
	/* Whose it is, who may open it, its size, its discipline. */
	IOCTL(TIOCSCTTY),
	PTY_OK(TIOCSPGRP),
	IOCTL(TIOCEXCL),
	IOCTL(TIOCNXCL),
	PTY_OK(TIOCSWINSZ),
	IOCTL(TIOCSETD),
	IOCTL(TIOCVHANGUP),
	/* The line: modem bits and serial settings. */
	IOCTL(TIOCMBIS),
	IOCTL(TIOCMBIC),
	IOCTL(TIOCMSET),
	IOCTL(TIOCSSOFTCAR),
	IOCTL(TIOCSSERIAL),
	IOCTL(TIOCSRS485),
	IOCTL(TIOCSERCONFIG),
};
#undef IOCTL
#undef PTY_OK
const size_t hb_n_denied_ioctls = ARRAY_SIZE(hb_denied_ioctls);

const char *hb_denied_ioctl_name(unsigned long long request)
{
	for (size_t i = 0; i < hb_n_denied_ioctls; i++)
		if (hb_denied_ioctls[i].request == (uint32_t)request)
			return hb_denied_ioctls[i].name;
	return NULL;
}

const struct hb_operation hb_operations[] = {
	{"delete", "unlink unlinkat rmdir",
	 "removing files and directories (renaming onto an existing file is "
	 "'rename')"},
	{"chmod",
	 "chmod fchmod fchmodat fchmodat2 setxattr lsetxattr fsetxattr "
	 "setxattrat",
	 "changing modes, including through POSIX ACLs (so setting any "
	 "extended attribute)"},
	{"chown", "@chown", "changing owners"},
	{"rename", "rename renameat renameat2",
	 "renaming, including onto an existing file"},
	{"link", "link linkat symlink symlinkat", "hard and symbolic links"},
	{"truncate",
	 "truncate truncate64 ftruncate ftruncate64 creat fallocate",
	 "truncating, including open() and openat() with O_TRUNC and "
	 "fallocate() (which can punch or collapse ranges); openat2(), whose "
	 "flags the filter cannot read, answers ENOSYS whatever the policy "
	 "says"},
	{"mknod", "mknod mknodat", "device nodes and FIFOs"},
	{"xattr",
	 "setxattr lsetxattr fsetxattr removexattr lremovexattr fremovexattr "
	 "setxattrat removexattrat",
	 "setting and removing extended attributes"},
};
const size_t hb_n_operations = ARRAY_SIZE(hb_operations);

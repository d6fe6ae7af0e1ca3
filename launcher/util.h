/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every module: cleanup attributes, ownership
 * transfer, diagnostics and string vectors.  Library code never prints and
 * never exits; it returns -errno and fills a struct hb_diag. */
#pragma once

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void hb_freep(void *p)
{
	free(*(void **)p);
}

static inline void hb_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void hb_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ _cleanup_(hb_freep)
#define _cleanup_close_ _cleanup_(hb_closep)
#define _cleanup_fclose_ _cleanup_(hb_fclosep)

/* Hand ownership of a pointer or descriptor to someone else: the cleanup
 * attribute of the old variable then has nothing left to release. */
#define TAKE_PTR(p)                                                            \
	({                                                                     \
		__typeof__(p) _p = (p);                                        \
		(p) = NULL;                                                    \
		_p;                                                            \
	})
#define TAKE_FD(fd)                                                            \
	({                                                                     \
		int _fd = (fd);                                                \
		(fd) = -1;                                                     \
		_fd;                                                           \
	})

/* Where a piece of input went wrong: "strict.ini:12: unknown key ...".
 * line is 0 when the message is about the file as a whole, and file is
 * empty when it is about the command line. */
struct hb_diag {
	char file[512];
	unsigned line;
	char msg[512];
};

int hb_diag_set(struct hb_diag *d, const char *file, unsigned line,
		const char *fmt, ...) _printf_(4, 5);
/* Room for hb_diag_text(): the file, the line and the message. */
#define HB_DIAG_TEXT_MAX (512 + 16 + 512)
/* The diagnostic as one line, "file:line: msg", without the "hivebox: "
 * that hb_diag_print() puts before it.  Returns buf. */
const char *hb_diag_text(const struct hb_diag *d, char *buf, size_t n);
void hb_diag_print(const struct hb_diag *d, FILE *out);

/* A NULL-terminated vector of owned strings. */
struct hb_strv {
	char **v;
	size_t n;
};

int hb_strv_push(struct hb_strv *s, const char *str);
int hb_strv_push_take(struct hb_strv *s, char *str);
void hb_strv_clear(struct hb_strv *s);
bool hb_strv_contains(const struct hb_strv *s, const char *str);

/* Make path absolute against cwd and remove "." / ".." / "//" lexically,
 * without following symlinks; "/a/b/../c" becomes "/a/c". */
int hb_path_absolute(const char *cwd, const char *path, char **ret);
/* Is path equal to or below dir?  Both absolute and normalised. */
bool hb_path_under(const char *path, const char *dir);

/* openat2(2) that follows no symlink anywhere on the way, and no /proc
 * magic link: a path is opened once, this way, and the descriptor is what
 * gets checked and used.  The descriptor, or -errno (-ELOOP for a
 * symlink). */
int hb_open_nofollow(int dir, const char *path, int flags);
/* mkdir -p: the directories above path with parent_mode, path itself with
 * mode.  Whatever exists already is left as it is, even a file as the
 * last component: the caller checks what it got. */
int hb_mkdir_p(const char *path, mode_t parent_mode, mode_t mode);
/* Open the directory path (made 0700 first, with its parents, if
 * create), which must be the caller's and writable by no one else
 * (-EPERM): what it holds decides what hivebox does next. */
/* name in dirfd (AT_FDCWD: a path), made 0700 when create and missing:
 * its fd if it is a directory, not a symlink, owned by euid and written
 * by no one else (-EPERM if not). */
int hb_open_own_dir_at(int dirfd, const char *name, bool create);
int hb_open_own_dir(const char *path, bool create);
/* pidfd_send_signal(2): sig to the process pidfd holds; 0 or -errno. */
int hb_pidfd_signal(int pidfd, int sig);

/* All of fd up to EOF, at most max bytes (-EFBIG past that), read
 * across short reads and EINTR: malloc'd, NUL-terminated, its length in
 * *ret_len if ret_len is not NULL. */
int hb_read_all(int fd, size_t max, char **ret, size_t *ret_len);

/* Run path with argv (its signal dispositions the defaults), stdin on
 * /dev/null, in cwd if not NULL; its stdout captured into *ret_out
 * (at most max bytes, NUL-terminated, the length in *ret_len if not
 * NULL) if ret_out, else left as it is.  Reaped; status as waitpid()
 * gives it. */
int hb_run_capture(const char *path, char *const *argv, const char *cwd,
		   size_t max, char **ret_out, size_t *ret_len, int *status);

/* write() until all of buf is out, across short writes and EINTR. */
int hb_write_all(int fd, const void *buf, size_t len);

/* The len bytes at s as printable ASCII: every byte outside 0x20-0x7e
 * (controls, DEL, anything not ASCII, valid UTF-8 or not, NUL) as \xNN in
 * lower-case hex, the rest as it is; with HB_ESCAPE_BACKSLASH a backslash
 * as \\ too, so that the text names the bytes unambiguously.  malloc'd;
 * NULL if out of memory. */
enum { HB_ESCAPE_BACKSLASH = 1 << 0 };
char *hb_escape_bytes(const char *s, size_t len, unsigned flags);
/* Whether hb_escape_bytes() would change anything. */
bool hb_escape_needed(const char *s, size_t len, unsigned flags);

int hb_parse_u64(const char *s, unsigned long long max,
		 unsigned long long *ret);
char *hb_strip(char *s);

/* Write text to the existing file path (a /proc or /sys file, say) in one
 * write(2): 0, -errno, or -EIO if it took only part. */
int hb_write_text(const char *path, const char *text);
/* Read up to size - 1 bytes of path into buf, NUL-terminated: the number
 * read, or -errno. */
int hb_read_text(const char *path, char *buf, size_t size);

/* How many threads this process has (Threads: in /proc/self/status), or
 * -errno. */
int hb_threads(void);

/* Open path for reading, refusing anything but a regular file: NULL with
 * *ret_err = -errno, or -EINVAL for another type.  Opened non-blocking,
 * so that a FIFO is refused at once instead of waiting for a writer. */
FILE *hb_fopen_regular(const char *path, int *ret_err);

/* Milliseconds on clock: CLOCK_MONOTONIC for intervals and deadlines
 * (hb_now_ms()), CLOCK_REALTIME for dates. */
unsigned long long hb_clock_ms(clockid_t clock);
unsigned long long hb_now_ms(void);
/* ms as a timespec (timerfd_settime(), sigtimedwait()), and a timeval
 * (getrusage(), wait4()) in milliseconds. */
struct timespec hb_ms_timespec(unsigned long long ms);
unsigned long long hb_timeval_ms(const struct timeval *tv);

/* Signal dispositions, set once by whoever plays hivebox's part (main,
 * the unit tests).  No signal whose default ends a process may end
 * hivebox without its end record, its result and the removal of what it
 * added to the host: each is either forwarded (below) or ignored here.
 * SIGPIPE and SIGXFSZ, so that a reader that goes away (an alert command
 * that does not read its stdin, a closed --result-fd) or the caller's
 * RLIMIT_FSIZE is an error to handle, not the end of the supervisor;
 * SIGXCPU likewise for the caller's RLIMIT_CPU (its hard limit still
 * kills).  SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSTKFLT and the
 * real-time signals, which hivebox never uses, so that one sent by
 * mistake is a no-op.  SIGTSTP, SIGTTIN and SIGTTOU, so that Ctrl-Z cannot
 * stop the supervisor while the sandbox, in a session of its own, runs on
 * without its timeout, its sampling and the answers to its denied calls.
 * The signals of a fault (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP,
 * SIGSYS, SIGABRT) keep their default: ignoring a real one would loop. */
void hb_signals_init(void);
/* The signals that would end hivebox by default and are passed on to the
 * sandbox instead, so that hivebox always gets to remove what it added to
 * the host: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2.  The
 * supervisor receives them, the sandbox init sends them on to every
 * process inside. */
void hb_signals_forwarded(sigset_t *ret);
/* In a child, before execve: every disposition and the mask back to the
 * default, since an ignored signal stays ignored across exec. */
void hb_signals_reset(void);

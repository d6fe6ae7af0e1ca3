/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

int hb_diag_set(struct hb_diag *d, const char *file, unsigned line,
		const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return -EINVAL;
	snprintf(d->file, sizeof(d->file), "%s", file ? file : "");
	d->line = line;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *hb_diag_text(const struct hb_diag *d, char *buf, size_t n)
{
	if (d->file[0] && d->line)
		snprintf(buf, n, "%s:%u: %s", d->file, d->line, d->msg);
	else if (d->file[0])
		snprintf(buf, n, "%s: %s", d->file, d->msg);
	else
		snprintf(buf, n, "%s", d->msg);
	return buf;
}

void hb_diag_print(const struct hb_diag *d, FILE *out)
{
	char text[HB_DIAG_TEXT_MAX];

	fprintf(out, "hivebox: %s\n", hb_diag_text(d, text, sizeof(text)));
}

int hb_strv_push_take(struct hb_strv *s, char *str)
{
	char **v;

	if (!str)
		return -ENOMEM;
	v = realloc(s->v, (s->n + 2) * sizeof(char *));
	if (!v) {
		free(str);
		return -ENOMEM;
	}
	v[s->n++] = str;
	v[s->n] = NULL;
	s->v = v;
	return 0;
}

int hb_strv_push(struct hb_strv *s, const char *str)
{
	return hb_strv_push_take(s, strdup(str));
}

void hb_strv_clear(struct hb_strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

bool hb_strv_contains(const struct hb_strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return true;
	return false;
}

/* Append one component to out (which holds a normalised absolute path),
 * handling "." and "..". */
static void path_push(char *out, const char *comp, size_t len)
{
	size_t olen = strlen(out);

	if (len == 0 || (len == 1 && comp[0] == '.'))
		return;
	if (len == 2 && comp[0] == '.' && comp[1] == '.') {
		char *slash = strrchr(out, '/');
		if (slash == out)
			out[1] = '\0';
		else if (slash)
			*slash = '\0';
		return;
	}
	if (olen > 1)
		out[olen++] = '/';
	memcpy(out + olen, comp, len);
	out[olen + len] = '\0';
}

static void path_push_all(char *out, const char *p)
{
	while (*p) {
		size_t len = strcspn(p, "/");
		path_push(out, p, len);
		p += len;
		while (*p == '/')
			p++;
	}
}

int hb_path_absolute(const char *cwd, const char *path, char **ret)
{
	size_t cap;
	char *out;

	if (!path || !*path)
		return -EINVAL;
	if (path[0] != '/' && (!cwd || cwd[0] != '/'))
		return -EINVAL;
	cap = strlen(path) + (cwd ? strlen(cwd) : 0) + 3;
	out = malloc(cap);
	if (!out)
		return -ENOMEM;
	strcpy(out, "/");
	if (path[0] != '/')
		path_push_all(out, cwd);
	path_push_all(out, path);
	*ret = out;
	return 0;
}

bool hb_path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/');
}

int hb_open_nofollow(int dir, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned)flags,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dir, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

int hb_mkdir_p(const char *path, mode_t parent_mode, mode_t mode)
{
	_cleanup_free_ char *copy = NULL;

	if (!*path)
		return -ENOENT;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, parent_mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int hb_open_own_dir_at(int dirfd, const char *name, bool create)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (create && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return -EPERM;
	return TAKE_FD(fd);
}

int hb_open_own_dir(const char *path, bool create)
{
	int r;

	if (!path || !*path)
		return -EINVAL;
	if (create) {
		r = hb_mkdir_p(path, 0700, 0700);
		if (r < 0)
			return r;
	}
	return hb_open_own_dir_at(AT_FDCWD, path, false);
}

static _Noreturn void run_child(const char *path, char *const *argv,
				const char *cwd, int null, int wr)
{
	hb_signals_reset();
	if (dup2(null, STDIN_FILENO) < 0 ||
	    (wr >= 0 && dup2(wr, STDOUT_FILENO) < 0))
		_exit(127);
	if (cwd && chdir(cwd) < 0)
		_exit(125);
	execv(path, argv);
	_exit(127);
}

int hb_run_capture(const char *path, char *const *argv, const char *cwd,
		   size_t max, char **ret_out, size_t *ret_len, int *status)
{
	_cleanup_close_ int rd = -1, wr = -1, null = -1;
	int p[2], r = 0;
	pid_t pid;

	if (ret_out) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		rd = p[0];
		wr = p[1];
	}
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		run_child(path, argv, cwd, null, wr);
	hb_closep(&wr);
	if (ret_out)
		r = hb_read_all(rd, max, ret_out, ret_len);
	/* Reaped whatever was read: a child left behind is not ours to
	 * leave. */
	hb_closep(&rd);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR) {
			r = r ?: -errno;
			break;
		}
	if (r < 0 && ret_out && *ret_out) {
		free(*ret_out);
		*ret_out = NULL;
	}
	return r;
}

int hb_read_all(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = malloc(max + 1);
	size_t len = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	while ((n = read(fd, buf + len, max + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		len += (size_t)n;
		if (len > max)
			return -EFBIG;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int hb_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENOSPC;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static bool plain_byte(unsigned char c, unsigned flags)
{
	return c >= 0x20 && c < 0x7f &&
	       (c != '\\' || !(flags & HB_ESCAPE_BACKSLASH));
}

bool hb_escape_needed(const char *s, size_t len, unsigned flags)
{
	for (size_t i = 0; i < len; i++)
		if (!plain_byte((unsigned char)s[i], flags))
			return true;
	return false;
}

char *hb_escape_bytes(const char *s, size_t len, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	char *out = len < SIZE_MAX / 4 ? malloc(len * 4 + 1) : NULL, *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (plain_byte(c, flags)) {
			*o++ = (char)c;
		} else if (c == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

int hb_parse_u64(const char *s, unsigned long long max, unsigned long long *ret)
{
	unsigned long long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		if (v > (max - (unsigned)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned)(*p - '0');
	}
	*ret = v;
	return 0;
}

char *hb_strip(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int hb_write_text(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int hb_read_text(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

int hb_threads(void)
{
	char buf[4096];
	const char *line;
	unsigned long long n;
	int r = hb_read_text("/proc/self/status", buf, sizeof(buf));

	if (r < 0)
		return r;
	line = strstr(buf, "\nThreads:");
	if (!line)
		return -EIO;
	line += strlen("\nThreads:");
	line += strspn(line, " \t");
	r = hb_parse_u64(strndupa(line, strcspn(line, "\n")), INT_MAX, &n);
	return r < 0 ? -EIO : (int)n;
}

FILE *hb_fopen_regular(const char *path, int *ret_err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	FILE *f = NULL;
	int flags;

	*ret_err = 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		*ret_err = -errno;
	else if (!S_ISREG(st.st_mode))
		*ret_err = -EINVAL;
	else if ((flags = fcntl(fd, F_GETFL)) < 0 ||
		 fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
		 !(f = fdopen(fd, "r")))
		*ret_err = -errno;
	else
		TAKE_FD(fd);
	return f;
}

unsigned long long hb_clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (unsigned long long)ts.tv_sec * 1000 +
	       (unsigned long long)ts.tv_nsec / 1000000;
}

unsigned long long hb_now_ms(void)
{
	return hb_clock_ms(CLOCK_MONOTONIC);
}

struct timespec hb_ms_timespec(unsigned long long ms)
{
	return (struct timespec){.tv_sec = (time_t)(ms / 1000),
				 .tv_nsec = (long)(ms % 1000) * 1000000L};
}

unsigned long long hb_timeval_ms(const struct timeval *tv)
{
	return (unsigned long long)tv->tv_sec * 1000 +
	       (unsigned long long)tv->tv_usec / 1000;
}

void hb_signals_init(void)
{
	static const int ignored[] = {
		SIGPIPE, SIGXFSZ,   SIGXCPU, SIGTSTP, SIGTTIN, SIGTTOU,
		SIGALRM, SIGVTALRM, SIGPROF, SIGIO,   SIGPWR,  SIGSTKFLT,
	};

	for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
		signal(ignored[i], SIG_IGN);
	/* Nothing in hivebox uses a real-time signal: one sent to it by
	 * mistake must not end it either. */
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		signal(sig, SIG_IGN);
}

void hb_signals_forwarded(sigset_t *ret)
{
	static const int forwarded[] = {SIGINT,	 SIGTERM, SIGHUP,
					SIGQUIT, SIGUSR1, SIGUSR2};

	sigemptyset(ret);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(ret, forwarded[i]);
}

void hb_signals_reset(void)
{
	sigset_t none;

	for (int sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int hb_pidfd_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno
								       : 0;
}

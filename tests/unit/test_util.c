/* SPDX-License-Identifier: MIT */
/* util.c: lexical paths, numbers, stripping, string vectors, diagnostics. */
#include "helpers.h"
#include "util.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

static void expect_abs(const char *cwd, const char *path, const char *want)
{
	char *got = NULL;
	int r = hb_path_absolute(cwd, path, &got);

	cr_assert_eq(r, 0, "hb_path_absolute(%s, %s) = %d", cwd ? cwd : "NULL",
		     path, r);
	cr_assert_str_eq(got, want, "hb_path_absolute(%s, %s)",
			 cwd ? cwd : "NULL", path);
	free(got);
}

Test(path_absolute, absolute_path_ignores_cwd)
{
	expect_abs("/home/u", "/etc/passwd", "/etc/passwd");
	expect_abs(NULL, "/etc/passwd", "/etc/passwd");
}

Test(path_absolute, relative_path_joins_cwd)
{
	expect_abs("/home/u", "data", "/home/u/data");
	expect_abs("/home/u", "data/in.csv", "/home/u/data/in.csv");
	expect_abs("/", "data", "/data");
}

Test(path_absolute, dot_and_dotdot)
{
	expect_abs("/home/u", "./data", "/home/u/data");
	expect_abs("/home/u", "../v/x", "/home/v/x");
	expect_abs("/home/u", "..", "/home");
	expect_abs("/home/u", "../..", "/");
	expect_abs("/", "/a/b/../c", "/a/c");
	expect_abs("/", "/a/./b/.", "/a/b");
	expect_abs("/", "/a/b/c/../../d", "/a/d");
}

Test(path_absolute, dotdot_stops_at_root)
{
	expect_abs("/", "/..", "/");
	expect_abs("/", "/../../etc", "/etc");
	expect_abs("/a", "../../../b", "/b");
}

Test(path_absolute, slashes_collapse)
{
	expect_abs("/", "//a//b///c", "/a/b/c");
	expect_abs("/", "/a/b/", "/a/b");
	expect_abs("/", "/", "/");
	expect_abs("/x//y/", "z//", "/x/y/z");
}

Test(path_absolute, cwd_is_normalised_too)
{
	expect_abs("/a/./b/../c", "d", "/a/c/d");
}

Test(path_absolute, no_symlink_resolution)
{
	/* /proc/self is a symlink; the lexical result keeps it. */
	expect_abs("/", "/proc/self/../1", "/proc/1");
}

Test(path_absolute, errors)
{
	char *got = NULL;

	cr_assert_eq(hb_path_absolute("/a", "", &got), -EINVAL);
	cr_assert_eq(hb_path_absolute("/a", NULL, &got), -EINVAL);
	cr_assert_eq(hb_path_absolute(NULL, "rel", &got), -EINVAL);
	cr_assert_eq(hb_path_absolute("rel/cwd", "x", &got), -EINVAL);
	cr_assert_null(got, "no result on error");
}

Test(path_under, equal_and_below)
{
	cr_assert(hb_path_under("/a/b", "/a/b"));
	cr_assert(hb_path_under("/a/b/c", "/a/b"));
	cr_assert(hb_path_under("/a/b/c/d", "/a"));
	cr_assert(hb_path_under("/anything", "/"));
	cr_assert(hb_path_under("/", "/"));
}

Test(path_under, prefix_is_not_parent)
{
	cr_assert_not(hb_path_under("/a/bc", "/a/b"));
	cr_assert_not(hb_path_under("/ab", "/a"));
	cr_assert_not(hb_path_under("/a", "/a/b"));
	cr_assert_not(hb_path_under("/", "/a"));
	cr_assert_not(hb_path_under("/procfs", "/proc"));
}

Test(parse_u64, plain_numbers)
{
	unsigned long long v = 99;

	cr_assert_eq(hb_parse_u64("0", 10, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(hb_parse_u64("12345", ULLONG_MAX, &v), 0);
	cr_assert_eq(v, 12345);
	cr_assert_eq(hb_parse_u64("007", ULLONG_MAX, &v), 0);
	cr_assert_eq(v, 7);
}

Test(parse_u64, max_is_inclusive)
{
	unsigned long long v = 0;

	cr_assert_eq(hb_parse_u64("100", 100, &v), 0);
	cr_assert_eq(v, 100);
	cr_assert_eq(hb_parse_u64("101", 100, &v), -ERANGE);
	cr_assert_eq(hb_parse_u64("1000", 100, &v), -ERANGE);
	cr_assert_eq(hb_parse_u64("4294967294", 4294967294ULL, &v), 0);
	cr_assert_eq(v, 4294967294ULL);
	cr_assert_eq(hb_parse_u64("4294967295", 4294967294ULL, &v), -ERANGE);
}

Test(parse_u64, overflow)
{
	unsigned long long v = 0;

	cr_assert_eq(hb_parse_u64("18446744073709551615", ULLONG_MAX, &v), 0);
	cr_assert_eq(v, ULLONG_MAX);
	cr_assert_eq(hb_parse_u64("18446744073709551616", ULLONG_MAX, &v),
		     -ERANGE);
	cr_assert_eq(hb_parse_u64("18446744073709551620", ULLONG_MAX, &v),
		     -ERANGE);
	cr_assert_eq(hb_parse_u64("99999999999999999999999", ULLONG_MAX, &v),
		     -ERANGE);
}

Test(parse_u64, not_a_number)
{
	const char *bad[] = {"",   "-1",  "+1",	   " 1",   "1 ",
			     "1a", "abc", "512MB", "0x10", "1.5"};
	unsigned long long v = 42;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_eq(hb_parse_u64(bad[i], ULLONG_MAX, &v), -EINVAL,
			     "'%s' must be refused", bad[i]);
	cr_assert_eq(hb_parse_u64(NULL, ULLONG_MAX, &v), -EINVAL);
	cr_assert_eq(v, 42, "a refused number leaves ret alone");
}

Test(strip, both_ends)
{
	char a[] = "  a b \t\n";
	char b[] = "plain";
	char c[] = " \t \n";
	char d[] = "";

	cr_assert_str_eq(hb_strip(a), "a b");
	cr_assert_str_eq(hb_strip(b), "plain");
	cr_assert_str_eq(hb_strip(c), "");
	cr_assert_str_eq(hb_strip(d), "");
}

Test(strv, push_keeps_order_and_null_terminates)
{
	struct hb_strv s = {0};
	const char *src = "two";

	cr_assert_eq(hb_strv_push(&s, "one"), 0);
	cr_assert_eq(hb_strv_push(&s, src), 0);
	cr_assert_eq(hb_strv_push_take(&s, strdup("three")), 0);
	cr_assert_eq(s.n, 3);
	cr_assert_str_eq(s.v[0], "one");
	cr_assert_str_eq(s.v[1], "two");
	cr_assert_str_eq(s.v[2], "three");
	cr_assert_null(s.v[3]);
	cr_assert_neq(s.v[1], src, "push copies");
	hb_strv_clear(&s);
	cr_assert_eq(s.n, 0);
	cr_assert_null(s.v);
}

Test(strv, push_take_null_is_enomem)
{
	struct hb_strv s = {0};

	cr_assert_eq(hb_strv_push_take(&s, NULL), -ENOMEM);
	cr_assert_eq(s.n, 0);
	hb_strv_clear(&s);
}

Test(strv, contains)
{
	struct hb_strv s = {0};

	cr_assert_not(hb_strv_contains(&s, "a"));
	hb_strv_push(&s, "alpha");
	hb_strv_push(&s, "beta");
	cr_assert(hb_strv_contains(&s, "beta"));
	cr_assert(hb_strv_contains(&s, "alpha"));
	cr_assert_not(hb_strv_contains(&s, "alp"));
	cr_assert_not(hb_strv_contains(&s, "alphabet"));
	hb_strv_clear(&s);
}

Test(take, ptr_and_fd)
{
	char *p = strdup("x");
	char *q = TAKE_PTR(p);
	int fd = 7;
	int g = TAKE_FD(fd);

	cr_assert_null(p);
	cr_assert_str_eq(q, "x");
	cr_assert_eq(fd, -1);
	cr_assert_eq(g, 7);
	free(q);
}

Test(mkdir_p, nested_with_both_modes)
{
	char *dir = tmpdir_new();
	char *top = path_join(dir, "a");
	char *deep = path_join(dir, "a/b/c");
	struct stat st;

	umask(0);
	cr_assert_eq(hb_mkdir_p(deep, 0751, 0700), 0);
	cr_assert_eq(stat(top, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0751);
	cr_assert_eq(stat(deep, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	cr_assert_eq(hb_mkdir_p(deep, 0751, 0700), 0, "existing is fine");
	free(top);
	free(deep);
	tmpdir_remove(dir);
}

Test(mkdir_p, a_file_on_the_way)
{
	char *dir = tmpdir_new();
	char *below = path_join(dir, "f/sub");

	make_file(dir, "f", "x");
	cr_assert_eq(hb_mkdir_p(below, 0755, 0755), -ENOTDIR);
	cr_assert_eq(hb_mkdir_p("", 0755, 0755), -ENOENT);
	free(below);
	tmpdir_remove(dir);
}

Test(write_all, every_byte_lands)
{
	size_t len = 1u << 20;
	char *buf = malloc(len), *back = malloc(len);
	int fd = memfd_create("write_all", MFD_CLOEXEC);
	struct stat st;

	cr_assert(buf && back && fd >= 0);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(i * 7);
	cr_assert_eq(hb_write_all(fd, buf, len), 0);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq((size_t)st.st_size, len);
	cr_assert_eq(pread(fd, back, len, 0), (ssize_t)len);
	cr_assert_eq(memcmp(buf, back, len), 0);
	close(fd);
	free(buf);
	free(back);
}

Test(write_all, errors_are_negative_errno)
{
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(hb_write_all(fd, "x", 1), -ENOSPC);
	close(fd);
	cr_assert_eq(hb_write_all(-1, "x", 1), -EBADF);
	cr_assert_eq(hb_write_all(-1, "", 0), 0, "nothing to write");
}

Test(diag, set_returns_einval_and_fills)
{
	struct hb_diag d = {0};

	cr_assert_eq(hb_diag_set(&d, "a.ini", 12, "unknown key '%s'", "k"),
		     -EINVAL);
	cr_assert_str_eq(d.file, "a.ini");
	cr_assert_eq(d.line, 12);
	cr_assert_str_eq(d.msg, "unknown key 'k'");
	cr_assert_eq(hb_diag_set(&d, NULL, 0, "plain"), -EINVAL);
	cr_assert_str_eq(d.file, "");
	cr_assert_eq(d.line, 0);
	cr_assert_eq(hb_diag_set(NULL, "x", 1, "y"), -EINVAL);
}

Test(diag, long_message_is_truncated)
{
	struct hb_diag d = {0};
	char big[2000];

	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hb_diag_set(&d, big, 1, "%s", big);
	cr_assert_eq(strlen(d.file), sizeof(d.file) - 1);
	cr_assert_eq(strlen(d.msg), sizeof(d.msg) - 1);
}

Test(diag, print_formats)
{
	struct hb_diag d = {0};
	char *s;

	hb_diag_set(&d, "strict.ini", 12, "unknown key 'memroy_mb'");
	s = diag_print_text(&d);
	cr_assert_str_eq(s,
			 "hivebox: strict.ini:12: unknown key 'memroy_mb'\n");
	free(s);
	hb_diag_set(&d, "strict.ini", 0, "cannot read policy");
	s = diag_print_text(&d);
	cr_assert_str_eq(s, "hivebox: strict.ini: cannot read policy\n");
	free(s);
	hb_diag_set(&d, NULL, 0, "no script");
	s = diag_print_text(&d);
	cr_assert_str_eq(s, "hivebox: no script\n");
	free(s);
}

/* cppcheck-suppress unknownMacro */
Test(fopen_regular, reads_a_regular_file_blocking, .timeout = 10)
{
	char *dir = tmpdir_new();
	char *path = path_join(dir, "f.ini");
	char line[16] = "";
	int err = 1;
	FILE *f;

	make_file(dir, "f.ini", "[a]\n");
	f = hb_fopen_regular(path, &err);
	cr_assert_not_null(f, "%s", strerror(-err));
	cr_assert_eq(err, 0);
	cr_assert_eq(fcntl(fileno(f), F_GETFL) & O_NONBLOCK, 0,
		     "O_NONBLOCK is cleared");
	cr_assert(fcntl(fileno(f), F_GETFD) & FD_CLOEXEC);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	cr_assert_str_eq(line, "[a]\n");
	fclose(f);
	free(path);
	tmpdir_remove(dir);
}

/* cppcheck-suppress unknownMacro */
Test(fopen_regular, refuses_what_is_not_a_regular_file, .timeout = 10)
{
	char *dir = tmpdir_new();
	char *fifo = path_join(dir, "fifo");
	char *missing = path_join(dir, "missing");
	int err = 0;

	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_null(hb_fopen_regular(fifo, &err), "a FIFO is opened");
	cr_assert_eq(err, -EINVAL);
	cr_assert_null(hb_fopen_regular(dir, &err), "a directory is opened");
	cr_assert_eq(err, -EINVAL);
	cr_assert_null(hb_fopen_regular(missing, &err));
	cr_assert_eq(err, -ENOENT);
	free(fifo);
	free(missing);
	tmpdir_remove(dir);
}

Test(util, milliseconds)
{
	struct timeval tv = {.tv_sec = 3, .tv_usec = 456789};
	struct timespec ts = hb_ms_timespec(12345), before, after;
	unsigned long long a, b, wall;

	cr_assert_eq(ts.tv_sec, 12);
	cr_assert_eq(ts.tv_nsec, 345000000L);
	ts = hb_ms_timespec(999);
	cr_assert_eq(ts.tv_sec, 0);
	cr_assert_eq(ts.tv_nsec, 999000000L);
	cr_assert_eq(hb_timeval_ms(&tv), 3456);
	a = hb_now_ms();
	/* 20 ms whole: a signal to the test's process ends usleep() early. */
	ts = hb_ms_timespec(20);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	b = hb_now_ms();
	cr_assert_geq(b - a, 20, "%llu ms", b - a);
	/* The wall clock in ms is the epoch's, not the boot's.  Bracketed by
	 * clock_gettime(), not time(): time() reads the coarse clock, which
	 * lags a tick behind at a second's turn (a failure 1 run in ~10). */
	clock_gettime(CLOCK_REALTIME, &before);
	wall = hb_clock_ms(CLOCK_REALTIME);
	clock_gettime(CLOCK_REALTIME, &after);
	cr_assert_geq(wall / 1000, (unsigned long long)before.tv_sec);
	cr_assert_leq(wall / 1000, (unsigned long long)after.tv_sec);
}

/* One list: what the supervisor receives is what the init passes on. */
Test(util, forwarded_signals)
{
	static const int yes[] = {SIGINT,  SIGTERM, SIGHUP,
				  SIGQUIT, SIGUSR1, SIGUSR2};
	static const int no[] = {SIGKILL, SIGSTOP, SIGCHLD, SIGPIPE,
				 SIGTSTP, SIGXCPU, SIGALRM};
	sigset_t set;

	hb_signals_forwarded(&set);
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		cr_assert_eq(sigismember(&set, yes[i]), 1, "%d", yes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		cr_assert_eq(sigismember(&set, no[i]), 0, "%d", no[i]);
}

static bool ignored(int sig)
{
	struct sigaction sa;

	cr_assert_eq(sigaction(sig, NULL, &sa), 0);
	return sa.sa_handler == SIG_IGN;
}

/* hivebox ignores what would stop it, or end it without its records,
 * and that it does not forward; what it execs gets every disposition
 * back at its default. */
Test(util, signal_dispositions)
{
	static const int stop[] = {
		SIGPIPE, SIGXFSZ,   SIGXCPU, SIGTSTP, SIGTTIN, SIGTTOU,
		SIGALRM, SIGVTALRM, SIGPROF, SIGIO,   SIGPWR,  SIGSTKFLT,
	};
	static const int kept[] = {SIGTERM, SIGINT, SIGHUP, SIGSEGV, SIGABRT};
	int status;
	pid_t pid;

	/* From the defaults: a shell starts a background job with SIGINT
	 * and SIGQUIT ignored, which hb_signals_init() rightly leaves as it
	 * finds them. */
	hb_signals_reset();
	hb_signals_init();
	for (size_t i = 0; i < ARRAY_SIZE(stop); i++)
		cr_assert(ignored(stop[i]), "signal %d", stop[i]);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		cr_assert(ignored(sig), "signal %d", sig);
	for (size_t i = 0; i < ARRAY_SIZE(kept); i++)
		cr_assert_not(ignored(kept[i]), "signal %d", kept[i]);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int bad = 0;
		struct sigaction sa;
		hb_signals_reset();
		for (size_t i = 0; i < ARRAY_SIZE(stop); i++) {
			sigaction(stop[i], NULL, &sa);
			bad += sa.sa_handler != SIG_DFL;
		}
		sigaction(SIGRTMIN + 1, NULL, &sa);
		bad += sa.sa_handler != SIG_DFL;
		_exit(bad);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x",
		  status);
}

static void *wait_on(void *fd)
{
	char c;

	(void)!read(*(int *)fd, &c, 1);
	return NULL;
}

/* Criterion runs a thread of its own beside the test's. */
Test(util, threads)
{
	int before = hb_threads();
	pthread_t t;
	int p[2];

	cr_assert_geq(before, 1);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(pthread_create(&t, NULL, wait_on, &p[0]), 0);
	cr_assert_eq(hb_threads(), before + 1);
	close(p[1]);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(hb_threads(), before);
	close(p[0]);
}

/* One expectation of hb_escape_bytes: len bytes of in, and what they
 * become. */
static void expect_escaped(const char *in, size_t len, const char *want)
{
	char *got = hb_escape_bytes(in, len, HB_ESCAPE_BACKSLASH);
	bool same = strlen(want) == len && memcmp(in, want, len) == 0;

	cr_assert_not_null(got);
	cr_assert_str_eq(got, want);
	cr_assert_eq(hb_escape_needed(in, len, HB_ESCAPE_BACKSLASH), !same,
		     "for %s", want);
	free(got);
}

#define ESCAPED(in, want) expect_escaped(in, sizeof(in) - 1, want)

Test(escape_bytes, each_class_of_byte)
{
	/* Printable ASCII stays as it is, the space and ~ included. */
	ESCAPED("/srv/a b~.py", "/srv/a b~.py");
	ESCAPED("", "");
	/* The backslash is doubled: "\x41" in a name is not an escape. */
	ESCAPED("a\\x41", "a\\\\x41");
	/* C0 controls, newline and tab too, and an escape sequence. */
	ESCAPED("\x01\n\t\x1b[31m", "\\x01\\x0a\\x09\\x1b[31m");
	/* DEL. */
	ESCAPED("a\x7f", "a\\x7f");
	/* A C1 control as a raw byte, and as UTF-8 (U+009B). */
	ESCAPED("\x9b", "\\x9b");
	ESCAPED("\xc2\x9b", "\\xc2\\x9b");
	/* U+202E, right-to-left override, and a plain letter, U+00E9:
	 * anything not ASCII, valid UTF-8 or not. */
	ESCAPED("\xe2\x80\xae", "\\xe2\\x80\\xae");
	ESCAPED("\xc3\xa9", "\\xc3\\xa9");
	/* Invalid UTF-8: bytes never in it, a lone lead byte, a lone
	 * continuation byte, an overlong encoding. */
	ESCAPED("\xff\xfe", "\\xff\\xfe");
	ESCAPED("\xc3-", "\\xc3-");
	ESCAPED("\x80", "\\x80");
	ESCAPED("\xc0\xaf", "\\xc0\\xaf");
	/* A NUL within the length given. */
	ESCAPED("a\0b", "a\\x00b");
}

/* Every byte value, and the output read back: nothing is lost, nothing
 * but printable ASCII comes out. */
Test(escape_bytes, every_byte_round_trips)
{
	char in[256], back[256], *out, *p;
	size_t n = 0;

	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	out = hb_escape_bytes(in, sizeof(in), HB_ESCAPE_BACKSLASH);
	cr_assert_not_null(out);
	for (p = out; *p; p++)
		cr_assert(*p >= 0x20 && *p < 0x7f, "byte %#x", *p);
	for (p = out; *p && n < sizeof(back); n++)
		if (p[0] != '\\') {
			back[n] = *p++;
		} else if (p[1] == '\\') {
			back[n] = '\\';
			p += 2;
		} else {
			cr_assert_eq(p[1], 'x');
			back[n] =
				(char)strtol((char[]){p[2], p[3], 0}, NULL, 16);
			p += 4;
		}
	cr_assert_eq(n, sizeof(in));
	cr_assert_eq(*p, '\0');
	cr_assert_arr_eq(back, in, sizeof(in));
	free(out);
}

/* A pipe holding text, its write end closed: what hb_read_all reads. */
static int pipe_of(const char *text)
{
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
	close(p[1]);
	return p[0];
}

Test(util, read_all_up_to_max)
{
	char *out = NULL;
	size_t len = 0;
	int fd = pipe_of("0123456789");

	cr_assert_eq(hb_read_all(fd, 10, &out, &len), 0);
	close(fd);
	cr_assert_str_eq(out, "0123456789");
	cr_assert_eq(len, 10);
	free(out);
	out = NULL;
	fd = pipe_of("0123456789");
	cr_assert_eq(hb_read_all(fd, 9, &out, NULL), -EFBIG);
	close(fd);
	cr_assert_null(out);
	fd = pipe_of("");
	cr_assert_eq(hb_read_all(fd, 9, &out, NULL), 0);
	close(fd);
	cr_assert_str_eq(out, "");
	free(out);
}

Test(util, open_own_dir_at_refuses_what_is_not_ours)
{
	char base[] = "/tmp/hb-owndir-XXXXXX";
	int dir, fd, r;

	cr_assert_not_null(mkdtemp(base));
	dir = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dir, 0);
	fd = hb_open_own_dir_at(dir, "made", true);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(hb_open_own_dir_at(dir, "absent", false), -ENOENT);
	cr_assert_eq(symlinkat("made", dir, "link"), 0);
	/* O_NOFOLLOW with O_DIRECTORY: a symlink is "not a directory". */
	r = hb_open_own_dir_at(dir, "link", false);
	cr_assert(r == -ENOTDIR || r == -ELOOP, "%d", r);
	cr_assert_eq(fchmodat(dir, "made", 0770, 0), 0);
	cr_assert_eq(hb_open_own_dir_at(dir, "made", true), -EPERM);
	unlinkat(dir, "link", 0);
	unlinkat(dir, "made", AT_REMOVEDIR);
	close(dir);
	rmdir(base);
}

Test(util, run_capture_reads_stdout_in_cwd_and_reaps)
{
	char *argv[] = {"/bin/sh", "-c", "pwd; exit 3", NULL};
	char *big[] = {"/bin/sh", "-c", "echo 0123456789", NULL};
	char *out = NULL;
	size_t len = 0;
	int status = 0;

	cr_assert_eq(
		hb_run_capture("/bin/sh", argv, "/", 64, &out, &len, &status),
		0);
	cr_assert_str_eq(out, "/\n");
	cr_assert_eq(len, 2);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	free(out);
	out = NULL;
	cr_assert_eq(
		hb_run_capture("/bin/sh", big, NULL, 5, &out, NULL, &status),
		-EFBIG);
	cr_assert_null(out);
}

/* SPDX-License-Identifier: MIT */
/* notice.c: notices on stderr that never block hivebox, whatever holds
 * the descriptor up, and count what they drop. */
#include "notice.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>

/* cppcheck-suppress unknownMacro */
TestSuite(notice, .timeout = 20);

static struct hb_notice q;

/* What fd has to read now, as a string (the caller frees it). */
static char *take(int fd)
{
	char *buf = calloc(1, 1 << 17);
	size_t len = 0;
	ssize_t n;

	cr_assert_not_null(buf);
	while (len < (1 << 17) - 1 &&
	       (n = read(fd, buf + len, (1 << 17) - 1 - len)) > 0)
		len += (size_t)n;
	return buf;
}

static void nonblocking(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	cr_assert_geq(fl, 0);
	cr_assert_eq(
		fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK), 0);
}

/* Fill a pipe through a description of its own, so that the pipe's
 * write end keeps its flags. */
static void fill_pipe(int wfd)
{
	char path[32], block[4096];
	int fd;

	memset(block, 'f', sizeof(block));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", wfd);
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	while (write(fd, block, sizeof(block)) > 0)
		;
	cr_assert_eq(errno, EAGAIN);
	close(fd);
}

Test(notice, written_at_once_as_one_line_each)
{
	char long_msg[3000], *got;
	int p[2];

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	hb_notice_open(&q, p[1]);
	cr_assert_eq(q.how, HB_NOTICE_REOPENED);
	hb_notice_add(&q, "hivebox: %s: %s", "timeout", "ran too long");
	/* A message cannot play with the caller's terminal. */
	hb_notice_add(&q, "a\033[2Jb\tc\nd\n");
	memset(long_msg, 'x', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	hb_notice_add(&q, "%s", long_msg);
	cr_assert_eq(q.len, 0, "all written");
	cr_assert_eq(q.pending, 0);
	cr_assert_eq(q.dropped, 0);
	nonblocking(p[0], true);
	got = take(p[0]);
	cr_assert_eq(strncmp(got,
			     "hivebox: timeout: ran too long\na?[2Jb?c?d\n",
			     42),
		     0, "%s", got);
	cr_assert_eq(strlen(got + 42), HB_NOTICE_LINE, "cut to one line");
	cr_assert_eq(got[42 + HB_NOTICE_LINE - 1], '\n');
	cr_assert_eq(strchr(got + 42, '\n'), got + 42 + HB_NOTICE_LINE - 1);
	free(got);
	hb_notice_close(&q);
}

/* A pipe nobody reads: every add returns at once, the queue holds what
 * it can and counts the rest, and the pipe's own description never gets
 * O_NONBLOCK (the caller's shell shares it). */
Test(notice, a_full_pipe_never_blocks_and_drops_with_a_count)
{
	char *got, *all = calloc(1, 1 << 18), *at;
	int p[2];
	unsigned long long t0;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	fill_pipe(p[1]);
	hb_notice_open(&q, p[1]);
	for (int i = 0; i < 1000; i++)
		hb_notice_add(&q, "hivebox: notice %04d %078d", i, 0);
	cr_assert_eq(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
	/* 100 bytes each, newline included. */
	cr_assert_eq(q.pending, HB_NOTICE_QUEUE / 100);
	cr_assert_eq(q.dropped, 1000 - HB_NOTICE_QUEUE / 100);
	cr_assert_eq(hb_notice_poll_fd(&q), q.fd);
	/* The reader comes back: the queue goes out, oldest first. */
	nonblocking(p[0], true);
	cr_assert_not_null(all);
	do {
		struct pollfd pfd = {.fd = hb_notice_poll_fd(&q),
				     .events = POLLOUT};
		got = take(p[0]);
		strcat(all, got);
		free(got);
		if (pfd.fd < 0)
			break;
		cr_assert_eq(poll(&pfd, 1, 1000), 1);
		hb_notice_ready(&q, pfd.revents);
	} while (true);
	at = all + strspn(all, "f");
	cr_assert_eq(strlen(at), 16300);
	for (int i = 0; i < 163; i++) {
		char want[32];
		snprintf(want, sizeof(want), "hivebox: notice %04d ", i);
		cr_assert_eq(strncmp(at + i * 100, want, strlen(want)), 0,
			     "notice %d: %.30s", i, at + i * 100);
	}
	free(all);
	/* A reader that stops again: the drain waits no longer than
	 * asked, and what it gives up is counted. */
	fill_pipe(p[1]);
	hb_notice_add(&q, "hivebox: one more");
	t0 = hb_now_ms();
	cr_assert_eq(hb_notice_drain(&q, 200), 1000 - 163 + 1);
	cr_assert_geq(hb_now_ms() - t0, 190);
	cr_assert_lt(hb_now_ms() - t0, 2000);
	cr_assert_eq(q.len, 0);
	cr_assert_eq(q.pending, 0);
	hb_notice_close(&q);
}

/* The terminal of the finding: stopped with TCXONC(TCOOFF). */
Test(notice, a_stopped_terminal_never_blocks)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), slave;
	char *got;

	cr_assert_geq(master, 0);
	cr_assert_eq(grantpt(master), 0);
	cr_assert_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(slave, 0);
	cr_assert_eq(ioctl(slave, TCXONC, TCOOFF), 0);
	hb_notice_open(&q, slave);
	cr_assert_eq(q.how, HB_NOTICE_REOPENED);
	hb_notice_add(&q, "hivebox: syscall_denied: denied chroot");
	cr_assert_eq(q.pending, 1, "the terminal is stopped");
	cr_assert_eq(fcntl(slave, F_GETFL) & O_NONBLOCK, 0);
	cr_assert_eq(ioctl(slave, TCXONC, TCOON), 0);
	cr_assert_eq(hb_notice_drain(&q, 1000), 0);
	nonblocking(master, true);
	got = take(master);
	cr_assert_not_null(strstr(got, "denied chroot"), "%s", got);
	free(got);
	hb_notice_close(&q);
}

Test(notice, a_reader_gone_gives_the_queue_up)
{
	int p[2];

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	hb_notice_open(&q, p[1]);
	close(p[0]);
	/* SIGPIPE is ignored, as in hivebox: EPIPE. */
	hb_notice_add(&q, "hivebox: nobody reads this");
	cr_assert_eq(q.dropped, 1);
	cr_assert_eq(q.len, 0);
	cr_assert_eq(hb_notice_poll_fd(&q), -1);
	hb_notice_close(&q);
}

Test(notice, a_full_socket_never_blocks)
{
	int sv[2];
	int small = 4096;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)),
		0);
	hb_notice_open(&q, sv[0]);
	cr_assert_eq(q.how, HB_NOTICE_SOCKET);
	for (int i = 0; i < 2000; i++)
		hb_notice_add(&q, "hivebox: notice %04d %078d", i, 0);
	cr_assert_eq(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
	cr_assert_gt(q.dropped, 0);
	hb_notice_close(&q);
}

Test(notice, a_regular_file_is_written_where_it_stands)
{
	FILE *f = tmpfile();
	char buf[64] = "";

	cr_assert_not_null(f);
	cr_assert_eq(write(fileno(f), "before\n", 7), 7);
	hb_notice_open(&q, fileno(f));
	cr_assert_eq(q.how, HB_NOTICE_FILE);
	hb_notice_add(&q, "hivebox: after");
	cr_assert_eq(pread(fileno(f), buf, sizeof(buf) - 1, 0), 22);
	cr_assert_str_eq(buf, "before\nhivebox: after\n");
	hb_notice_close(&q);
	fclose(f);
}

Test(notice, no_descriptor_no_notice)
{
	hb_notice_open(&q, 1000);
	cr_assert_eq(q.how, HB_NOTICE_NONE);
	hb_notice_add(&q, "hivebox: lost");
	cr_assert_eq(q.len, 0);
	cr_assert_eq(q.dropped, 0, "stderr closed on purpose: not a drop");
	cr_assert_eq(hb_notice_drain(&q, 100), 0);
	hb_notice_add(NULL, "hivebox: nowhere");
	hb_notice_close(&q);
}

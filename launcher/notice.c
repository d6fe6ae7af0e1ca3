/* SPDX-License-Identifier: MIT */
#include "notice.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* O_NONBLOCK is a flag of the open file description, which fd shares with
 * the caller's shell and with the sandbox: setting it on fd would make
 * their reads and writes fail with EAGAIN.  A description of our own,
 * opened through /proc/self/fd, carries the flag alone.  A regular file
 * is not reopened: the new description would write at offset 0. */
static enum hb_notice_how writer_for(int fd, int *ret_fd)
{
	struct stat st;
	char path[32];

	*ret_fd = fd;
	if (fstat(fd, &st) < 0)
		return HB_NOTICE_NONE;
	if (S_ISREG(st.st_mode))
		return HB_NOTICE_FILE;
	if (S_ISSOCK(st.st_mode))
		return HB_NOTICE_SOCKET;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	*ret_fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (*ret_fd >= 0)
		return HB_NOTICE_REOPENED;
	/* A pipe of another user's, a terminal in exclusive mode: this
	 * descriptor as it is, written only when poll() says so. */
	*ret_fd = fd;
	return HB_NOTICE_POLLED;
}

void hb_notice_open(struct hb_notice *q, int fd)
{
	memset(q, 0, offsetof(struct hb_notice, buf));
	q->how = writer_for(fd, &q->fd);
	q->own_fd = q->how == HB_NOTICE_REOPENED;
	if (q->how == HB_NOTICE_NONE)
		q->fd = -1;
}

void hb_notice_close(struct hb_notice *q)
{
	if (q->own_fd)
		hb_closep(&q->fd);
	q->fd = -1;
	q->own_fd = false;
	q->how = HB_NOTICE_NONE;
}

/* One write that does not wait: the bytes written, or -1 with errno
 * (EAGAIN when the descriptor takes nothing now). */
static ssize_t put(const struct hb_notice *q, const char *p, size_t n)
{
	struct pollfd pfd = {.fd = q->fd, .events = POLLOUT};

	switch (q->how) {
	case HB_NOTICE_SOCKET:
		return send(q->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	case HB_NOTICE_POLLED:
		if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLOUT)) {
			errno = pfd.revents ? EIO : EAGAIN;
			return -1;
		}
		/* A pipe takes up to PIPE_BUF bytes at once when poll()
		 * says it is writable; a terminal, as much as its room. */
		return write(q->fd, p, n < PIPE_BUF ? n : PIPE_BUF);
	default:
		return write(q->fd, p, n);
	}
}

static unsigned count_lines(const char *p, size_t n)
{
	unsigned lines = 0;

	for (const char *end = p + n; (p = memchr(p, '\n', (size_t)(end - p)));
	     p++)
		lines++;
	return lines;
}

/* The descriptor is gone (a hung-up terminal, a closed pipe): what is
 * queued will never be written. */
static void give_up(struct hb_notice *q)
{
	q->dropped += q->pending;
	q->pending = 0;
	q->head = q->len = 0;
}

size_t hb_notice_flush(struct hb_notice *q)
{
	while (q->len > 0) {
		ssize_t n = put(q, q->buf + q->head, q->len);
		if (n > 0) {
			q->pending -= count_lines(q->buf + q->head, (size_t)n);
			q->head += (size_t)n;
			q->len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		give_up(q);
	}
	if (q->len == 0)
		q->head = 0;
	return q->len;
}

/* The notice as one line of printable text: the newline ends it, and
 * counts it; a message cannot move the caller's cursor or play with the
 * caller's terminal. */
static size_t sanitize(char *line, size_t n, size_t size)
{
	if (n == size)
		line[n - 1] = '\n'; /* cut */
	else if (n == 0 || line[n - 1] != '\n')
		line[n++] = '\n';
	for (size_t i = 0; i + 1 < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	return n;
}

void hb_notice_add(struct hb_notice *q, const char *fmt, ...)
{
	char line[HB_NOTICE_LINE];
	va_list ap;
	int n;

	if (!q || q->how == HB_NOTICE_NONE)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* Cut to the buffer, whose last byte needs no NUL: a line is
	 * counted by its newline. */
	n = (int)sanitize(line,
			  (size_t)n < sizeof(line) ? (size_t)n : sizeof(line),
			  sizeof(line));
	/* Room first: what the descriptor takes now leaves the queue. */
	hb_notice_flush(q);
	if (q->len + (size_t)n > sizeof(q->buf)) {
		q->dropped++;
		return;
	}
	if (q->head + q->len + (size_t)n > sizeof(q->buf)) {
		memmove(q->buf, q->buf + q->head, q->len);
		q->head = 0;
	}
	memcpy(q->buf + q->head + q->len, line, (size_t)n);
	q->len += (size_t)n;
	q->pending++;
	hb_notice_flush(q);
}

int hb_notice_poll_fd(const struct hb_notice *q)
{
	return q && q->len > 0 ? q->fd : -1;
}

void hb_notice_ready(struct hb_notice *q, short revents)
{
	size_t before = q->len;

	/* An error or hang-up that lets nothing out ends the queue, or
	 * poll() would report it for ever. */
	if (hb_notice_flush(q) == before && before > 0 &&
	    (revents & (POLLERR | POLLHUP | POLLNVAL)))
		give_up(q);
}

unsigned long long hb_notice_drain(struct hb_notice *q, unsigned timeout_ms)
{
	unsigned long long deadline = hb_now_ms() + timeout_ms;

	while (hb_notice_flush(q) > 0) {
		struct pollfd pfd = {.fd = q->fd, .events = POLLOUT};
		unsigned long long now = hb_now_ms();
		int r = now < deadline ? poll(&pfd, 1, (int)(deadline - now))
				       : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		hb_notice_ready(q, pfd.revents);
	}
	give_up(q);
	return q->dropped;
}

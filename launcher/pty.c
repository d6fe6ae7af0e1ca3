/* SPDX-License-Identifier: MIT */
#include "pty.h"
#include "util.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>

static void close_fd(int *fd)
{
	hb_closep(fd);
	*fd = -1;
}

/* A descriptor of the caller's opened again: a new open file
 * description, whose O_NONBLOCK the caller's shell never sees.  A regular
 * file is copied instead: opened again it would be written from its
 * start, and a write to it does not wait on anyone. */
static int reopen(int fd, int flags)
{
	char path[32];
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode))
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	else {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		fd = open(path, flags | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

static double elapsed(const struct hb_pty *p)
{
	return (double)(hb_now_ms() - p->start_ms) / 1000.0;
}

/* One asciicast event line: [time, code, data]. */
static void record_event(struct hb_pty *p, const char *code, const char *data,
			 size_t len)
{
	json_object *s;
	char head[64];
	const char *text;
	int r;

	if (p->record_fd < 0 || p->record_err)
		return;
	s = json_object_new_string_len(data, (int)len);
	text = s ? json_object_to_json_string_ext(
			   s, JSON_C_TO_STRING_PLAIN |
				      JSON_C_TO_STRING_NOSLASHESCAPE)
		 : NULL;
	snprintf(head, sizeof(head), "[%.6f, \"%s\", ", elapsed(p), code);
	r = text ? hb_write_all(p->record_fd, head, strlen(head)) : -ENOMEM;
	if (r == 0)
		r = hb_write_all(p->record_fd, text, strlen(text));
	if (r == 0)
		r = hb_write_all(p->record_fd, "]\n", 2);
	if (r < 0)
		p->record_err = -r;
	json_object_put(s);
}

/* The length of the UTF-8 sequence lead byte c begins, 0 for a byte that
 * begins none. */
static size_t utf8_len(unsigned char c)
{
	return c < 0x80	  ? 1
	       : c < 0xc2 ? 0
	       : c < 0xe0 ? 2
	       : c < 0xf0 ? 3
	       : c < 0xf5 ? 4
			  : 0;
}

/* The output as valid UTF-8, which a JSON string must be: a byte that
 * begins no sequence, or a sequence cut short, becomes U+FFFD; a sequence
 * the read cut at its end waits in the tail for the next read. */
static void record_output(struct hb_pty *p, const char *buf, size_t n)
{
	_cleanup_free_ char *in = NULL, *out = NULL;
	size_t len = 0, o = 0, i = 0;

	/* Every read of the session's output comes here: nothing to do,
	 * nothing allocated, without a transcript or after it failed. */
	if (p->record_fd < 0 || p->record_err)
		return;
	in = malloc(n + sizeof(p->tail));
	out = malloc(3 * (n + sizeof(p->tail)));
	if (!in || !out)
		return;
	memcpy(in, p->tail, p->n_tail);
	memcpy(in + p->n_tail, buf, n);
	len = p->n_tail + n;
	p->n_tail = 0;
	while (i < len) {
		size_t k = utf8_len((unsigned char)in[i]), j = 1;
		while (k > 1 && j < k && i + j < len &&
		       ((unsigned char)in[i + j] & 0xc0) == 0x80)
			j++;
		if (k > 1 && j < k && i + j == len) {
			/* Cut by the read: the rest comes next time. */
			memcpy(p->tail, in + i, j);
			p->n_tail = j;
			break;
		}
		if (k == 0 || j < k) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i += j;
			continue;
		}
		memcpy(out + o, in + i, k);
		o += k;
		i += k;
	}
	if (o)
		record_event(p, "o", out, o);
}

static int record_header(struct hb_pty *p, const struct winsize *ws)
{
	json_object *h = json_object_new_object();
	const char *text;
	int r;

	json_object_object_add(h, "version", json_object_new_int(2));
	json_object_object_add(h, "width", json_object_new_int(ws->ws_col));
	json_object_object_add(h, "height", json_object_new_int(ws->ws_row));
	json_object_object_add(h, "timestamp",
			       json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(h, "title",
			       json_object_new_string("hivebox shell"));
	text = json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN);
	r = text ? hb_write_all(p->record_fd, text, strlen(text)) : -ENOMEM;
	if (r == 0)
		r = hb_write_all(p->record_fd, "\n", 1);
	json_object_put(h);
	return r;
}

static int open_pair(struct hb_pty *p, struct hb_error *e)
{
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->master < 0)
		return hb_error_set(e, HB_STAGE_SUPERVISE, errno,
				    "posix_openpt for the session's terminal");
	if (unlockpt(p->master) < 0)
		return hb_error_set(e, HB_STAGE_SUPERVISE, errno,
				    "unlockpt on the session's terminal");
	/* The slave through the master, not by its name in /dev/pts: no
	 * path is resolved for it. */
	p->slave = ioctl(p->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->slave < 0)
		return hb_error_set(e, HB_STAGE_SUPERVISE, errno,
				    "TIOCGPTPEER on the session's terminal");
	if (fcntl(p->master, F_SETFL, O_NONBLOCK) < 0)
		return hb_error_set(e, HB_STAGE_SUPERVISE, errno,
				    "O_NONBLOCK on the session's terminal");
	return 0;
}

int hb_pty_open(struct hb_pty *p, int record_fd, struct hb_error *e)
{
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	int r;

	*p = (struct hb_pty){.master = -1,
			     .slave = -1,
			     .in = -1,
			     .out = -1,
			     .record_fd = record_fd,
			     .start_ms = hb_now_ms()};
	r = open_pair(p, e);
	if (r < 0)
		return r;
	/* The caller's size, or 80x24 where stdin tells none. */
	(void)ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
	if (ioctl(p->master, TIOCSWINSZ, &ws) < 0)
		return hb_error_set(e, HB_STAGE_SUPERVISE, errno,
				    "TIOCSWINSZ on the session's terminal");
	p->in = reopen(STDIN_FILENO, O_RDONLY);
	if (p->in < 0)
		return hb_error_set(e, HB_STAGE_SUPERVISE, -p->in,
				    "the caller's stdin, opened again");
	p->out = reopen(STDOUT_FILENO, O_WRONLY);
	if (p->out < 0)
		return hb_error_set(e, HB_STAGE_SUPERVISE, -p->out,
				    "the caller's stdout, opened again");
	r = record_fd >= 0 ? record_header(p, &ws) : 0;
	return r < 0 ? hb_error_set(e, HB_STAGE_SUPERVISE, -r,
				    "the session's transcript")
		     : 0;
}

int hb_pty_child(const struct hb_pty *p)
{
	for (int fd = 0; fd < 3; fd++)
		if (dup2(p->slave, fd) < 0)
			return -errno;
	return 0;
}

void hb_pty_started(struct hb_pty *p)
{
	close_fd(&p->slave);
}

void hb_pty_poll(const struct hb_pty *p, struct pollfd fds[3])
{
	short master = 0;

	fds[0] = (struct pollfd){.fd = -1, .events = POLLIN};
	if (!p->in_done && p->to_sandbox.len < HB_PTY_BUF)
		fds[0].fd = p->in;
	if (p->to_caller.len < HB_PTY_BUF)
		master |= POLLIN;
	if (p->to_sandbox.len)
		master |= POLLOUT;
	/* Polled for nothing, a master whose slave is gone would still
	 * say POLLHUP, and the loop would spin. */
	fds[1] = (struct pollfd){.fd = master ? p->master : -1,
				 .events = master};
	fds[2] = (struct pollfd){.fd = -1, .events = POLLOUT};
	if (p->to_caller.len && !p->out_done)
		fds[2].fd = p->out;
}

/* Read what fd has into b: the bytes read, 0 for nothing now, -1 for
 * its end (EOF, or an error such as EIO from a master whose slave is
 * gone). */
static ssize_t fill(int fd, struct hb_pty_buf *b)
{
	ssize_t n;

	if (fd < 0 || b->len == HB_PTY_BUF)
		return 0;
	n = read(fd, b->data + b->len, HB_PTY_BUF - b->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	b->len += (size_t)n;
	return n;
}

/* Write what b holds to fd, as much as it takes now; false when fd
 * takes nothing more, ever. */
static bool drain(int fd, struct hb_pty_buf *b)
{
	ssize_t n;

	if (fd < 0 || !b->len)
		return true;
	n = write(fd, b->data, b->len);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	memmove(b->data, b->data + n, b->len - (size_t)n);
	b->len -= (size_t)n;
	return true;
}

static void from_master(struct hb_pty *p)
{
	size_t before = p->to_caller.len;
	ssize_t n = fill(p->master, &p->to_caller);

	if (n > 0)
		record_output(p, p->to_caller.data + before, (size_t)n);
	if (n < 0)
		close_fd(&p->master);
}

/* The caller's terminal gone: what is still to show is given up, so
 * that the buffer never holds the master back. */
static void to_caller(struct hb_pty *p)
{
	if (!p->out_done && !drain(p->out, &p->to_caller))
		p->out_done = true;
	if (p->out_done)
		p->to_caller.len = 0;
}

void hb_pty_ready(struct hb_pty *p, const struct pollfd fds[3])
{
	if (fds[0].revents && fill(p->in, &p->to_sandbox) < 0)
		p->in_done = true;
	if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
		from_master(p);
	/* Both sides are non-blocking: a write that cannot go on now
	 * returns at once, so each is tried without waiting for POLLOUT. */
	if (p->master >= 0 && !drain(p->master, &p->to_sandbox))
		p->to_sandbox.len = 0;
	to_caller(p);
}

void hb_pty_resize(struct hb_pty *p)
{
	struct winsize ws;
	char size[32];

	if (ioctl(p->in, TIOCGWINSZ, &ws) < 0 || p->master < 0 ||
	    ioctl(p->master, TIOCSWINSZ, &ws) < 0)
		return;
	snprintf(size, sizeof(size), "%ux%u", ws.ws_col, ws.ws_row);
	record_event(p, "r", size, strlen(size));
}

void hb_pty_say(struct hb_pty *p, const char *line)
{
	size_t n = strlen(line);

	if (n > HB_PTY_BUF - p->to_caller.len)
		return;
	memcpy(p->to_caller.data + p->to_caller.len, line, n);
	p->to_caller.len += n;
	record_event(p, "o", line, n);
	to_caller(p);
}

void hb_pty_finish(struct hb_pty *p, unsigned long long wait_ms)
{
	unsigned long long end = hb_now_ms() + wait_ms;

	for (;;) {
		struct pollfd out = {.fd = p->out, .events = POLLOUT};
		size_t before = p->to_caller.len;
		if (p->master >= 0)
			from_master(p);
		to_caller(p);
		/* Nothing more from the master and nothing left to show;
		 * or a caller's terminal that takes nothing in time. */
		if ((!p->to_caller.len && before == p->to_caller.len) ||
		    p->out_done || hb_now_ms() >= end)
			break;
		if (p->to_caller.len)
			(void)poll(&out, 1, 10);
	}
	close_fd(&p->master);
}

void hb_pty_close(struct hb_pty *p)
{
	close_fd(&p->master);
	close_fd(&p->slave);
	close_fd(&p->in);
	close_fd(&p->out);
	close_fd(&p->record_fd);
}

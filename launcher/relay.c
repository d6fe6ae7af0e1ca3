/* SPDX-License-Identifier: MIT */
#include "relay.h"
#include "util.h"

#include <fcntl.h>
#include <sys/stat.h>

/* Closed, and marked so: the loop polls -1 no more. */
static void close_end(int *fd)
{
	hb_closep(fd);
	*fd = -1;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static int open_pipe(struct hb_relay_stream *s, int dest, struct hb_error *e)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return hb_error_set(e, HB_STAGE_SUPERVISE, errno,
				    "a pipe for descriptor %d", dest);
	s->dest = dest;
	s->read_end = p[0];
	s->write_end = p[1];
	/* The loop never waits on the sandbox: a read takes what is there. */
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0)
		return hb_error_set(e, HB_STAGE_SUPERVISE, errno,
				    "a pipe for descriptor %d", dest);
	return 0;
}

int hb_relay_prepare(struct hb_relay *r, int out, int err,
		     unsigned long long limit, struct hb_error *e)
{
	struct stat so, se;
	bool out_file = fstat(out, &so) == 0 && S_ISREG(so.st_mode);
	bool err_file = fstat(err, &se) == 0 && S_ISREG(se.st_mode);
	int ret = 0;

	*r = (struct hb_relay){.limit = limit};
	for (size_t i = 0; i < ARRAY_SIZE(r->streams); i++)
		r->streams[i] = (struct hb_relay_stream){
			.dest = -1, .read_end = -1, .write_end = -1};
	if (out_file)
		ret = open_pipe(&r->streams[0], out, e);
	/* `>> log 2>&1`: one pipe, or the two streams' lines could come
	 * out of order. */
	if (ret == 0 && out_file && err_file && same_file(&so, &se))
		r->streams[0].both = true;
	else if (ret == 0 && err_file)
		ret = open_pipe(&r->streams[1], err, e);
	return ret;
}

int hb_relay_child(const struct hb_relay *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(r->streams); i++) {
		const struct hb_relay_stream *s = &r->streams[i];
		if (s->write_end < 0)
			continue;
		/* dup2() leaves the copy without O_CLOEXEC. */
		if (dup2(s->write_end, s->dest) < 0)
			return -errno;
		if (s->both && dup2(s->write_end, s->dest + 1) < 0)
			return -errno;
	}
	return 0;
}

void hb_relay_started(struct hb_relay *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(r->streams); i++)
		close_end(&r->streams[i].write_end);
}

/* Write what was read, up to the limit; the rest is dropped. */
static int copy_out(struct hb_relay_stream *s, const char *buf, size_t n,
		    unsigned long long limit)
{
	unsigned long long left = s->copied < limit ? limit - s->copied : 0;
	size_t room = left < n ? (size_t)left : n;
	int r = room ? hb_write_all(s->dest, buf, room) : 0;

	if (r < 0)
		return r;
	s->copied += room;
	s->dropped += n - room;
	return room < n ? -EFBIG : 0;
}

/* One read and its copy: > 0 bytes went on, -EAGAIN nothing there now,
 * 0 the pipe is done with. */
static ssize_t pump_once(struct hb_relay_stream *s, unsigned long long limit)
{
	char buf[65536];
	ssize_t n;
	int r;

	if (s->read_end < 0)
		return 0;
	n = read(s->read_end, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -EAGAIN;
	if (n <= 0) {
		close_end(&s->read_end);
		return 0;
	}
	r = copy_out(s, buf, (size_t)n, limit);
	if (r < 0) {
		s->err = -r;
		close_end(&s->read_end);
		return 0;
	}
	return n;
}

bool hb_relay_pump(struct hb_relay_stream *s, unsigned long long limit)
{
	return pump_once(s, limit) != 0;
}

void hb_relay_finish(struct hb_relay *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(r->streams); i++) {
		struct hb_relay_stream *s = &r->streams[i];
		/* With the sandbox gone and our own write end closed, what
		 * is left ends at EOF; a writer that somehow lives on is
		 * not waited for. */
		close_end(&s->write_end);
		while (pump_once(s, r->limit) > 0)
			;
		close_end(&s->read_end);
	}
}

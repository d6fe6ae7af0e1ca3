/* SPDX-License-Identifier: MIT */
/* relay.c: which descriptors get a pipe, and what the pump copies, with
 * real files and pipes. */
#include "helpers.h"
#include "relay.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static int open_file(const char *dir, const char *name)
{
	char *path = path_join(dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	free(path);
	return fd;
}

static char *file_text(const char *dir, const char *name)
{
	char *path = path_join(dir, name);
	static char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	cr_assert_geq(n, 0);
	buf[n] = '\0';
	close(fd);
	free(path);
	return buf;
}

/* A regular file gets a pipe; a pipe is passed as it is. */
Test(relay, files_get_a_pipe_pipes_do_not)
{
	char *dir = tmpdir_new();
	int out = open_file(dir, "log"), p[2];
	struct hb_relay r;
	struct hb_error e = {0};

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	cr_assert_eq(hb_relay_prepare(&r, out, p[1], 1024, &e), 0);
	cr_assert_eq(r.streams[0].dest, out);
	cr_assert_geq(r.streams[0].read_end, 0);
	cr_assert_geq(r.streams[0].write_end, 0);
	cr_assert_not(r.streams[0].both);
	cr_assert_eq(r.streams[1].read_end, -1);
	cr_assert_eq(r.streams[1].write_end, -1);
	cr_assert(fcntl(r.streams[0].read_end, F_GETFL) & O_NONBLOCK);
	hb_relay_finish(&r);
	cr_assert_eq(r.streams[0].read_end, -1);
	cr_assert_eq(r.streams[0].write_end, -1);
	close(out);
	close(p[0]);
	close(p[1]);
	tmpdir_remove(dir);
}

/* 2>&1, or the same file opened twice: one pipe for both. */
Test(relay, one_file_for_both_is_one_pipe)
{
	char *dir = tmpdir_new();
	int out = open_file(dir, "log"), err = open_file(dir, "log");
	int other = open_file(dir, "other");
	struct hb_relay r;
	struct hb_error e = {0};

	cr_assert_eq(hb_relay_prepare(&r, out, err, 1024, &e), 0);
	cr_assert(r.streams[0].both);
	cr_assert_eq(r.streams[1].read_end, -1);
	hb_relay_finish(&r);
	cr_assert_eq(hb_relay_prepare(&r, out, other, 1024, &e), 0);
	cr_assert_not(r.streams[0].both);
	cr_assert_geq(r.streams[1].read_end, 0);
	cr_assert_eq(r.streams[1].dest, other);
	hb_relay_finish(&r);
	close(out);
	close(err);
	close(other);
	tmpdir_remove(dir);
}

/* What comes through is appended to the file; past the limit the rest
 * is counted, not written, and the pipe is closed: a writer gets EPIPE. */
Test(relay, pump_copies_up_to_the_limit)
{
	char *dir = tmpdir_new();
	int out = open_file(dir, "log");
	struct hb_relay r;
	struct hb_relay_stream *s = &r.streams[0];
	struct hb_error e = {0};
	int w;

	cr_assert_eq(write(out, "before\n", 7), 7);
	cr_assert_eq(hb_relay_prepare(&r, out, -1, 10, &e), 0);
	w = s->write_end;
	s->write_end = -1;
	cr_assert(hb_relay_pump(s, r.limit), "nothing there yet");
	cr_assert_eq(write(w, "abc\n", 4), 4);
	cr_assert(hb_relay_pump(s, r.limit));
	cr_assert_str_eq(file_text(dir, "log"), "before\nabc\n");
	cr_assert_eq(write(w, "defghij\n", 8), 8);
	cr_assert_not(hb_relay_pump(s, r.limit));
	cr_assert_eq(s->err, EFBIG);
	cr_assert_eq(s->copied, 10);
	cr_assert_eq(s->dropped, 2);
	cr_assert_eq(s->read_end, -1);
	cr_assert_str_eq(file_text(dir, "log"), "before\nabc\ndefghi");
	cr_assert_eq(write(w, "x", 1), -1);
	cr_assert_eq(errno, EPIPE);
	hb_relay_finish(&r);
	close(w);
	close(out);
	tmpdir_remove(dir);
}

/* At the end, what the pipe still holds is copied, up to EOF. */
Test(relay, finish_copies_what_is_left)
{
	char *dir = tmpdir_new();
	int out = open_file(dir, "log");
	struct hb_relay r;
	struct hb_relay_stream *s = &r.streams[0];
	struct hb_error e = {0};
	int w;

	cr_assert_eq(hb_relay_prepare(&r, out, -1, 1 << 20, &e), 0);
	w = s->write_end;
	s->write_end = -1;
	cr_assert_eq(write(w, "last words\n", 11), 11);
	close(w);
	hb_relay_finish(&r);
	cr_assert_str_eq(file_text(dir, "log"), "last words\n");
	cr_assert_eq(s->err, 0);
	cr_assert_eq(s->read_end, -1);
	close(out);
	tmpdir_remove(dir);
}

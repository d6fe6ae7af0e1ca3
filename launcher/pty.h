/* SPDX-License-Identifier: MIT */
/* The terminal of `hivebox shell`.  The sandbox never gets the caller's
 * terminal: hivebox opens a pty pair on the host before the clone, the
 * sandbox's interpreter gets the slave as its stdin, stdout, stderr and
 * controlling terminal, and the supervisor copies bytes between the
 * caller's terminal and the master in its poll loop.  Whatever the
 * sandbox does to a terminal (TIOCSTI, settings) reaches its own pty only.
 * Both directions go through bounded buffers: when one is full the loop
 * stops reading its source, so nothing is dropped and nothing waits. */
#pragma once

#include "error.h"

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#define HB_PTY_BUF 65536
/* How long the end of a session waits for the caller's terminal to take
 * what is left to show. */
#define HB_PTY_FINISH_MS 500

struct hb_pty_buf {
	char data[HB_PTY_BUF];
	size_t len;
};

struct hb_pty {
	int master; /* the supervisor's, non-blocking; -1: closed */
	int slave;  /* the sandbox's, until the clone */
	int in;	    /* the caller's stdin, opened again non-blocking */
	int out;    /* the caller's stdout, likewise (a file: a copy) */
	bool in_done, out_done;
	struct hb_pty_buf to_sandbox, to_caller;
	/* --record FILE: an asciicast v2 transcript of the output; -1 none.
	 * An incomplete UTF-8 sequence at the end of a read waits for the
	 * next one, so that each event is a whole JSON string. */
	int record_fd;
	unsigned long long start_ms;
	char tail[4];
	size_t n_tail;
	int record_err; /* the first write error of the transcript, or 0 */
};

/* The pair, the caller's descriptors and the transcript's header.  The
 * window size is the caller's terminal's.  record_fd is taken (closed by
 * hb_pty_close()). */
int hb_pty_open(struct hb_pty *p, int record_fd, struct hb_error *e);
/* In the sandbox init, right after the clone: the slave on 0, 1 and 2. */
int hb_pty_child(const struct hb_pty *p);
/* In the supervisor, after the clone: its copy of the slave goes, so
 * that the master sees the end when the sandbox's last holder goes. */
void hb_pty_started(struct hb_pty *p);
/* The three descriptors to poll (caller's stdin, the master, caller's
 * stdout) with the events that have room to go on now. */
void hb_pty_poll(const struct hb_pty *p, struct pollfd fds[3]);
/* Move what poll said is ready; never waits. */
void hb_pty_ready(struct hb_pty *p, const struct pollfd fds[3]);
/* SIGWINCH: the caller's window size onto the master (the kernel sends
 * SIGWINCH to the sandbox's foreground group) and into the transcript. */
void hb_pty_resize(struct hb_pty *p);
/* A line of hivebox's own to the caller (the timeout's warning), after
 * what the sandbox wrote so far; in the transcript too. */
void hb_pty_say(struct hb_pty *p, const char *line);
/* The sandbox is gone: what the master still holds, then a bounded
 * wait for the caller's terminal to take the rest. */
void hb_pty_finish(struct hb_pty *p, unsigned long long wait_ms);
void hb_pty_close(struct hb_pty *p);

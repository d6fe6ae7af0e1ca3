/* SPDX-License-Identifier: MIT */
/* hivebox's notices on standard error, through a bounded queue that never
 * blocks.  The supervisor's loop must never wait on a write: a terminal
 * that is stopped (Ctrl-S, TCOOFF) or not read, or a pipe whose reader
 * stalls, would freeze the timeout, the sampling and the answers to the
 * sandbox's denied calls.  A notice is queued whole and written as far as
 * the descriptor takes it at once; what does not fit in the queue is
 * dropped and counted.  Every notice that matters is also an event in
 * the security log: stderr is a courtesy. */
#pragma once

#include "util.h"

#include <stdbool.h>

#define HB_NOTICE_QUEUE 16384 /* bytes: a few hundred notices */
#define HB_NOTICE_LINE 1024   /* one notice, longer ones are cut */
#define HB_NOTICE_DRAIN_MS 1000

/* How the bytes reach the descriptor without waiting for it. */
enum hb_notice_how {
	HB_NOTICE_NONE,	    /* no descriptor: notices are discarded */
	HB_NOTICE_REOPENED, /* a description of our own with O_NONBLOCK */
	HB_NOTICE_SOCKET,   /* send() with MSG_DONTWAIT */
	HB_NOTICE_FILE,	    /* a regular file: a write never waits */
	HB_NOTICE_POLLED,   /* write only what poll() says fits */
};

struct hb_notice {
	int fd; /* where the bytes go; -1 with HB_NOTICE_NONE */
	enum hb_notice_how how;
	bool own_fd;	  /* fd was opened here (HB_NOTICE_REOPENED) */
	size_t head, len; /* the pending bytes: buf[head, head + len) */
	unsigned pending; /* notices not yet written in full */
	unsigned long long dropped; /* notices never written in full */
	char buf[HB_NOTICE_QUEUE];
};

/* Write notices to fd (STDERR_FILENO) from now on, without ever changing
 * the flags of fd's open file description, which the caller's shell and
 * the sandbox share: a terminal or pipe is reopened through
 * /proc/self/fd with O_NONBLOCK, a socket gets MSG_DONTWAIT, a regular
 * file is written as it is; what cannot be reopened is written only when
 * poll() says it is writable, PIPE_BUF bytes at most.  A closed fd
 * discards notices.  Never fails. */
void hb_notice_open(struct hb_notice *q, int fd);
void hb_notice_close(struct hb_notice *q);

/* Queue one notice (a line: a newline is added if missing; control
 * characters become '?') and write what the descriptor takes now.  With
 * q NULL, nothing. */
void hb_notice_add(struct hb_notice *q, const char *fmt, ...) _printf_(2, 3);

/* Write what the descriptor takes now.  Returns the bytes still queued. */
size_t hb_notice_flush(struct hb_notice *q);

/* For a poll loop: the descriptor to wait on for POLLOUT while notices
 * are queued, else -1; and what to do with what poll() said of it. */
int hb_notice_poll_fd(const struct hb_notice *q);
void hb_notice_ready(struct hb_notice *q, short revents);

/* Wait up to timeout_ms for the queue to empty, then give up what is
 * left (counted as dropped).  Returns the notices dropped so far. */
unsigned long long hb_notice_drain(struct hb_notice *q, unsigned timeout_ms);

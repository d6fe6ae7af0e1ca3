/* SPDX-License-Identifier: MIT */
/* The script's standard output and error, when hivebox's are files.  A
 * descriptor the sandbox holds on a host file can be reopened through
 * /proc/self/fd, and the reopened file read from the start: `hivebox
 * job.py >> joblog` would let the job read the log's earlier contents.
 * Such a descriptor is replaced by a pipe; the supervisor copies what
 * comes through it to the file.  Terminals, pipes, sockets and devices
 * are passed as they are: reopening them reaches no earlier contents, and
 * a terminal stays a terminal. */
#pragma once

#include "error.h"

#include <stdbool.h>

/* One pipe and the file it is copied to. */
struct hb_relay_stream {
	int dest;      /* hivebox's descriptor, 1 or 2: the file */
	int read_end;  /* the supervisor's, non-blocking; -1: closed */
	int write_end; /* the sandbox's, until the clone */
	bool both;     /* descriptors 1 and 2 are this one file */
	unsigned long long copied;  /* bytes written to the file */
	unsigned long long dropped; /* read but not written: past the limit */
	int err;		    /* the file's write error, or 0 */
};

struct hb_relay {
	struct hb_relay_stream streams[2]; /* for 1, for 2 */
	unsigned long long limit;	   /* bytes per file and run */
};

/* Pipes for those of out and err (hivebox's 1 and 2) that are regular
 * files; one pipe for both when they are the same file, so that the
 * order of their lines stays as written.  limit bounds the bytes copied
 * to each file in a run (file_size_mb: what RLIMIT_FSIZE bounded when the
 * script wrote to the file itself). */
int hb_relay_prepare(struct hb_relay *r, int out, int err,
		     unsigned long long limit, struct hb_error *e);
/* In the sandbox init, right after the clone: the write ends in place
 * of the files.  Returns -errno. */
int hb_relay_child(const struct hb_relay *r);
/* In the supervisor, after the clone: its copies of the write ends go,
 * so that the pipe ends when the sandbox's last holder does. */
void hb_relay_started(struct hb_relay *r);
/* What the pipe holds now, copied to the file.  Past the limit, or when
 * the file cannot take it, the pipe is closed and the script's writes
 * fail with EPIPE, as they failed with EFBIG or ENOSPC on the file.
 * Returns false once the pipe is done with (closed here, or at EOF). */
bool hb_relay_pump(struct hb_relay_stream *s, unsigned long long limit);
/* The sandbox is gone: copy what is left, close the pipes. */
void hb_relay_finish(struct hb_relay *r);

/* SPDX-License-Identifier: MIT */
#include "quota.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* How many reads of one group per turn of the loop: a script creating
 * files as fast as it can must not keep the supervisor from its other
 * descriptors. */
#define READS_PER_TURN 8
#define EVENT_BUF 16384
/* Files whose later opens no longer wait (see measured()): each such
 * mark holds its inode in memory until the run ends, so a run that opens
 * a million files keeps only this many. */
#define IGNORE_MAX 4096

static size_t slot_of(const struct hb_quota_ledger *l, dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev;

	h ^= h >> 29;
	return (size_t)h & (l->cap - 1);
}

static struct hb_quota_file *find(struct hb_quota_ledger *l, dev_t dev,
				  ino_t ino)
{
	size_t i = slot_of(l, dev, ino);

	while (l->v[i].used && (l->v[i].dev != dev || l->v[i].ino != ino))
		i = (i + 1) & (l->cap - 1);
	return &l->v[i];
}

/* Twice the room, at most half full, so that a probe ends soon. */
static int grow(struct hb_quota_ledger *l)
{
	struct hb_quota_ledger n = {
		.cap = l->cap ? l->cap * 2 : 64, .n = l->n, .added = l->added};

	n.v = calloc(n.cap, sizeof(*n.v));
	if (!n.v)
		return -ENOMEM;
	for (size_t i = 0; i < l->cap; i++)
		if (l->v[i].used)
			*find(&n, l->v[i].dev, l->v[i].ino) = l->v[i];
	free(l->v);
	*l = n;
	return 0;
}

static unsigned long long growth(const struct hb_quota_file *f)
{
	return f->now > f->base ? f->now - f->base : 0;
}

int hb_quota_ledger_note(struct hb_quota_ledger *l, dev_t dev, ino_t ino,
			 bool created, unsigned long long bytes)
{
	struct hb_quota_file *f;

	if ((l->n + 1) * 2 > l->cap && grow(l) < 0)
		return -ENOMEM;
	f = find(l, dev, ino);
	if (!f->used) {
		*f = (struct hb_quota_file){.dev = dev,
					    .ino = ino,
					    .base = created ? 0 : bytes,
					    .used = true};
		l->n++;
	}
	l->added -= growth(f);
	f->now = bytes;
	l->added += growth(f);
	return 0;
}

void hb_quota_ledger_free(struct hb_quota_ledger *l)
{
	free(l->v);
	*l = (struct hb_quota_ledger){0};
}

static int group(unsigned flags, unsigned event_flags, struct hb_error *e)
{
	/* Unlimited: an event lost is a write not counted.  The queue is
	 * drained as fast as the loop turns. */
	int fd = fanotify_init(flags | FAN_CLOEXEC | FAN_NONBLOCK |
				       FAN_UNLIMITED_QUEUE,
			       event_flags);

	return fd < 0 ? hb_error_set(e, HB_STAGE_SUPERVISE, errno,
				     "fanotify_init for the write quota")
		      : fd;
}

static int mark(int fd, unsigned how, uint64_t mask, int tree,
		const struct hb_mount *m, struct hb_error *e)
{
	char path[64];

	/* The detached tree itself, which the init attaches, so the mark
	 * goes with it.  Through its /proc link: fanotify_mark() takes no
	 * O_PATH descriptor alone, and "." from it needs a directory. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", tree);
	if (fanotify_mark(fd, FAN_MARK_ADD | how, mask, AT_FDCWD, path) < 0)
		return hb_error_set(e, HB_STAGE_SUPERVISE, errno,
				    "fanotify_mark on %s for the write quota",
				    m->source);
	return 0;
}

static int mark_all(struct hb_quota *q, const struct hb_plan *plan,
		    const int *trees, struct hb_error *e)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < plan->n_mounts; i++) {
		const struct hb_mount *m = &plan->mounts[i];

		if (!hb_mount_writable(m) || trees[i] < 0)
			continue;
		if (q->bytes_fd >= 0)
			r = mark(q->bytes_fd, FAN_MARK_MOUNT,
				 FAN_MODIFY | FAN_OPEN_PERM, trees[i], m, e);
		/* Marking one file system twice only updates its mark. */
		if (r == 0 && q->files_fd >= 0)
			r = mark(q->files_fd, FAN_MARK_FILESYSTEM,
				 FAN_CREATE | FAN_ONDIR, trees[i], m, e);
	}
	return r;
}

int hb_quota_start(struct hb_quota *q, const struct hb_plan *plan,
		   const int *trees, struct hb_error *e)
{
	struct timespec now;
	int r = 0;

	*q = (struct hb_quota){.bytes_fd = -1,
			       .files_fd = -1,
			       .max_bytes = plan->quota_bytes,
			       .max_files = plan->quota_files};
	if (!hb_plan_has_quota(plan))
		return 0;
	if (!trees)
		return hb_error_set(e, HB_STAGE_SUPERVISE, EPERM,
				    "the write quota needs hivebox started "
				    "as root");
	clock_gettime(CLOCK_REALTIME, &now);
	q->start_sec = now.tv_sec;
	q->start_nsec = (unsigned)now.tv_nsec;
	if (q->max_bytes) {
		/* O_NONBLOCK: the descriptor of a FIFO the script wrote to
		 * must not wait for a writer. */
		q->bytes_fd = group(
			FAN_CLASS_CONTENT,
			O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NONBLOCK, e);
		r = q->bytes_fd < 0 ? q->bytes_fd : 0;
	}
	if (r == 0 && q->max_files) {
		/* The name keeps two creations in one directory from being
		 * merged into one event. */
		q->files_fd = group(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME,
				    O_RDONLY, e);
		r = q->files_fd < 0 ? q->files_fd : 0;
	}
	if (r == 0)
		r = mark_all(q, plan, trees, e);
	if (r < 0)
		hb_quota_close(q);
	return r;
}

static int pidns_of(pid_t pid, struct stat *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	return stat(path, st) < 0 ? -errno : 0;
}

int hb_quota_set_init(struct hb_quota *q, pid_t init)
{
	struct stat st;
	int r;

	if (q->files_fd < 0)
		return 0;
	r = pidns_of(init, &st);
	if (r < 0)
		return r;
	q->ns_dev = st.st_dev;
	q->ns_ino = st.st_ino;
	q->have_ns = true;
	return 0;
}

/* A file born since the run started is the run's own: it held nothing
 * before.  Where the file system keeps no birth time, a file counts from
 * what it held when the supervisor first saw it. */
static bool born_in_run(const struct hb_quota *q, const struct statx *sx)
{
	if (!(sx->stx_mask & STATX_BTIME))
		return false;
	return sx->stx_btime.tv_sec > q->start_sec ||
	       (sx->stx_btime.tv_sec == q->start_sec &&
		sx->stx_btime.tv_nsec >= q->start_nsec);
}

/* True once the regular file fd is in the ledger. */
static bool on_modify(struct hb_quota *q, int fd)
{
	struct statx sx = {0};

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME | STATX_BLOCKS | STATX_INO,
		  &sx) < 0) {
		q->lost++;
		return false;
	}
	if (!S_ISREG(sx.stx_mode))
		return false;
	/* What the file takes on disk: a sparse file adds only what it
	 * allocates. */
	if (hb_quota_ledger_note(&q->ledger,
				 makedev(sx.stx_dev_major, sx.stx_dev_minor),
				 (ino_t)sx.stx_ino, born_in_run(q, &sx),
				 sx.stx_blocks * 512ull) < 0) {
		q->lost++;
		return false;
	}
	return true;
}

/* A file in the ledger has its base: its later opens need not wait, and
 * a script that opens its log a thousand times pays once.  FAN_MODIFY
 * still counts its growth. */
static void measured(struct hb_quota *q, int fd)
{
	if (q->ignored >= IGNORE_MAX)
		return;
	if (fanotify_mark(q->bytes_fd,
			  FAN_MARK_ADD | FAN_MARK_IGNORED_MASK |
				  FAN_MARK_IGNORED_SURV_MODIFY,
			  FAN_OPEN_PERM, fd, NULL) == 0)
		q->ignored++;
}

/* A process of the sandbox, as the kernel reported it when the supervisor
 * read the event: one that has exited since is not found. */
static bool in_sandbox(const struct hb_quota *q, pid_t pid)
{
	struct stat st;

	return q->have_ns && pid > 0 && pidns_of(pid, &st) == 0 &&
	       st.st_dev == q->ns_dev && st.st_ino == q->ns_ino;
}

/* An open waits for this answer: the file is measured before the opener
 * can write, so that what it held before the run is its base. */
static void allow(struct hb_quota *q, int fd,
		  const struct fanotify_event_metadata *m)
{
	struct fanotify_response rsp = {.fd = m->fd, .response = FAN_ALLOW};

	if (write(fd, &rsp, sizeof(rsp)) != sizeof(rsp))
		q->lost++;
}

static void on_event(struct hb_quota *q, int fd,
		     const struct fanotify_event_metadata *m)
{
	if (m->mask & FAN_Q_OVERFLOW) {
		q->lost++;
		return;
	}
	if (fd == q->bytes_fd && (m->mask & (FAN_MODIFY | FAN_OPEN_PERM)) &&
	    m->fd >= 0 && on_modify(q, m->fd) && (m->mask & FAN_OPEN_PERM))
		measured(q, m->fd);
	if (fd == q->bytes_fd && (m->mask & FAN_OPEN_PERM) && m->fd >= 0)
		allow(q, fd, m);
	else if (fd == q->files_fd && (m->mask & FAN_CREATE) &&
		 in_sandbox(q, m->pid))
		q->files++;
}

/* Up to reads buffers of fd; false once its queue is empty. */
static bool read_some(struct hb_quota *q, int fd, int reads)
{
	_Alignas(struct fanotify_event_metadata) char buf[EVENT_BUF];

	for (int turn = 0; turn < reads; turn++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		const struct fanotify_event_metadata *m =
			(const struct fanotify_event_metadata *)buf;

		if (n <= 0)
			return false;
		for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			on_event(q, fd, m);
			if (m->fd >= 0)
				close(m->fd);
		}
	}
	return true;
}

bool hb_quota_read(struct hb_quota *q, int fd)
{
	read_some(q, fd, READS_PER_TURN);
	return hb_quota_over(q);
}

void hb_quota_drain(struct hb_quota *q)
{
	while (q->bytes_fd >= 0 && read_some(q, q->bytes_fd, READS_PER_TURN))
		;
	while (q->files_fd >= 0 && read_some(q, q->files_fd, READS_PER_TURN))
		;
}

bool hb_quota_over(const struct hb_quota *q)
{
	return (q->max_files && q->files > q->max_files) ||
	       (q->max_bytes && q->ledger.added > q->max_bytes);
}

void hb_quota_close(struct hb_quota *q)
{
	hb_closep(&q->bytes_fd);
	hb_closep(&q->files_fd);
	hb_quota_ledger_free(&q->ledger);
}

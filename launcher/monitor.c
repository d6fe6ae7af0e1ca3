/* SPDX-License-Identifier: MIT */
#include "monitor.h"
#include "util.h"

#include <dirent.h>
#include <limits.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

/* The processes found so far, and one children file as read.  Both grow
 * as needed: the count has no cap of its own (RLIMIT_NPROC bounds it),
 * so that no process beyond a cap escapes the memory sum. */
struct walk {
	pid_t *pids;
	size_t n, cap;
	char *buf;
	size_t buf_cap;
	int err; /* the first allocation failure: the sample is short */
};

static long clk_ticks, page_kb;

/* utime, stime (fields 14, 15), cutime, cstime (16, 17), num_threads
 * (20), vsize (23) and rss (24) of /proc/PID/stat, CPU in ms; the command
 * name may hold spaces, so count from its closing ')'. */
static int read_stat(pid_t pid, unsigned long long *ret_own_ms,
		     unsigned long long *ret_reaped_ms, long long *ret_rss,
		     unsigned long long *ret_vsize, unsigned *ret_threads)
{
	unsigned long long ut = 0, st = 0, cut = 0, cst = 0;
	char path[64], buf[1024], *p;

	if (!clk_ticks) {
		clk_ticks = sysconf(_SC_CLK_TCK);
		page_kb = sysconf(_SC_PAGESIZE) / 1024;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (hb_read_text(path, buf, sizeof(buf)) < 0)
		return -errno;
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
		   "%llu %llu %*d %*d %u %*d %*u %llu %lld",
		   &ut, &st, &cut, &cst, ret_threads, ret_vsize, ret_rss) != 7)
		return -EINVAL;
	*ret_own_ms = (ut + st) * 1000 / (unsigned long long)clk_ticks;
	*ret_reaped_ms = (cut + cst) * 1000 / (unsigned long long)clk_ticks;
	return 0;
}

/* One process of the sandbox: its own CPU (every thread, living and
 * ended) and that of the children it reaped, which the kernel moved into
 * its cutime and cstime when it waited for them. */
static int add_process(pid_t pid, struct hb_sample *s)
{
	unsigned long long own, reaped;
	unsigned long long vsize = 0;
	long long rss = 0;
	unsigned threads = 0;
	char path[64];
	struct stat st;
	int r = read_stat(pid, &own, &reaped, &rss, &vsize, &threads);

	if (r < 0)
		return r;
	s->tasks += threads;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	if (stat(path, &st) == 0 && st.st_size > (off_t)s->fds_max)
		s->fds_max = (unsigned)st.st_size;
	if (own > s->cpu_max_ms)
		s->cpu_max_ms = own;
	if (vsize / 1024 > s->vm_max_kb)
		s->vm_max_kb = vsize / 1024;
	s->cpu_total_ms += own + reaped;
	s->rss_kb += (unsigned long long)(rss > 0 ? rss : 0) *
		     (unsigned long long)page_kb;
	s->processes++;
	return 0;
}

static int push(struct walk *w, pid_t pid)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 256;
		pid_t *v = reallocarray(w->pids, cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		w->pids = v;
		w->cap = cap;
	}
	w->pids[w->n++] = pid;
	return 0;
}

/* The whole of a /proc file into w->buf, however long: a parent with a
 * thousand children has a children file of several pages. */
static int read_whole(struct walk *w, const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (w->buf_cap - len < 4096) {
			size_t cap = w->buf_cap ? 2 * w->buf_cap : 8192;
			char *b = realloc(w->buf, cap);
			if (!b)
				return -ENOMEM;
			w->buf = b;
			w->buf_cap = cap;
		}
		n = read(fd, w->buf + len, w->buf_cap - len - 1);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	w->buf[len] = '\0';
	return 0;
}

static void task_children(struct walk *w, pid_t pid, const char *tid)
{
	char path[64 + NAME_MAX];
	char *save = NULL;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid, tid);
	r = read_whole(w, path);
	if (r == -ENOMEM && !w->err)
		w->err = r;
	if (r < 0)
		return;
	for (char *t = strtok_r(w->buf, " \n", &save); t;
	     t = strtok_r(NULL, " \n", &save))
		if (push(w, (pid_t)atoi(t)) < 0 && !w->err)
			w->err = -ENOMEM;
}

/* Children of every thread of pid (a worker thread may fork too),
 * appended to the walk. */
static void children(struct walk *w, pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			task_children(w, pid, de->d_name);
	closedir(d);
}

/* Pages in use, and the kernel memory of every file, empty or not. */
static unsigned long long tmpfs_used_kb(pid_t init, const char *dir)
{
	unsigned long long pages, inodes = 0;
	char path[96];
	struct statfs sf;

	snprintf(path, sizeof(path), "/proc/%d/root%s", init, dir);
	if (statfs(path, &sf) < 0)
		return 0;
	pages = (unsigned long long)(sf.f_blocks - sf.f_bfree) *
		(unsigned long long)sf.f_bsize;
	if (sf.f_files > sf.f_ffree)
		inodes = sf.f_files - sf.f_ffree;
	return (pages + inodes * HB_TMPFS_INODE_BYTES) / 1024;
}

/* What one row of a /proc/sysvipc file holds, in bytes.  The columns
 * are the kernel's ABI: shm's rss and swap (15th and 16th, in bytes),
 * msg's cbytes and qnum (4th and 5th), sem's nsems (4th). */
static unsigned long long ipc_row_bytes(enum hb_ipc_file which, const char *row)
{
	unsigned long long a = 0, b = 0;

	switch (which) {
	case HB_IPC_SHM:
		if (sscanf(row,
			   "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			   "%*s %*s %llu %llu",
			   &a, &b) != 2)
			return 0;
		return a + b;
	case HB_IPC_MSG:
		if (sscanf(row, "%*s %*s %*s %llu %llu", &a, &b) != 2)
			return 0;
		return a + b * HB_IPC_MSG_BYTES;
	case HB_IPC_SEM:
		if (sscanf(row, "%*s %*s %*s %llu", &a) != 1)
			return 0;
		return a * HB_IPC_SEM_BYTES;
	default:
		return 0;
	}
}

/* The file is read again from its start on a copy of the descriptor:
 * the kernel lists the namespace of whoever opened it, the init. */
static unsigned long long ipc_bytes(int fd, enum hb_ipc_file which)
{
	_cleanup_fclose_ FILE *f = NULL;
	unsigned long long sum = 0;
	char row[512];
	int copy;

	if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return 0;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0)
		return 0;
	f = fdopen(copy, "r");
	if (!f) {
		close(copy);
		return 0;
	}
	/* The first row names the columns. */
	if (!fgets(row, sizeof(row), f))
		return 0;
	while (fgets(row, sizeof(row), f))
		sum += ipc_row_bytes(which, row);
	return sum;
}

int hb_monitor_sample(const struct hb_monitor_src *src, struct hb_sample *ret)
{
	struct walk w = {0};
	unsigned long long ipc = 0;

	unsigned long long own, vsize;
	long long rss;
	unsigned threads;

	memset(ret, 0, sizeof(*ret));
	/* The init's own CPU is ours and tiny; what it reaped is the
	 * sandbox's.  Read first: every process is read before its children
	 * (the walk goes down), so a process reaped during the walk is
	 * missed by this sample rather than counted twice, live and in its
	 * reaper's cutime.  The caller keeps the total from going down. */
	if (read_stat(src->init, &own, &ret->cpu_total_ms, &rss, &vsize,
		      &threads) < 0)
		ret->cpu_total_ms = 0;
	/* A process may exit between the listing and the read: skip it. */
	children(&w, src->init);
	for (size_t i = 0; i < w.n; i++) {
		if (add_process(w.pids[i], ret) == 0)
			children(&w, w.pids[i]);
	}
	if (src->in_root)
		ret->tmpfs_kb = tmpfs_used_kb(src->init, "/tmp") +
				tmpfs_used_kb(src->init, "/dev/shm");
	for (int i = 0; i < HB_IPC_FILES; i++)
		ipc += ipc_bytes(src->ipc[i], (enum hb_ipc_file)i);
	ret->ipc_kb = ipc / 1024;
	ret->total_kb = ret->rss_kb + ret->tmpfs_kb + ret->ipc_kb;
	free(w.pids);
	free(w.buf);
	return w.err;
}

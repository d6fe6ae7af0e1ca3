/* SPDX-License-Identifier: MIT */
#include "monitor.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statfs.h>

#define MAX_PROCS 4096

/* utime, stime (fields 14, 15) and rss (field 24) of /proc/PID/stat;
 * the command name may hold spaces, so count from its closing ')'. */
static int read_stat(pid_t pid, struct hb_sample *s)
{
	static long ticks, page_kb;
	unsigned long long ut = 0, st = 0, cpu;
	long long rss = 0;
	char path[64], buf[1024], *p;

	if (!ticks) {
		ticks = sysconf(_SC_CLK_TCK);
		page_kb = sysconf(_SC_PAGESIZE) / 1024;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (hb_read_text(path, buf, sizeof(buf)) < 0)
		return -errno;
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
		   "%*d %*d %*d %*d %*d %*d %*u %*u %lld",
		   &ut, &st, &rss) != 3)
		return -EINVAL;
	cpu = (ut + st) * 1000 / (unsigned long long)ticks;
	if (cpu > s->cpu_max_ms)
		s->cpu_max_ms = cpu;
	s->rss_kb += (unsigned long long)(rss > 0 ? rss : 0) *
		     (unsigned long long)page_kb;
	s->processes++;
	return 0;
}

static void task_children(pid_t pid, const char *tid, pid_t *list, size_t *n)
{
	char path[96], buf[4096];
	char *save = NULL;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid, tid);
	if (hb_read_text(path, buf, sizeof(buf)) <= 0)
		return;
	for (char *t = strtok_r(buf, " \n", &save); t && *n < MAX_PROCS;
	     t = strtok_r(NULL, " \n", &save))
		list[(*n)++] = (pid_t)atoi(t);
}

/* Children of every thread of pid (a worker thread may fork too),
 * appended to list. */
static void children(pid_t pid, pid_t *list, size_t *n)
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
			task_children(pid, de->d_name, list, n);
	closedir(d);
}

static unsigned long long tmpfs_used_kb(pid_t init, const char *dir)
{
	char path[96];
	struct statfs sf;

	snprintf(path, sizeof(path), "/proc/%d/root%s", init, dir);
	if (statfs(path, &sf) < 0)
		return 0;
	return (unsigned long long)(sf.f_blocks - sf.f_bfree) *
	       (unsigned long long)sf.f_bsize / 1024;
}

void hb_monitor_sample(pid_t init, bool with_tmpfs, struct hb_sample *ret)
{
	static pid_t list[MAX_PROCS];
	size_t n = 0;

	memset(ret, 0, sizeof(*ret));
	/* The init itself is ours and tiny; what it runs is the sandbox.
	 * A process may exit between the listing and the read: skip it. */
	children(init, list, &n);
	for (size_t i = 0; i < n; i++) {
		if (read_stat(list[i], ret) == 0)
			children(list[i], list, &n);
	}
	if (with_tmpfs)
		ret->tmpfs_kb = tmpfs_used_kb(init, "/tmp") +
				tmpfs_used_kb(init, "/dev/shm");
	ret->total_kb = ret->rss_kb + ret->tmpfs_kb;
}

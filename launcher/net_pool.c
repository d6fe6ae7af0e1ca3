/* SPDX-License-Identifier: MIT */
#include "net_pool.h"
#include "util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

_Static_assert(HB_NET_POOL_IFNAME_MAX == IFNAMSIZ, "interface name size");

#define LOCK_NAME "lock"
/* Present while hivebox holds forwarding on that was off before it. */
#define FORWARD_NOTE "ip_forward.hivebox"

const char *hb_net_pool_forward_path = "/proc/sys/net/ipv4/ip_forward";
#define INDEX_NAME_MAX 16 /* "%u" and its NUL */

enum slot_state {
	SLOT_FREE,  /* no state file */
	SLOT_STALE, /* a file whose owner is gone, or that makes no sense */
	SLOT_HELD,  /* a file naming a running process */
};

int hb_net_pool_parse(const char *s, struct hb_net_pool *ret)
{
	char addr[INET_ADDRSTRLEN];
	unsigned long long prefixlen;
	const char *slash;
	struct in_addr in;
	uint32_t network, mask;

	slash = s ? strchr(s, '/') : NULL;
	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, &in) != 1 ||
	    hb_parse_u64(slash + 1, 32, &prefixlen) < 0)
		return -EINVAL;
	if (prefixlen > HB_NET_POOL_SLOT_PREFIXLEN)
		return -ERANGE;
	network = ntohl(in.s_addr);
	mask = prefixlen ? ~0u << (32 - prefixlen) : 0;
	if (network & ~mask)
		return -EINVAL;
	ret->network = network;
	ret->prefixlen = (unsigned)prefixlen;
	ret->count = 1u << (HB_NET_POOL_SLOT_PREFIXLEN - prefixlen);
	return 0;
}

int hb_net_pool_host_ifname(unsigned index, char *buf, size_t size)
{
	int n = snprintf(buf, size, "hb%uh", index);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int hb_net_pool_slot(const struct hb_net_pool *pool, unsigned index,
		     struct hb_net_pool_slot *ret)
{
	uint32_t base;

	if (index >= pool->count)
		return -ERANGE;
	base = pool->network + 4 * index;
	ret->index = index;
	ret->host_ip = htonl(base + 1);
	ret->sandbox_ip = htonl(base + 2);
	return hb_net_pool_host_ifname(index, ret->host_ifname,
				       sizeof(ret->host_ifname));
}

/* Skip n space-separated fields of /proc/PID/stat. */
static const char *skip_fields(const char *p, int n)
{
	while (p && n-- > 0) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p;
}

int hb_net_pool_starttime(pid_t pid, unsigned long long *ret)
{
	_cleanup_close_ int fd = -1;
	char path[64], buf[2048], *end;
	const char *p;
	ssize_t n;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	/* Field 2, the name in parentheses, may itself hold spaces and
	 * parentheses; field 3, the state, follows the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	p += 2;
	/* A zombie's resources are gone: it owns nothing any more. */
	if (*p && strchr("ZXx", *p))
		return -ESRCH;
	p = skip_fields(p, 22 - 3);
	if (!p)
		return -EIO;
	errno = 0;
	*ret = strtoull(p, &end, 10);
	return errno || end == p || (*end != ' ' && *end != '\n') ? -EIO : 0;
}

/* The pool's lock; closing the descriptor releases it. */
static int lock_pool(int dirfd)
{
	_cleanup_close_ int fd = -1;

	fd = openat(dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	return TAKE_FD(fd);
}

/* "pid starttime\n", both decimal. */
static bool parse_owner(char *s, pid_t *ret_pid,
			unsigned long long *ret_starttime)
{
	unsigned long long pid;
	char *space;

	s[strcspn(s, "\n")] = '\0';
	space = strchr(s, ' ');
	if (!space)
		return false;
	*space = '\0';
	if (hb_parse_u64(s, INT_MAX, &pid) < 0 || pid == 0 ||
	    hb_parse_u64(space + 1, ULLONG_MAX, ret_starttime) < 0)
		return false;
	*ret_pid = (pid_t)pid;
	return true;
}

static int slot_state(int dirfd, const char *name)
{
	_cleanup_close_ int fd = -1;
	unsigned long long starttime, now;
	char buf[64];
	ssize_t n;
	pid_t pid;
	int r;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? SLOT_FREE : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	/* Torn or foreign content: whoever wrote it holds nothing we could
	 * recognise, so its leftovers are cleaned like a dead owner's. */
	if (!parse_owner(buf, &pid, &starttime))
		return SLOT_STALE;
	r = hb_net_pool_starttime(pid, &now);
	if (r == -ESRCH)
		return SLOT_STALE;
	if (r < 0)
		return r;
	/* The same pid with another start time is a stranger that reused
	 * the number after the owner died. */
	return now == starttime ? SLOT_HELD : SLOT_STALE;
}

static int write_owner(int dirfd, const char *name,
		       unsigned long long starttime)
{
	_cleanup_close_ int fd = -1;
	char buf[64];
	int n;

	n = snprintf(buf, sizeof(buf), "%d %llu\n", (int)getpid(), starttime);
	fd = openat(dirfd, name,
		    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -errno;
	errno = 0;
	if (write(fd, buf, (size_t)n) != n)
		return errno ? -errno : -EIO;
	return close(TAKE_FD(fd)) < 0 ? -errno : 0;
}

int hb_net_pool_acquire(const struct hb_net_pool *pool, const char *state_dir,
			bool (*usable)(unsigned index, void *userdata),
			void *userdata, unsigned *ret_index)
{
	_cleanup_close_ int dirfd = -1, lockfd = -1;
	unsigned long long self;
	char name[INDEX_NAME_MAX];
	int r;

	r = hb_net_pool_starttime(getpid(), &self);
	if (r < 0)
		return r;
	dirfd = hb_open_own_dir(state_dir, true);
	if (dirfd < 0)
		return dirfd;
	lockfd = lock_pool(dirfd);
	if (lockfd < 0)
		return lockfd;
	for (uint32_t i = 0; i < pool->count; i++) {
		snprintf(name, sizeof(name), "%u", i);
		r = slot_state(dirfd, name);
		if (r < 0)
			return r;
		if (r == SLOT_HELD || (usable && !usable(i, userdata)))
			continue;
		r = write_owner(dirfd, name, self);
		if (r < 0)
			return r;
		*ret_index = i;
		return 0;
	}
	return -EADDRNOTAVAIL;
}

int hb_net_pool_forwarding_on(const char *state_dir)
{
	_cleanup_close_ int dirfd = -1, lockfd = -1, note = -1;
	char now[8];
	int r;

	dirfd = hb_open_own_dir(state_dir, true);
	if (dirfd < 0)
		return dirfd;
	lockfd = lock_pool(dirfd);
	if (lockfd < 0)
		return lockfd;
	r = hb_read_text(hb_net_pool_forward_path, now, sizeof(now));
	if (r < 0 || now[0] != '0')
		return r < 0 ? r : 0;
	/* The note first: if we die between the two, the next start
	 * writes 0 where it already is. */
	note = openat(dirfd, FORWARD_NOTE,
		      O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (note < 0)
		return -errno;
	r = hb_write_text(hb_net_pool_forward_path, "1\n");
	return r < 0 ? r : 1;
}

static int held_count(int dirfd);

/* With the lock held: once no slot is held, put forwarding back off if
 * hivebox switched it on.  1 if it did so now. */
static int forwarding_restore(int dirfd)
{
	int held, r;

	if (faccessat(dirfd, FORWARD_NOTE, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	held = held_count(dirfd);
	if (held != 0)
		return held < 0 ? held : 0;
	r = hb_write_text(hb_net_pool_forward_path, "0\n");
	if (r < 0)
		return r;
	return unlinkat(dirfd, FORWARD_NOTE, 0) < 0 ? -errno : 1;
}

int hb_net_pool_release(const char *state_dir, unsigned index)
{
	_cleanup_close_ int dirfd = -1, lockfd = -1;
	char name[INDEX_NAME_MAX];

	dirfd = hb_open_own_dir(state_dir, false);
	if (dirfd < 0)
		return dirfd == -ENOENT ? 0 : dirfd;
	lockfd = lock_pool(dirfd);
	if (lockfd < 0)
		return lockfd;
	snprintf(name, sizeof(name), "%u", index);
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return forwarding_restore(dirfd);
}

/* Is name a state file's, "0" or a decimal without leading zeros? */
static bool index_name(const char *name, unsigned *ret)
{
	unsigned long long v;

	if (hb_parse_u64(name, UINT_MAX, &v) < 0 ||
	    (name[0] == '0' && name[1] != '\0'))
		return false;
	*ret = (unsigned)v;
	return true;
}

/* One stale index: clean up after its owner, then forget it. */
static int clean_one(int dirfd, const char *name, unsigned index,
		     int (*cleanup)(unsigned, void *), void *userdata)
{
	int r = cleanup ? cleanup(index, userdata) : 0;

	if (r < 0)
		return r;
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* A directory stream on a copy of dirfd, which stays open; NULL and
 * errno on failure. */
static DIR *opendir_at(int dirfd)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d && fd >= 0) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

/* How many indexes are held by running processes. */
static int held_count(int dirfd)
{
	struct dirent *de;
	unsigned index;
	int n = 0, r;
	DIR *d = opendir_at(dirfd);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!index_name(de->d_name, &index))
			continue;
		r = slot_state(dirfd, de->d_name);
		if (r < 0) {
			n = r;
			break;
		}
		n += r == SLOT_HELD;
	}
	closedir(d);
	return n;
}

int hb_net_pool_stale(const char *state_dir,
		      int (*cleanup)(unsigned index, void *userdata),
		      void *userdata)
{
	_cleanup_close_ int dirfd = -1, lockfd = -1;
	int r, first = 0, cleaned = 0;
	struct dirent *de;
	unsigned index;
	DIR *d;

	dirfd = hb_open_own_dir(state_dir, false);
	if (dirfd == -ENOENT)
		return 0;
	if (dirfd < 0)
		return dirfd;
	lockfd = lock_pool(dirfd);
	if (lockfd < 0)
		return lockfd;
	d = opendir_at(dirfd);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!index_name(de->d_name, &index))
			continue;
		r = slot_state(dirfd, de->d_name);
		if (r == SLOT_FREE || r == SLOT_HELD)
			continue;
		if (r == SLOT_STALE)
			r = clean_one(dirfd, de->d_name, index, cleanup,
				      userdata);
		if (r < 0 && first == 0)
			first = r;
		else if (r >= 0)
			cleaned++;
	}
	closedir(d);
	/* A killed last run left forwarding on.  Only running owners hold
	 * it: an index whose cleanup failed keeps its file for the next
	 * start, but not forwarding. */
	r = forwarding_restore(dirfd);
	if (r < 0 && first == 0)
		first = r;
	return first < 0 ? first : cleaned;
}

/* SPDX-License-Identifier: MIT */
/* The address pool of filtered networks.  A configured IPv4 range such as
 * 10.251.0.0/16 is cut into /30 subnets, one per running sandbox: at index
 * i the host end of the veth pair is network + 4i + 1 and is called
 * "hb<i>h", the sandbox end network + 4i + 2, called "eth0".  Which
 * indexes are in use is kept as one small file per index in a state
 * directory, written under a lock, so that many runs can start at once and
 * the leftovers of a run that was killed can be found. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HB_NET_POOL_SLOT_PREFIXLEN 30
#define HB_NET_POOL_SANDBOX_IFNAME "eth0"
#define HB_NET_POOL_IFNAME_MAX 16 /* IFNAMSIZ, with the terminating NUL */

struct hb_net_pool {
	uint32_t network; /* the first address, host byte order */
	unsigned prefixlen;
	uint32_t count; /* how many /30 subnets it holds */
};

/* Everything one sandbox's network needs from the pool. */
struct hb_net_pool_slot {
	unsigned index;
	uint32_t host_ip;    /* network byte order, as netlink.h takes it */
	uint32_t sandbox_ip; /* network byte order; its gateway is host_ip */
	char host_ifname[HB_NET_POOL_IFNAME_MAX];
};

/* Parse "a.b.c.d/n": -EINVAL if it is not that or has host bits set,
 * -ERANGE if the range is smaller than one /30 (n > 30). */
int hb_net_pool_parse(const char *s, struct hb_net_pool *ret);
/* The addresses and host interface name of index; -ERANGE if the pool has
 * no such index. */
int hb_net_pool_slot(const struct hb_net_pool *pool, unsigned index,
		     struct hb_net_pool_slot *ret);
/* "hb<index>h" into buf; -ENAMETOOLONG if it does not fit. */
int hb_net_pool_host_ifname(unsigned index, char *buf, size_t size);

/* Take the lowest index that no running process holds: one with no state
 * file, or whose file names an owner that is gone.  The file then names
 * this process (pid and start time).  state_dir, with any missing parent,
 * is created 0700; one that is a symlink, not ours, or writable by group
 * or others is refused with -EPERM or -ELOOP/-ENOTDIR.  -EADDRNOTAVAIL
 * when every index is held.  Run hb_net_pool_stale() first: an index taken
 * over from a dead owner may still have its interface.  usable, if not
 * NULL, may pass over an index that is free but not yet fit for use (its
 * last run's interface is still on its way out). */
int hb_net_pool_acquire(const struct hb_net_pool *pool, const char *state_dir,
			bool (*usable)(unsigned index, void *userdata),
			void *userdata, unsigned *ret_index);
/* net.ipv4.ip_forward, which filtered networks need on; tests point it at
 * a namespace's own copy. */
extern const char *hb_net_pool_forward_path;

/* Switch IPv4 forwarding on, under the pool's lock.  1 if it was off and
 * this call switched it on: a note in state_dir then makes the release of
 * the last held index (or hb_net_pool_stale() after a crash) switch it
 * back off.  0 if it was on already. */
int hb_net_pool_forwarding_on(const char *state_dir);

/* Give index back; call it once the slot's interface and rules are gone,
 * since the next run may take the index at once.  Releasing an index that
 * is not held is not an error.  Returns 1 if that was the last index and
 * forwarding, which hivebox had switched on, is now off again. */
int hb_net_pool_release(const char *state_dir, unsigned index);
/* For every index whose owner is gone, call cleanup(index, userdata) and,
 * if it returns >= 0, remove the state file; one that fails keeps its file
 * for the next start to retry.  Runs with the pool's lock held, so that no
 * run takes an index while its leftovers are being removed; cleanup must
 * not call back into the pool.  Returns how many were cleaned, or the
 * first -errno (cleanup's included).  A missing state_dir is no error. */
int hb_net_pool_stale(const char *state_dir,
		      int (*cleanup)(unsigned index, void *userdata),
		      void *userdata);

/* The start time of pid, in clock ticks after boot (/proc/PID/stat field
 * 22): with the pid, it names a process, whose pid may be reused once it
 * is gone.  -ESRCH for a process that is gone or a zombie. */
int hb_net_pool_starttime(pid_t pid, unsigned long long *ret);

/* SPDX-License-Identifier: MIT */
#include "net_run.h"
#include "net_link.h"
#include "net_nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

static void table_name(unsigned index, char *buf, size_t size)
{
	snprintf(buf, size, "hivebox_%u", index);
}

static int delete_table(struct hb_net_run *n)
{
	char buf[512] __attribute__((aligned(8)));
	size_t len;
	int r = hb_net_nft_build_delete(n->table, buf, sizeof(buf), 1, &len);

	if (r == 0)
		r = hb_net_nft_apply_on(n->nft, buf, len);
	return r == -ENOENT ? 0 : r;
}

/* What a killed run left at index.  Its table went with the socket that
 * owned it; its veth goes with its namespace, unless that lingers. */
static int clean_stale(unsigned index, void *userdata)
{
	char ifname[HB_NET_POOL_IFNAME_MAX];
	int r;

	(void)userdata;
	r = hb_net_pool_host_ifname(index, ifname, sizeof(ifname));
	if (r == 0)
		r = hb_net_link_del_link(ifname);
	return r == -ENODEV ? 0 : r;
}

/* The host end of a finished run goes with its network namespace, which
 * the kernel frees a little after the run; until then the index waits. */
static bool link_gone(unsigned index, void *userdata)
{
	char ifname[HB_NET_POOL_IFNAME_MAX];

	(void)userdata;
	return hb_net_pool_host_ifname(index, ifname, sizeof(ifname)) == 0 &&
	       hb_net_link_ifindex(ifname) == -ENODEV;
}

int hb_net_run_acquire(struct hb_net_run *n, const struct hb_net_plan *np,
		       struct hb_error *e)
{
	const struct hb_config *c = np->config;
	unsigned index;
	int r;

	memset(n, 0, sizeof(*n));
	n->np = np;
	n->nflog_fd = -1;
	n->forwarding = -1;
	n->nft = hb_net_nft_socket();
	if (!n->nft)
		return hb_error_set(e, HB_STAGE_NET_HOST, errno,
				    "open an nftables socket");
	/* A leftover that cannot be removed now is no reason to refuse this
	 * run: its index stays taken, and the next start tries again. */
	n->stale_cleaned = hb_net_pool_stale(c->state_dir, clean_stale, NULL);
	r = hb_net_pool_acquire(&c->pool, c->state_dir, link_gone, NULL,
				&index);
	if (r == 0) {
		n->have_slot = n->had_slot = true;
		r = hb_net_pool_slot(&c->pool, index, &n->slot);
	}
	if (r < 0)
		return hb_error_set(e, HB_STAGE_NET_HOST, -r,
				    "take an address from the pool");
	/* This run's connections; 0 is every connection's mark by default. */
	do
		if (getrandom(&n->ct_mark, sizeof(n->ct_mark), 0) !=
		    sizeof(n->ct_mark))
			return hb_error_set(e, HB_STAGE_NET_HOST, errno,
					    "getrandom");
	while (n->ct_mark == 0);
	n->group = (uint16_t)(HB_NET_RUN_GROUP_BASE + index);
	table_name(index, n->table, sizeof(n->table));
	return 0;
}

static int apply_rules(struct hb_net_run *n, struct hb_error *e)
{
	const struct hb_net_plan *np = n->np;
	struct hb_net_nft_rules rules = {
		.sandbox_ip = n->slot.sandbox_ip,
		.allow_any = np->allow_any,
		.allowed_ips = np->ips,
		.n_allowed_ips = np->n_ips,
		.allowed_ports = np->ports,
		.n_allowed_ports = np->n_ports,
		.blocked_ports = np->blocked,
		.n_blocked_ports = np->n_blocked,
		.nflog_group = n->group,
		.ct_mark = n->ct_mark,
	};
	/* Room for the rules and every element, 64 per message. */
	size_t size = 16384 + (np->n_ips + np->n_ports + np->n_blocked) * 32;
	_cleanup_free_ void *buf = malloc(size);
	size_t len;
	int r;

	if (!buf)
		return hb_error_set(e, HB_STAGE_NET_HOST, ENOMEM,
				    "a batch of %zu bytes", size);
	snprintf(rules.table, sizeof(rules.table), "%s", n->table);
	snprintf(rules.host_if, sizeof(rules.host_if), "%s",
		 n->slot.host_ifname);
	r = hb_net_nft_build(&rules, buf, size, 1, &len);
	if (r < 0)
		return hb_error_set(e, HB_STAGE_NET_HOST, -r,
				    "build the batch");
	r = hb_net_nft_apply_on(n->nft, buf, len);
	if (r < 0)
		return hb_error_set(e, HB_STAGE_NET_HOST, -r, "send the batch");
	return 0;
}

int hb_net_run_host(struct hb_net_run *n, pid_t pid, struct hb_error *e)
{
	int r;

	/* No leftover of the slot can be in the way: a table goes with its
	 * owner's socket, and acquire passed over indexes whose interface is
	 * still there (link_gone).  The log socket first: no packet may be
	 * dropped unseen. */
	n->nflog_fd = hb_net_nflog_open(n->group);
	if (n->nflog_fd < 0)
		return hb_error_set(e, HB_STAGE_NET_HOST, -n->nflog_fd,
				    "bind the NFLOG group");
	r = hb_net_link_veth_setup(n->slot.host_ifname,
				   HB_NET_POOL_SANDBOX_IFNAME, pid,
				   n->slot.host_ip, HB_NET_POOL_SLOT_PREFIXLEN);
	if (r < 0)
		return hb_error_set(e, HB_STAGE_NET_HOST, -r,
				    "create the veth pair");
	r = hb_net_pool_forwarding_on(n->np->config->state_dir);
	if (r < 0)
		return hb_error_set(e, HB_STAGE_NET_HOST, -r,
				    "switch IPv4 forwarding on");
	n->forwarding = r;
	/* Before: an answer lost after the kernel committed the batch must
	 * not leave the table behind (deleting one that is not there is no
	 * error). */
	n->have_table = true;
	r = apply_rules(n, e);
	return r < 0 ? hb_error_wrap(e, "add the nftables table %s", n->table)
		     : 0;
}

static bool same_dest(const struct hb_net_nflog_packet *a,
		      const struct hb_net_nflog_packet *b)
{
	return a->family == b->family && a->proto == b->proto &&
	       a->dport == b->dport && memcmp(a->dst, b->dst, 16) == 0;
}

/* The slot for a destination not seen yet: a free one, else that of the
 * recent destination tried least recently, whose packets join the
 * others.  The first HB_NET_RUN_DESTS_FIRST never give way. */
static struct hb_net_run_dest *new_dest(struct hb_net_run *n)
{
	struct hb_net_run_dest *d = &n->dests[HB_NET_RUN_DESTS_FIRST];

	if (n->n_dests < HB_NET_RUN_DESTS_MAX)
		return &n->dests[n->n_dests++];
	for (size_t i = HB_NET_RUN_DESTS_FIRST + 1; i < n->n_dests; i++)
		if (n->dests[i].last < d->last)
			d = &n->dests[i];
	n->others += d->count;
	return d;
}

static void note_packet(struct hb_net_run *n,
			const struct hb_net_nflog_packet *p)
{
	struct hb_net_run_dest *d = NULL;
	/* Messages the kernel could not queue: dropped packets all the
	 * same, whose destinations nobody will know. */
	uint32_t lost = p->seq - n->next_seq;

	n->next_seq = p->seq + 1;
	n->blocked += lost + 1;
	n->others += lost;
	for (size_t i = 0; i < n->n_dests && !d; i++)
		if (same_dest(&n->dests[i].p, p))
			d = &n->dests[i];
	if (!d) {
		d = new_dest(n);
		d->p = *p;
		memset(d->p.src, 0, sizeof(d->p.src));
		d->count = 0;
		d->first_ms = hb_clock_ms(CLOCK_REALTIME);
	}
	d->count++;
	d->last = n->blocked;
	d->last_ms = d->count == 1 ? d->first_ms : hb_clock_ms(CLOCK_REALTIME);
}

bool hb_net_run_read(struct hb_net_run *n)
{
	/* A logged packet is a ~250-byte message (128 bytes of it copied). */
	char buf[16384] __attribute__((aligned(8)));
	struct hb_net_nflog_packet p;
	ssize_t got;

	if (n->nflog_fd < 0)
		return false;
	/* A bounded number per call, so that a flood of refused packets
	 * cannot keep the supervisor from its timers and signals.  (ENOBUFS,
	 * messages the kernel could not queue, shows as a gap in their
	 * numbers once the next one arrives.) */
	for (int reads = 0; reads < 64; reads++) {
		const struct nlmsghdr *nlh = (const void *)buf;
		int left;
		got = recv(n->nflog_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (got < 0 && errno == ENOBUFS)
			continue;
		if (got <= 0)
			return false;
		for (left = (int)got; NLMSG_OK(nlh, left);
		     nlh = NLMSG_NEXT(nlh, left))
			if (hb_net_nflog_parse(nlh, nlh->nlmsg_len, &p) == 0)
				note_packet(n, &p);
	}
	return true;
}

static const char *proto_name(uint8_t proto, char *buf, size_t size)
{
	const char *name = hb_net_nflog_proto_name(proto);

	if (name)
		return name;
	snprintf(buf, size, "%u", proto);
	return buf;
}

static void report_dest(const struct hb_net_run_dest *d, struct hb_events *w)
{
	char addr[INET6_ADDRSTRLEN] = "?", what[96], msg[256], num[8];
	json_object *j = json_object_new_object();

	inet_ntop(d->p.family, d->p.dst, addr, sizeof(addr));
	hb_net_nflog_describe(&d->p, what, sizeof(what));
	snprintf(msg, sizeof(msg), "network: %s blocked (%llu packet%s)", what,
		 d->count, d->count == 1 ? "" : "s");
	json_object_object_add(j, "address", json_object_new_string(addr));
	json_object_object_add(j, "family",
			       json_object_new_string(d->p.family == AF_INET6
							      ? "ipv6"
							      : "ipv4"));
	json_object_object_add(j, "protocol",
			       json_object_new_string(proto_name(
				       d->p.proto, num, sizeof(num))));
	json_object_object_add(
		j, "port", d->p.dport ? json_object_new_int(d->p.dport) : NULL);
	json_object_object_add(j, "count", json_object_new_uint64(d->count));
	json_object_object_add(j, "first_seen_ms",
			       json_object_new_uint64(d->first_ms));
	json_object_object_add(j, "last_seen_ms",
			       json_object_new_uint64(d->last_ms));
	hb_events_event(w, "network_blocked", HB_EV_VIOLATION, msg, j);
}

static void report_others(const struct hb_net_run *n, struct hb_events *w)
{
	json_object *j = json_object_new_object();
	char msg[200];

	snprintf(msg, sizeof(msg),
		 "network: %llu more blocked packets, to destinations neither "
		 "among the first %d nor among the last %d, or lost by the log",
		 n->others, HB_NET_RUN_DESTS_FIRST,
		 HB_NET_RUN_DESTS_MAX - HB_NET_RUN_DESTS_FIRST);
	json_object_object_add(j, "count", json_object_new_uint64(n->others));
	hb_events_event(w, "network_blocked", HB_EV_VIOLATION, msg, j);
}

static int by_last(const void *a, const void *b)
{
	const struct hb_net_run_dest *x = *(const void *const *)a;
	const struct hb_net_run_dest *y = *(const void *const *)b;

	return (x->last > y->last) - (x->last < y->last);
}

void hb_net_run_report(const struct hb_net_run *n, struct hb_events *w)
{
	const struct hb_net_run_dest
		*recent[HB_NET_RUN_DESTS_MAX - HB_NET_RUN_DESTS_FIRST] = {NULL};
	size_t n_recent = 0;

	for (size_t i = 0; i < n->n_dests; i++)
		if (i < HB_NET_RUN_DESTS_FIRST)
			report_dest(&n->dests[i], w);
		else
			recent[n_recent++] = &n->dests[i];
	if (n->others)
		report_others(n, w);
	qsort(recent, n_recent, sizeof(recent[0]), by_last);
	for (size_t i = 0; i < n_recent; i++)
		report_dest(recent[i], w);
}

/* The last close of a NETLINK_NETFILTER socket waits until the kernel has
 * freed what the run's batches deleted: an RCU grace period, 10-15 ms
 * here, after the table is already gone from the ruleset.  A short-lived
 * child that holds nothing else (no stdout a cron job waits on) makes that
 * last close, so that hivebox need not wait for it. */
static void close_detached(int nft_fd, int nflog_fd)
{
	int fds[2] = {nft_fd < nflog_fd ? nft_fd : nflog_fd,
		      nft_fd < nflog_fd ? nflog_fd : nft_fd};
	pid_t pid = fds[0] >= 0 ? fork() : -1;

	if (pid == 0) {
		close_range(0, (unsigned)fds[0] - 1, 0);
		close_range((unsigned)fds[0] + 1, (unsigned)fds[1] - 1, 0);
		close_range((unsigned)fds[1] + 1, ~0U, 0);
		close(fds[0]);
		close(fds[1]);
		_exit(0);
	}
	/* Without a child (fork failed) the closes below are the last. */
	close(fds[0]);
	close(fds[1]);
}

void hb_net_run_teardown(struct hb_net_run *n)
{
	bool clean = true;
	int nft_fd = -1;

	if (n->have_table && delete_table(n) < 0)
		clean = false;
	n->have_table = false;
	/* The pair goes with the sandbox's network namespace, which the
	 * kernel frees on its own once the last process in it is gone (the
	 * supervisor has reaped the init by now): deleting the host end here
	 * would wait for that same work synchronously, two RCU grace periods
	 * or 10-20 ms.  The next runs pass over the index until it is gone
	 * (link_gone), and a crashed run's is deleted by hb_net_pool_stale(). */
	/* What could not be removed keeps the slot: the next start's stale
	 * cleanup tries again once this process is gone. */
	if (n->have_slot && clean)
		n->forwarding_restored =
			hb_net_pool_release(n->np->config->state_dir,
					    n->slot.index) > 0;
	n->have_slot = false;
	if (n->nft) {
		nft_fd = fcntl(mnl_socket_get_fd(n->nft), F_DUPFD_CLOEXEC, 3);
		mnl_socket_close(n->nft);
		n->nft = NULL;
	}
	if (nft_fd >= 0 && n->nflog_fd >= 0)
		close_detached(nft_fd, TAKE_FD(n->nflog_fd));
	else if (nft_fd >= 0)
		close(nft_fd);
	hb_closep(&n->nflog_fd);
}

json_object *hb_net_run_json(const struct hb_net_run *n)
{
	json_object *j = json_object_new_object();
	char a[INET_ADDRSTRLEN];

	json_object_object_add(j, "mode", json_object_new_string("filtered"));
	if (!n->had_slot)
		return j;
	json_object_object_add(
		j, "sandbox_address",
		json_object_new_string(
			inet_ntop(AF_INET, &n->slot.sandbox_ip, a, sizeof(a))));
	json_object_object_add(
		j, "host_address",
		json_object_new_string(
			inet_ntop(AF_INET, &n->slot.host_ip, a, sizeof(a))));
	json_object_object_add(j, "host_interface",
			       json_object_new_string(n->slot.host_ifname));
	json_object_object_add(j, "nft_table",
			       json_object_new_string(n->table));
	json_object_object_add(
		j, "ip_forward",
		json_object_new_string(n->forwarding == 1   ? "switched on"
				       : n->forwarding == 0 ? "already on"
							    : "unchanged"));
	json_object_object_add(j, "ip_forward_restored",
			       json_object_new_boolean(n->forwarding_restored));
	json_object_object_add(j, "stale_runs_cleaned",
			       n->stale_cleaned >= 0
				       ? json_object_new_int(n->stale_cleaned)
				       : NULL);
	json_object_object_add(j, "blocked_packets",
			       json_object_new_uint64(n->blocked));
	return j;
}

/* SPDX-License-Identifier: MIT */
/* net_run.c: which refused destinations a run keeps by name, fed NFLOG
 * messages through a socket pair in place of the kernel's. */
#include "net_run.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FIRST HB_NET_RUN_DESTS_FIRST
#define RECENT (HB_NET_RUN_DESTS_MAX - HB_NET_RUN_DESTS_FIRST)
#define TARGET "198.51.100.1"

static int peer = -1;
static uint32_t seq;

static void start(struct hb_net_run *n)
{
	int sv[2];

	memset(n, 0, sizeof(*n));
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	n->nflog_fd = sv[0];
	peer = sv[1];
	seq = 0;
}

static void stop(struct hb_net_run *n)
{
	close(n->nflog_fd);
	close(peer);
}

/* One logged TCP packet to dst:dport, numbered seq, read by the run. */
static void packet(struct hb_net_run *n, const char *dst, uint16_t dport)
{
	char buf[256] __attribute__((aligned(8))) = {0};
	uint8_t ip[40] = {0x45, [9] = IPPROTO_TCP};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	inet_pton(AF_INET, "10.251.0.2", ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	ip[22] = (uint8_t)(dport >> 8);
	ip[23] = (uint8_t)dport;
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	mnl_attr_put_u32(nlh, NFULA_SEQ, htonl(seq++));
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip), ip);
	cr_assert_eq(send(peer, buf, nlh->nlmsg_len, 0),
		     (ssize_t)nlh->nlmsg_len);
	while (hb_net_run_read(n))
		;
}

static const struct hb_net_run_dest *find(const struct hb_net_run *n,
					  const char *dst, uint16_t dport)
{
	uint32_t a;

	inet_pton(AF_INET, dst, &a);
	for (size_t i = 0; i < n->n_dests; i++)
		if (memcmp(n->dests[i].p.dst, &a, 4) == 0 &&
		    n->dests[i].p.dport == dport)
			return &n->dests[i];
	return NULL;
}

static unsigned long long counted(const struct hb_net_run *n)
{
	unsigned long long sum = n->others;

	for (size_t i = 0; i < n->n_dests; i++)
		sum += n->dests[i].count;
	return sum;
}

/* The first destinations stay named whatever follows; of the rest, the
 * most recently tried: a destination tried again stays, however many
 * junk destinations come between. */
Test(net_run, keeps_the_first_and_the_most_recent)
{
	struct hb_net_run n;
	const struct hb_net_run_dest *t;

	start(&n);
	for (uint16_t p = 0; p < FIRST; p++)
		packet(&n, "203.0.113.5", 1000 + p);
	for (int round = 0; round < 3; round++) {
		packet(&n, TARGET, 443);
		for (uint16_t p = 0; p < RECENT - 1; p++)
			packet(&n, "203.0.113.6", 2000 + round * 1000 + p);
	}
	cr_assert_eq(n.n_dests, HB_NET_RUN_DESTS_MAX);
	for (uint16_t p = 0; p < FIRST; p++)
		cr_assert_not_null(find(&n, "203.0.113.5", 1000 + p), "%u", p);
	t = find(&n, TARGET, 443);
	cr_assert_not_null(t, "tried again: still named");
	cr_assert_eq(t->count, 3);
	/* The last round's junk, all of it; the earlier rounds' gave way,
	 * and their packets are counted together. */
	for (uint16_t p = 0; p < RECENT - 1; p++)
		cr_assert_not_null(find(&n, "203.0.113.6", 4000 + p), "%u", p);
	cr_assert_null(find(&n, "203.0.113.6", 3000));
	cr_assert_eq(n.others, 2 * (RECENT - 1));
	cr_assert_eq(n.blocked, seq);
	cr_assert_eq(counted(&n), n.blocked);
	/* One more destination pushes out the least recently tried: the
	 * target, now. */
	packet(&n, "203.0.113.7", 7);
	cr_assert_null(find(&n, TARGET, 443));
	cr_assert_not_null(find(&n, "203.0.113.7", 7));
	cr_assert_eq(n.others, 2 * (RECENT - 1) + 3);
	cr_assert_eq(counted(&n), n.blocked);
	stop(&n);
}

/* Messages the kernel could not queue show as a gap in their numbers:
 * blocked packets all the same, counted with the others. */
Test(net_run, lost_messages_are_counted)
{
	struct hb_net_run n;

	start(&n);
	packet(&n, TARGET, 443);
	seq += 5;
	packet(&n, TARGET, 443);
	cr_assert_eq(n.n_dests, 1);
	cr_assert_eq(n.dests[0].count, 2);
	cr_assert_eq(n.others, 5);
	cr_assert_eq(n.blocked, 7);
	cr_assert_leq(n.dests[0].first_ms, n.dests[0].last_ms);
	stop(&n);
}

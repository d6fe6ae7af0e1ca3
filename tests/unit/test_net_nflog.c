/* SPDX-License-Identifier: MIT */
/* NFLOG messages built and parsed in memory, and a real bind in a network
 * namespace of the test's own. */
#include "net_nflog.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* An NFULNL_MSG_PACKET whose payload is pkt. */
static size_t packet_msg(char *buf, size_t len, const void *pkt, size_t n)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	memset(buf, 0, len);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	mnl_attr_put_u32(nlh, NFULA_MARK, 0);
	mnl_attr_put(nlh, NFULA_PAYLOAD, n, pkt);
	return nlh->nlmsg_len;
}

static size_t ipv4_tcp(uint8_t *p, const char *dst, uint16_t dport)
{
	memset(p, 0, 40);
	p[0] = 0x45; /* version 4, 20-byte header */
	p[9] = IPPROTO_TCP;
	inet_pton(AF_INET, "10.251.0.2", p + 12);
	inet_pton(AF_INET, dst, p + 16);
	p[20] = 0x30; /* source port 12345 */
	p[21] = 0x39;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	return 40;
}

Test(nflog, bind_message)
{
	char buf[256];
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct nfgenmsg *nfg;
	const struct nlattr *a;
	int n = hb_net_nflog_build_bind(buf, sizeof(buf), 7, 128, 42);
	int cmd = -1, mode = -1, flags = -1;
	uint32_t range = 0, qthresh = 0;

	cr_assert_gt(n, 0);
	cr_assert_eq(nlh->nlmsg_len, (unsigned)n);
	cr_assert_eq(nlh->nlmsg_type,
		     (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG);
	cr_assert_eq(nlh->nlmsg_seq, 42);
	cr_assert(nlh->nlmsg_flags & NLM_F_ACK);
	nfg = mnl_nlmsg_get_payload(nlh);
	cr_assert_eq(ntohs(nfg->res_id), 7);
	mnl_attr_for_each(a, nlh, sizeof(*nfg))
	{
		if (mnl_attr_get_type(a) == NFULA_CFG_CMD)
			cmd = ((const struct nfulnl_msg_config_cmd *)
				       mnl_attr_get_payload(a))
				      ->command;
		if (mnl_attr_get_type(a) == NFULA_CFG_MODE) {
			const struct nfulnl_msg_config_mode *m =
				mnl_attr_get_payload(a);
			mode = m->copy_mode;
			range = ntohl(m->copy_range);
		}
		if (mnl_attr_get_type(a) == NFULA_CFG_QTHRESH)
			qthresh = ntohl(mnl_attr_get_u32(a));
		if (mnl_attr_get_type(a) == NFULA_CFG_FLAGS)
			flags = ntohs(mnl_attr_get_u16(a));
	}
	/* Numbered, so that lost messages show as a gap. */
	cr_assert_eq(flags, NFULNL_CFG_F_SEQ);
	/* Sent one by one, not held for a second. */
	cr_assert_eq(qthresh, 1);
	cr_assert_eq(cmd, NFULNL_CFG_CMD_BIND);
	cr_assert_eq(mode, NFULNL_COPY_PACKET);
	cr_assert_eq(range, 128);
	cr_assert_eq(hb_net_nflog_build_bind(buf, 8, 7, 128, 1), -ENOBUFS);
}

Test(nflog, parse_ipv4_tcp)
{
	char buf[512], text[96];
	uint8_t pkt[40];
	struct hb_net_nflog_packet p;
	size_t n = packet_msg(buf, sizeof(buf), pkt,
			      ipv4_tcp(pkt, "203.0.113.7", 22));

	cr_assert_eq(hb_net_nflog_parse(buf, n, &p), 0);
	cr_assert_eq(p.family, AF_INET);
	cr_assert_eq(p.proto, IPPROTO_TCP);
	cr_assert_eq(p.dport, 22);
	hb_net_nflog_describe(&p, text, sizeof(text));
	cr_assert_str_eq(text, "tcp 203.0.113.7:22");
}

Test(nflog, parse_sequence_number)
{
	char buf[512];
	uint8_t pkt[40];
	struct hb_net_nflog_packet p;
	struct nlmsghdr *nlh = (void *)buf;
	size_t n = packet_msg(buf, sizeof(buf), pkt,
			      ipv4_tcp(pkt, "203.0.113.7", 22));

	cr_assert_eq(hb_net_nflog_parse(buf, n, &p), 0);
	cr_assert_eq(p.seq, 0, "no NFULA_SEQ: 0");
	mnl_attr_put_u32(nlh, NFULA_SEQ, htonl(41));
	cr_assert_eq(hb_net_nflog_parse(buf, nlh->nlmsg_len, &p), 0);
	cr_assert_eq(p.seq, 41);
}

Test(nflog, parse_ipv6_udp)
{
	char buf[512], text[96];
	uint8_t pkt[48] = {0};
	struct hb_net_nflog_packet p;
	size_t n;

	pkt[0] = 0x60;
	pkt[6] = IPPROTO_UDP;
	inet_pton(AF_INET6, "fd00::2", pkt + 8);
	inet_pton(AF_INET6, "2001:db8::1", pkt + 24);
	pkt[42] = 0; /* destination port 53 */
	pkt[43] = 53;
	n = packet_msg(buf, sizeof(buf), pkt, sizeof(pkt));
	cr_assert_eq(hb_net_nflog_parse(buf, n, &p), 0);
	cr_assert_eq(p.family, AF_INET6);
	hb_net_nflog_describe(&p, text, sizeof(text));
	cr_assert_str_eq(text, "udp [2001:db8::1]:53");
}

Test(nflog, parse_refuses_what_is_not_a_packet)
{
	char buf[512];
	uint8_t pkt[40];
	struct hb_net_nflog_packet p;
	size_t n = packet_msg(buf, sizeof(buf), pkt,
			      ipv4_tcp(pkt, "192.0.2.1", 80));

	/* A truncated message, a config message, a payload that is not IP,
	 * an IPv4 header length beyond the payload. */
	cr_assert_eq(hb_net_nflog_parse(buf, n - 1, &p), -EINVAL);
	((struct nlmsghdr *)buf)->nlmsg_type =
		(NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	cr_assert_eq(hb_net_nflog_parse(buf, n, &p), -EINVAL);
	pkt[0] = 0x15;
	n = packet_msg(buf, sizeof(buf), pkt, sizeof(pkt));
	cr_assert_eq(hb_net_nflog_parse(buf, n, &p), -EINVAL);
	pkt[0] = 0x4f; /* 60-byte header in a 40-byte packet */
	n = packet_msg(buf, sizeof(buf), pkt, sizeof(pkt));
	cr_assert_eq(hb_net_nflog_parse(buf, n, &p), -EINVAL);
}

/* The kernel accepts the bind: in a network namespace of our own, so
 * nothing on the host changes. */
Test(nflog, bind_in_a_new_namespace)
{
	pid_t pid;
	int status;

	if (geteuid() != 0)
		cr_skip_test("needs root for a network namespace of its own");
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd;
		if (unshare(CLONE_NEWNET) < 0)
			_exit(2);
		fd = hb_net_nflog_open(9);
		_exit(fd >= 0 ? 0 : 3);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child status 0x%x", status);
}

/* SPDX-License-Identifier: MIT */
#include "net_nflog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct nlmsghdr *config_header(void *buf, uint16_t group, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	return nlh;
}

static int config(void *buf, size_t len, uint16_t group, uint8_t cmd,
		  const struct nfulnl_msg_config_mode *mode, uint32_t seq)
{
	struct nfulnl_msg_config_cmd c = {.command = cmd};
	struct nlmsghdr *nlh;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)))
		return -ENOBUFS;
	memset(buf, 0, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)));
	nlh = config_header(buf, group, seq);
	if (!mnl_attr_put_check(nlh, len, NFULA_CFG_CMD, sizeof(c), &c))
		return -ENOBUFS;
	if (!mnl_attr_put_check(nlh, len, NFULA_CFG_MODE, sizeof(*mode), mode))
		return -ENOBUFS;
	/* Each packet on its own, at once: by default the kernel holds up
	 * to 100 for up to a second, and the last ones of a run would come
	 * after its end. */
	if (!mnl_attr_put_u32_check(nlh, len, NFULA_CFG_QTHRESH, htonl(1)) ||
	    !mnl_attr_put_u16_check(nlh, len, NFULA_CFG_FLAGS,
				    htons(NFULNL_CFG_F_SEQ)))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

int hb_net_nflog_build_bind(void *buf, size_t len, uint16_t group,
			    uint32_t copy_len, uint32_t seq)
{
	struct nfulnl_msg_config_mode mode = {.copy_range = htonl(copy_len),
					      .copy_mode = NFULNL_COPY_PACKET};

	return config(buf, len, group, NFULNL_CFG_CMD_BIND, &mode, seq);
}

static uint16_t ports_of(const uint8_t *l4, size_t len, uint8_t proto)
{
	uint16_t port;

	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) || len < 4)
		return 0;
	memcpy(&port, l4 + 2, sizeof(port));
	return ntohs(port);
}

static int parse_ip(const uint8_t *pkt, size_t len,
		    struct hb_net_nflog_packet *p)
{
	if (len >= sizeof(struct iphdr) && (pkt[0] >> 4) == 4) {
		const struct iphdr *ip = (const void *)pkt;
		size_t hl = (size_t)ip->ihl * 4;
		if (hl < sizeof(*ip) || hl > len)
			return -EINVAL;
		p->family = AF_INET;
		p->proto = ip->protocol;
		memcpy(p->src, &ip->saddr, 4);
		memcpy(p->dst, &ip->daddr, 4);
		p->dport = ports_of(pkt + hl, len - hl, ip->protocol);
		return 0;
	}
	if (len >= sizeof(struct ip6_hdr) && (pkt[0] >> 4) == 6) {
		const struct ip6_hdr *ip6 = (const void *)pkt;
		/* Extension headers are not followed: the next header
		 * names the protocol when there are none, as is usual. */
		p->family = AF_INET6;
		p->proto = ip6->ip6_nxt;
		memcpy(p->src, &ip6->ip6_src, 16);
		memcpy(p->dst, &ip6->ip6_dst, 16);
		p->dport = ports_of(pkt + sizeof(*ip6), len - sizeof(*ip6),
				    ip6->ip6_nxt);
		return 0;
	}
	return -EINVAL;
}

static int find_attrs(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type == NFULA_PAYLOAD || type == NFULA_SEQ)
		tb[type] = a;
	return MNL_CB_OK;
}

int hb_net_nflog_parse(const void *msg, size_t len,
		       struct hb_net_nflog_packet *ret)
{
	const struct nlmsghdr *nlh = msg;
	const struct nlattr *tb[NFULA_MAX + 1] = {NULL};
	int r;

	memset(ret, 0, sizeof(*ret));
	if (len < sizeof(*nlh) || nlh->nlmsg_len > len ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct nfgenmsg) ||
	    nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
		return -EINVAL;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), find_attrs, tb) < 0 ||
	    !tb[NFULA_PAYLOAD])
		return -EINVAL;
	r = parse_ip(mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
		     mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), ret);
	if (r == 0 && tb[NFULA_SEQ] &&
	    mnl_attr_get_payload_len(tb[NFULA_SEQ]) == sizeof(uint32_t))
		ret->seq = ntohl(mnl_attr_get_u32(tb[NFULA_SEQ]));
	return r;
}

const char *hb_net_nflog_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return NULL;
	}
}

void hb_net_nflog_describe(const struct hb_net_nflog_packet *p, char *out,
			   size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	const char *name = hb_net_nflog_proto_name(p->proto);

	inet_ntop(p->family, p->dst, addr, sizeof(addr));
	if (!name)
		snprintf(out, len, "proto %u %s", p->proto, addr);
	else if (p->dport && p->family == AF_INET6)
		snprintf(out, len, "%s [%s]:%u", name, addr, p->dport);
	else if (p->dport)
		snprintf(out, len, "%s %s:%u", name, addr, p->dport);
	else
		snprintf(out, len, "%s %s", name, addr);
}

int hb_net_nflog_open(uint16_t group)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl =
		mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	ssize_t got;
	int fd = -1, n, r = 0;

	if (!nl)
		return -errno;
	n = hb_net_nflog_build_bind(buf, sizeof(buf), group, 128, 1);
	if (n < 0)
		r = n;
	else if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
		 mnl_socket_sendto(nl, buf, (size_t)n) < 0)
		r = -errno;
	/* The kernel's answer to the bind: an ack, or why not. */
	if (r == 0 && (got = mnl_socket_recvfrom(nl, buf, sizeof(buf))) < 0)
		r = -errno;
	if (r == 0 && mnl_cb_run(buf, (size_t)got, 1, mnl_socket_get_portid(nl),
				 NULL, NULL) < 0)
		r = -errno;
	/* The descriptor outlives the libmnl handle, non-blocking for the
	 * supervisor's poll loop. */
	/* Room for a burst: a message the kernel cannot queue is lost (the
	 * packet was dropped all the same), and shows as a gap in seq. */
	if (r == 0)
		(void)setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET,
				 SO_RCVBUFFORCE, &(int){4 << 20}, sizeof(int));
	if (r == 0) {
		fd = fcntl(mnl_socket_get_fd(nl), F_DUPFD_CLOEXEC, 3);
		if (fd < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
			r = -errno;
	}
	mnl_socket_close(nl);
	if (r < 0 && fd >= 0)
		close(fd);
	return r < 0 ? r : fd;
}

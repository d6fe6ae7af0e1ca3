/* SPDX-License-Identifier: MIT */
/* NFLOG: the packets the host-side filter drops, read by the supervisor
 * from one nfnetlink_log group and turned into security events, one per
 * attempted destination.  Messages are built and parsed in buffers so that
 * their bytes can be unit-tested. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* What a dropped packet tried to reach. */
struct hb_net_nflog_packet {
	int family;    /* AF_INET or AF_INET6 */
	uint8_t proto; /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, ... */
	uint8_t src[16], dst[16];
	uint16_t dport; /* host order; 0 without ports */
	uint32_t seq;	/* the group's count of logged packets, from 0 */
};

/* NFULNL_MSG_CONFIG binding group with packet copies of copy_len bytes,
 * each message sent at once and numbered (NFULA_SEQ), so that messages the
 * kernel could not queue show as a gap. */
int hb_net_nflog_build_bind(void *buf, size_t len, uint16_t group,
			    uint32_t copy_len, uint32_t seq);

/* One NFULNL_MSG_PACKET (a whole nlmsghdr) into ret; -EINVAL if it is not
 * one or its payload is not an IP packet. */
int hb_net_nflog_parse(const void *msg, size_t len,
		       struct hb_net_nflog_packet *ret);

/* "tcp", "udp", "icmp", "icmpv6"; NULL for another protocol. */
const char *hb_net_nflog_proto_name(uint8_t proto);

/* "tcp 10.0.0.1:443" and the like. */
void hb_net_nflog_describe(const struct hb_net_nflog_packet *p, char *out,
			   size_t len);

/* A NETLINK_NETFILTER socket bound to group; -errno on error. */
int hb_net_nflog_open(uint16_t group);

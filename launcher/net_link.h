/* SPDX-License-Identifier: MIT */
/* rtnetlink over libmnl.  Messages are built in a caller's buffer before
 * any socket exists, so that their bytes can be unit-tested. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* RTM_NEWLINK that sets IFF_UP on interface ifindex; returns the message
 * length, or -ENOBUFS if buf is too small. */
int hb_net_link_build_link_up(void *buf, size_t len, uint32_t ifindex,
			      uint32_t seq);
/* Bring the loopback interface of the current network namespace up and
 * wait for the kernel's acknowledgement. */
int hb_net_link_loopback_up(void);

/* The veth pair of a filtered network.  Each builder writes one request
 * (with NLM_F_ACK) into buf and returns its length, -ENOBUFS if buf is too
 * small or -EINVAL for an impossible argument; hb_net_link_request() sends
 * it.  Addresses are IPv4 in network byte order. */

/* RTM_NEWLINK creating host_name in the current namespace and its peer
 * peer_name directly in the network namespace peer_netns_fd refers to. */
int hb_net_link_build_veth(void *buf, size_t len, uint32_t seq,
			   const char *host_name, const char *peer_name,
			   int peer_netns_fd);
/* RTM_NEWADDR: ipv4/prefixlen on interface ifindex. */
int hb_net_link_build_addr(void *buf, size_t len, uint32_t seq,
			   uint32_t ifindex, uint32_t ipv4, uint8_t prefixlen);
/* RTM_NEWROUTE: default route of the main table through gateway, out of
 * interface ifindex. */
int hb_net_link_build_default_route(void *buf, size_t len, uint32_t seq,
				    uint32_t ifindex, uint32_t gateway);
/* RTM_NEWLINK setting IPv6 address generation of ifindex to none: no
 * link-local address of its own once it is up. */
int hb_net_link_build_addrgenmode_none(void *buf, size_t len, uint32_t seq,
				       uint32_t ifindex);
/* RTM_NEWADDR: IPv6 addr/prefixlen on ifindex, without duplicate address
 * detection. */
int hb_net_link_build_addr6(void *buf, size_t len, uint32_t seq,
			    uint32_t ifindex, const uint8_t addr[16],
			    uint8_t prefixlen);
/* RTM_NEWROUTE: IPv6 default route through gateway out of ifindex. */
int hb_net_link_build_default_route6(void *buf, size_t len, uint32_t seq,
				     uint32_t ifindex,
				     const uint8_t gateway[16]);
/* RTM_DELLINK of the interface called name (for a veth, both ends go). */
int hb_net_link_build_del_link(void *buf, size_t len, uint32_t seq,
			       const char *name);

/* The index of interface name in the current namespace, or -ENODEV. */
int hb_net_link_ifindex(const char *name);
/* Send the len-byte message in buf on a new NETLINK_ROUTE socket of the
 * current network namespace and wait for its acknowledgement: 0, or the
 * kernel's -errno. */
int hb_net_link_request(const void *buf, size_t len);

/* fe80::1, the host end's IPv6 address (the sandbox end's is fe80::2). */
extern const uint8_t hb_net_link_ll_host[16];

/* Host side of a filtered network, run in the host's namespace: create the
 * pair with peer_name already in the network namespace of sandbox_pid,
 * give host_name host_ip/prefixlen and bring it up.  On failure nothing is
 * left behind. */
int hb_net_link_veth_setup(const char *host_name, const char *peer_name,
			   pid_t sandbox_pid, uint32_t host_ip,
			   uint8_t prefixlen);
/* Sandbox side, run inside the sandbox's network namespace: give
 * peer_name sandbox_ip/prefixlen, bring it up and route everything through
 * gateway (the host end's address).  Both ends also get a fixed IPv6
 * link-local address (fe80::1 on the host end, fe80::2 here) and IPv6 is
 * routed through the host end as well, where the filter drops it. */
int hb_net_link_sandbox_setup(const char *peer_name, uint32_t sandbox_ip,
			      uint8_t prefixlen, uint32_t gateway);
/* Remove interface name, and with it its veth peer.  -ENODEV if there is
 * no such interface: at teardown that is normal, since the kernel removes
 * both ends by itself (a little later) once the sandbox's network
 * namespace is gone. */
int hb_net_link_del_link(const char *name);

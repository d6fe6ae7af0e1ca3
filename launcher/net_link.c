/* SPDX-License-Identifier: MIT */
#include "net_link.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h> /* before linux/if.h, which then leaves out its copies */
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOOPBACK_IFINDEX 1 /* "lo" is always the first in a new namespace */
/* Room for any one request built here; the largest, a veth, is ~110 bytes. */
#define REQUEST_MAX 512

/* Start a request of the given type whose fixed header (ifinfomsg,
 * ifaddrmsg, rtmsg) of hdrlen bytes is zeroed; NULL if buf is too small. */
static struct nlmsghdr *put_request(void *buf, size_t len, uint16_t type,
				    uint16_t flags, uint32_t seq, size_t hdrlen)
{
	struct nlmsghdr *nlh;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen))
		return NULL;
	/* libmnl before 1.0.5 leaves the padding after an attribute as it
	 * found it; zeroed, the bytes sent are always the same. */
	memset(buf, 0, len);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = seq;
	mnl_nlmsg_put_extra_header(nlh, hdrlen);
	return nlh;
}

/* Append size zeroed bytes that are not an attribute: the ifinfomsg that
 * opens VETH_INFO_PEER. */
static bool put_zeroed(struct nlmsghdr *nlh, size_t len, size_t size)
{
	if (nlh->nlmsg_len + MNL_ALIGN(size) > len)
		return false;
	memset(mnl_nlmsg_get_payload_tail(nlh), 0, MNL_ALIGN(size));
	nlh->nlmsg_len += MNL_ALIGN(size);
	return true;
}

/* The kernel takes at most IFNAMSIZ - 1 characters and would cut or
 * refuse a longer name; we refuse it before anything is sent. */
static bool valid_ifname(const char *name)
{
	return name && *name && strnlen(name, IFNAMSIZ) < IFNAMSIZ;
}

static bool valid_ifindex(uint32_t ifindex)
{
	return ifindex > 0 && ifindex <= INT_MAX;
}

int hb_net_link_build_link_up(void *buf, size_t len, uint32_t ifindex,
			      uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (!valid_ifindex(ifindex))
		return -EINVAL;
	nlh = put_request(buf, len, RTM_NEWLINK, 0, seq, sizeof(*ifm));
	if (!nlh)
		return -ENOBUFS;
	ifm = mnl_nlmsg_get_payload(nlh);
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)ifindex;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	return (int)nlh->nlmsg_len;
}

int hb_net_link_build_veth(void *buf, size_t len, uint32_t seq,
			   const char *host_name, const char *peer_name,
			   int peer_netns_fd)
{
	struct nlattr *info, *data, *peer;
	struct nlmsghdr *nlh;

	if (!valid_ifname(host_name) || !valid_ifname(peer_name) ||
	    peer_netns_fd < 0)
		return -EINVAL;
	nlh = put_request(buf, len, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, seq,
			  sizeof(struct ifinfomsg));
	if (!nlh || !mnl_attr_put_strz_check(nlh, len, IFLA_IFNAME, host_name))
		return -ENOBUFS;
	info = mnl_attr_nest_start_check(nlh, len, IFLA_LINKINFO);
	if (!info || !mnl_attr_put_strz_check(nlh, len, IFLA_INFO_KIND, "veth"))
		return -ENOBUFS;
	data = mnl_attr_nest_start_check(nlh, len, IFLA_INFO_DATA);
	peer = data ? mnl_attr_nest_start_check(nlh, len, VETH_INFO_PEER)
		    : NULL;
	/* The peer is described like a link of its own: an ifinfomsg, then
	 * its attributes, among them the namespace it is born in. */
	if (!peer || !put_zeroed(nlh, len, sizeof(struct ifinfomsg)) ||
	    !mnl_attr_put_strz_check(nlh, len, IFLA_IFNAME, peer_name) ||
	    !mnl_attr_put_u32_check(nlh, len, IFLA_NET_NS_FD,
				    (uint32_t)peer_netns_fd))
		return -ENOBUFS;
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return (int)nlh->nlmsg_len;
}

/* RTM_NEWADDR of either family: alen address bytes at addr. */
static int build_addr(void *buf, size_t len, uint32_t seq, uint32_t ifindex,
		      uint8_t family, const void *addr, uint16_t alen,
		      uint8_t prefixlen, uint8_t scope, uint32_t flags)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (!valid_ifindex(ifindex) || prefixlen > alen * 8)
		return -EINVAL;
	nlh = put_request(buf, len, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, seq,
			  sizeof(*ifa));
	if (!nlh)
		return -ENOBUFS;
	ifa = mnl_nlmsg_get_payload(nlh);
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_scope = scope;
	ifa->ifa_flags = (uint8_t)flags;
	ifa->ifa_index = ifindex;
	/* Not a point-to-point link: IFA_ADDRESS is the local address too,
	 * and the kernel adds the /prefixlen route from it. */
	if (!mnl_attr_put_check(nlh, len, IFA_LOCAL, alen, addr) ||
	    !mnl_attr_put_check(nlh, len, IFA_ADDRESS, alen, addr) ||
	    (flags && !mnl_attr_put_u32_check(nlh, len, IFA_FLAGS, flags)))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

int hb_net_link_build_addr(void *buf, size_t len, uint32_t seq,
			   uint32_t ifindex, uint32_t ipv4, uint8_t prefixlen)
{
	return build_addr(buf, len, seq, ifindex, AF_INET, &ipv4, 4, prefixlen,
			  RT_SCOPE_UNIVERSE, 0);
}

int hb_net_link_build_addrgenmode_none(void *buf, size_t len, uint32_t seq,
				       uint32_t ifindex)
{
	struct nlattr *spec, *inet6;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (!valid_ifindex(ifindex))
		return -EINVAL;
	nlh = put_request(buf, len, RTM_NEWLINK, 0, seq, sizeof(*ifm));
	if (!nlh)
		return -ENOBUFS;
	ifm = mnl_nlmsg_get_payload(nlh);
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)ifindex;
	spec = mnl_attr_nest_start_check(nlh, len, IFLA_AF_SPEC);
	inet6 = spec ? mnl_attr_nest_start_check(nlh, len, AF_INET6) : NULL;
	if (!inet6 || !mnl_attr_put_u8_check(nlh, len, IFLA_INET6_ADDR_GEN_MODE,
					     IN6_ADDR_GEN_MODE_NONE))
		return -ENOBUFS;
	mnl_attr_nest_end(nlh, inet6);
	mnl_attr_nest_end(nlh, spec);
	return (int)nlh->nlmsg_len;
}

int hb_net_link_build_addr6(void *buf, size_t len, uint32_t seq,
			    uint32_t ifindex, const uint8_t addr[16],
			    uint8_t prefixlen)
{
	bool link_local = addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80;

	/* No duplicate detection: each end is alone on its link, and DAD
	 * would hold the address back for a second. */
	return build_addr(buf, len, seq, ifindex, AF_INET6, addr, 16, prefixlen,
			  link_local ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE,
			  IFA_F_NODAD);
}

/* RTM_NEWROUTE: the default route of family (dst_len 0: everything)
 * through the alen-byte gateway, out of ifindex. */
static int build_default_route(void *buf, size_t len, uint32_t seq,
			       uint32_t ifindex, uint8_t family,
			       const void *gateway, uint16_t alen)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (!valid_ifindex(ifindex))
		return -EINVAL;
	nlh = put_request(buf, len, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL,
			  seq, sizeof(*rtm));
	if (!nlh)
		return -ENOBUFS;
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_family = family;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	if (!mnl_attr_put_check(nlh, len, RTA_GATEWAY, alen, gateway) ||
	    !mnl_attr_put_u32_check(nlh, len, RTA_OIF, ifindex))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

int hb_net_link_build_default_route6(void *buf, size_t len, uint32_t seq,
				     uint32_t ifindex,
				     const uint8_t gateway[16])
{
	return build_default_route(buf, len, seq, ifindex, AF_INET6, gateway,
				   16);
}

int hb_net_link_build_default_route(void *buf, size_t len, uint32_t seq,
				    uint32_t ifindex, uint32_t gateway)
{
	return build_default_route(buf, len, seq, ifindex, AF_INET, &gateway,
				   4);
}

int hb_net_link_build_del_link(void *buf, size_t len, uint32_t seq,
			       const char *name)
{
	struct nlmsghdr *nlh;

	if (!valid_ifname(name))
		return -EINVAL;
	/* ifi_index 0: the kernel finds the link by IFLA_IFNAME. */
	nlh = put_request(buf, len, RTM_DELLINK, 0, seq,
			  sizeof(struct ifinfomsg));
	if (!nlh || !mnl_attr_put_strz_check(nlh, len, IFLA_IFNAME, name))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

int hb_net_link_ifindex(const char *name)
{
	unsigned ifindex;

	if (!valid_ifname(name))
		return -EINVAL;
	errno = 0;
	ifindex = if_nametoindex(name);
	if (ifindex == 0)
		return errno ? -errno : -ENODEV;
	return ifindex <= INT_MAX ? (int)ifindex : -ERANGE;
}

/* Read until the acknowledgement of seq arrives: 0, or its -errno. */
static int read_ack(struct mnl_socket *nl, uint32_t seq, uint32_t portid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		/* MNL_CB_STOP (0) is the ack with error 0; MNL_CB_OK (1)
		 * something else, after which the ack is still to come. */
		r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
		if (r < 0)
			return -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

int hb_net_link_request(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	struct mnl_socket *nl;
	int on = 1, r;

	if (len < MNL_NLMSG_HDRLEN || len > INT_MAX ||
	    !mnl_nlmsg_ok(nlh, (int)len) || nlh->nlmsg_len != len ||
	    !(nlh->nlmsg_flags & NLM_F_ACK))
		return -EINVAL;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	/* An error's ack then carries our header only, not the request. */
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &on, sizeof(on));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, buf, len) < 0)
		r = -errno;
	else
		r = read_ack(nl, nlh->nlmsg_seq, mnl_socket_get_portid(nl));
	mnl_socket_close(nl);
	return r;
}

static int send_built(const void *buf, int len)
{
	return len < 0 ? len : hb_net_link_request(buf, (size_t)len);
}

int hb_net_link_loopback_up(void)
{
	char buf[REQUEST_MAX];

	return send_built(buf, hb_net_link_build_link_up(buf, sizeof(buf),
							 LOOPBACK_IFINDEX, 1));
}

/* Link-local addresses of the two ends: each is alone on its link. */
const uint8_t hb_net_link_ll_host[16] = {0xfe, 0x80, [15] = 1};
static const uint8_t ll_sandbox[16] = {0xfe, 0x80, [15] = 2};

/* Address interface name and bring it up; returns its ifindex.  IPv6
 * gets one fixed link-local address and no generated one: the kernel then
 * sends nothing of its own accord but router solicitations and listener
 * reports, which the host side drops without logging them. */
static int addr_up(const char *name, uint32_t ipv4, uint8_t prefixlen,
		   const uint8_t ll[16])
{
	char buf[REQUEST_MAX];
	int ifindex, r;

	ifindex = hb_net_link_ifindex(name);
	if (ifindex < 0)
		return ifindex;
	r = send_built(buf, hb_net_link_build_addrgenmode_none(
				    buf, sizeof(buf), 1, (uint32_t)ifindex));
	if (r == 0)
		r = send_built(buf, hb_net_link_build_addr(buf, sizeof(buf), 2,
							   (uint32_t)ifindex,
							   ipv4, prefixlen));
	if (r == 0)
		r = send_built(buf, hb_net_link_build_addr6(buf, sizeof(buf), 3,
							    (uint32_t)ifindex,
							    ll, 64));
	if (r == 0)
		r = send_built(buf,
			       hb_net_link_build_link_up(buf, sizeof(buf),
							 (uint32_t)ifindex, 4));
	return r < 0 ? r : ifindex;
}

int hb_net_link_veth_setup(const char *host_name, const char *peer_name,
			   pid_t sandbox_pid, uint32_t host_ip,
			   uint8_t prefixlen)
{
	_cleanup_close_ int nsfd = -1;
	char buf[REQUEST_MAX], path[64];
	int r;

	if (sandbox_pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)sandbox_pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return -errno;
	r = send_built(buf, hb_net_link_build_veth(buf, sizeof(buf), 1,
						   host_name, peer_name, nsfd));
	if (r < 0)
		return r;
	r = addr_up(host_name, host_ip, prefixlen, hb_net_link_ll_host);
	if (r < 0) {
		/* Deleting the host end takes the peer with it. */
		(void)hb_net_link_del_link(host_name);
		return r;
	}
	return 0;
}

int hb_net_link_sandbox_setup(const char *peer_name, uint32_t sandbox_ip,
			      uint8_t prefixlen, uint32_t gateway)
{
	char buf[REQUEST_MAX];
	int ifindex;

	int r;

	ifindex = addr_up(peer_name, sandbox_ip, prefixlen, ll_sandbox);
	if (ifindex < 0)
		return ifindex;
	r = send_built(buf, hb_net_link_build_default_route(buf, sizeof(buf), 5,
							    (uint32_t)ifindex,
							    gateway));
	if (r < 0)
		return r;
	/* IPv6 goes to the host end too, where it is logged and dropped:
	 * without a route it would fail inside, unseen. */
	return send_built(buf, hb_net_link_build_default_route6(
				       buf, sizeof(buf), 6, (uint32_t)ifindex,
				       hb_net_link_ll_host));
}

int hb_net_link_del_link(const char *name)
{
	char buf[REQUEST_MAX];

	return send_built(
		buf, hb_net_link_build_del_link(buf, sizeof(buf), 1, name));
}

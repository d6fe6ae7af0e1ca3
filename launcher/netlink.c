/* SPDX-License-Identifier: MIT */
#include "netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <unistd.h>

#define LOOPBACK_IFINDEX 1 /* "lo" is always the first in a new namespace */

int hb_netlink_build_link_up(void *buf, size_t len, uint32_t ifindex,
			     uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*ifm)))
		return -ENOBUFS;
	memset(buf, 0, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*ifm)));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)ifindex;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	return (int)nlh->nlmsg_len;
}

int hb_netlink_loopback_up(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	uint32_t seq = 1, portid;
	ssize_t n;
	int len, r;

	len = hb_netlink_build_link_up(buf, sizeof(buf), LOOPBACK_IFINDEX, seq);
	if (len < 0)
		return len;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, buf, (size_t)len) < 0) {
		r = -errno;
		goto out;
	}
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0) {
		r = -errno;
		goto out;
	}
	/* The acknowledgement is an NLMSG_ERROR whose error is 0. */
	r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
	r = r < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return r;
}

/* SPDX-License-Identifier: MIT */
/* rtnetlink over libmnl.  Messages are built in a caller's buffer before
 * any socket exists, so that their bytes can be unit-tested. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* RTM_NEWLINK that sets IFF_UP on interface ifindex; returns the message
 * length, or -ENOBUFS if buf is too small. */
int hb_netlink_build_link_up(void *buf, size_t len, uint32_t ifindex,
			     uint32_t seq);
/* Bring the loopback interface of the current network namespace up and
 * wait for the kernel's acknowledgement. */
int hb_netlink_loopback_up(void);

/* SPDX-License-Identifier: MIT */
/* The host-side filter of one sandbox: an nftables table of its own,
 * programmed over netlink with libnftnl on libmnl.  The batch is built in a
 * caller's buffer before any socket exists, so that its bytes can be
 * unit-tested; applying it is one send and the kernel's acknowledgements. */
#pragma once

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the filter of one sandbox lets through.  Addresses and the sandbox
 * address are in network order, ports in host order. */
struct hb_net_nft_rules {
	char table[32];	  /* "hivebox_<id>", family inet */
	char host_if[16]; /* the host end of the sandbox's veth */
	uint32_t sandbox_ip;
	const uint32_t *allowed_ips;
	size_t n_allowed_ips;
	const uint16_t *allowed_ports; /* TCP and UDP alike */
	size_t n_allowed_ports;
	const uint16_t *blocked_ports; /* win over allowed_ports */
	size_t n_blocked_ports;
	/* hivebox learn: every address and port allowed, blocked_ports
	 * still dropped; the supervisor records the destinations. */
	bool allow_any;
	uint16_t nflog_group; /* where dropped packets are logged */
	uint32_t ct_mark;     /* this run's connections; not 0 */
};

/* One nfnetlink batch (BATCH_BEGIN ... BATCH_END) that creates the table
 * r->table with its sets, chains and rules; fails if the table exists.
 * The table is owned by the socket the batch is sent on (NFT_TABLE_F_OWNER,
 * Linux 5.12): only that socket may change or delete it, and it goes when
 * the socket is closed, so a killed hivebox leaves no filter behind.
 * Messages are numbered from seq on.  -EINVAL for a bad name, -ENOBUFS if
 * buf is too small; *ret_len is the batch's length. */
int hb_net_nft_build(const struct hb_net_nft_rules *r, void *buf, size_t len,
		     uint32_t seq, size_t *ret_len);
/* A batch that deletes the table with everything in it. */
int hb_net_nft_build_delete(const char *table, void *buf, size_t len,
			    uint32_t seq, size_t *ret_len);
/* A NETLINK_NETFILTER socket of the current network namespace, which a run
 * keeps from start to end: it owns the run's table, and closing such a
 * socket waits for the kernel to finish freeing whatever any recent batch
 * deleted (an RCU grace period, 10-15 ms here).  NULL and errno on
 * failure. */
struct mnl_socket *hb_net_nft_socket(void);
/* Send a batch on nl and read every acknowledgement; the first error the
 * kernel reports, or 0.  The kernel applies the batch as a whole or not at
 * all.  -EINVAL, unsent, for a batch that is not whole messages. */
int hb_net_nft_apply_on(struct mnl_socket *nl, const void *batch, size_t len);

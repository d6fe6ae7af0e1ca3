/* SPDX-License-Identifier: MIT */
/* The host side of one filtered network, from start to teardown: a pool
 * slot, the veth pair, IPv4 forwarding, the nftables table and the NFLOG
 * socket whose packets become security events.  The supervisor calls it;
 * everything it adds is removed by hb_net_run_teardown(), or, if hivebox
 * was killed, by the next start's hb_net_run_acquire(). */
#pragma once

#include "net_nflog.h"
#include "net_pool.h"
#include "plan.h"
#include "error.h"
#include "events.h"

#include <stdbool.h>
#include <sys/types.h>

/* NFLOG group of pool index i: HB_NET_RUN_GROUP_BASE + i. */
#define HB_NET_RUN_GROUP_BASE 16384
/* Distinct destinations kept with their own event: the first FIRST of
 * the run, and the MAX - FIRST tried most recently, so that a flood of
 * junk destinations hides neither where the run started nor the last
 * ones it tried.  The packets of destinations that are neither are
 * counted together. */
#define HB_NET_RUN_DESTS_FIRST 128
#define HB_NET_RUN_DESTS_MAX 256

struct hb_net_run_dest {
	struct hb_net_nflog_packet p; /* src unused */
	unsigned long long count;
	unsigned long long first_ms, last_ms; /* CLOCK_REALTIME */
	unsigned long long last; /* blocked, after its last packet */
};

struct hb_net_run {
	const struct hb_net_plan *np;
	struct hb_net_pool_slot slot;
	bool have_slot, have_table;
	bool had_slot;	/* for the record, after teardown */
	int forwarding; /* 1: this run switched it on, 0: on already */
	bool forwarding_restored; /* and the last run switched it back off */
	int stale_cleaned;	  /* or -errno */
	uint32_t ct_mark;	  /* this run's connections */
	int nflog_fd;
	struct mnl_socket *nft; /* one NETLINK_NETFILTER socket per run */
	uint16_t group;
	char table[32];
	struct hb_net_run_dest dests[HB_NET_RUN_DESTS_MAX];
	size_t n_dests;
	unsigned long long blocked, others; /* packets; others: to a
					     * destination that gave way to a
					     * newer one, or lost by the log */
	uint32_t next_seq;		    /* of the log's messages */
};

/* Before the clone: clean what killed runs left and take a slot.  On
 * failure e names the step, in HB_STAGE_NET_HOST. */
int hb_net_run_acquire(struct hb_net_run *n, const struct hb_net_plan *np,
		       struct hb_error *e);
/* After the clone, before the sandbox goes on: the veth pair with its peer
 * in pid's network namespace, forwarding, the table, the NFLOG socket.
 * On failure e names the step, in HB_STAGE_NET_HOST. */
int hb_net_run_host(struct hb_net_run *n, pid_t pid, struct hb_error *e);
/* Read some of what NFLOG has queued: true if there may be more.  The
 * supervisor calls it when nflog_fd is readable, and at the end until it
 * says false. */
bool hb_net_run_read(struct hb_net_run *n);
/* One security event per destination kept, with its count: the first
 * ones, then one for the others' packets, then the recent ones, the last
 * tried last. */
void hb_net_run_report(const struct hb_net_run *n, struct hb_events *w);
/* Remove everything this run added; safe after any partial start. */
void hb_net_run_teardown(struct hb_net_run *n);
/* The result's "network" object, once torn down. */
json_object *hb_net_run_json(const struct hb_net_run *n);

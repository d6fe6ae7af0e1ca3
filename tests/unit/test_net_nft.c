/* SPDX-License-Identifier: MIT */
/* nft.c: the batch is built, parsed back with libnftnl and checked message
 * by message; then, as root, applied and deleted in a network namespace of
 * the test's own. */
#include "net_nft.h"
#include "util.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define TABLE "hivebox_t1"
#define HOST_IF "hbv0"
#define GROUP 5
#define MARK 0x5eed1234u
#define SEQ 1000
#define MAX_MSGS 512

static uint32_t ips[2];
static const uint16_t ports[] = {443, 8443};
static const uint16_t blocked[] = {22, 23, 3389};
static char batch[1 << 16] __attribute__((aligned(8)));
static size_t batch_len;

static uint32_t addr(const char *s)
{
	uint32_t a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "%s", s);
	return a;
}

static struct hb_net_nft_rules rules(void)
{
	struct hb_net_nft_rules r = {
		.table = TABLE,
		.host_if = HOST_IF,
		.sandbox_ip = addr("10.77.0.2"),
		.allowed_ips = ips,
		.n_allowed_ips = ARRAY_SIZE(ips),
		.allowed_ports = ports,
		.n_allowed_ports = ARRAY_SIZE(ports),
		.blocked_ports = blocked,
		.n_blocked_ports = ARRAY_SIZE(blocked),
		.nflog_group = GROUP,
		.ct_mark = MARK,
	};

	ips[0] = addr("203.0.113.7");
	ips[1] = addr("198.51.100.9");
	return r;
}

static void build(const struct hb_net_nft_rules *r)
{
	int k = hb_net_nft_build(r, batch, sizeof(batch), SEQ, &batch_len);

	cr_assert_eq(k, 0, "hb_net_nft_build: %d", k);
	cr_assert_gt(batch_len, 0);
}

/* The messages of a batch, which must end exactly at its end. */
struct msgs {
	const struct nlmsghdr *m[MAX_MSGS];
	size_t n;
};

static void split(const void *buf, size_t len, struct msgs *out)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	out->n = 0;
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		cr_assert_lt(out->n, MAX_MSGS);
		out->m[out->n++] = nlh;
	}
	cr_assert_eq(left, 0, "%d bytes after the last message", left);
}

static bool is_nft(const struct nlmsghdr *nlh, uint16_t type)
{
	return NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_NFTABLES &&
	       NFNL_MSG_TYPE(nlh->nlmsg_type) == type;
}

/* The messages of one nf_tables type, in batch order. */
static size_t of_type(const struct msgs *all, uint16_t type,
		      const struct nlmsghdr **out)
{
	size_t n = 0;

	for (size_t i = 0; i < all->n; i++)
		if (is_nft(all->m[i], type))
			out[n++] = all->m[i];
	return n;
}

static struct nftnl_rule *parse_rule(const struct nlmsghdr *nlh)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	cr_assert_not_null(r);
	cr_assert_eq(nftnl_rule_nlmsg_parse(nlh, r), 0);
	return r;
}

/* The rules of one chain, in batch order, as libnftnl prints them. */
static size_t chain_rules(const struct msgs *all, const char *chain,
			  struct nftnl_rule **out)
{
	const struct nlmsghdr *m[MAX_MSGS];
	size_t n = of_type(all, NFT_MSG_NEWRULE, m), k = 0;
	struct nftnl_rule *r;

	for (size_t i = 0; i < n; i++) {
		r = parse_rule(m[i]);
		cr_assert_str_eq(nftnl_rule_get_str(r, NFTNL_RULE_TABLE),
				 TABLE);
		if (strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chain) == 0)
			out[k++] = r;
		else
			nftnl_rule_free(r);
	}
	return k;
}

static const char *text(const struct nftnl_rule *r)
{
	static char buf[4096];

	nftnl_rule_snprintf(buf, sizeof(buf), r, NFTNL_OUTPUT_DEFAULT, 0);
	return buf;
}

static void expect_text(const struct nftnl_rule *r, const char *want)
{
	const char *t = text(r);

	cr_expect_not_null(strstr(t, want), "no '%s' in\n%s", want, t);
}

static void expect_no_text(const struct nftnl_rule *r, const char *unwanted)
{
	const char *t = text(r);

	cr_expect_null(strstr(t, unwanted), "'%s' in\n%s", unwanted, t);
}

/* The data of the cmp that follows the load of (name, key attribute, key);
 * the key attribute is META_KEY or PAYLOAD_OFFSET.  NULL if none. */
static const void *cmp_after(const struct nftnl_rule *r, const char *name,
			     uint16_t attr, uint32_t key, uint32_t *ret_len)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	const void *data = NULL;
	struct nftnl_expr *e;
	bool armed = false;

	while ((e = nftnl_expr_iter_next(it)) && !data) {
		const char *n = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

		if (armed && strcmp(n, "cmp") == 0)
			data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, ret_len);
		armed = strcmp(n, name) == 0 &&
			nftnl_expr_get_u32(e, attr) == key;
	}
	nftnl_expr_iter_destroy(it);
	return data;
}

static void expect_ifname(const struct nftnl_rule *r, uint32_t key)
{
	char padded[IFNAMSIZ] = HOST_IF;
	const void *data;
	uint32_t len = 0;

	data = cmp_after(r, "meta", NFTNL_EXPR_META_KEY, key, &len);
	cr_assert_not_null(data, "no interface match in\n%s", text(r));
	cr_assert_eq(len, IFNAMSIZ, "the whole name, padded: %u", len);
	cr_assert_arr_eq(data, padded, IFNAMSIZ);
}

static void expect_saddr(const struct nftnl_rule *r)
{
	uint32_t sandbox = addr("10.77.0.2"), len = 0;
	const void *data;

	data = cmp_after(r, "payload", NFTNL_EXPR_PAYLOAD_OFFSET, 12, &len);
	cr_assert_not_null(data, "no ip saddr in\n%s", text(r));
	cr_assert_eq(len, 4);
	cr_assert_arr_eq(data, &sandbox, 4);
}

static void expect_l4proto(const struct nftnl_rule *r, uint8_t proto)
{
	const uint8_t *data;
	uint32_t len = 0;

	data = cmp_after(r, "meta", NFTNL_EXPR_META_KEY, NFT_META_L4PROTO,
			 &len);
	cr_assert_not_null(data, "no l4proto in\n%s", text(r));
	cr_assert_eq(len, 1);
	cr_assert_eq(*data, proto);
}

static void free_rules(struct nftnl_rule **r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		nftnl_rule_free(r[i]);
}

Test(nft_build, batch_is_framed_and_numbered)
{
	struct hb_net_nft_rules r = rules();
	const struct nfgenmsg *g;
	struct msgs all;

	build(&r);
	split(batch, batch_len, &all);
	cr_assert_geq(all.n, 3);
	cr_assert_eq(all.m[0]->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	g = mnl_nlmsg_get_payload(all.m[0]);
	cr_assert_eq(ntohs(g->res_id), NFNL_SUBSYS_NFTABLES);
	cr_assert_eq(all.m[all.n - 1]->nlmsg_type, NFNL_MSG_BATCH_END);
	for (size_t i = 0; i < all.n; i++)
		cr_assert_eq(all.m[i]->nlmsg_seq, SEQ + i, "message %zu", i);
	/* Every command asks for an acknowledgement, so that hb_net_nft_apply_on()
	 * can wait for all of them. */
	for (size_t i = 1; i + 1 < all.n; i++) {
		cr_assert_eq(NFNL_SUBSYS_ID(all.m[i]->nlmsg_type),
			     NFNL_SUBSYS_NFTABLES);
		cr_assert(all.m[i]->nlmsg_flags & NLM_F_ACK, "message %zu", i);
		g = mnl_nlmsg_get_payload(all.m[i]);
		cr_assert_eq(g->nfgen_family, NFPROTO_INET, "message %zu", i);
	}
}

Test(nft_build, creates_one_inet_table_exclusively)
{
	struct hb_net_nft_rules r = rules();
	const struct nlmsghdr *m[MAX_MSGS];
	struct nftnl_table *t = nftnl_table_alloc();
	struct msgs all;

	build(&r);
	split(batch, batch_len, &all);
	cr_assert_eq(of_type(&all, NFT_MSG_NEWTABLE, m), 1);
	cr_assert(all.m[1] == m[0], "the table comes first");
	cr_assert_eq(m[0]->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL),
		     NLM_F_CREATE | NLM_F_EXCL);
	cr_assert_eq(nftnl_table_nlmsg_parse(m[0], t), 0);
	cr_assert_str_eq(nftnl_table_get_str(t, NFTNL_TABLE_NAME), TABLE);
	cr_assert_eq(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), NFPROTO_INET);
	/* Owned by the socket that creates it. */
	cr_assert_eq(nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS),
		     NFT_TABLE_F_OWNER);
	nftnl_table_free(t);
	cr_assert_eq(of_type(&all, NFT_MSG_DELTABLE, m), 0);
}

static void expect_chain(const struct nlmsghdr *nlh, const char *name,
			 const char *type, uint32_t hook, int32_t prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	cr_assert_eq(nftnl_chain_nlmsg_parse(nlh, c), 0);
	cr_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), TABLE);
	cr_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), name);
	cr_assert_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), type);
	cr_assert_eq(nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY), NFPROTO_INET);
	cr_assert_eq(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), hook, "%s",
		     name);
	cr_assert_eq(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), prio, "%s",
		     name);
	cr_assert(nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY), "%s", name);
	cr_assert_eq(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY), NF_ACCEPT);
	nftnl_chain_free(c);
}

Test(nft_build, six_base_chains)
{
	struct hb_net_nft_rules r = rules();
	const struct nlmsghdr *m[MAX_MSGS];
	struct msgs all;

	build(&r);
	split(batch, batch_len, &all);
	cr_assert_eq(of_type(&all, NFT_MSG_NEWCHAIN, m), 6);
	expect_chain(m[0], "prerouting", "filter", NF_INET_PRE_ROUTING, -300);
	/* After conntrack (-200), before destination NAT (-100). */
	expect_chain(m[1], "from_sandbox", "filter", NF_INET_PRE_ROUTING, -150);
	expect_chain(m[2], "forward", "filter", NF_INET_FORWARD, 0);
	expect_chain(m[3], "input", "filter", NF_INET_LOCAL_IN, 0);
	expect_chain(m[4], "output", "filter", NF_INET_LOCAL_OUT, 0);
	expect_chain(m[5], "postrouting", "nat", NF_INET_POST_ROUTING, 100);
}

/* All keys given to set name, over however many messages; returns the
 * number of keys and stores the number of messages in *ret_msgs. */
static size_t set_keys(const struct msgs *all, const char *name, uint8_t *keys,
		       uint32_t key_len, size_t *ret_msgs)
{
	const struct nlmsghdr *m[MAX_MSGS];
	size_t n = of_type(all, NFT_MSG_NEWSETELEM, m), k = 0, msgs = 0;

	for (size_t i = 0; i < n; i++) {
		struct nftnl_set *s = nftnl_set_alloc();
		struct nftnl_set_elems_iter *it;
		struct nftnl_set_elem *e;
		const void *key;
		uint32_t len;

		cr_assert_eq(nftnl_set_elems_nlmsg_parse(m[i], s), 0);
		if (strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), name) == 0) {
			msgs++;
			it = nftnl_set_elems_iter_create(s);
			while ((e = nftnl_set_elems_iter_next(it))) {
				key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY,
							 &len);
				cr_assert_eq(len, key_len);
				memcpy(keys + k++ * key_len, key, key_len);
			}
			nftnl_set_elems_iter_destroy(it);
		}
		nftnl_set_free(s);
	}
	*ret_msgs = msgs;
	return k;
}

static void expect_set(const struct nlmsghdr *nlh, const char *name,
		       uint32_t key_type, uint32_t key_len)
{
	struct nftnl_set *s = nftnl_set_alloc();

	cr_assert_eq(nftnl_set_nlmsg_parse(nlh, s), 0);
	cr_assert_str_eq(nftnl_set_get_str(s, NFTNL_SET_TABLE), TABLE);
	cr_assert_str_eq(nftnl_set_get_str(s, NFTNL_SET_NAME), name);
	cr_assert_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), key_type);
	cr_assert_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), key_len);
	nftnl_set_free(s);
}

Test(nft_build, sets_hold_addresses_and_ports_in_network_order)
{
	struct hb_net_nft_rules r = rules();
	const struct nlmsghdr *m[MAX_MSGS];
	uint16_t want[3], got16[3];
	uint32_t got32[2];
	struct msgs all;
	size_t msgs;

	build(&r);
	split(batch, batch_len, &all);
	cr_assert_eq(of_type(&all, NFT_MSG_NEWSET, m), 3);
	expect_set(m[0], "allowed_ips", 7, 4);	  /* ipv4_addr */
	expect_set(m[1], "allowed_ports", 13, 2); /* inet_service */
	expect_set(m[2], "blocked_ports", 13, 2);
	cr_assert_eq(set_keys(&all, "allowed_ips", (void *)got32, 4, &msgs), 2);
	cr_assert_arr_eq(got32, ips, sizeof(ips));
	cr_assert_eq(set_keys(&all, "allowed_ports", (void *)got16, 2, &msgs),
		     2);
	want[0] = htons(443);
	want[1] = htons(8443);
	cr_assert_arr_eq(got16, want, 2 * sizeof(*want));
	cr_assert_eq(set_keys(&all, "blocked_ports", (void *)got16, 2, &msgs),
		     3);
	want[0] = htons(22);
	want[1] = htons(23);
	want[2] = htons(3389);
	cr_assert_arr_eq(got16, want, sizeof(want));
}

Test(nft_build, many_addresses_go_over_several_messages)
{
	struct hb_net_nft_rules r = rules();
	static uint32_t many[300], got[300];
	size_t msgs;
	struct msgs all;

	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = htonl(0xc6336400 + (uint32_t)i); /* 198.51.100.0 */
	r.allowed_ips = many;
	r.n_allowed_ips = ARRAY_SIZE(many);
	build(&r);
	split(batch, batch_len, &all);
	cr_assert_eq(set_keys(&all, "allowed_ips", (void *)got, 4, &msgs),
		     ARRAY_SIZE(many));
	cr_assert_arr_eq(got, many, sizeof(many));
	cr_assert_eq(msgs, 5, "64 elements a message: %zu", msgs);
}

Test(nft_build, empty_lists_give_empty_sets)
{
	struct hb_net_nft_rules r = rules();
	const struct nlmsghdr *m[MAX_MSGS];
	struct nftnl_rule *fw[16];
	struct msgs all;

	r.n_allowed_ips = r.n_allowed_ports = r.n_blocked_ports = 0;
	r.allowed_ips = NULL;
	r.allowed_ports = r.blocked_ports = NULL;
	build(&r);
	split(batch, batch_len, &all);
	cr_assert_eq(of_type(&all, NFT_MSG_NEWSET, m), 3);
	cr_assert_eq(of_type(&all, NFT_MSG_NEWSETELEM, m), 0);
	cr_assert_eq(chain_rules(&all, "forward", fw), 7);
	free_rules(fw, 7);
}

/* The mark's text as libnftnl prints a cmp or immediate of it. */
#define MARK_TEXT "0x5eed1234"

Test(nft_build, forward_allows_only_listed_tcp_and_udp)
{
	struct hb_net_nft_rules r = rules();
	struct nftnl_rule *fw[16];
	struct msgs all;

	build(&r);
	split(batch, batch_len, &all);
	cr_assert_eq(chain_rules(&all, "forward", fw), 7);
	for (int i = 0; i < 5; i++)
		expect_ifname(fw[i], NFT_META_IIFNAME);
	expect_text(fw[0], "[ ct load state => reg 1 ]");
	expect_text(fw[0], "& 0x00000006 )"); /* established,related */
	/* ... and this run's own: not an earlier run's at this address. */
	expect_text(fw[0], "[ ct load mark => reg 1 ]");
	expect_text(fw[0], "[ cmp eq reg 1 " MARK_TEXT " ]");
	expect_text(fw[0], "accept");
	for (int i = 1; i <= 2; i++) {
		expect_saddr(fw[i]);
		expect_text(fw[i], "[ meta load nfproto => reg 1 ]");
		expect_text(fw[i], "network header + 16 => reg 1 ]");
		expect_text(fw[i], "[ lookup reg 1 set allowed_ips 0x0 ]");
		expect_text(fw[i], "transport header + 2 => reg 1 ]");
		expect_text(fw[i], "[ lookup reg 1 set allowed_ports 0x0 ]");
		expect_text(fw[i], "[ lookup reg 1 set blocked_ports 0x1 ]");
		expect_text(fw[i], "[ immediate reg 1 " MARK_TEXT " ]");
		expect_text(fw[i], "[ ct set mark with reg 1 ]");
		expect_text(fw[i], "[ immediate reg 0 accept ]");
	}
	expect_l4proto(fw[1], IPPROTO_TCP);
	expect_l4proto(fw[2], IPPROTO_UDP);
	expect_text(fw[3], "[ meta load nfproto => reg 1 ]");
	expect_text(fw[3], "[ cmp eq reg 1 0x00000002 ]"); /* IPv4 */
	expect_text(fw[3], "[ log group 5 ");
	expect_text(fw[3], "[ reject type 2 code 3 ]"); /* icmpx admin */
	/* Anything else from H that reached forward. */
	expect_text(fw[4], "[ immediate reg 0 drop ]");
	expect_no_text(fw[4], "nfproto");
	free_rules(fw, 7);
}

/* hivebox learn's table: any address and port from the sandbox's own
 * address goes through; blocked ports, forged sources and the rest are
 * still dropped and logged. */
Test(nft_build, allow_any_looks_at_no_allowed_set)
{
	struct hb_net_nft_rules r = rules();
	struct nftnl_rule *fw[16];
	struct msgs all;

	r.allow_any = true;
	build(&r);
	split(batch, batch_len, &all);
	cr_assert_eq(chain_rules(&all, "forward", fw), 7);
	for (int i = 1; i <= 2; i++) {
		expect_saddr(fw[i]);
		expect_no_text(fw[i], "allowed_ips");
		expect_no_text(fw[i], "allowed_ports");
		expect_text(fw[i], "[ lookup reg 1 set blocked_ports 0x1 ]");
		expect_text(fw[i], "[ immediate reg 0 accept ]");
	}
	expect_l4proto(fw[1], IPPROTO_TCP);
	expect_l4proto(fw[2], IPPROTO_UDP);
	expect_text(fw[3], "[ reject type 2 code 3 ]");
	free_rules(fw, 7);
}

/* What routing would drop unseen, a destination without a route, is
 * decided and logged before routing, with forward's own rules. */
Test(nft_build, ipv4_is_decided_before_routing)
{
	struct hb_net_nft_rules r = rules();
	struct nftnl_rule *pre[8], *fw[16];
	struct msgs all;

	build(&r);
	split(batch, batch_len, &all);
	cr_assert_eq(chain_rules(&all, "from_sandbox", pre), 4);
	cr_assert_eq(chain_rules(&all, "forward", fw), 7);
	for (int i = 0; i < 4; i++) {
		char want[4096];
		snprintf(want, sizeof(want), "%s", text(fw[i]));
		cr_expect_str_eq(strstr(text(pre[i]), "[ "), strstr(want, "[ "),
				 "rule %d", i);
	}
	expect_text(pre[3], "[ log group 5 ");
	expect_text(pre[3], "[ reject type 2 code 3 ]");
	free_rules(pre, 4);
	free_rules(fw, 7);
}

Test(nft_build, a_zero_mark_is_refused)
{
	struct hb_net_nft_rules r = rules();
	size_t len = 0;

	r.ct_mark = 0;
	cr_assert_eq(hb_net_nft_build(&r, batch, sizeof(batch), SEQ, &len),
		     -EINVAL);
}

Test(nft_build, nothing_starts_from_outside)
{
	struct hb_net_nft_rules r = rules();
	struct nftnl_rule *fw[16], *out[8];
	struct msgs all;

	build(&r);
	split(batch, batch_len, &all);
	cr_assert_eq(chain_rules(&all, "forward", fw), 7);
	expect_ifname(fw[5], NFT_META_OIFNAME);
	expect_text(fw[5], "[ ct load state => reg 1 ]");
	expect_text(fw[5], "[ cmp eq reg 1 " MARK_TEXT " ]");
	expect_text(fw[5], "[ immediate reg 0 accept ]");
	expect_ifname(fw[6], NFT_META_OIFNAME);
	expect_text(fw[6], "[ immediate reg 0 drop ]");
	expect_no_text(fw[6], "log");
	free_rules(fw, 7);
	/* Nor from the host's own processes: replies, rejections and
	 * neighbour discovery only. */
	cr_assert_eq(chain_rules(&all, "output", out), 3);
	for (int i = 0; i < 3; i++)
		expect_ifname(out[i], NFT_META_OIFNAME);
	expect_text(out[0], "& 0x00000006 )");
	expect_text(out[0], "[ immediate reg 0 accept ]");
	expect_text(out[1], "[ cmp gte reg 1 0x00000087 ]");
	expect_text(out[1], "[ cmp lte reg 1 0x00000088 ]");
	expect_text(out[1], "[ immediate reg 0 accept ]");
	expect_text(out[2], "[ immediate reg 0 drop ]");
	expect_no_text(out[2], "cmp gte");
	free_rules(out, 3);
}

Test(nft_build, host_services_are_logged_and_dropped)
{
	struct hb_net_nft_rules r = rules();
	struct nftnl_rule *in[4];
	struct msgs all;

	r.nflog_group = 4242;
	build(&r);
	split(batch, batch_len, &all);
	cr_assert_eq(chain_rules(&all, "input", in), 1);
	expect_ifname(in[0], NFT_META_IIFNAME);
	expect_text(in[0], "[ cmp eq reg 1 0x00000002 ]"); /* IPv4 */
	expect_text(in[0], "[ log group 4242 ");
	expect_text(in[0], "[ reject type 2 code 3 ]");
	free_rules(in, 1);
}

/* IPv6: neighbour discovery passes to the host end, the kernel's own
 * chatter is dropped silently, the rest is logged and dropped, all before
 * routing decides anything. */
Test(nft_build, ipv6_is_logged_and_dropped_before_routing)
{
	struct hb_net_nft_rules r = rules();
	struct nftnl_rule *pre[8];
	struct msgs all;

	build(&r);
	split(batch, batch_len, &all);
	cr_assert_eq(chain_rules(&all, "prerouting", pre), 4);
	for (int i = 0; i < 4; i++) {
		expect_ifname(pre[i], NFT_META_IIFNAME);
		expect_text(pre[i], "[ cmp eq reg 1 0x0000000a ]"); /* IPv6 */
	}
	/* Neighbour discovery, for the host end's address only. */
	for (int i = 0; i < 2; i++) {
		expect_text(pre[i], "network header + 24 => reg 1 ]");
		expect_text(pre[i], "[ cmp gte reg 1 0x00000087 ]"); /* 135 */
		expect_text(pre[i], "[ cmp lte reg 1 0x00000088 ]"); /* 136 */
		expect_text(pre[i], "[ immediate reg 0 accept ]");
	}
	expect_text(pre[0], "0x000080fe 0x00000000 0x00000000 0x01000000");
	expect_text(pre[1], "0x000002ff 0x00000000 0x01000000 0x010000ff");
	expect_text(pre[2], "[ cmp gte reg 1 0x00000082 ]"); /* 130 */
	expect_text(pre[2], "[ cmp lte reg 1 0x0000008f ]"); /* 143 */
	expect_text(pre[2], "[ immediate reg 0 drop ]");
	expect_no_text(pre[2], "log");
	expect_no_text(pre[3], "transport header");
	expect_text(pre[3], "[ log group 5 ");
	expect_text(pre[3], "[ immediate reg 0 drop ]");
	free_rules(pre, 4);
}

Test(nft_build, egress_is_masqueraded)
{
	struct hb_net_nft_rules r = rules();
	struct nftnl_rule *post[4];
	struct msgs all;

	build(&r);
	split(batch, batch_len, &all);
	cr_assert_eq(chain_rules(&all, "postrouting", post), 1);
	expect_saddr(post[0]);
	expect_ifname(post[0], NFT_META_OIFNAME);
	expect_text(post[0], "[ cmp neq reg 1 ");
	expect_text(post[0], "[ masq ]");
	free_rules(post, 1);
}

/* Every length short of the batch is refused, and nothing is written
 * past the length given. */
Test(nft_build, too_small_buffer)
{
	struct hb_net_nft_rules r = rules();
	static char small[1 << 16] __attribute__((aligned(8)));
	size_t got = 7;
	int k;

	build(&r);
	for (size_t len = 0; len < batch_len; len++) {
		memset(small, 0xa5, batch_len + 64);
		k = hb_net_nft_build(&r, small, len, SEQ, &got);
		cr_assert_eq(k, -ENOBUFS, "len %zu: %d", len, k);
		for (size_t i = len; i < batch_len + 64; i++)
			cr_assert_eq((unsigned char)small[i], 0xa5,
				     "len %zu: byte %zu written", len, i);
	}
	cr_assert_eq(got, 7, "no length for a failed build");
	cr_assert_eq(hb_net_nft_build(&r, small, batch_len, SEQ, &got), 0);
	cr_assert_eq(got, batch_len);
	cr_assert_arr_eq(small, batch, batch_len);
}

Test(nft_build, refuses_bad_input)
{
	struct hb_net_nft_rules r = rules();
	size_t len;

	r.table[0] = '\0';
	cr_assert_eq(hb_net_nft_build(&r, batch, sizeof(batch), 1, &len),
		     -EINVAL);
	r = rules();
	memset(r.host_if, 'v', sizeof(r.host_if)); /* no terminating NUL */
	cr_assert_eq(hb_net_nft_build(&r, batch, sizeof(batch), 1, &len),
		     -EINVAL);
	r = rules();
	r.sandbox_ip = 0;
	cr_assert_eq(hb_net_nft_build(&r, batch, sizeof(batch), 1, &len),
		     -EINVAL);
	r = rules();
	r.allowed_ports = NULL;
	cr_assert_eq(hb_net_nft_build(&r, batch, sizeof(batch), 1, &len),
		     -EINVAL);
}

Test(nft_build_delete, one_deltable)
{
	const struct nlmsghdr *m[MAX_MSGS];
	struct nftnl_table *t = nftnl_table_alloc();
	struct msgs all;
	size_t len = 0;

	cr_assert_eq(
		hb_net_nft_build_delete(TABLE, batch, sizeof(batch), 7, &len),
		0);
	split(batch, len, &all);
	cr_assert_eq(all.n, 3);
	cr_assert_eq(all.m[0]->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	cr_assert_eq(all.m[2]->nlmsg_type, NFNL_MSG_BATCH_END);
	cr_assert_eq(all.m[2]->nlmsg_seq, 9);
	cr_assert_eq(of_type(&all, NFT_MSG_DELTABLE, m), 1);
	cr_assert(m[0]->nlmsg_flags & NLM_F_ACK);
	cr_assert_eq(nftnl_table_nlmsg_parse(m[0], t), 0);
	cr_assert_str_eq(nftnl_table_get_str(t, NFTNL_TABLE_NAME), TABLE);
	cr_assert_eq(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), NFPROTO_INET);
	cr_assert_not(nftnl_table_is_set(t, NFTNL_TABLE_FLAGS));
	nftnl_table_free(t);
	cr_assert_eq(hb_net_nft_build_delete(TABLE, batch, len - 1, 7, &len),
		     -ENOBUFS);
	cr_assert_eq(hb_net_nft_build_delete("", batch, sizeof(batch), 7, &len),
		     -EINVAL);
}

Test(nft_apply, refuses_a_partial_batch_before_sending)
{
	struct hb_net_nft_rules r = rules();

	struct mnl_socket *nl = hb_net_nft_socket();

	cr_assert_not_null(nl, "%s", strerror(errno));
	build(&r);
	cr_assert_eq(hb_net_nft_apply_on(nl, batch, batch_len - 1), -EINVAL);
	mnl_socket_close(nl);
}

/* What the child in its own network namespace saw, for the parent to
 * check: Criterion's assertions do not work in a forked child. */
struct seen {
	int unshare_errno;
	int absent_before, apply, exists, reapply;
	int dump, rules[6];
	char rule_text[24][1024];
	int elems, n_blocked;
	uint16_t blocked[8];
	int foreign_delete, delete, exists_after, redelete;
	int reowned, exists_while_owned, exists_after_close;
};

static const char *const chain_names[] = {"prerouting", "from_sandbox",
					  "forward",	"input",
					  "output",	"postrouting"};

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen *s = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	int total = 0;

	for (size_t i = 0; i < ARRAY_SIZE(chain_names); i++)
		total += s->rules[i];
	if (!r || nftnl_rule_nlmsg_parse(nlh, r) < 0)
		return MNL_CB_ERROR;
	for (size_t i = 0; i < ARRAY_SIZE(chain_names); i++)
		if (!strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN),
			    chain_names[i]))
			s->rules[i]++;
	if (total < 24)
		nftnl_rule_snprintf(s->rule_text[total], 1024, r,
				    NFTNL_OUTPUT_DEFAULT, 0);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen *s = data;
	struct nftnl_set *set = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	uint32_t len;

	if (!set || nftnl_set_elems_nlmsg_parse(nlh, set) < 0)
		return MNL_CB_ERROR;
	it = nftnl_set_elems_iter_create(set);
	while ((e = nftnl_set_elems_iter_next(it)) && s->n_blocked < 8)
		memcpy(&s->blocked[s->n_blocked++],
		       nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len), 2);
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(set);
	return MNL_CB_OK;
}

/* Send one dump request and feed every answer to cb; 0 or -errno. */
static int dump(struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	static char buf[1 << 16];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int r = -1;
	ssize_t n;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		goto out;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		r = n < 0 ? -1
			  : mnl_cb_run(buf, (size_t)n, req->nlmsg_seq,
				       mnl_socket_get_portid(nl), cb, data);
	} while (r > 0);
out:
	r = r < 0 ? -errno : 0;
	if (nl)
		mnl_socket_close(nl);
	return r;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWTABLE)
		*(int *)data = 1;
	return MNL_CB_OK;
}

/* 1 if the table is there, 0 if not, -errno if the kernel cannot say. */
static int table_exists(void)
{
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	int found = 0, r;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
				    NLM_F_ACK, 3);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, TABLE);
	r = dump(nlh, table_cb, &found);
	return r == -ENOENT ? 0 : r < 0 ? r : found;
}

/* del on a socket of its own, which does not own the table. */
static int apply_elsewhere(const void *del, size_t del_len)
{
	struct mnl_socket *nl = hb_net_nft_socket();
	int r = nl ? hb_net_nft_apply_on(nl, del, del_len) : -errno;

	if (nl)
		mnl_socket_close(nl);
	return r;
}

static void dump_kernel_state(struct seen *s)
{
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
				    NLM_F_DUMP, 1);
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, TABLE);
	s->dump = dump(nlh, rule_cb, s);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET,
				    NLM_F_DUMP, 2);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, TABLE);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "blocked_ports");
	s->elems = dump(nlh, elem_cb, s);
}

static void in_new_netns(struct seen *s, const void *del, size_t del_len)
{
	if (unshare(CLONE_NEWNET) < 0) {
		s->unshare_errno = errno;
		return;
	}
	struct mnl_socket *owner = hb_net_nft_socket(), *other;

	if (!owner)
		_exit(1);
	s->absent_before = table_exists();
	s->apply = hb_net_nft_apply_on(owner, batch, batch_len);
	s->exists = table_exists();
	s->reapply = hb_net_nft_apply_on(owner, batch, batch_len);
	dump_kernel_state(s);
	/* Another socket may read the table but not delete it. */
	s->foreign_delete = apply_elsewhere(del, del_len);
	s->delete = hb_net_nft_apply_on(owner, del, del_len);
	s->exists_after = table_exists();
	s->redelete = hb_net_nft_apply_on(owner, del, del_len);
	mnl_socket_close(owner);
	/* Closing the owner's socket deletes the table: a killed hivebox
	 * leaves no filter behind. */
	other = hb_net_nft_socket();
	if (!other)
		_exit(1);
	s->reowned = hb_net_nft_apply_on(other, batch, batch_len);
	s->exists_while_owned = table_exists();
	mnl_socket_close(other);
	s->exists_after_close = table_exists();
}

static int cmp_u16(const void *a, const void *b)
{
	return *(const uint16_t *)a - *(const uint16_t *)b;
}

/* got: n ports in network order, in any order (a hash set's); want: in
 * host order, ascending. */
static void expect_ports(uint16_t *got, size_t n, const uint16_t *want)
{
	for (size_t i = 0; i < n; i++)
		got[i] = ntohs(got[i]);
	qsort(got, n, sizeof(*got), cmp_u16);
	cr_assert_arr_eq(got, want, n * sizeof(*got));
}

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root for a network namespace of its own");
}

static void run_in_new_netns(struct seen *s)
{
	static char del[256] __attribute__((aligned(8)));
	size_t del_len;
	int status;
	pid_t pid;

	cr_assert_eq(
		hb_net_nft_build_delete(TABLE, del, sizeof(del), 50, &del_len),
		0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		in_new_netns(s, del, del_len);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x",
		  status);
	if (s->unshare_errno == EPERM)
		cr_skip_test("no CAP_SYS_ADMIN for a network namespace");
	cr_assert_eq(s->unshare_errno, 0, "unshare: %s",
		     strerror(s->unshare_errno));
}

/* cppcheck-suppress unknownMacro */
Test(nft_apply, table_comes_and_goes_in_a_network_namespace, .timeout = 20)
{
	struct hb_net_nft_rules r = rules();
	struct seen *s;

	need_root();
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(s, MAP_FAILED);
	memset(s, 0, sizeof(*s));
	build(&r);
	run_in_new_netns(s);
	cr_assert_eq(s->absent_before, 0, "before: %d", s->absent_before);
	cr_assert_eq(s->apply, 0, "apply: %s", strerror(-s->apply));
	cr_assert_eq(s->exists, 1, "exists: %d", s->exists);
	cr_assert_eq(s->reapply, -EEXIST, "a second apply: %d", s->reapply);
	cr_assert_eq(s->dump, 0, "rule dump: %s", strerror(-s->dump));
	cr_assert_eq(s->rules[0], 4);
	cr_assert_eq(s->rules[1], 4);
	cr_assert_eq(s->rules[2], 7);
	cr_assert_eq(s->rules[3], 1);
	cr_assert_eq(s->rules[4], 3);
	cr_assert_eq(s->rules[5], 1);
	/* The kernel took every expression: the log and reject before
	 * routing (in a prerouting chain) and in forward, the mark of an
	 * allowed connection, the masquerade. */
	for (int i = 5; i <= 9; i += 4) {
		cr_assert_not_null(
			strstr(s->rule_text[i], "[ ct set mark with reg 1 ]"),
			"%s", s->rule_text[i]);
		cr_assert_not_null(
			strstr(s->rule_text[i + 2], "[ log group 5 "), "%s",
			s->rule_text[i + 2]);
		cr_assert_not_null(
			strstr(s->rule_text[i + 2], "[ reject type 2 code 3 ]"),
			"%s", s->rule_text[i + 2]);
	}
	cr_assert_not_null(strstr(s->rule_text[19], "[ masq ]"), "%s",
			   s->rule_text[19]);
	cr_assert_eq(s->elems, 0, "element dump: %s", strerror(-s->elems));
	cr_assert_eq(s->n_blocked, 3);
	expect_ports(s->blocked, 3, blocked);
	cr_assert_eq(s->foreign_delete, -EPERM, "another socket's delete: %d",
		     s->foreign_delete);
	cr_assert_eq(s->delete, 0, "delete: %s", strerror(-s->delete));
	cr_assert_eq(s->exists_after, 0, "after delete: %d", s->exists_after);
	cr_assert_eq(s->redelete, -ENOENT, "a second delete: %d", s->redelete);
	cr_assert_eq(s->reowned, 0, "apply again: %d", s->reowned);
	cr_assert_eq(s->exists_while_owned, 1);
	cr_assert_eq(s->exists_after_close, 0, "the owner's close deletes it");
	munmap(s, sizeof(*s));
}

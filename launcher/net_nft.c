/* SPDX-License-Identifier: MIT */
/* The host-side filter of one sandbox.  Its veth's host end H is the only
 * way in or out of the sandbox's network namespace, so the filter matches
 * on H and lives where nothing inside the sandbox can reach it.  For a
 * sandbox with address S and NFLOG group G it is, as `nft list` shows it:
 *
 *   table inet hivebox_<id> {            (flags owner: see hb_net_nft_build)
 *     set allowed_ips { type ipv4_addr; elements = { ... } }
 *     set allowed_ports { type inet_service; elements = { ... } }
 *     set blocked_ports { type inet_service; elements = { ... } }
 *     chain prerouting {
 *       type filter hook prerouting priority raw; policy accept;
 *       iifname H ip6 daddr fe80::1 icmpv6 type 135-136 accept
 *       iifname H ip6 daddr ff02::1:ff00:1 icmpv6 type 135-136 accept
 *       iifname H meta nfproto ipv6 icmpv6 type 130-143 drop
 *       iifname H meta nfproto ipv6 log group G drop
 *     }
 *     chain from_sandbox {
 *       type filter hook prerouting priority mangle; policy accept;
 *       (the first four rules of forward)
 *     }
 *     chain forward {
 *       type filter hook forward priority filter; policy accept;
 *       iifname H ct state established,related ct mark M accept
 *       iifname H ip saddr S ip daddr @allowed_ips
 *               tcp dport @allowed_ports tcp dport != @blocked_ports
 *               ct mark set M accept
 *       (the same for udp)
 *       iifname H meta nfproto ipv4 log group G
 *               reject with icmpx admin-prohibited
 *       iifname H drop
 *       oifname H ct state established,related ct mark M accept
 *       oifname H drop
 *     }
 *     chain input {
 *       type filter hook input priority filter; policy accept;
 *       iifname H meta nfproto ipv4 log group G
 *               reject with icmpx admin-prohibited
 *     }
 *     chain output {
 *       type filter hook output priority filter; policy accept;
 *       oifname H ct state established,related accept
 *       oifname H meta nfproto ipv6 icmpv6 type 135-136 accept
 *       oifname H drop
 *     }
 *     chain postrouting {
 *       type nat hook postrouting priority srcnat; policy accept;
 *       ip saddr S oifname != H masquerade
 *     }
 *   }
 *
 * Every rule names H, and the policies accept, so the table says nothing
 * about the host's other traffic.  From the sandbox, only a new TCP or UDP
 * connection from its own address to an allowed address and port that is
 * not blocked gets through; ICMP, other protocols and forged source
 * addresses have no accept rule and fall to the logged rejection, which
 * the supervisor reads from group G.  That decision is made before
 * routing, in from_sandbox, so that a destination the host has no route
 * for is logged too (routing drops it before forward), and again in
 * forward, on the destination the host's own NAT rules may have made of
 * it; IPv6 is logged and dropped before routing (see put_prerouting).
 * The established rules carry the two legs of those connections and
 * their ICMP errors; conntrack only ever holds connections the rules let
 * start, because nothing from outside, the host's own processes included,
 * may open one towards the sandbox (that drop is not logged: it is not
 * the script's doing).  M is a mark of this run's: conntrack may still
 * hold connections that an earlier run with the same address opened, and
 * they are not this run's to use.  The input chain keeps the host's own
 * services, on any of its addresses, out of reach.  Egress leaves with
 * the host's address.
 *
 * Addresses and ports are sets, so the rule count does not grow with the
 * policy.  The batch is atomic and the table is created exclusively: the
 * sandbox never runs behind half a filter, and a leftover of a killed run
 * is an error for the caller to clean up, never silently merged. */
#include "net_nft.h"
#include "net_link.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <string.h>
#include <sys/socket.h>

/* libnftnl writes messages without bounds, so each is built in a scratch
 * buffer first and copied into the caller's only if it fits.  The longest
 * rule takes 800 bytes, and ELEMS_PER_MSG set elements 1.3 KiB. */
#define MSG_MAX 8192
#define ELEMS_PER_MSG 64
#define RECV_MAX 16384

/* nft's numbers for the key types ipv4_addr and inet_service: the kernel
 * only stores them, for `nft list` to print the elements. */
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_INET_SERVICE 13

/* TCP and UDP both keep the destination port at offset 2. */
#define DPORT_OFFSET 2

#define ESTABLISHED_RELATED                                                    \
	(NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED))

enum { SET_IPS, SET_PORTS, SET_BLOCKED };

static const struct set_def {
	const char *name;
	uint32_t key_type, key_len;
} sets[] = {
	[SET_IPS] = {"allowed_ips", NFT_TYPE_IPADDR, 4},
	[SET_PORTS] = {"allowed_ports", NFT_TYPE_INET_SERVICE, 2},
	[SET_BLOCKED] = {"blocked_ports", NFT_TYPE_INET_SERVICE, 2},
};

/* Rules of the same batch find a set by its id before it exists. */
static uint32_t set_id(int i)
{
	return (uint32_t)i + 1;
}

static const struct chain_def {
	const char *name, *type;
	uint32_t hook;
	int32_t prio;
} chains[] = {
	/* raw: before conntrack, which need not see what is dropped here */
	{"prerouting", "filter", NF_INET_PRE_ROUTING, -300},
	/* mangle: after conntrack, before destination NAT and routing */
	{"from_sandbox", "filter", NF_INET_PRE_ROUTING, -150},
	{"forward", "filter", NF_INET_FORWARD, 0},
	{"input", "filter", NF_INET_LOCAL_IN, 0},
	{"output", "filter", NF_INET_LOCAL_OUT, 0},
	{"postrouting", "nat", NF_INET_POST_ROUTING, 100},
};

struct batch {
	char *buf;
	size_t len, off;
	uint32_t seq;
	char tmp[MSG_MAX] __attribute__((aligned(8)));
};

static void chain_freep(struct nftnl_chain **c)
{
	if (*c)
		nftnl_chain_free(*c);
}

static void set_freep(struct nftnl_set **s)
{
	if (*s)
		nftnl_set_free(*s);
}

/* The scratch buffer, zeroed: libmnl leaves attribute padding as it was,
 * and the bytes of a batch should depend on nothing but its input. */
static char *scratch(struct batch *b)
{
	return memset(b->tmp, 0, sizeof(b->tmp));
}

static struct nlmsghdr *msg_start(struct batch *b, uint16_t type,
				  uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(scratch(b), type, NFPROTO_INET,
				     flags | NLM_F_ACK, b->seq++);
}

/* Append the message built in b->tmp to the caller's buffer. */
static int msg_end(struct batch *b, const struct nlmsghdr *nlh)
{
	size_t n = NLMSG_ALIGN(nlh->nlmsg_len);

	if (n > b->len - b->off)
		return -ENOBUFS;
	memcpy(b->buf + b->off, nlh, n);
	b->off += n;
	return 0;
}

static int put_batch_begin(struct batch *b)
{
	return msg_end(b, nftnl_batch_begin(scratch(b), b->seq++));
}

static int put_batch_end(struct batch *b)
{
	return msg_end(b, nftnl_batch_end(scratch(b), b->seq++));
}

static int put_table(struct batch *b, const char *name, uint16_t type,
		     uint16_t flags, uint32_t table_flags)
{
	struct nlmsghdr *nlh = msg_start(b, type, flags);

	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, name);
	if (table_flags)
		mnl_attr_put_u32(nlh, NFTA_TABLE_FLAGS, htonl(table_flags));
	return msg_end(b, nlh);
}

static int put_chain(struct batch *b, const char *table,
		     const struct chain_def *d)
{
	_cleanup_(chain_freep) struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c || nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, d->name) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, d->type) < 0)
		return -ENOMEM;
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, d->hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, d->prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = msg_start(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	return msg_end(b, nlh);
}

static int put_set(struct batch *b, const char *table, int i)
{
	_cleanup_(set_freep) struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s || nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, sets[i].name) < 0)
		return -ENOMEM;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, set_id(i));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, sets[i].key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sets[i].key_len);
	nlh = msg_start(b, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL);
	nftnl_set_nlmsg_build_payload(nlh, s);
	return msg_end(b, nlh);
}

/* One message adding n keys (n <= ELEMS_PER_MSG) to set i; without
 * NLM_F_EXCL, a key given twice is not an error.  Written with libmnl:
 * libnftnl numbers the elements 1, 2, 3..., which the kernel ignores but
 * libnftnl's own parser refuses; NFTA_LIST_ELEM is what the kernel sends. */
static int put_elem_msg(struct batch *b, const char *table, int i,
			const uint8_t *keys, size_t n)
{
	struct nlmsghdr *nlh = msg_start(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
	struct nlattr *list, *elem, *key;

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, sets[i].name);
	mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(set_id(i)));
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	for (size_t k = 0; k < n; k++) {
		elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, sets[i].key_len,
			     keys + k * sets[i].key_len);
		mnl_attr_nest_end(nlh, key);
		mnl_attr_nest_end(nlh, elem);
	}
	mnl_attr_nest_end(nlh, list);
	return msg_end(b, nlh);
}

/* keys: n keys of set i, in network order. */
static int put_elems(struct batch *b, const char *table, int i,
		     const void *keys, size_t n)
{
	size_t chunk;
	int r;

	for (size_t done = 0; done < n; done += chunk) {
		chunk = n - done < ELEMS_PER_MSG ? n - done : ELEMS_PER_MSG;
		r = put_elem_msg(b, table, i,
				 (const uint8_t *)keys + done * sets[i].key_len,
				 chunk);
		if (r < 0)
			return r;
	}
	return 0;
}

static int put_port_set(struct batch *b, const char *table, int i,
			const uint16_t *ports, size_t n)
{
	_cleanup_free_ uint16_t *be = NULL;
	int r;

	r = put_set(b, table, i);
	if (r < 0 || n == 0)
		return r;
	be = calloc(n, sizeof(*be));
	if (!be)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		be[k] = htons(ports[k]);
	return put_elems(b, table, i, be, n);
}

static int put_sets(struct batch *b, const struct hb_net_nft_rules *r)
{
	int k;

	k = put_set(b, r->table, SET_IPS);
	if (k < 0)
		return k;
	k = put_elems(b, r->table, SET_IPS, r->allowed_ips, r->n_allowed_ips);
	if (k < 0)
		return k;
	k = put_port_set(b, r->table, SET_PORTS, r->allowed_ports,
			 r->n_allowed_ports);
	if (k < 0)
		return k;
	return put_port_set(b, r->table, SET_BLOCKED, r->blocked_ports,
			    r->n_blocked_ports);
}

/* A rule under construction.  The helpers below append expressions to it
 * and keep the first failure, so that each rule reads as a flat list of
 * matches followed by one rb_put(). */
struct rb {
	struct nftnl_rule *rule;
	int err;
};

static void rb_done(struct rb *rb)
{
	if (rb->rule)
		nftnl_rule_free(rb->rule);
}

static struct rb rb_new(const char *table, const char *chain)
{
	struct rb rb = {.rule = nftnl_rule_alloc()};

	if (!rb.rule ||
	    nftnl_rule_set_str(rb.rule, NFTNL_RULE_TABLE, table) < 0 ||
	    nftnl_rule_set_str(rb.rule, NFTNL_RULE_CHAIN, chain) < 0)
		rb.err = -ENOMEM;
	else
		nftnl_rule_set_u32(rb.rule, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return rb;
}

/* A new expression at the end of the rule, or NULL after a failure. */
static struct nftnl_expr *rb_expr(struct rb *rb, const char *name)
{
	struct nftnl_expr *e;

	if (rb->err)
		return NULL;
	e = nftnl_expr_alloc(name);
	if (!e) {
		rb->err = -ENOMEM;
		return NULL;
	}
	nftnl_rule_add_expr(rb->rule, e);
	return e;
}

static int rb_put(struct batch *b, struct rb *rb)
{
	struct nlmsghdr *nlh;

	if (rb->err)
		return rb->err;
	nlh = msg_start(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	nftnl_rule_nlmsg_build_payload(nlh, rb->rule);
	return msg_end(b, nlh);
}

static void meta_load(struct rb *rb, uint32_t key)
{
	struct nftnl_expr *e = rb_expr(rb, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void payload_load(struct rb *rb, uint32_t base, uint32_t offset,
			 uint32_t len)
{
	struct nftnl_expr *e = rb_expr(rb, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
}

static void cmp(struct rb *rb, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = rb_expr(rb, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	if (nftnl_expr_set_data(e, NFTNL_EXPR_CMP_DATA, data, len) < 0)
		rb->err = -ENOMEM;
}

static void lookup(struct rb *rb, int set, uint32_t flags)
{
	struct nftnl_expr *e = rb_expr(rb, "lookup");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id(set));
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, flags);
	if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, sets[set].name) < 0)
		rb->err = -ENOMEM;
}

static void ct_load(struct rb *rb, uint32_t key)
{
	struct nftnl_expr *e = rb_expr(rb, "ct");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
}

/* ct state & states != 0 */
static void ct_state(struct rb *rb, uint32_t states)
{
	uint32_t zero = 0;
	struct nftnl_expr *e;

	ct_load(rb, NFT_CT_STATE);
	e = rb_expr(rb, "bitwise");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(states));
		nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_MASK, &states,
				    sizeof(states));
		nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_XOR, &zero,
				    sizeof(zero));
	}
	cmp(rb, NFT_CMP_NEQ, &zero, sizeof(zero));
}

/* ct mark == mark */
static void ct_mark_is(struct rb *rb, uint32_t mark)
{
	ct_load(rb, NFT_CT_MARK);
	cmp(rb, NFT_CMP_EQ, &mark, sizeof(mark));
}

/* ct mark set mark */
static void ct_mark_set(struct rb *rb, uint32_t mark)
{
	struct nftnl_expr *e = rb_expr(rb, "immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		if (nftnl_expr_set_data(e, NFTNL_EXPR_IMM_DATA, &mark,
					sizeof(mark)) < 0)
			rb->err = -ENOMEM;
	}
	e = rb_expr(rb, "ct");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
	}
}

static void log_group(struct rb *rb, uint16_t group)
{
	struct nftnl_expr *e = rb_expr(rb, "log");

	if (e)
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
}

static void verdict(struct rb *rb, uint32_t v)
{
	struct nftnl_expr *e = rb_expr(rb, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, v);
}

/* reject with icmpx admin-prohibited: the script fails at once with
 * "no route to host" instead of waiting for its own timeout. */
static void reject(struct rb *rb)
{
	struct nftnl_expr *e = rb_expr(rb, "reject");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE,
			  NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
}

/* iifname/oifname compare all IFNAMSIZ bytes, so "veth1" is not "veth10". */
static void match_ifname(struct rb *rb, uint32_t key, uint32_t op,
			 const char *name)
{
	char padded[IFNAMSIZ] = {0};

	memcpy(padded, name, strnlen(name, IFNAMSIZ - 1));
	meta_load(rb, key);
	cmp(rb, op, padded, sizeof(padded));
}

static void match_meta_u8(struct rb *rb, uint32_t key, uint8_t value)
{
	meta_load(rb, key);
	cmp(rb, NFT_CMP_EQ, &value, sizeof(value));
}

/* meta nfproto ipv4 ip saddr addr: in an inet table the IPv4 header has to
 * be asked for before it is read. */
static void match_ipv4_saddr(struct rb *rb, const uint32_t *addr)
{
	match_meta_u8(rb, NFT_META_NFPROTO, NFPROTO_IPV4);
	payload_load(rb, NFT_PAYLOAD_NETWORK_HEADER,
		     offsetof(struct iphdr, saddr), sizeof(*addr));
	cmp(rb, NFT_CMP_EQ, addr, sizeof(*addr));
}

static void match_dport_in(struct rb *rb, int set, uint32_t flags)
{
	payload_load(rb, NFT_PAYLOAD_TRANSPORT_HEADER, DPORT_OFFSET,
		     sizeof(uint16_t));
	lookup(rb, set, flags);
}

/* ifkey H ct state established,related [ct mark M] accept.  The mark is
 * this run's: a connection an earlier run in the same slot (the same
 * address) opened may still be in conntrack, and must not pass for one of
 * this run's. */
static int rule_established(struct batch *b, const struct hb_net_nft_rules *r,
			    const char *chain, uint32_t ifkey, bool marked)
{
	_cleanup_(rb_done) struct rb rb = rb_new(r->table, chain);

	match_ifname(&rb, ifkey, NFT_CMP_EQ, r->host_if);
	ct_state(&rb, ESTABLISHED_RELATED);
	if (marked)
		ct_mark_is(&rb, r->ct_mark);
	verdict(&rb, NF_ACCEPT);
	return rb_put(b, &rb);
}

/* iifname H ip saddr S ip daddr @allowed_ips
 * proto dport @allowed_ports proto dport != @blocked_ports accept
 * (with allow_any, for hivebox learn, neither set is looked at) */
static int rule_allow(struct batch *b, const struct hb_net_nft_rules *r,
		      const char *chain, uint8_t proto)
{
	_cleanup_(rb_done) struct rb rb = rb_new(r->table, chain);

	match_ifname(&rb, NFT_META_IIFNAME, NFT_CMP_EQ, r->host_if);
	match_ipv4_saddr(&rb, &r->sandbox_ip);
	if (!r->allow_any) {
		payload_load(&rb, NFT_PAYLOAD_NETWORK_HEADER,
			     offsetof(struct iphdr, daddr), sizeof(uint32_t));
		lookup(&rb, SET_IPS, 0);
	}
	match_meta_u8(&rb, NFT_META_L4PROTO, proto);
	if (!r->allow_any)
		match_dport_in(&rb, SET_PORTS, 0);
	match_dport_in(&rb, SET_BLOCKED, NFT_LOOKUP_F_INV);
	ct_mark_set(&rb, r->ct_mark);
	verdict(&rb, NF_ACCEPT);
	return rb_put(b, &rb);
}

/* iifname H meta nfproto ipv4 log group G reject */
static int rule_log_reject(struct batch *b, const struct hb_net_nft_rules *r,
			   const char *chain)
{
	_cleanup_(rb_done) struct rb rb = rb_new(r->table, chain);

	match_ifname(&rb, NFT_META_IIFNAME, NFT_CMP_EQ, r->host_if);
	match_meta_u8(&rb, NFT_META_NFPROTO, NFPROTO_IPV4);
	log_group(&rb, r->nflog_group);
	reject(&rb);
	return rb_put(b, &rb);
}

/* The multicast group of the host end's address, hb_net_link_ll_host:
 * where the sandbox asks for its link-layer address. */
static const uint8_t ll_host_solicited[16] = {
	0xff, 0x02, [11] = 1, [12] = 0xff, [15] = 1};

/* A rule of IPv6 on H. */
struct v6 {
	const char *chain;
	uint32_t ifkey;	      /* iifname or oifname */
	const uint8_t *daddr; /* ip6 daddr, or NULL */
	uint8_t lo, hi;	      /* icmpv6 type lo-hi, or hi 0 */
	bool log;	      /* log group G */
	uint32_t verdict;
};

/* ifkey H meta nfproto ipv6 [ip6 daddr A] [icmpv6 type lo-hi] [log group
 * G] verdict */
static int rule_ipv6(struct batch *b, const struct hb_net_nft_rules *r,
		     const struct v6 *d)
{
	_cleanup_(rb_done) struct rb rb = rb_new(r->table, d->chain);
	uint8_t lo = d->lo, hi = d->hi;

	match_ifname(&rb, d->ifkey, NFT_CMP_EQ, r->host_if);
	match_meta_u8(&rb, NFT_META_NFPROTO, NFPROTO_IPV6);
	if (d->daddr) {
		payload_load(&rb, NFT_PAYLOAD_NETWORK_HEADER, 24, 16);
		cmp(&rb, NFT_CMP_EQ, d->daddr, 16);
	}
	if (hi) {
		match_meta_u8(&rb, NFT_META_L4PROTO, IPPROTO_ICMPV6);
		payload_load(&rb, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
		cmp(&rb, NFT_CMP_GTE, &lo, 1);
		cmp(&rb, NFT_CMP_LTE, &hi, 1);
	}
	if (d->log)
		log_group(&rb, r->nflog_group);
	verdict(&rb, d->verdict);
	return rb_put(b, &rb);
}

/* IPv6 from the sandbox never gets past prerouting.  Neighbour discovery
 * (types 135-136) for the host end's address goes on to the host end,
 * which answers it, so that the sandbox sends what it tries next; the
 * kernel's own router solicitations and listener reports (130-143) are
 * dropped unlogged, being nobody's attempt; everything else is logged and
 * dropped. */
static int put_prerouting(struct batch *b, const struct hb_net_nft_rules *r)
{
	const struct v6 rules[] = {
		{"prerouting", NFT_META_IIFNAME, hb_net_link_ll_host, 135, 136,
		 false, NF_ACCEPT},
		{"prerouting", NFT_META_IIFNAME, ll_host_solicited, 135, 136,
		 false, NF_ACCEPT},
		{"prerouting", NFT_META_IIFNAME, NULL, 130, 143, false,
		 NF_DROP},
		{"prerouting", NFT_META_IIFNAME, NULL, 0, 0, true, NF_DROP},
	};
	int k = 0;

	for (size_t i = 0; k == 0 && i < ARRAY_SIZE(rules); i++)
		k = rule_ipv6(b, r, &rules[i]);
	return k;
}

/* iifname H drop: what is neither IPv4 nor IPv6 */
static int rule_drop(struct batch *b, const struct hb_net_nft_rules *r,
		     const char *chain, uint32_t ifkey)
{
	_cleanup_(rb_done) struct rb rb = rb_new(r->table, chain);

	match_ifname(&rb, ifkey, NFT_CMP_EQ, r->host_if);
	verdict(&rb, NF_DROP);
	return rb_put(b, &rb);
}

/* The host's own processes may answer the sandbox (replies, the
 * rejections above, neighbour discovery) but not open anything to it. */
static int put_output(struct batch *b, const struct hb_net_nft_rules *r)
{
	const struct v6 nd = {"output", NFT_META_OIFNAME, NULL, 135, 136,
			      false,	NF_ACCEPT};
	int k = rule_established(b, r, "output", NFT_META_OIFNAME, false);

	if (k == 0)
		k = rule_ipv6(b, r, &nd);
	if (k == 0)
		k = rule_drop(b, r, "output", NFT_META_OIFNAME);
	return k;
}

/* ip saddr S oifname != H masquerade */
static int rule_masquerade(struct batch *b, const struct hb_net_nft_rules *r)
{
	_cleanup_(rb_done) struct rb rb = rb_new(r->table, "postrouting");

	match_ipv4_saddr(&rb, &r->sandbox_ip);
	match_ifname(&rb, NFT_META_OIFNAME, NFT_CMP_NEQ, r->host_if);
	rb_expr(&rb, "masq");
	return rb_put(b, &rb);
}

/* IPv4 from the sandbox is decided before routing: routing drops a
 * packet the host has no route for (or a martian one) before forward or
 * input could log it.  The same rules as forward's, on the destination
 * the script asked for: destination NAT of the host's comes later. */
static int put_from_sandbox(struct batch *b, const struct hb_net_nft_rules *r)
{
	int k = rule_established(b, r, "from_sandbox", NFT_META_IIFNAME, true);

	if (k == 0)
		k = rule_allow(b, r, "from_sandbox", IPPROTO_TCP);
	if (k == 0)
		k = rule_allow(b, r, "from_sandbox", IPPROTO_UDP);
	if (k == 0)
		k = rule_log_reject(b, r, "from_sandbox");
	return k;
}

static int put_forward(struct batch *b, const struct hb_net_nft_rules *r)
{
	int k;

	k = rule_established(b, r, "forward", NFT_META_IIFNAME, true);
	if (k < 0)
		return k;
	k = rule_allow(b, r, "forward", IPPROTO_TCP);
	if (k < 0)
		return k;
	k = rule_allow(b, r, "forward", IPPROTO_UDP);
	if (k < 0)
		return k;
	k = rule_log_reject(b, r, "forward");
	if (k < 0)
		return k;
	k = rule_drop(b, r, "forward", NFT_META_IIFNAME);
	if (k < 0)
		return k;
	k = rule_established(b, r, "forward", NFT_META_OIFNAME, true);
	if (k < 0)
		return k;
	return rule_drop(b, r, "forward", NFT_META_OIFNAME);
}

static int put_chains(struct batch *b, const struct hb_net_nft_rules *r)
{
	int k;

	for (size_t i = 0; i < ARRAY_SIZE(chains); i++) {
		k = put_chain(b, r->table, &chains[i]);
		if (k < 0)
			return k;
	}
	k = put_prerouting(b, r);
	if (k < 0)
		return k;
	k = put_from_sandbox(b, r);
	if (k < 0)
		return k;
	k = put_forward(b, r);
	if (k < 0)
		return k;
	k = rule_log_reject(b, r, "input");
	if (k < 0)
		return k;
	k = put_output(b, r);
	if (k < 0)
		return k;
	return rule_masquerade(b, r);
}

/* Non-empty and NUL-terminated within size bytes. */
static bool name_ok(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	return n > 0 && n < size;
}

static int rules_check(const struct hb_net_nft_rules *r)
{
	if (!name_ok(r->table, sizeof(r->table)) ||
	    !name_ok(r->host_if, sizeof(r->host_if)) || r->sandbox_ip == 0 ||
	    r->ct_mark == 0)
		return -EINVAL;
	if ((r->n_allowed_ips && !r->allowed_ips) ||
	    (r->n_allowed_ports && !r->allowed_ports) ||
	    (r->n_blocked_ports && !r->blocked_ports))
		return -EINVAL;
	return 0;
}

int hb_net_nft_build(const struct hb_net_nft_rules *r, void *buf, size_t len,
		     uint32_t seq, size_t *ret_len)
{
	struct batch b = {.buf = buf, .len = len, .seq = seq};
	int k;

	k = rules_check(r);
	if (k < 0)
		return k;
	k = put_batch_begin(&b);
	if (k < 0)
		return k;
	/* Owned by the socket that sends the batch: no other socket may
	 * change or delete it, and the kernel deletes it when that socket
	 * closes, however hivebox ends. */
	k = put_table(&b, r->table, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL,
		      NFT_TABLE_F_OWNER);
	if (k < 0)
		return k;
	k = put_sets(&b, r);
	if (k < 0)
		return k;
	k = put_chains(&b, r);
	if (k < 0)
		return k;
	k = put_batch_end(&b);
	if (k < 0)
		return k;
	*ret_len = b.off;
	return 0;
}

int hb_net_nft_build_delete(const char *table, void *buf, size_t len,
			    uint32_t seq, size_t *ret_len)
{
	struct batch b = {.buf = buf, .len = len, .seq = seq};
	int k;

	if (!name_ok(table, NFT_TABLE_MAXNAMELEN))
		return -EINVAL;
	k = put_batch_begin(&b);
	if (k < 0)
		return k;
	k = put_table(&b, table, NFT_MSG_DELTABLE, 0, 0);
	if (k < 0)
		return k;
	k = put_batch_end(&b);
	if (k < 0)
		return k;
	*ret_len = b.off;
	return 0;
}

static int nl_open(struct mnl_socket **ret)
{
	struct mnl_socket *nl;
	int r;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(nl);
		return r;
	}
	*ret = nl;
	return 0;
}

/* How many messages of the batch ask for an acknowledgement; -EINVAL if
 * the batch is not a whole number of messages. */
static int acks_wanted(const void *batch, size_t len)
{
	const struct nlmsghdr *nlh = batch;
	int left = (int)len, n = 0;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		if (nlh->nlmsg_flags & NLM_F_ACK)
			n++;
	return left == 0 ? n : -EINVAL;
}

/* Count the acknowledgements in buf and keep the first error among them. */
static void note_acks(const void *buf, size_t len, int *acks, int *first)
{
	const struct nlmsghdr *nlh = buf;
	const struct nlmsgerr *e;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type != NLMSG_ERROR ||
		    mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
			continue;
		e = mnl_nlmsg_get_payload(nlh);
		(*acks)++;
		if (e->error < 0 && *first == 0)
			*first = e->error;
	}
}

/* The kernel handles a batch within sendmsg(), so every answer is queued
 * by the time it returns: read until all came or the queue is empty.  A
 * batch the kernel refuses as a whole is answered by one error only. */
static int read_acks(struct mnl_socket *nl, int wanted)
{
	char buf[RECV_MAX] __attribute__((aligned(8)));
	int acks = 0, first = 0;
	ssize_t n;

	while (acks < wanted) {
		n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return first < 0 ? first : -EPROTO;
		if (n < 0)
			return -errno;
		note_acks(buf, (size_t)n, &acks, &first);
	}
	return first;
}

struct mnl_socket *hb_net_nft_socket(void)
{
	struct mnl_socket *nl = NULL;
	int r = nl_open(&nl);

	if (r < 0)
		errno = -r;
	return nl;
}

int hb_net_nft_apply_on(struct mnl_socket *nl, const void *batch, size_t len)
{
	int wanted;

	if (len > INT_MAX)
		return -EMSGSIZE;
	wanted = acks_wanted(batch, len);
	if (wanted < 0)
		return wanted;
	if (mnl_socket_sendto(nl, batch, len) < 0)
		return -errno;
	return read_acks(nl, wanted);
}

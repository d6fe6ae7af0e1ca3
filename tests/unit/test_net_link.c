/* SPDX-License-Identifier: MIT */
/* netlink.c: every request is built into a buffer and parsed back
 * attribute by attribute; then, as root, a real veth pair joins two
 * network namespaces this test makes and a TCP connection crosses it. */
#include "net_link.h"
#include "util.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define GARBAGE 0xa5 /* what buffers hold before a builder writes */
#define MAX_TYPE 64
#define REQ (NLM_F_REQUEST | NLM_F_ACK)
#define NEW (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)

/* The attributes of one level, by type; each may appear once. */
struct attrs {
	const struct nlattr *tb[MAX_TYPE];
	int n;
};

static int collect(const struct nlattr *a, void *data)
{
	struct attrs *p = data;
	uint16_t type = mnl_attr_get_type(a);

	cr_assert_lt(type, MAX_TYPE, "unexpected attribute type %u", type);
	cr_assert_null(p->tb[type], "attribute %u appears twice", type);
	p->tb[type] = a;
	p->n++;
	return MNL_CB_OK;
}

static const struct nlmsghdr *expect_header(const void *buf, int len,
					    uint16_t type, uint16_t flags,
					    uint32_t seq)
{
	const struct nlmsghdr *nlh = buf;

	cr_assert_gt(len, 0, "builder failed: %s", strerror(-len));
	cr_assert(mnl_nlmsg_ok(nlh, len));
	cr_assert_eq(nlh->nlmsg_len, (uint32_t)len);
	cr_assert_eq(nlh->nlmsg_type, type);
	cr_assert_eq(nlh->nlmsg_flags, flags, "flags 0x%x, want 0x%x",
		     nlh->nlmsg_flags, flags);
	cr_assert_eq(nlh->nlmsg_seq, seq);
	cr_assert_eq(nlh->nlmsg_pid, 0);
	return nlh;
}

static void expect_str(const struct nlattr *a, const char *want)
{
	cr_assert_not_null(a, "attribute missing, want \"%s\"", want);
	cr_assert_eq(mnl_attr_validate(a, MNL_TYPE_NUL_STRING), 0);
	cr_assert_eq(mnl_attr_get_payload_len(a), strlen(want) + 1);
	cr_assert_str_eq(mnl_attr_get_str(a), want);
}

static void expect_u32(const struct nlattr *a, uint32_t want)
{
	cr_assert_not_null(a, "attribute missing, want %u", want);
	cr_assert_eq(mnl_attr_validate(a, MNL_TYPE_U32), 0);
	cr_assert_eq(mnl_attr_get_u32(a), want, "%u, want %u",
		     mnl_attr_get_u32(a), want);
}

/* An IPv4 address attribute, byte by byte: network order on the wire. */
static void expect_ipv4(const struct nlattr *a, const char *dotted)
{
	const unsigned char *got;
	struct in_addr want;

	cr_assert_eq(inet_pton(AF_INET, dotted, &want), 1);
	cr_assert_not_null(a, "attribute missing, want %s", dotted);
	cr_assert_eq(mnl_attr_validate(a, MNL_TYPE_U32), 0);
	got = mnl_attr_get_payload(a);
	cr_assert_eq(memcmp(got, &want, 4), 0, "%u.%u.%u.%u, want %s", got[0],
		     got[1], got[2], got[3], dotted);
}

static void expect_nest(const struct nlattr *a, uint16_t len)
{
	cr_assert_not_null(a, "nest missing");
	cr_assert_eq(mnl_attr_validate(a, MNL_TYPE_NESTED), 0);
	cr_assert_eq(a->nla_len, len, "nest of %u bytes, want %u", a->nla_len,
		     len);
}

static void expect_zero(const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		cr_assert_eq(b[i], 0, "byte %zu of a fixed header is 0x%x", i,
			     b[i]);
}

static void garbage(void *buf, size_t len)
{
	memset(buf, GARBAGE, len);
}

/* The builders, with fixed arguments, for the buffer-size sweep. */
static int build_veth(void *buf, size_t len)
{
	return hb_net_link_build_veth(buf, len, 42, "hb7h", "eth0", 9);
}

static int build_addr(void *buf, size_t len)
{
	return hb_net_link_build_addr(buf, len, 43, 5, inet_addr("10.251.0.29"),
				      30);
}

static int build_route(void *buf, size_t len)
{
	return hb_net_link_build_default_route(buf, len, 44, 3,
					       inet_addr("10.251.0.1"));
}

static int build_del(void *buf, size_t len)
{
	return hb_net_link_build_del_link(buf, len, 45, "hb7h");
}

Test(netlink_build, veth)
{
	struct attrs top = {0}, info = {0}, data = {0}, peer = {0};
	const struct nlmsghdr *nlh;
	const struct nlattr *pa;
	unsigned char buf[512];
	const char *payload;
	int len;

	garbage(buf, sizeof(buf));
	len = build_veth(buf, sizeof(buf));
	/* header 16 + ifinfomsg 16 + IFNAME "hb7h\0" 12 + LINKINFO 60, where
	 * LINKINFO = 4 + KIND "veth\0" 12 + DATA 44, DATA = 4 + PEER 40, and
	 * PEER = 4 + ifinfomsg 16 + IFNAME "eth0\0" 12 + NET_NS_FD 8. */
	cr_assert_eq(len, 104);
	nlh = expect_header(buf, len, RTM_NEWLINK, NEW, 42);
	expect_zero(mnl_nlmsg_get_payload(nlh), sizeof(struct ifinfomsg));
	cr_assert_eq(
		mnl_attr_parse(nlh, sizeof(struct ifinfomsg), collect, &top),
		MNL_CB_OK);
	cr_assert_eq(top.n, 2);
	expect_str(top.tb[IFLA_IFNAME], "hb7h");
	expect_nest(top.tb[IFLA_LINKINFO], 60);

	cr_assert_eq(
		mnl_attr_parse_nested(top.tb[IFLA_LINKINFO], collect, &info),
		MNL_CB_OK);
	cr_assert_eq(info.n, 2);
	expect_str(info.tb[IFLA_INFO_KIND], "veth");
	expect_nest(info.tb[IFLA_INFO_DATA], 44);

	cr_assert_eq(
		mnl_attr_parse_nested(info.tb[IFLA_INFO_DATA], collect, &data),
		MNL_CB_OK);
	cr_assert_eq(data.n, 1);
	pa = data.tb[VETH_INFO_PEER];
	cr_assert_not_null(pa);
	cr_assert_eq(pa->nla_len, 40);

	/* The peer's payload: an ifinfomsg, then its own attributes. */
	payload = mnl_attr_get_payload(pa);
	expect_zero(payload, sizeof(struct ifinfomsg));
	cr_assert_eq(mnl_attr_parse_payload(payload + sizeof(struct ifinfomsg),
					    mnl_attr_get_payload_len(pa) -
						    sizeof(struct ifinfomsg),
					    collect, &peer),
		     MNL_CB_OK);
	cr_assert_eq(peer.n, 2);
	expect_str(peer.tb[IFLA_IFNAME], "eth0");
	expect_u32(peer.tb[IFLA_NET_NS_FD], 9);
}

Test(netlink_build, addr)
{
	const struct nlmsghdr *nlh;
	const struct ifaddrmsg *ifa;
	struct attrs top = {0};
	unsigned char buf[512];
	int len;

	garbage(buf, sizeof(buf));
	len = build_addr(buf, sizeof(buf));
	/* header 16 + ifaddrmsg 8 + IFA_LOCAL 8 + IFA_ADDRESS 8 */
	cr_assert_eq(len, 40);
	nlh = expect_header(buf, len, RTM_NEWADDR, NEW, 43);
	ifa = mnl_nlmsg_get_payload(nlh);
	cr_assert_eq(ifa->ifa_family, AF_INET);
	cr_assert_eq(ifa->ifa_prefixlen, 30);
	cr_assert_eq(ifa->ifa_flags, 0);
	cr_assert_eq(ifa->ifa_scope, RT_SCOPE_UNIVERSE);
	cr_assert_eq(ifa->ifa_index, 5);
	cr_assert_eq(mnl_attr_parse(nlh, sizeof(*ifa), collect, &top),
		     MNL_CB_OK);
	cr_assert_eq(top.n, 2);
	expect_ipv4(top.tb[IFA_LOCAL], "10.251.0.29");
	expect_ipv4(top.tb[IFA_ADDRESS], "10.251.0.29");
}

Test(netlink_build, default_route)
{
	const struct nlmsghdr *nlh;
	const struct rtmsg *rtm;
	struct attrs top = {0};
	unsigned char buf[512];
	int len;

	garbage(buf, sizeof(buf));
	len = build_route(buf, sizeof(buf));
	/* header 16 + rtmsg 12 + RTA_GATEWAY 8 + RTA_OIF 8 */
	cr_assert_eq(len, 44);
	nlh = expect_header(buf, len, RTM_NEWROUTE, NEW, 44);
	rtm = mnl_nlmsg_get_payload(nlh);
	cr_assert_eq(rtm->rtm_family, AF_INET);
	cr_assert_eq(rtm->rtm_dst_len, 0);
	cr_assert_eq(rtm->rtm_src_len, 0);
	cr_assert_eq(rtm->rtm_tos, 0);
	cr_assert_eq(rtm->rtm_table, RT_TABLE_MAIN);
	cr_assert_eq(rtm->rtm_protocol, RTPROT_BOOT);
	cr_assert_eq(rtm->rtm_scope, RT_SCOPE_UNIVERSE);
	cr_assert_eq(rtm->rtm_type, RTN_UNICAST);
	cr_assert_eq(rtm->rtm_flags, 0);
	cr_assert_eq(mnl_attr_parse(nlh, sizeof(*rtm), collect, &top),
		     MNL_CB_OK);
	cr_assert_eq(top.n, 2);
	expect_ipv4(top.tb[RTA_GATEWAY], "10.251.0.1");
	expect_u32(top.tb[RTA_OIF], 3);
}

Test(netlink_build, del_link)
{
	const struct nlmsghdr *nlh;
	struct attrs top = {0};
	unsigned char buf[512];
	int len;

	garbage(buf, sizeof(buf));
	len = build_del(buf, sizeof(buf));
	/* header 16 + ifinfomsg 16 + IFNAME "hb7h\0" 12 */
	cr_assert_eq(len, 44);
	nlh = expect_header(buf, len, RTM_DELLINK, REQ, 45);
	/* ifi_index 0: the kernel looks the link up by name. */
	expect_zero(mnl_nlmsg_get_payload(nlh), sizeof(struct ifinfomsg));
	cr_assert_eq(
		mnl_attr_parse(nlh, sizeof(struct ifinfomsg), collect, &top),
		MNL_CB_OK);
	cr_assert_eq(top.n, 1);
	expect_str(top.tb[IFLA_IFNAME], "hb7h");
}

/* Every buffer shorter than the message is refused with -ENOBUFS, and
 * nothing is written past its end; the exact size is enough, and the
 * bytes do not depend on what the buffer held before (padding included). */
static void expect_enobufs_below(int (*build)(void *, size_t))
{
	unsigned char full[512], buf[512];
	int want;

	memset(full, ~GARBAGE & 0xff, sizeof(full));
	want = build(full, sizeof(full));

	cr_assert_gt(want, 0);
	for (int n = 0; n < want; n++) {
		garbage(buf, sizeof(buf));
		cr_assert_eq(build(buf, (size_t)n), -ENOBUFS,
			     "a %d-byte buffer for a %d-byte message", n, want);
		for (size_t i = (size_t)n; i < sizeof(buf); i++)
			cr_assert_eq(buf[i], GARBAGE,
				     "byte %zu written, buffer of %d", i, n);
	}
	garbage(buf, sizeof(buf));
	cr_assert_eq(build(buf, (size_t)want), want);
	cr_assert_eq(memcmp(buf, full, (size_t)want), 0);
}

Test(netlink_build, small_buffer_is_enobufs)
{
	expect_enobufs_below(build_veth);
	expect_enobufs_below(build_addr);
	expect_enobufs_below(build_route);
	expect_enobufs_below(build_del);
}

Test(netlink_build, bad_arguments)
{
	unsigned char buf[512];
	uint32_t ip = inet_addr("10.251.0.2");

	/* IFNAMSIZ - 1 = 15 characters fit, 16 do not. */
	cr_assert_gt(hb_net_link_build_veth(buf, sizeof(buf), 1,
					    "hb123456789012h", "eth0", 3),
		     0);
	cr_assert_eq(hb_net_link_build_veth(buf, sizeof(buf), 1,
					    "hb1234567890123h", "eth0", 3),
		     -EINVAL);
	cr_assert_eq(hb_net_link_build_veth(buf, sizeof(buf), 1, "hb0h",
					    "eth0123456789012", 3),
		     -EINVAL);
	cr_assert_eq(hb_net_link_build_veth(buf, sizeof(buf), 1, "", "eth0", 3),
		     -EINVAL);
	cr_assert_eq(
		hb_net_link_build_veth(buf, sizeof(buf), 1, NULL, "eth0", 3),
		-EINVAL);
	cr_assert_eq(
		hb_net_link_build_veth(buf, sizeof(buf), 1, "hb0h", "eth0", -1),
		-EINVAL);
	cr_assert_eq(hb_net_link_build_addr(buf, sizeof(buf), 1, 2, ip, 32),
		     40);
	cr_assert_eq(hb_net_link_build_addr(buf, sizeof(buf), 1, 2, ip, 33),
		     -EINVAL);
	cr_assert_eq(hb_net_link_build_addr(buf, sizeof(buf), 1, 0, ip, 30),
		     -EINVAL);
	cr_assert_eq(
		hb_net_link_build_default_route(buf, sizeof(buf), 1, 0, ip),
		-EINVAL);
	cr_assert_eq(hb_net_link_build_del_link(buf, sizeof(buf), 1,
						"hb1234567890123h"),
		     -EINVAL);
}

Test(netlink_request, malformed_message_is_refused_unsent)
{
	unsigned char buf[512];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	int len = build_del(buf, sizeof(buf));

	cr_assert_eq(hb_net_link_request(buf, MNL_NLMSG_HDRLEN - 1), -EINVAL);
	/* The length given must be the message's own. */
	cr_assert_eq(hb_net_link_request(buf, (size_t)len + 4), -EINVAL);
	cr_assert_eq(hb_net_link_request(buf, (size_t)len - 4), -EINVAL);
	/* Without NLM_F_ACK no answer would come to wait for. */
	nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	cr_assert_eq(hb_net_link_request(buf, (size_t)len), -EINVAL);
}

Test(netlink_ifindex, names)
{
	/* Loopback is registered first in every network namespace. */
	cr_assert_eq(hb_net_link_ifindex("lo"), 1);
	cr_assert_eq(hb_net_link_ifindex("hbnosuch0"), -ENODEV);
	cr_assert_eq(hb_net_link_ifindex("hb1234567890123h"), -EINVAL);
	cr_assert_eq(hb_net_link_ifindex(""), -EINVAL);
}

/* ---- A real pair between two namespaces of our own, as root. ---- */

#define HOST_NAME "hbt0h"
#define PEER_NAME "eth0"
#define HOST_IP "10.251.7.1"
#define SANDBOX_IP "10.251.7.2"
#define PORT 4242
#define WATCHDOG 20 /* seconds before a stuck child is killed */

/* What failed in each child, in memory the test process can read. */
struct report {
	char a[512]; /* the child in namespace A: the host side */
	char b[512]; /* the grandchild in namespace B: the sandbox */
};

static struct report *report;

static _printf_(2, 3) int failed(char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(where, sizeof(report->a), fmt, ap);
	va_end(ap);
	return 1;
}

static uint32_t addr_of(const char *dotted)
{
	return inet_addr(dotted);
}

static struct sockaddr_in sin_of(const char *dotted, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port)};

	sin.sin_addr.s_addr = addr_of(dotted);
	return sin;
}

static bool local_address_is(int fd, const char *dotted)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	return getsockname(fd, (struct sockaddr *)&sin, &len) == 0 &&
	       sin.sin_addr.s_addr == addr_of(dotted);
}

static void watchdog(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(WATCHDOG);
}

/* The sandbox's side: its address and route, then a TCP round trip. */
static int sandbox_talks(void)
{
	struct sockaddr_in host = sin_of(HOST_IP, PORT);
	struct sockaddr_in far = sin_of("192.0.2.1", 9);
	char reply[16] = "";
	int fd, r;

	if (hb_net_link_ifindex(PEER_NAME) <= 0)
		return failed(report->b, "%s did not arrive", PEER_NAME);
	/* The peer of the pair whose setup was rolled back went with it. */
	if (hb_net_link_ifindex("eth1") != -ENODEV)
		return failed(report->b, "rolled-back peer eth1 is still here");
	r = hb_net_link_sandbox_setup(PEER_NAME, addr_of(SANDBOX_IP), 30,
				      addr_of(HOST_IP));
	if (r < 0)
		return failed(report->b, "sandbox_setup: %s", strerror(-r));
	r = hb_net_link_sandbox_setup(PEER_NAME, addr_of(SANDBOX_IP), 30,
				      addr_of(HOST_IP));
	if (r != -EEXIST)
		return failed(report->b, "second sandbox_setup: %d", r);
	/* The default route, by a route lookup only: connecting a UDP socket
	 * sends nothing.  192.0.2.1 (TEST-NET-1) is outside the /30. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&far, sizeof(far)) < 0)
		return failed(report->b, "no default route: %s",
			      strerror(errno));
	if (!local_address_is(fd, SANDBOX_IP))
		return failed(report->b, "default route not from %s",
			      SANDBOX_IP);
	close(fd);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&host, sizeof(host)) < 0)
		return failed(report->b, "connect to %s: %s", HOST_IP,
			      strerror(errno));
	if (!local_address_is(fd, SANDBOX_IP))
		return failed(report->b, "connected from another address");
	if (write(fd, "ping", 4) != 4 || read(fd, reply, 4) != 4 ||
	    strcmp(reply, "pong") != 0)
		return failed(report->b, "no pong: \"%s\" %s", reply,
			      strerror(errno));
	close(fd);
	return 0;
}

/* Namespace B: wait for the pair, talk across it, then wait for the host
 * end to be deleted and see that the peer went with it. */
static int namespace_b(int ready, int go)
{
	char c;
	int r;

	watchdog();
	if (unshare(CLONE_NEWNET) < 0)
		return failed(report->b, "unshare: %s", strerror(errno));
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		return failed(report->b, "namespace A went away");
	r = sandbox_talks();
	if (r)
		return r;
	if (write(ready, "t", 1) != 1 || read(go, &c, 1) != 1)
		return failed(report->b, "namespace A went away");
	if (hb_net_link_ifindex(PEER_NAME) != -ENODEV)
		return failed(report->b, "%s outlived the host end", PEER_NAME);
	return 0;
}

/* A listener on the host end; accept one connection from the sandbox's
 * address and answer its ping. */
static int host_serves(int lfd)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	char msg[8] = "";
	int fd;

	if (poll(&p, 1, 10000) != 1)
		return failed(report->a, "no connection came");
	fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
	if (fd < 0)
		return failed(report->a, "accept: %s", strerror(errno));
	if (peer.sin_addr.s_addr != addr_of(SANDBOX_IP))
		return failed(report->a, "connection from %s",
			      inet_ntoa(peer.sin_addr));
	if (read(fd, msg, 4) != 4 || strcmp(msg, "ping") != 0 ||
	    write(fd, "pong", 4) != 4)
		return failed(report->a, "no ping: \"%s\"", msg);
	close(fd);
	return 0;
}

static int listen_on_host_end(void)
{
	struct sockaddr_in sin = sin_of(HOST_IP, PORT);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 1) < 0)
		return -errno;
	return fd;
}

/* With namespace B waiting: build the pair and try its failure paths. */
static int host_builds(pid_t b)
{
	int r;

	r = hb_net_link_veth_setup(HOST_NAME, PEER_NAME, b, addr_of(HOST_IP),
				   30);
	if (r < 0)
		return failed(report->a, "veth_setup: %s", strerror(-r));
	if (hb_net_link_ifindex(HOST_NAME) <= 0 ||
	    hb_net_link_ifindex(PEER_NAME) != -ENODEV)
		return failed(report->a, "the peer stayed in namespace A");
	r = hb_net_link_veth_setup(HOST_NAME, "eth9", b, addr_of(HOST_IP), 30);
	if (r != -EEXIST)
		return failed(report->a, "same name twice: %d", r);
	/* Failing after the pair exists (prefix 33 cannot be addressed)
	 * removes the pair again. */
	r = hb_net_link_veth_setup("hbt1h", "eth1", b, addr_of("10.251.8.1"),
				   33);
	if (r != -EINVAL || hb_net_link_ifindex("hbt1h") != -ENODEV)
		return failed(report->a, "no rollback: %d", r);
	return 0;
}

/* Delete the pair while B still lives: once B's namespace is gone, the
 * kernel removes both ends by itself (asynchronously). */
static int host_removes(void)
{
	int r = hb_net_link_del_link(HOST_NAME);

	if (r < 0 || hb_net_link_ifindex(HOST_NAME) != -ENODEV)
		return failed(report->a, "del_link: %s", strerror(-r));
	r = hb_net_link_del_link(HOST_NAME);
	return r == -ENODEV ? 0 : failed(report->a, "second del_link: %d", r);
}

static int host_side(pid_t *b, int ready, int go)
{
	int r, lfd, status;
	char c;

	r = host_builds(*b);
	if (r)
		return r;
	lfd = listen_on_host_end();
	if (lfd < 0)
		return failed(report->a, "listen: %s", strerror(-lfd));
	if (write(go, "g", 1) != 1)
		return failed(report->a, "namespace B went away");
	r = host_serves(lfd);
	close(lfd);
	if (r)
		return r;
	if (read(ready, &c, 1) != 1)
		return failed(report->a, "namespace B failed after talking");
	r = host_removes();
	if (r)
		return r;
	if (write(go, "d", 1) != 1 || waitpid(*b, &status, 0) != *b)
		return failed(report->a, "namespace B went away");
	*b = 0; /* reaped: its pid is no longer ours to kill */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return failed(report->a, "namespace B failed (0x%x)", status);
	return 0;
}

static int namespace_a(void)
{
	int ready[2], go[2], r;
	pid_t b;
	char c;

	watchdog();
	if (unshare(CLONE_NEWNET) < 0)
		return failed(report->a, "unshare: %s", strerror(errno));
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		return failed(report->a, "pipe: %s", strerror(errno));
	b = fork();
	if (b < 0)
		return failed(report->a, "fork: %s", strerror(errno));
	if (b == 0)
		_exit(namespace_b(ready[1], go[0]));
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1)
		r = failed(report->a, "namespace B was not made");
	else
		r = host_side(&b, ready[0], go[1]);
	/* On failure B may still wait; with both gone, so are A, B, and
	 * everything in them. */
	if (b > 0) {
		kill(b, SIGKILL);
		waitpid(b, NULL, 0);
	}
	return r;
}

/* cppcheck-suppress unknownMacro */
Test(netlink_real, veth_between_two_namespaces, .timeout = 60)
{
	pid_t a;
	int status;

	if (geteuid() != 0)
		cr_skip_test(
			"creating network namespaces and veths needs root");
	report = mmap(NULL, sizeof(*report), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(report, MAP_FAILED);
	a = fork();
	cr_assert_geq(a, 0);
	if (a == 0)
		_exit(namespace_a());
	cr_assert_eq(waitpid(a, &status, 0), a);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "status 0x%x; host side: %s; sandbox side: %s", status,
		  report->a, report->b);
	/* The test's own namespace never saw the pair. */
	cr_assert_eq(hb_net_link_ifindex(HOST_NAME), -ENODEV);
	munmap(report, sizeof(*report));
}

Test(netlink_build, addrgenmode_none)
{
	const struct nlmsghdr *nlh;
	const struct ifinfomsg *ifm;
	const struct nlattr *spec, *inet6, *mode;
	unsigned char buf[512];
	int len;

	garbage(buf, sizeof(buf));
	len = hb_net_link_build_addrgenmode_none(buf, sizeof(buf), 44, 5);
	cr_assert_gt(len, 0);
	nlh = expect_header(buf, len, RTM_NEWLINK, REQ, 44);
	ifm = mnl_nlmsg_get_payload(nlh);
	cr_assert_eq(ifm->ifi_index, 5);
	cr_assert_eq(ifm->ifi_change, 0, "changes no flag");
	spec = mnl_nlmsg_get_payload_offset(nlh, sizeof(*ifm));
	cr_assert_eq(mnl_attr_get_type(spec), IFLA_AF_SPEC);
	inet6 = mnl_attr_get_payload(spec);
	cr_assert_eq(mnl_attr_get_type(inet6), AF_INET6);
	mode = mnl_attr_get_payload(inet6);
	cr_assert_eq(mnl_attr_get_type(mode), IFLA_INET6_ADDR_GEN_MODE);
	cr_assert_eq(mnl_attr_get_u8(mode), IN6_ADDR_GEN_MODE_NONE);
	cr_assert_eq(hb_net_link_build_addrgenmode_none(buf, 20, 1, 5),
		     -ENOBUFS);
	cr_assert_eq(hb_net_link_build_addrgenmode_none(buf, sizeof(buf), 1, 0),
		     -EINVAL);
}

Test(netlink_build, addr6_link_local_without_dad)
{
	static const uint8_t ll[16] = {0xfe, 0x80, [15] = 2};
	const struct nlmsghdr *nlh;
	const struct ifaddrmsg *ifa;
	struct attrs top = {0};
	unsigned char buf[512];
	int len;

	garbage(buf, sizeof(buf));
	len = hb_net_link_build_addr6(buf, sizeof(buf), 45, 5, ll, 64);
	cr_assert_gt(len, 0);
	nlh = expect_header(buf, len, RTM_NEWADDR, NEW, 45);
	ifa = mnl_nlmsg_get_payload(nlh);
	cr_assert_eq(ifa->ifa_family, AF_INET6);
	cr_assert_eq(ifa->ifa_prefixlen, 64);
	cr_assert_eq(ifa->ifa_scope, RT_SCOPE_LINK);
	cr_assert_eq(ifa->ifa_index, 5);
	cr_assert_eq(mnl_attr_parse(nlh, sizeof(*ifa), collect, &top),
		     MNL_CB_OK);
	cr_assert_eq(mnl_attr_get_payload_len(top.tb[IFA_LOCAL]), 16);
	cr_assert_eq(memcmp(mnl_attr_get_payload(top.tb[IFA_LOCAL]), ll, 16),
		     0);
	cr_assert_eq(mnl_attr_get_u32(top.tb[IFA_FLAGS]), IFA_F_NODAD);
	cr_assert_eq(hb_net_link_build_addr6(buf, sizeof(buf), 1, 5, ll, 129),
		     -EINVAL);
}

Test(netlink_build, default_route6)
{
	static const uint8_t gw[16] = {0xfe, 0x80, [15] = 1};
	const struct nlmsghdr *nlh;
	const struct rtmsg *rtm;
	struct attrs top = {0};
	unsigned char buf[512];
	int len;

	garbage(buf, sizeof(buf));
	len = hb_net_link_build_default_route6(buf, sizeof(buf), 46, 5, gw);
	cr_assert_gt(len, 0);
	nlh = expect_header(buf, len, RTM_NEWROUTE, NEW, 46);
	rtm = mnl_nlmsg_get_payload(nlh);
	cr_assert_eq(rtm->rtm_family, AF_INET6);
	cr_assert_eq(rtm->rtm_dst_len, 0);
	cr_assert_eq(rtm->rtm_table, RT_TABLE_MAIN);
	cr_assert_eq(mnl_attr_parse(nlh, sizeof(*rtm), collect, &top),
		     MNL_CB_OK);
	cr_assert_eq(memcmp(mnl_attr_get_payload(top.tb[RTA_GATEWAY]), gw, 16),
		     0);
	cr_assert_eq(mnl_attr_get_u32(top.tb[RTA_OIF]), 5);
}

Test(netlink_build, link_up)
{
	const struct nlmsghdr *nlh;
	const struct ifinfomsg *ifm;
	unsigned char buf[512];
	int len;

	garbage(buf, sizeof(buf));
	len = hb_net_link_build_link_up(buf, sizeof(buf), 1, 47);
	/* header 16 + ifinfomsg 16, no attributes */
	cr_assert_eq(len, 32);
	nlh = expect_header(buf, len, RTM_NEWLINK, REQ, 47);
	ifm = mnl_nlmsg_get_payload(nlh);
	cr_assert_eq(ifm->ifi_family, AF_UNSPEC);
	cr_assert_eq(ifm->ifi_index, 1);
	cr_assert_eq(ifm->ifi_flags, IFF_UP);
	cr_assert_eq(ifm->ifi_change, IFF_UP, "changes that flag only");
	cr_assert_eq(hb_net_link_build_link_up(buf, 31, 1, 1), -ENOBUFS);
	cr_assert_eq(hb_net_link_build_link_up(buf, sizeof(buf), 0, 1),
		     -EINVAL);
}

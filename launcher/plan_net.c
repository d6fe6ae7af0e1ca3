/* SPDX-License-Identifier: MIT */
/* The network part of the plan, for mode = filtered: allowed_domains
 * resolved at start, the ports, and the files that follow from them
 * (/etc/hosts, resolv.conf, the nsswitch.conf hosts line). */
#include "plan_internal.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>

static bool has_port(const uint16_t *ports, size_t n, uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}

static bool has_ip(const uint32_t *ips, size_t n, uint32_t ip)
{
	for (size_t i = 0; i < n; i++)
		if (ips[i] == ip)
			return true;
	return false;
}

static struct hb_mount *find_mount(struct hb_plan *plan, const char *target)
{
	for (size_t i = 0; i < plan->n_mounts; i++)
		if (strcmp(plan->mounts[i].target, target) == 0)
			return &plan->mounts[i];
	return NULL;
}

/* Ports as numbers, each once; the policy checked their range. */
static int parse_ports(const struct hb_strv *list, uint16_t **ret, size_t *n)
{
	*n = 0;
	*ret = calloc(list->n + 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	for (size_t i = 0; i < list->n; i++) {
		unsigned long long v = 0;
		(void)hb_parse_u64(list->v[i], 65535, &v);
		if (!has_port(*ret, *n, (uint16_t)v))
			(*ret)[(*n)++] = (uint16_t)v;
	}
	return 0;
}

/* Append ip to the list unless it is there already. */
static int add_once(uint32_t **ips, size_t *n, uint32_t ip)
{
	uint32_t *v;

	if (has_ip(*ips, *n, ip))
		return 0;
	v = realloc(*ips, (*n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	*ips = v;
	v[(*n)++] = ip;
	return 0;
}

static int add_ip(struct hb_net_plan *net, struct hb_net_name *name,
		  uint32_t ip)
{
	uint8_t first = (uint8_t)(ntohl(ip) >> 24);
	int r;

	/* Inside, loopback is the sandbox's own; the rest reach no host. */
	if (first == 0 || first == 127 || first >= 224)
		return -EDESTADDRREQ;
	r = add_once(&name->ips, &name->n_ips, ip);
	return r < 0 ? r : add_once(&net->ips, &net->n_ips, ip);
}

/* A name's IPv4 addresses, by the host's resolver, now: the sandbox
 * reaches what the name meant when the run started. */
static int resolve(struct hb_net_plan *net, struct hb_net_name *n,
		   const struct hb_policy *p, struct hb_diag *diag)
{
	struct addrinfo hints = {.ai_family = AF_INET,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	struct in_addr a;
	int r;

	if (inet_pton(AF_INET, n->name, &a) == 1) {
		n->literal = true;
		r = add_ip(net, n, a.s_addr);
		goto out;
	}
	r = getaddrinfo(n->name, NULL, &hints, &res);
	if (r != 0)
		return hb_diag_set(diag, hb_policy_origin(p, HB_K_NET_DOMAINS),
				   p->origin[HB_K_NET_DOMAINS].line,
				   "allowed_domains: cannot resolve '%s' to an "
				   "IPv4 address: %s",
				   n->name,
				   r == EAI_SYSTEM ? strerror(errno)
						   : gai_strerror(r));
	for (struct addrinfo *ai = res; ai && r == 0; ai = ai->ai_next) {
		a = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		r = add_ip(net, n, a.s_addr);
	}
	freeaddrinfo(res);
out:
	if (r == -EDESTADDRREQ) {
		char text[INET_ADDRSTRLEN];
		return hb_diag_set(
			diag, hb_policy_origin(p, HB_K_NET_DOMAINS),
			p->origin[HB_K_NET_DOMAINS].line,
			"allowed_domains: '%s' is %s, a loopback, unspecified, "
			"multicast or broadcast address, which leads to no "
			"host from inside the sandbox",
			n->name, inet_ntop(AF_INET, &a, text, sizeof(text)));
	}
	return r;
}

/* The sandbox's /etc/hosts: the built-in one, then every allowed name
 * with the addresses it had at start.  Nothing else resolves inside. */
static int plan_hosts(struct hb_plan *plan)
{
	struct hb_mount *m = find_mount(plan, "/etc/hosts");
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!m)
		return -ENOENT;
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fputs(m->data, f);
	fputs("# allowed_domains, resolved by hivebox at start\n", f);
	for (size_t i = 0; i < plan->net.n_names; i++) {
		const struct hb_net_name *n = &plan->net.names[i];
		char a[INET_ADDRSTRLEN];
		for (size_t j = 0; !n->literal && j < n->n_ips; j++)
			fprintf(f, "%s\t%s\n",
				inet_ntop(AF_INET, &n->ips[j], a, sizeof(a)),
				n->name);
	}
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	free(m->data);
	m->data = text;
	return 0;
}

#define HB_RESOLV_CONF "/etc/resolv.conf"

/* A resolver only where the policy allows one: each IPv4 nameserver of
 * the host's resolv.conf that is an allowed destination, with port 53
 * allowed and not blocked.  (A loopback one, such as systemd-resolved's
 * 127.0.0.53, can never be: inside, loopback is the sandbox's own.) */
static int plan_resolver(struct hb_plan *plan)
{
	struct hb_net_plan *net = &plan->net;
	_cleanup_fclose_ FILE *f = NULL;
	char line[256], text[256] = "", *nss, *hosts, *eol;
	struct hb_mount *m;
	size_t len = 0;

	if (!has_port(net->ports, net->n_ports, 53) ||
	    has_port(net->blocked, net->n_blocked, 53))
		return 0;
	f = fopen(HB_RESOLV_CONF, "re");
	while (f && fgets(line, sizeof(line), f) &&
	       net->n_nameservers < ARRAY_SIZE(net->nameservers)) {
		char addr[INET_ADDRSTRLEN + 1];
		struct in_addr a;
		if (sscanf(line, " nameserver %16s", addr) != 1 ||
		    inet_pton(AF_INET, addr, &a) != 1 ||
		    !has_ip(net->ips, net->n_ips, a.s_addr))
			continue;
		net->nameservers[net->n_nameservers++] = a.s_addr;
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"nameserver %s\n", addr);
	}
	if (!net->n_nameservers)
		return 0;
	/* The built-in nsswitch.conf, with dns after files for hosts. */
	m = find_mount(plan, "/etc/nsswitch.conf");
	hosts = m ? strstr(m->data, "hosts:") : NULL;
	if (!hosts)
		return -ENOENT;
	eol = hosts + strcspn(hosts, "\n");
	if (asprintf(&nss, "%.*s dns%s", (int)(eol - m->data), m->data, eol) <
	    0)
		return -ENOMEM;
	free(m->data);
	m->data = nss;
	return hb_plan_add_file(plan, HB_RESOLV_CONF, text, "network");
}

int hb_plan_network(struct hb_plan *plan, const struct hb_policy *p,
		    const struct hb_invocation *inv, struct hb_diag *diag)
{
	struct hb_net_plan *net = &plan->net;
	int r;

	if (p->network_mode != HB_NET_FILTERED)
		return 0;
	/* Never a silent fallback to no network, or to an unfiltered one. */
	if (!plan->privileged)
		return hb_diag_set(
			diag, hb_policy_origin(p, HB_K_NETWORK_MODE),
			p->origin[HB_K_NETWORK_MODE].line,
			"mode = filtered needs hivebox to be started "
			"as root: its filter lives on the host");
	if (!inv->config)
		return -EINVAL;
	net->filtered = true;
	net->config = inv->config;
	r = parse_ports(&p->allowed_ports, &net->ports, &net->n_ports);
	if (r == 0)
		r = parse_ports(&p->blocked_ports, &net->blocked,
				&net->n_blocked);
	if (r < 0)
		return r;
	net->names = calloc(p->allowed_domains.n + 1, sizeof(*net->names));
	if (!net->names)
		return -ENOMEM;
	for (size_t i = 0; i < p->allowed_domains.n; i++) {
		struct hb_net_name *n = &net->names[net->n_names++];
		n->name = strdup(p->allowed_domains.v[i]);
		if (!n->name)
			return -ENOMEM;
		r = resolve(net, n, p, diag);
		if (r < 0)
			return r;
	}
	r = plan_resolver(plan);
	return r < 0 ? r : plan_hosts(plan);
}

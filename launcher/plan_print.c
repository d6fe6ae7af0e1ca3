/* SPDX-License-Identifier: MIT */
/* --dry-run: the plan, printed for a person to read. */
#include "plan.h"

#include <arpa/inet.h>
#include <string.h>

const char *hb_mount_kind_name(enum hb_mount_kind kind)
{
	static const char *const names[] = {"bind",    "tmpfs", "proc",
					    "symlink", "file",	"dir"};
	return kind < ARRAY_SIZE(names) ? names[kind] : "?";
}

static void print_attrs(unsigned attrs, FILE *out)
{
	fputs(attrs & HB_ATTR_RDONLY ? "ro" : "rw", out);
	if (attrs & HB_ATTR_NOSUID)
		fputs(",nosuid", out);
	if (attrs & HB_ATTR_NODEV)
		fputs(",nodev", out);
	if (attrs & HB_ATTR_NOEXEC)
		fputs(",noexec", out);
}

static void print_mount(const struct hb_mount *m, FILE *out)
{
	fprintf(out, "  %-8s %-48s ", hb_mount_kind_name(m->kind), m->target);
	switch (m->kind) {
	case HB_MNT_BIND:
		print_attrs(m->attrs, out);
		fprintf(out, " from %s", m->source);
		if (m->idmap)
			fprintf(out, ", idmapped as its owner, uid %u gid %u",
				(unsigned)m->owner_uid, (unsigned)m->owner_gid);
		break;
	case HB_MNT_TMPFS:
	case HB_MNT_PROC:
		print_attrs(m->attrs, out);
		fprintf(out, " %s", m->data);
		break;
	case HB_MNT_SYMLINK:
		fprintf(out, "-> %s", m->data);
		break;
	case HB_MNT_FILE:
		fprintf(out, "%zu bytes", strlen(m->data));
		break;
	case HB_MNT_DIR:
		break;
	}
	fprintf(out, "  (%s)\n", m->why);
}

static void print_ports(const uint16_t *ports, size_t n, FILE *out)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%u", i ? ", " : "", ports[i]);
	if (!n)
		fputs("(none)", out);
	fputc('\n', out);
}

static void print_network(const struct hb_net_plan *net, FILE *out)
{
	char a[INET_ADDRSTRLEN];

	if (!net->filtered) {
		fputs("network: none (loopback only)\n", out);
		return;
	}
	fprintf(out,
		"network: filtered; eth0 gets a /30 of pool %s (%s), taken "
		"when the run starts\n",
		net->config->pool_text,
		net->config->path ? net->config->path : "built-in default");
	fputs("  allowed destinations (resolved now):\n", out);
	for (size_t i = 0; i < net->n_names; i++) {
		const struct hb_net_name *n = &net->names[i];
		fprintf(out, "    %s", n->name);
		for (size_t j = 0; !n->literal && j < n->n_ips; j++)
			fprintf(out, "%s%s", j ? ", " : " -> ",
				inet_ntop(AF_INET, &n->ips[j], a, sizeof(a)));
		fputc('\n', out);
	}
	if (!net->n_names)
		fputs("    (none: every attempt is rejected and logged)\n",
		      out);
	fputs("  resolver: ", out);
	for (size_t i = 0; i < net->n_nameservers; i++)
		fprintf(out, "%s%s", i ? ", " : "nameserver ",
			inet_ntop(AF_INET, &net->nameservers[i], a, sizeof(a)));
	fputs(net->n_nameservers ? " (the host's, allowed on port 53)\n"
				 : "none (only the names above resolve)\n",
	      out);
	fputs("  allowed ports (tcp, udp): ", out);
	print_ports(net->ports, net->n_ports, out);
	fputs("  blocked ports (win over allowed): ", out);
	print_ports(net->blocked, net->n_blocked, out);
	fputs("  host-side rules (nftables table hivebox_<slot>, on the host "
	      "end H of the veth):\n"
	      "    from the sandbox: a new tcp/udp connection to an allowed "
	      "address and port, and\n"
	      "      the replies of those, pass (masqueraded); everything "
	      "else is logged and\n"
	      "      rejected: other ports, icmp, other addresses, the "
	      "host's own services\n"
	      "    ipv6: logged and dropped before routing\n"
	      "    towards the sandbox: only replies; nothing may open a "
	      "connection to it\n",
	      out);
}

/* The IPC namespace's bounds, or why there are none. */
static void print_ipc(const struct hb_plan *plan, FILE *out)
{
	if (!plan->n_ipc) {
		fputs("ipc namespace: the kernel's limits (unprivileged: only "
		      "its root may lower them); what it holds counts toward "
		      "memory_mb\n",
		      out);
		return;
	}
	fputs("ipc namespace (in proportion to memory_mb; what it holds "
	      "counts toward it):\n",
	      out);
	for (size_t i = 0; i < plan->n_ipc; i++)
		fprintf(out, "  %-14s %s\n", plan->ipc[i].name,
			plan->ipc[i].value);
}

/* The host uid of auto is only taken when the run starts: a dry run
 * says so rather than show a number the run would not use. */
static void print_ids(const struct hb_plan *plan, FILE *out)
{
	if (!plan->privileged)
		fprintf(out,
			"id map: uid %u -> host %u, gid %u -> host %u "
			"(unprivileged: caller's own ids)\n",
			plan->inside_uid, plan->host_uid, plan->inside_gid,
			plan->host_gid);
	else if (plan->host_uid_at_start)
		fprintf(out,
			"id map: uid %u -> host uid allocated at start (one "
			"of %u-%u that no other running sandbox holds), gid "
			"%u -> the same number\n",
			plan->inside_uid, HB_UID_BASE,
			HB_UID_BASE + HB_UID_RANGE - 1, plan->inside_gid);
	else
		fprintf(out,
			"id map: uid %u -> host %u, gid %u -> host %u "
			"(host_uid: every run of this policy shares it)\n",
			plan->inside_uid, plan->host_uid, plan->inside_gid,
			plan->host_gid);
	if (plan->privileged)
		fputs("listed paths and the script: idmapped mounts, on which "
		      "the sandbox acts as each one's owner\n",
		      out);
}

static void print_quota(const struct hb_plan *plan, FILE *out)
{
	if (!hb_plan_has_quota(plan)) {
		fputs("write quota: none\n", out);
		return;
	}
	fputs("write quota: what the read_write paths gain, at most", out);
	if (plan->quota_bytes)
		fprintf(out, " %llu MiB", plan->quota_bytes >> 20);
	if (plan->quota_bytes && plan->quota_files)
		fputs(" and", out);
	if (plan->quota_files)
		fprintf(out, " %llu files created", plan->quota_files);
	fputs(" (fanotify)\n", out);
}

void hb_plan_print(const struct hb_plan *plan, FILE *out)
{
	fprintf(out, "policy: %s\n", plan->policy->path);
	fprintf(out, "namespaces: user mount pid network(%s) ipc uts cgroup\n",
		plan->net.filtered ? "lo, eth0 filtered" : "lo only");
	print_ids(plan, out);
	fprintf(out, "hostname: %s\n", plan->hostname);
	fprintf(out, "start directory: %s\n", plan->cwd);
	fputs("command:", out);
	for (size_t i = 0; i < plan->argv.n; i++)
		fprintf(out, " %s", plan->argv.v[i]);
	fputs("\nenvironment:\n", out);
	for (size_t i = 0; i < plan->env.n; i++)
		fprintf(out, "  %s\n", plan->env.v[i]);
	fprintf(out, "timeout: %llu ms, then SIGTERM, SIGKILL after %llu ms\n",
		plan->timeout_ms, plan->grace_ms);
	fputs("rlimits:\n", out);
	for (size_t i = 0; i < plan->n_rlimits; i++)
		fprintf(out, "  %-7s soft %llu hard %llu\n",
			plan->rlimits[i].name,
			(unsigned long long)plan->rlimits[i].soft,
			(unsigned long long)plan->rlimits[i].hard);
	print_ipc(plan, out);
	print_quota(plan, out);
	fputs("capabilities: none (all sets empty, securebits locked, "
	      "no_new_privs)\n",
	      out);
	hb_filter_print(plan->policy, &plan->filter, out);
	print_network(&plan->net, out);
	fprintf(out, "mounts (%zu, in order; root is a read-only tmpfs):\n",
		plan->n_mounts);
	for (size_t i = 0; i < plan->n_mounts; i++)
		print_mount(&plan->mounts[i], out);
}

/* SPDX-License-Identifier: MIT */
/* hivebox doctor: what the kernel offers.  Every feature is tried, not
 * inferred from a version: a user namespace is made, a network namespace
 * of doctor's own gets a veth pair and an nftables listing and is thrown
 * away with the child that made it, a clone of each path is idmapped and
 * dropped.  Nothing is left on the host. */
#include "doctor.h"
#include "ids.h"
#include "mountinfo.h"
#include "net_link.h"
#include "net_nft.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/landlock.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

/* A sysctl's value, or -1 where the kernel has no such file. */
static long sysctl_value(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Run fn in a child and return what it returned (an errno, 0 on
 * success): what it changes about itself (namespaces) dies with it. */
static int in_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(fn(arg) & 0xff);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

static int new_userns(void *arg)
{
	(void)arg;
	return unshare(CLONE_NEWUSER) < 0 ? errno : 0;
}

static void check_userns(struct hb_doctor *d)
{
	long clone = sysctl_value("/proc/sys/kernel/unprivileged_userns_clone");
	long max = sysctl_value("/proc/sys/user/max_user_namespaces");
	long aa = sysctl_value(
		"/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
	int err = in_child(new_userns, NULL);
	bool unpriv = clone != 0 && aa != 1 && max != 0;
	struct hb_doctor_row *row;

	row = hb_doctor_add(
		d, "user namespaces",
		err	  ? HB_VERDICT_FAIL
		: !unpriv ? HB_VERDICT_WARN
			  : HB_VERDICT_OK,
		true,
		"%s; unprivileged_userns_clone=%ld, max_user_namespaces=%ld, "
		"apparmor_restrict_unprivileged_userns=%ld (-1: no such "
		"sysctl)",
		err ? strerror(err) : "a new one was made", clone, max, aa);
	if (err) {
		hb_doctor_fix(row, "sysctl -w user.max_user_namespaces=15000");
		hb_doctor_without(row, "nothing: every run needs one");
	} else if (!unpriv) {
		hb_doctor_fix(row, "%s",
			      aa == 1 ? "sysctl -w "
					"kernel.apparmor_restrict_unprivileged_"
					"userns=0"
				      : "sysctl -w "
					"kernel.unprivileged_userns_clone=1");
		hb_doctor_without(row, "root runs; callers other than root "
				       "cannot");
	}
}

static void check_seccomp(struct hb_doctor *d)
{
	unsigned action = SECCOMP_RET_USER_NOTIF;
	struct seccomp_notif_sizes sizes;
	int err = 0;
	struct hb_doctor_row *row;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		err = errno;
	row = hb_doctor_add(d, "seccomp user notification",
			    err ? HB_VERDICT_FAIL : HB_VERDICT_OK, true, "%s",
			    err ? strerror(err) : "available");
	hb_doctor_fix(row, "a kernel built with CONFIG_SECCOMP_FILTER, 5.5 "
			   "or later");
	hb_doctor_without(row, "nothing: denied calls are logged through it");
}

static void check_landlock(struct hb_doctor *d)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);
	struct hb_doctor_row *row;

	if (abi > 0) {
		hb_doctor_add(d, "Landlock", HB_VERDICT_OK, false,
			      "ABI %ld (hivebox does not use it yet)", abi);
		return;
	}
	row = hb_doctor_add(d, "Landlock", HB_VERDICT_WARN, false,
			    "not available: %s (hivebox does not use it yet)",
			    strerror(errno));
	hb_doctor_fix(row, "boot with landlock in lsm=");
}

/* List the tables of doctor's own network namespace: 0 or an errno. */
static int nft_list(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = hb_net_nft_socket();
	struct nlmsghdr *nlh;
	uint32_t seq = 1, portid;
	int r = 0;

	if (!nl)
		return errno;
	portid = mnl_socket_get_portid(nl);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_UNSPEC,
				    NLM_F_DUMP, seq);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		r = errno;
	while (r == 0) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		int cb;

		if (n < 0) {
			r = errno;
			break;
		}
		cb = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
		if (cb < 0)
			r = errno;
		if (cb <= MNL_CB_STOP)
			break;
	}
	mnl_socket_close(nl);
	return r;
}

static int veth_make(void)
{
	char buf[1024];
	_cleanup_close_ int ns =
		open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int len;

	if (ns < 0)
		return errno;
	len = hb_net_link_build_veth(buf, sizeof(buf), 1, "hbdoctor0",
				     "hbdoctor1", ns);
	if (len < 0)
		return -len;
	len = hb_net_link_request(buf, (size_t)len);
	return len < 0 ? -len : 0;
}

/* In a network namespace of its own: the two results through a pipe. */
static int net_probe(void *arg)
{
	int *fd = arg, res[2] = {EINVAL, EINVAL};

	if (unshare(CLONE_NEWNET) < 0) {
		res[0] = res[1] = errno;
	} else {
		res[0] = nft_list();
		res[1] = veth_make();
	}
	return write(*fd, res, sizeof(res)) == sizeof(res) ? 0 : EIO;
}

static void net_row(struct hb_doctor *d, const char *name, int err,
		    const char *fix)
{
	struct hb_doctor_row *row;

	row = hb_doctor_add(d, name, err ? HB_VERDICT_FAIL : HB_VERDICT_OK,
			    false,
			    "%s (tried in a network namespace of "
			    "doctor's own)",
			    err ? strerror(err) : "works");
	hb_doctor_fix(row, "%s", fix);
	hb_doctor_without(row, "[network] mode = none runs (strict.ini's); "
			       "mode = filtered is refused");
}

static void check_net(struct hb_doctor *d)
{
	int p[2], res[2] = {EIO, EIO}, err;

	/* Filtered networks are root's alone: nothing to try for others. */
	if (geteuid() != 0) {
		hb_doctor_fix(hb_doctor_add(d, "nftables and veth",
					    HB_VERDICT_WARN, false,
					    "not tried: only root runs have "
					    "filtered networks"),
			      "run hivebox doctor as root");
		return;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		res[0] = res[1] = errno;
	} else {
		err = in_child(net_probe, &p[1]);
		if (err || read(p[0], res, sizeof(res)) != sizeof(res))
			res[0] = res[1] = err ? err : EIO;
		close(p[0]);
		close(p[1]);
	}
	net_row(d, "nftables over netlink", res[0],
		"modprobe nf_tables (CONFIG_NF_TABLES)");
	net_row(d, "veth", res[1], "modprobe veth (CONFIG_VETH)");
}

/* Try to idmap a clone of path's mount: 0 or an errno; its file
 * system's type in type. */
static int try_idmap(const char *table, const char *path, char *type, size_t n)
{
	_cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
	_cleanup_close_ int tree = -1, userns = -1;
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP};
	struct statx stx;
	struct stat st;

	snprintf(type, n, "?");
	if (fd < 0 || fstat(fd, &st) < 0)
		return errno;
	if (table && statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) == 0)
		(void)hb_mountinfo_type(table, stx.stx_mnt_id, type, n);
	userns = hb_ids_userns(st.st_uid, st.st_gid, 65534, 65534);
	if (userns < 0)
		return -userns;
	tree = open_tree(fd, "",
			 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return errno;
	attr.userns_fd = (uint64_t)userns;
	return mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0
		       ? errno
		       : 0;
}

static void check_idmap(struct hb_doctor *d, const struct hb_strv *paths)
{
	_cleanup_free_ char *table = NULL;
	char found[320] = "", type[64];
	size_t at = 0;
	bool bad = false, bad_here = false;
	struct hb_doctor_row *row;

	if (geteuid() != 0) {
		row = hb_doctor_add(d, "idmapped mounts", HB_VERDICT_WARN,
				    false,
				    "not tried: only root runs use them");
		hb_doctor_fix(row, "run hivebox doctor as root");
		return;
	}
	(void)hb_mountinfo_read(&table);
	for (size_t i = 0; i < paths->n && at < sizeof(found); i++) {
		int err = try_idmap(table, paths->v[i], type, sizeof(type));

		/* A path this machine does not have is the policy's
		 * business (its run is refused for it), not the kernel's. */
		bad |= err != 0 && err != ENOENT;
		bad_here |= i == 0 && err != 0;
		at += (size_t)snprintf(found + at, sizeof(found) - at,
				       "%s%s (%s): %s", i ? "; " : "",
				       paths->v[i], type,
				       err == ENOENT ? "absent, not tried"
				       : err	     ? strerror(err)
						     : "yes");
	}
	/* The first path is the current directory, where scripts are:
	 * strict.ini needs that one. */
	row = hb_doctor_add(d, "idmapped mounts",
			    bad ? HB_VERDICT_FAIL : HB_VERDICT_OK, bad_here,
			    "%s", found);
	hb_doctor_fix(row, "keep scripts and listed paths on a file system "
			   "that supports idmapped mounts (ext4, xfs, btrfs, "
			   "tmpfs)");
	hb_doctor_without(row, "a root run of a script or a listed path on "
			       "such a file system is refused");
}

/* Which hierarchy holds cgroup v2, and its controllers. */
static void check_cgroup(struct hb_doctor *d)
{
	const char *dir = "/sys/fs/cgroup";
	char ctl[256] = "", path[300];
	struct statfs sf;
	struct hb_doctor_row *row;
	bool unified, both, have;
	FILE *f;

	unified = statfs(dir, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
	if (!unified && statfs("/sys/fs/cgroup/unified", &sf) == 0 &&
	    sf.f_type == CGROUP2_SUPER_MAGIC)
		dir = "/sys/fs/cgroup/unified";
	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	f = fopen(path, "re");
	have = f != NULL;
	if (f && !fgets(ctl, sizeof(ctl), f))
		ctl[0] = '\0';
	if (f)
		fclose(f);
	ctl[strcspn(ctl, "\n")] = '\0';
	both = strstr(ctl, "memory") && strstr(ctl, "pids");
	row = hb_doctor_add(d, "cgroup v2 memory, pids",
			    unified && both ? HB_VERDICT_OK : HB_VERDICT_WARN,
			    false, "%s; controllers in %s: %s",
			    unified ? "cgroup v2 only"
			    : have  ? "cgroup v1 hybrid (v2 beside v1)"
				    : "cgroup v1 only",
			    dir, ctl[0] ? ctl : "none");
	hb_doctor_fix(row, "boot with systemd.unified_cgroup_hierarchy=1 and "
			   "delegate memory and pids");
	hb_doctor_without(row, "the supervisor bounds CPU and memory by "
			       "sampling, rlimits each process");
}

void hb_doctor_kernel(struct hb_doctor *d, const struct hb_strv *paths)
{
	check_userns(d);
	check_seccomp(d);
	check_landlock(d);
	check_net(d);
	check_idmap(d, paths);
	check_cgroup(d);
}

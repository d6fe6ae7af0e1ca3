/* SPDX-License-Identifier: MIT */
/* hivebox doctor: hivebox's own files (the audit directory and key,
 * hivebox.conf and its address pool against the host's routes), the
 * trail, and the policies of /etc/hivebox/policies. */
#include "audit.h"
#include "config.h"
#include "doctor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libmnl/libmnl.h>
#include <linux/fs.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *key_of(const struct hb_doctor_opts *o)
{
	return o->key_file ?: HB_AUDIT_DEFAULT_KEY;
}

char *hb_doctor_audit_dir(const struct hb_doctor_opts *o)
{
	char *dflt = NULL;

	if (o->audit_dir)
		return strdup(o->audit_dir);
	return hb_audit_default_dir(&dflt) < 0 ? NULL : dflt;
}

/* The group the log directory is given: adm where it exists. */
static gid_t adm_gid(void)
{
	const struct group *g = getgrnam("adm");

	return g ? g->gr_gid : 0;
}

/* path itself, never what a symlink put in its place points to: an
 * O_PATH descriptor the fixes below act on, so that a swap between the
 * look and the chmod/chown cannot turn them on another file. */
static int open_here(const char *path, struct stat *st)
{
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* fchmod() refuses an O_PATH descriptor; its /proc link names the
 * very inode. */
static int fd_chmod(int fd, mode_t mode)
{
	char proc[32];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return chmod(proc, mode) < 0 ? -errno : 0;
}

/* chmod what fd is, as the row says. */
static void fix_mode(struct hb_doctor *d, const char *path, int fd, mode_t old,
		     mode_t want)
{
	int r = fd_chmod(fd, want);

	if (r == 0)
		hb_doctor_fixed(d, "%s: mode %04o -> %04o", path, old & 07777,
				want);
	else
		hb_doctor_fixed(d, "%s: could not chmod: %s", path,
				strerror(-r));
}

static void fix_dir(const char *dir, struct hb_doctor *d)
{
	struct stat st;
	_cleanup_close_ int fd = open_here(dir, &st);

	if (fd != -ENOENT) {
		if (fd >= 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07))
			fix_mode(d, dir, fd, st.st_mode, st.st_mode & 0750);
		return;
	}
	if (hb_mkdir_p(dir, 0755, 0750) < 0 || (fd = open_here(dir, &st)) < 0 ||
	    (geteuid() == 0 &&
	     fchownat(fd, "", 0, adm_gid(), AT_EMPTY_PATH) < 0)) {
		hb_doctor_fixed(d, "%s: could not create it: %s", dir,
				strerror(errno));
		return;
	}
	hb_doctor_fixed(d, "%s: created, 0750 %s", dir,
			geteuid() == 0 && adm_gid() ? "root:adm" : "");
}

/* A missing key is made and bound the way `audit init` does it; not
 * for a trail declared unsigned, which stays so. */
static void fix_key(const char *dir, const char *key, struct hb_doctor *d)
{
	struct hb_diag diag = {0};
	struct hb_audit a;
	struct stat st;
	_cleanup_close_ int fd = open_here(key, &st);
	int r;

	if (fd != -ENOENT) {
		if (fd >= 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
			fix_mode(d, key, fd, st.st_mode, 0600);
		return;
	}
	r = hb_audit_open(&a, dir, NULL, HB_AUDIT_BOUND, &diag);
	if (r == 0 && a.binding == HB_BIND_UNSIGNED) {
		hb_doctor_fixed(d,
				"%s: not created: the trail in %s is unsigned "
				"on purpose (audit init --unsigned)",
				key, dir);
		hb_audit_close(&a);
		return;
	}
	if (r == 0)
		r = hb_audit_bind(&a, key, false, &diag);
	if (r < 0 && !diag.msg[0])
		hb_diag_set(&diag, key, 0, "%s", strerror(-r));
	if (r < 0)
		hb_doctor_fixed(d, "%s: not created: %s", key, diag.msg);
	else
		hb_doctor_fixed(d, "%s: created (0600), bound to %s", key, dir);
	hb_audit_close(&a);
}

void hb_doctor_fix_files(const struct hb_doctor_opts *o, struct hb_doctor *d)
{
	_cleanup_free_ char *dir = hb_doctor_audit_dir(o);

	if (!dir)
		return;
	fix_dir(dir, d);
	fix_key(dir, key_of(o), d);
}

static const char *owner_text(const struct stat *st, char *buf, size_t n)
{
	const struct group *g = getgrgid(st->st_gid);

	snprintf(buf, n, "%04o uid %u group %s", st->st_mode & 07777,
		 (unsigned)st->st_uid, g ? g->gr_name : "?");
	return buf;
}

static void check_dir(const char *dir, struct hb_doctor *d)
{
	struct hb_doctor_row *row;
	struct stat st;
	char own[96];

	if (lstat(dir, &st) < 0) {
		bool missing = errno == ENOENT;

		row = hb_doctor_add(d, "audit directory", HB_VERDICT_WARN,
				    false, "%s: %s%s", dir, strerror(errno),
				    missing ? "; the first run creates it"
					    : ": cannot check it");
		hb_doctor_fix(row, "%s",
			      missing ? "hivebox doctor --fix (0750 root:adm)"
				      : "run hivebox doctor as its owner");
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		row = hb_doctor_add(d, "audit directory", HB_VERDICT_FAIL, true,
				    "%s: not a directory%s", dir,
				    S_ISLNK(st.st_mode) ? " (a symlink)" : "");
		hb_doctor_fix(row, "move it away, then hivebox doctor --fix");
		hb_doctor_without(row, "no run: the trail is required as root");
		return;
	}
	owner_text(&st, own, sizeof(own));
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		row = hb_doctor_add(d, "audit directory", HB_VERDICT_FAIL,
				    false, "%s: %s, not root's", dir, own);
		hb_doctor_fix(row, "chown root %s", dir);
		hb_doctor_without(row, "its owner can rewrite the trail");
		return;
	}
	row = hb_doctor_add(d, "audit directory",
			    st.st_mode & 07 ? HB_VERDICT_WARN : HB_VERDICT_OK,
			    false, "%s: %s%s", dir, own,
			    st.st_mode & 07 ? ": others can read the trail"
					    : "");
	hb_doctor_fix(row, "chmod o-rwx %s", dir);
}

/* What dir's binding says; HB_BIND_NONE when it cannot be read (the
 * trail row says why). */
static enum hb_binding trail_binding(const char *dir)
{
	struct hb_diag diag = {0};
	struct hb_audit a;
	enum hb_binding b;

	b = hb_audit_open(&a, dir, NULL, HB_AUDIT_BOUND, &diag) == 0
		    ? a.binding
		    : HB_BIND_NONE;
	hb_audit_close(&a);
	return b;
}

static void check_key(const char *key, const char *dir, struct hb_doctor *d)
{
	struct hb_doctor_row *row;
	struct stat st;
	char own[96];

	if (lstat(key, &st) < 0 && errno == ENOENT &&
	    trail_binding(dir) == HB_BIND_UNSIGNED) {
		hb_doctor_add(d, "audit key", HB_VERDICT_OK, false,
			      "%s: none; the trail in %s is unsigned on "
			      "purpose (audit init --unsigned)",
			      key, dir);
		return;
	}
	if (lstat(key, &st) < 0) {
		bool missing = errno == ENOENT;

		row = hb_doctor_add(
			d, "audit key", HB_VERDICT_WARN, false, "%s: %s%s", key,
			strerror(errno),
			missing ? ": records are chained, not signed"
				: ": cannot check it");
		hb_doctor_fix(row, "%s",
			      missing ? "hivebox doctor --fix (or hivebox "
					"audit init)"
				      : "run hivebox doctor as root");
		return;
	}
	owner_text(&st, own, sizeof(own));
	if (!S_ISREG(st.st_mode) || st.st_size != HB_AUDIT_KEY_LEN) {
		row = hb_doctor_add(d, "audit key", HB_VERDICT_FAIL, false,
				    "%s: not a regular file of %d bytes", key,
				    HB_AUDIT_KEY_LEN);
		hb_doctor_fix(row, "move it away, then hivebox audit init");
		hb_doctor_without(row, "a trail bound to it cannot be written");
		return;
	}
	row = hb_doctor_add(
		d, "audit key",
		st.st_uid != 0 || (st.st_mode & 077) ? HB_VERDICT_WARN
						     : HB_VERDICT_OK,
		false, "%s: %s%s", key, own,
		st.st_mode & 077 ? ": others can read it and forge records"
		: st.st_uid != 0 ? ": not root's"
				 : "");
	hb_doctor_fix(row,
		      st.st_mode & 077 ? "chmod 0600 %s (or hivebox "
					 "doctor --fix)"
				       : "chown root %s",
		      key);
}

/* The append-only inode flag of each log there is. */
static void check_append_only(const char *dir, bool dflt, struct hb_doctor *d)
{
	char found[320] = "";
	size_t at = 0;
	bool missing = false;

	for (int log = 0; log < HB_LOG_MAX; log++) {
		char path[4200];
		_cleanup_close_ int fd = -1;
		int flags = 0;
		const char *what;

		snprintf(path, sizeof(path), "%s/%s", dir, hb_log_name(log));
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			what = "no log yet";
		else if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
			what = "no such flag on this file system";
		else
			what = flags & FS_APPEND_FL ? "set" : "not set";
		missing |= fd >= 0 && !(flags & FS_APPEND_FL);
		at += (size_t)snprintf(found + at, sizeof(found) - at,
				       "%s%s: %s", log ? "; " : "",
				       hb_log_name(log), what);
	}
	hb_doctor_fix(
		hb_doctor_add(d, "append-only logs",
			      missing && dflt ? HB_VERDICT_WARN : HB_VERDICT_OK,
			      false, "%s%s", found,
			      dflt ? ""
				   : " (set by default only in the system's "
				     "trail; [audit] append_only = yes)"),
		"chattr +a %s/*.log", dir);
}

/* The routes of every table, IPv4: each one that meets the pool (and is
 * not one of hivebox's own, on an "hb<N>h" interface) into found. */
struct routes {
	const struct hb_net_pool *pool;
	char *found;
	size_t size, at;
	unsigned n;
};

static int route_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= RTA_MAX && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static bool hiveboxs_own(const struct nlattr *oif)
{
	char name[IF_NAMESIZE] = "";
	unsigned i;
	char end;

	return oif && if_indextoname(mnl_attr_get_u32(oif), name) &&
	       sscanf(name, "hb%uh%c", &i, &end) == 1;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = {0};
	const struct rtmsg *rm = mnl_nlmsg_get_payload(nlh);
	struct routes *rs = data;
	char dst[INET_ADDRSTRLEN], ifname[IF_NAMESIZE] = "?";
	uint32_t addr;

	if (rm->rtm_family != AF_INET || rm->rtm_type == RTN_BROADCAST ||
	    rm->rtm_type == RTN_MULTICAST)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rm), route_attr, tb);
	if (!tb[RTA_DST] || hiveboxs_own(tb[RTA_OIF]))
		return MNL_CB_OK;
	addr = ntohl(mnl_attr_get_u32(tb[RTA_DST]));
	if (!hb_doctor_overlaps(rs->pool->network, rs->pool->prefixlen, addr,
				rm->rtm_dst_len))
		return MNL_CB_OK;
	if (tb[RTA_OIF])
		if_indextoname(mnl_attr_get_u32(tb[RTA_OIF]), ifname);
	inet_ntop(AF_INET, &(uint32_t){htonl(addr)}, dst, sizeof(dst));
	if (rs->at < rs->size)
		rs->at += (size_t)snprintf(
			rs->found + rs->at, rs->size - rs->at, "%s%s/%u dev %s",
			rs->n ? ", " : "", dst, rm->rtm_dst_len, ifname);
	rs->n++;
	return MNL_CB_OK;
}

static int dump_routes(struct routes *rs)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rm;
	uint32_t portid;
	int r = 0, cb = MNL_CB_OK;

	if (!nl)
		return -errno;
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	rm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rm));
	rm->rtm_family = AF_INET;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		r = -errno;
	portid = mnl_socket_get_portid(nl);
	while (r == 0 && cb > MNL_CB_STOP) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0)
			r = -errno;
		else if ((cb = mnl_cb_run(buf, (size_t)n, 1, portid, route_cb,
					  rs)) < 0)
			r = -errno;
	}
	mnl_socket_close(nl);
	return r;
}

static void check_pool(const struct hb_config *c, struct hb_doctor *d)
{
	char found[240] = "";
	struct routes rs = {&c->pool, found, sizeof(found), 0, 0};
	int r = dump_routes(&rs);
	struct hb_doctor_row *row;

	if (r < 0) {
		hb_doctor_add(d, "address pool", HB_VERDICT_WARN, false,
			      "cannot read the routes: %s", strerror(-r));
		return;
	}
	row = hb_doctor_add(d, "address pool",
			    rs.n ? HB_VERDICT_FAIL : HB_VERDICT_OK, false,
			    "%s%s%s", c->pool_text ?: HB_CONFIG_POOL_DEFAULT,
			    rs.n ? " overlaps the host's route "
				 : ": no host "
				   "route in it",
			    found);
	hb_doctor_fix(row,
		      "set [network] pool in %s to a range no route "
		      "uses",
		      c->path ?: HB_CONFIG_DEFAULT);
	hb_doctor_without(row, "[network] mode = none runs (strict.ini's); "
			       "filtered runs would shadow that route");
}

static void check_config(const struct hb_doctor_opts *o, struct hb_doctor *d)
{
	struct hb_config c = {0};
	struct hb_diag diag = {0};
	char text[HB_DIAG_TEXT_MAX];
	struct hb_doctor_row *row;

	/* Only root runs read it: another caller's view is a hint. */
	bool root = geteuid() == 0;

	if (hb_config_load(&c, o->config, &diag) < 0) {
		if (!diag.msg[0])
			hb_diag_set(&diag, o->config ?: HB_CONFIG_DEFAULT, 0,
				    "cannot read it");
		row = hb_doctor_add(d, "hivebox.conf",
				    root ? HB_VERDICT_FAIL : HB_VERDICT_WARN,
				    root, "%s",
				    hb_diag_text(&diag, text, sizeof(text)));
		hb_doctor_fix(row, "%s",
			      root ? "correct that line (hivebox(1), FILES)"
				   : "run hivebox doctor as root");
		hb_doctor_without(row, "no run as root: it reads the file");
		hb_config_free(&c);
		return;
	}
	hb_doctor_add(d, "hivebox.conf", HB_VERDICT_OK, false, "%s",
		      c.path ? c.path
			     : "none: the built-in settings (" HB_CONFIG_DEFAULT
			       " is absent)");
	check_pool(&c, d);
	hb_config_free(&c);
}

void hb_doctor_files(const struct hb_doctor_opts *o, struct hb_doctor *d)
{
	_cleanup_free_ char *dir = hb_doctor_audit_dir(o);

	check_config(o, d);
	if (!dir) {
		hb_doctor_add(d, "audit directory", HB_VERDICT_FAIL, true,
			      "no default directory for this caller");
		return;
	}
	check_dir(dir, d);
	check_key(key_of(o), dir, d);
	check_append_only(dir, !o->audit_dir, d);
}

/* SPDX-License-Identifier: MIT */
#include "mountinfo.h"
#include "util.h"

#include <linux/magic.h>
#include <string.h>

/* The file systems that are the host's /proc, /sys or /dev, whoever
 * mounts them where: by the type mountinfo names, and by the magic
 * number statfs() gives (0 where it cannot tell: devtmpfs is a tmpfs to
 * statfs(), and is told by its device instead). */
static const struct {
	const char *type;
	long magic;
	const char *what;
} host_fs[] = {
	{"proc", PROC_SUPER_MAGIC, "/proc"},
	{"nsfs", NSFS_MAGIC, "/proc"},
	{"binfmt_misc", BINFMTFS_MAGIC, "/proc"},
	{"sysfs", SYSFS_MAGIC, "/sys"},
	{"cgroup", CGROUP_SUPER_MAGIC, "/sys"},
	{"cgroup2", CGROUP2_SUPER_MAGIC, "/sys"},
	{"debugfs", DEBUGFS_MAGIC, "/sys"},
	{"tracefs", TRACEFS_MAGIC, "/sys"},
	{"securityfs", SECURITYFS_MAGIC, "/sys"},
	{"bpf", BPF_FS_MAGIC, "/sys"},
	{"efivarfs", EFIVARFS_MAGIC, "/sys"},
	{"pstore", PSTOREFS_MAGIC, "/sys"},
	{"configfs", 0x62656570, "/sys"}, /* CONFIGFS_MAGIC, not in uapi */
	{"fusectl", 0x65735543, "/sys"},  /* FUSE_CTL_SUPER_MAGIC, likewise */
	{"devpts", DEVPTS_SUPER_MAGIC, "/dev"},
	{"devtmpfs", 0, "/dev"},
};

static const char *host_type(const char *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(host_fs); i++)
		if (strcmp(host_fs[i].type, type) == 0)
			return host_fs[i].what;
	return NULL;
}

const char *hb_host_fs_by_magic(long magic)
{
	for (size_t i = 0; i < ARRAY_SIZE(host_fs); i++)
		if (host_fs[i].magic && host_fs[i].magic == magic)
			return host_fs[i].what;
	return NULL;
}

/* A mount point as the kernel writes it: space, tab, newline and
 * backslash as \ and three octal digits.  False if it does not fit. */
static bool unescape(const char *in, char out[PATH_MAX])
{
	size_t n = 0;

	for (const char *p = in; *p; p++) {
		char c = *p;
		if (c == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' &&
		    p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
			c = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 +
				   (p[3] - '0'));
			p += 3;
		}
		if (n + 1 >= PATH_MAX)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

/* One line's mount id, device, root, mount point and type; false if
 * malformed. */
static bool parse_line_id(char *line, char **id, char **dev, char **root,
			  char **point, char **type)
{
	char *save = NULL, *field[5], *dash = strstr(line, " - ");

	if (!dash)
		return false;
	*dash = '\0';
	for (int i = 0; i < 5; i++) {
		field[i] = strtok_r(i ? NULL : line, " ", &save);
		if (!field[i])
			return false;
	}
	*id = field[0];
	*dev = field[2];
	*root = field[3];
	*point = field[4];
	*type = strtok_r(dash + 3, " ", &save);
	return *type != NULL;
}

static bool parse_line(char *line, char **dev, char **root, char **point,
		       char **type)
{
	char *id;

	return parse_line_id(line, &id, dev, root, point, type);
}

static const char *host_own(const char *dev, const char *root, const char *type,
			    const char *root_dev)
{
	const char *what = host_type(type);

	if (what)
		return what;
	/* The host's root file system bound again, whole. */
	if (root_dev[0] && strcmp(dev, root_dev) == 0 && strcmp(root, "/") == 0)
		return "/";
	return NULL;
}

/* The device of the mount at "/" whose root is its file system's own. */
static void root_device(const char *table, char root_dev[64])
{
	_cleanup_free_ char *copy = strdup(table);
	char *save = NULL, *dev, *root, *point, *type;

	root_dev[0] = '\0';
	for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save))
		if (parse_line(l, &dev, &root, &point, &type) &&
		    strcmp(point, "/") == 0 && strcmp(root, "/") == 0)
			snprintf(root_dev, 64, "%s", dev);
}

int hb_mountinfo_host_below(const char *table, const char *dir,
			    const char **ret_what, char ret_at[PATH_MAX])
{
	_cleanup_free_ char *copy = strdup(table);
	char *save = NULL, *dev, *root, *point, *type;
	char root_dev[64];

	*ret_what = NULL;
	if (!copy)
		return -ENOMEM;
	root_device(table, root_dev);
	for (char *l = strtok_r(copy, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		const char *what;
		if (!parse_line(l, &dev, &root, &point, &type) ||
		    !unescape(point, ret_at))
			continue;
		if (strcmp(ret_at, dir) == 0 || !hb_path_under(ret_at, dir))
			continue;
		what = host_own(dev, root, type, root_dev);
		if (what) {
			*ret_what = what;
			return 0;
		}
	}
	ret_at[0] = '\0';
	return 0;
}

int hb_mountinfo_read(char **ret)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	size_t size = 0;

	*ret = NULL;
	if (!f)
		return -errno;
	if (getdelim(ret, &size, '\0', f) < 0) {
		hb_freep(ret);
		return feof(f) ? -ENODATA : -errno;
	}
	return 0;
}

int hb_mountinfo_type(const char *table, unsigned long long mnt_id, char *type,
		      size_t n)
{
	_cleanup_free_ char *copy = strdup(table);
	char *save = NULL, *id, *dev, *root, *point, *t;
	unsigned long long v;

	if (!copy)
		return -ENOMEM;
	for (char *l = strtok_r(copy, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		if (parse_line_id(l, &id, &dev, &root, &point, &t) &&
		    hb_parse_u64(id, ULLONG_MAX, &v) == 0 && v == mnt_id) {
			snprintf(type, n, "%s", t);
			return 0;
		}
	return -ENOENT;
}

int hb_mountinfo_below_nth(const char *table, const char *dir, size_t nth,
			   char ret_at[PATH_MAX], char *type, size_t n)
{
	_cleanup_free_ char *copy = strdup(table);
	char *save = NULL, *dev, *root, *point, *t;

	if (!copy)
		return -ENOMEM;
	for (char *l = strtok_r(copy, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (!parse_line(l, &dev, &root, &point, &t) ||
		    !unescape(point, ret_at))
			continue;
		if (strcmp(ret_at, dir) == 0 || !hb_path_under(ret_at, dir))
			continue;
		if (nth-- == 0) {
			snprintf(type, n, "%s", t);
			return 0;
		}
	}
	ret_at[0] = '\0';
	return -ENOENT;
}

/* SPDX-License-Identifier: MIT */
/* mountinfo.c: the host's own trees mounted below a policy directory,
 * found in mount-table text as the kernel writes it. */
#include "mountinfo.h"

#include <criterion/criterion.h>
#include <linux/magic.h>

static const char table[] =
	"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
	"30 22 0:5 / /dev rw shared:2 - devtmpfs udev rw\n"
	"40 22 8:17 / /srv rw shared:3 - ext4 /dev/sdb1 rw\n"
	"41 40 8:17 /data /srv/jobs/data rw - ext4 /dev/sdb1 rw\n"
	"42 40 0:22 / /srv/chroot\\040one/proc rw - proc proc rw\n"
	"43 40 8:1 / /srv/rootfs rw - ext4 /dev/sda1 rw\n"
	"44 40 8:1 /home /srv/home rw - ext4 /dev/sda1 rw\n"
	"45 40 0:30 / /srv/pts rw - devpts devpts rw\n";

static const char *below(const char *dir, char at[PATH_MAX])
{
	const char *what = "unset";

	cr_assert_eq(hb_mountinfo_host_below(table, dir, &what, at), 0);
	return what;
}

Test(mountinfo, another_disk_below_is_no_host_tree)
{
	char at[PATH_MAX];

	cr_assert_null(below("/srv/jobs", at));
	cr_assert_str_eq(at, "");
}

Test(mountinfo, a_procfs_below_is_found_at_its_unescaped_point)
{
	char at[PATH_MAX];

	cr_assert_str_eq(below("/srv/chroot one", at), "/proc");
	cr_assert_str_eq(at, "/srv/chroot one/proc");
}

Test(mountinfo, the_hosts_root_bound_again_is_found)
{
	static const char one[] =
		"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"40 22 8:17 / /srv rw - ext4 /dev/sdb1 rw\n"
		"43 40 8:1 / /srv/rootfs rw - ext4 /dev/sda1 rw\n";
	const char *what = NULL;
	char at[PATH_MAX];

	/* The whole of the root's device, bound again: the host's /. */
	cr_assert_eq(hb_mountinfo_host_below(one, "/srv", &what, at), 0);
	cr_assert_str_eq(what, "/");
	cr_assert_str_eq(at, "/srv/rootfs");
}

Test(mountinfo, a_subtree_of_the_root_device_is_not_its_root)
{
	static const char one[] =
		"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"44 22 8:1 /home /srv/home rw - ext4 /dev/sda1 rw\n";
	const char *what = "unset";
	char at[PATH_MAX];

	cr_assert_eq(hb_mountinfo_host_below(one, "/srv", &what, at), 0);
	cr_assert_null(what);
}

Test(mountinfo, the_mount_of_the_directory_itself_does_not_count)
{
	char at[PATH_MAX];

	cr_assert_null(below("/srv/pts", at));
	/* A name that only starts like the directory is not below it. */
	cr_assert_null(below("/srv/p", at));
}

Test(mountinfo, magic_numbers_name_the_same_trees)
{
	cr_assert_str_eq(hb_host_fs_by_magic(PROC_SUPER_MAGIC), "/proc");
	cr_assert_str_eq(hb_host_fs_by_magic(SYSFS_MAGIC), "/sys");
	cr_assert_str_eq(hb_host_fs_by_magic(DEVPTS_SUPER_MAGIC), "/dev");
	cr_assert_null(hb_host_fs_by_magic(TMPFS_MAGIC));
	cr_assert_null(hb_host_fs_by_magic(0));
}

/* SPDX-License-Identifier: MIT */
/* ids.c: host uids handed out by byte-range locks on one file (in a
 * throw-away directory, not /run), what a path's owner may do by its mode
 * bits, and the user namespaces that idmap a path to its owner. */
#include "helpers.h"
#include "ids.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *dir, *lock;

static void ids_setup(void)
{
	dir = tmpdir_new();
	cr_assert_eq(chmod(dir, 0700), 0);
	lock = path_join(dir, "run/uids.lock");
}

static void ids_teardown(void)
{
	free(lock);
	lock = NULL;
	tmpdir_remove(dir);
	dir = NULL;
}

/* cppcheck-suppress unknownMacro */
TestSuite(ids, .init = ids_setup, .fini = ids_teardown);

static int acquire(unsigned range, unsigned start, unsigned *index)
{
	int fd = hb_ids_acquire(lock, range, start, index);

	cr_assert_geq(fd, 0, "hb_ids_acquire: %s", strerror(-fd));
	return fd;
}

Test(ids, starts_at_the_given_index)
{
	unsigned index = 99;
	int fd = acquire(65536, 4242, &index);
	struct stat st;

	cr_assert_eq(index, 4242);
	/* The descriptor is not inherited by what hivebox execs. */
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* The directory is made, root's alone, and the file with it. */
	cr_assert_eq(stat(lock, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0600);
	close(fd);
}

Test(ids, two_descriptors_get_two_indexes)
{
	unsigned a = 0, b = 0, c = 0;
	int fa = acquire(65536, 7, &a);
	int fb = acquire(65536, 7, &b);
	int fc = acquire(65536, 7, &c);

	/* One process, three open file descriptions: each excludes the
	 * others, as two runs do. */
	cr_assert_eq(a, 7);
	cr_assert_eq(b, 8);
	cr_assert_eq(c, 9);
	close(fa);
	close(fb);
	close(fc);
}

Test(ids, closing_gives_the_index_back)
{
	unsigned a = 0, b = 0;
	int fa = acquire(16, 3, &a);
	int fb;

	close(fa);
	fb = acquire(16, 3, &b);
	cr_assert_eq(a, 3);
	cr_assert_eq(b, 3, "a closed descriptor still held index %u", a);
	close(fb);
}

Test(ids, a_dead_holder_gives_the_index_back)
{
	unsigned a = 0, b = 0;
	int fb, p[2];
	pid_t pid;
	char c;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = hb_ids_acquire(lock, 4, 1, &a);
		(void)!write(p[1], fd >= 0 && a == 1 ? "y" : "n", 1);
		pause();
		_exit(0);
	}
	cr_assert_eq(read(p[0], &c, 1), 1);
	cr_assert_eq(c, 'y');
	fb = acquire(4, 1, &b);
	cr_assert_eq(b, 2, "another process's index was handed out");
	close(fb);
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	fb = acquire(4, 1, &b);
	cr_assert_eq(b, 1, "a killed holder kept its index");
	close(fb);
	close(p[0]);
	close(p[1]);
}

Test(ids, wraps_around_and_runs_out)
{
	unsigned idx[4];
	int fds[4];

	for (int i = 0; i < 4; i++)
		fds[i] = acquire(4, 2, &idx[i]);
	cr_assert_eq(idx[0], 2);
	cr_assert_eq(idx[1], 3);
	cr_assert_eq(idx[2], 0);
	cr_assert_eq(idx[3], 1);
	cr_assert_eq(hb_ids_acquire(lock, 4, 2, &idx[0]), -EUSERS);
	/* A start past the range is taken modulo the range. */
	close(fds[3]);
	fds[3] = acquire(4, 4 * 1000 + 1, &idx[3]);
	cr_assert_eq(idx[3], 1);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

Test(ids, a_directory_others_may_write_is_refused)
{
	unsigned index;
	char *run = path_join(dir, "run");
	int fd = acquire(4, 0, &index);

	close(fd);
	cr_assert_eq(chmod(run, 0770), 0);
	cr_assert_eq(hb_ids_acquire(lock, 4, 0, &index), -EPERM);
	cr_assert_eq(chmod(run, 0700), 0);
	cr_assert_eq(chmod(lock, 0666), 0);
	cr_assert_eq(hb_ids_acquire(lock, 4, 0, &index), -EPERM);
	free(run);
}

Test(ids, a_symlink_or_another_type_is_refused)
{
	unsigned index;
	char *run = path_join(dir, "run");

	make_dir(dir, "run");
	cr_assert_eq(chmod(run, 0700), 0);
	make_symlink(run, "uids.lock", "/etc/passwd");
	cr_assert_eq(hb_ids_acquire(lock, 4, 0, &index), -ELOOP);
	cr_assert_eq(unlink(lock), 0);
	make_dir(run, "uids.lock");
	cr_assert_lt(hb_ids_acquire(lock, 4, 0, &index), 0);
	cr_assert_eq(hb_ids_acquire("relative/uids.lock", 4, 0, &index),
		     -EINVAL);
	cr_assert_eq(hb_ids_acquire(lock, 0, 0, &index), -EINVAL);
	free(run);
}

static struct stat stat_of(uid_t uid, gid_t gid, mode_t mode)
{
	return (struct stat){.st_uid = uid, .st_gid = gid, .st_mode = mode};
}

Test(ids, what_an_owner_needs)
{
	cr_assert_eq(hb_ids_needs(false, false), R_OK);
	cr_assert_eq(hb_ids_needs(true, false), R_OK | X_OK);
	cr_assert_eq(hb_ids_needs(false, true), W_OK);
	cr_assert_eq(hb_ids_needs(true, true), W_OK | X_OK);
}

Test(ids, may_by_the_owners_group_or_others_bits)
{
	struct stat st = stat_of(998, 997, S_IFDIR | 0750);

	/* The owner's bits, whatever the group's and others' say. */
	cr_assert(hb_ids_may(&st, 998, 1, R_OK | W_OK | X_OK));
	st.st_mode = S_IFDIR | 0077;
	cr_assert_not(hb_ids_may(&st, 998, 997, R_OK));
	/* Not the owner: the group's bits if the group matches. */
	st.st_mode = S_IFREG | 0640;
	cr_assert(hb_ids_may(&st, 1, 997, R_OK));
	cr_assert_not(hb_ids_may(&st, 1, 997, W_OK));
	/* Neither: the others' bits. */
	cr_assert_not(hb_ids_may(&st, 1, 1, R_OK));
	st.st_mode = S_IFREG | 0604;
	cr_assert(hb_ids_may(&st, 1, 1, R_OK));
	/* Root is no exception: capabilities do not count. */
	st = stat_of(0, 0, S_IFREG | 0200);
	cr_assert_not(hb_ids_may(&st, 0, 0, R_OK));
	cr_assert(hb_ids_may(&st, 0, 0, W_OK));
}

Test(ids, chmod_text_names_the_missing_owner_bits)
{
	char buf[8];

	cr_assert_str_eq(hb_ids_chmod_text(0555, W_OK | X_OK, buf, sizeof(buf)),
			 "u+w");
	cr_assert_str_eq(hb_ids_chmod_text(0200, R_OK, buf, sizeof(buf)),
			 "u+r");
	cr_assert_str_eq(hb_ids_chmod_text(0000, R_OK | X_OK, buf, sizeof(buf)),
			 "u+rx");
	cr_assert_str_eq(hb_ids_chmod_text(0044, W_OK | X_OK, buf, sizeof(buf)),
			 "u+wx");
}

Test(ids, userns_is_a_new_user_namespace)
{
	char ours[64], theirs[64], link[64];
	ssize_t n;
	int fd;

	if (geteuid() != 0)
		cr_skip_test("needs root: only root maps another uid");
	fd = hb_ids_userns(998, 997, 2000000001, 2000000001);
	cr_assert_geq(fd, 0, "hb_ids_userns: %s", strerror(-fd));
	cr_assert_eq(ioctl(fd, NS_GET_NSTYPE), CLONE_NEWUSER);
	/* Its creator, and so its owner, is root. */
	uid_t owner = 42;
	cr_assert_eq(ioctl(fd, NS_GET_OWNER_UID, &owner), 0);
	cr_assert_eq(owner, 0);
	n = readlink("/proc/self/ns/user", ours, sizeof(ours) - 1);
	cr_assert_gt(n, 0);
	ours[n] = '\0';
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, theirs, sizeof(theirs) - 1);
	cr_assert_gt(n, 0);
	theirs[n] = '\0';
	cr_assert_str_neq(ours, theirs);
	close(fd);
	/* The child that made it is gone: nothing is left to reap. */
	cr_assert_eq(waitpid(-1, NULL, WNOHANG | __WALL), -1);
	cr_assert_eq(errno, ECHILD);
}

/* Who could change the way to a path: each directory's owner, its group
 * and all where they may write it, but in a sticky one only the owner
 * of the entry passed through. */
Test(ids, way_of_root_only_directories_is_trusted_for_anyone)
{
	struct hb_ids_way w = {.changer = (uid_t)-1};
	struct stat root = stat_of(0, 0, S_IFDIR | 0755);
	struct stat svc = stat_of(998, 998, S_IFDIR | 0700);

	hb_ids_way_step(&w, "/", &root, &root);
	hb_ids_way_step(&w, "/srv", &root, &svc);
	cr_assert(hb_ids_way_trusted(&w, 0));
	cr_assert(hb_ids_way_trusted(&w, 998));
}

Test(ids, way_through_a_users_directory_is_that_users)
{
	struct hb_ids_way w = {.changer = (uid_t)-1};
	struct stat root = stat_of(0, 0, S_IFDIR | 0755);
	struct stat alice = stat_of(1000, 1000, S_IFDIR | 0755);

	hb_ids_way_step(&w, "/", &root, &root);
	hb_ids_way_step(&w, "/home", &root, &alice);
	hb_ids_way_step(&w, "/home/alice", &alice, &root);
	/* Alice could swap in any tree of hers, or a root-only one. */
	cr_assert(hb_ids_way_trusted(&w, 1000));
	cr_assert_not(hb_ids_way_trusted(&w, 0));
	cr_assert_not(hb_ids_way_trusted(&w, 1001));
	cr_assert_eq(w.changer, 1000);
	cr_assert_str_eq(w.at, "/home/alice");
	/* A second user's directory below: neither is enough. */
	struct stat bob = stat_of(1001, 1001, S_IFDIR | 0755);
	hb_ids_way_step(&w, "/home/alice/x", &bob, &bob);
	cr_assert(w.others);
	cr_assert_not(hb_ids_way_trusted(&w, 1000));
	cr_assert_not(hb_ids_way_trusted(&w, 1001));
	cr_assert_str_eq(w.at, "/home/alice");
}

Test(ids, way_below_a_directory_others_may_write_is_no_ones)
{
	struct hb_ids_way w = {.changer = (uid_t)-1};
	struct stat root = stat_of(0, 0, S_IFDIR | 0755);
	struct stat shared = stat_of(0, 50, S_IFDIR | 0775);

	hb_ids_way_step(&w, "/srv", &shared, &root);
	cr_assert(w.others);
	cr_assert_not(hb_ids_way_trusted(&w, 0));
	cr_assert_str_eq(w.at, "/srv");
	cr_assert_eq(w.mode & 07777, 0775);
}

Test(ids, way_through_a_sticky_directory_is_the_entrys_owners)
{
	struct hb_ids_way w = {.changer = (uid_t)-1};
	struct stat tmp = stat_of(0, 0, S_IFDIR | 01777);
	struct stat mine = stat_of(0, 0, S_IFDIR | 0755);
	struct stat theirs = stat_of(1000, 1000, S_IFDIR | 0755);

	/* /tmp/x of root's: no one else may rename it there. */
	hb_ids_way_step(&w, "/tmp", &tmp, &mine);
	cr_assert(hb_ids_way_trusted(&w, 0));
	/* /tmp/y of alice's: she may. */
	hb_ids_way_step(&w, "/tmp", &tmp, &theirs);
	cr_assert_not(hb_ids_way_trusted(&w, 0));
	cr_assert(hb_ids_way_trusted(&w, 1000));
}

Test(ids, open_walks_the_way)
{
	struct hb_ids_way w;
	char *sub = path_join(dir, "a");
	char *file = path_join(dir, "a/f");
	struct stat st, want;
	int fd;

	make_dir(dir, "a");
	make_file(dir, "a/f", "x");
	cr_assert_eq(chmod(sub, 0777), 0);
	fd = hb_ids_open(file, O_RDONLY | O_CLOEXEC, &w);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(stat(file, &want), 0);
	cr_assert_eq(st.st_ino, want.st_ino);
	close(fd);
	/* a/ may be written by anyone: the way is no one's. */
	cr_assert(w.others);
	cr_assert_str_eq(w.at, sub);
	cr_assert_eq(chmod(sub, 0755), 0);
	fd = hb_ids_open(file, O_PATH | O_CLOEXEC, &w);
	cr_assert_geq(fd, 0);
	close(fd);
	/* The test's directory lies in /tmp, sticky: ours all the way. */
	cr_assert(hb_ids_way_trusted(&w, geteuid()), "at %s", w.at);
	make_symlink(dir, "link", "a");
	free(file);
	file = path_join(dir, "link/f");
	cr_assert_eq(hb_ids_open(file, O_PATH | O_CLOEXEC, &w), -ELOOP);
	cr_assert_eq(hb_ids_open("relative", O_PATH, &w), -EINVAL);
	free(file);
	free(sub);
}

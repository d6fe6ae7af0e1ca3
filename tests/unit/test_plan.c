/* SPDX-License-Identifier: MIT */
/* plan.c: the mount table, ids, environment, argv and rlimits that a
 * policy and an invocation turn into, before anything is created. */
#include "helpers.h"
#include "monitor.h"
#include "plan.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>

#define ATTR_RO (HB_ATTR_RDONLY | HB_ATTR_NOSUID | HB_ATTR_NODEV)
#define ATTR_RW (HB_ATTR_NOSUID | HB_ATTR_NODEV | HB_ATTR_NOEXEC)

static char *dir;
static char *host_env[] = {
	"PATH=/host/bin", "HOME=/root", "FOO=bar",	    "FOOBAR=no",
	"SECRET=hunter2", "TZ=Etc/UTC", "LANG=de_DE.UTF-8", NULL,
};

/* dir: job.py, sub/job2.py, data/in.csv, data/sub/, out/, alias.py ->
 * job.py, link -> data. */
static void plan_setup(void)
{
	dir = tmpdir_new();
	/* Planned for root, paths are opened as the sandbox's host uid,
	 * which must be able to reach them. */
	cr_assert_eq(chmod(dir, 0755), 0);
	make_file(dir, "job.py", "print('hi')\n");
	make_dir(dir, "sub");
	make_file(dir, "sub/job2.py", "print('two')\n");
	make_dir(dir, "data");
	make_dir(dir, "data/sub");
	make_file(dir, "data/in.csv", "a,b\n");
	make_dir(dir, "out");
	make_symlink(dir, "alias.py", "job.py");
	make_symlink(dir, "link", "data");
}

static void plan_teardown(void)
{
	tmpdir_remove(dir);
	dir = NULL;
}

/* cppcheck-suppress unknownMacro */
TestSuite(plan, .init = plan_setup, .fini = plan_teardown);

/* Started as root, in dir, running job.py. */
static struct hb_invocation invocation(void)
{
	return (struct hb_invocation){
		.script = "job.py",
		.cwd = dir,
		.uid = 0,
		.euid = 0,
		.gid = 0,
		.environ = host_env,
	};
}

static void policy_of(struct hb_policy *p, const char *text)
{
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(p, text, &d), 0, "%u: %s", d.line, d.msg);
}

/* Build a plan that must succeed. */
static void build_ok(struct hb_plan *plan, struct hb_policy *p,
		     const char *text, const struct hb_invocation *inv)
{
	struct hb_diag d = {0};

	policy_of(p, text);
	cr_assert_eq(hb_plan_build(plan, p, inv, &d), 0, "%s:%u: %s", d.file,
		     d.line, d.msg);
}

/* Build a plan that must fail, with d->msg containing want. */
static void build_fails(const char *text, const struct hb_invocation *inv,
			struct hb_diag *d, const char *want)
{
	struct hb_policy p;
	struct hb_plan plan;

	policy_of(&p, text);
	cr_assert_lt(hb_plan_build(&plan, &p, inv, d), 0, "built:\n%s", text);
	cr_assert_not_null(strstr(d->msg, want), "'%s' lacks '%s'", d->msg,
			   want);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

static const struct hb_mount *find(const struct hb_plan *plan,
				   const char *target)
{
	for (size_t i = 0; i < plan->n_mounts; i++)
		if (strcmp(plan->mounts[i].target, target) == 0)
			return &plan->mounts[i];
	return NULL;
}

static const struct hb_mount *find_in(const struct hb_plan *plan,
				      const char *name)
{
	char *target = path_join(dir, name);
	const struct hb_mount *m = find(plan, target);

	free(target);
	return m;
}

static const struct hb_mount *must_find(const struct hb_plan *plan,
					const char *target)
{
	const struct hb_mount *m = find(plan, target);

	cr_assert_not_null(m, "no mount at %s", target);
	return m;
}

static size_t count_why(const struct hb_plan *plan, const char *why)
{
	size_t n = 0;

	for (size_t i = 0; i < plan->n_mounts; i++)
		n += strcmp(plan->mounts[i].why, why) == 0;
	return n;
}

static const struct hb_rlimit *rlimit_of(const struct hb_plan *plan,
					 int resource)
{
	for (size_t i = 0; i < plan->n_rlimits; i++)
		if (plan->rlimits[i].resource == resource)
			return &plan->rlimits[i];
	cr_assert_fail("no rlimit %d", resource);
	return NULL;
}

Test(plan, system_mounts)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	const struct hb_mount *m;

	build_ok(&plan, &p, "", &inv);
	m = must_find(&plan, "/proc");
	cr_assert_eq(m->kind, HB_MNT_PROC);
	cr_assert_str_eq(m->data, "hidepid=invisible");
	cr_assert_eq(m->attrs, ATTR_RW);
	m = must_find(&plan, "/tmp");
	cr_assert_eq(m->kind, HB_MNT_TMPFS);
	cr_assert_str_eq(m->data, "mode=1777,size=64m,nr_inodes=16384");
	cr_assert_eq(m->attrs, ATTR_RW);
	m = must_find(&plan, "/dev/shm");
	cr_assert_eq(m->kind, HB_MNT_TMPFS);
	cr_assert_str_eq(m->data, "mode=1777,size=64m,nr_inodes=16384");
	cr_assert_eq(m->attrs, ATTR_RW);
	/* /dev and its nodes cannot be nodev, or the nodes would not work. */
	m = must_find(&plan, "/dev");
	cr_assert_eq(m->kind, HB_MNT_TMPFS);
	cr_assert_eq(m->attrs, HB_ATTR_NOSUID | HB_ATTR_NOEXEC);
	cr_assert_str_eq(m->data, "mode=0755,size=64k");
	cr_assert_null(m->source);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, dev_nodes_and_links)
{
	static const char *const nodes[] = {"/dev/null", "/dev/zero",
					    "/dev/full", "/dev/random",
					    "/dev/urandom"};
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	const struct hb_mount *m;

	build_ok(&plan, &p, "", &inv);
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		m = must_find(&plan, nodes[i]);
		cr_assert_eq(m->kind, HB_MNT_BIND);
		cr_assert_str_eq(m->source, nodes[i]);
		cr_assert_eq(m->attrs, HB_ATTR_NOSUID | HB_ATTR_NOEXEC, "%s",
			     nodes[i]);
		cr_assert_not(m->is_dir);
	}
	cr_assert_null(find(&plan, "/dev/sda"));
	cr_assert_null(find(&plan, "/dev/tty"));
	m = must_find(&plan, "/dev/fd");
	cr_assert_eq(m->kind, HB_MNT_SYMLINK);
	cr_assert_str_eq(m->data, "/proc/self/fd");
	m = must_find(&plan, "/dev/stderr");
	cr_assert_eq(m->kind, HB_MNT_SYMLINK);
	cr_assert_str_eq(m->data, "/proc/self/fd/2");
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, tmp_size_from_policy)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	build_ok(&plan, &p, "[execution]\ntmp_size_mb = 16\n", &inv);
	cr_assert_str_eq(must_find(&plan, "/tmp")->data,
			 "mode=1777,size=16m,nr_inodes=4096");
	cr_assert_str_eq(must_find(&plan, "/dev/shm")->data,
			 "mode=1777,size=16m,nr_inodes=4096");
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

static const char *ipc_value(const struct hb_plan *plan, const char *name)
{
	for (size_t i = 0; i < plan->n_ipc; i++)
		if (strcmp(plan->ipc[i].name, name) == 0)
			return plan->ipc[i].value;
	cr_assert_fail("no %s among the IPC limits", name);
	return NULL;
}

/* All of System V IPC together within memory_mb: shared memory half,
 * message queues a quarter (counting HB_IPC_MSG_BYTES a message, and a
 * queue holding as many messages as msgmnb bytes), semaphores 512 KiB. */
Test(plan, ipc_limits_in_proportion_to_memory_mb)
{
	const unsigned long long mib = 1024 * 1024;
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	unsigned long long msgmni, msgmnb, shmmax, shmall;

	build_ok(&plan, &p, "[execution]\nmemory_mb = 256\n", &inv);
	cr_assert_eq(plan.n_ipc, 7);
	cr_assert_str_eq(ipc_value(&plan, "kernel/sem"), "250 8000 32 32");
	msgmni = strtoull(ipc_value(&plan, "kernel/msgmni"), NULL, 10);
	msgmnb = strtoull(ipc_value(&plan, "kernel/msgmnb"), NULL, 10);
	cr_assert_eq(msgmni, 16);
	cr_assert_eq(msgmnb, 32768);
	cr_assert_eq(msgmni * msgmnb * HB_IPC_MSG_BYTES, 256 * mib / 4);
	cr_assert_str_eq(ipc_value(&plan, "kernel/msgmax"), "8192");
	cr_assert_str_eq(ipc_value(&plan, "kernel/shmmni"), "32");
	shmmax = strtoull(ipc_value(&plan, "kernel/shmmax"), NULL, 10);
	shmall = strtoull(ipc_value(&plan, "kernel/shmall"), NULL, 10);
	cr_assert_eq(shmmax, 128 * mib);
	cr_assert_eq(shmall * (unsigned long long)sysconf(_SC_PAGESIZE),
		     128 * mib);
	hb_plan_free(&plan);
	hb_policy_free(&p);

	/* A queue smaller than the kernel's msgmax makes msgmax smaller. */
	build_ok(&plan, &p, "[execution]\nmemory_mb = 16\n", &inv);
	cr_assert_str_eq(ipc_value(&plan, "kernel/msgmnb"), "2048");
	cr_assert_str_eq(ipc_value(&plan, "kernel/msgmax"), "2048");
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

/* Unprivileged, nobody in the sandbox is its IPC namespace's root, the
 * only one who may lower its limits: the plan does not pretend to. */
Test(plan, ipc_limits_only_as_root)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	inv.uid = inv.euid = 1000;
	inv.gid = 1000;
	build_ok(&plan, &p, "", &inv);
	cr_assert_eq(plan.n_ipc, 0);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, etc_files_and_interpreter)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	const struct hb_mount *m;

	build_ok(&plan, &p, "", &inv);
	cr_assert_str_eq(plan.interpreter, "/usr/bin/python3");
	m = must_find(&plan, "/etc/hostname");
	cr_assert_eq(m->kind, HB_MNT_FILE);
	cr_assert_str_eq(m->data, "hivebox\n");
	m = must_find(&plan, "/etc/passwd");
	cr_assert_eq(m->kind, HB_MNT_FILE);
	cr_assert_not_null(strstr(m->data, "root:x:0:0:"), "%s", m->data);
	m = must_find(&plan, "/etc/group");
	cr_assert_not_null(strstr(m->data, "root:x:0:"), "%s", m->data);
	/* The interpreter's root: read-only binds and its symlinks. */
	cr_assert_gt(count_why(&plan, "interpreter"), 0);
	for (size_t i = 0; i < plan.n_mounts; i++) {
		m = &plan.mounts[i];
		if (strcmp(m->why, "interpreter") != 0)
			continue;
		cr_assert(m->kind == HB_MNT_BIND || m->kind == HB_MNT_SYMLINK);
		if (m->kind == HB_MNT_BIND)
			cr_assert_eq(m->attrs, ATTR_RO, "%s", m->target);
	}
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, sorted_parents_first)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	const struct hb_mount *m = NULL;

	build_ok(&plan, &p,
		 "[filesystem]\nread_write = data/sub\nread_only = data\n",
		 &inv);
	for (size_t i = 0; i < plan.n_mounts; i++) {
		m = &plan.mounts[i];
		if (i)
			cr_assert_leq(strcmp(m[-1].target, m->target), 0,
				      "%s before %s", m[-1].target, m->target);
		for (size_t j = i + 1; j < plan.n_mounts; j++)
			cr_assert_not(hb_path_under(m->target,
						    plan.mounts[j].target) &&
					      strcmp(m->target,
						     plan.mounts[j].target),
				      "%s comes before its parent %s",
				      m->target, plan.mounts[j].target);
	}
	/* The read-only parent is mounted before the read-write child,
	 * although the policy names them the other way round. */
	cr_assert_not_null(find_in(&plan, "data"));
	cr_assert_not_null(find_in(&plan, "data/sub"));
	cr_assert_lt(find_in(&plan, "data"), find_in(&plan, "data/sub"));
	cr_assert_lt(must_find(&plan, "/dev"), must_find(&plan, "/dev/null"));
	cr_assert_lt(must_find(&plan, "/dev"), must_find(&plan, "/dev/shm"));
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, equal_targets_keep_their_order)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	size_t n = 0;
	unsigned last = 0;

	build_ok(&plan, &p, "[filesystem]\nread_only = data, ./data, data/.\n",
		 &inv);
	for (size_t i = 0; i < plan.n_mounts; i++) {
		if (strcmp(plan.mounts[i].why, "read_only") != 0)
			continue;
		if (n++)
			cr_assert_gt(plan.mounts[i].seq, last);
		last = plan.mounts[i].seq;
	}
	cr_assert_eq(n, 3);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, script_bound_read_only_noexec)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	char *want = path_join(dir, "job.py");
	const struct hb_mount *m;

	build_ok(&plan, &p, "", &inv);
	cr_assert_str_eq(plan.script, want);
	m = must_find(&plan, want);
	cr_assert_eq(m->kind, HB_MNT_BIND);
	cr_assert_str_eq(m->source, want);
	cr_assert_eq(m->attrs, ATTR_RO | HB_ATTR_NOEXEC);
	cr_assert_not(m->is_dir);
	cr_assert_str_eq(m->why, "script");
	cr_assert_eq(count_why(&plan, "script"), 1);
	hb_plan_free(&plan);
	hb_policy_free(&p);
	free(want);
}

Test(plan, script_path_is_made_absolute)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	char *want = path_join(dir, "job.py");

	inv.script = "./sub/../job.py";
	build_ok(&plan, &p, "", &inv);
	cr_assert_str_eq(plan.script, want);
	cr_assert_str_eq(must_find(&plan, want)->why, "script");
	hb_plan_free(&plan);
	hb_policy_free(&p);
	/* An absolute script path, from another directory. */
	inv = invocation();
	inv.script = want;
	inv.cwd = "/";
	build_ok(&plan, &p, "", &inv);
	cr_assert_str_eq(plan.script, want);
	cr_assert_str_eq(must_find(&plan, want)->why, "script");
	hb_plan_free(&plan);
	hb_policy_free(&p);
	free(want);
}

/* The script is opened once, following no symlink: a name that a
 * writer of its directory could point elsewhere is refused, and the
 * message names the real path. */
Test(plan, script_symlink_is_refused)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};
	char want[1024];

	inv.script = "alias.py";
	snprintf(want, sizeof(want),
		 "cannot use script: it has a symlink on its way (it resolves "
		 "to %s/job.py); name that path instead",
		 dir);
	build_fails("", &inv, &d, want);
	cr_assert_str_eq(d.file, "alias.py");
	inv.script = "link/in.csv";
	build_fails("", &inv, &d, "it has a symlink on its way");
}

static void same_inode(int fd, const char *path)
{
	struct stat a, b;

	cr_assert_eq(fstat(fd, &a), 0);
	cr_assert_eq(stat(path, &b), 0);
	cr_assert(a.st_dev == b.st_dev && a.st_ino == b.st_ino,
		  "fd %d is not %s", fd, path);
}

/* What the start record hashes and what the sandbox mounts is the one
 * descriptor the plan opened: the script's own, and its bind's, on the
 * same inode. */
Test(plan, script_opened_once_for_hash_and_bind)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	char *want = path_join(dir, "job.py");
	const struct hb_mount *m;

	build_ok(&plan, &p, "", &inv);
	cr_assert_geq(plan.script_fd, 0);
	same_inode(plan.script_fd, want);
	cr_assert_eq(fcntl(plan.script_fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	m = must_find(&plan, want);
	cr_assert_geq(m->fd, 0);
	cr_assert_neq(m->fd, plan.script_fd);
	same_inode(m->fd, want);
	hb_plan_free(&plan);
	hb_policy_free(&p);
	free(want);
}

/* A FIFO would block an open for reading until a writer came, and
 * /dev/zero would feed the hash for ever: both are refused at once. */
Test(plan, script_fifo_or_device_refused_at_once, .timeout = 10)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};
	char *fifo = path_join(dir, "fifo.py");

	cr_assert_eq(mkfifo(fifo, 0644), 0);
	inv.script = "fifo.py";
	build_fails("", &inv, &d, "cannot use script: not a regular file");
	/* Refused by its name, before anything opens it. */
	inv.script = "/dev/zero";
	build_fails("", &inv, &d,
		    "cannot use script: it lies in the host's /dev");
	free(fifo);
}

Test(plan, script_larger_than_the_bound_refused)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};
	char *big = path_join(dir, "big.py");
	int fd = open(big, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

	/* Sparse: no 64 MiB is written. */
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)HB_SCRIPT_MAX_BYTES + 1), 0);
	close(fd);
	inv.script = "big.py";
	build_fails("", &inv, &d, "cannot use script: larger than 64 MiB");
	free(big);
}

/* Started as root, the policy's paths and the script are opened as root
 * and given as their owner's: a root-only directory, a mode-600 script
 * or file, which the bare root job read, are the sandbox's to read. */
Test(plan, root_only_paths_are_given_as_their_owner)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	char *private = path_join(dir, "private");
	char *secret = path_join(dir, "private/secret.py");
	char *key = path_join(dir, "private/key");

	if (geteuid() != 0)
		cr_skip_test("needs root to plan a root-only path");
	make_dir(dir, "private");
	make_dir(dir, "private/in");
	make_file(dir, "private/secret.py", "pass\n");
	make_file(dir, "private/key", "k\n");
	cr_assert_eq(chmod(private, 0700), 0);
	cr_assert_eq(chmod(secret, 0600), 0);
	cr_assert_eq(chmod(key, 0600), 0);
	inv.script = "private/secret.py";
	build_ok(&plan, &p,
		 "[filesystem]\nread_only = private/in\nread_only = "
		 "private/key\nread_write = out\n",
		 &inv);
	cr_assert(find_in(&plan, "private/in")->idmap);
	cr_assert(find_in(&plan, "private/key")->idmap);
	cr_assert(find_in(&plan, "private/secret.py")->idmap);
	same_inode(plan.script_fd, secret);
	hb_plan_free(&plan);
	hb_policy_free(&p);
	free(private);
	free(secret);
	free(key);
}

/* The idmap is data of the plan: every listed path and the script, with
 * the owner and group of the inode opened; nothing else. */
Test(plan, idmap_plan_names_each_paths_owner)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	char *svc = path_join(dir, "svc");
	const struct hb_mount *m;

	if (geteuid() != 0)
		cr_skip_test("needs root to give a directory to another uid");
	make_dir(dir, "svc");
	cr_assert_eq(chown(svc, 43210, 43211), 0);
	cr_assert_eq(chmod(svc, 0700), 0);
	build_ok(&plan, &p,
		 "[filesystem]\nread_only = data\nread_write = svc\n", &inv);
	m = find_in(&plan, "svc");
	cr_assert(m->idmap);
	cr_assert_eq(m->owner_uid, 43210);
	cr_assert_eq(m->owner_gid, 43211);
	cr_assert_str_eq(m->listed_in, "test.ini");
	cr_assert_eq(m->listed_line, 3);
	m = find_in(&plan, "data");
	cr_assert(m->idmap);
	cr_assert_eq(m->owner_uid, 0);
	cr_assert_eq(m->owner_gid, 0);
	cr_assert_eq(m->listed_line, 2);
	m = find_in(&plan, "job.py");
	cr_assert(m->idmap);
	cr_assert_eq(m->owner_uid, 0);
	cr_assert_str_eq(m->why, "script");
	cr_assert_str_eq(m->listed_in, "job.py");
	/* The interpreter's files, /dev and /etc are mounted as they are:
	 * the sandbox reads them as any other user would. */
	for (size_t i = 0; i < plan.n_mounts; i++) {
		const char *why = plan.mounts[i].why;
		bool listed = strcmp(why, "read_only") == 0 ||
			      strcmp(why, "read_write") == 0 ||
			      strcmp(why, "script") == 0;
		cr_assert_eq(plan.mounts[i].idmap, listed, "%s (%s)",
			     plan.mounts[i].target, why);
		if (!listed)
			cr_assert_null(plan.mounts[i].listed_in);
	}
	cr_assert_gt(count_why(&plan, "interpreter"), 0);
	hb_plan_free(&plan);
	hb_policy_free(&p);
	free(svc);
}

/* Started unprivileged, the caller's ids map to themselves: no idmap. */
Test(plan, idmap_none_unprivileged)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	inv.uid = inv.euid = 1000;
	inv.gid = 1000;
	build_ok(&plan, &p,
		 "[filesystem]\nread_only = data\nread_write = out\n", &inv);
	cr_assert_not(plan.host_uid_at_start);
	for (size_t i = 0; i < plan.n_mounts; i++)
		cr_assert_not(plan.mounts[i].idmap, "%s",
			      plan.mounts[i].target);
	cr_assert_eq(count_why(&plan, "read_only"), 1);
	cr_assert_eq(count_why(&plan, "script"), 1);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

static void chmod_in(const char *name, mode_t mode)
{
	char *path = path_join(dir, name);

	cr_assert_eq(chmod(path, mode), 0);
	free(path);
}

/* What the owner could not do there is refused before anything runs,
 * with the owner, the mode and the fix, at the policy's line. */
Test(plan, owner_refusals)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};
	char want[1024];

	if (geteuid() != 0)
		cr_skip_test("needs root: the owner's rights apply to root");
	make_file(dir, "out/report.txt", "old\n");
	chmod_in("out", 0555);
	snprintf(want, sizeof(want),
		 "read_write %s/out is owned by root (uid 0) with mode 0555: "
		 "its owner cannot write it; chmod u+w %s/out, or list it in "
		 "read_only",
		 dir, dir);
	build_fails("[filesystem]\nread_write = out\n", &inv, &d, want);
	cr_assert_str_eq(d.msg, want);
	cr_assert_str_eq(d.file, "test.ini");
	cr_assert_eq(d.line, 2);
	/* Not even readable: read_only would not do either. */
	chmod_in("out", 0200);
	snprintf(want, sizeof(want),
		 "read_write %s/out is owned by root (uid 0) with mode 0200: "
		 "its owner cannot write it; chmod u+x %s/out",
		 dir, dir);
	build_fails("[filesystem]\nread_write = out\n", &inv, &d, want);
	cr_assert_str_eq(d.msg, want);
	chmod_in("out", 0755);
	chmod_in("data/in.csv", 0200);
	snprintf(want, sizeof(want),
		 "read_only %s/data/in.csv is owned by root (uid 0) with mode "
		 "0200: its owner cannot read it; chmod u+r %s/data/in.csv",
		 dir, dir);
	build_fails("[filesystem]\nread_only = data/in.csv\n", &inv, &d, want);
	cr_assert_str_eq(d.msg, want);
	chmod_in("data/in.csv", 0644);
	chmod_in("data", 0311);
	snprintf(want, sizeof(want),
		 "read_only %s/data is owned by root (uid 0) with mode 0311: "
		 "its owner cannot read it; chmod u+r %s/data",
		 dir, dir);
	build_fails("[filesystem]\nread_only = data\n", &inv, &d, want);
	cr_assert_str_eq(d.msg, want);
	chmod_in("data", 0755);
	chmod_in("job.py", 0200);
	snprintf(want, sizeof(want),
		 "cannot use script: %s/job.py is owned by root (uid 0) with "
		 "mode 0200: its owner cannot read it; chmod u+r %s/job.py",
		 dir, dir);
	build_fails("", &inv, &d, want);
	cr_assert_str_eq(d.msg, want);
	cr_assert_str_eq(d.file, "job.py");
	cr_assert_eq(d.line, 0);
}

/* A script inside a listed directory is read there as that directory's
 * owner: one of another owner must be readable by others. */
Test(plan, script_in_a_directory_of_another_owner)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};
	char *sub = path_join(dir, "sub");
	char want[1024];

	if (geteuid() != 0)
		cr_skip_test("needs root to give a directory to another uid");
	cr_assert_eq(chown(sub, 43210, 43210), 0);
	chmod_in("sub/job2.py", 0640);
	inv.script = "sub/job2.py";
	snprintf(want, sizeof(want),
		 "cannot use script: in %s the sandbox acts as its owner, uid "
		 "43210, who cannot read %s/job2.py (owned by root (uid 0), "
		 "mode 0640); chown 43210 %s/job2.py, or chmod o+r %s/job2.py",
		 sub, sub, sub, sub);
	build_fails("[filesystem]\nread_only = sub\n", &inv, &d, want);
	cr_assert_str_eq(d.msg, want);
	free(sub);
}

Test(plan, script_inside_read_only_dir_not_bound_again)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	const struct hb_mount *m;

	char *script = path_join(dir, "sub/job2.py");

	inv.script = "sub/job2.py";
	build_ok(&plan, &p, "[filesystem]\nread_only = sub\n", &inv);
	cr_assert_eq(count_why(&plan, "script"), 0);
	cr_assert_null(find_in(&plan, "sub/job2.py"));
	m = find_in(&plan, "sub");
	cr_assert_not_null(m);
	cr_assert(m->is_dir);
	cr_assert_eq(m->attrs, ATTR_RO);
	/* Hashed all the same, opened through the directory's descriptor. */
	same_inode(plan.script_fd, script);
	free(script);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, read_only_and_read_write_attrs)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	char *data = path_join(dir, "data");
	const struct hb_mount *m;
	struct stat st;

	build_ok(&plan, &p,
		 "[filesystem]\nread_only = data, data/in.csv\n"
		 "read_write = out\n",
		 &inv);
	m = find_in(&plan, "data");
	cr_assert_not_null(m);
	cr_assert_eq(m->kind, HB_MNT_BIND);
	cr_assert_str_eq(m->source, data);
	cr_assert_eq(m->attrs, ATTR_RO);
	cr_assert(m->is_dir);
	cr_assert_str_eq(m->why, "read_only");
	/* Opened once; the sandbox gets this inode. */
	same_inode(m->fd, data);
	cr_assert_eq(stat(data, &st), 0);
	cr_assert(m->dev == st.st_dev && m->ino == st.st_ino);
	m = find_in(&plan, "data/in.csv");
	cr_assert_not_null(m);
	cr_assert_not(m->is_dir);
	cr_assert_eq(m->attrs, ATTR_RO);
	m = find_in(&plan, "out");
	cr_assert_not_null(m);
	cr_assert_eq(m->attrs, ATTR_RW);
	cr_assert_not(m->attrs & HB_ATTR_RDONLY);
	cr_assert(m->is_dir);
	cr_assert_str_eq(m->why, "read_write");
	hb_plan_free(&plan);
	hb_policy_free(&p);
	free(data);
}

Test(plan, relative_paths_against_cwd)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	char *out = path_join(dir, "out");
	char text[1024];

	/* From dir/sub, "../data" is dir/data; an absolute path stays. */
	inv.cwd = path_join(dir, "sub");
	inv.script = "job2.py";
	snprintf(
		text, sizeof(text),
		"[filesystem]\nread_only = ../data/./sub/..\nread_write = %s\n",
		out);
	build_ok(&plan, &p, text, &inv);
	cr_assert_not_null(find_in(&plan, "data"));
	cr_assert_null(find(&plan, "../data/./sub/.."));
	cr_assert_eq(must_find(&plan, out)->attrs, ATTR_RW);
	cr_assert_str_eq(plan.cwd, inv.cwd);
	hb_plan_free(&plan);
	hb_policy_free(&p);
	free((char *)inv.cwd);
	free(out);
}

/* Whoever can replace a directory on the way could point the sandbox at
 * anything root reads: a symlink anywhere in a policy path is refused,
 * and the message names the real path to use instead. */
Test(plan, read_only_symlink_is_refused)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};
	char want[1024];

	snprintf(want, sizeof(want),
		 "read_only path 'link' has a symlink on its way (it resolves "
		 "to %s/data); name that path instead",
		 dir);
	build_fails("[filesystem]\nread_only = link\n", &inv, &d, want);
	cr_assert_eq(d.line, 2);
	snprintf(want, sizeof(want),
		 "read_only path 'link/.' has a symlink on its way");
	build_fails("[filesystem]\nread_only = link/.\n", &inv, &d, want);
}

Test(plan, host_roots_are_refused)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};

	build_fails("[filesystem]\nread_only = /\n", &inv, &d,
		    "collides with the sandbox's own /");
	build_fails("[filesystem]\nread_only = /sys/kernel\n", &inv, &d,
		    "read_only path '/sys/kernel' would give the sandbox the "
		    "host's /sys/kernel");
}

Test(plan, missing_path)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};
	char want[1024];

	snprintf(want, sizeof(want),
		 "read_only path 'nope' (%s/nope): No such file or directory",
		 dir);
	build_fails("[filesystem]\n\nread_only = data, nope\n", &inv, &d, want);
	cr_assert_str_eq(d.file, "test.ini");
	cr_assert_eq(d.line, 3);
	build_fails("[filesystem]\nread_write = out/missing\n", &inv, &d,
		    "read_write path 'out/missing'");
	cr_assert_eq(d.line, 2);
}

Test(plan, read_write_symlink)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};
	char want[1024];

	snprintf(want, sizeof(want),
		 "read_write path 'link' (%s/link) is a symlink", dir);
	build_fails("[filesystem]\nread_write = link\n", &inv, &d, want);
	cr_assert_str_eq(d.file, "test.ini");
	cr_assert_eq(d.line, 2);
}

Test(plan, reserved_targets)
{
	static const struct {
		const char *path, *abs;
	} cases[] = {
		{"/proc/self", "/proc/self"},
		{"/proc/sys/kernel", "/proc/sys/kernel"},
		{"/proc", "/proc"},
		{"/dev/sda", "/dev/sda"},
		{"/dev/null", "/dev/null"},
		{"/dev/shm", "/dev/shm"},
		{"/dev/nonexistent", "/dev/nonexistent"},
		{"/tmp", "/tmp"},
		{"/tmp/../tmp/", "/tmp"},
		{"/", "/"},
		{"/etc", "/etc"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hb_invocation inv = invocation();
		struct hb_diag d = {0};
		char text[256], want[256];

		snprintf(text, sizeof(text), "[filesystem]\nread_only = %s\n",
			 cases[i].path);
		snprintf(want, sizeof(want),
			 "read_only path '%s' collides with the sandbox's own "
			 "%s",
			 cases[i].path, cases[i].abs);
		build_fails(text, &inv, &d, want);
		cr_assert_eq(d.line, 2);
	}
}

Test(plan, below_tmp_is_not_reserved)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	/* dir itself lives in /tmp: only /tmp itself is the sandbox's. */
	build_ok(&plan, &p, "[filesystem]\nread_only = .\n", &inv);
	cr_assert_not_null(find(&plan, dir));
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, two_spellings_ro_and_rw)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};
	char want[1024];

	snprintf(want, sizeof(want),
		 "'%s/data' is both read_only and read_write", dir);
	build_fails("[filesystem]\nread_only = data\nread_write = ./data/\n",
		    &inv, &d, want);
	cr_assert_eq(d.line, 3);
}

Test(plan, missing_interpreter)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};

	build_fails("[execution]\ninterpreter = /nonexistent/python3\n", &inv,
		    &d,
		    "interpreter '/nonexistent/python3' cannot be run: No such "
		    "file or directory");
	cr_assert_str_eq(d.file, "test.ini");
	cr_assert_eq(d.line, 2);
}

Test(plan, interpreter_without_manifest)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};

	build_fails("[execution]\n\ninterpreter = /bin/sh\n", &inv, &d,
		    "no root file system manifest for interpreter '/bin/sh'");
	cr_assert_eq(d.line, 3);
}

Test(plan, missing_script)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};

	inv.script = "missing.py";
	build_fails("", &inv, &d,
		    "cannot use script: No such file or directory");
	cr_assert_str_eq(d.file, "missing.py");
	cr_assert_eq(d.line, 0);
}

Test(plan, script_not_regular)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};

	inv.script = "data";
	build_fails("", &inv, &d, "cannot use script: not a regular file");
	cr_assert_str_eq(d.file, "data");
	inv.script = "/dev/null";
	build_fails("", &inv, &d, "it lies in the host's /dev");
	/* A directory the policy grants, named as the script. */
	inv.script = "data";
	build_fails("[filesystem]\nread_only = data\n", &inv, &d,
		    "cannot use script: not a regular file");
}

Test(plan, start_directory_when_not_covered)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	const struct hb_mount *m;

	build_ok(&plan, &p, "", &inv);
	cr_assert_str_eq(plan.cwd, dir);
	m = must_find(&plan, dir);
	cr_assert_eq(m->kind, HB_MNT_DIR);
	cr_assert_null(m->source);
	cr_assert_str_eq(m->why, "start directory");
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, start_directory_covered)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	/* Covered by a read_only bind of it: no empty directory, and the
	 * script inside is not bound on its own. */
	build_ok(&plan, &p, "[filesystem]\nread_only = .\n", &inv);
	for (size_t i = 0; i < plan.n_mounts; i++)
		cr_assert_neq(plan.mounts[i].kind, HB_MNT_DIR, "%s",
			      plan.mounts[i].target);
	cr_assert_eq(must_find(&plan, dir)->kind, HB_MNT_BIND);
	cr_assert_eq(count_why(&plan, "script"), 0);
	hb_plan_free(&plan);
	hb_policy_free(&p);
	/* Covered by a read_write bind of a parent. */
	inv = invocation();
	inv.cwd = path_join(dir, "out");
	inv.script = "../job.py";
	build_ok(&plan, &p, "[filesystem]\nread_write = ..\n", &inv);
	cr_assert_null(find(&plan, inv.cwd));
	cr_assert_eq(count_why(&plan, "start directory"), 0);
	hb_plan_free(&plan);
	hb_policy_free(&p);
	free((char *)inv.cwd);
}

/* [execution] workdir stands in for the directory hivebox was started
 * in: the script, relative policy paths and the start directory resolve
 * against it.  From dir itself, neither job2.py nor ../data exists. */
Test(plan, workdir_replaces_the_start_directory)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	char *sub = path_join(dir, "sub");
	char *script = path_join(dir, "sub/job2.py");
	const struct hb_mount *m;
	char text[1024];

	inv.script = "job2.py";
	snprintf(text, sizeof(text),
		 "[execution]\nworkdir = %s/./\n"
		 "[filesystem]\nread_only = ../data\n",
		 sub);
	build_ok(&plan, &p, text, &inv);
	cr_assert_str_eq(plan.cwd, sub);
	cr_assert_str_eq(plan.script, script);
	cr_assert_eq(find_in(&plan, "data")->attrs, ATTR_RO);
	m = must_find(&plan, sub);
	cr_assert_eq(m->kind, HB_MNT_DIR);
	cr_assert_str_eq(m->why, "start directory");
	cr_assert_null(find(&plan, dir), "the caller's directory is not made");
	hb_plan_free(&plan);
	hb_policy_free(&p);
	free(script);
	free(sub);
}

Test(plan, workdir_must_be_a_directory)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};
	char text[1024];

	snprintf(text, sizeof(text), "[execution]\n\nworkdir = %s/missing\n",
		 dir);
	build_fails(text, &inv, &d, "/missing': No such file or directory");
	cr_assert_str_eq(d.file, "test.ini");
	cr_assert_eq(d.line, 3);
	cr_assert_eq(strncmp(d.msg, "workdir '", 9), 0, "%s", d.msg);
	snprintf(text, sizeof(text), "[execution]\nworkdir = %s/job.py\n", dir);
	memset(&d, 0, sizeof(d));
	build_fails(text, &inv, &d, "/job.py': Not a directory");
	cr_assert_str_eq(d.file, "test.ini");
	cr_assert_eq(d.line, 2);
}

Test(plan, start_directory_reserved)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	char *script = path_join(dir, "job.py");

	inv.cwd = "/tmp";
	inv.script = script;
	build_ok(&plan, &p, "", &inv);
	cr_assert_eq(count_why(&plan, "start directory"), 0);
	cr_assert_eq(must_find(&plan, "/tmp")->kind, HB_MNT_TMPFS);
	hb_plan_free(&plan);
	hb_policy_free(&p);
	free(script);
}

/* host_uid = auto is taken when the run starts, under a lock (ids.c):
 * the plan holds no uid of its own making, which another run could
 * share. */
Test(plan, ids_root_auto)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	build_ok(&plan, &p, "", &inv);
	cr_assert(plan.privileged);
	cr_assert(plan.host_uid_at_start);
	cr_assert_eq(plan.inside_uid, 0);
	cr_assert_eq(plan.inside_gid, 0);
	cr_assert_eq(plan.host_uid, HB_UID_UNSET);
	cr_assert_eq(plan.host_gid, (gid_t)HB_UID_UNSET);
	hb_plan_free(&plan);
	hb_policy_free(&p);
	build_ok(&plan, &p, "[identity]\nhost_uid = auto\n", &inv);
	cr_assert(plan.host_uid_at_start);
	cr_assert_eq(plan.host_uid, HB_UID_UNSET);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, ids_root_explicit)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	build_ok(&plan, &p, "[identity]\nhost_uid = 12345\n", &inv);
	/* A fixed uid is the policy's: every run of it shares it. */
	cr_assert_not(plan.host_uid_at_start);
	cr_assert_eq(plan.host_uid, 12345);
	cr_assert_eq(plan.host_gid, 12345);
	cr_assert_eq(plan.inside_uid, 0);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

/* The kernel exempts host root from RLIMIT_NPROC: max_processes, which
 * every policy has, would bound nothing.  The message names both keys'
 * origins and what to change. */
Test(plan, ids_host_root_is_refused)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};

	build_fails("[execution]\nmax_processes = 4\n[identity]\n"
		    "host_uid = root\n",
		    &inv, &d,
		    "host_uid = root would leave max_processes = 4 "
		    "(test.ini:2) unenforced: the kernel does not apply "
		    "RLIMIT_NPROC to host root; set host_uid = auto or a "
		    "dedicated uid");
	cr_assert_str_eq(d.file, "test.ini");
	cr_assert_eq(d.line, 4);
	build_fails("[identity]\nhost_uid = root\n", &inv, &d,
		    "max_processes = 16 (built-in default) unenforced");
	cr_assert_eq(d.line, 2);
}

Test(plan, ids_unprivileged)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	const struct hb_mount *m;

	inv.uid = inv.euid = 1000;
	inv.gid = 1001;
	build_ok(&plan, &p, "", &inv);
	cr_assert_not(plan.privileged);
	cr_assert_eq(plan.inside_uid, 1000);
	cr_assert_eq(plan.host_uid, 1000);
	cr_assert_eq(plan.inside_gid, 1001);
	cr_assert_eq(plan.host_gid, 1001);
	m = must_find(&plan, "/etc/passwd");
	cr_assert_not_null(strstr(m->data, "sandbox:x:1000:1001:"), "%s",
			   m->data);
	cr_assert_null(strstr(m->data, "root"), "%s", m->data);
	cr_assert_not_null(strstr(must_find(&plan, "/etc/group")->data,
				  "sandbox:x:1001:"));
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, ids_unprivileged_cannot_pick_host_uid)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};

	inv.uid = inv.euid = 1000;
	build_fails("[identity]\nhost_uid = root\n", &inv, &d,
		    "host_uid = root needs hivebox to be started as root");
	cr_assert_str_eq(d.file, "test.ini");
	cr_assert_eq(d.line, 2);
	build_fails("[identity]\n\nhost_uid = 12345\n", &inv, &d,
		    "host_uid = 12345 needs hivebox to be started as root");
	cr_assert_eq(d.line, 3);
}

static bool env_has(const struct hb_plan *plan, const char *entry)
{
	return hb_strv_contains(&plan->env, entry);
}

Test(plan, environment_defaults_only)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	build_ok(&plan, &p, "", &inv);
	cr_assert_eq(plan.env.n, 3);
	cr_assert_str_eq(plan.env.v[0], "PATH=/usr/bin:/bin");
	cr_assert_str_eq(plan.env.v[1], "HOME=/tmp");
	cr_assert_str_eq(plan.env.v[2], "LANG=C.UTF-8");
	cr_assert_null(plan.env.v[3]);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, environment_keep)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	build_ok(&plan, &p, "[environment]\nkeep = FOO, ABSENT, TZ\n", &inv);
	cr_assert(env_has(&plan, "FOO=bar"));
	cr_assert(env_has(&plan, "TZ=Etc/UTC"));
	cr_assert_not(env_has(&plan, "FOOBAR=no"), "FOO does not keep FOOBAR");
	cr_assert_eq(plan.env.n, 5, "ABSENT adds nothing");
	for (size_t i = 0; i < plan.env.n; i++)
		cr_assert_neq(strncmp(plan.env.v[i], "ABSENT", 6), 0);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, environment_keep_replaces_default)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	build_ok(&plan, &p, "[environment]\nkeep = LANG\n", &inv);
	cr_assert_eq(plan.env.n, 3);
	cr_assert(env_has(&plan, "LANG=de_DE.UTF-8"));
	cr_assert_not(env_has(&plan, "LANG=C.UTF-8"));
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, environment_set_overrides)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	build_ok(&plan, &p,
		 "[environment]\nkeep = FOO\nset = FOO=set\nset = HOME=/work\n"
		 "set = NEW=a=b\n",
		 &inv);
	cr_assert(env_has(&plan, "FOO=set"));
	cr_assert_not(env_has(&plan, "FOO=bar"));
	cr_assert(env_has(&plan, "HOME=/work"));
	cr_assert_not(env_has(&plan, "HOME=/tmp"));
	cr_assert(env_has(&plan, "NEW=a=b"));
	cr_assert(env_has(&plan, "PATH=/usr/bin:/bin"));
	cr_assert_eq(plan.env.n, 5);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, environment_never_leaks_the_rest)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	build_ok(&plan, &p, "[environment]\nkeep = FOO, TZ\nset = X=1\n", &inv);
	for (size_t i = 0; i < plan.env.n; i++) {
		cr_assert_null(strstr(plan.env.v[i], "SECRET"), "%s",
			       plan.env.v[i]);
		cr_assert_null(strstr(plan.env.v[i], "hunter2"), "%s",
			       plan.env.v[i]);
		cr_assert_null(strstr(plan.env.v[i], "/host/bin"), "%s",
			       plan.env.v[i]);
		cr_assert_null(strstr(plan.env.v[i], "/root"), "%s",
			       plan.env.v[i]);
	}
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, argv)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	char *args[] = {"--date", "2026-11-27", "x y", NULL};

	inv.args = args;
	inv.n_args = 3;
	build_ok(&plan, &p, "", &inv);
	/* As "python3 SCRIPT ARGS" bare: no -I, which would drop the
	 * script's directory from sys.path. */
	cr_assert_eq(plan.argv.n, 5);
	cr_assert_str_eq(plan.argv.v[0], "/usr/bin/python3");
	/* Absolute, so that a script named like an option stays a script. */
	cr_assert_str_eq(plan.argv.v[1], plan.script);
	cr_assert_eq(plan.argv.v[1][0], '/');
	cr_assert_str_eq(plan.argv.v[2], "--date");
	cr_assert_str_eq(plan.argv.v[3], "2026-11-27");
	cr_assert_str_eq(plan.argv.v[4], "x y");
	cr_assert_null(plan.argv.v[5]);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, argv_without_args)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	build_ok(&plan, &p, "", &inv);
	cr_assert_eq(plan.argv.n, 2);
	cr_assert_str_eq(plan.argv.v[1], plan.script);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, rlimits)
{
	const rlim_t mib = 1024 * 1024;
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	const struct hb_rlimit *l;

	build_ok(&plan, &p,
		 "[execution]\ncpu_seconds = 7\nmemory_mb = 300\n"
		 "file_size_mb = 3\nmax_processes = 5\nmax_open_files = 40\n",
		 &inv);
	cr_assert_eq(plan.n_rlimits, 6);
	l = rlimit_of(&plan, RLIMIT_CPU);
	cr_assert_eq(l->soft, 7);
	cr_assert_eq(l->hard, 8);
	cr_assert_str_eq(l->name, "cpu");
	/* The backstop: at least 1 GiB above memory_mb... */
	l = rlimit_of(&plan, RLIMIT_AS);
	cr_assert_eq(l->soft, (300 + 1024) * mib);
	cr_assert_eq(l->hard, (300 + 1024) * mib);
	l = rlimit_of(&plan, RLIMIT_FSIZE);
	cr_assert_eq(l->soft, 3 * mib);
	cr_assert_eq(l->hard, 3 * mib);
	l = rlimit_of(&plan, RLIMIT_NPROC);
	cr_assert_eq(l->soft, 6);
	cr_assert_eq(l->hard, 6);
	l = rlimit_of(&plan, RLIMIT_NOFILE);
	cr_assert_eq(l->soft, 40);
	cr_assert_eq(l->hard, 40);
	l = rlimit_of(&plan, RLIMIT_CORE);
	cr_assert_eq(l->soft, 0);
	cr_assert_eq(l->hard, 0);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

/* ...and twice memory_mb past 1 GiB, where the largest allowed policy
 * still fits in 64 bits. */
Test(plan, backstop)
{
	cr_assert_eq(hb_plan_backstop_bytes(16), (16ULL + 1024) << 20);
	cr_assert_eq(hb_plan_backstop_bytes(1024), 2048ULL << 20);
	cr_assert_eq(hb_plan_backstop_bytes(3000), 6000ULL << 20);
	cr_assert_eq(hb_plan_backstop_bytes(1048576), 2097152ULL << 20);
}

Test(plan, timeout_and_hostname)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	build_ok(&plan, &p, "[execution]\ntimeout_seconds = 42\n", &inv);
	cr_assert_eq(plan.timeout_ms, 42000);
	cr_assert_eq(plan.grace_ms, HB_GRACE_MS);
	cr_assert_str_eq(plan.hostname, "hivebox");
	cr_assert_eq(plan.policy, &p);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

/* The run reads its limits and [monitoring] settings from the plan: they
 * are copies, which outlive the policy. */
Test(plan, settings_are_copied_from_the_policy)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();

	struct hb_diag d = {0};

	policy_of(&p, "[execution]\ntimeout_seconds = 42\ncpu_seconds = 7\n"
		      "memory_mb = 300\nfile_size_mb = 9\nmax_processes = 11\n"
		      "max_open_files = 77\ntmp_size_mb = 5\n"
		      "[monitoring]\ncpu_usage_alert = 60\n"
		      "memory_usage_alert = 70\nalert_command = /bin/true\n"
		      "alert_timeout_seconds = 3\nsample_interval_ms = 250\n");
	p.path = strdup("/etc/hivebox/policies/job.ini");
	cr_assert_eq(hb_plan_build(&plan, &p, &inv, &d), 0, "%s", d.msg);
	hb_policy_free(&p);
	cr_assert_eq(plan.limits.timeout_seconds, 42);
	cr_assert_eq(plan.limits.cpu_seconds, 7);
	cr_assert_eq(plan.limits.memory_mb, 300);
	cr_assert_eq(plan.limits.file_size_mb, 9);
	cr_assert_eq(plan.limits.max_processes, 11);
	cr_assert_eq(plan.limits.max_open_files, 77);
	cr_assert_eq(plan.limits.tmp_size_mb, 5);
	cr_assert_eq(plan.monitoring.cpu_alert_pct, 60);
	cr_assert_eq(plan.monitoring.memory_alert_pct, 70);
	cr_assert_str_eq(plan.monitoring.alert_command, "/bin/true");
	cr_assert_eq(plan.monitoring.alert_timeout_s, 3);
	cr_assert_eq(plan.monitoring.sample_ms, 250);
	cr_assert_str_eq(plan.policy_path, "/etc/hivebox/policies/job.ini");
	hb_plan_free(&plan);
}

Test(plan, print)
{
	struct hb_policy p;
	struct hb_plan plan;
	struct hb_invocation inv = invocation();
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	build_ok(&plan, &p, "[filesystem]\nread_write = out\n", &inv);
	p.path = strdup("/etc/hivebox/p.ini");
	f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	hb_plan_print(&plan, f);
	fclose(f);
	cr_assert_not_null(strstr(buf, "policy: /etc/hivebox/p.ini\n"), "%s",
			   buf);
	/* No number the run would not use: auto is taken at start. */
	cr_assert_not_null(strstr(buf, "id map: uid 0 -> host uid allocated "
				       "at start (one of 2000000000-2000065535 "
				       "that no other running sandbox holds), "
				       "gid 0 -> the same number\n"),
			   "%s", buf);
	cr_assert_not_null(strstr(buf, "rw,nosuid,nodev,noexec from "), "%s",
			   buf);
	cr_assert_not_null(strstr(buf, "/out, idmapped as its owner, uid 0 "
				       "gid 0  (read_write)\n"),
			   "%s", buf);
	cr_assert_not_null(strstr(buf, "command: /usr/bin/python3 /"), "%s",
			   buf);
	cr_assert_not_null(strstr(buf, "/job.py\n"), "%s", buf);
	cr_assert_not_null(strstr(buf, "rw,nosuid,nodev,noexec from "), "%s",
			   buf);
	cr_assert_not_null(strstr(buf, "  cpu     soft 60 hard 61\n"), "%s",
			   buf);
	free(buf);
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, mount_kind_names)
{
	cr_assert_str_eq(hb_mount_kind_name(HB_MNT_BIND), "bind");
	cr_assert_str_eq(hb_mount_kind_name(HB_MNT_TMPFS), "tmpfs");
	cr_assert_str_eq(hb_mount_kind_name(HB_MNT_PROC), "proc");
	cr_assert_str_eq(hb_mount_kind_name(HB_MNT_SYMLINK), "symlink");
	cr_assert_str_eq(hb_mount_kind_name(HB_MNT_FILE), "file");
	cr_assert_str_eq(hb_mount_kind_name(HB_MNT_DIR), "dir");
	cr_assert_str_eq(hb_mount_kind_name((enum hb_mount_kind)99), "?");
}

/* mode = filtered: destinations, ports and /etc/hosts, from IP literals
 * only (a name would ask the host's resolver). */
static const char filtered[] =
	"[network]\nmode = filtered\n"
	"allowed_domains = 203.0.113.7, 198.51.100.9, 203.0.113.7\n"
	"allowed_ports = 443, 8443, 443\nblocked_ports = 22\n";

static struct hb_config *test_config(void)
{
	static struct hb_config c;

	memset(&c, 0, sizeof(c));
	c.pool_text = "10.251.0.0/16";
	c.state_dir = "/run/hivebox/network";
	cr_assert_eq(hb_net_pool_parse(c.pool_text, &c.pool), 0);
	return &c;
}

Test(plan, network_none_by_default)
{
	struct hb_invocation inv = invocation();
	struct hb_policy p;
	struct hb_plan plan;

	build_ok(&plan, &p, "", &inv);
	cr_assert_not(plan.net.filtered);
	cr_assert_eq(plan.net.n_ips, 0);
	cr_assert_null(find(&plan, "/etc/resolv.conf"));
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, network_filtered_destinations_once_each)
{
	struct hb_invocation inv = invocation();
	uint32_t a, b;
	struct hb_policy p;
	struct hb_plan plan;
	const struct hb_mount *hosts;

	inv.config = test_config();
	build_ok(&plan, &p, filtered, &inv);
	cr_assert(plan.net.filtered);
	cr_assert_eq(plan.net.n_names, 3);
	cr_assert(plan.net.names[0].literal);
	cr_assert_eq(plan.net.n_ips, 2, "203.0.113.7 once");
	inet_pton(AF_INET, "203.0.113.7", &a);
	inet_pton(AF_INET, "198.51.100.9", &b);
	cr_assert_eq(plan.net.ips[0], a);
	cr_assert_eq(plan.net.ips[1], b);
	cr_assert_eq(plan.net.n_ports, 2, "443 once");
	cr_assert_eq(plan.net.ports[0], 443);
	cr_assert_eq(plan.net.ports[1], 8443);
	cr_assert_eq(plan.net.n_blocked, 1);
	cr_assert_eq(plan.net.blocked[0], 22);
	/* Literals need no line in /etc/hosts; the built-in lines stay. */
	hosts = must_find(&plan, "/etc/hosts");
	cr_assert_not_null(strstr(hosts->data, "127.0.0.1"));
	cr_assert_null(strstr(hosts->data, "203.0.113.7"), "%s", hosts->data);
	/* Port 53 is not allowed: no resolver. */
	cr_assert_eq(plan.net.n_nameservers, 0);
	cr_assert_null(find(&plan, "/etc/resolv.conf"));
	hb_plan_free(&plan);
	hb_policy_free(&p);
}

Test(plan, network_destinations_that_reach_no_host_are_refused)
{
	static const char *const bad[] = {"127.0.0.1", "0.1.2.3", "224.0.0.1",
					  "255.255.255.255"};
	struct hb_invocation inv = invocation();

	inv.config = test_config();
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[256], want[128];
		struct hb_diag d = {0};
		snprintf(text, sizeof(text),
			 "[network]\nmode = filtered\nallowed_domains = %s\n",
			 bad[i]);
		snprintf(want, sizeof(want), "'%s' is %s, a loopback", bad[i],
			 bad[i]);
		build_fails(text, &inv, &d, want);
		cr_assert_eq(d.line, 3, "%s", bad[i]);
	}
}

Test(plan, network_filtered_needs_root)
{
	struct hb_invocation inv = invocation();
	struct hb_diag d = {0};

	inv.uid = inv.euid = inv.gid = 1000;
	build_fails(filtered, &inv, &d,
		    "mode = filtered needs hivebox to be started as root");
	cr_assert_eq(d.line, 2);
}

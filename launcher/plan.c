/* SPDX-License-Identifier: MIT */
#include "monitor.h"
#include "plan_internal.h"
#include "rootfs.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/statfs.h>

static const char *const dev_nodes[] = {"null", "zero", "full", "random",
					"urandom"};

static int add_mount(struct hb_plan *plan, enum hb_mount_kind kind,
		     const char *source, const char *target, const char *data,
		     unsigned attrs, const char *why)
{
	struct hb_mount *m;

	m = realloc(plan->mounts, (plan->n_mounts + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	plan->mounts = m;
	m = &plan->mounts[plan->n_mounts];
	*m = (struct hb_mount){.kind = kind,
			       .attrs = attrs,
			       .fd = -1,
			       .why = why,
			       .seq = (unsigned)plan->n_mounts};
	m->source = source ? strdup(source) : NULL;
	m->target = strdup(target);
	m->data = data ? strdup(data) : NULL;
	plan->n_mounts++;
	if ((source && !m->source) || !m->target || (data && !m->data))
		return -ENOMEM;
	return 0;
}

/* A bind of the host inode fd stands for, st its fstat(); takes fd.  The
 * descriptor is what the sandbox will get; its type decides whether the
 * mount point is a file or a directory. */
int hb_plan_add_bind_fd(struct hb_plan *plan, int fd, const struct stat *st,
			const char *source, const char *target, unsigned attrs,
			const char *why)
{
	_cleanup_close_ int owned = fd;
	struct hb_mount *m;
	int r;

	r = add_mount(plan, HB_MNT_BIND, source, target, NULL, attrs, why);
	if (r < 0)
		return r;
	m = &plan->mounts[plan->n_mounts - 1];
	m->fd = TAKE_FD(owned);
	m->dev = st->st_dev;
	m->ino = st->st_ino;
	m->is_dir = S_ISDIR(st->st_mode);
	return 0;
}

/* A bind of a host path, opened here once, following no symlink. */
static int add_bind(struct hb_plan *plan, const char *source,
		    const char *target, unsigned attrs, const char *why)
{
	_cleanup_close_ int fd =
		hb_open_nofollow(AT_FDCWD, source, O_PATH | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	return hb_plan_add_bind_fd(plan, TAKE_FD(fd), &st, source, target,
				   attrs, why);
}

int hb_plan_add_file(struct hb_plan *plan, const char *target, const char *data,
		     const char *why)
{
	return add_mount(plan, HB_MNT_FILE, NULL, target, data, 0, why);
}

static const struct hb_manifest *find_manifest(const char *interp)
{
	char real[PATH_MAX];

	if (!realpath(interp, real))
		return NULL;
	for (size_t i = 0; i < hb_n_manifests; i++)
		if (strcmp(hb_manifests[i].interpreter, interp) == 0 ||
		    strcmp(hb_manifests[i].realpath, real) == 0)
			return &hb_manifests[i];
	return NULL;
}

static int plan_interpreter(struct hb_plan *plan, const struct hb_policy *p,
			    struct hb_diag *diag)
{
	const struct hb_manifest *man;
	int r;

	if (access(p->interpreter, X_OK) < 0)
		return hb_diag_set(diag, hb_policy_origin(p, HB_K_INTERPRETER),
				   p->origin[HB_K_INTERPRETER].line,
				   "interpreter '%s' cannot be run: %s",
				   p->interpreter, strerror(errno));
	man = find_manifest(p->interpreter);
	if (!man)
		return hb_diag_set(diag, hb_policy_origin(p, HB_K_INTERPRETER),
				   p->origin[HB_K_INTERPRETER].line,
				   "no root file system manifest for "
				   "interpreter '%s' (this build knows %s)",
				   p->interpreter, hb_manifests[0].interpreter);
	plan->interpreter = strdup(p->interpreter);
	if (!plan->interpreter)
		return -ENOMEM;
	for (size_t i = 0; i < man->n_entries; i++) {
		const struct hb_rootfs_entry *e = &man->entries[i];
		if (e->kind == HB_ROOTFS_SYMLINK)
			r = add_mount(plan, HB_MNT_SYMLINK, NULL, e->path,
				      e->target, 0, "interpreter");
		else
			r = add_bind(plan, e->path, e->path, ATTR_SYSTEM,
				     "interpreter");
		if (r < 0)
			return hb_diag_set(
				diag, NULL, 0,
				"the interpreter's root file system lists "
				"'%s', which is missing here (%s); rebuild "
				"hivebox on this machine",
				e->path, strerror(-r));
	}
	return 0;
}

static int plan_system(struct hb_plan *plan, const struct hb_policy *p)
{
	char opts[96];
	char path[64];
	int r = 0;

	/* A file costs its pages and about 1 KiB of kernel memory that no
	 * size= bounds: as many inodes as the tmpfs has 4 KiB pages. */
	snprintf(opts, sizeof(opts), "mode=1777,size=%llum,nr_inodes=%llu",
		 p->limits.tmp_size_mb, p->limits.tmp_size_mb * 256);
	r |= add_mount(plan, HB_MNT_PROC, NULL, "/proc", "hidepid=invisible",
		       ATTR_RW, "system");
	r |= add_mount(plan, HB_MNT_TMPFS, NULL, "/dev", "mode=0755,size=64k",
		       HB_ATTR_NOSUID | HB_ATTR_NOEXEC, "system");
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		snprintf(path, sizeof(path), "/dev/%s", dev_nodes[i]);
		r |= add_bind(plan, path, path, HB_ATTR_NOSUID | HB_ATTR_NOEXEC,
			      "system");
	}
	r |= add_mount(plan, HB_MNT_SYMLINK, NULL, "/dev/fd", "/proc/self/fd",
		       0, "system");
	r |= add_mount(plan, HB_MNT_SYMLINK, NULL, "/dev/stdin",
		       "/proc/self/fd/0", 0, "system");
	r |= add_mount(plan, HB_MNT_SYMLINK, NULL, "/dev/stdout",
		       "/proc/self/fd/1", 0, "system");
	r |= add_mount(plan, HB_MNT_SYMLINK, NULL, "/dev/stderr",
		       "/proc/self/fd/2", 0, "system");
	r |= add_mount(plan, HB_MNT_TMPFS, NULL, "/dev/shm", opts, ATTR_RW,
		       "system");
	r |= add_mount(plan, HB_MNT_TMPFS, NULL, "/tmp", opts, ATTR_RW,
		       "system");
	return r < 0 ? -ENOMEM : 0;
}

static int plan_etc(struct hb_plan *plan)
{
	char passwd[256], group[256];
	char real[PATH_MAX];
	int r = 0;

	for (size_t i = 0; i < hb_n_etc_files; i++)
		r |= add_mount(plan, HB_MNT_FILE, NULL, hb_etc_files[i].path,
			       hb_etc_files[i].content, 0, "system");
	snprintf(passwd, sizeof(passwd),
		 "%s:x:%u:%u:hivebox sandbox:/tmp:/nonexistent\n"
		 "nobody:x:65534:65534:nobody:/nonexistent:/nonexistent\n",
		 plan->inside_uid == 0 ? "root" : "sandbox", plan->inside_uid,
		 plan->inside_gid);
	snprintf(group, sizeof(group), "%s:x:%u:\nnogroup:x:65534:\n",
		 plan->inside_gid == 0 ? "root" : "sandbox", plan->inside_gid);
	r |= add_mount(plan, HB_MNT_FILE, NULL, "/etc/passwd", passwd, 0,
		       "system");
	r |= add_mount(plan, HB_MNT_FILE, NULL, "/etc/group", group, 0,
		       "system");
	if (r < 0)
		return -ENOMEM;
	/* The time zone and the loader cache are the host's, read-only. */
	if (realpath("/etc/localtime", real) &&
	    add_bind(plan, real, "/etc/localtime", ATTR_SYSTEM, "system") < 0)
		return -ENOMEM;
	if (access("/etc/ld.so.cache", R_OK) == 0 &&
	    add_bind(plan, "/etc/ld.so.cache", "/etc/ld.so.cache", ATTR_SYSTEM,
		     "system") < 0)
		return -ENOMEM;
	return 0;
}

static int mount_cmp(const void *a, const void *b)
{
	const struct hb_mount *x = a, *y = b;

	/* A parent sorts before everything below it, so it is mounted
	 * first; equal targets keep the order in which they were added. */
	int c = strcmp(x->target, y->target);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* The kernel counts no process of host root against RLIMIT_NPROC (it
 * exempts the initial user), and without a delegated cgroup there is no
 * pids limit either: a sandbox mapped to host root would have no process
 * limit at all.  Every policy has max_processes (default 16), so host
 * root is refused rather than run unbounded; a count sampled by the
 * supervisor would be outrun by a fork loop. */
static int refuse_host_root(const struct hb_policy *p, struct hb_diag *diag)
{
	char where[HB_ORIGIN_TEXT_MAX];

	hb_policy_origin_text(p, HB_K_MAX_PROCESSES, where, sizeof(where));
	return hb_diag_set(diag, hb_policy_origin(p, HB_K_HOST_UID),
			   p->origin[HB_K_HOST_UID].line,
			   "host_uid = root would leave max_processes = %llu "
			   "(%s) unenforced: the kernel does not apply "
			   "RLIMIT_NPROC to host root; set host_uid = auto or "
			   "a dedicated uid",
			   p->limits.max_processes, where);
}

static int plan_ids(struct hb_plan *plan, const struct hb_policy *p,
		    const struct hb_invocation *inv, struct hb_diag *diag)
{
	char uid[HB_HOST_UID_TEXT_MAX];
	uid_t v;

	plan->privileged = inv->euid == 0;
	if (!plan->privileged) {
		if (p->host_uid.kind != HB_HOST_UID_AUTO)
			return hb_diag_set(
				diag, hb_policy_origin(p, HB_K_HOST_UID),
				p->origin[HB_K_HOST_UID].line,
				"host_uid = %s needs hivebox to be started as "
				"root",
				hb_host_uid_text(&p->host_uid, uid,
						 sizeof(uid)));
		plan->inside_uid = plan->host_uid = inv->uid;
		plan->inside_gid = plan->host_gid = inv->gid;
		return 0;
	}
	plan->inside_uid = 0;
	plan->inside_gid = 0;
	if (p->host_uid.kind == HB_HOST_UID_ROOT)
		return refuse_host_root(p, diag);
	/* auto: taken when the run starts, under a lock, so that no two
	 * live runs share one (ids.h); a dry run takes none. */
	plan->host_uid_at_start = p->host_uid.kind == HB_HOST_UID_AUTO;
	v = plan->host_uid_at_start ? HB_UID_UNSET : p->host_uid.uid;
	plan->host_uid = v;
	plan->host_gid = (gid_t)v;
	return 0;
}

/* NAME=value replaces an earlier NAME. */
static int env_put(struct hb_strv *env, const char *entry)
{
	size_t len = strcspn(entry, "=");

	for (size_t i = 0; i < env->n; i++)
		if (strncmp(env->v[i], entry, len) == 0 &&
		    env->v[i][len] == '=') {
			char *copy = strdup(entry);
			if (!copy)
				return -ENOMEM;
			free(env->v[i]);
			env->v[i] = copy;
			return 0;
		}
	return hb_strv_push(env, entry);
}

static int plan_env(struct hb_plan *plan, const struct hb_policy *p,
		    const struct hb_invocation *inv)
{
	static const char *const defaults[] = {"PATH=/usr/bin:/bin",
					       "HOME=/tmp", "LANG=C.UTF-8"};
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		r |= env_put(&plan->env, defaults[i]);
	for (size_t i = 0; i < p->env_keep.n; i++) {
		size_t len = strlen(p->env_keep.v[i]);
		for (char **e = inv->environ; e && *e; e++)
			if (strncmp(*e, p->env_keep.v[i], len) == 0 &&
			    (*e)[len] == '=')
				r |= env_put(&plan->env, *e);
	}
	for (size_t i = 0; i < p->env_set.n; i++)
		r |= env_put(&plan->env, p->env_set.v[i]);
	return r < 0 ? -ENOMEM : 0;
}

static int plan_argv(struct hb_plan *plan, const struct hb_invocation *inv)
{
	int r = 0;

	/* As "python3 SCRIPT ARGS" runs bare: the script's directory is
	 * sys.path[0], and the PYTHON* variables the policy sets or keeps
	 * take effect.  Isolated mode (-I) would change what the script
	 * means; the environment is the policy's already. */
	r |= hb_strv_push(&plan->argv, plan->interpreter);
	/* A shell: "python3 -i -c CODE ARGS", whose sys.argv[1:] is ARGS
	 * and sys.path[0] the start directory. */
	if (plan->shell) {
		r |= hb_strv_push(&plan->argv, "-i");
		r |= hb_strv_push(&plan->argv, "-c");
		r |= hb_strv_push(&plan->argv, plan->script
						       ? HB_REPLAY_SHELL_CODE
						       : HB_SHELL_CODE);
		/* replay --shell: the script is there to read, not run. */
		if (plan->script)
			r |= hb_strv_push(&plan->argv, plan->script);
	} else
		/* The absolute path: a script named "-c" stays a script. */
		r |= hb_strv_push(&plan->argv, plan->script);
	for (size_t i = 0; i < inv->n_args; i++)
		r |= hb_strv_push(&plan->argv, inv->args[i]);
	return r < 0 ? -ENOMEM : 0;
}

unsigned long long hb_plan_backstop_bytes(unsigned long long memory_mb)
{
	return (memory_mb + (memory_mb > 1024 ? memory_mb : 1024)) << 20;
}

static void plan_rlimits(struct hb_plan *plan, const struct hb_policy *p)
{
	const rlim_t mib = 1024 * 1024;
	const rlim_t as = hb_plan_backstop_bytes(p->limits.memory_mb);
	struct hb_rlimit l[] = {
		/* SIGXCPU at the limit, SIGKILL one second later. */
		{RLIMIT_CPU, "cpu", p->limits.cpu_seconds,
		 p->limits.cpu_seconds + 1},
		{RLIMIT_AS, "as", as, as},
		{RLIMIT_FSIZE, "fsize", p->limits.file_size_mb * mib,
		 p->limits.file_size_mb * mib},
		/* The sandbox's init is one process of the same user. */
		{RLIMIT_NPROC, "nproc", p->limits.max_processes + 1,
		 p->limits.max_processes + 1},
		{RLIMIT_NOFILE, "nofile", p->limits.max_open_files,
		 p->limits.max_open_files},
		{RLIMIT_CORE, "core", 0, 0},
	};

	memcpy(plan->rlimits, l, sizeof(l));
	plan->n_rlimits = ARRAY_SIZE(l);
}

static void _printf_(3, 4)
	add_sysctl(struct hb_plan *plan, const char *name, const char *fmt, ...)
{
	struct hb_sysctl *s;
	va_list ap;

	if (plan->n_ipc == ARRAY_SIZE(plan->ipc))
		return;
	s = &plan->ipc[plan->n_ipc++];
	s->name = name;
	va_start(ap, fmt);
	vsnprintf(s->value, sizeof(s->value), fmt, ap);
	va_end(ap);
}

/* System V IPC is kernel memory that no process's RSS shows, and the
 * kernel's defaults let one IPC namespace hold gigabytes of it.  Bound
 * each kind so that all of it together stays within memory_mb, whatever
 * the script does between two samples (the supervisor counts it too):
 * - shared memory: half of memory_mb, one segment as large as that;
 * - message queues: a quarter.  A queue takes as many messages as msgmnb
 *   has bytes, each costing HB_IPC_MSG_BYTES besides its text, so
 *   msgmni x msgmnb x HB_IPC_MSG_BYTES = memory_mb / 4;
 * - semaphores: 32 sets of 250, 8000 in all, 512 KiB (the smallest
 *   memory_mb is 16). */
static void plan_ipc(struct hb_plan *plan, const struct hb_policy *p)
{
	const unsigned long long mib = 1024 * 1024, msgmni = 16;
	const unsigned long long shm = p->limits.memory_mb * mib / 2;
	const unsigned long long msgmnb =
		p->limits.memory_mb * mib / 4 / msgmni / HB_IPC_MSG_BYTES;
	long page = sysconf(_SC_PAGESIZE);

	plan->n_ipc = 0;
	if (!plan->privileged)
		return;
	add_sysctl(plan, "kernel/sem", "%u %u %u %u", 250, 8000, 32, 32);
	add_sysctl(plan, "kernel/msgmni", "%llu", msgmni);
	add_sysctl(plan, "kernel/msgmnb", "%llu", msgmnb);
	/* The kernel's own msgmax, unless a queue holds less. */
	add_sysctl(plan, "kernel/msgmax", "%llu",
		   msgmnb < 8192 ? msgmnb : 8192);
	add_sysctl(plan, "kernel/shmmni", "%u", 32);
	add_sysctl(plan, "kernel/shmmax", "%llu", shm);
	add_sysctl(plan, "kernel/shmall", "%llu",
		   shm / (unsigned long long)page);
}

/* Is path there in the sandbox: a mount of its own (a bind or a symlink
 * of the manifest) or below a directory bound whole. */
static bool visible(const struct hb_plan *plan, const char *path)
{
	for (size_t i = 0; i < plan->n_mounts; i++)
		if (strcmp(plan->mounts[i].target, path) == 0)
			return true;
	return hb_plan_covered(plan, path);
}

/* Where a virtualenv's pyvenv.cfg would be for an interpreter in its
 * bin/: one directory above bin/. */
static int venv_of(const char *interp, char ret[PATH_MAX])
{
	char cfg[PATH_MAX + 16];
	char *slash;

	snprintf(ret, PATH_MAX, "%s", interp);
	for (int up = 0; up < 2; up++) {
		slash = strrchr(ret, '/');
		if (!slash || slash == ret)
			return -ENOENT;
		*slash = '\0';
	}
	snprintf(cfg, sizeof(cfg), "%s/pyvenv.cfg", ret);
	return access(cfg, F_OK) < 0 ? -errno : 0;
}

/* The line that says what the sandbox will not find, and what to add:
 * the venv whole, or the directory of the link that is missing. */
static int refuse_interpreter(const struct hb_plan *plan,
			      const struct hb_policy *p, const char *venv,
			      const char *missing, struct hb_diag *diag)
{
	char why[2 * PATH_MAX], add[PATH_MAX];
	char *slash;

	snprintf(add, sizeof(add), "%s", missing);
	slash = strrchr(add, '/');
	if (!venv && slash)
		slash[slash == add] = '\0';
	if (venv)
		snprintf(why, sizeof(why),
			 "is in the virtualenv %s, which the sandbox does not "
			 "see",
			 venv);
	else
		snprintf(why, sizeof(why),
			 "would not be found in the sandbox: %s is outside "
			 "every path it sees",
			 missing);
	return hb_diag_set(diag, hb_policy_origin(p, HB_K_INTERPRETER),
			   p->origin[HB_K_INTERPRETER].line,
			   "interpreter %s %s; add %s to read_only",
			   plan->interpreter, why, add);
}

/* The interpreter is exec'd by its path, in the sandbox.  A virtualenv's
 * (.venv/bin/python3) is a symlink to the system's, and the venv is what
 * makes it one: its pyvenv.cfg beside bin/.  Each link of the chain, and
 * the venv, must be in the sandbox, or the exec fails with ENOENT, or
 * Python runs without the venv's packages.  Said here, with what to
 * add: the venv whole, or the directory of the link that is missing. */
static int plan_interpreter_visible(const struct hb_plan *plan,
				    const struct hb_policy *p,
				    struct hb_diag *diag)
{
	char path[PATH_MAX], link[PATH_MAX], venv[PATH_MAX];

	if (venv_of(plan->interpreter, venv) == 0 && !visible(plan, venv))
		return refuse_interpreter(plan, p, venv, venv, diag);
	snprintf(path, sizeof(path), "%s", plan->interpreter);
	for (int hops = 0; hops < 40; hops++) {
		_cleanup_free_ char *next = NULL;
		char *slash = strrchr(path, '/');
		ssize_t n;
		int r;

		if (!visible(plan, path))
			return refuse_interpreter(plan, p, NULL, path, diag);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0 || !slash)
			return 0; /* not a symlink: the end of the chain */
		link[n] = '\0';
		slash[slash == path] = '\0';
		r = hb_path_absolute(path, link, &next);
		if (r < 0)
			return r;
		snprintf(path, sizeof(path), "%s", next);
	}
	return 0;
}

/* --workdir is "cd DIR && hivebox": it says where the caller stands, as
 * any cd could.  A policy that pins its own workdir has its relative paths
 * mean that directory; another one from the command line would change
 * what the policy grants, so it is refused, never preferred. */
static int cli_workdir(const struct hb_policy *p,
		       const struct hb_invocation *inv, char **ret,
		       struct hb_diag *diag)
{
	_cleanup_free_ char *abs = NULL;
	int r = hb_path_absolute(inv->cwd, inv->workdir, &abs);

	if (r < 0)
		return r;
	if (p->workdir && strcmp(abs, p->workdir) != 0)
		return hb_diag_set(diag, NULL, 0,
				   "--workdir %s: the policy's workdir is %s "
				   "(%s:%u); its relative paths mean that "
				   "directory, so drop --workdir or the "
				   "policy's workdir",
				   abs, p->workdir,
				   hb_policy_origin(p, HB_K_WORKDIR),
				   p->origin[HB_K_WORKDIR].line);
	*ret = TAKE_PTR(abs);
	return 0;
}

/* The start directory: --workdir, [execution] workdir, or where hivebox
 * was started.  The script, relative [filesystem] paths and the sandbox's
 * own start resolve against it. */
static int plan_cwd(struct hb_plan *plan, const struct hb_policy *p,
		    const struct hb_invocation *inv, struct hb_diag *diag)
{
	const char *dir = inv->workdir ? inv->workdir : p->workdir;
	struct stat st;
	int err, r;

	if (!dir) {
		plan->cwd = strdup(inv->cwd);
		return plan->cwd ? 0 : -ENOMEM;
	}
	r = inv->workdir ? cli_workdir(p, inv, &plan->cwd, diag)
			 : hb_path_absolute(NULL, p->workdir, &plan->cwd);
	if (r < 0)
		return r;
	if (stat(plan->cwd, &st) < 0)
		err = errno;
	else
		err = S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	if (err && inv->workdir)
		return hb_diag_set(diag, NULL, 0, "--workdir %s: %s",
				   inv->workdir, strerror(err));
	if (err)
		return hb_diag_set(diag, hb_policy_origin(p, HB_K_WORKDIR),
				   p->origin[HB_K_WORKDIR].line,
				   "workdir '%s': %s", p->workdir,
				   strerror(err));
	return 0;
}

_Static_assert(HB_K_TMP_SIZE - HB_K_TIMEOUT + 1 == HB_N_LIMITS &&
		       sizeof(struct hb_limits) ==
			       HB_N_LIMITS * sizeof(unsigned long long),
	       "the limits' keys are in the order of struct hb_limits");

static int copy_limit_texts(struct hb_plan *plan,
			    const struct hb_policy *policy)
{
	char text[HB_ORIGIN_TEXT_MAX + 64];

	for (int i = 0; i < HB_N_LIMITS; i++) {
		hb_policy_setting_text(policy, HB_K_TIMEOUT + i, text,
				       sizeof(text));
		free(plan->limit_text[i]);
		plan->limit_text[i] = strdup(text);
		if (!plan->limit_text[i])
			return -ENOMEM;
	}
	return 0;
}

static int copy_quota_texts(struct hb_plan *plan,
			    const struct hb_policy *policy)
{
	char text[HB_ORIGIN_TEXT_MAX + 64];

	for (int i = 0; i < 2; i++) {
		hb_policy_setting_text(policy, HB_K_WRITE_QUOTA_MB + i, text,
				       sizeof(text));
		free(plan->quota_text[i]);
		plan->quota_text[i] = strdup(text);
		if (!plan->quota_text[i])
			return -ENOMEM;
	}
	return 0;
}

const char *hb_plan_limit_text(const struct hb_plan *plan, enum hb_key key)
{
	unsigned i = (unsigned)(key - HB_K_TIMEOUT);

	if (key == HB_K_WRITE_QUOTA_MB || key == HB_K_WRITE_QUOTA_FILES)
		return plan->quota_text[key - HB_K_WRITE_QUOTA_MB]
			       ?: hb_key_name(key);
	if (i >= HB_N_LIMITS)
		return "?";
	return plan->limit_text[i] ?: hb_key_name(key);
}

int hb_plan_settings(struct hb_plan *plan, const struct hb_policy *policy)
{
	struct hb_monitoring *m = &plan->monitoring;

	plan->limits = policy->limits;
	plan->quota_bytes = policy->write_quota_mb << 20;
	plan->quota_files = policy->write_quota_files;
	if (copy_limit_texts(plan, policy) < 0 ||
	    copy_quota_texts(plan, policy) < 0)
		return -ENOMEM;
	free(plan->policy_path);
	free(m->alert_command);
	*m = (struct hb_monitoring){
		.cpu_alert_pct = (unsigned)policy->cpu_alert_pct,
		.memory_alert_pct = (unsigned)policy->memory_alert_pct,
		.alert_timeout_s = (unsigned)policy->alert_timeout_seconds,
		.sample_ms = (unsigned)policy->sample_interval_ms,
	};
	plan->policy_path = policy->path ? strdup(policy->path) : NULL;
	if (policy->path && !plan->policy_path)
		return -ENOMEM;
	if (policy->alert_command) {
		m->alert_command = strdup(policy->alert_command);
		if (!m->alert_command)
			return -ENOMEM;
	}
	return 0;
}

bool hb_mount_writable(const struct hb_mount *m)
{
	/* The writable device nodes (/dev/null, ...) are not paths. */
	return m->kind == HB_MNT_BIND && !(m->attrs & HB_ATTR_RDONLY) &&
	       m->why && strcmp(m->why, hb_key_name(HB_K_READ_WRITE)) == 0;
}

bool hb_plan_has_quota(const struct hb_plan *plan)
{
	if (!plan->quota_bytes && !plan->quota_files)
		return false;
	for (size_t i = 0; i < plan->n_mounts; i++)
		if (hb_mount_writable(&plan->mounts[i]))
			return true;
	return false;
}

/* The quota is watched with fanotify marks on the run's writable mounts
 * and their file systems, which only root may place.  Unprivileged, a
 * quota on a run that can write somewhere is refused rather than left
 * unenforced; one with nothing writable has nothing to bound. */
static int plan_quota(const struct hb_plan *plan, const struct hb_policy *p,
		      struct hb_diag *diag)
{
	enum hb_key key = p->write_quota_mb ? HB_K_WRITE_QUOTA_MB
					    : HB_K_WRITE_QUOTA_FILES;

	if (plan->privileged || !hb_plan_has_quota(plan))
		return 0;
	return hb_diag_set(diag, hb_policy_origin(p, key), p->origin[key].line,
			   "%s needs hivebox started as root (it watches the "
			   "read_write paths with fanotify); run it as root, "
			   "or lift the quota in the policy: write_quota_mb = "
			   "none, write_quota_files = none",
			   hb_key_name(key));
}

/* The sandbox execs plan->interpreter itself: that pointer is the one
 * execve an allow-list lets through.  As root, through the filter cache;
 * a cache directory that cannot be made or is not root's alone means
 * compiling, as without one. */
static int plan_filter(struct hb_plan *plan, const struct hb_policy *policy,
		       const struct hb_invocation *inv, struct hb_diag *diag)
{
	const char *dir = inv->config ? inv->config->filter_cache : NULL;
	_cleanup_close_ int fd = dir ? hb_open_own_dir(dir, true) : -1;

	return hb_filter_build_cached(policy, (uintptr_t)plan->interpreter,
				      plan->shell, fd < 0 ? -1 : fd,
				      &plan->filter, diag);
}

int hb_plan_build(struct hb_plan *plan, const struct hb_policy *policy,
		  const struct hb_invocation *inv, struct hb_diag *diag)
{
	int r;

	memset(plan, 0, sizeof(*plan));
	plan->script_fd = -1;
	plan->shell = inv->shell;
	plan->policy = policy;
	r = hb_plan_settings(plan, policy);
	if (r < 0)
		return r;
	plan->hostname = "hivebox";
	plan->timeout_ms = policy->limits.timeout_seconds * 1000;
	plan->grace_ms = HB_GRACE_MS;
	r = plan_cwd(plan, policy, inv, diag);
	if (r < 0)
		return r;
	r = plan_ids(plan, policy, inv, diag);
	if (r < 0)
		return r;
	r = plan_interpreter(plan, policy, diag);
	if (r < 0)
		return r;
	r = plan_system(plan, policy);
	if (r < 0)
		return r;
	r = plan_etc(plan);
	if (r < 0)
		return r;
	r = hb_plan_network(plan, policy, inv, diag);
	if (r < 0)
		return r;
	r = hb_plan_host_paths(plan, policy, inv, diag);
	if (r < 0)
		return r;
	r = plan_interpreter_visible(plan, policy, diag);
	if (r < 0)
		return r;
	r = plan_quota(plan, policy, diag);
	if (r < 0)
		return r;
	if (!hb_plan_covered(plan, plan->cwd) && !hb_plan_reserved(plan->cwd)) {
		r = add_mount(plan, HB_MNT_DIR, NULL, plan->cwd, NULL, 0,
			      "start directory");
		if (r < 0)
			return r;
	}
	qsort(plan->mounts, plan->n_mounts, sizeof(*plan->mounts), mount_cmp);
	plan_rlimits(plan, policy);
	plan_ipc(plan, policy);
	r = plan_env(plan, policy, inv);
	if (r < 0)
		return r;
	r = plan_argv(plan, inv);
	if (r < 0)
		return r;
	return plan_filter(plan, policy, inv, diag);
}

void hb_plan_free(struct hb_plan *plan)
{
	for (size_t i = 0; i < plan->n_mounts; i++) {
		hb_closep(&plan->mounts[i].fd);
		free(plan->mounts[i].source);
		free(plan->mounts[i].target);
		free(plan->mounts[i].data);
		free(plan->mounts[i].listed_in);
	}
	free(plan->mounts);
	free(plan->policy_path);
	for (int i = 0; i < HB_N_LIMITS; i++)
		free(plan->limit_text[i]);
	for (int i = 0; i < 2; i++)
		free(plan->quota_text[i]);
	free(plan->monitoring.alert_command);
	free(plan->interpreter);
	if (plan->script)
		hb_closep(&plan->script_fd);
	free(plan->script);
	free(plan->cwd);
	hb_strv_clear(&plan->argv);
	hb_strv_clear(&plan->env);
	hb_filter_free(&plan->filter);
	for (size_t i = 0; i < plan->net.n_names; i++) {
		free(plan->net.names[i].name);
		free(plan->net.names[i].ips);
	}
	free(plan->net.names);
	free(plan->net.ips);
	free(plan->net.ports);
	free(plan->net.blocked);
	memset(plan, 0, sizeof(*plan));
}

/* SPDX-License-Identifier: MIT */
/* hivebox learn: its command line, and one observed run from start to
 * end.  The launcher fills the box (learn_sandbox.c) and clones it into
 * new namespaces; the supervisor, this process, takes the job's seccomp
 * listener, answers each notification (learn_watch.c), samples the job's
 * processes, ends it at the base's timeout, and then looks at the host
 * for what each recorded path is there.  The host is never written. */
#include "learn_internal.h"
#include "cli.h"
#include "config.h"
#include "ids.h"
#include "plan.h"
#include "net_run.h"
#include "rootfs.h"
#include "seccomp_filter.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <linux/sched.h>

extern char **environ;

/* ---- the command line ----------------------------------------------- */

void hb_learn_usage(FILE *out)
{
	fputs("usage: hivebox learn [--policy BASE] -o POLICY [--network] "
	      "[--json]\n"
	      "                     [--config FILE] SCRIPT [ARGS...]\n"
	      "  Runs SCRIPT once on a read-only view of the host (writes go "
	      "to a\n"
	      "  throw-away layer), records what it touches and writes a "
	      "policy that\n"
	      "  extends BASE (default strict.ini) and lets it run.  The "
	      "report goes\n"
	      "  to stdout.  Exit 0 when the policy was written (also if the "
	      "job\n"
	      "  failed, as the report says), 125 when nothing could be "
	      "learned.\n"
	      "  --network: the job reaches real servers; what it changes "
	      "there is\n"
	      "  changed (only the host's files are kept from it).\n",
	      out);
}

int hb_learn_cli_parse(struct hb_learn_cli *c, int argc, char **argv,
		       struct hb_diag *diag)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"output", required_argument, NULL, 'o'},
		{"network", no_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int o;

	memset(c, 0, sizeof(*c));
	optind = 2;
	opterr = 0;
	/* "+": the script's own options are its own. */
	while ((o = getopt_long(argc, argv, "+:o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			c->policy = optarg;
			break;
		case 'o':
			c->output = optarg;
			break;
		case 'n':
			c->network = true;
			break;
		case 'j':
			c->json = true;
			break;
		case 'c':
			c->config = optarg;
			break;
		case 'h':
			c->help = true;
			return 0;
		default:
			return hb_cli_bad_option(o, argv, "learn", diag);
		}
	}
	if (optind >= argc)
		return hb_diag_set(diag, NULL, 0, "learn: no script given");
	if (!c->output)
		return hb_diag_set(diag, NULL, 0,
				   "learn: no -o POLICY: where to write the "
				   "learned policy");
	c->script = argv[optind];
	c->args = argv + optind + 1;
	c->n_args = (size_t)(argc - optind - 1);
	return 0;
}

int hb_learn_default_base(char **ret)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *fixed[] = {
		"/etc/hivebox/policies/strict.ini",
		HB_LIBEXECDIR "/../../share/hivebox/policies/strict.ini",
	};

	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		if (access(fixed[i], R_OK) == 0)
			return (*ret = realpath(fixed[i], NULL)) ? 0 : -errno;
	if (n > 0) {
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		/* The source tree: build/hivebox, policies/strict.ini. */
		snprintf(path, sizeof(path), "%s/../policies/strict.ini", exe);
		if (access(path, R_OK) == 0)
			return (*ret = realpath(path, NULL)) ? 0 : -errno;
	}
	return -ENOENT;
}

/* The directory -o names a file in, opened once following no symlink on
 * the way (hb_open_nofollow()), and only if nobody but root can change
 * what it holds: the policy is written there as root.  *ret_name: the
 * file's name in it. */
static int open_output_dir(const char *output, const char **ret_name,
			   struct hb_diag *diag)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(output, '/');
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (snprintf(dir, sizeof(dir), "%.*s",
		     slash ? (int)(slash - output) : 1,
		     slash ? output : ".") >= (int)sizeof(dir))
		return hb_diag_set(diag, NULL, 0, "learn: -o %s: too long",
				   output);
	if (!dir[0])
		snprintf(dir, sizeof(dir), "/");
	*ret_name = slash ? slash + 1 : output;
	if (!**ret_name || strcmp(*ret_name, ".") == 0 ||
	    strcmp(*ret_name, "..") == 0)
		return hb_diag_set(diag, NULL, 0,
				   "learn: -o %s: not a file name", output);
	fd = hb_open_nofollow(AT_FDCWD, dir,
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return hb_diag_set(
			diag, NULL, 0, "learn: -o %s: cannot open %s%s: %s",
			output, dir, fd == -ELOOP ? " without a symlink" : "",
			strerror(-fd));
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022))
		return hb_diag_set(diag, NULL, 0,
				   "learn: -o %s: %s is writable by others "
				   "than root: write the policy where only "
				   "root can",
				   output, dir);
	if (fstatat(fd, *ret_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISREG(st.st_mode))
		return hb_diag_set(diag, NULL, 0,
				   "learn: -o %s: not a regular file", output);
	return TAKE_FD(fd);
}

int hb_learn_prepare(const struct hb_learn_cli *c, char **ret_base,
		     struct hb_diag *diag)
{
	if (geteuid() != 0)
		return hb_diag_set(diag, NULL, 0,
				   "learn needs root: the observing sandbox "
				   "is built of overlay mounts");
	if (!hb_learn_printable(c->output))
		return hb_diag_set(diag, NULL, 0,
				   "learn: -o: the path holds a control "
				   "character");
	{
		_cleanup_close_ int dir = -1;
		const char *name;
		dir = open_output_dir(c->output, &name, diag);
		if (dir < 0)
			return dir;
	}
	if (!c->policy && hb_learn_default_base(ret_base) < 0)
		return hb_diag_set(diag, NULL, 0,
				   "learn: no strict.ini found; name the base "
				   "with --policy");
	return 0;
}

/* A new file in dir under a name nobody can guess (into ret_name): its
 * descriptor. */
static int open_temp(int dir, const char *name, char *ret_name, size_t size)
{
	uint64_t rnd;
	int fd;

	ret_name[0] = '\0';
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -errno;
	snprintf(ret_name, size, ".%.200s.learn-%016llx", name,
		 (unsigned long long)rnd);
	fd = openat(dir, ret_name,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	return fd < 0 ? -errno : fd;
}

/* The policy into the open file f, then loaded from it as output. */
static int write_checked(FILE *f, const char *output,
			 const struct hb_learn_obs *o,
			 const struct hb_learn_result *r, struct hb_diag *diag)
{
	struct hb_policy check;
	int k;

	hb_learn_policy_write(o, r, f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		return hb_diag_set(diag, NULL, 0, "learn: cannot write %s: %s",
				   output, strerror(errno));
	rewind(f);
	hb_policy_init(&check);
	k = hb_policy_parse(&check, f, output, 0, diag);
	if (k == 0)
		k = hb_policy_validate(&check, diag);
	hb_policy_free(&check);
	return k;
}

int hb_learn_write_policy(const char *output, const struct hb_learn_obs *o,
			  const struct hb_learn_result *r, struct hb_diag *diag)
{
	_cleanup_close_ int dir = -1;
	char tmp[256];
	const char *name;
	FILE *f;
	int fd, k;

	dir = open_output_dir(output, &name, diag);
	if (dir < 0)
		return dir;
	fd = open_temp(dir, name, tmp, sizeof(tmp));
	if (fd < 0 || !(f = fdopen(fd, "w+"))) {
		k = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
		if (tmp[0])
			unlinkat(dir, tmp, 0);
		return hb_diag_set(diag, NULL, 0, "learn: cannot write %s: %s",
				   output, strerror(-k));
	}
	/* Checked before it is put in place: a policy that does not load
	 * never replaces one that does. */
	k = write_checked(f, output, o, r, diag);
	fclose(f);
	if (k == 0 && renameat(dir, tmp, dir, name) < 0)
		k = hb_diag_set(diag, NULL, 0, "learn: cannot write %s: %s",
				output, strerror(errno));
	if (k < 0)
		unlinkat(dir, tmp, 0);
	else
		fsync(dir);
	return k;
}

/* ---- what the observations are judged against ----------------------- */

static int implicit_paths(const struct hb_policy *base, struct hb_strv *s)
{
	/* /tmp and /dev/shm: learn_policy.c tells the job's from the
	 * host's. */
	static const char *const always[] = {
		"/proc",       "/dev/null",    "/dev/zero", "/dev/full",
		"/dev/random", "/dev/urandom", "/dev/fd",   "/dev/stdin",
		"/dev/stdout", "/dev/stderr",  "/sys"};
	char real[PATH_MAX];
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(always) && r == 0; i++)
		r = hb_strv_push(s, always[i]);
	for (size_t i = 0; i < hb_n_etc_files && r == 0; i++)
		r = hb_strv_push(s, hb_etc_files[i].path);
	if (!realpath(base->interpreter, real))
		real[0] = '\0';
	for (size_t m = 0; m < hb_n_manifests && r == 0; m++) {
		const struct hb_manifest *man = &hb_manifests[m];
		if (strcmp(man->interpreter, base->interpreter) != 0 &&
		    strcmp(man->realpath, real) != 0)
			continue;
		for (size_t i = 0; i < man->n_entries && r == 0; i++)
			r = hb_strv_push(s, man->entries[i].path);
	}
	return r;
}

/* /, /etc, /home, /root and the home of every user with a login uid. */
static int forbidden_paths(struct hb_strv *s)
{
	static const char *const always[] = {"/", "/etc", "/home", "/root"};
	struct passwd *pw;
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(always) && r == 0; i++)
		r = hb_strv_push(s, always[i]);
	setpwent();
	while (r == 0 && (pw = getpwent()))
		if (pw->pw_uid >= 1000 && pw->pw_uid < 65534 &&
		    pw->pw_dir[0] == '/' && !hb_strv_contains(s, pw->pw_dir))
			r = hb_strv_push(s, pw->pw_dir);
	endpwent();
	return r;
}

static int fill_obs(const struct hb_learn_cli *c, const struct hb_policy *base,
		    struct hb_learn_obs *o, struct hb_diag *diag)
{
	int r;

	o->base = realpath(base->path, NULL);
	o->script = realpath(c->script, NULL);
	if (!o->script)
		return hb_diag_set(diag, c->script, 0, "cannot learn: %s",
				   strerror(errno));
	o->interpreter = strdup(base->interpreter);
	if (!o->base || !o->interpreter)
		return -ENOMEM;
	/* Both go into the policy's comments and onto the terminal. */
	if (!hb_learn_printable(o->script) || !hb_learn_printable(o->base))
		return hb_diag_set(diag, NULL, 0,
				   "learn: the script's or the base's path "
				   "holds a control character");
	o->network = c->network;
	o->base_limits = base->limits;
	o->base_default_deny = base->syscalls_default == HB_SC_DENY;
	r = 0;
	for (size_t i = 0; i < base->syscalls_allow.n && r == 0; i++)
		r = hb_strv_push(&o->base_allow, base->syscalls_allow.v[i]);
	if (r == 0)
		r = implicit_paths(base, &o->implicit);
	return r == 0 ? forbidden_paths(&o->forbidden) : r;
}

/* ---- the box -------------------------------------------------------- */

static int push_env(struct hb_strv *env, const struct hb_policy *base)
{
	static const char *const fixed[] = {"PATH=/usr/bin:/bin", "HOME=/tmp",
					    "LANG=C.UTF-8"};
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(fixed) && r == 0; i++)
		r = hb_strv_push(env, fixed[i]);
	for (size_t i = 0; i < base->env_keep.n && r == 0; i++) {
		const char *v = secure_getenv(base->env_keep.v[i]);
		_cleanup_free_ char *kv = NULL;
		if (v && asprintf(&kv, "%s=%s", base->env_keep.v[i], v) < 0)
			return -ENOMEM;
		if (kv)
			r = hb_strv_push(env, kv);
	}
	for (size_t i = 0; i < base->env_set.n && r == 0; i++)
		r = hb_strv_push(env, base->env_set.v[i]);
	return r;
}

/* A root-owned script does not run as root, nor a root-group one as
 * group root: as a uid (and gid) of hivebox's range instead, which no
 * other live run holds (ids.h), for as long as b->uid_lock is open.  It
 * reads what others may read, and the script itself must be one of
 * those. */
static int take_uid(const struct hb_config *config, struct hb_learn_box *b,
		    struct hb_diag *diag)
{
	unsigned index = 0;
	int fd = hb_ids_acquire(config->uid_lock, HB_UID_RANGE,
				(unsigned)getpid() % HB_UID_RANGE, &index);

	if (fd < 0)
		return hb_diag_set(diag, config->uid_lock, 0,
				   "learn: cannot take a uid for the job: %s",
				   fd == -EUSERS ? "every uid of the range is "
						   "held by a running sandbox"
						 : strerror(-fd));
	b->uid_lock = fd;
	if (b->uid == 0)
		b->uid = HB_UID_BASE + index;
	if (b->gid == 0)
		b->gid = (gid_t)(HB_UID_BASE + index);
	return 0;
}

static int fill_box(const struct hb_learn_cli *c, const struct hb_policy *base,
		    const struct hb_config *config,
		    const struct hb_learn_obs *o, struct hb_learn_box *b,
		    struct hb_strv *argv, struct hb_strv *env,
		    struct hb_diag *diag)
{
	struct hb_filter_input in;
	struct stat st;
	int r;

	if (stat(o->script, &st) < 0)
		return -errno;
	b->uid = st.st_uid;
	b->gid = st.st_gid;
	if (b->uid == 0 || b->gid == 0) {
		r = take_uid(config, b, diag);
		if (r < 0)
			return r;
	}
	b->limits = base->limits;
	b->network = c->network;
	/* Where a run would start: the base's workdir, or here. */
	b->cwd = base->workdir ? strdup(base->workdir) : getcwd(NULL, 0);
	if (!b->cwd)
		return -errno;
	r = hb_filter_input_of(base, &in, diag);
	if (r < 0)
		return r;
	for (int nr = 0; nr < HB_SYSCALL_NR_END; nr++)
		b->allow[nr] = (!in.default_deny || in.allow[nr]) &&
			       !in.denied[nr] && !in.blocked[nr];
	/* The job tells the init its listener with them (learn_sandbox.c). */
	if (!b->allow[SCMP_SYS(read)] || !b->allow[SCMP_SYS(write)])
		return hb_diag_set(diag, NULL, 0,
				   "learn: the base policy does not allow "
				   "read and write; no job runs without them");
	r = hb_strv_push(argv, base->interpreter);
	if (r == 0)
		r = hb_strv_push(argv, o->script);
	for (size_t i = 0; i < c->n_args && r == 0; i++)
		r = hb_strv_push(argv, c->args[i]);
	if (r == 0)
		r = push_env(env, base);
	if (r < 0)
		return r;
	b->argv = argv->v;
	b->envp = env->v;
	return hb_learn_box_mounts(b);
}

/* ---- the supervisor ------------------------------------------------- */

struct watch {
	struct hb_learn_obs *o;
	const bool *base_allows; /* the box's allow */
	pid_t init;
	int pidfd, sock, notify, timer;
	unsigned long long start_ms, deadline_ms;
	bool timed_out;
	int status; /* the job's wait status, from the init */
	bool have_status;
	char failed[160]; /* the init's stage that failed, if one did */
};

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 +
	       (unsigned long long)ts.tv_nsec / 1000000;
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* One message of the init's socket: the job's listener (1), the job's
 * wait status once it ended (2), or the stage that failed, as text (3,
 * into w->failed). */
static int recv_msg(struct watch *w, int *ret_fd)
{
	char data[sizeof(w->failed)];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data) - 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm;
	ssize_t n = recvmsg(w->sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

	if (n <= 0)
		return n == 0 ? -EPIPE : -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_type == SCM_RIGHTS) {
		memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
		return 1;
	}
	if (n == sizeof(int)) {
		memcpy(&w->status, data, sizeof(int));
		w->have_status = true;
		return 2;
	}
	data[n] = '\0';
	snprintf(w->failed, sizeof(w->failed), "%s", data);
	return 3;
}

/* The tasks of pid and of every descendant: threads, resident memory,
 * the highest descriptor.  /proc/PID/task/TID/children names the
 * children each thread made. */
static void sample_fds(pid_t pid, struct hb_learn_peaks *now)
{
	_cleanup_(closedirp) DIR *fds = NULL;
	char path[64];
	struct dirent *e;
	long max = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	fds = opendir(path);
	while (fds && (e = readdir(fds)))
		if (e->d_name[0] != '.' && atol(e->d_name) > max)
			max = atol(e->d_name);
	if ((unsigned long long)(max + 1) > now->open_files)
		now->open_files = (unsigned long long)(max + 1);
}

/* depth 0 is the init, hivebox's: only its children are the job's. */
static void sample_tree(pid_t pid, struct hb_learn_peaks *now, int depth)
{
	_cleanup_(closedirp) DIR *tasks = NULL;
	char path[320], buf[4096];
	unsigned long long pages = 0;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/statm", pid);
	if (depth && hb_read_text(path, buf, sizeof(buf)) >= 0 &&
	    sscanf(buf, "%*u %llu", &pages) == 1)
		now->memory_kb +=
			pages * ((unsigned long long)getpagesize() / 1024);
	if (depth)
		sample_fds(pid, now);
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	tasks = opendir(path);
	while (tasks && (e = readdir(tasks))) {
		char *s, *save = NULL;
		if (e->d_name[0] == '.')
			continue;
		now->processes += depth > 0;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid,
			 e->d_name);
		if (depth > 64 || hb_read_text(path, buf, sizeof(buf)) < 0)
			continue;
		for (s = strtok_r(buf, " \n", &save); s;
		     s = strtok_r(NULL, " \n", &save))
			sample_tree(atoi(s), now, depth + 1);
	}
}

static void sample(struct watch *w)
{
	struct hb_learn_peaks now = {0}, *p = &w->o->peaks;

	/* Before the script is open, what runs is hivebox's own job
	 * process before its exec, or the interpreter starting. */
	if (!w->o->started)
		return;
	sample_tree(w->init, &now, 0);
	if (now.memory_kb > p->memory_kb)
		p->memory_kb = now.memory_kb;
	if (now.processes > p->processes)
		p->processes = now.processes;
	if (now.open_files > p->open_files)
		p->open_files = now.open_files;
}

static void handle_notify(struct watch *w, const bool *always_denied)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;

	if (seccomp_notify_alloc(&req, &resp) < 0)
		return;
	if (seccomp_notify_receive(w->notify, req) == 0) {
		hb_learn_watch(w->o, always_denied, w->base_allows, req, resp,
			       w->notify);
		/* The caller's descriptors, before it goes on: a job too
		 * short for the timer still shows its peak. */
		if (w->o->started)
			sample_fds((pid_t)req->pid, &w->o->peaks);
		/* A caller gone meanwhile makes this fail: nothing to do. */
		seccomp_notify_respond(w->notify, resp);
		if (w->o->notifications % 16 == 1)
			sample(w);
	}
	seccomp_notify_free(req, resp);
}

static void on_timer(struct watch *w)
{
	uint64_t ticks;

	if (read(w->timer, &ticks, sizeof(ticks)) < 0)
		return;
	sample(w);
	if (!w->timed_out && now_ms() >= w->deadline_ms) {
		w->timed_out = true;
		syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
	}
}

static void on_sock(struct watch *w)
{
	int fd = -1;

	if (recv_msg(w, &fd) == 1) {
		if (w->notify < 0)
			w->notify = fd;
		else
			close(fd);
	}
}

static int loop(struct watch *w)
{
	const bool *always_denied = NULL;
	int r = hb_syscalls_always_denied(&always_denied);
	bool listening = true;

	while (r == 0) {
		struct pollfd p[4] = {
			{.fd = w->pidfd, .events = POLLIN},
			{.fd = w->timer, .events = POLLIN},
			{.fd = w->sock, .events = POLLIN},
			{.fd = listening ? w->notify : -1, .events = POLLIN},
		};
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[3].revents & POLLIN)
			handle_notify(w, always_denied);
		else if (p[3].revents)
			listening = false; /* every process of the job gone */
		if (p[2].revents & POLLIN)
			on_sock(w);
		if (p[1].revents & POLLIN)
			on_timer(w);
		if (p[0].revents & POLLIN)
			return 0;
	}
	return r;
}

static pid_t clone_box(int *ret_pidfd)
{
	struct clone_args args = {
		.flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
			 CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)ret_pidfd,
		.exit_signal = SIGCHLD,
	};

	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* The end of the run: how the job ended, the CPU of all it ran. */
static void finish(struct watch *w, int init_status)
{
	struct hb_learn_obs *o = w->o;
	struct rusage ru;
	int st = w->have_status ? w->status : init_status;

	o->peaks.wall_ms = now_ms() - w->start_ms;
	if (getrusage(RUSAGE_CHILDREN, &ru) == 0) {
		o->peaks.cpu_ms = (unsigned long long)(ru.ru_utime.tv_sec +
						       ru.ru_stime.tv_sec) *
					  1000 +
				  (unsigned long long)(ru.ru_utime.tv_usec +
						       ru.ru_stime.tv_usec) /
					  1000;
		if ((unsigned long long)ru.ru_maxrss > o->peaks.memory_kb)
			o->peaks.memory_kb = (unsigned long long)ru.ru_maxrss;
	}
	if (!o->peaks.processes)
		o->peaks.processes = 1;
	if (w->timed_out) {
		o->end = HB_LEARN_TIMED_OUT;
		o->status = (int)o->base_limits.timeout_seconds;
	} else if (WIFSIGNALED(st)) {
		o->end = HB_LEARN_SIGNALED;
		o->status = WTERMSIG(st);
	} else {
		o->end = HB_LEARN_EXITED;
		o->status = WEXITSTATUS(st);
	}
}

/* ---- after the run: what the host holds at each path ---------------- */

static enum hb_learn_host host_kind(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return HB_LEARN_HOST_NONE;
	if (S_ISLNK(st.st_mode))
		return HB_LEARN_HOST_LINK;
	return S_ISDIR(st.st_mode) ? HB_LEARN_HOST_DIR : HB_LEARN_HOST_FILE;
}

static int find_anchor(struct hb_learn_path *p)
{
	_cleanup_free_ char *dir = strdup(p->path);
	char *slash;

	if (!dir)
		return -ENOMEM;
	do {
		slash = strrchr(dir, '/');
		if (!slash)
			return 0;
		slash[slash == dir] = '\0';
	} while (host_kind(dir) != HB_LEARN_HOST_DIR && strcmp(dir, "/") != 0);
	p->anchor = TAKE_PTR(dir);
	return 0;
}

static void resolve_name(struct hb_learn_dest *d)
{
	struct addrinfo hints = {.ai_family = AF_INET,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;

	if (getaddrinfo(d->addr, NULL, &hints, &res) != 0)
		return;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		char text[INET_ADDRSTRLEN];
		size_t len = strlen(d->resolved);
		inet_ntop(AF_INET,
			  &((struct sockaddr_in *)a->ai_addr)->sin_addr, text,
			  sizeof(text));
		if (len + strlen(text) + 2 < sizeof(d->resolved))
			snprintf(d->resolved + len, sizeof(d->resolved) - len,
				 "%s%s", len ? " " : "", text);
	}
	freeaddrinfo(res);
}

static int look_at_host(struct hb_learn_obs *o)
{
	for (size_t i = 0; i < o->n_paths; i++) {
		struct hb_learn_path *p = &o->paths[i];
		p->host = host_kind(p->path);
		if (p->ops & HB_LEARN_WRITES && find_anchor(p) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < o->n_dests; i++)
		if (o->dests[i].dns_query)
			resolve_name(&o->dests[i]);
	return 0;
}

/* ---- the run -------------------------------------------------------- */

struct run {
	struct hb_learn_box box;
	struct hb_strv argv, env;
	int sv[2], go[2];
	struct hb_net_plan np;
	struct hb_net_run net;
	bool have_net;
};

static void run_free(struct run *r)
{
	if (r->have_net)
		hb_net_run_teardown(&r->net);
	hb_learn_box_free(&r->box);
	hb_closep(&r->box.uid_lock);
	free(r->box.cwd);
	hb_strv_clear(&r->argv);
	hb_strv_clear(&r->env);
	for (int i = 0; i < 2; i++) {
		hb_closep(&r->sv[i]);
		hb_closep(&r->go[i]);
	}
}

static int net_before(struct run *r, const struct hb_config *config,
		      struct hb_diag *diag)
{
	struct hb_error e = {0};

	if (!r->box.network)
		return 0;
	if (geteuid() != 0)
		return hb_diag_set(diag, NULL, 0,
				   "learn --network needs root: "
				   "a filtered network is built on the host "
				   "side");
	r->np.filtered = true;
	r->np.allow_any = true;
	r->np.config = config;
	if (pipe2(r->go, O_CLOEXEC) < 0)
		return -errno;
	r->box.go_fd = r->go[0];
	if (hb_net_run_acquire(&r->net, &r->np, &e) < 0)
		return hb_diag_set(diag, NULL, 0, "learn --network: %s: %s",
				   e.what, strerror(e.err));
	r->have_net = true;
	r->box.slot = r->net.slot;
	return 0;
}

static int net_after(struct run *r, pid_t pid, struct hb_diag *diag)
{
	struct hb_error e = {0};

	if (!r->box.network)
		return 0;
	if (hb_net_run_host(&r->net, pid, &e) < 0)
		return hb_diag_set(diag, NULL, 0, "learn --network: %s: %s",
				   e.what, strerror(e.err));
	return write(r->go[1], "g", 1) == 1 ? 0 : -errno;
}

static int supervise(struct run *r, struct watch *w, struct hb_diag *diag)
{
	struct itimerspec its = {.it_interval = {0, 50 * 1000000},
				 .it_value = {0, 50 * 1000000}};
	siginfo_t si = {0};
	int k;

	w->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (w->timer < 0 || timerfd_settime(w->timer, 0, &its, NULL) < 0)
		return -errno;
	k = net_after(r, w->init, diag);
	if (k < 0) {
		syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
		waitid(P_PIDFD, (id_t)w->pidfd, &si, WEXITED);
		return k;
	}
	k = loop(w);
	if (waitid(P_PIDFD, (id_t)w->pidfd, &si, WEXITED) < 0)
		return -errno;
	if (k < 0)
		return k;
	if (w->notify < 0 || w->failed[0])
		return hb_diag_set(diag, NULL, 0,
				   "learn: the observing sandbox did not "
				   "start the job: %s",
				   w->failed[0] ? w->failed
						: "no reason given");
	finish(w, si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8
					   : si.si_status);
	return 0;
}

int hb_learn_run(const struct hb_learn_cli *c, const struct hb_policy *base,
		 const struct hb_config *config, struct hb_learn_obs *o,
		 struct hb_diag *diag)
{
	struct run r = {.sv = {-1, -1}, .go = {-1, -1}, .box.uid_lock = -1};
	struct watch w = {.o = o, .pidfd = -1, .notify = -1, .timer = -1};
	int k;

	k = fill_obs(c, base, o, diag);
	if (k == 0)
		k = fill_box(c, base, config, o, &r.box, &r.argv, &r.env, diag);
	if (k == 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, r.sv) < 0)
		k = -errno;
	r.box.sock = r.sv[1];
	if (k == 0)
		k = net_before(&r, config, diag);
	if (k == 0) {
		fflush(NULL);
		w.start_ms = now_ms();
		w.deadline_ms =
			w.start_ms + base->limits.timeout_seconds * 1000;
		w.init = clone_box(&w.pidfd);
		if (w.init == 0)
			hb_learn_box_init(&r.box);
		k = w.init < 0 ? -errno : 0;
	}
	if (k == 0) {
		hb_closep(&r.sv[1]);
		hb_closep(&r.go[0]);
		w.sock = r.sv[0];
		w.base_allows = r.box.allow;
		k = supervise(&r, &w, diag);
	}
	hb_closep(&w.notify);
	hb_closep(&w.timer);
	hb_closep(&w.pidfd);
	run_free(&r);
	return k < 0 ? k : look_at_host(o);
}

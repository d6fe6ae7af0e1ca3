/* SPDX-License-Identifier: MIT */
/* netpool.c: parsing the pool, the addresses of each /30, and the state
 * files that hand out indexes, in a throw-away directory (not /run). */
#include "helpers.h"
#include "net_pool.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define CHILDREN 20
#define ROUNDS 5

static struct hb_net_pool pool_of(const char *s)
{
	struct hb_net_pool p;
	int r = hb_net_pool_parse(s, &p);

	cr_assert_eq(r, 0, "hb_net_pool_parse(%s) = %d", s, r);
	return p;
}

static uint32_t addr_of(const char *dotted)
{
	struct in_addr in;

	cr_assert_eq(inet_pton(AF_INET, dotted, &in), 1);
	return in.s_addr;
}

Test(netpool_parse, good)
{
	struct hb_net_pool p = pool_of("10.251.0.0/16");

	cr_assert_eq(p.network, 0x0afb0000);
	cr_assert_eq(p.prefixlen, 16);
	cr_assert_eq(p.count, 16384);
	p = pool_of("192.168.7.8/29");
	cr_assert_eq(p.network, 0xc0a80708);
	cr_assert_eq(p.count, 2);
	p = pool_of("172.16.0.4/30");
	cr_assert_eq(p.count, 1);
	p = pool_of("10.0.0.0/8");
	cr_assert_eq(p.count, 1u << 22);
	p = pool_of("0.0.0.0/0");
	cr_assert_eq(p.count, 1u << 30);
}

static void expect_bad(const char *s, int want)
{
	struct hb_net_pool p = {.network = 7, .prefixlen = 7, .count = 7};
	int r = hb_net_pool_parse(s, &p);

	cr_assert_eq(r, want, "hb_net_pool_parse(\"%s\") = %d, want %d",
		     s ? s : "NULL", r, want);
	/* A refused value leaves the pool as it was. */
	cr_assert_eq(p.network, 7);
	cr_assert_eq(p.count, 7);
}

Test(netpool_parse, bad_syntax)
{
	expect_bad("10.251.0.0", -EINVAL);
	expect_bad("10.251.0.0/", -EINVAL);
	expect_bad("/16", -EINVAL);
	expect_bad("10.251.0/16", -EINVAL);
	expect_bad("10.251.0.256/16", -EINVAL);
	expect_bad("10.251.0.0/16 ", -EINVAL);
	expect_bad(" 10.251.0.0/16", -EINVAL);
	expect_bad("10.251.0.0/-1", -EINVAL);
	expect_bad("10.251.0.0/+16", -EINVAL);
	expect_bad("10.251.0.0/16/8", -EINVAL);
	expect_bad("fd00::/64", -EINVAL);
	expect_bad("10.251.0.0.0.0.0.0.0.0.0.0/16", -EINVAL);
	expect_bad("", -EINVAL);
	expect_bad(NULL, -EINVAL);
}

Test(netpool_parse, bad_prefix)
{
	expect_bad("10.251.0.0/33", -EINVAL);
	expect_bad("10.251.0.0/99999999999999999999999", -EINVAL);
	/* Too small for one /30. */
	expect_bad("10.251.0.0/31", -ERANGE);
	expect_bad("10.251.0.0/32", -ERANGE);
}

Test(netpool_parse, host_bits_set)
{
	expect_bad("10.251.0.1/16", -EINVAL);
	expect_bad("10.251.1.0/16", -EINVAL);
	expect_bad("192.168.7.4/29", -EINVAL);
	expect_bad("172.16.0.2/30", -EINVAL);
	expect_bad("0.0.0.1/0", -EINVAL);
}

static void expect_slot(const struct hb_net_pool *p, unsigned index,
			const char *host, const char *sandbox,
			const char *ifname)
{
	struct hb_net_pool_slot s;

	memset(&s, 0xa5, sizeof(s));
	cr_assert_eq(hb_net_pool_slot(p, index, &s), 0, "index %u", index);
	cr_assert_eq(s.index, index);
	cr_assert_eq(s.host_ip, addr_of(host), "index %u: host end", index);
	cr_assert_eq(s.sandbox_ip, addr_of(sandbox), "index %u: sandbox end",
		     index);
	cr_assert_str_eq(s.host_ifname, ifname);
}

Test(netpool_slot, addresses_and_names)
{
	struct hb_net_pool p = pool_of("10.251.0.0/16");
	struct hb_net_pool_slot s;

	expect_slot(&p, 0, "10.251.0.1", "10.251.0.2", "hb0h");
	expect_slot(&p, 1, "10.251.0.5", "10.251.0.6", "hb1h");
	expect_slot(&p, 63, "10.251.0.253", "10.251.0.254", "hb63h");
	expect_slot(&p, 64, "10.251.1.1", "10.251.1.2", "hb64h");
	expect_slot(&p, 16383, "10.251.255.253", "10.251.255.254", "hb16383h");
	cr_assert_eq(hb_net_pool_slot(&p, 16384, &s), -ERANGE);

	p = pool_of("192.168.7.8/29");
	expect_slot(&p, 0, "192.168.7.9", "192.168.7.10", "hb0h");
	expect_slot(&p, 1, "192.168.7.13", "192.168.7.14", "hb1h");
	cr_assert_eq(hb_net_pool_slot(&p, 2, &s), -ERANGE);

	/* The largest pool's last name still fits IFNAMSIZ. */
	p = pool_of("0.0.0.0/0");
	expect_slot(&p, (1u << 30) - 1, "255.255.255.253", "255.255.255.254",
		    "hb1073741823h");
}

Test(netpool_slot, host_ifname_too_long)
{
	char buf[5];

	cr_assert_eq(hb_net_pool_host_ifname(12, buf, sizeof(buf)),
		     -ENAMETOOLONG);
	cr_assert_eq(hb_net_pool_host_ifname(9, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "hb9h");
}

/* ---- Acquire, release, stale: the state directory. ---- */

static char *dir;
static char *state;

static void setup_dir(void)
{
	dir = tmpdir_new();
	/* Not there yet, parent included: acquire makes both. */
	state = path_join(dir, "run/net");
}

static void teardown_dir(void)
{
	free(state);
	tmpdir_remove(dir);
}

static unsigned acquire(const struct hb_net_pool *p)
{
	unsigned index = 12345;
	int r = hb_net_pool_acquire(p, state, NULL, NULL, &index);

	cr_assert_eq(r, 0, "acquire: %s", strerror(-r));
	return index;
}

static unsigned long long starttime_of(pid_t pid)
{
	unsigned long long t = 0;
	int r = hb_net_pool_starttime(pid, &t);

	cr_assert_eq(r, 0, "starttime of %d: %s", (int)pid, strerror(-r));
	return t;
}

static bool file_exists(const char *name)
{
	char *path = path_join(state, name);
	bool exists = access(path, F_OK) == 0;

	free(path);
	return exists;
}

static bool index_held(unsigned index)
{
	char name[16];

	snprintf(name, sizeof(name), "%u", index);
	return file_exists(name);
}

static void write_owner(unsigned index, const char *text)
{
	char name[16];

	snprintf(name, sizeof(name), "%u", index);
	make_file(state, name, text);
}

static void write_pid(unsigned index, pid_t pid, unsigned long long start)
{
	char text[64];

	snprintf(text, sizeof(text), "%d %llu\n", (int)pid, start);
	write_owner(index, text);
}

static void expect_mode(const char *name, mode_t want)
{
	char *path = name ? path_join(state, name) : strdup(state);
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(st.st_mode & 07777, want, "%s: mode %o, want %o", path,
		     st.st_mode & 07777, want);
	free(path);
}

/* cppcheck-suppress unknownMacro */
TestSuite(netpool_state, .init = setup_dir, .fini = teardown_dir);

Test(netpool_state, starttime_of_self_and_of_the_gone)
{
	unsigned long long t;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	/* Ours is constant; an exited child, zombie or reaped, has none. */
	cr_assert_eq(starttime_of(getpid()), starttime_of(getpid()));
	cr_assert_gt(starttime_of(getpid()), 0);
	cr_assert_eq(
		waitid(P_PID, (id_t)pid, &(siginfo_t){0}, WEXITED | WNOWAIT),
		0);
	cr_assert_eq(hb_net_pool_starttime(pid, &t), -ESRCH, "a zombie");
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert_eq(hb_net_pool_starttime(pid, &t), -ESRCH, "reaped");
	cr_assert_eq(hb_net_pool_starttime(0, &t), -ESRCH);
}

Test(netpool_state, acquire_writes_owner_and_modes)
{
	struct hb_net_pool p = pool_of("10.251.0.0/16");
	char want[64], *text;

	cr_assert_eq(acquire(&p), 0);
	snprintf(want, sizeof(want), "%d %llu\n", (int)getpid(),
		 starttime_of(getpid()));
	text = read_text(state, "0");
	cr_assert_not_null(text);
	cr_assert_str_eq(text, want);
	free(text);
	expect_mode(NULL, 0700);
	expect_mode("lock", 0600);
	expect_mode("0", 0600);
}

Test(netpool_state, two_acquires_differ_and_release_frees)
{
	struct hb_net_pool p = pool_of("10.251.0.0/16");

	cr_assert_eq(acquire(&p), 0);
	cr_assert_eq(acquire(&p), 1);
	cr_assert_eq(acquire(&p), 2);
	cr_assert_eq(hb_net_pool_release(state, 1), 0);
	cr_assert_not(index_held(1));
	cr_assert(index_held(0) && index_held(2));
	/* The lowest free index comes first. */
	cr_assert_eq(acquire(&p), 1);
	cr_assert_eq(acquire(&p), 3);
	/* Releasing twice, or what was never held, is no error. */
	cr_assert_eq(hb_net_pool_release(state, 3), 0);
	cr_assert_eq(hb_net_pool_release(state, 3), 0);
	cr_assert_eq(hb_net_pool_release(state, 99), 0);
}

Test(netpool_state, full_pool)
{
	struct hb_net_pool p = pool_of("10.251.0.8/29");
	unsigned index = 77;

	cr_assert_eq(acquire(&p), 0);
	cr_assert_eq(acquire(&p), 1);
	cr_assert_eq(hb_net_pool_acquire(&p, state, NULL, NULL, &index),
		     -EADDRNOTAVAIL);
	cr_assert_eq(index, 77);
	cr_assert_not(index_held(2));
}

Test(netpool_state, other_live_owner_is_respected)
{
	struct hb_net_pool p = pool_of("10.251.0.0/16");
	pid_t parent = getppid();

	/* The process that runs this test is alive and is not us. */
	cr_assert_eq(acquire(&p), 0);
	write_pid(1, parent, starttime_of(parent));
	cr_assert_eq(hb_net_pool_release(state, 0), 0);
	cr_assert_eq(acquire(&p), 0);
	cr_assert_eq(acquire(&p), 2);
	cr_assert_eq(hb_net_pool_stale(state, NULL, NULL), 0);
	cr_assert(index_held(1));
}

/* A child that is started, looked at and killed: its pid and start time
 * name a process that is gone. */
static pid_t dead_child(unsigned long long *ret_starttime)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	*ret_starttime = starttime_of(pid);
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

Test(netpool_state, dead_owner_is_reused)
{
	struct hb_net_pool p = pool_of("10.251.0.0/16");
	unsigned long long start;
	pid_t dead = dead_child(&start);

	cr_assert_eq(acquire(&p), 0);
	write_pid(1, dead, start);
	cr_assert_eq(acquire(&p), 1);
	/* ... and now names us. */
	write_pid(2, getpid(), starttime_of(getpid()) + 1);
	cr_assert_eq(acquire(&p), 2, "a live pid, but another start time");
	cr_assert_eq(acquire(&p), 3);
}

struct seen {
	unsigned index[16];
	int n;
	unsigned refuse; /* the index cleanup fails for */
};

static int record(unsigned index, void *userdata)
{
	struct seen *s = userdata;

	/* Called with the lock held: the file is still there. */
	cr_assert(index_held(index));
	cr_assert_lt(s->n, 16);
	s->index[s->n++] = index;
	return index == s->refuse ? -EBUSY : 0;
}

static bool saw(const struct seen *s, unsigned index)
{
	for (int i = 0; i < s->n; i++)
		if (s->index[i] == index)
			return true;
	return false;
}

Test(netpool_state, stale_reported_and_removed)
{
	struct hb_net_pool p = pool_of("10.251.0.0/16");
	struct seen seen = {.refuse = 999};
	unsigned long long start;
	pid_t dead = dead_child(&start);

	/* Ours, a dead owner's, a live pid with another start time (the pid
	 * was reused), three torn files, and a live stranger's. */
	cr_assert_eq(acquire(&p), 0);
	write_pid(1, dead, start);
	write_pid(2, getpid(), starttime_of(getpid()) - 1);
	write_owner(3, "garbage\n");
	write_owner(4, "");
	write_owner(7, "hello");
	write_pid(5, getppid(), starttime_of(getppid()));
	make_file(state, "07", "not an index\n");
	make_file(state, "7.tmp", "not an index\n");
	cr_assert_eq(hb_net_pool_stale(state, record, &seen), 5);
	cr_assert_eq(seen.n, 5);
	cr_assert(saw(&seen, 1) && saw(&seen, 2) && saw(&seen, 3) &&
		  saw(&seen, 4) && saw(&seen, 7));
	cr_assert(index_held(0) && index_held(5));
	cr_assert_not(index_held(1) || index_held(2) || index_held(3) ||
		      index_held(4) || index_held(7));
	/* Not an index name: neither reported nor touched. */
	cr_assert(file_exists("07") && file_exists("7.tmp"));
	/* Nothing is left to report. */
	seen.n = 0;
	cr_assert_eq(hb_net_pool_stale(state, record, &seen), 0);
	cr_assert_eq(seen.n, 0);
}

Test(netpool_state, failed_cleanup_keeps_the_file)
{
	struct hb_net_pool p = pool_of("10.251.0.0/16");
	struct seen seen = {.refuse = 2};

	cr_assert_eq(acquire(&p), 0);
	write_owner(1, "x");
	write_owner(2, "x");
	write_owner(3, "x");
	cr_assert_eq(hb_net_pool_stale(state, record, &seen), -EBUSY);
	cr_assert_eq(seen.n, 3);
	cr_assert(index_held(2), "the next start tries again");
	cr_assert_not(index_held(1) || index_held(3));
	seen.n = 0;
	seen.refuse = 999;
	cr_assert_eq(hb_net_pool_stale(state, record, &seen), 1);
	cr_assert(seen.n == 1 && seen.index[0] == 2);
}

Test(netpool_state, missing_dir_has_nothing_stale)
{
	cr_assert_eq(hb_net_pool_stale(state, record, NULL), 0);
	cr_assert_eq(hb_net_pool_release(state, 0), 0);
	cr_assert_neq(access(state, F_OK), 0, "stale() must not create it");
}

Test(netpool_state, unsafe_dir_is_refused)
{
	struct hb_net_pool p = pool_of("10.251.0.0/16");
	char *link = path_join(dir, "link");
	unsigned index;

	cr_assert_eq(acquire(&p), 0);
	cr_assert_eq(chmod(state, 0770), 0);
	cr_assert_eq(hb_net_pool_acquire(&p, state, NULL, NULL, &index),
		     -EPERM);
	cr_assert_eq(hb_net_pool_stale(state, NULL, NULL), -EPERM);
	cr_assert_eq(chmod(state, 0700), 0);
	cr_assert_eq(symlink(state, link), 0);
	cr_assert_lt(hb_net_pool_acquire(&p, link, NULL, NULL, &index), 0);
	cr_assert_eq(hb_net_pool_stale(link, NULL, NULL), -ENOTDIR);
	free(link);
}

/* Each child waits for the start, takes an index, reports it with its pid,
 * then holds it until the test lets go: a child that exited would be a
 * dead owner, whose index another may rightly take. */
static void child_acquires(const struct hb_net_pool *p, int start, int out,
			   int hold)
{
	unsigned index;
	int msg[2];
	char c;

	if (read(start, &c, 1) != 0)
		_exit(2);
	if (hb_net_pool_acquire(p, state, NULL, NULL, &index) < 0)
		_exit(3);
	msg[0] = (int)index;
	msg[1] = (int)getpid();
	if (write(out, msg, sizeof(msg)) != sizeof(msg))
		_exit(4);
	(void)read(hold, &c, 1);
	_exit(0);
}

/* CHILDREN start at once on an empty state directory. */
static void acquire_race(const struct hb_net_pool *p)
{
	int start[2], out[2], hold[2], status;
	pid_t pids[CHILDREN], owner[CHILDREN] = {0};

	cr_assert_eq(pipe(start), 0);
	cr_assert_eq(pipe(out), 0);
	cr_assert_eq(pipe(hold), 0);
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0) {
			close(start[1]);
			close(hold[1]);
			child_acquires(p, start[0], out[1], hold[0]);
		}
	}
	/* Closing the write end lets every child go at once; with ours of
	 * out closed, a child that dies early ends our read. */
	close(start[1]);
	close(out[1]);
	for (int i = 0; i < CHILDREN; i++) {
		int msg[2];

		cr_assert_eq(read(out[0], msg, sizeof(msg)), sizeof(msg),
			     "%d children reported", i);
		cr_assert(msg[0] >= 0 && msg[0] < CHILDREN, "index %d", msg[0]);
		cr_assert_eq(owner[msg[0]], 0, "index %d given twice", msg[0]);
		owner[msg[0]] = msg[1];
	}
	/* Every index names the child that got it. */
	for (int i = 0; i < CHILDREN; i++) {
		char want[64], name[16], *text;

		snprintf(name, sizeof(name), "%d", i);
		snprintf(want, sizeof(want), "%d %llu\n", (int)owner[i],
			 starttime_of(owner[i]));
		text = read_text(state, name);
		cr_assert_not_null(text);
		cr_assert_str_eq(text, want);
		free(text);
	}
	close(hold[1]);
	for (int i = 0; i < CHILDREN; i++) {
		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "child %d: status 0x%x", i, status);
	}
	/* All gone now: every index is stale. */
	cr_assert_eq(hb_net_pool_stale(state, NULL, NULL), CHILDREN);
}

/* cppcheck-suppress unknownMacro */
Test(netpool_state, concurrent_acquires_are_distinct, .timeout = 60)
{
	struct hb_net_pool p = pool_of("10.251.0.0/16");

	/* Without the lock, one round in two or three hands out an index
	 * twice on two cores; five rounds make a lucky pass unlikely. */
	for (int round = 0; round < ROUNDS; round++) {
		char name[32];

		snprintf(name, sizeof(name), "round%d", round);
		free(state);
		state = path_join(dir, name);
		acquire_race(&p);
	}
}

/* Forwarding: a plain file stands in for the sysctl. */
static char *forward;

static void setup_forward(const char *value)
{
	make_file(dir, "ip_forward", value);
	forward = path_join(dir, "ip_forward");
	hb_net_pool_forward_path = forward;
}

static char *forward_value(void)
{
	return read_text(dir, "ip_forward");
}

static void expect_forward(const char *want)
{
	char *got = forward_value();

	cr_assert_str_eq(got, want);
	free(got);
}

Test(netpool_state, forwarding_on_then_back_off_with_the_last_slot)
{
	struct hb_net_pool p = pool_of("10.251.0.0/16");

	setup_forward("0\n");
	cr_assert_eq(acquire(&p), 0);
	cr_assert_eq(hb_net_pool_forwarding_on(state), 1, "switched on");
	expect_forward("1\n");
	cr_assert_eq(acquire(&p), 1);
	cr_assert_eq(hb_net_pool_forwarding_on(state), 0, "on already");
	cr_assert_eq(hb_net_pool_release(state, 0), 0, "one still held");
	expect_forward("1\n");
	cr_assert_eq(hb_net_pool_release(state, 1), 1, "the last one");
	expect_forward("0\n");
	cr_assert_not(file_exists("ip_forward.hivebox"));
	free(forward);
}

Test(netpool_state, forwarding_that_was_on_stays_on)
{
	struct hb_net_pool p = pool_of("10.251.0.0/16");

	setup_forward("1\n");
	cr_assert_eq(acquire(&p), 0);
	cr_assert_eq(hb_net_pool_forwarding_on(state), 0);
	cr_assert_eq(hb_net_pool_release(state, 0), 0);
	expect_forward("1\n");
	free(forward);
}

/* The last run was killed: the next start's stale cleanup switches
 * forwarding back off, once its leftovers are gone. */
Test(netpool_state, forwarding_of_a_killed_run_is_restored_by_stale)
{
	struct hb_net_pool p = pool_of("10.251.0.0/16");
	unsigned long long start;
	pid_t dead = dead_child(&start);

	setup_forward("0\n");
	cr_assert_eq(acquire(&p), 0);
	cr_assert_eq(hb_net_pool_forwarding_on(state), 1);
	write_pid(0, dead, start);
	cr_assert_eq(hb_net_pool_stale(state, NULL, NULL), 1);
	expect_forward("0\n");
	cr_assert_not(file_exists("ip_forward.hivebox"));
	free(forward);
}

static bool odd_only(unsigned index, void *userdata)
{
	(*(int *)userdata)++;
	return index % 2 == 1;
}

/* An index whose last interface is still going away is passed over. */
Test(netpool_state, unusable_indexes_are_passed_over)
{
	struct hb_net_pool p = pool_of("10.251.0.0/28");
	unsigned index = 77;
	int asked = 0;

	cr_assert_eq(hb_net_pool_acquire(&p, state, odd_only, &asked, &index),
		     0);
	cr_assert_eq(index, 1);
	cr_assert_eq(hb_net_pool_acquire(&p, state, odd_only, &asked, &index),
		     0);
	cr_assert_eq(index, 3);
	cr_assert_eq(hb_net_pool_acquire(&p, state, odd_only, &asked, &index),
		     -EADDRNOTAVAIL);
	cr_assert_not(index_held(0) || index_held(2));
	cr_assert_gt(asked, 0);
}

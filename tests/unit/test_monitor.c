/* SPDX-License-Identifier: MIT */
/* monitor.c's CPU total on a real process tree below the test process,
 * which stands in for the sandbox init: CPU that ended in a reaped child
 * still counts, once. */
#include "monitor.h"

#include <criterion/criterion.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#define BURN_MS 300

/* Spend BURN_MS of this process's own CPU, as the kernel counts it. */
static void burn(void)
{
	struct timespec ts;
	volatile unsigned long n = 0;

	do {
		for (int i = 0; i < 100000; i++)
			n++;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	} while (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 < BURN_MS);
}

static pid_t spawn_burner(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		burn();
		_exit(0);
	}
	return pid;
}

static struct hb_sample sample(pid_t init)
{
	struct hb_monitor_src src = {.init = init, .ipc = {-1, -1, -1}};
	struct hb_sample s;

	cr_assert_eq(hb_monitor_sample(&src, &s), 0);
	return s;
}

/* A child that burned and was reaped by the "init" (this process) counts
 * through the init's cutime, though no process of it is left. */
Test(monitor, counts_what_the_init_reaped)
{
	pid_t pid = spawn_burner();
	struct hb_sample s;

	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	s = sample(getpid());
	cr_assert_eq(s.processes, 0);
	/* /proc counts in clock ticks: a tick's rounding below BURN_MS. */
	cr_assert_geq(s.cpu_total_ms, BURN_MS - 20, "%llu", s.cpu_total_ms);
}

/* A grandchild its parent waited for counts in the living parent's
 * cutime, and not in the busiest process, which never burned. */
Test(monitor, counts_what_a_living_process_reaped)
{
	int go[2], done[2];
	char c;
	pid_t parent;
	struct hb_sample s;

	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(done), 0);
	parent = fork();
	cr_assert_geq(parent, 0);
	if (parent == 0) {
		pid_t child = spawn_burner();
		waitpid(child, NULL, 0);
		(void)!write(done[1], "x", 1);
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	cr_assert_eq(read(done[0], &c, 1), 1);
	s = sample(getpid());
	(void)!write(go[1], "x", 1);
	cr_assert_eq(waitpid(parent, NULL, 0), parent);
	cr_assert_eq(s.processes, 1);
	cr_assert_geq(s.cpu_total_ms, BURN_MS - 20, "%llu", s.cpu_total_ms);
	cr_assert_lt(s.cpu_max_ms, BURN_MS - 20, "%llu", s.cpu_max_ms);
}

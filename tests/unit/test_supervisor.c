/* SPDX-License-Identifier: MIT */
/* supervisor.c where it can be run without a sandbox: a run that fails
 * before the clone. */
#include "supervisor.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

/* The supervisor blocks the forwarded signals for its signalfd; on
 * return the caller's mask is back, on a path that fails early too (the
 * host side of a filtered network whose state directory cannot exist). */
Test(supervisor, restores_the_callers_signal_mask)
{
	char state_dir[] = "/dev/null/hivebox";
	struct hb_config config = {.state_dir = state_dir};
	struct hb_plan plan = {.timeout_ms = 1000, .grace_ms = 1000};
	struct hb_events w = {.quiet = true, .sample_ms = 100};
	struct hb_result res;
	sigset_t before, after;

	plan.net.filtered = true;
	plan.net.config = &config;
	sigemptyset(&before);
	sigaddset(&before, SIGUSR2);
	sigaddset(&before, SIGALRM);
	cr_assert_eq(sigprocmask(SIG_SETMASK, &before, NULL), 0);
	cr_assert_lt(hb_supervise(&plan, NULL, &w, NULL, -1, &res), 0);
	cr_assert_eq(sigprocmask(SIG_SETMASK, NULL, &after), 0);
	for (int sig = 1; sig < _NSIG; sig++)
		cr_assert_eq(sigismember(&after, sig),
			     sigismember(&before, sig), "signal %d", sig);
	cr_assert_eq(res.reason, HB_REASON_SETUP_ERROR);
	cr_assert_eq(res.setup.stage, HB_STAGE_NET_HOST, "%s",
		     hb_stage_name(res.setup.stage));
	cr_assert_eq(res.hivebox_exit, 125);
	json_object_put(res.network);
	json_object_put(res.denied_counts);
}

static void *wait_on(void *fd)
{
	char c;

	(void)!read(*(int *)fd, &c, 1);
	return NULL;
}

/* The sandbox init relies on a single-threaded supervisor (malloc, stdio,
 * libmnl and libcap between clone3 and execve): with a second thread the
 * run fails at the clone, as a setup error naming it, and nothing is
 * cloned. */
Test(supervisor, refuses_to_clone_with_a_second_thread)
{
	struct hb_plan plan = {.timeout_ms = 1000, .grace_ms = 1000};
	struct hb_events w = {.quiet = true, .sample_ms = 100};
	struct hb_result res;
	char want[256];
	pthread_t t;
	int p[2];

	/* Criterion's worker runs a thread of its own; add one anyway. */
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(pthread_create(&t, NULL, wait_on, &p[0]), 0);
	snprintf(want, sizeof(want),
		 "the supervisor runs %d threads, where the sandbox init "
		 "needs it to run one",
		 hb_threads());
	cr_assert_eq(hb_supervise(&plan, NULL, &w, NULL, -1, &res), -ENOTSUP);
	close(p[1]);
	cr_assert_eq(pthread_join(t, NULL), 0);
	close(p[0]);
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child was cloned");
	cr_assert_eq(errno, ECHILD);
	cr_assert_eq(res.reason, HB_REASON_SETUP_ERROR);
	cr_assert_eq(res.setup.stage, HB_STAGE_CLONE);
	cr_assert_eq(res.setup.err, ENOTSUP);
	cr_assert_str_eq(res.setup.what, want);
	cr_assert_eq(res.hivebox_exit, 125);
	json_object_put(res.denied_counts);
}

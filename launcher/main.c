/* SPDX-License-Identifier: MIT */
/* hivebox: the run's table of contents.  Only this file prints errors and
 * turns them into exit codes. */
#include "cli.h"
#include "plan.h"
#include "policy.h"
#include "result.h"
#include "sandbox.h"
#include "supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>

#ifndef HB_VERSION
#define HB_VERSION "0.1"
#endif

#define EXIT_HIVEBOX 125

extern char **environ;

static int fail_diag(const struct hb_diag *d)
{
	hb_diag_print(d, stderr);
	return EXIT_HIVEBOX;
}

static int policy_show(const struct hb_cli *cli)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r;

	hb_policy_init(&p);
	r = hb_policy_load(&p, cli->policy, &d);
	if (r < 0) {
		hb_policy_free(&p);
		return fail_diag(&d);
	}
	hb_policy_show(&p, stdout);
	hb_policy_free(&p);
	return 0;
}

static void notice(const struct hb_cli *cli, const struct hb_result *r,
		   const struct hb_plan *plan)
{
	if (r->reason == HB_REASON_SETUP_ERROR) {
		/* Errors are printed even with --quiet. */
		if (r->exec_failed)
			fprintf(stderr, "hivebox: cannot execute %s: %s\n",
				r->setup_what, strerror(r->setup_errno));
		else
			fprintf(stderr,
				"hivebox: sandbox setup failed at '%s'%s%s: "
				"%s\n",
				hb_stage_name((enum hb_stage)r->setup_stage),
				r->setup_what[0] ? " on " : "", r->setup_what,
				strerror(r->setup_errno));
		return;
	}
	if (cli->quiet)
		return;
	if (r->reason == HB_REASON_TIMEOUT)
		fprintf(stderr,
			"hivebox: timeout: %s was stopped after %llu s "
			"(timeout_seconds)\n",
			plan->script, plan->policy->timeout_seconds);
	else if (r->reason == HB_REASON_CPU_LIMIT)
		fprintf(stderr,
			"hivebox: cpu_limit: %s was killed after %llu s of CPU "
			"time (cpu_seconds)\n",
			plan->script, plan->policy->cpu_seconds);
	else if (r->reason == HB_REASON_FILE_SIZE_LIMIT)
		fprintf(stderr,
			"hivebox: file_size_limit: %s was killed writing past "
			"%llu MiB (file_size_mb)\n",
			plan->script, plan->policy->file_size_mb);
}

static int report(const struct hb_cli *cli, const struct hb_result *res,
		  const struct hb_plan *plan)
{
	int r = 0;

	if (cli->result_fd >= 0)
		r = hb_result_write_fd(cli->result_fd, res, plan);
	if (r == 0 && cli->result_file)
		r = hb_result_write_file(cli->result_file, res, plan);
	if (r < 0)
		fprintf(stderr, "hivebox: cannot write the result: %s\n",
			strerror(-r));
	notice(cli, res, plan);
	return res->hivebox_exit;
}

/* Load, tighten and check: everything that can refuse the run before
 * anything is created. */
static int prepare(const struct hb_cli *cli, struct hb_policy *policy,
		   struct hb_plan *plan, struct hb_diag *d)
{
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	struct hb_invocation inv = {
		.script = cli->script,
		.args = cli->args,
		.n_args = cli->n_args,
		.uid = getuid(),
		.euid = geteuid(),
		.gid = getgid(),
		.pid = getpid(),
		.environ = environ,
	};
	int r;

	if (!cwd)
		return hb_diag_set(d, NULL, 0,
				   "cannot tell the current directory: %s",
				   strerror(errno));
	inv.cwd = cwd;
	r = hb_policy_load(policy, cli->policy, d);
	for (size_t i = 0; r == 0 && i < cli->n_tighten; i++)
		r = hb_policy_tighten(policy, cli->tighten[i].key,
				      cli->tighten[i].option,
				      cli->tighten[i].value, d);
	if (r == 0 && cli->result_fd >= 0 && fcntl(cli->result_fd, F_GETFD) < 0)
		r = hb_diag_set(d, NULL, 0,
				"--result-fd %d is not an open descriptor",
				cli->result_fd);
	if (r == 0)
		r = hb_plan_build(plan, policy, &inv, d);
	if (r < 0 && !d->msg[0])
		hb_diag_set(d, NULL, 0, "cannot prepare the run: %s",
			    strerror(-r));
	return r;
}

static int run(const struct hb_cli *cli)
{
	struct hb_policy policy;
	struct hb_plan plan = {0};
	struct hb_result res;
	struct hb_diag d = {0};
	int r, code;

	hb_policy_init(&policy);
	r = prepare(cli, &policy, &plan, &d);
	if (r < 0) {
		code = fail_diag(&d);
		goto out;
	}
	if (cli->dry_run) {
		hb_plan_print(&plan, stdout);
		code = 0;
		goto out;
	}
	r = hb_supervise(&plan, &res);
	if (r < 0 && res.reason != HB_REASON_SETUP_ERROR)
		fprintf(stderr, "hivebox: cannot start the sandbox: %s\n",
			strerror(-r));
	code = report(cli, &res, &plan);
out:
	hb_plan_free(&plan);
	hb_policy_free(&policy);
	return code;
}

int main(int argc, char **argv)
{
	struct hb_cli cli;
	struct hb_diag d = {0};

	if (hb_cli_parse(&cli, argc, argv, &d) < 0)
		return fail_diag(&d);
	switch (cli.verb) {
	case HB_VERB_HELP:
		hb_cli_usage(stdout);
		return 0;
	case HB_VERB_VERSION:
		printf("hivebox %s\n", HB_VERSION);
		return 0;
	case HB_VERB_POLICY_SHOW:
		return policy_show(&cli);
	case HB_VERB_RUN:
		return run(&cli);
	}
	return EXIT_HIVEBOX;
}

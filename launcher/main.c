/* SPDX-License-Identifier: MIT */
/* hivebox: the run's table of contents.  Only this file prints errors and
 * turns them into exit codes. */
#include "audit_reader.h"
#include "audit_show.h"
#include "check.h"
#include "config.h"
#include "cli.h"
#include "doctor.h"
#include "forward.h"
#include "ids.h"
#include "migrate.h"
#include "learn.h"
#include "mounts.h"
#include "plan.h"
#include "policy.h"
#include "policy_explain.h"
#include "replay.h"
#include "audit_record.h"
#include "result.h"
#include "supervisor.h"
#include "terminal.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#ifndef HB_VERSION
#define HB_VERSION "0.1"
#endif

extern char **environ;

static int fail_diag(const struct hb_diag *d)
{
	hb_diag_print(d, stderr);
	return HB_EXIT_FAILED;
}

/* The directories a bare policy name is searched in (config.h). */
static int policy_dirs(const struct hb_cli *cli, struct hb_config *c,
		       struct hb_policy *p, struct hb_diag *d)
{
	return hb_config_policy_dirs(c, cli->config, &p->dirs, d);
}

static int policy_show(const struct hb_cli *cli)
{
	struct hb_config c = {0};
	struct hb_policy p;
	struct hb_diag d = {0};
	int r;

	hb_policy_init(&p);
	r = policy_dirs(cli, &c, &p, &d);
	if (r == 0)
		r = hb_policy_load(&p, cli->policy, &d);
	if (r == 0)
		hb_policy_show(&p, stdout);
	hb_policy_free(&p);
	hb_config_free(&c);
	return r < 0 ? fail_diag(&d) : 0;
}

/* policy explain: the exposure score and its weakenings. */
static int policy_explain(const struct hb_cli *cli)
{
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	struct hb_exposure *e = calloc(1, sizeof(*e));
	struct hb_config c = {0};
	struct hb_policy p;
	struct hb_diag d = {0};
	int r, code = 0;

	hb_policy_init(&p);
	r = e && cwd ? policy_dirs(cli, &c, &p, &d) : -ENOMEM;
	if (r == 0)
		r = hb_policy_load(&p, cli->policy, &d);
	if (r == 0)
		r = hb_policy_explain(&p, cwd, e);
	if (r < 0 && !d.msg[0])
		hb_diag_set(&d, cli->policy, 0, "cannot explain: %s",
			    strerror(-r));
	if (r < 0) {
		code = fail_diag(&d);
	} else if (cli->policy_json) {
		json_object *o = hb_exposure_json(&p, e);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		hb_exposure_print(&p, e, stdout);
	}
	free(e);
	hb_policy_free(&p);
	hb_config_free(&c);
	return code;
}

/* policy lint: warnings, not errors; exit 1 when there are some.  The
 * policy extended is loaded alone, to find what this one loosens. */
static int policy_lint(const struct hb_cli *cli)
{
	_cleanup_free_ char *cwd = getcwd(NULL, 0), *parent_path = NULL;
	struct hb_lint *l = calloc(1, sizeof(*l));
	struct hb_config c = {0};
	struct hb_policy p, parent;
	struct hb_diag d = {0};
	int r, code;

	hb_policy_init(&p);
	hb_policy_init(&parent);
	r = l && cwd ? policy_dirs(cli, &c, &p, &d) : -ENOMEM;
	if (r == 0)
		r = hb_policy_load(&p, cli->policy, &d);
	if (r == 0)
		r = hb_policy_parent_path(p.path, &p.dirs, &parent_path);
	/* What the parent extends is searched where p's own names were. */
	parent.dirs = p.dirs;
	if (r == 0 && parent_path)
		r = hb_policy_load(&parent, parent_path, &d);
	if (r == 0)
		r = hb_policy_lint(&p, parent_path ? &parent : NULL, cwd, l);
	if (r < 0 && !d.msg[0])
		hb_diag_set(&d, cli->policy, 0, "cannot lint: %s",
			    strerror(-r));
	if (r < 0) {
		code = fail_diag(&d);
	} else {
		hb_lint_print(&p, cli->policy, l, stdout);
		code = l->n ? 1 : 0;
	}
	free(l);
	hb_policy_free(&parent);
	hb_policy_free(&p);
	hb_config_free(&c);
	return code;
}

/* A setup failure is said after the result is written; even with
 * --quiet, as every line that says why a run failed. */
static void setup_notice(const struct hb_result *r, struct hb_notice *q)
{
	const struct hb_error *e = &r->setup;

	if (r->reason != HB_REASON_SETUP_ERROR)
		return;
	if (r->exec_failed)
		hb_notice_add(q, "hivebox: cannot execute %s: %s", e->what,
			      strerror(e->err));
	else
		hb_notice_add(
			q, "hivebox: sandbox setup failed at '%s'%s%s: %s",
			hb_stage_name((enum hb_stage)e->stage),
			e->what[0] ? " on " : "", e->what, strerror(e->err));
}

static int report(const struct hb_cli *cli, int result_file_fd,
		  const struct hb_result *res, const struct hb_plan *plan,
		  struct hb_notice *q)
{
	_cleanup_free_ char *text = NULL;
	int r = 0;

	if (cli->result_fd >= 0 || result_file_fd >= 0) {
		text = hb_result_json(res, plan);
		r = text ? 0 : -ENOMEM;
	}
	if (r == 0 && cli->result_fd >= 0)
		r = hb_result_write_fd(cli->result_fd, text);
	if (r == 0 && result_file_fd >= 0)
		r = hb_result_write_file(result_file_fd, text);
	if (r < 0)
		hb_notice_add(q, "hivebox: cannot write the result: %s",
			      strerror(-r));
	setup_notice(res, q);
	return res->hivebox_exit;
}

/* Everything one run holds, so that each stage below is one call. */
struct run {
	const struct hb_cli *cli;
	struct hb_forwarder forward; /* [audit] forward */
	struct hb_policy policy;
	struct hb_config config;
	struct hb_plan plan;
	struct hb_audit audit;
	bool have_audit, audit_tried, audit_required, start_record_failed;
	bool policy_read;	  /* hb_policy_load() succeeded */
	bool loosening;		  /* an option would have loosened the policy */
	int result_file_fd;	  /* --result FILE, opened before the run */
	int record_fd;		  /* shell --record FILE, until the run */
	bool result_path_refused; /* --result FILE itself was refused */
	bool result_exposed;	  /* ... as one the sandbox could replace */
	int uid_lock_fd;	  /* holds the host uid taken at start, or -1 */
	int *trees; /* started as root, the sources, until the run */
	struct hb_events events;
	struct hb_notice notice; /* stderr from the run on */
	struct hb_run_info info;
	struct hb_result res;
	struct hb_diag diag;
	/* [analysis] refused the script: its verdict, for the event. */
	json_object *analysis;
};

static int load_policy(struct run *run)
{
	const struct hb_cli *cli = run->cli;
	int r = policy_dirs(cli, &run->config, &run->policy, &run->diag);

	if (r == 0)
		r = hb_policy_load(&run->policy, cli->policy, &run->diag);
	run->policy_read = r == 0;
	if (r == 0 && cli->verb == HB_VERB_SHELL)
		r = hb_policy_shell_defaults(&run->policy, HB_SHELL_TIMEOUT_S);
	if (r == 0 && cli->result_fd >= 0 && fcntl(cli->result_fd, F_GETFD) < 0)
		r = hb_diag_set(&run->diag, NULL, 0,
				"--result-fd %d is not an open descriptor",
				cli->result_fd);
	return r;
}

/* The audit trail opens before anything runs.  Without it, a run that
 * requires it ([audit] required, the default for root) does not start.
 * Tried once: a refusal that follows does not try again. */
static int open_audit(struct run *run)
{
	const struct hb_policy *p = &run->policy;
	_cleanup_free_ char *dflt = NULL;
	const char *dir = run->cli->audit_dir ?: p->audit_dir;
	unsigned flags = HB_AUDIT_CREATE;
	int r;

	run->audit_tried = true;
	run->audit_required = p->audit_required == HB_TRI_AUTO
				      ? geteuid() == 0
				      : p->audit_required == HB_TRI_YES;
	if (!dir) {
		r = hb_audit_default_dir(&dflt);
		if (r < 0)
			return hb_diag_set(&run->diag, NULL, 0,
					   "no audit directory: %s",
					   strerror(-r));
		dir = dflt;
	}
	/* The key is the directory's: a policy that names one names the
	 * key the directory is bound to, or the run is refused. */
	flags |= HB_AUDIT_BOUND | HB_AUDIT_WRITER;
	if (p->audit_key_file)
		flags |= HB_AUDIT_KEY_REQUIRED;
	/* The append-only flag by default only on the system's trail: a
	 * directory of one's own (tests, a demo) stays removable. */
	if (p->audit_append_only == HB_TRI_YES ||
	    (p->audit_append_only == HB_TRI_AUTO && dflt))
		flags |= HB_AUDIT_APPEND_ONLY;
	r = hb_audit_open(&run->audit, dir, p->audit_key_file, flags,
			  &run->diag);
	run->have_audit = r == 0;
	if (r < 0) {
		hb_audit_close(&run->audit);
		return r;
	}
	hb_forward_open(&run->forward, p->audit_forward);
	run->audit.forward = &run->forward;
	return 0;
}

/* The events sink, from the plan's [monitoring] settings. */
static void init_events(struct run *run)
{
	const struct hb_monitoring *m = &run->plan.monitoring;
	struct hb_events *w = &run->events;
	long cpus;

	memset(w, 0, sizeof(*w));
	w->audit = run->have_audit ? &run->audit : NULL;
	memcpy(w->exec_id, run->info.exec_id, sizeof(w->exec_id));
	w->quiet = run->cli->quiet;
	w->notice = &run->notice;
	w->cpu_alert_pct = m->cpu_alert_pct;
	w->memory_alert_pct = m->memory_alert_pct;
	w->alert_command = m->alert_command;
	w->alert_timeout_s = m->alert_timeout_s;
	w->sample_ms = m->sample_ms;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		cpus = 1;
	w->burst_kb_per_ms =
		HB_BURST_KB_PER_MS_PER_CPU *
		(unsigned long long)(cpus < HB_BURST_CPUS ? cpus
							  : HB_BURST_CPUS);
}

/* An attempt to loosen the policy from the command line is refused, and
 * recorded as every refusal is. */
static int tighten(struct run *run)
{
	const struct hb_cli *cli = run->cli;
	int r = 0;

	for (size_t i = 0; r == 0 && i < cli->n_tighten; i++)
		r = hb_policy_tighten(&run->policy, cli->tighten[i].key,
				      cli->tighten[i].option,
				      cli->tighten[i].value, &run->diag);
	run->loosening = r == -EPERM;
	return r;
}

static int build_plan(struct run *run)
{
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	const struct hb_cli *cli = run->cli;
	struct hb_invocation inv = {
		.script = cli->script,
		.have_script_fd = cli->have_script_fd,
		.script_fd = cli->script_fd,
		.shell = cli->verb == HB_VERB_SHELL,
		.args = cli->args,
		.n_args = cli->n_args,
		.cwd = cwd,
		.workdir = cli->workdir,
		.uid = getuid(),
		.euid = geteuid(),
		.gid = getgid(),
		.environ = environ,
	};

	if (!cwd)
		return hb_diag_set(&run->diag, NULL, 0,
				   "cannot tell the current directory: %s",
				   strerror(errno));
	/* The machine's settings (the address pool, the uid lock), read
	 * before the policy, matter to a root run only: unprivileged, a
	 * filtered network is refused and the caller's own ids are the
	 * sandbox's. */
	if (inv.euid == 0)
		inv.config = &run->config;
	return hb_plan_build(&run->plan, &run->policy, &inv, &run->diag);
}

/* What the start record says, hashed and stored; the record itself is
 * written by write_start(). */
static int prepare_start(struct run *run)
{
	int r = hb_uuid(run->info.exec_id);

	if (r == 0)
		r = hb_audit_record_prepare(
			&run->info, run->have_audit ? &run->audit : NULL,
			&run->plan);
	if (r < 0)
		hb_diag_set(&run->diag, run->have_audit ? run->audit.dir : NULL,
			    0, "cannot write the start record: %s",
			    strerror(-r));
	return r;
}

/* Root writing to a trail that no key was bound to: said on every run
 * that writes to it, since anyone who can write the directory can
 * rewrite such a trail whole.  `audit init --unsigned` says it is meant
 * to be so. */
#define UNSIGNED_WARNING                                                       \
	"hivebox: warning: the audit trail in %s is not signed; 'hivebox "     \
	"audit init --dir %s' binds a key to it"

/* A start record that could not be written: where the trail is required
 * the script does not run (-EIO, the reason in run->diag); where not, the
 * run goes on without it and says so once. */
static int start_failed(struct run *run, bool notice)
{
	char msg[HB_DIAG_TEXT_MAX];

	if (run->audit_required) {
		size_t n = strlen(run->diag.msg);
		snprintf(run->diag.msg + n, sizeof(run->diag.msg) - n,
			 "; the audit trail is required ([audit] required), "
			 "so the script was not run");
		return -EIO;
	}
	if (notice) {
		hb_diag_text(&run->diag, msg, sizeof(msg));
		hb_notice_add(&run->notice, "hivebox: %s", msg);
	} else
		hb_diag_print(&run->diag, stderr);
	memset(&run->diag, 0, sizeof(run->diag));
	run->start_record_failed = true;
	return 0;
}

/* The start record, appended and made durable while the sandbox init
 * builds the sandbox, which starts the script only after this returns
 * (hb_start_hook): its three fsyncs overlap the mounts. */
static int write_start(void *arg)
{
	struct run *run = arg;
	int r;

	if (!run->have_audit || run->start_record_failed)
		return 0;
	r = hb_audit_append(&run->audit, HB_LOG_EXEC,
			    hb_audit_record_start(&run->info, &run->plan),
			    NULL);
	if (r == 0 && run->audit.warn_unsigned && !run->cli->quiet)
		hb_notice_add(&run->notice, UNSIGNED_WARNING, run->audit.dir,
			      run->audit.dir);
	if (r == 0)
		return 0;
	hb_diag_set(&run->diag, run->audit.dir, 0,
		    "cannot write the start record: %s", strerror(-r));
	return start_failed(run, true);
}

/* What ran, for the lines that say how it ended. */
static const char *subject(const struct hb_plan *plan)
{
	return plan->script ?: "the shell session";
}

/* "SIGTERM", or "signal 40" for one without a name. */
static const char *signal_text(int sig, char buf[32])
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, 32, "SIG%s", abbrev);
	else
		snprintf(buf, 32, "signal %d", sig);
	return buf;
}

/* Why the script was killed by a signal, after "S was killed by ". */
static void signal_line(const struct run *run, char *msg, size_t n)
{
	const struct hb_result *res = &run->res;
	char sig[32], fwd[32];

	signal_text(res->signal, sig);
	if (res->forwarded_signal == res->signal)
		snprintf(msg, n,
			 "%s was killed by %s, which hivebox got and passed "
			 "on",
			 subject(&run->plan), sig);
	else if (res->forwarded_signal)
		snprintf(msg, n,
			 "%s was killed by %s after hivebox passed on %s",
			 subject(&run->plan), sig,
			 signal_text(res->forwarded_signal, fwd));
	else if (res->signal == SIGSYS)
		snprintf(msg, n,
			 "%s was killed by SIGSYS, which on_violation = kill "
			 "sends for a denied system call (the security log "
			 "names it)",
			 subject(&run->plan));
	else
		snprintf(msg, n, "%s was killed by %s", subject(&run->plan),
			 sig);
}

/* Which of the two quotas it passed, and by how much. */
static void quota_line(const struct run *run, char *msg, size_t n)
{
	const struct hb_result *res = &run->res;
	const struct hb_plan *plan = &run->plan;

	if (plan->quota_files && res->quota_files > plan->quota_files)
		snprintf(msg, n,
			 "%s was killed when it had created %llu files in its "
			 "read_write paths, past %s",
			 subject(plan), res->quota_files,
			 hb_plan_limit_text(plan, HB_K_WRITE_QUOTA_FILES));
	else
		snprintf(msg, n,
			 "%s was killed when its read_write paths had grown "
			 "by %llu KiB, past %s",
			 subject(plan), res->quota_bytes >> 10,
			 hb_plan_limit_text(plan, HB_K_WRITE_QUOTA_MB));
}

/* The one line that says why the run did not end on its own: a limit,
 * named with where it was set, or a signal.  Printed even with --quiet:
 * cron mails what a job prints, and nothing else would say that the run
 * failed.  A limit is also a violation event, which this line says
 * instead of the event's own notice. */
static void record_end_reason(struct run *run)
{
	const struct hb_result *res = &run->res;
	const struct hb_plan *plan = &run->plan;
	const struct hb_limits *l = &plan->limits;
	const char *kind = hb_reason_name(res->reason);
	bool violation = true;
	char msg[HB_NOTICE_LINE];

	if (res->reason == HB_REASON_TIMEOUT)
		snprintf(msg, sizeof(msg), "%s was stopped after %llu s: %s",
			 subject(plan), l->timeout_seconds,
			 hb_plan_limit_text(plan, HB_K_TIMEOUT));
	else if (res->reason == HB_REASON_CPU_LIMIT)
		snprintf(msg, sizeof(msg),
			 "%s was killed after %llu s of CPU time: %s",
			 subject(plan), l->cpu_seconds,
			 hb_plan_limit_text(plan, HB_K_CPU));
	else if (res->reason == HB_REASON_MEMORY_LIMIT &&
		 run->events.backstop_asked)
		snprintf(msg, sizeof(msg),
			 "%s was killed asking for %llu MiB of address space "
			 "with %llu MiB mapped, past the backstop of %llu MiB: "
			 "%s",
			 subject(plan), run->events.backstop_asked >> 20,
			 run->events.backstop_mapped >> 20,
			 hb_plan_backstop_bytes(l->memory_mb) >> 20,
			 hb_plan_limit_text(plan, HB_K_MEMORY));
	else if (res->reason == HB_REASON_MEMORY_LIMIT)
		snprintf(msg, sizeof(msg),
			 "%s was killed when the sandbox's memory passed "
			 "%llu MiB: %s",
			 subject(plan), l->memory_mb,
			 hb_plan_limit_text(plan, HB_K_MEMORY));
	else if (res->reason == HB_REASON_WRITE_QUOTA)
		quota_line(run, msg, sizeof(msg));
	else if (res->reason == HB_REASON_FILE_SIZE_LIMIT)
		snprintf(msg, sizeof(msg),
			 "%s was killed writing past %llu MiB: %s",
			 subject(plan), l->file_size_mb,
			 hb_plan_limit_text(plan, HB_K_FILE_SIZE));
	else if (res->reason == HB_REASON_SIGNAL && res->signal == SIGSYS &&
		 !plan->filter.kill && !res->forwarded_signal) {
		/* The filter kills without a notification for a call of
		 * another ABI (x32, int 0x80); the supervisor sees only the
		 * SIGSYS. */
		kind = "syscall_killed";
		snprintf(msg, sizeof(msg),
			 "%s was killed by SIGSYS, which the system-call "
			 "filter sends for a call of another ABI (x32, int "
			 "0x80); a process may also have sent it itself",
			 subject(plan));
	} else if (res->reason == HB_REASON_SIGNAL) {
		violation = false;
		signal_line(run, msg, sizeof(msg));
	} else
		return;
	if (violation)
		hb_events_record(&run->events, kind, HB_EV_VIOLATION,
				 HB_SHOW_NEVER, msg, NULL);
	hb_notice_add(&run->notice, "hivebox: %s: %s", kind, msg);
}

/* For the result: what [audit] forward sent and dropped, the end record
 * included. */
static void forward_counts(struct run *run)
{
	struct hb_result *res = &run->res;

	if (run->forward.to != HB_FORWARD_SYSLOG &&
	    run->forward.to != HB_FORWARD_JOURNAL)
		return;
	res->forward_to = hb_forward_to_to_string(run->forward.to);
	res->forward_sent = run->forward.sent;
	res->forward_dropped = run->forward.dropped;
}

static void record_end(struct run *run)
{
	struct hb_result *res = &run->res;
	char hash[HB_SHA256_HEX];
	int r;

	hb_result_add_events(res, &run->events);
	if (!run->have_audit)
		return;
	res->audit_dir = run->audit.dir;
	res->audit_hmac = run->audit.have_key;
	/* Counted before the end record, which carries them; its own
	 * failure can only reach the result. */
	res->audit_errors = run->events.audit_errors + run->start_record_failed;
	r = hb_audit_append(&run->audit, HB_LOG_EXEC,
			    hb_audit_record_end(&run->info, &run->plan, res),
			    hash);
	if (r < 0) {
		run->events.audit_errors++;
		res->audit_errors++;
		hb_notice_add(&run->notice,
			      "hivebox: cannot write the end record: %s",
			      strerror(-r));
	} else {
		/* An anchor outside the log: a cut tail shows against it. */
		syslog(LOG_INFO, "exec %s ended; %s head %s", run->info.exec_id,
		       HB_AUDIT_EXEC_LOG, hash);
	}
	forward_counts(run);
}

/* From the first record on, the forwarded signals wait (blocked) until
 * the supervisor passes them on or hivebox has written what it must: no
 * signal leaves a start record without its end, or a refusal recorded by
 * half.  While the plan is built they still end hivebox at once (a name
 * may take long to resolve), before anything is recorded. */
static void hold_signals(sigset_t *ret)
{
	hb_signals_forwarded(ret);
	sigprocmask(SIG_BLOCK, ret, NULL);
}

/* Open the trail and write the start record.  Where the trail is
 * required, a failure refuses the run; where not, it is said once and the
 * run goes on without it. */
static int start_audit(struct run *run)
{
	sigset_t forwarded;
	int r;

	hold_signals(&forwarded);
	r = open_audit(run);

	if (r == 0)
		r = prepare_start(run);
	if (r == 0)
		return 0;
	r = start_failed(run, false);
	if (r == 0 && !run->have_audit)
		return prepare_start(run) < 0 ? -EIO : 0;
	return r;
}

/* The run itself, then its records.  The forwarded signals stay blocked
 * (since the start record) until hivebox exits: during the run the
 * supervisor takes them from its signalfd and passes them on; after it,
 * none ends hivebox before its records and result are written, and one
 * that arrives while hivebox waits for alert commands ends that wait (the
 * commands are killed, and hivebox exits as the run said).  From here on, stderr is written
 * through the notice queue only, and the caller's terminal settings are
 * put back however the run ended. */
static int run_sandbox(struct run *run)
{
	const struct hb_start_hook hook = {.fn = write_start, .arg = run};
	struct hb_terminal term;
	sigset_t forwarded;
	int r;

	hold_signals(&forwarded);
	hb_notice_open(&run->notice, STDERR_FILENO);
	hb_terminal_save(&term);
	/* A shell's keys go to its pty as they are typed: Ctrl-C is a byte
	 * there, which the pty's line discipline makes a SIGINT. */
	if (run->plan.shell)
		(void)hb_terminal_raw(STDIN_FILENO);
	init_events(run);
	r = hb_supervise(&run->plan, TAKE_PTR(run->trees), &run->events, &hook,
			 TAKE_FD(run->record_fd), &run->res);
	(void)hb_terminal_restore(&term);
	/* The required trail did not take the start record: nothing ran,
	 * and the run is refused as if before the sandbox was made. */
	if (r == -ECANCELED) {
		hb_notice_flush(&run->notice);
		hb_notice_close(&run->notice);
		json_object_put(run->res.denied_counts);
		json_object_put(run->res.network);
		memset(&run->res, 0, sizeof(run->res));
		return -EIO;
	}
	if (r < 0 && run->res.reason != HB_REASON_SETUP_ERROR)
		hb_notice_add(&run->notice,
			      "hivebox: cannot start the sandbox: %s",
			      strerror(-r));
	record_end_reason(run);
	/* What stderr has not taken by now is given up, and counted in the
	 * end record. */
	hb_notice_drain(&run->notice, HB_NOTICE_DRAIN_MS);
	record_end(run);
	hb_events_wait(&run->events, &forwarded);
	return 0;
}

/* The last notices, with a bounded wait; the number stderr did not take
 * is said once, in syslog too: the terminal may be the reason. */
static void end_notices(struct run *run)
{
	unsigned long long n =
		hb_notice_drain(&run->notice, HB_NOTICE_DRAIN_MS);

	if (n) {
		syslog(LOG_WARNING,
		       "exec %s: %llu notices not written to stderr",
		       run->info.exec_id, n);
		hb_notice_add(
			&run->notice,
			"hivebox: %llu notice%s not shown: stderr did not "
			"take them; the security log has every event",
			n, n == 1 ? " was" : "s were");
		hb_notice_flush(&run->notice);
	}
	hb_notice_close(&run->notice);
}

/* host_uid = auto: a uid of the range that no other live run holds,
 * taken now, after the plan and before the start record that names it,
 * and held until hivebox exits (ids.h). */
static int take_host_uid(struct run *run)
{
	struct hb_plan *plan = &run->plan;
	unsigned index = 0;
	int fd;

	if (!plan->host_uid_at_start)
		return 0;
	fd = hb_ids_acquire(run->config.uid_lock, HB_UID_RANGE,
			    (unsigned)getpid() % HB_UID_RANGE, &index);
	if (fd < 0)
		return hb_diag_set(&run->diag, run->config.uid_lock, 0,
				   "cannot take a host uid for the sandbox: %s",
				   fd == -EUSERS ? "every uid of the range is "
						   "held by a running sandbox"
						 : strerror(-fd));
	run->uid_lock_fd = fd;
	plan->host_uid = HB_UID_BASE + index;
	plan->host_gid = (gid_t)plan->host_uid;
	return 0;
}

/* Started as root, the sources are cloned and idmapped to their owners
 * before the start record: a path that cannot be idmapped refuses the
 * run before anything is recorded as started. */
static int prepare_sources(struct run *run)
{
	if (!run->plan.privileged)
		return 0;
	return hb_mounts_prepare(&run->plan, &run->trees, &run->diag);
}

/* The mount through which the sandbox could write path, an output of
 * hivebox's (what it holds: "the result"), or NULL in *ret_m. */
static int output_exposed(struct run *run, const char *path, const char *what,
			  const struct hb_mount **ret_m)
{
	_cleanup_free_ char *cwd = getcwd(NULL, 0), *abs = NULL;
	int r = cwd ? hb_path_absolute(cwd, path, &abs) : -errno;

	if (r == 0)
		r = hb_result_exposed(&run->plan, abs, ret_m);
	if (r < 0)
		return hb_diag_set(&run->diag, path, 0,
				   "cannot tell where %s goes: %s", what,
				   strerror(-r));
	return 0;
}

/* --result FILE opens before the start record: a path that cannot take
 * the result, or that the sandbox could replace, refuses the run before
 * the trail holds a start without an end. */
static int open_result_file(struct run *run)
{
	const char *path = run->cli->result_file;
	const struct hb_mount *m;
	int fd, r;

	if (!path)
		return 0;
	run->result_path_refused = true;
	r = output_exposed(run, path, "the result", &m);
	if (r < 0)
		return r;
	run->result_exposed = m != NULL;
	if (m)
		return hb_diag_set(&run->diag, path, 0,
				   "the sandbox can write %s (%s), where the "
				   "script could replace the result; write it "
				   "elsewhere",
				   m->source, m->why);
	fd = hb_result_open_file(path);
	if (fd < 0)
		return hb_diag_set(&run->diag, path, 0,
				   "cannot write the result there: %s",
				   fd == -EINVAL ? "not a regular file"
						 : strerror(-fd));
	run->result_path_refused = false;
	run->result_file_fd = fd;
	return 0;
}

/* shell --record FILE opens before the start record, as --result FILE,
 * and for the same reason is refused where the sandbox could write it. */
static int open_record_file(struct run *run)
{
	const char *path = run->cli->record_file;
	const struct hb_mount *m;
	int r;

	if (!path)
		return 0;
	r = output_exposed(run, path, "the transcript", &m);
	if (r < 0)
		return r;
	if (m)
		return hb_diag_set(&run->diag, path, 0,
				   "the sandbox can write %s (%s), where the "
				   "session could replace its transcript; "
				   "record it elsewhere",
				   m->source, m->why);
	run->record_fd = open(path,
			      O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
				      O_CLOEXEC | O_NOCTTY,
			      0600);
	if (run->record_fd < 0)
		return hb_diag_set(&run->diag, path, 0,
				   "cannot write the transcript there: %s",
				   strerror(errno));
	return 0;
}

/* The refused run's names where the plan got no further: the script and
 * the policy as the command line gave them. */
static int refusal_names(struct run *run)
{
	struct hb_plan *plan = &run->plan;

	if (run->policy_read && hb_plan_settings(plan, &run->policy) < 0)
		return -ENOMEM;
	if (!plan->policy_path) {
		plan->policy_path = strdup(run->cli->policy);
		if (!plan->policy_path)
			return -ENOMEM;
	}
	if (!plan->cwd) {
		plan->cwd = getcwd(NULL, 0);
		if (!plan->cwd)
			return -errno;
	}
	if (plan->script || !run->cli->script)
		return 0;
	return hb_path_absolute(plan->cwd, run->cli->script, &plan->script);
}

/* --result FILE for a refusal: the one opened for the run, or opened
 * now.  Not where the refusal is about that path: it cannot take a
 * result, or the sandbox could have put a file of its own there (a hard
 * link, say) for root to write through.  There a stale result of an
 * earlier run is removed (a name goes, nothing is written through it),
 * so that no monitor reads it as today's.  Returns the descriptor or
 * -errno. */
static int refusal_result_file(struct run *run)
{
	const char *path = run->cli->result_file;
	struct stat st;

	if (!path)
		return -ENOENT;
	if (run->result_file_fd >= 0)
		return run->result_file_fd;
	if (run->result_exposed && lstat(path, &st) == 0 && S_ISREG(st.st_mode))
		(void)unlink(path);
	if (run->result_path_refused)
		return -EPERM;
	run->result_file_fd = hb_result_open_file(path);
	return run->result_file_fd;
}

/* The trail for a refusal: the one the run opened or would have.  A
 * policy that was not read names no [audit] dir or key: --audit-dir, or
 * the caller's default directory, and its default key. */
static void refusal_audit(struct run *run)
{
	if (run->audit_tried)
		return;
	if (!run->policy_read) {
		hb_policy_free(&run->policy);
		hb_policy_init(&run->policy);
	}
	(void)open_audit(run);
}

/* What an analysis_refused event adds: the risk, the gate and the
 * findings as hivebox check gave them. */
static void analysis_details(struct run *run, json_object *d)
{
	json_object *v = NULL;

	if (json_object_object_get_ex(run->analysis, "risk", &v))
		json_object_object_add(d, "risk", json_object_get(v));
	json_object_object_add(d, "refuse_at",
			       json_object_new_string(hb_risk_to_string(
				       run->policy.refuse_at)));
	if (json_object_object_get_ex(run->analysis, "findings", &v))
		json_object_object_add(d, "findings", json_object_get(v));
}

/* The refusal event and the end record, then the result, written as a
 * run writes them.  Failures reach syslog and the result's audit
 * write_errors: the one line on stderr stays the refusal's. */
static void record_refusal(struct run *run, const char *msg, int result_fd)
{
	struct hb_result *res = &run->res;
	json_object *d = json_object_new_object();
	int r;

	json_object_object_add(d, "policy",
			       json_object_new_string(run->plan.policy_path));
	/* A shell has none. */
	json_object_object_add(
		d, "script",
		run->plan.script ? json_object_new_string(run->plan.script)
				 : NULL);
	json_object_object_add(d, "loosening",
			       json_object_new_boolean(run->loosening));
	json_object_object_add(d, "result_written",
			       json_object_new_boolean(result_fd >= 0));
	if (run->analysis)
		analysis_details(run, d);
	hb_events_record(&run->events,
			 run->analysis ? "analysis_refused" : "refusal",
			 HB_EV_VIOLATION, HB_SHOW_NEVER, msg, d);
	hb_result_add_events(res, &run->events);
	res->audit_errors = run->events.audit_errors + !run->have_audit;
	if (!run->have_audit)
		return;
	res->audit_dir = run->audit.dir;
	res->audit_hmac = run->audit.have_key;
	hb_audit_now_iso(run->info.start_time);
	r = hb_audit_append(
		&run->audit, HB_LOG_EXEC,
		hb_audit_record_refused(&run->info, &run->plan, res), NULL);
	if (r < 0) {
		res->audit_errors++;
		syslog(LOG_WARNING, "exec %s: cannot write the end record: %s",
		       run->info.exec_id, strerror(-r));
	}
	forward_counts(run);
}

/* The refusal's result, to --result FILE (fd) and --result-fd. */
static int write_refusal_result(struct run *run, int fd)
{
	_cleanup_free_ char *text = hb_result_json(&run->res, &run->plan);
	int result_fd = run->cli->result_fd, r = text ? 0 : -ENOMEM;

	if (r == 0 && fd >= 0)
		r = hb_result_write_file(fd, text);
	if (r == 0 && result_fd >= 0 && fcntl(result_fd, F_GETFD) >= 0)
		r = hb_result_write_fd(result_fd, text);
	return r;
}

/* A run refused after its arguments were parsed: nothing ran.  It
 * leaves the traces of a run all the same, so that a monitor never reads
 * yesterday's result and the trail shows every attempt: --result says
 * "refused" and why, the audit trail holds a "refusal" event and an end
 * record without a start, and stderr the one line.  The forwarded
 * signals wait until the records are whole.  A --dry-run leaves only the
 * line: it is a check by hand. */
static int refuse(struct run *run, int r)
{
	const struct hb_cli *cli = run->cli;
	char msg[HB_DIAG_TEXT_MAX], why[PATH_MAX + 128] = "";
	sigset_t forwarded;
	int fd;

	if (!run->diag.msg[0])
		hb_diag_set(&run->diag, NULL, 0, "cannot prepare the run: %s",
			    strerror(-r));
	hb_diag_text(&run->diag, msg, sizeof(msg));
	if (cli->dry_run || refusal_names(run) < 0) {
		fprintf(stderr, "hivebox: %s\n", msg);
		return HB_EXIT_FAILED;
	}
	hold_signals(&forwarded);
	refusal_audit(run);
	if (!run->info.exec_id[0])
		hb_uuid(run->info.exec_id);
	init_events(run);
	run->events.notice = NULL; /* the line below says it */
	hb_result_refused(&run->res, msg, run->policy_read);
	if (run->analysis)
		run->res.hivebox_exit = HB_EXIT_REFUSED;
	fd = refusal_result_file(run);
	record_refusal(run, msg, fd);
	r = write_refusal_result(run, fd);
	/* Said in the same line: a monitor reads what the result file
	 * holds, and it does not hold this refusal. */
	if (r < 0 || (fd < 0 && cli->result_file && !run->result_path_refused))
		snprintf(why, sizeof(why),
			 "; the result was not written to %s: %s",
			 cli->result_file, strerror(r < 0 ? -r : -fd));
	fprintf(stderr, "hivebox: %s%s\n", msg, why);
	hb_events_wait(&run->events, &forwarded);
	return run->res.hivebox_exit;
}

/* The BPF as the kernel gets it, for reading with a disassembler or
 * loading elsewhere (scripts/bench gives it to bwrap). */
static int export_filter(struct run *run)
{
	const struct hb_filter *f = &run->plan.filter;
	FILE *out = fopen(run->cli->export_filter, "we");
	size_t len = f->len * sizeof(*f->prog);
	bool ok = out && fwrite(f->prog, 1, len, out) == len;

	if (out && fclose(out) != 0)
		ok = false;
	if (!ok) {
		fprintf(stderr, "hivebox: %s: cannot write the filter: %s\n",
			run->cli->export_filter, strerror(errno));
		return HB_EXIT_FAILED;
	}
	return 0;
}

/* The command line of hivebox running the analyzer for req, its policy
 * in a memfd that the hivebox executed inherits.  Returns the memfd or
 * -errno. */
static int analyzer_argv(const struct hb_check_req *req, const char *audit_dir,
			 const char *cwd, struct hb_strv *argv)
{
	_cleanup_free_ char *text = NULL;
	char policy_path[64];
	int fd, r = hb_check_policy_text(req, cwd, &text);

	fd = r < 0 ? r : hb_check_policy_memfd(text, policy_path);
	if (fd < 0)
		return fd;
	r = hb_check_exec_argv(req, audit_dir, policy_path, argv);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* The findings that refused a script, in the refusal's one line: the
 * first few of those at or above the gate (all of them, where only their
 * combination reached it), by line. */
static void findings_text(json_object *findings, enum hb_risk gate, char *buf,
			  size_t n)
{
	size_t len = 0, shown = 0, count = json_object_array_length(findings);
	int floor = gate > HB_RISK_HIGH ? HB_RISK_HIGH : (int)gate;

	buf[0] = '\0';
	for (size_t i = 0; i < count && len < n; i++) {
		json_object *f = json_object_array_get_idx(findings, i), *v;
		const char *rule = "?";
		int line = 0;
		if (json_object_object_get_ex(f, "severity", &v) &&
		    hb_risk_from_string(json_object_get_string(v)) < floor)
			continue;
		if (json_object_object_get_ex(f, "rule", &v))
			rule = json_object_get_string(v);
		if (json_object_object_get_ex(f, "line", &v))
			line = json_object_get_int(v);
		if (shown++ == 3) {
			snprintf(buf + len, n - len, " and more");
			break;
		}
		len += (size_t)snprintf(buf + len, n - len, "%s%s at line %d",
					shown > 1 ? ", " : "", rule, line);
	}
}

/* The analyzer read the script by its name; the run will use the plan's
 * descriptor.  The two must be the same bytes. */
static bool same_script(struct run *run, json_object *verdict)
{
	char sha[HB_SHA256_HEX];
	json_object *v;

	if (!json_object_object_get_ex(verdict, "sha256", &v))
		return false;
	if (hb_sha256_fd(run->plan.script_fd, HB_SCRIPT_MAX_BYTES, sha) < 0)
		return false;
	return strcmp(sha, json_object_get_string(v)) == 0;
}

/* hivebox check's verdict on the script: below the gate, the run goes
 * on; at it, the run is refused with the findings kept for the event. */
static int analysis_verdict(struct run *run, const char *out)
{
	json_object *obj = json_tokener_parse(out), *risk = NULL, *f = NULL;
	char where[HB_ORIGIN_TEXT_MAX], what[256];
	int level = -EINVAL;

	if (obj && json_object_object_get_ex(obj, "risk", &risk))
		level = hb_risk_from_string(json_object_get_string(risk));
	if (level >= 0 && !same_script(run, obj)) {
		json_object_put(obj);
		return hb_diag_set(&run->diag, NULL, 0,
				   "%s changed while it was analysed: the gate "
				   "refuses what it did not judge",
				   run->plan.script);
	}
	if (level < 0 || !json_object_object_get_ex(obj, "findings", &f)) {
		json_object_put(obj);
		return hb_diag_set(&run->diag, NULL, 0,
				   "cannot read the analysis of %s: the gate "
				   "refuses what it cannot judge",
				   run->plan.script);
	}
	if (level < (int)run->policy.refuse_at) {
		json_object_put(obj);
		return 0;
	}
	run->analysis = obj;
	findings_text(f, run->policy.refuse_at, what, sizeof(what));
	hb_policy_origin_text(&run->policy, HB_K_ANALYSIS_REFUSE_AT, where,
			      sizeof(where));
	return hb_diag_set(&run->diag, NULL, 0,
			   "%s: refused by analysis: risk %s reaches "
			   "refuse_at = %s (%s): %s",
			   run->plan.script, json_object_get_string(risk),
			   hb_risk_to_string(run->policy.refuse_at), where,
			   what);
}

/* [analysis] refuse_at: before anything of the run is made, hivebox
 * check judges the script against the run's policy, in a sandbox of its
 * own.  An analysis that does not finish refuses the run too: the gate
 * fails closed. */
static int analysis_gate(struct run *run)
{
	const struct hb_policy *p = &run->policy;
	char *files[] = {run->plan.script};
	struct hb_check_req req = {.context = p,
				   .json = true,
				   .sha256 = true,
				   .fail_at = HB_RISK_NONE,
				   .files = files,
				   .n_files = 1};
	_cleanup_free_ char *out = NULL;
	struct hb_strv argv = {0};
	char analyzer[PATH_MAX];
	int fd, status = 0, r;

	/* A shell has no script to judge: what is typed is the admin's. */
	if (p->refuse_at == HB_RISK_NONE || run->plan.shell)
		return 0;
	if (hb_check_find_analyzer(analyzer) < 0)
		return hb_diag_set(&run->diag, NULL, 0,
				   "[analysis] refuse_at needs the analyzer, "
				   "and there is none at %s",
				   analyzer);
	req.analyzer = analyzer;
	fd = analyzer_argv(&req, run->cli->audit_dir ?: p->audit_dir,
			   run->plan.cwd, &argv);
	r = fd < 0 ? fd
		   : hb_check_capture(argv.v, HB_CHECK_OUTPUT_MAX, &out,
				      &status);
	if (fd >= 0)
		close(fd);
	hb_strv_clear(&argv);
	if (r < 0)
		return hb_diag_set(&run->diag, NULL, 0, "cannot analyse %s: %s",
				   run->plan.script, strerror(-r));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return hb_diag_set(&run->diag, NULL, 0,
				   "the analysis of %s did not finish (status "
				   "%d): the gate refuses what it cannot judge",
				   run->plan.script,
				   WIFEXITED(status) ? WEXITSTATUS(status)
						     : 128 + WTERMSIG(status));
	return analysis_verdict(run, out);
}

static int run_script(const struct hb_cli *cli, int argc, char **argv)
{
	struct run *run = calloc(1, sizeof(*run));
	int r, code = HB_EXIT_FAILED;

	if (!run)
		return HB_EXIT_FAILED;
	run->cli = cli;
	run->result_file_fd = -1;
	run->record_fd = -1;
	run->plan.script_fd = -1;
	run->uid_lock_fd = -1;
	run->forward.fd = -1;
	run->info.argc = argc;
	run->info.argv = argv;
	run->info.replay_of = cli->replay_of;
	hb_policy_init(&run->policy);
	openlog("hivebox", LOG_PID, LOG_AUTHPRIV);
	r = load_policy(run);
	if (r == 0)
		r = tighten(run);
	if (r == 0)
		r = build_plan(run);
	if (r == 0 && cli->dry_run) {
		hb_plan_print(&run->plan, stdout);
		code = cli->export_filter ? export_filter(run) : 0;
		goto out;
	}
	if (r == 0)
		r = analysis_gate(run);
	if (r == 0)
		r = open_result_file(run);
	if (r == 0)
		r = open_record_file(run);
	if (r == 0)
		r = take_host_uid(run);
	if (r == 0)
		r = prepare_sources(run);
	if (r == 0)
		r = start_audit(run);
	if (r < 0) {
		code = refuse(run, r);
		goto out;
	}
	if (run_sandbox(run) < 0) {
		code = refuse(run, -EIO);
		goto out;
	}
	code = report(cli, run->result_file_fd, &run->res, &run->plan,
		      &run->notice);
	end_notices(run);
out:
	hb_closep(&run->result_file_fd);
	hb_closep(&run->record_fd);
	hb_mounts_close_sources(&run->plan, run->trees);
	hb_closep(&run->uid_lock_fd);
	json_object_put(run->res.denied_counts);
	json_object_put(run->res.network);
	json_object_put(run->analysis);
	hb_config_free(&run->config);
	if (run->have_audit)
		hb_audit_close(&run->audit);
	hb_forward_close(&run->forward);
	hb_plan_free(&run->plan);
	hb_policy_free(&run->policy);
	free(run);
	closelog();
	return code;
}

/* Is dir the directory that holds file (by device and inode, so that
 * "." and an absolute path to the same place agree)? */
static bool same_dir(const char *dir, const char *file_dir)
{
	struct stat a, b;

	return stat(dir, &a) == 0 && stat(file_dir, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* verify FILE: which of the two logs FILE is, and its directory.  A bare
 * name is looked for in --dir, not in the current directory: checking a
 * file of the same name elsewhere would report on something else.  A
 * path and a --dir that name two places are refused. */
static int log_of_file(const char *file, const char *opt_dir,
		       char dir[PATH_MAX], const char **ret_log)
{
	const char *slash = strrchr(file, '/');
	const char *name = slash ? slash + 1 : file;

	if (strcmp(name, HB_AUDIT_EXEC_LOG) == 0)
		*ret_log = HB_AUDIT_EXEC_LOG;
	else if (strcmp(name, HB_AUDIT_SECURITY_LOG) == 0)
		*ret_log = HB_AUDIT_SECURITY_LOG;
	else {
		fprintf(stderr,
			"hivebox: %s: not an audit log (expected %s or %s)\n",
			file, HB_AUDIT_EXEC_LOG, HB_AUDIT_SECURITY_LOG);
		return HB_EXIT_FAILED;
	}
	snprintf(dir, PATH_MAX, "%.*s", slash ? (int)(slash - file) : 1,
		 slash ? file : ".");
	if (!dir[0])
		strcpy(dir, "/");
	if (opt_dir && !slash)
		snprintf(dir, PATH_MAX, "%s", opt_dir);
	else if (opt_dir && !same_dir(opt_dir, dir)) {
		fprintf(stderr,
			"hivebox: %s is not in --dir %s; name the log by its "
			"path or by --dir and its name, not both\n",
			file, opt_dir);
		return HB_EXIT_FAILED;
	}
	return 0;
}

static int open_audit_dir(const struct hb_audit_cli *ac, struct hb_audit *a,
			  const char **ret_log)
{
	_cleanup_free_ char *dflt = NULL;
	char dir[PATH_MAX] = "";
	struct hb_diag d = {0};
	bool init = strcmp(ac->sub, "init") == 0;
	/* init binds the key itself; the others find it from the
	 * directory, and rotate writes. */
	unsigned flags = init ? 0 : HB_AUDIT_BOUND;
	int r;

	*ret_log = NULL;
	if (ac->file && log_of_file(ac->file, ac->dir, dir, ret_log))
		return HB_EXIT_FAILED;
	if (!ac->file && !ac->dir && hb_audit_default_dir(&dflt) < 0) {
		fprintf(stderr, "hivebox: no audit directory; use --dir\n");
		return HB_EXIT_FAILED;
	}
	/* Only init and rotate may create the directory; reading a
	 * mistyped one must not. */
	if (init || strcmp(ac->sub, "rotate") == 0)
		flags |= HB_AUDIT_CREATE;
	if (strcmp(ac->sub, "rotate") == 0)
		flags |= HB_AUDIT_WRITER;
	/* A new file after rotation in the system's trail is append-only,
	 * as the one it replaces. */
	if (!ac->file && !ac->dir)
		flags |= HB_AUDIT_APPEND_ONLY;
	r = hb_audit_open(a, dir[0] ? dir : ac->dir ?: dflt,
			  init ? NULL : ac->key_file, flags, &d);
	if (r < 0 && !d.msg[0])
		hb_diag_set(&d, NULL, 0, "cannot open the audit directory: %s",
			    strerror(-r));
	if (r < 0) {
		hb_audit_close(a);
		return fail_diag(&d);
	}
	return 0;
}

/* A log that is asked for, or a directory asked to be checked, that
 * holds none is a failure: "no records yet" would pass for an all-clear
 * on the wrong place. */
static bool log_exists(const struct hb_audit *a, const char *name)
{
	char head[300];

	snprintf(head, sizeof(head), "%s.head", name);
	return faccessat(a->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	       faccessat(a->dirfd, head, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int audit_verify(struct hb_audit *a, const char *only)
{
	int bad = 0;

	if (only && !log_exists(a, only)) {
		fprintf(stderr, "hivebox: %s/%s: no such audit log\n", a->dir,
			only);
		return HB_EXIT_FAILED;
	}
	if (!only && !log_exists(a, HB_AUDIT_EXEC_LOG) &&
	    !log_exists(a, HB_AUDIT_SECURITY_LOG)) {
		fprintf(stderr,
			"hivebox: %s: no audit log here (neither %s nor %s)\n",
			a->dir, HB_AUDIT_EXEC_LOG, HB_AUDIT_SECURITY_LOG);
		return HB_EXIT_FAILED;
	}

	for (int log = 0; log < HB_LOG_MAX; log++) {
		int r;
		if (only && strcmp(only, hb_log_name(log)) != 0)
			continue;
		r = hb_audit_verify(a, log, stdout);
		if (r < 0) {
			fprintf(stderr, "hivebox: cannot verify %s/%s: %s\n",
				a->dir, hb_log_name(log), strerror(-r));
			return HB_EXIT_FAILED;
		}
		bad |= r;
	}
	return bad ? 1 : 0;
}

static int audit_init(const struct hb_audit_cli *ac, struct hb_audit *a)
{
	const char *key = ac->key_file ?: HB_AUDIT_DEFAULT_KEY;
	struct hb_diag d = {0};
	bool had_key = access(key, F_OK) == 0;
	int r;

	if (ac->unsigned_ && ac->key_file) {
		fprintf(stderr, "hivebox: audit init: --key and --unsigned "
				"contradict each other\n");
		return HB_EXIT_FAILED;
	}
	r = hb_audit_bind(a, key, ac->unsigned_, &d);
	if (r < 0)
		return fail_diag(&d);
	if (ac->unsigned_) {
		printf("%s: unsigned%s\n", a->dir,
		       r > 0 ? " (already so)" : ", as asked");
		return 0;
	}
	printf("%s: %s\n", a->key_file,
	       had_key ? "exists, kept" : "created (0600, 32 random bytes)");
	printf("%s: signed with %s%s\n", a->dir, a->key_file,
	       r > 0 ? " (already bound)" : "");
	return 0;
}

/* The query as an investigator types it, checked before the trail is
 * read: a time that is not one, an event kind that does not exist, and
 * a script path relative to where they stand. */
static int check_query(const struct hb_audit_cli *ac, char **ret_script)
{
	_cleanup_free_ char *cwd = NULL;
	char since[32];
	int r;

	if (ac->since && hb_audit_parse_since(ac->since, time(NULL), since)) {
		fprintf(stderr, "hivebox: --since '%s': not a time; use %s\n",
			ac->since, HB_AUDIT_SINCE_FORMS);
		return HB_EXIT_FAILED;
	}
	if (ac->event && !hb_audit_event_kind_known(ac->event)) {
		fprintf(stderr,
			"hivebox: --event '%s': no such event kind; one "
			"of:",
			ac->event);
		for (size_t i = 0; hb_audit_event_kinds[i]; i++)
			fprintf(stderr, " %s", hb_audit_event_kinds[i]);
		fputc('\n', stderr);
		return HB_EXIT_FAILED;
	}
	if (!ac->script)
		return 0;
	if (ac->script[0] != '/' && !(cwd = getcwd(NULL, 0))) {
		fprintf(stderr,
			"hivebox: cannot tell the current directory: %s\n",
			strerror(errno));
		return HB_EXIT_FAILED;
	}
	r = hb_path_absolute(cwd, ac->script, ret_script);
	if (r < 0) {
		fprintf(stderr, "hivebox: --script '%s': %s\n", ac->script,
			strerror(-r));
		return HB_EXIT_FAILED;
	}
	return 0;
}

static int audit_command(const struct hb_cli *cli)
{
	const struct hb_audit_cli *ac = &cli->audit;
	struct hb_audit_query q = {ac->exec_id, ac->since, ac->event,
				   ac->script, ac->json};
	struct hb_audit a;
	const char *only = NULL;
	int code, r = 0;

	_cleanup_free_ char *script = NULL;

	if (ac->help) {
		hb_cli_audit_usage(ac->sub, stdout);
		return 0;
	}
	code = check_query(ac, &script);
	if (code)
		return code;
	q.script = script;
	code = open_audit_dir(ac, &a, &only);
	if (code)
		return code;
	if (strcmp(ac->sub, "verify") == 0)
		code = audit_verify(&a, only);
	else if (strcmp(ac->sub, "init") == 0)
		code = audit_init(ac, &a);
	else if (strcmp(ac->sub, "rotate") == 0) {
		if (a.warn_unsigned)
			fprintf(stderr, UNSIGNED_WARNING "\n", a.dir, a.dir);
		for (int log = 0; r == 0 && log < HB_LOG_MAX; log++)
			r = hb_audit_rotate(&a, log);
	} else if (strcmp(ac->sub, "show") == 0)
		r = hb_audit_show(&a, &q, stdout);
	else
		r = hb_audit_stats(&a, &q, stdout);
	if (r == -ENOTUNIQ) {
		fprintf(stderr,
			"hivebox: exec id '%s' is ambiguous in %s: more than "
			"one run starts with it\n",
			ac->exec_id, a.dir);
		code = HB_EXIT_FAILED;
	} else if (r < 0) {
		fprintf(stderr, "hivebox: audit %s in %s: %s\n", ac->sub, a.dir,
			strerror(-r));
		code = HB_EXIT_FAILED;
	}
	hb_audit_close(&a);
	return code;
}

/* The gate of check: --fail-at, else the policy's refuse_at when it is
 * on, else high. */
static enum hb_risk check_gate(const struct hb_cli *cli,
			       const struct hb_policy *ctx)
{
	if (cli->check.fail_at)
		return (enum hb_risk)hb_risk_from_string(cli->check.fail_at);
	if (cli->policy && ctx->refuse_at != HB_RISK_NONE)
		return ctx->refuse_at;
	return HB_RISK_HIGH;
}

/* The policy given to judge against: every check of a run's policy but
 * the plan's, so its paths need not exist here. */
static int check_context(const struct hb_cli *cli, struct hb_policy *ctx)
{
	struct hb_config c = {0};
	struct hb_diag d = {0};
	int r;

	if (!cli->policy)
		return 0;
	r = policy_dirs(cli, &c, ctx, &d);
	if (r == 0)
		r = hb_policy_load(ctx, cli->policy, &d);
	/* Nothing searches again; no pointer into c outlives it. */
	ctx->dirs = (struct hb_policy_dirs){HB_POLICY_SYSTEM_DIR,
					    HB_POLICY_SHIPPED_DIR};
	hb_config_free(&c);
	return r < 0 ? fail_diag(&d) : 0;
}

/* hivebox check: hivebox runs the analyzer as it runs any script, by
 * executing itself under the analyzer's policy.  The same launcher, plan,
 * sandbox and audit trail, with no state shared with a run of this
 * process; the analyzer's output and exit status are check's. */
static int check_command(const struct hb_cli *cli)
{
	const struct hb_check_cli *c = &cli->check;
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	struct hb_check_req req = {.json = c->json};
	struct hb_strv argv = {0}, files = {0};
	struct hb_policy ctx;
	struct hb_diag d = {0};
	char analyzer[PATH_MAX];
	int code, fd, r = 0;

	hb_policy_init(&ctx);
	if (!cwd) {
		fprintf(stderr,
			"hivebox: cannot tell the current directory: "
			"%s\n",
			strerror(errno));
		return HB_EXIT_FAILED;
	}
	for (size_t i = 0; i < c->n_files; i++) {
		char *name = NULL;
		if (hb_check_file_ok(cwd, c->files[i], &d) < 0 ||
		    (r = hb_check_resolve(cwd, c->files[i], &name)) < 0 ||
		    (r = hb_strv_push_take(&files, name)) < 0 ||
		    hb_check_file_ok(cwd, name, &d) < 0) {
			if (r < 0)
				hb_diag_set(&d, c->files[i], 0,
					    "cannot check: %s", strerror(-r));
			hb_policy_free(&ctx);
			hb_strv_clear(&files);
			return fail_diag(&d);
		}
	}
	req.files = files.v;
	req.n_files = files.n;
	code = check_context(cli, &ctx);
	if (code) {
		hb_policy_free(&ctx);
		hb_strv_clear(&files);
		return code;
	}
	req.context = cli->policy ? &ctx : NULL;
	req.fail_at = check_gate(cli, &ctx);
	if (hb_check_find_analyzer(analyzer) < 0) {
		fprintf(stderr,
			"hivebox: no analyzer at %s: is hivebox "
			"installed (make install)?\n",
			analyzer);
		hb_policy_free(&ctx);
		hb_strv_clear(&files);
		return HB_EXIT_FAILED;
	}
	req.analyzer = analyzer;
	fd = analyzer_argv(&req, cli->audit_dir, cwd, &argv);
	r = fd < 0 ? fd : 0;
	hb_policy_free(&ctx);
	if (r == 0) {
		fflush(stdout);
		execv("/proc/self/exe", argv.v);
		r = -errno;
	}
	fprintf(stderr, "hivebox: cannot run the analyzer: %s\n", strerror(-r));
	hb_strv_clear(&argv);
	hb_strv_clear(&files);
	if (fd >= 0)
		close(fd);
	return HB_EXIT_FAILED;
}

/* One line on stderr and 125: replay refuses before anything runs. */
static int replay_refuse(const char *fmt, ...) _printf_(1, 2);
static int replay_refuse(const char *fmt, ...)
{
	va_list ap;

	fputs("hivebox: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return HB_EXIT_FAILED;
}

/* A trail that does not verify is not one to reproduce a run from: the
 * record or the snapshot hash it names may be forged.  Each log there
 * is checked as audit verify checks it; its report is not printed. */
static int replay_verify(struct hb_audit *a)
{
	_cleanup_free_ char *report = NULL;
	size_t len = 0;
	FILE *sink = open_memstream(&report, &len);
	int bad = 0, r = 0;

	if (!sink)
		return -ENOMEM;
	for (int log = 0; r >= 0 && log < HB_LOG_MAX; log++)
		if (log_exists(a, hb_log_name(log)))
			bad |= r = hb_audit_verify(a, log, sink);
	fclose(sink);
	return r < 0 ? r : bad;
}

/* The snapshot as the policy of the replay: a sealed memfd, so that
 * what was checked against its hash is what the run reads. */
static int replay_policy_memfd(const char *text, char path[64])
{
	_cleanup_close_ int fd = memfd_create("hivebox-replay.ini",
					      MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int r;

	if (fd < 0)
		return -errno;
	r = hb_write_all(fd, text, strlen(text));
	if (r < 0)
		return r;
	if (fcntl(fd, F_ADD_SEALS,
		  F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		return -errno;
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return TAKE_FD(fd);
}

/* The script as it is now against the record.  0 to run it, or the exit
 * code of a refusal. */
static int replay_script_check(const struct hb_replay *rp, bool force,
			       bool shell)
{
	char now[HB_SHA256_HEX];
	int r = hb_sha256_file(rp->script, now);

	if (r < 0)
		return replay_refuse("cannot replay %s: script %s: %s",
				     rp->exec_id, rp->script, strerror(-r));
	if (strcmp(now, rp->script_sha) == 0)
		return 0;
	if (!force)
		return replay_refuse(
			"cannot replay %s: script %s has changed: recorded "
			"sha256 %s, now %s (--force runs it as it is now)",
			rp->exec_id, rp->script, rp->script_sha, now);
	fprintf(stderr,
		"hivebox: replay: %s%s has changed (recorded sha256 %s, now "
		"%s); the replay %s it as it is now\n",
		shell ? "" : "--force: ", rp->script, rp->script_sha, now,
		shell ? "holds" : "runs");
	return 0;
}

/* keep_scripts: the stored copy, checked against the record as the
 * snapshot is.  Its descriptor, or -1 and *code set to a refusal. */
static int replay_kept_script(const struct hb_audit *a,
			      const struct hb_replay *rp, int *code)
{
	_cleanup_close_ int fd = openat(a->dirfd, rp->kept_script,
					O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char sha[HB_SHA256_HEX], now[HB_SHA256_HEX];
	int r = fd < 0 ? -errno : hb_sha256_fd(fd, HB_SCRIPT_MAX_BYTES, sha);

	if (r < 0) {
		*code = replay_refuse("cannot replay %s: its stored script "
				      "%s/%s: %s",
				      rp->exec_id, a->dir, rp->kept_script,
				      strerror(-r));
		return -1;
	}
	if (strcmp(sha, rp->script_sha) != 0) {
		*code = replay_refuse("cannot replay %s: its stored script "
				      "%s/%s hashes to %s, not to the "
				      "recorded %s; it was altered",
				      rp->exec_id, a->dir, rp->kept_script, sha,
				      rp->script_sha);
		return -1;
	}
	if (hb_sha256_file(rp->script, now) < 0 ||
	    strcmp(now, rp->script_sha) != 0)
		fprintf(stderr,
			"hivebox: replay: %s has changed since; the replay "
			"runs the copy the trail kept (sha256 %s)\n",
			rp->script, rp->script_sha);
	*code = 0;
	return TAKE_FD(fd);
}

/* What a replay cannot give back, said before it runs.  The start record
 * holds no environment values: a variable the policy keeps from the
 * caller's environment would be the replayer's, not the original's, so
 * each is unset, and named.  The read-only paths are read as they are
 * now. */
static int replay_notices(const char *policy_path)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	hb_policy_init(&p);
	if (hb_policy_load(&p, policy_path, &d) < 0) {
		hb_policy_free(&p);
		return fail_diag(&d);
	}
	for (size_t i = 0; i < p.env_keep.n; i++)
		unsetenv(p.env_keep.v[i]);
	if (p.env_keep.n) {
		fprintf(stderr,
			"hivebox: replay: the trail does not record the values "
			"of kept environment variables; missing in the "
			"replay:");
		for (size_t i = 0; i < p.env_keep.n; i++)
			fprintf(stderr, "%s %s", i ? "," : "", p.env_keep.v[i]);
		fputc('\n', stderr);
	}
	if (p.read_only.n) {
		fprintf(stderr, "hivebox: replay: read-only paths are as they "
				"are now, not as the run read them:");
		for (size_t i = 0; i < p.read_only.n; i++)
			fprintf(stderr, "%s %s", i ? "," : "",
				p.read_only.v[i]);
		fputc('\n', stderr);
	}
	hb_policy_free(&p);
	return 0;
}

/* The replay's exec id, from the result it wrote to fd. */
static int replay_result_id(int fd, char id[37])
{
	json_object *res, *v;
	int r = -EBADMSG;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	res = json_object_from_fd(fd);
	if (res && json_object_object_get_ex(res, "exec_id", &v) &&
	    json_object_is_type(v, json_type_string)) {
		snprintf(id, 37, "%s", json_object_get_string(v));
		r = 0;
	}
	json_object_put(res);
	return r;
}

/* hivebox replay EXEC_ID: the run found and checked (replay.c), then run
 * again here, in this process, as `cd CWD && hivebox --policy SNAPSHOT
 * SCRIPT ARGS` would run it, and both outcomes compared. */
static int replay_command(const struct hb_cli *cli, int argc, char **argv)
{
	const struct hb_replay_cli *rc = &cli->replay;
	_cleanup_free_ char *dflt = NULL, *dir = NULL;
	_cleanup_close_ int policy_fd = -1, result_fd = -1, script_fd = -1;
	struct hb_replay rp;
	struct hb_audit a;
	struct hb_diag d = {0};
	struct hb_cli run = {0};
	char policy_path[64], replay_id[37];
	int code = 0, r;

	if (rc->help) {
		hb_cli_replay_usage(stdout);
		return 0;
	}
	if (!cli->audit_dir && hb_audit_default_dir(&dflt) < 0)
		return replay_refuse("no audit directory; use --audit-dir");
	r = hb_audit_open(&a, cli->audit_dir ?: dflt, NULL, HB_AUDIT_BOUND, &d);
	if (r < 0 && !d.msg[0])
		hb_diag_set(&d, cli->audit_dir ?: dflt, 0,
			    "cannot open the audit directory: %s",
			    strerror(-r));
	if (r < 0) {
		hb_audit_close(&a);
		return fail_diag(&d);
	}
	/* The run below is started from the recorded directory: the
	 * trail's path must not depend on where the caller stands. */
	dir = realpath(a.dir, NULL);
	r = dir ? replay_verify(&a) : -errno;
	if (r != 0) {
		code = r < 0 ? replay_refuse("%s: cannot verify the audit "
					     "trail: %s",
					     a.dir, strerror(-r))
			     : replay_refuse("%s: the audit trail does not "
					     "verify ('hivebox audit verify "
					     "--dir %s' says where); replay "
					     "trusts nothing in it",
					     a.dir, a.dir);
		hb_audit_close(&a);
		return code;
	}
	r = hb_replay_find(&rp, &a, rc->exec_id, &d);
	if (r < 0) {
		hb_audit_close(&a);
		return fail_diag(&d);
	}
	run.verb = rc->shell || strcmp(rp.kind, "shell") == 0 ? HB_VERB_SHELL
							      : HB_VERB_RUN;
	if (rp.script && rp.kept_script)
		script_fd = replay_kept_script(&a, &rp, &code);
	else if (rp.script)
		/* A shell only reads the script: a changed one is said,
		 * not refused. */
		code = replay_script_check(
			&rp, rc->force || run.verb == HB_VERB_SHELL,
			run.verb == HB_VERB_SHELL);
	if (code == 0 && run.verb == HB_VERB_SHELL && !isatty(STDIN_FILENO))
		code = replay_refuse("replay --shell needs a terminal on "
				     "stdin");
	if (code == 0 &&
	    (policy_fd = replay_policy_memfd(rp.policy_text, policy_path)) < 0)
		code = replay_refuse("cannot replay %s: a memfd for its "
				     "policy: %s",
				     rp.exec_id, strerror(-policy_fd));
	if (code == 0)
		code = replay_notices(policy_path);
	result_fd = code == 0
			    ? memfd_create("hivebox-replay-result", MFD_CLOEXEC)
			    : -1;
	if (code == 0 && result_fd < 0)
		code = replay_refuse("cannot replay %s: a memfd for its "
				     "result: %s",
				     rp.exec_id, strerror(errno));
	if (code == 0 && chdir(rp.cwd) < 0)
		code = replay_refuse("cannot replay %s: its start directory "
				     "%s: %s",
				     rp.exec_id, rp.cwd, strerror(errno));
	if (code) {
		hb_replay_free(&rp);
		hb_audit_close(&a);
		return code;
	}
	run.policy = policy_path;
	run.script = rp.script;
	run.args = rp.args.v;
	run.n_args = rp.args.n;
	run.audit_dir = dir;
	run.result_fd = result_fd;
	run.replay_of = rp.exec_id;
	run.have_script_fd = script_fd >= 0;
	run.script_fd = script_fd;
	fflush(stdout);
	code = run_script(&run, argc, argv);
	fflush(stdout);
	r = replay_result_id(result_fd, replay_id);
	if (r == 0)
		r = hb_replay_compare(&a, rp.exec_id, replay_id, stdout);
	if (r < 0)
		fprintf(stderr,
			"hivebox: replay of %s: cannot compare the outcomes: "
			"%s\n",
			rp.exec_id, strerror(-r));
	hb_replay_free(&rp);
	hb_audit_close(&a);
	return code;
}

/* doctor: the table or its JSON; the exit status says whether
 * strict.ini can run here. */
static int doctor_command(const struct hb_cli *cli)
{
	const struct hb_doctor_cli *dc = &cli->doctor;
	struct hb_doctor_opts o = {cli->config, cli->audit_dir, dc->key_file,
				   dc->policies_dir, dc->fix};
	struct hb_doctor *d = calloc(1, sizeof(*d));
	int r, code;

	if (dc->help) {
		free(d);
		hb_cli_doctor_usage(stdout);
		return 0;
	}
	r = d ? hb_doctor_run(&o, d) : -ENOMEM;
	if (r < 0) {
		fprintf(stderr, "hivebox: doctor: %s\n", strerror(-r));
		if (d)
			hb_doctor_free(d);
		free(d);
		return HB_EXIT_FAILED;
	}
	if (dc->fix && d->n_fixed == 0)
		hb_doctor_fixed(d, "nothing to fix");
	if (dc->json) {
		json_object *j = hb_doctor_json(d);
		puts(json_object_to_json_string_ext(j, HB_JSON_FLAGS));
		json_object_put(j);
	} else {
		hb_doctor_print(d, stdout);
	}
	code = hb_doctor_exit(d);
	hb_doctor_free(d);
	free(d);
	return code;
}

/* hivebox migrate: its report on stdout (migrate.c). */
static int migrate_command(const struct hb_cli *cli)
{
	struct hb_diag d = {0};
	int r;

	if (cli->migrate.help) {
		hb_migrate_usage(stdout);
		return 0;
	}
	r = hb_migrate_run(&cli->migrate, stdout, &d);
	fflush(stdout);
	if (r < 0 && !d.msg[0])
		hb_diag_set(&d, NULL, 0, "migrate: %s", strerror(-r));
	return r < 0 ? fail_diag(&d) : 0;
}

/* hivebox learn: learn.c does the work and fills d; here the messages
 * and the exit status. */
static int learn_command(int argc, char **argv)
{
	struct hb_learn_cli c;
	struct hb_learn_obs o = {0};
	struct hb_learn_result res = {0};
	struct hb_policy base;
	struct hb_config config = {0};
	struct hb_diag d = {0};
	_cleanup_free_ char *base_path = NULL;
	int r;

	if (hb_learn_cli_parse(&c, argc, argv, &d) < 0)
		return fail_diag(&d);
	if (c.help) {
		hb_learn_usage(stdout);
		return 0;
	}
	hb_policy_init(&base);
	r = hb_learn_prepare(&c, &base_path, &d);
	/* Where a bare --policy name is found, as for every verb;
	 * --network's address pool; the uid lock for a root-owned script. */
	if (r == 0)
		r = hb_config_policy_dirs(&config, c.config, &base.dirs, &d);
	if (r == 0)
		r = hb_policy_load(&base, c.policy ? c.policy : base_path, &d);
	if (r == 0)
		r = hb_learn_run(&c, &base, &config, &o, &d);
	if (r == 0)
		r = hb_learn_decide(&o, &res);
	if (r == 0)
		r = hb_learn_write_policy(c.output, &o, &res, &d);
	if (r == 0)
		hb_learn_report(&o, &res, c.output, c.json, stdout);
	else if (d.msg[0])
		hb_diag_print(&d, stderr);
	else
		fprintf(stderr, "hivebox: learn: %s\n", strerror(-r));
	hb_learn_result_free(&res);
	hb_learn_obs_free(&o);
	hb_config_free(&config);
	hb_policy_free(&base);
	return r < 0 ? HB_LEARN_EXIT_FAILED : 0;
}

int main(int argc, char **argv)
{
	struct hb_cli cli;
	struct hb_diag d = {0};

	hb_signals_init();
	if (argc >= 2 && strcmp(argv[1], "learn") == 0)
		return learn_command(argc, argv);
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
	case HB_VERB_POLICY_EXPLAIN:
		return policy_explain(&cli);
	case HB_VERB_POLICY_LINT:
		return policy_lint(&cli);
	case HB_VERB_POLICY_GROUPS:
		hb_syscall_groups_print(stdout);
		return 0;
	case HB_VERB_AUDIT:
		return audit_command(&cli);
	case HB_VERB_CHECK:
		return check_command(&cli);
	case HB_VERB_REPLAY:
		return replay_command(&cli, argc, argv);
	case HB_VERB_DOCTOR:
		return doctor_command(&cli);
	case HB_VERB_MIGRATE:
		return migrate_command(&cli);
	case HB_VERB_SHELL:
		/* Before anything of a run: a session with no one typing at
		 * it has nothing to run.  A dry run only prints the plan. */
		if (!cli.dry_run && !isatty(STDIN_FILENO)) {
			fprintf(stderr,
				"hivebox: shell needs a terminal on stdin; to "
				"run a script without one, use hivebox "
				"--policy FILE SCRIPT\n");
			return HB_EXIT_FAILED;
		}
		return run_script(&cli, argc, argv);
	case HB_VERB_RUN:
		return run_script(&cli, argc, argv);
	}
	return HB_EXIT_FAILED;
}

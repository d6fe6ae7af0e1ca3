/* SPDX-License-Identifier: MIT */
#include "events.h"
#include "result.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>

static void spawn_child(const char *cmd, const char *kind, const char *id,
			int in)
{
	char env_id[64];
	char *argv[] = {(char *)cmd, (char *)kind, NULL};
	char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", env_id, NULL};
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	snprintf(env_id, sizeof(env_id), "HIVEBOX_EXEC_ID=%s", id);
	hb_signals_reset();
	if (dup2(in, 0) < 0 || null < 0 || dup2(null, 1) < 0 ||
	    dup2(null, 2) < 0)
		_exit(HB_EXIT_CANNOT_EXEC);
	/* Nothing of hivebox's: not the --result-fd, not the caller's. */
	close_range(3, ~0U, 0);
	execve(cmd, argv, envp);
	_exit(HB_EXIT_NOT_FOUND);
}

/* Start the alert command with the event on its stdin; never wait. */
static void run_alert_command(struct hb_events *w, const char *kind,
			      const char *json)
{
	size_t slot = 0, len = strlen(json);
	int p[2];
	pid_t pid;

	while (slot < HB_MAX_ALERT_CHILDREN && w->children[slot].pid > 0)
		slot++;
	if (slot == HB_MAX_ALERT_CHILDREN || pipe2(p, O_CLOEXEC) < 0 ||
	    fcntl(p[1], F_SETFL, O_NONBLOCK) < 0) {
		hb_events_event(w, "alert_command_failed", HB_EV_ERROR,
				"too many alert commands running, or no pipe",
				NULL);
		return;
	}
	pid = fork();
	if (pid == 0)
		spawn_child(w->alert_command, kind, w->exec_id, p[0]);
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		hb_events_event(w, "alert_command_failed", HB_EV_ERROR,
				"cannot fork the alert command", NULL);
		return;
	}
	/* The event is far smaller than a pipe: this write cannot block.
	 * A command that exits without reading it makes it fail with
	 * EPIPE (SIGPIPE is ignored), which is its own business. */
	(void)!write(p[1], json, len);
	(void)!write(p[1], "\n", 1);
	close(p[1]);
	w->children[slot].pid = pid;
	w->children[slot].deadline_ms =
		hb_now_ms() + (unsigned long long)w->alert_timeout_s * 1000;
	snprintf(w->children[slot].kind, sizeof(w->children[slot].kind), "%s",
		 kind);
}

/* The alert command gets the event as the security log has it: every
 * string escaped to printable ASCII, since a path comes from inside the
 * sandbox and the command may print it or pass it on. */
static void alert(struct hb_events *w, const char *kind, json_object *rec)
{
	json_object *esc = NULL;

	if (hb_json_escape(rec, HB_ESCAPE_BACKSLASH, &esc) < 0) {
		hb_events_event(w, "alert_command_failed", HB_EV_ERROR,
				"no memory to escape the event", NULL);
		return;
	}
	run_alert_command(w, kind,
			  json_object_to_json_string_ext(esc, HB_JSON_FLAGS));
	json_object_put(esc);
}

static bool seen_kind(struct hb_events *w, const char *kind)
{
	size_t i;

	for (i = 0; i < HB_MAX_ALERT_KINDS && w->alerted_kinds[i][0]; i++)
		if (strcmp(w->alerted_kinds[i], kind) == 0)
			return true;
	if (i < HB_MAX_ALERT_KINDS)
		snprintf(w->alerted_kinds[i], sizeof(w->alerted_kinds[i]), "%s",
			 kind);
	return false;
}

void hb_events_record(struct hb_events *w, const char *kind,
		      enum hb_event_class cls, enum hb_event_show show,
		      const char *message, json_object *details)
{
	static const char *const severity[] = {"alert", "violation", "error"};
	json_object *rec = json_object_new_object();
	int r = 0;

	json_object_object_add(rec, "type", json_object_new_string("event"));
	json_object_object_add(rec, "exec_id",
			       json_object_new_string(w->exec_id));
	json_object_object_add(rec, "kind", json_object_new_string(kind));
	json_object_object_add(rec, "severity",
			       json_object_new_string(severity[cls]));
	json_object_object_add(rec, "message", json_object_new_string(message));
	json_object_object_add(rec, "details",
			       details ? details : json_object_new_object());
	if (cls == HB_EV_ALERT)
		w->alerts++;
	else if (cls == HB_EV_VIOLATION)
		w->violations++;
	syslog(LOG_WARNING, "exec %s: %s: %s", w->exec_id, kind, message);
	if (show == HB_SHOW_ALWAYS || (show == HB_SHOW_NOTICE && !w->quiet))
		hb_notice_add(w->notice, "hivebox: %s: %s", kind, message);
	/* The alert command runs once per kind of event and run: a loop of
	 * denied calls must not start a thousand of them. */
	if (cls != HB_EV_ERROR && w->alert_command && !seen_kind(w, kind))
		alert(w, kind, rec);
	if (w->audit)
		r = hb_audit_append(w->audit, HB_LOG_SECURITY, rec, NULL);
	else
		json_object_put(rec);
	if (r < 0) {
		w->audit_errors++;
		hb_notice_add(w->notice,
			      "hivebox: cannot record a security event: %s",
			      strerror(-r));
	}
}

void hb_events_event(struct hb_events *w, const char *kind,
		     enum hb_event_class cls, const char *message,
		     json_object *details)
{
	hb_events_record(w, kind, cls,
			 cls == HB_EV_ERROR ? HB_SHOW_ALWAYS : HB_SHOW_NOTICE,
			 message, details);
}

static json_object *usage_json(unsigned long long used,
			       unsigned long long limit, const char *unit)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "used", json_object_new_uint64(used));
	json_object_object_add(o, "limit", json_object_new_uint64(limit));
	json_object_object_add(o, "unit", json_object_new_string(unit));
	return o;
}

static void check_alerts(struct hb_events *w, const struct hb_sample *s,
			 unsigned long long memory_mb, unsigned long long cpu_s)
{
	char msg[160];

	if (w->memory_alert_pct && !w->memory_alerted &&
	    s->total_kb * 100 >= memory_mb * 1024 * w->memory_alert_pct) {
		w->memory_alerted = true;
		snprintf(msg, sizeof(msg),
			 "memory at %llu KiB, %u%% or more of memory_mb = %llu",
			 s->total_kb, w->memory_alert_pct, memory_mb);
		hb_events_event(
			w, "memory_usage_alert", HB_EV_ALERT, msg,
			usage_json(s->total_kb, memory_mb * 1024, "KiB"));
	}
	if (w->cpu_alert_pct && !w->cpu_alerted &&
	    w->cpu_total_ms * 100 >= cpu_s * 1000 * w->cpu_alert_pct) {
		w->cpu_alerted = true;
		snprintf(msg, sizeof(msg),
			 "the sandbox used %llu ms of CPU, %u%% or more of "
			 "cpu_seconds = %llu",
			 w->cpu_total_ms, w->cpu_alert_pct, cpu_s);
		hb_events_event(
			w, "cpu_usage_alert", HB_EV_ALERT, msg,
			usage_json(w->cpu_total_ms, cpu_s * 1000, "ms"));
	}
}

bool hb_events_sample(struct hb_events *w, const struct hb_monitor_src *src,
		      unsigned long long memory_mb, unsigned long long cpu_s)
{
	struct hb_sample s;
	unsigned long long now;

	/* Short only if the supervisor ran out of memory: still a lower
	 * bound, and the next sample tries again. */
	(void)hb_monitor_sample(src, &s);
	now = hb_now_ms();
	w->growth_kb_per_ms = 0;
	if (w->last_sample_ms && now > w->last_sample_ms &&
	    s.total_kb > w->last_total_kb)
		w->growth_kb_per_ms = (s.total_kb - w->last_total_kb) /
				      (now - w->last_sample_ms);
	w->last_sample_ms = now;
	w->last_total_kb = s.total_kb;
	if (s.total_kb > w->peak_total_kb)
		w->peak_total_kb = s.total_kb;
	if (s.vm_max_kb > w->peak_vm_kb)
		w->peak_vm_kb = s.vm_max_kb;
	if (s.processes > w->peak_processes)
		w->peak_processes = s.processes;
	if (s.tasks > w->peak_tasks)
		w->peak_tasks = s.tasks;
	if (s.fds_max > w->peak_fds)
		w->peak_fds = s.fds_max;
	if (s.cpu_total_ms > w->cpu_total_ms)
		w->cpu_total_ms = s.cpu_total_ms;
	check_alerts(w, &s, memory_mb, cpu_s);
	hb_events_reap(w, false);
	if (w->memory_killed || w->cpu_killed)
		return false;
	if (s.total_kb > memory_mb * 1024)
		w->memory_killed = true;
	else if (w->cpu_total_ms >= cpu_s * 1000 + HB_CPU_GRACE_MS)
		w->cpu_killed = true;
	return w->memory_killed || w->cpu_killed;
}

unsigned hb_events_next_sample_ms(const struct hb_events *w,
				  unsigned long long memory_mb)
{
	unsigned long long fast_kb =
		memory_mb * 1024 * HB_SAMPLE_FAST_PCT / 100;
	unsigned long long ms, rate;

	if (w->sample_ms <= HB_SAMPLE_FAST_MS || w->last_total_kb >= fast_kb ||
	    hb_now_ms() < w->fast_until_ms)
		return w->sample_ms <= HB_SAMPLE_FAST_MS ? w->sample_ms
							 : HB_SAMPLE_FAST_MS;
	rate = w->growth_kb_per_ms > w->burst_kb_per_ms ? w->growth_kb_per_ms
							: w->burst_kb_per_ms;
	if (!rate)
		return w->sample_ms;
	ms = (fast_kb - w->last_total_kb) / rate;
	if (ms < HB_SAMPLE_FAST_MS)
		return HB_SAMPLE_FAST_MS;
	return ms < w->sample_ms ? (unsigned)ms : w->sample_ms;
}

/* One alert command: reaped if it ended, killed past its deadline or,
 * with stop, because hivebox got that signal while it waited. */
static void reap_one(struct hb_events *w, size_t i, int stop)
{
	int status;
	pid_t r = waitpid(w->children[i].pid, &status, WNOHANG);
	char msg[160];

	if (r == 0 && !stop && hb_now_ms() < w->children[i].deadline_ms)
		return;
	if (r == 0) {
		kill(w->children[i].pid, SIGKILL);
		waitpid(w->children[i].pid, &status, 0);
		if (stop)
			snprintf(msg, sizeof(msg),
				 "alert command %s for %s killed: hivebox got "
				 "SIG%s",
				 w->alert_command, w->children[i].kind,
				 sigabbrev_np(stop) ?: "?");
		else
			snprintf(msg, sizeof(msg),
				 "alert command %s for %s timed out after %u s",
				 w->alert_command, w->children[i].kind,
				 w->alert_timeout_s);
	} else if (r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		w->children[i].pid = 0;
		return;
	} else {
		snprintf(msg, sizeof(msg),
			 "alert command %s for %s failed (status %d)",
			 w->alert_command, w->children[i].kind, status);
	}
	w->children[i].pid = 0;
	hb_events_event(w, "alert_command_failed", HB_EV_ERROR, msg, NULL);
}

/* One pass over the alert commands: true while some still run. */
static bool reap_all(struct hb_events *w, int stop)
{
	bool pending = false;

	for (size_t i = 0; i < HB_MAX_ALERT_CHILDREN; i++) {
		if (w->children[i].pid > 0)
			reap_one(w, i, stop);
		pending |= w->children[i].pid > 0;
	}
	return pending;
}

void hb_events_reap(struct hb_events *w, bool final)
{
	if (final)
		hb_events_wait(w, NULL);
	else
		reap_all(w, 0);
}

int hb_events_wait(struct hb_events *w, const sigset_t *stop)
{
	const struct timespec tick = hb_ms_timespec(10);

	while (reap_all(w, 0)) {
		int sig = -1;
		if (stop)
			sig = sigtimedwait(stop, NULL, &tick);
		else
			nanosleep(&tick, NULL);
		if (sig > 0) {
			reap_all(w, sig);
			return sig;
		}
	}
	return 0;
}

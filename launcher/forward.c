/* SPDX-License-Identifier: MIT */
/* [audit] forward: each record also as one message to syslog or the
 * journal (forward.h).  Called under a log's lock from the supervisor's
 * loop: every send is non-blocking, what cannot go at once is dropped. */
#include "forward.h"
#include "audit.h"

#include <dlfcn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

/* libsystemd is opened only by a run that forwards to the journal:
 * linked in, it and the five libraries it needs cost every start of
 * hivebox 0.4 ms in the loader (hyperfine, hivebox --version). */
#define JOURNAL_LIB "libsystemd.so.0"

typedef int (*journal_send_fn)(const char *format, ...);

static journal_send_fn journal_send(void)
{
	static journal_send_fn fn;
	void *lib;

	if (fn)
		return fn;
	lib = dlopen(JOURNAL_LIB, RTLD_NOW | RTLD_LOCAL);
	if (lib)
		fn = (journal_send_fn)dlsym(lib, "sd_journal_send");
	return fn;
}

int hb_forward_journal_open(char *why, size_t size)
{
	const char *err;

	if (journal_send())
		return 0;
	err = dlerror();
	snprintf(why, size, "%s", err ?: JOURNAL_LIB " has no sd_journal_send");
	return -ENOENT;
}

/* What a collector needs to know and check of a record; the rest
 * (argv, limits, the whole result) stays in the trail. */
static const char *const main_fields[] = {
	"seq",	      "time",	    "hash",   "prev_hash", "hmac",
	"type",	      "exec_id",    "kind",   "severity",  "message",
	"start_time", "end_time",   "user",   "cwd",	   "script",
	"policy",     "violations", "alerts", "replay_of", "details",
};

static const char *const result_fields[] = {"reason", "exit_code",
					    "signal_name"};

json_object *hb_forward_message(const char *log, const char *line)
{
	json_object *rec = json_tokener_parse(line), *msg, *v, *result;

	if (!rec || !json_object_is_type(rec, json_type_object)) {
		json_object_put(rec);
		return NULL;
	}
	msg = json_object_new_object();
	json_object_object_add(msg, "log", json_object_new_string(log));
	for (size_t i = 0; i < ARRAY_SIZE(main_fields); i++)
		if (json_object_object_get_ex(rec, main_fields[i], &v))
			json_object_object_add(msg, main_fields[i],
					       json_object_get(v));
	if (json_object_object_get_ex(rec, "result", &result))
		for (size_t i = 0; i < ARRAY_SIZE(result_fields); i++)
			if (json_object_object_get_ex(result, result_fields[i],
						      &v))
				json_object_object_add(msg, result_fields[i],
						       json_object_get(v));
	if (!json_object_object_get_ex(msg, "severity", NULL))
		json_object_object_add(msg, "severity",
				       json_object_new_string("info"));
	json_object_put(rec);
	return msg;
}

const char *hb_forward_severity(json_object *msg)
{
	return hb_json_str(msg, "severity") ?: "info";
}

static int priority(json_object *msg)
{
	const char *s = hb_forward_severity(msg);

	if (strcmp(s, "error") == 0)
		return LOG_ERR;
	return strcmp(s, "info") == 0 ? LOG_INFO : LOG_WARNING;
}

/* The JSON, its details left out if it would not fit a message. */
static char *message_json(json_object *msg)
{
	const char *text = json_object_to_json_string_ext(msg, HB_JSON_FLAGS);

	if (strlen(text) > HB_FORWARD_MAX_MSG) {
		json_object_object_del(msg, "details");
		json_object_object_add(msg, "details_left_out",
				       json_object_new_boolean(1));
		text = json_object_to_json_string_ext(msg, HB_JSON_FLAGS);
	}
	return strdup(text);
}

char *hb_forward_syslog_text(json_object *msg, time_t now, pid_t pid)
{
	_cleanup_free_ char *json = message_json(msg);
	char stamp[32] = "", *out = NULL;
	struct tm tm;

	if (!json)
		return NULL;
	if (localtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	if (asprintf(&out, "<%d>%s hivebox[%d]: @cee: %s",
		     LOG_AUTHPRIV | priority(msg), stamp, (int)pid, json) < 0)
		return NULL;
	return out;
}

const char *hb_forward_syslog_path = "/dev/log";

static int syslog_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(hb_forward_syslog_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, hb_forward_syslog_path,
	       strlen(hb_forward_syslog_path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

void hb_forward_open(struct hb_forwarder *f, enum hb_forward_to to)
{
	memset(f, 0, sizeof(*f));
	f->to = to;
	f->fd = to == HB_FORWARD_SYSLOG ? syslog_connect() : -1;
}

void hb_forward_close(struct hb_forwarder *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* One datagram, never waiting: a full queue (EAGAIN) drops it; a
 * syslog daemon that was restarted (ECONNREFUSED) is connected again. */
static bool send_syslog(struct hb_forwarder *f, const char *text)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (f->fd < 0)
			f->fd = syslog_connect();
		if (f->fd < 0)
			return false;
		if (send(f->fd, text, strlen(text),
			 MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return true;
		if (errno != ECONNREFUSED && errno != ENOTCONN)
			return false;
		hb_forward_close(f);
	}
	return false;
}

static bool send_journal(json_object *msg)
{
	_cleanup_free_ char *json = message_json(msg);
	json_object *seq = json_object_object_get(msg, "seq");
	journal_send_fn sd_journal_send = journal_send();

	return json && sd_journal_send &&
	       sd_journal_send(
		       "MESSAGE=hivebox %s %s %s",
		       hb_json_str(msg, "type") ?: "?",
		       hb_json_str(msg, "kind") ?: "?",
		       hb_json_str(msg, "exec_id") ?: "?", "PRIORITY=%d",
		       priority(msg), "SYSLOG_IDENTIFIER=hivebox",
		       "HIVEBOX_LOG=%s", hb_json_str(msg, "log") ?: "",
		       "HIVEBOX_SEQ=%lld",
		       (long long)json_object_get_int64(seq), "HIVEBOX_HASH=%s",
		       hb_json_str(msg, "hash") ?: "", "HIVEBOX_PREV_HASH=%s",
		       hb_json_str(msg, "prev_hash") ?: "",
		       "HIVEBOX_EXEC_ID=%s", hb_json_str(msg, "exec_id") ?: "",
		       "HIVEBOX_TYPE=%s", hb_json_str(msg, "type") ?: "",
		       "HIVEBOX_KIND=%s", hb_json_str(msg, "kind") ?: "",
		       "HIVEBOX_SEVERITY=%s", hb_forward_severity(msg),
		       "HIVEBOX_RECORD=%s", json, NULL) >= 0;
}

void hb_forward_record(struct hb_forwarder *f, const char *log,
		       const char *line)
{
	json_object *msg;
	bool sent = false;

	if (!f || (f->to != HB_FORWARD_SYSLOG && f->to != HB_FORWARD_JOURNAL))
		return;
	msg = hb_forward_message(log, line);
	if (msg && f->to == HB_FORWARD_SYSLOG) {
		_cleanup_free_ char *text =
			hb_forward_syslog_text(msg, time(NULL), getpid());
		sent = text && send_syslog(f, text);
	}
	if (msg && f->to == HB_FORWARD_JOURNAL)
		sent = send_journal(msg);
	json_object_put(msg);
	if (sent)
		f->sent++;
	else
		f->dropped++;
}

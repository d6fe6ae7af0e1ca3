/* SPDX-License-Identifier: MIT */
/* [audit] forward: each record also as one message to syslog or the
 * journal (forward.h).  Called under a log's lock from the supervisor's
 * loop: every send is non-blocking, what cannot go at once is dropped.
 * Both go out on hivebox's own non-blocking datagram socket; the
 * journal's in its native protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL),
 * not through libsystemd, whose socket blocks. */
#include "forward.h"
#include "audit.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

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
const char *hb_forward_journal_path = "/run/systemd/journal/socket";

static const char *socket_path(enum hb_forward_to to)
{
	return to == HB_FORWARD_JOURNAL ? hb_forward_journal_path
					: hb_forward_syslog_path;
}

static int datagram_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
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
	f->fd = to == HB_FORWARD_SYSLOG || to == HB_FORWARD_JOURNAL
			? datagram_connect(socket_path(to))
			: -1;
}

void hb_forward_close(struct hb_forwarder *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* One datagram, never waiting: a full queue (EAGAIN) or one too big
 * (EMSGSIZE) drops it; a daemon that was restarted (ECONNREFUSED) is
 * connected again. */
static bool send_datagram(struct hb_forwarder *f, const char *text, size_t len)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (f->fd < 0)
			f->fd = datagram_connect(socket_path(f->to));
		if (f->fd < 0)
			return false;
		if (send(f->fd, text, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return true;
		if (errno != ECONNREFUSED && errno != ENOTCONN)
			return false;
		hb_forward_close(f);
	}
	return false;
}

/* One field of the native protocol: KEY=value, or where the value holds
 * a newline, KEY, a newline, its length (64-bit little-endian), the
 * value and a newline. */
static void journal_field(FILE *out, const char *key, const char *value)
{
	size_t len = strlen(value);
	unsigned char le[8];

	if (!memchr(value, '\n', len)) {
		fprintf(out, "%s=%s\n", key, value);
		return;
	}
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)((unsigned long long)len >> (8 * i));
	fprintf(out, "%s\n", key);
	fwrite(le, 1, sizeof(le), out);
	fwrite(value, 1, len, out);
	fputc('\n', out);
}

char *hb_forward_journal_text(json_object *msg, size_t *ret_len)
{
	_cleanup_free_ char *json = message_json(msg);
	char *buf = NULL, text[512];
	size_t len = 0;
	FILE *out;

	if (!json || !(out = open_memstream(&buf, &len)))
		return NULL;
	snprintf(text, sizeof(text), "hivebox %s %s %s",
		 hb_json_str(msg, "type") ?: "?",
		 hb_json_str(msg, "kind") ?: "?",
		 hb_json_str(msg, "exec_id") ?: "?");
	journal_field(out, "MESSAGE", text);
	snprintf(text, sizeof(text), "%d", priority(msg));
	journal_field(out, "PRIORITY", text);
	journal_field(out, "SYSLOG_IDENTIFIER", "hivebox");
	journal_field(out, "HIVEBOX_LOG", hb_json_str(msg, "log") ?: "");
	snprintf(text, sizeof(text), "%lld",
		 (long long)json_object_get_int64(
			 json_object_object_get(msg, "seq")));
	journal_field(out, "HIVEBOX_SEQ", text);
	journal_field(out, "HIVEBOX_HASH", hb_json_str(msg, "hash") ?: "");
	journal_field(out, "HIVEBOX_PREV_HASH",
		      hb_json_str(msg, "prev_hash") ?: "");
	journal_field(out, "HIVEBOX_EXEC_ID",
		      hb_json_str(msg, "exec_id") ?: "");
	journal_field(out, "HIVEBOX_TYPE", hb_json_str(msg, "type") ?: "");
	journal_field(out, "HIVEBOX_KIND", hb_json_str(msg, "kind") ?: "");
	journal_field(out, "HIVEBOX_SEVERITY", hb_forward_severity(msg));
	journal_field(out, "HIVEBOX_RECORD", json);
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	*ret_len = len;
	return buf;
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
		sent = text && send_datagram(f, text, strlen(text));
	}
	if (msg && f->to == HB_FORWARD_JOURNAL) {
		size_t len = 0;
		_cleanup_free_ char *text = hb_forward_journal_text(msg, &len);
		sent = text && send_datagram(f, text, len);
	}
	json_object_put(msg);
	if (sent)
		f->sent++;
	else
		f->dropped++;
}

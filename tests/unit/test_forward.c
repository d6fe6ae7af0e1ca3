/* SPDX-License-Identifier: MIT */
/* forward.c: the message of a record, its syslog and journal
 * datagrams, and sends that never wait on a socket nobody reads. */
#include "forward.h"
#include "audit.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

static const char start_line[] =
	"{\"seq\":3,\"time\":\"2026-12-03T01:02:03.456Z\",\"prev_hash\":\"aa\","
	"\"type\":\"start\",\"exec_id\":\"E\",\"kind\":\"script\","
	"\"user\":{\"uid\":0,\"name\":\"root\"},\"argv\":[\"x\"],"
	"\"limits\":{\"cpu_seconds\":1},\"script\":{\"path\":\"/j.py\","
	"\"sha256\":\"ss\"},\"hash\":\"hh\"}\n";

static const char end_line[] =
	"{\"seq\":4,\"type\":\"end\",\"exec_id\":\"E\",\"kind\":\"script\","
	"\"result\":{\"reason\":\"timeout\",\"exit_code\":124,"
	"\"signal_name\":null,\"wall_ms\":9},\"hash\":\"h2\"}\n";

static const char event_line[] =
	"{\"seq\":1,\"type\":\"event\",\"exec_id\":\"E\",\"kind\":"
	"\"syscall_denied\",\"severity\":\"violation\",\"message\":\"m\","
	"\"details\":{\"syscall\":\"mount\"},\"hash\":\"h3\"}\n";

static const char *str(json_object *o, const char *key)
{
	return json_object_get_string(json_object_object_get(o, key));
}

Test(forward, start_message_keeps_the_main_fields)
{
	json_object *m = hb_forward_message("execution_audit.log", start_line);

	cr_assert_not_null(m);
	cr_assert_str_eq(str(m, "log"), "execution_audit.log");
	cr_assert_eq(json_object_get_int(json_object_object_get(m, "seq")), 3);
	cr_assert_str_eq(str(m, "hash"), "hh");
	cr_assert_str_eq(str(m, "prev_hash"), "aa");
	cr_assert_str_eq(str(m, "exec_id"), "E");
	cr_assert_str_eq(str(m, "kind"), "script");
	cr_assert_str_eq(str(m, "severity"), "info");
	cr_assert_str_eq(str(json_object_object_get(m, "script"), "sha256"),
			 "ss");
	cr_assert_null(json_object_object_get(m, "argv"));
	cr_assert_null(json_object_object_get(m, "limits"));
	json_object_put(m);
}

Test(forward, end_message_flattens_the_result)
{
	json_object *m = hb_forward_message("execution_audit.log", end_line);

	cr_assert_str_eq(str(m, "reason"), "timeout");
	cr_assert_eq(
		json_object_get_int(json_object_object_get(m, "exit_code")),
		124);
	cr_assert(json_object_object_get_ex(m, "signal_name", NULL));
	cr_assert_null(json_object_object_get(m, "result"));
	cr_assert_null(json_object_object_get(m, "wall_ms"));
	json_object_put(m);
}

Test(forward, not_a_record)
{
	cr_assert_null(hb_forward_message("x", "[1,2]\n"));
	cr_assert_null(hb_forward_message("x", "{\"torn"));
}

Test(forward, syslog_datagram)
{
	json_object *m = hb_forward_message("security_events.log", event_line);
	char *text = hb_forward_syslog_text(m, 0, 42), want[16];
	const char *body;

	cr_assert_not_null(text);
	snprintf(want, sizeof(want), "<%d>", LOG_AUTHPRIV | LOG_WARNING);
	cr_assert(strncmp(text, want, strlen(want)) == 0, "%s", text);
	cr_assert_not_null(strstr(text, " hivebox[42]: @cee: {"));
	body = strstr(text, "@cee: ") + 6;
	json_object *back = json_tokener_parse(body);
	cr_assert_not_null(back, "%s", body);
	cr_assert_str_eq(str(back, "severity"), "violation");
	cr_assert_str_eq(str(back, "hash"), "h3");
	cr_assert_str_eq(
		str(json_object_object_get(back, "details"), "syscall"),
		"mount");
	json_object_put(back);
	json_object_put(m);
	free(text);
}

Test(forward, oversized_details_are_left_out)
{
	char *big = malloc(HB_FORWARD_MAX_MSG + 200), *line, *text;
	json_object *m, *back;

	memset(big, 'x', HB_FORWARD_MAX_MSG + 100);
	big[HB_FORWARD_MAX_MSG + 100] = '\0';
	cr_assert(asprintf(&line,
			   "{\"seq\":1,\"type\":\"event\",\"hash\":\"h\","
			   "\"details\":{\"blob\":\"%s\"}}",
			   big) > 0);
	m = hb_forward_message("security_events.log", line);
	text = hb_forward_syslog_text(m, 0, 1);
	cr_assert_lt(strlen(text), HB_FORWARD_MAX_MSG + 100);
	back = json_tokener_parse(strstr(text, "@cee: ") + 6);
	cr_assert_null(json_object_object_get(back, "details"));
	cr_assert(json_object_get_boolean(
		json_object_object_get(back, "details_left_out")));
	cr_assert_str_eq(str(back, "hash"), "h");
	json_object_put(back);
	json_object_put(m);
	free(text);
	free(line);
	free(big);
}

Test(forward, none_sends_nothing)
{
	struct hb_forwarder f;

	hb_forward_open(&f, HB_FORWARD_NONE);
	cr_assert_eq(f.fd, -1);
	hb_forward_record(&f, "execution_audit.log", start_line);
	hb_forward_record(NULL, "execution_audit.log", start_line);
	cr_assert_eq(f.sent + f.dropped, 0);
	hb_forward_close(&f);
}

Test(forward, journal_datagram)
{
	json_object *msg = hb_forward_message("security_audit.log", event_line);
	size_t len = 0;
	char *text = hb_forward_journal_text(msg, &len);

	cr_assert_not_null(text);
	cr_assert_eq(strlen(text), len, "no binary field here");
	cr_assert(strncmp(text,
			  "MESSAGE=hivebox event syscall_denied E\n"
			  "PRIORITY=4\nSYSLOG_IDENTIFIER=hivebox\n"
			  "HIVEBOX_LOG=security_audit.log\nHIVEBOX_SEQ=1\n"
			  "HIVEBOX_HASH=h3\n",
			  strlen("MESSAGE=hivebox event syscall_denied E\n"
				 "PRIORITY=4\nSYSLOG_IDENTIFIER=hivebox\n"
				 "HIVEBOX_LOG=security_audit.log\n"
				 "HIVEBOX_SEQ=1\nHIVEBOX_HASH=h3\n")) == 0,
		  "%s", text);
	cr_assert_not_null(strstr(text, "\nHIVEBOX_KIND=syscall_denied\n"));
	cr_assert_not_null(strstr(text, "\nHIVEBOX_RECORD={\"log\":"));
	cr_assert_eq(text[len - 1], '\n');
	free(text);
	json_object_put(msg);
}

/* A value with a newline goes in the binary form: KEY, newline, its
 * length as 64-bit little-endian, the value, newline. */
Test(forward, journal_newline_value_is_length_prefixed)
{
	const char line[] = "{\"seq\":2,\"type\":\"event\",\"kind\":\"a\\nb\","
			    "\"exec_id\":\"E\",\"hash\":\"h\"}";
	const char want[] = "HIVEBOX_KIND\n\3\0\0\0\0\0\0\0a\nb\n";
	json_object *msg = hb_forward_message("execution_audit.log", line);
	size_t len = 0;
	char *text = hb_forward_journal_text(msg, &len);
	const char *at = NULL;

	cr_assert_not_null(text);
	for (size_t i = 0; i + sizeof(want) - 1 <= len && !at; i++)
		if (memcmp(text + i, want, sizeof(want) - 1) == 0)
			at = text + i;
	cr_assert_not_null(at, "no length-prefixed HIVEBOX_KIND");
	cr_assert(memcmp(text, "MESSAGE\n\x13\0\0\0\0\0\0\0", 16) == 0,
		  "MESSAGE holds the kind's newline too");
	free(text);
	json_object_put(msg);
}

/* A daemon that does not read: the sends never wait, what the socket
 * cannot take is dropped and counted, what it took arrives. */
static void full_socket(enum hb_forward_to to, const char **path_var)
{
	char dir[] = "/tmp/hb-forward-XXXXXX", path[64], buf[16384];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *saved = *path_var;
	struct hb_forwarder f;
	unsigned long got = 0;
	int rx;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rx = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(bind(rx, (struct sockaddr *)&sa, sizeof(sa)), 0);
	*path_var = path;
	hb_forward_open(&f, to);
	cr_assert_geq(f.fd, 0);
	for (int i = 0; i < 3000; i++)
		hb_forward_record(&f, "execution_audit.log", start_line);
	cr_assert_eq(f.sent + f.dropped, 3000);
	cr_assert_gt(f.sent, 0);
	cr_assert_gt(f.dropped, 0);
	while (recv(rx, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		got++;
	cr_assert_eq(got, f.sent);
	/* Read, the socket takes messages again. */
	hb_forward_record(&f, "execution_audit.log", start_line);
	cr_assert_eq(recv(rx, buf, sizeof(buf), MSG_DONTWAIT) > 0, 1);
	hb_forward_close(&f);
	close(rx);
	unlink(path);
	rmdir(dir);
	*path_var = saved;
}

Test(forward, full_socket_drops_and_counts)
{
	full_socket(HB_FORWARD_SYSLOG, &hb_forward_syslog_path);
}

/* The journal's socket is hivebox's own too: a journald that stopped
 * reading never holds the supervisor. */
Test(forward, journal_does_not_read_drops_and_counts)
{
	full_socket(HB_FORWARD_JOURNAL, &hb_forward_journal_path);
}

/* No syslog daemon at all: every message is dropped, none waits. */
Test(forward, no_socket_drops)
{
	struct hb_forwarder f;

	hb_forward_syslog_path = "/nonexistent/hb-forward/log";
	hb_forward_open(&f, HB_FORWARD_SYSLOG);
	cr_assert_lt(f.fd, 0);
	hb_forward_record(&f, "execution_audit.log", start_line);
	hb_forward_record(&f, "execution_audit.log", end_line);
	cr_assert_eq(f.sent, 0);
	cr_assert_eq(f.dropped, 2);
	hb_forward_close(&f);
	hb_forward_syslog_path = "/dev/log";
}

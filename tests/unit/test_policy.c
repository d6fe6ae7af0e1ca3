/* SPDX-License-Identifier: MIT */
/* policy_*.c: every key, its default, its checks, and where errors point. */
#include "helpers.h"
#include "policy.h"
#include "seccomp_names.h"

#include <criterion/criterion.h>
#include <string.h>

/* Parse text that must be refused; check the diag's file, line and that
 * its message contains want. */
static void expect_error(const char *text, unsigned line, const char *want)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r = parse_text(&p, text, &d);

	/* Freed first, so that a failed assertion leaks nothing. */
	hb_policy_free(&p);
	cr_assert_lt(r, 0, "accepted:\n%s", text);
	cr_assert_str_eq(d.file, "test.ini", "for:\n%s", text);
	cr_assert_eq(d.line, line, "line %u, not %u, for:\n%s\n(%s)", d.line,
		     line, text, d.msg);
	cr_assert_not_null(strstr(d.msg, want), "'%s' lacks '%s' for:\n%s",
			   d.msg, want, text);
}

static void expect_origin(const struct hb_policy *p, enum hb_key key,
			  const char *file, unsigned line)
{
	cr_assert_not_null(p->origin[key].file, "%s has no origin",
			   hb_key_name(key));
	cr_assert_str_eq(p->origin[key].file, file, "%s", hb_key_name(key));
	cr_assert_eq(p->origin[key].line, line, "%s comes from line %u",
		     hb_key_name(key), p->origin[key].line);
}

Test(policy_defaults, init)
{
	struct hb_policy p;

	hb_policy_init(&p);
	cr_assert_str_eq(p.interpreter, "/usr/bin/python3");
	cr_assert_null(p.workdir);
	cr_assert_eq(p.limits.timeout_seconds, 300);
	cr_assert_eq(p.limits.cpu_seconds, 60);
	cr_assert_eq(p.limits.memory_mb, 512);
	cr_assert_eq(p.limits.file_size_mb, 100);
	cr_assert_eq(p.limits.max_processes, 16);
	cr_assert_eq(p.limits.max_open_files, 256);
	cr_assert_eq(p.limits.tmp_size_mb, 64);
	cr_assert_eq(p.network_mode, HB_NET_NONE);
	cr_assert_eq(p.host_uid.kind, HB_HOST_UID_AUTO);
	cr_assert_null(p.audit_dir);
	cr_assert_eq(p.audit_required, HB_TRI_AUTO);
	cr_assert_eq(p.audit_append_only, HB_TRI_AUTO);
	cr_assert_eq(p.audit_keep_scripts, HB_TRI_AUTO); /* unset: no */
	cr_assert_eq(p.syscalls_default, HB_SC_ALLOW);
	cr_assert_eq(p.on_violation, HB_VIOLATION_ERRNO);
	cr_assert_str_eq(p.violation_errno, "EPERM");
	cr_assert_eq(p.refuse_at, HB_RISK_NONE);
	cr_assert_null(p.audit_key_file);
	cr_assert_eq(p.cpu_alert_pct, 80);
	cr_assert_eq(p.memory_alert_pct, 90);
	cr_assert_null(p.alert_command);
	cr_assert_eq(p.alert_timeout_seconds, 10);
	cr_assert_eq(p.sample_interval_ms, 100);
	cr_assert_null(p.description);
	cr_assert_null(p.path);
	cr_assert_eq(p.read_only.n, 0);
	cr_assert_eq(p.read_write.n, 0);
	cr_assert_eq(p.env_keep.n, 0);
	cr_assert_eq(p.env_set.n, 0);
	for (int k = 0; k < HB_K_MAX; k++)
		cr_assert_null(p.origin[k].file, "%s is a built-in default",
			       hb_key_name((enum hb_key)k));
	hb_policy_free(&p);
}

Test(policy_defaults, empty_file_keeps_defaults)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p, "", &d), 0);
	cr_assert_eq(parse_more(&p, "; nothing\n\n# at all\n[execution]\n",
				"test.ini", &d),
		     0);
	cr_assert_eq(p.limits.memory_mb, 512);
	cr_assert_str_eq(p.interpreter, "/usr/bin/python3");
	cr_assert_null(p.origin[HB_K_MEMORY].file);
	cr_assert_str_eq(d.msg, "", "no diag on success");
	hb_policy_free(&p);
}

Test(policy_defaults, key_names)
{
	static const char *const names[HB_K_MAX] = {
		[HB_K_EXTENDS] = "extends",
		[HB_K_DESCRIPTION] = "description",
		[HB_K_INTERPRETER] = "interpreter",
		[HB_K_WORKDIR] = "workdir",
		[HB_K_TIMEOUT] = "timeout_seconds",
		[HB_K_CPU] = "cpu_seconds",
		[HB_K_MEMORY] = "memory_mb",
		[HB_K_FILE_SIZE] = "file_size_mb",
		[HB_K_MAX_PROCESSES] = "max_processes",
		[HB_K_MAX_OPEN_FILES] = "max_open_files",
		[HB_K_TMP_SIZE] = "tmp_size_mb",
		[HB_K_READ_ONLY] = "read_only",
		[HB_K_READ_WRITE] = "read_write",
		[HB_K_WRITE_QUOTA_MB] = "write_quota_mb",
		[HB_K_WRITE_QUOTA_FILES] = "write_quota_files",
		[HB_K_NETWORK_MODE] = "mode",
		[HB_K_NET_DOMAINS] = "allowed_domains",
		[HB_K_NET_ALLOWED_PORTS] = "allowed_ports",
		[HB_K_NET_BLOCKED_PORTS] = "blocked_ports",
		[HB_K_ENV_KEEP] = "keep",
		[HB_K_ENV_SET] = "set",
		[HB_K_HOST_UID] = "host_uid",
		[HB_K_AUDIT_DIR] = "dir",
		[HB_K_AUDIT_REQUIRED] = "required",
		[HB_K_AUDIT_KEY] = "key_file",
		[HB_K_AUDIT_APPEND_ONLY] = "append_only",
		[HB_K_AUDIT_KEEP_SCRIPTS] = "keep_scripts",
		[HB_K_AUDIT_FORWARD] = "forward",
		[HB_K_CPU_ALERT] = "cpu_usage_alert",
		[HB_K_MEMORY_ALERT] = "memory_usage_alert",
		[HB_K_ALERT_COMMAND] = "alert_command",
		[HB_K_ALERT_TIMEOUT] = "alert_timeout_seconds",
		[HB_K_SAMPLE_MS] = "sample_interval_ms",
		[HB_K_BLOCKED_OPS] = "blocked_operations",
		[HB_K_SC_DEFAULT] = "default",
		[HB_K_SC_ALLOW] = "allow",
		[HB_K_SC_DENY] = "deny",
		[HB_K_SC_ON_VIOLATION] = "on_violation",
		[HB_K_SC_ERRNO] = "errno",
		[HB_K_ANALYSIS_REFUSE_AT] = "refuse_at",
	};

	for (int k = 0; k < HB_K_MAX; k++)
		cr_assert_str_eq(hb_key_name((enum hb_key)k), names[k]);
	cr_assert_str_eq(hb_key_name(HB_K_MAX), "?");
}

static const char every_key[] =
	"; a full policy\n"				   /* 1 */
	"[policy]\n"					   /* 2 */
	"description = every key, once\n"		   /* 3 */
	"[execution]\n"					   /* 4 */
	"interpreter = /usr/bin/python3.11\n"		   /* 5 */
	"timeout_seconds = 10\n"			   /* 6 */
	"cpu_seconds = 5\n"				   /* 7 */
	"memory_mb = 128\n"				   /* 8 */
	"file_size_mb = 2\n"				   /* 9 */
	"max_processes = 3\n"				   /* 10 */
	"max_open_files = 32\n"				   /* 11 */
	"tmp_size_mb = 8\n"				   /* 12 */
	"\n"						   /* 13 */
	"[filesystem]\n"				   /* 14 */
	"read_only = ./config, /usr/share/zoneinfo\n"	   /* 15 */
	"read_write = data\n"				   /* 16 */
	"[network]\n"					   /* 17 */
	"mode = none\n"					   /* 18 */
	"[environment]\n"				   /* 19 */
	"keep = TZ, LC_ALL\n"				   /* 20 */
	"set = GREETING=hello world\n"			   /* 21 */
	"[identity]\n"					   /* 22 */
	"host_uid = 4242\n"				   /* 23 */
	"[audit]\n"					   /* 24 */
	"dir = /srv/audit\n"				   /* 25 */
	"required = no\n"				   /* 26 */
	"key_file = /etc/hb.key\n"			   /* 27 */
	"[monitoring]\n"				   /* 28 */
	"cpu_usage_alert = 50\n"			   /* 29 */
	"memory_usage_alert = 0\n"			   /* 30 */
	"alert_command = /usr/local/bin/page\n"		   /* 31 */
	"alert_timeout_seconds = 300\n"			   /* 32 */
	"sample_interval_ms = 10\n"			   /* 33 */
	"[audit]\n"					   /* 34 */
	"append_only = yes\n"				   /* 35 */
	"[filesystem]\n"				   /* 36 */
	"blocked_operations = delete, chmod\n"		   /* 37 */
	"[syscalls]\n"					   /* 38 */
	"default = deny\n"				   /* 39 */
	"allow = @python, @chown\n"			   /* 40 */
	"on_violation = kill\n"				   /* 41 */
	"errno = EACCES\n"				   /* 42 */
	"deny = mount\n"				   /* 43 */
	"[network]\n"					   /* 44 */
	"allowed_domains = api.example.org, 203.0.113.7\n" /* 45 */
	"allowed_ports = 443, 8443\n"			   /* 46 */
	"blocked_ports = 22\n"				   /* 47 */
	"[execution]\n"					   /* 48 */
	"workdir = /srv/jobs\n"				   /* 49 */
	"[filesystem]\n"				   /* 50 */
	"write_quota_mb = 50\n"				   /* 51 */
	"write_quota_files = 1000\n"			   /* 52 */
	"[analysis]\n"					   /* 53 */
	"refuse_at = high\n"				   /* 54 */
	"[audit]\n"					   /* 55 */
	"keep_scripts = yes\n"				   /* 56 */
	"forward = syslog\n";				   /* 57 */

Test(policy_keys, every_key_value)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p, every_key, &d), 0, "%u: %s", d.line, d.msg);
	cr_assert_str_eq(p.description, "every key, once");
	cr_assert_eq(p.refuse_at, HB_RISK_HIGH);
	cr_assert_str_eq(p.interpreter, "/usr/bin/python3.11");
	cr_assert_str_eq(p.workdir, "/srv/jobs");
	cr_assert_eq(p.limits.timeout_seconds, 10);
	cr_assert_eq(p.limits.cpu_seconds, 5);
	cr_assert_eq(p.limits.memory_mb, 128);
	cr_assert_eq(p.limits.file_size_mb, 2);
	cr_assert_eq(p.limits.max_processes, 3);
	cr_assert_eq(p.limits.max_open_files, 32);
	cr_assert_eq(p.limits.tmp_size_mb, 8);
	cr_assert_eq(p.read_only.n, 2);
	cr_assert_str_eq(p.read_only.v[0], "./config");
	cr_assert_str_eq(p.read_only.v[1], "/usr/share/zoneinfo");
	cr_assert_eq(p.read_write.n, 1);
	cr_assert_str_eq(p.read_write.v[0], "data");
	cr_assert_eq(p.write_quota_mb, 50);
	cr_assert_eq(p.write_quota_files, 1000);
	cr_assert_eq(p.network_mode, HB_NET_NONE);
	cr_assert_eq(p.env_keep.n, 2);
	cr_assert_str_eq(p.env_keep.v[0], "TZ");
	cr_assert_str_eq(p.env_keep.v[1], "LC_ALL");
	cr_assert_eq(p.env_set.n, 1);
	cr_assert_str_eq(p.env_set.v[0], "GREETING=hello world");
	cr_assert_eq(p.host_uid.kind, HB_HOST_UID_NUMBER);
	cr_assert_eq(p.host_uid.uid, 4242);
	cr_assert_str_eq(p.audit_dir, "/srv/audit");
	cr_assert_eq(p.audit_required, HB_TRI_NO);
	cr_assert_str_eq(p.audit_key_file, "/etc/hb.key");
	cr_assert_eq(p.audit_append_only, HB_TRI_YES);
	cr_assert_eq(p.audit_keep_scripts, HB_TRI_YES);
	cr_assert_eq(p.audit_forward, HB_FORWARD_SYSLOG);
	cr_assert_eq(p.blocked_operations.n, 2);
	cr_assert_str_eq(p.blocked_operations.v[1], "chmod");
	cr_assert_eq(p.syscalls_default, HB_SC_DENY);
	cr_assert_eq(p.syscalls_allow.n, 2);
	cr_assert_str_eq(p.syscalls_allow.v[0], "@python");
	cr_assert_str_eq(p.syscalls_deny.v[0], "mount");
	cr_assert_eq(p.on_violation, HB_VIOLATION_KILL);
	cr_assert_str_eq(p.violation_errno, "EACCES");
	cr_assert_eq(p.cpu_alert_pct, 50);
	cr_assert_eq(p.memory_alert_pct, 0);
	cr_assert_str_eq(p.alert_command, "/usr/local/bin/page");
	cr_assert_eq(p.alert_timeout_seconds, 300);
	cr_assert_eq(p.sample_interval_ms, 10);
	cr_assert_eq(p.allowed_domains.n, 2);
	cr_assert_str_eq(p.allowed_domains.v[0], "api.example.org");
	cr_assert_str_eq(p.allowed_domains.v[1], "203.0.113.7");
	cr_assert_eq(p.allowed_ports.n, 2);
	cr_assert_str_eq(p.allowed_ports.v[1], "8443");
	cr_assert_eq(p.blocked_ports.n, 1);
	cr_assert_str_eq(p.blocked_ports.v[0], "22");
	hb_policy_free(&p);
}

Test(policy_keys, every_key_origin)
{
	static const unsigned lines[HB_K_MAX] = {
		[HB_K_DESCRIPTION] = 3,
		[HB_K_INTERPRETER] = 5,
		[HB_K_TIMEOUT] = 6,
		[HB_K_CPU] = 7,
		[HB_K_MEMORY] = 8,
		[HB_K_FILE_SIZE] = 9,
		[HB_K_MAX_PROCESSES] = 10,
		[HB_K_MAX_OPEN_FILES] = 11,
		[HB_K_TMP_SIZE] = 12,
		[HB_K_READ_ONLY] = 15,
		[HB_K_READ_WRITE] = 16,
		[HB_K_NETWORK_MODE] = 18,
		[HB_K_ENV_KEEP] = 20,
		[HB_K_ENV_SET] = 21,
		[HB_K_HOST_UID] = 23,
		[HB_K_AUDIT_DIR] = 25,
		[HB_K_AUDIT_REQUIRED] = 26,
		[HB_K_AUDIT_KEY] = 27,
		[HB_K_CPU_ALERT] = 29,
		[HB_K_MEMORY_ALERT] = 30,
		[HB_K_ALERT_COMMAND] = 31,
		[HB_K_ALERT_TIMEOUT] = 32,
		[HB_K_SAMPLE_MS] = 33,
		[HB_K_AUDIT_APPEND_ONLY] = 35,
		[HB_K_BLOCKED_OPS] = 37,
		[HB_K_SC_DEFAULT] = 39,
		[HB_K_SC_ALLOW] = 40,
		[HB_K_SC_ON_VIOLATION] = 41,
		[HB_K_SC_ERRNO] = 42,
		[HB_K_SC_DENY] = 43,
		[HB_K_NET_DOMAINS] = 45,
		[HB_K_NET_ALLOWED_PORTS] = 46,
		[HB_K_NET_BLOCKED_PORTS] = 47,
		[HB_K_WORKDIR] = 49,
		[HB_K_WRITE_QUOTA_MB] = 51,
		[HB_K_WRITE_QUOTA_FILES] = 52,
		[HB_K_ANALYSIS_REFUSE_AT] = 54,
		[HB_K_AUDIT_KEEP_SCRIPTS] = 56,
		[HB_K_AUDIT_FORWARD] = 57,
	};
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p, every_key, &d), 0, "%u: %s", d.line, d.msg);
	for (int k = HB_K_DESCRIPTION; k < HB_K_MAX; k++)
		expect_origin(&p, (enum hb_key)k, "test.ini", lines[k]);
	cr_assert_null(p.origin[HB_K_EXTENDS].file);
	hb_policy_free(&p);
}

Test(policy_keys, untouched_keys_keep_defaults)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p, "[execution]\nmemory_mb = 64\n", &d), 0);
	cr_assert_eq(p.limits.memory_mb, 64);
	cr_assert_eq(p.limits.cpu_seconds, 60);
	cr_assert_eq(p.limits.timeout_seconds, 300);
	cr_assert_null(p.origin[HB_K_CPU].file);
	expect_origin(&p, HB_K_MEMORY, "test.ini", 2);
	hb_policy_free(&p);
}

Test(policy_keys, numbers_at_their_bounds)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	const char *text = "[execution]\n"
			   "timeout_seconds = 31536000\n"
			   "cpu_seconds = 1\n"
			   "memory_mb = 16\n"
			   "file_size_mb = 1048576\n"
			   "max_processes = 65536\n"
			   "max_open_files = 16\n"
			   "tmp_size_mb = 1\n";

	cr_assert_eq(parse_text(&p, text, &d), 0, "%u: %s", d.line, d.msg);
	cr_assert_eq(p.limits.timeout_seconds, 31536000);
	cr_assert_eq(p.limits.cpu_seconds, 1);
	cr_assert_eq(p.limits.memory_mb, 16);
	cr_assert_eq(p.limits.file_size_mb, 1048576);
	cr_assert_eq(p.limits.max_processes, 65536);
	cr_assert_eq(p.limits.max_open_files, 16);
	cr_assert_eq(p.limits.tmp_size_mb, 1);
	hb_policy_free(&p);
}

Test(policy_keys, host_uid_forms)
{
	static const struct {
		const char *text;
		enum hb_host_uid_kind kind;
		uid_t uid;
	} ok[] = {
		{"auto", HB_HOST_UID_AUTO, 0},
		{"root", HB_HOST_UID_ROOT, 0},
		{"1", HB_HOST_UID_NUMBER, 1},
		{"12345", HB_HOST_UID_NUMBER, 12345},
		{"4294967294", HB_HOST_UID_NUMBER, 4294967294u},
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct hb_policy p;
		struct hb_diag d = {0};
		char text[128], shown[HB_HOST_UID_TEXT_MAX];

		snprintf(text, sizeof(text), "[identity]\nhost_uid = %s\n",
			 ok[i].text);
		cr_assert_eq(parse_text(&p, text, &d), 0, "%s: %s", ok[i].text,
			     d.msg);
		cr_assert_eq(p.host_uid.kind, ok[i].kind, "%s", ok[i].text);
		if (ok[i].kind == HB_HOST_UID_NUMBER)
			cr_assert_eq(p.host_uid.uid, ok[i].uid, "%s",
				     ok[i].text);
		cr_assert_str_eq(
			hb_host_uid_text(&p.host_uid, shown, sizeof(shown)),
			ok[i].text);
		hb_policy_free(&p);
	}
}

/* Each enum's string table, both ways; words outside it are refused. */
Test(policy_keys, enum_string_tables)
{
	cr_assert_str_eq(hb_net_mode_to_string(HB_NET_NONE), "none");
	cr_assert_str_eq(hb_net_mode_to_string(HB_NET_FILTERED), "filtered");
	cr_assert_eq(hb_net_mode_from_string("filtered"), HB_NET_FILTERED);
	cr_assert_eq(hb_net_mode_from_string("Filtered"), -EINVAL);
	cr_assert_null(hb_net_mode_to_string(HB_NET_MODE_MAX));
	cr_assert_str_eq(hb_tristate_to_string(HB_TRI_YES), "yes");
	cr_assert_str_eq(hb_tristate_to_string(HB_TRI_NO), "no");
	cr_assert_str_eq(hb_tristate_to_string(HB_TRI_AUTO), "auto");
	cr_assert_eq(hb_tristate_from_string("auto"), HB_TRI_AUTO);
	cr_assert_eq(hb_tristate_from_string("no"), HB_TRI_NO);
	cr_assert_eq(hb_tristate_from_string("true"), -EINVAL);
	cr_assert_str_eq(hb_sc_default_to_string(HB_SC_DENY), "deny");
	cr_assert_eq(hb_sc_default_from_string("allow"), HB_SC_ALLOW);
	cr_assert_eq(hb_sc_default_from_string(""), -EINVAL);
	cr_assert_str_eq(hb_violation_to_string(HB_VIOLATION_KILL), "kill");
	cr_assert_eq(hb_violation_from_string("errno"), HB_VIOLATION_ERRNO);
	cr_assert_eq(hb_violation_from_string("EPERM"), -EINVAL);
	cr_assert_str_eq(hb_host_uid_kind_to_string(HB_HOST_UID_ROOT), "root");
	cr_assert_null(hb_host_uid_kind_to_string(HB_HOST_UID_NUMBER));
	cr_assert_eq(hb_host_uid_kind_from_string("auto"), HB_HOST_UID_AUTO);
	cr_assert_eq(hb_host_uid_kind_from_string("42"), -EINVAL);
}

Test(policy_comments, full_line_and_inline)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	const char *text = "; leading comment\n"
			   "# hash comment\n"
			   "[execution] ; section comment\n"
			   "memory_mb = 256 ; the inline comment\n"
			   "  ; indented comment\n"
			   "cpu_seconds = 7\t; after a tab\n"
			   "[policy]\n"
			   "description = a;b # not a comment\n";

	cr_assert_eq(parse_text(&p, text, &d), 0, "%u: %s", d.line, d.msg);
	cr_assert_eq(p.limits.memory_mb, 256);
	cr_assert_eq(p.limits.cpu_seconds, 7);
	/* ';' starts a comment only after white space; '#' only at the
	 * start of a line. */
	cr_assert_str_eq(p.description, "a;b # not a comment");
	expect_origin(&p, HB_K_MEMORY, "test.ini", 4);
	expect_origin(&p, HB_K_CPU, "test.ini", 6);
	hb_policy_free(&p);
}

Test(policy_comments, inline_comment_after_list)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p,
				"[filesystem]\nread_only = a, b ; not c\n"
				"[environment]\nkeep = TZ ; not HOME\n",
				&d),
		     0, "%s", d.msg);
	cr_assert_eq(p.read_only.n, 2);
	cr_assert_str_eq(p.read_only.v[1], "b");
	cr_assert_eq(p.env_keep.n, 1);
	cr_assert_str_eq(p.env_keep.v[0], "TZ");
	hb_policy_free(&p);
}

Test(policy_lists, comma_split_and_strip)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p,
				"[filesystem]\n"
				"read_only = a,b ,  c/d  ,/e\n",
				&d),
		     0, "%s", d.msg);
	cr_assert_eq(p.read_only.n, 4);
	cr_assert_str_eq(p.read_only.v[0], "a");
	cr_assert_str_eq(p.read_only.v[1], "b");
	cr_assert_str_eq(p.read_only.v[2], "c/d");
	cr_assert_str_eq(p.read_only.v[3], "/e");
	cr_assert_null(p.read_only.v[4]);
	hb_policy_free(&p);
}

Test(policy_lists, later_lines_append_in_one_file)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p,
				"[filesystem]\n"
				"read_write = out\n"
				"read_write = logs, cache\n"
				"[environment]\n"
				"keep = TZ\n"
				"keep = LANGUAGE\n",
				&d),
		     0, "%s", d.msg);
	cr_assert_eq(p.read_write.n, 3);
	cr_assert_str_eq(p.read_write.v[0], "out");
	cr_assert_str_eq(p.read_write.v[1], "logs");
	cr_assert_str_eq(p.read_write.v[2], "cache");
	cr_assert_eq(p.env_keep.n, 2);
	cr_assert_str_eq(p.env_keep.v[1], "LANGUAGE");
	/* The origin is the last line that touched the list. */
	expect_origin(&p, HB_K_READ_WRITE, "test.ini", 3);
	expect_origin(&p, HB_K_ENV_KEEP, "test.ini", 6);
	hb_policy_free(&p);
}

Test(policy_lists, first_line_of_a_file_replaces_inherited)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p,
				"[filesystem]\n"
				"read_only = parent1, parent2\n"
				"read_write = keep_me\n"
				"[environment]\n"
				"set = A=1\n",
				&d),
		     0, "%s", d.msg);
	/* A second file on top: its first read_only replaces, its second
	 * appends; read_write, not named, is inherited whole. */
	cr_assert_eq(parse_more(&p,
				"[filesystem]\n"
				"read_only = child1\n"
				"read_only = child2\n"
				"[environment]\n"
				"set = B=2\n",
				"child.ini", &d),
		     0, "%s", d.msg);
	cr_assert_eq(p.read_only.n, 2);
	cr_assert_str_eq(p.read_only.v[0], "child1");
	cr_assert_str_eq(p.read_only.v[1], "child2");
	cr_assert_eq(p.read_write.n, 1);
	cr_assert_str_eq(p.read_write.v[0], "keep_me");
	expect_origin(&p, HB_K_READ_WRITE, "test.ini", 3);
	expect_origin(&p, HB_K_READ_ONLY, "child.ini", 3);
	cr_assert_eq(p.env_set.n, 1);
	cr_assert_str_eq(p.env_set.v[0], "B=2");
	hb_policy_free(&p);
}

/* hivebox-policy(5): every list key combines the same way along extends.
 * The parent's list is replaced by the child's first line, which the
 * child's second line extends. */
Test(policy_lists, every_list_key_combines_alike)
{
	static const struct {
		const char *section, *name, *parent, *first, *second;
		size_t offset;
	} lists[] = {
		{"filesystem", "read_only", "p", "a", "b",
		 offsetof(struct hb_policy, read_only)},
		{"filesystem", "read_write", "p", "a", "b",
		 offsetof(struct hb_policy, read_write)},
		{"filesystem", "blocked_operations", "chown", "delete", "chmod",
		 offsetof(struct hb_policy, blocked_operations)},
		{"network", "allowed_domains", "p.example", "a.example",
		 "b.example", offsetof(struct hb_policy, allowed_domains)},
		{"network", "allowed_ports", "22", "80", "443",
		 offsetof(struct hb_policy, allowed_ports)},
		{"network", "blocked_ports", "22", "80", "443",
		 offsetof(struct hb_policy, blocked_ports)},
		{"environment", "keep", "P", "A", "B",
		 offsetof(struct hb_policy, env_keep)},
		{"environment", "set", "P=1", "A=1", "B=2",
		 offsetof(struct hb_policy, env_set)},
		{"syscalls", "allow", "read", "@python", "@chown",
		 offsetof(struct hb_policy, syscalls_allow)},
		{"syscalls", "deny", "read", "mount", "ptrace",
		 offsetof(struct hb_policy, syscalls_deny)},
	};

	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		struct hb_policy p;
		struct hb_diag d = {0};
		const struct hb_strv *l;
		char text[256];

		snprintf(text, sizeof(text), "[%s]\n%s = %s\n",
			 lists[i].section, lists[i].name, lists[i].parent);
		cr_assert_eq(parse_text(&p, text, &d), 0, "%s", d.msg);
		snprintf(text, sizeof(text), "[%s]\n%s = %s\n%s = %s\n",
			 lists[i].section, lists[i].name, lists[i].first,
			 lists[i].name, lists[i].second);
		cr_assert_eq(parse_more(&p, text, "child.ini", &d), 0, "%s",
			     d.msg);
		l = (const struct hb_strv *)((const char *)&p +
					     lists[i].offset);
		cr_assert_eq(l->n, 2, "%s", lists[i].name);
		cr_assert_str_eq(l->v[0], lists[i].first);
		cr_assert_str_eq(l->v[1], lists[i].second);
		hb_policy_free(&p);
	}
}

Test(policy_lists, empty_value_is_an_error)
{
	expect_error("[filesystem]\nread_only =\n", 2,
		     "empty value for read_only");
	expect_error("[environment]\nkeep =   \n", 2, "empty value for keep");
}

Test(policy_lists, empty_item_is_an_error)
{
	expect_error("[filesystem]\nread_only = a, ,b\n", 2,
		     "empty item in the list for read_only");
}

/* policy_check.c documents "empty items are an error"; an item that is empty
 * because two commas touch (or a list that is only commas) must be refused
 * as well, not skipped: "read_only = ," would otherwise silently clear an
 * inherited list. */
Test(policy_lists, adjacent_commas_are_an_empty_item)
{
	expect_error("[filesystem]\nread_only = a,,b\n", 2, "empty item");
	expect_error("[filesystem]\nread_write = ,\n", 2, "empty");
	expect_error("[filesystem]\nread_only = a,\n", 2, "empty item");
}

Test(policy_set, repeatable_and_kept_whole)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p,
				"[environment]\n"
				"set = A=1\n"
				"set = B=x=y\n"
				"set = EMPTY=\n"
				"set = _U9=with spaces\n",
				&d),
		     0, "%s", d.msg);
	cr_assert_eq(p.env_set.n, 4);
	cr_assert_str_eq(p.env_set.v[0], "A=1");
	cr_assert_str_eq(p.env_set.v[1], "B=x=y");
	cr_assert_str_eq(p.env_set.v[2], "EMPTY=");
	cr_assert_str_eq(p.env_set.v[3], "_U9=with spaces");
	expect_origin(&p, HB_K_ENV_SET, "test.ini", 5);
	hb_policy_free(&p);
}

Test(policy_set, bad_values)
{
	expect_error("[environment]\nset = NOVALUE\n", 2,
		     "bad value 'NOVALUE' for set: expected NAME=value");
	expect_error("[environment]\nset = =x\n", 2, "bad value '=x' for set");
	expect_error("[environment]\nset = A=1\nset = 1A=x\n", 3,
		     "bad value '1A=x' for set");
	expect_error("[environment]\nset = A-B=x\n", 2,
		     "bad value 'A-B=x' for set");
}

Test(policy_env, bad_keep_name)
{
	expect_error("[environment]\nkeep = HOME, 1BAD\n", 2,
		     "bad environment variable name '1BAD' in keep");
	expect_error("[environment]\n\nkeep = A-B\n", 3,
		     "bad environment variable name 'A-B' in keep");
	expect_error("[environment]\nkeep = A=1\n", 2,
		     "bad environment variable name 'A=1' in keep");
}

Test(policy_errors, unknown_section)
{
	/* Reported at its header, before the keys in it. */
	expect_error("[execution]\nmemory_mb = 64\n[bogus]\nx = 1\n", 3,
		     "unknown section [bogus]");
	expect_error("[execution]\n[ bogus ] ; c\n\nmemory_mb = 1\n", 2,
		     "unknown section [bogus]");
}

Test(policy_errors, unknown_empty_section)
{
	expect_error("[execution]\nmemory_mb = 64\n[filesytem]\n", 3,
		     "unknown section [filesytem]");
	expect_error("[Execution]\n", 1, "unknown section [Execution]");
}

Test(policy_errors, unknown_section_in_line_order)
{
	/* An unknown key before the unknown section is the first error. */
	expect_error("[execution]\nmemroy_mb = 64\n[bogus]\n", 2,
		     "unknown key 'memroy_mb' in [execution]");
	/* An unknown section before a bad value is. */
	expect_error("[bogus]\n[execution]\nmemory_mb = 1\n", 1,
		     "unknown section [bogus]");
}

/* A long unknown section name is still an unknown section, with or
 * without keys. */
Test(policy_errors, unknown_long_empty_section)
{
	char text[160], want[160];
	char name[81];

	memset(name, 's', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(text, sizeof(text), "[execution]\n[%s]\n", name);
	snprintf(want, sizeof(want), "unknown section [%s]", name);
	expect_error(text, 2, want);
}

Test(policy_errors, empty_known_sections_are_fine)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p,
				"[policy]\n[execution]\n[filesystem]\n"
				"[network]\n[environment]\n[identity]\n"
				"[syscalls]\n[monitoring]\n[audit]\n",
				&d),
		     0, "%u: %s", d.line, d.msg);
	hb_policy_free(&p);
}

Test(policy_errors, unknown_key)
{
	expect_error("[execution]\ncpu_seconds = 5\n\nmemroy_mb = 64\n", 4,
		     "unknown key 'memroy_mb' in [execution]");
	/* A real key in the wrong section is unknown there. */
	expect_error("[network]\nmemory_mb = 64\n", 2,
		     "unknown key 'memory_mb' in [network]");
	expect_error("[execution]\nextends = x.ini\n", 2,
		     "unknown key 'extends' in [execution]");
}

Test(policy_errors, key_outside_a_section)
{
	expect_error("; comment\nmemory_mb = 64\n[execution]\n", 2,
		     "key 'memory_mb' outside any section");
}

Test(policy_errors, duplicate_scalar)
{
	expect_error("[execution]\nmemory_mb = 64\ncpu_seconds = 1\n"
		     "memory_mb = 32\n",
		     4, "duplicate key 'memory_mb' in [execution]");
	expect_error("[network]\nmode = none\n[network]\nmode = none\n", 4,
		     "duplicate key 'mode' in [network]");
	expect_error("[policy]\ndescription = a\ndescription = a\n", 3,
		     "duplicate key 'description' in [policy]");
	expect_error("[identity]\nhost_uid = auto\nhost_uid = root\n", 3,
		     "duplicate key 'host_uid' in [identity]");
}

Test(policy_errors, duplicate_scalar_keeps_first_value_out)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_lt(parse_text(&p,
				"[execution]\nmemory_mb = 64\nmemory_mb = 32\n",
				&d),
		     0);
	cr_assert_neq(p.limits.memory_mb, 32, "the duplicate is not applied");
	hb_policy_free(&p);
}

Test(policy_errors, not_supported_yet)
{
	expect_error("[filesystem]\nexecutables = /usr/bin/git\n", 2,
		     "'executables' in [filesystem] is not supported yet");
}

Test(policy_errors, syscall_keys_are_checked)
{
	expect_error("[syscalls]\nanything = at all\n", 2,
		     "unknown key 'anything' in [syscalls]");
	expect_error("[syscalls]\ndefault = sometimes\n", 2,
		     "bad value 'sometimes' for default: expected allow|deny");
	expect_error("[syscalls]\ndefault = deny\nallow = @python, @nosuch\n",
		     3, "unknown system call or group '@nosuch' in allow");
	expect_error("[syscalls]\ndeny = mount, frobnicate\n", 2,
		     "unknown system call or group 'frobnicate' in deny");
	expect_error("[syscalls]\non_violation = shout\n", 2,
		     "bad value 'shout' for on_violation: expected errno|kill");
	expect_error("[syscalls]\nerrno = EWHATEVER\n", 2,
		     "unknown errno name 'EWHATEVER' for errno");
	expect_error("[filesystem]\nread_only = a\nblocked_operations = "
		     "delete, shred\n",
		     3, "unknown operation 'shred' in blocked_operations");
}

/* The list of known operations is the operations table itself. */
Test(policy_errors, unknown_operation_names_every_known_one)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	char want[64];

	cr_assert_lt(parse_text(&p,
				"[filesystem]\nblocked_operations = shred\n",
				&d),
		     0);
	hb_policy_free(&p);
	cr_assert_str_eq(d.msg, "unknown operation 'shred' in "
				"blocked_operations (known: delete, chmod, "
				"chown, rename, link, truncate, mknod, xattr)");
	for (size_t i = 0; i < hb_n_operations; i++) {
		snprintf(want, sizeof(want), "%s%s%s",
			 i ? ", " : "(known: ", hb_operations[i].name,
			 i + 1 == hb_n_operations ? ")" : ",");
		cr_assert_not_null(strstr(d.msg, want), "'%s' lacks '%s'",
				   d.msg, want);
	}
}

Test(policy_errors, syscall_contradictions)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	static const struct {
		const char *text;
		unsigned line;
		const char *want;
	} cases[] = {
		{"[syscalls]\ndefault = allow\nallow = read\n", 3,
		 "allow = read contradicts default = allow (test.ini:2)"},
		{"[syscalls]\ndefault = deny\ndeny = mount\n", 3,
		 "deny = mount contradicts default = deny (test.ini:2)"},
		/* A default has no file and no line: no "built-in default:0". */
		{"[syscalls]\nallow = read\n", 2,
		 "allow = read contradicts default = allow (built-in "
		 "default):"},
		{"[syscalls]\ndefault = deny\nallow = @python, @mount\n", 3,
		 "allow = @mount: it is denied whatever the policy says"},
		{"[syscalls]\ndefault = deny\nallow = ptrace\n", 3,
		 "allow = ptrace: it is denied whatever the policy says"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = parse_text(&p, cases[i].text, &d);
		if (r == 0)
			r = hb_policy_validate(&p, &d);
		hb_policy_free(&p);
		cr_assert_lt(r, 0, "accepted:\n%s", cases[i].text);
		cr_assert_eq(d.line, cases[i].line, "line %u for:\n%s", d.line,
			     cases[i].text);
		cr_assert_not_null(strstr(d.msg, cases[i].want),
				   "'%s' lacks '%s'", d.msg, cases[i].want);
	}
}

Test(policy_errors, audit_and_monitoring_keys_are_checked)
{
	expect_error("[audit]\nlevel = high\n", 2,
		     "unknown key 'level' in [audit]");
	expect_error("[monitoring]\nlog_level = INFO\n", 2,
		     "unknown key 'log_level' in [monitoring]");
	expect_error("[audit]\ndir = var/log\n", 2,
		     "dir must be an absolute path, not 'var/log'");
	expect_error("[audit]\nkey_file = audit.key\n", 2,
		     "key_file must be an absolute path, not 'audit.key'");
	expect_error("[monitoring]\nalert_command = page.sh\n", 2,
		     "alert_command must be an absolute path, not 'page.sh'");
	expect_error("[execution]\nworkdir = jobs\n", 2,
		     "workdir must be an absolute path, not 'jobs'");
	expect_error("[execution]\nworkdir = /a\nworkdir = /b\n", 3,
		     "duplicate key 'workdir' in [execution]");
	expect_error("[audit]\nrequired = auto\n", 2,
		     "bad value 'auto' for required: expected yes|no");
	expect_error("[audit]\nrequired = ye\n", 2,
		     "bad value 'ye' for required");
	expect_error("[audit]\nrequired = yes|no\n", 2,
		     "bad value 'yes|no' for required");
	expect_error("[audit]\nrequired = yes\nrequired = no\n", 3,
		     "duplicate key 'required' in [audit]");
	expect_error("[monitoring]\ncpu_usage_alert = 101\n", 2,
		     "bad value '101' for cpu_usage_alert: expected a whole "
		     "number of percent from 0 to 100");
	expect_error("[monitoring]\nmemory_usage_alert = 90%\n", 2,
		     "bad value '90%' for memory_usage_alert");
	expect_error("[monitoring]\nalert_timeout_seconds = 0\n", 2,
		     "seconds from 1 to 300");
	expect_error("[monitoring]\nalert_timeout_seconds = 301\n", 2,
		     "seconds from 1 to 300");
	expect_error("[monitoring]\nsample_interval_ms = 9\n", 2,
		     "milliseconds from 10 to 60000");
	expect_error("[monitoring]\nsample_interval_ms = 60001\n", 2,
		     "milliseconds from 10 to 60000");
}

Test(policy_keys, audit_required_choices)
{
	static const struct {
		const char *text;
		enum hb_tristate value;
	} ok[] = {{"yes", HB_TRI_YES}, {"no", HB_TRI_NO}};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct hb_policy p;
		struct hb_diag d = {0};
		char text[64];

		snprintf(text, sizeof(text), "[audit]\nrequired = %s\n",
			 ok[i].text);
		cr_assert_eq(parse_text(&p, text, &d), 0, "%s", d.msg);
		cr_assert_eq(p.audit_required, ok[i].value, "%s", ok[i].text);
		hb_policy_free(&p);
	}
}

Test(policy_keys, filtered_network)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p,
				"[network]\nmode = filtered\n"
				"allowed_domains = a.example, 10.0.0.1\n"
				"allowed_ports = 443\n",
				&d),
		     0, "%s", d.msg);
	cr_assert_eq(p.network_mode, HB_NET_FILTERED);
	cr_assert_eq(hb_policy_validate(&p, &d), 0, "%s", d.msg);
	hb_policy_free(&p);
}

Test(policy_errors, network_items_are_checked)
{
	expect_error("[network]\nmode = filtered\nallowed_ports = 443, 0\n", 3,
		     "bad port '0' in allowed_ports: expected a number from 1 "
		     "to 65535");
	expect_error("[network]\nmode = filtered\nblocked_ports = 65536\n", 3,
		     "bad port '65536' in blocked_ports");
	expect_error("[network]\nmode = filtered\nallowed_ports = https\n", 3,
		     "bad port 'https' in allowed_ports");
	expect_error("[network]\nmode = filtered\nallowed_domains = ::1\n", 3,
		     "'::1' in allowed_domains is an IPv6 address; only IPv4");
	expect_error("[network]\nmode = filtered\n"
		     "allowed_domains = a.example, bad_name.example\n",
		     3,
		     "'bad_name.example' in allowed_domains is neither an "
		     "IPv4 address nor a host name");
	expect_error("[network]\nmode = filtered\n"
		     "allowed_domains = -a.example\n",
		     3, "'-a.example' in allowed_domains is neither");
	expect_error("[network]\nmode = filtered\nallowed_domains = a..b\n", 3,
		     "'a..b' in allowed_domains is neither");
}

Test(policy_errors, network_lists_need_mode_filtered)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p, "[network]\nallowed_ports = 443\n", &d), 0,
		     "%s", d.msg);
	cr_assert_lt(hb_policy_validate(&p, &d), 0);
	cr_assert_eq(d.line, 2);
	cr_assert_not_null(strstr(d.msg, "allowed_ports without mode = "
					 "filtered"),
			   "%s", d.msg);
	hb_policy_free(&p);
	/* Said in so many words, none wins and the lists are moot. */
	memset(&d, 0, sizeof(d));
	cr_assert_eq(parse_text(&p,
				"[network]\nmode = none\n"
				"allowed_domains = a.example\n",
				&d),
		     0, "%s", d.msg);
	cr_assert_eq(hb_policy_validate(&p, &d), 0, "%s", d.msg);
	hb_policy_free(&p);
}

Test(policy_errors, bad_choice)
{
	expect_error("[network]\nmode = host\n", 2,
		     "bad value 'host' for mode: expected none|filtered");
}

static void expect_bad_number(const char *key, const char *value,
			      const char *range)
{
	char text[256], want[256];

	snprintf(text, sizeof(text), "[execution]\n; x\n%s = %s\n", key, value);
	snprintf(want, sizeof(want),
		 "bad value '%s' for %s: expected a whole "
		 "number of %s",
		 value, key, range);
	expect_error(text, 3, want);
}

Test(policy_errors, bad_numbers)
{
	expect_bad_number("memory_mb", "512MB", "MiB from 16 to 1048576");
	expect_bad_number("memory_mb", "-1", "MiB from 16 to 1048576");
	expect_bad_number("memory_mb", "abc", "MiB from 16 to 1048576");
	expect_bad_number("memory_mb", "", "MiB from 16 to 1048576");
	expect_bad_number("memory_mb", "1.5", "MiB from 16 to 1048576");
	expect_bad_number("timeout_seconds", "99999999999999999999999",
			  "seconds from 1 to 31536000");
	expect_bad_number("cpu_seconds", "0x10", "seconds from 1 to 31536000");
}

Test(policy_errors, out_of_range_numbers)
{
	expect_bad_number("timeout_seconds", "0", "seconds from 1 to 31536000");
	expect_bad_number("timeout_seconds", "31536001",
			  "seconds from 1 to 31536000");
	expect_bad_number("cpu_seconds", "0", "seconds from 1 to 31536000");
	expect_bad_number("memory_mb", "15", "MiB from 16 to 1048576");
	expect_bad_number("memory_mb", "1048577", "MiB from 16 to 1048576");
	expect_bad_number("file_size_mb", "0", "MiB from 1 to 1048576");
	expect_bad_number("max_processes", "0", "processes from 1 to 65536");
	expect_bad_number("max_processes", "65537",
			  "processes from 1 to 65536");
	expect_bad_number("max_open_files", "15",
			  "descriptors from 16 to 65536");
	expect_bad_number("tmp_size_mb", "0", "MiB from 1 to 65536");
	expect_bad_number("tmp_size_mb", "65537", "MiB from 1 to 65536");
}

Test(policy_errors, bad_number_leaves_default)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_lt(parse_text(&p, "[execution]\nmemory_mb = 15\n", &d), 0);
	cr_assert_eq(p.limits.memory_mb, 512);
	hb_policy_free(&p);
}

Test(policy_errors, bad_host_uid)
{
	expect_error("[identity]\nhost_uid = 0\n", 2,
		     "bad value '0' for host_uid: expected auto, root or a uid "
		     "from 1 to 4294967294");
	expect_error("[identity]\nhost_uid = 4294967295\n", 2,
		     "bad value '4294967295' for host_uid");
	expect_error("[identity]\nhost_uid = nobody\n", 2,
		     "bad value 'nobody' for host_uid");
	expect_error("[identity]\nhost_uid = -5\n", 2,
		     "bad value '-5' for host_uid");
}

Test(policy_errors, relative_interpreter)
{
	expect_error("[execution]\ninterpreter = python3\n", 2,
		     "interpreter must be an absolute path, not 'python3'");
	expect_error(
		"[execution]\ninterpreter = ./bin/python3\n", 2,
		"interpreter must be an absolute path, not './bin/python3'");
}

Test(policy_errors, syntax_error)
{
	expect_error("[execution]\nmemory_mb = 64\nthis is not ini\n", 3,
		     "syntax error: expected [section] or name = value");
	expect_error("[policy]\n[execution\nmemory_mb = 64\n", 2,
		     "syntax error");
}

Test(policy_errors, syntax_error_is_reported_before_key_errors)
{
	/* Nothing of a file with a syntax error is applied, and the first
	 * bad line is the syntax error's, not the unknown key's. */
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_lt(parse_text(&p,
				"[execution]\nmemory_mb = 64\nbogus = 1\n"
				"garbage\n",
				&d),
		     0);
	cr_assert_eq(d.line, 4, "%u: %s", d.line, d.msg);
	cr_assert_not_null(strstr(d.msg, "syntax error"), "%s", d.msg);
	cr_assert_eq(p.limits.memory_mb, 512);
	hb_policy_free(&p);
}

/* "[policy]\ndescription = " followed by xs up to a line of len chars. */
static char *line_of(size_t len)
{
	const char *key = "description = ";
	size_t klen = strlen(key);
	char *text = malloc(len + 64);

	cr_assert_not_null(text);
	strcpy(text, "[policy]\n");
	strcat(text, key);
	memset(text + strlen(text), 'x', len - klen);
	strcpy(text + 9 + len, "\n[execution]\ncpu_seconds = 2\n");
	return text;
}

Test(policy_long_lines, longest_allowed_line)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	char *text = line_of(198);

	cr_assert_eq(parse_text(&p, text, &d), 0, "%u: %s", d.line, d.msg);
	cr_assert_eq(strlen(p.description), 198 - strlen("description = "));
	cr_assert_eq(p.limits.cpu_seconds, 2,
		     "the next line is read as itself");
	hb_policy_free(&p);
	free(text);
}

/* The message says "longer than 199 characters": a line of exactly 199
 * characters is therefore within the limit. */
Test(policy_long_lines, line_of_199_is_allowed)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	char *text = line_of(199);
	int r = parse_text(&p, text, &d);
	size_t len = p.description ? strlen(p.description) : 0;

	hb_policy_free(&p);
	free(text);
	cr_assert_eq(r, 0, "a 199-character line was refused: %u: %s", d.line,
		     d.msg);
	cr_assert_eq(len, 199 - strlen("description = "));
}

Test(policy_long_lines, line_of_200_is_an_error)
{
	char *text = line_of(200);

	expect_error(text, 2, "line longer than 199 characters");
	free(text);
}

Test(policy_long_lines, very_long_line_is_not_split)
{
	/* Were the rest of the long comment line read as a line of its own,
	 * "cpu_seconds = 1" would be applied. */
	struct hb_policy p;
	struct hb_diag d = {0};
	char text[512];

	snprintf(text, sizeof(text), "[execution]\n;%0198dcpu_seconds = 1\n",
		 0);
	cr_assert_lt(parse_text(&p, text, &d), 0);
	cr_assert_eq(d.line, 2, "%u: %s", d.line, d.msg);
	cr_assert_not_null(strstr(d.msg, "line longer than 199"), "%s", d.msg);
	cr_assert_eq(p.limits.cpu_seconds, 60);
	hb_policy_free(&p);
}

Test(policy_long_lines, earliest_error_wins)
{
	char *text = line_of(250);
	char *both = NULL;

	/* A syntax error after the long line: the long line is first. */
	cr_assert_geq(asprintf(&both, "%sgarbage\n", text), 0);
	expect_error(both, 2, "line longer than 199 characters");
	free(both);
	/* A syntax error before it: the syntax error is first. */
	cr_assert_geq(asprintf(&both, "garbage\n%s", text), 0);
	expect_error(both, 1, "syntax error");
	free(both);
	free(text);
}

/* No quota unless a policy sets one: 0, which no file may write. */
Test(policy_write_quota, unset_by_default)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p, "", &d), 0);
	cr_assert_eq(p.write_quota_mb, 0);
	cr_assert_eq(p.write_quota_files, 0);
	cr_assert_null(p.origin[HB_K_WRITE_QUOTA_MB].file);
	hb_policy_free(&p);
}

Test(policy_write_quota, bounds)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	const char *text = "[filesystem]\n"
			   "write_quota_mb = 16777216\n"
			   "write_quota_files = 1\n";

	cr_assert_eq(parse_text(&p, text, &d), 0, "%u: %s", d.line, d.msg);
	cr_assert_eq(p.write_quota_mb, 16777216);
	cr_assert_eq(p.write_quota_files, 1);
	hb_policy_free(&p);
}

/* Zero, negative, too large for its bound, too large for 64 bits, not
 * a number: one line naming the file and line. */
Test(policy_write_quota, bad_values)
{
	static const char *const keys[] = {"write_quota_mb",
					   "write_quota_files"};
	static const char *const values[] = {
		"0",   "-1", "16777217000", "99999999999999999999999",
		"1.5", "10M"};
	char text[256];

	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		for (size_t v = 0; v < ARRAY_SIZE(values); v++) {
			snprintf(text, sizeof(text),
				 "[filesystem]\n; quota\n%s = %s\n", keys[k],
				 values[v]);
			expect_error(text, 3, keys[k]);
		}
}

/* A policy lifts the quota of the one it extends with "none". */
Test(policy_write_quota, none_lifts_an_inherited_quota)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p,
				"[filesystem]\nwrite_quota_mb = 100\n"
				"write_quota_files = none\n",
				&d),
		     0, "%s", d.msg);
	cr_assert_eq(p.write_quota_mb, 100);
	cr_assert_eq(parse_more(&p, "[filesystem]\nwrite_quota_mb = none\n",
				"child.ini", &d),
		     0, "%s", d.msg);
	cr_assert_eq(p.write_quota_mb, 0);
	cr_assert_eq(p.write_quota_files, 0);
	expect_origin(&p, HB_K_WRITE_QUOTA_MB, "child.ini", 2);
	/* Only these keys know the word; the command line never lifts. */
	cr_assert_eq(hb_policy_tighten(&p, HB_K_WRITE_QUOTA_MB,
				       "--write-quota-mb", "none", &d),
		     -EINVAL);
	hb_policy_free(&p);
	expect_error("[execution]\nmemory_mb = none\n", 2, "memory_mb");
}

/* Unset is no bound: the command line may set one, then only lower it. */
Test(policy_write_quota, tighten)
{
	struct hb_policy p;
	struct hb_diag d = {0};

	cr_assert_eq(parse_text(&p, "", &d), 0);
	cr_assert_eq(hb_policy_tighten(&p, HB_K_WRITE_QUOTA_FILES,
				       "--write-quota-files", "500", &d),
		     0, "%s", d.msg);
	cr_assert_eq(p.write_quota_files, 500);
	cr_assert_eq(hb_policy_tighten(&p, HB_K_WRITE_QUOTA_FILES,
				       "--write-quota-files", "501", &d),
		     -EPERM);
	cr_assert_eq(p.write_quota_files, 500);
	cr_assert_eq(hb_policy_tighten(&p, HB_K_WRITE_QUOTA_MB,
				       "--write-quota-mb", "0", &d),
		     -EINVAL);
	cr_assert_eq(hb_policy_tighten(&p, HB_K_WRITE_QUOTA_MB,
				       "--write-quota-mb", "8", &d),
		     0);
	cr_assert_eq(p.write_quota_mb, 8);
	hb_policy_free(&p);
}

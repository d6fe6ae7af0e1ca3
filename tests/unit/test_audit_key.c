/* SPDX-License-Identifier: MIT */
/* audit_key.c: the key bound to an audit directory; writers and readers
 * find it there, and signed and unsigned records never mix. */
#include "audit.h"
#include "audit_helpers.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>

/* cppcheck-suppress unknownMacro */
TestSuite(audit_key, .init = audit_setup, .fini = audit_teardown);

static int reopen(const char *key_file, unsigned flags, struct hb_diag *d)
{
	hb_audit_close(&audit);
	memset(d, 0, sizeof(*d));
	return hb_audit_open(&audit, logdir, key_file,
			     HB_AUDIT_CREATE | HB_AUDIT_BOUND | flags, d);
}

/* Bind the test's key to logdir after n unsigned records. */
static char *bind_after(int n)
{
	char *kf = write_key(HB_AUDIT_KEY_LEN);
	struct hb_diag d = {0};

	open_log(false);
	if (n)
		append_notes(HB_LOG_EXEC, 1, n, NULL);
	cr_assert_eq(hb_audit_bind(&audit, kf, false, &d), 0, "%s", d.msg);
	return kf;
}

Test(audit_key, the_key_id_is_an_hmac_of_a_fixed_text)
{
	char got[HB_SHA256_HEX], want[HB_SHA256_HEX];
	const char *text = "hivebox audit key id";

	hb_audit_key_id(key, got);
	ref_hmac(key, text, strlen(text), want);
	cr_assert_str_eq(got, want);
}

Test(audit_key, a_writer_finds_the_key_from_the_directory)
{
	struct hb_diag d = {0};
	char *report;

	bind_after(2);
	cr_assert_eq(reopen(NULL, HB_AUDIT_WRITER, &d), 0, "%s", d.msg);
	cr_assert(audit.have_key);
	cr_assert_eq(audit.binding, HB_BIND_KEY);
	cr_assert_eq(audit.signed_from[HB_LOG_EXEC], 2);
	cr_assert_eq(audit.signed_from[HB_LOG_SECURITY], 0);
	cr_assert_not(audit.warn_unsigned);
	append_notes(HB_LOG_EXEC, 3, 4, NULL);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, "HMAC-SHA-256 and hash chain"), "%s",
			   report);
	cr_assert_not_null(strstr(report, "2 records from before the key was "
					  "bound carry no HMAC"),
			   "%s", report);
}

Test(audit_key, a_writer_without_the_bound_key_is_refused)
{
	struct hb_diag d = {0};
	char *kf = bind_after(0);
	char *moved = keep(path_join(dir, "moved.key"));

	cr_assert_eq(rename(kf, moved), 0);
	cr_assert_lt(reopen(NULL, HB_AUDIT_WRITER, &d), 0);
	cr_assert_not_null(strstr(d.msg, "no unsigned record is added"), "%s",
			   d.msg);
	/* A reader goes on, without the key, and says why. */
	cr_assert_eq(reopen(NULL, 0, &d), 0, "%s", d.msg);
	cr_assert_not(audit.have_key);
	cr_assert_eq(audit.key_errno, ENOENT);
}

/* Binding again when the bound key is lost makes no key: a new one could
 * not sign the trail, and a stray key beside it would mislead. */
Test(audit_key, a_lost_bound_key_is_not_replaced)
{
	struct hb_diag d = {0};
	char *kf = bind_after(0);
	char *moved = keep(path_join(dir, "moved.key"));

	cr_assert_eq(rename(kf, moved), 0);
	cr_assert_eq(reopen(NULL, 0, &d), 0, "%s", d.msg);
	cr_assert_lt(hb_audit_bind(&audit, kf, false, &d), 0);
	cr_assert_not_null(strstr(d.msg, "which is missing"), "%s", d.msg);
	cr_assert_eq(access(kf, F_OK), -1, "a new key was made at %s", kf);
}

Test(audit_key, another_key_is_not_the_directorys)
{
	struct hb_diag d = {0};

	bind_after(0);
	key[0] ^= 1;
	char *other = write_key(HB_AUDIT_KEY_LEN);
	cr_assert_lt(reopen(other, HB_AUDIT_WRITER, &d), 0);
	cr_assert_not_null(strstr(d.msg, "is not the key bound"), "%s", d.msg);
	cr_assert_lt(reopen(other, 0, &d), 0);
}

Test(audit_key, no_binding_refuses_a_key_and_warns_root)
{
	struct hb_diag d = {0};
	char *kf = write_key(HB_AUDIT_KEY_LEN);

	cr_assert_lt(reopen(kf, HB_AUDIT_WRITER, &d), 0);
	cr_assert_not_null(strstr(d.msg, "no key is bound"), "%s", d.msg);
	cr_assert_eq(reopen(NULL, HB_AUDIT_WRITER, &d), 0, "%s", d.msg);
	cr_assert_not(audit.have_key);
	cr_assert_eq(audit.warn_unsigned, geteuid() == 0);
	/* A reader of an old trail may still check its HMACs. */
	cr_assert_eq(reopen(kf, 0, &d), 0, "%s", d.msg);
	cr_assert(audit.have_key);
}

Test(audit_key, an_unbound_trail_with_signed_records_refuses_a_writer)
{
	struct hb_diag d = {0};

	open_log(true); /* as an older hivebox signed, with no binding */
	append_notes(HB_LOG_EXEC, 1, 2, NULL);
	cr_assert_lt(reopen(NULL, HB_AUDIT_WRITER, &d), 0);
	cr_assert_not_null(strstr(d.msg, "holds signed records"), "%s", d.msg);
	cr_assert_lt(hb_audit_bind(&audit, "/nonexistent", true, &d), 0);
}

Test(audit_key, a_binding_moved_under_a_writer_stops_its_appends)
{
	struct hb_diag d = {0};
	char *kf = write_key(HB_AUDIT_KEY_LEN);
	struct hb_audit other;
	json_object *rec = json_object_new_object();

	cr_assert_eq(reopen(NULL, HB_AUDIT_WRITER, &d), 0, "%s", d.msg);
	cr_assert_eq(hb_audit_open(&other, logdir, NULL, 0, &d), 0);
	cr_assert_eq(hb_audit_bind(&other, kf, false, &d), 0, "%s", d.msg);
	hb_audit_close(&other);
	cr_assert_eq(hb_audit_binding_current(&audit), -ESTALE);
	cr_assert_eq(hb_audit_append(&audit, HB_LOG_EXEC, rec, NULL), -ESTALE);
	/* The lock made the file; nothing went into it. */
	cr_assert_str_eq(keep(read_text(logdir, LOG)), "");
}

Test(audit_key, a_rewritten_binding_fails_verify)
{
	struct hb_diag d = {0};
	char *path = keep(path_join(logdir, HB_AUDIT_BINDING)), *report;
	char *text;

	bind_after(1);
	text = keep(read_text(logdir, HB_AUDIT_BINDING));
	/* Moving signed_from up would let unsigned records pass. */
	text = replaced(text, "\"execution_audit.log\":1",
			"\"execution_audit.log\":9");
	cr_assert_eq(unlink(path), 0);
	make_file(logdir, HB_AUDIT_BINDING, text);
	cr_assert_eq(chmod(path, 0644), 0);
	cr_assert_lt(reopen(NULL, HB_AUDIT_WRITER, &d), 0);
	cr_assert_not_null(strstr(d.msg, "does not match its key's HMAC"), "%s",
			   d.msg);
	cr_assert_eq(reopen(NULL, 0, &d), 0, "%s", d.msg);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 1, "%s", report);
	cr_assert_not_null(strstr(report, "key binding does not match"), "%s",
			   report);
}

Test(audit_key, a_binding_others_may_write_is_not_trusted)
{
	struct hb_diag d = {0};
	char *path = keep(path_join(logdir, HB_AUDIT_BINDING));

	bind_after(0);
	cr_assert_eq(chmod(path, 0666), 0);
	cr_assert_lt(reopen(NULL, 0, &d), 0);
	cr_assert_not_null(strstr(d.msg, "not trusted"), "%s", d.msg);
}

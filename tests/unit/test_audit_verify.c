/* SPDX-License-Identifier: MIT */
/* audit_verify.c: verify on hand-tampered logs names the first bad
 * record and says why. */
#include "audit.h"
#include "audit_helpers.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>

/* cppcheck-suppress unknownMacro */
TestSuite(audit_verify, .init = audit_setup, .fini = audit_teardown);

static void write_head(unsigned long long seq, const char *hash,
		       const char *mac)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"file\":\"%s\",\"seq\":%llu,\"hash\":\"%s\"%s%s%s}\n", LOG,
		 seq, hash, mac ? ",\"hmac\":\"" : "", mac ? mac : "",
		 mac ? "\"" : "");
	make_file(logdir, LOG ".head", text);
}

/* ---- Verifying ---- */

Test(audit_verify, intact_without_key)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], *report, want[128];
	const char *ok = LOG ": OK, 3 records in 1 file, hash chain verified; "
			     "no key, so no HMAC checked\n";

	three_records(false, v, h);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert(strncmp(report, ok, strlen(ok)) == 0, "%s", report);
	cr_assert_not_null(strstr(report, "\n  head: matches seq 3\n"), "%s",
			   report);
	snprintf(want, sizeof(want), "\n  append-only flag: %s\n",
		 flag_word(LOG));
	cr_assert_not_null(strstr(report, want), "%s", report);
}

Test(audit_verify, intact_with_key)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], *report;
	const char *want = LOG ": OK, 3 records in 1 file, HMAC-SHA-256 and "
			       "hash chain verified\n";

	three_records(true, v, h);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert(strncmp(report, want, strlen(want)) == 0, "%s", report);
	cr_assert_null(strstr(report, "could not be checked"), "%s", report);
}

Test(audit_verify, hmac_unchecked_without_the_key)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], *report;
	struct hb_diag d = {0};

	three_records(true, v, h);
	hb_audit_close(&audit);
	cr_assert_eq(hb_audit_open(&audit, logdir, NULL, 0, &d), 0);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, "no key, so no HMAC checked\n"
					  "  3 records carry an HMAC that "
					  "could not be checked"),
			   "%s", report);
}

Test(audit_verify, no_records_yet)
{
	char *report;

	open_log(false);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0);
	cr_assert_str_eq(report, LOG ": no records yet\n");
}

/* Records without their anchor: the head was removed, and with it the
 * only way to see a cut tail. */
Test(audit_verify, head_missing_fails)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], *report;

	three_records(false, v, h);
	remove_log_file(LOG ".head");
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 1, "%s", report);
	cr_assert_not_null(strstr(report, "the head file is missing"), "%s",
			   report);
}

Test(audit_verify, head_behind_is_noted)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], *report;

	three_records(false, v, h);
	write_head(2, h[1], NULL);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, "  head: seq 2, behind the log's 3 "),
			   "%s", report);
}

Test(audit_verify, edited_byte)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	v[1] = replaced(v[1], "\"n\":2", "\"n\":7");
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":2",
		    "hash does not match the record's content (edited)\n");
}

Test(audit_verify, deleted_record)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];
	char *w[] = {NULL, NULL};

	three_records(false, v, h);
	w[0] = v[0];
	w[1] = v[2];
	log_write(LOG, w, 2, false);
	expect_fail(LOG ":2", "seq 3 follows seq 1: a record was deleted, "
			      "inserted or moved\n");
}

Test(audit_verify, inserted_record)
{
	char h[3][HB_SHA256_HEX], fh[HB_SHA256_HEX], *v[MAX_LINES];
	json_object *rec = keep_json(note(9));
	char *forged, *w[4];

	three_records(false, v, h);
	forged = keep(hb_audit_encode(rec, 2, h[0], NULL, fh));
	forged[strlen(forged) - 1] = '\0';
	w[0] = v[0];
	w[1] = forged; /* correctly hashed and linked: seq gives it away */
	w[2] = v[1];
	w[3] = v[2];
	log_write(LOG, w, 4, false);
	expect_fail(LOG ":3", "seq 2 follows seq 2: a record was deleted, "
			      "inserted or moved\n");
}

Test(audit_verify, swapped_records)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];
	char *w[3];

	three_records(false, v, h);
	w[0] = v[0];
	w[1] = v[2];
	w[2] = v[1];
	log_write(LOG, w, 3, false);
	expect_fail(LOG ":2", "seq 3 follows seq 1: ");
}

Test(audit_verify, prev_hash_broken)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	v[1] = rehashed(replaced(v[1], h[0], PREV));
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":2", "prev_hash is not the previous record's hash "
			      "(chain broken)\n");
}

Test(audit_verify, cut_tail)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	log_write(LOG, v, 2, false);
	expect_fail(LOG ":2", "the log ends before the head's last record "
			      "(tail truncated)\n");
}

Test(audit_verify, last_record_replaced)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	v[2] = rehashed(replaced(v[2], "\"n\":3", "\"n\":8"));
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":3", "the last record is not the one the head names "
			      "(replaced)\n");
}

Test(audit_verify, corrupt_line)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	v[1] = "this is not JSON";
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":2", "not a JSON object\n");
}

Test(audit_verify, torn_last_line)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	v[2][strlen(v[2]) / 2] = '\0';
	log_write(LOG, v, 3, true);
	expect_fail(LOG ":3", "the last record is cut short (truncated "
			      "mid-record)\n");
}

Test(audit_verify, hmac_stripped)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], *mark;

	three_records(true, v, h);
	mark = strstr(v[1], ",\"hmac\":\"");
	cr_assert_not_null(mark);
	strcpy(mark, "}");
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":2", "record has no HMAC although a key exists "
			      "(rewritten without the key?)\n");
}

Test(audit_verify, hmac_wrong_after_rehash)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(true, v, h);
	v[1] = rehashed(replaced(v[1], "\"n\":2", "\"n\":7"));
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":2",
		    "HMAC does not match (rewritten without the key)\n");
}

Test(audit_verify, head_hmac_wrong)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES], msg[128], mac[HB_SHA256_HEX];
	unsigned char other[HB_AUDIT_KEY_LEN];

	three_records(true, v, h);
	memset(other, 0x42, sizeof(other));
	snprintf(msg, sizeof(msg), "3:%s", h[2]);
	ref_hmac(other, msg, strlen(msg), mac);
	write_head(3, h[2], mac);
	expect_fail(LOG ".head:1", "head HMAC does not match (rewritten)\n");
	write_head(3, h[2], NULL);
	expect_fail(LOG ".head:1", "head HMAC does not match (rewritten)\n");
}

Test(audit_verify, first_record_does_not_start_the_chain)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];

	three_records(false, v, h);
	log_write(LOG, v + 1, 2, false);
	expect_fail(LOG ":1", "the first record does not start the chain "
			      "(records before it deleted?)\n");
}

/* The hash and HMAC cover the line only up to its "hash" member.  A
 * member slipped in after them (here a second "n", which json-c and so
 * `audit show` read in place of the first) must not pass as intact. */
Test(audit_verify, member_after_the_hash_is_caught)
{
	char h[3][HB_SHA256_HEX], *v[MAX_LINES];
	size_t len;

	three_records(true, v, h);
	len = strlen(v[1]);
	cr_assert_eq(v[1][len - 1], '}');
	v[1] = replaced(v[1], "\"}", "\",\"n\":99}");
	cr_assert_eq(int_of(parse(v[1]), "n"), 99, "the forged value is read");
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":2", "record has no hash, or something after it");
}

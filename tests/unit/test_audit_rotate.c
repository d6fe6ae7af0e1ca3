/* SPDX-License-Identifier: MIT */
/* audit_rotate.c: rotation continues the chain across files, and
 * audit.c stores each policy text once. */
#include "audit.h"
#include "audit_helpers.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

/* cppcheck-suppress unknownMacro */
TestSuite(audit_rotate, .init = audit_setup, .fini = audit_teardown);

/* ---- Rotating ---- */

static char *first_rotated(size_t *n)
{
	struct hb_strv files = {0};
	char *name;
	int r = hb_audit_rotated_files(&audit, LOG, &files);

	*n = files.n;
	name = files.n ? keep(strdup(files.v[0])) : NULL;
	hb_strv_clear(&files);
	cr_assert_eq(r, 0);
	return name;
}

Test(audit_rotate, continues_the_chain)
{
	char h[3][HB_SHA256_HEX], n5[1][HB_SHA256_HEX], *v[MAX_LINES], *w[3];
	char want[HB_SHA256_HEX], *report, *name;
	const char *body;
	json_object *o, *head;
	size_t n;

	three_records(true, v, h);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	name = first_rotated(&n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(name, LOG ".000000000003");
	cr_assert_eq(log_lines(name, w), 3);
	for (size_t i = 0; i < 3; i++)
		cr_assert_str_eq(w[i], v[i]);
	cr_assert_eq(log_lines(LOG, w), 1);
	o = parse(w[0]);
	cr_assert_str_eq(str_of(o, "type"), "rotation");
	cr_assert_str_eq(str_of(o, "previous_file"), LOG ".000000000003");
	cr_assert_eq(int_of(o, "previous_seq"), 3);
	cr_assert_eq(int_of(o, "seq"), 4);
	cr_assert_str_eq(str_of(o, "prev_hash"), h[2]);
	body = covered(w[0]);
	ref_hmac(key, body, strlen(body), want);
	cr_assert_str_eq(str_of(o, "hmac"), want);
	head = parse(keep(read_text(logdir, LOG ".head")));
	cr_assert_eq(int_of(head, "seq"), 4);
	cr_assert_str_eq(str_of(head, "hash"), str_of(o, "hash"));
	append_notes(HB_LOG_EXEC, 5, 5, n5);
	cr_assert_eq(log_lines(LOG, w), 2);
	cr_assert_eq(int_of(parse(w[1]), "seq"), 5);
	cr_assert_str_eq(str_of(parse(w[1]), "prev_hash"), str_of(o, "hash"));
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, ": OK, 5 records in 2 files, "), "%s",
			   report);
	cr_assert_not(exists(SEC), "the security log was not touched");
}

Test(audit_rotate, append_only_kept_on_both_files)
{
	char *report;

	need_append_only();
	open_log_flags(false, HB_AUDIT_APPEND_ONLY);
	append_notes(HB_LOG_EXEC, 1, 2, NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	cr_assert_str_eq(flag_word(LOG ".000000000002"), "set");
	cr_assert_str_eq(flag_word(LOG), "set");
	append_notes(HB_LOG_EXEC, 4, 4, NULL);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, ": OK, 4 records in 2 files, "), "%s",
			   report);
}

Test(audit_rotate, plain_log_stays_plain)
{
	open_log(false);
	append_notes(HB_LOG_EXEC, 1, 2, NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	cr_assert_str_neq(flag_word(LOG ".000000000002"), "set");
	cr_assert_str_neq(flag_word(LOG), "set");
}

Test(audit_rotate, empty_log_left_alone)
{
	struct stat st;
	size_t n;

	open_log(false);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	cr_assert_not(exists(LOG));
	make_file(logdir, LOG, "");
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	cr_assert_null(first_rotated(&n));
	cr_assert_eq(n, 0);
	cr_assert_eq(fstatat(audit.dirfd, LOG, &st, 0), 0);
	cr_assert_eq(st.st_size, 0);
	cr_assert_not(exists(LOG ".head"));
}

Test(audit_rotate, torn_log_not_rotated)
{
	size_t n;

	open_log(false);
	append_notes(HB_LOG_EXEC, 1, 1, NULL);
	log_append_raw(LOG, "{\"seq\":2");
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), -EBADMSG);
	cr_assert_null(first_rotated(&n));
}

Test(audit_rotate, rotated_files_listed_oldest_first)
{
	const char *others[] = {LOG,
				LOG ".head",
				LOG ".12",
				LOG ".00000000000a",
				LOG ".0000000000001",
				SEC ".000000000001",
				"x" LOG ".000000000005"};
	const unsigned long long seqs[] = {2,	9,   10,   35,
					   100, 123, 4096, 999999999999ULL};
	struct hb_strv files = {0};
	char got[1024] = "", want[1024] = "", name[64];
	int r;

	open_log(false);
	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		make_file(logdir, others[i], "");
	/* Newest first, so that the order on disk is not the answer. */
	for (size_t i = ARRAY_SIZE(seqs); i-- > 0;) {
		snprintf(name, sizeof(name), "%s.%012llu", LOG, seqs[i]);
		make_file(logdir, name, "");
	}
	for (size_t i = 0; i < ARRAY_SIZE(seqs); i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 "%s%s.%012llu", i ? " " : "", LOG, seqs[i]);
	r = hb_audit_rotated_files(&audit, LOG, &files);
	for (size_t i = 0; i < files.n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
			 i ? " " : "", files.v[i]);
	hb_strv_clear(&files);
	cr_assert_eq(r, 0);
	cr_assert_str_eq(got, want);
}

Test(audit_rotate, oldest_files_removed)
{
	char *report;

	open_log(false);
	append_notes(HB_LOG_EXEC, 1, 2, NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	append_notes(HB_LOG_EXEC, 4, 4, NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	append_notes(HB_LOG_EXEC, 6, 6, NULL);
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, ": OK, 6 records in 3 files, "), "%s",
			   report);
	cr_assert_null(strstr(report, "begins with a rotation"), "%s", report);
	/* A file from the middle: the chain has a gap. */
	remove_log_file(LOG ".000000000004");
	expect_fail(LOG ":1", "seq 5 follows seq 2: ");
	/* The oldest files: allowed, and noted. */
	remove_log_file(LOG ".000000000002");
	cr_assert_eq(verify_log(HB_LOG_EXEC, &report), 0, "%s", report);
	cr_assert_not_null(strstr(report, ": OK, 2 records in 1 file, "), "%s",
			   report);
	cr_assert_not_null(strstr(report, "\n  the oldest file left begins "
					  "with a rotation; older files were "
					  "removed\n"),
			   "%s", report);
}

/* After a rotation the file:line of a cut tail is still the line in the
 * current file, not a count over every file. */
Test(audit_rotate, cut_tail_after_rotation_names_the_line)
{
	char *v[MAX_LINES];

	open_log(false);
	append_notes(HB_LOG_EXEC, 1, 3, NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	append_notes(HB_LOG_EXEC, 5, 6, NULL);
	cr_assert_eq(log_lines(LOG, v), 3);
	log_write(LOG, v, 2, false);
	expect_fail(LOG ":2", "the log ends before the head's last record "
			      "(tail truncated)\n");
}

/* The same for a last record replaced after a rotation. */
Test(audit_rotate, replaced_after_rotation_names_the_line)
{
	char *v[MAX_LINES];

	open_log(false);
	append_notes(HB_LOG_EXEC, 1, 3, NULL);
	cr_assert_eq(hb_audit_rotate(&audit, HB_LOG_EXEC), 0);
	append_notes(HB_LOG_EXEC, 5, 6, NULL);
	cr_assert_eq(log_lines(LOG, v), 3);
	v[2] = rehashed(replaced(v[2], "\"n\":6", "\"n\":8"));
	log_write(LOG, v, 3, false);
	expect_fail(LOG ":3", "the last record is not the one the head names "
			      "(replaced)\n");
}

/* ---- Stored policies ---- */

static size_t entries(const char *name)
{
	char *path = keep(path_join(logdir, name));
	DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	cr_assert_not_null(d, "%s: %s", path, strerror(errno));
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

Test(audit_rotate, store_policy_once_by_hash)
{
	const char *text = "[limits]\ntimeout_seconds = 5\n";
	char sha[HB_SHA256_HEX], again[HB_SHA256_HEX], want[HB_SHA256_HEX];
	char name[128], *stored;

	open_log(false);
	cr_assert_eq(hb_audit_store_policy(&audit, text, sha), 0);
	ref_sha256(text, strlen(text), want);
	cr_assert_str_eq(sha, want);
	snprintf(name, sizeof(name), "policies/%s.ini", want);
	stored = keep(read_text(logdir, name));
	cr_assert_not_null(stored, "no %s", name);
	cr_assert_str_eq(stored, text);
	cr_assert_eq(entries("policies"), 1);
	/* Once there, the file is not written again. */
	make_file(logdir, name, "left alone\n");
	cr_assert_eq(hb_audit_store_policy(&audit, text, again), 0);
	cr_assert_str_eq(again, want);
	cr_assert_str_eq(keep(read_text(logdir, name)), "left alone\n");
	cr_assert_eq(entries("policies"), 1);
	cr_assert_eq(hb_audit_store_policy(&audit, "[other]\n", again), 0);
	cr_assert_str_neq(again, want);
	cr_assert_eq(entries("policies"), 2);
}

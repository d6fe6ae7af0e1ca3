/* SPDX-License-Identifier: MIT */
/* The write quota's accounting: what each file gained since the run first
 * touched it, summed. */
#include "quota.h"
#include "result.h"

#include <criterion/criterion.h>
#include <signal.h>

#define MIB (1024ull * 1024)

Test(quota_ledger, a_new_file_counts_from_zero)
{
	struct hb_quota_ledger l = {0};

	cr_assert_eq(hb_quota_ledger_note(&l, 1, 10, true, 4096), 0);
	cr_assert_eq(l.added, 4096);
	cr_assert_eq(hb_quota_ledger_note(&l, 1, 10, true, 3 * MIB), 0);
	cr_assert_eq(l.added, 3 * MIB, "the latest size, not a sum of sizes");
	hb_quota_ledger_free(&l);
}

Test(quota_ledger, an_old_file_counts_from_its_first_size)
{
	struct hb_quota_ledger l = {0};

	cr_assert_eq(hb_quota_ledger_note(&l, 1, 7, false, 100 * MIB), 0);
	cr_assert_eq(l.added, 0);
	cr_assert_eq(hb_quota_ledger_note(&l, 1, 7, false, 101 * MIB), 0);
	cr_assert_eq(l.added, MIB);
	/* Truncated: it gives back what it had gained, never more. */
	cr_assert_eq(hb_quota_ledger_note(&l, 1, 7, false, 0), 0);
	cr_assert_eq(l.added, 0);
	hb_quota_ledger_free(&l);
}

Test(quota_ledger, files_are_told_apart_by_device_and_inode)
{
	struct hb_quota_ledger l = {0};

	cr_assert_eq(hb_quota_ledger_note(&l, 1, 5, true, 1000), 0);
	cr_assert_eq(hb_quota_ledger_note(&l, 2, 5, true, 2000), 0);
	cr_assert_eq(hb_quota_ledger_note(&l, 1, 6, false, 9000), 0);
	cr_assert_eq(l.n, 3);
	cr_assert_eq(l.added, 3000);
	cr_assert_eq(hb_quota_ledger_note(&l, 1, 6, false, 9500), 0);
	cr_assert_eq(l.added, 3500);
	hb_quota_ledger_free(&l);
}

/* Past its first table: every file kept, the sum exact. */
Test(quota_ledger, grows_without_losing_a_file)
{
	struct hb_quota_ledger l = {0};
	unsigned long long want = 0;

	for (ino_t i = 1; i <= 100000; i++) {
		cr_assert_eq(hb_quota_ledger_note(&l, 3, i, true, i), 0);
		want += i;
	}
	cr_assert_eq(l.n, 100000);
	cr_assert_eq(l.added, want);
	for (ino_t i = 1; i <= 100000; i++)
		cr_assert_eq(hb_quota_ledger_note(&l, 3, i, true, i + 1), 0);
	cr_assert_eq(l.n, 100000, "found again, not added twice");
	cr_assert_eq(l.added, want + 100000);
	hb_quota_ledger_free(&l);
	cr_assert_null(l.v);
}

Test(quota, over_only_past_a_set_quota)
{
	struct hb_quota q = {.bytes_fd = -1, .files_fd = -1};

	q.files = 1000000;
	q.ledger.added = 1ull << 40;
	cr_assert_not(hb_quota_over(&q), "no quota: never over");
	q.max_files = 1000000;
	cr_assert_not(hb_quota_over(&q), "at the quota is not past it");
	q.files++;
	cr_assert(hb_quota_over(&q));
	q = (struct hb_quota){
		.max_bytes = 4 * MIB, .bytes_fd = -1, .files_fd = -1};
	q.ledger.added = 4 * MIB;
	cr_assert_not(hb_quota_over(&q));
	q.ledger.added++;
	cr_assert(hb_quota_over(&q));
}

Test(quota, the_result_says_write_quota)
{
	struct hb_result r = {0};

	hb_result_write_quota(&r, true);
	cr_assert_str_eq(hb_reason_name(r.reason), "write_quota");
	cr_assert_eq(r.signal, SIGKILL);
	cr_assert_eq(r.hivebox_exit, 128 + SIGKILL);
	/* Ended on its own past the quota: no signal, the same status. */
	r = (struct hb_result){0};
	hb_result_write_quota(&r, false);
	cr_assert_eq(r.reason, HB_REASON_WRITE_QUOTA);
	cr_assert_eq(r.signal, 0);
	cr_assert_eq(r.hivebox_exit, 128 + SIGKILL);
}

/* SPDX-License-Identifier: MIT */
/* policy_explain.c: weakenings weighed, warnings found, from INI text. */
#include "helpers.h"
#include "policy_explain.h"

#include <criterion/criterion.h>
#include <string.h>

static unsigned score_of(const char *text)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	struct hb_exposure e;

	cr_assert_eq(parse_text(&p, text, &d), 0, "%s", d.msg);
	cr_assert_eq(hb_policy_explain(&p, "/srv", &e), 0);
	hb_policy_free(&p);
	return e.score;
}

Test(policy_explain, weights_add_up_and_cap_at_ten)
{
	cr_assert_eq(score_of("[syscalls]\ndefault = deny\nallow = @python\n"
			      "[filesystem]\nblocked_operations = delete\n"
			      "[analysis]\nrefuse_at = high\n"),
		     0);
	/* The gate off and no blocked operations: 0.5 each. */
	cr_assert_eq(score_of("[syscalls]\ndefault = deny\nallow = @python\n"),
		     10);
	/* Relative read_write, judged from /srv: 0.5, and no quota 0.5. */
	cr_assert_eq(score_of("[syscalls]\ndefault = deny\nallow = @python\n"
			      "[filesystem]\nread_write = out\n"),
		     20);
	cr_assert_eq(score_of("[identity]\nhost_uid = root\n[filesystem]\n"
			      "read_write = /\n"),
		     100);
}

Test(policy_explain, heaviest_first_with_keys)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	struct hb_exposure e;

	cr_assert_eq(parse_text(&p, "[filesystem]\nread_write = /etc\n", &d),
		     0);
	cr_assert_eq(hb_policy_explain(&p, "/", &e), 0);
	cr_assert_eq(e.w[0].key, HB_K_READ_WRITE);
	cr_assert_eq(e.w[0].weight, 20);
	cr_assert_str_eq(e.w[0].what,
			 "read_write = /etc: a system directory is writable");
	for (size_t i = 1; i < e.n; i++)
		cr_assert_geq(e.w[i - 1].weight, e.w[i].weight);
	hb_policy_free(&p);
}

Test(policy_lint, warnings_in_line_order)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	struct hb_lint l;

	cr_assert_eq(parse_text(&p,
				"[syscalls]\ndefault = deny\nallow = @python\n"
				"[execution]\ntimeout_seconds = 100000\n"
				"[filesystem]\nread_only = /a\nread_write = "
				"/a/b\nwrite_quota_mb = 1\n",
				&d),
		     0, "%s", d.msg);
	cr_assert_eq(hb_policy_lint(&p, NULL, "/", &l), 0);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.w[0].key, HB_K_TIMEOUT);
	cr_assert_eq(l.w[1].key, HB_K_READ_WRITE);
	hb_policy_free(&p);
}

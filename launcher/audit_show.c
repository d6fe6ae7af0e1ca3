/* SPDX-License-Identifier: MIT */
#include "audit_show.h"

/* Not built yet: the helper fills this in. */
int hb_audit_show(struct hb_audit *a, const struct hb_audit_query *q, FILE *out)
{
	(void)a;
	(void)q;
	(void)out;
	return -ENOSYS;
}

int hb_audit_stats(struct hb_audit *a, const struct hb_audit_query *q,
		   FILE *out)
{
	(void)a;
	(void)q;
	(void)out;
	return -ENOSYS;
}

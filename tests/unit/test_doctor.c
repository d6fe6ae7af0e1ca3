/* SPDX-License-Identifier: MIT */
/* doctor.c: the route overlap, the verdicts and exit status, the table
 * and its JSON. */
#include "doctor.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

static uint32_t ip(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

Test(doctor, overlap)
{
	uint32_t pool = ip("10.251.0.0");

	cr_assert(hb_doctor_overlaps(pool, 16, ip("10.251.7.0"), 24));
	cr_assert(hb_doctor_overlaps(pool, 16, ip("10.0.0.0"), 8));
	cr_assert(hb_doctor_overlaps(pool, 16, ip("10.251.0.0"), 16));
	cr_assert(hb_doctor_overlaps(pool, 16, ip("10.251.255.1"), 32));
	cr_assert_not(hb_doctor_overlaps(pool, 16, ip("10.252.0.0"), 16));
	cr_assert_not(hb_doctor_overlaps(pool, 16, ip("10.250.255.0"), 24));
	cr_assert_not(hb_doctor_overlaps(pool, 16, ip("192.168.1.0"), 24));
	/* A default route is less specific than every route of the pool. */
	cr_assert_not(hb_doctor_overlaps(pool, 16, 0, 0));
	cr_assert_not(hb_doctor_overlaps(pool, 16, ip("10.251.0.0"), 33));
}

Test(doctor, exit_status)
{
	static struct hb_doctor d;

	memset(&d, 0, sizeof(d));
	hb_doctor_add(&d, "a", HB_VERDICT_OK, true, "x");
	hb_doctor_add(&d, "b", HB_VERDICT_WARN, true, "x");
	cr_assert_eq(hb_doctor_exit(&d), 0);
	hb_doctor_add(&d, "c", HB_VERDICT_FAIL, false, "x");
	cr_assert_eq(hb_doctor_exit(&d), 1);
	hb_doctor_add(&d, "d", HB_VERDICT_FAIL, true, "x");
	cr_assert_eq(hb_doctor_exit(&d), 2);
}

/* Every row is kept, however many: the 200th policy's FAIL is seen and
 * decides the exit. */
Test(doctor, the_table_keeps_every_row)
{
	struct hb_doctor d = {0};
	char *out = NULL;
	size_t size = 0;
	FILE *f;

	for (int i = 0; i < 200; i++)
		cr_assert_not_null(
			hb_doctor_add(&d, "r", HB_VERDICT_OK, false, "%d", i));
	cr_assert_not_null(hb_doctor_add(&d, "policy late.ini", HB_VERDICT_FAIL,
					 false, "broken"));
	cr_assert_eq(d.n, 201);
	cr_assert_eq(hb_doctor_exit(&d), 1);
	f = open_memstream(&out, &size);
	cr_assert_not_null(f);
	hb_doctor_print(&d, f);
	fclose(f);
	cr_assert_not_null(strstr(out, "policy late.ini"), "%s", out);
	free(out);
	hb_doctor_fix(NULL, "no row, no crash");
	hb_doctor_free(&d);
	cr_assert_eq(d.n, 0);
}

static struct hb_doctor *sample(void)
{
	static struct hb_doctor d;
	struct hb_doctor_row *r;

	memset(&d, 0, sizeof(d));
	r = hb_doctor_add(&d, "seccomp user notification", HB_VERDICT_OK, true,
			  "available");
	hb_doctor_fix(r, "never shown for an ok row");
	r = hb_doctor_add(&d, "veth", HB_VERDICT_FAIL, false, "%s",
			  "Operation not supported");
	hb_doctor_fix(r, "modprobe veth");
	hb_doctor_without(r, "mode = none runs");
	hb_doctor_fixed(&d, "/x: created");
	return &d;
}

Test(doctor, table)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	hb_doctor_print(sample(), f);
	fclose(f);
	cr_assert_str_eq(
		text,
		"fixed: /x: created\n"
		"ok    seccomp user notification  available\n"
		"FAIL  veth                       Operation not supported\n"
		"                                 fix: modprobe veth\n"
		"                                 without it: mode = none "
		"runs\n"
		"strict.ini can run; some features cannot (FAIL rows above)\n");
	free(text);
}

Test(doctor, warnings_are_counted_in_the_verdict)
{
	static struct hb_doctor d;
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	struct hb_doctor_row *r;

	hb_doctor_add(&d, "Landlock", HB_VERDICT_OK, false, "%s", "ABI 7");
	for (int i = 0; i < 2; i++) {
		r = hb_doctor_add(&d, "audit key", HB_VERDICT_WARN, false, "%s",
				  "absent");
		hb_doctor_fix(r, "hivebox doctor --fix");
	}
	hb_doctor_print(&d, f);
	fclose(f);
	cr_assert_eq(hb_doctor_exit(&d), 0);
	cr_assert_not_null(strstr(text, "everything hivebox uses works here; "
					"2 warnings to mend\n"),
			   "%s", text);
	free(text);
}

Test(doctor, json)
{
	json_object *o = hb_doctor_json(sample()), *rows, *r;

	cr_assert(json_object_object_get_ex(o, "rows", &rows));
	cr_assert_eq(json_object_array_length(rows), 2);
	r = json_object_array_get_idx(rows, 0);
	cr_assert_str_eq(
		json_object_get_string(json_object_object_get(r, "verdict")),
		"ok");
	cr_assert_null(json_object_object_get(r, "fix"));
	cr_assert(json_object_get_boolean(
		json_object_object_get(r, "needed_by_strict")));
	r = json_object_array_get_idx(rows, 1);
	cr_assert_str_eq(
		json_object_get_string(json_object_object_get(r, "verdict")),
		"fail");
	cr_assert_str_eq(
		json_object_get_string(json_object_object_get(r, "without")),
		"mode = none runs");
	cr_assert_eq(json_object_get_int(json_object_object_get(o, "exit")), 1);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(
				 json_object_object_get(o, "fixed"), 0)),
			 "/x: created");
	json_object_put(o);
}

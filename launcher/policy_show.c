/* SPDX-License-Identifier: MIT */
/* hivebox policy show: the effective policy as INI, each value with
 * where it came from.  The output parses again to the same values. */
#include "policy_internal.h"

#include <string.h>

static void show_origin(const struct hb_policy *p, enum hb_key key, FILE *out)
{
	char where[HB_ORIGIN_TEXT_MAX];
	/* A file without a line is an option of the command line. */
	bool option = p->origin[key].file && !p->origin[key].line;

	fprintf(out, "\t; %s%s\n", option ? "command line " : "",
		hb_policy_origin_text(p, key, where, sizeof(where)));
}

static void show_list(const struct hb_strv *l, FILE *out)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, "%s%s", i ? ", " : "", l->v[i]);
}

/* Is the value unset, or a default that no file can write (auto)? */
static bool unset(const struct hb_policy *p, const struct hb_key_def *k)
{
	const void *v = hb_key_cfield(p, k);

	switch (hb_storage_of(k->type)) {
	case HB_S_STR:
		return !*(char *const *)v;
	case HB_S_ENUM:
		return (unsigned)*(const int *)v >= k->n_choices;
	case HB_S_LIST:
		return ((const struct hb_strv *)v)->n == 0;
	case HB_S_U64:
		/* 0 where no file can write it: no quota. */
		return k->min > 0 && *(const unsigned long long *)v == 0;
	default:
		return false;
	}
}

/* set = NAME=value is one line per variable, each with its origin. */
static void show_repeated(const struct hb_policy *p, const struct hb_key_def *k,
			  FILE *out)
{
	const struct hb_strv *l = hb_key_cfield(p, k);

	for (size_t j = 0; j < l->n; j++) {
		fprintf(out, "%s = %s", k->name, l->v[j]);
		show_origin(p, hb_key_of(k), out);
	}
	if (!l->n)
		fprintf(out, "; %s = (none)\n", k->name);
}

static void show_value(const struct hb_policy *p, const struct hb_key_def *k,
		       bool origin, FILE *out)
{
	const void *v = hb_key_cfield(p, k);
	char uid[HB_HOST_UID_TEXT_MAX];

	fprintf(out, "%s = ", k->name);
	switch (hb_storage_of(k->type)) {
	case HB_S_U64:
		fprintf(out, "%llu", *(const unsigned long long *)v);
		break;
	case HB_S_STR:
		fputs(*(char *const *)v, out);
		break;
	case HB_S_ENUM:
		fputs(k->choices[*(const int *)v], out);
		break;
	case HB_S_UID:
		fputs(hb_host_uid_text(v, uid, sizeof(uid)), out);
		break;
	default:
		show_list(v, out);
	}
	if (origin)
		show_origin(p, hb_key_of(k), out);
	else
		fputc('\n', out);
}

void hb_policy_show(const struct hb_policy *p, FILE *out)
{
	const char *section = NULL;

	fprintf(out, "; effective policy of %s\n", p->path ? p->path : "?");
	for (size_t i = 0; i < ARRAY_SIZE(hb_keys); i++) {
		const struct hb_key_def *k = &hb_keys[i];
		if (k->merge == HB_MERGE_NONE || (k->hide_unset && unset(p, k)))
			continue;
		if (!section || strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, "\n[%s]\n", section);
		}
		if (k->type == HB_T_ENVSET) {
			show_repeated(p, k, out);
		} else if (k->none_word && unset(p, k) &&
			   p->origin[hb_key_of(k)].file) {
			/* A file lifted it: what it wrote reads back. */
			fprintf(out, "%s = none", k->name);
			show_origin(p, hb_key_of(k), out);
		} else if (unset(p, k)) {
			fprintf(out, "; %s = (%s)", k->name,
				k->unset ? k->unset : "none");
			show_origin(p, hb_key_of(k), out);
		} else {
			show_value(p, k, true, out);
		}
	}
}

/* What a policy's identity is made of: the rules, in the schema's order,
 * without origins, comments, the description, or any value that is
 * unset (a key lifted with "none" is as unset as one never written).
 * So the same rules reached along another extends chain, or written
 * inline, read the same. */
void hb_policy_canonical(const struct hb_policy *p, FILE *out)
{
	const char *section = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(hb_keys); i++) {
		const struct hb_key_def *k = &hb_keys[i];
		const struct hb_strv *l = hb_key_cfield(p, k);
		if (k->merge == HB_MERGE_NONE ||
		    hb_key_of(k) == HB_K_DESCRIPTION || unset(p, k))
			continue;
		if (!section || strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, "[%s]\n", section);
		}
		if (k->type != HB_T_ENVSET) {
			show_value(p, k, false, out);
			continue;
		}
		for (size_t j = 0; j < l->n; j++)
			fprintf(out, "%s = %s\n", k->name, l->v[j]);
	}
}

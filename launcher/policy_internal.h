/* SPDX-License-Identifier: MIT */
/* What the policy_*.c files share: the schema, one row per key
 * (policy_schema.c), and the helpers that read and write a value through
 * its row.  Nothing outside policy_*.c includes this. */
#pragma once

#include "policy.h"

#include <stddef.h>

enum hb_type {
	HB_T_EXTENDS,	 /* the parent policy: read first, stored nowhere */
	HB_T_U64,	 /* a whole number within [min, max] */
	HB_T_TEXT,	 /* free text */
	HB_T_ABSPATH,	 /* one absolute path */
	HB_T_PATHS,	 /* comma-separated paths */
	HB_T_NAMES,	 /* comma-separated environment variable names */
	HB_T_ENVSET,	 /* NAME=value, one per line, repeatable */
	HB_T_ENUM,	 /* one of the first n_choices words of choices */
	HB_T_UID,	 /* auto | root | a number */
	HB_T_SYSCALLS,	 /* comma-separated system calls and @groups */
	HB_T_OPERATIONS, /* comma-separated blocked_operations */
	HB_T_ERRNO,	 /* an errno name */
	HB_T_HOSTS,	 /* comma-separated host names and IPv4 addresses */
	HB_T_PORTS,	 /* comma-separated port numbers */
};

/* How a value combines along "extends" (the parent is read first). */
enum hb_merge {
	/* Not a value: each file names its own parent, once. */
	HB_MERGE_NONE,
	/* The child's value replaces the parent's; a second line in one
	 * file is an error. */
	HB_MERGE_REPLACE,
	/* The first line in a file replaces the parent's whole list; more
	 * lines in the same file add to it.  A child that names a list
	 * says all of it: nothing is inherited by accident. */
	HB_MERGE_LIST,
};

/* What an option of the command line may do to the value. */
enum hb_tighten_rule {
	HB_TIGHTEN_NEVER, /* nothing: only a policy file sets it */
	HB_TIGHTEN_LOWER, /* lower it (a smaller limit), never raise it */
};

/* How a value is stored in struct hb_policy, by type. */
enum hb_storage {
	HB_S_NONE,
	HB_S_U64,  /* unsigned long long */
	HB_S_STR,  /* char *, NULL when unset */
	HB_S_LIST, /* struct hb_strv */
	HB_S_ENUM, /* an enum, the size of an int */
	HB_S_UID,  /* struct hb_host_uid */
};

/* One row of the schema: everything about one key. */
struct hb_key_def {
	const char *section;
	const char *name;
	enum hb_type type;
	size_t offset; /* of the value in struct hb_policy */
	/* The built-in default: a number, an enum's value, or a string. */
	unsigned long long dflt;
	const char *dflt_str;
	unsigned long long min, max; /* HB_T_U64, HB_T_PORTS */
	const char *unit;	     /* HB_T_U64 */
	const char *const *choices;  /* HB_T_ENUM: its string table */
	size_t n_choices;	     /* how many of them a file may write */
	/* What "policy show" says of a value left unset, or of a default
	 * no file can write (auto): "(none)" if NULL. */
	const char *unset;
	bool hide_unset; /* "policy show" leaves it out when unset */
	/* HB_T_U64 whose unset value is 0, below min: a file may write
	 * "none" for it, which lifts what a policy it extends set. */
	bool none_word;
	enum hb_merge merge;
	enum hb_tighten_rule tighten;
};

/* Indexed by enum hb_key. */
extern const struct hb_key_def hb_keys[HB_K_MAX];

static inline enum hb_storage hb_storage_of(enum hb_type type)
{
	switch (type) {
	case HB_T_EXTENDS:
		return HB_S_NONE;
	case HB_T_U64:
		return HB_S_U64;
	case HB_T_TEXT:
	case HB_T_ABSPATH:
	case HB_T_ERRNO:
		return HB_S_STR;
	case HB_T_ENUM:
		return HB_S_ENUM;
	case HB_T_UID:
		return HB_S_UID;
	default:
		return HB_S_LIST;
	}
}

static inline void *hb_key_field(struct hb_policy *p,
				 const struct hb_key_def *k)
{
	return (char *)p + k->offset;
}

static inline const void *hb_key_cfield(const struct hb_policy *p,
					const struct hb_key_def *k)
{
	return (const char *)p + k->offset;
}

static inline enum hb_key hb_key_of(const struct hb_key_def *k)
{
	return (enum hb_key)(k - hb_keys);
}

/* The row of [section] name, or NULL. */
const struct hb_key_def *hb_key_find(const char *section, const char *name);
/* Does some key live in [section]? */
bool hb_section_known(const char *section);
/* The feature that [section] name would need and that is not built yet,
 * or NULL. */
const char *hb_key_unsupported(const char *section, const char *name);

/* The index of s in a string table of n entries (NULL ones skipped), or
 * -EINVAL. */
int hb_string_table_lookup(const char *const *table, size_t n, const char *s);

/* Record that key's value now comes from file:line (line 0: an option
 * of the command line). */
int hb_policy_set_origin(struct hb_policy *p, enum hb_key key, const char *file,
			 unsigned line);

/* Check one line's value against k's row and store it: a scalar replaces
 * what the field held, list items are added to it (policy_check.c).
 * Merging along extends is the caller's. */
int hb_policy_value_add(struct hb_policy *p, const struct hb_key_def *k,
			const char *value, const char *file, unsigned line,
			struct hb_diag *diag);

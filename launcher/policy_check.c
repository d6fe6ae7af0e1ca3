/* SPDX-License-Identifier: MIT */
/* Checking a policy: each value against its row as it is read, the
 * keys against each other once every file is merged, and what the
 * command line may change. */
#include "policy_internal.h"
#include "seccomp_names.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <string.h>

static bool valid_env_name(const char *s, size_t len)
{
	if (len == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* A destination: an IPv4 address or a DNS name (RFC 1123 labels).  IPv6
 * is refused by name, since the filter lets no IPv6 through at all. */
static int check_host(const struct hb_key_def *k, const char *item,
		      const char *file, unsigned line, struct hb_diag *diag)
{
	struct in6_addr a6;
	size_t len = strlen(item), label = 0;
	bool ok = len > 0 && len <= 253;

	if (inet_pton(AF_INET6, item, &a6) == 1)
		return hb_diag_set(diag, file, line,
				   "'%s' in %s is an IPv6 address; only IPv4 "
				   "destinations can be allowed",
				   item, k->name);
	for (size_t i = 0; ok && i <= len; i++) {
		char c = item[i];
		if (c == '.' || c == '\0') {
			ok = label > 0 && label <= 63 && item[i - 1] != '-';
			label = 0;
		} else if (isalnum((unsigned char)c) || (c == '-' && label)) {
			label++;
		} else {
			ok = false;
		}
	}
	if (!ok)
		return hb_diag_set(diag, file, line,
				   "'%s' in %s is neither an IPv4 address nor "
				   "a host name",
				   item, k->name);
	return 0;
}

/* The known names come from the operations table, so that the message
 * cannot fall behind it. */
static int unknown_operation(const struct hb_key_def *k, const char *item,
			     const char *file, unsigned line,
			     struct hb_diag *diag)
{
	char known[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < hb_n_operations && len < sizeof(known); i++)
		len += (size_t)snprintf(known + len, sizeof(known) - len,
					"%s%s", i ? ", " : "",
					hb_operations[i].name);
	return hb_diag_set(diag, file, line,
			   "unknown operation '%s' in %s (known: %s)", item,
			   k->name, known);
}

/* Split a comma-separated list; empty items are an error. */
static int split_list(const char *value, const struct hb_key_def *k,
		      struct hb_strv *out, const char *file, unsigned line,
		      struct hb_diag *diag)
{
	_cleanup_free_ char *copy = strdup(value);
	char *rest = copy, *tok;
	unsigned long long v = 0;

	if (!copy)
		return -ENOMEM;
	if (!*hb_strip(copy))
		return hb_diag_set(diag, file, line, "empty value for %s",
				   k->name);
	/* strsep, not strtok: "a,,b" has an empty item, and says so. */
	while ((tok = strsep(&rest, ","))) {
		char *item = hb_strip(tok);
		int r;
		if (!*item)
			return hb_diag_set(diag, file, line,
					   "empty item in the list for %s",
					   k->name);
		if (k->type == HB_T_SYSCALLS && !hb_syscall_name_known(item))
			return hb_diag_set(
				diag, file, line,
				"unknown system call or group '%s' in %s", item,
				k->name);
		if (k->type == HB_T_OPERATIONS && !hb_operation_find(item))
			return unknown_operation(k, item, file, line, diag);
		if (k->type == HB_T_HOSTS) {
			r = check_host(k, item, file, line, diag);
			if (r < 0)
				return r;
		}
		if (k->type == HB_T_PORTS &&
		    (hb_parse_u64(item, k->max, &v) < 0 || v < k->min))
			return hb_diag_set(diag, file, line,
					   "bad port '%s' in %s: expected a "
					   "number from %llu to %llu",
					   item, k->name, k->min, k->max);
		if (k->type == HB_T_NAMES &&
		    !valid_env_name(item, strlen(item)))
			return hb_diag_set(
				diag, file, line,
				"bad environment variable name '%s' in %s",
				item, k->name);
		r = hb_strv_push(out, item);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_u64(const struct hb_key_def *k, const char *value,
		     const char *file, unsigned line, unsigned long long *ret,
		     struct hb_diag *diag)
{
	int r;

	if (k->none_word && strcmp(value, "none") == 0) {
		*ret = 0;
		return 0;
	}
	r = hb_parse_u64(value, ULLONG_MAX, ret);
	if (r < 0 || *ret < k->min || *ret > k->max)
		return hb_diag_set(diag, file, line,
				   "bad value '%s' for %s: expected a whole "
				   "number of %s from %llu to %llu%s",
				   value, k->name, k->unit, k->min, k->max,
				   k->none_word ? ", or none" : "");
	return 0;
}

/* Which of the row's writable choices value is; the message lists
 * them. */
static int parse_enum(const struct hb_key_def *k, const char *value,
		      const char *file, unsigned line, int *ret,
		      struct hb_diag *diag)
{
	int v = hb_string_table_lookup(k->choices, k->n_choices, value);
	char expected[128] = "";
	size_t len = 0;

	if (v >= 0) {
		*ret = v;
		return 0;
	}
	for (size_t i = 0; i < k->n_choices && len < sizeof(expected); i++)
		len += (size_t)snprintf(expected + len, sizeof(expected) - len,
					"%s%s", i ? "|" : "", k->choices[i]);
	return hb_diag_set(diag, file, line,
			   "bad value '%s' for %s: expected %s", value, k->name,
			   expected);
}

static int parse_uid(const struct hb_key_def *k, const char *value,
		     const char *file, unsigned line, struct hb_host_uid *ret,
		     struct hb_diag *diag)
{
	int kind = hb_host_uid_kind_from_string(value);
	unsigned long long v;

	if (kind >= 0) {
		*ret = (struct hb_host_uid){
			.kind = (enum hb_host_uid_kind)kind};
		return 0;
	}
	if (hb_parse_u64(value, 4294967294ULL, &v) < 0 || v == 0)
		return hb_diag_set(diag, file, line,
				   "bad value '%s' for %s: expected auto, "
				   "root or a uid from 1 to 4294967294",
				   value, k->name);
	*ret = (struct hb_host_uid){.kind = HB_HOST_UID_NUMBER,
				    .uid = (uid_t)v};
	return 0;
}

static int check_str(const struct hb_key_def *k, const char *value,
		     const char *file, unsigned line, struct hb_diag *diag)
{
	if (k->type == HB_T_ABSPATH && value[0] != '/')
		return hb_diag_set(diag, file, line,
				   "%s must be an absolute path, not '%s'",
				   k->name, value);
	if (k->type == HB_T_ERRNO && hb_errno_from_name(value) < 0)
		return hb_diag_set(diag, file, line,
				   "unknown errno name '%s' for %s", value,
				   k->name);
	return 0;
}

static int replace_str(char **field, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

static int apply_envset(struct hb_strv *list, const char *value,
			const char *file, unsigned line, struct hb_diag *diag)
{
	const char *eq = strchr(value, '=');

	if (!eq || !valid_env_name(value, (size_t)(eq - value)))
		return hb_diag_set(
			diag, file, line,
			"bad value '%s' for set: expected NAME=value", value);
	return hb_strv_push(list, value);
}

/* Check a scalar value and store it in place of the parent's. */
static int replace_value(struct hb_policy *p, const struct hb_key_def *k,
			 const char *value, const char *file, unsigned line,
			 struct hb_diag *diag)
{
	void *field = hb_key_field(p, k);
	unsigned long long v;
	int ret;

	switch (hb_storage_of(k->type)) {
	case HB_S_U64:
		ret = check_u64(k, value, file, line, &v, diag);
		if (ret == 0)
			*(unsigned long long *)field = v;
		return ret;
	case HB_S_ENUM:
		return parse_enum(k, value, file, line, field, diag);
	case HB_S_UID:
		return parse_uid(k, value, file, line, field, diag);
	case HB_S_STR:
		ret = check_str(k, value, file, line, diag);
		return ret < 0 ? ret : replace_str(field, value);
	default:
		return -EINVAL;
	}
}

int hb_policy_value_add(struct hb_policy *p, const struct hb_key_def *k,
			const char *value, const char *file, unsigned line,
			struct hb_diag *diag)
{
	if (hb_storage_of(k->type) != HB_S_LIST)
		return replace_value(p, k, value, file, line, diag);
	if (k->type == HB_T_ENVSET)
		return apply_envset(hb_key_field(p, k), value, file, line,
				    diag);
	return split_list(value, k, hb_key_field(p, k), file, line, diag);
}

/* [syscalls]: allow goes with default = deny and deny with default =
 * allow; nothing may allow what is denied whatever the policy says. */
static int validate_syscalls(const struct hb_policy *p, struct hb_diag *diag)
{
	bool deny_default = p->syscalls_default == HB_SC_DENY;
	char where[HB_ORIGIN_TEXT_MAX];

	hb_policy_origin_text(p, HB_K_SC_DEFAULT, where, sizeof(where));
	if (!deny_default && p->syscalls_allow.n)
		return hb_diag_set(
			diag, hb_policy_origin(p, HB_K_SC_ALLOW),
			p->origin[HB_K_SC_ALLOW].line,
			"allow = %s contradicts default = allow (%s): "
			"everything is allowed already; list what to deny",
			p->syscalls_allow.v[0], where);
	if (deny_default && p->syscalls_deny.n)
		return hb_diag_set(diag, hb_policy_origin(p, HB_K_SC_DENY),
				   p->origin[HB_K_SC_DENY].line,
				   "deny = %s contradicts default = deny (%s): "
				   "everything not allowed is denied already",
				   p->syscalls_deny.v[0], where);
	for (size_t i = 0; i < p->syscalls_allow.n; i++)
		if (hb_syscall_always_denied(p->syscalls_allow.v[i]))
			return hb_diag_set(
				diag, hb_policy_origin(p, HB_K_SC_ALLOW),
				p->origin[HB_K_SC_ALLOW].line,
				"allow = %s: it is denied whatever the policy "
				"says",
				p->syscalls_allow.v[i]);
	return 0;
}

/* Destinations without mode = filtered are most likely a forgotten mode
 * line: refused unless some file says mode = none in so many words. */
static int validate_network(const struct hb_policy *p, struct hb_diag *diag)
{
	static const enum hb_key lists[] = {HB_K_NET_DOMAINS,
					    HB_K_NET_ALLOWED_PORTS,
					    HB_K_NET_BLOCKED_PORTS};

	if (p->network_mode != HB_NET_NONE || p->origin[HB_K_NETWORK_MODE].file)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		if (p->origin[lists[i]].file)
			return hb_diag_set(
				diag, hb_policy_origin(p, lists[i]),
				p->origin[lists[i]].line,
				"%s without mode = filtered: the network is "
				"none (loopback only) by default; add mode = "
				"filtered to [network]",
				hb_key_name(lists[i]));
	return 0;
}

int hb_policy_validate(const struct hb_policy *p, struct hb_diag *diag)
{
	char where[HB_ORIGIN_TEXT_MAX];
	int r = validate_syscalls(p, diag);

	if (r == 0)
		r = validate_network(p, diag);
	if (r < 0)
		return r;
	/* A path cannot be both read-only and read-write.  Paths are
	 * compared as written; the plan compares them again once they are
	 * absolute. */
	for (size_t i = 0; i < p->read_write.n; i++)
		if (hb_strv_contains(&p->read_only, p->read_write.v[i]))
			return hb_diag_set(
				diag, hb_policy_origin(p, HB_K_READ_WRITE),
				p->origin[HB_K_READ_WRITE].line,
				"'%s' is both read_only (%s) and read_write",
				p->read_write.v[i],
				hb_policy_origin_text(p, HB_K_READ_ONLY, where,
						      sizeof(where)));
	return 0;
}

int hb_policy_tighten(struct hb_policy *p, enum hb_key key, const char *option,
		      const char *value, struct hb_diag *diag)
{
	const struct hb_key_def *k =
		(unsigned)key < HB_K_MAX ? &hb_keys[key] : NULL;
	unsigned long long *field, v;

	/* Lowering is the one tightening there is so far. */
	if (!k || k->tighten != HB_TIGHTEN_LOWER ||
	    hb_storage_of(k->type) != HB_S_U64)
		return -EINVAL;
	field = hb_key_field(p, k);
	if (hb_parse_u64(value, ULLONG_MAX, &v) < 0 || v < k->min || v > k->max)
		return hb_diag_set(diag, NULL, 0,
				   "bad value '%s' for %s: expected a whole "
				   "number of %s from %llu to %llu",
				   value, option, k->unit, k->min, k->max);
	/* A key whose smallest value is 1 and that holds 0 is unset, which
	 * is no bound at all: any value tightens it. */
	if (v > *field && !(k->min > 0 && *field == 0)) {
		char where[HB_ORIGIN_TEXT_MAX];
		hb_diag_set(
			diag, NULL, 0,
			"%s %llu would loosen the policy's %s = %llu (%s); "
			"the command line may only tighten",
			option, v, k->name, *field,
			hb_policy_origin_text(p, key, where, sizeof(where)));
		return -EPERM;
	}
	*field = v;
	return hb_policy_set_origin(p, key, option, 0);
}

int hb_policy_shell_defaults(struct hb_policy *p, unsigned long long timeout)
{
	if (p->origin[HB_K_TIMEOUT].file)
		return 0;
	p->limits.timeout_seconds = timeout;
	return hb_policy_set_origin(p, HB_K_TIMEOUT, "hivebox shell's default",
				    0);
}

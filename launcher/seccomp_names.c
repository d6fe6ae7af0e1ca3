/* SPDX-License-Identifier: MIT */
/* The names a policy may use for system calls: calls, @groups, the
 * blocked_operations and errno names, and how they expand.  The policy
 * checks names with these and the filter builds on them; neither this
 * nor the tables in seccomp_groups.c knows the policy. */
#include "seccomp_names.h"

#include <seccomp.h>
#include <string.h>

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{"EPERM", EPERM},   {"EACCES", EACCES}, {"ENOSYS", ENOSYS},
	{"EINVAL", EINVAL}, {"EROFS", EROFS},	{"ENOTSUP", ENOTSUP},
	{"EIO", EIO},	    {"ENOENT", ENOENT},
};

int hb_errno_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(errnos); i++)
		if (strcmp(errnos[i].name, name) == 0)
			return errnos[i].value;
	return -1;
}

const char *hb_errno_name(int e)
{
	for (size_t i = 0; i < ARRAY_SIZE(errnos); i++)
		if (errnos[i].value == e)
			return errnos[i].name;
	return "?";
}

const struct hb_syscall_group *hb_syscall_group_find(const char *name)
{
	for (size_t i = 0; i < hb_n_syscall_groups; i++)
		if (strcmp(hb_syscall_groups[i].name, name) == 0)
			return &hb_syscall_groups[i];
	return NULL;
}

const struct hb_operation *hb_operation_find(const char *name)
{
	for (size_t i = 0; i < hb_n_operations; i++)
		if (strcmp(hb_operations[i].name, name) == 0)
			return &hb_operations[i];
	return NULL;
}

bool hb_syscall_name_known(const char *name)
{
	if (name[0] == '@')
		return hb_syscall_group_find(name) != NULL;
	/* Calls other architectures have resolve to negative pseudo
	 * numbers here: a policy naming them would deny nothing. */
	return seccomp_syscall_resolve_name(name) >= 0;
}

typedef int (*each_fn)(int nr, const char *name, void *user);

/* Call fn for every system call a space-separated list names, groups
 * expanded; names this architecture lacks are skipped. */
static int each_syscall(const char *list, each_fn fn, void *user, int depth)
{
	_cleanup_free_ char *copy = NULL;
	char *save = NULL;

	if (depth > 4)
		return -ELOOP;
	copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, " ", &save); t;
	     t = strtok_r(NULL, " ", &save)) {
		int r;
		if (t[0] == '@') {
			const struct hb_syscall_group *g =
				hb_syscall_group_find(t);
			r = g ? each_syscall(g->syscalls, fn, user, depth + 1)
			      : -EINVAL;
		} else {
			int nr = seccomp_syscall_resolve_name(t);
			r = nr == __NR_SCMP_ERROR ? 0 : fn(nr, t, user);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int mark(int nr, const char *name, void *user)
{
	(void)name;
	if (nr >= 0 && nr < HB_SYSCALL_NR_END)
		((bool *)user)[nr] = true;
	return 0;
}

/* Built on first use: the list is the same every time, and validating a
 * policy asks once per allow entry.  The launcher is single-threaded. */
int hb_syscalls_always_denied(const bool **ret)
{
	static bool set[HB_SYSCALL_NR_END];
	static bool built;
	int r = built ? 0 : each_syscall(hb_always_denied, mark, set, 0);

	built = r == 0;
	*ret = set;
	return r;
}

int hb_syscalls_mark(const char *list, bool *set)
{
	return each_syscall(list, mark, set, 0);
}

bool hb_syscall_always_denied(const char *name)
{
	const bool *denied = NULL;
	bool named[HB_SYSCALL_NR_END] = {false};

	if (hb_syscalls_always_denied(&denied) < 0 ||
	    hb_syscalls_mark(name, named) < 0)
		return false;
	for (int i = 0; i < HB_SYSCALL_NR_END; i++)
		if (named[i] && denied[i])
			return true;
	return false;
}

void hb_syscall_groups_print(FILE *out)
{
	for (size_t i = 0; i < hb_n_syscall_groups; i++)
		fprintf(out, "%s\t%s\n\t%s\n", hb_syscall_groups[i].name,
			hb_syscall_groups[i].doc,
			hb_syscall_groups[i].syscalls);
	fprintf(out,
		"\ndenied whatever the policy says:\n\t%s\n"
		"and by their arguments:\n\t%s\n",
		hb_always_denied, hb_always_denied_args);
	fputs("ioctl requests denied on every descriptor:\n\t", out);
	for (size_t i = 0; i < hb_n_denied_ioctls; i++)
		fprintf(out, "%s%s", i ? " " : "", hb_denied_ioctls[i].name);
	fputs("\n\nblocked_operations:\n", out);
	for (size_t i = 0; i < hb_n_operations; i++)
		fprintf(out, "%s\t%s\n\t%s\n", hb_operations[i].name,
			hb_operations[i].doc, hb_operations[i].syscalls);
}

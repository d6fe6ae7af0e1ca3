/* SPDX-License-Identifier: MIT */
/* Finding a policy named by a bare name ("strict", "strict.ini"): next
 * to the file that names it (or in the current directory), then in the
 * machine's policies, then in the shipped ones. */
#include "policy_internal.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool hb_policy_name_is_bare(const char *name)
{
	return name[0] && !strchr(name, '/');
}

/* Is dir/name a policy to take?  A name missing, or a directory, is
 * not; anything else is, even unreadable: the reader says why, rather
 * than the search skipping an administrator's policy for a shipped one. */
static bool candidate(const char *dir, const char *name, char **ret)
{
	struct stat st;
	char *path;

	if (dir && asprintf(&path, "%s/%s", dir, name) < 0)
		return false;
	if (!dir && !(path = strdup(name)))
		return false;
	if (stat(path, &st) < 0 ? errno == ENOENT || errno == ENOTDIR
				: S_ISDIR(st.st_mode)) {
		free(path);
		return false;
	}
	*ret = path;
	return true;
}

static void tried_add(char *tried, size_t size, const char *dir)
{
	size_t len = strlen(tried);

	if (len < size)
		snprintf(tried + len, size - len, "%s%s", len ? ", " : "", dir);
}

/* Why root must not take a policy from path, or NULL when it may: it
 * is owned by root (or the effective user) and writable by no one else.
 * A directory or file another user controls could plant what root runs
 * under (a cron job runs in a directory its user owns). */
static const char *untrusted(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return "cannot stat it";
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return "not owned by root";
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others";
	return NULL;
}

/* The candidate found in the first place, *ret, is root's to take only
 * when dir and the file are trusted; else it is dropped and tried says
 * why ("cwd (skipped: not owned by root)"). */
static int first_place_trusted(const char *dir, const char *shown, char **ret,
			       char *tried, size_t size)
{
	char why[160];
	const char *reason;

	if (!*ret)
		return -ENOENT;
	reason = untrusted(dir ?: ".") ?: untrusted(*ret);
	if (!reason)
		return 0;
	free(*ret);
	*ret = NULL;
	snprintf(why, sizeof(why), "%s (skipped: %s)", shown, reason);
	tried_add(tried, size, why);
	return -EPERM;
}

/* In one directory (NULL: the current one, named as cwd in tried): the
 * name as given, then with ".ini" added.  check: root's first place,
 * taken only when first_place_trusted() says so. */
static int find_in(const char *name, const char *dir, const char *shown,
		   bool check, char **ret, char *tried, size_t size)
{
	_cleanup_free_ char *ini = NULL;
	size_t len = strlen(name);

	if (!candidate(dir, name, ret) &&
	    (len < 4 || strcmp(name + len - 4, ".ini") != 0)) {
		if (asprintf(&ini, "%s.ini", name) < 0) {
			ini = NULL;
			return -ENOMEM;
		}
		candidate(dir, ini, ret);
	}
	if (check &&
	    first_place_trusted(dir, shown, ret, tried, size) == -EPERM)
		return -ENOENT;
	if (*ret)
		return 0;
	tried_add(tried, size, shown);
	return -ENOENT;
}

int hb_policy_find(const char *name, const char *near,
		   const struct hb_policy_dirs *dirs, char **ret, char *tried,
		   size_t size)
{
	_cleanup_free_ char *cwd = NULL;
	const char *in[] = {dirs->system, dirs->shipped};
	int r;

	*ret = NULL;
	tried[0] = '\0';
	if (!near && !(cwd = getcwd(NULL, 0)))
		return -errno;
	r = find_in(name, near, near ?: cwd, geteuid() == 0, ret, tried, size);
	for (size_t i = 0; r == -ENOENT && i < ARRAY_SIZE(in); i++)
		if (in[i])
			r = find_in(name, in[i], in[i], false, ret, tried,
				    size);
	return *ret ? 0 : r;
}

/* SPDX-License-Identifier: MIT */
/* Reading a policy: INI lines through inih, each with its line number,
 * the files it extends first, then its own keys merged on top as their
 * rows say. */
#include "policy_internal.h"

#include <ini.h>
#include <string.h>

#define HB_EXTENDS_DEPTH 8

/* One "name = value" line as read, before it is applied. */
struct raw {
	char *section, *name, *value;
	unsigned line;
};

struct parse_ctx {
	FILE *f;
	unsigned line;
	unsigned long_line;
	struct raw *raws;
	size_t n_raws;
	bool oom;
	unsigned bad_section_line; /* first unknown [section], even if empty */
	char bad_section[256];	   /* lines are shorter */
};

/* inih only reports a section through its keys, so an unknown section
 * with no keys would pass unnoticed; look at every header as it is read. */
static void note_section(struct parse_ctx *c, const char *line)
{
	const char *p = line + strspn(line, " \t");
	size_t len;

	if (*p != '[' || c->bad_section_line)
		return;
	p++;
	len = strcspn(p, "]");
	if (p[len] != ']')
		return;
	if (len >= sizeof(c->bad_section))
		return;
	memcpy(c->bad_section, p, len);
	c->bad_section[len] = '\0';
	if (!hb_section_known(hb_strip(c->bad_section)))
		c->bad_section_line = c->line;
}

/* inih reads through this so that we know the line of every key, and so
 * that a line longer than inih's buffer is an error instead of being split
 * into two lines silently. */
static char *counting_reader(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	size_t n;

	if (!fgets(str, num, c->f))
		return NULL;
	c->line++;
	n = strlen(str);
	if (n == (size_t)num - 1 && str[n - 1] != '\n') {
		/* The buffer is full: fine if the line ends right here. */
		int ch = fgetc(c->f);
		if (ch != EOF && ch != '\n') {
			if (!c->long_line)
				c->long_line = c->line;
			while ((ch = fgetc(c->f)) != EOF && ch != '\n')
				;
			str[0] = '\0';
		}
	}
	note_section(c, str);
	return str;
}

static int collect(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse_ctx *c = user;
	struct raw *r;

	r = realloc(c->raws, (c->n_raws + 1) * sizeof(*r));
	if (!r) {
		c->oom = true;
		return 0;
	}
	c->raws = r;
	r = &c->raws[c->n_raws++];
	r->section = strdup(section);
	r->name = strdup(name);
	r->value = strdup(value);
	r->line = c->line;
	if (!r->section || !r->name || !r->value)
		c->oom = true;
	return 1;
}

static void raws_free(struct parse_ctx *c)
{
	for (size_t i = 0; i < c->n_raws; i++) {
		free(c->raws[i].section);
		free(c->raws[i].name);
		free(c->raws[i].value);
	}
	free(c->raws);
}

static int lookup(const struct raw *r, const char *file,
		  const struct hb_key_def **ret, struct hb_diag *diag)
{
	const char *feature = hb_key_unsupported(r->section, r->name);

	*ret = hb_key_find(r->section, r->name);
	if (*ret)
		return 0;
	if (feature)
		return hb_diag_set(
			diag, file, r->line,
			"'%s' in [%s] is not supported yet (%s is not "
			"built); refusing to run without it",
			r->name, r->section, feature);
	if (!r->section[0])
		return hb_diag_set(diag, file, r->line,
				   "key '%s' outside any section", r->name);
	if (!hb_section_known(r->section))
		return hb_diag_set(diag, file, r->line, "unknown section [%s]",
				   r->section);
	return hb_diag_set(diag, file, r->line, "unknown key '%s' in [%s]",
			   r->name, r->section);
}

/* Apply one key of this file, as its row's merge rule says.  seen marks
 * the keys already met in this file. */
static int apply(struct hb_policy *p, const struct hb_key_def *k,
		 const struct raw *r, const char *file, bool *seen,
		 struct hb_diag *diag)
{
	enum hb_key key = hb_key_of(k);
	bool again = seen[key];
	int ret;

	if (k->merge != HB_MERGE_LIST && again)
		return hb_diag_set(diag, file, r->line,
				   "duplicate key '%s' in [%s]", k->name,
				   k->section);
	seen[key] = true;
	if (k->merge == HB_MERGE_NONE) /* extends, read before the rest */
		return 0;
	if (k->merge == HB_MERGE_LIST && !again)
		hb_strv_clear(hb_key_field(p, k));
	ret = hb_policy_value_add(p, k, r->value, file, r->line, diag);
	if (ret < 0)
		return ret;
	return hb_policy_set_origin(p, key, file, r->line);
}

static bool is_extends(const struct raw *r)
{
	const struct hb_key_def *k = hb_key_find(r->section, r->name);

	return k && k->type == HB_T_EXTENDS;
}

static int load_file(struct hb_policy *p, const char *path, int depth,
		     struct hb_diag *diag);

/* The file a parent's value names: a bare name searched from dir, a
 * path relative to dir.  -ENOENT: found nowhere, said in diag. */
static int parent_path(struct hb_policy *p, const char *dir, const char *file,
		       const struct raw *r, char **ret_path,
		       struct hb_diag *diag)
{
	char tried[384];
	int ret;

	if (!hb_policy_name_is_bare(r->value))
		return hb_path_absolute(dir, r->value, ret_path);
	ret = hb_policy_find(r->value, dir, &p->dirs, ret_path, tried,
			     sizeof(tried));
	if (ret == -ENOENT)
		hb_diag_set(diag, file, r->line,
			    "cannot extend '%s': no such policy in %s",
			    r->value, tried);
	return ret;
}

static int load_parent(struct hb_policy *p, const char *file,
		       const struct raw *r, int depth, struct hb_diag *diag)
{
	_cleanup_free_ char *cwd = NULL;
	_cleanup_free_ char *abs = NULL;
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ char *parent = NULL;
	int ret;

	if (depth >= HB_EXTENDS_DEPTH)
		return hb_diag_set(
			diag, file, r->line,
			"extends goes deeper than %d files (a cycle?)",
			HB_EXTENDS_DEPTH);
	/* hb_path_absolute() refuses "" with a bare -EINVAL. */
	if (!r->value[0])
		return hb_diag_set(diag, file, r->line,
				   "empty value for extends");
	if (file[0] != '/' && !(cwd = getcwd(NULL, 0)))
		return -errno;
	/* Relative to the directory of the file that names it. */
	ret = hb_path_absolute(cwd, file, &abs);
	if (ret == 0)
		ret = hb_path_absolute(abs, "..", &dir);
	if (ret == 0)
		ret = parent_path(p, dir, file, r, &parent, diag);
	if (ret < 0)
		return ret;
	ret = load_file(p, parent, depth + 1, diag);
	/* A parent that cannot be read is this file's error, at its line;
	 * keep the parent's reason ("not a regular file", ENOENT, ...). */
	if (ret < 0 && !diag->file[0]) {
		hb_diag_set(diag, file, r->line, "cannot extend '%s': %s",
			    r->value, strerror(-ret));
	} else if (ret < 0 && strcmp(diag->file, parent) == 0 &&
		   diag->line == 0) {
		char why[sizeof(diag->msg)];
		const char *msg = diag->msg;
		if (strncmp(msg, "cannot read policy: ", 20) == 0)
			msg += 20;
		snprintf(why, sizeof(why), "%s", msg);
		hb_diag_set(diag, file, r->line, "cannot extend '%s': %s",
			    r->value, why);
	}
	return ret;
}

int hb_policy_parse(struct hb_policy *p, FILE *f, const char *name, int depth,
		    struct hb_diag *diag)
{
	struct parse_ctx c = {.f = f};
	bool seen[HB_K_MAX] = {false};
	int ret, err;

	err = ini_parse_stream(counting_reader, &c, collect, &c);
	if (c.oom) {
		ret = -ENOMEM;
		goto out;
	}
	if (c.long_line && (err == 0 || (unsigned)err > c.long_line))
		err = (int)c.long_line;
	if (err != 0) {
		ret = hb_diag_set(diag, name, err > 0 ? (unsigned)err : 0,
				  err == (int)c.long_line
					  ? "line longer than 199 characters"
					  : "syntax error: expected [section] "
					    "or name = value");
		goto out;
	}
	/* The parent comes first, so that this file overrides it. */
	for (size_t i = 0; i < c.n_raws; i++)
		if (is_extends(&c.raws[i])) {
			ret = load_parent(p, name, &c.raws[i], depth, diag);
			if (ret < 0)
				goto out;
		}
	for (size_t i = 0; i <= c.n_raws; i++) {
		const struct hb_key_def *k = NULL;
		/* Errors are reported in line order. */
		if (c.bad_section_line &&
		    (i == c.n_raws || c.raws[i].line > c.bad_section_line)) {
			ret = hb_diag_set(diag, name, c.bad_section_line,
					  "unknown section [%s]",
					  hb_strip(c.bad_section));
			goto out;
		}
		if (i == c.n_raws)
			break;
		ret = lookup(&c.raws[i], name, &k, diag);
		if (ret < 0)
			goto out;
		ret = apply(p, k, &c.raws[i], name, seen, diag);
		if (ret < 0)
			goto out;
	}
	ret = 0;
out:
	raws_free(&c);
	return ret;
}

static int load_file(struct hb_policy *p, const char *path, int depth,
		     struct hb_diag *diag)
{
	int err;
	_cleanup_fclose_ FILE *f = hb_fopen_regular(path, &err);

	if (err == -EINVAL)
		return hb_diag_set(diag, path, 0,
				   "cannot read policy: not a regular file");
	if (!f) {
		hb_diag_set(diag, path, 0, "cannot read policy: %s",
			    strerror(-err));
		return err;
	}
	return hb_policy_parse(p, f, path, depth, diag);
}

/* The file --policy names: a bare name searched from the current
 * directory, as typed when found there. */
static int policy_file(struct hb_policy *p, const char *name, char **ret_path,
		       struct hb_diag *diag)
{
	char tried[384];
	int r;

	if (!hb_policy_name_is_bare(name)) {
		*ret_path = strdup(name);
		return *ret_path ? 0 : -ENOMEM;
	}
	r = hb_policy_find(name, NULL, &p->dirs, ret_path, tried,
			   sizeof(tried));
	if (r == -ENOENT)
		hb_diag_set(diag, name, 0,
			    "cannot read policy: no such policy in %s", tried);
	return r;
}

int hb_policy_load(struct hb_policy *p, const char *name, struct hb_diag *diag)
{
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	_cleanup_free_ char *path = NULL;
	int r;

	if (!cwd)
		return -errno;
	free(p->path);
	p->path = NULL;
	r = policy_file(p, name, &path, diag);
	if (r == 0)
		r = hb_path_absolute(cwd, path, &p->path);
	if (r < 0)
		return r;
	r = load_file(p, path, 0, diag);
	if (r < 0)
		return r;
	return hb_policy_validate(p, diag);
}

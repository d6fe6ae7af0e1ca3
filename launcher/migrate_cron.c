/* SPDX-License-Identifier: MIT */
/* Crontab lines as cron reads them (crontab(5)), and the commands in
 * them as sh would split them, as far as migrate needs: words with their
 * places in the text, simple commands, redirections set aside. */
#include "migrate_cron.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const specials[] = {
	"@reboot", "@yearly", "@annually", "@monthly",
	"@weekly", "@daily",  "@midnight", "@hourly",
};

/* A word being read: its value so far and whether it is still plain. */
struct tok {
	char *buf;
	size_t len, cap;
	size_t start;
	bool in_word, plain, quoted;
};

static int tok_add(struct tok *t, char c)
{
	if (t->len + 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		char *b = realloc(t->buf, cap);
		if (!b)
			return -ENOMEM;
		t->buf = b;
		t->cap = cap;
	}
	t->buf[t->len++] = c;
	t->buf[t->len] = '\0';
	return 0;
}

static int words_push(struct hb_cron_word **v, size_t *n, struct tok *t,
		      size_t end)
{
	struct hb_cron_word *w = realloc(*v, (*n + 1) * sizeof(*w));

	if (!w)
		return -ENOMEM;
	*v = w;
	w[*n] = (struct hb_cron_word){t->start, end, NULL, t->plain};
	w[*n].value = strdup(t->buf ? t->buf : "");
	if (!w[*n].value)
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int cmd_push(struct hb_cron_cmd *c, struct tok *t, size_t end)
{
	return words_push(&c->w, &c->n, t, end);
}

static int line_push_cmd(struct hb_cron_line *l)
{
	struct hb_cron_cmd *c = realloc(l->cmds, (l->n_cmds + 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	l->cmds = c;
	c[l->n_cmds++] = (struct hb_cron_cmd){0};
	return 0;
}

static bool is_assignment(const struct hb_cron_cmd *c, const char *v)
{
	const char *eq = strchr(v, '=');

	if (c->n || !eq || eq == v ||
	    !(isalpha((unsigned char)v[0]) || v[0] == '_'))
		return false;
	for (const char *p = v; p < eq; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

/* The word read ends at end: a word of the command, a redirection's
 * target (dropped), or a leading assignment (kept apart). */
static int word_end(struct hb_cron_line *l, struct tok *t, size_t end,
		    bool *redir_target)
{
	struct hb_cron_cmd *c = &l->cmds[l->n_cmds - 1];
	int r = 0;

	if (!t->in_word)
		return 0;
	if (*redir_target)
		*redir_target = false;
	else if (!is_assignment(c, t->buf ? t->buf : ""))
		r = cmd_push(c, t, end);
	else
		r = words_push(&c->assign, &c->n_assign, t, end);
	t->in_word = false;
	t->len = 0;
	if (t->buf)
		t->buf[0] = '\0';
	return r;
}

static int word_char(struct tok *t, size_t at, char ch)
{
	if (!t->in_word) {
		t->in_word = true;
		t->start = at;
		t->plain = true;
		t->quoted = false;
	}
	return tok_add(t, ch);
}

/* A quoted stretch from s[*i] (the quote), into the word. */
static int quoted(struct tok *t, const char *s, size_t end, size_t *i)
{
	char q = s[*i];
	size_t at = *i;
	int r = word_char(t, at, 'x');

	if (r < 0)
		return r;
	t->len--; /* the quote itself is not in the value */
	t->buf[t->len] = '\0';
	t->quoted = true;
	for ((*i)++; *i < end && s[*i] != q; (*i)++) {
		if (q == '"' && (s[*i] == '$' || s[*i] == '`'))
			t->plain = false;
		if (q == '"' && s[*i] == '\\' && *i + 1 < end &&
		    strchr("$`\"\\", s[*i + 1]))
			(*i)++;
		r = tok_add(t, s[*i]);
		if (r < 0)
			return r;
	}
	if (*i >= end)
		return -EINVAL; /* an unterminated quote */
	return 0;
}

/* An unquoted < or > at s[*i]: the redirection's operator, with a
 * number word just before it as its descriptor. */
static void redirection(struct tok *t, const char *s, size_t end, size_t *i,
			bool *redir_target)
{
	bool fd_word = t->in_word && !t->quoted && t->len > 0 &&
		       strspn(t->buf, "0123456789") == t->len &&
		       t->start + t->len == *i;

	if (fd_word) {
		t->in_word = false;
		t->len = 0;
	}
	(*i)++;
	if (*i < end && strchr("<>&|", s[*i]))
		(*i)++;
	*redir_target = true;
	(*i)--;
}

static bool is_op(char c)
{
	return c == ';' || c == '|' || c == '&' || c == '(' || c == ')' ||
	       c == '\n';
}

/* The command [start, end) into simple commands and their words. */
static int tokenize(struct hb_cron_line *l, const char *s, size_t start,
		    size_t end)
{
	struct tok t = {0};
	bool redir = false;
	int r = line_push_cmd(l);

	for (size_t i = start; r == 0 && i < end; i++) {
		char ch = s[i];
		if (ch == ' ' || ch == '\t') {
			r = word_end(l, &t, i, &redir);
		} else if (ch == '&' && i + 1 < end && s[i + 1] == '>') {
			r = word_end(l, &t, i, &redir);
			i++;
			redirection(&t, s, end, &i, &redir);
		} else if (is_op(ch)) {
			r = word_end(l, &t, i, &redir);
			if (r == 0 && l->cmds[l->n_cmds - 1].n)
				r = line_push_cmd(l);
			redir = false;
		} else if (ch == '<' || ch == '>') {
			if (!(t.in_word && !t.quoted &&
			      strspn(t.buf, "0123456789") == t.len))
				r = word_end(l, &t, i, &redir);
			if (r == 0)
				redirection(&t, s, end, &i, &redir);
		} else if (ch == '\'' || ch == '"') {
			r = quoted(&t, s, end, &i);
		} else if (ch == '\\' && i + 1 < end) {
			size_t at = i++;
			r = word_char(&t, at, s[i]);
			t.quoted = true;
		} else {
			bool expands = ch == '$' || ch == '`' || ch == '*' ||
				       ch == '?' || ch == '[' ||
				       (ch == '~' && !t.in_word);
			r = word_char(&t, i, ch);
			if (expands)
				t.plain = false;
		}
	}
	if (r == 0)
		r = word_end(l, &t, end, &redir);
	free(t.buf);
	if (r == 0 && l->cmds[l->n_cmds - 1].n == 0)
		l->n_cmds--;
	return r;
}

/* The next blank-separated field of s from *i, or false at the end. */
static bool field(const char *s, size_t end, size_t *i, size_t *ret_start,
		  size_t *ret_end)
{
	while (*i < end && (s[*i] == ' ' || s[*i] == '\t'))
		(*i)++;
	if (*i >= end)
		return false;
	*ret_start = *i;
	while (*i < end && s[*i] != ' ' && s[*i] != '\t')
		(*i)++;
	*ret_end = *i;
	return true;
}

/* A time field: digits, *, ranges, lists, steps, and in the month and
 * day-of-week fields three-letter names. */
static bool time_field(const char *s, size_t n, int index)
{
	size_t alpha = 0;

	for (size_t i = 0; i < n; i++) {
		if (isalpha((unsigned char)s[i]) && index >= 3) {
			alpha++;
			continue;
		}
		if (alpha && alpha != 3)
			return false;
		alpha = 0;
		if (!isdigit((unsigned char)s[i]) && !strchr("*,/-", s[i]))
			return false;
	}
	return alpha == 0 || alpha == 3;
}

static bool is_special(const char *s, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(specials); i++)
		if (strlen(specials[i]) == n && strncmp(specials[i], s, n) == 0)
			return true;
	return false;
}

/* NAME = value, as cron takes it (quotes around the value removed). */
static int env_line(struct hb_cron_line *l, const char *s, size_t i, size_t end,
		    bool *ret)
{
	size_t n = i, eq;

	*ret = false;
	if (!isalpha((unsigned char)s[n]) && s[n] != '_')
		return 0;
	while (n < end && (isalnum((unsigned char)s[n]) || s[n] == '_'))
		n++;
	eq = n;
	while (eq < end && (s[eq] == ' ' || s[eq] == '\t'))
		eq++;
	if (eq >= end || s[eq] != '=')
		return 0;
	l->name = strndup(s + i, n - i);
	for (eq++; eq < end && (s[eq] == ' ' || s[eq] == '\t');)
		eq++;
	while (end > eq && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	if (end - eq >= 2 && (s[eq] == '"' || s[eq] == '\'') &&
	    s[end - 1] == s[eq]) {
		eq++;
		end--;
	}
	l->value = strndup(s + eq, end - eq);
	if (!l->name || !l->value)
		return -ENOMEM;
	l->kind = HB_CRON_ENV;
	*ret = true;
	return 0;
}

static int bad(struct hb_cron_line *l, const char *why)
{
	l->kind = HB_CRON_BAD;
	l->why = why;
	return 0;
}

/* Where cron ends the command: at the first % not after a backslash. */
static size_t command_end(const char *s, size_t i, size_t end)
{
	for (; i < end; i++) {
		if (s[i] == '\\' && i + 1 < end)
			i++;
		else if (s[i] == '%')
			return i;
	}
	return end;
}

static int job_line(struct hb_cron_line *l, const char *s, size_t i, size_t end,
		    bool user_field)
{
	size_t fs, fe;
	int r;

	if (s[i] == '@') {
		field(s, end, &i, &fs, &fe);
		if (!is_special(s + fs, fe - fs))
			return bad(l, "unknown @ schedule");
	} else {
		for (int k = 0; k < 5; k++) {
			if (!field(s, end, &i, &fs, &fe))
				return bad(l, "expected five time fields and a "
					      "command");
			if (!time_field(s + fs, fe - fs, k))
				return bad(l, "not a time field, an "
					      "environment setting or a "
					      "comment");
		}
	}
	if (user_field) {
		if (!field(s, end, &i, &fs, &fe))
			return bad(l, "no user field");
		l->user = strndup(s + fs, fe - fs);
		if (!l->user)
			return -ENOMEM;
	}
	while (i < end && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i >= end)
		return bad(l, "no command");
	l->kind = HB_CRON_JOB;
	l->cmd_start = i;
	l->cmd_end = command_end(s, i, end);
	r = tokenize(l, s, l->cmd_start, l->cmd_end);
	if (r == -EINVAL)
		return bad(l, "an unterminated quote in the command");
	return r;
}

static int parse_line(struct hb_cron_line *l, const char *s, bool user_field)
{
	size_t i = l->start;
	bool env;
	int r;

	while (i < l->end && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == l->end) {
		l->kind = HB_CRON_BLANK;
		return 0;
	}
	if (s[i] == '#') {
		l->kind = HB_CRON_COMMENT;
		return 0;
	}
	r = env_line(l, s, i, l->end, &env);
	if (r < 0 || env)
		return r;
	return job_line(l, s, i, l->end, user_field);
}

int hb_crontab_parse(struct hb_crontab *t, const char *text, size_t len,
		     bool user_field)
{
	size_t start = 0;
	int r = 0;

	*t = (struct hb_crontab){
		.text = text, .len = len, .user_field = user_field};
	while (r == 0 && start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		struct hb_cron_line *lines =
			realloc(t->lines, (t->n + 1) * sizeof(*lines));
		if (!lines) {
			r = -ENOMEM;
			break;
		}
		t->lines = lines;
		lines[t->n] =
			(struct hb_cron_line){.lineno = (unsigned)t->n + 1,
					      .start = start,
					      .end = end};
		r = parse_line(&lines[t->n++], text, user_field);
		start = end + 1;
	}
	if (r < 0)
		hb_crontab_free(t);
	return r;
}

void hb_crontab_free(struct hb_crontab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct hb_cron_line *l = &t->lines[i];
		for (size_t c = 0; c < l->n_cmds; c++) {
			for (size_t w = 0; w < l->cmds[c].n; w++)
				free(l->cmds[c].w[w].value);
			for (size_t a = 0; a < l->cmds[c].n_assign; a++)
				free(l->cmds[c].assign[a].value);
			free(l->cmds[c].assign);
			free(l->cmds[c].w);
		}
		free(l->cmds);
		free(l->name);
		free(l->value);
		free(l->user);
	}
	free(t->lines);
	t->lines = NULL;
	t->n = 0;
}

const char *hb_crontab_env(const struct hb_crontab *t, size_t before,
			   const char *name)
{
	const char *v = NULL;

	for (size_t i = 0; i < before && i < t->n; i++)
		if (t->lines[i].kind == HB_CRON_ENV &&
		    strcmp(t->lines[i].name, name) == 0)
			v = t->lines[i].value;
	return v;
}

bool hb_cron_is_python(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (strncmp(base, "python", 6) != 0)
		return false;
	base += 6;
	if (*base == '\0')
		return true;
	if (*base++ != '3')
		return false;
	if (*base == '\0')
		return true;
	return *base == '.' && base[1] &&
	       strspn(base + 1, "0123456789") == strlen(base + 1);
}

/* One interpreter option word: 1 taken, 0 not an option, -1 one that
 * cannot be kept (why set). */
static int py_option(const char *w, struct hb_py_opts *o, const char **why)
{
	if (w[0] != '-' || !w[1])
		return 0;
	if (w[1] == '-' || strchr(w, 'm') || strchr(w, 'c')) {
		*why = strchr(w, 'c') && !strchr(w, 'm')
			       ? "python -c runs no script file"
			       : "python -m runs a module, not a script file";
		return -1;
	}
	for (const char *p = w + 1; *p; p++) {
		if (*p == 'u')
			o->unbuffered = true;
		else if (*p == 'B')
			o->no_bytecode = true;
		else if (*p == 'O')
			o->optimize++;
		else if (*p == 'I' || *p == 'P') {
			/* hivebox puts the script's directory first on
			 * sys.path: the job would import other modules. */
			*why = "python -I and -P keep the script's directory "
			       "off sys.path, which hivebox puts first";
			return -1;
		} else if (*p == 'E') {
			*why = "python -E ignores the PYTHON* variables the "
			       "policy would set";
			return -1;
		} else if (*p != 's') {
			*why = "a python option hivebox cannot pass on";
			return -1;
		}
	}
	return 1;
}

static bool is_hivebox(const char *path)
{
	const char *base = strrchr(path, '/');

	return strcmp(base ? base + 1 : path, "hivebox") == 0;
}

static void wrapped(const struct hb_cron_cmd *c, size_t i,
		    struct hb_cron_py *ret)
{
	ret->form = HB_PY_WRAPPED;
	for (; i + 1 < c->n; i++)
		if (strcmp(c->w[i].value, "--policy") == 0)
			ret->policy = c->w[i + 1].value;
}

void hb_cron_python(const struct hb_cron_cmd *c, struct hb_cron_py *ret)
{
	size_t i = 0;
	int r;

	*ret = (struct hb_cron_py){.form = HB_PY_NONE};
	while (i < c->n && (strcmp(c->w[i].value, "exec") == 0 ||
			    strcmp(c->w[i].value, "nohup") == 0))
		i++;
	if (i >= c->n)
		return;
	ret->prog = ret->script = i;
	if (is_hivebox(c->w[i].value))
		return wrapped(c, i, ret);
	if (!hb_cron_is_python(c->w[i].value))
		return;
	ret->form = HB_PY_REFUSED;
	if (!c->w[i].plain) {
		ret->why = "the interpreter's name is computed by the shell";
		return;
	}
	for (i++; i < c->n; i++) {
		r = py_option(c->w[i].value, &ret->opts, &ret->why);
		if (r < 0)
			return;
		if (r == 0)
			break;
	}
	if (i >= c->n) {
		ret->why = "python with no script";
		return;
	}
	if (!c->w[i].plain || strcmp(c->w[i].value, "-") == 0) {
		ret->why = "the script's name is computed by the shell";
		return;
	}
	ret->script = i;
	ret->form = HB_PY_INTERP;
}

int hb_cron_shebang(const char *line, char **ret_interp,
		    struct hb_py_opts *ret_opts)
{
	char *copy, *save = NULL, *word, *interp;
	const char *why = NULL;
	int r = 0;

	*ret_opts = (struct hb_py_opts){0};
	if (strncmp(line, "#!", 2) != 0)
		return 0;
	copy = strdup(line + 2);
	if (!copy)
		return -ENOMEM;
	copy[strcspn(copy, "\r\n")] = '\0';
	interp = strtok_r(copy, " \t", &save);
	if (interp && strcmp(interp, "/usr/bin/env") == 0)
		interp = strtok_r(NULL, " \t", &save);
	if (interp && hb_cron_is_python(interp)) {
		r = 1;
		while ((word = strtok_r(NULL, " \t", &save)) && r == 1)
			if (py_option(word, ret_opts, &why) <= 0)
				r = 0;
	}
	if (r == 1 && !(*ret_interp = strdup(interp)))
		r = -ENOMEM;
	free(copy);
	return r;
}

bool hb_cron_safe_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("/._+,:@=-", *s))
			return false;
	return true;
}

int hb_cron_wrap(const struct hb_cron_cmd *c, const struct hb_cron_py *py,
		 const char *hivebox, const char *policy, const char *script,
		 struct hb_cron_edit *ret)
{
	bool found;

	if (py->form != HB_PY_INTERP && py->form != HB_PY_DIRECT)
		return -EINVAL;
	/* A script the shell finds along PATH: hivebox does not search
	 * PATH, so the word becomes the path the shell would run. */
	found = py->form == HB_PY_DIRECT && !strchr(c->w[py->prog].value, '/');
	if (!hb_cron_safe_word(hivebox) || !hb_cron_safe_word(policy))
		return -EINVAL;
	if (found &&
	    (!script || script[0] != '/' || !hb_cron_safe_word(script)))
		return -EINVAL;
	ret->start = c->w[py->prog].start;
	ret->end = py->form == HB_PY_INTERP ? c->w[py->script].start
		   : found		    ? c->w[py->prog].end
					    : ret->start;
	if (asprintf(&ret->text, "%s --policy %s %s", hivebox, policy,
		     found ? script : "") < 0)
		return -ENOMEM;
	return 0;
}

int hb_cron_splice(const char *text, size_t len,
		   const struct hb_cron_edit *edits, size_t n, char **ret,
		   size_t *ret_len)
{
	char *buf = NULL;
	size_t blen = 0, at = 0;
	FILE *out = open_memstream(&buf, &blen);

	if (!out)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		if (edits[i].start < at || edits[i].end < edits[i].start ||
		    edits[i].end > len) {
			fclose(out);
			free(buf);
			return -EINVAL;
		}
		fwrite(text + at, 1, edits[i].start - at, out);
		fputs(edits[i].text, out);
		at = edits[i].end;
	}
	fwrite(text + at, 1, len - at, out);
	if (fclose(out) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	*ret_len = blen;
	return 0;
}

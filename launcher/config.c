/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <ini.h>
#include <string.h>

struct load_ctx {
	struct hb_config *c;
	const char *file;
	struct hb_diag *diag;
	bool seen_pool, seen_state_dir;
	int err;
};

static int set_pool(struct load_ctx *x, const char *value)
{
	int r = hb_net_pool_parse(value, &x->c->pool);

	if (r == 0 && x->c->pool.prefixlen < HB_CONFIG_POOL_MIN_PREFIXLEN)
		r = -E2BIG;
	if (r < 0) {
		hb_diag_set(x->diag, x->file, 0,
			    "bad value '%s' for pool: expected an IPv4 "
			    "network a.b.c.d/n with n from %d to %d and no "
			    "host bits set",
			    value, HB_CONFIG_POOL_MIN_PREFIXLEN,
			    HB_NET_POOL_SLOT_PREFIXLEN);
		return -EINVAL;
	}
	free(x->c->pool_text);
	x->c->pool_text = strdup(value);
	return x->c->pool_text ? 0 : -ENOMEM;
}

static int set_state_dir(struct load_ctx *x, const char *value)
{
	if (value[0] != '/') {
		hb_diag_set(x->diag, x->file, 0,
			    "state_dir must be an absolute path, not '%s'",
			    value);
		return -EINVAL;
	}
	free(x->c->state_dir);
	x->c->state_dir = strdup(value);
	return x->c->state_dir ? 0 : -ENOMEM;
}

/* inih calls this per key; returning 0 makes ini_parse return the line. */
static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct load_ctx *x = user;
	bool *seen = NULL;

	if (strcmp(section, "network") == 0 && strcmp(name, "pool") == 0)
		seen = &x->seen_pool;
	else if (strcmp(section, "network") == 0 &&
		 strcmp(name, "state_dir") == 0)
		seen = &x->seen_state_dir;
	if (!seen) {
		hb_diag_set(x->diag, x->file, 0, "unknown key '%s' in [%s]",
			    name, section);
		x->err = -EINVAL;
		return 0;
	}
	if (*seen) {
		hb_diag_set(x->diag, x->file, 0, "duplicate key '%s' in [%s]",
			    name, section);
		x->err = -EINVAL;
		return 0;
	}
	*seen = true;
	x->err = seen == &x->seen_pool ? set_pool(x, value)
				       : set_state_dir(x, value);
	return x->err == 0;
}

static int set_defaults(struct hb_config *c)
{
	memset(c, 0, sizeof(*c));
	c->pool_text = strdup(HB_CONFIG_POOL_DEFAULT);
	c->state_dir = strdup(HB_CONFIG_STATE_DIR_DEFAULT);
	if (!c->pool_text || !c->state_dir)
		return -ENOMEM;
	return hb_net_pool_parse(c->pool_text, &c->pool);
}

int hb_config_load(struct hb_config *c, const char *path, struct hb_diag *diag)
{
	const char *file = path ?: HB_CONFIG_DEFAULT;
	struct load_ctx x = {.c = c, .file = file, .diag = diag};
	_cleanup_fclose_ FILE *f = NULL;
	int line, r;

	r = set_defaults(c);
	if (r < 0)
		return r;
	f = hb_fopen_regular(file, &r);
	if (r == -ENOENT && !path)
		return 0;
	if (r == -EINVAL)
		return hb_diag_set(diag, file, 0,
				   "cannot read: not a regular file");
	if (!f)
		return hb_diag_set(diag, file, 0, "cannot read: %s",
				   strerror(-r));
	c->path = strdup(file);
	if (!c->path)
		return -ENOMEM;
	line = ini_parse_file(f, handler, &x);
	if (line == 0)
		return 0;
	if (line < 0)
		return hb_diag_set(diag, file, 0, "cannot read: %s",
				   strerror(errno));
	/* The handler wrote the message; only ini_parse knows the line. */
	if (x.err == 0)
		hb_diag_set(diag, file, (unsigned)line,
			    "syntax error: expected [section] or name = "
			    "value");
	diag->line = (unsigned)line;
	return x.err == -ENOMEM ? -ENOMEM : -EINVAL;
}

void hb_config_free(struct hb_config *c)
{
	free(c->path);
	free(c->pool_text);
	free(c->state_dir);
	memset(c, 0, sizeof(*c));
}

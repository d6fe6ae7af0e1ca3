/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "policy.h"

#include <ini.h>
#include <string.h>
#include <unistd.h>

struct load_ctx {
	struct hb_config *c;
	const char *file;
	struct hb_diag *diag;
	bool seen[6]; /* by index into keys[] */
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

/* An absolute path, for the key name, into *slot. */
static int set_path(struct load_ctx *x, const char *name, const char *value,
		    char **slot)
{
	if (value[0] != '/') {
		hb_diag_set(x->diag, x->file, 0,
			    "%s must be an absolute path, not '%s'", name,
			    value);
		return -EINVAL;
	}
	free(*slot);
	*slot = strdup(value);
	return *slot ? 0 : -ENOMEM;
}

static int set_state_dir(struct load_ctx *x, const char *value)
{
	return set_path(x, "state_dir", value, &x->c->state_dir);
}

static int set_uid_lock(struct load_ctx *x, const char *value)
{
	return set_path(x, "uid_lock", value, &x->c->uid_lock);
}

/* An absolute path, or "none": no filter cache. */
static int set_filter_cache(struct load_ctx *x, const char *value)
{
	if (strcmp(value, "none") == 0) {
		free(x->c->filter_cache);
		x->c->filter_cache = NULL;
		return 0;
	}
	return set_path(x, "cache_dir", value, &x->c->filter_cache);
}

static int set_policy_system_dir(struct load_ctx *x, const char *value)
{
	return set_path(x, "system_dir", value, &x->c->policy_system_dir);
}

static int set_policy_shipped_dir(struct load_ctx *x, const char *value)
{
	return set_path(x, "shipped_dir", value, &x->c->policy_shipped_dir);
}

static const struct {
	const char *section, *name;
	int (*set)(struct load_ctx *x, const char *value);
} keys[] = {
	{"network", "pool", set_pool},
	{"network", "state_dir", set_state_dir},
	{"identity", "uid_lock", set_uid_lock},
	{"filters", "cache_dir", set_filter_cache},
	{"policies", "system_dir", set_policy_system_dir},
	{"policies", "shipped_dir", set_policy_shipped_dir},
};
_Static_assert(ARRAY_SIZE(keys) == ARRAY_SIZE(((struct load_ctx *)0)->seen),
	       "one seen[] slot per key");

/* inih calls this per key; returning 0 makes ini_parse return the line. */
static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct load_ctx *x = user;
	size_t i = 0;

	while (i < ARRAY_SIZE(keys) && (strcmp(section, keys[i].section) != 0 ||
					strcmp(name, keys[i].name) != 0))
		i++;
	if (i == ARRAY_SIZE(keys)) {
		hb_diag_set(x->diag, x->file, 0, "unknown key '%s' in [%s]",
			    name, section);
		x->err = -EINVAL;
		return 0;
	}
	if (x->seen[i]) {
		hb_diag_set(x->diag, x->file, 0, "duplicate key '%s' in [%s]",
			    name, section);
		x->err = -EINVAL;
		return 0;
	}
	x->seen[i] = true;
	x->err = keys[i].set(x, value);
	return x->err == 0;
}

static int set_defaults(struct hb_config *c)
{
	memset(c, 0, sizeof(*c));
	c->pool_text = strdup(HB_CONFIG_POOL_DEFAULT);
	c->state_dir = strdup(HB_CONFIG_STATE_DIR_DEFAULT);
	c->uid_lock = strdup(HB_CONFIG_UID_LOCK_DEFAULT);
	c->filter_cache = strdup(HB_CONFIG_FILTER_CACHE_DEFAULT);
	if (!c->pool_text || !c->state_dir || !c->uid_lock || !c->filter_cache)
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
	free(c->uid_lock);
	free(c->filter_cache);
	free(c->policy_system_dir);
	free(c->policy_shipped_dir);
	memset(c, 0, sizeof(*c));
}

int hb_config_policy_dirs(struct hb_config *c, const char *path,
			  struct hb_policy_dirs *dirs, struct hb_diag *diag)
{
	int r;

	if (geteuid() != 0)
		return 0;
	r = hb_config_load(c, path, diag);
	if (r < 0)
		return r;
	if (c->policy_system_dir)
		dirs->system = c->policy_system_dir;
	if (c->policy_shipped_dir)
		dirs->shipped = c->policy_shipped_dir;
	return 0;
}

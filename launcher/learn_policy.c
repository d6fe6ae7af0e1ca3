/* SPDX-License-Identifier: MIT */
/* hivebox learn, the pure part: what one observed run comes to.  Paths
 * are minimised to the fewest that cover what was used (a directory
 * written in is granted read-write; a directory listed, or two files read
 * in it, read-only; a file read alone, itself), never widened to /, /etc
 * or a home directory; then the policy text, every line with the comment
 * saying why, and the report.  Nothing here looks at the machine. */
#include "learn.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <seccomp.h>
#include <string.h>

void hb_learn_obs_free(struct hb_learn_obs *o)
{
	free(o->base);
	free(o->script);
	free(o->interpreter);
	hb_strv_clear(&o->base_allow);
	hb_strv_clear(&o->implicit);
	hb_strv_clear(&o->forbidden);
	for (size_t i = 0; i < o->n_paths; i++) {
		free(o->paths[i].path);
		free(o->paths[i].anchor);
	}
	free(o->paths);
	free(o->dests);
	memset(o, 0, sizeof(*o));
}

bool hb_learn_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int hb_learn_obs_add_path(struct hb_learn_obs *o, const char *path, unsigned op)
{
	struct hb_learn_path *p;

	/* A newline would end the comment it is written in. */
	if (!hb_learn_printable(path)) {
		o->unprintable++;
		return 0;
	}
	for (size_t i = 0; i < o->n_paths; i++)
		if (strcmp(o->paths[i].path, path) == 0) {
			o->paths[i].ops |= op;
			o->paths[i].count++;
			o->paths[i].after_start |= o->started;
			return 0;
		}
	if (o->n_paths >= HB_LEARN_MAX_PATHS) {
		o->paths_dropped++;
		return 0;
	}
	if (o->n_paths % 64 == 0) {
		p = realloc(o->paths, (o->n_paths + 64) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		o->paths = p;
	}
	p = &o->paths[o->n_paths];
	*p = (struct hb_learn_path){
		.ops = op, .count = 1, .after_start = o->started};
	p->path = strdup(path);
	if (!p->path)
		return -ENOMEM;
	o->n_paths++;
	return 0;
}

int hb_learn_obs_add_dest(struct hb_learn_obs *o, const char *addr,
			  uint16_t port, bool udp, bool dns_query,
			  bool unix_path)
{
	struct hb_learn_dest *d;

	if (!hb_learn_printable(addr)) {
		o->unprintable++;
		return 0;
	}
	for (size_t i = 0; i < o->n_dests; i++) {
		d = &o->dests[i];
		if (strcmp(d->addr, addr) == 0 && d->port == port &&
		    d->udp == udp && d->dns_query == dns_query) {
			d->count++;
			return 0;
		}
	}
	if (o->n_dests >= HB_LEARN_MAX_DESTS)
		return 0;
	if (o->n_dests % 16 == 0) {
		d = realloc(o->dests, (o->n_dests + 16) * sizeof(*d));
		if (!d)
			return -ENOMEM;
		o->dests = d;
	}
	d = &o->dests[o->n_dests++];
	*d = (struct hb_learn_dest){.port = port,
				    .udp = udp,
				    .dns_query = dns_query,
				    .unix_path = unix_path,
				    .count = 1};
	snprintf(d->addr, sizeof(d->addr), "%s", addr);
	return 0;
}

bool hb_learn_obs_ok(const struct hb_learn_obs *o)
{
	return o->end == HB_LEARN_EXITED && o->status == 0;
}

void hb_learn_result_free(struct hb_learn_result *r)
{
	for (size_t i = 0; i < r->n_grants; i++)
		free(r->grants[i].path);
	free(r->grants);
	for (size_t i = 0; i < r->n_omits; i++)
		free(r->omits[i].what);
	free(r->omits);
	hb_strv_clear(&r->groups);
	hb_strv_clear(&r->domains);
	memset(r, 0, sizeof(*r));
}

/* ---- paths ---------------------------------------------------------- */

/* What one grant covers, counted while deciding, for its comment. */
struct unit {
	char *path;
	bool rw;
	unsigned files_read, dirs_listed, written, created, removed, renamed;
	unsigned kept_files; /* files granted alone because path is wide */
	bool file;	     /* a file granted itself */
};

struct units {
	struct unit *u;
	size_t n;
};

static void units_free(struct units *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->u[i].path);
	free(s->u);
}

static struct unit *unit_find(struct units *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->u[i].path, path) == 0)
			return &s->u[i];
	return NULL;
}

static int unit_add(struct units *s, const char *path, bool rw,
		    struct unit **ret)
{
	struct unit *u = unit_find(s, path);

	if (!u) {
		u = realloc(s->u, (s->n + 1) * sizeof(*u));
		if (!u)
			return -ENOMEM;
		s->u = u;
		u = &s->u[s->n];
		*u = (struct unit){.path = strdup(path)};
		if (!u->path)
			return -ENOMEM;
		s->n++;
	}
	u->rw |= rw;
	*ret = u;
	return 0;
}

/* The unit of s at or above path, the widest (nearest to /) first. */
static struct unit *unit_covering(struct units *s, const char *path, bool rw)
{
	struct unit *best = NULL;

	for (size_t i = 0; i < s->n; i++) {
		struct unit *u = &s->u[i];
		if ((!rw || u->rw) && hb_path_under(path, u->path) &&
		    (!best || strlen(u->path) < strlen(best->path)))
			best = u;
	}
	return best;
}

static void count_ops(struct unit *u, const struct hb_learn_path *p)
{
	if (p->ops & HB_LEARN_READ && p->host == HB_LEARN_HOST_FILE)
		u->files_read++;
	if (p->ops & HB_LEARN_LIST ||
	    (p->ops & HB_LEARN_READ && p->host == HB_LEARN_HOST_DIR))
		u->dirs_listed++;
	if (p->ops & HB_LEARN_WRITE)
		u->written++;
	if (p->ops & HB_LEARN_CREATE)
		u->created++;
	if (p->ops & HB_LEARN_REMOVE)
		u->removed++;
	if (p->ops & HB_LEARN_RENAME)
		u->renamed++;
}

static bool listed(const char *path, const struct hb_strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (hb_path_under(path, s->v[i]))
			return true;
	return false;
}

static bool is_forbidden(const struct hb_learn_obs *o, const char *path)
{
	return hb_strv_contains(&o->forbidden, path);
}

static bool is_pycache(const char *path)
{
	size_t n = strlen(path);

	return strstr(path, "/__pycache__/") ||
	       (n >= 12 && strcmp(path + n - 12, "/__pycache__") == 0) ||
	       (n > 4 && strcmp(path + n - 4, ".pyc") == 0);
}

static int parent_of(const char *path, char **ret)
{
	const char *slash = strrchr(path, '/');
	char *p = slash == path ? strdup("/")
				: strndup(path, (size_t)(slash - path));

	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

static int omit(struct hb_learn_result *r, const char *what, const char *fmt,
		...) _printf_(3, 4);

static int omit(struct hb_learn_result *r, const char *what, const char *fmt,
		...)
{
	struct hb_learn_omit *m;
	va_list ap;

	for (size_t i = 0; i < r->n_omits; i++)
		if (strcmp(r->omits[i].what, what) == 0)
			return 0;
	m = realloc(r->omits, (r->n_omits + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	r->omits = m;
	m = &r->omits[r->n_omits];
	m->what = strdup(what);
	if (!m->what)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
	r->n_omits++;
	return 0;
}

/* Every sandbox has a /tmp and a /dev/shm of its own: what the job made
 * there is its own, what it found there of the host's is not. */
static bool own_tmp(const struct hb_learn_path *p)
{
	static const char *const tmps[] = {"/tmp", "/dev/shm"};

	for (size_t i = 0; i < ARRAY_SIZE(tmps); i++) {
		if (!hb_path_under(p->path, tmps[i]))
			continue;
		if (strcmp(p->path, tmps[i]) == 0)
			return true;
		if (p->ops & HB_LEARN_WRITES)
			return p->anchor && strcmp(p->anchor, tmps[i]) == 0;
		return p->host == HB_LEARN_HOST_NONE;
	}
	return false;
}

static bool is_implicit(const struct hb_learn_obs *o,
			const struct hb_learn_path *p)
{
	return !p->after_start || strcmp(p->path, o->script) == 0 ||
	       own_tmp(p) || listed(p->path, &o->implicit) ||
	       (p->anchor && listed(p->anchor, &o->implicit));
}

/* A path the sandbox has anyway, or Python's own business. */
static bool skip_path(const struct hb_learn_obs *o, struct hb_learn_result *r,
		      const struct hb_learn_path *p)
{
	(void)r;
	return is_implicit(o, p);
}

/* Pass 1: every path written in makes its anchor read-write. */
static int decide_writes(const struct hb_learn_obs *o,
			 struct hb_learn_result *r, struct units *s)
{
	struct unit *u;
	int k;

	for (size_t i = 0; i < o->n_paths; i++) {
		const struct hb_learn_path *p = &o->paths[i];
		if (!(p->ops & HB_LEARN_WRITES) || skip_path(o, r, p))
			continue;
		if (is_pycache(p->path)) {
			k = omit(r, "__pycache__",
				 "Python's bytecode cache: "
				 "Python runs without writing it");
		} else if (!p->anchor) {
			k = omit(r, p->path,
				 "written, but no directory above "
				 "it exists on the host");
		} else if (!is_forbidden(o, p->anchor)) {
			k = unit_add(s, p->anchor, true, &u);
			if (k == 0)
				count_ops(u, p);
		} else if (p->host == HB_LEARN_HOST_FILE &&
			   !(p->ops & HB_LEARN_WRITES & ~HB_LEARN_WRITE)) {
			k = unit_add(s, p->path, true, &u);
			if (k == 0) {
				u->file = true;
				count_ops(u, p);
			}
		} else {
			k = omit(r, p->path,
				 "creating or removing here needs %s "
				 "read-write, and hivebox never grants %s "
				 "whole; change the job to write elsewhere",
				 p->anchor, p->anchor);
		}
		if (k < 0)
			return k;
	}
	return 0;
}

/* Python's import system lists sys.path[0], the script's directory, on
 * nearly every import: that listing is not the job's (and cannot be told
 * from the job's own os.listdir of it). */
static bool script_dir_scan(const struct hb_learn_obs *o,
			    const struct hb_learn_path *p)
{
	_cleanup_free_ char *dir = NULL;

	return parent_of(o->script, &dir) == 0 && strcmp(dir, p->path) == 0;
}

/* Pass 2: directories listed become read-only units. */
static int decide_dirs(const struct hb_learn_obs *o, struct hb_learn_result *r,
		       struct units *s)
{
	struct unit *u;
	int k = 0;

	for (size_t i = 0; i < o->n_paths && k == 0; i++) {
		const struct hb_learn_path *p = &o->paths[i];
		if (p->host != HB_LEARN_HOST_DIR ||
		    !(p->ops & (HB_LEARN_LIST | HB_LEARN_READ)) ||
		    (p->ops & HB_LEARN_WRITES) || skip_path(o, r, p))
			continue;
		if ((u = unit_covering(s, p->path, true))) {
			count_ops(u, p);
		} else if (script_dir_scan(o, p)) {
			k = omit(r, p->path,
				 "the script's directory, listed "
				 "by Python's import system (sys.path[0]); "
				 "hivebox binds the script alone (grant it by "
				 "hand if the job lists it itself)");
		} else if (is_forbidden(o, p->path)) {
			k = omit(r, p->path,
				 "listed; hivebox never grants "
				 "%s whole",
				 p->path);
		} else if ((k = unit_add(s, p->path, false, &u)) == 0) {
			count_ops(u, p);
		}
	}
	return k;
}

/* Files read in dir that no unit covers yet. */
static unsigned loose_files(const struct hb_learn_obs *o, struct units *s,
			    const char *dir)
{
	_cleanup_free_ char *parent = NULL;
	unsigned n = 0;

	for (size_t i = 0; i < o->n_paths; i++) {
		const struct hb_learn_path *p = &o->paths[i];
		free(parent);
		parent = NULL;
		if (p->host == HB_LEARN_HOST_FILE && p->ops & HB_LEARN_READ &&
		    !is_implicit(o, p) && parent_of(p->path, &parent) == 0 &&
		    strcmp(parent, dir) == 0 &&
		    !unit_covering(s, p->path, false))
			n++;
	}
	return n;
}

/* Pass 3: files read.  Two or more in one directory grant the directory,
 * unless it is one never granted whole; a file alone grants itself. */
static int decide_file(const struct hb_learn_obs *o, struct units *s,
		       const struct hb_learn_path *p)
{
	_cleanup_free_ char *parent = NULL;
	struct unit *u;
	unsigned n;
	int k;

	if ((u = unit_covering(s, p->path, false))) {
		count_ops(u, p);
		return 0;
	}
	k = parent_of(p->path, &parent);
	if (k < 0)
		return k;
	n = loose_files(o, s, parent);
	if (n >= 2 && !is_forbidden(o, parent) &&
	    !listed(parent, &o->implicit)) {
		k = unit_add(s, parent, false, &u);
	} else {
		k = unit_add(s, p->path, false, &u);
		if (k == 0) {
			u->file = true;
			u->kept_files = n >= 2 ? n : 0;
		}
	}
	if (k == 0)
		count_ops(u, p);
	return k;
}

static int decide_reads(const struct hb_learn_obs *o, struct hb_learn_result *r,
			struct units *s)
{
	int k = 0;

	for (size_t i = 0; i < o->n_paths && k == 0; i++) {
		const struct hb_learn_path *p = &o->paths[i];
		if (!(p->ops & (HB_LEARN_READ | HB_LEARN_LIST)) ||
		    (p->ops & HB_LEARN_WRITES) || skip_path(o, r, p))
			continue;
		if (p->host == HB_LEARN_HOST_NONE)
			k = omit(r, p->path, "tried, but absent on the host");
		else if (p->host == HB_LEARN_HOST_LINK)
			k = omit(r, p->path,
				 "a symlink on the host: a policy "
				 "path must not be one; grant its target");
		else if (p->host == HB_LEARN_HOST_FILE)
			k = decide_file(o, s, p);
	}
	return k;
}

/* Drop every unit that another covers: a read-write one covers all under
 * it, a read-only one the read-only ones under it. */
static void collapse(struct units *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct unit *u = &s->u[i];
		for (size_t j = 0; j < s->n; j++) {
			struct unit *v = &s->u[j];
			if (i == j || !hb_path_under(u->path, v->path) ||
			    strcmp(u->path, v->path) == 0 || (u->rw && !v->rw))
				continue;
			v->files_read += u->files_read;
			v->dirs_listed += u->dirs_listed;
			v->written += u->written;
			v->created += u->created;
			v->removed += u->removed;
			v->renamed += u->renamed;
			free(u->path);
			*u = s->u[--s->n];
			i = (size_t)-1;
			break;
		}
	}
}

static void add_count(char *buf, size_t n, unsigned count, const char *one,
		      const char *many)
{
	size_t len = strlen(buf);

	if (!count)
		return;
	snprintf(buf + len, n - len, "%s%u %s", len ? ", " : "", count,
		 count == 1 ? one : many);
}

static void unit_why(const struct unit *u, const struct hb_learn_obs *o,
		     char *buf, size_t n)
{
	_cleanup_free_ char *parent = NULL;
	size_t len;

	buf[0] = '\0';
	add_count(buf, n, u->files_read, "file read", "files read");
	add_count(buf, n, u->dirs_listed, "directory listed",
		  "directories listed");
	add_count(buf, n, u->written, "file written", "files written");
	add_count(buf, n, u->created, "created", "created");
	add_count(buf, n, u->removed, "removed", "removed");
	add_count(buf, n, u->renamed, "renamed", "renamed");
	len = strlen(buf);
	if (u->file)
		snprintf(buf, n, "%s by the job%s", u->rw ? "written" : "read",
			 u->kept_files ? "" : ", alone in its directory");
	else
		snprintf(buf + len, n - len, " %s",
			 u->rw ? "(the nearest directory of them on the host)"
			       : "at or under it");
	if (u->kept_files && parent_of(u->path, &parent) == 0 &&
	    is_forbidden(o, parent)) {
		len = strlen(buf);
		snprintf(buf + len, n - len,
			 "; %s would cover all %u files read there, but "
			 "hivebox never grants %s whole",
			 parent, u->kept_files, parent);
	}
}

static int cmp_grant(const void *a, const void *b)
{
	const struct hb_learn_grant *x = a, *y = b;

	if (x->rw != y->rw)
		return x->rw ? 1 : -1;
	return strcmp(x->path, y->path);
}

static int take_units(const struct hb_learn_obs *o, struct units *s,
		      struct hb_learn_result *r)
{
	r->grants = calloc(s->n ? s->n : 1, sizeof(*r->grants));
	if (!r->grants)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		struct hb_learn_grant *g = &r->grants[r->n_grants];
		/* A policy line is at most 199 characters. */
		if (strlen(s->u[i].path) > 180) {
			int k = omit(r, s->u[i].path,
				     "longer than a policy "
				     "line may be; grant a directory above "
				     "it by hand");
			if (k < 0)
				return k;
			continue;
		}
		g->rw = s->u[i].rw;
		unit_why(&s->u[i], o, g->why, sizeof(g->why));
		g->path = TAKE_PTR(s->u[i].path);
		r->n_grants++;
	}
	qsort(r->grants, r->n_grants, sizeof(*r->grants), cmp_grant);
	return 0;
}

static int decide_paths(const struct hb_learn_obs *o, struct hb_learn_result *r)
{
	struct units s = {0};
	int k;

	k = decide_writes(o, r, &s);
	if (k == 0)
		k = decide_dirs(o, r, &s);
	if (k == 0)
		k = decide_reads(o, r, &s);
	if (k == 0) {
		for (size_t i = 0; i < o->n_paths; i++)
			r->implicit_used += is_implicit(o, &o->paths[i]);
		collapse(&s);
		k = take_units(o, &s, r);
	}
	units_free(&s);
	return k;
}

static int decide_execs(const struct hb_learn_obs *o, struct hb_learn_result *r)
{
	for (size_t i = 0; i < o->n_paths; i++) {
		const struct hb_learn_path *p = &o->paths[i];
		int k;
		if (!(p->ops & HB_LEARN_EXEC) ||
		    strcmp(p->path, o->interpreter) == 0)
			continue;
		k = omit(r, p->path,
			 "executed; a policy has no 'executables' key and "
			 "the sandbox has no program but the interpreter, "
			 "so this policy cannot bring %s in: do that work "
			 "in Python, or run the job outside hivebox",
			 p->path);
		if (k < 0)
			return k;
	}
	return 0;
}

/* ---- system calls --------------------------------------------------- */

/* The smallest group (not @python, which holds groups) naming nr. */
static const char *group_of(int nr)
{
	const char *best = NULL;
	size_t best_n = SIZE_MAX;

	for (size_t i = 0; i < hb_n_syscall_groups; i++) {
		bool set[HB_SYSCALL_NR_END] = {false};
		size_t n = 0;
		if (strcmp(hb_syscall_groups[i].name, "@python") == 0 ||
		    hb_syscalls_mark(hb_syscall_groups[i].syscalls, set) < 0 ||
		    !set[nr])
			continue;
		for (int j = 0; j < HB_SYSCALL_NR_END; j++)
			n += set[j];
		if (n < best_n) {
			best = hb_syscall_groups[i].name;
			best_n = n;
		}
	}
	return best;
}

static int decide_syscall(const struct hb_learn_obs *o,
			  struct hb_learn_result *r, int nr)
{
	_cleanup_free_ char *name =
		seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	char what[64];
	const char *g;

	snprintf(what, sizeof(what), "system call %s",
		 name ? name : "(unknown)");
	if (!name || hb_syscall_always_denied(name))
		return omit(r, what,
			    "no policy may allow it; it failed "
			    "during learning as it will under hivebox");
	if (!o->base_default_deny)
		return omit(r, what,
			    "the base policy denies it; take it "
			    "out of the base's deny list to allow it");
	g = group_of(nr);
	if (!g)
		return omit(r, what, "in no group a policy can name");
	if (hb_strv_contains(&r->groups, g))
		return 0;
	return hb_strv_push(&r->groups, g);
}

static int decide_syscalls(const struct hb_learn_obs *o,
			   struct hb_learn_result *r)
{
	for (int nr = 0; nr < HB_SYSCALL_NR_END; nr++) {
		int k = o->beyond[nr] ? decide_syscall(o, r, nr) : 0;
		if (k < 0)
			return k;
	}
	return 0;
}

/* ---- network -------------------------------------------------------- */

static bool name_gives(const struct hb_learn_obs *o, const char *addr)
{
	for (size_t i = 0; i < o->n_dests; i++) {
		const struct hb_learn_dest *d = &o->dests[i];
		char list[sizeof(d->resolved) + 2];
		char want[sizeof(d->addr) + 2];
		if (!d->dns_query || !d->resolved[0])
			continue;
		snprintf(list, sizeof(list), " %s ", d->resolved);
		snprintf(want, sizeof(want), " %s ", addr);
		if (strstr(list, want))
			return true;
	}
	return false;
}

static int add_port(struct hb_learn_result *r, unsigned port)
{
	for (size_t i = 0; i < r->n_ports; i++)
		if (r->ports[i] == port)
			return 0;
	if (r->n_ports == ARRAY_SIZE(r->ports))
		return -E2BIG;
	r->ports[r->n_ports++] = port;
	return 0;
}

static int decide_dest(const struct hb_learn_obs *o, struct hb_learn_result *r,
		       const struct hb_learn_dest *d, bool dns_seen)
{
	char what[96];

	snprintf(what, sizeof(what), d->port ? "%s %s port %u" : "%s %s",
		 d->unix_path	? "unix socket"
		 : d->dns_query ? "name"
				: (d->udp ? "udp" : "tcp"),
		 d->addr, d->port);
	if (d->unix_path)
		return omit(r, what,
			    "refused during learning: a host socket "
			    "is no part of a sandbox");
	if (!o->network)
		return omit(r, what,
			    "tried with the network off; learn "
			    "again with --network to allow it");
	if (d->dns_query) {
		if (!d->resolved[0])
			return omit(r, what,
				    "asked of DNS; the host does not "
				    "resolve it now");
		return hb_strv_contains(&r->domains, d->addr)
			       ? 0
			       : hb_strv_push(&r->domains, d->addr);
	}
	if (dns_seen && d->port == 53)
		return omit(r, what,
			    "DNS: hivebox resolves allowed_domains "
			    "at start, the sandbox needs no resolver");
	if (strncmp(d->addr, "127.", 4) == 0 || strcmp(d->addr, "::1") == 0)
		return omit(r, what,
			    "loopback: the sandbox's own, not the "
			    "host's");
	if (strchr(d->addr, ':'))
		return omit(r, what,
			    "IPv6: a filtered network carries "
			    "IPv4 only");
	if (!name_gives(o, d->addr) &&
	    !hb_strv_contains(&r->domains, d->addr)) {
		int k = hb_strv_push(&r->domains, d->addr);
		if (k < 0)
			return k;
	}
	return add_port(r, d->port);
}

static int decide_network(const struct hb_learn_obs *o,
			  struct hb_learn_result *r)
{
	bool dns_seen = false;

	for (size_t i = 0; i < o->n_dests; i++)
		dns_seen |= o->dests[i].dns_query;
	for (size_t i = 0; i < o->n_dests; i++) {
		int k = decide_dest(o, r, &o->dests[i], dns_seen);
		if (k < 0)
			return k;
	}
	/* A name the job asked for and connected to nothing of is kept:
	 * the job may need only that it resolves.  Ports need a name. */
	if (!r->domains.n)
		r->n_ports = 0;
	return 0;
}

/* ---- limits --------------------------------------------------------- */

static unsigned long long round_up(unsigned long long v, unsigned long long to)
{
	return (v + to - 1) / to * to;
}

static unsigned long long at_least(unsigned long long v, unsigned long long m)
{
	return v < m ? m : v;
}

static void decide_limits(const struct hb_learn_obs *o,
			  struct hb_learn_result *r)
{
	const struct hb_learn_peaks *p = &o->peaks;

	r->limits = o->base_limits;
	if (o->end != HB_LEARN_TIMED_OUT)
		r->limits.timeout_seconds =
			at_least(round_up(p->wall_ms * 3, 10000) / 1000, 10);
	r->limits.cpu_seconds =
		at_least(round_up(p->cpu_ms * 2, 5000) / 1000, 5);
	r->limits.memory_mb =
		at_least(round_up(p->memory_kb * 2, 32 * 1024) / 1024, 64);
	r->limits.max_processes = at_least(p->processes + 2, 2);
	r->limits.max_open_files =
		at_least(round_up(p->open_files * 2, 16), 32);
}

int hb_learn_decide(const struct hb_learn_obs *o, struct hb_learn_result *r)
{
	int k;

	memset(r, 0, sizeof(*r));
	k = decide_paths(o, r);
	if (k == 0)
		k = decide_execs(o, r);
	if (k == 0)
		k = decide_syscalls(o, r);
	if (k == 0)
		k = decide_network(o, r);
	if (k == 0 && o->unprintable)
		k = omit(r, "names with control characters",
			 "%zu paths or socket names the job used hold a byte "
			 "below 0x20 or 0x7f; none is written into a policy",
			 o->unprintable);
	if (k == 0)
		decide_limits(o, r);
	if (k < 0)
		hb_learn_result_free(r);
	return k;
}

/* ---- the policy text ------------------------------------------------ */

/* A comment, wrapped at 76 columns; every line of it starts with "; ". */
static void comment(FILE *out, const char *fmt, ...) _printf_(2, 3);

static void comment(FILE *out, const char *fmt, ...)
{
	char text[1024];
	const char *s = text;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* Nothing recorded holds one (hb_learn_printable); should anything
	 * else, it still cannot end the comment. */
	for (char *c = text; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	while (*s) {
		size_t n = strlen(s), cut = n;
		if (n > 74) {
			cut = 74;
			while (cut > 20 && s[cut] != ' ')
				cut--;
			if (s[cut] != ' ')
				cut = 74;
		}
		fprintf(out, "; %.*s\n", (int)cut, s);
		s += cut;
		while (*s == ' ')
			s++;
	}
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void write_head(const struct hb_learn_obs *o, FILE *out)
{
	comment(out,
		"Learned by hivebox learn from one run of %s under %s. "
		"Every line says why it is there; the run it was learned "
		"from is all it knows of the job, so review it before use.",
		o->script, base_name(o->base));
	if (!hb_learn_obs_ok(o))
		comment(out,
			"The job FAILED during learning (%s %d): this "
			"policy holds what it did before it failed.",
			o->end == HB_LEARN_EXITED     ? "exit status"
			: o->end == HB_LEARN_SIGNALED ? "signal"
						      : "timed out after",
			o->status);
	fputs("\n[policy]\n", out);
	comment(out,
		"Everything not said below is the base's, the policy "
		"the job was learned under (an absolute path, so that this "
		"file loads wherever it is put).");
	fprintf(out, "extends = %s\n", o->base);
	comment(out, "What this policy is for.");
	fprintf(out, "description = learned from %.80s\n",
		base_name(o->script));
}

static void write_limit(FILE *out, const char *key, unsigned long long v,
			unsigned long long base, const char *why)
{
	if (v > base)
		comment(out, "%s; above the base's %llu, which the job needed.",
			why, base);
	else
		comment(out, "%s.", why);
	fprintf(out, "%s = %llu\n", key, v);
}

static void write_limits(const struct hb_learn_obs *o,
			 const struct hb_learn_result *r, FILE *out)
{
	const struct hb_learn_peaks *p = &o->peaks;
	const struct hb_limits *b = &o->base_limits, *l = &r->limits;
	char why[160];

	fputs("\n[execution]\n", out);
	if (o->end == HB_LEARN_TIMED_OUT)
		snprintf(why, sizeof(why),
			 "The job ran into the base's "
			 "timeout while learning: kept");
	else
		snprintf(why, sizeof(why),
			 "Wall time %llu.%01llu s; three "
			 "times that, rounded up to 10 s, at least 10",
			 p->wall_ms / 1000, p->wall_ms % 1000 / 100);
	write_limit(out, "timeout_seconds", l->timeout_seconds,
		    b->timeout_seconds, why);
	snprintf(why, sizeof(why),
		 "CPU time %llu.%01llu s; twice that, "
		 "rounded up to 5 s, at least 5",
		 p->cpu_ms / 1000, p->cpu_ms % 1000 / 100);
	write_limit(out, "cpu_seconds", l->cpu_seconds, b->cpu_seconds, why);
	snprintf(why, sizeof(why),
		 "Peak memory %llu MiB resident; twice "
		 "that, rounded up to 32 MiB, at least 64",
		 (p->memory_kb + 1023) / 1024);
	write_limit(out, "memory_mb", l->memory_mb, b->memory_mb, why);
	snprintf(why, sizeof(why),
		 "At most %llu tasks (processes and threads) at "
		 "once; two more for headroom",
		 p->processes);
	write_limit(out, "max_processes", l->max_processes, b->max_processes,
		    why);
	snprintf(why, sizeof(why),
		 "Descriptors up to number %llu in one "
		 "process; twice that, rounded up to 16, at least 32",
		 p->open_files ? p->open_files - 1 : 0);
	write_limit(out, "max_open_files", l->max_open_files, b->max_open_files,
		    why);
	comment(out, "file_size_mb and tmp_size_mb are not measured: the "
		     "base's apply.");
}

static void write_paths(const struct hb_learn_obs *o,
			const struct hb_learn_result *r, FILE *out)
{
	fputs("\n[filesystem]\n", out);
	comment(out,
		"%zu paths the job used are in every sandbox already "
		"(the interpreter and its libraries, /proc, /dev, /tmp, the "
		"script itself).",
		r->implicit_used);
	if (!r->n_grants)
		comment(out, "It used nothing else of the host.");
	for (size_t i = 0; i < r->n_grants; i++) {
		const struct hb_learn_grant *g = &r->grants[i];
		comment(out, "%s", g->why);
		fprintf(out, "%s = %s\n", g->rw ? "read_write" : "read_only",
			g->path);
	}
	for (size_t i = 0; i < r->n_omits; i++)
		if (r->omits[i].what[0] == '/')
			comment(out, "Left out: %s: %s.", r->omits[i].what,
				r->omits[i].why);
	(void)o;
}

static void write_network(const struct hb_learn_obs *o,
			  const struct hb_learn_result *r, FILE *out)
{
	fputs("\n[network]\n", out);
	if (!r->domains.n) {
		comment(out,
			o->network
				? "The job reached no host that a "
				  "policy can allow: no network."
				: "Learned with the network off: no network.");
		fputs("mode = none\n", out);
	} else {
		comment(out, "The job connected out: a filtered network.");
		fputs("mode = filtered\n", out);
	}
	for (size_t i = 0; i < r->domains.n; i++) {
		comment(out, "The job %s %s.",
			strchr(r->domains.v[i], '.') &&
					!strspn(r->domains.v[i], "0123456789")
				? "looked up and used"
				: "connected to",
			r->domains.v[i]);
		fprintf(out, "allowed_domains = %s\n", r->domains.v[i]);
	}
	for (size_t i = 0; i < r->n_ports; i++) {
		comment(out, "The job connected to port %u.", r->ports[i]);
		fprintf(out, "allowed_ports = %u\n", r->ports[i]);
	}
	for (size_t i = 0; i < r->n_omits; i++)
		if (strncmp(r->omits[i].what, "tcp ", 4) == 0 ||
		    strncmp(r->omits[i].what, "udp ", 4) == 0 ||
		    strncmp(r->omits[i].what, "name ", 5) == 0 ||
		    strncmp(r->omits[i].what, "unix ", 5) == 0)
			comment(out, "Left out: %s: %s.", r->omits[i].what,
				r->omits[i].why);
}

static void write_syscalls(const struct hb_learn_obs *o,
			   const struct hb_learn_result *r, FILE *out)
{
	fputs("\n[syscalls]\n", out);
	if (!r->groups.n)
		comment(out, "The job made no system call beyond the base's.");
	else {
		comment(out, "The base's list first: a list key of this file "
			     "replaces the base's.");
		for (size_t i = 0; i < o->base_allow.n; i++)
			fprintf(out, "allow = %s\n", o->base_allow.v[i]);
	}
	for (size_t i = 0; i < r->groups.n; i++) {
		comment(out,
			"The job made calls of %s, which the base does "
			"not allow.",
			r->groups.v[i]);
		fprintf(out, "allow = %s\n", r->groups.v[i]);
	}
	for (size_t i = 0; i < r->n_omits; i++)
		if (strncmp(r->omits[i].what, "system call ", 12) == 0)
			comment(out, "Left out: %s: %s.", r->omits[i].what,
				r->omits[i].why);
}

void hb_learn_policy_write(const struct hb_learn_obs *o,
			   const struct hb_learn_result *r, FILE *out)
{
	write_head(o, out);
	write_limits(o, r, out);
	write_paths(o, r, out);
	write_network(o, r, out);
	write_syscalls(o, r, out);
}

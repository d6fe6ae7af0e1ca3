/* SPDX-License-Identifier: MIT */
/* hivebox doctor: the trail verifies, the policies of the policies
 * directory load and pass lint, and the host paths they name (to be
 * tried for idmapped mounts). */
#include "audit.h"
#include "config.h"
#include "doctor.h"
#include "policy.h"
#include "policy_explain.h"

#include <dirent.h>
#include <string.h>
#include <unistd.h>

/* The policies of dir (*.ini), sorted, as paths. */
static int list_policies(const char *dir, struct hb_strv *out)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort), r = 0;

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		char path[4200];

		if (r == 0 && len > 4 && strcmp(name + len - 4, ".ini") == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			r = hb_strv_push(out, path);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

/* The absolute paths of in: a relative one is relative to where each
 * run starts, which doctor cannot know. */
static void push_absolute(const struct hb_strv *in, struct hb_strv *out)
{
	for (size_t i = 0; i < in->n; i++) {
		char *abs = NULL;

		if (in->v[i][0] != '/' ||
		    hb_path_absolute("/", in->v[i], &abs) < 0)
			continue;
		if (hb_strv_contains(out, abs))
			free(abs);
		else
			(void)hb_strv_push_take(out, abs);
	}
}

/* The directories a root run searches (hivebox.conf's [policies], the
 * compiled-in ones where it names none or cannot be read: its own row
 * says why); c holds them. */
static void policy_dirs(const struct hb_doctor_opts *o, struct hb_config *c,
			struct hb_policy_dirs *dirs)
{
	struct hb_diag diag = {0};

	*dirs = (struct hb_policy_dirs){HB_POLICY_SYSTEM_DIR,
					HB_POLICY_SHIPPED_DIR};
	if (hb_config_policy_dirs(c, o->config, dirs, &diag) < 0) {
		hb_config_free(c);
		*dirs = (struct hb_policy_dirs){HB_POLICY_SYSTEM_DIR,
						HB_POLICY_SHIPPED_DIR};
	}
}

/* The policies doctor lints: --policies, else the machine's. */
static const char *policies_dir(const struct hb_doctor_opts *o,
				const struct hb_policy_dirs *dirs)
{
	return o->policies_dir ?: dirs->system ?: HB_POLICY_SYSTEM_DIR;
}

int hb_doctor_policy_paths(const struct hb_doctor_opts *o,
			   struct hb_strv *paths)
{
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	struct hb_strv files = {0};
	struct hb_config c = {0};
	struct hb_policy_dirs dirs;
	int r;

	if (!cwd)
		return -errno;
	policy_dirs(o, &c, &dirs);
	/* Where a root run idmaps the script: most often here. */
	r = hb_strv_push(paths, cwd);
	if (r == 0 && list_policies(policies_dir(o, &dirs), &files) < 0)
		hb_strv_clear(&files);
	for (size_t i = 0; r == 0 && i < files.n; i++) {
		struct hb_policy p;
		struct hb_diag d = {0};

		hb_policy_init(&p);
		p.dirs = dirs;
		if (hb_policy_load(&p, files.v[i], &d) == 0) {
			push_absolute(&p.read_only, paths);
			push_absolute(&p.read_write, paths);
		}
		hb_policy_free(&p);
	}
	hb_strv_clear(&files);
	hb_config_free(&c);
	return r;
}

/* The first line of a verify report that says FAIL, into buf. */
static void first_failure(const char *report, char *buf, size_t n)
{
	const char *at = strstr(report, ": FAIL at ");

	while (at && at > report && at[-1] != '\n')
		at--;
	snprintf(buf, n, "%.*s", at ? (int)strcspn(at, "\n") : 0, at ? at : "");
}

static int verify(struct hb_audit *a, char *bad, size_t n)
{
	_cleanup_free_ char *report = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&report, &size);
	int r = 0, worst = 0;

	if (!out)
		return -errno;
	for (int log = 0; r >= 0 && log < HB_LOG_MAX; log++) {
		r = hb_audit_verify(a, log, out);
		worst |= r > 0;
	}
	fclose(out);
	if (r < 0)
		return r;
	if (worst)
		first_failure(report ?: "", bad, n);
	return worst;
}

static void check_trail(const char *dir, const struct hb_doctor_opts *o,
			struct hb_doctor *d)
{
	struct hb_diag diag = {0};
	char text[HB_DIAG_TEXT_MAX], bad[300] = "";
	struct hb_doctor_row *row;
	struct hb_audit a;
	int r;

	if (access(dir, F_OK) < 0 && errno == ENOENT) {
		hb_doctor_add(d, "trail verifies", HB_VERDICT_OK, false,
			      "%s: no trail yet", dir);
		return;
	}
	r = hb_audit_open(&a, dir, o->key_file, HB_AUDIT_BOUND, &diag);
	if (r == 0)
		r = verify(&a, bad, sizeof(bad));
	hb_audit_close(&a);
	if (r < 0 && !diag.msg[0])
		hb_diag_set(&diag, dir, 0, "cannot verify: %s", strerror(-r));
	row = hb_doctor_add(d, "trail verifies",
			    r == 0 ? HB_VERDICT_OK : HB_VERDICT_FAIL, false,
			    "%s",
			    r == 0  ? dir
			    : r > 0 ? bad
				    : hb_diag_text(&diag, text, sizeof(text)));
	hb_doctor_fix(row,
		      "hivebox audit verify --dir %s; investigate "
		      "before anything else",
		      dir);
	hb_doctor_without(row, "runs go on; their records chain onto a trail "
			       "that no longer proves itself");
}

/* One policy: 0 ok, 1 lint warnings (the first in warn), or -errno with
 * diag set. */
static int lint(const char *path, const struct hb_policy_dirs *dirs,
		struct hb_lint *l, struct hb_diag *diag)
{
	_cleanup_free_ char *cwd = getcwd(NULL, 0), *parent_path = NULL;
	struct hb_policy p, parent;
	int r;

	hb_policy_init(&p);
	hb_policy_init(&parent);
	p.dirs = parent.dirs = *dirs;
	r = cwd ? hb_policy_load(&p, path, diag) : -errno;
	if (r == 0)
		r = hb_policy_parent_path(p.path, &p.dirs, &parent_path);
	if (r == 0 && parent_path)
		r = hb_policy_load(&parent, parent_path, diag);
	if (r == 0)
		r = hb_policy_lint(&p, parent_path ? &parent : NULL, cwd, l);
	if (r < 0 && !diag->msg[0])
		hb_diag_set(diag, path, 0, "cannot lint: %s", strerror(-r));
	hb_policy_free(&parent);
	hb_policy_free(&p);
	return r < 0 ? r : l->n > 0;
}

static void check_policy(const char *path, const struct hb_policy_dirs *dirs,
			 struct hb_doctor *d)
{
	struct hb_lint *l = calloc(1, sizeof(*l));
	struct hb_diag diag = {0};
	char text[HB_DIAG_TEXT_MAX];
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char row_name[48];
	struct hb_doctor_row *row;
	int r = l ? lint(path, dirs, l, &diag) : -ENOMEM;

	snprintf(row_name, sizeof(row_name), "policy %s", name);
	if (r < 0 && !diag.msg[0])
		hb_diag_set(&diag, path, 0, "%s", strerror(-r));
	row = hb_doctor_add(d, row_name,
			    r < 0 ? HB_VERDICT_FAIL
			    : r	  ? HB_VERDICT_WARN
				  : HB_VERDICT_OK,
			    false, "%s",
			    r < 0 ? hb_diag_text(&diag, text, sizeof(text))
				  : "passes lint");
	if (row && r > 0)
		snprintf(row->found, sizeof(row->found),
			 "%zu lint warning%s, the first: %.240s", l->n,
			 l->n == 1 ? "" : "s", l->w[0].msg);
	hb_doctor_fix(row, "hivebox policy lint %s", path);
	hb_doctor_without(row, "runs under this policy are refused");
	free(l);
}

static void check_policies(const struct hb_doctor_opts *o, struct hb_doctor *d)
{
	struct hb_config c = {0};
	struct hb_policy_dirs dirs;
	struct hb_strv files = {0};
	const char *dir;
	int r;

	policy_dirs(o, &c, &dirs);
	dir = policies_dir(o, &dirs);
	r = list_policies(dir, &files);

	if (r == -ENOENT)
		hb_doctor_add(d, "policies", HB_VERDICT_OK, false,
			      "%s: %s: none to lint", dir, strerror(-r));
	else if (r < 0)
		hb_doctor_add(d, "policies", HB_VERDICT_WARN, false,
			      "%s: %s: cannot lint them", dir, strerror(-r));
	else if (files.n == 0)
		hb_doctor_add(d, "policies", HB_VERDICT_OK, false,
			      "%s: no *.ini to lint", dir);
	for (size_t i = 0; i < files.n; i++)
		check_policy(files.v[i], &dirs, d);
	hb_strv_clear(&files);
	hb_config_free(&c);
}

void hb_doctor_trail(const struct hb_doctor_opts *o, const char *dir,
		     struct hb_doctor *d)
{
	if (dir)
		check_trail(dir, o, d);
	check_policies(o, d);
}

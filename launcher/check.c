/* SPDX-License-Identifier: MIT */
#include "check.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The analyzer's sandbox.  A megabyte of dense source, the most it
 * parses, takes ~350 MB of syntax tree; 200 ordinary files take a few
 * seconds of CPU.  It writes nothing, starts nothing and needs no
 * network; a call outside @python fails as under strict.ini. */
static const char analyzer_policy[] =
	"; made by hivebox check: the analyzer, on files it must not trust\n"
	"[policy]\n"
	"description = hivebox check: the analyzer on read-only files\n"
	"[execution]\n"
	"%s%s%s"
	"timeout_seconds = 120\n"
	"cpu_seconds = 60\n"
	"memory_mb = 512\n"
	"file_size_mb = 1\n"
	"max_processes = 2\n"
	"max_open_files = 32\n"
	"tmp_size_mb = 1\n"
	"[filesystem]\n"
	"%s"
	"[network]\n"
	"mode = none\n"
	"[syscalls]\n"
	"default = deny\n"
	"allow = @python\n"
	"on_violation = errno\n"
	"errno = EPERM\n";

/* One "read_only = PATH" line per file, absolute and each once: a list
 * key may repeat, and one line for all would pass the policy reader's
 * line limit. */
static int read_only_lines(const struct hb_check_req *req, const char *cwd,
			   char **ret)
{
	struct hb_strv seen = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int r = out ? 0 : -errno;

	for (size_t i = 0; r == 0 && i < req->n_files; i++) {
		_cleanup_free_ char *abs = NULL;
		r = hb_path_absolute(cwd, req->files[i], &abs);
		if (r < 0 || hb_strv_contains(&seen, abs))
			continue;
		fprintf(out, "read_only = %s\n", abs);
		r = hb_strv_push(&seen, abs);
	}
	hb_strv_clear(&seen);
	if (out && fclose(out) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	return 0;
}

int hb_check_policy_text(const struct hb_check_req *req, const char *cwd,
			 char **ret_text)
{
	const char *interp = req->context ? req->context->interpreter : NULL;
	_cleanup_free_ char *ro = NULL;
	int r = read_only_lines(req, cwd, &ro);

	if (r < 0)
		return r;
	if (asprintf(ret_text, analyzer_policy, interp ? "interpreter = " : "",
		     interp ? interp : "", interp ? "\n" : "", ro) < 0)
		return -ENOMEM;
	return 0;
}

static int push_list(struct hb_strv *argv, const char *option,
		     const struct hb_strv *list)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < list->n; i++) {
		r = hb_strv_push(argv, option);
		if (r == 0)
			r = hb_strv_push(argv, list->v[i]);
	}
	return r;
}

int hb_check_args(const struct hb_check_req *req, struct hb_strv *ret)
{
	const struct hb_policy *p = req->context;
	int r = 0;

	if (req->json)
		r = hb_strv_push(ret, "--json");
	if (r == 0 && req->sha256)
		r = hb_strv_push(ret, "--sha256");
	if (r == 0)
		r = hb_strv_push(ret, "--fail-at");
	if (r == 0)
		r = hb_strv_push(ret, hb_risk_to_string(req->fail_at));
	if (r == 0 && p) {
		r = hb_strv_push(ret, "--network");
		if (r == 0)
			r = hb_strv_push(
				ret, hb_net_mode_to_string(p->network_mode));
		if (r == 0)
			r = push_list(ret, "--ro", &p->read_only);
		if (r == 0)
			r = push_list(ret, "--rw", &p->read_write);
	}
	/* The files follow "--": a file named "--json" is a file. */
	if (r == 0)
		r = hb_strv_push(ret, "--");
	for (size_t i = 0; r == 0 && i < req->n_files; i++)
		r = hb_strv_push(ret, req->files[i]);
	return r;
}

int hb_check_exec_argv(const struct hb_check_req *req, const char *audit_dir,
		       const char *policy_path, struct hb_strv *ret)
{
	int r = hb_strv_push(ret, "hivebox");

	if (r == 0)
		r = hb_strv_push(ret, "--quiet");
	if (r == 0 && audit_dir) {
		r = hb_strv_push(ret, "--audit-dir");
		if (r == 0)
			r = hb_strv_push(ret, audit_dir);
	}
	if (r == 0)
		r = hb_strv_push(ret, "--policy");
	if (r == 0)
		r = hb_strv_push(ret, policy_path);
	if (r == 0)
		r = hb_strv_push(ret, req->analyzer);
	if (r == 0)
		r = hb_check_args(req, ret);
	return r;
}

int hb_check_policy_memfd(const char *text, char path[64])
{
	_cleanup_close_ int fd = memfd_create("hivebox-check.ini", 0);
	size_t len = strlen(text);
	int r;

	if (fd < 0)
		return -errno;
	r = hb_write_all(fd, text, len);
	if (r < 0)
		return r;
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return TAKE_FD(fd);
}

int hb_check_capture(char *const *argv, size_t max, char **ret_out,
		     int *ret_status)
{
	/* The run's stdin is the job's: the analyzer gets none. */
	return hb_run_capture("/proc/self/exe", argv, NULL, max, ret_out, NULL,
			      ret_status);
}

int hb_check_resolve(const char *cwd, const char *path, char **ret)
{
	_cleanup_free_ char *abs = NULL;
	char *real;
	int r = hb_path_absolute(cwd, path, &abs);

	if (r < 0)
		return r;
	real = realpath(abs, NULL);
	if (!real)
		return -errno;
	if (strcmp(real, abs) == 0) {
		free(real);
		real = strdup(path);
		if (!real)
			return -ENOMEM;
	}
	*ret = real;
	return 0;
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int hb_check_find_analyzer(char ret[PATH_MAX])
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	/* A binary in build/ of a source tree has the tree's analyzer at
	 * build/../scripts: a test of the tree tests the tree's analyzer,
	 * not one installed earlier.  Only there: an installed binary
	 * (/usr/bin/hivebox) never looks for a /usr/scripts. */
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash && slash - exe >= 6 &&
		    strncmp(slash - 6, "/build", 6) == 0) {
			*slash = '\0';
			if (snprintf(ret, PATH_MAX, "%s/../scripts/%s", exe,
				     HB_CHECK_ANALYZER) < PATH_MAX &&
			    is_file(ret))
				return 0;
		}
	}
	snprintf(ret, PATH_MAX, "%s/%s", HB_LIBEXECDIR, HB_CHECK_ANALYZER);
	return is_file(ret) ? 0 : -ENOENT;
}

int hb_check_file_ok(const char *cwd, const char *path, struct hb_diag *diag)
{
	_cleanup_free_ char *abs = NULL;
	size_t len = strlen(path);
	struct stat st;

	if (len == 0)
		return hb_diag_set(diag, NULL, 0,
				   "an empty file name to check");
	/* The file becomes a line "read_only = PATH" of the analyzer's
	 * policy, which the policy reader must read back as that path. */
	if (strpbrk(path, ",\n;#") || isspace((unsigned char)path[0]) ||
	    isspace((unsigned char)path[len - 1]))
		return hb_diag_set(diag, path, 0,
				   "cannot check: a policy cannot list a "
				   "name with ',', ';', '#', a newline or "
				   "spaces at either end");
	if (hb_path_absolute(cwd, path, &abs) < 0 ||
	    strlen(abs) > HB_CHECK_PATH_MAX)
		return hb_diag_set(diag, path, 0,
				   "cannot check: a policy cannot list a path "
				   "longer than %d characters",
				   HB_CHECK_PATH_MAX);
	if (stat(path, &st) < 0)
		return hb_diag_set(diag, path, 0, "cannot check: %s",
				   strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return hb_diag_set(diag, path, 0,
				   "cannot check: not a regular file or a "
				   "directory");
	return 0;
}

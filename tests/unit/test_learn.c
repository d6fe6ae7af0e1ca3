/* SPDX-License-Identifier: MIT */
/* learn_policy.c: observations in, grants, omissions and the policy text
 * out.  The observations are made by hand here, as the supervisor would
 * record them; the text is loaded again as a policy. */
#include "helpers.h"
#include "learn.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void obs_init(struct hb_learn_obs *o)
{
	memset(o, 0, sizeof(*o));
	o->base = repo_path("policies/strict.ini");
	o->script = strdup("/srv/gov/tally.py");
	o->interpreter = strdup("/usr/bin/python3");
	o->base_default_deny = true;
	o->base_limits = (struct hb_limits){60, 30, 256, 10, 4, 64, 16};
	cr_assert_eq(hb_strv_push(&o->base_allow, "@python"), 0);
	cr_assert_eq(hb_strv_push(&o->implicit, "/usr/lib/python3.11"), 0);
	cr_assert_eq(hb_strv_push(&o->implicit, "/proc"), 0);
	for (const char *const *f =
		     (const char *const[]){"/", "/etc", "/home", "/root",
					   "/home/alice", NULL};
	     *f; f++)
		cr_assert_eq(hb_strv_push(&o->forbidden, *f), 0);
	o->started = true; /* the script is open: everything is the job's */
	o->peaks = (struct hb_learn_peaks){.wall_ms = 4200,
					   .cpu_ms = 1300,
					   .memory_kb = 41000,
					   .processes = 1,
					   .open_files = 9};
}

/* Record op on path, whose host kind is host; anchor for a write. */
static void see(struct hb_learn_obs *o, const char *path, unsigned op,
		enum hb_learn_host host, const char *anchor)
{
	cr_assert_eq(hb_learn_obs_add_path(o, path, op), 0);
	for (size_t i = 0; i < o->n_paths; i++)
		if (strcmp(o->paths[i].path, path) == 0) {
			o->paths[i].host = host;
			if (anchor && !o->paths[i].anchor)
				o->paths[i].anchor = strdup(anchor);
		}
}

static const struct hb_learn_grant *grant(const struct hb_learn_result *r,
					  const char *path)
{
	for (size_t i = 0; i < r->n_grants; i++)
		if (strcmp(r->grants[i].path, path) == 0)
			return &r->grants[i];
	return NULL;
}

static const struct hb_learn_omit *omitted(const struct hb_learn_result *r,
					   const char *what)
{
	for (size_t i = 0; i < r->n_omits; i++)
		if (strcmp(r->omits[i].what, what) == 0)
			return &r->omits[i];
	return NULL;
}

static char *policy_text(const struct hb_learn_obs *o,
			 const struct hb_learn_result *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	hb_learn_policy_write(o, r, f);
	fclose(f);
	return text;
}

/* The text with its comments' line breaks taken out, to look for a
 * sentence wherever the wrapping cut it. */
static char *unwrapped(const char *text)
{
	char *out = strdup(text), *p;

	cr_assert_not_null(out);
	while ((p = strstr(out, "\n; ")))
		memmove(p, p + 2, strlen(p + 2) + 1), *p = ' ';
	return out;
}

/* The tally job: a config dir listed and two files read in it, a report
 * written through a temporary name, the interpreter's own files. */
static void tally(struct hb_learn_obs *o)
{
	see(o, "/srv/gov/config", HB_LEARN_LIST, HB_LEARN_HOST_DIR, NULL);
	see(o, "/srv/gov/config/a.ini", HB_LEARN_READ, HB_LEARN_HOST_FILE,
	    NULL);
	see(o, "/srv/gov/config/b.ini", HB_LEARN_READ, HB_LEARN_HOST_FILE,
	    NULL);
	see(o, "/srv/gov/report/t.tmp", HB_LEARN_WRITE | HB_LEARN_RENAME,
	    HB_LEARN_HOST_NONE, "/srv/gov/report");
	see(o, "/srv/gov/report/t.json", HB_LEARN_RENAME, HB_LEARN_HOST_NONE,
	    "/srv/gov/report");
	see(o, "/usr/lib/python3.11/json/__init__.py", HB_LEARN_READ,
	    HB_LEARN_HOST_FILE, NULL);
	see(o, "/srv/gov/tally.py", HB_LEARN_READ, HB_LEARN_HOST_FILE, NULL);
	see(o, "/srv/gov", HB_LEARN_LIST, HB_LEARN_HOST_DIR, NULL);
}

Test(learn, tally_grants_exactly_its_config_and_report_dirs)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;

	obs_init(&o);
	tally(&o);
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	cr_assert_eq(r.n_grants, 2);
	cr_assert_not_null(grant(&r, "/srv/gov/config"));
	cr_assert(!grant(&r, "/srv/gov/config")->rw);
	cr_assert_not_null(grant(&r, "/srv/gov/report"));
	cr_assert(grant(&r, "/srv/gov/report")->rw);
	cr_assert_str_eq(grant(&r, "/srv/gov/config")->why,
			 "2 files read, 1 directory listed at or under it");
	/* The script, its directory's import scan, the interpreter's. */
	cr_assert_eq(r.implicit_used, 2);
	cr_assert_not_null(omitted(&r, "/srv/gov"));
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

Test(learn, a_file_alone_is_granted_itself_two_grant_their_dir)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;

	obs_init(&o);
	see(&o, "/srv/one/only.conf", HB_LEARN_READ, HB_LEARN_HOST_FILE, NULL);
	see(&o, "/srv/two/x.conf", HB_LEARN_READ, HB_LEARN_HOST_FILE, NULL);
	see(&o, "/srv/two/y.conf", HB_LEARN_READ, HB_LEARN_HOST_FILE, NULL);
	see(&o, "/srv/absent.conf", HB_LEARN_READ, HB_LEARN_HOST_NONE, NULL);
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	cr_assert_eq(r.n_grants, 2);
	cr_assert_not_null(grant(&r, "/srv/one/only.conf"));
	cr_assert_not_null(grant(&r, "/srv/two"));
	cr_assert_not_null(omitted(&r, "/srv/absent.conf"));
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

Test(learn, never_widens_to_etc_or_a_home_and_says_so)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;
	const struct hb_learn_omit *m;

	obs_init(&o);
	see(&o, "/etc/gov.conf", HB_LEARN_READ, HB_LEARN_HOST_FILE, NULL);
	see(&o, "/etc/gov.secret", HB_LEARN_READ, HB_LEARN_HOST_FILE, NULL);
	see(&o, "/home/alice/out.txt", HB_LEARN_WRITE, HB_LEARN_HOST_NONE,
	    "/home/alice");
	see(&o, "/etc", HB_LEARN_LIST, HB_LEARN_HOST_DIR, NULL);
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	cr_assert_eq(r.n_grants, 2);
	cr_assert_not_null(grant(&r, "/etc/gov.conf"));
	cr_assert_not_null(strstr(grant(&r, "/etc/gov.conf")->why,
				  "/etc would cover all 2 files read there, "
				  "but hivebox never grants /etc whole"));
	cr_assert_null(grant(&r, "/etc"));
	cr_assert_null(grant(&r, "/home/alice"));
	m = omitted(&r, "/home/alice/out.txt");
	cr_assert_not_null(m);
	cr_assert_not_null(strstr(m->why, "never grants /home/alice whole"));
	cr_assert_not_null(omitted(&r, "/etc"));
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

Test(learn, an_existing_file_in_a_home_is_granted_alone_for_writing)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;

	obs_init(&o);
	see(&o, "/home/alice/ledger.csv", HB_LEARN_WRITE, HB_LEARN_HOST_FILE,
	    "/home/alice");
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	cr_assert_eq(r.n_grants, 1);
	cr_assert(grant(&r, "/home/alice/ledger.csv")->rw);
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

Test(learn, what_a_wider_grant_covers_is_folded_into_it)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;

	obs_init(&o);
	see(&o, "/srv/data/in/a.csv", HB_LEARN_READ, HB_LEARN_HOST_FILE, NULL);
	see(&o, "/srv/data/in", HB_LEARN_LIST, HB_LEARN_HOST_DIR, NULL);
	see(&o, "/srv/data/new/out.csv", HB_LEARN_CREATE, HB_LEARN_HOST_NONE,
	    "/srv/data");
	see(&o, "/srv/data/sub/deeper", HB_LEARN_LIST, HB_LEARN_HOST_DIR, NULL);
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	cr_assert_eq(r.n_grants, 1);
	cr_assert(grant(&r, "/srv/data")->rw);
	cr_assert_str_eq(grant(&r, "/srv/data")->why,
			 "1 file read, 2 directories listed, 1 created (the "
			 "nearest directory of them on the host)");
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

Test(learn, startup_bytecode_and_tmp_are_not_the_jobs)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;

	obs_init(&o);
	o.started = false;
	see(&o, "/etc/ld.so.cache", HB_LEARN_READ, HB_LEARN_HOST_FILE, NULL);
	o.started = true;
	see(&o, "/tmp/scratch", HB_LEARN_CREATE, HB_LEARN_HOST_NONE, "/tmp");
	see(&o, "/srv/gov/__pycache__", HB_LEARN_CREATE, HB_LEARN_HOST_NONE,
	    "/srv/gov");
	see(&o, "/srv/gov/__pycache__/m.cpython-311.pyc.1401", HB_LEARN_WRITE,
	    HB_LEARN_HOST_NONE, "/srv/gov");
	see(&o, "/tmp/host-file", HB_LEARN_READ, HB_LEARN_HOST_FILE, NULL);
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	/* Only the host's own file under /tmp is the job's to be given. */
	cr_assert_eq(r.n_grants, 1);
	cr_assert_not_null(grant(&r, "/tmp/host-file"));
	cr_assert_not_null(omitted(&r, "__pycache__"));
	cr_assert_eq(r.implicit_used, 2);
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

Test(learn, an_executable_cannot_be_brought_in_and_the_policy_says_so)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;
	char *text, *flat;

	obs_init(&o);
	see(&o, "/usr/bin/python3", HB_LEARN_EXEC, HB_LEARN_HOST_FILE, NULL);
	see(&o, "/bin/date", HB_LEARN_EXEC, HB_LEARN_HOST_FILE, NULL);
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	cr_assert_null(omitted(&r, "/usr/bin/python3"));
	cr_assert_not_null(omitted(&r, "/bin/date"));
	text = policy_text(&o, &r);
	flat = unwrapped(text);
	cr_assert_not_null(strstr(flat, "Left out: /bin/date: executed; a "
					"policy has no 'executables' key"),
			   "%s", text);
	cr_assert_not_null(strstr(flat, "this policy cannot bring /bin/date "
					"in: do that work in Python, or run "
					"the job outside hivebox."),
			   "%s", text);
	free(flat);
	free(text);
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

Test(learn, syscall_groups_beyond_the_base_only_those_allowed)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;
	char *text;

	obs_init(&o);
	o.beyond[seccomp_syscall_resolve_name("memfd_create")] = true;
	o.beyond[seccomp_syscall_resolve_name("add_key")] = true;
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	cr_assert_eq(r.groups.n, 1);
	cr_assert_str_eq(r.groups.v[0], "@hidden-memory");
	cr_assert_not_null(omitted(&r, "system call add_key"));
	text = policy_text(&o, &r);
	/* A list key replaces the base's: the base's group comes first. */
	cr_assert_not_null(strstr(text, "allow = @python\n"), "%s", text);
	cr_assert_not_null(strstr(text, "allow = @hidden-memory\n"), "%s",
			   text);
	free(text);
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

Test(learn, network_names_and_ports_from_what_was_tried)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;

	obs_init(&o);
	o.network = true;
	hb_learn_obs_add_dest(&o, "api.hbtest", 0, true, true, false);
	snprintf(o.dests[0].resolved, sizeof(o.dests[0].resolved),
		 "10.249.0.2");
	hb_learn_obs_add_dest(&o, "10.249.0.1", 53, true, false, false);
	hb_learn_obs_add_dest(&o, "10.249.0.2", 8080, false, false, false);
	hb_learn_obs_add_dest(&o, "10.9.9.9", 443, false, false, false);
	hb_learn_obs_add_dest(&o, "gone.hbtest", 0, true, true, false);
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	cr_assert_eq(r.domains.n, 2);
	cr_assert_str_eq(r.domains.v[0], "api.hbtest");
	cr_assert_str_eq(r.domains.v[1], "10.9.9.9");
	cr_assert_eq(r.n_ports, 2);
	cr_assert_eq(r.ports[0], 8080);
	cr_assert_eq(r.ports[1], 443);
	cr_assert_not_null(omitted(&r, "udp 10.249.0.1 port 53"));
	cr_assert_not_null(omitted(&r, "name gone.hbtest"));
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

Test(learn, without_network_nothing_tried_is_allowed)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;

	obs_init(&o);
	hb_learn_obs_add_dest(&o, "10.9.9.9", 443, false, false, false);
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	cr_assert_eq(r.domains.n, 0);
	cr_assert_eq(r.n_ports, 0);
	cr_assert_not_null(
		strstr(omitted(&r, "tcp 10.9.9.9 port 443")->why, "--network"));
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

Test(learn, limits_from_peaks_with_headroom_rounded)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;

	obs_init(&o);
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	cr_assert_eq(r.limits.timeout_seconds, 20); /* 4.2 s x 3 -> 20 */
	cr_assert_eq(r.limits.cpu_seconds, 5);	    /* 1.3 s x 2 -> 5 */
	cr_assert_eq(r.limits.memory_mb, 96);	    /* 40 MiB x 2 -> 96 */
	cr_assert_eq(r.limits.max_processes, 3);
	cr_assert_eq(r.limits.max_open_files, 32);
	cr_assert_eq(r.limits.file_size_mb, 10); /* the base's */
	hb_learn_result_free(&r);
	o.end = HB_LEARN_TIMED_OUT;
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	cr_assert_eq(r.limits.timeout_seconds, 60); /* kept */
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

/* Every key line has a comment right above it; no line is longer than
 * the reader's 199 characters; and the text loads as a policy. */
Test(learn, the_policy_text_is_commented_and_loads)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;
	struct hb_policy p;
	struct hb_diag d = {0};
	char *text, *dir, *file, *line, *save = NULL, *prev = NULL;

	obs_init(&o);
	tally(&o);
	o.end = HB_LEARN_EXITED;
	o.status = 3;
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	text = policy_text(&o, &r);
	cr_assert_not_null(strstr(text, "The job FAILED during learning "
					"(exit status 3)"),
			   "%s", text);
	dir = tmpdir_new();
	make_file(dir, "learned.ini", text);
	file = path_join(dir, "learned.ini");
	hb_policy_init(&p);
	cr_assert_eq(hb_policy_load(&p, file, &d), 0, "%s:%u: %s", d.file,
		     d.line, d.msg);
	cr_assert_eq(p.read_only.n, 1);
	cr_assert_str_eq(p.read_only.v[0], "/srv/gov/config");
	cr_assert_eq(p.read_write.n, 1);
	cr_assert_str_eq(p.read_write.v[0], "/srv/gov/report");
	cr_assert_eq(p.limits.timeout_seconds, 20);
	hb_policy_free(&p);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		cr_assert_lt(strlen(line), 200, "%s", line);
		if (line[0] != ';' && line[0] != '[')
			cr_assert(prev && prev[0] == ';',
				  "no comment above '%s'", line);
		prev = line;
	}
	free(text);
	free(file);
	tmpdir_remove(dir);
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

/* A query for Api.HBtest, type A, class IN, as a resolver sends it. */
static const unsigned char query[] = {
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 3,	  'A',	'p',  'i',  6,	  'H',	'B',  't',
	'e',  's',  't',  0,	0x00, 0x01, 0x00, 0x01,
};

Test(learn, dns_queries_give_their_name_and_nothing_else_does)
{
	unsigned char q[sizeof(query)];
	char name[256];

	cr_assert(hb_learn_dns_name(query, sizeof(query), name, sizeof(name)));
	cr_assert_str_eq(name, "api.hbtest");
	/* Cut before its type and class. */
	cr_assert(!hb_learn_dns_name(query, sizeof(query) - 3, name,
				     sizeof(name)));
	/* An answer, not a query. */
	memcpy(q, query, sizeof(q));
	q[2] |= 0x80;
	cr_assert(!hb_learn_dns_name(q, sizeof(q), name, sizeof(name)));
	/* Two questions. */
	memcpy(q, query, sizeof(q));
	q[5] = 2;
	cr_assert(!hb_learn_dns_name(q, sizeof(q), name, sizeof(name)));
	/* A label running past the end. */
	memcpy(q, query, sizeof(q));
	q[12] = 60;
	cr_assert(!hb_learn_dns_name(q, sizeof(q), name, sizeof(name)));
	/* A control character in a label. */
	memcpy(q, query, sizeof(q));
	q[14] = '\n';
	cr_assert(!hb_learn_dns_name(q, sizeof(q), name, sizeof(name)));
	/* No room for the name. */
	cr_assert(!hb_learn_dns_name(query, sizeof(query), name, 8));
}

/* A module beside the script: the file alone, not the script's
 * directory, and not what Python caches of it. */
Test(learn, a_sibling_module_is_granted_alone)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;

	obs_init(&o);
	see(&o, "/srv/gov/tally.py", HB_LEARN_READ, HB_LEARN_HOST_FILE, NULL);
	see(&o, "/srv/gov", HB_LEARN_LIST, HB_LEARN_HOST_DIR, NULL);
	see(&o, "/srv/gov/helper.py", HB_LEARN_READ, HB_LEARN_HOST_FILE, NULL);
	see(&o, "/srv/gov/__pycache__", HB_LEARN_CREATE, HB_LEARN_HOST_NONE,
	    "/srv/gov");
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	cr_assert_eq(r.n_grants, 1);
	cr_assert(!grant(&r, "/srv/gov/helper.py")->rw);
	cr_assert_str_eq(grant(&r, "/srv/gov/helper.py")->why,
			 "read by the job, alone in its directory");
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

/* Paths are read from the caller's memory through /proc/PID/mem: here
 * from our own, a string ending just before an unmapped page, one that
 * runs into it, and one longer than a path may be. */
Test(learn, paths_are_read_up_to_their_end_and_no_further)
{
	char *pages = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char buf[PATH_MAX];
	int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);

	cr_assert_geq(mem, 0);
	cr_assert_neq(pages, MAP_FAILED);
	cr_assert_eq(munmap(pages + 2 * 4096, 4096), 0);
	memcpy(pages + 2 * 4096 - 5, "/etc", 5);
	cr_assert_eq(
		hb_learn_read_str(mem, (uintptr_t)(pages + 2 * 4096 - 5), buf),
		0);
	cr_assert_str_eq(buf, "/etc");
	memcpy(pages + 2 * 4096 - 4, "/etc", 4); /* no NUL before the hole */
	cr_assert_eq(
		hb_learn_read_str(mem, (uintptr_t)(pages + 2 * 4096 - 4), buf),
		-EFAULT);
	memset(pages, 'a', 2 * 4096); /* page-aligned, longer than PATH_MAX */
	cr_assert_eq(hb_learn_read_str(mem, (uintptr_t)pages, buf),
		     -ENAMETOOLONG);
	cr_assert_eq(hb_learn_read_str(mem, (uintptr_t)(pages + 2 * 4096), buf),
		     -EFAULT);
	munmap(pages, 2 * 4096);
	close(mem);
}

/* A job names what it likes: a newline in a path it made would end the
 * comment it is quoted in and put a line of its own into the policy. */
Test(learn, a_path_with_a_control_character_is_never_written)
{
	struct hb_learn_obs o;
	struct hb_learn_result r;
	_cleanup_free_ char *text = NULL;

	obs_init(&o);
	tally(&o);
	cr_assert_eq(hb_learn_obs_add_path(&o, "/etc/x\nread_write = /usr\n;",
					   HB_LEARN_CREATE),
		     0);
	cr_assert_eq(hb_learn_obs_add_path(&o, "/srv/a\033[2Jb", HB_LEARN_READ),
		     0);
	cr_assert_eq(hb_learn_obs_add_dest(&o, "/run/s\nread_write = /", 0,
					   false, false, true),
		     0);
	cr_assert_eq(o.unprintable, 3);
	cr_assert_eq(hb_learn_decide(&o, &r), 0);
	cr_assert_not_null(omitted(&r, "names with control characters"));
	text = policy_text(&o, &r);
	cr_assert_null(strstr(text, "read_write = /usr"), "%s", text);
	cr_assert_null(strstr(text, "read_write = /\n"), "%s", text);
	cr_assert_null(strchr(text, '\033'), "%s", text);
	hb_learn_result_free(&r);
	hb_learn_obs_free(&o);
}

/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the audit-trail readers.  Each input becomes an audit
 * directory, which `hivebox audit verify`, `audit show` and `audit stats`
 * then read, printing to /dev/null.  An input is
 *
 *     OPTIONS '\n'
 *     "--8<-- " FILE '\n' CONTENT     (any number of times)
 *
 * where FILE is one of the names below and CONTENT runs to the next line
 * that starts with "--8<-- " (or to the end: only the last file can end
 * without a newline).  A file not named is absent.  OPTIONS are words:
 * "key" (the trail is keyed with KEY below; else no key is loaded),
 * "json", and the filters "exec=ID", "since=TIME", "event=KIND",
 * "script=PATH".  tests/fuzz/corpus/audit/ holds real trails so written. */
#include "audit.h"
#include "audit_show.h"
#include "fuzz_util.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

/* The key the seeds' keyed trails were written with; not a secret. */
#define KEY "hivebox fuzz key: not a secret!!"
#define CUT "--8<-- "
#define CUT_LEN (sizeof(CUT) - 1)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const files[] = {
	HB_AUDIT_EXEC_LOG,
	HB_AUDIT_EXEC_LOG ".head",
	HB_AUDIT_EXEC_LOG ".000000000001",
	HB_AUDIT_SECURITY_LOG,
	HB_AUDIT_SECURITY_LOG ".head",
	HB_AUDIT_SECURITY_LOG ".000000000001",
};

struct input {
	char options[256];
	struct hb_audit_query q;
	bool key;
	const uint8_t *content[ARRAY_SIZE(files)];
	size_t len[ARRAY_SIZE(files)];
};

static char *trail;    /* the audit directory */
static char *key_file; /* holds KEY */
static int trail_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_tmpdir();
	int fd;

	(void)argc;
	(void)argv;
	if (asprintf(&trail, "%s/trail", dir) < 0 ||
	    asprintf(&key_file, "%s/audit.key", dir) < 0)
		fuzz_die("asprintf");
	if (mkdir(trail, 0700) < 0)
		fuzz_die(trail);
	trail_fd = open(trail, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (trail_fd < 0 || fd < 0)
		fuzz_die(dir);
	fuzz_put_file(fd, "audit.key", KEY, HB_AUDIT_KEY_LEN);
	close(fd);
	return 0;
}

static void parse_options(struct input *in, const uint8_t *data, size_t len)
{
	char *save = NULL;

	if (len >= sizeof(in->options))
		len = sizeof(in->options) - 1;
	memcpy(in->options, data, len);
	in->options[len] = '\0';
	for (char *w = strtok_r(in->options, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (strcmp(w, "key") == 0)
			in->key = true;
		else if (strcmp(w, "json") == 0)
			in->q.json = true;
		else if (strncmp(w, "exec=", 5) == 0)
			in->q.exec_id = w + 5;
		else if (strncmp(w, "since=", 6) == 0)
			in->q.since = w + 6;
		else if (strncmp(w, "event=", 6) == 0)
			in->q.event = w + 6;
		else if (strncmp(w, "script=", 7) == 0)
			in->q.script = w + 7;
	}
}

/* The next line of p[0..n) that starts with CUT, or NULL. */
static const uint8_t *next_cut(const uint8_t *p, size_t n)
{
	const uint8_t *m;

	if (n >= CUT_LEN && memcmp(p, CUT, CUT_LEN) == 0)
		return p;
	m = memmem(p, n, "\n" CUT, CUT_LEN + 1);
	return m ? m + 1 : NULL;
}

/* The file a CUT line names, the line's end in *ret_end; -1 for a name
 * not in files[] (its content is dropped). */
static int cut_file(const uint8_t *cut, const uint8_t *end,
		    const uint8_t **ret_end)
{
	const uint8_t *name = cut + CUT_LEN;
	const uint8_t *nl = memchr(name, '\n', (size_t)(end - name));
	size_t len = (size_t)((nl ? nl : end) - name);

	*ret_end = nl ? nl + 1 : end;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (strlen(files[i]) == len && memcmp(files[i], name, len) == 0)
			return (int)i;
	return -1;
}

static void parse_input(struct input *in, const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size;
	const uint8_t *nl = memchr(data, '\n', size);
	const uint8_t *cut;

	memset(in, 0, sizeof(*in));
	parse_options(in, data, (size_t)((nl ? nl : end) - data));
	if (!nl)
		return;
	cut = next_cut(nl + 1, (size_t)(end - nl - 1));
	while (cut) {
		const uint8_t *body, *next;
		int i = cut_file(cut, end, &body);
		next = next_cut(body, (size_t)(end - body));
		if (i >= 0) {
			in->content[i] = body;
			in->len[i] = (size_t)((next ? next : end) - body);
		}
		cut = next;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	struct hb_audit a;
	struct hb_diag d = {0};

	parse_input(&in, data, size);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		fuzz_put_file(trail_fd, files[i], in.content[i], in.len[i]);
	if (hb_audit_open(&a, trail, in.key ? key_file : NULL, 0, &d) < 0)
		fuzz_die(d.msg);
	for (int log = 0; log < HB_LOG_MAX; log++) {
		int r = hb_audit_verify(&a, log, fuzz_devnull());
		/* Whatever the bytes, a trail of regular files is judged
		 * intact (0) or not (1): an error would make `audit verify`
		 * say it cannot verify instead of naming the bad record. */
		if (r < 0 && r != -ENOMEM)
			fuzz_fail("fuzz_audit: verify %s: %s", hb_log_name(log),
				  strerror(-r));
	}
	hb_audit_show(&a, &in.q, fuzz_devnull());
	hb_audit_stats(&a, &in.q, fuzz_devnull());
	hb_audit_close(&a);
	return 0;
}

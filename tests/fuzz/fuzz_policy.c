/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the policy parser.  Each input is one INI file, taken
 * the way `hivebox policy show` takes a policy: parsed on top of the
 * built-in defaults, validated, then printed (here to /dev/null), or its
 * diagnostic printed. */
#include "fuzz_util.h"
#include "policy.h"

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#define NAME "fuzz.ini"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int dir_fd = -1;
static char *path; /* NAME in the scratch directory: the input's name */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_tmpdir();

	(void)argc;
	(void)argv;
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		fuzz_die(dir);
	if (asprintf(&path, "%s/%s", dir, NAME) < 0)
		fuzz_die("asprintf");
	return 0;
}

/* extends names a file relative to the directory of the one naming it.
 * The input is also NAME on disk, so that a policy may extend itself (a
 * cycle, refused after a few files) or a file that is not there.  A name
 * without '/' cannot leave the scratch directory (the search beyond it
 * is turned off below); one with '/' could
 * reach any file of the machine, so such an input is parsed at a depth
 * past any limit, where every extends is refused and no file is read. */
static int extends_depth(const uint8_t *data, size_t size)
{
	if (!memmem(data, size, "extends", 7))
		return 0;
	if (memchr(data, '/', size))
		return INT_MAX;
	fuzz_put_file(dir_fd, NAME, data, size);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int depth = extends_depth(data, size);
	FILE *f;
	int r;

	/* fmemopen() refuses an empty buffer; /dev/null is empty too. */
	f = size ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "re");
	if (!f)
		fuzz_die("fmemopen");
	hb_policy_init(&p);
	/* A bare name is searched next to the file only, never in the
	 * machine's policy directories. */
	p.dirs = (struct hb_policy_dirs){NULL, NULL};
	r = hb_policy_parse(&p, f, path, depth, &d);
	fclose(f);
	if (r == 0)
		r = hb_policy_validate(&p, &d);
	if (r == 0)
		hb_policy_show(&p, fuzz_devnull());
	else
		hb_diag_print(&d, fuzz_devnull());
	hb_policy_free(&p);
	/* `hivebox` prints the diagnostic and nothing else: a refusal
	 * without a message would leave the user with no reason. */
	if (r < 0 && r != -ENOMEM && !d.msg[0])
		fuzz_fail("fuzz_policy: refused (%s) without a message",
			  strerror(-r));
	return 0;
}

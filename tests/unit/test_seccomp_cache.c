/* SPDX-License-Identifier: MIT */
/* seccomp_cache.c: the key covers every input of the compiler; a cached
 * program, its address written in, is byte for byte the one libseccomp
 * compiles; a file that is not root's alone, or not what its header says,
 * is never loaded, and the cache then compiles and replaces it. */
#include "helpers.h"
#include "seccomp_cache.h"
#include "seccomp_filter.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <seccomp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ALLOW_LIST "[syscalls]\ndefault = deny\nallow = @python\n"

/* The address of the interpreter's path, as a run passes it: fixed, not
 * this binary's own, whose high half is random (ASLR, 0x5555 to 0x5655)
 * and can equal a constant of the allow-list (0x5600 does), where a run
 * compiles afresh (patch_refuses_an_address_the_program_shares): a test
 * of a hit must not depend on where the binary was loaded.  One full
 * unit run in about thirty failed on it. */
#define EXEC_ADDR ((uintptr_t)0x000055d0c0ffee10)

/* Policies whose filters differ in each way the compiler knows. */
static const char *const policies[] = {
	"",
	ALLOW_LIST,
	"[filesystem]\nblocked_operations = truncate, delete\n",
	"[filesystem]\nblocked_operations = truncate\n" ALLOW_LIST,
	"[syscalls]\ndeny = mkdir\n",
};

static void input_of_text(const char *text, struct hb_filter_input *in)
{
	struct hb_policy p;
	struct hb_diag d = {0};
	int r = parse_text(&p, text, &d);

	if (r == 0)
		r = hb_policy_validate(&p, &d);
	if (r == 0)
		r = hb_filter_input_of(&p, in, &d);
	hb_policy_free(&p);
	cr_assert_eq(r, 0, "%s:%u: %s\nfor:\n%s", d.file, d.line, d.msg, text);
}

static void key_of(const struct hb_filter_input *in,
		   unsigned char key[HB_FILTER_KEY_BYTES])
{
	cr_assert_eq(hb_filter_key(in, key), 0);
}

static bool same_key(const struct hb_filter_input *a,
		     const struct hb_filter_input *b)
{
	unsigned char ka[HB_FILTER_KEY_BYTES], kb[HB_FILTER_KEY_BYTES];

	key_of(a, ka);
	key_of(b, kb);
	return memcmp(ka, kb, sizeof(ka)) == 0;
}

/* ------------------------------------------------------------- the key */

Test(filter_key, names_the_builds_it_depends_on)
{
	struct hb_filter_input in;
	_cleanup_free_ char *text = NULL;
	const struct scmp_version *v = seccomp_version();
	char want[64];

	input_of_text(ALLOW_LIST, &in);
	cr_assert_eq(hb_filter_key_text(&in, &text), 0);
	/* The test binary's own build id: a hex string, not empty. */
	cr_assert(strstr(text, "\nhivebox build-id ") &&
			  !strstr(text, "\nhivebox build-id \n"),
		  "%s", text);
	snprintf(want, sizeof(want), "\nlibseccomp %u.%u.%u build-id ",
		 v->major, v->minor, v->micro);
	cr_assert(strstr(text, want), "%s", text);
	cr_assert(!strstr(text, "build-id none"), "libseccomp's: %s", text);
	snprintf(want, sizeof(want), "\narch %#x\n", seccomp_arch_native());
	cr_assert(strstr(text, want), "%s", text);
	cr_assert(strstr(text, "\nguard "), "%s", text);
	cr_assert(strstr(text, "\nioctl "), "%s", text);
}

Test(filter_key, same_input_same_key)
{
	struct hb_filter_input a, b;

	for (size_t i = 0; i < ARRAY_SIZE(policies); i++) {
		input_of_text(policies[i], &a);
		input_of_text(policies[i], &b);
		cr_assert(same_key(&a, &b), "policy %zu", i);
	}
}

/* Every field of the input, changed alone, changes the key. */
Test(filter_key, every_field_counts)
{
	struct hb_filter_input base, in;
	bool *sets[] = {in.allow, in.denied, in.blocked, in.newer};

	input_of_text(ALLOW_LIST, &base);
	in = base;
	in.default_deny = !in.default_deny;
	cr_assert_not(same_key(&base, &in), "default_deny");
	in = base;
	in.inet = !in.inet;
	cr_assert_not(same_key(&base, &in), "inet");
	in = base;
	in.truncate_blocked = !in.truncate_blocked;
	cr_assert_not(same_key(&base, &in), "truncate_blocked");
	in = base;
	in.own_terminal = !in.own_terminal;
	cr_assert_not(same_key(&base, &in), "own_terminal");
	for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
		for (int nr = 0; nr < HB_SYSCALL_NR_END; nr += 37) {
			in = base;
			sets[s][nr] = !sets[s][nr];
			cr_assert_not(same_key(&base, &in), "set %zu, nr %d", s,
				      nr);
		}
	}
}

/* Distinct policies, distinct keys; what the BPF does not depend on (the
 * errno a denied call returns, answered by the supervisor) shares one. */
Test(filter_key, of_policies)
{
	struct hb_filter_input a, b;

	for (size_t i = 0; i < ARRAY_SIZE(policies); i++)
		for (size_t j = i + 1; j < ARRAY_SIZE(policies); j++) {
			input_of_text(policies[i], &a);
			input_of_text(policies[j], &b);
			cr_assert_not(same_key(&a, &b), "%zu and %zu", i, j);
		}
	input_of_text(ALLOW_LIST, &a);
	input_of_text(ALLOW_LIST "errno = EACCES\n", &b);
	cr_assert(same_key(&a, &b));
}

/* --------------------------------------------------- the same program */

static void compile(const struct hb_filter_input *in, uint64_t addr,
		    struct sock_filter **prog, unsigned short *len)
{
	cr_assert_eq(hb_filter_compile(in, (uintptr_t)addr, prog, len), 0);
}

/* Compiled for the placeholder and stored, then loaded and given the
 * address: the bytes libseccomp compiles for that address.  The last
 * address shares its low half, 1, with a constant of the allow-list,
 * where libseccomp merges two blocks: the cache compiles that one. */
Test(filter_cache, cached_program_is_byte_identical)
{
	const uint64_t addrs[] = {EXEC_ADDR, 0x00007ffd12345678,
				  0x0000555555559eb0, 0x00007f0000000001};
	char *dir = tmpdir_new();
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY);

	for (size_t i = 0; i < ARRAY_SIZE(policies); i++) {
		struct hb_filter_input in;

		input_of_text(policies[i], &in);
		for (size_t a = 0; a < ARRAY_SIZE(addrs); a++) {
			struct sock_filter *fresh, *got;
			unsigned short fresh_len, got_len;
			bool cached;

			cr_assert_eq(hb_filter_cache_get(fd, &in, addrs[a],
							 &got, &got_len,
							 &cached),
				     0);
			cr_assert_eq(cached,
				     a > 0 && (!in.default_deny ||
					       a + 1 < ARRAY_SIZE(addrs)),
				     "policy %zu, address %zu", i, a);
			compile(&in, addrs[a], &fresh, &fresh_len);
			cr_assert_eq(got_len, fresh_len, "policy %zu, %#llx", i,
				     (unsigned long long)addrs[a]);
			cr_assert_eq(
				memcmp(got, fresh, fresh_len * sizeof(*fresh)),
				0, "policy %zu, address %#llx", i,
				(unsigned long long)addrs[a]);
			free(fresh);
			free(got);
		}
	}
	tmpdir_remove(dir);
}

/* The low half 1 is a constant of the allow-list already. */
Test(filter_cache, patch_refuses_an_address_the_program_shares)
{
	struct hb_filter_input in;
	struct sock_filter *prog;
	unsigned short len;

	input_of_text(ALLOW_LIST, &in);
	compile(&in, HB_FILTER_ARG0_PLACEHOLDER, &prog, &len);
	cr_assert_eq(hb_filter_patch_arg0(prog, len, HB_FILTER_ARG0_PLACEHOLDER,
					  0x00007f0000000001, 1),
		     -EEXIST);
	free(prog);
}

static char *cache_file(const char *dir, const struct hb_filter_input *in)
{
	unsigned char key[HB_FILTER_KEY_BYTES];
	char name[HB_FILTER_CACHE_NAME_MAX];

	key_of(in, key);
	hb_filter_cache_name(key, name);
	return path_join(dir, name);
}

/* The way a run takes: a miss compiles and stores (0600), a hit reads,
 * and both give what hb_filter_build() gives. */
Test(filter_cache, build_cached_misses_then_hits)
{
	char *dir = tmpdir_new();
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY);
	struct hb_policy p;
	struct hb_diag d = {0};
	struct hb_filter plain, first, second;
	struct hb_filter_input in;
	_cleanup_free_ char *file = NULL;
	struct stat st;

	cr_assert_eq(parse_text(&p, ALLOW_LIST, &d), 0, "%s", d.msg);
	cr_assert_eq(hb_policy_validate(&p, &d), 0, "%s", d.msg);
	cr_assert_eq(hb_filter_input_of(&p, &in, &d), 0);
	cr_assert_eq(hb_filter_build(&p, EXEC_ADDR, false, &plain, &d), 0);
	cr_assert_eq(
		hb_filter_build_cached(&p, EXEC_ADDR, false, fd, &first, &d),
		0);
	cr_assert_not(first.cached);
	file = cache_file(dir, &in);
	cr_assert_eq(stat(file, &st), 0, "%s: %s", file, strerror(errno));
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(
		hb_filter_build_cached(&p, EXEC_ADDR, false, fd, &second, &d),
		0);
	cr_assert(second.cached);
	hb_policy_free(&p);
	for (const struct hb_filter *f = &first; f;
	     f = f == &first ? &second : NULL) {
		cr_assert_eq(f->len, plain.len);
		cr_assert_eq(memcmp(f->prog, plain.prog,
				    plain.len * sizeof(*plain.prog)),
			     0);
		cr_assert_eq(memcmp(f->whole, plain.whole, sizeof(plain.whole)),
			     0);
		cr_assert_eq(f->default_deny, plain.default_deny);
		cr_assert_eq(f->deny_errno, plain.deny_errno);
	}
	hb_filter_free(&plain);
	hb_filter_free(&first);
	hb_filter_free(&second);
	tmpdir_remove(dir);
}

/* ------------------------------------------------------- validation */

struct stored {
	char *dir;
	int fd;
	char *file;
	unsigned char key[HB_FILTER_KEY_BYTES];
	struct hb_filter_input in;
};

static void store_one(struct stored *s, const char *policy)
{
	struct sock_filter *prog;
	unsigned short len;

	s->dir = tmpdir_new();
	s->fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(s->fd, 0);
	input_of_text(policy, &s->in);
	key_of(&s->in, s->key);
	compile(&s->in, HB_FILTER_ARG0_PLACEHOLDER, &prog, &len);
	cr_assert_eq(hb_filter_cache_store(s->fd, s->key, prog, len), 0);
	free(prog);
	s->file = cache_file(s->dir, &s->in);
}

static void stored_free(struct stored *s)
{
	close(s->fd);
	free(s->file);
	tmpdir_remove(s->dir);
}

static int load(struct stored *s)
{
	struct sock_filter *prog = NULL;
	unsigned short len = 0;
	int r = hb_filter_cache_load(s->fd, s->key, &prog, &len);

	cr_assert(r == 0 || !prog);
	free(prog);
	return r;
}

/* Overwrite len bytes at off of the file. */
static void poke(const char *file, off_t off, const void *bytes, size_t len)
{
	int fd = open(file, O_WRONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, bytes, len, off), (ssize_t)len);
	close(fd);
}

Test(filter_cache, intact_file_loads)
{
	struct stored s;

	store_one(&s, ALLOW_LIST);
	cr_assert_eq(load(&s), 0);
	stored_free(&s);
}

Test(filter_cache, missing_file_is_a_miss)
{
	struct stored s;

	store_one(&s, ALLOW_LIST);
	cr_assert_eq(unlink(s.file), 0);
	cr_assert_eq(load(&s), -ENOENT);
	stored_free(&s);
}

Test(filter_cache, corrupt_instruction_is_refused)
{
	struct stored s;
	const off_t at = sizeof(struct hb_filter_cache_head) + 8 * 20 + 4;
	const unsigned char x = 0x5a;

	store_one(&s, ALLOW_LIST);
	poke(s.file, at, &x, 1);
	cr_assert_eq(load(&s), -EBADMSG);
	stored_free(&s);
}

Test(filter_cache, truncated_file_is_refused)
{
	struct stored s;
	struct stat st;

	store_one(&s, ALLOW_LIST);
	cr_assert_eq(stat(s.file, &st), 0);
	/* A whole instruction less: the size alone still looks right. */
	cr_assert_eq(truncate(s.file, st.st_size - 8), 0);
	cr_assert_eq(load(&s), -EBADMSG);
	cr_assert_eq(truncate(s.file, 10), 0);
	cr_assert_eq(load(&s), -EBADMSG);
	cr_assert_eq(truncate(s.file, 0), 0);
	cr_assert_eq(load(&s), -EBADMSG);
	stored_free(&s);
}

Test(filter_cache, bad_magic_or_length_is_refused)
{
	struct stored s;
	const uint32_t len = 3;

	store_one(&s, ALLOW_LIST);
	poke(s.file, 0, "HBBPF02\n", 8);
	cr_assert_eq(load(&s), -EBADMSG);
	poke(s.file, 0, HB_FILTER_CACHE_MAGIC, 8);
	cr_assert_eq(load(&s), 0);
	poke(s.file, offsetof(struct hb_filter_cache_head, len), &len,
	     sizeof(len));
	cr_assert_eq(load(&s), -EBADMSG);
	stored_free(&s);
}

/* Another policy's file under this key's name: intact, but not this
 * key's. */
Test(filter_cache, swapped_file_is_refused)
{
	struct stored mine, other;

	store_one(&mine, ALLOW_LIST);
	store_one(&other, "");
	cr_assert_eq(rename(other.file, mine.file), 0);
	cr_assert_eq(load(&mine), -EBADMSG);
	stored_free(&mine);
	stored_free(&other);
}

Test(filter_cache, writable_by_others_is_refused)
{
	struct stored s;

	store_one(&s, ALLOW_LIST);
	cr_assert_eq(chmod(s.file, 0620), 0);
	cr_assert_eq(load(&s), -EPERM);
	cr_assert_eq(chmod(s.file, 0602), 0);
	cr_assert_eq(load(&s), -EPERM);
	cr_assert_eq(chmod(s.file, 0644), 0);
	cr_assert_eq(load(&s), 0, "readable by others is no harm");
	stored_free(&s);
}

Test(filter_cache, not_roots_is_refused)
{
	struct stored s;

	if (geteuid() != 0)
		cr_skip_test("needs root: only root gives a file away");
	store_one(&s, ALLOW_LIST);
	cr_assert_eq(chown(s.file, 65534, 65534), 0);
	cr_assert_eq(load(&s), -EPERM);
	stored_free(&s);
}

Test(filter_cache, symlink_and_fifo_are_refused)
{
	struct stored s;
	_cleanup_free_ char *elsewhere = NULL;

	store_one(&s, ALLOW_LIST);
	elsewhere = path_join(s.dir, "elsewhere");
	cr_assert_eq(rename(s.file, elsewhere), 0);
	cr_assert_eq(symlink("elsewhere", s.file), 0);
	cr_assert_eq(load(&s), -EPERM);
	cr_assert_eq(unlink(s.file), 0);
	cr_assert_eq(mkfifo(s.file, 0600), 0);
	cr_assert_eq(load(&s), -EPERM);
	stored_free(&s);
}

/* A run over a bad file compiles, and leaves a good file behind. */
Test(filter_cache, build_cached_replaces_a_bad_file)
{
	struct stored s;
	struct hb_policy p;
	struct hb_diag d = {0};
	struct hb_filter f, plain;
	const unsigned char x = 0xff;

	store_one(&s, ALLOW_LIST);
	poke(s.file, sizeof(struct hb_filter_cache_head) + 8 * 30, &x, 1);
	cr_assert_eq(parse_text(&p, ALLOW_LIST, &d), 0, "%s", d.msg);
	cr_assert_eq(hb_policy_validate(&p, &d), 0, "%s", d.msg);
	cr_assert_eq(hb_filter_build_cached(&p, EXEC_ADDR, false, s.fd, &f, &d),
		     0);
	cr_assert_eq(hb_filter_build(&p, EXEC_ADDR, false, &plain, &d), 0);
	hb_policy_free(&p);
	cr_assert_not(f.cached);
	cr_assert_eq(f.len, plain.len);
	cr_assert_eq(memcmp(f.prog, plain.prog, plain.len * sizeof(*f.prog)),
		     0);
	cr_assert_eq(load(&s), 0);
	hb_filter_free(&f);
	hb_filter_free(&plain);
	stored_free(&s);
}

/* The placeholder must be where an allow-list has it, once, or nothing
 * is written. */
Test(filter_cache, patch_needs_the_placeholder)
{
	struct hb_filter_input in;
	struct sock_filter *prog, *copy;
	unsigned short len;

	input_of_text(ALLOW_LIST, &in);
	compile(&in, EXEC_ADDR, &prog, &len);
	copy = malloc(len * sizeof(*prog));
	cr_assert_not_null(copy);
	memcpy(copy, prog, len * sizeof(*prog));
	cr_assert_eq(hb_filter_patch_arg0(prog, len, HB_FILTER_ARG0_PLACEHOLDER,
					  1, 1),
		     -EBADMSG);
	cr_assert_eq(memcmp(prog, copy, len * sizeof(*prog)), 0);
	free(prog);
	free(copy);
	compile(&in, HB_FILTER_ARG0_PLACEHOLDER, &prog, &len);
	cr_assert_eq(hb_filter_patch_arg0(prog, len, HB_FILTER_ARG0_PLACEHOLDER,
					  EXEC_ADDR, 2),
		     -EBADMSG);
	cr_assert_eq(hb_filter_patch_arg0(prog, len, HB_FILTER_ARG0_PLACEHOLDER,
					  EXEC_ADDR, 1),
		     0);
	free(prog);
}

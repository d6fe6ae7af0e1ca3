/* SPDX-License-Identifier: MIT */
#include "seccomp_cache.h"
#include "seccomp_guard.h"
#include "seccomp_names.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <seccomp.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUILD_ID_HEX 129 /* 64 bytes at most, as hex, and the NUL */

struct build_ids {
	int index;
	char exe[BUILD_ID_HEX];
	char seccomp[BUILD_ID_HEX];
};

/* The GNU build id among the notes of one loaded object, as hex. */
static void note_build_id(const struct dl_phdr_info *info, char *out)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		const char *end = p + ph->p_memsz;

		if (ph->p_type != PT_NOTE)
			continue;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof(*n);
			const unsigned char *desc =
				(const unsigned char *)name +
				((n->n_namesz + 3) & ~3u);

			if ((const char *)desc + n->n_descsz > end)
				break;
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && n->n_descsz <= 64) {
				sodium_bin2hex(out, BUILD_ID_HEX, desc,
					       n->n_descsz);
				return;
			}
			p = (const char *)desc + ((n->n_descsz + 3) & ~3u);
		}
	}
}

/* The first object is the program itself; libseccomp is found by name
 * (linked statically, it is part of the program's build id). */
static int each_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct build_ids *ids = data;

	(void)size;
	if (ids->index++ == 0)
		note_build_id(info, ids->exe);
	else if (strstr(info->dlpi_name, "/libseccomp.so"))
		note_build_id(info, ids->seccomp);
	return 0;
}

static const struct build_ids *build_ids(void)
{
	static struct build_ids ids;
	static bool done;

	if (!done)
		dl_iterate_phdr(each_object, &ids);
	done = true;
	return &ids;
}

static void put_set(FILE *f, const char *what, const bool *set)
{
	fputs(what, f);
	for (int nr = 0; nr < HB_SYSCALL_NR_END; nr++)
		if (set[nr])
			fprintf(f, " %d", nr);
	fputc('\n', f);
}

/* One line per field of the input, then what the compiler takes from
 * elsewhere: every line a fact the program depends on. */
static void put_key_text(FILE *f, const struct hb_filter_input *in,
			 const struct build_ids *ids)
{
	const struct scmp_version *v = seccomp_version();

	fprintf(f, "hivebox filter key 1\nhivebox build-id %s\n", ids->exe);
	fprintf(f, "libseccomp %u.%u.%u build-id %s api %u\n", v->major,
		v->minor, v->micro, ids->seccomp[0] ? ids->seccomp : "none",
		seccomp_api_get());
	fprintf(f, "arch %#x\n", seccomp_arch_native());
	fprintf(f,
		"default_deny %d\ninet %d\ntruncate_blocked %d\n"
		"own_terminal %d\n",
		in->default_deny, in->inet, in->truncate_blocked,
		in->own_terminal);
	put_set(f, "allow", in->allow);
	put_set(f, "denied", in->denied);
	put_set(f, "blocked", in->blocked);
	put_set(f, "newer", in->newer);
	for (size_t i = 0; i < hb_n_guards; i++)
		fprintf(f, "guard %d %d %d %d\n", hb_guards[i].nr,
			(int)hb_guards[i].kind, hb_guards[i].arg,
			hb_guards[i].arg2);
	for (size_t i = 0; i < hb_n_denied_ioctls; i++)
		fprintf(f, "ioctl %#x %d\n", hb_denied_ioctls[i].request,
			hb_denied_ioctls[i].own_pty);
}

int hb_filter_key_text(const struct hb_filter_input *in, char **ret)
{
	const struct build_ids *ids = build_ids();
	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	FILE *f;

	/* Without it two builds with other tables would share keys. */
	if (!ids->exe[0])
		return -ENOENT;
	f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	put_key_text(f, in, ids);
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(text);
	return 0;
}

int hb_filter_key(const struct hb_filter_input *in,
		  unsigned char ret[HB_FILTER_KEY_BYTES])
{
	_cleanup_free_ char *text = NULL;
	int r = hb_filter_key_text(in, &text);

	if (r < 0)
		return r;
	crypto_hash_sha256(ret, (const unsigned char *)text, strlen(text));
	return 0;
}

void hb_filter_cache_name(const unsigned char key[HB_FILTER_KEY_BYTES],
			  char ret[HB_FILTER_CACHE_NAME_MAX])
{
	sodium_bin2hex(ret, HB_FILTER_CACHE_NAME_MAX, key, HB_FILTER_KEY_BYTES);
	strcat(ret, ".bpf");
}

static void checksum(const struct sock_filter *prog, unsigned short len,
		     unsigned char ret[HB_FILTER_KEY_BYTES])
{
	crypto_hash_sha256(ret, (const unsigned char *)prog,
			   (unsigned long long)len * sizeof(*prog));
}

/* The file as it stands on fd, all of it, if its size is one a filter
 * can have. */
static int read_whole(int fd, off_t size, unsigned char **ret)
{
	const off_t head = sizeof(struct hb_filter_cache_head);
	const off_t insn = sizeof(struct sock_filter);
	_cleanup_free_ unsigned char *buf = NULL;

	if (size <= head || (size - head) % insn ||
	    (size - head) / insn > BPF_MAXINSNS)
		return -EBADMSG;
	buf = malloc((size_t)size);
	if (!buf)
		return -ENOMEM;
	if (pread(fd, buf, (size_t)size, 0) != size)
		return -EBADMSG;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* The header says what follows, and what follows is what it says. */
static int check(const unsigned char *buf, off_t size,
		 const unsigned char key[HB_FILTER_KEY_BYTES])
{
	struct hb_filter_cache_head h;
	unsigned char sum[HB_FILTER_KEY_BYTES];
	const struct sock_filter *prog = (const void *)(buf + sizeof(h));

	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, HB_FILTER_CACHE_MAGIC, sizeof(h.magic)) != 0 ||
	    h.zero != 0 ||
	    (off_t)(sizeof(h) + (size_t)h.len * sizeof(*prog)) != size ||
	    memcmp(h.key, key, HB_FILTER_KEY_BYTES) != 0)
		return -EBADMSG;
	checksum(prog, (unsigned short)h.len, sum);
	return memcmp(sum, h.sum, sizeof(sum)) == 0 ? 0 : -EBADMSG;
}

int hb_filter_cache_load(int dir, const unsigned char key[HB_FILTER_KEY_BYTES],
			 struct sock_filter **ret_prog, unsigned short *ret_len)
{
	const size_t head = sizeof(struct hb_filter_cache_head);
	char name[HB_FILTER_CACHE_NAME_MAX];
	_cleanup_close_ int fd = -1;
	_cleanup_free_ unsigned char *buf = NULL;
	struct sock_filter *prog;
	struct stat st;
	int r;

	hb_filter_cache_name(key, name);
	/* O_NONBLOCK: a FIFO planted there must not hang the run. */
	fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	/* Whoever else could write it could choose the sandbox's filter. */
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		return -EPERM;
	r = read_whole(fd, st.st_size, &buf);
	if (r == 0)
		r = check(buf, st.st_size, key);
	if (r < 0)
		return r;
	prog = malloc((size_t)st.st_size - head);
	if (!prog)
		return -ENOMEM;
	memcpy(prog, buf + head, (size_t)st.st_size - head);
	*ret_len =
		(unsigned short)(((size_t)st.st_size - head) / sizeof(*prog));
	*ret_prog = prog;
	return 0;
}

static int write_file(int fd, const unsigned char key[HB_FILTER_KEY_BYTES],
		      const struct sock_filter *prog, unsigned short len)
{
	struct hb_filter_cache_head h = {.len = len};
	int r;

	memcpy(h.magic, HB_FILTER_CACHE_MAGIC, sizeof(h.magic));
	memcpy(h.key, key, sizeof(h.key));
	checksum(prog, len, h.sum);
	/* The mode whatever the umask. */
	if (fchmod(fd, 0600) < 0)
		return -errno;
	r = hb_write_all(fd, &h, sizeof(h));
	return r < 0 ? r : hb_write_all(fd, prog, len * sizeof(*prog));
}

int hb_filter_cache_store(int dir, const unsigned char key[HB_FILTER_KEY_BYTES],
			  const struct sock_filter *prog, unsigned short len)
{
	char name[HB_FILTER_CACHE_NAME_MAX], tmp[HB_FILTER_CACHE_NAME_MAX + 32];
	_cleanup_close_ int fd = -1;
	int r;

	hb_filter_cache_name(key, name);
	/* Runs that miss together each write a file of their own; the
	 * rename makes one of them the file, whole. */
	snprintf(tmp, sizeof(tmp), ".%s.%d", name, (int)getpid());
	fd = openat(dir, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = write_file(fd, key, prog, len);
	if (r == 0 && renameat(dir, tmp, dir, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dir, tmp, 0);
	return r;
}

/* The comparisons with k, immediate, of a conditional equality jump. */
static int count_jeq(const struct sock_filter *prog, unsigned short len,
		     uint32_t k)
{
	int n = 0;

	for (unsigned short i = 0; i < len; i++)
		n += prog[i].code == (BPF_JMP | BPF_JEQ | BPF_K) &&
		     prog[i].k == k;
	return n;
}

static void replace_jeq(struct sock_filter *prog, unsigned short len,
			uint32_t from, uint32_t to)
{
	for (unsigned short i = 0; i < len; i++)
		if (prog[i].code == (BPF_JMP | BPF_JEQ | BPF_K) &&
		    prog[i].k == from)
			prog[i].k = to;
}

/* Whether any instruction has k as its constant. */
static bool has_k(const struct sock_filter *prog, unsigned short len,
		  uint32_t k)
{
	for (unsigned short i = 0; i < len; i++)
		if (prog[i].k == k)
			return true;
	return false;
}

int hb_filter_patch_arg0(struct sock_filter *prog, unsigned short len,
			 uint64_t from, uint64_t to, int pairs)
{
	const uint32_t hi = (uint32_t)(from >> 32), lo = (uint32_t)from;

	/* libseccomp compares a 64-bit argument as its two halves. */
	if (hi == lo || count_jeq(prog, len, hi) != pairs ||
	    count_jeq(prog, len, lo) != pairs)
		return -EBADMSG;
	/* libseccomp merges blocks of identical instructions: compiled for
	 * an address that shares a half with another constant, the program
	 * may come out shorter.  Only an address that shares none gives,
	 * written in, the bytes libseccomp would give. */
	if (pairs && (has_k(prog, len, (uint32_t)(to >> 32)) ||
		      has_k(prog, len, (uint32_t)to)))
		return -EEXIST;
	replace_jeq(prog, len, hi, (uint32_t)(to >> 32));
	replace_jeq(prog, len, lo, (uint32_t)to);
	return 0;
}

/* From the cache, or compiled for the placeholder and stored. */
static int placeholder_program(int dir, const struct hb_filter_input *in,
			       const unsigned char key[HB_FILTER_KEY_BYTES],
			       struct sock_filter **ret_prog,
			       unsigned short *ret_len, bool *ret_cached)
{
	int r = hb_filter_cache_load(dir, key, ret_prog, ret_len);

	*ret_cached = r == 0;
	if (r == 0)
		return 0;
	r = hb_filter_compile(in, (uintptr_t)HB_FILTER_ARG0_PLACEHOLDER,
			      ret_prog, ret_len);
	/* Not stored, the run goes on: the cache only saves time. */
	if (r == 0)
		(void)hb_filter_cache_store(dir, key, *ret_prog, *ret_len);
	return r;
}

int hb_filter_cache_get(int dir, const struct hb_filter_input *in,
			uintptr_t exec_arg0, struct sock_filter **ret_prog,
			unsigned short *ret_len, bool *ret_cached)
{
	unsigned char key[HB_FILTER_KEY_BYTES];
	_cleanup_free_ struct sock_filter *prog = NULL;
	unsigned short len = 0;
	/* The allow-list allows the interpreter's execve by its path. */
	int pairs = in->default_deny ? 1 : 0;
	int r = hb_filter_key(in, key);

	*ret_cached = false;
	if (r == 0)
		r = placeholder_program(dir, in, key, &prog, &len, ret_cached);
	if (r == 0)
		r = hb_filter_patch_arg0(prog, len, HB_FILTER_ARG0_PLACEHOLDER,
					 exec_arg0, pairs);
	if (r < 0) {
		/* No build id, a program without the placeholder where it
		 * belongs, or an address that another constant of the
		 * program shares: compiled for this run, as without a
		 * cache. */
		*ret_cached = false;
		return hb_filter_compile(in, exec_arg0, ret_prog, ret_len);
	}
	*ret_prog = TAKE_PTR(prog);
	*ret_len = len;
	return 0;
}

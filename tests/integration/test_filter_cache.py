"""The filter cache (launcher/seccomp_cache.c): as root, the first run of a
policy compiles its system-call filter and stores the BPF in the cache
directory ([filters] cache_dir of hivebox.conf); the next runs read it.
A cached filter is byte for byte the one compiled afresh.  A file that is
corrupt, truncated, another key's, writable by others or not root's is
never loaded: the run compiles and replaces it, and the filter still
denies and logs what it should.

Every test points hivebox at a cache directory of its own with --config,
outside the sandbox's start directory, and removes it."""
import hashlib
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from conftest import (POLICIES, Hivebox, needs_userns, require_root,
                      userns_available)
from test_syscalls import assert_denied, denials, fixture, tried

pytestmark = [needs_userns]

MAGIC = b"HBBPF01\n"
HEAD = struct.Struct("<8sII32s32s")  # struct hb_filter_cache_head
PLACEHOLDER = 0x4842584645584543     # HB_FILTER_ARG0_PLACEHOLDER
COMPILED = "BPF compiled by libseccomp for this run"
CACHED = "BPF read from the filter cache (compiled by an earlier run)"
NOBODY = 65534


class Cache:
    def __init__(self, hb: Hivebox, name: str = "filters"):
        self.hb = hb
        self.dir = hb.dir.parent / f"{hb.dir.name}-{name}"
        self.config = hb.dir.parent / f"{hb.dir.name}-{name}.conf"
        self.config.write_text(f"[filters]\ncache_dir = {self.dir}\n")

    def files(self) -> list:
        if not self.dir.exists():
            return []
        return sorted(p for p in self.dir.iterdir()
                      if p.name.endswith(".bpf"))

    def only_file(self) -> Path:
        files = self.files()
        assert len(files) == 1, files
        return files[0]

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        self.config.unlink(missing_ok=True)


@pytest.fixture
def cache(hb):
    require_root()
    c = Cache(hb)
    yield c
    c.remove()


def strict(hb: Hivebox) -> Path:
    return POLICIES["strict"]


# A cached program is used only when neither half of the interpreter's
# address (which the allow-list compares) equals another constant of the
# program (seccomp_cache.c); with address randomisation the heap's high
# half is 0x55XX or 0x56XX, and strict's ioctl ranges hold 0x5500, 0x5600
# and 0x5639, so about one run in a hundred compiles by design.  The
# tests that expect a hit run with randomisation off: the same address in
# every run, 0x5555..., which no constant shares.
NO_ASLR = ("setarch", "-R")


def dry_run(hb: Hivebox, cache: Cache, policy: Path, *extra,
            prefix=NO_ASLR) -> str:
    run = hb.run_argv(["--config", cache.config, "--dry-run", *extra,
                       "--policy", policy, fixture(hb, "syscall_try.py")],
                      prefix=prefix)
    assert run.rc == 0, run
    said = [ln.strip() for ln in run.stdout.splitlines()
            if ln.strip() in (COMPILED, CACHED)]
    assert len(said) == 1, run
    return said[0]


def assert_ptrace_denied(hb: Hivebox, cache: Cache):
    """The filter denies an always-denied call, and the supervisor logs
    it: a filter that is hivebox's, not one that allows everything."""
    run = hb.run(fixture(hb, "syscall_try.py"), "ptrace",
                 policy=strict(hb), options=["--config", cache.config])
    got = tried(run)["ptrace"]
    assert got["errno"] == "EPERM", got
    assert got["tracer"] == 0, got
    evs = denials(hb, run)
    assert len(evs) == 1, evs
    assert_denied(evs[0], "ptrace", nr=101)


def assert_good_file(cache: Cache, expected: bytes):
    """One file, root's and 0600, in a directory of root's, 0700, holding
    what a run first stored."""
    st = cache.dir.stat()
    assert (st.st_uid, st.st_mode & 0o7777) == (0, 0o700), oct(st.st_mode)
    path = cache.only_file()
    st = path.stat()
    assert (st.st_uid, st.st_mode & 0o7777) == (0, 0o600), oct(st.st_mode)
    assert path.read_bytes() == expected


def check_header(data: bytes, key_hex: str):
    magic, n, zero, key, digest = HEAD.unpack_from(data)
    assert magic == MAGIC and zero == 0, data[:16]
    assert key.hex() == key_hex
    assert len(data) == HEAD.size + 8 * n
    assert hashlib.sha256(data[HEAD.size:]).digest() == digest


def forged(key_hex: str) -> bytes:
    """A well-formed file whose program allows every call: the execve
    comparisons where hivebox looks for them, then RET ALLOW."""
    ins = struct.Struct("<HBBI")
    prog = b"".join(ins.pack(*i) for i in (
        (0x20, 0, 0, 16), (0x15, 0, 0, PLACEHOLDER & 0xffffffff),
        (0x20, 0, 0, 20), (0x15, 0, 0, PLACEHOLDER >> 32),
        (0x06, 0, 0, 0x7fff0000)))
    return HEAD.pack(MAGIC, len(prog) // 8, 0, bytes.fromhex(key_hex),
                     hashlib.sha256(prog).digest()) + prog


# ------------------------------------------------------------ the cache


def test_first_run_stores_the_next_reads(hb, cache):
    assert dry_run(hb, cache, strict(hb)) == COMPILED
    path = cache.only_file()
    data = path.read_bytes()
    check_header(data, path.name[:-len(".bpf")])
    assert_good_file(cache, data)
    inode = path.stat().st_ino
    assert dry_run(hb, cache, strict(hb)) == CACHED
    assert_ptrace_denied(hb, cache)
    assert path.stat().st_ino == inode, "a hit must not rewrite the file"
    assert_good_file(cache, data)


def test_unprivileged_runs_use_no_cache(hb, cache):
    """Only root reads hivebox.conf: a user's run, given the same
    --config, compiles its filter although root's runs have cached it."""
    if not userns_available(NOBODY):
        pytest.skip("nobody cannot create a user namespace here")
    assert dry_run(hb, cache, strict(hb)) == COMPILED
    assert dry_run(hb, cache, strict(hb)) == CACHED
    before = [(p, p.stat().st_ino) for p in cache.files()]
    said = dry_run(hb, cache, strict(hb),
                   prefix=["setpriv", f"--reuid={NOBODY}",
                           f"--regid={NOBODY}", "--clear-groups"])
    assert said == COMPILED
    assert [(p, p.stat().st_ino) for p in cache.files()] == before


def test_cached_filter_is_byte_identical_to_a_fresh_one(hb, cache):
    """With address randomisation off, the interpreter's path (whose
    address the allow-list compares) is at the same address in every run:
    the filter exported from the cache, and the one compiled by a run
    whose cache directory is not root's, and so unused, are the same
    bytes.  The second directory's name has the first's length, so that
    the heap is laid out alike."""
    if not shutil.which("setarch"):
        pytest.skip("no setarch to turn address randomisation off")
    other = Cache(hb, "filterz")
    try:
        other.dir.mkdir(mode=0o700)
        os.chown(other.dir, NOBODY, NOBODY)
        out = {}
        for name, c, want in (("stored", cache, COMPILED),
                              ("cached", cache, CACHED),
                              ("fresh", other, COMPILED)):
            path = hb.dir / f"{name}.bpf"
            said = dry_run(hb, c, strict(hb), "--export-filter", path,
                           prefix=["setarch", "-R"])
            assert said == want, name
            out[name] = path.read_bytes()
        assert other.files() == [], "a directory not root's is not used"
        assert len(out["fresh"]) > 8 * 100
        assert out["stored"] == out["fresh"]
        assert out["cached"] == out["fresh"]
    finally:
        other.remove()


# ------------------------------------------------------- never a bad one


def flip(path: Path):
    data = bytearray(path.read_bytes())
    data[HEAD.size + 8 * 40 + 4] ^= 0x01
    path.write_bytes(bytes(data))


def truncate(path: Path):
    data = path.read_bytes()
    path.write_bytes(data[:-8])


def chown_nobody(path: Path):
    os.chown(path, NOBODY, NOBODY)


def world_writable(path: Path):
    path.chmod(0o666)


def swap(path: Path):
    """Another key's intact file under this key's name (made by
    apply())."""


def forge_nobody(path: Path):
    """A forgery that would pass every check but the owner's."""
    path.write_bytes(forged(path.name[:-len(".bpf")]))
    os.chown(path, NOBODY, NOBODY)


def forge_bad_sum(path: Path):
    data = bytearray(forged(path.name[:-len(".bpf")]))
    data[HEAD.size - 1] ^= 0x01  # the checksum's last byte
    path.write_bytes(bytes(data))


def symlink(path: Path):
    target = path.with_name("elsewhere")
    path.rename(target)
    path.symlink_to(target.name)


TAMPER = [flip, truncate, chown_nobody, world_writable, swap, forge_nobody,
          forge_bad_sum, symlink]


def apply(hb: Hivebox, cache: Cache, path: Path, tamper):
    if tamper is swap:
        assert dry_run(hb, cache, POLICIES["default"]) in (COMPILED, CACHED)
        others = [p for p in cache.files() if p != path]
        assert len(others) == 1, cache.files()
        others[0].rename(path)
    else:
        tamper(path)


@pytest.mark.parametrize("tamper", TAMPER, ids=[t.__name__ for t in TAMPER])
def test_tampered_file_is_never_loaded(hb, cache, tamper):
    """A dry run, then a real one, over the bad file: each compiles (the
    real one denies and logs as ever) and puts a good file back."""
    assert dry_run(hb, cache, strict(hb)) == COMPILED
    path = cache.only_file()
    good = path.read_bytes()
    apply(hb, cache, path, tamper)
    assert dry_run(hb, cache, strict(hb)) == COMPILED
    assert_good_file(cache, good)
    apply(hb, cache, path, tamper)
    assert_ptrace_denied(hb, cache)
    assert_good_file(cache, good)
    assert dry_run(hb, cache, strict(hb)) == CACHED


def test_a_forgery_of_roots_is_what_it_seems(hb, cache):
    """The checks above are what keep a forgery out: the same forged file,
    root's and 0600, is read from the cache.  The cache trusts root, as
    the binary and its libraries do."""
    assert dry_run(hb, cache, strict(hb)) == COMPILED
    path = cache.only_file()
    path.write_bytes(forged(path.name[:-len(".bpf")]))
    assert dry_run(hb, cache, strict(hb), "--export-filter",
                   hb.dir / "forged.bpf") == CACHED
    assert len((hb.dir / "forged.bpf").read_bytes()) == 5 * 8

"""The audit trail (hivebox-audit(5)), monitoring and alerts
(hivebox-policy(5) [audit], [monitoring]; hivebox(1) AUDIT COMMANDS,
MONITORING, RESULT): each test checks what the run did and what it left
in the logs, recomputing hashes and HMACs here rather than trusting
`audit verify` alone."""
import errno
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Optional

import pytest

from conftest import (EXIT_HIVEBOX, HIVEBOX, REPO, UID_BASE, UID_RANGE,
                      Hivebox, assert_refused, assert_result, descendants,
                      host_uid, needs_userns, proc_starttime, proc_status,
                      processes_of_uid, remove_audit_dir)

EXEC_LOG = "execution_audit.log"
SEC_LOG = "security_events.log"
GENESIS = "0" * 64
DEFAULT_KEY = Path("/etc/hivebox/audit.key")
HASH_MARK = b',"hash":"'
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                  r"[0-9a-f]{12}$")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# [audit] required is yes by default for root only; the refusals below are
# those of a required trail.
REQUIRED = "" if os.geteuid() == 0 else "required = yes\n"

pytestmark = needs_userns


def root_for(why: str):
    return pytest.mark.skipif(os.geteuid() != 0, reason=f"needs root: {why}")


# ---------------------------------------------------------------- helpers


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def hashed_bytes(line: bytes) -> bytes:
    """What hash and hmac cover: the line up to its "hash" member, with a
    closing brace (hivebox-audit(5), RECORDS)."""
    return line[:line.rindex(HASH_MARK)] + b"}"


def log_lines(path: Path) -> list:
    """The lines of a log as bytes, each without its newline; [] when the
    file does not exist.  Every line must end in a newline."""
    if not path.exists():
        return []
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), f"{path} ends mid-record"
    return data.split(b"\n")[:-1]


def check_chain(paths, key: Optional[bytes] = None) -> list:
    """Parse the records of paths (one chain, oldest file first), check
    every hash, HMAC (present if and only if key), seq and prev_hash, and
    return the records."""
    records, seq, prev = [], 0, GENESIS
    for path in paths:
        for n, line in enumerate(log_lines(Path(path)), 1):
            where = f"{path}:{n}"
            rec = json.loads(line)
            assert list(rec)[:3] == ["seq", "time", "prev_hash"], where
            assert rec["seq"] == seq + 1, where
            assert rec["prev_hash"] == prev, where
            assert ISO_MS.match(rec["time"]), where
            body = hashed_bytes(line)
            assert rec["hash"] == hashlib.sha256(body).hexdigest(), where
            if key is None:
                assert "hmac" not in rec, where
            else:
                want = hmac.new(key, body, hashlib.sha256).hexdigest()
                assert rec["hmac"] == want, where
            # hash (and hmac) are the last members.
            assert list(rec)[-1] == ("hmac" if key else "hash"), where
            seq, prev = rec["seq"], rec["hash"]
            records.append(rec)
    return records


def default_key() -> Optional[bytes]:
    """The key of the tests' audit directories: none.  The conftest
    declares each unsigned (`audit init --unsigned`); a run signs only
    with the key bound to its directory (hivebox-audit(5) KEY), never
    with /etc/hivebox/audit.key because it happens to exist."""
    return None


def exec_records(directory: Path, key: Optional[bytes] = None) -> list:
    return check_chain([directory / EXEC_LOG], key)


def events(directory: Path, exec_id: Optional[str] = None,
           key: Optional[bytes] = None) -> list:
    recs = check_chain([directory / SEC_LOG], key)
    for rec in recs:
        assert rec["type"] == "event", rec
    return [r for r in recs if exec_id is None or r["exec_id"] == exec_id]


def audit(hb: Hivebox, verb: str, directory: Path, *args, timeout=60):
    return hb.run_argv(["audit", verb, "--dir", directory, *args],
                       timeout=timeout)


def verify(hb: Hivebox, directory: Path, *args):
    return audit(hb, "verify", directory, *args)


def verdict(run, log: str = EXEC_LOG) -> str:
    """The verdict line `audit verify` printed for log."""
    lines = [ln for ln in run.stdout.splitlines()
             if ln.startswith(log + ":")]
    assert len(lines) == 1, run
    return lines[0]


def assert_verified(run, records: int, files: int = 1, hmac_checked=None):
    assert run.rc == 0, run
    line = verdict(run)
    plural = "" if files == 1 else "s"
    assert line.startswith(f"{EXEC_LOG}: OK, {records} records in {files} "
                           f"file{plural}"), run
    if hmac_checked is True:
        assert "HMAC-SHA-256 and hash chain verified" in line, run
    elif hmac_checked is False:
        assert "no HMAC checked" in line, run


def write_key(path: Path):
    """A key of our own, for logs that need one without `audit init`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(32))
    path.chmod(0o600)
    return path


def sign(hb: Hivebox, key_file: Optional[Path] = None) -> Path:
    """Bind a key to hb.audit_dir, still empty, in place of the conftest's
    unsigned binding; returns the key file."""
    (hb.audit_dir / "signing").unlink()
    key_file = key_file or write_key(hb.dir / "keys" / "audit.key")
    init = hb.run_argv(["audit", "init", "--dir", hb.audit_dir,
                        "--key", key_file])
    assert init.rc == 0, init
    return key_file


def with_audit_dir(hb: Hivebox, directory: Path, fn):
    """Call fn() with runs going to directory instead of hb.audit_dir."""
    saved = hb.audit_dir
    hb.audit_dir = directory
    try:
        return fn()
    finally:
        hb.audit_dir = saved


def copy_logs(source: Path, target: Path) -> Path:
    """Plain copies of the logs and heads of source (without the
    append-only flag), to edit."""
    target.mkdir()
    for entry in source.iterdir():
        if entry.is_file() and entry.name.startswith((EXEC_LOG, SEC_LOG)):
            shutil.copyfile(entry, target / entry.name)
    return target


def rewrite(path: Path, lines: list, newline_at_end: bool = True):
    data = b"\n".join(lines) + (b"\n" if newline_at_end and lines else b"")
    path.write_bytes(data)


def wait_for(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# ---------------------------------------------------------------- 1. records


def test_run_writes_a_start_and_an_end_record(hb):
    policy = hb.policy("[execution]\nmemory_mb = 128\n")

    run = hb.run("exit_code.py", "3", policy=policy)

    assert run.rc == 3, run
    assert run.stdout == "exiting with 3\n", run
    res = assert_result(run, "exit", exit_code=3)
    key = default_key()
    start, end = exec_records(hb.audit_dir, key)
    assert (start["seq"], end["seq"]) == (1, 2)
    assert start["prev_hash"] == GENESIS
    assert end["prev_hash"] == start["hash"]
    assert (start["type"], end["type"]) == ("start", "end")
    assert UUID.match(res["exec_id"]), res
    assert start["exec_id"] == end["exec_id"] == res["exec_id"]

    script = hb.dir / "exit_code.py"
    assert start["script"] == {"path": str(script),
                               "sha256": sha256_file(script)}
    assert start["policy"]["path"] == str(policy)
    assert start["policy"]["sha256"] == sha256_file(policy)
    effective = start["policy"]["effective_sha256"]
    stored = hb.audit_dir / "policies" / f"{effective}.ini"
    assert stored.is_file(), start
    assert sha256_file(stored) == effective
    text = stored.read_text()
    assert re.search(r"^memory_mb = 128\b", text, re.M), text  # the policy
    assert re.search(r"^timeout_seconds = 20\b", text, re.M), text  # parent
    assert re.search(r"^max_open_files = 64\b", text, re.M), text

    assert start["user"]["uid"] == os.getuid()
    assert start["user"]["euid"] == os.geteuid()
    assert start["pid"] == run.pid
    assert start["cwd"] == str(hb.dir)
    assert start["argv"] == run.argv
    # The interpreter gets the script's absolute path, so that a script
    # named like an option stays a script.
    assert start["command"] == ["/usr/bin/python3",
                                str(hb.dir / "exit_code.py"), "3"], start
    if os.geteuid() == 0:
        # Taken at start from the dedicated range; the processes had it.
        assert UID_BASE <= start["host_uid"] < UID_BASE + UID_RANGE, start
    else:
        assert start["host_uid"] == os.getuid(), start
    assert start["limits"] == {
        "timeout_seconds": 20, "cpu_seconds": 10, "memory_mb": 128,
        "file_size_mb": 8, "max_processes": 8, "max_open_files": 64,
        "tmp_size_mb": 16}
    assert ISO_MS.match(start["start_time"]), start

    assert end["start_time"] == start["start_time"]
    assert ISO_MS.match(end["end_time"]) and \
        end["end_time"] >= end["start_time"], end
    # The end record names them again, as plain paths.
    assert end["script"] == str(script), end
    assert end["policy"] == str(policy), end
    result = end["result"]
    assert result["reason"] == "exit"
    assert result["exit_code"] == 3
    assert result["hivebox_exit_code"] == 3
    assert result["wall_ms"] == res["wall_ms"]
    assert "limits" not in result, result
    assert end["violations"] == res["violations"] == 0
    assert end["alerts"] == res["alerts"] == 0
    assert res["audit"]["dir"] == str(hb.audit_dir)
    assert res["audit"]["write_errors"] == 0
    assert events(hb.audit_dir) == []

    check = verify(hb, hb.audit_dir)
    assert_verified(check, 2)
    assert f"{SEC_LOG}: no records yet" in check.stdout, check


def test_the_same_rules_reached_two_ways_hash_the_same(hb):
    """The policy's identity is the hash of its canonical form (keys and
    values, fixed order): an extends chain and the same keys inline give
    the same effective_sha256; the annotated text is kept beside it."""
    (hb.dir / "base.ini").write_text("[execution]\nmemory_mb = 100\n")
    via = hb.policy("[policy]\nextends = base.ini\n"
                    "description = by extends\n\n"
                    "[execution]\n; a comment\ntimeout_seconds = 5\n",
                    extends=None, name="via.ini")
    inline = hb.policy("[execution]\ntimeout_seconds = 5\n"
                       "memory_mb = 100\n", extends=None, name="inline.ini")
    other = hb.policy("[execution]\ntimeout_seconds = 6\n"
                      "memory_mb = 100\n", extends=None, name="other.ini")

    runs = [hb.run("exit_code.py", "0", policy=p)
            for p in (via, inline, other)]

    for run in runs:
        assert run.rc == 0, run
    starts = [r["policy"] for r in exec_records(hb.audit_dir)
              if r["type"] == "start"]
    assert starts[0]["sha256"] != starts[1]["sha256"], starts
    assert starts[0]["effective_sha256"] == starts[1]["effective_sha256"]
    assert starts[2]["effective_sha256"] != starts[0]["effective_sha256"]
    assert starts[0]["annotated_sha256"] != starts[1]["annotated_sha256"]
    policies = hb.audit_dir / "policies"
    canonical = policies / f"{starts[0]['effective_sha256']}.ini"
    text = canonical.read_text()
    assert sha256_file(canonical) == starts[0]["effective_sha256"]
    assert ";" not in text and "description" not in text, text
    assert re.search(r"^\[execution\]\n(.+\n)*timeout_seconds = 5\n", text,
                     re.M), text
    for start in starts[:2]:
        annotated = policies / f"{start['annotated_sha256']}.ini"
        assert sha256_file(annotated) == start["annotated_sha256"]
        assert "; effective policy of" in annotated.read_text()
    assert re.search(r"^timeout_seconds = 5\t; \S*via\.ini:7$",
                     (policies / f"{starts[0]['annotated_sha256']}.ini")
                     .read_text(), re.M)
    # The canonical form is a policy: it runs, and hashes the same again.
    again = hb.run("exit_code.py", "0", policy=canonical)
    assert again.rc == 0, again
    last = [r for r in exec_records(hb.audit_dir) if r["type"] == "start"][-1]
    assert last["policy"]["effective_sha256"] == \
        starts[0]["effective_sha256"], last


# ---------------------------------------------------------------- 2. HMAC


def test_hmac_with_a_key_from_audit_init(hb):
    key_file = hb.dir / "keys" / "audit.key"
    new_dir = hb.dir / "new-audit"

    init = hb.run_argv(["audit", "init", "--dir", new_dir,
                        "--key", key_file])

    assert init.rc == 0, init
    assert new_dir.is_dir() and not new_dir.is_symlink()
    assert str(key_file) in init.stdout, init
    st = key_file.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert st.st_uid == os.geteuid()
    key = key_file.read_bytes()
    assert len(key) == 32
    # A second init keeps the key.
    again = hb.run_argv(["audit", "init", "--dir", new_dir,
                         "--key", key_file])
    assert again.rc == 0, again
    assert key_file.read_bytes() == key
    # The directory names its key, not the key itself.
    binding = json.loads((new_dir / "signing").read_text())
    assert binding["key_file"] == str(key_file), binding
    assert binding["key_id"] == hmac.new(
        key, b"hivebox audit key id", hashlib.sha256).hexdigest(), binding
    assert binding["signed_from"] == {EXEC_LOG: 0, SEC_LOG: 0}, binding
    st = (new_dir / "signing").stat()
    assert stat.S_IMODE(st.st_mode) == 0o644, oct(st.st_mode)
    assert st.st_uid == os.geteuid()

    # A policy that names the key, and one that does not: the directory's
    # key signs both.
    policy = hb.policy(f"[audit]\nkey_file = {key_file}\n")
    plain = hb.policy(name="plain.ini")
    first = with_audit_dir(hb, new_dir, lambda: hb.run(
        "exit_code.py", "0", policy=policy))
    second = with_audit_dir(hb, new_dir, lambda: hb.run(
        "exit_code.py", "5", policy=plain))

    assert (first.rc, second.rc) == (0, 5), (first, second)
    assert (first.stderr, second.stderr) == ("", ""), (first, second)
    assert first.result["audit"]["hmac"] is True, first
    assert second.result["audit"]["hmac"] is True, second
    records = exec_records(new_dir, key)  # every hmac recomputed
    assert [r["seq"] for r in records] == [1, 2, 3, 4]
    assert [r["exec_id"] for r in records] == \
        [first.result["exec_id"]] * 2 + [second.result["exec_id"]] * 2

    for args in ([], ["--key", key_file]):
        check = verify(hb, new_dir, *args)
        assert_verified(check, 4, hmac_checked=True)


def test_verify_without_the_key_checks_no_hmac(hb):
    key_file = sign(hb)
    run = hb.run("exit_code.py", "0")
    assert run.rc == 0, run
    assert len(exec_records(hb.audit_dir, key_file.read_bytes())) == 2
    key_file.rename(key_file.with_name("elsewhere"))  # not readable here

    check = verify(hb, hb.audit_dir)

    assert_verified(check, 2, hmac_checked=False)
    assert "a signed trail whose key cannot be read here" in check.stdout
    assert f"  key {key_file}: No such file or directory" in check.stdout
    assert "2 records carry an HMAC that could not be checked" in \
        check.stdout, check


def test_a_missing_key_file_refuses_the_run(hb):
    sign(hb)
    missing = hb.dir / "no-such.key"
    policy = hb.policy(f"[audit]\nkey_file = {missing}\n{REQUIRED}")

    run = hb.run("hello.py", policy=policy)

    # No trail to record the refusal in: the result says so.
    assert_refused(run, rf"{re.escape(str(missing))}.*No such file",
                   recorded=False)
    assert run.result["audit"]["write_errors"] == 1, run
    assert exec_records(hb.audit_dir) == []
    assert not missing.exists()


UNSIGNED_WARNING = ("hivebox: warning: the audit trail in {d} is not "
                    "signed; 'hivebox audit init --dir {d}' binds a key to "
                    "it")


def fresh_audit_dir(hb: Hivebox, name: str) -> Path:
    """An audit directory with no binding, outside the start directory."""
    directory = hb.dir.parent / f"{hb.dir.name}-{name}"
    directory.mkdir(mode=0o755)
    return directory


def test_unsigned_and_signed_records_never_mix(hb):
    """The issue's first reproduction: runs without a key wrote unsigned
    records without a word; later signed runs in the same directory made
    verify report tampering."""
    directory = fresh_audit_dir(hb, "mixed")
    key_file = write_key(hb.dir / "keys" / "audit.key")
    signed = hb.policy(f"[audit]\nkey_file = {key_file}\n{REQUIRED}",
                       name="signed.ini")
    plain = hb.policy(REQUIRED, name="plain.ini")
    try:
        first = with_audit_dir(hb, directory, lambda: hb.run(
            "exit_code.py", "0", policy=plain))
        assert first.rc == 0, first
        if os.geteuid() == 0:
            assert first.stderr_lines() == \
                [UNSIGNED_WARNING.format(d=directory)], first
        else:
            assert first.stderr == "", first
        # A key named for a trail that none is bound to: refused, not
        # mixed in.
        mixed = with_audit_dir(hb, directory, lambda: hb.run(
            "exit_code.py", "0", policy=signed))
        assert_refused(mixed, rf"no key is bound to this trail; 'hivebox "
                       rf"audit init --dir {re.escape(str(directory))} "
                       rf"--key {re.escape(str(key_file))}' binds",
                       recorded=False)
        assert len(exec_records(directory)) == 2

        init = hb.run_argv(["audit", "init", "--dir", directory,
                            "--key", key_file])
        assert init.rc == 0, init
        binding = json.loads((directory / "signing").read_text())
        assert binding["signed_from"] == {EXEC_LOG: 2, SEC_LOG: 0}, binding

        runs = [with_audit_dir(hb, directory, lambda p=p: hb.run(
            "exit_code.py", "0", policy=p)) for p in (plain, signed)]
        for run in runs:
            assert (run.rc, run.stderr) == (0, ""), run
            assert run.result["audit"]["hmac"] is True, run
        records = [json.loads(x) for x in log_lines(directory / EXEC_LOG)]
        assert ["hmac" in r for r in records] == [False] * 2 + [True] * 4
        key = key_file.read_bytes()
        for line in log_lines(directory / EXEC_LOG)[2:]:
            rec = json.loads(line)
            assert rec["hmac"] == hmac.new(key, hashed_bytes(line),
                                           hashlib.sha256).hexdigest()

        check = verify(hb, directory)
        assert_verified(check, 6, hmac_checked=True)
        assert "2 records from before the key was bound carry no HMAC" \
            in check.stdout, check

        # The bound key cannot be read: a required trail refuses the run
        # and adds nothing; one not required runs without it, loudly.
        key_file.rename(key_file.with_name("away"))
        refused = with_audit_dir(hb, directory, lambda: hb.run(
            "exit_code.py", "0", policy=plain))
        assert_refused(refused, rf"{re.escape(str(directory))}: a signed "
                       rf"trail, and its key {re.escape(str(key_file))} "
                       r"cannot be read \(No such file or directory\); no "
                       r"unsigned record is added to it; the audit trail "
                       r"is required", recorded=False)
        optional = hb.policy("[audit]\nrequired = no\n", name="opt.ini")
        loud = with_audit_dir(hb, directory, lambda: hb.run(
            "exit_code.py", "0", policy=optional))
        assert loud.rc == 0, loud
        assert "a signed trail, and its key" in loud.stderr, loud
        assert len(log_lines(directory / EXEC_LOG)) == 6
        key_file.with_name("away").rename(key_file)
        assert_verified(verify(hb, directory), 6, hmac_checked=True)

        # Another key is not the directory's.
        other = write_key(hb.dir / "keys" / "other.key")
        wrong = hb.policy(f"[audit]\nkey_file = {other}\n{REQUIRED}",
                          name="wrong.ini")
        refused = with_audit_dir(hb, directory, lambda: hb.run(
            "exit_code.py", "0", policy=wrong))
        assert_refused(refused, rf"{re.escape(str(other))} is not the key "
                       r"bound to this trail", recorded=False)
        again = hb.run_argv(["audit", "init", "--dir", directory,
                             "--key", other])
        assert again.rc == EXIT_HIVEBOX, again
        assert "bound to another key" in again.stderr, again
        unsign = hb.run_argv(["audit", "init", "--dir", directory,
                              "--unsigned"])
        assert unsign.rc == EXIT_HIVEBOX, unsign
        assert "does not become unsigned" in unsign.stderr, unsign
    finally:
        remove_audit_dir(directory)


def test_rotate_without_key_signs_a_signed_trail(hb):
    """The issue's second reproduction: `audit rotate` without --key wrote
    an unsigned rotation record into a signed log."""
    key_file = sign(hb)
    key = key_file.read_bytes()
    assert hb.run("exit_code.py", "0").rc == 0

    rotate = audit(hb, "rotate", hb.audit_dir)

    assert (rotate.rc, rotate.stderr) == (0, ""), rotate
    rotated = hb.audit_dir / f"{EXEC_LOG}.{2:012d}"
    records = check_chain([rotated, hb.audit_dir / EXEC_LOG], key)
    assert records[-1]["type"] == "rotation"
    assert_verified(verify(hb, hb.audit_dir), 3, files=2,
                    hmac_checked=True)
    # Without the key it refuses, and rotates nothing.
    key_file.rename(key_file.with_name("away"))
    refused = audit(hb, "rotate", hb.audit_dir)
    assert refused.rc == EXIT_HIVEBOX, refused
    assert "no unsigned record is added to it" in refused.stderr, refused
    assert len(log_lines(hb.audit_dir / EXEC_LOG)) == 1


def test_an_unsigned_record_in_a_signed_trail_fails_without_the_key(hb):
    """A record appended without an HMAC, chain and head made to match as
    anyone who can write the directory could: verify names it even where
    the key cannot be read."""
    key_file = sign(hb)
    assert hb.run("exit_code.py", "0").rc == 0
    log = hb.audit_dir / EXEC_LOG
    last = json.loads(log_lines(log)[-1])
    body = json.dumps({"seq": 3, "time": last["time"],
                       "prev_hash": last["hash"], "type": "note"},
                      separators=(",", ":")).encode()
    digest = hashlib.sha256(body).hexdigest()
    with open(log, "ab") as f:
        f.write(body[:-1] + f',"hash":"{digest}"}}\n'.encode())
    (hb.audit_dir / (EXEC_LOG + ".head")).write_text(
        json.dumps({"file": EXEC_LOG, "seq": 3, "hash": digest}) + "\n")
    key_file.rename(key_file.with_name("away"))

    check = verify(hb, hb.audit_dir)

    assert check.rc == 1, check
    assert verdict(check) == (f"{EXEC_LOG}: FAIL at {EXEC_LOG}:3: record has "
                              "no HMAC in a signed trail (written without "
                              "the key?)"), check


def test_a_trail_declared_unsigned_takes_no_key_and_no_warning(hb):
    # The conftest declared hb.audit_dir unsigned.
    assert json.loads((hb.audit_dir / "signing").read_text()) == \
        {"unsigned": True}
    run = hb.run("exit_code.py", "0")
    assert (run.rc, run.stderr) == (0, ""), run
    key_file = write_key(hb.dir / "keys" / "audit.key")
    policy = hb.policy(f"[audit]\nkey_file = {key_file}\n{REQUIRED}",
                       name="signed.ini")
    refused = hb.run("exit_code.py", "0", policy=policy)
    assert_refused(refused, r"an unsigned trail \(audit init --unsigned\) "
                   r"was given key", recorded=False)
    # audit init --key signs it from here on.
    init = hb.run_argv(["audit", "init", "--dir", hb.audit_dir,
                        "--key", key_file])
    assert init.rc == 0, init
    assert hb.run("exit_code.py", "0", policy=policy).rc == 0
    assert_verified(verify(hb, hb.audit_dir), 4, hmac_checked=True)


# ---------------------------------------------------------------- 3. tamper

TAMPER_RUNS = 3  # so 6 records; lines below are 1-based


@pytest.fixture(scope="module")
def signed_log(tmp_path_factory, traversable_tmp):
    """A real log of three runs, signed with a key: (audit dir, key file,
    exec_ids)."""
    directory = tmp_path_factory.mktemp("tamper")
    directory.chmod(0o755)
    hb = Hivebox(directory)
    try:
        key_file = sign(hb, write_key(directory / "keys" / "audit.key"))
        policy = hb.policy(f"[audit]\nkey_file = {key_file}\n")
        ids = []
        for code in range(1, TAMPER_RUNS + 1):
            run = hb.run("exit_code.py", str(code), policy=policy)
            assert run.rc == code, run
            ids.append(run.result["exec_id"])
        records = exec_records(hb.audit_dir, key_file.read_bytes())
        assert len(records) == 2 * TAMPER_RUNS
        yield hb.audit_dir, key_file, ids
    finally:
        remove_audit_dir(hb.audit_dir)


def edit_byte(lines):
    # Run 2's end record: exit code 2 becomes 7.
    assert b'"exit_code":2,' in lines[3]
    lines[3] = lines[3].replace(b'"exit_code":2,', b'"exit_code":7,')
    return lines


def delete_record(lines):
    del lines[2]
    return lines


def insert_record(lines):
    lines.insert(3, lines[2])
    return lines


def swap_records(lines):
    lines[2], lines[3] = lines[3], lines[2]
    return lines


def truncate_tail(lines):
    return lines[:-1]


def corrupt_line(lines):
    lines[2] = b"this is not a record {"
    return lines


# (id, edit, line named, pattern of the reason)
TAMPERING = [
    ("edited byte", edit_byte, r"4", r"hash does not match"),
    ("deleted record", delete_record, r"3", r"deleted|inserted|moved"),
    ("inserted record", insert_record, r"4", r"deleted|inserted|moved"),
    ("swapped records", swap_records, r"3", r"deleted|inserted|moved"),
    ("truncated tail", truncate_tail, r"[56]", r"truncated"),
    ("corrupt line", corrupt_line, r"3", r"JSON"),
]


@pytest.mark.parametrize("edit,line,why", [pytest.param(e, n, w, id=i)
                                           for i, e, n, w in TAMPERING])
def test_verify_finds_tampering(hb, signed_log, edit, line, why):
    source, key_file, _ = signed_log
    copy = copy_logs(source, hb.dir / "copy")
    intact = verify(hb, copy, "--key", key_file)
    assert_verified(intact, 2 * TAMPER_RUNS, hmac_checked=True)

    log = copy / EXEC_LOG
    rewrite(log, edit(log_lines(log)))
    check = verify(hb, copy, "--key", key_file)

    assert check.rc == 1, check
    assert re.match(rf"^{EXEC_LOG}: FAIL at {EXEC_LOG}:{line}: .*{why}",
                    verdict(check)), check
    assert verdict(check, SEC_LOG) == f"{SEC_LOG}: no records yet", check


def test_verify_finds_a_record_rewritten_without_the_key(hb, signed_log):
    """The content changed and its hash recomputed, as anyone who can
    write the log could; only the HMAC shows it."""
    source, key_file, _ = signed_log
    copy = copy_logs(source, hb.dir / "copy")
    log = copy / EXEC_LOG
    lines = edit_byte(log_lines(log))
    rec = json.loads(lines[3])
    new_hash = hashlib.sha256(hashed_bytes(lines[3])).hexdigest()
    lines[3] = lines[3].replace(rec["hash"].encode(), new_hash.encode())
    rewrite(log, lines)
    assert json.loads(lines[3])["hash"] == new_hash
    assert json.loads(lines[3])["hmac"] == rec["hmac"]

    check = verify(hb, copy, "--key", key_file)

    assert check.rc == 1, check
    assert re.match(rf"^{EXEC_LOG}: FAIL at {EXEC_LOG}:4: .*HMAC",
                    verdict(check)), check


# ---------------------------------------------------------------- 4. rotate


def test_rotation_keeps_one_chain_across_files(hb):
    before = [hb.run("exit_code.py", str(c)) for c in (0, 1)]

    rotate = audit(hb, "rotate", hb.audit_dir)

    assert rotate.rc == 0, rotate
    after = [hb.run("exit_code.py", str(c)) for c in (2, 3)]
    for run, code in zip(before + after, range(4)):
        assert run.rc == code, run
    rotated = hb.audit_dir / f"{EXEC_LOG}.{4:012d}"
    assert rotated.is_file(), sorted(os.listdir(hb.audit_dir))
    assert sorted(p.name for p in hb.audit_dir.iterdir()
                  if p.name.startswith(EXEC_LOG + ".0")) == [rotated.name]
    key = default_key()
    records = check_chain([rotated, hb.audit_dir / EXEC_LOG], key)
    assert [r["seq"] for r in records] == list(range(1, 10))
    rotation = records[4]
    assert rotation["type"] == "rotation", rotation
    assert rotation["previous_file"] == rotated.name
    assert rotation["previous_seq"] == 4
    assert rotation["prev_hash"] == records[3]["hash"]
    assert len(log_lines(rotated)) == 4
    ids = [run.result["exec_id"] for run in before + after]
    assert [r["exec_id"] for r in records if r["type"] == "start"] == ids

    check = verify(hb, hb.audit_dir)
    assert_verified(check, 9, files=2)

    show = audit(hb, "show", hb.audit_dir, "--json")
    assert show.rc == 0, show
    shown = [json.loads(line) for line in show.stdout.splitlines()]
    assert sorted(r["exec_id"] for r in shown) == sorted(ids), show
    assert {r["exec_id"]: r["exit_code"] for r in shown} == \
        dict(zip(ids, range(4))), show
    table = audit(hb, "show", hb.audit_dir)
    assert table.rc == 0, table
    for exec_id in ids:
        assert exec_id in table.stdout, table


# ---------------------------------------------------------------- 5. many


@root_for("200 sandboxes at once, each on a host uid of its own")
def test_200_concurrent_runs_share_one_chain(hb):
    n = 200
    policy = REPO / "policies" / "strict.ini"
    script = hb.script("exit_code.py")
    results = [hb.dir / f"concurrent-{i}.json" for i in range(n)]
    procs = []
    start = time.monotonic()
    try:
        for result in results:
            procs.append(subprocess.Popen(
                [str(HIVEBOX), "--audit-dir", str(hb.audit_dir), "--result",
                 str(result), "--policy", str(policy), script, "0"],
                cwd=hb.dir, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        deadline = start + 90
        for proc in procs:
            proc.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    elapsed = time.monotonic() - start
    failed = [(i, p.returncode, p.stderr.read().decode())
              for i, p in enumerate(procs) if p.returncode != 0]
    for proc in procs:
        proc.stderr.close()

    assert failed == [], f"{len(failed)} of {n} runs failed: {failed[:5]}"
    assert elapsed < 60, elapsed
    ids = [json.loads(r.read_text())["exec_id"] for r in results]
    assert len(set(ids)) == n
    records = exec_records(hb.audit_dir, default_key())
    assert len(records) == 2 * n
    assert [r["seq"] for r in records] == list(range(1, 2 * n + 1))
    kinds = {}
    for rec in records:
        kinds.setdefault(rec["exec_id"], []).append(rec["type"])
    assert set(kinds) == set(ids)
    assert all(v == ["start", "end"] for v in kinds.values()), kinds
    # A trivial script crosses no threshold and no limit.
    assert events(hb.audit_dir, key=default_key()) == []
    check = verify(hb, hb.audit_dir)
    assert_verified(check, 2 * n)


def test_samples_during_setup_count_only_the_sandbox(hb):
    """hivebox(1), MONITORING: the sandbox's processes and its own /tmp and
    /dev/shm.  Runs started together set up slowly, so early samples fall
    before the sandbox's /tmp exists; they must not count the host's /tmp
    (here a disk far larger than memory_mb) and kill a trivial script."""
    n = 40
    policy = hb.policy("[monitoring]\nsample_interval_ms = 10\n")
    script = hb.script("exit_code.py")
    results = [hb.dir / f"sampled-{i}.json" for i in range(n)]
    procs = []
    try:
        for result in results:
            procs.append(subprocess.Popen(
                [str(HIVEBOX), "--audit-dir", str(hb.audit_dir), "--result",
                 str(result), "--policy", str(policy), script, "0"],
                cwd=hb.dir, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        for proc in procs:
            proc.wait(timeout=60)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    failed = [(i, p.returncode, p.stderr.read().decode())
              for i, p in enumerate(procs) if p.returncode != 0]
    for proc in procs:
        proc.stderr.close()

    assert failed == [], f"{len(failed)} of {n} runs failed: {failed[:3]}"
    peaks = [json.loads(r.read_text())["peak_memory_kb"] for r in results]
    assert max(peaks) < 256 * 1024, peaks
    assert events(hb.audit_dir, key=default_key()) == []
    assert len(exec_records(hb.audit_dir, default_key())) == 2 * n


# ---------------------------------------------------------------- 6. killed


def test_a_killed_launcher_leaves_a_start_without_an_end(hb):
    policy = hb.policy()
    script = hb.script("sleeper.py")
    out = hb.dir / "sleeper.out"
    argv = [str(HIVEBOX), "--audit-dir", str(hb.audit_dir), "--policy",
            str(policy), script, "30"]
    sandbox = []
    with open(out, "w") as stdout:
        proc = subprocess.Popen(argv, cwd=hb.dir, stdin=subprocess.DEVNULL,
                                stdout=stdout, stderr=subprocess.STDOUT)
    try:
        def started():
            log = hb.audit_dir / EXEC_LOG
            data = log.read_bytes() if log.exists() else b""
            recs = [json.loads(line) for line in data.split(b"\n")[:-1]]
            return [r for r in recs if r.get("pid") == proc.pid] and \
                out.read_text().startswith("sleeping 30")
        assert wait_for(started, 20), out.read_text()
        sandbox = [(pid, proc_starttime(pid))
                   for pid in descendants(proc.pid)]
        assert len(sandbox) >= 2, sandbox  # the sandbox init, python

        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL

        def sandbox_gone():
            return all(proc_starttime(pid) != st for pid, st in sandbox)
        assert wait_for(sandbox_gone, 10), sandbox
        if os.geteuid() == 0:
            assert processes_of_uid(
                host_uid(hb.audit_dir, proc.pid)) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid, st in sandbox:
            if proc_starttime(pid) == st:
                os.kill(pid, signal.SIGKILL)

    records = exec_records(hb.audit_dir, default_key())
    assert [r["type"] for r in records] == ["start"], records
    exec_id = records[0]["exec_id"]
    assert records[0]["pid"] == proc.pid

    show = audit(hb, "show", hb.audit_dir, "--exec", exec_id)
    assert show.rc == 0, show
    assert f"exec id:          {exec_id}\n" in show.stdout, show
    assert "\noutcome:          launcher died\n" in show.stdout, show
    shown = audit(hb, "show", hb.audit_dir, "--exec", exec_id, "--json")
    assert shown.rc == 0, shown
    (row,) = [json.loads(line) for line in shown.stdout.splitlines()]
    assert row["exec_id"] == exec_id
    assert row["reason"] == "launcher_died", row
    assert row["end_time"] is None, row
    check = verify(hb, hb.audit_dir)
    assert_verified(check, 1)


# ---------------------------------------------------------------- 7. full


def fill(mountpoint):
    """Fill a file system to the last byte."""
    fd = os.open(mountpoint / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
    finally:
        os.close(fd)
    st = os.statvfs(mountpoint)
    assert st.f_bavail == 0, st


@pytest.fixture
def small_dir(hb):
    """A tmpfs of 64 KiB."""
    if os.geteuid() != 0:
        pytest.skip("needs root: mounts a small tmpfs to fill")
    mountpoint = hb.dir.parent / (hb.dir.name + "-full")
    mountpoint.mkdir()
    mounted = False
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755",
                        "hivebox-test-full", str(mountpoint)], check=True,
                       capture_output=True, timeout=30)
        mounted = True
        yield mountpoint
    finally:
        if mounted:
            r = subprocess.run(["umount", str(mountpoint)],
                               capture_output=True, timeout=30)
            if r.returncode != 0:
                subprocess.run(["umount", "-l", str(mountpoint)],
                               capture_output=True, timeout=30)
        mountpoint.rmdir()


@pytest.fixture
def full_dir(small_dir):
    """A tmpfs of 64 KiB, filled to the last byte."""
    fill(small_dir)
    return small_dir


def test_a_full_disk_refuses_a_run_that_requires_the_trail(hb, full_dir):
    out = hb.mkdir("out", 0o777)
    policy = hb.policy("[filesystem]\nread_write = ./out\n")

    run = with_audit_dir(hb, full_dir, lambda: hb.run(
        "write_probe.py", "out/marker", policy=policy))

    assert_refused(run, rf"^hivebox: {re.escape(str(full_dir))}\b.*"
                   r"No space left on device", recorded=False)
    assert not (out / "marker").exists(), "the script ran"
    # Nothing, not half a record: neither of the start nor of the refusal.
    assert exec_records(full_dir) == []
    assert events(full_dir) == []
    assert run.result["audit"]["write_errors"] >= 1, run


def test_a_full_disk_with_the_trail_not_required(hb, full_dir):
    out = hb.mkdir("out", 0o777)
    policy = hb.policy("[filesystem]\nread_write = ./out\n"
                       "[audit]\nrequired = no\n")

    run = with_audit_dir(hb, full_dir, lambda: hb.run(
        "write_probe.py", "out/marker", policy=policy))

    assert run.rc == 0, run
    assert run.json() == {"out/marker": "ok"}, run
    assert (out / "marker").exists()
    assert re.search(r"cannot write the start record: No space left on "
                     r"device", run.stderr), run
    res = assert_result(run, "exit", exit_code=0)
    assert res["audit"]["write_errors"] >= 1, res
    assert exec_records(full_dir) == []


@pytest.mark.parametrize("required", ["yes", "no"])
def test_a_start_record_the_trail_cannot_take_stops_the_script(
        hb, small_dir, required):
    """The start record is written while the sandbox is built, and the
    script starts only once it is durable.  A trail that fills up after
    the policy was stored (so that only the record itself fails) refuses
    the run where the trail is required: the sandbox was made, and the
    script never ran.  Where not, the run goes on and says so once."""
    out = hb.mkdir("out", 0o777)
    policy = hb.policy("[filesystem]\nread_write = ./out\n"
                       f"[audit]\nrequired = {required}\n")
    first = with_audit_dir(hb, small_dir, lambda: hb.run(
        "write_probe.py", "out/first", policy=policy))
    assert first.rc == 0, first
    fill(small_dir)

    run = with_audit_dir(hb, small_dir, lambda: hb.run(
        "write_probe.py", "out/marker", policy=policy))

    if required == "yes":
        assert_refused(run, r"cannot write the start record: No space "
                       r"left on device; the audit trail is required",
                       recorded=False)
        assert not (out / "marker").exists(), "the script ran"
    else:
        assert run.rc == 0, run
        assert (out / "marker").exists()
        assert re.search(r"cannot write the start record: No space left "
                         r"on device", run.stderr), run
        assert_result(run, "exit", exit_code=0)
    assert run.result["audit"]["write_errors"] >= 1, run
    # The first run's records are whole.  (Of the second's start, the
    # line may fit in the log's last page while its head file does not.)
    kinds = [r["type"] for r in exec_records(small_dir)]
    assert kinds[:2] == ["start", "end"], kinds


def test_the_end_record_counts_the_failed_event_writes(hb):
    """A security event that cannot be written (its log is a directory)
    is counted in the end record written after it, not only in the
    result."""
    (hb.audit_dir / SEC_LOG).mkdir()
    # One event: the cpu_limit violation, without the CPU alert.
    policy = hb.policy("[execution]\ncpu_seconds = 1\n"
                       "[monitoring]\ncpu_usage_alert = 0\n")

    run = hb.run("cpu_burn.py", policy=policy)

    assert run.rc == 128 + signal.SIGXCPU, run
    assert re.search(r"cannot record a security event: Is a directory",
                     run.stderr), run
    res = assert_result(run, "cpu_limit")
    assert res["audit"]["write_errors"] == 1, res
    (end,) = [r for r in exec_records(hb.audit_dir, default_key())
              if r["type"] == "end"]
    assert end["result"]["audit"]["write_errors"] == 1, end
    assert end["violations"] == res["violations"] == 1, end
    assert end["alerts"] == res["alerts"] == 0, end


# ---------------------------------------------------------------- 8. alerts


def alert_command(hb: Hivebox, body: str) -> tuple:
    """An executable alert command with body; its output directory is
    written into it (it runs with only PATH and HIVEBOX_EXEC_ID)."""
    out = hb.mkdir("alerts", 0o755)
    path = hb.dir / "alert.sh"
    path.write_text("#!/bin/sh\n" + body.replace("$OUT_DIR", str(out)))
    path.chmod(0o755)
    return path, out


RECORDING = ('cat > "$OUT_DIR/$1.$$.json"\n'
             'printf %s "$HIVEBOX_EXEC_ID" > "$OUT_DIR/$1.$$.env"\n')


def received(out: Path) -> list:
    """The events the alert command received: (kind argument, JSON,
    HIVEBOX_EXEC_ID)."""
    got = []
    for path in sorted(out.glob("*.json")):
        kind = path.name.split(".")[0]
        env = path.with_suffix(".env").read_text()
        got.append((kind, json.loads(path.read_text()), env))
    return got


def stderr_alerts(run, kind: str) -> list:
    return [ln for ln in run.stderr_lines()
            if ln.startswith(f"hivebox: {kind}: ")]


def assert_one_alert(hb, run, kind: str, out: Optional[Path]):
    """Exactly one alert of kind: one event, counted in the result and the
    end record, (and given to the alert command in out)."""
    res = run.result
    exec_id = res["exec_id"]
    evs = events(hb.audit_dir, exec_id, key=default_key())
    assert [(e["kind"], e["severity"]) for e in evs] == [(kind, "alert")], \
        evs
    assert evs[0]["message"], evs
    assert res["alerts"] == 1, res
    assert res["violations"] == 0, res
    end = [r for r in exec_records(hb.audit_dir, default_key())
           if r["exec_id"] == exec_id and r["type"] == "end"]
    assert len(end) == 1 and end[0]["alerts"] == 1, end
    if out is not None:
        got = received(out)
        assert len(got) == 1, got
        arg, event, env = got[0]
        assert arg == kind
        assert event["kind"] == kind, event
        assert event["exec_id"] == exec_id, event
        assert event["message"] == evs[0]["message"], event
        assert env == exec_id
    return evs[0]


MEMORY_ALERT = ("[execution]\nmemory_mb = 200\n"
                "[monitoring]\nmemory_usage_alert = 50\n")


def test_memory_usage_alert_fires_once_at_its_threshold(hb):
    command, out = alert_command(hb, RECORDING)
    policy = hb.policy(MEMORY_ALERT + f"alert_command = {command}\n")

    # 40 MiB held stays under 50 % of 200 MiB.
    below = hb.run("memory_hold.py", "40", "1", policy=policy)
    assert below.rc == 0, below
    assert below.result["alerts"] == 0, below
    assert events(hb.audit_dir, key=default_key()) == []
    assert stderr_alerts(below, "memory_usage_alert") == [], below
    assert received(out) == []

    run = hb.run("memory_hold.py", "120", "1", policy=policy)

    assert run.rc == 0, run
    assert run.stdout == "holding 120 MiB\nreleased\n", run
    assert_result(run, "exit", exit_code=0)
    assert len(stderr_alerts(run, "memory_usage_alert")) == 1, run
    assert run.result["peak_memory_kb"] >= 100 * 1024, run.result
    assert_one_alert(hb, run, "memory_usage_alert", out)


def test_cpu_usage_alert_fires_once_at_its_threshold(hb):
    command, out = alert_command(hb, RECORDING)
    policy = hb.policy("[execution]\ncpu_seconds = 2\n"
                       "[monitoring]\ncpu_usage_alert = 50\n"
                       f"alert_command = {command}\n")

    below = hb.run("cpu_spin.py", "0.4", policy=policy)
    assert below.rc == 0, below
    assert below.result["alerts"] == 0, below
    assert events(hb.audit_dir, key=default_key()) == []
    assert received(out) == []

    run = hb.run("cpu_spin.py", "1.5", policy=policy)

    assert run.rc == 0, run
    assert run.stdout == "burned 1.5 s of CPU\n", run
    assert_result(run, "exit", exit_code=0)
    assert len(stderr_alerts(run, "cpu_usage_alert")) == 1, run
    assert stderr_alerts(run, "memory_usage_alert") == [], run
    assert_one_alert(hb, run, "cpu_usage_alert", out)


def test_a_failing_alert_command_is_recorded(hb):
    command, _ = alert_command(hb, "cat > /dev/null\nexit 3\n")
    policy = hb.policy(MEMORY_ALERT + f"alert_command = {command}\n")

    run = hb.run("memory_hold.py", "120", "1", policy=policy)

    assert run.rc == 0, run
    assert run.stdout == "holding 120 MiB\nreleased\n", run
    res = assert_result(run, "exit", exit_code=0)
    evs = events(hb.audit_dir, res["exec_id"], key=default_key())
    assert [(e["kind"], e["severity"]) for e in evs] == [
        ("memory_usage_alert", "alert"),
        ("alert_command_failed", "error")], evs
    assert str(command) in evs[1]["message"], evs
    assert res["alerts"] == 1 and res["violations"] == 0, res


def sigpipe_ignored(status_line: str) -> bool:
    """Whether a /proc/PID/status SigIgn line has SIGPIPE's bit."""
    return bool(int(status_line.split()[1], 16) & (1 << (signal.SIGPIPE - 1)))


def test_an_alert_command_that_reads_nothing_does_not_end_hivebox(hb):
    """The alert command exits at once without reading the event: the
    supervisor's write to it fails with EPIPE and hivebox goes on (it
    ignores SIGPIPE), while the command itself starts with SIGPIPE at
    its default, as a program run bare would."""
    command, out = alert_command(
        hb, 'grep SigIgn /proc/$PPID/status > "$OUT_DIR/parent"\n'
            'grep SigIgn /proc/$$/status > "$OUT_DIR/self"\n'
            'grep flags /proc/$$/fdinfo/0 > "$OUT_DIR/stdin"\n'
            'exec 0<&-\n')
    policy = hb.policy(MEMORY_ALERT + f"alert_command = {command}\n")

    run = hb.run("memory_hold.py", "120", "1", policy=policy)

    assert run.rc == 0, run
    assert run.stdout == "holding 120 MiB\nreleased\n", run
    assert_one_alert(hb, run, "memory_usage_alert", None)
    assert sigpipe_ignored((out / "parent").read_text()), \
        (out / "parent").read_text()
    assert not sigpipe_ignored((out / "self").read_text()), \
        (out / "self").read_text()
    # Its stdin blocks, as a program's does bare: a read before the event
    # is written waits for it instead of failing with EAGAIN.
    flags = int((out / "stdin").read_text().split()[1], 8)
    assert not flags & os.O_NONBLOCK, oct(flags)


def test_a_hanging_alert_command_is_killed(hb):
    command, out = alert_command(
        hb, 'echo $$ > "$OUT_DIR/pid"\nexec sleep 60\n')
    policy = hb.policy(MEMORY_ALERT + f"alert_command = {command}\n"
                       "alert_timeout_seconds = 1\n")
    pid = None

    def still_sleeping():
        """The alert command (exec'd into sleep 60) is still there."""
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                alive = f.read() == b"sleep\x0060\x00"
            return alive and not proc_status(pid)["State"].startswith("Z")
        except (OSError, TypeError):
            return False

    try:
        run = hb.run("memory_hold.py", "120", "0.5", policy=policy,
                     timeout=30)
        if (out / "pid").exists():
            pid = int((out / "pid").read_text())

        assert run.rc == 0, run
        assert run.stdout == "holding 120 MiB\nreleased\n", run
        assert run.elapsed < 0.5 + 1 + 4, run
        res = assert_result(run, "exit", exit_code=0)
        evs = events(hb.audit_dir, res["exec_id"], key=default_key())
        assert [(e["kind"], e["severity"]) for e in evs] == [
            ("memory_usage_alert", "alert"),
            ("alert_command_failed", "error")], evs
        assert pid is not None, "the alert command did not start"
        assert not still_sleeping(), f"alert command {pid} lives on"
    finally:
        if pid is not None and still_sleeping():
            os.kill(pid, signal.SIGKILL)


def test_quiet_drops_the_alert_line_not_the_record(hb):
    policy = hb.policy(MEMORY_ALERT)

    run = hb.run("memory_hold.py", "120", "1", policy=policy,
                 options=["--quiet"])

    assert run.rc == 0, run
    assert run.stderr == "", run
    assert_result(run, "exit", exit_code=0)
    assert_one_alert(hb, run, "memory_usage_alert", None)


# ---------------------------------------------------------------- 9. limit
# Each limit's end record and violation event: test_limits.py,
# assert_recorded.


# ---------------------------------------------------------------- 10. stats


def test_stats_and_show_count_the_runs(hb):
    runs = [hb.run("exit_code.py", "0"), hb.run("exit_code.py", "3"),
            hb.run("sleeper.py", "30", options=["--timeout", "1"])]
    assert [r.rc for r in runs] == [0, 3, 124], runs
    timeout_id = runs[2].result["exec_id"]
    assert len(exec_records(hb.audit_dir, default_key())) == 6
    (ev,) = events(hb.audit_dir, key=default_key())
    assert (ev["exec_id"], ev["kind"], ev["severity"]) == \
        (timeout_id, "timeout", "violation"), ev

    stats = audit(hb, "stats", hb.audit_dir, "--json")

    assert stats.rc == 0, stats
    s = json.loads(stats.stdout)
    assert s["executions"] == 3, s
    assert {k: v for k, v in s["by_reason"].items() if v} == \
        {"exit": 2, "timeout": 1}, s
    assert s["by_script"] == {str(hb.dir / "exit_code.py"): 2,
                              str(hb.dir / "sleeper.py"): 1}, s
    assert s["by_policy"] == {str(hb.dir / "policy.ini"): 3}, s
    assert s["violations"] == 1, s
    assert s["violations_by_kind"] == {"timeout": 1}, s
    assert s["alerts"] == 0 and s["alerts_by_kind"] == {}, s
    assert s["finished_runs"] == 3, s

    show = audit(hb, "show", hb.audit_dir, "--json", "--event", "timeout")
    assert show.rc == 0, show
    rows = [json.loads(line) for line in show.stdout.splitlines()]
    assert [r["exec_id"] for r in rows] == [timeout_id], show
    assert rows[0]["reason"] == "timeout", rows
    assert [e["kind"] for e in rows[0]["events"]] == ["timeout"], rows

    # Success is exit 0; the rest fail, by what ended them.
    assert (s["succeeded"], s["failed"], s["running"]) == (1, 2, 0), s
    assert s["failed_by_reason"] == {"exit_nonzero": 1, "timeout": 1}, s
    text = audit(hb, "stats", hb.audit_dir)
    assert "\nsucceeded: 1 (exit 0)\nfailed: 2\n" in text.stdout, text
    assert re.search(r"^failed by reason:\n  exit_nonzero  1\n"
                     r"  timeout       1\n", text.stdout, re.M), text

    # Rows in time order, oldest first.
    table = audit(hb, "show", hb.audit_dir)
    at = [table.stdout.index(r.result["exec_id"]) for r in runs]
    assert at == sorted(at), table

    # One run, by a prefix of its id: in full.
    one = audit(hb, "show", hb.audit_dir, "--exec", timeout_id[:8])
    assert one.rc == 0, one
    (start,) = [r for r in exec_records(hb.audit_dir)
                if r["type"] == "start" and r["exec_id"] == timeout_id]
    for label, value in [
            ("exec id", timeout_id),
            ("argv", json.dumps(start["argv"], separators=(",", ":"))),
            ("cwd", str(hb.dir)),
            ("host uid", str(start["host_uid"])),
            ("policy", str(hb.dir / "policy.ini")),
            ("effective sha256", start["policy"]["effective_sha256"]),
            ("outcome", "timeout")]:
        assert re.search(rf"^{label}: +{re.escape(value)}", one.stdout,
                         re.M), (label, one)
    assert "\nevents: 1\n" in one.stdout, one
    assert re.search(r"^  \S+  timeout \(violation\): ", one.stdout, re.M)
    # A prefix every run shares is ambiguous.
    common = os.path.commonprefix([r.result["exec_id"] for r in runs])
    amb = audit(hb, "show", hb.audit_dir, "--exec", common)
    assert amb.rc == EXIT_HIVEBOX, amb
    assert amb.stderr == (f"hivebox: exec id '{common}' is ambiguous in "
                          f"{hb.audit_dir}: more than one run starts with "
                          "it\n"), amb


def test_queries_an_investigator_types(hb):
    runs = [hb.run("exit_code.py", "0"), hb.run("hello.py")]
    assert [r.rc for r in runs] == [0, 0], runs
    ids = [r.result["exec_id"] for r in runs]

    def shown(*args, cwd=None):
        run = hb.run_argv(["audit", "show", "--dir", hb.audit_dir, "--json",
                           *args], cwd=cwd)
        assert run.rc == 0, run
        return [json.loads(line)["exec_id"]
                for line in run.stdout.splitlines()]

    for since in ("today", "yesterday", "2h", "30m", "1d",
                  time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400)),
                  time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                time.gmtime(time.time() - 600))):
        assert shown("--since", since) == ids, since
    assert shown("--since", "2999-01-01") == []
    bad = hb.run_argv(["audit", "show", "--dir", hb.audit_dir, "--since",
                       "last tuesday"])
    assert bad.rc == EXIT_HIVEBOX, bad
    assert bad.stderr == ("hivebox: --since 'last tuesday': not a time; use "
                          "today, yesterday, Nd, Nh, Nm (that long ago), "
                          "YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][.fff][Z|"
                          "+hh:mm]\n"), bad

    # --script as typed where one stands.
    assert shown("--script", "hello.py") == [ids[1]]
    assert shown("--script", "./sub/../exit_code.py") == [ids[0]]
    (hb.dir / "sub").mkdir()
    assert shown("--script", "../hello.py", cwd=hb.dir / "sub") == [ids[1]]

    # An event kind that does not exist is a mistake, not "no runs".
    typo = hb.run_argv(["audit", "show", "--dir", hb.audit_dir, "--event",
                        "syscall_deny"])
    assert typo.rc == EXIT_HIVEBOX, typo
    assert typo.stdout == "", typo
    assert typo.stderr.startswith("hivebox: --event 'syscall_deny': no such "
                                  "event kind; one of: "), typo
    assert " syscall_denied " in typo.stderr, typo
    ok = hb.run_argv(["audit", "show", "--dir", hb.audit_dir, "--event",
                      "syscall_denied"])
    assert (ok.rc, ok.stdout) == (0, "no runs match\n"), ok


@pytest.mark.parametrize("sub", ["init", "verify", "show", "stats",
                                 "rotate"])
def test_every_audit_subcommand_has_help(hb, sub):
    for flag in ("--help", "-h"):
        run = hb.run_argv(["audit", sub, flag])
        assert (run.rc, run.stderr) == (0, ""), run
        assert run.stdout.startswith(f"Usage: hivebox audit {sub} "), run
    assert hb.run_argv(["audit", "--help"]).stdout.count("Usage:") == 5


# ---------------------------------------------------------------- 11. bad


@pytest.mark.parametrize("corrupt", [
    pytest.param(b"garbage, not JSON {", id="not JSON"),
    # What a crash can leave on ext4: a block of zeros where a record was.
    pytest.param(b"\0" * 64, id="NUL bytes"),
])
def test_show_skips_a_corrupt_line_with_one_warning(hb, corrupt):
    ids = [hb.run("exit_code.py", str(c)).result["exec_id"] for c in (0, 1)]
    copy = copy_logs(hb.audit_dir, hb.dir / "copy")
    lines = log_lines(copy / EXEC_LOG)
    assert len(lines) == 4
    lines.insert(2, corrupt)
    rewrite(copy / EXEC_LOG, lines)

    show = audit(hb, "show", copy)

    assert show.rc == 0, show
    warnings = show.stderr_lines()
    assert len(warnings) == 1, show
    assert f"{copy / EXEC_LOG}:3" in warnings[0], show
    for exec_id in ids:
        assert exec_id in show.stdout, show


def test_verify_names_a_cut_last_line(hb):
    for code in (0, 1):
        assert hb.run("exit_code.py", str(code)).rc == code
    copy = copy_logs(hb.audit_dir, hb.dir / "copy")
    lines = log_lines(copy / EXEC_LOG)
    lines[-1] = lines[-1][:len(lines[-1]) // 2]
    rewrite(copy / EXEC_LOG, lines, newline_at_end=False)

    check = verify(hb, copy)

    assert check.rc == 1, check
    assert re.match(rf"^{EXEC_LOG}: FAIL at {EXEC_LOG}:4: .*(cut|truncated)",
                    verdict(check)), check


def test_verify_with_a_missing_key_file_checks_no_hmac(hb):
    key_file = sign(hb)
    policy = hb.policy(f"[audit]\nkey_file = {key_file}\n")
    assert hb.run("exit_code.py", "0", policy=policy).rc == 0
    assert len(exec_records(hb.audit_dir, key_file.read_bytes())) == 2

    check = verify(hb, hb.audit_dir, "--key", hb.dir / "keys" / "missing")

    assert_verified(check, 2, hmac_checked=False)
    assert "2 records carry an HMAC that could not be checked" in \
        check.stdout, check


def test_an_audit_dir_that_is_a_symlink_is_refused(hb):
    real = hb.mkdir("real-audit", 0o777)
    link = hb.dir / "link-audit"
    link.symlink_to(real)
    policy = hb.policy(f"[audit]\n{REQUIRED}")
    try:
        run = with_audit_dir(hb, link, lambda: hb.run("hello.py",
                                                      policy=policy))

        assert_refused(run, rf"{re.escape(str(link))}.*symlink",
                       recorded=False)
        check = verify(hb, link)
        assert_refused(check, r"symlink")
        assert os.listdir(real) == []
    finally:
        remove_audit_dir(real)


def test_a_result_path_that_cannot_take_the_result_leaves_no_open_run(hb):
    """--result naming a directory refuses the run at once: the trail
    holds no start record, only the refused run's end."""
    target = hb.mkdir("results")

    run = hb.run_argv(["--result", target, "--policy", hb.policy(),
                       hb.script("hello.py")])

    assert run.rc == EXIT_HIVEBOX, run
    assert run.stdout == "", run
    assert run.stderr_lines() == [
        f"hivebox: {target}: cannot write the result there: "
        f"{os.strerror(errno.EISDIR)}"], run
    (end,) = exec_records(hb.audit_dir, default_key())
    assert end["type"] == "end", end
    assert end["result"]["reason"] == "refused", end
    (ev,) = events(hb.audit_dir, end["exec_id"], default_key())
    assert ev["details"]["result_written"] is False, ev
    assert os.listdir(target) == []


@pytest.mark.parametrize("verb", ["show", "stats", "verify"])
def test_reading_a_missing_audit_dir_creates_nothing(hb, verb):
    missing = hb.dir / "no-such-audit"

    run = audit(hb, verb, missing)

    assert_refused(run, rf"{re.escape(str(missing))}.*No such file")
    assert not missing.exists()


def test_verify_file_is_looked_for_in_dir_not_in_the_cwd(hb):
    """The issue's false all-clear: run from another directory that holds
    a log of the same name, `verify --dir D execution_audit.log` checked
    the file in the cwd and passed while D's failed."""
    assert hb.run("exit_code.py", "0").rc == 0
    assert hb.run("exit_code.py", "2").rc == 2
    bad = copy_logs(hb.audit_dir, hb.dir / "bad")
    rewrite(bad / EXEC_LOG, edit_byte(log_lines(bad / EXEC_LOG)))
    elsewhere = hb.dir / "elsewhere"
    elsewhere.mkdir()
    # A log in the cwd that would verify.
    for name in (EXEC_LOG, EXEC_LOG + ".head"):
        shutil.copyfile(hb.audit_dir / name, elsewhere / name)
    assert_verified(hb.run_argv(["audit", "verify", "--dir", elsewhere]), 4)

    check = hb.run_argv(["audit", "verify", "--dir", bad, EXEC_LOG],
                        cwd=elsewhere)

    assert check.rc == 1, check
    assert verdict(check).startswith(f"{EXEC_LOG}: FAIL at {EXEC_LOG}:4"), \
        check
    # The security log was asked for and D has none: not "no records yet".
    check = hb.run_argv(["audit", "verify", "--dir", bad, SEC_LOG],
                        cwd=elsewhere)
    assert check.rc == EXIT_HIVEBOX, check
    assert check.stderr == f"hivebox: {bad}/{SEC_LOG}: no such audit log\n"


def test_verify_of_a_log_that_is_not_there_fails(hb):
    empty = hb.dir / "empty-audit"
    empty.mkdir()
    (hb.dir / EXEC_LOG).write_text("")  # a decoy in the cwd

    for args in ([SEC_LOG], [EXEC_LOG], []):
        check = hb.run_argv(["audit", "verify", "--dir", empty, *args])
        assert check.rc == EXIT_HIVEBOX, check
        assert check.stdout == "", check
        assert len(check.stderr.splitlines()) == 1, check
        assert str(empty) in check.stderr, check
    # Named by path, with no --dir: the same.
    check = hb.run_argv(["audit", "verify", empty / SEC_LOG])
    assert check.rc == EXIT_HIVEBOX, check
    assert "no such audit log" in check.stderr, check


def test_verify_refuses_a_path_outside_dir(hb):
    hb.run("hello.py")
    other = hb.dir / "other"
    other.mkdir()

    check = hb.run_argv(["audit", "verify", "--dir", other,
                         hb.audit_dir / EXEC_LOG])

    assert check.rc == EXIT_HIVEBOX, check
    assert check.stdout == "", check
    assert check.stderr == (f"hivebox: {hb.audit_dir / EXEC_LOG} is not in "
                            f"--dir {other}; name the log by its path or by "
                            "--dir and its name, not both\n"), check
    # The same place named both ways is no ambiguity.
    same = hb.run_argv(["audit", "verify", "--dir", hb.audit_dir,
                        hb.audit_dir / EXEC_LOG])
    assert_verified(same, 2)


# ---------------------------------------------------------------- 12. loosen


def test_a_loosening_attempt_is_a_refusal_event(hb):
    policy = hb.policy()

    run = hb.run("hello.py", policy=policy, options=["--timeout", "100"])

    assert_refused(run, r"--timeout 100 would loosen .*timeout_seconds = 20")
    (ev,) = events(hb.audit_dir, key=default_key())
    assert ev["kind"] == "refusal", ev
    assert ev["severity"] == "violation", ev
    assert "--timeout 100 would loosen" in ev["message"], ev
    assert UUID.match(ev["exec_id"]), ev
    (end,) = exec_records(hb.audit_dir, default_key())
    assert (end["type"], end["exec_id"]) == ("end", ev["exec_id"]), end
    assert end["result"]["refusal"]["message"] == ev["message"], end


# ---------------------------------------------------------------- 13. bytes

# Every class of byte a terminal or a strict reader could choke on: DEL, a
# C1 control as a raw byte and as UTF-8, U+202E (right-to-left override),
# invalid UTF-8, C0 controls, a backslash that looks like an escape, and a
# plain UTF-8 letter.
ODD = (b"/tmp/odd-\x7f-\x9b-\xc2\x9b-\xe2\x80\xae-\xff\xfe-\xc3-\x1b[31m-"
       b"\x01\n\t-\\x41-\xc3\xa9")


def escaped(raw: bytes) -> str:
    """hivebox-audit(5), STRINGS: a backslash doubled, a byte outside
    printable ASCII as \\xNN."""
    return "".join("\\\\" if b == 0x5c else chr(b) if 0x20 <= b < 0x7f
                   else f"\\x{b:02x}" for b in raw)


def unescaped(text: str) -> bytes:
    """escaped() undone; refuses anything escaped() cannot produce."""
    out, i = bytearray(), 0
    while i < len(text):
        c = text[i]
        assert 0x20 <= ord(c) < 0x7f, text
        if c != "\\":
            out.append(ord(c))
            i += 1
        elif text[i + 1] == "\\":
            out.append(0x5c)
            i += 2
        else:
            assert text[i + 1] == "x", text
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
    return bytes(out)


def assert_clean_for_a_terminal(data: bytes, what: str):
    """No C0 control but newline and tab, no DEL, and valid UTF-8 without
    C1 controls or bidirectional overrides."""
    bad = [b for b in data if (b < 0x20 and b not in b"\n\t") or b == 0x7f]
    assert bad == [], (what, bad, data)
    text = data.decode("utf-8", errors="strict")
    odd = [c for c in text if 0x80 <= ord(c) <= 0x9f or
           0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069]
    assert odd == [], (what, odd)


def test_odd_bytes_reach_neither_the_logs_nor_the_terminal_raw(hb):
    """A script (named with odd bytes, by whoever runs it) makes a denied
    call on a path of odd bytes and gets an argument of them: every log
    line stays printable ASCII, so a strict UTF-8 reader can read it; the
    path reads back as exactly the bytes the script used; the chains still
    verify; and `audit show` prints nothing a terminal would act on."""
    name = b"odd-\x7f-\x9b-\xe2\x80\xae-\xff.py"
    script = os.fsdecode(name)
    shutil.copy(REPO / "tests" / "fixtures" / "odd_path.py", hb.dir / script)
    (hb.dir / script).chmod(0o644)

    # (The --result file is not the audit trail: the script's path goes
    # there as given.)
    run = hb.run(script, ODD.hex(), os.fsdecode(ODD), with_result=False)

    assert run.rc == 0, run
    assert run.json() == {"chroot": "EPERM"}, run
    for log in (SEC_LOG, EXEC_LOG):
        with open(hb.audit_dir / log, encoding="utf-8", errors="strict") as f:
            text = f.read()
        assert all(0x20 <= ord(c) < 0x7f for c in text.replace("\n", "")), \
            text
    start, end = exec_records(hb.audit_dir, default_key())
    (ev,) = [e for e in events(hb.audit_dir, start["exec_id"], default_key())
             if e["kind"] == "syscall_denied"]
    assert ev["details"]["syscall"] == "chroot", ev
    assert ev["details"]["path"] == escaped(ODD), ev
    assert unescaped(ev["details"]["path"]) == ODD
    path = escaped(os.fsencode(hb.dir / script))
    assert start["script"]["path"] == end["script"] == path, start
    assert start["argv"][-1] == start["command"][-1] == escaped(ODD), start
    assert start["command"][-3] == path, start

    check = verify(hb, hb.audit_dir)
    assert_verified(check, 2)
    assert verdict(check, SEC_LOG).startswith(f"{SEC_LOG}: OK, 1 record"), \
        check

    shown = {}
    for args in ("", "--json"):
        show = subprocess.run([HIVEBOX, "audit", "show", "--dir",
                               hb.audit_dir] + args.split(),
                              capture_output=True, timeout=60)
        assert show.returncode == 0, show
        assert_clean_for_a_terminal(show.stdout, args)
        shown[args] = show.stdout
    assert escaped(name).encode() in shown[""], shown
    (row,) = [json.loads(line) for line in shown["--json"].splitlines()]
    assert row["script"] == path, row
    assert row["events"][0]["details"]["path"] == escaped(ODD), row


def test_the_alert_command_gets_odd_bytes_escaped(hb):
    """A denied call on a path of odd bytes reaches the alert command as
    the security log has it: printable ASCII, the path escaped, so that a
    command that prints or forwards the event passes nothing raw on."""
    shutil.copy(REPO / "tests" / "fixtures" / "odd_path.py",
                hb.dir / "odd_path.py")
    command, out = alert_command(hb, RECORDING)
    policy = hb.policy(f"[monitoring]\nalert_command = {command}\n")

    run = hb.run("odd_path.py", ODD.hex(), policy=policy)

    assert run.rc == 0, run
    assert run.json() == {"chroot": "EPERM"}, run
    (path,) = out.glob("syscall_denied.*.json")
    data = path.read_bytes()
    assert all(0x20 <= b < 0x7f for b in data.rstrip(b"\n")), data
    event = json.loads(data)
    assert event["details"]["path"] == escaped(ODD), event
    (logged,) = [e for e in events(hb.audit_dir, run.result["exec_id"],
                                   default_key())
                 if e["kind"] == "syscall_denied"]
    assert logged["details"]["path"] == event["details"]["path"], logged


def test_a_damaged_binding_stops_every_writer(hb):
    """The `signing` file is what says the trail is signed: garbage in
    it, or no file at all under a signed trail, refuses the run rather
    than add records the trail's readers would take as its own; put
    back, the trail takes runs again and verifies."""
    key = sign(hb).read_bytes()
    binding = hb.audit_dir / "signing"
    good = binding.read_bytes()
    assert hb.run("exit_code.py", "0").rc == 0

    binding.write_text("{\"key_file\": \"/etc/hivebox/audit.key\"}\n")
    run = hb.run("exit_code.py", "0")
    assert_refused(run, rf"{re.escape(str(binding))}: not a key binding "
                   r"hivebox wrote; the audit trail is required",
                   recorded=False)
    check = verify(hb, hb.audit_dir)
    assert check.rc != 0, check
    assert "not a key binding hivebox wrote" in check.stdout + check.stderr

    binding.unlink()
    run = hb.run("exit_code.py", "0")
    assert_refused(run, r"the trail holds signed records but no key is "
                   r"bound to it; 'hivebox audit init --dir "
                   rf"{re.escape(str(hb.audit_dir))} --key FILE' binds",
                   recorded=False)
    assert len(exec_records(hb.audit_dir, key)) == 2

    binding.write_bytes(good)
    binding.chmod(0o644)
    assert hb.run("exit_code.py", "0").rc == 0
    assert_verified(verify(hb, hb.audit_dir), 4, hmac_checked=True)

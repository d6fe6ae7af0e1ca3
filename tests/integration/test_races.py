"""A path is checked once and mounted as checked: a concurrent process
that shares a writable directory with the job and swaps a component of a
policy path, or the script, while hivebox starts (renameat2
RENAME_EXCHANGE in a tight loop) never gets the sandbox another tree, and
never holds the launcher.  Every run either sees what the policy named or
is refused with a clear error.  The racing process is an unprivileged user
(nobody), who owns the shared directory: started as root, hivebox opens
paths as root and gives each as its owner's, so a tree of root's that the
racer swapped in must never be given."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import (EXIT_HIVEBOX, HIVEBOX, LIMITS, needs_root,
                      require_root, require_userns)

NOBODY = 65534
# At least this many runs against one racing renamer, several at a time.
ATTEMPTS = 200
PARALLEL = 6

# Exchanges pairs of names (relative to its cwd) in a tight loop, each
# twice, so that each pair is swapped half of the time; on SIGTERM it
# prints how many exchanges it made.
RENAMER = r"""
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
RENAME_EXCHANGE, AT_FDCWD = 2, -100
pairs = [[n.encode() for n in p.split(":")] for p in sys.argv[1:]]
count = 0
def done(*_):
    print(count, flush=True)
    os._exit(0)
signal.signal(signal.SIGTERM, done)
print("ready", flush=True)
while True:
    for a, b in pairs:
        for _ in range(2):
            if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE):
                err = ctypes.get_errno()
                sys.exit(f"renameat2 {a} {b}: {os.strerror(err)}")
            count += 1
"""

# Reports what the sandbox finds at argv[1]: its inode, its entries and
# the marker file's text.
PROBE = r"""
import json, os, sys
path, seen = sys.argv[1], {}
try:
    st = os.stat(path)
    seen["ino"] = st.st_ino
    seen["entries"] = sorted(os.listdir(path))
    with open(os.path.join(path, "marker")) as f:
        seen["marker"] = f.read()
except OSError as e:
    seen["error"] = f"{type(e).__name__}: {e.strerror}"
print(json.dumps(seen))
"""


AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
             "--clear-groups"]


class Renamer:
    """The racing process, outside any sandbox."""

    def __init__(self, cwd: Path, pairs, prefix=()):
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-I", "-c", RENAMER, *pairs], cwd=cwd,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line == "ready\n", self.proc.stderr.read()

    def stop(self) -> int:
        """Stop it; the number of exchanges it made."""
        if self.proc.poll() is None:
            self.proc.terminate()
        out, err = self.proc.communicate(timeout=10)
        assert self.proc.returncode == 0, err
        return int(out)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def shared_tree(shared: Path) -> dict:
    """shared/box/kernel is the policy's path, holding a marker: nobody's,
    in nobody's shared/, where nobody renames.  Swapped in by the renamer:
    shared/evil, a directory only root may enter whose kernel/ holds
    another marker (for box); box/rootonly, such a directory itself (for
    kernel); and shared/syslink, a symlink to /sys, under which kernel/ is
    the host's /sys/kernel (for box)."""
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    for d, text in ((shared / "box" / "kernel", "legit"),
                    (shared / "evil" / "kernel", "foreign")):
        d.mkdir(parents=True)
        (d / "marker").write_text(text)
        for p in (d, d.parent):
            p.chmod(0o755)
        (d / "marker").chmod(0o644)
    (shared / "evil").chmod(0o700)
    (shared / "box" / "rootonly").mkdir(mode=0o700)
    (shared / "syslink").symlink_to("/sys")
    for p in (shared, shared / "box", shared / "box" / "kernel",
              shared / "box" / "kernel" / "marker"):
        os.chown(p, NOBODY, NOBODY)
    os.lchown(shared / "syslink", NOBODY, NOBODY)
    return {"ino": (shared / "box" / "kernel").stat().st_ino,
            "entries": ["marker"], "marker": "legit"}


RENAME_PAIRS = ("box:evil", "box:syslink", "box/kernel:box/rootonly")


def run_once(i: int, work: Path, results: Path, audit_dir: Path,
             binary: Path, prefix, target: str):
    result = results / f"result-{i}.json"
    argv = list(prefix) + [str(binary), "--audit-dir", str(audit_dir),
                           "--result", str(result), "--policy",
                           "policy.ini", "probe.py", target]
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=work, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    res = json.loads(result.read_text()) if result.exists() else None
    return proc, res, time.monotonic() - start


def classify(proc, res, legit: dict, target: str) -> str:
    """'legit'; 'refused' by the plan (nothing started); 'failed' in the
    sandbox's setup, naming the path; 'foreign: ...' with what the script
    saw of another tree; or 'unexpected: ...'."""
    if proc.returncode == 0:
        seen = json.loads(proc.stdout)
        return "legit" if seen == legit else f"foreign: {seen}"
    lines = proc.stderr.splitlines()
    plan = (rf"^hivebox: policy\.ini:\d+: read_only path '{re.escape(target)}'"
            r".*(symlink on its way|Permission denied|is owned by root "
            r"\(uid 0\), but .*/shared on its way belongs to nobody "
            r"\(uid 65534\), who could put another tree there)")
    setup = (r"^hivebox: sandbox setup failed at 'build the root file "
             rf"system' on {re.escape(target)}")
    if proc.returncode != EXIT_HIVEBOX or proc.stdout or len(lines) != 1:
        return f"unexpected: rc={proc.returncode} {proc.stdout!r} " \
            f"{proc.stderr!r}"
    if re.search(plan, lines[0]) and res and res["reason"] == "refused" \
            and res["refusal"]["message"] == lines[0][len("hivebox: "):]:
        return "refused"
    if re.search(setup, lines[0]) and res and \
            res["reason"] == "setup_error" and \
            res["setup_error"]["stage"] == "build the root file system":
        return "failed"
    return f"unexpected: {lines[0]!r} result={res}"


def race(work: Path, results: Path, audit_dir: Path, binary: Path,
         prefix=()) -> dict:
    """ATTEMPTS runs against the renamer; the outcomes, counted."""
    shared = work / "shared"
    legit = shared_tree(shared)
    target = str(shared / "box" / "kernel")
    (work / "policy.ini").write_text(
        LIMITS + f"[filesystem]\nread_only = {target}\n")
    (work / "probe.py").write_text(PROBE)
    for name in ("policy.ini", "probe.py"):
        (work / name).chmod(0o644)
    renamer = Renamer(shared, RENAME_PAIRS, prefix=AS_NOBODY)
    try:
        with ThreadPoolExecutor(PARALLEL) as pool:
            runs = list(pool.map(
                lambda i: run_once(i, work, results, audit_dir, binary,
                                   prefix, target), range(ATTEMPTS)))
        exchanges = renamer.stop()
    finally:
        renamer.kill()
    counts = {"legit": 0, "refused": 0, "failed": 0, "exchanges": exchanges}
    odd = {"foreign": [], "unexpected": []}
    for proc, res, _ in runs:
        outcome = classify(proc, res, legit, target)
        kind = outcome.partition(":")[0]
        if kind in odd:
            odd[kind].append(outcome)
        else:
            counts[outcome] += 1
    print(f"\n{ATTEMPTS} runs: {counts}, foreign={len(odd['foreign'])}, "
          f"unexpected={len(odd['unexpected'])}")
    assert not odd["foreign"], f"{len(odd['foreign'])} of {ATTEMPTS} runs " \
        f"saw another tree: {odd['foreign'][:5]}; {counts}"
    assert not odd["unexpected"], odd["unexpected"][:5]
    # The race was live, and hivebox ran through it.
    assert counts["legit"] > 0 and \
        counts["refused"] + counts["failed"] > 0, counts
    # Every run has a result and an end record; a run refused by the
    # plan started nothing, so it alone has no start record, and an end
    # record naming a setup failure says what the result says.
    records = [json.loads(line) for line in
               (audit_dir / "execution_audit.log").read_text().splitlines()]
    ends = {r["exec_id"]: r for r in records if r["type"] == "end"}
    starts = {r["exec_id"] for r in records if r["type"] == "start"}
    results = [res for _, res, _ in runs]
    assert None not in results
    assert len(ends) == ATTEMPTS, len(ends)
    assert len(starts) == counts["legit"] + counts["failed"], len(starts)
    for res in results:
        end = ends[res["exec_id"]]["result"]
        assert end["reason"] == res["reason"], (end, res)
        assert (res["exec_id"] in starts) == (res["reason"] != "refused")
        if res["reason"] == "setup_error":
            assert end["setup_error"] == res["setup_error"], (end, res)
    return counts


@pytest.fixture
def race_dir():
    """A directory under /tmp that root and nobody both reach; removed
    at the end whatever happens."""
    base = Path(tempfile.mkdtemp(prefix="hivebox-race-", dir="/tmp"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def layout(base: Path, owner: int):
    """base/work (the start directory), base/results and base/audit,
    writable by owner, and a copy of hivebox that owner can run."""
    binary = base / "hivebox"
    shutil.copy(HIVEBOX, binary)
    binary.chmod(0o755)
    dirs = [base / name for name in ("work", "results", "audit")]
    for d in dirs:
        d.mkdir(mode=0o755)
        d.chmod(0o755)
    for d in dirs[1:]:
        os.chown(d, owner, owner)
    return binary, *dirs


@needs_root
def test_a_policy_path_swapped_while_root_starts_is_never_another_tree(
        race_dir):
    binary, work, results, audit_dir = layout(race_dir, 0)

    race(work, results, audit_dir, binary)


def test_a_policy_path_swapped_while_a_user_starts_is_never_another_tree(
        race_dir):
    require_root()  # to become someone else, and to own the foreign trees
    require_userns(NOBODY)
    binary, work, results, audit_dir = layout(race_dir, NOBODY)
    race(work, results, audit_dir, binary, prefix=AS_NOBODY)


# Swapped in for the script by the renamer: a FIFO, which an open for
# reading would wait on for ever, and a symlink to /dev/zero, which a hash
# would read for ever.
SCRIPT_PAIRS = ("job.py:fifo.py", "job.py:zero.py")


@needs_root
def test_a_script_swapped_for_a_fifo_or_dev_zero_is_refused_at_once(hb):
    hb.policy("")
    job = hb.dir / "job.py"
    job.write_text("print('legit')\n")
    job.chmod(0o644)
    os.mkfifo(hb.dir / "fifo.py", 0o644)
    (hb.dir / "zero.py").symlink_to("/dev/zero")
    renamer = Renamer(hb.dir, SCRIPT_PAIRS)

    def once(i):
        argv = [str(HIVEBOX), "--audit-dir", str(hb.audit_dir), "--policy",
                "policy.ini", "job.py"]
        start = time.monotonic()
        try:
            proc = subprocess.run(argv, cwd=hb.dir, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=10)
        except subprocess.TimeoutExpired:
            return None, 10.0
        return proc, time.monotonic() - start

    try:
        with ThreadPoolExecutor(PARALLEL) as pool:
            runs = list(pool.map(once, range(ATTEMPTS)))
        exchanges = renamer.stop()
    finally:
        renamer.kill()
    hung = sum(proc is None for proc, _ in runs)
    assert hung == 0, f"{hung} of {ATTEMPTS} runs held hivebox for 10 s"
    counts = {"legit": 0, "refused": 0}
    for proc, elapsed in runs:
        assert elapsed < 5, (proc, elapsed)
        if proc.returncode == 0:
            assert proc.stdout == "legit\n", proc
            counts["legit"] += 1
            continue
        assert proc.returncode == EXIT_HIVEBOX, proc
        assert re.fullmatch(
            r"hivebox: job\.py: cannot use script: (not a regular file|it "
            r"has a symlink on its way \(it resolves to /dev/zero\); name "
            r"that path instead|it has a symlink on its way)\n",
            proc.stderr), proc
        counts["refused"] += 1
    print(f"\n{ATTEMPTS} runs, {exchanges} exchanges: {counts}")
    assert counts["legit"] > 0 and counts["refused"] > 0, counts

"""Helpers for the integration tests: they run the real hivebox binary on
the real fixture scripts of tests/fixtures/ and look at what came out.

Run with `make integration` (after `make`), which sets HIVEBOX and
FIXTURE_BIN; without them the binary is looked for under build/.
"""
import fcntl
import functools
import json
import os
import re
import shutil
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


def _repo_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else REPO / path


HIVEBOX = _repo_path(os.environ.get("HIVEBOX", "build/hivebox"))
FIXTURE_BIN = _repo_path(os.environ.get("FIXTURE_BIN", "build/fixtures"))

# Started as root, uid 0 inside is a host uid of UID_BASE + [0, UID_RANGE)
# that no other live run holds, taken when the run starts and named by its
# start record (launcher/plan.h, launcher/ids.h): host_uid().
UID_BASE = 2000000000
UID_RANGE = 65536
# SIGTERM at the timeout, SIGKILL GRACE_S later (HB_GRACE_MS).
GRACE_S = 1
# The shipped policies the system-call tests run under.
POLICIES = {"default": REPO / "policies" / "default.ini",
            "strict": REPO / "policies" / "strict.ini"}
BASES = sorted(POLICIES)
# hivebox's own failures: usage, policy, setup; nothing ran.
EXIT_HIVEBOX = 125

# Small limits, so that a test that goes wrong fails fast.  Most test
# policies extend this file (written as limits.ini into each test's dir).
LIMITS = """\
[execution]
timeout_seconds = 20
cpu_seconds = 10
memory_mb = 256
file_size_mb = 8
max_processes = 8
max_open_files = 64
tmp_size_mb = 16
"""


FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_APPEND_FL = 0x20


def remove_audit_dir(path: Path):
    """hivebox makes its logs append-only (chattr +a) when it can; clear
    that so the directory can go."""
    if not path.exists():
        return
    for entry in path.rglob("*"):
        if entry.is_file() and not entry.is_symlink():
            try:
                fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                buf = bytearray(8)
                fcntl.ioctl(fd, FS_IOC_GETFLAGS, buf)
                flags = struct.unpack_from("i", buf)[0]
                if flags & FS_APPEND_FL:
                    struct.pack_into("i", buf, 0, flags & ~FS_APPEND_FL)
                    fcntl.ioctl(fd, FS_IOC_SETFLAGS, buf)
            except OSError:
                pass
            finally:
                os.close(fd)
    shutil.rmtree(path)


def host_uid(audit_dir: Path, hivebox_pid: int) -> int:
    """The host uid of the sandbox that the hivebox of this pid ran, as its
    start record in audit_dir says (the uid is taken when the run starts,
    so only the record knows it; it is there while the run is)."""
    log = Path(audit_dir) / "execution_audit.log"
    starts = [json.loads(line) for line in log.read_text().splitlines()]
    starts = [r for r in starts
              if r.get("type") == "start" and r.get("pid") == hivebox_pid]
    assert len(starts) == 1, f"{len(starts)} start records of pid " \
        f"{hivebox_pid} in {log}"
    uid = starts[0]["host_uid"]
    if os.geteuid() == 0:
        assert UID_BASE <= uid < UID_BASE + UID_RANGE, starts[0]
    return uid


# ---------------------------------------------------------------- skipping


@functools.lru_cache(maxsize=None)
def userns_available(uid: Optional[int] = None) -> bool:
    """Can this user (or uid, switched to with setpriv) create a user
    namespace?"""
    cmd = ["unshare", "--user", "--map-root-user", "true"]
    if uid is not None:
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={uid}",
               "--clear-groups"] + cmd
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def require_root():
    if os.geteuid() != 0:
        pytest.skip("needs root: hivebox maps the sandbox to a dedicated "
                    "host uid only when started as root")


def require_userns(uid: Optional[int] = None):
    if not userns_available(uid):
        who = f"uid {uid}" if uid is not None else "this user"
        pytest.skip(f"needs user namespaces: {who} cannot create one "
                    "(unshare --user fails here)")


needs_root = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="needs root: hivebox maps the sandbox to a dedicated host uid "
    "only when started as root")
needs_userns = pytest.mark.skipif(
    not userns_available(),
    reason="needs user namespaces: this user cannot create one "
    "(unshare --user fails here)")


# ---------------------------------------------------------------- processes


def proc_status(pid: int) -> Optional[dict]:
    """The fields of /proc/PID/status, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return fields


def proc_starttime(pid: int) -> Optional[str]:
    """Field 22 of /proc/PID/stat: tells a pid reused from the original."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rpartition(")")[2].split()[19]


def proc_uids(status: dict) -> list:
    return [int(u) for u in status.get("Uid", "").split()]


def processes_of_uid(uid: int) -> list:
    """Live (non-zombie) host processes with uid among their ids."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        status = proc_status(int(entry))
        if status and uid in proc_uids(status) and \
                not status.get("State", "").startswith("Z"):
            found.append((int(entry), status.get("Name"), status["Uid"]))
    return found


def processes_in_sandbox_range() -> list:
    """Live host processes with a uid in the dedicated sandbox range."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        status = proc_status(int(entry))
        if status and any(UID_BASE <= u < UID_BASE + UID_RANGE
                          for u in proc_uids(status)) and \
                not status.get("State", "").startswith("Z"):
            found.append((int(entry), status.get("Name"), status["Uid"]))
    return found


def descendants(pid: int) -> list:
    """Every descendant of pid, found through /proc/PID/task/*/children."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except FileNotFoundError:
                continue
            found += kids
            todo += kids
    return found


# ---------------------------------------------------------------- running


@dataclass
class Run:
    argv: list
    rc: int
    stdout: str
    stderr: str
    result: Optional[dict]  # the parsed --result file, None if absent
    result_path: Optional[Path]
    elapsed: float  # seconds until hivebox exited and its pipes closed
    pid: int  # hivebox's pid

    def json(self):
        """The script's standard output, parsed as JSON."""
        return json.loads(self.stdout)

    def stderr_lines(self) -> list:
        return self.stderr.splitlines()

    def __str__(self):
        return (f"argv={self.argv}\nrc={self.rc}\nstdout={self.stdout!r}\n"
                f"stderr={self.stderr!r}\nresult={self.result}")


class Hivebox:
    """Writes policies and scripts into a test's tmp_path and runs hivebox
    there (the sandbox starts in the directory hivebox was started in)."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.runs = 0
        (self.dir / "limits.ini").write_text(LIMITS)
        # Outside the start directory: the sandbox must not see it.
        self.audit_dir = directory.parent / (directory.name + "-audit")
        self.audit_dir.mkdir(mode=0o777)
        self.audit_dir.chmod(0o777)
        # Unsigned on purpose (hivebox-audit(5) KEY): without a binding,
        # root's every run would warn that the trail is not signed.
        subprocess.run([str(HIVEBOX), "audit", "init", "--dir",
                        str(self.audit_dir), "--unsigned"], check=True,
                       stdout=subprocess.DEVNULL)

    def audit_options(self, args) -> list:
        """--audit-dir for a run (not for the verbs): hivebox keeps an
        audit trail, by default under /var/log/hivebox for root; the tests
        move it into their own directories."""
        if args and args[0] in ("policy", "audit", "replay"):
            return []
        if args and args[0] == "check":
            # check takes --audit-dir after the verb, for the analyzer's run.
            return []
        return ["--audit-dir", str(self.audit_dir)]

    def policy(self, text: str = "", extends: Optional[str] = "limits.ini",
               name: str = "policy.ini") -> Path:
        """Write a policy; by default it extends the small LIMITS."""
        head = f"[policy]\nextends = {extends}\n" if extends else ""
        path = self.dir / name
        path.write_text(head + text)
        return path

    def script(self, name: str) -> str:
        """Copy a fixture script next to the policies; returns its name,
        relative to the start directory."""
        target = self.dir / name
        if not target.exists():
            shutil.copy(FIXTURES / name, target)
            target.chmod(0o644)
        return name

    def mkdir(self, name: str, mode: int = 0o755) -> Path:
        path = self.dir / name
        path.mkdir()
        path.chmod(mode)  # not subject to the umask
        return path

    def run_argv(self, args, *, input: Optional[str] = None,
                 timeout: float = 60, env: Optional[dict] = None,
                 result_path: Optional[Path] = None, cwd=None,
                 prefix=(), pass_fds=(), binary: Optional[Path] = None) -> Run:
        """Run prefix + [hivebox] + args, always with a timeout."""
        args = [str(a) for a in args]
        argv = (list(prefix) + [str(binary or HIVEBOX)] +
                self.audit_options(args) + args)
        start = time.monotonic()
        proc = subprocess.Popen(
            argv, cwd=cwd or self.dir, env=env, pass_fds=pass_fds,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate(timeout=30)
            pytest.fail(f"hivebox did not finish within {timeout} s: "
                        f"argv={argv} stdout={out!r} stderr={err!r}")
        elapsed = time.monotonic() - start
        result = None
        if result_path is not None and result_path.exists():
            result = json.loads(result_path.read_text())
        return Run(argv, proc.returncode, out, err, result, result_path,
                   elapsed, proc.pid)

    def result_file(self) -> Path:
        self.runs += 1
        path = self.dir / f"result-{self.runs}.json"
        assert not path.exists()
        return path

    def run(self, script: str, *args, policy=None, options=(),
            with_result: bool = True, **kwargs) -> Run:
        """hivebox [options] --result FILE --policy POLICY SCRIPT ARGS."""
        if policy is None:
            policy = self.policy()
        result_path = self.result_file() if with_result else None
        argv = list(options)
        if result_path is not None:
            argv += ["--result", result_path]
        argv += ["--policy", policy, self.script(script), *args]
        return self.run_argv(argv, result_path=result_path, **kwargs)


REFUSAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                          r"[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def json_lines(path: Path) -> list:
    """The records of an audit log, [] if it does not exist (the chain
    itself is checked in test_audit.py)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def option_value(argv: list, option: str) -> Optional[str]:
    """The value of the last `option VALUE` in argv, before the script."""
    values = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == option]
    return values[-1] if values else None


def refusal_records(audit_dir: Path, message: str) -> tuple:
    """The last refusal event whose message is message, and the end record
    of its run, from the trail in audit_dir."""
    evs = [e for e in json_lines(audit_dir / "security_events.log")
           if e["kind"] == "refusal" and e["message"] == message]
    assert evs, f"no refusal event {message!r} in {audit_dir}"
    ev = evs[-1]
    recs = [r for r in json_lines(audit_dir / "execution_audit.log")
            if r["exec_id"] == ev["exec_id"]]
    return ev, recs


def assert_refused(run: Run, pattern: str, *, recorded: bool = True,
                   result_written: bool = True, parsed: bool = True):
    """Exit 125, nothing on stdout, exactly one line on stderr that starts
    with "hivebox: " and matches pattern.  A refused run (hivebox(1)
    EXIT STATUS) leaves the traces of a run: the --result file says
    "refused" with the same message, and the audit trail holds a
    "refusal" event with that message and an end record (no start) of
    the same run.  recorded=False: the trail itself could not be had;
    result_written=False: the refusal is about the --result path.  A verb
    (policy, audit), --dry-run and a usage error (parsed=False) leave the
    line only."""
    assert run.rc == EXIT_HIVEBOX, run
    assert run.stdout == "", run
    lines = run.stderr_lines()
    assert len(lines) == 1, run
    assert lines[0].startswith("hivebox: "), run
    assert re.search(pattern, lines[0]), f"{pattern!r} not in {lines[0]!r}"
    message = lines[0][len("hivebox: "):]
    audit_dir = option_value(run.argv, "--audit-dir")
    is_run = parsed and audit_dir is not None and \
        "--dry-run" not in run.argv
    if run.result_path is not None:
        if not (is_run and result_written):
            assert run.result is None, run
        else:
            res = run.result
            assert res is not None, f"no result file\n{run}"
            assert res["reason"] == "refused", run
            assert res["refusal"] == {"message": message}, run
            assert res["hivebox_exit_code"] == EXIT_HIVEBOX, run
            assert REFUSAL_UUID.match(res["exec_id"]), run
            assert res["exit_code"] is None and res["wall_ms"] == 0, run
            if recorded:
                assert res["audit"]["dir"] is not None, run
                assert res["audit"]["write_errors"] == 0, run
            else:
                assert res["audit"]["write_errors"] >= 1, run
    if not is_run or not recorded:
        return
    ev, recs = refusal_records(Path(audit_dir), message)
    assert ev["severity"] == "violation", ev
    assert REFUSAL_UUID.match(ev["exec_id"]), ev
    if run.result is not None:
        assert ev["exec_id"] == run.result["exec_id"], (ev, run)
    assert ev["details"]["result_written"] == (
        run.result_path is not None and result_written), ev
    assert [r["type"] for r in recs] == ["end"], recs
    assert recs[0]["result"]["reason"] == "refused", recs
    assert recs[0]["result"]["refusal"] == {"message": message}, recs
    assert recs[0]["violations"] == 1, recs


def assert_result(run: Run, reason: str, **expected):
    """The --result JSON says reason, agrees with the exit status, and
    holds every field the design names."""
    res = run.result
    assert res is not None, f"no result file\n{run}"
    for key in ("reason", "exit_code", "signal", "signal_name",
                "hivebox_exit_code", "wall_ms", "cpu_user_ms",
                "cpu_system_ms", "peak_rss_kb", "setup_error", "limits",
                "cgroup", "policy", "script"):
        assert key in res, f"{key} missing from {res}"
    assert res["reason"] == reason, run
    assert res["hivebox_exit_code"] == run.rc, run
    for key, value in expected.items():
        assert res[key] == value, f"{key}: {res[key]!r} != {value!r}\n{run}"
    return res


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session", autouse=True)
def hivebox_binary():
    if not os.access(HIVEBOX, os.X_OK):
        pytest.exit(f"no hivebox binary at {HIVEBOX}: run `make` first "
                    "(or set HIVEBOX)", returncode=2)
    return HIVEBOX


# Where root's runs without --config cache their compiled filters
# (HB_CONFIG_FILTER_CACHE_DEFAULT, launcher/config.h).
MACHINE_FILTER_CACHE = Path("/var/cache/hivebox")


@pytest.fixture(scope="session", autouse=True)
def machine_filter_cache():
    """Most tests run hivebox as root without --config, and so fill the
    machine's filter cache: remove what the session added (a cache, safe
    to empty at any time)."""
    existed = MACHINE_FILTER_CACHE.exists()
    before = set(MACHINE_FILTER_CACHE.rglob("*")) if existed else set()
    yield
    if not existed:
        shutil.rmtree(MACHINE_FILTER_CACHE, ignore_errors=True)
        return
    for path in set(MACHINE_FILTER_CACHE.rglob("*")) - before:
        if path.is_file() or path.is_symlink():
            path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def traversable_tmp(tmp_path_factory):
    """The sandbox's host uid must be able to reach the scripts and paths
    it is given, but pytest makes its temporary directories 0700.  Let
    others traverse (not list) them for the session; restore the modes at
    the end."""
    base = tmp_path_factory.getbasetemp()
    saved = []
    for path in (base.parent, base):
        mode = path.stat().st_mode & 0o7777
        saved.append((path, mode))
        path.chmod(mode | 0o011)
    yield
    for path, mode in reversed(saved):
        if path.exists():
            path.chmod(mode)


@pytest.fixture
def hb(tmp_path, traversable_tmp):
    tmp_path.chmod(0o755)
    hivebox = Hivebox(tmp_path)
    yield hivebox
    remove_audit_dir(hivebox.audit_dir)

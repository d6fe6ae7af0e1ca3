"""No privilege can be planted, and no other process's limits changed
(issue 9; launcher/seccomp_guard.c, the rules in seccomp_filter.c, the
verdicts in seccomp_notify.c).

A script acting as a path's owner (on an idmapped mount, often root) could
otherwise leave a setuid-root binary, a device node or a file capability
on the host for someone to use later.  Every route is tried by
tests/fixtures/plant.py in a read_write directory, under the deny-list
(policies/default.ini) and the allow-list (policies/strict.ini), and the
test checks three things: the errno the script got, the directory as the
host sees it afterwards (no setuid or setgid bit, no device node, no
security.capability), and the "plant_denied" event in the trail.  The
ordinary calls next to them (chmod 0755, mkfifo, open with 0644, setxattr
of a user attribute, setrlimit, prlimit of oneself) keep working as they
do bare.  x86_64 numbers."""
import errno
import json
import os
import platform
import signal
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import BASES, POLICIES, REPO, Hivebox, assert_result, needs_userns
from test_audit import default_key, events

pytestmark = [
    needs_userns,
    pytest.mark.skipif(platform.machine() != "x86_64",
                       reason="the fixture uses x86_64 system-call numbers"),
]

EPERM = os.strerror(errno.EPERM)
SIGSYS_EXIT = 128 + signal.SIGSYS
FIXTURE = REPO / "tests" / "fixtures" / "plant.py"
D = "@DIR@/"  # the read_write directory, as an absolute path
NONE = object()  # "the event has no such detail"

# Every operation blocked that performs one of the routes, and another
# errno: a plant is still refused by hivebox, EPERM, and recorded as one.
BLOCKED = ("[filesystem]\nblocked_operations = chmod, truncate, mknod, "
           "rename, xattr\n[syscalls]\nerrno = EACCES\n")


def policy(hb: Hivebox, base: str, text: str = "") -> Path:
    """policies/BASE.ini with ./out read-write, and text."""
    body = ("[execution]\ntimeout_seconds = 30\n"
            "[filesystem]\nread_write = ./out\n")
    if text.startswith("[filesystem]\n"):
        text = text[len("[filesystem]\n"):]
    return hb.policy(body + text, extends=str(POLICIES[base]),
                     name=f"{base}.ini")


def run_plant(hb: Hivebox, base: str, op: str, mode: int, text: str = ""):
    """plant.py OUT OP MODE under the policy; the run and the directory."""
    out = hb.mkdir("out", 0o777)
    run = hb.run(hb.script("plant.py"), str(out), op, f"{mode:o}",
                 policy=policy(hb, base, text))
    return run, out


def tried(run) -> dict:
    assert run.rc == 0, run
    assert_result(run, "exit", exit_code=0)
    return run.json()


def security_events(hb: Hivebox, run) -> list:
    assert run.result is not None, f"no result\n{run}"
    return events(hb.audit_dir, run.result["exec_id"], default_key())


def of_kind(hb: Hivebox, run, kind: str) -> list:
    return [e for e in security_events(hb, run) if e["kind"] == kind]


def expand(value, directory: Path):
    if isinstance(value, str) and value.startswith(D):
        return str(directory / value[len(D):]).rstrip("/")
    return value


def assert_no_privilege(directory: Path):
    """What the host sees: nothing setuid or setgid, no device node, no
    file capability, anywhere in the directory."""
    for entry in directory.rglob("*"):
        st = entry.lstat()
        assert not st.st_mode & (stat.S_ISUID | stat.S_ISGID), \
            f"{entry}: mode {st.st_mode:o}"
        assert not stat.S_ISCHR(st.st_mode), f"{entry}: a character device"
        assert not stat.S_ISBLK(st.st_mode), f"{entry}: a block device"
        if not entry.is_symlink():
            assert "security.capability" not in os.listxattr(entry), entry


def host_state(directory: Path) -> dict:
    """{name: (file type, permission bits)} as the host sees it."""
    return {e.name: (stat.S_IFMT(e.lstat().st_mode),
                     stat.S_IMODE(e.lstat().st_mode))
            for e in directory.iterdir()}


REGULAR_0644 = (stat.S_IFREG, 0o644)


def assert_plant(event: dict, syscall: str, reason: str, directory: Path, *,
                 mode=NONE, path=NONE, path2=NONE, fd_path=NONE, name=NONE,
                 answer: str = EPERM):
    """One "plant_denied" event: the call, what it would have made, the
    mode in octal, the paths it names."""
    assert event["kind"] == "plant_denied", event
    assert event["severity"] == "violation", event
    d = event["details"]
    assert d["syscall"] == syscall, event
    assert event["message"].startswith(
        f"denied {syscall}, which would make {reason} (pid "), event
    assert d["reason"] == reason, event
    assert d["answer"] == answer, event
    assert len(d["args"]) == 6, event
    assert isinstance(d["host_pid"], int) and d["host_pid"] > 0, event
    assert "stale" not in d, event
    for key, want in (("mode", mode), ("path", path), ("path2", path2),
                      ("fd_path", fd_path), ("name", name)):
        if want is NONE:
            assert key not in d, f"{key} in {event}"
        else:
            assert d.get(key) == expand(want, directory), \
                f"{key}: {d.get(key)!r} != {expand(want, directory)!r}" \
                f"\n{event}"


# ------------------------------------------------- routes of a mode

# op -> (system call, its path detail(s), what the host sees afterwards:
# "made" routes change the mode of the file the script made first).
MODE_ROUTES = {
    "chmod": ("chmod", {"path": D + "target"}, {"target": REGULAR_0644}),
    "fchmod": ("fchmod", {"fd_path": D + "target"},
               {"target": REGULAR_0644}),
    "fchmodat": ("fchmodat", {"path": "target"}, {"target": REGULAR_0644}),
    "fchmodat2": ("fchmodat2", {"path": "target"},
                  {"target": REGULAR_0644}),
    "open_creat": ("openat", {"path": D + "target"}, {}),
    "open_raw": ("open", {"path": D + "target"}, {}),
    "creat": ("creat", {"path": D + "target"}, {}),
    "tmpfile": ("openat", {"path": D}, {}),
    "openat2": ("openat2", {"path": D + "target"}, {}),
    "mknod": ("mknodat", {"path": D + "target"}, {}),
}
BITS = {0o4755: "a setuid file", 0o2755: "a setgid file",
        0o6711: "a setuid and setgid file"}


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("mode", [0o4755, 0o2755])
@pytest.mark.parametrize("op", sorted(MODE_ROUTES))
def test_mode_route_is_refused_and_logged(hb, base, op, mode):
    """EPERM inside; on the host the file keeps its mode 0644 (or was
    never made); one plant_denied event with the call, the mode as it was
    passed (the umask, 022, would clear neither bit) and the path."""
    syscall, paths, after = MODE_ROUTES[op]

    run, out = run_plant(hb, base, op, mode)

    assert tried(run) == {"op": op, "errno": "EPERM"}, run
    assert host_state(out) == after
    assert_no_privilege(out)
    evs = security_events(hb, run)
    assert len(evs) == 1, evs
    assert_plant(evs[0], syscall, BITS[mode], out, mode=f"0{mode:o}",
                 **paths)
    assert f"hivebox: plant_denied: denied {syscall}, which would make " \
        f"{BITS[mode]} (pid " in run.stderr, run
    assert run.result["denied_syscall_counts"] == {syscall: 1}, run
    assert run.result["violations"] == 1, run


# op, mode -> (system call, what it would make, path)
NODE_ROUTES = {
    ("mknod", stat.S_IFCHR | 0o644): ("mknodat", "a character device"),
    ("mknod", stat.S_IFBLK | 0o600): ("mknodat", "a block device"),
    ("mknod_raw", stat.S_IFCHR | 0o644): ("mknod", "a character device"),
    ("mknod_raw", stat.S_IFREG | 0o6711): ("mknod",
                                           "a setuid and setgid file"),
    ("mknod", stat.S_IFIFO | 0o4644): ("mknodat", "a setuid file"),
}


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("op,mode", sorted(NODE_ROUTES),
                         ids=[f"{op}-{mode:o}" for op, mode in
                              sorted(NODE_ROUTES)])
def test_device_nodes_are_refused_and_logged(hb, base, op, mode):
    """mknod of a device of either kind, or of anything setuid or
    setgid: EPERM, nothing made, the event says what it would have been
    (the mode with its type, in octal)."""
    syscall, reason = NODE_ROUTES[(op, mode)]

    run, out = run_plant(hb, base, op, mode)

    assert tried(run) == {"op": op, "errno": "EPERM"}, run
    assert host_state(out) == {}
    evs = security_events(hb, run)
    assert len(evs) == 1, evs
    assert_plant(evs[0], syscall, reason, out, mode=f"0{mode:o}",
                 path=D + "target")


@pytest.mark.parametrize("base", BASES)
def test_a_whiteout_is_refused_and_logged(hb, base):
    """renameat2(RENAME_WHITEOUT) leaves a 0:0 character device where
    the file was, and needs no privilege: refused, the file stays."""
    run, out = run_plant(hb, base, "whiteout", 0o644)

    assert tried(run) == {"op": "whiteout", "errno": "EPERM"}, run
    assert host_state(out) == {"target": REGULAR_0644}
    evs = security_events(hb, run)
    assert len(evs) == 1, evs
    assert_plant(evs[0], "renameat2", "a whiteout (a character device)",
                 out, path="target", path2="moved")


XATTR_ROUTES = {"setxattr": {"path": D + "target"},
                "lsetxattr": {"path": D + "target"},
                "fsetxattr": {"fd_path": D + "target"},
                # Newer than this libseccomp: named by hivebox's table.
                "setxattrat": {"path": "target"}}


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("op", sorted(XATTR_ROUTES))
def test_a_file_capability_is_refused_and_logged(hb, base, op):
    """security.capability (cap_setuid+ep): the kernel refuses it anyway
    without CAP_SETFCAP; the supervisor reads the name first, refuses
    and records the attempt."""
    run, out = run_plant(hb, base, op, 0o644)

    assert tried(run) == {"op": op, "errno": "EPERM"}, run
    assert host_state(out) == {"target": REGULAR_0644}
    assert_no_privilege(out)
    evs = security_events(hb, run)
    assert len(evs) == 1, evs
    assert_plant(evs[0], op, "a file capability", out,
                 name="security.capability", **XATTR_ROUTES[op])
    assert run.result["denied_syscall_counts"] == {op: 1}, run


# ------------------------------------ whatever else the policy says

# A sample of routes, one of each kind of rule.
SAMPLE = [("chmod", 0o4755, "chmod", "a setuid file"),
          ("fchmodat2", 0o2755, "fchmodat2", "a setgid file"),
          ("creat", 0o4755, "creat", "a setuid file"),
          ("openat2", 0o4755, "openat2", "a setuid file"),
          ("mknod", stat.S_IFCHR | 0o644, "mknodat", "a character device"),
          ("whiteout", 0o644, "renameat2",
           "a whiteout (a character device)"),
          ("setxattr", 0o644, "setxattr", "a file capability")]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("op,mode,syscall,reason", SAMPLE,
                         ids=[s[0] for s in SAMPLE])
def test_a_plant_is_a_plant_where_the_policy_denies_the_call(
        hb, base, op, mode, syscall, reason):
    """With the operations blocked (so the calls are denied as a whole)
    and errno = EACCES: still EPERM and plant_denied, not the policy's
    syscall_denied."""
    run, out = run_plant(hb, base, op, mode, BLOCKED)

    assert tried(run) == {"op": op, "errno": "EPERM"}, run
    assert_no_privilege(out)
    evs = security_events(hb, run)
    assert [e["kind"] for e in evs] == ["plant_denied"], evs
    assert evs[0]["details"]["syscall"] == syscall, evs
    assert evs[0]["details"]["reason"] == reason, evs


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("op,mode,syscall,reason", SAMPLE,
                         ids=[s[0] for s in SAMPLE])
def test_on_violation_kill_kills_a_plant(hb, base, op, mode, syscall,
                                          reason):
    """on_violation = kill: the plant kills the script (SIGSYS), the file
    is as it was, and the event's answer is the signal."""
    run, out = run_plant(hb, base, op, mode,
                         "[syscalls]\non_violation = kill\n")

    assert run.rc == SIGSYS_EXIT, run
    assert run.stdout == "", run
    assert_result(run, "signal", signal=signal.SIGSYS, exit_code=None)
    assert_no_privilege(out)
    evs = security_events(hb, run)
    assert [e["kind"] for e in evs] == ["plant_denied"], evs
    assert evs[0]["details"]["syscall"] == syscall, evs
    assert evs[0]["details"]["reason"] == reason, evs
    assert evs[0]["details"]["answer"] == "SIGSYS", evs


# ------------------------------------------------- what keeps working

# op, mode -> what the host sees afterwards (and what the script got
# besides errno, checked where it says something).
ORDINARY = {
    ("chmod", 0o755): {"target": (stat.S_IFREG, 0o755)},
    ("fchmodat", 0o1755): {"target": (stat.S_IFREG, 0o1755)},
    ("fchmodat2", 0o700): {"target": (stat.S_IFREG, 0o700)},
    ("open_creat", 0o644): {"target": REGULAR_0644},
    ("open_raw", 0o640): {"target": (stat.S_IFREG, 0o640)},
    ("creat", 0o600): {"target": (stat.S_IFREG, 0o600)},
    ("tmpfile", 0o644): {"target": REGULAR_0644},
    ("mkfifo", 0o644): {"target": (stat.S_IFIFO, 0o644)},
    ("mknod", stat.S_IFREG | 0o755): {"target": (stat.S_IFREG, 0o755)},
    ("mknod", stat.S_IFSOCK | 0o755): {"target": (stat.S_IFSOCK, 0o755)},
    ("setxattr_user", 0o644): {"target": REGULAR_0644},
    ("openat2_plain", 0o644): {"target": REGULAR_0644},
    ("setrlimit", 0o644): {},
    ("prlimit_self", 0o644): {},
    ("prlimit_init_read", 0o644): {},
}


def bare(op: str, mode: int) -> tuple:
    """What plant.py gets without hivebox, in a directory of its own
    (only for the ordinary calls: nothing here plants anything)."""
    with tempfile.TemporaryDirectory(prefix="hivebox-plant-") as tmp:
        out = Path(tmp)
        proc = subprocess.run(
            ["/usr/bin/python3", str(FIXTURE), str(out), op, f"{mode:o}"],
            capture_output=True, text=True, timeout=60, check=True)
        return json.loads(proc.stdout), host_state(out)


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("op,mode", sorted(ORDINARY),
                         ids=[f"{op}-{mode:o}" for op, mode in
                              sorted(ORDINARY)])
def test_ordinary_calls_work_as_bare(hb, base, op, mode):
    """The same result as bare, the same file on the host, and no event:
    a mode without the bits, a FIFO, a socket, a user attribute, one's
    own limits.  openat2 answers ENOSYS first (the fixture then falls
    back to openat, as libraries do)."""
    got_bare, host_bare = bare(op, mode)
    if op == "tmpfile" and got_bare["errno"]:
        pytest.skip(f"no O_TMPFILE here: {got_bare}")

    run, out = run_plant(hb, base, op, mode)

    got = tried(run)
    assert got["errno"] is None, run
    assert got["errno"] == got_bare["errno"], (got, got_bare)
    assert host_state(out) == ORDINARY[(op, mode)] == host_bare
    if op == "setxattr_user":
        assert got["xattrs"] == ["user.hivebox"], got
    if op == "openat2_plain":
        assert got["first"] == "ENOSYS", got
        assert got_bare["first"] is None, got_bare
    if op in ("setrlimit", "prlimit_self"):
        assert got["soft"] < got["was"], got
    assert security_events(hb, run) == []
    assert run.result["denied_syscall_counts"] == {}, run
    assert run.result["violations"] == 0, run


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("op", ["setxattr_user", "openat2_plain",
                                "prlimit_self", "prlimit_init_read"])
def test_looked_at_calls_do_not_kill(hb, base, op):
    """on_violation = kill: the calls the supervisor only looks at (a
    user attribute, openat2, one's own limits, reading another's) are no
    violation and kill nothing."""
    run, out = run_plant(hb, base, op, 0o644,
                         "[syscalls]\non_violation = kill\n")

    assert tried(run)["errno"] is None, run
    assert security_events(hb, run) == []


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("blocked", ["", "truncate"])
def test_openat2_answers_enosys_whatever_the_policy(hb, base, blocked):
    """openat2's flags are in memory, like clone3's: it never runs.  With
    O_TRUNC, and truncate blocked or not: ENOSYS, the file untouched, no
    event (a caller falls back to openat, which the filter sees)."""
    text = f"[filesystem]\nblocked_operations = {blocked}\n" if blocked \
        else ""
    run, out = run_plant(hb, base, "openat2_trunc", 0o644, text)

    assert tried(run) == {"op": "openat2_trunc", "errno": "ENOSYS"}, run
    assert (out / "target").read_text() == "keep\n"
    assert security_events(hb, run) == []
    assert run.result["denied_syscall_counts"] == {}, run


# ------------------------------------------------- no foreign prlimit


@pytest.mark.parametrize("base", BASES)
def test_prlimit_of_another_process_is_refused(hb, base):
    """resource.prlimit(1, RLIMIT_NOFILE, ...) on the sandbox's PID 1:
    PermissionError, PID 1's limit as it was, and a syscall_denied event
    that names the pid and why."""
    run, out = run_plant(hb, base, "prlimit_init", 0o644)

    got = tried(run)
    assert got["errno"] == "EPERM", got
    assert got["after"] == got["before"], got
    evs = security_events(hb, run)
    assert len(evs) == 1, evs
    ev = evs[0]
    assert ev["kind"] == "syscall_denied", ev
    assert ev["severity"] == "violation", ev
    d = ev["details"]
    assert d["syscall"] == "prlimit64", ev
    assert d["nr"] == 302, ev
    assert d["pid"] == 1, ev
    assert d["reason"] == "another process's limits", ev
    assert d["answer"] == EPERM, ev
    assert ev["message"].startswith(
        "denied prlimit64 of pid 1, another process's limits (pid "), ev
    assert run.result["denied_syscall_counts"] == {"prlimit64": 1}, run


@pytest.mark.parametrize("base", BASES)
def test_prlimit_of_another_process_kills_under_kill(hb, base):
    run, out = run_plant(hb, base, "prlimit_init", 0o644,
                         "[syscalls]\non_violation = kill\n")

    assert run.rc == SIGSYS_EXIT, run
    evs = security_events(hb, run)
    assert [(e["kind"], e["details"]["answer"]) for e in evs] == \
        [("syscall_denied", "SIGSYS")], evs


def test_policy_groups_says_so(hb):
    """`hivebox policy groups` lists what is refused by its arguments,
    whatever the policy says."""
    run = hb.run_argv(["policy", "groups"])
    assert run.rc == 0, run
    text = " ".join(run.stdout.split())
    for words in ("setuid or setgid", "device node", "security.capability",
                  "RENAME_WHITEOUT", "prlimit64 of another process",
                  "openat2 answers ENOSYS"):
        assert words in text, words

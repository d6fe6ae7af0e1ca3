"""The system-call policy (DESIGN.md "System calls"; launcher/seccomp_filter.c,
seccomp_groups.c, seccomp_notify.c): the groups no policy may allow, filters
of the script's own, clone and clone3, personality, TIOCSTI, other ABIs,
blocked_operations, denied calls from threads and children, on_violation
and errno, a flood of denied calls, the standard library under strict.ini,
and the exported filter.

Every test runs the real hivebox on a real script and checks both what
the script got (errno, signal, the files on the host) and what was
recorded: the "syscall_denied" or "syscall_killed" event in
security_events.log and denied_syscall_counts in the result.

The policies extend the shipped policies/strict.ini (an allow-list,
default = deny) or policies/default.ini (default = allow) by absolute
path, so both ways of building the filter are exercised.  The numbers in
the fixtures are x86_64's."""
import errno
import fcntl
import json
import os
import platform
import pty
import select
import shutil
import signal
import stat
import subprocess
import termios
import time
import tty
from pathlib import Path
from typing import Optional

import pytest

from conftest import (BASES, FIXTURES, HIVEBOX, POLICIES, Hivebox, Run,
                      assert_refused, assert_result, descendants,
                      needs_userns)
from test_audit import default_key, events, exec_records

pytestmark = [
    needs_userns,
    pytest.mark.skipif(platform.machine() != "x86_64",
                       reason="the fixtures use x86_64 system-call numbers"),
]

EPERM = os.strerror(errno.EPERM)  # the "answer" of an event
SIGSYS_EXIT = 128 + signal.SIGSYS
MISSING = object()  # "this detail is not checked"


# ---------------------------------------------------------------- helpers


def policy(hb: Hivebox, base: str, text: str = "", execution: str = "",
           name: Optional[str] = None) -> Path:
    """A policy extending policies/BASE.ini by absolute path, with a
    shorter timeout than the shipped ones and text appended."""
    body = "[execution]\ntimeout_seconds = 30\n" + execution + text
    return hb.policy(body, extends=str(POLICIES[base]),
                     name=name or f"{base}.ini")


def fixture(hb: Hivebox, relpath: str) -> str:
    """Copy tests/fixtures/RELPATH next to the policies; its name."""
    source = FIXTURES / relpath
    target = hb.dir / source.name
    if not target.exists():
        shutil.copy(source, target)
        target.chmod(0o644)
    return source.name


def security_events(hb: Hivebox, run) -> list:
    """This run's records in security_events.log (the chain checked)."""
    assert run.result is not None, f"no result\n{run}"
    return events(hb.audit_dir, run.result["exec_id"], default_key())


def denials(hb: Hivebox, run) -> list:
    return [e for e in security_events(hb, run)
            if e["kind"] == "syscall_denied"]


def end_record(hb: Hivebox, run) -> dict:
    ends = [r for r in exec_records(hb.audit_dir, default_key())
            if r["type"] == "end" and r["exec_id"] == run.result["exec_id"]]
    assert len(ends) == 1, ends
    return ends[0]


def assert_denied(event: dict, syscall: str, *, nr=MISSING,
                  answer: str = EPERM, path=MISSING, path2=MISSING,
                  host_pid=MISSING):
    """One "syscall_denied" event, in the shape seccomp_notify.c writes."""
    assert event["kind"] == "syscall_denied", event
    assert event["severity"] == "violation", event
    d = event["details"]
    assert d["syscall"] == syscall, event
    assert syscall in event["message"], event
    assert isinstance(d["nr"], int), event
    if nr is not MISSING:
        assert d["nr"] == nr, event
    assert isinstance(d["host_pid"], int) and d["host_pid"] > 0, event
    if host_pid is not MISSING:
        assert d["host_pid"] == host_pid, event
    assert len(d["args"]) == 6, event
    assert all(a.startswith("0x") for a in d["args"]), event
    assert d["answer"] == answer, event
    if path is not MISSING:
        assert d.get("path") == path, f"path: {d.get('path')!r} != " \
            f"{path!r}\n{event}"
    if path2 is not MISSING:
        assert d.get("path2") == path2, f"path2: {d.get('path2')!r} != " \
            f"{path2!r}\n{event}"
    assert "stale" not in d, event


def run_try(hb: Hivebox, pol: Path, *ops, **kwargs) -> Run:
    """Run syscall_try.py OPS under the policy."""
    return hb.run(fixture(hb, "syscall_try.py"), *ops, policy=pol, **kwargs)


def tried(run) -> dict:
    """The script exited 0; what it printed, parsed."""
    assert run.rc == 0, run
    assert_result(run, "exit", exit_code=0)
    return run.json()


def spawn(hb: Hivebox, pol: Path, script: str, *args, stdin,
          result_path: Path) -> subprocess.Popen:
    """Start hivebox with a standard input of the test's choosing."""
    argv = ["--result", str(result_path), "--policy", str(pol), script,
            *args]
    return subprocess.Popen(
        [str(HIVEBOX)] + hb.audit_options(argv) + argv, cwd=hb.dir,
        stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finished(proc, out: bytes, err: bytes, result_path: Path,
             started: float) -> Run:
    """The Run that run_argv would have returned, for a spawned hivebox."""
    result = (json.loads(result_path.read_text())
              if result_path.exists() else None)
    return Run(proc.args, proc.returncode, out.decode(errors="replace"),
               err.decode(errors="replace"), result, result_path,
               time.monotonic() - started, proc.pid)


# ------------------------------------------ 1. groups denied whatever the policy

# (group, fixture call, system call, number, path, path2): one call of each
# group in seccomp_groups.c's hb_always_denied, with harmless arguments
# (syscall_try.py says which).  None for a path the call does not have.
ALWAYS_DENIED = [
    ("@mount", "mount", "mount", 165, "none", "/tmp"),
    ("@mount", "chroot", "chroot", 161, "/", MISSING),
    ("@module", "init_module", "init_module", 175, None, None),
    ("@reboot", "reboot", "reboot", 169, None, None),
    ("@swap", "swapon", "swapon", 167, "/nonexistent", MISSING),
    ("@keyring", "keyctl", "keyctl", 250, None, None),
    ("@bpf", "bpf", "bpf", 321, None, None),
    ("@io_uring", "io_uring_setup", "io_uring_setup", 425, None, None),
    ("@raw-io", "iopl", "iopl", 172, None, None),
    ("@debug", "ptrace", "ptrace", 101, None, None),
    ("@debug", "process_vm_readv", "process_vm_readv", 310, None, None),
    ("@debug", "perf_event_open", "perf_event_open", 298, None, None),
    ("@namespaces", "unshare", "unshare", 272, None, None),
    ("@namespaces", "setns", "setns", 308, None, None),
    ("@clock", "clock_settime", "clock_settime", 227, None, None),
    ("@cpu-emulation", "modify_ldt", "modify_ldt", 154, None, None),
    ("@obsolete", "ustat", "ustat", 136, None, None),
    ("@privileged", "acct", "acct", 163, None, None),
    ("@privileged", "userfaultfd", "userfaultfd", 323, None, None),
    ("@seccomp", "seccomp_set_filter", "seccomp", 317, None, None),
]


def test_every_always_denied_group_has_a_call_here(hb):
    """The table above covers every group that --dry-run says is denied
    whatever the policy says."""
    run = hb.run_argv(["--dry-run", "--policy", policy(hb, "default"),
                       fixture(hb, "syscall_try.py")])
    assert run.rc == 0, run
    line = [ln for ln in run.stdout.splitlines()
            if ln.strip().startswith("always denied:")]
    assert len(line) == 1, run
    groups = set(line[0].split(":", 1)[1].split())
    assert groups == {g for g, *_ in ALWAYS_DENIED}, groups


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("group,op,syscall,nr,path,path2", ALWAYS_DENIED,
                         ids=[f"{g}-{op}" for g, op, *_ in ALWAYS_DENIED])
def test_always_denied_group(hb, base, group, op, syscall, nr, path, path2):
    """EPERM and exactly one event naming the call (and its path), under
    an allow-list and under a deny-list alike."""
    run = run_try(hb, policy(hb, base), op)

    got = tried(run)[op]
    assert got["errno"] == "EPERM", got
    assert f"hivebox: syscall_denied: denied {syscall} (pid " in run.stderr
    if op == "ptrace":
        # PTRACE_TRACEME must not have happened.
        assert got["tracer"] == 0, got
    evs = denials(hb, run)
    assert len(evs) == 1, evs
    assert_denied(evs[0], syscall, nr=nr, path=path, path2=path2)
    assert run.result["denied_syscall_counts"] == {syscall: 1}, run
    assert run.result["denied_syscalls"] == 1, run
    assert run.result["violations"] == 1, run


# -------------------------------------------- filters of the script's own

PR_GET_SECCOMP = 21
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


@pytest.mark.parametrize("base", BASES)
def test_a_script_cannot_install_a_filter_of_its_own(hb, base):
    """A filter of the script's own, stacked on hivebox's, would answer
    before the supervisor hears of a call (its ERRNO outranks
    USER_NOTIF), hiding denied calls from the log and the counts.
    prctl(PR_SET_SECCOMP) (also with a bit set above the 32 the kernel
    reads) and seccomp() (even SECCOMP_GET_ACTION_AVAIL, which only asks)
    are denied and logged; prctl(PR_GET_SECCOMP) still works and finds
    hivebox's filter only; and a chroot the script's filter would have
    answered with EXDEV reaches the supervisor, is logged and counted."""
    run = run_try(hb, policy(hb, base), "prctl_set_seccomp",
                  "prctl_set_seccomp_high", "seccomp_set_filter",
                  "seccomp_action_avail", "prctl_get_seccomp", "chroot")

    got = tried(run)
    for op in ("prctl_set_seccomp", "prctl_set_seccomp_high",
               "seccomp_set_filter", "seccomp_action_avail"):
        assert got[op]["errno"] == "EPERM", got
    assert got["prctl_get_seccomp"] == {"ret": SECCOMP_MODE_FILTER,
                                        "errno": None}, got
    assert got["chroot"]["errno"] == "EPERM", got  # not EXDEV
    evs = denials(hb, run)
    assert [e["details"]["syscall"] for e in evs] == [
        "prctl", "prctl", "seccomp", "seccomp", "chroot"], evs
    for ev, option in zip(evs, (PR_SET_SECCOMP, (1 << 32) | PR_SET_SECCOMP)):
        assert_denied(ev, "prctl", nr=157)
        assert int(ev["details"]["args"][0], 16) == option, ev
        assert int(ev["details"]["args"][1], 16) == SECCOMP_MODE_FILTER, ev
    for ev, operation in zip(evs[2:4], (1, 2)):  # SET_MODE_FILTER, ACTION
        assert_denied(ev, "seccomp", nr=317)
        assert int(ev["details"]["args"][0], 16) == operation, ev
    assert_denied(evs[4], "chroot", path="/")
    assert run.result["denied_syscall_counts"] == {
        "prctl": 2, "seccomp": 2, "chroot": 1}, run
    assert run.result["denied_syscalls"] == 5, run
    assert run.result["violations"] == 5, run


def test_an_allow_list_cannot_allow_a_filter_of_the_scripts_own(hb):
    """allow = seccomp is refused like any always-denied call; allow =
    prctl (already in @python) gets the argument check all the same."""
    refused = run_try(hb, policy(hb, "strict", "[syscalls]\n"
                                 "allow = @python, seccomp\n",
                                 name="bad.ini"), "chroot")
    assert_refused(refused, r"^hivebox: .*bad\.ini:\d+: allow = seccomp: "
                   r"it is denied whatever the policy says$")

    pol = policy(hb, "strict", "[syscalls]\nallow = @python, prctl\n")
    run = run_try(hb, pol, "prctl_set_seccomp", "prctl_get_seccomp")

    got = tried(run)
    assert got["prctl_set_seccomp"]["errno"] == "EPERM", got
    assert got["prctl_get_seccomp"]["ret"] == SECCOMP_MODE_FILTER, got
    evs = denials(hb, run)
    assert len(evs) == 1, evs
    assert_denied(evs[0], "prctl", nr=157)
    assert int(evs[0]["details"]["args"][0], 16) == PR_SET_SECCOMP, evs[0]
    assert run.result["denied_syscall_counts"] == {"prctl": 1}, run


# ---------------------------------------------------------- 2. clone, clone3

CLONE_NEWUSER = 0x10000000
SIGCHLD = 17


@pytest.mark.parametrize("base", BASES)
def test_clone_with_a_namespace_flag_clone3_and_fork(hb, base):
    """clone(CLONE_NEWUSER) is denied and logged; clone3 answers ENOSYS
    without an event, by design (its flags are in memory the filter cannot
    read, and libc falls back to clone); a plain fork works."""
    run = run_try(hb, policy(hb, base, execution="max_processes = 32\n"),
                  "clone_newuser", "clone3", "fork")

    got = tried(run)
    assert got["clone_newuser"]["errno"] == "EPERM", got
    assert got["clone3"]["errno"] == "ENOSYS", got
    assert got["fork"] == {"ret": 0, "errno": None, "child_exit": 7}, got
    evs = denials(hb, run)
    assert len(evs) == 1, evs
    assert_denied(evs[0], "clone", nr=56)
    flags = int(evs[0]["details"]["args"][0], 16)
    assert flags == CLONE_NEWUSER | SIGCHLD, evs[0]
    assert run.result["denied_syscall_counts"] == {"clone": 1}, run
    assert run.result["denied_syscalls"] == 1, run


CLONE_VM = 0x100
CLONE_SIGHAND = 0x800


@pytest.mark.parametrize("base", BASES)
def test_clone_sharing_signal_handlers_outside_a_thread(hb, base):
    """clone(CLONE_VM | CLONE_SIGHAND) without CLONE_THREAD makes a
    process that shares the caller's signal handlers, and so could make
    the SIGSYS of on_violation = kill survivable after the supervisor
    looked (seccomp_notify.c): denied and logged.  Threads, which share
    them too but are counted, still start, and fork works."""
    pol = policy(hb, base, execution="max_processes = 32\n")

    run = run_try(hb, pol, "clone_sighand", "start_thread", "fork")

    got = tried(run)
    assert got["clone_sighand"]["errno"] == "EPERM", got
    assert got["start_thread"]["errno"] is None, got
    assert got["fork"] == {"ret": 0, "errno": None, "child_exit": 7}, got
    evs = denials(hb, run)
    assert len(evs) == 1, evs
    assert_denied(evs[0], "clone", nr=56)
    flags = int(evs[0]["details"]["args"][0], 16)
    assert flags == CLONE_VM | CLONE_SIGHAND | SIGCHLD, evs[0]
    assert run.result["denied_syscall_counts"] == {"clone": 1}, run


# ------------------------------------------------------------ 3. personality


@pytest.mark.parametrize("base", BASES)
def test_personality_query_works_and_a_change_is_denied(hb, base):
    """personality(0xffffffff) only asks for the current persona and is
    allowed; personality(PER_LINUX32) would change it and is denied."""
    run = run_try(hb, policy(hb, base), "personality_query",
                  "personality_linux32")

    got = tried(run)
    assert got["personality_query"]["errno"] is None, got
    assert got["personality_query"]["ret"] >= 0, got
    assert got["personality_linux32"]["errno"] == "EPERM", got
    evs = denials(hb, run)
    assert len(evs) == 1, evs
    assert_denied(evs[0], "personality", nr=135)
    assert evs[0]["details"]["args"][0] == "0x8", evs[0]
    assert run.result["denied_syscall_counts"] == {"personality": 1}, run


def test_personality_allowed_by_name_still_only_answers_the_query(hb):
    """An allow-list that names personality gets the argument check: the
    query works, PER_LINUX32 is still denied."""
    pol = policy(hb, "strict", "[syscalls]\nallow = @python, personality\n")

    run = run_try(hb, pol, "personality_query", "personality_linux32")

    got = tried(run)
    assert got["personality_query"]["errno"] is None, got
    assert got["personality_linux32"]["errno"] == "EPERM", got
    evs = denials(hb, run)
    assert len(evs) == 1, evs
    assert_denied(evs[0], "personality", nr=135)
    assert run.result["denied_syscall_counts"] == {"personality": 1}, run


# ------------------------------------------------------- 4. TIOCSTI, TIOCLINUX

TIOCSTI = 0x5412
TIOCLINUX = 0x541C


def pending(fd: int, timeout: float = 0.5) -> bytes:
    """What can be read from fd within timeout (b"" if nothing)."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        if not ready:
            return data
        try:
            chunk = os.read(fd, 4096)
        except (BlockingIOError, OSError):
            return data
        if not chunk:
            return data
        data += chunk


@pytest.mark.parametrize("base", BASES)
def test_tiocsti_and_tioclinux_on_a_real_terminal(hb, base):
    """Standard input is the slave of a real pty.  TIOCSTI (from
    fcntl.ioctl, and by syscall() with bits set above the 32 the kernel
    reads) and TIOCLINUX are denied and logged, and nothing reaches the
    terminal."""
    master, slave = pty.openpty()
    try:
        tty.setraw(slave)  # an injected byte is readable at once
        result_path = hb.result_file()
        started = time.monotonic()
        proc = spawn(hb, policy(hb, base), fixture(hb, "syscall_try.py"),
                     "isatty0", "tiocsti", "tiocsti_high", "tioclinux",
                     stdin=slave, result_path=result_path)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail("hivebox did not finish")
        run = finished(proc, out, err, result_path, started)
        os.set_blocking(master, False)
        os.set_blocking(slave, False)
        on_master = pending(master)
        on_slave = pending(slave)
        # The reading works: TIOCSTI from here (root) does arrive.
        control = None
        try:
            fcntl.ioctl(slave, termios.TIOCSTI, b"y")
            control = pending(slave)
        except OSError:
            pass
    finally:
        os.close(master)
        os.close(slave)

    got = tried(run)
    assert got["isatty0"]["ret"] == 1, got  # the test means something
    for op in ("tiocsti", "tiocsti_high", "tioclinux"):
        assert got[op]["errno"] == "EPERM", got
    assert on_slave == b"", on_slave
    assert b"x" not in on_master, on_master
    if control is not None:
        assert control == b"y", control
    evs = denials(hb, run)
    assert len(evs) == 3, evs
    requests = []
    for ev in evs:
        assert_denied(ev, "ioctl", nr=16)
        assert ev["details"]["args"][0] == "0x0", ev
        requests.append(int(ev["details"]["args"][1], 16))
    assert requests == [TIOCSTI, (1 << 32) | TIOCSTI, TIOCLINUX], evs
    assert run.result["denied_syscall_counts"] == {"ioctl": 3}, run


# ------------------------------------------------------------ 5. other ABIs


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("op,what", [("x32", "x32 getpid"),
                                     ("int80", "int 0x80")])
def test_other_abis_are_killed(hb, base, op, what):
    """An x32 call (nr | 0x40000000) and int 0x80 from machine code are
    killed with SIGSYS by the filter itself, without a notification; the
    supervisor records a "syscall_killed" event."""
    run = run_try(hb, policy(hb, base), op)

    assert run.rc == SIGSYS_EXIT, run
    assert run.stdout == f"calling {what}\n", run  # it got to the call
    res = assert_result(run, "signal", signal=signal.SIGSYS,
                        signal_name="SIGSYS", exit_code=None)
    assert res["denied_syscall_counts"] == {}, res
    evs = security_events(hb, run)
    killed = [e for e in evs if e["kind"] == "syscall_killed"]
    assert len(killed) == 1, evs
    assert killed[0]["severity"] == "violation", killed
    # The supervisor sees only the wait status, so the message cannot
    # say which ABI the call used (it names both, whichever it was): it
    # names the script and the signal.
    message = killed[0]["message"]
    assert "/syscall_try.py was killed by SIGSYS, " in message, killed
    assert "a call of another ABI" in message, killed
    assert not [e for e in evs if e["kind"] == "syscall_denied"], evs
    assert end_record(hb, run)["result"]["signal_name"] == "SIGSYS"


# ----------------------------------------------------- 6. blocked_operations

OPERATIONS = ["delete", "chmod", "chown", "rename", "link", "truncate",
              "mknod", "xattr"]
D = "@DIR@/"  # the read_write directory, as an absolute path

# fixture op -> (operation, system call, path, path2), as file_op.py does
# it.  Relative paths are those of *at() calls relative to the directory.
FILE_OPS = {
    "unlink": ("delete", "unlink", D + "victim", MISSING),
    "unlinkat": ("delete", "unlinkat", "victim", MISSING),
    "rmdir": ("delete", "rmdir", D + "victim.d", MISSING),
    "chmod": ("chmod", "chmod", D + "victim", MISSING),
    "fchmod": ("chmod", "fchmod", None, MISSING),
    "fchmodat": ("chmod", "fchmodat", "victim", MISSING),
    "fchmodat2": ("chmod", "fchmodat2", "victim", MISSING),
    "chown": ("chown", "chown", D + "victim", MISSING),
    "fchown": ("chown", "fchown", None, MISSING),
    "fchownat": ("chown", "fchownat", "victim", MISSING),
    "rename": ("rename", "rename", D + "victim", D + "renamed"),
    "rename_over": ("rename", "rename", D + "victim", D + "other"),
    "renameat2": ("rename", "renameat2", "victim", "renamed"),
    "link": ("link", "link", D + "victim", D + "hardlink"),
    "linkat": ("link", "linkat", "victim", "hardlink"),
    "symlink": ("link", "symlink", D + "victim", D + "symlink"),
    "symlinkat": ("link", "symlinkat", D + "victim", "symlink"),
    "truncate": ("truncate", "truncate", D + "victim", MISSING),
    "ftruncate": ("truncate", "ftruncate", None, MISSING),
    "open_trunc": ("truncate", "openat", D + "victim", MISSING),
    "open_trunc_raw": ("truncate", "open", D + "victim", MISSING),
    "creat": ("truncate", "creat", D + "victim", MISSING),
    "mkfifo": ("mknod", "mknodat", D + "fifo", MISSING),
    "mknod": ("mknod", "mknod", D + "fifo", MISSING),
    "setxattr": ("xattr", "setxattr", D + "victim", MISSING),
    "fsetxattr": ("xattr", "fsetxattr", None, MISSING),
    "lsetxattr": ("xattr", "lsetxattr", D + "victim", MISSING),
    "removexattr": ("xattr", "removexattr", D + "victim", MISSING),
}

ORIGINAL = {"kind": "file", "mode": 0o644, "data": "original\n", "xattrs": [],
            "nlink": 1}


def snapshot(directory: Path) -> dict:
    """What the host sees of the directory."""
    seen = {}
    for entry in sorted(directory.iterdir()):
        st = entry.lstat()
        info = {"mode": stat.S_IMODE(st.st_mode), "nlink": st.st_nlink}
        if stat.S_ISLNK(st.st_mode):
            info = {"kind": "symlink", "target": os.readlink(entry)}
        elif stat.S_ISDIR(st.st_mode):
            info["kind"] = "dir"
        elif stat.S_ISFIFO(st.st_mode):
            info["kind"] = "fifo"
        else:
            info["kind"] = "file"
            info["data"] = entry.read_text()
            info["xattrs"] = sorted(os.listxattr(entry))
        seen[entry.name] = info
    return seen


def before(op: str) -> dict:
    """The directory as file_op.py sets it up, before the operation."""
    if op == "rmdir":
        return {"victim.d": {"kind": "dir", "mode": 0o755, "nlink": 2}}
    if op in ("mkfifo", "mknod"):
        return {}
    state = {"victim": dict(ORIGINAL)}
    if op == "rename_over":
        state["other"] = dict(ORIGINAL, data="other\n")
    return state


def after(op: str, directory: Path) -> dict:
    """The directory once the operation went through."""
    state = before(op)
    operation = FILE_OPS[op][0]
    victim = state.get("victim")
    if op in ("unlink", "unlinkat", "rmdir"):
        state = {}
    elif operation == "chmod":
        victim["mode"] = 0o600
    elif op in ("rename", "renameat2"):
        state = {"renamed": victim}
    elif op == "rename_over":
        state = {"other": victim}
    elif op in ("link", "linkat"):
        victim["nlink"] = 2
        state["hardlink"] = dict(victim)
    elif op in ("symlink", "symlinkat"):
        state["symlink"] = {"kind": "symlink",
                            "target": str(directory / "victim")}
    elif operation == "truncate":
        victim["data"] = ""
    elif operation == "mknod":
        state = {"fifo": {"kind": "fifo", "mode": 0o644, "nlink": 1}}
    elif op in ("setxattr", "fsetxattr", "lsetxattr"):
        victim["xattrs"] = ["user.hivebox"]
    # chown to oneself and removing an attribute that is not there change
    # nothing.
    return state


def expand(value, directory: Path):
    if isinstance(value, str) and value.startswith(D):
        return str(directory / value[len(D):])
    return value


def run_file_op(hb: Hivebox, base: str, op: str, blocked: list):
    out = hb.mkdir("out", 0o777)
    text = "[filesystem]\nread_write = ./out\n"
    if blocked:
        text += f"blocked_operations = {', '.join(blocked)}\n"
    pol = policy(hb, base, text)
    run = hb.run(fixture(hb, "file_op.py"), str(out), op, policy=pol)
    return run, out


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("op", sorted(FILE_OPS))
def test_blocked_operation_is_denied_and_logged(hb, base, op):
    """With only this operation blocked, the call fails with EPERM, the
    file on the host is as it was, and the event names the call and its
    paths."""
    operation, syscall, path, path2 = FILE_OPS[op]

    run, out = run_file_op(hb, base, op, [operation])

    assert tried(run) == {"op": op, "errno": "EPERM"}, run
    assert snapshot(out) == before(op)
    evs = denials(hb, run)
    assert len(evs) == 1, evs
    assert_denied(evs[0], syscall, path=expand(path, out),
                  path2=expand(path2, out))
    assert run.result["denied_syscall_counts"] == {syscall: 1}, run


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("op", sorted(FILE_OPS))
def test_operation_works_when_only_the_others_are_blocked(hb, base, op):
    """The control: every other operation blocked, this one is not; it
    goes through, with no event."""
    operation = FILE_OPS[op][0]
    others = [o for o in OPERATIONS if o != operation]
    if op in ("setxattr", "lsetxattr", "fsetxattr"):
        # chmod blocks setting any extended attribute too, since a POSIX
        # ACL (system.posix_acl_access) changes the mode.
        others.remove("chmod")

    run, out = run_file_op(hb, base, op, others)

    want = "ENODATA" if op == "removexattr" else None
    assert tried(run) == {"op": op, "errno": want}, run
    assert snapshot(out) == after(op, out)
    assert denials(hb, run) == []
    assert run.result["denied_syscall_counts"] == {}, run


@pytest.mark.parametrize("base", BASES)
def test_renaming_onto_a_file_is_rename_not_delete(hb, base):
    """Renaming onto an existing file replaces (and so removes) that
    file, but the operation is 'rename', not 'delete' (seccomp_groups.c,
    hivebox-policy(5)): with delete blocked it goes through, with rename
    blocked it does not (test_blocked_operation_is_denied_and_logged
    [rename_over])."""
    run, out = run_file_op(hb, base, "rename_over", ["delete"])

    assert tried(run) == {"op": "rename_over", "errno": None}, run
    assert snapshot(out) == {"other": ORIGINAL}
    assert denials(hb, run) == []


# -------------------------------------------- 7. threads and child processes


def host_ids(root_pid: int) -> dict:
    """{pid or tid in the sandbox: host tid} for every thread of every
    process under root_pid, from NSpid in the host's /proc."""
    ids = {}
    for pid in descendants(root_pid):
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            continue
        for tid in tasks:
            nspids = []
            try:
                with open(f"/proc/{pid}/task/{tid}/status") as f:
                    for line in f:
                        if line.startswith("NSpid:"):
                            nspids = [int(x) for x in line.split()[1:]]
            except FileNotFoundError:
                continue
            if len(nspids) > 1:
                ids[nspids[-1]] = nspids[0]
    return ids


@pytest.mark.parametrize("base", BASES)
def test_a_thread_and_a_child_are_denied_and_logged_as_themselves(hb, base):
    """The main thread, a second thread and a forked child each make a
    denied call: each gets EPERM, and each event carries the host id of
    the very task that made the call."""
    pol = policy(hb, base, execution="max_processes = 32\n")
    result_path = hb.result_file()
    started = time.monotonic()
    proc = spawn(hb, pol, fixture(hb, "denied_in_thread_and_child.py"),
                 stdin=subprocess.PIPE, result_path=result_path)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "the script never said it was ready"
        line = proc.stdout.readline()
        seen = json.loads(line)
        ids = host_ids(proc.pid)
        out, err = proc.communicate(b"\n", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    run = finished(proc, line + out, err, result_path, started)

    assert run.rc == 0, run
    assert_result(run, "exit", exit_code=0)
    for who in ("main", "thread", "child"):
        assert seen[who]["errno"] == "EPERM", seen
    assert seen["thread"]["pid"] == seen["main"]["pid"], seen
    assert seen["thread"]["tid"] != seen["main"]["tid"], seen
    assert seen["child"]["pid"] != seen["main"]["pid"], seen
    want = {who: ids[seen[who]["tid"]] for who in ("main", "thread",
                                                   "child")}
    assert len(set(want.values())) == 3, (seen, ids)
    evs = denials(hb, run)
    assert len(evs) == 3, evs
    for ev, who in zip(evs, ("main", "thread", "child")):
        assert_denied(ev, "chroot", path="/", host_pid=want[who])
    assert run.result["denied_syscall_counts"] == {"chroot": 3}, run


# ------------------------------------------------ 8. on_violation and errno


@pytest.mark.parametrize("base", BASES)
def test_on_violation_kill(hb, base):
    """on_violation = kill: the first denied call kills the script with
    SIGSYS (exit 159); the event says the answer was SIGSYS."""
    pol = policy(hb, base, "[syscalls]\non_violation = kill\n")

    run = run_try(hb, pol, "chroot", "mount")

    assert run.rc == SIGSYS_EXIT, run
    assert run.stdout == "", run  # nothing after the call
    res = assert_result(run, "signal", signal=signal.SIGSYS,
                        signal_name="SIGSYS", exit_code=None)
    evs = denials(hb, run)
    assert len(evs) == 1, evs  # the second call never happened
    assert_denied(evs[0], "chroot", answer="SIGSYS", path="/")
    assert res["denied_syscall_counts"] == {"chroot": 1}, res
    # Not "a call of another ABI": the filter asked for this one.
    assert not [e for e in security_events(hb, run)
                if e["kind"] == "syscall_killed"]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("first", ["ignore_sigsys", "catch_sigsys",
                                   "start_thread"])
def test_on_violation_kill_cannot_be_ignored(hb, base, first):
    """A script that ignores or catches SIGSYS first, or has a second
    thread that could catch it while the first waits, must still be
    killed: the policy says a denied call kills.  A SIGSYS it survives
    would not, so the supervisor sends SIGKILL instead, and the event
    says so."""
    pol = policy(hb, base, "[syscalls]\non_violation = kill\n",
                 execution="max_processes = 32\n")

    run = run_try(hb, pol, first, "chroot")

    evs = denials(hb, run)
    assert len(evs) == 1, evs
    assert_denied(evs[0], "chroot", answer="SIGKILL", path="/")
    assert run.rc == 128 + signal.SIGKILL, run
    assert run.stdout == "", run
    assert_result(run, "signal", signal=signal.SIGKILL,
                  signal_name="SIGKILL")


@pytest.mark.parametrize("base", BASES)
def test_on_violation_kill_cannot_be_blocked(hb, base):
    """A script that blocks SIGSYS (pthread_sigmask) neither ignores nor
    catches it, but a SIGSYS sent to it would stay pending while the call
    returned.  The first denied call must end the process with SIGKILL and
    never return: the second and third are never made, nothing is
    printed, and the event and the result say SIGKILL."""
    pol = policy(hb, base, "[syscalls]\non_violation = kill\n")

    run = run_try(hb, pol, "block_sigsys", "chroot", "chroot", "chroot")

    assert run.stdout == "", run  # it never got past the first call
    assert run.rc == 128 + signal.SIGKILL, run
    res = assert_result(run, "signal", signal=signal.SIGKILL,
                        signal_name="SIGKILL", exit_code=None)
    evs = denials(hb, run)
    assert len(evs) == 1, evs
    assert_denied(evs[0], "chroot", answer="SIGKILL", path="/")
    d = evs[0]["details"]
    assert d.get("host_tgid") == d["host_pid"], evs[0]  # one thread
    assert res["denied_syscall_counts"] == {"chroot": 1}, res
    assert res["denied_syscalls"] == 1, res


@pytest.mark.parametrize("base", BASES)
def test_on_violation_kill_from_a_second_thread(hb, base):
    """A denied call from a thread that is not the thread-group leader
    (its id is not a process's, so no pidfd can be opened for it) kills
    the whole process with SIGKILL; the event names the calling thread
    and the process that was killed, which are not the same."""
    pol = policy(hb, base, "[syscalls]\non_violation = kill\n",
                 execution="max_processes = 32\n")

    run = run_try(hb, pol, "chroot_in_thread")

    assert run.stdout == "", run
    assert run.rc == 128 + signal.SIGKILL, run
    res = assert_result(run, "signal", signal=signal.SIGKILL,
                        signal_name="SIGKILL", exit_code=None)
    evs = denials(hb, run)
    assert len(evs) == 1, evs
    assert_denied(evs[0], "chroot", answer="SIGKILL", path="/")
    d = evs[0]["details"]
    assert isinstance(d.get("host_tgid"), int), evs[0]
    assert d["host_tgid"] != d["host_pid"], evs[0]
    assert res["denied_syscall_counts"] == {"chroot": 1}, res


@pytest.mark.parametrize("base", BASES)
def test_errno_eacces(hb, base):
    """errno = EACCES: denied calls (an always-denied one, and under the
    allow-list one that is merely not allowed) fail with EACCES, and the
    events say so."""
    pol = policy(hb, base, "[syscalls]\nerrno = EACCES\n")

    run = run_try(hb, pol, "chroot", "socket_inet")

    got = tried(run)
    assert got["chroot"]["errno"] == "EACCES", got
    evs = denials(hb, run)
    assert_denied(evs[0], "chroot", answer=os.strerror(errno.EACCES),
                  path="/")
    if base == "strict":
        assert got["socket_inet"]["errno"] == "EACCES", got
        assert len(evs) == 2, evs
        assert_denied(evs[1], "socket", answer=os.strerror(errno.EACCES))
    else:
        assert got["socket_inet"]["errno"] is None, got
        assert len(evs) == 1, evs


def test_a_deny_list_denies_what_it_names(hb):
    """default = allow with deny = uname: uname fails and is logged,
    everything else works."""
    pol = policy(hb, "default", "[syscalls]\ndeny = uname\n")

    run = run_try(hb, pol, "uname", "fork", "socket_unix")

    got = tried(run)
    assert got["uname"]["errno"] == "EPERM", got
    assert got["fork"]["errno"] is None, got
    assert got["socket_unix"]["errno"] is None, got
    evs = denials(hb, run)
    assert len(evs) == 1, evs
    assert_denied(evs[0], "uname", nr=63)
    assert run.result["denied_syscall_counts"] == {"uname": 1}, run


# (fixture call, the family as socket() got it): the families a deny-list
# refuses (seccomp_filter.c deny_socket_families).
DENIED_FAMILIES = [
    ("socket_vsock", 40),  # AF_VSOCK: to the hypervisor
    ("socket_packet", 17),  # AF_PACKET: raw frames
    ("socket_af_max", 46),  # AF_MAX: no such family yet
    ("socket_vsock_high", (1 << 32) | 40),  # AF_VSOCK to the kernel
]


def test_a_deny_list_denies_socket_families_a_script_does_not_need(hb):
    """default = allow still refuses sockets of families that reach past
    the network namespace or load modules, compared on the low 32 bits
    the kernel reads, with the policy's errno (EACCES here, which the
    kernel's own refusals would not give) and one event each; an
    AF_UNIX socket works."""
    pol = policy(hb, "default", "[syscalls]\nerrno = EACCES\n")

    run = run_try(hb, pol, *[op for op, _ in DENIED_FAMILIES],
                  "socket_unix")

    got = tried(run)
    for op, _ in DENIED_FAMILIES:
        assert got[op]["errno"] == "EACCES", got
    assert got["socket_unix"]["errno"] is None, got
    evs = denials(hb, run)
    assert len(evs) == len(DENIED_FAMILIES), evs
    for ev, (_, family) in zip(evs, DENIED_FAMILIES):
        assert_denied(ev, "socket", nr=41, answer=os.strerror(errno.EACCES))
        assert int(ev["details"]["args"][0], 16) == family, ev
    assert run.result["denied_syscall_counts"] == {
        "socket": len(DENIED_FAMILIES)}, run


# (fixture call, the family as socketpair() got it): refused by every
# policy.  Before the family's own code runs, socketpair() creates a socket
# of it, as socket() does (and loads its module).
DENIED_PAIR_FAMILIES = [
    ("socketpair_vsock", 40),  # AF_VSOCK: to the hypervisor
    ("socketpair_packet", 17),  # AF_PACKET: raw frames
    ("socketpair_vsock_high", (1 << 32) | 40),  # AF_VSOCK to the kernel
]
EOPNOTSUPP = errno.errorcode[errno.EOPNOTSUPP]  # "ENOTSUP" on Linux


@pytest.mark.parametrize("base", BASES)
def test_socketpair_has_the_family_rule_of_socket(hb, base):
    """socketpair() gets socket()'s family rule, under an allow-list and a
    deny-list alike: AF_VSOCK (also with bits above the 32 the kernel
    reads) and AF_PACKET fail with the policy's errno (EACCES, which the
    kernel's own refusals would not give) and are logged; an AF_UNIX pair
    works.  AF_NETLINK sockets a deny-list allows, so there the kernel
    answers (netlink has no pairs), while the allow-list of strict.ini
    refuses the family."""
    pol = policy(hb, base, "[syscalls]\nerrno = EACCES\n")

    run = run_try(hb, pol, *[op for op, _ in DENIED_PAIR_FAMILIES],
                  "socketpair_netlink", "socketpair_unix")

    got = tried(run)
    for op, _ in DENIED_PAIR_FAMILIES:
        assert got[op]["errno"] == "EACCES", got
    assert got["socketpair_unix"] == {"ret": 0, "errno": None}, got
    families = [family for _, family in DENIED_PAIR_FAMILIES]
    if base == "strict":
        assert got["socketpair_netlink"]["errno"] == "EACCES", got
        families.append(16)
    else:
        assert got["socketpair_netlink"]["errno"] == EOPNOTSUPP, got
    evs = denials(hb, run)
    assert len(evs) == len(families), evs
    for ev, family in zip(evs, families):
        assert_denied(ev, "socketpair", nr=53,
                      answer=os.strerror(errno.EACCES))
        assert int(ev["details"]["args"][0], 16) == family, ev
    assert run.result["denied_syscall_counts"] == {
        "socketpair": len(families)}, run


# ----------------------------------------------------------------- 9. flood

FLOOD = 20_000
DETAILED = 10  # HB_NOTIFY_DETAILED


def test_a_flood_of_denied_calls_is_counted_not_logged(hb):
    """20,000 denied chroot("/") calls in a tight loop, each a round trip
    through the supervisor (2,000 times HB_NOTIFY_DETAILED; a million
    took 30 s and more on a 2-core machine): the script gets EPERM every
    time, the security log holds the first 10 in detail (the 10th saying
    that further ones are counted), and the result and the end record in
    execution_audit.log have the exact count."""
    pol = policy(hb, "strict")

    run = hb.run(fixture(hb, "syscall_flood.py"), str(FLOOD), policy=pol,
                 options=["--quiet"], timeout=120)

    assert run.rc == 0, run
    res = assert_result(run, "exit", exit_code=0)
    assert run.json()["eperm"] == FLOOD, run
    assert res["denied_syscall_counts"] == {"chroot": FLOOD}, res
    assert res["denied_syscalls"] == FLOOD, res
    evs = security_events(hb, run)
    assert len(evs) == DETAILED, [e["message"] for e in evs]
    for ev in evs:
        assert_denied(ev, "chroot", path="/")
    assert "further ones are counted" in evs[-1]["message"], evs[-1]
    end = end_record(hb, run)
    assert end["result"]["denied_syscall_counts"] == {"chroot": FLOOD}, end
    assert end["result"]["denied_syscalls"] == FLOOD, end


def test_a_flood_of_unknown_numbers_is_limited_too(hb):
    """syscall(1000), a number outside the supervisor's table, 20 times
    under an allow-list (whose default sends it to the supervisor): the
    first 10 are logged in detail, and all 20 are counted under "?"."""
    pol = policy(hb, "strict")

    run = run_try(hb, pol, "unknown_x20")

    got = tried(run)["unknown_x20"]
    assert got["eperm"] == 20, got
    evs = security_events(hb, run)
    assert len(evs) == DETAILED, [e["message"] for e in evs]
    for ev in evs:
        assert_denied(ev, "?", nr=1000)
    assert "further ones are counted" in evs[-1]["message"], evs[-1]
    assert run.result["denied_syscall_counts"] == {"?": 20}, run
    assert run.result["denied_syscalls"] == 20, run
    assert run.result["violations"] == 20, run
    end = end_record(hb, run)
    assert end["result"]["denied_syscall_counts"] == {"?": 20}, end
    assert end["result"]["denied_syscalls"] == 20, end


# ------------------------------------------------- 10. the standard library

STDLIB = sorted(p.name for p in (FIXTURES / "stdlib").glob("use_*.py"))
# The deliberate denials: (system call, path or None, first argument).
EXPECTED_DENIALS = {
    "use_subprocess.py": ("execve", "/usr/bin/python3", MISSING),
    "use_socket.py": ("socket", MISSING, "0x2"),  # AF_INET
}


@pytest.mark.parametrize("script", STDLIB)
def test_stdlib_under_strict(hb, script):
    """The standard library CPython jobs use runs under strict.ini
    (max_processes = 32 so that multiprocessing starts: RLIMIT_NPROC
    counts threads) with no denied call but the deliberate ones: running
    a program (only the interpreter's own execve is allowed) and an
    AF_INET socket (no network)."""
    pol = policy(hb, "strict", execution="max_processes = 32\n")

    run = hb.run(fixture(hb, f"stdlib/{script}"), policy=pol, timeout=90)

    assert run.rc == 0, run
    assert run.stdout == "ok\n", run
    assert_result(run, "exit", exit_code=0)
    evs = denials(hb, run)
    if script in EXPECTED_DENIALS:
        syscall, path, arg0 = EXPECTED_DENIALS[script]
        assert len(evs) == 1, evs
        assert_denied(evs[0], syscall, path=path)
        if arg0 is not MISSING:
            assert evs[0]["details"]["args"][0] == arg0, evs[0]
        assert run.result["denied_syscall_counts"] == {syscall: 1}, run
    else:
        assert evs == [], [e["message"] for e in evs]
        assert run.result["denied_syscall_counts"] == {}, run


# ---------------------------------------------------- 11. the exported filter

BPF_LD_W_ABS = 0x20
BPF_RET_K = 0x06
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_USER_NOTIF = 0x7fc00000
SECCOMP_RET_ALLOW = 0x7fff0000


@pytest.mark.parametrize("base,kind", [
    ("strict", "allow-list (default deny)"),
    ("default", "deny-list (default allow)")])
def test_dry_run_exports_the_filter(hb, base, kind):
    """--dry-run --export-filter F writes the BPF program (8-byte
    instructions, as many as the plan says), names the kind of list and,
    for strict, the allow-list, and runs nothing."""
    pol = policy(hb, base)
    target = hb.dir / "filter.bpf"

    run = hb.run_argv(["--dry-run", "--export-filter", target, "--policy",
                       pol, fixture(hb, "syscall_try.py"), "chroot"])

    assert run.rc == 0, run
    data = target.read_bytes()
    assert len(data) > 0 and len(data) % 8 == 0, len(data)
    head = [ln for ln in run.stdout.splitlines()
            if ln.startswith("system calls:")]
    assert len(head) == 1, run
    assert kind in head[0], head
    assert f" {len(data) // 8} BPF instructions" in head[0], head
    if base == "strict":
        assert "\n  allow @python\n" in run.stdout, run
    insns = [(int.from_bytes(data[i:i + 2], "little"),
              int.from_bytes(data[i + 4:i + 8], "little"))
             for i in range(0, len(data), 8)]
    # Loads seccomp_data.arch first; kills another ABI; notifies.
    assert insns[0] == (BPF_LD_W_ABS, 4), insns[:3]
    returns = {k for code, k in insns if code == BPF_RET_K}
    assert SECCOMP_RET_KILL_PROCESS in returns, returns
    assert SECCOMP_RET_USER_NOTIF in returns, returns
    assert SECCOMP_RET_ALLOW in returns, returns
    # Nothing ran: no audit record, no output of the script.
    assert '"chroot"' not in run.stdout
    assert not (hb.audit_dir / "execution_audit.log").exists()

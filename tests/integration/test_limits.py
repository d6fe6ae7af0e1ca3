"""Every limit, on a real script that runs into it."""
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from conftest import (FIXTURES, GRACE_S, HIVEBOX, REPO, UID_BASE, UID_RANGE,
                      assert_refused, assert_result, host_uid, needs_root,
                      needs_userns, processes_of_uid, require_root,
                      require_userns)
from test_audit import default_key, events, exec_records

pytestmark = needs_userns

MIB = 1024 * 1024


def assert_recorded(hb, res, reason, violation=None):
    """The audit trail says what the result says: the run's end record
    carries the reason and the result's count of violations, and a limit
    that ended it is one violation event of that kind (none when the
    script ended on its own)."""
    key = default_key()
    ends = [r for r in exec_records(hb.audit_dir, key)
            if r["type"] == "end" and r["exec_id"] == res["exec_id"]]
    assert len(ends) == 1, ends
    assert ends[0]["result"]["reason"] == reason, ends[0]
    assert ends[0]["violations"] == res["violations"], (ends[0], res)
    evs = [e for e in events(hb.audit_dir, res["exec_id"], key)
           if e["severity"] == "violation"]
    if violation is None:
        assert evs == [], evs
        assert res["violations"] == 0, res
    else:
        assert [e["kind"] for e in evs] == [violation], evs
        assert ends[0]["violations"] == 1, ends[0]


def test_timeout_kills_what_ignores_sigterm_and_holds_stdout(hb):
    """The script and an orphaned grandchild ignore SIGTERM, and the
    grandchild keeps hivebox's stdout pipe open: hivebox must still return
    promptly, not wait for the pipe."""
    timeout = 2
    policy = hb.policy(f"[execution]\ntimeout_seconds = {timeout}\n")

    run = hb.run("ignore_term.py", policy=policy, timeout=60)

    assert run.rc == 124, run
    assert "grandchild" in run.stdout, run
    assert "waiting" in run.stdout, run
    assert "timeout" in run.stderr, run
    # A correctness bound, not a benchmark: a hivebox that waited for the
    # grandchild's pipe would only end at the test's own 60 s timeout.
    assert run.elapsed < timeout + GRACE_S + 5, run
    res = assert_result(run, "timeout", exit_code=None,
                        signal=int(signal.SIGKILL), signal_name="SIGKILL")
    assert res["wall_ms"] >= timeout * 1000, res
    assert res["limits"]["timeout_seconds"]["value"] == timeout
    assert_recorded(hb, res, "timeout", violation="timeout")
    if os.geteuid() == 0:
        assert processes_of_uid(host_uid(hb.audit_dir, run.pid)) == []


def test_cpu_limit_sends_sigxcpu(hb):
    policy = hb.policy("[execution]\ncpu_seconds = 1\n")

    run = hb.run("cpu_burn.py", policy=policy)

    assert run.rc == 128 + signal.SIGXCPU == 152, run
    assert run.stdout == "RLIMIT_CPU 1 2\n", run
    assert "cpu_limit" in run.stderr, run
    res = assert_result(run, "cpu_limit", exit_code=None,
                        signal=int(signal.SIGXCPU), signal_name="SIGXCPU")
    # rusage is sampled and may read somewhat under the 1 s that
    # RLIMIT_CPU counted; well above zero is what shows the script burned.
    assert res["cpu_user_ms"] + res["cpu_system_ms"] >= 500, res
    assert res["wall_ms"] < 10000, res
    assert res["limits"]["cpu_seconds"]["value"] == 1
    assert "RLIMIT_CPU" in res["limits"]["cpu_seconds"]["enforced_by"]
    assert_recorded(hb, res, "cpu_limit", violation="cpu_limit")


@pytest.mark.parametrize("sig", [signal.SIGXCPU, signal.SIGXFSZ],
                         ids=["SIGXCPU", "SIGXFSZ"])
def test_a_limit_signal_the_script_sends_itself_is_no_limit(hb, sig):
    """os.kill(os.getpid(), SIGXCPU) made the result say cpu_limit, with
    a violation event, after some 20 ms of CPU; SIGXFSZ said
    file_size_limit without a byte written.  A wait status does not say
    who sent the signal, what the kernel counted does: the script used
    nowhere near cpu_seconds = 10 nor wrote file_size_mb = 8, so it was
    killed by a signal, named (one line, no limit), and nothing was
    violated."""
    run = hb.run("self_kill.py", str(int(sig)))

    assert run.rc == 128 + sig, run
    assert run.stdout == f"killing myself with {int(sig)}\n", run
    assert run.stderr_lines() == [
        f"hivebox: signal: {hb.dir / 'self_kill.py'} was killed by "
        f"{sig.name}"], run
    res = assert_result(run, "signal", exit_code=None, signal=int(sig),
                        signal_name=sig.name)
    assert res["cpu_user_ms"] + res["cpu_system_ms"] < 5000, res
    assert_recorded(hb, res, "signal")


def test_memory_limit_lets_the_allocation_succeed_below_it(hb):
    """Below memory_mb a buffer is the script's; RLIMIT_AS is only the
    backstop, 1 GiB above memory_mb, so the job's address space is not
    what is bounded (test_whole_limits.py: past it, memory_limit)."""
    policy = hb.policy("[execution]\nmemory_mb = 64\n")

    run = hb.run("memory_hog.py", "16", policy=policy)

    assert run.rc == 0, run
    assert run.stdout == (f"RLIMIT_AS {1088 * MIB} {1088 * MIB}\n"
                          "allocated 16 MiB\n"), run
    res = assert_result(run, "exit", exit_code=0)
    assert res["limits"]["memory_mb"]["value"] == 64
    assert "RLIMIT_AS" in res["limits"]["memory_mb"]["enforced_by"]
    assert res["peak_rss_kb"] >= 16 * 1024, res
    assert res["limits_hit"] == [], res
    assert_recorded(hb, res, "exit")


def test_memory_limit_bounds_the_sandbox_total(hb):
    """Three processes of 30 MiB each stay within 64 MiB, but not their
    total: the supervisor ends the sandbox."""
    policy = hb.policy("[execution]\nmemory_mb = 64\n")

    run = hb.run("memory_spread.py", "3", "30", policy=policy)

    assert run.rc == 128 + signal.SIGKILL, run
    assert "all children ended on their own" not in run.stdout, run
    assert "memory_limit" in run.stderr, run
    assert run.elapsed < 15, run
    res = assert_result(run, "memory_limit", exit_code=None,
                        signal=int(signal.SIGKILL), signal_name="SIGKILL")
    assert_recorded(hb, res, "memory_limit", violation="memory_limit")


def test_memory_limit_counts_the_sandbox_tmpfs(hb):
    """Pages in the private /tmp are memory too: a script whose own RSS is
    small but whose /tmp (larger than memory_mb) grows past memory_mb is
    killed by the supervisor before the tmpfs fills."""
    policy = hb.policy("[execution]\nmemory_mb = 64\ntmp_size_mb = 512\n"
                       "file_size_mb = 512\n"
                       "[monitoring]\nsample_interval_ms = 10\n")

    run = hb.run("fill_tmp.py", policy=policy)

    assert run.rc == 128 + signal.SIGKILL == 137, run
    assert run.stdout == "", run  # never reached ENOSPC
    assert "memory_limit" in run.stderr, run
    res = assert_result(run, "memory_limit", exit_code=None,
                        signal=int(signal.SIGKILL), signal_name="SIGKILL")
    # RSS plus tmpfs went past the limit; the script's own RSS did not.
    assert res["peak_memory_kb"] > 64 * 1024, res
    assert res["peak_memory_kb"] < 512 * 1024, res
    assert res["peak_rss_kb"] < 64 * 1024, res
    assert_recorded(hb, res, "memory_limit", violation="memory_limit")


def file_size_setup(hb):
    out = hb.mkdir("out", 0o777)
    policy = hb.policy("[execution]\nfile_size_mb = 2\ntmp_size_mb = 16\n"
                       "[filesystem]\nread_write = ./out\n")
    return out, policy


def test_file_size_limit_write_fails_with_efbig(hb):
    """Python ignores SIGXFSZ, so the write past the limit fails."""
    out, policy = file_size_setup(hb)

    run = hb.run("file_size.py", "out/big", "4", "catch", policy=policy)

    assert run.rc == 4, run
    assert run.stdout == f"error EFBIG after {2 * MIB}\n", run
    res = assert_result(run, "exit", exit_code=4, signal=None)
    assert res["limits"]["file_size_mb"]["value"] == 2
    assert "RLIMIT_FSIZE" in res["limits"]["file_size_mb"]["enforced_by"]
    assert (out / "big").stat().st_size == 2 * MIB
    assert_recorded(hb, res, "exit")


def test_file_size_limit_kills_with_sigxfsz(hb):
    """A script that restores SIGXFSZ's default action is killed."""
    out, policy = file_size_setup(hb)

    run = hb.run("file_size.py", "out/big", "4", "default", policy=policy)

    assert run.rc == 128 + signal.SIGXFSZ == 153, run
    assert run.stdout == "", run
    assert "file_size_limit" in run.stderr, run
    res = assert_result(run, "file_size_limit", exit_code=None,
                        signal=int(signal.SIGXFSZ), signal_name="SIGXFSZ")
    assert_recorded(hb, res, "file_size_limit", violation="file_size_limit")
    assert (out / "big").stat().st_size == 2 * MIB


def test_max_open_files(hb):
    """RLIMIT_NOFILE: open() fails with EMFILE at the limit, counting the
    three standard descriptors."""
    policy = hb.policy("[execution]\nmax_open_files = 20\n")

    run = hb.run("open_files.py", policy=policy)

    assert run.rc == 0, run
    assert run.stdout == "EMFILE 20\n", run
    res = assert_result(run, "exit", exit_code=0)
    assert res["limits"]["max_open_files"]["value"] == 20
    assert_recorded(hb, res, "exit")


def test_tmp_size(hb):
    """The private /tmp is a tmpfs of tmp_size_mb: writing past it fails
    with ENOSPC, and nothing lands on the host."""
    policy = hb.policy("[execution]\ntmp_size_mb = 4\n")

    run = hb.run("fill_tmp.py", policy=policy)

    assert run.rc == 0, run
    verdict, blocks = run.stdout.split()
    assert verdict == "ENOSPC", run
    assert 0 <= int(blocks) <= 4, run
    res = assert_result(run, "exit", exit_code=0)
    assert res["limits"]["tmp_size_mb"]["value"] == 4
    assert_recorded(hb, res, "exit")
    assert not os.path.exists("/tmp/fill")


@needs_root
def test_fork_bomb_is_contained_and_cleaned_up(hb):
    max_processes = 4
    policy = hb.policy(f"[execution]\nmax_processes = {max_processes}\n")

    run = hb.run("fork_bomb.py", policy=policy)

    assert run.rc == 0, run
    lines = dict(line.split() for line in run.stdout.splitlines())
    forks = int(lines["forks"])
    # The script is one of max_processes; fork fails with EAGAIN past it.
    assert 1 <= forks <= max_processes - 1, run
    res = assert_result(run, "exit", exit_code=0)
    assert_recorded(hb, res, "exit")
    uid = int(lines["uid_map"])
    assert UID_BASE <= uid < UID_BASE + UID_RANGE, run
    assert uid == host_uid(hb.audit_dir, run.pid), run
    # The children outlived the script; none may outlive the run.  Only
    # this run's uid is checked: other sandboxes may run on this machine.
    assert processes_of_uid(uid) == []


@needs_root
def test_host_root_is_refused_as_it_would_lift_max_processes(hb):
    """The kernel does not count host root's processes against
    RLIMIT_NPROC, so under host_uid = root a fork loop made 50 children
    where max_processes allowed 4.  A sampled count would be outrun, so
    the run is refused before anything starts, with one line that names
    both settings and what to change; the trail records the refused run
    only."""
    policy = hb.policy("[execution]\nmax_processes = 4\n"
                       "[identity]\nhost_uid = root\n")

    run = hb.run("fork_bomb.py", policy=policy)

    assert_refused(run, r"policy\.ini:6: host_uid = root would leave "
                   r"max_processes = 4 \(\S*policy\.ini:4\) unenforced: "
                   r"the kernel does not apply RLIMIT_NPROC to host root; "
                   r"set host_uid = auto or a dedicated uid$")
    (end,) = exec_records(hb.audit_dir, default_key())
    assert end["result"]["reason"] == "refused", end
    assert [e["kind"] for e in events(hb.audit_dir, key=default_key())] \
        == ["refusal"]


@needs_root
def test_every_process_is_counted_past_4096(hb):
    """The sampler counted at most 4096 processes, and read at most 4 KiB
    of a parent's list of children (some 700 pids): processes past either
    escaped the count and the whole-sandbox memory sum.  4200 children of
    one process are all counted.  (Each child's RSS counts its shared
    pages again, so memory_mb is set out of the way, and so is
    cpu_seconds: 4200 Python forks spend some 20 s of CPU in all, which
    the sandbox's budget counts.)"""
    n = 4200
    policy = hb.policy(f"[execution]\nmax_processes = {n + 10}\n"
                       "memory_mb = 1048576\ntimeout_seconds = 120\n"
                       "cpu_seconds = 3600\n"
                       "[monitoring]\nsample_interval_ms = 50\n")

    run = hb.run("many_children.py", str(n), "3", policy=policy,
                 timeout=180)

    assert run.rc == 0, run
    assert run.stdout == f"children {n}\n", run
    res = assert_result(run, "exit", exit_code=0)
    # The script and its n children, sampled while they all lived.
    assert res["peak_processes"] == n + 1, res
    assert_recorded(hb, res, "exit")
    ends = [r for r in exec_records(hb.audit_dir, default_key())
            if r["type"] == "end"]
    assert ends[0]["result"]["peak_processes"] == n + 1, ends


# ------------------------------------------------------------ kernel memory
#
# System V IPC objects and tmpfs inodes are kernel memory that no
# process's RSS shows.  As root, the sandbox init bounds its own IPC
# namespace in proportion to memory_mb (launcher/plan.c, plan_ipc()), and
# /tmp and /dev/shm get one inode per 4 KiB of their size; the supervisor
# counts what the namespace holds toward memory_mb.  Each abuse below is
# bounded, so that a hivebox without these bounds fails the test without
# taking the machine down.

PAGE = os.sysconf("SC_PAGE_SIZE")
MSG_COST = 128  # kernel bytes per message besides its text, at most


def ipc_bounds(memory_mb):
    """The formula of hivebox(1) LIMITS, as /proc/sys/kernel shows it."""
    msgmnb = memory_mb * 128
    return {
        "sem": [250, 8000, 32, 32],
        "msgmni": [16],
        "msgmnb": [msgmnb],
        "msgmax": [min(8192, msgmnb)],
        "shmmni": [32],
        "shmall": [memory_mb * MIB // 2 // PAGE],
        "shmmax": [memory_mb * MIB // 2],
    }


def strict_with(hb, text):
    """The shipped strict.ini, tightened."""
    return hb.policy("[execution]\n" + text,
                     extends=str(REPO / "policies" / "strict.ini"))


@needs_root
def test_sysv_semaphores_are_bounded_by_memory_mb(hb):
    """The review's 200 arrays of 32000 semaphores (~420 MB of host
    memory) cut down to 40: refused whole, and arrays of 250 stop at
    semmni, with at most semmns semaphores, 8000 x 64 bytes in all."""
    policy = strict_with(hb, "memory_mb = 64\n")

    run = hb.run("kernel_memory.py", "sem", "40", "32000", policy=policy)

    assert run.rc == 0, run
    out = run.json()
    assert out["namespace"]["limits"] == ipc_bounds(64), out
    assert out == {"made": 0, "stop": "EINVAL",
                   "namespace": out["namespace"]}, out
    assert out["namespace"]["sems"] == 0, out
    res = assert_result(run, "exit", exit_code=0)
    assert_recorded(hb, res, "exit")

    run = hb.run("kernel_memory.py", "sem", "40", "250", policy=policy)
    assert run.rc == 0, run
    out = run.json()
    assert out["made"] == 32 and out["stop"] == "ENOSPC", out
    assert out["namespace"]["sems"] == 8000, out
    assert_recorded(hb, assert_result(run, "exit", exit_code=0), "exit")


@needs_root
def test_sysv_message_queues_are_bounded_by_memory_mb(hb):
    """40 queues filled with empty messages (each costs the kernel ~100
    bytes; a queue takes as many messages as msgmnb has bytes): msgget
    stops at msgmni, msgsnd at msgmnb, and what the queues hold stays
    within a quarter of memory_mb."""
    memory_mb = 64
    bounds = ipc_bounds(memory_mb)
    policy = strict_with(hb, f"memory_mb = {memory_mb}\n")

    run = hb.run("kernel_memory.py", "msg", "40", "20000", policy=policy)

    assert run.rc == 0, run
    out = run.json()
    ns = out["namespace"]
    assert ns["limits"] == bounds, out
    assert out["made"] == 16 and out["stop"] == "ENOSPC", out
    assert out["queue_full"] == "EAGAIN", out
    assert out["sent"] == ns["messages"] == 16 * bounds["msgmnb"][0], out
    assert ns["message_bytes"] == 0, out
    assert ns["messages"] * MSG_COST <= memory_mb * MIB // 4, out
    res = assert_result(run, "exit", exit_code=0)
    assert_recorded(hb, res, "exit")


@needs_root
def test_sysv_shared_memory_is_bounded_by_memory_mb(hb):
    """Where a policy allows shmget at all (strict.ini and default.ini
    deny it): one segment may be half of memory_mb, all of them together
    no more."""
    policy = hb.policy("[execution]\nmemory_mb = 64\n")

    run = hb.run("kernel_memory.py", "shm", "64", "20", policy=policy)

    assert run.rc == 0, run
    out = run.json()
    assert out["namespace"]["limits"] == ipc_bounds(64), out
    assert out["made"] == 1 and out["stop"] == "ENOSPC", out
    assert out["namespace"]["segment_bytes"] == 20 * MIB, out
    assert_recorded(hb, assert_result(run, "exit", exit_code=0), "exit")

    run = hb.run("kernel_memory.py", "shm", "1", "33", policy=policy)
    assert run.rc == 0, run
    out = run.json()
    assert out["made"] == 0 and out["stop"] == "EINVAL", out
    assert_recorded(hb, assert_result(run, "exit", exit_code=0), "exit")


@needs_root
def test_tmp_inodes_are_bounded_by_tmp_size(hb):
    """Empty files cost no tmpfs page but about 1 KiB of kernel memory
    each: /tmp of 4 MiB takes 1024 inodes and no more, its root, the
    start directory's path (when it lies below /tmp) and the directory
    made here included."""
    policy = strict_with(hb, "memory_mb = 64\ntmp_size_mb = 4\n")

    run = hb.run("kernel_memory.py", "files", "20000", policy=policy)

    assert run.rc == 0, run
    out = run.json()
    assert out["stop"] == "ENOSPC", out
    assert out["inodes"] == 4 * 256 and out["free"] == 0, out
    assert 4 * 256 - 32 <= out["made"] < 4 * 256, out
    res = assert_result(run, "exit", exit_code=0)
    assert res["peak_memory_kb"] < 64 * 1024, res
    assert_recorded(hb, res, "exit")


@needs_root
def test_memory_limit_counts_sysv_ipc(hb):
    """32 MiB of shared memory, touched and detached, and 16 full message
    queues (~24 MiB counted) hold no process's RSS; with 32 MiB in /tmp
    and the interpreter they pass memory_mb = 96, which /tmp and RSS alone
    would not: the supervisor must count the IPC namespace to kill."""
    policy = hb.policy("[execution]\nmemory_mb = 96\ntmp_size_mb = 48\n"
                       "file_size_mb = 48\n"
                       "[monitoring]\nsample_interval_ms = 10\n")

    run = hb.run("kernel_memory.py", "hold", "32", "16", "32", policy=policy)

    assert run.rc == 128 + signal.SIGKILL, run
    assert run.stdout == "", run  # never held it all
    assert "memory_limit" in run.stderr, run
    res = assert_result(run, "memory_limit", exit_code=None,
                        signal=int(signal.SIGKILL), signal_name="SIGKILL")
    assert res["peak_memory_kb"] > 96 * 1024, res
    assert res["peak_rss_kb"] < 48 * 1024, res
    assert_recorded(hb, res, "memory_limit", violation="memory_limit")


def test_unprivileged_sysv_ipc_is_counted(hb):
    """Unprivileged, no one in the sandbox is its IPC namespace's root, the
    only one who may lower its limits: the kernel's stay, and 40 queues of
    empty messages (~80 MB of kernel memory) grow past memory_mb = 64.
    The supervisor counts them and ends the run."""
    require_root()  # to become someone else
    nobody = 65534
    require_userns(nobody)
    base = Path(tempfile.mkdtemp(prefix="hivebox-unpriv-", dir="/tmp"))
    try:
        base.chmod(0o755)
        binary = base / "hivebox"
        shutil.copy(HIVEBOX, binary)
        shutil.copy(FIXTURES / "kernel_memory.py", base)
        (base / "policy.ini").write_text(
            "[execution]\nmemory_mb = 64\n"
            "[monitoring]\nsample_interval_ms = 10\n")
        for path in base.iterdir():
            path.chmod(0o755 if path == binary else 0o644)
        result = base / "result.json"
        base.chmod(0o777)

        run = hb.run_argv(
            ["--result", result, "--policy", "policy.ini",
             "kernel_memory.py", "msg", "40", "20000"],
            cwd=base, result_path=result, binary=binary,
            prefix=["setpriv", f"--reuid={nobody}", f"--regid={nobody}",
                    "--clear-groups"])
    finally:
        shutil.rmtree(base, ignore_errors=True)

    assert run.rc == 128 + signal.SIGKILL, run
    assert run.stdout == "", run
    assert "memory_limit" in run.stderr, run
    res = assert_result(run, "memory_limit", exit_code=None,
                        signal=int(signal.SIGKILL), signal_name="SIGKILL")
    assert res["peak_memory_kb"] > 64 * 1024, res
    assert res["peak_rss_kb"] < 32 * 1024, res
    assert_recorded(hb, res, "memory_limit", violation="memory_limit")

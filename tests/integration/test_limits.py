"""Every limit, on a real script that runs into it."""
import os
import signal

import pytest

from conftest import (GRACE_S, UID_BASE, UID_RANGE, assert_refused,
                      assert_result, needs_root, needs_userns,
                      processes_of_uid, sandbox_uid)
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
        assert processes_of_uid(sandbox_uid(run.pid)) == []


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
    killed by a signal, named, and nothing was violated."""
    run = hb.run("self_kill.py", str(int(sig)))

    assert run.rc == 128 + sig, run
    assert run.stdout == f"killing myself with {int(sig)}\n", run
    assert "limit" not in run.stderr, run
    res = assert_result(run, "signal", exit_code=None, signal=int(sig),
                        signal_name=sig.name)
    assert res["cpu_user_ms"] + res["cpu_system_ms"] < 5000, res
    assert_recorded(hb, res, "signal")


def test_memory_limit_fails_the_allocation(hb):
    """RLIMIT_AS: the allocation fails and Python raises MemoryError; the
    script then exits on its own, so the reason is honestly "exit"."""
    policy = hb.policy("[execution]\nmemory_mb = 64\n")

    run = hb.run("memory_hog.py", "128", policy=policy)

    assert run.rc == 3, run
    assert run.stdout == f"RLIMIT_AS {64 * MIB} {64 * MIB}\nMemoryError\n"
    res = assert_result(run, "exit", exit_code=3, signal=None)
    assert res["limits"]["memory_mb"]["value"] == 64
    assert "RLIMIT_AS" in res["limits"]["memory_mb"]["enforced_by"]
    assert res["peak_rss_kb"] < 64 * 1024, res
    assert_recorded(hb, res, "exit")

    # Below the limit the same script gets its memory.
    run = hb.run("memory_hog.py", "16", policy=policy)
    assert run.rc == 0, run
    assert run.stdout.endswith("allocated 16 MiB\n"), run
    res = assert_result(run, "exit", exit_code=0)
    assert res["peak_rss_kb"] >= 16 * 1024, res


def test_memory_limit_bounds_the_sandbox_total(hb):
    """Three processes of 30 MiB each stay within their own RLIMIT_AS of
    64 MiB, but not their total: the supervisor ends the sandbox."""
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
    assert uid == sandbox_uid(run.pid), run
    # The children outlived the script; none may outlive the run.  Only
    # this run's uid is checked: other sandboxes may run on this machine.
    assert processes_of_uid(uid) == []


@needs_root
def test_host_root_is_refused_as_it_would_lift_max_processes(hb):
    """The kernel does not count host root's processes against
    RLIMIT_NPROC, so under host_uid = root a fork loop made 50 children
    where max_processes allowed 4.  A sampled count would be outrun, so
    the run is refused before anything starts, with one line that names
    both settings and what to change; the trail records no run."""
    policy = hb.policy("[execution]\nmax_processes = 4\n"
                       "[identity]\nhost_uid = root\n")

    run = hb.run("fork_bomb.py", policy=policy)

    assert_refused(run, r"policy\.ini:6: host_uid = root would leave "
                   r"max_processes = 4 \(\S*policy\.ini:4\) unenforced: "
                   r"the kernel does not apply RLIMIT_NPROC to host root; "
                   r"set host_uid = auto or a dedicated uid$")
    assert exec_records(hb.audit_dir, default_key()) == []
    assert events(hb.audit_dir, key=default_key()) == []


@needs_root
def test_every_process_is_counted_past_4096(hb):
    """The sampler counted at most 4096 processes, and read at most 4 KiB
    of a parent's list of children (some 700 pids): processes past either
    escaped the count and the whole-sandbox memory sum.  4200 children of
    one process are all counted.  (Each child's RSS counts its shared
    pages again, so memory_mb is set out of the way.)"""
    n = 4200
    policy = hb.policy(f"[execution]\nmax_processes = {n + 10}\n"
                       "memory_mb = 1048576\ntimeout_seconds = 120\n"
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

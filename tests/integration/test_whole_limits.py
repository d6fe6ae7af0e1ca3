"""Limits that bound the whole sandbox, not each process, and a run that
ends on one of them says which, in the three places an administrator
reads: the --result reason, the end record, and `audit stats`."""
import json
import signal

import pytest

from conftest import assert_result, needs_userns
from test_audit import audit, default_key, events, exec_records
from test_limits import file_size_setup

pytestmark = needs_userns


def assert_ended_by(hb, run, reason, violation):
    """The run ended for reason: its result says so, its one end record
    says so, `audit stats` counts it under that reason, and the limit is
    its one violation event."""
    res = run.result
    assert res is not None and res["reason"] == reason, run
    ends = [r for r in exec_records(hb.audit_dir, default_key())
            if r["type"] == "end" and r["exec_id"] == res["exec_id"]]
    assert len(ends) == 1, ends
    assert ends[0]["result"]["reason"] == reason, ends[0]
    stats = audit(hb, "stats", hb.audit_dir, "--json")
    assert stats.rc == 0, stats
    by_reason = json.loads(stats.stdout)["by_reason"]
    assert {k: v for k, v in by_reason.items() if v} == {reason: 1}, \
        by_reason
    evs = [e["kind"] for e in events(hb.audit_dir, res["exec_id"],
                                     default_key())
           if e["severity"] == "violation"]
    assert evs == ([violation] if violation else []), evs
    return res


# ------------------------------------------------------------------ CPU

@pytest.mark.parametrize("mode", ["procs", "threads", "waited", "orphans"])
def test_cpu_seconds_is_the_whole_sandboxs_budget(hb, mode):
    """No process reaches cpu_seconds = 1 by itself (short-lived ones
    spend 0.3 s each; the long-lived ones ignore SIGXCPU and share the
    machine with the others), yet together they pass it: the supervisor
    kills the sandbox, whether the CPU is spent in living processes, in
    threads, in children their parent waited for, or in orphans the
    sandbox init reaped.  Without it the run would end at the timeout."""
    # RLIMIT_NPROC counts threads: room for the 8 of them.
    policy = hb.policy("[execution]\ncpu_seconds = 1\n"
                       "timeout_seconds = 120\nmax_processes = 32\n")

    run = hb.run("cpu_many.py", mode, policy=policy, timeout=180)

    assert run.rc == 128 + signal.SIGKILL, run
    assert run.stdout.startswith(f"started {mode}\n"), run
    res = assert_result(run, "cpu_limit", exit_code=None,
                        signal=int(signal.SIGKILL), signal_name="SIGKILL")
    assert_ended_by(hb, run, "cpu_limit", "cpu_limit")
    assert res["cpu_total_ms"] >= 1000, res
    assert "whole sandbox" in res["limits"]["cpu_seconds"]["enforced_by"]
    assert "cpu_limit" in run.stderr, run
    assert "cpu_seconds" in res["limits_hit"], res


# ------------------------------------------------- one reason per run

def test_timeout_is_one_reason(hb):
    policy = hb.policy("[execution]\ntimeout_seconds = 1\n")

    run = hb.run("sleeper.py", "60", policy=policy)

    assert run.rc == 124, run
    res = assert_ended_by(hb, run, "timeout", "timeout")
    assert res["limits_hit"] == [], res


def test_memory_limit_is_one_reason(hb):
    """Three processes of 30 MiB, each within memory_mb, pass the
    sandbox's 64 MiB together."""
    policy = hb.policy("[execution]\nmemory_mb = 64\n")

    run = hb.run("memory_spread.py", "3", "30", policy=policy)

    assert run.rc == 128 + signal.SIGKILL, run
    res = assert_ended_by(hb, run, "memory_limit", "memory_limit")
    assert "memory_mb" in res["limits_hit"], res


@pytest.mark.parametrize("chunk_mib", [1, 16])
def test_memory_limit_stops_four_growing_processes(hb, chunk_mib):
    """Four processes grow in chunks: the supervisor ends the sandbox on
    their total, with memory_limit, whatever the chunk size.  (How far
    past it is a scripts/bench-limits figure, not asserted here.)  None
    meets the backstop (RLIMIT_AS, 1224 MiB) first, even with the
    supervisor starved of CPU: four of them pass 200 MiB long before."""
    policy = hb.policy("[execution]\nmemory_mb = 200\n")

    run = hb.run("alloc_chunks.py", str(chunk_mib), "4", "hold",
                 policy=policy)

    assert run.rc == 128 + signal.SIGKILL, run
    res = assert_ended_by(hb, run, "memory_limit", "memory_limit")
    assert res["peak_memory_kb"] > 200 * 1024, res
    assert "memory_mb" in res["limits_hit"], res


def test_one_large_buffer_ends_as_memory_limit(hb):
    """One 1 GiB buffer under memory_mb = 200: within the backstop
    (RLIMIT_AS = 1224 MiB), so the allocation succeeds, and the
    supervisor, which saw the request, samples fast while it is filled
    and kills the sandbox on its way past 200 MiB.  The script never sees
    a MemoryError, and never finishes the buffer."""
    policy = hb.policy("[execution]\nmemory_mb = 200\n")

    run = hb.run("memory_hog.py", "1024", policy=policy)

    assert run.rc == 128 + signal.SIGKILL, run
    assert run.stdout == f"RLIMIT_AS {1224 << 20} {1224 << 20}\n", run
    res = assert_ended_by(hb, run, "memory_limit", "memory_limit")
    assert res["peak_memory_kb"] > 200 * 1024, res
    assert "memory_mb" in res["limits_hit"], res
    assert "passed 200 MiB" in run.stderr, run


def test_a_request_past_the_backstop_ends_as_memory_limit(hb):
    """A 2 GiB buffer under memory_mb = 64 is more than the backstop
    (RLIMIT_AS = 1088 MiB) lets any process map.  The kernel would fail
    it (MemoryError, an ordinary exit 1); the supervisor, which sees
    every request over 64 MiB, ends the run first: memory_limit, and the
    script never sees the MemoryError."""
    policy = hb.policy("[execution]\nmemory_mb = 64\n")

    run = hb.run("memory_hog.py", "2048", policy=policy)

    assert run.rc == 128 + signal.SIGKILL, run
    assert run.stdout == f"RLIMIT_AS {1088 << 20} {1088 << 20}\n", run
    res = assert_ended_by(hb, run, "memory_limit", "memory_limit")
    assert "memory_mb" in res["limits_hit"], res
    assert "backstop" in res["limits"]["memory_mb"]["enforced_by"], res
    assert "asking for 2048 MiB of address space" in run.stderr, run
    assert "past the backstop of 1088 MiB" in run.stderr, run
    ev = [e for e in events(hb.audit_dir, res["exec_id"], default_key())
          if e["kind"] == "memory_limit"]
    assert len(ev) == 1 and "backstop" in ev[0]["message"], ev


def test_eight_threads_within_memory_mb_get_their_memory(hb):
    """Eight threads of 8 MiB each under memory_mb = 64: each thread's
    stack and malloc arena reserve far more address space than they use
    (about 600 MiB here), which the old RLIMIT_AS = memory_mb refused.
    The backstop leaves room for it: the job runs as it does bare."""
    policy = hb.policy("[execution]\nmemory_mb = 128\n"
                       "max_processes = 16\n")

    run = hb.run("threads_alloc.py", "1", "8", "8", policy=policy)

    assert run.rc == 0, run
    assert run.stdout.endswith("held 64 MiB\n"), run
    res = assert_ended_by(hb, run, "exit", None)
    assert res["limits_hit"] == [], res


@pytest.mark.parametrize("chunk_mib", [1, 16])
def test_eight_growing_threads_end_as_memory_limit(hb, chunk_mib):
    """Eight threads grow together until the supervisor stops them on
    the sandbox's total: memory_limit, not a MemoryError in a thread."""
    policy = hb.policy("[execution]\nmemory_mb = 200\n"
                       "max_processes = 16\n")

    run = hb.run("threads_alloc.py", str(chunk_mib), "8", "grow",
                 policy=policy)

    assert run.rc == 128 + signal.SIGKILL, run
    assert "MemoryError" not in run.stdout + run.stderr, run
    res = assert_ended_by(hb, run, "memory_limit", "memory_limit")
    assert res["peak_memory_kb"] > 200 * 1024, res


def test_file_size_limit_is_one_reason(hb):
    out, policy = file_size_setup(hb)

    run = hb.run("file_size.py", "out/big", "4", "default", policy=policy)

    assert run.rc == 128 + signal.SIGXFSZ, run
    assert_ended_by(hb, run, "file_size_limit", "file_size_limit")
    assert (out / "big").stat().st_size == 2 * 1024 * 1024


def test_max_processes_is_hit_though_the_reason_is_exit(hb):
    """fork() fails with EAGAIN at max_processes = 8; the script goes on
    and exits on its own, leaving its children: the reason is exit, and
    limits_hit says which limit it met.  The sandbox init counts the
    threads left when the interpreter ends, before it kills them, so this
    does not depend on a sample."""
    run = hb.run("fork_bomb.py")

    assert run.rc == 0, run
    assert "forks 7\n" in run.stdout, run
    res = assert_ended_by(hb, run, "exit", None)
    assert res["exit_code"] == 0, res
    assert res["limits_hit"] == ["max_processes"], res
    ends = [r for r in exec_records(hb.audit_dir, default_key())
            if r["type"] == "end"]
    assert ends[0]["result"]["limits_hit"] == ["max_processes"], ends


def test_max_open_files_ends_as_exit(hb):
    """open() fails with EMFILE at max_open_files = 64; the script prints
    and exits: the reason stays exit.  Whether limits_hit names the limit
    depends on a sample seeing the descriptors held (hivebox(1) LIMITS),
    so only a false report is an error here."""
    run = hb.run("open_files.py")

    assert run.rc == 0, run
    assert run.stdout == "EMFILE 64\n", run
    res = assert_ended_by(hb, run, "exit", None)
    assert set(res["limits_hit"]) <= {"max_open_files"}, res


def test_a_run_within_its_limits_hits_none(hb):
    run = hb.run("hello.py")

    assert run.rc == 0, run
    res = assert_ended_by(hb, run, "exit", None)
    assert res["limits_hit"] == [], res

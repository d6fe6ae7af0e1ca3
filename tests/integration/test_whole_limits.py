"""Limits that bound the whole sandbox, not each process, and a run that
ends on one of them says which, in the three places an administrator
reads: the --result reason, the end record, and `audit stats`."""
import json
import signal

import pytest

from conftest import assert_result, needs_userns
from test_audit import audit, default_key, events, exec_records

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
    # RLIMIT_NPROC counts threads, and RLIMIT_AS each thread's stack and
    # malloc arena: room for the 8 of them.
    policy = hb.policy("[execution]\ncpu_seconds = 1\n"
                       "timeout_seconds = 120\nmax_processes = 32\n"
                       "memory_mb = 1024\n")

    run = hb.run("cpu_many.py", mode, policy=policy, timeout=180)

    assert run.rc == 128 + signal.SIGKILL, run
    assert run.stdout.startswith(f"started {mode}\n"), run
    res = assert_result(run, "cpu_limit", exit_code=None,
                        signal=int(signal.SIGKILL), signal_name="SIGKILL")
    assert_ended_by(hb, run, "cpu_limit", "cpu_limit")
    assert res["cpu_total_ms"] >= 1000, res
    assert "whole sandbox" in res["limits"]["cpu_seconds"]["enforced_by"]
    assert "cpu_limit" in run.stderr, run

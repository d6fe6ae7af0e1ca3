"""Signals sent to hivebox itself (hivebox(1) SIGNALS): what it passes on
to the sandbox, what it ignores, and what ends its wait for alert
commands.  Each test runs hivebox in the background, signals it, and
checks the exit status, the result and the audit records."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import GRACE_S, HIVEBOX, Hivebox, needs_userns, proc_status
from test_audit import EXEC_LOG, default_key, events, exec_records

pytestmark = needs_userns


class Background:
    """hivebox --result FILE --policy POLICY SCRIPT ARGS, started and left
    running.  In a process group of its own within the test's session,
    so that a stop signal is not discarded as it would be in an orphaned
    group."""

    def __init__(self, hb: Hivebox, script: str, *args, policy: Path):
        self.result_path = hb.result_file()
        argv = ([str(HIVEBOX)] + hb.audit_options(["run"]) +
                ["--result", str(self.result_path), "--policy", str(policy),
                 hb.script(script), *args])
        self.start = time.monotonic()
        self.proc = subprocess.Popen(
            argv, cwd=hb.dir, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            process_group=0)
        self.pid = self.proc.pid

    def line(self) -> str:
        return self.proc.stdout.readline()

    def signal(self, sig: int):
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> tuple:
        """(exit status, stdout, stderr, seconds since the start); fails
        the test if hivebox does not end within timeout."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            out, err = self.proc.communicate(timeout=30)
            pytest.fail(f"hivebox did not end within {timeout} s: "
                        f"stdout={out!r} stderr={err!r}")
        return (self.proc.returncode, out, err,
                time.monotonic() - self.start)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()

    def result(self) -> dict:
        return json.loads(self.result_path.read_text())


@pytest.fixture
def background(hb):
    started = []

    def start(*args, **kwargs) -> Background:
        run = Background(hb, *args, **kwargs)
        started.append(run)
        return run
    yield start
    for run in started:
        run.kill()
        run.proc.communicate(timeout=30)


def end_record(hb: Hivebox, exec_id: str) -> dict:
    (end,) = [r for r in exec_records(hb.audit_dir, default_key())
              if r["type"] == "end" and r["exec_id"] == exec_id]
    return end


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM,
                                 signal.SIGHUP, signal.SIGUSR1])
def test_a_forwarded_signal_ends_the_script(hb, background, sig):
    """hivebox passes the signal on to every process in the sandbox; the
    script dies of it, and hivebox exits as the script did."""
    run = background("sleeper.py", "30", policy=hb.policy())
    assert run.line() == "sleeping 30\n"

    run.signal(sig)
    rc, out, _, elapsed = run.wait(timeout=10)

    assert rc == 128 + sig, (rc, out)
    assert out == "", out
    assert elapsed < 10
    res = run.result()
    assert res["reason"] == "signal", res
    assert res["signal"] == sig and res["signal_name"] == sig.name, res
    assert res["hivebox_exit_code"] == rc, res
    end = end_record(hb, res["exec_id"])
    assert end["result"]["reason"] == "signal", end
    assert end["result"]["signal"] == sig, end


def end_written(hb: Hivebox) -> bool:
    """Whether an end record is in the log yet (read while hivebox may be
    writing: only whole lines count)."""
    path = hb.audit_dir / EXEC_LOG
    if not path.exists():
        return False
    for line in path.read_bytes().split(b"\n"):
        try:
            if json.loads(line)["type"] == "end":
                return True
        except ValueError:
            continue
    return False


def alive(pid: int) -> bool:
    status = proc_status(pid)
    return status is not None and not status["State"].startswith("Z")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_wait_for_alert_commands(hb, background, sig):
    """The run is over and its end record written; hivebox waits up to
    alert_timeout_seconds for a slow alert command.  SIGTERM or SIGINT
    ends that wait at once: the command is killed, which is recorded, and
    hivebox exits as the run said, with its result written."""
    out = hb.mkdir("alerts")
    command = hb.dir / "alert.sh"
    command.write_text(f'#!/bin/sh\necho $$ > "{out}/pid"\nexec sleep 60\n')
    command.chmod(0o755)
    policy = hb.policy("[execution]\nmemory_mb = 200\n"
                       "[monitoring]\nmemory_usage_alert = 50\n"
                       f"alert_command = {command}\n"
                       "alert_timeout_seconds = 60\n")
    run = background("memory_hold.py", "120", "0.5", policy=policy)
    pid = None
    try:
        deadline = time.monotonic() + 20
        while not end_written(hb) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert end_written(hb), "the run did not end"
        pid = int((out / "pid").read_text())
        assert alive(pid), "the alert command is not running"
        time.sleep(0.2)
        assert run.proc.poll() is None, "hivebox did not wait"

        signalled = time.monotonic()
        run.signal(sig)
        rc, stdout, stderr, _ = run.wait(timeout=10)

        assert time.monotonic() - signalled < 5, stderr
        assert rc == 0, stderr
        assert stdout == "holding 120 MiB\nreleased\n", stdout
        assert not alive(pid), f"alert command {pid} lives on"
        res = run.result()
        assert res["reason"] == "exit" and res["exit_code"] == 0, res
        assert res["hivebox_exit_code"] == 0, res
        assert res["alerts"] == 1, res
        end = end_record(hb, res["exec_id"])
        assert end["result"]["reason"] == "exit", end
        assert end["alerts"] == 1, end
        evs = events(hb.audit_dir, res["exec_id"], key=default_key())
        assert [(e["kind"], e["severity"]) for e in evs] == [
            ("memory_usage_alert", "alert"),
            ("alert_command_failed", "error")], evs
        assert evs[1]["message"] == (
            f"alert command {command} for memory_usage_alert killed: "
            f"hivebox got {sig.name}"), evs
        assert f"hivebox got {sig.name}" in stderr, stderr
    finally:
        if pid is not None and alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_ctrl_z_does_not_stop_hivebox(hb, background):
    """SIGTSTP (Ctrl-Z), SIGTTIN and SIGTTOU are ignored: the supervisor
    is not stopped while the sandbox, in a session of its own, runs on, and
    the timeout fires on time."""
    policy = hb.policy("[execution]\ntimeout_seconds = 2\n")
    run = background("sleeper.py", "30", policy=policy)
    assert run.line() == "sleeping 30\n"

    for sig in (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
        run.signal(sig)
    time.sleep(0.5)
    state = proc_status(run.pid)["State"]
    assert not state.startswith("T"), f"hivebox is {state}"
    rc, out, err, elapsed = run.wait(timeout=2 + GRACE_S + 10)

    assert rc == 124, err
    assert out == "", out
    assert elapsed < 2 + GRACE_S + 5, elapsed
    res = run.result()
    assert res["reason"] == "timeout", res
    assert res["hivebox_exit_code"] == 124, res
    end = end_record(hb, res["exec_id"])
    assert end["result"]["reason"] == "timeout", end
    assert end["violations"] == 1, end
    evs = events(hb.audit_dir, res["exec_id"], key=default_key())
    assert [(e["kind"], e["severity"]) for e in evs] == [
        ("timeout", "violation")], evs

"""Signals sent to hivebox itself (hivebox(1) SIGNALS): what it passes on
to the sandbox, what it ignores, and what ends its wait for alert
commands.  Each test runs hivebox in the background, signals it, and
checks the exit status, the result and the audit records."""
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import HIVEBOX, Hivebox, needs_userns
from test_audit import default_key, exec_records

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

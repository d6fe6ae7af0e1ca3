"""hivebox replay EXEC_ID: a recorded run found in the trail and run
again under its stored policy snapshot, or refused with one line and
exit 125 when the trail cannot be trusted to say what ran."""
import fcntl
import hashlib
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import termios
import threading
from pathlib import Path

import test_audit
import test_shell

from conftest import (EXIT_HIVEBOX, FIXTURES, HIVEBOX, Hivebox, descendants,
                      json_lines, proc_starttime)

EXEC_LOG = "execution_audit.log"
SEC_LOG = "security_events.log"


def records(hb: Hivebox) -> list:
    return json_lines(hb.audit_dir / EXEC_LOG)


def start_of(hb: Hivebox, exec_id: str) -> dict:
    (rec,) = [r for r in records(hb)
              if r["type"] == "start" and r["exec_id"] == exec_id]
    return rec


def replay(hb: Hivebox, exec_id: str, *options, cwd=None):
    """hivebox replay, from a directory other than the run's: replay
    starts the run where the original started."""
    return hb.run_argv(["replay", exec_id, "--audit-dir", hb.audit_dir,
                        *options], cwd=cwd or "/")


def replays_of(hb: Hivebox, exec_id: str) -> list:
    return [r for r in records(hb)
            if r["type"] == "start" and r.get("replay_of") == exec_id]


def assert_refused(run, *words):
    """One line on stderr, exit 125, nothing run."""
    assert run.rc == EXIT_HIVEBOX, run
    lines = run.stderr_lines()
    assert len(lines) == 1, run
    assert lines[0].startswith("hivebox: "), run
    for w in words:
        assert w in lines[0], run
    assert run.stdout == "", run


def exited_3(hb: Hivebox) -> str:
    run = hb.run("exit_code.py", "3")
    assert run.rc == 3, run
    return run.result["exec_id"]


def test_a_run_that_exited_3_replays_to_3(hb):
    exec_id = exited_3(hb)
    original = start_of(hb, exec_id)

    run = replay(hb, exec_id[:8])
    assert run.rc == 3, run
    assert "exiting with 3\n" in run.stdout, run
    (rec,) = replays_of(hb, exec_id)
    # The same script, arguments and start directory, under a policy
    # with the same identity as the original's.
    assert rec["cwd"] == original["cwd"] == str(hb.dir), rec
    assert rec["script"] == original["script"], rec
    assert rec["command"] == original["command"], rec
    assert rec["policy"]["effective_sha256"] == \
        original["policy"]["effective_sha256"], rec
    # The comparison: both columns.
    rows = {line.split()[0] + (" " + line.split()[1]
                               if line.split()[1] in ("id", "code", "calls",
                                                      "time") else ""):
            line for line in run.stdout.splitlines()[1:] if line.strip()}
    assert exec_id in rows["exec id"] and rec["exec_id"] in rows["exec id"]
    assert rows["exit code"].split()[2:] == ["3", "3"], run
    assert rows["reason"].split()[1:] == ["exit", "exit"], run
    assert "wall time" in run.stdout and "CPU time" in run.stdout, run


def test_a_denied_call_replays_with_the_same_violation(hb):
    run = hb.run("syscall_try.py", "mount")
    assert run.rc == 0 and run.result["violations"] == 1, run
    exec_id = run.result["exec_id"]

    again = replay(hb, exec_id)
    assert again.rc == 0, again
    (rec,) = replays_of(hb, exec_id)
    events = [e for e in json_lines(hb.audit_dir / SEC_LOG)
              if e.get("exec_id") == rec["exec_id"]]
    kinds = [e["kind"] for e in events if e["severity"] == "violation"]
    assert kinds == ["syscall_denied"], events
    (violations,) = [line for line in again.stdout.splitlines()
                     if line.startswith("violations")]
    assert violations.split()[1:] == ["syscall_denied", "1",
                                      "syscall_denied", "1"], again.stdout
    (denied,) = [line for line in again.stdout.splitlines()
                 if line.startswith("denied calls")]
    assert denied.split()[2:] == ["mount", "1", "mount", "1"], again.stdout


def test_an_edited_script_is_refused_then_forced(hb):
    exec_id = exited_3(hb)
    script = hb.dir / "exit_code.py"
    old = hashlib.sha256(script.read_bytes()).hexdigest()
    script.write_text("import sys\nprint('edited', flush=True)\n"
                      "sys.exit(int(sys.argv[1]) + 1)\n")
    new = hashlib.sha256(script.read_bytes()).hexdigest()

    run = replay(hb, exec_id)
    assert_refused(run, str(script), old, new, "--force")
    assert replays_of(hb, exec_id) == []

    forced = replay(hb, exec_id, "--force")
    assert forced.rc == 4, forced
    assert "edited\n" in forced.stdout, forced
    assert "--force" in forced.stderr and new in forced.stderr, forced
    (rec,) = replays_of(hb, exec_id)
    assert rec["script"]["sha256"] == new, rec


def test_kept_environment_variables_are_named_missing(hb):
    pol = hb.policy("[environment]\nkeep = HB_REPLAY_PROBE\n")
    run = hb.run("env_dump.py", policy=pol,
                 env={**os.environ, "HB_REPLAY_PROBE": "original"})
    assert run.rc == 0, run
    assert run.json().get("HB_REPLAY_PROBE") == "original", run

    again = hb.run_argv(["replay", run.result["exec_id"], "--audit-dir",
                         hb.audit_dir], cwd="/",
                        env={**os.environ, "HB_REPLAY_PROBE": "replayer"})
    assert again.rc == 0, again
    assert "missing in the replay: HB_REPLAY_PROBE" in again.stderr, again
    # Not the replayer's value passed off as the original's.
    dumped = json.loads(again.stdout.splitlines()[0])
    assert "HB_REPLAY_PROBE" not in dumped, again


# ------------------------------------------------------- bad input: 125


def test_an_unknown_id_is_refused(hb):
    exited_3(hb)
    assert_refused(replay(hb, "ffffffff-no-such"), "no run",
                   "ffffffff-no-such")


def test_an_ambiguous_prefix_is_refused(hb):
    # Seventeen random ids: two share their first hex digit.
    ids = [hb.run("hello.py").result["exec_id"] for _ in range(17)]
    firsts = [i[0] for i in ids]
    (prefix,) = [c for c in set(firsts) if firsts.count(c) > 1][:1]
    assert_refused(replay(hb, prefix), "ambiguous", repr(prefix))
    assert_refused(replay(hb, ""), "empty exec id")


def test_a_start_without_an_end_is_refused(hb):
    """The launcher killed mid-run: its start record has no end."""
    argv = [str(HIVEBOX), "--audit-dir", str(hb.audit_dir), "--policy",
            str(hb.policy()), hb.script("sleeper.py"), "30"]
    proc = subprocess.Popen(argv, cwd=hb.dir, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    sandbox = []
    try:
        # sleeper.py prints once it runs: the start record is written.
        assert proc.stdout.readline().startswith(b"sleeping 30"), argv
        sandbox = [(pid, proc_starttime(pid))
                   for pid in descendants(proc.pid)]
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        for pid, st in sandbox:
            if proc_starttime(pid) == st:
                os.kill(pid, signal.SIGKILL)
    (rec,) = [r for r in records(hb) if r["pid"] == proc.pid]
    assert rec["type"] == "start", rec
    assert_refused(replay(hb, rec["exec_id"]), rec["exec_id"],
                   "no end record")
    assert replays_of(hb, rec["exec_id"]) == []


def snapshot(hb: Hivebox, exec_id: str) -> Path:
    sha = start_of(hb, exec_id)["policy"]["effective_sha256"]
    return hb.audit_dir / "policies" / f"{sha}.ini"


def test_a_missing_snapshot_is_refused(hb):
    exec_id = exited_3(hb)
    snap = snapshot(hb, exec_id)
    snap.unlink()
    assert_refused(replay(hb, exec_id), exec_id, snap.name, "missing")
    assert replays_of(hb, exec_id) == []


def test_a_tampered_snapshot_is_refused(hb):
    exec_id = exited_3(hb)
    snap = snapshot(hb, exec_id)
    text = snap.read_text()
    assert "timeout_seconds = 20\n" in text, text
    snap.write_text(text.replace("timeout_seconds = 20\n",
                                 "timeout_seconds = 19\n"))
    assert_refused(replay(hb, exec_id), exec_id, snap.name, "altered")
    assert replays_of(hb, exec_id) == []


def test_a_trail_that_does_not_verify_is_refused(hb):
    exec_id = exited_3(hb)
    log = hb.audit_dir / EXEC_LOG
    lines = log.read_text().splitlines(True)
    rec = json.loads(lines[0])
    rec["cwd"] = "/"
    lines[0] = json.dumps(rec, separators=(",", ":")) + "\n"
    log.write_text("".join(lines))
    assert_refused(replay(hb, exec_id), "does not verify")
    assert replays_of(hb, exec_id) == []


def test_help_and_usage(hb):
    run = hb.run_argv(["replay", "--help"])
    assert run.rc == 0 and run.stdout.startswith("Usage: hivebox replay"), \
        run
    run = hb.run_argv(["replay"])
    assert run.rc == EXIT_HIVEBOX and len(run.stderr_lines()) == 1, run


# ------------------------------------------------------- keep_scripts


def test_keep_scripts_replays_the_very_bytes_without_force(hb):
    pol = hb.policy("[audit]\nkeep_scripts = yes\n")
    run = hb.run("exit_code.py", "3", policy=pol)
    assert run.rc == 3, run
    exec_id = run.result["exec_id"]
    script = hb.dir / "exit_code.py"
    old = hashlib.sha256(script.read_bytes()).hexdigest()
    kept = hb.audit_dir / "scripts" / f"{old}.py"
    assert kept.read_bytes() == script.read_bytes()
    assert kept.stat().st_mode & 0o777 == 0o640, oct(kept.stat().st_mode)
    assert start_of(hb, exec_id)["script"]["sha256"] == old

    script.write_text("import sys\nprint('edited', flush=True)\n"
                      "sys.exit(9)\n")
    again = replay(hb, exec_id)
    assert again.rc == 3, again
    assert "exiting with 3\n" in again.stdout, again
    assert "edited" not in again.stdout, again
    assert "the copy the trail kept" in again.stderr, again
    (rec,) = replays_of(hb, exec_id)
    assert rec["script"] == {"path": str(script), "sha256": old}, rec
    # The file itself is as the admin left it.
    assert "edited" in script.read_text()


def test_a_tampered_kept_script_is_refused(hb):
    pol = hb.policy("[audit]\nkeep_scripts = yes\n")
    run = hb.run("exit_code.py", "3", policy=pol)
    exec_id = run.result["exec_id"]
    sha = start_of(hb, exec_id)["script"]["sha256"]
    kept = hb.audit_dir / "scripts" / f"{sha}.py"
    kept.write_text("import sys\nsys.exit(0)\n")
    assert_refused(replay(hb, exec_id), exec_id, kept.name, "altered")
    assert replays_of(hb, exec_id) == []


def test_without_keep_scripts_nothing_is_stored(hb):
    exited_3(hb)
    assert not (hb.audit_dir / "scripts").exists()


def test_keep_scripts_under_a_read_only_path_binds_over_the_file(hb):
    """The script's directory is a policy path: the copy is bound over
    the file there, and the host file is left alone."""
    lib = hb.mkdir("lib")
    pol = hb.policy("[filesystem]\nread_only = lib\n"
                    "[audit]\nkeep_scripts = yes\n")
    (lib / "exit_code.py").write_bytes(
        (FIXTURES / "exit_code.py").read_bytes())
    (lib / "exit_code.py").chmod(0o644)
    run = hb.run_argv(["--policy", pol, "lib/exit_code.py", "5"])
    assert run.rc == 5, run
    exec_id = [r for r in records(hb) if r["type"] == "start"][-1]["exec_id"]
    (lib / "exit_code.py").write_text("import sys\nsys.exit(9)\n")
    again = replay(hb, exec_id)
    assert again.rc == 5, again
    assert "hivebox: replay: read-only paths are as they are now, not as " \
        "the run read them: lib\n" in again.stderr, again
    assert (lib / "exit_code.py").read_text() == "import sys\nsys.exit(9)\n"

    (lib / "exit_code.py").unlink()
    # Refused by the run itself (after the notice that the file changed).
    gone = replay(hb, exec_id)
    assert gone.rc == EXIT_HIVEBOX, gone
    assert "no file there now" in gone.stderr_lines()[-1], gone


# ------------------------------------------------------------ --shell


class ReplayShell(test_shell.Caller):
    """hivebox replay --shell on a terminal of the test's: as
    test_shell.Caller, with replay's command line."""

    def __init__(self, hb: Hivebox, exec_id: str, *options):
        self.master, self.slave = pty.openpty()
        test_shell.set_size(self.master, 30, 100)
        self.before = termios.tcgetattr(self.slave)
        self.out = bytearray()
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        self.argv = [str(HIVEBOX), "replay", exec_id, "--shell",
                     "--audit-dir", str(hb.audit_dir), *options]
        self.proc = subprocess.Popen(
            self.argv, cwd="/", stdin=self.slave, stdout=self.slave,
            stderr=self.slave, start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))


@test_shell.needs_userns
def test_replay_shell_stands_in_the_recorded_sandbox(hb):
    pol = hb.policy("[audit]\nkeep_scripts = yes\n")
    run = hb.run("exit_code.py", "3", policy=pol)
    assert run.rc == 3, run
    exec_id = run.result["exec_id"]
    script = hb.dir / "exit_code.py"
    script.write_text("import sys\nsys.exit(9)\n")

    c = ReplayShell(hb, exec_id)
    try:
        c.expect(re.escape(test_shell.PROMPT.decode()))
        m = c.ask("import sys, os; print('argv', sys.argv, os.getcwd())",
                  r"argv (\[.*?\]) (\S+)")
        assert m.group(1) == repr([str(script), "3"]), c.text()
        assert m.group(2) == str(hb.dir), c.text()
        # The bytes that ran, at the script's path, to run by hand.
        m = c.ask("exec(open(sys.argv[0]).read())", r"exiting with (\d)")
        assert m.group(1) == "3", c.text()
        assert c.wait() == 3, c.text()
    finally:
        c.close()
    (rec,) = replays_of(hb, exec_id)
    assert rec["kind"] == "shell", rec
    assert rec["policy"]["effective_sha256"] == \
        start_of(hb, exec_id)["policy"]["effective_sha256"], rec


def test_replay_shell_needs_a_terminal(hb):
    exec_id = exited_3(hb)
    run = hb.run_argv(["replay", exec_id, "--shell", "--audit-dir",
                       hb.audit_dir], cwd="/")
    assert_refused(run, "terminal")


def test_a_signed_trail_replays_and_still_verifies(hb):
    test_audit.sign(hb)
    exec_id = exited_3(hb)
    run = replay(hb, exec_id)
    assert run.rc == 3, run
    (rec,) = replays_of(hb, exec_id)
    assert "hmac" in rec, rec
    check = test_audit.verify(hb, hb.audit_dir)
    assert check.rc == 0, check


def test_a_refused_run_is_not_replayed(hb):
    """A run refused before it started has no start record: nothing ran,
    so there is nothing to reproduce, and replay says so."""
    policy = hb.policy("[execution]\nmemory_mb = lots\n")
    run = hb.run("hello.py", policy=policy)
    assert run.rc == EXIT_HIVEBOX, run
    exec_id = run.result["exec_id"]
    assert_refused(replay(hb, exec_id), f"cannot replay {exec_id}: it was "
                   "refused before it started", "so nothing ran")
    assert replays_of(hb, exec_id) == []


def test_a_script_gone_since_is_refused(hb):
    exec_id = exited_3(hb)
    script = Path(start_of(hb, exec_id)["script"]["path"])
    script.unlink()
    run = replay(hb, exec_id)
    assert_refused(run, f"script {script}: No such file or directory")
    assert replays_of(hb, exec_id) == []


def test_a_start_directory_gone_since_is_refused(hb):
    """The replay starts where the original started; where that is gone,
    it is refused, not started somewhere else."""
    work = hb.mkdir("work")
    script = hb.dir / hb.script("exit_code.py")
    run = hb.run_argv(["--policy", hb.policy(), script, "3"], cwd=work)
    assert run.rc == 3, run
    (rec,) = [r for r in records(hb) if r["type"] == "start"]
    shutil.rmtree(work)
    out = replay(hb, rec["exec_id"])
    assert_refused(out, f"its start directory {work}: No such file")
    assert replays_of(hb, rec["exec_id"]) == []

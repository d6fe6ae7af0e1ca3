"""hivebox shell (hivebox(1) "SHELL"; launcher/pty.c): an interactive
prompt in the policy's sandbox, on a pty of its own that the supervisor
relays to the caller's terminal.

Each test plays the caller's terminal with a pty pair: hivebox runs in a
session of its own with the slave as its controlling terminal and stdin,
stdout and stderr, as under an interactive shell; a thread of the test
reads the master side, which is the screen, and the test types by
writing to it.  The caller's settings are read on the slave before and
after: hivebox makes them raw for the session and must put them back
whatever ended it."""
import fcntl
import json
import os
import platform
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from pathlib import Path

import pytest

from conftest import HIVEBOX, Hivebox, descendants, needs_userns
from test_audit import default_key, events, exec_records

pytestmark = [
    needs_userns,
    pytest.mark.skipif(platform.machine() != "x86_64",
                       reason="the policies name x86_64 system calls"),
]

EXIT_FAILED = 125
EXIT_TIMEOUT = 124
PROMPT = b">>> "
WAIT_S = 20  # for an answer; generous on a loaded 2-core machine


def set_size(fd: int, rows: int, cols: int):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class Caller:
    """The caller's terminal: hivebox on the slave, the test at the
    master."""

    def __init__(self, hb: Hivebox, *args, policy=None, rows=30, cols=100):
        self.master, self.slave = pty.openpty()
        set_size(self.master, rows, cols)
        self.before = termios.tcgetattr(self.slave)
        self.out = bytearray()
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        policy = policy or hb.policy()
        self.argv = [str(HIVEBOX), "shell", "--audit-dir", str(hb.audit_dir),
                     "--policy", str(policy), *map(str, args)]
        slave = self.slave
        self.proc = subprocess.Popen(
            self.argv, cwd=hb.dir, stdin=slave, stdout=slave, stderr=slave,
            start_new_session=True,
            # The slave becomes hivebox's controlling terminal, and its
            # group the foreground one: SIGWINCH reaches it.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))

    def _read(self):
        while not self.done.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.out += data

    def text(self) -> str:
        with self.lock:
            return self.out.decode(errors="replace")

    def expect(self, pattern: str, after: int = 0,
               timeout: float = WAIT_S) -> re.Match:
        """Wait for pattern in what the screen showed past offset after."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.text()[after:])
            if m:
                return m
            if self.proc.poll() is not None:
                time.sleep(0.2)
                m = re.search(pattern, self.text()[after:])
                if m:
                    return m
                break
            time.sleep(0.05)
        pytest.fail(f"no {pattern!r} on the screen (hivebox "
                    f"{self.proc.poll()}); it shows:\n{self.text()}")

    def mark(self) -> int:
        return len(self.text())

    def type(self, text: str):
        os.write(self.master, text.encode())

    def ask(self, line: str, pattern: str) -> re.Match:
        """Type a line at the prompt; the answer's match."""
        at = self.mark()
        self.type(line + "\r")
        return self.expect(pattern, at)

    def wait(self, timeout: float = WAIT_S) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"hivebox did not end; the screen:\n{self.text()}")

    def settings(self) -> list:
        return termios.tcgetattr(self.slave)

    def sandbox_init(self) -> int:
        """The sandbox's PID 1: hivebox's child."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            kids = descendants(self.proc.pid)
            if kids:
                return kids[0]
            time.sleep(0.05)
        pytest.fail("no sandbox init under hivebox")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.done.set()
        self.thread.join(timeout=5)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def shell(hb):
    """Caller(...) factory; every caller is closed, hivebox killed if
    still there."""
    made = []

    def make(*args, **kwargs):
        c = Caller(hb, *args, **kwargs)
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def shell_records(hb: Hivebox) -> list:
    recs = [r for r in exec_records(hb.audit_dir, default_key())
            if r.get("kind") == "shell"]
    assert recs, "no records of kind shell"
    return recs


def test_prompt_answers_and_exits(hb, shell):
    """Typed at the prompt, answered; sys.argv[1:] is ARGS and the working
    directory the start directory; exit() ends hivebox with 0 and the
    caller's settings as they were."""
    c = shell("--", "a1", "b 2")
    c.expect(re.escape(PROMPT.decode()))
    raw = c.settings()
    assert not raw[3] & termios.ICANON and not raw[3] & termios.ECHO, \
        "the caller's terminal is not raw during the session"
    m = c.ask("import sys, os; print('answer', 6 * 7, sys.argv[1:], "
              "os.getcwd(), os.isatty(0))", r"answer (\d+) (\[.*?\]) (\S+) "
              r"(True|False)")
    assert m.group(1) == "42"
    assert m.group(2) == "['a1', 'b 2']"
    assert m.group(3) == str(hb.dir)
    assert m.group(4) == "True"
    c.type("exit()\r")
    assert c.wait() == 0, c.text()
    assert c.settings() == c.before
    start, end = [r for r in shell_records(hb)]
    assert start["type"] == "start" and end["type"] == "end"
    assert start["exec_id"] == end["exec_id"]
    assert start["script"] is None
    assert start["command"][-5:] == ["-i", "-c", "", "a1", "b 2"]
    assert start["limits"]["timeout_seconds"] == 20  # the policy's own
    assert end["result"]["reason"] == "exit"
    assert end["result"]["exit_code"] == 0


def test_sandbox_is_the_policys(hb, shell):
    """The same sandbox a script gets: its own PID namespace and hostname,
    and no network; its terminal is its own pty, into which TIOCSTI is
    still denied, and recorded as a violation."""
    c = shell()
    c.expect(re.escape(PROMPT.decode()))
    m = c.ask("import os, socket; print('ns', os.getpid(), "
              "socket.gethostname())", r"ns (\d+) (\S+)")
    assert int(m.group(1)) < 10, "not in a PID namespace of its own"
    assert m.group(2) == "hivebox"
    m = c.ask("import fcntl, termios\r"
              "try:\r fcntl.ioctl(0, termios.TIOCSTI, b'x')\r"
              "except OSError as e:\r print('sti', e.errno)\r",
              r"sti (\d+)")
    assert int(m.group(1)) != 0
    c.type("exit()\r")
    assert c.wait() == 0, c.text()
    exec_id = shell_records(hb)[0]["exec_id"]
    requests = [e["details"].get("request")
                for e in events(hb.audit_dir, exec_id, default_key())
                if e["kind"] == "syscall_denied" and
                e["details"]["syscall"] == "ioctl"]
    # The line editor's settings on its own pty are no violations.
    assert requests == ["TIOCSTI"], requests


def test_window_size_follows_sigwinch(hb, shell):
    c = shell(rows=30, cols=100)
    c.expect(re.escape(PROMPT.decode()))
    m = c.ask("import os; print('size', *os.get_terminal_size())",
              r"size (\d+) (\d+)")
    assert (m.group(1), m.group(2)) == ("100", "30")
    # The kernel sends SIGWINCH to hivebox, the foreground group.
    set_size(c.master, 45, 123)
    deadline = time.monotonic() + WAIT_S
    while True:
        m = c.ask("print('size', *os.get_terminal_size())",
                  r"size (\d+) (\d+)")
        if (m.group(1), m.group(2)) == ("123", "45"):
            break
        assert time.monotonic() < deadline, c.text()
        time.sleep(0.2)
    c.type("exit()\r")
    assert c.wait() == 0


def test_ctrl_c_interrupts_without_ending(hb, shell):
    c = shell()
    c.expect(re.escape(PROMPT.decode()))
    at = c.mark()
    c.type("print('loop'); n = 0\r")
    c.expect("loop", at)
    c.type("while True: n += 1\r\r")
    time.sleep(1)
    at = c.mark()
    c.type("\x03")
    c.expect("KeyboardInterrupt", at)
    c.ask("print('alive', n > 0)", r"alive True")
    # Ctrl-Z: a SIGTSTP to a group with no job-control parent, which the
    # kernel drops; the prompt must not be left stopped.
    c.type("\x1a")
    c.ask("print('still', 1 + 1)", r"still 2")
    assert c.proc.poll() is None
    c.type("exit()\r")
    assert c.wait() == 0
    assert c.settings() == c.before


def test_ctrl_d_ends_the_session(hb, shell):
    c = shell()
    c.expect(re.escape(PROMPT.decode()))
    c.type("\x04")
    assert c.wait() == 0, c.text()
    assert c.settings() == c.before


def test_sandbox_killed_terminal_restored(hb, shell):
    """SIGKILL of the sandbox's init: the session ends, hivebox says so
    and puts the caller's terminal back."""
    c = shell()
    c.expect(re.escape(PROMPT.decode()))
    assert c.settings() != c.before
    os.kill(c.sandbox_init(), signal.SIGKILL)
    code = c.wait()
    assert c.settings() == c.before
    end = shell_records(hb)[-1]
    assert end["type"] == "end"
    # Killed from outside, as for a script: hivebox's 125, and the end
    # record says the init ended unexpectedly.
    assert code == EXIT_FAILED, c.text()
    assert end["result"]["reason"] == "setup_error", end
    assert end["result"]["setup_error"]["what"] == \
        "the sandbox init ended unexpectedly", end


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_hivebox_signalled_terminal_restored(hb, shell, sig):
    c = shell()
    c.expect(re.escape(PROMPT.decode()))
    os.kill(c.proc.pid, sig)
    assert c.wait() == 128 + sig
    assert c.settings() == c.before
    end = shell_records(hb)[-1]
    assert end["type"] == "end"
    assert end["result"]["reason"] == "signal"


def test_record_is_asciicast(hb, shell):
    cast = hb.dir.parent / (hb.dir.name + "-session.cast")
    c = shell("--record", cast, rows=33, cols=91)
    c.expect(re.escape(PROMPT.decode()))
    c.ask("print('caf\\u00e9', 'x' * 3)", r"café xxx")
    c.type("exit()\r")
    assert c.wait() == 0
    lines = cast.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 2
    assert (header["width"], header["height"]) == (91, 33)
    assert abs(header["timestamp"] - time.time()) < 120
    events_ = [json.loads(line) for line in lines[1:]]
    assert events_, "no events"
    times = [e[0] for e in events_]
    assert times == sorted(times)
    assert all(e[1] in ("o", "r") and isinstance(e[2], str)
               for e in events_)
    shown = "".join(e[2] for e in events_ if e[1] == "o")
    assert "café xxx" in shown
    assert shown.startswith(">>> ")
    # What a player replays is what the screen showed.
    assert "café xxx" in c.text()
    cast.unlink()


def test_record_refused_where_the_sandbox_writes(hb):
    out = hb.mkdir("out", 0o777)
    policy = hb.policy(f"[filesystem]\nread_write = {out}\n")
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [HIVEBOX, "shell", "--audit-dir", hb.audit_dir, "--policy",
             policy, "--record", out / "t.cast"],
            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, timeout=60, cwd=hb.dir)
    finally:
        os.close(master)
        os.close(slave)
    assert proc.returncode == EXIT_FAILED
    assert "transcript" in proc.stderr and "record it elsewhere" in \
        proc.stderr, proc.stderr
    assert not (out / "t.cast").exists()


def test_record_into_a_missing_directory_is_refused(hb):
    """Nothing starts when the transcript cannot be written: a session
    whose recording was asked for is never run unrecorded."""
    target = hb.dir / "no-such-dir" / "t.cast"
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [HIVEBOX, "shell", "--audit-dir", hb.audit_dir, "--policy",
             hb.policy(), "--record", target],
            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, timeout=60, cwd=hb.dir)
    finally:
        os.close(master)
        os.close(slave)
    assert proc.returncode == EXIT_FAILED, proc
    assert proc.stderr.splitlines() == [
        f"hivebox: {target}: cannot write the transcript there: No such "
        "file or directory"], proc.stderr
    assert proc.stdout == ""
    assert not target.parent.exists()
    assert [r for r in exec_records(hb.audit_dir, default_key())
            if r["type"] == "start"] == []


def test_no_terminal_refused(hb):
    proc = subprocess.run(
        [HIVEBOX, "shell", "--audit-dir", hb.audit_dir, "--policy",
         hb.policy()], stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=60, cwd=hb.dir)
    assert proc.returncode == EXIT_FAILED
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "needs a terminal on stdin" in lines[0], \
        proc.stderr
    assert proc.stdout == ""


def test_timeout_warns_then_ends(hb, shell):
    """timeout_seconds = 4: the warning comes at half of it, then the
    session is stopped (124) and the terminal put back."""
    policy = hb.policy("[execution]\ntimeout_seconds = 4\n")
    c = shell(policy=policy)
    c.expect(re.escape(PROMPT.decode()))
    c.expect(r"hivebox: this session ends in 2 s \(timeout_seconds = 4")
    assert c.wait() == EXIT_TIMEOUT, c.text()
    assert c.settings() == c.before
    c.expect(r"the shell session was stopped after 4 s")
    end = shell_records(hb)[-1]
    assert (end["type"], end["result"]["reason"]) == ("end", "timeout"), end
    evs = [e["kind"] for e in events(hb.audit_dir, end["exec_id"],
                                     default_key())
           if e["severity"] == "violation"]
    assert evs == ["timeout"], evs


def test_default_timeout_is_an_hour(hb):
    """A policy that sets no timeout_seconds: a session gets 3600 s, a
    script the policy's default."""
    policy = hb.policy("[execution]\nmemory_mb = 256\n", extends=None,
                       name="bare.ini")
    shell_plan = subprocess.run(
        [HIVEBOX, "shell", "--dry-run", "--policy", policy],
        capture_output=True, text=True, timeout=60, cwd=hb.dir)
    assert shell_plan.returncode == 0, shell_plan.stderr
    assert "timeout: 3600000 ms" in shell_plan.stdout
    assert "-i -c" in shell_plan.stdout
    script_plan = subprocess.run(
        [HIVEBOX, "--dry-run", "--policy", policy, hb.script("hello.py")],
        capture_output=True, text=True, timeout=60, cwd=hb.dir)
    assert "timeout: 300000 ms" in script_plan.stdout, script_plan.stdout

"""[audit] forward: each audit and security record also goes out as one
structured message.  The test binds a unix datagram listener of its own
and runs hivebox in a mount namespace where /dev/log (or the journal's
socket) is that listener: a tmpfs over /dev there holds the few device
nodes a run needs and a bind mount of the listener.  The host's /dev and
/run are never touched."""
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import POLICIES, json_lines, needs_root

pytestmark = needs_root

SO_SNDBUFFORCE = 32  # socket(7); Python's socket module does not name it

# The mount namespace: a /dev of its own with the listener as /dev/log;
# for the journal, /run/systemd/journal/socket as well.
DEV = """set -e
mount -t tmpfs -o mode=0755 hbtestdev /dev
mknod -m 666 /dev/null c 1 3; mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/full c 1 7; mknod -m 666 /dev/random c 1 8
mknod -m 666 /dev/urandom c 1 9; mknod -m 666 /dev/tty c 5 0
mkdir /dev/shm /dev/pts; ln -s /proc/self/fd /dev/fd
touch /dev/log; mount --bind "$HB_SYSLOG" /dev/log
if [ -n "$HB_JOURNAL" ]; then
    mkdir -p /run/systemd
    mount -t tmpfs hbtestjournal /run/systemd
    mkdir /run/systemd/journal; touch /run/systemd/journal/socket
    mount --bind "$HB_JOURNAL" /run/systemd/journal/socket
fi
shift; exec "$@"
"""


class Listener:
    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))

    def messages(self) -> list:
        """What arrived, in order; the run has ended, so all of it."""
        out = []
        self.sock.setblocking(False)
        while True:
            try:
                out.append(self.sock.recv(1 << 20).decode())
            except BlockingIOError:
                return out

    def close(self):
        self.sock.close()


@pytest.fixture
def listeners(tmp_path):
    made = [Listener(tmp_path / "syslog.sock"),
            Listener(tmp_path / "journal.sock")]
    yield made
    for listener in made:
        listener.close()


def forwarded_run(hb, listeners, forward, script, *args, journal=False):
    policy = hb.policy(f"[audit]\nforward = {forward}\n",
                       extends=str(POLICIES["strict"]))
    env = dict(os.environ, HB_SYSLOG=str(listeners[0].path),
               HB_JOURNAL=str(listeners[1].path) if journal else "")
    return hb.run(script, *args, policy=policy, env=env,
                  prefix=["unshare", "-m", "--propagation", "private",
                          "sh", "-c", DEV, "sh", "--"])


def cee(messages) -> list:
    """The JSON of each syslog message that carries a record."""
    out = []
    for m in messages:
        head, sep, body = m.partition(": @cee: ")
        if sep:
            assert head.startswith("<") and "hivebox[" in head, m
            out.append(json.loads(body))
    return out


def trail(hb) -> dict:
    """Every record of both logs by its hash."""
    recs = {}
    for name in ("execution_audit.log", "security_events.log"):
        path = hb.audit_dir / name
        if path.exists():
            for rec in json_lines(path):
                recs[rec["hash"]] = (name, rec)
    return recs


def check_against_trail(msgs, recs):
    for m in msgs:
        name, rec = recs[m["hash"]]
        assert m["log"] == name
        for key in ("seq", "prev_hash", "exec_id", "type", "kind", "time"):
            assert m[key] == rec[key], (key, m, rec)
        assert m["severity"] == rec.get("severity", "info")


def test_syslog_start_and_end(hb, listeners):
    run = forwarded_run(hb, listeners, "syslog", "hello.py")
    assert run.rc == 0, run
    msgs = cee(listeners[0].messages())
    recs = trail(hb)
    assert [m["type"] for m in msgs] == ["start", "end"], msgs
    assert len(recs) == 2
    check_against_trail(msgs, recs)
    start, end = msgs
    assert start["exec_id"] == run.result["exec_id"]
    assert start["script"]["path"].endswith("/hello.py")
    assert len(start["script"]["sha256"]) == 64
    assert start["user"]["uid"] == 0
    assert end["reason"] == "exit" and end["exit_code"] == 0
    # The chain as a collector sees it: each message names the last.
    assert end["prev_hash"] == start["hash"]
    assert "argv" not in start and "limits" not in start
    assert run.result["audit"]["forward"] == {"to": "syslog", "sent": 2,
                                              "dropped": 0}


def test_syslog_security_event(hb, listeners):
    run = forwarded_run(hb, listeners, "syslog", "syscall_try.py", "mount")
    assert run.rc == 0, run
    assert json.loads(run.stdout)["mount"]["errno"] == "EPERM"
    msgs = cee(listeners[0].messages())
    check_against_trail(msgs, trail(hb))
    events = [m for m in msgs if m["type"] == "event"]
    assert len(events) == 1, msgs
    ev = events[0]
    assert ev["log"] == "security_events.log"
    assert ev["kind"] == "syscall_denied" and ev["severity"] == "violation"
    assert ev["details"]["syscall"] == "mount"
    assert ev["exec_id"] == run.result["exec_id"]
    assert {m["type"] for m in msgs} == {"start", "event", "end"}


def test_none_sends_no_record(hb, listeners):
    run = forwarded_run(hb, listeners, "none", "hello.py")
    assert run.rc == 0, run
    got = listeners[0].messages()
    assert cee(got) == []
    # The listener was there: the end's plain syslog line reached it.
    assert any("ended; execution_audit.log head" in m for m in got), got
    assert "forward" not in run.result["audit"]


def journal_fields(datagram: str) -> dict:
    fields = {}
    for line in datagram.splitlines():
        key, _, value = line.partition("=")
        fields[key] = value
    return fields


def test_journal_fields(hb, listeners):
    run = forwarded_run(hb, listeners, "journal", "syscall_try.py", "mount",
                        journal=True)
    assert run.rc == 0, run
    entries = [journal_fields(d) for d in listeners[1].messages()]
    recs = trail(hb)
    assert [e["HIVEBOX_TYPE"] for e in entries] == ["start", "event", "end"]
    for e in entries:
        name, rec = recs[e["HIVEBOX_HASH"]]
        assert e["HIVEBOX_LOG"] == name
        assert e["HIVEBOX_SEQ"] == str(rec["seq"])
        assert e["HIVEBOX_PREV_HASH"] == rec["prev_hash"]
        assert e["HIVEBOX_EXEC_ID"] == run.result["exec_id"]
        assert e["SYSLOG_IDENTIFIER"] == "hivebox"
        assert json.loads(e["HIVEBOX_RECORD"])["hash"] == rec["hash"]
    assert entries[1]["HIVEBOX_KIND"] == "syscall_denied"
    assert entries[1]["PRIORITY"] == "4"
    assert cee(listeners[0].messages()) == []
    assert run.result["audit"]["forward"] == {"to": "journal", "sent": 3,
                                              "dropped": 0}


def test_journal_that_does_not_read_holds_nothing(hb, listeners):
    """A journald whose queue is full: hivebox's own non-blocking socket
    drops and counts every record, and the run ends as it would."""
    journal = listeners[1]
    filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        # A send buffer the queue fills before it: then EAGAIN means
        # the listener's queue is full, for any sender (SO_SNDBUFFORCE).
        filler.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, 64 << 20)
        filler.connect(str(journal.path))
        filler.setblocking(False)
        queued = 0
        while True:
            try:
                filler.send(b"MESSAGE=filler\n")
                queued += 1
            except BlockingIOError:
                break
        run = forwarded_run(hb, listeners, "journal", "hello.py",
                            journal=True)
    finally:
        filler.close()
    assert run.rc == 0, run
    assert run.stdout.startswith("hello"), run
    assert run.result["audit"]["forward"] == {"to": "journal", "sent": 0,
                                              "dropped": 2}
    got = journal.messages()
    assert len(got) == queued and set(got) == {"MESSAGE=filler\n"}
    assert len(trail(hb)) == 2

"""Identity and ownership (hivebox(1) IDENTITY, hivebox-policy(5)
[identity]): started as root, every listed path and the script is an
idmapped mount on which the sandbox's uid and gid 0 stand for the path's
owner and group, so a wrapped cron job reads and writes what it did bare,
and its files keep their owners, run after run.  The sandbox's own host
uid is taken at start, under a lock, and no two live runs share one.  What
the owner could not do is refused before anything runs."""
import fcntl
import os
import pwd
import shutil
import struct
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from conftest import (HIVEBOX, LIMITS, UID_BASE, UID_RANGE, assert_refused,
                      assert_result, host_uid, needs_root, require_userns)
from test_audit import default_key, events, exec_records
from test_jobs import job_dir

NOBODY = 65534
OVERFLOW = 65534  # /proc/sys/kernel/overflowuid

pytestmark = needs_root

# A cron job of root's: a helper module and a package beside it, a config
# of mode 600 that only root may read, an output it overwrites each run.
# It reports what it saw, as JSON.
JOB = """\
import json, os, sys
import helper
from pkg import mod
job = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1]
seen = {"uid": os.getuid(), "gid": os.getgid(),
        "helper": helper.NAME, "mod": mod.NAME}
with open(os.path.join(job, "config.ini")) as f:
    seen["config"] = f.read()
with open(os.path.join(out, "report.txt"), "w") as f:
    f.write(sys.argv[2] + "\\n")
os.makedirs(os.path.join(out, "sub"), exist_ok=True)
st = os.stat(os.path.join(out, "report.txt"))
seen["report_owner_inside"] = [st.st_uid, st.st_gid]
with open("/proc/self/mountinfo") as f:
    seen["idmapped"] = sorted(line.split()[4] for line in f
                              if "idmapped" in line.split()[5].split(","))
print(json.dumps(seen))
"""


def write_job(hb, name="job", mode=0o755):
    """job_dir() of test_jobs, with the script above as job.py (mode 600)
    and a config.ini of mode 600."""
    jobs = job_dir(hb, name)
    jobs.chmod(mode)
    (jobs / "job.py").write_text(JOB)
    (jobs / "job.py").chmod(0o600)
    (jobs / "config.ini").write_text("[db]\nname = tally\n")
    (jobs / "config.ini").chmod(0o600)
    return jobs


def start_and_end(hb, res) -> tuple:
    """The start and end records of the run whose result is res; the end
    agrees with the result, and no violation was recorded."""
    key = default_key()
    recs = [r for r in exec_records(hb.audit_dir, key)
            if r["exec_id"] == res["exec_id"]]
    assert [r["type"] for r in recs] == ["start", "end"], recs
    start, end = recs
    assert end["result"]["reason"] == res["reason"], end
    assert end["violations"] == 0, end
    assert [e for e in events(hb.audit_dir, res["exec_id"], key)
            if e["severity"] == "violation"] == []
    return start, end


def run_job(hb, jobs, out, text, policy):
    result = hb.result_file()
    run = hb.run_argv(["--result", result, "--policy", policy,
                       jobs / "job.py", out, text], result_path=result)
    return run


def owner(path: Path) -> tuple:
    st = path.stat()
    return st.st_uid, st.st_gid


# ---------------------------------------------------------------- as root


def test_a_root_job_reads_its_600_files_and_keeps_its_outputs_root(hb):
    jobs = write_job(hb)
    out = hb.mkdir("out", 0o755)
    policy = hb.policy(f"[filesystem]\nread_only = {jobs}\n"
                       f"read_write = {out}\n")
    for day in ("monday", "tuesday"):
        run = run_job(hb, jobs, out, day, policy)

        assert run.rc == 0, run
        seen = run.json()
        # Root inside, reading what root reads bare.
        assert (seen["uid"], seen["gid"]) == (0, 0), seen
        assert seen["config"] == "[db]\nname = tally\n", seen
        assert (seen["helper"], seen["mod"]) == ("helper", "pkg.mod")
        assert seen["report_owner_inside"] == [0, 0], seen
        assert seen["idmapped"] == sorted([str(jobs), str(out)]), seen
        # Overwritten, and still root's on the host.
        assert (out / "report.txt").read_text() == f"{day}\n"
        assert owner(out / "report.txt") == (0, 0)
        assert owner(out / "sub") == (0, 0)
        res = assert_result(run, "exit", exit_code=0)
        start, _ = start_and_end(hb, res)
        assert start["script"]["path"] == str(jobs / "job.py"), start
        assert UID_BASE <= start["host_uid"] < UID_BASE + UID_RANGE
        assert start["host_uid"] == host_uid(hb.audit_dir, run.pid)
    assert owner(out) == (0, 0)
    assert (out.stat().st_mode & 0o777) == 0o755


@pytest.fixture
def service_account():
    """A system account of the test's own, removed at the end whatever
    happens: (name, uid, gid)."""
    name = "hbtest-" + uuid.uuid4().hex[:10]
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                    "/usr/sbin/nologin", name], check=True,
                   capture_output=True)
    try:
        pw = pwd.getpwnam(name)
        yield name, pw.pw_uid, pw.pw_gid
    finally:
        subprocess.run(["userdel", name], capture_output=True)
        # userdel removes the user's own group with it.
        assert subprocess.run(["getent", "passwd", name],
                              capture_output=True).returncode == 2


def test_a_service_accounts_directory_gets_that_accounts_files(
        hb, service_account):
    name, svc_uid, svc_gid = service_account
    # The account's job: its script and config of mode 600, in its
    # directory of mode 700, and its output directory.
    jobs = write_job(hb, mode=0o700)
    for path in [jobs, *jobs.rglob("*")]:
        os.chown(path, svc_uid, svc_gid)
    out = hb.mkdir("svc-out", 0o700)
    os.chown(out, svc_uid, svc_gid)
    (out / "report.txt").write_text("yesterday\n")
    os.chown(out / "report.txt", svc_uid, svc_gid)
    (out / "report.txt").chmod(0o600)
    policy = hb.policy(f"[filesystem]\nread_only = {jobs}\n"
                       f"read_write = {out}\n")

    for day in ("monday", "tuesday"):
        run = run_job(hb, jobs, out, day, policy)

        assert run.rc == 0, run
        seen = run.json()
        assert seen["config"] == "[db]\nname = tally\n", seen
        assert seen["idmapped"] == sorted([str(jobs), str(out)]), seen
        # Inside, the account's files are uid 0's, as the job's own.
        assert seen["report_owner_inside"] == [0, 0], seen
        assert (out / "report.txt").read_text() == f"{day}\n"
        assert owner(out / "report.txt") == (svc_uid, svc_gid)
        assert owner(out / "sub") == (svc_uid, svc_gid)
        start_and_end(hb, assert_result(run, "exit", exit_code=0))
    assert owner(out) == (svc_uid, svc_gid)
    assert (out.stat().st_mode & 0o777) == 0o700


# A file of another owner in a listed directory: the overflow id inside,
# and the "other" bits.
FOREIGN = """\
import json, os, sys
d = sys.argv[1]
seen = {}
for name in ("readable", "private"):
    p = os.path.join(d, name)
    st = os.stat(p)
    seen[name] = {"owner": [st.st_uid, st.st_gid]}
    for mode, what in ((os.R_OK, "read"), (os.W_OK, "write")):
        try:
            os.close(os.open(p, os.O_RDONLY if mode == os.R_OK
                             else os.O_WRONLY))
            seen[name][what] = "ok"
        except OSError as e:
            seen[name][what] = e.strerror
print(json.dumps(seen))
"""


def test_another_owners_file_is_the_overflow_id_inside(hb):
    data = hb.mkdir("data", 0o755)
    for name, mode in (("readable", 0o644), ("private", 0o600)):
        (data / name).write_text("theirs\n")
        (data / name).chmod(mode)
        os.chown(data / name, 43210, 43210)
    (hb.dir / "foreign.py").write_text(FOREIGN)
    policy = hb.policy(f"[filesystem]\nread_write = {data}\n")
    result = hb.result_file()

    run = hb.run_argv(["--result", result, "--policy", policy,
                       "foreign.py", data], result_path=result)

    assert run.rc == 0, run
    seen = run.json()
    # Not the directory's owner: nobody inside, with the others' bits,
    # although the directory is the sandbox's to write.
    assert seen["readable"] == {"owner": [OVERFLOW, OVERFLOW],
                                "read": "ok",
                                "write": "Permission denied"}, seen
    assert seen["private"] == {"owner": [OVERFLOW, OVERFLOW],
                               "read": "Permission denied",
                               "write": "Permission denied"}, seen
    assert (data / "private").read_text() == "theirs\n"
    assert owner(data / "private") == (43210, 43210)
    start_and_end(hb, assert_result(run, "exit", exit_code=0))


# ---------------------------------------------------------------- unprivileged


UNPRIV = """\
import json, os, sys
with open(os.path.join(sys.argv[1], "made"), "w") as f:
    f.write("x")
with open("/proc/self/mountinfo") as f:
    idmapped = [line.split()[4] for line in f
                if "idmapped" in line.split()[5].split(",")]
print(json.dumps({"uid": os.getuid(), "idmapped": idmapped}))
"""


def test_started_unprivileged_nothing_is_idmapped(hb):
    require_userns(NOBODY)
    base = Path(tempfile.mkdtemp(prefix="hivebox-ids-", dir="/tmp"))
    try:
        base.chmod(0o755)
        binary = base / "hivebox"
        shutil.copy(HIVEBOX, binary)
        binary.chmod(0o755)
        work = base / "work"
        work.mkdir(mode=0o755)
        out = work / "out"
        out.mkdir()
        os.chown(out, NOBODY, NOBODY)
        (work / "unpriv.py").write_text(UNPRIV)
        (work / "policy.ini").write_text(
            LIMITS + f"[filesystem]\nread_write = {out}\n")
        for name in ("unpriv.py", "policy.ini"):
            (work / name).chmod(0o644)
        audit = base / "audit"
        audit.mkdir(mode=0o777)
        audit.chmod(0o777)
        nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                  "--clear-groups"]
        argv = ["--audit-dir", audit, "--policy", "policy.ini"]

        dry = hb.run_argv(["--dry-run", *argv, "unpriv.py", out], cwd=work,
                          prefix=nobody, binary=binary)
        run = hb.run_argv([*argv, "unpriv.py", out], cwd=work,
                          prefix=nobody, binary=binary)

        assert dry.rc == 0, dry
        assert f"id map: uid {NOBODY} -> host {NOBODY}, gid {NOBODY} -> " \
            f"host {NOBODY} (unprivileged: caller's own ids)\n" in dry.stdout
        assert "idmapped" not in dry.stdout, dry
        assert run.rc == 0, run
        assert run.json() == {"uid": NOBODY, "idmapped": []}, run
        assert owner(out / "made") == (NOBODY, NOBODY)
        recs = exec_records(audit, None)
        assert [r["type"] for r in recs] == ["start", "end"], recs
        assert recs[0]["host_uid"] == NOBODY, recs[0]
        assert recs[1]["result"]["reason"] == "exit", recs[1]
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------- refusals


def assert_nothing_ran(hb, marker: Path):
    """The script's mark is absent, and the trail holds no run that
    started: any start record there is a refusal's."""
    assert not marker.exists()
    recs = exec_records(hb.audit_dir, default_key()) \
        if (hb.audit_dir / "execution_audit.log").exists() else []
    ends = {r["exec_id"]: r for r in recs if r["type"] == "end"}
    for r in recs:
        if r["type"] == "start":
            assert r["exec_id"] in ends, r
            assert ends[r["exec_id"]]["result"]["reason"] in (
                "refused", "setup_error"), ends[r["exec_id"]]


MARK = "open({!r}, 'w').write('ran')\n"


def test_what_the_owner_could_not_do_is_refused_before_running(hb):
    marker = hb.dir / "ran"
    (hb.dir / "mark.py").write_text(MARK.format(str(marker)))
    locked = hb.mkdir("locked", 0o555)
    key = hb.dir / "key"
    key.write_text("k\n")
    key.chmod(0o200)
    script = hb.dir / "mark.py"

    for text, line, message in [
            (f"read_write = {locked}\n", 4,
             f"read_write {locked} is owned by root (uid 0) with mode "
             f"0555: its owner cannot write it; chmod u+w {locked}, or "
             "list it in read_only"),
            (f"read_only = {key}\n", 4,
             f"read_only {key} is owned by root (uid 0) with mode 0200: "
             f"its owner cannot read it; chmod u+r {key}")]:
        policy = hb.policy(f"[filesystem]\n{text}")
        result = hb.result_file()

        run = hb.run_argv(["--result", result, "--policy", policy,
                           "mark.py"], result_path=result)

        assert_refused(run, "")
        assert run.stderr == f"hivebox: {policy}:{line}: {message}\n", run
        assert_nothing_ran(hb, marker)
    script.chmod(0o200)
    policy = hb.policy("")
    run = hb.run_argv(["--policy", policy, "mark.py"])
    assert_refused(run, "")
    assert run.stderr == (
        f"hivebox: mark.py: cannot use script: {script} is owned by root "
        f"(uid 0) with mode 0200: its owner cannot read it; chmod u+r "
        f"{script}\n"), run
    assert_nothing_ran(hb, marker)
    assert (locked.stat().st_mode & 0o777) == 0o555


# Mounts a ramfs (which cannot be idmapped) at $1 in a private mount
# namespace of its own, then runs the rest of the command line there:
# nothing of it reaches the host's mount table.
RAMFS_THEN = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
              'mount -t ramfs ramfs "$1" && shift && exec "$@"', "sh"]


def test_a_file_system_that_cannot_be_idmapped_is_refused(hb):
    marker = hb.dir / "ran"
    (hb.dir / "mark.py").write_text(MARK.format(str(marker)))
    ram = hb.mkdir("ram")
    jobs = write_job(hb)
    cache = jobs / "cache"
    cache.mkdir()

    for mountpoint, listed, message in [
            (ram, f"read_only = {ram}\n",
             f"read_only {ram}: the file system (ramfs) cannot be "
             "idmapped"),
            (cache, f"read_only = {jobs}\n",
             f"read_only {jobs}: {cache}: the file system (ramfs) cannot "
             "be idmapped")]:
        policy = hb.policy(f"[filesystem]\n{listed}")
        result = hb.result_file()

        run = hb.run_argv(["--result", result, "--policy", policy,
                           "mark.py"], result_path=result,
                          prefix=RAMFS_THEN + [mountpoint])

        assert_refused(run, "")
        assert run.stderr == f"hivebox: {policy}:4: {message}\n", run
        assert_nothing_ran(hb, marker)
    # The private namespaces went with their processes.
    with open("/proc/self/mountinfo") as f:
        assert str(ram) not in f.read()


# ---------------------------------------------------------------- host uids


F_WRLCK, SEEK_SET = 1, 0


def hold(fd: int, start: int, length: int):
    """An OFD write lock on [start, start + length) of fd, as another
    hivebox holds its uid's byte."""
    fcntl.fcntl(fd, fcntl.F_OFD_SETLK,
                struct.pack("hhqqi4x", F_WRLCK, SEEK_SET, start, length, 0))


SLEEP = """\
import sys, time
print(open("/proc/self/uid_map").read().split()[1], flush=True)
time.sleep(float(sys.argv[1]))
"""


def test_concurrent_runs_never_share_a_host_uid(hb):
    """Every uid of the range but four is held (as by other runs): four
    runs at once get those four, one each, whatever their pids, and a
    fifth while they run is refused; the lock dies with its holder.

    The runs take their uids from a lock file of this test's own
    (hivebox.conf [identity] uid_lock): holding the machine's would
    refuse every other hivebox on the machine meanwhile, and a uid that
    one of them holds would make this test's holding fail."""
    (hb.dir / "sleep.py").write_text(SLEEP)
    policy = hb.policy("")
    lock_dir = hb.mkdir("locks", mode=0o700)
    lock_file = lock_dir / "uids.lock"
    config = hb.dir / "hivebox.conf"
    config.write_text(f"[identity]\nuid_lock = {lock_file}\n")
    base = 1000 + os.getpid() % 60000
    free = set(range(base, base + 4))
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    procs = []
    try:
        hold(fd, 0, base)
        hold(fd, base + 4, UID_RANGE - base - 4)
        argv = [str(HIVEBOX), "--audit-dir", str(hb.audit_dir), "--config",
                str(config), "--policy", str(policy), "sleep.py"]
        for i in range(4):
            procs.append(subprocess.Popen(
                argv + ["3"], cwd=hb.dir, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        # Each prints its uid once it runs, so all four run at once here.
        seen = [int(p.stdout.readline()) for p in procs]
        fifth = hb.run_argv(["--config", config, "--policy", policy,
                             "sleep.py", "0"])
        outs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        os.close(fd)

    assert [p.returncode for p in procs] == [0] * 4, outs
    assert sorted(seen) == sorted(UID_BASE + i for i in free), seen
    print(f"\npids {[p.pid % UID_RANGE for p in procs]} got "
          f"{[u - UID_BASE for u in seen]}")
    records = {r["pid"]: r for r in exec_records(hb.audit_dir, default_key())
               if r["type"] == "start"}
    assert sorted(records[p.pid]["host_uid"] for p in procs) == sorted(seen)
    assert_refused(fifth, "")
    assert fifth.stderr == (
        f"hivebox: {lock_file}: cannot take a host uid for the sandbox: "
        "every uid of the range is held by a running sandbox\n"), fifth
    # Released: with nothing held, a run gets the first free uid from
    # its own pid on, and its start record names it.
    run = hb.run("sleep.py", "0", policy=policy,
                 options=["--config", config])
    assert run.rc == 0, run
    uid = int(run.stdout)
    assert uid == UID_BASE + run.pid % UID_RANGE, (uid, run.pid)
    assert uid == host_uid(hb.audit_dir, run.pid)
    start_and_end(hb, assert_result(run, "exit", exit_code=0))

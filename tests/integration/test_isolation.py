"""What the script can see and do of the host: files, processes, paths,
privileges, environment, setuid binaries; and what is left once hivebox
is gone."""
import errno
import json
import os
import shutil
import tempfile
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import (FIXTURE_BIN, HIVEBOX, LIMITS, REPO, Run,
                      assert_result, descendants, host_uid, needs_root,
                      needs_userns, proc_starttime, proc_status, proc_uids,
                      processes_of_uid, require_root, require_userns)
from test_audit import default_key, events, exec_records
from test_limits import assert_recorded

NOBODY = 65534


@needs_userns
def test_host_files_processes_and_descriptors_are_invisible(hb):
    for path in ("/etc/shadow", "/root", "/home"):
        assert os.path.exists(path), f"the host has no {path} to hide"
    (hb.dir / "secret.txt").write_text("next to the script\n")
    r, w = os.pipe()
    try:
        # A descriptor hivebox inherits must not reach the script.
        run = hb.run("probe_host.py", pass_fds=(r, w))
    finally:
        os.close(r)
        os.close(w)

    assert run.rc == 0, run
    assert_result(run, "exit", exit_code=0)
    seen = run.json()
    for key in ("shadow", "root", "home"):
        assert seen[key].get("errno") == errno.ENOENT, seen
    # The start directory holds the script and nothing else of the host's.
    assert seen["cwd"] == ["probe_host.py"], seen
    # A new PID namespace: its init (1), the interpreter (2), itself.
    assert seen["self"] in seen["pids"], seen
    assert set(seen["pids"]) <= {1, 2, seen["self"]}, seen
    # Only the interpreter running the probe (its path may hold any
    # word), and no host process such as pytest or hivebox itself.
    for cmdline in seen["cmdlines"].values():
        words = cmdline.split()
        assert words[:1] == ["/usr/bin/python3"], seen
        assert words[1].endswith("/probe_host.py"), seen
    # Standard input, output, error and the probe's own listing.
    assert seen["fds"] == [0, 1, 2, 3], seen
    # A network namespace of its own: loopback only.
    assert seen["interfaces"] == ["lo"], seen


@needs_userns
def test_read_only_and_read_write_paths(hb):
    ro = hb.mkdir("in", 0o777)
    (ro / "existing").write_text("host data\n")
    rw = hb.mkdir("out", 0o777)
    policy = hb.policy("[filesystem]\nread_only = ./in\nread_write = ./out\n")
    in_tmp = f"/tmp/hivebox-test-{os.getpid()}-{time.monotonic_ns()}"

    # /dev holds only the plan's nodes, /proc/sys is read-only, and
    # /proc/kcore and /proc/timer_list (root's, 0400) are masked by
    # /dev/null: empty, where unmasked they would be EACCES.  A kernel
    # without one of them has nothing to mask.
    masked = {f"read:{p}": 0 if os.path.exists(p) else "ENOENT"
              for p in ("/proc/kcore", "/proc/timer_list")}
    run = hb.run("write_probe.py", "in/new", "in/existing", "out/new",
                 "/new-in-root", in_tmp, "/dev/new",
                 "/proc/sys/kernel/hostname", *masked, policy=policy)

    assert run.rc == 0, run
    assert_result(run, "exit", exit_code=0)
    assert run.json() == {
        "in/new": "EROFS",
        "in/existing": "EROFS",
        "out/new": "ok",
        "/new-in-root": "EROFS",
        in_tmp: "ok",
        "/dev/new": "EROFS",
        "/proc/sys/kernel/hostname": "EROFS",
        **masked,
    }, run
    assert sorted(os.listdir(ro)) == ["existing"]
    assert (ro / "existing").read_text() == "host data\n"
    assert (rw / "new").read_text() == "written in the sandbox\n"
    if os.geteuid() == 0:
        # Created as the directory's owner, on its idmapped mount.
        assert (rw / "new").stat().st_uid == rw.stat().st_uid == 0
    # That /tmp was the sandbox's own.
    assert not os.path.exists(in_tmp)


# What /proc says of the host: masked where a job has no use for it
# (launcher/mounts.c, proc_masked[]), readable where libraries need it.
MASKED_HOST_FACTS = ("/proc/cmdline", "/proc/sys/kernel/random/boot_id",
                     "/proc/diskstats", "/proc/interrupts",
                     "/proc/softirqs")
KEPT_HOST_FACTS = ("/proc/meminfo", "/proc/loadavg", "/proc/stat",
                   "/proc/cpuinfo", "/proc/uptime")


def host_file(path):
    with open(path) as f:
        return f.read()


def strict_policy(hb):
    return hb.policy(extends=str(REPO / "policies" / "strict.ini"))


def assert_exit_recorded(hb, res):
    """The end record says the script exited, with no violation."""
    key = default_key()
    ends = [r for r in exec_records(hb.audit_dir, key)
            if r["type"] == "end" and r["exec_id"] == res["exec_id"]]
    assert len(ends) == 1, ends
    assert ends[0]["result"]["reason"] == "exit", ends[0]
    assert ends[0]["violations"] == 0, ends[0]
    assert [e for e in events(hb.audit_dir, res["exec_id"], key)
            if e["severity"] == "violation"] == []


@needs_userns
def test_host_boot_facts_are_masked(hb):
    """The host's kernel command line and boot id, and its per-device
    disk and interrupt counters, read empty under strict.ini, and the
    host's own values appear nowhere in what the script saw."""
    masked = [p for p in MASKED_HOST_FACTS if os.path.exists(p)]
    cmdline = host_file("/proc/cmdline").strip()
    boot_id = host_file("/proc/sys/kernel/random/boot_id").strip()
    assert cmdline and boot_id  # the test could not fail without them

    run = hb.run("proc_read.py", *masked, policy=strict_policy(hb))

    assert run.rc == 0, run
    seen = run.json()
    assert {p: seen[p] for p in masked} == {p: "" for p in masked}, seen
    assert cmdline not in run.stdout, run
    assert boot_id not in run.stdout, run
    assert_exit_recorded(hb, assert_result(run, "exit", exit_code=0))


@needs_userns
def test_host_facts_jobs_need_stay_readable(hb):
    """What libraries read to size themselves stays: memory totals
    (psutil, joblib, dask), the load average (os.getloadavg()), CPU times
    and count (psutil, glibc's fallback), CPU features (NumPy), uptime."""
    kept = [p for p in KEPT_HOST_FACTS if os.path.exists(p)]

    run = hb.run("proc_read.py", *kept, policy=strict_policy(hb))

    assert run.rc == 0, run
    seen = run.json()
    assert "MemTotal:" in seen["/proc/meminfo"], seen
    assert len(seen["/proc/loadavg"].split()) == 5, seen
    assert seen["/proc/stat"].startswith("cpu "), seen
    assert "processor" in seen["/proc/cpuinfo"], seen
    assert float(seen["/proc/uptime"].split()[0]) > 0, seen
    assert len(seen["getloadavg"]) == 3, seen
    assert_exit_recorded(hb, assert_result(run, "exit", exit_code=0))


@needs_userns
def test_no_capabilities_and_no_new_privs(hb):
    outside = subprocess.run([sys.executable, "-I", hb.script("caps.py")],
                             cwd=hb.dir, capture_output=True, text=True,
                             timeout=30)
    if os.geteuid() == 0:
        # The probe would tell: root outside has a full bounding set.
        assert '"CapBnd": "0000000000000000"' not in outside.stdout

    run = hb.run("caps.py")

    assert run.rc == 0, run
    assert_result(run, "exit", exit_code=0)
    status = run.json()
    for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert status[name] == "0000000000000000", status
    assert status["NoNewPrivs"] == "1", status


@needs_userns
def test_environment_is_clean(hb):
    env = dict(os.environ, SECRET="hunter2", FOO="kept value")

    run = hb.run("env_dump.py", env=env)

    assert run.rc == 0, run
    assert_result(run, "exit", exit_code=0)
    assert "hunter2" not in run.stdout
    assert set(run.json()) == {"PATH", "HOME", "LANG"}, run

    policy = hb.policy("[environment]\nkeep = FOO, NOT_SET_ANYWHERE\n"
                       "set = GREETING=hi there\nset = LANG=C\n",
                       name="env.ini")
    run = hb.run("env_dump.py", policy=policy, env=env)

    assert run.rc == 0, run
    assert_result(run, "exit", exit_code=0)
    seen = run.json()
    assert "hunter2" not in run.stdout
    assert set(seen) == {"PATH", "HOME", "LANG", "FOO", "GREETING"}, seen
    assert seen["FOO"] == "kept value"
    assert seen["GREETING"] == "hi there"
    assert seen["LANG"] == "C"


@needs_root
@needs_userns
def test_setuid_binaries_are_powerless(hb):
    bindir = hb.mkdir("suid")
    showid = bindir / "showid"
    shutil.copy(FIXTURE_BIN / "showid", showid)
    os.chown(showid, 0, 0)
    showid.chmod(0o4755)
    try:
        # Outside, the binary really is setuid root.
        outside = subprocess.run(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
             "--clear-groups", str(showid)],
            capture_output=True, text=True, timeout=30)
        if f"ruid {NOBODY} euid 0" not in outside.stdout:
            pytest.skip(f"{bindir} is nosuid on the host already: "
                        f"{outside.stdout!r}")
        policy = hb.policy("[filesystem]\nread_only = ./suid\n")

        run = hb.run("run_setuid.py", str(showid), policy=policy)
    finally:
        showid.unlink()

    assert run.rc == 0, run
    assert_result(run, "exit", exit_code=0)
    seen = run.json()
    assert seen["rc"] == 0, seen
    uid = seen["my_uid"]
    assert seen["stdout"] == f"ruid {uid} euid {uid}\n" \
        "CapEff:\t0000000000000000\n", seen
    options = seen["mount_options"].split(",")
    assert "nosuid" in options and "ro" in options, seen


def wait_for(path, text, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    errors = path.with_name("stderr.txt").read_text()
    raise AssertionError(f"{text!r} never appeared in {path}; hivebox "
                         f"exit {proc.poll()}, stderr {errors!r}")


@needs_userns
def test_sigkill_of_hivebox_leaves_nothing_behind(hb):
    out = hb.dir / "stdout.txt"
    with open(out, "w") as stdout, open(hb.dir / "stderr.txt", "w") as err:
        args = ["--policy", str(hb.policy()), hb.script("ignore_term.py")]
        proc = subprocess.Popen(
            [str(HIVEBOX)] + hb.audit_options(args) + args,
            cwd=hb.dir, stdin=subprocess.DEVNULL, stdout=stdout, stderr=err)
    try:
        wait_for(out, "waiting", proc, 20)
        wait_for(out, "grandchild", proc, 20)
        tree = descendants(proc.pid)
        # The sandbox init, the script, its grandchild.
        assert len(tree) >= 3, tree
        alive = {pid: proc_starttime(pid) for pid in tree}
        uids = {proc_uids(proc_status(pid))[0] for pid in tree}
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def running(pid):
        status = proc_status(pid)
        # Gone, reused or a zombie waiting for the host's init to reap it.
        return status is not None and \
            proc_starttime(pid) == alive[pid] and \
            not status["State"].startswith("Z")

    deadline = time.monotonic() + 10
    while any(running(pid) for pid in tree) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in tree if running(pid)] == []
    assert proc.returncode == -signal.SIGKILL
    if os.geteuid() == 0:
        uid = host_uid(hb.audit_dir, proc.pid)
        assert uids == {uid}, uids
        assert processes_of_uid(uid) == []


@pytest.fixture
def tmp_dir_under_tmp():
    """A directory under /tmp, removed at the end whatever happens."""
    base = Path(tempfile.mkdtemp(prefix="hivebox-unpriv-", dir="/tmp"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_unprivileged_caller_keeps_its_own_uid(hb, tmp_dir_under_tmp):
    require_root()  # to become someone else
    require_userns(NOBODY)
    # The checkout (and pytest's directories) may sit below a directory
    # that only root may enter: give the unprivileged caller a binary and
    # a job directory of its own under /tmp.
    base = tmp_dir_under_tmp
    base.chmod(0o755)
    binary = base / "hivebox"
    shutil.copy(HIVEBOX, binary)
    binary.chmod(0o755)
    work = base / "unpriv"
    work.mkdir(mode=0o755)
    results = base / "results"
    results.mkdir()
    results.chmod(0o777)
    shutil.copy(hb.dir / hb.script("caps.py"), work / "caps.py")
    (work / "policy.ini").write_text(LIMITS)
    for path in work.iterdir():
        path.chmod(0o644)
    nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
              "--clear-groups"]

    # Several runs: each one must work, not just a lucky one.
    for attempt in range(30):
        result = results / f"result-{attempt}.json"
        run = hb.run_argv(["--result", result, "--policy", "policy.ini",
                           "caps.py"], cwd=work, prefix=nobody,
                          result_path=result, binary=binary)

        assert run.rc == 0, f"attempt {attempt}: {run}"
        assert run.stderr == "", run
        seen = run.json()
        assert seen["Uid"].split() == [str(NOBODY)] * 4, seen
        assert seen["Gid"].split() == [str(NOBODY)] * 4, seen
        assert seen["CapEff"] == "0000000000000000", seen
        assert_result(run, "exit", exit_code=0,
                      script=str(work / "caps.py"))
        assert result.stat().st_uid == NOBODY


SECRET = "SECRET: an earlier job's line in the log\n"


def run_into_log(hb, log: Path, *args, policy=None, stderr_too=False):
    """hivebox ... >> log (2>&1 with stderr_too), as a cron line runs it;
    log already holds SECRET."""
    log.write_text(SECRET)
    log.chmod(0o644)
    result = hb.result_file()
    argv = [str(HIVEBOX), "--audit-dir", str(hb.audit_dir), "--result",
            str(result), "--policy", str(policy or hb.policy()),
            hb.script("read_stdout.py"), *args]
    with open(log, "a") as out:
        proc = subprocess.run(argv, cwd=hb.dir, stdin=subprocess.DEVNULL,
                              stdout=out,
                              stderr=out if stderr_too else subprocess.PIPE,
                              text=True, timeout=60)
    res = json.loads(result.read_text()) if result.exists() else None
    return Run(argv, proc.returncode, "", proc.stderr or "", res, result,
               0.0, 0)


@needs_userns
def test_the_log_on_stdout_cannot_be_read_back(hb):
    """`hivebox job.py >> joblog`: the script reopened /proc/self/fd/1
    for reading and read the log's earlier contents, through the magic
    link to the host file.  Now it gets a pipe, which the supervisor
    copies to the file: nothing of the log can be read through it, and
    what the script writes still lands in the log, after what was
    there."""
    log = hb.dir / "joblog"

    run = run_into_log(hb, log)

    assert run.rc == 0, run
    lines = run.stderr.splitlines()
    assert lines[0].startswith(("refused ", "read b''", "read failed")), run
    assert "SECRET" not in run.stderr, run
    assert lines[1:] == ["err 2"], run
    assert log.read_text() == SECRET + "out 1\nout 3\n"
    res = assert_result(run, "exit", exit_code=0)
    assert_recorded(hb, res, "exit")


@needs_userns
def test_stdout_and_stderr_in_one_log_keep_their_order(hb):
    """`>> joblog 2>&1`: both go through one pipe, so the lines of the two
    streams reach the log in the order the script wrote them."""
    log = hb.dir / "joblog"

    run = run_into_log(hb, log, stderr_too=True)

    assert run.rc == 0, run
    text = log.read_text()
    assert text.startswith(SECRET), text
    lines = text[len(SECRET):].splitlines()
    assert "SECRET" not in lines[0], lines
    assert lines[1:] == ["out 1", "err 2", "out 3"], lines
    res = assert_result(run, "exit", exit_code=0)
    assert_recorded(hb, res, "exit")


@needs_userns
def test_output_to_a_log_is_bounded_by_file_size_mb(hb):
    """RLIMIT_FSIZE bounded what the script could write to a log it held
    itself; through the pipe, the supervisor copies at most file_size_mb
    per run, then closes the pipe: the script's next write fails (EPIPE),
    and an alert says what was not written."""
    log = hb.dir / "joblog"
    policy = hb.policy("[execution]\nfile_size_mb = 1\n")

    run = run_into_log(hb, log, "3", policy=policy)

    assert run.rc == 0, run
    *_, failed, alert = run.stderr.splitlines()
    assert failed.startswith("write failed EPIPE after "), run
    assert int(failed.split()[-1]) >= MIB - len("out 1\nout 3\n"), run
    assert alert.startswith("hivebox: output_limit: the script's output to "
                            "descriptor 1 went past file_size_mb = 1 "
                            f"({hb.dir / 'policy.ini'}:4): "), run
    assert log.stat().st_size == len(SECRET) + MIB, run
    assert log.read_text().startswith(SECRET + "out 1\nout 3\nxxx")
    res = assert_result(run, "exit", exit_code=0)
    assert res["violations"] == 1 and res["alerts"] == 0, res
    assert_recorded(hb, res, "exit", "output_limit")
    (ev,) = [e for e in events(hb.audit_dir, res["exec_id"], default_key())]
    assert ev["kind"] == "output_limit", ev
    assert ev["severity"] == "violation", ev
    assert "descriptor 1 went past file_size_mb = 1" in ev["message"], ev


MIB = 1024 * 1024


@needs_userns
def test_a_callers_lower_file_size_limit_does_not_end_hivebox(hb):
    """The supervisor writes the script's output into the log itself, so
    the caller's own RLIMIT_FSIZE applies to hivebox: past it, SIGXFSZ
    ended hivebox (exit 153) with no result and no end record.  hivebox
    ignores SIGXFSZ: the write fails with EFBIG, the script's writes fail
    with EPIPE, and the run ends as the script's own, recorded."""
    import resource

    log = hb.dir / "joblog"
    policy = hb.policy("[execution]\nfile_size_mb = 8\n")
    soft = 256 * 1024

    def lower():
        resource.setrlimit(resource.RLIMIT_FSIZE,
                           (soft, resource.RLIM_INFINITY))

    log.write_text(SECRET)
    result = hb.result_file()
    argv = [str(HIVEBOX), "--audit-dir", str(hb.audit_dir), "--result",
            str(result), "--policy", str(policy),
            hb.script("read_stdout.py"), "2"]
    with open(log, "a") as out:
        proc = subprocess.run(argv, cwd=hb.dir, stdin=subprocess.DEVNULL,
                              stdout=out, stderr=subprocess.PIPE, text=True,
                              timeout=60, preexec_fn=lower)

    assert proc.returncode == 0, proc
    assert "write failed EPIPE after " in proc.stderr, proc
    assert log.stat().st_size <= soft, log.stat()
    res = json.loads(result.read_text())
    assert res["reason"] == "exit" and res["exit_code"] == 0, res
    assert_recorded(hb, res, "exit", "output_limit")

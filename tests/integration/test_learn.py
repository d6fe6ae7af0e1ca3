"""hivebox learn: the real binary learns real fixture jobs, the host is
checked untouched, and the learned policy is loaded and run under."""
import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import EXIT_HIVEBOX, FIXTURES, HIVEBOX
from test_audit import exec_records

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: learn builds overlay mounts")


def learn(hb, script, *args, out="learned.ini", options=(), prefix=(),
          timeout=120):
    """hivebox learn --json -o OUT [options] SCRIPT ARGS, in hb.dir; the
    parsed report (None if stdout is not JSON) and the completed run."""
    argv = [*prefix, str(HIVEBOX), "learn", "--json", "-o", str(out),
            *options, hb.script(script), *args]
    proc = subprocess.run([str(a) for a in argv], cwd=hb.dir, text=True,
                          capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        report = None
    return proc, report


def snapshot(root: Path) -> dict:
    """Every entry under root: kind, mode, mtime (ns) and content."""
    found = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        found[str(path)] = (st.st_mode, st.st_mtime_ns,
                            path.read_bytes() if path.is_file() else None)
    return found


def policy_lines(path: Path) -> list:
    return path.read_text().splitlines()


def keys(path: Path, key: str) -> list:
    return [line.split("=", 1)[1].strip() for line in policy_lines(path)
            if re.match(rf"^{key}\s*=", line)]


def assert_every_key_commented(path: Path):
    lines = policy_lines(path)
    for i, line in enumerate(lines):
        if line and line[0] not in ";[":
            assert i > 0 and lines[i - 1].startswith(";"), \
                f"{path.name}:{i + 1}: no comment above {line!r}"


def show(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(HIVEBOX), "policy", "show", str(path)],
                          capture_output=True, text=True, timeout=30)


@pytest.fixture
def tally_dirs(hb):
    config = hb.mkdir("config")
    (config / "east.ini").write_text("[votes]\nyes = 3\nno = 1\n")
    (config / "west.ini").write_text("[votes]\nyes = 2\nabstain = 4\n")
    (config / "notes.txt").write_text("not read\n")
    # The scripts are root's: the job learns as a uid of hivebox's range,
    # which writes where others may.
    report = hb.mkdir("report", 0o777)
    # Something else of the host beside them, which must not be granted.
    (hb.dir / "unrelated.txt").write_text("leave me\n")
    return config, report


def test_tally_learned_host_untouched_and_runs_under_the_policy(
        hb, tally_dirs):
    config, report = tally_dirs
    hb.script("tally.py")
    before = snapshot(hb.dir)
    proc, rep = learn(hb, "tally.py", "config", "report")
    assert proc.returncode == 0, proc
    # The job ran (it printed through hivebox's stderr) ...
    assert "tallied 10 votes" in proc.stderr, proc.stderr
    assert rep["job"]["ok"] and rep["job"]["status"] == 0, rep["job"]
    # ... and the host is as it was: no report, nothing renamed, every
    # mtime and content the same; only the policy was added.
    after = snapshot(hb.dir)
    policy = hb.dir / "learned.ini"
    assert str(policy) in after
    del after[str(policy)]
    assert after == before
    assert list(report.iterdir()) == []

    granted = rep["granted"]
    assert [g["path"] for g in granted["read_only"]] == [str(config)]
    assert [g["path"] for g in granted["read_write"]] == [str(report)]
    assert granted["network_mode"] == "none"
    assert granted["syscall_groups"] == []
    assert keys(policy, "read_only") == [str(config)]
    assert keys(policy, "read_write") == [str(report)]
    assert_every_key_commented(policy)
    text = policy.read_text()
    assert f"; 2 files read, 1 directory listed at or under it\n" \
           f"read_only = {config}\n" in text, text
    assert re.search(r"; 1 file written, 2 renamed .*\n"
                     rf"read_write = {re.escape(str(report))}\n", text), text
    assert keys(policy, "extends") == [
        str((FIXTURES.parent.parent / "policies" / "strict.ini").resolve())]
    assert show(policy).returncode == 0

    # The real hivebox, under the learned policy: the job works.
    run = hb.run("tally.py", "config", "report", policy=policy)
    assert run.rc == 0, run
    assert run.stdout.strip() == "tallied 10 votes"
    assert json.loads((report / "tally.json").read_text()) == {
        "abstain": 4, "no": 1, "yes": 5}
    (end,) = [r for r in exec_records(hb.audit_dir)
              if r["type"] == "end" and r["exec_id"] == run.result["exec_id"]]
    assert end["result"]["reason"] == "exit", end
    assert end["result"]["exit_code"] == 0, end


def test_text_report_names_what_was_granted_and_left_out(hb, tally_dirs):
    config, report = tally_dirs
    proc = subprocess.run(
        [str(HIVEBOX), "learn", "-o", "text.ini", hb.script("tally.py"),
         "config", "report"], cwd=hb.dir, capture_output=True, text=True,
        timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc
    out = proc.stdout
    assert "job: succeeded: exit status 0" in out, out
    assert f"policy: written to text.ini" in out, out
    assert re.search(rf"read_only +{re.escape(str(config))} ", out), out
    assert re.search(rf"read_write +{re.escape(str(report))} ", out), out
    assert f"{hb.dir}: the script's directory" in out, out


def test_a_program_the_job_runs_cannot_be_brought_in(hb):
    proc, rep = learn(hb, "learn_spawn.py")
    assert proc.returncode == 0, proc
    assert rep["job"]["ok"], rep["job"]
    # date ran during learning: its year went to stderr.
    assert re.search(r"^20\d\d$", proc.stderr, re.M), proc.stderr
    assert rep["executables_not_brought_in"] == ["/bin/date"]
    why = {m["what"]: m["why"] for m in rep["left_out"]}
    assert "cannot bring /bin/date in" in why["/bin/date"], why
    assert "no 'executables' key" in why["/bin/date"], why
    # What date itself opened (its libraries, locale) is not granted.
    assert rep["granted"]["read_only"] == []
    policy = hb.dir / "learned.ini"
    flat = re.sub(r"\n; ", " ", policy.read_text())
    assert "Left out: /bin/date: executed; a policy has no 'executables' " \
           "key" in flat, flat
    assert "this policy cannot bring /bin/date in" in flat, flat
    assert show(policy).returncode == 0
    # And indeed: under it, the job cannot run date.
    run = hb.run("learn_spawn.py", policy=policy)
    assert run.rc != 0, run


def test_a_job_that_fails_is_reported_and_its_policy_written(hb):
    conf = hb.mkdir("conf")
    (conf / "job.conf").write_text("x = 1\n")
    work = hb.mkdir("work", 0o777)  # the job is no root (see tally_dirs)
    victim = work / "victim"
    victim.write_text("keep\n")
    hb.script("learn_fail.py")
    before = snapshot(hb.dir)
    proc, rep = learn(hb, "learn_fail.py", "conf/job.conf", "work/victim")
    assert proc.returncode == 0, proc
    assert rep["job"] == {**rep["job"], "ok": False, "end": "exited",
                          "status": 3, "summary": "failed: exit status 3"}
    # Learning removed nothing of the host.
    assert victim.read_text() == "keep\n"
    after = snapshot(hb.dir)
    del after[str(hb.dir / "learned.ini")]
    assert after == before
    policy = hb.dir / "learned.ini"
    assert "The job FAILED during learning (exit status 3)" in \
        re.sub(r"\n; ", " ", policy.read_text())
    assert keys(policy, "read_only") == [str(conf / "job.conf")]
    assert keys(policy, "read_write") == [str(work)]
    assert show(policy).returncode == 0
    text = subprocess.run(
        [str(HIVEBOX), "learn", "-o", "again.ini", hb.script("learn_fail.py"),
         "conf/job.conf", "work/victim"], cwd=hb.dir, capture_output=True,
        text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert text.returncode == 0, text
    assert "job: failed: exit status 3 (the policy holds what it did " \
           "until then)" in text.stdout, text.stdout


def test_a_job_past_the_base_timeout_is_ended_and_said_to(hb):
    base = hb.policy("[execution]\ntimeout_seconds = 1\n", name="base.ini")
    start = time.monotonic()
    proc, rep = learn(hb, "sleeper.py", "30", options=["--policy", base])
    assert proc.returncode == 0, proc
    assert time.monotonic() - start < 20
    assert rep["job"]["end"] == "timeout" and not rep["job"]["ok"], rep
    text = (hb.dir / "learned.ini").read_text()
    assert "timeout_seconds = 1\n" in text, text
    assert keys(hb.dir / "learned.ini", "extends") == [str(base)]


@pytest.mark.parametrize("args, message", [
    (["tally.py"], r"^hivebox: learn: no -o POLICY"),
    (["-o", "x.ini"], r"^hivebox: learn: no script given"),
    (["-o", "x.ini", "--bogus", "tally.py"],
     r"^hivebox: unknown option '--bogus' for learn"),
    (["-o", "no/such/dir/x.ini", "tally.py"],
     r"^hivebox: learn: -o no/such/dir/x.ini: cannot open no/such/dir: "),
    (["--policy", "missing.ini", "-o", "x.ini", "tally.py"],
     r"missing\.ini"),
    (["-o", "x.ini", "no-such-script.py"], r"no-such-script\.py"),
])
def test_nothing_learned_is_exit_125_with_one_line(hb, args, message):
    hb.script("tally.py")
    proc = subprocess.run([str(HIVEBOX), "learn", *args], cwd=hb.dir,
                          capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == EXIT_HIVEBOX, proc
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), proc.stderr
    assert not (hb.dir / "x.ini").exists()


def test_learn_is_in_the_usage(hb):
    out = subprocess.run([str(HIVEBOX), "--help"], capture_output=True,
                         text=True, timeout=30).stdout
    assert "hivebox learn" in out
    out = subprocess.run([str(HIVEBOX), "learn", "--help"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "-o POLICY" in out.stdout


# ------------------------------------------------------------ network

@pytest.fixture(scope="module")
def topo(tmp_path_factory):
    """test_network.py's test hosts, in a network namespace of this
    module's own: a server greeting on TCP 8080 and a DNS server on UDP 53
    answering every NAME.hbtest with the server's address."""
    from test_network import Topology, hivebox_tables, host_links
    for tool in ("ip", "nft", "unshare"):
        if subprocess.run(["which", tool], capture_output=True).returncode:
            pytest.skip(f"needs {tool} to build the test network")
    assert host_links() == [] and hivebox_tables() == [], \
        "hivebox links or tables before the tests: not ours"
    t = Topology(tmp_path_factory.mktemp("learn-net"))
    try:
        t.up()
        yield t
    finally:
        # Topology's host service thread sits in accept(): closing the
        # socket under it would keep the port bound for the session, and
        # test_network.py's own Topology binds the same address next.
        # Shutting it down wakes the accept, and the port goes.
        if t.host_listener:
            try:
                t.host_listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        t.down()


def settled_leftovers(topo) -> list:
    """What learn left on the host.  The veth pair goes with the sandbox's
    network namespace, which the kernel frees asynchronously, a few
    milliseconds after the run (as test_network.py's no_leftovers says):
    the link alone is given a moment; a table or a pool slot is not."""
    deadline = time.monotonic() + 5
    while (all(item.startswith("link ") for item in topo.leftovers()) and
           topo.leftovers() and time.monotonic() < deadline):
        time.sleep(0.01)
    return topo.leftovers()


def test_a_server_called_by_name_is_exactly_what_is_allowed(hb, topo):
    from test_network import ALLOWED, SERVER
    # The host's resolver asks the test's DNS server, in a private mount
    # namespace around hivebox: the host's resolv.conf is never touched.
    resolv = hb.dir / "resolv.conf"
    resolv.write_text(f"nameserver {SERVER}\n")
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c",
              f'mount --bind "{resolv}" /etc/resolv.conf && exec "$@"', "sh"]
    try:
        proc, rep = learn(hb, "learn_call.py", "api.hbtest", ALLOWED,
                          options=["--network", "--config", topo.config],
                          prefix=prefix)
        assert proc.returncode == 0, proc
        assert rep["job"]["ok"], (rep["job"], proc.stderr)
        assert f"hello {ALLOWED}" in proc.stderr, proc.stderr
        seen = {(d["kind"], d["address"], d["port"])
                for d in rep["observed"]["destinations"]}
        assert ("dns", "api.hbtest", 0) in seen, seen
        assert ("tcp", SERVER, ALLOWED) in seen, seen
        granted = rep["granted"]
        assert granted["network_mode"] == "filtered"
        assert granted["allowed_domains"] == ["api.hbtest"], granted
        assert granted["allowed_ports"] == [ALLOWED], granted
        policy = hb.dir / "learned.ini"
        assert keys(policy, "mode") == ["filtered"]
        assert keys(policy, "allowed_domains") == ["api.hbtest"]
        assert keys(policy, "allowed_ports") == [str(ALLOWED)]
        assert_every_key_commented(policy)
        assert "port 53" in " ".join(m["what"] for m in rep["left_out"])
        assert settled_leftovers(topo) == []

        # Under the learned policy, the real hivebox resolves the name at
        # start and lets the job through to exactly that server.
        run = hb.run("learn_call.py", "api.hbtest", ALLOWED, policy=policy,
                     options=["--config", topo.config], prefix=prefix)
        assert run.rc == 0, run
        assert run.stdout.strip() == f"hello {ALLOWED}"
    finally:
        left = settled_leftovers(topo)
    assert left == []


def test_without_network_a_connection_is_recorded_not_allowed(hb, topo):
    from test_network import ALLOWED, SERVER
    proc, rep = learn(hb, "learn_call.py", SERVER, ALLOWED)
    assert proc.returncode == 0, proc
    assert not rep["job"]["ok"], rep["job"]
    assert rep["granted"]["network_mode"] == "none"
    why = {m["what"]: m["why"] for m in rep["left_out"]}
    assert "--network" in why[f"tcp {SERVER} port {ALLOWED}"], why
    assert keys(hb.dir / "learned.ini", "mode") == ["none"]


def test_a_module_beside_the_script_is_granted_alone(hb):
    (hb.dir / "helper.py").write_text("def answer():\n    return 42\n")
    (hb.dir / "job.py").write_text("import helper\nprint(helper.answer())\n")
    proc, rep = learn(hb, "job.py")
    assert proc.returncode == 0, proc
    assert rep["granted"]["read_only"] == [
        {"path": str(hb.dir / "helper.py"),
         "why": "read by the job, alone in its directory"}], rep["granted"]
    assert rep["granted"]["read_write"] == []
    # Python's bytecode cache was written in the throw-away layer only.
    assert not (hb.dir / "__pycache__").exists()
    run = hb.run("job.py", policy=hb.dir / "learned.ini")
    assert run.rc == 0, run
    assert run.stdout.strip() == "42"


def test_limits_come_from_the_peaks_with_headroom(hb):
    # 100 MiB resident for half a second, and 3 children at once.
    proc, rep = learn(hb, "memory_hold.py", "100", "0.5")
    assert proc.returncode == 0, proc
    peaks, limits = rep["job"]["peaks"], rep["granted"]["limits"]
    assert peaks["memory_kb"] >= 100 * 1024, peaks
    # Twice the peak, rounded up to 32 MiB.
    want = -(-2 * peaks["memory_kb"] // (32 * 1024)) * 32
    assert limits["memory_mb"] == want, (peaks, limits)
    assert limits["timeout_seconds"] >= 10
    assert limits["timeout_seconds"] % 10 == 0
    text = (hb.dir / "learned.ini").read_text()
    assert f"memory_mb = {want}\n" in text
    run = hb.run("memory_hold.py", "100", "0.1",
                 policy=hb.dir / "learned.ini")
    assert run.rc == 0, run

    proc, rep = learn(hb, "many_children.py", "3", "0.5", out="kids.ini")
    assert proc.returncode == 0, proc
    # The script and its three children, and two more.
    assert rep["job"]["peaks"]["processes"] == 4, rep["job"]["peaks"]
    assert rep["granted"]["limits"]["max_processes"] == 6


def test_a_name_with_a_control_character_never_reaches_the_policy(hb):
    work = hb.mkdir("work", 0o777)
    proc, rep = learn(hb, "learn_names.py", "work")
    assert proc.returncode == 0, proc
    assert rep["job"]["ok"], rep["job"]
    policy = hb.dir / "learned.ini"
    text = policy.read_text()
    assert "/usr" not in keys(policy, "read_write"), text
    assert "\033" not in text and "\033" not in proc.stdout
    assert_every_key_commented(policy)
    left = {o["what"]: o["why"] for o in rep["left_out"]}
    assert "2 paths or socket names" in \
        left["names with control characters"], rep["left_out"]
    assert list(work.iterdir()) == []


def test_a_policy_that_does_not_load_leaves_the_old_one(hb):
    # A base that loads alone but whose learned child would not: its
    # path holds " ;", where the learned 'extends =' line is cut.
    base = hb.policy("", name="b ;ase.ini")
    good = "[policy]\ndescription = the good one\n"
    (hb.dir / "learned.ini").write_text(good)
    proc, rep = learn(hb, "sleeper.py", "0", options=["--policy", base])
    assert proc.returncode == EXIT_HIVEBOX, proc
    assert (hb.dir / "learned.ini").read_text() == good
    assert sorted(p.name for p in hb.dir.iterdir()
                  if "learn" in p.name) == ["learned.ini"]


@pytest.mark.parametrize("how", ["symlink", "others_write"])
def test_the_output_directory_must_be_roots_alone(hb, how):
    real = hb.mkdir("real", 0o777 if how == "others_write" else 0o755)
    out = real / "x.ini"
    if how == "symlink":
        (hb.dir / "link").symlink_to(real)
        out = hb.dir / "link" / "x.ini"
    proc, _ = learn(hb, "sleeper.py", "0", out=out)
    assert proc.returncode == EXIT_HIVEBOX, proc
    assert proc.stderr.startswith(f"hivebox: learn: -o {out}: "), proc
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert list(real.iterdir()) == []


@pytest.fixture
def host_service(hb):
    """A datagram service of the host's, in hb.dir, and the prefix that
    runs learn in a mount namespace of its own where the socket is also
    bound on a file of its own (a single-file mount, which the observing
    sandbox binds as it is, not in an overlay); what it received."""
    path = hb.dir / "svc.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(str(path))
    srv.setblocking(False)
    bound = hb.dir / "bound.sock"
    bound.write_text("")
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-ec",
              'mount --bind "$1" "$2"; shift 2; exec "$@"', "sh",
              str(path), str(bound)]

    def received():
        got = []
        while True:
            try:
                got.append(srv.recv(64))
            except BlockingIOError:
                return got
    yield bound, prefix, received
    srv.close()
    path.unlink()


@pytest.mark.parametrize("name", ["absolute", "relative"])
def test_a_host_unix_socket_is_never_reached(hb, host_service, name):
    path, prefix, received = host_service
    proc, rep = learn(hb, "learn_unix.py",
                      str(path) if name == "absolute" else path.name,
                      prefix=prefix)
    assert proc.returncode == 0, proc
    assert "tried 60" in proc.stderr, proc.stderr
    assert received() == []
    assert {d["address"] for d in rep["observed"]["destinations"]} == \
        {str(path)}, rep["observed"]


def test_a_root_owned_script_runs_as_a_uid_of_the_range(hb):
    hb.script("learn_whoami.py")
    assert os.stat(hb.dir / "learn_whoami.py").st_uid == 0
    proc, rep = learn(hb, "learn_whoami.py")
    assert proc.returncode == 0, proc
    job = json.loads(proc.stderr.strip().splitlines()[-1])
    assert 2000000000 <= job["uid"] < 2000000000 + 65536, job
    assert job["gid"] == job["uid"], job
    # /proc as in every sandbox: the host's command line masked, the
    # kernel's settings read-only.
    assert job["cmdline"] == "" and not job["wrote_sys"], job
    # The owner of a script that is not root's stays who it runs as.
    os.chown(hb.dir / "learn_whoami.py", 1234, 1234)
    proc, rep = learn(hb, "learn_whoami.py", out="again.ini")
    assert proc.returncode == 0, proc
    job = json.loads(proc.stderr.strip().splitlines()[-1])
    assert (job["uid"], job["gid"]) == (1234, 1234), job


@pytest.fixture
def system_dir(hb):
    """A machine's policy directory outside the start directory, and the
    hivebox.conf that names it."""
    base = hb.dir.parent / f"{hb.dir.name}-etc"
    base.mkdir(mode=0o755)
    config = base / "hivebox.conf"
    config.write_text(f"[policies]\nsystem_dir = {base}\n")
    yield base, config
    shutil.rmtree(base)


def test_a_bare_base_name_is_found_as_hivebox_conf_says(hb, system_dir):
    base, config = system_dir
    strict = FIXTURES.parent.parent / "policies" / "strict.ini"
    (base / "site.ini").write_text(
        f"[policy]\nextends = {strict.resolve()}\n"
        "[execution]\ntimeout_seconds = 7\n")
    proc, rep = learn(hb, "sleeper.py", "0",
                      options=["--config", config, "--policy", "site.ini"])
    assert proc.returncode == 0, proc
    assert rep["base"] == str(base / "site.ini"), rep["base"]
    assert keys(hb.dir / "learned.ini", "extends") == [str(base / "site.ini")]


def test_calls_the_base_allows_by_their_arguments_are_refused_so(hb):
    proc, rep = learn(hb, "learn_args.py")
    assert proc.returncode == 0, proc
    got = json.loads(proc.stderr.strip().splitlines()[-1])
    assert got == {"tiocsti": "EPERM", "clone_newuser": "EPERM"}, got

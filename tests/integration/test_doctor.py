"""hivebox doctor: a healthy set-up the test makes, and broken ones (a
readable key, a missing log directory, a bad hivebox.conf, a pool that a
route overlaps, a policy that fails lint, a trail that does not verify).
Each gives the right row, verdict and exit status; --fix mends what it
says it mends, and a second --fix finds nothing to do.  Nothing here
touches /etc/hivebox or /var/log/hivebox: every path is the test's."""
import grp
import json
import re
import shutil
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import (FIXTURES, HIVEBOX, POLICIES, needs_root,
                      remove_audit_dir)

pytestmark = needs_root

CONF = "[network]\npool = 10.251.0.0/16\n"


class Setup:
    def __init__(self, base: Path):
        self.base = base
        self.conf = base / "hivebox.conf"
        self.audit = base / "log"
        self.key = base / "audit.key"
        self.policies = base / "policies"

    def doctor(self, *extra, netns=None):
        argv = [str(HIVEBOX), "doctor", "--config", str(self.conf),
                "--audit-dir", str(self.audit), "--key", str(self.key),
                "--policies", str(self.policies), *extra]
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        return subprocess.run(argv, capture_output=True, text=True,
                              cwd=self.base, timeout=60)

    def rows(self, *extra, netns=None):
        """The --json rows by check name, and the exit status."""
        p = self.doctor("--json", *extra, netns=netns)
        out = json.loads(p.stdout)
        assert out["exit"] == p.returncode, p
        return {r["check"]: r for r in out["rows"]}, p.returncode, out


@pytest.fixture
def setup(tmp_path):
    s = Setup(tmp_path)
    s.conf.write_text(CONF)
    s.policies.mkdir()
    shutil.copy(POLICIES["strict"], s.policies / "strict.ini")
    subprocess.run([str(HIVEBOX), "audit", "init", "--dir", str(s.audit),
                    "--key", str(s.key)], check=True,
                   capture_output=True)
    # One real run, so that the trail has records to verify.
    shutil.copy(FIXTURES / "hello.py", tmp_path / "hello.py")
    run = subprocess.run([str(HIVEBOX), "--policy", str(POLICIES["strict"]),
                          "--audit-dir", str(s.audit), "--config",
                          str(s.conf), "--quiet", "hello.py"],
                         cwd=tmp_path, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run
    yield s
    remove_audit_dir(s.audit)


def test_healthy(setup):
    rows, rc, out = setup.rows()
    assert rc == 0, out
    for name in ("user namespaces", "seccomp user notification",
                 "nftables over netlink", "veth", "idmapped mounts",
                 "hivebox.conf", "address pool", "audit directory",
                 "audit key", "trail verifies", "policy strict.ini"):
        assert rows[name]["verdict"] == "ok", rows[name]
    assert str(setup.base) in rows["idmapped mounts"]["found"]
    assert "FAIL" not in setup.doctor().stdout
    # The table says the same as the JSON, one row per line.
    text = setup.doctor().stdout
    assert any(line.startswith("ok") and "trail verifies" in line
               for line in text.splitlines()), text


def test_cgroup_row_says_what_this_machine_has(setup):
    rows, _, _ = setup.rows()
    row = rows["cgroup v2 memory, pids"]
    unified = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    if not unified:
        assert row["verdict"] == "warn"
        assert "hybrid" in row["found"] or "v1 only" in row["found"]
        assert "rlimits" in row["without"]


def test_readable_key_is_warned_and_fixed(setup):
    setup.key.chmod(0o644)
    rows, rc, _ = setup.rows()
    assert rows["audit key"]["verdict"] == "warn"
    assert "others can read it" in rows["audit key"]["found"]
    assert "chmod 0600" in rows["audit key"]["fix"]
    assert rc == 0
    p = setup.doctor("--fix")
    assert f"fixed: {setup.key}: mode 0644 -> 0600" in p.stdout, p
    assert stat.S_IMODE(setup.key.stat().st_mode) == 0o600
    rows, rc, out = setup.rows("--fix")
    assert out["fixed"] == ["nothing to fix"]
    assert rows["audit key"]["verdict"] == "ok"


def test_fix_never_follows_a_symlink(setup, tmp_path_factory):
    """--fix acts on the audit directory and key through descriptors
    opened with O_NOFOLLOW: a symlink in their place (one a swap could
    plant between the look and the chmod) leaves its target as it was."""
    other = tmp_path_factory.mktemp("victim")
    victim_dir = other / "dir"
    victim_dir.mkdir(mode=0o755)
    victim_dir.chmod(0o755)
    victim_key = other / "key"
    victim_key.write_bytes(b"x" * 32)
    victim_key.chmod(0o644)
    remove_audit_dir(setup.audit)
    setup.audit.symlink_to(victim_dir)
    setup.key.unlink()
    setup.key.symlink_to(victim_key)
    try:
        p = setup.doctor("--fix")
        assert stat.S_IMODE(victim_dir.stat().st_mode) == 0o755, p
        assert stat.S_IMODE(victim_key.stat().st_mode) == 0o644, p
        assert victim_key.stat().st_uid == 0, p
        assert "mode" not in p.stdout, p
    finally:
        setup.audit.unlink()
        setup.audit.mkdir()
        shutil.rmtree(other)


def test_fix_makes_no_key_for_a_trail_whose_key_is_lost(setup):
    """The trail is bound to setup.key; with that key gone, --fix says
    so and leaves no new (stray) key in its place."""
    setup.key.unlink()
    _, _, out = setup.rows("--fix")
    assert not setup.key.exists(), out
    assert any(f.startswith(f"{setup.key}: not created: bound to "
                            f"{setup.key}, which is missing")
               for f in out["fixed"]), out
    assert str(setup.key) in (setup.audit / "signing").read_text()


def test_fix_leaves_an_unsigned_trail_unsigned(setup, tmp_path):
    """A trail made unsigned on purpose (audit init --unsigned) needs no
    key: the row says so, and --fix neither makes one nor binds it."""
    unsigned = tmp_path / "unsigned-log"
    key = tmp_path / "unsigned.key"
    subprocess.run([str(HIVEBOX), "audit", "init", "--dir", str(unsigned),
                    "--unsigned"], check=True, capture_output=True)
    try:
        argv = [str(HIVEBOX), "doctor", "--json", "--config",
                str(setup.conf), "--audit-dir", str(unsigned), "--key",
                str(key), "--policies", str(setup.policies)]
        p = subprocess.run(argv + ["--fix"], capture_output=True,
                           text=True, cwd=setup.base, timeout=60)
        out = json.loads(p.stdout)
        assert not key.exists(), out
        assert json.loads((unsigned / "signing").read_text()) == \
            {"unsigned": True}
        assert any(f.startswith(f"{key}: not created: the trail in "
                                f"{unsigned} is unsigned on purpose")
                   for f in out["fixed"]), out
        row = next(r for r in out["rows"] if r["check"] == "audit key")
        assert row["verdict"] == "ok", row
        assert "unsigned on purpose" in row["found"], row
    finally:
        remove_audit_dir(unsigned)


def test_missing_log_dir_is_warned_and_created(setup):
    remove_audit_dir(setup.audit)
    setup.key.unlink()
    rows, rc, _ = setup.rows()
    assert rows["audit directory"]["verdict"] == "warn"
    assert "No such file or directory" in rows["audit directory"]["found"]
    assert rows["audit key"]["verdict"] == "warn"
    assert rc == 0
    rows, rc, out = setup.rows("--fix")
    assert f"{setup.audit}: created, 0750 root:adm" in out["fixed"], out
    assert any(f.startswith(f"{setup.key}: created (0600)")
               for f in out["fixed"]), out
    st = setup.audit.stat()
    assert stat.S_IMODE(st.st_mode) == 0o750
    assert (st.st_uid, st.st_gid) == (0, grp.getgrnam("adm").gr_gid)
    st = setup.key.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0
    assert len(setup.key.read_bytes()) == 32
    # The key was made the way audit init makes it: bound to the dir.
    assert str(setup.key) in (setup.audit / "signing").read_text()
    assert rows["audit directory"]["verdict"] == "ok"
    assert rows["audit key"]["verdict"] == "ok"
    key = setup.key.read_bytes()
    _, _, out = setup.rows("--fix")
    assert out["fixed"] == ["nothing to fix"]
    assert setup.key.read_bytes() == key


def test_bad_config_fails_and_stops_strict(setup):
    setup.conf.write_text("[network]\npool = 10.251.0.0/16\nbogus = 1\n")
    rows, rc, _ = setup.rows()
    row = rows["hivebox.conf"]
    assert row["verdict"] == "fail" and row["needed_by_strict"]
    assert f"{setup.conf}:3:" in row["found"]
    assert "bogus" in row["found"]
    assert rc == 2
    text = setup.doctor().stdout
    assert "strict.ini cannot run here" in text


def test_policy_that_fails_lint(setup):
    (setup.policies / "loose.ini").write_text(
        "[syscalls]\ndefault = allow\n")
    rows, rc, _ = setup.rows()
    row = rows["policy loose.ini"]
    assert row["verdict"] == "warn"
    assert "lint warning" in row["found"] and "deny" in row["found"]
    assert row["fix"] == f"hivebox policy lint {setup.policies}/loose.ini"
    assert rows["policy strict.ini"]["verdict"] == "ok"
    assert rc == 0


def test_policy_that_does_not_load(setup):
    (setup.policies / "broken.ini").write_text("[execution]\nmemroy_mb = 1\n")
    rows, rc, _ = setup.rows()
    row = rows["policy broken.ini"]
    assert row["verdict"] == "fail" and not row["needed_by_strict"]
    assert "broken.ini:2:" in row["found"] and "memroy_mb" in row["found"]
    assert rc == 1


def test_trail_that_does_not_verify(setup):
    log = setup.audit / "execution_audit.log"
    text = log.read_text()
    log.write_text(text.replace('"exit_code":0', '"exit_code":1', 1))
    assert log.read_text() != text
    rows, rc, _ = setup.rows()
    row = rows["trail verifies"]
    assert row["verdict"] == "fail"
    assert "FAIL at" in row["found"]
    assert rc == 1


@pytest.fixture
def netns():
    name = f"hbdoc-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=True)


def test_pool_overlapping_a_route(setup, netns):
    ip = ["ip", "-n", netns]
    subprocess.run(ip + ["link", "set", "lo", "up"], check=True)
    rows, rc, _ = setup.rows(netns=netns)
    assert rows["address pool"]["verdict"] == "ok", rows["address pool"]
    subprocess.run(ip + ["route", "add", "10.251.7.0/24", "dev", "lo"],
                   check=True)
    rows, rc, _ = setup.rows(netns=netns)
    row = rows["address pool"]
    assert row["verdict"] == "fail" and not row["needed_by_strict"]
    assert "10.251.7.0/24 dev lo" in row["found"]
    assert "mode = none runs" in row["without"]
    assert rc == 1
    # A route that holds the whole pool meets it too.
    subprocess.run(ip + ["route", "del", "10.251.7.0/24"], check=True)
    subprocess.run(ip + ["route", "add", "10.0.0.0/8", "dev", "lo"],
                   check=True)
    rows, rc, _ = setup.rows(netns=netns)
    assert "10.0.0.0/8 dev lo" in rows["address pool"]["found"]
    assert rc == 1


def test_idmap_tries_the_paths_policies_name(setup, tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    (setup.policies / "data.ini").write_text(
        f"[filesystem]\nread_only = {data}, /nonexistent-hb-doctor, ./rel\n")
    rows, rc, _ = setup.rows()
    row = rows["idmapped mounts"]
    assert row["verdict"] == "ok", row
    assert re.search(re.escape(str(data)) + r" \(\w+\): yes", row["found"])
    assert "/nonexistent-hb-doctor (?): absent, not tried" in row["found"]
    assert "rel" not in row["found"]
    # procfs cannot be idmapped: a policy that lists it cannot run as
    # root, but strict.ini (which lists nothing) still can.
    (setup.policies / "proc.ini").write_text("[filesystem]\nread_only = /proc\n")
    rows, rc, _ = setup.rows()
    row = rows["idmapped mounts"]
    assert row["verdict"] == "fail" and not row["needed_by_strict"], row
    assert "/proc (proc): Invalid argument" in row["found"]
    assert rc == 1


def test_usage_errors():
    p = subprocess.run([str(HIVEBOX), "doctor", "--bogus"],
                       capture_output=True, text=True)
    assert p.returncode == 125
    assert "unknown option '--bogus' for doctor" in p.stderr
    p = subprocess.run([str(HIVEBOX), "doctor", "--help"],
                       capture_output=True, text=True)
    assert p.returncode == 0 and "--policies DIR" in p.stdout


def test_unprivileged_caller(setup, traversable_tmp):
    """What only root runs use is not tried for another caller, and said
    so; what it cannot read is said too, never taken for missing."""
    setup.base.chmod(0o755)
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                        "--clear-groups", str(HIVEBOX), "doctor", "--json",
                        "--config", str(setup.conf), "--audit-dir",
                        str(setup.audit), "--key", str(setup.key),
                        "--policies", str(setup.policies)],
                       capture_output=True, text=True, cwd=setup.base,
                       timeout=60)
    out = json.loads(p.stdout)
    rows = {r["check"]: r for r in out["rows"]}
    for name in ("idmapped mounts", "nftables and veth"):
        assert rows[name]["verdict"] == "warn", rows[name]
        assert rows[name]["found"].startswith("not tried: only root")
    assert "veth" not in rows
    assert rows["hivebox.conf"]["verdict"] == "ok"
    # Its mode and owner are there for anyone to see.
    assert rows["audit key"]["verdict"] == "ok"
    assert "0600 uid 0" in rows["audit key"]["found"]
    assert rows["trail verifies"]["verdict"] == "fail"
    assert "Permission denied" in rows["trail verifies"]["found"]
    assert p.returncode == out["exit"] == 1
    # hivebox.conf is root's to read: another caller's failure to is a
    # hint, not a verdict on strict.ini.
    setup.conf.chmod(0o600)
    p = subprocess.run(p.args, capture_output=True, text=True,
                       cwd=setup.base, timeout=60)
    rows = {r["check"]: r for r in json.loads(p.stdout)["rows"]}
    assert rows["hivebox.conf"]["verdict"] == "warn"
    assert not rows["hivebox.conf"]["needed_by_strict"]
    assert p.returncode == 1


def test_policies_are_found_where_a_root_run_finds_them(setup, tmp_path):
    """Without --policies, doctor lints hivebox.conf's [policies]
    system_dir, and loads each policy (and the one it extends, for lint)
    searching the directories a root run searches: mid.ini extends the
    shipped strict by its bare name, found only through shipped_dir."""
    system, shipped = tmp_path / "sys", tmp_path / "shipped"
    system.mkdir()
    shipped.mkdir()
    shutil.copy(POLICIES["strict"], shipped / "strict.ini")
    (system / "mid.ini").write_text("[policy]\nextends = strict\n")
    (system / "site.ini").write_text(
        "[policy]\nextends = mid\n[execution]\ntimeout_seconds = 30\n")
    setup.conf.write_text(CONF + f"[policies]\nsystem_dir = {system}\n"
                          f"shipped_dir = {shipped}\n")
    p = subprocess.run([str(HIVEBOX), "doctor", "--json", "--config",
                        str(setup.conf), "--audit-dir", str(setup.audit),
                        "--key", str(setup.key)],
                       capture_output=True, text=True, cwd=setup.base,
                       timeout=60)
    out = json.loads(p.stdout)
    rows = {r["check"]: r for r in out["rows"]}
    assert rows["policy mid.ini"]["verdict"] == "ok", rows["policy mid.ini"]
    assert rows["policy site.ini"]["verdict"] == "ok", \
        rows["policy site.ini"]
    assert "policy strict.ini" not in rows, rows


def test_many_policies_lose_no_row(setup):
    """70 policies and a broken one: every policy has its row, and the
    broken one's FAIL decides the exit status (no table limit)."""
    for i in range(70):
        shutil.copy(POLICIES["strict"], setup.policies / f"p{i:02}.ini")
    (setup.policies / "zz-broken.ini").write_text("[policy]\nnosuchkey = 1\n")
    rows, rc, out = setup.rows()
    assert sum(1 for r in out["rows"]
               if r["check"].startswith("policy ")) == 72, out
    assert rows["policy zz-broken.ini"]["verdict"] == "fail", rows
    assert rc == 1, out
    assert setup.doctor().returncode == 1

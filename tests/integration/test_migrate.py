"""hivebox migrate (issue 14): the fixture crontab of tests/fixtures/migrate
has every line form migrate knows.  Its dry run scores each job with the
real `hivebox check` and writes the policies; --apply rewrites only the
Python commands, byte for byte as tests/fixtures/migrate/crontab.applied
says; a second --apply changes nothing; --rollback gives back the
original bytes.  A rewritten line is run by sh as cron would run it, and
the job runs under hivebox.  The user crontab channel is tested with a
user the test creates and removes."""
import os
import pwd
import re
import shutil
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import EXIT_HIVEBOX, FIXTURES, HIVEBOX, REPO, require_root
from test_audit import default_key, exec_records

MIGRATE = FIXTURES / "migrate"
STRICT = REPO / "policies" / "strict.ini"
CRONTAB_BIN = "/usr/bin/crontab"


def label(path, kind: str = "file") -> str:
    """What the policies of a crontab file are named after: its kind,
    its name and the FNV-1a hash of its path (hivebox_source_label)."""
    h = 2166136261
    for b in str(path).encode():
        h = ((h ^ b) * 16777619) & 0xffffffff
    return f"{kind}-{Path(path).name}-{h & 0xffffff:06x}"


class Gov:
    """The fixture tree in a test's directory: gov/ with its scripts (their
    @DIR@ filled in), a virtualenv, the crontab, a base policy that keeps
    the audit trail in the test's own directory, and the policy dir."""

    def __init__(self, hb):
        self.hb = hb
        self.dir = hb.dir
        self.crontab = self.dir / "crontab"
        self.label = label(self.crontab)
        shutil.copytree(MIGRATE / "gov", self.dir / "gov")
        for script in (self.dir / "gov").glob("*.py"):
            script.write_text(self.fill(script.read_text()))
        (self.dir / "gov" / "direct.py").chmod(0o755)
        (self.dir / "gov" / "out").mkdir(mode=0o755)
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip",
                        str(self.dir / "venv")], check=True)
        self.original = self.fill((MIGRATE / "crontab").read_text()).encode()
        self.crontab.write_bytes(self.original)
        self.policies = self.dir / "policies"
        self.base = self.dir / "base.ini"
        self.base.write_text(f"[policy]\nextends = {STRICT}\n"
                             f"[audit]\ndir = {hb.audit_dir}\n")

    def fill(self, text: str) -> str:
        return (text.replace("@DIR@", str(self.dir))
                .replace("@HIVEBOX@", str(HIVEBOX.resolve()))
                .replace("@POLICIES@", str(self.dir / "policies"))
                .replace("@LABEL@", self.label))

    def expected(self) -> bytes:
        return self.fill((MIGRATE / "crontab.applied").read_text()).encode()

    def migrate(self, *args, source=None, timeout=300):
        source = source or ["--crontab", str(self.crontab)]
        argv = [str(HIVEBOX), "migrate", *source, "--policy-dir",
                str(self.policies), "--base", str(self.base),
                "--audit-dir", str(self.hb.audit_dir), *args]
        return subprocess.run(argv, cwd=self.dir, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True,
                              timeout=timeout)

    def backup(self) -> Path:
        name = str(self.crontab).replace("/", "%")
        return self.policies / ".backup" / name


@pytest.fixture
def gov(hb):
    require_root()
    return Gov(hb)


def blocks(out: str) -> dict:
    """The report's block for each crontab line: {lineno: text}."""
    found = {}
    for m in re.finditer(r"^  line (\d+): (.*?)(?=^  line |^  would|^  chan"
                         r"|^  nothing|^dry run|\Z)", out, re.M | re.S):
        found.setdefault(int(m.group(1)), m.group(2))
    return found


def score(block: str) -> int:
    return int(re.search(r"score (\d+)/100", block).group(1))


def test_dry_run_scores_each_job_and_writes_its_policy(gov):
    run = gov.migrate()
    assert run.returncode == 0, run.stderr
    # A dry run changes no byte of the crontab.
    assert gov.crontab.read_bytes() == gov.original
    b = blocks(run.stdout)
    assert set(b) >= {8, 10, 12, 14, 16, 18, 21, 22}, run.stdout
    assert score(b[8]) == 100, b[8]
    assert f"in {gov.dir}/gov" in b[8]  # cd DIR && python3 tally.py
    assert "ok  15  its literal paths are in the policy (2 granted)" in b[8]
    assert score(b[10]) == 100 and score(b[12]) == 100
    # The shebang script: it needs network and spawns /bin/date.
    assert b[14].startswith("script ")
    assert score(b[14]) == 65, b[14]
    assert re.search(r"--   0  needs network, which the policy does not "
                     r"give .*network-use \(line 8\)", b[14]), b[14]
    assert "--   0  spawns programs, which the policy does not bring in: " \
           "subprocess.run() (line 11)" in b[14]
    assert "--   0  the script parses: line 2: does not parse" in b[16]
    assert score(b[16]) < 100
    # The missing script: 0 with the reason, no policy.
    assert score(b[18]) == 0
    assert f"script {gov.dir}/gov/gone.py not found" in b[18]
    assert "python -m runs a module, not a script file" in b[21]
    assert b[22].startswith("cannot parse: not a time field"), b[22]
    assert "runs as root, who exists" in b[8]
    # Not Python: not reported at all.
    assert "find" not in run.stdout and "logger" not in run.stdout
    assert "would change:" in run.stdout
    # --apply wraps only jobs that parse and score --min-score (50).
    assert ("  line 16: left as it is: hivebox check did not judge it, or "
            "it does not parse (score ") in run.stdout, run.stdout
    assert "  line 14: left as it is" not in run.stdout
    assert (f"  - 5 0 * * * cd {gov.dir}/gov && python3 tally.py >> "
            f"{gov.dir}/gov/tally.log 2>&1") in run.stdout
    names = sorted(p.name for p in gov.policies.glob("*.ini"))
    assert names == [f"{gov.label}-{n}.ini" for n in
                     ("broken", "direct", "report-2", "report", "tally")]
    tally = (gov.policies / f"{gov.label}-tally.ini").read_text()
    assert f"\n; migrate source: {gov.label}\n" in tally
    # They copy the cron command, which may hold a token: root's alone.
    for name in names:
        assert stat.S_IMODE((gov.policies / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(gov.policies.stat().st_mode) == 0o711
    assert f"extends = {gov.base}\n" in tally
    # It imports tallylib from beside it: its directory is shown, which
    # holds the config it reads; what it writes is made writable.
    assert (f"; the script's directory, sys.path[0]: it imports tallylib "
            f"from there\nread_only = {gov.dir}/gov\n") in tally
    assert "config/tally.ini" not in tally
    assert f"read_write = {gov.dir}/gov/out\n" in tally
    venv = (gov.policies / f"{gov.label}-report-2.ini").read_text()
    assert f"interpreter = {gov.dir}/venv/bin/python\n" in venv
    assert f"read_only = {gov.dir}/venv\n" in venv
    report = (gov.policies / f"{gov.label}-report.ini").read_text()
    assert "set = PYTHONUNBUFFERED=1\n" in report
    # It imports only the standard library: its directory stays out.
    assert "sys.path[0]" not in report and "read_only" not in report
    # Each written policy loads, as hivebox policy show loads it.
    for name in names:
        show = subprocess.run([str(HIVEBOX), "policy", "show",
                               str(gov.policies / name)],
                              capture_output=True, text=True, timeout=60)
        assert show.returncode == 0, (name, show.stderr)
    # The same run again writes the same policies.
    before = {n: (gov.policies / n).read_bytes() for n in names}
    assert gov.migrate().returncode == 0
    assert {n: (gov.policies / n).read_bytes() for n in names} == before


def test_apply_twice_then_rollback_compares_bytes(gov):
    run = gov.migrate("--apply")
    assert run.returncode == 0, run.stderr
    assert gov.crontab.read_bytes() == gov.expected()
    assert gov.backup().read_bytes() == gov.original
    assert stat.S_IMODE(gov.backup().stat().st_mode) == 0o600
    # Applying again wraps nothing twice and keeps the backup.
    again = gov.migrate("--apply")
    assert again.returncode == 0, again.stderr
    assert "  nothing to change\n" in again.stdout
    assert "already under hivebox (policy " \
           f"{gov.policies}/{gov.label}-tally.ini)" in again.stdout
    assert gov.crontab.read_bytes() == gov.expected()
    assert gov.backup().read_bytes() == gov.original
    back = gov.migrate("--rollback")
    assert back.returncode == 0, back.stderr
    assert gov.crontab.read_bytes() == gov.original
    before = Path(str(gov.backup()) + ".before-rollback")
    assert before.read_bytes() == gov.expected()
    # Rolling back again leaves the original as it is.
    again = gov.migrate("--rollback")
    assert again.returncode == 0 and "already as the backup" in again.stdout
    assert gov.crontab.read_bytes() == gov.original
    # No temporary file left next to the crontab or the backup.
    assert not [p for p in gov.dir.iterdir() if ".hivebox-" in p.name]
    assert not [p for p in gov.backup().parent.iterdir()
                if ".hivebox-" in p.name]


def cron_command(crontab: bytes, lineno: int) -> str:
    """The command of a job line with five time fields, as cron hands
    it to sh -c."""
    line = crontab.decode().split("\n")[lineno - 1]
    return line.split(None, 5)[5]


def test_rewritten_line_runs_the_job_under_hivebox(gov):
    assert gov.migrate("--apply").returncode == 0
    applied = gov.crontab.read_bytes()
    env = {"PATH": "/usr/bin:/bin", "HOME": "/root", "SHELL": "/bin/sh"}
    tally = cron_command(applied, 8)
    assert f"{HIVEBOX.resolve()} --policy " in tally
    run = subprocess.run(["sh", "-c", tally], env=env, cwd="/",
                         stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, (run, (gov.dir / "gov" / "tally.log")
                                 .read_text())
    assert (gov.dir / "gov" / "out" / "tally.txt").read_text() == \
        "votes: 3\n"
    assert "tallied 3" in (gov.dir / "gov" / "tally.log").read_text()
    report = cron_command(applied, 10)
    run = subprocess.run(["sh", "-c", report], env=env, cwd="/",
                         stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run
    assert run.stdout == "report --date today\n"
    # Both ran under hivebox: the trail of the base policy has them.
    # (migrate's own hivebox check runs are there too, as the analyzer.)
    ends = [r for r in exec_records(gov.hb.audit_dir, default_key())
            if r["type"] == "end" and
            Path(r["script"]).name != "hivebox-check"]
    assert {(Path(r["script"]).name, r["result"]["exit_code"])
            for r in ends} == {("tally.py", 0), ("report.py", 0)}


CRON_D_GOV = ("# cron.d: a user field on every job\n"
              "SHELL=/bin/sh\n"
              "*/5 * * * * {user} cd {dir}/gov && python3 tally.py\n"
              "@daily root python3 -B {dir}/gov/report.py")  # no newline


def test_cron_d_directory(gov):
    nobody = "hbmig-nobody-" + uuid.uuid4().hex[:6]
    cron_d = gov.dir / "cron.d"
    cron_d.mkdir()
    text = CRON_D_GOV.format(user=nobody, dir=gov.dir).encode()
    (cron_d / "gov").write_bytes(text)
    (cron_d / "gov").chmod(0o640)
    (cron_d / "gov.bak").write_bytes(text)
    run = gov.migrate(source=["--cron-d", str(cron_d)])
    assert run.returncode == 0, run.stderr
    assert f"{cron_d}/gov.bak: skipped: cron does not read" in run.stdout
    assert f"{cron_d}/gov (with a user field):" in run.stdout
    b = blocks(run.stdout)
    assert f"--   0  runs as {nobody}, who does not exist here" in b[3]
    assert score(b[3]) == 90
    assert "runs as root, who exists" in b[4] and score(b[4]) == 100
    crond = label(cron_d / "gov", "crond")
    assert "set = PYTHONDONTWRITEBYTECODE=1" in \
        (gov.policies / f"{crond}-report.ini").read_text()
    applied = gov.migrate("--apply", source=["--cron-d", str(cron_d)])
    assert applied.returncode == 0, applied.stderr
    hivebox = HIVEBOX.resolve()
    assert (cron_d / "gov").read_bytes() == (
        "# cron.d: a user field on every job\nSHELL=/bin/sh\n"
        f"*/5 * * * * {nobody} cd {gov.dir}/gov && {hivebox} --policy "
        f"{gov.policies}/{crond}-tally.ini tally.py\n"
        f"@daily root {hivebox} --policy {gov.policies}/{crond}-report.ini "
        f"{gov.dir}/gov/report.py").encode()
    # The file cron reads keeps its mode; the one it ignores is untouched.
    assert stat.S_IMODE((cron_d / "gov").stat().st_mode) == 0o640
    assert (cron_d / "gov.bak").read_bytes() == text
    assert sorted(p.name for p in cron_d.iterdir()) == ["gov", "gov.bak"]
    back = gov.migrate("--rollback", source=["--cron-d", str(cron_d)])
    assert back.returncode == 0, back.stderr
    assert (cron_d / "gov").read_bytes() == text


@pytest.fixture
def cron_user(gov):
    """A user made for the test, with a crontab of its own installed
    with crontab(1); both removed at the end, also on failure."""
    if not os.path.exists(CRONTAB_BIN):
        pytest.skip(f"{CRONTAB_BIN} missing: the cron package (make deps)")
    name = "hbmig" + uuid.uuid4().hex[:8]
    subprocess.run(["useradd", "-M", "-d", str(gov.dir), "-s",
                    "/usr/sbin/nologin", name], check=True)
    try:
        yield name
    finally:
        subprocess.run([CRONTAB_BIN, "-u", name, "-r"],
                       stderr=subprocess.DEVNULL)
        subprocess.run(["userdel", name], check=True)
    assert not os.path.exists(f"/var/spool/cron/crontabs/{name}")


def crontab_of(user: str) -> bytes:
    return subprocess.run([CRONTAB_BIN, "-u", user, "-l"], check=True,
                          capture_output=True).stdout


def test_user_crontab_through_crontab_command(gov, cron_user):
    original = (f"MAILTO=\"\"\n# {cron_user}'s jobs\n"
                f"5 0 * * * cd {gov.dir}/gov && python3 tally.py >> "
                f"{gov.dir}/gov/tally.log 2>&1\n").encode()
    tab = gov.dir / "user.tab"
    tab.write_bytes(original)
    subprocess.run([CRONTAB_BIN, "-u", cron_user, str(tab)], check=True)
    src = ["-u", cron_user]
    dry = gov.migrate(source=src)
    assert dry.returncode == 0, dry.stderr
    assert f"the crontab of {cron_user} (no user field):" in dry.stdout
    assert f"runs as {cron_user}, who exists" in dry.stdout
    assert crontab_of(cron_user) == original
    assert gov.migrate("--apply", source=src).returncode == 0
    wrapped = original.replace(
        b"python3 tally.py", f"{HIVEBOX.resolve()} --policy "
        f"{gov.policies}/user-{cron_user}-tally.ini tally.py".encode())
    assert crontab_of(cron_user) == wrapped
    # cron runs the job, hivebox with it, as the user: his group reads
    # the policy (through a directory it cannot list), the world not.
    policy = gov.policies / f"user-{cron_user}-tally.ini"
    st = policy.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == \
        (0o640, 0, pwd.getpwnam(cron_user).pw_gid)
    backup = gov.policies / ".backup" / f"user-{cron_user}.crontab"
    assert backup.read_bytes() == original
    again = gov.migrate("--apply", source=src)
    assert again.returncode == 0 and "nothing to change" in again.stdout
    assert crontab_of(cron_user) == wrapped
    assert gov.migrate("--rollback", source=src).returncode == 0
    assert crontab_of(cron_user) == original
    assert not [p for p in backup.parent.iterdir()
                if ".hivebox-" in p.name]


def test_learn_writes_the_policy_the_job_then_runs_under(gov):
    tab = gov.dir / "learn"
    tab.write_text(f"5 0 * * * cd {gov.dir}/gov && python3 tally.py\n")
    run = gov.migrate("--learn", source=["--crontab", str(tab)])
    assert run.returncode == 0, run.stderr
    assert "each job is EXECUTED once by hivebox learn" in run.stdout
    # Learning changes nothing on the host.
    assert not (gov.dir / "gov" / "out" / "tally.txt").exists()
    learned = gov.policies / f"{label(tab)}-tally.ini"
    base = gov.policies / f"{label(tab)}-tally.base.ini"
    assert f"extends = {base}" in learned.read_text() or \
        f"extends = {base.name}" in learned.read_text()
    assert f"extends = {gov.base}\n" in base.read_text()
    assert score(blocks(run.stdout)[1]) >= 85, run.stdout
    assert gov.migrate("--apply", source=["--crontab", str(tab)]
                       ).returncode == 0
    cmd = cron_command(tab.read_bytes(), 1)
    job = subprocess.run(["sh", "-c", cmd], env={"PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=120)
    assert job.returncode == 0, job
    assert (gov.dir / "gov" / "out" / "tally.txt").read_text() == \
        "votes: 3\n"


@pytest.mark.parametrize("args,message", [
    ([], "migrate: name one crontab: --crontab FILE, -u USER or --cron-d "
         "DIR"),
    (["--crontab", "x", "-u", "root"], "migrate: name one crontab"),
    (["--crontab", "nope.tab"], "nope.tab: cannot read: No such file"),
    (["--crontab", "c.tab", "--policy-dir", "my policies"],
     "a crontab line cannot name it unquoted"),
    (["--crontab", "c.tab", "--rollback", "--policy-dir", "p"],
     "cannot roll back: no backup here"),
    (["--crontab", "c.tab", "--apply", "--rollback"],
     "--apply and --rollback together"),
    (["--crontab", "c.tab", "--bogus"], "unknown option '--bogus' for "
                                        "migrate"),
    (["--crontab", "c.tab", "--min-score", "101"],
     "migrate: --min-score '101': a number from 0 to 100"),
    (["-u", "hbmig-no-such-user"], "migrate: -u hbmig-no-such-user: no "
                                   "such user"),
])
def test_bad_input_one_line_and_nothing_written(hb, args, message):
    default_dir = Path("/etc/hivebox/migrated")
    default_there = default_dir.exists()
    tab = hb.dir / "c.tab"
    tab.write_bytes(b"@daily python3 /srv/x.py\n")
    run = subprocess.run([str(HIVEBOX), "migrate", *args], cwd=hb.dir,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == EXIT_HIVEBOX, run
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert message in run.stderr
    assert run.stdout == ""
    assert tab.read_bytes() == b"@daily python3 /srv/x.py\n"
    assert not (hb.dir / "my policies").exists()
    # Nor the default policy directory, where none was named.
    assert default_dir.exists() == default_there


def test_script_found_along_path_is_named_by_its_path(gov):
    """cron's shell finds `dj` along the crontab's PATH; hivebox does
    not search PATH, so the wrapped line names the script's path."""
    bin_dir = gov.dir / "bin"
    bin_dir.mkdir()
    dj = bin_dir / "dj"
    dj.write_text("#!/usr/bin/python3\n" +
                  (gov.dir / "gov" / "report.py").read_text())
    dj.chmod(0o755)
    tab = gov.dir / "pathtab"
    tab.write_text(f"PATH={bin_dir}:/usr/bin:/bin\n@hourly dj --now\n")
    run = gov.migrate("--apply", source=["--crontab", str(tab)])
    assert run.returncode == 0, run.stderr
    assert f"script {dj}, as root" in run.stdout, run.stdout
    # "@hourly COMMAND": the special schedule is one field.
    cmd = tab.read_text().split("\n")[1].split(None, 1)[1]
    assert cmd == (f"{HIVEBOX.resolve()} --policy {gov.policies}/"
                   f"{label(tab)}-dj.ini {dj} --now"), cmd
    job = subprocess.run(["sh", "-c", cmd], env={"PATH": "/usr/bin:/bin"},
                         cwd="/", stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=120)
    assert job.returncode == 0, job
    assert job.stdout == "report --now\n"


def test_policy_dir_and_backup_must_be_ours(gov):
    """A policy directory (or .backup) that another user owns, that
    others can write, or that is a symlink, is refused: whoever could
    write it could swap a root job's policy or plant the backup
    --rollback installs."""
    gov.policies.mkdir(mode=0o755)
    os.chmod(gov.policies, 0o777)
    run = gov.migrate()
    assert run.returncode == EXIT_HIVEBOX, run
    assert run.stderr == (f"hivebox: {gov.policies}: cannot use: not a directory "
                          "of ours: owned by another user, or writable "
                          "by group or others\n"), run.stderr
    assert list(gov.policies.iterdir()) == []
    os.chmod(gov.policies, 0o755)
    os.chown(gov.policies, 65534, 65534)
    assert gov.migrate().returncode == EXIT_HIVEBOX
    os.chown(gov.policies, 0, 0)
    elsewhere = gov.dir / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (gov.policies / ".backup").symlink_to(elsewhere)
    run = gov.migrate("--apply")
    assert run.returncode == EXIT_HIVEBOX, run
    assert run.stderr == (f"hivebox: {gov.policies}/.backup: cannot use: not a "
                          "directory (a symlink?)\n"), run.stderr
    assert gov.crontab.read_bytes() == gov.original
    assert list(elsewhere.iterdir()) == []
    (gov.policies / ".backup").unlink()
    assert gov.migrate("--apply").returncode == 0
    assert stat.S_IMODE(gov.backup().parent.stat().st_mode) == 0o700
    (gov.dir / "planted").write_bytes(b"@daily rm -rf /\n")
    gov.backup().unlink()
    gov.backup().symlink_to(gov.dir / "planted")
    run = gov.migrate("--rollback")
    assert run.returncode == EXIT_HIVEBOX, run
    assert gov.crontab.read_bytes() == gov.expected()
    # A .backup others can write is not rolled back from either.
    gov.backup().unlink()
    os.chmod(gov.backup().parent, 0o777)
    run = gov.migrate("--rollback")
    assert run.returncode == EXIT_HIVEBOX, run
    assert run.stderr == (f"hivebox: {gov.policies}/.backup: cannot use: "
                          "not a directory of ours: owned by another user, "
                          "or writable by group or others\n"), run.stderr
    assert gov.crontab.read_bytes() == gov.expected()


def test_crontab_in_a_directory_others_write_is_not_rewritten(gov):
    """The crontab is rewritten by a rename in its directory: one that
    someone other than root can write could have the file swapped
    between migrate's read and that rename.  A dry run still scores."""
    shared = gov.dir / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    tab = shared / "tab"
    tab.write_bytes(gov.original)
    assert gov.migrate(source=["--crontab", str(tab)]).returncode == 0
    run = gov.migrate("--apply", source=["--crontab", str(tab)])
    assert run.returncode == EXIT_HIVEBOX, run
    assert run.stderr == (f"hivebox: {tab}: cannot rewrite: its directory "
                          "is writable by someone other than root\n")
    assert run.stdout == ""
    assert tab.read_bytes() == gov.original
    assert not (gov.policies / ".backup").exists()


def test_sources_of_one_name_never_share_a_policy(gov):
    """Two crontabs named alike, a user and a cron.d file of his name:
    each gets policies of its own, and a policy written for one source
    (or by hand) is not replaced by another's."""
    other = gov.dir / "other"
    other.mkdir()
    twin = other / "crontab"
    twin.write_bytes(gov.original)
    assert gov.migrate().returncode == 0
    assert gov.migrate(source=["--crontab", str(twin)]).returncode == 0
    mine = (gov.policies / f"{gov.label}-tally.ini").read_bytes()
    assert label(twin) != gov.label
    assert (gov.policies / f"{label(twin)}-tally.ini").exists()
    # The first crontab's policy is as it wrote it.
    assert gov.migrate().returncode == 0
    assert (gov.policies / f"{gov.label}-tally.ini").read_bytes() == mine
    # One an admin wrote under that name is not replaced.
    hand = gov.policies / f"{gov.label}-report.ini"
    hand.write_text(f"[policy]\nextends = {STRICT}\n")
    run = gov.migrate()
    assert run.returncode == EXIT_HIVEBOX, run
    assert run.stderr == (f"hivebox: {hand}: cannot write the policy: one "
                          "is there that hivebox migrate did not write "
                          "for this crontab; not replaced\n"), run.stderr
    assert hand.read_text() == f"[policy]\nextends = {STRICT}\n"


def test_apply_keeps_the_policy_reviewed_after_the_dry_run(gov):
    """The dry run's policy is the one to review: --apply scores the job
    against it as edited, and wraps the line with it; --repropose
    proposes it anew."""
    assert gov.migrate().returncode == 0
    tally = gov.policies / f"{gov.label}-tally.ini"
    proposed = tally.read_text()
    tally.write_text(proposed + "; reviewed by ops\n")
    again = gov.migrate("--repropose")
    assert again.returncode == 0, again.stderr
    assert "kept as an earlier run" not in again.stdout
    assert tally.read_text() == proposed
    reviewed = proposed + "; reviewed by ops\n"
    tally.write_text(reviewed)
    run = gov.migrate("--apply")
    assert run.returncode == 0, run.stderr
    block = blocks(run.stdout)[8]
    assert "kept as an earlier run wrote it" in block, block
    assert "ok  15  its literal paths are in the policy\n" in block
    assert score(block) == 100, block
    assert tally.read_text() == reviewed
    assert gov.crontab.read_bytes() == gov.expected()


def test_learn_is_not_run_as_another_user_than_crons(gov):
    """hivebox learn runs a script as its owner (root here): a job cron
    runs as nobody is not learned, and the report says so."""
    tab = gov.dir / "learnas"
    tab.write_text(f"5 0 * * * nobody python3 {gov.dir}/gov/report.py\n")
    run = gov.migrate("--learn", "--user-field",
                      source=["--crontab", str(tab)])
    assert run.returncode == 0, run.stderr
    assert ("    learn: not run: cron runs the job as nobody, hivebox "
            "learn would run it as the script's owner; learn it by "
            "hand\n") in run.stdout, run.stdout
    assert "learn: running" not in run.stdout
    assert not list(gov.policies.glob("*.base.ini"))


def test_crontab_environment_reaches_the_job(gov):
    """The sandbox starts from an empty environment: the crontab's env
    lines above the job (not cron's own) and the command's leading
    assignments are set by the policy; a computed one is left out, and
    said so."""
    job = gov.dir / "gov" / "envjob.py"
    job.write_text("import os\nfor k in ('LEVEL', 'GREETING', 'MAILTO', "
                   "'LATER', 'WHO'):\n    print(k, os.environ.get(k))\n")
    tab = gov.dir / "envtab"
    tab.write_text("MAILTO=ops@example.org\nLEVEL=3\n"
                   f"5 0 * * * GREETING=hi WHO=$LOGNAME python3 {job}\n"
                   "LATER=no\n")
    run = gov.migrate("--apply", source=["--crontab", str(tab)])
    assert run.returncode == 0, run.stderr
    assert "left out of the policy: WHO=$LOGNAME: the shell computes its " \
           "value" in run.stdout, run.stdout
    policy = (gov.policies / f"{label(tab)}-envjob.ini").read_text()
    assert "set = LEVEL=3\n" in policy and "set = GREETING=hi\n" in policy
    assert "MAILTO" not in policy and "LATER" not in policy
    cmd = cron_command(tab.read_bytes(), 3)
    out = subprocess.run(["sh", "-c", cmd], env={"PATH": "/usr/bin:/bin"},
                         cwd="/", stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out
    assert out.stdout == ("LEVEL 3\nGREETING hi\nMAILTO None\nLATER None\n"
                          "WHO None\n"), out.stdout


@pytest.fixture
def open_dir():
    """A directory any user can traverse (the test's own is 0700),
    removed at the end, also on failure."""
    import tempfile
    path = Path(tempfile.mkdtemp(dir=REPO / "build", prefix="mig-as-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def test_wrapped_job_runs_as_the_cron_user(gov, cron_user, open_dir):
    """cron runs a user's wrapped job, hivebox with it, as that user:
    he must be able to read his policy, and the job runs as him."""
    job = open_dir / "whoami.py"
    job.write_text("import os\nprint('uid', os.getuid())\n")
    job.chmod(0o644)
    home = open_dir / "home"
    home.mkdir()
    pw = pwd.getpwnam(cron_user)
    os.chown(home, pw.pw_uid, pw.pw_gid)
    tab = open_dir / "tab"
    tab.write_text(f"@daily python3 {job}\n")
    subprocess.run([CRONTAB_BIN, "-u", cron_user, str(tab)], check=True)
    policies = open_dir / "policies"
    run = subprocess.run(
        [str(HIVEBOX), "migrate", "-u", cron_user, "--policy-dir",
         str(policies), "--base", str(STRICT), "--audit-dir",
         str(gov.hb.audit_dir), "--apply"], cwd=open_dir,
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=300)
    assert run.returncode == 0, run
    cmd = crontab_of(cron_user).decode().split("\n")[0].split(None, 1)[1]
    assert cmd.startswith(f"{HIVEBOX.resolve()} --policy {policies}/")
    job_run = subprocess.run(
        ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
         "--clear-groups", "sh", "-c", cmd],
        env={"PATH": "/usr/bin:/bin", "HOME": str(home)}, cwd="/",
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=120)
    assert job_run.returncode == 0, job_run
    assert job_run.stdout == f"uid {pw.pw_uid}\n"

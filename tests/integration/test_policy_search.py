"""Finding a policy by a bare name (hivebox-policy(5) FINDING POLICIES):
`--policy NAME` and `extends = NAME` look next to the naming file (the
current directory for --policy), then in the machine's policies, then in
the shipped ones, NAME as given and then NAME.ini.  A root run takes the
last two from hivebox.conf's [policies], which the tests point at
directories of their own with --config, so the real /etc/hivebox is
never read nor touched; an unprivileged run reads no hivebox.conf and
searches the directories compiled in."""
import re
import shutil
from pathlib import Path

import pytest

from conftest import (LIMITS, POLICIES, Hivebox, assert_refused,
                      assert_result, json_lines, needs_userns, require_root)

NOBODY = 65534


class Dirs:
    """The machine's and the shipped policy directories of one test, and
    the hivebox.conf that names them; outside the start directory."""

    def __init__(self, hb: Hivebox):
        base = hb.dir.parent / f"{hb.dir.name}-search"
        self.base = base
        self.system = base / "etc"
        self.shipped = base / "share"
        self.system.mkdir(parents=True)
        self.shipped.mkdir()
        base.chmod(0o755)
        self.config = base / "hivebox.conf"
        self.config.write_text(f"[policies]\nsystem_dir = {self.system}\n"
                               f"shipped_dir = {self.shipped}\n")

    def options(self) -> list:
        return ["--config", self.config]


@pytest.fixture
def dirs(hb):
    d = Dirs(hb)
    yield d
    shutil.rmtree(d.base)


def limits_policy(directory: Path, name: str, timeout: int):
    """LIMITS with its own timeout_seconds, so that the plan says which
    file was read."""
    text = LIMITS.replace("timeout_seconds = 20",
                          f"timeout_seconds = {timeout}")
    assert text != LIMITS
    (directory / name).write_text(text)


def planned(hb: Hivebox, dirs: Dirs, name: str):
    """The dry run's plan of hello.py under --policy name: (the policy
    path, the timeout)."""
    run = hb.run_argv([*dirs.options(), "--dry-run", "--policy", name,
                       hb.script("hello.py")])
    assert run.rc == 0, run
    lines = run.stdout.splitlines()
    path = next(ln.split(": ", 1)[1] for ln in lines
                if ln.startswith("policy: "))
    timeout = next(ln for ln in lines if "timeout" in ln)
    return path, timeout


@needs_userns
def test_order_cwd_then_system_then_shipped(hb, dirs):
    require_root()
    limits_policy(dirs.shipped, "job.ini", 17)
    path, timeout = planned(hb, dirs, "job")
    assert path == str(dirs.shipped / "job.ini"), path
    assert "17" in timeout, timeout

    limits_policy(dirs.system, "job.ini", 18)
    path, timeout = planned(hb, dirs, "job.ini")
    assert path == str(dirs.system / "job.ini"), path
    assert "18" in timeout, timeout

    limits_policy(hb.dir, "job.ini", 19)
    path, timeout = planned(hb, dirs, "job")
    assert path == str(hb.dir / "job.ini"), path
    assert "19" in timeout, timeout


@needs_userns
def test_extends_searches_from_the_including_file(hb, dirs):
    """A policy in the machine's directory extends a shipped one by its
    bare name; the run happens and its records name the file found."""
    require_root()
    shutil.copy(POLICIES["strict"], dirs.shipped / "strict.ini")
    (dirs.system / "tally.ini").write_text(
        "[policy]\nextends = strict\n[execution]\ntimeout_seconds = 21\n")
    run = hb.run("hello.py", "searched", policy="tally",
                 options=dirs.options())
    assert run.rc == 0, run
    assert run.stdout.startswith("hello searched\n"), run
    assert_result(run, "exit", exit_code=0)
    assert run.result["policy"] == str(dirs.system / "tally.ini"), run
    starts = [r for r in json_lines(hb.audit_dir / "execution_audit.log")
              if r["type"] == "start"]
    assert len(starts) == 1, starts
    assert starts[0]["policy"]["path"] == str(dirs.system / "tally.ini")


def test_not_found_names_the_places_tried(hb, dirs):
    require_root()
    (dirs.system / "nosuch").mkdir()  # a directory is passed over
    run = hb.run("hello.py", policy="nosuch", options=dirs.options())
    assert_refused(run, "^hivebox: nosuch: cannot read policy: no such "
                   f"policy in {hb.dir}, {dirs.system}, {dirs.shipped}$")


def test_extends_not_found_names_file_line_and_places(hb, dirs):
    require_root()
    (dirs.system / "tally.ini").write_text(
        "[policy]\n\nextends = gone.ini\n")
    run = hb.run("hello.py", policy="tally", options=dirs.options())
    assert_refused(run, f"^hivebox: {dirs.system}/tally.ini:3: cannot "
                   "extend 'gone.ini': no such policy in "
                   f"{dirs.system}, {dirs.system}, {dirs.shipped}$")


def test_unprivileged_ignore_hivebox_conf(hb, dirs):
    """hivebox.conf is root's: an unprivileged caller's --config moves
    nothing, and the search names the directories compiled in."""
    require_root()
    limits_policy(dirs.system, "job.ini", 17)
    run = hb.run_argv(["--config", dirs.config, "--dry-run", "--policy",
                       "job", hb.script("hello.py")],
                      prefix=["setpriv", f"--reuid={NOBODY}",
                              f"--regid={NOBODY}", "--clear-groups"])
    assert run.rc == 125, run
    line = run.stderr.strip()
    assert line.startswith(f"hivebox: job: cannot read policy: no such "
                           f"policy in {hb.dir}, /etc/hivebox/policies, "
                           "/"), run
    assert line.endswith("/share/hivebox/policies"), run
    assert str(dirs.system) not in line, run


@pytest.mark.parametrize("spoil", ["dir-owned-by-nobody", "dir-writable",
                                   "file-owned-by-nobody"])
def test_root_skips_a_current_directory_another_user_controls(hb, dirs,
                                                               spoil):
    """A root run (a cron job) in a directory its user owns never takes
    the strict.ini planted there (hivebox-policy(5)): the search goes on
    to the machine's policies, and when nothing is found there the error
    says why the current directory was skipped."""
    require_root()
    job = dirs.base / "job"
    job.mkdir(mode=0o755)
    job.chmod(0o1777 if spoil == "dir-writable" else 0o755)
    planted = job / "strict.ini"
    planted.write_text("[policy]\ndescription = PLANTED-HERE\n")
    if spoil == "dir-owned-by-nobody":
        shutil.chown(job, NOBODY, NOBODY)
    if spoil == "file-owned-by-nobody":
        shutil.chown(planted, NOBODY, NOBODY)
    limits_policy(dirs.system, "strict.ini", 18)
    argv = [*dirs.options(), "--dry-run", "--policy", "strict",
            hb.dir / hb.script("hello.py")]
    run = hb.run_argv(argv, cwd=job)
    assert run.rc == 0, run
    assert f"policy: {dirs.system}/strict.ini\n" in run.stdout, run
    assert "PLANTED-HERE" not in run.stdout, run

    (dirs.system / "strict.ini").unlink()
    run = hb.run_argv(argv, cwd=job)
    why = ("writable by group or others" if spoil == "dir-writable"
           else "not owned by root")
    assert_refused(run, re.escape(
        f"hivebox: strict: cannot read policy: no such policy in {job} "
        f"(skipped: {why}), {dirs.system}, {dirs.shipped}") + "$")

"""Wrapped cron jobs mean what they meant bare: the interpreter runs as
`python3 SCRIPT ARGS` does, so a helper module and a package beside the
script import, and the PYTHON* variables the policy sets take effect."""
import json
import subprocess
from pathlib import Path

import pytest

from conftest import assert_refused, assert_result, needs_userns
from test_audit import default_key, exec_records

JOB = """\
import json, sys
import helper
from pkg import mod
print(json.dumps({"path0": sys.path[0], "helper": helper.NAME,
                  "mod": mod.NAME, "flags_isolated": sys.flags.isolated,
                  "extra": [p for p in sys.path if p.endswith("extra")]}))
"""


def job_dir(hb, name="job"):
    """A job as cron jobs are laid out: the script, a helper module and a
    package beside it, and a directory the policy puts on PYTHONPATH."""
    jobs = hb.mkdir(name)
    (jobs / "job.py").write_text(JOB)
    (jobs / "helper.py").write_text("NAME = 'helper'\n")
    (jobs / "pkg").mkdir()
    (jobs / "pkg" / "__init__.py").write_text("")
    (jobs / "pkg" / "mod.py").write_text("NAME = 'pkg.mod'\n")
    (jobs / "extra").mkdir()
    return jobs


@needs_userns
def test_sibling_modules_import_as_bare(hb):
    jobs = job_dir(hb)
    policy = hb.policy(f"[execution]\nworkdir = {jobs}\n"
                       "[filesystem]\nread_only = .\n"
                       f"[environment]\nset = PYTHONPATH={jobs}/extra\n")
    result = hb.result_file()

    run = hb.run_argv(["--result", result, "--policy", policy, "job.py"],
                      result_path=result)

    assert run.rc == 0, run
    seen = json.loads(run.stdout)
    assert seen == {"path0": str(jobs), "helper": "helper",
                    "mod": "pkg.mod", "flags_isolated": 0,
                    "extra": [f"{jobs}/extra"]}, run
    assert_result(run, "exit", exit_code=0, script=str(jobs / "job.py"))


@needs_userns
def test_sibling_import_fails_only_when_the_directory_is_hidden(hb):
    """Without the script's directory in the policy, only the script is
    bound: the import fails as it would with the module gone."""
    jobs = job_dir(hb)
    policy = hb.policy(f"[execution]\nworkdir = {jobs}\n")
    result = hb.result_file()

    run = hb.run_argv(["--result", result, "--policy", policy, "job.py"],
                      result_path=result)

    assert run.rc == 1, run
    assert "ModuleNotFoundError: No module named 'helper'" in run.stderr
    assert_result(run, "exit", exit_code=1)


@needs_userns
def test_workdir_option_is_cd(hb):
    """--workdir DIR runs the job as `cd DIR && hivebox ...` would: the
    script and the policy's relative paths resolve against DIR, and the
    sandbox starts there."""
    jobs = job_dir(hb)
    policy = hb.policy("[filesystem]\nread_only = .\n")
    elsewhere = hb.mkdir("elsewhere")
    result = hb.result_file()

    run = hb.run_argv(["--result", result, "--workdir", jobs, "--policy",
                       policy, "job.py"], result_path=result, cwd=elsewhere)

    assert run.rc == 0, run
    assert json.loads(run.stdout)["helper"] == "helper", run
    assert_result(run, "exit", exit_code=0, script=str(jobs / "job.py"))
    start, end = exec_records(hb.audit_dir, default_key())
    assert start["cwd"] == str(jobs), start
    assert end["result"]["exit_code"] == 0, end


@needs_userns
def test_workdir_option_may_not_move_a_policy_workdir(hb):
    """A policy that pins workdir means its relative paths there; another
    directory from the command line would change what it grants."""
    jobs = job_dir(hb)
    other = hb.mkdir("other")
    policy = hb.policy(f"[execution]\nworkdir = {jobs}\n")

    run = hb.run_argv(["--workdir", other, "--policy", policy, "job.py"])

    assert_refused(run, rf"^hivebox: --workdir {other}: the policy's "
                   rf"workdir is {jobs} \({policy}:4\)")
    same = hb.run_argv(["--workdir", jobs, "--policy", policy, "job.py"])
    assert same.rc == 1, same  # runs; helper is not visible without read_only


def make_venv(path: Path) -> Path:
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip",
                    str(path)], check=True, capture_output=True)
    return path / "bin" / "python"


VENV_JOB = """\
import json, sys
print(json.dumps({"prefix": sys.prefix, "executable": sys.executable}))
"""


@needs_userns
def test_virtualenv_interpreter_runs_when_listed(hb):
    jobs = hb.mkdir("job")
    (jobs / "job.py").write_text(VENV_JOB)
    python = make_venv(jobs / ".venv")
    policy = hb.policy(f"[execution]\ninterpreter = {python}\n"
                       f"workdir = {jobs}\n"
                       "[filesystem]\nread_only = .venv\n")
    result = hb.result_file()

    run = hb.run_argv(["--result", result, "--policy", policy, "job.py"],
                      result_path=result)

    assert run.rc == 0, run
    assert json.loads(run.stdout) == {"prefix": str(jobs / ".venv"),
                                      "executable": str(python)}, run
    assert_result(run, "exit", exit_code=0)
    start, _ = exec_records(hb.audit_dir, default_key())
    assert start["command"][0] == str(python), start


@needs_userns
@pytest.mark.parametrize("listed", [None, ".venv/bin"])
def test_virtualenv_outside_the_sandbox_is_refused_with_the_fix(hb, listed):
    """Not listed, or only its bin/ listed (Python would then run without
    the venv's packages): refused before the run, naming what to add."""
    jobs = hb.mkdir("job")
    (jobs / "job.py").write_text(VENV_JOB)
    python = make_venv(jobs / ".venv")
    fs = f"[filesystem]\nread_only = {listed}\n" if listed else ""
    policy = hb.policy(f"[execution]\ninterpreter = {python}\n"
                       f"workdir = {jobs}\n" + fs)

    run = hb.run(str(jobs / "job.py"), policy=policy)

    assert_refused(run, rf"^hivebox: {policy}:4: interpreter {python} is in "
                   rf"the virtualenv {jobs}/.venv, which the sandbox does "
                   rf"not see; add {jobs}/.venv to read_only$")


@needs_userns
def test_interpreter_link_outside_the_sandbox_is_refused(hb):
    """A symlink to the system's python3 somewhere the sandbox does not
    see would fail with ENOENT at exec: refused, naming its directory."""
    bindir = hb.mkdir("bin")
    (bindir / "python3").symlink_to("/usr/bin/python3")
    policy = hb.policy(f"[execution]\ninterpreter = {bindir}/python3\n")

    run = hb.run("hello.py", policy=policy)

    assert_refused(run, rf"^hivebox: {policy}:4: interpreter "
                   rf"{bindir}/python3 would not be found in the sandbox: "
                   rf"{bindir}/python3 is outside every path it sees; add "
                   rf"{bindir} to read_only$")


@needs_userns
@pytest.mark.parametrize("what", ["missing", "file"])
def test_workdir_option_must_be_a_directory(hb, what):
    """A --workdir that is no directory refuses the run, naming it."""
    target = hb.dir / "nowhere"
    if what == "file":
        target.write_text("")
    policy = hb.policy("")
    why = "No such file or directory" if what == "missing" else \
        "Not a directory"

    run = hb.run("hello.py", policy=policy, options=["--workdir", target])

    assert_refused(run, rf"^hivebox: --workdir {target}: {why}$")

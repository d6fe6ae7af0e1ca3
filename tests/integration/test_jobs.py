"""Wrapped cron jobs mean what they meant bare: the interpreter runs as
`python3 SCRIPT ARGS` does, so a helper module and a package beside the
script import, and the PYTHON* variables the policy sets take effect."""
import json

from conftest import assert_result, needs_userns

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

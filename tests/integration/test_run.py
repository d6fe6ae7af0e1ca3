"""A run from start to end: output, exit status, the result, the command
line, --dry-run and `policy show`."""
import json
import os
import re
import signal

import pytest

from conftest import (GRACE_S, LIMITS, assert_refused, assert_result,
                      needs_userns)
from test_audit import default_key, events, exec_records
from test_limits import assert_recorded

@needs_userns
def test_hello_with_args_and_stdin(hb):
    run = hb.run("hello.py", "a b", "c", input="some input\nline 2\n")

    assert run.rc == 0, run
    assert run.stdout == ("hello a b c\n"
                          'argv ["a b", "c"]\n'
                          'stdin "some input\\nline 2\\n"\n'), run
    assert run.stderr == "", run
    res = assert_result(run, "exit", exit_code=0, signal=None,
                        signal_name=None, setup_error=None,
                        policy=str(hb.dir / "policy.ini"),
                        script=str(hb.dir / "hello.py"))
    assert res["limits"]["timeout_seconds"]["value"] == 20
    assert res["limits"]["memory_mb"]["value"] == 256
    assert set(res["limits"]) == {
        "timeout_seconds", "cpu_seconds", "memory_mb", "file_size_mb",
        "max_processes", "max_open_files", "tmp_size_mb"}
    for limit in res["limits"].values():
        assert limit["enforced_by"], res
    assert res["cgroup"]["used"] is False
    assert res["cgroup"]["why_not"]
    assert 0 <= res["wall_ms"] < run.elapsed * 1000 + 100
    assert res["peak_rss_kb"] > 1000, res


@needs_userns
@pytest.mark.parametrize("code", [3, 42])
def test_exit_code_is_the_scripts(hb, code):
    run = hb.run("exit_code.py", str(code))

    assert run.rc == code, run
    assert run.stdout == f"exiting with {code}\n"
    assert run.stderr == ""
    assert_result(run, "exit", exit_code=code, signal=None, signal_name=None)


@needs_userns
@pytest.mark.parametrize("sig", [signal.SIGUSR1, signal.SIGTERM,
                                 signal.SIGKILL])
def test_killed_by_signal_is_128_plus_n(hb, sig):
    run = hb.run("self_kill.py", str(int(sig)))

    assert run.rc == 128 + sig, run
    assert run.stdout == f"killing myself with {int(sig)}\n", run
    assert "still alive" not in run.stdout
    assert_result(run, "signal", exit_code=None, signal=int(sig),
                  signal_name=sig.name)


@needs_userns
def test_result_fd_with_a_pipe(hb):
    r, w = os.pipe()
    try:
        run = hb.run_argv(["--result-fd", str(w), "--policy", hb.policy(),
                           hb.script("exit_code.py"), "5"], pass_fds=(w,))
        os.close(w)
        w = -1
        with os.fdopen(r, "r") as pipe:
            r = -1
            text = pipe.read()
    finally:
        for fd in (r, w):
            if fd >= 0:
                os.close(fd)

    assert run.rc == 5, run
    assert run.stdout == "exiting with 5\n"
    assert text.count("\n") == 1 and text.endswith("\n"), text
    res = json.loads(text)
    assert res["reason"] == "exit"
    assert res["exit_code"] == 5
    assert res["hivebox_exit_code"] == 5
    assert res["script"] == str(hb.dir / "exit_code.py")


@pytest.mark.parametrize("target,why", [
    ("/dev/null", "not a regular file"),
    ("fifo", "No such device or address"),  # no reader: never waits
])
def test_result_must_be_a_regular_file(hb, target, why):
    if target == "fifo":
        target = hb.dir / "fifo"
        os.mkfifo(target)

    run = hb.run_argv(["--result", target, "--policy", hb.policy(),
                       hb.script("hello.py")])

    assert_refused(run, rf"^hivebox: {re.escape(str(target))}: cannot "
                   rf"write the result there: {why}$")


@needs_userns
@pytest.mark.parametrize("how", ["named", "symlink", "bind_mount"])
def test_result_where_the_sandbox_can_write_is_refused(hb, how):
    """With --result in a read_write directory, the script put a file of
    its own in the result's place (renamed over it): hivebox wrote the
    real result through its descriptor to a file no longer there, and the
    caller read the forged JSON.  A result path the sandbox could replace
    is refused before anything runs, whether it names the directory as
    the policy does, through a symlink, or through a bind mount of it:
    the script never runs, no file is left (not even the refusal's
    result: the path is what was refused), and the trail holds the
    refused run, with no start."""
    out = hb.mkdir("out", 0o777)
    policy = hb.policy("[filesystem]\nread_write = ./out\n")
    result = hb.dir / ("out" if how == "named" else "alias") / "result.json"
    prefix = ()
    if how == "symlink":
        os.symlink("out", hb.dir / "alias")
    elif how == "bind_mount":
        if os.geteuid() != 0:
            pytest.skip("needs root: a bind mount, in a mount namespace of "
                        "its own")
        hb.mkdir("alias")
        prefix = ("unshare", "--mount", "sh", "-c",
                  f'mount --bind "{out}" "{hb.dir}/alias" && exec "$@"',
                  "sh")

    run = hb.run_argv(["--result", result, "--policy", policy,
                       hb.script("forge_result.py"), out / "result.json"],
                      result_path=result, prefix=prefix)

    assert_refused(run, rf"^hivebox: {re.escape(str(result))}: the sandbox "
                   rf"can write {re.escape(str(out))} \(read_write\), "
                   r"where the script could replace the result; write it "
                   r"elsewhere$", result_written=False)
    assert os.listdir(out) == [], run
    assert [r["type"] for r in exec_records(hb.audit_dir, default_key())] \
        == ["end"]


@needs_userns
def test_command_line_may_tighten(hb):
    run = hb.run("sleeper.py", "30", options=["--timeout", "1"])

    assert run.rc == 124, run
    assert run.stdout == "sleeping 30\n", run
    assert "timeout" in run.stderr
    assert run.elapsed < 1 + GRACE_S + 5, run
    res = assert_result(run, "timeout", exit_code=None)
    assert res["limits"]["timeout_seconds"]["value"] == 1
    assert res["signal"] in (signal.SIGTERM, signal.SIGKILL), res
    assert_recorded(hb, res, "timeout", "timeout")
    # The trail holds the limit the run had, not the policy's.
    (start,) = [r for r in exec_records(hb.audit_dir)
                if r["type"] == "start" and r["exec_id"] == res["exec_id"]]
    assert start["limits"]["timeout_seconds"] == 1, start


def test_command_line_may_not_loosen(hb):
    run = hb.run("hello.py", options=["--memory", "4096"])

    assert_refused(run, r"--memory 4096 would loosen .*memory_mb = 256")
    assert "loosen" in run.stderr
    (ev,) = events(hb.audit_dir, key=default_key())
    assert ev["kind"] == "refusal", ev
    assert ev["severity"] == "violation", ev
    assert "--memory 4096 would loosen" in ev["message"], ev
    assert ev["details"]["loosening"] is True, ev
    (end,) = exec_records(hb.audit_dir, default_key())
    assert (end["type"], end["exec_id"]) == ("end", ev["exec_id"]), end
    assert end["result"]["reason"] == "refused", end


def test_dry_run_prints_mounts_and_runs_nothing(hb):
    ro = hb.mkdir("in")
    rw = hb.mkdir("out", 0o777)
    policy = hb.policy("[filesystem]\nread_only = ./in\n"
                       "read_write = ./out\n")

    run = hb.run_argv(["--dry-run", "--policy", policy,
                       hb.script("write_probe.py"), "out/marker"])

    assert run.rc == 0, run
    assert run.stderr == "", run
    assert not (rw / "marker").exists()
    out = run.stdout
    assert '"out/marker"' not in out  # the script's own output
    assert ("command: /usr/bin/python3 %s out/marker\n"
            % (hb.dir / "write_probe.py")) in out
    if os.geteuid() == 0:
        # The uid is only taken when a run starts: no made-up number.
        assert re.search(r"^id map: uid 0 -> host uid allocated at start "
                         r"\(one of 2000000000-2000065535 that no other "
                         r"running sandbox holds\), gid 0 -> the same "
                         r"number$", out, re.M), out

    def mount(kind, target, rest):
        line = rf"^\s+{kind}\s+{re.escape(str(target))}\s+{rest}$"
        assert re.search(line, out, re.M), f"{line!r} not in\n{out}"

    # Started as root, listed paths and the script are their owner's.
    owner = ", idmapped as its owner, uid 0 gid 0" if os.geteuid() == 0 \
        else ""
    mount("bind", ro, rf"ro,nosuid,nodev from {re.escape(str(ro))}"
          rf"{owner}\s+\(read_only\)")
    mount("bind", rw, rf"rw,nosuid,nodev,noexec from {re.escape(str(rw))}"
          rf"{owner}\s+\(read_write\)")
    mount("bind", hb.dir / "write_probe.py",
          rf"ro,nosuid,nodev,noexec from .*{owner}\s+\(script\)")
    mount("proc", "/proc", r"rw,nosuid,nodev,noexec hidepid=invisible.*")
    mount("tmpfs", "/tmp", r"rw,nosuid,nodev,noexec mode=1777,size=16m.*")
    mount("bind", "/usr/bin/python3.11", r"ro,nosuid,nodev from .*")
    assert not list(hb.dir.glob("result*"))


def policy_show(hb):
    hb.mkdir("in")
    parent = hb.policy(LIMITS + "[filesystem]\nread_only = ./in\n",
                       extends=None, name="parent.ini")
    hb.policy("[execution]\nmemory_mb = 64\n"
              "[environment]\nset = GREETING=hi\n",
              extends="parent.ini", name="child.ini")
    run = hb.run_argv(["policy", "show", "child.ini"])
    return parent, run


def test_policy_show_after_extends_with_origins(hb):
    parent, run = policy_show(hb)

    assert run.rc == 0, run
    assert run.stderr == "", run
    out = run.stdout
    assert out.startswith(f"; effective policy of {hb.dir / 'child.ini'}\n")

    def line(key, value, origin):
        pattern = rf"^{key} = {re.escape(value)}\s*; {origin}$"
        assert re.search(pattern, out, re.M), f"{pattern!r} not in\n{out}"

    # The child overrides the parent, the parent the built-in defaults.
    line("memory_mb", "64", r"(.*/)?child\.ini:4")
    line("timeout_seconds", "20", rf"{re.escape(str(parent))}:2")
    line("max_processes", "8", rf"{re.escape(str(parent))}:6")
    line("read_only", "./in", rf"{re.escape(str(parent))}:10")
    line("interpreter", "/usr/bin/python3", "built-in default")
    line("mode", "none", "built-in default")
    assert re.search(r"^set = GREETING=hi\b", out, re.M), out
    assert not re.search(r"^;? ?extends", out, re.M), out
    assert "memory_mb = 256" not in out


def test_policy_show_gives_every_value_its_origin(hb):
    """README: 'each value with the file and line it came from'."""
    _, run = policy_show(hb)

    assert run.rc == 0, run
    values = [ln for ln in run.stdout.splitlines()
              if re.match(r"^\w+ = ", ln)]
    assert values
    missing = [ln for ln in values if not re.search(r"\s; \S", ln)]
    assert not missing, f"no origin on: {missing}\n{run.stdout}"


JOB = """import json, os
with open("config/settings.txt") as f:
    settings = f.read()
print(json.dumps({"cwd": os.getcwd(), "settings": settings}))
"""


@needs_userns
def test_workdir_is_where_a_job_starts_and_its_paths_resolve(hb):
    """Cron starts jobs in the home directory: with [execution] workdir,
    hivebox started anywhere runs the job as if started in workdir.  Here
    neither job.py nor config exists where hivebox is started."""
    jobs = hb.mkdir("jobs")
    (jobs / "config").mkdir(mode=0o755)
    (jobs / "config" / "settings.txt").write_text("from workdir\n")
    (jobs / "job.py").write_text(JOB)
    elsewhere = hb.mkdir("elsewhere")
    policy = hb.policy(f"[execution]\nworkdir = {jobs}\n"
                       "[filesystem]\nread_only = config\n")
    result = hb.result_file()

    run = hb.run_argv(["--result", result, "--policy", policy, "job.py"],
                      result_path=result, cwd=elsewhere)

    assert run.rc == 0, run
    assert run.json() == {"cwd": str(jobs), "settings": "from workdir\n"}
    assert_result(run, "exit", exit_code=0, script=str(jobs / "job.py"))
    start, end = exec_records(hb.audit_dir, default_key())
    assert (start["type"], end["type"]) == ("start", "end")
    assert start["cwd"] == str(jobs), start
    assert start["script"]["path"] == str(jobs / "job.py"), start
    assert start["command"] == ["/usr/bin/python3",
                                str(jobs / "job.py")], start

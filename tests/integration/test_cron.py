"""What cron sees (issue 9): cron mails what a job prints and reads its
exit status, and a monitor reads the --result file.  A failure always
prints its one line, --quiet or not, naming where the limit that ended
the run was set; every refusal leaves the traces of a run (the result,
the audit trail); signals sent to hivebox itself never end it without
its records.  Each test checks the outcome and the records."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (EXIT_HIVEBOX, HIVEBOX, Hivebox, Run, assert_refused,
                      assert_result, needs_userns)
from test_audit import default_key, events, exec_records
from test_signals import background  # noqa: F401, F811 (a fixture)

YESTERDAY = {"exec_id": "0" * 8, "reason": "exit", "exit_code": 0,
             "hivebox_exit_code": 0, "note": "yesterday's success"}


def cron_run(hb: Hivebox, script: str, *args, policy: Path,
             options=(), result: bool = True) -> Run:
    """hivebox [options] --result FILE --policy POLICY SCRIPT ARGS
    > job.log, as a crontab line runs it: stdout to a file, stderr what
    cron would mail."""
    result_path = hb.result_file() if result else None
    log = hb.dir / "job.log"
    argv = ([str(HIVEBOX), "--audit-dir", str(hb.audit_dir)] +
            [str(o) for o in options] +
            (["--result", str(result_path)] if result else []) +
            ["--policy", str(policy), hb.script(script), *args])
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.run(argv, cwd=hb.dir, stdin=subprocess.DEVNULL,
                              stdout=out, stderr=subprocess.PIPE, text=True,
                              timeout=60)
    res = None
    if result_path is not None and result_path.exists():
        res = json.loads(result_path.read_text())
    return Run(argv, proc.returncode, log.read_text(), proc.stderr, res,
               result_path, time.monotonic() - start, 0)


def the_event(hb: Hivebox, res: dict, kind: str) -> dict:
    """The one violation event of the run, of kind."""
    evs = [e for e in events(hb.audit_dir, res["exec_id"], default_key())
           if e["severity"] == "violation"]
    assert [e["kind"] for e in evs] == [kind], evs
    return evs[0]


def the_end(hb: Hivebox, exec_id: str) -> dict:
    recs = [r for r in exec_records(hb.audit_dir, default_key())
            if r["exec_id"] == exec_id]
    assert [r["type"] for r in recs] in (["start", "end"], ["end"]), recs
    return recs[-1]


def not_alerts(lines: list) -> list:
    """The lines of stderr but the threshold alerts (notices that
    --quiet silences, which a run may well raise on its way to a
    limit)."""
    return [ln for ln in lines if not ln.startswith(
        ("hivebox: cpu_usage_alert: ", "hivebox: memory_usage_alert: "))]


# ------------------------------------------------ 1. the line cron mails

# kind, policy text (its key on line 4 of policy.ini), what the line
# says, the setting as the line names it, script and arguments, exit.
LIMITS = [
    ("timeout", "[execution]\ntimeout_seconds = 2\n",
     "was stopped after 2 s", "timeout_seconds = 2",
     ["sleeper.py", "30"], 124),
    ("cpu_limit", "[execution]\ncpu_seconds = 1\n",
     "was killed after 1 s of CPU time", "cpu_seconds = 1",
     ["cpu_burn.py"], 128 + signal.SIGXCPU),
    ("memory_limit", "[execution]\nmemory_mb = 64\n",
     "was killed when the sandbox's memory passed 64 MiB", "memory_mb = 64",
     ["memory_spread.py", "3", "30"], 128 + signal.SIGKILL),
    ("file_size_limit",
     "[execution]\nfile_size_mb = 2\n[filesystem]\nread_write = ./out\n",
     "was killed writing past 2 MiB", "file_size_mb = 2",
     ["file_size.py", "out/big", "4", "default"], 128 + signal.SIGXFSZ),
]


@needs_userns
@pytest.mark.parametrize("quiet", [True, False], ids=["quiet", "loud"])
@pytest.mark.parametrize("kind,text,what,setting,command,rc",
                         [pytest.param(*case, id=case[0]) for case in LIMITS])
def test_a_limit_is_one_line_naming_where_it_was_set(
        hb, quiet, kind, text, what, setting, command, rc):
    """With --quiet and stdout redirected a timeout printed nothing, so
    cron mailed nothing; without --quiet it printed two lines saying the
    same thing.  Now: one line, either way, naming the setting and the
    policy file and line that set it; the same sentence is the violation
    event's message."""
    hb.mkdir("out", 0o777)
    policy = hb.policy(text)
    options = ["--quiet"] if quiet else []

    run = cron_run(hb, *command, policy=policy, options=options)

    assert run.rc == rc, run
    script = hb.dir / command[0]
    line = f"hivebox: {kind}: {script} {what}: {setting} ({policy}:4)"
    lines = run.stderr_lines() if quiet else not_alerts(run.stderr_lines())
    assert lines == [line], run
    res = assert_result(run, kind)
    ev = the_event(hb, res, kind)
    assert f"hivebox: {kind}: {ev['message']}" == line, ev
    assert the_end(hb, res["exec_id"])["result"]["reason"] == kind


@needs_userns
@pytest.mark.parametrize("quiet", [True, False], ids=["quiet", "loud"])
def test_a_timeout_set_on_the_command_line_is_named_so(hb, quiet):
    """The second line blamed timeout_seconds even when --timeout had set
    the limit: the line names the option and its value."""
    policy = hb.policy("[execution]\ntimeout_seconds = 10\n")
    options = ["--timeout", "1"] + (["--quiet"] if quiet else [])

    run = cron_run(hb, "sleeper.py", "30", policy=policy, options=options)

    assert run.rc == 124, run
    assert run.stdout == "sleeping 30\n", run
    line = (f"hivebox: timeout: {hb.dir / 'sleeper.py'} was stopped after "
            "1 s: --timeout 1")
    assert run.stderr_lines() == [line], run
    res = assert_result(run, "timeout")
    assert res["limits"]["timeout_seconds"]["value"] == 1, res
    assert the_event(hb, res, "timeout")["message"] == \
        line[len("hivebox: timeout: "):]


@needs_userns
def test_quiet_silences_alerts_not_the_end(hb):
    """--quiet drops the memory alert's notice (it is still recorded)
    and keeps the line of the limit that ended the run."""
    policy = hb.policy("[execution]\nmemory_mb = 64\n"
                       "[monitoring]\nmemory_usage_alert = 10\n")

    loud = cron_run(hb, "memory_spread.py", "3", "30", policy=policy)
    quiet = cron_run(hb, "memory_spread.py", "3", "30", policy=policy,
                     options=["--quiet"])

    for run in (loud, quiet):
        assert run.rc == 128 + signal.SIGKILL, run
        res = assert_result(run, "memory_limit")
        assert res["alerts"] == 1, res
        kinds = [e["kind"] for e in events(hb.audit_dir, res["exec_id"],
                                           default_key())]
        assert kinds == ["memory_usage_alert", "memory_limit"], kinds
    assert [ln.split(":")[1] for ln in loud.stderr_lines()] == \
        [" memory_usage_alert", " memory_limit"], loud
    assert len(quiet.stderr_lines()) == 1, quiet
    assert quiet.stderr.startswith("hivebox: memory_limit: "), quiet


@needs_userns
def test_a_fatal_signal_is_one_line_even_when_quiet(hb):
    """A script killed by a signal that is no limit exits 128 + N; cron
    reads no exit status, so the line says it."""
    run = cron_run(hb, "self_kill.py", str(int(signal.SIGSEGV)),
                   policy=hb.policy(), options=["--quiet"])

    assert run.rc == 128 + signal.SIGSEGV, run
    assert run.stderr_lines() == [
        f"hivebox: signal: {hb.dir / 'self_kill.py'} was killed by "
        "SIGSEGV"], run
    res = assert_result(run, "signal", signal_name="SIGSEGV")
    # A signal is no violation: nothing in the security log.
    assert events(hb.audit_dir, res["exec_id"], default_key()) == []
    assert the_end(hb, res["exec_id"])["result"]["signal_name"] == "SIGSEGV"


@needs_userns
def test_a_script_that_exits_on_its_own_gets_no_line(hb):
    """The script's own failure is the script's to print."""
    run = cron_run(hb, "exit_code.py", "3", policy=hb.policy(),
                   options=["--quiet"])

    assert run.rc == 3, run
    assert run.stderr == "", run
    assert_result(run, "exit", exit_code=3)


# ------------------------------------------------ 2. every refusal

def stale_result(hb: Hivebox) -> Path:
    """A result file as yesterday's run left it."""
    path = hb.result_file()
    path.write_text(json.dumps(YESTERDAY) + "\n")
    return path


# name, policy text (None: a policy that is fine), extra options, script,
# pattern of the line, whether the policy was read.
REFUSALS = [
    ("policy does not parse", "[execution]\nmemroy_mb = 3\n", [],
     "hello.py", r"^hivebox: policy\.ini:4: unknown key 'memroy_mb'", False),
    ("bad policy value", "[execution]\nmemory_mb = lots\n", [],
     "hello.py", r"^hivebox: policy\.ini:4: bad value 'lots'", False),
    ("missing read_write path", "[filesystem]\nread_write = ./gone\n", [],
     "hello.py", r"^hivebox: policy\.ini:4: read_write path './gone' .*"
     r"No such file or directory$", True),
    ("missing script", None, [], "missing.py",
     r"^hivebox: missing\.py: cannot use script: No such file", True),
    ("loosening option", None, ["--timeout", "999"], "hello.py",
     r"^hivebox: --timeout 999 would loosen the policy's timeout_seconds",
     True),
]


@pytest.mark.parametrize(
    "text,options,script,pattern,read",
    [pytest.param(*case[1:], id=case[0]) for case in REFUSALS])
def test_a_refusal_replaces_yesterdays_result_and_is_recorded(
        hb, text, options, script, pattern, read):
    """A refusal (exit 125) left yesterday's --result file as it was, so
    a monitor read yesterday's success, and wrote no audit record.  Now
    the result says "refused" with the line's message, and the trail has
    the refusal event and the refused run's end record (no start)."""
    hb.script("hello.py")
    policy = hb.policy(text or "")
    result = stale_result(hb)

    run = hb.run_argv([*options, "--result", result, "--policy",
                       policy.name, script], result_path=result)

    assert_refused(run, pattern)
    res = run.result
    assert "note" not in res, res
    # What is known is said, what is not is null.
    assert res["policy"] == (str(policy) if read else policy.name), res
    assert res["script"] == str(hb.dir / script), res
    assert (res["limits"] is not None) == read, res
    assert res["network"] is None and res["setup_error"] is None, res
    end = the_end(hb, res["exec_id"])
    assert end["argv"] == run.argv, end
    assert end["cwd"] == str(hb.dir), end
    assert end["user"]["uid"] == os.getuid(), end


def test_a_refusal_with_an_unwritable_result_says_so_in_its_line(hb):
    """The refusal is recorded; the result file cannot be had, which the
    same one line says, since a monitor would not read this refusal."""
    target = hb.dir / "no-such-dir" / "result.json"
    policy = hb.policy("[execution]\nmemroy_mb = 3\n")

    run = hb.run_argv(["--result", target, "--policy", policy, "hello.py"])

    assert run.rc == EXIT_HIVEBOX, run
    assert run.stderr_lines() == [
        f"hivebox: {policy}:4: unknown key 'memroy_mb' in [execution]; the "
        f"result was not written to {target}: No such file or directory"], run
    (ev,) = events(hb.audit_dir, key=default_key())
    assert ev["kind"] == "refusal", ev
    assert ev["details"]["result_written"] is False, ev
    assert the_end(hb, ev["exec_id"])["result"]["reason"] == "refused"


@needs_userns
def test_a_result_path_the_sandbox_could_replace_keeps_no_stale_result(hb):
    """A refusal about the --result path itself writes nothing there: the
    sandbox could have put a file of its own in its place (a hard link)
    for root to write through.  Yesterday's result is removed, so that
    no monitor reads it as today's; the line says where to write it."""
    out = hb.mkdir("out", 0o777)
    policy = hb.policy("[filesystem]\nread_write = ./out\n")
    result = out / "result.json"
    result.write_text(json.dumps(YESTERDAY) + "\n")

    run = hb.run_argv(["--result", result, "--policy", policy,
                       hb.script("hello.py")], result_path=result)

    assert_refused(run, r"the sandbox can write .*; write it elsewhere$",
                   result_written=False)
    assert not result.exists()


def test_a_refusal_reaches_result_fd(hb):
    """--result-fd gets the refusal as --result FILE does."""
    r, w = os.pipe()
    policy = hb.policy("[filesystem]\nread_write = ./gone\n")
    try:
        run = hb.run_argv(["--result-fd", str(w), "--policy", policy,
                           hb.script("hello.py")], pass_fds=(w,))
        os.close(w)
        w = -1
        with os.fdopen(r, closefd=True) as f:
            r = -1
            text = f.read()
    finally:
        for fd in (r, w):
            if fd >= 0:
                os.close(fd)

    assert_refused(run, r"read_write path './gone'")
    res = json.loads(text)
    assert res["reason"] == "refused", res
    assert res["refusal"]["message"] == run.stderr_lines()[0][9:], res


@pytest.mark.skipif(os.geteuid() != 0,
                    reason="needs root: [audit] required is the default "
                    "for root only")
def test_a_trail_that_cannot_be_had_still_gets_the_result(hb):
    """[audit] required and an audit directory that is a file: refused
    with the trail's reason; there is no trail to record it in, and the
    result says so (audit.dir null, write_errors 1)."""
    not_a_dir = hb.dir / "audit-file"
    not_a_dir.write_text("")
    result = stale_result(hb)

    run = hb.run_argv(["--audit-dir", not_a_dir, "--result", result,
                       "--policy", hb.policy(), hb.script("hello.py")],
                      result_path=result)

    assert_refused(run, rf"^hivebox: {not_a_dir}", recorded=False)
    assert run.result["audit"] == {"dir": None, "hmac": False,
                                   "write_errors": 1}, run


def test_a_dry_run_refusal_leaves_only_its_line(hb):
    """--dry-run is a check by hand: its refusal touches no result and no
    trail."""
    policy = hb.policy("[execution]\nmemroy_mb = 3\n")
    result = stale_result(hb)

    run = hb.run_argv(["--dry-run", "--result", result, "--policy", policy,
                       hb.script("hello.py")])

    assert_refused(run, r"unknown key 'memroy_mb'")
    assert json.loads(result.read_text()) == YESTERDAY
    assert not (hb.audit_dir / "security_events.log").exists()


def test_audit_show_and_stats_count_a_refused_run(hb):
    """A refused run is a run of the trail: show lists it as refused with
    its refusal event, stats counts it by reason."""
    policy = hb.policy("[filesystem]\nread_write = ./gone\n")
    run = hb.run("hello.py", policy=policy)
    assert run.rc == EXIT_HIVEBOX, run

    show = hb.run_argv(["audit", "show", "--dir", hb.audit_dir, "--json"])
    stats = hb.run_argv(["audit", "stats", "--dir", hb.audit_dir, "--json"])

    assert show.rc == 0 and stats.rc == 0, (show, stats)
    (row,) = [json.loads(line) for line in show.stdout.splitlines()]
    assert row["exec_id"] == run.result["exec_id"], row
    assert row["reason"] == "refused", row
    assert [e["kind"] for e in row["events"]] == ["refusal"], row
    counts = json.loads(stats.stdout)
    assert counts["executions"] == 1, counts
    assert counts["by_reason"]["refused"] == 1, counts


# ------------------------------------------------ 3. signals to hivebox

# Signals whose default ends a process, that hivebox does not forward:
# ignored, so one sent by mistake does not end the run without its
# records (SIGALRM did, with exit 142).
IGNORED = [signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF, signal.SIGIO,
           signal.SIGPWR, signal.SIGXCPU, signal.SIGRTMIN + 3,
           signal.SIGRTMAX]


@needs_userns
def test_stray_signals_to_hivebox_leave_the_run_alone(hb, background):
    run = background("sleeper.py", "2", policy=hb.policy())
    assert run.line() == "sleeping 2\n"

    for sig in IGNORED:
        os.kill(run.pid, sig)
    rc, out, err, _ = run.wait(timeout=20)

    assert rc == 0, (rc, err)
    assert out == "woke up\n", out
    assert err == "", err
    res = run.result()
    assert res["reason"] == "exit" and res["exit_code"] == 0, res
    assert the_end(hb, res["exec_id"])["result"]["reason"] == "exit"
    assert events(hb.audit_dir, res["exec_id"], default_key()) == []


@needs_userns
@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGUSR1],
                         ids=["SIGHUP", "SIGUSR1"])
def test_a_forwarded_signal_ends_the_run_with_its_records(
        hb, background, sig):
    """A hung-up terminal (SIGHUP) or a SIGUSR1 sent to hivebox's pid is
    passed on: the script dies of it, and hivebox writes the end record,
    the result and the one line that says so."""
    run = background("sleeper.py", "30", policy=hb.policy())
    assert run.line() == "sleeping 30\n"

    os.kill(run.pid, sig)
    rc, out, err, elapsed = run.wait(timeout=10)

    assert rc == 128 + sig, (rc, err)
    assert elapsed < 10
    assert err.splitlines() == [
        f"hivebox: signal: {hb.dir / 'sleeper.py'} was killed by "
        f"{sig.name}, which hivebox got and passed on"], err
    res = run.result()
    assert res["reason"] == "signal" and res["signal_name"] == sig.name, res
    end = the_end(hb, res["exec_id"])
    assert end["result"]["signal_name"] == sig.name, end

# SPDX-License-Identifier: MIT
"""hivebox check: the analyzer run by the real binary, inside its sandbox."""

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from conftest import EXIT_HIVEBOX, HIVEBOX, REPO, assert_refused, json_lines

RULE_FIXTURES = REPO / "tests" / "check" / "fixtures"


def check(hb, *args, timeout=60):
    """hivebox check --audit-dir DIR ARGS, started in hb.dir."""
    return hb.run_argv(["check", "--audit-dir", hb.audit_dir, *args],
                       timeout=timeout)


def copy_fixture(hb, name):
    shutil.copy(RULE_FIXTURES / name, hb.dir / name)
    return name


def objects(run):
    return [json.loads(line) for line in run.stdout.splitlines()]


def starts(hb):
    return [r for r in json_lines(hb.audit_dir / "execution_audit.log")
            if r["type"] == "start"]


def test_findings_and_exit_status(hb):
    name = copy_fixture(hb, "shell-injection_positive.py")
    run = check(hb, "--json", name)
    assert run.rc == 1, run
    assert run.stderr == "", run
    [obj] = objects(run)
    assert obj["file"] == name
    assert obj["risk"] == "high"
    got = [(f["rule"], f["line"]) for f in obj["findings"]]
    assert got == [("shell-injection", 4), ("subprocess-use", 4),
                   ("shell-injection", 5), ("subprocess-use", 5),
                   ("shell-injection", 6), ("subprocess-use", 6),
                   ("shell-injection", 7), ("subprocess-use", 7)]


def test_clean_script_exits_zero_with_readable_report(hb):
    (hb.dir / "job.py").write_text("import json\nprint(json.dumps({}))\n")
    run = check(hb, "job.py")
    assert run.rc == 0, run
    assert run.stdout == "job.py: risk none (0 findings)\n"


def test_evasion_is_resolved(hb):
    (hb.dir / "sneaky.py").write_text(
        "getattr(__import__('o' + 's'), 'sys' + 'tem')('id')\n")
    run = check(hb, "--json", "sneaky.py")
    [obj] = objects(run)
    rules = {(f["rule"], f["line"]) for f in obj["findings"]}
    assert rules == {("obfuscation", 1), ("dynamic-import", 1),
                     ("subprocess-use", 1)}
    assert run.rc == 1


def test_fail_at(hb):
    (hb.dir / "job.py").write_text("import hashlib\nhashlib.md5(b'x')\n")
    assert check(hb, "job.py").rc == 0
    assert check(hb, "--fail-at", "low", "job.py").rc == 1
    run = check(hb, "--fail-at", "severe", "job.py")
    assert run.rc == EXIT_HIVEBOX
    assert run.stderr == ("hivebox: bad value 'severe' for --fail-at: "
                          "expected none, low, medium, high or critical\n")


def test_several_files_one_sandbox_start(hb):
    names = [copy_fixture(hb, n) for n in
             ("exec-eval_positive.py", "exec-eval_clean.py",
              "weak-hash_positive.py")]
    run = check(hb, "--json", *names)
    assert [o["file"] for o in objects(run)] == names, run
    assert [o["risk"] for o in objects(run)] == ["high", "none", "low"]
    [start] = starts(hb)
    assert start["script"]["path"].endswith("/scripts/hivebox-check")


def test_analyzer_runs_in_a_strict_sandbox(hb):
    """The analyzer's run is a hivebox run: in the trail, under a policy
    with no network, nothing writable, the files read-only."""
    (hb.dir / "job.py").write_text("x = 1\n")
    sub = hb.mkdir("jobs")
    (sub / "a.py").write_text("y = 2\n")
    run = check(hb, "job.py", "jobs")
    assert run.rc == 0, run
    [start] = starts(hb)
    stored = (hb.audit_dir / "policies" /
              (start["policy"]["effective_sha256"] + ".ini")).read_text()
    assert re.search(r"(?m)^mode = none", stored), stored
    assert not re.search(r"(?m)^read_write =", stored), stored
    ro = re.search(r"(?m)^read_only = ([^\t\n]*)", stored).group(1)
    assert ro.split(", ") == [str(hb.dir / "job.py"), str(sub)], stored
    assert re.search(r"(?m)^memory_mb = 512", stored), stored
    assert re.search(r"(?m)^default = deny", stored), stored
    assert start["command"][1].endswith("/scripts/hivebox-check")
    assert run.stdout.splitlines() == ["job.py: risk none (0 findings)",
                                       "jobs/a.py: risk none (0 findings)"]


def test_policy_context_paths_need_not_exist(hb):
    policy = hb.policy("[filesystem]\nread_only = /srv/nowhere/in\n"
                       "read_write = /srv/nowhere/out\n[network]\nmode = none\n",
                       extends=None)
    (hb.dir / "job.py").write_text(
        "import requests\n"
        "open('/srv/nowhere/in/a.csv').read()\n"
        "open('/srv/nowhere/out/b.csv', 'w')\n"
        "open('/var/lib/other/c.csv', 'w')\n"
        "open('/srv/nowhere/in/d.csv', 'w')\n"
        "requests.get('https://example.org')\n")
    run = check(hb, "--json", "--policy", policy, "job.py")
    [obj] = objects(run)
    got = {(f["rule"], f["line"]) for f in obj["findings"]}
    assert got == {("path-outside-policy", 4), ("path-outside-policy", 5),
                   ("network-use", 6), ("network-without-policy", 6)}
    assert obj["risk"] == "medium"
    assert run.rc == 0  # below the default gate, high


def test_without_policy_no_policy_rules(hb):
    (hb.dir / "job.py").write_text(
        "import socket\nsocket.create_connection(('db', 1))\n"
        "open('/var/lib/other/c.csv', 'w')\n")
    [obj] = objects(check(hb, "--json", "job.py"))
    assert [f["rule"] for f in obj["findings"]] == ["network-use"]


def test_bad_policy_is_one_line(hb):
    policy = hb.policy("[execution]\nmemroy_mb = 5\n", extends=None)
    (hb.dir / "job.py").write_text("x = 1\n")
    run = check(hb, "--policy", policy, "job.py")
    assert run.rc == EXIT_HIVEBOX
    assert run.stdout == ""
    assert len(run.stderr_lines()) == 1
    assert run.stderr.startswith(f"hivebox: {policy}:2: ")
    assert "memroy_mb" in run.stderr
    assert starts(hb) == []


def test_missing_file_is_one_line(hb):
    run = check(hb, "nothere.py")
    assert run.rc == EXIT_HIVEBOX
    assert run.stderr == ("hivebox: nothere.py: cannot check: No such file "
                          "or directory\n")
    assert starts(hb) == []


def test_unlistable_name_is_one_line(hb):
    (hb.dir / "a,b.py").write_text("x = 1\n")
    run = check(hb, "a,b.py")
    assert run.rc == EXIT_HIVEBOX
    assert len(run.stderr_lines()) == 1
    assert run.stderr.startswith("hivebox: a,b.py: cannot check: ")


def test_usage(hb):
    run = check(hb)
    assert run.rc == EXIT_HIVEBOX
    assert run.stderr.startswith("hivebox: usage: hivebox check ")
    run = hb.run_argv(["check", "--bogus", "x.py"])
    assert run.stderr == "hivebox: unknown option '--bogus' for check\n"
    run = hb.run_argv(["--help"])
    assert "hivebox check [--policy FILE] [--json]" in run.stdout


@pytest.mark.parametrize("kind", ["syntax", "binary", "empty", "huge"])
def test_bad_input_has_a_clear_result(hb, kind):
    path = hb.dir / "input.py"
    if kind == "syntax":
        path.write_text("def f(:\n")
    elif kind == "binary":
        path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + os.urandom(65536))
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        with open(path, "wb") as f:
            f.write(b"x = 1  # padding padding padding padding padding\n"
                    * (10 * 1024 * 1024 // 50 + 1))
    t0 = time.monotonic()
    run = check(hb, "--json", "input.py", timeout=30)
    took = time.monotonic() - t0
    [obj] = objects(run)
    rules = [(f["rule"], f["line"]) for f in obj["findings"]]
    expected = {"syntax": [("syntax-error", 1)], "binary": [("syntax-error", 1)],
                "empty": [], "huge": [("too-large", 1)]}[kind]
    assert rules == expected, run
    assert run.rc == (0 if kind in ("empty", "syntax", "binary") else 1), run
    assert took < 10
    [end] = [r for r in json_lines(hb.audit_dir / "execution_audit.log")
             if r["type"] == "end"]
    assert end["result"]["reason"] == "exit"
    assert end["result"]["limits_hit"] == []


# ------------------------------------------------------------ the gate

EXIT_REFUSED = 120
SIDE_EFFECT = ("import sys\n"
               "open('out/side-effect', 'w').write('ran')\n")


def events(hb):
    return json_lines(hb.audit_dir / "security_events.log")


def test_gate_refuses_and_nothing_runs(hb):
    (hb.dir / "job.py").write_text(SIDE_EFFECT + "exec(sys.argv[1])\n")
    hb.mkdir("out", 0o777)
    policy = hb.policy("[analysis]\nrefuse_at = high\n")
    run = hb.run("job.py", "print(1)", policy=policy)
    assert run.rc == EXIT_REFUSED, run
    assert run.stdout == ""
    assert not (hb.dir / "out" / "side-effect").exists()
    [line] = run.stderr_lines()
    assert line == (f"hivebox: {hb.dir}/job.py: refused by analysis: risk high "
                    f"reaches refuse_at = high ({policy}:4): exec-eval at line 3")
    message = line[len("hivebox: "):]
    res = run.result
    assert res["reason"] == "refused"
    assert res["hivebox_exit_code"] == EXIT_REFUSED
    assert res["refusal"] == {"message": message}
    assert res["exit_code"] is None
    # One security event, with the findings.
    [ev] = [e for e in events(hb) if e["exec_id"] == res["exec_id"]]
    assert ev["kind"] == "analysis_refused"
    assert ev["message"] == message
    assert ev["details"]["risk"] == "high"
    assert ev["details"]["refuse_at"] == "high"
    assert [(f["rule"], f["line"]) for f in ev["details"]["findings"]] == \
        [("exec-eval", 3)]
    # The execution record says so: an end record, refused, no start.
    recs = [r for r in json_lines(hb.audit_dir / "execution_audit.log")
            if r["exec_id"] == res["exec_id"]]
    assert [r["type"] for r in recs] == ["end"]
    assert recs[0]["result"]["reason"] == "refused"
    assert recs[0]["result"]["refusal"] == {"message": message}
    # The analyzer's own run is in the trail, and it is the only start.
    [start] = starts(hb)
    assert start["command"][1].endswith("/scripts/hivebox-check")
    assert start["command"][-1] == str(hb.dir / "job.py")


def test_gate_below_the_level_runs(hb):
    (hb.dir / "job.py").write_text(
        SIDE_EFFECT + "import hashlib\nprint(hashlib.md5(b'x').hexdigest())\n")
    hb.mkdir("out", 0o777)
    policy = hb.policy("[filesystem]\nread_write = out\n"
                       "[analysis]\nrefuse_at = medium\n")
    run = hb.run("job.py", policy=policy)
    assert run.rc == 0, run
    assert (hb.dir / "out" / "side-effect").read_text() == "ran"
    assert run.result["reason"] == "exit"
    assert [e["kind"] for e in events(hb)] == []
    assert len(starts(hb)) == 2  # the analyzer, then the job


def test_gate_off_by_default_runs_no_analysis(hb):
    (hb.dir / "job.py").write_text("import sys\nexec('print(1)' + sys.argv[0][:0])\n")
    run = hb.run("job.py")
    assert run.rc == 0, run
    assert run.stdout == "1\n"
    [start] = starts(hb)
    assert start["command"][1].endswith("job.py")


def test_gate_critical_combination_and_dry_run(hb):
    (hb.dir / "job.py").write_text(
        "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n")
    policy = hb.policy("[analysis]\nrefuse_at = critical\n")
    run = hb.run("job.py", policy=policy)
    assert run.rc == EXIT_REFUSED, run
    [line] = run.stderr_lines()
    assert "risk critical reaches refuse_at = critical" in line
    assert "exec-eval at line 2, obfuscation at line 2" in line
    res = run.result
    assert res["reason"] == "refused", res
    [ev] = [e for e in events(hb) if e["exec_id"] == res["exec_id"]]
    assert ev["kind"] == "analysis_refused", ev
    assert ev["details"]["risk"] == "critical", ev
    recs = [r for r in json_lines(hb.audit_dir / "execution_audit.log")
            if r["exec_id"] == res["exec_id"]]
    assert [(r["type"], r["result"]["reason"]) for r in recs] == \
        [("end", "refused")], recs
    before_starts, before_events = len(starts(hb)), len(events(hb))
    # --dry-run runs nothing, the analyzer neither: no record at all.
    run = hb.run_argv(["--dry-run", "--policy", policy, "job.py"])
    assert run.rc == 0, run
    assert len(starts(hb)) == before_starts
    assert len(events(hb)) == before_events


def test_check_takes_the_gate_from_the_policy(hb):
    (hb.dir / "job.py").write_text("import hashlib\nhashlib.md5(b'x')\n")
    low = hb.policy("[analysis]\nrefuse_at = low\n", name="low.ini")
    assert check(hb, "--policy", low, "job.py").rc == 1
    assert check(hb, "--policy", low, "--fail-at", "high", "job.py").rc == 0


def test_refuse_at_bad_value(hb):
    policy = hb.policy("[analysis]\nrefuse_at = severe\n")
    (hb.dir / "job.py").write_text("x = 1\n")
    run = hb.run("job.py", policy=policy)
    assert_refused(run, r"bad value 'severe' for refuse_at: expected "
                   r"none\|low\|medium\|high\|critical$")


def test_symlink_is_checked_where_it_leads(hb):
    (hb.dir / "job.py").write_text("import pickle\npickle.loads(b'')\n")
    (hb.dir / "link.py").symlink_to("job.py")
    run = check(hb, "--json", "link.py")
    [obj] = objects(run)
    assert obj["file"] == str(hb.dir / "job.py")
    assert [(f["rule"], f["line"]) for f in obj["findings"]] == \
        [("deserialization", 2)]
    (hb.dir / "dangling.py").symlink_to("nowhere.py")
    run = check(hb, "dangling.py")
    assert run.rc == EXIT_HIVEBOX
    assert run.stderr == ("hivebox: dangling.py: cannot check: No such file "
                          "or directory\n")


def tree_with_analyzer(hb, analyzer: str = None) -> Path:
    """A copy of hivebox at TREE/build/hivebox, which takes its analyzer
    from TREE/scripts/hivebox-check (check.c): the given text, or none."""
    tree = hb.dir / "tree"
    (tree / "build").mkdir(parents=True)
    (tree / "scripts").mkdir()
    shutil.copy(HIVEBOX, tree / "build" / "hivebox")
    if analyzer is not None:
        path = tree / "scripts" / "hivebox-check"
        path.write_text(analyzer)
        path.chmod(0o755)
    return tree / "build" / "hivebox"


@pytest.mark.parametrize("analyzer,pattern", [
    ("import sys\nsys.exit(3)\n",
     r"job\.py did not finish \(status 3\): the gate refuses what it "
     r"cannot judge$"),
    ("print('all clear')\n",
     r"cannot read the analysis of .*/job\.py: the gate refuses what it "
     r"cannot judge$"),
    ("import json\nprint(json.dumps({'risk': 'none', 'findings': []}))\n",
     r"job\.py changed while it was analysed: the gate refuses what it did "
     r"not judge$"),
])
def test_gate_fails_closed(hb, analyzer, pattern):
    """An analysis that fails, says nothing readable, or judges no named
    script refuses the run: the gate never lets through what it did not
    judge, and the job does not run."""
    (hb.dir / "job.py").write_text(SIDE_EFFECT)
    hb.mkdir("out", 0o777)
    binary = tree_with_analyzer(hb, analyzer)
    policy = hb.policy("[filesystem]\nread_write = out\n"
                       "[analysis]\nrefuse_at = critical\n")
    run = hb.run("job.py", policy=policy, binary=binary)
    assert_refused(run, pattern)
    assert not (hb.dir / "out" / "side-effect").exists()


def test_gate_without_an_analyzer_refuses(hb):
    installed = Path(hb_libexec_analyzer())
    if installed.exists():
        pytest.skip(f"an installed analyzer exists at {installed}")
    (hb.dir / "job.py").write_text(SIDE_EFFECT)
    hb.mkdir("out", 0o777)
    binary = tree_with_analyzer(hb, None)
    policy = hb.policy("[filesystem]\nread_write = out\n"
                       "[analysis]\nrefuse_at = critical\n")
    run = hb.run("job.py", policy=policy, binary=binary)
    assert_refused(run, r"\[analysis\] refuse_at needs the analyzer, and "
                   r"there is none at " + re.escape(str(installed)) + "$")
    assert not (hb.dir / "out" / "side-effect").exists()


def hb_libexec_analyzer() -> str:
    """Where a binary outside a build/ directory looks for its analyzer:
    LIBEXECDIR, as `make` compiles it in by default."""
    return "/usr/local/libexec/hivebox/hivebox-check"

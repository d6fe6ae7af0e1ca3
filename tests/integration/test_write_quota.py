"""write_quota_mb and write_quota_files: what a run may add to its
read_write paths, on real scripts that go past them (or do not)."""
import json
import os
import signal

import pytest

from conftest import (EXIT_HIVEBOX, POLICIES, assert_refused,
                      assert_result, needs_root)
from test_audit import default_key, events, exec_records

# Started as root only: the quota's fanotify marks need it.
pytestmark = needs_root

MIB = 1024 * 1024


def quota_setup(hb, quota: str):
    out = hb.mkdir("out", 0o777)
    policy = hb.policy(f"[filesystem]\nread_write = ./out\n{quota}")
    return out, policy


def assert_stopped(hb, run, limit_key):
    """Killed for the quota: the exit status, the one line naming the key,
    the result, the end record, one violation event and audit stats."""
    assert run.rc == 128 + signal.SIGKILL, run
    assert "done" not in run.stdout, run
    assert "write_quota" in run.stderr and limit_key in run.stderr, run
    res = assert_result(run, "write_quota", exit_code=None,
                        signal=int(signal.SIGKILL), signal_name="SIGKILL")
    key = default_key()
    (end,) = [r for r in exec_records(hb.audit_dir, key)
              if r["type"] == "end" and r["exec_id"] == res["exec_id"]]
    assert end["result"]["reason"] == "write_quota", end
    assert end["result"]["write_quota"] == res["write_quota"], end
    evs = [e for e in events(hb.audit_dir, res["exec_id"], key)
           if e["severity"] == "violation"]
    assert [e["kind"] for e in evs] == ["write_quota"], evs
    assert limit_key in evs[0]["message"], evs
    stats = hb.run_argv(["audit", "stats", "--dir", hb.audit_dir, "--json"])
    assert stats.rc == 0, stats
    assert json.loads(stats.stdout)["by_reason"]["write_quota"] == 1, stats
    return res


def test_one_big_file_over_the_byte_quota(hb):
    """One file, written 1 MiB at a time, far past the quota: file_size_mb
    is raised so that only the quota can stop it, with room enough that
    a supervisor slowed down by other work still stops it on the way."""
    out = hb.mkdir("out", 0o777)
    policy = hb.policy("[execution]\nfile_size_mb = 256\n[filesystem]\n"
                       "read_write = ./out\nwrite_quota_mb = 4\n")

    run = hb.run("write_quota.py", "big", "out", "256", policy=policy)

    res = assert_stopped(hb, run, "write_quota_mb = 4")
    assert res["write_quota"]["added_bytes"] > 4 * MIB, res
    assert res["write_quota"]["max_bytes"] == 4 * MIB, res
    assert (out / "big").stat().st_size < 256 * MIB


def test_many_small_files_over_the_byte_quota(hb):
    out, policy = quota_setup(hb, "write_quota_mb = 2\n")

    run = hb.run("write_quota.py", "small", "out", "100000", "8192",
                 policy=policy)

    res = assert_stopped(hb, run, "write_quota_mb = 2")
    assert res["write_quota"]["added_bytes"] > 2 * MIB, res
    assert len(list(out.iterdir())) < 100000


def test_a_million_empty_files_are_stopped(hb):
    """An endless loop of empty files is stopped by the file count, long
    before the policy's timeout (20 s) would."""
    out, policy = quota_setup(hb, "write_quota_files = 1000\n")

    run = hb.run("write_quota.py", "files", "out", "0", policy=policy)

    res = assert_stopped(hb, run, "write_quota_files = 1000")
    assert res["write_quota"]["added_files"] > 1000, res
    assert len(list(out.iterdir())) > 1000


def test_directories_count_as_files(hb):
    out, policy = quota_setup(hb, "write_quota_files = 100\n")

    run = hb.run("write_quota.py", "dirs", "out", "100000", policy=policy)

    assert_stopped(hb, run, "write_quota_files = 100")
    assert len(list(out.iterdir())) < 100000


def test_under_the_quota_the_run_succeeds(hb):
    out, policy = quota_setup(hb, "write_quota_mb = 4\nwrite_quota_files = 50\n")

    run = hb.run("write_quota.py", "small", "out", "40", "10000",
                 policy=policy)

    assert run.rc == 0 and run.stdout == "done\n", run
    res = assert_result(run, "exit", exit_code=0)
    q = res["write_quota"]
    assert q["added_files"] == 40, q
    # Allocated blocks: at least the bytes written, at most a few blocks
    # more per file.
    assert 40 * 10000 <= q["added_bytes"] <= 40 * (10000 + 16384), q
    assert q["max_files"] == 50 and q["max_bytes"] == 4 * MIB, q
    assert res["violations"] == 0, res
    (end,) = [r for r in exec_records(hb.audit_dir, default_key())
              if r["type"] == "end" and r["exec_id"] == res["exec_id"]]
    assert end["result"]["reason"] == "exit", end


def test_a_file_opened_again_and_again_counts_all_it_gains(hb):
    """Only a file's first open waits for the supervisor; its growth is
    still counted across every later open, under the quota and past it."""
    out = hb.mkdir("out", 0o777)
    policy = hb.policy("[execution]\nfile_size_mb = 256\n[filesystem]\n"
                       "read_write = ./out\nwrite_quota_mb = 2\n")

    under = hb.run("write_quota.py", "reopen", "out/log", "100", "4",
                   policy=policy)
    over = hb.run("write_quota.py", "reopen", "out/big", "4096", "64",
                  policy=policy)

    assert under.rc == 0 and under.stdout == "done\n", under
    q = assert_result(under, "exit", exit_code=0)["write_quota"]
    assert 400 * 1024 <= q["added_bytes"] <= 400 * 1024 + 16384, q
    res = assert_stopped(hb, over, "write_quota_mb = 2")
    assert res["write_quota"]["added_bytes"] > 2 * MIB, res
    assert (out / "big").stat().st_size < 256 * MIB


def test_what_existed_before_the_run_is_not_counted(hb):
    """A 6 MiB file and 500 files already there, under a quota of 4 MiB
    and 10 files: appending 1 MiB to the big one adds 1 MiB, no file
    (file_size_mb = 8 bounds the file itself)."""
    out, policy = quota_setup(hb, "write_quota_mb = 4\nwrite_quota_files = 10\n")
    (out / "old").write_bytes(b"o" * (6 * MIB))
    for i in range(500):
        (out / f"pre{i}").write_text("x")

    run = hb.run("write_quota.py", "append", "out/old", "1", policy=policy)

    assert run.rc == 0 and run.stdout == "done\n", run
    q = assert_result(run, "exit", exit_code=0)["write_quota"]
    assert q["added_files"] == 0, q
    assert MIB <= q["added_bytes"] <= 2 * MIB, q
    assert (out / "old").stat().st_size == 7 * MIB


def test_the_command_line_sets_a_quota(hb):
    out, policy = quota_setup(hb, "")

    run = hb.run("write_quota.py", "files", "out", "0", policy=policy,
                 options=["--write-quota-files", "200"])

    assert_stopped(hb, run, "--write-quota-files 200")


def test_no_quota_without_read_write_paths(hb):
    """The quota bounds the read_write paths; without any, nothing is
    watched and the result says so."""
    policy = hb.policy("[filesystem]\nwrite_quota_files = 1\n")

    run = hb.run("hello.py", policy=policy)

    assert run.rc == 0, run
    assert assert_result(run, "exit")["write_quota"] is None


@pytest.mark.parametrize("value", ["0", "-1", "16777217",
                                   "99999999999999999999999"])
def test_bad_quota_values_are_refused(hb, value):
    _, policy = quota_setup(hb, f"; quota\nwrite_quota_mb = {value}\n")

    run = hb.run("hello.py", policy=policy)

    assert_refused(run, rf"policy\.ini:6: bad value '{value}' for "
                   "write_quota_mb")


def test_unprivileged_with_a_quota_is_refused(hb):
    """Unprivileged, fanotify cannot watch the paths: a refusal naming the
    key and where it was set, never an unenforced quota."""
    _, policy = quota_setup(hb, "write_quota_files = 10\n")

    run = hb.run_argv(["--dry-run", "--policy", policy,
                       hb.script("hello.py")],
                      prefix=["setpriv", "--reuid=65534", "--regid=65534",
                              "--clear-groups"])

    assert run.rc == EXIT_HIVEBOX, run
    lines = run.stderr_lines()
    assert len(lines) == 1, run
    assert "policy.ini:5: write_quota_files needs hivebox started as " \
        "root" in lines[0], run


def test_shipped_policies_bound_what_is_added_and_none_lifts_it(hb):
    """strict.ini's quota applies to the read_write paths of a policy that
    extends it; "none" in that policy lifts it."""
    hb.mkdir("out", 0o777)
    strict = str(POLICIES["strict"])
    bounded = hb.policy("[filesystem]\nread_write = ./out\n",
                        extends=strict, name="bounded.ini")
    lifted = hb.policy("[filesystem]\nread_write = ./out\n"
                       "write_quota_mb = none\nwrite_quota_files = none\n",
                       extends=strict, name="lifted.ini")

    runs = [hb.run_argv(["--dry-run", "--policy", p, hb.script("hello.py")])
            for p in (bounded, lifted)]

    assert [r.rc for r in runs] == [0, 0], runs
    assert "write quota: what the read_write paths gain, at most 100 MiB " \
        "and 1000 files created" in runs[0].stdout, runs[0]
    assert "write quota: none\n" in runs[1].stdout, runs[1]


@pytest.mark.parametrize("option,value,key,limit,line", [
    ("--write-quota-mb", "6", "write_quota_mb", "5", 5),
    ("--write-quota-files", "11", "write_quota_files", "10", 6),
])
def test_the_command_line_cannot_raise_a_quota(hb, option, value, key,
                                               limit, line):
    _, policy = quota_setup(hb, "write_quota_mb = 5\n"
                            "write_quota_files = 10\n")

    run = hb.run("hello.py", policy=policy, options=[option, value])

    assert_refused(run, rf"^hivebox: {option} {value} would loosen the "
                   rf"policy's {key} = {limit} \(.*policy\.ini:{line}\); "
                   r"the command line may only tighten$")


def test_unprivileged_run_with_a_quota_runs_nothing(hb):
    """Not only the dry run: a real unprivileged start is refused too,
    before the script runs."""
    out, policy = quota_setup(hb, "write_quota_files = 10\n")
    (hb.dir / "job.py").write_text("open('out/ran', 'w').write('x')\n")

    run = hb.run_argv(["--policy", policy, "job.py"],
                      prefix=["setpriv", "--reuid=65534", "--regid=65534",
                              "--clear-groups"])

    assert run.rc == EXIT_HIVEBOX, run
    assert run.stdout == "", run
    lines = run.stderr_lines()
    assert len(lines) == 1, run
    assert "policy.ini:5: write_quota_files needs hivebox started as " \
        "root" in lines[0], run
    assert not (out / "ran").exists()

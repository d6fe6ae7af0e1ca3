# SPDX-License-Identifier: MIT
"""hivebox policy explain (exposure score) and policy lint (warnings)."""

import json
import shutil

import pytest

from conftest import EXIT_HIVEBOX, REPO

POLICIES = REPO / "policies"

# A test-made network policy: the default one, with a few destinations.
NETWORK = """[policy]
extends = default.ini
[filesystem]
read_write = out
[network]
mode = filtered
allowed_domains = example.org, 10.0.0.7
allowed_ports = 443
"""

# As much as a policy can open.
PERMISSIVE = """[execution]
timeout_seconds = 100000
memory_mb = 8192
max_processes = 1000
[filesystem]
read_write = /
[network]
mode = filtered
allowed_domains = example.org
allowed_ports = 53, 443
[identity]
host_uid = root
"""


def explain(hb, policy):
    run = hb.run_argv(["policy", "explain", "--json", policy])
    assert run.rc == 0, run
    return json.loads(run.stdout)


def test_explain_orders_policies_as_a_reader_would(hb):
    for name in ("strict.ini", "default.ini"):
        shutil.copy(POLICIES / name, hb.dir / name)
    network = hb.policy(NETWORK, extends=None, name="network.ini")
    permissive = hb.policy(PERMISSIVE, extends=None, name="permissive.ini")
    scores = [explain(hb, p)["score"] for p in
              ("strict.ini", "default.ini", network, permissive)]
    assert scores == sorted(scores) and len(set(scores)) == 4, scores
    assert scores[0] <= 1.0 and scores[-1] == 10.0, scores
    levels = [explain(hb, p)["level"] for p in
              ("strict.ini", "default.ini", network, permissive)]
    assert levels == ["low", "medium", "medium", "unsafe"]


def test_explain_lists_weighted_weakenings(hb):
    policy = hb.policy(PERMISSIVE, extends=None)
    obj = explain(hb, policy)
    assert obj["policy"] == str(policy)
    keys = [w["key"] for w in obj["weakenings"]]
    # Heaviest first: the host's root and a writable / lead.
    assert set(keys[:2]) == {"read_write", "host_uid"}
    weights = [w["weight"] for w in obj["weakenings"]]
    assert weights == sorted(weights, reverse=True)
    assert sum(weights) >= 10.0
    by_key = {w["key"]: w for w in obj["weakenings"]}
    assert by_key["host_uid"]["weight"] == 4.0
    assert by_key["host_uid"]["origin"] == f"{policy}:12"
    assert by_key["mode"]["weight"] == 0.5
    assert by_key["allowed_ports"]["what"].startswith("port 53 allowed")
    assert by_key["refuse_at"]["origin"] == "built-in default"


def test_explain_sum_is_the_score_and_the_gate_counts(hb):
    shutil.copy(POLICIES / "strict.ini", hb.dir / "strict.ini")
    gated = hb.policy("[analysis]\nrefuse_at = high\n[filesystem]\n"
                      "blocked_operations = delete\n", extends="strict.ini")
    obj = explain(hb, gated)
    assert obj["score"] == 0.0 and obj["weakenings"] == []
    obj = explain(hb, "strict.ini")
    assert sum(w["weight"] for w in obj["weakenings"]) == obj["score"] == 1.0
    assert {w["key"] for w in obj["weakenings"]} == {"refuse_at",
                                                     "blocked_operations"}


def test_explain_readable_output(hb):
    shutil.copy(POLICIES / "default.ini", hb.dir / "default.ini")
    run = hb.run_argv(["policy", "explain", "default.ini"])
    assert run.rc == 0, run
    lines = run.stdout.splitlines()
    assert lines[0] == str(hb.dir / "default.ini")
    assert lines[1] == "  weight  weakening (where)"
    assert lines[2].startswith("  +1.5    syscalls default = allow")
    assert lines[2].endswith("(default.ini:43)")
    assert lines[-1] == "exposure: 2.5 of 10 (medium)"


def test_explain_bad_policy_and_usage(hb):
    bad = hb.policy("[execution]\nmemroy_mb = 1\n", extends=None)
    run = hb.run_argv(["policy", "explain", bad])
    assert run.rc == EXIT_HIVEBOX
    assert run.stderr.startswith(f"hivebox: {bad}:2: ")
    run = hb.run_argv(["policy", "explain", "--yaml", bad])
    assert run.rc == EXIT_HIVEBOX
    assert run.stderr.startswith("hivebox: usage: hivebox policy ")


def lint(hb, policy):
    run = hb.run_argv(["policy", "lint", policy])
    assert run.rc in (0, 1), run
    assert run.stderr == ""
    assert run.rc == (1 if run.stdout else 0), run
    return run.stdout.splitlines()


def test_lint_clean_policy(hb):
    shutil.copy(POLICIES / "strict.ini", hb.dir / "strict.ini")
    assert lint(hb, "strict.ini") == []


@pytest.mark.parametrize("text,line,message", [
    ("[filesystem]\nread_only = data\nwrite_quota_mb = 5\n"
     "read_write = data/out\n",
     4, "read_write data/out lies under read_only data"),
    ("[network]\nmode = filtered\nallowed_ports = 443\n",
     3, "allowed_ports without allowed_domains"),
    ("[execution]\ntimeout_seconds = 90000\ncpu_seconds = 60\n",
     2, "timeout_seconds = 90000: longer than a day"),
    ("[identity]\nhost_uid = root\n", 2, "host_uid = root"),
    ("[environment]\nkeep = PGPASSWORD\n", 2, "keep = PGPASSWORD: passes a secret"),
    ("[filesystem]\nread_write = out\n", 2,
     "read_write paths without write_quota_mb or write_quota_files"),
    ("[filesystem]\nwrite_quota_mb = 5\nread_write = /etc/cron.d\n", 3,
     "read_write /etc/cron.d: a system directory is writable"),
    ("[network]\nmode = filtered\n", 2,
     "mode = filtered with no allowed_domains: nothing is reachable"),
    ("[execution]\ntimeout_seconds = 10\ncpu_seconds = 600\n"
     "max_processes = 2\n", 3, "cpu_seconds = 600 can never be reached"),
])
def test_lint_warning(hb, text, line, message):
    policy = hb.policy("[syscalls]\ndefault = deny\nallow = @python\n" + text,
                       extends=None)
    out = lint(hb, policy)
    assert len(out) == 1, out
    assert out[0].startswith(f"{policy}:{line + 3}: warning: {message}"), out


def test_lint_deny_list_points_at_the_file(hb):
    policy = hb.policy("[execution]\ntimeout_seconds = 60\n", extends=None)
    assert lint(hb, policy) == [
        f"{policy}: warning: syscalls default = allow: a deny-list lets "
        "through every call it does not name; prefer default = deny, "
        "allow = @python"]


def test_lint_extends_that_loosens(hb):
    hb.policy("[execution]\ntimeout_seconds = 60\nmemory_mb = 256\n"
              "[filesystem]\nwrite_quota_mb = 10\n[syscalls]\ndefault = deny\n"
              "allow = @python\n[analysis]\nrefuse_at = high\n",
              extends=None, name="parent.ini")
    child = hb.policy("[execution]\ntimeout_seconds = 120\nmemory_mb = 128\n"
                      "[filesystem]\nwrite_quota_mb = none\n"
                      "[analysis]\nrefuse_at = none\n",
                      extends="parent.ini", name="child.ini")
    assert lint(hb, child) == [
        f"{child}:4: warning: timeout_seconds = 120 loosens the 60 of the "
        "policy it extends",
        f"{child}:7: warning: write_quota_mb loosens the 10 of the policy "
        "it extends",
        f"{child}:9: warning: refuse_at = none loosens the gate (high) of "
        "the policy it extends",
    ]
    # Tightening is not a warning.
    tight = hb.policy("[execution]\ntimeout_seconds = 30\n",
                      extends="parent.ini", name="tight.ini")
    assert lint(hb, tight) == []


def test_lint_mode_none_ignores_the_parents_lists(hb):
    hb.policy("[syscalls]\ndefault = deny\nallow = @python\n[network]\n"
              "mode = filtered\nallowed_domains = example.org\n"
              "allowed_ports = 443\n", extends=None, name="net.ini")
    child = hb.policy("[network]\nmode = none\n", extends="net.ini",
                      name="off.ini")
    assert lint(hb, child) == [
        f"{child}:4: warning: mode = none: allowed_domains and "
        "allowed_ports are ignored"]

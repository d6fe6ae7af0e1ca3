"""make install into a staged tree (DESTDIR) and make uninstall: the
files land under PREFIX and /etc/hivebox, an installed hivebox.conf is
never replaced, the machine's set-up (the audit directory and key) is
left and said to be left, and uninstall keeps /etc/hivebox.  The set-up
itself (DESTDIR empty, as root) changes the machine, so it is tried by
hand and in scripts/deb-cycle's namespace, not here."""
import shutil
import subprocess

import pytest

from conftest import REPO

PREFIX = "/opt/hb"


@pytest.fixture
def stage(tmp_path):
    """The staged tree, and a build directory of the test's own: a PREFIX
    other than the tree's build would rebuild build/hivebox under the
    other tests' feet."""
    root = tmp_path / "stage"
    build = tmp_path / "build"
    yield root, build
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(build, ignore_errors=True)


def make(build, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-C", str(REPO), "--no-print-directory",
                           f"B={build}", f"PREFIX={PREFIX}", *args],
                          capture_output=True, text=True, timeout=900)


def test_staged_install_and_uninstall(stage):
    stage, build = stage
    if shutil.which("make") is None:
        pytest.skip("no make")
    run = make(build, "install", f"DESTDIR={stage}")
    assert run.returncode == 0, run.stderr
    files = {"usr": [f"{PREFIX}/bin/hivebox",
                     f"{PREFIX}/libexec/hivebox/hivebox-check",
                     f"{PREFIX}/share/hivebox/policies/strict.ini",
                     f"{PREFIX}/share/hivebox/policies/default.ini",
                     f"{PREFIX}/share/bash-completion/completions/hivebox",
                     f"{PREFIX}/share/man/man1/hivebox.1",
                     f"{PREFIX}/share/man/man5/hivebox-policy.5"],
             "etc": ["/etc/hivebox/hivebox.conf"]}
    for path in files["usr"] + files["etc"]:
        assert (stage / path.lstrip("/")).is_file(), path
    assert (stage / "etc/hivebox/policies").is_dir()
    assert not (stage / "etc/hivebox/audit.key").exists()
    assert not (stage / "var").exists()
    out = run.stdout
    assert "DESTDIR is set, so these set-up steps were left to the" in out
    assert "'hivebox doctor --fix'" in out
    assert "the audit directory /var/log/hivebox, 0750 root:adm" in out
    assert "the audit key /etc/hivebox/audit.key, 0600 root" in out
    assert "'hivebox audit init'" in out

    # The staged binary searches the staged PREFIX's policies.  As root
    # it would read the machine's /etc/hivebox/hivebox.conf, whose
    # [policies] could move them: an empty one of the test's own instead.
    empty = stage.parent / "empty.conf"
    empty.write_text("")
    (stage / "hello.py").write_text("print('hello')\n")
    run = subprocess.run([str(stage / PREFIX.lstrip("/") / "bin/hivebox"),
                          "--config", str(empty), "--dry-run", "--policy",
                          "nosuch", "hello.py"],
                         capture_output=True, text=True, timeout=60,
                         cwd=stage)
    (stage / "hello.py").unlink()
    assert run.returncode == 125, run
    assert run.stderr.strip().endswith(
        f"/etc/hivebox/policies, {PREFIX}/share/hivebox/policies"), run

    conf = stage / "etc/hivebox/hivebox.conf"
    conf.write_text(conf.read_text() + "# edited\n")
    run = make(build, "install", f"DESTDIR={stage}")
    assert run.returncode == 0, run.stderr
    assert f"keeping {conf} as it is" in run.stdout
    assert conf.read_text().endswith("# edited\n")

    run = make(build, "uninstall", f"DESTDIR={stage}")
    assert run.returncode == 0, run.stderr
    for path in files["usr"]:
        assert not (stage / path.lstrip("/")).exists(), path
    assert conf.read_text().endswith("# edited\n")
    assert (stage / "etc/hivebox/policies").is_dir()

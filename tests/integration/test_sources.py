"""How the host's paths reach the sandbox: each policy path and the script
is opened once (started as root, by root, to be given as its owner's; see
test_identity.py), and checked on that descriptor (its type, what it may
reach, the file system it lies on), which is then what is mounted.  For
the races this closes, see test_races.py."""
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import assert_refused, needs_root

# Mounts a source at a target in a private mount namespace of its own,
# then runs the rest of the command line there: nothing of it reaches
# the host's mount table.
BIND_THEN = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh"]


@needs_root
@pytest.mark.parametrize("source,what", [
    ("/sys", "/sys"), ("/sys/kernel", "/sys"), ("/proc", "/proc"),
    ("/", "/"), ("/dev", "/dev"), ("/dev/pts", "/dev")])
def test_the_hosts_own_trees_are_refused_under_another_name(hb, source,
                                                             what):
    """A bind mount elsewhere gives /proc, /sys, /dev or / another name
    than the one the plan refuses by name: the descriptor's file system
    (or device and inode) gives it away."""
    if not os.path.isdir(source) or (
            source == "/dev" and
            os.stat("/dev").st_dev == os.stat("/").st_dev):
        pytest.skip(f"no separate {source} here")
    hb.mkdir("alias")
    hb.script("hello.py")
    policy = hb.policy("[filesystem]\nread_only = alias\n")
    result = hb.result_file()

    run = hb.run_argv(["--result", result, "--policy", policy, "hello.py"],
                      result_path=result,
                      prefix=BIND_THEN + [source, hb.dir / "alias"])

    assert_refused(run, r"^hivebox: .*policy\.ini:\d+: read_only path "
                   rf"'alias' would give the sandbox the host's {what}$")


def root_only_way(path) -> bool:
    """Every directory from / to path is root's and writable by no one
    else: nobody but root can swap a component of it."""
    path = os.path.abspath(path)
    while True:
        st = os.stat(path)
        if st.st_uid != 0 or st.st_mode & 0o022:
            return False
        if path == "/":
            return True
        path = os.path.dirname(path)


@needs_root
def test_a_root_only_way_is_opened_as_root(hb):
    """A root cron job's script and data below a directory only root may
    enter (/root/jobs): the sandbox's uid cannot get through, but nobody
    but root can change that way, so root opens it, and the sandbox gets
    the files, which its uid may read.  The way is made under /run (root's,
    0755), wherever the checkout lies."""
    if not root_only_way("/run"):
        pytest.skip("/run lies below a directory others may change")
    top = Path(tempfile.mkdtemp(prefix="hivebox-test-", dir="/run"))
    try:
        top.chmod(0o755)
        private = top / "private"
        private.mkdir(mode=0o700)
        private.chmod(0o700)
        (private / "data").mkdir(mode=0o755)
        (private / "data" / "in.txt").write_text("42\n")
        job = private / "job.py"
        job.write_text(f"print(open('{private}/data/in.txt').read().strip())\n")
        job.chmod(0o644)
        policy = hb.policy(f"[filesystem]\nread_only = {private}/data\n")
        result = hb.result_file()

        run = hb.run_argv(["--result", result, "--policy", policy, job],
                          result_path=result)

        assert run.rc == 0, run
        assert run.stdout == "42\n", run
        records = [json.loads(line) for line in
                   (hb.audit_dir / "execution_audit.log").read_text()
                   .splitlines()]
        start = [r for r in records if r["type"] == "start"][-1]
        assert start["script"]["sha256"] == hashlib.sha256(
            job.read_bytes()).hexdigest(), start
    finally:
        shutil.rmtree(top)


@needs_root
def test_root_only_paths_are_given_as_their_owner(hb):
    """Started as root, paths are opened as root and given as their
    owner's (here root's): a directory only root may enter, a path below
    it, a mode-600 script.  Each runs, as the bare root job would, and
    reads and writes what it was given."""
    private = hb.mkdir("private", 0o700)
    (private / "data").mkdir(mode=0o755)
    (private / "data" / "in.txt").write_text("42\n")
    (private / "job.py").write_text("print('ran')\n")
    closed = hb.mkdir("closed", 0o700)
    (hb.dir / "secret.py").write_text(
        f"print(open('{private}/data/in.txt').read().strip())\n"
        f"open('{closed}/out', 'w').write('x')\n")
    (hb.dir / "secret.py").chmod(0o600)
    (private / "job.py").chmod(0o600)

    for policy_text, script, out in [
            ("read_only = private/data\nread_write = closed\n",
             "secret.py", "42\n"),
            ("", "private/job.py", "ran\n")]:
        policy = hb.policy(f"[filesystem]\n{policy_text}")
        result = hb.result_file()

        run = hb.run_argv(["--result", result, "--policy", policy, script],
                          result_path=result)

        assert run.rc == 0, run
        assert run.stdout == out, run
    assert (closed / "out").stat().st_uid == 0
    assert closed.stat().st_mode & 0o777 == 0o700


@needs_root
def test_a_way_others_could_change_is_refused(hb):
    """Started as root, a path is given as its owner's only by a way that
    no one but root and that owner can change: below a directory others
    may write, or a user's directory on the way to root's files, someone
    could swap in another tree (a root-only one) while hivebox opens it.
    Refused before anything runs, in the plan's words."""
    shared = hb.mkdir("shared", 0o777)
    private = shared / "private"
    private.mkdir(mode=0o700)
    (private / "data").mkdir(mode=0o755)
    (private / "job.py").write_text("print('ran')\n")
    users = hb.mkdir("users", 0o755)
    os.chown(users, 65534, 65534)
    (users / "roots").mkdir(mode=0o755)
    hb.script("hello.py")
    others = (rf"it lies below {shared}, which users other than root and "
              r"its owner may change \(mode 0777\), and started as root, "
              r"hivebox takes a path only by a way no one else can change$")

    for policy_text, script, pattern in [
            ("read_only = shared/private/data\n", "hello.py",
             r"^hivebox: .*policy\.ini:4: read_only path "
             rf"'shared/private/data': {others}"),
            ("", "shared/private/job.py",
             rf"^hivebox: shared/private/job\.py: cannot use script: "
             rf"{others}"),
            ("read_write = users/roots\n", "hello.py",
             r"^hivebox: .*policy\.ini:4: read_write path 'users/roots': "
             rf"it is owned by root \(uid 0\), but {users} on its way "
             r"belongs to nobody \(uid 65534\), who could put another "
             r"tree there$")]:
        policy = hb.policy(f"[filesystem]\n{policy_text}")
        result = hb.result_file()

        run = hb.run_argv(["--result", result, "--policy", policy, script],
                          result_path=result)

        assert_refused(run, pattern)
    # Nothing ran: the trail holds the three refusals, and no start.
    records = [json.loads(line) for line in
               (hb.audit_dir / "execution_audit.log").read_text().splitlines()]
    assert [r["type"] for r in records] == ["end"] * 3, records
    assert [r["result"]["reason"] for r in records] == ["refused"] * 3


def test_the_start_record_hashes_the_file_that_ran(hb):
    """The script is hashed from the descriptor the plan opened, and that
    same file is mounted: the record's sha256 is that of what ran."""
    job = hb.dir / "job.py"
    job.write_text("print('the one')\n")
    job.chmod(0o644)
    policy = hb.policy("")

    run = hb.run_argv(["--policy", policy, "job.py"])

    assert run.rc == 0 and run.stdout == "the one\n", run
    records = [json.loads(line) for line in
               (hb.audit_dir / "execution_audit.log").read_text()
               .splitlines()]
    start = [r for r in records if r["type"] == "start"][-1]
    assert start["script"]["path"] == str(job)
    assert start["script"]["sha256"] == \
        hashlib.sha256(job.read_bytes()).hexdigest()


# Mounts a file system of the given type at a path in a private mount
# namespace of its own, then runs the rest of the command line there.
MOUNT_THEN = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
              'mount -t "$1" "$1" "$2" && shift 2 && exec "$@"', "sh"]


@needs_root
@pytest.mark.parametrize("fstype,what", [
    ("proc", "/proc"), ("sysfs", "/sys"), ("devpts", "/dev")])
def test_a_host_tree_mounted_below_a_policy_directory_is_refused(
        hb, fstype, what):
    """A directory is cloned with the mounts below it: a host procfs,
    sysfs or devpts mounted somewhere below a read_only path (a chroot's
    /proc) would reach the sandbox with it, so the path is refused."""
    tree = hb.mkdir("tree")
    (tree / "inner").mkdir()
    hb.script("hello.py")
    policy = hb.policy("[filesystem]\nread_only = tree\n")
    result = hb.result_file()

    run = hb.run_argv(["--result", result, "--policy", policy, "hello.py"],
                      result_path=result,
                      prefix=MOUNT_THEN + [fstype, tree / "inner"])

    assert_refused(run, r"^hivebox: .*policy\.ini:\d+: read_only path "
                   rf"'tree' would give the sandbox the host's {what}, "
                   r"mounted below it at \S+/tree/inner$")


@needs_root
def test_a_script_in_the_hosts_dev_is_refused(hb):
    """The host's /dev/shm is a tmpfs, not devtmpfs: a script there is
    refused by its path, before anything is opened."""
    fd, name = tempfile.mkstemp(prefix="hivebox-test-", suffix=".py",
                                dir="/dev/shm")
    try:
        os.write(fd, b"print('ran')\n")
        os.close(fd)
        os.chmod(name, 0o644)
        policy = hb.policy("")
        result = hb.result_file()

        run = hb.run_argv(["--result", result, "--policy", policy, name],
                          result_path=result)

        assert_refused(run, rf"^hivebox: {name}: cannot use script: it "
                       r"lies in the host's /dev$")
    finally:
        os.unlink(name)

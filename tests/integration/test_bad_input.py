"""Bad input of every class: exit 125, one line on stderr that says what
and where, and nothing created (no result file, nothing run)."""
import os

import pytest

from conftest import assert_refused

# (id, policy text, pattern of the one stderr line).  The policy is written
# as bad.ini and run with hello.py, from the directory that holds both.
BAD_POLICIES = [
    ("unknown section", "[execution]\ntimeout_seconds = 5\n[bogus]\nx = 1\n",
     r"^hivebox: bad\.ini:3: unknown section \[bogus\]$"),
    ("unknown key", "[execution]\nmemroy_mb = 64\n",
     r"^hivebox: bad\.ini:2: unknown key 'memroy_mb' in \[execution\]$"),
    ("key outside a section", "timeout_seconds = 5\n",
     r"^hivebox: bad\.ini:1: .*timeout_seconds"),
    ("duplicate key", "[execution]\nmemory_mb = 64\nmemory_mb = 32\n",
     r"^hivebox: bad\.ini:3: duplicate key 'memory_mb'"),
    ("syntax error", "[execution\n",
     r"^hivebox: bad\.ini:1: "),
    ("unknown operation", "[filesystem]\nblocked_operations = delete, shred\n",
     r"^hivebox: bad\.ini:2: unknown operation 'shred' in blocked_operations"),
    ("executables", "[filesystem]\nexecutables = /usr/bin/git\n",
     r"^hivebox: bad\.ini:2: 'executables' .*not supported yet"),
    ("allowed_ports without a mode", "[network]\nallowed_ports = 443\n",
     r"^hivebox: bad\.ini:2: allowed_ports without mode = filtered"),
    ("bad port", "[network]\nmode = filtered\nallowed_ports = 443, 99999\n",
     r"^hivebox: bad\.ini:3: bad port '99999' in allowed_ports"),
    ("IPv6 destination", "[network]\nmode = filtered\n"
     "allowed_domains = 2001:db8::1\n",
     r"^hivebox: bad\.ini:3: '2001:db8::1' in allowed_domains is an IPv6"),
    ("unknown syscall", "[syscalls]\ndeny = mount, frobnicate\n",
     r"^hivebox: bad\.ini:2: unknown system call or group 'frobnicate' in deny$"),
    ("unknown group", "[syscalls]\ndefault = deny\nallow = @nosuch\n",
     r"^hivebox: bad\.ini:3: unknown system call or group '@nosuch' in allow$"),
    ("group contradicting default",
     "[syscalls]\ndefault = allow\nallow = @python\n",
     r"^hivebox: bad\.ini:3: allow = @python contradicts default = allow "
     r"\(.*bad\.ini:2\)"),
    ("allowing an always-denied group",
     "[syscalls]\ndefault = deny\nallow = @python, @mount\n",
     r"^hivebox: bad\.ini:3: allow = @mount: it is denied whatever"),
    ("unknown errno", "[syscalls]\nerrno = EWHATEVER\n",
     r"^hivebox: bad\.ini:2: unknown errno name 'EWHATEVER' for errno$"),
    ("bad host name", "[network]\nmode = filtered\n"
     "allowed_domains = api.example.org, a b\n",
     r"^hivebox: bad\.ini:3: 'a b' in allowed_domains is neither"),
    ("unknown key in [monitoring]", "[monitoring]\nlog_level = INFO\n",
     r"^hivebox: bad\.ini:2: unknown key 'log_level' in \[monitoring\]$"),
    ("unknown key in [audit]",
     "[execution]\nmemory_mb = 64\n[audit]\nbogus = 1\n",
     r"^hivebox: bad\.ini:4: unknown key 'bogus' in \[audit\]$"),
    ("alert above 100 %", "[monitoring]\ncpu_usage_alert = 101\n",
     r"^hivebox: bad\.ini:2: bad value '101' for cpu_usage_alert"),
    ("unit suffix", "[execution]\nmemory_mb = 512MB\n",
     r"^hivebox: bad\.ini:2: bad value '512MB' for memory_mb"),
    ("negative", "[execution]\ntimeout_seconds = -1\n",
     r"^hivebox: bad\.ini:2: bad value '-1' for timeout_seconds"),
    ("not a number", "[execution]\ncpu_seconds = abc\n",
     r"^hivebox: bad\.ini:2: bad value 'abc' for cpu_seconds"),
    ("zero where min is 1", "[execution]\nmax_processes = 0\n",
     r"^hivebox: bad\.ini:2: bad value '0' for max_processes: .*from 1 "),
    ("below min", "[execution]\nmemory_mb = 8\n",
     r"^hivebox: bad\.ini:2: bad value '8' for memory_mb: .*from 16 "),
    ("too large", "[execution]\ntimeout_seconds = 99999999999999999999\n",
     r"^hivebox: bad\.ini:2: bad value '9+' for timeout_seconds"),
    ("bad network mode", "[network]\nmode = open\n",
     r"^hivebox: bad\.ini:2: bad value 'open' for mode"),
    ("bad host_uid", "[identity]\nhost_uid = 0\n",
     r"^hivebox: bad\.ini:2: bad value '0' for host_uid"),
    ("bad env name", "[environment]\nkeep = 1FOO\n",
     r"^hivebox: bad\.ini:2: bad environment variable name '1FOO'"),
    ("same path ro and rw", "[filesystem]\nread_only = ./data\n"
     "read_write = ./data\n",
     r"^hivebox: bad\.ini:3: '\./data' is both read_only \(bad\.ini:2\) "
     r"and read_write$"),
    ("one path spelt twice ro and rw", "[filesystem]\nread_only = ./data\n"
     "read_write = data/\n",
     r"^hivebox: bad\.ini:3: '/.*/data' is both read_only and read_write$"),
    ("missing interpreter",
     "[execution]\ninterpreter = /usr/bin/no-such-python\n",
     r"^hivebox: bad\.ini:2: interpreter '/usr/bin/no-such-python' cannot "
     r"be run"),
    ("relative interpreter", "[execution]\ninterpreter = python3\n",
     r"^hivebox: bad\.ini:2: interpreter must be an absolute path"),
    ("read_write is a symlink", "[filesystem]\nread_write = ./link\n",
     r"^hivebox: bad\.ini:2: read_write path '\./link' .* is a symlink"),
    ("read_write does not exist", "[filesystem]\nread_write = ./missing\n",
     r"^hivebox: bad\.ini:2: read_write path '\./missing' .*"
     r"No such file or directory$"),
    ("read_only does not exist", "[filesystem]\nread_only = ./missing\n",
     r"^hivebox: bad\.ini:2: read_only path '\./missing' .*"
     r"No such file or directory$"),
    ("read_write over /proc", "[filesystem]\nread_write = /proc/sys\n",
     r"^hivebox: bad\.ini:2: read_write path '/proc/sys' collides"),
    # A bare name searched in three places, all named (hivebox-policy(5)
    # FINDING POLICIES); test_policy_search.py checks them one by one.
    ("missing parent", "[policy]\nextends = nowhere.ini\n",
     r"^hivebox: bad\.ini:2: cannot extend 'nowhere\.ini': no such policy "
     r"in /\S+, /etc/hivebox/policies, /\S+/share/hivebox/policies$"),
    ("missing parent path", "[policy]\nextends = ./nowhere.ini\n",
     r"^hivebox: bad\.ini:2: .*nowhere\.ini.*No such file"),
    ("relative workdir", "[execution]\nworkdir = jobs\n",
     r"^hivebox: bad\.ini:2: workdir must be an absolute path, not 'jobs'$"),
    ("missing workdir", "[execution]\n\nworkdir = /nonexistent/hb-jobs\n",
     r"^hivebox: bad\.ini:3: workdir '/nonexistent/hb-jobs': "
     r"No such file or directory$"),
    ("workdir is a file", "[execution]\nworkdir = /etc/hostname\n",
     r"^hivebox: bad\.ini:2: workdir '/etc/hostname': Not a directory$"),
]


@pytest.fixture
def bad_dir(hb):
    data = hb.mkdir("data", 0o777)
    (hb.dir / "link").symlink_to(data)
    hb.script("hello.py")
    return hb


@pytest.mark.parametrize("text,pattern",
                         [pytest.param(t, p, id=i) for i, t, p in BAD_POLICIES])
def test_bad_policy(bad_dir, text, pattern):
    hb = bad_dir
    policy = hb.policy(text, extends=None, name="bad.ini")
    result = hb.result_file()

    run = hb.run_argv(["--result", result, "--policy", policy.name,
                       "hello.py"], result_path=result)

    assert_refused(run, pattern)


def test_bad_policy_shown(bad_dir):
    """`policy show` refuses the same way."""
    hb = bad_dir
    hb.policy("[execution]\nmemroy_mb = 64\n", extends=None, name="bad.ini")

    run = hb.run_argv(["policy", "show", "bad.ini"])

    assert_refused(run, r"^hivebox: bad\.ini:2: unknown key 'memroy_mb'")


def test_error_in_a_parent_names_the_parent(bad_dir):
    hb = bad_dir
    parent = hb.policy("[execution]\ntimeout_seconds = 5\nmemroy_mb = 64\n",
                       extends=None, name="parent.ini")
    child = hb.policy("[execution]\nmemory_mb = 64\n", extends="parent.ini",
                      name="child.ini")
    result = hb.result_file()

    run = hb.run_argv(["--result", result, "--policy", child, "hello.py"],
                      result_path=result)

    assert_refused(run, rf"^hivebox: {parent}:3: unknown key 'memroy_mb'")


def test_a_policy_that_is_a_fifo_is_refused_at_once(bad_dir):
    """Reading a FIFO would wait for a writer that never comes."""
    hb = bad_dir
    os.mkfifo(hb.dir / "fifo.ini")
    result = hb.result_file()

    run = hb.run_argv(["--result", result, "--policy", "fifo.ini",
                       "hello.py"], result_path=result, timeout=10)

    assert_refused(run, r"^hivebox: fifo\.ini: cannot read policy: not a "
                   r"regular file$")
    assert run.elapsed < 5, run


def good_policy(hb):
    return hb.policy("", name="good.ini").name


# (id, argv after the binary, pattern); "RESULT" is the result file,
# "GOOD" a valid policy.
BAD_ARGV = [
    ("missing policy", ["--policy", "missing.ini", "hello.py"],
     r"^hivebox: missing\.ini: cannot read policy: no such policy in /\S+, "
     r"/etc/hivebox/policies, /\S+/share/hivebox/policies$"),
    ("missing policy path", ["--policy", "./missing.ini", "hello.py"],
     r"^hivebox: \./missing\.ini: cannot read policy: No such file or "
     r"directory$"),
    # A path: a bare name passes directories over.
    ("policy is a directory", ["--policy", "./data", "hello.py"],
     r"^hivebox: \./data: .*not a regular file"),
    ("missing script", ["--policy", "GOOD", "missing.py"],
     r"^hivebox: missing\.py: cannot use script: No such file or "
     r"directory$"),
    ("script is a directory", ["--policy", "GOOD", "data"],
     r"^hivebox: data: cannot use script: not a regular file$"),
    ("unknown option", ["--bogus", "--policy", "GOOD", "hello.py"],
     r"^hivebox: unknown option '--bogus'"),
    ("option without value", ["--policy", "GOOD", "--timeout"],
     r"^hivebox: option '--timeout' needs a value"),
    ("no policy", ["hello.py"], r"^hivebox: no policy"),
    ("no script", ["--policy", "GOOD"], r"^hivebox: no script"),
    ("argv loosens", ["--timeout", "999", "--policy", "GOOD", "hello.py"],
     r"^hivebox: --timeout 999 would loosen the policy's "
     r"timeout_seconds = 20 \(.*limits\.ini:2\)"),
    ("argv bad unit", ["--memory", "128MB", "--policy", "GOOD", "hello.py"],
     r"^hivebox: bad value '128MB' for --memory"),
    ("argv zero", ["--max-processes", "0", "--policy", "GOOD", "hello.py"],
     r"^hivebox: bad value '0' for --max-processes"),
    ("result-fd not open", ["--result-fd", "87", "--policy", "GOOD",
                            "hello.py"],
     r"^hivebox: --result-fd 87 is not an open descriptor$"),
    ("result-fd not a number", ["--result-fd", "x", "--policy", "GOOD",
                                "hello.py"],
     r"^hivebox: bad value 'x' for --result-fd"),
]


# Refused while the arguments are parsed: the one line only, since
# nothing says yet where a result or a record would go.
USAGE_ERRORS = {"unknown option", "option without value", "no policy",
                "no script", "result-fd not a number"}


@pytest.mark.parametrize("args,pattern",
                         [pytest.param(a, p, id=i) for i, a, p in BAD_ARGV])
def test_bad_argv(bad_dir, request, args, pattern):
    hb = bad_dir
    good = good_policy(hb)
    result = hb.result_file()
    args = [good if a == "GOOD" else a for a in args]

    run = hb.run_argv(["--result", result] + args, result_path=result)

    usage = request.node.callspec.id in USAGE_ERRORS
    assert_refused(run, pattern, parsed=not usage)
    assert sorted(os.listdir(hb.dir / "data")) == []

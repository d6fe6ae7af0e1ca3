"""[network] mode = filtered: real veth pairs, a real nftables table, real
packets.  The test hosts live in a network namespace this module makes
(never on the host's own network); the only host addresses a sandbox is
sent to are the test veth's and the sandbox's own gateway.

Topology (TEST_NET; the pool is POOL):

    sandbox eth0 10.248.0.x --- hb<i>h (host) --- hbt<pid> 10.249.0.1/29,
    fd5b::1/64 --- server netns eth0 10.249.0.2 and .3/29, fd5b::2/64

The server greets on TCP 8080 and 2222 (IPv4 and IPv6) and echoes on UDP
8080 and 5353; the host listens on 10.249.0.1:8081.
"""
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import EXIT_HIVEBOX, assert_refused, assert_result
from test_audit import events, exec_records

POOL = "10.248.0.0/24"
HOST_IP = "10.249.0.1"
SERVER = "10.249.0.2"
OTHER = "10.249.0.3"  # also the server's, never allowed
SERVER6 = "fd5b::2"
ALLOWED, BLOCKED, UDP_OTHER, HOST_PORT = 8080, 2222, 5353, 8081
FORWARD = Path("/proc/sys/net/ipv4/ip_forward")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="needs root: a filtered network is built on the host side")


def sh(*argv, check=True):
    return subprocess.run([str(a) for a in argv], capture_output=True,
                          text=True, timeout=30, check=check)


def host_links() -> list:
    out = sh("ip", "-o", "link", "show").stdout
    return re.findall(r"^\d+: (hb\d+h)[@:]", out, re.M)


def hivebox_tables() -> list:
    out = sh("nft", "list", "tables").stdout
    return re.findall(r"^table inet (hivebox_\d+)$", out, re.M)


class Topology:
    def __init__(self, base: Path):
        tag = os.getpid() % 100000
        self.netns = f"hbt{tag}s"
        self.veth = f"hbt{tag}"
        self.base = base
        self.state = base / "state"
        self.config = base / "hivebox.conf"
        self.config.write_text(
            f"[network]\npool = {POOL}\nstate_dir = {self.state}\n")
        self.config.chmod(0o644)
        self.forward = FORWARD.read_text()
        self.server = None
        self.host_listener = None

    def up(self):
        ns = ["ip", "netns", "exec", self.netns]
        sh("ip", "netns", "add", self.netns)
        sh("ip", "link", "add", self.veth, "type", "veth", "peer", "name",
           "eth0", "netns", self.netns)
        sh("ip", "addr", "add", f"{HOST_IP}/29", "dev", self.veth)
        sh("ip", "addr", "add", "fd5b::1/64", "dev", self.veth, "nodad")
        sh("ip", "link", "set", self.veth, "up")
        sh(*ns, "ip", "link", "set", "lo", "up")
        for addr in (SERVER, OTHER):
            sh(*ns, "ip", "addr", "add", f"{addr}/29", "dev", "eth0")
        sh(*ns, "ip", "addr", "add", f"{SERVER6}/64", "dev", "eth0", "nodad")
        sh(*ns, "ip", "link", "set", "eth0", "up")
        self.server = subprocess.Popen(
            ns + ["python3", "-I", str(Path(__file__).parent /
                                       "net_server.py"),
                  f"{ALLOWED},{BLOCKED}", f"{ALLOWED},{UDP_OTHER}", SERVER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.server.stdout.readline().strip() == "ready"
        # One of the host's own services, on the test veth's address only.
        self.host_listener = socket.socket()
        self.host_listener.setsockopt(socket.SOL_SOCKET,
                                      socket.SO_REUSEADDR, 1)
        self.host_listener.bind((HOST_IP, HOST_PORT))
        self.host_listener.listen(16)
        threading.Thread(target=self._serve_host, daemon=True).start()

    def _serve_host(self):
        while True:
            try:
                conn, _ = self.host_listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"host service\n")

    def down(self):
        if self.host_listener:
            self.host_listener.close()
        if self.server:
            self.server.stdin.close()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        # Deleting the namespace takes the veth pair with it.
        sh("ip", "netns", "del", self.netns, check=False)
        sh("ip", "link", "del", self.veth, check=False)

    def leftovers(self) -> list:
        """What hivebox left on the host: interfaces, tables, pool state,
        forwarding."""
        left = [f"link {name}" for name in host_links()]
        left += [f"nft table {name}" for name in hivebox_tables()]
        if self.state.exists():
            left += [f"state file {p.name}" for p in self.state.iterdir()
                     if p.name != "lock"]
        if FORWARD.read_text() != self.forward:
            left.append(f"ip_forward is {FORWARD.read_text().strip()}, "
                        f"was {self.forward.strip()}")
        return left


@pytest.fixture(scope="module")
def topo(tmp_path_factory):
    for tool in ("ip", "nft"):
        if subprocess.run(["which", tool], capture_output=True).returncode:
            pytest.skip(f"needs {tool} to build and check the test network")
    assert host_links() == [], "hb*h links before the tests: not ours"
    assert hivebox_tables() == [], "hivebox tables before the tests"
    base = tmp_path_factory.mktemp("net")
    t = Topology(base)
    try:
        t.up()
        yield t
    finally:
        t.down()


@pytest.fixture(autouse=True)
def no_leftovers(topo):
    """After every test, hivebox must have removed all it added.  The veth
    pair goes with the sandbox's network namespace, which the kernel frees
    asynchronously, a few milliseconds after the run: give it a moment."""
    yield
    deadline = time.monotonic() + 5
    while host_links() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert topo.leftovers() == []


def policy(hb, domains=SERVER, ports=f"{ALLOWED}", blocked=None,
           syscalls="[syscalls]\ndefault = deny\nallow = @python\n"):
    text = "[network]\nmode = filtered\n"
    if domains:
        text += f"allowed_domains = {domains}\n"
    if ports:
        text += f"allowed_ports = {ports}\n"
    if blocked:
        text += f"blocked_ports = {blocked}\n"
    return hb.policy(text + syscalls)


def probe(hb, topo, pol, *probes, **kwargs):
    run = hb.run("net_probe.py", *probes, policy=pol,
                 options=["--config", topo.config], **kwargs)
    return run, (run.json() if run.rc == 0 else None)


def blocked_events(hb, run) -> dict:
    """The run's network events, by (protocol, address, port)."""
    found = {}
    for ev in events(hb.audit_dir, run.result["exec_id"]):
        if ev["kind"] == "network_blocked" and "address" in ev["details"]:
            d = ev["details"]
            found[(d["protocol"], d["address"], d["port"])] = ev
    return found


def test_allowed_port_works_and_everything_else_is_rejected_and_logged(
        hb, topo):
    pol = policy(hb, domains=f"{SERVER}, {HOST_IP}",
                 ports=f"{ALLOWED}, {BLOCKED}, {HOST_PORT}",
                 blocked=f"{BLOCKED}")
    run, got = probe(hb, topo, pol,
                     f"tcp:{SERVER}:{ALLOWED}",     # allowed
                     f"udp:{SERVER}:{ALLOWED}",     # allowed, udp
                     f"tcp:{SERVER}:{BLOCKED}",     # blocked wins
                     f"udp:{SERVER}:{UDP_OTHER}",   # port not allowed
                     f"icmp:{SERVER}",              # icmp
                     f"tcp6:{SERVER6}:{ALLOWED}",   # ipv6
                     f"tcp:{HOST_IP}:{HOST_PORT}",  # the host, though listed
                     f"tcp:{OTHER}:{ALLOWED}",      # another address
                     "gateway")
    assert run.rc == 0, run
    assert got[f"tcp:{SERVER}:{ALLOWED}"] == f"ok hello {ALLOWED}", got
    assert got[f"udp:{SERVER}:{ALLOWED}"] == f"ok echo {ALLOWED}", got
    refused = (f"tcp:{SERVER}:{BLOCKED}", f"udp:{SERVER}:{UDP_OTHER}",
               f"tcp:{HOST_IP}:{HOST_PORT}", f"tcp:{OTHER}:{ALLOWED}")
    for what in refused:
        # Rejected, so that the script fails at once; the kernel's rate
        # limit on ICMP errors (per address, across runs) may swallow an
        # answer, and then the script's own timeout ends the attempt.
        assert got[what] in ("err EHOSTUNREACH", "err timeout"), (what, got)
    assert got[refused[0]] == "err EHOSTUNREACH", got
    assert got[f"icmp:{SERVER}"].startswith("err"), got
    assert got[f"tcp6:{SERVER6}:{ALLOWED}"].startswith("err"), got
    gateway = got["gateway"].split()[1]

    evs = blocked_events(hb, run)
    want = {("tcp", SERVER, BLOCKED), ("udp", SERVER, UDP_OTHER),
            ("icmp", SERVER, None), ("tcp", SERVER6, ALLOWED),
            ("tcp", HOST_IP, HOST_PORT), ("tcp", OTHER, ALLOWED)}
    assert want <= set(evs), sorted(evs)
    # Nothing else: the allowed traffic and the kernel's own IPv6 chatter
    # are not violations.
    assert set(evs) == want, sorted(evs)
    for (proto, addr, port), ev in evs.items():
        d = ev["details"]
        assert d["count"] >= 1, ev
        assert d["family"] == ("ipv6" if ":" in addr else "ipv4"), ev
        assert ev["severity"] == "violation", ev
    assert evs[("tcp", SERVER, BLOCKED)]["details"]["count"] in (1, 2)

    res = assert_result(run, "exit", exit_code=0)
    net = res["network"]
    assert net["mode"] == "filtered", net
    assert net["blocked_packets"] >= len(want), net
    assert net["host_address"] == gateway, net
    assert re.fullmatch(r"10\.248\.0\.\d+", net["sandbox_address"]), net
    assert re.fullmatch(r"hb\d+h", net["host_interface"]), net
    assert res["violations"] == len(want), res
    # The end record carries the same, and says what became of forwarding.
    end = [r for r in exec_records(hb.audit_dir)
           if r["type"] == "end" and r["exec_id"] == res["exec_id"]][0]
    assert end["result"]["network"]["ip_forward"] == (
        "switched on" if topo.forward.strip() == "0" else "already on")
    start = [r for r in exec_records(hb.audit_dir)
             if r["type"] == "start" and r["exec_id"] == res["exec_id"]][0]
    assert start["network"]["allowed_domains"] == {
        SERVER: [SERVER], HOST_IP: [HOST_IP]}, start
    assert start["network"]["allowed_ports"] == [ALLOWED, BLOCKED, HOST_PORT]
    assert start["network"]["blocked_ports"] == [BLOCKED]


def test_repeated_attempts_are_one_event_with_a_count(hb, topo):
    pol = policy(hb)
    probes = [f"tcp:{SERVER}:{BLOCKED}"] * 5
    run, got = probe(hb, topo, pol, *probes)
    assert run.rc == 0, run
    evs = blocked_events(hb, run)
    assert list(evs) == [("tcp", SERVER, BLOCKED)], evs
    # One packet per attempt, and now and then a retried SYN: an ICMP
    # error that meets the socket locked by connect() is only a soft one.
    assert 5 <= evs[("tcp", SERVER, BLOCKED)]["details"]["count"] <= 10


def test_destinations_past_the_cap_are_counted_in_one_event(hb, topo):
    # 300 ports: the first 128 destinations and the last 128 get an event
    # each, the 44 between one event with their count; in the log, in
    # that order.
    run = hb.run("net_probe.py", f"udpspray:{SERVER}:20000:300",
                 policy=policy(hb), options=["--quiet", "--config", topo.config])
    got = run.json()
    assert got[f"udpspray:{SERVER}:20000:300"] == "ok sent", got
    evs = [e for e in events(hb.audit_dir, run.result["exec_id"])
           if e["kind"] == "network_blocked"]
    per_dest = [e for e in evs if "address" in e["details"]]
    others = [e for e in evs if "address" not in e["details"]]
    assert len(per_dest) == 256, len(per_dest)
    assert len(others) == 1, others
    ports = [e["details"].get("port") for e in evs]
    assert ports == (list(range(20000, 20128)) + [None] +
                     list(range(20172, 20300))), ports
    # Every packet is counted once: 256 destinations each with its own
    # count, the rest (and any the kernel's log queue lost) together.
    counted = sum(e["details"]["count"] for e in per_dest)
    assert others[0]["details"]["count"] == 300 - counted, others
    assert run.result["network"]["blocked_packets"] == 300
    assert run.result["violations"] == 257


def test_an_exhausted_pool_refuses_the_run_and_says_so(hb, topo):
    # A pool of one slot, held by a sleeping run.
    small = hb.dir / "small.conf"
    small.write_text(f"[network]\npool = 10.248.1.0/30\n"
                     f"state_dir = {topo.state}-small\n")
    pol = policy(hb)
    from conftest import HIVEBOX
    holder = subprocess.Popen(
        [str(HIVEBOX)] + hb.audit_options(["run"]) +
        ["--config", str(small), "--policy", str(pol),
         hb.script("sleeper.py"), "30"],
        cwd=hb.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().startswith("sleeping")
        run = hb.run("net_probe.py", "addr", policy=pol,
                     options=["--config", small])
    finally:
        holder.send_signal(signal.SIGTERM)
        holder.communicate(timeout=30)
    assert run.rc == EXIT_HIVEBOX, run
    assert run.stdout == "", run
    # The supervisor's own stage on the host, not the sandbox init's.
    assert run.stderr_lines() == [
        "hivebox: sandbox setup failed at 'set up the host side of the "
        "network' on take an address from the pool: Cannot assign "
        "requested address"], run
    res = assert_result(run, "setup_error")
    assert res["setup_error"]["stage"] == \
        "set up the host side of the network", res
    assert res["network"] == {"mode": "filtered"}, res
    end = [r for r in exec_records(hb.audit_dir)
           if r["type"] == "end" and r["exec_id"] == res["exec_id"]]
    assert len(end) == 1, end
    assert end[0]["result"]["reason"] == "setup_error"
    assert end[0]["result"]["setup_error"]["what"] == \
        "take an address from the pool"


def test_nothing_allowed_logs_every_attempt(hb, topo):
    pol = policy(hb, domains=None, ports=None)
    run, got = probe(hb, topo, pol, f"tcp:{SERVER}:{ALLOWED}")
    assert got[f"tcp:{SERVER}:{ALLOWED}"] == "err EHOSTUNREACH", got
    assert ("tcp", SERVER, ALLOWED) in blocked_events(hb, run)


def test_names_are_resolved_at_start_into_the_sandbox_hosts(hb, topo):
    # A private mount namespace around hivebox: its resolver reads a hosts
    # file of ours, and the host's /etc/hosts is never touched.
    hosts = hb.dir / "hosts"
    hosts.write_text(f"127.0.0.1 localhost\n{SERVER} api.hbtest\n")
    pol = policy(hb, domains="api.hbtest")
    wrap = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            f'mount --bind "{hosts}" /etc/hosts && exec "$@"', "sh"]
    run = hb.run("net_probe.py", "name:api.hbtest", f"tcp:api.hbtest:{ALLOWED}",
                 "name:example.org", policy=pol,
                 options=["--config", topo.config], prefix=wrap)
    assert run.rc == 0, run
    got = run.json()
    assert got["name:api.hbtest"] == f"ok {SERVER}", got
    assert got[f"tcp:api.hbtest:{ALLOWED}"] == f"ok hello {ALLOWED}", got
    # No resolver inside: only the names the policy allowed.
    assert got["name:example.org"].startswith("err"), got
    start = [r for r in exec_records(hb.audit_dir) if r["type"] == "start"
             and r["exec_id"] == run.result["exec_id"]][0]
    assert start["network"]["allowed_domains"] == {"api.hbtest": [SERVER]}

    dry = hb.run_argv(["--dry-run", "--config", topo.config, "--policy", pol,
                       "net_probe.py"], prefix=wrap)
    assert dry.rc == 0, dry
    assert f"api.hbtest -> {SERVER}" in dry.stdout, dry.stdout
    assert f"allowed ports (tcp, udp): {ALLOWED}" in dry.stdout


def test_a_nameserver_the_policy_allows_is_the_sandbox_resolver(hb, topo):
    # The host's resolv.conf, in a private mount namespace: the test's
    # server is its nameserver.
    resolv = hb.dir / "resolv.conf"
    resolv.write_text(f"# test\nnameserver {SERVER}\nnameserver {OTHER}\n")
    wrap = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            f'mount --bind "{resolv}" /etc/resolv.conf && exec "$@"', "sh"]
    probes = ("name:dyn.hbtest", f"tcp:dyn.hbtest:{ALLOWED}")
    # Port 53 allowed to the server: it is the sandbox's resolver; OTHER,
    # not an allowed address, is not.
    pol = policy(hb, ports=f"{ALLOWED}, 53")
    run = hb.run("net_probe.py", *probes, policy=pol,
                 options=["--config", topo.config], prefix=wrap)
    assert run.rc == 0, run
    got = run.json()
    assert got["name:dyn.hbtest"] == f"ok {SERVER}", got
    assert got[f"tcp:dyn.hbtest:{ALLOWED}"] == f"ok hello {ALLOWED}", got
    start = [r for r in exec_records(hb.audit_dir) if r["type"] == "start"
             and r["exec_id"] == run.result["exec_id"]][0]
    assert start["network"]["nameservers"] == [SERVER], start["network"]
    dry = hb.run_argv(["--dry-run", "--config", topo.config, "--policy", pol,
                       "net_probe.py"], prefix=wrap)
    assert f"resolver: nameserver {SERVER} (the host's" in dry.stdout
    # Without port 53, no resolver: the name does not resolve, and no
    # query leaves the sandbox.
    run = hb.run("net_probe.py", *probes, policy=policy(hb),
                 options=["--config", topo.config], prefix=wrap)
    assert run.rc == 0, run
    assert run.json()["name:dyn.hbtest"].startswith("err"), run.json()
    assert blocked_events(hb, run) == {}
    # Nor with port 53 allowed but blocked.
    pol = policy(hb, ports=f"{ALLOWED}, 53", blocked="53")
    dry = hb.run_argv(["--dry-run", "--config", topo.config, "--policy", pol,
                       "net_probe.py"], prefix=wrap)
    assert "resolver: none" in dry.stdout, dry.stdout


def test_a_name_that_does_not_resolve_is_refused(hb, topo):
    pol = policy(hb, domains="no-such-host.invalid")
    run = hb.run("net_probe.py", policy=pol,
                 options=["--config", topo.config])
    assert_refused(run, r"policy\.ini:\d+: allowed_domains: cannot resolve "
                   r"'no-such-host\.invalid'")


def test_loopback_destination_is_refused(hb, topo):
    pol = policy(hb, domains="127.0.0.1")
    run = hb.run("net_probe.py", policy=pol,
                 options=["--config", topo.config])
    assert_refused(run, r"'127\.0\.0\.1' is 127\.0\.0\.1, a loopback")


def test_mode_none_sees_only_loopback(hb, topo):
    run = hb.run("net_probe.py", "ifaces", f"tcp:{SERVER}:{ALLOWED}",
                 policy=hb.policy("[syscalls]\ndefault = allow\n"))
    assert run.rc == 0, run
    got = run.json()
    assert got["ifaces"] == "ok lo", got
    assert got[f"tcp:{SERVER}:{ALLOWED}"] == "err ENETUNREACH", got
    assert run.result["network"] == {"mode": "none"}
    run, got = probe(hb, topo, policy(hb), "ifaces")
    assert got["ifaces"] == "ok eth0,lo", got


def test_inside_cannot_change_addresses_routes_links_or_nftables(hb, topo):
    # Every system call allowed: the kernel itself must say no.
    pol = policy(hb, syscalls="[syscalls]\ndefault = allow\n")
    run = hb.run("net_admin.py", policy=pol,
                 options=["--config", topo.config])
    assert run.rc == 0, run
    got = run.json()
    assert got == {k: "EPERM" for k in ("address", "route", "link_down",
                                         "new_link", "delete_link",
                                         "nftables")}, got
    # Under strict's allow-list, netlink sockets are not even opened.
    run = hb.run("net_admin.py", policy=policy(hb),
                 options=["--config", topo.config])
    assert run.rc == 0, run
    assert set(run.json().values()) == {"EPERM"}, run.json()
    syscall_events = [e for e in events(hb.audit_dir, run.result["exec_id"])
                      if e["kind"] == "syscall_denied"]
    assert syscall_events, "the denied socket() calls are logged"


def test_unprivileged_filtered_is_refused(hb, topo, tmp_path):
    work = tmp_path / "nobody"
    work.mkdir(mode=0o755)
    work.chmod(0o755)
    (work / "p.ini").write_text("[network]\nmode = filtered\n"
                                f"allowed_domains = {SERVER}\n")
    (work / "s.py").write_text("print('ran')\n")
    for path in work.iterdir():
        path.chmod(0o644)
    run = hb.run_argv(["--config", topo.config, "--policy", "p.ini", "s.py"],
                      cwd=work, prefix=["setpriv", "--reuid=65534",
                                        "--regid=65534", "--clear-groups"])
    assert_refused(run, r"^hivebox: p\.ini:2: mode = filtered needs hivebox "
                   r"to be started as root")


def test_bad_config_is_refused_with_its_line(hb, topo):
    bad = hb.dir / "bad.conf"
    bad.write_text("[network]\npool = 10.0.0.0/8\n")
    run = hb.run("net_probe.py", policy=policy(hb),
                 options=["--config", bad])
    assert_refused(run, r"bad\.conf:2: bad value '10\.0\.0\.0/8' for pool")
    run = hb.run("net_probe.py", policy=policy(hb),
                 options=["--config", hb.dir / "missing.conf"])
    assert_refused(run, r"missing\.conf: cannot read: No such file")


def test_sigkilled_hivebox_leaves_what_the_next_start_removes(hb, topo):
    pol = policy(hb)
    argv = [str(a) for a in (hb.audit_options(["run"]) +
                             ["--config", topo.config, "--policy", pol,
                              hb.script("sleeper.py"), "30"])]
    from conftest import HIVEBOX
    proc = subprocess.Popen([str(HIVEBOX)] + argv, cwd=hb.dir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().startswith("sleeping"), proc
        tables = hivebox_tables()
        assert len(tables) == 1, tables
        index = tables[0].split("_")[1]
        assert (topo.state / index).exists()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    # The sandbox died with hivebox and its namespace took the veth pair;
    # the kernel deleted the table with the socket that owned it.  The
    # pool's state file (and forwarding, if hivebox switched it on) is
    # left for the next start.
    deadline = time.monotonic() + 10
    while host_links() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host_links() == []
    assert hivebox_tables() == []
    assert (topo.state / index).exists()

    run, got = probe(hb, topo, pol, f"tcp:{SERVER}:{ALLOWED}")
    assert got[f"tcp:{SERVER}:{ALLOWED}"] == f"ok hello {ALLOWED}", got
    assert run.result["network"]["stale_runs_cleaned"] == 1, run.result
    # no_leftovers checks the rest, forwarding included.


def wait_links_gone():
    deadline = time.monotonic() + 5
    while host_links() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert host_links() == []


def test_a_later_run_cannot_use_an_earlier_runs_connections(hb, topo):
    """Conntrack outlives a run.  A run at the same address, whose policy
    does not allow the destination, sends from the same source port to
    where an earlier run's UDP flow went: that is not an established
    connection of its own."""
    flow = f"udpfrom:40404:{SERVER}:{ALLOWED}"
    run, got = probe(hb, topo, policy(hb), flow)
    assert got[flow] == f"ok echo {ALLOWED}", got
    first = run.result["network"]["sandbox_address"]
    wait_links_gone()  # so that the next run gets the same slot
    pol = policy(hb, ports=f"{HOST_PORT}")
    run, got = probe(hb, topo, pol, flow)
    assert run.result["network"]["sandbox_address"] == first
    # Refused; the answer may be lost to the kernel's ICMP rate limit.
    assert got[flow] in ("err EHOSTUNREACH", "err timeout"), got
    assert ("udp", SERVER, ALLOWED) in blocked_events(hb, run)


def test_fifty_sandboxes_at_once_get_distinct_addresses(hb, topo):
    from conftest import HIVEBOX
    gate = hb.mkdir("gate")
    pol = policy(hb, syscalls="[filesystem]\nread_only = gate\n"
                 "[syscalls]\ndefault = deny\nallow = @python\n")
    script = hb.script("net_probe.py")
    procs = []
    for i in range(50):
        result = hb.dir / f"many-{i}.json"
        argv = [str(HIVEBOX)] + hb.audit_options(["run"]) + [
            "--quiet", "--result", str(result), "--config", str(topo.config),
            "--policy", str(pol), script, "addr", f"wait:{gate}/open",
            f"tcp:{SERVER}:{ALLOWED}"]
        procs.append((subprocess.Popen(argv, cwd=hb.dir,
                                       stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True),
                      result))
    try:
        # All fifty are up at the same time, each with its own veth.
        deadline = time.monotonic() + 90
        while len(host_links()) < 50 and time.monotonic() < deadline:
            assert all(p.poll() is None for p, _ in procs), "one ended early"
            time.sleep(0.1)
        assert len(host_links()) == 50, host_links()
    finally:
        (gate / "open").write_text("")
    addrs = []
    for proc, result in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (out, err)
        got = json.loads(out)
        assert got[f"tcp:{SERVER}:{ALLOWED}"] == f"ok hello {ALLOWED}", got
        res = json.loads(result.read_text())
        assert got["addr"] == "ok " + res["network"]["sandbox_address"]
        addrs.append(res["network"]["sandbox_address"])
    assert len(set(addrs)) == 50, sorted(addrs)


class Arrivals:
    """Counters in the test server's namespace, before anything else of
    it sees a packet: what of the sandbox's traffic got past the host's
    filter.  rules: name -> nft match."""

    TABLE = "hbtest_arrivals"

    def __init__(self, topo, rules: dict):
        self.ns = ["ip", "netns", "exec", topo.netns]
        self.names = list(rules)
        body = "".join(f"    {match} counter comment \"{name}\"\n"
                       for name, match in rules.items())
        self.text = (f"table inet {self.TABLE} {{\n"
                     "  chain pre {\n"
                     "    type filter hook prerouting priority -400;\n"
                     f"{body}  }}\n}}\n")

    def __enter__(self):
        subprocess.run(self.ns + ["nft", "-f", "-"], input=self.text,
                       text=True, check=True, capture_output=True, timeout=30)
        return self

    def __exit__(self, *exc):
        sh(*self.ns, "nft", "delete", "table", "inet", self.TABLE,
           check=False)

    def counts(self) -> dict:
        out = sh(*self.ns, "nft", "list", "table", "inet", self.TABLE).stdout
        found = {name: int(n) for n, name in
                 re.findall(r'counter packets (\d+) bytes \d+ '
                            r'comment "([^"]+)"', out)}
        assert set(found) == set(self.names), out
        return found


def test_a_flood_of_destinations_does_not_hide_the_last_one(hb, topo):
    """A script sends to 300 junk destinations (ports of the test server
    that the policy does not allow) and then to the one it is after: the
    security log names that one, however many came before."""
    spray = f"udpspray:{SERVER}:20000:300"
    target = f"tcp:{OTHER}:{ALLOWED}"
    allowed = f"tcp:{SERVER}:{ALLOWED}"
    rules = {"junk": "udp dport 20000-20299",
             "target": f"ip daddr {OTHER} tcp dport {ALLOWED}",
             # Shows that the counters see what does get through.
             "allowed": f"ip daddr {SERVER} tcp dport {ALLOWED}"}
    with Arrivals(topo, rules) as arrivals:
        run = hb.run("net_probe.py", allowed, spray, target,
                     policy=policy(hb),
                     options=["--quiet", "--config", topo.config])
        seen = arrivals.counts()
    assert run.rc == 0, run
    got = run.json()
    assert got[allowed] == f"ok hello {ALLOWED}", got
    assert got[spray] == "ok sent", got
    assert got[target] in ("err EHOSTUNREACH", "err timeout"), got
    # Dropped on the host: not one of them reached the server.
    assert seen["junk"] == 0 and seen["target"] == 0, seen
    assert seen["allowed"] >= 1, seen

    evs = [e for e in events(hb.audit_dir, run.result["exec_id"])
           if e["kind"] == "network_blocked"]
    named = [(e["details"]["protocol"], e["details"]["address"],
              e["details"]["port"]) for e in evs if "address" in e["details"]]
    assert ("tcp", OTHER, ALLOWED) in named, named[-5:]
    assert named[-1] == ("tcp", OTHER, ALLOWED), named[-5:]
    # The first destinations are named too, and the log stays bounded.
    assert ("udp", SERVER, 20000) in named, named[:5]
    assert len(evs) <= 257, len(evs)
    total = sum(e["details"]["count"] for e in evs)
    assert total == run.result["network"]["blocked_packets"], total
    assert total >= 301, total


# Documentation addresses (RFC 5737), which nothing routes.
NOWHERE = "198.51.100.7"
NOWHERE_TOO = "203.0.113.9"


@pytest.fixture
def routeless(hb):
    """A network namespace with loopback only, for hivebox to run in as on
    a host with no route but to its sandboxes: nothing sent from there can
    leave, whatever the filter does.  Deleting it takes whatever hivebox
    added in it."""
    ns = f"hbt{os.getpid() % 100000}r"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        conf = hb.dir / "routeless.conf"
        conf.write_text(f"[network]\npool = {POOL}\n"
                        f"state_dir = {hb.dir}/routeless-state\n")
        conf.chmod(0o644)
        yield ns, conf
    finally:
        sh("ip", "netns", "del", ns, check=False)


def test_destinations_the_host_has_no_route_to_are_logged(hb, topo,
                                                          routeless):
    """The host's routing drops a packet it has no route for before any
    forward or input chain sees it: the filter must log it all the same,
    and here too a flood must not hide the last destination."""
    ns, conf = routeless
    links = sh("ip", "-n", ns, "-o", "link", "show").stdout
    assert re.findall(r"^\d+: ([^:@]+)", links, re.M) == ["lo"], links
    for addr in (NOWHERE, NOWHERE_TOO):
        assert sh("ip", "-n", ns, "route", "get", addr,
                  check=False).returncode != 0, addr
    spray = f"udpspray:{NOWHERE}:20000:300"
    target = f"tcp:{NOWHERE_TOO}:443"
    run = hb.run("net_probe.py", spray, target, policy=policy(hb),
                 options=["--quiet", "--config", conf],
                 prefix=["ip", "netns", "exec", ns])
    assert run.rc == 0, run
    got = run.json()
    assert got[spray] == "ok sent", got
    assert got[target].startswith("err"), got
    evs = [e for e in events(hb.audit_dir, run.result["exec_id"])
           if e["kind"] == "network_blocked"]
    named = [(e["details"]["protocol"], e["details"]["address"],
              e["details"]["port"]) for e in evs if "address" in e["details"]]
    assert named[-1] == ("tcp", NOWHERE_TOO, 443), named[-5:]
    assert ("udp", NOWHERE, 20000) in named, named[:5]
    total = sum(e["details"]["count"] for e in evs)
    assert total == run.result["network"]["blocked_packets"] >= 301, total
    # All hivebox added in the namespace is gone again.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "hb" in sh(
            "ip", "-n", ns, "-o", "link", "show").stdout:
        time.sleep(0.01)
    assert "hb" not in sh("ip", "-n", ns, "-o", "link", "show").stdout
    assert sh("ip", "netns", "exec", ns, "nft", "list", "tables").stdout == ""

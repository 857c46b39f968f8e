# SPDX-License-Identifier: GPL-2.0-or-later
"""network.connect, network.listen, --publish, --add-host between real sandboxes.

Run on its own, as root:
    WARD=build/src/ward python3 -m pytest tests/network/test_ports.py

Every address used is one ward gives to a sandbox it starts (WARD_NET_RANGE,
default 10.88.0.0/16) or the host's own 127.0.0.1 for --publish.  The
fixtures end every sandbox they start (SIGTERM to its supervisor, which
removes its veth and nftables elements), also when a test fails.

Which layer refused is visible in errno: Landlock refuses a TCP connect to a
port no rule grants with EACCES before any packet exists; the nftables
output chain inside the sandbox rejects the packet, which the sender sees
as EHOSTUNREACH ("No route to host").
"""

import os
import re
import signal
import subprocess
import time

import pytest

from netlib import wv_links

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
WARD = os.path.realpath(os.environ.get("WARD", os.path.join(REPO, "build", "src", "ward")))
TIMEOUT = 30

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not os.access(WARD, os.X_OK) or not os.access("/usr/sbin/nft", os.X_OK),
    reason="needs root, the ward binary ($WARD) and /usr/sbin/nft")

# A TCP (and UDP) server on every port given; answers "portN".
SERVER = r"""
import socket, sys, threading
def tcp(p):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", p)); s.listen(16)
    while True:
        c, a = s.accept(); c.sendall(b"port%d" % p); c.close()
def udp(p):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", p))
    while True:
        d, a = s.recvfrom(100); s.sendto(b"udp%d" % p, a)
for p in sys.argv[1:]:
    threading.Thread(target=tcp, args=(int(p),), daemon=True).start()
    threading.Thread(target=udp, args=(int(p),), daemon=True).start()
import time; time.sleep(3600)
"""

# Try each HOST:PORT[/udp]; print "HOST:PORT ok ANSWER" or "HOST:PORT errno N".
CLIENT = r"""
import socket, sys
for hp in sys.argv[1:]:
    udp = hp.endswith("/udp"); h, p = hp.removesuffix("/udp").rsplit(":", 1)
    try:
        if udp:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
            s.sendto(b"x", (h, int(p))); ans = s.recv(100).decode()
        else:
            s = socket.create_connection((h, int(p)), timeout=3); ans = s.recv(100).decode()
        print(hp, "ok", ans, flush=True)
    except OSError as e:
        print(hp, "errno", e.errno if e.errno is not None else "timeout", flush=True)
"""

EPERM, EACCES, EHOSTUNREACH = 1, 13, 113


def ward(*args, env=None, timeout=TIMEOUT):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([WARD, *args], capture_output=True, text=True, timeout=timeout, env=e)


def ward_elements():
    """Every element of ward's host tables (sets and the publish map of ip
    ward_nat, the port bindings of bridge ward), one string per element."""
    out = set()
    for family, table in (("ip", "ward_nat"), ("bridge", "ward")):
        r = subprocess.run(["/usr/sbin/nft", "list", "table", family, table],
                           capture_output=True, text=True, timeout=TIMEOUT)
        if r.returncode == 0:
            for elems in re.findall(r"elements = \{([^}]*)\}", r.stdout, re.S):
                out |= {e.strip() for e in elems.split(",") if e.strip()}
    return out


def results(stdout):
    out = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out[parts[0]] = (parts[1], parts[2])
    return out


@pytest.fixture
def sandboxes(request):
    """Start long-running sandboxes; returns start(args) -> (proc, address)."""
    procs = []

    def start(*args):
        r, w = os.pipe()
        p = subprocess.Popen([WARD, "run", "-q", "--notify-fd", str(w), *args],
                             pass_fds=(w,), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        os.close(w)
        procs.append(p)
        with os.fdopen(r) as f:
            line = f.readline()
        m = re.match(r"ready pid=(\d+) address=(\S+)", line)
        assert m, (line, p.poll(), p.stderr.read() if p.poll() is not None else "")
        return p, m.group(2)

    def cleanup():
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    request.addfinalizer(cleanup)
    return start


def server_args(*ports):
    args = []
    for p in ports:
        args += ["--allow", f"network.listen={p}"]
    return [*args, "--", "python3", "-c", SERVER, *map(str, ports)]


def wait_listening(addr, port):
    """The host can reach every sandbox's listen port (it is the gateway)."""
    import socket
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection((addr, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{addr}:{port} never listened")


# ------------------------------------------------------------------ connect

def test_connect_reaches_only_the_granted_port(sandboxes):
    _, db = sandboxes("--hostname", "db", *server_args(5432, 22))
    _, other = sandboxes(*server_args(5432))
    wait_listening(db, 5432)
    wait_listening(other, 5432)
    r = ward("run", "-q", "--add-host", f"db:{db}", "--add-host", f"other:{other}",
             "--allow", "network.connect=db:5432", "--",
             "python3", "-c", CLIENT, "db:5432", "db:22", "other:5432", f"{db}:5432")
    assert r.returncode == 0, r
    res = results(r.stdout)
    assert res["db:5432"] == ("ok", "port5432"), r.stdout
    assert res[f"{db}:5432"] == ("ok", "port5432"), r.stdout
    # Port 22 is no granted port: Landlock refuses before any packet.
    assert res["db:22"] == ("errno", str(EACCES)), r.stdout
    # Port 5432 of another sandbox: Landlock allows the port, the nftables
    # rules inside refuse the address.
    assert res["other:5432"] == ("errno", str(EHOSTUNREACH)), r.stdout


def test_udp_is_filtered_by_nftables_alone(sandboxes):
    # Landlock has no UDP rules: the nftables layer does it on its own.
    _, db = sandboxes(*server_args(5432, 5433))
    wait_listening(db, 5432)
    r = ward("run", "-q", "--add-host", f"db:{db}", "--allow", "network.connect=db:5432", "--",
             "python3", "-c", CLIENT, "db:5432/udp", "db:5433/udp")
    assert r.returncode == 0, r
    res = results(r.stdout)
    assert res["db:5432/udp"] == ("ok", "udp5432"), r.stdout
    assert res["db:5433/udp"] == ("errno", str(EPERM)), r.stdout


def test_listen_refuses_other_ports(sandboxes):
    # The server binds 7000 (granted) and 7001 (not): Landlock refuses the bind.
    prog = ("import socket\n"
            "for p in (7000, 7001):\n"
            "    s = socket.socket()\n"
            "    try:\n        s.bind(('0.0.0.0', p)); print(p, 'bound')\n"
            "    except OSError as e:\n        print(p, 'errno', e.errno)\n")
    r = ward("run", "-q", "--allow", "network.listen=7000", "--", "python3", "-c", prog)
    assert r.returncode == 0, r
    assert "7000 bound" in r.stdout and f"7001 errno {EACCES}" in r.stdout, r.stdout


def test_listener_is_not_reachable_on_other_ports(sandboxes):
    # A sandbox that listens on 7000 and (with network.loopback, so Landlock
    # leaves bind alone) also on 7001: only 7000 is reachable from outside.
    _, addr = sandboxes("--allow", "network.loopback", "--allow", "network.listen=7000",
                        "--", "python3", "-c", SERVER, "7000", "7001")
    wait_listening(addr, 7000)
    import socket
    with pytest.raises(OSError) as e:
        socket.create_connection((addr, 7001), timeout=2)
    assert e.value.errno == EHOSTUNREACH


def test_privileged_port_can_be_listened_on(sandboxes):
    # Ports below 1024 are the sandbox's own: a confined program may bind 80.
    _, addr = sandboxes(*server_args(80))
    wait_listening(addr, 80)


def test_connect_to_own_loopback_port(sandboxes):
    prog = ("import socket, threading\n"
            "srv = socket.socket(); srv.bind(('127.0.0.1', 7100)); srv.listen()\n"
            "srv2 = socket.socket(); srv2.bind(('127.0.0.1', 7101)); srv2.listen()\n"
            "for p in (7100, 7101):\n"
            "    try:\n"
            "        socket.create_connection(('localhost', p), timeout=2); print(p, 'ok')\n"
            "    except OSError as e:\n        print(p, 'errno', e.errno)\n")
    # "localhost" is resolved on the host (to 127.0.0.1): the sandbox's own loopback.
    r = ward("run", "-q", "--allow", "network.connect=localhost:7100",
             "--allow", "network.listen=7100", "--allow", "network.listen=7101", "--",
             "python3", "-c", prog)
    assert r.returncode == 0, r
    assert "7100 ok" in r.stdout and f"7101 errno {EACCES}" in r.stdout, r.stdout


def test_sandbox_without_network_entitlement_has_only_loopback():
    prog = ("import os, socket, sys\n"
            "print(sorted(os.listdir('/sys/class/net')))\n"
            "try:\n    socket.socket(socket.AF_INET)\n"
            "except OSError as e:\n    print('errno', e.errno)\n")
    r = ward("run", "-q", "--", "python3", "-c", prog)
    assert r.returncode == 0, r
    assert r.stdout.splitlines() == ["['lo']", f"errno {EPERM}"], r.stdout


def test_hosts_file_and_hostname(sandboxes):
    r = ward("run", "-q", "--hostname", "web", "--add-host", "db:10.88.0.77",
             "--allow", "network.listen=80", "--",
             "sh", "-c", "cat /etc/hosts; hostname; cat /etc/resolv.conf")
    assert r.returncode == 0, r
    assert re.search(r"^10\.88\.\d+\.\d+\tweb$", r.stdout, re.M), r.stdout
    assert "10.88.0.77\tdb\n" in r.stdout and "\nweb\n" in r.stdout, r.stdout
    assert "no DNS server" in r.stdout, r.stdout


def test_inner_rules_survive_cap_net_admin(sandboxes):
    # security.admin gives CAP_NET_ADMIN in the sandbox's own user
    # namespace, which does not own its network namespace: the rules stay.
    r = ward("run", "-q", "--allow", "security.admin", "--allow", "network.listen=80", "--",
             "/usr/sbin/nft", "flush", "ruleset")
    assert r.returncode != 0, r
    assert "Operation not permitted" in r.stderr, r


# ------------------------------------------------------------------ publish

def test_publish_is_reachable_from_host_loopback(sandboxes):
    import socket
    _, addr = sandboxes("--publish", "18431:8080", *server_args(8080))
    wait_listening(addr, 8080)
    s = socket.create_connection(("127.0.0.1", 18431), timeout=5)
    assert s.recv(100) == b"port8080"
    s.close()


def test_publish_needs_listen():
    r = ward("run", "--allow", "network.listen=80", "--publish", "18432:8080", "--", "true")
    assert r.returncode == 125 and "network.listen=8080" in r.stderr, r


def test_publish_of_a_used_host_port_is_refused():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    try:
        r = ward("run", "--allow", "network.listen=80", "--publish", f"{port}:80", "--", "true")
        assert r.returncode == 125 and "already uses TCP port" in r.stderr, r
    finally:
        s.close()


def test_same_host_port_twice_is_refused(sandboxes):
    sandboxes("--publish", "18433:80", *server_args(80))
    r = ward("run", "--allow", "network.listen=80", "--publish", "18433:80", "--", "true")
    assert r.returncode == 125 and "already published by another sandbox" in r.stderr, r


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("args,words", [
    (["--allow", "network.connect=db"], ["network.connect=db", "HOST:PORT"]),
    (["--allow", "network.connect=db:0"], ["1 to 65535"]),
    (["--allow", "network.connect=[::1]:80"], ["IPv6"]),
    (["--allow", "network.connect=a b:80"], ["not a host name"]),
    (["--allow", "network.listen=http"], ["1 to 65535"]),
    (["--allow", "network.none", "--allow", "network.listen=80"], ["network.none"]),
    (["--allow", "network.host", "--allow", "network.listen=80"], ["network.host"]),
    (["--publish", "80"], ["--publish 80", "HOSTPORT:PORT"]),
    (["--publish", "8080:80"], ["--publish", "network.listen"]),
    (["--add-host", "db"], ["--add-host db", "NAME:A.B.C.D"]),
    (["--allow", "network.connect=no-such-name.invalid:80"], ["cannot resolve", "--add-host"]),
])
def test_bad_network_input_is_refused(args, words):
    r = ward("run", *args, "--", "true")
    assert r.returncode in (2, 125), r
    for w in words:
        assert w in r.stderr, (w, r.stderr)


# ------------------------------------------------------------------ cleanup

def test_nothing_is_left_after_a_run(sandboxes):
    links, elems = wv_links(), ward_elements()
    p, db = sandboxes(*server_args(5432))
    r = ward("run", "-q", "--add-host", f"db:{db}", "--allow", "network.connect=db:5432",
             "--publish", "18434:80", "--allow", "network.listen=80", "--", "true")
    assert r.returncode == 0, r
    assert ward_elements() - elems <= {e for e in ward_elements()
                                       if db in e or f'"wv{p.pid}"' in e}
    assert not any("18434" in e for e in ward_elements())
    assert len(wv_links() - links) <= 1  # the db sandbox still runs


def test_leftovers_of_a_killed_supervisor_are_removed(sandboxes):
    p, addr = sandboxes("--publish", "18435:80", *server_args(80))
    assert any(addr in e for e in ward_elements()) or any("18435" in e
                                                          for e in ward_elements())
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=TIMEOUT)
    deadline = time.time() + 10
    while f"wv{p.pid}" in wv_links() and time.time() < deadline:
        time.sleep(0.1)
    assert any(f'"wv{p.pid}"' in e for e in ward_elements())  # its port binding
    # The next start removes what the killed supervisor left.
    r = ward("run", "-q", "--allow", "network.listen=80", "--", "true")
    assert r.returncode == 0, r
    assert not any("18435" in e for e in ward_elements()), ward_elements()
    assert not any(f'"wv{p.pid}"' in e for e in ward_elements()), ward_elements()
    assert f"wv{p.pid}" not in wv_links()


def test_resolv_conf_names_only_reachable_servers():
    servers = []
    with open("/etc/resolv.conf") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[0] == "nameserver" and re.match(r"^\d+\.\d+\.\d+\.\d+$",
                                                                       parts[1]):
                servers.append(parts[1])
    if not servers:
        pytest.skip("the host's resolv.conf names no IPv4 server")
    # Nothing is sent: the sandbox only prints its resolv.conf.
    r = ward("run", "-q", "--allow", f"network.connect={servers[0]}:53", "--",
             "cat", "/etc/resolv.conf")
    assert r.returncode == 0, r
    assert f"nameserver {servers[0]}\n" in r.stdout, r.stdout
    for other in servers[1:]:
        assert f"nameserver {other}\n" not in r.stdout, r.stdout


CONNECTS = r"""
import socket, sys
for hp in sys.argv[1:]:
    h, p = hp.rsplit(":", 1)
    try:
        socket.create_connection((h, int(p)), timeout=2)
    except OSError as e:
        print(hp, e.errno, flush=True)
"""


def test_refused_connect_is_explained():
    # Nothing leaves the sandbox: Landlock or the rules inside refuse first.
    r = ward("run", "--allow", "network.connect=10.88.0.99:5432", "--", "python3", "-c",
             CONNECTS, "10.88.0.99:22", "10.88.0.98:5432", "10.88.0.98:5432")
    assert r.returncode == 0, r
    assert r.stdout.splitlines() == [f"10.88.0.99:22 {EACCES}", f"10.88.0.98:5432 {EHOSTUNREACH}",
                                     f"10.88.0.98:5432 {EHOSTUNREACH}"], r.stdout
    assert ("ward: refused connect(10.88.0.99:22) by Landlock (port) and nftables in pid"
            in r.stderr), r.stderr
    assert "grant network.connect=10.88.0.99:22 to allow" in r.stderr, r.stderr
    assert ("ward: refused connect(10.88.0.98:5432) by the nftables rules in pid"
            in r.stderr), r.stderr
    # The same refusal twice: one line, then a count at exit.
    assert r.stderr.count("refused connect(10.88.0.98:5432)") == 1, r.stderr
    assert "1 more denial of connect(10.88.0.98:5432)" in r.stderr, r.stderr


def test_refused_connect_quiet_and_logged(tmp_path):
    log = tmp_path / "denials.jsonl"
    r = ward("run", "--quiet-denials", "--denials-log", str(log),
             "--allow", "network.connect=10.88.0.99:5432", "--", "python3", "-c", CONNECTS,
             "10.88.0.97:5432")
    assert r.returncode == 0 and "refused" not in r.stderr, r
    assert '"syscall": "connect"' in log.read_text() or '"syscall":"connect"' in log.read_text()
    r = ward("run", "--quiet-denials", "--allow", "network.connect=10.88.0.99:5432", "--",
             "python3", "-c", CONNECTS, "10.88.0.97:5432")
    assert r.returncode == 0 and "refused" not in r.stderr, r


def test_gc_removes_bridge_and_table_when_idle():
    # Nothing else with an interface may be running for this to hold: the
    # test's own fixtures have ended theirs.
    d = "/run/ward/net"
    r = ward("run", "-q", "--allow", "network.listen=80", "--", "sh", "-c",
             "test -e /sys/class/net/eth0 && echo up")
    assert r.returncode == 0 and r.stdout == "up\n", r
    if os.path.isdir(d) and any(n.endswith(".lock") and n[0].isdigit() for n in os.listdir(d)):
        pytest.skip("another sandbox with an interface is running")
    # A lone sandbox leaves the shared bridge (like docker0); ward gc
    # removes it, its route and the table once no sandbox needs them.
    r = ward("gc")
    assert r.returncode == 0, r
    assert not os.path.exists("/sys/class/net/ward0")
    t = subprocess.run(["/usr/sbin/nft", "list", "table", "ip", "ward_nat"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert t.returncode != 0, t.stdout
    with open("/proc/net/route") as f:
        assert "ward0" not in f.read()


def test_connect_by_broker_name(sandboxes, tmp_path):
    # A sandbox registered with the broker (--name) is found by that name.
    state = str(tmp_path / "state")
    try:
        _, db = sandboxes("--state-dir", state, "--name", "wt-db", *server_args(5432))
        wait_listening(db, 5432)
        r = ward("run", "-q", "--state-dir", state, "--allow", "network.connect=wt-db:5432",
                 "--", "sh", "-c", "grep wt-db /etc/hosts; python3 -c \"$0\" wt-db:5432", CLIENT)
        assert r.returncode == 0, r
        assert f"{db}\twt-db" in r.stdout, r.stdout
        assert "wt-db:5432 ok port5432" in r.stdout, r.stdout
    finally:
        subprocess.run([WARD, "broker", "--stop", "--state-dir", state], capture_output=True,
                       timeout=TIMEOUT)

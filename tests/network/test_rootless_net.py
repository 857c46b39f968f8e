# SPDX-License-Identifier: GPL-2.0-or-later
"""Rootless networking (docs/rootless.md, docs/network.md#rootless).

As the session's ordinary user (tests/conftest.py, RootlessUser): network.outbound,
network.connect, --publish and a space's talk-to rules through the user's
router (a network namespace of the user's, joined to the host by pasta), and
that nothing of it is left after a normal end and after `kill -9` of ward:
no pasta, netd or holder process, no state file.

The "outside" is a network namespace this test creates (wardrl-<pid>) with a
TCP server on 10.91.N.2:42001, joined to the host by a veth of its own (host
side 10.91.N.1/24) and without a default route: the server sees the host's
address, as pasta connects from the host.  Ports are 42000-42099; no other
address is contacted.  Everything is removed also when a test fails.
"""

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import TAG_LISTENER, WARD, as_user_argv, proc_table, read_line

TIMEOUT = 60
PORT = 42001

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or not os.access(WARD, os.X_OK) or
                       not os.access("/usr/bin/pasta", os.X_OK) or
                       not os.access("/usr/sbin/nft", os.X_OK),
                       reason="needs root (to make the user), $WARD, pasta (passt) and nft"),
    pytest.mark.usefixtures("rootless_user"),
]

SERVER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
print("ready", flush=True)
while True:
    c, a = s.accept()
    c.sendall(a[0].encode())
    c.close()
"""

# Tries each HOST:PORT[/udp] once: "T ok ANSWER" or "T errno N".
CLIENT = r"""
import socket, sys
for t in sys.argv[1:]:
    hp, _, proto = t.partition("/")
    host, port = hp.rsplit(":", 1)
    try:
        if proto == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"x", (host, int(port)))
            print(t, "ok", "sent", flush=True)
        else:
            s = socket.create_connection((host, int(port)), timeout=5)
            s.settimeout(5)
            print(t, "ok", s.recv(100).decode() or "-", flush=True)
    except OSError as e:
        print(t, "errno", e.errno, flush=True)
"""

# A space's environment stays up (`ward up` takes an early end for a failure).
STAY = "import time\nprint('done', flush=True)\ntime.sleep(600)\n"



def results(out):
    return {l.split()[0]: tuple(l.split()[1:]) for l in out.splitlines() if l.strip()}


def sh(*argv, check=True):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
    if check and r.returncode != 0:
        raise AssertionError(f"{argv}: {r.stderr}")
    return r


def as_user(user, *args, timeout=TIMEOUT):
    return subprocess.run(as_user_argv([WARD] + [str(a) for a in args], user),
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def net_dir(user):
    return os.path.join(user.home, ".local/state/ward/run/net")


def router_processes(user):
    """The user's netd, holder and pasta (by their names), alive."""
    out = []
    for pid, t in proc_table().items():
        if t[3] == "Z":
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid != user.uid:
                continue
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in ("ward-netd", "ward-router") or comm.startswith("pasta") or \
                comm.startswith("passt"):
            out.append((pid, comm))
    return out


def assert_router_gone(user, timeout=30):
    """The router ends a moment after its last sandbox (WARD_NET_ROUTER_IDLE)
    and removes its directory."""
    deadline = time.monotonic() + timeout
    while (router_processes(user) or os.path.exists(net_dir(user))) and \
            time.monotonic() < deadline:
        time.sleep(0.1)
    assert not router_processes(user), f"left: {router_processes(user)}"
    assert not os.path.exists(net_dir(user)), os.listdir(net_dir(user))


def port_free(port):
    s = socket.socket()
    # SO_REUSEADDR: the test's own connections wait in TIME_WAIT.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("0.0.0.0", port))
        s.listen(1)
        return True
    except OSError:
        return False
    finally:
        s.close()


@pytest.fixture
def user(rootless_user):
    yield rootless_user
    # A test that failed early may leave the router running: end it.
    as_user(rootless_user, "gc")


@pytest.fixture
def server():
    pid = os.getpid()
    n = pid % 250 + 1
    ns, host_if, peer_if = f"wardrl-{pid}", f"wrh{pid}"[:15], f"wrp{pid}"[:15]
    host_ip, server_ip = f"10.91.{n}.1", f"10.91.{n}.2"
    proc = None
    try:
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", peer_if, "netns", ns)
        sh("ip", "addr", "add", f"{host_ip}/24", "dev", host_if)
        sh("ip", "link", "set", host_if, "up")
        sh("ip", "-n", ns, "addr", "add", f"{server_ip}/24", "dev", peer_if)
        sh("ip", "-n", ns, "link", "set", peer_if, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c", SERVER, server_ip,
                                 str(PORT)], stdout=subprocess.PIPE, text=True)
        assert read_line(proc.stdout, TIMEOUT).strip() == "ready"
        yield {"ip": server_ip, "host_ip": host_ip}
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(timeout=TIMEOUT)
            proc.stdout.close()
        if os.path.exists(f"/sys/class/net/{host_if}"):
            sh("ip", "link", "del", host_if, check=False)
        if os.path.exists(f"/run/netns/{ns}"):
            sh("ip", "netns", "del", ns, check=False)


def test_outbound_reaches_a_server_through_pasta(user, server):
    before = {n for n in os.listdir("/sys/class/net") if n.startswith("wv")}
    r = as_user(user, "run", "-q", "--allow", "network.outbound", "--", "python3", "-c",
                CLIENT, f"{server['ip']}:{PORT}")
    assert r.returncode == 0, r
    # The server saw the host's own address: pasta connected from the host,
    # as the user.  No veth of the host's was made for it.
    assert results(r.stdout)[f"{server['ip']}:{PORT}"] == ("ok", server["host_ip"]), r
    assert {n for n in os.listdir("/sys/class/net") if n.startswith("wv")} <= before
    assert_router_gone(user)


def test_connect_reaches_only_the_granted_port(user, server):
    ip = server["ip"]
    r = as_user(user, "run", "-q", "--allow", f"network.connect={ip}:{PORT}", "--",
                "python3", "-c", CLIENT, f"{ip}:{PORT}", f"{ip}:{PORT + 1}",
                f"{ip}:{PORT}/udp", f"{ip}:{PORT + 1}/udp")
    assert r.returncode == 0, r
    res = results(r.stdout)
    assert res[f"{ip}:{PORT}"] == ("ok", server["host_ip"]), r
    # TCP: Landlock refuses the port (EACCES) and ward records it.
    assert res[f"{ip}:{PORT + 1}"] == ("errno", str(errno.EACCES)), r
    assert f"refused connect({ip}:{PORT + 1})" in r.stderr, r
    # UDP has no Landlock rule: the nftables rules inside the sandbox's
    # namespace refuse it on their own (EPERM), as in root mode.
    assert res[f"{ip}:{PORT}/udp"] == ("ok", "sent"), r
    assert res[f"{ip}:{PORT + 1}/udp"] == ("errno", str(errno.EPERM)), r
    assert_router_gone(user)


def test_publish_is_reachable_from_the_host(user, spawned):
    host_port = 42011
    p = spawned(as_user_argv([WARD, "run", "-q", "--allow", "network.listen=8080", "--publish",
                              f"{host_port}:8080", "--", "python3", "-c", TAG_LISTENER, "8080",
                              "rlpub"], user), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True)
    assert read_line(p.stdout, TIMEOUT).strip() == "listening", p.stderr
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            with socket.create_connection(("127.0.0.1", host_port), timeout=5) as c:
                c.settimeout(5)
                assert c.recv(100) == b"rlpub"
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    p.terminate()
    p.wait(timeout=TIMEOUT)
    # The host's port is free again: the user's listening socket went with
    # the sandbox.
    deadline = time.monotonic() + 10
    while not port_free(host_port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert port_free(host_port)
    assert_router_gone(user)


@pytest.mark.skipif(int(open("/proc/sys/net/ipv4/ip_unprivileged_port_start").read()) <= 80,
                    reason="port 80 is not privileged on this host")
def test_publish_of_a_privileged_port_is_refused(user):
    r = as_user(user, "run", "--allow", "network.listen=8080", "--publish", "80:8080", "--",
                "/bin/true")
    assert r.returncode == 125 and "--publish 80:8080" in r.stderr and \
        "choose a host port of 1024 or more" in r.stderr, r
    assert r.stderr.startswith("ward: "), r


def test_kill_9_of_ward_leaves_nothing(user):
    host_port = 42012
    p = subprocess.Popen(as_user_argv([WARD, "run", "-q", "--allow", "network.listen=8080",
                                       "--publish", f"{host_port}:8080", "--", "python3", "-c",
                                       TAG_LISTENER, "8080", "k9"], user),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, stdin=subprocess.DEVNULL)
    try:
        assert read_line(p.stdout, TIMEOUT).strip() == "listening"
        assert router_processes(user), "no router runs"
        assert not port_free(host_port)
        ward = [q for q, t in proc_table().items() if t[0] == p.pid]
        assert len(ward) == 1
        os.kill(ward[0], signal.SIGKILL)
        p.wait(timeout=TIMEOUT)
        deadline = time.monotonic() + 10
        while not port_free(host_port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert port_free(host_port)
        # pasta, netd, the holder and every file of the network state
        # (the killed supervisor's slot included) are gone.
        assert_router_gone(user)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        p.stdout.close()
        p.stderr.close()


def test_explain_names_the_router(user):
    r = as_user(user, "explain", "-a", "network.outbound")
    assert r.returncode == 0, r
    assert 'rootless: "host" above is your router' in r.stdout, r.stdout


def test_space_environments_meet_in_the_users_router(user):
    d = os.path.realpath(tempfile.mkdtemp(prefix="ward-rlnet-", dir="/var/tmp"))
    os.chmod(d, 0o755)
    path = os.path.join(d, "rln.toml")
    with open(path, "w") as f:
        f.write(f"""name = "rln"

[env.db]
command = {json.dumps(["python3", "-c", TAG_LISTENER, "42005", "db"])}
allow = ["network.listen=42005"]
wait = "listen"

[env.web]
command = {json.dumps(["python3", "-c", CLIENT + STAY, "db:42005", "db:42006"])}
talk-to = ["db:42005"]
""")
    host_links = {n for n in os.listdir("/sys/class/net") if n.startswith("wv")}
    try:
        r = as_user(user, "up", path)
        assert r.returncode == 0, r
        log = os.path.join(user.home, ".local/state/ward/run/spaces/rln/web.log")
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            text = open(log).read() if os.path.exists(log) else ""
            if "done" in text:
                break
            time.sleep(0.1)
        res = results("\n".join(l for l in text.splitlines() if not l.startswith("ward:")))
        assert res.get("db:42005") == ("ok", "db"), text
        assert res.get("db:42006") == ("errno", str(errno.EACCES)), text
        # The environments met in the user's router: the host got no veth.
        assert {n for n in os.listdir("/sys/class/net") if n.startswith("wv")} <= host_links
    finally:
        r = as_user(user, "down", "--timeout", "5", "rln")
        shutil.rmtree(d, ignore_errors=True)
    assert r.returncode == 0, r
    assert_router_gone(user)


def test_router_serves_a_sandbox_with_the_subordinate_ranges(user, spawned):
    # The first sandbox maps only the user's own id (security.confined);
    # the router it starts maps every id of the user's, so that a second
    # one with security.user (the subordinate ranges) joins the same router.
    p = spawned(as_user_argv([WARD, "run", "-q", "--allow", "network.outbound", "--", "sh", "-c",
                              "echo up; sleep 60"], user), stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
    assert read_line(p.stdout, TIMEOUT).strip() == "up"
    netd = [pid for pid, comm in router_processes(user) if comm == "ward-netd"]
    r = as_user(user, "run", "-q", "--allow", "network.outbound", "--allow", "security.user",
                "--", "cat", "/proc/self/uid_map")
    assert r.returncode == 0, r
    assert r.stdout.split()[3:6] == ["1", "1", "65535"], r
    assert [pid for pid, comm in router_processes(user) if comm == "ward-netd"] == netd
    p.terminate()
    p.wait(timeout=TIMEOUT)
    assert_router_gone(user)


def test_connect_rule_to_an_address_of_the_host_is_refused(user, server):
    r = as_user(user, "run", "-q", "--allow", f"network.connect={server['host_ip']}:{PORT}",
                "--", "/bin/true")
    assert r.returncode == 125 and r.stderr.startswith("ward: "), r
    assert f"{server['host_ip']} is an address of this host" in r.stderr and \
        "your router refuses them" in r.stderr, r

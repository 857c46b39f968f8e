# SPDX-License-Identifier: GPL-2.0-or-later
"""network.outbound: a sandbox reaches a server outside it through ward0 and NAT.

Run on its own, as root:
    WARD=build-net/src/ward WARD_HELPERS=build-net/tests/helpers \\
        python3 -m pytest tests/network

The "outside" is a network namespace this test creates (wardtest-<pid>) with
a TCP server on 10.89.N.2, joined to the host by a veth of its own
(host side 10.89.N.1/24).  The server's namespace has no default route, so
it can only answer 10.89.N.1: a reply proves the host masqueraded the
sandbox's address.  No other address is ever contacted.  The finalizer
removes the server, the veth and the namespace, also when a test fails.
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

SERVER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7777))
s.listen(8)
print("ready", flush=True)
while True:
    c, a = s.accept()
    c.sendall(a[0].encode())
    c.close()
"""

CLIENT = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], 7777), timeout=5)
print(s.recv(100).decode())
"""


def sh(*argv, check=True):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
    if check and r.returncode != 0:
        raise AssertionError(f"{argv}: {r.stderr}")
    return r


def ward(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([WARD, *args], capture_output=True, text=True, timeout=TIMEOUT,
                          env=e)


def nat_elements():
    r = sh("/usr/sbin/nft", "list", "set", "ip", "ward_nat", "sandboxes", check=False)
    return set(re.findall(r"\d+\.\d+\.\d+\.\d+", r.stdout)) if r.returncode == 0 else set()


@pytest.fixture
def server(request):
    pid = os.getpid()
    n = pid % 250 + 1
    ns = f"wardtest-{pid}"
    host_if = f"wth{pid}"[:15]
    peer_if = f"wtp{pid}"[:15]
    host_ip, server_ip = f"10.89.{n}.1", f"10.89.{n}.2"
    state = {"proc": None}

    def cleanup():
        p = state["proc"]
        if p is not None:
            p.kill()
            p.wait(timeout=TIMEOUT)
        if os.path.exists(f"/sys/class/net/{host_if}"):
            sh("ip", "link", "del", host_if, check=False)
        if os.path.exists(f"/run/netns/{ns}"):
            sh("ip", "netns", "del", ns, check=False)

    request.addfinalizer(cleanup)
    sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", peer_if, "netns", ns)
    sh("ip", "addr", "add", f"{host_ip}/24", "dev", host_if)
    sh("ip", "link", "set", host_if, "up")
    # Replies to sandboxes come in here and are forwarded to ward0.
    with open(f"/proc/sys/net/ipv4/conf/{host_if}/forwarding", "w") as f:
        f.write("1")
    sh("ip", "-n", ns, "addr", "add", f"{server_ip}/24", "dev", peer_if)
    sh("ip", "-n", ns, "link", "set", peer_if, "up")
    sh("ip", "-n", ns, "link", "set", "lo", "up")
    p = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c", SERVER, server_ip],
                         stdout=subprocess.PIPE, text=True)
    state["proc"] = p
    assert p.stdout.readline().strip() == "ready"
    return {"ip": server_ip, "host_ip": host_ip, "net": f"10.89.{n}.0/24"}


def test_outbound_reaches_server_through_nat(server):
    links, elems = wv_links(), nat_elements()
    r = ward("run", "-q", "--allow", "network.outbound", "--", "python3", "-c", CLIENT,
             server["ip"])
    assert r.returncode == 0, r
    # The server saw the host's address: the sandbox's was masqueraded.
    assert r.stdout.strip() == server["host_ip"], r
    # Nothing of this sandbox is left: no veth, no NAT element.
    assert wv_links() <= links
    assert nat_elements() <= elems


def test_without_entitlement_socket_is_denied(server):
    prog = ("import socket, sys\n"
            "try:\n    socket.socket()\n"
            "except OSError as e:\n    print(e.errno); sys.exit(3)\n")
    r = ward("run", "-q", "--", "python3", "-c", prog)
    assert r.returncode == 3 and r.stdout.strip() == "1", r  # EPERM


def test_loopback_cannot_reach_server(server):
    r = ward("run", "-q", "--allow", "network.loopback", "--", "python3", "-c", CLIENT,
             server["ip"])
    assert r.returncode != 0 and "Network is unreachable" in r.stderr, r


def test_two_sandboxes_get_different_addresses(server):
    cmd = ["run", "-q", "--allow", "network.outbound", "--", "sh", "-c",
           "ip -4 -o addr show dev eth0; sleep 2"]
    a = subprocess.Popen([WARD, *cmd], stdout=subprocess.PIPE, text=True)
    b = subprocess.Popen([WARD, *cmd], stdout=subprocess.PIPE, text=True)
    try:
        out_a = a.communicate(timeout=TIMEOUT)[0]
        out_b = b.communicate(timeout=TIMEOUT)[0]
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert a.returncode == 0 and b.returncode == 0, (out_a, out_b)
    addr_a = re.search(r"inet (\S+)", out_a).group(1)
    addr_b = re.search(r"inet (\S+)", out_b).group(1)
    assert addr_a != addr_b


def test_range_overlapping_a_route_is_refused(server):
    r = ward("run", "--allow", "network.outbound", "--", "true",
             env={"WARD_NET_RANGE": server["net"]})
    assert r.returncode == 125 and "overlaps the host's route" in r.stderr, r


def test_bad_range_is_refused():
    r = ward("run", "--allow", "network.outbound", "--", "true",
             env={"WARD_NET_RANGE": "10.88.0.0"})
    assert r.returncode == 125 and "WARD_NET_RANGE=10.88.0.0" in r.stderr, r


def test_leftovers_of_a_killed_supervisor_are_removed(server):
    p = subprocess.Popen([WARD, "run", "-q", "--allow", "network.outbound", "--", "sh", "-c",
                          "ip -4 -o addr show dev eth0; sleep 30"],
                         stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        addr = re.search(r"inet (\d+\.\d+\.\d+\.\d+)", line).group(1)
        assert addr in nat_elements()
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    # The sandbox dies with its supervisor (parent-death signal), and the
    # veth with its namespace; the NAT element stays until the next start.
    deadline = time.time() + 10
    while f"wv{p.pid}" in wv_links() and time.time() < deadline:
        time.sleep(0.1)
    assert f"wv{p.pid}" not in wv_links()
    r = ward("run", "-q", "--allow", "network.outbound", "--", "true")
    assert r.returncode == 0, r
    assert addr not in nat_elements()


def test_sandbox_reaches_no_service_of_the_host(server):
    # A server of the host itself, on the test's own host-side address.
    host = subprocess.Popen(["python3", "-c", SERVER, server["host_ip"]],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert host.stdout.readline().strip() == "ready"
        r = ward("run", "-q", "--allow", "network.outbound", "--", "python3", "-c", CLIENT,
                 server["host_ip"])
        assert r.returncode != 0 and "No route to host" in r.stderr, r
    finally:
        host.kill()
        host.wait(timeout=TIMEOUT)


def test_sandboxes_cannot_reach_each_other(server):
    listener = ("import os, socket, sys\n"
                "s = socket.socket(); s.bind(('0.0.0.0', 7000)); s.listen()\n"
                "sys.stdout.flush(); os.system('ip -4 -o addr show dev eth0')\n"
                "s.settimeout(20)\n"
                "try:\n    s.accept(); print('accepted', flush=True)\n"
                "except OSError:\n    pass\n")
    a = subprocess.Popen([WARD, "run", "-q", "--allow", "network.outbound", "--", "python3",
                          "-c", listener], stdout=subprocess.PIPE, text=True)
    try:
        addr = re.search(r"inet (\d+\.\d+\.\d+\.\d+)", a.stdout.readline()).group(1)
        client = ("import socket, sys\n"
                  "socket.create_connection((sys.argv[1], 7000), timeout=5)\n")
        r = ward("run", "-q", "--allow", "network.outbound", "--", "python3", "-c", client, addr)
        assert r.returncode != 0 and "accepted" not in r.stdout, r
    finally:
        a.terminate()  # forwarded to the sandbox; the supervisor cleans up
        a.wait(timeout=TIMEOUT)

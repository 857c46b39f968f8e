# SPDX-License-Identifier: GPL-2.0-or-later
"""A review's attacks on the rootless router (docs/threat-model/network.md#rootless).

Attackers: another local user (squatting the IPv6 side of a published port,
talking to the user's router.sock), and the program inside a rootless
sandbox (looking for the router's state and processes, or for the host's
loopback behind the gateway's address).  Each test runs the attack against
a real sandbox of the session's ordinary user and has its control.
Ports 47010-47029.
"""

import errno
import os
import socket
import subprocess
import time

import pytest

from conftest import TAG_LISTENER, WARD, as_user_argv, read_line

TIMEOUT = 60

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or not os.access(WARD, os.X_OK) or
                       not os.access("/usr/bin/pasta", os.X_OK),
                       reason="needs root (to make the users), $WARD and pasta (passt)"),
    pytest.mark.usefixtures("rootless_user"),
]


# Another local user's server on [::]:PORT only (IPV6_V6ONLY): it takes what
# a client sends to localhost:PORT when the client goes over ::1.
SQUATTER = r"""
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s.bind(("::", int(sys.argv[1])))
s.listen(8)
print("squatting", flush=True)
while True:
    c, a = s.accept()
    c.sendall(b"squatter")
    c.close()
"""


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def stop(p):
    if p is None:
        return
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()
    for f in (p.stdout, p.stderr):
        if f:
            f.close()


def start(argv, user=None):
    return subprocess.Popen(as_user_argv(argv, user) if user else argv,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def answer(family, addr, port):
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            with socket.socket(family) as c:
                c.settimeout(5)
                c.connect((addr, port))
                return c.recv(100)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.skipif(not has_ipv6_loopback(), reason="the host has no ::1")
def test_attack_ipv6_squatter_cannot_take_a_published_port(rootless_user):
    # Another local user listens on [::]:PORT (IPv6 only).  ward's publish
    # held only 0.0.0.0:PORT, so the start succeeded and a client that
    # reached localhost:PORT over ::1 talked to the squatter, believing it
    # was the sandbox.  Now the supervisor holds [::]:PORT as well and
    # refuses to start while someone else has it.
    port, inner = 47010, 8080
    sq = p = None
    try:
        sq = start(["runuser", "-u", "nobody", "--", "python3", "-c", SQUATTER, str(port)])
        assert read_line(sq.stdout, TIMEOUT).strip() == "squatting"
        p = start([WARD, "run", "-q", "--allow", f"network.listen={inner}", "--publish",
                   f"{port}:{inner}", "--", "python3", "-c", TAG_LISTENER, str(inner), "sandbox"],
                  rootless_user)
        line = read_line(p.stdout, TIMEOUT).strip()
        if line == "listening":
            got = answer(socket.AF_INET6, "::1", port)
            pytest.fail(f"published while another user holds [::]:{port}; "
                        f"::1 answered {got!r}")
        p.wait(timeout=TIMEOUT)
        err = p.stderr.read()
        assert p.returncode == 125, err
        assert err.startswith(f"ward: --publish {port}:{inner}: a program of the host already "
                              f"uses TCP port {port} (IPv6)"), err
    finally:
        stop(p)
        stop(sq)


@pytest.mark.skipif(not has_ipv6_loopback(), reason="the host has no ::1")
def test_published_port_answers_on_ipv6_loopback_too(rootless_user):
    # The control: with nobody on [::]:PORT the sandbox answers on both.
    port, inner = 47011, 8080
    p = None
    try:
        p = start([WARD, "run", "-q", "--allow", f"network.listen={inner}", "--publish",
                   f"{port}:{inner}", "--", "python3", "-c", TAG_LISTENER, str(inner), "sandbox"],
                  rootless_user)
        assert read_line(p.stdout, TIMEOUT).strip() == "listening", \
            p.stderr.read() if p.poll() is not None else ""
        assert answer(socket.AF_INET, "127.0.0.1", port) == b"sandbox"
        assert answer(socket.AF_INET6, "::1", port) == b"sandbox"
        stop(p)
        p = None
        # Both sides of the host's port are free again (nobody listens).
        for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            deadline = time.monotonic() + 20
            while True:
                with socket.socket(fam) as s:
                    # As ward checks it (a connection in TIME_WAIT is no user).
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if fam == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    try:
                        s.bind((addr, port))
                        break
                    except OSError:
                        assert time.monotonic() < deadline, (addr, port)
                time.sleep(0.2)
    finally:
        stop(p)


# ---- the router's control socket and state ----

CTL_CLIENT = r"""
import array, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect errno", e.errno, flush=True)
    sys.exit()
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
try:
    s.sendmsg([b"pub 10.88.255.254 9"],
              [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [l.fileno()]))])
    s.settimeout(30)
    print("answer", s.recv(1).decode() or "eof", flush=True)
except OSError as e:
    print("send errno", e.errno, flush=True)
"""


def net_dir(user):
    return os.path.join(user.home, ".local/state/ward/run/net")


def router_up(user):
    return os.path.exists(os.path.join(net_dir(user), "router"))


@pytest.fixture
def keeper(rootless_user):
    """A sandbox of the user's with network.outbound, keeping the router up."""
    p = start([WARD, "run", "-q", "--allow", "network.outbound", "--", "sleep", "300"],
              rootless_user)
    deadline = time.monotonic() + TIMEOUT
    while not router_up(rootless_user):
        assert p.poll() is None, p.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    try:
        yield p
    finally:
        stop(p)
        subprocess.run(as_user_argv([WARD, "gc"], rootless_user), capture_output=True,
                       timeout=TIMEOUT)


def test_attack_other_user_cannot_hand_ports_to_the_router(rootless_user, keeper):
    # Another local user wants the user's holder to relay into the user's
    # router (a listening socket of theirs, relayed to an address there).
    sock = os.path.join(net_dir(rootless_user), "router.sock")
    nobody = ["runuser", "-u", "nobody", "--", "python3", "-c", CTL_CLIENT, sock]
    r = subprocess.run(nobody, capture_output=True, text=True, timeout=TIMEOUT)
    # First layer: the state directory is the user's, 0700.
    assert r.stdout.split() == ["connect", "errno", str(errno.EACCES)], r
    # Last layer, with the others removed (the user opened their
    # directories and the socket to others): the holder's SO_PEERCRED
    # check hangs up.
    opened = []
    path = rootless_user.home
    for part in [""] + ".local/state/ward/run/net".split("/"):
        path = os.path.join(path, part) if part else path
        opened.append((path, os.stat(path).st_mode & 0o7777, 0o001))
    opened.append((sock, os.stat(sock).st_mode & 0o7777, 0o002))
    try:
        for p, mode, extra in opened:
            os.chmod(p, mode | extra)
        r = subprocess.run(nobody, capture_output=True, text=True, timeout=TIMEOUT)
        assert r.stdout.split() in (["answer", "eof"],
                                    ["send", "errno", str(errno.EPIPE)],
                                    ["send", "errno", str(errno.ECONNRESET)]), r
        # Control: the user's own request is taken.
        r = subprocess.run(as_user_argv(["python3", "-c", CTL_CLIENT, sock], rootless_user),
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert r.stdout.split() == ["answer", "o"], r
    finally:
        for p, mode, _ in reversed(opened):
            os.chmod(p, mode)


INSIDE = r"""
import os, sys
print("netdir", os.path.exists(sys.argv[1]))
names = set()
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            names.add(open(f"/proc/{pid}/comm").read().strip())
        except OSError:
            pass
print("router-processes", sorted(names & {"ward-netd", "ward-router", "pasta", "passt"}))
"""


def test_attack_sandbox_sees_no_router_state_or_process(rootless_user, keeper):
    # The program inside (same user, network.outbound, and read access to
    # the user's whole home) looks for router.sock and the router's
    # processes, to hand it ports or join its namespaces.
    nd = net_dir(rootless_user)
    r = subprocess.run(as_user_argv([WARD, "run", "-q", "--allow", "network.outbound",
                                     "--allow", f"fs.read={rootless_user.home}", "--",
                                     "python3", "-c", INSIDE, nd], rootless_user),
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r
    assert "netdir False" in r.stdout, r
    assert "router-processes []" in r.stdout, r


HOST_LO = r"""
import socket, sys
for t in sys.argv[1:]:
    try:
        socket.create_connection((t, int(PORT)), timeout=8).close()
        print(t, "ok", flush=True)
    except OSError as e:
        print(t, "errno", e.errno, flush=True)
"""


def test_attack_gateway_addresses_are_not_the_hosts_loopback(rootless_user):
    # A service of the host's on 127.0.0.1 only.  pasta without
    # --no-map-gw would hand connections to the gateway's address to the
    # host's loopback; the router's ward0 address is the router's own.
    port = 47020
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    s.settimeout(0.5)
    try:
        out = subprocess.run(["ip", "-4", "route", "show", "default"], capture_output=True,
                             text=True).stdout.split()
        targets = ["10.88.0.1"] + ([out[out.index("via") + 1]] if "via" in out else [])
        r = subprocess.run(as_user_argv([WARD, "run", "-q", "--allow", "network.outbound",
                                         "--", "python3", "-c",
                                         HOST_LO.replace("PORT", str(port)), *targets],
                                        rootless_user),
                           capture_output=True, text=True, timeout=TIMEOUT * 2)
        assert r.returncode == 0, r
        for t in targets:
            assert f"{t} ok" not in r.stdout, (t, r)
        # Control: the host's service answers the host.
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        accepted = 0
        while True:
            try:
                s.accept()[0].close()
                accepted += 1
            except OSError:
                break
        assert accepted == 1, accepted
    finally:
        s.close()


# ---- root mode's --publish has the same IPv6 side ----

BIND6 = r"""
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
try:
    s.bind(("::", int(sys.argv[1])))
    s.listen(1)
    print("bound", flush=True)
except OSError as e:
    print("errno", e.errno, flush=True)
"""


@pytest.mark.skipif(not has_ipv6_loopback(), reason="the host has no ::1")
def test_attack_ipv6_squatter_cannot_take_a_root_published_port():
    # Root mode publishes with DNAT, IPv4 only: [::]:PORT was free for any
    # local user to listen on while the sandbox ran.
    port, inner = 47012, 8080
    sq = p = None
    try:
        sq = start(["runuser", "-u", "nobody", "--", "python3", "-c", SQUATTER, str(port)])
        assert read_line(sq.stdout, TIMEOUT).strip() == "squatting"
        p = start([WARD, "run", "-q", "--allow", f"network.listen={inner}", "--publish",
                   f"{port}:{inner}", "--", "python3", "-c", TAG_LISTENER, str(inner), "sandbox"])
        line = read_line(p.stdout, TIMEOUT).strip()
        assert line != "listening", "published while another user holds [::]:%d" % port
        p.wait(timeout=TIMEOUT)
        err = p.stderr.read()
        assert p.returncode == 125, err
        assert err.startswith(f"ward: --publish {port}:{inner}: a program of the host already "
                              f"uses TCP port {port} (IPv6)"), err
        stop(sq)
        sq = None
        # With the squatter gone: the sandbox answers on 127.0.0.1, ::1 is
        # refused (held, not listened on), and nobody may take [::]:PORT.
        p = start([WARD, "run", "-q", "--allow", f"network.listen={inner}", "--publish",
                   f"{port}:{inner}", "--", "python3", "-c", TAG_LISTENER, str(inner), "sandbox"])
        assert read_line(p.stdout, TIMEOUT).strip() == "listening", \
            p.stderr.read() if p.poll() is not None else ""
        assert answer(socket.AF_INET, "127.0.0.1", port) == b"sandbox"
        with socket.socket(socket.AF_INET6) as c:
            c.settimeout(5)
            assert c.connect_ex(("::1", port)) == errno.ECONNREFUSED
        r = subprocess.run(["runuser", "-u", "nobody", "--", "python3", "-c", BIND6, str(port)],
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert r.stdout.split() == ["errno", str(errno.EADDRINUSE)], r
    finally:
        stop(p)
        stop(sq)


# ---- the host's local routes (AnyIP) ----

def test_attack_host_local_route_is_not_reachable_through_pasta(rootless_user):
    # `ip route add local NET/24 dev lo`: the host answers on every address
    # of NET, though no interface has one.  The router refused only the
    # interface addresses, so a sandbox reached the host's services on
    # every other address of NET through pasta.  Root mode's input chain
    # holds whatever the address; rootless, the router now refuses the
    # local routes' addresses too.
    port, net = 47022, "10.47.%d.0/24" % (os.getpid() % 200 + 20)
    addr = net.replace(".0/24", ".7")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    s.settimeout(0.5)
    subprocess.run(["ip", "route", "add", "local", net, "dev", "lo", "table", "local"],
                   check=True)
    try:
        # Control: the host answers there.
        socket.create_connection((addr, port), timeout=5).close()
        s.accept()[0].close()
        r = subprocess.run(as_user_argv([WARD, "run", "-q", "--allow", "network.outbound",
                                         "--", "python3", "-c",
                                         HOST_LO.replace("PORT", str(port)), addr],
                                        rootless_user),
                           capture_output=True, text=True, timeout=TIMEOUT * 2)
        assert r.returncode == 0, r
        assert r.stdout.split() == [addr, "errno", str(errno.EHOSTUNREACH)], r
        with pytest.raises(OSError):
            s.accept()
    finally:
        subprocess.run(["ip", "route", "del", "local", net, "dev", "lo", "table", "local"],
                       capture_output=True)
        s.close()
        subprocess.run(as_user_argv([WARD, "gc"], rootless_user), capture_output=True,
                       timeout=TIMEOUT)


def test_wide_host_local_route_stops_a_rootless_start(rootless_user):
    # A local route wider than /24 is not listed address by address: the
    # start is refused, naming the route and the fix.
    net = "10.%d.0.0/16" % (os.getpid() % 50 + 180)
    subprocess.run(["ip", "route", "add", "local", net, "dev", "lo", "table", "local"],
                   check=True)
    try:
        r = subprocess.run(as_user_argv([WARD, "run", "-q", "--allow", "network.outbound",
                                         "--", "/bin/true"], rootless_user),
                           capture_output=True, text=True, timeout=TIMEOUT * 2)
        assert r.returncode == 125, r
        assert r.stderr.startswith(f"ward: network: the host has a local route {net} "), r
        assert "narrow the route, or run the sandbox as root" in r.stderr, r
    finally:
        subprocess.run(["ip", "route", "del", "local", net, "dev", "lo", "table", "local"],
                       capture_output=True)


def router_set(user):
    """The user's router's set hostaddrs (read as root, through the
    holder's namespaces)."""
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and os.stat(f"/proc/{pid}").st_uid == user.uid and \
                    open(f"/proc/{pid}/comm").read().strip() == "ward-router":
                return subprocess.run(["nsenter", "-t", pid, "-U", "-n", "/usr/sbin/nft",
                                       "list", "set", "ip", "ward_nat", "hostaddrs"],
                                      capture_output=True, text=True, timeout=TIMEOUT).stdout
        except OSError:
            pass
    return ""


def test_attack_host_local_route_added_while_the_router_runs(rootless_user, keeper):
    # The route comes while a sandbox runs: netd hears of it (rtnetlink,
    # routes too) and the holder adds its addresses, before any new start.
    net = "10.47.%d.0/24" % (os.getpid() % 200 + 20)
    addr = net.replace(".0/24", ".9")
    assert addr not in router_set(rootless_user)
    subprocess.run(["ip", "route", "add", "local", net, "dev", "lo", "table", "local"],
                   check=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        while addr not in router_set(rootless_user) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert addr in router_set(rootless_user), router_set(rootless_user)
    finally:
        subprocess.run(["ip", "route", "del", "local", net, "dev", "lo", "table", "local"],
                       capture_output=True)


# ---- the holder's relays ----

def test_attack_one_client_cannot_take_every_relay(rootless_user):
    # A client (of the LAN, say) opens connections to a published port and
    # keeps them: each is a relay of the user's.  At most 512 relays run
    # for all the user's published ports; one client address got all of
    # them, and every published port of the user was then closed to
    # everybody.  Now one client address gets at most 64.
    port, inner, per_client = 47024, 8080, 64
    p = None
    held = []
    try:
        p = start([WARD, "run", "-q", "--allow", f"network.listen={inner}", "--publish",
                   f"{port}:{inner}", "--", "python3", "-c", TAG_LISTENER, str(inner), "sandbox"],
                  rootless_user)
        assert read_line(p.stdout, TIMEOUT).strip() == "listening", \
            p.stderr.read() if p.poll() is not None else ""
        assert answer(socket.AF_INET, "127.0.0.1", port) == b"sandbox"

        def conn(src):
            c = socket.socket()
            c.settimeout(TIMEOUT)
            c.bind((src, 0))
            c.connect(("127.0.0.1", port))
            return c

        for _ in range(per_client):
            c = conn("127.0.0.2")
            held.append(c)
            assert c.recv(100) == b"sandbox"
        extra = conn("127.0.0.2")
        held.append(extra)
        assert extra.recv(100) == b"", "a 65th relay for one client address"
        other = conn("127.0.0.3")
        held.append(other)
        assert other.recv(100) == b"sandbox"
    finally:
        for c in held:
            c.close()
        stop(p)


LOOPBACK_ONLY = r"""
import os, socket, sys
print("links", sorted(os.listdir("/sys/class/net")))
for t in sys.argv[1:]:
    try:
        socket.create_connection((t, 47026), timeout=5).close()
        print(t, "ok", flush=True)
    except OSError as e:
        print(t, "errno", e.errno, flush=True)
"""


def test_attack_loopback_only_sandbox_is_not_in_the_router(rootless_user, keeper):
    # A sandbox of the same user with network.loopback only, while the
    # user's router runs: it has its own namespace with lo alone, not the
    # router's, so neither the router's range nor the world is routable.
    targets = ["10.88.0.1", "192.0.2.1", "1.1.1.1"]
    r = subprocess.run(as_user_argv([WARD, "run", "-q", "--allow", "network.loopback", "--",
                                     "python3", "-c", LOOPBACK_ONLY, *targets], rootless_user),
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r
    assert "links ['lo']" in r.stdout, r
    for t in targets:
        assert f"{t} errno {errno.ENETUNREACH}" in r.stdout, (t, r)

# SPDX-License-Identifier: GPL-2.0-or-later
"""Attacks on network spaces (issue 11): a program inside a sandbox with a
network entitlement tries to reach what it may not.

Each test runs real sandboxes and a real attack, and shows the path exists
with a control in the same test (a listener the probe does reach, a frame
seen leaving the sandbox, an explicit grant that works), so that a refusal
cannot come from a broken probe.

Where a layer needs an attacker stronger than a sandboxed program can be,
the test plays that attacker itself: as root on the host it enters the
sandbox's network namespace (nsenter) and forges frames, or removes the
sandbox-side layers of one sandbox to show that the host-side layer alone
holds.  A program inside never has CAP_NET_RAW or CAP_NET_ADMIN in the user
namespace that owns its network namespace (test_program_cannot_forge_packets
shows it); these tests show what stops it if it ever had.

Ports used on the host: 42000-42999.  Addresses: ward's range (default
10.88.0.0/16), and per test session 10.90.N.0/24, 169.254.N.0/24 and
2001:db8:N::/64 (N from the pid) on links and namespaces the fixtures make
and remove.
"""

import errno
import json
import os
import random
import re
import select
import shutil
import socket
import struct
import subprocess
import threading
import time
import types

import pytest

from conftest import WARD, read_line, run_ward

NFT = "/usr/sbin/nft"
PY = "/usr/bin/python3"
TIMEOUT = 60
EPERM, EACCES, EHOSTUNREACH = 1, 13, 113
N = os.getpid() % 250 + 1
IPV6_FREEBIND = 78

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not os.access(NFT, os.X_OK) or shutil.which("nsenter") is None,
    reason="needs root, /usr/sbin/nft and nsenter")


# ---------------------------------------------------------------- host side

def pick_port(*binds):
    """A port of 42000-42999 free for every (family, type, address) given;
    returns (port, [bound sockets]) (close them to free the port)."""
    start = random.randrange(1000)
    for i in range(1000):
        port = 42000 + (start + i) % 1000
        socks = []
        try:
            for fam, typ, addr in binds:
                s = socket.socket(fam, typ)
                socks.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                    # A link-local address may still be tentative (DAD).
                    s.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
                s.bind((addr, port) if fam == socket.AF_INET else (addr[0], port, 0, addr[1]))
            return port, socks
        except OSError as e:
            for s in socks:
                s.close()
            if e.errno != errno.EADDRINUSE:
                raise
    raise AssertionError("no free port in 42000-42999")


def free_port():
    port, socks = pick_port((socket.AF_INET, socket.SOCK_STREAM, "0.0.0.0"),
                            (socket.AF_INET, socket.SOCK_DGRAM, "0.0.0.0"))
    for s in socks:
        s.close()
    return port


class Listeners:
    """TCP and UDP listeners of the host; .got lists (proto, peer) of every
    connection accepted and datagram received."""

    def __init__(self):
        self.got, self.socks = [], []
        self.stop = threading.Event()
        self.thread = None

    def add(self, socks):
        for s in socks:
            if s.type == socket.SOCK_STREAM:
                s.listen(16)
            s.setblocking(False)
            self.socks.append(s)

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            ready, _, _ = select.select(self.socks, [], [], 0.1)
            for s in ready:
                try:
                    if s.type == socket.SOCK_STREAM:
                        c, peer = s.accept()
                        self.got.append(("tcp", peer))
                        c.close()
                    else:
                        _, peer = s.recvfrom(2000)
                        self.got.append(("udp", peer))
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        if self.thread:
            self.thread.join(5)
        for s in self.socks:
            s.close()


@pytest.fixture
def listeners():
    ls = Listeners()
    yield ls
    ls.close()


class Sniffer:
    """Frames of one ethertype with one source MAC on a host interface
    (AF_PACKET; both directions)."""

    def __init__(self, ifname, mac, ethertype):
        self.frames = []
        self.mac = bytes.fromhex(mac.replace(":", ""))
        self.ethertype = ethertype
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.s.bind((ifname, 0))
        self.s.settimeout(0.1)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                f = self.s.recv(65535)
            except OSError:
                continue
            if f[6:12] == self.mac and struct.unpack("!H", f[12:14])[0] == self.ethertype:
                self.frames.append(f)

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.s.close()


def link_addrs6():
    """{ifname: [(address, flags)]} of the host's IPv6 addresses."""
    out = {}
    with open("/proc/net/if_inet6") as f:
        for line in f:
            p = line.split()
            a = ":".join(p[0][i:i + 4] for i in range(0, 32, 4))
            out.setdefault(p[5], []).append((socket.inet_ntop(socket.AF_INET6,
                                                              socket.inet_pton(socket.AF_INET6, a)),
                                             int(p[4], 16)))
    return out


def transient(ifname):
    """lo, and links that come and go with sandboxes and tests."""
    return ifname == "lo" or ifname.startswith(("wv", "wth", "wtp", "wnh", "wnp"))


def eui64_link_local(mac):
    b = bytearray.fromhex(mac.replace(":", ""))
    b[0] ^= 2
    iid = bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:])
    return socket.inet_ntop(socket.AF_INET6, b"\xfe\x80" + b"\0" * 6 + iid)


def sysctl(path):
    with open(path) as f:
        return f.read().strip()


def read(path):
    with open(path) as f:
        return f.read().strip()


def nsenter(pid, *argv, check=True):
    r = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", *argv], capture_output=True,
                       text=True, timeout=TIMEOUT)
    if check:
        assert r.returncode == 0, r
    return r


def sandbox_mac(sb):
    # By netlink in its namespace (the host's /sys shows the host's links).
    return json.loads(nsenter(sb.pid, "ip", "-j", "link", "show", "eth0").stdout)[0]["address"]


@pytest.fixture
def sandbox(spawned):
    """sandbox(*ward run args) -> .proc, .pid (init), .addr, .host_if: a
    running sandbox, ended (SIGTERM to its supervisor, which cleans up)
    after the test: all at once, each given TIMEOUT seconds on a busy
    machine before spawned's SIGKILL."""
    procs = []

    def start(*args):
        r, w = os.pipe()
        p = spawned([WARD, "run", "-q", "--notify-fd", str(w), *args], pass_fds=(w,),
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(p)
        os.close(w)
        with os.fdopen(r) as f:
            line = read_line(f, TIMEOUT)
        m = re.match(r"ready pid=(\d+) address=(\S+)", line)
        if not m:
            p.terminate()
            out, err = p.communicate(timeout=TIMEOUT)
            raise AssertionError(f"sandbox did not start: {line!r} {out!r} {err!r}")
        return types.SimpleNamespace(proc=p, pid=int(m.group(1)), addr=m.group(2),
                                     host_if=f"wv{p.pid}")
    yield start
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.communicate(timeout=TIMEOUT)
        except (subprocess.TimeoutExpired, ValueError):
            pass


def finish(sb, timeout=TIMEOUT):
    out, err = sb.proc.communicate(timeout=timeout)
    return out, err


def go(d, payload=None):
    """Tell a sandbox waiting in AGENT's wait_go to go on."""
    with open(os.path.join(d, "go.tmp"), "w") as f:
        json.dump(payload or {}, f)
    os.rename(os.path.join(d, "go.tmp"), os.path.join(d, "go"))


@pytest.fixture
def netns(request):
    """netns(name, host_addr/len, ns_addr/len, routes=[]) -> a network
    namespace joined to the host by a veth (forwarding on the host side, so
    that replies to sandboxes are routed), removed after the test."""
    made = []

    def make(tag, host_cidr, ns_cidr, routes=()):
        ns = f"wardnh-{os.getpid()}-{tag}"
        hif, pif = f"wnh{os.getpid() % 100000}{tag}"[:15], f"wnp{os.getpid() % 100000}{tag}"[:15]
        made.append((ns, hif))
        for argv in (["ip", "netns", "add", ns],
                     ["ip", "link", "add", hif, "type", "veth", "peer", "name", pif, "netns", ns],
                     ["ip", "addr", "add", host_cidr, "dev", hif],
                     ["ip", "link", "set", hif, "up"],
                     ["ip", "-n", ns, "addr", "add", ns_cidr, "dev", pif],
                     ["ip", "-n", ns, "link", "set", pif, "up"],
                     ["ip", "-n", ns, "link", "set", "lo", "up"]):
            subprocess.run(argv, check=True, capture_output=True, timeout=TIMEOUT)
        for dst in routes:
            subprocess.run(["ip", "-n", ns, "route", "add", dst, "via", host_cidr.split("/")[0]],
                           check=True, capture_output=True, timeout=TIMEOUT)
        with open(f"/proc/sys/net/ipv4/conf/{hif}/forwarding", "w") as f:
            f.write("1")
        return types.SimpleNamespace(ns=ns, host_if=hif, host_ip=host_cidr.split("/")[0],
                                     ip=ns_cidr.split("/")[0])

    yield make
    for ns, hif in made:
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True,
                              timeout=TIMEOUT).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), 9)
            except OSError:
                pass
        subprocess.run(["ip", "link", "del", hif], capture_output=True, timeout=TIMEOUT)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=TIMEOUT)


# A TCP server in a namespace: answers every connection with "hello".
NS_SERVER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)
print("ready", flush=True)
while True:
    c, a = s.accept(); c.sendall(b"hello"); c.close()
"""


def ns_server(spawned, net, port):
    p = spawned(["ip", "netns", "exec", net.ns, PY, "-c", NS_SERVER, net.ip, str(port)],
                stdout=subprocess.PIPE, text=True)
    assert read_line(p.stdout, TIMEOUT).strip() == "ready"
    return p


# ---------------------------------------------------------------- sandbox side

# What runs inside: python3 -c AGENT COMMAND ARGS...
AGENT = r"""
import errno, json, os, socket, struct, sys, time

def say(**kw):
    print(json.dumps(kw), flush=True)

def wait_go(d):
    end = time.time() + 60
    while not os.path.exists(d + "/go"):
        if time.time() > end:
            say(error="no go"); sys.exit(3)
        time.sleep(0.05)
    with open(d + "/go") as f:
        return json.load(f)

def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else "timeout"

def eth0_v6():
    try:
        with open("/proc/sys/net/ipv6/conf/eth0/disable_ipv6") as f:
            dis = int(f.read())
    except OSError:
        dis = None
    addrs = []
    with open("/proc/net/if_inet6") as f:
        for line in f:
            p = line.split()
            if p[5] == "eth0":
                addrs.append((p[0], int(p[4], 16), p[3]))
    return dis, addrs

def settle():
    # IPv6 on eth0 is either impossible, or its link-local address has
    # finished DAD (tentative for 1-2 s after the link comes up): only then
    # does a refused probe mean anything.
    end = time.time() + 20
    while time.time() < end:
        if not os.path.exists("/sys/class/net/eth0"):
            return "no-eth0"
        dis, addrs = eth0_v6()
        if dis == 1 and not addrs:
            return "disabled"
        if dis == 0 and any(a.startswith("fe80") and not fl & 0x48 for a, fl, _ in addrs):
            return "ready"
        time.sleep(0.1)
    return "timeout"

def scope(addr):
    if addr.startswith("fe80") or addr.startswith("ff02"):
        try:
            return socket.if_nametoindex("eth0")
        except OSError:
            return 0
    return 0

def tcp6(addr, port):
    s = socket.socket(socket.AF_INET6)
    s.settimeout(4)
    try:
        s.connect((addr, port, 0, scope(addr)))
        return "connected"
    except OSError as e:
        return ename(e)
    finally:
        s.close()

def udp6(addr, port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        for _ in range(3):
            s.sendto(b"ward-probe", (addr, port, 0, scope(addr)))
            time.sleep(0.05)
        return "sent"
    except OSError as e:
        return ename(e)
    finally:
        s.close()

def control6(port):
    # The same sockets reach a listener on the sandbox's own ::1.
    try:
        srv = socket.socket(socket.AF_INET6); srv.bind(("::1", port)); srv.listen()
        c = socket.create_connection(("::1", port), timeout=5); srv.accept()[0].close(); c.close()
        u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", port))
        u.settimeout(5)
        socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b"x", ("::1", port))
        u.recv(10)
        return "ok"
    except OSError as e:
        return ename(e)

def v6probe(d):
    t = wait_go(d)
    ctl = control6(t["lo_port"])
    st = settle()
    res = {}
    for a in t["tcp"]:
        res["tcp " + a] = tcp6(a, t["port"])
    for a in t["udp"]:
        res["udp " + a] = udp6(a, t["port"])
    say(control=ctl, settle=st, results=res)

def v6send(d):
    t = wait_go(d)
    st = settle()
    say(settle=st, udp=udp6(t["group"], t["port"]), tcp=tcp6(t["target"], t["port"]))

def v6state(d):
    wait_go(d)
    dis, addrs = eth0_v6()
    with open("/proc/net/ipv6_route") as f:
        routes = [l.split() for l in f]
    default = [r for r in routes if r[0] == "0" * 32 and r[1] == "00" and r[9] == "eth0"]
    say(disable=dis, addrs=[a for a, _, _ in addrs],
        global_addrs=[a for a, _, sc in addrs if sc == "00"], default_routes=len(default))

def udplog(ports, path):
    # Log "PAYLOAD PEER PORT SIZE" of what comes in on each port (a,b,...).
    import select
    socks = {}
    for p in ports.split(","):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(p)))
        socks[s] = p
    with open(path, "a") as f:
        f.write("listening\n")
    while True:
        for s in select.select(list(socks), [], [])[0]:
            data, peer = s.recvfrom(70000)
            with open(path, "a") as f:
                f.write(f"{data[:40].decode(errors='replace')} {peer[0]} {socks[s]} {len(data)}\n")

def udpsend(port, payload, *hosts):
    # PAYLOAD@HOST to each host in turn, then stay (a live talk rule).
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    res = {}
    for h in hosts:
        try:
            s.sendto(f"{payload}@{h}".encode(), (h, int(port)))
            res[h] = "sent"
        except OSError as e:
            res[h] = ename(e)
        time.sleep(0.2)
    say(results=res)
    time.sleep(120)

def bigsend(host, *ports):
    # One datagram bigger than the veth's MTU (65520) to each port: it
    # leaves in fragments, only the first of which carries the port.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    res = {}
    for p in ports:
        try:
            s.sendto(f"big-{p}".encode().ljust(65507, b"x"), (host, int(p)))
            res[p] = "sent"
        except OSError as e:
            res[p] = ename(e)
    say(results=res)

def listen(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(port))); s.listen(8)
    while True:
        c, a = s.accept(); c.sendall(b"hello"); c.close()

def tcp4(*hps):
    res = {}
    for hp in hps:
        h, p = hp.rsplit(":", 1)
        try:
            s = socket.create_connection((h, int(p)), timeout=5)
            res[hp] = "ok " + s.recv(10).decode()
        except OSError as e:
            res[hp] = ename(e)
    say(results=res)

def raw():
    with open("/proc/self/status") as f:
        eff = int(re.search(r"CapEff:\s*([0-9a-f]+)", f.read()).group(1), 16)
    res = {"net_raw_in_capeff": bool(eff >> 13 & 1)}
    for name, args in (("inet-raw", (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)),
                       ("inet6-raw", (socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_UDP)),
                       ("packet", (socket.AF_PACKET, socket.SOCK_RAW, 0))):
        try:
            socket.socket(*args).close(); res[name] = "ok"
        except OSError as e:
            res[name] = ename(e)
    say(**res)

import re
globals()[sys.argv[1]](*sys.argv[2:])
"""

# The attacker the test plays inside a sandbox's network namespace (root
# there, with CAP_NET_RAW): python3 -c FORGE COMMAND ARGS...
FORGE = r"""
import socket, struct, sys

def mac(s):
    return bytes.fromhex(s.replace(":", ""))

def ip4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x1234, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    c = sum(struct.unpack("!10H", h)); c = (c & 0xffff) + (c >> 16); c = (c & 0xffff) + (c >> 16)
    return h[:10] + struct.pack("!H", ~c & 0xffff) + h[12:] + payload

def udp(src, dst, port, data):
    return ip4(src, dst, 17, struct.pack("!HHHH", 40000, port, 8 + len(data), 0) + data)

def send_frame(frame):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(("eth0", 0))
    for _ in range(3):
        s.send(frame)

cmd = sys.argv[1]
if cmd == "forged-udp":          # SRC DST PORT PAYLOAD: routed by this namespace
    src, dst, port, data = sys.argv[2:6]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for _ in range(3):
        s.sendto(udp(src, dst, int(port), data.encode()), (dst, 0))
elif cmd == "frame-udp":         # SRCMAC DSTMAC SRC DST PORT: a hand-made frame
    smac, dmac, src, dst, port = sys.argv[2:7]
    send_frame(mac(dmac) + mac(smac) + b"\x08\x00" + udp(src, dst, int(port), b"ward-frame"))
elif cmd == "arp-reply":         # SRCMAC DSTMAC CLAIMED_IP TARGET_IP
    smac, dmac, claimed, target = sys.argv[2:6]
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac(smac),
                      socket.inet_aton(claimed), mac(dmac), socket.inet_aton(target))
    send_frame(mac(dmac) + mac(smac) + b"\x08\x06" + arp)
print("sent", flush=True)
"""


def agent(*args):
    return ["--", PY, "-c", AGENT, *map(str, args)]


def said(out):
    lines = [l for l in out.splitlines() if l.startswith("{")]
    assert lines, out
    return json.loads(lines[-1])


def forge(sb, *args):
    r = nsenter(sb.pid, PY, "-c", FORGE, *map(str, args))
    assert r.stdout.strip() == "sent", r


def ward0_mac():
    return read("/sys/class/net/ward0/address")


# ================================================================ item 1: IPv6

MODES = {
    "outbound": lambda p: ["-a", "network.outbound"],
    "connect": lambda p: ["-a", "network.loopback", "-a", f"network.connect=10.88.0.250:{p}"],
    "listen": lambda p: ["-a", "network.loopback", "-a", f"network.listen={p}"],
    "loopback": lambda p: ["-a", "network.loopback"],
    "publish": lambda p: ["-a", "network.loopback", "-a", f"network.listen={p}",
                          "--publish", f"{free_port()}:{p}"],
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_ipv6_reaches_no_host_service(mode, sandbox, listeners, make_tmpdir):
    """A host service on [::] (TCP and UDP), and one on ward0's link-local
    address when ward0 has one, is reached by no sandbox, under every network
    entitlement.  Control: the same sockets reach a listener on the
    sandbox's own ::1; the probe waits out DAD before it tries."""
    port, socks = pick_port((socket.AF_INET6, socket.SOCK_STREAM, ("::", 0)),
                            (socket.AF_INET6, socket.SOCK_DGRAM, ("::", 0)))
    listeners.add(socks)
    d = make_tmpdir()
    sb = sandbox(*MODES[mode](port), "-a", f"fs.read={d}", *agent("v6probe", d))
    targets = set()
    if os.path.exists("/sys/class/net/ward0"):
        # What ward0 has, or would have: an attacker computes it from the
        # gateway's MAC (its neighbour table after any IPv4 packet).
        targets.add(eui64_link_local(ward0_mac()))
        idx = socket.if_nametoindex("ward0")
        for a, _ in link_addrs6().get("ward0", []):
            targets.add(a)
            _, ll = pick_port((socket.AF_INET6, socket.SOCK_STREAM, (a, idx)),
                              (socket.AF_INET6, socket.SOCK_DGRAM, (a, idx)))
            listeners.add(ll)  # bound to the link-local address itself
    for ifname, addrs in link_addrs6().items():
        if not transient(ifname):
            targets.update(a for a, _ in addrs)
    listeners.start()
    go(d, {"port": port, "lo_port": port, "tcp": sorted(targets),
           "udp": sorted(targets) + ["ff02::1"]})
    out, err = finish(sb)
    r = said(out)
    assert r["control"] == "ok", (r, err)
    assert r["settle"] != "timeout", r  # DAD never ended: nothing was tested
    assert "connected" not in r["results"].values(), r
    time.sleep(0.5)
    assert listeners.got == [], (r, listeners.got)


def test_ipv6_is_off_on_every_interface_of_the_path(sandbox, make_tmpdir):
    """Layer by layer: the sandbox's eth0 has IPv6 disabled and no address
    (its lo keeps ::1), and so do ward0 and the veth's host side."""
    d = make_tmpdir()
    sb = sandbox("-a", "network.outbound", "-a", f"fs.read={d}", *agent("v6state", d))
    assert sysctl("/proc/sys/net/ipv6/conf/ward0/disable_ipv6") == "1"
    assert sysctl(f"/proc/sys/net/ipv6/conf/{sb.host_if}/disable_ipv6") == "1"
    assert link_addrs6().get("ward0", []) == []
    assert link_addrs6().get(sb.host_if, []) == []
    assert nsenter(sb.pid, "cat", "/proc/sys/net/ipv6/conf/default/disable_ipv6").stdout == "1\n"
    assert "::1" in nsenter(sb.pid, "ip", "-6", "addr", "show", "dev", "lo").stdout
    go(d)
    r = said(finish(sb)[0])
    assert r["disable"] == 1 and r["addrs"] == [], r


def test_ipv6_host_side_alone_stops_it(sandbox, listeners, make_tmpdir):
    """The host's layers alone: the test turns IPv6 back on in one
    sandbox's eth0 and deletes its inner table, as an attacker who broke
    both would.  Its IPv6 frames leave the sandbox (seen on the veth's host
    side) but never reach ward0 (the bridge filter), and no host listener
    hears them."""
    port, socks = pick_port((socket.AF_INET6, socket.SOCK_STREAM, ("::", 0)),
                            (socket.AF_INET6, socket.SOCK_DGRAM, ("::", 0)))
    listeners.add(socks)
    listeners.start()
    d = make_tmpdir()
    sb = sandbox("-a", "network.outbound", "-a", f"fs.read={d}", *agent("v6send", d))
    mac = sandbox_mac(sb)
    nsenter(sb.pid, "sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6")
    nsenter(sb.pid, NFT, "delete", "table", "inet", "ward", check=False)
    on_veth, on_bridge = Sniffer(sb.host_if, mac, 0x86dd), Sniffer("ward0", mac, 0x86dd)
    try:
        go(d, {"port": port, "group": "ff02::1", "target": eui64_link_local(ward0_mac())})
        r = said(finish(sb)[0])
        time.sleep(0.5)
    finally:
        on_veth.close()
        on_bridge.close()
    assert r["settle"] == "ready" and r["udp"] == "sent", r
    assert on_veth.frames, "no IPv6 frame left the sandbox: the test proves nothing"
    assert on_bridge.frames == [], f"{len(on_bridge.frames)} IPv6 frames reached ward0"
    assert r["tcp"] != "connected" and listeners.got == [], (r, listeners.got)


def test_ipv6_inner_rules_alone_stop_it(sandbox, make_tmpdir):
    """The nftables rules inside alone: with IPv6 turned back on in eth0 by
    the test, a datagram to ff02::1 is refused by the output chain
    (sendto gets EPERM, which only a local netfilter drop gives) and no IPv6
    frame leaves the sandbox."""
    d = make_tmpdir()
    sb = sandbox("-a", "network.outbound", "-a", f"fs.read={d}", *agent("v6send", d))
    mac = sandbox_mac(sb)
    sniff = Sniffer(sb.host_if, mac, 0x86dd)
    try:
        nsenter(sb.pid, "sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6")
        go(d, {"port": 42000, "group": "ff02::1", "target": eui64_link_local(ward0_mac())})
        r = said(finish(sb)[0])
        time.sleep(0.3)
    finally:
        sniff.close()
    assert r["settle"] == "ready", r  # eth0 had a usable link-local address
    assert r["udp"] == "EPERM", r
    assert sniff.frames == [], f"{len(sniff.frames)} IPv6 frames left the sandbox"


def icmp6_checksum(src, dst, msg):
    pseudo = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
              struct.pack("!I3xB", len(msg), 58))
    data = pseudo + msg + (b"\0" if len(msg) % 2 else b"")
    c = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while c >> 16:
        c = (c & 0xffff) + (c >> 16)
    return ~c & 0xffff


def router_advertisement(prefix):
    src, dst = "fe80::99", "ff02::1"
    opt = struct.pack("!BBBBIII16s", 3, 4, 64, 0xc0, 86400, 14400, 0,
                      socket.inet_pton(socket.AF_INET6, prefix))
    msg = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) + opt
    msg = msg[:2] + struct.pack("!H", icmp6_checksum(src, dst, msg)) + msg[4:]
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, len(msg), 58, 255,
                      socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst))
    return bytes.fromhex("333300000001") + bytes.fromhex("020000000099") + b"\x86\xdd" + ip6 + msg


def test_router_advertisement_gives_no_address_or_route(sandbox, make_tmpdir):
    """Router advertisements written straight onto the sandbox's veth (past
    the bridge) give it no IPv6 address and no default route."""
    d = make_tmpdir()
    sb = sandbox("-a", "network.outbound", "-a", f"fs.read={d}", *agent("v6state", d))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((sb.host_if, 0))
    ra = router_advertisement(f"2001:db8:{N:x}::")
    try:
        for _ in range(25):
            s.send(ra)
            time.sleep(0.2)
    finally:
        s.close()
    go(d)
    r = said(finish(sb)[0])
    assert r["global_addrs"] == [] and r["default_routes"] == 0, r


# ================================================================ item 2: spoofing

def wait_for(pred, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return pred()


def logged(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


@pytest.fixture
def trio(sandbox, make_tmpdir):
    """S listens on a UDP port and logs what it gets; C may send to it
    (network.connect) and did; A is an outbound sandbox with no rule to S."""
    port = free_port()
    d = make_tmpdir()
    s = sandbox("-a", f"network.listen={port}", "-a", f"fs.write={d}",
                *agent("udplog", port, f"{d}/log"))
    # A datagram sent before the socket exists is lost: wait for it.
    assert wait_for(lambda: "listening" in logged(f"{d}/log")), "S never listened"
    c = sandbox("-a", f"network.connect={s.addr}:{port}", *agent("udpsend", port, "genuine", s.addr))
    a = sandbox("-a", "network.outbound", "--", "sleep", "120")
    log = f"{d}/log"
    assert wait_for(lambda: "genuine" in logged(log)), "C's datagram never reached S"
    return types.SimpleNamespace(s=s, c=c, a=a, port=port, log=log)


def test_forged_source_cannot_borrow_a_peers_rule(trio):
    """A sends datagrams to S with C's source address, which the host's
    forward rule (C . S . PORT) lets through; the bridge refuses them on A's
    port.  Control: C's own datagram arrived; the forged ones left A."""
    sniff = Sniffer(trio.a.host_if, sandbox_mac(trio.a), 0x0800)
    try:
        forge(trio.a, "forged-udp", trio.c.addr, trio.s.addr, trio.port, "forged")
        time.sleep(1.5)
    finally:
        sniff.close()
    assert sniff.frames, "the forged datagrams never left A"
    assert "forged" not in logged(trio.log), logged(trio.log)


def test_arp_reply_cannot_take_a_peers_address(trio):
    """A tells the host "C's address is at my MAC"; the host keeps C's."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"x", (trio.c.addr, 9))  # the host resolves C (ARP)
    s.close()
    c_mac = sandbox_mac(trio.c)
    assert wait_for(lambda: c_mac in subprocess.run(
        ["ip", "neigh", "show", "to", trio.c.addr, "dev", "ward0"], capture_output=True,
        text=True).stdout), "the host never resolved C"
    time.sleep(1.5)  # past the neighbour table's locktime (1 s)
    a_mac = sandbox_mac(trio.a)
    forge(trio.a, "arp-reply", a_mac, ward0_mac(), trio.c.addr, "10.88.0.1")
    time.sleep(0.5)
    neigh = subprocess.run(["ip", "neigh", "show", "to", trio.c.addr, "dev", "ward0"],
                           capture_output=True, text=True).stdout
    assert a_mac not in neigh and c_mac in neigh, neigh


def fdb_port(mac):
    r = subprocess.run(["bridge", "-j", "fdb", "show", "br", "ward0"], capture_output=True,
                       text=True, timeout=TIMEOUT)
    return {e.get("ifname") for e in json.loads(r.stdout or "[]") if e.get("mac") == mac}


def test_forged_mac_does_not_move_a_peer_in_the_bridge(trio):
    """A sends frames with C's MAC as source: the bridge must not learn that
    C is behind A's port (which would send C's traffic to A)."""
    c_mac = sandbox_mac(trio.c)
    forge(trio.a, "frame-udp", c_mac, ward0_mac(), trio.c.addr, trio.s.addr, trio.port)
    time.sleep(0.5)
    assert trio.a.host_if not in fdb_port(c_mac), fdb_port(c_mac)
    assert "ward-frame" not in logged(trio.log)


def test_bridge_mac_is_fixed(sandbox):
    """ward0 has a MAC of its own (02:77 + its address), which sandboxes
    coming and going do not change: a bridge's MAC that followed its ports
    would flush the host's neighbour entries for every sandbox each time
    (and the tests above read it once)."""
    a = sandbox("-a", "network.outbound", "--", "sleep", "120")
    gw = json.loads(subprocess.run(["ip", "-j", "-4", "addr", "show", "dev", "ward0"],
                                   capture_output=True, text=True).stdout)[0]["addr_info"][0]
    want = "02:77:" + ":".join(f"{int(x):02x}" for x in gw["local"].split("."))
    assert ward0_mac() == want
    b = sandbox("-a", "network.outbound", "--", "sleep", "120")
    b.proc.terminate()
    b.proc.communicate(timeout=TIMEOUT)
    assert ward0_mac() == want and a


def test_program_cannot_forge_packets():
    """The precondition of the attacks above never holds for the program:
    under security.user it has CAP_NET_RAW, but in its own user namespace,
    which does not own its network namespace; raw IP sockets fail with EPERM
    from the kernel (the filter allows AF_INET), AF_PACKET is refused by the
    filter as well."""
    r = run_ward("run", "-a", "network.outbound", "-a", "security.user", *agent("raw"))
    assert r.returncode == 0, r
    res = said(r.stdout)
    assert res["net_raw_in_capeff"] is True, res
    assert res["inet-raw"] == "EPERM" and res["inet6-raw"] == "EPERM", res
    assert res["packet"] == "EPERM", res
    assert "denied socket(AF_PACKET) by the syscall filter" in r.stderr, r.stderr
    assert "denied socket(AF_INET)" not in r.stderr, r.stderr


# ================================================================ item 3: names

def test_connect_by_name_stays_in_its_state_dir(sandbox, make_tmpdir):
    """Two brokers (state directories) each run a sandbox called NAME; a
    sandbox of each finds its own, whatever order the host-wide slot files
    are read in."""
    port = free_port()
    name = f"wt{os.getpid()}-db"
    states = [make_tmpdir(), make_tmpdir()]
    try:
        servers = [sandbox("--state-dir", st, "--name", name, "-a", f"network.listen={port}",
                           *agent("listen", port)) for st in states]
        for st, srv in zip(states, servers):
            r = run_ward("run", "-q", "--state-dir", st, "-a", f"network.connect={name}:{port}",
                         "--", "sh", "-c", f"grep {name} /etc/hosts")
            assert r.returncode == 0, r
            assert r.stdout.split() == [srv.addr, name], (srv.addr, r.stdout)
    finally:
        for st in states:
            run_ward("broker", "--stop", "--state-dir", st)


def test_name_known_only_to_another_broker_is_not_found(sandbox, make_tmpdir):
    port = free_port()
    name = f"wt{os.getpid()}-only"
    other, mine = make_tmpdir(), make_tmpdir()
    try:
        sandbox("--state-dir", other, "--name", name, "-a", f"network.listen={port}",
                *agent("listen", port))
        r = run_ward("run", "-q", "--state-dir", mine, "-a", f"network.connect={name}:{port}",
                     "--", "true")
        assert r.returncode == 125, r
        assert "cannot resolve" in r.stderr and "another state directory" in r.stderr, r
    finally:
        for st in (other, mine):
            run_ward("broker", "--stop", "--state-dir", st)


# ================================================================ item 4: review

def test_link_local_metadata_needs_a_connect_rule(sandbox, spawned, netns):
    """169.254.0.0/16 (where cloud metadata services answer) is not part of
    network.outbound; an explicit network.connect rule reaches it."""
    meta = netns("m", f"169.254.{N}.1/24", f"169.254.{N}.2/24")
    port = free_port()
    ns_server(spawned, meta, port)
    r = run_ward("run", "-a", "network.outbound", *agent("tcp4", f"{meta.ip}:{port}"))
    # EHOSTUNREACH from the host's guard chain, or nothing when the host's
    # ICMP rate limit (per destination: sandbox addresses are reused) ate it.
    assert said(r.stdout)["results"][f"{meta.ip}:{port}"] in ("EHOSTUNREACH", "timeout"), r
    r = run_ward("run", "-a", f"network.connect={meta.ip}:{port}",
                 *agent("tcp4", f"{meta.ip}:{port}"))
    assert said(r.stdout)["results"][f"{meta.ip}:{port}"] == "ok hello", r


def test_resolver_name_cannot_point_into_sandboxes_or_link_local(make_tmpdir):
    """network.connect=NAME: the host's resolver picks the address, so
    whoever controls the name would pick the destination; a name may not
    resolve to a sandbox of ward's range or to 169.254.0.0/16."""
    d = make_tmpdir()
    hosts = os.path.join(d, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 localhost\n169.254.169.254 wt-meta.test\n10.88.0.250 wt-peer.test\n"
                "192.0.2.77 wt-fine.test\n")

    def run_with_hosts(rule):
        # The host's /etc/hosts replaced in a mount namespace of this run only.
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                               'mount --bind "$0" /etc/hosts && exec "$@"', hosts, WARD, "run",
                               "-q", "-a", rule, "--", "true"],
                              capture_output=True, text=True, timeout=TIMEOUT)
    for name, addr in (("wt-meta.test", "169.254.169.254"), ("wt-peer.test", "10.88.0.250")):
        r = run_with_hosts(f"network.connect={name}:80")
        assert r.returncode == 125, r
        assert f"says \"{name}\" is {addr}" in r.stderr, r.stderr
        assert f"network.connect={addr}:80" in r.stderr, r.stderr
    r = run_with_hosts("network.connect=wt-fine.test:80")
    assert r.returncode == 0, r


def listening(addr, port):
    try:
        socket.create_connection((addr, port), timeout=1).close()
        return True
    except OSError:
        return False


def test_lan_reaches_only_published_ports(sandbox, netns):
    """A machine that routes ward's range through this host (a neighbour
    on the LAN) reaches a sandbox only through --publish, not any port the
    sandbox listens on."""
    lan = netns("l", f"10.90.{N}.1/24", f"10.90.{N}.2/24", routes=["10.88.0.0/16"])
    open_port, inner_port = free_port(), free_port()
    host_port = free_port()
    outb = sandbox("-a", "network.outbound", *agent("listen", open_port))
    pub = sandbox("-a", f"network.listen={inner_port}", "--publish", f"{host_port}:{inner_port}",
                  *agent("listen", inner_port))
    client = ("import socket, sys\n"
              "for hp in sys.argv[1:]:\n"
              "    h, p = hp.rsplit(':', 1)\n"
              "    try:\n"
              "        print(hp, socket.create_connection((h, int(p)), timeout=5).recv(10).decode())\n"
              "    except OSError as e:\n"
              "        print(hp, e.errno)\n")
    for sb, port in ((outb, open_port), (pub, inner_port)):  # both listen (the host may connect)
        assert wait_for(lambda: listening(sb.addr, port)), f"{sb.addr}:{port} never listened"
    r = subprocess.run(["ip", "netns", "exec", lan.ns, PY, "-c", client,
                        f"{lan.host_ip}:{host_port}", f"{outb.addr}:{open_port}",
                        f"{pub.addr}:{inner_port}"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    res = dict(l.split(" ", 1) for l in r.stdout.splitlines())
    assert res[f"{lan.host_ip}:{host_port}"] == "hello", r  # control: published
    # Refused by the host (ICMP admin-prohibited), or silently when the
    # host's per-destination ICMP rate limit swallows the answer.
    assert res[f"{outb.addr}:{open_port}"] in (str(EHOSTUNREACH), "None"), r
    assert res[f"{pub.addr}:{inner_port}"] in (str(EHOSTUNREACH), "None"), r


def host_ipv4_addresses():
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True,
                         timeout=TIMEOUT).stdout
    return sorted({a for ifname, a in re.findall(r"^\d+: (\S+)\s+inet (\d+\.\d+\.\d+\.\d+)",
                                                 out, re.M) if not transient(ifname)})


def test_no_host_ipv4_address_is_reachable(sandbox, listeners):
    """Every IPv4 address of the host (ward0's gateway, the uplink...) with a
    listener on 0.0.0.0: refused; and 127.0.0.1 written by hand into a frame
    to ward0 (route_localnet is on there) does not reach a listener on the
    host's 127.0.0.1.  Control: the frame left the sandbox."""
    port, socks = pick_port((socket.AF_INET, socket.SOCK_STREAM, "0.0.0.0"),
                            (socket.AF_INET, socket.SOCK_DGRAM, "0.0.0.0"))
    listeners.add(socks)
    listeners.start()
    a = sandbox("-a", "network.outbound", "--", "sleep", "120")
    addrs = host_ipv4_addresses()
    r = run_ward("run", "-a", "network.outbound", *agent("tcp4", *[f"{h}:{port}" for h in addrs]))
    res = said(r.stdout)["results"]
    assert set(res.values()) <= {"EHOSTUNREACH", "timeout"}, res  # timeout: ICMP rate limit
    mac = sandbox_mac(a)
    sniff = Sniffer(a.host_if, mac, 0x0800)
    try:
        forge(a, "frame-udp", mac, ward0_mac(), a.addr, "127.0.0.1", port)
        time.sleep(0.5)
    finally:
        sniff.close()
    assert sniff.frames
    assert listeners.got == [], listeners.got


def test_broadcast_and_multicast_reach_no_other_sandbox(sandbox, make_tmpdir):
    """A may send to B's port (a talk rule, and network.outbound): its
    datagrams to the limited and the range's broadcast address and to
    all-hosts multicast do not reach B; the same datagram to B's address,
    sent last, does (the control)."""
    port = free_port()
    d = make_tmpdir()
    b = sandbox("-a", f"network.listen={port}", "-a", f"fs.write={d}",
                *agent("udplog", port, f"{d}/log"))
    assert wait_for(lambda: "listening" in logged(f"{d}/log")), "B never listened"
    sandbox("-a", "network.outbound", "-a", f"network.connect={b.addr}:{port}",
            *agent("udpsend", port, "from-a", "255.255.255.255", "10.88.255.255", "224.0.0.1",
                   b.addr))
    assert wait_for(lambda: f"from-a@{b.addr}" in logged(f"{d}/log")), "the control never arrived"
    time.sleep(0.5)
    assert logged(f"{d}/log").count("from-a@") == 1, logged(f"{d}/log")


def test_fragments_are_judged_as_a_whole(sandbox, make_tmpdir):
    """A datagram larger than the veth's MTU leaves the sender in fragments;
    the host reassembles before its forward chain, which lets through the
    one to the port a rule names and not the other (the sender is outbound,
    so nothing inside it filters; the receiver listens on both ports)."""
    ok_port, other_port = free_port(), free_port()
    d = make_tmpdir()
    b = sandbox("-a", f"network.listen={ok_port}", "-a", f"network.listen={other_port}",
                "-a", f"fs.write={d}", *agent("udplog", f"{ok_port},{other_port}", f"{d}/log"))
    assert wait_for(lambda: "listening" in logged(f"{d}/log")), "B never listened"
    r = run_ward("run", "-a", "network.outbound", "-a", f"network.connect={b.addr}:{ok_port}",
                 *agent("bigsend", b.addr, ok_port, other_port))
    assert set(said(r.stdout)["results"].values()) == {"sent"}, r
    assert wait_for(lambda: f"big-{ok_port}" in logged(f"{d}/log")), "the control never arrived"
    time.sleep(0.5)
    log = logged(f"{d}/log")
    assert f" {ok_port} 65507" in log and f"big-{other_port}" not in log, log


def test_connect_rule_to_an_address_of_the_host_is_refused():
    """A rule that could never work (the host's own services are not
    reachable) is an error at start, naming the rule."""
    addr = next(a for a in host_ipv4_addresses() if not a.startswith("10.88."))
    r = run_ward("run", "-a", f"network.connect={addr}:22", "--", "true")
    assert r.returncode == 125, r
    assert f"network.connect={addr}:22: {addr} is an address of this host" in r.stderr, r


def test_inner_rules_of_an_outbound_sandbox_cannot_be_changed():
    """Under network.outbound too, the table inside belongs to the host's
    user namespace: security.admin's CAP_NET_ADMIN does not reach it."""
    r = run_ward("run", "-a", "network.outbound", "-a", "security.admin", "--", NFT, "delete",
                 "table", "inet", "ward")
    assert r.returncode != 0 and "Operation not permitted" in r.stderr, r

# SPDX-License-Identifier: GPL-2.0-or-later
"""Attacks on rootless networking (docs/threat-model/network.md#rootless).

The attacker: a program in a rootless sandbox with network.outbound, whose
packets leave through the user's router and pasta, that is, as sockets of
the user on the host.  What it must never reach: the host's own services
(on loopback or on any address of the host's), and another user's router
(that user's published ports, that user's sandboxes).  The layer: the
router's guard rule (the host's addresses rejected before pasta sees them,
admin-prohibited: EHOSTUNREACH), the sandbox's own loopback for 127.0.0.1,
and one router per user, whose range is the user's alone.

Each test has its control: the host's service and the other user's
published port answer the host itself.  Ports 42030-42039; an address
10.92.N.1/32 on a link the test makes (while the user's router runs) and
removes.
"""

import errno
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import WARD, RootlessUser, as_user_argv, read_line

TIMEOUT = 60

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or not os.access(WARD, os.X_OK) or
                       not os.access("/usr/bin/pasta", os.X_OK),
                       reason="needs root (to make the users), $WARD and pasta (passt)"),
    pytest.mark.usefixtures("rootless_user"),
]

CLIENT = r"""
import socket, sys
for t in sys.argv[1:]:
    host, port = t.rsplit(":", 1)
    try:
        s = socket.create_connection((host, int(port)), timeout=8)
        print(t, "ok", flush=True)
    except OSError as e:
        print(t, "errno", e.errno, flush=True)
"""

LISTENER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(8)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect(("10.255.255.1", 9))
print("listening", u.getsockname()[0], flush=True)
while True:
    c, a = s.accept()
    print("accepted", a[0], flush=True)
    c.close()
"""


def results(out):
    return {l.split()[0]: tuple(l.split()[1:]) for l in out.splitlines() if l.strip()}


def host_addresses():
    r = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True)
    return sorted({l.split()[3].split("/")[0] for l in r.stdout.splitlines()} - {"127.0.0.1"})


class HostListener:
    """A service of the host's (root's), on every address: counts whom it accepts."""

    def __init__(self, port):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind(("0.0.0.0", port))
        self.s.listen(16)
        self.s.settimeout(0.2)
        self.accepted = []
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            try:
                c, a = self.s.accept()
            except OSError:
                continue
            self.accepted.append(a[0])
            c.close()

    def close(self):
        self.stop = True
        self.t.join()
        self.s.close()


def router_up(user):
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and os.stat(f"/proc/{pid}").st_uid == user.uid and \
                    open(f"/proc/{pid}/comm").read().strip() == "ward-netd":
                return True
        except OSError:
            pass
    return False


@pytest.fixture
def host_address_later(rootless_user):
    """add() -> an address of the host's own on a link of its own (not eth0,
    not lo), added while the user's router already runs (a sandbox of the
    user's keeps it up): the router must learn it at the next start."""
    pid = os.getpid()
    link, peer, addr = f"wrd{pid}"[:15], f"wre{pid}"[:15], f"10.92.{pid % 250 + 1}.1"
    keeper = subprocess.Popen(as_user_argv([WARD, "run", "-q", "--allow", "network.outbound",
                                            "--", "sleep", "120"], rootless_user),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)

    def add():
        deadline = time.monotonic() + TIMEOUT
        while not router_up(rootless_user) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert router_up(rootless_user)
        # A veth with both ends on the host (this kernel may have no dummy links).
        subprocess.run(["ip", "link", "add", link, "type", "veth", "peer", "name", peer],
                       check=True)
        subprocess.run(["ip", "addr", "add", f"{addr}/32", "dev", link], check=True)
        subprocess.run(["ip", "link", "set", link, "up"], check=True)
        return addr

    try:
        yield add
    finally:
        keeper.terminate()
        try:
            keeper.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(keeper.pid, 9)
            keeper.wait()
        subprocess.run(["ip", "link", "del", link], capture_output=True)


def run_as(user, *args, timeout=TIMEOUT):
    return subprocess.run(as_user_argv([WARD] + [str(a) for a in args], user),
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_attack_rootless_sandbox_reaches_no_host_service(rootless_user, host_address_later):
    port = 42030
    svc = HostListener(port)
    try:
        added = host_address_later()
        addrs = host_addresses()
        assert added in addrs
        # Control: the service answers the host on each of its addresses.
        for a in addrs:
            socket.create_connection((a, port), timeout=5).close()
        deadline = time.monotonic() + TIMEOUT
        while len(svc.accepted) < len(addrs) and time.monotonic() < deadline:
            time.sleep(0.05)
        n_control = len(svc.accepted)
        assert n_control == len(addrs), svc.accepted
        r = run_as(rootless_user, "run", "-q", "--allow", "network.outbound", "--", "python3",
                   "-c", CLIENT, f"127.0.0.1:{port}", *[f"{a}:{port}" for a in addrs])
        assert r.returncode == 0, r
        res = results(r.stdout)
        # 127.0.0.1 is the sandbox's own loopback: nothing listens there.
        assert res[f"127.0.0.1:{port}"] == ("errno", str(errno.ECONNREFUSED)), r
        # Every address of the host's: the router rejects it (admin-
        # prohibited), pasta never opens a socket to it.
        for a in addrs:
            assert res[f"{a}:{port}"] == ("errno", str(errno.EHOSTUNREACH)), (a, r)
        time.sleep(0.5)
        assert len(svc.accepted) == n_control, svc.accepted
    finally:
        svc.close()
        run_as(rootless_user, "gc")


def test_attack_rootless_sandbox_reaches_no_other_users_router(rootless_user):
    port, inner = 42031, 8080
    other = RootlessUser(prefix="wrlx")
    p = None
    try:
        p = subprocess.Popen(as_user_argv([WARD, "run", "-q", "--allow",
                                           f"network.listen={inner}", "--publish",
                                           f"{port}:{inner}", "--", "python3", "-c", LISTENER,
                                           str(inner)], other),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        line = read_line(p.stdout, TIMEOUT).split()
        assert line and line[0] == "listening", p.stderr.read() if p.poll() is not None else ""
        other_addr = line[1]
        # Control: the other user's published port answers the host.
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert read_line(p.stdout, TIMEOUT).split()[0] == "accepted"
        targets = [f"127.0.0.1:{port}"] + [f"{a}:{port}" for a in host_addresses()] + \
            [f"{other_addr}:{inner}"]
        r = run_as(rootless_user, "run", "-q", "--allow", "network.outbound", "--", "python3",
                   "-c", CLIENT, *targets)
        assert r.returncode == 0, r
        res = results(r.stdout)
        assert res[f"127.0.0.1:{port}"] == ("errno", str(errno.ECONNREFUSED)), r
        for a in host_addresses():
            assert res[f"{a}:{port}"] == ("errno", str(errno.EHOSTUNREACH)), (a, r)
        # The other user's sandbox: its address is in this user's own
        # router's range, on this user's own bridge, where nobody has it.
        assert res[f"{other_addr}:{inner}"][0] == "errno", r
        # Nothing of it reached the other user's sandbox.
        assert read_line(p.stdout, 1) == ""
    finally:
        if p is not None:
            p.terminate()
            try:
                p.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait()
            p.stdout.close()
            p.stderr.close()
        run_as(rootless_user, "gc")
        other.remove()



def test_attack_rootless_network_admin_still_reaches_no_host_service(rootless_user):
    # network.admin makes the rules inside the program's own to change (its
    # CAP_NET_ADMIN holds in the namespace eth0 is moved into).  It flushes
    # them (the control: it may) and tries the host's services again: the
    # router's guard, which it cannot reach, still rejects every address of
    # the host's.
    port = 42032
    svc = HostListener(port)
    try:
        addrs = host_addresses()
        prog = "/usr/sbin/nft flush ruleset && echo flushed && exec python3 -c \"$0\" \"$@\""
        r = run_as(rootless_user, "run", "-q", "--allow", "network.admin", "--allow",
                   "network.outbound", "--", "sh", "-c", prog, CLIENT,
                   *[f"{a}:{port}" for a in addrs])
        assert r.returncode == 0, r
        assert r.stdout.startswith("flushed\n"), r
        res = results(r.stdout.split("\n", 1)[1])
        for a in addrs:
            assert res[f"{a}:{port}"] == ("errno", str(errno.EHOSTUNREACH)), (a, r)
        time.sleep(0.5)
        assert svc.accepted == [], svc.accepted
    finally:
        svc.close()
        run_as(rootless_user, "gc")


WAIT_THEN_CONNECT = r"""
import os, socket, sys, time
go = sys.argv[1]
print("waiting", flush=True)
while not os.path.exists(go):
    time.sleep(0.05)
t = open(go).read().strip()
host, port = t.rsplit(":", 1)
try:
    socket.create_connection((host, int(port)), timeout=8)
    print(t, "ok", flush=True)
except OSError as e:
    print(t, "errno", e.errno, flush=True)
"""


def router_set(user):
    """The addresses in the user's router's set hostaddrs (read as root,
    through the holder's namespaces)."""
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and os.stat(f"/proc/{pid}").st_uid == user.uid and \
                    open(f"/proc/{pid}/comm").read().strip() == "ward-router":
                r = subprocess.run(["nsenter", "-t", pid, "-U", "-n", "/usr/sbin/nft", "list",
                                    "set", "ip", "ward_nat", "hostaddrs"],
                                   capture_output=True, text=True, timeout=TIMEOUT)
                return r.stdout
        except OSError:
            pass
    return ""


def test_attack_host_address_gained_while_a_sandbox_runs(rootless_user):
    # The sandbox is running when the host gains an address: netd hears of
    # it (rtnetlink) and the holder adds it to the router's set, so the
    # running sandbox is refused there too, not only the next one.
    port = 42033
    pid = os.getpid()
    link, peer, addr = f"wrf{pid}"[:15], f"wrg{pid}"[:15], f"10.94.{pid % 250 + 1}.1"
    d = tempfile.mkdtemp(prefix="ward-rlnet-", dir="/var/tmp")
    os.chmod(d, 0o755)
    go = os.path.join(d, "go")
    svc = HostListener(port)
    p = subprocess.Popen(as_user_argv([WARD, "run", "-q", "--allow", "network.outbound",
                                       "--allow", f"fs.read={d}", "--", "python3", "-c",
                                       WAIT_THEN_CONNECT, go], rootless_user),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        assert read_line(p.stdout, TIMEOUT).strip() == "waiting"
        subprocess.run(["ip", "link", "add", link, "type", "veth", "peer", "name", peer],
                       check=True)
        subprocess.run(["ip", "addr", "add", f"{addr}/32", "dev", link], check=True)
        subprocess.run(["ip", "link", "set", link, "up"], check=True)
        # Control: the host's service answers on the new address.
        before = len(svc.accepted)
        socket.create_connection((addr, port), timeout=5).close()
        deadline = time.monotonic() + TIMEOUT
        while len(svc.accepted) <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(svc.accepted) > before, svc.accepted
        deadline = time.monotonic() + TIMEOUT
        while addr not in router_set(rootless_user) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert addr in router_set(rootless_user), router_set(rootless_user)
        n_control = len(svc.accepted)
        with open(go + ".tmp", "w") as f:
            f.write(f"{addr}:{port}\n")
        os.rename(go + ".tmp", go)
        out, err = p.communicate(timeout=TIMEOUT)
        assert results(out).get(f"{addr}:{port}") == ("errno", str(errno.EHOSTUNREACH)), \
            (out, err)
        time.sleep(0.5)
        assert len(svc.accepted) <= n_control, svc.accepted
    finally:
        if p.poll() is None:
            os.killpg(p.pid, 9)
            p.wait()
        p.stdout.close()
        p.stderr.close()
        svc.close()
        subprocess.run(["ip", "link", "del", link], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)
        run_as(rootless_user, "gc")

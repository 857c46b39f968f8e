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

from conftest import WARD, as_user_argv, read_line

TIMEOUT = 60

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or not os.access(WARD, os.X_OK) or
                       not os.access("/usr/bin/pasta", os.X_OK),
                       reason="needs root (to make the users), $WARD and pasta (passt)"),
    pytest.mark.usefixtures("rootless_user"),
]

SERVER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(8)
print("listening", flush=True)
while True:
    c, a = s.accept()
    c.sendall(sys.argv[2].encode())
    c.close()
"""

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
                   f"{port}:{inner}", "--", "python3", "-c", SERVER, str(inner), "sandbox"],
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
                   f"{port}:{inner}", "--", "python3", "-c", SERVER, str(inner), "sandbox"],
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

# SPDX-License-Identifier: GPL-2.0-or-later
"""The nftables rules ward loads in-process (lib/net/nft.c), read back with nft(8).

Run on its own, as root:
    WARD=build/src/ward python3 -m pytest tests/network/test_nft_inprocess.py

ward sends the rules inside a sandbox's namespace, and its elements of the
host's tables, as nfnetlink batches of its own; nft(8) runs only to make
the host's tables when they are missing or of another layout.  These tests
read what the kernel holds with nft(8) itself, so an encoding mistake (a
register, a byte order, a padding) shows as a different rule.
"""

import os
import re
import subprocess
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
WARD = os.path.realpath(os.environ.get("WARD", os.path.join(REPO, "build", "src", "ward")))
NFT = "/usr/sbin/nft"
TIMEOUT = 60

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not os.access(WARD, os.X_OK) or not os.access(NFT, os.X_OK),
    reason="needs root, the ward binary ($WARD) and /usr/sbin/nft")


def ruleset_of(*allow):
    """`nft list ruleset` inside a sandbox started with these entitlements,
    read from the program itself through nsenter of its init."""
    r, w = os.pipe()
    args = [WARD, "run", "-q", "--notify-fd", str(w)]
    for a in allow:
        args += ["--allow", a]
    p = subprocess.Popen(args + ["--", "sleep", "60"], pass_fds=(w,), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    os.close(w)
    try:
        with os.fdopen(r) as f:
            line = f.readline()
        m = re.match(r"ready pid=(\d+)", line)
        assert m, (line, p.stderr.read() if p.poll() is not None else "")
        out = subprocess.run(["nsenter", "-t", m.group(1), "-n", NFT, "list", "ruleset"],
                             capture_output=True, text=True, timeout=TIMEOUT)
        assert out.returncode == 0, out
        return [l.strip() for l in out.stdout.splitlines() if l.strip()]
    finally:
        p.terminate()
        p.communicate(timeout=TIMEOUT)


def chain(rules, name):
    i = rules.index(f"chain {name} {{")
    j = rules.index("}", i)
    return rules[i + 1:j]


def test_outbound_inner_rules():
    rules = ruleset_of("network.outbound")
    assert rules[0] == "table inet ward {", rules
    assert chain(rules, "input") == [
        "type filter hook input priority filter; policy accept;",
        'iifname != "lo" meta nfproto ipv6 drop']
    assert chain(rules, "output") == [
        "type filter hook output priority filter; policy accept;",
        'oifname != "lo" meta nfproto ipv6 reject with icmpx admin-prohibited']


def test_connect_listen_inner_rules():
    rules = ruleset_of("network.listen=49080", "network.connect=10.88.0.9:49432",
                       "network.loopback")
    assert chain(rules, "input") == [
        "type filter hook input priority filter; policy drop;",
        'iifname != "lo" meta nfproto ipv6 drop',
        'iifname "lo" accept',
        "ct state established,related accept",
        "tcp dport 49080 accept",
        "udp dport 49080 accept",
        "reject with icmpx admin-prohibited"]
    assert chain(rules, "output") == [
        "type filter hook output priority filter; policy drop;",
        'oifname != "lo" meta nfproto ipv6 reject with icmpx admin-prohibited',
        "ct state established,related accept",
        'oifname "lo" accept',
        "ip daddr 10.88.0.9 tcp dport 49432 accept",
        "ip daddr 10.88.0.9 udp dport 49432 accept",
        "reject with icmpx admin-prohibited"]


def test_outbound_with_listen_inner_rules():
    rules = ruleset_of("network.outbound", "network.listen=49081")
    assert chain(rules, "output") == [
        "type filter hook output priority filter; policy accept;",
        'oifname != "lo" meta nfproto ipv6 reject with icmpx admin-prohibited']
    assert "tcp dport 49081 accept" in chain(rules, "input")
    assert chain(rules, "input")[0].endswith("policy drop;")


def test_no_tool_runs_on_a_start():
    """With the host's tables in place, a start and its end execute nothing
    but the program: no nft, no ip."""
    assert subprocess.run([WARD, "run", "-q", "--allow", "network.outbound", "--", "true"],
                          timeout=TIMEOUT).returncode == 0  # tables made, if missing
    r = subprocess.run(["strace", "-f", "-qq", "-e", "trace=execve,execveat", "-o", "/dev/stderr",
                        WARD, "run", "-q", "--allow", "network.listen=49082",
                        "--allow", "network.connect=10.88.0.9:49433", "--", "/bin/true"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r
    # The program is started with execveat (AT_FDCWD, its path, AT_EMPTY_PATH)
    # when the supervisor explains denials (docs/seccomp.md).
    execs = re.findall(r'execve\("([^"]+)"|execveat\(AT_FDCWD, "([^"]+)"', r.stderr)
    execs = [a or b for a, b in execs]
    assert execs[1:] == ["/bin/true"], execs


def layout():
    r = subprocess.run([NFT, "list", "set", "ip", "ward_nat", "layout"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    m = re.search(r"elements = \{ (0x[0-9a-f]+) \}", r.stdout)
    return m and m.group(1)


def test_tables_of_another_layout_are_remade():
    """The host's tables carry the layout of the rules that made them; a
    start that finds another one (an older ward's) remakes the tables with
    nft(8), keeping every element, and then adds its own."""
    assert subprocess.run([WARD, "run", "-q", "--allow", "network.outbound", "--", "true"],
                          timeout=TIMEOUT).returncode == 0
    mine = layout()
    assert mine, "no layout element"
    try:
        subprocess.run([NFT, "flush set ip ward_nat layout; "
                             "add element ip ward_nat layout { 0x1 }"], check=True,
                       timeout=TIMEOUT)
        # An older ward's forward chain, say, with a rule this ward never makes.
        subprocess.run([NFT, "add rule ip ward_nat forward counter accept"], check=True,
                       timeout=TIMEOUT)
        r = subprocess.run([WARD, "run", "-q", "--allow", "network.outbound", "--", "true"],
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 0, r
        assert layout() == mine
        fwd = subprocess.run([NFT, "list", "chain", "ip", "ward_nat", "forward"],
                             capture_output=True, text=True, timeout=TIMEOUT).stdout
        assert "counter" not in fwd, fwd
    finally:
        # Never leave the marker wrong for the other ward runs of this host.
        if layout() != mine:
            subprocess.run([WARD, "run", "-q", "--allow", "network.outbound", "--", "true"],
                           timeout=TIMEOUT)

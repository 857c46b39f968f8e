# SPDX-License-Identifier: GPL-2.0-or-later
"""Mailboxes across hosts (docs/remote.md): brokers that stand in for hosts
a and b (own state directories and host keys) joined through a private
RabbitMQ node (tests/broker/mqlib.py, one per test session), with real
environments on each side."""

import os
import re
import signal
import subprocess

import pytest

from brokerlib import bhelpers, wait_for  # noqa: F401
from mqlib import rabbitmq, hosts  # noqa: F401
from conftest import WARD, read_line


def start(spawned, h, helpers, name, allow, argv):
    return spawned([WARD] + h.run_args(name, allow, argv, helpers), env=h.env,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(h, helpers, name, allow, argv, **kw):
    kw.setdefault("timeout", 120)
    return h.ward(*h.run_args(name, allow, argv, helpers), **kw)


def ready(p, timeout=60):
    line = read_line(p.stdout, timeout)
    assert line.strip() == "ready", (line, p.poll(), p.stderr.read() if p.poll() is not None else "")


def end(p):
    """Stop an environment the way an operator would: ward run passes
    SIGTERM on and cleans up (SIGKILL would leave its cgroups)."""
    p.send_signal(signal.SIGTERM)
    return finish(p)


def finish(p, timeout=120):
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def two_hosts(hosts):
    hs = hosts("a", "b")
    a, b = hs["a"], hs["b"]
    a.allow["b"] = ["web"]
    b.allow["a"] = ["inventory", "nobox"]
    a.start()
    b.start()
    assert a.link_up(), a.ps() + a.log()
    assert b.link_up(), b.ps() + b.log()
    return a, b


def test_send_and_receive_both_ways(hosts, bhelpers, spawned):
    a, b = two_hosts(hosts)
    em = f"{bhelpers}/envtool"
    inv = start(spawned, b, bhelpers, "inventory", ["ipc.recv", "ipc.send=web@a"],
                [em, "ready-recv"])
    ready(inv)
    r = run(a, bhelpers, "web", ["ipc.send=inventory@b"],
            [f"{bhelpers}/ward-msg", "send", "inventory@b", "hello from a"])
    assert r.returncode == 0, r
    rc, out, err = finish(inv)
    # The sender is shown as NAME@HOST: the host the signature came from.
    assert rc == 0 and out.splitlines()[-1] == "message web@a hello from a", (out, err)

    # And back: b's inventory to a's web.
    web = start(spawned, a, bhelpers, "web", ["ipc.recv"], [em, "ready-recv"])
    ready(web)
    r = run(b, bhelpers, "inventory", ["ipc.send=web@a"],
            [f"{bhelpers}/ward-msg", "send", "web@a", "stock: 3"])
    assert r.returncode == 0, r
    rc, out, err = finish(web)
    assert rc == 0 and out.splitlines()[-1] == "message inventory@b stock: 3", (out, err)

    # ward ps: the link and the queues.
    ps = a.ps()
    assert "REMOTE  host a  link up" in ps, ps
    assert "sent 1" in ps and "received 1" in ps, ps
    assert any(l.split()[:1] == ["b"] for l in ps.splitlines()), ps


def test_refusals_on_both_sides(hosts, bhelpers, spawned):
    a, b = two_hosts(hosts)
    em = f"{bhelpers}/envtool"
    msg = f"{bhelpers}/ward-msg"
    # The sender lacks ipc.send=inventory@b: refused on host a, as locally.
    r = run(a, bhelpers, "web", ["ipc.send=inventory@c"], [msg, "send", "inventory@b", "x"])
    assert r.returncode != 0
    assert "lacks the entitlement ipc.send=inventory@b" in r.stderr, r.stderr
    # A local wildcard does not reach other hosts.
    r = run(a, bhelpers, "web", ["ipc.send=*"], [msg, "send", "inventory@b", "x"])
    assert "lacks the entitlement ipc.send=inventory@b" in r.stderr, r.stderr
    # A host that a does not list.
    r = run(a, bhelpers, "web", ["ipc.send=*@*"], [msg, "send", "inventory@zz", "x"])
    assert r.returncode != 0 and '"zz" is not a listed peer' in r.stderr, r.stderr

    # The receiver has no ipc.recv: b refuses, a's sender gets the notice.
    nob = start(spawned, b, bhelpers, "nobox", ["ipc.send=x"], [em, "raw", "w:120"])
    assert wait_for(lambda: "nobox" in b.ps(), 60, 0.2), b.ps()
    r = run(a, bhelpers, "web", ["ipc.send=*@b"], [em, "undelivered", "nobox@b"])
    assert r.returncode == 0, r
    assert 'undelivered nobox@b: "nobox" on "b" has no mailbox — grant ipc.recv' in r.stdout, r
    end(nob)

    # b's policy does not let a send to "secret": the notice names the line.
    sec = start(spawned, b, bhelpers, "secret", ["ipc.recv"], [em, "ready-recv"])
    ready(sec)
    r = run(a, bhelpers, "web", ["ipc.send=*@b"], [em, "undelivered", "secret@b"])
    assert r.returncode == 0, r
    assert 'host "a" may not send to "secret" on "b" — grant allow a secret' in r.stdout, r
    assert 'refused a message from "web@a" to "secret"' in b.log()
    end(sec)


def test_unknown_peer_is_dropped_and_logged(hosts, bhelpers):
    hs = hosts("a", "b", "c")
    b, c = hs["b"], hs["c"]
    del b.peers["c"]            # b does not list c; c lists b
    c.start()
    b.start()
    assert c.link_up() and b.link_up()
    r = run(c, bhelpers, "web", ["ipc.send=inventory@b"],
            [f"{bhelpers}/ward-msg", "send", "inventory@b", "from c"])
    assert r.returncode == 0, r    # RabbitMQ took it
    assert wait_for(lambda: 'from host "c", which is not a listed peer' in b.log(), 60), b.log()


def test_ordered_exactly_once_across_a_rabbitmq_restart(hosts, bhelpers, spawned, rabbitmq):
    a, b = two_hosts(hosts)
    em = f"{bhelpers}/envtool"
    n = 600
    inv = start(spawned, b, bhelpers, "inventory", ["ipc.recv"],
                [em, "recv-seq", str(n), "64", "120000"])
    ready(inv)
    web = start(spawned, a, bhelpers, "web", ["ipc.send=inventory@b"],
                [em, "send-seq", "inventory@b", str(n)])
    # Some are through, then the node dies with the rest in flight.
    wait_for(lambda: "received" in b.ps() and "received 0 " not in b.ps(), 60, 0.05)
    rabbitmq.kill()
    assert wait_for(lambda: "link down" in a.ps(), 60), a.ps()
    rabbitmq.start()
    rc, out, err = finish(web, 300)
    assert rc == 0, (out, err)
    rc, out, err = finish(inv, 300)
    # All, in order, and none twice (recv-seq waits 3 s for an extra one).
    assert rc == 0 and out.splitlines()[-1] == f"in order {n}", (out, err, b.log()[-3000:])


def queued(host, name):
    """Messages waiting in RabbitMQ for host NAME, as HOST's ward ps shows them."""
    for line in host.ps().splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] == name and f[1].isdigit():
            return int(f[1])
    return 0


def test_receiving_broker_down_then_up(hosts, bhelpers, spawned):
    a, b = two_hosts(hosts)
    em = f"{bhelpers}/envtool"
    n = 50
    b.stop()
    # The RabbitMQ node serves the whole session: b's queue may still hold
    # what an earlier test's hosts sent (duplicates resent after a restart,
    # signed with keys b no longer trusts, so b drops them), and such
    # messages that b had taken but not acknowledged come back when it
    # stops.  Empty it, so that what a's ps shows is this test's.
    # (a's ps shows the depths its link last heard of: wait for the empty one.)
    a.rmq.purge("b")
    assert wait_for(lambda: queued(a, "b") == 0, 30, 0.3), a.ps()
    r = run(a, bhelpers, "web", ["ipc.send=inventory@b"], [em, "send-seq", "inventory@b", str(n)])
    assert r.returncode == 0, r
    # Queued in RabbitMQ for b (durable), which a's ward ps shows.
    assert wait_for(lambda: queued(a, "b") >= n, 30, 0.3), a.ps()
    b.start()
    assert b.link_up()
    # b holds them (in order) until the receiver runs.
    inv = start(spawned, b, bhelpers, "inventory", ["ipc.recv"],
                [em, "recv-seq", str(n), "16", "60000"])
    ready(inv)
    rc, out, err = finish(inv, 120)
    assert rc == 0 and out.splitlines()[-1] == f"in order {n}", (out, err, b.log()[-3000:])


def test_ten_thousand_in_order_per_sender(hosts, bhelpers, spawned):
    a, b = two_hosts(hosts)
    em = f"{bhelpers}/envtool"
    n = 10000
    inv = start(spawned, b, bhelpers, "inventory", ["ipc.recv"],
                [em, "recv-seq", str(n), "256", "60000"])
    ready(inv)
    r = run(a, bhelpers, "web", ["ipc.send=inventory@b"], [em, "send-seq", "inventory@b", str(n)],
            timeout=600)
    assert r.returncode == 0, r
    rc, out, err = finish(inv, 600)
    assert rc == 0 and out.splitlines()[-1] == f"in order {n}", (out, err, b.log()[-3000:])


def test_receiving_broker_killed_mid_stream(hosts, bhelpers, spawned):
    """kill -9 of the receiving broker while a stream arrives: started
    again, it delivers the rest in order, and nothing it had delivered
    comes twice (the ids are on disk before delivery).  What was in its
    mailbox when it died dies with it, as on one host: at most a mailbox.
    The stream's second half is sent while b is down: a fast stream could
    otherwise be wholly in b's mailbox when the kill lands, and lost with it."""
    a, b = two_hosts(hosts)
    em = f"{bhelpers}/envtool"
    msg = f"{bhelpers}/ward-msg"
    n = 400
    r1 = start(spawned, b, bhelpers, "inventory", ["ipc.recv"],
               [msg, "recv", "--count", str(n), "--timeout", "60000"])
    assert wait_for(lambda: "inventory" in b.ps(), 60, 0.2)
    web = start(spawned, a, bhelpers, "web", ["ipc.send=inventory@b"],
                [em, "send-seq", "inventory@b", str(n // 2)])

    def received():
        m = re.search(r"received (\d+)", b.ps())
        return int(m[1]) if m else 0
    assert wait_for(lambda: received() >= 50, 120, 0.05)
    os.kill(b.pid(), signal.SIGKILL)
    _, out1, _ = finish(r1)            # its descriptor closed: it ends
    rc, out, err = finish(web, 300)    # every send confirmed by RabbitMQ
    assert rc == 0, (out, err)
    r = run(a, bhelpers, "web", ["ipc.send=inventory@b"],
            [em, "send-seq", "inventory@b", str(n - n // 2), str(n // 2 + 1)])
    assert r.returncode == 0, r
    b.start()
    assert b.link_up()
    r2 = start(spawned, b, bhelpers, "inventory", ["ipc.recv"],
               [msg, "recv", "--count", str(n), "--timeout", "15000"])
    _, out2, _ = finish(r2, 300)
    got1 = [int(x[1:]) for x in out1.split()]
    got2 = [int(x[1:]) for x in out2.split()]
    assert got1 == list(range(1, len(got1) + 1)), got1
    assert got2 and got2 == list(range(got2[0], n + 1)), (got1[-3:], got2[:5], b.log()[-2000:])
    assert not set(got1) & set(got2), "delivered twice"
    assert got2[0] - 1 - len(got1) <= 257, (len(got1), got2[0])


def test_amqps_with_the_node_certificate_checked(hosts, bhelpers, spawned, rabbitmq):
    """amqps: the node's certificate must chain to --amqp-cacert and name the
    host of the URL; then messages flow as over amqp."""
    hs = hosts("a", "b")
    a, b = hs["a"], hs["b"]
    b.allow["a"] = ["inventory"]
    a.tls_ca = b.tls_ca = rabbitmq.ca
    a.start()
    b.start()
    assert a.link_up() and b.link_up(), a.ps() + b.ps()
    assert f"connected to localhost:{rabbitmq.tls_port}" in a.ps(), a.ps()
    em = f"{bhelpers}/envtool"
    inv = start(spawned, b, bhelpers, "inventory", ["ipc.recv"], [em, "ready-recv"])
    ready(inv)
    r = run(a, bhelpers, "web", ["ipc.send=inventory@b"],
            [f"{bhelpers}/ward-msg", "send", "inventory@b", "over tls"])
    assert r.returncode == 0, r
    rc, out, err = finish(inv)
    assert out.splitlines()[-1] == "message web@a over tls", (out, err)
    # A CA that did not sign the node's certificate: no link.
    a.stop()
    a.tls_ca = rabbitmq.other_ca
    a.start()
    assert wait_for(lambda: "link down: cannot connect" in a.ps(), 30, 0.3), a.ps()
    assert "link up" not in a.ps()

# SPDX-License-Identifier: GPL-2.0-or-later
"""Attacks on mailboxes across hosts (docs/threat-model/broker.md):

- whoever can publish to a host's queue in RabbitMQ (a hostile peer's
  credentials, a compromised node) sends forged, altered, replayed,
  oversized and malformed frames: each is dropped and logged, and the
  receiving broker goes on delivering the real ones, once;
- a hostile peer with a valid key sends to names its policy does not allow;
- a sandbox tries to pass itself off as a remote sender ("web@a").
"""

import os

import pytest

from brokerlib import bhelpers, packet, decode, request, wait_for, T  # noqa: F401
from mqlib import rabbitmq, hosts  # noqa: F401
from test_remote import end, finish, ready, run, start, two_hosts

pika = pytest.importorskip("pika", reason="python3-pika publishes straight into RabbitMQ")


def admin(rmq):
    u = f"amqp://ward-admin:{rmq.users['a'][1]}@127.0.0.1:{rmq.port}/%2F"
    return pika.BlockingConnection(pika.URLParameters(u))


def publish(rmq, host, bodies):
    conn = admin(rmq)
    try:
        ch = conn.channel()
        for body in bodies:
            ch.basic_publish("", f"ward.{host}", body,
                             pika.BasicProperties(delivery_mode=2))
    finally:
        conn.close()


def take_one(rmq, host):
    """Take the frame waiting in a host's queue (as a node or a peer with
    read rights on it could)."""
    conn = admin(rmq)
    try:
        ch = conn.channel()
        for _ in range(100):
            method, _, body = ch.basic_get(f"ward.{host}", auto_ack=True)
            if method:
                return body
            import time
            time.sleep(0.2)
    finally:
        conn.close()
    raise AssertionError("nothing in the queue")


def flip(frame, at):
    b = bytearray(frame)
    b[at] ^= 0x01
    return bytes(b)


def test_forged_altered_replayed_oversized_malformed(hosts, bhelpers, spawned, rabbitmq):
    a, b = two_hosts(hosts)
    msg = f"{bhelpers}/ward-msg"
    b.stop()
    r = run(a, bhelpers, "web", ["ipc.send=inventory@b"], [msg, "send", "inventory@b", "real"])
    assert r.returncode == 0, r
    frame = take_one(rabbitmq, "b")
    assert frame.startswith(b"WARDMQ1\0"), frame[:16]
    body_at = frame.index(b"real")
    name_at = frame.index(b"web")
    bad = {
        "altered body": flip(frame, body_at),
        "altered sender": frame[:name_at] + b"adm" + frame[name_at + 3:],
        "forged signature": frame[:-64] + os.urandom(64),
        "truncated": frame[:-10],
        "garbage": b"GET / HTTP/1.1\r\nHost: b\r\n\r\n" * 8,
        "oversized": frame[:-64] + b"x" * 70000 + frame[-64:],
        "huge": b"y" * (200 << 10),
    }
    # The real one first, then two replays of it, then the rest.
    publish(rabbitmq, "b", [frame, frame, frame] + list(bad.values()))
    b.start()
    assert b.link_up()
    inv = start(spawned, b, bhelpers, "inventory", ["ipc.recv"],
                [msg, "recv", "--from", "--count", "2", "--timeout", "8000"])
    rc, out, err = finish(inv, 120)
    # Delivered once: the second recv times out.
    assert out.splitlines() == ["web@a\treal"], (out, err, b.log()[-3000:])
    log = b.log()
    assert log.count("a replay or second copy of message") == 2, log
    assert log.count("forged or altered") == 3, log
    assert "malformed" in log and "bad magic" in log, log
    assert "frame larger than the largest message" in log, log
    assert "larger than any ward frame" in log, log

    # The ids are kept on disk: a replay after the broker started again is
    # still refused.
    b.stop()
    publish(rabbitmq, "b", [frame])
    b.start()
    assert wait_for(lambda: b.log().count("a replay or second copy of message") == 3, 60), \
        b.log()[-2000:]
    # And the broker serves on.
    ps = b.ps()
    assert "link up" in ps and "dropped" in ps, ps


def test_hostile_peer_outside_its_policy(hosts, bhelpers, spawned):
    hs = hosts("b", "c")
    b, c = hs["b"], hs["c"]
    b.allow["c"] = ["public-*"]       # c may reach public-* on b, nothing else
    b.start()
    c.start()
    assert b.link_up() and c.link_up()
    em = f"{bhelpers}/envtool"
    inv = start(spawned, b, bhelpers, "inventory", ["ipc.recv"], [em, "ready-recv"])
    ready(inv)
    # c's environment holds ipc.send=*@b (c's operator is hostile): b's
    # policy refuses, and says which line would allow it.
    r = run(c, bhelpers, "x", ["ipc.send=*@b"], [em, "undelivered", "inventory@b"])
    assert r.returncode == 0, r
    assert 'host "c" may not send to "inventory" on "b" — grant allow c inventory' in r.stdout
    assert inv.poll() is None      # inventory got nothing
    end(inv)
    # Allowed names still work.
    pub = start(spawned, b, bhelpers, "public-1", ["ipc.recv"], [em, "ready-recv"])
    ready(pub)
    r = run(c, bhelpers, "x", ["ipc.send=*@b"], [f"{bhelpers}/ward-msg", "send", "public-1@b", "hi"])
    assert r.returncode == 0, r
    rc, out, _ = finish(pub)
    assert out.splitlines()[-1] == "message x@c hi", out


def test_sandbox_cannot_claim_a_remote_name(hosts, bhelpers):
    a, b = two_hosts(hosts)
    # An environment's name never has an '@': it cannot be "web@a".
    r = b.ward("run", "-q", "--name", "web@a", "-a", "ipc.send=x", "--", "/bin/true")
    assert r.returncode != 0 and "web@a" in r.stderr, r
    # Nor through the control socket (the broker checks it again).
    ctl = b.control()
    ctl.send(packet("REGISTER", 1, ("NAME", "web@a"), ("PID", os.getpid())))
    t, _, attrs = decode(ctl.recv(1 << 16))
    assert t == T["ERROR"] and "has no '@'" in attrs["TEXT"][0], attrs
    ctl.close()
    # A FROM the environment puts in its SEND is ignored: the receiver sees
    # the broker's name for it (a local sender has no host part).
    ctl, env = b.register("mallory", ["ipc.send=mallory", "ipc.recv"])
    try:
        t, _, attrs = request(env, packet("SEND", 1, ("NAME", "mallory"), ("FROM", "web@a"),
                                          ("DATA", b"x")))
        assert t == T["OK"], attrs
        t, _, attrs = request(env, packet("RECV", 2, ("FLAGS", 1)))
        assert t == T["MESSAGE"] and attrs["FROM"] == ["mallory"], attrs
    finally:
        env.close()
        ctl.close()

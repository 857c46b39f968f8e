# SPDX-License-Identifier: GPL-2.0-or-later
"""The broker with real environments: messages, services, files, refusals,
ward ps and ward msg, crashes, and many environments at once."""

import json
import os
import signal
import socket
import subprocess
import time

import pytest

from brokerlib import bhelpers, broker, packet, request, wait_for, T  # noqa: F401
from conftest import descendants, proc_table, read_line


def start(spawned, b, helpers, name, allow, argv):
    """An environment in the background; its stdout is a pipe."""
    from conftest import WARD
    return spawned([WARD] + b.run_args(name, allow, argv, helpers), env=b.env,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(b, helpers, name, allow, argv, **kw):
    return b.ward(*b.run_args(name, allow, argv, helpers), **kw)


def ready(p, timeout=20):
    line = read_line(p.stdout, timeout)
    assert line.strip() == "ready", (line, p.poll())


def finish(p, timeout=20):
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def program_pid(ward_pid):
    """The environment's program: ward run -> init -> program (depth 2),
    once it runs."""
    def find():
        table = proc_table()
        for k in descendants(ward_pid, table):
            depth, p = 0, k
            while p != ward_pid and p in table:
                p = table[p][0]
                depth += 1
            if depth == 2:
                return k
        return None
    return wait_for(find)


# ---------------------------------------------------------------- messages

def test_two_environments_exchange_messages(broker, bhelpers, spawned):
    em = f"{bhelpers}/envtool"
    db = start(spawned, broker, bhelpers, "db", ["ipc.recv"], [em, "ready-recv"])
    ready(db)
    r = run(broker, bhelpers, "web", ["ipc.send=db"],
            [f"{bhelpers}/ward-msg", "send", "db", "hello"])
    assert r.returncode == 0, r
    rc, out, err = finish(db)
    assert rc == 0, (out, err)
    assert "message web hello" in out
    # Both registered and left again.
    log = broker.log()
    assert 'environment "db"' in log and 'environment "web"' in log
    assert wait_for(lambda: "db" not in broker.ward("ps").stdout.split())


def test_three_environments_messages_and_descriptors(broker, bhelpers, spawned):
    em = f"{bhelpers}/envtool"
    svc = start(spawned, broker, bhelpers, "svc",
                ["ipc.recv", "service.provide=upper"], [em, "serve", "upper", "1"])
    ready(svc)
    # web connects to the service: the broker hands both sides a socket pair.
    r = run(broker, bhelpers, "web", ["service.connect=upper", "ipc.send=svc"],
            [em, "connect", "upper", "hello service"])
    assert r.returncode == 0, r
    assert "answer HELLO SERVICE" in r.stdout
    rc, out, _ = finish(svc)
    assert rc == 0 and "served web" in out
    # a third environment talks to two others through mailboxes
    a = start(spawned, broker, bhelpers, "a", ["ipc.recv"], [em, "ready-recv"])
    c = start(spawned, broker, bhelpers, "c", ["ipc.recv"], [em, "ready-recv"])
    ready(a)
    ready(c)
    r = run(broker, bhelpers, "hub", ["ipc.send=a", "ipc.send=c"],
            ["/bin/sh", "-c", f"{bhelpers}/ward-msg send a to-a && "
                              f"{bhelpers}/ward-msg send c to-c"])
    assert r.returncode == 0, r
    assert "message hub to-a" in finish(a)[1]
    assert "message hub to-c" in finish(c)[1]


def test_wildcard_names(broker, bhelpers, spawned):
    em = f"{bhelpers}/envtool"
    db1 = start(spawned, broker, bhelpers, "db-1", ["ipc.recv"], [em, "ready-recv"])
    ready(db1)
    r = run(broker, bhelpers, "w", ["ipc.send=db-*"],
            ["/bin/sh", "-c", f"{bhelpers}/ward-msg send db-1 x; "
                              f"{bhelpers}/ward-msg send web y"])
    assert "message w x" in finish(db1)[1]
    assert "lacks the entitlement ipc.send=web" in r.stderr, r


def test_lookup(broker, bhelpers, spawned):
    em = f"{bhelpers}/envtool"
    db = start(spawned, broker, bhelpers, "db", ["ipc.recv"], [em, "ready-recv"])
    ready(db)
    r = run(broker, bhelpers, "w", ["ipc.send=db", "ipc.send=nobody"],
            ["/bin/sh", "-c", f"{bhelpers}/ward-msg lookup db; "
                              f"{bhelpers}/ward-msg lookup nobody"])
    assert "db mailbox" in r.stdout, r
    assert "no environment or service" in r.stderr


def test_operator_send_and_ps(broker, bhelpers, spawned):
    em = f"{bhelpers}/envtool"
    idle = start(spawned, broker, bhelpers, "idle", ["ipc.recv", "ipc.send=db"],
                 ["/bin/sleep", "30"])
    assert wait_for(lambda: "idle" in broker.ward("ps").stdout)
    for i in range(3):
        r = broker.ward("msg", "send", "idle", f"m{i}")
        assert r.returncode == 0, r
    ps = broker.ward("ps")
    line = [l for l in ps.stdout.splitlines() if l.startswith("idle")][0]
    assert "3/256" in line and "ipc.recv" in line and "ipc.send=db" in line
    rows = json.loads(broker.ward("ps", "--json").stdout)
    row = [x for x in rows if x["name"] == "idle"][0]
    assert row["depth"] == 3 and row["mailbox"] and row["pid"] == idle.pid
    # ward msg to what does not exist, or has no mailbox
    r = broker.ward("msg", "send", "nobody", "x")
    assert r.returncode != 0 and "no environment of that name" in r.stderr
    idle.terminate()
    idle.wait(timeout=10)


def test_msg_from_host_reaches_environment(broker, bhelpers, spawned):
    db = start(spawned, broker, bhelpers, "db", ["ipc.recv"],
               [f"{bhelpers}/envtool", "ready-recv"])
    ready(db)
    r = broker.ward("msg", "send", "db", "hello from the host")
    assert r.returncode == 0, r
    assert "message (host) hello from the host" in finish(db)[1]


# ---------------------------------------------------------------- refusals

@pytest.mark.parametrize("allow,argv,missing", [
    ([], ["ward-msg", "send", "db", "x"], "ipc.send=db"),
    ([], ["ward-msg", "recv", "--timeout", "0"], "ipc.recv"),
    ([], ["ward-msg", "lookup", "db"], "ipc.send=db or service.connect=db"),
    ([], ["envtool", "connect", "upper", "x"], "service.connect=upper"),
    ([], ["envtool", "serve", "upper", "1"], "service.provide=upper"),
    (["ipc.send=cache"], ["ward-msg", "send", "db", "x"], "ipc.send=db"),
    (["service.connect=other"], ["envtool", "connect", "upper", "x"],
     "service.connect=upper"),
])
def test_refusal_names_the_entitlement(broker, bhelpers, allow, argv, missing):
    argv = [f"{bhelpers}/{argv[0]}"] + argv[1:]
    r = run(broker, bhelpers, "asker", allow, argv)
    out = r.stdout + r.stderr
    assert r.returncode != 0, r
    assert f"lacks the entitlement {missing}" in out, r
    # ward run explains it as it explains a denied system call
    assert f"— grant {missing} to allow" in r.stderr, r
    assert f"grant {missing} to allow" in broker.log()


def test_refusals_of_delivery(broker, bhelpers, spawned):
    em = f"{bhelpers}/envtool"
    broker.start("--queue-depth", "4")
    # unknown mailbox
    r = run(broker, bhelpers, "s", ["ipc.send=*"], [f"{bhelpers}/ward-msg", "send", "ghost", "x"])
    assert r.returncode == 1 and "no environment of that name is running" in r.stderr
    # an environment without ipc.recv has no mailbox
    nomb = start(spawned, broker, bhelpers, "nomb", [], ["/bin/sleep", "30"])
    assert wait_for(lambda: "nomb" in broker.ward("ps").stdout)
    r = run(broker, bhelpers, "s", ["ipc.send=*"], [f"{bhelpers}/ward-msg", "send", "nomb", "x"])
    assert "it has no mailbox" in r.stderr, r
    # a full mailbox refuses with a reason; nothing is dropped silently
    full = start(spawned, broker, bhelpers, "full", ["ipc.recv"], ["/bin/sleep", "30"])
    assert wait_for(lambda: "full" in broker.ward("ps").stdout)
    r = run(broker, bhelpers, "s", ["ipc.send=full"], [em, "flood", "full", "10"])
    assert "sent 10 ok 4 err 6 first=EAGAIN" in r.stdout, r
    assert "mailbox is full" in r.stdout
    assert "4/4" in broker.ward("ps").stdout
    nomb.terminate()
    full.terminate()


def test_send_wait_gets_room(broker, bhelpers, spawned):
    em = f"{bhelpers}/envtool"
    broker.start("--queue-depth", "1")
    db = start(spawned, broker, bhelpers, "db", ["ipc.recv"], ["/bin/sleep", "30"])
    assert wait_for(lambda: "db" in broker.ward("ps").stdout)
    assert broker.ward("msg", "send", "db", "first").returncode == 0
    # the mailbox is full: --wait blocks until db reads, or db closes
    waiter = spawned([broker_ward(), "msg", "send", "--wait", "db", "second"], env=broker.env,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    assert waiter.poll() is None
    db.terminate()
    db.wait(timeout=10)
    out, err = waiter.communicate(timeout=10)
    assert waiter.returncode == 1 and "closed" in err, err
    del em


def broker_ward():
    from conftest import WARD
    return WARD


def test_name_taken(broker, bhelpers, spawned):
    a = start(spawned, broker, bhelpers, "dup", ["ipc.recv"], ["/bin/sleep", "30"])
    assert wait_for(lambda: "dup" in broker.ward("ps").stdout)
    r = run(broker, bhelpers, "dup", [], ["/bin/true"])
    assert r.returncode == 125 and "already running" in r.stderr, r
    a.terminate()


def test_bad_names_and_values(broker):
    for args, text in ((["--name", "Bad Name"], "--name Bad Name"),
                       (["-a", "ipc.send=DB"], "a name is 1 to 64"),
                       (["-a", "api.open=relative:ro"], "must be absolute"),
                       (["-a", "api.open=/srv:rx"], "ro or rw"),
                       (["-a", "api.open=/srv/../etc"], '".." is not allowed')):
        r = broker.ward("run", *args, "--", "/bin/true")
        assert r.returncode in (2, 125) and text in r.stderr, r


# ---------------------------------------------------------------- api.open

def test_api_open(broker, bhelpers, make_tmpdir):
    d = make_tmpdir()
    os.mkdir(f"{d}/sub")
    with open(f"{d}/photo.txt", "w") as f:
        f.write("pixels\n")
    os.symlink("/etc/passwd", f"{d}/escape")
    os.symlink("../photo.txt", f"{d}/sub/inside")
    wm = f"{bhelpers}/ward-msg"

    def sh(allow, script):
        return run(broker, bhelpers, "viewer", allow, ["/bin/sh", "-c", script])

    r = sh([f"api.open={d}:ro"], f"{wm} open {d}/photo.txt")
    assert r.returncode == 0 and r.stdout == "pixels\n", r
    # a symbolic link inside the grant that stays inside works
    r = sh([f"api.open={d}:ro"], f"{wm} open {d}/sub/inside")
    assert r.stdout == "pixels\n", r
    # one that leads out is refused by the kernel (RESOLVE_BENEATH)
    r = sh([f"api.open={d}:ro"], f"{wm} open {d}/escape")
    assert r.returncode == 1 and "leads outside the granted" in r.stderr, r
    # "..", directories, other places, writing through a read-only grant
    r = sh([f"api.open={d}:ro"], f"{wm} open {d}/../etc/passwd")
    assert r.returncode == 1 and '".."' in r.stderr, r
    r = sh([f"api.open={d}:ro"], f"{wm} open {d}/sub")
    assert "not a regular file" in r.stderr, r
    r = sh([f"api.open={d}:ro"], "/bin/true; " + f"{wm} open /etc/passwd")
    assert "lacks the entitlement api.open=/etc:ro" in r.stderr, r
    r = sh([f"api.open={d}:ro"], f"echo x | {wm} open --write {d}/photo.txt")
    assert f"lacks the entitlement api.open={d}:rw" in r.stderr, r
    # read-write: create and write
    r = sh([f"api.open={d}:rw"], f"echo written | {wm} open --create {d}/new.txt")
    assert r.returncode == 0, r
    with open(f"{d}/new.txt") as f:
        assert f.read() == "written\n"
    # the sandbox itself still cannot see the directory: it is not in its
    # mount namespace at all (ENOENT, where Landlock would say EACCES)
    r = sh([f"api.open={d}:ro"], f"cat {d}/photo.txt")
    assert r.returncode == 1, r
    assert f"cat: {d}/photo.txt: No such file or directory" in r.stderr, r


# ---------------------------------------------------------------- crashes

def test_kill9_receiver_tells_pending_senders(broker, bhelpers, spawned):
    em = f"{bhelpers}/envtool"
    db = start(spawned, broker, bhelpers, "db", ["ipc.recv"], ["/bin/sleep", "60"])
    assert wait_for(lambda: "db" in broker.ward("ps").stdout)
    sender = start(spawned, broker, bhelpers, "sender", ["ipc.send=db"], [em, "undelivered", "db"])
    assert read_line(sender.stdout, 20).strip() == "queued"
    prog = program_pid(db.pid)
    assert prog
    os.kill(prog, signal.SIGKILL)
    rc, out, _ = finish(sender)
    assert rc == 0 and 'undelivered db: mailbox "db" closed' in out, out
    assert wait_for(lambda: "db" not in broker.ward("ps").stdout.split())
    db.wait(timeout=10)
    assert db.returncode == 128 + signal.SIGKILL


def test_kill9_sender(broker, bhelpers, spawned):
    em = f"{bhelpers}/envtool"
    db = start(spawned, broker, bhelpers, "db", ["ipc.recv"], [em, "ready-recv"])
    ready(db)
    s = start(spawned, broker, bhelpers, "s", ["ipc.send=db"], ["/bin/sleep", "60"])
    assert wait_for(lambda: any(l.split()[0] == "s" for l in broker.ward("ps").stdout.splitlines()))
    os.kill(program_pid(s.pid), signal.SIGKILL)
    s.wait(timeout=10)
    assert wait_for(lambda: 'environment "s"' in broker.log() and "left" in broker.log())
    # the others are unaffected
    assert broker.ward("msg", "send", "db", "still-here").returncode == 0
    assert "still-here" in finish(db)[1]


def test_kill9_broker_and_restart(broker, bhelpers, spawned):
    em = f"{bhelpers}/envtool"
    db = start(spawned, broker, bhelpers, "db", ["ipc.recv"], [em, "wait-broker"])
    ready(db)
    pid = broker.pid()
    os.kill(pid, signal.SIGKILL)
    rc, out, _ = finish(db)
    assert rc == 1 and "error ECONNRESET the broker closed the connection" in out, out
    # a new environment starts a new broker, which works
    db2 = start(spawned, broker, bhelpers, "db", ["ipc.recv"], [em, "ready-recv"])
    ready(db2)
    assert broker.pid() != pid
    assert broker.ward("msg", "send", "db", "again").returncode == 0
    assert "message (host) again" in finish(db2)[1]


def test_64_environments(broker, bhelpers, spawned):
    em = f"{bhelpers}/envtool"
    procs = [start(spawned, broker, bhelpers, f"e{i}", ["ipc.recv"], [em, "ready-recv"])
             for i in range(64)]
    for p in procs:
        ready(p, timeout=120)
    rows = json.loads(broker.ward("ps", "--json").stdout)
    assert len([r for r in rows if r["name"].startswith("e")]) == 64
    for i in range(64):
        assert broker.ward("msg", "send", f"e{i}", f"to-{i}").returncode == 0
    for i, p in enumerate(procs):
        rc, out, _ = finish(p, timeout=60)
        assert rc == 0 and f"message (host) to-{i}" in out, out


def test_prefetched_messages_arrive_in_order(broker, bhelpers, spawned):
    """A receiver with prefetch gets several messages per record from the
    broker (WARD_RECV_F_BATCH); libward-client hands them out one by one,
    in order, none lost, also across a full mailbox (back-pressure)."""
    em = f"{bhelpers}/envtool"
    broker.start("--queue-depth", "64")
    rx = start(spawned, broker, bhelpers, "rx", ["ipc.recv"], [em, "recv-seq", "3000", "200"])
    ready(rx)
    r = run(broker, bhelpers, "tx", ["ipc.send=rx"], [em, "send-seq", "rx", "3000"])
    assert r.returncode == 0, r
    rc, out, err = finish(rx, timeout=60)
    assert rc == 0 and "in order 3000" in out, (out, err)


def batched(b, helpers, name, allow, argv, n):
    """ward run arguments of an environment whose client gathers n
    pipelined sends to a record (ward_set_send_batch)."""
    a = b.run_args(name, allow, argv, helpers)
    return a[:1] + ["-e", f"WARD_SEND_BATCH={n}"] + a[1:]


@pytest.mark.parametrize("n", [2, 64])
def test_gathered_sends_arrive_in_order(broker, bhelpers, spawned, n):
    """ward_set_send_batch: pipelined sends leave in records of up to n,
    the last one (3001 is no multiple of n) with ward_flush; the receiver
    gets every message once, in order, also across a full mailbox."""
    em = f"{bhelpers}/envtool"
    broker.start("--queue-depth", "64")
    rx = start(spawned, broker, bhelpers, "rx", ["ipc.recv"], [em, "recv-seq", "3001", "16"])
    ready(rx)
    r = broker.ward(*batched(broker, bhelpers, "tx", ["ipc.send=rx"],
                             [em, "send-seq", "rx", "3001"], n))
    assert r.returncode == 0, r
    rc, out, err = finish(rx, timeout=60)
    assert rc == 0 and "in order 3001" in out, (out, err)


def test_gathered_sends_are_refused_one_by_one(broker, bhelpers, spawned):
    """A record of gathered sends gets no more than each send alone: the
    sends to "secret" (no ipc.send=secret) in the records are refused and
    named, and the denial reaches the sender's supervisor, while the sends
    to rx between them in the same records are delivered, in order."""
    em = f"{bhelpers}/envtool"
    broker.start()
    rx = start(spawned, broker, bhelpers, "rx", ["ipc.recv"], [em, "recv-seq", "100", "16"])
    ready(rx)
    r = broker.ward(*batched(broker, bhelpers, "tx", ["ipc.send=rx"],
                             [em, "send-alternate", "rx", "secret", "100"], 64))
    assert r.returncode == 0, r
    assert "sent 200 first=EACCES missing ipc.send=secret" in r.stdout, r.stdout
    assert "ipc.send=secret" in r.stderr, r.stderr
    rc, out, err = finish(rx, timeout=60)
    assert rc == 0 and "in order 100" in out, (out, err)


def test_gathered_sends_fit_a_small_send_buffer(broker, bhelpers, spawned):
    """A program that made its broker descriptor's send buffer smaller than
    a record (SO_SNDBUF 4096: the kernel refuses a longer packet with
    EMSGSIZE) still gets every gathered send delivered, one by one, and
    its flush succeeds; nothing is lost and nothing hangs."""
    em = f"{bhelpers}/envtool"
    broker.start()
    rx = start(spawned, broker, bhelpers, "rx", ["ipc.recv"], [em, "bench-mb-recv", "500", "64"])
    ready(rx)
    a = batched(broker, bhelpers, "tx", ["ipc.send=rx"], [em, "bench-mb-send", "rx", "500", "600"],
                64)
    r = broker.ward(*(a[:1] + ["-e", "WARD_SNDBUF=4096"] + a[1:]), timeout=60)
    assert r.returncode == 0, r
    rc, out, err = finish(rx, timeout=60)
    assert rc == 0 and "mailbox msgs_per_s=" in out, (out, err)

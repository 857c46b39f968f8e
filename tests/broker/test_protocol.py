# SPDX-License-Identifier: GPL-2.0-or-later
"""The broker's protocol from the raw socket: malformed, oversized and
hostile messages close the sender's connection with a logged reason and
affect nobody else.  The packets of tests/broker/corpus (seeds and fuzzer
findings of tests/fuzz/fuzz_broker.c) are replayed against a live broker."""

import array
import os
import re
import socket

import pytest

from brokerlib import T, bhelpers, broker, decode, packet, request, wait_for  # noqa: F401

CORPUS = os.path.join(os.path.dirname(os.path.realpath(__file__)), "corpus")
# Requests an environment may make: answered (here: refused), never a close.
ANSWERED = {"valid-send", "valid-recv-wait", "valid-open", "valid-register",
            "valid-send-record"}


def alive(sock):
    t, _, attrs = request(sock, packet("HELLO", 99))
    return t == T["OK"]


def closed(sock, timeout=5):
    sock.settimeout(timeout)
    try:
        return sock.recv(1 << 18) == b""
    except ConnectionResetError:
        return True


# seq-* are scripts of requests over several connections for the fuzz
# target (tests/fuzz/fuzz_broker.c), not single packets.
@pytest.mark.parametrize("name", sorted(n for n in os.listdir(CORPUS) if not n.startswith("seq-")))
def test_corpus_input(broker, name):
    broker.start()
    _, bystander = broker.register("bystander", ["ipc.recv"])
    ctl, env = broker.register("fuzzed")
    with open(os.path.join(CORPUS, name), "rb") as f:
        data = f.read()
    env.settimeout(5)
    env.send(data)
    if name in ANSWERED:
        # One ERROR per request (a record holds several).
        for _ in split_record(data):
            ans = env.recv(1 << 18)
            assert ans, name
            t, _, _ = decode(ans)
            assert t == T["ERROR"]
        assert alive(env)
    else:
        assert closed(env), name
        assert wait_for(lambda: 'environment "fuzzed"' in broker.log() and
                        "left: " in broker.log())
    assert alive(bystander)
    ctl.close()


def test_oversized_message_closes_only_that_connection(broker):
    broker.start()
    _, other = broker.register("other", ["ipc.recv"])
    _, env = broker.register("big", ["ipc.send=other"])
    env.send(packet("SEND", 1, ("NAME", "other"), ("DATA", b"x" * 100000)))
    assert closed(env)
    assert wait_for(lambda: "oversized message" in broker.log())
    assert alive(other)


def test_descriptors_sent_to_the_broker_are_refused(broker):
    broker.start()
    _, env = broker.register("fdsender")
    r, w = os.pipe()
    env.sendmsg([packet("HELLO", 1)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                        array.array("i", [r]))])
    os.close(r)
    os.close(w)
    assert closed(env)
    assert wait_for(lambda: "sent descriptors to the broker" in broker.log())


def test_environment_cannot_register_or_list(broker):
    broker.start()
    _, env = broker.register("plain")
    for req in (packet("REGISTER", 5, ("NAME", "evil")), packet("PS", 6)):
        t, mid, attrs = request(env, req)
        assert t == T["ERROR"] and attrs["CODE"] == [1]  # EPERM
        assert "only the operator" in attrs["TEXT"][0]
    assert alive(env)


def test_identity_is_the_descriptor_not_a_claimed_name(broker):
    """A FROM or NAME inside a request does not change who is asking."""
    broker.start()
    _, db = broker.register("db", ["ipc.recv"])
    _, admin = broker.register("admin", ["ipc.send=db"])
    _, mallory = broker.register("mallory")
    t, _, attrs = request(mallory, packet("SEND", 1, ("NAME", "db"), ("DATA", b"x"),
                                          ("FROM", "admin")))
    assert t == T["ERROR"] and "ipc.send=db" in attrs["ENT"]
    t, _, _ = request(admin, packet("SEND", 2, ("NAME", "db"), ("DATA", b"y")))
    assert t == T["OK"]
    db.settimeout(5)
    db.send(packet("RECV", 3, ("FLAGS", 1)))
    t, _, attrs = decode(db.recv(1 << 18))
    assert t == T["MESSAGE"] and attrs["FROM"] == ["admin"] and attrs["DATA"] == [b"y"]


def test_pipelined_sends_are_acknowledged_in_one_answer(broker):
    broker.start()
    _, db = broker.register("db", ["ipc.recv"])
    _, s = broker.register("s", ["ipc.send=db"])
    for i in range(1, 11):
        s.send(packet("SEND", i, ("NAME", "db"), ("DATA", b"m")))
    s.settimeout(5)
    acked = 0
    while acked < 10:
        t, mid, attrs = decode(s.recv(1 << 18))
        assert t == T["OK"]
        acked += attrs.get("COUNT", [1])[0]
        assert mid == acked
    ps = broker.ward("ps", "--json").stdout
    assert '"depth": 10' in ps


def split_record(rec):
    """The packets of one record, each decoded."""
    out, off = [], 0
    while off < len(rec):
        plen = int.from_bytes(rec[off + 8:off + 12], "little")
        out.append(decode(rec[off:off + 12 + plen]))
        off += 12 + plen
    return out


@pytest.mark.parametrize("batch", [False, True])
def test_several_messages_share_a_record_only_when_the_receiver_asks(broker, batch):
    """WARD_RECV_F_BATCH (2): the broker may write queued MESSAGE packets
    back to back in one record.  A receiver that did not ask (an older
    client, or one that reads packet by packet) gets one packet per record,
    as before; one that asked gets them in order, none lost."""
    broker.start()
    _, db = broker.register("db", ["ipc.recv"])
    _, s = broker.register("s", ["ipc.send=db"])
    for i in range(1, 6):
        s.send(packet("SEND", i, ("NAME", "db"), ("DATA", f"m{i}".encode())))
    s.settimeout(5)
    acked = 0
    while acked < 5:
        t, _, attrs = decode(s.recv(1 << 18))
        assert t == T["OK"]
        acked += attrs.get("COUNT", [1])[0]
    db.settimeout(5)
    db.send(packet("RECV", 7, ("FLAGS", 1 | (2 if batch else 0)), ("COUNT", 5)))
    got, records = [], 0
    while len(got) < 5:
        packets = split_record(db.recv(1 << 18))
        assert batch or len(packets) == 1, packets
        got += packets
        records += 1
    # Queued together, pumped in one round: one record when asked for.
    assert records == (1 if batch else 5)
    assert [p[0] for p in got] == [T["MESSAGE"]] * 5
    assert [p[2]["DATA"][0] for p in got] == [f"m{i}".encode() for i in range(1, 6)]
    assert all(p[2]["FROM"] == ["s"] for p in got)
    # Nothing more: five credits, five messages.
    db.settimeout(0.3)
    with pytest.raises(socket.timeout):
        db.recv(1 << 18)


def send_record(sock, first_id, n, name="db", extra=()):
    """n SEND packets back to back in one record, ids first_id.. ."""
    rec = b"".join(packet("SEND", first_id + i, ("NAME", name), ("DATA", f"r{i}".encode()))
                   for i in range(n))
    for pkt in extra:
        rec += pkt
    sock.send(rec)


def test_a_record_of_sends_is_handled_as_the_sends_alone(broker):
    """An environment may write pipelined SENDs back to back in one record
    (ward_set_send_batch): each is checked and answered as if it had come
    alone; refused ones get their own ERROR, in order."""
    broker.start()
    _, db = broker.register("db", ["ipc.recv"])
    _, s = broker.register("s", ["ipc.send=db"])
    rec = b"".join([packet("SEND", 1, ("NAME", "db"), ("DATA", b"a")),
                    packet("SEND", 2, ("NAME", "db"), ("DATA", b"b")),
                    packet("SEND", 3, ("NAME", "secret"), ("DATA", b"c")),
                    packet("SEND", 4, ("NAME", "db"), ("DATA", b"d"))])
    s.send(rec)
    s.settimeout(5)
    answers = []
    while sum(a[2].get("COUNT", [1])[0] for a in answers) < 4:
        answers += split_record(s.recv(1 << 18))
    # 1 and 2 acknowledged together, 3 refused naming what it lacked, 4.
    assert [(t, mid) for t, mid, _ in answers] == [(T["OK"], 2), (T["ERROR"], 3), (T["OK"], 4)]
    assert answers[0][2]["COUNT"] == [2]
    assert answers[1][2]["ENT"] == ["ipc.send=secret"]
    db.settimeout(5)
    db.send(packet("RECV", 9, ("FLAGS", 1 | 2), ("COUNT", 8)))
    got = []
    while len(got) < 3:
        got += split_record(db.recv(1 << 18))
    assert [p[2]["DATA"][0] for p in got] == [b"a", b"b", b"d"]
    assert alive(s)


@pytest.mark.parametrize("case,reason", [
    ("not-a-send", "a record holds something other than SEND requests"),
    ("too-many", "a record of more than 64 requests"),
    ("cut-short", "malformed record: a packet's length runs past its end"),
    ("bad-packet", "malformed message in a record"),
])
def test_a_hostile_record_closes_only_that_connection(broker, case, reason):
    """What a record may hold is narrow: SEND requests, at most 64, each a
    whole well-formed packet.  Anything else closes the sender's connection
    (with the reason in the log) before the broker acts on any of it; the
    receiver and other environments are not affected."""
    broker.start()
    _, db = broker.register("db", ["ipc.recv"])
    _, other = broker.register("other", ["ipc.send=db"])
    _, s = broker.register("s", ["ipc.send=db", "ipc.recv"])
    one = packet("SEND", 1, ("NAME", "db"), ("DATA", b"x"))
    if case == "not-a-send":
        rec = one + packet("CONNECT", 2, ("NAME", "svc")) + one
    elif case == "too-many":
        rec = b"".join(packet("SEND", i, ("NAME", "db"), ("DATA", b"x")) for i in range(1, 66))
    elif case == "cut-short":
        rec = one + one[:-3]
    else:
        rec = one + packet("SEND", 2, ("NAME", "db"), ("DATA", b"x"), version=7)
    s.send(rec)
    assert closed(s)
    assert wait_for(lambda: reason in broker.log()), broker.log()
    assert alive(other) and alive(db)
    t, _, _ = request(other, packet("SEND", 5, ("NAME", "db"), ("DATA", b"fine")))
    assert t == T["OK"]
    # Nothing of the refused record was delivered.
    db.settimeout(5)
    db.send(packet("RECV", 9, ("FLAGS", 1), ("COUNT", 1)))
    t, _, attrs = decode(db.recv(1 << 18))
    assert t == T["MESSAGE"] and attrs["DATA"] == [b"fine"]


def test_a_send_that_fits_does_not_overtake_a_parked_one(broker):
    """A mailbox 200 bytes short of its 4 MiB: one sender's record holds a
    1000-byte send that waits for room (WARD_SEND_F_WAIT) and then a small
    one that would fit.  The small one waits behind the first, so the
    receiver gets them in the order they were sent (a send that fits never
    passes senders already waiting for room)."""
    broker.start()
    _, db = broker.register("db", ["ipc.recv"])
    _, f = broker.register("f", ["ipc.send=db"])
    _, s = broker.register("s", ["ipc.send=db"])
    for i in range(63):
        assert request(f, packet("SEND", i + 1, ("NAME", "db"), ("DATA", b"F" * 65536)))[0] == T["OK"]
    assert request(f, packet("SEND", 99, ("NAME", "db"),
                             ("DATA", b"F" * (65536 - 200))))[0] == T["OK"]
    s.send(packet("SEND", 1, ("NAME", "db"), ("DATA", b"B" * 1000), ("FLAGS", 1)) +
           packet("SEND", 2, ("NAME", "db"), ("DATA", b"small"), ("FLAGS", 1)))
    # Answered after the record: both sends of it are parked by now.
    t, mid, _ = request(s, packet("HELLO", 3))
    assert (t, mid) == (T["OK"], 3)
    # A send without WAIT is refused meanwhile, saying why.
    t, _, attrs = request(f, packet("SEND", 100, ("NAME", "db"), ("DATA", b"x")))
    assert t == T["ERROR"] and attrs["CODE"] == [11]  # EAGAIN
    assert "senders are waiting for room" in attrs["TEXT"][0]
    db.settimeout(5)
    db.send(packet("RECV", 9, ("FLAGS", 1 | 2), ("COUNT", 100)))
    order = []
    while len(order) < 66:
        for _, _, a in split_record(db.recv(1 << 18)):
            d = a["DATA"][0]
            order.append(d[:1].decode() + str(len(d)))
    assert order[64:] == ["B1000", "s5"], order[64:]
    # Both were acknowledged, in order.
    s.settimeout(5)
    acked = []
    while sum(a[2].get("COUNT", [1])[0] for a in acked) < 2:
        acked += split_record(s.recv(1 << 18))
    assert [(t, mid) for t, mid, _ in acked] in ([(T["OK"], 1), (T["OK"], 2)], [(T["OK"], 2)])


def test_records_keep_to_the_requests_per_event(broker):
    """An environment that writes records of 64 SENDs gets no more of the
    broker's work per event than one that writes single packets (128
    requests): once it has written a record, the broker reads at most two
    of its records at a time.  Seen from the broker's system calls."""
    import shutil
    import signal as sig
    import subprocess
    import time
    if shutil.which("strace") is None:
        pytest.skip("strace is missing")
    broker.start()
    _, s = broker.register("s", [])  # no ipc.send: every send is refused
    rec = b"".join(packet("SEND", i + 1, ("NAME", "nope"), ("DATA", b"")) for i in range(64))
    # The first record: the broker learns that s writes records.
    s.send(rec)
    s.settimeout(5)
    got = 0
    while got < 64:
        got += len(split_record(s.recv(1 << 18)))
    pid = broker.pid()
    os.kill(pid, sig.SIGSTOP)
    try:
        trace = os.path.join(broker.dir, "strace.out")
        st = subprocess.Popen(["strace", "-e", "trace=recvmmsg", "-o", trace, "-p", str(pid)],
                              stderr=subprocess.DEVNULL)
        # Attached when the broker's TracerPid is strace's.
        deadline = time.time() + 10
        while time.time() < deadline:
            with open(f"/proc/{pid}/status") as f:
                if f"TracerPid:\t{st.pid}\n" in f.read():
                    break
            time.sleep(0.02)
        time.sleep(0.5)  # and has set its options
        s.setblocking(False)
        sent = 0
        try:
            while sent < 40:
                s.send(rec)
                sent += 1
        except BlockingIOError:
            pass
    finally:
        os.kill(pid, sig.SIGCONT)
    # Read the refusals so the broker keeps reading.
    s.settimeout(5)
    want, got = 64 * sent, 0
    while got < want:
        got += len(split_record(s.recv(1 << 18)))
    time.sleep(0.3)
    st.terminate()
    st.wait()
    calls = [ln for ln in open(trace).read().splitlines() if ln.startswith("recvmmsg(")]
    # recvmmsg(FD, [...], VLEN, MSG_DONTWAIT, NULL) = N: the VLEN asked for
    asked = [int(re.search(r"\], (\d+), MSG_DONTWAIT", ln).group(1)) for ln in calls]
    assert sent >= 4 and asked, (sent, calls[:5])
    assert max(asked) <= 2, calls[:10]

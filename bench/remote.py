#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/remote.py: mailboxes across hosts (docs/remote.md) against
rabbitmq-c used directly, in the same run, through one private RabbitMQ
node (tests/broker/mqlib.py starts it on ports of 45000-45999 and stops it).

  remote   environment on host a -> broker a (signs) -> ward-mq -> RabbitMQ
           -> ward-mq -> broker b (verifies, checks) -> environment on host b:
           pipelined ward_send_async, receiver with prefetch 256
  direct   bench/mqdirect.c: the same sizes, persistent, publisher confirms
           (1024 in flight, and 256: what libward-client pipelines, each send
           answered only once RabbitMQ confirmed it), manual acks (prefetch
           256); no signing, no ward
  local    the same environments through one broker's mailbox

and round trips (ward_send + ward_recv each way; each send answered when
RabbitMQ confirmed it) against mqdirect ping/pong.  Goal: remote >= 0.5x
direct messages per second.

Environment: WARD (build/src/ward), BENCH_MQ_MSGS (20000), BENCH_MQ_RTT
(500), BENCH_MQ_SIZES ("64 4096").
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
WARD = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("WARD", f"{ROOT}/build/src/ward")
os.environ["WARD"] = WARD
sys.path[:0] = [f"{ROOT}/tests", f"{ROOT}/tests/broker"]
import mqlib  # noqa: E402

N = int(os.environ.get("BENCH_MQ_MSGS", "20000"))
RTT = int(os.environ.get("BENCH_MQ_RTT", "500"))
SIZES = [int(s) for s in os.environ.get("BENCH_MQ_SIZES", "64 4096").split()]


def build(t):
    flags = ["-std=gnu11", "-O2", "-static", f"-I{ROOT}/client/include", f"-I{ROOT}/lib"]
    subprocess.run(["cc"] + flags + ["-o", f"{t}/envtool", f"{ROOT}/tests/broker/envtool.c",
                                     f"{ROOT}/client/client.c", f"{ROOT}/lib/broker/proto.c",
                                     f"{ROOT}/lib/broker/wire.c"], check=True)
    subprocess.run(["cc", "-std=gnu11", "-O2", "-o", f"{t}/mqdirect",
                    f"{ROOT}/bench/mqdirect.c", "-lrabbitmq"], check=True)


def envrun(h, t, name, allow, args, **kw):
    a = [WARD, "run", "-q", "--name", name, "-a", f"fs.exec={t}"]
    for e in allow:
        a += ["-a", e]
    return subprocess.Popen(a + ["--", f"{t}/envtool"] + args, env=h.env, text=True,
                            stdout=subprocess.PIPE, **kw)


def pair(recv_h, send_h, t, to, size):
    r = envrun(recv_h, t, "mbrecv", ["ipc.recv"], ["bench-mb-recv", str(N), "256"])
    assert r.stdout.readline().strip() == "ready"
    s = envrun(send_h, t, "mbsend", [f"ipc.send={to}"], ["bench-mb-send", to, str(N), str(size)])
    s.wait(timeout=3600)
    out = r.communicate(timeout=3600)[0]
    return float(re.search(r"msgs_per_s=(\d+)", out)[1])


def direct(rmq, t, size, window=1024):
    url = f"amqp://ward-admin:{rmq.users['a'][1]}@127.0.0.1:{rmq.port}/"
    r = subprocess.Popen([f"{t}/mqdirect", "recv", url, "bench.direct", str(N)],
                         stdout=subprocess.PIPE, text=True)
    assert r.stdout.readline().strip() == "ready"
    subprocess.run([f"{t}/mqdirect", "send", url, "bench.direct", str(N), str(size), str(window)],
                   check=True, timeout=3600)
    out = r.communicate(timeout=3600)[0]
    return float(re.search(r"msgs_per_s=(\d+)", out)[1])


def rtt_remote(a, b, t):
    pong = envrun(b, t, "pong", ["ipc.recv", "ipc.send=ping@a"], ["bench-mb-pong", "ping@a", str(RTT)])
    assert pong.stdout.readline().strip() == "ready"
    ping = envrun(a, t, "ping", ["ipc.recv", "ipc.send=pong@b"], ["bench-mb-ping", "pong@b", str(RTT)])
    out = ping.communicate(timeout=3600)[0]
    pong.wait(timeout=60)
    return re.search(r"p50_us=(\d+).*p99_us=(\d+)", out).groups()


def rtt_direct(rmq, t):
    url = f"amqp://ward-admin:{rmq.users['a'][1]}@127.0.0.1:{rmq.port}/"
    pong = subprocess.Popen([f"{t}/mqdirect", "pong", url, str(RTT)], stdout=subprocess.PIPE,
                            text=True)
    assert pong.stdout.readline().strip() == "ready"
    out = subprocess.run([f"{t}/mqdirect", "ping", url, str(RTT)], capture_output=True,
                         text=True, check=True, timeout=3600).stdout
    pong.wait(timeout=60)
    return re.search(r"p50_us=(\d+).*p99_us=(\d+)", out).groups()


def main():
    if os.geteuid() != 0:
        sys.exit("bench/remote.py: run as root")
    t = tempfile.mkdtemp(prefix="wardbench-remote.", dir="/var/tmp")
    os.chmod(t, 0o755)
    rmq = mqlib.RabbitMQ()
    hosts = []
    try:
        build(t)
        try:
            rmq.start()
        except BaseException as e:  # pytest.skip outside pytest
            print(f"bench/remote.py: skipped: {e}")
            return 0
        mqlib.make_keys(os.environ, t, "a", "b")
        a, b = mqlib.Host("a", rmq, t), mqlib.Host("b", rmq, t)
        hosts = [a, b]
        a.peers["b"], b.peers["a"] = f"{t}/host-b.pub", f"{t}/host-a.pub"
        a.allow["b"] = ["ping"]
        b.allow["a"] = ["mbrecv", "pong"]
        a.start()
        b.start()
        assert a.link_up() and b.link_up(), a.ps() + b.ps()
        print(f"{'':24}{'msgs/s':>10}  {'x direct':>8}")
        for size in SIZES:
            d = direct(rmq, t, size)
            d256 = direct(rmq, t, size, 256)
            r = pair(b, a, t, "mbrecv@b", size)
            loc = pair(a, a, t, "mbrecv", size)
            print(f"{'direct rabbitmq-c ' + str(size) + ' B':24}{d:>10.0f}  {1.0:>8.2f}")
            print(f"{'  256 unconfirmed':24}{d256:>10.0f}  {d256 / d:>8.2f}"
                  "   (the client library's window of pipelined sends)")
            print(f"{'remote mailbox ' + str(size) + ' B':24}{r:>10.0f}  {r / d:>8.2f}"
                  f"   (goal >= 0.50; {r / d256:.2f}x direct at 256)")
            print(f"{'local mailbox ' + str(size) + ' B':24}{loc:>10.0f}  {loc / d:>8.2f}")
        dp50, dp99 = rtt_direct(rmq, t)
        rp50, rp99 = rtt_remote(a, b, t)
        print(f"round trip 64 B, p50/p99 us: direct {dp50}/{dp99}, remote mailbox {rp50}/{rp99}")
        return 0
    finally:
        for h in hosts:
            h.close()
        rmq.close()
        shutil.rmtree(t, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

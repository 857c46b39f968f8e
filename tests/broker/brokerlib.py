# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures and helpers for the broker tests (docs/broker.md), imported by
the test modules (a conftest.py here would clash with tests/conftest.py).

Each test gets its own broker directory (WARD_STATE_DIR) under /var/tmp, so
no test touches /run/ward or another test's broker, and the broker a test
started (on demand, through ward run) is stopped afterwards, also on
failure: `ward broker --stop`, then SIGKILL by its pid file.

Every broker runs with glibc's MALLOC_PERTURB_ and without its thread
cache, so that memory read after it was freed shows up as 0xa5 bytes (in
the log, for instance) instead of passing silently.

WARD_BROKER_DAEMON=<a ward built with ASan+UBSan> (build-asan/src/ward;
scripts/check.py's "broker-asan" session) runs the daemon itself from that
binary: each test's broker is started from it before the test (and again by
Broker.start() with the test's options), the sanitizers write their reports
into the broker directory, and a test whose broker reported anything
(including leaks at exit) fails at teardown.  ward run, ward ps and the
programs inside environments stay the normal build.

The programs that run inside environments (envtool, ward-msg) are linked
statically with libward-client.  They come from WARD_BROKER_HELPERS (the
meson build's tests/broker directory) when set, or are compiled here once
per session with cc.
"""

import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest

from conftest import WARD, run_ward, read_line  # noqa: F401  (tests/conftest.py)

DAEMON = os.environ.get("WARD_BROKER_DAEMON")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))


def _build_helpers(out):
    srcs = [os.path.join(REPO, p) for p in
            ("client/client.c", "lib/broker/proto.c", "lib/broker/wire.c")]
    flags = ["-std=gnu11", "-O2", "-static", "-I" + os.path.join(REPO, "client/include"),
             "-I" + os.path.join(REPO, "lib")]
    for name, main in (("envtool", "tests/broker/envtool.c"), ("ward-msg", "client/ward-msg.c")):
        subprocess.run(["cc"] + flags + ["-o", os.path.join(out, name),
                                         os.path.join(REPO, main)] + srcs, check=True)


@pytest.fixture(scope="session")
def bhelpers():
    """Directory holding envtool and ward-msg (static)."""
    given = os.environ.get("WARD_BROKER_HELPERS")
    if given and os.access(os.path.join(given, "envtool"), os.X_OK):
        yield os.path.realpath(given)
        return
    d = os.path.realpath(tempfile.mkdtemp(prefix="ward-bh-", dir="/var/tmp"))
    os.chmod(d, 0o755)
    try:
        _build_helpers(d)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- protocol

HDR = struct.Struct("<HHII")
ATTR = struct.Struct("<HHI")
T = dict(HELLO=1, SEND=2, RECV=3, LOOKUP=4, CONNECT=5, PROVIDE=6, OPEN=7, REGISTER=16, PS=17,
         OK=32, ERROR=33, MESSAGE=34, UNDELIVERED=35, ENTRY=36, CONN=37, DENIED=38)
A = dict(NAME=1, DATA=2, CODE=3, TEXT=4, FLAGS=5, PATH=6, FROM=7, ENT=8, PID=9, DEPTH=10,
         LIMIT=11, COUNT=12, SERVICE=13)


def hexpkt(*a, **kw):
    """packet() as envtool raw takes it."""
    return packet(*a, **kw).hex()


def attr(tag, value):
    if isinstance(value, int):
        value = struct.pack("<I", value)
    elif isinstance(value, str):
        value = value.encode()
    return ATTR.pack(A[tag] if isinstance(tag, str) else tag, 0, len(value)) + value


def packet(mtype, mid=1, *attrs, version=1, length=None):
    payload = b"".join(attr(t, v) for t, v in attrs)
    t = T[mtype] if isinstance(mtype, str) else mtype
    return HDR.pack(version, t, mid, len(payload) if length is None else length) + payload


def decode(buf):
    """(type, id, {tag: [values]}) of a broker packet."""
    v, t, mid, plen = HDR.unpack_from(buf)
    assert v == 1 and plen == len(buf) - HDR.size
    out, off = {}, HDR.size
    names = {n: k for k, n in A.items()}
    while off < len(buf):
        tag, _, alen = ATTR.unpack_from(buf, off)
        off += ATTR.size
        val = buf[off:off + alen]
        off += alen
        k = names[tag]
        if k in ("CODE", "FLAGS", "PID", "DEPTH", "LIMIT", "COUNT"):
            val = struct.unpack("<I", val)[0]
        elif k != "DATA":
            val = val.decode()
        out.setdefault(k, []).append(val)
    return t, mid, out


class Broker:
    """One broker directory and what runs against it."""

    def __init__(self, d):
        self.dir = d
        self.env = dict(os.environ)
        self.env["WARD_STATE_DIR"] = d
        # A use after free reads 0xa5 bytes, not the old contents.
        self.env["MALLOC_PERTURB_"] = "165"
        self.env["GLIBC_TUNABLES"] = "glibc.malloc.tcache_count=0"
        if DAEMON:
            san = f"log_path={d}/sanitizer:print_stacktrace=1"
            self.env["ASAN_OPTIONS"] = san + ":detect_leaks=1:abort_on_error=0"
            self.env["UBSAN_OPTIONS"] = san + ":halt_on_error=1"

    def ward(self, *args, **kw):
        kw.setdefault("env", self.env)
        return run_ward(*args, **kw)

    def run_args(self, name, allow, argv, helpers):
        a = ["run", "-q"]
        if name:
            a += ["--name", name]
        for e in [f"fs.exec={helpers}"] + list(allow):
            a += ["-a", e]
        return a + ["--"] + [str(x) for x in argv]

    def pid(self):
        try:
            with open(os.path.join(self.dir, "broker.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def log(self):
        try:
            with open(os.path.join(self.dir, "broker.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def start(self, *extra):
        if DAEMON:
            # The one started before the test, with no options: replaced.
            self.stop()
            r = subprocess.run([DAEMON, "broker", "--state-dir", self.dir, *extra],
                               env=self.env, capture_output=True, text=True, timeout=60)
        else:
            r = self.ward("broker", "--state-dir", self.dir, *extra)
        assert r.returncode == 0, r
        return self.pid()

    def stop(self):
        pid = self.pid()
        try:
            run_ward("broker", "--stop", "--state-dir", self.dir, env=self.env, timeout=60)
        except (OSError, subprocess.SubprocessError):
            pass  # ended by its pid below, whatever --stop could do
        if pid and os.path.exists(f"/proc/{pid}"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"broker" in f.read():
                        os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        # Gone for good (its sanitizer reports are written at exit).  The
        # daemon's parent is the host's init, which may reap it late: a
        # zombie has exited.
        wait_for(lambda: pid is None or exited(pid), timeout=30)

    def sanitizer_reports(self):
        """What the sanitizers of an ASan daemon reported (WARD_BROKER_DAEMON)."""
        out = []
        for n in sorted(os.listdir(self.dir)):
            if n.startswith("sanitizer"):
                with open(os.path.join(self.dir, n), errors="replace") as f:
                    out.append(f.read())
        return "".join(out)

    # -- raw protocol, as the operator (control socket) --
    def control(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(os.path.join(self.dir, "broker.sock"))
        return s

    def register(self, name, ents=()):
        """Register an environment without a sandbox: (control socket, env socket)."""
        ctl = self.control()
        ctl.send(packet("REGISTER", 1, ("NAME", name), ("PID", os.getpid()),
                        *[("ENT", e) for e in ents]))
        msg, fds, _, _ = socket.recv_fds(ctl, 1 << 18, 1)
        t, _, attrs = decode(msg)
        assert t == T["OK"] and fds, (t, attrs)
        return ctl, socket.socket(fileno=fds[0])


def request(sock, pkt, timeout=5):
    """Send pkt on an environment socket and return the decoded answer, or
    None when the broker closed the connection."""
    sock.settimeout(timeout)
    sock.send(pkt)
    data = sock.recv(1 << 18)
    if not data:
        return None
    return decode(data)


@pytest.fixture
def broker():
    d = os.path.realpath(tempfile.mkdtemp(prefix="wb-", dir="/var/tmp"))
    os.chmod(d, 0o755)
    b = Broker(d)
    try:
        if DAEMON:
            b.start()
        yield b
    finally:
        b.stop()
        reports = b.sanitizer_reports()
        shutil.rmtree(d, ignore_errors=True)
        if reports:
            pytest.fail("the broker's sanitizers reported:\n" + reports[-8000:])


def exited(pid):
    """The process has exited (gone, or a zombie its parent has not reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2:].startswith("Z")


def wait_for(pred, timeout=10, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()

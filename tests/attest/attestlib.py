# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures and helpers for the measured-launch and attestation tests
(docs/attestation.md), imported by the test modules of tests/attest (a
conftest.py here would clash with tests/conftest.py, whose fixtures these
tests use).

Every test gets its own host: a directory under /var/tmp holding ward's
state directory (--state-dir and WARD_STATE_DIR, so the broker a test
starts is its own), the software host key (--key, never
/var/lib/ward/attest), and, for the TPM tests, a software TPM: swtpm
started per test in the foreground on its own TCP ports (44000-44999,
server and control), with its state in that directory and
`--flags not-need-init,startup-clear`.  At the end, also after a failure,
the broker is stopped (`ward broker --stop`, then SIGKILL by its pid file),
swtpm is stopped by its pid (SIGTERM, then SIGKILL), and the directory is
removed.

A TPM is reached by ward through WARD_TCTI (or --tcti) and by tpm2-tools
through TPM2TOOLS_TCTI, both "swtpm:host=127.0.0.1,port=P".
"""

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import HELPERS, WARD, run_ward  # noqa: F401  (tests/conftest.py)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
BROKER_HELPERS = os.path.realpath(
    os.environ.get("WARD_BROKER_HELPERS", os.path.join(REPO, "build", "tests", "broker")))
WARD_MSG = os.path.join(BROKER_HELPERS, "ward-msg")
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
PORT_FIRST, PORT_LAST = 44000, 44999

SWTPM = shutil.which("swtpm")
TPM2_TOOLS = shutil.which("tpm2_checkquote") and shutil.which("tpm2_pcrread")
WARD_TPM = os.path.join(os.path.dirname(WARD), "ward-tpm")

needs_swtpm = pytest.mark.skipif(
    not (SWTPM and TPM2_TOOLS and os.access(WARD_TPM, os.X_OK)),
    reason="swtpm, tpm2-tools or ward-tpm missing (scripts/deps.sh; libtss2-dev for ward-tpm)")


def _port_free(port):
    for p in (port, port + 1):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", p))
        except OSError:
            return False
        finally:
            s.close()
    return True


class SwTPM:
    """One swtpm process, in the foreground, stopped by its pid."""

    def __init__(self, d):
        self.dir = os.path.join(d, "swtpm")
        os.makedirs(self.dir)
        self.proc = None
        self.port = None
        # Start where this process's pid points, so that two sessions (or a
        # leftover from a killed one) rarely race for a port.
        span = (PORT_LAST - PORT_FIRST) // 2
        first = (os.getpid() * 7) % span
        for i in range(span):
            port = PORT_FIRST + 2 * ((first + i) % span)
            if _port_free(port) and self._start(port):
                return
        raise RuntimeError("no free port pair for swtpm in 44000-44999")

    def _start(self, port):
        self.proc = subprocess.Popen(
            [SWTPM, "socket", "--tpm2", "--tpmstate", f"dir={self.dir}",
             "--server", f"type=tcp,port={port},bindaddr=127.0.0.1",
             "--ctrl", f"type=tcp,port={port + 1},bindaddr=127.0.0.1",
             "--flags", "not-need-init,startup-clear"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:  # lost a race for the port
                self.proc = None
                return False
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                self.port = port
                return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        return False

    @property
    def tcti(self):
        return f"swtpm:host=127.0.0.1,port={self.port}"

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self.proc.stderr.close()
        self.proc = None

    def tools(self, *args, check=True):
        """A tpm2-tools command against this TPM."""
        env = dict(os.environ, TPM2TOOLS_TCTI=self.tcti)
        r = subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=60)
        assert not check or r.returncode == 0, (args, r.stdout, r.stderr)
        return r

    def pcr(self, index=23):
        out = self.tools("tpm2_pcrread", f"sha256:{index}").stdout
        m = re.search(rf"^\s*{index}\s*:\s*0x([0-9A-Fa-f]{{64}})\s*$", out, re.M)
        assert m, out
        return m.group(1).lower()


# ------------------------------------------------------- the log, independently

RECORD = re.compile(rb"event (0|[1-9][0-9]*) (log|launch) sha256:([0-9a-f]{64}) ([1-9][0-9]*)\n")


def parse_log(data):
    """The log as docs/attestation.md describes it, parsed here without
    ward: [(seq, type, digest hex, body bytes)]."""
    out, off = [], 0
    while off < len(data):
        m = RECORD.match(data, off)
        assert m, f"not a record at offset {off}: {data[off:off + 80]!r}"
        body = data[m.end():m.end() + int(m.group(4))]
        assert len(body) == int(m.group(4)), "torn record"
        assert hashlib.sha256(body).hexdigest() == m.group(3).decode()
        out.append((int(m.group(1)), m.group(2).decode(), m.group(3).decode(), body))
        off = m.end() + len(body)
    return out


def replay(events):
    """PCR = SHA-256(PCR || digest) from zeros, as TPM2_PCR_Extend."""
    v = bytes(32)
    for _, _, d, _ in events:
        v = hashlib.sha256(v + bytes.fromhex(d)).digest()
    return v.hex()


def record(seq, body, kind="launch"):
    return (f"event {seq} {kind} sha256:{hashlib.sha256(body).hexdigest()} {len(body)}\n"
            .encode() + body)


def nonce():
    return os.urandom(20).hex()


# ------------------------------------------------------- a host

class Host:
    """A test's ward state, keys and (maybe) TPM."""

    def __init__(self, d, tpm):
        self.dir = d
        self.state = os.path.join(d, "state")
        self.key = os.path.join(d, "host.key")
        self.tpm = tpm
        self.env = dict(os.environ, WARD_STATE_DIR=self.state,
                        WARD_TRUST=os.path.join(d, "trust"),
                        WARD_TCTI=tpm.tcti if tpm else "none")
        self.ak = os.path.join(d, "ak.pub")
        self.broker_started = False

    def p(self, *names):
        return os.path.join(self.dir, *names)

    @property
    def attest_dir(self):
        return os.path.join(self.state, "attest")

    @property
    def log_path(self):
        return os.path.join(self.attest_dir, "log")

    def ward(self, *args, **kw):
        kw.setdefault("env", self.env)
        kw.setdefault("timeout", 120)
        return run_ward(*args, **kw)

    def ok(self, *args, **kw):
        r = self.ward(*args, **kw)
        assert r.returncode == 0, r
        return r

    def init(self, *extra):
        return self.ok("attest", "init", "--state-dir", self.state, "--out", self.p("ak"),
                       "--key", self.key, *extra)

    def run(self, *args, **kw):
        """ward run with this host's state (measured when it is a bundle or
        asked to be)."""
        return self.ward("run", "-q", "--state-dir", self.state, *args, **kw)

    def measure(self, *argv, extra=()):
        r = self.run("--measure", *extra, "--", *argv)
        assert r.returncode == 0, r
        return r

    def quote(self, n, out, *extra):
        return self.ward("attest", "quote", "--state-dir", self.state, "--nonce", n, "--out",
                         out, *extra)

    def verify(self, n, qdir, *extra, ak=None):
        return self.ward("attest", "verify", "--ak", ak or self.ak, "--nonce", n, "--quote",
                         qdir, *extra)

    def log(self):
        with open(self.log_path, "rb") as f:
            return parse_log(f.read())

    # -- bundles (docs/bundles.md)
    def rootfs(self):
        root = self.p("root")
        if not os.path.isdir(root):
            os.makedirs(os.path.join(root, "bin"))
            shutil.copy2(BUSYBOX, os.path.join(root, "bin", "busybox"))
            os.symlink("busybox", os.path.join(root, "bin", "sh"))
            os.symlink("busybox", os.path.join(root, "bin", "true"))
        return root

    def signer(self):
        if not os.path.exists(self.p("pub.key")):
            self.ok("key", "generate", "--out", self.p("pub"))
            self.ok("trust", "add", "--key", self.p("pub.pub"), "--may",
                    "process.limit<=256,fs.read=*")
        return self.p("pub.key")

    def bundle(self, name, ents="process.limit=64\n", args=("-c", "true"), cmd="/bin/sh",
               extra=()):
        out = self.p(name)
        man = self.p(name + ".ent")
        with open(man, "w") as f:
            f.write(ents)
        argv = ["bundle", "create", "--rootfs", self.rootfs(), "--cmd", cmd, "--manifest", man,
                "-o", out, "--name", name.split(".")[0]]
        for a in args:
            argv += ["--arg", a]
        self.ok(*argv, *extra)
        self.ok("bundle", "sign", "--key", self.signer(), out)
        return out

    def stop_broker(self):
        pidfile = os.path.join(self.state, "broker.pid")
        try:
            with open(pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            pid = None
        run_ward("broker", "--stop", "--state-dir", self.state, env=self.env, timeout=60)
        if pid and os.path.exists(f"/proc/{pid}"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"broker" in f.read():
                        os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        deadline = time.monotonic() + 30
        while pid and os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.05)


def _host(tpm):
    d = os.path.realpath(tempfile.mkdtemp(prefix="watt-", dir="/var/tmp"))
    os.chmod(d, 0o755)
    swtpm = None
    h = None
    try:
        if tpm:
            swtpm = SwTPM(d)
        h = Host(d, swtpm)
        yield h
    finally:
        if h:
            h.stop_broker()
        if swtpm:
            swtpm.stop()
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def tpm_host():
    """A host with a software TPM (swtpm), AK not yet made."""
    if not (SWTPM and TPM2_TOOLS and os.access(WARD_TPM, os.X_OK)):
        pytest.skip("swtpm, tpm2-tools or ward-tpm missing (scripts/deps.sh)")
    yield from _host(True)


@pytest.fixture
def soft_host():
    """A host without a TPM: software-rooted (WARD_TCTI=none)."""
    yield from _host(False)

# SPDX-License-Identifier: GPL-2.0-or-later
"""What the layer tests share (tests/security/test_layers.py, test_escape.py).

run_layers(*probe_args, drop=[...]) runs the probe in a sandbox with some of
ward's layers left out by tests/helpers/layerdrop (a ptrace-based tool that
turns the syscalls applying those layers into no-ops while ward sets the
sandbox up; ward itself has no test switch).  The result also carries:

  .dropped   {layer: number of calls layerdrop changed}; every layer asked
             for must have been changed at least once (assert_dropped), or
             the test would pass because a layer was never removed
  .denials   the filter's own records (ward's --denials-log, one dict per
             denied syscall)

Interactive runs (Started) print "ready", let the test do something to the
running sandbox (enter its namespaces from outside, put a file in its /tmp),
then read one line from stdin.  docs/testing.md explains the method.
"""

import ctypes
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import conftest
from conftest import HELPERS, PROBE, WARD, ProbeResult, Result, exec_grant, started_pids

LAYERDROP = os.path.join(HELPERS, "layerdrop")
LAYERS = ("seccomp", "landlock", "caps", "nnp", "nosuid", "noexec", "userns", "nproc", "setsid",
          "memfd")

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000


def need_layerdrop():
    if os.uname().machine != "x86_64":
        pytest.skip("layerdrop (the tool that leaves layers out) supports x86_64 only")
    if not os.access(LAYERDROP, os.X_OK):
        pytest.skip(f"{LAYERDROP} is not built (ninja -C build)")


def ward_argv(probe_args, allow=(), ward_opts=(), denials_log=None, uid_base=None):
    argv = [WARD, "run", "-q"]
    if denials_log:
        argv += ["--denials-log", denials_log]
    if uid_base is not None:
        argv += ["--uid-base", str(uid_base)]
    for a in [exec_grant(), *allow]:
        argv += ["-a", a]
    return argv + list(ward_opts) + ["--", PROBE] + [str(a) for a in probe_args]


def full_argv(probe_args, drop=(), **kw):
    argv = ward_argv(probe_args, **kw)
    if not drop:
        return argv
    need_layerdrop()
    for d in drop:
        assert d in LAYERS, d
    out = [LAYERDROP]
    for d in drop:
        out += ["-d", d]
    return out + ["--"] + argv


def as_mode(argv, tmp=None):
    """ARGV run as the rootless test user in rootless mode (layerdrop runs
    as the user too: it traces its own child); TMP, the directory of the
    denials log, is given to the user."""
    if conftest.rootless() and tmp is not None:
        conftest.give_to_test_user(tmp)
    return conftest.as_user_argv(argv)


class LayerResult(ProbeResult):
    def __init__(self, r, drop, denials):
        super().__init__(r)
        self.drop = tuple(drop)
        self.denials = denials
        self.dropped = {}
        for line in r.stderr.splitlines():
            if line.startswith("layerdrop: ward="):
                for tok in line.split()[1:]:
                    k, v = tok.split("=", 1)
                    if k == "ward":
                        started_pids.add(int(v))
                    else:
                        self.dropped[k] = int(v)

    def filter_denied(self, syscall, arg=None):
        """Did the syscall filter record a denial of SYSCALL (with ARG)?  Its
        --denials-log line, or its line on ward's stderr."""
        for d in self.denials:
            if d.get("syscall") == syscall and (arg is None or d.get("arg") == arg):
                return True
        want = f"denied {syscall}({arg})" if arg else f"denied {syscall}("
        return any(want in line and "syscall filter" in line
                   for line in self.stderr.splitlines())


def read_denials(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def assert_dropped(r):
    """Every layer the test asked layerdrop to leave out was left out."""
    for d in r.drop:
        assert r.dropped.get(d, 0) > 0, (
            f"layerdrop never changed a call of the {d} layer: ward applies it in a way "
            f"layerdrop does not know, and this test would prove nothing\n{r!r}")


def run_layers(*probe_args, drop=(), allow=(), ward_opts=(), uid_base=None, stdin=None,
               timeout=60, preexec_fn=None):
    """Run the probe with DROP left out; return a LayerResult (the probe ran)."""
    with tempfile.TemporaryDirectory(prefix="ward-layers-", dir="/var/tmp") as d:
        log = os.path.join(d, "denials.json")
        argv = as_mode(full_argv(probe_args, drop=drop, allow=allow, ward_opts=ward_opts,
                                 denials_log=log, uid_base=uid_base), d)
        with subprocess.Popen(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              errors="replace", preexec_fn=preexec_fn) as p:
            started_pids.add(p.pid)
            try:
                out, err = p.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
                pytest.fail(f"{argv} did not finish within {timeout}s\n{out!r}\n{err!r}")
        r = LayerResult(Result(argv[1:], p.returncode, out, err), drop, read_denials(log))
    assert_dropped(r)
    return r


# ---------------------------------------------------------------- interactive runs

def descendants_running(pid, needle):
    """Host pids of the descendants of PID whose command line contains NEEDLE."""
    table = conftest.proc_table()
    return sorted(p for p in conftest.descendants(pid, table)
                  if p in table and needle in table[p][2] and table[p][3] != "Z")


class Started:
    """A sandboxed `probe then-stdin COMMAND ARGS` that has printed "ready".

    .program  the host pid of the probe inside the sandbox
    .finish(line) -> LayerResult
    """

    def __init__(self, probe_args, drop=(), allow=(), ward_opts=(), uid_base=None,
                 timeout=60, stdin=None, preexec_fn=None):
        self.tmp = tempfile.mkdtemp(prefix="ward-layers-", dir="/var/tmp")
        self.log = os.path.join(self.tmp, "denials.json")
        self.drop = drop
        self.timeout = timeout
        self.argv = as_mode(full_argv(["then-stdin", *probe_args], drop=drop, allow=allow,
                                      ward_opts=ward_opts, denials_log=self.log,
                                      uid_base=uid_base), self.tmp)
        self.p = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, errors="replace",
                                  start_new_session=True, preexec_fn=preexec_fn)
        started_pids.add(self.p.pid)
        line = self._readline(timeout)
        if line.strip() != "ready":
            err = self.kill()
            pytest.fail(f"the sandbox did not get ready: {line!r}\nstderr: {err!r}")
        found = []
        deadline = time.monotonic() + 5
        while not found and time.monotonic() < deadline:
            found = descendants_running(self.p.pid, "then-stdin")
            if not found:
                time.sleep(0.05)
        assert found, "the probe's process was not found"
        self.program = found[-1]

    def _readline(self, timeout):
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        return self.p.stdout.readline() if r else ""

    def ns(self, kind):
        return f"/proc/{self.program}/ns/{kind}"

    def host_uid(self, inside=0):
        """The host uid of uid INSIDE of the sandbox (its uid map)."""
        with open(f"/proc/{self.program}/uid_map") as f:
            for line in f:
                first, host, count = (int(x) for x in line.split())
                if first <= inside < first + count:
                    return host + inside - first
        raise AssertionError(f"uid {inside} is not mapped in the sandbox")

    def finish(self, line):
        try:
            out, err = self.p.communicate(input=line + "\n", timeout=self.timeout)
        except subprocess.TimeoutExpired:
            err = self.kill()
            pytest.fail(f"the sandbox did not finish: {err!r}")
        r = LayerResult(Result(self.argv[1:], self.p.returncode, out, err), self.drop,
                        read_denials(self.log))
        shutil.rmtree(self.tmp, ignore_errors=True)
        assert_dropped(r)
        return r

    def kill(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            _, err = self.p.communicate(timeout=10)
        except (subprocess.TimeoutExpired, ValueError):
            err = ""
        shutil.rmtree(self.tmp, ignore_errors=True)
        return err


@pytest.fixture
def started():
    """started(probe_args, drop=..., ...) -> Started; killed after the test."""
    made = []

    def start(*probe_args, **kw):
        s = Started(probe_args, **kw)
        made.append(s)
        return s

    yield start
    for s in made:
        s.kill()


# ---------------------------------------------------------------- entering a sandbox from outside

# Small programs run by a separate python3, so that the test process never
# changes namespaces itself.  Python 3.11 has no os.setns: libc's.
_SETNS = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def setns(path, kind):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    if libc.setns(fd, kind) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), path)
    os.close(fd)
"""

_SLEEPER = _SETNS + """
# A process of the program's own user (uid 0 of its user namespace, the
# same host uid) inside the sandbox's pid namespace: what `nsenter` by the
# sandbox's own user would make.  Not in any Landlock domain.
pidns, userns = sys.argv[1], sys.argv[2]
setns(pidns, 0x20000000)   # as host root, before leaving its user namespace
setns(userns, 0x10000000)
pid = os.fork()
if pid == 0:
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    os.execv("/bin/sleep", ["sleep", "120"])
print(pid, flush=True)
os.waitpid(pid, 0)
"""

_MOUNT = _SETNS + """
# Attach a host directory at TARGET in the sandbox's mount namespace: a
# mount-layer failure (a host path in the view) made on purpose.
SYS_open_tree, SYS_move_mount = 428, 429
src, ns, target = sys.argv[1], sys.argv[2], sys.argv[3]
fd = libc.syscall(SYS_open_tree, -100, src.encode(), 1 | os.O_CLOEXEC)
if fd < 0:
    raise OSError(ctypes.get_errno(), "open_tree", src)
setns(ns, 0x00020000)
if libc.syscall(SYS_move_mount, fd, b"", -100, target.encode(), 4) != 0:
    raise OSError(ctypes.get_errno(), "move_mount", target)
print("ok", flush=True)
"""

_ABSTRACT = _SETNS + """
# A listener on an abstract Unix socket inside the sandbox's network
# namespace, held by a process outside the sandbox.
import socket
ns, name = sys.argv[1], sys.argv[2]
setns(ns, 0x40000000)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\\0" + name)
s.listen(8)
print("ready", flush=True)
sys.stdin.read()
"""


def _python(code, *args, **kw):
    return subprocess.Popen(["/usr/bin/python3", "-c", code, *[str(a) for a in args]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _first_line(p, timeout=10):
    r, _, _ = select.select([p.stdout], [], [], timeout)
    line = p.stdout.readline() if r else ""
    if not line:
        p.kill()
        _, err = p.communicate()
        pytest.fail(f"helper failed: {err}")
    return line.strip()


@pytest.fixture
def entered():
    """Processes that enter a running sandbox from outside; stopped after the test.

    entered.sleeper(started) -> (host pid, pid inside the sandbox)
    entered.mount(started, host_dir, target)
    entered.abstract(started, name)
    """
    procs = []

    class Entered:
        @staticmethod
        def sleeper(s):
            p = _python(_SLEEPER, s.ns("pid"), s.ns("user"), stdin=subprocess.DEVNULL,
                        start_new_session=True)
            procs.append(p)
            host = int(_first_line(p))
            started_pids.add(host)
            # Until it has executed sleep it is not dumpable (its uid changed).
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with open(f"/proc/{host}/comm") as f:
                    if f.read().strip() == "sleep":
                        break
                time.sleep(0.02)
            with open(f"/proc/{host}/status") as f:
                nspid = [l.split()[1:] for l in f if l.startswith("NSpid:")][0]
            return host, int(nspid[-1])

        @staticmethod
        def mount(s, host_dir, target):
            p = _python(_MOUNT, host_dir, s.ns("mnt"), target, stdin=subprocess.DEVNULL)
            out, err = p.communicate(timeout=20)
            assert p.returncode == 0 and out.strip() == "ok", err

        @staticmethod
        def abstract(s, name):
            p = _python(_ABSTRACT, s.ns("net"), name, stdin=subprocess.PIPE,
                        start_new_session=True)
            procs.append(p)
            assert _first_line(p) == "ready"

    yield Entered
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        p.communicate()

# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures for the tests that start real sandboxes.

Environment:
  WARD          the ward binary (default <repo>/build/src/ward)
  WARD_HELPERS  the directory of the static test helpers
                (default <repo>/build/tests/helpers)

Every test gets a leak check (autouse): after it, there must be no new
cgroup under /sys/fs/cgroup/*/ward/, no new mount in this mount namespace,
no new named network namespace or nsfs mount, and no process left that the
test started (a descendant of this process, or anything running a helper).

See docs/testing.md.
"""

import errno as errno_mod
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
WARD = os.path.realpath(os.environ.get("WARD", os.path.join(REPO, "build", "src", "ward")))
HELPERS = os.path.realpath(
    os.environ.get("WARD_HELPERS", os.path.join(REPO, "build", "tests", "helpers")))
PROBE = os.path.join(HELPERS, "probe")
CGROUP_ROOT = "/sys/fs/cgroup"

# Exit statuses of ward (SPEC, `ward run --help`).
EXIT_FAILURE = 125
EXIT_CANNOT = 126
EXIT_NOT_FOUND = 127
EXIT_USAGE = 2

DEFAULT_TIMEOUT = 30


def _skip_reason():
    if os.geteuid() != 0:
        return "the sandbox tests need root (ward run needs root in this version)"
    if not os.access(WARD, os.X_OK):
        return f"ward binary not found at {WARD} (build it: meson setup build && ninja -C build)"
    if not os.access(PROBE, os.X_OK):
        return f"test helper not found at {PROBE} (ninja -C build builds tests/helpers)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    if reason:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))


# ---------------------------------------------------------------- running ward

class Result:
    """A finished ward run: returncode, stdout, stderr (text)."""

    def __init__(self, args, returncode, stdout, stderr):
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return (f"<ward {' '.join(self.args)!r} -> {self.returncode}\n"
                f"stdout: {self.stdout!r}\nstderr: {self.stderr!r}>")


class ProbeResult(Result):
    """A ward run of the probe helper, with its one-line answer parsed.

    .line   the probe's result line ("ok ..." or "errno=NAME ...")
    .ok     True if the probe said ok
    .errno  the errno name ("EPERM") or None
    .fields KEY=VALUE details
    """

    def __init__(self, r):
        super().__init__(r.args, r.returncode, r.stdout, r.stderr)
        lines = [l for l in r.stdout.splitlines() if l and l != "ready"]
        self.line = lines[-1] if lines else ""
        tokens = self.line.split()
        self.ok = bool(tokens) and tokens[0] == "ok"
        self.errno = None
        self.fields = {}
        for i, t in enumerate(tokens):
            if "=" in t:
                k, v = t.split("=", 1)
                if i == 0 and k == "errno":
                    self.errno = v
                else:
                    self.fields[k] = v

    def __getitem__(self, key):
        return self.fields[key]


# Pids of the ward processes this session started: ward names its cgroup
# run-<its pid>, so the leak check can tell our cgroups from those of other
# sandboxes running on the machine at the same time.
started_pids = set()


def run_ward(*args, timeout=DEFAULT_TIMEOUT, env=None, stdin=subprocess.DEVNULL, pass_fds=(),
             cwd=None):
    """Run ward with ARGS; return a Result.  Fails the test on timeout."""
    argv = [WARD] + [str(a) for a in args]
    e = dict(os.environ) if env is None else env
    with subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=e, pass_fds=pass_fds, cwd=cwd, errors="replace",
                          text=True) as p:
        started_pids.add(p.pid)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            pytest.fail(f"ward {' '.join(argv[1:])} did not finish within {timeout}s\n"
                        f"stdout: {out!r}\nstderr: {err!r}")
    return Result(argv[1:], p.returncode, out, err)


def allow_args(allow):
    out = []
    for a in allow:
        out += ["-a", a]
    return out


def exec_grant():
    return f"fs.exec={HELPERS}"


def run_probe(*probe_args, allow=(), ward_opts=(), **kw):
    """Run the probe in a default sandbox plus ALLOW (entitlements), granting
    only the helpers directory (fs.exec) so that the probe can run at all."""
    args = (["run", "-q"] + allow_args([exec_grant(), *allow]) + list(ward_opts) +
            ["--", PROBE] + [str(a) for a in probe_args])
    return ProbeResult(run_ward(*args, **kw))


def run_probe_host(*probe_args, timeout=DEFAULT_TIMEOUT):
    """The same probe outside any sandbox: the positive control."""
    p = subprocess.run([PROBE] + [str(a) for a in probe_args], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    return ProbeResult(Result(["(host)", "probe"] + list(probe_args), p.returncode, p.stdout,
                              p.stderr))


@pytest.fixture
def ward():
    """ward(*args, timeout=, env=, stdin=, pass_fds=) -> Result."""
    return run_ward


@pytest.fixture
def probe():
    """probe(*args, allow=[...], ward_opts=[...]) -> ProbeResult."""
    return run_probe


@pytest.fixture
def probe_host():
    return run_probe_host


@pytest.fixture
def helpers():
    return HELPERS


@pytest.fixture
def probe_path():
    return PROBE


@pytest.fixture
def exec_helpers():
    """The entitlement that lets a sandbox run the helpers."""
    return exec_grant()


# ---------------------------------------------------------------- temp dirs

@pytest.fixture
def tmpdir_real():
    """A fresh directory on the host, resolved (no symlink component: ward
    refuses those), owned by root, mode 0755, removed afterwards.  Under
    /var/tmp rather than /tmp so that it is not hidden by the sandbox's
    private /tmp."""
    d = os.path.realpath(tempfile.mkdtemp(prefix="ward-test-", dir="/var/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def make_tmpdir():
    """make_tmpdir(uid=0, gid=0, mode=0o755) -> a fresh resolved directory
    with that owner; all removed afterwards."""
    made = []

    def make(uid=0, gid=0, mode=0o755):
        d = os.path.realpath(tempfile.mkdtemp(prefix="ward-test-", dir="/var/tmp"))
        os.chown(d, uid, gid)
        os.chmod(d, mode)
        made.append(d)
        return d

    yield make
    for d in made:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def manifest(tmpdir_real):
    """manifest(text or bytes, name="app.ent") -> path of a manifest file."""
    def write(content, name="app.ent"):
        path = os.path.join(tmpdir_real, name)
        with open(path, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)
        return path
    return write


# ---------------------------------------------------------------- processes

@pytest.fixture
def spawned():
    """spawned(argv, **Popen kwargs) -> Popen; every process started this way is
    killed (its whole process group) and reaped after the test."""
    procs = []

    def start(argv, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("start_new_session", True)
        p = subprocess.Popen([str(a) for a in argv], **kw)
        started_pids.add(p.pid)
        procs.append(p)
        return p

    yield start
    for p in procs:
        # SIGTERM first: ward forwards it and cleans up (its cgroup) when the
        # program ends; SIGKILL would leave that behind.
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for f in (p.stdout, p.stderr):
            if f:
                f.close()


def read_line(stream, timeout):
    """One line from a pipe of a child, or '' after TIMEOUT seconds."""
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    try:
        if not sel.select(timeout):
            return ""
        return stream.readline()
    finally:
        sel.close()


def proc_table():
    """{pid: (ppid, starttime, cmdline)} of every process on the host."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2:].split()
        # state ppid ... field 22 (starttime) is rest[19]
        table[int(name)] = (int(rest[1]), int(rest[19]), cmd, rest[0])
    return table


def descendants(pid, table=None):
    table = table or proc_table()
    kids = {}
    for p, (pp, _, _, _) in table.items():
        kids.setdefault(pp, []).append(p)
    out, todo = set(), [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def alive(pid, starttime):
    """Is the process PID that started at STARTTIME still there (not a zombie)?"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    rest = stat[stat.rfind(")") + 2:].split()
    return int(rest[19]) == starttime and rest[0] != "Z"


# ---------------------------------------------------------------- leak check

def cgroup_ward_dirs():
    out = set()
    try:
        ctrls = os.listdir(CGROUP_ROOT)
    except OSError:
        return out
    for ctrl in ctrls:
        base = os.path.join(CGROUP_ROOT, ctrl, "ward")
        if os.path.islink(os.path.join(CGROUP_ROOT, ctrl)):
            continue  # cpu -> cpu,cpuacct: counted once under the real name
        try:
            for name in os.listdir(base):
                if os.path.isdir(os.path.join(base, name)):
                    out.add(os.path.join(base, name))
        except OSError:
            pass
    return out


# Mounts the host makes once and keeps: `ip netns add` turns /run/netns into
# a shared bind mount of itself the first time it runs on a machine (and
# /run/netns/NAME are nsfs mounts, counted by named_netns()).  A test that is
# the first to create a named namespace must not be blamed for that.
HOST_ONCE_MOUNTS = {"/run/netns"}


def mounts():
    out = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            sep = parts.index("-")
            if parts[4] in HOST_ONCE_MOUNTS:
                continue
            # mount point, file system type, source
            out.add((parts[4], parts[sep + 1], parts[sep + 2]))
    return out


def named_netns():
    try:
        return set(os.listdir("/run/netns"))
    except OSError:
        return set()


def helper_processes():
    """Processes running one of our helpers (inside a sandbox or not)."""
    return {(pid, t[1]) for pid, t in proc_table().items() if HELPERS in t[2]}


def _ours(cgroup_dir):
    m = re.fullmatch(r"run-(\d+)", os.path.basename(cgroup_dir))
    return m is None or int(m.group(1)) in started_pids


def leak_state():
    me = os.getpid()
    table = proc_table()
    return {
        "cgroups": cgroup_ward_dirs(),
        "mounts": mounts(),
        "netns": named_netns(),
        "children": {(p, table[p][1]) for p in descendants(me, table)
                     if p in table and table[p][3] != "Z"},
        "helpers": helper_processes(),
    }


def leaks(before):
    after = leak_state()
    found = {}
    for key in before:
        new = after[key] - before[key]
        if key in ("children", "helpers"):
            new = {(p, t) for p, t in new if alive(p, t)}
        if key == "cgroups":
            new = {d for d in new if _ours(d)}
        if new:
            found[key] = new
    return found


@pytest.fixture(autouse=True)
def leak_check(request):
    """After every test: nothing of the sandbox may remain."""
    if _skip_reason():
        yield
        return
    before = leak_state()
    yield
    deadline = time.monotonic() + 3
    found = leaks(before)
    while found and time.monotonic() < deadline:
        time.sleep(0.1)
        found = leaks(before)
    if found:
        # Clean up what we can so that one leak does not fail every later
        # test: kill our own stray processes, remove empty ward cgroups.
        for pid, t in found.get("children", set()) | found.get("helpers", set()):
            if alive(pid, t):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        for d in sorted(found.get("cgroups", set()), reverse=True):
            try:
                os.rmdir(d)
            except OSError:
                pass
        pytest.fail(f"the test left things behind: {found}", pytrace=False)


# ---------------------------------------------------------------- assertions

def errno_name(code):
    return errno_mod.errorcode[code]


def assert_ward_error(r, *needles, status=EXIT_FAILURE):
    """ward refused: exit STATUS, a 'ward: ' message containing every needle,
    and nothing on stdout (the program never ran)."""
    assert r.returncode == status, r
    assert r.stderr.startswith("ward: "), r
    for n in needles:
        assert n in r.stderr, f"{n!r} not in ward's message: {r.stderr!r}"
    assert r.stdout == "", r

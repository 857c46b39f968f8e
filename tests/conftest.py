# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures for the tests that start real sandboxes.

Environment:
  WARD          the ward binary (default <repo>/build/src/ward)
  WARD_HELPERS  the directory of the static test helpers
                (default <repo>/build/tests/helpers)

Every test gets a leak check (autouse): after it, there must be no new
cgroup under /sys/fs/cgroup/*/ward/ (or ward/user-UID/), no new mount in this
mount namespace, no new named network namespace or nsfs mount, and no process
left that the test started (a descendant of this process, or anything running
a helper).

Rootless mode: the modules named in ROOTLESS_MODULES run every test twice,
as root and as an ordinary user the session creates (useradd, with ranges in
/etc/subuid and /etc/subgid and `ward delegate`; all removed at the end, also
after a failure), through runuser.  The `ward_mode` fixture says which.

See docs/testing.md.
"""

import contextlib
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

# A python3 -c script: listens on 0.0.0.0:PORT (argv[1]), prints "listening",
# and answers TAG (argv[2]) to each connection, which it then closes.
TAG_LISTENER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(8)
print("listening", flush=True)
while True:
    c, a = s.accept()
    c.sendall(sys.argv[2].encode())
    c.close()
"""

# Exit statuses of ward (SPEC, `ward run --help`).
EXIT_FAILURE = 125
EXIT_CANNOT = 126
EXIT_NOT_FOUND = 127
EXIT_USAGE = 2

DEFAULT_TIMEOUT = 30

# Suites whose every test also runs as an ordinary user (docs/rootless.md,
# docs/testing.md): the security battery's escape attempts, resource bombs
# and issue-11 holes (test_core_holes: set-id modes, file capabilities,
# memfds, the review's attacks on init and the host), the view, real
# programs, learn's, spaces' and bundles' holes.  Chosen for coverage per
# second.  test_layers is not here: the proofs that apply run in both modes
# by its own BOTH_MODES mark (docs/testing.md).
ROOTLESS_MODULES = {
    "test_escape.py",
    "test_resources.py",
    "test_view.py",
    "test_programs.py",
    "test_core_holes.py",
    "test_learn_holes.py",
    "test_space_holes.py",
    "test_bundle_holes.py",
}
# The user the current test runs ward as (a RootlessUser), or None for root.
_as_user = {"user": None}


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


def rootless():
    """Does the current test run ward as the ordinary test user?"""
    return _as_user["user"] is not None


def rootless_uid():
    """The test user's uid in rootless mode, else None."""
    return _as_user["user"].uid if _as_user["user"] is not None else None


def as_user_argv(argv, user=None, home=None):
    """ARGV run as the rootless test user when the test is in rootless mode
    (or as USER): runuser, with the user's own HOME (or HOME) and no
    runtime directory of root's."""
    user = user or _as_user["user"]
    if user is None:
        return list(argv)
    return (["runuser", "-u", user.name, "--", "env", "-u", "XDG_RUNTIME_DIR",
             f"HOME={home or user.home}", f"USER={user.name}", f"LOGNAME={user.name}"] +
            [str(a) for a in argv])


def run_ward(*args, timeout=DEFAULT_TIMEOUT, env=None, stdin=subprocess.DEVNULL, pass_fds=(),
             cwd=None):
    """Run ward with ARGS; return a Result.  Fails the test on timeout.
    In rootless mode (ward_mode == "rootless") ward runs as the test user."""
    argv = as_user_argv([WARD] + [str(a) for a in args],
                        home=env.get("HOME") if env is not None else None)
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
    return Result([str(a) for a in args], p.returncode, out, err)


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
        # Rootless: what root mode's idmapping gives (the sandbox's root
        # owns the granted directory), only the user's own directory gives;
        # a rootless sandbox can write nobody else's.
        user = _as_user["user"]
        if user is not None:
            uid, gid = user.uid, user.gid
        os.chown(d, uid, gid)
        os.chmod(d, mode)
        made.append(d)
        return d

    yield make
    for d in made:
        shutil.rmtree(d, ignore_errors=True)


def give_to_test_user(path):
    """In rootless mode, a file the test made for the sandbox (in a
    make_tmpdir directory) belongs to the test user, as the directory does:
    what root mode's idmapping gives the sandbox's root, only the user's own
    files give a rootless sandbox.  No-op in root mode."""
    user = _as_user["user"]
    if user is not None:
        os.lchown(path, user.uid, user.gid)
    return path


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
        argv = [str(a) for a in argv]
        if argv and argv[0] == WARD:
            argv = as_user_argv(argv)
        p = subprocess.Popen(argv, **kw)
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
        # Rootless users' sandboxes: ward-users/user-UID/run-PID (the
        # delegated user-UID itself is the session's, made once).
        users = os.path.join(CGROUP_ROOT, ctrl, "ward-users")
        try:
            for name in os.listdir(users):
                for sub in os.listdir(os.path.join(users, name)):
                    if os.path.isdir(os.path.join(users, name, sub)):
                        out.add(os.path.join(users, name, sub))
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
    # Every cgroup of the session's own rootless user is ours (runuser's
    # child, not a pid we started, names it).
    if RootlessUser.current and f"/user-{RootlessUser.current.uid}/" in cgroup_dir:
        return True
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


# ---------------------------------------------------------------- rootless

class RootlessUser:
    """An ordinary user made for this session: uid >= 1000, no capabilities,
    subordinate ranges in /etc/subuid and /etc/subgid, ward's cgroups
    delegated (`ward delegate`).  Removed at the end of the session."""

    current = None
    PREFIX = "wrl"

    def __init__(self, prefix=PREFIX):
        self.name = f"{prefix}{os.getpid()}"
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", "-U", self.name], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        import pwd
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid, self.home = pw.pw_uid, pw.pw_gid, pw.pw_dir
        os.chmod(self.home, 0o700)
        for f, opt in (("/etc/subuid", "--add-subuids"), ("/etc/subgid", "--add-subgids")):
            if not self._has_range(f):
                start = self._free_start(f)
                subprocess.run(["usermod", opt, f"{start}-{start + 65535}", self.name],
                               check=True)
        self.delegate()
        RootlessUser._open_the_way()

    # The checkout may lie beneath a directory others cannot search (a
    # clone in /root, a mkdtemp 0700 directory such as make fresh-check's):
    # the user could not run ward or the helpers.  While the session's
    # users exist, every ancestor of the checkout and of WARD gets the
    # search bit for others (x, not r: nothing can be listed), and its
    # mode is restored when the last of them is removed.
    _opened = None
    _users = 0

    @classmethod
    def _open_the_way(cls):
        cls._users += 1
        if cls._opened is not None:
            return
        cls._opened = []
        for target in (REPO, WARD, HELPERS):
            d = os.path.realpath(target)
            if not os.path.isdir(d):
                d = os.path.dirname(d)
            while True:
                try:
                    st = os.stat(d)
                except OSError:
                    break
                if not st.st_mode & 0o001 and d not in (x[0] for x in cls._opened):
                    os.chmod(d, (st.st_mode & 0o7777) | 0o001)
                    cls._opened.append((d, st.st_mode & 0o7777))
                if d == "/":
                    break
                d = os.path.dirname(d)

    @classmethod
    def _close_the_way(cls, force=False):
        cls._users = 0 if force else cls._users - 1
        if (cls._users > 0 and not force) or not cls._opened:
            return
        for d, mode in reversed(cls._opened):
            try:
                os.chmod(d, mode)
            except OSError:
                pass
        cls._opened = None

    def delegate(self):
        """`ward delegate` (idempotent).  Called before every rootless test:
        the leak check of a session running from an older conftest takes an
        empty ward/user-UID for its own and removes it."""
        r = subprocess.run([WARD, "delegate", self.name], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"ward delegate {self.name}: {r.stderr}")

    def _has_range(self, f):
        with open(f) as fh:
            return any(l.split(":")[0] in (self.name, str(self.uid)) for l in fh)

    @staticmethod
    def _free_start(f):
        end = 100000
        with open(f) as fh:
            for l in fh:
                parts = l.strip().split(":")
                if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                    end = max(end, int(parts[1]) + int(parts[2]))
        return end

    def processes(self):
        out = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    if os.stat(f"/proc/{pid}").st_uid == self.uid:
                        out.append(int(pid))
                except OSError:
                    pass
        return out

    def remove(self):
        # The user's broker (started on demand) and anything else of theirs,
        # by pid: the user is this session's own.
        subprocess.run(as_user_argv([WARD, "broker", "--stop"], self),
                       capture_output=True, timeout=30)
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        subprocess.run([WARD, "delegate", "--undo", self.name], capture_output=True)
        subprocess.run(["userdel", "-r", "-f", self.name], capture_output=True)
        RootlessUser._close_the_way()

    @classmethod
    def remove_stale(cls):
        """Users of earlier sessions that died before their cleanup."""
        with open("/etc/passwd") as fh:
            names = [l.split(":")[0] for l in fh]
        for n in names:
            m = re.fullmatch(cls.PREFIX + r"x?(\d+)", n)
            if m and not os.path.exists(f"/proc/{m.group(1)}"):
                subprocess.run([WARD, "delegate", "--undo", n], capture_output=True)
                subprocess.run(["userdel", "-r", "-f", n], capture_output=True)


@pytest.fixture(scope="session")
def rootless_user():
    """The session's ordinary user (RootlessUser), made on first use."""
    RootlessUser.remove_stale()
    user = RootlessUser()
    RootlessUser.current = user
    try:
        yield user
    finally:
        user.remove()
        RootlessUser.current = None
        RootlessUser._close_the_way(force=True)


def pytest_generate_tests(metafunc):
    if "ward_mode" in metafunc.fixturenames and \
            os.path.basename(metafunc.module.__file__) in ROOTLESS_MODULES:
        metafunc.parametrize("ward_mode", ["root", "rootless"], indirect=True)


@pytest.fixture(autouse=True)
def ward_mode(request):
    """"root", or "rootless": every ward this test runs runs as the session's
    ordinary user.  Defined before leak_check, so that the user exists
    before the leak check's first look."""
    mode = getattr(request, "param", "root")
    if mode == "rootless":
        if _skip_reason():
            pytest.skip(_skip_reason())
        _as_user["user"] = request.getfixturevalue("rootless_user")
        _as_user["user"].delegate()
    try:
        yield mode
    finally:
        _as_user["user"] = None


@pytest.fixture
def as_user():
    """as_user(argv) -> argv run as the test user in rootless mode."""
    return as_user_argv


@pytest.fixture(autouse=True)
def leak_check(request, ward_mode):
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


def _terminated(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    """A session ended with SIGTERM (a CI timeout, `kill` of make check)
    tears down as after Ctrl-C: the session fixtures' finalizers run, so
    what they started in a process group of its own (a RabbitMQ node, a
    containerd, the session's users) does not outlive the session."""
    signal.signal(signal.SIGTERM, _terminated)


@contextlib.contextmanager
def others_may_reach_ward():
    """For tests that run ward as another uid (nobody) without the
    session's user: the checkout's ancestors searchable while inside."""
    RootlessUser._open_the_way()
    try:
        yield
    finally:
        RootlessUser._close_the_way()

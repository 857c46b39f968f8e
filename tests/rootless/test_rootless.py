# SPDX-License-Identifier: GPL-2.0-or-later
"""Rootless ward (docs/rootless.md): what only an ordinary user's ward does.

The shared suites (test_escape, test_resources, test_view, test_programs) run
every test as root and as the session's ordinary user (tests/conftest.py,
ROOTLESS_MODULES).  These tests are about rootless mode itself: delegation
(`ward delegate` on this host's v1 hierarchies and on a stand-in v2 tree), the
refusal without delegation, nothing left after `kill -9` of ward, the
identity (files written are the user's; the subordinate ranges or the own id
only), the refusal to run set-id, the per-user broker and state, learn,
explain, and the entitlements that need the host's privilege.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import (EXIT_FAILURE, HELPERS, PROBE, REPO, WARD, RootlessUser, as_user_argv,
                      exec_grant, proc_table, read_line, run_probe, run_ward)

pytestmark = pytest.mark.usefixtures("rootless_user")


@pytest.fixture
def user(rootless_user):
    return rootless_user


def as_user(user, *args, timeout=60, env_home=None, extra_env=()):
    argv = as_user_argv([WARD] + [str(a) for a in args], user, home=env_home)
    if extra_env:
        i = argv.index(WARD)
        argv[i:i] = list(extra_env)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def user_dir(user, mode=0o755):
    d = os.path.realpath(tempfile.mkdtemp(prefix="ward-rl-", dir="/var/tmp"))
    os.chown(d, user.uid, user.gid)
    os.chmod(d, mode)
    return d


@pytest.fixture
def udir(user):
    made = []

    def make(mode=0o755):
        d = user_dir(user, mode)
        made.append(d)
        return d

    yield make
    for d in made:
        shutil.rmtree(d, ignore_errors=True)


def standin_v2(tmp, controllers="cpu memory pids"):
    """A directory tree that stands in for a cgroup2 root (docs/cgroups.md)."""
    os.makedirs(tmp, exist_ok=True)
    with open(os.path.join(tmp, "cgroup.controllers"), "w") as f:
        f.write(controllers + "\n")
    return tmp


# ---------------------------------------------------------------- identity


def test_runs_without_any_privilege(user):
    r = as_user(user, "run", "--", "/bin/sh", "-c", "id -u; cat /proc/self/uid_map")
    assert r.returncode == 0, r
    lines = r.stdout.split("\n")
    assert lines[0] == "0", r
    # Outside, the supervisor is the user, without capabilities.
    r = subprocess.run(as_user_argv(["/bin/sh", "-c", "id -u; grep CapEff /proc/self/status"],
                                    user), capture_output=True, text=True)
    assert r.stdout.split("\n")[0] == str(user.uid) and "0000000000000000" in r.stdout, r


def test_files_written_belong_to_the_user(user, udir):
    d = udir()
    r = as_user(user, "run", "-a", f"fs.write={d}", "--", "/bin/sh", "-c",
                f"echo hi > {d}/f; mkdir {d}/sub")
    assert r.returncode == 0, r
    for n in ("f", "sub"):
        st = os.stat(os.path.join(d, n))
        assert (st.st_uid, st.st_gid) == (user.uid, user.gid), (n, st)


def test_read_grant_is_a_read_only_bind(user, udir):
    # The user's own file: the host's permissions allow the write, so EROFS
    # is the read-only bind's answer (root mode proves it with idmapping).
    d = udir()
    with open(os.path.join(d, "f"), "w") as f:
        f.write("x")
    os.chown(os.path.join(d, "f"), user.uid, user.gid)
    r = as_user(user, "run", "-q", "-a", exec_grant(), "-a", f"fs.read={d}", "--", PROBE,
                "open", f"{d}/f", "w")
    assert r.stdout.strip().startswith("errno=EROFS"), r


def test_confined_maps_only_the_own_id(user):
    # security.confined can never hold another id: no range, no set-user-ID
    # helper at its start; explain says why.
    r = as_user(user, "run", "--", "/bin/cat", "/proc/self/uid_map")
    assert r.stdout.split() == ["0", "0", "1"], r
    e = as_user(user, "explain")
    assert "only that (this policy holds no capability to use other ids" in e.stdout, e


def test_subordinate_ranges_mapped(user):
    r = as_user(user, "run", "-a", "security.user", "--", "/bin/sh", "-c",
                "cat /proc/self/uid_map; touch /tmp/x && chown 1000:1000 /tmp/x && "
                "stat -c %u /tmp/x")
    assert r.returncode == 0, r
    assert r.stdout.split() == ["0", "0", "1", "1", "1", "65535", "1000"], r


def test_own_id_only_without_subordinate_ranges(user):
    other = RootlessUser(prefix="wrlx")
    try:
        for f, opt in (("/etc/subuid", "--del-subuids"), ("/etc/subgid", "--del-subgids")):
            with open(f) as fh:
                for line in fh:
                    n, start, count = line.strip().split(":")
                    if n == other.name:
                        subprocess.run(["usermod", opt,
                                        f"{start}-{int(start) + int(count) - 1}", other.name],
                                       check=True)
        r = as_user(other, "run", "-a", "security.user", "--", "/bin/sh", "-c",
                    "cat /proc/self/uid_map; grep Groups /proc/self/status")
        assert r.returncode == 0, r
        assert r.stdout.split()[:3] == ["0", "0", "1"] and len(r.stdout.split()) == 5, r
        e = as_user(other, "explain", "-a", "security.user")
        assert "and only that (no range for this user in /etc/subuid" in e.stdout, e
    finally:
        other.remove()


def test_host_process_of_the_same_user_unreachable(user, spawned):
    # Rootless sandboxes run as the user's own uid: the pid namespace and
    # Landlock's signal scoping keep them from the user's other processes.
    sleeper = spawned(as_user_argv(["sleep", "60"], user))
    time.sleep(0.2)
    kids = [p for p, t in proc_table().items() if t[0] == sleeper.pid]
    target = kids[0] if kids else sleeper.pid
    r = as_user(user, "run", "-q", "-a", exec_grant(), "--", PROBE, "kill", target, "9")
    assert r.stdout.strip().startswith("errno=ESRCH"), r
    assert sleeper.poll() is None


# ---------------------------------------------------------------- set-id


@pytest.mark.parametrize("who", ["user", "root"])
def test_refuses_to_run_setuid(who, user, tmpdir_real):
    exe = os.path.join(tmpdir_real, "ward")
    shutil.copy(WARD, exe)
    os.chmod(exe, 0o4755)
    argv = [exe, "run", "--", "/bin/true"]
    if who == "user":
        argv = as_user_argv(argv, user)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert r.returncode == EXIT_FAILURE, r
    assert "set-user-ID" in r.stderr, r


# ---------------------------------------------------------------- limits


def test_delegate_v1_this_host(user):
    hier = [f"/sys/fs/cgroup/{c}/ward-users/user-{user.uid}" for c in ("pids", "memory", "cpu")]
    for h in hier:
        st = os.stat(h)
        assert st.st_uid == user.uid, h
        assert os.stat(os.path.join(h, "cgroup.procs")).st_uid == user.uid, h
    # Idempotent.
    r = subprocess.run([WARD, "delegate", user.name], capture_output=True, text=True)
    assert r.returncode == 0 and "delegated" in r.stdout, r
    # The limits hold in the user's subtree.
    r = as_user(user, "run", "-a", exec_grant(), "-a", "process.limit=8", "--", PROBE,
                "forkbomb", "100", "10")
    assert r.returncode == 0 and "process.limit" in r.stderr, r
    # Undo, refused without delegation, delegate again.
    r = subprocess.run([WARD, "delegate", "--undo", user.name], capture_output=True, text=True)
    assert r.returncode == 0 and "removed" in r.stdout, r
    assert not any(os.path.exists(h) for h in hier)
    r = as_user(user, "run", "--", "/bin/true")
    assert r.returncode == EXIT_FAILURE and f"sudo ward delegate {user.uid}" in r.stderr, r
    user.delegate()


def test_delegate_needs_root(user):
    r = as_user(user, "delegate", user.name)
    assert r.returncode == 1 and "only root can delegate" in r.stderr, r


def test_delegate_v2_standin(user, tmpdir_real):
    root = standin_v2(os.path.join(tmpdir_real, "cg"))
    r = subprocess.run([WARD, "delegate", "--cgroup-root", root, user.name], capture_output=True,
                       text=True)
    assert r.returncode == 0, r
    mine = os.path.join(root, "ward-users", f"user-{user.uid}")
    assert os.stat(mine).st_uid == user.uid
    for f in ("cgroup.procs", "cgroup.threads", "cgroup.subtree_control"):
        assert os.stat(os.path.join(mine, f)).st_uid == user.uid, f
    for d in (root, os.path.join(root, "ward-users")):
        with open(os.path.join(d, "cgroup.subtree_control")) as fh:
            assert fh.read().split() == ["+pids", "+memory", "+cpu"], d
    # Again: nothing changes.
    r = subprocess.run([WARD, "delegate", "--cgroup-root", root, user.name], capture_output=True,
                       text=True)
    assert r.returncode == 0, r
    # A rootless sandbox in it: the limits are written there.
    p = subprocess.Popen(as_user_argv([WARD, "run", "--cgroup-root", root, "-a",
                                       "process.limit=7", "--", "sh", "-c",
                                       "echo up; sleep 30"], user),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        assert read_line(p.stdout, 30) == "up\n"
        runs = [n for n in os.listdir(mine) if n.startswith("run-")]
        assert len(runs) == 1, os.listdir(mine)
        with open(os.path.join(mine, runs[0], "pids.max")) as fh:
            assert fh.read() == "8"
    finally:
        p.terminate()
        p.wait(timeout=30)
        p.stdout.close()
        p.stderr.close()
    assert not [n for n in os.listdir(mine) if n.startswith("run-")]
    r = subprocess.run([WARD, "delegate", "--undo", "--cgroup-root", root, user.name],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not os.path.exists(mine), r


def test_refused_without_delegation(user, tmpdir_real):
    root = standin_v2(os.path.join(tmpdir_real, "cg"))
    os.chmod(tmpdir_real, 0o755)
    r = as_user(user, "run", "--cgroup-root", root, "--", "/bin/true")
    assert r.returncode == EXIT_FAILURE, r
    assert "no cgroup is delegated to you" in r.stderr, r
    assert f"sudo ward delegate {user.uid}" in r.stderr, r
    r = as_user(user, "run", "--best-effort", "--cgroup-root", root, "--", "/bin/true")
    assert r.returncode == 0 and "resource limits are not enforced" in r.stderr, r


def test_ward_cgroup_names_a_delegated_cgroup(user, tmpdir_real):
    root = standin_v2(os.path.join(tmpdir_real, "cg"))
    mine = os.path.join(root, "mine")
    os.makedirs(mine)
    with open(os.path.join(mine, "cgroup.subtree_control"), "w") as f:
        f.write("+pids +memory +cpu")
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files + ["."]:
            os.chown(os.path.join(dirpath, n), user.uid, user.gid)
    os.chmod(tmpdir_real, 0o755)
    r = as_user(user, "run", "--cgroup-root", root, "--", "/bin/true",
                extra_env=["WARD_CGROUP=/mine"])
    assert r.returncode == 0, r



@pytest.mark.parametrize("best_effort", [False, True])
def test_hostile_ward_cgroup_out_of_the_cgroup_fs_refused(user, udir, best_effort):
    # WARD_CGROUP with "..": the kernel would follow it out of the cgroup
    # file system into a directory of the user's, where "limits" are plain
    # files and ward's collector would remove the user's run-* directories.
    # Refused as bad input, also under --best-effort; nothing made there.
    fake = udir(0o755)
    rel = "../" * 8 + fake.lstrip("/")
    opts = ["--best-effort"] if best_effort else []
    r = as_user(user, "run", *opts, "--", "/bin/true", extra_env=[f"WARD_CGROUP={rel}"])
    assert r.returncode == EXIT_FAILURE, r
    assert "is not a cgroup: it must name a cgroup delegated to you" in r.stderr, r
    assert os.listdir(fake) == []
    # The parent of every user's subtree (another user's sandboxes'
    # siblings): the kernel refuses the user there.
    r = as_user(user, "run", *opts, "--", "/bin/true", extra_env=["WARD_CGROUP=/ward-users"])
    if best_effort:
        assert r.returncode == 0 and "Permission denied" in r.stderr, r
    else:
        assert r.returncode == EXIT_FAILURE and "Permission denied" in r.stderr, r


def nothing_of(user, before):
    """Processes of the user now that were not there before (but its broker)."""
    table = proc_table()
    return [p for p in user.processes() if p not in before and p in table and
            "broker" not in table[p][2] and table[p][3] != "Z"]


def test_kill_9_of_ward_leaves_nothing(user):
    before = set(user.processes())
    p = subprocess.Popen(as_user_argv([WARD, "run", "-a", exec_grant(), "--", "/bin/sh", "-c",
                                       "echo up; sleep 60"], user),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        assert read_line(p.stdout, 30) == "up\n"
        ward = [q for q, t in proc_table().items() if t[0] == p.pid]
        assert len(ward) == 1
        mine = f"/sys/fs/cgroup/pids/ward-users/user-{user.uid}/run-{ward[0]}"
        assert os.path.isdir(mine)
        os.kill(ward[0], signal.SIGKILL)
        p.wait(timeout=30)
        deadline = time.monotonic() + 10
        while (os.path.exists(mine) or nothing_of(user, before)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(mine), "the sandbox's cgroup is left after kill -9"
        assert not nothing_of(user, before), "processes are left after kill -9"
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        p.stdout.close()
        p.stderr.close()


# ---------------------------------------------------------------- state, broker, learn


def test_state_directory_is_the_users_own(user):
    r = as_user(user, "run", "--", "/bin/true")
    assert r.returncode == 0, r
    d = os.path.join(user.home, ".local/state/ward/run")
    st = os.stat(d)
    assert st.st_uid == user.uid and (st.st_mode & 0o777) == 0o700, oct(st.st_mode)
    # A runtime directory that is not the user's own is not used.
    r = as_user(user, "run", "--", "/bin/true", extra_env=["XDG_RUNTIME_DIR=/tmp"])
    assert r.returncode == 0 and not os.path.exists(f"/tmp/ward"), r


def test_state_directory_beneath_another_users_directory_refused(user):
    # XDG_STATE_HOME or XDG_RUNTIME_DIR in a directory another user may
    # rename entries of (theirs, mode 0777), or through a link of theirs to
    # a directory of the user's: they could swap the state directory for
    # one of theirs after ward checked it.  Refused, naming the place; a
    # directory of the user's own in sticky /tmp is fine.
    other = RootlessUser(prefix="wrlx")
    tag = f"wrl-xdg-{os.getpid()}"
    theirs, mine, link = f"/tmp/{tag}-b", f"/tmp/{tag}-a", f"/tmp/{tag}-l"
    try:
        os.mkdir(theirs)
        os.chown(theirs, other.uid, other.gid)
        os.chmod(theirs, 0o777)
        os.mkdir(mine)
        os.chown(mine, user.uid, user.gid)
        os.chmod(mine, 0o700)
        os.symlink(mine, link)
        os.lchown(link, other.uid, other.gid)
        for var, val, bad in (("XDG_STATE_HOME", theirs, theirs), ("XDG_STATE_HOME", link, link),
                              ("XDG_RUNTIME_DIR", link, link)):
            r = as_user(user, "run", "--", "/bin/true", extra_env=[f"{var}={val}"])
            assert r.returncode == EXIT_FAILURE, (var, val, r)
            assert f"lies beneath {bad}, which belongs to uid {other.uid}" in r.stderr, r
        # Refused before anything was made there.
        assert os.listdir(theirs) == [] and os.listdir(mine) == []
        r = as_user(user, "run", "--", "/bin/true", extra_env=[f"XDG_STATE_HOME={mine}"])
        assert r.returncode == 0, r
        assert os.path.isdir(os.path.join(mine, "ward", "run"))
    finally:
        if os.path.lexists(link):
            os.unlink(link)
        shutil.rmtree(theirs, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)
        other.remove()


def test_broker_per_user(user):
    p = subprocess.Popen(as_user_argv([WARD, "run", "--name", "rlbox", "-a", "ipc.recv", "--",
                                       "/bin/sh", "-c", "echo up; sleep 30"], user),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        assert read_line(p.stdout, 30) == "up\n"
        r = as_user(user, "ps")
        assert "rlbox" in r.stdout, r
        r = as_user(user, "msg", "send", "rlbox", "hello")
        assert r.returncode == 0, r
        # Root's broker is another one: it does not know the user's.
        r = run_ward("ps")
        assert "rlbox" not in r.stdout, r
    finally:
        p.terminate()
        p.wait(timeout=30)
        p.stdout.close()
        p.stderr.close()


def test_other_user_cannot_operate_the_users_broker(user):
    # The broker of user A, made reachable by a mistaken chmod of its
    # directories and socket: user B connects, and the broker closes the
    # connection on SO_PEERCRED (its log names B's uid); B's own ward, told
    # to use A's state directory, refuses to talk to a broker served by A.
    other = RootlessUser(prefix="wrlx")
    state = os.path.join(user.home, ".local/state/ward/run")
    chain = [user.home, os.path.join(user.home, ".local"),
             os.path.join(user.home, ".local/state"),
             os.path.join(user.home, ".local/state/ward"), state]
    p = subprocess.Popen(as_user_argv([WARD, "run", "--name", "rlpeer", "-a", "ipc.recv", "--",
                                       "/bin/sh", "-c", "echo up; sleep 30"], user),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    modes = {}
    try:
        assert read_line(p.stdout, 30) == "up\n"
        sock = os.path.join(state, "broker.sock")
        for d in chain + [sock]:
            modes[d] = os.stat(d).st_mode & 0o7777
            os.chmod(d, 0o777 if d == sock else 0o711)
        script = ("import socket, sys\n"
                  "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
                  "s.connect(sys.argv[1]); s.settimeout(20)\n"
                  "print('connected', repr(s.recv(4096)))\n")
        r = subprocess.run(as_user_argv(["/usr/bin/python3", "-c", script, sock], other),
                           capture_output=True, text=True, timeout=60)
        assert r.stdout.strip() == "connected b''", r
        log = os.path.join(state, "broker.log")
        deadline = time.monotonic() + 10
        want = f"refused a control connection from uid {other.uid}: only uid {user.uid}"
        while time.monotonic() < deadline:
            with open(log, errors="replace") as f:
                if want in f.read():
                    break
            time.sleep(0.1)
        with open(log, errors="replace") as f:
            assert want in f.read()
        r = as_user(other, "ps", "--state-dir", state)
        assert r.returncode != 0, r
        assert f"is served by uid {user.uid}" in r.stderr and "not by root or you" in r.stderr, r
        # And A's environment is still A's alone.
        r = as_user(user, "ps")
        assert "rlpeer" in r.stdout, r
    finally:
        for d, m in modes.items():
            try:
                os.chmod(d, m)
            except OSError:
                pass
        p.terminate()
        p.wait(timeout=30)
        p.stdout.close()
        p.stderr.close()
        other.remove()


STATE_ATTACK = r"""
import errno, json, os, socket, sys
state = sys.argv[1]
out = {}
def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))
try:
    out["list"] = sorted(os.listdir(state))
except OSError as e:
    out["list"] = name(e)
try:
    with open(os.path.join(state, "seccomp", "planted.bpf"), "wb") as f:
        f.write(b"\0" * 40)
    out["plant"] = "ok"
except OSError as e:
    out["plant"] = name(e)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect(os.path.join(state, "broker.sock"))
    s.settimeout(10)
    out["broker"] = "closed" if s.recv(100) == b"" else "open"
except socket.timeout:
    out["broker"] = "open"
except OSError as e:
    out["broker"] = name(e)
print(json.dumps(out))
"""


@pytest.mark.parametrize("grant", ["fs.read", "fs.write", "learn"])
def test_sandbox_cannot_reach_the_users_state(user, grant):
    # Every sandbox of a user runs as the user's uid, so the state
    # directory's owner and mode keep none out: a grant of the home (or
    # learn's overlay of /home) would show the broker's control socket (the
    # broker takes the user's uid for the user's own ward), the seccomp
    # cache (a planted entry chooses the next sandbox's filter) and
    # extracted bundles.  An empty read-only tmpfs hides the directory.
    state = os.path.join(user.home, ".local/state/ward/run")
    p = subprocess.Popen(as_user_argv([WARD, "run", "--name", "rlstate", "-a", "ipc.recv", "--",
                                       "/bin/sh", "-c", "echo up; sleep 30"], user),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        assert read_line(p.stdout, 30) == "up\n"
        if grant == "learn":
            args = ["learn", "-q", "--", "/usr/bin/python3", "-c", STATE_ATTACK, state]
        else:
            args = ["run", "-a", f"{grant}={user.home}", "--", "/usr/bin/python3", "-c",
                    STATE_ATTACK, state]
        r = as_user(user, *args)
        assert r.returncode == 0, r
        # A write grant above the state directory is the user's account
        # (the sandbox could put a directory of its own in its place for
        # the next ward): said.
        said = "covers ward's state directory" in r.stderr
        assert said == (grant == "fs.write"), r
        out = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")][0]
        assert out["list"] in ([], "EACCES"), out
        assert out["plant"] in ("EACCES", "EROFS", "ENOENT"), out
        assert out["broker"] in ("ENOENT", "EACCES"), out
        assert "planted.bpf" not in os.listdir(os.path.join(state, "seccomp"))
        r = as_user(user, "ps")
        assert "rlstate" in r.stdout, r
    finally:
        p.terminate()
        p.wait(timeout=30)
        p.stdout.close()
        p.stderr.close()


def test_broker_refuses_a_sandbox_of_the_user(user, udir):
    # Behind the hiding, the broker's own check: a sandbox that reaches the
    # control socket anyway (here a hard link of it in a granted directory)
    # runs as the user's uid but in another user namespace, and is refused.
    state = os.path.join(user.home, ".local/state/ward/run")
    d = udir(0o700)
    p = subprocess.Popen(as_user_argv([WARD, "run", "--name", "rlns", "-a", "ipc.recv", "--",
                                       "/bin/sh", "-c", "echo up; sleep 30"], user),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        assert read_line(p.stdout, 30) == "up\n"
        link = os.path.join(d, "broker.sock")
        os.link(os.path.join(state, "broker.sock"), link)
        script = ("import socket, sys\n"
                  "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
                  "s.connect(sys.argv[1]); s.settimeout(10)\n"
                  "print('closed' if s.recv(100) == b'' else 'open')\n")
        r = as_user(user, "run", "-a", f"fs.read={d}", "--", "/usr/bin/python3", "-c", script,
                    link)
        assert r.returncode == 0 and r.stdout.strip() == "closed", r
        with open(os.path.join(state, "broker.log"), errors="replace") as f:
            assert "it is not in this broker's user namespace" in f.read()
        # The user's own ward is still served.
        r = as_user(user, "ps")
        assert r.returncode == 0 and "rlns" in r.stdout, r
    finally:
        p.terminate()
        p.wait(timeout=30)
        p.stdout.close()
        p.stderr.close()


def test_readme_first_example_as_the_user(user):
    # README "Using it": the first example works as an ordinary user once
    # ward is installed and the user's cgroups delegated (what `sudo make
    # install` does for $SUDO_USER).
    import re as re_mod
    with open(os.path.join(REPO, "README.md")) as f:
        readme = f.read()
    block = readme.split("## Using it", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    first = [l for l in block.splitlines() if l.startswith("ward run")][0]
    cmd = re_mod.sub(r"\s+#.*$", "", first)
    assert cmd == "ward run -- sh -c 'id; hostname; ls /'", cmd
    r = subprocess.run(as_user_argv(["/bin/sh", "-c", WARD + cmd[len("ward"):]], user),
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0].startswith("uid=0(root) gid=0(root)") and lines[1] == "ward", r
    assert "proc" in lines and "usr" in lines and "home" not in lines, r


def test_learn_nothing_persists(user):
    marker = os.path.join(user.home, "learned-marker")
    r = as_user(user, "learn", "--", "/bin/sh", "-c",
                f"echo x > {marker}; echo y > /tmp/ward-rl-learned; cat /etc/hostname")
    assert r.returncode == 0, r
    assert "fs.write=" + user.home in r.stdout, r
    assert not os.path.exists(marker) and not os.path.exists("/tmp/ward-rl-learned")


def test_learn_writes_beneath_host_roots_directories(user, udir):
    # /var/tmp (host root's, 1777) and a directory of the user's in it: the
    # overlay cannot copy up a directory whose owner the user namespace
    # does not map (EOVERFLOW before ward made the chain in the upper
    # layer); the program writes as on the host, a directory of root's that
    # is not writable stays so, and nothing persists.
    mine = udir(0o755)
    tmpname = f"/var/tmp/ward-rl-learn-{os.getpid()}"
    script = (f"set -e; echo a > {mine}/new; echo b > {tmpname}; cat {mine}/new {tmpname}; "
              "if echo c > /var/cache/ward-rl-learn; then echo WROTE; fi; "
              "stat -c '%a %u' /var/tmp /var; echo done")
    r = as_user(user, "learn", "--", "/bin/sh", "-c", script)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[:2] == ["a", "b"] and "done" in lines and "WROTE" not in lines, r
    # The view shows them as the host's, an owner the namespace maps as the
    # overflow id (as it shows every file of host root's).
    assert "1777 65534" in lines and "755 65534" in lines, r
    # Two written paths in /var/tmp: the writer proposes their parent.
    assert "fs.write=/var/tmp  # wrote 2 paths" in r.stdout, r
    assert not os.path.exists(f"{mine}/new") and not os.path.exists(tmpname)
    assert not os.path.exists("/var/cache/ward-rl-learn")


def test_explain_says_what_differs(user):
    r = as_user(user, "explain", "-a", f"fs.write={user.home}")
    assert r.returncode == 0, r
    for needle in ("rootless: uid/gid 0 inside is your uid", "not idmapped",
                   f"ward-users/user-{user.uid}", "nested in it",
                   f"rootless: ward's state directory {user.home}/.local/state/ward/run"):
        assert needle in r.stdout, needle
    # The matrix: a sandbox of the user is the user's uid.
    assert "identity: a host uid range of its own" not in r.stdout


@pytest.mark.parametrize("ent,needle", [
    ("host.time", "host.time needs host privilege"),
])
def test_host_privilege_refused_with_reason(user, ent, needle):
    r = as_user(user, "run", "-a", ent, "--", "/bin/true")
    assert r.returncode == EXIT_FAILURE and needle in r.stderr, r


# ---------------------------------------------------------------- bundles


@pytest.mark.skipif(not os.path.exists("/bin/busybox"), reason="busybox-static is missing")
def test_bundle_trusted_by_the_users_policy_bounded_by_the_systems(user, udir, tmpdir_real):
    w = udir()
    root = os.path.join(w, "root")
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy2("/bin/busybox", os.path.join(root, "bin", "busybox"))
    os.symlink("busybox", os.path.join(root, "bin", "sh"))
    with open(os.path.join(w, "app.ent"), "w") as f:
        f.write("network.loopback\nprocess.limit=64\n")
    subprocess.run(["chown", "-R", f"{user.uid}:{user.gid}", w], check=True)

    def ok(*args, extra_env=()):
        r = as_user(user, *args, extra_env=extra_env)
        assert r.returncode == 0, r
        return r

    ok("key", "generate", "--out", f"{w}/pub")
    ok("bundle", "create", "--rootfs", root, "--cmd", "/bin/sh", "--arg", "-c", "--arg",
       "echo from-bundle", "--manifest", f"{w}/app.ent", "-o", f"{w}/app.ward")
    ok("bundle", "sign", "--key", f"{w}/pub.key", f"{w}/app.ward")
    # The user's own policy: ~/.config/ward/trust.
    os.makedirs(os.path.join(user.home, ".config", "ward"), exist_ok=True)
    subprocess.run(["chown", "-R", f"{user.uid}:{user.gid}", os.path.join(user.home, ".config")],
                   check=True)
    ok("trust", "add", "--key", f"{w}/pub.pub", "--may", "network.*,process.limit<=256")
    assert os.path.exists(os.path.join(user.home, ".config", "ward", "trust"))
    r = ok("run", f"{w}/app.ward")
    assert "from-bundle" in r.stdout, r
    # A system policy that trusts the key for less bounds the user's.
    system = os.path.join(tmpdir_real, "trust")
    r = subprocess.run([WARD, "trust", "add", "--trust", system, "--key", f"{w}/pub.pub",
                        "--may", "process.limit<=256"], capture_output=True, text=True)
    assert r.returncode == 0, r
    r = as_user(user, "run", f"{w}/app.ward", extra_env=[f"WARD_TRUST_SYSTEM={system}"])
    assert r.returncode == EXIT_FAILURE, r
    assert f"{system} bounds your trust policy" in r.stderr and "network.loopback" in r.stderr, r


def test_root_of_a_user_namespace_is_rootless(user):
    # Root of a namespace that is not the host's (podman's rootless one,
    # unshare -r) has no host privilege: ward takes the rootless path, and
    # finds the cgroup delegated to the user by the host uid.
    r = subprocess.run(as_user_argv(["unshare", "-r", WARD, "run", "-a", "process.limit=9", "--",
                                     "/bin/sh", "-c", "cat /proc/self/uid_map"], user),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r
    assert r.stdout.split() == ["0", "0", "1"], r
    assert "delegate" not in r.stderr, r


def test_space_up_ps_down(user, udir):
    # A space whose environments need no interface: up, ps, down as the user;
    # nothing left (talk-to and --publish: tests/network/test_rootless_net.py).
    d = udir()
    with open(os.path.join(d, "rl.toml"), "w") as f:
        f.write('[env.a]\ncommand = ["sleep", "30"]\n[env.b]\ncommand = ["sleep", "30"]\n'
                'allow = ["process.limit=8"]\n')
    os.chown(os.path.join(d, "rl.toml"), user.uid, user.gid)
    before = set(user.processes())
    r = as_user(user, "up", os.path.join(d, "rl.toml"))
    try:
        assert r.returncode == 0, r
        r = as_user(user, "ps")
        assert r.returncode == 0 and r.stdout.count("running") == 2, r
    finally:
        r = as_user(user, "down", "rl")
    assert r.returncode == 0, r
    deadline = time.monotonic() + 10
    while nothing_of(user, before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not nothing_of(user, before)
    assert not [n for n in os.listdir(f"/sys/fs/cgroup/pids/ward-users/user-{user.uid}")
                if n.startswith("run-")]
    r = as_user(user, "gc")
    assert r.returncode == 0, r


def test_memfd_exec_under_scratch_noexec_is_what_explain_says(user):
    # Only host root may raise vm.memfd_noexec in a pid namespace: rootless
    # keeps the host's.  With the host below 2, a memfd made without flags
    # runs (the documented gap, docs/rootless.md); explain says so.  With
    # the host at 2, it is refused as in root mode.
    with open("/proc/sys/vm/memfd_noexec") as f:
        host = int(f.read())
    r = as_user(user, "run", "-q", "-a", exec_grant(), "-a", "fs.scratch.noexec", "--", PROBE,
                "memfd-exec", "payload", "ids")
    e = as_user(user, "explain", "-a", "fs.scratch.noexec")
    if host >= 2:
        assert r.stdout.strip().startswith("errno=EACCES"), r
        assert "rootless: vm.memfd_noexec stays" not in e.stdout
    else:
        assert r.stdout.strip().startswith("ok uid=0"), r
        assert f"rootless: vm.memfd_noexec stays {host}" in e.stdout, e
    # MFD_EXEC itself is refused by the filter either way.
    assert "refused: memfd_create with MFD_EXEC" in e.stdout


@pytest.mark.parametrize("grant", ["fs.read", "fs.write"])
def test_grant_of_the_home_with_attestation_files_in_the_state(user, grant):
    # The user's attestation directory and software host key lie in the
    # user's state directory, which the view hides wherever a grant shows
    # it: a grant of the home is not refused for them (it was, once any
    # bundle had been run, so fs.write=~ stopped working), and the key
    # stays out of the sandbox's reach.
    state = os.path.join(user.home, ".local/state/ward/run")
    attest = os.path.join(state, "attest")
    os.makedirs(attest, mode=0o700, exist_ok=True)
    key = os.path.join(attest, "host.key")
    try:
        with open(key, "w") as f:
            f.write("not a real key\n")
        for d in (os.path.join(user.home, ".local"), os.path.join(user.home, ".local/state"),
                  os.path.join(user.home, ".local/state/ward"), state, attest, key):
            os.chown(d, user.uid, user.gid)
        os.chmod(key, 0o600)
        r = as_user(user, "run", "--best-effort", "-a", f"{grant}={user.home}", "--",
                    "/bin/sh", "-c", f"cat {key} || echo unreadable")
        assert r.returncode == 0, r
        assert "not a real key" not in r.stdout, r
        assert "unreadable" in r.stdout, r
    finally:
        shutil.rmtree(attest, ignore_errors=True)

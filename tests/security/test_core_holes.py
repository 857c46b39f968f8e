# SPDX-License-Identifier: GPL-2.0-or-later
"""Holes in the sandbox core (issue 11) and the attacks of its review.

Each test runs the attack from inside a real sandbox and checks the result
where it matters: on the host (the mode and extended attributes of a file the
sandbox wrote, the host uid a sandbox runs as, a sysctl of the host), and
names the layer that stopped it by what only that layer gives: the syscall
filter's own denial record (--denials-log), or an errno the kernel gives
only because a capability is missing.  docs/threat-model/h1-core.md lists
what each test proves.

Python runs inside the sandbox (the host's /usr is part of every view), so
that each attack is a few readable lines.
"""

import errno
import fcntl
import json
import os
import re
import resource
import shlex
import stat
import subprocess
import textwrap

import pytest

from conftest import (PROBE, WARD, allow_args, as_user_argv, descendants, exec_grant,
                      give_to_test_user, proc_table, read_line, rootless, run_probe, run_ward)

PY = "/usr/bin/python3"
LEVELS = {"confined": [], "user": ["security.user"], "admin": ["security.admin"]}
SETID = stat.S_ISUID | stat.S_ISGID


def run_py(script, *args, allow=(), opts=(), wrapper=(), timeout=60):
    argv = (["run", "-q"] + allow_args(allow) + list(opts) + ["--"] + list(wrapper) +
            [PY, "-c", textwrap.dedent(script)] + [str(a) for a in args])
    return run_ward(*argv, timeout=timeout)


def last_json(r):
    """The JSON object the in-sandbox script printed last."""
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    assert lines, r
    return json.loads(lines[-1])


def denials(path):
    """The records ward wrote to --denials-log PATH."""
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def host_setid_files(d):
    """Regular files under d (on the host) that carry S_ISUID or S_ISGID."""
    found = []
    for root, _, files in os.walk(d):
        for name in files:
            st = os.lstat(os.path.join(root, name))
            if stat.S_ISREG(st.st_mode) and st.st_mode & SETID:
                found.append((os.path.join(root, name), oct(st.st_mode)))
    return found


def host_fcaps_files(d):
    found = []
    for root, _, files in os.walk(d):
        for name in files:
            p = os.path.join(root, name)
            if "security.capability" in os.listxattr(p, follow_symlinks=False):
                found.append((p, os.getxattr(p, "security.capability").hex()))
    return found


@pytest.fixture
def logdir(make_tmpdir):
    return make_tmpdir(mode=0o700)


# A script that tries every way to give a file a set-id mode (argv[1] is the
# granted directory) and prints {attempt: "ok" | errno name}.
SETID_SCRIPT = r"""
import errno, json, os, stat, sys
D = sys.argv[1]
out = {}
def t(name, f):
    try:
        f()
        out[name] = "ok"
    except OSError as e:
        out[name] = errno.errorcode.get(e.errno, str(e.errno))
src = open("/bin/true", "rb").read()
def make(name):
    p = os.path.join(D, name)
    with open(p, "wb") as f:
        f.write(src)
    return p
a, b, c = make("chmod-suid"), make("chmod-sgid"), make("fchmod")
t("chmod 04755", lambda: os.chmod(a, 0o4755))
t("chmod 02755", lambda: os.chmod(b, 0o2755))
def fch():
    fd = os.open(c, os.O_RDONLY)
    try:
        os.fchmod(fd, 0o4711)
    finally:
        os.close(fd)
t("fchmod 04711", fch)
t("open O_CREAT 06755", lambda: os.close(
    os.open(os.path.join(D, "open"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o6755)))
t("mknod 04755", lambda: os.mknod(os.path.join(D, "mknod"), stat.S_IFREG | 0o4755))
def tmpfile():
    fd = os.open(D, os.O_WRONLY | os.O_TMPFILE, 0o4755)
    try:
        os.write(fd, src)
        os.link("/proc/self/fd/%d" % fd, os.path.join(D, "tmpfile"))
    finally:
        os.close(fd)
t("O_TMPFILE 04755", tmpfile)
print(json.dumps(out))
"""

# What the filter's denial record says for each attempt (its decoded key).
SETID_KEYS = {
    "chmod 04755": "mode 04755",
    "chmod 02755": "mode 02755",
    "fchmod 04711": "mode 04711",
    "open O_CREAT 06755": "O_CREAT, mode 06755",
    "mknod 04755": "mode 04755",
    "O_TMPFILE 04755": "O_TMPFILE, mode 04755",
}


@pytest.mark.parametrize("owner", [0, 1234], ids=["root-owned", "user-owned"])
@pytest.mark.parametrize("level", list(LEVELS))
def test_setid_modes_never_reach_the_host(level, owner, make_tmpdir, logdir):
    """Item 1: fs.write must not let the sandbox plant a set-id file.  The
    idmapped grant makes the sandbox's root the directory's owner, so before
    the fix chmod 4755 left a set-user-ID file of that owner (root) on the
    host.  The syscall filter refuses every mode call with S_ISUID/S_ISGID:
    each attempt gets EPERM AND a denial record of the filter naming the
    mode, and the host sees no set-id file."""
    d = make_tmpdir(uid=owner, gid=owner)
    log = os.path.join(logdir, "denials.jsonl")
    r = run_py(SETID_SCRIPT, d, allow=[f"fs.write={d}"] + LEVELS[level],
               opts=["--denials-log", log])
    assert r.returncode == 0, r
    out = last_json(r)
    assert host_setid_files(d) == [], (out, r)
    recs = denials(log)
    for attempt, key in SETID_KEYS.items():
        assert out[attempt] == "EPERM", (attempt, out)
        assert any(x["arg"] == key and x["errno"] == errno.EPERM and x["entitlement"] is None
                   for x in recs), (attempt, key, recs)
    # The operator is told what was refused and why, in words.
    assert "set-user-ID or set-group-ID mode" in r.stderr, r
    # Files without set-id bits were written normally (the grant works).
    assert os.path.exists(os.path.join(d, "chmod-suid"))


@pytest.mark.parametrize("level", list(LEVELS))
def test_setid_mode_without_create_is_allowed(level, make_tmpdir):
    """The open rule looks at the mode only when the call creates a file:
    opening an existing file with a stray set-id mode argument works, and
    plain modes work everywhere (no collateral on ordinary programs)."""
    d = make_tmpdir()
    with open(os.path.join(d, "f"), "w") as f:
        f.write("x")
    give_to_test_user(os.path.join(d, "f"))
    r = run_py(r"""
        import os, sys, json
        D = sys.argv[1]
        fd = os.open(os.path.join(D, "f"), os.O_RDONLY, 0o4755)
        os.close(fd)
        os.chmod(os.path.join(D, "f"), 0o1777 & 0o755)
        os.mkdir(os.path.join(D, "d"), 0o755)
        os.close(os.open(os.path.join(D, "g"), os.O_WRONLY | os.O_CREAT, 0o640))
        print(json.dumps({"ok": True}))
        """, d, allow=[f"fs.write={d}"] + LEVELS[level])
    assert r.returncode == 0, r
    assert last_json(r) == {"ok": True}
    assert stat.S_IMODE(os.stat(os.path.join(d, "g")).st_mode) == 0o640


# security.capability v2 (20 bytes) and v3 (24 bytes, rootid 0) granting
# CAP_SETUID permitted + effective.
FCAP_V2 = "0100000280000000000000000000000000000000"
FCAP_V3 = "0100000380000000000000000000000000000000" + "00000000"

FCAP_SCRIPT = r"""
import errno, json, os, sys
D, value = sys.argv[1], bytes.fromhex(sys.argv[2])
p = os.path.join(D, "victim")
with open(p, "wb") as f:
    f.write(open("/bin/true", "rb").read())
try:
    os.setxattr(p, "security.capability", value)
    out = "ok"
except OSError as e:
    out = errno.errorcode.get(e.errno, str(e.errno))
print(json.dumps({"setxattr": out}))
"""


@pytest.mark.parametrize("owner", [0, 1234], ids=["root-owned", "user-owned"])
@pytest.mark.parametrize("value", [FCAP_V2, FCAP_V3], ids=["v2", "v3"])
def test_file_capability_capability_layer(value, owner, make_tmpdir, logdir):
    """Item 1, file capabilities, the capability layer: security.user had
    Docker's CAP_SETFCAP, and through the idmapped grant the kernel stored a
    capability whose root is the directory's owner on the host (a real file
    capability for a root-owned directory).  No sandbox holds CAP_SETFCAP
    now: the kernel refuses (EPERM) while the filter lets the call through
    (no denial record)."""
    d = make_tmpdir(uid=owner, gid=owner)
    log = os.path.join(logdir, "denials.jsonl")
    r = run_py(FCAP_SCRIPT, d, value, allow=[f"fs.write={d}", "security.user"],
               opts=["--denials-log", log])
    assert r.returncode == 0, r
    assert host_fcaps_files(d) == [], r
    assert last_json(r) == {"setxattr": "EPERM"}, r
    assert [x for x in denials(log) if x["syscall"].endswith("setxattr")] == []
    caps = run_probe("status", "CapBnd", "CapEff", allow=["security.user"])
    assert caps.returncode == 0, caps
    for field in ("CapBnd", "CapEff"):
        mask = int(caps[field], 16)
        assert not mask & (1 << 31), ("CAP_SETFCAP", caps)  # 31: CAP_SETFCAP
        assert not mask & (1 << 4), ("CAP_FSETID", caps)  # 4: CAP_FSETID


@pytest.mark.parametrize("owner", [0, 1234], ids=["root-owned", "user-owned"])
@pytest.mark.parametrize("value", [FCAP_V2, FCAP_V3], ids=["v2", "v3"])
def test_file_capability_from_nested_userns_filtered(value, owner, make_tmpdir, logdir):
    """Item 1, file capabilities, the seccomp layer: under security.admin
    the program can make a nested user namespace, where it holds every
    capability (CAP_SETFCAP included) over the granted files.  The filter
    refuses set*xattr of the two sizes a file capability has: EPERM and the
    filter's record 'size 20' / 'size 24'."""
    d = make_tmpdir(uid=owner, gid=owner)
    log = os.path.join(logdir, "denials.jsonl")
    r = run_py(FCAP_SCRIPT, d, value, allow=[f"fs.write={d}", "security.admin"],
               opts=["--denials-log", log], wrapper=["/usr/bin/unshare", "-Ur"])
    assert r.returncode == 0, r
    assert host_fcaps_files(d) == [], r
    assert last_json(r) == {"setxattr": "EPERM"}, r
    size = len(bytes.fromhex(value))
    assert any(x["syscall"] == "setxattr" and x["arg"] == f"size {size}" and
               x["errno"] == errno.EPERM for x in denials(log)), denials(log)
    assert "file capability" in r.stderr, r


@pytest.mark.parametrize("nested", [False, True], ids=["direct", "nested-userns"])
@pytest.mark.parametrize("level", list(LEVELS))
def test_existing_setid_file_loses_its_bits_when_written(level, nested, make_tmpdir):
    """A control of a kernel guarantee the threat model relies on, not a
    layer of ward: writing into a set-id program of a granted directory
    clears S_ISUID and the group-executable S_ISGID whoever writes, even
    with CAP_FSETID in a nested user namespace (Linux 6.x,
    setattr_should_drop_suidgid), so a sandbox cannot rewrite a set-user-ID
    root program and keep it privileged."""
    if nested and level != "admin":
        pytest.skip("only security.admin may make a nested user namespace")
    d = make_tmpdir()
    victim = os.path.join(d, "victim")
    with open("/bin/true", "rb") as src, open(victim, "wb") as dst:
        dst.write(src.read())
    give_to_test_user(victim)
    os.chmod(victim, 0o6755)
    r = run_py(r"""
        import os, sys, json
        fd = os.open(sys.argv[1], os.O_WRONLY)
        os.pwrite(fd, b"\x7fELF", 0)
        os.close(fd)
        print(json.dumps({"written": True}))
        """, victim, allow=[f"fs.write={d}"] + LEVELS[level],
               wrapper=["/usr/bin/unshare", "-Ur"] if nested else [])
    assert r.returncode == 0, r
    assert last_json(r) == {"written": True}
    mode = os.stat(victim).st_mode
    assert not mode & SETID, f"{victim} kept a set-id bit on the host: {oct(mode)}"


# ---------------------------------------------------------------- memfd (item 9)

MEMFD_SCRIPT = r"""
import errno, json, mmap, os, sys
out = {}
def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))
with open("/proc/sys/vm/memfd_noexec") as f:
    out["memfd_noexec"] = f.read().strip()
fd = os.memfd_create("payload", 0)
os.write(fd, open("/bin/true", "rb").read())
out["mode"] = oct(os.fstat(fd).st_mode & 0o7777)
try:
    os.fchmod(fd, 0o755)
    out["fchmod"] = "ok"
except OSError as e:
    out["fchmod"] = name(e)
try:
    os.memfd_create("exec", 0x10)  # MFD_EXEC
    out["mfd_exec"] = "ok"
except OSError as e:
    out["mfd_exec"] = name(e)
# Anonymous executable memory stays possible (JIT compilers need it).
m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
out["anon_exec_mmap"] = "ok"
m.close()
out["execveat"] = "pending"
print(json.dumps(out), flush=True)
try:
    os.execve(fd, ["payload"], {})   # execveat(fd, "", AT_EMPTY_PATH)
except OSError as e:
    print(json.dumps({"execveat": name(e)}), flush=True)
"""


def test_memfd_bytes_cannot_be_executed(logdir):
    """Item 9: under fs.scratch.noexec nothing the program writes can be
    executed without a grant, memfds included (issue 13 made the scratch
    space, memfds with it, executable by default).  Before the fix execveat of a
    memfd holding /bin/true ran it.  Now vm.memfd_noexec=2 holds in the
    sandbox's pid namespace (memfds are 0666 and sealed so: fchmod +x is
    EPERM, execveat is EACCES), memfd_create(MFD_EXEC) is refused by the
    filter (EPERM and its record), and the host's own setting is untouched."""
    with open("/proc/sys/vm/memfd_noexec") as f:
        host_before = f.read().strip()
    log = os.path.join(logdir, "denials.jsonl")
    r = run_py(MEMFD_SCRIPT, allow=["fs.scratch.noexec"], opts=["--denials-log", log])
    assert r.returncode == 0, r
    out = last_json(r)
    first = json.loads([l for l in r.stdout.splitlines() if '"memfd_noexec"' in l][0])
    if rootless() and host_before != "2":
        # docs/rootless.md: only the host's root may write a pid
        # namespace's sysctl; the host's value holds, and a memfd made
        # without MFD_EXEC runs.  The filter's refusal of MFD_EXEC stays.
        assert first["memfd_noexec"] == host_before, first
    else:
        assert out.get("execveat") == "EACCES", ("the memfd was executed", r)
        assert first["memfd_noexec"] == "2", first
        assert first["mode"] == "0o666", first
        assert first["fchmod"] == "EPERM", first
    assert first["mfd_exec"] == "EPERM", first
    assert first["anon_exec_mmap"] == "ok", first
    assert any(x["syscall"] == "memfd_create" and x["arg"] == "MFD_EXEC" and
               x["errno"] == errno.EPERM for x in denials(log)), denials(log)
    with open("/proc/sys/vm/memfd_noexec") as f:
        assert f.read().strip() == host_before, "the sandbox changed the host's sysctl"


def test_memfd_follows_the_scratch_switch(logdir):
    """Issue 13: by default the scratch space is the program's own and runs
    what it wrote there, memfds too: no sysctl is written (the host's value
    holds inside), MFD_EXEC is not refused, and nothing is denied."""
    with open("/proc/sys/vm/memfd_noexec") as f:
        host = f.read().strip()
    log = os.path.join(logdir, "denials.jsonl")
    r = run_py(MEMFD_SCRIPT, opts=["--denials-log", log])
    assert r.returncode == 0, r
    first = json.loads([l for l in r.stdout.splitlines() if '"memfd_noexec"' in l][0])
    assert first["memfd_noexec"] == host, first
    if host == "0":
        assert first["mfd_exec"] == "ok", first
        assert last_json(r).get("execveat") != "EACCES", r
    assert not [x for x in denials(log) if x.get("syscall") == "memfd_create"], denials(log)


def test_memfd_noexec_cannot_be_lowered():
    """The sysctl is per pid namespace and hierarchical: the program (even
    security.admin, with CAP_SYS_ADMIN in its user namespace, or a nested
    pid namespace) cannot lower it."""
    r = run_py(r"""
        import errno, json
        out = {}
        try:
            with open("/proc/sys/vm/memfd_noexec", "w") as f:
                f.write("0")
            out["write"] = "ok"
        except OSError as e:
            out["write"] = errno.errorcode.get(e.errno, str(e.errno))
        out["value"] = open("/proc/sys/vm/memfd_noexec").read().strip()
        print(json.dumps(out))
        """, allow=["security.admin", "fs.scratch.noexec"],
        wrapper=["/usr/bin/unshare", "-Urpf"])
    assert r.returncode == 0, r
    out = last_json(r)
    if rootless():
        # Rootless, the host's value holds (docs/rootless.md), and the
        # program cannot change it either way.
        with open("/proc/sys/vm/memfd_noexec") as f:
            assert out["value"] == f.read().strip(), out
    else:
        assert out["value"] == "2", out
    assert out["write"] != "ok", out


# ---------------------------------------------------------------- uid pool

def host_uid_of_probe(ward_pid):
    """The host uid of the probe running under the ward process WARD_PID."""
    table = proc_table()
    for pid in descendants(ward_pid, table):
        if pid in table and table[pid][2].startswith(PROBE):
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("Uid:"):
                        return int(line.split()[1])
    return None


def start_waiting(spawned, state_dir):
    p = spawned([WARD, "run", "-q", "--state-dir", state_dir, "-a", exec_grant(), "--", PROBE,
                 "wait-signal", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True)
    assert read_line(p.stdout, 30).strip() == "ready", p
    return p


def test_uid_ranges_distinct_across_state_dirs(spawned, make_tmpdir):
    """Suspected item: the uid pool lived under <state-dir>/ids, so two
    sandboxes with different --state-dir could get the same host uid range.
    The test makes it certain: every slot but the first sandbox's is held in
    the second state directory's pool, so a per-state-dir pool can only hand
    out that same slot again.  The pool is host-wide now."""
    if rootless():
        pytest.skip("root mode's host uid pool: every rootless sandbox of a user runs as the "
                    "user's own uid (docs/rootless.md, identity)")
    sd1, sd2 = make_tmpdir(mode=0o700), make_tmpdir(mode=0o700)
    a = start_waiting(spawned, sd1)
    uid_a = host_uid_of_probe(a.pid)
    assert uid_a is not None and uid_a >= 0x70000000, uid_a
    slot_a = (uid_a - 0x70000000) // 65536
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    held = []
    try:
        os.makedirs(os.path.join(sd2, "ids"), mode=0o700)
        for slot in range(1024):
            if slot == slot_a:
                continue
            fd = os.open(os.path.join(sd2, "ids", f"{slot}.lock"),
                         os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held.append(fd)
        b = start_waiting(spawned, sd2)
        uid_b = host_uid_of_probe(b.pid)
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert uid_b is not None, uid_b
    assert uid_a // 65536 != uid_b // 65536, \
        f"two running sandboxes share the host uid range of slot {slot_a}"


def test_state_dir_holds_no_uid_pool(make_tmpdir):
    sd = make_tmpdir(mode=0o700)
    r = run_ward("run", "-q", "--state-dir", sd, "--", "/bin/true")
    assert r.returncode == 0, r
    assert not os.path.exists(os.path.join(sd, "ids")), os.listdir(sd)


# ---------------------------------------------------------------- explain

def test_explain_says_what_is_refused_and_why(make_tmpdir):
    d = make_tmpdir()
    r = run_ward("explain", "-a", f"fs.write={d}", "-a", "security.admin", "-a",
                 "fs.scratch.noexec")
    assert r.returncode == 0, r
    out = r.stdout
    assert "S_ISUID or S_ISGID" in out, out
    assert "never CAP_FSETID" in out, out
    assert "20- or 24-byte value" in out, out
    assert "MFD_EXEC" in out and "vm.memfd_noexec=2" in out, out
    # Without fs.scratch.noexec the scratch space executes, and says so.
    r = run_ward("explain", "-a", f"fs.write={d}")
    assert "MFD_EXEC" not in r.stdout and "vm.memfd_noexec=2" not in r.stdout, r
    assert "executable: what the program writes there may run" in r.stdout, r
    assert re.search(r"execute what the program wrote into a fs.write grant\s+2 layers",
                     r.stdout), r
    assert re.search(r"leave a set-id file on the host\s+2 layers", out), out
    assert re.search(r"leave a file capability on the host\s+1 layer", out), out
    assert "CAP_FSETID" not in re.search(r"capabilities +(.*)", out).group(1).split(";")[0]


# ---------------------------------------------------------------- review findings

def test_host_device_events_unreachable(logdir):
    """Review: with network.loopback (AF_NETLINK allowed) a sandbox received
    the host's device events (NETLINK_KOBJECT_UEVENT: hotplug, device paths,
    USB ids): its network namespace belongs to the host's user namespace, and
    the kernel broadcasts uevents to every such namespace.  The filter
    refuses that protocol (EPERM and its record) while other netlink
    protocols (NETLINK_ROUTE, for getifaddrs) still work."""
    log = os.path.join(logdir, "denials.jsonl")
    r = run_py(r"""
        import errno, json, socket
        out = {}
        for name, proto in (("route", 0), ("uevent", 15)):
            try:
                socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, proto).close()
                out[name] = "ok"
            except OSError as e:
                out[name] = errno.errorcode.get(e.errno, str(e.errno))
        print(json.dumps(out))
        """, allow=["network.loopback"], opts=["--denials-log", log])
    assert r.returncode == 0, r
    assert last_json(r) == {"route": "ok", "uevent": "EPERM"}, r
    assert any(x["syscall"] == "socket" and x["arg"] == "AF_NETLINK, NETLINK_KOBJECT_UEVENT"
               and x["errno"] == errno.EPERM for x in denials(log)), denials(log)
    assert "device events" in r.stderr, r


def test_mountinfo_reveals_no_host_path_beyond_the_view(make_tmpdir):
    """Suspected item: /proc/self/mountinfo shows, for each mount, the path of
    its root inside its filesystem.  For the host's system directories and
    for grants that path is the mount point itself, which the sandbox sees
    anyway: a grant of /var/tmp/X/secret-name/sub reveals that path, nothing
    of its parents' other contents.  What else it shows (the host's device
    name and numbers, filesystem options) is documented in
    docs/architecture.md as accepted (st_dev and statfs tell as much).  This
    test pins that: no mount's root is a host path other than its own mount
    point."""
    d = make_tmpdir()
    sub = os.path.join(d, "secret-name", "sub")
    os.makedirs(sub)
    r = run_ward("run", "-q", "-a", f"fs.write={sub}", "--", "/bin/cat",
                 "/proc/self/mountinfo")
    assert r.returncode == 0, r
    seen_grant = False
    for line in r.stdout.splitlines():
        f = line.split()
        root, point = f[3], f[4]
        fstype = f[f.index("-") + 1]
        if point == sub:
            seen_grant = True
        if root in ("/", point):
            continue
        # Single nodes of the host's devtmpfs bound into /dev or over masked
        # /proc files, and /proc's own subdirectories made read-only.
        if fstype == "devtmpfs" and root.count("/") == 1:
            continue
        if fstype == "proc" and point == "/proc" + root:
            continue
        pytest.fail(f"mount {point} shows the host path {root}: {line}")
    assert seen_grant, r.stdout


# Attacks of the review that the core already stops, pinned as regression
# tests: the program against ward's init and the host (CVE-2024-21626-style
# descriptors and directories, ptrace-class access to init, signals out,
# cgroups).  Each prints {attack: "ok" | errno name}.
REVIEW_SCRIPT = r"""
import ctypes, errno, json, os, signal
libc = ctypes.CDLL(None, use_errno=True)
out = {}
def t(name, f):
    try:
        r = f()
        out[name] = "ok" if r is None or r is True else "ok:%s" % (r,)
    except OSError as e:
        out[name] = errno.errorcode.get(e.errno, str(e.errno))
def call(r):
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return True
# Descriptors: only 0-2 reach the program (listdir's own descriptor aside).
fds = sorted(int(x) for x in os.listdir("/proc/self/fd"))
out["fds"] = [f for f in fds if f <= 2 or os.path.exists("/proc/self/fd/%d" % f)]
out["cwd"] = os.getcwd()
# ward's init: host root in the sandbox's pid namespace.
for f in ("environ", "mem", "maps", "auxv", "syscall", "stack"):
    t("/proc/1/" + f, lambda f=f: open("/proc/1/" + f, "rb").read(1))
for f in ("cwd", "root", "exe"):
    t("/proc/1/" + f, lambda f=f: os.readlink("/proc/1/" + f))
t("/proc/1/fd", lambda: os.listdir("/proc/1/fd"))
t("/proc/1/fd/0", lambda: os.close(os.open("/proc/1/fd/0", os.O_RDONLY)))
t("/proc/1/root/", lambda: os.listdir("/proc/1/root/"))
t("setns /proc/1/ns/mnt", lambda: os.open("/proc/1/ns/mnt", os.O_RDONLY))
t("kill 1 SIGKILL", lambda: os.kill(1, signal.SIGKILL))
pfd = os.pidfd_open(1)
t("pidfd_send_signal init", lambda: signal.pidfd_send_signal(pfd, signal.SIGTERM))
t("prctl PR_SET_MM", lambda: call(libc.prctl(35, 8, 0, 0, 0)))
# cgroups: nothing of the host's hierarchy is mounted, the namespace's root
# is the sandbox's own cgroup.
t("/sys/fs/cgroup", lambda: os.listdir("/sys/fs/cgroup"))
out["cgroup paths"] = sorted({l.split(":", 2)[2].strip() for l in open("/proc/self/cgroup")})
t("/proc/sys write", lambda: open("/proc/sys/kernel/core_pattern", "w").write("|/x"))
t("/sys write", lambda: open("/sys/kernel/uevent_helper", "w").write("/x"))
print(json.dumps(out))
"""


def test_review_attacks_on_init_and_host():
    r = run_py(REVIEW_SCRIPT)
    assert r.returncode == 0, r
    out = last_json(r)
    assert out["fds"] == [0, 1, 2], out
    assert out["cwd"] == "/", out
    for f in ("environ", "mem", "maps", "auxv", "syscall", "stack", "cwd", "root", "exe",
              "fd", "root/"):
        # Rootless, init runs as the same host uid as the program: the
        # kernel's ptrace check (init's user namespace, where the program
        # has no capability) refuses /proc/1/syscall with EPERM before the
        # file's mode is looked at.
        want = ("EACCES", "EPERM") if rootless() and f == "syscall" else ("EACCES",)
        if rootless() and f == "fd":
            # Rootless, init's /proc directories belong to the user (the
            # root of init's user namespace): the program lists init's
            # descriptor numbers, which are 0-2, and opens none of them.
            want = ("ok:['0', '1', '2']",)
        assert out["/proc/1/" + f] in want, (f, out)
    assert out["/proc/1/fd/0"] == "EACCES", out
    assert out["setns /proc/1/ns/mnt"] == "EACCES", out
    assert out["kill 1 SIGKILL"] == "EPERM", out
    assert out["pidfd_send_signal init"] == "EPERM", out
    assert out["prctl PR_SET_MM"] == "EPERM", out
    assert out["/sys/fs/cgroup"] == "ok:[]", out
    assert out["cgroup paths"] == ["/"], out
    assert out["/proc/sys write"] == "EROFS", out
    assert out["/sys write"] == "EROFS", out


def test_review_admin_cannot_lift_masks_or_reach_cgroups():
    """security.admin mounts in a mount namespace of its own user namespace:
    what init mounted is locked beneath it (umount2 EINVAL), and proc, sysfs
    and cgroup filesystems cannot be mounted anew (EPERM: proc and sysfs are
    partly masked, the cgroup namespace belongs to the host's user
    namespace), not even from a nested user namespace."""
    script = r"""
        import ctypes, errno, json, os
        libc = ctypes.CDLL(None, use_errno=True)
        out = {}
        def e(r):
            return "ok" if r == 0 else errno.errorcode.get(ctypes.get_errno(), "?")
        os.makedirs("/tmp/m", exist_ok=True)
        for p in ("/proc/keys", "/proc/sys", "/sys/firmware", "/usr"):
            out["umount " + p] = e(libc.umount2(p.encode(), 2))
        for fs, data in (("proc", None), ("sysfs", None), ("cgroup2", None),
                         ("cgroup", b"memory")):
            out["mount " + fs] = e(libc.mount(fs.encode(), b"/tmp/m", fs.encode(), 0, data))
        # MS_REMOUNT | MS_BIND: read-write again
        out["remount /proc/sys rw"] = e(libc.mount(None, b"/proc/sys", None, 0x20 | 0x1000, None))
        print(json.dumps(out))
        """
    for wrapper in ([], ["/usr/bin/unshare", "-Ur"]):
        r = run_py(script, allow=["security.admin"], wrapper=wrapper)
        assert r.returncode == 0, r
        out = last_json(r)
        for k, v in out.items():
            # A nested user namespace does not own the mount namespace at
            # all: EPERM before the lock is even looked at.
            want = "EINVAL" if k.startswith("umount") and not wrapper else "EPERM"
            assert v == want, (wrapper, k, out)


@pytest.mark.parametrize("level", sorted(LEVELS))
def test_a_grant_beneath_a_system_tree_never_reaches_a_shared_host(level, tmp_path):
    """On a host whose "/" is shared (systemd's default), the copies ward
    made of host trees stayed peers of the host's mounts: a grant mounted
    beneath /etc in the view also appeared on the host's /etc, idmapped to
    the sandbox's ids, and stayed there after ward exited.  The "host" here
    is a mount namespace of the test's own with "/" made shared (rootless
    too: ward runs there as the test user); no mount of the sandbox may be
    anyone's peer."""
    target = f"/etc/ward-test-propagation-{os.getpid()}"
    os.mkdir(target)
    give_to_test_user(target)
    ward = shlex.join(as_user_argv([WARD, "run", "-q", "-a", f"fs.write={target}"] +
                                   allow_args(LEVELS[level]) +
                                   ["--", "/bin/cat", "/proc/self/mountinfo"]))
    try:
        script = textwrap.dedent(f"""\
            set -e
            mount --make-rshared /
            {ward} > {tmp_path}/inside
            cat /proc/self/mountinfo > {tmp_path}/after
            """)
        r = subprocess.run(["/usr/bin/unshare", "-m", "--", "/bin/sh", "-c", script],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r
        inside = (tmp_path / "inside").read_text()
        after = (tmp_path / "after").read_text()
        assert f" {target} " in inside, inside
        assert "shared:" not in inside, inside
        assert target not in after, after
    finally:
        os.rmdir(target)

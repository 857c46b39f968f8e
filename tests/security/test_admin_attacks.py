# SPDX-License-Identifier: GPL-2.0-or-later
"""Attacks on the admin entitlements (issue 18) from the program inside.

The attacker is the program in a sandbox with security.admin,
network.admin and host.devices.admin (alone or together): root of its own
user namespace with CAP_SYS_ADMIN, CAP_NET_ADMIN there, /dev/fuse and
/dev/net/tun, the sandbox's cgroup to divide, a covered unmasked procfs at
/dev/.ward-nest, and KEEP_CAPS unlocked.  Each test runs the attack in a
real sandbox and asserts the layer that stops it (the errno only that layer
gives, or what the host sees afterwards).  docs/threat-model/engines.md
lists them.
"""

import os
import shutil
import subprocess

import pytest

import conftest
from conftest import WARD, Result

ADMIN3 = ["security.admin", "network.admin", "host.devices.admin"]
PY = "/usr/bin/python3"

pytestmark = pytest.mark.skipif(not os.access(PY, os.X_OK), reason="python3 is not installed")

# Helpers the in-sandbox scripts share: e(r) names the errno of a libc call,
# sh(cmd) runs a shell command and returns (status, output).
PRELUDE = (
    "import ctypes, os, subprocess, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "def e(r): return 'ok' if r == 0 else os.strerror(ctypes.get_errno())\n"
    "def sh(c):\n"
    "    r = subprocess.run(c, shell=True, capture_output=True, text=True)\n"
    "    return 'ok' if r.returncode == 0 else 'fail:' + (r.stdout + r.stderr).strip()[-120:]\n")


def ward_popen(args, timeout=180):
    """ward ARGS; returns (Result, ward's pid), so that the test can look for
    the sandbox's cgroup (run-PID) on the host afterwards."""
    argv = [WARD] + [str(a) for a in args]
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, errors="replace") as p:
        conftest.started_pids.add(p.pid)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            pytest.fail(f"{argv} did not finish\nstdout: {out!r}\nstderr: {err!r}")
    return Result([str(a) for a in args], p.returncode, out, err), p.pid


def run_py(code, allow=ADMIN3, extra=(), timeout=180):
    """Run CODE (after PRELUDE) with python3 in a sandbox with ALLOW; return
    (Result, {key: value}) from its `key value` lines."""
    args = ["run", "-q", *sum((["-a", a] for a in allow), []), *extra, "--", PY, "-c",
            PRELUDE + code]
    r, _ = ward_popen(args, timeout=timeout)
    assert r.returncode == 0, r
    got = {}
    for line in r.stdout.strip().split("\n"):
        if line:
            k, _, v = line.partition(" ")
            got[k] = v
    return r, got


def cgroup_dirs(pid):
    """The host's cgroup directories of the sandbox ward PID ran."""
    out = []
    for ctrl in ("pids", "memory", "cpu", "cpu,cpuacct"):
        d = os.path.join(conftest.CGROUP_ROOT, ctrl, "ward", f"run-{pid}")
        if os.path.isdir(d) and not os.path.islink(os.path.join(conftest.CGROUP_ROOT, ctrl)):
            out.append(d)
    return out


def remove_tree(d):
    """Remove a cgroup tree depth first (our own leftovers, when the test
    fails)."""
    for root, dirs, _ in os.walk(d, topdown=False):
        for x in dirs:
            try:
                os.rmdir(os.path.join(root, x))
            except OSError:
                pass
    try:
        os.rmdir(d)
    except OSError:
        pass


# ---------------------------------------------------------------- the given cgroup

@pytest.mark.skipif(not os.path.isdir("/sys/fs/cgroup/pids"), reason="needs cgroup v1 pids")
def test_deep_and_dotted_child_cgroups_do_not_outlive_the_sandbox():
    # The sandbox nests child cgroups deeper than any fixed recursion limit
    # and names one with a leading dot, in every hierarchy it was given.
    # When it is gone, none of them (nor the sandbox's cgroup) may stay on
    # the host: a cgroup the sandbox leaves behind outlives every limit
    # ward set.  (Before: depth > 32 and dot names were skipped; the
    # sandbox's cgroup stayed, with a warning blaming "processes".)
    code = (
        "for c in ('pids', 'memory', 'cpu'):\n"
        "    d = '/sys/fs/cgroup/' + c\n"
        "    os.mkdir(d + '/.hidden')\n"
        "    os.chdir(d)\n"
        "    for i in range(48):\n"
        "        os.mkdir('n'); os.chdir('n')\n"
        "    print(c, 'deep')\n")
    args = ["run", "-q", "-a", "security.admin", "-a", "process.limit=40", "--", PY, "-c",
            PRELUDE + code]
    r, pid = ward_popen(args)
    left = cgroup_dirs(pid)
    for d in left:
        remove_tree(d)
    assert r.returncode == 0 and r.stdout.split() == ["pids", "deep", "memory", "deep", "cpu",
                                                      "deep"], r
    assert left == [], (left, r)
    assert "cannot remove cgroup" not in r.stderr, r


@pytest.mark.skipif(not os.path.isdir("/sys/fs/cgroup/pids"), reason="needs cgroup v1 pids")
def test_own_cgroup_limits_cannot_be_changed():
    # The limit files of the sandbox's own cgroup stay host root's: no
    # write (EACCES), no chmod or chown (EPERM: owner unmapped), no
    # hierarchy of its own (devices, freezer, a named one, cgroup2) mounted
    # in its cgroup namespace, which the sandbox's user namespace does not
    # own (EPERM), and no release_agent through a mount option (EINVAL).
    code = (
        "for f in ('pids/pids.max', 'memory/memory.limit_in_bytes', 'cpu/cpu.cfs_quota_us',\n"
        "          'pids/notify_on_release', 'pids/cgroup.clone_children'):\n"
        "    p = '/sys/fs/cgroup/' + f\n"
        "    try:\n"
        "        open(p, 'w').write('1')\n"
        "        print(f.replace('/', '.'), 'ok')\n"
        "    except OSError as x:\n"
        "        print(f.replace('/', '.'), x.strerror)\n"
        "print('chmod', e(libc.chmod(b'/sys/fs/cgroup/pids/pids.max', 0o666)))\n"
        "print('chown', e(libc.chown(b'/sys/fs/cgroup/pids/pids.max', 0, 0)))\n"
        "os.mkdir('/tmp/m')\n"
        "for o in (b'devices', b'freezer', b'none,name=evil', b'pids'):\n"
        "    print('mount-' + o.decode().replace(',', '_').replace('=', '_'),\n"
        "          e(libc.mount(b'cgroup', b'/tmp/m', b'cgroup', 0, o)))\n"
        "print('mount-cgroup2', e(libc.mount(b'cgroup2', b'/tmp/m', b'cgroup2', 0, None)))\n"
        "print('release-agent', e(libc.mount(b'cgroup', b'/tmp/m', b'cgroup', 0,\n"
        "      b'pids,release_agent=/tmp/x')))\n")
    r, got = run_py(code, allow=["security.admin", "process.limit=40", "memory.limit=256M",
                                 "cpu.limit=1"])
    for f in ("pids.pids.max", "memory.memory.limit_in_bytes", "cpu.cpu.cfs_quota_us",
              "pids.notify_on_release", "pids.cgroup.clone_children"):
        assert got.get(f) == "Permission denied", (f, r)
    assert got["chmod"] == "Operation not permitted", r
    assert got["chown"] == "Operation not permitted", r
    for m in ("devices", "freezer", "none_name_evil", "pids", "cgroup2"):
        assert got[f"mount-{m}"] == "Operation not permitted", (m, r)
    assert got["release-agent"] in ("Operation not permitted", "Invalid argument"), r


def swap_unaccounted():
    """Swap is on and the kernel does not account it per cgroup (v1 memsw):
    then a limit of memory alone lets a program swap past it, in any
    sandbox (docs/cgroups.md)."""
    try:
        with open("/proc/swaps") as f:
            on = len(f.read().strip().split("\n")) > 1
    except OSError:
        return False
    return on and not os.path.exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")


@pytest.mark.skipif(not os.path.isdir("/sys/fs/cgroup/memory"), reason="needs cgroup v1 memory")
@pytest.mark.skipif(swap_unaccounted(), reason="swap is on without per-cgroup swap accounting")
def test_child_cgroup_without_memory_limit_still_capped():
    # The program makes a child memory cgroup with no limit and the OOM
    # killer off, moves itself there and allocates past the sandbox's
    # memory.limit: the kernel charges the sandbox's cgroup too (root's
    # limit file), so the program is killed, not given more memory.
    code = (
        "d = '/sys/fs/cgroup/memory/big'\n"
        "os.mkdir(d)\n"
        "open(d + '/memory.limit_in_bytes', 'w').write('-1')\n"
        "open(d + '/memory.oom_control', 'w').write('1')\n"
        "open(d + '/cgroup.procs', 'w').write(str(os.getpid()))\n"
        "print('moved', open('/proc/self/cgroup').read().count('memory:/big'), flush=True)\n"
        "r = subprocess.run([sys.executable, '-c', 'b = bytearray(256 << 20); "
        "b[::4096] = b\"x\" * (len(b) // 4096); print(\"allocated\")'],\n"
        "                   capture_output=True, text=True)\n"
        "print('child', r.returncode, r.stdout.strip() or '-')\n")
    r, got = run_py(code, allow=["security.admin", "memory.limit=64M"], timeout=240)
    assert got["moved"] == "1", r
    status, out = got["child"].split(" ", 1)
    assert out == "-" and int(status) == -9, r   # SIGKILL from the OOM killer


# ---------------------------------------------------------------- the nested procfs

def test_nested_procfs_unreachable_through_mount_tricks():
    # The covered procfs at /dev/.ward-nest/proc: a recursive bind of /dev
    # copies the cover along with it, still locked (umount EINVAL), and the
    # directory beneath is host root's, mode 0700 (EACCES); a bind that
    # would leave the cover behind is refused (EINVAL: locked children);
    # the cover cannot be made writable (EPERM); a detached clone of the
    # tree keeps the cover too.  Through no path does the program read
    # /proc/sysrq-trigger's owner-only files nor /proc/kcore.
    code = (
        "os.makedirs('/tmp/d'); os.makedirs('/tmp/e')\n"
        "MS_BIND, MS_REC, MS_REMOUNT, MS_RDONLY = 0x1000, 0x4000, 32, 1\n"
        "print('rbind', e(libc.mount(b'/dev', b'/tmp/d', None, MS_BIND | MS_REC, None)))\n"
        "print('umount-copy', e(libc.umount2(b'/tmp/d/.ward-nest', 2)))\n"
        "try:\n"
        "    os.listdir('/tmp/d/.ward-nest/proc'); print('list-copy ok')\n"
        "except OSError as x: print('list-copy', x.strerror)\n"
        "print('bind-flat', e(libc.mount(b'/dev', b'/tmp/e', None, MS_BIND, None)))\n"
        "print('remount-rw', e(libc.mount(None, b'/dev/.ward-nest', None,\n"
        "      MS_REMOUNT | MS_BIND, None)))\n"
        "print('remount-sb', e(libc.mount(None, b'/dev/.ward-nest', None, MS_REMOUNT, None)))\n"
        "libc.syscall.restype = ctypes.c_long\n"
        "OPEN_TREE_CLONE, AT_RECURSIVE = 1, 0x8000\n"
        "fd = libc.syscall(428, -100, b'/dev', OPEN_TREE_CLONE)\n"
        "print('open-tree-flat', 'ok' if fd >= 0 else os.strerror(ctypes.get_errno()))\n"
        "for p in ('/dev/.ward-nest/proc/kcore', '/dev/.ward-nest/proc/sysrq-trigger',\n"
        "          '/proc/1/root/dev/.ward-nest/proc/kcore'):\n"
        "    try:\n"
        "        open(p, 'rb').close(); print('open', p, 'ok')\n"
        "    except OSError as x: print('open' + p.replace('/', '_'), x.strerror)\n")
    r, got = run_py(code)
    assert got["rbind"] == "ok", r              # control: mounting works
    assert got["umount-copy"] == "Invalid argument", r
    assert got["list-copy"] == "Permission denied", r
    assert got["bind-flat"] == "Invalid argument", r
    assert got["remount-rw"] == "Operation not permitted", r
    assert got["remount-sb"] == "Operation not permitted", r
    assert got["open-tree-flat"] == "Invalid argument", r
    assert not any(k == "open" for k in got), r
    assert got["open_dev_.ward-nest_proc_kcore"] == "Permission denied", r
    assert got["open_dev_.ward-nest_proc_sysrq-trigger"] == "Permission denied", r
    assert got["open_proc_1_root_dev_.ward-nest_proc_kcore"] == "Permission denied", r


def test_own_procfs_host_root_files_stay_closed():
    # The documented give-up: a procfs the program mounts for a pid
    # namespace of its own is unmasked.  What needs host root there stays
    # closed: /proc/kcore, /proc/sysrq-trigger, /proc/kmsg, /proc/kpageflags
    # (those this kernel has; owner host root, unmapped: no capability of
    # the sandbox overrides their modes), and /proc/sys/kernel and vm
    # (EACCES).
    files = [("kcore", "rb"), ("sysrq-trigger", "wb"), ("kmsg", "rb"), ("kpageflags", "rb"),
             ("sys/kernel/core_pattern", "wb"), ("sys/vm/drop_caches", "wb")]
    files = [(f, m) for f, m in files if os.path.exists("/proc/" + f)]   # this kernel's
    inner = ("import os\n"
             f"for p, m in {files!r}:\n"
             "    try:\n"
             "        open('/tmp/p/' + p, m).close(); print(p.replace('/', '.'), 'ok')\n"
             "    except OSError as x: print(p.replace('/', '.'), x.strerror)\n")
    code = (
        "os.mkdir('/tmp/p')\n"
        "r = subprocess.run(['unshare', '-p', '-f', '--mount-proc=/tmp/p', sys.executable,\n"
        f"                    '-c', {inner!r}], capture_output=True, text=True)\n"
        "sys.stdout.write(r.stdout)\n"
        "print('unshare', r.returncode)\n")
    r, got = run_py(code, allow=["security.admin"])
    assert got["unshare"] == "0", r              # control: the procfs mounted
    assert len(files) >= 3, files
    for f, _ in files:
        assert got[f.replace("/", ".")] == "Permission denied", (f, r)


# ---------------------------------------------------------------- KEEP_CAPS

def test_keep_caps_cannot_carry_capabilities_through_execve():
    # KEEP_CAPS is unlocked under security.admin: the program may keep its
    # permitted set across setresuid to another uid of its namespace
    # (what crun does).  It must not get anything from that: after execve
    # the other uid has no capability (the setuid switch cleared the
    # ambient set; NOROOT: a uid 0 gets none from execve either), ambient
    # raising is still locked (EPERM), and so are NOROOT, the setuid fixup
    # and ambient raising (their lock bits set: EPERM to change them).
    code = (
        "PR_SET_KEEPCAPS, PR_CAP_AMBIENT, RAISE, PR_SET_SECUREBITS = 8, 47, 2, 28\n"
        "print('keepcaps', e(libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)))\n"
        "print('setresuid', e(libc.setresuid(1000, 1000, 1000)))\n"
        "st = dict(l.split(':', 1) for l in open('/proc/self/status'))\n"
        "print('prm-kept', 'yes' if int(st['CapPrm'], 16) else 'no')\n"
        "print('ambient-raise', e(libc.prctl(PR_CAP_AMBIENT, RAISE, 21, 0, 0)))\n"
        "print('unlock-noroot', e(libc.prctl(PR_SET_SECUREBITS, 0x2f, 0, 0, 0)))\n"
        "r = subprocess.run(['grep', '-E', '^Cap(Prm|Eff|Amb)', '/proc/self/status'],\n"
        "                   capture_output=True, text=True)\n"
        "caps = [int(l.split()[1], 16) for l in r.stdout.split('\\n') if l]\n"
        "print('after-exec', 'none' if len(caps) == 3 and not any(caps) else r.stdout)\n"
        "r = subprocess.run(['unshare', '-m', 'true'], capture_output=True, text=True)\n"
        "print('unshare-after-exec', r.returncode)\n")
    r, got = run_py(code, allow=["security.admin"])
    assert got["keepcaps"] == "ok" and got["setresuid"] == "ok", r   # what crun needs
    assert got["prm-kept"] == "yes", r
    assert got["ambient-raise"] == "Operation not permitted", r
    assert got["unlock-noroot"] == "Operation not permitted", r
    assert got["after-exec"] == "none", r
    assert got["unshare-after-exec"] != "0", r


def test_keep_caps_locked_without_security_admin():
    # Without security.admin KEEP_CAPS stays locked (EPERM).
    code = "print('keepcaps', e(libc.prctl(8, 1, 0, 0, 0)))\n"
    r, got = run_py(code, allow=["network.admin"])
    assert got["keepcaps"] == "Operation not permitted", r


# ---------------------------------------------------------------- network and devices

def test_net_admin_cannot_push_an_interface_out():
    # A veth peer "moved to pid 1's namespace" lands in the program's own
    # namespace (ward's init stays there); an interface cannot be moved to
    # a namespace the program does not own, and the host's interfaces are
    # not in its view.
    code = (
        "print('veth', sh('ip link add v0 type veth peer name v1 netns 1'))\n"
        "links = subprocess.run(['ip', '-o', 'link'], capture_output=True, text=True).stdout\n"
        "print('peer-here', 'yes' if 'v1@v0' in links else 'no')\n"
        "host = [l.split(':')[1].strip().split('@')[0] for l in links.split('\\n') if l]\n"
        "print('links', ','.join(sorted(host)))\n"
        "print('to-new-ns', sh('unshare -U -n sleep 5 & sleep 1; ip link set v0 netns $!'))\n")
    if shutil.which("ip") is None or shutil.which("unshare") is None:
        pytest.skip("needs ip and unshare")
    r, got = run_py(code, allow=["security.admin", "network.admin"])
    assert got["veth"] == "ok" and got["peer-here"] == "yes", r
    assert got["links"] == "lo,v0,v1", r
    # A namespace of a user namespace nested in its own is the program's too.
    assert got["to-new-ns"] == "ok", r


def test_devices_admin_gives_no_other_device():
    # With host.devices.admin and security.admin: no device node can be
    # made (EPERM, CAP_MKNOD of the host), devtmpfs and a new sysfs cannot
    # be mounted (EPERM), a tmpfs mounted by the program is nodev, and the
    # FUSE node cannot be copied into a node of another number.
    code = (
        "print('mknod-fuse', e(os.system('mknod /tmp/f c 10 229 2>/dev/null') and -1))\n"
        "print('mknod', e(libc.mknod(b'/tmp/vda', 0o20600, (254 << 8) | 0)))\n"
        "os.mkdir('/tmp/dv'); os.mkdir('/tmp/t')\n"
        "print('devtmpfs', e(libc.mount(b'd', b'/tmp/dv', b'devtmpfs', 0, None)))\n"
        "print('sysfs', e(libc.mount(b's', b'/tmp/dv', b'sysfs', 0, None)))\n"
        "print('tmpfs', e(libc.mount(b't', b'/tmp/t', b'tmpfs', 0, None)))\n"
        "print('mknod-tmpfs', e(libc.mknod(b'/tmp/t/vda', 0o60600, (254 << 8) | 0)))\n"
        "for p in ('/dev/fuse', '/dev/net/tun'):\n"
        "    try:\n"
        "        os.close(os.open(p, os.O_RDWR)); print('open' + p.replace('/', '_'), 'ok')\n"
        "    except OSError as x: print('open' + p.replace('/', '_'), x.strerror)\n"
        "print('devs', ','.join(sorted(x for x in os.listdir('/dev') if not x.startswith('.'))))\n")
    r, got = run_py(code)
    assert got["mknod"] == "Operation not permitted", r
    assert got["devtmpfs"] == "Operation not permitted", r
    assert got["sysfs"] == "Operation not permitted", r
    assert got["tmpfs"] == "ok", r                  # control: mount works
    assert got["mknod-tmpfs"] == "Operation not permitted", r
    assert got["open_dev_fuse"] == "ok" and got["open_dev_net_tun"] == "ok", r
    assert "vda" not in got["devs"] and "mem" not in got["devs"].split(","), r


# ---------------------------------------------------------------- ward's own records

def test_inner_denials_log_says_it_records_nothing(tmpdir_real):
    # An inner ward (inside a security.admin sandbox) cannot have a seccomp
    # listener (one per filter chain): its filter enforces, unreported.
    # Its --denials-log must say so, not stay empty or absent (which reads
    # as "nothing was denied"), also under -q and --quiet-denials.
    # Control: the same run outside any sandbox records the bpf denial.
    import json
    w = os.path.join(tmpdir_real, "ward")
    shutil.copy(WARD, w)
    os.chmod(w, 0o755)
    helpers = conftest.HELPERS
    inner = (f"{w} run -q --state-dir /tmp/ws {{q}} --denials-log /tmp/log{{n}} "
             f"-a fs.exec={helpers} -- {conftest.PROBE} bpf")
    script = "; ".join([inner.format(q="", n=1), inner.format(q="--quiet-denials", n=2),
                        "cat /tmp/log1; cat /tmp/log2"])
    r, _ = ward_popen(["run", "-q", "-a", "security.admin", "-a", f"fs.exec={tmpdir_real}",
                       "-a", f"fs.exec={helpers}", "--", "/bin/sh", "-c", script])
    assert r.returncode == 0, r
    lines = [l for l in r.stdout.split("\n") if l]
    assert lines[0] == "errno=EPERM" and lines[1] == "errno=EPERM", r   # enforced
    recs = [json.loads(l) for l in lines[2:]]
    assert len(recs) == 2, r
    for rec in recs:
        assert rec["unrecorded"] is True and rec["syscall"] is None, r
        assert "not recorded" in rec["hint"], r
    log = os.path.join(tmpdir_real, "plain.log")
    r, _ = ward_popen(["run", "-q", "--denials-log", log, "-a", f"fs.exec={helpers}", "--",
                       conftest.PROBE, "bpf"])
    with open(log) as f:
        plain = [json.loads(l) for l in f if l.strip()]
    assert [x["syscall"] for x in plain] == ["bpf"], plain
    assert not any(x.get("unrecorded") for x in plain), plain


# ---------------------------------------------------------------- the view and ward's init

def test_view_and_init_stay_closed_to_admin():
    # With CAP_SYS_ADMIN in its namespaces the program still cannot make a
    # read-only grant or system directory writable (remount, mount_setattr:
    # EPERM, the read-only flag is locked), uncover a /proc mask (EINVAL,
    # locked), nor reach ward's init, which holds the namespaces above its
    # own: pidfd setns into its mount namespace, pidfd_getfd of its
    # descriptors and /proc/1/root are refused (EPERM/EACCES: another
    # user, and no capability in init's user namespace).
    code = (
        "MS_REMOUNT, MS_BIND, MS_RDONLY = 32, 0x1000, 1\n"
        "print('remount-etc', e(libc.mount(None, b'/etc', None, MS_REMOUNT | MS_BIND, None)))\n"
        "print('remount-root', e(libc.mount(None, b'/', None, MS_REMOUNT | MS_BIND, None)))\n"
        "libc.syscall.restype = ctypes.c_long\n"
        "class Attr(ctypes.Structure):\n"
        "    _fields_ = [('set', ctypes.c_uint64), ('clr', ctypes.c_uint64),\n"
        "                ('prop', ctypes.c_uint64), ('userns', ctypes.c_uint64)]\n"
        "a = Attr(0, 1, 0, 0)\n"
        "r = libc.syscall(442, -100, b'/usr', 0x8000, ctypes.byref(a), ctypes.sizeof(a))\n"
        "print('setattr-usr', 'ok' if r == 0 else os.strerror(ctypes.get_errno()))\n"
        "print('umount-mask', e(libc.umount2(b'/proc/timer_list', 2)))\n"
        "print('umount-sys', e(libc.umount2(b'/proc/sys', 2)))\n"
        "pfd = libc.syscall(434, 1, 0)\n"
        "print('pidfd', 'ok' if pfd >= 0 else os.strerror(ctypes.get_errno()))\n"
        "print('setns-mnt', e(libc.setns(int(pfd), 0x00020000)))\n"
        "fd = libc.syscall(438, int(pfd), 0, 0)\n"
        "print('getfd', 'ok' if fd >= 0 else os.strerror(ctypes.get_errno()))\n"
        "try:\n"
        "    os.listdir('/proc/1/root'); print('init-root ok')\n"
        "except OSError as x: print('init-root', x.strerror)\n"
        "try:\n"
        "    open('/etc/ward-admin-attack', 'w'); print('write-etc ok')\n"
        "except OSError as x: print('write-etc', x.strerror)\n")
    r, got = run_py(code)
    assert got["remount-etc"] == "Operation not permitted", r
    assert got["remount-root"] == "Operation not permitted", r
    assert got["setattr-usr"] == "Operation not permitted", r
    assert got["umount-mask"] == "Invalid argument", r
    assert got["umount-sys"] == "Invalid argument", r
    assert got["pidfd"] == "ok", r                  # control: init is visible
    assert got["setns-mnt"] == "Operation not permitted", r
    assert got["getfd"] == "Operation not permitted", r
    assert got["init-root"] == "Permission denied", r
    assert got["write-etc"] == "Read-only file system", r
    assert not os.path.exists("/etc/ward-admin-attack")


def test_security_admin_alone_cannot_administer_its_network():
    # security.admin without network.admin: the sandbox's network namespace
    # belongs to the user namespace above the program's.  Its sysctls stay
    # closed, through /proc/sys (EROFS) and through a procfs the program
    # mounts itself (EACCES: the files are that namespace's root's); its
    # interfaces and nftables too (EPERM), ward's rules included.
    if shutil.which("ip") is None or shutil.which("nft") is None:
        pytest.skip("needs ip and nft")
    code = (
        "def w(p):\n"
        "    try:\n"
        "        open(p, 'w').write('1'); return 'ok'\n"
        "    except OSError as x: return x.strerror\n"
        "print('sysctl', w('/proc/sys/net/ipv4/ip_forward'))\n"
        "os.mkdir('/tmp/p')\n"
        "r = subprocess.run(['unshare', '-p', '-f', '--mount-proc=/tmp/p', 'sh', '-c',\n"
        "    'echo 1 > /tmp/p/sys/net/ipv4/ip_forward && echo ok'], capture_output=True, text=True)\n"
        "print('own-proc', 'ok' if 'ok' in r.stdout else\n"
        "      ('denied' if 'Permission denied' in r.stderr else r.stderr.strip()))\n"
        "print('link', sh('ip link set eth0 down'))\n"
        "print('nft', sh('nft flush ruleset'))\n")
    r, got = run_py(code, allow=["security.admin", "network.outbound"])
    assert got["sysctl"] == "Read-only file system", r
    assert got["own-proc"] == "denied", r
    assert got["link"].startswith("fail:") and "Operation not permitted" in got["link"], r
    assert got["nft"].startswith("fail:") and "Operation not permitted" in got["nft"], r


def test_process_limit_holds_across_uids_of_its_namespace():
    # RLIMIT_NPROC counts per uid: a security.admin program can switch to
    # other uids of its user namespace (CAP_SETUID there) and fork under
    # each.  The outer process.limit still holds for the whole sandbox
    # (pids.max of its cgroup, root's): the forks of all uids together
    # stay under it, and the last one fails with EAGAIN.
    code = (
        "import time\n"
        "r, w = os.pipe()\n"
        "kids = []\n"
        "for uid in (0, 1000, 2000, 3000):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os.close(r)\n"
        "        if uid: os.setresgid(uid, uid, uid); os.setresuid(uid, uid, uid)\n"
        "        n, err = 0, 'none'\n"
        "        for i in range(100):\n"
        "            try:\n"
        "                c = os.fork()\n"
        "            except OSError as x:\n"
        "                err = x.strerror; break\n"
        "            if c == 0:\n"
        "                time.sleep(30); os._exit(0)\n"
        "            n += 1\n"
        "        os.write(w, f'{uid} {n} {err}\\n'.encode())\n"
        "        os._exit(0)\n"
        "    kids.append(pid)\n"
        "    os.waitpid(pid, 0)\n"
        "os.close(w)\n"
        "out = os.read(r, 4096).decode().split('\\n')\n"
        "total = sum(int(l.split()[1]) for l in out if l)\n"
        "print('total', total)\n"
        "print('errs', ','.join(sorted({' '.join(l.split()[2:]) for l in out if l})))\n"
        "os.kill(-1, 9)\n")
    r, got = run_py(code, allow=["security.admin", "process.limit=30"], timeout=240)
    assert 0 < int(got["total"]) < 30, r
    assert "Resource temporarily unavailable" in got["errs"], r


def test_fuse_that_never_answers_does_not_hang_ward():
    # security.admin with /dev/fuse: the program mounts a FUSE file system
    # whose daemon never answers, and execs a file on it.  The supervisor
    # looks the path up to explain a refused exec (as host root, beneath
    # /proc/PID/root): FUSE refuses a user outside the mount's user
    # namespace without asking the daemon, so ward does not hang, and the
    # sandbox ends when its program does (the blocked exec is killed with
    # the pid namespace).
    code = (
        "import time\n"
        "fd = os.open('/dev/fuse', os.O_RDWR)\n"
        "os.mkdir('/tmp/f')\n"
        "opts = f'fd={fd},rootmode=40000,user_id=0,group_id=0'.encode()\n"
        "print('mount', e(libc.mount(b'w', b'/tmp/f', b'fuse', 0, opts)), flush=True)\n"
        "if os.fork() == 0:\n"
        "    try: os.execv('/tmp/f/x', ['x'])\n"
        "    finally: os._exit(1)\n"
        "time.sleep(1)\n"
        "print('done', 'yes', flush=True)\n"
        "os._exit(0)\n")
    r, got = run_py(code, allow=["security.admin", "host.devices.admin=fuse"], timeout=120)
    assert got["mount"] == "ok" and got["done"] == "yes", r


def test_idmapped_mount_of_host_files_refused(make_tmpdir):
    # The most direct way to own host files: an idmapped mount of a host
    # file system (a system directory, a read-only or a writable grant)
    # through a user namespace of its own whose map makes the files' host
    # owner look like the program.  The kernel requires CAP_SYS_ADMIN in
    # the user namespace of the file system's superblock (the host's for
    # every host file system, init's for ward's tmpfs): EPERM.  Control:
    # the clone of the tree itself succeeds.
    d = make_tmpdir()
    code = (
        "import time\n"
        "libc.syscall.restype = ctypes.c_long\n"
        "r, w = os.pipe()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.close(w); libc.unshare(0x10000000); os.read(r, 1); os._exit(0)\n"
        "for i in range(100):\n"
        "    if os.readlink(f'/proc/{pid}/ns/user') != os.readlink('/proc/self/ns/user'): break\n"
        "    time.sleep(0.05)\n"
        "open(f'/proc/{pid}/uid_map', 'w').write('0 0 65536\\n')\n"
        "open(f'/proc/{pid}/setgroups', 'w').write('deny')\n"
        "open(f'/proc/{pid}/gid_map', 'w').write('0 0 65536\\n')\n"
        "ufd = os.open(f'/proc/{pid}/ns/user', os.O_RDONLY)\n"
        "class Attr(ctypes.Structure):\n"
        "    _fields_ = [('set', ctypes.c_uint64), ('clr', ctypes.c_uint64),\n"
        "                ('prop', ctypes.c_uint64), ('userns', ctypes.c_uint64)]\n"
        f"for name, path in (('usr', b'/usr'), ('etc', b'/etc'), ('tmp', b'/tmp'),\n"
        f"                   ('grant', {d.encode()!r})):\n"
        "    t = libc.syscall(428, -100, path, 1 | 0x80000 | 0x8000)\n"
        "    print('clone-' + name, 'ok' if t >= 0 else os.strerror(ctypes.get_errno()))\n"
        "    if t < 0: continue\n"
        "    a = Attr(0x00100000, 0, 0, ufd)\n"
        "    x = libc.syscall(442, int(t), b'', 0x1000, ctypes.byref(a), ctypes.sizeof(a))\n"
        "    print('idmap-' + name, 'ok' if x == 0 else os.strerror(ctypes.get_errno()))\n"
        "os.close(w); os.waitpid(pid, 0)\n")
    r, got = run_py(code, allow=["security.admin", f"fs.write={d}"])
    for name in ("usr", "etc", "tmp", "grant"):
        assert got[f"clone-{name}"] == "ok", (name, r)
        assert got[f"idmap-{name}"] == "Operation not permitted", (name, r)


@pytest.mark.skipif(not os.path.isdir("/sys/fs/cgroup/cpu"), reason="needs cgroup v1 cpu")
def test_child_cgroup_without_cpu_quota_still_capped():
    # A child cpu cgroup with no quota (cfs_quota_us = -1) and the most
    # shares: the sandbox's own quota (root's file) still throttles
    # everything beneath it.  Load can only lower the measured share, so
    # the bound is checked from above only (no timed assertion).
    code = (
        "import time\n"
        "d = '/sys/fs/cgroup/cpu/free'\n"
        "os.mkdir(d)\n"
        "open(d + '/cpu.cfs_quota_us', 'w').write('-1')\n"
        "open(d + '/cpu.shares', 'w').write('262144')\n"
        "open(d + '/cgroup.procs', 'w').write(str(os.getpid()))\n"
        "print('quota', open(d + '/cpu.cfs_quota_us').read().strip())\n"
        "t0, c0 = time.monotonic(), time.process_time()\n"
        "while time.monotonic() - t0 < 3:\n"
        "    pass\n"
        "print('share', round((time.process_time() - c0) / (time.monotonic() - t0), 3))\n")
    r, got = run_py(code, allow=["security.admin", "cpu.limit=0.2"], timeout=240)
    assert got["quota"] == "-1", r                 # the child really has none
    assert float(got["share"]) < 0.45, r

# SPDX-License-Identifier: GPL-2.0-or-later
"""Engines inside ward (issue 18): the admin entitlements and what still holds.

- ward falls back from clone3(2) to clone(2) when a seccomp filter around it
  answers clone3 with ENOSYS (ward inside ward, a container engine's profile).
- network.admin: CAP_NET_ADMIN and CAP_NET_RAW in the sandbox's own network
  namespace, never the host's.
- host.devices.admin: /dev/fuse and /dev/net/tun (and loop devices only when
  asked), mknod of only those, the device cgroup saying no to the rest.

Each attack is run from inside an admin sandbox and asserts the layer that
stops it.  docs/engines.md and docs/threat-model/engines.md describe them.
"""

import os
import subprocess

import pytest

import conftest
from conftest import HELPERS, PROBE, WARD, ProbeResult, Result, run_probe, run_ward

NOCLONE3 = os.path.join(HELPERS, "noclone3")


def works(r):
    assert r.returncode == 0, r
    assert r.ok, r
    return r


def blocked(r, *errnos):
    assert r.returncode == 0, r
    assert not r.ok, f"the attempt SUCCEEDED inside the sandbox: {r}"
    assert r.errno in errnos, r
    return r


def run_under_noclone3(*ward_args, timeout=60):
    """ward ARGS under a filter that answers clone3 with ENOSYS (noclone3
    execs ward, so ward's pid is the one the leak check knows)."""
    argv = [NOCLONE3, WARD] + [str(a) for a in ward_args]
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, errors="replace") as p:
        conftest.started_pids.add(p.pid)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            pytest.fail(f"{argv} did not finish\nstdout: {out!r}\nstderr: {err!r}")
    return ProbeResult(Result([str(a) for a in ward_args], p.returncode, out, err))


# ---------------------------------------------------------------- clone3 -> clone

def test_clone3_enosys_falls_back_to_clone():
    # Control: the wrapper's filter really refuses clone3 with ENOSYS (the
    # probe's clone3 of no namespace fails the way ward's own did before).
    r = subprocess.run([NOCLONE3, PROBE, "clone3", "uts"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0 and r.stdout.startswith("errno=ENOSYS"), r
    # ward under that filter still makes every namespace, puts init in
    # its cgroup (on v2 CLONE_INTO_CGROUP is clone3's: ward moves init by
    # cgroup.procs instead) and runs the program within its limits.
    r = run_under_noclone3("run", "-q", "-a", f"fs.exec={HELPERS}", "-a", "process.limit=7",
                           "--", PROBE, "forkbomb", "50")
    assert "Function not implemented" not in r.stderr, r
    assert r.returncode == 0, r
    assert r.errno == "EAGAIN" and int(r["forks"]) < 7, r


def test_clone3_enosys_namespaces_still_made():
    r = run_under_noclone3("run", "-q", "-a", f"fs.exec={HELPERS}", "--", PROBE, "pids")
    works(r)
    # A new pid namespace: the program sees itself and init only.
    assert r["n"] == "2" and r["self"] == "2", r


# ---------------------------------------------------------------- network.admin

def sh(*allow, script, timeout=60):
    """Run a shell script in a sandbox with ALLOW (and the helpers)."""
    return run_ward("run", "-q", "-a", f"fs.exec={HELPERS}", *sum((["-a", a] for a in allow), []),
                    "--", "/bin/sh", "-c", script, timeout=timeout)


def test_net_admin_absent_refused():
    # Without it, uid 0 of the sandbox holds no network capability: the
    # kernel refuses to change an interface of its namespace.
    r = run_probe("ifflags", "lo", allow=["network.loopback"])
    blocked(r, "EPERM")
    assert r["step"] == "set", r
    r = run_probe("caps", allow=["network.loopback"])
    assert r["CapEff"] == "0000000000000000", r


def test_net_admin_granted_works():
    r = run_probe("caps", allow=["network.admin"])
    # CAP_NET_ADMIN (12) and CAP_NET_RAW (13), nothing else.
    assert r["CapEff"] == "0000000000003000" and r["CapBnd"] == "0000000000003000", r
    works(run_probe("ifflags", "lo", allow=["network.admin"]))
    # What an engine does for its containers: a bridge, a veth pair into
    # it, a table of rules, forwarding on.
    r = sh("network.admin", "network.outbound", script=(
        "set -e; ip link add br9 type bridge; ip link add v1 type veth peer name v2; "
        "ip link set v1 master br9; ip link set br9 up; nft add table inet engine; "
        "echo 1 > /proc/sys/net/ipv4/ip_forward; ip -o link show | cut -d: -f2; "
        "nft list tables; cat /proc/sys/net/ipv4/ip_forward"))
    assert r.returncode == 0, r
    names = r.stdout.split()
    for want in ("lo", "eth0@if", "br9", "v1@v2", "v2@v1", "engine"):
        assert any(n.startswith(want) for n in names), r
    assert r.stdout.split()[-1] == "1", r


def test_net_admin_sees_only_its_namespace():
    # The host's interfaces (ward0, the host's uplink, other sandboxes'
    # veths) are not in the program's namespace: only lo and its eth0.
    r = works(run_probe("netifs", allow=["network.admin", "network.outbound"]))
    assert sorted(r["ifs"].split(",")) == ["eth0", "lo"], r
    r = works(run_probe("netifs", allow=["network.admin"]))
    assert r["ifs"] == "lo", r


def test_net_admin_sysctls_are_its_own():
    # /proc/sys/net is writable under network.admin, and it is the
    # program's namespace's: the host's value does not move.
    with open("/proc/sys/net/ipv4/ip_default_ttl") as f:
        host_before = f.read().strip()
    new = "99" if host_before != "99" else "98"
    r = sh("network.admin", script=(
        f"echo {new} > /proc/sys/net/ipv4/ip_default_ttl && "
        "cat /proc/sys/net/ipv4/ip_default_ttl"))
    assert r.returncode == 0 and r.stdout.strip() == new, r
    with open("/proc/sys/net/ipv4/ip_default_ttl") as f:
        assert f.read().strip() == host_before
    # The rest of /proc/sys stays out of reach (the host's kernel sysctls).
    r = run_probe("rewrite", "/proc/sys/kernel/hostname", allow=["network.admin"])
    blocked(r, "EACCES", "EROFS")


def test_net_admin_host_side_rules_hold(make_tmpdir):
    # The program flushes every rule ward put in its namespace, then tries
    # a service of the host through ward0's address: the host's own table
    # (ip ward_nat) still rejects it (ICMP host unreachable).  Control: the
    # host itself reaches the listener.
    import socket
    srv = None
    for port in range(46100, 46200):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            s.close()
            continue
        srv = s
        break
    assert srv is not None, "no free port in 46100-46199"
    try:
        srv.listen(4)
        r = sh("network.admin", "network.outbound", script=(
            f"nft flush ruleset && nft list ruleset | wc -l && "
            f"{PROBE} tcp-connect 10.88.0.1 {port}"))
        assert r.returncode == 0, r
        lines = r.stdout.split("\n")
        assert lines[0].strip() == "0", r
        assert lines[1].startswith("errno=EHOSTUNREACH"), r
        c = socket.create_connection(("10.88.0.1", port), timeout=10)
        c.close()
    finally:
        srv.close()


def test_net_admin_refuses_host_namespace():
    r = run_ward("run", "-a", "network.admin", "-a", "network.host", "--", "/bin/true")
    assert r.returncode == conftest.EXIT_FAILURE, r
    assert "network.admin conflicts with network.host" in r.stderr, r


# ---------------------------------------------------------------- host.devices.admin

ADMIN3 = ["security.admin", "network.admin", "host.devices.admin"]


def root_disk():
    """(path, 'b', major, minor) of a block device of the host's."""
    for name in ("vda", "sda", "nvme0n1", "xvda"):
        path = "/dev/" + name
        if os.path.exists(path):
            st = os.stat(path)
            return path, os.major(st.st_rdev), os.minor(st.st_rdev)
    pytest.skip("no disk device node found under /dev")


def test_devices_admin_absent_refused():
    for node in ("/dev/fuse", "/dev/net/tun"):
        r = run_probe("open", node, "rw")
        blocked(r, "ENOENT")


def test_devices_admin_granted_works():
    if not (os.path.exists("/dev/fuse") and os.path.exists("/dev/net/tun")):
        pytest.skip("/dev/fuse or /dev/net/tun is missing on the host")
    # open succeeds; the read that follows fails the way the device says
    # (no FUSE mount yet; no TUNSETIFF yet): step=read, not step=open.
    r = run_probe("open", "/dev/fuse", "rw", allow=["host.devices.admin"])
    assert r.ok or r.fields.get("step") == "read", r
    r = run_probe("open", "/dev/net/tun", "rw", allow=["host.devices.admin=tun"])
    assert r.ok or r.fields.get("step") == "read", r
    # =tun grants only tun.
    blocked(run_probe("open", "/dev/fuse", "rw", allow=["host.devices.admin=tun"]), "ENOENT")
    # With network.admin the tun device makes a tap in its own namespace.
    r = sh("host.devices.admin", "network.admin",
           script="ip tuntap add tap0 mode tap && ip -o link show tap0 | cut -d: -f2")
    assert r.returncode == 0 and r.stdout.strip() == "tap0", r


def test_devices_admin_refuses_loop_and_others():
    r = run_ward("run", "-a", "host.devices.admin=loop", "--", "/bin/true")
    assert r.returncode == conftest.EXIT_FAILURE, r
    assert "host.devices.admin=loop: loop devices are not granted" in r.stderr, r
    r = run_ward("run", "-a", "host.devices.admin=sda", "--", "/bin/true")
    assert r.returncode == conftest.EXIT_FAILURE, r
    assert "the devices are fuse and tun" in r.stderr, r


def test_admin_cannot_mknod_or_open_a_disk():
    path, major, minor = root_disk()
    # The host's disk is not in the sandbox's /dev...
    blocked(run_probe("open", path, "r", allow=ADMIN3), "ENOENT")
    # ...and cannot be made: mknod needs CAP_MKNOD in the host's user
    # namespace (EPERM from the kernel; the device cgroup has no 'm'
    # either), also for the granted classes' numbers.
    r = run_probe("mknod-dev", "b", f"{major}:{minor}", "/tmp/disk", allow=ADMIN3)
    blocked(r, "EPERM")
    assert r["step"] == "mknod", r
    r = run_probe("mknod-dev", "c", "10:229", "/tmp/fuse2", allow=ADMIN3)
    blocked(r, "EPERM")
    # Nor found by mounting a devtmpfs (not mountable in a user namespace).
    r = run_ward("run", "-q", "-a", f"fs.exec={HELPERS}", *sum((["-a", a] for a in ADMIN3), []),
                 "--", "/bin/sh", "-c",
                 "mkdir -p /tmp/d && mount -t devtmpfs none /tmp/d; echo rc=$?; ls /tmp/d")
    assert "rc=0" not in r.stdout and path.split("/")[-1] not in r.stdout, r


def test_devices_admin_cgroup_list_is_exact(spawned):
    # The v1 device list of the sandbox: the defaults plus fuse and tun,
    # no block device, no 'm'.
    if not os.path.isdir("/sys/fs/cgroup/devices"):
        pytest.skip("no v1 devices hierarchy here (v2: no devices controller is used)")
    # The list is complete before init is let go: once the program runs,
    # it is final.
    p = spawned([WARD, "run", "-q", "-a", "host.devices.admin", "--", "/bin/sh", "-c",
                 "echo ready; exec sleep 30"], stdout=subprocess.PIPE, text=True)
    assert conftest.read_line(p.stdout, 30).strip() == "ready"
    with open(f"/sys/fs/cgroup/devices/ward/run-{p.pid}/devices.list") as f:
        rules = f.read().split("\n")
    rules = [r for r in rules if r]
    assert "c 10:229 rw" in rules and "c 10:200 rw" in rules, rules
    assert not any(r.startswith("b ") or r.startswith("a ") for r in rules), rules
    assert not any("m" in r.split()[-1] for r in rules), rules


# ---------------------------------------------------------------- ward explain

def test_explain_admin_combination():
    r = run_ward("explain", "-a", "security.admin", "-a", "network.admin", "-a",
                 "host.devices.admin", "-a", "process.limit=200")
    assert r.returncode == 0, r
    out = r.stdout
    holds, given = out.split("what still protects the host:\n")[1].split(
        "What is given up compared with the default:\n")
    for want in ("no host namespace", "no host capability", "init_module", "kexec_load",
                 "bpf", "perf_event_open", "keyctl", "clock_settime",
                 "/dev/fuse, /dev/net/tun", "pids.max 200", "enforced on the host"):
        assert want in holds, (want, holds)
    for want in ("Landlock is not applied", "mount, pivot_root", "program's to change",
                 "FUSE and tun drivers"):
        assert want in given, (want, given)
    j = run_ward("explain", "--json", "-a", "security.admin", "-a", "network.admin")
    import json
    d = json.loads(j.stdout)
    assert any("no host capability" in h for h in d["admin"]["holds"]), d["admin"]
    assert not any("FUSE" in g for g in d["admin"]["given_up"]), d["admin"]
    # Without an admin entitlement there is no such section.
    r = run_ward("explain")
    assert "what still protects the host" not in r.stdout, r


# ---------------------------------------------------------------- ward inside ward

def nested(tmpdir, outer_allow, inner_args, script=None, timeout=120):
    """Run ward inside a security.admin sandbox.  ward is copied to TMPDIR
    (granted with fs.exec) so that the inner ward runs the binary under
    test; the inner command is INNER_ARGS after `ward run -q`, or SCRIPT
    (a shell script where $W is the inner ward)."""
    import shutil
    w = os.path.join(tmpdir, "ward")
    shutil.copy(WARD, w)
    os.chmod(w, 0o755)
    allow = ["security.admin", f"fs.exec={tmpdir}", f"fs.exec={HELPERS}", *outer_allow]
    if script is None:
        script = " ".join(["$W", "run", "-q", "--state-dir", "/tmp/ws", *inner_args])
    return run_ward("run", "-q", *sum((["-a", a] for a in allow), []), "--", "/bin/sh", "-c",
                    f"W={w}; {script}", timeout=timeout)


def test_ward_inside_ward_runs(tmpdir_real):
    # The case: clone3 refused with ENOSYS by the outer filter,
    # openat2 too; a procfs for the inner pid namespace; the inner ward's
    # own cgroup in the outer's.
    r = nested(tmpdir_real, [], ["-a", f"fs.exec={HELPERS}", "--", PROBE, "pids"])
    assert r.returncode == 0, r
    p = ProbeResult(r)
    assert p.ok and p["n"] == "2" and p["self"] == "2", r
    assert "Function not implemented" not in r.stderr, r


def test_ward_inside_ward_inner_limit(tmpdir_real):
    r = nested(tmpdir_real, ["process.limit=60"],
               ["-a", f"fs.exec={HELPERS}", "-a", "process.limit=8", "--", PROBE, "forkbomb",
                "100"])
    p = ProbeResult(r)
    assert r.returncode == 0 and p.errno == "EAGAIN", r
    # The program and its forks: at most the inner limit.
    assert int(p["forks"]) < 8, r


def test_ward_inside_ward_outer_limit_holds(tmpdir_real):
    # The inner ward asks for more than the outer allows; then the program
    # of the outer sandbox makes a child cgroup without a limit and moves
    # itself there.  Both are refused (the outer RLIMIT_NPROC, inherited,
    # and the outer cgroup's pids.max, root's file, which the sandbox cannot
    # write), and the outer cgroup's pids.peak shows that the whole tree
    # never held more than the outer limit.
    script = (
        f"$W run -q --state-dir /tmp/ws -a fs.exec={HELPERS} -a process.limit=500 -- "
        f"{PROBE} forkbomb 200; "
        "mkdir /sys/fs/cgroup/pids/esc && echo max > /sys/fs/cgroup/pids/esc/pids.max && "
        "echo $$ > /sys/fs/cgroup/pids/esc/cgroup.procs && "
        f"{PROBE} forkbomb 200; "
        "echo 1000 > /sys/fs/cgroup/pids/pids.max || echo own-limit-refused; "
        "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids/pids.peak")
    r = nested(tmpdir_real, ["process.limit=30"], None, script=script)
    assert r.returncode == 0, r
    lines = r.stdout.split("\n")
    inner, esc = ProbeResult(Result([], 0, lines[0], "")), ProbeResult(Result([], 0, lines[1], ""))
    assert inner.errno == "EAGAIN" and int(inner["forks"]) < 30, r
    assert esc.errno == "EAGAIN" and int(esc["forks"]) < 30, r
    assert "own-limit-refused" in r.stdout, r
    rest = [l for l in lines[2:] if l and l != "own-limit-refused"]
    assert rest[0] == "31", r   # process.limit + 1 (ward's init)
    assert 0 < int(rest[1]) <= 31, r


def test_ward_inside_ward_escape_battery(tmpdir_real):
    # The same attempts in a plain sandbox and in one inside a
    # security.admin sandbox: the inner sandbox blocks each the same way.
    probes = [["mount-tmpfs"], ["keyctl"], ["bpf"], ["perf"], ["init-module"], ["kexec"],
              ["clock-invalid"], ["io-uring"], ["userfaultfd"], ["socket", "packet"],
              ["socket", "inet"], ["unshare", "user"], ["chroot", "/"], ["open-by-handle"],
              ["ptrace", "1"], ["open", "/dev/vda", "r"], ["mknod"]]
    script = "; ".join(
        f"$W run -q --state-dir /tmp/ws -a fs.exec={HELPERS} -- {PROBE} {' '.join(a)}"
        for a in probes)
    r = nested(tmpdir_real, [], None, script=script, timeout=300)
    assert r.returncode == 0, r
    got = [l for l in r.stdout.split("\n") if l]
    assert len(got) == len(probes), r
    for a, line in zip(probes, got):
        plain = run_probe(*a)
        assert plain.line.split()[0] == line.split()[0], (a, plain.line, line)
        assert not line.startswith("ok"), (a, line)


# ---------------------------------------------------------------- podman inside ward

PODMAN_CONF = """[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{d}/run/events.log"
runtime = "crun"
tmp_dir = "{d}/run/libpod"
static_dir = "{d}/storage/libpod"
volume_path = "{d}/storage/volumes"
[containers]
default_ulimits = []
netns = "none"
keyring = false
"""
STORAGE_CONF = """[storage]
driver = "vfs"
runroot = "{d}/run"
graphroot = "{d}/storage"
"""


def test_podman_inside_ward(tmpdir_real):
    # podman (Debian's 4.3, crun, conmon) runs a busybox rootfs inside a
    # sandbox with the three admin entitlements, with vfs storage and a
    # network namespace of its own (--network none: lo only), and passes
    # the container's exit status back.  Its cgroups are disabled: podman's
    # cgroupfs manager wants every v1 hierarchy, ward gives pids, memory
    # and cpu (the outer limits still cap the container).
    import shutil
    for tool in ("/usr/bin/podman", "/usr/bin/crun", "/usr/bin/conmon"):
        if not os.access(tool, os.X_OK):
            pytest.skip(f"{tool} is not installed (apt-get install podman)")
    busybox = shutil.which("busybox")
    if busybox is None or b"statically linked" not in subprocess.run(
            ["file", "-L", busybox], capture_output=True).stdout:
        pytest.skip("no static busybox (apt-get install busybox-static)")
    d = tmpdir_real
    root = os.path.join(d, "rootfs")
    for sub in ("bin", "proc", "sys", "dev", "etc", "tmp"):
        os.makedirs(os.path.join(root, sub))
    shutil.copy(busybox, os.path.join(root, "bin", "busybox"))
    for name in ("sh", "echo", "cat"):
        os.symlink("busybox", os.path.join(root, "bin", name))
    for sub in ("storage", "run/crun", "tmp", "conf"):
        os.makedirs(os.path.join(d, sub))
    with open(os.path.join(d, "conf", "containers.conf"), "w") as f:
        f.write(PODMAN_CONF.format(d=d))
    with open(os.path.join(d, "conf", "storage.conf"), "w") as f:
        f.write(STORAGE_CONF.format(d=d))
    argv = ["run", "-q", "-a", "security.admin", "-a", "network.admin", "-a",
            "host.devices.admin", "-a", "process.limit=300", "-a", f"fs.write={d}", "-a",
            f"fs.exec={d}", "--setenv", f"CONTAINERS_CONF={d}/conf/containers.conf",
            "--setenv", f"CONTAINERS_STORAGE_CONF={d}/conf/storage.conf", "--setenv",
            f"TMPDIR={d}/tmp", "--", "/usr/bin/podman", "--root", f"{d}/storage", "--runroot",
            f"{d}/run", "--tmpdir", f"{d}/run/libpod", "--storage-driver", "vfs",
            "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime-flag",
            f"root={d}/run/crun", "run", "--rm", "--network", "none", "--cgroups", "disabled",
            "--ulimit", "host", "--rootfs", root, "/bin/sh", "-c"]
    r = run_ward(*argv, "echo hello from podman; cat /proc/net/dev | wc -l", timeout=180)
    assert r.returncode == 0, r
    out = r.stdout.split("\n")
    assert out[0] == "hello from podman", r
    assert out[1].strip() == "3", r   # two header lines and lo: no other interface
    r = run_ward(*argv, "exit 7", timeout=180)
    assert r.returncode == 7, r


def test_nested_procfs_stays_hidden():
    # The unmasked procfs ward mounts for nesting lies under a covering
    # tmpfs that is locked in the program's mount namespace: it can neither
    # be uncovered (umount EINVAL) nor listed (mode 000, unmapped owner);
    # and the program cannot mount a procfs of the sandbox's own pid
    # namespace (owned by the host's user namespace: EPERM).  Control: a
    # procfs for a pid namespace of its own mounts (what nesting needs).
    code = (
        "import ctypes, os, subprocess\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def e(r): return 'ok' if r == 0 else os.strerror(ctypes.get_errno())\n"
        "print('umount', e(libc.umount2(b'/dev/.ward-nest', 0)))\n"
        "print('detach', e(libc.umount2(b'/dev/.ward-nest', 2)))\n"
        "try:\n"
        "    os.listdir('/dev/.ward-nest'); print('list ok')\n"
        "except OSError as x: print('list', x.strerror)\n"
        "os.mkdir('/tmp/p')\n"
        "print('ownpid', e(libc.mount(b'proc', b'/tmp/p', b'proc', 0, None)))\n"
        "r = subprocess.run(['unshare', '-p', '-f', '--mount-proc=/tmp/p', 'true'])\n"
        "print('newpid', 'ok' if r.returncode == 0 else r.returncode)\n"
        "m = [l.split() for l in open('/proc/self/mountinfo')]\n"
        "at = lambda p: [x for x in m if x[4] == p]\n"
        "cover, proc = at('/dev/.ward-nest'), at('/dev/.ward-nest/proc')\n"
        "print('cover', cover[-1][cover[-1].index('-') + 1] if cover else 'none')\n"
        "print('hidden', 'yes' if cover and proc and proc[0][1] != cover[-1][0] and\n"
        "      int(cover[-1][0]) > int(proc[0][0]) else 'no')\n")
    if not os.access("/usr/bin/python3", os.X_OK):
        pytest.skip("python3 is not installed")
    r = run_ward("run", "-q", "-a", "security.admin", "--", "/usr/bin/python3", "-c", code)
    assert r.returncode == 0, r
    got = dict(l.split(" ", 1) for l in r.stdout.strip().split("\n"))
    assert got["umount"] == "Invalid argument" and got["detach"] == "Invalid argument", r
    assert got["list"] == "Permission denied", r
    assert got["ownpid"] == "Operation not permitted", r
    assert got["newpid"] == "ok", r
    # Two layers keep it out of reach: the covering tmpfs (mounted after
    # the procfs, on the directory above it) and that directory's owner
    # (host root, unmapped) and mode.
    assert got["cover"] == "tmpfs" and got["hidden"] == "yes", r


@pytest.mark.parametrize("attempt,syscall", [
    (["init-module"], "init_module"), (["finit-module"], "finit_module"),
    (["kexec"], "kexec_load"), (["clock-invalid"], "clock_settime"),
    (["settimeofday-tz"], "settimeofday"), (["bpf"], "bpf"), (["perf"], "perf_event_open"),
    (["keyctl"], "keyctl"),
])
def test_admin_combination_still_denies(attempt, syscall):
    # The three admin entitlements together: module loading, kexec, the
    # clock, bpf, perf and the keyring are still refused by the filter
    # (its own denial record names the syscall), with EPERM.
    r = run_probe(*attempt, allow=ADMIN3)
    blocked(r, "EPERM")
    assert f"denied {syscall}(2) by the syscall filter" in r.stderr, r


def test_admin_combination_adjtimex_cannot_set():
    # adjtimex may read the clock; setting the tick needs CAP_SYS_TIME of
    # the host's user namespace.
    r = run_probe("adjtimex-tick", allow=ADMIN3)
    blocked(r, "EPERM")


def test_admin_cgroup_given_only_with_security_admin():
    # security.admin: the sandbox's own cgroup to divide at /sys/fs/cgroup
    # (a child can be made; its own limit file stays root's).  Without it:
    # no cgroup hierarchy in the view at all.
    script = ("ls /sys/fs/cgroup; mkdir /sys/fs/cgroup/pids/child && echo made; "
              "echo 5 > /sys/fs/cgroup/pids/pids.max || echo refused")
    r = run_ward("run", "-q", "-a", "security.admin", "-a", "process.limit=40", "--",
                 "/bin/sh", "-c", script)
    assert r.returncode == 0, r
    out = r.stdout.split()
    if os.path.isdir("/sys/fs/cgroup/pids"):
        assert {"pids", "memory", "cpu"} <= set(out), r
        assert "devices" not in out, r
    assert "made" in out and "refused" in out, r
    r = run_ward("run", "-q", "-a", "security.user", "--", "/bin/sh", "-c", script)
    assert "made" not in r.stdout.split() and "pids" not in r.stdout.split(), r


def test_import_maps_cap_net_admin_to_network_admin(tmpdir_real):
    # ward import of a config.json that keeps CAP_NET_ADMIN: the nearest
    # entitlement is network.admin (its own namespace only), not
    # security.admin with a note that nothing gives it.
    import json
    cfg = os.path.join(tmpdir_real, "config.json")
    caps = ["CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_CHOWN"]
    with open(cfg, "w") as f:
        json.dump({"ociVersion": "1.0.2",
                   "process": {"args": ["sh"], "noNewPrivileges": True,
                               "capabilities": {k: caps for k in
                                                ("bounding", "effective", "permitted")}},
                   "linux": {"namespaces": [{"type": "network"}, {"type": "pid"},
                                            {"type": "mount"}]}}, f)
    r = run_ward("import", "--from", "oci", cfg)
    lines = [l.split("#")[0].strip() for l in r.stdout.splitlines()]
    assert "network.admin" in lines and "security.user" in lines, r
    assert "security.admin" not in lines and "which no entitlement gives" not in r.stdout, r

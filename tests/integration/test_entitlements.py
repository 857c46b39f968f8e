# SPDX-License-Identifier: GPL-2.0-or-later
"""For every implemented entitlement: granted, it works; absent, the program
is refused (and where ward prints a message, it names the entitlement)."""

import os
import shutil
import stat
import subprocess
import time

import pytest

from conftest import (EXIT_CANNOT, EXIT_FAILURE, EXIT_NOT_FOUND, PROBE, WARD, assert_ward_error,
                      exec_grant, read_line, run_probe, run_ward)

WARD_ID_POOL_BASE = 0x70000000


def host_ifaces():
    with open("/proc/net/dev") as f:
        return [l.split(":")[0].strip() for l in f.readlines()[2:]]


def probe_copy(directory):
    """A copy of the probe in DIRECTORY (for grants other than fs.exec)."""
    dst = os.path.join(directory, "probe")
    shutil.copy2(PROBE, dst)
    return dst


# ---------------------------------------------------------------- network

def test_network_none_default():
    r = run_probe("socket", "inet")
    assert r.errno == "EPERM", r
    r = run_probe("netifs")
    assert r["ifs"] == "lo", r


def test_network_none_explicit():
    r = run_probe("socket", "inet6", allow=["network.none"])
    assert r.errno == "EPERM", r
    assert run_probe("socket", "unix", allow=["network.none"]).ok


def test_network_loopback_granted():
    for host in ("127.0.0.1", "::1"):
        r = run_probe("tcp-echo", host, allow=["network.loopback"])
        assert r.ok, r
    # Still its own namespace: only lo.
    assert run_probe("netifs", allow=["network.loopback"])["ifs"] == "lo"


def test_network_loopback_absent():
    r = run_probe("tcp-echo", "127.0.0.1")
    assert r.errno == "EPERM" and r["step"] == "socket", r


def test_network_host_granted():
    r = run_probe("netifs", allow=["network.host"])
    assert r.ok, r
    assert sorted(r["ifs"].split(",")) == sorted(host_ifaces()), r
    assert run_probe("socket", "inet", allow=["network.host"]).ok


def test_network_host_absent():
    if host_ifaces() == ["lo"]:
        pytest.skip("the host has no interface but lo: nothing to hide")
    assert run_probe("netifs")["ifs"] == "lo"


# ---------------------------------------------------------------- filesystem

def test_fs_read_granted(make_tmpdir):
    d = make_tmpdir()
    with open(os.path.join(d, "data.txt"), "w") as f:
        f.write("hello\n")
    probe_copy(d)
    r = run_probe("file", os.path.join(d, "data.txt"), allow=[f"fs.read={d}"])
    assert r.ok and r["content"] == "hello", r
    # Read-only ...
    r = run_probe("create", os.path.join(d, "new"), allow=[f"fs.read={d}"])
    assert r.errno in ("EROFS", "EACCES"), r
    assert not os.path.exists(os.path.join(d, "new"))
    # ... and not executable.
    r = run_probe("exec", os.path.join(d, "probe"), allow=[f"fs.read={d}"])
    assert r.errno == "EACCES", r


def test_fs_read_absent(make_tmpdir):
    d = make_tmpdir()
    r = run_probe("ls", d)
    assert r.errno == "ENOENT", r


@pytest.mark.parametrize("owner", [0, 12345])
def test_fs_write_granted(make_tmpdir, owner):
    d = make_tmpdir(uid=owner, gid=owner)
    path = os.path.join(d, "made-inside")
    r = run_probe("create", path, "written", allow=[f"fs.write={d}"])
    assert r.ok, r
    with open(path) as f:
        assert f.read() == "written"
    st = os.stat(path)
    # Idmapped: the file belongs to the directory's owner on the host, not
    # to the sandbox's unprivileged uid range.
    assert (st.st_uid, st.st_gid) == (owner, owner), st
    # Inside, the directory's owner is the sandbox's root.
    r = run_probe("stat", path, allow=[f"fs.write={d}"])
    assert r["uid"] == "0", r


def test_fs_write_absent(make_tmpdir):
    d = make_tmpdir()
    r = run_probe("create", os.path.join(d, "x"))
    assert r.errno == "ENOENT", r
    r = run_probe("create", os.path.join(d, "x"), allow=[f"fs.read={d}"])
    assert r.errno in ("EROFS", "EACCES"), r
    assert os.listdir(d) == []


def test_fs_exec_granted(make_tmpdir):
    d = make_tmpdir()
    p = probe_copy(d)
    r = run_ward("run", "-q", "-a", f"fs.exec={d}", "--", p, "uname")
    assert r.returncode == 0 and r.stdout == "ok hostname=ward\n", r


def test_fs_exec_absent(make_tmpdir):
    d = make_tmpdir()
    p = probe_copy(d)
    r = run_ward("run", "--", p, "uname")
    assert_ward_error(r, p, "fs.exec", status=EXIT_NOT_FOUND)
    r = run_ward("run", "-a", f"fs.read={d}", "--", p, "uname")
    assert_ward_error(r, p, "fs.exec", status=EXIT_CANNOT)


# ---------------------------------------------------------------- resources

def cgroup_of(ward_pid, controller):
    return f"/sys/fs/cgroup/{controller}/ward/run-{ward_pid}"


def read_cg(path):
    with open(path) as f:
        return f.read().strip()


def running_sandbox(spawned, *allow):
    """Start a sandbox that sleeps; return the ward Popen once it runs."""
    args = ["run", "-q", "-a", exec_grant()]
    for a in allow:
        args += ["-a", a]
    w = spawned([WARD, *args, "--", PROBE, "spawn", "0", "20"], stdout=subprocess.PIPE,
                text=True)
    assert read_line(w.stdout, 10) == "ready\n"
    return w


def test_process_limit_granted(spawned):
    r = run_probe("forkbomb", "100", "10", allow=["process.limit=10"])
    assert r.errno == "EAGAIN" and r["forks"] == "9", r
    w = running_sandbox(spawned, "process.limit=10")
    # +1 for ward's init.
    assert read_cg(cgroup_of(w.pid, "pids") + "/pids.max") == "11"


def test_process_limit_absent(spawned):
    w = running_sandbox(spawned)
    assert read_cg(cgroup_of(w.pid, "pids") + "/pids.max") == "1025"


def test_memory_limit_granted(spawned):
    r = run_ward("run", "-a", exec_grant(), "-a", "memory.limit=64M", "--", PROBE, "membomb",
                 "512", timeout=60)
    assert r.returncode == 137, r
    assert "memory.limit" in r.stderr, r
    w = running_sandbox(spawned, "memory.limit=64M")
    assert int(read_cg(cgroup_of(w.pid, "memory") + "/memory.limit_in_bytes")) == 64 << 20


def test_memory_limit_absent(spawned):
    r = run_probe("membomb", "128", timeout=60)
    assert r.ok and r["mib"] == "128", r
    w = running_sandbox(spawned)
    limit = int(read_cg(cgroup_of(w.pid, "memory") + "/memory.limit_in_bytes"))
    ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert abs(limit - ram // 4) < (64 << 20), (limit, ram)


# CFS bandwidth control: with cpu.limit=0.2 the program gets at most 20 ms
# of CPU per 100 ms period, whatever the load of the machine.  Without a
# limit it gets what the machine has to spare, which on a busy shared VM is
# less than a whole CPU: the threshold between the two is 0.3.

def cpu_ratio(r):
    return int(r["cpu_ms"]) / int(r["wall_ms"])


def test_cpu_limit_granted(spawned):
    r = run_probe("cpu-burn", "2", allow=["cpu.limit=0.2"], timeout=30)
    assert r.ok, r
    assert cpu_ratio(r) < 0.3, r
    w = running_sandbox(spawned, "cpu.limit=0.2")
    base = cgroup_of(w.pid, "cpu")
    quota = int(read_cg(base + "/cpu.cfs_quota_us"))
    period = int(read_cg(base + "/cpu.cfs_period_us"))
    assert quota * 10 == period * 2, (quota, period)


def test_cpu_limit_absent(spawned):
    r = run_probe("cpu-burn", "1", timeout=30)
    assert r.ok, r
    assert cpu_ratio(r) > 0.3, r
    w = running_sandbox(spawned)
    assert read_cg(cgroup_of(w.pid, "cpu") + "/cpu.cfs_quota_us") == "-1"


def test_files_limit_granted():
    r = run_probe("files", "100000", allow=["files.limit=64"])
    assert r.errno == "EMFILE" and r["opened"] == str(64 - 3), r
    assert run_probe("rlimits", allow=["files.limit=64"])["nofile"] == "64:64"


def test_files_limit_absent():
    r = run_probe("rlimits")
    assert r["nofile"] == "1024:1024" and r["core"] == "0:0", r


# ---------------------------------------------------------------- process

def test_process_debug_granted():
    assert run_probe("ptrace-child", allow=["process.debug"]).ok
    # Still only its own processes: init stays out of reach.
    assert run_probe("ptrace", "1", allow=["process.debug"]).errno == "EPERM"


def test_process_debug_absent():
    assert run_probe("ptrace-child").errno == "EPERM"


def test_process_setuid_granted():
    r = run_probe("status", "NoNewPrivs", allow=["process.setuid"])
    assert r["NoNewPrivs"] == "0", r
    r = run_probe("mountopts", "/usr", allow=["process.setuid"])
    assert "nosuid" not in r["opts"].split(","), r


def test_process_setuid_absent():
    assert run_probe("status", "NoNewPrivs")["NoNewPrivs"] == "1"
    assert "nosuid" in run_probe("mountopts", "/usr")["opts"].split(",")


# ---------------------------------------------------------------- security levels

# Docker's default capabilities.
# Docker's default set less CAP_FSETID (4) and CAP_SETFCAP (31): a set-id file or a
# file capability left in a fs.write grant would be privileged on the host.
DOCKER_CAPS = [0, 1, 3, 5, 6, 7, 8, 10, 13, 18, 27, 29]
CAP_SYS_ADMIN = 21
CAP_SYS_TIME = 25


def mask(caps):
    return sum(1 << c for c in caps)


def test_security_confined_explicit():
    r = run_probe("caps", allow=["security.confined"])
    assert int(r["CapEff"], 16) == 0 and int(r["CapBnd"], 16) == 0, r
    assert run_probe("status", "Seccomp", allow=["security.confined"])["Seccomp"] == "2"


def test_security_user_granted():
    r = run_probe("caps", allow=["security.user"])
    assert int(r["CapEff"], 16) == mask(DOCKER_CAPS), r
    assert int(r["CapBnd"], 16) == mask(DOCKER_CAPS), r
    assert run_probe("chroot", "/tmp", allow=["security.user"]).ok
    # Still filtered and without new privileges.
    r = run_probe("status", "Seccomp", "NoNewPrivs", allow=["security.user"])
    assert r["Seccomp"] == "2" and r["NoNewPrivs"] == "1", r


def test_security_user_absent():
    assert run_probe("chroot", "/tmp").errno == "EPERM"


def test_security_admin_granted():
    r = run_probe("caps", allow=["security.admin"])
    assert int(r["CapEff"], 16) & (1 << CAP_SYS_ADMIN), r
    r = run_probe("mount-tmpfs", "/tmp/probe-mnt", allow=["security.admin"])
    assert r.ok, r


def test_security_admin_absent():
    assert run_probe("mount-tmpfs", "/tmp/probe-mnt").errno == "EPERM"
    assert not int(run_probe("caps")["CapEff"], 16) & (1 << CAP_SYS_ADMIN)


def test_security_levels_conflict():
    r = run_ward("run", "-a", "security.user", "-a", "security.admin", "--", "/bin/true")
    assert_ward_error(r, "security.user", "security.admin")


# ---------------------------------------------------------------- host

@pytest.fixture
def test_device():
    """A device node of our own under /dev: /dev/fuse's numbers (10:229),
    mode 0666, removed afterwards.  (The host's own /dev/fuse is 0600, which
    ward refuses to grant: see test_host_devices_owner_only_refused.)"""
    path = f"/dev/ward-test-fuse-{os.getpid()}"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(10, 229))
    except FileExistsError:
        pass
    os.chmod(path, 0o666)
    yield path
    os.unlink(path)


def test_host_devices_granted(test_device):
    r = run_probe("stat", test_device, allow=[f"host.devices={test_device}"])
    assert r.ok and r["type"] == "chr" and r["rdev"] == "10:229", r
    # Opening /dev/fuse makes a new, unused FUSE connection: harmless.
    r = run_probe("open", test_device, "rw", allow=[f"host.devices={test_device}"])
    # read() on a fresh FUSE fd fails with EPERM (no mount yet): opening is
    # what matters.
    assert r.ok or (r.errno == "EPERM" and r["step"] == "read"), r


def test_host_devices_absent(test_device):
    assert run_probe("stat", test_device).errno == "ENOENT"


def test_host_devices_owner_only_refused():
    path = "/dev/fuse"
    if not os.path.exists(path):
        pytest.skip("no /dev/fuse")
    if os.stat(path).st_mode & 0o066:
        pytest.skip("/dev/fuse is group- or world-accessible here")
    r = run_ward("run", "-a", f"host.devices={path}", "--", "/bin/true")
    assert_ward_error(r, "host.devices=/dev/fuse")


def test_host_time_granted():
    # Setting values to what they already are: needs CAP_SYS_TIME, changes
    # nothing (see the probe's comments).
    r = run_probe("adjtimex-tick", allow=["host.time"])
    assert r.ok, r
    r = run_probe("settimeofday-tz", allow=["host.time"])
    assert r.ok or r.line.startswith("error=timezone-not-utc"), r
    # Without a user namespace, as the unprivileged host uid itself.
    r = run_probe("ids", allow=["host.time"])
    assert int(r["uid"]) >= WARD_ID_POOL_BASE, r
    r = run_probe("caps", allow=["host.time"])
    assert int(r["CapEff"], 16) == 1 << CAP_SYS_TIME, r


def test_host_time_absent():
    assert run_probe("adjtimex-tick").errno == "EPERM"
    assert run_probe("clock-invalid").errno == "EPERM"


def test_host_time_refuses_wider_levels():
    r = run_ward("run", "-a", "host.time", "-a", "security.user", "--", "/bin/true")
    assert_ward_error(r, "host.time", "security.user")


# ---------------------------------------------------------------- not yet available

@pytest.mark.parametrize("name", ["process.host"])
def test_not_yet_available_refused(name):
    r = run_ward("run", "-a", name, "--", "/bin/true")
    assert_ward_error(r, name.split("=")[0], "not yet available")

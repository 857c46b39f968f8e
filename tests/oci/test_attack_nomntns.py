# SPDX-License-Identifier: GPL-2.0-or-later
"""A config.json without a mount namespace (issue 12 §2, linux_ns_itype):
the container shares the runtime's mount namespace and its root is a
chroot.  The attacker is the container's program: root, holding
CAP_SYS_CHROOT (the spec's and runtime-tools' default capabilities do), it
runs the classic way out of a chroot (chroot a subdirectory, walk ".."
from a working directory left outside it, chroot ".") to reach the
runtime's whole filesystem, and reads a host file there.

The layers (rootfs.c): a seccomp filter answers chroot(2) with EPERM
(ward_oci_chroot_filter; the container holds CAP_SYS_CHROOT, so EPERM is
the filter's); under it, Landlock confines every filesystem access to
beneath the root (ward_oci_chroot_confine: with the filter removed, the
walk out succeeds and the open of the host file fails with EACCES, which
nothing else would give a root holding CAP_DAC_OVERRIDE on a 0644 file).
The way around chroot(2), /proc/PID/root of a host process the container
could otherwise trace (root without capabilities, in the host's pid
namespace), is stopped by Landlock's ptrace restriction: a process in a
Landlock domain may not trace one outside it.  ward exec gets the same;
a user namespace without a mount namespace is refused; under
org.ward.entitlements a mount namespace is added, so the walk ends at
the container's own root (ENOENT)."""

import os
import shutil
import subprocess
import time

import pytest

from ocienv import HELPERS

CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETUID", "CAP_SETGID",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def no_mount_ns(oci, caps=CAPS):
    r = oci.rootfs_in_bundle()
    shutil.copy2(os.path.join(HELPERS, "probe"), os.path.join(r, "probe"))
    oci.config["linux"]["namespaces"] = [n for n in oci.config["linux"]["namespaces"]
                                         if n["type"] != "mount"]
    oci.config["root"]["readonly"] = False
    for k in ("bounding", "effective", "permitted"):
        oci.config["process"]["capabilities"][k] = list(caps)
    secret = os.path.join(oci.tmp, "host-secret")
    with open(secret, "w") as f:
        f.write("host\n")
    os.chmod(secret, 0o644)
    return secret


def test_chroot_escape_reaches_nothing_of_the_host(oci):
    secret = no_mount_ns(oci)
    r = oci.run("/probe", "caps")
    eff = [f for f in r.stdout.split() if f.startswith("CapEff=")]
    assert r.returncode == 0 and eff and int(eff[0][7:], 16) & (1 << 18), r  # CAP_SYS_CHROOT
    r = oci.run("/probe", "chroot-escape", secret)
    assert r.returncode == 0, r
    # the container holds CAP_SYS_CHROOT: EPERM is the filter's
    assert r.stdout.strip() == "errno=EPERM step=chroot", r
    # the container itself is untouched: its own files, /proc, /dev, /tmp
    r = oci.sh("cat /etc/passwd >/dev/null && echo x > /tmp/f && cat /tmp/f && "
               "ls /proc/self/fd >/dev/null && echo ok")
    assert r.returncode == 0 and r.stdout == "x\nok\n", r


def test_chroot_escape_through_exec_reaches_nothing(oci):
    secret = no_mount_ns(oci)
    cid = f"escx-{os.getpid()}"
    oci.create(cid, "sleep", "30")
    oci.ward("start", cid, check=True)
    r = oci.ward("exec", cid, "/probe", "chroot-escape", secret)
    assert r.returncode == 0 and r.stdout.strip() == "errno=EPERM step=chroot", r
    r = oci.ward("exec", cid, "cat", "/etc/passwd")
    assert r.returncode == 0 and "root:x:0:0" in r.stdout, r
    oci.ward("delete", "--force", cid, check=True)


@pytest.fixture
def capless_root():
    """A host process running as uid 0 without any capability (as some
    daemons run): the container, root with a subset of capabilities, may
    trace it, so /proc/PID/root of it is the host's root."""
    p = subprocess.Popen(["setpriv", "--bounding-set=-all", "--inh-caps=-all", "sleep", "300"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(f"/proc/{p.pid}/status") as f:
                st = f.read()
            if "CapPrm:\t0000000000000000" in st and "sleep" in open(f"/proc/{p.pid}/comm").read():
                break
            time.sleep(0.02)
        yield p.pid
    finally:
        p.kill()
        p.wait()


def test_proc_pid_root_of_a_host_process_reaches_nothing(oci, capless_root):
    """The way around chroot(2): the host's pid namespace (no pid
    namespace in the config) and /proc/PID/root of a host root process
    without capabilities.  Landlock's ptrace restriction stops it (the
    domain every container of ward gets; a chroot-style one gets it on
    any Landlock ABI, for its filesystem rules)."""
    secret = no_mount_ns(oci)
    oci.config["linux"]["namespaces"] = [n for n in oci.config["linux"]["namespaces"]
                                         if n["type"] != "pid"]
    r = oci.run("/probe", "open", f"/proc/{capless_root}/root{secret}", "r")
    assert r.returncode == 0 and r.stdout.strip() == "errno=EACCES", r
    # the same path from the host is readable: the magic link itself works
    with open(f"/proc/{capless_root}/root{secret}") as f:
        assert f.read() == "host\n"


def test_host_bind_mounts_stay_usable(oci):
    """What the config binds in is reached through the root, so the
    confinement keeps it (only the host's view from outside is cut)."""
    no_mount_ns(oci)
    src = os.path.join(oci.tmp, "shared")
    os.makedirs(src)
    with open(os.path.join(src, "f"), "w") as f:
        f.write("bound\n")
    oci.config["mounts"].append({"destination": "/data", "type": "bind", "source": src,
                                 "options": ["rbind", "rw"]})
    r = oci.sh("cat /data/f && echo more >> /data/f")
    assert r.returncode == 0 and r.stdout == "bound\n", r
    with open(os.path.join(src, "f")) as f:
        assert f.read() == "bound\nmore\n"


def test_user_namespace_without_mount_namespace_refused(oci):
    no_mount_ns(oci)
    oci.config["linux"]["namespaces"].append({"type": "user"})
    oci.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 3000000, "size": 65536}]
    oci.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 3000000, "size": 65536}]
    r = oci.run("true")
    assert r.returncode != 0, r
    assert "has a user namespace but no mount namespace" in r.stderr, r
    assert '{"type": "mount"}' in r.stderr, r


def test_under_entitlements_the_walk_ends_at_the_containers_root(oci):
    """security.user holds CAP_SYS_CHROOT: the escape is attempted, but
    the mount namespace ward adds ends it at the container's own root."""
    secret = no_mount_ns(oci)
    oci.config["annotations"] = {"org.ward.entitlements": "network.none security.user"}
    r = oci.run("/probe", "chroot-escape", secret)
    assert r.returncode == 0, r
    assert r.stdout.strip() == "errno=ENOENT step=open", r

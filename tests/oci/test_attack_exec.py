# SPDX-License-Identifier: GPL-2.0-or-later
"""Attacks on `ward exec`, `ward ps` and a container that joins a mount
namespace: leaked descriptors as a working directory (CVE-2024-21626), a
joined mount namespace taken over by the container's pivot_root, process
names that carry terminal escapes."""

import os
import shutil
import subprocess
import time

import pytest

from ocienv import HELPERS, WARD


def host_marker():
    """A path that exists on the host and not in the busybox rootfs."""
    return os.path.dirname(WARD)


def test_exec_cwd_cannot_reach_the_host_through_a_descriptor(oci):
    oci.config["process"]["args"] = ["sleep", "100"]
    oci.create("cwd")
    oci.ward("start", "cwd", check=True)
    marker = host_marker()
    up = "../" * 12
    outside = []
    for fd in range(3, 24):
        r = oci.ward("exec", "--cwd", f"/proc/self/fd/{fd}", "cwd", "sh", "-c",
                     f"cd {up} && test -e .{marker} && echo HOST")
        if "HOST" in r.stdout:
            outside.append(fd)
        elif r.returncode != 0:
            # ward refuses the working directory (it is not a directory of
            # the container, or not there at all) before the program runs.
            assert "cwd" in r.stderr, r
    assert outside == [], f"exec --cwd /proc/self/fd/N reached the host for N in {outside}"


@pytest.fixture
def mount_ns_holder():
    """A process in a mount namespace of its own (a copy of the host's)."""
    p = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sleep", "300"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if os.readlink(f"/proc/{p.pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt"):
            break
        time.sleep(0.01)
    yield p
    p.kill()
    p.wait()


def test_joined_mount_namespace_is_not_taken_over(oci, mount_ns_holder):
    holder = mount_ns_holder.pid
    marker = host_marker()
    for ns in oci.config["linux"]["namespaces"]:
        if ns["type"] == "mount":
            ns["path"] = f"/proc/{holder}/ns/mnt"
    oci.config["process"]["args"] = ["sleep", "100"]
    oci.create("joined")
    oci.ward("start", "joined", check=True)
    # The process that owns the joined namespace keeps its root: the
    # container's pivot_root happened in a copy of the namespace.
    assert os.path.exists(f"/proc/{holder}/root{marker}"), \
        "the container's pivot_root moved the root of the joined namespace's processes"
    # And exec sees the container's root, not the caller's.
    r = oci.ward("exec", "joined", "sh", "-c", f"test -e {marker} && echo HOST; ls /")
    assert r.returncode == 0, r
    assert "HOST" not in r.stdout and "data" in r.stdout.split(), r


def test_ps_escapes_the_names_a_container_gives_its_processes(oci):
    r = oci.rootfs_in_bundle()
    shutil.copy2(os.path.join(HELPERS, "probe"), os.path.join(r, "probe"))
    oci.config["root"]["readonly"] = False
    # comm is the name of the file executed: a symbolic link named with a
    # terminal escape ("clear the screen").
    oci.config["process"]["args"] = [
        "sh", "-c", "n=$(printf '\\033[2Jx'); ln -s /probe \"/tmp/$n\" && "
                    "exec \"/tmp/$n\" wait-signal 100"]
    oci.create("named")
    oci.ward("start", "named", check=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "ready" not in oci.output("named"):
        time.sleep(0.02)
    r = oci.ward("ps", "named")
    assert r.returncode == 0, r
    assert "\x1b" not in r.stdout, "ward ps printed a container's escape sequence raw"
    assert "\\x1b[2Jx" in r.stdout, r

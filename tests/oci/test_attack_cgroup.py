# SPDX-License-Identifier: GPL-2.0-or-later
"""linux.cgroupsPath naming a cgroup that exists and holds another program:
ward must not kill that program (ever), and must not take the cgroup over
under the entitlements annotation."""

import itertools
import os
import subprocess
import time

import pytest

from ocienv import cgroup_dirs

ANN = "org.ward.entitlements"
_n = itertools.count()


def alive(p):
    return p.poll() is None


@pytest.fixture
def victim():
    """Another program in a cgroup of its own, in every v1 hierarchy."""
    path = f"/h3oci-victim-{os.getpid()}-{next(_n)}"
    dirs = cgroup_dirs(path)
    made = []
    p = subprocess.Popen(["sleep", "300"])
    try:
        for d in dirs:
            os.mkdir(d)
            made.append(d)
            for f in ("cpuset.cpus", "cpuset.mems"):
                if os.path.exists(os.path.join(d, f)):
                    with open(os.path.join(os.path.dirname(d), f)) as src:
                        val = src.read().strip()
                    with open(os.path.join(d, f), "w") as dst:
                        dst.write(val)
            with open(os.path.join(d, "cgroup.procs"), "w") as f:
                f.write(str(p.pid))
        yield path, p
    finally:
        p.kill()
        p.wait()
        for d in reversed(made):
            for _ in range(100):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.01)


def pids_max(path):
    with open(os.path.join("/sys/fs/cgroup/pids", path.lstrip("/"), "pids.max")) as f:
        return f.read().strip()


def test_failed_create_kills_nothing_in_a_cgroup_ward_did_not_make(oci, victim):
    path, p = victim
    oci.config["linux"]["cgroupsPath"] = path
    r = oci.create("fail", "/no/such/program", check=False)
    assert r.returncode == 127, r
    time.sleep(0.2)
    assert alive(p), "a failed create killed a process ward did not start"
    assert all(os.path.isdir(d) for d in cgroup_dirs(path)), "ward removed a cgroup it did not make"


def test_kill_all_and_delete_spare_the_other_processes(oci, victim):
    path, p = victim
    oci.config["linux"]["cgroupsPath"] = path
    oci.create("shared", "sleep", "100")
    oci.ward("start", "shared", check=True)
    oci.ward("kill", "--all", "shared", "KILL", check=True)
    oci.wait_status("shared", "stopped")
    oci.ward("delete", "shared", check=True)
    time.sleep(0.2)
    assert alive(p), "kill --all / delete killed a process ward did not start"
    assert all(os.path.isdir(d) for d in cgroup_dirs(path)), "ward removed a cgroup it did not make"


def test_existing_cgroup_refused_under_the_annotation(oci, victim):
    path, p = victim
    before = pids_max(path)
    oci.config["linux"]["cgroupsPath"] = path
    oci.config["annotations"] = {ANN: "network.none,process.limit=64"}
    oci.rootfs_in_bundle()
    r = oci.create("taken", "true", check=False)
    assert r.returncode != 0
    assert f'linux.cgroupsPath "{path}": the cgroup exists already' in r.stderr, r
    assert ANN in r.stderr, r
    assert pids_max(path) == before, "ward wrote its limits into another program's cgroup"
    assert alive(p)

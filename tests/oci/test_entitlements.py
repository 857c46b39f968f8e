# SPDX-License-Identifier: GPL-2.0-or-later
"""The org.ward.entitlements annotation: the config gets no more than the
entitlements allow (capabilities, no_new_privs, mounts, resources, seccomp)."""

import os
import subprocess

import pytest

from ocienv import WARD

ANN = "org.ward.entitlements"


@pytest.fixture(autouse=True)
def bundle_rootfs(oci):
    """Under the annotation the root must be in the bundle (entitle_fs.c)."""
    oci.rootfs_in_bundle()


def status_field(text, name):
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


def test_capabilities_trimmed_nnp_forced_and_filters_stacked(oci):
    caps = ["CAP_CHOWN", "CAP_NET_RAW", "CAP_SYS_ADMIN"]
    oci.config["process"]["capabilities"] = {k: caps for k in
                                             ("bounding", "effective", "permitted")}
    oci.config["process"]["noNewPrivileges"] = False
    oci.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}
    oci.config["annotations"] = {ANN: "security.user"}
    r = oci.run("cat", "/proc/self/status")
    assert r.returncode == 0, r
    eff = int(status_field(r.stdout, "CapEff"), 16)
    assert eff & (1 << 0)            # CAP_CHOWN: in Docker's default set
    assert not eff & (1 << 21)       # CAP_SYS_ADMIN: not granted
    assert status_field(r.stdout, "NoNewPrivs") == "1"
    assert status_field(r.stdout, "Seccomp_filters") == "2"


def test_no_annotation_honours_the_config(oci):
    caps = ["CAP_SYS_ADMIN"]
    oci.config["process"]["capabilities"] = {k: caps for k in
                                             ("bounding", "effective", "permitted")}
    oci.config["process"]["noNewPrivileges"] = False
    r = oci.run("cat", "/proc/self/status")
    assert int(status_field(r.stdout, "CapEff"), 16) == 1 << 21, r
    assert status_field(r.stdout, "NoNewPrivs") == "0"


def test_bind_mount_needs_an_fs_grant(oci):
    src = os.path.join(oci.tmp, "data")
    os.makedirs(src)
    oci.config["mounts"].append({"destination": "/data", "type": "bind", "source": src,
                                 "options": ["rbind", "rw"]})
    idx = len(oci.config["mounts"]) - 1
    oci.config["annotations"] = {ANN: "network.none"}
    r = oci.run("true")
    assert r.returncode == 1, r
    assert (f"config.json: mounts[{idx}]: the bind mount of the host path {src} on /data is "
            f"not allowed by {ANN}: add fs.read={src} (read-only) or fs.write={src} to the "
            "annotation") in r.stderr, r
    oci.config["annotations"] = {ANN: f"fs.read={src}"}
    r = oci.sh("touch /data/x 2>&1; echo status=$?")
    # EROFS: the read-only mount refuses, not a permission check.
    assert "Read-only file system" in r.stdout and "status=1" in r.stdout, r
    oci.config["annotations"] = {ANN: f"fs.write={src}"}
    r = oci.sh("touch /data/x && echo wrote")
    assert r.stdout.strip() == "wrote", r
    # Idmapped: written as the directory's owner, never as a uid of the pool.
    st = os.stat(os.path.join(src, "x"))
    assert (st.st_uid, st.st_gid) == (os.stat(src).st_uid, os.stat(src).st_gid)


def test_resources_become_the_smaller(oci):
    oci.config["linux"]["resources"]["pids"] = {"limit": 5000}
    oci.config["linux"]["resources"]["memory"] = {"limit": 1 << 40}
    oci.config["annotations"] = {ANN: "process.limit=40,memory.limit=100M,files.limit=300"}
    r = oci.sh("cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes;"
               " ulimit -n")
    assert r.stdout.split() == ["40", str(100 << 20), "300"], r


def test_network_none_denies_inet_sockets(oci):
    oci.config["annotations"] = {ANN: "network.none"}
    r = oci.sh("nc -l -p 8080 127.0.0.1 </dev/null 2>&1; true")
    assert "not permitted" in r.stdout or "not supported" in r.stdout, r
    oci.config["annotations"] = {ANN: "network.loopback"}
    # The listener may take a while to bind on a busy host: try for 10 s.
    r = oci.sh("(nc -l -p 8080 >/dev/null &) ; i=0; "
               "while [ $i -lt 200 ]; do echo hi | nc 127.0.0.1 8080 2>/dev/null "
               "&& { echo connected; break; }; sleep 0.05; i=$((i+1)); done")
    assert "connected" in r.stdout, r


def test_unknown_entitlement_is_an_error_with_a_suggestion(oci):
    oci.config["annotations"] = {ANN: "netwrok.none"}
    r = oci.run("true")
    assert r.returncode != 0
    assert "network.none" in r.stderr, r


def test_explain_bundle(oci):
    oci.config["annotations"] = {ANN: "network.loopback,process.limit=64"}
    oci.write_config()
    r = subprocess.run([WARD, "explain", "--bundle", oci.bundle], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert f"Entitlements ({ANN}): network.loopback,process.limit=64" in r.stdout, r.stdout
    assert "linux.resources.pids.limit: 64 (process.limit)" in r.stdout, r.stdout
    assert "user namespace: new (added by ward)" in r.stdout, r.stdout
    assert "root: rootfs" not in r.stdout  # the resolved path is shown
    assert f"root: {oci.bundle}/rootfs (in the bundle), read-only" in r.stdout, r.stdout
    assert "capabilities (bounding): none" in r.stdout, r.stdout

# SPDX-License-Identifier: GPL-2.0-or-later
"""A config.json written by an attacker, with org.ward.entitlements saying
"network.none,process.limit=64" and granting no path: every field that asks
for more must be refused with a message naming the field, or trimmed where
trimming keeps the container what it is (issue 11, item 3).

Each test runs the attack against a real container.  The assertions name
ward's own refusal (the message only ward's bounding gives) or the specific
errno of the layer under test, never "it failed"."""

import json
import os
import shutil
import subprocess

import pytest

from ocienv import HELPERS, WARD

ANN = "org.ward.entitlements"
BASE = "network.none,process.limit=64"


@pytest.fixture
def hostile(oci):
    """A bundle as it is handed over: the rootfs inside, the probe in it."""
    r = oci.rootfs_in_bundle()
    shutil.copy2(os.path.join(HELPERS, "probe"), os.path.join(r, "probe"))
    oci.config["annotations"] = {ANN: BASE}
    return oci


def refused(r, text):
    assert r.returncode != 0, r
    assert text in r.stderr, r


def mount(oci, dest, typ, src, opts=()):
    oci.config["mounts"].append({"destination": dest, "type": typ, "source": src,
                                 "options": list(opts)})
    return len(oci.config["mounts"]) - 1


@pytest.fixture
def loop_ext4(tmp_path):
    """A block device holding an ext4 filesystem with a secret in it."""
    img = tmp_path / "disk.img"
    subprocess.run(["truncate", "-s", "8M", str(img)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(img)], check=True, capture_output=True)
    dev = subprocess.run(["losetup", "-f", "--show", str(img)], check=True,
                         capture_output=True, text=True).stdout.strip()
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(["mount", dev, str(mnt)], check=True)
    (mnt / "secret").write_text("host-disk-secret\n")
    subprocess.run(["umount", str(mnt)], check=True)
    yield dev
    subprocess.run(["losetup", "-d", dev], capture_output=True)


def test_block_device_mount_refused(hostile, loop_ext4):
    i = mount(hostile, "/mnt", "ext4", loop_ext4, ["rw"])
    r = hostile.sh("cat /mnt/secret")
    assert "host-disk-secret" not in r.stdout, r
    refused(r, f'config.json: mounts[{i}].type "ext4" on /mnt is not allowed under {ANN}')


def test_overlay_of_host_directories_refused(hostile):
    i = mount(hostile, "/ovl", "overlay", "overlay", ["lowerdir=/etc:/root"])
    r = hostile.sh("test -r /ovl/shadow && echo READABLE")
    assert "READABLE" not in r.stdout, r
    refused(r, f'config.json: mounts[{i}].type "overlay" on /ovl is not allowed under {ANN}')


def test_masked_and_readonly_paths_have_a_floor(hostile):
    hostile.config["linux"]["maskedPaths"] = []
    hostile.config["linux"]["readonlyPaths"] = []
    # ward's lists are the floor: /proc/sys is a read-only mount again ...
    r = hostile.run("/probe", "mountopts", "/proc/sys")
    assert r.stdout.split()[0] == "ok", r
    assert "ro" in r.stdout.split()[1].split("=", 1)[1].split(","), r
    # ... and /proc/keys is masked (/dev/null bound over it).
    r = hostile.run("/probe", "stat", "/proc/keys")
    assert "type=chr" in r.stdout and "rdev=1:3" in r.stdout, r
    # Writing a host sysctl back with the value just read (harmless where it
    # succeeds) is refused; first by the user namespace ward added (the
    # container's root does not own /proc/sys: EACCES, before the read-only
    # mount's EROFS).
    r = hostile.run("/probe", "rewrite", "/proc/sys/kernel/core_pattern")
    assert r.stdout.split()[0] == "errno=EACCES", r


def test_user_namespace_is_added(hostile):
    hostile.config["linux"]["namespaces"] = [
        ns for ns in hostile.config["linux"]["namespaces"] if ns["type"] != "user"]
    r = hostile.sh("cat /proc/self/uid_map")
    assert r.returncode == 0, r
    inside, host, size = (int(x) for x in r.stdout.split())
    # uid 0 of the container is a host uid of ward's OCI pool, not 0.
    assert (inside, size) == (0, 65536) and host >= 0x74000000, r


def test_config_user_namespace_may_not_map_host_root(hostile):
    hostile.config["linux"]["namespaces"].append({"type": "user"})
    hostile.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    hostile.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    r = hostile.run("true")
    refused(r, "config.json: linux.uidMappings[0] maps host uid 0 into the container")


def test_host_sysctl_refused(hostile):
    with open("/proc/sys/kernel/core_pattern") as f:
        same = f.read().strip()     # where it is written, nothing changes
    hostile.config["linux"]["sysctl"] = {"kernel.core_pattern": same}
    r = hostile.run("true")
    refused(r, 'config.json: linux.sysctl "kernel.core_pattern": not a sysctl of the '
               "container's own namespaces")


def test_namespaced_sysctl_allowed(hostile):
    hostile.config["linux"]["sysctl"] = {"net.ipv4.ip_default_ttl": "42"}
    r = hostile.sh("cat /proc/sys/net/ipv4/ip_default_ttl")
    assert r.returncode == 0 and r.stdout.strip() == "42", r


def test_hooks_refused(hostile):
    marker = os.path.join(hostile.tmp, "hook-ran")
    hostile.config["hooks"] = {"prestart": [{"path": "/bin/sh",
                                             "args": ["sh", "-c", f"touch {marker}"]}]}
    r = hostile.run("true")
    assert not os.path.exists(marker), "a prestart hook ran as host root"
    refused(r, 'config.json: hooks.prestart[0] "/bin/sh": hooks run as the runtime')


def test_namespace_path_refused(hostile):
    hostile.config["linux"]["namespaces"].append({"type": "time", "path": "/proc/1/ns/time"})
    r = hostile.run("true")
    refused(r, 'linux.namespaces[6].path "/proc/1/ns/time": joining a time namespace by '
               "path is not allowed")


def test_device_must_be_the_granted_node(hostile):
    root = os.stat(os.path.realpath("/dev/vda")) if os.path.exists("/dev/vda") else None
    major, minor = (os.major(root.st_rdev), os.minor(root.st_rdev)) if root else (8, 0)
    hostile.config["annotations"] = {ANN: BASE + ",host.devices=/dev/null"}
    hostile.config["linux"]["devices"] = [{"path": "/dev/null", "type": "b", "major": major,
                                           "minor": minor, "fileMode": 0o666}]
    r = hostile.run("/probe", "stat", "/dev/null")
    assert "type=blk" not in r.stdout, r
    refused(r, f'config.json: linux.devices[0] "/dev/null" (b {major}:{minor}) is not the '
               "host's node at that path")


def test_labels_refused(hostile):
    hostile.config["process"]["apparmorProfile"] = "unconfined-please"
    hostile.config["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0"
    r = hostile.run("true")
    refused(r, 'process.apparmorProfile "unconfined-please": AppArmor is not enabled')
    r = subprocess.run([WARD, "explain", "--bundle", hostile.bundle], capture_output=True,
                       text=True)
    assert 'linux.mountLabel "system_u:object_r:container_file_t:s0"' in r.stdout, r


def test_hostname_with_control_characters_refused(hostile):
    hostile.config["hostname"] = "ok\x1b]0;owned\x07\nward: all good"
    r = hostile.run("true")
    refused(r, 'hostname "ok\\x1b]0;owned\\x07\\nward: all good": at most 64 bytes and no '
               "control characters")
    assert "\x1b" not in r.stderr


def test_relative_bind_source_cannot_leave_the_bundle(hostile):
    i = mount(hostile, "/x", "bind", "../../../../../../../etc", ["rbind", "ro"])
    r = hostile.sh("test -e /x/passwd && test -e /x/hostname && echo HOST-ETC")
    assert "HOST-ETC" not in r.stdout, r
    refused(r, f'config.json: mounts[{i}].source "../../../../../../../etc"')


def test_engine_file_rule_is_not_a_string_match(hostile):
    # A host directory named after the container id, holding a symbolic
    # link to /etc: a bind of "DIR/ID/etc" once passed as "the engine's file".
    cid = "enginetrick"
    d = os.path.join(hostile.tmp, "x", cid)
    os.makedirs(d)
    os.symlink("/etc", os.path.join(d, "etc"))
    i = mount(hostile, "/x", "bind", os.path.join(d, "etc"), ["rbind", "ro"])
    r = hostile.sh("test -e /x/passwd && test -e /x/hostname && echo HOST-ETC", cid=cid)
    assert "HOST-ETC" not in r.stdout, r
    refused(r, f"config.json: mounts[{i}]: the bind mount of the host path {d}/etc on /x is "
               f"not allowed by {ANN}")


def test_root_outside_the_bundle_refused(hostile):
    outside = os.path.join(hostile.tmp, "elsewhere")
    shutil.copytree(os.path.join(hostile.bundle, "rootfs"), outside, symlinks=True)
    hostile.config["root"]["path"] = outside
    r = hostile.run("true")
    refused(r, f'config.json: root.path "{outside}": the container\'s root must be in the '
               "bundle, the root of an overlay mount")


def test_seccomp_listener_refused(hostile):
    hostile.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/some-host.sock",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}
    r = hostile.run("true")
    refused(r, 'linux.seccomp.listenerPath "/run/some-host.sock": ward would connect to that '
               "host socket as root")


def test_oom_score_adj_raised_to_zero(hostile):
    hostile.config["process"]["oomScoreAdj"] = -1000
    r = hostile.sh("cat /proc/self/oom_score_adj")
    assert r.returncode == 0 and r.stdout.strip() == "0", r


def test_unified_cgroup_files_refused(hostile):
    hostile.config["linux"]["resources"]["unified"] = {"cgroup.procs": "1",
                                                      "memory.max": "max"}
    r = hostile.run("true")
    refused(r, 'linux.resources.unified "cgroup.procs"')


def test_explain_lists_every_refusal_and_exits_1(hostile, loop_ext4):
    mount(hostile, "/mnt", "ext4", loop_ext4)
    hostile.config["hooks"] = {"poststop": [{"path": "/bin/true"}]}
    hostile.config["linux"]["sysctl"] = {"vm.overcommit_memory": "1"}
    hostile.config["linux"]["maskedPaths"] = []
    hostile.config["process"]["capabilities"]["bounding"].append("CAP_SYS_ADMIN")
    hostile.config["linux"]["resources"]["devices"] = [{"allow": True, "access": "rwm"}]
    hostile.config["process"]["rlimits"].append(
        {"type": "RLIMIT_MEMLOCK", "soft": 1 << 40, "hard": 1 << 40})
    hostile.write_config()
    r = subprocess.run([WARD, "explain", "--bundle", hostile.bundle], capture_output=True,
                       text=True)
    assert r.returncode == 1, r
    assert "Refused: 3 field(s) ask for more than the entitlements allow" in r.stdout, r.stdout
    assert '.type "ext4" on /mnt' in r.stdout
    assert 'hooks.poststop[0] "/bin/true"' in r.stdout
    assert 'linux.sysctl "vm.overcommit_memory"' in r.stdout
    # The trimmed fields, and the bounded result.
    assert "linux.maskedPaths: /proc/kcore added (ward's own list is the floor)" in r.stdout
    assert "capabilities: removed CAP_SYS_ADMIN" in r.stdout or \
        "process.capabilities: removed" in r.stdout, r.stdout
    assert "capabilities (bounding): none" in r.stdout
    assert "linux.resources.devices[0]: allow rule a *:* rwm dropped" in r.stdout, r.stdout
    assert "process: RLIMIT_MEMLOCK" in r.stdout and "(the runtime's hard limit)" in r.stdout
    r = subprocess.run([WARD, "explain", "--json", "--bundle", hostile.bundle],
                       capture_output=True, text=True)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert len(doc["refusals"]) == 3 and doc["userNamespace"].startswith("new (added by ward)")


@pytest.mark.parametrize("cid", ["..", "../other", "a/b", "x\ny"])
def test_container_ids_cannot_name_other_state(oci, cid):
    """The id becomes a directory under --root: it may not reach another's."""
    for args in (("state", cid), ("delete", "--force", cid), ("kill", cid, "KILL")):
        r = oci.ward(*args)
        assert r.returncode != 0 and "invalid container id" in r.stderr, r


def test_device_node_in_the_image_opens_nothing(hostile):
    # A bundle extracted by root may carry device nodes (here one of /dev/zero,
    # which the device cgroup allows: only the mount's nodev stops it).
    node = os.path.join(hostile.bundle, "rootfs", "zz")
    os.mknod(node, 0o20666, os.makedev(1, 5))
    os.chmod(node, 0o666)
    r = hostile.run("/probe", "open", "/zz", "r")
    assert r.returncode == 0, r
    assert r.stdout.split()[0] == "errno=EACCES", r

# SPDX-License-Identifier: GPL-2.0-or-later
"""Rootless podman with `--runtime ward` (docs/rootless.md, OCI).

The session's ordinary user (tests/conftest.py, RootlessUser) runs podman in
its own rootless mode: podman makes its user namespace from the user's
subordinate ranges, and starts ward in it as that namespace's root, which
is rootless mode for ward.  Everything podman keeps lives in the user's
home (containers.conf, storage.conf, TMPDIR for its runtime directory), so
nothing is left outside it; the image is a `podman import` of a busybox
rootfs (no registry).  podman's cgroup manager here is cgroupfs (no
systemd on this host); on cgroup v1 podman itself gives rootless containers
no cgroup, and ward makes one in the user's delegated subtree
(ward-users/user-UID/oci-ID) when there is one.

At the end of the module podman's own processes of the user (its pause
process, which holds the namespace) are ended by pid.
"""

import json
import os
import shutil
import signal
import subprocess
import tarfile
import time

import pytest

from conftest import WARD, as_user_argv

PODMAN = shutil.which("podman")
BUSYBOX = "/bin/busybox"
IMAGE = "localhost/ward-rl-busybox:latest"

pytestmark = [
    pytest.mark.skipif(PODMAN is None,
                       reason="podman is not installed (run tests/oci/setup-podman.sh)"),
    pytest.mark.usefixtures("rootless_user"),
]


def busybox_static():
    try:
        out = subprocess.run(["file", "-L", BUSYBOX], capture_output=True, text=True).stdout
    except OSError:
        return os.path.exists(BUSYBOX)
    return "statically linked" in out or "static-pie" in out


class UserPodman:
    """podman as the session's user, configured in a directory of the
    user's home."""

    def __init__(self, user):
        self.user = user
        self.dir = os.path.join(user.home, "podman-ward")
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        d = self.dir
        with open(os.path.join(d, "containers.conf"), "w") as f:
            f.write(f"""[containers]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{d}/events.log"
tmp_dir = "{d}/libpod-tmp"
[engine.runtimes]
ward = ["{WARD}"]
""")
        with open(os.path.join(d, "storage.conf"), "w") as f:
            f.write(f"""[storage]
driver = "overlay"
runroot = "{d}/runroot"
graphroot = "{d}/graph"
""")
        rootfs = os.path.join(d, "rootfs")
        for sub in ("bin", "proc", "sys", "dev", "etc", "tmp", "root"):
            os.makedirs(os.path.join(rootfs, sub), exist_ok=True)
        shutil.copy2(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
        for a in subprocess.run([BUSYBOX, "--list"], capture_output=True,
                                text=True).stdout.split():
            if a != "busybox":
                os.symlink("busybox", os.path.join(rootfs, "bin", a))
        with open(os.path.join(rootfs, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
        os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
        self.tar = os.path.join(d, "rootfs.tar")
        with tarfile.open(self.tar, "w") as t:
            t.add(rootfs, arcname=".")
        for dirpath, dirs, files in os.walk(d):
            for n in dirs + files + ["."]:
                os.lchown(os.path.join(dirpath, n), user.uid, user.gid)

    def argv(self, *args):
        env = [f"CONTAINERS_CONF={self.dir}/containers.conf",
               f"CONTAINERS_STORAGE_CONF={self.dir}/storage.conf",
               f"TMPDIR={self.dir}/tmp"]
        argv = as_user_argv([PODMAN, "--runtime", "ward"] + [str(a) for a in args], self.user)
        i = argv.index(PODMAN)
        argv[i:i] = env
        return argv

    def __call__(self, *args, timeout=120, check=False):
        p = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, cwd=self.user.home)
        if check:
            assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p

    def processes(self):
        """The user's podman processes (the pause process, conmon)."""
        out = []
        for pid in self.user.processes():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")[0]
            except OSError:
                continue
            if os.path.basename(cmd) in (b"podman", b"conmon", b"catatonit"):
                out.append(pid)
        return out

    def end(self):
        self("rm", "--all", "--force", "--time", "0", timeout=120)
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        deadline = time.monotonic() + 10
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.1)
        # The storage holds files of the user's subordinate ids: podman
        # removes it from inside its namespace.
        self("system", "reset", "--force", timeout=120)
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        subprocess.run(["rm", "-rf", self.dir], capture_output=True)


@pytest.fixture(scope="module")
def podman(rootless_user):
    if not busybox_static():
        pytest.skip(f"{BUSYBOX} is not a static busybox (apt-get install busybox-static)")
    pm = UserPodman(rootless_user)
    try:
        r = pm("import", pm.tar, IMAGE)
        if r.returncode != 0:
            pytest.skip(f"rootless podman import failed: {r.stderr.strip()}")
        yield pm
    finally:
        pm.end()


def oci_cgroups(user):
    """The containers' cgroups ward made in the user's delegated subtree."""
    out = set()
    for ctrl in ("pids", "memory", "cpu"):
        d = f"/sys/fs/cgroup/{ctrl}/ward-users/user-{user.uid}"
        try:
            out |= {os.path.join(d, n) for n in os.listdir(d) if n.startswith("oci-")}
        except OSError:
            pass
    return out


def ward_oci_states(pm):
    """ward's OCI state directories (podman's runtime directory is under
    TMPDIR, and ward keeps its state in the user's runtime directory)."""
    base = os.path.join(pm.dir, "tmp", f"podman-run-{pm.user.uid}", "ward", "oci")
    try:
        return os.listdir(base)
    except OSError:
        return []


def pids_cgroup(text):
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3 and "pids" in parts[1].split(","):
            return parts[2]
    return None


def test_run_in_the_delegated_cgroup(podman, rootless_user):
    user = rootless_user
    r = podman("run", "--rm", IMAGE, "sh", "-c", "id -u; cat /proc/self/cgroup")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "0", r.stdout
    # ward's own naming: the container's cgroup in the user's subtree.
    cg = pids_cgroup(r.stdout)
    assert cg is not None and cg.startswith(f"/ward-users/user-{user.uid}/oci-"), r.stdout
    assert not oci_cgroups(user)
    assert ward_oci_states(podman) == []


def test_detached_exec_stop_rm(podman, rootless_user):
    user = rootless_user
    podman("run", "-d", "--name", "rl-svc", IMAGE, "sh", "-c",
           "trap 'exit 0' TERM; echo up > /tmp/up; while :; do sleep 0.2; done", check=True)
    try:
        r = podman("exec", "rl-svc", "sh", "-c", "cat /tmp/up; id -u", check=True)
        assert r.stdout.split() == ["up", "0"], r
        r = podman("inspect", "--format", "{{.State.Pid}}", "rl-svc", check=True)
        pid = int(r.stdout.strip())
        # The container's root is the user on the host, nobody else.
        with open(f"/proc/{pid}/status") as f:
            uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
        assert set(uids) == {str(user.uid)}, uids
        assert len(oci_cgroups(user)) == 3, oci_cgroups(user)
        assert len(ward_oci_states(podman)) == 1
        podman("stop", "-t", "10", "rl-svc", check=True)
        r = podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "rl-svc",
                   check=True)
        assert r.stdout.split() == ["exited", "0"], r
    finally:
        podman("rm", "--force", "--time", "0", "rl-svc")
    assert not oci_cgroups(user)
    assert ward_oci_states(podman) == []


def test_runs_without_delegation_in_the_engines_cgroup(podman, rootless_user):
    # As podman does itself for rootless containers on cgroup v1: no cgroup
    # of the container's own, and ward says why.
    user = rootless_user
    subprocess.run([WARD, "delegate", "--undo", user.name], check=True, capture_output=True)
    try:
        r = podman("run", "--rm", IMAGE, "cat", "/proc/self/cgroup")
        assert r.returncode == 0, r
        assert "ward-users" not in r.stdout, r.stdout
    finally:
        user.delegate()


def unshare_bundle(podman, tmp_name, pids_limit):
    """A bundle for ward run --bundle inside `podman unshare` (podman's
    rootless namespace, no namespace of the config's own user)."""
    user = podman.user
    b = os.path.join(podman.dir, tmp_name)
    os.makedirs(b)
    shutil.copytree(os.path.join(podman.dir, "rootfs"), os.path.join(b, "rootfs"),
                    symlinks=True)
    cfg = {
        "ociVersion": "1.0.2",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "cwd": "/",
                    "args": ["sh", "-c", "cat /sys/fs/cgroup/pids/pids.max"],
                    "env": ["PATH=/bin"]},
        "root": {"path": "rootfs", "readonly": True},
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {"namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts",
                                                       "mount")],
                  "resources": {"pids": {"limit": pids_limit}}},
    }
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    for dirpath, dirs, files in os.walk(b):
        for n in dirs + files + ["."]:
            os.lchown(os.path.join(dirpath, n), user.uid, user.gid)
    return b


def test_limits_in_the_delegated_cgroup_or_refused(podman, rootless_user):
    # podman drops limits for rootless containers on cgroup v1; the OCI
    # runtime itself, in podman's namespace, writes them where delegated
    # and refuses them, with the fix, where not.
    user = rootless_user
    b = unshare_bundle(podman, "bundle-limits", 13)
    run = ["unshare", WARD, "run", "--bundle", b, "rl-limits"]
    r = podman(*run)
    assert r.returncode == 0, r
    assert r.stdout.split()[-1:] == ["13"], r
    subprocess.run([WARD, "delegate", "--undo", user.name], check=True, capture_output=True)
    try:
        r = podman(*run)
        assert r.returncode != 0, r
        assert "no cgroup is delegated to you" in r.stderr, r
        assert f"sudo ward delegate {user.uid}" in r.stderr, r
    finally:
        user.delegate()
    assert not oci_cgroups(user)


def test_hostile_ward_cgroup_gets_no_other_users_cgroup(podman, rootless_user):
    # WARD_CGROUP naming root's ward/ or another user's subtree: the kernel
    # refuses the user there, and ward makes no cgroup rather than one the
    # user may not have; the limits are then refused, not dropped.
    user = rootless_user
    b = unshare_bundle(podman, "bundle-hostile", 9)
    for target in ("/ward", "/ward-users", "/ward-users/user-0", "/..", "/x/../.."):
        argv = podman.argv("unshare", WARD, "run", "--bundle", b, "rl-hostile")
        i = argv.index(PODMAN)
        argv[i:i] = [f"WARD_CGROUP={target}"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL, cwd=user.home)
        assert r.returncode != 0, (target, r)
        if ".." in target:
            assert 'WARD_CGROUP names no usable cgroup: it must name a cgroup below the root, ' \
                'without ".."' in r.stderr, (target, r.stderr)
        else:
            assert f'WARD_CGROUP="{target}" names no cgroup where you' in r.stderr, \
                (target, r.stderr)
        for ctrl in ("pids", "memory", "cpu"):
            assert not os.path.exists(f"/sys/fs/cgroup/{ctrl}{target}/oci-rl-hostile"), target

# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 13: `ward export --format docker-seccomp` run by podman with runc
(not ward): the same program gets the same refusals and successes from the
exported profile as from `ward run`.

podman gets its own containers.conf and storage.conf in a temporary
directory (as tests/oci/test_podman.py does) and the image is imported
locally from the busybox rootfs plus the static probe: no registry.  The
capabilities are dropped (--cap-drop ALL) and no_new_privs set, as under
ward's default, so that every answer compared is the syscall filter's.
"""

import json
import os
import shutil
import subprocess
import tarfile
import tempfile

import pytest

from ocienv import HELPERS, WARD

PODMAN = shutil.which("podman")
RUNC = shutil.which("runc")
IMAGE = "localhost/ward-export-probe:latest"
PROBE = os.path.join(HELPERS, "probe")

pytestmark = pytest.mark.skipif(
    PODMAN is None or RUNC is None,
    reason="podman and runc are not installed (run tests/oci/setup-podman.sh)")


class Podman:
    def __init__(self, tmp):
        self.tmp = tmp
        conf = os.path.join(tmp, "containers.conf")
        with open(conf, "w") as f:
            f.write(f"""[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{tmp}/events.log"
tmp_dir = "{tmp}/libpod-tmp"
""")
        storage = os.path.join(tmp, "storage.conf")
        with open(storage, "w") as f:
            f.write(f"""[storage]
driver = "overlay"
runroot = "{tmp}/runroot"
graphroot = "{tmp}/graph"
""")
        self.env = dict(os.environ, CONTAINERS_CONF=conf, CONTAINERS_STORAGE_CONF=storage)

    def __call__(self, *args, timeout=90):
        argv = [PODMAN, "--runtime", RUNC] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              env=self.env, stdin=subprocess.DEVNULL)


def libpod_cgroups():
    out = set()
    for name in os.listdir("/sys/fs/cgroup"):
        d = os.path.join("/sys/fs/cgroup", name, "libpod_parent")
        if os.path.isdir(d):
            out.add(d)
            if os.path.isdir(os.path.join(d, "conmon")):
                out.add(os.path.join(d, "conmon"))
    return out


@pytest.fixture(scope="module")
def podman(rootfs):
    if not os.access(PROBE, os.X_OK):
        pytest.skip(f"{PROBE} is not built")
    before = libpod_cgroups()
    tmp = tempfile.mkdtemp(prefix="ward-export-podman-")
    os.chmod(tmp, 0o755)
    pm = Podman(tmp)
    tar = os.path.join(tmp, "rootfs.tar")
    with tarfile.open(tar, "w") as t:
        t.add(rootfs, arcname=".")
        t.add(PROBE, arcname="./bin/probe")
    r = pm("import", tar, IMAGE)
    if r.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.skip(f"podman import failed: {r.stderr.strip()}")
    pm("run", "--rm", IMAGE, "true")  # warm up the storage driver's mounts
    yield pm
    pm("rm", "--all", "--force", "--time", "0")
    pm("rmi", "--all", "--force")
    pm("system", "reset", "--force")
    subprocess.run(["umount", "-R", os.path.join(tmp, "graph")], capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)
    for d in sorted(libpod_cgroups() - before, key=len, reverse=True):
        try:
            os.rmdir(d)
        except OSError:
            pass


@pytest.fixture(autouse=True)
def storage_mount_settled(podman):
    yield
    home = os.path.join(podman.tmp, "graph", "overlay")
    with open("/proc/self/mountinfo") as f:
        mounted = any(line.split()[4] == home for line in f)
    if mounted:
        subprocess.run(["umount", "-l", home], capture_output=True)


def answer(returncode, stdout):
    """What the probe saw: "ok", "errno=E", or "killed by signal N"."""
    if returncode > 128:
        return f"killed by signal {returncode - 128}"
    line = (stdout.strip().splitlines() or ["?"])[0]
    return line.split()[0]


# (probe arguments, what the syscall layer answers under the default entitlements)
CASES = [
    (["uname"], "ok"),
    (["socket", "unix"], "ok"),
    (["socket", "inet"], "errno=EPERM"),
    (["socket", "netlink"], "errno=EPERM"),
    (["unshare", "user"], "errno=EPERM"),
    (["unshare", "net"], "errno=EPERM"),
    (["mount-tmpfs", "/tmp"], "errno=EPERM"),
    (["keyctl"], "errno=EPERM"),
    (["bpf"], "errno=EPERM"),
    (["io-uring"], "errno=EPERM"),
    (["userfaultfd"], "errno=EPERM"),
    (["kexec"], "errno=EPERM"),
    (["personality", "0x0040000"], "errno=EPERM"),   # READ_IMPLIES_EXEC
    (["personality", "0"], "ok"),
    (["clock-invalid"], "errno=EPERM"),
    (["syscall", "463"], "errno=ENOSYS"),             # newer than the profile (setxattrat)
    (["syscall", "435", "0", "0"], "errno=ENOSYS"),   # clone3: libc falls back
    (["syscall", "1073741863"], "killed by signal 31"),  # x32 getpid: not the native ABI
]


def ward_answers(args, allow=()):
    argv = [WARD, "run", "-q", "--quiet-denials", "-a", f"fs.exec={HELPERS}"]
    for a in allow:
        argv += ["-a", a]
    p = subprocess.run(argv + ["--", PROBE] + args, capture_output=True, text=True, timeout=60)
    return answer(p.returncode, p.stdout)


def podman_answers(podman, profile, args):
    p = podman("run", "--rm", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
               "--security-opt", f"seccomp={profile}", "--network", "none", IMAGE,
               "/bin/probe", *args)
    assert "Error" not in p.stderr or p.returncode != 125, p
    return answer(p.returncode, p.stdout)


def export(tmp, allow=()):
    argv = [WARD, "export", "--format", "docker-seccomp"]
    for a in allow:
        argv += ["--allow", a]
    path = os.path.join(tmp, "profile.json")
    with open(path, "w") as f:
        r = subprocess.run(argv, stdout=f, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stderr
    assert "weaker than under ward" in r.stderr and "no Landlock" in r.stderr, r.stderr
    return path


def test_exported_profile_gives_podman_the_same_answers(podman, tmp_path):
    profile = export(str(tmp_path))
    diff = []
    for args, want in CASES:
        w = ward_answers(args)
        p = podman_answers(podman, profile, args)
        if w != want or p != want:
            diff.append(f"{' '.join(args)}: ward {w}, podman+runc {p}, expected {want}")
    assert not diff, "\n".join(diff)


def test_exported_profile_follows_the_entitlements(podman, tmp_path):
    # network.loopback allows IP sockets; security.user Docker's set (keyctl,
    # unshare without namespaces stays refused by the flag rules).
    allow = ["network.loopback", "security.user"]
    profile = export(str(tmp_path), allow)
    diff = []
    for args, want in [(["socket", "inet"], "ok"), (["socket", "netlink"], "ok"),
                       (["keyctl"], "errno=EPERM"), (["unshare", "user"], "errno=EPERM"),
                       (["mount-tmpfs", "/tmp"], "errno=EPERM"), (["bpf"], "errno=EPERM")]:
        w = ward_answers(args, allow)
        p = podman_answers(podman, profile, args)
        if w != want or p != want:
            diff.append(f"{' '.join(args)}: ward {w}, podman+runc {p}, expected {want}")
    assert not diff, "\n".join(diff)


def test_without_the_profile_podman_answers_differently(podman, tmp_path):
    # Control: podman's own default profile allows some of what ward's
    # refuses, so the test above shows the exported profile at work.
    p = podman("run", "--rm", "--cap-drop", "ALL", "--network", "none", IMAGE,
               "/bin/probe", "socket", "inet")
    assert answer(p.returncode, p.stdout) == "ok", p

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

import os
import shutil
import subprocess

import pytest

from ocienv import HELPERS, WARD
from podmanenv import PODMAN, podman_session, settle_storage_mount

RUNC = shutil.which("runc")
IMAGE = "localhost/ward-export-probe:latest"
PROBE = os.path.join(HELPERS, "probe")

pytestmark = pytest.mark.skipif(
    PODMAN is None or RUNC is None,
    reason="podman and runc are not installed (run tests/oci/setup-podman.sh)")


@pytest.fixture(scope="module")
def podman(rootfs):
    if not os.access(PROBE, os.X_OK):
        pytest.skip(f"{PROBE} is not built")
    with podman_session(RUNC, "ward-export-podman-", IMAGE,
                        [(rootfs, "."), (PROBE, "./bin/probe")], [["true"]]) as pm:
        yield pm


@pytest.fixture(autouse=True)
def storage_mount_settled(podman):
    yield
    settle_storage_mount(podman)


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

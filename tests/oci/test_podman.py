# SPDX-License-Identifier: GPL-2.0-or-later
"""ward as podman's runtime (podman --runtime PATH), end to end.

podman gets its own containers.conf and storage.conf in a temporary
directory (cgroupfs manager and the file events logger: this host has no
systemd; pinned ulimits: root lacks CAP_SYS_RESOURCE here), so nothing in
/etc changes.  The image is made locally with `podman import` of the busybox
rootfs: no registry.  tests/oci/setup-podman.sh installs podman.
"""

import json

import pytest

from ocienv import WARD
from podmanenv import PODMAN, podman_session, settle_storage_mount

IMAGE = "localhost/ward-busybox:latest"
ANN = "org.ward.entitlements"

pytestmark = pytest.mark.skipif(
    PODMAN is None, reason="podman is not installed (run tests/oci/setup-podman.sh)")


@pytest.fixture(scope="module")
def podman(rootfs):
    with podman_session(WARD, "ward-podman-", IMAGE, [(rootfs, ".")],
                        [["true"], ["no-such-command"]]) as pm:
        yield pm


@pytest.fixture(autouse=True)
def storage_mount_settled(podman):
    yield
    settle_storage_mount(podman)


def status(text, name):
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


def test_run(podman):
    r = podman.run(IMAGE, "sh", "-c", "echo hello; hostname; exit 3")
    assert r.returncode == 3, r.stderr
    assert r.stdout.splitlines()[0] == "hello"


def test_run_missing_command_is_127(podman):
    r = podman.run(IMAGE, "no-such-command")
    assert r.returncode == 127, r.stderr


def test_exec_stop_pause_unpause(podman):
    podman("run", "-d", "--name", "svc", IMAGE, "sh", "-c",
           "trap 'exit 0' TERM; while :; do sleep 0.1; done", check=True)
    try:
        r = podman("exec", "svc", "sh", "-c", "echo in-exec; cat /proc/1/cmdline", check=True)
        assert r.stdout.startswith("in-exec")
        r = podman("exec", "--user", "1000", "svc", "id", "-u", check=True)
        assert r.stdout.strip() == "1000"
        podman("pause", "svc", check=True)
        r = podman("inspect", "--format", "{{.State.Status}}", "svc", check=True)
        assert r.stdout.strip() == "paused"
        podman("unpause", "svc", check=True)
        r = podman("inspect", "--format", "{{.State.Status}}", "svc", check=True)
        assert r.stdout.strip() == "running"
        podman("stop", "-t", "10", "svc", check=True)
        r = podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "svc",
                   check=True)
        assert r.stdout.split() == ["exited", "0"]
    finally:
        podman("rm", "-f", "svc")


def test_cap_drop(podman):
    r = podman.run("--cap-drop", "ALL", IMAGE, "cat", "/proc/self/status", check=True)
    assert int(status(r.stdout, "CapEff"), 16) == 0
    r = podman.run("--cap-drop", "CHOWN", IMAGE, "cat", "/proc/self/status", check=True)
    eff = int(status(r.stdout, "CapEff"), 16)
    assert eff != 0 and not eff & 1


def test_read_only(podman):
    r = podman.run("--read-only", IMAGE, "sh", "-c",
                   "touch /x 2>/dev/null && echo wrote || echo ro; touch /tmp/y && echo tmp-ok",
                   check=True)
    assert r.stdout.split() == ["ro", "tmp-ok"]


def test_pids_limit_and_memory(podman):
    r = podman.run("--pids-limit", "42", "--memory", "64m", IMAGE, "sh", "-c",
                   "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes",
                   check=True)
    assert r.stdout.split() == ["42", str(64 << 20)]


def test_seccomp_profile_file(podman, tmp_path):
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 13}],
    }
    path = tmp_path / "seccomp.json"
    path.write_text(json.dumps(profile))
    r = podman.run("--security-opt", f"seccomp={path}", IMAGE, "mkdir", "/tmp/x")
    assert r.returncode != 0 and "Permission denied" in r.stderr, r.stderr
    # podman's default profile (Docker's) is compiled and enforced too.
    r = podman.run(IMAGE, "sh", "-c", "grep Seccomp: /proc/self/status", check=True)
    assert r.stdout.split()[1] == "2"


def test_user_and_no_new_privileges(podman):
    r = podman.run("--user", "1000:1000", "--security-opt", "no-new-privileges", IMAGE,
                   "sh", "-c", "id; grep NoNewPrivs /proc/self/status", check=True)
    assert r.stdout.startswith("uid=1000(user) gid=1000(user)")
    assert r.stdout.split()[-1] == "1"


def test_volumes(podman, tmp_path):
    d = tmp_path / "vol"
    d.mkdir()
    (d / "in").write_text("host file\n")
    r = podman.run("-v", f"{d}:/data", IMAGE, "sh", "-c", "cat /data/in; echo out > /data/out",
                   check=True)
    assert r.stdout == "host file\n"
    assert (d / "out").read_text() == "out\n"
    r = podman.run("-v", f"{d}:/data:ro", IMAGE, "sh", "-c",
                   "echo x > /data/x 2>/dev/null && echo wrote || echo ro", check=True)
    assert r.stdout.strip() == "ro"


def test_tty(podman):
    r = podman.run("-t", IMAGE, "tty", check=True)
    assert r.stdout.strip().startswith("/dev/pts/")


def test_entitlements_annotation(podman):
    r = podman.run("--annotation", f"{ANN}=security.confined process.limit=20", IMAGE, "sh",
                   "-c", "grep -E 'CapEff|NoNewPrivs' /proc/self/status; "
                   "cat /sys/fs/cgroup/pids/pids.max", check=True)
    lines = r.stdout.split()
    assert lines[1] == "0000000000000000" and lines[3] == "1" and lines[4] == "20", r.stdout

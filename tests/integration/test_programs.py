# SPDX-License-Identifier: GPL-2.0-or-later
"""Real programs from Debian, and a busybox root filesystem."""

import os
import shutil
import subprocess
import tarfile

import pytest

from conftest import PROBE, rootless_uid, run_ward


def test_shell_id_hostname_ls():
    r = run_ward("run", "--", "/bin/sh", "-c", "id; hostname; ls /")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0].startswith("uid=0(root) gid=0(root)"), r
    assert lines[1] == "ward", r
    assert "usr" in lines[2:] and "root" not in lines[2:] and "home" not in lines[2:], r


def test_shell_pipeline_and_tmp():
    r = run_ward("run", "--", "/bin/sh", "-c",
                 "echo hello > /tmp/f && tr a-z A-Z < /tmp/f | wc -c")
    assert r.returncode == 0 and r.stdout.strip() == "6", r


@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="no /usr/bin/python3")
def test_python3():
    r = run_ward("run", "--", "/usr/bin/python3", "-c",
                 "import os, socket, json; print(json.dumps([os.getuid(), socket.gethostname(),"
                 " sorted(os.listdir('/dev'))[:3]]))")
    assert r.returncode == 0, r
    assert r.stdout.strip().startswith('[0, "ward"'), r
    # No network: Python sees the refusal as an exception, not a crash.
    r = run_ward("run", "--", "/usr/bin/python3", "-c",
                 "import socket\n"
                 "try:\n socket.socket(socket.AF_INET)\nexcept PermissionError as e:\n"
                 " print('refused', e.errno)\n")
    assert r.returncode == 0 and r.stdout.strip() == "refused 1", r


def test_tar_of_a_granted_directory(make_tmpdir):
    # Rootless, the user's own directory (nobody else's can be written).
    owner = rootless_uid() or 1000
    d = make_tmpdir(uid=owner, gid=owner)
    os.makedirs(os.path.join(d, "data", "sub"))
    for i in range(5):
        with open(os.path.join(d, "data", "sub", f"f{i}.txt"), "w") as f:
            f.write("x" * (i * 100))
    # The files belong to the directory's owner, as a user's files would.
    for top, dirs, files in os.walk(d):
        for n in dirs + files:
            os.chown(os.path.join(top, n), owner, owner)
    r = run_ward("run", "-a", f"fs.write={d}", "-C", d, "--", "/bin/tar", "-cf", "out.tar",
                 "data")
    assert r.returncode == 0, r
    out = os.path.join(d, "out.tar")
    assert os.stat(out).st_uid == owner
    with tarfile.open(out) as t:
        names = sorted(t.getnames())
    assert names == ["data", "data/sub"] + [f"data/sub/f{i}.txt" for i in range(5)], names
    # And back: extract inside, compare on the host.
    r = run_ward("run", "-a", f"fs.write={d}", "-C", d, "--", "/bin/sh", "-c",
                 "mkdir back && tar -xf out.tar -C back")
    assert r.returncode == 0, r
    assert open(os.path.join(d, "back", "data", "sub", "f3.txt")).read() == "x" * 300


BUSYBOX = shutil.which("busybox") or "/bin/busybox"


@pytest.fixture
def busybox_rootfs(make_tmpdir):
    if not os.path.exists(BUSYBOX):
        pytest.skip("busybox-static is not installed")
    out = subprocess.run(["file", "-L", BUSYBOX], capture_output=True, text=True).stdout
    if "statically linked" not in out and "static-pie" not in out:
        pytest.skip(f"{BUSYBOX} is not statically linked")
    root = make_tmpdir()
    for d in ("bin", "etc", "tmp", "proc", "dev", "sys"):
        os.mkdir(os.path.join(root, d))
    shutil.copy2(BUSYBOX, os.path.join(root, "bin", "busybox"))
    for applet in ("sh", "ls", "cat", "id", "hostname", "echo", "env"):
        os.symlink("busybox", os.path.join(root, "bin", applet))
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/:/bin/sh\n")
    with open(os.path.join(root, "etc", "release"), "w") as f:
        f.write("busybox rootfs\n")
    return root


def test_rootfs_busybox(busybox_rootfs):
    r = run_ward("run", "--rootfs", busybox_rootfs, "--", "/bin/sh", "-c",
                 "cat /etc/release; hostname; id -u; ls /")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[:3] == ["busybox rootfs", "ward", "0"], r
    listing = " ".join(lines[3:]).split()
    # The rootfs's directories, not the host's /usr.
    assert "bin" in listing and "etc" in listing and "usr" not in listing, r


def test_rootfs_read_only(busybox_rootfs):
    r = run_ward("run", "--rootfs", busybox_rootfs, "--", "/bin/sh", "-c",
                 "echo x > /etc/new 2>/dev/null && echo WROTE || echo refused")
    assert r.returncode == 0 and r.stdout.strip() == "refused", r
    assert not os.path.exists(os.path.join(busybox_rootfs, "etc", "new"))


def test_rootfs_with_probe(busybox_rootfs):
    shutil.copy2(PROBE, os.path.join(busybox_rootfs, "bin", "probe"))
    r = run_ward("run", "-q", "--rootfs", busybox_rootfs, "--", "/bin/probe", "status",
                 "Seccomp", "NoNewPrivs")
    assert r.returncode == 0 and r.stdout.strip() == "ok NoNewPrivs=1 Seccomp=2", r


def test_rootfs_missing(tmpdir_real):
    r = run_ward("run", "--rootfs", os.path.join(tmpdir_real, "nope"), "--", "/bin/sh")
    assert r.returncode == 125 and "--rootfs" in r.stderr, r

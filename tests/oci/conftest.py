# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures for the OCI runtime tests (tests/oci).

Environment:
  WARD   the ward binary (default <repo>/build/src/ward)

Every test gets a private state root (--root) and a bundle whose rootfs is
a busybox tree made from Debian's busybox-static.  Whatever a test leaves
(containers in any state, their cgroups, the state root) is killed and
removed at teardown, also when the test fails.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from ocienv import WARD, cgroup_dirs  # noqa: F401
BUSYBOX = "/bin/busybox"
TIMEOUT = 30


def _busybox_static():
    try:
        out = subprocess.run(["file", "-L", BUSYBOX], capture_output=True, text=True).stdout
    except FileNotFoundError:
        out = ""
    if "statically linked" in out or "static-pie" in out:
        return True
    # Without file(1): Debian's busybox-static is the only busybox with no interpreter.
    with open(BUSYBOX, "rb") as f:
        return b"/lib64/ld-linux" not in f.read()


def _skip_reason():
    if os.geteuid() != 0:
        return "the OCI runtime tests need root"
    if not os.access(WARD, os.X_OK):
        return f"ward binary not found at {WARD} (build it, or set WARD=)"
    if not os.path.exists(BUSYBOX) or not _busybox_static():
        return "needs Debian's busybox-static for the test rootfs (apt-get install busybox-static)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    if reason:
        for item in items:
            if "tests/oci" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def rootfs():
    """A busybox root filesystem, shared read-only by every test."""
    d = tempfile.mkdtemp(prefix="ward-oci-rootfs-")
    # Reachable by the host ids of a user namespace's root.
    os.chmod(d, 0o755)
    r = os.path.join(d, "rootfs")
    for sub in ("bin", "proc", "sys", "dev", "etc", "tmp", "root", "home/user", "data"):
        os.makedirs(os.path.join(r, sub), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(r, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True).stdout.split()
    for a in applets:
        if a != "busybox":
            os.symlink("busybox", os.path.join(r, "bin", a))
    with open(os.path.join(r, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n")
    with open(os.path.join(r, "etc", "group"), "w") as f:
        f.write("root:x:0:\nuser:x:1000:\n")
    os.chmod(os.path.join(r, "tmp"), 0o1777)
    yield r
    shutil.rmtree(d, ignore_errors=True)


class Result:
    def __init__(self, args, returncode, stdout, stderr):
        self.args, self.returncode, self.stdout, self.stderr = args, returncode, stdout, stderr

    def __repr__(self):
        return (f"<{' '.join(self.args)!r} -> {self.returncode}\n"
                f"stdout: {self.stdout!r}\nstderr: {self.stderr!r}>")


class Oci:
    """ward as an OCI runtime with a private --root, and a bundle to edit."""

    def __init__(self, rootfs, tmp):
        self.tmp = tmp
        self.root = os.path.join(tmp, "state")
        self.bundle = os.path.join(tmp, "bundle")
        os.makedirs(self.bundle)
        r = self.ward("spec", "--bundle", self.bundle)
        assert r.returncode == 0, r
        with open(os.path.join(self.bundle, "config.json")) as f:
            self.config = json.load(f)
        self.config["root"]["path"] = rootfs
        self.config["process"]["terminal"] = False
        self.config["process"]["args"] = ["true"]
        self.ids = []

    def rootfs_in_bundle(self):
        """Copy the rootfs into the bundle (root.path "rootfs"), as a bundle
        handed over is laid out: under org.ward.entitlements the root must be
        in the bundle (or an engine's overlay mount, or granted)."""
        dst = os.path.join(self.bundle, "rootfs")
        if not os.path.isdir(dst):
            shutil.copytree(self.config["root"]["path"], dst, symlinks=True)
        self.config["root"]["path"] = "rootfs"
        return dst

    def write_config(self, config=None):
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(config if config is not None else self.config, f, indent=1)

    def ward(self, *args, timeout=TIMEOUT, env=None, stdin=subprocess.DEVNULL, root=True,
             check=False, **kw):
        argv = [WARD] + (["--root", self.root] if root else []) + list(args)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                           stdin=stdin, **kw)
        r = Result(argv, p.returncode, p.stdout, p.stderr)
        if check:
            assert r.returncode == 0, r
        return r

    def run(self, *args, cid=None, timeout=TIMEOUT, env=None):
        """`ward run` of process.args = args; returns the Result."""
        if args:
            self.config["process"]["args"] = list(args)
        self.write_config()
        cid = cid or f"run-{len(self.ids)}-{os.getpid()}"
        self.ids.append(cid)
        return self.ward("run", "--bundle", self.bundle, cid, timeout=timeout, env=env)

    def sh(self, script, **kw):
        return self.run("sh", "-c", script, **kw)

    def create(self, cid, *args, extra=(), check=True, env=None):
        """`ward create`; the container's stdio goes to files in tmp."""
        if args:
            self.config["process"]["args"] = list(args)
        self.write_config()
        self.ids.append(cid)
        pidfile = os.path.join(self.tmp, f"{cid}.pid")
        # The container keeps create's stdio: files, not pipes, or reading
        # them would wait for the container to end.
        out = open(os.path.join(self.tmp, f"{cid}.out"), "w")
        errpath = os.path.join(self.tmp, f"{cid}.err")
        err = open(errpath, "w")
        try:
            argv = [WARD, "--root", self.root, "create", "--bundle", self.bundle,
                    "--pid-file", pidfile] + list(extra) + [cid]
            p = subprocess.run(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                               timeout=TIMEOUT, env=env)
        finally:
            out.close()
            err.close()
        with open(errpath) as f:
            r = Result(argv, p.returncode, "", f.read())
        if check:
            assert r.returncode == 0, r
        return r

    def output(self, cid):
        with open(os.path.join(self.tmp, f"{cid}.out")) as f:
            return f.read()

    def state(self, cid):
        r = self.ward("state", cid)
        assert r.returncode == 0, r
        return json.loads(r.stdout)

    def wait_status(self, cid, status, timeout=10):
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            st = self.state(cid)["status"]
            if st == status:
                return
            time.sleep(0.02)
        raise AssertionError(f"{cid} stayed {st}, expected {status}")

    def cleanup(self):
        if os.path.isdir(self.root):
            for cid in os.listdir(self.root):
                self.ward("kill", "--all", cid, "KILL")
                self.ward("delete", "--force", cid)
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture
def oci(rootfs):
    tmp = tempfile.mkdtemp(prefix="ward-oci-")
    os.chmod(tmp, 0o755)
    o = Oci(rootfs, tmp)
    yield o
    o.cleanup()


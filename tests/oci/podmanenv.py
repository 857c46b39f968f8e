# SPDX-License-Identifier: GPL-2.0-or-later
"""podman for the tests, with nothing of /etc: its own containers.conf and
storage.conf in a temporary directory (the cgroupfs manager and the file
events logger: this host has no systemd; pinned ulimits: root lacks
CAP_SYS_RESOURCE here), and an image imported from a local tree (no
registry).  Used by test_podman.py (ward as the runtime) and
test_export_podman.py (runc running ward's exported profile).
tests/oci/setup-podman.sh installs podman."""

import contextlib
import os
import shutil
import subprocess
import tarfile
import tempfile

import pytest

from ocienv import WARD

PODMAN = shutil.which("podman")


class Podman:
    def __init__(self, tmp, runtime):
        self.tmp = tmp
        self.runtime = runtime
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
[engine.runtimes]
ward = ["{WARD}"]
""")
        storage = os.path.join(tmp, "storage.conf")
        with open(storage, "w") as f:
            f.write(f"""[storage]
driver = "overlay"
runroot = "{tmp}/runroot"
graphroot = "{tmp}/graph"
""")
        self.env = dict(os.environ, CONTAINERS_CONF=conf, CONTAINERS_STORAGE_CONF=storage)

    def __call__(self, *args, timeout=90, check=False):
        argv = [PODMAN, "--runtime", self.runtime] + list(args)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=self.env,
                           stdin=subprocess.DEVNULL)
        if check:
            assert p.returncode == 0, (argv, p.stdout, p.stderr)
        return p

    def run(self, *args, **kw):
        return self("run", "--rm", *args, **kw)


def libpod_cgroups():
    """podman's own cgroups (cgroupfs manager): libpod_parent and its conmon child."""
    out = set()
    for name in os.listdir("/sys/fs/cgroup"):
        d = os.path.join("/sys/fs/cgroup", name, "libpod_parent")
        if os.path.isdir(d):
            out.add(d)
            if os.path.isdir(os.path.join(d, "conmon")):
                out.add(os.path.join(d, "conmon"))
    return out


@contextlib.contextmanager
def podman_session(runtime, prefix, image, members, warm_up):
    """A Podman whose one image IMAGE holds MEMBERS ((host path, name in the
    image) pairs, added in order).  WARM_UP: argument lists run once first
    (the storage driver's own mounts appear at the first run; the per-test
    leak check must see them as already there).  Skips the test when the
    import fails.  Afterwards removes every container, image, mount and
    directory, and the cgroups podman made for conmon meanwhile."""
    before = libpod_cgroups()
    tmp = tempfile.mkdtemp(prefix=prefix)
    os.chmod(tmp, 0o755)
    pm = Podman(tmp, runtime)
    tar = os.path.join(tmp, "rootfs.tar")
    with tarfile.open(tar, "w") as t:
        for path, name in members:
            t.add(path, arcname=name)
    r = pm("import", tar, image)
    if r.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.skip(f"podman import failed: {r.stderr.strip()}")
    try:
        for args in warm_up:
            pm.run(image, *args)
        yield pm
    finally:
        pm("rm", "--all", "--force", "--time", "0")
        pm("rmi", "--all", "--force")
        # Container layers are overlay mounts under graphroot: unmount first.
        pm("system", "reset", "--force")
        subprocess.run(["umount", "-R", os.path.join(tmp, "graph")], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
        for d in sorted(libpod_cgroups() - before, key=len, reverse=True):
            try:
                os.rmdir(d)
            except OSError:
                pass


def settle_storage_mount(pm):
    """podman's overlay driver mounts graphroot/overlay onto itself and
    leaves it mounted or not depending on how the last podman process
    ended; end every test without it, so the per-test leak check compares
    like with like (the next podman command mounts it again)."""
    home = os.path.join(pm.tmp, "graph", "overlay")
    with open("/proc/self/mountinfo") as f:
        mounted = any(line.split()[4] == home for line in f)
    if mounted:
        subprocess.run(["umount", "-l", home], capture_output=True)

# SPDX-License-Identifier: GPL-2.0-or-later
"""A private containerd for the tests (Debian's containerd 1.6): its own root,
state, sockets and config under a temporary directory, an image imported
from a busybox-static tarball built here (no network), stopped by pid with
nothing left behind.  Used by test_containerd.py and bench/oci.sh."""

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time

IMAGE = "ward.local/busybox:1"


def _add(tf, name, data=None, mode=0o644, kind=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.mode, ti.type, ti.linkname, ti.mtime = mode, kind, link, 0
    ti.size = len(data) if data else 0
    tf.addfile(ti, io.BytesIO(data) if data else None)


def image_tarball(path, ref=IMAGE, busybox="/bin/busybox"):
    """An OCI image layout archive (what `ctr image import` reads) of one
    uncompressed layer: busybox-static and its applets."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for d in ("bin", "proc", "sys", "dev", "etc", "tmp", "root", "run"):
            _add(tf, d, mode=0o1777 if d == "tmp" else 0o755, kind=tarfile.DIRTYPE)
        with open(busybox, "rb") as f:
            _add(tf, "bin/busybox", f.read(), 0o755)
        applets = subprocess.run([busybox, "--list"], capture_output=True,
                                 text=True).stdout.split()
        for a in applets:
            if a != "busybox":
                _add(tf, "bin/" + a, mode=0o777, kind=tarfile.SYMTYPE, link="busybox")
        _add(tf, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        _add(tf, "etc/group", b"root:x:0:\n")
    blobs = {}

    def blob(b):
        d = "sha256:" + hashlib.sha256(b).hexdigest()
        blobs[d] = b
        return d

    lb = layer.getvalue()
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
                      "rootfs": {"type": "layers", "diff_ids": [blob(lb)]}}).encode()
    man = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": blob(cfg), "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": blob(lb), "size": len(lb)}]}).encode()
    idx = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": blob(man),
        "size": len(man), "platform": {"architecture": "amd64", "os": "linux"},
        "annotations": {"org.opencontainers.image.ref.name": ref}}]}).encode()
    with tarfile.open(path, "w") as tf:
        _add(tf, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add(tf, "index.json", idx)
        _add(tf, "blobs", mode=0o755, kind=tarfile.DIRTYPE)
        _add(tf, "blobs/sha256", mode=0o755, kind=tarfile.DIRTYPE)
        for d, b in blobs.items():
            _add(tf, "blobs/sha256/" + d[7:], b)


CONFIG = """version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.opt",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[debug]
  address = "{d}/debug.sock"
[metrics]
  address = ""
"""


class Containerd:
    def __init__(self, prefix="ward-ctrd-"):
        # /var/tmp: the shim and containerd need a path short enough for
        # unix sockets, outside the tests' 0700 /tmp directories.
        # ctr's fifos and the shims' sockets go to /run/containerd whatever
        # the config says (containerd 1.6): what did not exist is removed.
        self.run_dirs = [d for d in ("/run/containerd", "/run/containerd/s",
                                     "/run/containerd/fifo") if not os.path.exists(d)]
        self.dir = tempfile.mkdtemp(prefix=prefix, dir="/var/tmp")
        os.chmod(self.dir, 0o711)
        self.sock = os.path.join(self.dir, "containerd.sock")
        self.config = os.path.join(self.dir, "config.toml")
        with open(self.config, "w") as f:
            f.write(CONFIG.format(d=self.dir))
        self.log = open(os.path.join(self.dir, "containerd.log"), "w")
        self.proc = subprocess.Popen(["containerd", "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, close_fds=True,
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.ctr("version").returncode == 0:
                break
            if self.proc.poll() is not None:
                raise RuntimeError("containerd exited: " + self.logtext())
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("containerd did not answer: " + self.logtext())
        tar = os.path.join(self.dir, "image.tar")
        image_tarball(tar)
        r = self.ctr("-n", "default", "image", "import", tar)
        if r.returncode != 0:
            self.stop()
            raise RuntimeError(f"ctr image import: {r.stderr}")
        self.namespaces = {"default"}

    def logtext(self):
        with open(os.path.join(self.dir, "containerd.log")) as f:
            return f.read()[-3000:]

    def ctr(self, *args, timeout=60, input=None):
        return subprocess.run(["ctr", "-a", self.sock] + list(args), capture_output=True,
                              text=True, timeout=timeout, input=input,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def import_into(self, ns):
        if ns not in self.namespaces:
            r = self.ctr("-n", ns, "image", "import", os.path.join(self.dir, "image.tar"))
            assert r.returncode == 0, r.stderr
            self.namespaces.add(ns)

    def clean_namespace(self, ns):
        """Kill and delete every task and container of ns."""
        r = self.ctr("-n", ns, "task", "ls", "-q")
        for t in r.stdout.split():
            self.ctr("-n", ns, "task", "kill", "-a", "-s", "KILL", t)
        for t in r.stdout.split():
            for _ in range(50):
                if self.ctr("-n", ns, "task", "delete", t).returncode == 0:
                    break
                time.sleep(0.1)
        for c in self.ctr("-n", ns, "container", "ls", "-q").stdout.split():
            self.ctr("-n", ns, "container", "delete", c)

    def stop(self):
        for ns in list(getattr(self, "namespaces", ())):
            self.clean_namespace(ns)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        # The snapshots are mounted only while a container exists; a
        # container a failed test left behind still holds its overlay.
        with open("/proc/self/mountinfo") as f:
            mine = [line.split()[4] for line in f if self.dir in line.split()[4]]
        for m in sorted(mine, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        for d in reversed(self.run_dirs):
            try:
                os.rmdir(d)
            except OSError:
                pass

    def shims(self):
        """Pids of shims of this containerd still running."""
        out = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    cmd = f.read().decode(errors="replace")
            except OSError:
                continue
            if "containerd-shim" in cmd and self.sock in cmd:
                out.append(int(p))
        return out

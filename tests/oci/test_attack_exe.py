# SPDX-License-Identifier: GPL-2.0-or-later
"""CVE-2019-5736 against `ward exec`: a container that reaches the runtime's
binary through /proc/PID/exe must not be able to overwrite it.

The runtime under attack is a copy of ward in the test's directory, so that
an attack that works on old code damages only the copy.  Inside, the probe
(`probe exe-hijack`) watches for new processes, opens their /proc/PID/exe,
waits until the file is no longer executed and writes to it.

On this kernel ward's Landlock scoping of every container (ABI 6) also
stops the attack: Landlock refuses ptrace-class access from a domain to a
process outside it.  A kernel without ABI 6 (Debian 12's 6.1) has no such
scoping, so the runtime runs under `probe no-landlock` here: the layers
under test (the sealed copy, the undumpable process) are then the only ones.
"""

import hashlib
import os
import shutil
import subprocess
import time

from ocienv import WARD, HELPERS

TIMEOUT = 30


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Runtime:
    """A private copy of ward driving one container whose program is the probe."""

    def __init__(self, oci, rootfs_copy):
        self.oci = oci
        self.bin = os.path.join(oci.tmp, "ward-copy")
        shutil.copy2(WARD, self.bin)
        os.chmod(self.bin, 0o755)
        self.before = digest(self.bin)
        oci.config["root"]["path"] = rootfs_copy
        self.out = os.path.join(oci.tmp, "c.out")

    def argv(self, *args):
        return [os.path.join(HELPERS, "probe"), "no-landlock", self.bin,
                "--root", self.oci.root] + list(args)

    def __call__(self, *args, **kw):
        return subprocess.run(self.argv(*args),
                              capture_output=True, text=True, timeout=TIMEOUT,
                              stdin=subprocess.DEVNULL, **kw)

    def start(self, cid, args):
        self.oci.config["process"]["args"] = args
        self.oci.write_config()
        self.oci.ids.append(cid)
        # Files, not pipes: the container keeps create's stdio.
        errpath = os.path.join(self.oci.tmp, "c.err")
        with open(self.out, "w") as out, open(errpath, "w") as err:
            r = subprocess.run(self.argv("create", "--bundle", self.oci.bundle, cid),
                               stdout=out, stderr=err,
                               stdin=subprocess.DEVNULL, timeout=TIMEOUT)
        with open(errpath) as f:
            assert r.returncode == 0, f.read()
        r = self("start", cid)
        assert r.returncode == 0, r.stderr
        self.wait_lines(1)

    def lines(self):
        with open(self.out) as f:
            return f.read().splitlines()

    def wait_lines(self, n, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.lines()) >= n:
                return self.lines()
            time.sleep(0.02)
        raise AssertionError(f"the probe printed {self.lines()!r}")

    def attack(self, cid, exec_args, tries=40):
        """Run `ward exec` until the probe has reported (it stops after one catch)."""
        for _ in range(tries):
            self("exec", cid, *exec_args)
            if len(self.lines()) >= 2:
                break
            time.sleep(0.05)
        result = self.wait_lines(2)[1]
        return dict(kv.split("=", 1) for kv in result.split()[1:])


def own_rootfs(oci, rootfs):
    """A private copy of the busybox rootfs holding the probe."""
    r = os.path.join(oci.tmp, "rootfs")
    shutil.copytree(rootfs, r, symlinks=True)
    shutil.copy2(os.path.join(HELPERS, "probe"), os.path.join(r, "probe"))
    return r


def test_exec_process_exe_cannot_be_opened_or_written(oci, rootfs):
    rt = Runtime(oci, own_rootfs(oci, rootfs))
    rt.start("exe", ["/probe", "exe-hijack", "15"])
    res = rt.attack("exe", ["/probe", "exit", "0"])
    assert int(res["seen"]) >= 1, res       # it did see ward exec's process
    # Not dumpable until its execve: /proc/PID/exe needs CAP_SYS_PTRACE in
    # the host's user namespace (a kernel check, but only because ward set it).
    assert res["opened"] == "0" and res.get("refused") == "EACCES", res
    assert digest(rt.bin) == rt.before, "the container rewrote the runtime's binary"


def test_shebang_proc_self_exe_runs_a_sealed_copy(oci, rootfs):
    rt = Runtime(oci, own_rootfs(oci, rootfs))
    oci.config["root"]["readonly"] = False   # the container plants a script
    rt.start("shebang", ["sh", "-c", "printf '#!/proc/self/exe\\n' > /tmp/evil; "
                                     "chmod 755 /tmp/evil; exec /probe exe-hijack 15"])
    res = rt.attack("shebang", ["/tmp/evil"])
    # The planted script made the kernel run ward's binary inside the
    # container, and the probe got hold of it ...
    assert res["opened"] == "1", res
    # ... but it is the sealed copy in memory: writing is refused by the
    # seal (EPERM), and the runtime's file on the host is untouched.
    assert res.get("write") == "EPERM", res
    assert digest(rt.bin) == rt.before, "the container rewrote the runtime's binary"

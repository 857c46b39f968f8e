# SPDX-License-Identifier: GPL-2.0-or-later
"""Engines inside ward (issue 18): the admin entitlements and what still holds.

- ward falls back from clone3(2) to clone(2) when a seccomp filter around it
  answers clone3 with ENOSYS (ward inside ward, a container engine's profile).
- network.admin: CAP_NET_ADMIN and CAP_NET_RAW in the sandbox's own network
  namespace, never the host's.
- host.devices.admin: /dev/fuse and /dev/net/tun (and loop devices only when
  asked), mknod of only those, the device cgroup saying no to the rest.

Each attack is run from inside an admin sandbox and asserts the layer that
stops it.  docs/engines.md and docs/threat-model/engines.md describe them.
"""

import os
import subprocess

import pytest

import conftest
from conftest import HELPERS, PROBE, WARD, ProbeResult, Result, run_probe, run_ward

NOCLONE3 = os.path.join(HELPERS, "noclone3")


def works(r):
    assert r.returncode == 0, r
    assert r.ok, r
    return r


def blocked(r, *errnos):
    assert r.returncode == 0, r
    assert not r.ok, f"the attempt SUCCEEDED inside the sandbox: {r}"
    assert r.errno in errnos, r
    return r


def run_under_noclone3(*ward_args, timeout=60):
    """ward ARGS under a filter that answers clone3 with ENOSYS (noclone3
    execs ward, so ward's pid is the one the leak check knows)."""
    argv = [NOCLONE3, WARD] + [str(a) for a in ward_args]
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, errors="replace") as p:
        conftest.started_pids.add(p.pid)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            pytest.fail(f"{argv} did not finish\nstdout: {out!r}\nstderr: {err!r}")
    return ProbeResult(Result([str(a) for a in ward_args], p.returncode, out, err))


# ---------------------------------------------------------------- clone3 -> clone

def test_clone3_enosys_falls_back_to_clone():
    # Control: the wrapper's filter really refuses clone3 with ENOSYS (the
    # probe's clone3 of no namespace fails the way ward's own did before).
    r = subprocess.run([NOCLONE3, PROBE, "clone3", "uts"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0 and r.stdout.startswith("errno=ENOSYS"), r
    # ward under that filter still makes every namespace, puts init in
    # its cgroup (on v2 CLONE_INTO_CGROUP is clone3's: ward moves init by
    # cgroup.procs instead) and runs the program within its limits.
    r = run_under_noclone3("run", "-q", "-a", f"fs.exec={HELPERS}", "-a", "process.limit=7",
                           "--", PROBE, "forkbomb", "50")
    assert "Function not implemented" not in r.stderr, r
    assert r.returncode == 0, r
    assert r.errno == "EAGAIN" and int(r["forks"]) < 7, r


def test_clone3_enosys_namespaces_still_made():
    r = run_under_noclone3("run", "-q", "-a", f"fs.exec={HELPERS}", "--", PROBE, "pids")
    works(r)
    # A new pid namespace: the program sees itself and init only.
    assert r["n"] == "2" and r["self"] == "2", r

# SPDX-License-Identifier: GPL-2.0-or-later
"""Constants and helpers of the OCI tests, importable by the test modules
(a module of its own: `conftest` is ambiguous when several suites run)."""

import os
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
WARD = os.path.realpath(os.environ.get("WARD", os.path.join(REPO, "build", "src", "ward")))


def wait_for(pred, timeout=10, step=0.05):
    """True once pred() is, False if it is not within timeout seconds."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def cgroup_dirs(path):
    """Host directories of a container's cgroup in every v1 hierarchy."""
    out = []
    base = "/sys/fs/cgroup"
    for name in sorted(os.listdir(base)):
        d = os.path.join(base, name)
        if os.path.islink(d) or name == "unified":
            continue
        out.append(os.path.join(d, path.lstrip("/")))
    return out


# Static helpers that run inside containers (tests/helpers: probe).
HELPERS = os.path.realpath(os.environ.get("WARD_HELPERS",
                                          os.path.join(REPO, "build", "tests", "helpers")))

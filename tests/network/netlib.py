# SPDX-License-Identifier: GPL-2.0-or-later
"""What the network tests share (imported by tests/network/test_*.py)."""

import os
import time


def wv_links():
    """The wv* veths of ward, once those of ended supervisors are gone: the
    kernel removes a sandbox's veth with its network namespace, a moment
    after the sandbox ends, in the kernel's one queue of namespace teardowns,
    which on a busy host takes seconds.  It returns as soon as they are gone."""
    deadline = time.time() + 15
    while True:
        links = {n for n in os.listdir("/sys/class/net") if n.startswith("wv")}
        dying = {n for n in links if not os.path.exists(f"/proc/{n[2:]}")}
        if not dying or time.time() > deadline:
            return links
        time.sleep(0.05)

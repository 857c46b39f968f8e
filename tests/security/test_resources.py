# SPDX-License-Identifier: GPL-2.0-or-later
"""Resource exhaustion: fork and memory bombs are contained, with limits
and by default."""

import os

import pytest

from conftest import PROBE, exec_grant, run_probe, run_ward

pytestmark = pytest.mark.slow


def test_fork_bomb_contained_by_process_limit():
    r = run_probe("forkbomb", "500", "10", allow=["process.limit=16"])
    assert r.returncode == 0, r
    assert r.errno == "EAGAIN", r
    # The probe is one of the 16; it forks the other 15.
    assert int(r["forks"]) == 15, r
    assert "process.limit" in r.stderr or r.stderr == "", r


def test_fork_bomb_contained_by_default():
    # No entitlement: pids.max defaults to 1024, in bounded time.
    r = run_probe("forkbomb", "3000", "20", timeout=60)
    assert r.returncode == 0, r
    assert r.errno == "EAGAIN", r
    assert int(r["forks"]) == 1023, r


def test_fork_bomb_message_names_the_limit():
    # Without -q, ward explains which limit stopped the program.
    r = run_ward("run", "-a", exec_grant(), "-a", "process.limit=8", "--",
                 PROBE, "forkbomb", "100", "10")
    assert r.returncode == 0, r
    assert "process.limit" in r.stderr, r


def test_memory_bomb_contained_by_memory_limit():
    r = run_ward("run", "-a", exec_grant(), "-a", "memory.limit=64M", "--",
                 PROBE, "membomb", "1024", timeout=60)
    # Killed by the kernel's OOM killer inside the cgroup (SIGKILL: 137), or
    # the allocation failed (the probe reports ENOMEM): never 1024 MiB.
    if r.returncode == 128 + 9:
        assert "memory limit" in r.stderr and "memory.limit" in r.stderr, r
    else:
        assert r.returncode == 0, r
        assert "errno=ENOMEM" in r.stdout, r
        assert int(r.stdout.split("mib=")[1].split()[0]) < 64, r


@pytest.mark.skipif(os.environ.get("WARD_TEST_SLOW") != "1",
                    reason="touches a quarter of RAM (a minute on a small VM); run with "
                           "WARD_TEST_SLOW=1.  The default limit itself is checked by "
                           "test_memory_limit_absent")
def test_memory_bomb_contained_by_default():
    # No entitlement: the default limit is a quarter of RAM.  Ask for all of
    # RAM; the sandbox must be stopped well before.
    ram_mib = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") >> 20
    r = run_ward("run", "-a", exec_grant(), "--", PROBE, "membomb", str(ram_mib), timeout=600)
    assert r.returncode == 128 + 9 or "errno=ENOMEM" in r.stdout, r
    if r.returncode == 128 + 9:
        assert "memory limit" in r.stderr, r
    else:
        assert int(r.stdout.split("mib=")[1].split()[0]) <= ram_mib // 4 + 1, r


def test_files_limit_default():
    r = run_probe("files", "100000")
    assert r.errno == "EMFILE", r
    assert int(r["opened"]) == 1024 - 3, r

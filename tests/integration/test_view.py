# SPDX-License-Identifier: GPL-2.0-or-later
"""The default sandbox: what the program sees."""

import os
import re

import pytest

from conftest import EXIT_USAGE, HELPERS, PROBE, exec_grant, rootless, run_probe, run_ward

WARD_ID_POOL_BASE = 0x70000000
WARD_ID_RANGE = 65536

# What the default view holds at its root (the lib* that exist on the host).
SYSTEM_DIRS = {"usr", "bin", "sbin", "etc"} | {
    d for d in os.listdir("/") if d.startswith("lib") and os.path.isdir("/" + d)}
VIEW_ROOT = SYSTEM_DIRS | {"tmp", "dev", "proc", "sys"}
DEV_NODES = {"null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx", "shm"}
DEV_LINKS = {"fd", "stdin", "stdout", "stderr"}


def test_hostname():
    assert run_probe("uname")["hostname"] == "ward"


def test_runs_as_root_of_a_user_namespace():
    r = run_probe("ids")
    assert (r["uid"], r["gid"], r["euid"], r["egid"]) == ("0", "0", "0", "0"), r
    if rootless():
        # Nested in init's namespace, whose 0 is the user (the default
        # sandbox can use no other id, so no range is mapped; with
        # security.user the subordinate range follows, line by line).
        for f in ("uid_map", "gid_map"):
            r = run_probe("file", f"/proc/self/{f}")
            got = r["content"].replace("_", " ").replace(";", " ").split()
            assert got == ["0", "0", "1"], r
            r = run_probe("file", f"/proc/self/{f}", allow=["security.user"])
            got = r["content"].replace("_", " ").replace(";", " ").split()
            assert got == ["0", "0", "1", "1", "1", "65535"], r
        return
    r = run_probe("file", "/proc/self/uid_map")
    inside, outside, count = r["content"].replace("_", " ").split()
    assert inside == "0" and count == str(WARD_ID_RANGE), r
    outside = int(outside)
    assert outside >= WARD_ID_POOL_BASE and (outside - WARD_ID_POOL_BASE) % WARD_ID_RANGE == 0
    # (gid_map is read in another sandbox, which may hold another range.)
    r = run_probe("file", "/proc/self/gid_map")
    inside, outside, count = r["content"].replace("_", " ").split()
    assert inside == "0" and count == str(WARD_ID_RANGE), r
    assert int(outside) >= WARD_ID_POOL_BASE, r


def test_uid_base_option():
    base = 0x60000000
    if rootless():
        r = run_ward("run", "--uid-base", str(base), "--", "/bin/true")
        assert r.returncode == 125 and "--uid-base needs root" in r.stderr, r
        return
    r = run_probe("file", "/proc/self/uid_map", ward_opts=["--uid-base", str(base)])
    assert r["content"].replace("_", " ").split() == ["0", str(base), str(WARD_ID_RANGE)], r


@pytest.mark.parametrize("bad", ["0", "abc", "-5", str(2**32 - 1)])
def test_uid_base_invalid(bad):
    r = run_ward("run", "--uid-base", bad, "--", "/bin/true")
    assert r.returncode == EXIT_USAGE and "--uid-base" in r.stderr, r


def test_root_directory_holds_only_the_view():
    # /bin/ls, so that no grant (the helpers' directory) adds to the view.
    r = run_ward("run", "--", "/bin/ls", "-1a", "/")
    assert r.returncode == 0, r
    assert set(r.stdout.split()) - {".", ".."} == VIEW_ROOT, r
    # With the helpers granted, their path is added and nothing else.
    top = HELPERS.split("/")[1]
    r = run_probe("ls", "/")
    assert set(r["names"].split(",")) == VIEW_ROOT | {top}, r


@pytest.mark.parametrize("path", ["/root", "/home", "/run", "/var", "/srv", "/mnt", "/media",
                                  "/boot", "/opt", "/work"])
def test_host_directories_absent(path):
    r = run_ward("run", "--", "/bin/ls", "-d", path)
    assert r.returncode != 0 and "No such file or directory" in r.stderr, r
    if not (HELPERS + "/").startswith(path + "/"):
        r = run_probe("ls", path)
        assert r.errno == "ENOENT", r


def test_system_dirs_read_only_nosuid():
    for d in sorted(SYSTEM_DIRS):
        if os.path.islink("/" + d):
            continue  # merged /usr: /bin -> usr/bin
        opts = run_probe("mountopts", "/" + d)["opts"].split(",")
        assert "ro" in opts and "nosuid" in opts, (d, opts)


def test_tmp_writable_and_private():
    marker = f"/tmp/ward-private-{os.getpid()}"
    r = run_probe("create", marker, "x")
    assert r.ok, r
    # Not on the host, and not in the next sandbox.
    assert not os.path.exists(marker)
    assert run_probe("stat", marker).errno == "ENOENT"
    # The host's /tmp is not visible inside.
    # (Except the directory that holds the helpers, when it is granted from
    # beneath /tmp.)
    from conftest import HELPERS
    granted = {HELPERS.split("/")[2]} if HELPERS.startswith("/tmp/") else set()
    host_tmp = set(os.listdir("/tmp")) - granted
    if host_tmp:
        inside = run_probe("ls", "/tmp")
        assert set(filter(None, inside["names"].split(","))) <= granted, inside


def test_dev_shm_private():
    assert run_probe("create", "/dev/shm/ward-x", "x").ok
    assert not os.path.exists("/dev/shm/ward-x")


def test_dev_is_minimal():
    r = run_probe("ls", "/dev")
    assert set(r["names"].split(",")) == DEV_NODES | DEV_LINKS, r
    for name in ("null", "zero", "full", "random", "urandom", "tty", "ptmx"):
        s = run_probe("stat", "/dev/" + name)
        assert s["type"] in ("chr", "link"), s
    assert run_probe("stat", "/dev/fd")["type"] == "link"


def test_proc_is_fresh():
    r = run_probe("file", "/proc/1/cmdline")
    # pid 1 is ward's init: ward's own command line.
    assert "ward" in r["content"], r


def test_sys_read_only():
    opts = run_probe("mountopts", "/sys")["opts"].split(",")
    assert "ro" in opts, opts


def test_environment_is_clean():
    env = dict(os.environ, WARD_TEST_SECRET="s3cret", LD_PRELOAD="/nonexistent.so",
               TERM="xterm-test", HOME="/root")
    r = run_ward("run", "--", "/usr/bin/env", env=env)
    assert r.returncode == 0, r
    got = dict(l.split("=", 1) for l in r.stdout.splitlines())
    assert set(got) == {"PATH", "HOME", "TERM"}, got
    assert got["HOME"] == "/" and got["TERM"] == "xterm-test", got


def test_setenv_adds_variables():
    r = run_ward("run", "-e", "FOO=bar", "--setenv", "BAZ=1=2", "--", "/usr/bin/env")
    got = dict(l.split("=", 1) for l in r.stdout.splitlines())
    assert got["FOO"] == "bar" and got["BAZ"] == "1=2", r


def test_home_kept_when_granted(make_tmpdir):
    home = make_tmpdir()
    env = dict(os.environ, HOME=home)
    r = run_ward("run", "-a", f"fs.read={home}", "--", "/bin/sh", "-c", 'echo "$HOME"; pwd',
                 env=env)
    assert r.stdout.split() == [home, home], r


def test_chdir(make_tmpdir):
    d = make_tmpdir()
    r = run_ward("run", "-a", f"fs.read={d}", "-C", d, "--", "/bin/pwd")
    assert r.returncode == 0 and r.stdout.strip() == d, r
    r = run_ward("run", "-C", "relative", "--", "/bin/pwd")
    assert r.returncode == EXIT_USAGE, r


def test_only_fds_0_1_2():
    assert run_probe("fds")["fds"] == "0,1,2"


def test_new_session_without_terminal():
    r = run_probe("status", "NSpid")
    assert r.ok, r
    # A new session: the probe can not open a controlling terminal.
    r = run_probe("open", "/dev/tty", "r")
    assert r.errno == "ENXIO", r


def test_rlimits():
    r = run_probe("rlimits")
    assert r["nofile"] == "1024:1024" and r["core"] == "0:0", r


def test_cgroup_namespace():
    r = run_probe("file", "/proc/self/cgroup")
    for line in r["content"].split(";"):
        assert line.endswith(":/"), r


def test_time_namespace():
    r = run_probe("ls", "/proc/self/ns")
    assert "time" in r["names"].split(","), r
    inside = run_probe("stat", "/proc/self/ns/time")
    assert inside.ok


def test_namespaces_differ_from_host():
    for ns in ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time"):
        host = os.readlink(f"/proc/self/ns/{ns}")
        r = run_ward("run", "--", "/usr/bin/readlink", f"/proc/self/ns/{ns}")
        assert r.returncode == 0, r
        assert r.stdout.strip() != host, ns

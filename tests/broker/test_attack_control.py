# SPDX-License-Identifier: GPL-2.0-or-later
"""Who may talk to the broker, and what of the broker an attacker can reach
(issue 11, the broker's own review): its directory and control socket, a
broker that is not ours, a sandbox that reaches the socket, descriptors
sent to it, the broker's process, and what an environment holds."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from brokerlib import bhelpers, broker, exited, hexpkt, packet, wait_for  # noqa: F401
from conftest import WARD, others_may_reach_ward, run_ward

NOBODY = 65534


def own_dir(uid=0, mode=0o755):
    d = os.path.realpath(tempfile.mkdtemp(prefix="wb-", dir="/var/tmp"))
    os.chown(d, uid, uid)
    os.chmod(d, mode)
    return d


@pytest.fixture
def dirs():
    made = []

    def make(uid=0, mode=0o755):
        d = own_dir(uid, mode)
        made.append(d)
        return d
    # Some tests run ward as nobody: it must reach the binary wherever the
    # checkout lies.
    with others_may_reach_ward():
        yield make
        for d in made:
            run_ward("broker", "--stop", "--state-dir", d, timeout=60)
            shutil.rmtree(d, ignore_errors=True)


# ------------------------------------------------------- the directory

@pytest.mark.parametrize("uid,mode,text", [
    (0, 0o777, "is writable by everyone (mode 0777)"),
    (0, 0o775, "is writable by its group (mode 0775)"),
    (NOBODY, 0o755, f"belongs to uid {NOBODY}, not to you or root"),
])
def test_broker_refuses_a_directory_others_control(dirs, uid, mode, text):
    """Whoever may write the broker's directory could replace its socket
    (and be the broker ward run talks to) or plant links where it writes."""
    d = dirs(uid, mode)
    r = run_ward("broker", "--state-dir", d)
    assert r.returncode == 1, r
    assert f"the broker's directory {d} {text}" in r.stderr, r
    assert not os.path.exists(os.path.join(d, "broker.sock"))


def test_broker_log_is_never_written_through_a_link(dirs):
    d = dirs()
    victim = os.path.join(dirs(), "victim")
    with open(victim, "w") as f:
        f.write("untouched\n")
    os.symlink(victim, os.path.join(d, "broker.log"))
    r = run_ward("broker", "--state-dir", d)
    assert r.returncode == 1 and f"cannot open the broker's log {d}/broker.log" in r.stderr, r
    with open(victim) as f:
        assert f.read() == "untouched\n"


def test_stop_does_not_believe_a_planted_pid_file(dirs):
    """`ward broker --stop` (root) kills the pid in DIR/broker.pid if its
    command line says "broker": in a directory others may write, a planted
    pid file named any process of theirs."""
    d = dirs(0, 0o777)
    bait = subprocess.Popen(["broker-bait", "120"], executable="/bin/sleep")
    try:
        with open(os.path.join(d, "broker.pid"), "w") as f:
            f.write(f"{bait.pid}\n")
        r = run_ward("broker", "--stop", "--state-dir", d)
        assert r.returncode == 1 and "is writable by everyone" in r.stderr, r
        time.sleep(0.2)
        assert bait.poll() is None, "the planted pid was killed"
    finally:
        bait.kill()
        bait.wait()


# ------------------------------------------------------- a broker not ours

def fake_broker(d):
    """A process of uid NOBODY listening on d/broker.sock, answering every
    request with an error full of terminal escapes.  Returns its pid."""
    path = os.path.join(d, "broker.sock")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.bind(path)
            s.listen(8)
            os.write(w, b"r")
            while True:
                c, _ = s.accept()
                try:
                    c.recv(1 << 18)
                    c.send(packet("ERROR", 1, ("CODE", 1),
                                  ("TEXT", "\x1b]0;OWNED\x07 all good")))
                except OSError:
                    pass
                c.close()
        finally:
            os._exit(0)
    os.close(w)
    assert os.read(r, 1) == b"r"
    os.close(r)
    return pid


def test_ward_does_not_talk_to_a_broker_that_is_not_ours(dirs, bhelpers):
    d = dirs(NOBODY, 0o755)  # e.g. /tmp/ward-UID made by someone else first
    pid = fake_broker(d)
    try:
        for args in (["ps", "--state-dir", d], ["msg", "send", "--state-dir", d, "db", "x"],
                     ["run", "--state-dir", d, "--name", "web", "--", "/bin/true"]):
            r = run_ward(*args)
            assert r.returncode != 0, r
            assert (f"{d}/broker.sock is served by uid {NOBODY} (pid {pid}), not by root or "
                    "you" in r.stderr), r
            assert "\x1b" not in r.stderr and "OWNED" not in r.stderr, r
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


# ------------------------------------------------------- the control socket

def test_sandbox_that_reaches_the_socket_cannot_operate_the_broker(broker, bhelpers):
    """A sandbox granted fs.write on the broker's directory (its idmapped
    mount makes it the owner of broker.sock, so connect() succeeds) is
    refused by the broker's own check of its peer's uid."""
    broker.start()
    sock = os.path.join(broker.dir, "broker.sock")
    r = broker.ward(*broker.run_args(None, [f"fs.write={broker.dir}"],
                                     [f"{bhelpers}/envtool", "raw", f"c:{sock}",
                                      f"x:{hexpkt('PS', 1)}"], bhelpers))
    # closed by the broker as soon as it saw who connected (before or
    # after the request was written)
    lines = r.stdout.splitlines()
    assert lines[0] == "connect ok" and lines[1].startswith("closed") and len(lines) == 2, r
    m = wait_for(lambda: re.search(r"refused a control connection from uid (\d+): only uid 0 "
                                   r"may operate this broker", broker.log()))
    assert m and int(m[1]) >= 0x70000000, broker.log()


def test_control_connection_that_sends_descriptors_is_closed(broker):
    broker.start()
    ctl = broker.control()
    r, w = os.pipe()
    socket.send_fds(ctl, [packet("PS", 1)], [r])
    os.close(r)
    os.close(w)
    ctl.settimeout(10)
    assert ctl.recv(1 << 18) == b""
    assert wait_for(lambda: "sent descriptors to the broker" in broker.log())


# ------------------------------------------------------- the broker's process

def test_broker_process_is_not_dumpable(dirs):
    """A rootless broker runs as its user, like the user's other programs:
    not dumpable, they cannot ptrace it or read its /proc/PID/fd, mem,
    environ (its /proc entries belong to root)."""
    d = dirs(NOBODY, 0o700)

    def as_nobody():
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    env = dict(os.environ, WARD_STATE_DIR=d)
    r = subprocess.run([WARD, "broker", "--state-dir", d], preexec_fn=as_nobody, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r
    with open(os.path.join(d, "broker.pid")) as f:
        pid = int(f.read())
    try:
        st = os.stat(f"/proc/{pid}/status")
        with open(f"/proc/{pid}/status") as f:
            uids = [ln for ln in f if ln.startswith("Uid:")][0].split()
        assert int(uids[1]) == NOBODY
        assert os.stat(f"/proc/{pid}/fd").st_uid == 0 and st.st_uid == 0, st
    finally:
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: exited(pid))


def test_environment_holds_only_its_broker_descriptor(broker, bhelpers):
    """Inside, fd 3 is the one descriptor to the broker; nothing else of the
    broker or of ward run's control connection leaked in."""
    r = broker.ward(*broker.run_args("holder", ["ipc.recv"], [f"{bhelpers}/envtool", "fds"],
                                     bhelpers))
    assert r.stdout.strip() == "fds 0 1 2 3", r


# SPDX-License-Identifier: GPL-2.0-or-later
"""linux.seccomp as podman and Docker write it: actions, errnoRet, argument
conditions, flags, and SCMP_ACT_NOTIFY with a listenerPath."""

import json
import os
import socket
import threading

import pytest

ARCHS = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]


def profile(rules, default="SCMP_ACT_ALLOW", **extra):
    p = {"defaultAction": default, "architectures": ARCHS, "syscalls": rules}
    p.update(extra)
    return p


def status_field(text, name):
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


@pytest.mark.parametrize("nnp", [True, False])
def test_errno_rule_with_and_without_no_new_privs(oci, nnp):
    oci.config["process"]["noNewPrivileges"] = nnp
    oci.config["linux"]["seccomp"] = profile([
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
        {"names": ["no_such_syscall_anywhere"], "action": "SCMP_ACT_ERRNO"},
    ])
    oci.config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                                 "options": ["mode=1777"]})
    r = oci.sh("mkdir /tmp/x; rmdir /tmp; grep Seccomp: /proc/self/status")
    assert "Operation not permitted" in r.stderr, r
    assert "Function not implemented" in r.stderr, r
    assert status_field(r.stdout, "Seccomp") == "2"


def test_default_errno_and_allow_list(oci):
    # An allow list: what is not listed fails with defaultErrnoRet.
    allowed = ["execve", "brk", "arch_prctl", "set_tid_address", "exit_group", "write",
               "getuid", "getgid", "geteuid", "getegid", "rt_sigaction", "rt_sigprocmask",
               "getpid", "mmap", "munmap", "ioctl", "uname", "set_robust_list", "prlimit64",
               "fstat", "newfstatat", "close", "read", "openat", "getppid", "poll", "ppoll",
               "capget", "capset", "setresuid", "setresgid", "setgroups", "prctl", "chdir",
               "getcwd", "fcntl", "close_range", "exit", "stat", "access", "faccessat",
               "faccessat2", "landlock_create_ruleset", "landlock_restrict_self", "futex",
               "rseq", "getrandom", "sched_getaffinity", "readlink", "sendto", "recvfrom",
               "sendmsg", "recvmsg", "dup2", "dup3", "getdents64", "lseek", "wait4",
               "clone", "clone3", "pipe2", "nanosleep", "mprotect"]
    oci.config["process"]["noNewPrivileges"] = True
    oci.config["linux"]["seccomp"] = profile(
        [{"names": allowed, "action": "SCMP_ACT_ALLOW"}], default="SCMP_ACT_ERRNO",
        defaultErrnoRet=1)
    r = oci.run("id", "-u")
    assert r.returncode == 0 and r.stdout.strip() == "0", r
    r = oci.run("mkdir", "/x")
    assert r.returncode != 0 and "Operation not permitted" in r.stderr, r


def test_argument_conditions(oci):
    oci.config["linux"]["seccomp"] = profile([
        {"names": ["fchmodat", "fchmodat2"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 2, "value": 0o777, "op": "SCMP_CMP_EQ"}]},
        {"names": ["chmod"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 1, "value": 0o777, "op": "SCMP_CMP_EQ"}]},
        # two conditions on one argument: ORed (runc's rule)
        {"names": ["fchmodat", "fchmodat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
         "args": [{"index": 2, "value": 0o700, "op": "SCMP_CMP_EQ"},
                  {"index": 2, "value": 0o711, "op": "SCMP_CMP_EQ"}]},
        {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
         "args": [{"index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"},
                  {"index": 1, "value": 0o711, "op": "SCMP_CMP_EQ"}]},
        # masked: deny any mode with the setuid bit
        {"names": ["fchmodat", "fchmodat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
         "args": [{"index": 2, "value": 0o4000, "valueTwo": 0o4000,
                   "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
         "args": [{"index": 1, "value": 0o4000, "valueTwo": 0o4000,
                   "op": "SCMP_CMP_MASKED_EQ"}]},
    ])
    oci.config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                                 "options": ["mode=1777"]})
    r = oci.sh("touch /tmp/f; for m in 755 777 700 711 4755; do "
               "chmod $m /tmp/f 2>/dev/null && echo $m:ok || echo $m:no; done; "
               "chmod 711 /tmp/f; chmod 4755 /tmp/f")
    assert r.stdout.split() == ["755:ok", "777:no", "700:no", "711:no", "4755:no"], r
    assert "Invalid argument" in r.stderr and "Permission denied" in r.stderr


def test_kill_process_action(oci):
    oci.config["linux"]["seccomp"] = profile([
        {"names": ["uname"], "action": "SCMP_ACT_KILL_PROCESS"}])
    r = oci.run("uname")
    assert r.returncode == 128 + 31, r  # SIGSYS


def test_bad_profiles_are_errors(oci):
    oci.config["linux"]["seccomp"] = profile([], default="SCMP_ACT_BOGUS")
    r = oci.run("true")
    assert r.returncode != 0 and "unknown action" in r.stderr
    oci.config["linux"]["seccomp"] = profile([], flags=["SECCOMP_FILTER_FLAG_NOPE"])
    r = oci.run("true")
    assert r.returncode != 0 and "unknown flag" in r.stderr
    oci.config["linux"]["seccomp"] = profile([{"names": ["mkdir"],
                                               "action": "SCMP_ACT_NOTIFY"}])
    r = oci.run("true")
    assert r.returncode != 0 and "listenerPath" in r.stderr


def test_flags_are_accepted(oci):
    oci.config["linux"]["seccomp"] = profile(
        [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}],
        flags=["SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_LOG"])
    r = oci.run("true")
    assert r.returncode == 0, r


def test_notify_sends_the_listener_to_listener_path(oci):
    path = os.path.join(oci.tmp, "listener.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    got = {}

    def serve():
        conn, _ = srv.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
        got["msg"] = json.loads(msg)
        got["fds"] = len(fds)
        # Closing the listener makes the notified syscall fail with ENOSYS.
        for fd in fds:
            os.close(fd)
        conn.close()

    t = threading.Thread(target=serve)
    t.start()
    try:
        oci.config["linux"]["seccomp"] = profile(
            [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
            listenerPath=path, listenerMetadata="hello")
        oci.config["mounts"].append({"destination": "/tmp", "type": "tmpfs",
                                     "source": "tmpfs", "options": ["mode=1777"]})
        r = oci.sh("mkdir /tmp/x; echo done")
        t.join(10)
        assert got.get("fds") == 1, (r, got)
        assert got["msg"]["fds"] == ["seccompFd"]
        assert got["msg"]["metadata"] == "hello"
        assert "Function not implemented" in r.stderr, r
    finally:
        srv.close()
        t.join(1)

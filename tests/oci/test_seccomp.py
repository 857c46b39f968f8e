# SPDX-License-Identifier: GPL-2.0-or-later
"""linux.seccomp as podman and Docker write it: actions, errnoRet, argument
conditions, flags, and SCMP_ACT_NOTIFY with a listenerPath."""

import json
import os
import socket
import threading

import pytest

from ocienv import HELPERS

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


# ---- issue 12 §1: the config's filter is the last thing before execve ----
#
# What busybox-static's `true` itself calls (strace -f /bin/busybox true on
# this machine), plus execve: an allow-list generated from this list and
# nothing else.  ward's own calls after the filter used to be denied
# ("close_range: Operation not permitted"): none of them may remain.
PROGRAM_TRUE = ["execve", "arch_prctl", "brk", "exit_group", "getrandom", "getuid",
                "mprotect", "prctl", "prlimit64", "readlink", "rseq", "set_robust_list",
                "set_tid_address"]


def allow_list(names, errno=1):
    return profile([{"names": sorted(set(names)), "action": "SCMP_ACT_ALLOW"}],
                   default="SCMP_ACT_ERRNO", defaultErrnoRet=errno)


@pytest.mark.parametrize("nnp", [True, False])
def test_minimal_allow_list_run(oci, nnp):
    oci.config["process"]["noNewPrivileges"] = nnp
    oci.config["linux"]["seccomp"] = allow_list(PROGRAM_TRUE + ["write"])
    r = oci.run("echo", "hi")
    assert r.returncode == 0 and r.stdout == "hi\n", r
    # and the filter is there: what the list lacks fails with its errno
    r = oci.run("mkdir", "/x")
    assert r.returncode == 1 and "Operation not permitted" in r.stderr, r


@pytest.mark.parametrize("nnp", [True, False])
def test_minimal_allow_list_create_start(oci, nnp):
    """create, start: the wait for start and the fifo are ward's, before the filter."""
    oci.config["process"]["noNewPrivileges"] = nnp
    oci.config["linux"]["seccomp"] = allow_list(PROGRAM_TRUE + ["write"])
    cid = f"min-{int(nnp)}-{os.getpid()}"
    oci.create(cid, "echo", "started")
    assert oci.state(cid)["status"] == "created"
    oci.ward("start", cid, check=True)
    oci.wait_status(cid, "stopped")
    assert oci.output(cid) == "started\n"
    oci.ward("delete", cid, check=True)


def test_minimal_allow_list_exec(oci):
    """exec'd processes get the same filter, also last."""
    sleep = PROGRAM_TRUE + ["nanosleep", "clock_nanosleep", "write"]
    oci.config["linux"]["seccomp"] = allow_list(sleep)
    cid = f"minx-{os.getpid()}"
    oci.create(cid, "sleep", "30")
    oci.ward("start", cid, check=True)
    r = oci.ward("exec", cid, "echo", "in")
    assert r.returncode == 0 and r.stdout == "in\n", r
    r = oci.ward("exec", cid, "mkdir", "/y")
    assert r.returncode == 1 and "Operation not permitted" in r.stderr, r
    oci.ward("kill", cid, "KILL")
    oci.wait_status(cid, "stopped")


def test_allow_list_without_execve_stops_at_execve(oci):
    """A profile that does not allow execve fails at execve itself: the
    error is the program's exec, not one of ward's calls."""
    oci.config["linux"]["seccomp"] = allow_list(["exit_group", "write"])
    r = oci.run("true")
    assert r.returncode == 126, r
    assert "exec /bin/true: Operation not permitted" in r.stderr, r


def test_spec_example_profile(oci):
    """config-linux.md's example: allow by default, getcwd and chmod denied;
    architectures x86 and x32 only (the native one is always in a filter)."""
    oci.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["getcwd", "chmod"], "action": "SCMP_ACT_ERRNO"}]}
    oci.config["mounts"].append({"destination": "/probe", "type": "bind",
                                 "source": os.path.join(HELPERS, "probe"),
                                 "options": ["bind", "ro"]})
    # x86_64: getcwd 79, chmod 90, mkdir 83.  With NULL arguments each
    # fails EFAULT/ERANGE unfiltered; the filter answers EPERM first.
    for nr, want in ((79, "errno=EPERM"), (90, "errno=EPERM"), (83, "errno=EFAULT")):
        r = oci.run("/probe", "syscall", str(nr), "0", "0")
        assert r.stdout.split()[:1] == [want], (nr, r)


def test_spec_minimal_errno_default_profile(oci):
    """The smallest profile the spec allows: a defaultAction alone.  With
    SCMP_ACT_ERRNO even execve is denied; with SCMP_ACT_ALLOW nothing is."""
    oci.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW"}
    assert oci.run("true").returncode == 0
    # Nothing at all is allowed, not even the exit of the failed exec: the
    # init dies without a word (libc's _exit falls back to a fault), as
    # under any runtime.  It must not run the program or report success.
    oci.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ERRNO"}
    r = oci.run("true")
    assert r.returncode not in (0, 125), r


def caps_of(text):
    return {k: int(status_field(text, k), 16) for k in ("CapInh", "CapPrm", "CapEff",
                                                          "CapBnd", "CapAmb")}


CAP_SYS_ADMIN = 1 << 21


@pytest.mark.parametrize("uid", [0, 1000])
def test_filter_capability_does_not_reach_the_program(oci, uid):
    """Attack on §1's ordering: without noNewPrivileges, the init keeps
    CAP_SYS_ADMIN (effective, permitted) to install the filter after the
    user switch.  The program must get exactly the config's sets."""
    oci.config["process"]["noNewPrivileges"] = False
    oci.config["process"]["user"] = {"uid": uid, "gid": uid}
    kill = ["CAP_KILL"]
    oci.config["process"]["capabilities"] = {
        "bounding": kill, "effective": kill, "permitted": kill, "inheritable": [],
        "ambient": []}
    oci.config["linux"]["seccomp"] = profile([{"names": ["mkdir"],
                                               "action": "SCMP_ACT_ERRNO"}])
    r = oci.run("cat", "/proc/self/status")
    assert r.returncode == 0, r
    caps = caps_of(r.stdout)
    assert status_field(r.stdout, "Seccomp") == "2"
    assert status_field(r.stdout, "NoNewPrivs") == "0"
    assert caps["CapBnd"] == 1 << 5, caps
    assert caps["CapAmb"] == 0 and caps["CapInh"] == 0, caps
    if uid == 0:
        # root regains its bounding set at execve, nothing more
        assert caps["CapPrm"] == caps["CapEff"] == 1 << 5, caps
    else:
        assert caps["CapPrm"] == caps["CapEff"] == 0, caps
    assert not (caps["CapEff"] | caps["CapPrm"]) & CAP_SYS_ADMIN


# ---- the compiled-program cache (/run/ward/seccomp-oci) ----

CACHE = "/run/ward/seccomp-oci"


def run_logged(oci, cid):
    log = os.path.join(oci.tmp, f"{cid}.log")
    oci.write_config()
    oci.ids.append(cid)
    r = oci.ward("--log", log, "--debug", "run", "--bundle", oci.bundle, cid, root=True)
    with open(log) as f:
        return r, f.read()


def test_compiled_profile_is_cached_and_a_damaged_entry_is_recompiled(oci):
    # a profile no other test uses: errno 77 for mkdir
    oci.config["process"]["args"] = ["mkdir", "/x"]
    oci.config["linux"]["seccomp"] = profile([
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 77},
        {"names": ["w_oci_cache_test_marker"], "action": "SCMP_ACT_ERRNO"}])
    r, log = run_logged(oci, f"cache1-{os.getpid()}")
    assert r.returncode == 1 and os.strerror(77) in r.stderr, r
    # compiled now, or by an earlier run of this test
    key = log.split("cached as ")[1].split(")")[0] if "cached as " in log else \
        log.split("is ")[1].split(" in the cache")[0]
    entry = os.path.join(CACHE, key + ".bpf")
    assert os.path.isfile(entry), log
    st = os.stat(os.path.dirname(entry))
    assert st.st_uid == 0 and not st.st_mode & 0o022
    r, log = run_logged(oci, f"cache2-{os.getpid()}")
    assert f"{key} in the cache" in log, log
    assert r.returncode == 1 and os.strerror(77) in r.stderr, r
    # Damage one instruction: the digest no longer matches, the entry is
    # recompiled, and the filter still does what the profile says.
    with open(entry, "r+b") as f:
        f.seek(20)
        b = f.read(1)
        f.seek(20)
        f.write(bytes([b[0] ^ 0xff]))
    r, log = run_logged(oci, f"cache3-{os.getpid()}")
    assert "compiled the program" in log, log
    assert r.returncode == 1 and os.strerror(77) in r.stderr, r


def test_notify_listener_after_start_with_create(oci):
    """create + start: the runtime connects to listenerPath at create (the
    host path), the init hands the listener on after start, once its
    filter is in (the last thing before execve)."""
    path = os.path.join(oci.tmp, "listener2.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    got = {}

    def serve():
        conn, _ = srv.accept()
        got["connected"] = True
        msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
        got["msg"] = json.loads(msg)
        got["fds"] = len(fds)
        for fd in fds:
            os.close(fd)
        conn.close()

    t = threading.Thread(target=serve)
    t.start()
    try:
        oci.config["linux"]["seccomp"] = profile(
            [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
            listenerPath=path, listenerMetadata="m2")
        cid = f"notify-{os.getpid()}"
        oci.create(cid, "sh", "-c", "mkdir /x; echo done")
        pid = oci.state(cid)["pid"]  # the program may be gone after start
        t.join(0.5)
        assert got.get("connected") and "fds" not in got, got  # nothing before start
        oci.ward("start", cid, check=True)
        t.join(10)
        assert got.get("fds") == 1 and got["msg"]["metadata"] == "m2", got
        assert pid > 0 and got["msg"]["pid"] == pid, (pid, got)
        oci.wait_status(cid, "stopped")
        assert "done" in oci.output(cid)
        oci.ward("delete", cid, check=True)
    finally:
        srv.close()
        t.join(1)

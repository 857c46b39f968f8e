# SPDX-License-Identifier: GPL-2.0-or-later
"""The security battery: escape attempts from the DEFAULT sandbox.

Each test runs the probe helper in a sandbox with no entitlement but
fs.exec=<helpers> (so the probe can run) and asserts the precise outcome
that proves the attempt was blocked: an errno, or the absence of what it
looked for.  Where the probe could pass vacuously (a call that fails for
everybody), a positive control runs the same probe on the host as root, or
in a sandbox with the entitlement that grants it, and shows the operation
works there.  docs/testing.md lists what each test proves.
"""

import os
import socket
import subprocess

import pytest

from conftest import HELPERS, rootless, run_probe, run_probe_host
from layerlib import entered, run_layers, started  # noqa: F401


def blocked(r, *errnos):
    """The probe ran (exit 0, one line) and the kernel said one of ERRNOS."""
    assert r.returncode == 0, r
    assert not r.ok, f"the attempt SUCCEEDED inside the sandbox: {r}"
    assert r.errno in errnos, r
    return r


def works(r):
    assert r.returncode == 0, r
    assert r.ok, r
    return r


def filtered(r, syscall, arg=None):
    """EPERM, and the syscall filter's own record of the denial: the filter
    refused it, not a kernel check behind it (which gives the same EPERM
    when the filter's rule is gone)."""
    blocked(r, "EPERM")
    assert r.filter_denied(syscall, arg), (
        f"EPERM without the filter's record of {syscall}({arg or ''}): another layer "
        f"answered; the filter's rule is missing\n{r!r}\n{r.denials}")
    return r


def denied(*probe_args, syscall, arg=None, **kw):
    return filtered(run_layers(*probe_args, **kw), syscall, arg)


# ---------------------------------------------------------------- mounts

def test_mount_tmpfs_denied():
    denied("mount-tmpfs", syscall="mount")
    # Control: with security.admin the same probe mounts (in its own mount
    # namespace), so the probe's mount call is a working one.
    works(run_probe("mount-tmpfs", allow=["security.admin"]))


def test_remount_root_read_write_denied():
    denied("remount-rw", "/", syscall="mount")


def test_remount_usr_read_write_denied():
    denied("remount-rw", "/usr", syscall="mount")
    denied("bind-rw", "/usr", syscall="mount")


def test_user_namespace_then_mount_denied():
    r = denied("userns-mount", syscall="unshare", arg="CLONE_NEWUSER|CLONE_NEWNS")
    assert r["step"] == "unshare", r


def test_new_mount_api_fsopen_denied():
    denied("fsopen", "tmpfs", syscall="fsopen")
    works(run_probe_host("fsopen", "tmpfs"))


def test_new_mount_api_open_tree_denied():
    denied("open-tree", "/usr", syscall="open_tree")
    works(run_probe_host("open-tree", "/usr"))


# ---------------------------------------------------------------- /proc and /sys

def test_write_proc_sys_denied():
    # Writing back the value just read: harmless if it were allowed.
    # Two layers, each with its own errno.  The sysctl belongs to the host's
    # root, and the sandbox's uid 0 is another host uid: EACCES.
    r = blocked(run_probe("rewrite", "/proc/sys/kernel/hostname"), "EACCES")
    assert r["step"] == "open-write", r
    # Without the user namespace (layerdrop: the program is the host's uid
    # 0, whose write the mode allows), the read-only bind of /proc/sys says
    # EROFS on its own.  (Landlock lets /proc be written: not a layer here.)
    # Rootless: layerdrop runs as the user, who is never the host's uid 0:
    # without the user namespace the program is the user, and the sysctl's
    # mode answers first (EACCES) again; the read-only bind's own proof is
    # root mode's.
    r = blocked(run_layers("rewrite", "/proc/sys/kernel/hostname",
                           drop=["seccomp", "userns"]), "EACCES" if rootless() else "EROFS")
    assert r["step"] == "open-write", r


def test_write_sys_denied():
    path = "/sys/kernel/mm/ksm/run"
    if not os.path.exists(path):
        pytest.skip(f"{path} does not exist on this kernel")
    # The read-only sysfs answers first (EROFS), before the file's owner
    # (the host's root) would; so also as the host's uid 0.
    r = blocked(run_probe("rewrite", path), "EROFS")
    assert r["step"] == "open-write", r
    r = blocked(run_layers("rewrite", path, drop=["seccomp", "userns"]), "EROFS")
    assert r["step"] == "open-write", r


def test_read_proc_kcore_denied():
    if not os.path.exists("/proc/kcore"):
        pytest.skip("this kernel has no /proc/kcore (CONFIG_PROC_KCORE off): nothing to mask")
    # Masked with a /dev/null on a nodev mount (as /proc/keys): EACCES at open.
    blocked(run_probe("open", "/proc/kcore", "r"), "EACCES")
    r = works(run_probe("stat", "/proc/kcore"))
    assert r["type"] == "chr" and r["rdev"] == "1:3", r


@pytest.mark.parametrize("path", ["/proc/keys", "/proc/timer_list"])
def test_proc_info_files_masked(path):
    if not os.path.exists(path):
        pytest.skip(f"{path} does not exist on this kernel")
    # Masked with /dev/null, as runc and crun do: it exists but is empty.
    r = works(run_probe("stat", path))
    assert r["type"] == "chr" and r["rdev"] == "1:3", r
    st = os.stat(path)
    assert not (st.st_mode & 0o170000 == 0o020000), "control: on the host it is a real file"


@pytest.mark.parametrize("path", ["/sys/firmware", "/sys/kernel/security", "/sys/kernel/debug",
                                  "/sys/fs/bpf", "/sys/devices/virtual/powercap"])
def test_sys_dirs_masked(path):
    if not os.path.isdir(path):
        pytest.skip(f"{path} does not exist on this kernel")
    # Covered by an empty read-only tmpfs: the firmware tables, securityfs,
    # debugfs and bpffs mount points of sysfs are not even visible.
    r = works(run_probe("fstype", path))
    assert r["type"] == "tmpfs", r
    assert works(run_probe("ls", path))["n"] == "0"
    assert run_probe_host("fstype", path)["type"] != "tmpfs"  # control


def test_proc_sys_read_only():
    r = works(run_probe("mountopts", "/proc/sys"))
    assert "ro" in r["opts"].split(","), r


# ---------------------------------------------------------------- kernel interfaces

def test_keyring_denied():
    denied("keyctl", syscall="keyctl")
    denied("add-key", syscall="add_key")
    works(run_probe_host("keyctl"))


def test_bpf_denied():
    denied("bpf", syscall="bpf")
    # Control: on the host, root's call is accepted and then fails on the
    # empty attribute: the probe reaches the kernel's argument checks.
    r = run_probe_host("bpf")
    assert r.errno == "EINVAL", r


def test_perf_event_open_denied():
    denied("perf", syscall="perf_event_open")
    works(run_probe_host("perf"))


@pytest.mark.parametrize("call", ["init-module", "finit-module", "delete-module"])
def test_module_loading_denied(call):
    denied(call, syscall=call.replace("-", "_"))
    # Control: the host answers something else (ENOSYS on a kernel without
    # modules, EINVAL/EBADF/ENOENT with them): EPERM comes from ward.
    r = run_probe_host(call)
    assert r.errno != "EPERM", r


def test_clock_change_denied():
    # An invalid time: EINVAL if the call got through, EPERM if refused.
    denied("clock-invalid", syscall="clock_settime")
    assert run_probe_host("clock-invalid").errno == "EINVAL"
    # Setting the tick to its current value needs CAP_SYS_TIME.
    denied("adjtimex-tick", syscall="clock_adjtime")
    denied("settimeofday-tz", syscall="settimeofday")


def test_reboot_denied():
    # A wrong second magic: the kernel can never reboot on it.
    denied("reboot", syscall="reboot")
    assert run_probe_host("reboot").errno == "EINVAL"


def test_kexec_denied():
    denied("kexec", syscall="kexec_load")
    # Control: the host's answer is not seccomp's EPERM (ENOSYS without
    # kexec in the kernel, EINVAL for the bad flags with it).
    if run_probe_host("kexec").errno == "EPERM":
        pytest.skip("the host refuses kexec to root too (lockdown): no control")


def test_io_uring_denied():
    denied("io-uring", syscall="io_uring_setup")
    works(run_probe_host("io-uring"))


def test_userfaultfd_denied():
    denied("userfaultfd", syscall="userfaultfd")
    works(run_probe_host("userfaultfd"))


def test_personality_read_implies_exec_denied():
    # READ_IMPLIES_EXEC (0x0400000) makes every readable mapping executable.
    denied("personality", "0x0400000", syscall="personality", arg="0x400000")
    # Querying the personality is fine.
    works(run_probe("personality", "0xffffffff"))


# ---------------------------------------------------------------- sockets

@pytest.mark.parametrize("family", ["raw", "raw6", "packet", "netlink", "inet", "inet6", "udp"])
def test_socket_family_denied(family):
    af = {"raw": "AF_INET", "raw6": "AF_INET6", "packet": "AF_PACKET", "netlink": "AF_NETLINK",
          "inet": "AF_INET", "inet6": "AF_INET6", "udp": "AF_INET"}[family]
    denied("socket", family, syscall="socket", arg=af)
    works(run_probe_host("socket", family))


def test_unix_socket_allowed():
    works(run_probe("socket", "unix"))


def test_tcp_bind_connect_denied():
    r = denied("tcp-bind", "127.0.0.1", "0", syscall="socket", arg="AF_INET")
    assert r["step"] == "socket", r
    r = denied("tcp-connect", "127.0.0.1", "22", syscall="socket", arg="AF_INET")
    assert r["step"] == "socket", r


def test_host_abstract_unix_socket_unreachable():
    name = f"ward-test-{os.getpid()}"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        srv.bind("\0" + name)
        srv.listen(1)
        # Control: on the host the probe connects.
        works(run_probe_host("abstract-connect", name))
        # Default sandbox: another network namespace, where the name does not
        # exist.
        r = blocked(run_probe("abstract-connect", name), "ECONNREFUSED")
        assert r["step"] == "connect", r
        # In the host's network namespace (network.host) the name exists;
        # Landlock's abstract-socket scoping still refuses it.
        r = blocked(run_probe("abstract-connect", name, allow=["network.host"]), "EPERM")
        assert r["step"] == "connect", r
    finally:
        srv.close()


# ---------------------------------------------------------------- terminals and devices

def test_tiocsti_denied():
    master, slave = os.openpty()
    try:
        r = run_probe("isatty", "0", stdin=slave)
        works(r)  # the probe really has a terminal on fd 0
        denied("tiocsti", "0", stdin=slave, syscall="ioctl", arg="TIOCSTI")
    finally:
        os.close(master)
        os.close(slave)


def test_mknod_denied():
    # Landlock refuses to create device nodes anywhere: EACCES, which only
    # it gives (its check comes before the capability check).
    blocked(run_probe("mknod", "/tmp/probe-null"), "EACCES")
    # Landlock left out: the missing CAP_MKNOD says EPERM on its own; and
    # even with every capability of its user namespace, device nodes are
    # for the host's CAP_MKNOD only.
    blocked(run_layers("mknod", "/tmp/probe-null", drop=["landlock"]), "EPERM")
    blocked(run_layers("mknod", "/tmp/probe-null", drop=["landlock", "caps"]), "EPERM")


@pytest.mark.parametrize("disk", ["/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/xvda"])
def test_raw_disk_invisible(disk):
    if not os.path.exists(disk):
        pytest.skip(f"{disk} does not exist on this machine")
    blocked(run_probe("open", disk, "r"), "ENOENT")


def test_open_by_handle_at_denied():
    # The "shocker" escape: the filter refuses it (its record), ...
    denied("open-by-handle", "/etc/hostname", syscall="open_by_handle_at")
    works(run_probe_host("open-by-handle", "/etc/hostname"))
    # ... and so does the kernel without it: CAP_DAC_READ_SEARCH of the
    # host's user namespace, which no capability of the sandbox's gives.
    blocked(run_layers("open-by-handle", "/etc/hostname", drop=["seccomp", "landlock", "caps"]),
            "EPERM")


# ---------------------------------------------------------------- files

def test_write_usr_denied():
    # The read-only bind answers (EROFS) before Landlock is asked.
    blocked(run_probe("create-remove", "/usr/ward-probe-test"), "EROFS")
    assert not os.path.exists("/usr/ward-probe-test")


def test_write_etc_denied():
    blocked(run_probe("create-remove", "/etc/ward-probe-test"), "EROFS")
    assert not os.path.exists("/etc/ward-probe-test")


@pytest.mark.parametrize("target", ["/usr", "/etc"])
def test_write_system_dir_landlock_alone(started, entered, make_tmpdir, target):
    # If the read-only bind failed (made on purpose: a writable host
    # directory, mode 0777, attached over TARGET in the running sandbox),
    # Landlock alone still refuses to create a file there: EACCES.
    d = make_tmpdir(mode=0o777)
    s = started("create-remove", "-")
    entered.mount(s, d, target)
    blocked(s.finish(f"{target}/ward-probe-test"), "EACCES")
    # Control: Landlock left out, the file is created (and removed).
    s = started("create-remove", "-", drop=["landlock"])
    entered.mount(s, d, target)
    works(s.finish(f"{target}/ward-probe-test"))


def test_read_root_home_absent():
    assert os.path.isdir("/root")
    blocked(run_probe("ls", "/root"), "ENOENT")


def test_read_etc_shadow_denied():
    if not os.path.exists("/etc/shadow"):
        pytest.skip("no /etc/shadow")
    # Readable by host root only; the sandbox's root is not host root.
    blocked(run_probe("open", "/etc/shadow", "r"), "EACCES")
    works(run_probe_host("open", "/etc/shadow", "r"))


def test_write_proc_self_exe_denied():
    # A running binary cannot be opened for writing by anybody (ETXTBSY, the
    # kernel's answer, also to the host's root): that proves nothing about
    # ward, and once the program stops running it no longer holds.
    assert run_probe_host("open", "/proc/self/exe", "w").errno == "ETXTBSY"
    # What ward stops is the write to the file the sandbox runs from: the
    # helpers' directory, where a binary that is not running (layerdrop,
    # beside the probe) is writable by the host's root (control) ...
    other = os.path.join(HELPERS, "layerdrop")
    works(run_probe_host("open", other, "w"))
    # ... and read-only in the sandbox: EROFS from the read-only bind (the
    # grant's idmapping makes the sandbox the owner, so the mode allows it).
    # Rootless, no idmapping: root's file is not the user's, and the host's
    # own permission check answers first (tests/rootless proves the
    # read-only bind with a file of the user's).
    blocked(run_probe("open", other, "w"), "EACCES" if rootless() else "EROFS")


def test_write_init_exe_denied():
    # /proc/1/exe is ward's own binary on the host (init is a fork of ward):
    # writing it would be runc's CVE-2019-5736.
    # Following the link needs ptrace access to init, the host's root: the
    # sandbox's uid and user namespace are another's (EACCES), also with
    # Landlock (whose ptrace scoping refuses it too) and the capability drop
    # left out.  (Were it opened, ETXTBSY would follow: ward is running.)
    blocked(run_probe("open", "/proc/1/exe", "w"), "EACCES")
    blocked(run_layers("open", "/proc/1/exe", "r", drop=["seccomp", "landlock", "caps"]),
            "EACCES")


# ---------------------------------------------------------------- processes

def test_host_processes_invisible():
    r = works(run_probe("pids"))
    # Only ward's init (1) and the probe itself (2).
    assert r["pids"] == "1,2", r
    assert r["self"] == "2" and r["ppid"] == "1", r


def test_ptrace_init_denied():
    denied("ptrace", "1", syscall="ptrace")


def test_ptrace_child_denied():
    denied("ptrace-child", syscall="ptrace")
    # Control: process.debug grants exactly this.
    works(run_probe("ptrace-child", allow=["process.debug"]))


def test_ptrace_host_process_denied(spawned):
    sleeper = spawned(["sleep", "60"])
    # The filter refuses ptrace(2) first ...
    denied("ptrace", sleeper.pid, syscall="ptrace")
    # ... and behind it the host pid does not exist in the sandbox's pid
    # namespace (ESRCH, only the namespace's answer).
    blocked(run_layers("ptrace", sleeper.pid, drop=["seccomp", "landlock", "caps"]), "ESRCH")
    assert sleeper.poll() is None


def test_kill_host_process_denied(spawned):
    sleeper = spawned(["sleep", "60"])
    blocked(run_probe("kill", sleeper.pid, "9"), "ESRCH")
    assert sleeper.poll() is None, "the host process was killed from inside the sandbox"


def test_kill_init_denied():
    blocked(run_probe("kill", "1", "9"), "EPERM")
    if not rootless():
        # Init is another host uid: refused without Landlock too.
        blocked(run_layers("kill", "1", "0", drop=["landlock", "caps"]), "EPERM")
        return
    # Rootless: init is the user's uid, as the program is (no uid pool), so
    # the kernel's signal check passes without Landlock: Landlock's signal
    # scoping alone refuses (filter and capability drop left out), and
    # without it the signal reaches init, which forwards it to the program
    # (docs/threat-model/rootless.md: the program could signal itself).
    blocked(run_layers("kill", "1", "0", drop=["seccomp", "caps"]), "EPERM")
    works(run_layers("kill", "1", "0", drop=["landlock", "caps"]))


def test_signal_scoping_alone(started, entered):
    # A process of the sandbox's own user that entered it from outside is in
    # no Landlock domain: only Landlock's signal scoping refuses the signal.
    s = started("kill", "-", "0")
    _, inside = entered.sleeper(s)
    blocked(s.finish(str(inside)), "EPERM")
    s = started("kill", "-", "0", drop=["landlock"])
    _, inside = entered.sleeper(s)
    works(s.finish(str(inside)))  # control


def test_chroot_denied():
    denied("chroot", "/tmp", syscall="chroot")
    works(run_probe("chroot", "/tmp", allow=["security.user"]))


# ---------------------------------------------------------------- namespaces

@pytest.mark.parametrize("ns", ["user", "mnt", "net", "pid", "ipc", "uts", "cgroup", "time"])
def test_unshare_denied(ns):
    denied("unshare", ns, syscall="unshare")


def test_clone_with_namespace_flags_denied():
    denied("clone", "user", syscall="clone", arg="CLONE_NEWUSER")
    # clone3 hides its flags from seccomp behind a pointer: refused outright
    # with ENOSYS, so libc falls back to clone(2), whose flags are checked.
    blocked(run_probe("clone3", "user"), "ENOSYS")


def test_setns_denied():
    # init's namespaces belong to host root: not even openable.
    r = blocked(run_probe("setns", "/proc/1/ns/net", "net"), "EACCES")
    assert r["step"] == "open", r
    # Its own namespace file opens, but setns(2) is refused.
    r = denied("setns", "/proc/self/ns/net", "net", syscall="setns")
    assert r["step"] == "setns", r


# ---------------------------------------------------------------- privilege state

def test_no_capabilities_left():
    r = works(run_probe("caps"))
    for s in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(r[s], 16) == 0, r
    # Control: the probe reads real values (root on the host has some).
    assert int(run_probe_host("caps")["CapEff"], 16) != 0


def test_no_new_privs_set():
    assert works(run_probe("nnp"))["nnp"] == "1"
    assert works(run_probe("status", "NoNewPrivs"))["NoNewPrivs"] == "1"


def test_seccomp_filter_installed():
    assert works(run_probe("status", "Seccomp"))["Seccomp"] == "2"


# lsm_list_modules(2), Linux 6.8: newer than the libseccomp ward builds with,
# so no rule of the profile can name it; the kernel implements it (the host
# gets EFAULT for a NULL buffer).
UNKNOWN_SYSCALL = 461


def test_unknown_syscall_gets_enosys():
    if os.uname().machine != "x86_64":
        pytest.skip("the syscall number is x86_64's")
    host = run_probe_host("syscall", UNKNOWN_SYSCALL)
    if host.errno == "ENOSYS":
        pytest.skip("this kernel has no lsm_list_modules(2)")
    # The filter's default action: ENOSYS (libc falls back), not the
    # kernel's answer, and not the EPERM of a known-denied syscall.
    r = blocked(run_layers("syscall", UNKNOWN_SYSCALL), "ENOSYS")
    assert not r.denials, r.denials  # not one of the notified EPERM denials
    # Control: without the filter, the kernel's own answer comes back.
    c = run_layers("syscall", UNKNOWN_SYSCALL, drop=["seccomp"])
    assert c.errno == host.errno, c


# ---------------------------------------------------------------- descriptors

def test_inherited_fd_invisible(tmpdir_real):
    path = os.path.join(tmpdir_real, "secret")
    with open(path, "w") as f:
        f.write("host secret\n")
    fd = os.open(path, os.O_RDONLY)  # not O_CLOEXEC once made inheritable
    try:
        os.set_inheritable(fd, True)
        r = works(run_probe("fds", pass_fds=(fd,)))
        assert r["fds"] == "0,1,2", r
        # Control: the same fd is visible to the probe on the host.
        p = subprocess.run(["/bin/ls", f"/proc/self/fd/{fd}"], pass_fds=(fd,),
                           capture_output=True)
        assert p.returncode == 0
    finally:
        os.close(fd)

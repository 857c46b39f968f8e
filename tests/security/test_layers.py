# SPDX-License-Identifier: GPL-2.0-or-later
"""Each layer alone: for every (operation, layer) pair of `ward explain`'s
defense-in-depth matrix, a test that shows that layer stops the operation
on its own.

A sandbox-level test that only sees "EPERM" cannot tell the layers apart:
the kernel's own checks give the same answer when ward's filter is gone.
So each test here uses one of three kinds of evidence:

  - the syscall filter's own record of the denial (ward's --denials-log);
  - an errno only that layer gives (Landlock's EACCES on a TCP connect,
    ESRCH from a pid namespace, ENETUNREACH from a network namespace with
    lo down, ENOENT from the view);
  - the other layers left out by tests/helpers/layerdrop (ptrace: the
    syscalls that apply them become no-ops while ward sets the sandbox up;
    ward has no test switch), so that only the layer under test is left,
    with a control run that leaves it out too and shows the operation then
    works (or reaches the kernel's argument checks).

PROOFS maps each pair to its test; test_every_matrix_pair_is_proven reads
`ward explain --json` for a set of policies and fails for a pair that has
no test, so a new matrix entry needs one.  docs/testing.md and
docs/threat-model/layers.md list the pairs and the mutation results.
"""

import ast
import json
import os
import re
import shutil
import socket
import subprocess

import pytest

from conftest import (HELPERS, PROBE, REPO, ROOTLESS_MODULES, WARD, as_user_argv, rootless,
                      run_probe_host, run_ward)
from layerlib import entered, need_layerdrop, run_layers, started  # noqa: F401

# Tests that run as root and as the rootless test user (docs/testing.md).
BOTH_MODES = pytest.mark.parametrize("ward_mode", ["root", "rootless"], indirect=True)

# ---------------------------------------------------------------- the matrix

# (operation, regular expression matched against the start of the layer's
# text, the test that proves the layer alone stops it).  A test name with
# "::" lives in another file (relative to the repository).
PROOFS = [
    ("mount a filesystem", r"seccomp: mount\(2\)", "test_filter_denies"),
    ("mount a filesystem", r"capabilities: no CAP_SYS_ADMIN", "test_mount_caps_alone"),
    ("mount a filesystem", r"namespaces: the mount namespace belongs to the host",
     "test_mount_userns_alone"),
    ("mount a filesystem", r"landlock: a Landlock-restricted process cannot change",
     "test_mount_landlock_alone"),

    ("ptrace another process", r"namespaces: only the sandbox's own processes",
     "test_pidns_alone"),
    ("ptrace another process", r"seccomp: ptrace\(2\)", "test_filter_denies"),
    ("ptrace another process", r"identity: a host uid range of its own",
     "test_identity_alone_ptrace"),
    ("ptrace another process", r"landlock: ptrace limited", "test_landlock_alone_ptrace"),

    ("read another environment's memory", r"namespaces: other environments' processes",
     "test_pidns_alone"),
    ("read another environment's memory", r"seccomp: process_vm_readv\(2\)",
     "test_filter_denies"),
    ("read another environment's memory", r"identity: a host uid range of its own",
     "test_identity_alone_ptrace"),
    ("read another environment's memory", r"landlock: ptrace-class access",
     "test_landlock_alone_ptrace"),

    ("use the kernel keyring", r"seccomp: keyctl\(2\)", "test_filter_denies"),
    ("use the kernel keyring", r"mounts: /proc/keys masked", "test_proc_keys_masked"),
    ("use the kernel keyring", r"identity: keys of the host's users",
     "test_keyring_identity_alone"),

    ("load a kernel module", r"seccomp: init_module\(2\)", "test_filter_denies"),
    ("load a kernel module", r"capabilities: no CAP_SYS_MODULE", "test_caps_alone"),
    ("load a kernel module", r"namespaces: capabilities in a user namespace never reach",
     "test_userns_alone"),

    ("open a raw or packet socket", r"seccomp: socket\(AF_PACKET\)", "test_filter_denies"),
    ("open a raw or packet socket", r"capabilities: no CAP_NET_RAW", "test_caps_alone"),
    ("open a raw or packet socket", r"namespaces: CAP_NET_RAW only over a network namespace",
     "test_raw_socket_in_a_netns_it_does_not_own"),
    ("open a raw or packet socket", r"namespaces: own network namespace \(nothing",
     "test_userns_alone"),

    ("change the system clock", r"seccomp: clock_settime\(2\)", "test_filter_denies"),
    ("change the system clock", r"capabilities: no CAP_SYS_TIME", "test_caps_alone"),
    ("change the system clock", r"namespaces: CAP_SYS_TIME counts only",
     "test_userns_alone"),

    ("load a BPF program", r"seccomp: bpf\(2\)", "test_filter_denies"),
    ("load a BPF program", r"capabilities: no CAP_BPF", "test_caps_alone"),
    ("load a BPF program", r"namespaces: privileged BPF needs", "test_userns_alone"),

    ("open perf events", r"seccomp: perf_event_open\(2\)", "test_filter_denies"),
    ("open perf events", r"capabilities: no CAP_PERFMON", "test_caps_alone"),

    ("inject keystrokes with TIOCSTI", r"seccomp: ioctl\(TIOCSTI\)", "test_filter_denies"),
    ("inject keystrokes with TIOCSTI", r"process: a new session without a controlling",
     "test_tiocsti_session_alone"),

    ("fork bomb", r"cgroups: pids.max", "test_fork_bomb_pids_cgroup_alone"),
    ("fork bomb", r"rlimits: RLIMIT_NPROC", "test_fork_bomb_rlimit_alone"),

    ("memory bomb", r"cgroups: memory limit", "test_memory_bomb_cgroup_alone"),

    ("read the host's private files (/root, homes)", r"mounts: not in the sandbox's view",
     "test_host_files_view_alone"),
    ("read the host's private files (/root, homes)", r"landlock: no rule grants them",
     "test_host_files_landlock_alone"),
    ("read the host's private files (/root, homes)", r"identity: unmapped host owners",
     "test_host_files_identity_alone"),

    ("reach the network", r"namespaces: own network namespace with loopback only",
     "test_network_netns_alone"),
    ("reach the network", r"seccomp: socket\(2\) only for AF_UNIX", "test_filter_denies"),
    ("reach the network", r"landlock: TCP bind and connect denied", "test_tcp_landlock_alone"),
    ("reach the network", r"landlock: abstract Unix sockets scoped",
     "test_abstract_socket_landlock_alone"),
    ("reach the network", r"landlock: TCP connect and bind only to the granted ports",
     "tests/network/test_ports.py::test_connect_reaches_only_the_granted_port"),
    ("reach the network", r"capabilities: no CAP_NET_ADMIN", "test_net_admin_caps_alone"),
    ("reach the network", r"namespaces: own network namespace; one veth",
     "test_veth_netns_alone"),
    ("reach the network", r"namespaces: no service of the host itself is reachable",
     "tests/network/test_outbound.py::test_sandbox_reaches_no_service_of_the_host"),
    ("reach the network", r"namespaces: an isolated bridge port",
     "tests/network/test_outbound.py::test_sandboxes_cannot_reach_each_other"),
    ("reach the network", r"nftables: inside its namespace only",
     "tests/network/test_ports.py::test_udp_is_filtered_by_nftables_alone"),
    ("reach the network", r"nftables: on the host, forwarded only",
     "tests/network/test_ports.py::test_connect_reaches_only_the_granted_port"),

    ("leave a set-id file on the host", r"seccomp: chmod, open\(O_CREAT/O_TMPFILE\)",
     "tests/security/test_core_holes.py::test_setid_modes_never_reach_the_host"),
    ("leave a set-id file on the host", r"capabilities: never CAP_FSETID",
     "test_fsetid_caps_alone"),

    ("leave a file capability on the host", r"capabilities: no CAP_SETFCAP",
     "tests/security/test_core_holes.py::test_file_capability_capability_layer"),
    ("leave a file capability on the host", r"seccomp: no user namespace can be made",
     "tests/security/test_escape.py::test_unshare_denied"),
    ("leave a file capability on the host", r"seccomp: set\*xattr of a 20- or 24-byte value",
     "tests/security/test_core_holes.py::test_file_capability_from_nested_userns_filtered"),

    ("execute what the program wrote", r"pid namespace: vm.memfd_noexec=2",
     "test_memfd_noexec_alone"),
    ("execute what the program wrote", r"seccomp: memfd_create\(MFD_EXEC\) refused",
     "tests/security/test_core_holes.py::test_memfd_bytes_cannot_be_executed"),
    ("execute what the program wrote", r"landlock: execute only beneath",
     "test_exec_landlock_alone"),
    ("execute what the program wrote", r"mounts: /tmp, /dev/shm and fs.write grants noexec",
     "test_exec_noexec_alone"),
    ("execute what the program wrote into a fs.write grant", r"mounts: fs.write grants noexec",
     "test_exec_grant_noexec_alone"),
    ("execute what the program wrote into a fs.write grant", r"landlock: execute only beneath",
     "test_exec_grant_landlock_alone"),

    ("gain privileges through a setuid program", r"no_new_privs: set",
     "test_setuid_nnp_alone"),
    ("gain privileges through a setuid program", r"mounts: every mount is nosuid",
     "test_setuid_nosuid_alone"),
    ("gain privileges through a setuid program", r"identity: setuid-root files belong",
     "test_setuid_identity_alone"),
]

# The policies whose matrices are checked: the default and every policy
# that changes a row.
POLICIES = [
    [], ["security.user"], ["security.admin"], ["host.time"], ["process.setuid"],
    ["process.debug"], ["network.loopback"], ["network.outbound"],
    ["network.connect=10.0.0.1:80"], ["network.listen=8080"], ["network.host"],
    ["network.outbound", "security.user"], ["fs.scratch.noexec"],
]


# Rootless mode (`ward explain` as an ordinary user): the matrix drops the
# identity rows (every sandbox of a user is that user's uid) and
# vm.memfd_noexec (the host's), and names two layers differently.  A pair
# is proven in rootless mode by a test that runs there too (BOTH_MODES
# here, or a module of ROOTLESS_MODULES), found in PROOFS or in
# ROOTLESS_PROOFS; or it is in ROOTLESS_UNPROVEN with the reason.
ROOTLESS_PROOFS = [
    # Filter, Landlock and capability drop left out: the program holds
    # CAP_SYS_ADMIN of its own (nested) user namespace, and the mount
    # namespace belongs to init's: EPERM; in a mount namespace of its own the
    # mount works.
    ("mount a filesystem",
     r"namespaces: the mount namespace belongs to init's user namespace, not the program's",
     "test_mount_userns_alone"),
]

# Pairs no test proves alone in rootless mode, and why.  layerdrop runs as
# the user: it cannot leave the user namespace out (there is no host uid 0
# to fall back to), and a set-id newuidmap it traces loses its privilege
# (so nothing that needs subordinate ranges, such as security.user, starts
# under it).  Each of these layers is still in place, and the
# battery's [rootless] runs show the operation blocked; what is missing is
# the proof that this one layer, alone, would block it.
_NO_USERNS_DROP = ("the capability layer alone needs the user namespace left out, which "
                   "the user cannot; the user namespace answers first")
_NO_SUBIDS = ("its proof needs a second uid inside the sandbox (subordinate ranges): the "
              "set-id newuidmap loses its privilege under layerdrop's ptrace")
ROOTLESS_UNPROVEN = {
    ("load a kernel module", r"capabilities: no CAP_SYS_MODULE"): _NO_USERNS_DROP,
    ("load a kernel module", r"namespaces: capabilities in a user namespace never reach"):
        "its control leaves the user namespace out",
    ("open a raw or packet socket", r"capabilities: no CAP_NET_RAW"): _NO_USERNS_DROP,
    ("open a raw or packet socket", r"namespaces: own network namespace \(nothing"):
        "its control leaves the user namespace out",
    ("change the system clock", r"capabilities: no CAP_SYS_TIME"): _NO_USERNS_DROP,
    ("change the system clock", r"namespaces: CAP_SYS_TIME counts only"):
        "its control leaves the user namespace out",
    ("load a BPF program", r"capabilities: no CAP_BPF"): _NO_USERNS_DROP,
    ("load a BPF program", r"namespaces: privileged BPF needs"):
        "its control leaves the user namespace out",
    ("open perf events", r"capabilities: no CAP_PERFMON"): _NO_USERNS_DROP,
    ("leave a set-id file on the host", r"capabilities: never CAP_FSETID"): _NO_USERNS_DROP,
    ("open a raw or packet socket", r"namespaces: CAP_NET_RAW only over"): _NO_SUBIDS,
    # network.outbound/connect/listen: the user's router (docs/network.md)
    # maps a uid range with newuidmap, which does not start under layerdrop.
    # The layers are shown together, not alone, by
    # tests/network/test_rootless_net.py and
    # tests/security/test_rootless_net_holes.py.  (`ward explain` as the user
    # still says "on the host" and "ward_nat" for rules that are in the
    # router's namespace: docs/threat-model/layers.md.)
    ("reach the network", r"namespaces: own network namespace; one veth"): _NO_SUBIDS,
    ("reach the network", r"namespaces: no service of the host itself"): _NO_SUBIDS,
    ("reach the network", r"namespaces: an isolated bridge port"): _NO_SUBIDS,
    ("reach the network", r"nftables: "): _NO_SUBIDS,
    ("reach the network", r"landlock: TCP connect and bind only to the granted ports"):
        _NO_SUBIDS,
    ("reach the network", r"capabilities: no CAP_NET_ADMIN"): _NO_SUBIDS,
    ("gain privileges through a setuid program", r"no_new_privs: set"): _NO_SUBIDS,
    ("gain privileges through a setuid program", r"mounts: every mount is nosuid"): _NO_SUBIDS,
    ("gain privileges through a setuid program", r"identity: setuid-root files belong"):
        _NO_SUBIDS,
}


def matrix(policy):
    args = ["explain", "--json"]
    for a in policy:
        args += ["--allow", a]
    r = run_ward(*args)
    assert r.returncode == 0, r
    return json.loads(r.stdout)["defense_in_depth"]


def _defined(name):
    if "::" not in name:
        return callable(globals().get(name))
    path, func = name.split("::")
    with open(os.path.join(REPO, path)) as f:
        tree = ast.parse(f.read())
    return any(isinstance(n, ast.FunctionDef) and n.name == func for n in tree.body)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: ",".join(p) or "default")
def test_every_matrix_pair_is_proven(policy):
    missing = []
    for row in matrix(policy):
        for layer in row["layers"]:
            found = [t for op, rx, t in PROOFS
                     if op == row["operation"] and re.match(rx, layer)]
            if len(found) != 1:
                missing.append(f"{row['operation']!r} / {layer!r}: "
                               f"{'no test' if not found else 'several: ' + str(found)}")
            elif not _defined(found[0]):
                missing.append(f"{row['operation']!r} / {layer!r}: {found[0]} does not exist")
    assert not missing, ("matrix entries without a test that proves the layer alone "
                         "(add one to PROOFS in tests/security/test_layers.py):\n  " +
                         "\n  ".join(missing))


def _runs_rootless(name):
    """Does the proof NAME also run as the rootless test user?"""
    if "::" in name:
        return os.path.basename(name.split("::")[0]) in ROOTLESS_MODULES
    for m in getattr(globals().get(name), "pytestmark", []):
        if m.name == "parametrize" and m.args[0] == "ward_mode" and "rootless" in m.args[1]:
            return True
    return False


def _rootless_unproven(op, layer):
    return [k for k in ROOTLESS_UNPROVEN if k[0] == op and re.match(k[1], layer)]


@pytest.mark.parametrize("ward_mode", ["rootless"], indirect=True)
@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: ",".join(p) or "default")
def test_every_rootless_matrix_pair_is_proven(policy, ward_mode):
    r = run_ward("explain", "--json", *[x for a in policy for x in ("--allow", a)])
    if r.returncode != 0:
        # An entitlement that needs host privilege: refused by name.
        assert r.stderr.startswith("ward: "), r
        return
    missing = []
    for row in json.loads(r.stdout)["defense_in_depth"]:
        for layer in row["layers"]:
            op = row["operation"]
            found = [t for o, rx, t in ROOTLESS_PROOFS + PROOFS
                     if o == op and re.match(rx, layer)]
            unproven = _rootless_unproven(op, layer)
            if unproven:
                continue
            if not found:
                missing.append(f"{op!r} / {layer!r}: no test")
            elif not _defined(found[0]) or not _runs_rootless(found[0]):
                missing.append(f"{op!r} / {layer!r}: {found[0]} does not run rootless")
    assert not missing, ("rootless matrix entries without a rootless proof (run the proof "
                         "in both modes, add one to ROOTLESS_PROOFS, or say why in "
                         "ROOTLESS_UNPROVEN):\n  " + "\n  ".join(missing))


@pytest.mark.parametrize("ward_mode", ["rootless"], indirect=True)
@pytest.mark.parametrize("policy", [["network.outbound"], ["network.connect=10.0.0.1:80"]],
                         ids=lambda p: p[0])
def test_rootless_matrix_names_the_router(ward_mode, policy):
    # As the user, the network rows name the user's router (docs/network.md),
    # not the host's ward0, NAT or input chain, which a rootless sandbox
    # never touches.
    layers = [layer for row in matrix(policy) if row["operation"] == "reach the network"
              for layer in row["layers"]]
    text = "\n".join(layers)
    assert "router" in text, layers
    for root_only in ("ward_nat", "on the host", "through the host", "NAT to the host"):
        assert root_only not in text, layers


@pytest.mark.parametrize("ward_mode", ["rootless"], indirect=True)
def test_every_rootless_exception_names_a_matrix_entry(ward_mode):
    # An entry of ROOTLESS_PROOFS or ROOTLESS_UNPROVEN that no rootless
    # matrix lists any more is stale.
    seen = set()
    for policy in POLICIES:
        r = run_ward("explain", "--json", *[x for a in policy for x in ("--allow", a)])
        if r.returncode != 0:
            continue
        for row in json.loads(r.stdout)["defense_in_depth"]:
            for layer in row["layers"]:
                seen |= {(o, rx) for o, rx, _ in ROOTLESS_PROOFS
                         if o == row["operation"] and re.match(rx, layer)}
                seen |= set(_rootless_unproven(row["operation"], layer))
    stale = [k for k in [(o, rx) for o, rx, _ in ROOTLESS_PROOFS] + list(ROOTLESS_UNPROVEN)
             if k not in seen]
    assert not stale, f"rootless entries no matrix lists any more: {stale}"


def test_every_proof_names_a_matrix_entry():
    # A proof whose entry left the matrix is stale: remove or rename it.
    seen = set()
    for policy in POLICIES:
        for row in matrix(policy):
            for layer in row["layers"]:
                for op, rx, t in PROOFS:
                    if op == row["operation"] and re.match(rx, layer):
                        seen.add((op, rx))
    stale = [(op, rx) for op, rx, _ in PROOFS if (op, rx) not in seen]
    assert not stale, f"PROOFS entries no matrix lists any more: {stale}"


# ---------------------------------------------------------------- helpers

def blocked(r, *errnos):
    assert r.returncode == 0, r
    assert not r.ok, f"the attempt SUCCEEDED: {r}"
    assert r.errno in errnos, r
    return r


def works(r):
    assert r.returncode == 0, r
    assert r.ok, r
    return r


def cap_bit(r, name, bit):
    """The probe's effective set holds capability BIT: the layer under test
    is not the capability layer."""
    eff = int(r["CapEff"], 16)
    assert eff >> bit & 1, f"{name} is not effective: {r}"


CAP = {"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_SYS_MODULE": 16, "CAP_SYS_ADMIN": 21,
       "CAP_SYS_TIME": 25, "CAP_PERFMON": 38, "CAP_BPF": 39}


@pytest.fixture
def host_sleeper(spawned):
    """A host process the test started (not in any sandbox)."""
    p = spawned(["sleep", "120"])
    return p.pid


def pty_with_controlling_terminal():
    """A pty and a preexec_fn that makes it the controlling terminal of the
    new session the child starts (as for a shell in a terminal)."""
    import fcntl
    import termios
    master, slave = os.openpty()

    def preexec():
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    return master, slave, preexec


# ---------------------------------------------------------------- the filter's own record

# Each operation of the matrix that the filter denies: the probe command
# and the denial record (syscall, argument) it must leave.
FILTERED = {
    "mount": (["mount-tmpfs"], "mount", None),
    "fsopen": (["fsopen", "tmpfs"], "fsopen", None),
    "open_tree": (["open-tree", "/usr"], "open_tree", None),
    "ptrace": (["ptrace", "1"], "ptrace", None),
    "process_vm_readv": (["vm-read", "1"], "process_vm_readv", None),
    "keyctl": (["keyctl"], "keyctl", None),
    "add_key": (["add-key"], "add_key", None),
    "init_module": (["init-module"], "init_module", None),
    "finit_module": (["finit-module"], "finit_module", None),
    "packet": (["socket", "packet"], "socket", "AF_PACKET"),
    "inet": (["socket", "inet"], "socket", "AF_INET"),
    "inet6": (["socket", "inet6"], "socket", "AF_INET6"),
    "clock_settime": (["clock-invalid"], "clock_settime", None),
    "settimeofday": (["settimeofday-tz"], "settimeofday", None),
    "bpf": (["bpf-prog"], "bpf", None),
    "perf_event_open": (["perf"], "perf_event_open", None),
}


@pytest.mark.parametrize("op", sorted(FILTERED))
@BOTH_MODES
def test_filter_denies(op):
    probe_args, syscall, arg = FILTERED[op]
    r = blocked(run_layers(*probe_args), "EPERM")
    assert r.filter_denied(syscall, arg), (
        f"EPERM, but the syscall filter did not record {syscall}({arg or ''}): "
        f"another layer answered, and the filter's rule is missing\n{r!r}\n{r.denials}")


@BOTH_MODES
def test_filter_denies_tiocsti():
    master, slave = os.openpty()
    try:
        r = blocked(run_layers("tiocsti", "0", stdin=slave), "EPERM")
    finally:
        os.close(master)
        os.close(slave)
    assert r.filter_denied("ioctl", "TIOCSTI"), (r, r.denials)


# ---------------------------------------------------------------- capabilities alone
#
# The program keeps its user namespace's uid 0 but every namespace it is in
# belongs to the host's user namespace, so a capability it held there would
# not count anyway: the user namespace is a second layer behind the
# capability drop.  To see the capability layer alone, layerdrop also
# leaves the user namespace out (the program is the host's uid 0, its
# capabilities dropped by ward) and the filter.  Control: the same with the
# capability drop left out too: the operation then works.

CAPS_ALONE = {
    # name: (probe command, errno refused, capability it needs)
    "module": (["init-module"], "EPERM", "CAP_SYS_MODULE"),
    "clock": (["adjtimex-tick"], "EPERM", "CAP_SYS_TIME"),
    "bpf": (["bpf-prog"], "EPERM", "CAP_BPF"),
    "perf": (["perf-kernel"], "EACCES", "CAP_PERFMON"),
    "packet": (["socket", "packet"], "EPERM", "CAP_NET_RAW"),
}


def skip_without_modules():
    if run_probe_host("init-module").errno == "ENOSYS":
        pytest.skip("this kernel cannot load modules at all (init_module: ENOSYS for host "
                    "root): no layer has anything to stop")


@pytest.mark.parametrize("name", sorted(CAPS_ALONE))
def test_caps_alone(name):
    cmd, errno, cap = CAPS_ALONE[name]
    if name == "module":
        skip_without_modules()
    if name == "perf" and open("/proc/sys/kernel/perf_event_paranoid").read().strip() in (
            "-1", "0", "1"):
        pytest.skip("perf_event_paranoid < 2: kernel profiling needs no capability here")
    # The program is the host's uid 0 here, and holds no capability.
    ids = works(run_layers("ids", drop=["seccomp", "userns"]))
    assert ids["uid"] == "0", ids
    assert int(works(run_layers("caps", drop=["seccomp", "userns"]))["CapEff"], 16) == 0
    r = blocked(run_layers(*cmd, drop=["seccomp", "userns"]), errno)
    assert not r.denials, r.denials
    # Control: with the capability drop left out as well, it works.
    c = run_layers(*cmd, drop=["seccomp", "userns", "caps"])
    assert c.returncode == 0 and c.errno != errno, c


@BOTH_MODES
def test_mount_caps_alone():
    # Without a user namespace of its own, a mount namespace of its own needs
    # CAP_SYS_ADMIN in the program's user namespace: the capability layer
    # alone refuses unshare(CLONE_NEWNS) (filter and Landlock left out).
    r = blocked(run_layers("mntns-mount", drop=["seccomp", "landlock"]), "EPERM")
    assert r["step"] == "unshare", r
    # Control: with the capability drop left out as well, it unshares and mounts.
    works(run_layers("mntns-mount", drop=["seccomp", "landlock", "caps"]))


# ---------------------------------------------------------------- the user namespace alone
#
# Filter, Landlock and capability drop left out: the program holds every
# capability of its own user namespace, and the kernel still refuses,
# because the namespaces it acts on (and module loading, the clock, BPF)
# belong to the host's user namespace.

USERNS_ALONE = {
    "module": (["init-module"], "EPERM", "CAP_SYS_MODULE"),
    "clock": (["adjtimex-tick"], "EPERM", "CAP_SYS_TIME"),
    "bpf": (["bpf-prog"], "EPERM", "CAP_BPF"),
    "packet": (["socket", "packet"], "EPERM", "CAP_NET_RAW"),
}


@pytest.mark.parametrize("name", sorted(USERNS_ALONE))
def test_userns_alone(name):
    cmd, errno, cap = USERNS_ALONE[name]
    if name == "module":
        skip_without_modules()
    drop = ["seccomp", "landlock", "caps"]
    cap_bit(works(run_layers("caps", drop=drop)), cap, CAP[cap])
    blocked(run_layers(*cmd, drop=drop), errno)
    # Control: without the user namespace (the host's uid 0, capabilities
    # kept), the same call works.
    c = run_layers(*cmd, drop=drop + ["userns"])
    assert c.returncode == 0 and c.errno != errno, c
    if name == "packet":
        # Its network namespace: nothing of the host to see.
        r = works(run_layers("netifs", drop=drop))
        assert r["ifs"] == "lo", r


@BOTH_MODES
def test_mount_userns_alone():
    drop = ["seccomp", "landlock", "caps"]
    cap_bit(works(run_layers("caps", drop=drop)), "CAP_SYS_ADMIN", CAP["CAP_SYS_ADMIN"])
    # The mount namespace ward made belongs to the host's user namespace.
    blocked(run_layers("mount-tmpfs", drop=drop), "EPERM")
    blocked(run_layers("remount-rw", "/usr", drop=drop), "EPERM")
    # Control: in a mount namespace of its own, the same mount works.
    works(run_layers("mntns-mount", drop=drop))


def test_raw_socket_in_a_netns_it_does_not_own():
    # security.user grants CAP_NET_RAW; the network namespace belongs to the
    # host's user namespace, so it does not count there (filter left out).
    drop = ["seccomp"]
    cap_bit(works(run_layers("caps", allow=["security.user"], drop=drop)), "CAP_NET_RAW",
            CAP["CAP_NET_RAW"])
    blocked(run_layers("socket", "packet", allow=["security.user"], drop=drop), "EPERM")
    blocked(run_layers("socket", "raw", allow=["security.user"], drop=drop), "EPERM")


# ---------------------------------------------------------------- Landlock alone

@BOTH_MODES
def test_mount_landlock_alone():
    # Filter and capability drop left out: a mount namespace of its own,
    # where CAP_SYS_ADMIN counts, and only Landlock refuses the mount.
    r = blocked(run_layers("mntns-mount", drop=["seccomp", "caps"]), "EPERM")
    assert r["step"] == "mount", r
    # Control: Landlock left out too, the mount works.
    works(run_layers("mntns-mount", drop=["seccomp", "caps", "landlock"]))
    # The same through a user namespace of its own, with the capability
    # drop in place: unshare(CLONE_NEWUSER|CLONE_NEWNS) gives the
    # capabilities back, and Landlock alone refuses the mount.  (Should
    # another layer come to refuse nested user namespaces, the unshare
    # fails instead: then there is nothing more to show here.)
    r = blocked(run_layers("userns-mount", drop=["seccomp"]), "EPERM")
    if r["step"] == "mount":
        works(run_layers("userns-mount", drop=["seccomp", "landlock"]))


@BOTH_MODES
def test_tcp_landlock_alone():
    # Filter left out: the network namespace would say ENETUNREACH (lo is
    # down); Landlock refuses first, with EACCES, which only it gives.
    r = blocked(run_layers("tcp-connect", "127.0.0.1", "22", drop=["seccomp"]), "EACCES")
    assert r["step"] == "connect", r
    r = blocked(run_layers("tcp-bind", "127.0.0.1", "8080", drop=["seccomp"]), "EACCES")
    assert r["step"] == "bind", r
    # Control: Landlock left out too: the namespace's answer.
    r = run_layers("tcp-connect", "127.0.0.1", "22", drop=["seccomp", "landlock"])
    assert r.errno == "ENETUNREACH", r


@BOTH_MODES
def test_abstract_socket_landlock_alone(started, entered):
    # A process outside the sandbox listens on an abstract socket inside the
    # sandbox's own network namespace: the name exists there, and only
    # Landlock's scoping stands between the program and it.
    name = f"ward-layers-{os.getpid()}"
    s = started("abstract-connect", "-", drop=["seccomp"])
    entered.abstract(s, name)
    r = blocked(s.finish(name), "EPERM")
    assert r["step"] == "connect", r
    # Control: Landlock left out, the program connects.
    s = started("abstract-connect", "-", drop=["seccomp", "landlock"])
    entered.abstract(s, name)
    works(s.finish(name))


def _same_user_target(started, entered, cmd, drop):
    s = started(cmd, "-", drop=drop)
    _, inside = entered.sleeper(s)
    return s.finish(str(inside))


@pytest.mark.parametrize("cmd,allowed", [("ptrace", None), ("vm-read", "EFAULT")])
@BOTH_MODES
def test_landlock_alone_ptrace(started, entered, cmd, allowed):
    # A process of the program's own user (same host uid, same user
    # namespace, visible in its pid namespace) enters the sandbox from
    # outside, as nsenter would: it is in no Landlock domain.  With the
    # filter left out, and the capability drop too (the target holds the
    # capabilities of uid 0 of the namespace; a tracer must hold at least
    # those), only Landlock's ptrace scoping refuses.
    blocked(_same_user_target(started, entered, cmd, ["seccomp", "caps"]), "EPERM")
    # Control: Landlock left out as well, the access works.
    c = _same_user_target(started, entered, cmd, ["seccomp", "caps", "landlock"])
    if allowed:
        assert c.errno == allowed, c
    else:
        works(c)


# ---------------------------------------------------------------- the pid namespace alone

@pytest.mark.parametrize("cmd,allowed", [("ptrace", None), ("vm-read", "EFAULT")])
@BOTH_MODES
def test_pidns_alone(host_sleeper, cmd, allowed):
    # Filter, Landlock and capability drop left out: a host process is not
    # there at all (ESRCH, which no other layer gives).
    blocked(run_layers(cmd, host_sleeper, drop=["seccomp", "landlock", "caps"]), "ESRCH")
    # Control: on the host, the probe reaches it.
    c = run_probe_host(cmd, host_sleeper)
    if allowed:
        assert c.errno == allowed, c
    else:
        works(c)


# ---------------------------------------------------------------- identity alone

@pytest.mark.parametrize("cmd,allowed", [("ptrace", None), ("vm-read", "EFAULT")])
def test_identity_alone_ptrace(started, entered, cmd, allowed):
    drop = ["seccomp", "landlock", "caps"]
    # Init is visible (pid 1) but host root: another uid, and capabilities of
    # the program's own user namespace do not reach it.
    blocked(run_layers(cmd, "1", drop=drop), "EPERM")
    # Control: the same call to a process of its own user works.
    c = _same_user_target(started, entered, cmd, drop)
    if allowed:
        assert c.errno == allowed, c
    else:
        works(c)


def test_keyring_identity_alone(spawned):
    # A key of the host's root, readable by its owner's uid only.
    holder = spawned([PROBE, "key-hold", "60"], stdout=subprocess.PIPE, text=True)
    line = holder.stdout.readline().split()
    assert line and line[0] == "ready", line
    serial = line[1].split("=")[1]
    works(run_probe_host("key-describe", serial))  # control: root, another process
    # Filter left out: the keyring is reachable, the key is another uid's.
    blocked(run_layers("key-describe", serial, drop=["seccomp"]), "EACCES")
    blocked(run_layers("key-describe", serial, drop=["seccomp", "landlock", "caps"]), "EACCES")


# ---------------------------------------------------------------- the mount layer alone

@BOTH_MODES
def test_proc_keys_masked():
    if not os.path.exists("/proc/keys"):
        pytest.skip("this kernel has no /proc/keys")
    drop = ["seccomp", "landlock", "caps"]
    r = works(run_layers("stat", "/proc/keys", drop=drop))
    assert r["type"] == "chr" and r["rdev"] == "1:3", r
    # A /dev/null on a nodev mount: not even openable.
    blocked(run_layers("file", "/proc/keys", drop=drop), "EACCES")
    assert os.stat("/proc/keys").st_rdev == 0  # control: a real file on the host


@pytest.fixture
def host_secrets(make_tmpdir):
    """A host directory with a world-readable file and a root-only file."""
    d = make_tmpdir()
    with open(os.path.join(d, "public"), "w") as f:
        f.write("public\n")
    with open(os.path.join(d, "private"), "w") as f:
        f.write("private\n")
    os.chmod(os.path.join(d, "public"), 0o644)
    os.chmod(os.path.join(d, "private"), 0o600)
    return d


@BOTH_MODES
def test_host_files_view_alone(host_secrets):
    drop = ["seccomp", "landlock", "caps"]
    # Not in the view: ENOENT, which neither Landlock (EACCES) nor file
    # permissions (EACCES) give, even for a world-readable file.
    blocked(run_layers("open", os.path.join(host_secrets, "public"), "r", drop=drop), "ENOENT")
    blocked(run_layers("ls", "/root", drop=drop), "ENOENT")
    works(run_probe_host("open", os.path.join(host_secrets, "public"), "r"))


@BOTH_MODES
def test_host_files_landlock_alone(started, entered, host_secrets):
    # A mount-layer failure made on purpose: the host directory appears in
    # the running sandbox's view (over /dev, whose Landlock rule is only
    # READ_DIR).  The file is world-readable: only Landlock refuses.
    s = started("open", "-", "r", drop=["seccomp"])
    entered.mount(s, host_secrets, "/dev")
    blocked(s.finish("/dev/public"), "EACCES")
    # Control: Landlock left out, the leaked file is readable.
    s = started("open", "-", "r", drop=["seccomp", "landlock"])
    entered.mount(s, host_secrets, "/dev")
    works(s.finish("/dev/public"))


def test_host_files_identity_alone(started, entered, host_secrets):
    # The same leak with Landlock and the capability drop left out: the
    # root-only file belongs to an unmapped owner, and the program's
    # CAP_DAC_OVERRIDE (of its own user namespace) does not reach it.
    drop = ["seccomp", "landlock", "caps"]
    s = started("open", "-", "r", drop=drop)
    entered.mount(s, host_secrets, "/dev")
    blocked(s.finish("/dev/private"), "EACCES")
    s = started("open", "-", "r", drop=drop)
    entered.mount(s, host_secrets, "/dev")
    works(s.finish("/dev/public"))  # control: the leak is real


# ---------------------------------------------------------------- the network namespace alone

@BOTH_MODES
def test_network_netns_alone():
    host = socket.socket()
    try:
        host.bind(("127.0.0.1", 0))
        host.listen(1)
        port = host.getsockname()[1]
        drop = ["seccomp", "landlock", "caps"]
        # The host's 127.0.0.1 is not the sandbox's, whose lo is down.
        r = blocked(run_layers("tcp-connect", "127.0.0.1", port, drop=drop), "ENETUNREACH")
        assert r["step"] == "connect", r
        assert works(run_layers("netifs", drop=drop))["ifs"] == "lo"
        works(run_probe_host("tcp-connect", "127.0.0.1", port))  # control
    finally:
        host.close()


def test_veth_netns_alone():
    # network.outbound: its own namespace holds lo and its veth, nothing of
    # the host's (filter, Landlock and capability drop left out).
    r = works(run_layers("netifs", allow=["network.outbound"],
                         drop=["seccomp", "landlock", "caps"]))
    assert sorted(r["ifs"].split(",")) == ["eth0", "lo"], r


def test_net_admin_caps_alone():
    # network.outbound without the user namespace and the filter: the host's
    # uid 0 in the sandbox's network namespace, without CAP_NET_ADMIN.
    r = blocked(run_layers("ifflags", "eth0", allow=["network.outbound"],
                           drop=["seccomp", "userns"]), "EPERM")
    assert r["step"] == "set", r
    works(run_layers("ifflags", "eth0", allow=["network.outbound"],
                     drop=["seccomp", "userns", "caps"]))


# ---------------------------------------------------------------- the session alone

@BOTH_MODES
def test_tiocsti_session_alone():
    if open("/proc/sys/dev/tty/legacy_tiocsti").read().strip() == "0":
        pytest.skip("dev.tty.legacy_tiocsti=0: the kernel refuses TIOCSTI to everyone")
    master, slave, preexec = pty_with_controlling_terminal()
    try:
        # ward runs in a terminal (the pty is its controlling terminal).
        # Filter left out: the program's new session has no controlling
        # terminal, and TIOCSTI into another terminal is refused.
        blocked(run_layers("tiocsti", "0", drop=["seccomp"], stdin=slave,
                           preexec_fn=preexec), "EPERM")
        # Control: the sessions left out too, the keystroke goes in.
        works(run_layers("tiocsti", "0", drop=["seccomp", "setsid"], stdin=slave,
                         preexec_fn=preexec))
    finally:
        os.close(master)
        os.close(slave)


# ---------------------------------------------------------------- set-user-ID

SUID_UID = 1000  # a uid of the sandbox's own range: mapped, not the program's


def _exec_suid(started, drop, owner):
    # The probe waits; the test puts a set-user-ID copy of the probe, owned
    # by OWNER (uid 1000 of the sandbox, or the host's root), into the
    # sandbox's private /tmp; the probe executes it.  Landlock and noexec
    # are left out (neither is a layer against set-user-ID programs, and
    # Landlock does not let /tmp execute).
    s = started("execv", "-", "ids", drop=["landlock", "noexec", *drop])
    uid = s.host_uid(SUID_UID) if owner == "sandbox" else 0
    path = f"/proc/{s.program}/root/tmp/suid-probe"
    shutil.copy(PROBE, path)
    os.chown(path, uid, uid)
    os.chmod(path, 0o4755)
    return works(s.finish("/tmp/suid-probe"))


def test_setuid_nnp_alone(started):
    # nosuid left out: only no_new_privs keeps the euid.
    r = _exec_suid(started, ["nosuid"], "sandbox")
    assert r["euid"] == "0", r
    c = _exec_suid(started, ["nosuid", "nnp"], "sandbox")
    assert c["euid"] == str(SUID_UID), c  # control: the bit works without both


def test_setuid_nosuid_alone(started):
    r = _exec_suid(started, ["nnp"], "sandbox")
    assert r["euid"] == "0", r
    c = _exec_suid(started, ["nosuid", "nnp"], "sandbox")
    assert c["euid"] == str(SUID_UID), c
    # "Every mount": the view's binds, /dev, /proc, /sys, the grants too.
    r = works(run_layers("mounts-lacking", "nosuid"))
    assert r["lacking"] == "-", f"mounts without nosuid: {r}"
    # Control: the probe sees a mount without it when there is one.
    c = works(run_layers("mounts-lacking", "nosuid", drop=["nosuid"]))
    assert c["lacking"] != "-", c


def test_setuid_identity_alone(started):
    # no_new_privs and nosuid left out: a set-user-ID file of the host's root
    # belongs to an uid the sandbox does not map, so the bit is ignored (it
    # would show as euid 65534 had it applied).
    r = _exec_suid(started, ["nosuid", "nnp"], "host-root")
    assert r["euid"] == "0", r
    c = _exec_suid(started, ["nosuid", "nnp"], "sandbox")
    assert c["euid"] == str(SUID_UID), c


# ---------------------------------------------------------------- resources

@BOTH_MODES
def test_fork_bomb_pids_cgroup_alone():
    # RLIMIT_NPROC left out: pids.max stops the 16th process (init counts
    # too: 15 forks), and ward names the limit from the cgroup's counter.
    r = run_layers("forkbomb", "200", "20", allow=["process.limit=16"], drop=["nproc"],
                   ward_opts=[])
    assert r.errno == "EAGAIN" and int(r["forks"]) == 15, r


@BOTH_MODES
def test_fork_bomb_pids_cgroup_record():
    # Without -q, ward reads the cgroup's pids.events: its record of the refusal.
    r = run_ward("run", "-a", f"fs.exec={HELPERS}", "-a", "process.limit=8", "--", PROBE,
                 "forkbomb", "100", "10")
    assert "hit process.limit=8" in r.stderr, r


@BOTH_MODES
def test_fork_bomb_rlimit_alone(make_tmpdir):
    # No cgroup at all (--best-effort with an empty cgroup root): the rlimit
    # alone stops the bomb, one process later than the cgroup would (the
    # rlimit is process.limit+1 and counts only the program's processes).
    empty = make_tmpdir()
    opts = ["--best-effort", "--cgroup-root", empty]
    r = run_layers("forkbomb", "200", "20", allow=["process.limit=16"], ward_opts=opts)
    assert r.errno == "EAGAIN" and int(r["forks"]) == 16, r
    # Control: the rlimit left out too, nothing stops it (up to the probe's 40).
    c = run_layers("forkbomb", "40", "20", allow=["process.limit=16"], ward_opts=opts,
                   drop=["nproc"])
    assert c.ok and int(c["forks"]) == 40, c


@BOTH_MODES
def test_memory_bomb_cgroup_alone(make_tmpdir):
    r = run_ward("run", "-a", f"fs.exec={HELPERS}", "-a", "memory.limit=64M", "--", PROBE,
                 "membomb", "256", timeout=60)
    assert r.returncode == 128 + 9, r
    assert "killed by the memory limit" in r.stderr, r
    # Control: without the cgroup, 256 MiB are there for the taking.
    c = run_layers("membomb", "256", allow=["memory.limit=64M"],
                   ward_opts=["--best-effort", "--cgroup-root", make_tmpdir()])
    assert c.ok and c["mib"] == "256", c


# ---------------------------------------------------------------- what the program wrote

def test_fsetid_caps_alone(make_tmpdir):
    # Writing into a set-id file clears its bits unless the writer holds
    # CAP_FSETID of the host's user namespace (inside a user namespace the
    # kernel clears them whatever the sandbox holds).  So the capability layer
    # is seen alone without the user namespace: the host's uid 0, capability
    # drop in place, rewrites a granted set-id file (writable by all, so that
    # no capability is needed to open it): the bits go.
    d = make_tmpdir()
    victim = os.path.join(d, "victim")

    def fresh():
        with open(victim, "w") as f:
            f.write("x\n")
        os.chmod(victim, 0o6777)

    fresh()
    drop = ["seccomp", "userns"]
    works(run_layers("rewrite", victim, allow=[f"fs.write={d}"], drop=drop))
    mode = os.stat(victim).st_mode
    assert not mode & 0o6000, f"set-id bits kept: {oct(mode)}"
    # Control: with CAP_FSETID (capability drop left out too) they stay.
    fresh()
    works(run_layers("rewrite", victim, allow=[f"fs.write={d}"], drop=drop + ["caps"]))
    assert os.stat(victim).st_mode & 0o6000 == 0o6000


STRICT = ["fs.scratch.noexec"]


def test_memfd_noexec_alone():
    # The probe copies itself into a memfd and executes it.  Landlock does
    # not see memfds; under fs.scratch.noexec vm.memfd_noexec=2 in the
    # sandbox's pid namespace makes every memfd non-executable: EACCES, also
    # with Landlock left out.
    r = blocked(run_layers("memfd-exec", "payload", "ids", allow=STRICT, drop=["landlock"]),
                "EACCES")
    assert r["step"] == "execveat", r
    # Control: without the sysctl (layerdrop skips init's write), it runs.
    c = works(run_layers("memfd-exec", "payload", "ids", allow=STRICT, drop=["memfd"]))
    assert c["uid"] == "0", c


def put_program(path):
    """A copy of the probe at PATH, mode 0755.  Rootless: made by the user
    (host root is not mapped in the user's namespaces: its file could not
    be made in the sandbox's /tmp, EOVERFLOW), as the program would."""
    if rootless():
        subprocess.run(as_user_argv(["install", "-m", "0755", PROBE, path]), check=True,
                       timeout=30)
        return
    shutil.copy(PROBE, path)
    os.chmod(path, 0o755)


@BOTH_MODES
def test_exec_landlock_alone(started):
    # A copy of the probe the test puts into the sandbox's /tmp (what a
    # program would download there): Landlock grants execute only beneath the
    # system directories and fs.exec grants.  noexec is left out, should
    # /tmp be mounted so.
    def run(drop):
        s = started("execv", "-", "ids", drop=drop, allow=STRICT)
        put_program(f"/proc/{s.program}/root/tmp/downloaded")
        return s.finish("/tmp/downloaded")

    blocked(run(["noexec"]), "EACCES")
    works(run(["noexec", "landlock"]))  # control


def _exec_downloaded(started, drop, allow, where):
    # A copy of the probe the test puts where the program could have
    # written it (the private /tmp, or a fs.write grant); the probe executes it.
    s = started("execv", "-", "ids", drop=drop, allow=allow)
    # A grant is the host's directory itself; /tmp is the sandbox's own.
    path = (f"/proc/{s.program}/root{where}/downloaded" if where == "/tmp"
            else f"{where}/downloaded")
    put_program(path)
    return s.finish(f"{where}/downloaded")


@BOTH_MODES
def test_exec_noexec_alone(started):
    # fs.scratch.noexec: /tmp is mounted noexec; Landlock left out, the
    # mount alone refuses (EACCES).
    blocked(_exec_downloaded(started, ["landlock"], STRICT, "/tmp"), "EACCES")
    works(_exec_downloaded(started, ["landlock", "noexec"], STRICT, "/tmp"))  # control
    # The default runs what the program wrote in its scratch space.
    works(_exec_downloaded(started, [], [], "/tmp"))


@BOTH_MODES
def test_exec_grant_noexec_alone(started, make_tmpdir):
    # The default: a fs.write grant is mounted noexec; Landlock left out.
    d = make_tmpdir()
    blocked(_exec_downloaded(started, ["landlock"], [f"fs.write={d}"], d), "EACCES")
    works(_exec_downloaded(started, ["landlock", "noexec"], [f"fs.write={d}"], d))


@BOTH_MODES
def test_exec_grant_landlock_alone(started, make_tmpdir):
    # The default: Landlock gives a fs.write grant no EXECUTE; noexec left out.
    d = make_tmpdir()
    blocked(_exec_downloaded(started, ["noexec"], [f"fs.write={d}"], d), "EACCES")
    works(_exec_downloaded(started, ["noexec", "landlock"], [f"fs.write={d}"], d))

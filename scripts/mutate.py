#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The mutation check (`make mutate`): does the battery notice a missing layer?

In a scratch copy of the tree (never the working tree), apply one mutation
at a time -- a seccomp rule dropped, the whole Landlock layer not applied,
the capability drop skipped, a mount mask gone, the pids limit not written
... -- build, run the security battery against that build, and expect at
least one test to fail.  A mutation the battery survives is a layer no test
proves: add the test.

    scripts/mutate.py                 every mutation (tens of minutes)
    scripts/mutate.py --only landlock caps
    scripts/mutate.py --list          the mutations, one a line
    scripts/mutate.py --check         only that each mutation still applies
                                      to this tree (no build; make check runs it)
    scripts/mutate.py --report FILE   also write the result table (markdown)
    scripts/mutate.py --keep          keep the scratch copy (its path is printed)

The battery is every tests/security/test_*.py (test_layers.py first) and
tests/attest/test_attack_attest.py, run with pytest -x
against the scratch build's ward and helpers; BATTERY="..." replaces it.
The matrix-coverage checks of test_layers.py (test_every_*) are left out:
they notice a removed rule by reading `ward explain`, without a sandbox.
A mutation counts as killed only by a test *failure*; an error in a
fixture or teardown (say, another program's leftover cgroup seen by the
leak check) makes the run be repeated once.

Exit status: 0 when every mutation was killed; 1 when one survived, did not
build, or no longer applies; 2 when the battery fails without any mutation.
See docs/testing.md.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_battery(tree):
    """tests/security, test_layers.py first (it fails fastest); then the
    attacks on measured launch (tests/attest/test_attack_attest.py)."""
    sec = os.path.join(tree, "tests", "security")
    rest = sorted(f"tests/security/{n}" for n in os.listdir(sec)
                  if n.startswith("test_") and n.endswith(".py") and n != "test_layers.py")
    attest = "tests/attest/test_attack_attest.py"
    extra = [attest] if os.path.exists(os.path.join(tree, attest)) else []
    return ["tests/security/test_layers.py"] + rest + extra


def allow_rule(syscall, value=None):
    """Turn the filter's EPERM rules for SYSCALL (only those matching the
    argument VALUE, if given) into ALLOW, after the profile is built."""
    cond = "1" if value is None else (
        f"b.v[mi].n_args && ((((uint64_t){value}) & b.v[mi].args[0].a) == b.v[mi].args[0].b)")
    return ("lib/seccomp/profile.c", "\tqsort(b.v, b.n, sizeof(*b.v), rule_cmp);\n",
            "\tfor (size_t mi = 0; mi < b.n; mi++) /* MUTATION */\n"
            f"\t\tif (strcmp(b.v[mi].syscall, \"{syscall}\") == 0 &&\n"
            f"\t\t    b.v[mi].action == WARD_SC_ERRNO && ({cond})) {{\n"
            "\t\t\tb.v[mi].action = WARD_SC_ALLOW;\n"
            "\t\t\tb.v[mi].err = 0;\n"
            "\t\t\tb.v[mi].entitlement = NULL;\n"
            "\t\t}\n"
            "\tqsort(b.v, b.n, sizeof(*b.v), rule_cmp);\n")


def skip_call(path, call):
    """`if (CALL` -> `if (0 && CALL`: the step is not done."""
    return (path, f"if ({call}", f"if (0 && {call}")


# name: (what it removes, [(file, old text, new text), ...])
MUTATIONS = {
    # -- the syscall filter, one rule at a time
    "seccomp:open_by_handle_at": ("filter allows open_by_handle_at(2)",
                                  [allow_rule("open_by_handle_at")]),
    "seccomp:tiocsti": ("filter allows ioctl(TIOCSTI)", [allow_rule("ioctl", "0x5412")]),
    "seccomp:mount": ("filter allows mount(2)", [allow_rule("mount")]),
    "seccomp:fsopen": ("filter allows fsopen(2)", [allow_rule("fsopen")]),
    "seccomp:bpf": ("filter allows bpf(2)", [allow_rule("bpf")]),
    "seccomp:perf_event_open": ("filter allows perf_event_open(2)",
                                [allow_rule("perf_event_open")]),
    "seccomp:ptrace": ("filter allows ptrace(2)", [allow_rule("ptrace")]),
    "seccomp:process_vm_readv": ("filter allows process_vm_readv(2)",
                                 [allow_rule("process_vm_readv")]),
    "seccomp:keyctl": ("filter allows keyctl(2)", [allow_rule("keyctl")]),
    "seccomp:init_module": ("filter allows init_module(2)", [allow_rule("init_module")]),
    "seccomp:clock_settime": ("filter allows clock_settime(2)", [allow_rule("clock_settime")]),
    "seccomp:reboot": ("filter allows reboot(2)", [allow_rule("reboot")]),
    "seccomp:kexec_load": ("filter allows kexec_load(2)", [allow_rule("kexec_load")]),
    "seccomp:io_uring_setup": ("filter allows io_uring_setup(2)",
                               [allow_rule("io_uring_setup")]),
    "seccomp:userfaultfd": ("filter allows userfaultfd(2)", [allow_rule("userfaultfd")]),
    "seccomp:chroot": ("filter allows chroot(2)", [allow_rule("chroot")]),
    "seccomp:setns": ("filter allows setns(2)", [allow_rule("setns")]),
    "seccomp:personality": ("filter allows personality(READ_IMPLIES_EXEC)",
                            [allow_rule("personality", "0x0400000")]),
    "seccomp:socket-packet": ("filter allows socket(AF_PACKET)", [allow_rule("socket", "17")]),
    "seccomp:socket-inet": ("filter allows socket(AF_INET)", [allow_rule("socket", "2")]),
    "seccomp:unshare-flags": ("filter allows unshare(2) with namespace flags",
                              [allow_rule("unshare")]),
    "seccomp:clone-flags": ("filter allows clone(2) with namespace flags",
                            [allow_rule("clone")]),
    "seccomp:chmod-setid": ("filter allows chmod(2) with a set-id mode", [allow_rule("chmod")]),
    "seccomp:memfd_create-exec": ("filter allows memfd_create(MFD_EXEC)",
                                  [allow_rule("memfd_create", "0x10")]),
    "seccomp:whole": ("the filter installed is \"allow everything\"", [
        ("lib/seccomp/seccomp.c", "\tfprog.filter = prog->insns;\n",
         "\tfprog.filter = prog->insns;\n"
         "\t{ /* MUTATION */\n"
         "\t\tstatic struct sock_filter allow_all = {0x06, 0, 0, 0x7fff0000};\n\n"
         "\t\tfprog.len = 1;\n"
         "\t\tfprog.filter = &allow_all;\n"
         "\t}\n")]),
    # -- Landlock
    "landlock": ("the Landlock layer is not applied at all",
                 [skip_call("lib/launch.c", "l->ll.abi > 0 && ward_landlock_apply(")]),
    "landlock:fs": ("Landlock handles no filesystem access", [
        ("lib/landlock.c", "\tout->handled_fs = fs;\n", "\tfs = 0;\n\tout->handled_fs = fs;\n")]),
    "landlock:tcp": ("Landlock does not handle TCP under network.none", [
        ("lib/landlock.c", "\tif (p->net == WARD_NET_NONE)\n\t\tnet = LL_NET_TCP;\n",
         "\tif (0)\n\t\tnet = LL_NET_TCP;\n")]),
    "landlock:scope": ("Landlock scopes neither abstract sockets nor signals", [
        ("lib/landlock.c", "\tout->scoped = scoped;\n", "\tout->scoped = scoped & 0;\n")]),
    # -- capabilities, no_new_privs, the process
    "caps": ("the capability drop is skipped (bounding set, securebits, capset)", [
        skip_call("lib/launch.c", "ward_caps_drop_bounding("),
        skip_call("lib/launch.c", "ward_caps_finish(")]),
    "nnp": ("no_new_privs is not set", [skip_call("lib/launch.c", "p->no_new_privs && ")]),
    "setsid": ("neither init nor the program starts a new session",
               [("lib/launch.c", "if (setsid() < 0)", "if (0 && setsid() < 0)")]),
    "memfd_noexec": ("vm.memfd_noexec is not set in the sandbox's pid namespace", [
        ("lib/launch.c", "if (!p->scratch_exec)\n\t\tmemfd_noexec(l);",
         "if (0)\n\t\tmemfd_noexec(l);")]),
    "close_range": ("inherited descriptors are not closed",
                    [skip_call("lib/launch.c", "syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_")]),
    # -- mounts
    "mask:proc-keys": ("/proc/keys is not masked", [
        ("lib/mount.c", "\"kcore\", \"keys\", ", "\"kcore\", ")]),
    "mask:proc-kcore": ("/proc/kcore is not masked", [
        ("lib/mount.c", "\"kcore\", \"keys\", ", "\"keys\", ")]),
    "mask:proc-timer_list": ("/proc/timer_list is not masked", [
        ("lib/mount.c", "\"keys\", \"timer_list\", ", "\"keys\", ")]),
    "ro:proc-sys": ("/proc/sys is not read-only", [
        ("lib/mount.c", "proc_readonly[] = {\"sys\", ", "proc_readonly[] = {")]),
    "ro:sys": ("/sys is mounted read-write", [
        ("lib/mount.c", "\"sysfs\",\n\t\t\t       MS_RDONLY | MS_NOSUID", "\"sysfs\",\n\t\t\t       MS_NOSUID")]),
    "mask:sys-kernel-security": ("/sys/kernel/security is not masked", [
        ("lib/mount.c", "\"kernel/security\", ", "")]),
    "nosuid:tmp": ("the sandbox's /tmp is mounted without nosuid", [
        ("lib/mount.c", "mount_tmpfs(NEWROOT \"/tmp\", MS_NOSUID | MS_NODEV",
         "mount_tmpfs(NEWROOT \"/tmp\", MS_NODEV")]),
    "nosuid:view": ("the host directories of the view are bound without nosuid", [
        ("lib/mount.c", "v->nosuid = !p->setuid;", "v->nosuid = false;")]),
    # -- cgroups and rlimits
    "cgroup:pids": ("pids.max is not written (v1 and v2)", [
        ("lib/cgroup/v1.c",
         "\treturn set_u64(d, \"pids.max\", p->pids_max, \"process limit\", err);\n",
         "\treturn (void)d, (void)p, (void)err, 0;\n"),
        skip_call("lib/cgroup/v2.c", "set_value(cg, \"pids.max\"")]),
    "cgroup:memory": ("the memory limit is not written (v1 and v2)", [
        skip_call("lib/cgroup/v1.c", "set_u64(d, \"memory.limit_in_bytes\""),
        ("lib/cgroup/v1.c", "\tif (ward_cg_exists_at(d->fd, \"memory.memsw.limit_in_bytes\") &&",
         "\tif (0 && ward_cg_exists_at(d->fd, \"memory.memsw.limit_in_bytes\") &&"),
        skip_call("lib/cgroup/v2.c", "set_value(cg, \"memory.max\"")]),
    "rlimit:nproc": ("RLIMIT_NPROC is not set", [skip_call("lib/rlimit.c",
                                                           "setrlimit(RLIMIT_NPROC")]),
    # -- measured launch and attestation (tests/attest/test_attack_attest.py)
    "attest:guard": ("grants that reach the attestation directory or host key are allowed", [
        ("src/attest_hook.c", "\t/* Software or not, the key is guarded where it exists;",
         "\treturn 0; /* MUTATION */\n\t/* Software or not, the key is guarded where it exists;")]),
    "attest:unmeasured": ("events the PCR never saw stay in the log", [
        ("lib/attest/store.c", "\tif (read_fd(logfd, WARD_ATTEST_LOG_MAX, &data, &len, "
         "\"the measurement log\", err) < 0)\n\t\treturn -1;\n\tif (cut > len)",
         "\treturn 0; /* MUTATION */\n\tif (read_fd(logfd, WARD_ATTEST_LOG_MAX, &data, &len, "
         "\"the measurement log\", err) < 0)\n\t\treturn -1;\n\tif (cut > len)")]),
    "attest:broker-env": ("the broker quotes an event without checking that it names the asker", [
        ("lib/broker/attest.c", "ward_attest_quote(&c, nonce, n, name, true,",
         "ward_attest_quote(&c, nonce, n, ((void)name, (const char *)NULL), true,")]),
}


def apply(tree, edits, dry=False):
    """Apply EDITS under TREE; return {path: original text} or raise ValueError."""
    originals = {}
    for path, old, new in edits:
        full = os.path.join(tree, path)
        text = originals.get(path)
        if text is None:
            with open(full) as f:
                text = f.read()
            originals[path] = text
        with open(full) as f:
            cur = f.read()
        if old not in cur:
            raise ValueError(f"{path}: the text to change is not there any more: {old!r}")
        cur = cur.replace(old, new)
        if not dry:
            with open(full, "w") as f:
                f.write(cur)
    return originals


def restore(tree, originals):
    for path, text in originals.items():
        with open(os.path.join(tree, path), "w") as f:
            f.write(text)


def check_anchors(names):
    bad = []
    for name in names:
        try:
            apply(ROOT, MUTATIONS[name][1], dry=True)
        except (ValueError, OSError) as e:
            bad.append(f"{name}: {e}")
    return bad


def copy_tree(dest):
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for f in files:
        if not f:
            continue
        src = os.path.join(ROOT, f.decode())
        if not os.path.isfile(src):
            continue  # deleted but still in the index
        dst = os.path.join(dest, f.decode())
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)


def build(tree, log):
    bdir = os.path.join(tree, "build")
    if not os.path.exists(os.path.join(bdir, "build.ninja")):
        r = subprocess.run(["meson", "setup", bdir, "--buildtype=debugoptimized"], cwd=tree,
                           stdout=log, stderr=subprocess.STDOUT)
        if r.returncode:
            return False
    return subprocess.run(["ninja", "-C", bdir], cwd=tree, stdout=log,
                          stderr=subprocess.STDOUT).returncode == 0


def battery(tree, junit, log, stop_first=True):
    env = dict(os.environ)
    env["WARD"] = os.path.join(tree, "build", "src", "ward")
    env["WARD_HELPERS"] = os.path.join(tree, "build", "tests", "helpers")
    tests = os.environ.get("BATTERY", "").split() or default_battery(tree)
    # Only tests that run sandboxes count: the checks of `ward explain`'s
    # matrix against PROOFS notice a removed rule without running anything
    # (as the rule-table unit tests do), which is not what is measured here.
    cmd = ["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
           "-k", "not test_every_", f"--junitxml={junit}"] + (["-x"] if stop_first else []) + tests
    subprocess.run(cmd, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    failures, errors, total = [], [], 0
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return None, None, 0
    for case in root.iter("testcase"):
        total += 1
        name = f"{case.get('classname', '').split('.')[-1]}::{case.get('name')}"
        if case.find("failure") is not None:
            failures.append(name)
        elif case.find("error") is not None:
            errors.append(name)
    return failures, errors, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", metavar="NAME",
                    help="only these mutations (a name, or a prefix such as seccomp:)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--report")
    a = ap.parse_args()

    names = list(MUTATIONS)
    if a.only:
        names = [n for n in names if any(n == o or n.startswith(o) for o in a.only)]
        if not names:
            print(f"mutate: no mutation matches {a.only} (--list shows them)")
            return 1
    if a.list:
        for n in names:
            print(f"{n:28} {MUTATIONS[n][0]}")
        return 0
    bad = check_anchors(names)
    if a.check:
        for b in bad:
            print(f"mutate: {b}")
        print(f"mutate: {len(names) - len(bad)} of {len(names)} mutations apply to this tree "
              f"[{'ok' if not bad else 'FAILED'}]")
        if bad:
            print("mutate: a mutation that no longer applies checks nothing: update "
                  "MUTATIONS in scripts/mutate.py to the code as it is now")
        return 1 if bad else 0
    if os.geteuid() != 0:
        print("mutate: the battery starts sandboxes and needs root")
        return 2

    scratch = tempfile.mkdtemp(prefix="ward-mutate-", dir="/var/tmp")
    # The battery runs as an unprivileged user too (rootless mode): it
    # must reach the scratch build.
    os.chmod(scratch, 0o755)
    tree = os.path.join(scratch, "tree")
    os.makedirs(tree)
    logpath = os.path.join(scratch, "mutate.log")
    print(f"mutate: scratch copy in {tree} (log: {logpath})", flush=True)
    results = []
    try:
        copy_tree(tree)
        with open(logpath, "a") as log:
            t0 = time.monotonic()
            if not build(tree, log):
                print(f"mutate: the unmutated tree does not build (see {logpath})")
                return 2
            failures, errors, total = battery(tree, os.path.join(scratch, "base.xml"), log,
                                              stop_first=False)
            if failures is None or failures:
                print(f"mutate: the battery fails WITHOUT any mutation: {failures} "
                      f"(see {logpath}); fix that first")
                return 2
            if errors:
                # Errors in setup or teardown only: the leak check saw
                # something of another program on this shared machine.
                print(f"mutate: warning: baseline errors (not failures), ignored: {errors}")
            print(f"mutate: baseline: {total} tests pass ({time.monotonic() - t0:.0f} s)",
                  flush=True)
            for name in names:
                what, edits = MUTATIONS[name]
                t0 = time.monotonic()
                log.write(f"\n===== mutation {name}: {what}\n")
                log.flush()
                try:
                    originals = apply(tree, edits)
                except ValueError as e:
                    results.append((name, what, "NOT APPLIED", str(e)))
                    print(f"mutate: {name}: does not apply: {e}", flush=True)
                    continue
                try:
                    if not build(tree, log):
                        verdict, detail = "BUILD FAILED", f"see {logpath}"
                    else:
                        junit = os.path.join(scratch, f"{name.replace(':', '_')}.xml")
                        for attempt in (1, 2):
                            failures, errors, total = battery(tree, junit, log)
                            if failures or not errors:
                                break
                        if failures:
                            verdict, detail = "killed", failures[0]
                        elif errors:
                            verdict, detail = "INCONCLUSIVE", "errors only: " + errors[0]
                        elif failures is None:
                            verdict, detail = "INCONCLUSIVE", "no test result"
                        else:
                            verdict, detail = "SURVIVED", f"{total} tests passed"
                finally:
                    restore(tree, originals)
                results.append((name, what, verdict, detail))
                print(f"mutate: {name}: {verdict} ({detail}) [{time.monotonic() - t0:.0f} s]",
                      flush=True)
    finally:
        if a.keep:
            print(f"mutate: kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    table = ["| mutation | what it removes | result | first failing test |",
             "| --- | --- | --- | --- |"]
    for name, what, verdict, detail in results:
        table.append(f"| `{name}` | {what} | {verdict} | {detail} |")
    print("\n".join(table))
    if a.report:
        with open(a.report, "w") as f:
            f.write("\n".join(table) + "\n")
    killed = sum(1 for r in results if r[2] == "killed")
    print(f"mutate: {killed} of {len(results)} mutations killed")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())

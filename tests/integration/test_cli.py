# SPDX-License-Identifier: GPL-2.0-or-later
"""The command line: manifests, explain, entitlements, and bad input.

Every refusal must exit non-zero with a `ward: ` message that names the
place and the fix, and leave nothing behind (the autouse leak check)."""

import json
import os

import pytest

from conftest import (EXIT_CANNOT, EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_USAGE, PROBE,
                      assert_ward_error, exec_grant, run_probe, run_ward)

# The entitlements of SPEC §1 that this version implements, and the ones
# it lists as not yet available.
IMPLEMENTED = [
    "network.none", "network.loopback", "network.host", "network.outbound", "network.connect",
    "network.listen", "fs.read",
    "fs.write", "fs.exec", "process.limit", "memory.limit", "cpu.limit", "files.limit", "process.debug",
    "process.setuid", "security.confined", "security.user", "security.admin", "host.devices",
    "host.time", "network.admin", "host.devices.admin", "ipc.send", "ipc.recv", "service.connect", "service.provide", "api.open", "api.attest",
]
NOT_YET = ["process.host"]
LAYERS = ["namespaces", "identity", "mounts", "capabilities", "no_new_privs", "seccomp",
          "landlock", "nftables", "cgroups", "rlimits"]


# ---------------------------------------------------------------- manifests

def test_manifest_with_comments(manifest):
    m = manifest(
        "# the probe's entitlements\n"
        "\n"
        f"   {exec_grant()}   # where the helpers are\n"
        "network.loopback\t# talk to itself\n"
        "  # an indented comment\n"
        "process.limit=32\n")
    r = run_ward("run", "-q", "-m", m, "--", PROBE, "tcp-echo", "127.0.0.1")
    assert r.returncode == 0 and r.stdout.startswith("ok "), r


def test_several_manifests_and_allow(manifest):
    m1 = manifest(f"{exec_grant()}\n", name="a.ent")
    m2 = manifest("files.limit=100\n", name="b.ent")
    r = run_ward("run", "-q", "-m", m1, "--manifest", m2, "--allow", "process.limit=20", "--",
                 PROBE, "rlimits")
    assert r.returncode == 0 and "nofile=100:100" in r.stdout, r


def test_manifest_unknown_entitlement(manifest):
    m = manifest("# comment\nfs.read=/usr\nnetwrok.none\n")
    r = run_ward("run", "-m", m, "--", "/bin/true")
    assert_ward_error(r, f'{m}:3: unknown entitlement "netwrok.none" '
                         f'(did you mean "network.none"?)')


def test_allow_unknown_entitlement():
    r = run_ward("run", "-a", "proces.limit=5", "--", "/bin/true")
    assert_ward_error(r, "--allow", '"proces.limit"', '"process.limit"')


def test_manifest_value_where_none_allowed(manifest):
    m = manifest("process.debug=yes\n")
    r = run_ward("run", "-m", m, "--", "/bin/true")
    assert_ward_error(r, f"{m}:1:", "process.debug", "takes no value")


@pytest.mark.parametrize("line", ["fs.read", "fs.read="])
def test_manifest_missing_value(manifest, line):
    m = manifest(line + "\n")
    r = run_ward("run", "-m", m, "--", "/bin/true")
    assert_ward_error(r, f"{m}:1:", "fs.read")


@pytest.mark.parametrize("value", ["lots", "12Q", "-1M", "", "1.5.2G"])
def test_bad_memory_size(manifest, value):
    m = manifest(f"memory.limit={value}\n")
    r = run_ward("run", "-m", m, "--", "/bin/true")
    assert_ward_error(r, f"{m}:1:", "memory.limit")


@pytest.mark.parametrize("ent", ["process.limit=0", "process.limit=many", "files.limit=-3",
                                 "cpu.limit=0", "cpu.limit=fast", "memory.limit=1K"])
def test_bad_numbers(ent):
    r = run_ward("run", "-a", ent, "--", "/bin/true")
    assert_ward_error(r, ent.split("=")[0])


def test_conflict_names_both_places(manifest):
    m = manifest("# net\nnetwork.none\n")
    r = run_ward("run", "-m", m, "-a", "network.host", "--", "/bin/true")
    assert_ward_error(r, "network.none", "network.host", f"{m}:2", "--allow")


def test_conflicting_values():
    r = run_ward("run", "-a", "process.limit=5", "-a", "process.limit=6", "--", "/bin/true")
    assert_ward_error(r, "process.limit=5", "process.limit=6")


def test_flag_in_manifest(manifest):
    m = manifest("--allow network.host\n")
    r = run_ward("run", "-m", m, "--", "/bin/true")
    assert_ward_error(r, f"{m}:1:", "flag")


def test_nul_byte_in_manifest(manifest):
    m = manifest(b"network.none\nfs.read=/usr\0/evil\n")
    r = run_ward("run", "-m", m, "--", "/bin/true")
    assert_ward_error(r, f"{m}:2:", "NUL")


def test_non_utf8_manifest(manifest):
    m = manifest(b"network.none\n\xff\xfenetwork.host\n")
    r = run_ward("run", "-m", m, "--", "/bin/true")
    assert_ward_error(r, f"{m}:2:")


def test_manifest_does_not_exist(tmpdir_real):
    m = os.path.join(tmpdir_real, "missing.ent")
    r = run_ward("run", "-m", m, "--", "/bin/true")
    assert_ward_error(r, m)


# ---------------------------------------------------------------- paths

def test_granted_path_does_not_exist(tmpdir_real):
    p = os.path.join(tmpdir_real, "nope")
    r = run_ward("run", "-a", f"fs.read={p}", "--", "/bin/true")
    assert_ward_error(r, p, "fs.read")


def test_granted_path_with_symlink_component(tmpdir_real):
    real = os.path.join(tmpdir_real, "real")
    os.mkdir(real)
    os.mkdir(os.path.join(real, "sub"))
    link = os.path.join(tmpdir_real, "link")
    os.symlink(real, link)
    # A link in the middle of the path, and as its last component: both
    # refused with a message that says it is a link and what to do.
    for p in (os.path.join(link, "sub"), link):
        r = run_ward("run", "-a", f"fs.read={p}", "--", "/bin/true")
        assert_ward_error(r, f"fs.read={p}", "symbolic link", "real path")


@pytest.mark.parametrize("ent", ["fs.read=relative/path", "fs.write=/usr/../etc",
                                 "fs.read=/", "fs.read=/proc/1", "fs.write=/dev/sda",
                                 "host.devices=/etc/passwd"])
def test_path_rules(ent):
    r = run_ward("run", "-a", ent, "--", "/bin/true")
    assert_ward_error(r, ent.split("=")[0])


def test_fs_write_on_device_refused():
    r = run_ward("run", "-a", "host.devices=/usr", "--", "/bin/true")
    assert_ward_error(r, "host.devices")


# ---------------------------------------------------------------- programs

def test_program_not_found_absolute():
    r = run_ward("run", "--", "/usr/bin/ward-no-such-program")
    assert_ward_error(r, "ward-no-such-program", status=EXIT_NOT_FOUND)


def test_program_not_found_in_path():
    r = run_ward("run", "--", "ward-no-such-program")
    assert_ward_error(r, "ward-no-such-program", "not found", status=EXIT_NOT_FOUND)


def test_program_not_executable():
    r = run_ward("run", "--", "/etc/passwd")
    assert_ward_error(r, "/etc/passwd", status=EXIT_CANNOT)


def test_program_outside_the_view():
    # The probe exists on the host but its directory is not granted.
    r = run_ward("run", "--", PROBE, "uname")
    assert_ward_error(r, "fs.exec", status=EXIT_NOT_FOUND)


# ---------------------------------------------------------------- the command line

@pytest.mark.parametrize("argv", [
    ["run", "--bogus", "--", "/bin/true"],
    ["run", "-Z", "/bin/true"],
    ["run"],
    ["run", "-a"],
    ["frobnicate"],
    [],
])
def test_bad_command_line(argv):
    r = run_ward(*argv)
    assert r.returncode == EXIT_USAGE, r
    assert "ward" in r.stderr, r


def test_help():
    r = run_ward("run", "--help")
    assert r.returncode == 0 and "--allow" in r.stdout, r
    r = run_ward("--help")
    assert r.returncode == 0 and "explain" in r.stdout, r


def test_program_arguments_are_not_options():
    # Everything after PROGRAM is the program's, even if it looks like ward's.
    r = run_ward("run", "--", "/bin/echo", "-a", "--allow", "network.host")
    assert r.returncode == 0 and r.stdout == "-a --allow network.host\n", r
    r = run_ward("run", "/bin/echo", "-q", "x")
    assert r.returncode == 0 and r.stdout == "-q x\n", r


# ---------------------------------------------------------------- explain

def test_explain_text_names_every_layer():
    r = run_ward("explain")
    assert r.returncode == 0, r
    for layer in LAYERS:
        assert layer in r.stdout, layer
    assert "network.none" in r.stdout and "security.confined" in r.stdout


def test_explain_reflects_entitlements(manifest):
    m = manifest("network.loopback\nmemory.limit=64M\n")
    r = run_ward("explain", "-m", m, "--allow", "process.limit=7")
    assert r.returncode == 0, r
    assert "network.loopback" in r.stdout and "64 MiB" in r.stdout and "7" in r.stdout, r


def test_explain_json():
    r = run_ward("explain", "--json")
    assert r.returncode == 0, r
    d = json.loads(r.stdout)
    did = d["defense_in_depth"]
    assert isinstance(did, list) and len(did) >= 10, did
    for op in did:
        assert op["count"] == len(op["layers"]) and op["count"] >= 1, op
    ops = " ".join(op["operation"] for op in did).lower()
    for word in ("mount", "ptrace", "keyring", "module", "raw", "clock", "bpf", "perf",
                 "fork", "memory", "tiocsti"):
        assert word in ops, word


def test_explain_json_reflects_entitlements():
    r = run_ward("explain", "--json", "-a", "security.admin", "-a", "network.host")
    d = json.loads(r.stdout)
    assert d["network"] == "host" or "network.host" in json.dumps(d["entitlements"]), d


def test_explain_landlock_abi_downgrade():
    r = run_ward("explain", "--landlock-abi", "1")
    assert r.returncode == 0, r
    assert "ABI 1" in r.stdout or "abi 1" in r.stdout.lower(), r


def test_explain_bad_entitlement():
    r = run_ward("explain", "-a", "netwrok.none")
    assert r.returncode != 0 and '"network.none"' in r.stderr, r


# ---------------------------------------------------------------- entitlements

def test_entitlements_lists_every_name():
    r = run_ward("entitlements")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    for name in IMPLEMENTED + NOT_YET:
        line = next((l for l in lines if l.split()[0].split("=")[0].split("[")[0] == name), None)
        assert line is not None, name
        if name in NOT_YET:
            assert "not yet available" in line, line
        else:
            assert "not yet available" not in line, line


def test_entitlements_json():
    r = run_ward("entitlements", "--json")
    d = json.loads(r.stdout)
    by_name = {e["name"]: e for e in d}
    for name in IMPLEMENTED:
        assert by_name[name]["available"] is True, name
    for name in NOT_YET:
        assert by_name[name]["available"] is False, name


def test_entitlements_markdown():
    r = run_ward("entitlements", "--markdown")
    assert r.returncode == 0 and "| `network.none` |" in r.stdout, r

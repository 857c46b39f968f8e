# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 13: `ward export` speaks the same entitlements to Docker/podman,
OCI runtimes, Kubernetes and systemd; `ward import` reads such profiles
back into the nearest manifest.  (The exported Docker profile run by podman
with runc is tests/oci/test_export_podman.py.)"""

import json
import os
import shutil
import subprocess

import pytest

from conftest import run_ward

OCI_SCHEMA = "/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema"

# The Docker/podman seccomp profile format (moby's profiles/seccomp types and
# containers/common's): what every runtime that reads it requires.
DOCKER_SCHEMA = {
    "type": "object",
    "required": ["defaultAction", "syscalls"],
    "properties": {
        "defaultAction": {"enum": ["SCMP_ACT_ERRNO", "SCMP_ACT_ALLOW", "SCMP_ACT_KILL",
                                   "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                   "SCMP_ACT_TRAP", "SCMP_ACT_LOG"]},
        "defaultErrnoRet": {"type": "integer", "minimum": 1, "maximum": 4095},
        "architectures": {"type": "array", "items": {"type": "string",
                                                      "pattern": "^SCMP_ARCH_[A-Z0-9_]+$"}},
        "syscalls": {"type": "array", "items": {
            "type": "object",
            "required": ["names", "action"],
            "additionalProperties": False,
            "properties": {
                "names": {"type": "array", "minItems": 1,
                          "items": {"type": "string", "pattern": "^[a-z0-9_]+$"}},
                "action": {"enum": ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO"]},
                "errnoRet": {"type": "integer", "minimum": 1, "maximum": 4095},
                "args": {"type": "array", "maxItems": 6, "items": {
                    "type": "object",
                    "required": ["index", "value", "op"],
                    "additionalProperties": False,
                    "properties": {
                        "index": {"type": "integer", "minimum": 0, "maximum": 5},
                        "value": {"type": "integer", "minimum": 0},
                        "valueTwo": {"type": "integer", "minimum": 0},
                        "op": {"enum": ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
                                        "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                                        "SCMP_CMP_MASKED_EQ"]},
                    }}},
            }}},
    },
    "not": {"required": ["archMap", "architectures"]},
}

# The Pod fields the export writes, with their types and enums from the
# Kubernetes API reference (core/v1 Pod, PodSpec, Container, SecurityContext,
# Capabilities, SeccompProfile, ResourceRequirements, Volume).
QUANTITY = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$"}
KUBE_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "v1"},
        "kind": {"const": "Pod"},
        "metadata": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "spec": {"type": "object", "required": ["containers"], "additionalProperties": False,
                 "properties": {
            "hostNetwork": {"type": "boolean"}, "hostPID": {"type": "boolean"},
            "hostIPC": {"type": "boolean"}, "shareProcessNamespace": {"type": "boolean"},
            "automountServiceAccountToken": {"type": "boolean"},
            "securityContext": {"type": "object", "additionalProperties": False, "properties": {
                "seccompProfile": {"$ref": "#/$defs/seccomp"}}},
            "containers": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["name", "image"], "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"}, "image": {"type": "string"},
                    "command": {"type": "array", "items": {"type": "string"}},
                    "securityContext": {"type": "object", "additionalProperties": False,
                                        "properties": {
                        "allowPrivilegeEscalation": {"type": "boolean"},
                        "privileged": {"type": "boolean"},
                        "readOnlyRootFilesystem": {"type": "boolean"},
                        "runAsNonRoot": {"type": "boolean"},
                        "runAsUser": {"type": "integer", "minimum": 0},
                        "runAsGroup": {"type": "integer", "minimum": 0},
                        "procMount": {"enum": ["Default", "Unmasked"]},
                        "seccompProfile": {"$ref": "#/$defs/seccomp"},
                        "capabilities": {"type": "object", "additionalProperties": False,
                                         "properties": {
                            "drop": {"type": "array", "items": {"type": "string",
                                                                "pattern": "^[A-Z_]+$"}},
                            "add": {"type": "array", "items": {"type": "string",
                                                               "pattern": "^[A-Z_]+$"}}}}}},
                    "resources": {"type": "object", "properties": {
                        "limits": {"type": "object", "additionalProperties": QUANTITY}}},
                    "volumeMounts": {"type": "array", "items": {
                        "type": "object", "required": ["name", "mountPath"],
                        "additionalProperties": False,
                        "properties": {"name": {"type": "string"},
                                       "mountPath": {"type": "string", "pattern": "^/"},
                                       "readOnly": {"type": "boolean"}}}},
                }}},
            "volumes": {"type": "array", "items": {
                "type": "object", "required": ["name"],
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                    "emptyDir": {"type": "object", "additionalProperties": False, "properties": {
                        "medium": {"enum": ["", "Memory"]}, "sizeLimit": QUANTITY}},
                    "hostPath": {"type": "object", "required": ["path"],
                                 "additionalProperties": False, "properties": {
                        "path": {"type": "string", "pattern": "^/"},
                        "type": {"enum": ["", "DirectoryOrCreate", "Directory", "FileOrCreate",
                                          "File", "Socket", "CharDevice", "BlockDevice"]}}}},
                "minProperties": 2, "maxProperties": 2}},
        }},
    },
    "$defs": {"seccomp": {"type": "object", "required": ["type"], "properties": {
        "type": {"enum": ["Localhost", "RuntimeDefault", "Unconfined"]},
        "localhostProfile": {"type": "string"}}}},
}


def jsonschema():
    return pytest.importorskip("jsonschema", reason="python3-jsonschema is not installed")


def export(fmt, *allow, command=(), extra=()):
    args = ["export", "--format", fmt]
    for a in allow:
        args += ["--allow", a]
    args += list(extra)
    if command:
        args += ["--", *command]
    r = run_ward(*args)
    assert r.returncode == 0, r
    return r


def profile(*allow):
    r = export("docker-seccomp", *allow)
    assert "weaker than under ward" in r.stderr, r
    return json.loads(r.stdout)


def entries(prof, name):
    return [e for e in prof["syscalls"] if name in e["names"]]


def families(prof):
    """The socket families the profile allows (the family is a 32-bit int:
    MASKED_EQ 0xffffffff FAMILY)."""
    out = set()
    for e in entries(prof, "socket"):
        if e["action"] != "SCMP_ACT_ALLOW":
            continue
        for a in e["args"]:
            if a["index"] != 0:
                continue  # NETLINK's protocol rule
            if a["op"] == "SCMP_CMP_MASKED_EQ" and a["value"] == 0xffffffff:
                out.add(a["valueTwo"])
            elif a["op"] == "SCMP_CMP_EQ":
                out.add(a["value"])
    return out


# ---------------------------------------------------------------- docker-seccomp

def test_docker_profile_is_the_rule_list_ward_installs():
    js = jsonschema()
    p = profile()
    js.validate(p, DOCKER_SCHEMA)
    # Unknown syscalls ENOSYS (libc falls back), known-denied EPERM.
    assert p["defaultAction"] == "SCMP_ACT_ERRNO" and p["defaultErrnoRet"] == 38
    # The native ABI only: i386 and x32 calls meet the runtime's bad-arch
    # action (kill), as under ward; never archMap with sub-architectures.
    assert p["architectures"] == ["SCMP_ARCH_X86_64"] and "archMap" not in p
    denied = [e for e in p["syscalls"] if e["action"] == "SCMP_ACT_ERRNO" and "args" not in e]
    assert any("mount" in e["names"] and e["errnoRet"] == 1 for e in denied), denied
    allowed = [e for e in p["syscalls"] if e["action"] == "SCMP_ACT_ALLOW" and "args" not in e]
    assert any("read" in e["names"] for e in allowed)
    # Argument rules: socket families (AF_UNIX only), clone without
    # namespace flags, TIOCSTI refused, set-id modes refused.
    assert families(p) == {1}, entries(p, "socket")  # AF_UNIX
    clone = entries(p, "clone")
    assert any(e["action"] == "SCMP_ACT_ALLOW" and e["args"][0]["op"] == "SCMP_CMP_MASKED_EQ"
               and e["args"][0]["valueTwo"] == 0 and e["args"][0]["value"] & 0x10000000
               for e in clone), clone
    ioctl = entries(p, "ioctl")
    assert any(e["action"] == "SCMP_ACT_ERRNO" and e["args"][0]["valueTwo"] == 0x5412
               for e in ioctl), "TIOCSTI"
    chmod = entries(p, "chmod")
    assert any(e["action"] == "SCMP_ACT_ERRNO" and e["args"][0]["value"] & 0o4000
               for e in chmod), chmod
    # clone3 keeps ENOSYS: the default, so no entry of its own.
    assert not entries(p, "clone3")


def test_docker_profile_follows_the_entitlements():
    js = jsonschema()
    user = profile("security.user", "network.loopback")
    js.validate(user, DOCKER_SCHEMA)
    assert families(user) == {1, 2, 10, 16}, families(user)  # UNIX, INET, INET6, NETLINK
    admin = profile("security.admin")
    js.validate(admin, DOCKER_SCHEMA)
    assert any(e["action"] == "SCMP_ACT_ALLOW" for e in entries(admin, "mount"))
    # The xattr-size rule (file capabilities) under security.admin.
    sx = entries(admin, "setxattr")
    assert any(e["action"] == "SCMP_ACT_ERRNO" and e["args"][0]["index"] == 3 and
               e["args"][0]["value"] in (20, 24) for e in sx), sx
    # fs.scratch.noexec: memfd_create(MFD_EXEC) refused.
    strict = profile("fs.scratch.noexec")
    assert any(e["action"] == "SCMP_ACT_ERRNO" and e["args"][0]["value"] == 0x10
               for e in entries(strict, "memfd_create"))
    assert not any("args" in e for e in entries(profile(), "memfd_create"))


# ---------------------------------------------------------------- oci

def test_oci_fragment_is_schema_valid_and_carries_every_layer():
    js = jsonschema()
    if not os.path.isdir(OCI_SCHEMA):
        pytest.skip("the runtime-spec schema is not installed "
                    "(apt-get install golang-github-opencontainers-specs-dev)")
    r = export("oci", "fs.write=/srv/out", "fs.exec=/opt/tool", "cpu.limit=0.5",
               "process.limit=64", "memory.limit=256M", command=["/opt/tool/run", "-x"])
    cfg = json.loads(r.stdout)
    with open(os.path.join(OCI_SCHEMA, "config-schema.json")) as f:
        schema = json.load(f)
    resolver = js.RefResolver(f"file://{OCI_SCHEMA}/", schema)
    js.validate(cfg, schema, resolver=resolver)
    proc, lin = cfg["process"], cfg["linux"]
    assert proc["args"] == ["/opt/tool/run", "-x"]
    assert proc["noNewPrivileges"] is True
    assert all(proc["capabilities"][k] == [] for k in proc["capabilities"])
    assert {"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024} in proc["rlimits"]
    assert cfg["root"]["readonly"] is True
    assert lin["resources"]["pids"]["limit"] == 64
    assert lin["resources"]["memory"]["limit"] == 256 << 20
    assert lin["resources"]["cpu"] == {"quota": 50000, "period": 100000}
    assert "/proc/kcore" in lin["maskedPaths"] and "/proc/sys" in lin["readonlyPaths"]
    assert {t["type"] for t in lin["namespaces"]} >= {"pid", "network", "mount", "ipc", "uts"}
    assert lin["seccomp"] == profile("fs.write=/srv/out", "fs.exec=/opt/tool",
                                     "cpu.limit=0.5", "process.limit=64",
                                     "memory.limit=256M")
    mounts = {m["destination"]: m for m in cfg["mounts"]}
    assert "noexec" in mounts["/srv/out"]["options"] and "rw" in mounts["/srv/out"]["options"]
    assert "noexec" not in mounts["/opt/tool"]["options"]
    assert "noexec" not in mounts["/tmp"]["options"]  # executable scratch space
    assert "cpu.limit=0.5" in cfg["annotations"]["org.ward.entitlements"].split(",")
    assert "no Landlock" in r.stderr


# ---------------------------------------------------------------- kubernetes

def test_kubernetes_pod_is_schema_valid():
    js = jsonschema()
    yaml = pytest.importorskip("yaml", reason="python3-yaml is not installed")
    r = export("kubernetes", "fs.read=/srv/data", "memory.limit=256M", "cpu.limit=1.5",
               extra=["--image", "busybox", "--profile", "ward/app.json"],
               command=["sh", "-c", "echo hi"])
    pod = yaml.safe_load(r.stdout)
    js.validate(pod, KUBE_SCHEMA)
    c = pod["spec"]["containers"][0]
    sc = c["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
    # No capability is needed under security.confined: not root either.
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 65534
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert pod["spec"]["securityContext"]["seccompProfile"] == {
        "type": "Localhost", "localhostProfile": "ward/app.json"}
    assert c["resources"]["limits"] == {"memory": str(256 << 20), "cpu": "1500m"}
    assert {"name": "grant-0", "mountPath": "/srv/data", "readOnly": True} in c["volumeMounts"]
    # What a Pod cannot say, in comments.
    assert "# - process.limit: a Pod cannot set pids.max" in r.stdout
    assert "# - no Landlock" in r.stdout
    user = yaml.safe_load(export("kubernetes", "security.user").stdout)
    sc = user["spec"]["containers"][0]["securityContext"]
    assert sc["runAsNonRoot"] is False and "CHOWN" in sc["capabilities"]["add"]
    assert "SYS_ADMIN" not in sc["capabilities"]["add"]


# ---------------------------------------------------------------- systemd

def systemd_verify(tmp, text):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    path = os.path.join(tmp, "ward-export-test.service")
    with open(path, "w") as f:
        f.write("[Unit]\nDescription=ward export test\n\n" + text)
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", path], capture_output=True,
                       text=True, timeout=60, cwd=tmp)
    return p


def test_systemd_directives_verify(tmp_path):
    cases = [
        [],
        ["network.loopback", "fs.write=/srv/out", "process.limit=64", "cpu.limit=0.5"],
        ["security.user", "network.connect=10.0.0.1:80", "network.listen=8080"],
        ["security.admin", "host.devices=/dev/fuse", "fs.scratch.noexec", "host.tmp"],
    ]
    for allow in cases:
        r = export("systemd", *allow, command=["/usr/bin/true"])
        p = systemd_verify(str(tmp_path), r.stdout)
        # Unknown keys, bad values and unknown syscalls are warnings on
        # stderr with exit status 0: none is allowed.
        assert p.returncode == 0 and p.stderr.strip() == "", (allow, p.stderr)
    # A wrong directive is seen: the check is not a no-op.
    bad = systemd_verify(str(tmp_path), "[Service]\nExecStart=/usr/bin/true\n"
                                        "RestrictAddressFamilies=AF_NOSUCH\nNoSuchKey=1\n")
    assert bad.stderr.strip(), bad


def test_systemd_directives_say_the_policy():
    out = export("systemd").stdout
    lines = out.splitlines()
    assert "NoNewPrivileges=yes" in lines and "CapabilityBoundingSet=" in lines
    assert "RestrictAddressFamilies=AF_UNIX " in lines and "PrivateNetwork=yes" in lines
    assert "RestrictNamespaces=yes" in lines and "RestrictSUIDSGID=yes" in lines
    assert "SystemCallErrorNumber=ENOSYS" in lines and "TasksMax=1024" in lines
    filt = " ".join(l.split("=", 1)[1] for l in lines if l.startswith("SystemCallFilter="))
    assert " read " in f" {filt} " and " mount " not in f" {filt} " and "bpf" not in filt
    assert "ExecPaths=/usr /bin /sbin /lib /lib32 /lib64 /libx32 /etc /tmp /dev/shm" in lines
    assert "# - no Landlock" in out
    strict = export("systemd", "fs.scratch.noexec").stdout.splitlines()
    assert "ExecPaths=/usr /bin /sbin /lib /lib32 /lib64 /libx32 /etc" in strict


# ---------------------------------------------------------------- errors

def test_export_errors_name_the_fix():
    r = run_ward("export", "--format", "dockr")
    assert r.returncode == 2 and "docker-seccomp, oci, kubernetes or systemd" in r.stderr, r
    r = run_ward("export", "--allow", "network.none")
    assert r.returncode == 2 and "--format is required" in r.stderr, r
    r = run_ward("export", "--format", "oci", "--allow", "netwrok.none")
    assert r.returncode != 0 and 'did you mean "network.none"' in r.stderr, r
    r = run_ward("export", "--help")
    assert r.returncode == 0 and "weaker than under ward" in r.stdout, r


# ---------------------------------------------------------------- import

def imported(fmt, text, tmp_path, name="in.json"):
    path = os.path.join(str(tmp_path), name)
    with open(path, "w") as f:
        f.write(text)
    r = run_ward("import", "--from", fmt, path)
    assert r.returncode == 0, r
    lines = [l.split("#", 1)[0].strip() for l in r.stdout.splitlines()]
    return [l for l in lines if l], r


@pytest.mark.parametrize("allow", [[], ["security.user"], ["process.debug"],
                                   ["security.user", "process.debug"]],
                         ids=lambda a: ",".join(a) or "default")
def test_import_of_an_exported_profile_gives_the_same_profile(tmp_path, allow):
    text = export("docker-seccomp", *allow).stdout
    ents, r = imported("docker-seccomp", text, tmp_path)
    again = json.loads(export("docker-seccomp", *ents).stdout)
    assert again == json.loads(text), (ents, r.stdout)


def test_import_never_grants_a_dangerous_entitlement_on_a_profiles_word(tmp_path):
    text = export("docker-seccomp", "security.admin").stdout
    ents, r = imported("docker-seccomp", text, tmp_path)
    assert "security.admin" not in ents, r
    assert "# NOT MAPPED: the profile allows mount(2), which only security.admin " \
           "[dangerous] allows" in r.stdout, r
    assert "could not be mapped" in r.stderr, r


def test_import_podmans_default_profile(tmp_path):
    path = "/usr/share/containers/seccomp.json"
    if not os.path.exists(path):
        pytest.skip(f"{path} is not installed (containers-common)")
    r = run_ward("import", "--from", "docker-seccomp", path)
    assert r.returncode == 0, r
    ents = [l.split("#")[0].strip() for l in r.stdout.splitlines() if l.split("#")[0].strip()]
    assert ents == ["security.user"], r.stdout
    # Entries that need a capability, and calls ward refuses, are listed.
    assert "only with CAP_SYS_ADMIN: taken as without it" in r.stdout
    assert "IP sockets: choose network.loopback" in r.stdout


def test_import_oci_config(tmp_path):
    cfg = json.loads(export("oci", "fs.write=/srv/out", "fs.read=/srv/in", "security.user",
                            "process.limit=64", "memory.limit=256M", "files.limit=4096").stdout)
    cfg["mounts"].append({"destination": "/data", "type": "bind", "source": "/srv/elsewhere",
                          "options": ["rbind", "ro"]})
    ents, r = imported("oci", json.dumps(cfg), tmp_path)
    for want in ("fs.write=/srv/out", "fs.read=/srv/in", "security.user", "process.limit=64",
                 f"memory.limit={256 << 20}", "files.limit=4096"):
        assert want in ents, (want, r.stdout)
    assert "binds /srv/elsewhere at /data: ward grants a host path at the same place only" \
        in r.stdout, r.stdout
    # The manifest is valid: ward resolves it.
    path = os.path.join(str(tmp_path), "m.ent")
    with open(path, "w") as f:
        f.write(r.stdout)
    assert run_ward("explain", "--manifest", path).returncode == 0


def test_import_kubernetes_yaml(tmp_path):
    text = export("kubernetes", "fs.read=/srv/data", "memory.limit=256M", "security.user").stdout
    ents, r = imported("kubernetes", text, tmp_path, "pod.yaml")
    assert set(ents) == {"security.user", f"memory.limit={256 << 20}", "fs.read=/srv/data"}, r
    # A bare securityContext in JSON, privileged: the nearest is said, not granted silently.
    sc = json.dumps({"privileged": True, "allowPrivilegeEscalation": True,
                     "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}})
    ents, r = imported("kubernetes", sc, tmp_path, "sc.json")
    assert "privileged: true has no ward equivalent" in r.stdout, r
    assert "security.admin" in ents and "process.setuid" in ents
    assert "[dangerous]" in r.stdout


def test_import_hostile_input_cannot_write_a_line(tmp_path):
    # Someone else's file: names and paths with newlines stay in comments.
    prof = {"defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [{"names": ["read\nsecurity.admin"], "action": "SCMP_ACT_ALLOW"}]}
    ents, r = imported("docker-seccomp", json.dumps(prof), tmp_path)
    assert ents == [], r
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {
        "containers": [{"name": "a", "image": "i", "securityContext": {
            "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True},
            "volumeMounts": [{"name": "v", "mountPath": "/srv/a\nsecurity.admin"}]}],
        "volumes": [{"name": "v", "hostPath": {"path": "/srv/a\nsecurity.admin"}}]}}
    ents, r = imported("kubernetes", json.dumps(pod), tmp_path)
    assert ents == [], r
    assert "\\nsecurity.admin" in r.stdout and "\nsecurity.admin" not in r.stdout, r
    bad = run_ward("import", "--from", "docker-seccomp", "/nonexistent.json")
    assert bad.returncode != 0 and "cannot read /nonexistent.json" in bad.stderr, bad
    bad = run_ward("import", "--from", "oci", os.path.join(str(tmp_path), "in.json"))
    assert bad.returncode == 0  # a Pod read as a config.json: nothing to map, still a manifest

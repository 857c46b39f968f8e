# SPDX-License-Identifier: GPL-2.0-or-later
"""deploy/kubernetes, checked offline: containerd accepts the runtime stanza
(`containerd config dump` of a config that merges it), the YAML has the
fields the Kubernetes API requires for its kinds (kubectl's dry run needs an
API server, which this machine has not: this is a schema check of our own,
field by field), the RuntimeClass's handler is the runtime entry's name, and
the Pod's entitlements are words ward's resolver accepts."""

import fnmatch
import os
import re
import shutil
import subprocess
import tempfile
import tomllib

import pytest
import yaml

from ocienv import REPO, WARD

DEPLOY = os.path.join(REPO, "deploy", "kubernetes")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$")

# The fields each kind may have at the top level and in the parts we use
# (Kubernetes 1.2x API reference).
TOP = {"RuntimeClass": {"apiVersion", "kind", "metadata", "handler", "overhead",
                        "scheduling"},
       "Pod": {"apiVersion", "kind", "metadata", "spec", "status"}}
API = {"RuntimeClass": "node.k8s.io/v1", "Pod": "v1"}
CONTAINER = {"name", "image", "command", "args", "env", "resources", "securityContext",
             "ports", "volumeMounts", "workingDir", "imagePullPolicy", "stdin", "tty"}


def load(name):
    with open(os.path.join(DEPLOY, name)) as f:
        return list(yaml.safe_load_all(f))


def toml():
    with open(os.path.join(DEPLOY, "containerd-ward.toml"), "rb") as f:
        return tomllib.load(f)


def runtime_entries():
    cri = toml()["plugins"]["io.containerd.grpc.v1.cri"]
    return cri["containerd"]["runtimes"]


def check_object(doc):
    kind = doc.get("kind")
    assert kind in TOP, kind
    assert set(doc) <= TOP[kind], set(doc) - TOP[kind]
    assert doc["apiVersion"] == API[kind]
    md = doc["metadata"]
    assert DNS_SUBDOMAIN.match(md["name"]) and len(md["name"]) <= 253, md["name"]
    for key, value in (md.get("annotations") or {}).items():
        prefix, _, name = key.rpartition("/")
        assert QUALIFIED.match(name), key
        assert not prefix or (DNS_SUBDOMAIN.match(prefix) and len(prefix) <= 253), key
        assert isinstance(value, str), (key, value)


def test_runtime_entry_is_the_runc_v2_shim_with_ward():
    ward = runtime_entries()["ward"]
    assert ward["runtime_type"] == "io.containerd.runc.v2"
    assert os.path.isabs(ward["options"]["BinaryName"])
    assert os.path.basename(ward["options"]["BinaryName"]) == "ward"
    for key in ("pod_annotations", "container_annotations"):
        assert any(fnmatch.fnmatchcase("org.ward.entitlements", p) for p in ward[key]), key


@pytest.mark.skipif(shutil.which("containerd") is None, reason="needs containerd")
def test_containerd_accepts_the_stanza():
    """containerd parses the config, CRI plugin included, and keeps the entry."""
    d = tempfile.mkdtemp(prefix="ward-k8s-")
    try:
        with open(os.path.join(DEPLOY, "containerd-ward.toml")) as f:
            stanza = f.read()
        cfg = os.path.join(d, "config.toml")
        with open(cfg, "w") as f:
            f.write(stanza.replace("version = 2\n", f'version = 2\nroot = "{d}/root"\n'
                                   f'state = "{d}/state"\n', 1))
        r = subprocess.run(["containerd", "--config", cfg, "config", "dump"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        dumped = tomllib.loads(r.stdout)
        ward = dumped["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]["ward"]
        assert ward["runtime_type"] == "io.containerd.runc.v2"
        assert ward["options"]["BinaryName"] == "/usr/local/bin/ward"
        assert "org.ward.*" in ward["pod_annotations"]
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_runtimeclass():
    (rc,) = load("runtimeclass.yaml")
    check_object(rc)
    assert DNS_LABEL.match(rc["handler"])
    assert rc["handler"] in runtime_entries(), "the handler names a runtime of the stanza"


def test_example_pod():
    (pod,) = load("pod-example.yaml")
    (rc,) = load("runtimeclass.yaml")
    check_object(pod)
    spec = pod["spec"]
    assert spec["runtimeClassName"] == rc["metadata"]["name"]
    assert spec["containers"], "a Pod needs a container"
    for c in spec["containers"]:
        assert set(c) <= CONTAINER, set(c) - CONTAINER
        assert DNS_LABEL.match(c["name"]) and isinstance(c["image"], str)
        assert all(isinstance(a, str) for a in c.get("command", []) + c.get("args", []))
    ent = pod["metadata"]["annotations"]["org.ward.entitlements"]
    # ward's resolver, as create will read it (commas or blanks separate)
    words = [w for w in re.split(r"[,\s]+", ent) if w]
    manifest = os.path.join(tempfile.mkdtemp(prefix="ward-k8s-"), "pod.ent")
    try:
        with open(manifest, "w") as f:
            f.write("\n".join(words) + "\n")
        r = subprocess.run([WARD, "explain", "--manifest", manifest], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    finally:
        shutil.rmtree(os.path.dirname(manifest), ignore_errors=True)

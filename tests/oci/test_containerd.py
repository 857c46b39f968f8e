# SPDX-License-Identifier: GPL-2.0-or-later
"""ward under containerd's runc v2 shim (the Kubernetes node's path), with a
private containerd 1.6 (ctrdenv.Containerd): `ctr run --runc-binary` sets
the shim's BinaryName option exactly as a runtime entry of containerd's
CRI config does (deploy/kubernetes/containerd-ward.toml).  The shim's
calls: create, start, state, exec --process, ps --format json, pause,
resume, kill [--all], delete [--force], update --resources -; task metrics
read the cgroup the state names.  Everything is removed at the end: tasks,
containers, shims, containerd, its directories, ward's state and cgroups."""

import json
import os
import shutil
import subprocess
import time
import uuid

import pytest

from ctrdenv import IMAGE, Containerd
from ocienv import WARD

pytestmark = pytest.mark.skipif(shutil.which("containerd") is None or
                                shutil.which("ctr") is None or
                                shutil.which("containerd-shim-runc-v2") is None,
                                reason="needs Debian's containerd (containerd, ctr, "
                                       "containerd-shim-runc-v2)")


@pytest.fixture(scope="module")
def ctrd():
    c = Containerd()
    yield c
    c.stop()
    assert c.shims() == [], "shims left running"


class Ns:
    """One containerd namespace and one ward --root per test."""

    def __init__(self, ctrd):
        self.c = ctrd
        self.ns = "wt" + uuid.uuid4().hex[:8]
        self.root = os.path.join(ctrd.dir, "ward-" + self.ns)
        self.parents = []
        ctrd.import_into(self.ns)

    def pod_parent(self):
        """The pod-level cgroup, made beforehand as the kubelet makes
        /kubepods/.../podUID (ctr's default cgroupsPath is /NS/ID): ward
        removes only the levels it made, and a sandbox deleted before the
        pod's last container could not remove a shared parent."""
        for ctl in os.listdir("/sys/fs/cgroup"):
            d = f"/sys/fs/cgroup/{ctl}/{self.ns}"
            if ctl != "unified" and not os.path.islink(f"/sys/fs/cgroup/{ctl}") and \
                    not os.path.exists(d):
                os.mkdir(d)
                self.parents.append(d)
                if "cpuset" in ctl.split(","):
                    for f in ("cpuset.cpus", "cpuset.mems"):
                        with open(f"/sys/fs/cgroup/{ctl}/{f}") as src, \
                                open(f"{d}/{f}", "w") as dst:
                            dst.write(src.read())

    def ctr(self, *args, **kw):
        return self.c.ctr("-n", self.ns, *args, **kw)

    def run(self, cid, *cmd, extra=(), detach=False, timeout=60):
        argv = ["run", "--runc-binary", WARD, "--runc-root", self.root] + list(extra)
        if detach:
            argv.append("-d")
        else:
            argv.append("--rm")
        return self.ctr(*(argv + [IMAGE, cid] + list(cmd)), timeout=timeout)

    def ward(self, *args, input=None):
        return subprocess.run([WARD, "--root", os.path.join(self.root, self.ns)] + list(args),
                              capture_output=True, text=True, timeout=60, input=input,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def bundle(self, cid):
        return os.path.join(self.c.dir, "state", "io.containerd.runtime.v2.task", self.ns, cid)

    def wait_task(self, cid, status, timeout=20):
        deadline = time.monotonic() + timeout
        out = ""
        while time.monotonic() < deadline:
            out = self.ctr("task", "ls").stdout
            for line in out.splitlines():
                f = line.split()
                if f and f[0] == cid and f[-1] == status:
                    return
            time.sleep(0.1)
        raise AssertionError(f"{cid} not {status}: {out}")

    def cleanup(self):
        self.c.clean_namespace(self.ns)
        for d in self.parents:
            os.rmdir(d)
        left = os.path.join(self.root, self.ns)
        assert not os.path.isdir(left) or os.listdir(left) == [], os.listdir(left)
        for ctl in ("pids", "memory", "freezer"):
            assert not os.path.exists(f"/sys/fs/cgroup/{ctl}/{self.ns}"), ctl
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def ns(ctrd):
    n = Ns(ctrd)
    yield n
    n.cleanup()


def test_run_output_and_exit_codes(ns):
    r = ns.run("r1", "sh", "-c", "echo hello; exit 0")
    assert r.returncode == 0 and r.stdout == "hello\n", r
    r = ns.run("r2", "sh", "-c", "exit 3")
    assert r.returncode == 3, r
    # a missing program is create's error, through the shim's log.json
    r = ns.run("r4", "/no/such/program")
    assert r.returncode != 0 and "no such file or directory" in r.stderr.lower(), r


def test_exec_ps_pause_resume_metrics_kill_delete(ns):
    r = ns.run("d1", "sleep", "1000", detach=True)
    assert r.returncode == 0, r
    ns.wait_task("d1", "RUNNING")
    r = ns.ctr("task", "exec", "--exec-id", "e1", "d1", "sh", "-c", "echo in; exit 5")
    assert r.returncode == 5 and r.stdout == "in\n", r
    st = json.loads(ns.ward("state", "d1").stdout)
    assert st["status"] == "running"
    r = ns.ctr("task", "ps", "d1")
    assert str(st["pid"]) in r.stdout, r
    assert ns.ctr("task", "pause", "d1").returncode == 0
    ns.wait_task("d1", "PAUSED")
    assert json.loads(ns.ward("state", "d1").stdout)["status"] == "paused"
    assert ns.ctr("task", "resume", "d1").returncode == 0
    ns.wait_task("d1", "RUNNING")
    r = ns.ctr("task", "metrics", "--format", "json", "d1")
    assert r.returncode == 0, r
    m = json.loads(r.stdout)
    # the shim reads the cgroup ward made and recorded
    assert m["pids"]["current"] == 1 and m["cpu"]["usage"]["total"] > 0, r.stdout
    assert m["memory"]["rss"] > 0, r.stdout
    r = ns.ctr("task", "kill", "-s", "KILL", "d1")
    assert r.returncode == 0, r
    ns.wait_task("d1", "STOPPED")
    assert ns.ctr("task", "delete", "d1").returncode == 0
    assert ns.ward("state", "d1").returncode != 0
    assert ns.ctr("container", "delete", "d1").returncode == 0


def test_kill_all_reaches_every_process(ns):
    assert ns.run("k1", "sh", "-c", "sleep 1000 & sleep 1000", detach=True).returncode == 0
    ns.wait_task("k1", "RUNNING")
    r = ns.ctr("task", "kill", "--all", "-s", "KILL", "k1")
    assert r.returncode == 0, r
    ns.wait_task("k1", "STOPPED")
    assert ns.ctr("task", "delete", "k1").returncode == 0


def test_update_as_the_shim_calls_it(ns):
    """CRI UpdateContainerResources -> shim Update -> `update --resources -`
    with the new linux.resources on stdin (ctr 1.6 has no `task update`,
    so the test calls ward as the shim does).  Device rules stay."""
    assert ns.run("u1", "sleep", "1000", detach=True).returncode == 0
    ns.wait_task("u1", "RUNNING")
    cg = f"/{ns.ns}/u1"
    devs = open(f"/sys/fs/cgroup/devices{cg}/devices.list").read()
    res = {"memory": {"limit": 96 << 20}, "cpu": {"shares": 256, "quota": 20000,
                                                   "period": 100000}, "pids": {"limit": 50}}
    r = ns.ward("update", "--resources", "-", "u1", input=json.dumps(res))
    assert r.returncode == 0, r
    rd = lambda c, f: open(f"/sys/fs/cgroup/{c}{cg}/{f}").read().strip()  # noqa: E731
    assert rd("memory", "memory.limit_in_bytes") == str(96 << 20)
    assert rd("cpu", "cpu.shares") == "256" and rd("cpu", "cpu.cfs_quota_us") == "20000"
    assert rd("pids", "pids.max") == "50"
    assert open(f"/sys/fs/cgroup/devices{cg}/devices.list").read() == devs
    r = ns.ward("update", "--pids-limit", "60", "u1")
    assert r.returncode == 0 and rd("pids", "pids.max") == "60", r
    r = ns.ward("update", "--resources", "-", "u1", input="[1]")
    assert r.returncode != 0 and "linux.resources object" in r.stderr, r
    r = ns.ward("events", "--stats", "u1")
    ev = json.loads(r.stdout)
    assert ev["type"] == "stats" and ev["id"] == "u1"
    assert ev["data"]["pids"]["current"] >= 1 and ev["data"]["pids"]["limit"] == 60
    assert ev["data"]["memory"]["usage"]["limit"] == 96 << 20


ENT = "process.limit=16 memory.limit=64M"


def test_annotation_bounds_the_container(ns):
    """ctr run --annotation org.ward.entitlements=...: the container gets no
    more than the entitlements, and an update cannot raise it past them."""
    r = ns.run("a1", "sh", "-c", "grep -E 'CapEff|NoNewPrivs|Seccomp:' /proc/self/status; "
               "cat /proc/self/uid_map; sleep 1000",
               extra=["--annotation", f"org.ward.entitlements={ENT}"], detach=True)
    assert r.returncode == 0, r
    ns.wait_task("a1", "RUNNING")
    cg = f"/{ns.ns}/a1"
    rd = lambda c, f: open(f"/sys/fs/cgroup/{c}{cg}/{f}").read().strip()  # noqa: E731
    assert rd("pids", "pids.max") == "16"
    assert rd("memory", "memory.limit_in_bytes") == str(64 << 20)
    st = json.loads(ns.ward("state", "a1").stdout)
    assert st["annotations"]["org.ward.entitlements"] == ENT
    pid = st["pid"]
    status = open(f"/proc/{pid}/status").read()
    assert "CapEff:\t0000000000000000" in status and "NoNewPrivs:\t1" in status
    assert "Seccomp:\t2" in status
    uid_map = open(f"/proc/{pid}/uid_map").read().split()
    assert uid_map[:1] == ["0"] and uid_map[1] != "0", uid_map  # the OCI pool, not host root
    # an update asks for more: the entitlements still bound it
    r = ns.ward("update", "--resources", "-", "a1",
                input=json.dumps({"memory": {"limit": 1 << 30}, "pids": {"limit": 4096}}))
    assert r.returncode == 0, r
    assert rd("memory", "memory.limit_in_bytes") == str(64 << 20)
    assert rd("pids", "pids.max") == "16"
    # the admission-time view of the config containerd generated
    r = subprocess.run([WARD, "explain", "--bundle", ns.bundle("a1")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r
    assert "process.limit=16" in r.stdout and "memory.limit=64M" in r.stdout, r.stdout
    ns.ctr("task", "kill", "-s", "KILL", "a1")
    ns.wait_task("a1", "STOPPED")


def test_annotation_refuses_a_privileged_container(ns):
    """ctr run --privileged asks for every capability and the host's
    devices: under the annotation ward refuses, and says why in ctr's error."""
    r = ns.run("p1", "true", extra=["--privileged", "--annotation",
                                    "org.ward.entitlements=network.none"])
    assert r.returncode != 0, r
    assert "org.ward.entitlements" in r.stderr and "host.devices" in r.stderr, r


# ---- a Kubernetes pod under the annotation (pod.c), as the CRI makes it ----

CRI_TYPE = "io.kubernetes.cri.container-type"
CRI_SID = "io.kubernetes.cri.sandbox-id"
POD_ENT = "network.none process.limit=32"


def ann(**kv):
    out = []
    for k, v in kv.items():
        out += ["--annotation", f"{k}={v}"]
    return out


def ns_ids(pid):
    return {t: os.stat(f"/proc/{pid}/ns/{t}").st_ino for t in ("net", "ipc", "uts", "user")}


@pytest.fixture
def netns():
    """A network namespace such as the CRI makes for a pod (the CNI's)."""
    name = f"w-oci-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    yield f"/run/netns/{name}"
    subprocess.run(["ip", "netns", "delete", name])


def start_sandbox(ns, netns, ent=POD_ENT, sid="sbx"):
    """The pause container as the CRI asks for it: its own annotations, the
    pod network namespace by path; containerd's runc v2 shim groups the
    pod's containers into one shim by io.kubernetes.cri.sandbox-id."""
    r = ns.run(sid, "sleep", "1000", detach=True,
               extra=ann(**{CRI_TYPE: "sandbox", CRI_SID: sid,
                            "org.ward.entitlements": ent}) + ["--with-ns", f"network:{netns}"])
    return r


def app_args(spid, ent=POD_ENT, sid="sbx", paths=None):
    paths = paths or {t: f"/proc/{spid}/ns/{t}" for t in ("net", "ipc", "uts")}
    extra = ann(**{CRI_TYPE: "container", CRI_SID: sid, "org.ward.entitlements": ent})
    for t, p in paths.items():
        extra += ["--with-ns", f"{ {'net': 'network'}.get(t, t) }:{p}"]
    return extra


def test_pod_containers_share_the_sandbox_namespaces(ns, netns):
    ns.pod_parent()
    r = start_sandbox(ns, netns)
    assert r.returncode == 0, r
    ns.wait_task("sbx", "RUNNING")
    sst = json.loads(ns.ward("state", "sbx").stdout)
    spid = sst["pid"]
    sb = ns_ids(spid)
    # network.none: the CNI's namespace is replaced by a new one
    assert sb["net"] != os.stat(netns).st_ino
    r = ns.run("app", "sleep", "1000", extra=app_args(spid), detach=True)
    assert r.returncode == 0, r
    ns.wait_task("app", "RUNNING")
    apid = json.loads(ns.ward("state", "app").stdout)["pid"]
    assert ns_ids(apid) == sb
    uid_map = open(f"/proc/{apid}/uid_map").read().split()
    assert uid_map == open(f"/proc/{spid}/uid_map").read().split() and uid_map[1] != "0"
    # its own cgroup and limits (process.limit=32)
    assert open(f"/sys/fs/cgroup/pids/{ns.ns}/app/pids.max").read().strip() == "32"
    # The sandbox goes first: the pod's uid range stays leased, to the app.
    slot = json.load(open(os.path.join(ns.root, ns.ns, "sbx", "state.json")))["uid_pool_slot"]
    lease = f"/run/ward/oci-ids/{slot}"
    ns.ctr("task", "kill", "-s", "KILL", "sbx")
    ns.wait_task("sbx", "STOPPED")
    assert ns.ctr("task", "delete", "sbx").returncode == 0
    assert open(lease).read().split()[0] == str(apid)
    ns.ctr("task", "kill", "-s", "KILL", "app")
    ns.wait_task("app", "STOPPED")
    assert ns.ctr("task", "delete", "app").returncode == 0
    assert not os.path.exists(lease)


def test_pod_join_needs_the_same_entitlements(ns, netns):
    assert start_sandbox(ns, netns).returncode == 0
    ns.wait_task("sbx", "RUNNING")
    spid = json.loads(ns.ward("state", "sbx").stdout)["pid"]
    r = ns.run("app2", "true", extra=app_args(spid, ent="network.none process.limit=64"))
    assert r.returncode != 0, r
    assert "other entitlements" in r.stderr and "joining a" in r.stderr, r


def test_pod_join_only_the_sandbox_namespaces(ns, netns):
    """Attack: a container of the pod names the host's network namespace
    (or another process's) with the pod's annotations."""
    assert start_sandbox(ns, netns).returncode == 0
    ns.wait_task("sbx", "RUNNING")
    spid = json.loads(ns.ward("state", "sbx").stdout)["pid"]
    # the host's network namespace (the test's own; /proc/1 is not
    # readable on this VM)
    host = f"/proc/{os.getpid()}/ns/net"
    r = ns.run("app3", "true", extra=app_args(spid, paths={"net": host}))
    assert r.returncode != 0 and "joining a network namespace by path" in r.stderr, r


def test_pod_join_refused_outside_the_pods_shim(ns, netns, oci):
    """Attack: a bundle run by someone else (here: ward create from the test,
    not the pod's shim) claims to be a container of a running sandbox."""
    assert start_sandbox(ns, netns).returncode == 0
    ns.wait_task("sbx", "RUNNING")
    spid = json.loads(ns.ward("state", "sbx").stdout)["pid"]
    oci.rootfs_in_bundle()
    oci.root = os.path.join(ns.root, ns.ns)  # the sandbox's --root
    oci.config["annotations"] = {CRI_TYPE: "container", CRI_SID: "sbx",
                                 "org.ward.entitlements": POD_ENT}
    oci.config["linux"]["namespaces"] = [{"type": "network", "path": f"/proc/{spid}/ns/net"},
                                         {"type": "mount"}, {"type": "pid"}]
    r = oci.create(f"intruder-{os.getpid()}", "true", check=False)
    assert r.returncode != 0, r
    assert "not started by the process that runs this create" in r.stderr, r


def test_pod_network_joined_under_network_outbound(ns, netns):
    """network.outbound: the sandbox joins the engine's fresh pod network,
    and its /sys is that namespace's (mounted by the runtime there, not
    the host's /sys bound in)."""
    ns.pod_parent()
    r = start_sandbox(ns, netns, ent="network.outbound")
    assert r.returncode == 0, r
    ns.wait_task("sbx", "RUNNING")
    spid = json.loads(ns.ward("state", "sbx").stdout)["pid"]
    assert os.stat(f"/proc/{spid}/ns/net").st_ino == os.stat(netns).st_ino
    assert sorted(os.listdir(f"/proc/{spid}/root/sys/class/net")) == ["lo"]
    assert sorted(os.listdir("/sys/class/net")) != ["lo"]
    # and the pod's containers share it
    r = ns.run("app", "sleep", "1000", extra=app_args(spid, ent="network.outbound"),
               detach=True)
    assert r.returncode == 0, r
    ns.wait_task("app", "RUNNING")
    apid = json.loads(ns.ward("state", "app").stdout)["pid"]
    assert ns_ids(apid) == ns_ids(spid)
    assert sorted(os.listdir(f"/proc/{apid}/root/sys/class/net")) == ["lo"]


def test_pod_network_must_be_fresh(ns, netns):
    """Attack: a sandbox names a network namespace something already uses
    (another pod's)."""
    name = os.path.basename(netns)
    p = subprocess.Popen(["ip", "netns", "exec", name, "sleep", "100"])
    try:
        time.sleep(0.3)
        r = start_sandbox(ns, netns, ent="network.outbound")
        assert r.returncode != 0 and "processes are in it already" in r.stderr, r
    finally:
        p.kill()
        p.wait()


def test_pod_network_may_not_be_the_hosts(ns):
    """Attack: the host's network namespace under /run/netns."""
    name = f"w-oci-host-{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "attach", name, str(os.getpid())], check=True)
    try:
        r = start_sandbox(ns, f"/run/netns/{name}", ent="network.outbound")
        assert r.returncode != 0 and "host's network namespace" in r.stderr, r
        r = start_sandbox(ns, f"/proc/{os.getpid()}/ns/net", ent="network.outbound",
                          sid="sbx2")
        assert r.returncode != 0 and "right under /run/netns" in r.stderr, r
    finally:
        subprocess.run(["ip", "netns", "delete", name])


# ---- the admission-time view (issue 12 §3) ----

EXAMPLE_ENT = "network.none,process.limit=64,memory.limit=128M"  # deploy/kubernetes/pod-example.yaml

CAP_FIELDS = {"bounding": "CapBnd", "effective": "CapEff", "permitted": "CapPrm",
              "inheritable": "CapInh", "ambient": "CapAmb"}
RLIMIT_ROWS = {"RLIMIT_NOFILE": "Max open files", "RLIMIT_NPROC": "Max processes",
               "RLIMIT_CORE": "Max core file size"}


def cap_mask(names):
    nums = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
            "CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7,
            "CAP_SETPCAP": 8, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13,
            "CAP_SYS_CHROOT": 18, "CAP_MKNOD": 27, "CAP_AUDIT_WRITE": 29, "CAP_SETFCAP": 31}
    m = 0
    for n in names:
        m |= 1 << nums[n]
    return m


def test_explain_of_a_pod_config_is_what_the_container_gets(ns, netns):
    """The config containerd generates for a pod's sandbox and for a
    container of the pod, with the example Pod's annotation
    (deploy/kubernetes/pod-example.yaml): it is captured from the task's
    bundle, `ward explain --bundle --json` is run on it, and each thing
    explain says the annotation allowed is compared with the running
    container -- capability sets, no_new_privs, filters, rlimits, cgroup
    limits, namespaces, the uid range, mounts and masked paths.  explain
    must say exactly what is enforced, neither more nor less."""
    ns.pod_parent()
    r = start_sandbox(ns, netns, ent=EXAMPLE_ENT)
    assert r.returncode == 0, r
    ns.wait_task("sbx", "RUNNING")
    spid = json.loads(ns.ward("state", "sbx").stdout)["pid"]
    r = ns.run("app", "sleep", "1000", extra=app_args(spid, ent=EXAMPLE_ENT), detach=True)
    assert r.returncode == 0, r
    ns.wait_task("app", "RUNNING")
    for cid, kind in (("sbx", "sandbox"), ("app", "container")):
        bundle = ns.bundle(cid)
        with open(os.path.join(bundle, "config.json")) as f:
            captured = json.load(f)
        # it is containerd's config, with the pod's annotations through
        assert captured["annotations"]["org.ward.entitlements"] == EXAMPLE_ENT
        assert captured["annotations"][CRI_TYPE] == kind
        x = subprocess.run([WARD, "explain", "--bundle", bundle, "--root",
                            os.path.join(ns.root, ns.ns), "--json"],
                           capture_output=True, text=True, timeout=60)
        assert x.returncode == 0, x
        ex = json.loads(x.stdout)
        assert ex["entitlements"] == EXAMPLE_ENT and ex["refusals"] == [], ex
        st = json.loads(ns.ward("state", cid).stdout)
        pid = st["pid"]
        status = dict(line.split(":\t", 1) for line in
                      open(f"/proc/{pid}/status").read().splitlines() if ":\t" in line)
        if kind == "sandbox":
            # network.none: the CNI's namespace is replaced (a change explain names)
            assert any("pod network namespace the engine made is replaced" in c
                       for c in ex["changes"]), ex["changes"]
            assert {"type": "network", "path": None} in ex["namespaces"], ex["namespaces"]
            assert os.stat(f"/proc/{pid}/ns/net").st_ino != os.stat(netns).st_ino
            assert ex["podSandbox"] is None
            assert ex["userNamespace"].startswith("new (added by ward)")
        else:
            # joins its sandbox's namespaces and user namespace, and only those
            assert ex["podSandbox"] == "sbx"
            assert "pod sandbox \"sbx\"" in ex["userNamespace"], ex["userNamespace"]
            joined = {n["type"]: n["path"] for n in ex["namespaces"] if n["path"]}
            assert sorted(joined) == ["ipc", "network", "user", "uts"], ex["namespaces"]
            for t, path in joined.items():
                f = {"network": "net"}.get(t, t)
                assert path == f"/proc/{spid}/ns/{f}", (t, path)
                assert os.stat(f"/proc/{pid}/ns/{f}").st_ino == \
                    os.stat(f"/proc/{spid}/ns/{f}").st_ino, t
            assert open(f"/proc/{pid}/uid_map").read() == open(f"/proc/{spid}/uid_map").read()
            # explain with the wrong --root finds no sandbox: refused, never a false allow
            y = subprocess.run([WARD, "explain", "--bundle", bundle, "--json"],
                               capture_output=True, text=True, timeout=60)
            assert y.returncode == 1 and "does not exist" in y.stdout, y
        # capabilities: every set, as the kernel reports them
        for field, row in CAP_FIELDS.items():
            assert int(status[row].strip(), 16) == cap_mask(ex["capabilitySets"][field]), \
                (cid, field, ex["capabilitySets"][field], status[row])
        assert ex["capabilitySets"]["effective"] == []  # security.confined
        assert ex["noNewPrivileges"] is True and status["NoNewPrivs"].strip() == "1"
        # filters: ward's for the entitlements, plus the config's if any
        assert ex["wardSeccomp"] is True
        assert int(status["Seccomp_filters"]) == 1 + (1 if ex["seccomp"] else 0), status
        # rlimits
        limits = open(f"/proc/{pid}/limits").read().splitlines()
        for rl in ex["rlimits"]:
            row = RLIMIT_ROWS.get(rl["type"])
            if row is None:
                continue
            line = [ln for ln in limits if ln.startswith(row)][0]
            soft, hard = line[len(row):].split()[:2]
            conv = lambda v: -1 if v == "unlimited" else int(v)  # noqa: E731
            assert (conv(soft), conv(hard)) in ((rl["soft"], rl["hard"]),), (cid, rl, line)
        # cgroup limits: process.limit=64, memory.limit=128M
        cg = f"/{ns.ns}/{cid}"
        assert ex["resources"]["pidsLimit"] == 64
        assert open(f"/sys/fs/cgroup/pids{cg}/pids.max").read().strip() == "64"
        assert ex["resources"]["memoryLimit"] == 128 << 20
        assert open(f"/sys/fs/cgroup/memory{cg}/memory.limit_in_bytes").read().strip() == \
            str(128 << 20)
        # namespaces: explain's new ones are the container's own (not the test's)
        for n in ex["namespaces"]:
            t = {"network": "net", "mount": "mnt"}.get(n["type"], n["type"])
            assert os.stat(f"/proc/{pid}/ns/{t}").st_ino != os.stat(f"/proc/self/ns/{t}").st_ino
        # the uid range: ward's OCI pool, never host uid 0
        uid_map = open(f"/proc/{pid}/uid_map").read().split()
        assert uid_map[0] == "0" and int(uid_map[1]) >= 0x74000000 and uid_map[2] == "65536"
        # mounts: each destination is a mount point, read-only where explain says
        info = open(f"/proc/{pid}/mountinfo").read().splitlines()
        points = {}
        for ln in info:
            f = ln.split(" - ")[0].split()
            points[f[4]] = f[5].split(",")
        for m in ex["mounts"]:
            assert m["destination"] in points, (cid, m, sorted(points))
            if "ro" in m["options"]:
                assert "ro" in points[m["destination"]], (cid, m)
            if "nosuid" in m["options"]:
                assert "nosuid" in points[m["destination"]], (cid, m)
        # masked paths: what exists in the image is covered
        for p in ex["maskedPaths"]:
            if os.path.lexists(f"/proc/{pid}/root{p}"):
                assert p in points, (cid, p)
    for cid in ("app", "sbx"):
        ns.ctr("task", "kill", "-s", "KILL", cid)
        ns.wait_task(cid, "STOPPED")

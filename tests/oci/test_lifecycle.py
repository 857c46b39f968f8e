# SPDX-License-Identifier: GPL-2.0-or-later
"""ward as an OCI runtime, driven by its command line on a busybox bundle:
the runtime-spec lifecycle and what config.json asks for."""

import json
import os
import signal
import socket
import subprocess
import time

import pytest

from ocienv import WARD, cgroup_dirs, wait_for


def test_spec_writes_a_runnable_config(oci):
    with open(os.path.join(oci.bundle, "config.json")) as f:
        cfg = json.load(f)
    assert cfg["ociVersion"].startswith("1.")
    assert {"type": "mount"} in cfg["linux"]["namespaces"]
    r = oci.ward("spec", "--bundle", oci.bundle)
    assert r.returncode != 0 and "already exists" in r.stderr


def test_features_document(oci):
    r = oci.ward("features", check=True)
    f = json.loads(r.stdout)
    assert f["ociVersionMin"] == "1.0.0"
    assert "SCMP_ACT_NOTIFY" in f["linux"]["seccomp"]["actions"]
    assert "user" in f["linux"]["namespaces"]
    assert f["linux"]["cgroup"]["v1"] and f["linux"]["cgroup"]["v2"]
    assert not f["linux"]["cgroup"]["systemd"]
    assert "CAP_SYS_ADMIN" in f["linux"]["capabilities"]


def test_lifecycle_create_start_kill_delete(oci):
    oci.create("life", "sleep", "1000")
    st = oci.state("life")
    assert st["status"] == "created"
    assert st["id"] == "life" and st["bundle"] == oci.bundle
    with open(os.path.join(oci.tmp, "life.pid")) as f:
        pid = int(f.read())
    assert st["pid"] == pid
    # Created: the init waits; the program has not been executed yet.
    with open(f"/proc/{pid}/comm") as f:
        assert f.read().strip() == "ward"
    listing = oci.ward("list", "--format", "json", check=True)
    assert [c["id"] for c in json.loads(listing.stdout)] == ["life"]
    oci.ward("start", "life", check=True)
    assert oci.state("life")["status"] == "running"
    with open(f"/proc/{pid}/comm") as f:
        assert f.read().strip() == "sleep"
    r = oci.ward("start", "life")
    assert r.returncode != 0 and "not created" in r.stderr
    r = oci.ward("delete", "life")
    assert r.returncode != 0 and "running" in r.stderr
    oci.ward("kill", "life", "KILL", check=True)
    oci.wait_status("life", "stopped")
    assert oci.state("life")["pid"] == 0
    oci.ward("delete", "life", check=True)
    r = oci.ward("state", "life")
    assert r.returncode != 0 and "does not exist" in r.stderr
    assert not any(os.path.exists(d) for d in cgroup_dirs("/ward/oci/life"))


def test_kill_with_signal_names_and_numbers(oci):
    oci.config["process"]["args"] = ["sh", "-c",
                                     "trap 'exit 7' USR1; echo ready; while :; do sleep 0.05; done"]
    oci.create("sig")
    oci.ward("start", "sig", check=True)
    # sh is pid 1 of its namespace: a USR1 before its trap is discarded.
    assert wait_for(lambda: "ready" in oci.output("sig")), oci.output("sig")
    oci.ward("kill", "sig", "SIGUSR1", check=True)
    oci.wait_status("sig", "stopped")
    r = oci.ward("kill", "sig", "9")
    assert r.returncode != 0 and "not running" in r.stderr
    assert oci.ward("kill", "sig", "NOSUCHSIG").returncode == 2


def test_delete_force_and_created_delete(oci):
    oci.create("f1", "sleep", "1000")
    oci.ward("start", "f1", check=True)
    oci.ward("delete", "--force", "f1", check=True)
    assert oci.ward("state", "f1").returncode != 0
    # A created container may be deleted without --force (runc does so).
    oci.create("f2", "sleep", "1000")
    oci.ward("delete", "f2", check=True)
    # --force on something that does not exist is not an error.
    oci.ward("delete", "--force", "nothing-here", check=True)


def test_duplicate_id_and_bad_id(oci):
    oci.create("dup", "sleep", "1000")
    r = oci.create("dup", check=False)
    assert r.returncode != 0 and "already exists" in r.stderr
    r = oci.ward("create", "--bundle", oci.bundle, "bad/id")
    assert r.returncode != 0 and "invalid container id" in r.stderr


def test_run_exit_status_and_output(oci):
    r = oci.sh("echo hello; exit 3")
    assert r.returncode == 3 and r.stdout == "hello\n", r
    r = oci.run("true")
    assert r.returncode == 0
    # run removes the container when it ends
    assert oci.ward("list", "-q", check=True).stdout == ""


def test_missing_program_fails_at_create(oci):
    r = oci.create("nx", "no-such-program", check=False)
    assert r.returncode != 0
    assert 'exec: "no-such-program": executable file not found in $PATH' in r.stderr
    assert oci.ward("state", "nx").returncode != 0
    r = oci.run("no-such-program")
    assert r.returncode == 127, r


def test_process_user_env_cwd_hostname(oci):
    p = oci.config["process"]
    p["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 7]}
    p["env"] = ["PATH=/bin", "FOO=bar baz"]
    p["cwd"] = "/home/user"
    oci.config["hostname"] = "box1"
    r = oci.sh("id; echo \"$FOO\"; pwd; hostname")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0].startswith("uid=1000(user) gid=1000(user) groups=")
    assert "5" in lines[0] and "7" in lines[0]
    assert lines[1:] == ["bar baz", "/home/user", "box1"]


def status_field(text, name):
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


def test_capabilities_and_no_new_privileges(oci):
    caps = ["CAP_CHOWN", "CAP_KILL"]
    oci.config["process"]["capabilities"] = {
        "bounding": caps + ["CAP_NET_RAW"], "effective": caps, "permitted": caps,
        "inheritable": [], "ambient": []}
    oci.config["process"]["noNewPrivileges"] = True
    r = oci.run("cat", "/proc/self/status")
    assert r.returncode == 0, r
    assert int(status_field(r.stdout, "CapEff"), 16) == (1 << 0) | (1 << 5)
    assert int(status_field(r.stdout, "CapBnd"), 16) == (1 << 0) | (1 << 5) | (1 << 13)
    assert int(status_field(r.stdout, "CapAmb"), 16) == 0
    assert status_field(r.stdout, "NoNewPrivs") == "1"
    oci.config["process"]["noNewPrivileges"] = False
    r = oci.run("cat", "/proc/self/status")
    assert status_field(r.stdout, "NoNewPrivs") == "0"


def test_capabilities_of_non_root_user_via_ambient(oci):
    caps = ["CAP_NET_BIND_SERVICE"]
    oci.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    oci.config["process"]["capabilities"] = {
        "bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps,
        "ambient": caps}
    r = oci.run("cat", "/proc/self/status")
    assert int(status_field(r.stdout, "CapEff"), 16) == 1 << 10, r
    assert int(status_field(r.stdout, "CapAmb"), 16) == 1 << 10


def test_rlimits(oci):
    oci.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
    r = oci.sh("ulimit -n; ulimit -Hn; ulimit -c")
    assert r.stdout.split() == ["123", "456", "0"], r


def test_rlimit_above_the_hard_limit_is_an_error(oci):
    oci.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1 << 30,
                                         "hard": 1 << 30}]
    r = oci.run("true")
    assert r.returncode != 0 and "RLIMIT_NOFILE" in r.stderr, r


def test_namespaces_are_new(oci):
    r = oci.sh("for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done; "
               "echo $$")
    assert r.returncode == 0, r
    lines = r.stdout.split()
    for line, n in zip(lines, ["pid", "net", "ipc", "uts", "mnt", "cgroup"]):
        assert line != os.readlink(f"/proc/self/ns/{n}"), n
    assert lines[-1] == "1"


def test_join_a_network_namespace_by_path(oci):
    holder = subprocess.Popen(["unshare", "--net", "sleep", "1000"])
    try:
        path = f"/proc/{holder.pid}/ns/net"
        for _ in range(100):
            if os.readlink(path) != os.readlink("/proc/self/ns/net"):
                break
            time.sleep(0.01)
        want = os.readlink(path)
        ns = [n for n in oci.config["linux"]["namespaces"] if n["type"] != "network"]
        ns.append({"type": "network", "path": path})
        oci.config["linux"]["namespaces"] = ns
        r = oci.run("readlink", "/proc/self/ns/net")
        assert r.returncode == 0, r
        assert r.stdout.strip() == want
    finally:
        holder.kill()
        holder.wait()


def test_user_namespace_with_mappings(oci):
    oci.config["linux"]["namespaces"].append({"type": "user"})
    oci.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    oci.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    oci.config["process"]["user"] = {"uid": 0, "gid": 0}
    r = oci.sh("cat /proc/self/uid_map; id -u; ls /dev/null")
    assert r.returncode == 0, r
    assert r.stdout.split()[:3] == ["0", "200000", "65536"]
    assert "0" in r.stdout.split()[3]


def test_mounts_bind_tmpfs_and_options(oci):
    src = os.path.join(oci.tmp, "share")
    os.makedirs(src)
    with open(os.path.join(src, "file"), "w") as f:
        f.write("from the host\n")
    oci.config["mounts"] += [
        {"destination": "/data/ro", "type": "bind", "source": src, "options": ["rbind", "ro"]},
        {"destination": "/data/rw", "type": "none", "source": src, "options": ["bind"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "noexec", "size=1m", "mode=1777"]},
    ]
    r = oci.sh("cat /data/ro/file; touch /data/ro/x 2>&1 || echo ro-denied; "
               "echo hi > /data/rw/new && echo rw-ok; grep ' /tmp ' /proc/mounts")
    assert r.returncode == 0, r
    assert "from the host" in r.stdout
    assert "ro-denied" in r.stdout and "rw-ok" in r.stdout
    tmp_line = [line for line in r.stdout.splitlines() if " /tmp " in line][0]
    for opt in ("nosuid", "nodev", "noexec", "size=1024k"):
        assert opt in tmp_line
    assert os.path.exists(os.path.join(src, "new"))


def test_mount_destination_symlink_stays_in_rootfs(oci, rootfs):
    # A bind whose destination is a symlink pointing outside resolves inside.
    link = os.path.join(oci.tmp, "evil-root")
    shutil_copy = __import__("shutil").copytree
    shutil_copy(rootfs, link, symlinks=True)
    os.symlink("/etc", os.path.join(link, "escape"))
    oci.config["root"]["path"] = link
    src = os.path.join(oci.tmp, "payload")
    os.makedirs(src)
    oci.config["mounts"].append({"destination": "/escape/inside", "type": "bind",
                                 "source": src, "options": ["bind"]})
    r = oci.run("true")
    assert r.returncode == 0, r
    assert not os.path.exists("/etc/inside")
    assert os.path.isdir(os.path.join(link, "etc", "inside"))


def test_readonly_root_masked_and_readonly_paths(oci):
    oci.config["root"]["readonly"] = True
    r = oci.sh("touch /newfile 2>/dev/null || echo root-ro; "
               "echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo sys-ro; "
               "wc -c < /proc/kcore; ls /proc/acpi | wc -l; "
               "grep -c . /proc/timer_list")
    out = r.stdout.split()
    assert out[0] == "root-ro" and out[1] == "sys-ro", r
    assert out[2] == "0" and out[3] == "0"
    oci.config["root"]["readonly"] = False
    oci.config["linux"]["maskedPaths"] = []
    r = oci.sh("grep -c . /proc/timer_list")
    assert int(r.stdout.strip()) > 0


def test_sysctl(oci):
    oci.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.domainname": "ex.org"}
    r = oci.sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/domainname")
    assert r.stdout.split() == ["1", "ex.org"], r


def test_dev_default_devices_and_linux_devices(oci):
    oci.config["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o600}]
    oci.config["linux"]["resources"]["devices"] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"}]
    r = oci.sh("ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty "
               "/dev/fuse; head -c 4 /dev/zero | wc -c; readlink /dev/fd; readlink /dev/ptmx")
    assert r.returncode == 0, r
    assert "crw-------" in [line for line in r.stdout.splitlines() if "fuse" in line][0]
    assert "\n4\n" in r.stdout
    assert "/proc/self/fd" in r.stdout and "pts/ptmx" in r.stdout


def test_device_cgroup_denies_other_devices(oci):
    # Even with CAP_MKNOD, a node outside the rules cannot be opened.
    caps = ["CAP_MKNOD", "CAP_DAC_OVERRIDE"]
    oci.config["process"]["capabilities"] = {"bounding": caps, "effective": caps,
                                             "permitted": caps}
    r = oci.sh("mknod /dev/mem2 c 1 1 && (head -c1 /dev/mem2 >/dev/null 2>&1 && echo opened "
               "|| echo denied)")
    assert r.stdout.strip() == "denied", r


def test_cgroup_resources_on_this_host(oci):
    res = oci.config["linux"]["resources"]
    res["memory"] = {"limit": 64 << 20, "reservation": 32 << 20}
    res["pids"] = {"limit": 20}
    res["cpu"] = {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"}
    oci.config["linux"]["cgroupsPath"] = "/ward-test/res1"
    oci.create("res1", "sleep", "1000")
    base = "/sys/fs/cgroup"

    def read(ctrl, f):
        with open(f"{base}/{ctrl}/ward-test/res1/{f}") as fh:
            return fh.read().strip()

    assert read("memory", "memory.limit_in_bytes") == str(64 << 20)
    assert read("memory", "memory.soft_limit_in_bytes") == str(32 << 20)
    assert read("pids", "pids.max") == "20"
    assert read("cpu", "cpu.shares") == "512"
    assert read("cpu", "cpu.cfs_quota_us") == "50000"
    assert read("cpuset", "cpuset.cpus") == "0"
    pid = oci.state("res1")["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        text = f.read()
    assert ":pids:/ward-test/res1" in text and ":memory:/ward-test/res1" in text
    oci.ward("delete", "--force", "res1", check=True)
    assert not os.path.exists(f"{base}/pids/ward-test")


def test_pids_limit_stops_a_fork_bomb(oci):
    oci.config["linux"]["resources"]["pids"] = {"limit": 10}
    oci.config["linux"]["cgroupsPath"] = "/ward-test/bomb"
    oci.create("bomb", "sh", "-c", "while :; do sleep 1000 & done")
    oci.ward("start", "bomb", check=True)
    d = "/sys/fs/cgroup/pids/ward-test/bomb"
    deadline = time.monotonic() + 5
    events = 0
    while time.monotonic() < deadline and events == 0:
        with open(f"{d}/pids.events") as f:
            events = int(f.read().split()[1])
        time.sleep(0.05)
    assert events > 0
    with open(f"{d}/pids.current") as f:
        assert int(f.read()) <= 10


def test_container_sees_its_cgroup_read_only(oci):
    oci.config["linux"]["resources"]["pids"] = {"limit": 33}
    r = oci.sh("cat /sys/fs/cgroup/pids/pids.max; touch /sys/fs/cgroup/pids/x 2>/dev/null "
               "|| echo ro")
    assert r.stdout.split() == ["33", "ro"], r


def test_pause_resume_and_ps(oci):
    oci.create("pz", "sh", "-c", "sleep 1000 & wait")
    oci.ward("start", "pz", check=True)
    def ps():
        return json.loads(oci.ward("ps", "--format", "json", "pz", check=True).stdout)

    # sh forks sleep a moment after it starts.
    wait_for(lambda: len(ps()) >= 2)
    pids = ps()
    assert len(pids) == 2
    oci.ward("pause", "pz", check=True)
    assert oci.state("pz")["status"] == "paused"
    # What the state says is what the freezer did (the v1 freezer here;
    # its tasks show as D while frozen).
    freezer = [d for d in cgroup_dirs("/ward/oci/pz") if "/freezer/" in d]
    assert len(freezer) == 1, cgroup_dirs("/ward/oci/pz")
    with open(os.path.join(freezer[0], "freezer.state")) as f:
        assert f.read().strip() == "FROZEN"
    with open(f"/proc/{pids[1]}/status") as f:
        assert "State:\tD" in f.read()
    oci.ward("resume", "pz", check=True)
    assert oci.state("pz")["status"] == "running"
    with open(os.path.join(freezer[0], "freezer.state")) as f:
        assert f.read().strip() == "THAWED"
    r = oci.ward("resume", "pz")
    assert r.returncode != 0 and "not paused" in r.stderr
    oci.ward("kill", "--all", "pz", "KILL", check=True)
    oci.wait_status("pz", "stopped")


def test_hooks_get_the_state_on_stdin(oci):
    log = os.path.join(oci.tmp, "hooks.log")
    hook = os.path.join(oci.tmp, "hook.sh")
    with open(hook, "w") as f:
        f.write(f"#!/bin/sh\necho \"$1 $(cat)\" >> {log}\n")
    os.chmod(hook, 0o755)
    oci.config["hooks"] = {
        k: [{"path": hook, "args": ["hook.sh", k]}]
        for k in ("prestart", "createRuntime", "createContainer", "poststart", "poststop")}
    oci.config["hooks"]["startContainer"] = [{"path": "/bin/true"}]
    oci.create("hk", "sleep", "1000")
    oci.ward("start", "hk", check=True)
    oci.ward("delete", "--force", "hk", check=True)
    with open(log) as f:
        lines = f.read().splitlines()
    kinds = [line.split(" ", 1)[0] for line in lines]
    assert kinds == ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]
    states = [json.loads(line.split(" ", 1)[1]) for line in lines]
    # prestart: "created" (crun, runtime-tools); createRuntime: "creating"
    assert states[0]["status"] == "created" and states[0]["pid"] > 0
    assert states[1]["status"] == "creating"
    assert states[3]["status"] == "running"
    assert states[4]["status"] == "stopped"
    assert all(s["id"] == "hk" for s in states)


def test_failing_prestart_hook_fails_create(oci):
    oci.config["hooks"] = {"prestart": [{"path": "/bin/false"}]}
    r = oci.create("hf", "true", check=False)
    assert r.returncode != 0 and "prestart hook /bin/false failed" in r.stderr
    assert oci.ward("state", "hf").returncode != 0


def test_log_file_json(oci):
    log = os.path.join(oci.tmp, "ward.log")
    r = subprocess.run([WARD, "--root", oci.root, "--log", log, "--log-format", "json",
                        "state", "nope"], capture_output=True, text=True)
    assert r.returncode != 0
    with open(log) as f:
        entry = json.loads(f.readline())
    assert entry["level"] == "error" and "does not exist" in entry["msg"]


def test_systemd_cgroup_path_is_refused_clearly(oci):
    oci.config["linux"]["cgroupsPath"] = "system.slice:ward:abc"
    r = oci.create("sd", "true", check=False)
    assert r.returncode != 0 and "cgroupfs" in r.stderr


def test_cgroup_v2_standin(oci):
    """The v2 backend, against a directory tree standing in for cgroup2."""
    root = os.path.join(oci.tmp, "cg2")
    os.makedirs(root)
    with open(os.path.join(root, "cgroup.controllers"), "w") as f:
        f.write("cpuset cpu io memory pids\n")
    res = oci.config["linux"]["resources"]
    res["memory"] = {"limit": 64 << 20, "swap": 96 << 20}
    res["pids"] = {"limit": 20}
    res["cpu"] = {"shares": 1024, "quota": 50000, "period": 100000}
    res["blockIO"] = {"weight": 500}
    oci.config["linux"]["cgroupsPath"] = "/pod/c1"
    env = dict(os.environ, WARD_OCI_CGROUP_ROOT=root)
    oci.create("v2", "true", env=env)
    d = os.path.join(root, "pod", "c1")

    def read(f):
        with open(os.path.join(d, f)) as fh:
            return fh.read().strip()

    assert read("memory.max") == str(64 << 20)
    assert read("memory.swap.max") == str(32 << 20)
    assert read("pids.max") == "20"
    assert read("cpu.weight") == "39"
    assert read("cpu.max") == "50000 100000"
    assert read("io.weight") == "4950"
    assert "instructions" in read("ward.devices.bpf")
    with open(os.path.join(root, "cgroup.subtree_control")) as fh:
        assert "+memory" in fh.read()
    oci.ward("delete", "--force", "v2", env=env, check=True)
    assert not os.path.exists(os.path.join(root, "pod"))


def test_console_socket_gets_the_terminal(oci):
    sock_path = os.path.join(oci.tmp, "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    oci.config["process"]["terminal"] = True
    oci.config["process"]["args"] = ["sh", "-c", "tty; echo on-the-tty"]
    try:
        oci.create("tty1", extra=["--console-socket", sock_path])
        conn, _ = srv.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 1024, 1)
        assert len(fds) == 1
        master = fds[0]
        oci.ward("start", "tty1", check=True)
        out = b""
        deadline = time.monotonic() + 5
        while b"on-the-tty" not in out and time.monotonic() < deadline:
            try:
                chunk = os.read(master, 1024)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        assert b"/dev/pts/0" in out and b"on-the-tty" in out, out
        os.close(master)
        conn.close()
    finally:
        srv.close()


def test_exec_joins_the_container(oci):
    oci.config["hostname"] = "exechost"
    oci.config["linux"]["resources"]["pids"] = {"limit": 30}
    oci.create("ex", "sleep", "1000")
    oci.ward("start", "ex", check=True)
    init = oci.state("ex")["pid"]
    r = oci.ward("exec", "--env", "X=42", "--cwd", "/tmp", "ex", "sh", "-c",
                 "hostname; echo $X; pwd; echo $$; readlink /proc/self/ns/mnt")
    assert r.returncode == 0, r
    out = r.stdout.split()
    assert out[:3] == ["exechost", "42", "/tmp"]
    assert out[4] == os.readlink(f"/proc/{init}/ns/mnt")
    r = oci.ward("exec", "ex", "sh", "-c", "exit 5")
    assert r.returncode == 5
    r = oci.ward("exec", "--user", "1000:1000", "ex", "id", "-u")
    assert r.stdout.strip() == "1000", r
    r = oci.ward("exec", "ex", "no-such-cmd")
    assert r.returncode == 127 and "executable file not found" in r.stderr


def test_exec_process_file_detach_and_pid_file(oci):
    oci.create("exd", "sleep", "1000")
    oci.ward("start", "exd", check=True)
    proc = {"args": ["sleep", "999"], "cwd": "/", "env": ["PATH=/bin"],
            "user": {"uid": 0, "gid": 0}}
    pfile = os.path.join(oci.tmp, "process.json")
    with open(pfile, "w") as f:
        json.dump(proc, f)
    pidf = os.path.join(oci.tmp, "exec.pid")
    out = open(os.path.join(oci.tmp, "exec.out"), "w")
    r = subprocess.run([WARD, "--root", oci.root, "exec", "--process", pfile, "--detach",
                        "--pid-file", pidf, "exd"], stdout=out, stderr=out, timeout=30)
    out.close()
    assert r.returncode == 0
    with open(pidf) as f:
        pid = int(f.read())
    with open(f"/proc/{pid}/cmdline") as f:
        assert f.read().split("\0")[:2] == ["sleep", "999"]
    r = oci.ward("ps", "--format", "json", "exd", check=True)
    assert pid in json.loads(r.stdout)

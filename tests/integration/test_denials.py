# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 3: denied syscalls are explained in entitlement words, and
`ward learn` writes the smallest manifest that lets a program run.

For each entitlement family: a program that needs it is run without it
(ward names the entitlement), learned (the manifest has it and nothing
dangerous it does not need), and run with the learned manifest (it works).
"""

import json
import os
import re
import shutil

import pytest

from conftest import HELPERS, PROBE, WARD, run_probe, run_ward

DANGEROUS = ("network.host", "security.admin", "process.setuid", "host.time", "host.devices")
PY = shutil.which("python3", path="/usr/bin")


def entitlement_lines(path):
    """The entitlements of a manifest, without comments."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def learn(tmpdir, *argv, allow=(), chdir=None):
    out = os.path.join(tmpdir, "learned.ent")
    args = ["learn", "-q", "-o", out]
    for a in allow:
        args += ["-a", a]
    if chdir:
        args += ["-C", chdir]
    r = run_ward(*args, "--", *argv, timeout=60)
    assert r.returncode == 0, r
    assert os.path.exists(out), r
    return out, entitlement_lines(out)


def denial_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("ward: denied ")]


# ---------------------------------------------------------------- explaining

def test_denied_mount_names_security_admin():
    r = run_ward("run", "--", "/bin/sh", "-c", "mount -t tmpfs none /tmp")
    assert r.returncode != 0
    lines = denial_lines(r.stderr)
    assert len(lines) == 1, r.stderr
    assert re.match(r"ward: denied mount\(2\) by the syscall filter in pid \d+ "
                    r"\(/usr/bin/mount\) — grant security\.admin \[dangerous\] to allow$",
                    lines[0]), lines[0]
    # The program still got its errno: mount(8) says permission denied.
    assert "permission denied" in r.stderr.lower()


def test_denied_socket_names_the_network_entitlement():
    p = run_probe("socket", "inet")
    assert p.errno == "EPERM", p
    lines = denial_lines(p.stderr)
    assert lines and "socket(AF_INET)" in lines[0], p.stderr
    assert ("grant network.loopback (or network.outbound, network.connect, network.listen, "
            "network.host [dangerous], network.admin [dangerous]) to allow"
            in lines[0])


def test_denial_without_any_entitlement_says_so():
    p = run_probe("bpf")
    assert p.errno == "EPERM", p
    lines = denial_lines(p.stderr)
    assert lines and "bpf(2)" in lines[0] and "no entitlement allows it" in lines[0], p.stderr


def test_program_sees_the_same_errno_as_without_notification():
    reported = run_probe("socket", "inet")
    plain = run_probe("socket", "inet", ward_opts=["--quiet-denials"])
    assert reported.errno == plain.errno == "EPERM"
    assert denial_lines(plain.stderr) == []


def test_flood_is_rate_limited_and_summarised():
    r = run_ward("run", "-a", f"fs.exec={HELPERS}", "--", "/bin/sh", "-c",
                 f"for i in 1 2 3 4 5 6 7 8 9 10; do {PROBE} bpf >/dev/null; done")
    assert r.returncode == 0, r
    assert len([l for l in denial_lines(r.stderr) if "bpf(2)" in l]) == 1, r.stderr
    assert "ward: 9 more denials of bpf(2)" in r.stderr, r.stderr


def test_denials_log_json_lines(tmpdir_real):
    log = os.path.join(tmpdir_real, "denials.jsonl")
    p = run_probe("socket", "packet", ward_opts=["--quiet-denials", "--denials-log", log])
    assert p.errno == "EPERM"
    assert denial_lines(p.stderr) == []
    with open(log) as f:
        entries = [json.loads(l) for l in f]
    assert len(entries) == 1, entries
    e = entries[0]
    assert e["syscall"] == "socket" and e["arg"] == "AF_PACKET" and e["errno"] == 1
    assert e["exe"].endswith("/probe") and e["pid"] >= 1 and e["learning"] is False


def test_unknown_syscall_is_enosys_not_reported():
    # A syscall the profile does not know gets ENOSYS from the filter itself,
    # with no round trip to the supervisor.
    if not PY:
        pytest.skip("python3 is not installed")
    code = ("import ctypes, errno\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "r = libc.syscall(1000)\n"
            "print(r, errno.errorcode[ctypes.get_errno()])\n")
    r = run_ward("run", "--", PY, "-c", code)
    assert r.returncode == 0, r
    assert r.stdout.split() == ["-1", "ENOSYS"], r
    assert denial_lines(r.stderr) == []


# ---------------------------------------------------------------- learning

def test_learn_network_loopback(tmpdir_real):
    if not PY:
        pytest.skip("python3 is not installed")
    code = ("import socket\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
            "c = socket.create_connection(s.getsockname()); a, _ = s.accept()\n"
            "c.sendall(b'hi'); assert a.recv(2) == b'hi'; print('talked')\n")
    r = run_ward("run", "--", PY, "-c", code)
    assert r.returncode != 0
    assert any("socket(AF_INET)" in l and "network.loopback" in l
               for l in denial_lines(r.stderr)), r.stderr
    path, ents = learn(tmpdir_real, PY, "-c", code)
    assert "network.loopback" in ents, ents
    assert not [e for e in ents if e.startswith(DANGEROUS)], ents
    r = run_ward("run", "-m", path, "--", PY, "-c", code)
    assert r.returncode == 0 and "talked" in r.stdout, r


def test_learn_fs_read_generalises_to_a_directory(tmpdir_real, make_tmpdir):
    data = make_tmpdir()
    for i in range(6):
        with open(os.path.join(data, f"f{i}.txt"), "w") as f:
            f.write(f"{i}\n")
    cmd = ["/bin/sh", "-c", f"cat {data}/*.txt"]
    r = run_ward("run", "--", *cmd)
    assert r.returncode != 0  # the files are not in the view
    path, ents = learn(tmpdir_real, *cmd)
    assert f"fs.read={data}" in ents, ents
    assert not [e for e in ents if e.startswith(("fs.write", "fs.exec") + DANGEROUS)], ents
    r = run_ward("run", "-m", path, "--", *cmd)
    assert r.returncode == 0 and r.stdout.split() == [str(i) for i in range(6)], r


def test_learn_fs_write(tmpdir_real, make_tmpdir):
    out = make_tmpdir()
    cmd = ["/bin/sh", "-c", f"echo result > {out}/result.txt"]
    r = run_ward("run", "--", *cmd)
    assert r.returncode != 0
    path, ents = learn(tmpdir_real, *cmd)
    assert f"fs.write={out}" in ents, ents
    # Learning writes to a throw-away overlay, never to the host.
    assert not os.path.exists(os.path.join(out, "result.txt"))
    r = run_ward("run", "-m", path, "--", *cmd)
    assert r.returncode == 0, r
    with open(os.path.join(out, "result.txt")) as f:
        assert f.read() == "result\n"


def test_learn_fs_exec(tmpdir_real, make_tmpdir):
    bindir = make_tmpdir()
    tool = os.path.join(bindir, "tool")
    shutil.copy(PROBE, tool)
    r = run_ward("run", "--", tool, "ids")
    assert r.returncode == 127
    assert f"fs.exec=DIR" in r.stderr, r.stderr
    path, ents = learn(tmpdir_real, tool, "ids")
    assert f"fs.exec={bindir}" in ents, ents
    r = run_ward("run", "-m", path, "--", tool, "ids")
    assert r.returncode == 0 and r.stdout.startswith("ok"), r


def test_learn_process_debug(tmpdir_real):
    p = run_probe("ptrace-child")
    assert p.errno == "EPERM", p
    assert any("ptrace(2)" in l and "grant process.debug" in l for l in denial_lines(p.stderr))
    path, ents = learn(tmpdir_real, PROBE, "ptrace-child")
    assert "process.debug" in ents, ents
    assert not [e for e in ents if e.startswith(DANGEROUS)], ents
    r = run_ward("run", "-m", path, "--", PROBE, "ptrace-child")
    assert r.returncode == 0 and r.stdout.startswith("ok"), r


def test_learn_security_admin(tmpdir_real):
    cmd = ["/usr/bin/unshare", "-U", "/bin/true"]
    r = run_ward("run", "--", *cmd)
    assert r.returncode != 0
    assert any("unshare(CLONE_NEWUSER)" in l and "security.admin" in l
               for l in denial_lines(r.stderr)), r.stderr
    path, ents = learn(tmpdir_real, *cmd)
    assert "security.admin" in ents, ents
    r = run_ward("run", "-q", "-m", path, "--", *cmd)
    assert r.returncode == 0, r


def test_learn_host_time_is_recorded(tmpdir_real):
    # clock_settime with an invalid time: EPERM when refused, EINVAL when
    # allowed; the clock never changes.
    p = run_probe("clock-invalid")
    assert p.errno == "EPERM"
    assert any("clock_settime(2)" in l and "host.time" in l for l in denial_lines(p.stderr))
    _, ents = learn(tmpdir_real, PROBE, "clock-invalid")
    assert "host.time" in ents, ents


def test_learn_resources(tmpdir_real):
    _, ents = learn(tmpdir_real, "/bin/sh", "-c", "true; true; /bin/true")
    limits = dict(e.split("=", 1) for e in ents if "=" in e)
    assert int(limits["process.limit"]) >= 4
    assert limits["memory.limit"].endswith("M")


def test_learned_manifest_for_a_quiet_program_is_small(tmpdir_real):
    _, ents = learn(tmpdir_real, "/bin/true")
    assert not [e for e in ents if not e.startswith(("process.limit", "memory.limit"))], ents


def test_learn_git_init(tmpdir_real, make_tmpdir):
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    work = make_tmpdir()
    cmd = ["git", "init", "-q", os.path.join(work, "repo")]
    path, ents = learn(tmpdir_real, *cmd)
    assert f"fs.write={work}" in ents, ents
    assert not [e for e in ents if e.startswith(DANGEROUS)], ents
    assert not os.path.exists(os.path.join(work, "repo"))
    r = run_ward("run", "-m", path, "--", *cmd)
    assert r.returncode == 0, r
    assert os.path.isdir(os.path.join(work, "repo", ".git"))


def test_learn_tar_of_a_directory(tmpdir_real, make_tmpdir):
    src = make_tmpdir()
    dst = make_tmpdir()
    for i in range(4):
        with open(os.path.join(src, f"n{i}"), "w") as f:
            f.write("x" * 100)
    cmd = ["tar", "-C", src, "-cf", os.path.join(dst, "out.tar"), "."]
    path, ents = learn(tmpdir_real, *cmd)
    assert f"fs.read={src}" in ents and f"fs.write={dst}" in ents, ents
    r = run_ward("run", "-m", path, "--", *cmd)
    assert r.returncode == 0, r
    assert os.path.getsize(os.path.join(dst, "out.tar")) > 400


def test_learn_python_multiprocess(tmpdir_real, make_tmpdir):
    if not PY:
        pytest.skip("python3 is not installed")
    out = make_tmpdir()
    code = ("import subprocess, sys\n"
            f"subprocess.run(['/bin/sh', '-c', 'echo from-child > {out}/child.txt'], check=True)\n"
            "print('done')\n")
    path, ents = learn(tmpdir_real, PY, "-c", code)
    assert f"fs.write={out}" in ents, ents
    r = run_ward("run", "-m", path, "--", PY, "-c", code)
    assert r.returncode == 0 and "done" in r.stdout, r


def test_learn_bad_usage():
    r = run_ward("learn")
    assert r.returncode == 2 and "no program given" in r.stderr
    r = run_ward("learn", "-o", "/nonexistent-dir/x.ent", "--", "/bin/true")
    assert r.returncode == 125 and "/nonexistent-dir/x.ent" in r.stderr, r


# ---------------------------------------------------------------- issue 13: scratch space and file refusals

SH = "/bin/sh"


def refusal_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("ward: refused ")]


def test_default_scratch_space_runs_what_the_program_wrote():
    # What compilers, `go run` and test runners do: write a program into
    # /tmp (or /dev/shm) and run it.  The default sandbox lets them.
    r = run_ward("run", "--", SH, "-c",
                 "cp /bin/true /tmp/x && /tmp/x && cp /bin/true /dev/shm/y && /dev/shm/y "
                 "&& echo ran")
    assert r.returncode == 0 and r.stdout.strip() == "ran", r
    assert not refusal_lines(r.stderr), r


def test_strict_scratch_refusal_is_explained():
    r = run_ward("run", "-a", "fs.scratch.noexec", "--", SH, "-c",
                 "cp /bin/true /tmp/x; cd /tmp; ./x; /tmp/x; echo status=$?")
    assert "status=126" in r.stdout, r
    lines = refusal_lines(r.stderr)
    # One line for the directory, however often it is refused.
    assert len(lines) == 1, r.stderr
    assert re.match(r"ward: refused execute\(/tmp/x\) by the mount \(noexec\) in pid \d+ "
                    r"\(/usr/bin/dash\) — the scratch space is not executable under "
                    r"fs\.scratch\.noexec; remove it to allow$", lines[0]), lines[0]
    assert "ward: 1 more refusal: exec beneath /tmp" in r.stderr, r


def test_exec_in_a_write_grant_names_fs_exec(make_tmpdir):
    d = make_tmpdir()
    shutil.copy("/bin/true", os.path.join(d, "tool"))
    r = run_ward("run", "-a", f"fs.write={d}", "--", SH, "-c", f"{d}/tool; echo status=$?")
    assert "status=126" in r.stdout, r
    lines = refusal_lines(r.stderr)
    assert lines == [f"ward: refused execute({d}/tool) by the mount (noexec) in pid "
                     f"{lines[0].split(' in pid ')[1].split()[0]} (/usr/bin/dash) — grant "
                     f"fs.exec={d} to allow (fs.read and fs.write grants never execute)"], r
    # The grant it names works.
    r = run_ward("run", "-a", f"fs.write={d}", "-a", f"fs.exec={d}", "--", f"{d}/tool")
    assert r.returncode == 0 and not refusal_lines(r.stderr), r


def test_exec_without_the_supervisor_is_still_refused_by_the_layers():
    # execveat with AT_EMPTY_PATH is the one exec the filter does not send
    # to the supervisor (the launcher's own, which must not wait for it;
    # seccomp.c).  Passing unexplained changes nothing for the layers: the
    # noexec scratch space still refuses it, with the mount's EACCES, by
    # path and by descriptor (fexecve); a plain execve is still explained.
    if os.uname().machine != "x86_64":
        pytest.skip("the execveat number below is x86_64's")
    r = run_ward("run", "-a", "fs.scratch.noexec", "--", PY, "-c", r"""
import ctypes, os, shutil
shutil.copy("/bin/true", "/tmp/x")
libc = ctypes.CDLL(None, use_errno=True)
argv = (ctypes.c_char_p * 2)(b"/tmp/x", None)
envp = (ctypes.c_char_p * 1)(None)
libc.syscall(322, -100, b"/tmp/x", argv, envp, 0x1000)  # execveat, AT_EMPTY_PATH
print("path", ctypes.get_errno())
try:
    os.execve(os.open("/tmp/x", os.O_RDONLY), ["x"], {})
except OSError as e:
    print("fd", e.errno)
try:
    os.execv("/tmp/x", ["x"])
except OSError as e:
    print("execve", e.errno)
""")
    assert r.stdout.split() == ["path", "13", "fd", "13", "execve", "13"], r
    lines = refusal_lines(r.stderr)
    assert len(lines) == 1 and lines[0].startswith(
        "ward: refused execute(/tmp/x) by the mount (noexec)"), r.stderr


def test_refusal_lines_escape_the_path(make_tmpdir):
    # The path is the program's choice: a name with a newline and an escape
    # sequence stays on one line, and cannot forge a line of ward's.
    r = run_ward("run", "-a", "fs.scratch.noexec", "--", PY, "-c", r"""
import os, shutil, subprocess
p = "/tmp/x\nward: denied nothing \x1b[2J"
shutil.copy("/bin/true", p)
os.chmod(p, 0o755)
try:
    os.execv(p, [p])
except OSError as e:
    print(e.errno)
""")
    assert r.stdout.strip() == "13", r
    lines = [l for l in r.stderr.splitlines() if l.startswith("ward:")]
    assert len(lines) == 1 and lines[0].startswith("ward: refused execute(/tmp/x\\nward: "), r
    assert "\x1b" not in r.stderr, r


def test_granting_tmp_itself_is_refused_with_the_way_to_share_it():
    for grant in ("fs.write=/tmp", "fs.exec=/tmp", "fs.read=/tmp/"):
        r = run_ward("run", "-a", grant, "--", "/bin/true")
        assert r.returncode == 125, r
        assert "would replace the sandbox's private /tmp with the host's /tmp" in r.stderr, r
        assert "grant host.tmp [dangerous]" in r.stderr, r
        assert "/tmp/NAME" in r.stderr, r


def test_host_tmp_shares_the_hosts_tmp_and_never_executes():
    import tempfile
    with tempfile.NamedTemporaryFile(dir="/tmp", prefix="ward-host-tmp-") as f:
        f.write(b"host\n")
        f.flush()
        name = os.path.basename(f.name)
        r = run_ward("run", "-a", "host.tmp", "--", SH, "-c",
                     f"cat /tmp/{name}; echo sandbox > /tmp/{name}.out; "
                     f"cp /bin/true /tmp/{name}.x; /tmp/{name}.x; echo status=$?")
        try:
            assert r.stdout.splitlines()[0] == "host", r
            assert "status=126" in r.stdout, r
            with open(f"/tmp/{name}.out") as out:
                assert out.read() == "sandbox\n"
            assert any("grant fs.exec=/tmp " in l for l in refusal_lines(r.stderr)), r
        finally:
            for suffix in (".out", ".x"):
                try:
                    os.unlink(f"/tmp/{name}{suffix}")
                except FileNotFoundError:
                    pass
    r = run_ward("entitlements")
    assert re.search(r"host\.tmp.*dangerous", r.stdout), r


# Landlock's own records (ABI 7, through the audit subsystem).

def _audit(enable=None, field=1):
    """The audit subsystem's enabled flag (or another FIELD of struct
    audit_status: 6 lost, 7 backlog); set the flag when ENABLE is given."""
    import socket
    import struct
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9)  # NETLINK_AUDIT
    try:
        s.bind((0, 0))
        if enable is not None:
            body = struct.pack("=8I", 1, int(enable), 0, 0, 0, 0, 0, 0)  # AUDIT_STATUS_ENABLED
            s.send(struct.pack("=IHHII", 16 + len(body), 1001, 1 | 4, 1, 0) + body)
            s.recv(65536)
        s.send(struct.pack("=IHHII", 16, 1000, 1, 2, 0))  # AUDIT_GET
        while True:
            d = s.recv(65536)
            if struct.unpack("=H", d[4:6])[0] == 1000:
                return struct.unpack("=I", d[16 + 4 * field:20 + 4 * field])[0]
    finally:
        s.close()


@pytest.fixture
def audit_restored():
    """Tests that turn audit on leave it as they found it."""
    try:
        before = _audit()
    except OSError as e:
        pytest.skip(f"no audit interface in this kernel: {e}")
    yield
    if _audit() != before:
        _audit(before)


def need_landlock_abi7():
    r = run_ward("explain", "--json")
    abi = json.loads(r.stdout).get("landlock_abi", 0) if r.returncode == 0 else 0
    if abi < 7:
        pytest.skip(f"Landlock ABI {abi} < 7: the kernel logs no Landlock denials")


def test_landlock_refusal_explained_from_its_audit_record(audit_restored, make_tmpdir):
    need_landlock_abi7()
    log = os.path.join(make_tmpdir(), "denials.jsonl")
    # mknod of a character device in /tmp: Landlock refuses it first
    # (EACCES; the capability layer would say EPERM behind it).
    r = run_ward("run", "--enable-audit", "--denials-log", log, "-a",
                 f"fs.exec={HELPERS}", "--", PROBE, "mknod", "/tmp/probe-null")
    assert "errno=EACCES" in r.stdout, r
    lines = refusal_lines(r.stderr)
    assert lines and re.match(r"ward: refused mknod\(/tmp.*\) by Landlock — no entitlement lets "
                              r"a sandbox make device nodes", lines[0]), r
    recs = [json.loads(l) for l in open(log)]
    assert any(x.get("layer") == "landlock" and "fs.make_char" in x["blockers"]
               for x in recs), recs


@pytest.mark.parametrize("audit_on", [True, False])
def test_landlock_refusal_explained_when_audit_is_on_already(audit_restored, make_tmpdir,
                                                              audit_on):
    """Without --enable-audit, ward asks whether audit is on and reads
    Landlock's records only then: with audit on (turned on by someone
    else), the refusal is explained from its record; with it off, ward
    says nothing of a record and does not wait for one."""
    need_landlock_abi7()
    _audit(1 if audit_on else 0)
    log = os.path.join(make_tmpdir(), "denials.jsonl")
    r = run_ward("run", "--denials-log", log, "-a", f"fs.exec={HELPERS}", "--", PROBE, "mknod",
                 "/tmp/probe-null")
    assert "errno=EACCES" in r.stdout, r
    recs = [json.loads(l) for l in open(log)] if os.path.exists(log) else []
    explained = any(x.get("layer") == "landlock" and "fs.make_char" in x.get("blockers", [])
                    for x in recs)
    assert explained == audit_on, (recs, r.stderr, f"audit lost={_audit(field=6)} "
                                                   f"backlog={_audit(field=7)}")


def test_landlock_records_of_other_sandboxes_are_not_ours(audit_restored):
    # Two sandboxes at once: each explains only the refusals of its own
    # Landlock domain (records of every process reach every reader).
    need_landlock_abi7()
    import subprocess
    other = subprocess.Popen([WARD, "run", "--enable-audit", "-a", f"fs.exec={HELPERS}", "--",
                              SH, "-c", f"sleep 1; {PROBE} mknod /tmp/other-node"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        r = run_ward("run", "--enable-audit", "--", SH, "-c", "sleep 3")
    finally:
        out, err = other.communicate(timeout=60)
    assert not refusal_lines(r.stderr), r
    assert any("refused mknod(/tmp" in l for l in refusal_lines(err)), err


def test_learn_write_into_a_host_directory_under_tmp(tmpdir_real):
    # Issue 13: a directory that exists on the host under /tmp is not the
    # program's scratch space.  Before the fix, learn treated every path
    # under /tmp as private, learned nothing, and the run failed with
    # FileNotFoundError.
    import tempfile
    d = tempfile.mkdtemp(prefix="ward-learn-tmp-", dir="/tmp")
    try:
        script = f"open('{d}/out', 'w').write('x')"
        out, lines = learn(tmpdir_real, PY, "-c", script)
        assert f"fs.write={d}" in lines, lines
        assert "fs.write=/tmp" not in lines, lines
        assert not os.path.exists(os.path.join(d, "out")), "learning left a file on the host"
        r = run_ward("run", "-q", "--manifest", out, "--", PY, "-c", script)
        assert r.returncode == 0, r
        with open(os.path.join(d, "out")) as f:
            assert f.read() == "x"
        # What the program makes in a fresh place under /tmp stays private.
        out, lines = learn(tmpdir_real, PY, "-c",
                           "import os; os.makedirs('/tmp/ward-fresh/x'); "
                           "open('/tmp/ward-fresh/x/f', 'w').write('y')")
        assert not [l for l in lines if l.startswith("fs.")], lines
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_exec_lookup_stays_inside_the_sandbox(make_tmpdir):
    # The supervisor looks an exec path up to explain a refusal.  A symbolic
    # link the program makes to a host path must resolve in the sandbox's
    # view (where the target does not exist: nothing to explain), never in
    # the supervisor's, where the target is an executable on a noexec mount
    # and an explanation would tell the program about the host's files.
    import subprocess
    d = make_tmpdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "noexec,size=1m", "ward-test", d], check=True)
    try:
        target = os.path.join(d, "host-only")
        shutil.copy("/bin/true", target)
        os.chmod(target, 0o755)
        rel = "../" * 20 + target.lstrip("/")
        r = run_ward("run", "--", SH, "-c",
                     f"ln -s {target} /tmp/abs; ln -s {rel} /tmp/rel; "
                     f"/tmp/abs; /tmp/rel; {target}; echo done")
        assert "done" in r.stdout, r
        assert not refusal_lines(r.stderr), r
        # Control: the same file reached inside the sandbox (a grant of the
        # noexec mount) is explained.
        r = run_ward("run", "-a", f"fs.read={d}", "--", SH, "-c", f"{target}; echo done")
        assert any("by the mount (noexec)" in l for l in refusal_lines(r.stderr)), r
    finally:
        subprocess.run(["umount", d], check=False)

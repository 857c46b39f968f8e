# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 11, items 5, 6 and 10: `ward learn` and the denial explainer
against the program they observe.

- The observed program must never decide the privileges of later runs: no
  name it chooses (or finds on the host) may add a line to the learned
  manifest (item 5).
- Nothing the observed program does may persist on the host: it is not host
  root, and the host objects it reaches are not writable to it (item 6).
- What it names (its executable, a memfd) reaches the operator's terminal
  and the denials log only escaped (item 10).
"""

import json
import os
import shutil
import socket
import stat
import struct
import threading

import pytest

from conftest import PROBE, rootless, rootless_uid, run_ward

PY = shutil.which("python3", path="/usr/bin")
ID_POOL_BASE = 0x70000000  # lib/launch.h: the first host uid a sandbox gets

# Hostile text a program can put in a file name or a memfd name.
FORGED = "\033[2J\033]0;OWNED\007\nward: all good, nothing denied\n"


def entitlements(path):
    """(name, value) of every entitlement the manifest parser would read: the
    same rule as lib/entitlements/parse.c ('#' at the start or after a blank
    starts a comment; blanks at the ends are trimmed)."""
    out = []
    with open(path, "rb") as f:
        for raw in f.read().split(b"\n"):
            line = raw.decode("utf-8", "surrogateescape")
            for i, c in enumerate(line):
                if c == "#" and (i == 0 or line[i - 1] in " \t\r"):
                    line = line[:i]
                    break
            line = line.strip(" \t\r")
            if line:
                name, _, value = line.partition("=")
                out.append((name, value))
    return out


def learn(tmp, *argv, allow=(), check=True):
    out = os.path.join(tmp, "learned.ent")
    args = ["learn", "-q", "-o", out]
    for a in allow:
        args += ["-a", a]
    r = run_ward(*args, "--", *argv, timeout=120)
    if check:
        assert r.returncode == 0, r
        assert os.path.exists(out), r
    return out, r


# ---------------------------------------------------------------- item 5

def test_learn_file_name_cannot_inject_entitlements(make_tmpdir):
    """The issue's attack: a file named "a\\nsecurity.admin\\n..." written by
    the program.  Its name reaches the manifest only inside a comment."""
    work, tmp = make_tmpdir(), make_tmpdir()
    name = "a\nsecurity.admin\nnetwork.host\nprocess.setuid\n#"
    path, _ = learn(tmp, "/bin/sh", "-c", 'echo x > "$1"', "sh", os.path.join(work, name))
    ents = entitlements(path)
    names = [n for n, _ in ents]
    for bad in ("security.admin", "network.host", "process.setuid"):
        assert bad not in names, ents
    assert ("fs.write", work) in ents, ents
    # And the file reads back cleanly: ward accepts it as a manifest.
    r = run_ward("explain", "--manifest", path)
    assert r.returncode == 0, r
    in_force = r.stdout.split("\n\n")[0].splitlines()
    assert not [l for l in in_force
                if l.split()[:1] in (["security.admin"], ["network.host"], ["process.setuid"])], \
        r.stdout


HOSTILE_NAMES = [
    # (a file name on the host, why a manifest cannot hold its path as it is)
    ("a\nsecurity.admin", "newline"),
    ("b\rnetwork.host", "carriage return"),
    ("c #d", "' #' starts a comment"),
    ("e\tf", "tab"),
    ("g\033]0;OWNED\007", "terminal escape"),
    ("h\u202egnp.exe", "right-to-left override"),
    ("trailing ", "blank at the end"),
]


@pytest.mark.parametrize("fname,why", HOSTILE_NAMES, ids=[w for _, w in HOSTILE_NAMES])
def test_learn_hostile_host_path_is_refused_not_granted(make_tmpdir, fname, why):
    """A file with such a name exists on the host (anyone can make one in a
    shared directory) and the program reads it.  The grant is not written;
    a comment says so, escaped, on one line."""
    parent, tmp = make_tmpdir(), make_tmpdir()
    target = os.path.join(parent, fname)
    with open(target, "w") as f:
        f.write("x")
    path, _ = learn(tmp, "/bin/cat", target)
    ents = entitlements(path)
    assert [n for n, _ in ents if not n.startswith(("process.", "memory."))] == [], (why, ents)
    with open(path, "rb") as f:
        text = f.read()
    notes = [l for l in text.split(b"\n") if l.startswith(b"# NOT WRITTEN: fs.read=")]
    assert len(notes) == 1, text
    assert not any(c < 0x20 or c == 0x7f for c in notes[0]), notes[0]
    assert "\u202e".encode() not in text
    r = run_ward("explain", "--manifest", path)
    assert r.returncode == 0, r


def test_learn_invalid_utf8_path_is_refused(make_tmpdir):
    parent, tmp = make_tmpdir(), make_tmpdir()
    target = os.path.join(parent.encode(), b"caf\xe9")
    with open(target, "w") as f:
        f.write("x")
    path, _ = learn(tmp, "/bin/cat", target.decode("utf-8", "surrogateescape"))
    assert not [e for e in entitlements(path) if e[0].startswith("fs.")]
    with open(path, "rb") as f:
        text = f.read()
    assert b"\xe9" not in text and b"caf\\xe9" in text, text


def test_learn_very_long_path_is_refused(make_tmpdir):
    """A path longer than a manifest line may hold: refused, not a manifest
    that ward then cannot read."""
    parent, tmp = make_tmpdir(), make_tmpdir()
    d = parent
    while len(d) < 3300:
        d = os.path.join(d, "d" * 200)
        os.mkdir(d)
    target = os.path.join(d, "f")
    with open(target, "w") as f:
        f.write("x")
    path, _ = learn(tmp, "/bin/cat", target)
    assert not [e for e in entitlements(path) if e[0].startswith("fs.")]
    r = run_ward("explain", "--manifest", path)
    assert r.returncode == 0, r


def test_learn_unusual_but_safe_names_round_trip(make_tmpdir):
    """The other direction: names a manifest can hold ('=', ',', '#' inside a
    word, spaces inside, '...', UTF-8) are written as they are, and the
    learned manifest lets the program run."""
    tmp = make_tmpdir()
    for name in ("a b=c,d#e", "...", "caf\u00e9 \u6587"):
        parent = make_tmpdir()
        d = os.path.join(parent, name)
        os.mkdir(d)
        target = os.path.join(d, "f")
        with open(target, "w") as f:
            f.write("found\n")
        path, _ = learn(tmp, "/bin/cat", target)
        ents = entitlements(path)
        assert ("fs.read", target) in ents, (name, ents)
        r = run_ward("run", "-q", "--manifest", path, "--", "/bin/cat", target)
        assert r.returncode == 0 and r.stdout == "found\n", r


def test_learn_dotdot_paths_are_normalised(make_tmpdir):
    """A path the program names with ".." is recorded as the path it names:
    the grant has no "..", which the resolver would refuse."""
    parent, tmp = make_tmpdir(), make_tmpdir()
    os.mkdir(os.path.join(parent, "sub"))
    with open(os.path.join(parent, "f"), "w") as f:
        f.write("found\n")
    path, _ = learn(tmp, "/bin/cat", os.path.join(parent, "sub", "..", "f"))
    ents = entitlements(path)
    assert ("fs.read", os.path.join(parent, "f")) in ents, ents
    assert not [v for _, v in ents if ".." in v.split("/")], ents
    r = run_ward("run", "-q", "--manifest", path, "--", "/bin/cat", os.path.join(parent, "f"))
    assert r.returncode == 0 and r.stdout == "found\n", r


def test_manifest_parser_refuses_what_it_would_show_otherwise(make_tmpdir):
    """A hand-written or downloaded manifest: an override character or a
    control character in a value is refused, and the message shows it
    escaped (no raw escape reaches the terminal)."""
    d = make_tmpdir()
    for value in (b"/srv/\xe2\x80\xaegpj.exe", b"/srv/a\x1b]0;OWNED\x07", b"/srv/caf\xe9"):
        path = os.path.join(d, "m.ent")
        with open(path, "wb") as f:
            f.write(b"fs.read=" + value + b"\n")
        r = run_ward("explain", "--manifest", path)
        assert r.returncode != 0, r
        assert "plain text" in r.stderr, r
        assert "\x1b" not in r.stderr and "\u202e" not in r.stderr, r.stderr


# ---------------------------------------------------------------- item 6

def test_learn_cannot_change_host_device_nodes(make_tmpdir):
    """The issue's attack: chmod/chown of /dev/full (bound from the host)."""
    before = os.stat("/dev/full")
    try:
        _, r = learn(make_tmpdir(), "/bin/sh", "-c",
                     "chmod 0600 /dev/full; echo chmod=$?; chown 1234 /dev/full; "
                     "echo chown=$?; touch -d 2001-01-01 /dev/full; echo touch=$?")
        after = os.stat("/dev/full")
        assert stat.S_IMODE(after.st_mode) == stat.S_IMODE(before.st_mode), r
        assert after.st_uid == before.st_uid, r
        assert after.st_mtime == before.st_mtime, r
        # Refused by the user namespace: the host's root owns the node and is
        # nobody in the program's namespace.
        assert "chmod=1" in r.stdout and "chown=1" in r.stdout, r
        assert "Operation not permitted" in r.stderr, r
    finally:
        os.chmod("/dev/full", stat.S_IMODE(before.st_mode))
        os.chown("/dev/full", before.st_uid, before.st_gid)
        os.utime("/dev/full", ns=(before.st_atime_ns, before.st_mtime_ns))


def test_learn_program_is_not_host_root(make_tmpdir):
    """uid 0 of the observed program is an unprivileged host uid of ward's
    pool, not host root mapped to itself."""
    if rootless():
        pytest.skip("rootless, the program's maps are relative to init's user namespace (the "
                    "user's own ids); test_learn_host_service_does_not_see_root[rootless] "
                    "shows from the host's side that uid 0 inside is the user")
    _, r = learn(make_tmpdir(), "/bin/cat", "/proc/self/uid_map", "/proc/self/gid_map")
    maps = [l.split() for l in r.stdout.splitlines() if l.strip()]
    assert len(maps) == 2, r
    for inside, outside, count in maps:
        assert inside == "0" and int(outside) >= ID_POOL_BASE and int(count) == 65536, r


def test_learn_host_service_does_not_see_root():
    """-a network.host while learning: a host service on an abstract socket
    (the host's network namespace) must not see host uid 0 as its peer."""
    if not PY:
        pytest.skip("python3 is not installed")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    name = b"\0ward-test-h4-learn-%d" % os.getpid()
    srv.bind(name)
    srv.listen(1)
    srv.settimeout(60)
    peer = {}

    def accept():
        try:
            c, _ = srv.accept()
            uid = struct.unpack("3i", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                   struct.calcsize("3i")))[1]
            peer["uid"] = uid
            c.close()
        except OSError as e:
            peer["error"] = e

    t = threading.Thread(target=accept)
    t.start()
    try:
        tmp = os.path.realpath("/var/tmp")
        out = os.path.join(tmp, f"ward-test-h4-{os.getpid()}.ent")
        code = ("import socket; s = socket.socket(socket.AF_UNIX); "
                f"s.connect({name!r}); print('connected')")
        r = run_ward("learn", "-q", "-a", "network.host", "-o", out, "--", PY, "-c", code,
                     timeout=120)
        if os.path.exists(out):
            os.unlink(out)
        assert r.returncode == 0 and "connected" in r.stdout, r
    finally:
        t.join(70)
        srv.close()
    assert "uid" in peer, peer
    if rootless():
        # uid 0 inside is the user on the host, never host root.
        assert peer["uid"] == rootless_uid(), peer
    else:
        assert peer["uid"] >= ID_POOL_BASE, peer


def test_learn_with_host_time_is_refused(make_tmpdir):
    """host.time has no user namespace: ward learn refuses it rather than
    run the program with its capabilities over the host's files."""
    before = os.stat("/dev/full")
    try:
        _, r = learn(make_tmpdir(), "/bin/sh", "-c", "chmod 0600 /dev/full",
                     allow=["host.time"], check=False)
        assert r.returncode == 125, r
        assert "ward learn cannot observe a program with host.time" in r.stderr, r
        assert stat.S_IMODE(os.stat("/dev/full").st_mode) == stat.S_IMODE(before.st_mode)
    finally:
        os.chmod("/dev/full", stat.S_IMODE(before.st_mode))


def test_learn_writes_succeed_then_disappear(make_tmpdir):
    """What docs/denials.md promises, with the fix: the program still writes
    and reads as on the host (files of root and of another user, a 0600
    file, /tmp, /etc), and none of it reaches the host."""
    if rootless():
        # Rootless, host root's files are not mapped: the program cannot
        # read another user's secret, and writes what the user's ids may
        # (a directory of the user's beneath host root's /var/tmp; /etc's
        # overlay root, owned by the overflow id the subordinate ranges map,
        # with learn's CAP_DAC_OVERRIDE); none of it persists, and /etc is
        # not proposed.
        mine = make_tmpdir()
        etc_file = f"/etc/ward-test-h4-{os.getpid()}"
        tmp_file = f"/tmp/ward-test-h4-{os.getpid()}"
        script = (f"set -e; echo a > {mine}/new; cat {mine}/new; echo c > {etc_file}; "
                  f"echo d > {tmp_file}; echo done")
        path, r = learn(make_tmpdir(), "/bin/sh", "-c", script)
        assert r.stdout.splitlines()[:2] == ["a", "done"], r
        for p in (f"{mine}/new", etc_file, tmp_file):
            assert not os.path.exists(p), p
        ents = entitlements(path)
        assert ("fs.write", mine) in ents, ents
        assert not [e for e in ents if e[0] == "fs.write" and e[1].startswith("/etc")], ents
        return
    mine = make_tmpdir()                      # root's, 0755
    other = make_tmpdir(uid=1234, gid=1234, mode=0o700)
    secret = os.path.join(other, "secret")
    with open(secret, "w") as f:
        f.write("s3cret\n")
    os.chown(secret, 1234, 1234)
    os.chmod(secret, 0o600)
    etc_file = f"/etc/ward-test-h4-{os.getpid()}"
    tmp_file = f"/tmp/ward-test-h4-{os.getpid()}"
    script = (f"set -e; echo a > {mine}/new; echo b > {other}/new; cat {secret}; "
              f"echo c > {etc_file}; echo d > {tmp_file}; chmod 4755 {mine}/new; "
              f"chown 0 {other}/new; ls -ln {other}/new; echo done")
    path, r = learn(make_tmpdir(), "/bin/sh", "-c", script)
    assert "s3cret" in r.stdout and "done" in r.stdout, r
    for p in (f"{mine}/new", f"{other}/new", etc_file, tmp_file):
        assert not os.path.exists(p), p
    ents = entitlements(path)
    assert ("fs.write", mine) in ents and ("fs.write", other) in ents, ents
    # What it wrote into /etc while learning is not proposed as a grant.
    assert not [e for e in ents if e[0] == "fs.write" and e[1].startswith("/etc")], ents
    with open(path) as f:
        assert "# NOT WRITTEN: fs.write=/etc (a system directory of the host" in f.read()


# ---------------------------------------------------------------- item 10

def _no_raw_controls(text):
    return not any((ord(c) < 0x20 and c != "\n") or ord(c) == 0x7f for c in text)


def test_denial_line_escapes_the_executable_path(make_tmpdir):
    """The program runs from a path it chose (here a granted directory whose
    name carries terminal escapes and a forged line); the denial line shows
    it escaped, on one line, and no line of stderr is the forged one."""
    parent = make_tmpdir()
    d = os.path.join(parent, FORGED)
    os.mkdir(d)
    exe = os.path.join(d, "probe")
    shutil.copy(PROBE, exe)
    log = os.path.join(make_tmpdir(), "denials.jsonl")
    r = run_ward("run", "-a", f"fs.exec={parent}", "--denials-log", log, "--", exe, "bpf")
    assert r.stdout.startswith("errno=EPERM"), r
    assert _no_raw_controls(r.stderr), repr(r.stderr)
    assert "ward: all good" not in [l[:14] for l in r.stderr.splitlines()], r.stderr
    lines = [l for l in r.stderr.splitlines() if l.startswith("ward: denied bpf(2)")]
    assert len(lines) == 1, r.stderr
    assert "\\x1b[2J\\x1b]0;OWNED\\x07\\nward: all good, nothing denied\\n/probe" in lines[0]
    with open(log) as f:
        rec = [json.loads(l) for l in f]
    assert rec and all(_no_raw_controls(x["exe"]) and "\n" not in x["exe"] for x in rec), rec


def test_denial_line_escapes_a_memfd_name():
    """The issue's attack: the program re-executes itself from a memfd named
    with escapes and a forged line.  (Skipped where the sandbox refuses to
    execute a memfd: then the name cannot reach ward this way.)"""
    r = run_ward("run", "-a", f"fs.exec={os.path.dirname(PROBE)}", "--", PROBE,
                 "memfd-exec", FORGED, "bpf")
    if "step=execveat" in r.stdout:
        pytest.skip(f"the sandbox does not execute memfds here: {r.stdout.strip()}")
    assert r.stdout.startswith("errno=EPERM"), r
    assert _no_raw_controls(r.stderr), repr(r.stderr)
    lines = [l for l in r.stderr.splitlines() if l.startswith("ward: denied bpf(2)")]
    assert len(lines) == 1, r.stderr
    assert "/memfd:\\x1b[2J\\x1b]0;OWNED\\x07\\nward: all good" in lines[0], lines
    assert not [l for l in r.stderr.splitlines() if l.startswith("ward: all good")], r.stderr


def test_broker_denial_line_escapes_the_requested_path(make_tmpdir):
    """ward run prints the broker's refusals too; they quote what the
    environment asked for (here a path carrying escapes and a forged
    line)."""
    bh = os.path.realpath(os.environ.get("WARD_BROKER_HELPERS", ""))
    msg = os.path.join(bh, "ward-msg")
    if not os.access(msg, os.X_OK):
        pytest.skip("ward-msg not found (set WARD_BROKER_HELPERS)")
    state = make_tmpdir()
    try:
        # The program's own complaint goes to /dev/null: only ward's line is left.
        r = run_ward("run", "--state-dir", state, "--name", f"h4-{os.getpid()}",
                     "-a", f"fs.exec={bh}", "--", "/bin/sh", "-c", '"$0" open "$1" 2>/dev/null',
                     msg, "/srv/" + FORGED, timeout=60)
    finally:
        run_ward("broker", "--stop", "--state-dir", state, timeout=30)
    lines = [l for l in r.stderr.splitlines() if l.startswith("ward: denied open")]
    assert len(lines) == 1, r.stderr
    assert r"\x1b[2J\x1b]0;OWNED\x07\nward: all good" in lines[0], lines
    ward_lines = [l for l in r.stderr.splitlines() if l.startswith("ward:")]
    assert _no_raw_controls("\n".join(ward_lines)), repr(r.stderr)
    assert not [l for l in ward_lines if l.startswith("ward: all good")], r.stderr

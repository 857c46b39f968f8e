# SPDX-License-Identifier: GPL-2.0-or-later
"""api.open attacked from inside a real environment (issue 11).

The broker runs as root.  It used to open everything beneath a grant as
root: the modes and owners of the files there did not count, and new files
belonged to root.  It now opens beneath a grant with the access checks of
the granted path's owner (lib/broker/open.c).  The tests assert the
broker's own refusal (its errno and text), which root would not give."""

import os
import re
import stat

from brokerlib import bhelpers, broker, hexpkt  # noqa: F401

O_WRITE, O_CREATE = 0x1, 0x2
EACCES, EXDEV, ELOOP, EISDIR, EINVAL = 13, 18, 40, 21, 22
OWNER, OTHER = 4242, 5353


def open_steps(*reqs):
    """envtool raw steps: one OPEN per (path, flags)."""
    out = []
    for i, (path, flags) in enumerate(reqs):
        attrs = [("PATH", path)] + ([("FLAGS", flags)] if flags else [])
        out.append(f"x:{hexpkt('OPEN', i + 1, *attrs)}")
    return out


def results(out):
    """[(type, code, got a descriptor, text)] of envtool raw's answers."""
    return [(int(m[1]), int(m[3]), m[4] == "1", m[5]) for m in
            re.finditer(r"answer (\d+) (\d+) code=(\d+) fd=(\d) text=(.*)", out)]


def tree(make_tmpdir):
    """A directory owned by OWNER, with files of its own and of OTHER."""
    d = make_tmpdir(OWNER, OWNER, 0o755)

    def mk(name, uid, mode, data=b"data\n"):
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(data)
        os.chown(p, uid, uid)
        os.chmod(p, mode)
        return p

    mk("mine", OWNER, 0o600, b"mine\n")
    mk("theirs", OTHER, 0o600, b"secret of another user\n")
    mk("readonly", OWNER, 0o444)
    os.mkdir(os.path.join(d, "locked"), 0o700)
    os.chown(os.path.join(d, "locked"), OTHER, OTHER)
    mk("locked/inside", OTHER, 0o644)
    # a hard link beneath the grant to a file the owner may not read
    os.link("/etc/shadow", os.path.join(d, "shadow-link"))
    return d


def test_api_open_checks_access_as_the_grants_owner(broker, bhelpers, make_tmpdir):
    d = tree(make_tmpdir)
    steps = open_steps((f"{d}/mine", 0), (f"{d}/theirs", 0), (f"{d}/readonly", O_WRITE),
                       (f"{d}/locked/inside", 0), (f"{d}/shadow-link", 0),
                       (f"{d}/new", O_WRITE | O_CREATE))
    r = broker.ward(*broker.run_args("viewer", [f"api.open={d}:rw"],
                                     [f"{bhelpers}/envtool", "raw"] + steps, bhelpers))
    rows = results(r.stdout)
    assert len(rows) == 6, r
    mine, theirs, readonly, locked, shadow, new = rows
    assert mine[0] == 32 and mine[2], mine  # its own file: handed over
    for row, name in ((theirs, "theirs"), (readonly, "readonly"), (locked, "locked/inside"),
                      (shadow, "shadow-link")):
        assert row[0] == 33 and row[1] == EACCES and not row[2], (name, row)
        assert row[3] == (f"{d}/{name}: permission denied to uid {OWNER}, the owner of the "
                          f"granted {d} (api.open opens files with the owner's access)"), row
    # a new file belongs to the owner, not to root
    assert new[0] == 32 and new[2], new
    st = os.stat(f"{d}/new")
    assert (st.st_uid, st.st_gid) == (OWNER, OWNER), (st.st_uid, st.st_gid)
    assert stat.S_IMODE(st.st_mode) & 0o7000 == 0


def test_root_owned_grant_gets_no_capabilities(broker, bhelpers, make_tmpdir):
    """A grant that root owns: root's file modes count, its capabilities do
    not (a mode 0000 file is refused)."""
    d = make_tmpdir(0, 0, 0o755)
    p = os.path.join(d, "nobody-may")
    with open(p, "w") as f:
        f.write("x\n")
    os.chmod(p, 0)
    r = broker.ward(*broker.run_args("viewer", [f"api.open={d}:ro"],
                                     [f"{bhelpers}/envtool", "raw"] + open_steps((p, 0)),
                                     bhelpers))
    (t, code, fd, text), = results(r.stdout)
    assert t == 33 and code == EACCES and not fd, r
    assert "permission denied to uid 0, the owner of the granted" in text


def test_api_open_escapes_are_refused(broker, bhelpers, make_tmpdir):
    """Links out of the grant, /proc magic links, directories and FIFOs: the
    kernel's RESOLVE_BENEATH (EXDEV), and the broker's own checks."""
    d = make_tmpdir(0, 0, 0o755)
    os.mkdir(os.path.join(d, "sub"))
    os.symlink("/etc/passwd", os.path.join(d, "abs-link"))
    os.symlink("../../../../../../etc/passwd", os.path.join(d, "sub", "rel-link"))
    os.symlink("/proc/self/root/etc/passwd", os.path.join(d, "magic"))
    os.mkfifo(os.path.join(d, "fifo"))
    with open(os.path.join(d, "f"), "w") as f:
        f.write("f\n")
    steps = open_steps((f"{d}/abs-link", 0), (f"{d}/sub/rel-link", 0), (f"{d}/magic", 0),
                       (f"{d}/sub", 0), (f"{d}/fifo", 0), (f"{d}/abs-link", O_WRITE | O_CREATE))
    r = broker.ward(*broker.run_args("viewer", [f"api.open={d}:rw"],
                                     [f"{bhelpers}/envtool", "raw"] + steps, bhelpers))
    rows = results(r.stdout)
    assert len(rows) == 6, r
    for row in rows[:3]:
        assert row[0] == 33 and row[1] == EXDEV and "leads outside the granted" in row[3], row
    assert rows[3][1] == EISDIR and "not a regular file" in rows[3][3], rows[3]
    assert rows[4][1] == EINVAL and "not a regular file" in rows[4][3], rows[4]
    # O_CREAT never follows a link (O_EXCL): the name exists, so no new file
    assert rows[5][1] == EXDEV, rows[5]
    assert not any(row[2] for row in rows)
    with open("/etc/passwd") as f:
        assert f.read()  # untouched, and nothing was created outside
    assert sorted(os.listdir(d)) == ["abs-link", "f", "fifo", "magic", "sub"]


def test_read_only_descriptor_cannot_be_upgraded(broker, bhelpers, make_tmpdir):
    """A file handed over read-only cannot be written through the descriptor,
    nor reopened read-write through /proc/self/fd.  The file is mode 0666,
    so file modes do not stop it: the sandbox's Landlock domain does, which
    does not contain the file's path (the read-only reopen, which the mode
    allows, is refused too: only Landlock refuses it)."""
    d = make_tmpdir(0, 0, 0o755)
    p = os.path.join(d, "open-to-all")
    with open(p, "w") as f:
        f.write("x\n")
    os.chmod(p, 0o666)
    r = broker.ward(*broker.run_args("viewer", [f"api.open={d}:ro"],
                                     [f"{bhelpers}/envtool", "reopen", p], bhelpers))
    assert r.stdout.strip() == "write EBADF reopen EACCES reopen-ro EACCES", r
    with open(p) as f:
        assert f.read() == "x\n"

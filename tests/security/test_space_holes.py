# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 11: space files against `ward up`, which runs as root.

Whoever can write a space file chooses what ward up (root) reads and
prints.  A space file names only its owner's files, reached without
symbolic links, and everything ward up prints of the space file, of what it
names and of the environments' logs is escaped (docs/spaces.md).
"""

import os
import secrets
import subprocess

import pytest

from conftest import rootless, rootless_uid, run_ward

OTHER = 1234  # the owner of the space file, who is not root


@pytest.fixture
def space(make_tmpdir):
    """space(text, owner=0, name="s.toml") -> (path, state dir); every space
    started is brought down, and a broker a test started is stopped."""
    made = []
    state = make_tmpdir()

    def write(text, owner=0, name="s.toml", directory=None):
        d = directory or make_tmpdir(uid=owner, gid=owner)
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        os.chown(path, owner, owner)
        made.append(path)
        return path, state

    yield write
    for path in made:
        run_ward("down", "--state-dir", state, "--timeout", "5", path, timeout=60)
    run_ward("broker", "--stop", "--state-dir", state, timeout=30)
    run_ward("gc", "--state-dir", state, timeout=60)


def up(path, state):
    return run_ward("up", "--state-dir", state, path, timeout=120)


def secret_file(make_tmpdir):
    """A root-only file whose first line a parse error would quote."""
    token = "TOPSECRET" + secrets.token_hex(8)
    d = make_tmpdir()
    path = os.path.join(d, "secret")
    with open(path, "w") as f:
        f.write(token + "\n")
    os.chmod(path, 0o600)
    return path, token


def no_raw_controls(text):
    return not any((ord(c) < 0x20 and c != "\n") or ord(c) == 0x7f for c in text)


# ---------------------------------------------------------------- item 5 (suspected)

def test_manifest_of_another_user_is_refused(space, make_tmpdir):
    """The issue's attack: manifest = "/etc/shadow" (here a root-only file
    with a known first line) in a space file someone else wrote."""
    secret, token = secret_file(make_tmpdir)
    for target in (secret, "/etc/shadow"):
        path, state = space(f'[env.a]\ncommand = ["/bin/true"]\nmanifest = "{target}"\n',
                            owner=OTHER)
        r = up(path, state)
        assert r.returncode == 2, r
        assert token not in r.stdout + r.stderr, r
        if rootless():
            # The user may not even open root's file: the kernel refuses
            # before ward's owner check is reached.
            assert "Permission denied" in r.stderr or \
                f"belongs to uid 0, not to uid {OTHER}" in r.stderr, r
        else:
            assert f"belongs to uid 0, not to uid {OTHER}" in r.stderr, r
        assert "s.toml:3: manifest" in r.stderr, r
        # Nothing started, so no log could hold it either.
        assert not os.path.exists(os.path.join(state, "spaces", "s")), r


def test_manifest_through_a_symbolic_link_is_refused(space, make_tmpdir):
    """The owner's own link to root's file: not followed."""
    secret, token = secret_file(make_tmpdir)
    d = make_tmpdir(uid=OTHER, gid=OTHER)
    link = os.path.join(d, "app.ent")
    os.symlink(secret, link)
    os.lchown(link, OTHER, OTHER)
    path, state = space('[env.a]\ncommand = ["/bin/true"]\nmanifest = "app.ent"\n',
                        owner=OTHER, directory=d)
    r = up(path, state)
    assert r.returncode == 2, r
    assert token not in r.stdout + r.stderr, r
    assert "goes through a symbolic link" in r.stderr, r


def test_rootfs_and_bundle_of_another_user_are_refused(space, make_tmpdir):
    root_dir = make_tmpdir()
    for key in ("rootfs", "bundle"):
        command = 'command = ["/bin/true"]\n' if key == "rootfs" else ""
        path, state = space(f'[env.a]\n{command}{key} = "{root_dir}"\n', owner=OTHER)
        r = up(path, state)
        assert r.returncode == 2, r
        # Rootless, make_tmpdir gives the directory to the user running
        # ward up: still not the space file's owner's.
        owner = rootless_uid() if rootless() else 0
        assert f"{key} \"{root_dir}\" in [env.a] belongs to uid {owner}, not to uid {OTHER}" \
            in r.stderr, r


def test_manifest_of_the_owner_is_read_once_by_ward_up(space, make_tmpdir):
    """The owner's manifest works; ward up read it (its entitlements are in
    force), and its errors name its lines."""
    d = make_tmpdir(uid=OTHER, gid=OTHER)
    ent = os.path.join(d, "app.ent")
    with open(ent, "w") as f:
        f.write("# limits\nprocess.limit=16\n")
    os.chown(ent, OTHER, OTHER)
    path, state = space('[env.a]\ncommand = ["/bin/sh", "-c", '
                        '"grep processes /proc/self/limits; sleep 60"]\n'
                        'manifest = "app.ent"\n', owner=OTHER, directory=d)
    r = up(path, state)
    assert r.returncode == 0, r
    log = os.path.join(state, "spaces", "s", "a.log")
    for _ in range(100):
        if os.path.exists(log) and open(log).read().strip():
            break
        subprocess.run(["sleep", "0.1"])
    # RLIMIT_NPROC is process.limit, plus one for init (docs/architecture.md)
    assert open(log).read().split()[2:4] == ["17", "17"], open(log).read()
    r = run_ward("down", "--state-dir", state, path, timeout=60)
    assert r.returncode == 0, r
    with open(ent, "w") as f:
        f.write("network.none\nNetwork.host\n")
    r = up(path, state)
    assert r.returncode == 2, r
    assert f"{ent}:2: entitlement names are lower case" in r.stderr, r


# ---------------------------------------------------------------- item 10 (suspected: print_log_tail)

def test_failed_environment_log_is_escaped(space):
    """The end of a failed environment's log (the program's output) reaches
    ward up's terminal escaped: no screen clearing, no title, no forged
    "ward:" line."""
    # A TOML literal string: printf reads the escapes.
    forged = r"\033[2J\033]0;OWNED\007\nward: all good, nothing failed\n"
    path, state = space('[env.bad]\n'
                        f'command = ["/bin/sh", "-c", \'printf "{forged}"; exit 3\']\n')
    r = up(path, state)
    assert r.returncode == 1, r
    assert "did not start" in r.stderr, r
    assert no_raw_controls(r.stderr), repr(r.stderr)
    assert "\\x1b[2J\\x1b]0;OWNED\\x07" in r.stderr, r.stderr
    assert not [l for l in r.stderr.splitlines() if l.startswith("ward: all good")], r.stderr


@pytest.mark.parametrize("text,shown", ids=["raw escape", "C1 and override"], argvalues=[
    # a raw escape outside quotes, quoted back by the syntax error
    ('[env.a]\ncommand = \033]0;OWNED\007\033[2J\n', "\\x1b]0;OWNED\\x07\\x1b[2J"),
    # an 8-bit CSI (U+009B) and a right-to-left override inside a string
    ('[env.a]\ncommand = ["/bin/true"]\npublish = ["\u009b2J\u202e08:08"]\n',
     "\\xc2\\x9b2J\\xe2\\x80\\xae08:08"),
])
def test_space_file_text_is_escaped_in_errors(space, text, shown):
    path, state = space(text)
    r = up(path, state)
    assert r.returncode == 2, r
    assert no_raw_controls(r.stderr), repr(r.stderr)
    assert "\u009b" not in r.stderr and "\u202e" not in r.stderr, repr(r.stderr)
    assert shown in r.stderr, r


# ---------------------------------------------------------------- review: names and paths

ESCAPE_NAME = "ward-test-h4-escape-%d" % os.getpid()


@pytest.mark.parametrize("text", [
    f'name = "../../../tmp/{ESCAPE_NAME}"\n[env.a]\ncommand = ["/bin/true"]\n',
    f'[env.../../../../tmp/{ESCAPE_NAME}]\ncommand = ["/bin/true"]\n',
    '[env.a/b]\ncommand = ["/bin/true"]\n',
    '[env.a.b]\ncommand = ["/bin/true"]\n',
], ids=["space name", "env name", "slash", "dot"])
def test_names_cannot_leave_the_state_dir(space, text):
    """Space and environment names become directory and log file names
    under the state directory (STATE/spaces/SPACE/ENV.log): only
    [a-z][a-z0-9-]* is accepted.  (A guard: this held before issue 11.)"""
    path, state = space(text)
    outside = os.path.join("/var/tmp", ESCAPE_NAME)
    r = up(path, state)
    assert r.returncode == 2, r
    assert "names are lower case letters, digits and '-'" in r.stderr, r
    assert not os.path.exists(outside) and not os.path.exists(outside + ".log")
    assert not os.path.exists(os.path.join(state, "spaces"))


def test_down_of_a_name_with_a_path_is_not_a_path(space, make_tmpdir):
    """ward down NAME with a name that is no space name is read as a file:
    never a directory outside the state directory.  (A guard.)"""
    victim = make_tmpdir()
    lock = os.path.join(victim, "lock")
    _, state = space('[env.a]\ncommand = ["/bin/true"]\n')
    rel = os.path.relpath(victim, os.path.join(state, "spaces"))
    r = run_ward("down", "--state-dir", state, rel, timeout=60)
    assert r.returncode != 0, r
    assert os.path.isdir(victim) and not os.path.exists(lock), r

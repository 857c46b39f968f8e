# SPDX-License-Identifier: GPL-2.0-or-later
"""Attacks by whoever publishes a bundle, or can add a file to one, against
the trust policy and extraction (issue 11, items 7 and 8 and the suspected
trust holes; docs/threat-model/h7-trust.md).

Every test runs the real `ward bundle verify` / `ward run BUNDLE` with its
own trust policy (WARD_TRUST) in its own directory: /etc/ward/trust is never
read or written.  Manifests are written by hand, as a hostile publisher
would (`ward bundle create` checks entitlements; a publisher need not use
it), then signed with `ward bundle sign`.

Every test runs twice (ROOTLESS_MODULES, docs/testing.md): as root, and as
the session's ordinary user.  As the user, the policy is the user's own,
found where ward looks for it (HOME is the test's directory, the user's:
~/.config/ward/trust, no WARD_TRUST), and the same lines are written to the
system's policy that bounds it (WARD_TRUST_SYSTEM, a file of root's in a
directory of root's, standing in for /etc/ward/trust): every attack meets
both.  Messages name the user's policy, which decides first.  Files the
test writes for ward (bundles, keys, policies) are given to the user
(give_tree), as a user's own files would be.
"""

import base64
import hashlib
import io
import os
import shutil
import subprocess
import tarfile

import pytest

from conftest import (EXIT_FAILURE, WARD, as_user_argv, assert_ward_error, give_to_test_user,
                      rootless, rootless_uid, run_ward)

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
MINISIGN = shutil.which("minisign")


def give_tree(path):
    """Rootless: PATH and all below it belong to the test user (no-op as
    root)."""
    if not rootless():
        return path
    give_to_test_user(path)
    for top, dirs, files in os.walk(path):
        for n in dirs + files:
            give_to_test_user(os.path.join(top, n))
    return path


def other_uid():
    """A uid that is neither root nor the user ward runs as."""
    return 1000 if rootless_uid() != 1000 else 1001


class Pub:
    """A test's directory: keys, a trust policy written as text, bundles.

    Rootless: PATH is the user's and their HOME; the policy is
    ~/.config/ward/trust, bounded by a copy in SYSDIR (root's)."""

    def __init__(self, path, sysdir):
        self.path = path
        self.root = None
        self.bound = None
        if rootless():
            cfg = os.path.join(path, ".config", "ward")
            os.makedirs(cfg, 0o755)
            give_tree(os.path.join(path, ".config"))
            self.trust = os.path.join(cfg, "trust")
            self.bound = os.path.join(sysdir, "trust")
            # ward's state (extracted bundles, the measurement log of bundle
            # runs) in the test's directory too: the user's default one is
            # shared by the session's other rootless tests.
            self.env = dict(os.environ, HOME=path, WARD_TRUST_SYSTEM=self.bound,
                            XDG_STATE_HOME=os.path.join(path, ".local", "state"))
            self.env.pop("WARD_TRUST", None)
            self.env.pop("XDG_CONFIG_HOME", None)
        else:
            self.trust = os.path.join(path, "trust")
            self.env = dict(os.environ, WARD_TRUST=self.trust)

    def p(self, *names):
        return os.path.join(self.path, *names)

    def ward(self, *args, **kw):
        kw.setdefault("env", self.env)
        return run_ward(*args, **kw)

    def ok(self, *args, **kw):
        r = self.ward(*args, **kw)
        assert r.returncode == 0, r
        return r

    def key(self, name):
        self.ok("key", "generate", "--out", self.p(name), "--no-password")
        return self.p(name + ".key"), self.p(name + ".pub")

    def pub_b64(self, pub):
        with open(pub) as f:
            return f.read().splitlines()[1].strip()

    def keyid(self, pub):
        return self.ok("key", "show", pub).stdout.split()[2]

    def policy(self, *lines):
        for path in (self.trust, self.bound):
            if path is None:
                continue
            with open(path, "w") as f:
                f.write("".join(line + "\n" for line in lines))
            os.chmod(path, 0o644)
        give_tree(self.trust)

    def rootfs(self):
        if self.root is None:
            self.root = self.p("root")
            os.makedirs(os.path.join(self.root, "bin"))
            os.makedirs(os.path.join(self.root, "etc", "app"))
            shutil.copy2(BUSYBOX, os.path.join(self.root, "bin", "busybox"))
            os.symlink("busybox", os.path.join(self.root, "bin", "sh"))
            with open(os.path.join(self.root, "etc", "app", "hello.txt"), "w") as f:
                f.write("hello from the bundle\n")
            give_tree(self.root)
        return self.root

    def bundle(self, name, entitlements, tar=False, args=("-c", "cat /etc/app/hello.txt")):
        """A directory bundle (or NAME.ward) with a hand-written manifest."""
        root = self.rootfs()
        digest = self.ok("bundle", "digest", root).stdout.strip()
        d = self.p(name)
        os.mkdir(d)
        shutil.copytree(root, os.path.join(d, "rootfs"), symlinks=True)
        text = "#@ward-bundle 1\n#@command /bin/sh\n"
        text += "".join(f"#@arg {a}\n" for a in args)
        text += f"#@rootfs {digest}\n" + entitlements
        with open(os.path.join(d, "manifest"), "w") as f:
            f.write(text)
        give_tree(d)
        if not tar:
            return d
        out = self.p(name + ".ward")
        with tarfile.open(out, "w") as t:
            t.add(d, arcname=".")
        return give_tree(out)

    def sign(self, key, bundle, *extra):
        self.ok("bundle", "sign", "--key", key, *extra, bundle)


@pytest.fixture
def pub(make_tmpdir, tmpdir_real):
    # make_tmpdir: root's as root, the user's own in rootless mode.
    return Pub(make_tmpdir(), tmpdir_real)


def verdict(r):
    return [line for line in r.stdout.splitlines() if line.startswith("verdict:")]


# ---------------------------------------------------------------- item 7: addresses and names

def test_address_glob_is_refused_and_never_grants_a_name(pub):
    """may=network.connect=10.0.0.*:443 granted 10.0.0.5.nip.io:443 (fnmatch's
    '*' matched "5.nip.io"), and ward then resolved the name on the host and
    allowed whatever address its owner chose."""
    k, p = pub.key("publisher")
    b = pub.bundle("nip", "network.connect=10.0.0.5.nip.io:443\n")
    pub.sign(k, b)
    pub.policy(f"key {pub.pub_b64(p)} name=pub may=network.connect=10.0.0.*:443")
    r = pub.ward("bundle", "verify", b)
    assert r.returncode != 0 and verdict(r) != ["verdict:      trusted: `ward run "
                                                 f"{b}` may run it"], r
    assert "globs over addresses are not accepted" in r.stderr, r
    assert "network.connect=10.0.0.0/24:443" in r.stderr, r
    assert f"{pub.trust}:1" in r.stderr, r
    r = pub.ward("run", b)
    assert_ward_error(r, "globs over addresses are not accepted", "10.0.0.0/24")

    # In CIDR form the network grants addresses in it, and never a name.
    pub.policy(f"key {pub.pub_b64(p)} name=pub may=network.connect=10.0.0.0/24:443")
    r = pub.ward("bundle", "verify", b)
    assert "network.connect=10.0.0.5.nip.io:443: NOT GRANTED" in r.stdout, r
    r = pub.ward("run", b)
    assert_ward_error(r, "network.connect=10.0.0.5.nip.io:443 is not granted by any trusted "
                      "signer")
    b2 = pub.bundle("addr", "network.connect=10.0.0.5:443\n")
    pub.sign(k, b2)
    r = pub.ok("bundle", "verify", b2)
    assert 'granted by key' in r.stdout and '"network.connect=10.0.0.0/24:443"' in r.stdout, r


def test_numeric_host_forms_are_neither_addresses_nor_names(pub):
    """getaddrinfo reads 010.0.0.5 as 8.0.0.5 and 0x0a.0.0.5 as 10.0.0.5: such
    a HOST must not reach it (the resolver refuses it), and no pattern grants
    it."""
    r = run_ward("run", "-q", "--allow", "network.connect=010.0.0.5:443", "--", "/bin/true")
    assert_ward_error(r, "network.connect=010.0.0.5:443",
                      "neither an IPv4 address in dotted-quad form nor a host name")
    k, p = pub.key("publisher")
    b = pub.bundle("hex", "network.connect=0x0a.0.0.5:443\n")
    pub.sign(k, b)
    pub.policy(f"key {pub.pub_b64(p)} name=pub may=network.connect=*:443")
    r = pub.ward("bundle", "verify", b)
    assert "network.connect=0x0a.0.0.5:443: NOT GRANTED" in r.stdout, r
    assert r.returncode != 0, r


# ---------------------------------------------------------------- item 8: wildcard requests

@pytest.mark.parametrize("pattern,request_", [
    ("service.connect=db-?", "service.connect=db-*"),
    ("service.connect=db-[!x]", "service.connect=db-*"),
    ("ipc.send=log-?*", "ipc.send=log-*"),
    ("service.provide=svc-*?", "service.provide=svc-*"),
])
def test_wildcard_request_needs_a_covering_pattern(pub, pattern, request_):
    """The broker reads a trailing '*' as any suffix: db-* reaches db-admin,
    which db-? does not grant."""
    k, p = pub.key("publisher")
    b = pub.bundle("w", request_ + "\n")
    pub.sign(k, b)
    pub.policy(f"key {pub.pub_b64(p)} name=pub may={pattern}")
    r = pub.ward("bundle", "verify", b)
    assert f"{request_}: NOT GRANTED" in r.stdout, r
    r = pub.ward("run", b)
    assert_ward_error(r, f"{request_} is not granted by any trusted signer")
    # A prefix-star pattern whose prefix the request's starts with covers it.
    name, value = request_.split("=")
    pub.policy(f"key {pub.pub_b64(p)} name=pub may={name}={value[:2]}*")
    assert "verdict:      trusted" in pub.ok("bundle", "verify", b).stdout


# ---------------------------------------------------------------- api.open patterns

@pytest.mark.parametrize("pattern,request_", [
    ("api.open=/srv/x/*", "api.open=/srv/x/data:rw"),     # the mode is no text to glob
    ("api.open=/srv/*", "api.open=/srv/x:rw"),
    ("api.open=/srv/*/pub", "api.open=/srv/a/b/pub"),     # '*' crosses no '/'
])
def test_api_open_pattern_grants_only_its_paths_and_mode(pub, pattern, request_):
    k, p = pub.key("publisher")
    b = pub.bundle("o", request_ + "\n")
    pub.sign(k, b)
    pub.policy(f"key {pub.pub_b64(p)} name=pub may={pattern}")
    r = pub.ward("bundle", "verify", b)
    assert f"{request_}: NOT GRANTED" in r.stdout, r
    assert_ward_error(pub.ward("run", b), f"{request_} is not granted")


def test_api_open_rw_needs_rw_pattern(pub):
    k, p = pub.key("publisher")
    b = pub.bundle("o", "api.open=/srv/x/data:rw\napi.open=/srv/x/logs\n")
    pub.sign(k, b)
    pub.policy(f"key {pub.pub_b64(p)} name=pub may=api.open=/srv/x/*:rw")
    assert "verdict:      trusted" in pub.ok("bundle", "verify", b).stdout
    # A ":ro" pattern grants a request that leaves the mode out (read-only).
    pub.policy(f"key {pub.pub_b64(p)} name=pub may=api.open=/srv/x/*:ro")
    r = pub.ward("bundle", "verify", b)
    assert "api.open=/srv/x/logs: granted" in r.stdout, r
    assert "api.open=/srv/x/data:rw: NOT GRANTED" in r.stdout, r


# ---------------------------------------------------------------- roles and require

def test_publisher_and_reviewer_can_be_required(pub):
    """role= used to bind nothing (the key's holder writes the role into its
    trusted comment) and grants added up: 'publisher AND reviewer' could
    not be asked for.  Roles are now the operator's, and require lines ask
    for a different trusted key in each role."""
    pk, pp = pub.key("publisher")
    rk, rp = pub.key("reviewer")
    b = pub.bundle("app", "network.loopback\n", tar=True)
    pub.sign(pk, b)
    pub.policy(f"key {pub.pub_b64(pp)} name=pub role=publisher may=network.*",
               f"key {pub.pub_b64(rp)} name=rev role=reviewer may=network.*",
               "require network.* by=publisher,reviewer")
    r = pub.ward("run", b)
    assert_ward_error(r, "network.loopback lacks the signers the policy requires",
                      "granted by publisher and reviewer", f"{pub.trust}:3")
    # The publisher signing again and calling itself a reviewer changes nothing.
    pub.sign(pk, b, "--role", "reviewer")
    assert_ward_error(pub.ward("run", b), "lacks the signers the policy requires")
    # The reviewer's countersignature does it: the program runs.
    pub.sign(rk, b, "--role", "reviewer")
    r = pub.ward("run", "-q", b)
    assert r.returncode == 0 and "hello from the bundle" in r.stdout, r
    # Whatever role the reviewer's signature claims, its key is the reviewer.
    b2 = pub.bundle("app2", "network.loopback\n")
    pub.sign(pk, b2)
    pub.sign(rk, b2, "--role", "publisher")
    r = pub.ward("run", "-q", b2)
    assert r.returncode == 0 and "hello from the bundle" in r.stdout, r


# ---------------------------------------------------------------- forged signatures and key ids

def forged_sig(keyid_hex, comment="role:reviewer"):
    kid = bytes.fromhex(keyid_hex)[::-1]           # printed as a little-endian number
    sig = base64.b64encode(b"ED" + kid + os.urandom(64)).decode()
    glob = base64.b64encode(os.urandom(64)).decode()
    return f"untrusted comment: forged\n{sig}\ntrusted comment: {comment}\n{glob}\n"


def add_to_tar(path, name, data):
    with tarfile.open(path) as t:
        members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t]
    with tarfile.open(path, "w") as t:
        for m, d in members:
            t.addfile(m, io.BytesIO(d) if d is not None else None)
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        ti.mode = 0o644
        t.addfile(ti, io.BytesIO(data))


def test_forged_signature_with_a_trusted_keyid_is_ignored(pub):
    """Anyone who can add a file to a bundle (a mirror, a shared directory)
    could have it refused with a file claiming a trusted key's id."""
    k, p = pub.key("publisher")
    pid = pub.keyid(p)
    b = pub.bundle("app", "process.limit=32\n", tar=True)
    pub.sign(k, b)
    pub.policy(f"key {pub.pub_b64(p)} name=pub may=process.limit<=64")
    add_to_tar(b, f"manifest.reviewer.{pid}.minisig", forged_sig(pid).encode())
    add_to_tar(b, "manifest.junk.minisig", b"\x1b]0;owned\x07 not a signature\n")
    r = pub.ward("run", "-q", b)
    assert r.returncode == 0 and "hello from the bundle" in r.stdout, r
    assert (f"manifest.reviewer.{pid}.minisig claims key {pid} but does not verify with the "
            f"key of {pub.trust}:1, ignored") in r.stderr, r
    assert "manifest.junk.minisig is not a signature, ignored" in r.stderr, r
    assert "\x1b" not in r.stderr, r
    r = pub.ward("bundle", "verify", b)
    assert r.returncode == 0 and "INVALID: does not verify" in r.stdout, r


def same_id_key(pub, name, keyid_hex):
    """A key pair whose maker gave it another key's id (nothing stops that)."""
    key, pubf = pub.key(name)
    with open(key) as f:
        lines = f.read().splitlines()
    raw = bytearray(base64.b64decode(lines[1]))
    assert raw[2:4] == b"\0\0", "the key must not be encrypted"
    kid = bytes.fromhex(keyid_hex)[::-1]
    off = 2 + 2 + 2 + 32 + 8 + 8
    raw[off:off + 8] = kid
    sk = bytes(raw[off + 8:off + 8 + 64])
    raw[off + 72:off + 104] = hashlib.blake2b(b"Ed" + kid + sk, digest_size=32).digest()
    with open(key, "w") as f:
        f.write(lines[0] + "\n" + base64.b64encode(bytes(raw)).decode() + "\n")
    with open(pubf) as f:
        plines = f.read().splitlines()
    praw = bytearray(base64.b64decode(plines[1]))
    praw[2:10] = kid
    with open(pubf, "w") as f:
        f.write(plines[0] + "\n" + base64.b64encode(bytes(praw)).decode() + "\n")
    return key, pubf


def test_a_key_with_a_trusted_keys_id_replaces_nothing(pub):
    """Key ids are chosen by a key's maker: trusting a second key that carries
    the same id must not drop the first, and its signatures must not pass
    for the first key's."""
    k, p = pub.key("publisher")
    pid = pub.keyid(p)
    ek, ep = same_id_key(pub, "evil", pid)
    assert pub.keyid(ep) == pid
    b = pub.bundle("app", "process.limit=32\n", tar=True)
    pub.sign(k, b)
    pub.ok("trust", "add", "--key", p, "--may", "process.limit<=64")
    pub.ok("trust", "add", "--key", ep, "--may", "network.loopback")
    r = pub.ward("run", "-q", b)
    assert r.returncode == 0 and "hello from the bundle" in r.stdout, r
    # The other key's signature grants only what its own line says.
    b2 = pub.bundle("evil", "process.limit=32\n", tar=True)
    pub.sign(ek, b2)
    r = pub.ward("run", b2)
    assert_ward_error(r, "process.limit=32 is not granted by any trusted signer")
    # Naming the key by its (shared) id is ambiguous, and said so.
    r = pub.ward("trust", "remove", pid)
    assert_ward_error(r, f"share the id {pid}", "--key", status=1)


# ---------------------------------------------------------------- extraction

def test_state_dir_writable_by_another_user_is_refused(pub, make_tmpdir):
    """The verified tree is extracted under --state-dir/bundles: a directory
    another user owns or can write lets them rename the verified tree away
    and put their own in its place before it is mounted."""
    k, p = pub.key("publisher")
    b = pub.bundle("app", "process.limit=32\n", tar=True)
    pub.sign(k, b)
    pub.policy(f"key {pub.pub_b64(p)} name=pub may=process.limit<=64")
    # Another user's (make_tmpdir would give it to the rootless user).
    other = other_uid()
    hostile = make_tmpdir(mode=0o777)
    os.chown(hostile, other, other)
    os.mkdir(os.path.join(hostile, "bundles"), 0o777)
    os.chown(os.path.join(hostile, "bundles"), other, other)
    r = pub.ward("run", "--state-dir", hostile, b)
    assert_ward_error(r, f"{hostile} belongs to uid {other}", "--state-dir")
    assert os.listdir(os.path.join(hostile, "bundles")) == []
    if rootless():
        # And root's, to the user: as much another user's as uid 1000's.
        os.chown(hostile, 0, 0)
        r = pub.ward("run", "--state-dir", hostile, b)
        assert_ward_error(r, f"{hostile} belongs to uid 0", "--state-dir")
        assert os.listdir(os.path.join(hostile, "bundles")) == []
    # The user's own directory (root's as root) left group-writable is
    # refused too; a bundles directory of its own is made private again.
    mine = make_tmpdir(mode=0o777)
    r = pub.ward("run", "--state-dir", mine, b)
    assert_ward_error(r, f"{mine} can be changed by others (mode 0777)")
    os.chmod(mine, 0o755)
    os.mkdir(os.path.join(mine, "bundles"), 0o777)
    os.chmod(os.path.join(mine, "bundles"), 0o777)
    give_to_test_user(os.path.join(mine, "bundles"))
    r = pub.ward("run", "-q", "--state-dir", mine, b)
    assert r.returncode == 0 and "hello from the bundle" in r.stdout, r
    assert os.stat(os.path.join(mine, "bundles")).st_mode & 0o777 == 0o700


def test_tree_that_does_not_fit_is_refused_before_writing(pub):
    """A large tree fails with a message before anything is written, instead
    of filling the state directory's file system (/run: memory)."""
    k, p = pub.key("publisher")
    b = pub.bundle("app", "process.limit=32\n", tar=True)
    pub.sign(k, b)
    pub.policy(f"key {pub.pub_b64(p)} name=pub may=process.limit<=64")
    small = pub.p("small")
    os.mkdir(small, 0o755)
    # Rootless: the user's own (else ward stops at the owner, before the
    # room check this test is about).
    owner = f",uid={rootless_uid()},gid={rootless_uid() and os.stat(pub.path).st_gid}" \
        if rootless() else ""
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755" + owner, "h7-small",
                    small], check=True)
    try:
        r = pub.ward("run", "--state-dir", small, b)
        assert_ward_error(r, "does not fit in", f"{small}/bundles", "--state-dir")
        assert os.listdir(os.path.join(small, "bundles")) == []
    finally:
        subprocess.run(["umount", small], check=True)


def test_hostile_names_do_not_reach_the_terminal(pub):
    """Member names and manifest values are the publisher's: escape sequences
    in them must not reach the operator's terminal raw."""
    k, p = pub.key("publisher")
    evil = "rootfs/\x1b]0;OWNED\x07\nward: all good"
    out = pub.p("names.ward")
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for name, kind in (("manifest", tarfile.REGTYPE), ("rootfs", tarfile.DIRTYPE),
                           (evil, tarfile.CHRTYPE)):
            ti = tarfile.TarInfo(name)
            ti.type = kind
            data = b"#@ward-bundle 1\n#@command /bin/sh\n#@rootfs sha256:" + b"0" * 64 + b"\n"
            if kind == tarfile.REGTYPE:
                ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    give_tree(out)
    r = pub.ward("run", out)
    assert r.returncode == EXIT_FAILURE, r
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr, r
    assert r.stderr.count("\n") == 1 and "device node" in r.stderr, r

    if MINISIGN is None:
        pytest.skip("minisign is not installed: it signs what ward bundle sign refuses")
    b = pub.bundle("val", "fs.read=/srv/\x1b[2J\x1b]0;OWNED\x07\n")
    # ward bundle sign refuses such a manifest; a hostile publisher signs it
    # with minisign.
    s = subprocess.run([MINISIGN, "-S", "-s", k, "-m", os.path.join(b, "manifest"), "-t",
                        "role:publisher"], stdin=subprocess.DEVNULL, capture_output=True)
    assert s.returncode == 0, s
    give_tree(b)
    pub.policy(f"key {pub.pub_b64(p)} name=pub may=process.limit<=64")
    r = pub.ward("run", b)
    assert r.returncode == EXIT_FAILURE, r
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr, r
    assert "control character" in r.stderr, r


def test_extracted_tree_carries_no_privilege(pub, make_tmpdir):
    """Regression (held before issue 11): a tar may carry file capabilities in
    pax records (SCHILY.xattr.security.capability); extraction as root must
    not restore them, nor any setuid/setgid bit on a file."""
    k, p = pub.key("publisher")
    d = pub.bundle("app", "process.limit=32\n", args=("-c", "sleep 3"))
    out = pub.p("caps.ward")
    # cap_setuid+ep, as setcap writes it (VFS_CAP_REVISION_2).
    cap = (b"\x01\x00\x00\x02" + (1 << 7).to_bytes(4, "little") + b"\x00" * 12).decode("latin-1")
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        def add(ti):
            if ti.name.endswith("bin/busybox"):
                ti.pax_headers = {"SCHILY.xattr.security.capability": cap,
                                  "SCHILY.xattr.user.note": "x"}
            return ti
        t.add(d, arcname=".", filter=add)
    pub.sign(k, out)
    pub.policy(f"key {pub.pub_b64(p)} name=pub may=process.limit<=64")
    state = make_tmpdir()
    give_tree(out)
    # Rootless: the user could set user.* attributes on their own files, and
    # set-id bits; extraction must not either way.  security.capability
    # needs CAP_SETFCAP over the file system, which the user lacks: the
    # kernel would refuse it (EPERM), and extraction must not fail on it.
    proc = subprocess.Popen(as_user_argv([WARD, "run", "-q", "--state-dir", state, out],
                                         home=pub.env.get("HOME")),
                            env=pub.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        found = None
        for _ in range(100):
            try:
                dirs = os.listdir(os.path.join(state, "bundles"))
            except FileNotFoundError:
                dirs = []
            for name in dirs:
                f = os.path.join(state, "bundles", name, "rootfs", "bin", "busybox")
                if os.path.exists(f):
                    found = f
            if found:
                break
            subprocess.run(["sleep", "0.1"])
        assert found, "the extracted tree was not found"
        st = os.stat(found)
        assert st.st_mode & 0o6000 == 0
        for attr in ("security.capability", "user.note"):
            with pytest.raises(OSError):
                os.getxattr(found, attr)
    finally:
        outp, errp = proc.communicate(timeout=60)
    assert proc.returncode == 0, (outp, errp)


def test_trust_policy_in_a_directory_others_can_change_is_refused(pub, make_tmpdir):
    """The policy file was checked (root's, not writable by others), its
    directory was not: its owner could rename another policy into place."""
    k, p = pub.key("publisher")
    b = pub.bundle("app", "process.limit=32\n")
    pub.sign(k, b)
    line = f"key {pub.pub_b64(p)} name=pub may=process.limit<=64"
    other = other_uid()
    theirs = make_tmpdir(mode=0o755)
    os.chown(theirs, other, other)
    trust = os.path.join(theirs, "trust")
    with open(trust, "w") as f:
        f.write(line + "\n")
    os.chmod(trust, 0o644)
    env = dict(pub.env, WARD_TRUST=trust)
    r = pub.ward("run", b, env=env)
    # Rootless: the user's own directory is as good as root's for the
    # user's own policy (by design, docs/bundles.md); another user's is not.
    assert_ward_error(r, f"its directory {theirs} can be changed by others than "
                      f"{'you or root' if rootless() else 'root'}", f"owner uid {other}")
    # A link to it from a directory of root's (the user's) is no way around.
    link = pub.p("trust-link")
    os.symlink(trust, link)
    give_to_test_user(link)
    r = pub.ward("run", b, env=dict(pub.env, WARD_TRUST=link))
    assert_ward_error(r, f"trust policy {link} is a symbolic link")
    # The same policy in root's own directory (the user's own) is used.
    pub.policy(line)
    r = pub.ward("run", "-q", b)
    assert r.returncode == 0 and "hello from the bundle" in r.stdout, r


def test_trust_policy_file_others_can_change_is_refused(pub, tmpdir_real):
    """Whoever can change the policy file decides what bundles may do.  As
    root ward took only a file of root's that no one else can write; as an
    ordinary user it took any file (a hole: another user who owned it, or
    could write it, granted bundles anything in that user's sandboxes).  A
    user's policy must now be theirs or root's, writable by no one else,
    just as its directory."""
    k, p = pub.key("publisher")
    b = pub.bundle("app", "process.limit=32\n")
    pub.sign(k, b)
    line = f"key {pub.pub_b64(p)} name=pub may=process.limit<=64"
    pub.policy(line)
    other = other_uid()
    who = "you or root" if rootless() else "root"
    # Another user's file, in a directory of root's that nobody else can
    # change.
    trust = os.path.join(tmpdir_real, "theirs")
    with open(trust, "w") as f:
        f.write(line + "\n")
    os.chown(trust, other, other)
    os.chmod(trust, 0o644)
    r = pub.ward("run", b, env=dict(pub.env, WARD_TRUST=trust))
    assert_ward_error(r, f"trust policy {trust} can be changed by others than {who}",
                      f"owner uid {other}")
    # The right owner, but writable by its group or by anyone.
    for mode in (0o664, 0o646):
        os.chmod(pub.trust, mode)
        r = pub.ward("run", b)
        assert_ward_error(r, f"trust policy {pub.trust} can be changed by others than {who}",
                          f"mode {mode:04o}")
    os.chmod(pub.trust, 0o644)
    r = pub.ward("run", "-q", b)
    assert r.returncode == 0 and "hello from the bundle" in r.stdout, r

# SPDX-License-Identifier: GPL-2.0-or-later
"""Signed bundles and the trust policy (docs/bundles.md): the whole flow,
every refusal, the tamper and hostile-archive cases, minisign interop both
ways, and bundles run end to end in the sandbox.

Every test works in its own directory under /var/tmp and names its own trust
policy (WARD_TRUST or --trust): /etc/ward/trust is never read or written.
"""

import io
import os
import shutil
import stat
import subprocess
import tarfile
import time

import pytest

from conftest import EXIT_FAILURE, WARD, assert_ward_error, run_ward

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
MINISIGN = shutil.which("minisign")
BUNDLE_STATE = "/run/ward/bundles"

needs_minisign = pytest.mark.skipif(MINISIGN is None,
                                    reason="minisign is not installed (apt-get install minisign)")


def bundle_dirs():
    try:
        return set(os.listdir(BUNDLE_STATE))
    except OSError:
        return set()


class Work:
    """A test's directory, its trust policy, keys and bundles."""

    def __init__(self, path):
        self.path = path
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

    def key(self, name, *extra):
        self.ok("key", "generate", "--out", self.p(name), *extra)
        return self.p(name + ".key"), self.p(name + ".pub")

    def rootfs(self, name="root"):
        """A small root filesystem: busybox, and /etc/app/hello.txt.  (Data
        lives under /etc: with a root filesystem, Landlock lets the program
        read the directories of a system's layout, /bin, /etc, /usr, ...)"""
        root = self.p(name)
        os.makedirs(os.path.join(root, "bin"))
        os.makedirs(os.path.join(root, "etc", "app"))
        shutil.copy2(BUSYBOX, os.path.join(root, "bin", "busybox"))
        os.symlink("busybox", os.path.join(root, "bin", "sh"))
        with open(os.path.join(root, "etc", "app", "hello.txt"), "w") as f:
            f.write("hello from the bundle\n")
        return root

    def manifest(self, text, name="app.ent"):
        path = self.p(name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def create(self, out="app.ward", entitlements="", cmd="/bin/sh", args=(), extra=()):
        root = self.p("root") if os.path.isdir(self.p("root")) else self.rootfs()
        argv = ["bundle", "create", "--rootfs", root, "--cmd", cmd, "-o", self.p(out)]
        if entitlements is not None:
            argv += ["--manifest", self.manifest(entitlements)]
        for a in args:
            argv += ["--arg", a]
        self.ok(*argv, *extra)
        return self.p(out)

    def trust_add(self, pub, may, *extra):
        args = ["trust", "add", "--key", pub]
        if may is not None:
            args += ["--may", may]
        self.ok(*args, *extra)


@pytest.fixture
def work(tmpdir_real):
    return Work(tmpdir_real)


@pytest.fixture
def signed(work):
    """A bundle asking for network.loopback and process.limit=64, signed by a
    publisher and a reviewer, both trusted: the issue's example."""
    pub_key, pub_pub = work.key("publisher")
    rev_key, rev_pub = work.key("reviewer")
    b = work.create(entitlements="# app.ent\nnetwork.loopback\nprocess.limit=64\n")
    work.ok("bundle", "sign", "--key", pub_key, b)
    work.ok("bundle", "sign", "--key", rev_key, "--role", "reviewer", b)
    work.trust_add(pub_pub, "fs.read=*,process.limit<=256")
    work.trust_add(rev_pub, "network.*,fs.read=*,process.limit<=256")
    work.bundle = b
    work.pub = (pub_key, pub_pub)
    work.rev = (rev_key, rev_pub)
    return work


def keyid(work, pub):
    r = work.ok("key", "show", pub)
    return r.stdout.split()[2]


def tar_members(path):
    with tarfile.open(path) as t:
        return {m.name: (t.extractfile(m).read() if m.isfile() else None) for m in t}


# ---------------------------------------------------------------- the whole flow

def test_flow_create_sign_verify_run(signed):
    w = signed
    names = tar_members(w.bundle)
    pid = keyid(w, w.pub[1])
    rid = keyid(w, w.rev[1])
    assert "manifest" in names and "rootfs/bin/busybox" in names
    assert f"manifest.publisher.{pid}.minisig" in names
    assert f"manifest.reviewer.{rid}.minisig" in names
    manifest = names["manifest"].decode()
    assert manifest.startswith("#@ward-bundle 1\n#@name app\n#@command /bin/sh\n")
    assert "#@rootfs sha256:" in manifest and "network.loopback" in manifest

    r = w.ok("bundle", "verify", w.bundle)
    assert "valid, trusted" in r.stdout
    assert f"network.loopback: granted by key {rid} with \"network.*\" ({w.trust}:3)" \
        in r.stdout, r
    assert f"process.limit=64: granted by key {pid}" in r.stdout, r
    assert "verdict:      trusted" in r.stdout

    before = bundle_dirs()
    r = w.ward("run", "-q", w.bundle, "-c", "cat /etc/app/hello.txt; echo args: \"$@\"",
               "app", "one", "two")
    assert r.returncode == 0, r
    assert "hello from the bundle" in r.stdout
    assert "args: one two" in r.stdout
    assert "operator adds" not in r.stderr
    # The extracted root filesystem is gone.
    assert bundle_dirs() - before == set()


def test_bundle_entitlements_are_enforced(signed):
    """The bundle runs with what it asked for: loopback up, nothing else."""
    w = signed
    r = w.ward("run", "-q", w.bundle, "-c", "cat /sys/class/net/lo/operstate")
    assert r.returncode == 0, r
    assert r.stdout.strip() in ("unknown", "up"), r
    # fs.read of the host is not something the bundle asked for.
    r = w.ward("run", "-q", w.bundle, "-c", f"cat {w.trust}")
    assert r.returncode != 0, r


def test_operator_allow_is_added_visibly(signed):
    w = signed
    shared = w.p("shared")
    os.mkdir(shared)
    with open(os.path.join(shared, "note.txt"), "w") as f:
        f.write("operator's data\n")
    r = w.ward("run", "-q", w.bundle, "-c", f"cat {shared}/note.txt")
    assert r.returncode != 0 and "operator's data" not in r.stdout, r
    r = w.ward("run", "-q", "--allow", f"fs.read={shared}", w.bundle, "-c",
               f"cat {shared}/note.txt")
    assert r.returncode == 0, r
    assert "operator's data" in r.stdout
    assert (f"ward: operator adds fs.read={shared} (--allow) beyond the bundle's signed "
            "entitlements") in r.stderr, r
    # Asking again for what the bundle has is not an addition.
    r = w.ward("run", "-q", "--allow", "network.loopback", w.bundle, "-c", "true")
    assert r.returncode == 0 and "operator adds" not in r.stderr, r


def test_operator_cannot_silently_conflict(signed):
    r = signed.ward("run", "--allow", "network.none", signed.bundle, "-c", "true")
    assert r.returncode == EXIT_FAILURE, r
    assert "network.none" in r.stderr and "network.loopback" in r.stderr, r


def test_directory_bundle(work):
    k, pub = work.key("publisher")
    d = work.create(out="appdir", entitlements="process.limit=32\n",
                    args=["-c", "cat /etc/app/hello.txt"])
    assert os.path.isfile(os.path.join(d, "manifest"))
    assert os.path.isdir(os.path.join(d, "rootfs", "bin"))
    work.ok("bundle", "sign", "--key", k, d)
    work.trust_add(pub, "process.limit<=64")
    r = work.ward("run", "-q", d)
    assert r.returncode == 0 and "hello from the bundle" in r.stdout, r
    # After "--" it is a program, not a bundle.
    r = work.ward("run", "-q", "--", d)
    assert r.returncode != 0 and "hello" not in r.stdout, r


def test_same_tree_same_digest(work):
    work.rootfs()
    a = work.create(out="a.ward", extra=("--name", "app"))
    b = work.create(out="b.ward", extra=("--name", "app"))
    with open(a, "rb") as f1, open(b, "rb") as f2:
        assert f1.read() == f2.read()   # reproducible, byte for byte
    r1 = work.ok("bundle", "digest", work.p("root"))
    d = work.create(out="dir")
    r2 = work.ok("bundle", "digest", os.path.join(d, "rootfs"))
    assert r1.stdout == r2.stdout and r1.stdout.startswith("sha256:")
    assert r1.stdout.strip() in tar_members(a)["manifest"].decode()


def test_create_refuses_what_bundles_cannot_carry(work):
    root = work.rootfs()
    os.chmod(os.path.join(root, "bin", "busybox"), 0o4755)
    r = work.ward("bundle", "create", "--rootfs", root, "--cmd", "/bin/sh", "-o",
                  work.p("x.ward"))
    assert_ward_error(r, "/bin/busybox is setuid", "--strip-setuid", status=1)
    r = work.ok("bundle", "create", "--rootfs", root, "--cmd", "/bin/sh", "-o",
                work.p("x.ward"), "--strip-setuid")
    assert "cleared setuid" in r.stderr
    os.chmod(os.path.join(root, "bin", "busybox"), 0o755)
    os.mknod(os.path.join(root, "etc", "fifo"), 0o644 | stat.S_IFIFO)
    r = work.ward("bundle", "create", "--rootfs", root, "--cmd", "/bin/sh", "-o",
                  work.p("y.ward"))
    assert_ward_error(r, "/etc/fifo is a fifo", status=1)
    work.ok("bundle", "create", "--rootfs", root, "--cmd", "/bin/sh", "-o",
            work.p("y.ward"), "--skip-special")
    # A mistake in the entitlements is found before anything is signed.
    r = work.ward("bundle", "create", "--rootfs", root, "--cmd", "/bin/sh", "-o",
                  work.p("z.ward"), "--manifest", work.manifest("netwrok.none\n"))
    assert_ward_error(r, "app.ent:1", "network.none", status=1)
    assert not os.path.exists(work.p("z.ward"))


# ---------------------------------------------------------------- refusals

def test_refused_without_trust_policy(work):
    k, pub = work.key("publisher")
    b = work.create()
    work.ok("bundle", "sign", "--key", k, b)
    r = work.ward("run", b)
    assert_ward_error(r, f"no trust policy at {work.trust}", "ward trust add")


def test_refused_unsigned(work):
    k, pub = work.key("publisher")
    b = work.create()
    work.trust_add(pub, "*")
    r = work.ward("run", b)
    assert_ward_error(r, "not signed", "ward bundle sign")


def test_refused_unknown_signer(work):
    k, pub = work.key("stranger")
    _, trusted = work.key("publisher")
    b = work.create()
    work.ok("bundle", "sign", "--key", k, b)
    work.trust_add(trusted, "*")
    r = work.ward("run", b)
    assert_ward_error(r, "no signature of the bundle is by a key the trust policy",
                      keyid(work, pub), "not in the trust policy")


def test_refusal_names_entitlement_key_and_line(signed):
    w = signed
    # A bundle asking for more than its signers may grant.
    b = w.create(out="more.ward", entitlements="network.loopback\nfs.write=/srv\n")
    w.ok("bundle", "sign", "--key", w.pub[0], b)
    w.ok("bundle", "sign", "--key", w.rev[0], "--role", "reviewer", b)
    before = bundle_dirs()
    r = w.ward("run", b)
    assert_ward_error(r, f"{b}:manifest:", "fs.write=/srv is not granted",
                      f"key {keyid(w, w.pub[1])} \"publisher\" ({w.trust}:2) may "
                      "fs.read=*,process.limit<=256",
                      f"key {keyid(w, w.rev[1])} \"reviewer\" ({w.trust}:3)",
                      "--allow fs.write=/srv")
    assert bundle_dirs() - before == set()   # nothing extracted
    r = w.ward("bundle", "verify", b)
    assert r.returncode == 1 and "fs.write=/srv: NOT GRANTED" in r.stdout, r
    # The operator may grant it on the command line, visibly.
    os.makedirs("/srv", exist_ok=True)
    r = w.ward("run", "-q", "--allow", "fs.write=/srv", b, "-c", "true")
    assert r.returncode == 0, r
    assert ("ward: operator grants fs.write=/srv (--allow), which the trust policy does "
            "not grant to the bundle's signers") in r.stderr, r
    assert "operator adds" not in r.stderr


def test_refused_numeric_bound(signed):
    w = signed
    b = w.create(out="big.ward", entitlements="process.limit=512\n")
    w.ok("bundle", "sign", "--key", w.pub[0], b)
    r = w.ward("run", b)
    assert_ward_error(r, "process.limit=512 is not granted", "process.limit<=256")
    b = w.create(out="small.ward", entitlements="process.limit=256\nmemory.limit=64M\n")
    w.ok("bundle", "sign", "--key", w.pub[0], b)
    assert_ward_error(w.ward("run", b), "memory.limit=64M is not granted")
    w.trust_add(w.pub[1], "process.limit<=256,memory.limit<=1G")
    r = w.ward("run", "-q", b, "-c", "true")
    assert r.returncode == 0, r


def test_dangerous_needs_exact_grant(work):
    k, pub = work.key("publisher")
    b = work.create(entitlements="network.host\n")
    work.ok("bundle", "sign", "--key", k, b)
    work.trust_add(pub, "network.*,*")
    r = work.ward("run", b)
    assert_ward_error(r, "network.host (dangerous) is not granted",
                      "\"network.*\" does not reach network.host",
                      "must be named exactly")
    work.trust_add(pub, "network.host")
    r = work.ward("run", "-q", b, "-c", "true")
    assert r.returncode == 0, r


def test_revoked_and_expired_keys(signed):
    w = signed
    w.ok("trust", "revoke", "reviewer", "--reason", "key lost")
    r = w.ward("run", w.bundle)
    assert_ward_error(r, "network.loopback is not granted",
                      f"({w.trust}:3) could grant it with \"network.*\", but it is revoked")
    assert "REVOKED" in w.ok("trust", "list").stdout
    r = w.ward("bundle", "verify", w.bundle)
    assert "valid, but the key is revoked" in r.stdout, r
    # Re-adding sets the entry anew; then expire it.
    w.trust_add(w.rev[1], "network.*", "--expires", "2001-01-01")
    r = w.ward("run", w.bundle)
    assert_ward_error(r, "but the trust in it ended on 2001-01-01")
    w.trust_add(w.rev[1], "network.*", "--expires", "2999-01-01")
    assert w.ward("run", "-q", w.bundle, "-c", "true").returncode == 0


def test_roles_are_the_operators(signed):
    """A key's roles come from the policy, not from what its holder wrote in
    the trusted comment; `require` asks for a signer in each role."""
    w = signed
    w.trust_add(w.rev[1], "network.*", "--role", "reviewer")
    w.trust_add(w.pub[1], "fs.read=*,process.limit<=256,network.*", "--role", "publisher")
    w.ok("trust", "require", "network.*", "--by", "publisher,reviewer")
    assert w.ward("run", "-q", w.bundle, "-c", "true").returncode == 0
    # The reviewer's key, now given no role, cannot fill "reviewer" however
    # it signed.
    w.trust_add(w.rev[1], "network.*")
    r = w.ward("run", w.bundle)
    assert_ward_error(r, "network.loopback lacks the signers the policy requires",
                      "granted by publisher and reviewer")


def test_trust_file_must_be_root_only(signed):
    w = signed
    os.chmod(w.trust, 0o666)
    r = w.ward("run", w.bundle)
    assert_ward_error(r, "can be changed by others than root", "mode 0666")
    os.chmod(w.trust, 0o644)
    os.chown(w.trust, 1000, 1000)
    assert_ward_error(w.ward("run", w.bundle), "owner uid 1000")
    os.chown(w.trust, 0, 0)


def test_trust_option_overrides_env(signed):
    w = signed
    env = dict(os.environ, WARD_TRUST=w.p("nonexistent"))
    r = w.ward("run", "-q", "--trust", w.trust, w.bundle, "-c", "true", env=env)
    assert r.returncode == 0, r
    r = w.ward("run", w.bundle, "-c", "true", env=env)
    assert_ward_error(r, "no trust policy at " + w.p("nonexistent"))


def test_trust_edit_commands(work):
    _, a = work.key("alice")
    _, b = work.key("bob")
    work.trust_add(a, "network.*")
    work.trust_add(b, None, "--name", "bob-the-reviewer", "--role", "reviewer")
    r = work.ok("trust", "list")
    assert "alice" in r.stdout and "may network.*" in r.stdout
    assert "bob-the-reviewer" in r.stdout and "role reviewer" in r.stdout
    r = work.ward("trust", "add", "--key", a, "--may", "fs.read")
    assert_ward_error(r, "fs.read\" takes a value", status=1)
    r = work.ward("trust", "add", "--key", a, "--may", "netwrok.*")
    assert_ward_error(r, "matches no entitlement", status=1)
    work.ok("trust", "remove", "--key", a)
    assert "alice" not in work.ok("trust", "list").stdout
    assert_ward_error(work.ward("trust", "remove", "alice"), "no key alice", status=1)
    work.ok("trust", "revoke", keyid(work, b))
    assert_ward_error(work.ward("trust", "revoke", "bob-the-reviewer"), "already revoked",
                      status=1)
    with open(work.trust) as f:
        text = f.read()
    assert "revoked=" in text and stat.S_IMODE(os.stat(work.trust).st_mode) == 0o644


# ---------------------------------------------------------------- keys

def test_key_files_protected_and_passwords(work):
    k, pub = work.key("plain")
    assert stat.S_IMODE(os.stat(k).st_mode) == 0o600
    with open(k) as f:
        assert f.readline().startswith("untrusted comment:")
    pw = work.p("pw")
    with open(pw, "w") as f:
        f.write("s3cret\n")
    ek, epub = work.key("enc", "--password-file", pw, "--kdf", "interactive")
    assert "encrypted" in open(ek).readline()
    b = work.create()
    r = work.ward("bundle", "sign", "--key", ek, b)
    assert_ward_error(r, "is encrypted: give --password-file", status=1)
    bad = work.p("bad")
    with open(bad, "w") as f:
        f.write("wrong\n")
    r = work.ward("bundle", "sign", "--key", ek, "--password-file", bad, b)
    assert_ward_error(r, "wrong password", status=1)
    work.ok("bundle", "sign", "--key", ek, "--password-file", pw, b)
    # A secret key others can read is refused.
    os.chmod(k, 0o644)
    r = work.ward("bundle", "sign", "--key", k, b)
    assert_ward_error(r, "accessible to others", "chmod 600", status=1)
    # No overwriting by accident.
    r = work.ward("key", "generate", "--out", work.p("plain"))
    assert_ward_error(r, "exists", status=1)


# ---------------------------------------------------------------- tampering

def test_tampered_manifest_signature_fails(signed):
    w = signed
    with tarfile.open(w.bundle) as t:
        members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t]
    out = w.p("tampered.ward")
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for m, data in members:
            if m.name == "manifest":
                data = data.replace(b"process.limit=64", b"process.limit=65")
                m.size = len(data)
            t.addfile(m, io.BytesIO(data) if data is not None else None)
    r = w.ward("run", out)
    # Neither signature verifies: both are ignored, and nothing is left.
    assert_ward_error(r, "does not verify", "tampered with", keyid(w, w.pub[1]),
                      keyid(w, w.rev[1]))


def test_tampered_file_content_fails_digest(signed):
    w = signed
    data = bytearray(open(w.bundle, "rb").read())
    i = data.find(b"hello from the bundle")
    assert i > 0
    data[i] = ord("H")
    out = w.p("tampered.ward")
    with open(out, "wb") as f:
        f.write(data)
    before = bundle_dirs()
    r = w.ward("run", out)
    assert_ward_error(r, "the root filesystem does not match the manifest")
    assert bundle_dirs() - before == set()


def test_tampered_directory_bundle(work):
    k, pub = work.key("publisher")
    d = work.create(out="dir")
    work.ok("bundle", "sign", "--key", k, d)
    work.trust_add(pub, "*")
    hello = os.path.join(d, "rootfs", "etc", "app", "hello.txt")
    os.chmod(hello, 0o666)
    assert_ward_error(work.ward("run", d), "does not match the manifest")
    os.chmod(hello, 0o644)
    os.chown(hello, 1000, 0)
    assert_ward_error(work.ward("run", d), "does not match the manifest")
    os.chown(hello, 0, 0)
    os.symlink("/etc/passwd", os.path.join(d, "rootfs", "etc", "new"))
    assert_ward_error(work.ward("run", d), "does not match the manifest")
    os.unlink(os.path.join(d, "rootfs", "etc", "new"))
    assert work.ward("run", "-q", d, "-c", "true").returncode == 0
    with open(os.path.join(d, "manifest"), "a") as f:
        f.write("network.loopback\n")
    assert_ward_error(work.ward("run", d), "does not verify")


def test_tampered_trusted_comment(signed):
    w = signed
    d = w.p("x")
    os.mkdir(d)
    with tarfile.open(w.bundle) as t:
        t.extractall(d, numeric_owner=True)
    pid = keyid(w, w.pub[1])
    sig = os.path.join(d, f"manifest.publisher.{pid}.minisig")
    text = open(sig).read().replace("role:publisher", "role:reviewer")
    with open(sig, "w") as f:
        f.write(text)
    # The changed signature is ignored, and said so; the reviewer's suffices.
    r = w.ward("run", "-q", d, "-c", "true")
    assert r.returncode == 0, r
    assert f"manifest.publisher.{pid}.minisig claims key {pid} but does not verify" in r.stderr
    assert "trusted comment was changed" in r.stderr, r
    os.unlink(os.path.join(d, f"manifest.reviewer.{keyid(w, w.rev[1])}.minisig"))
    r = w.ward("run", d)
    assert_ward_error(r, "trusted comment was changed", "ignored")


def test_truncated_and_garbage(signed):
    w = signed
    data = open(w.bundle, "rb").read()
    for n in (100, 512 * 3 + 7, len(data) // 2, len(data) - 1024 - 1):
        out = w.p(f"cut{n}.ward")
        with open(out, "wb") as f:
            f.write(data[:n])
        r = w.ward("run", out)
        assert r.returncode == EXIT_FAILURE and r.stderr.startswith("ward: "), r
        assert "truncated" in r.stderr, r
    out = w.p("garbage.ward")
    with open(out, "wb") as f:
        f.write(os.urandom(4096))
    assert_ward_error(w.ward("run", out), "garbage.ward")


# ---------------------------------------------------------------- hostile archives

def hostile_tar(path, members):
    """members: (TarInfo kwargs, data or None)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for kw, data in members:
            ti = tarfile.TarInfo(kw.pop("name"))
            for k, v in kw.items():
                setattr(ti, k, v)
            if data is not None:
                ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data is not None else None)


MANIFEST = (b"#@ward-bundle 1\n#@command /bin/sh\n#@rootfs sha256:"
            + b"0" * 64 + b"\n")
D = tarfile.DIRTYPE


@pytest.mark.parametrize("case,want", [
    ([({"name": "rootfs/../../../../tmp/ward-pwned", "mode": 0o644}, b"x")], "contains \"..\""),
    ([({"name": "/tmp/ward-pwned", "mode": 0o644}, b"x")], "absolute name"),
    ([({"name": "rootfs/escape", "type": tarfile.SYMTYPE, "linkname": "/tmp"}, None),
      ({"name": "rootfs/escape/ward-pwned", "mode": 0o644}, b"x")], "not a directory"),
    ([({"name": "rootfs/up", "type": tarfile.SYMTYPE, "linkname": "../../.."}, None),
      ({"name": "rootfs/up/tmp/ward-pwned", "mode": 0o644}, b"x")], "not a directory"),
    ([({"name": "rootfs/null", "type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}, None)],
     "device node"),
    ([({"name": "rootfs/sda", "type": tarfile.BLKTYPE, "devmajor": 8, "devminor": 0}, None)],
     "device node"),
    ([({"name": "rootfs/su", "mode": 0o4755}, b"#!/bin/sh\n")], "is setuid"),
    ([({"name": "rootfs/shadow", "type": tarfile.LNKTYPE, "linkname": "/etc/shadow"}, None)],
     "absolute name"),
    ([({"name": "rootfs/shadow", "type": tarfile.LNKTYPE,
        "linkname": "rootfs/../../etc/shadow"}, None)], "contains \"..\""),
    ([({"name": "evil.sh", "mode": 0o755}, b"x")], "unexpected entry \"evil.sh\""),
    ([({"name": "rootfs/" + "d/" * 200 + "f", "mode": 0o644}, b"x")], "deeper than 128 directories"),
])
def test_hostile_archive(work, case, want):
    canary = "/tmp/ward-pwned"
    assert not os.path.exists(canary)
    out = work.p("hostile.ward")
    hostile_tar(out, [({"name": "manifest", "mode": 0o644}, MANIFEST),
                      ({"name": "rootfs", "type": D, "mode": 0o755}, None)] + list(case))
    k, pub = work.key("publisher")
    work.trust_add(pub, "*")
    before = bundle_dirs()
    r = work.ward("bundle", "verify", out)
    assert_ward_error(r, want, status=1)
    r = work.ward("run", out)
    assert_ward_error(r, want)
    assert not os.path.exists(canary)
    assert bundle_dirs() - before == set()


def test_huge_manifest_refused(work):
    out = work.p("huge.ward")
    hostile_tar(out, [({"name": "manifest", "mode": 0o644}, MANIFEST + b"#" * (1 << 20)),
                      ({"name": "rootfs", "type": D, "mode": 0o755}, None)])
    assert_ward_error(work.ward("bundle", "verify", out), "ward takes at most", status=1)


def test_reordered_archive_still_verifies(signed):
    """Order inside the tar does not matter for what is checked: signatures
    after the tree, or the manifest last, give the same verdict."""
    w = signed
    with tarfile.open(w.bundle) as t:
        members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t]
    meta = [x for x in members if not x[0].name.startswith("rootfs")]
    tree = [x for x in members if x[0].name.startswith("rootfs")]
    out = w.p("reordered.ward")
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
        for m, data in tree + meta[::-1]:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
    r = w.ward("run", "-q", out, "-c", "cat /etc/app/hello.txt")
    assert r.returncode == 0 and "hello from the bundle" in r.stdout, r
    assert "hello" in tar_members(out)["rootfs/etc/app/hello.txt"].decode()


def test_hand_made_tar_bundle(work):
    """A bundle made with tar(1) from a directory bundle works too."""
    k, pub = work.key("publisher")
    d = work.create(out="dir", args=["-c", "cat /etc/app/hello.txt"])
    work.ok("bundle", "sign", "--key", k, d)
    work.trust_add(pub, "*")
    out = work.p("bytar.ward")
    subprocess.run(["tar", "-C", d, "--numeric-owner", "-cf", out, "."], check=True)
    r = work.ward("run", "-q", out)
    assert r.returncode == 0 and "hello from the bundle" in r.stdout, r


# ---------------------------------------------------------------- minisign interop

def minisign(*args, stdin=None):
    return subprocess.run([MINISIGN] + list(args), input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)


@needs_minisign
def test_minisign_verifies_ward_signatures(signed):
    w = signed
    d = w.p("x")
    os.mkdir(d)
    with tarfile.open(w.bundle) as t:
        t.extractall(d, numeric_owner=True)
    for role, (key, pub) in (("publisher", w.pub), ("reviewer", w.rev)):
        sig = os.path.join(d, f"manifest.{role}.{keyid(w, pub)}.minisig")
        r = minisign("-V", "-p", pub, "-m", os.path.join(d, "manifest"), "-x", sig)
        assert r.returncode == 0, r
        assert f"role:{role}" in r.stdout
    # A ward legacy signature, too.
    w.ok("bundle", "sign", "--key", w.pub[0], "--legacy", "--role", "legacy", d)
    sig = os.path.join(d, f"manifest.legacy.{keyid(w, w.pub[1])}.minisig")
    assert minisign("-V", "-p", w.pub[1], "-m", os.path.join(d, "manifest"), "-x",
                    sig).returncode == 0


@needs_minisign
def test_ward_uses_minisign_keys_and_signatures(work):
    d = work.create(out="dir", entitlements="network.loopback\n",
                    args=["-c", "cat /etc/app/hello.txt"])
    # A key pair made by minisign, used by ward to sign.
    r = minisign("-G", "-W", "-p", work.p("m1.pub"), "-s", work.p("m1.key"))
    assert r.returncode == 0, r
    work.ok("bundle", "sign", "--key", work.p("m1.key"), d)
    # A signature made by minisign itself, with its default trusted comment
    # (no role) and one naming a role.
    r = minisign("-G", "-W", "-p", work.p("m2.pub"), "-s", work.p("m2.key"))
    assert r.returncode == 0, r
    r = minisign("-S", "-s", work.p("m2.key"), "-m", os.path.join(d, "manifest"),
                 "-t", f"timestamp:{int(time.time())}\trole:reviewer")
    assert r.returncode == 0, r
    assert os.path.exists(os.path.join(d, "manifest.minisig"))
    work.trust_add(work.p("m1.pub"), "process.limit<=10")
    work.trust_add(work.p("m2.pub"), "network.*", "--role", "reviewer")
    r = work.ok("bundle", "verify", d)
    assert f"granted by key {keyid(work, work.p('m2.pub'))}" in r.stdout, r
    r = work.ward("run", "-q", d)
    assert r.returncode == 0 and "hello from the bundle" in r.stdout, r
    # Legacy ("Ed") signatures from minisign -l.
    r = minisign("-S", "-l", "-s", work.p("m2.key"), "-m", os.path.join(d, "manifest"),
                 "-t", "role:reviewer")
    assert r.returncode == 0, r
    assert "legacy" in work.ok("bundle", "verify", d).stdout


@needs_minisign
def test_minisign_uses_ward_encrypted_key(work):
    pw = work.p("pw")
    with open(pw, "w") as f:
        f.write("s3cret\n")
    k, pub = work.key("enc", "--password-file", pw, "--kdf", "interactive")
    data = work.p("file")
    with open(data, "w") as f:
        f.write("data\n")
    r = minisign("-S", "-s", k, "-m", data, stdin="s3cret\n")
    assert r.returncode == 0, r
    r = minisign("-V", "-p", pub, "-m", data)
    assert r.returncode == 0, r
    # An unencrypted ward key, with minisign -W.
    k2, pub2 = work.key("plain")
    assert minisign("-S", "-W", "-s", k2, "-m", data, "-x", data + ".2").returncode == 0
    assert minisign("-V", "-p", pub2, "-m", data, "-x", data + ".2").returncode == 0


@needs_minisign
def test_ward_uses_minisign_encrypted_key(work):
    """minisign's own encrypted key (scrypt with its 1 GiB default)."""
    r = minisign("-G", "-p", work.p("m.pub"), "-s", work.p("m.key"), stdin="pw\npw\n")
    assert r.returncode == 0, r
    b = work.create()
    pw = work.p("pw")
    with open(pw, "w") as f:
        f.write("pw\n")
    work.ok("bundle", "sign", "--key", work.p("m.key"), "--password-file", pw, b)
    work.trust_add(work.p("m.pub"), "*")
    assert "valid, trusted" in work.ok("bundle", "verify", b).stdout


def test_failure_while_extracting_leaves_nothing(signed):
    """A file before its directory passes the first (checking) pass, and
    fails while extracting: the half-extracted tree is removed."""
    w = signed
    with tarfile.open(w.bundle) as t:
        members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t]
    out = w.p("child-first.ward")
    first = [x for x in members if x[0].name == "rootfs/etc/app/hello.txt"]
    rest = [x for x in members if x[0].name != "rootfs/etc/app/hello.txt"]
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for m, data in first + rest:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
    before = bundle_dirs()
    r = w.ward("run", out, "-c", "true")
    assert_ward_error(r, "/etc/app/hello.txt comes before its directory /etc/app")
    assert bundle_dirs() - before == set()

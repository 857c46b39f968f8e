# SPDX-License-Identifier: GPL-2.0-or-later
"""Measured launch and attestation (docs/attestation.md), cross-checked
with a software TPM (swtpm, one per test) and tpm2-tools: the PCR that
tpm2_pcrread reads is the log's replay (computed here, without ward), the
quote files are checked by tpm2_checkquote, and `ward attest verify`
refuses each kind of wrong quote with a message naming what differs.
Without a TPM: the software-rooted chain, labelled as such everywhere."""

import os
import shutil
import subprocess

from attestlib import (REPO, nonce, parse_log, replay, soft_host,  # noqa: F401
                       tpm_host)

SOFT_LABEL = "SOFTWARE-ROOTED"
SOFT_LIMIT = "does not prove the host booted what it claims"


def checkquote(h, qdir, n):
    return subprocess.run(
        ["tpm2_checkquote", "-u", h.ak, "-m", f"{qdir}/quote.msg", "-s", f"{qdir}/quote.sig",
         "-f", f"{qdir}/quote.pcrs", "-g", "sha256", "-q", n],
        capture_output=True, text=True, timeout=60)


def replay_line(out):
    return next(line.split()[1] for line in out.splitlines() if line.startswith("replay: "))


def test_pcr_read_by_tpm2_tools_is_the_logs_replay(tpm_host):
    h = tpm_host
    r = h.init()
    assert "endorsement hierarchy" in r.stdout and "PCR 23" in r.stdout, r
    with open(h.ak) as f:
        assert f.read().startswith("-----BEGIN PUBLIC KEY-----")
    assert os.path.exists(h.p("ak.ek.pub"))
    assert h.tpm.pcr(23) == "0" * 64
    h.measure("/bin/true")
    h.measure("/bin/echo", "two words")
    h.ok("run", "-q", "--state-dir", h.state, h.bundle("app.ward"))
    events = h.log()
    # The header, then three launches, numbered in order.
    assert [(s, t) for s, t, _, _ in events] == [(0, "log"), (1, "launch"), (2, "launch"),
                                                 (3, "launch")]
    assert b"mode tpm\npcr 23\n" in events[0][3]
    assert h.tpm.pcr(23) == replay(events)
    out = h.ok("attest", "log", "--state-dir", h.state).stdout
    assert replay_line(out) == replay(events)
    assert "(matches the replay)" in out
    # The bundle's event: what ran, and who vouched for it.
    body = events[3][3].decode()
    assert "\nbundle app\n" in body and "\nmanifest sha256:" in body
    assert "\nsigner " in body and "\ndecision trusted\n" in body
    assert "\nentitlement process.limit=64 by=" in body


def test_quote_verifies_with_tpm2_checkquote_and_ward(tpm_host):
    h = tpm_host
    h.init()
    b = h.bundle("app.ward")
    h.ok("run", "-q", "--state-dir", h.state, b)
    n = nonce()
    q = h.p("q")
    r = h.quote(n, q)
    assert r.returncode == 0, r
    assert sorted(os.listdir(q)) == ["eventlog", "kind", "qualifying", "quote.msg",
                                     "quote.pcrs", "quote.sig"]
    c = checkquote(h, q, n)
    assert c.returncode == 0, c
    assert h.tpm.pcr(23) in c.stdout.lower()
    with open(f"{q}/eventlog", "rb") as f:
        assert replay(parse_log(f.read())) == h.tpm.pcr(23)
    # never into a directory others can write (its files could be links)
    shared = h.p("shared")
    os.mkdir(shared)
    os.chmod(shared, 0o1777)
    r = h.quote(n, shared)
    assert r.returncode == 1 and "nobody else can write" in r.stderr, r
    assert os.listdir(shared) == []
    v = h.verify(n, q, "--expect-bundle", b, "--expect-policy", "process.limit=64")
    assert v.returncode == 0, v
    assert "nonce: matches" in v.stdout and "replay to the quoted PCR" in v.stdout
    assert "note: PCR 23 can be reset" in v.stdout
    assert v.stdout.rstrip().endswith("verified")


def test_verify_refuses_each_wrong_quote_naming_what_differs(tpm_host):
    h = tpm_host
    h.init()
    b = h.bundle("app.ward")
    other = h.bundle("other.ward", ents="process.limit=32\n")
    h.ok("run", "-q", "--state-dir", h.state, b)
    n1 = nonce()
    old = h.p("old")
    assert h.quote(n1, old).returncode == 0

    def refused(r, *words):
        assert r.returncode == 1, r
        assert "the quote does not verify" in r.stderr or words[0] in r.stderr, r
        for w in words:
            assert w in r.stderr, (w, r)

    # wrong nonce: a quote made for someone else's nonce
    refused(h.verify(nonce(), old), "wrong nonce", "not the nonce")
    # a different bundle than the one expected
    refused(h.verify(n1, old, "--expect-bundle", other), "bundle digest differs")
    # an entitlement the verifier did not expect
    refused(h.verify(n1, old, "--expect-policy", ""),
            "entitlement not expected: process.limit=64")
    # unknown AK: another TPM's key
    shutil.copy(h.p("ak.ek.pub"), h.p("stranger.pub"))
    r = h.verify(n1, old, ak=h.p("stranger.pub"))
    assert r.returncode == 1 and "not signed by the key of" in r.stderr, r
    assert "an unknown AK" in r.stderr, r

    # the quote's own files altered: the PCR value, the signed message, the signature
    pcr = bytes.fromhex(h.tpm.pcr(23))
    for name, change, words in (
            ("quote.pcrs", lambda d: d.replace(pcr, bytes([pcr[0] ^ 1]) + pcr[1:]),
             "the PCR values of quote.pcrs are not the ones the TPM quoted"),
            ("quote.msg", lambda d: d[:-1] + bytes([d[-1] ^ 1]), "not signed by the key of"),
            ("quote.sig", lambda d: d[:3], "quote.sig is not a TPMT_SIGNATURE")):
        bad = h.p("bad-" + name)
        shutil.copytree(old, bad)
        with open(f"{bad}/{name}", "rb") as f:
            data = f.read()
        changed = change(data)
        assert changed != data
        with open(f"{bad}/{name}", "wb") as f:
            f.write(changed)
        r = h.verify(n1, bad)
        assert r.returncode == 1 and words in r.stderr, (name, r)
        assert checkquote(h, bad, n1).returncode != 0

    # files a hostile host could send that would hang or exhaust the verifier
    odd = h.p("odd")
    shutil.copytree(old, odd)
    os.unlink(f"{odd}/quote.msg")
    os.mkfifo(f"{odd}/quote.msg")
    r = h.verify(n1, odd)
    assert r.returncode == 1 and "quote.msg: not a regular file" in r.stderr, r
    os.unlink(f"{odd}/quote.msg")
    shutil.copy(f"{old}/quote.msg", f"{odd}/quote.msg")
    os.unlink(f"{odd}/eventlog")
    os.symlink("/dev/zero", f"{odd}/eventlog")
    r = h.verify(n1, odd)
    assert r.returncode == 1 and "eventlog: not a regular file" in r.stderr, r

    # edited log: one byte of an event changed
    edited = h.p("edited")
    shutil.copytree(old, edited)
    with open(f"{edited}/eventlog", "rb") as f:
        data = f.read()
    with open(f"{edited}/eventlog", "wb") as f:
        f.write(data.replace(b"process.limit=64", b"process.limit=99"))
    refused(h.verify(n1, edited), "the event log does not replay",
            "does not match its digest")
    # edited log, re-digested: each record is consistent, the replay is not
    events = parse_log(data)
    from attestlib import record
    forged = b"".join(record(s, body.replace(b"process.limit=64", b"process.limit=99"), t)
                      for s, t, _, body in events)
    with open(f"{edited}/eventlog", "wb") as f:
        f.write(forged)
    refused(h.verify(n1, edited), "does not replay to the quoted PCR")
    # a launch removed from the end
    with open(f"{edited}/eventlog", "wb") as f:
        f.write(b"".join(record(s, body, t) for s, t, _, body in events[:-1]))
    refused(h.verify(n1, edited), "does not replay to the quoted PCR")

    # replayed quote: the old quote, given again after another launch to a
    # verifier with a fresh nonce, and with the new log in place of its own
    h.ok("run", "-q", "--state-dir", h.state, other)
    n2 = nonce()
    refused(h.verify(n2, old), "wrong nonce")
    replayed = h.p("replayed")
    shutil.copytree(old, replayed)
    shutil.copy(h.log_path, f"{replayed}/eventlog")
    refused(h.verify(n1, replayed), "does not replay to the quoted PCR")
    # while a fresh quote of the new state passes
    new = h.p("new")
    assert h.quote(n2, new).returncode == 0
    assert h.verify(n2, new, "--expect-bundle", other).returncode == 0


def test_software_fallback_is_labelled_everywhere(soft_host):
    h = soft_host
    r = h.init()
    assert SOFT_LABEL in r.stdout and SOFT_LIMIT in r.stdout, r
    assert "no TPM" in r.stdout
    b = h.bundle("app.ward")
    h.ok("run", "-q", "--state-dir", h.state, b)
    events = h.log()
    assert b"mode software\n" in events[0][3]
    out = h.ok("attest", "log", "--state-dir", h.state).stdout
    assert out.startswith(SOFT_LABEL) and replay_line(out) == replay(events)
    n = nonce()
    q = h.p("q")
    r = h.quote(n, q)
    assert r.returncode == 0 and SOFT_LABEL in r.stdout and SOFT_LIMIT in r.stdout, r
    with open(f"{q}/kind") as f:
        kind = f.read()
    assert kind.startswith("software\n") and SOFT_LIMIT in kind
    with open(f"{q}/quote.msg") as f:
        assert SOFT_LABEL in f.read()
    v = h.verify(n, q, "--expect-bundle", b)
    assert v.returncode == 0, v
    assert v.stdout.startswith(SOFT_LABEL) and "software-rooted" in v.stdout
    if shutil.which("minisign"):
        m = subprocess.run(["minisign", "-V", "-p", h.ak, "-m", f"{q}/quote.msg", "-x",
                            f"{q}/quote.sig"], capture_output=True, text=True)
        assert m.returncode == 0, m
    # refusals work the same
    r = h.verify(nonce(), q)
    assert r.returncode == 1 and "wrong nonce" in r.stderr, r
    h.ok("key", "generate", "--out", h.p("stranger"))
    r = h.verify(n, q, ak=h.p("stranger.pub"))
    assert r.returncode == 1 and "not signed by the key given with --ak" in r.stderr, r


def test_tcti_from_environment_and_refused_modules(tpm_host):
    h = tpm_host
    # WARD_TCTI (set by the fixture) names the TPM: no --tcti needed
    r = h.init()
    assert h.tpm.tcti in r.stdout, r
    # modules other than device, swtpm and mssim would be a library loaded as root
    for bad in ("cmd:/bin/sh", "libtpm-evil:x", "device:/dev/sda", "swtpm:host=a b,port=1"):
        r = h.ward("attest", "init", "--state-dir", h.state, "--out", h.p("x"), "--tcti", bad)
        assert r.returncode == 1 and "--tcti" in r.stderr and "ward accepts" in r.stderr, r
        env = dict(h.env, WARD_TCTI=bad)
        r = h.ward("run", "-q", "--state-dir", h.state, "--measure", "--", "/bin/true",
                   env=env)
        assert r.returncode == 125 and "WARD_TCTI" in r.stderr, r


def test_other_pcr_and_default_pcr(tpm_host):
    h = tpm_host
    h.init("--pcr", "16")
    h.measure("/bin/true")
    assert h.tpm.pcr(16) == replay(h.log())
    assert h.tpm.pcr(23) == "0" * 64
    # Back to the default PCR: the log of PCR 16 is kept as log.1
    h.ok("attest", "init", "--state-dir", h.state, "--out", h.p("ak"), "--key", h.key,
         "--pcr", "23")
    r = h.measure("/bin/true")
    assert "log.1" in r.stderr
    assert h.tpm.pcr(23) == replay(h.log())

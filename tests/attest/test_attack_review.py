# SPDX-License-Identifier: GPL-2.0-or-later
"""A review's attacks on measured launch and attestation
(docs/threat-model/attest.md).

The attackers: the program inside a sandbox (uid 0 in root mode: only its
view and the launch-time guard keep it from root's files) wanting the
software host key, which signs software-rooted quotes; and whoever carries
a quote to a verifier (an old quote for a new nonce, a log that claims
another PCR).  Each test runs ward and real sandboxes as the attestation
tests do (attestlib: a state directory of the test's own)."""

import os
import shutil

import pytest

from attestlib import HELPERS, nonce, soft_host  # noqa: F401

PROBE = os.path.join(HELPERS, "probe")
DEFAULT_KEY_DIR = "/var/lib/ward"


@pytest.fixture
def default_key_host(soft_host):
    """A host whose software key is at its default place (root:
    /var/lib/ward/attest/host.key), made by `ward attest init` without
    --key; /var/lib/ward is removed afterwards.  Skipped when another
    ward's /var/lib/ward exists (not this test's to change)."""
    if os.path.lexists(DEFAULT_KEY_DIR):
        pytest.skip(f"{DEFAULT_KEY_DIR} exists (not this test's)")
    try:
        soft_host.ok("attest", "init", "--state-dir", soft_host.state, "--out",
                     soft_host.p("ak"))
        assert os.path.exists(os.path.join(DEFAULT_KEY_DIR, "attest", "host.key"))
        yield soft_host
    finally:
        shutil.rmtree(DEFAULT_KEY_DIR, ignore_errors=True)


def test_attack_unmeasured_launch_in_a_fresh_state_dir_cannot_read_the_host_key(
        default_key_host):
    """The key lives outside any state directory (/var/lib/ward/attest),
    and outlives /run (a reboot empties STATE/attest, the key stays).  An
    unmeasured launch in a state directory without an attest directory
    skipped the launch-time guard altogether, so a sandbox granted
    fs.read=/var/lib/ward read the key, and could sign software-rooted
    quotes the host's verifiers accept.  Refused now by the guard, naming
    the key."""
    h = default_key_host
    key = os.path.join(DEFAULT_KEY_DIR, "attest", "host.key")
    fresh = h.p("fresh-state")  # a state directory never used for attestation
    r = h.ward("run", "-q", "--state-dir", fresh, "-a", f"fs.exec={HELPERS}", "-a",
               f"fs.read={DEFAULT_KEY_DIR}", "--", PROBE, "file", key)
    with open(key) as f:
        secret = f.read().split()[-1]
    assert secret not in r.stdout, f"the sandbox read the host key: {r}"
    assert r.returncode == 125, r
    assert "reaches the software-rooted host key" in r.stderr and key in r.stderr, r
    # Control: the same launch with a grant beside the key runs.
    side = h.p("side")
    os.mkdir(side)
    r = h.ward("run", "-q", "--state-dir", fresh, "-a", f"fs.read={side}", "--", "/bin/true")
    assert r.returncode == 0, r


def test_attack_host_key_of_a_lax_mode_is_not_used(soft_host):
    """The key is made 0600 (whatever the umask) and refused once anybody
    else may read it: a quote then fails naming the key and the fix."""
    h = soft_host
    h.init()
    st = os.stat(h.key)
    assert st.st_mode & 0o777 == 0o600, oct(st.st_mode)
    h.measure("/bin/true")
    os.chmod(h.key, 0o644)
    n = nonce()
    r = h.quote(n, h.p("q"))
    assert r.returncode != 0, r
    assert "nobody else" in r.stderr and "chmod 0600" in r.stderr, r


def test_attack_old_quote_and_log_of_another_pcr_are_refused(soft_host):
    """An old quote shown for a new nonce, and a quote whose log says it
    extends another PCR, do not verify; each difference is named."""
    h = soft_host
    h.init()
    h.measure("/bin/true")
    n1, n2 = nonce(), nonce()
    q = h.p("q")
    assert h.quote(n1, q).returncode == 0
    assert h.verify(n1, q).returncode == 0
    v = h.verify(n2, q)
    assert v.returncode != 0 and "wrong nonce" in v.stderr, v
    # The log's PCR rewritten to another index: each record's digest
    # covers its text, the PCR's included, so the edit is named.
    log = os.path.join(q, "eventlog")
    data = open(log, "rb").read()
    assert b"pcr 23" in data, data[:200]
    with open(log, "wb") as f:
        f.write(data.replace(b"pcr 23", b"pcr 16", 1))
    v = h.verify(n1, q)
    assert v.returncode != 0, v
    assert "does not match its digest" in v.stderr or "PCR 16" in v.stderr, v

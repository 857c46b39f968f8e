# SPDX-License-Identifier: GPL-2.0-or-later
"""Attacks on measured launch and attestation (docs/threat-model/attest.md).

The attackers: the program inside a sandbox (it runs as uid 0 in root
mode, so only its view and the grants keep it from ward's files), an
environment asking the broker for quotes, whoever writes a bundle, and
whoever edits the measurement log.  What they must never get: an event in
the PCR that ward did not measure, a quote that passes for another
environment's launch, two different launches with one digest."""

import os
import re
import struct
import subprocess
import time

from attestlib import (BROKER_HELPERS, HELPERS, WARD, WARD_MSG, nonce, parse_log,  # noqa: F401
                       record, replay, soft_host, tpm_host)

PROBE = os.path.join(HELPERS, "probe")


def test_sandbox_cannot_reach_the_log_or_the_host_key(soft_host):
    """Without a grant the log is not in the sandbox's view.  A grant that
    would reach it (the sandbox is uid 0: DAC alone would let it write) is
    refused before anything runs, for measured and unmeasured launches; so
    is any grant that reaches the software host key."""
    h = soft_host
    h.init()
    h.measure("/bin/true")
    before = open(h.log_path, "rb").read()
    r = h.run("-a", f"fs.exec={HELPERS}", "--", PROBE, "open", h.log_path, "rw")
    assert r.stdout.strip() == "errno=ENOENT", r
    for grant in (f"fs.write={h.state}", f"fs.write={h.dir}", f"fs.write={h.attest_dir}/env",
                  f"api.open={h.state}:rw"):
        for measured in ((), ("--measure",)):
            r = h.run(*measured, "-a", f"fs.exec={HELPERS}", "-a", grant, "--", PROBE, "open",
                      h.log_path, "rw")
            assert r.returncode == 125, r
            assert "reaches ward's attestation directory" in r.stderr, r
            assert "rewrite the measurement log" in r.stderr, r
    r = h.run("-a", f"fs.exec={HELPERS}", "-a", f"fs.read={h.dir}", "--", PROBE, "file", h.key)
    assert r.returncode == 125 and "reaches the software-rooted host key" in r.stderr, r
    assert "forge them" in r.stderr, r
    # a grant beside them is fine, and the log is untouched
    side = h.p("side")
    os.mkdir(side)
    r = h.run("-a", f"fs.write={side}", "--", "/bin/true")
    assert r.returncode == 0, r
    assert open(h.log_path, "rb").read() == before


def test_an_appended_event_is_never_measured(tpm_host):
    """An event appended to the log behind ward's back (well formed, its
    digest right) is not in the PCR: the next launch moves it out to
    log.unmeasured instead of extending it, and the PCR stays the replay
    of what ward measured."""
    h = tpm_host
    h.init()
    h.measure("/bin/true")
    events = h.log()
    forged = (b"ward-launch 1\nenv forged\nbundle trusted-app\n"
              b"entitlement network.host by=operator\n")
    with open(h.log_path, "ab") as f:
        f.write(record(len(events), forged))
    r = h.measure("/bin/echo", "next")
    assert "log.unmeasured" in r.stderr and "not measured" in r.stderr, r
    events = h.log()
    assert all(forged != body for _, _, _, body in events)
    assert [s for s, _, _, _ in events] == list(range(len(events)))
    assert h.tpm.pcr(23) == replay(events)
    with open(os.path.join(h.attest_dir, "log.unmeasured"), "rb") as f:
        assert forged in f.read()
    n = nonce()
    assert h.quote(n, h.p("q")).returncode == 0
    v = h.verify(n, h.p("q"))
    assert v.returncode == 0 and "env forged" not in v.stdout, v


def test_racing_launches_and_quotes_keep_log_and_pcr_in_step(tpm_host):
    """Launches and quotes at once: the lock serialises appends, each quote
    comes with the very log its PCR value was extended with."""
    h = tpm_host
    h.init()
    h.measure("/bin/true")
    procs, quotes = [], []
    for i in range(6):
        procs.append(subprocess.Popen([WARD, "run", "-q", "--state-dir", h.state, "--measure",
                                       "--", "/bin/echo", f"racer {i}"], env=h.env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        if i % 2:
            n, q = nonce(), h.p(f"q{i}")
            quotes.append((n, q, subprocess.Popen(
                [WARD, "attest", "quote", "--state-dir", h.state, "--nonce", n, "--out", q],
                env=h.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)))
    for p in procs + [p for _, _, p in quotes]:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    events = h.log()
    assert [s for s, _, _, _ in events] == list(range(8))
    assert sorted(b.split(b"\narg ")[-1].split(b"\n")[0] for _, _, _, b in events[2:]) == \
        [f"racer\\x20{i}".encode() for i in range(6)]
    assert h.tpm.pcr(23) == replay(events)
    for n, q, _ in quotes:
        v = h.verify(n, q)
        assert v.returncode == 0, v
        c = subprocess.run(["tpm2_checkquote", "-u", h.ak, "-m", f"{q}/quote.msg", "-s",
                            f"{q}/quote.sig", "-f", f"{q}/quote.pcrs", "-g", "sha256", "-q", n],
                           capture_output=True, text=True, timeout=60)
        assert c.returncode == 0, c


def _env_attest(h, name, n, out, allow=("api.attest",), shell=None):
    os.makedirs(out, exist_ok=True)
    args = ["--name", name, "-a", f"fs.exec={BROKER_HELPERS}", "-a", f"fs.write={out}"]
    for a in allow:
        args += ["-a", a]
    argv = [WARD_MSG, "attest", n, out]
    if shell:
        argv = ["/bin/sh", "-c", shell + "; exec " + " ".join(argv)]
    return args + ["--"] + argv


def test_api_attest_quote_is_bound_to_the_asking_environment(tpm_host):
    h = tpm_host
    h.init()
    n = nonce()
    qa, qb, qc = h.p("qa"), h.p("qb"), h.p("qc")
    r = h.run(*_env_attest(h, "att-a", n, qa))
    assert r.returncode == 0, r
    r = h.run(*_env_attest(h, "att-b", n, qb))
    assert r.returncode == 0, r
    events = h.log()
    seq_a = next(s for s, _, _, b in events if b"\nenv att-a\n" in b)
    with open(f"{qa}/event") as f:
        assert f.read().startswith(f"seq {seq_a}\nenv att-a\n")
    # tpm2-tools checks it against the bound qualifying data
    with open(f"{qa}/qualifying") as f:
        qual = f.read().strip()
    assert qual != n
    c = subprocess.run(["tpm2_checkquote", "-u", h.ak, "-m", f"{qa}/quote.msg", "-s",
                        f"{qa}/quote.sig", "-f", f"{qa}/quote.pcrs", "-g", "sha256", "-q", qual],
                       capture_output=True, text=True, timeout=60)
    assert c.returncode == 0, c
    v = h.verify(n, qa, "--env", "att-a")
    assert v.returncode == 0 and f"bound to event {seq_a}" in v.stdout, v
    # B's quote does not pass for A's launch
    v = h.verify(n, qb, "--env", "att-a")
    assert v.returncode == 1, v
    assert 'the quote was asked for by environment "att-b"' in v.stderr, v
    # nor for another verifier's nonce
    v = h.verify(nonce(), qb, "--env", "att-b")
    assert v.returncode == 1 and "wrong nonce" in v.stderr, v
    # without the entitlement: refused like any broker request
    r = h.run(*_env_attest(h, "att-c", n, qc, allow=()))
    assert r.returncode == 1, r
    assert '"att-c" lacks the entitlement api.attest' in r.stderr, r
    assert "denied attest by the broker" in r.stderr and "grant api.attest" in r.stderr, r
    assert not os.path.exists(f"{qc}/quote.msg")


def test_api_attest_cannot_be_pointed_at_another_launch(tpm_host):
    """The record that says which event launched an environment lives beside
    the log; rewritten to name another environment's event, the broker
    refuses the quote instead of binding the nonce to that event."""
    h = tpm_host
    h.init()
    n = nonce()
    assert h.run(*_env_attest(h, "att-a", n, h.p("qa"))).returncode == 0
    seq_a, _, digest_a, _ = next(e for e in h.log() if b"\nenv att-a\n" in e[3])
    out = h.p("qb")
    go = os.path.join(out, "go")
    p = subprocess.Popen([WARD, "run", "-q", "--state-dir", h.state] +
                         _env_attest(h, "att-b", n, out,
                                     shell=f"while [ ! -e {go} ]; do sleep 0.05; done"),
                         env=h.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        rec = os.path.join(h.attest_dir, "env", "att-b")
        deadline = time.monotonic() + 120
        while not os.path.exists(rec) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(rec) as f:
            _, pid, _ = f.read().split()
        with open(rec, "w") as f:
            f.write(f"{seq_a} {pid} {digest_a}\n")
        open(go, "w").close()
        _, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 1, err
    assert f'is the launch of "att-a", not of "att-b"' in err, err
    assert not os.path.exists(os.path.join(out, "quote.msg"))


def test_hostile_bundle_fields_never_make_two_launches_one_digest(tpm_host):
    """Arguments split differently, a newline that tries to write an
    entitlement line of its own, environment values that look like
    arguments: each launch gets its own digest, and the event holds exactly
    the lines ward wrote."""
    h = tpm_host
    h.init()
    cases = {
        "joined": ["-c", "true", "a b"],
        "split": ["-c", "true", "a", "b"],
        "escaped": ["-c", "true", "x\\x0aentitlement\\x20network.host\\x20by=operator"],
        "argenv": ["-c", "true", "arg X=1"],
    }
    digests = {}
    for name, args in cases.items():
        extra = ("--env", "X=1") if name == "argenv" else ()
        b = h.bundle(f"{name}.ward", args=args, extra=extra)
        r = h.ward("run", "-q", "--state-dir", h.state, b)
        assert r.returncode == 0, r
        _, _, d, body = h.log()[-1]
        digests[name] = (d, body)
    # A bundle's manifest cannot carry a newline in an argument (its
    # parser refuses the line); a command line can: measured as one value.
    h.measure("/bin/echo", "x\nentitlement network.host by=operator")
    _, _, d, body = h.log()[-1]
    digests["inject"] = (d, body)
    assert len({d for d, _ in digests.values()}) == len(cases) + 1
    inject = digests["inject"][1].decode()
    assert "\nentitlement network.host" not in inject
    assert "\narg x\\x0aentitlement\\x20network.host\\x20by=operator\n" in inject
    assert "\narg x\\x5cx0aentitlement" in digests["escaped"][1].decode()
    assert "\narg a\\x20b\n" in digests["joined"][1].decode()
    assert "\narg a\narg b\n" in digests["split"][1].decode()
    # the verifier sees only the entitlements ward granted
    n = nonce()
    assert h.quote(n, h.p("q")).returncode == 0
    seq = next(s for s, _, d, _ in h.log() if d == digests["inject"][0])
    evt = h.p("q", "event")
    with open(evt, "w") as f:
        f.write(f"seq {seq}\n")
    v = h.verify(n, h.p("q"), "--expect-policy", "")
    assert v.returncode == 0, v
    assert "network.host" not in v.stdout.replace("network.host\\x20", "")


def _attest_packet(nonce_bytes, mid=1):
    """An ATTEST request (lib/broker/proto.h: type 8, the nonce as DATA)."""
    data = struct.pack("<HHI", 2, 0, len(nonce_bytes)) + nonce_bytes
    return (struct.pack("<HHII", 1, 8, mid, len(data)) + data).hex()


def test_api_attest_requests_are_rate_limited(tpm_host):
    """Each request is a root process and TPM time: a burst from one
    environment is cut off with a named refusal, not queued."""
    h = tpm_host
    h.init()
    envtool = os.path.join(BROKER_HELPERS, "envtool")
    r = h.run("--name", "att-flood", "-a", "api.attest", "-a", f"fs.exec={BROKER_HELPERS}",
              "--", envtool, "raw", f"n:20:{_attest_packet(os.urandom(16))}")
    assert r.returncode == 0, r
    m = re.search(r"repeat 20 ok=(\d+) error=(\d+) .*first_text=(.*)", r.stdout)
    assert m, r
    ok, refused = int(m.group(1)), int(m.group(2))
    assert ok >= 1 and refused >= 5 and ok + refused == 20, r
    assert "too many attestation requests" in m.group(3), r

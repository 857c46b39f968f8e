# SPDX-License-Identifier: GPL-2.0-or-later
"""Attacks on the broker daemon from inside a real environment (issue 11):
the program in the sandbox speaks the raw protocol on its broker descriptor
(envtool raw) and tries to crash the broker, exhaust its memory, descriptors
or log, or learn names it may not look up.  Each test names the broker's own
refusal (its errno and text, or its log line), not just "it failed".

Run with WARD_BROKER_DAEMON=build-asan/src/ward to have the daemon itself
under ASan+UBSan (brokerlib.py): a test then also fails on any sanitizer
report of the broker."""

import os
import re
import subprocess

from brokerlib import DAEMON, T, bhelpers, broker, hexpkt, wait_for  # noqa: F401
from conftest import WARD, read_line

EACCES, EAGAIN, EMFILE, EADDRINUSE = 13, 11, 24, 98


def broker_ward():
    return WARD


def sandbox(b, helpers, name, allow, steps, **kw):
    """Run envtool raw STEPS in a sandbox registered as NAME."""
    return b.ward(*b.run_args(name, allow, [f"{helpers}/envtool", "raw"] + steps, helpers), **kw)


def answers(out):
    """[(type, id, code, text)] of envtool raw's answer lines."""
    rows = []
    for line in out.splitlines():
        m = re.match(r"answer (\d+) (\d+) code=(\d+) fd=(\d) text=(.*)$", line)
        if m:
            rows.append((int(m[1]), int(m[2]), int(m[3]), m[5]))
    return rows


# ------------------------------------------------------- item 12: use after free

def test_provider_killed_with_services_open(broker, bhelpers):
    """An environment that provides two services and then sends a malformed
    packet: the broker closes it, and its services end with it.  The
    services' channels used to be reaped after the environment was freed,
    and their log line read the freed name (heap-use-after-free in
    conn_label(), in a daemon that runs as root)."""
    steps = [f"x:{hexpkt('PROVIDE', 1, ('NAME', 'svc-a'))}",
             f"x:{hexpkt('PROVIDE', 2, ('NAME', 'svc-b'))}",
             f"s:{hexpkt('HELLO', 3, version=9)}", "r"]
    r = sandbox(broker, bhelpers, "prov", ["service.provide=svc-*"], steps)
    assert [a[0] for a in answers(r.stdout)] == [32, 32], r
    assert "closed" in r.stdout, r
    assert wait_for(lambda: 'the service "svc-b" of "prov" ended' in broker.log()), broker.log()
    log = broker.log()
    # The names in the log are the provider's, not freed memory.
    assert 'the service "svc-a" of "prov" ended: its provider left' in log, log
    assert 'the service "svc-b" of "prov" ended: its provider left' in log, log
    assert "\ufffd" not in log, log
    assert 'left: malformed message: unsupported protocol version' in log
    # The broker still serves.
    assert broker.ward("ps").returncode == 0


# ------------------------------------------------------- item 13: names revealed

def test_provide_does_not_name_the_holder(broker, bhelpers, spawned):
    """service.provide=db while "hidden-payroll-db" provides db: the refusal
    says that the name is taken, not by whom (a name the asker may not look
    up)."""
    holder = spawned([broker_ward()] + broker.run_args(
        "hidden-payroll-db", ["service.provide=db"],
        [f"{bhelpers}/envtool", "serve", "db", "1"], bhelpers),
        env=broker.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert read_line(holder.stdout, 30).strip() == "ready"
    r = sandbox(broker, bhelpers, "rival", ["service.provide=db"],
                [f"x:{hexpkt('PROVIDE', 1, ('NAME', 'db'))}",
                 f"x:{hexpkt('LOOKUP', 2, ('NAME', 'db'))}"])
    (t, _, code, text), (t2, _, code2, text2) = answers(r.stdout)
    assert t == T["ERROR"] and code == EADDRINUSE, r
    assert text == 'the service "db" is already provided by another environment', r
    assert "hidden-payroll-db" not in r.stdout + r.stderr
    # and it may not look the name up either
    assert t2 == T["ERROR"] and code2 == EACCES and "hidden" not in text2, r
    holder.kill()
    holder.wait(timeout=30)

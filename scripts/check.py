#!/usr/bin/python3
"""Run every test of ward and print one summary line.

Suites, in order:
  unit        cmocka tests, normal build (build/)
  unit-asan   the same tests built with ASan+UBSan (build-asan/)
  mutate      scripts/mutate.py --check: every mutation still applies
  fuzz        every libFuzzer target: its regression inputs replayed, then
              fuzzed briefly (tests/fuzz/run.sh, FUZZ_TIME=10)
  pytest      integration tests and the security battery, driving the real
              ward binary as root and, for the suites tests/conftest.py names,
              as an ordinary user too (tests/integration, tests/security,
              tests/network, tests/rootless, tests/attest)
  broker-asan tests/broker again with the broker daemon built with ASan+UBSan
              (build-asan/src/ward as WARD_BROKER_DAEMON)

The last line is "N passed, M failed, K skipped"; the exit status is 0 only
when nothing failed and every suite ran.  Each suite's wall time is printed
as it ends ("time: NAME N s").

--results FILE writes one line per result, "SUITE<TAB>NAME<TAB>OUTCOME"
(a pytest test id and passed/failed/error/skipped; a cmocka binary and its
counts; a fuzz target and ok/failed), sorted, so that two runs can be
compared (scripts/fresh-check.sh).
"""
import argparse
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
totals = {"passed": 0, "failed": 0, "skipped": 0}
problems = []
results = []  # (suite, name, outcome)


def timed(name, fn, *a, **kw):
    t0 = time.monotonic()
    try:
        return fn(*a, **kw)
    finally:
        print(f"time: {name} {time.monotonic() - t0:.0f} s", flush=True)


def sh(cmd, **kw):
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, **kw)


def build(builddir, extra):
    if not os.path.exists(os.path.join(builddir, "build.ninja")):
        r = sh(["meson", "setup", builddir] + extra)
        if r.returncode:
            return False
    return sh(["ninja", "-C", builddir]).returncode == 0


CMOCKA = {
    "passed": re.compile(r"^\[  PASSED  \] (\d+) test"),
    "failed": re.compile(r"^\[  FAILED  \] (\d+) test"),
    "skipped": re.compile(r"^\[  SKIPPED \] (\d+) test"),
}


UNIT_DIRS = ["unit", "bundle", "broker"]


def unit_binaries(builddir):
    for sub in UNIT_DIRS:
        tdir = os.path.join(builddir, "tests", sub)
        if not os.path.isdir(tdir):
            continue
        for n in sorted(os.listdir(tdir)):
            path = os.path.join(tdir, n)
            if (n.startswith("test_") and os.path.isfile(path) and os.access(path, os.X_OK)
                    and not n.endswith((".p", ".o"))):
                yield n, path


def run_unit(builddir, label):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    for n, path in unit_binaries(builddir):
        r = subprocess.run([path], capture_output=True, text=True, env=env, timeout=600)
        out = r.stdout + r.stderr
        counts = {k: 0 for k in CMOCKA}
        for line in out.splitlines():
            for k, rx in CMOCKA.items():
                m = rx.match(line)
                if m:
                    counts[k] += int(m.group(1))
        if r.returncode != 0 and counts["failed"] == 0:
            counts["failed"] = 1  # crashed, sanitizer report, or no summary
        for k in counts:
            totals[k] += counts[k]
        status = "ok" if r.returncode == 0 else "FAILED"
        print(f"{label}: {n}: {counts['passed']} passed, {counts['failed']} failed, "
              f"{counts['skipped']} skipped [{status}]", flush=True)
        results.append((label, n, f"{counts['passed']} passed {counts['failed']} failed "
                                  f"{counts['skipped']} skipped {status}"))
        if r.returncode != 0:
            problems.append(f"{label}/{n}")
            sys.stdout.write(out[-6000:])


FUZZ_LINE = re.compile(r"^fuzz: (fuzz_\w+): (\d+ regression inputs replayed|.*inputs in).*no crash")


def run_fuzz():
    """Every libFuzzer target: its regression inputs replayed (each must
    pass), then a short run (make fuzz runs them longer).  A crash found
    here is saved under tests/fuzz/regressions/<target>/ by run.sh."""
    script = os.path.join("tests", "fuzz", "run.sh")
    if not os.path.exists(script):
        return
    env = dict(os.environ)
    env.setdefault("FUZZ_TIME", "10")
    r = subprocess.run(["sh", script], capture_output=True, text=True, env=env, timeout=1800)
    out = r.stdout + r.stderr
    for m in map(FUZZ_LINE.match, out.splitlines()):
        if m:
            totals["passed"] += 1
            results.append(("fuzz", m.group(1), "ok"))
            print(f"fuzz: {m.group(1)}: {m.group(2).replace('inputs in', 'inputs fuzzed')} "
                  "[ok]")
    if r.returncode != 0:
        totals["failed"] += 1
        problems.append("fuzz")
        results.append(("fuzz", "run.sh", f"exited {r.returncode}"))
        sys.stdout.write(out[-6000:])


def run_mutate_check():
    """The mutation table of scripts/mutate.py must still apply to the code
    (make mutate runs the mutations themselves; too long for make check)."""
    script = os.path.join("scripts", "mutate.py")
    if not os.path.exists(script):
        return
    r = subprocess.run(["/usr/bin/python3", script, "--check"], capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    results.append(("mutate", "--check", "ok" if r.returncode == 0 else "failed"))
    if r.returncode == 0:
        totals["passed"] += 1
    else:
        totals["failed"] += 1
        problems.append("mutate --check")


# Suites with their own conftest run in their own pytest session: each
# suite's helpers are imported as `conftest`, which must not collide.
PYTEST_SESSIONS = [
    ("sandbox", ["tests/integration", "tests/security", "tests/network", "tests/rootless",
                 "tests/attest"]),
    ("oci", ["tests/oci"]),
    ("broker", ["tests/broker"]),
]


def run_pytest(sessions=PYTEST_SESSIONS, extra_env=None):
    if os.geteuid() != 0:
        print("pytest: integration tests and the security battery need root; skipped")
        totals["skipped"] += 1
        problems.append("pytest (not root)")
        return
    env = dict(os.environ)
    env["WARD"] = os.path.realpath("build/src/ward")
    env["WARD_HELPERS"] = os.path.realpath("build/tests/helpers")
    env["WARD_BROKER_HELPERS"] = os.path.realpath("build/tests/broker")
    env.update(extra_env or {})
    for name, dirs in sessions:
        dirs = [d for d in dirs if os.path.isdir(d)]
        if not dirs:
            continue
        junit = os.path.join("build", f"pytest-{name}.xml")
        t0 = time.monotonic()
        r = sh(["/usr/bin/python3", "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider",
                f"--junitxml={junit}"] + dirs, env=env)
        print(f"time: pytest {name} {time.monotonic() - t0:.0f} s", flush=True)
        try:
            root = ET.parse(junit).getroot()
            suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
            for case in root.iter("testcase"):
                outcome = "passed"
                for tag in ("failure", "error", "skipped"):
                    if case.find(tag) is not None:
                        outcome = {"failure": "failed"}.get(tag, tag)
                        break
                results.append((name, f"{case.get('classname')}::{case.get('name')}", outcome))
            for s in suites:
                tests = int(s.get("tests", 0))
                fails = int(s.get("failures", 0)) + int(s.get("errors", 0))
                skips = int(s.get("skipped", 0))
                totals["passed"] += tests - fails - skips
                totals["failed"] += fails
                totals["skipped"] += skips
        except (OSError, ET.ParseError) as e:
            print(f"pytest {name}: no result file ({e})")
            totals["failed"] += 1
        if r.returncode == 5:
            print(f"pytest {name}: no tests collected")
        elif r.returncode == 1:
            problems.append(f"pytest {name}")
        elif r.returncode != 0:
            problems.append(f"pytest {name} exited {r.returncode}")
            totals["failed"] += 1


def run_format_check():
    """Kernel style, checked: every tracked C file as clang-format makes it."""
    if subprocess.run(["which", "clang-format"], capture_output=True).returncode != 0:
        print("format: clang-format is not installed (scripts/deps.sh installs it)")
        totals["failed"] += 1
        problems.append("format")
        return
    files = subprocess.run(["git", "ls-files", "*.c", "*.h"], capture_output=True,
                           text=True).stdout.split()
    if not files:
        return  # not a git checkout
    bad = [f for f in files
           if subprocess.run(["clang-format", "--dry-run", "-Werror", f],
                             capture_output=True).returncode != 0]
    if bad:
        print("format: not in kernel style (run `make format`): " + " ".join(bad))
        totals["failed"] += 1
        problems.append("format")
        results.append(("format", "clang-format", "failed"))
    else:
        results.append(("format", "clang-format", "ok"))
        totals["passed"] += 1
        print(f"format: {len(files)} files in kernel style [ok]")


def main():
    ap = argparse.ArgumentParser(description="Run every test of ward (make check).")
    ap.add_argument("--results", metavar="FILE",
                    help="write one line per result (suite, name, outcome) to FILE")
    args = ap.parse_args()
    t_start = time.monotonic()
    rc = run_all()
    print(f"time: make check {time.monotonic() - t_start:.0f} s", flush=True)
    if args.results:
        with open(args.results, "w") as f:
            for suite, name, outcome in sorted(results):
                f.write(f"{suite}\t{name}\t{outcome}\n")
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    return rc


def run_all():
    ok = timed("build", build, "build", ["--buildtype=debugoptimized"])
    if not ok:
        print("build failed")
        totals["failed"] += 1
        results.append(("build", "build", "failed"))
        return 1
    # Sanitizer build of the library and unit tests; helpers are static and
    # run inside sandboxes, so they are built without sanitizers (off here).
    ok_asan = timed("build-asan", build, "build-asan",
                    ["--buildtype=debug", "-Db_sanitize=address,undefined", "-Db_lundef=false",
                     "-Dhelpers=false"])
    run_format_check()
    timed("unit", run_unit, "build", "unit")
    if ok_asan:
        timed("unit-asan", run_unit, "build-asan", "unit-asan")
    else:
        totals["failed"] += 1
        problems.append("asan build")
        results.append(("build", "build-asan", "failed"))
    timed("mutate --check", run_mutate_check)
    timed("fuzz", run_fuzz)
    run_pytest()
    if ok_asan:
        # The broker's tests again, with the daemon itself built with
        # ASan+UBSan (tests/broker/brokerlib.py): a sanitizer report of the
        # broker fails the test that caused it.
        run_pytest([("broker-asan", ["tests/broker"])],
                   {"WARD_BROKER_DAEMON": os.path.realpath("build-asan/src/ward")})
    if problems:
        print("problems: " + ", ".join(problems))
    return 0 if totals["failed"] == 0 and not problems else 1


if __name__ == "__main__":
    sys.exit(main())

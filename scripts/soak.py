#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make soak: start and stop many sandboxes, kill some with SIGKILL while
they start, then check that ward left nothing behind and that the broker
still answers.  Not part of make check (it takes minutes).

  scripts/soak.py [--runs 2000] [--parallel 16] [--kills 50] [--ward PATH]

Half of the runs go one at a time, half 16 at a time.  The entitlements
rotate through the default sandbox, network.loopback, network.outbound (a
veth, NAT, nftables elements), --name with ipc.recv (a broker entry),
security.user, fs.write of a scratch directory (an idmapped mount) and
resource limits.  --kills of the runs (spread over both halves) get
SIGKILL at a random moment 0-40 ms after they were started, that is
somewhere in their start.

Afterwards (after one more ward run and `ward gc`, which collect what
killed supervisors leave, as documented in docs/spaces.md) nothing of these
runs may be left: no mount, no cgroup run-PID, no network namespace, no
veth wvPID, no nftables element naming one, no process in one of their
cgroups or holding a uid range, no broker entry, no state file; and the
broker still registers an environment and delivers a message to it.

Everything lives in a state directory of its own under /var/tmp (removed
at the end); the uid pool and the network state are host-wide, as always.
Prints the figures; exits 1 if a run failed unexpectedly or anything was
left.
"""
import argparse
import glob
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

KINDS = [
    ("default", []),
    ("loopback", ["-a", "network.loopback"]),
    ("outbound", ["-a", "network.outbound"]),
    ("name", ["--name", "{name}", "-a", "ipc.recv"]),
    ("security.user", ["-a", "security.user"]),
    ("fs.write", ["-a", "fs.write={scratch}"]),
    ("limits", ["-a", "process.limit=64", "-a", "memory.limit=128M", "-a", "files.limit=256"]),
]


class Soak:
    def __init__(self, args):
        self.ward = args.ward
        self.state = tempfile.mkdtemp(prefix="ward-soak-", dir="/var/tmp")
        os.chmod(self.state, 0o755)
        self.scratch = os.path.join(self.state, "scratch")
        os.mkdir(self.scratch)
        os.chmod(self.scratch, 0o777)
        self.env = dict(os.environ, WARD_STATE_DIR=self.state)
        self.lock = threading.Lock()
        self.pids = {}             # every ward run started: pid -> its start time
        self.results = []          # (phase, kind, killed, seconds, returncode, stderr)

    def argv(self, i, kind, killed):
        _, extra = KINDS[kind]
        extra = [x.format(name=f"soak-{i}", scratch=self.scratch) for x in extra]
        prog = ["/bin/sleep", "1"] if killed else ["/bin/true"]
        return [self.ward, "run", "-q", "--state-dir", self.state] + extra + ["--"] + prog

    def one(self, phase, i, kind, killed):
        t0 = time.monotonic()
        p = subprocess.Popen(self.argv(i, kind, killed), env=self.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        with self.lock:
            self.pids[p.pid] = starttime(p.pid)
        if killed:
            time.sleep(random.uniform(0, 0.040))
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            _, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        dt = time.monotonic() - t0
        with self.lock:
            self.results.append((phase, KINDS[kind][0], killed, dt, p.returncode, err))

    def phase(self, name, runs, parallel, kill_set, start):
        t0 = time.monotonic()
        jobs = list(range(start, start + runs))
        it = iter(jobs)

        def worker():
            for i in it:
                self.one(name, i, i % len(KINDS), i in kill_set)

        if parallel == 1:
            worker()
        else:
            ts = [threading.Thread(target=worker) for _ in range(parallel)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        return time.monotonic() - t0

    # ---- what is left ----

    def leftovers(self):
        found = {}
        # pids are reused (pid_max is 32768 here): a pid of ours that runs
        # again now belongs to someone else.
        ours = {p for p, t in self.pids.items() if starttime(p) in (None, t)}
        cg = set()
        for d in glob.glob("/sys/fs/cgroup/*/ward/run-*"):
            m = re.search(r"run-(\d+)$", d)
            if m and int(m.group(1)) in ours:
                cg.add(d)
        if cg:
            found["cgroups"] = sorted(cg)
        links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True,
                               text=True).stdout
        veths = sorted({n for n in re.findall(r"^\d+: (wv\d+)", links, re.M)
                        if int(n[2:]) in ours})
        if veths:
            found["veths"] = veths
        rules = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
        nft = sorted({n for n in re.findall(r"wv(\d+)", rules) if int(n) in ours})
        if nft:
            found["nft elements naming"] = [f"wv{n}" for n in nft]
        slots = []
        for f in glob.glob("/run/ward/net/*.lock"):
            try:
                with open(f) as fh:
                    first = fh.readline().split()
            except OSError:
                continue
            if first and first[0].startswith("wv") and first[0][2:].isdigit() and \
                    int(first[0][2:]) in ours:
                slots.append(f)
        if slots:
            found["network state files"] = slots
        mounts = []
        with open("/proc/self/mountinfo") as f:
            for line in f:
                if self.state in line:
                    mounts.append(line.split()[4])
        if mounts:
            found["mounts"] = mounts
        netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        named = [n for n in netns.split() if n.startswith("soak")]
        if named:
            found["netns"] = named
        procs = []
        for p in glob.glob("/proc/[0-9]*"):
            try:
                with open(p + "/cgroup") as f:
                    text = f.read()
            except OSError:
                continue
            for m in re.finditer(r"/ward/run-(\d+)", text):
                if int(m.group(1)) in ours:
                    procs.append(int(p[6:]))
                    break
        if procs:
            found["processes"] = procs
        # A uid range is held by its supervisor's flock: none of ours may hold one.
        held = []
        try:
            with open("/proc/locks") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) > 4 and parts[1] == "FLOCK" and int(parts[4]) in ours:
                        held.append(line.strip())
        except OSError:
            pass
        if held:
            found["uid ranges (flock)"] = held
        ps = subprocess.run([self.ward, "ps", "--state-dir", self.state], env=self.env,
                            capture_output=True, text=True).stdout
        entries = re.findall(r"\bsoak-\d+\b", ps)
        if entries:
            found["broker entries"] = entries
        keep = {"broker.sock", "broker.pid", "broker.lock", "broker.log", "broker.log.1",
                "scratch", "seccomp", "ids", "net"}
        files = []
        for dirpath, dirs, names in os.walk(self.state):
            rel = os.path.relpath(dirpath, self.state)
            if rel == "." or rel.split(os.sep)[0] not in ("seccomp", "scratch"):
                for n in names + dirs:
                    if rel == "." and n in keep:
                        continue
                    files.append(os.path.join(rel, n))
        if files:
            found["state files"] = sorted(files)
        return found

    def broker_answers(self):
        # A registered receiver that reads: ward-msg from the build, if there.
        wm = os.path.join(ROOT, "build", "client", "ward-msg")
        if not os.access(wm, os.X_OK):
            return False, f"{wm} is missing (make build)"
        # ward-msg lies under the build tree: granted as an executable directory.
        d = os.path.dirname(wm)
        rx = subprocess.Popen([self.ward, "run", "-q", "--state-dir", self.state, "--name",
                               "soak-check", "-a", "ipc.recv", "-a", f"fs.exec={d}", "--", wm,
                               "recv", "--from"], env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ps = subprocess.run([self.ward, "ps", "--state-dir", self.state], env=self.env,
                                capture_output=True, text=True).stdout
            if "soak-check" in ps:
                break
            time.sleep(0.05)
        s = subprocess.run([self.ward, "msg", "send", "--state-dir", self.state, "soak-check",
                            "still here"], env=self.env, capture_output=True, text=True)
        try:
            out, err = rx.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            rx.kill()
            out, err = rx.communicate()
        ok = s.returncode == 0 and "still here" in out
        return ok, f"ward msg send -> {s.returncode}; the receiver printed {out.strip()!r}"

    def close(self):
        subprocess.run([self.ward, "broker", "--stop", "--state-dir", self.state], env=self.env,
                       capture_output=True)
        shutil.rmtree(self.state, ignore_errors=True)


def starttime(pid):
    """The start time of process pid (clock ticks since boot), None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rfind(")") + 2:].split()[19])


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * q))] * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--parallel", type=int, default=16)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--ward", default=os.environ.get("WARD", os.path.join(ROOT, "build/src/ward")))
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("soak: needs root (ward run does here)", file=sys.stderr)
        return 2
    if not os.access(args.ward, os.X_OK):
        print(f"soak: {args.ward} is missing: build it first (make build)", file=sys.stderr)
        return 2
    if args.runs < 2 or args.kills > args.runs:
        print("soak: --runs must be at least 2 and --kills at most --runs", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else int(time.time())
    random.seed(seed)
    s = Soak(args)
    half = args.runs // 2
    kill_set = set(random.sample(range(args.runs), args.kills))
    print(f"soak: {args.runs} runs ({half} one at a time, {args.runs - half} {args.parallel} at a "
          f"time), {args.kills} killed with SIGKILL during their start; seed {seed}; "
          f"state {s.state}", flush=True)
    load0 = os.getloadavg()[0]
    try:
        t_seq = s.phase("sequential", half, 1, kill_set, 0)
        print(f"soak: sequential done in {t_seq:.1f} s", flush=True)
        t_par = s.phase("parallel", args.runs - half, args.parallel, kill_set, half)
        print(f"soak: parallel done in {t_par:.1f} s", flush=True)
        # What killed supervisors left is collected by the next start and by
        # ward gc (docs/spaces.md).
        subprocess.run([args.ward, "run", "-q", "--state-dir", s.state, "--", "/bin/true"],
                       env=s.env)
        gc = subprocess.run([args.ward, "gc", "--state-dir", s.state], env=s.env,
                            capture_output=True, text=True)
        time.sleep(0.5)
        left = s.leftovers()
        ok_broker, broker_note = s.broker_answers()
        left_after = s.leftovers() if left else left
    except KeyboardInterrupt:
        s.close()
        raise
    bad = [r for r in s.results if not r[2] and r[4] != 0]
    killed = [r for r in s.results if r[2]]
    killed_odd = [r for r in killed if r[4] not in (0, -signal.SIGKILL)]
    print()
    print(f"{'phase':<11} {'runs':>5} {'wall s':>7} {'starts/s':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7} {'failed':>6}")
    for ph, wall in (("sequential", t_seq), ("parallel", t_par)):
        rs = [r for r in s.results if r[0] == ph and not r[2]]
        n = len([r for r in s.results if r[0] == ph])
        d = [r[3] for r in rs]
        print(f"{ph:<11} {n:>5} {wall:7.1f} {n / wall:8.1f} {pct(d, .5):7.1f} {pct(d, .95):7.1f} "
              f"{pct(d, .99):7.1f} {len([r for r in rs if r[4] != 0]):>6}")
    print()
    print(f"{'entitlements':<14} {'runs':>5} {'seq p50 ms':>10} {'par p50 ms':>10}")
    for name, _ in KINDS:
        seq = [r[3] for r in s.results if r[1] == name and not r[2] and r[0] == "sequential"]
        par = [r[3] for r in s.results if r[1] == name and not r[2] and r[0] == "parallel"]
        print(f"{name:<14} {len(seq) + len(par):>5} {statistics.median(seq) * 1e3 if seq else 0:10.1f} "
              f"{statistics.median(par) * 1e3 if par else 0:10.1f}")
    print()
    print(f"killed with SIGKILL: {len(killed)} (exit: "
          f"{sum(1 for r in killed if r[4] == -signal.SIGKILL)} by the signal, "
          f"{sum(1 for r in killed if r[4] == 0)} had already finished, "
          f"{len(killed_odd)} other)")
    print(f"ward gc: exit {gc.returncode} {gc.stdout.strip()[:200]}")
    print(f"load average: {load0:.1f} before, {os.getloadavg()[0]:.1f} after")
    status = 0
    if bad:
        status = 1
        print(f"FAILED runs: {len(bad)}")
        for r in bad[:10]:
            print(f"  {r[0]} {r[1]}: exit {r[4]}: {r[5].strip()[:300]}")
    if killed_odd:
        status = 1
        for r in killed_odd[:5]:
            print(f"  killed run {r[1]}: exit {r[4]}: {r[5].strip()[:300]}")
    if left:
        status = 1
        print(f"LEFT BEHIND: {left}")
        if not left_after:
            print("  (gone a moment later: a cleanup still running at the first look)")
    else:
        print("left behind: nothing (mounts, cgroups, netns, veths, nft elements, processes, "
              "uid ranges, broker entries, state files)")
    print(f"broker: {'answers' if ok_broker else 'DOES NOT ANSWER'}: {broker_note}")
    if not ok_broker:
        status = 1
    s.close()
    print("soak: " + ("OK" if status == 0 else "FAILED"))
    return status


if __name__ == "__main__":
    sys.exit(main())

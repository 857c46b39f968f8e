#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The Python half of bench/bench.sh (standard library only).

  benchlib.py oci-config CONFIG ROOTFS [--seccomp PROFILE] -- ARG...
      Edit a `crun spec` config.json in place: root.path ROOTFS, args ARG...,
      terminal false, and, with --seccomp, a Docker-like "seccomp" section
      made from bench/docker-profile.txt.
  benchlib.py rss -- CMD...
      Start CMD (whose payload must be a `sleep`), wait until the payload
      runs, read the peak RSS (VmHWM, kB) of every process of the tree, and
      print "SUM NAME KB + NAME KB ... (payload sleep KB)", where SUM adds
      up the processes other than the payload.
  benchlib.py report DIR
      Print the result table from the files bench.sh left in DIR (and keep
      its figures in DIR/figures.json).
  benchlib.py readme DIR
      The README's performance table (Markdown) from figures.json and the
      outputs of bench/oci.sh, broker.sh and net.sh saved in DIR.
"""
import glob
import json
import re
import os
import statistics
import subprocess
import sys
import time

ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]


def parse_profile(path):
    """docker-profile.txt -> list of (action, errno, names, conds)."""
    rules = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            tok = line.split()
            if not tok or tok[0].startswith("#"):
                continue
            if tok[0] == "allow":
                action, errno = "SCMP_ACT_ALLOW", None
            elif tok[0].startswith("errno="):
                action, errno = "SCMP_ACT_ERRNO", int(tok[0][6:])
            else:
                sys.exit(f"{path}:{lineno}: cannot parse")
            names, conds = [], []
            for t in tok[1:]:
                if len(t) > 2 and t[0] == "a" and t[1] in "012345" and t[2] in "=!&":
                    idx = int(t[1])
                    rest = t[2:]
                    if rest.startswith("=="):
                        conds.append({"index": idx, "value": int(rest[2:], 0), "op": "SCMP_CMP_EQ"})
                    elif rest.startswith("!="):
                        conds.append({"index": idx, "value": int(rest[2:], 0), "op": "SCMP_CMP_NE"})
                    else:
                        mask, val = rest[1:].split("==")
                        conds.append({"index": idx, "value": int(mask, 0), "valueTwo": int(val, 0),
                                      "op": "SCMP_CMP_MASKED_EQ"})
                else:
                    names.append(t)
            rules.append((action, errno, names, conds))
    return rules


def oci_seccomp(profile):
    syscalls = []
    for action, errno, names, conds in parse_profile(profile):
        r = {"names": names, "action": action}
        if errno is not None:
            r["errnoRet"] = errno
        if conds:
            r["args"] = conds
        syscalls.append(r)
    return {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
            "architectures": ARCHES, "syscalls": syscalls}


def cmd_oci_config(argv):
    config, rootfs = argv[0], argv[1]
    sep = argv.index("--")
    opts, args = argv[2:sep], argv[sep + 1:]
    with open(config) as f:
        c = json.load(f)
    c["root"]["path"] = rootfs
    c["process"]["args"] = args
    c["process"]["terminal"] = False
    c["linux"].pop("seccomp", None)
    if opts[:1] == ["--seccomp"]:
        c["linux"]["seccomp"] = oci_seccomp(opts[1])
    with open(config, "w") as f:
        json.dump(c, f, indent=1)


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def status(pid):
    d = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                d[k] = v.strip()
    except OSError:
        pass
    return d


def cmd_rss(argv):
    if argv and argv[0] == "--":
        argv = argv[1:]
    p = subprocess.Popen(argv)
    rows = None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.02)
        tree, todo = [], [p.pid]
        while todo:
            pid = todo.pop(0)
            st = status(pid)
            if st:
                tree.append((pid, st))
            todo += children(pid)
        if any(st.get("Name") == "sleep" for _, st in tree):
            time.sleep(0.05)  # let the payload settle; VmHWM keeps the setup peak
            rows = [(pid, status(pid) or st) for pid, st in tree]
            break
    rc = p.wait()
    if rows is None:
        print(f"rss: the payload never ran (exit status {rc})", file=sys.stderr)
        return 1
    managers, payload = [], []
    for pid, st in rows:
        name = st.get("Name", "?")
        kb = int(st.get("VmHWM", "0 kB").split()[0])
        (payload if name == "sleep" else managers).append(f"{name} {kb}")
    total = sum(int(m.split()[1]) for m in managers)
    print(f"{total} {' + '.join(managers)} (payload {', '.join(payload)})")
    return rc


# ---- report ----

def load_hyperfine(paths):
    """Merge the runs of every command over several hyperfine JSON files."""
    times = {}
    for path in paths:
        with open(path) as f:
            for r in json.load(f)["results"]:
                times.setdefault(r["command"], []).extend(r["times"])
    return {k: {"median": statistics.median(v), "times": v} for k, v in times.items()}


def fmt_ms(x):
    return "-" if x is None else f"{x * 1000:8.2f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def verdict(r, target):
    if r is None:
        return "n/a"
    return "PASS" if r <= target else "MISS"


def cmd_report(argv):
    d = argv[0]
    res = load_hyperfine(sorted(glob.glob(os.path.join(d, "main-*.json")) +
                             glob.glob(os.path.join(d, "crun-*.json"))))
    nruns = min((len(r["times"]) for r in res.values()), default=0)

    def med(k):
        return res[k]["median"] if k in res else None

    def iqr(k):
        if k not in res:
            return None
        t = sorted(res[k]["times"])
        q = statistics.quantiles(t, n=4)
        return q[2] - q[0]

    wrap = None
    if med("crun: helper idexec /bin/true") is not None and med("crun: /bin/true") is not None:
        wrap = max(0.0, med("crun: helper idexec /bin/true") - med("crun: /bin/true"))

    def net(k):
        m = med(k)
        return None if m is None or wrap is None else m - wrap

    print(f"1. Start-to-exit latency of /bin/true (hyperfine -N, {nruns} runs of each)")
    print(f"   {'':44s} {'median ms':>9s} {'IQR ms':>7s}")
    rows = [
        ("plain /bin/true", "/bin/true"),
        ("unshare, all 8 namespaces", "unshare"),
        ("bwrap, full sandbox", "bwrap"),
        ("bwrap, full sandbox + Docker-like seccomp", "bwrap+seccomp"),
        ("crun run (busybox bundle)", "crun"),
        ("crun run + Docker-like seccomp", "crun+seccomp"),
        ("ward run (default sandbox)", "ward"),
        ("ward run --allow security.user", "ward security.user"),
        ("ward run --quiet-denials (no seccomp listener)", "ward quiet-denials"),
    ]
    for label, k in rows:
        if k not in res:
            print(f"   {label:44s} {'skipped':>9s}")
        elif k in ("crun", "crun+seccomp"):
            print(f"   {label:44s} {fmt_ms(net(k)):>9s} {fmt_ms(iqr(k)):>7s}"
                  f"   (measured {fmt_ms(med(k)).strip()} with the id wrapper)")
        else:
            print(f"   {label:44s} {fmt_ms(med(k)):>9s} {fmt_ms(iqr(k)):>7s}")
    if wrap is not None:
        print(f"   {'(crun id wrapper, subtracted above)':44s} {fmt_ms(wrap):>9s} {'':7s}"
              f"   (helper idexec /bin/true"
              f" {fmt_ms(med('crun: helper idexec /bin/true')).strip()}"
              f" - /bin/true {fmt_ms(med('crun: /bin/true')).strip()}, same run)")
    print("   (wall time: median and interquartile range of the runs)")
    print()
    w = med("ward")
    wu = med("ward security.user")
    figures = {k: med(k) for k in res}
    figures["crun net"] = net("crun")
    figures["crun+seccomp net"] = net("crun+seccomp")
    r1 = ratio(w, med("bwrap+seccomp"))
    r2 = ratio(w, net("crun+seccomp"))
    print("   ratios (medians)                                    ratio  target")

    def rline(label, r, target=None):
        rs = "   n/a" if r is None else f"{r:6.2f}x"
        tg = "" if target is None else f"  <= {target:.2f}x  {verdict(r, target)}"
        print(f"   {label:50s} {rs}{tg}")

    rline("ward / bwrap+seccomp", r1, 1.0)
    rline("ward / crun+seccomp", r2, 0.35)
    rline("ward security.user / bwrap+seccomp", ratio(wu, med("bwrap+seccomp")))
    rline("ward security.user / crun+seccomp", ratio(wu, net("crun+seccomp")))
    rline("ward / ward --quiet-denials (denial supervisor)", ratio(w, med("ward quiet-denials")))
    rline("ward / bwrap (no seccomp)", ratio(w, med("bwrap")))
    rline("ward / unshare (all namespaces)", ratio(w, med("unshare")))
    print()

    # 2. syscalls
    samples = {}
    p = os.path.join(d, "syscalls.txt")
    if os.path.exists(p):
        with open(p) as f:
            for line in f:
                cfg, call, ns = line.split()
                samples.setdefault((cfg, call), []).append(float(ns))
    sc = {k: statistics.median(v) for k, v in samples.items()}
    lo = {k: min(v) for k, v in samples.items()}
    n, asked, per = "?", "?", "?"
    p = os.path.join(d, "calls.txt")
    if os.path.exists(p):
        with open(p) as f:
            n, asked, per = f.read().split()
    reps = max((len(v) for v in samples.values()), default=0)
    print(f"2. Per-call syscall cost (ns/call over {reps} launches, one timed loop of {n} calls"
          " each)")
    if n != asked:
        print(f"   (one call costs about {per} ns on this machine: loops cut from {asked} to {n}"
              f" calls to keep the run short)")
    cfgs = [("plain", "unfiltered"), ("ward", "ward run (default filter)"),
            ("ward-user", "ward run --allow security.user"),
            ("bwrap-seccomp", "bwrap + Docker filter (reference)")]
    print(f"   {'':34s} {'getppid':^27s}   {'getrandom':^27s}".rstrip())
    print((f"   {'':34s}" + f" {'median':>7s} {'ratio':>5s} {'min':>7s} {'ratio':>5s}  " * 2).rstrip())
    for cfg, label in cfgs:
        if (cfg, "getppid") not in sc:
            print(f"   {label:34s} {'skipped':>7s}")
            continue
        line = f"   {label:34s}"
        for call in ("getppid", "getrandom"):
            for tab in (sc, lo):
                v = tab[(cfg, call)]
                r = ratio(v, tab.get(("plain", call)))
                line += f" {v:7.1f} {'' if r is None else f'{r:4.2f}x':>5s}"
            line += "  "
        print(line.rstrip())
    print("   (ratio: to unfiltered, of the medians and of the minimums; the minimum is the"
          " launch least disturbed by others)")
    r = ratio(sc.get(("ward", "getppid")), sc.get(("plain", "getppid")))
    if r is not None:
        rline("getppid: ward / unfiltered (medians)", r, 1.15)
    print()
    for cfg, _ in cfgs:
        figures[f"getppid {cfg}"] = sc.get((cfg, "getppid"))

    # 3. memory
    print("3. Peak RSS (kB)")
    p = os.path.join(d, "rss.txt")
    if os.path.exists(p):
        print(f"   {'':34s} {'time -v max RSS':>15s}   per process VmHWM during a run (payload: sleep)")
        with open(p) as f:
            for line in f:
                print("   " + line.rstrip("\n"))
                m = re.match(r"(.*?)\s{2,}(\d+)\s", line)
                if m:
                    figures[f"rss {m.group(1).strip()}"] = int(m.group(2))
    with open(os.path.join(d, "figures.json"), "w") as f:
        json.dump(figures, f, indent=1)
    return 0


def _grab(text, rx, conv=float):
    m = re.search(rx, text, re.M)
    return conv(m.group(1)) if m else None


def cmd_readme(argv):
    """The README's performance table from one run: bench.sh's figures.json
    and the outputs of bench/oci.sh, broker.sh and net.sh saved beside it."""
    d = argv[0]
    try:
        with open(os.path.join(d, "figures.json")) as f:
            fig = json.load(f)
    except OSError:
        fig = {}

    def out(name):
        try:
            with open(os.path.join(d, f"{name}.out"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def ms(v):
        return "—" if v is None else f"{v * 1e3:.1f} ms"

    def x(a, b):
        return "" if a is None or b is None or b == 0 else f" ({a / b:.2f}×)"

    rows = []
    w = fig.get("ward")
    rows.append(("start to exit of `/bin/true`: plain", ms(fig.get("/bin/true")), ""))
    rows.append(("unshare, all 8 namespaces (the floor)", ms(fig.get("unshare")), ""))
    rows.append(("bwrap, full sandbox / + Docker-like seccomp",
                 f"{ms(fig.get('bwrap'))} / {ms(fig.get('bwrap+seccomp'))}", ""))
    rows.append(("crun run / + Docker-like seccomp",
                 f"{ms(fig.get('crun net'))} / {ms(fig.get('crun+seccomp net'))}", ""))
    rows.append(("**ward run, default sandbox (every layer)**", f"**{ms(w)}**",
                 f"{x(w, fig.get('unshare'))[2:-1]} unshare, {x(w, fig.get('bwrap+seccomp'))[2:-1]}"
                 f" bwrap+seccomp, {x(w, fig.get('crun+seccomp net'))[2:-1]} crun+seccomp"
                 if w else ""))
    rows.append(("ward run --allow security.user", ms(fig.get("ward security.user")), ""))
    rows.append(("ward run --quiet-denials (no denial listener)",
                 ms(fig.get("ward quiet-denials")), ""))
    g0, gw = fig.get("getppid plain"), fig.get("getppid ward")
    if g0 and gw:
        rows.append(("an allowed getppid under the filter", f"{gw:.0f} ns",
                     f"{gw / g0:.2f}× unfiltered ({g0:.0f} ns)"))
    rw, rb, rc = (fig.get("rss ward run"), fig.get("rss bwrap + seccomp"),
                  fig.get("rss crun run + seccomp"))
    if rw:
        rows.append(("peak RSS of the manager", f"{rw / 1024:.1f} MB",
                     f"bwrap {rb / 1024:.1f} MB, crun {rc / 1024:.1f} MB" if rb and rc else ""))
    net = out("net")
    none = _grab(net, r"no interface \(network.none\)\s+([\d.]+) ms")
    lis = _grab(net, r"network.listen=80\)\s+([\d.]+) ms")
    outb = _grab(net, r"network.outbound\)\s+([\d.]+) ms")
    if none:
        rows.append(("start with an interface: network.listen / network.outbound",
                     f"{lis} ms / {outb} ms", f"{x(lis, none)[2:-1]} / {x(outb, none)[2:-1]}"
                     f" a start without one ({none} ms, same run)"))
    lo = _grab(net, r"host's loopback\s+([\d.]+)")
    sb = _grab(net, r"two sandboxes \(connect -> listen\)\s+([\d.]+)")
    if lo and sb:
        rows.append(("TCP between two sandboxes", f"{sb:.0f} MiB/s",
                     f"{sb / lo:.2f}× two processes on the host's loopback ({lo:.0f} MiB/s)"))
    br = out("broker")
    pp = _grab(br, r"^plain\s+(\d+)")
    mb = _grab(br, r"^mailbox\s+(\d+)")
    sv = _grab(br, r"^service\s+(\d+)")
    if pp and mb:
        rows.append(("mailbox messages (64 B, one sender, one receiver)", f"{mb:,.0f}/s",
                     f"{mb / pp:.2f}× a plain socket pair ({pp:,.0f}/s)"))
    p50p = _grab(br, r"^plain\s+\d+\s+[\d.]+\s+([\d.]+)")
    p50m = _grab(br, r"^mailbox\s+\d+\s+[\d.]+\s+([\d.]+)")
    if p50p and p50m:
        rows.append(("mailbox round trip, p50", f"{p50m:.0f} µs",
                     f"plain socket pair {p50p:.0f} µs"))
    mg = _grab(br, r"^mailbox, gather\s+(\d+)")
    if pp and mg:
        rows.append(("mailbox messages, the sender gathering 64 a record", f"{mg:,.0f}/s",
                     f"{mg / pp:.2f}× a plain socket pair"))
    for k, envs in (("1", 2), ("4", 8), ("32", 64)):
        m = re.search(rf"^{k}\s+{envs}\s+(\d+)\s+(\d+)\s+([\d.]+)x\s+(\d+)\s+([\d.]+)x",
                      br, re.M)
        if m:
            rows.append((f"mailbox messages, {envs} environments at once "
                         "(a send per record / gathering 64)",
                         f"{int(m.group(2)):,} / {int(m.group(4)):,} per s",
                         f"{float(m.group(3)):.2f}× / {float(m.group(5)):.2f}× {k} plain "
                         f"pair(s) at once ({int(m.group(1)):,}/s)"))
    if pp and sv:
        rows.append(("service.connect socket", f"{sv:,.0f}/s", f"{sv / pp:.2f}× a plain socket pair"))
    oci = out("oci")
    pw = _grab(oci, r"podman \+ ward\s*\n\s*Time \(mean[^:]*:\s*([\d.]+) ms")
    pr = _grab(oci, r"podman \+ runc\s*\n\s*Time \(mean[^:]*:\s*([\d.]+) ms")
    if pw:
        rows.append(("`podman run --rm` of `/bin/true` (OCI runtime)", f"{pw:.0f} ms",
                     f"runc {pr:.0f} ms" if pr else ""))
    ow = _grab(oci, r"median ward\s+([\d.]+) ms")
    oc = _grab(oci, r"^\s*ward / crun \(wrapper subtracted[^)]*\) = ([\d.]+)")
    osc = _grab(oci, r"^\s*ward \+ seccomp / crun \+ seccomp \(wrapper subtracted[^)]*\) = ([\d.]+)")
    orc = _grab(oci, r"^\s*ward \+ seccomp / runc \+ seccomp = ([\d.]+)")
    if ow:
        cmp = [f"{oc:.2f}× crun" if oc else "",
               f"with the same seccomp profile {osc:.2f}× crun" if osc else "",
               f"{orc:.2f}× runc" if orc else ""]
        rows.append(("OCI `run` of a busybox bundle", f"{ow:.1f} ms",
                     ", ".join(c for c in cmp if c)))
    cw = _grab(oci, r"median ctr \+ ward\s+([\d.]+) ms")
    cr = _grab(oci, r"median ctr \+ runc\s+([\d.]+) ms")
    if cw:
        rows.append(("`ctr run --rm` (containerd, runc v2 shim)", f"{cw:.0f} ms",
                     f"runc {cr:.0f} ms" if cr else ""))
    print("| figure (same run) | ward | compared with |")
    print("| --- | --- | --- |")
    for a, b, c in rows:
        print(f"| {a} | {b} | {c} |")
    return 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "oci-config":
        return cmd_oci_config(argv)
    if cmd == "rss":
        return cmd_rss(argv)
    if cmd == "report":
        return cmd_report(argv)
    if cmd == "readme":
        return cmd_readme(argv)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main() or 0)

#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/oci.sh's containerd part: `ctr run --rm IMAGE ID /bin/true` through a
private containerd 1.6 and its runc v2 shim, with ward and with runc as the
shim's binary (hyperfine -N, medians).  The containerd is the tests' own
(tests/oci/ctrdenv.py): its own root, state, sockets and config under a
temporary directory, stopped and removed at the end.
Usage: oci_ctr.py WARD [RUNS]"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "oci"))
from ctrdenv import IMAGE, Containerd  # noqa: E402


def main():
    ward = os.path.realpath(sys.argv[1])
    runs = sys.argv[2] if len(sys.argv) > 2 else "20"
    runc = shutil.which("runc")
    c = Containerd(prefix="wardbench-ctrd-")
    out = tempfile.mkdtemp(prefix="wardbench-ctr-")
    try:
        args = []
        for name, binary in (("ctr + ward", ward), ("ctr + runc", runc)):
            if binary is None:
                continue
            root = os.path.join(c.dir, "root-" + os.path.basename(binary))
            cmd = (f"ctr -a {c.sock} -n default run --rm --runc-binary {binary} "
                   f"--runc-root {root} {IMAGE} b-{os.path.basename(binary)} /bin/true")
            if subprocess.run(cmd.split(), capture_output=True, timeout=60).returncode != 0:
                print(f"  ({name}: does not run here; not measured)")
                continue
            args += ["-n", name, cmd]
        js = os.path.join(out, "ctr.json")
        # -i: a failed run is counted and said below, not a lost table.
        subprocess.run(["hyperfine", "-N", "-i", "-w", "2", "-r", runs, "--export-json", js] +
                       args, check=False, stdout=subprocess.DEVNULL)
        res = json.load(open(js))["results"]
        r = {x["command"]: x["median"] * 1000 for x in res}
        for x in res:
            bad = sum(1 for e in x.get("exit_codes", []) if e)
            note = f"   ({bad} of {len(x['exit_codes'])} runs failed)" if bad else ""
            # (no CPU time: the shim and the runtime are not ctr's children)
            print(f"  median {x['command']:34s} {x['median'] * 1000:7.2f} ms{note}")
        if "ctr + ward" in r and "ctr + runc" in r:
            print(f"  ctr + ward / ctr + runc = {r['ctr + ward'] / r['ctr + runc']:.2f}")
    finally:
        c.stop()
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()

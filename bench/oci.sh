#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make bench`, OCI part: start-to-exit of /bin/true in a busybox bundle.
#   ward run    vs  crun run  (and runc run)       same bundle, same config,
#               without and with the same Docker-like seccomp profile
#   ctr run --rm with ward and with runc           a private containerd 1.6
#               (bench/oci_ctr.py), the runc v2 shim's whole path
#   podman run  with --runtime ward, runc (and crun)
# crun 1.8.1 refuses this machine's hybrid cgroup layout, so it runs in a
# private mount namespace in which a small tmpfs hides
# /sys/fs/cgroup/unified (crun then sees v1, like ward and runc; nothing
# of the host changes); the cost of that wrapper (unshare + mount) is
# measured on its own and subtracted.
# Usage: bench/oci.sh [WARD]   (default build/src/ward).  Needs root and
# busybox-static; hyperfine when present (otherwise a plain loop).
set -eu
cd "$(dirname "$0")/.."
WARD=$(realpath "${1:-${WARD:-build/src/ward}}")
RUNS=${RUNS:-40}
tmp=$(mktemp -d /tmp/ward-bench-oci.XXXXXX)
chmod 755 "$tmp"
cleanup() {
	for r in "$tmp/ward-root" "$tmp/runc-root" "$tmp/crun-root"; do
		[ -d "$r" ] || continue
		for id in $(ls "$r" 2>/dev/null); do
			"$WARD" --root "$r" delete --force "$id" >/dev/null 2>&1 || true
			runc --root "$r" delete --force "$id" >/dev/null 2>&1 || true
			[ -x "$tmp/crun-v1" ] && "$tmp/crun-v1" --root "$r" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	if [ -n "${PODMAN_READY:-}" ]; then
		podman rm -af -t 0 >/dev/null 2>&1 || true
		podman system reset --force >/dev/null 2>&1 || true
		umount -R "$tmp/graph" >/dev/null 2>&1 || true
	fi
	for d in /sys/fs/cgroup/*/wardbench-oci-$$; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The bundle: busybox-static, /bin/true, no terminal, no seccomp.
b="$tmp/bundle"
mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/sys" "$b/rootfs/dev" "$b/rootfs/etc" "$b/rootfs/tmp"
cp /bin/busybox "$b/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$b/rootfs/bin/$a"
done
(cd "$b" && "$WARD" spec)
/usr/bin/python3 - "$b/config.json" "/wardbench-oci-$$" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
# one cgroup path for every runtime (each run makes and removes it)
c["linux"]["cgroupsPath"] = sys.argv[2]
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
# crun on cgroup2 would load a device eBPF program (and raise RLIMIT_MEMLOCK,
# which root may not do here): compare without device rules for everyone.
c["linux"].pop("resources", None)
json.dump(c, open(p, "w"), indent=1)
PY
# The same bundle with the Docker-like profile (bench/docker-profile.txt,
# as bench.sh gives crun) as linux.seccomp.
bs="$tmp/bundle-seccomp"
mkdir "$bs"
/usr/bin/python3 - "$b/config.json" "$bs/config.json" "$b/rootfs" <<'PY'
import json, sys
sys.path.insert(0, "bench")
import benchlib
c = json.load(open(sys.argv[1]))
c["root"]["path"] = sys.argv[3]  # the same tree (runc refuses a symlinked rootfs)
c["linux"]["seccomp"] = benchlib.oci_seccomp("bench/docker-profile.txt")
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY

cat > "$tmp/crun-v1" <<'SH'
#!/bin/sh
exec unshare -m --propagation private sh -c 'mount -t tmpfs -o size=1m,mode=755 wardbench-cgroup2 /sys/fs/cgroup/unified && exec crun "$@"' crun "$@"
SH
chmod +x "$tmp/crun-v1"

ward_cmd="$WARD --root $tmp/ward-root run --bundle"
cmds="ward:$ward_cmd $b w|ward + seccomp:$ward_cmd $bs ws"
if command -v crun >/dev/null 2>&1; then
	crun_cmd="$tmp/crun-v1 --cgroup-manager=cgroupfs --root $tmp/crun-root run --bundle"
	cmds="$cmds|crun:$crun_cmd $b c|crun + seccomp:$crun_cmd $bs cs"
	cmds="$cmds|wrapper alone:unshare -m --propagation private sh -c 'mount -t tmpfs -o size=1m,mode=755 wardbench-cgroup2 /sys/fs/cgroup/unified'"
fi
command -v runc >/dev/null 2>&1 && cmds="$cmds|runc + seccomp:runc --root $tmp/runc-root run --bundle $bs r"

echo "== OCI run of /bin/true ($RUNS runs each) =="
if command -v hyperfine >/dev/null 2>&1; then
	set --
	IFS='|'
	for c in $cmds; do
		set -- "$@" -n "${c%%:*}" "${c#*:}"
	done
	unset IFS
	hyperfine -N -w 3 -r "$RUNS" --export-json "$tmp/run.json" "$@" 2>&1 | grep -v '^ *$' || true
	/usr/bin/python3 - "$tmp/run.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
r = {x["command"]: x["median"] * 1000 for x in res}
# CPU time (user + system, means): what each runtime itself costs, less
# disturbed than wall time when other work shares the two vCPUs.
cpu = {x["command"]: (x["user"] + x["system"]) * 1000 for x in res}
for k, v in r.items():
    print(f"  median {k:34s} {v:7.2f} ms   cpu {cpu[k]:6.2f} ms")
wc = cpu.get("wrapper alone", 0)
if "ward + seccomp" in cpu and "crun + seccomp" in cpu:
    print(f"  cpu: ward + seccomp / crun + seccomp (wrapper subtracted) = "
          f"{cpu['ward + seccomp'] / (cpu['crun + seccomp'] - wc):.2f}")
w = r.get("wrapper alone", 0)
for suffix in ("", " + seccomp"):
    if "ward" + suffix in r and "crun" + suffix in r:
        crun = r["crun" + suffix] - w
        target = "  (target <= 0.4)" if suffix else ""
        print(f"  ward{suffix} / crun{suffix} (wrapper subtracted: {crun:.2f} ms)"
              f" = {r['ward' + suffix] / crun:.2f}{target}")
if "ward + seccomp" in r and "runc + seccomp" in r:
    print(f"  ward + seccomp / runc + seccomp = {r['ward + seccomp'] / r['runc + seccomp']:.2f}")
PY
else
	IFS='|'
	for c in $cmds; do
		name=${c%%:*}; cmd=${c#*:}
		start=$(date +%s%N); i=0
		while [ $i -lt "$RUNS" ]; do sh -c "$cmd" >/dev/null 2>&1; i=$((i + 1)); done
		end=$(date +%s%N)
		echo "  mean $name: $(( (end - start) / RUNS / 1000 )) us"
	done
	unset IFS
fi

# ctr run --rm through a private containerd and the runc v2 shim.
if command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1 &&
	command -v hyperfine >/dev/null 2>&1; then
	echo "== ctr run --rm IMAGE /bin/true (private containerd 1.6, runc v2 shim) =="
	/usr/bin/python3 bench/oci_ctr.py "$WARD" "${CTR_RUNS:-20}" || echo "  (ctr rows failed)"
fi

# podman run with each runtime (own containers.conf/storage.conf: nothing in /etc changes).
if command -v podman >/dev/null 2>&1; then
	cat > "$tmp/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$tmp/events.log"
CONF
	cat > "$tmp/storage.conf" <<CONF
[storage]
driver = "overlay"
runroot = "$tmp/runroot"
graphroot = "$tmp/graph"
CONF
	export CONTAINERS_CONF="$tmp/containers.conf" CONTAINERS_STORAGE_CONF="$tmp/storage.conf"
	tar -C "$b/rootfs" -cf "$tmp/rootfs.tar" .
	podman import "$tmp/rootfs.tar" localhost/ward-bench >/dev/null 2>&1
	PODMAN_READY=1
	echo "== podman run --rm IMAGE /bin/true =="
	set -- -n "podman + ward" "podman --runtime $WARD run --rm localhost/ward-bench /bin/true"
	command -v runc >/dev/null 2>&1 && set -- "$@" -n "podman + runc" "podman --runtime $(command -v runc) run --rm localhost/ward-bench /bin/true"
	if podman --runtime "$(command -v crun)" run --rm localhost/ward-bench /bin/true >/dev/null 2>&1; then
		set -- "$@" -n "podman + crun" "podman --runtime $(command -v crun) run --rm localhost/ward-bench /bin/true"
	else
		echo "  (podman + crun: crun refuses this host's hybrid cgroups; not measured)"
	fi
	if command -v hyperfine >/dev/null 2>&1; then
		hyperfine -N -w 2 -r "${PODMAN_RUNS:-10}" "$@" 2>&1 | grep -E 'Benchmark|Time' || true
	fi
fi

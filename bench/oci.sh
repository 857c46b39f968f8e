#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make bench`, OCI part: start-to-exit of /bin/true in a busybox bundle.
#   ward run    vs  crun run  (and runc run)       same bundle, same config
#   podman run  with --runtime ward, runc (and crun)
# crun 1.8.1 refuses this machine's hybrid cgroup layout, so it runs in a
# private mount namespace whose /sys/fs/cgroup is the host's cgroup2 mount
# (nothing of the host changes); the cost of that wrapper (unshare + mount)
# is measured on its own and printed, so it can be subtracted.
# Usage: bench/oci.sh [WARD]   (default build/src/ward).  Needs root and
# busybox-static; hyperfine when present (otherwise a plain loop).
set -eu
cd "$(dirname "$0")/.."
WARD=$(realpath "${1:-${WARD:-build/src/ward}}")
RUNS=${RUNS:-40}
tmp=$(mktemp -d /tmp/ward-bench-oci.XXXXXX)
chmod 755 "$tmp"
cleanup() {
	for r in "$tmp/ward-root" "$tmp/runc-root"; do
		[ -d "$r" ] || continue
		for id in $(ls "$r" 2>/dev/null); do
			"$WARD" --root "$r" delete --force "$id" >/dev/null 2>&1 || true
			runc --root "$r" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	if [ -n "${PODMAN_READY:-}" ]; then
		podman rm -af -t 0 >/dev/null 2>&1 || true
		podman system reset --force >/dev/null 2>&1 || true
		umount -R "$tmp/graph" >/dev/null 2>&1 || true
	fi
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
/usr/bin/python3 - "$b/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
# crun on cgroup2 would load a device eBPF program (and raise RLIMIT_MEMLOCK,
# which root may not do here): compare without device rules for everyone.
c["linux"].pop("resources", None)
json.dump(c, open(p, "w"), indent=1)
PY

cat > "$tmp/crun-v2" <<'SH'
#!/bin/sh
exec unshare -m --propagation private sh -c 'mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && exec crun "$@"' crun "$@"
SH
chmod +x "$tmp/crun-v2"

n=0
ward_cmd="$WARD --root $tmp/ward-root run --bundle $b w"
cmds="ward:$ward_cmd"
if command -v crun >/dev/null 2>&1; then
	cmds="$cmds|crun (private mount ns):$tmp/crun-v2 --root $tmp/crun-root run --bundle $b c"
	cmds="$cmds|wrapper alone (unshare + mount):unshare -m --propagation private sh -c 'mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup'"
fi
command -v runc >/dev/null 2>&1 && cmds="$cmds|runc:runc --root $tmp/runc-root run --bundle $b r"

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
r = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
for k, v in r.items():
    print(f"  median {k:34s} {v:7.2f} ms")
if "ward" in r and "crun (private mount ns)" in r:
    crun = r["crun (private mount ns)"] - r.get("wrapper alone (unshare + mount)", 0)
    print(f"  ward / crun (wrapper subtracted) = {r['ward'] / crun:.2f}  (target <= 0.5)")
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

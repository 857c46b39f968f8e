#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/net_rootless.sh: rootless networking through the user's router and
# pasta (docs/network.md#rootless, docs/rootless.md).
#
#   start   start-to-exit of /bin/true run by an ordinary user: no interface,
#           network.outbound with the user's router already running (warm),
#           and network.outbound with the router started for it (cold: the
#           router is ended before each run); root-mode network.outbound for
#           scale.  Median of RUNS (warm) and COLD_RUNS (cold).
#   tcp     TCP throughput, one connection, BENCH_MIB MiB, best of BENCH_REPS,
#           to a server in a network namespace the script makes (joined to
#           the host by a veth): two processes on the host's loopback; the
#           host itself over the veth; a rootless sandbox with
#           network.outbound (veth -> the router's ward0 -> the uplink ->
#           pasta -> a socket of the user on the host -> the veth); a
#           root-mode sandbox with network.outbound (veth -> ward0 -> NAT).
#
# A user, a namespace and a veth are made for the run and removed at exit,
# also on failure.  Environment: WARD (default build/src/ward), BENCH_MIB
# (512), BENCH_REPS (3), RUNS (20), COLD_RUNS (8).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
WARD=$(realpath "${1:-${WARD:-$ROOT/build/src/ward}}")
MIB=${BENCH_MIB:-512}
REPS=${BENCH_REPS:-3}
RUNS=${RUNS:-20}
COLD_RUNS=${COLD_RUNS:-8}
U="wrn$$"
NS="wrnb$$"
HIF="wnbh$$"
PIF="wnbp$$"
N=$(($$ % 250 + 1))
HOST_IP=10.93.$N.1
SRV_IP=10.93.$N.2
PORT=42050

die() {
	echo "bench/net_rootless: $*" >&2
	exit 1
}
[ -x "$WARD" ] || die "$WARD is missing (build it first)"
[ "$(id -u)" = 0 ] || die "run as root (it makes a user to run as)"
for t in cc runuser useradd ip python3; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/deps.sh)"
done
[ -x /usr/bin/pasta ] || die "pasta is missing (apt-get install passt)"

T=$(mktemp -d /var/tmp/wardbench-nrl.XXXXXX) || die "cannot create a temp dir"
chmod 755 "$T"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in $(ps -o pid= -u "$U" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip link del "$HIF" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	"$WARD" delegate --undo "$U" >/dev/null 2>&1
	userdel -r -f "$U" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

useradd -m -s /bin/sh -U "$U" || die "useradd failed"
chmod 700 "/home/$U"
"$WARD" delegate "$U" >/dev/null || die "ward delegate failed"
cc -std=gnu11 -O2 -static -o "$T/tcpbench" bench/tcpbench.c || die "cannot build bench/tcpbench.c"
TB=$T/tcpbench

ip netns add "$NS" || die "ip netns add failed"
ip link add "$HIF" type veth peer name "$PIF" netns "$NS" || die "veth failed"
ip addr add "$HOST_IP/24" dev "$HIF" && ip link set "$HIF" up &&
	ip -n "$NS" addr add "$SRV_IP/24" dev "$PIF" && ip -n "$NS" link set "$PIF" up &&
	ip -n "$NS" link set lo up || die "cannot configure the server's namespace"
# Root-mode replies come back into ward0 through this veth.
echo 1 >"/proc/sys/net/ipv4/conf/$HIF/forwarding"

as_user() { runuser -u "$U" -- env -u XDG_RUNTIME_DIR HOME="/home/$U" "$@"; }

# ---- start time: a timing loop run as the user (or root), median in ms.
cat >"$T/time.py" <<'EOF'
import os, statistics, subprocess, sys, time
runs, cold, argv = int(sys.argv[1]), sys.argv[2] == "cold", sys.argv[3:]
ward = argv[0]

def router_up():
    uid = os.getuid()
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and os.stat(f"/proc/{p}").st_uid == uid and \
                    open(f"/proc/{p}/comm").read().strip() == "ward-netd":
                return True
        except OSError:
            pass
    return False

out = []
for i in range(runs + (0 if cold else 2)):
    if cold:
        subprocess.run([ward, "gc"], capture_output=True)
        t_end = time.monotonic() + 30
        while router_up() and time.monotonic() < t_end:
            time.sleep(0.02)
    t0 = time.monotonic()
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True)
    t1 = time.monotonic()
    if r.returncode != 0:
        sys.exit(f"{argv}: {r.stderr.decode()}")
    if cold or i >= 2:
        out.append((t1 - t0) * 1000)
print("%.1f" % statistics.median(out))
EOF

echo "start-to-exit of /bin/true (ms, median)"
none=$(as_user python3 "$T/time.py" "$RUNS" warm "$WARD" run -q -- /bin/true) ||
	die "rootless ward run failed"
# Warm: a sandbox of the user with an interface keeps the router up.
runuser -u "$U" -- env -u XDG_RUNTIME_DIR HOME="/home/$U" "$WARD" run -q \
	--allow network.outbound -- /bin/sleep 600 >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do
	pgrep -u "$U" -x ward-netd >/dev/null && break
	sleep 0.1
done
sleep 0.5
warm=$(as_user python3 "$T/time.py" "$RUNS" warm "$WARD" run -q --allow network.outbound \
	-- /bin/true) || die "rootless network.outbound failed"
# runuser hands SIGTERM on to ward, which ends the sandbox.
kill "${PIDS[-1]}" 2>/dev/null
wait "${PIDS[-1]}" 2>/dev/null
for _ in $(seq 300); do
	pgrep -u "$U" -x sleep >/dev/null || break
	sleep 0.1
done
cold=$(as_user python3 "$T/time.py" "$COLD_RUNS" cold "$WARD" run -q --allow network.outbound \
	-- /bin/true) || die "rootless network.outbound (cold) failed"
rootout=$(python3 "$T/time.py" "$RUNS" warm "$WARD" run -q --allow network.outbound \
	-- /bin/true) || die "root-mode network.outbound failed"
printf '  %-58s %8s ms\n' "rootless, no interface" "$none"
printf '  %-58s %8s ms  +%.1f ms\n' "rootless network.outbound, router running" "$warm" \
	"$(awk "BEGIN {print $warm - $none}")"
printf '  %-58s %8s ms  +%.1f ms\n' "rootless network.outbound, router started (pasta)" "$cold" \
	"$(awk "BEGIN {print $cold - $none}")"
printf '  %-58s %8s ms\n' "root mode network.outbound (for scale)" "$rootout"

# ---- throughput
best() { sort -n | tail -1; }
alive() { # PID: running, not a zombie waiting for `wait`
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$st" != Z ]
}
serve() { # NETNS-OR-EMPTY: start a tcpbench server on PORT, wait for it
	local tries=0
	while :; do
		rm -f "$T/srv.out"
		if [ -n "$1" ]; then
			ip netns exec "$1" "$TB" server "$PORT" >"$T/srv.out" 2>&1 &
		else
			"$TB" server "$PORT" >"$T/srv.out" 2>&1 &
		fi
		SRV=$!
		while alive "$SRV" && ! grep -q listening "$T/srv.out" 2>/dev/null; do
			sleep 0.01
		done
		grep -q listening "$T/srv.out" 2>/dev/null && return 0
		# It ended: the port may still be held a moment by the run before
		# (an earlier bench's server, a router's forward); try again a while.
		wait "$SRV"
		tries=$((tries + 1))
		[ "$tries" -lt 50 ] || die "the tcpbench server cannot listen on port $PORT: $(cat "$T/srv.out")"
		sleep 0.1
	done
}
loop_once() { serve ""; "$TB" client 127.0.0.1 "$PORT" "$MIB"; wait "$SRV"; }
veth_once() { serve "$NS"; "$TB" client "$SRV_IP" "$PORT" "$MIB"; wait "$SRV"; }
pasta_once() {
	serve "$NS"
	as_user "$WARD" run -q --allow "fs.exec=$T" --allow network.outbound -- \
		"$TB" client "$SRV_IP" "$PORT" "$MIB"
	wait "$SRV"
}
root_once() {
	serve "$NS"
	"$WARD" run -q --allow "fs.exec=$T" --allow network.outbound -- \
		"$TB" client "$SRV_IP" "$PORT" "$MIB"
	wait "$SRV"
}
echo
echo "TCP throughput, one connection, $MIB MiB, best of $REPS (MiB/s)"
lo=$(for ((i = 0; i < REPS; i++)); do loop_once; done | best)
ve=$(for ((i = 0; i < REPS; i++)); do veth_once; done | best)
pa=$(for ((i = 0; i < REPS; i++)); do pasta_once; done | best)
ro=$(for ((i = 0; i < REPS; i++)); do root_once; done | best)
[ -n "$lo" ] && [ -n "$ve" ] && [ -n "$pa" ] && [ -n "$ro" ] || die "a throughput run failed"
printf '  %-58s %8s\n' "two processes on the host's loopback" "$lo"
printf '  %-58s %8s  %5.2fx\n' "the host to the namespace over its veth" "$ve" \
	"$(awk "BEGIN {print $ve / $lo}")"
printf '  %-58s %8s  %5.2fx\n' "rootless sandbox, network.outbound (router + pasta)" "$pa" \
	"$(awk "BEGIN {print $pa / $lo}")"
printf '  %-58s %8s  %5.2fx\n' "root-mode sandbox, network.outbound (veth + NAT)" "$ro" \
	"$(awk "BEGIN {print $ro / $lo}")"

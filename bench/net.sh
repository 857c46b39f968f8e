#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/net.sh: the cost of a sandbox's network interface (docs/network.md).
#
#   start      start-to-exit of /bin/true: no interface (network.none, the
#              default), network.listen=80 (veth, nftables inside and on the
#              host), network.outbound (veth + NAT); ratios to no interface
#   tcp        TCP throughput (one connection, BENCH_MIB MiB) between two
#              sandboxes (server: network.listen, client: network.connect to
#              it, through veth -> ward0 -> the host's forward chain -> veth)
#              against two plain processes on the host's loopback; target
#              >= 0.9x
#
# Every sandbox is ended and everything made lives in a temp dir removed at
# exit, also on failure.  Environment: WARD (default build/src/ward),
# BENCH_MIB (2048), BENCH_REPS (3: best of), RUNS (30 starts per variant).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
WARD=$(realpath "${1:-${WARD:-$ROOT/build/src/ward}}")
MIB=${BENCH_MIB:-2048}
REPS=${BENCH_REPS:-3}
RUNS=${RUNS:-30}

die() {
	echo "bench/net: $*" >&2
	exit 1
}
[ -x "$WARD" ] || die "$WARD is missing (build it first)"
[ "$(id -u)" = 0 ] || die "run as root"
command -v cc >/dev/null || die "cc is missing"

T=$(mktemp -d /var/tmp/wardbench-net.XXXXXX) || die "cannot create a temp dir"
chmod 755 "$T"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'echo "bench/net: interrupted" >&2; exit 130' INT TERM

cc -std=gnu11 -O2 -static -o "$T/tcpbench" bench/tcpbench.c || die "cannot build bench/tcpbench.c"
TB=$T/tcpbench

# ---- start time (hyperfine when present, else a plain loop)
median_ms() { # CMD...: median wall time of RUNS runs, in ms
	if command -v hyperfine >/dev/null; then
		hyperfine -N --style none --warmup 3 --runs "$RUNS" --export-json "$T/hf.json" \
			"$*" >/dev/null 2>&1 || return 1
		python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$T/hf.json"
		return
	fi
	local i t0 t1
	for ((i = 0; i < RUNS + 3; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || return 1
		t1=$(date +%s%N)
		[ $i -ge 3 ] && echo $(((t1 - t0) / 1000))
	done | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'
}
echo "start-to-exit of /bin/true, median of $RUNS (ms)"
none=$(median_ms "$WARD" run -q -- /bin/true) || die "ward run failed"
listen=$(median_ms "$WARD" run -q --allow network.listen=80 -- /bin/true) || die "listen failed"
outb=$(median_ms "$WARD" run -q --allow network.outbound -- /bin/true) || die "outbound failed"
printf '  %-44s %8s ms\n' "no interface (network.none)" "$none"
printf '  %-44s %8s ms  %5.2fx  (+%.1f ms)\n' "veth + nftables (network.listen=80)" "$listen" \
	"$(awk "BEGIN {print $listen / $none}")" "$(awk "BEGIN {print $listen - $none}")"
printf '  %-44s %8s ms  %5.2fx  (+%.1f ms)\n' "veth + NAT (network.outbound)" "$outb" \
	"$(awk "BEGIN {print $outb / $none}")" "$(awk "BEGIN {print $outb - $none}")"

# ---- throughput
best() { sort -n | tail -1; }
plain_once() {
	"$TB" server 5201 >"$T/srv.out" &
	local s=$!
	until grep -q listening "$T/srv.out" 2>/dev/null; do sleep 0.01; done
	"$TB" client 127.0.0.1 5201 "$MIB"
	wait $s
}
ward_once() {
	local n="$T/notify" addr
	exec 9>"$n"
	"$WARD" run -q --notify-fd 9 --allow "fs.exec=$T" --allow network.listen=5201 \
		-- "$TB" server 5201 >"$T/srv.out" 2>&1 &
	local s=$!
	exec 9>&-
	PIDS+=($s)
	until grep -q listening "$T/srv.out" 2>/dev/null; do
		kill -0 $s 2>/dev/null || { cat "$T/srv.out" >&2; return 1; }
		sleep 0.01
	done
	addr=$(sed -n 's/.*address=//p' "$n")
	"$WARD" run -q --allow "fs.exec=$T" --add-host "srv:$addr" \
		--allow network.connect=srv:5201 -- "$TB" client "$addr" 5201 "$MIB"
	wait $s
}
echo
echo "TCP throughput, one connection, $MIB MiB, best of $REPS (MiB/s)"
p=$(for ((i = 0; i < REPS; i++)); do plain_once; done | best)
w=$(for ((i = 0; i < REPS; i++)); do ward_once; done | best)
[ -n "$p" ] && [ -n "$w" ] || die "a throughput run failed"
printf '  %-44s %8s\n' "two processes on the host's loopback" "$p"
ratio=$(awk "BEGIN {print $w / $p}")
printf '  %-44s %8s  %5.2fx  (target >= 0.90: %s)\n' "two sandboxes (connect -> listen)" "$w" \
	"$ratio" "$(awk "BEGIN {print ($ratio >= 0.9) ? \"PASS\" : \"MISS\"}")"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/broker.sh: the broker's cost (docs/broker.md), 64-byte messages.
#
#   plain      a SOCK_SEQPACKET socket pair between two processes of one
#              environment: messages per second one way, round trip p50/p99
#   mailbox    environment -> broker -> environment: pipelined ward_send_async
#              into a mailbox read with prefetch, one send per record, and
#              again with the sender gathering 64 sends per record
#              (ward_set_send_batch); round trips through two mailboxes
#              (ward_send + ward_recv each way)
#   service    a service.connect socket (SOCK_SEQPACKET) between two
#              environments: the same measurements as plain
#
# Each is printed with its ratio to plain, measured in the same run, and the
# targets (mailbox >= 0.6x, service >= 0.95x plain messages per second).
#
# Then the same with many environments at once (BENCH_PAIRS, default
# "1 4 32"): K senders, each streaming to its own receiver (2K environments:
# 2, 8 and 64), all started by one go file, against K plain socket pairs at
# once; the aggregate messages per second of each, the mailboxes one send
# per record and gathering 64.
# Everything lives in a temp dir (helpers, the broker's state) and is removed
# at exit, the broker stopped, also on failure.
#
# Environment: WARD (default build/src/ward), BENCH_MSGS (200000 messages per
# throughput run), BENCH_RTT (20000 round trips), BENCH_REPS (3: best of),
# BENCH_PAIRS ("1 4 32"), BENCH_BROKER_DAEMON (the ward that runs the broker
# daemon, default WARD: an A/B comparison of two brokers).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
WARD=${1:-${WARD:-$ROOT/build/src/ward}}
N=${BENCH_MSGS:-200000}
RTT=${BENCH_RTT:-20000}
REPS=${BENCH_REPS:-3}
# The daemon may come from another build (an A/B comparison of the broker).
DAEMON=${BENCH_BROKER_DAEMON:-$WARD}

die() {
	echo "bench: $*" >&2
	exit 1
}
[ -x "$WARD" ] || die "$WARD is missing (build it: meson setup build && ninja -C build)"
[ "$(id -u)" = 0 ] || die "run as root (ward run needs it here)"
command -v cc >/dev/null || die "cc is missing"

T=$(mktemp -d /var/tmp/wardbench-broker.XXXXXX) || die "cannot create a temp dir"
chmod 755 "$T"
export WARD_STATE_DIR="$T/state"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$WARD" broker --stop --state-dir "$WARD_STATE_DIR" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

cc -std=gnu11 -O2 -static -Iclient/include -Ilib -o "$T/envtool" tests/broker/envtool.c \
	client/client.c lib/broker/proto.c lib/broker/wire.c || die "cannot build the helper"
E=$T/envtool

# run NAME ALLOW... -- ARGS: an environment running envtool
envrun() {
	local name=$1
	shift
	local allow=(-a "fs.exec=$T")
	while [ "$1" != -- ]; do
		allow+=(-a "$1")
		shift
	done
	shift
	"$WARD" run -q --quiet-denials --name "$name" -e "WARD_SEND_BATCH=${SEND_BATCH:-1}" \
		"${allow[@]}" -- "$E" "$@"
}

# start NAME ALLOW... -- ARGS: in the background, wait for its "ready"
start_env() {
	local fifo=$T/fifo.$RANDOM
	mkfifo "$fifo"
	envrun "$@" >"$fifo" &
	PIDS+=($!)
	exec 9<"$fifo"
	read -r -t 60 line <&9 || die "an environment did not start"
	[ "$line" = ready ] || die "unexpected: $line"
	rm -f "$fifo"
}

field() { # field KEY: the value of KEY=... in stdin
	sed -n "s/.*$1=\([0-9.]*\).*/\1/p" | head -1
}

best() { # best of numbers on stdin (largest)
	sort -g | tail -1
}
least() { sort -g | head -1; }

"$DAEMON" broker --state-dir "$WARD_STATE_DIR" >/dev/null || die "cannot start the broker"

echo "bench: $N messages per throughput run, $RTT round trips, best of $REPS"
plain_tp=() plain_p50=() plain_p99=() mb_tp=() mg_tp=() mb_p50=() mb_p99=() sv_tp=() sv_p50=() sv_p99=()
for rep in $(seq "$REPS"); do
	out=$("$WARD" run -q --quiet-denials -a "fs.exec=$T" -- "$E" bench-plain "$N" 64) ||
		die "plain run failed"
	plain_tp+=("$(echo "$out" | grep 'msgs_per_s' | field msgs_per_s)")
	plain_p50+=("$(echo "$out" | grep p50 | field p50_us)")
	plain_p99+=("$(echo "$out" | grep p99 | field p99_us)")

	# mailbox throughput: the receiver asks 256 ahead; the sender writes
	# one send per record, then gathers 64 (ward_set_send_batch)
	for sb in 1 64; do
		fifo=$T/out.$rep.$sb
		envrun mbrecv ipc.recv -- bench-mb-recv "$N" 256 >"$fifo" &
		rp=$!
		PIDS+=($rp)
		for _ in $(seq 200); do grep -q ready "$fifo" 2>/dev/null && break; sleep 0.05; done
		SEND_BATCH=$sb envrun mbsend ipc.send=mbrecv -- bench-mb-send mbrecv "$N" 64 ||
			die "mailbox sender failed"
		wait "$rp"
		if [ "$sb" = 1 ]; then
			mb_tp+=("$(field msgs_per_s <"$fifo")")
		else
			mg_tp+=("$(field msgs_per_s <"$fifo")")
		fi
	done

	# mailbox round trips: ping -> pong -> ping
	envrun pong ipc.recv ipc.send=ping -- bench-mb-pong ping "$RTT" >"$fifo.pong" &
	pp=$!
	PIDS+=($pp)
	for _ in $(seq 200); do grep -q ready "$fifo.pong" 2>/dev/null && break; sleep 0.05; done
	out=$(envrun ping ipc.recv ipc.send=pong -- bench-mb-ping pong "$RTT") || die "ping failed"
	wait "$pp"
	mb_p50+=("$(echo "$out" | field p50_us)")
	mb_p99+=("$(echo "$out" | field p99_us)")

	# a service.connect socket
	envrun svc service.provide=bench -- bench-svc-serve bench "$N" >"$fifo.svc" &
	sp=$!
	PIDS+=($sp)
	for _ in $(seq 200); do grep -q ready "$fifo.svc" 2>/dev/null && break; sleep 0.05; done
	out=$(envrun cli service.connect=bench -- bench-svc bench "$N" 64) || die "service failed"
	wait "$sp"
	sv_tp+=("$(echo "$out" | grep msgs_per_s | field msgs_per_s)")
	sv_p50+=("$(echo "$out" | grep p50 | field p50_us)")
	sv_p99+=("$(echo "$out" | grep p99 | field p99_us)")
done

P_TP=$(printf '%s\n' "${plain_tp[@]}" | best)
P_50=$(printf '%s\n' "${plain_p50[@]}" | least)
P_99=$(printf '%s\n' "${plain_p99[@]}" | least)
M_TP=$(printf '%s\n' "${mb_tp[@]}" | best)
G_TP=$(printf '%s\n' "${mg_tp[@]}" | best)
M_50=$(printf '%s\n' "${mb_p50[@]}" | least)
M_99=$(printf '%s\n' "${mb_p99[@]}" | least)
S_TP=$(printf '%s\n' "${sv_tp[@]}" | best)
S_50=$(printf '%s\n' "${sv_p50[@]}" | least)
S_99=$(printf '%s\n' "${sv_p99[@]}" | least)

/usr/bin/python3 - "$P_TP" "$P_50" "$P_99" "$M_TP" "$M_50" "$M_99" "$S_TP" "$S_50" "$S_99" \
	"$G_TP" <<'PY'
import sys
p_tp, p50, p99, m_tp, m50, m99, s_tp, s50, s99, g_tp = map(float, sys.argv[1:])
print(f"{'':16} {'msgs/s':>12} {'ratio':>7} {'rtt p50 us':>11} {'rtt p99 us':>11}")
print(f"{'plain':16} {p_tp:12.0f} {1.0:7.2f} {p50:11.2f} {p99:11.2f}")
print(f"{'mailbox':16} {m_tp:12.0f} {m_tp / p_tp:7.2f} {m50:11.2f} {m99:11.2f}")
print(f"{'mailbox, gather':16} {g_tp:12.0f} {g_tp / p_tp:7.2f} {'':>11} {'':>11}")
print(f"{'service':16} {s_tp:12.0f} {s_tp / p_tp:7.2f} {s50:11.2f} {s99:11.2f}")
ok_m = m_tp / p_tp >= 0.6
ok_s = s_tp / p_tp >= 0.95
print(f"target: mailbox >= 0.60x plain: {'met' if ok_m else 'MISSED'} ({m_tp / p_tp:.2f}x "
      f"one send per record, {g_tp / p_tp:.2f}x gathering 64); "
      f"service >= 0.95x plain: {'met' if ok_s else 'MISSED'} ({s_tp / p_tp:.2f}x)")
PY

# ---- many environments at once ----
PAIRS=${BENCH_PAIRS:-1 4 32}
echo
echo "concurrent environments: K senders -> K receivers ($N messages in all), against K plain pairs"
# concurrent K SEND_BATCH: one run of K senders to K receivers; prints the
# aggregate messages per second
concurrent() {
	local k=$1 per=$(($N / $1)) i pid rpids=() spids=()
	rm -f "$T/go"
	for i in $(seq "$k"); do
		envrun "r$i" ipc.recv -- bench-mb-recv "$per" 256 >"$T/k.r$i" &
		rpids+=($!)
		PIDS+=($!)
	done
	for _ in $(seq 600); do
		[ "$(cat "$T"/k.r* 2>/dev/null | grep -c ready)" -ge "$k" ] && break
		sleep 0.05
	done
	for i in $(seq "$k"); do
		SEND_BATCH=$2 envrun "s$i" "ipc.send=r$i" -- bench-mb-send "r$i" "$per" 64 "$T/go" \
			>"$T/k.s$i" &
		spids+=($!)
		PIDS+=($!)
	done
	for _ in $(seq 600); do
		[ "$(cat "$T"/k.s* 2>/dev/null | grep -c armed)" -ge "$k" ] && break
		sleep 0.05
	done
	touch "$T/go"
	for pid in "${spids[@]}" "${rpids[@]}"; do wait "$pid" || die "a concurrent environment failed"; done
	cat "$T"/k.r* | /usr/bin/python3 -c '
import re, sys
t0 = []; t1 = []
for line in sys.stdin:
    a = re.search(r"t0=([0-9.]+) t1=([0-9.]+)", line)
    if a:
        t0.append(float(a.group(1))); t1.append(float(a.group(2)))
print(f"{'$per' * len(t1) / (max(t1) - min(t0)):.0f}" if t1 else 0)'
	rm -f "$T"/k.*
}

printf '%-6s %6s %12s %12s %7s %12s %7s\n' pairs envs plain mailbox ratio gather64 ratio
for k in $PAIRS; do
	best_p=0 best_m=0 best_g=0
	for rep in $(seq "$REPS"); do
		out=$("$WARD" run -q --quiet-denials -a "fs.exec=$T" -- "$E" bench-plain-k "$k" "$N" 64) ||
			die "plain-k failed"
		p=$(echo "$out" | field msgs_per_s)
		m=$(concurrent "$k" 1)
		g=$(concurrent "$k" 64)
		best_p=$(printf '%s\n%s\n' "$best_p" "$p" | best)
		best_m=$(printf '%s\n%s\n' "$best_m" "$m" | best)
		best_g=$(printf '%s\n%s\n' "$best_g" "$g" | best)
	done
	printf '%-6s %6s %12.0f %12.0f %6.2fx %12.0f %6.2fx\n' "$k" $((2 * k)) "$best_p" "$best_m" \
		"$(/usr/bin/python3 -c "print($best_m / max($best_p, 1))")" "$best_g" \
		"$(/usr/bin/python3 -c "print($best_g / max($best_p, 1))")"
done

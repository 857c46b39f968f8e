#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/attest.sh: the cost of measured launch and attestation
# (docs/attestation.md), medians of hyperfine -N runs:
#
#   launch     ward run -- /bin/true: unmeasured, --measure without a TPM
#              (software chain), --measure into a software TPM (swtpm)
#   bundle     ward run BUNDLE (a signed busybox bundle; a bundle's run is
#              always measured): without a TPM and with swtpm
#   quote      ward attest quote: software-rooted and swtpm (TPM2_Quote)
#   verify     ward attest verify of each
#
# What measurement adds to a launch is the difference between the rows,
# measured in the same run.  swtpm is a process on the same 2 cores
# (TCP on loopback); a hardware TPM is slower per command (tens of ms for
# an extend or a quote on common discrete TPMs), so the swtpm rows are a
# floor for the TPM's own time, not a prediction.
#
# Everything lives in a temp dir (ward's state, keys, the bundle, swtpm's
# state) and is removed at exit; swtpm is stopped by its pid, the broker is
# never started.  Ports: 44900-44901 (BENCH_SWTPM_PORT).
#
# Environment: WARD (default build/src/ward; also the first argument),
# BENCH_ATTEST_RUNS (60 timed runs of each command, in BENCH_ROUNDS=3
# rounds), BENCH_WARMUP (3 per round).  Each row: the median wall time, its
# p90, and the mean CPU time (user+sys of ward and what it waited for, so
# ward-tpm's but not swtpm's): on a loaded machine the CPU column is the
# steadier one.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
WARD=${1:-${WARD:-$ROOT/build/src/ward}}
RUNS=${BENCH_ATTEST_RUNS:-60}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=${BENCH_WARMUP:-3}
PORT=${BENCH_SWTPM_PORT:-44900}
PY=/usr/bin/python3

die() {
	echo "bench: $*" >&2
	exit 1
}
note() { echo "bench: $*"; }

[ -x "$WARD" ] || die "$WARD is missing (build it: meson setup build && ninja -C build)"
[ "$(id -u)" = 0 ] || die "run as root (ward run needs it here)"
command -v hyperfine >/dev/null || die "hyperfine is missing (scripts/deps.sh)"
BUSYBOX=$(command -v busybox || echo /bin/busybox)
[ -x "$BUSYBOX" ] || die "busybox is missing (scripts/deps.sh)"

T=$(mktemp -d /var/tmp/wardbench-attest.XXXXXX) || die "cannot create a temp dir"
chmod 755 "$T"
SWTPM_PID=
cleanup() {
	if [ -n "$SWTPM_PID" ]; then
		kill -TERM "$SWTPM_PID" 2>/dev/null
		wait "$SWTPM_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

export WARD_TRUST=$T/trust
SOFT=$T/soft   # state dir without a TPM
TPMS=$T/tpm    # state dir with swtpm
mkdir -p "$SOFT" "$TPMS"

# A signed bundle: busybox, its command /bin/sh -c true.
mkdir -p "$T/root/bin"
cp "$BUSYBOX" "$T/root/bin/busybox"
ln -s busybox "$T/root/bin/sh"
printf 'process.limit=64\n' >"$T/app.ent"
"$WARD" key generate --out "$T/pub" >/dev/null 2>&1 || die "ward key generate failed"
"$WARD" trust add --key "$T/pub.pub" --may 'process.limit<=256' >/dev/null 2>&1 ||
	die "ward trust add failed"
"$WARD" bundle create --rootfs "$T/root" --cmd /bin/sh --arg -c --arg true \
	--manifest "$T/app.ent" -o "$T/app.ward" >/dev/null 2>&1 || die "ward bundle create failed"
"$WARD" bundle sign --key "$T/pub.key" "$T/app.ward" >/dev/null 2>&1 || die "ward bundle sign failed"

# Without a TPM.
WARD_TCTI=none "$WARD" attest init --state-dir "$SOFT" --out "$T/soft-ak" \
	--key "$T/host.key" >/dev/null || die "ward attest init (software) failed"

# swtpm, if installed.
HAVE_TPM=0
if command -v swtpm >/dev/null && [ -x "$(dirname "$WARD")/ward-tpm" ]; then
	mkdir -p "$T/swtpm"
	swtpm socket --tpm2 --tpmstate dir="$T/swtpm" \
		--server type=tcp,port="$PORT",bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=$((PORT + 1)),bindaddr=127.0.0.1 \
		--flags not-need-init,startup-clear >/dev/null 2>&1 &
	SWTPM_PID=$!
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
		sleep 0.05
	done
	TCTI="swtpm:host=127.0.0.1,port=$PORT"
	if WARD_TCTI=$TCTI "$WARD" attest init --state-dir "$TPMS" --out "$T/tpm-ak" \
		--key "$T/host.key" >/dev/null; then
		HAVE_TPM=1
	else
		note "swtpm did not answer on port $PORT: the TPM rows are left out"
	fi
else
	note "swtpm or ward-tpm is not installed: the TPM rows are left out"
fi

NONCE=00112233445566778899aabbccddeeff
WARD_TCTI=none "$WARD" run -q --state-dir "$SOFT" "$T/app.ward" || die "the bundle does not run"
WARD_TCTI=none "$WARD" attest quote --state-dir "$SOFT" --nonce $NONCE --out "$T/q-soft" \
	>/dev/null || die "software quote failed"

cmds=(
	-n "run"                 "env WARD_TCTI=none $WARD run -q --state-dir $SOFT -- /bin/true"
	-n "run --measure (sw)"  "env WARD_TCTI=none $WARD run -q --state-dir $SOFT --measure -- /bin/true"
	-n "bundle (sw)"         "env WARD_TCTI=none $WARD run -q --state-dir $SOFT $T/app.ward"
	-n "quote (sw)"          "env WARD_TCTI=none $WARD attest quote --state-dir $SOFT --nonce $NONCE --out $T/q-soft"
	-n "verify (sw)"         "$WARD attest verify --ak $T/soft-ak.pub --nonce $NONCE --quote $T/q-soft"
)
if [ "$HAVE_TPM" = 1 ]; then
	WARD_TCTI=$TCTI "$WARD" run -q --state-dir "$TPMS" "$T/app.ward" || die "the bundle does not run (TPM)"
	WARD_TCTI=$TCTI "$WARD" attest quote --state-dir "$TPMS" --nonce $NONCE --out "$T/q-tpm" \
		>/dev/null || die "TPM quote failed"
	cmds+=(
		-n "run --measure (swtpm)" "env WARD_TCTI=$TCTI $WARD run -q --state-dir $TPMS --measure -- /bin/true"
		-n "bundle (swtpm)"        "env WARD_TCTI=$TCTI $WARD run -q --state-dir $TPMS $T/app.ward"
		-n "quote (swtpm)"         "env WARD_TCTI=$TCTI $WARD attest quote --state-dir $TPMS --nonce $NONCE --out $T/q-tpm"
		-n "verify (swtpm)"        "$WARD attest verify --ak $T/tpm-ak.pub --nonce $NONCE --quote $T/q-tpm"
	)
fi

# Rounds, so that a change of the machine's load hits every row.
for round in $(seq "$ROUNDS"); do
	hyperfine -N --runs $((RUNS / ROUNDS)) --warmup "$WARMUP" \
		--export-json "$T/attest.$round.json" "${cmds[@]}" >"$T/hyperfine.out" 2>&1 || {
		cat "$T/hyperfine.out"
		die "hyperfine failed"
	}
done

"$PY" - "$RUNS" "$T"/attest.*.json <<'EOF2'
import json, statistics, sys
times, cpu = {}, {}
for f in sys.argv[2:]:
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
        cpu.setdefault(r["command"], []).append((r["user"] + r["system"], len(r["times"])))
med = {k: statistics.median(v) * 1000 for k, v in times.items()}
p90 = {k: sorted(v)[int(len(v) * 0.9) - 1] * 1000 for k, v in times.items()}
cpu = {k: sum(c * n for c, n in v) / sum(n for _, n in v) * 1000 for k, v in cpu.items()}
print(f"measured launch and attestation: {sys.argv[1]} runs each, in rounds")
print(f"  {'':24s} {'median':>8s} {'p90':>8s} {'CPU':>8s}   (ms; CPU: user+sys of ward"
      " and its children, not swtpm's)")
for k in med:
    print(f"  {k:24s} {med[k]:8.1f} {p90[k]:8.1f} {cpu[k]:8.1f}")
base = "run"
print("what measurement adds (median wall / CPU):")
def row(label, a, b):
    print(f"  {label:36s} {med[a] - med[b]:+7.1f} ms / {cpu[a] - cpu[b]:+6.1f} ms")
row("to a launch, no TPM", "run --measure (sw)", "run")
if "run --measure (swtpm)" in med:
    row("to a launch, swtpm", "run --measure (swtpm)", "run")
    row("to a bundle launch, swtpm vs no TPM", "bundle (swtpm)", "bundle (sw)")
print(f"time of a quote: software {med['quote (sw)']:.1f} ms"
      + (f", swtpm {med['quote (swtpm)']:.1f} ms" if "quote (swtpm)" in med else ""))
EOF2

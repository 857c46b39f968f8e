#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make fresh-check: is `make check` green on the first run of a fresh machine,
# and the same on the second?
#
#  1. clones this repository's committed HEAD into a fresh directory
#     (uncommitted changes are not part of the run);
#  2. brings the machine as close to fresh as it safely can: removes what
#     ward and its tests leave on a host (ward's nft tables, the ward0 bridge,
#     veths named wv<pid>, network namespaces named ward*, the /run/netns
#     mount that `ip netns add` makes, empty cgroups under */ward/, /run/ward
#     with the uid pool, the seccomp cache, broker and network state), and
#     nothing else.  It does so only when no ward process runs on the machine:
#     those things may belong to someone's sandbox.  Otherwise it says what it
#     could not reset and the run counts as "not from a fresh state";
#  3. runs the whole suite (scripts/check.py) twice in a row in the clone,
#     the second on what the first left;
#  4. fails if either run failed, if the two runs' results differ in any test
#     (scripts/check.py --results: one line per test and outcome), or if the
#     host state ward leaves after the second run differs from that after the
#     first (something accumulates).
#
# Usage: scripts/fresh-check.sh [--no-reset] [--keep] [--runs N]
#   --no-reset  leave the machine as it is (step 2 skipped)
#   --keep      keep the clone, its builds and the logs (default: kept only
#               when the check fails; the logs are always kept)
#   --runs N    run the suite N times (default 2)
# Needs root (make check does).  Takes two make checks' time and a fresh
# build (about 15-20 minutes on the 2-vCPU VM).
set -u -o pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
RESET=1
KEEP=0
RUNS=2
while [ $# -gt 0 ]; do
	case "$1" in
	--no-reset) RESET=0 ;;
	--keep) KEEP=1 ;;
	--runs)
		shift
		RUNS=${1:-}
		case "$RUNS" in '' | *[!0-9]* | 0 | 1)
			echo "fresh-check: --runs needs a number of at least 2 (got '${RUNS}')" >&2
			exit 2
			;;
		esac
		;;
	-h | --help)
		sed -n '3,30p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "fresh-check: unknown option $1 (see --help)" >&2
		exit 2
		;;
	esac
	shift
done
if [ "$(id -u)" != 0 ]; then
	echo "fresh-check: needs root (the suites start real sandboxes); run it with sudo" >&2
	exit 2
fi

WORK=$(mktemp -d /var/tmp/ward-fresh.XXXXXX) || exit 2
LOGS=$WORK/logs
mkdir -p "$LOGS"
say() { printf 'fresh-check: %s\n' "$*"; }

# ---- the state ward leaves on a host ----

# Pids of running ward processes (supervisors, inits, brokers, OCI shims):
# their executable is called ward.
ward_pids() {
	local p exe
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case "${exe% (deleted)}" in */ward) echo "${p#/proc/}" ;; esac
	done
}

# One line per thing of ward's on the host, sorted: what must not pile up.
snapshot() {
	local d
	for d in /sys/fs/cgroup/*/ward; do
		[ -L "$(dirname "$d")" ] && continue
		[ -d "$d" ] && find "$d" -mindepth 1 -type d -printf 'cgroup %p\n' 2>/dev/null |
			sed -E 's/run-[0-9]+/run-PID/'
	done
	ip netns list 2>/dev/null | awk '$1 ~ /^ward/ {print "netns " $1}'
	ip -o link show 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print $2}' |
		grep -E '^(ward0|wv[0-9]+)$' | sed -E 's/^wv[0-9]+$/wvPID/; s/^/link /'
	nft list tables 2>/dev/null | grep -E ' (ward|ward_nat)$' | sed 's/^/nft /'
	awk '{print $5}' /proc/self/mountinfo | grep -E 'ward' | sed 's/^/mount /'
	ls /run/ward/net 2>/dev/null | grep -E '^[0-9]+\.lock$' | sed 's/^/net-slot /'
	[ -e /run/ward/broker.pid ] && echo "broker /run/ward/broker.pid"
	ward_pids | sed 's/.*/ward-process/'
	return 0
}

reset_machine() {
	local busy d ns l t
	busy=$(ward_pids | tr '\n' ' ')
	if [ -n "$busy" ]; then
		say "NOT reset: ward processes are running (pids ${busy% }); what they use may be"
		say "  someone's sandbox. This run does not start from a fresh state."
		FRESH=0
		return
	fi
	for t in "ip ward_nat" "bridge ward"; do
		# shellcheck disable=SC2086
		nft list table $t >/dev/null 2>&1 && nft delete table $t && say "removed nft table $t"
	done
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print $2}' |
		grep -E '^(ward0|wv[0-9]+)$'); do
		ip link del "$l" 2>/dev/null && say "removed link $l"
	done
	for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^ward/ {print $1}'); do
		ip netns del "$ns" && say "removed network namespace $ns"
	done
	# `ip netns add` makes /run/netns a mount the first time it runs on a
	# machine; a fresh machine has none.  Only when nothing else uses it.
	if mountpoint -q /run/netns 2>/dev/null && [ -z "$(ls -A /run/netns)" ]; then
		umount /run/netns && rmdir /run/netns && say "removed the /run/netns mount"
	fi
	for d in /sys/fs/cgroup/*/ward; do
		[ -L "$(dirname "$d")" ] || [ ! -d "$d" ] && continue
		# rmdir removes only empty cgroups: a populated one is not ward's
		# to remove (none should be, with no ward process running).
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
		[ -d "$d" ] && say "left $d: it still holds processes" || say "removed $d"
	done
	if [ -d /run/ward ]; then
		rm -rf /run/ward && say "removed /run/ward"
	fi
}

# ---- the run ----

FRESH=1
COMMIT=$(git -C "$REPO" rev-parse HEAD) || exit 2
say "cloning $REPO at $COMMIT into $WORK/ward"
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]; then
	say "note: uncommitted changes in $REPO are not part of this run"
fi
git clone -q --no-hardlinks "$REPO" "$WORK/ward" && git -C "$WORK/ward" checkout -q "$COMMIT" ||
	exit 2

if [ "$RESET" = 1 ]; then
	reset_machine
else
	say "--no-reset: the machine is left as it is"
	FRESH=0
fi
snapshot >"$LOGS/state-before.txt"
# What make check installs first (a fresh machine has none of it).
say "scripts/deps.sh (log: $LOGS/deps.log)"
(cd "$WORK/ward" && ./scripts/deps.sh) </dev/null >"$LOGS/deps.log" 2>&1 ||
	say "scripts/deps.sh failed (see the log); running the suite anyway"

status=0
for i in $(seq 1 "$RUNS"); do
	say "run $i of $RUNS: make check (log: $LOGS/run$i.log)"
	t0=$(date +%s)
	(cd "$WORK/ward" && /usr/bin/python3 scripts/check.py --results "$LOGS/results$i.txt") \
		</dev/null >"$LOGS/run$i.log" 2>&1
	rc=$?
	t1=$(date +%s)
	snapshot >"$LOGS/state-after$i.txt"
	say "run $i: exit $rc in $((t1 - t0)) s: $(tail -n 1 "$LOGS/run$i.log")"
	grep -E '^(time: |problems: |FAILED |ERROR )' "$LOGS/run$i.log" | sed 's/^/    /'
	[ "$rc" = 0 ] || status=1
	[ -s "$LOGS/results$i.txt" ] || {
		say "run $i wrote no results"
		status=1
	}
done

for i in $(seq 2 "$RUNS"); do
	if ! diff -u "$LOGS/results1.txt" "$LOGS/results$i.txt" >"$LOGS/results-diff$i.txt"; then
		say "the results of run 1 and run $i differ:"
		sed -n '3,$p' "$LOGS/results-diff$i.txt" | grep -E '^[-+]' | head -50 | sed 's/^/    /'
		status=1
	fi
	if ! diff -u "$LOGS/state-after1.txt" "$LOGS/state-after$i.txt" >"$LOGS/state-diff$i.txt"; then
		say "what ward leaves on the host differs after run 1 and run $i:"
		sed -n '3,$p' "$LOGS/state-diff$i.txt" | grep -E '^[-+]' | head -50 | sed 's/^/    /'
		status=1
	fi
done
say "host state before: $(wc -l <"$LOGS/state-before.txt") entries; after run 1:" \
	"$(sort -u "$LOGS/state-after1.txt" | tr '\n' ';' | sed 's/;$//')"

if [ "$status" = 0 ] && [ "$KEEP" = 0 ]; then
	rm -rf "$WORK/ward"
	say "logs kept in $LOGS"
else
	say "kept $WORK (clone, builds and logs)"
fi
if [ "$status" = 0 ]; then
	if [ "$FRESH" = 1 ]; then
		say "OK: $RUNS runs from a fresh state, same results, nothing piles up"
	else
		say "OK: $RUNS runs with the same results (NOT from a fresh state, see above)"
	fi
else
	say "FAILED"
fi
exit "$status"

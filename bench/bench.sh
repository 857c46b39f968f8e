#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/bench.sh (make bench): ward next to bubblewrap and crun.
#
#   1. start-to-exit latency of /bin/true (hyperfine -N): plain, unshare of
#      all namespaces, bwrap without and with a Docker-like seccomp filter,
#      crun run without and with the same filter, ward run (default sandbox
#      and security.user); medians, ratios and the launch targets
#   2. the cost of one system call, unfiltered and under ward's filters
#   3. peak RSS of the sandbox managers (ward, bwrap, crun)
#
# Everything it creates lives in one temp dir (helpers, BPF, crun bundles and
# state) and is removed on exit, also on failure.  crun 1.8.1 refuses this
# machine's hybrid cgroup layout, so crun runs in a private mount namespace in
# which a small tmpfs hides /sys/fs/cgroup/unified (the host's mounts are not
# touched); the cgroups crun makes are named "wardbench-<this pid>-*" and
# removed at exit if crun left any.  See docs/bench.md for how to read it.
#
# Environment: WARD (the binary, default build/src/ward); BENCH_RUNS (90
# timed runs of each command, split into BENCH_ROUNDS=3 rounds so that a
# change of load hits every row); BENCH_WARMUP (3 per round); BENCH_CALLS
# (5000000 calls per timed loop, cut down so that a loop lasts about
# BENCH_LOOP_MS=400 ms where system calls are slow); BENCH_SYSCALL_REPS (5);
# BENCH_KEEP (a dir: keep the raw results there); BENCH_SKIP ("bwrap crun":
# leave those rows out, as if they were not installed).
#
# Exit status 0 unless something could not run at all; targets are
# information only.
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
WARD=${WARD:-$ROOT/build/src/ward}
PY=/usr/bin/python3
RUNS=${BENCH_RUNS:-90}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=${BENCH_WARMUP:-3}
CALLS=${BENCH_CALLS:-5000000}
LOOP_MS=${BENCH_LOOP_MS:-400}
SC_REPS=${BENCH_SYSCALL_REPS:-5}
PFX="wardbench-$$"

die() {
	echo "bench: $*" >&2
	exit 1
}
note() { echo "bench: $*"; }
have() { # have TOOL: installed and not in BENCH_SKIP
	case " ${BENCH_SKIP:-} " in *" $1 "*) return 1 ;; esac
	command -v "$1" >/dev/null 2>&1
}

for t in hyperfine cc "$PY"; do
	command -v "$t" >/dev/null 2>&1 || die "$t is missing (run scripts/deps.sh)"
done
[ -x "$WARD" ] || die "$WARD is missing (build it: meson setup build && ninja -C build)"
[ "$(id -u)" = 0 ] || die "run as root (ward, bwrap and crun need it here)"

T=$(mktemp -d /tmp/wardbench.XXXXXX) || die "cannot create a temp dir"
# The sandboxed program of part 2 runs as an unprivileged host uid: it must
# be able to traverse the dir that holds it.
chmod 755 "$T"

# ---- cleanup: everything we made, also after a failure or ^C ----
CHILD=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local d p _
	if [ -n "$CHILD" ]; then
		kill -TERM "$CHILD" 2>/dev/null
		wait "$CHILD" 2>/dev/null
	fi
	exec 10<&- 2>/dev/null
	if [ -n "${BENCH_KEEP:-}" ] && mkdir -p "$BENCH_KEEP"; then
		cp "$T"/*.json "$T"/*.txt "$T"/*.log "$BENCH_KEEP"/ 2>/dev/null
	fi
	for d in /sys/fs/cgroup/*/"$PFX"-*; do
		[ -d "$d" ] || continue
		# Only crun containers of this run live in these cgroups.
		for _ in 1 2 3 4 5; do
			while read -r p; do kill -9 "$p" 2>/dev/null; done <"$d/cgroup.procs" 2>/dev/null
			rmdir "$d" 2>/dev/null && break
			sleep 0.1
		done
		[ -d "$d" ] && echo "bench: could not remove $d" >&2
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# bg CMD...: run CMD as a child that the traps can stop at once (bash runs a
# trap only after the foreground command ends; "wait" is interrupted).
bg() {
	local rc
	"$@" &
	CHILD=$!
	wait "$CHILD"
	rc=$?
	CHILD=
	return $rc
}

# "${CRUN_NS[@]}" CMD... runs CMD in a private mount namespace where crun
# 1.8.1 sees a pure v1 layout: a tmpfs of its own over
# /sys/fs/cgroup/unified.  (Unmounting unified instead is not enough: crun
# then creates directories in the host's /sys/fs/cgroup tmpfs, under the
# unified mount point, and leaves them there.)
# shellcheck disable=SC2016 # expanded by that sh
CRUN_NS=(unshare -m --propagation private sh -c
	'mount -t tmpfs -o size=1m,mode=755 wardbench-cgroup2 /sys/fs/cgroup/unified && exec "$@"' sh)

# ok NAME CMD...: run CMD once; on failure say why and return 1.
ok() {
	local name=$1
	shift
	if timeout 60 "$@" >"$T/pre.log" 2>&1; then
		return 0
	fi
	note "$name does not run here; skipping it:"
	sed 's/^/    /' "$T/pre.log" | tail -5
	return 1
}

# ---- the machine ----
echo "ward benchmark: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), Linux $(uname -r)"
echo "tools: $(hyperfine --version 2>/dev/null), $(bwrap --version 2>/dev/null || echo 'no bwrap'), $(command -v crun >/dev/null && crun --version | head -1 || echo 'no crun'), ward $("$WARD" --version 2>/dev/null | head -1 | sed 's/^ward version //')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
echo "note: figures vary with load and between machines; compare rows of one run, not runs."
echo

# ---- helpers ----
cc -O2 -static -o "$T/helper" bench/helper.c || die "cannot build bench/helper.c"
cc -O2 -static -o "$T/syscalls" bench/syscalls.c || die "cannot build bench/syscalls.c"
HAVE_BPF=0
if cc -O2 -o "$T/mkfilter" bench/mkfilter.c -lseccomp 2>"$T/cc.log"; then
	if info=$("$T/mkfilter" bench/docker-profile.txt "$T/docker.bpf"); then
		HAVE_BPF=1
		echo "Docker-like filter for bwrap: $info (libseccomp defaults, default EPERM)"
	fi
else
	note "cannot build bench/mkfilter.c (libseccomp-dev?): no bwrap seccomp row"
	sed 's/^/    /' "$T/cc.log" | tail -3
fi

# ---- bwrap ----
HAVE_BWRAP=0
if have bwrap; then
	HAVE_BWRAP=1
	BWRAP=(bwrap --unshare-all --die-with-parent --new-session --ro-bind /usr /usr)
	for d in bin sbin lib lib32 lib64 libx32; do
		if [ -L "/$d" ]; then
			BWRAP+=(--symlink "$(readlink "/$d")" "/$d")
		elif [ -d "/$d" ]; then
			BWRAP+=(--ro-bind "/$d" "/$d")
		fi
	done
	BWRAP+=(--ro-bind /etc /etc --proc /proc --dev /dev --tmpfs /tmp --cap-drop ALL)
	ok "bwrap" "${BWRAP[@]}" /bin/true || HAVE_BWRAP=0
else
	note "bwrap is missing (or in BENCH_SKIP): no bwrap rows"
fi
# "${BPF10[@]}" CMD... runs CMD with the filter open on fd 10.
# shellcheck disable=SC2016 # expanded by that bash
BPF10=(bash -c 'exec "$@" 10<"$0"' "$T/docker.bpf")
HAVE_BWRAP_SC=0
if [ $HAVE_BWRAP = 1 ] && [ $HAVE_BPF = 1 ]; then
	ok "bwrap --seccomp" "${BPF10[@]}" \
		"${BWRAP[@]}" --seccomp 10 /bin/true && HAVE_BWRAP_SC=1
fi

# ---- crun ----
HAVE_CRUN=0
if ! have crun; then
	note "crun is missing (or in BENCH_SKIP): no crun rows"
elif [ ! -x /bin/busybox ]; then
	note "/bin/busybox (busybox-static) is missing: no crun rows"
else
	CRUN=$(command -v crun)
	mkdir -p "$T/crun/rootfs/bin" "$T/crun/state"
	cp /bin/busybox "$T/crun/rootfs/bin/busybox"
	ln -s busybox "$T/crun/rootfs/bin/true"
	ln -s busybox "$T/crun/rootfs/bin/sleep"
	mkdir "$T/crun/spec"
	if (cd "$T/crun/spec" && "$CRUN" spec) >"$T/pre.log" 2>&1; then
		for b in true true-seccomp sleep-seccomp; do
			mkdir "$T/crun/$b"
			cp "$T/crun/spec/config.json" "$T/crun/$b/"
		done
		"$PY" bench/benchlib.py oci-config "$T/crun/true/config.json" "$T/crun/rootfs" -- /bin/true &&
			"$PY" bench/benchlib.py oci-config "$T/crun/true-seccomp/config.json" "$T/crun/rootfs" \
				--seccomp bench/docker-profile.txt -- /bin/true &&
			"$PY" bench/benchlib.py oci-config "$T/crun/sleep-seccomp/config.json" "$T/crun/rootfs" \
				--seccomp bench/docker-profile.txt -- /bin/sleep 0.5 &&
			HAVE_CRUN=1
	else
		note "crun spec failed: no crun rows"
	fi
	CRUN_RUN=("$T/helper" idexec "$PFX" "$CRUN" --cgroup-manager=cgroupfs --root "$T/crun/state" run --bundle)
	if [ $HAVE_CRUN = 1 ]; then
		ok "crun run" "${CRUN_NS[@]}" "${CRUN_RUN[@]}" "$T/crun/true" @ID@ &&
			ok "crun run (seccomp)" "${CRUN_NS[@]}" "${CRUN_RUN[@]}" "$T/crun/true-seccomp" @ID@ ||
			HAVE_CRUN=0
	fi
fi

# ---- 1. start-to-exit latency ----
ok "ward run" "$WARD" run -- /bin/true || die "ward run -- /bin/true fails"
HAVE_WARD_USER=1
ok "ward run --allow security.user" "$WARD" run --allow security.user -- /bin/true || HAVE_WARD_USER=0

PER_ROUND=$(((RUNS + ROUNDS - 1) / ROUNDS))
HF=(hyperfine -N --style basic --warmup "$WARMUP" --runs "$PER_ROUND")
# bwrap --seccomp 10 reads fd 10 to its end, and every run shares hyperfine's
# open file: each run is prepared by a rewind (not timed).  The same prepare
# step runs before every command, so that all rows are measured alike.
if [ $HAVE_BWRAP_SC = 1 ]; then exec 10<"$T/docker.bpf"; else exec 10</dev/null; fi
cmds=(-n /bin/true /bin/true)
cmds+=(-n unshare "unshare -UrfpniumCT --mount-proc /bin/true")
[ $HAVE_BWRAP = 1 ] && cmds+=(-n bwrap "${BWRAP[*]} /bin/true")
[ $HAVE_BWRAP_SC = 1 ] && cmds+=(-n bwrap+seccomp "${BWRAP[*]} --seccomp 10 /bin/true")
cmds+=(-n ward "$WARD run -- /bin/true")
[ $HAVE_WARD_USER = 1 ] && cmds+=(-n "ward security.user" "$WARD run --allow security.user -- /bin/true")
# The same sandbox without the seccomp listener: what explaining denials costs
# a program that is never refused anything (issue 3's target: nothing).
cmds+=(-n "ward quiet-denials" "$WARD run --quiet-denials -- /bin/true")

echo "1. measuring start-to-exit latency ($ROUNDS rounds of $PER_ROUND runs of each command after $WARMUP warm-up runs) ..."
if [ $HAVE_CRUN = 1 ]; then
	# crun and a reference pair measured in the same private mount namespace:
	# "helper idexec /bin/true" - "/bin/true" is the cost of the id wrapper.
	ccmds=(-n "crun: /bin/true" /bin/true)
	ccmds+=(-n "crun: helper idexec /bin/true" "$T/helper idexec $PFX /bin/true @ID@")
	ccmds+=(-n crun "${CRUN_RUN[*]} $T/crun/true @ID@")
	ccmds+=(-n crun+seccomp "${CRUN_RUN[*]} $T/crun/true-seccomp @ID@")
fi
for ((r = 1; r <= ROUNDS; r++)); do
	bg "${HF[@]}" --prepare "$T/helper rewind 10" --export-json "$T/main-$r.json" "${cmds[@]}" \
		>"$T/main-$r.log" 2>&1 || {
		cat "$T/main-$r.log"
		die "hyperfine failed"
	}
	if [ $HAVE_CRUN = 1 ]; then
		bg "${CRUN_NS[@]}" "${HF[@]}" --export-json "$T/crun-$r.json" "${ccmds[@]}" \
			>"$T/crun-$r.log" 2>&1 || {
			cat "$T/crun-$r.log"
			note "hyperfine of crun failed: no crun rows"
			rm -f "$T"/crun-*.json
			HAVE_CRUN=0
		}
	fi
done
exec 10<&-

# ---- 2. per-call syscall cost ----
echo "2. measuring the cost of one system call ..."
per=$("$T/syscalls" 100000 1 | awk '$1 == "getppid" { print $2 }')
N=$CALLS
if [ -n "$per" ]; then
	fit=$(awk -v ms="$LOOP_MS" -v ns="$per" 'BEGIN { n = ms * 1e6 / ns; n = int(n / 10000) * 10000; if (n < 10000) n = 10000; print n }')
	[ "$fit" -lt "$N" ] && N=$fit
fi
echo "$N $CALLS ${per:-?}" >"$T/calls.txt"
sc_cfgs=(plain)
if ok "ward run (syscalls)" "$WARD" run --allow fs.exec="$T" -- "$T/syscalls" 1000 1; then
	sc_cfgs+=(ward)
	[ $HAVE_WARD_USER = 1 ] && sc_cfgs+=(ward-user)
fi
[ $HAVE_BWRAP_SC = 1 ] && sc_cfgs+=(bwrap-seccomp)
for ((r = 0; r < SC_REPS; r++)); do
	# Rounds over all configurations, so that a change of load hits them all.
	for c in "${sc_cfgs[@]}"; do
		case $c in
		plain) out=$("$T/syscalls" "$N" 1) ;;
		ward) out=$("$WARD" run --allow fs.exec="$T" -- "$T/syscalls" "$N" 1) ;;
		ward-user) out=$("$WARD" run --allow fs.exec="$T" --allow security.user -- "$T/syscalls" "$N" 1) ;;
		bwrap-seccomp) out=$("${BWRAP[@]}" --ro-bind "$T" "$T" --seccomp 10 "$T/syscalls" "$N" 1 10<"$T/docker.bpf") ;;
		esac || note "$c: syscalls failed"
		echo "$out" | awk -v c="$c" 'NF == 2 { print c, $1, $2 }' >>"$T/syscalls.txt"
	done
done

# ---- 3. peak RSS ----
echo "3. measuring peak RSS ..."
# "${MAXRSS[@]}" CMD... prints the "maximum resident set size" (kB) of CMD
# (the largest process of its tree), or nothing when CMD fails.
if [ -x /usr/bin/time ]; then
	# shellcheck disable=SC2016 # expanded by that sh
	MAXRSS=(sh -c '/usr/bin/time -v -o "$0" "$@" >/dev/null 2>&1 &&
		awk -F": " "/Maximum resident set size/ { print \$2 }" "$0"' "$T/tv.txt")
else
	note "/usr/bin/time is missing (package time): max RSS from wait4() instead"
	MAXRSS=("$T/helper" maxrss)
fi
RSS=("$PY" "$ROOT/bench/benchlib.py" rss --)
rss_line() {
	printf '%-34s %15s   %s\n' "$1" "${2:-failed}" "${3:-failed}" >>"$T/rss.txt"
}
rss_line "plain /bin/true" "$("${MAXRSS[@]}" /bin/true)" "-"
rss_line "ward run" "$("${MAXRSS[@]}" "$WARD" run -- /bin/true)" \
	"$("${RSS[@]}" "$WARD" run -- /bin/sleep 0.5)"
if [ $HAVE_BWRAP_SC = 1 ]; then
	rss_line "bwrap + seccomp" "$("${MAXRSS[@]}" "${BPF10[@]}" "${BWRAP[@]}" --seccomp 10 /bin/true)" \
		"$("${RSS[@]}" "${BPF10[@]}" "${BWRAP[@]}" --seccomp 10 /bin/sleep 0.5)"
fi
if [ $HAVE_CRUN = 1 ]; then
	rss_line "crun run + seccomp" \
		"$("${CRUN_NS[@]}" "${MAXRSS[@]}" "${CRUN_RUN[@]}" "$T/crun/true-seccomp" @ID@)" \
		"$("${CRUN_NS[@]}" "${RSS[@]}" "${CRUN_RUN[@]}" "$T/crun/sleep-seccomp" @ID@)"
fi

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
"$PY" bench/benchlib.py report "$T" || die "report failed"

# The subsystems' own benchmarks, each printing its table (and kept for the
# summary below).
for extra in oci broker remote net rootless attest net_rootless; do
	if [ -f "$ROOT/bench/$extra.sh" ]; then
		echo
		echo "== bench/$extra.sh =="
		bash "$ROOT/bench/$extra.sh" "$WARD" 2>&1 | tee "$T/$extra.out" ||
			note "bench/$extra.sh failed"
	fi
done

# Every figure of the README's table, from this one run.
echo
echo "== for the README (this run; load after: $(cut -d' ' -f1-3 /proc/loadavg)) =="
"$PY" bench/benchlib.py readme "$T" || note "the summary failed"
exit 0

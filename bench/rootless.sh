#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/rootless.sh: ward run by an ordinary user (docs/rootless.md).
#
#   start   start-to-exit of /bin/true run by the same ordinary user:
#           ward run (default sandbox, the user's delegated cgroups), and
#           bubblewrap with --unshare-all --die-with-parent --cap-drop ALL and
#           a Docker-size seccomp filter (bench/docker-profile.txt); target
#           ward <= 1.0x bwrap.  Root-mode ward in the same rounds, for scale.
#
# A user is made for the run (useradd, `ward delegate`) and removed at exit,
# also on failure, with everything in the temp dir.  Environment: WARD
# (default build/src/ward), RUNS (60 starts of each, in ROUNDS=3 rounds so
# that a change of load hits every row).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
WARD=$(realpath "${1:-${WARD:-$ROOT/build/src/ward}}")
RUNS=${RUNS:-60}
ROUNDS=${ROUNDS:-3}
U="wrb$$"

die() {
	echo "bench/rootless: $*" >&2
	exit 1
}
[ -x "$WARD" ] || die "$WARD is missing (build it first)"
[ "$(id -u)" = 0 ] || die "run as root (it makes a user to run as)"
for t in hyperfine bwrap cc runuser useradd; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/deps.sh)"
done

T=$(mktemp -d /var/tmp/wardbench-rl.XXXXXX) || die "cannot create a temp dir"
chmod 755 "$T"
cleanup() {
	local p
	for p in $(ps -o pid= -u "$U" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	"$WARD" delegate --undo "$U" >/dev/null 2>&1
	userdel -r -f "$U" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

useradd -m -s /bin/sh -U "$U" || die "useradd failed"
"$WARD" delegate "$U" >/dev/null || die "ward delegate failed"
cc -O2 -static -o "$T/helper" bench/helper.c || die "cannot build bench/helper.c"
cc -O2 -o "$T/mkfilter" bench/mkfilter.c -lseccomp || die "cannot build bench/mkfilter.c"
"$T/mkfilter" bench/docker-profile.txt "$T/docker.bpf" >/dev/null || die "mkfilter failed"
chmod 644 "$T/docker.bpf"
mkdir "$T/out" && chown "$U:$U" "$T/out" # the user's hyperfine writes its results here

BWRAP="bwrap --unshare-all --die-with-parent --new-session --ro-bind /usr /usr"
for d in bin sbin lib lib32 lib64 libx32; do
	if [ -L "/$d" ]; then
		BWRAP="$BWRAP --symlink $(readlink "/$d") /$d"
	elif [ -d "/$d" ]; then
		BWRAP="$BWRAP --ro-bind /$d /$d"
	fi
done
BWRAP="$BWRAP --ro-bind /etc /etc --proc /proc --dev /dev --tmpfs /tmp --cap-drop ALL --seccomp 10"
as_user() { runuser -u "$U" -- env -u XDG_RUNTIME_DIR HOME="/home/$U" "$@"; }

as_user "$WARD" run -- /bin/true || die "rootless ward run -- /bin/true fails"
as_user bash -c "exec 10<$T/docker.bpf; $BWRAP /bin/true" || die "rootless bwrap fails"

PER=$(((RUNS + ROUNDS - 1) / ROUNDS))
for ((r = 1; r <= ROUNDS; r++)); do
	# The user's rows, by the user; bwrap reads fd 10 to its end, so every
	# run is prepared by a rewind (not timed), for every row alike.
	as_user bash -c "exec 10<$T/docker.bpf; exec hyperfine -N --style none --warmup 3 \
		--runs $PER --prepare '$T/helper rewind 10' --export-json $T/out/user-$r.json \
		-n 'ward (rootless)' '$WARD run -- /bin/true' \
		-n 'bwrap+seccomp (rootless)' '$BWRAP /bin/true'" >/dev/null 2>"$T/err" ||
		{
			cat "$T/err"
			die "hyperfine failed"
		}
	hyperfine -N --style none --warmup 3 --runs "$PER" --export-json "$T/root-$r.json" \
		-n "ward (root)" "$WARD run -- /bin/true" >/dev/null 2>&1 || die "hyperfine (root) failed"
done

/usr/bin/python3 - "$T" <<'EOF'
import glob, json, statistics, sys
t = sys.argv[1]
times = {}
for f in sorted(glob.glob(t + "/*.json") + glob.glob(t + "/out/*.json")):
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
print("rootless start to exit of /bin/true, run by the same ordinary user (medians):")
for k in ("bwrap+seccomp (rootless)", "ward (rootless)", "ward (root)"):
    if k in med:
        print(f"  {k:28s} {med[k]:7.2f} ms  ({len(times[k])} runs)")
b, w = med.get("bwrap+seccomp (rootless)"), med.get("ward (rootless)")
if b and w:
    print(f"  ward / bwrap: {w / b:.2f}x (target <= 1.0x): {'met' if w <= b else 'NOT met'}")
EOF

#!/bin/bash
# What each layer adds to a start, measured by taking it away: builds HEAD
# in a scratch worktree with bench/ablate.patch applied (environment switches
# that skip the Landlock, seccomp and cgroup layers and the cgroup scan; they
# exist only in that scratch build, never in ward), then times the default
# sandbox with the layers removed one by one against the unshare floor,
# interleaved (bench/interleave.py).  Usage: bench/ablate.sh [ROUNDS]
# (default 300).  Run as root on an idle machine; docs/bench.md, "Sixth pass".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-300}
tmp=$(mktemp -d /var/tmp/ward-ablate.XXXXXX)
cleanup() {
	git -C "$here" worktree remove --force "$tmp/src" >/dev/null 2>&1 || true
	rm -rf "$tmp"
	git -C "$here" worktree prune
}
trap cleanup EXIT
git -C "$here" worktree add --detach "$tmp/src" HEAD >/dev/null
if ! git -C "$tmp/src" apply "$here/bench/ablate.patch"; then
	echo "bench/ablate.sh: bench/ablate.patch no longer applies to lib/launch.c; update it" >&2
	exit 1
fi
meson setup "$tmp/build" "$tmp/src" --buildtype=debugoptimized >/dev/null
ninja -C "$tmp/build" src/ward >/dev/null
w=$tmp/build/src/ward
# NAME=VALUE words at the start of a command go to its environment
# (bench/interleave.py), without an extra exec.
python3 "$here/bench/interleave.py" "$rounds" \
	"$w run -- /bin/true" \
	"$w run --quiet-denials -- /bin/true" \
	"WARD_ABLATE_SECCOMP=1 $w run --quiet-denials -- /bin/true" \
	"WARD_ABLATE_CGROUPS=1 $w run --quiet-denials -- /bin/true" \
	"WARD_ABLATE_SECCOMP=1 WARD_ABLATE_CGROUPS=1 $w run --quiet-denials -- /bin/true" \
	"WARD_ABLATE_SECCOMP=1 WARD_ABLATE_CGROUPS=1 WARD_ABLATE_LANDLOCK=1 WARD_ABLATE_CGROUP_GC=1 $w run --quiet-denials -- /bin/true" \
	"/usr/bin/unshare -Urmnpiuf --mount-proc /bin/true"

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the libFuzzer targets (clang, ASan+UBSan) and run each one.
#
#   tests/fuzz/run.sh                  10 s per target (make check)
#   FUZZ_TIME=600 tests/fuzz/run.sh    longer (make fuzz uses 300)
#   tests/fuzz/run.sh manifest tar     only these targets
#   FUZZ_TIME=0 tests/fuzz/run.sh      build and replay the regressions only
#
# Targets: every tests/fuzz/fuzz_<target>.c.  manifest (bundle manifest and
# entitlement parser, round trip), minisign (keys, signatures), trust (policy
# file, patterns, decision), tar (a .ward file: open, then extract into a
# scratch directory), broker (the broker's message decoder; seeds in
# tests/broker/corpus), space (space files), oci (an OCI config.json, bounded
# by its entitlements annotation, its seccomp profile compiled), oci_seccomp
# (an OCI or Docker seccomp profile on its own, compiled), attest (what a
# verifier reads from the host it attests: the measurement log, a software
# quote; the escaping of event values).
#
# The whole of lib/ is compiled once into $FUZZ_BUILD/libward-fuzz.a
# (default build-fuzz/), so a target may call anything of libward.
#
# Regressions: every file in tests/fuzz/regressions/<target>/ is replayed
# first and must pass; the script prints "N regression inputs replayed".
# A crash, leak, timeout or out-of-memory found while fuzzing is copied
# there automatically (named <kind>-<sha1>), so that the next run replays
# it: commit it together with the fix.  The corpus grows in
# $FUZZ_BUILD/corpus/<target>.
set -eu
cd "$(dirname "$0")/../.."

TIME=${FUZZ_TIME:-10}
OUT=${FUZZ_BUILD:-build-fuzz}
CC=${FUZZ_CC:-clang}
if [ $# -gt 0 ]; then
	TARGETS=$*
else
	TARGETS=$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)
fi

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz: $CC not found (apt-get install clang)" >&2
	exit 1
fi

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
COMMON="-g -O1 -std=gnu11 -Ilib -D_FILE_OFFSET_BITS=64 -DWARD_VERSION=\"fuzz\" $SAN"
LIBS="-lseccomp -ljansson -lsodium"

# ---- libward, once, for every target ----
mkdir -p "$OUT/obj" "$OUT/corpus" "$OUT/artifacts"
lib="$OUT/libward-fuzz.a"
# A header newer than the library: everything is recompiled.
if [ -f "$lib" ] && [ -n "$(find lib -name '*.h' -newer "$lib" | head -1)" ]; then
	rm -f "$OUT"/obj/*.o
fi
objs=""
todo=""
for src in $(find lib -name '*.c' | sort); do
	obj="$OUT/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
	objs="$objs $obj"
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
		todo="$todo $src"
	fi
done
# Compiled in parallel (one job a CPU): on a fresh machine this is every
# file of libward with ASan, the longest part of a short fuzz run.
if [ -n "$todo" ]; then
	export CC COMMON OUT
	# shellcheck disable=SC2016,SC2086
	if ! printf '%s\n' $todo | xargs -P "$(nproc)" -I{} sh -c '
		src={}; obj="$OUT/obj/$(echo "$src" | tr / _ | sed "s/\.c\$/.o/")"
		$CC $COMMON -fsanitize=fuzzer-no-link -c "$src" -o "$obj" 2>"$obj.log" ||
			{ echo "fuzz: compiling $src failed:" >&2; cat "$obj.log" >&2; rm -f "$obj"; exit 255; }
		rm -f "$obj.log"'; then
		exit 1
	fi
fi
# Objects of sources that are gone must not stay in the archive.
rm -f "$lib"
# shellcheck disable=SC2086
ar rcs "$lib" $objs

status=0
for t in $TARGETS; do
	src="tests/fuzz/fuzz_$t.c"
	if [ ! -f "$src" ]; then
		echo "fuzz: no target $t ($src)" >&2
		status=1
		continue
	fi
	bin="$OUT/fuzz_$t"
	corpus="$OUT/corpus/$t"
	seeds="tests/fuzz/seeds/$t"
	[ "$t" = broker ] && seeds="tests/broker/corpus"
	regress="tests/fuzz/regressions/$t"
	art="$OUT/artifacts/$t"
	mkdir -p "$corpus" "$art"
	# shellcheck disable=SC2086
	if ! $CC $COMMON -fsanitize=fuzzer "$src" "$lib" $LIBS -o "$bin" 2>"$OUT/build-$t.log"; then
		echo "fuzz: building fuzz_$t failed:" >&2
		cat "$OUT/build-$t.log" >&2
		exit 1
	fi
	dict=""
	[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"

	# Known crashers first: each must now pass.
	n=0
	[ -d "$regress" ] && n=$(find "$regress" -type f | wc -l)
	if [ "$n" -gt 0 ]; then
		if ! "$bin" -timeout=10 -rss_limit_mb=2048 $(find "$regress" -type f | sort) \
			>"$OUT/regress-$t.log" 2>&1; then
			echo "fuzz: fuzz_$t: a regression input of $regress fails again:" >&2
			grep -E "Running:|ERROR|SUMMARY|runtime error" "$OUT/regress-$t.log" | tail -8 >&2
			status=1
			continue
		fi
	fi
	echo "fuzz: fuzz_$t: $n regression inputs replayed, no crash"
	[ "$TIME" -gt 0 ] || continue

	[ -d "$seeds" ] || seeds=""
	rm -f "$art"/*
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$TIME" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$art/" $dict \
		"$corpus" $seeds >"$OUT/fuzz-$t.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/fuzz-$t.log")
		echo "fuzz: fuzz_$t: ${runs:-?} inputs in ${TIME}s, no crash"
	else
		echo "fuzz: fuzz_$t: CRASH" >&2
		grep -E "ERROR|SUMMARY|runtime error" "$OUT/fuzz-$t.log" | head -5 >&2
		# Keep what it found as a regression input, named by content.
		mkdir -p "$regress"
		for a in "$art"/*; do
			[ -f "$a" ] || continue
			kind=$(basename "$a" | sed 's/-.*//')
			sum=$(sha1sum "$a" | cut -c1-40)
			cp "$a" "$regress/$kind-$sum"
			echo "fuzz: fuzz_$t: saved as $regress/$kind-$sum (replayed from now on;" \
				"commit it with the fix)" >&2
		done
		status=1
	fi
done
exit $status

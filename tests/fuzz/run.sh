#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the libFuzzer targets of the bundle parsers with clang (ASan+UBSan)
# and run each one.
#
#   tests/fuzz/run.sh              10 s per target (make check)
#   FUZZ_TIME=600 tests/fuzz/run.sh   longer (make fuzz uses 300)
#   tests/fuzz/run.sh manifest tar    only these targets
#
# Targets: manifest (bundle manifest + entitlement parser), minisign (keys,
# signatures), trust (policy file, patterns, decision), tar (a .ward file as
# ward reads it before trusting anything), broker (the broker's message
# decoder; seeds in tests/broker/corpus), space (space files, ward up), oci
# (an OCI config.json, bounded by its entitlements annotation, its seccomp
# profile compiled).
# The corpus grows in $FUZZ_BUILD/corpus (default build-fuzz/); a crash is saved there as
# crash-<target>-*, the script fails, and the input belongs in
# tests/fuzz/regressions/<target>/ (replayed on every run) once fixed.
set -eu
cd "$(dirname "$0")/../.."

TIME=${FUZZ_TIME:-10}
OUT=${FUZZ_BUILD:-build-fuzz}
CC=${FUZZ_CC:-clang}
TARGETS=${*:-manifest minisign trust tar broker space oci}

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz: $CC not found (apt-get install clang)" >&2
	exit 1
fi

SRCS="lib/bundle/minisign.c lib/bundle/format.c lib/bundle/trust.c lib/bundle/tar.c
lib/bundle/tree.c lib/bundle/extract.c lib/bundle/edit.c
lib/entitlements/table.c lib/entitlements/parse.c lib/entitlements/resolve.c
lib/seccomp/groups.c lib/policy.c lib/util.c lib/error.c"
# The broker's wire decoder (issue 6).
[ -f lib/broker/proto.c ] && SRCS="$SRCS lib/broker/proto.c"
# The space file parser (ward up).
[ -f lib/space/space.c ] && SRCS="$SRCS lib/space/space.c"
# The OCI runtime's parsers and bounding (fuzz_oci only).
OCI_SRCS="lib/oci/config.c lib/oci/entitle.c lib/oci/entitle_fs.c lib/oci/seccomp_oci.c
lib/oci/log.c lib/oci/spec.c lib/caps.c -DWARD_VERSION=\"fuzz\" -ljansson -lseccomp"
CFLAGS="-g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
-fno-omit-frame-pointer -Ilib"

mkdir -p "$OUT"
status=0
for t in $TARGETS; do
	[ -f "tests/fuzz/fuzz_$t.c" ] || continue
	bin="$OUT/fuzz_$t"
	corpus="$OUT/corpus/$t"
	seeds="tests/fuzz/seeds/$t"
	[ "$t" = broker ] && seeds="tests/broker/corpus"
	mkdir -p "$corpus"
	# shellcheck disable=SC2086
	extra=""
	[ "$t" = oci ] && extra=$OCI_SRCS
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS "tests/fuzz/fuzz_$t.c" $SRCS $extra -lsodium -o "$bin" 2>"$OUT/build-$t.log"; then
		echo "fuzz: building fuzz_$t failed:" >&2
		cat "$OUT/build-$t.log" >&2
		exit 1
	fi
	dict=""
	[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
	# Known crashers first: each must now pass.
	if [ -d "tests/fuzz/regressions/$t" ] && [ -n "$(ls -A "tests/fuzz/regressions/$t")" ]; then
		if ! "$bin" "tests/fuzz/regressions/$t"/* >"$OUT/regress-$t.log" 2>&1; then
			echo "fuzz: fuzz_$t: a regression input crashes again:" >&2
			tail -40 "$OUT/regress-$t.log" >&2
			status=1
			continue
		fi
	fi
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$TIME" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$OUT/crash-$t-" $dict \
		"$corpus" "$seeds" >"$OUT/fuzz-$t.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/fuzz-$t.log")
		echo "fuzz: fuzz_$t: ${runs:-?} inputs in ${TIME}s, no crash"
	else
		echo "fuzz: fuzz_$t: CRASH (input saved as $OUT/crash-$t-*)" >&2
		grep -E "ERROR|SUMMARY|runtime error" "$OUT/fuzz-$t.log" | head -5 >&2
		status=1
	fi
done
exit $status

#!/bin/bash
# test_fuzz_short.sh - a short fuzzing pass as part of `make test`: builds
# the libFuzzer targets (mk/fuzz.mk) into $FUZZ_BUILD (default: $BUILD
# with "-fuzz" appended, so build -> build-fuzz), replays every input of
# fuzz/regressions/, then fuzzes each target for FUZZ_SECONDS (default 10).
# Skips when clang cannot build fuzzers; BW_FUZZ=0 skips it outright.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
FUZZ_BUILD=${FUZZ_BUILD:-${BUILD%/}-fuzz}

if [ "${BW_FUZZ:-1}" = 0 ]; then
	echo "ok 1 # SKIP BW_FUZZ=0"; echo "1..1"; exit 0
fi
if ! command -v clang >/dev/null 2>&1; then
	echo "ok 1 # SKIP clang not installed (scripts/deps.sh fuzz)"; echo "1..1"; exit 0
fi
log=$(mktemp)
if ! make -s --no-print-directory BUILD="$BUILD" FUZZ_BUILD="$FUZZ_BUILD" fuzz-build >"$log" 2>&1; then
	echo "not ok 1 - fuzz targets build into $FUZZ_BUILD"
	tail -20 "$log" | sed 's/^/#   /'
	rm -f "$log"
	echo "1..1"
	exit 1
fi
rm -f "$log"
FUZZ_BUILD="$FUZZ_BUILD" FUZZ_SECONDS=${FUZZ_SECONDS:-10} BW_SHARED=${BW_SHARED:-../shared} fuzz/run.sh

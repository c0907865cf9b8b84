#!/bin/bash
# run.sh - replay the regression inputs and fuzz each target for a while.
#
# Usage: FUZZ_BUILD=build-fuzz FUZZ_SECONDS=60 fuzz/run.sh [TARGET...]
# (targets: text email form tpl ip; default all). The binaries must exist
# (make fuzz-build). Prints TAP, two lines per target: the replay of
# fuzz/regressions/TARGET/ and the timed run. Seeds are regenerated into
# $FUZZ_BUILD/seeds; the corpus grows in $FUZZ_BUILD/corpus (kept between
# runs); a crash is saved in $FUZZ_BUILD/crashes/TARGET/ and named in the
# output. Exit status 0 when no target crashed.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(text email form tpl ip)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/fuzz/lsan.supp:print_suppressions=0}
export BOUNCEWHY_CACHE=${BOUNCEWHY_CACHE:-$root/$FUZZ_BUILD/cache}
mkdir -p "$BOUNCEWHY_CACHE"

rm -rf "$FUZZ_BUILD/seeds"
fuzz/seeds.sh "$FUZZ_BUILD/seeds"

n=0 failed=0
tap() { # STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

for t in "${targets[@]}"; do
	bin="$FUZZ_BUILD/fuzz/fuzz_$t"
	log="$FUZZ_BUILD/logs/$t.log"
	mkdir -p "$FUZZ_BUILD/logs" "$FUZZ_BUILD/corpus/$t" "$FUZZ_BUILD/crashes/$t"
	if [ ! -x "$bin" ]; then
		tap 1 "fuzz_$t: built ($bin missing; run make fuzz-build)"
		continue
	fi
	case $t in
	email) maxlen=65536 ;;
	text) maxlen=16384 ;;
	*) maxlen=4096 ;;
	esac

	# Every input that once crashed a target is run again, every time.
	regs=()
	if [ -d "fuzz/regressions/$t" ]; then
		while IFS= read -r f; do regs+=("$f"); done < <(find "fuzz/regressions/$t" -type f ! -name '*.md' | sort)
	fi
	if [ ${#regs[@]} -gt 0 ]; then
		"$bin" -timeout=20 -rss_limit_mb=2560 "${regs[@]}" >"$log.replay" 2>&1
		rc=$?
		tap $rc "fuzz_$t: ${#regs[@]} regression inputs replay without a crash"
		[ $rc -ne 0 ] && grep -E 'ERROR|runtime error|Running:' "$log.replay" | tail -5 | sed 's/^/#   /'
	else
		tap 0 "fuzz_$t: no regression inputs yet"
	fi

	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=20 -rss_limit_mb=2560 -max_len=$maxlen \
		-print_final_stats=1 -artifact_prefix="$FUZZ_BUILD/crashes/$t/" \
		"$FUZZ_BUILD/corpus/$t" "$FUZZ_BUILD/seeds/$t" >"$log" 2>&1
	rc=$?
	runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 || true)
	tap $rc "fuzz_$t: ${FUZZ_SECONDS}s, $runs runs, ${cov:-cov: ?}, no crash"
	if [ $rc -ne 0 ]; then
		grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -8 | sed 's/^/#   /'
		echo "#   log: $log"
	fi
done
echo "1..$n"
[ $failed -eq 0 ]

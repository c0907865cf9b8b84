#!/bin/bash
# run.sh - run every test suite of bouncewhy and print one closing line.
#
# Each suite prints TAP; its output is kept in $BUILD/test-output/NAME.log
# and summed here. A suite that exits non-zero without a failing test line
# counts as one failure. Exit status: 0 when nothing failed.
#
# BUILD (default build), BW_SHARED (default ../shared), BW_SUITES (a regex
# of suite names to run, default all).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export BUILD=${BUILD:-build}
export BW_SHARED=${BW_SHARED:-../shared}
out="$BUILD/test-output"
mkdir -p "$out"
total_pass=0 total_fail=0 total_skip=0
failed_suites=()

suite() {
	local name=$1
	shift
	if [ -n "${BW_SUITES:-}" ] && ! [[ $name =~ $BW_SUITES ]]; then
		return
	fi
	local log="$out/$name.log" start=$SECONDS rc
	mkdir -p "$(dirname "$log")"
	CMOCKA_MESSAGE_OUTPUT=TAP "$@" >"$log" 2>&1 </dev/null
	rc=$?
	local p f s
	p=$(grep -cE '^ok [0-9]+|^ok -|^ok$' "$log" || true)
	s=$(grep -cE '^ok .*# *(SKIP|skip)' "$log" || true)
	f=$(grep -cE '^not ok' "$log" || true)
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - suite $name exited with status $rc" >>"$log"
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	printf '%-28s %4d passed, %3d failed, %3d skipped  (%ds)\n' "$name" "$p" "$f" "$s" $((SECONDS - start))
	if [ "$f" -gt 0 ]; then
		failed_suites+=("$name")
		grep -E '^not ok|^# ' "$log" | grep -vE '^# (ok|PASS)' | head -20 | sed 's/^/    /'
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	suite "unit/$(basename "$t")" "$t"
done
suite rules/examples "$BUILD/bouncewhy" check-rules
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	suite "integration/$(basename "$t" .sh)" bash "$t"
done
if [ -f tests/browser/run.sh ]; then
	suite browser bash tests/browser/run.sh
fi
if [ -f tests/eval/eval.sh ]; then
	suite eval/corpus bash tests/eval/eval.sh --tap
fi

echo
if [ ${#failed_suites[@]} -gt 0 ]; then
	echo "failing suites: ${failed_suites[*]} (logs in $out)"
fi
echo "${total_pass} passed, ${total_fail} failed, ${total_skip} skipped"
[ "$total_fail" -eq 0 ]

#!/bin/bash
# test_asan.sh - the unit tests and the API and hostile-input integration
# tests again, built with -fsanitize=address,undefined (mk/asan.mk).
#
# Builds into $ASAN_BUILD (default: $BUILD with "-asan" appended, so
# build -> build-asan) unless BW_ASAN_NO_BUILD=1, runs tests/run.sh there
# with ASAN_SUITES (default: unit tests, rule examples, test_api,
# test_hostile), and prints one TAP line per suite plus one for the
# sanitizer logs: every process, bouncewhy-fcgi included, writes its
# reports to $ASAN_BUILD/sanitizer/, and any report there is a failure.
# BW_ASAN=0 skips all of it.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-${BUILD%/}-asan}
ASAN_SUITES=${ASAN_SUITES:-^(unit/|rules/|integration/test_(api|hostile)$)}
n=0 failed=0
tap() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }

if [ "${BW_ASAN:-1}" = 0 ]; then
	echo "ok 1 # SKIP BW_ASAN=0"; echo "1..1"; exit 0
fi
if [ "${BW_ASAN_NO_BUILD:-0}" != 1 ]; then
	make -s --no-print-directory BUILD="$BUILD" ASAN_BUILD="$ASAN_BUILD" asan-build >"/tmp/asan-build.$$.log" 2>&1
	rc=$?
	tap $rc "sanitizer build into $ASAN_BUILD"
	if [ $rc -ne 0 ]; then
		tail -20 "/tmp/asan-build.$$.log" | sed 's/^/#   /'
		rm -f "/tmp/asan-build.$$.log"
		echo "1..$n"; exit 1
	fi
	rm -f "/tmp/asan-build.$$.log"
fi

logs="$root/$ASAN_BUILD/sanitizer"
rm -rf "$logs"
mkdir -p "$logs"
chmod 1777 "$logs"	# bouncewhy-fcgi writes here after dropping to nobody
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$logs/asan:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"
export LSAN_OPTIONS="suppressions=$root/fuzz/lsan.supp:print_suppressions=0"
# GLib allocates through its slice allocator unless told otherwise, which
# hides its leaks and uses from ASan.
export G_SLICE=always-malloc G_DEBUG=gc-friendly

out=$(BUILD="$ASAN_BUILD" BW_SUITES="$ASAN_SUITES" tests/run.sh 2>&1)
while IFS= read -r line; do
	if [[ $line =~ ^([^ ]+)\ +([0-9]+)\ passed,\ +([0-9]+)\ failed,\ +([0-9]+)\ skipped ]]; then
		tap $((BASH_REMATCH[3] > 0)) "asan ${BASH_REMATCH[1]}: ${BASH_REMATCH[2]} passed, ${BASH_REMATCH[3]} failed, ${BASH_REMATCH[4]} skipped"
	elif [[ $line =~ ^\ +(not\ ok.*) ]]; then
		echo "#   ${BASH_REMATCH[1]}"
	fi
done <<<"$out"
[ $n -gt 0 ] || tap 1 "asan: tests/run.sh ran suites"

reports=$(grep -lE 'Sanitizer|runtime error:' "$logs"/* 2>/dev/null)
tap $([ -z "$reports" ]; echo $?) "no sanitizer reports from any process"
for f in $reports; do
	echo "#   $f:"
	grep -E 'ERROR|runtime error|SUMMARY|^    #[0-9] ' "$f" | head -12 | sed 's/^/#     /'
done
echo "1..$n"
[ $failed -eq 0 ]

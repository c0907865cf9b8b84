#!/bin/bash
# test_lines.sh - one-line bounces (hand-written ones, and the wordings that
# providers and mail software document for their replies) and what each must
# classify to.
#
# Reads tests/cases/lines.tsv (columns: text, reason, temporary true/false/-,
# blocklist id or -; the first line is a header) and runs every text through
# `$BUILD/bouncewhy explain --line`, one case per line. Each case is one TAP
# line; a failing case prints what came back and the rule that matched.
#
# Needs jq and $BUILD/bouncewhy (skips without them). BOUNCEWHY_RULES may
# point at another rules folder; by default the project's rules/ is used.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD="$root/$BUILD" ;; esac
cases="$root/tests/cases/lines.tsv"
cli="$BUILD/bouncewhy"
export BOUNCEWHY_RULES=${BOUNCEWHY_RULES:-$root/rules}

if ! command -v jq >/dev/null; then
	echo "1..1"
	echo "ok 1 # SKIP jq is not installed"
	exit 0
fi
if [ ! -x "$cli" ]; then
	echo "1..1"
	echo "ok 1 # SKIP $cli is not built"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tail -n +2 "$cases" >"$tmp/cases"
cut -f1 "$tmp/cases" >"$tmp/texts"
"$cli" explain --line <"$tmp/texts" >"$tmp/out" 2>"$tmp/err"
rc=$?
# explain exits 1 when some line holds no bounce; only 2 is an error.
if [ "$rc" -ge 2 ]; then
	echo "1..1"
	echo "not ok 1 - bouncewhy explain --line exited with status $rc"
	sed 's/^/#   /' "$tmp/err" | head -20
	exit 1
fi
# One summary line per case: reason, temporary, blocklist id, rule.
jq -r '(.findings[0] // {}) as $f
	| [($f.reason // "(none)"),
	   (if $f.temporary == null then "-" else ($f.temporary | tostring) end),
	   ($f.blocklist.id // "-"),
	   ($f.matched.rule // ("(" + ($f.source // "none") + ")"))] | @tsv' \
	"$tmp/out" >"$tmp/got"

want_n=$(wc -l <"$tmp/cases")
got_n=$(wc -l <"$tmp/got")
n=0
failed=0
if [ "$want_n" -ne "$got_n" ]; then
	n=1
	failed=1
	echo "not ok 1 - one answer per case ($got_n answers for $want_n cases)"
fi
while IFS=$'\t' read -r text reason temp bl && IFS=$'\t' read -r g_reason g_temp g_bl g_rule <&3; do
	n=$((n + 1))
	bad=""
	[ "$g_reason" = "$reason" ] || bad="reason $g_reason, want $reason"
	if [ "$temp" != "-" ] && [ "$g_temp" != "$temp" ]; then
		bad="${bad:+$bad; }temporary $g_temp, want $temp"
	fi
	if [ "$bl" != "-" ] && [ "$g_bl" != "$bl" ]; then
		bad="${bad:+$bad; }blocklist $g_bl, want $bl"
	fi
	name="$reason: ${text:0:90}"
	if [ -z "$bad" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "#   $bad (rule $g_rule)"
		failed=$((failed + 1))
	fi
done <"$tmp/cases" 3<"$tmp/got"
echo "1..$n"
[ "$failed" -eq 0 ]

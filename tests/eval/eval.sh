#!/bin/sh
# eval.sh - score bouncewhy on the shared corpus of real bounce emails.
#
#   tests/eval/eval.sh [--corpus DIR] [--labels FILE] [--floor REASON_PCT,STATUS_PCT]
#
# Environment: BUILD (the build folder holding bouncewhy, default build),
# BW_SHARED (the shared data, default ../shared), CORPUS and LABELS (instead
# of the options). Prints TAP; see eval.js for what is checked. Default
# floor: 85,95 (the target is 97,95).
here=$(dirname "$0")
if ! command -v node >/dev/null 2>&1; then
	echo "1..1"
	echo "ok 1 # SKIP node is not installed"
	exit 0
fi
# The floor is the agreement reached so far (rounded down), so that a change
# that loses agreement fails `make test`; raise it as agreement grows, never
# lower it. A --floor given on the command line comes later and wins.
exec node "$here/eval.js" --floor 85,95 "$@"

#!/bin/sh
# eval.sh - score bouncewhy on the shared corpus of real bounce emails.
#
#   tests/eval/eval.sh [--corpus DIR] [--labels FILE] [--floor REASON_PCT,STATUS_PCT]
#
# Environment: BUILD (the build folder holding bouncewhy, default build),
# BW_SHARED (the shared data, default ../shared), CORPUS and LABELS (instead
# of the options). Prints TAP; see eval.js for what is checked.
here=$(dirname "$0")
if ! command -v node >/dev/null 2>&1; then
	echo "1..1"
	echo "ok 1 # SKIP node is not installed"
	exit 0
fi
exec node "$here/eval.js" "$@"

#!/bin/bash
# test_lib.sh - the test harness itself: bw_stack_start stops its stack on
# exit and keeps the caller's own EXIT trap (a script that sets a trap
# before starting the stack must neither leak nginx nor lose its cleanup).
source "$(dirname "$0")/lib.sh"

out=$(mktemp)
bash -c '
	source "'"$BW_ROOT"'/tests/integration/lib.sh"
	trap "echo caller-cleanup-ran" EXIT
	bw_stack_start libcheck >/dev/null || exit 3
	echo "pids $BW_NGINX_PID $BW_FCGI_PID"
' >"$out" 2>&1
rc=$?
is "$rc" 0 "a script with its own EXIT trap starts the stack and exits 0"
like "$(cat "$out")" "caller-cleanup-ran" "the caller's EXIT trap still runs"
pids=$(sed -n 's/^pids //p' "$out")
sleep 0.3
alive=0
for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
is "$alive" 0 "nginx and bouncewhy-fcgi are stopped on exit"
rm -f "$out"
done_testing

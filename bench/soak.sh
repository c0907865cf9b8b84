#!/bin/bash
# soak.sh - a steady mixed load on the whole stack, watching for failures
# and for memory that grows.
#
# wrk sends, for SOAK_SECONDS (default 90), a rotation of requests: explain
# with several bounces (one line, a DSN email, a JSON body, a long input),
# /healthz and the reasons list. After SOAK_WARMUP seconds (default
# 15: caches and allocator arenas filled) the RSS of bouncewhy-fcgi is
# noted; at the end it is noted again. Prints TAP: no socket errors, no
# non-2xx answer, RSS growth
# under SOAK_MAX_GROWTH_KB (default 1024).
#
# Environment: BUILD (default build), SOAK_SECONDS, SOAK_WARMUP,
# SOAK_CONNECTIONS (default 16).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-build}
source "$here/tests/integration/lib.sh"
total=${SOAK_SECONDS:-90}
warm=${SOAK_WARMUP:-15}
conns=${SOAK_CONNECTIONS:-16}
maxkb=${SOAK_MAX_GROWTH_KB:-1024}

if ! command -v wrk >/dev/null 2>&1; then
	skip "wrk is not installed (Debian package wrk)"
	done_testing
	exit 0
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'bw_stack_stop; rm -rf "$tmp"' EXIT
bw_stack_start soak || { echo "not ok 1 - stack starts"; exit 1; }
ok 0 "stack starts on port $BW_PORT"

cat >"$tmp/mix.lua" <<'LUA'
-- A rotation of requests; every one must answer 2xx.
local email = "From: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered Mail Returned to Sender\r\n" ..
  "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" ..
  "--b\r\nContent-Type: text/plain\r\n\r\n<bob@example.org>: host mx.example.org said: 552 5.2.2 Mailbox full\r\n" ..
  "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n" ..
  "Final-Recipient: rfc822; bob@example.org\r\nAction: failed\r\nStatus: 5.2.2\r\n" ..
  "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n--b--\r\n"
local long = string.rep("Received: from relay.example.net by mx.example.org; queue id 4AB2C ", 400) ..
  "\n550 5.7.1 Message rejected as spam by Content Filtering."
local reqs
-- Built in init: wrk.format takes the Host header from wrk.headers, which
-- is filled only once the thread is set up.
init = function(args)
reqs = {
  wrk.format("POST", "/api/v1/explain", {["Content-Type"] = "text/plain"}, "451 Bad reverse DNS."),
  wrk.format("POST", "/api/v1/explain", {["Content-Type"] = "message/rfc822"}, email),
  wrk.format("POST", "/api/v1/explain", {["Content-Type"] = "application/json"},
    '{"text": "553 User defined policy matched for 192.0.2.1", "audience": "admin"}'),
  wrk.format("POST", "/api/v1/explain", {["Content-Type"] = "text/plain"}, long),
  wrk.format("POST", "/api/v1/explain", {["Content-Type"] = "text/plain"},
    "blocked using b.barracudacentral.org; https://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1"),
  wrk.format("GET", "/healthz"),
  wrk.format("GET", "/api/v1/reasons"),
}
end
local i = 0
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
LUA

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$BW_FCGI_PID/status"; }
wrk -t2 -c"$conns" -d"${total}s" --timeout 10s -s "$tmp/mix.lua" "$BW_URL" >"$tmp/wrk.out" 2>&1 &
wrk_pid=$!
sleep "$warm"
rss0=$(rss)
samples="$rss0"
while kill -0 $wrk_pid 2>/dev/null; do
	sleep 5
	kill -0 "$BW_FCGI_PID" 2>/dev/null && samples="$samples $(rss)"
done
wait $wrk_pid
rss1=$(rss)
reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
rps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' "$tmp/wrk.out")
non2xx=$(awk '/Non-2xx/ { print $NF }' "$tmp/wrk.out")
errs=$(awk '/Socket errors/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$tmp/wrk.out")
echo "# ${total}s, $conns connections: ${reqs:-?} requests, ${rps:-?} req/s"
echo "# RSS of bouncewhy-fcgi (KiB), every 5 s after ${warm}s of warm-up: $samples $rss1"
ok $([ -n "$reqs" ] && [ "${reqs:-0}" -gt 0 ]; echo $?) "wrk ran (${reqs:-0} requests)"
is "${non2xx:-0}" 0 "no non-2xx answer"
is "${errs:-0}" 0 "no socket errors (connect, read, write, timeout)"
growth=$((rss1 - rss0))
ok $([ "$growth" -lt "$maxkb" ]; echo $?) "RSS grew by ${growth} KiB after warm-up (limit ${maxkb} KiB; $rss0 -> $rss1)"
kill -0 "$BW_FCGI_PID" 2>/dev/null
ok $? "bouncewhy-fcgi still running"
done_testing

#!/bin/bash
# test_fault.sh - faults under load, through the real stack.
#
# 1. Two bouncewhy-fcgi backends in one nginx upstream. While clients post
#    bounces, one backend is killed with SIGKILL and started again: no client
#    request may fail (fastcgi_next_upstream retries the other backend), and
#    once restarted the backend must be back in rotation (its log gets
#    requests again).
# 2. The DNS server is killed during IP checks (tests/dns/, needs dnsmasq
#    and node; skipped without them): an IP check still answers, within its
#    time bound, with a 200 that marks the lookups failed or a 5xx problem;
#    the backend keeps serving.
source "$(dirname "$0")/lib.sh"

run="$BUILD/test-run/fault"
rm -rf "$run"
mkdir -p "$run"
run=$(cd "$run" && pwd)
tmp=$(mktemp -d)
pids=()
dns_state=""
cleanup() {
	for p in "${pids[@]}" $A $B $NGX; do kill -TERM "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$dns_state" ] && "$BW_ROOT/tests/dns/stop.sh" "$dns_state"
	rm -rf "$tmp"
}
A="" B="" NGX=""
trap cleanup EXIT

dns_args=()
have_dns=0
if command -v node >/dev/null 2>&1 && { command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ]; } &&
	[ -x "$BW_ROOT/tests/dns/start.sh" ] || [ -f "$BW_ROOT/tests/dns/start.sh" ]; then
	dns_state="$run/dns"
	if dnsline=$(sh "$BW_ROOT/tests/dns/start.sh" "$dns_state" 2>"$run/dns-start.log"); then
		have_dns=1
		dns_args=(--resolver "${dnsline#BW_DNS=}" --allow-private --dns-timeout 1000)
	else
		dns_state=""
	fi
fi

# start_backend NAME: starts bouncewhy-fcgi on $run/NAME.sock, appending to
# $run/NAME.log; prints its pid.
start_backend() {
	local sock="$run/$1.sock"
	rm -f "$sock"
	"$BUILD/bouncewhy-fcgi" --listen "$sock" --threads 2 --rules "$BW_ROOT/rules" \
		--templates "$BW_ROOT/templates" --static "$BW_ROOT/static" "${dns_args[@]}" \
		>/dev/null 2>>"$run/$1.log" &
	local pid=$!
	for _ in $(seq 1 400); do
		[ -S "$sock" ] && break
		sleep 0.05
	done
	echo $pid
}
A=$(start_backend a)
B=$(start_backend b)
ok $([ -S "$run/a.sock" ] && [ -S "$run/b.sock" ]; echo $?) "two backends listen"
port=$(bw_free_port)
conf=$("$BW_ROOT/scripts/nginx-conf.sh" "$run" "$port" "$run/a.sock" "$run/b.sock")
grep -q "b.sock" "$conf"
ok $? "nginx-conf.sh puts both sockets in the upstream"
nginx -p "$run" -c "$conf" -g "daemon off;" >/dev/null 2>"$run/nginx.log" &
NGX=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fs -o /dev/null "$url/healthz" && break; sleep 0.05; done
is "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" 200 "nginx answers"

# client N SECONDS: posts bounces for SECONDS, one status code per line.
client() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 -H 'Content-Type: text/plain' \
			--data-binary '550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown' \
			"$url/api/v1/explain"
	done >"$tmp/client-$1"
}
for i in 1 2 3 4; do client $i 6 & pids+=($!); done
sleep 1.5
kill -9 "$B"
wait "$B" 2>/dev/null
killed_at=$(wc -l <"$run/b.log")
sleep 1.5
B=$(start_backend b)
ok $([ -S "$run/b.sock" ] && kill -0 "$B" 2>/dev/null; echo $?) "backend b restarted after SIGKILL"
wait "${pids[@]}"
pids=()
total=$(cat "$tmp"/client-* | wc -l)
bad=$(cat "$tmp"/client-* | grep -vc '^200$')
ok $([ "$total" -gt 50 ] && [ "$bad" -eq 0 ]; echo $?) "$total requests under load with a backend killed: $bad failed"
[ "$bad" -gt 0 ] && sort "$tmp"/client-* | uniq -c | sed 's/^/#   /'

# nginx takes b out for fail_timeout (2 s) after the failure; then it is tried again.
sleep 2.5
for _ in $(seq 1 60); do
	curl -s -o /dev/null -H 'Content-Type: text/plain' --data-binary '452 4.2.2 Mailbox full' "$url/api/v1/explain"
done
after=$(tail -n +"$((killed_at + 1))" "$run/b.log" | grep -c 'POST /api/v1/explain')
ok $([ "$after" -gt 5 ]; echo $?) "the restarted backend is back in rotation ($after requests since its restart)"
kill -0 "$A" 2>/dev/null
ok $? "backend a kept running"

# Both down: nginx answers 503 problem+json, not a hang or an HTML page.
kill -9 "$A" "$B"
wait "$A" "$B" 2>/dev/null
code=$(curl -s -o "$tmp/body" -w '%{http_code}' --max-time 10 -H 'Content-Type: text/plain' --data-binary 'x' "$url/api/v1/explain")
is "$code" 503 "every backend down: 503"
is "$(jq -r .status "$tmp/body" 2>/dev/null)" 503 "every backend down: problem+json"
A=$(start_backend a)
B=$(start_backend b)
# nginx gives the failed servers another try after fail_timeout (2 s).
start=$SECONDS
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/healthz")" = 200 ] || [ $((SECONDS - start)) -gt 8 ]; do
	sleep 0.25
done
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/healthz")" 200 "backends restarted: served again within $((SECONDS - start))s"

# --- DNS killed during IP checks ----------------------------------------
if [ $have_dns -eq 1 ]; then
	code=$(curl -s -o "$tmp/ip1" -w '%{http_code}' --max-time 20 "$url/api/v1/ip/192.0.2.10")
	is "$code" 200 "IP check with DNS up: 200"
	kill -9 "$(cat "$dns_state/dnsmasq.pid")"
	start=$SECONDS
	code=$(curl -s -o "$tmp/ip2" -w '%{http_code}' --max-time 30 "$url/api/v1/ip/192.0.2.30")
	secs=$((SECONDS - start))
	like "$code" "^(200|502|503|504)$" "IP check with DNS killed: answered ($code in ${secs}s)"
	ok $([ $secs -le 15 ]; echo $?) "IP check with DNS killed: within the time bound (${secs}s)"
	if [ "$code" = 200 ]; then
		like "$(jq -c '[.. | .status? // empty | strings] | unique' "$tmp/ip2")" "error|timeout|servfail|refused|fail" \
			"IP check with DNS killed: lookups are marked failed, not clean"
	else
		like "$(grep -i '^' "$tmp/ip2" | head -c 300)" '"status"' "IP check with DNS killed: problem+json"
	fi
	is "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" 200 "backends still serve after the DNS fault"
else
	skip "DNS fault: tests/dns/start.sh could not start (needs dnsmasq and node; $(tail -1 "$run/dns-start.log" 2>/dev/null))"
fi
done_testing

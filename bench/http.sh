#!/bin/bash
# http.sh - HTTP throughput of the whole stack with wrk, in one run:
#   static   nginx serving a static file the size of an explain answer
#   healthz  GET /healthz: the nginx -> FastCGI round trip doing no work
#   explain  POST /api/v1/explain with a typical bounce (a wrk Lua script)
# and, with BENCH_KEEPALIVE=1, the same two FastCGI routes with nginx
# keeping its FastCGI connections open (upstream keepalive +
# fastcgi_keep_conn on; measured worse, so not the default config).
#
# Prints requests/s, p50 and p99 latency, and the ratios against the
# targets (healthz >= 35% of static, explain >= 80% of healthz, p99 < 5 ms
# at 32 connections). Figures only: a slow machine does not fail it.
#
# Environment: BUILD (default build), BENCH_SECONDS (default 10),
# BENCH_CONNECTIONS (32), BENCH_THREADS (wrk threads, 2), FCGI_THREADS
# (bouncewhy-fcgi --threads; default its own), BENCH_KEEPALIVE (0).
# Runs under bash; `sh bench/http.sh` hands itself over to bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-build}
source "$here/tests/integration/lib.sh"
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
wthreads=${BENCH_THREADS:-2}

if ! command -v wrk >/dev/null 2>&1; then
	echo "http: skipped, wrk is not installed (Debian package wrk)"
	exit 0
fi
tmp=$(mktemp -d)
NGX2=""
cleanup() { [ -n "$NGX2" ] && kill "$NGX2" 2>/dev/null; bw_stack_stop; rm -rf "$tmp"; }
trap cleanup EXIT

fargs=()
[ -n "${FCGI_THREADS:-}" ] && fargs=(--threads "$FCGI_THREADS")
bw_stack_start bench-http "${fargs[@]}" || { echo "http: the stack did not start"; exit 1; }
sock="$BW_RUN/fcgi.sock"

bounce='Delivery to the following recipient failed permanently:

     jane.doe@example.org

Technical details of permanent failure:
The recipient server did not accept our requests to connect. Learn more at https://support.example.com/mail/answer/7720
[mx.example.org. 192.0.2.25: 550 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/198.51.100.7]'
printf '%s' "$bounce" >"$tmp/bounce.txt"
curl -s -o "$tmp/answer.json" -H 'Content-Type: text/plain' --data-binary "@$tmp/bounce.txt" "$BW_URL/api/v1/explain"
size=$(wc -c <"$tmp/answer.json")

# The static comparison file lives in a copy of static/ served by the same config.
chmod 755 "$tmp"	# nginx workers (nobody) read the static copy
mkdir -p "$tmp/static"
cp "$BW_ROOT"/static/* "$tmp/static/" 2>/dev/null
cp "$tmp/answer.json" "$tmp/static/answer.json"
sed -i "s|set \$bouncewhy_static .*;|set \$bouncewhy_static $tmp/static;|" "$BW_RUN/nginx.conf"
nginx -p "$BW_RUN" -c "$BW_RUN/nginx.conf" -s reload 2>/dev/null
sleep 0.5

cat >"$tmp/post.lua" <<LUA
-- POST the bounce of bench/http.sh to /api/v1/explain
local f = io.open("$tmp/bounce.txt", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/plain"
LUA

# CPU time (user + system, clock ticks) the processes given have used so far
ticks() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
NGX_MASTER=$BW_NGINX_PID

# run NAME URL [wrk args]: sets R_NAME (req/s); prints req/s, p50 and p99
# latency, and the CPU time per request of bouncewhy-fcgi and of the nginx
# workers (less sensitive to a busy machine than req/s is)
to_ms() { awk '{ v = $1; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
	if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
	printf "%.2f", v }'; }
run() {
	local name=$1 url=$2
	shift 2
	local workers f0 n0 reqs
	workers=$(pgrep -P "$NGX_MASTER" | tr '\n' ' ')
	f0=$(ticks "$BW_FCGI_PID")
	# shellcheck disable=SC2086
	n0=$(ticks $workers)
	wrk -t"$wthreads" -c"$conns" -d"${secs}s" --latency "$@" "$url" >"$tmp/$name.out" 2>&1
	local fcpu ncpu
	reqs=$(awk '/requests in/ { print $1 }' "$tmp/$name.out")
	# shellcheck disable=SC2086
	fcpu=$(awk -v a="$f0" -v b="$(ticks "$BW_FCGI_PID")" -v n="${reqs:-0}" -v hz="$hz" \
		'BEGIN { if (n > 0) printf "%.0f", (b - a) / hz * 1e6 / n; else print "?" }')
	# shellcheck disable=SC2086
	ncpu=$(awk -v a="$n0" -v b="$(ticks $workers)" -v n="${reqs:-0}" -v hz="$hz" \
		'BEGIN { if (n > 0) printf "%.0f", (b - a) / hz * 1e6 / n; else print "?" }')
	local rps p50 p99 errs non2xx
	rps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' "$tmp/$name.out")
	p50=$(awk '$1 == "50%" { print $2 }' "$tmp/$name.out" | to_ms)
	p99=$(awk '$1 == "99%" { print $2 }' "$tmp/$name.out" | to_ms)
	errs=$(awk '/Socket errors/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$tmp/$name.out")
	non2xx=$(awk '/Non-2xx/ { print $NF }' "$tmp/$name.out")
	printf -v "R_$name" '%s' "${rps:-0}"
	printf '  %-18s %6s req/s  p50 %6s ms  p99 %6s ms  cpu/req fcgi %4s us, nginx %4s us  errors %s, non-2xx %s\n' \
		"$name" "${rps:-?}" "${p50:-?}" "${p99:-?}" "$fcpu" "$ncpu" "${errs:-0}" "${non2xx:-0}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "?" }'; }

echo "== HTTP through nginx ($conns connections, $wthreads wrk threads, ${secs}s each, answer $size bytes)"
echo "   bouncewhy-fcgi: $(grep -o 'with [0-9]* threads' "$BW_RUN/fcgi.log" | head -1)"
run static "$BW_URL/static/answer.json"
run healthz "$BW_URL/healthz"
run explain "$BW_URL/api/v1/explain" -s "$tmp/post.lua"
echo "  healthz / static:  $(ratio "$R_healthz" "$R_static")  (target >= 35%)"
echo "  explain / healthz: $(ratio "$R_explain" "$R_healthz")  (target >= 80%)"

# The same FastCGI routes with persistent nginx -> FastCGI connections.
[ "${BENCH_KEEPALIVE:-0}" = 1 ] || exit 0
kr="$BW_RUN-keepalive"
rm -rf "$kr"
mkdir -p "$kr/tmp"
kport=$(bw_free_port)
sed -e "s|$BW_RUN|$kr|g" -e "s|listen 127.0.0.1:$BW_PORT;|listen 127.0.0.1:$kport;|" \
	-e "s|unix:$kr/fcgi.sock|unix:$sock|" \
	-e 's|^\(\s*\)@EXTRA_UPSTREAMS@||' \
	-e "s|^\(\s*server unix:$sock.*\)$|\1\n        keepalive ${BENCH_KEEPALIVE_CONNS:-32};|" \
	-e "s|^\(\s*include .*bouncewhy-locations.conf;\)|        fastcgi_keep_conn on;\n\1|" \
	"$BW_RUN/nginx.conf" >"$kr/nginx.conf"
sed -i "s|unix:$kr/fcgi.sock|unix:$sock|" "$kr/nginx.conf"
nginx -p "$kr" -c "$kr/nginx.conf" -g 'daemon off;' 2>"$kr/nginx.log" &
NGX2=$!
NGX_MASTER=$NGX2
for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$kport/healthz" && break; sleep 0.05; done
if grep -q "keepalive ${BENCH_KEEPALIVE_CONNS:-32};" "$kr/nginx.conf" && grep -q 'fastcgi_keep_conn on' "$kr/nginx.conf" &&
	curl -fs -o /dev/null --max-time 5 "http://127.0.0.1:$kport/healthz"; then
	echo "== nginx -> FastCGI keep-alive (keepalive ${BENCH_KEEPALIVE_CONNS:-32} per worker + fastcgi_keep_conn on), same backend"
	run healthz_keepalive "http://127.0.0.1:$kport/healthz"
	run explain_keepalive "http://127.0.0.1:$kport/api/v1/explain" -s "$tmp/post.lua"
	echo "  healthz keep-alive / without: $(ratio "$R_healthz_keepalive" "$R_healthz")"
	echo "  explain keep-alive / without: $(ratio "$R_explain_keepalive" "$R_explain")"
else
	echo "== keep-alive variant did not start: $(tail -2 "$kr/nginx.log" "$kr/nginx-error.log" 2>/dev/null)"
fi

#!/bin/bash
# test_headers.sh - the security headers of every kind of answer, through
# the real stack: HTML pages, embeddable fragments, JSON API answers,
# problems from the program and from nginx, static files.
#
# Every answer: X-Content-Type-Options nosniff, a Referrer-Policy, a
# Content-Security-Policy without 'unsafe-inline' or 'unsafe-eval' in
# script-src, and no software version (Server, X-Powered-By). Pages: no
# inline script or event handler in the HTML; frame-ancestors 'none',
# except /embed/ which carries the --frame-ancestors of the command line.
source "$(dirname "$0")/lib.sh"

portal="https://portal.example.com"
bw_stack_start headers --frame-ancestors "'self' $portal" || { echo "not ok 1 - stack starts"; exit 1; }
ok 0 "nginx and bouncewhy-fcgi start (--frame-ancestors \"'self' $portal\")"
tmp=$(mktemp -d)
trap 'bw_stack_stop; rm -rf "$tmp"' EXIT

# fetch NAME CURL_ARGS...: headers into $tmp/NAME.h, body into $tmp/NAME.b
fetch() {
	local name=$1
	shift
	curl -s -D "$tmp/$name.h" -o "$tmp/$name.b" "$@"
	tr -d '\r' <"$tmp/$name.h" >"$tmp/$name.hh"
}
header() { # NAME HEADER -> value of the last such header
	grep -i "^$2:" "$tmp/$1.hh" | tail -1 | cut -d: -f2- | sed 's/^ *//'
}

big=$(head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' 'x')
printf '%s' "$big" >"$tmp/big"
fetch home "$BW_URL/"
fetch page_explain -H 'Accept: text/html' --data-urlencode 'text=550 5.1.1 <bob@example.org>: User unknown' "$BW_URL/explain"
fetch kb "$BW_URL/kb"
fetch embed -H 'Accept: text/html' --data-urlencode 'text=550 5.1.1 user unknown' "$BW_URL/embed/explain"
fetch api_explain -H 'Content-Type: text/plain' --data-binary '550 5.1.1 user unknown' "$BW_URL/api/v1/explain"
fetch api_reasons "$BW_URL/api/v1/reasons"
fetch healthz "$BW_URL/healthz"
fetch problem_404 "$BW_URL/api/v1/nothing-here"
fetch problem_415 -H 'Content-Type: image/png' --data-binary 'x' "$BW_URL/api/v1/explain"
fetch nginx_413 -H 'Content-Type: text/plain' --data-binary "@$tmp/big" "$BW_URL/api/v1/explain"
fetch nginx_414 "$BW_URL/api/v1/reasons?q=$(head -c 40000 /dev/zero | tr '\0' q)"
fetch static_css "$BW_URL/static/style.css"
fetch static_js "$BW_URL/static/app.js"
fetch static_404 "$BW_URL/static/none.js"

all="home page_explain kb embed api_explain api_reasons healthz problem_404 problem_415 nginx_413 nginx_414 static_css static_js static_404"
for n in $all; do
	status=$(head -1 "$tmp/$n.hh" | cut -d' ' -f2)
	is "$(header $n X-Content-Type-Options)" nosniff "$n ($status): X-Content-Type-Options nosniff"
	like "$(header $n Referrer-Policy)" "^(no-referrer|same-origin|strict-origin|strict-origin-when-cross-origin)$" \
		"$n: Referrer-Policy"
	csp=$(header $n Content-Security-Policy)
	like "$csp" "(default-src|script-src) " "$n: Content-Security-Policy present"
	ok $([[ $csp != *unsafe-inline* && $csp != *unsafe-eval* ]]; echo $?) "$n: CSP allows no inline or eval'd script"
	like "$(header $n Server)" "^(nginx)?$" "$n: Server names no version"
	is "$(header $n X-Powered-By)" "" "$n: no X-Powered-By"
	ok $(! grep -qaE 'nginx/[0-9]|bouncewhy-fcgi/[0-9]' "$tmp/$n.b"; echo $?) "$n: body names no server version"
done

for n in home page_explain kb embed; do
	like "$(header $n Content-Type)" "^text/html" "$n: is HTML"
	csp=$(header $n Content-Security-Policy)
	like "$csp" "script-src 'self'" "$n: scripts only from the site itself"
	# No inline <script> body, no on* handler, no javascript: URL.
	inline=$(grep -oaiE '<script[^>]*>' "$tmp/$n.b" | grep -viE 'src=' | head -1)
	is "$inline" "" "$n: no inline <script>"
	handler=$(grep -oaiE '<[a-z]+[^>]* on[a-z]+=' "$tmp/$n.b" | head -1)
	is "$handler" "" "$n: no inline event handler"
	ok $(! grep -qai 'javascript:' "$tmp/$n.b"; echo $?) "$n: no javascript: URL"
done
for n in home page_explain kb; do
	like "$(header $n Content-Security-Policy)" "frame-ancestors 'none'" "$n: frame-ancestors 'none'"
	is "$(header $n X-Frame-Options)" DENY "$n: X-Frame-Options DENY"
done
like "$(header embed Content-Security-Policy)" "frame-ancestors 'self' $portal(;|$)" "embed: frame-ancestors as configured"
is "$(header embed X-Frame-Options)" "" "embed: no X-Frame-Options (it is meant to be framed)"
for n in api_explain api_reasons healthz problem_404 problem_415 nginx_413 nginx_414; do
	like "$(header $n Content-Security-Policy)" "default-src 'none'" "$n: non-HTML answer may load nothing"
	like "$(header $n Content-Type)" "^application/(problem\+)?json" "$n: JSON"
done
done_testing

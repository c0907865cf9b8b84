#!/bin/bash
# test_hostile.sh - hostile and broken input against the real stack (nginx +
# bouncewhy-fcgi), table-driven: each row names an input made here, how it is
# sent, and the answer it must get: a correct 200 or a clear 4xx problem,
# never a 5xx, a hang, raw bytes echoed back or a dead backend.
#
# Also: the body limit enforced by bouncewhy-fcgi itself (spoken to directly
# over its socket with cgi-fcgi, without nginx), slow clients cut by nginx's
# timeouts, and bounded header and query sizes.
source "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
cleanup() { bw_stack_stop; [ -n "${BW_KEEP:-}" ] || rm -rf "$tmp"; }
bw_stack_start hostile || { echo "not ok 1 - stack starts"; exit 1; }
trap cleanup EXIT
ok 0 "nginx and bouncewhy-fcgi start on port $BW_PORT"
sock="$BW_RUN/fcgi.sock"
pid0=$BW_FCGI_PID

# --- Slow clients, started first: they take nginx's 10 s timeouts -------
# slow_client HEADERS OUT: send HEADERS, then nothing; record how long
# nginx keeps the connection and what it answered.
slow_client() {
	local start=$SECONDS
	exec 3<>"/dev/tcp/127.0.0.1/$BW_PORT" || { echo "connect-failed" >"$2"; return; }
	printf '%b' "$1" >&3
	local reply
	reply=$(timeout 25 cat <&3 2>/dev/null | head -c 200 | tr -d '\r' | head -1)
	exec 3<&- 3>&-
	echo "$((SECONDS - start)) ${reply:-closed}" >"$2"
}
slow_client 'POST /api/v1/explain HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n550 5.1.1' "$tmp/slow-body" &
slow_body=$!
slow_client 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' "$tmp/slow-header" &
slow_header=$!

# --- Inputs, generated here ---------------------------------------------
in=$tmp/in
mkdir -p "$in"
printf '550 5.1.1 <jane@example.com>: Recipient address rejected: \0User unknown\0' >"$in/nul"
printf '550 5.1.1 <j\xffane@example.com>: Recipient \xc3\x28 address rejected: User unknown \xed\xa0\x80 \xf8\x88\x80\x80\x80' >"$in/bad-utf8"
head -c 60000 /dev/urandom >"$in/binary"
# A DSN carrying a 300 KB binary attachment in base64 and one raw.
{
	printf 'From: MAILER-DAEMON@mx.example.net\r\nTo: jane@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n\r\n'
	printf -- '--B1\r\nContent-Type: text/plain\r\n\r\nThe mail system: <bob@example.org>: host mx.example.org said: 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in local recipient table\r\n'
	printf -- '--B1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; bob@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n'
	printf -- '--B1\r\nContent-Type: application/octet-stream; name="a.bin"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="a.bin"\r\n\r\n'
	head -c 200000 /dev/urandom | base64
	printf -- '--B1\r\nContent-Type: application/octet-stream; name="raw.bin"\r\n\r\n'
	head -c 50000 /dev/urandom
	printf -- '\r\n--B1--\r\n'
} >"$in/attachment"
# 300 multipart levels, the bounce at the bottom.
{
	printf 'From: MAILER-DAEMON@mx.example.net\r\nSubject: Delivery failure\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="L0"\r\n\r\n'
	for i in $(seq 0 299); do printf -- '--L%d\r\nContent-Type: multipart/mixed; boundary="L%d"\r\n\r\n' $i $((i + 1)); done
	printf -- '--L300\r\nContent-Type: text/plain\r\n\r\n550 5.1.1 <bob@example.org>: User unknown\r\n--L300--\r\n'
	for i in $(seq 299 -1 0); do printf -- '--L%d--\r\n' $i; done
} >"$in/nested"
# 300 levels of message/rfc822 inside message/rfc822.
{
	for i in $(seq 1 300); do printf 'From: a%d@example.com\r\nSubject: fwd %d\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n' $i $i; done
	printf 'From: MAILER-DAEMON@mx.example.net\r\nSubject: bounce\r\n\r\n550 5.1.1 <bob@example.org>: User unknown\r\n'
} >"$in/nested-rfc822"
# One DSN with 10,000 recipients.
{
	printf 'From: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered Mail\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="R"\r\n\r\n--R\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n'
	awk 'BEGIN { for (i = 0; i < 10000; i++) printf "\r\nFinal-Recipient: rfc822; u%d@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n", i }'
	printf -- '--R--\r\n'
} >"$in/10k-rcpt"
# One line of 1,000,000 bytes with the bounce at its end; 500 KB of '(' too.
{ head -c 999900 /dev/zero | tr '\0' 'a'; printf ' 550 5.1.1 <bob@example.org>: User unknown'; } >"$in/long-line"
{ head -c 500000 /dev/zero | tr '\0' '('; printf '550 5.7.1 blocked using zen.spamhaus.org'; } >"$in/parens"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' 'x' >"$in/over-1mib"
printf '{"text": "550 5.1.1 user unknown"' >"$in/json-cut"
printf '{"text": ["550"]}' >"$in/json-array"
printf '42' >"$in/json-list"
printf '{"text": "550 5.1.1 \xff user unknown"}' >"$in/json-bad-utf8"
printf '{"text": "550 5.1.1 \\u0000 user unknown"}' >"$in/json-nul"
printf '{"text": "550 5.1.1 \\ud800 user unknown"}' >"$in/json-lone-surrogate"
awk 'BEGIN { printf "{\"text\": "; for (i = 0; i < 20000; i++) printf "["; }' >"$in/json-deep"
printf '550 5.1.1 <bob@example.org>: User unknown' >"$in/plain"
printf '<script>alert(1)</script>\xff 550 5.1.1 <bob@example.org>: User unknown' >"$in/xss"
awk 'BEGIN { printf "{\"items\": ["; for (i = 0; i < 10000; i++) printf "%s{\"text\": \"550 5.1.1 user unknown\"}", (i ? "," : ""); printf "]}" }' >"$in/batch-10k"
: >"$in/empty"

# --- The table ----------------------------------------------------------
# NAME | METHOD | PATH | CONTENT-TYPE | INPUT | STATUS (regex) | CHECK (jq filter
# that must print "true" on the answer, or "-")
table="
nul bytes in text                |POST|/api/v1/explain|text/plain|nul|200|.findings[0].reason == \"mailbox_unknown\" or (.findings | length > 0)
invalid UTF-8 in text            |POST|/api/v1/explain|text/plain|bad-utf8|200|.findings | length > 0
60 KB of random bytes            |POST|/api/v1/explain|application/octet-stream|binary|200|.findings | type == \"array\"
DSN with binary attachments      |POST|/api/v1/explain|message/rfc822|attachment|200|.findings | length > 0
300 nested multiparts            |POST|/api/v1/explain|message/rfc822|nested|200|.findings | type == \"array\"
300 nested message/rfc822        |POST|/api/v1/explain|message/rfc822|nested-rfc822|200|.findings | type == \"array\"
10,000 recipients in one DSN     |POST|/api/v1/explain|message/rfc822|10k-rcpt|200|.findings | length > 0
one line of 1,000,000 bytes      |POST|/api/v1/explain|text/plain|long-line|200|.findings | type == \"array\"
500 KB of open parentheses       |POST|/api/v1/explain|text/plain|parens|200|.findings | type == \"array\"
body over 1 MiB (nginx)          |POST|/api/v1/explain|text/plain|over-1mib|413|.status == 413
empty body                       |POST|/api/v1/explain|text/plain|empty|400|.status == 400
JSON cut short                   |POST|/api/v1/explain|application/json|json-cut|400|.status == 400
JSON text not a string           |POST|/api/v1/explain|application/json|json-array|400|.status == 400
JSON a bare number               |POST|/api/v1/explain|application/json|json-list|400|.status == 400
JSON with invalid UTF-8          |POST|/api/v1/explain|application/json|json-bad-utf8|400|.status == 400
JSON with \\u0000                |POST|/api/v1/explain|application/json|json-nul|400|.status == 400
JSON with a lone surrogate       |POST|/api/v1/explain|application/json|json-lone-surrogate|400|.status == 400
JSON nested 20,000 deep          |POST|/api/v1/explain|application/json|json-deep|400|.status == 400
wrong content type (image/png)   |POST|/api/v1/explain|image/png|plain|415|.status == 415
wrong content type (multipart)   |POST|/api/v1/explain|multipart/form-data; boundary=x|plain|415|.status == 415
content type with parameters     |POST|/api/v1/explain|text/plain; charset=iso-8859-1|plain|200|.findings | length > 0
batch of 10,000 items            |POST|/api/v1/explain/batch|application/json|batch-10k|413|.status == 413
batch that is not JSON           |POST|/api/v1/explain/batch|application/json|json-cut|400|.status == 400
GET on a POST route              |GET|/api/v1/explain|-|empty|405|.status == 405
unknown method                   |BREW|/api/v1/explain|-|empty|405|.status == 405
bad percent escape in query      |POST|/api/v1/explain?audience=%zz|text/plain|plain|400|.status == 400
NUL escape in query              |POST|/api/v1/explain?audience=%00|text/plain|plain|400|.status == 400
NUL escape in path               |GET|/api/v1/reasons/%00|-|empty|400|.status == 400
bad audience                     |POST|/api/v1/explain?audience=root|text/plain|plain|400|.status == 400
IP: octet over 255               |GET|/api/v1/ip/256.1.2.3|-|empty|400|.status == 400
IP: three octets                 |GET|/api/v1/ip/192.0.2|-|empty|400|.status == 400
IP: leading zeros                |GET|/api/v1/ip/010.0.2.1|-|empty|400|.status == 400
IP: bad IPv6                     |GET|/api/v1/ip/2001:db8:::1|-|empty|400|.status == 400
IP: a CIDR block                 |GET|/api/v1/ip/192.0.2.0%2F24|-|empty|40[04]|.status >= 400 and .status < 500
IP: 200 characters               |GET|/api/v1/ip/$(printf '1%.0s' $(seq 200))|-|empty|400|.status == 400
IP: script                       |GET|/api/v1/ip/%3Cscript%3E|-|empty|400|.status == 400
"

n_rows=0
while IFS='|' read -r name method path ctype input want check; do
	[ -z "$name" ] && continue
	name=$(echo "$name" | sed 's/ *$//')
	n_rows=$((n_rows + 1))
	args=(-s -o "$tmp/body" -D "$tmp/head" -w '%{http_code} %{time_total}' --max-time 30 -X "$method")
	[ "$ctype" != - ] && args+=(-H "Content-Type: $ctype")
	[ "$method" = POST ] && args+=(--data-binary "@$in/$input")
	read -r code secs < <(curl "${args[@]}" "$BW_URL$path")
	like "$code" "^($want)$" "$name: $want (${secs}s)"
	ctype_got=$(grep -i '^content-type:' "$tmp/head" | tr -d '\r' | cut -d' ' -f2-)
	if [ "${code:0:1}" = 4 ]; then
		like "$ctype_got" "^application/problem\+json" "$name: answered as problem+json"
	fi
	if [ "$check" != - ]; then
		got=$(jq -r "$check" "$tmp/body" 2>/dev/null || echo "<not JSON: $(head -c 120 "$tmp/body" | tr -cd '[:print:]')>")
		is "$got" true "$name: $check"
	fi
	# Whatever came in, what goes out is valid UTF-8 without a raw NUL.
	iconv -f UTF-8 -t UTF-8 "$tmp/body" >/dev/null 2>&1
	utf=$?
	[ "$(tr -d '\0' <"$tmp/body" | wc -c)" -eq "$(wc -c <"$tmp/body")" ]
	nul=$?
	ok $((utf + nul)) "$name: answer is valid UTF-8 with no NUL byte"
done <<<"$table"

# Nothing raw is echoed: the bytes of the bad input do not come back.
curl -s -o "$tmp/body" -H 'Content-Type: text/plain' --data-binary "@$in/bad-utf8" "$BW_URL/api/v1/explain"
! grep -qaP '\xff|\xc3\x28' "$tmp/body"
ok $? "invalid UTF-8 is replaced in the JSON answer, never echoed raw"
curl -s -o "$tmp/body" -H 'Accept: text/html' -F "text=<$in/xss" "$BW_URL/explain"
curl -s -o "$tmp/body" -H 'Accept: text/html' --data-urlencode "text@$in/xss" "$BW_URL/explain"
! grep -qa '<script>alert' "$tmp/body"
ok $? "the HTML page escapes a pasted <script>"
! grep -qaP '\xff' "$tmp/body"
ok $? "the HTML page does not echo invalid UTF-8 raw"

# --- Sizes of URIs and headers ------------------------------------------
q=$(head -c 10000 /dev/zero | tr '\0' 'a')
code=$(curl -s -o "$tmp/body" -w '%{http_code}' "$BW_URL/api/v1/reasons?x=$q")
is "$code" 414 "query of 10 KB (over the program's 8 KB): 414"
is "$(jq -r .status "$tmp/body" 2>/dev/null)" 414 "query of 10 KB: problem+json"
q=$(head -c 40000 /dev/zero | tr '\0' 'a')
code=$(curl -s -o "$tmp/body" -w '%{http_code}' "$BW_URL/api/v1/reasons?x=$q")
is "$code" 414 "query of 40 KB (over nginx's buffers): 414"
is "$(jq -r .status "$tmp/body" 2>/dev/null)" 414 "query of 40 KB: problem+json from nginx"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "X-Big: $q" "$BW_URL/healthz")
like "$code" "^(400|431|494)$" "a 40 KB header: refused ($code)"
is "$(jq -r .status "$tmp/body" 2>/dev/null)" "$code" "a 40 KB header: problem+json from nginx"
many=$(seq 1 200 | sed 's/^/p/; s/$/=1/' | paste -sd'&')
code=$(curl -s -o /dev/null -w '%{http_code}' "$BW_URL/api/v1/reasons?$many")
is "$code" 400 "200 query parameters: 400"

# --- The program's own limits, without nginx ----------------------------
if command -v cgi-fcgi >/dev/null 2>&1; then
	fcgi() { # LENGTH FILE: POST FILE to the socket, print the Status line
		env -i SCRIPT_NAME=/api/v1/explain REQUEST_URI=/api/v1/explain REQUEST_METHOD=POST \
			CONTENT_TYPE=text/plain CONTENT_LENGTH="$1" REMOTE_ADDR=127.0.0.1 \
			cgi-fcgi -bind -connect "$sock" <"$2" 2>/dev/null >"$tmp/fcgi-out"
		grep -a '^Status:' "$tmp/fcgi-out" | tr -d '\r' | head -1
	}
	head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >"$in/3mib"
	like "$(fcgi $((3 * 1024 * 1024)) "$in/3mib")" "^Status: 413" \
		"bouncewhy-fcgi alone: a 3 MiB body gets 413 (nginx not needed)"
	grep -qaE '"status": ?413' "$tmp/fcgi-out"
	ok $? "bouncewhy-fcgi alone: the 413 is problem+json"
	like "$(fcgi $((1024 * 1024 + 1)) "$in/over-1mib")" "^Status: 413" \
		"bouncewhy-fcgi alone: 1 MiB + 1 byte gets 413"
	like "$(fcgi 99999999999999999999 "$in/plain")" "^Status: (400|413)" \
		"bouncewhy-fcgi alone: an absurd Content-Length is refused"
	like "$(fcgi -5 "$in/plain")" "^Status: 400" "bouncewhy-fcgi alone: a negative Content-Length: 400"
	like "$(fcgi 5000 "$in/plain")" "^Status: 400" "bouncewhy-fcgi alone: a body shorter than its Content-Length: 400"
	like "$(fcgi "$(wc -c <"$in/plain")" "$in/plain")" "^Status: 200" "bouncewhy-fcgi alone: a right-sized body: 200"
else
	skip "cgi-fcgi not installed (Debian libfcgi-bin): the program's own body limit is not tested"
fi

# A second stack whose nginx lets 4 MiB through: the program still says 413.
big_run="$BUILD/test-run/hostile-bignginx"
mkdir -p "$big_run"
big_port=$(bw_free_port)
conf=$("$BW_ROOT/scripts/nginx-conf.sh" "$big_run" "$big_port" "$sock")
sed 's|client_max_body_size 1m;|client_max_body_size 4m;|' "$BW_ROOT/nginx/bouncewhy-http.conf" >"$big_run/http-4m.conf"
sed -i "s|include .*/bouncewhy-http.conf;|include $big_run/http-4m.conf;|" "$conf"
if nginx -p "$big_run" -c "$conf" -g 'daemon off;' 2>"$big_run/nginx.log" & big_ngx=$!; sleep 0.5; kill -0 $big_ngx 2>/dev/null; then
	head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'y' >"$in/2mib"
	code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary "@$in/2mib" "http://127.0.0.1:$big_port/api/v1/explain")
	is "$code" 413 "nginx allowing 4 MiB: bouncewhy-fcgi still answers 413 for 2 MiB"
	is "$(jq -r .title "$tmp/body" 2>/dev/null)" "Content Too Large" "... as problem+json from the program"
	kill $big_ngx; wait $big_ngx 2>/dev/null
else
	ok 1 "second nginx with client_max_body_size 4m starts"; sed 's/^/#   /' "$big_run/nginx.log"
fi

# --- Slow clients -------------------------------------------------------
wait $slow_body $slow_header
read -r secs reply <"$tmp/slow-body"
ok $([ "$secs" -ge 8 ] && [ "$secs" -le 20 ]; echo $?) "a client that stops sending its body is cut after nginx's timeout (${secs}s: $reply)"
read -r secs reply <"$tmp/slow-header"
ok $([ "$secs" -ge 8 ] && [ "$secs" -le 20 ]; echo $?) "a client that stops sending its headers is cut after nginx's timeout (${secs}s: $reply)"

# --- The backend survived all of it -------------------------------------
kill -0 "$pid0" 2>/dev/null
ok $? "bouncewhy-fcgi is still the same running process"
is "$(curl -s -o /dev/null -w '%{http_code}' "$BW_URL/healthz")" 200 "healthz still 200"
! grep -qiE 'sanitizer|assert|segfault|abort' "$BW_RUN/fcgi.log"
ok $? "no crash report in the backend's log"
done_testing

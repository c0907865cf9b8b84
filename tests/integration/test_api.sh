#!/bin/bash
# test_api.sh - the JSON API through the real nginx + bouncewhy-fcgi stack.
source "$(dirname "$0")/lib.sh"

bw_stack_start api || { echo "not ok 1 - stack starts"; exit 1; }
ok 0 "nginx and bouncewhy-fcgi start on port $BW_PORT"

post() { # TEXT [CONTENT-TYPE] -> body; status in $code
	local tmp
	tmp=$(mktemp)
	code=$(curl -s -o "$tmp" -w '%{http_code}' -X POST -H "Content-Type: ${2:-text/plain}" \
		--data-binary "$1" "$BW_URL/api/v1/explain")
	body=$(cat "$tmp")
	rm -f "$tmp"
}

# The four messages of the foundation.
post '451 Bad reverse DNS.'
is "$code" 200 "explain 1: 200"
is "$(jqr "$body" '.findings[0] | [.reason, .temporary, .action_by] | join(" ")')" \
	"requireptr true sender_admin" "explain 1: requireptr, temporary, sender_admin"
like "$(jqr "$body" '.findings[0].steps.admin | join(" ")')" "[Rr]everse|PTR" "explain 1: admin steps speak of reverse DNS"

post 'blocked using b.barracudacentral.org; https://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1'
is "$(jqr "$body" '.findings[0] | [.reason, .blocklist.id, .ip] | join("|")')" \
	"blocked|barracuda|192.0.2.1" "explain 2: blocked by barracuda, ip"
like "$(jqr "$body" '.findings[0].blocklist.name')" "^Barracuda Reputation Block List" "explain 2: the list's name"
is "$(jqr "$body" '.findings[0].blocklist.delist_url')" \
	"https://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1" "explain 2: delist URL carries the IP"
like "$(jqr "$body" '.findings[0].matched.text')" "b\.barracudacentral\.org" "explain 2: matched text"
is "$(jqr "$body" '.findings[0] | .text[.matched.start:.matched.end] == .matched.text')" true "explain 2: offsets point at the matched text"

post 'Mail from 192.0.2.1 deferred using Trend Micro Email Reputation database. Please see https://www.mail-abuse.com/cgi-bin/lookup?192.0.2.1'
like "$(jqr "$body" '.findings[0] | [.reason, .temporary, .blocklist.id, .ip] | join("|")')" \
	"^blocked\|true\|trendmicro[a-z-]*\|192\.0\.2\.1$" "explain 3: blocked, temporary, Trend Micro, ip"
like "$(jqr "$body" '.findings[0].blocklist.lookup_url')" "mail-abuse\.com.*192\.0\.2\.1" "explain 3: lookup URL with the IP"
like "$(jqr "$body" '.findings[0].blocklist.name')" "Trend Micro" "explain 3: list named"

post '{"text": "553 User defined policy matched for 192.0.2.1", "audience": "admin"}' application/json
is "$(jqr "$body" '.findings[0] | [.reason, .temporary, .action_by, .ip] | join("|")')" \
	"blocked|false|sender_admin|192.0.2.1" "explain 4 (JSON body): blocked, permanent, sender_admin, ip"
like "$(jqr "$body" '.findings[0].explanation.user')" "[Pp]olicy" "explain 4: says the recipient's policy refuses the IP"
like "$(jqr "$body" '.findings[0].explanation.user')" "spam" "explain 4: says it is usually a listing as a spam source"
like "$(jqr "$body" '.findings[0].steps.admin | join(" ")')" "(stop|fix|find)[^.]*(spam|source|listed)" \
	"explain 4: admin told to find and stop the spam source first"
is "$(jqr "$body" '.findings[0].summary == .findings[0].explanation.admin')" "true" "explain 4: audience admin picks the admin summary"

# curl -d with a raw bounce (form content type, not a form)
code=$(curl -s -o /dev/null -w '%{http_code}' -d '550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown (100%)' "$BW_URL/api/v1/explain")
is "$code" 200 "curl -d with a raw bounce is read as text"

# Errors as problem+json
post ''
is "$code" 400 "empty body: 400"
is "$(jqr "$body" '.status')" 400 "empty body: problem status"
hdr=$(curl -s -D - -o /dev/null -X POST -H 'Content-Type: text/plain' --data-binary '' "$BW_URL/api/v1/explain")
like "$hdr" "[Cc]ontent-[Tt]ype: application/problem\+json" "empty body: problem+json"

post '{"text": 5}' application/json
is "$code" 400 "JSON without a text string: 400"
post '{not json' application/json
is "$code" 400 "malformed JSON: 400"
post 'x' image/png
is "$code" 415 "unsupported content type: 415"

code=$(curl -s -o /tmp/bw404.$$ -w '%{http_code}' "$BW_URL/no/such/path")
is "$code" 404 "unknown path: 404"
is "$(jqr "$(cat /tmp/bw404.$$)" '.title')" "Not Found" "unknown path: problem body"
rm -f /tmp/bw404.$$
hdr=$(curl -s -D - -o /dev/null -X DELETE "$BW_URL/healthz")
like "$hdr" "HTTP/1.1 405" "wrong method: 405"
like "$hdr" "Allow: GET" "wrong method: Allow header"
hdr=$(curl -s -D - -o /dev/null "$BW_URL/api/v1/explain")
like "$hdr" "Allow: POST" "GET on explain: 405 with Allow: POST"

body=$(curl -s "$BW_URL/healthz")
is "$(jqr "$body" '.status')" ok "/healthz says ok"

# Oversized bodies: nginx's limit and the program's own
big=$(mktemp)
head -c 1100000 /dev/zero | tr '\0' 'a' >"$big"
code=$(curl -s -o /tmp/bw413.$$ -w '%{http_code}' -X POST -H 'Content-Type: text/plain' --data-binary @"$big" "$BW_URL/api/v1/explain")
is "$code" 413 "body over 1 MiB: 413 from nginx"
is "$(jqr "$(cat /tmp/bw413.$$)" '.status')" 413 "413 is problem+json"
rm -f "$big" /tmp/bw413.$$

# The knowledge base
body=$(curl -s "$BW_URL/api/v1/reasons")
is "$(jqr "$body" '.reasons | length >= 36')" true "reasons: the whole vocabulary"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BW_URL/api/v1/reasons/userunknown")
is "$code" 200 "one reason"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BW_URL/api/v1/reasons/nosuch")
is "$code" 404 "unknown reason: 404"

# Metrics count what was served
body=$(curl -s "$BW_URL/metrics")
like "$body" 'bouncewhy_requests_total\{route="api.explain",status="200"\} [1-9]' "metrics count explain requests"
like "$body" 'bouncewhy_findings_total\{reason="blocked"\} [1-9]' "metrics count findings by reason"

# One log line per request
lines=$(grep -c '"POST /api/v1/explain"' "$BW_RUN/fcgi.log")
ok $([ "$lines" -ge 5 ]; echo $?) "one log line per request ($lines explain lines)"

# SIGTERM stops it cleanly
kill -TERM "$BW_FCGI_PID"
wait "$BW_FCGI_PID"
is "$?" 0 "SIGTERM: bouncewhy-fcgi exits 0"
BW_FCGI_PID=""
done_testing

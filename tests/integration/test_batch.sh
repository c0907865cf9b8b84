#!/bin/bash
# test_batch.sh - bulk classification: POST /api/v1/explain/batch through
# nginx + bouncewhy-fcgi (JSON arrays, {"items": [...]}, providers' events,
# mbox; limits; per-item errors), and `bouncewhy explain` writing NDJSON
# over several files and over an mbox.
source "$(dirname "$0")/lib.sh"

bw_stack_start batch --max-batch 10 || { echo "not ok 1 - stack starts"; exit 1; }
ok 0 "nginx and bouncewhy-fcgi start (--max-batch 10)"
tmp=$(mktemp -d)
trap 'bw_stack_stop; rm -rf "$tmp"' EXIT

batch() { # CONTENT-TYPE DATA [QUERY] -> $code, $body
	code=$(curl -s -o "$tmp/body" -w '%{http_code}' -X POST -H "Content-Type: $1" \
		--data-binary "$2" "$BW_URL/api/v1/explain/batch${3:-}")
	body=$(cat "$tmp/body")
}

batch application/json '["550 5.1.1 <a@example.com>: User unknown", "452 4.2.2 Mailbox full", "hello"]'
is "$code" 200 "array of texts: 200"
is "$(jqr "$body" '[.api_version, .count, .failed] | join(" ")')" "1 3 0" "array: api_version, count, failed"
is "$(jqr "$body" '[.results[] | .result.findings[0].reason // "-"] | join(" ")')" "userunknown mailboxfull -" \
	"array: one result per item, in order (no bounce: no findings)"
is "$(jqr "$body" '[.results[].index] | join(" ")')" "0 1 2" "array: indexes"
is "$(jqr "$body" '.results[0].result.findings[0].recipient')" "a@example.com" "array: full findings per item"
like "$(jqr "$body" '.version')" '\+rules\.' "batch: rules version"

batch application/json '{"audience": "admin", "items": [{"id": "t-1", "text": "451 Bad reverse DNS."}, {"id": 7, "text": "552 5.2.2 Mailbox full", "audience": "user"}]}'
is "$(jqr "$body" '[.results[].id | tostring] | join(" ")')" "t-1 7" "items: ids echoed (string and integer)"
is "$(jqr "$body" '.results[0].result.findings[0] | .summary == .explanation.admin')" true "items: the batch's audience"
is "$(jqr "$body" '.results[1].result.findings[0] | .summary == .explanation.user')" true "items: an item's own audience wins"

batch application/json '["550 5.1.1 User unknown"]' '?audience=admin'
is "$(jqr "$body" '.results[0].result.findings[0] | .summary == .explanation.admin')" true "?audience= applies to every item"

# Per-item errors do not fail the batch
batch application/json '[42, {"id": "x", "text": ""}, {"id": "y", "text": 5}, {"id": {}, "text": "a"}, {"id": "z", "audience": "boss", "text": "a"}, {"id": "w", "foo": 1}, "550 5.1.1 User unknown"]'
is "$code" 200 "bad items: still 200"
is "$(jqr "$body" '[.count, .failed] | join(" ")')" "7 6" "bad items: 6 of 7 failed"
is "$(jqr "$body" '[.results[] | .error.status // 0] | join(" ")')" "422 422 422 422 422 422 0" "bad items: each a 422 problem"
is "$(jqr "$body" '[.results[] | .result == null] | join(" ")')" "true true true true true true false" "bad items: result null"
is "$(jqr "$body" '[.results[0:6][] | .error | has("type") and has("title") and has("detail")] | all')" true "bad items: problem objects"
is "$(jqr "$body" '.results[1].id')" x "bad items: the id is still echoed"

# Providers' events as items
batch application/json '{"items": [
 {"id": "sg", "email": "full@example.com", "timestamp": 1767225601, "event": "bounce", "status": "5.2.2", "reason": "552 5.2.2 The email account that you tried to reach is over quota.", "sg_event_id": "e2"},
 {"id": "mg", "event-data": {"event": "failed", "severity": "permanent", "recipient": "nobody@example.com", "delivery-status": {"code": 550, "enhanced-code": "5.1.1", "message": "5.1.1 The email account that you tried to reach does not exist."}}},
 {"id": "pm", "RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1, "Email": "gone@example.com", "Details": "smtp;550 5.1.1 No such user", "Description": "Hard bounce"}]}'
is "$(jqr "$body" '[.results[] | .result.findings[0] | "\(.agent):\(.reason)"] | join(" ")')" \
	"SendGrid:mailboxfull Mailgun:userunknown Postmark:userunknown" "provider events as items"
is "$(jqr "$body" '[.results[].id] | join(" ")')" "sg mg pm" "provider events: ids echoed"

# mbox
printf 'From a@b Mon Jan  1 00:00:00 2026\nFrom: MAILER-DAEMON@example.org\nSubject: Undelivered\n\n550 5.1.1 <x@example.com>: User unknown\n\nFrom b@b Mon Jan  1 00:00:00 2026\nFrom: MAILER-DAEMON@example.org\nSubject: Undelivered\n\n552 5.2.2 <y@example.com>: Mailbox full\n\nFrom c@b Mon Jan  1 00:00:00 2026\nFrom: MAILER-DAEMON@example.org\nSubject: Delivery delayed\n\n451 4.7.1 Greylisted, try again later\n' >"$tmp/three.mbox"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -X POST -H 'Content-Type: application/mbox' \
	--data-binary @"$tmp/three.mbox" "$BW_URL/api/v1/explain/batch")
body=$(cat "$tmp/body")
is "$code" 200 "mbox: 200"
is "$(jqr "$body" '[.results[] | "\(.id):\(.result.findings[0].reason)"] | join(" ")')" \
	"0:userunknown 1:mailboxfull 2:$(jqr "$body" '.results[2].result.findings[0].reason')" "mbox: one result per message"
is "$(jqr "$body" '.results[2].result.findings[0].temporary')" true "mbox: the delayed one is temporary"
batch application/mbox 'no from line here'
is "$code" 400 "mbox without From lines: 400"

# Limits and whole-request errors
batch application/json "$(jq -nc '[range(11) | "550 5.1.1 User unknown"]')"
is "$code" 413 "11 items over --max-batch 10: 413"
like "$(jqr "$body" .detail)" "at most 10" "413 says the limit"
batch application/json "$(jq -nc '[range(10) | "550 5.1.1 User unknown"]')"
is "$(jqr "$body" .count)" 10 "10 items: all answered"
batch application/json '{"items": "x"}'
is "$code" 400 "items not an array: 400"
batch application/json '[1,'
is "$code" 400 "bad JSON: 400"
batch application/json '{"items": [], "audience": "boss"}'
is "$code" 400 "bad batch audience: 400"
batch application/json '[]'
is "$(jqr "$body" '[.count, (.results | length)] | join(" ")')" "0 0" "empty batch: 200, no results"
batch text/csv 'a,b'
is "$code" 415 "unsupported type: 415"
hdr=$(curl -s -D - -o /dev/null "$BW_URL/api/v1/explain/batch")
like "$hdr" "HTTP/1.1 405" "GET batch: 405"
like "$hdr" "Allow: POST" "GET batch: Allow: POST"
big="$tmp/big.json"
jq -nc '[range(3) | ("550 5.1.1 User unknown " + ("x" * 400000))]' >"$big"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data-binary @"$big" "$BW_URL/api/v1/explain/batch")
is "$code" 413 "a batch over the body limit: 413"
body=$(curl -s "$BW_URL/metrics")
like "$body" 'route="api.explain_batch",status="200"' "metrics count batch requests"

# The CLI: NDJSON over several files, and one line per message of an mbox
printf '550 5.1.1 <a@example.com>: User unknown\n' >"$tmp/a.txt"
printf '552 5.2.2 Mailbox full\n' >"$tmp/b.txt"
out=$("$BUILD/bouncewhy" explain "$tmp/a.txt" "$tmp/b.txt")
is "$(wc -l <<<"$out" | tr -d ' ')" 2 "CLI, two files: two lines"
is "$(jq -rc '"\(.file | split("/") | last):\(.findings[0].reason)"' <<<"$out" | tr '\n' ' ')" \
	"a.txt:userunknown b.txt:mailboxfull " "CLI, two files: each line names its file"
out=$("$BUILD/bouncewhy" explain --ndjson "$tmp/three.mbox")
is "$(wc -l <<<"$out" | tr -d ' ')" 3 "CLI --ndjson over an mbox: one line per message"
is "$(jq -rc '"\(.message):\(.findings[0].reason)"' <<<"$out" | head -2 | tr '\n' ' ')" \
	"0:userunknown 1:mailboxfull " "CLI mbox: each line with its message's findings"
is "$(jq -rc '.api_version' <<<"$out" | sort -u)" 1 "CLI NDJSON: api_version on every line"
out=$("$BUILD/bouncewhy" explain "$tmp/a.txt" "$tmp/nonexistent" "$tmp/b.txt" 2>"$tmp/err")
rc=$?
is "$(wc -l <<<"$out" | tr -d ' ')" 2 "CLI: a missing file does not stop the others"
is "$rc" 2 "CLI: ... but the exit status says 2"
like "$(cat "$tmp/err")" "nonexistent" "CLI: the missing file is named on stderr"
done_testing

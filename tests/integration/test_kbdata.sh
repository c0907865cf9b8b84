#!/bin/bash
# test_kbdata.sh - checks the knowledge data in rules/: reasons.json,
# status-codes.json and blocklists.json (shape, references, URLs, patterns).
#
# Prints TAP. Needs jq; the pattern check needs pcre2test (Debian
# pcre2-utils) and is skipped without it; the loader check needs
# $BUILD/bouncewhy and is skipped without it.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
rules="$root/rules"
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD="$root/$BUILD" ;; esac

n=0
failed=0
ok() {	# ok STATUS NAME [DIAGNOSTIC]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		[ -n "${3:-}" ] && printf '%s\n' "$3" | head -20 | sed 's/^/#   /'
	fi
	return 0
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }

if ! command -v jq >/dev/null; then
	echo "1..1"
	echo "ok 1 # SKIP jq is not installed"
	exit 0
fi

R="$rules/reasons.json" S="$rules/status-codes.json" B="$rules/blocklists.json"
for f in "$R" "$S" "$B"; do
	out=$(jq empty "$f" 2>&1)
	ok $? "$(basename "$f") is valid JSON" "$out"
done

# The reason vocabulary, in the order of the design.
want="authfailure badreputation blocked contenterror delivered exceedlimit expired
failedstarttls feedback filtered hasmoved hostunknown mailboxfull mailererror mesgtoobig
networkerror norelaying notaccept notcompliantrfc onhold policyviolation rejected requireptr
securityerror spamdetected speeding suppressed suspend syntaxerror systemerror systemfull
toomanyconn undefined userunknown vacation virusdetected"
got=$(jq -r '.reasons | keys[]' "$R" 2>/dev/null | sort | tr '\n' ' ')
exp=$(printf '%s\n' $want | sort | tr '\n' ' ')
[ "$got" = "$exp" ]
ok $? "reasons.json holds exactly the 36 reasons" "got: $got"

for r in $want; do
	bad=$(jq -r --arg r "$r" '
	  .reasons[$r] as $e
	  | if $e == null then "missing" else
	    [ (if ($e.title | type) == "string" and ($e.title | length) > 0 then empty else "title" end),
	      (if ($e.hard_bounce | type) == "boolean" then empty else "hard_bounce" end),
	      (if ($e.action_by | IN("sender","sender_admin","recipient","recipient_admin","nobody")) then empty else "action_by" end),
	      (if ($e.temporary | type) == "boolean" or $e.temporary == null then empty else "temporary" end),
	      (["user","admin"][] as $a
	       | (if ($e.summary[$a] | type) == "string" and ($e.summary[$a] | length) > 20 then empty else "summary." + $a end),
	         (if ($e.steps[$a] | type) == "array" and ($e.steps[$a] | length) > 0
	             and all($e.steps[$a][]; type == "string" and length > 0)
	          then empty else "steps." + $a end))
	    ] | join(" ") end' "$R" 2>&1)
	[ -z "$bad" ]
	ok $? "reason $r: title, flags, summary and steps for both audiences" "bad: $bad"
done

# Placeholders must be ones the explainer fills.
bad=$(jq -r '[.reasons[] | .. | strings] | map(scan("\\{[a-z_]+\\}")) | flatten | unique
	| map(select(IN("{ip}","{recipient}","{remote_mta}","{blocklist}","{delist_url}","{status}","{reply_code}") | not)) | join(" ")' "$R" 2>&1)
[ -z "$bad" ]
ok $? "reasons.json uses only known placeholders" "unknown: $bad"

bad=$(jq -r --slurpfile r "$R" '(.status + .reply)[] | select(.reason != null)
	| select($r[0].reasons[.reason] == null) | "\(.code) -> \(.reason)"' "$S" 2>&1)
[ -z "$bad" ]
ok $? "every reason named in status-codes.json exists" "$bad"

bad=$(jq -r '(.status | map(.code) | group_by(.) | map(select(length > 1)[0])),
	     (.reply | map(.code) | group_by(.) | map(select(length > 1)[0])) | .[] | tostring' "$S" 2>&1)
[ -z "$bad" ]
ok $? "status and reply codes are unique" "duplicates: $bad"

# The registered enhanced codes: X.0.0, X.1.0-10, X.2.0-4, X.3.0-6, X.4.0-7,
# X.5.0-6, X.6.0-10, X.7.0-30.
exp=$( { echo X.0.0
	for d in $(seq 0 10); do echo "X.1.$d"; done
	for d in $(seq 0 4); do echo "X.2.$d"; done
	for d in $(seq 0 6); do echo "X.3.$d"; done
	for d in $(seq 0 7); do echo "X.4.$d"; done
	for d in $(seq 0 6); do echo "X.5.$d"; done
	for d in $(seq 0 10); do echo "X.6.$d"; done
	for d in $(seq 0 30); do echo "X.7.$d"; done; } | sort | tr '\n' ' ')
got=$(jq -r '.status[].code' "$S" 2>/dev/null | sort | tr '\n' ' ')
[ "$got" = "$exp" ]
ok $? "status-codes.json covers the registered enhanced codes" "got: $got"

bad=$(jq -r '(.status + .reply)[] | select((.title | type) != "string" or (.title | length) == 0) | .code' "$S" 2>&1)
[ -z "$bad" ]
ok $? "every status and reply code has a title" "$bad"

for c in 211 214 220 221 250 251 252 354 421 450 451 452 455 500 501 502 503 504 521 523 530 534 535 538 550 551 552 553 554 555 556; do
	jq -e --argjson c "$c" 'any(.reply[]; .code == $c)' "$S" >/dev/null 2>&1 || bad="$bad $c"
done
[ -z "${bad// /}" ]
ok $? "status-codes.json has the bare reply codes" "missing:$bad"
bad=""

bad=$(jq -r '.blocklists[] | select((.id | type) != "string" or (.name | type) != "string"
	or ((.kind != "provider") and ((.zones | type) != "array"))
	or (.kind | IN("dnsbl","domain","provider") | not)) | (.id // "?")' "$B" 2>&1)
[ -z "$bad" ]
ok $? "every blocklist has id, name, kind and zones (or is a provider)" "$bad"

bad=$(jq -r '.blocklists | map(.id) | group_by(.) | map(select(length > 1)[0]) | .[]' "$B" 2>&1)
[ -z "$bad" ]
ok $? "blocklist ids are unique" "$bad"

bad=$(jq -r '.blocklists[] | .id as $id | .zones[]?
	| select((.zone | type) != "string" or (.ipv4 | type) != "boolean" or (.ipv6 | type) != "boolean"
	  or (.query | type) != "boolean" or (.codes | type) != "object"
	  or any(.codes | keys[]; test("^127\\.[0-9]+\\.[0-9]+\\.[0-9]+$") | not))
	| "\($id): \(.zone)"' "$B" 2>&1)
[ -z "$bad" ]
ok $? "every zone has zone, ipv4, ipv6, query and 127.x.y.z codes" "$bad"

bad=$(jq -r '.blocklists[] | select(.mentions | type != "array" or length == 0) | .id' "$B" 2>&1)
[ -z "$bad" ]
ok $? "every blocklist has mention patterns" "$bad"

bad=$(jq -r --slurpfile r "$R" '.blocklists[] | select(.reason != null and $r[0].reasons[.reason] == null) | .id' "$B" 2>&1)
[ -z "$bad" ]
ok $? "every blocklist reason exists" "$bad"

bad=$(jq -r '.blocklists[] | .id as $id | [.lookup_url, .delist_url, .home_url][]
	| select(. != null) | select(startswith("https://") | not) | "\($id): \(.)"' "$B" 2>&1)
[ -z "$bad" ]
ok $? "every blocklist URL starts with https://" "$bad"

bad=$(jq -r '.blocklists[] | select((.lookup_url | type) != "string" or (.delist_url | type) != "string") | .id' "$B" 2>&1)
[ -z "$bad" ]
ok $? "every blocklist has a lookup and a delist URL" "$bad"

q=$(jq '[.blocklists[] | select(.kind == "dnsbl") | .zones[] | select(.query and .ipv4)] | length' "$B" 2>/dev/null)
[ "${q:-0}" -ge 20 ]
ok $? "at least 20 IPv4 zones are queried by default (got ${q:-0})"

if command -v pcre2test >/dev/null; then
	bad=""
	while IFS=$'\t' read -r id pat; do
		# pcre2test reads /PATTERN/ with / escaped inside
		res=$(printf '/%s/i,utf\n' "${pat//\//\\/}" | pcre2test -q 2>&1)
		case $res in *Failed:*) bad="$bad$id: $pat :: $res"$'\n' ;; esac
	done < <(jq -r '.blocklists[] | .id as $id | .mentions[] | "\($id)\t\(.)"' "$B")
	[ -z "$bad" ]
	ok $? "every mention pattern compiles with PCRE2 (caseless, UTF)" "$bad"
	# A mention must not fire on plain bounce words nor on common header names.
	bad=""
	sample='550 5.1.1 <user@example.com>: Recipient address rejected: User unknown
Received: from mx.example.com by barracuda1.example.com (Spam Firewall)
X-Mimecast-Originator: <> X-Proofpoint-Spam-Details: rule=notspam
X-Spam-Status: RCVD_IN_SORBS_DUL,URIBL_BLOCKED,SURBL_MULTI
Abuse report from abusix.com; Received: from hes.trendmicro.com'
	while IFS=$'\t' read -r id pat; do
		hit=$(printf '/%s/i,utf\n%s\n' "${pat//\//\\/}" "$(printf '%s' "$sample" | tr '\n' ' ')" | pcre2test -q 2>&1 | grep -c '^ 0:')
		[ "$hit" -eq 0 ] || bad="$bad$id: $pat"$'\n'
	done < <(jq -r '.blocklists[] | .id as $id | .mentions[] | "\($id)\t\(.)"' "$B")
	[ -z "$bad" ]
	ok $? "no mention pattern matches ordinary headers or unrelated bounce text" "$bad"
else
	skip "pcre2test is not installed (Debian pcre2-utils)"
	skip "pcre2test is not installed (Debian pcre2-utils)"
fi

# The loader accepts these three files on their own.
if [ -x "$BUILD/bouncewhy" ]; then
	tmp=$(mktemp -d)
	cp "$R" "$S" "$B" "$tmp/"
	out=$("$BUILD/bouncewhy" --rules "$tmp" check-rules 2>&1)
	rc=$?
	rm -rf "$tmp"
	[ $rc -eq 0 ]
	ok $? "bouncewhy loads reasons, status codes and blocklists" "$out"
else
	skip "$BUILD/bouncewhy is not built"
fi

echo "1..$n"
[ "$failed" -eq 0 ]

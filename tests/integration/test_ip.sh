#!/bin/bash
# test_ip.sh - the IP check against a real DNS server (TAP): `bouncewhy ip`
# and GET /api/v1/ip/{ip} through nginx + bouncewhy-fcgi.
#
# Starts dnsmasq with tests/dns/ (fake blocklist zones, PTR records, a zone
# that never answers, one that answers SERVFAIL), runs the CLI on the test
# addresses and checks the JSON; checks that every queried zone of the real
# rules/blocklists.json lists the RFC 5782 test point 127.0.0.2 and not
# 127.0.0.1; then asks the HTTP API (the cache, 400 and 422). Needs dnsmasq
# and node; skips without. Env: BUILD (default build).
source "$(dirname "$0")/lib.sh"
cd "$BW_ROOT" || exit 1
CLI="$BUILD/bouncewhy"
PATH=$PATH:/usr/sbin

if [ ! -x "$CLI" ] || ! command -v dnsmasq >/dev/null 2>&1 ||
   ! command -v node >/dev/null 2>&1; then
	skip "needs $CLI, dnsmasq and node"
	done_testing
	exit 0
fi

state=$(mktemp -d /tmp/bw-test-ip.XXXXXX)
cleanup() { bw_stack_stop; tests/dns/stop.sh "$state/dns"; rm -rf "$state"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! dnsline=$(tests/dns/start.sh "$state/dns"); then
	ok 1 "start dnsmasq: $(tail -3 "$state/dns/dnsmasq.log" 2>/dev/null)"
	done_testing
	exit 1
fi
DNS=${dnsline#BW_DNS=}
ok 0 "dnsmasq answers on $DNS"

# A knowledge base whose blocklists are the test lists.
mkdir -p "$state/rules"
for f in reasons.json status-codes.json; do
	ln -s "$PWD/rules/$f" "$state/rules/$f"
done
ln -s "$PWD/tests/dns/blocklists.json" "$state/rules/blocklists.json"

# run NAME ADDR [ARGS...]: JSON in $state/NAME.json, exit status in $rc,
# wall time in ms in $wall
run() {
	name=$1
	shift
	t0=$(date +%s%N)
	"$CLI" --rules "$state/rules" ip "$@" --resolver "$DNS" --allow-private \
		>"$state/$name.json" 2>"$state/$name.err"
	rc=$?
	wall=$(( ($(date +%s%N) - t0) / 1000000 ))
}

# check DESCRIPTION NAME JS: JS (with r = the JSON, L(zone) = its listing)
# must be true
check() {
	if node -e '
		const fs = require("fs");
		const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
		const L = (z) => r.listings.find((l) => l.zone === z);
		const ok = eval(process.argv[2]);
		if (!ok) { console.error(JSON.stringify(r, null, 1)); process.exit(1); }
	' "$state/$2.json" "$3" 2>"$state/$2.check"; then
		ok 0 "$1"
	else
		ok 1 "$1"
		sed 's/^/# /' "$state/$2.check" | head -80
	fi
}

expect_rc() {
	if [ "$rc" -eq "$1" ]; then ok 0 "$2 (exit $1)"; else ok 1 "$2 (exit $rc, want $1)"; sed 's/^/# /' "$state/$name.err"; fi
}

run listed 192.0.2.10 --timeout 1.5
expect_rc 1 "192.0.2.10 is listed"
check "192.0.2.10: zen listed with two codes, meanings and TXT" listed '
	L("zen.spamhaus.org").status === "listed" && L("zen.spamhaus.org").listed === true &&
	L("zen.spamhaus.org").codes.map((c) => c.code).sort().join() === "127.0.0.2,127.0.0.4" &&
	L("zen.spamhaus.org").codes.every((c) => c.meaning.length > 0) &&
	/SBL000001/.test(L("zen.spamhaus.org").txt) &&
	L("zen.spamhaus.org").query === "10.2.0.192.zen.spamhaus.org"'
check "192.0.2.10: barracuda listed with TXT, spamcop listed without" listed '
	L("b.barracudacentral.org").status === "listed" && /barracuda/.test(L("b.barracudacentral.org").txt) &&
	L("bl.spamcop.net").status === "listed" && L("bl.spamcop.net").txt === null'
check "192.0.2.10: URLs with the IP filled in" listed '
	L("zen.spamhaus.org").delist_url === "https://check.spamhaus.org/results/?query=192.0.2.10" &&
	L("b.barracudacentral.org").lookup_url.endsWith("ip=192.0.2.10") &&
	L("bl.spamcop.net").delist_url === null'
check "192.0.2.10: reverse DNS mail.good.test, forward-confirmed, not generic" listed '
	r.reverse_dns.ptr.join() === "mail.good.test" && r.reverse_dns.forward_confirmed === true &&
	r.reverse_dns.generic === false && r.reverse_dns.names[0].forward.join() === "192.0.2.10"'
check "silent zone: timeout, not listed, with a reason" listed '
	L("silent.bl.test").status === "timeout" && L("silent.bl.test").listed === false &&
	L("silent.bl.test").reason.length > 0'
check "whole check within the 1.5 s deadline" listed '
	r.summary.elapsed_ms >= 1400 && r.summary.elapsed_ms <= 1700 && r.timeout_ms === 1500'
[ "$wall" -lt 2500 ]; ok $? "CLI wall time ${wall} ms < 2.5 s"
check "SERVFAIL zone: error with a reason, not listed" listed '
	L("servfail.bl.test").status === "error" && L("servfail.bl.test").listed === false &&
	/SERVFAIL/.test(L("servfail.bl.test").reason)'
check "query:false zone and domain lists are not asked; summary adds up" listed '
	!L("paid.bl.test") && !L("dbl.bl.test") && r.listings.length === 5 &&
	r.summary.checked === 5 && r.summary.listed === 3 && r.summary.errors === 1 &&
	r.summary.timeouts === 1 && r.summary.not_listed === 0'

run clean 192.0.2.20 --timeout 0.5
expect_rc 0 "192.0.2.20 is listed nowhere"
check "192.0.2.20: not_listed on answered zones; no PTR" clean '
	["zen.spamhaus.org", "b.barracudacentral.org", "bl.spamcop.net"].every((z) =>
		L(z).status === "not_listed" && L(z).listed === false && L(z).codes.length === 0) &&
	r.reverse_dns.status === "none" && r.reverse_dns.ptr.length === 0 &&
	r.reverse_dns.forward_confirmed === false'

run pubres 192.0.2.30 --timeout 0.5
check "192.0.2.30: 127.255.255.254 is an error (public resolver), never a listing" pubres '
	L("zen.spamhaus.org").status === "error" && L("zen.spamhaus.org").listed === false &&
	L("zen.spamhaus.org").codes[0].code === "127.255.255.254" &&
	/public/.test(L("zen.spamhaus.org").reason) && r.summary.listed === 0'
check "192.0.2.30: generic PTR without forward record" pubres '
	r.reverse_dns.ptr.join() === "192-0-2-30.dsl.isp.test" && r.reverse_dns.generic === true &&
	r.reverse_dns.forward_confirmed === false && r.reverse_dns.names[0].generic_reason.length > 0 &&
	r.reverse_dns.names[0].forward_status === "nxdomain"'
[ "$rc" -eq 0 ]; ok $? "192.0.2.30: exit 0 (errors are not listings), got $rc"

run rewrite 192.0.2.40 --timeout 0.5
check "192.0.2.40: answer outside 127/8 is an error; PTR not forward-confirmed" rewrite '
	L("b.barracudacentral.org").status === "error" && /127\.0\.0\.0\/8/.test(L("b.barracudacentral.org").reason) &&
	r.reverse_dns.ptr.join() === "mx.mismatch.test" && r.reverse_dns.forward_confirmed === false &&
	r.reverse_dns.names[0].forward.join() === "192.0.2.41"'

run v6 2001:db8::99 --timeout 0.5
check "2001:db8::99: nibble query, listed on zen with TXT; IPv4-only lists skipped" v6 '
	r.family === "ipv6" && L("zen.spamhaus.org").status === "listed" &&
	L("zen.spamhaus.org").codes[0].code === "127.0.0.3" && /CSS/.test(L("zen.spamhaus.org").txt) &&
	L("zen.spamhaus.org").query.startsWith("9.9.0.0.") && !L("b.barracudacentral.org") &&
	r.reverse_dns.forward_confirmed === true'

run tp2 127.0.0.2 --timeout 0.5
check "127.0.0.2 test point: listed on every answering zone" tp2 '
	r.listings.filter((l) => !/^(silent|servfail)\./.test(l.zone)).every((l) => l.status === "listed")'
run tp1 127.0.0.1 --timeout 0.5
check "127.0.0.1 test point: listed nowhere" tp1 '
	r.listings.every((l) => l.status !== "listed") && r.summary.listed === 0'

# input errors: exit 2 with a message
"$CLI" --rules "$state/rules" ip 192.0.2.010 --resolver "$DNS" >/dev/null 2>"$state/e1"
is $? 2 "leading zero: exit 2"
"$CLI" --rules "$state/rules" ip 10.0.0.1 --resolver "$DNS" >/dev/null 2>"$state/e2"
rc=$?
[ $rc -eq 2 ] && grep -q "not a public address" "$state/e2"; ok $? "private address refused: exit 2 ($rc)"
"$CLI" --rules "$state/rules" ip 192.0.2.10 --allow-private --resolver "no such server" >/dev/null 2>&1
is $? 2 "bad --resolver: exit 2"
"$CLI" --rules "$state/rules" ip 192.0.2.10 --allow-private --timeout -1 >/dev/null 2>&1
is $? 2 "bad --timeout: exit 2"

# The real knowledge base: RFC 5782 test points on every queried zone.
"$CLI" ip 127.0.0.2 --allow-private --resolver "$DNS" --timeout 2 --compact \
	>"$state/real2.json" 2>"$state/real2.err"
if [ $? -le 1 ] && [ -s "$state/real2.json" ]; then
	check "rules/blocklists.json: every queried zone lists 127.0.0.2" real2 '
		r.listings.length > 0 && r.listings.every((l) => l.status === "listed")'
	"$CLI" ip 127.0.0.1 --allow-private --resolver "$DNS" --timeout 2 --compact \
		>"$state/real1.json" 2>"$state/real1.err"
	check "rules/blocklists.json: no queried zone lists 127.0.0.1" real1 '
		r.listings.length > 0 && r.listings.every((l) => l.status === "not_listed")'
else
	skip "the knowledge base does not load: $(head -c 200 "$state/real2.err")"
	skip "the knowledge base does not load"
fi

# The HTTP API: GET /api/v1/ip/{ip}
if [ ! -x "$BUILD/bouncewhy-fcgi" ] || ! command -v nginx >/dev/null 2>&1 ||
   ! command -v curl >/dev/null 2>&1; then
	skip "HTTP: needs $BUILD/bouncewhy-fcgi, nginx and curl"
	done_testing
	exit $?
fi
get() { # NAME PATH -> $state/NAME.json, status in $code
	code=$(curl -s -o "$state/$1.json" -w '%{http_code}' "$BW_URL$2")
}
if bw_stack_start ip --rules "$state/rules" --resolver "$DNS" --dns-timeout 1000 \
		--allow-private; then
	get h1 /api/v1/ip/192.0.2.10
	is "$code" 200 "HTTP: GET /api/v1/ip/192.0.2.10 is 200"
	check "HTTP: listed on zen, barracuda, spamcop; silent zone timed out; not cached" h1 '
		r.ip === "192.0.2.10" && r.summary.listed === 3 && r.summary.timeouts === 1 &&
		L("silent.bl.test").status === "timeout" && r.cached === false &&
		r.reverse_dns.forward_confirmed === true'
	t0=$(date +%s%N)
	get h2 /api/v1/ip/192.0.2.10
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	if grep -q bw_ipcache_new cgi/main.c; then
		check "HTTP: a refresh comes from the cache (cached: true, same listings)" h2 '
			r.cached === true && r.summary.listed === 3 && r.listings.every((l) => l.cached === true) &&
			L("silent.bl.test").status === "timeout"'
		[ "$ms" -lt 500 ]; ok $? "HTTP: the refresh took ${ms} ms, no new DNS wait"
	else
		skip "HTTP cache: cgi/main.c does not create app.ipcache yet"
		skip "HTTP cache: cgi/main.c does not create app.ipcache yet"
	fi
	get h3 /api/v1/ip/2001:db8::99
	check "HTTP: IPv6 2001:db8::99 listed on zen" h3 '
		r.family === "ipv6" && L("zen.spamhaus.org").status === "listed"'
	get h4 /api/v1/ip/not-an-ip
	is "$code" 400 "HTTP: not an address is 400"
	check "HTTP: 400 is problem+json" h4 'r.status === 400 && typeof r.detail === "string"'
	get h5 /api/v1/ip/192.0.2.010
	is "$code" 400 "HTTP: a leading zero is 400"
	bw_stack_stop
else
	ok 1 "HTTP: the stack starts (allow-private)"
fi
if bw_stack_start ip-public --rules "$state/rules" --resolver "$DNS" --dns-timeout 1000; then
	get h6 /api/v1/ip/192.0.2.10
	is "$code" 422 "HTTP: a documentation address is 422 without --allow-private"
	check "HTTP: 422 says why" h6 '/not a public address/.test(r.detail)'
	get h7 /api/v1/ip/10.1.2.3
	is "$code" 422 "HTTP: a private address is 422"
else
	ok 1 "HTTP: the stack starts"
fi
done_testing

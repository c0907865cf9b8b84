#!/bin/bash
# run.sh - bouncewhy's browser tests: start the nginx + FastCGI stack on a
# free loopback port (tests/integration/lib.sh), the test DNS for the IP
# check (tests/dns/), and a stand-in support portal on a second port
# (portal.mjs), then drive Debian's Chromium through every page
# (pages.test.mjs). Prints TAP. Screenshots go to $BUILD/test-output/browser/.
#
# Needs node, /usr/bin/chromium and the npm packages of package-lock.json
# (installed here with `npm ci` when missing). Without them it skips.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../integration/lib.sh
. "$here/../integration/lib.sh"

out="$BUILD/test-output/browser"
mkdir -p "$out"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM

skip_all() {
	echo "1..1"
	echo "ok 1 - browser tests # SKIP $1"
	exit 0
}

command -v node >/dev/null 2>&1 || skip_all "node is not installed"
[ -x "$CHROMIUM" ] || skip_all "no Chromium at $CHROMIUM"
[ -x "$BUILD/bouncewhy-fcgi" ] || skip_all "no $BUILD/bouncewhy-fcgi (build first)"
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/@axe-core/playwright" ]; then
	if ! (cd "$here" && npm ci --no-audit --no-fund) >"$out/npm.log" 2>&1; then
		skip_all "npm ci failed (see $out/npm.log)"
	fi
fi

dns_state="$BUILD/test-run/browser-dns"
portal_pid=""
cleanup() {
	[ -n "$portal_pid" ] && kill "$portal_pid" 2>/dev/null && wait "$portal_pid" 2>/dev/null
	"$BW_ROOT/tests/dns/stop.sh" "$dns_state" >/dev/null 2>&1
	bw_stack_stop
}
trap cleanup EXIT

# The IP check asks the test DNS when it starts; otherwise the page shows
# every list as "could not check", which the tests accept.
resolver=()
if "$BW_ROOT/tests/dns/start.sh" "$dns_state" >/dev/null 2>"$out/dns.log"; then
	# shellcheck disable=SC1091
	. "$dns_state/env"
	resolver=(--resolver "$BW_DNS")
else
	resolver=(--resolver 127.0.0.1:9 --dns-timeout 300)
fi

if ! bw_stack_start browser --allow-private --frame-ancestors "*" "${resolver[@]}"; then
	echo "1..1"
	echo "not ok 1 - start the nginx + FastCGI stack"
	exit 1
fi
trap cleanup EXIT	# lib.sh set its own; ours stops everything

BW_URL=$BW_URL node "$here/portal.mjs" >"$out/portal.url" 2>"$out/portal.log" &
portal_pid=$!
# (node can take seconds to start on a loaded machine: wait up to 30 s)
for _ in $(seq 1 300); do
	[ -s "$out/portal.url" ] && break
	sleep 0.1
done
BW_PORTAL_URL=$(head -n 1 "$out/portal.url" 2>/dev/null || true)
# a portal that did not start fails the embed test instead of skipping it
[ -n "$BW_PORTAL_URL" ] || BW_PORTAL_URL="http://127.0.0.1:9/the-portal-page-did-not-start"

BW_URL=$BW_URL BW_PORTAL_URL=$BW_PORTAL_URL BW_OUT=$out BW_SHARED=$BW_SHARED \
	node "$here/pages.test.mjs"

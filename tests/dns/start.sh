#!/bin/sh
# start.sh - start the IP-check tests' DNS: dnsmasq on 127.0.0.1 and a free
# port with tests/dns/dnsmasq.conf, plus blackhole.js (a server that never
# answers, one that answers SERVFAIL, one that answers slowly).
#
# Usage: tests/dns/start.sh STATE_DIR [BLOCKLISTS_FILE...]
#
# Every zone of rules/blocklists.json, tests/dns/blocklists.json and the
# files given answers NXDOMAIN below it and lists the RFC 5782 test point
# 127.0.0.2; silent.bl.test goes to the silent server, servfail.bl.test to
# the failing one, any zone with a label benchN to the slow one. Writes
# STATE_DIR/env (BW_DNS=127.0.0.1:PORT, BW_DNS_PORT) and prints the BW_DNS
# line. Stop with tests/dns/stop.sh STATE_DIR. Exit 1 when it cannot start.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
state=${1:?usage: start.sh STATE_DIR [BLOCKLISTS_FILE...]}
shift
mkdir -p "$state"
state=$(cd "$state" && pwd)

command -v dnsmasq >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
command -v dnsmasq >/dev/null 2>&1 || { echo "start.sh: dnsmasq not installed" >&2; exit 1; }
command -v node >/dev/null 2>&1 || { echo "start.sh: node not installed" >&2; exit 1; }

node "$here/blackhole.js" >"$state/blackhole.ports" 2>"$state/blackhole.log" &
echo $! >"$state/blackhole.pid"
i=0
while [ ! -s "$state/blackhole.ports" ]; do
	i=$((i + 1))
	if [ $i -gt 50 ]; then echo "start.sh: blackhole.js did not start" >&2; exit 1; fi
	sleep 0.1
done
read -r drop_port fail_port slow_port <"$state/blackhole.ports"

gen="$state/dnsmasq.gen.conf"
{
	echo "server=/silent.bl.test/127.0.0.1#$drop_port"
	echo "server=/servfail.bl.test/127.0.0.1#$fail_port"
	node "$here/zones.js" --skip silent.bl.test,servfail.bl.test \
		"$root/rules/blocklists.json" "$here/blocklists.json" "$@" |
	while IFS= read -r line; do
		case "$line" in
		local=/*bench[0-9]*) echo "server=${line#local=}127.0.0.1#$slow_port" ;;
		address=/*bench[0-9]*|txt-record=*bench[0-9]*) ;;
		*) echo "$line" ;;
		esac
	done
} >"$gen"

# A free port: try a few until dnsmasq binds.
tries=0
while :; do
	tries=$((tries + 1))
	port=$(( (($$ + tries * 7919) % 20000) + 30000 ))
	dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll \
		--listen-address=127.0.0.1 --bind-interfaces --port="$port" \
		--user=root --cache-size=0 \
		--conf-file="$here/dnsmasq.conf" --conf-file="$gen" \
		--log-facility=- >"$state/dnsmasq.log" 2>&1 &
	echo $! >"$state/dnsmasq.pid"
	if node "$here/probe.js" "$port" mail.good.test; then
		break
	fi
	kill "$(cat "$state/dnsmasq.pid")" 2>/dev/null || true
	if [ $tries -ge 10 ]; then
		echo "start.sh: dnsmasq did not start; see $state/dnsmasq.log" >&2
		kill "$(cat "$state/blackhole.pid")" 2>/dev/null || true
		exit 1
	fi
done
printf 'BW_DNS=127.0.0.1:%s\nBW_DNS_PORT=%s\n' "$port" "$port" >"$state/env"
echo "BW_DNS=127.0.0.1:$port"

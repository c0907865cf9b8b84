#!/bin/sh
# stop.sh - stop what tests/dns/start.sh STATE_DIR started (by its pids).
# Usage: tests/dns/stop.sh STATE_DIR
state=${1:?usage: stop.sh STATE_DIR}
for f in dnsmasq.pid blackhole.pid; do
	if [ -s "$state/$f" ]; then
		kill "$(cat "$state/$f")" 2>/dev/null || true
		rm -f "$state/$f"
	fi
done
exit 0

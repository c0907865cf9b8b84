#!/bin/sh
# bench_ip.sh - is the IP check parallel? Checks one address against 30
# blocklist zones served by the local dnsmasq of tests/dns/, each answered
# after its own delay (zone benchN after N x 10 ms: 10 ms ... 300 ms, 4.65 s
# in sum), and prints the wall time of the whole check next to the slowest
# single answer and the sum of all. Parallel means wall ~ slowest, far
# below the sum. Exit 1 when the wall time is over twice the slowest.
# Env: BUILD (default build), RUNS (default 3).
set -u

cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
CLI="$BUILD/bouncewhy"
PATH=$PATH:/usr/sbin
for need in dnsmasq node; do
	command -v $need >/dev/null 2>&1 || { echo "bench_ip: needs $need" >&2; exit 0; }
done
[ -x "$CLI" ] || { echo "bench_ip: build $CLI first" >&2; exit 2; }

state=$(mktemp -d /tmp/bw-bench-ip.XXXXXX)
trap 'tests/dns/stop.sh "$state/dns"; rm -rf "$state"' EXIT
trap 'exit 1' INT TERM

node -e '
	const lists = [];
	for (let i = 1; i <= 30; i++)
		lists.push({id: "bench" + i, name: "bench list " + i, kind: "dnsbl",
			zones: [{zone: "bench" + i + ".bl.test", ipv4: true, ipv6: false,
				 query: true, codes: {"127.0.0.2": "listed"}}]});
	console.log(JSON.stringify({blocklists: lists}));
' >"$state/bench-lists.json"
mkdir -p "$state/dns"
dnsline=$(tests/dns/start.sh "$state/dns" "$state/bench-lists.json") || exit 1
DNS=${dnsline#BW_DNS=}

node -e '
	const lists = JSON.parse(require("fs").readFileSync(process.argv[1]));
	console.log(JSON.stringify({blocklists: [lists.blocklists[29]]}));
' "$state/bench-lists.json" >"$state/slowest.json"

# A small knowledge base, so that the CLI's wall time is mostly the check.
mkdir -p "$state/rules"
for f in reasons.json status-codes.json; do
	ln -s "$PWD/rules/$f" "$state/rules/$f"
done
ln -s "$PWD/tests/dns/blocklists.json" "$state/rules/blocklists.json"

run() {	# run LISTS OUT -> wall ms on stdout
	t0=$(date +%s%N)
	"$CLI" --rules "$state/rules" ip 192.0.2.20 --allow-private --resolver "$DNS" --timeout 3 \
		--blocklists "$1" --compact >"$2"
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

worst=0
i=0
while [ $i -lt "$RUNS" ]; do
	i=$((i + 1))
	single=$(run "$state/slowest.json" "$state/single.json")
	wall=$(run "$state/bench-lists.json" "$state/all.json")
	node -e '
		const fs = require("fs");
		const r = JSON.parse(fs.readFileSync(process.argv[1]));
		const s = JSON.parse(fs.readFileSync(process.argv[2]));
		const ms = r.listings.map((l) => l.elapsed_ms);
		const answered = r.listings.filter((l) => l.status === "not_listed").length;
		const slowest = Math.max(...ms), sum = ms.reduce((a, b) => a + b, 0);
		console.log(`run ${process.argv[5]}: 30 zones (${answered} answered): ` +
			`check ${r.summary.elapsed_ms} ms (CLI wall ${process.argv[3]} ms); ` +
			`slowest single answer ${slowest} ms in the check, ` +
			`${s.summary.elapsed_ms} ms alone (CLI wall ${process.argv[4]} ms); ` +
			`sum of all answers ${sum} ms; check/slowest = ` +
			(r.summary.elapsed_ms / Math.max(1, s.summary.elapsed_ms)).toFixed(2));
		process.exit(answered === 30 && r.summary.elapsed_ms < 2 * Math.max(slowest, s.summary.elapsed_ms) ? 0 : 1);
	' "$state/all.json" "$state/single.json" "$wall" "$single" "$i" || worst=1
done
exit $worst

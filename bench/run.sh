#!/bin/sh
# run.sh - `make bench`: every throughput figure of bouncewhy, in one run.
# Figures only; nothing here fails because a machine is slow.
#   lines:  single-line classification (bw_classify, bw_explain) and the
#           pathological 1 MiB input
#   emails: parse + classify the shared corpus (maildir/bsd), one process
#   ip:     a 30-zone IP check against a local DNS server (parallel?)
#   http:   wrk against nginx static, /healthz and /api/v1/explain (when
#           bench/http.sh and wrk are there; BENCH_HTTP=0 skips it)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BW_SHARED=${BW_SHARED:-../shared}
export BUILD BW_SHARED

echo "== single lines (one core)"
"$BUILD/bench/bench_lines" rules "${SECONDS_PER:-2}"

echo
echo "== whole emails (one core)"
corpus="$BW_SHARED/testdata/bounces/emails/maildir/bsd"
if [ -d "$corpus" ]; then
	"$BUILD/bench/bench_email" "$corpus" rules "${SECONDS_PER:-2}"
else
	echo "skipped: no corpus at $corpus"
fi

echo
echo "== IP check: 30 zones in parallel"
sh bench/bench_ip.sh || true

if [ "${BENCH_HTTP:-1}" != 0 ] && [ -f bench/http.sh ]; then
	echo
	echo "== HTTP through nginx"
	sh bench/http.sh || true
fi

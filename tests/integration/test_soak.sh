#!/bin/bash
# test_soak.sh - bench/soak.sh as a bounded test of `make test`: 60 s of
# mixed load (15 s warm-up), no non-2xx answer, RSS growth under 1 MiB.
# SOAK_SECONDS and SOAK_WARMUP override; BW_SOAK=0 skips it.
if [ "${BW_SOAK:-1}" = 0 ]; then
	echo "ok 1 # SKIP BW_SOAK=0"; echo "1..1"; exit 0
fi
SOAK_SECONDS=${SOAK_SECONDS:-60} SOAK_WARMUP=${SOAK_WARMUP:-15} \
	exec bash "$(dirname "$0")/../../bench/soak.sh"

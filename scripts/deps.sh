#!/bin/sh
# deps.sh - install the Debian packages bouncewhy needs, only those missing.
#
# Usage: scripts/deps.sh build|test|fuzz
#   build: what `make` and `make run` need; test: also what `make test` needs.
# Runs apt-get update first only when a package cannot be found. Needs root
# (or sudo) only when something is missing.
set -eu

BUILD_PACKAGES="
pkg-config
gcc
make
libfcgi-dev
libjansson-dev
libpcre2-dev
libgmime-3.0-dev
libc-ares-dev
libmimalloc-dev
nginx-light
"
TEST_PACKAGES="
libcmocka-dev
curl
jq
pcre2-utils
dnsmasq-base
chromium
wrk
valgrind
clang
libclang-rt-14-dev
libfcgi-bin
"

want=$BUILD_PACKAGES
case "${1:-build}" in
build) ;;
test|fuzz) want="$BUILD_PACKAGES $TEST_PACKAGES" ;;
*) echo "usage: $0 build|test|fuzz" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	# nginx-light and nginx-core both provide a working nginx binary.
	if [ "$p" = nginx-light ] && command -v nginx >/dev/null 2>&1; then continue; fi
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y $missing; then
	$SUDO apt-get update
	$SUDO apt-get install -y $missing
fi

#!/bin/sh
# nginx-conf.sh - render nginx/bouncewhy.conf.in into RUN/nginx.conf.
#
# Usage: scripts/nginx-conf.sh RUN PORT SOCKET [EXTRA_SOCKET...]
# RUN is the run folder (made here), PORT the loopback port, SOCKET the
# UNIX socket of bouncewhy-fcgi; more sockets become more upstream servers.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
run=$1 port=$2 socket=$3
shift 3
mkdir -p "$run/tmp"
run=$(cd "$run" && pwd)
extra=""
for s in "$@"; do
	extra="$extra server unix:$s max_fails=1 fail_timeout=2s;"
done
user=""
[ "$(id -u)" -eq 0 ] && user="user nobody nogroup;"
sed -e "s|@RUN@|$run|g" -e "s|@PORT@|$port|g" -e "s|@SOCKET@|$socket|g" \
    -e "s|@STATIC@|$here/static|g" -e "s|@CONFDIR@|$here/nginx|g" \
    -e "s|@USER@|$user|g" -e "s|@EXTRA_UPSTREAMS@|$extra|g" \
    "$here/nginx/bouncewhy.conf.in" > "$run/nginx.conf"
echo "$run/nginx.conf"

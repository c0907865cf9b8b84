#!/bin/sh
# run.sh - serve bouncewhy on 127.0.0.1:$PORT: nginx in front, bouncewhy-fcgi
# behind it, both in the foreground, every file under $BUILD/run.
# Ctrl-C (SIGINT) or SIGTERM stops both.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
PORT=${PORT:-8080}
run="$BUILD/run"
mkdir -p "$run"
run=$(cd "$run" && pwd)
sock="$run/fcgi.sock"
conf=$("$here/scripts/nginx-conf.sh" "$run" "$PORT" "$sock")

"$BUILD/bouncewhy-fcgi" --listen "$sock" --rules "$here/rules" \
	--templates "$here/templates" --static "$here/static" ${BW_FCGI_ARGS:-} &
fcgi=$!
i=0
while [ ! -S "$sock" ]; do
	i=$((i + 1))
	if [ $i -gt 1200 ] || ! kill -0 $fcgi 2>/dev/null; then
		echo "run: bouncewhy-fcgi did not start" >&2
		kill $fcgi 2>/dev/null || true
		exit 1
	fi
	sleep 0.05
done
nginx -p "$run" -c "$conf" -g 'daemon off;' &
ngx=$!

stopping=0
stop() {
	[ $stopping -eq 1 ] && return
	stopping=1
	trap - INT TERM
	kill -TERM $fcgi $ngx 2>/dev/null || true
	wait $fcgi $ngx 2>/dev/null || true
	rm -f "$sock"
	echo "run: stopped" >&2
	exit 0
}
trap stop INT TERM
echo "run: serving http://127.0.0.1:$PORT/ (Ctrl-C stops; logs in $run)" >&2
# Either child ending stops the other.
while kill -0 $fcgi 2>/dev/null && kill -0 $ngx 2>/dev/null; do
	sleep 0.5
done
stop

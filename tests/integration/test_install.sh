#!/bin/bash
# test_install.sh - `make install` produces a working tree.
#
# 1. make install DESTDIR=STAGE: every file where it belongs, man pages that
#    format, systemd units with the paths filled in.
# 2. make install PREFIX=DIR (no DESTDIR): the installed CLI finds its rules
#    with no option; the installed bouncewhy-fcgi, started as root with no
#    data options, serves as nobody behind an nginx that uses the installed
#    bouncewhy-site.conf unchanged but for its port and log paths.
source "$(dirname "$0")/lib.sh"
cd "$BW_ROOT"
tmp=$(mktemp -d)
FCGI=""
NGX=""
cleanup() {
	[ -n "$NGX" ] && kill "$NGX" 2>/dev/null
	[ -n "$FCGI" ] && kill "$FCGI" 2>/dev/null
	wait 2>/dev/null
	[ -n "${BW_KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

stage="$tmp/stage"
make -s --no-print-directory BUILD="${BUILD#$BW_ROOT/}" install DESTDIR="$stage" PREFIX=/usr/local >"$tmp/make1.log" 2>&1
rc=$?
ok $rc "make install DESTDIR=... PREFIX=/usr/local"
[ $rc -ne 0 ] && tail -15 "$tmp/make1.log" | sed 's/^/#   /'
for f in bin/bouncewhy sbin/bouncewhy-fcgi share/bouncewhy/rules/reasons.json \
	share/bouncewhy/templates/layout.mustache share/bouncewhy/static/style.css \
	share/bouncewhy/nginx/bouncewhy-http.conf share/bouncewhy/nginx/bouncewhy-locations.conf \
	share/bouncewhy/nginx/bouncewhy-site.conf share/man/man1/bouncewhy.1 \
	share/man/man8/bouncewhy-fcgi.8 lib/systemd/system/bouncewhy-fcgi.service \
	lib/systemd/system/bouncewhy-fcgi.socket; do
	[ -s "$stage/usr/local/$f" ]
	ok $? "installed: /usr/local/$f"
done
[ -x "$stage/usr/local/bin/bouncewhy" ] && [ -x "$stage/usr/local/sbin/bouncewhy-fcgi" ]
ok $? "programs are executable"
ok $(! grep -rl '@[A-Z]*@' "$stage/usr/local/lib/systemd" "$stage/usr/local/share/bouncewhy/nginx" >/dev/null; echo $?) \
	"no @PLACEHOLDER@ left in units and nginx files"
grep -q '^ExecStart=/usr/local/sbin/bouncewhy-fcgi --listen -' "$stage/usr/local/lib/systemd/system/bouncewhy-fcgi.service"
ok $? "service runs the installed binary on the socket it is handed"
grep -q '^DynamicUser=yes' "$stage/usr/local/lib/systemd/system/bouncewhy-fcgi.service"
ok $? "service runs as a dynamic unprivileged user"
grep -q '/usr/local/share/bouncewhy/rules' "$stage/usr/local/lib/systemd/system/bouncewhy-fcgi.service"
ok $? "service names the installed rules"
ok $(strings "$stage/usr/local/bin/bouncewhy" | grep -q '^/usr/local/share/bouncewhy$'; echo $?) \
	"the CLI has DATADIR=/usr/local/share/bouncewhy compiled in"
if command -v groff >/dev/null 2>&1; then
	warn=$(groff -man -Tutf8 -ww -z "$stage/usr/local/share/man/man1/bouncewhy.1" \
		"$stage/usr/local/share/man/man8/bouncewhy-fcgi.8" 2>&1)
	is "$warn" "" "man pages format without warnings"
else
	skip "groff not installed"
fi
# The staged CLI works when told where its data is.
out=$(echo '550 5.1.1 <bob@example.org>: User unknown' |
	"$stage/usr/local/bin/bouncewhy" --rules "$stage/usr/local/share/bouncewhy/rules" explain)
is "$(jqr "$out" '.findings | length > 0')" true "staged CLI explains a bounce (--rules)"

# --- A real PREFIX, served -------------------------------------------------
prefix="$tmp/prefix"
sock="$tmp/run/fcgi.sock"
mkdir -p "$tmp/run"
chmod 755 "$tmp" "$tmp/run"	# nobody must reach the socket and the data
make -s --no-print-directory BUILD="${BUILD#$BW_ROOT/}" install PREFIX="$prefix" FCGI_SOCKET="$sock" >"$tmp/make2.log" 2>&1
rc=$?
ok $rc "make install PREFIX=$prefix"
[ $rc -ne 0 ] && tail -15 "$tmp/make2.log" | sed 's/^/#   /'
out=$(cd / && echo '452 4.2.2 Mailbox full' | "$prefix/bin/bouncewhy" explain)
is "$(jqr "$out" '.findings | length > 0')" true "installed CLI finds its rules with no option"

if command -v systemd-analyze >/dev/null 2>&1; then
	sv=$(systemd-analyze verify "$prefix/lib/systemd/system/bouncewhy-fcgi.socket" \
		"$prefix/lib/systemd/system/bouncewhy-fcgi.service" 2>&1 |
		grep -vE "Command 'man |Failed to (connect|create)|System has not been booted|No such file|/usr/lib/systemd|Unit is bound|Cannot add dependency|bus|user session" | head -5)
	is "$sv" "" "systemd-analyze verify finds nothing wrong in the units"
else
	skip "systemd-analyze not installed"
fi

(cd / && exec "$prefix/sbin/bouncewhy-fcgi" --listen "$sock" --threads 2) 2>"$tmp/fcgi.log" >/dev/null &
FCGI=$!
for _ in $(seq 1 400); do [ -S "$sock" ] && break; sleep 0.05; done
ok $([ -S "$sock" ]; echo $?) "installed bouncewhy-fcgi listens (no data options)"
if [ "$(id -u)" -eq 0 ]; then
	sleep 0.2
	is "$(ps -o user= -p "$FCGI" | tr -d ' ')" nobody "started as root, it serves as nobody (ps)"
	is "$(awk '/^Uid:/ { print $2 "," $3 "," $4 "," $5 }' /proc/$FCGI/status)" \
		"$(id -u nobody),$(id -u nobody),$(id -u nobody),$(id -u nobody)" \
		"real, effective, saved and filesystem uid are all nobody's"
else
	skip "not root: the privilege drop is not exercised"
fi
port=$(bw_free_port)
site="$tmp/run/site.conf"
sed -e "s|listen 80;|listen 127.0.0.1:$port;|" -e '/listen \[::\]:80;/d' \
	-e "s|/var/log/nginx/|$tmp/run/|" "$prefix/share/bouncewhy/nginx/bouncewhy-site.conf" >"$site"
mkdir -p "$tmp/run/tmp"
user=""
[ "$(id -u)" -eq 0 ] && user="user nobody nogroup;"
cat >"$tmp/run/nginx.conf" <<NGX
$user
worker_processes 1;
pid $tmp/run/nginx.pid;
error_log $tmp/run/nginx-main-error.log warn;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path $tmp/run/tmp/body;
    fastcgi_temp_path $tmp/run/tmp/fastcgi;
    proxy_temp_path $tmp/run/tmp/proxy;
    uwsgi_temp_path $tmp/run/tmp/uwsgi;
    scgi_temp_path $tmp/run/tmp/scgi;
    include $site;
}
NGX
nginx -t -p "$tmp/run" -c "$tmp/run/nginx.conf" >"$tmp/nginx-t.log" 2>&1
ok $? "nginx -t accepts the installed bouncewhy-site.conf"
[ $? -ne 0 ] && sed 's/^/#   /' "$tmp/nginx-t.log"
nginx -p "$tmp/run" -c "$tmp/run/nginx.conf" -g 'daemon off;' 2>"$tmp/nginx.log" >/dev/null &
NGX=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fs -o /dev/null "$url/healthz" && break; sleep 0.05; done
is "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" 200 "installed site: /healthz"
body=$(curl -s -H 'Content-Type: text/plain' --data-binary '550 5.1.1 <bob@example.org>: User unknown' "$url/api/v1/explain")
is "$(jqr "$body" '.findings | length > 0')" true "installed site: explain"
is "$(curl -s -o /dev/null -w '%{http_code}' "$url/static/style.css")" 200 "installed site: static files from share/bouncewhy/static"
like "$(curl -s -H 'Accept: text/html' "$url/")" "<html" "installed site: the home page renders from the installed templates"
done_testing

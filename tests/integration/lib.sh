# lib.sh - shared helpers of the integration tests (source it).
#
#   bw_stack_start NAME [bouncewhy-fcgi args...]
#       renders the project's nginx config into $BUILD/test-run/NAME, starts
#       bouncewhy-fcgi and nginx on a free loopback port, waits for /healthz;
#       sets BW_URL (http://127.0.0.1:PORT), BW_RUN, BW_PORT, BW_FCGI_PID.
#   bw_stack_stop       stops both (also run on exit, before the caller's own
#                       EXIT trap, which bw_stack_start keeps).
#   bw_free_port        prints a free loopback TCP port.
#   ok COND_STATUS NAME / is GOT WANT NAME / like GOT REGEX NAME / done_testing
#       TAP output.

BUILD=${BUILD:-build}
BW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
case $BUILD in /*) ;; *) BUILD="$BW_ROOT/$BUILD" ;; esac
BW_SHARED=${BW_SHARED:-$BW_ROOT/../shared}
_t=0
_failed=0

ok() {
	_t=$((_t + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_t - $2"; else echo "not ok $_t - $2"; _failed=$((_failed + 1)); fi
}
is() {
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "#   got: '$1'"; echo "#   want: '$2'"; fi
}
like() {
	if [[ $1 =~ $2 ]]; then ok 0 "$3"; else ok 1 "$3"; echo "#   got: '${1:0:300}'"; echo "#   want match: '$2'"; fi
}
skip() {
	_t=$((_t + 1))
	echo "ok $_t # SKIP $1"
}
done_testing() {
	echo "1..$_t"
	[ "$_failed" -eq 0 ]
}

bw_free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

BW_FCGI_PID=""
BW_NGINX_PID=""

# Stops the stack on exit without replacing the caller's own EXIT trap:
# the stop runs first, then whatever the caller had set.
_bw_trap_stop() {
	local prev
	prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
	case $prev in
	*bw_stack_stop*) ;;
	"") trap bw_stack_stop EXIT ;;
	*) trap "bw_stack_stop; $prev" EXIT ;;
	esac
}

bw_stack_start() {
	local name=$1
	shift
	BW_RUN="$BUILD/test-run/$name"
	rm -rf "$BW_RUN"
	mkdir -p "$BW_RUN"
	local sock="$BW_RUN/fcgi.sock"
	"$BUILD/bouncewhy-fcgi" --listen "$sock" --rules "$BW_ROOT/rules" \
		--templates "$BW_ROOT/templates" --static "$BW_ROOT/static" "$@" \
		2>"$BW_RUN/fcgi.log" &
	BW_FCGI_PID=$!
	for _ in $(seq 1 1200); do
		[ -S "$sock" ] && break
		kill -0 "$BW_FCGI_PID" 2>/dev/null || break
		sleep 0.05
	done
	if [ ! -S "$sock" ]; then
		echo "# bouncewhy-fcgi did not start:"; sed 's/^/#   /' "$BW_RUN/fcgi.log"
		return 1
	fi
	for _ in 1 2 3 4 5; do
		BW_PORT=$(bw_free_port)
		local conf
		conf=$("$BW_ROOT/scripts/nginx-conf.sh" "$BW_RUN" "$BW_PORT" "$sock")
		nginx -p "$BW_RUN" -c "$conf" -g 'daemon off;' 2>>"$BW_RUN/nginx.log" &
		BW_NGINX_PID=$!
		BW_URL="http://127.0.0.1:$BW_PORT"
		for _ in $(seq 1 100); do
			if curl -fsS -o /dev/null "$BW_URL/healthz" 2>/dev/null; then
				_bw_trap_stop
				return 0
			fi
			kill -0 "$BW_NGINX_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$BW_NGINX_PID" 2>/dev/null
		wait "$BW_NGINX_PID" 2>/dev/null
	done
	echo "# nginx did not start:"; sed 's/^/#   /' "$BW_RUN/nginx.log" "$BW_RUN/nginx-error.log" 2>/dev/null
	return 1
}

bw_stack_stop() {
	[ -n "$BW_NGINX_PID" ] && kill -TERM "$BW_NGINX_PID" 2>/dev/null
	[ -n "$BW_FCGI_PID" ] && kill -TERM "$BW_FCGI_PID" 2>/dev/null
	[ -n "$BW_NGINX_PID" ] && wait "$BW_NGINX_PID" 2>/dev/null
	[ -n "$BW_FCGI_PID" ] && wait "$BW_FCGI_PID" 2>/dev/null
	BW_NGINX_PID="" BW_FCGI_PID=""
	return 0
}

# jqr JSON FILTER: jq -r over a JSON text ("<invalid json>" when it is not).
jqr() {
	jq -r "$2" <<<"$1" 2>/dev/null || echo "<invalid json>"
}

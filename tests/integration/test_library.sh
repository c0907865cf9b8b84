#!/bin/bash
# test_library.sh - libbouncewhy as an installed shared library: `make
# install-lib` into a temporary DESTDIR, then docs/example.c is built with
# `pkg-config --cflags --libs bouncewhy` alone and run on bounces.
#
# Also checks what the library shows the world: its soname, and that it
# exports only the functions of bouncewhy.h.
source "$(dirname "$0")/lib.sh"

command -v pkg-config >/dev/null 2>&1 || { skip "pkg-config is not installed"; done_testing; exit; }
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
prefix=/opt/bouncewhy-test
out="$BUILD/test-output/library"
mkdir -p "$out"

make -C "$BW_ROOT" --no-print-directory BUILD="$BUILD" PREFIX="$prefix" DESTDIR="$dest" \
	install-lib >"$out/install.log" 2>&1
rc=$?
ok $rc "make install-lib DESTDIR=... PREFIX=$prefix"
[ $rc -eq 0 ] || { sed 's/^/#   /' "$out/install.log" | tail -20; done_testing; exit; }

lib="$dest$prefix/lib"
ok "$([ -f "$lib/libbouncewhy.so.0.1.0" ] && [ -L "$lib/libbouncewhy.so.0" ] && [ -L "$lib/libbouncewhy.so" ]; echo $?)" \
	"library, soname link and development link are installed"
ok "$([ -f "$dest$prefix/include/bouncewhy/bouncewhy.h" ] && [ -f "$lib/pkgconfig/bouncewhy.pc" ]; echo $?)" \
	"header and bouncewhy.pc are installed"
like "$(readelf -d "$lib/libbouncewhy.so.0.1.0" 2>/dev/null | grep SONAME)" "libbouncewhy\.so\.0\]" "soname is libbouncewhy.so.0"

# Exactly the functions of the public header, nothing internal.
want=$(sed -n 's/^[A-Za-z][^(#]*[ *]\(bw_[a-z0-9_]*\)(.*/\1/p' "$BW_ROOT/classifier/bouncewhy.h" | sort)
got=$(nm -D --defined-only "$lib/libbouncewhy.so.0.1.0" | awk '$2 ~ /^[TtWwDdBbRr]$/ {print $3}' | sed 's/@.*//' | sort)
is "$got" "$want" "exports exactly the functions of bouncewhy.h"
extra=$(nm -D --defined-only "$lib/libbouncewhy.so.0.1.0" | awk '$2 != "A" {print $3}' | grep -v '^bw_')
is "$extra" "" "exports nothing but bw_* symbols"

# pkg-config reads the installed file; its prefix is moved into DESTDIR.
export PKG_CONFIG_PATH="$lib/pkgconfig"
like "$(grep '^prefix=' "$lib/pkgconfig/bouncewhy.pc")" "^prefix=$prefix\$" "bouncewhy.pc names PREFIX"
flags=$(pkg-config --define-variable=prefix="$dest$prefix" --cflags --libs bouncewhy 2>"$out/pkg-config.log")
ok $? "pkg-config --cflags --libs bouncewhy"
like "$flags" "-lbouncewhy" "the flags link libbouncewhy"
like "$(pkg-config --modversion bouncewhy)" "^0\.1\.0$" "pkg-config --modversion"

# shellcheck disable=SC2086 # the flags are words
cc -std=c11 -Wall -Wextra -Werror -o "$dest/example" "$BW_ROOT/docs/example.c" $flags \
	>"$out/cc.log" 2>&1
rc=$?
ok $rc "docs/example.c builds with the pkg-config flags alone"
[ $rc -eq 0 ] || sed 's/^/#   /' "$out/cc.log" | head -20

if [ -x "$dest/example" ]; then
	export LD_LIBRARY_PATH="$lib"
	like "$(ldd "$dest/example" | grep bouncewhy)" "$lib/libbouncewhy\.so\.0 " "the example loads the installed library"
	res=$("$dest/example" "$BW_ROOT/rules" <<<'550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown')
	rc=$?
	is "$rc" 0 "example: exit 0 for a bounce"
	like "$res" $'\n''userunknown	sender	nobody@example.com	permanent' "example: one line per finding (reason, action_by, recipient)"
	like "$res" '^# [0-9]+\.[0-9]+\.[0-9]+\+rules\.[0-9a-f]+ \(API 1\)' "example: prints the rules version"
	res=$(printf 'From: MAILER-DAEMON@example.org\nTo: a@example.org\nSubject: Undelivered Mail\nContent-Type: text/plain\n\n<x@example.com>: host mx.example.com[192.0.2.25] said: 552 5.2.2 Mailbox full (in reply to RCPT TO command)\n\n<y@example.net>: host mx.example.net[192.0.2.26] said: 550 5.1.1 No such user (in reply to RCPT TO command)\n' | "$dest/example" "$BW_ROOT/rules")
	is "$(grep -vc '^#' <<<"$res")" 2 "example: a bounce email with two recipients gives two lines"
	"$dest/example" "$BW_ROOT/rules" <<<'hello, all is well' >/dev/null
	is "$?" 1 "example: exit 1 without a bounce"
	err=$("$dest/example" /nonexistent 2>&1 </dev/null)
	is "$?" 2 "example: exit 2 when the rules cannot be loaded"
	like "$err" "nonexistent" "example: the library's error names the path"
else
	for _ in 1 2 3 4 5 6 7; do skip "example did not build"; done
fi

# uninstall leaves nothing of ours behind
make -C "$BW_ROOT" --no-print-directory BUILD="$BUILD" PREFIX="$prefix" DESTDIR="$dest" \
	uninstall-lib >>"$out/install.log" 2>&1
left=$(find "$dest" \( -type f -o -type l \) ! -name example)
is "$left" "" "make uninstall-lib removes every installed file"
done_testing

#!/bin/bash
# test_valgrind.sh - the CLI over the shared bounce corpus under valgrind's
# memcheck: no invalid reads or writes, no use of uninitialised memory, no
# definite or indirect leaks (--error-exitcode makes any of them fail).
#
# PCRE2's JIT reads ahead of its subject on purpose, which memcheck reports
# although it is harmless; a tiny preloaded library turns the JIT off for
# this run (pcre2_jit_compile fails, so patterns are interpreted: the code
# paths of bouncewhy are the same). BW_VALGRIND_SAMPLE=N runs every Nth
# file only (default 3, about a minute; 1 for all of them), and
# BW_VALGRIND_ORIGINS=1 adds --track-origins (twice as slow). Skips without valgrind or the corpus.
set -u
source "$(dirname "$0")/lib.sh"
emails="$BW_SHARED/testdata/bounces/emails"

if ! command -v valgrind >/dev/null 2>&1; then
	skip "valgrind not installed"; done_testing; exit
fi
if [ ! -d "$emails" ]; then
	skip "no shared corpus at $emails"; done_testing; exit
fi
tmp=$(mktemp -d)
trap '[ -n "${BW_KEEP:-}" ] || rm -rf "$tmp"' EXIT
cat >"$tmp/nojit.c" <<'C'
/* Makes PCRE2 JIT compilation fail so that patterns run interpreted. */
#include <stdint.h>
int pcre2_jit_compile_8(void *code, uint32_t options);
int pcre2_jit_compile_8(void *code, uint32_t options)
{
	(void)code;
	(void)options;
	return -45;	/* PCRE2_ERROR_JIT_BADOPTION */
}
C
cc -shared -fPIC -o "$tmp/nojit.so" "$tmp/nojit.c"
ok $? "the no-JIT preload library builds"

mapfile -t files < <(find "$emails" -type f | sort | awk -v n="${BW_VALGRIND_SAMPLE:-3}" 'NR % n == 0')
vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
	--show-leak-kinds=definite,indirect --num-callers=30
	--suppressions="$BW_ROOT/fuzz/valgrind.supp")
[ "${BW_VALGRIND_ORIGINS:-0}" = 1 ] && vg+=(--track-origins=yes)

LD_PRELOAD="$tmp/nojit.so" "${vg[@]}" "$BUILD/bouncewhy" explain --ndjson "${files[@]}" \
	>"$tmp/out.ndjson" 2>"$tmp/vg.log"
rc=$?
ok $([ $rc -ne 99 ]; echo $?) "memcheck: no errors and no leaks over ${#files[@]} corpus files (exit $rc)"
[ $rc -eq 99 ] && grep -E '^==[0-9]+== (Invalid|Conditional|Use of|[0-9,]+ bytes in|   (at|by) )' "$tmp/vg.log" | head -30 | sed 's/^/#   /'
is "$(wc -l <"$tmp/out.ndjson" | tr -d ' ')" "${#files[@]}" "one JSON line per file"

# The text path: one line per case, under memcheck too.
jq -r '.. | objects | .examples? // empty | .[]? | strings' "$BW_ROOT"/rules/*.json 2>/dev/null |
	tr -d '\r' | awk 'NR % 3 == 0' >"$tmp/lines.txt"
LD_PRELOAD="$tmp/nojit.so" "${vg[@]}" "$BUILD/bouncewhy" explain --line "$tmp/lines.txt" \
	>/dev/null 2>"$tmp/vg2.log"
rc=$?
ok $([ $rc -ne 99 ]; echo $?) "memcheck: no errors and no leaks over $(wc -l <"$tmp/lines.txt") rule examples, one per line (exit $rc)"
[ $rc -eq 99 ] && grep -E '^==[0-9]+== (Invalid|Conditional|Use of|[0-9,]+ bytes in|   (at|by) )' "$tmp/vg2.log" | head -30 | sed 's/^/#   /'
done_testing

/*
 * test_utf8.c - utf8.c: validity, cleaning, folding, and the one-pass
 * bw_text_is_plain() that bw_classify uses to skip both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "facts.h"

static int plain(const char *s, size_t n)
{
	return bw_text_is_plain(s, n);
}

/* a literal's bytes, without the terminating NUL */
#define P(lit) plain(lit, sizeof(lit) - 1)

static void test_plain_cases(void **state)
{
	(void)state;
	assert_true(P("550 5.1.1 User unknown"));
	assert_true(P(""));
	assert_true(P("Benutzer f\xC3\xBCr"));		/* é-like letters stay */
	assert_true(P("a \xE2\x80\x94 b"));		/* em dash: not folded */
	assert_true(P("\xE5\xAE\x9B\xE5\x85\x88"));	/* CJK */
	assert_false(P("wasn\xE2\x80\x99t"));		/* right single quote */
	assert_false(P("\xE2\x80\x9Cx\xE2\x80\x9D"));	/* curly double quotes */
	assert_false(P("550\xC2\xA0" "5.1.1"));		/* no-break space */
	assert_false(P("don\xCA\xBCt"));			/* modifier apostrophe */
	assert_false(P("a\0b"));				/* NUL */
	assert_false(P("bad \xFF byte"));		/* ill-formed */
	assert_false(P("cut \xE2\x80"));			/* truncated sequence */
	assert_false(P("\xED\xA0\x80"));			/* surrogate */
}

/* A plain reading of RFC 3629, byte by byte, with NUL refused: the oracle. */
static int ref_valid(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = p[i], need, cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			need = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			need = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			need = 3, cp = c & 0x07;
		else
			return 0;
		if (n - i <= need)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* Against its definition: valid, and folding leaves it as it is. */
static void test_plain_property(void **state)
{
	static const unsigned char alphabet[] = {
		'a', ' ', '5', 0x00, 0x80, 0x98, 0x99, 0x9C, 0xA0, 0xBC, 0xC2, 0xC3,
		0xCA, 0xE2, 0xED, 0xF0, 0x90, 0xBF, 0xFF, 0xE0, 0xF4, 0x8F, 0x81, 0xC0,
	};
	unsigned seed = 12345;
	char buf[32], copy[33];

	(void)state;
	for (int round = 0; round < 200000; round++) {
		size_t n = (seed = seed * 1103515245u + 12345u) >> 16 & 15;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (char)alphabet[(seed >> 16) % sizeof alphabet];
		}
		memcpy(copy, buf, n);
		copy[n] = '\0';
		int valid = ref_valid((const unsigned char *)buf, n);
		if (bw_utf8_valid(buf, n) != valid)
			fail_msg("round %d: bw_utf8_valid gave %d, want %d", round, !valid, valid);
		int want = valid && bw_text_fold(copy, n) == n && memcmp(copy, buf, n) == 0;
		if (plain(buf, n) != want)
			fail_msg("round %d: bw_text_is_plain gave %d, want %d", round, !want, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_cases),
		cmocka_unit_test(test_plain_property),
	};
	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}

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

/* Against its definition: valid, and folding leaves it as it is. */
static void test_plain_property(void **state)
{
	static const unsigned char alphabet[] = {
		'a', ' ', '5', 0x00, 0x80, 0x98, 0x99, 0x9C, 0xA0, 0xBC, 0xC2, 0xC3,
		0xCA, 0xE2, 0xED, 0xF0, 0x90, 0xBF, 0xFF,
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
		int want = bw_utf8_valid(buf, n) && bw_text_fold(copy, n) == n &&
			   memcmp(copy, buf, n) == 0;
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

/*
 * test_prefilter.c - the many-string search of prefilter.c and the
 * one-string search bw_ci_find (facts.c), against naive searches.
 *
 * The prefilter must report every occurrence of every indexed string,
 * ASCII letters in either case, at its start offset, and nothing else (in
 * bitmap mode: set the bit of exactly the strings that occur, and report
 * the other ids as before);
 * bw_ci_find must return the first occurrence. Random trials use a fixed
 * seed, small alphabets (so strings share prefixes and grams and occur
 * often) and bytes next to the letters ('@', '[', '`', '{', 0xC1, 0xE1)
 * that a case-folding trick could confuse with them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "facts.h"
#include "prefilter.h"

#define MAX_STRS 48
#define MAX_SLEN 24
#define MAX_TEXT 400

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t below(uint64_t *s, size_t n)
{
	return (size_t)(next(s) % n);
}

static int ascii_low(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int same_ci(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_low((unsigned char)a[i]) != ascii_low((unsigned char)b[i]))
			return 0;
	return 1;
}

/* What a scan reported: seen[id][start]. */
typedef struct hits {
	unsigned char seen[MAX_STRS][MAX_TEXT];
	size_t calls;
	int bad;		/* an id or offset out of range */
} hits;

static void on_hit(const unsigned *ids, size_t n, size_t start, void *ctx)
{
	hits *h = ctx;

	h->calls++;
	if (n == 0)
		h->bad = 1;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] >= MAX_STRS || start >= MAX_TEXT)
			h->bad = 1;
		else
			h->seen[ids[i]][start] = 1;
	}
}

/* The same for ids i * 3 (test_bits). */
static void on_hit_bits(const unsigned *ids, size_t n, size_t start, void *ctx)
{
	hits *h = ctx;

	h->calls++;
	if (n == 0)
		h->bad = 1;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] % 3 || ids[i] / 3 >= MAX_STRS || start >= MAX_TEXT)
			h->bad = 1;
		else
			h->seen[ids[i] / 3][start] = 1;
	}
}

/*
 * Scans text with an index of strs (id i for strs[i]) and compares with a
 * naive search: every occurrence reported, nothing else.
 */
static void check_scan(const bw_prefilter *pf, char strs[][MAX_SLEN + 1], const size_t *lens,
		       size_t n, const char *text, size_t len)
{
	static hits h;	/* large; one test runs at a time */

	memset(&h, 0, sizeof h);
	bw_prefilter_scan(pf, text, len, on_hit, &h);
	assert_false(h.bad);
	for (size_t i = 0; i < n; i++) {
		for (size_t p = 0; p < MAX_TEXT; p++) {
			int want = p + lens[i] <= len && same_ci(text + p, strs[i], lens[i]);
			if (want != h.seen[i][p]) {
				print_error("string %zu \"%.*s\" at %zu of \"%.*s\": %s\n", i,
					    (int)lens[i], strs[i], p, (int)len, text,
					    want ? "missed" : "reported but absent");
				fail();
			}
		}
	}
}

static bw_prefilter *index_of(char strs[][MAX_SLEN + 1], const size_t *lens, size_t n)
{
	const char *p[MAX_STRS];
	unsigned ids[MAX_STRS];

	for (size_t i = 0; i < n; i++) {
		p[i] = strs[i];
		ids[i] = (unsigned)i;
	}
	return bw_prefilter_new(p, lens, ids, n);
}

/* A fixed list of strings, scanned over texts. */
static void scan_fixed(const char *const *list, const char *const *texts)
{
	static char strs[MAX_STRS][MAX_SLEN + 1];
	size_t lens[MAX_STRS], n = 0;

	for (; list[n]; n++) {
		lens[n] = strlen(list[n]);
		memcpy(strs[n], list[n], lens[n] + 1);
	}
	bw_prefilter *pf = index_of(strs, lens, n);
	assert_non_null(pf);
	for (size_t t = 0; texts[t]; t++)
		check_scan(pf, strs, lens, n, texts[t], strlen(texts[t]));
	bw_prefilter_free(pf);
}

static void test_shared_prefixes(void **state)
{
	static const char *const strs[] = {
		"mai", "mail", "mailbox", "mailbox full", "ailbox", "box", "boxes", "lbox",
		"user", "users", "user unknown", "unknown", "nknown", "own", NULL,
	};
	static const char *const texts[] = {
		"Mailbox full", "MAILBOX FULL: user unknown", "mailboxes, mailboxes",
		"uSeR UnKnOwN users", "mai", "mail", "box", "own known unknown", "mmmaaaiiilll", "", NULL,
	};
	(void)state;
	scan_fixed(strs, texts);
}

static void test_ends(void **state)
{
	static const char *const strs[] = {
		"abc", "xyz", "abcd", "wxyz", "12345678", "123456789", "abcdefghijklmnop",
		"abcdefghijklmnopq", NULL,
	};
	static const char *const texts[] = {
		"abc", "xyz", "abcd", "wxyz", "ABC middle XYZ", "ABCD middle WXYZ", "12345678",
		"123456789", "--12345678", "--123456789", "abcdefghijklmnop", "xabcdefghijklmnopq",
		"ABCDEFGHIJKLMNOPQ", "abcdefghijklmnopqabc", NULL,
	};
	(void)state;
	scan_fixed(strs, texts);
}

static void test_three_bytes(void **state)
{
	static const char *const strs[] = {"550", "5.1", "1.1", "abc", "bcd", "ab-", "a\xc3\xa9", NULL};
	static const char *const texts[] = {
		"550 5.1.1 abcd", "ABCD", "ab-c", "5.1.1.1.1", "A\xc3\xa9 a\xc3\xa9", "55", "5", "", NULL,
	};
	(void)state;
	scan_fixed(strs, texts);
}

static void test_non_ascii(void **state)
{
	static const char *const strs[] = {
		"caf\xc3\xa9", "\xc3\xa9t\xc3\xa9", "\xe7\x94\xa8\xe6\x88\xb7", "\xff\xfe\xfd", "\x80\x80\x80\x80",
		"\xc1\xc2\xc3", NULL,
	};
	static const char *const texts[] = {
		"CAF\xc3\xa9 caf\xc3\x89 \xc3\xa9t\xc3\xa9 \xc3\x89T\xc3\x89",
		"550 \xe7\x94\xa8\xe6\x88\xb7\xe4\xb8\x8d\xe5\xad\x98\xe5\x9c\xa8",
		"\xff\xfe\xfd\xff\xfe\xfd", "\x80\x80\x80\x80\x80\x80", "\xe1\xe2\xe3 \xc1\xc2\xc3", NULL,
	};
	(void)state;
	scan_fixed(strs, texts);
}

/* Equal strings (in any case) are indexed once: one call with all their ids. */
typedef struct dup_seen {
	size_t calls, n;
	unsigned ids[8];
	size_t start;
} dup_seen;

static void on_dup(const unsigned *ids, size_t n, size_t start, void *ctx)
{
	dup_seen *d = ctx;

	d->calls++;
	d->n = n;
	d->start = start;
	for (size_t i = 0; i < n && i < 8; i++)
		d->ids[i] = ids[i];
}

static void test_duplicates(void **state)
{
	const char *strs[] = {"quota", "QUOTA", "quota", "Quota"};
	size_t lens[] = {5, 5, 5, 5};
	unsigned ids[] = {7, 3, 7, 9};
	dup_seen d = {0};
	(void)state;

	bw_prefilter *pf = bw_prefilter_new(strs, lens, ids, 4);
	assert_non_null(pf);
	bw_prefilter_scan(pf, "over qUoTa!", 11, on_dup, &d);
	assert_true(d.calls >= 1);
	assert_int_equal(d.start, 5);
	assert_int_equal(d.n, 4);
	unsigned got = 0;
	for (size_t i = 0; i < d.n; i++)
		got |= 1u << d.ids[i];
	assert_int_equal(got, (1u << 7) | (1u << 3) | (1u << 9));
	bw_prefilter_free(pf);
}

static void test_empty_text(void **state)
{
	const char *strs[] = {"abc", "abcd"};
	size_t lens[] = {3, 4};
	unsigned ids[] = {0, 1};
	dup_seen d = {0};
	(void)state;

	bw_prefilter *pf = bw_prefilter_new(strs, lens, ids, 2);
	assert_non_null(pf);
	bw_prefilter_scan(pf, "", 0, on_dup, &d);
	bw_prefilter_scan(pf, "a", 1, on_dup, &d);
	bw_prefilter_scan(pf, "ab", 2, on_dup, &d);
	assert_int_equal(d.calls, 0);
	/* the length counts, not a NUL */
	bw_prefilter_scan(pf, "abcd", 2, on_dup, &d);
	assert_int_equal(d.calls, 0);
	bw_prefilter_free(pf);
}

static void test_refuses_short(void **state)
{
	const char *strs[] = {"abc", "ab"};
	size_t lens[] = {3, 2};
	unsigned ids[] = {0, 1};
	(void)state;

	assert_null(bw_prefilter_new(strs, lens, ids, 2));
	lens[1] = 0;
	assert_null(bw_prefilter_new(strs, lens, ids, 2));
	lens[0] = 1;
	assert_null(bw_prefilter_new(strs, lens, ids, 1));
	bw_prefilter_free(NULL);
}

/* Random strings over a small alphabet, texts built from them and noise. */
static void test_random(void **state)
{
	static const char alpha[] = "abAB@[`{\xc1\xe1.\xc3\xa9";
	static const char noise[] = "abcABC @[`{|\xc1\xe1\xc3\xa9\x80\xff\n0";
	static char strs[MAX_STRS][MAX_SLEN + 1];
	size_t lens[MAX_STRS];
	char text[MAX_TEXT];
	uint64_t seed = 0x9E3779B97F4A7C15ULL;
	(void)state;

	for (int trial = 0; trial < 4000; trial++) {
		size_t n = 1 + below(&seed, MAX_STRS);
		size_t maxl = trial % 3 == 0 ? 4 : trial % 3 == 1 ? 10 : MAX_SLEN;
		for (size_t i = 0; i < n; i++) {
			if (i > 0 && below(&seed, 6) == 0) {
				/* a duplicate, perhaps in another case */
				size_t j = below(&seed, i);
				lens[i] = lens[j];
				for (size_t k = 0; k < lens[j]; k++) {
					char c = strs[j][k];
					if (below(&seed, 2) && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
						c ^= 0x20;
					strs[i][k] = c;
				}
			} else {
				lens[i] = 3 + below(&seed, maxl - 2);
				for (size_t k = 0; k < lens[i]; k++)
					strs[i][k] = alpha[below(&seed, sizeof alpha - 1)];
			}
			strs[i][lens[i]] = '\0';
		}
		/* a text: pieces of strings (case flipped at random) and noise */
		size_t len = 0, want = below(&seed, MAX_TEXT);
		while (len < want) {
			if (below(&seed, 3)) {
				size_t j = below(&seed, n), from = below(&seed, 4) ? 0 : below(&seed, lens[j]);
				for (size_t k = from; k < lens[j] && len < want; k++) {
					char c = strs[j][k];
					if (below(&seed, 2) && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
						c ^= 0x20;
					text[len++] = c;
				}
			} else {
				size_t m = 1 + below(&seed, 3);
				while (m-- && len < want)
					text[len++] = noise[below(&seed, sizeof noise - 1)];
			}
		}
		bw_prefilter *pf;
		if (trial % 2) {
			pf = index_of(strs, lens, n);
		} else {
			/* tuned on samples: only speed may change */
			const char *p[MAX_STRS], *samples[2] = {text, "mailbox full abab"};
			size_t slens[2] = {len / 2, 17};
			unsigned ids[MAX_STRS];
			for (size_t i = 0; i < n; i++) {
				p[i] = strs[i];
				ids[i] = (unsigned)i;
			}
			pf = bw_prefilter_new_tuned(p, lens, ids, n, samples, slens, 2);
		}
		assert_non_null(pf);
		check_scan(pf, strs, lens, n, text, len);
		bw_prefilter_free(pf);
	}
}

/*
 * Bitmap mode: ids below nbits are bits set for a string that occurs
 * anywhere; the others are reported at every occurrence, as without it.
 */
static void test_bits(void **state)
{
	static const char alpha[] = "abAB@[`{\xc1.";
	static char strs[MAX_STRS][MAX_SLEN + 1];
	static hits h;
	const char *p[MAX_STRS];
	size_t lens[MAX_STRS];
	unsigned ids[MAX_STRS];
	char text[MAX_TEXT];
	uint64_t seed = 0x3C6EF372FE94F82BULL;
	(void)state;

	for (int trial = 0; trial < 2000; trial++) {
		size_t n = 1 + below(&seed, MAX_STRS), nbits = below(&seed, 130);
		for (size_t i = 0; i < n; i++) {
			lens[i] = 3 + below(&seed, trial % 2 ? 3 : 10);
			for (size_t k = 0; k < lens[i]; k++)
				strs[i][k] = alpha[below(&seed, sizeof alpha - 1)];
			strs[i][lens[i]] = '\0';
			p[i] = strs[i];
			/* spread over several words of the bitmap, some past nbits */
			ids[i] = (unsigned)(i * 3);
		}
		size_t len = below(&seed, MAX_TEXT);
		for (size_t k = 0; k < len; k++) {
			char c = alpha[below(&seed, sizeof alpha - 1)];
			text[k] = below(&seed, 2) && c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
		}
		bw_prefilter *pf = bw_prefilter_new_bits(p, lens, ids, n, NULL, NULL, 0, nbits);
		assert_non_null(pf);
		uint64_t bits[3] = {0};
		memset(&h, 0, sizeof h);
		bw_prefilter_scan_bits(pf, text, len, bits, on_hit_bits, &h);
		assert_false(h.bad);
		for (size_t i = 0; i < n; i++) {
			int anywhere = 0;
			for (size_t q = 0; q < MAX_TEXT; q++) {
				int want = q + lens[i] <= len && same_ci(text + q, strs[i], lens[i]);
				anywhere |= want;
				if (ids[i] >= nbits)
					assert_int_equal(want, h.seen[i][q]);
				else
					assert_int_equal(0, h.seen[i][q]);
			}
			int bit = ids[i] < nbits && (bits[ids[i] / 64] >> (ids[i] % 64) & 1);
			assert_int_equal(bit, ids[i] < nbits && anywhere);
		}
		/* no bit at or past nbits */
		for (size_t b = nbits; b < 192; b++)
			assert_false(bits[b / 64] >> (b % 64) & 1);
		bw_prefilter_free(pf);
	}
}

/* The first occurrence, naively. */
static const char *naive_find(const char *hay, size_t n, const char *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (same_ci(hay + i, needle, m))
			return hay + i;
	return NULL;
}

static void check_find(const char *hay, size_t n, const char *needle, size_t m)
{
	const char *got = bw_ci_find(hay, n, needle, m), *want = naive_find(hay, n, needle, m);

	if (got != want) {
		print_error("bw_ci_find(\"%.*s\", \"%.*s\"): %td, want %td\n", (int)n, hay, (int)m,
			    needle, got ? got - hay : (ptrdiff_t)-1, want ? want - hay : (ptrdiff_t)-1);
		fail();
	}
}

static void test_ci_find_fixed(void **state)
{
	(void)state;
	check_find("", 0, "", 0);
	check_find("abc", 3, "", 0);
	check_find("ab", 2, "abc", 3);
	check_find("Mailbox Full", 12, "mailbox", 7);
	check_find("Mailbox Full", 12, "FULL", 4);
	check_find("Mailbox Full", 12, "full!", 5);
	check_find("12345678", 8, "12345678", 8);
	check_find("x12345678", 9, "12345678", 8);
	check_find("123456781234567", 15, "234567", 6);
	check_find("@[`{", 4, "`{", 2);
	check_find("@[`{", 4, "AA", 2);
	check_find("\xc1\xe1", 2, "\xe1", 1);
	check_find("\xc1\xe1", 2, "a", 1);
	check_find("aaaaaaaaaaaaaaaaaaab", 20, "AAB", 3);
	check_find("caf\xc3\xa9", 5, "CAF\xc3\xa9", 5);
	check_find("caf\xc3\x89", 5, "caf\xc3\xa9", 5);
}

static void test_ci_find_random(void **state)
{
	static const char alpha[] = "aAbB@[`{\xc1\xe1\x01\x80\xff";
	char hay[64], needle[24];
	uint64_t seed = 0x243F6A8885A308D3ULL;
	(void)state;

	for (int trial = 0; trial < 200000; trial++) {
		size_t n = below(&seed, sizeof hay + 1), m = below(&seed, 4) ? 5 + below(&seed, 7) : below(&seed, 20);
		/* a smaller alphabet makes near-misses common */
		size_t na = 2 + below(&seed, sizeof alpha - 2);
		for (size_t i = 0; i < n; i++)
			hay[i] = alpha[below(&seed, na)];
		for (size_t i = 0; i < m; i++)
			needle[i] = alpha[below(&seed, na)];
		if (m > 0 && m <= n && below(&seed, 2)) {
			/* put it in, often at an end, in another case */
			size_t r = below(&seed, 3);
			size_t at = r == 0 ? 0 : r == 1 ? n - m : below(&seed, n - m + 1);
			for (size_t i = 0; i < m; i++) {
				char c = needle[i];
				if (below(&seed, 2) && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
					c ^= 0x20;
				hay[at + i] = c;
			}
		}
		check_find(hay, n, needle, m);
		/* a heap copy of exactly n bytes: no reading past the end (ASan) */
		char *h = malloc(n ? n : 1);
		assert_non_null(h);
		memcpy(h, hay, n);
		const char *got = bw_ci_find(h, n, needle, m), *want = naive_find(h, n, needle, m);
		assert_ptr_equal(got, want);
		free(h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_prefixes),
		cmocka_unit_test(test_ends),
		cmocka_unit_test(test_three_bytes),
		cmocka_unit_test(test_non_ascii),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_empty_text),
		cmocka_unit_test(test_refuses_short),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_bits),
		cmocka_unit_test(test_ci_find_fixed),
		cmocka_unit_test(test_ci_find_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

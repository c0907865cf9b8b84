/*
 * utf8.c - make any bytes into valid UTF-8 without losing where they were.
 *
 * Every byte that does not start a well-formed sequence (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF), and every NUL, becomes
 * U+FFFD, so the matchers can run in UTF mode without checks and nothing
 * raw is ever echoed back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "facts.h"

/* Length of the well-formed sequence at p (1-4), or 0 when it is not one. */
static size_t seq_len(const unsigned char *p, size_t left)
{
	unsigned c = p[0];

	if (c >= 0x01 && c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return left >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && p[1] < 0xA0)
			return 0;	/* overlong */
		if (c == 0xED && p[1] >= 0xA0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
		    (p[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && p[1] < 0x90)
			return 0;
		if (c == 0xF4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

size_t bw_utf8_seq(const char *p, size_t left)
{
	return left ? seq_len((const unsigned char *)p, left) : 0;
}

/*
 * The bytes of w (p[i..i+8)) that are not ASCII other than NUL: the high
 * bit of each. The lowest one flagged is exact (the zero test flags bytes
 * above a NUL too, but never below the first one).
 */
static inline uint64_t not_ascii8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;

	return (w & high) | ((w - ones) & ~w & high);
}

/*
 * How many bytes from p on are ASCII other than NUL? Sixteen at a time
 * (SSE2), then eight, and the last few bytes as the eight that end the
 * text (those before i are known to pass).
 */
static size_t ascii_run(const unsigned char *p, size_t n)
{
	size_t i = 0;
	uint64_t w, bad;

#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		unsigned m = (unsigned)_mm_movemask_epi8(x) |
			     (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_setzero_si128()));
		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		if ((bad = not_ascii8(w)) != 0)
			return i + ((size_t)__builtin_ctzll(bad) >> 3);
	}
	if (i == n)
		return n;
	if (n >= 8) {
		memcpy(&w, p + n - 8, 8);
		if ((bad = not_ascii8(w)) != 0)
			return n - 8 + ((size_t)__builtin_ctzll(bad) >> 3);
		return n;
	}
	while (i < n && p[i] >= 0x01 && p[i] < 0x80)
		i++;
	return i;
}

char *bw_utf8_clean(const char *in, size_t n, size_t *outlen, int *changed)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t bad = 0, i = 0, o = 0;
	char *out;

	while (i < n) {
		i += ascii_run(p + i, n - i);
		if (i >= n)
			break;
		size_t l = seq_len(p + i, n - i);
		if (l == 0) {
			bad++;
			i++;
		} else {
			i += l;
		}
	}
	if (changed)
		*changed = bad > 0;
	out = malloc(n + bad * 2 + 1);
	if (out == NULL)
		return NULL;
	if (bad == 0) {
		memcpy(out, in, n);
		o = n;
	} else {
		for (i = 0; i < n;) {
			size_t l = seq_len(p + i, n - i);
			if (l == 0) {
				memcpy(out + o, "\xEF\xBF\xBD", 3);
				o += 3;
				i++;
			} else {
				memcpy(out + o, p + i, l);
				o += l;
				i += l;
			}
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* Would bw_text_fold() change the well-formed sequence at p (l bytes)? */
static int folds(const unsigned char *p, size_t l)
{
	return (l == 3 && p[0] == 0xE2 && p[1] == 0x80 &&
		(p[2] == 0x98 || p[2] == 0x99 || p[2] == 0x9C || p[2] == 0x9D)) ||
	       (l == 2 && ((p[0] == 0xC2 && p[1] == 0xA0) || (p[0] == 0xCA && p[1] == 0xBC)));
}

/* Valid UTF-8 without NUL, and (when no_fold) nothing bw_text_fold() changes. */
static int well_formed(const char *in, size_t n, int no_fold)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0;

	while (i < n) {
		i += ascii_run(p + i, n - i);
		if (i >= n)
			break;
		/* ascii_run stopped at a NUL or a lead byte */
		size_t l = seq_len(p + i, n - i);
		if (l == 0 || (no_fold && folds(p + i, l)))
			return 0;
		i += l;
	}
	return 1;
}

int bw_utf8_valid(const char *in, size_t n)
{
	return well_formed(in, n, 0);
}

int bw_text_is_plain(const char *in, size_t n)
{
	return well_formed(in, n, 1);
}

/*
 * Typographic quotes and the no-break space stand for plain ones in bounce
 * texts ("wasn\u2019t found", "550\u00a05.1.1" from HTML mail), and the rules
 * are written with the plain characters: U+2018, U+2019, U+02BC become ',
 * U+201C, U+201D become ", U+00A0 becomes a space. In place; returns the new
 * length (never longer).
 */
size_t bw_text_fold(char *s, size_t n)
{
	size_t i = 0, o = 0;

	if (memchr(s, 0xE2, n) == NULL && memchr(s, 0xC2, n) == NULL &&
	    memchr(s, 0xCA, n) == NULL)
		return n;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80) {
			unsigned char d = (unsigned char)s[i + 2];
			if (d == 0x98 || d == 0x99 || d == 0x9C || d == 0x9D) {
				s[o++] = d <= 0x99 ? '\'' : '"';
				i += 3;
				continue;
			}
		} else if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0) {
			s[o++] = ' ';
			i += 2;
			continue;
		} else if (c == 0xCA && i + 1 < n && (unsigned char)s[i + 1] == 0xBC) {
			s[o++] = '\'';
			i += 2;
			continue;
		}
		s[o++] = s[i++];
	}
	s[o] = '\0';
	return o;
}

/*
 * literal.h - the literals a regular expression cannot match without.
 *
 * For a PCRE2 pattern, bw_literals() finds a set of plain strings such that
 * every match of the pattern contains at least one of them. The matcher
 * looks for all those strings of all rules in one pass (Hyperscan's literal
 * matcher) and runs PCRE2 only for the patterns whose literals occur.
 */
#ifndef BW_LITERAL_H
#define BW_LITERAL_H

#include <stddef.h>

#define BW_LIT_MAX 48		/* at most this many strings in a set */
#define BW_LIT_LEN 64		/* longest string kept */

typedef struct bw_litset {
	size_t n;
	char s[BW_LIT_MAX][BW_LIT_LEN + 1];	/* ASCII or caseless CJK bytes, NUL-terminated */
} bw_litset;

/*
 * bw_literals - fill *out with the required literals of pattern (PCRE2
 * syntax, matched caselessly). Returns the length of the shortest string of
 * the set (the set's strength), or 0 when the pattern has no usable set:
 * then it must be tried on every text. Never fails otherwise; pure.
 */
size_t bw_literals(const char *pattern, bw_litset *out);

#define BW_LIT_SETS 8

/*
 * bw_literal_sets - like bw_literals, but up to BW_LIT_SETS sets, each of
 * which every match must contain (a match holds a string of every set), so
 * a text is a candidate only when all of them occur. Sets weaker than min
 * bytes are left out. Returns the number of sets (0: try on every text).
 */
size_t bw_literal_sets(const char *pattern, size_t min, bw_litset out[BW_LIT_SETS]);

#endif

/*
 * ascii.h - ASCII case folding, one byte or eight at a time, for the
 * scanners that match caselessly (facts.c, prefilter.c). Bytes that are not
 * A-Z pass unchanged, UTF-8 included.
 */
#ifndef BW_ASCII_H
#define BW_ASCII_H

#include <stdint.h>

static inline unsigned char low(unsigned char c)
{
	return (unsigned char)(c + (((unsigned)(c - 'A') < 26u) << 5));
}

/* ASCII A-Z to a-z in each byte of x; other bytes as they are. */
static inline uint64_t low8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t h = x & (ones * 0x7f);
	uint64_t ge_a = h + ones * (0x80 - 'A');	/* high bit: byte >= 'A' */
	uint64_t gt_z = h + ones * (0x7f - 'Z');	/* high bit: byte > 'Z' */
	uint64_t up = (ge_a ^ gt_z) & ~x & high;
	return x | (up >> 2);
}

#endif

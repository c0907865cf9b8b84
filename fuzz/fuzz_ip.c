/*
 * fuzz_ip.c - libFuzzer target: classifier/ipaddr.h.
 *
 * Strict and lenient parsing of raw bytes (the parsers take a length and no
 * NUL terminator: the input is copied to a buffer of exactly its size, so
 * ASan sees any read past it), then the properties the callers rely on:
 * what the strict parser accepts formats back to text that parses to the
 * same address; what the strict parser accepts, the lenient one accepts
 * too; formatting and reversing fit their documented maximum sizes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"

static void check(const bw_ipaddr *a)
{
	char text[BW_IPADDR_TEXT_MAX], rev[BW_IPADDR_REVERSE_MAX];
	bw_ipaddr back, un = *a;
	int n, cls = bw_ipaddr_classify(a);

	if (a->family != 4 && a->family != 6)
		abort();
	if (bw_ipclass_name(cls) == NULL)
		abort();
	if ((n = bw_ipaddr_format(a, text, sizeof text)) < 0 || (size_t)n != strlen(text))
		abort();
	if (bw_ipaddr_parse(text, (size_t)n, &back) != 0 || !bw_ipaddr_equal(a, &back))
		abort();	/* canonical text must round-trip */
	if ((n = bw_ipaddr_reverse(a, rev, sizeof rev)) < 0 || (size_t)n != strlen(rev))
		abort();
	if (bw_ipaddr_format(a, text, 2) != -1 || text[0] != '\0')
		abort();	/* too small a buffer: -1 and "" */
	if (bw_ipaddr_unmap(&un) && (un.family != 4 || bw_ipaddr_classify(&un) != cls))
		abort();	/* a mapped address is classified as its IPv4 one */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);
	bw_ipaddr a, b;
	int strict;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	strict = bw_ipaddr_parse(s, size, &a) == 0;
	if (strict) {
		check(&a);
		if (bw_ipaddr_parse_lenient(s, size, &b) != 0 || !bw_ipaddr_equal(&a, &b))
			abort();
	}
	if (bw_ipaddr_parse_lenient(s, size, &b) == 0)
		check(&b);
	free(s);
	return 0;
}

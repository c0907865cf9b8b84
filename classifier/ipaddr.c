/*
 * ipaddr.c - parse, classify and reverse IP addresses (see ipaddr.h).
 *
 * Security: input is untrusted and of any length. Text is only ever copied
 * into a fixed stack buffer after its length was checked against that
 * buffer; IPv4 is parsed by hand (so leading zeros and other forms that
 * inet_aton would take are refused); IPv6 goes to inet_pton after a check
 * of its characters.
 */
#include "ipaddr.h"

#include <arpa/inet.h>
#include <string.h>

/* 39 characters is the longest plain IPv6; 45 with an IPv4 tail. */
#define TEXT_LIMIT 45

static int parse_ipv4(const char *s, size_t len, unsigned char out[4])
{
	size_t i = 0;
	int part;

	if (len < 7 || len > 15)
		return -1;
	for (part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t start = i;

		while (i < len && s[i] >= '0' && s[i] <= '9') {
			v = v * 10 + (unsigned)(s[i] - '0');
			if (v > 255)
				return -1;
			i++;
		}
		if (i == start || i - start > 3)
			return -1;
		if (i - start > 1 && s[start] == '0')
			return -1;	/* leading zero: octal to some parsers */
		out[part] = (unsigned char)v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
	}
	return i == len ? 0 : -1;
}

static int parse_ipv6(const char *s, size_t len, unsigned char out[16])
{
	char buf[TEXT_LIMIT + 1];
	size_t i;
	int colons = 0;

	if (len < 2 || len > TEXT_LIMIT)
		return -1;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == ':')
			colons++;
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			   (c >= 'A' && c <= 'F') || c == '.'))
			return -1;
	}
	if (colons < 2)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET6, buf, out) != 1)
		return -1;
	/* An embedded IPv4 tail must obey the IPv4 rules as well. */
	{
		const char *dot = memchr(s, '.', len);

		if (dot) {
			const char *tail = s + len;

			while (tail > s && tail[-1] != ':')
				tail--;
			if (parse_ipv4(tail, (size_t)(s + len - tail),
				       (unsigned char[4]){0}) != 0)
				return -1;
		}
	}
	return 0;
}

int bw_ipaddr_parse(const char *s, size_t len, bw_ipaddr *out)
{
	bw_ipaddr a;

	if (!s || !out)
		return -1;
	memset(&a, 0, sizeof a);
	if (memchr(s, ':', len)) {
		if (parse_ipv6(s, len, a.b) != 0)
			return -1;
		a.family = 6;
	} else {
		if (parse_ipv4(s, len, a.b) != 0)
			return -1;
		a.family = 4;
	}
	*out = a;
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	       c == '\f' || c == '\v';
}

int bw_ipaddr_parse_lenient(const char *s, size_t len, bw_ipaddr *out)
{
	const char *pct;

	if (!s || !out)
		return -1;
	while (len > 0 && is_space(*s))
		s++, len--;
	while (len > 0 && is_space(s[len - 1]))
		len--;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
		s++, len -= 2;
	if (len >= 5 && (s[0] == 'I' || s[0] == 'i') &&
	    (s[1] == 'P' || s[1] == 'p') && (s[2] == 'v' || s[2] == 'V') &&
	    s[3] == '6' && s[4] == ':')
		s += 5, len -= 5;
	pct = memchr(s, '%', len);
	if (pct && memchr(s, ':', (size_t)(pct - s)))
		len = (size_t)(pct - s);
	return bw_ipaddr_parse(s, len, out);
}

int bw_ipaddr_unmap(bw_ipaddr *a)
{
	static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0,
						 0, 0, 0xff, 0xff};

	if (!a || a->family != 6 || memcmp(a->b, prefix, 12) != 0)
		return 0;
	memmove(a->b, a->b + 12, 4);
	memset(a->b + 4, 0, 12);
	a->family = 4;
	return 1;
}

/* Does a (bits long) start with the first plen bits of prefix? */
static int in_prefix(const unsigned char *a, const unsigned char *prefix,
		     unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;

	if (memcmp(a, prefix, full) != 0)
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xffu << (8 - rest));

		if ((a[full] & mask) != (prefix[full] & mask))
			return 0;
	}
	return 1;
}

struct range {
	unsigned char p[16];
	unsigned len;
	int cls;
};

/* IANA's IPv4 special-purpose registry, folded into our classes. */
static const struct range v4_ranges[] = {
	{{0, 0, 0, 0}, 32, BW_IP_UNSPECIFIED},
	{{0}, 8, BW_IP_RESERVED},		/* "this network" */
	{{10}, 8, BW_IP_PRIVATE},
	{{100, 64}, 10, BW_IP_SHARED},
	{{127}, 8, BW_IP_LOOPBACK},
	{{169, 254}, 16, BW_IP_LINKLOCAL},
	{{172, 16}, 12, BW_IP_PRIVATE},
	{{192, 0, 0}, 24, BW_IP_RESERVED},	/* IETF protocol assignments */
	{{192, 0, 2}, 24, BW_IP_DOCUMENTATION},
	{{192, 88, 99}, 24, BW_IP_RESERVED},	/* deprecated 6to4 relay */
	{{192, 168}, 16, BW_IP_PRIVATE},
	{{198, 18}, 15, BW_IP_RESERVED},	/* benchmarking */
	{{198, 51, 100}, 24, BW_IP_DOCUMENTATION},
	{{203, 0, 113}, 24, BW_IP_DOCUMENTATION},
	{{224}, 4, BW_IP_MULTICAST},
	{{240}, 4, BW_IP_RESERVED},		/* incl. 255.255.255.255 */
};

static const struct range v6_ranges[] = {
	{{0}, 128, BW_IP_UNSPECIFIED},
	{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, BW_IP_LOOPBACK},
	{{0x01, 0x00}, 64, BW_IP_RESERVED},		/* discard-only */
	{{0x20, 0x01, 0x0d, 0xb8}, 32, BW_IP_DOCUMENTATION},
	{{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48, BW_IP_RESERVED}, /* benchmarking */
	{{0x20, 0x01, 0x00, 0x10}, 28, BW_IP_RESERVED},	/* ORCHID */
	{{0x20, 0x01, 0x00, 0x20}, 28, BW_IP_RESERVED},	/* ORCHIDv2 */
	{{0x3f, 0xff}, 20, BW_IP_DOCUMENTATION},
	{{0xfc}, 7, BW_IP_PRIVATE},			/* unique local */
	{{0xfe, 0x80}, 10, BW_IP_LINKLOCAL},
	{{0xfe, 0xc0}, 10, BW_IP_RESERVED},		/* old site-local */
	{{0xff}, 8, BW_IP_MULTICAST},
};

int bw_ipaddr_classify(const bw_ipaddr *in)
{
	bw_ipaddr a;
	size_t i;

	if (!in)
		return BW_IP_RESERVED;
	a = *in;
	bw_ipaddr_unmap(&a);
	if (a.family == 4) {
		for (i = 0; i < sizeof v4_ranges / sizeof v4_ranges[0]; i++)
			if (in_prefix(a.b, v4_ranges[i].p, v4_ranges[i].len))
				return v4_ranges[i].cls;
		return BW_IP_PUBLIC;
	}
	if (a.family != 6)
		return BW_IP_RESERVED;
	for (i = 0; i < sizeof v6_ranges / sizeof v6_ranges[0]; i++)
		if (in_prefix(a.b, v6_ranges[i].p, v6_ranges[i].len))
			return v6_ranges[i].cls;
	/* Only 2000::/3 is allocated as global unicast. */
	if ((a.b[0] & 0xe0) != 0x20)
		return BW_IP_RESERVED;
	return BW_IP_PUBLIC;
}

const char *bw_ipclass_name(int cls)
{
	switch (cls) {
	case BW_IP_PUBLIC: return "public";
	case BW_IP_PRIVATE: return "private";
	case BW_IP_SHARED: return "shared";
	case BW_IP_LOOPBACK: return "loopback";
	case BW_IP_LINKLOCAL: return "link-local";
	case BW_IP_MULTICAST: return "multicast";
	case BW_IP_DOCUMENTATION: return "documentation";
	case BW_IP_UNSPECIFIED: return "unspecified";
	default: return "reserved";
	}
}

int bw_ipaddr_format(const bw_ipaddr *a, char *buf, size_t size)
{
	char tmp[BW_IPADDR_TEXT_MAX];
	size_t n;

	if (!buf || size == 0)
		return -1;
	buf[0] = '\0';
	if (!a || (a->family != 4 && a->family != 6))
		return -1;
	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, tmp,
		       sizeof tmp))
		return -1;
	n = strlen(tmp);
	if (n + 1 > size)
		return -1;
	memcpy(buf, tmp, n + 1);
	return (int)n;
}

int bw_ipaddr_reverse(const bw_ipaddr *a, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[BW_IPADDR_REVERSE_MAX];
	size_t n = 0;
	int i;

	if (!buf || size == 0)
		return -1;
	buf[0] = '\0';
	if (!a)
		return -1;
	if (a->family == 4) {
		for (i = 3; i >= 0; i--) {
			unsigned v = a->b[i];

			if (v >= 100)
				tmp[n++] = (char)('0' + v / 100);
			if (v >= 10)
				tmp[n++] = (char)('0' + v / 10 % 10);
			tmp[n++] = (char)('0' + v % 10);
			if (i > 0)
				tmp[n++] = '.';
		}
	} else if (a->family == 6) {
		for (i = 15; i >= 0; i--) {
			tmp[n++] = hex[a->b[i] & 0xf];
			tmp[n++] = '.';
			tmp[n++] = hex[a->b[i] >> 4];
			if (i > 0)
				tmp[n++] = '.';
		}
	} else {
		return -1;
	}
	if (n + 1 > size)
		return -1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return (int)n;
}

int bw_ipaddr_equal(const bw_ipaddr *a, const bw_ipaddr *b)
{
	if (!a || !b || a->family != b->family)
		return 0;
	return memcmp(a->b, b->b, a->family == 4 ? 4 : 16) == 0;
}

/*
 * ipaddr.h - IP address text: strict and lenient parsing, classification
 * (public, private, loopback, ...) and the reversed forms that DNS blocklists
 * and PTR lookups use.
 *
 * Every function takes a pointer and a length, needs no NUL terminator, never
 * reads past len and never writes past the size it is given: these run on
 * text from bounces and HTTP paths and are fuzzed. No allocation, no global
 * state: all of them are thread-safe.
 */
#ifndef BW_IPADDR_H
#define BW_IPADDR_H

#include <stddef.h>

/* An address in network byte order: b[0..3] for IPv4, b[0..15] for IPv6. */
typedef struct bw_ipaddr {
	int family;		/* 4 or 6 */
	unsigned char b[16];
} bw_ipaddr;

/* Longest canonical text (IPv6 with an embedded IPv4 tail) plus NUL. */
#define BW_IPADDR_TEXT_MAX 46
/* Longest reversed form: 32 nibbles and 31 dots plus NUL. */
#define BW_IPADDR_REVERSE_MAX 64

enum bw_ipclass {
	BW_IP_PUBLIC = 0,	/* globally routable unicast */
	BW_IP_PRIVATE,		/* RFC 1918, IPv6 unique local fc00::/7 */
	BW_IP_SHARED,		/* 100.64.0.0/10, carrier-grade NAT */
	BW_IP_LOOPBACK,		/* 127.0.0.0/8, ::1 */
	BW_IP_LINKLOCAL,	/* 169.254.0.0/16, fe80::/10 */
	BW_IP_MULTICAST,	/* 224.0.0.0/4, ff00::/8 */
	BW_IP_DOCUMENTATION,	/* TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20 */
	BW_IP_UNSPECIFIED,	/* 0.0.0.0, :: */
	BW_IP_RESERVED		/* anything else not globally routable */
};

/*
 * bw_ipaddr_parse - strict: the whole of s[0..len) must be one IPv4 dotted
 * quad (decimal, no leading zeros, each octet 0-255) or one IPv6 address in
 * RFC 4291 text form (no brackets, no zone id, no whitespace). Returns 0 and
 * fills *out, or -1 when the text is anything else.
 */
int bw_ipaddr_parse(const char *s, size_t len, bw_ipaddr *out);

/*
 * bw_ipaddr_parse_lenient - for addresses as bounces write them: trims
 * whitespace, accepts "[192.0.2.1]", "[IPv6:2001:db8::1]", "IPv6:2001:db8::1"
 * and drops an IPv6 zone id ("fe80::1%eth0"). What remains must pass
 * bw_ipaddr_parse. Returns 0 or -1.
 */
int bw_ipaddr_parse_lenient(const char *s, size_t len, bw_ipaddr *out);

/* bw_ipaddr_classify - the enum bw_ipclass of a. IPv4-mapped IPv6
 * (::ffff:a.b.c.d) is classified as its IPv4 address. */
int bw_ipaddr_classify(const bw_ipaddr *a);

/* bw_ipclass_name - static text for an enum bw_ipclass: "public",
 * "private", "shared", "loopback", "link-local", "multicast",
 * "documentation", "unspecified", "reserved". */
const char *bw_ipclass_name(int cls);

/* bw_ipaddr_unmap - when a is IPv4-mapped IPv6, turn it into the IPv4
 * address and return 1; otherwise leave it and return 0. */
int bw_ipaddr_unmap(bw_ipaddr *a);

/*
 * bw_ipaddr_format - canonical text (inet_ntop: IPv6 lower case and
 * compressed) into buf. Returns the length, or -1 when size is too small
 * (BW_IPADDR_TEXT_MAX always suffices); buf is then "".
 */
int bw_ipaddr_format(const bw_ipaddr *a, char *buf, size_t size);

/*
 * bw_ipaddr_reverse - the DNS query prefix without a trailing dot: IPv4
 * "1.2.0.192" for 192.0.2.1, IPv6 the 32 lower-case nibbles in reverse
 * order ("1.0.0.0....8.b.d.0.1.0.0.2"). Append ".zone" for a blocklist,
 * ".in-addr.arpa" / ".ip6.arpa" for PTR. Returns the length, or -1 when size
 * is too small (BW_IPADDR_REVERSE_MAX always suffices); buf is then "".
 */
int bw_ipaddr_reverse(const bw_ipaddr *a, char *buf, size_t size);

/* bw_ipaddr_equal - 1 when both are the same family and address. */
int bw_ipaddr_equal(const bw_ipaddr *a, const bw_ipaddr *b);

#endif /* BW_IPADDR_H */

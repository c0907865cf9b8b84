/*
 * test_ipaddr.c - unit tests of classifier/ipaddr.c: strict and lenient
 * parsing, classification, reversed forms, and hostile input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ipaddr.h"

static int parse(const char *s, bw_ipaddr *a)
{
	return bw_ipaddr_parse(s, strlen(s), a);
}

static int lenient(const char *s, bw_ipaddr *a)
{
	return bw_ipaddr_parse_lenient(s, strlen(s), a);
}

static void test_strict_accepts(void **state)
{
	static const char *good[] = {
		"192.0.2.1", "0.0.0.0", "255.255.255.255", "1.2.3.4",
		"10.0.0.10", "2001:db8::1", "::", "::1", "::ffff:192.0.2.1",
		"2001:DB8:0:0:0:0:0:1", "fe80::1", "2001:db8:1:2:3:4:5:6",
		"64:ff9b::192.0.2.33",
	};
	bw_ipaddr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (parse(good[i], &a) != 0)
			fail_msg("rejected %s", good[i]);
	}
	assert_int_equal(parse("192.0.2.1", &a), 0);
	assert_int_equal(a.family, 4);
	assert_int_equal(a.b[0], 192);
	assert_int_equal(a.b[3], 1);
	assert_int_equal(parse("2001:db8::1", &a), 0);
	assert_int_equal(a.family, 6);
	assert_int_equal(a.b[0], 0x20);
	assert_int_equal(a.b[15], 1);
}

static void test_strict_rejects(void **state)
{
	static const char *bad[] = {
		"", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256",
		"01.2.3.4", "1.2.3.04", "1.2.3.00", "0x7f.0.0.1", "1.2.3.4 ",
		" 1.2.3.4", "1.2.3.4\n", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.-4",
		"1.2.3.4/24", "[192.0.2.1]", "fe80::1%eth0", "[2001:db8::1]",
		"IPv6:2001:db8::1", "2001:db8::1::2", ":::", "2001:db8:::1",
		"12345::", "2001:db8::g", "::ffff:1.2.3.04", "::ffff:1.2.3",
		"1:2:3:4:5:6:7:8:9", "localhost", "1.2.3.4.", "+1.2.3.4",
		"1.2.3.4a", "1000.2.3.4",
	};
	bw_ipaddr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i], &a) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* an embedded NUL is not the end of the text */
	assert_int_equal(bw_ipaddr_parse("1.2.3.4\0", 8, &a), -1);
	assert_int_equal(bw_ipaddr_parse(NULL, 0, &a), -1);
}

static void test_lenient(void **state)
{
	bw_ipaddr a, b;

	(void)state;
	assert_int_equal(lenient("[192.0.2.1]", &a), 0);
	assert_int_equal(parse("192.0.2.1", &b), 0);
	assert_true(bw_ipaddr_equal(&a, &b));
	assert_int_equal(lenient("  192.0.2.1\r\n", &a), 0);
	assert_true(bw_ipaddr_equal(&a, &b));
	assert_int_equal(lenient("[IPv6:2001:db8::5]", &a), 0);
	assert_int_equal(parse("2001:db8::5", &b), 0);
	assert_true(bw_ipaddr_equal(&a, &b));
	assert_int_equal(lenient("ipv6:2001:db8::5", &a), 0);
	assert_true(bw_ipaddr_equal(&a, &b));
	assert_int_equal(lenient("fe80::1%eth0", &a), 0);
	assert_int_equal(a.family, 6);
	assert_int_equal(lenient("[01.2.3.4]", &a), -1);
	assert_int_equal(lenient("[", &a), -1);
	assert_int_equal(lenient("[]", &a), -1);
	assert_int_equal(lenient("IPv6:", &a), -1);
	assert_int_equal(lenient("192.0.2.1%eth0", &a), -1);
}

static void test_classify(void **state)
{
	static const struct {
		const char *ip;
		int cls;
	} t[] = {
		{"8.8.8.8", BW_IP_PUBLIC},
		{"192.0.2.1", BW_IP_DOCUMENTATION},
		{"198.51.100.7", BW_IP_DOCUMENTATION},
		{"203.0.113.255", BW_IP_DOCUMENTATION},
		{"10.1.2.3", BW_IP_PRIVATE},
		{"172.16.0.1", BW_IP_PRIVATE},
		{"172.31.255.255", BW_IP_PRIVATE},
		{"172.32.0.1", BW_IP_PUBLIC},
		{"192.168.1.1", BW_IP_PRIVATE},
		{"100.64.0.1", BW_IP_SHARED},
		{"100.128.0.1", BW_IP_PUBLIC},
		{"127.0.0.2", BW_IP_LOOPBACK},
		{"169.254.1.1", BW_IP_LINKLOCAL},
		{"224.0.0.1", BW_IP_MULTICAST},
		{"239.255.255.255", BW_IP_MULTICAST},
		{"240.0.0.1", BW_IP_RESERVED},
		{"255.255.255.255", BW_IP_RESERVED},
		{"0.0.0.0", BW_IP_UNSPECIFIED},
		{"0.1.2.3", BW_IP_RESERVED},
		{"198.18.0.1", BW_IP_RESERVED},
		{"192.0.0.8", BW_IP_RESERVED},
		{"::", BW_IP_UNSPECIFIED},
		{"::1", BW_IP_LOOPBACK},
		{"2001:db8::1", BW_IP_DOCUMENTATION},
		{"3fff::1", BW_IP_DOCUMENTATION},
		{"fd00::1", BW_IP_PRIVATE},
		{"fe80::1", BW_IP_LINKLOCAL},
		{"ff02::1", BW_IP_MULTICAST},
		{"2a00:1450:4001::1", BW_IP_PUBLIC},
		{"2001:4860::8888", BW_IP_PUBLIC},
		{"::ffff:10.0.0.1", BW_IP_PRIVATE},
		{"::ffff:8.8.8.8", BW_IP_PUBLIC},
		{"4000::1", BW_IP_RESERVED},
		{"100::1", BW_IP_RESERVED},
	};
	bw_ipaddr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		assert_int_equal(parse(t[i].ip, &a), 0);
		if (bw_ipaddr_classify(&a) != t[i].cls)
			fail_msg("%s: got %s, want %s", t[i].ip,
				 bw_ipclass_name(bw_ipaddr_classify(&a)),
				 bw_ipclass_name(t[i].cls));
	}
	assert_string_equal(bw_ipclass_name(BW_IP_PUBLIC), "public");
	assert_string_equal(bw_ipclass_name(BW_IP_LINKLOCAL), "link-local");
}

static void test_reverse_and_format(void **state)
{
	char buf[BW_IPADDR_REVERSE_MAX], small[8];
	bw_ipaddr a;

	(void)state;
	assert_int_equal(parse("192.0.2.1", &a), 0);
	assert_int_equal(bw_ipaddr_reverse(&a, buf, sizeof buf), 9);
	assert_string_equal(buf, "1.2.0.192");
	assert_int_equal(parse("255.100.10.0", &a), 0);
	bw_ipaddr_reverse(&a, buf, sizeof buf);
	assert_string_equal(buf, "0.10.100.255");
	assert_int_equal(parse("2001:db8::99", &a), 0);
	assert_int_equal(bw_ipaddr_reverse(&a, buf, sizeof buf), 63);
	assert_string_equal(buf, "9.9.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
				 "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
	assert_int_equal(bw_ipaddr_reverse(&a, small, sizeof small), -1);
	assert_string_equal(small, "");

	assert_int_equal(parse("2001:DB8:0:0:0:0:0:1", &a), 0);
	assert_int_equal(bw_ipaddr_format(&a, buf, sizeof buf), 11);
	assert_string_equal(buf, "2001:db8::1");
	assert_int_equal(bw_ipaddr_format(&a, small, 4), -1);
	assert_int_equal(parse("::ffff:192.0.2.1", &a), 0);
	assert_int_equal(bw_ipaddr_unmap(&a), 1);
	assert_int_equal(a.family, 4);
	bw_ipaddr_format(&a, buf, sizeof buf);
	assert_string_equal(buf, "192.0.2.1");
	assert_int_equal(bw_ipaddr_unmap(&a), 0);
}

/* Random and mutated input: no crash, no read past len (ASan/valgrind). */
static void test_hostile(void **state)
{
	static const char alphabet[] = "0123456789abcdefABCDEF.:[]%vVIP6 \t";
	char *buf;
	bw_ipaddr a;
	unsigned seed = 12345;
	int i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		size_t len = (seed = seed * 1103515245u + 12345u) >> 16 & 63, k;

		buf = malloc(len ? len : 1);
		assert_non_null(buf);
		for (k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[k] = (seed >> 16) & 1 ?
				 alphabet[(seed >> 17) % (sizeof alphabet - 1)] :
				 (char)(seed >> 20);
		}
		if (bw_ipaddr_parse(buf, len, &a) == 0) {
			char t[BW_IPADDR_TEXT_MAX], r[BW_IPADDR_REVERSE_MAX];

			assert_true(bw_ipaddr_format(&a, t, sizeof t) > 0);
			assert_true(bw_ipaddr_reverse(&a, r, sizeof r) > 0);
		}
		bw_ipaddr_parse_lenient(buf, len, &a);
		free(buf);
	}
	/* long input */
	buf = malloc(100000);
	assert_non_null(buf);
	memset(buf, '1', 100000);
	assert_int_equal(bw_ipaddr_parse(buf, 100000, &a), -1);
	memset(buf, ':', 100000);
	assert_int_equal(bw_ipaddr_parse_lenient(buf, 100000, &a), -1);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_accepts),
		cmocka_unit_test(test_strict_rejects),
		cmocka_unit_test(test_lenient),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_reverse_and_format),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_jsonout.c - bw_json_compact() writes what json_dumpb(JSON_COMPACT)
 * writes, byte for byte, with the same return value: on hand-made edge
 * cases, on random trees, with short buffers, and on the real answers of
 * bw_explain (the shared corpus's emails when it is there).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http.h"
#include "kb_fixture.h"

/* Both writers into buffers of size; the return values and bytes agree. */
static void same_at(const json_t *v, size_t size)
{
	char *a = malloc(size + 1), *b = malloc(size + 1);
	size_t na, nb;

	assert_non_null(a);
	assert_non_null(b);
	na = json_dumpb(v, a, size, JSON_COMPACT);
	nb = bw_json_compact(v, b, size);
	assert_int_equal(nb, na);
	if (na <= size && na > 0)
		assert_memory_equal(b, a, na);
	free(a);
	free(b);
}

static void same(const json_t *v)
{
	size_t need = json_dumpb(v, NULL, 0, JSON_COMPACT);

	same_at(v, need + 16);
	same_at(v, need);
	if (need > 1)
		same_at(v, need - 1);	/* too small: only the size must agree */
	same_at(v, 0);
}

static void test_edge_cases(void **state)
{
	static const char *const docs[] = {
		"{}", "[]", "[[],{},[{}]]", "{\"a\":null,\"b\":true,\"c\":false}",
		"[0,-1,9223372036854775807,-9223372036854775808]",
		"[0.5,-2.25,1e300,3.0,1.0000000000000002,-0.0]",
		"{\"q\":\"say \\\"hi\\\" \\\\ back\\/slash\"}",
		"[\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"]",
		"[\"caf\\u00e9 \\u2028 \\u2029 \\ud83d\\udc08 \\u65e5\\u672c\"]",
		"{\"\\u00fcber\":{\"k\\\"ey\":[1,\"x\"]}}",
		"{\"dup\":1,\"order\":2,\"a\":3,\"z\":4}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
		json_error_t e;
		json_t *v = json_loads(docs[i], JSON_DECODE_ANY, &e);

		assert_non_null(v);
		same(v);
		json_decref(v);
	}
}

/* Strings jansson refuses to write: a NUL and ill-formed UTF-8 (made with
 * the _nocheck constructors), as values and as keys. */
static void test_refusals(void **state)
{
	json_t *v = json_array();
	json_t *o = json_object();

	(void)state;
	json_array_append_new(v, json_stringn_nocheck("a\0b", 3));
	same(v);
	json_array_clear(v);
	json_array_append_new(v, json_string_nocheck("bad \xFF byte"));
	same(v);
	json_object_set_new_nocheck(o, "k\xC3", json_true());
	same(o);
	json_decref(v);
	json_decref(o);
}

/* A tree nested deeper than the writer's own limit goes through jansson. */
static void test_deep(void **state)
{
	json_t *top = json_array(), *cur = top;

	(void)state;
	for (int i = 0; i < 300; i++) {
		json_t *next = json_array();

		json_array_append_new(cur, json_integer(i));
		json_array_append_new(cur, next);
		cur = next;
	}
	same(top);
	json_decref(top);
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A random valid UTF-8 string: ASCII, the characters that get escaped,
 * and two-, three- and four-byte sequences. */
static json_t *random_string(void)
{
	static const char *const pieces[] = {
		"a", "Z", " ", "550", "\"", "\\", "/", "\n", "\r", "\t", "\b", "\f", "\x01",
		"\x1f", "\x7f", "\xC3\xA9", "\xE2\x80\x99", "\xE2\x80\xA8", "\xF0\x9F\x90\x88",
		"\xE6\x97\xA5", "<script>", "&amp;", "{}[],:",
	};
	char buf[256];
	size_t n = 0, k = rnd(24);

	for (size_t i = 0; i < k; i++) {
		const char *p = pieces[rnd(sizeof pieces / sizeof *pieces)];
		size_t l = strlen(p);

		if (n + l >= sizeof buf)
			break;
		memcpy(buf + n, p, l);
		n += l;
	}
	return json_stringn(buf, n);
}

/* Now and then a string jansson must refuse to write: one ill-formed
 * sequence (or a NUL) inside valid text, made with the _nocheck constructor. */
static json_t *random_bad_string(void)
{
	static const char *const bad[] = {
		"\x80", "\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
		"\xF8\x88\x80\x80\x80", "\xFF", "\xE2\x80", "",
	};
	json_t *good = random_string();
	const char *b = bad[rnd(sizeof bad / sizeof *bad)];
	size_t gl = json_string_length(good), bl = *b ? strlen(b) : 1, at = rnd((unsigned)gl + 1);
	char buf[300];
	json_t *r;

	/* cut only between characters: back off continuation bytes */
	while (at > 0 && at < gl && (json_string_value(good)[at] & 0xC0) == 0x80)
		at--;
	memcpy(buf, json_string_value(good), at);
	memcpy(buf + at, *b ? b : "\0", bl);	/* "" stands for a NUL */
	memcpy(buf + at + bl, json_string_value(good) + at, gl - at);
	r = json_stringn_nocheck(buf, gl + bl);
	json_decref(good);
	return r;
}

static json_t *random_value(int depth)
{
	switch (depth > 4 ? rnd(5) : rnd(7)) {
	case 0: return rnd(40) ? random_string() : random_bad_string();
	case 1: return json_integer((json_int_t)rnd(2000000) - 1000000);
	case 2: return json_real((double)rnd(100000) / 64.0 - 300.0);
	case 3: return rnd(2) ? json_true() : json_false();
	case 4: return json_null();
	case 5: {
		json_t *a = json_array();
		size_t k = rnd(5);

		for (size_t i = 0; i < k; i++)
			json_array_append_new(a, random_value(depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		size_t k = rnd(5);

		for (size_t i = 0; i < k; i++) {
			json_t *key = random_string();

			json_object_set_new(o, json_string_value(key), random_value(depth + 1));
			json_decref(key);
		}
		return o;
	}
	}
}

static void test_random_trees(void **state)
{
	(void)state;
	for (int i = 0; i < 3000; i++) {
		json_t *v = rnd(2) ? json_array() : json_object();
		json_t *x = random_value(0);

		if (json_is_array(v))
			json_array_append_new(v, x);
		else
			json_object_set_new(v, "v", x);
		same(v);
		json_decref(v);
	}
}

static void same_answer(const char *text, size_t len)
{
	bw_options o = {0};
	json_t *res = bw_explain(kb, text, len, &o, NULL);

	assert_non_null(res);
	same(res);
	json_decref(res);
}

/* Real answers: pasted lines, and the corpus's emails when present. */
static void test_answers(void **state)
{
	static const char *const lines[] = {
		"550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown",
		"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
		"zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1",
		"Benutzer unbekannt \"quoted\" \\ back\tslash",
		"nothing that looks like a bounce",
	};
	const char *shared = getenv("BW_SHARED");
	char dir[1024];
	DIR *d;
	struct dirent *e;
	int files = 0;

	(void)state;
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
		same_answer(lines[i], strlen(lines[i]));
	snprintf(dir, sizeof dir, "%s/testdata/bounces/emails/maildir/bsd",
		 shared ? shared : "../shared");
	if ((d = opendir(dir)) == NULL) {
		printf("# %s absent: corpus answers not compared\n", dir);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char path[2048], *buf;
		FILE *f;
		long n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		buf = malloc((size_t)n + 1);
		assert_non_null(buf);
		if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
			same_answer(buf, (size_t)n);
			files++;
		}
		free(buf);
		fclose(f);
	}
	closedir(d);
	printf("# %d corpus answers written identically\n", files);
	assert_true(files > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_deep),
		cmocka_unit_test(test_random_trees),
		cmocka_unit_test(test_answers),
	};

	return cmocka_run_group_tests_name("jsonout", tests, kb_fixture_load, kb_fixture_unload);
}

/*
 * jsonout.c - the compact JSON text of a jansson value, fast.
 *
 * The output is byte for byte what json_dumpb(v, buf, size, JSON_COMPACT)
 * writes: keys in insertion order, "," and ":" without spaces, '"', '\\'
 * and control characters escaped as jansson escapes them, everything else
 * (UTF-8 included) as it is. The values are still built, owned and parsed
 * by jansson; only the writing is ours.
 *
 * Why not json_dumpb: jansson decodes every character of every string as a
 * UTF-8 sequence before deciding whether to escape it, about 78
 * instructions per byte. An answer is ~4 KB, mostly the knowledge base's
 * prose, so its writing cost three times the classification behind it
 * (callgrind, bench/bench_api). Here a string is checked and escaped in one
 * pass that steps over plain ASCII eight bytes at a time and copies it in
 * runs.
 *
 * Where jansson would fail (invalid UTF-8, a NUL, a cycle, absurd depth) or
 * format something rare (reals), the value is handed to jansson itself, so
 * failures and formats stay exactly jansson's.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "facts.h"	/* bw_utf8_seq */

/* deeper trees go to jansson, which knows its own limits */
#define BW_JSON_MAX_DEPTH 64

typedef struct out {
	char *p;
	size_t cap;
	size_t n;		/* bytes the whole text needs, written or not */
	int failed;
} out_t;

/* Appends len bytes; once something does not fit, later bytes only count. */
static void put(out_t *o, const char *s, size_t len)
{
	if (o->n + len <= o->cap)
		memcpy(o->p + o->n, s, len);
	o->n += len;
}

/*
 * Are the 8 bytes at p printable ASCII that JSON keeps as it is (no byte
 * below 0x20 or above 0x7F, no '"', no '\\')? The classic zero-byte test on
 * the word XOR each character and on the word minus 0x20, plus the high
 * bits.
 */
static int plain8(const char *p)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	uint64_t x, q, b;

	memcpy(&x, p, 8);
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	return ((x | ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high) == 0;
}

/*
 * A string, checked and escaped in one pass: runs of plain bytes are found
 * eight at a time and copied whole; multi-byte sequences must be
 * well-formed UTF-8. A NUL or an ill-formed sequence fails the writing, and
 * jansson then answers as it does.
 */
static void put_string(out_t *o, const char *s, size_t len)
{
	const char *run = s, *end = s + len, *p = s;

	put(o, "\"", 1);
	while (p < end) {
		unsigned char c;
		char esc[8];
		const char *e = esc;
		size_t elen = 2;

		while (end - p >= 8 && plain8(p))
			p += 8;
		if (p == end)
			break;
		c = (unsigned char)*p;
		if (c >= 0x80) {
			size_t n = bw_utf8_seq(p, (size_t)(end - p));

			if (n == 0) {
				o->failed = 1;
				return;
			}
			p += n;
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\') {
			p++;
			continue;
		}
		if (c == 0) {
			o->failed = 1;
			return;
		}
		put(o, run, (size_t)(p - run));
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			elen = (size_t)snprintf(esc, sizeof esc, "\\u%04X", c);
			break;
		}
		put(o, e, elen);
		run = ++p;
	}
	put(o, run, (size_t)(end - run));
	put(o, "\"", 1);
}

/* A value jansson formats: its own compact text, appended. */
static void put_by_jansson(out_t *o, const json_t *v)
{
	char tmp[64];
	size_t n = json_dumpb(v, tmp, sizeof tmp, JSON_COMPACT | JSON_ENCODE_ANY);

	if (n == 0 || n > sizeof tmp)
		o->failed = 1;
	else
		put(o, tmp, n);
}

static void put_value(out_t *o, const json_t *v, int depth)
{
	char num[24];

	if (depth > BW_JSON_MAX_DEPTH) {
		o->failed = 1;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *sep = "";

		put(o, "{", 1);
		for (void *it = json_object_iter((json_t *)v); it && !o->failed;
		     it = json_object_iter_next((json_t *)v, it)) {
			put(o, sep, *sep ? 1 : 0);
			put_string(o, json_object_iter_key(it), json_object_iter_key_len(it));
			put(o, ":", 1);
			put_value(o, json_object_iter_value(it), depth + 1);
			sep = ",";
		}
		put(o, "}", 1);
		break;
	}
	case JSON_ARRAY:
		put(o, "[", 1);
		for (size_t i = 0; i < json_array_size(v) && !o->failed; i++) {
			if (i)
				put(o, ",", 1);
			put_value(o, json_array_get(v, i), depth + 1);
		}
		put(o, "]", 1);
		break;
	case JSON_STRING:
		put_string(o, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER: {
		/* decimal, as "%" JSON_INTEGER_FORMAT prints it, without printf */
		json_int_t i = json_integer_value(v);
		unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
		char *d = num + sizeof num;

		do
			*--d = (char)('0' + u % 10);
		while ((u /= 10) != 0);
		if (i < 0)
			*--d = '-';
		put(o, d, (size_t)(num + sizeof num - d));
		break;
	}
	case JSON_TRUE:
		put(o, "true", 4);
		break;
	case JSON_FALSE:
		put(o, "false", 5);
		break;
	case JSON_NULL:
		put(o, "null", 4);
		break;
	default:		/* reals */
		put_by_jansson(o, v);
		break;
	}
}

size_t bw_json_compact(const json_t *v, char *buf, size_t size)
{
	out_t o = { buf, size, 0, 0 };

	if (!v)
		return 0;
	if (json_is_object(v) || json_is_array(v))
		put_value(&o, v, 0);
	else
		o.failed = 1;	/* jansson refuses a bare scalar without JSON_ENCODE_ANY */
	if (o.failed)
		return json_dumpb(v, buf, size, JSON_COMPACT);
	return o.n;
}

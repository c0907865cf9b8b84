/*
 * facts.c - read the facts a bounce text states (see facts.h).
 *
 * The scanners look at characters and their neighbours only; they are
 * linear in the text and allocate nothing. Where most bytes cannot start
 * what a scanner looks for, sixteen are tested at a time (SSE2, which every
 * x86-64 has; elsewhere one at a time) and only the few that can are read.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "ascii.h"
#include "facts.h"

/*
 * Character classes of the C locale (the library never sets another), one
 * table load instead of a libc call per byte.
 */
enum {
	C_DIGIT = 1, C_ALPHA = 2, C_HEX = 4, C_HOSTP = 8, C_AT = 16, C_H = 32, C_COLON = 64,
	C_URLEND = 128		/* ends a URL: NUL, white space (C locale), <>"'()[]{}|\^` */
};
#define DIG(c) [c] = C_DIGIT | C_HEX
#define HEXL(c) [c] = C_ALPHA | C_HEX
static const unsigned char cls[256] = {
	DIG('0'), DIG('1'), DIG('2'), DIG('3'), DIG('4'), DIG('5'), DIG('6'), DIG('7'), DIG('8'),
	DIG('9'),
	HEXL('a'), HEXL('b'), HEXL('c'), HEXL('d'), HEXL('e'), HEXL('f'),
	HEXL('A'), HEXL('B'), HEXL('C'), HEXL('D'), HEXL('E'), HEXL('F'),
	['g'] = C_ALPHA, ['h'] = C_ALPHA | C_H, ['i'] = C_ALPHA, ['j'] = C_ALPHA, ['k'] = C_ALPHA,
	['l'] = C_ALPHA, ['m'] = C_ALPHA, ['n'] = C_ALPHA, ['o'] = C_ALPHA, ['p'] = C_ALPHA,
	['q'] = C_ALPHA, ['r'] = C_ALPHA, ['s'] = C_ALPHA, ['t'] = C_ALPHA, ['u'] = C_ALPHA,
	['v'] = C_ALPHA, ['w'] = C_ALPHA, ['x'] = C_ALPHA, ['y'] = C_ALPHA, ['z'] = C_ALPHA,
	['G'] = C_ALPHA, ['H'] = C_ALPHA, ['I'] = C_ALPHA, ['J'] = C_ALPHA, ['K'] = C_ALPHA,
	['L'] = C_ALPHA, ['M'] = C_ALPHA, ['N'] = C_ALPHA, ['O'] = C_ALPHA, ['P'] = C_ALPHA,
	['Q'] = C_ALPHA, ['R'] = C_ALPHA, ['S'] = C_ALPHA, ['T'] = C_ALPHA, ['U'] = C_ALPHA,
	['V'] = C_ALPHA, ['W'] = C_ALPHA, ['X'] = C_ALPHA, ['Y'] = C_ALPHA, ['Z'] = C_ALPHA,
	['.'] = C_HOSTP, ['-'] = C_HOSTP, ['_'] = C_HOSTP, ['@'] = C_AT, [':'] = C_COLON,
	[0] = C_URLEND, [' '] = C_URLEND, ['\t'] = C_URLEND, ['\n'] = C_URLEND, ['\v'] = C_URLEND,
	['\f'] = C_URLEND, ['\r'] = C_URLEND, ['<'] = C_URLEND, ['>'] = C_URLEND, ['"'] = C_URLEND,
	['\''] = C_URLEND, ['('] = C_URLEND, [')'] = C_URLEND, ['['] = C_URLEND, [']'] = C_URLEND,
	['{'] = C_URLEND, ['}'] = C_URLEND, ['|'] = C_URLEND, ['\\'] = C_URLEND, ['^'] = C_URLEND,
	['`'] = C_URLEND,
};
#undef DIG
#undef HEXL

static inline int is_digit(int c) { return c >= '0' && c <= '9'; }
static inline int is_alnum(int c) { return (cls[(unsigned char)c] & (C_DIGIT | C_ALPHA)) != 0; }

/*
 * need bytes (at most 32) from t[base]: in the text, or when fewer remain,
 * a copy of them in tail followed by zeros (no zero byte is what a mask
 * below names).
 */
static inline const unsigned char *block_at(const char *t, size_t len, size_t base,
					    size_t need, unsigned char tail[32])
{
	if (len - base >= need)
		return (const unsigned char *)t + base;
	memset(tail, 0, 32);
	memcpy(tail, t + base, len - base);
	return tail;
}

#ifdef __SSE2__
/* Bit j set: byte j of x is in [lo, hi] (both below 0x80). */
static inline unsigned in16(__m128i x, char lo, char hi)
{
	__m128i ge = _mm_cmpgt_epi8(x, _mm_set1_epi8((char)(lo - 1)));
	__m128i le = _mm_cmplt_epi8(x, _mm_set1_epi8((char)(hi + 1)));

	return (unsigned)_mm_movemask_epi8(_mm_and_si128(ge, le));
}
#endif

/* Bit j set: byte j of the block b is in [lo, hi] (ASCII). */
static inline unsigned in_range(const unsigned char *b, char lo, char hi)
{
#ifdef __SSE2__
	return in16(_mm_loadu_si128((const __m128i *)(const void *)b), lo, hi);
#else
	unsigned m = 0;
	for (unsigned j = 0; j < 16; j++)
		m |= (unsigned)(b[j] >= (unsigned char)lo && b[j] <= (unsigned char)hi) << j;
	return m;
#endif
}

/*
 * Bit j set: an IP may start at t[base + j]: a digit, a hex letter or ':'
 * there, and no letter or digit before it (or base + j = 0). Only what
 * ipv4_at or ipv6_at can accept is named: a digit needs a '.' within
 * three bytes after it (an IPv4 address) or a ':' within four (an IPv6
 * one: up to four hex digits, then ':'); a hex letter needs the ':'.
 * Most blocks of a bounce hold neither and are done after a few tests.
 */
static unsigned ip_starts(const char *t, size_t len, size_t base)
{
	unsigned char tail[32];
	const unsigned char *b = block_at(t, len, base, 20, tail);
	unsigned digit, alnum, colon, hexl, cx, dx, near_c, near_d, start;

#ifdef __SSE2__
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)b);
	__m128i x4 = _mm_loadu_si128((const __m128i *)(const void *)(b + 4));
	__m128i col = _mm_set1_epi8(':'), dt = _mm_set1_epi8('.');
	digit = in16(x, '0', '9');
	colon = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, col));
	/* the ':' at t[base + 0..19], bit k for t[base + k] */
	cx = colon | (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x4, col)) << 4;
	if ((digit | cx) == 0)
		return 0;
	dx = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, dt)) |
	     (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x4, dt)) << 4;
#else
	digit = colon = cx = dx = 0;
	for (unsigned j = 0; j < 20; j++) {
		cx |= (unsigned)(b[j] == ':') << j;
		dx |= (unsigned)(b[j] == '.') << j;
		if (j < 16)
			digit |= (unsigned)((cls[b[j]] & C_DIGIT) != 0) << j;
	}
	colon = cx & 0xFFFFu;
	if ((digit | cx) == 0)
		return 0;
#endif
	near_c = (cx >> 1) | (cx >> 2);
	near_c |= near_c >> 2;	/* a ':' 1-4 bytes on */
	near_d = dx | (dx >> 1);
	near_d = (near_d >> 1) | (near_d >> 2);	/* a '.' 1-3 bytes on */
	start = (digit & (near_d | near_c)) | colon;
	if (near_c & 0xFFFFu) {
#ifdef __SSE2__
		hexl = in16(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'f');	/* either case */
#else
		hexl = 0;
		for (unsigned j = 0; j < 16; j++)
			hexl |= (unsigned)((cls[b[j]] & (C_HEX | C_DIGIT)) == C_HEX) << j;
#endif
		start |= hexl & near_c;
	}
	start &= 0xFFFFu;
	if (start == 0)
		return 0;
#ifdef __SSE2__
	alnum = digit | in16(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'z');
#else
	alnum = 0;
	for (unsigned j = 0; j < 16; j++)
		alnum |= (unsigned)((cls[b[j]] & (C_DIGIT | C_ALPHA)) != 0) << j;
#endif
	unsigned prev = (alnum << 1) | (base > 0 && is_alnum(t[base - 1]));
	return start & ~prev & 0xFFFFu;
}

/* "5.7.1": class 2/4/5, then 1-3 digits, 1-3 digits, not part of an IP. */
int bw_scan_status(const char *t, size_t len, char out[16], size_t *pos)
{
	/* every candidate has a '.' right after its first digit: jump from dot to dot */
	for (const char *d = len >= 5 ? memchr(t + 1, '.', len - 4) : NULL; d;
	     d = (size_t)(d - t) + 1 < len - 3 ? memchr(d + 1, '.', len - 4 - (size_t)(d - t)) : NULL) {
		size_t i = (size_t)(d - t) - 1, j, a, b;
		if (t[i] != '2' && t[i] != '4' && t[i] != '5')
			continue;
		/* "550-5.7.1" continues a reply; other neighbours make it a word part */
		if (i > 0 && (is_alnum(t[i - 1]) || t[i - 1] == '.' ||
			      (t[i - 1] == '-' && !(i >= 2 && is_digit(t[i - 2])))))
			continue;
		if (t[i + 1] != '.')
			continue;
		for (j = i + 2, a = 0; j < len && is_digit(t[j]) && a < 4; j++, a++)
			;
		if (a == 0 || a > 3 || j >= len || t[j] != '.')
			continue;
		for (j++, b = 0; j < len && is_digit(t[j]) && b < 4; j++, b++)
			;
		if (b == 0 || b > 3)
			continue;
		if (j < len && (is_alnum(t[j]) || (t[j] == '.' && j + 1 < len && is_digit(t[j + 1]))))
			continue;
		memcpy(out, t + i, j - i);
		out[j - i] = '\0';
		if (pos)
			*pos = i;
		return 1;
	}
	return 0;
}

/* One of . - _ / : = + $ , (a NUL too): t[i] glued to what precedes it. */
static inline int reply_glue(char c)
{
	switch (c) {
	case '.': case '-': case '_': case '/': case ':': case '=': case '+': case '$': case ',':
	case '\0':
		return 1;
	default:
		return 0;
	}
}

/* A reply code at t[i], a 2-5 (see bw_scan_reply): its value, or 0. */
static int reply_at(const char *t, size_t len, size_t i)
{
	char c = t[i];

	if (!is_digit(t[i + 1]) || !is_digit(t[i + 2]) || t[i + 1] > '5')
		return 0;
	if (i > 0 && (is_alnum(t[i - 1]) || reply_glue(t[i - 1])))
		return 0;
	if (i + 3 < len) {
		char n = t[i + 3];
		if (!(n == ' ' || n == '-' || n == '\t' || n == '\r' || n == '\n' ||
		      n == ')' || n == ']' || n == ';' || n == '"' || n == '\'' ||
		      /* "550: <a@example.com>: User unknown" */
		      (n == ':' && i + 4 < len && t[i + 4] == ' ') ||
		      (n == '.' && (i + 4 >= len || !is_digit(t[i + 4])))))
			return 0;
		/* "550 5.1.1" or "550-" or "550 " followed by words: all replies;
		 * but "in 250 days" is prose: a 2xx/3xx must open a line. */
		/* "(408) 988-3832" is a telephone number's area code */
		if (n == ')' && i > 0 && t[i - 1] == '(' && i + 5 < len && t[i + 4] == ' ' &&
		    is_digit(t[i + 5]))
			return 0;
	}
	return (c - '0') * 100 + (t[i + 1] - '0') * 10 + (t[i + 2] - '0');
}

/* "550 ", "550-", "550" at the end: 2xx-5xx, a reply, not a number in prose. */
int bw_scan_reply(const char *t, size_t len, int *code, size_t *pos)
{
	int found2xx = 0, code2 = 0;
	size_t pos2 = 0;

	/* sixteen bytes at a time: where is a 2, 3, 4 or 5? */
	for (size_t base = 0; base + 3 <= len; base += 16) {
		unsigned char tail[32];
		for (unsigned m = in_range(block_at(t, len, base, 16, tail), '2', '5'); m; m &= m - 1) {
			size_t i = base + (size_t)__builtin_ctz(m);
			int v;
			if (i + 3 > len)
				break;
			if ((v = reply_at(t, len, i)) == 0)
				continue;
			if (v >= 400) {
				*code = v;
				if (pos)
					*pos = i;
				return 1;
			}
			if (!found2xx && (i == 0 || t[i - 1] == '\n')) {
				found2xx = 1;
				code2 = v;
				pos2 = i;
			}
		}
	}
	if (found2xx) {
		*code = code2;
		if (pos)
			*pos = pos2;
		return 1;
	}
	return 0;
}

/* IPv4 at t[i] (dotted quad, each part <= 255): its length, or 0. */
static size_t ipv4_at(const char *t, size_t len, size_t i)
{
	size_t j = i;

	for (int part = 0; part < 4; part++) {
		unsigned v;
		/* one to three digits, unrolled: the first part of most candidates fails */
		if (j >= len || !is_digit(t[j]))
			return 0;
		v = (unsigned)(t[j++] - '0');
		if (j < len && is_digit(t[j])) {
			v = v * 10 + (unsigned)(t[j++] - '0');
			if (j < len && is_digit(t[j])) {
				v = v * 10 + (unsigned)(t[j++] - '0');
				if (j < len && is_digit(t[j]))
					return 0;	/* four digits */
			}
		}
		if (v > 255)
			return 0;
		if (part < 3) {
			if (j >= len || t[j] != '.')
				return 0;
			j++;
		}
	}
	if (j < len && (is_alnum(t[j]) || (t[j] == '.' && j + 1 < len && is_digit(t[j + 1]))))
		return 0;
	return j - i;
}

static inline int is_hex(int c) { return (cls[(unsigned char)c] & C_HEX) != 0; }

/* IPv6 at t[i]: its length, or 0. Accepts what inet_pton accepts. */
static size_t ipv6_at(const char *t, size_t len, size_t i)
{
	size_t j = i;
	int colons = 0;
	char buf[64];
	unsigned char bin[16];

	/* an address opens with "::" or 1-4 hex digits and ':' (most words stop here) */
	while (j < len && j - i < 4 && is_hex(t[j]))
		j++;
	if (j >= len || t[j] != ':')
		return 0;
	j = i;
	while (j < len && j - i < 46 && (is_hex(t[j]) || t[j] == ':' || t[j] == '.')) {
		colons += t[j] == ':';
		j++;
	}
	while (j > i && (t[j - 1] == '.' || (t[j - 1] == ':' && !(j - i >= 2 && t[j - 2] == ':')))) {
		colons -= t[j - 1] == ':';
		j--;
	}
	if (colons < 2 || j - i < 3 || j - i >= sizeof buf)
		return 0;
	if (j < len && (is_alnum(t[j]) || t[j] == '_'))
		return 0;
	memcpy(buf, t + i, j - i);
	buf[j - i] = '\0';
	return inet_pton(AF_INET6, buf, bin) == 1 ? j - i : 0;
}

static void copy(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static inline int host_char(int c)
{
	return (cls[(unsigned char)c] & (C_DIGIT | C_ALPHA | C_HOSTP)) != 0;
}

/*
 * Case-insensitive: does the text before position i end with word w? The
 * words are short constants: compared in place, last byte first (where
 * most differ), without a call.
 */
static inline int ends_with(const char *t, size_t i, const char *w)
{
	size_t n = strlen(w);

	if (i < n)
		return 0;
	for (size_t k = n; k > 0; k--)
		if (low((unsigned char)t[i - n + k - 1]) != low((unsigned char)w[k - 1]))
			return 0;
	return 1;
}

/*
 * "host mx.example.net[198.51.100.7]" or "mx.example.net [198.51.100.7]"
 * after host/server words: the receiving server. Returns 1 when the IP at
 * [ip, ip+n) is bracketed after a host name, filling remote fields.
 */
static int remote_form(const char *t, size_t ip, bw_facts *f, size_t n)
{
	size_t k = ip, e;

	if (k == 0 || t[k - 1] != '[')
		return 0;
	k--;
	if (k > 0 && t[k - 1] == ' ')
		k--;
	e = k;
	while (k > 0 && host_char(t[k - 1]))
		k--;
	if (e - k < 3 || memchr(t + k, '.', e - k) == NULL)
		return 0;
	/* a host name has a letter: "550-5.7.1 [ip]" is a reply's codes */
	{
		size_t a = k;
		while (a < e && !isalpha((unsigned char)t[a]))
			a++;
		if (a == e)
			return 0;
	}
	/* "Client host [ip]" and "from NAME [ip]" name the sender, not the receiver */
	{
		size_t w = k;
		while (w > 0 && t[w - 1] == ' ')
			w--;
		if (ends_with(t, w, "client host") || ends_with(t, w, "from") ||
		    ends_with(t, w, "client") || ends_with(t, w, "helo"))
			return 0;
		if (!(ends_with(t, w, "host") || ends_with(t, w, "server") ||
		      ends_with(t, w, "by") || ends_with(t, w, "to") || ends_with(t, w, "mta") ||
		      ends_with(t, w, "connecting") || ends_with(t, w, "at") || w == 0 ||
		      t[w - 1] == '\n' || t[w - 1] == '('))
			return 0;
	}
	if (f->remote_mta[0] == '\0')
		copy(f->remote_mta, sizeof f->remote_mta, t + k, e - k);
	if (f->remote_ip[0] == '\0')
		copy(f->remote_ip, sizeof f->remote_ip, t + ip, n);
	return 1;
}

/* An address whose nearby words say it is the sender's. */
static int sender_context(const char *t, size_t at)
{
	size_t from = at > 24 ? at - 24 : 0;
	char win[32];
	size_t n = at - from;

	memcpy(win, t + from, n);
	win[n] = '\0';
	for (size_t i = 0; i < n; i++)
		win[i] = (char)tolower((unsigned char)win[i]);
	return strstr(win, "mail from") != NULL || strstr(win, "sender") != NULL ||
	       strstr(win, "from:") != NULL || strstr(win, "return-path") != NULL ||
	       strstr(win, "envelope from") != NULL;
}

static int local_char(int c)
{
	return is_alnum(c) || (c != 0 && strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL) ||
	       (unsigned char)c >= 0x80;
}

static void scan_email(const char *t, size_t len, size_t at, bw_facts *f)
{
	size_t s = at, e = at + 1;
	int dots = 0;

	while (s > 0 && local_char(t[s - 1]) && at - s < 64)
		s--;
	while (s < at && t[s] == '.')
		s++;
	while (e < len && (host_char(t[e]) || (unsigned char)t[e] >= 0x80)) {
		dots += t[e] == '.';
		e++;
	}
	while (e > at + 1 && (t[e - 1] == '.' || t[e - 1] == '-')) {
		dots -= t[e - 1] == '.';
		e--;
	}
	if (s == at || dots == 0 || e - s >= sizeof f->recipient)
		return;
	if (sender_context(t, s))
		return;
	copy(f->recipient, sizeof f->recipient, t + s, e - s);
}

static const char *const retry_words[] = {
	"try again", "try later", "retry later", "temporar", "deferred", "greylist",
	"graylist", "will be retried", "please retry", "not yet been delivered",
	"delivery delayed", NULL
};


/* Do a and b (n bytes) agree, ignoring ASCII case? */
static inline int same_ci(const char *a, const char *b, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (low((unsigned char)a[k]) != low((unsigned char)b[k]))
			return 0;
	return 1;
}

const char *bw_ci_find(const char *hay, size_t n, const char *needle, size_t m)
{
	const uint64_t ones = 0x0101010101010101ULL;
	unsigned char c0;
	uint64_t pat;
	size_t i = 0, last;

	if (m == 0)
		return hay;
	if (m > n)
		return NULL;
	c0 = low((unsigned char)needle[0]);
	pat = ones * c0;
	last = n - m;
	/* eight bytes at a time: which of them are the needle's first letter? */
	while (i + 8 <= n && i <= last) {
		uint64_t w, x, z;
		memcpy(&w, hay + i, 8);
		x = low8(w) ^ pat;
		z = (x - ones) & ~x & (ones * 0x80);
		while (z) {
			size_t at = i + ((size_t)__builtin_ctzll(z) >> 3);
			if (at > last)
				return NULL;
			if (low((unsigned char)hay[at]) == c0 && same_ci(hay + at + 1, needle + 1, m - 1))
				return hay + at;
			z &= z - 1;
		}
		i += 8;
	}
	for (; i <= last; i++)
		if (low((unsigned char)hay[i]) == c0 && same_ci(hay + i + 1, needle + 1, m - 1))
			return hay + i;
	return NULL;
}

/* Does the retry word s occur caselessly at t[i]? */
static inline int word_at(const char *t, size_t len, size_t i, const char *s)
{
	size_t k = 0;

	while (s[k] && i + k < len && low((unsigned char)t[i + k]) == (unsigned char)s[k])
		k++;
	return s[k] == '\0';
}

/*
 * Does the text hold one of the retry words, in any case? One pass; at a
 * byte, only the words that start with its lower case are compared. The
 * words are looked for where they start with t, r, d, g, p or n (so "will
 * be retried" is not: the verdicts have always been made so).
 */
static int says_retry(const char *t, size_t len)
{
	/* retry_words[] by first letter: "trdgpn", each list ending in -1 */
	static const signed char by_t[] = {0, 1, 3, -1}, by_r[] = {2, -1}, by_d[] = {4, 10, -1},
		by_g[] = {5, 6, -1}, by_p[] = {8, -1}, by_n[] = {9, -1};

	for (size_t i = 0; i < len; i++) {
		const signed char *w;
		switch (low((unsigned char)t[i])) {
		case 't': w = by_t; break;
		case 'r': w = by_r; break;
		case 'd': w = by_d; break;
		case 'g': w = by_g; break;
		case 'p': w = by_p; break;
		case 'n': w = by_n; break;
		default: continue;
		}
		for (; *w >= 0; w++)
			if (word_at(t, len, i, retry_words[*w]))
				return 1;
	}
	return 0;
}

size_t bw_facts_retry_words(const char **strs, size_t cap)
{
	size_t n = 0;

	/* the ones says_retry() can find: those starting with t, r, d, g, p or n */
	for (size_t i = 0; retry_words[i] && n < cap; i++)
		if (strchr("trdgpn", retry_words[i][0]))
			strs[n++] = retry_words[i];
	return n;
}

int bw_facts_says_retry(const char *t, size_t len, bw_facts *f)
{
	if (f->says_retry < 0)
		f->says_retry = says_retry(t, len);
	return f->says_retry;
}

void bw_facts_extract(const char *t, size_t len, bw_facts *f)
{
	bw_facts_extract_fast(t, len, f);
	bw_facts_says_retry(t, len, f);
}

/*
 * The sending server's IP (or, bracketed after a host name, the receiving
 * server's): an address that starts a word, or follows "IPv6:" (where the
 * ':' is no letter or digit either): only the places ip_starts names.
 */
static void scan_ips(const char *t, size_t len, bw_facts *f)
{
	size_t from = 0;	/* after a receiving server's IP */

	for (size_t base = 0; base < len; base += 16) {
		for (unsigned m = ip_starts(t, len, base); m; m &= m - 1) {
			size_t i = base + (size_t)__builtin_ctz(m), n = 0;
			if (i < from)
				continue;
			unsigned kp = i > 0 ? cls[(unsigned char)t[i - 1]] : 0;
			if ((cls[(unsigned char)t[i]] & C_DIGIT) && !(kp & C_HOSTP))
				n = ipv4_at(t, len, i);
			/* an IPv6 address starts a word, or follows "IPv6:" */
			if (n == 0 && ((!(kp & C_COLON) && !(i > 0 && t[i - 1] == '.')) ||
				       (i > 0 && t[i - 1] == ':' && ends_with(t, i, "IPv6:"))))
				n = ipv6_at(t, len, i);
			if (n == 0)
				continue;
			if (!remote_form(t, i, f, n)) {
				copy(f->ip, sizeof f->ip, t + i, n);
				return;
			}
			from = i + n;
		}
	}
}

void bw_facts_extract_codes(const char *t, size_t len, bw_facts *f)
{
	size_t pos;

	f->reply_code = 0;
	f->status[0] = f->ip[0] = f->remote_ip[0] = f->remote_mta[0] = '\0';
	f->recipient[0] = f->url[0] = '\0';
	bw_scan_reply(t, len, &f->reply_code, &pos);
	bw_scan_status(t, len, f->status, &pos);
	scan_ips(t, len, f);
	if (f->reply_code == 0 && f->status[0] == '\0')
		f->says_retry = -1;	/* bw_facts_says_retry looks when asked */
	else
		f->says_retry = f->reply_code / 100 == 4 || f->status[0] == '4';
}

void bw_facts_extract_fast(const char *t, size_t len, bw_facts *f)
{
	bw_facts_extract_codes(t, len, f);
	/* the first '@' that makes an address not the sender's */
	for (const char *a = memchr(t, '@', len); a && f->recipient[0] == '\0';
	     a = memchr(a + 1, '@', len - (size_t)(a + 1 - t)))
		scan_email(t, len, (size_t)(a - t), f);
	/* the first http(s) URL */
	for (const char *h = memchr(t, 'h', len); h;
	     h = memchr(h + 1, 'h', len - (size_t)(h + 1 - t))) {
		size_t i = (size_t)(h - t), e = i;
		if (!(len - i >= 7 && memcmp(h, "http://", 7) == 0) &&
		    !(len - i >= 8 && memcmp(h, "https://", 8) == 0))
			continue;
		while (e < len && !(cls[(unsigned char)t[e]] & C_URLEND))
			e++;
		while (e > i && strchr(".,;:!?", t[e - 1]))
			e--;
		copy(f->url, sizeof f->url, h, e - i);
		if (f->url[0])
			break;
	}
}

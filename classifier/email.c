/*
 * email.c - read a whole bounce email (or an mbox of them) into messages and
 * per-recipient segments.
 *
 *   bw_email_detect(data, len)          does it start like an email or mbox?
 *   bw_email_parse(data, len, in, err)  decode with GMime and fill in
 *
 * A message is classified as one of: a delivery status notification (with a
 * machine-readable RFC 3464 part, or only human-readable text that
 * textbounce.c splits), an ARF feedback report, an auto-reply (RFC 3834), or
 * an email that is none of these. Line endings are normalised to LF before
 * GMime sees the bytes, so CR-only, CRLF and LF files read the same. Charsets
 * are converted to UTF-8; transfer encodings are decoded by GMime.
 *
 * Speed: GMime's cost is mostly one GObject per header field, part, content
 * type, parameter and stream, so GMime is given only what can change the
 * result (and its answers are the same as for the whole email):
 *   - of the top-level header block, only the Content- fields and
 *     MIME-Version; the few other fields read here (Subject, From and the
 *     like) are read from the block itself and decoded as GMime decodes them;
 *   - nothing after the returned message's header block when the DSN comes
 *     first, and not that header block either: it is read here, as GMime
 *     would read it, and when the report turns out not to be one this holds
 *     for, the email is parsed again with it (or at once, when the top-level
 *     header block already says so).
 * One email is read as a MIME part rather than a GMimeMessage, an mbox of
 * one message as that message; the buffer is read in place, and parts are
 * decoded (and converted from their charset) without stream and filter
 * objects.
 *
 * Diagnostics: returns -1 with err filled only when memory runs out or the
 * input is empty; broken MIME is read as far as it goes.
 *
 * Threads: GMime is initialised once (pthread_once); every call uses its own
 * GMime objects, so calls may run in parallel.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "ascii.h"
#include "facts.h"
#include "segment.h"

#define MAX_DEPTH 24		/* MIME nesting we follow */
#define MAX_DSN_RCPTS 4096	/* recipients read from one DSN */

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_init_once(void)
{
	g_mime_init();
}

static void set_err(bw_error *err, const char *text)
{
	if (!err)
		return;
	err->file[0] = '\0';
	err->line = 0;
	snprintf(err->text, sizeof err->text, "%s", text);
}

/*
 * Do a[0..n) and b[0..n) match, ASCII letters in either case? As
 * g_ascii_strncasecmp() == 0 when neither holds a NUL earlier than where
 * the two differ (it stops at the first difference, so a NUL in one and
 * not the other ends it too).
 */
static inline int ci_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (low((unsigned char)a[i]) != low((unsigned char)b[i]))
			return 0;
	return 1;
}

/*
 * ci_eq() where both a and b are known to have n bytes to read (a NUL
 * among them is a byte like the others): eight at a time.
 */
static inline int ci_eq_n(const char *a, const char *b, size_t n)
{
	for (; n >= 8; a += 8, b += 8, n -= 8) {
		uint64_t x, y;

		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (low8(x) != low8(y))
			return 0;
	}
	for (; n > 0; a++, b++, n--)
		if (low((unsigned char)*a) != low((unsigned char)*b))
			return 0;
	return 1;
}

/* ---------------------------------------------------------------- detect */

static int is_field_name_char(int c)
{
	return (unsigned)(c - 33) < 94u && c != ':';
}

/*
 * Length of the header field name at p (up to the colon), or 0 when the
 * line does not start with "Name:".
 */
static size_t field_name_len(const char *p, const char *end)
{
	/* a name is at most 76 bytes: no need to look further than its colon */
	const char *q = p, *lim = end - p > 77 ? p + 77 : end;
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;

	/*
	 * Eight bytes at a time while there are eight: flag the bytes that end
	 * a name (below 33, 127 and up, ':'). Each test flags exactly its first
	 * such byte (a borrow only spoils the bytes above it), so the lowest
	 * flag is the first byte that is not a name byte.
	 */
	while (lim - q >= 8) {
		uint64_t x, m;

		memcpy(&x, q, 8);
		m = ((x - ones * 33) & ~x) | x;
		m |= ((x ^ (ones * ':')) - ones) & ~(x ^ (ones * ':'));
		m |= ((x ^ (ones * 127)) - ones) & ~(x ^ (ones * 127));
		m &= high;
		if (m) {
			q += (unsigned)__builtin_ctzll(m) >> 3;
			goto stop;
		}
		q += 8;
	}
	while (q < lim && is_field_name_char((unsigned char)*q))
		q++;
stop:
	if (q == p || q >= lim || *q != ':')
		return 0;
	return (size_t)(q - p);
}

static const char *const mail_headers[] = {
	"received", "return-path", "from", "to", "subject", "date",
	"message-id", "mime-version", "delivered-to", "content-type",
	"x-original-to", "reply-to", "sender", "envelope-to", "cc",
	"dkim-signature", "authentication-results", "arc-seal",
	"x-failed-recipients", "auto-submitted", "references", "in-reply-to",
	"received-spf", "thread-topic", "x-mailer", "precedence",
	"content-transfer-encoding", "x-ms-exchange-organization-scl",
	NULL
};

/*
 * Past the lines at p that hold only spaces, tabs and line ends: a pasted
 * email often comes with some before its first header field.
 */
static const char *skip_blank_lines(const char *p, const char *end)
{
	for (const char *q = p; q < end; q++) {
		if (*q == '\n' || *q == '\r')
			p = q + 1;
		else if (*q != ' ' && *q != '\t')
			break;
	}
	return p;
}

int bw_email_detect(const char *data, size_t len)
{
	const char *p = data, *end = data + (len > 8192 ? 8192 : len);
	int fields = 0, known = 0, lines = 0;

	if (!data || len < 5)
		return 0;
	if (len >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
	    (unsigned char)p[2] == 0xBF)
		p += 3;
	p = skip_blank_lines(p, end);
	if (end - p > 5 && memcmp(p, "From ", 5) == 0)
		return 1;
	while (p < end && lines < 12) {
		const char *eol = p;
		size_t n;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		{
			const char *cr = memchr(p, '\r', (size_t)(eol - p));

			if (cr)
				eol = cr;
		}
		if (eol == p)
			break;	/* blank line: end of the header */
		if (*p == ' ' || *p == '\t') {
			if (fields == 0)
				return 0;
		} else if ((n = field_name_len(p, eol)) > 0) {
			fields++;
			/* (one known field is enough: the rest only need to be fields) */
			for (int i = 0; !known && mail_headers[i]; i++)
				if (low((unsigned char)p[0]) == mail_headers[i][0] &&
				    strlen(mail_headers[i]) == n &&
				    ci_eq(p, mail_headers[i], n)) {
					known++;
					break;
				}
			if (n > 2 && (p[0] == 'X' || p[0] == 'x') && p[1] == '-')
				known++;
		} else {
			return 0;
		}
		lines++;
		p = eol;
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n')
			p++;
	}
	return fields >= 2 && known >= 1;
}

/* ------------------------------------------------------- small utilities */

static char *dup_cstr(const char *s)
{
	return s ? bw_strndup(s, strlen(s)) : NULL;
}

/* Copy of s[0..n) with leading/trailing white space removed. */
static char *dup_trim(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return bw_strndup(s, n);
}

/*
 * New buffer with CRLF and lone CR turned into LF. *outlen receives the new
 * length. NULL on ENOMEM.
 */
static char *normalise_eol(const char *data, size_t len, size_t *outlen)
{
	char *out = g_try_malloc(len + 1), *o = out;	/* GMime may take it */
	const char *cr;

	if (!out)
		return NULL;
	/* most mail has no CR at all, or CRLF throughout: copy the runs between */
	while ((cr = memchr(data, '\r', len)) != NULL) {
		size_t k = (size_t)(cr - data);

		memcpy(o, data, k);
		o += k;
		*o++ = '\n';
		k += k + 1 < len && cr[1] == '\n' ? 2 : 1;
		data += k;
		len -= k;
	}
	memcpy(o, data, len);
	o += len;
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}

/* Make text valid UTF-8 (it may be raw 8-bit of an unknown charset). */
static char *to_utf8(const char *text, size_t len)
{
	const char *esc;

	/* ISO-2022-JP is 7-bit and passes a UTF-8 check: look for its escapes. */
	esc = memchr(text, 0x1b, len);
	if (esc && esc + 2 < text + len && esc[1] == '$' && (esc[2] == 'B' || esc[2] == '@')) {
		gchar *c = g_convert(text, (gssize)len, "UTF-8", "ISO-2022-JP", NULL, NULL, NULL);

		if (c) {
			char *r = bw_strndup(c, strlen(c));

			g_free(c);
			return r;
		}
	}
	/* (the RFC 3629 check of g_utf8_validate(), NULs refused alike) */
	if (bw_utf8_valid(text, len))
		return bw_strndup(text, len);
	{
		char *c = g_mime_utils_decode_8bit(NULL, text, len);
		char *r;

		if (!c)
			return NULL;
		r = bw_strndup(c, strlen(c));
		g_free(c);
		return r;
	}
}

/*
 * Like to_utf8(), taking t (len bytes, malloc'd, room for a NUL at t[len]):
 * returns t itself when it is UTF-8 already, else frees it.
 */
static char *own_utf8(char *t, size_t len)
{
	char *r;

	if (!memchr(t, 0x1b, len) && bw_utf8_valid(t, len)) {
		t[len] = '\0';
		return t;
	}
	r = to_utf8(t, len);
	free(t);
	return r;
}

/*
 * The content of a part read straight from its stream (the parser's window
 * on the email) and decoded with GMime's decoder state, without the stream
 * and filter objects of g_mime_data_wrapper_write_to_stream(); the same
 * bytes. Returns them (malloc'd, *len bytes, room for a NUL after), or NULL:
 * with *done = 0 when the encoding is one this does not handle, else on
 * ENOMEM.
 */
static char *content_raw(GMimeDataWrapper *w, size_t *len, int *done)
{
	GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(w);
	GMimeStream *src = g_mime_data_wrapper_get_stream(w);
	gint64 n = src ? g_mime_stream_length(src) : -1;
	size_t got = 0;
	char *raw;

	*done = 0;
	if (n < 0 || n > (gint64)(1 << 30) ||
	    (enc != GMIME_CONTENT_ENCODING_DEFAULT && enc != GMIME_CONTENT_ENCODING_7BIT &&
	     enc != GMIME_CONTENT_ENCODING_8BIT && enc != GMIME_CONTENT_ENCODING_BINARY &&
	     enc != GMIME_CONTENT_ENCODING_BASE64 && enc != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE))
		return NULL;
	*done = 1;
	if (!(raw = malloc((size_t)n + 1)))
		return NULL;
	g_mime_stream_reset(src);
	while (got < (size_t)n) {
		ssize_t r = g_mime_stream_read(src, raw + got, (size_t)n - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	g_mime_stream_reset(src);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE) {
		GMimeEncoding st;
		char *out;

		g_mime_encoding_init_decode(&st, enc);
		if (!(out = malloc(g_mime_encoding_outlen(&st, got) + 1))) {
			free(raw);
			return NULL;
		}
		got = g_mime_encoding_step(&st, raw, got, out);
		free(raw);
		raw = out;
	}
	*len = got;
	return raw;
}

/* content_raw() as UTF-8 (NULL with *done = 1 on ENOMEM). */
static char *content_direct(GMimeDataWrapper *w, int *done)
{
	size_t len;
	char *raw = content_raw(w, &len, done);

	return raw ? own_utf8(raw, len) : NULL;
}

/* Decoded content of a leaf part (transfer encoding undone), as UTF-8. */
static char *part_bytes(GMimeObject *obj)
{
	GMimeDataWrapper *w;
	GMimeStream *s;
	GByteArray *ba;
	char *r;
	int done;

	if (!GMIME_IS_PART(obj))
		return NULL;
	w = g_mime_part_get_content(GMIME_PART(obj));
	if (!w)
		return bw_strndup("", 0);
	r = content_direct(w, &done);
	if (done)
		return r;
	s = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, s);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	r = to_utf8(ba->len ? (const char *)ba->data : "", ba->len);
	g_object_unref(s);
	return r;
}

/*
 * What g_mime_text_part_get_text() gives for a part in charset cs (GMime's
 * charset filter over the decoded content, then a NUL), without GMime's
 * memory stream, filter stream and decoding filter: the charset filter is
 * run once over the whole content, which converts as it does piece by piece
 * (an incomplete sequence at a piece's end waits for the next). *how: 1 the
 * text is UTF-8, returned as to_utf8() makes it (NULL on ENOMEM); 2 it is
 * not; 0 the content is one content_raw() does not read.
 */
static char *text_in_charset(GMimeObject *obj, const char *cs, int *how)
{
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
	GMimeFilter *f;
	size_t len;
	char *raw, *r = NULL;
	int done = 0;

	*how = 0;
	if (!w || !(raw = content_raw(w, &len, &done))) {
		*how = done;
		return NULL;
	}
	*how = 1;
	if ((f = g_mime_filter_charset_new(cs, "utf-8")) != NULL) {
		char *out, *conv;
		size_t outlen, outpre;

		g_mime_filter_complete(f, raw, len, 0, &out, &outlen, &outpre);
		conv = bw_strndup(out, outlen);
		g_object_unref(f);
		free(raw);
		if (!(raw = conv))
			return NULL;
	} else {
		raw[len] = '\0';
	}
	if (g_utf8_validate(raw, -1, NULL))
		r = to_utf8(raw, strlen(raw));
	else
		*how = 2;
	free(raw);
	return r;
}

/* Text of a text/ part, converted from its charset to UTF-8. */
static char *part_text(GMimeObject *obj)
{
	const char *cs;

	if (GMIME_IS_TEXT_PART(obj)) {
		cs = g_mime_text_part_get_charset(GMIME_TEXT_PART(obj));
		if (cs && g_ascii_strcasecmp(cs, "us-ascii") != 0 &&
		    g_ascii_strcasecmp(cs, "utf-8") != 0) {
			int how;
			char *t = text_in_charset(obj, cs, &how);

			if (how == 1)
				return t;
			if (how == 0) {
				t = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));
				if (t && g_utf8_validate(t, -1, NULL)) {
					char *r = to_utf8(t, strlen(t));

					g_free(t);
					return r;
				}
				g_free(t);
			}
		}
	}
	return part_bytes(obj);
}

/* Very small HTML to text: drop tags, decode a few entities, keep breaks. */
static char *html_to_text(const char *h)
{
	size_t n = strlen(h);
	char *out = malloc(n + 1), *o = out;
	const char *p = h;

	if (!out)
		return NULL;
	while (*p) {
		size_t k = strcspn(p, "<&");	/* plain text up to a tag or entity */

		memcpy(o, p, k);
		o += k;
		p += k;
		if (!*p)
			break;
		if (*p == '<') {
			const char *q = strchr(p, '>');

			if (!q)
				break;
			/* (p[1] is there: q is after it; p[2] when p[1] is not '>') */
			unsigned char c1 = low((unsigned char)p[1]);
			unsigned char c2 = c1 != '>' ? low((unsigned char)p[2]) : 0;

			/* <br <p </p <div <tr </tr <li: a line break; <td: a space */
			if ((c1 == 'b' && c2 == 'r') || c1 == 'p' || (c1 == '/' && c2 == 'p') ||
			    (c1 == 'd' && ci_eq(p, "<div", 4)) || (c1 == 't' && c2 == 'r') ||
			    (c1 == '/' && ci_eq(p, "</tr", 4)) || (c1 == 'l' && c2 == 'i'))
				*o++ = '\n';
			else if (c1 == 't' && c2 == 'd')
				*o++ = ' ';
			if (c1 == 's' && (ci_eq(p, "<style", 6) || ci_eq(p, "<script", 7))) {
				const char *e = strstr(q, "</");

				q = e ? strchr(e, '>') : NULL;
				if (!q)
					break;
			}
			p = q + 1;
		} else if (*p == '&') {
			static const struct { const char *e; char c; } ents[] = {
				{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'},
				{"&nbsp;", ' '}, {"&#39;", '\''}, {"&apos;", '\''}, {NULL, 0}
			};
			int done = 0;

			for (int i = 0; ents[i].e; i++) {
				size_t l = strlen(ents[i].e);

				if (ci_eq(p, ents[i].e, l)) {
					*o++ = ents[i].c;
					p += l;
					done = 1;
					break;
				}
			}
			if (!done)
				*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* ------------------------------------------------- header-style fields */

/*
 * A header-style block (DSN fields, text/rfc822-headers) read field by field.
 * next_field() returns 1 with name/value set (value unfolded into buf), 2 for
 * a blank line, 0 at the end; 3 for a field skipped (see orig), -1 on ENOMEM.
 */
typedef struct field_iter {
	const char *p, *end;
	char name[80];
	char *val;
	size_t vlen, vcap;
	bw_message *orig;	/* not NULL: skip fields orig_slot() turns down */
} field_iter;

static char **orig_slot(bw_message *msg, const char *name, size_t n);

static int val_append(field_iter *it, const char *s, size_t n)
{
	if (it->vlen + n + 2 > it->vcap) {
		size_t cap = (it->vlen + n + 2) * 2;
		char *v = realloc(it->val, cap);

		if (!v)
			return -1;
		it->val = v;
		it->vcap = cap;
	}
	memcpy(it->val + it->vlen, s, n);
	it->vlen += n;
	it->val[it->vlen] = '\0';
	return 0;
}

static int next_field(field_iter *it)
{
	while (it->p < it->end) {
		const char *eol = memchr(it->p, '\n', (size_t)(it->end - it->p));
		const char *line = it->p;
		size_t n, ll;

		if (!eol)
			eol = it->end;
		it->p = eol < it->end ? eol + 1 : eol;
		ll = (size_t)(eol - line);
		while (ll > 0 && (line[ll - 1] == ' ' || line[ll - 1] == '\t' || line[ll - 1] == '\r'))
			ll--;
		if (ll == 0)
			return 2;
		n = field_name_len(line, line + ll);
		if (n == 0 || n >= sizeof it->name)
			continue;	/* stray text or a continuation of nothing */
		if (it->orig && !orig_slot(it->orig, line, n)) {
			/* its continuation lines go with it */
			while (it->p < it->end && (*it->p == ' ' || *it->p == '\t')) {
				const char *ce = memchr(it->p, '\n', (size_t)(it->end - it->p));

				it->p = ce ? ce + 1 : it->end;
			}
			return 3;
		}
		memcpy(it->name, line, n);
		it->name[n] = '\0';
		it->vlen = 0;
		if (val_append(it, "", 0) < 0)
			return -1;
		{
			const char *v = line + n + 1;
			const char *ve = line + ll;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			if (val_append(it, v, (size_t)(ve - v)) < 0)
				return -1;
		}
		/* continuation lines */
		while (it->p < it->end && (*it->p == ' ' || *it->p == '\t')) {
			const char *ce = memchr(it->p, '\n', (size_t)(it->end - it->p));
			const char *c = it->p;

			if (!ce)
				ce = it->end;
			it->p = ce < it->end ? ce + 1 : ce;
			while (c < ce && (*c == ' ' || *c == '\t'))
				c++;
			{
				const char *e = ce;

				while (e > c && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
					e--;
				if (e == c)
					continue;
				if (it->vlen && val_append(it, " ", 1) < 0)
					return -1;
				if (val_append(it, c, (size_t)(e - c)) < 0)
					return -1;
			}
		}
		return 1;
	}
	return 0;
}

/* "rfc822; <User@Example.com>" -> "User@Example.com" (new). */
static char *dsn_address(const char *v)
{
	const char *semi = strchr(v, ';');
	const char *s = semi ? semi + 1 : v;
	const char *lt, *e;

	while (*s == ' ' || *s == '\t')
		s++;
	lt = strchr(s, '<');
	if (lt) {
		const char *gt = strchr(lt, '>');

		if (gt && gt > lt + 1)
			return dup_trim(lt + 1, (size_t)(gt - lt - 1));
	}
	e = s;
	while (*e && *e != ' ' && *e != '\t' && *e != '(')
		e++;
	while (e > s && (e[-1] == '>' || e[-1] == ','))
		e--;
	if (*s == '<')
		s++;
	if (e <= s)
		return NULL;
	return bw_strndup(s, (size_t)(e - s));
}

/* "dns; mx.example.com [192.0.2.1]" -> "mx.example.com" (new). */
static char *dsn_host(const char *v)
{
	const char *semi = strchr(v, ';');
	const char *s = semi ? semi + 1 : v;
	const char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '[') {
		s++;
		e = s;
		while (*e && *e != ']')
			e++;
	} else {
		e = s;
		while (*e && *e != ' ' && *e != '\t' && *e != '[' && *e != '(' && *e != ',')
			e++;
	}
	while (e > s && e[-1] == '.')
		e--;
	return e > s ? bw_strndup(s, (size_t)(e - s)) : NULL;
}

/* "smtp; 550 5.1.1 ..." -> "550 5.1.1 ..." (pointer into v). */
static const char *dsn_strip_type(const char *v)
{
	const char *p = v;

	while (*p == ' ')
		p++;
	{
		const char *q = p;

		while (*q && (isalnum((unsigned char)*q) || *q == '-' || *q == '_'))
			q++;
		if (q > p && q - p < 20 && *q == ';') {
			p = q + 1;
			while (*p == ' ' || *p == '\t')
				p++;
		}
	}
	return p;
}

/* A DSN status code "d.ddd.ddd" at the start of v -> new string, else NULL. */
static char *status_code(const char *v)
{
	const char *p = v;
	size_t a, b;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '2' && *p != '4' && *p != '5')
		return NULL;
	if (p[1] != '.')
		return NULL;
	a = strspn(p + 2, "0123456789");
	if (a < 1 || a > 3 || p[2 + a] != '.')
		return NULL;
	b = strspn(p + 3 + a, "0123456789");
	if (b < 1 || b > 3 || isalnum((unsigned char)p[3 + a + b]))
		return NULL;
	return bw_strndup(p, 3 + a + b);
}

/* Reply code at the start of a diagnostic ("550 ...", "550-..."), or 0. */
static int leading_reply(const char *t)
{
	while (*t == ' ' || *t == '\t' || *t == '#')
		t++;
	if ((t[0] == '2' || t[0] == '4' || t[0] == '5') && isdigit((unsigned char)t[1]) &&
	    isdigit((unsigned char)t[2]) && !isalnum((unsigned char)t[3]) && t[3] != '.')
		return (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
	return 0;
}

/* ------------------------------------------------------------ the walk */

/* What one message's MIME tree holds, collected by walk(). */
typedef struct walk {
	char *human;		/* first text/plain (or html as text) */
	int human_is_html;
	char *prologue;		/* text before the first part of a multipart */
	GString *dsn;		/* message/delivery-status parts, concatenated */
	char *feedback;		/* message/feedback-report */
	GMimeMessage *orig;	/* message/rfc822: the returned message (borrowed) */
	char *orig_headers;	/* text/rfc822-headers */
	int report;		/* 1 dsn, 2 feedback, 3 read receipt (multipart/report type) */
	int empty_msgpart;	/* a message/rfc822 part without a message seen */
	int nomem;
} walk_t;

static int is_ctype(GMimeObject *o, const char *type, const char *sub)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);

	return ct && g_mime_content_type_is_type(ct, type, sub);
}

/* A part's media type and subtype (both NULL when it has none). */
typedef struct media_t {
	const char *type, *sub;
} media_t;

static media_t media_of(GMimeObject *o)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	media_t m = { NULL, NULL };

	if (ct) {
		m.type = g_mime_content_type_get_media_type(ct);
		m.sub = g_mime_content_type_get_media_subtype(ct);
		if (!m.type || !m.sub)
			m.type = m.sub = NULL;
	}
	return m;
}

/* NUL-terminated a and b equal, ASCII letters in either case? */
static int ci_streq(const char *a, const char *b)
{
	for (; *b; a++, b++)
		if (low((unsigned char)*a) != low((unsigned char)*b))
			return 0;
	return *a == '\0';
}

/* is_ctype() from media_of() (no "*" wildcards): one look-up per part. */
static int media_is(media_t m, const char *type, const char *sub)
{
	return m.type && ci_streq(m.type, type) && ci_streq(m.sub, sub);
}

static void walk_tree(walk_t *w, GMimeObject *o, int depth)
{
	media_t mt;

	if (!o || depth > MAX_DEPTH)
		return;
	mt = media_of(o);
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(mp);
		const char *pro = g_mime_multipart_get_prologue(mp);

		if (media_is(mt, "multipart", "report")) {
			const char *rt = g_mime_object_get_content_type_parameter(o, "report-type");

			if (rt && g_ascii_strcasecmp(rt, "feedback-report") == 0)
				w->report = 2;
			else if (rt && g_ascii_strcasecmp(rt, "disposition-notification") == 0 &&
				 !w->report)
				w->report = 3;
			else if (!w->report)
				w->report = 1;
		}
		if (pro && !w->prologue && (depth == 0 || n == 0)) {
			w->prologue = to_utf8(pro, strlen(pro));
			if (!w->prologue)
				w->nomem = 1;
		}
		for (int i = 0; i < n; i++)
			walk_tree(w, g_mime_multipart_get_part(mp, i), depth + 1);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));

		if (!m) {
			w->empty_msgpart = 1;
			return;
		}
		if (media_is(mt, "message", "delivery-status") ||
		    media_is(mt, "message", "global-delivery-status")) {
			/* some GMime versions parse a DSN as a message: its
			 * header fields are the first DSN block */
			char *h = g_mime_object_get_headers(GMIME_OBJECT(m), NULL);

			if (h) {
				g_string_append(w->dsn, h);
				g_string_append(w->dsn, "\n");
				g_free(h);
			}
			return;
		}
		if (!w->orig)
			w->orig = m;
		return;
	}
	if (media_is(mt, "message", "delivery-status") ||
	    media_is(mt, "message", "global-delivery-status") ||
	    media_is(mt, "text", "delivery-status")) {
		char *t = part_bytes(o);

		if (!t) {
			w->nomem = 1;
			return;
		}
		g_string_append(w->dsn, t);
		g_string_append(w->dsn, "\n\n");
		free(t);
		return;
	}
	if (media_is(mt, "message", "feedback-report")) {
		if (!w->feedback && !(w->feedback = part_bytes(o)))
			w->nomem = 1;
		return;
	}
	if (media_is(mt, "text", "rfc822-headers") || media_is(mt, "message", "rfc822-headers")) {
		if (!w->orig_headers && !(w->orig_headers = part_bytes(o)))
			w->nomem = 1;
		return;
	}
	if (media_is(mt, "text", "plain") || media_is(mt, "text", "html")) {
		int html = media_is(mt, "text", "html");
		const char *disp = g_mime_object_get_header(o, "Content-Disposition");
		char *t;

		/* a returned message attached as a file is not the notice */
		if (w->human && !w->human_is_html)
			return;
		if (w->human && w->human_is_html && html)
			return;
		if (disp && ci_eq(disp, "attachment", 10) && w->human)
			return;
		t = part_text(o);
		if (!t) {
			w->nomem = 1;
			return;
		}
		if (html) {
			char *p = html_to_text(t);

			free(t);
			if (!p) {
				w->nomem = 1;
				return;
			}
			t = p;
		}
		free(w->human);
		w->human = t;
		w->human_is_html = html;
		return;
	}
}

static void walk_free(walk_t *w)
{
	free(w->human);
	free(w->prologue);
	if (w->dsn)
		g_string_free(w->dsn, TRUE);
	free(w->feedback);
	free(w->orig_headers);
}

/* ------------------------------------------------- top-level fields */

/* The top-level header fields fill_message() reads. */
enum {
	TOP_SUBJECT, TOP_FROM, TOP_RETURN_PATH, TOP_FAILED_RCPTS, TOP_AUTO_SUBMITTED,
	TOP_X_AUTOREPLY, TOP_X_AUTORESPOND, TOP_X_AUTORESPONDER, TOP_PRECEDENCE, TOP_N
};

static const struct { const char *s; size_t n; } top_names[TOP_N] = {
	{"Subject", 7}, {"From", 4}, {"Return-Path", 11}, {"X-Failed-Recipients", 19},
	{"Auto-Submitted", 14}, {"X-Autoreply", 11}, {"X-Autorespond", 13},
	{"X-Autoresponder", 15}, {"Precedence", 10}
};

/*
 * Those fields when bw_email_parse() read them from the header block itself
 * (GMime is then not given them: each would cost it a GMimeHeader and a
 * decoding). val[i] is what g_mime_object_get_header() would give (the
 * first such field, unfolded and decoded), NULL when there is none.
 */
typedef struct top_fields {
	int read;
	char *val[TOP_N];
	/* and from its Content-Type, for hiding_worth() */
	int multipart;		/* multipart/ */
	char bnd[72];		/* the boundary (not decoded: a guess) */
	size_t bndlen;		/* 0: none found */
} top_fields;

static void top_fields_free(top_fields *tf)
{
	for (int i = 0; i < TOP_N; i++)
		g_free(tf->val[i]);
}

/* A top-level field's value: from tf when read there, else from GMime. */
static const char *top_get(GMimeObject *top, const top_fields *tf, int which)
{
	if (tf && tf->read)
		return tf->val[which];
	return g_mime_object_get_header(top, top_names[which].s);
}

/* --------------------------------------------------- original headers */

/* name[0..n) equals lower (lower-case ASCII, n bytes), either case? */
static int name_is(const char *name, size_t n, const char *lower, size_t ln)
{
	return n == ln && ci_eq(name, lower, n);
}

/*
 * The message field an original header field name[0..n) fills, or NULL
 * when it fills none or that one is filled already (the first one counts).
 */
static char **orig_slot(bw_message *msg, const char *name, size_t n)
{
	char **slot = NULL;

	switch (n) {
	case 2:
		if (name_is(name, n, "to", 2))
			slot = &msg->orig_to;
		break;
	case 4:
		if (name_is(name, n, "from", 4))
			slot = &msg->orig_from;
		else if (name_is(name, n, "date", 4))
			slot = &msg->orig_date;
		break;
	case 7:
		if (name_is(name, n, "subject", 7))
			slot = &msg->orig_subject;
		break;
	case 10:
		if (name_is(name, n, "message-id", 10))
			slot = &msg->orig_message_id;
		break;
	}
	return slot && !*slot ? slot : NULL;
}

static int set_orig_field(bw_message *msg, const char *name, const char *value)
{
	char **slot = orig_slot(msg, name, strlen(name));

	if (!slot || *slot || !*value)
		return 0;
	if (slot == &msg->orig_subject && strstr(value, "=?")) {
		char *d = g_mime_utils_header_decode_text(NULL, value);

		if (d) {
			char *u = to_utf8(d, strlen(d));

			g_free(d);
			*slot = u;
			return u ? 0 : -1;
		}
	}
	*slot = to_utf8(value, strlen(value));
	return *slot ? 0 : -1;
}

/* Fill the original-message fields from header text (stops at the body). */
static int orig_from_text(bw_message *msg, const char *t, size_t len)
{
	field_iter it = { .p = t, .end = t + len, .orig = msg };
	int r, rc = 0, seen = 0;

	while ((r = next_field(&it)) != 0) {
		if (r < 0) {
			rc = -1;
			break;
		}
		if (r == 2) {
			if (seen)
				break;
			continue;
		}
		seen = 1;
		if (r == 3)
			continue;	/* a field none of msg's takes */
		if (set_orig_field(msg, it.name, it.val) < 0) {
			rc = -1;
			break;
		}
	}
	free(it.val);
	return rc;
}

static int orig_from_message(bw_message *msg, GMimeMessage *m)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
	int n = hl ? g_mime_header_list_get_count(hl) : 0;

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		const char *raw = g_mime_header_get_raw_value(h);
		char *v;
		int r;

		if (!name || !raw || !orig_slot(msg, name, strlen(name)))
			continue;
		v = g_strstrip(g_strdup(raw));
		/* unfold */
		for (char *p = v; *p; p++)
			if (*p == '\n' || *p == '\t')
				*p = ' ';
		r = set_orig_field(msg, name, v);
		g_free(v);
		if (r < 0)
			return -1;
	}
	return 0;
}

/*
 * The same as orig_from_message(), from the returned message's header block
 * as text (t, len: clean fields and continuations, see clean_block()), read
 * as GMime reads it: a field's raw value runs from its colon to the end of
 * its last continuation line.
 */
static int orig_from_raw(bw_message *msg, const char *t, size_t len)
{
	const char *p = t, *end = t + len;

	while (p < end) {
		size_t n = field_name_len(p, end);
		const char *v = p + n + 1, *e = v;
		char name[80], *val;
		int r;

		do {
			const char *eol = memchr(e, '\n', (size_t)(end - e));

			e = eol ? eol + 1 : end;
		} while (e < end && (*e == ' ' || *e == '\t'));
		if (n >= sizeof name || !orig_slot(msg, p, n)) {
			p = e;
			continue;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		val = g_strstrip(g_strndup(v, (gsize)(e - v)));
		for (char *q = val; *q; q++)
			if (*q == '\n' || *q == '\t')
				*q = ' ';
		r = set_orig_field(msg, name, val);
		g_free(val);
		if (r < 0)
			return -1;
		p = e;
	}
	return 0;
}

/* How many header fields follow one another from p (continuations skipped). */
static int field_run(const char *p, const char *end)
{
	int n = 0;

	while (p < end && n < 8) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		if (*p == ' ' || *p == '\t') {
			if (n == 0)
				return 0;
		} else if (field_name_len(p, eol) > 0) {
			n++;
		} else {
			break;
		}
		p = eol < end ? eol + 1 : end;
	}
	return n;
}

/*
 * Where a plain-text bounce quotes the returned message inline, the offset
 * of its header block (a run of at least two header fields, one of them a
 * typical message header); len when there is none.
 */
static size_t inline_original(const char *t, size_t len)
{
	const char *p = t, *end = t + len;
	int skip_first = 1;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n;
		unsigned char c;

		if (!eol)
			eol = end;
		/* (only those names start a run: the cheap tests first) */
		c = low((unsigned char)*p);
		n = !skip_first && (c == 'r' || c == 'm' || c == 'f' || c == 'd') ?
			field_name_len(p, eol) : 0;
		if (n > 0 &&
		    ((n == 8 && ci_eq(p, "Received", 8)) ||
		     (n == 11 && ci_eq(p, "Return-Path", 11)) ||
		     (n == 10 && ci_eq(p, "Message-ID", 10)) ||
		     (n == 4 && ci_eq(p, "From", 4)) ||
		     (n == 12 && ci_eq(p, "MIME-Version", 12)) ||
		     (n == 14 && ci_eq(p, "DKIM-Signature", 14))) &&
		    field_run(p, end) >= 3) {
			/* the next non-continuation line must be a field too */
			const char *q = eol < end ? eol + 1 : end;

			while (q < end && (*q == ' ' || *q == '\t')) {
				const char *e2 = memchr(q, '\n', (size_t)(end - q));

				q = e2 ? e2 + 1 : end;
			}
			if (q < end && field_name_len(q, end) > 0)
				return (size_t)(p - t);
		}
		skip_first = 0;
		p = eol < end ? eol + 1 : end;
	}
	return len;
}

/* ------------------------------------------------------------- the DSN */

typedef struct dsn_rcpt {
	char *final, *orig, *actual;
	char *action, *status, *remote, *diag, *last;
	int any;
} dsn_rcpt;

static void rcpt_clear(dsn_rcpt *r)
{
	free(r->final);
	free(r->orig);
	free(r->actual);
	free(r->action);
	free(r->status);
	free(r->remote);
	free(r->diag);
	free(r->last);
	memset(r, 0, sizeof *r);
}

/* Does this diagnostic say anything beyond a code? */
static int diag_is_vague(const char *d)
{
	int letters = 0, words = 0, in = 0;

	if (!d || !*d)
		return 1;
	for (const char *p = d; *p; p++) {
		if (isalpha((unsigned char)*p) || (unsigned char)*p >= 0x80) {
			letters++;
			if (!in)
				words++;
			in = 1;
			if (letters >= 6 && words >= 2)
				return 0;
		} else {
			in = 0;
		}
	}
	return 1;
}

/*
 * Is diag only the first line of a multi-line reply ("550-5.7.1 Our system
 * has detected that this message is"), as some MTAs copy it into
 * Diagnostic-Code, while the notice's text quotes that line and more?
 */
static int cut_reply(const char *d, const char *notice)
{
	size_t n;

	while (*d == ' ')
		d++;
	if (!(d[0] >= '2' && d[0] <= '5' && isdigit((unsigned char)d[1]) &&
	      isdigit((unsigned char)d[2]) && d[3] == '-'))
		return 0;
	/* the last line of the reply ("550 5.7.1 ...") is there: not cut */
	for (const char *p = d + 4; (p = strstr(p, d[0] == '5' ? "5" : d[0] == '4' ? "4" : "2")); p++)
		if (p[1] == d[1] && p[2] == d[2] && p[3] == ' ' && !isalnum((unsigned char)p[-1]) &&
		    p[-1] != '.')
			return 0;
	n = strlen(d);
	while (n && (d[n - 1] == ' ' || d[n - 1] == '\t'))
		n--;
	return strlen(notice) > n + 8 && bw_ci_find(notice, strlen(notice), d, n) != NULL;
}

static int addr_eq(const char *a, const char *b)
{
	return a && b && g_ascii_strcasecmp(a, b) == 0;
}

/* Find a human-readable segment for this recipient (or the only one). */
static const bw_segment *human_for(const bw_message *hm, const char *rcpt, size_t nrcpt)
{
	for (size_t i = 0; i < hm->nsegs; i++)
		if (addr_eq(hm->segs[i].recipient, rcpt))
			return &hm->segs[i];
	if (nrcpt == 1 && hm->nsegs == 1)
		return &hm->segs[0];
	return NULL;
}

static int contains_ci(const char *hay, const char *needle)
{
	return hay && bw_ci_find(hay, strlen(hay), needle, strlen(needle)) != NULL;
}

/*
 * Does hay hold any of words (NULL-terminated list, at most 64), ASCII
 * letters matching either case? The same answer as contains_ci() for each
 * word in turn, in one pass over hay: a table from each byte to the words
 * that start with it (either case) leaves most bytes at one look-up.
 */
static int contains_any_ci(const char *hay, const char *const *words)
{
	unsigned char head[256], next[64];	/* word index + 1; 0: none */
	unsigned char second[64];		/* each word's second byte, folded */
	int nw = 0;

	if (!hay)
		return 0;
	while (nw < 64 && words[nw])
		nw++;
	memset(head, 0, sizeof head);
	for (int i = nw - 1; i >= 0; i--) {
		unsigned char c = low((unsigned char)words[i][0]);

		next[i] = head[c];
		head[c] = (unsigned char)(i + 1);
		second[i] = low((unsigned char)words[i][1]);
	}
	for (int c = 'a'; c <= 'z'; c++)
		head[c - 32] = head[c];
	head[0] = 255;		/* the end of hay (no word starts with NUL) */
	for (const unsigned char *p = (const unsigned char *)hay;; p++) {
		unsigned k, c2;

		/* two at a time (p[1] is there: head[0] stops at p[0]) */
		while (head[p[0]] == 0 && head[p[1]] == 0)
			p += 2;
		if ((k = head[*p]) == 0)
			k = head[*++p];
		if (k == 255)
			return 0;
		for (c2 = low(p[1]); k; k = next[k - 1]) {
			const unsigned char *w, *q;

			/* (a one-byte word has second[] 0: it matches) */
			if (second[k - 1] != c2 && second[k - 1])
				continue;
			w = (const unsigned char *)words[k - 1] + 1;
			q = p + 1;
			/* (a NUL in hay stops it too: low() of a word byte is not 0) */
			while (*w && low(*q) == low(*w))
				q++, w++;
			if (!*w)
				return 1;
		}
	}
}

/* Does a look like local@domain.tld (no spaces, slashes or second '@')? */
static int plain_address(const char *a)
{
	const char *at, *dot;

	if (!a || !(at = strchr(a, '@')) || at == a || strchr(at + 1, '@') ||
	    strpbrk(a, " \t/<>"))
		return 0;
	dot = strchr(at + 1, '.');
	return dot && dot > at + 1 && dot[1] != '\0';
}

static int emit_rcpt(bw_message *msg, dsn_rcpt *r, const bw_message *hm, size_t nrcpt)
{
	bw_segment *s = bw_message_add_segment(msg);
	const char *rcpt = r->final ? r->final : r->orig ? r->orig : r->actual;

	/* a Final-Recipient that is no address (an X.400 form, a daemon's
	 * "@host.lmtp:port@..."): the Original-Recipient the sender wrote */
	if (rcpt == r->final && !plain_address(rcpt) && plain_address(r->orig))
		rcpt = r->orig;
	const char *diag = r->diag ? dsn_strip_type(r->diag) : "";
	const bw_segment *h;

	if (!s)
		return -1;
	s->kind = BW_SEG_FAILED;
	if (r->action) {
		if (ci_eq(r->action, "delayed", 7))
			s->kind = BW_SEG_DELAYED;
		else if (ci_eq(r->action, "delivered", 9) ||
			 ci_eq(r->action, "relayed", 7) ||
			 ci_eq(r->action, "deliverable", 11) ||
			 ci_eq(r->action, "expanded", 8))
			s->kind = BW_SEG_DELIVERED;
	}
	if (rcpt && !(s->recipient = dup_cstr(rcpt)))
		return -1;
	if (r->action) {
		size_t n = strcspn(r->action, " \t(;");

		if (!(s->action = bw_strndup(r->action, n)))
			return -1;
		for (char *p = s->action; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	s->status = r->status ? status_code(r->status) : NULL;
	if (r->remote && !(s->remote_mta = dsn_host(r->remote)))
		s->remote_mta = NULL;
	if (r->last && !(s->last_attempt = dup_cstr(r->last)))
		return -1;
	if (!(s->agent = dup_cstr("RFC3464")))
		return -1;
	h = hm ? human_for(hm, rcpt, nrcpt) : NULL;
	if (h && h->text && (diag_is_vague(diag) || cut_reply(diag, h->text)) &&
	    !diag_is_vague(h->text)) {
		s->text = dup_cstr(h->text);
		if (!s->reply_code)
			s->reply_code = h->reply_code;
		if (!s->remote_mta && h->remote_mta)
			s->remote_mta = dup_cstr(h->remote_mta);
	} else {
		s->text = dup_cstr(diag);
	}
	if (!s->text)
		return -1;
	/* the command the failure answered (command.c): the diagnostic's own
	 * words first, else the notice's for this recipient, which then joins
	 * the text so that a reader sees it too */
	{
		/* (a notice's segment without a command has none in its text:
		 * bw_text_split() scanned it) */
		const char *own = bw_command_scan(s->text, strlen(s->text)), *cmd = own;

		if (!cmd && h && h->command)
			cmd = h->command;
		if (cmd && !(s->command = dup_cstr(cmd)))
			return -1;
		if (cmd && !own &&
		    (!strcmp(cmd, "DATA") || !strcmp(cmd, "RCPT") || !strcmp(cmd, "MAIL"))) {
			char *t = g_strdup_printf("%s (in reply to %s command)", s->text,
						  !strcmp(cmd, "DATA") ? "end of DATA" :
						  !strcmp(cmd, "RCPT") ? "RCPT TO" : "MAIL FROM");
			char *u = t ? dup_cstr(t) : NULL;

			g_free(t);
			if (!u)
				return -1;
			free(s->text);
			s->text = u;
		}
	}
	s->len = strlen(s->text);
	if (!s->reply_code)
		s->reply_code = leading_reply(diag);
	/* the remote server's own code ("550 5.7.1 ...") says more than the
	 * Status the reporting MTA derived from it */
	if (s->reply_code && s->status) {
		const char *p = diag;

		while (*p == ' ')
			p++;
		if (strlen(p) > 4 && (p[3] == ' ' || p[3] == '-')) {
			char *c = status_code(p + 4);

			if (c && c[0] == s->status[0] && strcmp(c, s->status) != 0 &&
			    strcmp(c + 1, ".0.0") != 0) {
				free(s->status);
				s->status = c;
			} else {
				free(c);
			}
		}
	}
	/* "Status: 5.0.0" says nothing a diagnostic's own code does not */
	if (s->status && strlen(s->status) == 5 && strcmp(s->status + 1, ".0.0") == 0) {
		const char *p = s->text;

		for (; *p; p++) {
			char *c;

			if (*p != s->status[0] || (p > s->text && (isalnum((unsigned char)p[-1]) || p[-1] == '.')))
				continue;
			if ((c = status_code(p)) != NULL) {
				if (strcmp(c + 1, ".0.0") != 0) {
					free(s->status);
					s->status = c;
					break;
				}
				free(c);
			}
		}
	}
	if (h && h->source_ip && !s->source_ip)
		s->source_ip = dup_cstr(h->source_ip);
	return 0;
}

/*
 * Parse DSN field blocks into segments. A new recipient starts at every
 * Final-Recipient (or an Original-Recipient that follows a complete one),
 * so DSNs without blank lines between blocks read right too.
 */
static int parse_dsn(bw_message *msg, const char *t, size_t len, const bw_message *hm)
{
	field_iter it = { .p = t, .end = t + len };
	dsn_rcpt cur = { 0 };
	size_t nrcpt = 0, emitted = 0;
	int r, rc = 0;

	/* count recipients first (for matching with the human text): the
	 * lines next_field() reads as a Final-Recipient field are the ones
	 * that start with that name and a colon */
	for (const char *p = t, *end = t + len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (end - p >= 16 && (*p == 'F' || *p == 'f') &&
		    ci_eq(p, "Final-Recipient:", 16))
			nrcpt++;
		p = eol ? eol + 1 : end;
	}
	while ((r = next_field(&it)) != 0 && emitted < MAX_DSN_RCPTS) {
		char **slot = NULL;
		int is_rcpt_field = 1;
		size_t nl;

		if (r < 0) {
			rc = -1;
			break;
		}
		if (r == 2) {
			if (cur.final || cur.orig) {
				if (emit_rcpt(msg, &cur, hm, nrcpt) < 0) {
					rc = -1;
					break;
				}
				emitted++;
				rcpt_clear(&cur);
			}
			continue;
		}
		nl = strlen(it.name);
		if (name_is(it.name, nl, "final-recipient", 15)) {
			if (cur.final) {
				if (emit_rcpt(msg, &cur, hm, nrcpt) < 0) {
					rc = -1;
					break;
				}
				emitted++;
				rcpt_clear(&cur);
			}
			free(cur.final);
			cur.final = dsn_address(it.val);
			continue;
		}
		if (name_is(it.name, nl, "original-recipient", 18)) {
			if (cur.orig) {
				if (emit_rcpt(msg, &cur, hm, nrcpt) < 0) {
					rc = -1;
					break;
				}
				emitted++;
				rcpt_clear(&cur);
			}
			cur.orig = dsn_address(it.val);
			continue;
		}
		if (name_is(it.name, nl, "action", 6))
			slot = &cur.action;
		else if (name_is(it.name, nl, "status", 6))
			slot = &cur.status;
		else if (name_is(it.name, nl, "remote-mta", 10))
			slot = &cur.remote;
		else if (name_is(it.name, nl, "diagnostic-code", 15))
			slot = &cur.diag;
		else if (name_is(it.name, nl, "last-attempt-date", 17))
			slot = &cur.last;
		else if (name_is(it.name, nl, "x-actual-recipient", 18))
			slot = &cur.actual;
		else
			is_rcpt_field = 0;
		if (!is_rcpt_field || *slot)
			continue;
		if (slot == &cur.actual)
			*slot = dsn_address(it.val);
		else
			*slot = dup_cstr(it.val);
		cur.any = 1;
	}
	if (rc == 0 && (cur.final || cur.orig || (cur.any && emitted == 0 && (cur.diag || cur.status)))) {
		if (emit_rcpt(msg, &cur, hm, nrcpt) < 0)
			rc = -1;
	}
	rcpt_clear(&cur);
	free(it.val);
	return rc;
}

/* ------------------------------------------------------ message kinds */


/* Is the sender a mail system (MAILER-DAEMON, postmaster, ...)? */
int bw_from_mail_system(const char *from)
{
	static const char *const who[] = {
		"mailer-daemon", "mailer_daemon", "mail-daemon", "postmaster",
		"mail delivery", "mail administrator", "mailadmin",
		"mail system", "mdaemon", "mailerdaemon", "deliverystatus",
		"delivery status", "nobody@", "bounce", "mail.notification",
		"system administrator", "administrator@", "smtp gateway",
		"notify@", "dsn@", "daemon@", "lotus notes", NULL
	};
	char flat[256];
	size_t k = 0;

	if (!from)
		return 0;
	if (contains_any_ci(from, who))
		return 1;
	/* "post_master", "Mailer.Daemon": compare without punctuation */
	for (const char *p = from; *p && k + 1 < sizeof flat; p++)
		if (isalnum((unsigned char)*p) || *p == '@')
			flat[k++] = (char)tolower((unsigned char)*p);
	flat[k] = '\0';
	return strstr(flat, "postmaster") || strstr(flat, "mailerdaemon") ||
	       strstr(flat, "maildaemon") || strstr(flat, "maildelivery");
}

int bw_subject_says_bounce(const char *subj)
{
	static const char *const words[] = {
		"undeliver", "undelivered", "delivery status", "delivery fail",
		"delivery notification", "returned mail", "failure notice",
		"mail delivery", "non-delivery", "nondeliver", "non delivery",
		"could not be delivered", "not delivered", "delivery problem",
		"delivery error", "returned to sender", "mail system error",
		"rejected", "bounce", "failed delivery", "delivery has failed",
		"warning: could not send", "message not deliverable",
		"unzustellbar", "nicht zustellbar", "non remis", "no entregado",
		"error sending", "mail failure", "delivery report",
		"permanent error", "is not reachable", "unable to deliver",
		"delivery final failure", "failed to deliver", "mail could not",
		"delayed mail", "delivery delayed", "delivery failure",
		"unknown user", "user unknown", "returned message",
		"mail error", "returning message", "sending failed",
		"message you sent", "notification", "could not send",
		"mail loop", "loop alert", "loop detected",
		"\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc",	/* エラー: error */
		"\xe4\xb8\x8d\xe9\x81\x94",		/* 不達: undelivered */
		"\xe9\x85\x8d\xe4\xbf\xa1\xe5\xa4\xb1\xe6\x95\x97",	/* 配信失敗 */
		NULL
	};

	return contains_any_ci(subj, words);
}

/*
 * A delay warning rather than a final failure: the sending queue says it is
 * still trying. Only for notices without a DSN (a DSN says it in Action).
 */
static int says_delay(const char *subj, const char *human)
{
	static const char *const subj_words[] = {
		"delayed mail", "delivery delayed", "(delay)", "still being retried",
		"warning: could not send", "delivery status notification (delay)", NULL
	};
	static const char *const body_words[] = {
		"this is a warning only", "warning message only", "this is only a warning",
		"only a temporary failure report", "has been delayed", "will be retried until",
		"still being retried", "message still undelivered", NULL
	};

	return contains_any_ci(subj, subj_words) || contains_any_ci(human, body_words);
}

static void mark_delayed(bw_message *msg, size_t from)
{
	for (size_t i = from; i < msg->nsegs; i++)
		if (msg->segs[i].kind == BW_SEG_FAILED)
			msg->segs[i].kind = BW_SEG_DELAYED;
}

static int subject_says_autoreply(const char *subj)
{
	static const char *const words[] = {
		"out of office", "out of the office", "automatic reply",
		"auto reply", "auto-reply", "autoreply", "auto:", "away from",
		"away until", "vacation", "abwesenheit", "absence", "on leave",
		"autoresponse", "auto response", "automatische antwort",
		"réponse automatique", "respuesta automática", "risposta automatica",
		"resposta automática", "automatisch antwoord", "automatyczna odpowied",
		"automatická odpověď", "автоответ",
		"自動応答", "自動返信", "自动回复", "fuera de la oficina",
		"fuori ufficio", "afwezig", NULL
	};

	return contains_any_ci(subj, words);
}

/*
 * Headers that mark an automatic reply (RFC 3834 and common ones). A mail
 * from the null sender that is no bounce and says "Precedence: bulk" or
 * "junk" is an autoresponder's too: people do not write from <>.
 */
static int headers_say_autoreply(GMimeObject *m, const top_fields *tf, int null_sender)
{
	const char *as = top_get(m, tf, TOP_AUTO_SUBMITTED);
	const char *prec = top_get(m, tf, TOP_PRECEDENCE);

	if (as && contains_ci(as, "auto-replied"))
		return 1;
	if (prec && (contains_ci(prec, "auto_reply") || contains_ci(prec, "auto-reply") ||
		     (null_sender && (contains_ci(prec, "bulk") || contains_ci(prec, "junk")))))
		return 1;
	if (top_get(m, tf, TOP_X_AUTOREPLY) || top_get(m, tf, TOP_X_AUTORESPOND) ||
	    top_get(m, tf, TOP_X_AUTORESPONDER))
		return 1;
	return 0;
}

/* Text bounces often keep the notice in the top part of a plain body. */
static int body_says_bounce(const char *t)
{
	static const char *const words[] = {
		"could not be delivered", "undeliverable", "permanent error",
		"delivery to the following recipient", "following address",
		"following recipient", "delivery has failed", "was not delivered",
		"unable to deliver", "delivery failed", "returned mail",
		"this is the mail system at", "mail delivery failed",
		"message could not be delivered", "permanent fatal errors",
		"delivery status notification", "user unknown", "host unknown",
		"550 ", "554 ", "553 ", "552 ", "rejected", "mailbox full",
		"not be delivered", "couldn't be delivered", "failed permanently",
		"remote host said", "smtp error", "diagnostic", "bounce",
		NULL
	};

	return contains_any_ci(t, words);
}

/* A bare-address form of a From header (new), for a vacation's recipient. */
static char *addr_of(const char *from)
{
	const char *lt, *gt;

	if (!from)
		return NULL;
	lt = strrchr(from, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt && gt > lt + 1)
		return dup_trim(lt + 1, (size_t)(gt - lt - 1));
	return dup_trim(from, strlen(from));
}

static int fill_feedback(bw_message *msg, walk_t *w, const char *human)
{
	field_iter it;
	char *ftype = NULL, *srcip = NULL;
	char *rcpts[64];
	size_t nr = 0;
	int r, rc = 0;

	msg->kind = BW_MSG_FEEDBACK;
	if (w->feedback) {
		it = (field_iter){ .p = w->feedback, .end = w->feedback + strlen(w->feedback) };
		while ((r = next_field(&it)) != 0) {
			if (r < 0) {
				rc = -1;
				break;
			}
			if (r != 1)
				continue;
			if (!ftype && g_ascii_strcasecmp(it.name, "Feedback-Type") == 0)
				ftype = dup_trim(it.val, strlen(it.val));
			else if (!srcip && g_ascii_strcasecmp(it.name, "Source-IP") == 0)
				srcip = dup_trim(it.val, strlen(it.val));
			else if (nr < 64 && (g_ascii_strcasecmp(it.name, "Original-Rcpt-To") == 0 ||
					     g_ascii_strcasecmp(it.name, "Removal-Recipient") == 0))
				if ((rcpts[nr] = dsn_address(it.val)))
					nr++;
		}
		free(it.val);
	}
	for (size_t i = 0; rc == 0 && i < (nr ? nr : 1); i++) {
		bw_segment *s = bw_message_add_segment(msg);

		if (!s) {
			rc = -1;
			break;
		}
		s->kind = BW_SEG_FEEDBACK;
		s->text = dup_cstr(human ? human : "");
		s->len = s->text ? strlen(s->text) : 0;
		s->feedback_type = dup_cstr(ftype ? ftype : "abuse");
		s->agent = dup_cstr("Feedback-Loop");
		if (nr)
			s->recipient = dup_cstr(rcpts[i]);
		if (srcip)
			s->source_ip = dup_cstr(srcip);
		if (!s->text || !s->feedback_type || !s->agent)
			rc = -1;
	}
	for (size_t i = 0; i < nr; i++)
		free(rcpts[i]);
	free(ftype);
	free(srcip);
	return rc;
}

/*
 * The returned message's header block, when bw_email_parse() kept it from
 * GMime (see useful_length()): GMime then sees an empty message/rfc822 part.
 */
typedef struct hidden {
	const char *p;
	size_t len;
} hidden_t;

static int fill_message(bw_message *msg, GMimeObject *top, GMimeObject *body, int depth,
			const hidden_t *hid, const top_fields *tf);

/* Parse bytes as one message (NULL when GMime gives nothing). */
static GMimeMessage *parse_one(const char *data, size_t len)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeParser *ps = g_mime_parser_new_with_stream(st);
	GMimeMessage *m;

	g_object_unref(st);
	g_mime_parser_set_format(ps, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(ps, NULL);
	g_object_unref(ps);
	return m;
}

/*
 * A multipart whose declared boundary never occurs leaves everything in its
 * prologue. When the prologue holds "--X" followed by a part header, read it
 * again with boundary X.
 */
static GMimeObject *reparse_boundary(const char *pro)
{
	const char *p = pro;

	while ((p = strstr(p, "--")) != NULL) {
		const char *eol = strchr(p, '\n');

		if ((p == pro || p[-1] == '\n') && eol && eol - p > 4 && eol - p < 200 &&
		    ci_eq(eol + 1, "Content-", 8)) {
			GString *g = g_string_new("Content-Type: multipart/mixed; boundary=\"");
			GMimeObject *o;
			GMimeStream *st;
			GMimeParser *ps;

			g_string_append_len(g, p + 2, eol - p - 2);
			g_string_append(g, "\"\n\n");
			g_string_append(g, pro);
			st = g_mime_stream_mem_new_with_buffer(g->str, g->len);
			g_string_free(g, TRUE);
			ps = g_mime_parser_new_with_stream(st);
			g_object_unref(st);
			o = g_mime_parser_construct_part(ps, NULL);
			g_object_unref(ps);
			return o;
		}
		p += 2;
	}
	return NULL;
}

/*
 * A bounce pasted into the body of another mail (forwarded inline): the
 * offset of its header block, found by its multipart/report content type;
 * -1 when there is none.
 */
static long embedded_bounce(const char *t)
{
	const char *p = t;

	while ((p = strstr(p, "\nContent-Type: multipart/report")) != NULL ||
	       (p = strstr(t, "\nContent-type: multipart/report")) != NULL) {
		/* back to the start of this header block */
		const char *b = p;

		while (b > t) {
			const char *q = b - 1;

			while (q > t && q[-1] != '\n')
				q--;
			if (q == b - 1)	/* an empty line */
				break;
			if (field_name_len(q, b - 1) == 0 && *q != ' ' && *q != '\t' &&
			    strncmp(q, "From ", 5) != 0)
				break;
			b = q;
		}
		if (b > t)
			return (long)(b - t);
		break;
	}
	return -1;
}

/* Amazon SES notifications sent as JSON (Bounce, Complaint, Delivery). */
static int fill_ses_json(bw_message *msg, const char *body)
{
	json_t *root = json_loads(body, JSON_DISABLE_EOF_CHECK, NULL), *arr, *o;
	const char *type;
	size_t i;
	int rc = 0;

	if (!root) {
		/* a long JSON line folded by a mail system: unfold and retry */
		char *u = malloc(strlen(body) + 1), *q = u;

		if (!u)
			return -1;
		for (const char *p = body; *p; p++) {
			if (*p == '\n') {
				if (p[1] == ' ')
					p++;
				continue;
			}
			*q++ = *p;
		}
		*q = '\0';
		root = json_loads(u, JSON_DISABLE_EOF_CHECK, NULL);
		free(u);
		if (!root)
			return 0;
	}
	/* an SNS envelope carries the notification as a string */
	if (json_is_string(json_object_get(root, "Message"))) {
		json_t *inner = json_loads(json_string_value(json_object_get(root, "Message")), 0, NULL);

		json_decref(root);
		if (!(root = inner))
			return 0;
	}
	type = json_string_value(json_object_get(root, "notificationType"));
	if (!type)
		type = json_string_value(json_object_get(root, "eventType"));
	if (!type) {
		json_decref(root);
		return 0;
	}
	if (strcmp(type, "Bounce") == 0) {
		o = json_object_get(root, "bounce");
		arr = json_object_get(o, "bouncedRecipients");
		msg->kind = BW_MSG_BOUNCE;
		json_array_foreach(arr, i, o) {
			bw_segment *s = bw_message_add_segment(msg);
			const char *d = json_string_value(json_object_get(o, "diagnosticCode"));
			const char *st = json_string_value(json_object_get(o, "status"));
			const char *ad = json_string_value(json_object_get(o, "emailAddress"));
			const char *ac = json_string_value(json_object_get(o, "action"));

			if (!s)
				return json_decref(root), -1;
			s->kind = BW_SEG_FAILED;
			d = d ? dsn_strip_type(d) : "";
			s->text = dup_cstr(d);
			s->len = s->text ? strlen(s->text) : 0;
			s->recipient = dup_cstr(ad);
			s->status = st ? status_code(st) : NULL;
			s->action = dup_cstr(ac);
			s->reply_code = leading_reply(d);
			s->agent = dup_cstr("AmazonSES");
			if (!s->text || !s->agent)
				rc = -1;
		}
	} else if (strcmp(type, "Complaint") == 0) {
		o = json_object_get(root, "complaint");
		arr = json_object_get(o, "complainedRecipients");
		msg->kind = BW_MSG_FEEDBACK;
		for (i = 0; i < (json_array_size(arr) ? json_array_size(arr) : 1); i++) {
			bw_segment *s = bw_message_add_segment(msg);
			const char *ft = json_string_value(json_object_get(o, "complaintFeedbackType"));

			if (!s)
				return json_decref(root), -1;
			s->kind = BW_SEG_FEEDBACK;
			s->text = dup_cstr("Amazon SES complaint notification");
			s->len = s->text ? strlen(s->text) : 0;
			s->feedback_type = dup_cstr(ft ? ft : "abuse");
			s->recipient = dup_cstr(json_string_value(json_object_get(json_array_get(arr, i), "emailAddress")));
			s->agent = dup_cstr("AmazonSES");
			if (!s->text || !s->feedback_type || !s->agent)
				rc = -1;
		}
	} else if (strcmp(type, "Delivery") == 0) {
		const char *resp;

		o = json_object_get(root, "delivery");
		arr = json_object_get(o, "recipients");
		resp = json_string_value(json_object_get(o, "smtpResponse"));
		msg->kind = BW_MSG_BOUNCE;
		for (i = 0; i < json_array_size(arr); i++) {
			bw_segment *s = bw_message_add_segment(msg);

			if (!s)
				return json_decref(root), -1;
			s->kind = BW_SEG_DELIVERED;
			s->text = dup_cstr(resp ? resp : "");
			s->len = s->text ? strlen(s->text) : 0;
			s->recipient = dup_cstr(json_string_value(json_array_get(arr, i)));
			s->reply_code = resp ? leading_reply(resp) : 0;
			s->status = resp && strlen(resp) > 4 ? status_code(resp + 4) : NULL;
			s->action = dup_cstr("delivered");
			s->agent = dup_cstr("AmazonSES");
			if (!s->text || !s->agent)
				rc = -1;
		}
	} else {
		json_decref(root);
		return 0;
	}
	json_decref(root);
	return rc < 0 ? -1 : 1;
}

/* Recipients named by X-Failed-Recipients, for segments without one. */
static int failed_recipients(bw_message *msg, size_t from, const char *xf)
{
	size_t k = from;

	if (!xf)
		return 0;
	for (const char *p = xf; *p && k < msg->nsegs;) {
		const char *e;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		e = p;
		while (*e && *e != ',' && *e != ' ' && *e != '\t')
			e++;
		if (e > p && memchr(p, '@', (size_t)(e - p))) {
			if (!msg->segs[k].recipient &&
			    !(msg->segs[k].recipient = bw_strndup(p, (size_t)(e - p))))
				return -1;
			k++;
		}
		p = e;
	}
	return 0;
}

/*
 * Classify one parsed message and fill msg: top holds the message's header
 * fields, body is its MIME content (the same object when the message was
 * read as one MIME part). hid (or NULL): the returned message's header block
 * that GMime did not see; tf (or NULL): top's fields that GMime did not see.
 * Returns 0, -1 on ENOMEM, or 1 (msg untouched) when hid cannot stand in for
 * what GMime would have made of it: the caller then parses again with the
 * block.
 */
static int fill_message(bw_message *msg, GMimeObject *top, GMimeObject *body, int depth,
			const hidden_t *hid, const top_fields *tf)
{
	walk_t w = { 0 };
	const char *subject = top_get(top, tf, TOP_SUBJECT);
	const char *from = top_get(top, tf, TOP_FROM);
	char *subj = NULL, *human = NULL;
	size_t hlen = 0, cut;
	const char *rp;
	GMimeObject *reparsed = NULL;
	int rc = 0, null_sender;

	w.dsn = g_string_new(NULL);
	walk_tree(&w, body, 0);
	/*
	 * Only a report with a DSN, whose first message/rfc822 part is the
	 * hidden one (or comes after another), reads the same without it.
	 */
	if (hid && (w.dsn->len == 0 || (!w.orig && !w.empty_msgpart) ||
		    (w.orig && g_mime_header_list_get_count(
				g_mime_object_get_header_list(GMIME_OBJECT(w.orig))) == 0))) {
		walk_free(&w);
		return 1;
	}
	if (w.dsn->len == 0 && w.orig && !w.nomem) {
		/* a bounce forwarded as an attachment: read the inner one */
		GMimeObject *inner = g_mime_message_get_mime_part(w.orig);

		if (inner && is_ctype(inner, "multipart", "report")) {
			w.orig = NULL;
			walk_tree(&w, inner, 1);
		}
	}
	if (w.dsn->len == 0 && !w.human && w.prologue && !w.nomem) {
		reparsed = reparse_boundary(w.prologue);
		if (reparsed) {
			free(w.prologue);
			w.prologue = NULL;
			walk_tree(&w, reparsed, 1);
		}
	}
	if (w.nomem) {
		walk_free(&w);
		if (reparsed)
			g_object_unref(reparsed);
		return -1;
	}
	if (subject && !strstr(subject, "=?")) {
		/* GMime's value is decoded already: a second decoding has no
		 * encoded word to act on */
		subj = to_utf8(subject, strlen(subject));
	} else if (subject) {
		char *d = g_mime_utils_header_decode_text(NULL, subject);

		subj = d ? to_utf8(d, strlen(d)) : NULL;
		g_free(d);
	}
	/* the notice text: the first text part, else the multipart prologue */
	if (w.human && *w.human)
		human = w.human;
	else if (w.prologue)
		human = w.prologue;
	hlen = human ? strlen(human) : 0;

	/* the returned message */
	if (w.orig && orig_from_message(msg, w.orig) < 0)
		rc = -1;
	else if (!w.orig && hid && orig_from_raw(msg, hid->p, hid->len) < 0)
		rc = -1;
	if (rc == 0 && w.orig_headers && orig_from_text(msg, w.orig_headers, strlen(w.orig_headers)) < 0)
		rc = -1;
	cut = human ? inline_original(human, hlen) : 0;
	if (rc == 0 && human && cut < hlen && !msg->orig_subject && !msg->orig_from &&
	    orig_from_text(msg, human + cut, hlen - cut) < 0)
		rc = -1;
	if (rc != 0)
		goto out;

	if (w.dsn->len == 0 && human && depth < 2) {
		const char *b = human;
		long off;

		while (*b == ' ' || *b == '\n')
			b++;
		if (*b == '{') {
			int r = fill_ses_json(msg, b);

			if (r != 0) {
				rc = r < 0 ? -1 : 0;
				goto out;
			}
		}
		off = embedded_bounce(human);
		if (off >= 0) {
			GMimeMessage *inner = parse_one(human + off, hlen - (size_t)off);

			if (inner) {
				size_t before = msg->nsegs;

				rc = fill_message(msg, GMIME_OBJECT(inner),
						  g_mime_message_get_mime_part(inner), depth + 1, NULL,
						  NULL);
				g_object_unref(inner);
				if (rc < 0 || msg->nsegs > before)
					goto out;
			}
		}
	}
	if (w.report == 2 || w.feedback ||
	    (w.dsn->len == 0 && (contains_ci(subj, "complaint about message") ||
				 contains_ci(subj, "abuse report")))) {
		rc = fill_feedback(msg, &w, human);
		goto out;
	}
	/* a read receipt (RFC 8098) says the message arrived and was opened */
	if (w.report == 3 && w.dsn->len == 0) {
		msg->kind = BW_MSG_NOT_BOUNCE;
		goto out;
	}
	if (w.dsn->len > 0) {
		bw_input tmp = { 0 };
		bw_message *hm = bw_input_add_message(&tmp);
		size_t before = msg->nsegs;

		msg->kind = BW_MSG_BOUNCE;
		if (!hm || (human && bw_text_split(human, hlen, hm) < 0))
			rc = -1;
		if (rc == 0)
			rc = parse_dsn(msg, w.dsn->str, w.dsn->len, hm);
		if (rc == 0 && msg->nsegs == before) {
			/* a DSN with no recipients: fall back to the text */
			if (hm->nsegs && human) {
				if (bw_text_split(human, hlen, msg) < 0)
					rc = -1;
			} else if (bw_text_split(w.dsn->str, w.dsn->len, msg) < 0) {
				rc = -1;
			}
			if (rc == 0 && says_delay(subj, human))
				mark_delayed(msg, before);
		}
		bw_input_free(&tmp);
		goto out;
	}
	rp = top_get(top, tf, TOP_RETURN_PATH);
	null_sender = rp && !strchr(rp, '@');
	if (bw_from_mail_system(from) || bw_subject_says_bounce(subj) ||
	    ((w.report == 1 || null_sender || !subj) && body_says_bounce(human))) {
		size_t before = msg->nsegs;

		msg->kind = BW_MSG_BOUNCE;
		if (human && bw_text_split(human, hlen, msg) < 0)
			rc = -1;
		else if (!human && bw_text_split(subj ? subj : "", subj ? strlen(subj) : 0, msg) < 0)
			rc = -1;
		if (rc == 0 && failed_recipients(msg, before, top_get(top, tf, TOP_FAILED_RCPTS)) < 0)
			rc = -1;
		if (rc == 0 && says_delay(subj, human))
			mark_delayed(msg, before);
		goto out;
	}
	if (headers_say_autoreply(top, tf, null_sender) || subject_says_autoreply(subj)) {
		bw_segment *s = bw_message_add_segment(msg);

		msg->kind = BW_MSG_AUTOREPLY;
		if (!s) {
			rc = -1;
			goto out;
		}
		s->kind = BW_SEG_VACATION;
		{
			GString *g = g_string_new(subj ? subj : "");

			if (human) {
				g_string_append(g, "\n");
				g_string_append_len(g, human, (gssize)(cut < 2000 ? cut : 2000));
			}
			s->text = bw_strndup(g->str, g->len);
			s->len = g->len;
			g_string_free(g, TRUE);
		}
		s->recipient = addr_of(from);
		s->agent = dup_cstr("RFC3834");
		if (!s->text || !s->agent)
			rc = -1;
		goto out;
	}
	msg->kind = BW_MSG_NOT_BOUNCE;
out:
	free(subj);
	walk_free(&w);
	if (reparsed)
		g_object_unref(reparsed);
	return rc;
}

/* Where useful_length() found the delivery-status part. */
typedef struct report_shape {
	size_t dsn_at;		/* offset of its Content-Type line */
	int rfc822_first;	/* a message/rfc822 part comes before it */
} report_shape;

/*
 * Is hiding the returned message's header block from GMime worth a try?
 * fill_message() takes the block back (a second parse) unless GMime finds
 * the delivery-status part as a part of the report, so not when the
 * top-level header block says it will not: no multipart there, a boundary
 * that no line before the delivery-status part starts with (GMime then
 * reads it all as a prologue), or a message/rfc822 part first (a bounce
 * forwarded as an attachment). Only the speed depends on this.
 */
static int hiding_worth(const char *buf, const top_fields *tf, const report_shape *rs)
{
	char nd[sizeof tf->bnd + 3];

	if (!tf->read)
		return 1;	/* not read: try */
	if (!tf->multipart || rs->rfc822_first)
		return 0;
	if (!tf->bndlen)
		return 1;
	nd[0] = '\n';
	nd[1] = nd[2] = '-';
	memcpy(nd + 3, tf->bnd, tf->bndlen);
	return memmem(buf, rs->dsn_at, nd, tf->bndlen + 3) != NULL;
}

/*
 * Length of buf worth giving to the MIME parser. In a report whose
 * delivery-status part comes before the returned message, everything after
 * the returned message's header block (its body, its attachments) cannot
 * change the findings, and parsing it is most of the cost: cut it off.
 * *inner receives the offset of that header block when there is a cut (it
 * then ends with the blank line just before the cut), else 0; rs where the
 * first delivery-status part's Content-Type line is, and whether a
 * message/rfc822 one comes before it.
 */
static size_t useful_length(const char *buf, size_t len, size_t *inner, report_shape *rs)
{
	const char *p = buf, *end = buf + len;
	int seen_dsn = 0;

	*inner = 0;
	rs->dsn_at = 0;
	rs->rfc822_first = 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		if (eol - p > 13 && (p[0] == 'C' || p[0] == 'c') &&
		    ci_eq_n(p, "Content-Type:", 13)) {
			const char *v = p + 13;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			if (eol - v >= 23 && ci_eq_n(v, "message/delivery-status", 23)) {
				if (!seen_dsn)
					rs->dsn_at = (size_t)(p - buf);
				seen_dsn = 1;
			} else if (!seen_dsn && eol - v >= 14 &&
				   ci_eq_n(v, "message/rfc822", 14)) {
				rs->rfc822_first = 1;
			} else if (seen_dsn && eol - v >= 14 &&
				   ci_eq_n(v, "message/rfc822", 14)) {
				/* skip the part's header, then the message's header */
				const char *q = eol, *in = NULL;
				int blanks = 0;

				while (q < end && blanks < 2) {
					const char *e2 = memchr(q + 1, '\n', (size_t)(end - q - 1));

					if (!e2)
						return len;
					if (e2 == q + 1 && ++blanks == 1)
						in = e2 + 1;
					q = e2;
				}
				if (blanks == 2)
					*inner = (size_t)(in - buf);
				return (size_t)(q + 1 - buf);
			}
		}
		p = eol + 1;
	}
	return len;
}

/*
 * End of the header block at p (its blank line, or end) when every line of
 * it is a "Name:" field or a continuation line, and none starts with "--"
 * (a boundary); NULL otherwise, or when it is empty.
 */
static const char *clean_block(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && *q != '\n') {
		const char *eol = memchr(q, '\n', (size_t)(end - q));

		if (!eol)
			eol = end;
		if (*q == ' ' || *q == '\t') {
			if (q == p)
				return NULL;
		} else if (field_name_len(q, eol) == 0 || (q[0] == '-' && q[1] == '-')) {
			return NULL;
		}
		q = eol < end ? eol + 1 : end;
	}
	return q > p ? q : NULL;
}

/*
 * Header fields of the top-level header block that GMime is given: the
 * Content- fields and MIME-Version (GMime reads those). The fields
 * fill_message() reads are read by take_top_fields(); trace fields,
 * signatures and the like would each cost GMime an object for nothing.
 */
static int gmime_field_wanted(const char *name, size_t n)
{
	return (n > 8 && ci_eq_n(name, "content-", 8)) ||
	       (n == 12 && ci_eq_n(name, "mime-version", 12));
}

/* Which of top_names the field name[0..n) is, or -1. */
static int top_field_index(const char *name, size_t n)
{
	for (int i = 0; i < TOP_N; i++)
		if (top_names[i].n == n && low((unsigned char)name[0]) == low((unsigned char)top_names[i].s[0]) &&
		    ci_eq_n(name, top_names[i].s, n))
			return i;
	return -1;
}

/*
 * A field's value as GMime gives it (g_mime_header_get_value()): the raw
 * value (after the colon, continuation lines included, n bytes, no NUL)
 * unfolded as g_mime_utils_header_unfold() does (white space and line
 * breaks trimmed at both ends, line breaks dropped inside), then its encoded
 * words and 8-bit text decoded; plain ASCII text without "=?" has nothing to
 * decode. New (g_free), NULL on ENOMEM.
 */
static char *field_value(const char *raw, size_t n)
{
	const char *e = raw + n;
	char *u, *o;
	int dec = 0;

	while (raw < e && (*raw == ' ' || *raw == '\t' || *raw == '\r' || *raw == '\n'))
		raw++;
	while (e > raw && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	if (!(u = o = g_try_malloc((size_t)(e - raw) + 1)))
		return NULL;
	/* (field_spans() took no block with a NUL: all of u is looked at) */
	for (; raw < e; raw++) {
		unsigned char c = (unsigned char)*raw;

		if (c == '\n' || c == '\r')
			continue;
		if ((c < 0x20 && c != '\t') || c > 0x7e || (c == '?' && o > u && o[-1] == '='))
			dec = 1;
		*o++ = (char)c;
	}
	*o = '\0';
	if (dec) {
		char *d = g_mime_utils_header_decode_text(NULL, u);

		g_free(u);
		return d;
	}
	return u;
}

/*
 * The top-level Content-Type's raw value (v, n bytes): multipart or not, and
 * its boundary as far as a plain reading finds it (hiding_worth() only
 * guesses with it).
 */
static void note_top_type(top_fields *tf, const char *v, size_t n)
{
	const char *e = v + n;

	while (v < e && (*v == ' ' || *v == '\t' || *v == '\n'))
		v++;
	tf->multipart = e - v >= 10 && ci_eq_n(v, "multipart/", 10);
	if (!tf->multipart)
		return;
	for (const char *b = v; b + 9 <= e; b++) {
		const char *t, *u;

		if ((*b != 'b' && *b != 'B') || !ci_eq_n(b, "boundary=", 9))
			continue;
		t = b + 9;
		if (t < e && *t == '"') {
			t++;
			for (u = t; u < e && *u != '"' && *u != '\n'; u++)
				;
		} else {
			for (u = t; u < e && *u != ';' && *u != ' ' && *u != '\t' && *u != '\n'; u++)
				;
		}
		if (u > t && (size_t)(u - t) < sizeof tf->bnd) {
			memcpy(tf->bnd, t, (size_t)(u - t));
			tf->bndlen = (size_t)(u - t);
		}
		return;
	}
}

/* One header field of the top-level block: where, its name's length, and
 * (from take_top_fields()) which of top_names it is and whether GMime keeps it. */
typedef struct field_span {
	const char *p, *end;	/* start; end of its last continuation line */
	size_t n;
	int top;		/* top_names index, -1 */
	int gmime;		/* gmime_field_wanted() */
} field_span;

/*
 * The fields of the header block at buf (up to end) into *spans (*nspans;
 * grown from the caller's array of cap), with the end of the block (its
 * blank line, or end). NULL when the block is empty, holds a NUL, or a line
 * that is neither a "Name:" field nor a continuation, or one that starts
 * with "--" (see clean_block()); NULL with *spans = NULL on ENOMEM.
 */
static const char *field_spans(const char *buf, const char *end, field_span **spans,
			       size_t *nspans, size_t cap)
{
	const char *p = buf;
	field_span *v = *spans;
	size_t nf = 0;

	while (p < end && *p != '\n') {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *next;

		if (!eol)
			eol = end;
		next = eol < end ? eol + 1 : end;
		if (*p == ' ' || *p == '\t') {
			if (nf == 0)
				break;
			v[nf - 1].end = next;
		} else {
			size_t n = field_name_len(p, eol);

			if (n == 0 || (p[0] == '-' && p[1] == '-')) {
				p = buf;	/* not a clean block */
				break;
			}
			if (nf == cap) {
				field_span *nv = malloc(cap * 2 * sizeof *nv);

				if (!nv) {
					if (v != *spans)
						free(v);
					*spans = NULL;
					return NULL;
				}
				memcpy(nv, v, nf * sizeof *nv);
				if (v != *spans)
					free(v);
				v = nv;
				cap *= 2;
			}
			v[nf].p = p;
			v[nf].end = next;
			v[nf].n = n;
			nf++;
		}
		p = next;
	}
	if (p == buf || memchr(buf, '\0', (size_t)(p - buf))) {
		if (v != *spans)
			free(v);
		return NULL;
	}
	*spans = v;
	*nspans = nf;
	return p;
}

/*
 * The top-level header block at buf: read the fields fill_message() needs
 * into tf, and drop every field GMime does not need (see above), the kept
 * ones moved down next to the blank line; *start becomes the offset of the
 * header block left (the bytes before it are no longer part of the email).
 * A block holding any line that is neither a "Name:" field nor a
 * continuation is left as it is (tf->read stays 0): GMime reads such lines
 * in ways that depend on what came before them. A block with none of the
 * fields GMime needs keeps the ones read here too, so that GMime still sees
 * a header block. Returns 0, -1 on ENOMEM.
 */
static int take_top_fields(char *buf, size_t len, size_t *start, top_fields *tf)
{
	field_span local[64], *v = local;
	size_t nf = 0;
	const char *hend = field_spans(buf, buf + len, &v, &nf, sizeof local / sizeof local[0]);
	char *o;
	int kept = 0, saw_type = 0, rc = 0;

	*start = 0;
	if (!hend)
		return v ? 0 : -1;
	for (size_t i = 0; i < nf; i++) {
		field_span *f = &v[i];
		const char *val = f->p + f->n + 1;

		f->top = top_field_index(f->p, f->n);
		f->gmime = f->top < 0 && gmime_field_wanted(f->p, f->n);
		kept |= f->gmime;
		if (f->top >= 0 && !tf->val[f->top] &&
		    !(tf->val[f->top] = field_value(val, (size_t)(f->end - val)))) {
			rc = -1;
			goto out;
		}
		if (!saw_type && f->gmime && f->n == 12 && ci_eq_n(f->p, "content-type", 12)) {
			saw_type = 1;
			note_top_type(tf, val, (size_t)(f->end - val));
		}
	}
	tf->read = 1;
	/* from the last field back: the kept ones end at hend */
	o = (char *)hend;
	for (size_t i = nf; i-- > 0;) {
		const field_span *f = &v[i];
		size_t k = (size_t)(f->end - f->p);

		if (!(f->gmime || (!kept && f->top >= 0)))
			continue;
		o -= k;
		if (o != f->p)
			memmove(o, f->p, k);
	}
	*start = (size_t)(o - buf);
out:
	if (v != local)
		free(v);
	return rc;
}

/*
 * Parse buf (blen bytes, left to the caller) into in. Returns 0, -1 on
 * ENOMEM, or 1 when fill_message() asks for the hidden block back (in is
 * then as it was).
 */
static int parse_buffer(char *buf, size_t blen, int mbox, const hidden_t *hid,
			const top_fields *tf, bw_input *in, int *n)
{
	/* GMime reads the buffer in place: neither the stream nor the array
	 * owns it */
	GByteArray *ba = g_byte_array_new_take((guint8 *)buf, blen);
	GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(ba);
	GMimeParser *parser;
	int rc = 0;

	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	parser = g_mime_parser_new_with_stream(stream);
	if (!mbox) {
		/*
		 * One email: read it as a MIME part, whose header list then
		 * holds the message's fields too. That spares GMime what a
		 * GMimeMessage does on top (address lists, dates, ...), which
		 * nothing here reads. A header block GMime refuses as a part
		 * (a leading ">From " line) is read as a message, as before.
		 */
		GMimeObject *top = g_mime_parser_construct_part(parser, NULL);

		if (top) {
			bw_message *msg = bw_input_add_message(in);

			if (!msg)
				rc = -1;
			else if ((rc = fill_message(msg, top, top, 0, hid, tf)) == 1)
				in->nmsgs--;	/* untouched: give it back */
			else if (rc == 0)
				(*n)++;
			g_object_unref(top);
			goto done;
		}
		g_mime_stream_reset(stream);
		g_mime_parser_init_with_stream(parser, stream);
	}
	g_mime_parser_set_format(parser, mbox ? GMIME_FORMAT_MBOX : GMIME_FORMAT_MESSAGE);
	do {
		GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
		bw_message *msg;

		if (!m)
			break;
		msg = bw_input_add_message(in);
		rc = msg ? fill_message(msg, GMIME_OBJECT(m), g_mime_message_get_mime_part(m), 0, hid,
						tf) : -1;
		g_object_unref(m);
		if (rc == 1)
			in->nmsgs--;
		if (rc != 0)
			break;
		(*n)++;
	} while (mbox && !g_mime_parser_eos(parser));
done:
	g_object_unref(parser);
	g_object_unref(stream);
	g_byte_array_free(ba, FALSE);
	return rc;
}

int bw_email_parse(const char *data, size_t len, bw_input *in, bw_error *err)
{
	char *buf, *mail;
	size_t blen, skip = 0, inner = 0, start = 0;
	hidden_t hid = { NULL, 0 };
	top_fields tf = { 0 };
	report_shape rs;
	int mbox, rc, n = 0;

	if (!data || len == 0) {
		set_err(err, "empty input");
		return -1;
	}
	pthread_once(&gmime_once, gmime_init_once);
	buf = normalise_eol(data, len, &blen);
	if (!buf) {
		set_err(err, "out of memory");
		return -1;
	}
	skip = (size_t)(skip_blank_lines(buf, buf + blen) - buf);
	if (skip) {
		memmove(buf, buf + skip, blen - skip + 1);
		blen -= skip;
	}
	mbox = strncmp(buf, "From ", 5) == 0;
	in->kind = mbox ? BW_INPUT_MBOX : BW_INPUT_EMAIL;
	if (mbox) {
		/* an mbox of one message (no other line starts with "From "),
		 * the usual saved bounce, reads as that message does */
		const char *eol = memchr(buf, '\n', blen);

		if (eol && !memmem(eol, blen - (size_t)(eol - buf), "\nFrom ", 6)) {
			size_t off = (size_t)(eol + 1 - buf);

			memmove(buf, buf + off, blen - off + 1);
			blen -= off;
			mbox = 0;
		}
	}
	mail = buf;
	if (!mbox) {
		if (take_top_fields(buf, blen, &start, &tf) < 0) {
			top_fields_free(&tf);
			g_free(buf);
			set_err(err, "out of memory");
			return -1;
		}
		mail = buf + start;
		blen -= start;
		blen = useful_length(mail, blen, &inner, &rs);
		/* the returned message's header block: read here, not by GMime
		 * (it would build a whole message of objects for five fields) */
		if (inner && inner < blen && hiding_worth(mail, &tf, &rs) &&
		    clean_block(mail + inner, mail + blen - 1) == mail + blen - 1) {
			hid.p = mail + inner;
			hid.len = blen - 1 - inner;
		}
	}
	rc = parse_buffer(mail, hid.p ? inner : blen, mbox, hid.p ? &hid : NULL, &tf, in, &n);
	if (rc == 1)
		rc = parse_buffer(mail, blen, mbox, NULL, &tf, in, &n);
	top_fields_free(&tf);
	g_free(buf);
	if (rc < 0) {
		set_err(err, "out of memory");
		return -1;
	}
	if (n == 0) {
		set_err(err, "not an email");
		return -1;
	}
	return 0;
}

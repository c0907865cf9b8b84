/*
 * textbounce.c - split the human-readable text of a bounce into one segment
 * per failed recipient, from the text's own structure.
 *
 *   n = bw_text_split(text, len, msg);
 *
 * Bounces without a machine-readable DSN still follow a shape: a notice,
 * then for each recipient a line naming the address ("<user@example.com>:",
 * "  user@example.com", "user@example.com (user@example.com)") followed by
 * what the remote server said, and then a copy of the returned message. The
 * splitter finds the notice (it stops where the copy of the message begins),
 * the recipient lines in it, and gives each recipient the text up to the
 * next one, unwrapped: multi-line SMTP replies ("550-5.1.1 ..." followed by
 * "550 5.1.1 ...") become one line. Text with no recipient lines becomes one
 * segment holding it all. A pasted DSN ("Final-Recipient:", "Status:",
 * "Diagnostic-Code:") gives its fields.
 *
 * The splitter recognises the wording of many MTAs only to name the agent and
 * the remote server; the segmentation itself is generic.
 *
 * Speed: the text is read a few times in all, not once per word: the
 * notice's agent words, the SMTP command phrases (command.c) and "transcript
 * of session" are found in one pass with a many-string index (prefilter.c);
 * a line's tests start with the cheapest, prefixes are compared from their
 * first byte.
 *
 * Diagnostics: returns the number of segments added, or -1 on ENOMEM.
 * Threads: the index is built once per process (pthread_once), then only
 * read; no other state outside the call.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "facts.h"
#include "kb.h"
#include "prefilter.h"
#include "segment.h"

#define MAX_SEGS 512		/* recipients taken from one text */
#define MAX_SEG_TEXT 8192	/* bytes of diagnostic text kept per recipient */

typedef struct line {
	const char *p;		/* start, leading white space skipped */
	size_t n;		/* length, trailing white space dropped */
	int indent;		/* leading white space (columns) */
} line_t;

typedef struct anchor {
	size_t line;		/* index of the recipient line */
	const char *addr;	/* address inside the text */
	size_t alen;
	const char *rest;	/* text after the address on that line */
	size_t rlen;
	int merged_into;	/* -1, or the anchor this one repeats */
	int result;		/* a transcript's result line "554 <addr>... why" */
} anchor_t;

static int ci_has(const char *s, size_t n, const char *needle)
{
	return bw_ci_find(s, n, needle, strlen(needle)) != NULL;
}

static int ci_starts(const char *s, size_t n, const char *prefix)
{
	size_t m = strlen(prefix);

	return n >= m && strncasecmp(s, prefix, m) == 0;
}

/* A string and its length, for the tables of prefixes below. */
typedef struct lit {
	const char *s;
	size_t n;
} lit_t;
#define LIT(x) { x, sizeof x - 1 }

/*
 * The first of prefixes (ended by {NULL, 0}) that s (n bytes) starts with,
 * ASCII letters matching either case; NULL when none does. The first byte
 * is compared before the rest, so a line costs a few operations per prefix.
 */
static const lit_t *starts_any(const char *s, size_t n, const lit_t *prefixes)
{
	unsigned char c;

	if (n == 0)
		return NULL;
	c = low((unsigned char)s[0]);
	for (const lit_t *l = prefixes; l->s; l++)
		if (low((unsigned char)l->s[0]) == c && n >= l->n && strncasecmp(s, l->s, l->n) == 0)
			return l;
	return NULL;
}

/* ------------------------------------------------------------- lines */

/*
 * A forwarded bounce quotes every line ("> ..."); when most lines are
 * quoted, read them without one level of quoting.
 */
static void unquote(line_t *v, size_t n)
{
	size_t quoted = 0, full = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].n) {
			full++;
			if (v[i].p[0] == '>')
				quoted++;
		}
	if (full < 4 || quoted * 2 < full)
		return;
	for (size_t i = 0; i < n; i++) {
		line_t *l = &v[i];
		int ind = 0;

		if (l->n == 0 || l->p[0] != '>')
			continue;
		l->p++, l->n--;
		if (l->n && l->p[0] == ' ')
			l->p++, l->n--;
		while (l->n && (l->p[0] == ' ' || l->p[0] == '\t')) {
			ind += l->p[0] == '\t' ? 8 : 1;
			l->p++, l->n--;
		}
		l->indent = ind;
	}
}

static line_t *split_lines(const char *t, size_t len, size_t *nout)
{
	size_t cap = 64, n = 0;
	line_t *v = malloc(cap * sizeof *v);
	const char *p = t, *end = t + len;

	if (!v)
		return NULL;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *s = p, *e;
		int ind = 0;

		if (!eol)
			eol = end;
		while (s < eol && (*s == ' ' || *s == '\t' || *s == '\r')) {
			ind += *s == '\t' ? 8 : 1;
			s++;
		}
		e = eol;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (n == cap) {
			line_t *nv = realloc(v, cap * 2 * sizeof *v);

			if (!nv) {
				free(v);
				return NULL;
			}
			v = nv;
			cap *= 2;
		}
		v[n].p = s;
		v[n].n = (size_t)(e - s);
		v[n].indent = ind;
		n++;
		p = eol < end ? eol + 1 : end;
	}
	unquote(v, n);
	*nout = n;
	return v;
}

/* ------------------------------------------------- where the notice ends */

static int is_field_line(const line_t *l)
{
	size_t i = 0;

	while (i < l->n && l->p[i] > 32 && l->p[i] < 127 && l->p[i] != ':')
		i++;
	return l->indent == 0 && i > 0 && i < l->n && l->p[i] == ':' && i < 40;
}

static int field_is_n(const line_t *l, const char *name, size_t m)
{
	return l->n > m && l->p[m] == ':' && strncasecmp(l->p, name, m) == 0;
}
#define field_is(l, name) field_is_n(l, name, sizeof name - 1)

/* A line that introduces the copy of the returned message. */
/* Does s hold "follow" or "below" (either case)? Both hold "low": one search. */
static int says_follow_or_below(const char *s, size_t n)
{
	const char *q = s, *end = s + n, *f;

	while ((f = bw_ci_find(q, (size_t)(end - q), "low", 3)) != NULL) {
		size_t at = (size_t)(f - s);

		if ((at >= 3 && ci_starts(f - 3, 6, "follow")) ||
		    (at >= 2 && ci_starts(f - 2, 5, "below")))
			return 1;
		q = f + 1;
	}
	return 0;
}

static int is_copy_marker(const line_t *l)
{
	static const char *const words[] = {
		"original message", "copy of the message", "copy of your message",
		"copy of the original", "returned message", "message follows",
		"headers follow", "unsent message", "original headers",
		"headers of the original", "header of the original",
		"message headers", "header of original", "the original mail",
		"ursprüngliche nachricht", "message d'origine", "message original",
		"original mail follows", "text of the original", "original letter",
		"header of your message", "your message follows",
		"message text follows", "content of the original", NULL
	};
	const char *p = l->p;
	size_t n = l->n;
	int key = 0;

	if (n == 0 || n > 120)
		return 0;
	/*
	 * A separator line, or a sentence announcing what follows: most lines
	 * of a notice are neither, and two quick searches tell.
	 */
	if (isalnum((unsigned char)p[0]) && p[n - 1] != ':' && p[n - 1] != '-' &&
	    !says_follow_or_below(p, n))
		return 0;
	/*
	 * One pass over the line: does it hold one of the fragments every
	 * phrase holds ("riginal", "opy", "essage", "eader", "rspr")?
	 */
	for (size_t i = 0; i + 3 <= n && !key; i++) {
		const char *q = p + i;
		size_t room = n - i;

		switch (low((unsigned char)q[0])) {
		case 'r':
			key = (room >= 7 && ci_starts(q, room, "riginal")) ||
			      (room >= 4 && ci_starts(q, room, "rspr"));
			break;
		case 'o':
			key = low((unsigned char)q[1]) == 'p' && low((unsigned char)q[2]) == 'y';
			break;
		case 'e':
			key = (room >= 6 && ci_starts(q, room, "essage")) ||
			      (room >= 5 && ci_starts(q, room, "eader"));
			break;
		}
	}
	if (!key)
		return 0;
	/* "The following addresses did not receive a copy of your message:"
	 * introduces the failed recipients, not the copy */
	if (ci_has(p, n, "receive a copy"))
		return 0;
	for (int i = 0; words[i]; i++)
		if (ci_has(p, n, words[i]))
			return 1;
	return 0;
}

/* A run of RFC 5322 header fields starting at line i (the returned message). */
static int is_header_block(const line_t *v, size_t n, size_t i)
{
	static const lit_t names[] = {
		LIT("Received"), LIT("Return-Path"), LIT("Message-ID"), LIT("DKIM-Signature"),
		LIT("X-Received"), LIT("ARC-Seal"), LIT("Delivered-To"), LIT("MIME-Version"),
		{NULL, 0}
	};
	const line_t *l = &v[i];
	const char *colon;
	size_t j = i + 1, k;
	int named = 0;

	/* the line is "Name:..." for one of names (the first colon ends it) */
	if (l->n < 9 || !(colon = memchr(l->p, ':', l->n < 16 ? l->n : 16)))
		return 0;
	k = (size_t)(colon - l->p);
	for (const lit_t *nm = names; nm->s && !named; nm++)
		named = nm->n == k && strncasecmp(l->p, nm->s, k) == 0;
	if (!named)
		return 0;
	while (j < n && v[j].indent > 0)
		j++;
	return j < n && is_field_line(&v[j]);
}

/*
 * A bounce forwarded by a person starts with the forwarded message's own
 * header ("Begin forwarded message:", then "From: Mail Delivery
 * Subsystem ...", "Subject: Returned mail ..."). That header is the
 * bounce's, not the returned message's: the notice starts after it. The
 * first line after it, or 0 when the text does not start so.
 */
static size_t forwarded_start(const line_t *v, size_t n)
{
	size_t i = 0, fields = 0;
	int bounce = 0;

	while (i < n && v[i].n == 0)
		i++;
	if (i < n && !is_field_line(&v[i]) &&
	    (ci_has(v[i].p, v[i].n, "forwarded message") ||
	     ci_has(v[i].p, v[i].n, "original message")) && v[i].n < 80) {
		i++;
		while (i < n && v[i].n == 0)
			i++;
	}
	for (; i < n && v[i].n > 0; i++) {
		const line_t *l = &v[i];

		if (l->indent > 0)
			continue;
		if (!is_field_line(l))
			return 0;
		fields++;
		if (!bounce && (field_is(l, "From") || field_is(l, "Subject"))) {
			/* the value, NUL-terminated, for email.c's tests */
			char val[512];
			size_t k = l->p[0] == 'F' || l->p[0] == 'f' ? 5 : 8, m = l->n - k;

			if (m >= sizeof val)
				m = sizeof val - 1;
			memcpy(val, l->p + k, m);
			val[m] = '\0';
			bounce = k == 5 ? bw_from_mail_system(val) : bw_subject_says_bounce(val);
		}
	}
	return fields >= 2 && bounce ? i : 0;
}

static size_t notice_end(const line_t *v, size_t n)
{
	size_t from = forwarded_start(v, n);

	for (size_t i = from > 1 ? from : 1; i < n; i++)
		if (is_copy_marker(&v[i]) || is_header_block(v, n, i))
			return i;
	return n;
}

/* ------------------------------------------------------ recipient lines */

static int addr_char(unsigned char c)
{
	return c > 32 && c != '<' && c != '>' && c != '(' && c != ')' && c != '[' &&
	       c != ']' && c != ',' && c != ';' && c != ':' && c != '"' && c != '\'' &&
	       c != '@' && c != 127;
}

/*
 * An address at p: local@domain with a dot in the domain. Returns its
 * length, or 0.
 */
static size_t addr_at(const char *p, size_t n)
{
	size_t i = 0, at, dots = 0;

	while (i < n && addr_char((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != '@')
		return 0;
	at = i++;
	while (i < n && addr_char((unsigned char)p[i]) && (unsigned char)p[i] < 0x80) {
		if (p[i] == '.')
			dots++;
		i++;
	}
	while (i > at + 1 && (p[i - 1] == '.'))
		i--, dots--;
	if (i == at + 1 || dots == 0)
		return 0;
	return i;
}

/*
 * Is line l a recipient line? It starts with an address (bare, or in angle
 * brackets, or after a DSN recipient field), and what follows is nothing,
 * a colon and the reply, a parenthesis, or a date.
 */
/* Does the rest of a recipient line read like a reason? */
static int rest_says_error(const char *r, size_t m)
{
	static const char *const words[] = {
		"unknown", "invalid", "full", "reject", "denied", "exist", "fail",
		"error", "refused", "block", "not ", "quota", "disabled", "suspend",
		"unavailable", "expired", "timeout", "timed out", "no such", "over",
		"bad", "deferred", "unable", "cannot", "can't", "host", "relay",
		"policy", "spam", NULL
	};

	for (int i = 0; words[i]; i++)
		if (ci_has(r, m, words[i]))
			return 1;
	for (size_t i = 0; i + 3 <= m; i++)
		if ((r[i] == '4' || r[i] == '5') && isdigit((unsigned char)r[i + 1]) &&
		    (isdigit((unsigned char)r[i + 2]) || r[i + 1] == '.') &&
		    (i == 0 || !isalnum((unsigned char)r[i - 1])))
			return 1;
	return 0;
}

/* Fields that name a recipient: "Final-Recipient: rfc822; user@example.com". */
static const lit_t rcpt_fields[] = {
	LIT("Final-Recipient:"), LIT("X-Failed-Recipients:"), LIT("Failed recipient:"),
	LIT("Recipient address:"), LIT("Recipient:"), LIT("Unknown recipient:"),
	LIT("Original recipient:"), LIT("Address:"), LIT("Invalid recipient:"),
	LIT("RCPT TO:"), {NULL, 0}
};

/* How the rest of a recipient line may begin, after white space. */
static const lit_t rest_starts[] = {
	LIT("on "), LIT("rcpt"), LIT("host "), LIT("<"), LIT("mailbox"), LIT("user"),
	LIT("recipient"), LIT("delivery"), LIT("unknown"), LIT("smtp"), LIT("is "),
	LIT("was "), LIT("could"), LIT("failed"), LIT("does"), LIT("no such"),
	LIT("account"), LIT("address"), LIT("refused"), LIT("rejected"), LIT("not "),
	LIT("error"), {NULL, 0}
};

static int anchor_at(const line_t *l, anchor_t *a, int transcript, int *intro_used_out)
{
	const char *p = l->p;
	size_t n = l->n, k, al;
	int br = 0, intro_used = 0;

	if (n < 5 || n > 600)
		return 0;
	/* bullets: "* user@example.com", "- user@example.com", MDaemon's "> user@example.com" */
	if (n > 2 && (p[0] == '*' || p[0] == '-' || p[0] == 'o' || p[0] == '>') && p[1] == ' ') {
		p += 2;
		n -= 2;
		while (n && *p == ' ')
			p++, n--;
	}
	/* a transcript's result line: "554 <user@example.com>... why" */
	if (transcript && n > 8 && (p[0] == '4' || p[0] == '5') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[3] == ' ') {
		k = 4;
		if (p[k] == p[0] && p[k + 1] == '.') {
			while (k < n && p[k] != ' ')
				k++;
			while (k < n && p[k] == ' ')
				k++;
		}
		if (k < n && p[k] == '<') {
			const char *q = p + k + 1;
			size_t m = n - k - 1;

			al = addr_at(q, m);
			if (al && al + 4 <= m && memcmp(q + al, ">...", 4) == 0) {
				a->addr = q;
				a->alen = al;
				a->rest = q + al + 4;
				a->rlen = m - al - 4;
				while (a->rlen && *a->rest == ' ')
					a->rest++, a->rlen--;
				a->result = 1;
				return 1;
			}
		}
		return 0;
	}
	if (starts_any(p, n, rcpt_fields)) {
		const char *c = memchr(p, ':', n);

		k = (size_t)(c - p) + 1;
		while (k < n && p[k] == ' ')
			k++;
		if (ci_starts(p + k, n - k, "rfc822;")) {
			k += 7;
			while (k < n && p[k] == ' ')
				k++;
		}
		p += k;
		n -= k;
	} else if (ci_starts(p, n, "Original-Recipient:")) {
		return 0;
	} else {
		/* "undeliverable to user@example.com", "The following
		 * recipients returned permanent errors: user@example.com." */
		static const lit_t intro[] = {
			LIT("undeliverable to "), LIT("could not deliver to "),
			LIT("unable to deliver to "), LIT("failed to deliver to "),
			LIT("delivery failed to "), LIT("not delivered to "),
			LIT("delivery to "), LIT("could not be delivered to "), {NULL, 0}
		};
		const lit_t *in = starts_any(p, n, intro);
		const char *lt, *colon;

		if (in) {
			p += in->n;
			n -= in->n;
			intro_used = 1;
			goto addr;
		}

		colon = memchr(p, ':', n < 100 ? n : 100);
		k = colon ? (size_t)(colon - p) : 0;
		if (colon && k > 8 && memchr(p, ' ', k)) {
			size_t j = k + 1;

			while (j < n && p[j] == ' ')
				j++;
			/* an address after the colon (the cheapest test first) */
			if (j < n && addr_at(p + j + (p[j] == '<'), n - j - (p[j] == '<')) &&
			    !ci_has(p, k, "sender") && !ci_has(p, k, "from") &&
			    !ci_has(p, k, "contact") && !ci_has(p, k, "reply") &&
			    !ci_has(p, k, "postmaster") &&
			    (ci_has(p, k, "recipient") || ci_has(p, k, "address") ||
			     ci_has(p, k, "user") || ci_has(p, k, "mailbox") ||
			     ci_has(p, k, "deliver"))) {
				p += j;
				n -= j;
				intro_used = 1;
				goto addr;
			}
		}
		/* "There was an error delivering your mail to <user@example.com>." */
		lt = memchr(p, '<', n);
		if (lt && lt - p > 6 && lt - p < 120 && strncasecmp(lt - 4, " to ", 4) == 0) {
			size_t pre = (size_t)(lt - p);

			if ((ci_has(p, pre, "deliver") || ci_has(p, pre, "message") ||
			     ci_has(p, pre, "mail")) && !ci_has(p, pre, "contact") &&
			    !ci_has(p, pre, "send mail to") && !ci_has(p, pre, "write to") &&
			    !ci_has(p, pre, "postmaster")) {
				p = lt;
				n -= pre;
				intro_used = 1;
			}
		}
	}
addr:
	if (n > 0 && (*p == '<' || *p == '"')) {
		br = *p == '<' ? '>' : '"';
		p++, n--;
	}
	al = addr_at(p, n);
	if (!al)
		return 0;
	*intro_used_out = intro_used;
	a->addr = p;
	a->alen = al;
	k = al;
	if (br) {
		if (k < n && p[k] == br)
			k++;
		else
			return 0;
	}
	a->rest = p + k;
	a->rlen = n - k;
	/* what may follow a recipient's address on its line */
	if (a->rlen == 0)
		return 1;
	if (a->rest[0] == ':' || a->rest[0] == ',' || a->rest[0] == ';' ||
	    (a->rest[0] == '.' && (a->rlen == 1 || a->rest[1] == ' '))) {
		a->rest++, a->rlen--;
		return 1;
	}
	if (a->rest[0] == ' ' || a->rest[0] == '\t') {
		const char *r = a->rest;
		size_t m = a->rlen;

		while (m && (*r == ' ' || *r == '\t'))
			r++, m--;
		a->rest = r;
		a->rlen = m;
		if (m == 0 || *r == '(' || *r == '[' || *r == ':' || *r == '-' ||
		    starts_any(r, m, rest_starts) || rest_says_error(r, m))
			return 1;
		return 0;
	}
	if (a->rest[0] == '.' && a->rlen >= 3 && memcmp(a->rest, "...", 3) == 0) {
		/* "<addr>... User unknown" (a transcript line) */
		a->rest += 3;
		a->rlen -= 3;
		while (a->rlen && *a->rest == ' ')
			a->rest++, a->rlen--;
		return 1;
	}
	return 0;
}

/*
 * A local recipient without a domain ("  kijitora") on its own indented
 * line, right after the line that announces the failed addresses.
 */
static int local_anchor(const line_t *v, size_t i, anchor_t *a)
{
	const line_t *l = &v[i];
	size_t pj = i, k;

	if (l->indent == 0 || l->n == 0 || l->n > 64)
		return 0;
	for (k = 0; k < l->n; k++)
		if (!(isalnum((unsigned char)l->p[k]) || l->p[k] == '.' || l->p[k] == '_' ||
		      l->p[k] == '-' || l->p[k] == '+'))
			return 0;
	while (pj > 0 && v[pj - 1].n == 0)
		pj--;
	if (pj == 0)
		return 0;
	l = &v[pj - 1];
	if (l->p[l->n - 1] != ':' || !(ci_has(l->p, l->n, "address") || ci_has(l->p, l->n, "recipient")))
		return 0;
	a->addr = v[i].p;
	a->alen = v[i].n;
	a->rest = v[i].p + v[i].n;
	a->rlen = 0;
	return 1;
}

/*
 * A recipient line; where words before the address say what happened
 * ("User's mailbox is full: <a@example.com>"), the whole line is the text.
 */
static int anchor_of(const line_t *l, anchor_t *a, int transcript)
{
	int intro = 0;

	if (!anchor_at(l, a, transcript, &intro))
		return 0;
	if (intro) {
		a->rest = l->p;
		a->rlen = l->n;
	}
	return 1;
}

/* ------------------------------------------------------------- buffers */

typedef struct buf {
	char *p;
	size_t n, cap;
	int nomem;
} buf_t;

static void buf_add(buf_t *b, const char *s, size_t n)
{
	if (b->nomem)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->p, cap < 256 ? 256 : cap);

		if (!p) {
			b->nomem = 1;
			return;
		}
		b->p = p;
		b->cap = cap < 256 ? 256 : cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* "550-5.1.1 " / "550 5.1.1 " / "550-" prefix length of a reply line, or 0. */
static size_t reply_prefix(const char *p, size_t n, char code[4], int *more)
{
	size_t k;

	if (n < 4 || !(p[0] >= '2' && p[0] <= '5') || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]) || (p[3] != '-' && p[3] != ' '))
		return 0;
	memcpy(code, p, 3);
	code[3] = '\0';
	*more = p[3] == '-';
	k = 4;
	/* an enhanced status right after it */
	if (k + 5 <= n && p[k] == p[0] && p[k + 1] == '.') {
		size_t j = k + 2;

		while (j < n && (isdigit((unsigned char)p[j]) || p[j] == '.'))
			j++;
		if (j < n && p[j] == ' ')
			k = j + 1;
		else if (j == n)
			k = j;
	}
	return k;
}

/*
 * Append lines [from, to) to b, unwrapped: lines of a paragraph are joined
 * with a space, paragraphs with a newline, and the repeated "550-5.1.1"
 * prefixes of a multi-line reply are dropped after the first line.
 */
static void add_lines(buf_t *b, const line_t *v, size_t from, size_t to)
{
	int in_reply = 0, blank = 0;
	char code[4] = "";

	for (size_t i = from; i < to && b->n < MAX_SEG_TEXT; i++) {
		const line_t *l = &v[i];
		char c2[4];
		int more = 0;
		size_t pre;

		if (l->n == 0) {
			blank = 1;
			in_reply = 0;
			continue;
		}
		/* separator lines carry nothing */
		{
			size_t k = 0;

			while (k < l->n && (l->p[k] == '-' || l->p[k] == '=' || l->p[k] == '*' ||
					    l->p[k] == '#' || l->p[k] == '_' || l->p[k] == ' '))
				k++;
			if (k == l->n && l->n >= 3) {
				blank = 1;
				continue;
			}
		}
		pre = reply_prefix(l->p, l->n, c2, &more);
		if (pre && in_reply && strcmp(c2, code) == 0) {
			buf_add(b, " ", 1);
			buf_add(b, l->p + pre, l->n - pre);
			in_reply = more;
			continue;
		}
		if (b->n && b->p[b->n - 1] != ' ' && b->p[b->n - 1] != '\n')
			buf_add(b, blank ? "\n" : " ", 1);
		buf_add(b, l->p, l->n);
		blank = 0;
		if (pre) {
			memcpy(code, c2, 4);
			in_reply = more;
		} else {
			in_reply = 0;
		}
	}
}

/* --------------------------------------------------------- facts on text */

/* The value of a "Field:" inside text (one line and its continuations). */
static int field_value(const line_t *v, size_t from, size_t to, const char *name,
		       buf_t *out)
{
	size_t m = strlen(name);

	for (size_t i = from; i < to; i++) {
		if (v[i].n > m && strncasecmp(v[i].p, name, m) == 0 && v[i].p[m] == ':') {
			const char *s = v[i].p + m + 1;
			size_t n = v[i].n - m - 1;

			while (n && *s == ' ')
				s++, n--;
			buf_add(out, s, n);
			for (size_t j = i + 1; j < to && v[j].indent > 0 && v[j].n > 0; j++) {
				buf_add(out, " ", 1);
				buf_add(out, v[j].p, v[j].n);
			}
			return 1;
		}
	}
	return 0;
}

/* Who wrote the bounce, from its wording: the first entry whose words occur. */
static const struct agent_words {
	const char *words, *agent;
} agent_tab[] = {
	{"This is the mail system at host", "Postfix"},
	{"created automatically by mail delivery software", "Exim"},
	{"qmail-send program", "qmail"},
	{"I'm afraid I wasn't able to deliver", "qmail"},
	{"permanent fatal errors", "Sendmail"},
	{"Transcript of session follows", "Sendmail"},
	{"Delivery has failed to these recipients", "Exchange"},
	{"did not reach the following recipient", "Exchange"},
	{"Sorry, we were unable to deliver your message", "Yahoo"},
	{"The response from the remote server was", "Gmail"},
	{"Google tried to deliver your message", "Gmail"},
	{"The response was:", "Gmail"},
	{"Google Groups", "GoogleGroups"},
	{"amazonses", "AmazonSES"},
	{"Lotus Domino", "Domino"},
	{NULL, NULL}
};

/* Who wrote the bounce (t, n bytes), one search per entry (NULL: unknown). */
static const char *agent_of(const char *t, size_t n)
{
	for (int i = 0; agent_tab[i].words; i++)
		if (ci_has(t, n, agent_tab[i].words))
			return agent_tab[i].agent;
	return NULL;
}

/*
 * The notice (the text before the copy of the returned message) is read
 * once for both the agent's words and the strings of the SMTP command scan
 * (command.c): one many-string index holds them all, built once per process
 * and then only read.
 */
enum { AGENT_ID = 100000, TRANSCRIPT_ID = 99999 };
static const char transcript_words[] = "transcript of session";
static bw_prefilter *notice_pf;
static pthread_once_t notice_once = PTHREAD_ONCE_INIT;

/*
 * Ordinary notice prose, to tune the index by: each string is looked up by
 * its part that is rarest in such text ("This", "The " and "for " are
 * everywhere). Only the speed depends on it.
 */
static const char notice_sample[] =
	"This is an automatically generated message from the mail server. The message "
	"you sent to the following address could not be delivered, and the sending "
	"queue has given up on it. The error the other server returned is shown for "
	"each recipient. If you think this is a mistake, contact the administrator of "
	"the receiving domain or your own help desk and include this report. "
	"bob@example.net: host mx.example.net[203.0.113.5] said: 550 5.1.1 User unknown "
	"for this domain. Reporting-MTA: dns; out.example.com Final-Recipient: rfc822; "
	"bob@example.net Action: failed Status: 5.1.1 Remote-MTA: dns; mx.example.net "
	"A copy of the original message headers is attached below for your reference.";

static void notice_index_build(void)
{
	const char *samples[] = {notice_sample};
	const size_t slens[] = {sizeof notice_sample - 1};
	enum { CAP = BW_COMMAND_STRINGS + sizeof agent_tab / sizeof agent_tab[0] + 1 };
	const char *strs[CAP];
	size_t lens[CAP];
	unsigned ids[CAP];
	size_t n = bw_command_strings(strs, ids, BW_COMMAND_STRINGS);

	for (unsigned i = 0; agent_tab[i].words; i++, n++) {
		strs[n] = agent_tab[i].words;
		ids[n] = AGENT_ID + i;
	}
	strs[n] = transcript_words;
	ids[n++] = TRANSCRIPT_ID;
	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(strs[i]);
	/* NULL: search one by one */
	notice_pf = bw_prefilter_new_tuned(strs, lens, ids, n, samples, slens, 1);
}

typedef struct notice_scan {
	bw_command_found cmd;	/* the command strings in the notice */
	size_t agent_lim;	/* the agent's words count when they end by here */
	int agent;		/* the first agent_tab entry found, -1 none */
	int with_cmd;		/* cmd is being filled */
	int transcript;		/* "transcript of session" found */
	size_t scanned;		/* bytes of the text read */
} notice_scan_t;

static void on_notice_hit(const unsigned *ids, size_t n, size_t start, void *ctx)
{
	notice_scan_t *ns = ctx;

	for (size_t i = 0; i < n; i++) {
		if (ids[i] == TRANSCRIPT_ID) {
			ns->transcript = 1;
		} else if (ids[i] >= AGENT_ID) {
			int k = (int)(ids[i] - AGENT_ID);

			if ((ns->agent < 0 || k < ns->agent) &&
			    start + strlen(agent_tab[k].words) <= ns->agent_lim)
				ns->agent = k;
		} else if (ns->with_cmd) {
			bw_command_found_hit(&ns->cmd, ids[i], start);
		}
	}
}

/*
 * Reads the notice (text, nlen bytes): the agent from its first 4096 bytes,
 * and the command strings in all of it (ns->with_cmd: when it is not too
 * long to be worth it; else the command is scanned for when needed).
 */
static const char *notice_read(const char *text, size_t nlen, notice_scan_t *ns)
{
	size_t alim = nlen < 4096 ? nlen : 4096;

	pthread_once(&notice_once, notice_index_build);
	ns->agent = -1;
	ns->agent_lim = alim;
	ns->with_cmd = notice_pf && nlen <= 16384;
	ns->transcript = 0;
	ns->scanned = 0;
	bw_command_found_init(&ns->cmd, text, nlen);
	if (!notice_pf)
		return agent_of(text, alim);
	ns->scanned = ns->with_cmd ? nlen : alim;
	bw_prefilter_scan(notice_pf, text, ns->scanned, on_notice_hit, ns);
	return ns->agent >= 0 ? agent_tab[ns->agent].agent : NULL;
}

/* Does text (len bytes) say "transcript of session", as far as ns has not read it? */
static int says_transcript(const char *text, size_t len, const notice_scan_t *ns)
{
	size_t from = ns->scanned >= sizeof transcript_words - 2 ?
		ns->scanned - (sizeof transcript_words - 2) : 0;

	if (ns->transcript)
		return 1;
	if (from >= len)
		return 0;
	return ci_has(text + from, len - from, transcript_words);
}

/* The receiving server named in a diagnostic, new string or NULL. */
static char *remote_of(const char *t)
{
	static const char *const lead[] = {
		"host ", "while talking to ", "remote host ", "by the server for the recipient domain ",
		NULL
	};

	for (int i = 0; lead[i]; i++) {
		const char *p = t;
		size_t m = strlen(lead[i]);

		while ((p = strstr(p, lead[i])) != NULL) {
			const char *s = p + m, *e;

			p += m;
			if (i == 3) {
				/* "... domain example.jp by mx.example.jp. [ip]" */
				const char *by = strstr(s, " by ");

				if (!by || by - s > 100)
					continue;
				s = by + 4;
			}
			e = s;
			while (*e && (isalnum((unsigned char)*e) || *e == '.' || *e == '-' || *e == ':'))
				e++;
			while (e > s && (e[-1] == '.' || e[-1] == ':'))
				e--;
			if (e - s >= 3 && memchr(s, '.', (size_t)(e - s)))
				return bw_strndup(s, (size_t)(e - s));
		}
	}
	return NULL;
}

/*
 * In an SMTP transcript ("<<< 550 ...", "Out: 451 ..."), the server's
 * failing replies are the diagnosis: put them first, before the 2xx noise.
 */
static void failing_replies_first(buf_t *text)
{
	buf_t f = { 0 };
	const char *p = text->p, *end = text->p + text->n;

	const char *lt = p, *oh = p;	/* the first '<' and 'O' at or after p, or end */

	if (p && !(lt = memchr(p, '<', (size_t)(end - p))))
		lt = end;
	if (p && !(oh = memchr(p, 'O', (size_t)(end - p))))
		oh = end;
	while (p < end) {
		const char *q;
		size_t k = 0;

		/* only "<<< " and "Out: " start a reply: go to the next '<' or 'O' */
		if (lt < p && !(lt = memchr(p, '<', (size_t)(end - p))))
			lt = end;
		if (oh < p && !(oh = memchr(p, 'O', (size_t)(end - p))))
			oh = end;
		q = lt < oh ? lt : oh;
		if (q == end)
			break;
		p = q;
		if (end - q > 8 && memcmp(q, "<<< ", 4) == 0)
			k = 4;
		else if (end - q > 9 && memcmp(q, "Out: ", 5) == 0)
			k = 5;
		if (k) {
			const char *r = q + k, *e = r;

			while (e < end && *e != '\n' && !(e + 5 < end && memcmp(e, " In: ", 5) == 0) &&
			       !(e + 6 < end && memcmp(e, " Out: ", 6) == 0) &&
			       !(e + 5 < end && memcmp(e, " <<< ", 5) == 0) &&
			       !(e + 5 < end && memcmp(e, " >>> ", 5) == 0))
				e++;
			if (e - r > 4 && (r[0] == '4' || r[0] == '5') && isdigit((unsigned char)r[1]) &&
			    isdigit((unsigned char)r[2]) && (r[3] == ' ' || r[3] == '-')) {
				if (f.n)
					buf_add(&f, " ", 1);
				buf_add(&f, r, (size_t)(e - r));
			}
			p = e;
			continue;
		}
		p++;
	}
	if (f.n && !f.nomem) {
		buf_add(&f, "\n", 1);
		buf_add(&f, text->p, text->n);
		if (!f.nomem) {
			free(text->p);
			*text = f;
			return;
		}
	}
	free(f.p);
}

static int fill_segment(bw_segment *s, buf_t *text, const char *rcpt, size_t rlen,
			const char *agent)
{
	if (text->nomem)
		return -1;
	if (text->p)
		failing_replies_first(text);
	if (!text->p)
		buf_add(text, "", 0);
	if (text->nomem)
		return -1;
	s->kind = BW_SEG_FAILED;
	s->text = text->p;
	s->len = text->n;
	text->p = NULL;
	if (rcpt && !(s->recipient = bw_strndup(rcpt, rlen)))
		return -1;
	if (agent && !(s->agent = bw_strndup(agent, strlen(agent))))
		return -1;
	s->remote_mta = remote_of(s->text);
	{
		const char *cmd = bw_command_scan(s->text, s->len);

		if (cmd && !(s->command = bw_strndup(cmd, strlen(cmd))))
			return -1;
	}
	return 0;
}

/* Does the text hold an SMTP reply code or an enhanced status code? */
static int has_code(const char *t, size_t n)
{
	for (size_t i = 0; i + 3 <= n; i++) {
		unsigned char c = (unsigned char)t[i];

		if ((c != '4' && c != '5') || (i > 0 && (isalnum((unsigned char)t[i - 1]) || t[i - 1] == '.')))
			continue;
		if (isdigit((unsigned char)t[i + 1]) && isdigit((unsigned char)t[i + 2]) &&
		    (i + 3 == n || t[i + 3] == ' ' || t[i + 3] == '-'))
			return 1;
		if (t[i + 1] == '.' && i + 4 < n && isdigit((unsigned char)t[i + 2]) &&
		    (t[i + 3] == '.' || (isdigit((unsigned char)t[i + 3]) && t[i + 4] == '.')))
			return 1;
	}
	return 0;
}

/* Fewer than 8 letters: the text says nothing of its own. */
static int diag_vague(const char *t, size_t n)
{
	int letters = 0;

	for (size_t i = 0; i < n && letters < 8; i++)
		if (isalpha((unsigned char)t[i]) || (unsigned char)t[i] >= 0x80)
			letters++;
	return letters < 8;
}

/*
 * Text of a pasted DSN block (lines [from, to)): the Diagnostic-Code
 * without its type, and the Status, when present.
 */
static int dsn_block(const line_t *v, size_t from, size_t to, buf_t *text, char **status)
{
	buf_t d = { 0 }, st = { 0 };

	if (field_value(v, from, to, "Diagnostic-Code", &d) && d.p) {
		const char *p = d.p;
		const char *semi = strchr(p, ';');

		if (semi && semi - p < 20)
			p = semi + 1;
		while (*p == ' ')
			p++;
		buf_add(text, p, strlen(p));
	}
	free(d.p);
	if (field_value(v, from, to, "Status", &st) && st.p) {
		size_t k = strspn(st.p, "0123456789.");

		if (k >= 5) {
			free(*status);	/* a later block of the same paste wins */
			*status = bw_strndup(st.p, k);
		}
	}
	free(st.p);
	return text->nomem ? -1 : 0;
}

/*
 * Does the text hold anything to classify: a word, or a reply code? Blank
 * input and stray digits ("22") give no segment.
 */
static int says_anything(const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if (isalpha(c) || c >= 0x80)
			return 1;
		if ((c == '2' || c == '4' || c == '5') && i + 2 < n &&
		    isdigit((unsigned char)t[i + 1]) && isdigit((unsigned char)t[i + 2]) &&
		    (i == 0 || !isdigit((unsigned char)t[i - 1])) &&
		    (i + 3 == n || !isdigit((unsigned char)t[i + 3])))
			return 1;
	}
	return 0;
}

/*
 * A bounce forwarded inline by a person comes with "> " before its lines.
 * When most non-blank lines are quoted so (five at least), *out is a copy
 * with one level of quoting taken off, and 1 is returned; 0 when the text
 * is not quoted so; -1 when out of memory. A bounce's own transcript lines
 * (">>> DATA") are too few to pass for a quoted text.
 */
static int unquote_forward(const char *text, size_t len, char **out, size_t *outlen)
{
	size_t lines = 0, quoted = 0, n = 0;
	const char *p = text, *end = text + len;
	char *q;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *e = eol ? eol : end;

		if (e > p && !(e - p == 1 && *p == '\r')) {
			lines++;
			quoted += *p == '>';
		}
		p = eol ? eol + 1 : end;
	}
	if (quoted < 5 || quoted * 10 < lines * 6)
		return 0;
	if (!(q = malloc(len + 1)))
		return -1;
	for (p = text; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *e = eol ? eol + 1 : end;

		if (*p == '>') {
			p++;
			if (p < e && *p == ' ')
				p++;
		}
		memcpy(q + n, p, (size_t)(e - p));
		n += (size_t)(e - p);
		p = e;
	}
	q[n] = '\0';
	*out = q;
	*outlen = n;
	return 1;
}

static int text_split(const char *text, size_t len, bw_message *msg);

int bw_text_split(const char *text, size_t len, bw_message *msg)
{
	char *uq;
	size_t uqlen;
	int rc;

	switch (text ? unquote_forward(text, len, &uq, &uqlen) : 0) {
	case 0:
		return text_split(text, len, msg);
	case 1:
		rc = text_split(uq, uqlen, msg);
		free(uq);
		return rc;
	default:
		return -1;
	}
}

static int text_split(const char *text, size_t len, bw_message *msg)
{
	line_t *v;
	size_t n = 0, end, nlen, na = 0, cap = 16, first_seg = msg->nsegs;
	anchor_t *a;
	const char *agent;
	notice_scan_t ns;
	int added = 0, rc = 0, transcript;

	if (!text)
		text = "", len = 0;
	v = split_lines(text, len, &n);
	if (!v)
		return -1;
	end = notice_end(v, n);
	nlen = end < n ? (size_t)(v[end].p - text) : len;
	agent = notice_read(text, nlen, &ns);
	a = malloc(cap * sizeof *a);
	if (!a) {
		free(v);
		return -1;
	}
	transcript = says_transcript(text, len, &ns);
	for (size_t i = 0; i < end && !transcript; i++)
		if (v[i].n > 4 && (memcmp(v[i].p, "<<< ", 4) == 0 || memcmp(v[i].p, ">>> ", 4) == 0))
			transcript = 1;
	for (size_t i = 0; i < end && na < MAX_SEGS; i++) {
		anchor_t an = { 0 };
		size_t pj;

		if (!anchor_of(&v[i], &an, transcript) && !local_anchor(v, i, &an))
			continue;
		/* "A message sent by <sender> could not be delivered" */
		for (pj = i; pj > 0 && v[pj - 1].n == 0; pj--)
			;
		if (pj > 0 && v[pj - 1].n >= 7 &&
		    strncasecmp(v[pj - 1].p + v[pj - 1].n - 7, "sent by", 7) == 0)
			continue;
		an.line = i;
		an.merged_into = -1;
		for (size_t j = 0; j < na; j++)
			if (a[j].alen == an.alen && strncasecmp(a[j].addr, an.addr, an.alen) == 0) {
				an.merged_into = a[j].merged_into >= 0 ? a[j].merged_into : (int)j;
				break;
			}
		if (na == cap) {
			anchor_t *nv = realloc(a, cap * 2 * sizeof *a);

			if (!nv) {
				rc = -1;
				goto out;
			}
			a = nv;
			cap *= 2;
		}
		a[na++] = an;
	}
	if (na == 0) {
		if (!says_anything(text, len))
			goto out;	/* nothing to say: no segment */
		/* no structure: the whole notice is one segment */
		buf_t t = { 0 };
		bw_segment *s;
		char *status = NULL;

		if (dsn_block(v, 0, end, &t, &status) < 0) {
			free(t.p);
			rc = -1;
			goto out;
		}
		if (t.n == 0)
			add_lines(&t, v, 0, end ? end : n);
		s = bw_message_add_segment(msg);
		if (!s || fill_segment(s, &t, NULL, 0, agent) < 0) {
			free(t.p);
			free(status);
			rc = -1;
			goto out;
		}
		s->status = status;
		added = 1;
		goto done;
	}
	for (size_t i = 0; i < na; i++) {
		buf_t t = { 0 };
		char *status = NULL;
		const char *cmd = NULL;
		bw_segment *s;

		if (a[i].merged_into >= 0)
			continue;
		/* this recipient's text: its line's rest, then every block of
		 * lines up to the next other recipient */
		while (a[i].rlen && (*a[i].rest == ' ' || *a[i].rest == '\t'))
			a[i].rest++, a[i].rlen--;
		if (a[i].rlen)
			buf_add(&t, a[i].rest, a[i].rlen);
		for (size_t j = i; j < na; j++) {
			size_t from, to;

			if (j != i && a[j].merged_into != (int)i)
				continue;
			if (j != i && a[j].rlen) {
				buf_add(&t, "\n", 1);
				buf_add(&t, a[j].rest, a[j].rlen);
			}
			if (a[j].result) {
				/* the server's replies that led to this result */
				size_t k = j ? a[j - 1].line + 1 : 0;
				size_t next = j + 1 < na ? a[j + 1].line : end;

				/* the session around it tells the command, replies
				 * after the result included (a pipelined DATA's 503) */
				if (!cmd && next > k && next <= n)
					cmd = bw_command_scan(v[k].p, (size_t)(v[next - 1].p + v[next - 1].n - v[k].p));

				for (; k < a[j].line; k++)
					if (v[k].n > 4 && memcmp(v[k].p, "<<< ", 4) == 0) {
						buf_add(&t, "\n", 1);
						buf_add(&t, v[k].p + 4, v[k].n - 4);
					}
				continue;
			}
			from = a[j].line + 1;
			to = j + 1 < na ? a[j + 1].line : end;
			/* "The following recipients did not receive your message:"
			 * before the next recipient announces it: not this one's text */
			if (j + 1 < na) {
				size_t b = to;

				while (b > from && v[b - 1].n == 0)
					b--;
				if (b > from && v[b - 1].p[v[b - 1].n - 1] == ':' &&
				    (ci_has(v[b - 1].p, v[b - 1].n, "recipient") ||
				     ci_has(v[b - 1].p, v[b - 1].n, "address")))
					to = b - 1;
			}
			/* a DSN's per-message fields end the human text */
			for (size_t k = from; k < to; k++)
				if (field_is(&v[k], "Reporting-MTA") || field_is(&v[k], "Arrival-Date") ||
				    field_is(&v[k], "Received-From-MTA") ||
				    field_is(&v[k], "X-Postfix-Queue-ID") ||
				    (field_is(&v[k], "Original-Recipient") && k + 1 < to &&
				     field_is(&v[k + 1], "Final-Recipient"))) {
					to = k;
					break;
				}
			if (ci_starts(v[a[j].line].p, v[a[j].line].n, "Final-Recipient:")) {
				buf_t d = { 0 };

				if (dsn_block(v, from, to, &d, &status) < 0) {
					free(d.p);
					rc = -1;
				}
				if (d.n) {
					if (t.n)
						buf_add(&t, "\n", 1);
					buf_add(&t, d.p, d.n);
					free(d.p);
					continue;
				}
				free(d.p);
			}
			if (t.n && from < to)
				buf_add(&t, v[from].indent > 0 && v[from].n > 0 ? " " : "\n", 1);
			add_lines(&t, v, from, to);
		}
		if (t.nomem) {
			free(t.p);
			free(status);
			rc = -1;
			goto out;
		}
		/* nothing said after the address (or no code where the notice
		 * before the first recipient has one): the notice speaks for it */
		if (diag_vague(t.p ? t.p : "", t.n) ||
		    (na == 1 && !has_code(t.p ? t.p : "", t.n) &&
		     has_code(text, (size_t)(v[a[0].line].p - text)))) {
			buf_t w = { 0 };

			add_lines(&w, v, 0, a[0].line);
			if (t.n) {
				buf_add(&w, "\n", 1);
				buf_add(&w, t.p, t.n);
			}
			free(t.p);
			t = w;
		}
		else if (na == 1 && a[0].line > 0) {
			/* one recipient: what the notice says before it counts too,
			 * after the recipient's own text */
			buf_add(&t, "\n", 1);
			add_lines(&t, v, 0, a[0].line);
		}
		s = bw_message_add_segment(msg);
		if (!s || fill_segment(s, &t, a[i].addr, a[i].alen, agent) < 0) {
			free(t.p);
			free(status);
			rc = -1;
			goto out;
		}
		s->status = status;
		if (cmd) {
			free(s->command);
			if (!(s->command = bw_strndup(cmd, strlen(cmd)))) {
				rc = -1;
				goto out;
			}
		}
		added++;
	}
done:
	/* a lone recipient whose own text does not name the command: the
	 * notice may (a session transcript above the recipient line) */
	if (rc == 0 && added == 1 && !msg->segs[first_seg].command) {
		const char *cmd = ns.with_cmd ? bw_command_found_end(&ns.cmd) :
			bw_command_scan(text, nlen);

		if (cmd && !(msg->segs[first_seg].command = bw_strndup(cmd, strlen(cmd))))
			rc = -1;
	}
out:
	free(a);
	free(v);
	if (rc < 0)
		return -1;
	return added;
}

/*
 * facts.c - read the facts a bounce text states (see facts.h).
 *
 * The scanners look at characters and their neighbours only; they are
 * linear in the text and allocate nothing.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "facts.h"

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alnum(int c) { return isalnum((unsigned char)c) != 0; }

/* "5.7.1": class 2/4/5, then 1-3 digits, 1-3 digits, not part of an IP. */
int bw_scan_status(const char *t, size_t len, char out[16], size_t *pos)
{
	for (size_t i = 0; i + 5 <= len; i++) {
		size_t j, a, b;
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

/* "550 ", "550-", "550" at the end: 2xx-5xx, a reply, not a number in prose. */
int bw_scan_reply(const char *t, size_t len, int *code, size_t *pos)
{
	int found2xx = 0, code2 = 0;
	size_t pos2 = 0;

	for (size_t i = 0; i + 3 <= len; i++) {
		char c = t[i];
		if (c < '2' || c > '5' || !is_digit(t[i + 1]) || !is_digit(t[i + 2]))
			continue;
		if (t[i + 1] > '5')
			continue;
		if (i > 0 && (is_alnum(t[i - 1]) || strchr(".-_/:=+$,", t[i - 1])))
			continue;
		if (i + 3 < len) {
			char n = t[i + 3];
			if (!(n == ' ' || n == '-' || n == '\t' || n == '\r' || n == '\n' ||
			      n == ')' || n == ']' || n == ';' || n == '"' || n == '\'' ||
			      (n == '.' && (i + 4 >= len || !is_digit(t[i + 4])))))
				continue;
			/* "550 5.1.1" or "550-" or "550 " followed by words: all replies;
			 * but "in 250 days" is prose: a 2xx/3xx must open a line. */
		}
		int v = (c - '0') * 100 + (t[i + 1] - '0') * 10 + (t[i + 2] - '0');
		if (c == '4' || c == '5') {
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
		int v = 0, d = 0;
		while (j < len && is_digit(t[j]) && d < 4) {
			v = v * 10 + (t[j] - '0');
			j++;
			d++;
		}
		if (d == 0 || d > 3 || v > 255)
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

static int is_hex(int c) { return isxdigit((unsigned char)c) != 0; }

/* IPv6 at t[i]: its length, or 0. Accepts what inet_pton accepts. */
static size_t ipv6_at(const char *t, size_t len, size_t i)
{
	size_t j = i;
	int colons = 0;
	char buf[64];
	unsigned char bin[16];

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

static int host_char(int c) { return is_alnum(c) || c == '.' || c == '-' || c == '_'; }

/* Case-insensitive: does the text before position i end with word w? */
static int ends_with(const char *t, size_t i, const char *w)
{
	size_t n = strlen(w);
	return i >= n && strncasecmp(t + i - n, w, n) == 0;
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

void bw_facts_extract(const char *t, size_t len, bw_facts *f)
{
	size_t pos;
	int have_ip = 0;

	memset(f, 0, sizeof *f);
	bw_scan_reply(t, len, &f->reply_code, &pos);
	bw_scan_status(t, len, f->status, &pos);

	for (size_t i = 0; i < len; i++) {
		char c = t[i];
		if (!have_ip && is_digit(c) && (i == 0 || !(host_char(t[i - 1])))) {
			size_t n = ipv4_at(t, len, i);
			if (n) {
				if (!remote_form(t, i, f, n)) {
					copy(f->ip, sizeof f->ip, t + i, n);
					have_ip = 1;
				}
				i += n - 1;
				continue;
			}
		}
		if (!have_ip && (is_hex(c) || c == ':') &&
		    (i == 0 || !(is_alnum(t[i - 1]) || t[i - 1] == ':' || t[i - 1] == '.') ||
		     ends_with(t, i, "IPv6:"))) {
			size_t n = ipv6_at(t, len, i);
			if (n) {
				if (!remote_form(t, i, f, n)) {
					copy(f->ip, sizeof f->ip, t + i, n);
					have_ip = 1;
				}
				i += n - 1;
				continue;
			}
		}
		if (c == '@' && f->recipient[0] == '\0')
			scan_email(t, len, i, f);
		if (c == 'h' && f->url[0] == '\0' &&
		    (strncmp(t + i, "https://", 8) == 0 || strncmp(t + i, "http://", 7) == 0)) {
			size_t e = i;
			while (e < len && !isspace((unsigned char)t[e]) && !strchr("<>\"'()[]{}|\\^`", t[e]))
				e++;
			while (e > i && strchr(".,;:!?", t[e - 1]))
				e--;
			copy(f->url, sizeof f->url, t + i, e - i);
		}
	}
	if (f->reply_code == 0 && f->status[0] == '\0') {
		for (size_t w = 0; retry_words[w]; w++)
			if (strcasestr(t, retry_words[w])) {
				f->says_retry = 1;
				break;
			}
	} else {
		f->says_retry = f->reply_code / 100 == 4 || f->status[0] == '4';
	}
}

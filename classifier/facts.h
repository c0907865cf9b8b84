/*
 * facts.h - the facts a bounce text states: reply code, enhanced status,
 * the sending server's IP, the recipient, the remote server, a URL.
 *
 * Hand-written scanners (no regex): they run on every segment and must cost
 * little next to the rule match. All offsets are byte offsets into the text.
 */
#ifndef BW_FACTS_H
#define BW_FACTS_H

#include <stddef.h>

typedef struct bw_facts {
	int reply_code;		/* first SMTP reply code, 0 if none */
	char status[16];	/* first enhanced status code "5.7.1", "" if none */
	char ip[46];		/* the sending server's IP, "" if none */
	char remote_ip[46];	/* the receiving server's IP ("host NAME[IP]"), "" if none */
	char remote_mta[256];	/* the receiving server's name, "" if none */
	char recipient[320];	/* the first address that is not the sender's, "" if none */
	char url[512];		/* the first http(s) URL, "" if none */
	int says_retry;		/* the text says the failure is temporary */
} bw_facts;

/* Fills f from text (valid UTF-8, NUL-terminated at text[len]). Never fails. */
void bw_facts_extract(const char *text, size_t len, bw_facts *f);
/*
 * The same, but says_retry may be left -1 (the retry words not looked
 * for); bw_facts_says_retry() then looks, once, when it is needed.
 */
void bw_facts_extract_fast(const char *text, size_t len, bw_facts *f);
/* Only the codes, IPs and remote MTA (recipient and URL left ""), as
 * bw_facts_extract_fast: what a bare verdict (bw_classify) needs. */
void bw_facts_extract_codes(const char *text, size_t len, bw_facts *f);
int bw_facts_says_retry(const char *text, size_t len, bw_facts *f);
/*
 * The words bw_facts_says_retry() looks for (lower case, matched caselessly
 * anywhere in the text): at most cap of them into strs; returns how many.
 * A many-string scan that finds any of them may set f->says_retry to 1,
 * and to 0 when it found none.
 */
size_t bw_facts_retry_words(const char **strs, size_t cap);

/* Scanners shared with the segment splitters; each returns 1 when found. */
int bw_scan_status(const char *text, size_t len, char out[16], size_t *pos);
int bw_scan_reply(const char *text, size_t len, int *code, size_t *pos);

/*
 * The first place in hay (n bytes) where needle (m bytes) occurs, ASCII
 * letters matching either case; NULL when it does not occur.
 */
const char *bw_ci_find(const char *hay, size_t n, const char *needle, size_t m);

/*
 * utf8.c: a copy of in (n bytes) that is valid UTF-8 with no NUL bytes:
 * invalid sequences and NULs become U+FFFD. New (free()); *outlen gets its
 * length; the copy is NUL-terminated. *changed tells whether anything was
 * replaced. NULL on ENOMEM.
 */
char *bw_utf8_clean(const char *in, size_t n, size_t *outlen, int *changed);
/* utf8.c: typographic quotes and no-break spaces to plain ones, in place
 * in s (n bytes, NUL-terminated); returns the new length. */
size_t bw_text_fold(char *s, size_t n);
/* utf8.c: the length of the well-formed UTF-8 sequence (RFC 3629) at p,
 * of at most left bytes; 0 when it is ill-formed or a NUL. */
size_t bw_utf8_seq(const char *p, size_t left);
/* utf8.c: is in (n bytes) valid UTF-8 without NUL bytes? */
int bw_utf8_valid(const char *in, size_t n);
/* utf8.c: is in valid UTF-8 without NUL that bw_text_fold() leaves as it is?
 * (1: the text can be matched as it is; one pass) */
int bw_text_is_plain(const char *in, size_t n);

#endif /* BW_FACTS_H */

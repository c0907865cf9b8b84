/*
 * command.c - which SMTP command a failure answered, as a bounce text says it.
 *
 *   const char *cmd = bw_command_scan(text, len);
 *
 * Returns "CONN" (connecting or the greeting), "EHLO", "MAIL", "RCPT" or
 * "DATA" (the message itself, whether the DATA command or the end of the
 * data), or NULL when the text does not say. The answer is a static string.
 *
 * MTAs say it in their own words: Postfix "(in reply to RCPT TO command)",
 * "while sending end of data", "connect to HOST: Connection timed out";
 * Exim "SMTP error from remote mail server after end of data", "after
 * initial connection", older ones "for TEXT command"; qmail "does not like
 * recipient", "failed after I sent the message", "but sender was rejected";
 * DragonFly's dma "did not like our RCPT TO"; sendmail and Courier quote
 * the session (">>> DATA" then "<<< 550 ..."); some gateways print a field
 * "SMTP command: DATA". The earliest phrase wins: segment texts put the
 * failing reply first. A session transcript decides only where no phrase
 * does, by the last command sent before the first failing reply.
 *
 * Threads: no state; the text is only read.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <pthread.h>

#include "kb.h"
#include "prefilter.h"
#include "segment.h"

static const struct phrase {
	const char *says;	/* lower case; matched caseless, at a word start */
	const char *cmd;
} phrases[] = {
	/* Postfix */
	{"in reply to end of data command", "DATA"},
	{"in reply to data command", "DATA"},
	{"in reply to rcpt to command", "RCPT"},
	{"in reply to mail from command", "MAIL"},
	{"in reply to ehlo command", "EHLO"},
	{"in reply to helo command", "EHLO"},
	{"while sending end of data", "DATA"},
	{"while sending message content", "DATA"},
	{"while sending data command", "DATA"},
	{"while sending rcpt to", "RCPT"},
	{"while sending mail from", "MAIL"},
	{"while performing the ehlo handshake", "EHLO"},
	{"while receiving the initial server greeting", "CONN"},
	{"refused to talk to me", "CONN"},
	/* Exim */
	{"after end of data", "DATA"},
	{"after data", "DATA"},
	{"after pipelined data", "DATA"},
	{"after rcpt to", "RCPT"},
	{"after pipelined rcpt to", "RCPT"},
	{"after mail from", "MAIL"},
	{"after pipelined mail from", "MAIL"},
	{"after initial connection", "CONN"},
	{"after ehlo", "EHLO"},
	{"after helo", "EHLO"},
	{"for text command", "DATA"},
	{"for data command", "DATA"},
	{"for rcpt to command", "RCPT"},
	{"for mail from command", "MAIL"},
	/* qmail and its descendants */
	{"does not like recipient", "RCPT"},
	{"failed after i sent the message", "DATA"},
	{"failed on data command", "DATA"},
	{"but sender was rejected", "MAIL"},
	{"but my name was rejected", "EHLO"},
	{"wasn't able to establish an smtp connection", "CONN"},
	/* DragonFly dma */
	{"did not like our final data", "DATA"},
	{"did not like our data", "DATA"},
	{"did not like our rcpt to", "RCPT"},
	{"did not like our mail from", "MAIL"},
	/* no connection at all */
	{"did not accept our requests to connect", "CONN"},
	{"connection timed out", "CONN"},
	{"connection refused", "CONN"},
	{"host not reachable", "CONN"},
	{"host unreachable", "CONN"},
	{"no route to host", "CONN"},
	{"network is unreachable", "CONN"},
	{"unable to connect", "CONN"},
	{"could not connect", "CONN"},
	{"couldn't connect", "CONN"},
	{"failed to connect", "CONN"},
	{NULL, NULL}
};

/* A whole word: no letter or digit right before s or right after s + n. */
static int word_at(const char *text, const char *s, size_t n, const char *end)
{
	if (s > text && isalnum((unsigned char)s[-1]))
		return 0;
	return s + n >= end || !isalnum((unsigned char)s[n]);
}

/* The command named by a word ("RCPT TO:<a@b>", "DATA", "mail from:"), or NULL. */
static const char *command_word(const char *p, const char *end)
{
	static const struct { const char *w; const char *cmd; } words[] = {
		{"DATA", "DATA"}, {"RCPT", "RCPT"}, {"MAIL", "MAIL"},
		{"EHLO", "EHLO"}, {"HELO", "EHLO"}, {"LHLO", "EHLO"}, {NULL, NULL}
	};

	for (int i = 0; words[i].w; i++)
		if (end - p >= 4 && strncasecmp(p, words[i].w, 4) == 0 &&
		    (end - p == 4 || !isalpha((unsigned char)p[4])))
			return words[i].cmd;
	return NULL;
}

static int is_failing_reply(const char *p, const char *end)
{
	return end - p >= 3 && (p[0] == '4' || p[0] == '5') &&
	       isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]);
}

/* Does the text (any case) hold needle (lower case)? */
static int has_ci(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);
	int c0 = (unsigned char)needle[0];

	for (; (size_t)(end - p) >= n; p++)
		if (tolower((unsigned char)*p) == c0 && strncasecmp(p, needle, n) == 0)
			return 1;
	return 0;
}

/*
 * After a pipelined ">>> DATA", the server answers the RCPT TO commands
 * first; when DATA itself then fails because no recipient is left ("503
 * need RCPT", "554 no valid recipients"), the failing reply before it was
 * the answer to RCPT TO, not to the message.
 */
static const char *const no_rcpt_says[] = {
	"no valid recipients", "need rcpt", "no recipients specified",
	"valid rcpt command must precede", "all rcpt commands were rejected", NULL
};

/* Does the text hold a "<<< 503" reply? (No letters: an exact search.) */
static int has_503(const char *p, const char *end)
{
	size_t n = p < end ? (size_t)(end - p) : 0;

	return memchr(p, '<', n) && memmem(p, n, "<<< 503", 7) != NULL;
}

static int data_found_no_recipients(const char *p, const char *end)
{
	if (has_503(p, end))
		return 1;
	for (int i = 0; no_rcpt_says[i]; i++)
		if (has_ci(p, end, no_rcpt_says[i]))
			return 1;
	return 0;
}

/* The first byte c at or after p, or end. */
static const char *find_byte(const char *p, const char *end, int c)
{
	const char *q = memchr(p, c, (size_t)(end - p));

	return q ? q : end;
}

/*
 * A session transcript: ">>> COMMAND" lines sent, "<<< NNN ..." replies.
 * The command is the last one sent before the first 4xx/5xx reply.
 */
static const char *from_transcript(const char *text, const char *end)
{
	const char *last = NULL;
	/* the first '>' and '<' at or after p (or end): only they start a line of the session */
	const char *gt = find_byte(text, end, '>'), *lt = find_byte(text, end, '<');

	for (const char *p = text; p + 4 < end; p++) {
		if (gt < p)
			gt = find_byte(p, end, '>');
		if (lt < p)
			lt = find_byte(p, end, '<');
		p = gt < lt ? gt : lt;
		if (p + 4 >= end)
			break;
		if (memcmp(p, ">>> ", 4) == 0) {
			const char *c = command_word(p + 4, end);

			if (c)
				last = c;
			p += 3;
		} else if (memcmp(p, "<<< ", 4) == 0) {
			if (is_failing_reply(p + 4, end) && last) {
				if (strcmp(last, "DATA") == 0 && data_found_no_recipients(p + 7, end))
					return "RCPT";
				return last;
			}
			p += 3;
		}
	}
	return NULL;
}

/* A field "SMTP command: DATA" (the value may be on the next line). */
static const char *from_field(const char *text, const char *end)
{
	static const char key[] = "smtp command";
	const size_t k = sizeof key - 1;

	for (const char *p = text; p + k < end; p++) {
		const char *q;

		if ((*p != 's' && *p != 'S') || strncasecmp(p, key, k) != 0 || !word_at(text, p, k, end))
			continue;
		q = p + k;
		for (int i = 0; q < end && i < 12 && !isalpha((unsigned char)*q); i++)
			q++;
		if (q < end)
			return command_word(q, end);
	}
	return NULL;
}

/*
 * Every phrase, and the few other strings the scan looks for, go into one
 * many-string index, built once per process and then only read: one pass
 * over the text finds them all with their positions. The rule matcher puts
 * the same strings into its own index (bw_command_strings), so that a text
 * it scans anyway costs no second pass.
 */
enum { EXTRA_RAR = 1000, EXTRA_NORCPT, EXTRA_FIELD };
static bw_prefilter *index_pf;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

size_t bw_command_strings(const char **strs, unsigned *ids, size_t cap)
{
	size_t n = 0;

	for (unsigned i = 0; phrases[i].says && n < cap; i++, n++) {
		strs[n] = phrases[i].says;
		ids[n] = i;
	}
	if (n < cap) {
		strs[n] = "recipient address rejected";
		ids[n++] = EXTRA_RAR;
	}
	for (unsigned i = 0; no_rcpt_says[i] && n < cap; i++, n++) {
		strs[n] = no_rcpt_says[i];
		ids[n] = EXTRA_NORCPT;
	}
	if (n < cap) {
		strs[n] = "smtp command";
		ids[n++] = EXTRA_FIELD;
	}
	return n;
}

/*
 * Ordinary diagnostic prose, to tune the index by: each string is looked
 * up by its part that is rarest in such text ("for ", "after" and "the "
 * are everywhere). Only the speed depends on it.
 */
static const char prose_sample[] =
	"host mx.example.net[203.0.113.5] said: 550 5.1.1 <bob@example.net>: Recipient "
	"address rejected: User unknown in local recipient table. The account you sent "
	"to does not exist; please check the address for typos and try again. "
	"The remote server returned an error: 552 5.2.2 Mailbox is full, the user is over "
	"the storage quota for this account. 421 4.7.0 Try again later, too many "
	"connections from your IP address. 554 5.7.1 Message refused as spam by the "
	"content filter of the receiving domain; see the policy page for more information. "
	"The message has been in the queue for too long and was returned to the sender.";

static void index_build(void)
{
	const char *samples[] = {prose_sample};
	const size_t slens[] = {sizeof prose_sample - 1};
	const char *strs[BW_COMMAND_STRINGS];
	size_t lens[BW_COMMAND_STRINGS];
	unsigned ids[BW_COMMAND_STRINGS];
	size_t n = bw_command_strings(strs, ids, BW_COMMAND_STRINGS);

	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(strs[i]);
	/* NULL: no answers */
	index_pf = bw_prefilter_new_tuned(strs, lens, ids, n, samples, slens, 1);
}

void bw_command_found_init(bw_command_found *f, const char *text, size_t len)
{
	*f = (bw_command_found){text, text + len, 0, -1, 0, 0, 0, 0};
}

void bw_command_found_hit(bw_command_found *f, unsigned id, size_t start)
{
	if (id == EXTRA_RAR)
		f->rar = 1;
	else if (id == EXTRA_NORCPT)
		f->norcpt = 1;
	else if (id == EXTRA_FIELD)
		f->field = 1;
	else if ((f->phrase < 0 || start < f->at) &&
		 word_at(f->text, f->text + start, strlen(phrases[id].says), f->end)) {
		f->phrase = (int)id;
		f->at = start;
	}
}

static void on_found(const unsigned *ids, size_t n, size_t start, void *p)
{
	for (size_t i = 0; i < n; i++)
		bw_command_found_hit(p, ids[i], start);
}

const char *bw_command_found_end(const bw_command_found *f)
{
	const char *text = f->text, *end = f->end, *c;
	size_t len = (size_t)(end - text);

	if (f->phrase >= 0)
		return phrases[f->phrase].cmd;
	/*
	 * No MTA said it, but the reply itself may: Postfix writes "Recipient
	 * address rejected" only in reply to RCPT TO, and "no valid recipients"
	 * answers a DATA that came after every recipient had been refused.
	 * This outranks a gateway's field or a pipelined transcript, which
	 * name the last command sent rather than the one answered.
	 */
	if (f->rar || f->norcpt || has_503(text, end))
		return "RCPT";
	if (f->field && (c = from_field(text, end)) != NULL)
		return c;
	if (memchr(text, '>', len) == NULL)
		return NULL;	/* no transcript */
	return from_transcript(text, end);
}

const char *bw_command_scan(const char *text, size_t len)
{
	bw_command_found f;

	if (text == NULL)
		return NULL;
	pthread_once(&index_once, index_build);
	if (index_pf == NULL)
		return NULL;
	bw_command_found_init(&f, text, len);
	bw_prefilter_scan(index_pf, text, len, on_found, &f);
	return bw_command_found_end(&f);
}

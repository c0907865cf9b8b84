/*
 * webhook.c - bounce notifications of sending services (JSON) as the
 * classifier's input: see webhook.h for the shapes recognised.
 *
 * Every provider's event becomes one message (kind bounce, or feedback for
 * a complaint) with one segment per recipient. The segment's text is what
 * the provider reports the receiving server said (SES diagnosticCode,
 * SendGrid reason/response, Mailgun delivery-status message, Postmark
 * Details), with a transport prefix such as "smtp; " removed; where the
 * provider itself refused to send (its suppression lists) the text says
 * so in words the rules know. The provider's own labels (bounce type,
 * severity) only pick the segment kind: the diagnosis comes from the text,
 * the status and the reply code like any other bounce.
 *
 * Detection is cheap for text that is not JSON: the first non-blank byte
 * must be '{' or '['. Only then is the input parsed, and only shapes with
 * the fields named below are taken; anything else returns 0 and the input
 * goes on to the email and text readers unchanged.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "webhook.h"

/* An SNS envelope holds the notification as a string; nesting stops here. */
#define MAX_DEPTH 2

typedef struct wh_ctx {
	bw_input *in;
	int oom;	/* set by any allocation that failed */
	int nsegs;
} wh_ctx;

/* One recipient's facts, borrowed from the JSON document. */
typedef struct wh_seg {
	int kind;
	const char *agent;
	const char *text;	/* diagnostic text, prefix not yet stripped */
	const char *note;	/* appended on a line of its own, or NULL */
	const char *recipient, *status, *remote_mta, *action, *last_attempt;
	const char *feedback_type;
	json_int_t reply_code;	/* 0 when the provider gave none */
} wh_seg;

static const char *sget(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}

static int is(const char *s, const char *want)
{
	return s && strcasecmp(s, want) == 0;
}

static char *dup_or_null(wh_ctx *c, const char *s)
{
	char *d;

	if (s == NULL || *s == '\0')
		return NULL;
	if ((d = bw_strndup(s, strlen(s))) == NULL)
		c->oom = 1;
	return d;
}

/* "smtp; 550 ..." -> "550 ...": drops a diagnostic-type word and its ';'. */
static const char *strip_type(const char *s)
{
	const char *p = s;

	if (s == NULL)
		return NULL;
	while (*p && (isalnum((unsigned char)*p) || *p == '-') && p - s < 16)
		p++;
	if (p > s && *p == ';') {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		return p;
	}
	return s;
}

/* An enhanced status code "C.S.D" (RFC 3463), or NULL. */
static const char *valid_status(const char *s)
{
	const char *p = s;
	int parts = 0;

	if (s == NULL || (*s != '2' && *s != '4' && *s != '5') || s[1] != '.')
		return NULL;
	for (;;) {
		size_t n = 0;
		while (isdigit((unsigned char)p[n]))
			n++;
		if (n == 0 || n > 3)
			return NULL;
		p += n;
		parts++;
		if (*p != '.')
			break;
		p++;
	}
	return parts == 3 && *p == '\0' ? s : NULL;
}

/* The reply code a text starts with ("550 ...", "421-..."), or 0. */
static int leading_reply(const char *s)
{
	if (s && s[0] >= '2' && s[0] <= '5' && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]) && (s[3] == '\0' || s[3] == ' ' || s[3] == '-'))
		return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	return 0;
}

static bw_message *msg_new(wh_ctx *c, int kind, const char *from, const char *to,
			   const char *subject, const char *message_id, const char *date)
{
	bw_message *m = bw_input_add_message(c->in);

	if (m == NULL) {
		c->oom = 1;
		return NULL;
	}
	m->kind = kind;
	m->orig_from = dup_or_null(c, from);
	m->orig_to = dup_or_null(c, to);
	m->orig_subject = dup_or_null(c, subject);
	m->orig_message_id = dup_or_null(c, message_id);
	m->orig_date = dup_or_null(c, date);
	return m;
}

static void seg_add(wh_ctx *c, bw_message *m, const wh_seg *w)
{
	const char *t = strip_type(w->text);
	size_t tl = t ? strlen(t) : 0, nl = w->note ? strlen(w->note) : 0;
	bw_segment *s;
	char *text;

	if (m == NULL)
		return;
	if ((s = bw_message_add_segment(m)) == NULL || (text = malloc(tl + nl + 2)) == NULL) {
		c->oom = 1;
		return;
	}
	memcpy(text, t ? t : "", tl);
	if (nl) {
		if (tl)
			text[tl++] = '\n';
		memcpy(text + tl, w->note, nl);
		tl += nl;
	}
	text[tl] = '\0';
	s->kind = w->kind;
	s->text = text;
	s->len = tl;
	s->agent = dup_or_null(c, w->agent);
	s->recipient = dup_or_null(c, w->recipient);
	s->status = dup_or_null(c, valid_status(w->status));
	s->remote_mta = dup_or_null(c, w->remote_mta);
	s->action = dup_or_null(c, w->action);
	s->last_attempt = dup_or_null(c, w->last_attempt);
	s->feedback_type = dup_or_null(c, w->feedback_type);
	if (w->reply_code >= 200 && w->reply_code <= 599)
		s->reply_code = (int)w->reply_code;
	else
		s->reply_code = leading_reply(t);
	c->nsegs++;
}

/* ---- Amazon SES ------------------------------------------------------- */

static const char *first_string(const json_t *v)
{
	return json_is_array(v) ? json_string_value(json_array_get(v, 0)) : json_string_value(v);
}

static int ses_detect(const json_t *n)
{
	const char *t = sget(n, "notificationType");

	if (t == NULL)
		t = sget(n, "eventType");
	return t && json_is_object(json_object_get(n, "mail"));
}

static void ses(wh_ctx *c, const json_t *n)
{
	const char *type = sget(n, "notificationType") ? sget(n, "notificationType") :
		sget(n, "eventType");
	const json_t *mail = json_object_get(n, "mail");
	const json_t *h = json_object_get(mail, "commonHeaders");
	const char *mid = sget(h, "messageId") ? sget(h, "messageId") : sget(mail, "messageId");
	wh_seg w = {.agent = "Amazon SES"};
	bw_message *m;
	size_t i;
	json_t *r;

	if (is(type, "Bounce")) {
		const json_t *b = json_object_get(n, "bounce");
		const char *sub = sget(b, "bounceSubType");
		char fallback[160];
		snprintf(fallback, sizeof fallback, "Amazon SES: %s bounce (%s)",
			 sget(b, "bounceType") ? sget(b, "bounceType") : "unknown",
			 sub ? sub : "no subtype");
		if (json_array_size(json_object_get(b, "bouncedRecipients")) == 0)
			return;
		m = msg_new(c, BW_MSG_BOUNCE, first_string(json_object_get(h, "from")),
			    first_string(json_object_get(h, "to")), sget(h, "subject"), mid,
			    sget(h, "date"));
		if (is(sub, "Suppressed") || is(sub, "OnAccountSuppressionList"))
			w.note = "Amazon SES did not send: the address is on a suppression list.";
		w.remote_mta = sget(b, "remoteMtaIp");
		w.last_attempt = sget(b, "timestamp");
		json_array_foreach(json_object_get(b, "bouncedRecipients"), i, r) {
			w.kind = BW_SEG_FAILED;
			w.recipient = sget(r, "emailAddress");
			w.status = sget(r, "status");
			w.action = sget(r, "action");
			w.text = sget(r, "diagnosticCode") ? sget(r, "diagnosticCode") : fallback;
			seg_add(c, m, &w);
		}
	} else if (is(type, "DeliveryDelay")) {
		const json_t *d = json_object_get(n, "deliveryDelay");
		if (json_array_size(json_object_get(d, "delayedRecipients")) == 0)
			return;
		m = msg_new(c, BW_MSG_BOUNCE, first_string(json_object_get(h, "from")),
			    first_string(json_object_get(h, "to")), sget(h, "subject"), mid,
			    sget(h, "date"));
		w.remote_mta = sget(d, "reportingMTA");
		w.last_attempt = sget(d, "timestamp");
		json_array_foreach(json_object_get(d, "delayedRecipients"), i, r) {
			w.kind = BW_SEG_DELAYED;
			w.recipient = sget(r, "emailAddress");
			w.status = sget(r, "status");
			w.action = "delayed";
			w.text = sget(r, "diagnosticCode") ? sget(r, "diagnosticCode") :
				sget(d, "delayType");
			seg_add(c, m, &w);
		}
	} else if (is(type, "Complaint")) {
		const json_t *cp = json_object_get(n, "complaint");
		if (json_array_size(json_object_get(cp, "complainedRecipients")) == 0)
			return;
		m = msg_new(c, BW_MSG_FEEDBACK, first_string(json_object_get(h, "from")),
			    first_string(json_object_get(h, "to")), sget(h, "subject"), mid,
			    sget(h, "date"));
		json_array_foreach(json_object_get(cp, "complainedRecipients"), i, r) {
			w.kind = BW_SEG_FEEDBACK;
			w.recipient = sget(r, "emailAddress");
			w.feedback_type = sget(cp, "complaintFeedbackType") ?
				sget(cp, "complaintFeedbackType") : "abuse";
			w.text = "The recipient reported the message as spam (Amazon SES complaint).";
			w.last_attempt = sget(cp, "timestamp");
			seg_add(c, m, &w);
		}
	} else if (is(type, "Delivery")) {
		const json_t *d = json_object_get(n, "delivery");
		if (json_array_size(json_object_get(d, "recipients")) == 0)
			return;
		m = msg_new(c, BW_MSG_BOUNCE, first_string(json_object_get(h, "from")),
			    first_string(json_object_get(h, "to")), sget(h, "subject"), mid,
			    sget(h, "date"));
		w.remote_mta = sget(d, "remoteMtaIp");
		w.last_attempt = sget(d, "timestamp");
		json_array_foreach(json_object_get(d, "recipients"), i, r) {
			w.kind = BW_SEG_DELIVERED;
			w.recipient = json_string_value(r);
			w.action = "delivered";
			w.text = sget(d, "smtpResponse");
			seg_add(c, m, &w);
		}
	}
}

/* ---- SendGrid --------------------------------------------------------- */

static int sendgrid_detect(const json_t *e)
{
	return sget(e, "event") && sget(e, "email") &&
	       (json_object_get(e, "sg_event_id") || json_object_get(e, "sg_message_id") ||
		json_object_get(e, "smtp-id") || json_object_get(e, "timestamp"));
}

static void sendgrid(wh_ctx *c, const json_t *e)
{
	const char *ev = sget(e, "event"), *reason = sget(e, "reason");
	wh_seg w = {.agent = "SendGrid", .recipient = sget(e, "email"),
		    .status = sget(e, "status"), .text = reason};
	int mkind = BW_MSG_BOUNCE;
	char dropped[600];

	if (is(ev, "bounce") || is(ev, "blocked")) {
		w.kind = BW_SEG_FAILED;
		w.action = "failed";
	} else if (is(ev, "deferred")) {
		w.kind = BW_SEG_DELAYED;
		w.action = "delayed";
		if (sget(e, "response"))
			w.text = sget(e, "response");
	} else if (is(ev, "dropped")) {
		w.kind = BW_SEG_FAILED;
		w.action = "failed";
		snprintf(dropped, sizeof dropped, "SendGrid dropped the message: %s",
			 reason ? reason : "no reason given");
		w.text = dropped;
		if (is(reason, "Bounced Address") || is(reason, "Unsubscribed Address") ||
		    is(reason, "Spam Reporting Address"))
			w.note = "SendGrid did not send: the address is on a suppression list.";
	} else if (is(ev, "delivered")) {
		w.kind = BW_SEG_DELIVERED;
		w.action = "delivered";
		w.text = sget(e, "response");
	} else if (is(ev, "spamreport")) {
		w.kind = BW_SEG_FEEDBACK;
		w.feedback_type = "abuse";
		w.text = "The recipient reported the message as spam (SendGrid spam report).";
		mkind = BW_MSG_FEEDBACK;
	} else {
		return;	/* processed, open, click, unsubscribe, ...: no delivery problem */
	}
	seg_add(c, msg_new(c, mkind, NULL, NULL, NULL, sget(e, "smtp-id"), NULL), &w);
}

/* ---- Mailgun ---------------------------------------------------------- */

static int mailgun_detect(const json_t *e)
{
	return sget(e, "event") && (json_is_object(json_object_get(e, "delivery-status")) ||
				    sget(e, "recipient"));
}

static void mailgun(wh_ctx *c, const json_t *e)
{
	const char *ev = sget(e, "event"), *reason = sget(e, "reason");
	const json_t *ds = json_object_get(e, "delivery-status");
	const json_t *h = json_object_get(json_object_get(e, "message"), "headers");
	const char *msg = sget(ds, "message"), *desc = sget(ds, "description");
	wh_seg w = {.agent = "Mailgun", .recipient = sget(e, "recipient"),
		    .status = sget(ds, "enhanced-code"), .remote_mta = sget(ds, "mx-host"),
		    .reply_code = json_integer_value(json_object_get(ds, "code"))};
	int mkind = BW_MSG_BOUNCE;
	char both[2048], fallback[160];

	/* Either may be empty; when both say something, both are evidence. */
	if (msg && desc && strcmp(msg, desc) != 0) {
		snprintf(both, sizeof both, "%s\n%s", msg, desc);
		w.text = both;
	} else {
		w.text = msg ? msg : desc;
	}
	if (is(ev, "failed")) {
		w.kind = is(sget(e, "severity"), "temporary") ? BW_SEG_DELAYED : BW_SEG_FAILED;
		w.action = w.kind == BW_SEG_DELAYED ? "delayed" : "failed";
		if (w.text == NULL) {
			snprintf(fallback, sizeof fallback, "Mailgun: delivery failed (%s)",
				 reason ? reason : "no reason given");
			w.text = fallback;
		}
		if (reason && strncasecmp(reason, "suppress-", 9) == 0)
			w.note = "Mailgun did not send: the address is on a suppression list.";
	} else if (is(ev, "delivered")) {
		w.kind = BW_SEG_DELIVERED;
		w.action = "delivered";
	} else if (is(ev, "complained")) {
		w.kind = BW_SEG_FEEDBACK;
		w.feedback_type = "abuse";
		w.text = "The recipient reported the message as spam (Mailgun complaint).";
		mkind = BW_MSG_FEEDBACK;
	} else {
		return;
	}
	seg_add(c, msg_new(c, mkind, sget(h, "from"), sget(h, "to"), sget(h, "subject"),
			   sget(h, "message-id"), NULL), &w);
}

/* ---- Postmark --------------------------------------------------------- */

static int postmark_detect(const json_t *b)
{
	return sget(b, "RecordType") ||
	       (sget(b, "Type") && sget(b, "Email") && json_object_get(b, "TypeCode"));
}

static void postmark(wh_ctx *c, const json_t *b)
{
	const char *rt = sget(b, "RecordType"), *type = sget(b, "Type");
	const char *details = strip_type(sget(b, "Details"));
	wh_seg w = {.agent = "Postmark", .recipient = sget(b, "Email"),
		    .last_attempt = sget(b, "BouncedAt")};
	int mkind = BW_MSG_BOUNCE;

	/* Details is what the receiver said; Description is Postmark's generic
	 * text for the bounce type, used only when there is nothing better. */
	w.text = details && *details ? details : sget(b, "Description");
	if (rt == NULL || is(rt, "Bounce")) {
		if (is(type, "SpamComplaint") || is(type, "SpamNotification")) {
			w.kind = BW_SEG_FEEDBACK;
			w.feedback_type = "abuse";
			mkind = BW_MSG_FEEDBACK;
		} else if (is(type, "AutoResponder")) {
			w.kind = BW_SEG_VACATION;
			mkind = BW_MSG_AUTOREPLY;
		} else if (is(type, "Transient")) {
			w.kind = BW_SEG_DELAYED;
			w.action = "delayed";
		} else {
			w.kind = BW_SEG_FAILED;
			w.action = "failed";
		}
	} else if (is(rt, "SpamComplaint")) {
		w.kind = BW_SEG_FEEDBACK;
		w.feedback_type = "abuse";
		w.last_attempt = sget(b, "BouncedAt");
		mkind = BW_MSG_FEEDBACK;
		if (w.text == NULL)
			w.text = "The recipient reported the message as spam (Postmark complaint).";
	} else if (is(rt, "Delivery")) {
		w.kind = BW_SEG_DELIVERED;
		w.action = "delivered";
		w.recipient = sget(b, "Recipient");
		w.last_attempt = sget(b, "DeliveredAt");
	} else {
		return;	/* Open, Click, SubscriptionChange, ... */
	}
	seg_add(c, msg_new(c, mkind, sget(b, "From"), NULL, sget(b, "Subject"),
			   sget(b, "MessageID"), NULL), &w);
}

/* ---- dispatch --------------------------------------------------------- */

static void one(wh_ctx *c, const json_t *v, int depth);

static void each(wh_ctx *c, const json_t *arr, int depth)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e) {
		if (c->oom)
			return;
		one(c, e, depth);
	}
}

/* Classifies one JSON value by its shape; an unknown shape adds nothing. */
static void one(wh_ctx *c, const json_t *v, int depth)
{
	const json_t *x;

	if (json_is_array(v)) {
		if (depth == 0)
			each(c, v, depth + 1);
		return;
	}
	if (!json_is_object(v))
		return;
	if (is(sget(v, "Type"), "Notification") && sget(v, "Message") && depth < MAX_DEPTH) {
		/* SNS envelope: the notification is a JSON text inside a string. */
		json_t *inner = json_loads(sget(v, "Message"), 0, NULL);
		if (inner)
			one(c, inner, depth + 1);
		json_decref(inner);
	} else if (ses_detect(v)) {
		ses(c, v);
	} else if (json_is_object(x = json_object_get(v, "event-data"))) {
		if (mailgun_detect(x))
			mailgun(c, x);
	} else if (json_is_array(x = json_object_get(v, "items")) && depth == 0) {
		size_t i;
		json_t *e;
		json_array_foreach(x, i, e)
			if (mailgun_detect(e))
				mailgun(c, e);
	} else if (json_is_array(x = json_object_get(v, "Bounces")) && depth == 0) {
		size_t i;
		json_t *e;
		json_array_foreach(x, i, e)
			if (postmark_detect(e))
				postmark(c, e);
	} else if (postmark_detect(v)) {
		postmark(c, v);
	} else if (sendgrid_detect(v)) {
		sendgrid(c, v);
	} else if (mailgun_detect(v)) {
		mailgun(c, v);
	}
}

int bw_webhook_parse(const char *data, size_t len, bw_input *in)
{
	wh_ctx c = {in, 0, 0};
	size_t i = 0;
	json_t *doc;

	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' ||
			   data[i] == '\n'))
		i++;
	if (i == len || (data[i] != '{' && data[i] != '['))
		return 0;
	if ((doc = json_loadb(data + i, len - i, 0, NULL)) == NULL)
		return 0;
	one(&c, doc, 0);
	json_decref(doc);
	if (c.oom || c.nsegs == 0) {
		bw_input_free(in);
		memset(in, 0, sizeof *in);
		return c.oom ? -1 : 0;
	}
	in->kind = BW_INPUT_TEXT;
	return c.nsegs;
}

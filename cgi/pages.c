/*
 * pages.c - the HTML pages of bouncewhy (see pages.h).
 *
 * Each handler turns the classifier's JSON into a template context (plain
 * words, numbered steps, the matched text split around its offsets, a
 * plain-text copy for tickets), renders one body template and, unless a
 * fragment was asked for, wraps it in templates/layout.mustache.
 *
 * Security: every value reaches HTML through an escaped Mustache slot;
 * links are made only from checked http(s) URLs, validated IP addresses and
 * reason/blocklist ids of our own knowledge base. Responses say who may
 * frame them and that scripts come from our origin only.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcheck.h"
#include "pages.h"

/* Longest stretch of a segment's text shown around the matched part. */
#define ORIGINAL_CONTEXT 2000
/* Longest IP field we look at (IPv6 with zone and brackets fits). */
#define IP_FIELD_MAX 64

static const char CSP_PAGE[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; "
	"img-src 'self' data:; connect-src 'self'; form-action 'self'; "
	"base-uri 'none'; frame-ancestors 'none'";
static const char CSP_EMBED_FMT[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; "
	"img-src 'self' data:; connect-src 'self'; form-action 'self'; "
	"base-uri 'none'; frame-ancestors %s";

static const char *const examples[][2] = {
	{"451 Bad reverse DNS.", "451 Bad reverse DNS."},
	{"blocked using b.barracudacentral.org; "
	 "https://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1",
	 "blocked using b.barracudacentral.org"},
	{"Mail from 192.0.2.1 deferred using Trend Micro Email Reputation "
	 "database. Please see https://www.mail-abuse.com/cgi-bin/lookup?192.0.2.1",
	 "deferred using Trend Micro Email Reputation database"},
	{"553 User defined policy matched for 192.0.2.1",
	 "553 User defined policy matched"},
	{"550 5.1.1 <someone@example.com>: Recipient address rejected: "
	 "User unknown in virtual mailbox table",
	 "550 5.1.1 User unknown"},
};

enum fmt { FMT_HTML, FMT_FRAGMENT, FMT_JSON };

static int pick_fmt(const bw_request *req)
{
	const char *f = bw_negotiate(req, "html");

	if (f && strcmp(f, "json") == 0)
		return FMT_JSON;
	if (f && strcmp(f, "fragment") == 0)
		return FMT_FRAGMENT;
	return FMT_HTML;
}

static int is_embed(const bw_request *req)
{
	return strncmp(req->path, "/embed/", 7) == 0;
}

/* "" for NULL, so templates and snprintf never see NULL. */
static const char *str(const json_t *v)
{
	const char *s = json_string_value(v);

	return s ? s : "";
}

/* s when it is an http(s) URL we may put into href, else NULL. */
static const char *safe_url(const char *s)
{
	const char *p;

	if (!s || (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0))
		return NULL;
	for (p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\'' ||
		    *p == '<' || *p == '>' || *p == '\\' || *p == '`' ||
		    (unsigned char)*p == 0x7f)
			return NULL;
	return s;
}

/* Is s an IPv4 or IPv6 address in plain form? */
static int valid_ip(const char *s)
{
	unsigned char b[16];

	if (!s || !*s || strlen(s) > IP_FIELD_MAX)
		return 0;
	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* Is s a knowledge-base id ([a-z0-9][a-z0-9._-]*)? */
static int valid_id(const char *s)
{
	size_t i;

	if (!s || !*s || strlen(s) > 64)
		return 0;
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      (i > 0 && (c == '-' || c == '_' || c == '.'))))
			return 0;
	}
	return 1;
}

static void set_string(json_t *o, const char *key, const char *s)
{
	json_object_set_new(o, key, json_string(s ? s : ""));
}

static void set_stringn(json_t *o, const char *key, const char *s, size_t n)
{
	json_object_set_new(o, key, json_stringn(s, n));
}

/* ---- answers ---------------------------------------------------------- */

static void add_security_headers(const bw_app *app, const bw_request *req,
				 bw_response *res)
{
	if (is_embed(req)) {
		const char *fa = app->cfg && app->cfg->frame_ancestors &&
				 *app->cfg->frame_ancestors
				 ? app->cfg->frame_ancestors : "*";
		char csp[1024];

		snprintf(csp, sizeof csp, CSP_EMBED_FMT, fa);
		bw_response_header(res, "Content-Security-Policy", csp);
	} else {
		bw_response_header(res, "Content-Security-Policy", CSP_PAGE);
		bw_response_header(res, "X-Frame-Options", "DENY");
	}
	/* response.c adds nosniff, Referrer-Policy and Cache-Control */
	bw_response_header(res, "Vary", "Accept");
}

static void fail_500(bw_response *res, const bw_error *err)
{
	char detail[800];

	snprintf(detail, sizeof detail, "page rendering failed: %s%s%s",
		 err && err->file[0] ? err->file : "",
		 err && err->file[0] ? ": " : "", err ? err->text : "");
	bw_buf_reset(&res->body);
	bw_response_problem(res, 500, detail);
}

/*
 * Render template tpl with ctx (stolen) as the answer: the whole page, or
 * the fragment alone. title is the page's <title>.
 */
static void send_page(const bw_app *app, const bw_request *req,
		      bw_response *res, int status, const char *tpl,
		      json_t *ctx, const char *title)
{
	int embed = is_embed(req);
	bw_error err = {0};
	bw_buf body = {0};
	json_t *layout = NULL;

	if (!ctx) {
		snprintf(err.text, sizeof err.text, "out of memory");
		fail_500(res, &err);
		return;
	}
	if (!app->templates) {
		snprintf(err.text, sizeof err.text, "no templates loaded");
		json_decref(ctx);
		fail_500(res, &err);
		return;
	}
	json_object_set_new(ctx, "embed", json_boolean(embed));
	if (bw_tpl_render(app->templates, tpl, ctx, &body, &err) < 0)
		goto fail;
	bw_buf_reset(&res->body);
	if (pick_fmt(req) == FMT_FRAGMENT) {
		if (bw_buf_append(&res->body, body.data, body.len) < 0)
			goto fail;
	} else {
		layout = json_pack("{s:s, s:s, s:s%, s:b}", "title", title,
				   "version", BW_VERSION, "body", body.data,
				   body.len, "embed", embed);
		if (!layout || bw_tpl_render(app->templates, "layout", layout,
					     &res->body, &err) < 0)
			goto fail;
	}
	res->status = status;
	snprintf(res->content_type, sizeof res->content_type,
		 "text/html; charset=utf-8");
	add_security_headers(app, req, res);
	json_decref(layout);
	json_decref(ctx);
	bw_buf_free(&body);
	return;
fail:
	if (!err.text[0])
		snprintf(err.text, sizeof err.text, "out of memory");
	fail_500(res, &err);
	json_decref(layout);
	json_decref(ctx);
	bw_buf_free(&body);
}

void bw_page_error(const bw_app *app, const bw_request *req, bw_response *res,
		   int status, const char *title, const char *detail)
{
	if (pick_fmt(req) == FMT_JSON) {
		bw_response_problem(res, status, detail);
		return;
	}
	send_page(app, req, res, status, "error",
		  json_pack("{s:s, s:s}", "title", title, "detail", detail),
		  title);
}

/* ---- the form --------------------------------------------------------- */

static const char *form_action(const bw_request *req)
{
	return is_embed(req) ? "/embed/explain" : "/explain";
}

/* The form's fields, for a context object. */
static void form_fields(json_t *ctx, const bw_request *req, const char *text,
			size_t text_len, const char *ip, int admin)
{
	set_string(ctx, "form_action", form_action(req));
	set_stringn(ctx, "text", text ? text : "", text ? text_len : 0);
	set_string(ctx, "ip", ip);
	json_object_set_new(ctx, "audience_admin", json_boolean(admin));
}

/* Append one %XX-encoded byte string to b (for example links). */
static int url_encode(bw_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		    c == '~') {
			if (bw_buf_append(b, (const char *)&c, 1) < 0)
				return -1;
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			if (bw_buf_append(b, e, 3) < 0)
				return -1;
		}
	}
	return 0;
}

static json_t *examples_json(const bw_request *req)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr && i < sizeof examples / sizeof examples[0]; i++) {
		bw_buf href = {0};

		if (bw_buf_puts(&href, form_action(req)) < 0 ||
		    bw_buf_puts(&href, "?text=") < 0 ||
		    url_encode(&href, examples[i][0]) < 0) {
			bw_buf_free(&href);
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, json_pack("{s:s, s:s}", "href",
						     href.data, "label",
						     examples[i][1]));
		bw_buf_free(&href);
	}
	return arr;
}

static void show_form(const bw_app *app, const bw_request *req,
		      bw_response *res, int status, const char *ip, int admin)
{
	json_t *ctx = json_object();

	if (ctx) {
		form_fields(ctx, req, NULL, 0, ip, admin);
		json_object_set_new(ctx, "examples", examples_json(req));
	}
	send_page(app, req, res, status, "home", ctx,
		  "Why did my email bounce?");
}

void bw_page_home(const bw_app *app, const bw_request *req, bw_response *res,
		  const char *tail)
{
	(void)tail;
	if (pick_fmt(req) == FMT_JSON) {
		json_t *links = json_pack(
			"{s:s, s:s, s:s, s:s}", "explain", "/api/v1/explain",
			"ip", "/api/v1/ip/{ip}", "reasons", "/api/v1/reasons",
			"openapi", "/api/v1/openapi.json");

		bw_response_json(res, 200, links);
		return;
	}
	show_form(app, req, res, 200, "", 0);
}

/* ---- explanation cards ------------------------------------------------ */

static const char *who_text(const char *action_by, int admin)
{
	if (!action_by)
		return admin ? "Not clear from the bounce" : "Not clear from the bounce";
	if (strcmp(action_by, "sender") == 0)
		return admin ? "The sender (the person who wrote the message)"
			     : "You, the sender";
	if (strcmp(action_by, "sender_admin") == 0)
		return admin ? "The sending server’s administrator"
			     : "Your email provider or IT administrator";
	if (strcmp(action_by, "recipient") == 0)
		return "The recipient";
	if (strcmp(action_by, "recipient_admin") == 0)
		return "The recipient’s email provider or administrator";
	if (strcmp(action_by, "nobody") == 0)
		return "Nobody: no action is needed";
	return "Not clear from the bounce";
}

/* kind ("temporary", "permanent", "fine"), badge and its sentence. */
static void severity(int temporary, const char *action_by, const char **kind,
		     const char **badge, const char **text)
{
	if (temporary) {
		*kind = "temporary";
		*badge = "Temporary";
		*text = "A temporary failure: the sending server keeps trying "
			"for a while, so the message may still arrive.";
	} else if (action_by && strcmp(action_by, "nobody") == 0) {
		*kind = "fine";
		*badge = "No failure";
		*text = "Not a delivery failure: nothing has to be done.";
	} else {
		*kind = "permanent";
		*badge = "Permanent";
		*text = "A permanent failure: the message was not delivered and "
			"will not be retried.";
	}
}

/* Byte offsets snapped outwards to UTF-8 character boundaries. */
static void snap_utf8(const char *s, size_t len, size_t *start, size_t *end)
{
	while (*start > 0 && ((unsigned char)s[*start] & 0xc0) == 0x80)
		(*start)--;
	while (*end < len && ((unsigned char)s[*end] & 0xc0) == 0x80)
		(*end)++;
}

/* {"before","match","after"} of the segment text around matched. */
static json_t *original_json(const json_t *f)
{
	const json_t *t = json_object_get(f, "text");
	const json_t *m = json_object_get(f, "matched");
	const char *s = json_string_value(t);
	size_t len = json_string_length(t), start = 0, end = 0, from, to;
	json_t *o;

	if (!s || len == 0)
		return NULL;
	if (json_is_object(m) &&
	    json_is_integer(json_object_get(m, "start")) &&
	    json_is_integer(json_object_get(m, "end"))) {
		json_int_t a = json_integer_value(json_object_get(m, "start"));
		json_int_t b = json_integer_value(json_object_get(m, "end"));

		if (a >= 0 && b >= a && (size_t)b <= len) {
			start = (size_t)a;
			end = (size_t)b;
		}
	}
	snap_utf8(s, len, &start, &end);
	/* a long text shows the stretch around the match */
	from = start > ORIGINAL_CONTEXT ? start - ORIGINAL_CONTEXT : 0;
	to = len - end > ORIGINAL_CONTEXT ? end + ORIGINAL_CONTEXT : len;
	snap_utf8(s, len, &from, &to);
	o = json_object();
	if (!o)
		return NULL;
	{
		bw_buf before = {0}, after = {0};

		if ((from > 0 && bw_buf_puts(&before, "…") < 0) ||
		    bw_buf_append(&before, s + from, start - from) < 0 ||
		    bw_buf_append(&after, s + end, to - end) < 0 ||
		    (to < len && bw_buf_puts(&after, "…") < 0)) {
			bw_buf_free(&before);
			bw_buf_free(&after);
			json_decref(o);
			return NULL;
		}
		set_stringn(o, "before", before.data, before.len);
		set_stringn(o, "match", s + start, end - start);
		set_stringn(o, "after", after.data, after.len);
		bw_buf_free(&before);
		bw_buf_free(&after);
	}
	return o;
}

/* "550 5.7.1 (Delivery not authorized, message refused)" or "". */
static void code_text(const json_t *smtp, char *dst, size_t size)
{
	const json_t *rc = json_object_get(smtp, "reply_code");
	const char *st = json_string_value(json_object_get(smtp, "status"));
	const char *txt = json_string_value(json_object_get(smtp, "status_text"));
	size_t n = 0;

	dst[0] = '\0';
	if (json_is_integer(rc))
		n += snprintf(dst + n, size - n, "%" JSON_INTEGER_FORMAT,
			      json_integer_value(rc));
	if (st && *st && n < size)
		n += snprintf(dst + n, size - n, "%s%s", n ? " " : "", st);
	if (txt && *txt && n && n < size)
		snprintf(dst + n, size - n, " (%s)", txt);
}

/* The plain text a helpdesk agent pastes into a ticket. */
static int copy_text(bw_buf *b, const json_t *card, const json_t *steps)
{
	const json_t *bl = json_object_get(card, "blocklist");
	const json_t *orig = json_object_get(card, "original");
	const json_t *s;
	size_t i;
	char num[32];

	if (bw_buf_puts(b, "Why the email bounced: ") < 0 ||
	    bw_buf_puts(b, str(json_object_get(card, "headline"))) < 0 ||
	    bw_buf_puts(b, "\n") < 0 ||
	    bw_buf_puts(b, str(json_object_get(card, "badge_text"))) < 0 ||
	    (json_is_true(json_object_get(card, "hard_bounce")) &&
	     bw_buf_puts(b, " The address will never accept mail: remove it "
			    "from mailing lists.") < 0) ||
	    bw_buf_puts(b, "\nWho has to act: ") < 0 ||
	    bw_buf_puts(b, str(json_object_get(card, "who"))) < 0 ||
	    bw_buf_puts(b, "\n\n") < 0 ||
	    bw_buf_puts(b, str(json_object_get(card, "summary"))) < 0 ||
	    bw_buf_puts(b, "\n") < 0)
		return -1;
	if (json_array_size(steps) && bw_buf_puts(b, "\nWhat to do:\n") < 0)
		return -1;
	json_array_foreach(steps, i, s) {
		snprintf(num, sizeof num, "%zu. ", i + 1);
		if (bw_buf_puts(b, num) < 0 || bw_buf_puts(b, str(s)) < 0 ||
		    bw_buf_puts(b, "\n") < 0)
			return -1;
	}
	if (json_is_object(bl)) {
		if (bw_buf_puts(b, "\nBlocklist: ") < 0 ||
		    bw_buf_puts(b, str(json_object_get(bl, "name"))) < 0)
			return -1;
		if (json_string_value(json_object_get(bl, "delist_url")) &&
		    (bw_buf_puts(b, "\nRequest removal at: ") < 0 ||
		     bw_buf_puts(b, str(json_object_get(bl, "delist_url"))) < 0))
			return -1;
		if (bw_buf_puts(b, "\n") < 0)
			return -1;
	}
	if (json_string_length(json_object_get(card, "code")) &&
	    (bw_buf_puts(b, "\nError code: ") < 0 ||
	     bw_buf_puts(b, str(json_object_get(card, "code"))) < 0 ||
	     bw_buf_puts(b, "\n") < 0))
		return -1;
	if (json_is_object(orig) && json_string_length(json_object_get(orig, "match")) &&
	    (bw_buf_puts(b, "The bounce said: \"") < 0 ||
	     bw_buf_puts(b, str(json_object_get(orig, "match"))) < 0 ||
	     bw_buf_puts(b, "\"\n") < 0))
		return -1;
	return 0;
}

/* The template context of finding f, the n-th card. NULL on ENOMEM. */
static json_t *card_context(const json_t *f, size_t n, int admin, int embed)
{
	const char *reason = str(json_object_get(f, "reason"));
	const char *action_by = json_string_value(json_object_get(f, "action_by"));
	const char *ip = json_string_value(json_object_get(f, "ip"));
	const json_t *steps = json_object_get(json_object_get(f, "steps"),
					      admin ? "admin" : "user");
	const json_t *bl = json_object_get(f, "blocklist");
	const json_t *expl = json_object_get(f, "explanation");
	const char *summary, *kind, *badge, *badge_text;
	json_t *card, *orig;
	bw_buf copy = {0};
	char code[256], href[128];

	severity(json_is_true(json_object_get(f, "temporary")), action_by, &kind,
		 &badge, &badge_text);
	summary = json_string_value(json_object_get(expl, admin ? "admin" : "user"));
	if (!summary)
		summary = str(json_object_get(f, "summary"));
	card = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:o}",
			 "n", (json_int_t)n, "headline",
			 str(json_object_get(f, "title")), "kind", kind,
			 "badge", badge, "badge_text", badge_text,
			 "who", who_text(action_by, admin),
			 "hard_bounce", json_is_true(json_object_get(f, "hard_bounce")),
			 "summary", summary,
			 "steps", json_is_array(steps) ? json_incref((json_t *)steps)
							: json_array());
	if (!card)
		return NULL;
	json_object_set_new(card, "has_steps",
			    json_boolean(json_array_size(steps) > 0));
	json_object_set_new(card, "embed", json_boolean(embed));
	set_string(card, "reason", reason);
	if (json_string_length(json_object_get(f, "recipient")))
		json_object_set(card, "recipient", json_object_get(f, "recipient"));
	if (json_string_length(json_object_get(f, "remote_mta")))
		json_object_set(card, "remote_mta", json_object_get(f, "remote_mta"));
	if (ip && *ip) {
		set_string(card, "ip", ip);
		if (!embed && valid_ip(ip)) {
			snprintf(href, sizeof href, "/ip/%s", ip);
			set_string(card, "ip_href", href);
		}
	}
	code_text(json_object_get(f, "smtp"), code, sizeof code);
	if (code[0])
		set_string(card, "code", code);
	if (json_is_object(bl)) {
		const char *u = safe_url(json_string_value(json_object_get(bl, "delist_url")));
		json_t *b = json_pack("{s:s}", "name", str(json_object_get(bl, "name")));

		if (b && u)
			set_string(b, "delist_url", u);
		if (b)
			json_object_set_new(card, "blocklist", b);
	}
	orig = original_json(f);
	if (orig)
		json_object_set_new(card, "original", orig);
	snprintf(href, sizeof href, "%s%s", embed ? "/embed/kb/" : "/kb/",
		 valid_id(reason) ? reason : "");
	set_string(card, "kb_href", href);
	if (copy_text(&copy, card, json_object_get(card, "steps")) < 0) {
		bw_buf_free(&copy);
		json_decref(card);
		return NULL;
	}
	set_stringn(card, "copy_text", copy.data, copy.len);
	bw_buf_free(&copy);
	return card;
}

/* ---- /explain --------------------------------------------------------- */

void bw_page_explain(const bw_app *app, const bw_request *req,
		     bw_response *res, const char *tail)
{
	size_t text_len = 0;
	const char *text = bw_request_param(req, "text", &text_len);
	const char *ip = bw_request_param(req, "ip", NULL);
	const char *aud = bw_request_param(req, "audience", NULL);
	int admin = aud && (strcmp(aud, "administrator") == 0 ||
			    strcmp(aud, "admin") == 0);
	int is_post = strcmp(req->method, "POST") == 0;
	int fmt = pick_fmt(req);
	bw_options opt = {0};
	bw_error err = {0};
	json_t *result, *ctx, *cards, *f;
	size_t i, nf;
	const char *p;
	char ipbuf[IP_FIELD_MAX + 1] = "";

	(void)tail;
	/* trim the IP field; it is small and optional */
	if (ip) {
		size_t n;

		while (*ip == ' ' || *ip == '\t')
			ip++;
		n = strlen(ip);
		while (n && (ip[n - 1] == ' ' || ip[n - 1] == '\t' ||
			     ip[n - 1] == '\r' || ip[n - 1] == '\n'))
			n--;
		if (n > IP_FIELD_MAX) {
			bw_page_error(app, req, res, 400, "That is not an IP address",
				      "The IP address field is too long.");
			return;
		}
		memcpy(ipbuf, ip, n);
		ipbuf[n] = '\0';
	}
	if (aud && *aud && !admin && strcmp(aud, "customer") != 0 &&
	    strcmp(aud, "user") != 0) {
		bw_page_error(app, req, res, 400, "Unknown audience",
			      "audience must be customer or administrator.");
		return;
	}
	/* blank text: the form again, or the IP check */
	for (p = text; p && p < text + text_len; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			break;
	if (!text || p == text + text_len) {
		if (ipbuf[0]) {
			if (!valid_ip(ipbuf)) {
				bw_page_error(app, req, res, 400,
					      "That is not an IP address",
					      "Type an IPv4 address such as 192.0.2.1 "
					      "or an IPv6 address such as 2001:db8::1.");
				return;
			}
			res->status = 303;
			snprintf(res->content_type, sizeof res->content_type,
				 "text/plain; charset=utf-8");
			{
				char loc[128];

				snprintf(loc, sizeof loc, "/ip/%s", ipbuf);
				bw_response_header(res, "Location", loc);
			}
			bw_buf_reset(&res->body);
			bw_buf_puts(&res->body, "See the IP check.\n");
			return;
		}
		if (!is_post && fmt != FMT_JSON) {
			show_form(app, req, res, 200, "", admin);
			return;
		}
		if (fmt == FMT_JSON) {
			bw_response_problem(res, 400, "Paste the bounce message into the text field.");
			return;
		}
		show_form(app, req, res, 400, ipbuf, admin);
		return;
	}

	opt.audience = admin ? "admin" : "user";
	result = bw_explain(app->kb, text, text_len, &opt, &err);
	if (!result) {
		fail_500(res, &err);
		return;
	}
	if (fmt == FMT_JSON) {
		bw_response_json(res, 200, result);
		return;
	}

	ctx = json_object();
	cards = json_array();
	if (!ctx || !cards) {
		json_decref(ctx);
		json_decref(cards);
		json_decref(result);
		fail_500(res, NULL);
		return;
	}
	json_array_foreach(json_object_get(result, "findings"), i, f) {
		json_t *c = card_context(f, i + 1, admin, is_embed(req));

		if (!c) {
			json_decref(ctx);
			json_decref(cards);
			json_decref(result);
			fail_500(res, NULL);
			return;
		}
		json_array_append_new(cards, c);
	}
	nf = json_array_size(cards);
	form_fields(ctx, req, text, text_len, ipbuf, admin);
	json_object_set_new(ctx, "findings", cards);
	json_object_set_new(ctx, "no_findings", json_boolean(nf == 0));
	set_string(ctx, "heading", nf > 1 ? "What these bounces mean"
				    : nf == 1 ? "What this bounce means"
				    : "We could not explain this text");
	{
		char count[128];
		const char *kind = str(json_object_get(json_object_get(result, "input"), "kind"));

		if (nf == 0)
			snprintf(count, sizeof count, "No bounce reason found.");
		else
			snprintf(count, sizeof count, "%zu %s found in the %s you pasted.",
				 nf, nf == 1 ? "explanation" : "explanations",
				 strcmp(kind, "email") == 0 ? "email" :
				 strcmp(kind, "mbox") == 0 ? "mailbox" : "text");
		set_string(ctx, "count_text", count);
	}
	if (json_is_true(json_object_get(json_object_get(result, "input"), "truncated"))) {
		json_object_set_new(ctx, "truncated", json_true());
		json_object_set(ctx, "window",
				json_object_get(json_object_get(result, "input"), "window"));
	}
	if (ipbuf[0] && valid_ip(ipbuf) && !is_embed(req)) {
		char href[128];

		snprintf(href, sizeof href, "/ip/%s", ipbuf);
		set_string(ctx, "ip_link", href);
	}
	{
		char title[300];

		snprintf(title, sizeof title, "%s",
			 nf ? str(json_object_get(json_array_get(cards, 0), "headline"))
			    : "No bounce reason found");
		json_decref(result);
		send_page(app, req, res, 200, "explain", ctx, title);
	}
}

/* ---- /ip/{ip} --------------------------------------------------------- */

static int listing_rank(const json_t *l)
{
	const char *st = str(json_object_get(l, "status"));

	if (json_is_true(json_object_get(l, "listed")))
		return 0;
	if (strcmp(st, "error") == 0 || strcmp(st, "timeout") == 0)
		return 1;
	return 2;
}

/* One table row of a listing. */
static json_t *listing_row(const json_t *l)
{
	const char *st = str(json_object_get(l, "status"));
	int listed = json_is_true(json_object_get(l, "listed"));
	const char *id = json_string_value(json_object_get(l, "id"));
	const char *delist = safe_url(json_string_value(json_object_get(l, "delist_url")));
	const char *lookup = safe_url(json_string_value(json_object_get(l, "lookup_url")));
	const json_t *c;
	json_t *row;
	bw_buf d = {0};
	size_t i;
	char href[128] = "";

	if (listed) {
		json_array_foreach(json_object_get(l, "codes"), i, c) {
			const char *m = json_string_value(json_object_get(c, "meaning"));

			if (m && *m) {
				if (d.len)
					bw_buf_puts(&d, "; ");
				bw_buf_puts(&d, m);
			}
		}
		if (json_string_length(json_object_get(l, "txt"))) {
			if (d.len)
				bw_buf_puts(&d, ". ");
			bw_buf_puts(&d, str(json_object_get(l, "txt")));
		}
	} else if (json_string_length(json_object_get(l, "reason"))) {
		bw_buf_puts(&d, str(json_object_get(l, "reason")));
	}
	if (valid_id(id))
		snprintf(href, sizeof href, "/kb/blocklist/%s", id);
	row = json_pack("{s:s, s:s, s:b, s:s, s:s%}", "name",
			str(json_object_get(l, "name")), "zone",
			str(json_object_get(l, "zone")), "listed", listed,
			"result", listed ? "Listed" :
				  strcmp(st, "timeout") == 0 ? "No answer in time" :
				  strcmp(st, "error") == 0 ? "Could not check" :
				  "Not listed",
			"details", d.data ? d.data : "", d.len);
	if (row && href[0])
		set_string(row, "kb_href", href);
	/* a listed IP needs the removal form; others at most a second opinion */
	if (row && listed && (delist || lookup)) {
		set_string(row, "link_url", delist ? delist : lookup);
		set_string(row, "link_text", delist ? "Request removal" : "Look up");
		set_string(row, "link_hidden", delist ? "from" : "on");
	} else if (row && (lookup || delist)) {
		set_string(row, "link_url", lookup ? lookup : delist);
		set_string(row, "link_text", lookup ? "Look up" : "Removal page");
		set_string(row, "link_hidden", lookup ? "on" : "of");
	}
	bw_buf_free(&d);
	return row;
}

static void rdns_sentence(const json_t *r, const char *ip, char *dst, size_t size)
{
	const char *st = str(json_object_get(r, "status"));
	const json_t *ptr = json_object_get(r, "ptr");
	const char *name = json_string_value(json_array_get(ptr, 0));

	if (strcmp(st, "ok") == 0 && name) {
		if (json_is_true(json_object_get(r, "generic")))
			snprintf(dst, size, "%s is called %s. That name looks like "
				 "one given to a dynamic or home connection, "
				 "which many receiving servers refuse mail from.",
				 ip, name);
		else if (json_is_true(json_object_get(r, "forward_confirmed")))
			snprintf(dst, size, "%s is called %s, and that name "
				 "points back to it: reverse DNS is in order.",
				 ip, name);
		else
			snprintf(dst, size, "%s is called %s, but that name does "
				 "not point back to %s. Many receiving servers "
				 "refuse mail from addresses whose reverse DNS is "
				 "not confirmed.", ip, name, ip);
	} else if (strcmp(st, "none") == 0) {
		snprintf(dst, size, "%s has no reverse DNS name (no PTR record). "
			 "Many receiving servers refuse mail from it; whoever runs "
			 "its network must set one.", ip);
	} else {
		snprintf(dst, size, "The reverse DNS of %s could not be looked "
			 "up%s%s.", ip,
			 json_string_length(json_object_get(r, "reason")) ? ": " : "",
			 str(json_object_get(r, "reason")));
	}
}

static int cmp_rank(const void *a, const void *b)
{
	const json_t *const *x = a, *const *y = b;
	int rx = listing_rank(*x), ry = listing_rank(*y);

	return rx != ry ? rx - ry : strcmp(str(json_object_get(*x, "name")),
					   str(json_object_get(*y, "name")));
}

void bw_page_ip(const bw_app *app, const bw_request *req, bw_response *res,
		const char *tail)
{
	const bw_config *cfg = app->cfg;
	bw_ipcheck_opts o = {0};
	bw_error err = {0};
	int code = 0, fmt = pick_fmt(req);
	json_t *r, *ctx, *rows, *names, *l;
	const json_t *listings, *rd;
	const json_t **sorted;
	size_t i, n;
	char text[600];

	if (!tail || !*tail || strlen(tail) > IP_FIELD_MAX) {
		bw_page_error(app, req, res, 400, "That is not an IP address",
			      "Put an IPv4 or IPv6 address after /ip/.");
		return;
	}
	if (cfg) {
		o.servers = cfg->resolver;
		o.timeout_ms = cfg->dns_timeout_ms;
		o.allow_private = cfg->allow_private;
	}
	r = bw_ipcheck_run(app->kb, app->ipcache, tail, &o, &code, &err);
	if (!r) {
		int status = bw_ipcheck_http_status(code);
		const char *title =
			code == BW_IPCHECK_EMALFORMED ? "That is not an IP address" :
			code == BW_IPCHECK_ENOTPUBLIC ? "Not a public address" :
			"The check could not run";

		if (status >= 500 && fmt != FMT_JSON) {
			bw_page_error(app, req, res, status, title, err.text);
			return;
		}
		bw_page_error(app, req, res, status, title,
			      err.text[0] ? err.text : title);
		return;
	}
	if (fmt == FMT_JSON) {
		bw_response_json(res, 200, r);
		return;
	}
	ctx = json_object();
	rows = json_array();
	names = json_array();
	listings = json_object_get(r, "listings");
	n = json_array_size(listings);
	sorted = calloc(n + 1, sizeof *sorted);
	if (!ctx || !rows || !names || !sorted)
		goto nomem;
	for (i = 0; i < n; i++)
		sorted[i] = json_array_get(listings, i);
	qsort(sorted, n, sizeof *sorted, cmp_rank);
	for (i = 0; i < n; i++) {
		json_t *row = listing_row(sorted[i]);

		if (!row)
			goto nomem;
		json_array_append_new(rows, row);
	}
	rd = json_object_get(r, "reverse_dns");
	json_array_foreach(json_object_get(rd, "names"), i, l) {
		json_array_append_new(names, json_pack(
			"{s:s, s:s, s:s}", "name", str(json_object_get(l, "name")),
			"confirmed", json_is_true(json_object_get(l, "forward_confirmed"))
				     ? "Yes" : "No",
			"generic", json_is_true(json_object_get(l, "generic"))
				   ? "Yes" : "No"));
	}
	set_string(ctx, "ip", str(json_object_get(r, "ip")));
	rdns_sentence(rd, str(json_object_get(r, "ip")), text, sizeof text);
	{
		const char *st = str(json_object_get(rd, "status"));

		set_string(ctx, "rdns_kind",
			   strcmp(st, "none") == 0 ? "permanent" :
			   strcmp(st, "ok") != 0 ? "info" :
			   json_is_true(json_object_get(rd, "forward_confirmed")) &&
			   !json_is_true(json_object_get(rd, "generic")) ? "fine" : "temporary");
	}
	set_string(ctx, "rdns_text", text);
	{
		const json_t *s = json_object_get(r, "summary");
		json_int_t listed = json_integer_value(json_object_get(s, "listed"));
		json_int_t checked = json_integer_value(json_object_get(s, "checked"));
		json_int_t bad = json_integer_value(json_object_get(s, "errors")) +
				 json_integer_value(json_object_get(s, "timeouts"));
		size_t k;

		if (listed)
			k = snprintf(text, sizeof text, "Listed on %" JSON_INTEGER_FORMAT
				     " of the %" JSON_INTEGER_FORMAT " blocklists checked.",
				     listed, checked);
		else
			k = snprintf(text, sizeof text, "Not listed on any of the %"
				     JSON_INTEGER_FORMAT " blocklists checked.", checked);
		if (bad && k < sizeof text)
			snprintf(text + k, sizeof text - k, " %" JSON_INTEGER_FORMAT
				 " could not be checked.", bad);
		set_string(ctx, "count_text", text);
		json_object_set_new(ctx, "any_listed", json_boolean(listed > 0));
	}
	json_object_set_new(ctx, "listings", rows);
	json_object_set_new(ctx, "has_names", json_boolean(json_array_size(names) > 0));
	json_object_set_new(ctx, "names", names);
	form_fields(ctx, req, NULL, 0, str(json_object_get(r, "ip")), 0);
	snprintf(text, sizeof text, "Is %s blocklisted?", str(json_object_get(r, "ip")));
	free(sorted);
	json_decref(r);
	send_page(app, req, res, 200, "ip", ctx, text);
	return;
nomem:
	free(sorted);
	json_decref(ctx);
	json_decref(rows);
	json_decref(names);
	json_decref(r);
	fail_500(res, NULL);
}

/* ---- /kb/ ------------------------------------------------------------- */

/* Knowledge-base text with its {placeholders} in neutral words. */
static json_t *neutral(const char *s)
{
	static const char *const ph[][2] = {
		{"{ip}", "your mail server's IP address"},
		{"{recipient}", "the recipient"},
		{"{remote_mta}", "the receiving server"},
		{"{blocklist}", "the blocklist"},
		{"{delist_url}", "the blocklist's removal page"},
		{"{status}", "the status code"},
		{"{reply_code}", "the reply code"},
	};
	bw_buf b = {0};
	json_t *j;

	if (!s)
		s = "";
	while (*s) {
		size_t i, k = 1;

		for (i = 0; i < sizeof ph / sizeof ph[0]; i++) {
			size_t l = strlen(ph[i][0]);

			if (strncmp(s, ph[i][0], l) == 0) {
				if (bw_buf_puts(&b, ph[i][1]) < 0)
					goto nomem;
				k = l;
				break;
			}
		}
		if (i == sizeof ph / sizeof ph[0] && bw_buf_append(&b, s, 1) < 0)
			goto nomem;
		s += k;
	}
	j = json_stringn(b.data ? b.data : "", b.len);
	bw_buf_free(&b);
	return j;
nomem:
	bw_buf_free(&b);
	return NULL;
}

static json_t *neutral_steps(const json_t *arr)
{
	json_t *out = json_array(), *s;
	size_t i;

	json_array_foreach(arr, i, s) json_array_append_new(out, neutral(json_string_value(s)));
	return out;
}

static void kb_index(const bw_app *app, const bw_request *req, bw_response *res)
{
	const json_t *reasons = bw_kb_reasons(app->kb);
	const json_t *lists = bw_kb_blocklists(app->kb), *v;
	json_t *ctx, *rs = json_array(), *bs = json_array();
	const char *key;
	size_t i;
	char href[128];

	if (pick_fmt(req) == FMT_JSON) {
		json_decref(rs);
		json_decref(bs);
		bw_response_json(res, 200, json_pack("{s:O, s:o}", "reasons",
						     (json_t *)reasons, "blocklists",
						     lists ? json_incref((json_t *)lists)
							   : json_array()));
		return;
	}
	json_object_foreach((json_t *)reasons, key, v) {
		if (!valid_id(key))
			continue;
		snprintf(href, sizeof href, "%s%s", is_embed(req) ? "/embed/kb/" : "/kb/", key);
		json_array_append_new(rs, json_pack("{s:s, s:s, s:s}", "id", key,
						    "title", str(json_object_get(v, "title")),
						    "href", href));
	}
	json_array_foreach(lists, i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));

		if (!valid_id(id))
			continue;
		snprintf(href, sizeof href, "/kb/blocklist/%s", id);
		json_array_append_new(bs, json_pack(
			"{s:s, s:s, s:s, s:s}", "name", str(json_object_get(v, "name")),
			"operator", str(json_object_get(v, "operator")), "zone",
			str(json_object_get(json_array_get(json_object_get(v, "zones"), 0), "zone")),
			"href", href));
	}
	ctx = json_pack("{s:o, s:o}", "reasons", rs, "blocklists", bs);
	send_page(app, req, res, 200, "kb-index", ctx, "Knowledge base");
}

static void kb_reason(const bw_app *app, const bw_request *req, bw_response *res,
		      const char *id)
{
	const json_t *r = valid_id(id) ? bw_kb_reason(app->kb, id) : NULL;
	const json_t *sum, *steps, *t;
	const char *action_by, *kind, *badge, *badge_text;
	json_t *ctx;

	if (!r) {
		bw_page_error(app, req, res, 404, "No such kind of bounce",
			      "The knowledge base has no entry by that name.");
		return;
	}
	if (pick_fmt(req) == FMT_JSON) {
		bw_response_json(res, 200, json_deep_copy(r));
		return;
	}
	sum = json_object_get(r, "summary");
	steps = json_object_get(r, "steps");
	action_by = json_string_value(json_object_get(r, "action_by"));
	t = json_object_get(r, "temporary");
	severity(json_is_true(t), action_by, &kind, &badge, &badge_text);
	if (!json_is_boolean(t) && !(action_by && strcmp(action_by, "nobody") == 0)) {
		kind = "info";
		badge = "Temporary or permanent";
	}
	ctx = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:o, s:o, s:o}",
			"id", id, "title", str(json_object_get(r, "title")),
			"kind", kind, "badge", badge,
			"hard_bounce", json_is_true(json_object_get(r, "hard_bounce")),
			"who", who_text(action_by, 1),
			"summary_user", neutral(json_string_value(json_object_get(sum, "user"))),
			"summary_admin", neutral(json_string_value(json_object_get(sum, "admin"))),
			"steps_user", neutral_steps(json_object_get(steps, "user")),
			"steps_admin", neutral_steps(json_object_get(steps, "admin")));
	send_page(app, req, res, 200, "kb-reason", ctx, str(json_object_get(r, "title")));
}

static void kb_blocklist(const bw_app *app, const bw_request *req,
			 bw_response *res, const char *id)
{
	const json_t *b = valid_id(id) ? bw_kb_blocklist(app->kb, id) : NULL;
	const json_t *z;
	json_t *ctx, *zones;
	const char *u;
	size_t i;

	if (!b) {
		bw_page_error(app, req, res, 404, "No such blocklist",
			      "The knowledge base has no blocklist by that name.");
		return;
	}
	if (pick_fmt(req) == FMT_JSON) {
		bw_response_json(res, 200, json_deep_copy(b));
		return;
	}
	zones = json_array();
	json_array_foreach(json_object_get(b, "zones"), i, z)
		if (json_string_length(json_object_get(z, "zone")))
			json_array_append(zones, json_object_get(z, "zone"));
	ctx = json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", str(json_object_get(b, "name")),
			"description", str(json_object_get(b, "about")),
			"operator", str(json_object_get(b, "operator")),
			"kind", str(json_object_get(b, "kind")), "zones", zones);
	if (ctx) {
		/* URLs here have no IP to fill in: strip the template slot */
		static const char *const keys[] = {"home_url", "lookup_url", "delist_url"};

		for (i = 0; i < 3; i++) {
			u = json_string_value(json_object_get(b, keys[i]));
			if (u && !strstr(u, "{ip}") && safe_url(u))
				set_string(ctx, keys[i], u);
		}
	}
	send_page(app, req, res, 200, "kb-blocklist", ctx, str(json_object_get(b, "name")));
}

void bw_page_kb(const bw_app *app, const bw_request *req, bw_response *res,
		const char *tail)
{
	if ((!tail || *tail == '\0') && !is_embed(req))
		kb_index(app, req, res);
	else
		kb_reason(app, req, res, tail ? tail : "");
}

void bw_page_kb_blocklist(const bw_app *app, const bw_request *req,
			  bw_response *res, const char *tail)
{
	kb_blocklist(app, req, res, tail ? tail : "");
}

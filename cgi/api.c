/*
 * api.c - the JSON API: /healthz, /api/v1/explain, the knowledge base and
 * the contract.
 *
 * Bad input is a 4xx problem with a sentence saying what to send instead;
 * a broken environment (out of memory) is a 5xx.
 */
#include <string.h>
#include <strings.h>

#include "http.h"
#include "ipcheck.h"
#include "metrics.h"

const char *bw_negotiate(const bw_request *req, const char *dflt)
{
	const char *f = bw_request_param(req, "format", NULL);

	if (f && (strcmp(f, "json") == 0 || strcmp(f, "html") == 0 || strcmp(f, "fragment") == 0))
		return f;
	if (strstr(req->accept, "application/json") || strstr(req->accept, "+json"))
		return strstr(req->accept, "text/html") && strstr(req->accept, "text/html") <
			strstr(req->accept, "json") ? "html" : "json";
	if (strstr(req->accept, "text/html"))
		return "html";
	return dflt;
}

static void cors(bw_response *res)
{
	bw_response_header(res, "Access-Control-Allow-Origin", "*");
}

void bw_api_healthz(const bw_app *app, const bw_request *req, bw_response *res, const char *tail)
{
	bw_response_json(res, 200, json_pack("{s:s, s:s, s:s, s:I}", "api_version", BW_API_VERSION,
					     "status", "ok", "version",
					     bw_kb_version(app->kb), "rules",
					     (json_int_t)bw_kb_rule_count(app->kb)));
}

/*
 * The bounce text of an explain request, whatever form it came in. Returns
 * 0 with *text, *len (borrowed from req or from *doc, which the caller
 * frees) or an HTTP status with *why.
 */
static int explain_input(const bw_request *req, const char **text, size_t *len,
			 const char **audience, json_t **doc, const char **why)
{
	const char *ct = req->content_type;

	*doc = NULL;
	if (strcmp(ct, "application/json") == 0) {
		json_error_t jerr;
		json_t *t, *a;
		*doc = json_loadb(req->body, req->body_len, 0, &jerr);
		if (json_is_array(*doc)) {
			*text = req->body;	/* a provider's array of events */
			*len = req->body_len;
			return *len ? 0 : 400;
		}
		if (*doc == NULL || !json_is_object(*doc)) {
			*why = "The body is not a JSON object; send {\"text\": \"...the bounce...\"}.";
			return 400;
		}
		t = json_object_get(*doc, "text");
		a = json_object_get(*doc, "audience");
		if (t == NULL || json_is_array(*doc)) {
			/* Not our {"text"} shape: a provider's notification (SES, SendGrid,
			 * Mailgun, Postmark) goes to the classifier as it is. */
			*text = req->body;
			*len = req->body_len;
			return *len ? 0 : 400;
		}
		if (!json_is_string(t)) {
			*why = "The JSON body needs a string field \"text\" holding the bounce.";
			return 400;
		}
		if (a && !json_is_null(a)) {
			if (!json_is_string(a) || (strcmp(json_string_value(a), "user") != 0 &&
						   strcmp(json_string_value(a), "admin") != 0)) {
				*why = "\"audience\" is \"user\" or \"admin\".";
				return 400;
			}
			*audience = json_string_value(a);
		}
		*text = json_string_value(t);
		*len = json_string_length(t);
	} else if (strcmp(ct, "application/x-www-form-urlencoded") == 0) {
		/* curl -d sends raw text with this type: without a "text" field the
		 * body itself is the bounce. */
		*text = req->form_invalid ? NULL : bw_request_param(req, "text", len);
		if (*text == NULL) {
			*text = req->body;
			*len = req->body_len;
		}
	} else if (ct[0] == '\0' || strcmp(ct, "text/plain") == 0 ||
		   strcmp(ct, "message/rfc822") == 0 || strcmp(ct, "application/mbox") == 0 ||
		   strcmp(ct, "application/octet-stream") == 0) {
		*text = req->body;
		*len = req->body_len;
	} else {
		*why = "Send the bounce as text/plain, message/rfc822 or application/json.";
		return 415;
	}
	if (*len == 0) {
		*why = "The bounce text is empty: paste the bounce message or the whole bounce email.";
		return 400;
	}
	return 0;
}

/* Adds "ip_report" to every finding that names an IP: the IP check's answer,
 * or a problem object when the address cannot be checked (private, bad). At
 * most 4 distinct addresses per answer, each checked once. */
static void attach_ip_checks(const bw_app *app, json_t *out)
{
	json_t *done = json_object(), *f;
	size_t i;

	json_array_foreach(json_object_get(out, "findings"), i, f) {
		const char *ip = json_string_value(json_object_get(f, "ip"));
		json_t *rep;
		if (ip == NULL) {
			json_object_set_new(f, "ip_report", json_null());
			continue;
		}
		rep = json_object_get(done, ip);
		if (rep == NULL && json_object_size(done) < 4) {
			bw_ipcheck_opts o = {.servers = app->cfg->resolver,
					     .timeout_ms = app->cfg->dns_timeout_ms,
					     .allow_private = app->cfg->allow_private,
					     .lenient = 1};
			bw_error err = {0};
			int code = 0;
			rep = bw_ipcheck_run(app->kb, app->ipcache, ip, &o, &code, &err);
			if (rep == NULL) {
				int st = bw_ipcheck_http_status(code);
				char type[32];
				snprintf(type, sizeof type, "/problems/%d", st);
				rep = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title",
						bw_status_text(st), "status", st, "detail", err.text);
			}
			json_object_set_new(done, ip, rep);
		}
		json_object_set(f, "ip_report", rep ? rep : json_null());
	}
	json_decref(done);
}

void bw_api_explain(const bw_app *app, const bw_request *req, bw_response *res, const char *tail)
{
	const char *text = NULL, *why = NULL, *audience = bw_request_param(req, "audience", NULL);
	size_t len = 0;
	json_t *doc = NULL, *out;
	bw_error err = {0};
	bw_options o = {.max_input = app->cfg->max_body};
	int st;

	cors(res);
	if ((st = explain_input(req, &text, &len, &audience, &doc, &why)) != 0) {
		bw_response_problem(res, st, why);
		json_decref(doc);
		return;
	}
	if (audience && strcmp(audience, "user") != 0 && strcmp(audience, "admin") != 0) {
		bw_response_problem(res, 400, "audience is user or admin.");
		json_decref(doc);
		return;
	}
	o.audience = audience;
	out = bw_explain(app->kb, text, len, &o, &err);
	json_decref(doc);
	if (out == NULL) {
		bw_response_problem(res, 503, err.text);
		return;
	}
	{
		/* ?check_ip=1: run the IP check of each distinct IP the findings name */
		const char *ck = bw_request_param(req, "check_ip", NULL);
		if (ck && (strcmp(ck, "1") == 0 || strcmp(ck, "true") == 0))
			attach_ip_checks(app, out);
	}
	{
		size_t i;
		json_t *f;
		json_array_foreach(json_object_get(out, "findings"), i, f)
			bw_metrics_finding(app->metrics, json_string_value(json_object_get(f, "reason")));
	}
	bw_response_json(res, 200, out);
}

void bw_api_reasons(const bw_app *app, const bw_request *req, bw_response *res, const char *tail)
{
	cors(res);
	bw_response_json(res, 200, json_pack("{s:s, s:s, s:O}", "api_version", BW_API_VERSION,
					     "version", bw_kb_version(app->kb), "reasons",
					     bw_kb_reasons(app->kb)));
}

void bw_api_reason(const bw_app *app, const bw_request *req, bw_response *res, const char *tail)
{
	const json_t *r = bw_kb_reason(app->kb, tail);

	cors(res);
	if (r == NULL) {
		bw_response_problem(res, 404, "No such reason; GET /api/v1/reasons lists them.");
		return;
	}
	json_t *o = json_deep_copy(r);
	json_object_set_new(o, "api_version", json_string(BW_API_VERSION));
	json_object_set_new(o, "version", json_string(bw_kb_version(app->kb)));
	bw_response_json(res, 200, o);
}

void bw_api_blocklists(const bw_app *app, const bw_request *req, bw_response *res,
		       const char *tail)
{
	cors(res);
	bw_response_json(res, 200, json_pack("{s:s, s:s, s:O}", "api_version", BW_API_VERSION,
					     "version", bw_kb_version(app->kb),
					     "blocklists", bw_kb_blocklists(app->kb)));
}

void bw_api_openapi(const bw_app *app, const bw_request *req, bw_response *res, const char *tail)
{
	cors(res);
	if (app->openapi == NULL) {
		bw_response_problem(res, 404, "This installation has no openapi.json.");
		return;
	}
	bw_response_text(res, 200, "application/json", app->openapi, app->openapi_len);
}

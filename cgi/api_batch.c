/*
 * api_batch.c - POST /api/v1/explain/batch: many bounces in one request.
 *
 * The body is one of
 *   application/json  ["text", ...]
 *                     {"items": [{"id": ..., "text": "...", "audience": ...}, ...],
 *                      "audience": "user"|"admin"}
 *                     an item may also be a provider's notification object
 *                     (Amazon SES, SendGrid, Mailgun, Postmark event)
 *   application/mbox  an mbox file: each message is an item
 * and the answer is one result per item, in order:
 *   {"api_version", "version", "count", "failed",
 *    "results": [{"index", "id", "result": <explain answer>|null,
 *                 "error": <problem>|null}]}
 *
 * Limits come from the server's command line: at most cfg->max_batch items
 * (413 beyond), and the whole body at most cfg->max_body bytes (request.c
 * answers 413 before we run), so one request's work stays bounded. A bad
 * item does not fail the batch: its result is null and its error a problem
 * object (422). Only a body that cannot be read as a batch at all is a
 * 400/413/415 problem for the whole request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "metrics.h"

static const char *batch_types =
	"Send application/json (an array of texts, or {\"items\": [{\"id\", \"text\"}]}) "
	"or application/mbox.";

static json_t *problem(int status, const char *detail)
{
	char type[64];

	snprintf(type, sizeof type, "/problems/%d", status);
	return json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", bw_status_text(status),
			 "status", status, "detail", detail);
}

static int audience_ok(const char *a)
{
	return a == NULL || strcmp(a, "user") == 0 || strcmp(a, "admin") == 0;
}

typedef struct batch {
	const bw_app *app;
	const char *audience;	/* the request's default */
	json_t *results;
	size_t failed;
} batch;

static void add_error(batch *b, json_t *id, int status, const char *detail)
{
	json_array_append_new(b->results, json_pack("{s:I, s:o, s:n, s:o}",
		"index", (json_int_t)json_array_size(b->results),
		"id", id ? id : json_null(), "result", "error", problem(status, detail)));
	b->failed++;
}

/*
 * Explains one item's text and appends its result. id is stolen. When
 * need_finding is set (a notification object), an answer without findings
 * means the object was not recognised: an item error.
 */
static void add_text(batch *b, json_t *id, const char *text, size_t len, const char *audience,
		     int need_finding)
{
	bw_options o = {.max_input = b->app->cfg->max_body, .audience = audience};
	bw_error err = {0};
	json_t *out, *f;
	size_t i;

	if (len == 0) {
		add_error(b, id, 422, "The item's text is empty.");
		return;
	}
	if ((out = bw_explain(b->app->kb, text, len, &o, &err)) == NULL) {
		add_error(b, id, 503, err.text[0] ? err.text : "out of memory");
		return;
	}
	if (need_finding && json_array_size(json_object_get(out, "findings")) == 0) {
		json_decref(out);
		add_error(b, id, 422, "The item has no \"text\" and is not a provider's bounce "
			  "notification (Amazon SES, SendGrid, Mailgun, Postmark).");
		return;
	}
	json_array_foreach(json_object_get(out, "findings"), i, f)
		bw_metrics_finding(b->app->metrics, json_string_value(json_object_get(f, "reason")));
	json_array_append_new(b->results, json_pack("{s:I, s:o, s:o, s:n}",
		"index", (json_int_t)json_array_size(b->results),
		"id", id ? id : json_null(), "result", out, "error"));
}

static void json_item(batch *b, const json_t *item)
{
	const json_t *t, *id, *a;

	if (json_is_string(item)) {
		add_text(b, NULL, json_string_value(item), json_string_length(item), b->audience, 0);
		return;
	}
	if (!json_is_object(item)) {
		add_error(b, NULL, 422, "An item is a string (the bounce) or an object "
			  "{\"id\", \"text\"}.");
		return;
	}
	id = json_object_get(item, "id");
	if (id && !json_is_string(id) && !json_is_integer(id) && !json_is_null(id)) {
		add_error(b, NULL, 422, "\"id\" is a string, an integer or null.");
		return;
	}
	t = json_object_get(item, "text");
	a = json_object_get(item, "audience");
	if (a && !json_is_null(a) && (!json_is_string(a) || !audience_ok(json_string_value(a)))) {
		add_error(b, json_incref((json_t *)id), 422, "\"audience\" is \"user\" or \"admin\".");
		return;
	}
	const char *aud = json_is_string(a) ? json_string_value(a) : b->audience;
	if (json_is_string(t)) {
		add_text(b, json_incref((json_t *)id), json_string_value(t), json_string_length(t),
			 aud, 0);
	} else if (t && !json_is_null(t)) {
		add_error(b, json_incref((json_t *)id), 422, "\"text\" is a string holding the bounce.");
	} else {
		/* A provider's notification as the item itself: classify its JSON. */
		char *s = json_dumps(item, JSON_COMPACT);
		if (s == NULL) {
			add_error(b, json_incref((json_t *)id), 503, "out of memory");
			return;
		}
		add_text(b, json_incref((json_t *)id), s, strlen(s), aud, 1);
		free(s);
	}
}

/* The items of a JSON body, or NULL with *why. */
static const json_t *json_items(const json_t *doc, const char **audience, const char **why)
{
	const json_t *items = doc, *a;

	if (json_is_object(doc)) {
		items = json_object_get(doc, "items");
		a = json_object_get(doc, "audience");
		if (a && !json_is_null(a)) {
			if (!json_is_string(a) || !audience_ok(json_string_value(a))) {
				*why = "\"audience\" is \"user\" or \"admin\".";
				return NULL;
			}
			*audience = json_string_value(a);
		}
	}
	if (!json_is_array(items)) {
		*why = "The body is a JSON array of texts, or an object with an array \"items\".";
		return NULL;
	}
	return items;
}

/* Start of each message of an mbox: a "From " line at the start or after a newline. */
static size_t mbox_split(const char *s, size_t n, size_t *starts, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i + 5 <= n; i++) {
		if ((i == 0 || s[i - 1] == '\n') && memcmp(s + i, "From ", 5) == 0) {
			if (k == max)
				return max + 1;
			starts[k++] = i;
		}
		const char *nl = memchr(s + i, '\n', n - i);
		if (nl == NULL)
			break;
		i = (size_t)(nl - s);
	}
	return k;
}

void bw_api_explain_batch(const bw_app *app, const bw_request *req, bw_response *res,
			  const char *tail)
{
	batch b = {app, bw_request_param(req, "audience", NULL), NULL, 0};
	size_t max = app->cfg->max_batch ? app->cfg->max_batch : 100;
	const char *why = NULL;
	char detail[160];
	json_t *doc = NULL;

	bw_response_header(res, "Access-Control-Allow-Origin", "*");
	if (!audience_ok(b.audience)) {
		bw_response_problem(res, 400, "audience is user or admin.");
		return;
	}
	if ((b.results = json_array()) == NULL) {
		bw_response_problem(res, 503, "out of memory");
		return;
	}
	if (strcmp(req->content_type, "application/json") == 0) {
		const json_t *items;
		size_t i;
		json_t *it;
		if ((doc = json_loadb(req->body, req->body_len, 0, NULL)) == NULL) {
			bw_response_problem(res, 400, "The body is not valid JSON.");
			goto done;
		}
		if ((items = json_items(doc, &b.audience, &why)) == NULL) {
			bw_response_problem(res, 400, why);
			goto done;
		}
		if (json_array_size(items) > max) {
			snprintf(detail, sizeof detail, "A batch holds at most %zu items; split it.", max);
			bw_response_problem(res, 413, detail);
			goto done;
		}
		json_array_foreach(items, i, it)
			json_item(&b, it);
	} else if (strcmp(req->content_type, "application/mbox") == 0) {
		size_t *starts = calloc(max + 1, sizeof *starts), k;
		if (starts == NULL) {
			bw_response_problem(res, 503, "out of memory");
			goto done;
		}
		k = mbox_split(req->body, req->body_len, starts, max);
		if (k > max) {
			free(starts);
			snprintf(detail, sizeof detail,
				 "A batch holds at most %zu messages; split the mbox.", max);
			bw_response_problem(res, 413, detail);
			goto done;
		}
		if (k == 0) {
			free(starts);
			bw_response_problem(res, 400, "The body is not an mbox: no line starts with \"From \".");
			goto done;
		}
		for (size_t i = 0; i < k; i++) {
			/* each message without its "From " separator line: one email */
			size_t from = starts[i], to = i + 1 < k ? starts[i + 1] : req->body_len;
			const char *nl = memchr(req->body + from, '\n', to - from);
			size_t body = nl ? (size_t)(nl - req->body) + 1 : to;
			add_text(&b, json_integer((json_int_t)i), req->body + body, to - body,
				 b.audience, 0);
		}
		free(starts);
	} else {
		bw_response_problem(res, 415, batch_types);
		goto done;
	}
	bw_response_json(res, 200, json_pack("{s:s, s:s, s:I, s:I, s:O}",
		"api_version", BW_API_VERSION, "version", bw_kb_version(app->kb),
		"count", (json_int_t)json_array_size(b.results), "failed", (json_int_t)b.failed,
		"results", b.results));
done:
	json_decref(b.results);
	json_decref(doc);
}

/*
 * explain.c - from input bytes to findings: the classifier's pipeline.
 *
 * Bytes are made valid UTF-8 and bounded; an email or mbox goes through
 * email.c, anything else through the plain-text splitter. Each segment's
 * facts are read, the best rule is found, and the finding is built from the
 * rule, the enhanced status code or the reply code, in that order of trust.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "facts.h"
#include "kb.h"
#include "segment.h"

const json_t *bw_kb_status_entry(const bw_kb *kb, const char *status);
const json_t *bw_kb_reply_entry(const bw_kb *kb, int reply);

static const char *const msg_kinds[] = {"text", "bounce", "feedback", "autoreply", "not_bounce"};
static const char *const input_kinds[] = {"text", "email", "mbox"};

/* Replaces every "{name}" of s by its value; unknown names stay as written. */
static json_t *fill(const char *s, const char *const *names, const char *const *values)
{
	size_t cap = strlen(s) + 256, n = 0;
	char *out = malloc(cap);
	json_t *j;

	if (out == NULL)
		return NULL;
	while (*s) {
		const char *v = NULL;
		size_t klen = 0;
		if (*s == '{') {
			for (size_t i = 0; names[i]; i++) {
				size_t l = strlen(names[i]);
				if (strncmp(s + 1, names[i], l) == 0 && s[1 + l] == '}') {
					v = values[i];
					klen = l + 2;
					break;
				}
			}
		}
		size_t add = v ? strlen(v) : 1;
		if (n + add + 1 > cap) {
			cap = (n + add + 1) * 2;
			char *o = realloc(out, cap);
			if (o == NULL) {
				free(out);
				return NULL;
			}
			out = o;
		}
		if (v) {
			memcpy(out + n, v, add);
			s += klen;
		} else {
			out[n] = *s++;
		}
		n += add;
	}
	out[n] = '\0';
	j = json_stringn(out, n);
	free(out);
	return j;
}

static json_t *fill_steps(const json_t *arr, const char *const *names, const char *const *values)
{
	json_t *out = json_array();
	size_t i;
	json_t *s;

	json_array_foreach(arr, i, s) json_array_append_new(out, fill(json_string_value(s), names, values));
	return out;
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* A blocklist URL with the IP filled in; without an IP, the list's home page. */
static json_t *bl_url(const json_t *bl, const char *key, const char *ip)
{
	const char *u = json_string_value(json_object_get(bl, key));
	const char *names[] = {"ip", NULL};
	const char *values[] = {ip, NULL};

	if (u == NULL)
		return json_null();
	if (strstr(u, "{ip}") && (ip == NULL || *ip == '\0')) {
		const char *home = json_string_value(json_object_get(bl, "home_url"));
		if (home)
			return json_string(home);
		values[0] = "";
	}
	return fill(u, names, values);
}

static json_t *blocklist_json(const json_t *bl, const char *ip)
{
	const json_t *zones = json_object_get(bl, "zones");
	const char *zone = json_string_value(json_object_get(json_array_get(zones, 0), "zone"));

	return json_pack("{s:O, s:O, s:o, s:o, s:o, s:o, s:o}",
			 "id", json_object_get(bl, "id"), "name", json_object_get(bl, "name"),
			 "operator", str_or_null(json_string_value(json_object_get(bl, "operator"))),
			 "zone", str_or_null(zone),
			 "kind", str_or_null(json_string_value(json_object_get(bl, "kind"))),
			 "lookup_url", bl_url(bl, "lookup_url", ip),
			 "delist_url", bl_url(bl, "delist_url", ip));
}

typedef struct seg_view {
	const bw_message *msg;
	const bw_segment *seg;
	size_t msg_index;
} seg_view;

/* Builds the finding of one segment, or NULL when the text holds no bounce. */
static json_t *finding_new(const bw_kb *kb, bw_scratch *sc, const seg_view *v,
			   const char *audience, int *oom)
{
	const bw_segment *seg = v->seg;
	const char *text = seg->text ? seg->text : "";
	size_t len = seg->text ? seg->len : 0;
	bw_facts f;
	bw_match m = {0};
	const char *reason = NULL, *source = "none";
	const json_t *st_entry, *rp_entry, *r;
	const char *status;
	int reply, temporary, structured;
	const bw_rule *rule = NULL;
	json_t *fnd;

	bw_facts_extract(text, len, &f);
	status = seg->status && *seg->status ? seg->status : f.status;
	reply = seg->reply_code ? seg->reply_code : f.reply_code;
	structured = v->msg->kind != BW_MSG_TEXT || seg->recipient != NULL || seg->kind != BW_SEG_FAILED;

	switch (seg->kind) {
	case BW_SEG_VACATION: reason = "vacation"; source = "autoreply"; break;
	case BW_SEG_FEEDBACK: reason = "feedback"; source = "feedback"; break;
	case BW_SEG_DELIVERED: reason = "delivered"; source = "dsn"; break;
	default: break;
	}
	st_entry = bw_kb_status_entry(kb, status);
	rp_entry = reply ? bw_kb_reply_entry(kb, reply) : NULL;
	if (reason == NULL && len > 0) {
		int rc = bw_match_best(kb, sc, text, len, reply, status, &m);
		if (rc < 0)
			return NULL;
		if (rc == 1) {
			rule = m.rule;
			/* A generic phrase (negative priority) yields to a specific status code. */
			if (rule->priority < 0 && json_is_string(json_object_get(st_entry, "reason")))
				rule = NULL;
		}
		if (rule) {
			reason = rule->reason;
			source = "rule";
		}
	}
	if (reason == NULL && json_is_string(json_object_get(st_entry, "reason"))) {
		reason = json_string_value(json_object_get(st_entry, "reason"));
		source = "status";
	}
	if (reason == NULL && json_is_string(json_object_get(rp_entry, "reason"))) {
		reason = json_string_value(json_object_get(rp_entry, "reason"));
		source = "reply";
	}
	if (reason == NULL) {
		/* Plain text with nothing that reads as a failure is no bounce. */
		if (!structured && reply < 400 && (status[0] != '4' && status[0] != '5'))
			return NULL;
		reason = "undefined";
	}
	r = bw_kb_reason(kb, reason);
	if (r == NULL)
		r = bw_kb_reason(kb, "undefined");
	if (r == NULL)
		return NULL;

	json_t *rt = json_object_get(r, "temporary");
	if (rule && rule->temporary >= 0)
		temporary = rule->temporary;
	else if (json_is_boolean(rt))
		temporary = json_is_true(rt);
	else if (seg->kind == BW_SEG_DELAYED)
		temporary = 1;
	else if (status[0] == '4' || status[0] == '5')
		temporary = status[0] == '4';
	else if (reply)
		temporary = reply / 100 == 4;
	else
		temporary = f.says_retry;
	if (seg->kind == BW_SEG_DELAYED)
		temporary = 1;

	const char *action_by = rule && rule->action_by ? rule->action_by :
		json_string_value(json_object_get(r, "action_by"));
	const char *ip = seg->source_ip && *seg->source_ip ? seg->source_ip : f.ip;
	const char *recipient = seg->recipient ? seg->recipient : f.recipient;
	const char *remote = seg->remote_mta ? seg->remote_mta : f.remote_mta;
	const json_t *bl = rule ? rule->blocklist_entry : NULL;
	json_t *bljson = bl ? blocklist_json(bl, ip) : json_null();
	char reply_s[8] = "";
	if (reply)
		snprintf(reply_s, sizeof reply_s, "%d", reply);
	const char *delist = bl ? json_string_value(json_object_get(bljson, "delist_url")) : NULL;
	const char *names[] = {"ip", "recipient", "remote_mta", "blocklist", "delist_url",
			       "status", "reply_code", NULL};
	const char *values[] = {
		*ip ? ip : "your mail server's IP address",
		*recipient ? recipient : "the recipient",
		*remote ? remote : "the receiving server",
		bl ? json_string_value(json_object_get(bl, "name")) : "a blocklist",
		delist && *delist ? delist : "the blocklist's removal page",
		*status ? status : "(none)",
		*reply_s ? reply_s : "(none)",
		NULL
	};
	const json_t *summary = rule && rule->summary ? rule->summary : json_object_get(r, "summary");
	const json_t *steps = rule && rule->steps ? rule->steps : json_object_get(r, "steps");
	const char *aud = audience && strcmp(audience, "admin") == 0 ? "admin" : "user";
	char kbpath[64], ipcheck[80];
	snprintf(kbpath, sizeof kbpath, "/kb/%s", reason);
	snprintf(ipcheck, sizeof ipcheck, "/api/v1/ip/%s", ip);

	json_t *matched = json_null();
	if (rule) {
		matched = json_pack("{s:s, s:s, s:s%, s:I, s:I}", "rule", rule->id, "file", rule->file,
				    "text", text + m.start, m.end - m.start,
				    "start", (json_int_t)m.start, "end", (json_int_t)m.end);
	}
	fnd = json_pack("{s:s, s:O, s:b, s:b, s:s, s:s, s:{s:o, s:o, s:o},"
			" s:o, s:o, s:o, s:o, s:o, s:o}",
			"reason", reason, "title", json_object_get(r, "title"),
			"temporary", temporary,
			"hard_bounce", json_is_true(json_object_get(r, "hard_bounce")) && !temporary,
			"action_by", action_by, "source", source,
			"smtp", "reply_code", reply ? json_integer(reply) : json_null(),
			"status", str_or_null(status),
			"status_text", str_or_null(json_string_value(json_object_get(st_entry, "title"))),
			"recipient", str_or_null(recipient), "remote_mta", str_or_null(remote),
			"ip", str_or_null(ip), "blocklist", bljson, "matched", matched,
			"summary", fill(json_string_value(json_object_get(summary, aud)), names, values));
	if (fnd == NULL) {
		*oom = 1;
		return NULL;
	}
	json_object_set_new(fnd, "explanation", json_pack("{s:o, s:o}",
		"user", fill(json_string_value(json_object_get(summary, "user")), names, values),
		"admin", fill(json_string_value(json_object_get(summary, "admin")), names, values)));
	json_object_set_new(fnd, "steps", json_pack("{s:o, s:o}",
		"user", fill_steps(json_object_get(steps, "user"), names, values),
		"admin", fill_steps(json_object_get(steps, "admin"), names, values)));
	json_object_set_new(fnd, "kb", json_string(kbpath));
	json_object_set_new(fnd, "ip_check", *ip ? json_string(ipcheck) : json_null());
	json_object_set_new(fnd, "action", str_or_null(seg->action));
	json_object_set_new(fnd, "agent", str_or_null(seg->agent));
	json_object_set_new(fnd, "last_attempt", str_or_null(seg->last_attempt));
	json_object_set_new(fnd, "feedback_type", str_or_null(seg->feedback_type));
	json_object_set_new(fnd, "message", json_integer((json_int_t)v->msg_index));
	json_object_set_new(fnd, "text", json_stringn(text, len));
	return fnd;
}

static json_t *original_json(const bw_message *m)
{
	if (!m->orig_from && !m->orig_to && !m->orig_subject && !m->orig_message_id && !m->orig_date)
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "from", str_or_null(m->orig_from),
			 "to", str_or_null(m->orig_to), "subject", str_or_null(m->orig_subject),
			 "message_id", str_or_null(m->orig_message_id),
			 "date", str_or_null(m->orig_date));
}

json_t *bw_explain(const bw_kb *kb, const char *data, size_t len, const bw_options *opt,
		   bw_error *err)
{
	bw_options none = {0};
	size_t max, n, clen = 0;
	int changed = 0, oom = 0;
	char *clean;
	bw_input in = {0};
	bw_scratch *sc;
	json_t *res, *findings, *messages;

	if (opt == NULL)
		opt = &none;
	max = opt->max_input ? opt->max_input : BW_MAX_INPUT_DEFAULT;
	n = len > max ? max : len;
	if ((sc = bw_scratch_get(kb)) == NULL)
		goto oom;
	if ((clean = bw_utf8_clean(data, n, &clen, &changed)) == NULL)
		goto oom;

	if (!opt->single && bw_email_detect(clean, clen) &&
	    bw_email_parse(clean, clen, &in, NULL) == 0 && in.nmsgs > 0) {
		/* parsed as email */
	} else {
		bw_input_free(&in);
		bw_message *msg = bw_input_add_message(&in);
		in.kind = BW_INPUT_TEXT;
		if (msg == NULL)
			goto oom_clean;
		msg->kind = BW_MSG_TEXT;
		if (opt->single) {
			bw_segment *s = bw_message_add_segment(msg);
			if (s == NULL || (s->text = bw_strndup(clean, clen)) == NULL)
				goto oom_clean;
			s->len = clen;
		} else if (bw_text_split(clean, clen, msg) < 0) {
			goto oom_clean;
		}
	}

	findings = json_array();
	messages = json_array();
	res = json_pack("{s:s, s:s, s:{s:s, s:I, s:b, s:b}, s:o, s:o}",
			"api_version", BW_API_VERSION, "version", bw_kb_version(kb),
			"input", "kind", input_kinds[in.kind], "bytes", (json_int_t)len,
			"truncated", len > max, "replaced_invalid_utf8", changed,
			"messages", messages, "findings", findings);
	if (res == NULL)
		goto oom_clean;
	for (size_t i = 0; i < in.nmsgs; i++) {
		const bw_message *m = &in.msgs[i];
		size_t before = json_array_size(findings);
		for (size_t j = 0; j < m->nsegs; j++) {
			seg_view v = {m, &m->segs[j], i};
			json_t *fj = finding_new(kb, sc, &v, opt->audience, &oom);
			if (oom) {
				json_decref(res);
				goto oom_clean;
			}
			if (fj)
				json_array_append_new(findings, fj);
		}
		json_array_append_new(messages, json_pack("{s:I, s:s, s:o, s:I}",
			"index", (json_int_t)i, "kind", msg_kinds[m->kind],
			"original", original_json(m),
			"findings", (json_int_t)(json_array_size(findings) - before)));
	}
	if (len > max)
		json_object_set_new(json_object_get(res, "input"), "window", json_integer((json_int_t)max));
	bw_input_free(&in);
	free(clean);
	return res;
oom_clean:
	bw_input_free(&in);
	free(clean);
oom:
	if (err)
		snprintf(err->text, sizeof err->text, "out of memory");
	return NULL;
}

json_t *bw_kb_check_examples(const bw_kb *kb, size_t *failed)
{
	json_t *all = json_array();
	bw_options o = {.single = 1};
	size_t nfail = 0;

	for (size_t i = 0; i < kb->nrules; i++) {
		const bw_rule *r = &kb->rules[i];
		size_t j;
		json_t *ex;
		json_array_foreach(r->examples, j, ex) {
			const char *s = json_string_value(ex);
			json_t *res = s ? bw_explain(kb, s, strlen(s), &o, NULL) : NULL;
			json_t *f0 = json_array_get(json_object_get(res, "findings"), 0);
			const char *got = json_string_value(json_object_get(f0, "reason"));
			const char *gotbl = json_string_value(json_object_get(json_object_get(f0, "blocklist"), "id"));
			const char *gotrule = json_string_value(json_object_get(json_object_get(f0, "matched"), "rule"));
			int ok = got && strcmp(got, r->reason) == 0 &&
				 (r->blocklist == NULL || (gotbl && strcmp(gotbl, r->blocklist) == 0));
			nfail += !ok;
			json_array_append_new(all, json_pack("{s:s, s:s, s:O, s:b, s:s?, s:s?, s:s?}",
				"rule", r->id, "file", r->file, "example", ex, "ok", ok,
				"got_reason", got, "got_rule", gotrule, "got_blocklist", gotbl));
			json_decref(res);
		}
	}
	if (failed)
		*failed = nfail;
	return all;
}

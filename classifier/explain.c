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
#include "webhook.h"	/* contract work: provider notifications */


static const char *const msg_kinds[] = {"text", "bounce", "feedback", "autoreply", "not_bounce"};
static const char *const input_kinds[] = {"text", "email", "mbox"};

/*
 * A JSON string of s[0..n). The library's own UTF-8 check (eight ASCII
 * bytes at a time, and stricter than jansson's) vouches for most strings;
 * what it refuses still goes through jansson's check, so the answer is the
 * same as json_stringn's: a string, or NULL for bytes that are not UTF-8.
 */
static json_t *str_n(const char *s, size_t n)
{
	return bw_utf8_valid(s, n) ? json_stringn_nocheck(s, n) : json_stringn(s, n);
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? str_n(s, strlen(s)) : json_null();
}

/* A non-empty string of the kb, shared (strings are never changed once made), or null. */
static json_t *kb_str_or_null(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 0 ? json_incref((json_t *)v) :
		json_null();
}

/* Appends s[0..n) to out (cap bytes, stack is its first, on-stack, memory). 0 or -1. */
static int put(char **out, size_t *len, size_t *cap, char *stack, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = (*len + n + 1) * 2;
		char *o = *out == stack ? malloc(ncap) : realloc(*out, ncap);
		if (o == NULL)
			return -1;
		if (*out == stack)
			memcpy(o, stack, *len);
		*out = o;
		*cap = ncap;
	}
	memcpy(*out + *len, s, n);
	*len += n;
	return 0;
}

static size_t len_or_0(const char *s)
{
	return s ? strlen(s) : 0;
}

/* A placeholder of the kb's texts ("{ip}") and what it stands for. */
typedef struct var {
	const char *name, *value;
	size_t nlen, vlen;
} var_t;

/* (a NULL value: the placeholder stays as written) */
#define VAR(name, value) { name, value, sizeof name - 1, len_or_0(value) }
#define VAR_NAME_MAX 16	/* longer than any name of a var_t */

/*
 * The var whose name is written at p, up to a '}' (p follows a '{'), or
 * NULL. vars ends with a NULL name.
 */
static const var_t *var_at(const char *p, const var_t *vars)
{
	const char *e = p;

	while (*e && *e != '}' && *e != '{' && e - p < VAR_NAME_MAX)
		e++;
	if (*e != '}')
		return NULL;
	for (const var_t *v = vars; v->name; v++)
		if (v->nlen == (size_t)(e - p) && memcmp(p, v->name, v->nlen) == 0)
			return v->value ? v : NULL;
	return NULL;
}

/* Replaces every "{name}" of s by its value; unknown names stay as written. */
static json_t *fill(const char *s, const var_t *vars)
{
	char stack[1024];
	size_t cap = sizeof stack, n = 0;
	char *out = stack;
	json_t *j = NULL;

	for (;;) {
		const char *b = strchr(s, '{');
		const var_t *v;

		if (put(&out, &n, &cap, stack, s, b ? (size_t)(b - s) : strlen(s)) < 0)
			goto done;
		if (b == NULL)
			break;
		if ((v = var_at(b + 1, vars)) != NULL) {
			if (put(&out, &n, &cap, stack, v->value, v->vlen) < 0)
				goto done;
			s = b + v->nlen + 2;
		} else {
			/* a '{' of the text itself */
			if (put(&out, &n, &cap, stack, "{", 1) < 0)
				goto done;
			s = b + 1;
		}
	}
	j = str_n(out, n);
done:
	if (out != stack)
		free(out);
	return j;
}

/*
 * A text of the kb with its placeholders filled. Most texts have none: the
 * kb's own string is shared then (strings are never changed once made).
 */
static json_t *fill_json(const json_t *text, const var_t *vars)
{
	const char *s = json_string_value(text);

	if (s == NULL)
		return NULL;
	if (strchr(s, '{') == NULL)
		return json_incref((json_t *)text);
	return fill(s, vars);
}

/*
 * The steps of a kb list with their placeholders filled. A list without
 * any placeholder is shared as it is, like its strings: nothing changes
 * the arrays of an answer (the kb's arrays are never changed once made).
 */
static json_t *fill_steps(const json_t *arr, const var_t *vars)
{
	json_t *out, *s;
	size_t i;

	if (!json_is_array(arr))
		return json_array();	/* no steps: an empty list, as always */
	json_array_foreach(arr, i, s) {
		const char *t = json_string_value(s);
		if (t == NULL || strchr(t, '{'))
			break;
	}
	if (i == json_array_size(arr))
		return json_incref((json_t *)arr);
	if ((out = json_array()) == NULL)
		return NULL;
	json_array_foreach(arr, i, s) {
		if (json_array_append_new(out, fill_json(s, vars)) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* A blocklist URL with the IP filled in; without an IP, the list's home page. */
static json_t *bl_url(const json_t *bl, const char *key, const char *ip)
{
	const json_t *u = json_object_get(bl, key);
	var_t vars[] = {VAR("ip", ip ? ip : ""), {NULL, NULL, 0, 0}};

	if (!json_is_string(u))
		return json_null();
	if (strstr(json_string_value(u), "{ip}") && (ip == NULL || *ip == '\0')) {
		const json_t *home = json_object_get(bl, "home_url");
		if (json_is_string(home))
			return json_incref((json_t *)home);
	}
	return fill_json(u, vars);
}

/* Sets key of o to v (stolen); any failure, a NULL v included, is remembered in *bad. */
static void put_kv(json_t *o, const char *key, json_t *v, int *bad)
{
	if (json_object_set_new_nocheck(o, key, v) < 0)
		*bad = 1;
}

/* A JSON string of s, or NULL (a failure, as json_pack's) when there is no s. */
static json_t *str_req(const char *s)
{
	return s ? str_n(s, strlen(s)) : NULL;
}

/* snprintf(dst, cap, "%s%s", a, b) without the formatting */
static void cat2(char *dst, size_t cap, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la >= cap)
		la = cap - 1;
	if (lb >= cap - la)
		lb = cap - 1 - la;
	memcpy(dst, a, la);
	memcpy(dst + la, b, lb);
	dst[la + lb] = '\0';
}

/* The blocklist of a finding; *delist is its delist URL (borrowed from the answer). */
static json_t *blocklist_json(const json_t *bl, const char *ip, const char **delist)
{
	const json_t *zones = json_object_get(bl, "zones");
	const json_t *id = json_object_get(bl, "id"), *name = json_object_get(bl, "name");
	json_t *o, *d;
	int bad = 0;

	*delist = NULL;
	if (id == NULL || name == NULL || (o = json_object()) == NULL)
		return NULL;
	put_kv(o, "id", json_incref((json_t *)id), &bad);
	put_kv(o, "name", json_incref((json_t *)name), &bad);
	put_kv(o, "operator", kb_str_or_null(json_object_get(bl, "operator")), &bad);
	put_kv(o, "zone", kb_str_or_null(json_object_get(json_array_get(zones, 0), "zone")), &bad);
	put_kv(o, "kind", kb_str_or_null(json_object_get(bl, "kind")), &bad);
	put_kv(o, "lookup_url", bl_url(bl, "lookup_url", ip), &bad);
	put_kv(o, "delist_url", d = bl_url(bl, "delist_url", ip), &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	*delist = json_string_value(d);
	return o;
}

/* Does a notice say the sending queue is still trying (a delay warning)? */
static int says_still_retrying(const char *text)
{
	static const char *const says[] = {
		"will be retried", "will retry", "will continue to try", "will keep trying",
		"still trying", "has been delayed", "not yet been delivered",
		"warning message only", "this is only a warning", NULL
	};

	for (int i = 0; says[i]; i++)
		if (strcasestr(text, says[i]))
			return 1;
	return 0;
}

typedef struct seg_view {
	const bw_message *msg;
	const bw_segment *seg;
	size_t msg_index;
} seg_view;

/* What one segment comes to, before any JSON is made. */
typedef struct verdict {
	const char *reason, *source;
	const bw_rule *rule;
	bw_match m;
	const json_t *st_entry, *r;
	const bw_reason_info *ri;	/* r's fields */
	const char *status;
	const char *command;	/* the SMTP command the failure answered, or NULL */
	int reply, temporary;
} verdict;

/*
 * The cause an expiry notice names: the best rule over the text with the
 * expiry's own words blanked out, when that rule is about something else
 * than the expiry or a delay. 0 (cause NULL when none), -1 on ENOMEM.
 */
static int expiry_cause(const bw_kb *kb, bw_scratch *sc, const char *text, size_t len,
			verdict *v, const bw_rule **cause)
{
	char *t = malloc(len + 1);
	bw_match m;
	int rc;

	*cause = NULL;
	if (t == NULL)
		return -1;
	memcpy(t, text, len);
	t[len] = '\0';
	memset(t + v->m.start, ' ', v->m.end - v->m.start);
	rc = bw_match_best(kb, sc, t, len, v->reply, v->status, &m);
	free(t);
	if (rc < 0)
		return -1;
	if (rc == 1 && m.rule->priority >= 0 && strcmp(m.rule->reason, "expired") != 0 &&
	    strcmp(m.rule->reason, "onhold") != 0 && strcmp(m.rule->reason, "undefined") != 0) {
		*cause = m.rule;
		v->m = m;
	}
	return 0;
}

/* "X.Y.0": a status code whose detail is "other or undefined" */
static int status_is_vague(const char *st)
{
	size_t n = strlen(st);

	return n >= 5 && st[n - 1] == '0' && st[n - 2] == '.';
}

/* Does an enhanced status name its subject ("5.7.0": policy), not "other" (X.0.x)? */
static int status_has_subject(const char *st)
{
	return strlen(st) >= 5 && strncmp(st + 1, ".0.", 3) != 0;
}

/* Is a (a reason or a command) the string b? The first byte settles most. */
static inline int is(const char *a, const char *b)
{
	return a[0] == b[0] && strcmp(a, b) == 0;
}

/* The SMTP command, read off the rule scan's finds the first time it is asked for. */
typedef struct lazy_cmd {
	const char *command;
	int pending;		/* command not read yet from found */
	bw_command_found found;
} lazy_cmd;

static const char *cmd_get(lazy_cmd *c)
{
	if (c->pending) {
		c->command = bw_command_found_end(&c->found);
		c->pending = 0;
	}
	return c->command;
}

/*
 * Decides one segment: 1 with *v filled, 0 when the text holds no bounce,
 * -1 on error. f must hold the facts of the segment's text. want_command 0:
 * v->command is left NULL, and the command is worked out only when the
 * decision depends on it.
 */
static int decide_as(const bw_kb *kb, bw_scratch *sc, int msg_kind, const bw_segment *seg,
		     bw_facts *f, verdict *v, int want_command)
{
	const char *text = seg->text ? seg->text : "";
	size_t len = seg->text ? seg->len : 0;
	const bw_code *stc, *rpc;
	lazy_cmd cmd;
	int structured, scanned = 0;

	memset(v, 0, sizeof *v);
	v->source = "none";
	v->status = seg->status && *seg->status ? seg->status : f->status;
	/*
	 * A report's Status of "other" (X.0.0, X.1.0: the reporting MTA's own
	 * summary) gives way to the more precise code of the same class that
	 * the receiving server wrote in the diagnostic text.
	 */
	if (v->status != f->status && status_is_vague(v->status) && f->status[0] == v->status[0] &&
	    !status_is_vague(f->status))
		v->status = f->status;
	v->reply = seg->reply_code ? seg->reply_code : f->reply_code;
	structured = msg_kind != BW_MSG_TEXT || seg->recipient != NULL || seg->kind != BW_SEG_FAILED;
	/* the SMTP command the failure answered (command.c), found with the rules below */
	cmd.command = seg->command;
	cmd.pending = 0;

	switch (seg->kind) {
	case BW_SEG_VACATION: v->reason = "vacation"; v->source = "autoreply"; break;
	case BW_SEG_FEEDBACK:
		/* an authentication failure report (RFC 6591) is about a message
		 * that failed SPF, DKIM or DMARC, not a complaint: nobody asked
		 * to be taken off a list */
		v->reason = seg->feedback_type && !strcmp(seg->feedback_type, "auth-failure") ?
			"authfailure" : "feedback";
		v->source = "feedback";
		break;
	case BW_SEG_DELIVERED: v->reason = "delivered"; v->source = "dsn"; break;
	default: break;
	}
	stc = bw_kb_status_code(kb, v->status);
	v->st_entry = stc ? stc->entry : NULL;
	rpc = v->reply ? bw_kb_reply_code(kb, v->reply) : NULL;
	if (v->reason == NULL && len > 0) {
		int rc;
		if (cmd.command) {
			rc = bw_match_best(kb, sc, text, len, v->reply, v->status, &v->m);
		} else {
			rc = bw_match_best_found(kb, sc, text, len, v->reply, v->status, &v->m,
						 &cmd.found);
			cmd.pending = 1;
			/* the scan looked for the retry words too */
			if (f->says_retry < 0 && cmd.found.retry >= 0)
				f->says_retry = cmd.found.retry;
		}
		scanned = 1;
		if (rc < 0)
			return -1;
		if (rc == 1) {
			v->rule = v->m.rule;
			/* A generic phrase (negative priority) yields to a specific status code. */
			if (v->rule->priority < 0 && stc && stc->reason)
				v->rule = NULL;
		}
		if (v->rule) {
			v->reason = v->rule->reason;
			v->source = "rule";
		}
	}
	if (!scanned && cmd.command == NULL)
		cmd.command = bw_command_scan(text, len);
	if (want_command)
		v->command = cmd_get(&cmd);
	if (v->rule && is(v->rule->reason, "expired")) {
		const bw_rule *cause = NULL;

		if (expiry_cause(kb, sc, text, len, v, &cause) < 0)
			return -1;
		/*
		 * The queue gave up, and the text says on what. A connection that
		 * never succeeded is what "expired" means; any other last error
		 * (a full mailbox, a failed DNS lookup, a directory server down)
		 * says more, and what to do about it, than the expiry does.
		 */
		if (cause && (seg->kind == BW_SEG_DELAYED ||
			      !(is(cause->reason, "networkerror") && cmd_get(&cmd) &&
				is(cmd_get(&cmd), "CONN")))) {
			v->rule = cause;
			v->reason = cause->reason;
		} else if (seg->kind == BW_SEG_DELAYED &&
			   !(strlen(v->status) == 5 && strcmp(v->status + 1, ".4.7") == 0)) {
			/* "could not be delivered for 4 hours" in a delay warning:
			 * nothing has expired yet */
			v->reason = "onhold";
		}
	}
	if (v->reason == NULL && stc && stc->reason) {
		v->reason = stc->reason;
		v->source = "status";
	}
	/*
	 * The basic reply code says least: "552" is a full mailbox only when
	 * no enhanced status says what it is about ("552 5.7.0" is a policy
	 * refusal). An "other" status (X.0.0) says nothing, and leaves it to
	 * the reply code.
	 */
	if (v->reason == NULL && rpc && rpc->reason && !status_has_subject(v->status)) {
		v->reason = rpc->reason;
		v->source = "reply";
	}
	/*
	 * A recipient refused after the message data was sent had been
	 * accepted at RCPT TO: the mailbox exists, and "user unknown" at that
	 * point is a filter for that recipient speaking (a per-user block or
	 * allow list, a content rule), not a missing address.
	 */
	if (v->reason && is(v->reason, "userunknown") && cmd_get(&cmd) &&
	    is(cmd_get(&cmd), "DATA"))
		v->reason = "filtered";
	/*
	 * A refusal in reply to MAIL FROM is about the sender's address: "does
	 * not exist" there means the sender's mailbox or domain, not the
	 * recipient's.
	 */
	if (v->reason && (is(v->reason, "userunknown") || is(v->reason, "hostunknown")) &&
	    cmd_get(&cmd) && is(cmd_get(&cmd), "MAIL"))
		v->reason = "rejected";
	/*
	 * A final failure (not a delay warning) whose cause is that the
	 * receiving server could not be reached: the sending queue retried
	 * the connection until it gave up, so the message expired there.
	 */
	if (v->reason && is(v->reason, "networkerror") && cmd_get(&cmd) &&
	    is(cmd_get(&cmd), "CONN") && msg_kind == BW_MSG_BOUNCE &&
	    seg->kind == BW_SEG_FAILED && !says_still_retrying(text))
		v->reason = "expired";
	/*
	 * A delay warning that gives no cause: the message is still queued
	 * and being retried, which is what "on hold" says.
	 */
	if (v->reason == NULL && seg->kind == BW_SEG_DELAYED)
		v->reason = "onhold";
	if (v->reason == NULL) {
		/* Plain text with nothing that reads as a failure is no bounce. */
		if (!structured && v->reply < 400 && v->status[0] != '4' && v->status[0] != '5')
			return 0;
		v->reason = "undefined";
	}
	/* the rule's reason as it stands: its entry was looked up at load */
	v->ri = v->rule && v->reason == v->rule->reason ? v->rule->ri :
		bw_kb_reason_info(kb, v->reason);
	if (v->ri == NULL) {
		v->reason = "undefined";
		v->ri = bw_kb_reason_info(kb, "undefined");
	}
	if (v->ri == NULL)
		return 0;
	v->r = v->ri->entry;
	if (seg->kind == BW_SEG_DELAYED)
		v->temporary = 1;
	else if (v->rule && v->rule->temporary >= 0)
		v->temporary = v->rule->temporary;
	else if (v->ri->temporary >= 0)
		v->temporary = v->ri->temporary;
	else if (v->status[0] == '4' || v->status[0] == '5')
		v->temporary = v->status[0] == '4';
	else if (v->reply)
		v->temporary = v->reply / 100 == 4;
	else
		v->temporary = bw_facts_says_retry(text, len, f);
	return 1;
}

static int decide(const bw_kb *kb, bw_scratch *sc, int msg_kind, const bw_segment *seg,
		  bw_facts *f, verdict *v)
{
	return decide_as(kb, sc, msg_kind, seg, f, v, 1);
}

/* snprintf(dst, cap, "%s", src) without the formatting */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int bw_classify(const bw_kb *kb, const char *text, size_t len, bw_verdict *out)
{
	bw_scratch *sc = bw_scratch_get(kb);
	bw_segment seg = {0};
	bw_facts f;
	verdict v;
	char *clean = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if (sc == NULL)
		return -1;
	if (!bw_text_is_plain(text, len)) {
		size_t cl;
		if ((clean = bw_utf8_clean(text, len, &cl, NULL)) == NULL)
			return -1;
		len = bw_text_fold(clean, cl);
		text = clean;
	}
	seg.text = (char *)text;
	seg.len = len;
	bw_facts_extract_codes(text, len, &f);
	rc = decide_as(kb, sc, BW_MSG_TEXT, &seg, &f, &v, 0);
	if (rc == 1) {
		out->reason = v.ri->id;
		out->rule = v.rule ? v.rule->id : NULL;
		out->blocklist = v.rule ? v.rule->blocklist : NULL;
		out->temporary = v.temporary;
		out->hard_bounce = v.ri->hard_bounce && !v.temporary;
		out->action_by = v.rule && v.rule->action_by ? v.rule->action_by : v.ri->action_by;
		out->reply_code = v.reply;
		copy_str(out->status, sizeof out->status, v.status);
		copy_str(out->ip, sizeof out->ip, f.ip);
		out->match_start = v.rule ? v.m.start : 0;
		out->match_end = v.rule ? v.m.end : 0;
	}
	free(clean);
	return rc < 0 ? -1 : rc;
}

/* The reason's action_by, shared with the kb; NULL (a failure) when it has none. */
static json_t *reason_action_by(const json_t *r)
{
	const json_t *a = json_object_get(r, "action_by");

	return json_is_string(a) ? json_incref((json_t *)a) : NULL;
}

/* The reply code as text, "" when there is none; three digits without snprintf. */
static void reply_str(char buf[8], int reply)
{
	if (reply >= 100 && reply <= 999) {
		buf[0] = (char)('0' + reply / 100);
		buf[1] = (char)('0' + reply / 10 % 10);
		buf[2] = (char)('0' + reply % 10);
		buf[3] = '\0';
	} else if (reply) {
		snprintf(buf, 8, "%d", reply);
	} else {
		buf[0] = '\0';
	}
}

/* Builds the finding of one segment, or NULL when the text holds no bounce. */
static json_t *finding_new(const bw_kb *kb, bw_scratch *sc, const seg_view *sv,
			   const char *audience, int *oom)
{
	const bw_segment *seg = sv->seg;
	const char *text = seg->text ? seg->text : "";
	size_t len = seg->text ? seg->len : 0;
	bw_facts f;
	verdict v;
	json_t *fnd;

	bw_facts_extract_fast(text, len, &f);
	if (decide(kb, sc, sv->msg->kind, seg, &f, &v) != 1)
		return NULL;
	const bw_rule *rule = v.rule;
	const bw_match m = v.m;
	const json_t *r = v.r, *st_entry = v.st_entry;
	const char *reason = v.reason, *source = v.source, *status = v.status;
	int reply = v.reply, temporary = v.temporary;

	const char *ip = seg->source_ip && *seg->source_ip ? seg->source_ip : f.ip;
	const char *recipient = seg->recipient ? seg->recipient : f.recipient;
	const char *remote = seg->remote_mta ? seg->remote_mta : f.remote_mta;
	const json_t *bl = rule ? rule->blocklist_entry : NULL;
	const char *delist = NULL;
	json_t *bljson = bl ? blocklist_json(bl, ip, &delist) : json_null();
	char reply_s[8] = "";
	reply_str(reply_s, reply);
	const var_t vars[] = {
		VAR("ip", *ip ? ip : "your mail server's IP address"),
		VAR("recipient", *recipient ? recipient : "the recipient"),
		VAR("remote_mta", *remote ? remote : "the receiving server"),
		VAR("blocklist", bl ? json_string_value(json_object_get(bl, "name")) : "a blocklist"),
		VAR("delist_url", delist && *delist ? delist : "the blocklist's removal page"),
		VAR("status", *status ? status : "(none)"),
		VAR("reply_code", *reply_s ? reply_s : "(none)"),
		{NULL, NULL, 0, 0}
	};
	const json_t *summary = rule && rule->summary ? rule->summary : json_object_get(r, "summary");
	const json_t *steps = rule && rule->steps ? rule->steps : json_object_get(r, "steps");
	const char *aud = audience && strcmp(audience, "admin") == 0 ? "admin" : "user";
	char kbpath[64], ipcheck[80];
	cat2(kbpath, sizeof kbpath, "/kb/", reason);
	cat2(ipcheck, sizeof ipcheck, "/api/v1/ip/", ip);

	json_t *sum_user = fill_json(json_object_get(summary, "user"), vars);
	json_t *sum_admin = fill_json(json_object_get(summary, "admin"), vars);
	json_t *matched = json_null(), *smtp, *o;
	int bad = 0;
	if (rule) {
		const char *base = strrchr(rule->file, '/');
		if ((matched = json_object()) != NULL) {
			put_kv(matched, "rule", str_req(rule->id), &bad);
			put_kv(matched, "file", str_req(base ? base + 1 : rule->file), &bad);
			put_kv(matched, "text", str_n(text + m.start, m.end - m.start), &bad);
			put_kv(matched, "start", json_integer((json_int_t)m.start), &bad);
			put_kv(matched, "end", json_integer((json_int_t)m.end), &bad);
		}
	}
	/*
	 * Built key by key (json_pack would parse its format on every call);
	 * the kb's strings are shared, not copied. The keys come in the order
	 * of the answer.
	 */
	fnd = json_object();
	put_kv(fnd, "reason", str_req(reason), &bad);
	put_kv(fnd, "title", json_incref((json_t *)json_object_get(r, "title")), &bad);
	put_kv(fnd, "temporary", json_boolean(temporary), &bad);
	/* (the reason's hard_bounce was read at load: v.ri) */
	put_kv(fnd, "hard_bounce", json_boolean(v.ri->hard_bounce && !temporary), &bad);
	put_kv(fnd, "action_by", rule && rule->action_by ? str_req(rule->action_by) :
	       reason_action_by(r), &bad);
	put_kv(fnd, "source", str_req(source), &bad);
	if ((smtp = json_object()) != NULL) {
		put_kv(smtp, "reply_code", reply ? json_integer(reply) : json_null(), &bad);
		put_kv(smtp, "status", str_or_null(status), &bad);
		put_kv(smtp, "status_text", kb_str_or_null(json_object_get(st_entry, "title")), &bad);
		put_kv(smtp, "command", str_or_null(v.command), &bad);
	}
	put_kv(fnd, "smtp", smtp, &bad);
	put_kv(fnd, "recipient", str_or_null(recipient), &bad);
	put_kv(fnd, "remote_mta", str_or_null(remote), &bad);
	put_kv(fnd, "ip", str_or_null(ip), &bad);
	put_kv(fnd, "blocklist", bljson, &bad);
	put_kv(fnd, "matched", matched, &bad);
	/* the summary is one of the two explanations: filled once, shared */
	put_kv(fnd, "summary", json_incref(aud[0] == 'a' ? sum_admin : sum_user), &bad);
	if ((o = json_object()) != NULL) {
		put_kv(o, "user", sum_user, &bad);
		put_kv(o, "admin", sum_admin, &bad);
	} else {
		json_decref(sum_user);
		json_decref(sum_admin);
	}
	put_kv(fnd, "explanation", o, &bad);
	if ((o = json_object()) != NULL) {
		put_kv(o, "user", fill_steps(json_object_get(steps, "user"), vars), &bad);
		put_kv(o, "admin", fill_steps(json_object_get(steps, "admin"), vars), &bad);
	}
	put_kv(fnd, "steps", o, &bad);
	put_kv(fnd, "kb", str_req(kbpath), &bad);
	put_kv(fnd, "ip_check", *ip ? str_req(ipcheck) : json_null(), &bad);
	put_kv(fnd, "action", str_or_null(seg->action), &bad);
	put_kv(fnd, "agent", str_or_null(seg->agent), &bad);
	put_kv(fnd, "last_attempt", str_or_null(seg->last_attempt), &bad);
	put_kv(fnd, "feedback_type", str_or_null(seg->feedback_type), &bad);
	put_kv(fnd, "message", json_integer((json_int_t)sv->msg_index), &bad);
	put_kv(fnd, "text", str_n(text, len), &bad);
	if (bad) {
		json_decref(fnd);
		*oom = 1;
		return NULL;
	}
	return fnd;
}

static json_t *original_json(const bw_message *m)
{
	if (!m->orig_from && !m->orig_to && !m->orig_subject && !m->orig_message_id && !m->orig_date)
		return json_null();
	json_t *o = json_object();
	int bad = 0;

	put_kv(o, "from", str_or_null(m->orig_from), &bad);
	put_kv(o, "to", str_or_null(m->orig_to), &bad);
	put_kv(o, "subject", str_or_null(m->orig_subject), &bad);
	put_kv(o, "message_id", str_or_null(m->orig_message_id), &bad);
	put_kv(o, "date", str_or_null(m->orig_date), &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
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
	json_t *res, *findings, *messages, *input;

	if (opt == NULL)
		opt = &none;
	max = opt->max_input ? opt->max_input : BW_MAX_INPUT_DEFAULT;
	n = len > max ? max : len;
	if ((sc = bw_scratch_get(kb)) == NULL)
		goto oom;
	if ((clean = bw_utf8_clean(data, n, &clen, &changed)) == NULL)
		goto oom;
	clen = bw_text_fold(clean, clen);

	/* webhook.c (contract work): a provider's JSON bounce notification */
	if (!opt->single && bw_webhook_parse(clean, clen, &in) > 0) {
		/* parsed as provider events */
	} else if (!opt->single && bw_email_detect(clean, clen) &&
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

	{
		int bad = 0;
		res = json_object();
		put_kv(res, "api_version", str_req(BW_API_VERSION), &bad);
		put_kv(res, "version", str_req(bw_kb_version(kb)), &bad);
		if ((input = json_object()) != NULL) {
			put_kv(input, "kind", str_req(input_kinds[in.kind]), &bad);
			put_kv(input, "bytes", json_integer((json_int_t)len), &bad);
			put_kv(input, "truncated", json_boolean(len > max), &bad);
			put_kv(input, "replaced_invalid_utf8", json_boolean(changed), &bad);
		}
		put_kv(res, "input", input, &bad);
		put_kv(res, "messages", messages = json_array(), &bad);
		put_kv(res, "findings", findings = json_array(), &bad);
		if (bad) {
			json_decref(res);
			goto oom_clean;
		}
	}
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
		json_t *mj = json_object();
		int bad = 0;
		put_kv(mj, "index", json_integer((json_int_t)i), &bad);
		put_kv(mj, "kind", str_req(msg_kinds[m->kind]), &bad);
		put_kv(mj, "original", original_json(m), &bad);
		put_kv(mj, "findings", json_integer((json_int_t)(json_array_size(findings) - before)),
		       &bad);
		if (bad || json_array_append_new(messages, mj) < 0) {
			if (!bad)
				mj = NULL;	/* append_new released it */
			json_decref(mj);
			json_decref(res);
			goto oom_clean;
		}
	}
	if (len > max)
		json_object_set_new(input, "window", json_integer((json_int_t)max));
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

/*
 * bouncewhy.h - the public interface of libbouncewhy.
 *
 * libbouncewhy reads a bounce (one SMTP reply line, a few pasted lines, a whole
 * email or an mbox) and says why the mail bounced, who has to act and what to
 * do. It knows nothing of HTTP, never prints and never exits.
 *
 * Ownership: a function named *_new or *_load, or documented "new", returns
 * something the caller frees (bw_kb_free, json_decref). "Borrowed" results
 * live as long as the object they came from and must not be freed.
 *
 * Errors: a function that can fail returns NULL or -1 and, when the caller
 * passes a bw_error (err may always be NULL), fills it with the file, line
 * and a one-line reason. Bad input is never an error: any bytes can be
 * explained, and an input with no bounce gives no findings.
 *
 * Threads: a loaded bw_kb is immutable; any number of threads may classify
 * with one bw_kb at once. All per-call state (PCRE2 match data, scanner
 * scratch) lives in the call or in thread-local storage. JSON borrowed from
 * a bw_kb is shared by those threads: read it, json_deep_copy it, or hold a
 * reference (jansson counts references atomically since 2.12), but never
 * modify it. Load and free a bw_kb while no other thread uses it.
 *
 * Linking: libbouncewhy.so.0 exports exactly the functions declared here;
 * `pkg-config --cflags --libs bouncewhy` gives the flags (docs/api.md).
 */
#ifndef BOUNCEWHY_H
#define BOUNCEWHY_H

#include <stddef.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BW_API_VERSION "1"
#define BW_VERSION "0.1.0"

/* Default bound on the bytes one explain call examines; longer input is
 * cut to this window and the result says so. */
#define BW_MAX_INPUT_DEFAULT (1024u * 1024u)

typedef struct bw_error {
	char file[256];	/* the file at fault, or "" */
	int line;	/* its line, or 0 */
	char text[512];	/* one line, no trailing newline */
} bw_error;

/* The knowledge base: rules, reasons, blocklists and status codes. */
typedef struct bw_kb bw_kb;

/*
 * bw_kb_load - load every knowledge file from the directory dir (see
 * docs/rules-format.md), then, when override is not NULL, the operator's file
 * of local rules and blocklists. Patterns are compiled (with JIT) here.
 * Returns a new bw_kb (free it with bw_kb_free), or NULL with err filled
 * ("rules/x.json: rule-id: why"): a knowledge base loads whole or not at
 * all. Takes a while (compiles every pattern); call it once at start-up.
 * Thread-safe (each call builds its own bw_kb).
 */
bw_kb *bw_kb_load(const char *dir, const char *override, bw_error *err);

/* bw_kb_free - release a knowledge base and everything borrowed from it.
 * NULL is fine. No other thread may be using kb. */
void bw_kb_free(bw_kb *kb);

/* bw_kb_version - borrowed: "BW_VERSION+rules.HASH", identifying the rule
 * data (built-in and override). The getters below never fail and are
 * thread-safe; what they return lives as long as kb. */
const char *bw_kb_version(const bw_kb *kb);

/* bw_kb_reasons - borrowed: object reason -> entry, as in reasons.json plus "id". */
const json_t *bw_kb_reasons(const bw_kb *kb);

/* bw_kb_reason - borrowed entry of one reason, or NULL when unknown. */
const json_t *bw_kb_reason(const bw_kb *kb, const char *reason);

/* bw_kb_blocklists - borrowed: the array of blocklists.json. */
const json_t *bw_kb_blocklists(const bw_kb *kb);

/* bw_kb_blocklist - borrowed entry of one blocklist by id, or NULL. */
const json_t *bw_kb_blocklist(const bw_kb *kb, const char *id);

/* bw_kb_rule_count - number of rules loaded (built-in and derived). */
size_t bw_kb_rule_count(const bw_kb *kb);

/*
 * bw_kb_check_examples - classify every example of every rule and compare
 * with the rule's reason (and blocklist). Returns a new array with one object
 * per example {"rule","file","example","ok","got_reason","got_rule",
 * "got_blocklist"}; *failed (when not NULL) receives the number not ok.
 * NULL on ENOMEM. The caller json_decrefs the array. Thread-safe.
 */
json_t *bw_kb_check_examples(const bw_kb *kb, size_t *failed);

/* Options of bw_explain: zero-initialise, then set what you need
 * (bw_options o = {0}); a NULL pointer means all defaults. */
typedef struct bw_options {
	size_t max_input;	/* 0: BW_MAX_INPUT_DEFAULT */
	int single;		/* 1: treat input as one case (no email/mbox detection) */
	const char *audience;	/* "user" (default) or "admin": which summary is "summary" */
} bw_options;

/*
 * bw_explain - classify data (len bytes, need not be NUL-terminated; any
 * content: text, email, mbox, or a sending service's JSON bounce
 * notification: Amazon SES / SNS, SendGrid, Mailgun, Postmark). Bytes that
 * are not UTF-8 are replaced, never refused. opt may be NULL.
 * Returns a new JSON object (the caller json_decrefs it):
 *   {"api_version", "version",
 *    "input": {"kind": "text"|"email"|"mbox", "bytes", "truncated",
 *              "replaced_invalid_utf8"},
 *    "messages": [{"index", "kind", "original": {...}|null, "findings"}],
 *    "findings": [finding, ...]}
 * where a finding has the shape of docs/DESIGN.md; every documented field
 * is present, null where it does not apply (static/openapi.json, schema
 * Finding). An input with no bounce gives an empty findings array (not an
 * error). Returns NULL only when memory runs out, with err filled.
 * Thread-safe.
 */
json_t *bw_explain(const bw_kb *kb, const char *data, size_t len,
		   const bw_options *opt, bw_error *err);

/* The verdict on one line of text, without the JSON (see bw_classify). */
typedef struct bw_verdict {
	const char *reason;	/* borrowed from the kb; NULL when no bounce was found */
	const char *rule;	/* id of the rule that decided, or NULL (codes decided) */
	const char *blocklist;	/* blocklist id, or NULL */
	const char *action_by;	/* borrowed */
	int temporary;
	int hard_bounce;
	int reply_code;		/* 0 when none */
	char status[16];	/* enhanced status code, "" when none */
	char ip[46];		/* the sending server's IP, "" when none */
	size_t match_start, match_end;	/* byte offsets of the rule's match */
} bw_verdict;

/*
 * bw_classify - the fast path for bulk use: classify len bytes as one case
 * (no email parsing, no segmenting) into *v, building no JSON. Returns 1
 * when a bounce was found, 0 when not (v->reason NULL), -1 when memory runs
 * out. Thread-safe; v's strings are borrowed from kb.
 */
int bw_classify(const bw_kb *kb, const char *text, size_t len, bw_verdict *v);

#ifdef __cplusplus
}
#endif

#endif /* BOUNCEWHY_H */

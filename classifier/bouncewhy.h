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
 * passes a bw_error, fills it with the file, line and a one-line reason.
 *
 * Threads: a loaded bw_kb is immutable; any number of threads may classify
 * with one bw_kb at once. All per-call state (PCRE2 match data, scanner
 * scratch) lives in the call or in thread-local storage.
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
 * Returns a new bw_kb, or NULL with err filled ("rules/x.json: rule-id: why").
 */
bw_kb *bw_kb_load(const char *dir, const char *override, bw_error *err);

/* bw_kb_free - release a knowledge base. NULL is fine. */
void bw_kb_free(bw_kb *kb);

/* bw_kb_version - borrowed: "BW_VERSION+rules.HASH", identifying the rule data. */
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
 * "got_blocklist"}; *failed receives the number not ok. NULL on ENOMEM.
 */
json_t *bw_kb_check_examples(const bw_kb *kb, size_t *failed);

typedef struct bw_options {
	size_t max_input;	/* 0: BW_MAX_INPUT_DEFAULT */
	int single;		/* 1: treat input as one case (no email/mbox detection) */
	const char *audience;	/* "user" (default) or "admin": which summary is "summary" */
} bw_options;

/*
 * bw_explain - classify data (len bytes, any content: text, email, mbox).
 * Returns a new JSON object:
 *   {"api_version", "version",
 *    "input": {"kind": "text"|"email"|"mbox", "bytes", "truncated"},
 *    "messages": [{"index", "kind", "original": {...}|null}],
 *    "findings": [finding, ...]}
 * where a finding has the shape of docs/DESIGN.md. An input with no bounce
 * gives an empty findings array (not an error). Returns NULL only when memory
 * runs out, with err filled. Thread-safe.
 */
json_t *bw_explain(const bw_kb *kb, const char *data, size_t len,
		   const bw_options *opt, bw_error *err);

#ifdef __cplusplus
}
#endif

#endif /* BOUNCEWHY_H */

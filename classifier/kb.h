/*
 * kb.h - the knowledge base inside libbouncewhy: loaded rules, reasons,
 * blocklists and status codes, and the matcher over the rules.
 *
 * Everything here is built by bw_kb_load() and immutable afterwards; the
 * per-call state of matching lives in a bw_scratch owned by one thread.
 */
#ifndef BW_KB_H
#define BW_KB_H

#include <stddef.h>
#include <jansson.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "bouncewhy.h"

typedef struct bw_rule {
	const char *id;		/* borrowed from the kb's JSON */
	const char *file;	/* "rules/core-smtp.json" */
	const char *reason;
	const struct bw_reason_info *ri;	/* the reason's entry (set at load) */
	const char *blocklist;	/* id, or NULL */
	const json_t *blocklist_entry;
	int priority;
	int temporary;		/* -1: decided by codes and text */
	const char *action_by;	/* NULL: the reason's */
	const json_t *summary, *steps;	/* NULL: the reason's */
	const json_t *examples;
	pcre2_code **pats;
	const char **pat_src;	/* borrowed pattern texts, for the prefilter */
	size_t npats;
	int when_reply[8];	/* 4, 5 or full codes like 550 */
	size_t n_when_reply;
	char when_status[8][12];	/* "5.7.1" or prefixes "5.7" */
	unsigned char when_status_len[8];	/* their strlen */
	size_t n_when_status;
} bw_rule;

/* An entry of the status or reply table, with what decide() reads of it. */
typedef struct bw_code {
	const char *key;	/* "X.1.1" or "550" (the table's key) */
	const json_t *entry;
	const char *reason;	/* the entry's reason, or NULL */
} bw_code;

/* A reason, with the fields the verdict reads. */
typedef struct bw_reason_info {
	const char *id;
	const json_t *entry;
	const char *action_by;
	int temporary;		/* -1: not said (null or absent) */
	int hard_bounce;
} bw_reason_info;

struct bw_kb {
	json_t *reasons;	/* object: reason -> entry */
	json_t *blocklists;	/* array */
	json_t *bl_index;	/* object: id -> entry (borrowed refs kept alive by blocklists) */
	json_t *status;		/* object: "X.1.1" -> entry */
	json_t *reply;		/* object: "550" -> entry */
	json_t *docs;		/* array of every rule document, keeping strings alive */
	bw_rule *rules;
	size_t nrules;
	/* the prefilter: one many-string index over every pattern's literals */
	struct bw_prefilter *pf;
	size_t npat;		/* patterns of all rules, numbered in rule order */
	unsigned *pat_rule;	/* pattern -> rule index */
	pcre2_code **pat_code;	/* pattern -> its compiled code (borrowed from the rule) */
	unsigned char *pat_always;	/* pattern -> 1: no literal, try on every text */
	unsigned char *pat_jit;	/* pattern -> 1: JIT-compiled (pcre2_jit_match) */
	int *pat_prio;		/* pattern -> its rule's priority */
	unsigned *always_list;	/* those patterns, nalways of them */
	struct bw_start *always_start;	/* what their matches start with (match.c) */
	unsigned char *pat_need;	/* pattern -> bits of the literal sets it needs */
	size_t nalways;
	/* the status, reply and reason tables as arrays (kb.c), read per call */
	bw_code *st_codes, *rp_codes;	/* sorted by key */
	size_t n_st, n_rp;
	const bw_code *st_fast[10][10];	/* "N.S.D", one digit each */
	const bw_code *rp_fast[1000];
	bw_reason_info *rinfo;		/* sorted by id */
	size_t n_rinfo;
	pcre2_match_context *mctx;	/* match and depth limits; read-only when shared */
	unsigned long gen;	/* tells a thread's scratch which database it fits */
	char version[64];
};

/* One match of a rule in a text: byte offsets into that text. */
typedef struct bw_match {
	const bw_rule *rule;
	size_t start, end;
} bw_match;

/* Per-thread matching state (PCRE2 match data, candidate set). */
typedef struct bw_scratch bw_scratch;

/* kb.c: the table entries for a status ("5.1.1") or a reply code; NULL: none. */
const bw_code *bw_kb_status_code(const bw_kb *kb, const char *status);
const bw_code *bw_kb_reply_code(const bw_kb *kb, int reply);
/* kb.c: a reason by name, NULL when there is no such reason. */
const bw_reason_info *bw_kb_reason_info(const bw_kb *kb, const char *reason);

/*
 * command.c, for the matcher: the strings bw_command_scan looks for (at
 * most BW_COMMAND_STRINGS, with command.c's ids), and the state of one scan
 * fed with their occurrences, so that the rule index can find them in the
 * same pass as the rules' literals.
 */
#define BW_COMMAND_STRINGS 128
typedef struct bw_command_found {
	const char *text, *end;
	size_t at;		/* earliest phrase (a whole word) */
	int phrase;		/* its index, -1 none */
	int rar, norcpt, field;
	int retry;		/* for the matcher: a retry word occurred (bw_facts_retry_words); -1 unknown */
} bw_command_found;
size_t bw_command_strings(const char **strs, unsigned *ids, size_t cap);
void bw_command_found_init(bw_command_found *f, const char *text, size_t len);
void bw_command_found_hit(bw_command_found *f, unsigned id, size_t start);
/* The command (a static string) or NULL, as bw_command_scan answers. */
const char *bw_command_found_end(const bw_command_found *f);

/* match.c */
int bw_matcher_build(bw_kb *kb, bw_error *err);
void bw_matcher_free(bw_kb *kb);
/* Returns this thread's scratch for kb, or NULL on ENOMEM. Borrowed. */
bw_scratch *bw_scratch_get(const bw_kb *kb);
/*
 * Finds every rule matching text (valid UTF-8, len bytes) and keeps the best
 * one allowed by the codes (reply, status may be 0/NULL). Returns 1 with *out
 * filled, 0 when none matched, -1 on error.
 */
int bw_match_best(const bw_kb *kb, bw_scratch *s, const char *text, size_t len,
		  int reply, const char *status, bw_match *out);
/*
 * The same, and *command gets what bw_command_scan(text, len) would answer,
 * found in the same pass.
 */
int bw_match_best_cmd(const bw_kb *kb, bw_scratch *s, const char *text, size_t len,
		      int reply, const char *status, bw_match *out, const char **command);
/*
 * The same, but the command strings found are left in *found for
 * bw_command_found_end() to read when the command is wanted, and
 * found->retry tells whether a retry word (bw_facts_retry_words) occurred.
 */
int bw_match_best_found(const bw_kb *kb, bw_scratch *s, const char *text, size_t len,
			int reply, const char *status, bw_match *out, bw_command_found *found);

#endif /* BW_KB_H */

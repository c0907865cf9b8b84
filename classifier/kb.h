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
	size_t n_when_status;
} bw_rule;

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
	unsigned *always_list;	/* those patterns, nalways of them */
	unsigned char *pat_need;	/* pattern -> bits of the literal sets it needs */
	size_t ngroup;		/* literal sets, numbered over all patterns */
	unsigned *grp_pat;	/* set -> pattern */
	unsigned char *grp_bit;	/* set -> its bit in pat_need */
	size_t nalways;
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

#endif /* BW_KB_H */

/*
 * match.c - find the best rule for a text, all rules at once.
 *
 * Running hundreds of PCRE2 patterns one after another over every text is
 * too slow, so a single pass of a many-string search over the text
 * names the candidate patterns (those whose required literals occur), and
 * PCRE2 (JIT) then confirms each candidate and gives the offsets. The
 * prefilter may name patterns that do not match, never miss one that does.
 *
 * The index is immutable and shared; the scratch (PCRE2 match data,
 * candidate set) is per thread, kept in thread-specific
 * storage and freed when the thread ends.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "kb.h"
#include "literal.h"
#include "prefilter.h"

struct bw_scratch {
	unsigned long gen;	/* which kb this scratch is sized for */
	pcre2_match_data *md;
	/*
	 * The kb's match context (its limits), plus this thread's offset
	 * limit: once a rule matched, a rule of the same priority only wins
	 * with a match that starts no later (see better()), so PCRE2 need not
	 * look past that start (the patterns are compiled for it).
	 */
	pcre2_match_context *mctx;
	size_t limit;		/* the offset limit set in mctx */
	/*
	 * The literal sets seen in this scan, one bit per pattern and set
	 * (see set_bit); all zero between scans.
	 */
	uint64_t *bits;
	uint64_t *single;	/* one bit per pattern: it has one literal set only */
	size_t nbits_words;
};

/* A kb's generation tells a thread's scratch which database it fits. The
 * counter is the one process-wide mutable value here; it only ever grows. */
static atomic_ulong kb_generation = 1;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
	bw_scratch *s = p;

	if (s == NULL)
		return;
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mctx);
	free(s->bits);
	free(s->single);
	free(s);
}

static void scratch_key_make(void)
{
	pthread_key_create(&scratch_key, scratch_free);
}


/*
 * The prefilter: for each pattern, the literals it cannot match without
 * (literal.c), all in one many-string index (prefilter.c), matched
 * caselessly. A pattern with no usable literal (shorter than 3 bytes) is
 * tried with PCRE2 on every text. The cost of a text is one pass plus PCRE2
 * for the few patterns whose literals all occur in it.
 */
#define MIN_LITERAL 3

/*
 * Ids in the index: command.c's strings have this bit; a pattern's literal
 * of set x (0 or 1: choose_sets keeps at most two) is bit x * W * 64 + k of
 * the scan's bitmap, W the words of one set's bits (pattern_words). A
 * pattern is a candidate when its bit is set in both halves, or in the
 * first one when it has one set only.
 */
#define CMD_ID 0x80000000u
#define RETRY_ID 0x40000000u	/* facts.c's retry words (one id for all) */
#define RETRY_WORDS 16
#define LIT_PAT_MAX (RETRY_ID >> 3)
#define PAT_SETS 2

static size_t pattern_words(const bw_kb *kb)
{
	return (kb->npat + 63) / 64;
}

static unsigned set_bit(const bw_kb *kb, size_t k, size_t x)
{
	return (unsigned)(x * pattern_words(kb) * 64 + k);
}

/*
 * What PCRE2 knows of where a pattern's matches start, to skip a pattern
 * without a literal before calling PCRE2 at all: the bytes a match can
 * start with (PCRE2's own start-of-match table), whether it is anchored at
 * the start of the text, and its shortest match in characters.
 */
typedef struct bw_start {
	const uint8_t *first;	/* 256-bit table, or NULL: any byte */
	unsigned minlen;	/* characters, so at most as many bytes */
	int anchored;
	int high;		/* first holds no ASCII byte: an ASCII text cannot match */
} bw_start;

static void start_info(const pcre2_code *code, bw_start *st)
{
	uint32_t opts = 0, minlen = 0;
	const uint8_t *first = NULL;

	memset(st, 0, sizeof *st);
	if (pcre2_pattern_info(code, PCRE2_INFO_FIRSTBITMAP, &first) == 0)
		st->first = first;
	if (pcre2_pattern_info(code, PCRE2_INFO_MINLENGTH, &minlen) == 0)
		st->minlen = minlen;
	if (pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &opts) == 0)
		st->anchored = (opts & PCRE2_ANCHORED) != 0;
	if (st->first) {
		st->high = 1;
		for (unsigned b = 0; b < 128 / 8; b++)
			st->high &= st->first[b] == 0;
	}
}

/* Can the pattern match in text at all, as far as its start tells? */
static int may_start(const bw_start *st, const unsigned char *text, size_t len, int ascii)
{
	if (len < st->minlen)
		return 0;
	if (st->first == NULL)
		return 1;
	if (st->high && ascii)
		return 0;
	if (st->anchored && (len == 0 || !(st->first[text[0] >> 3] & (1u << (text[0] & 7)))))
		return 0;
	return 1;
}

/*
 * Is the text all ASCII? Sixteen bytes at a time; the last few in one
 * eight-byte word that overlaps the ones already seen.
 */
static int all_ascii(const char *text, size_t len)
{
	uint64_t acc = 0, w, v;
	size_t i = 0;

	if (len < 8) {
		for (; i < len; i++)
			acc |= (unsigned char)text[i];
		return (acc & 0x80) == 0;
	}
	for (; i + 16 <= len; i += 16) {
		memcpy(&w, text + i, 8);
		memcpy(&v, text + i + 8, 8);
		acc |= w | v;
	}
	if (i + 8 <= len) {
		memcpy(&w, text + i, 8);
		acc |= w;
		i += 8;
	}
	if (i < len) {
		memcpy(&w, text + len - 8, 8);
		acc |= w;
	}
	return (acc & 0x8080808080808080ULL) == 0;
}

/*
 * What choose_sets measures on the sample texts. The index is built with
 * one id per string (lit_set maps it to its set, numbered over all
 * patterns); equal strings come in one call.
 */
typedef struct doc_count {
	const unsigned *lit_set;	/* string -> its set */
	const unsigned char *paid;	/* string -> 1: in a set that is kept anyway */
	unsigned *freq;		/* set -> texts it occurred in */
	unsigned *seen;		/* set -> last text it was counted for, plus one */
	unsigned *cost;		/* set -> occurrences of its strings that no kept set has */
	unsigned doc;
} doc_count;

static void count_hit(const unsigned *ids, size_t n, size_t start, void *p)
{
	doc_count *c = p;
	int paid = 0;

	for (size_t i = 0; i < n && c->paid; i++)
		paid |= c->paid[ids[i]];
	for (size_t i = 0; i < n; i++) {
		unsigned set = c->lit_set[ids[i]];
		if (c->paid && !paid && (i == 0 || c->lit_set[ids[i - 1]] != set))
			c->cost[set]++;
		if (c->seen[set] != c->doc) {
			c->seen[set] = c->doc;
			c->freq[set]++;
		}
	}
}

/*
 * What a second set saves and costs, in instructions as measured with
 * callgrind: a PCRE2 run it spares (a candidate without it) against a
 * lookup of its string (an occurrence) in every text.
 */
#define COST_REGEX 570
#define COST_LOOKUP 65

/* The rules' examples, the sample of bounce texts the index is tuned for. */
static int collect_examples(const bw_kb *kb, const char ***ex, size_t **exlen, size_t *nex)
{
	size_t n = 0, j;
	json_t *e;

	for (size_t i = 0; i < kb->nrules; i++)
		n += json_array_size(kb->rules[i].examples);
	*ex = calloc(n + 1, sizeof **ex);
	*exlen = calloc(n + 1, sizeof **exlen);
	*nex = 0;
	if (*ex == NULL || *exlen == NULL)
		return -1;
	for (size_t i = 0; i < kb->nrules; i++) {
		json_array_foreach(kb->rules[i].examples, j, e) {
			if (json_is_string(e)) {
				(*ex)[*nex] = json_string_value(e);
				(*exlen)[(*nex)++] = json_string_length(e);
			}
		}
	}
	return 0;
}

/*
 * Keeps, of each pattern's literal sets, the one or two that cost least: a
 * set whose strings turn up in many bounce texts makes many prefilter hits
 * and many regex runs. How often each set turns up is measured on the
 * rules' own examples (the bounce vocabulary at hand): the rarest set is
 * kept; when even that one is common, the next rarest too (a text must
 * then hold both), unless the runs it would spare cost less than looking
 * for its strings (words such as "the", "550", which every line has).
 */
static int choose_sets(bw_litset (*sets)[BW_LIT_SETS], size_t *nsets, size_t npat,
		       const char **ex, const size_t *exlen, size_t nex)
{
	size_t total = 0, nlit = 0, g = 0;
	const char **lits = NULL;
	size_t *lens = NULL, *set0 = NULL;
	unsigned *ids = NULL, *lit_set = NULL, *cand_a = NULL, *cand_ab = NULL;
	size_t *best = NULL, *second = NULL;
	unsigned char *paid = NULL, *decide = NULL;
	doc_count dc = {0};
	bw_prefilter *pf = NULL;
	int rc = -1;

	for (size_t k = 0; k < npat; k++) {
		total += nsets[k];
		for (size_t x = 0; x < nsets[k]; x++)
			nlit += sets[k][x].n;
	}
	lits = calloc(nlit + 1, sizeof *lits);
	lens = calloc(nlit + 1, sizeof *lens);
	ids = calloc(nlit + 1, sizeof *ids);
	lit_set = calloc(nlit + 1, sizeof *lit_set);
	paid = calloc(nlit + 1, 1);
	set0 = calloc(npat + 1, sizeof *set0);
	best = calloc(npat + 1, sizeof *best);
	second = calloc(npat + 1, sizeof *second);
	decide = calloc(npat + 1, 1);
	cand_a = calloc(npat + 1, sizeof *cand_a);
	cand_ab = calloc(npat + 1, sizeof *cand_ab);
	dc.freq = calloc(total + 1, sizeof *dc.freq);
	dc.seen = calloc(total + 1, sizeof *dc.seen);
	dc.cost = calloc(total + 1, sizeof *dc.cost);
	if (!lits || !lens || !ids || !lit_set || !paid || !set0 || !best || !second || !decide ||
	    !cand_a || !cand_ab || !dc.freq || !dc.seen || !dc.cost)
		goto out;
	nlit = 0;
	for (size_t k = 0; k < npat; k++) {
		set0[k] = g;
		for (size_t x = 0; x < nsets[k]; x++, g++) {
			for (size_t y = 0; y < sets[k][x].n; y++, nlit++) {
				lits[nlit] = sets[k][x].s[y];
				lens[nlit] = strlen(lits[nlit]);
				ids[nlit] = (unsigned)nlit;
				lit_set[nlit] = (unsigned)g;
			}
		}
	}
	if ((pf = bw_prefilter_new(lits, lens, ids, nlit)) == NULL)
		goto out;
	dc.lit_set = lit_set;
	/* first pass: in how many texts each set occurs */
	for (size_t d = 0; d < nex; d++) {
		dc.doc = (unsigned)d + 1;
		bw_prefilter_scan(pf, ex[d], exlen[d], count_hit, &dc);
	}
	for (size_t k = 0; k < npat; k++) {
		size_t n = nsets[k];
		unsigned *f = dc.freq + set0[k];
		best[k] = 0;
		second[k] = (size_t)-1;
		for (size_t x = 1; x < n; x++)
			if (f[x] < f[best[k]])
				best[k] = x;
		for (size_t x = 0; x < n; x++)
			if (x != best[k] && (second[k] == (size_t)-1 || f[x] < f[second[k]]))
				second[k] = x;
		/* common even at its rarest (more than 1 text in 200): a second one? */
		decide[k] = n >= 2 && (size_t)f[best[k]] * 200 > nex;
	}
	/* the strings of the sets kept anyway cost nothing more in a second set */
	nlit = 0;
	for (size_t k = 0; k < npat; k++)
		for (size_t x = 0; x < nsets[k]; x++)
			for (size_t y = 0; y < sets[k][x].n; y++)
				paid[nlit++] = x == best[k];
	/* second pass: what each second set costs, and what it would spare */
	memset(dc.seen, 0, (total + 1) * sizeof *dc.seen);
	memset(dc.freq, 0, (total + 1) * sizeof *dc.freq);
	dc.paid = paid;
	for (size_t d = 0; d < nex; d++) {
		dc.doc = (unsigned)d + 1;
		bw_prefilter_scan(pf, ex[d], exlen[d], count_hit, &dc);
		for (size_t k = 0; k < npat; k++) {
			if (!decide[k] || dc.seen[set0[k] + best[k]] != dc.doc)
				continue;
			cand_a[k]++;
			cand_ab[k] += dc.seen[set0[k] + second[k]] == dc.doc;
		}
	}
	for (size_t k = 0; k < npat; k++) {
		if (nsets[k] <= 1)
			continue;
		bw_litset a = sets[k][best[k]], b = sets[k][second[k]];
		sets[k][0] = a;
		nsets[k] = 1;
		if (decide[k] && (size_t)(cand_a[k] - cand_ab[k]) * COST_REGEX >
				 (size_t)dc.cost[set0[k] + second[k]] * COST_LOOKUP) {
			sets[k][1] = b;
			nsets[k] = 2;
		}
	}
	rc = 0;
out:
	bw_prefilter_free(pf);
	free(lits);
	free(lens);
	free(ids);
	free(lit_set);
	free(paid);
	free(set0);
	free(best);
	free(second);
	free(decide);
	free(cand_a);
	free(cand_ab);
	free(dc.freq);
	free(dc.seen);
	free(dc.cost);
	return rc;
}

/* A pattern of a rule, while numbering them. */
typedef struct pat_ref {
	unsigned rule, pat;
	int priority;
} pat_ref;

/* Strongest rule first, then in rule order. */
static int by_priority(const void *a, const void *b)
{
	const pat_ref *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return x->pat < y->pat ? -1 : x->pat > y->pat;
}

int bw_matcher_build(bw_kb *kb, bw_error *err)
{
	const char **ex = NULL;
	size_t *exlen = NULL, nex = 0;
	size_t npat = 0, nlit = 0, k = 0, cap;
	const char **lits = NULL;
	size_t *lens = NULL;
	unsigned *ids = NULL;
	bw_litset (*sets)[BW_LIT_SETS] = NULL;
	size_t *nsets = NULL;
	pat_ref *order = NULL;

	kb->gen = atomic_fetch_add(&kb_generation, 1);
	for (size_t i = 0; i < kb->nrules; i++)
		npat += kb->rules[i].npats;
	kb->npat = npat;
	kb->pat_rule = calloc(npat + 1, sizeof *kb->pat_rule);
	kb->pat_code = calloc(npat + 1, sizeof *kb->pat_code);
	kb->pat_always = calloc(npat + 1, 1);
	kb->pat_jit = calloc(npat + 1, 1);
	kb->pat_prio = calloc(npat + 1, sizeof *kb->pat_prio);
	kb->pat_need = calloc(npat + 1, 1);
	sets = calloc(npat + 1, sizeof *sets);
	nsets = calloc(npat + 1, sizeof *nsets);
	if (!kb->pat_rule || !kb->pat_code || !kb->pat_always || !kb->pat_jit || !kb->pat_need ||
	    !kb->pat_prio || !sets || !nsets)
		goto oom;
	/*
	 * Patterns are numbered strongest rule first (then in rule order), so
	 * that the candidates of a scan, read from its bitmap in order, come
	 * strongest first.
	 */
	order = calloc(npat + 1, sizeof *order);
	if (order == NULL)
		goto oom;
	k = 0;
	for (size_t i = 0; i < kb->nrules; i++)
		for (size_t j = 0; j < kb->rules[i].npats; j++, k++)
			order[k] = (pat_ref){(unsigned)i, (unsigned)j, kb->rules[i].priority};
	qsort(order, npat, sizeof *order, by_priority);
	for (k = 0; k < npat; k++) {
		size_t i = order[k].rule, j = order[k].pat;
		kb->pat_rule[k] = (unsigned)i;
		kb->pat_code[k] = kb->rules[i].pats[j];
		kb->pat_prio[k] = kb->rules[i].priority;
		size_t jitsize = 0;
		kb->pat_jit[k] = pcre2_pattern_info(kb->pat_code[k], PCRE2_INFO_JITSIZE,
						    &jitsize) == 0 && jitsize > 0;
		nsets[k] = bw_literal_sets(kb->rules[i].pat_src[j], MIN_LITERAL, sets[k]);
	}
	free(order);
	order = NULL;
	if (collect_examples(kb, &ex, &exlen, &nex) < 0 ||
	    choose_sets(sets, nsets, npat, ex, exlen, nex) < 0)
		goto oom;
	kb->always_list = calloc(npat + 1, sizeof *kb->always_list);
	if (kb->always_list == NULL)
		goto oom;
	kb->always_start = calloc(npat + 1, sizeof *kb->always_start);
	if (kb->always_start == NULL)
		goto oom;
	for (k = 0; k < npat; k++) {
		if (nsets[k] == 0) {
			kb->pat_always[k] = 1;
			start_info(kb->pat_code[k], &kb->always_start[kb->nalways]);
			kb->always_list[kb->nalways++] = (unsigned)k;
		}
		kb->pat_need[k] = (unsigned char)((1u << nsets[k]) - 1);
		for (size_t x = 0; x < nsets[k]; x++)
			nlit += sets[k][x].n;
	}
	cap = nlit + BW_COMMAND_STRINGS + RETRY_WORDS + 1;
	lits = calloc(cap, sizeof *lits);
	lens = calloc(cap, sizeof *lens);
	ids = calloc(cap, sizeof *ids);
	if (!lits || !lens || !ids || npat > LIT_PAT_MAX)
		goto oom;
	nlit = 0;
	for (k = 0; k < npat; k++) {
		if (nsets[k] > PAT_SETS)
			goto oom;	/* choose_sets keeps two at most */
		for (size_t x = 0; x < nsets[k]; x++) {
			for (size_t y = 0; y < sets[k][x].n; y++) {
				lits[nlit] = sets[k][x].s[y];
				lens[nlit] = strlen(sets[k][x].s[y]);
				ids[nlit] = set_bit(kb, k, x);
				nlit++;
			}
		}
	}
	/* the strings command.c looks for: one pass finds both */
	size_t ncmd = bw_command_strings(lits + nlit, ids + nlit, BW_COMMAND_STRINGS);
	for (size_t i = nlit; i < nlit + ncmd; i++) {
		lens[i] = strlen(lits[i]);
		ids[i] |= CMD_ID;
	}
	nlit += ncmd;
	/* and the retry words, for bw_facts_says_retry's answer */
	size_t nretry = bw_facts_retry_words(lits + nlit, RETRY_WORDS);
	for (size_t i = nlit; i < nlit + nretry; i++) {
		lens[i] = strlen(lits[i]);
		ids[i] = RETRY_ID;
	}
	nlit += nretry;
	if ((kb->pf = bw_prefilter_new_bits(lits, lens, ids, nlit, ex, exlen, nex,
					    PAT_SETS * pattern_words(kb) * 64)) == NULL)
		goto oom;
	free(ex);
	free(exlen);
	free(lits);
	free(lens);
	free(ids);
	free(sets);
	free(nsets);
	return 0;
oom:
	if (err)
		snprintf(err->text, sizeof err->text, "rules: out of memory");
	free(ex);
	free(exlen);
	free(lits);
	free(lens);
	free(ids);
	free(sets);
	free(nsets);
	free(order);
	return -1;
}

void bw_matcher_free(bw_kb *kb)
{
	bw_prefilter_free(kb->pf);
	kb->pf = NULL;
	free(kb->pat_rule);
	free(kb->pat_code);
	free(kb->pat_always);
	free(kb->pat_jit);
	free(kb->pat_prio);
	free(kb->always_list);
	free(kb->always_start);
	free(kb->pat_need);
}

bw_scratch *bw_scratch_get(const bw_kb *kb)
{
	bw_scratch *s;
	unsigned long gen = kb->gen;

	pthread_once(&scratch_once, scratch_key_make);
	s = pthread_getspecific(scratch_key);
	if (s && s->gen == gen)
		return s;
	if (s == NULL) {
		if ((s = calloc(1, sizeof *s)) == NULL)
			return NULL;
		if ((s->md = pcre2_match_data_create(32, NULL)) == NULL) {
			free(s);
			return NULL;
		}
		pthread_setspecific(scratch_key, s);
	}
	size_t words = PAT_SETS * pattern_words(kb);
	if (s->nbits_words < words) {
		uint64_t *bits = realloc(s->bits, words * sizeof *bits);
		if (bits)
			s->bits = bits;
		uint64_t *single = realloc(s->single, words * sizeof *single);
		if (single)
			s->single = single;
		if (!bits || !single)
			return NULL;
		s->nbits_words = words;
	}
	pcre2_match_context *mctx = pcre2_match_context_copy(kb->mctx);
	if (mctx == NULL)
		return NULL;
	pcre2_match_context_free(s->mctx);
	s->mctx = mctx;
	s->limit = PCRE2_UNSET;
	memset(s->bits, 0, s->nbits_words * sizeof *s->bits);
	memset(s->single, 0, s->nbits_words * sizeof *s->single);
	for (size_t k = 0; k < kb->npat; k++)
		if (kb->pat_need[k] == 1)
			s->single[k / 64] |= (uint64_t)1 << (k % 64);
	s->gen = gen;
	return s;
}

typedef struct scan_ctx {
	const bw_kb *kb;
	bw_scratch *s;
	bw_command_found *cmd;	/* NULL: the command is not wanted */
} scan_ctx;

/* The hits the bitmap does not take: command.c's strings. */
static void on_hit(const unsigned *ids, size_t n, size_t start, void *p)
{
	scan_ctx *c = p;

	if (c->cmd == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] & CMD_ID)
			bw_command_found_hit(c->cmd, ids[i] & ~CMD_ID, start);
		else if (ids[i] == RETRY_ID)
			c->cmd->retry = 1;
	}
}

/* Does the rule's "when" allow these codes? Unknown codes never rule out. */
static int when_codes_ok(const bw_rule *r, int reply, const char *status)
{
	if (r->n_when_reply && reply) {
		int ok = 0;
		for (size_t i = 0; i < r->n_when_reply && !ok; i++) {
			int w = r->when_reply[i];
			ok = w < 10 ? reply / 100 == w : reply == w;
		}
		if (!ok)
			return 0;
	}
	if (r->n_when_status && status && *status) {
		int ok = 0;
		for (size_t i = 0; i < r->n_when_status && !ok; i++) {
			size_t l = r->when_status_len[i];
			ok = strncmp(status, r->when_status[i], l) == 0 &&
			     (status[l] == '\0' || status[l] == '.' || r->when_status[i][l - 1] == '.');
		}
		if (!ok)
			return 0;
	}
	return 1;
}

/* when_codes_ok, without a call for the many rules that have no "when" */
static inline int when_ok(const bw_rule *r, int reply, const char *status)
{
	return (r->n_when_reply == 0 && r->n_when_status == 0) || when_codes_ok(r, reply, status);
}

static int better(const bw_match *a, const bw_match *b)
{
	if (b->rule == NULL)
		return 1;
	if (a->rule->priority != b->rule->priority)
		return a->rule->priority > b->rule->priority;
	if (a->start != b->start)
		return a->start < b->start;
	if (a->end - a->start != b->end - b->start)
		return a->end - a->start > b->end - b->start;
	return a->rule < b->rule;
}

/* Inlined at both calls: a call per candidate costs as much as its checks. */
static inline __attribute__((always_inline)) void
try_pattern(const bw_kb *kb, bw_scratch *s, size_t pi, const char *text, size_t len,
	    bw_match *best)
{
	const bw_rule *r = &kb->rules[kb->pat_rule[pi]];
	int rc;

	/* a weaker rule cannot win: skip its regex */
	if (best->rule && r->priority < best->rule->priority)
		return;
	/*
	 * One as strong wins only by starting no later than the best so far:
	 * PCRE2 stops trying start positions past it. A stronger one may
	 * match anywhere.
	 */
	size_t limit = best->rule && r->priority == best->rule->priority ? best->start :
		       PCRE2_UNSET;
	if (limit != s->limit) {
		pcre2_set_offset_limit(s->mctx, limit);
		s->limit = limit;
	}
	/* the JIT entry skips pcre2_match's checks (the text is valid UTF-8) */
	if (kb->pat_jit[pi])
		rc = pcre2_jit_match(kb->pat_code[pi], (PCRE2_SPTR)text, len, 0, 0, s->md,
				     s->mctx);
	else
		rc = pcre2_match(kb->pat_code[pi], (PCRE2_SPTR)text, len, 0, PCRE2_NO_UTF_CHECK,
				 s->md, s->mctx);
	if (rc >= 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
		bw_match m = {r, ov[0], ov[1] < ov[0] ? ov[0] : ov[1]};
		if (better(&m, best))
			*best = m;
	}
}

static int match_best(const bw_kb *kb, bw_scratch *s, const char *text, size_t len, int reply,
		      const char *status, bw_match *out, bw_command_found *cmd)
{
	scan_ctx c = {kb, s, cmd};
	bw_match best = {0};

	if (kb->pf)
		bw_prefilter_scan_bits(kb->pf, text, len, s->bits, on_hit, &c);
	else if (cmd)
		cmd->retry = -1;	/* not looked for */
	/*
	 * The candidates: patterns whose sets all occurred (see set_bit), read
	 * strongest first (the numbering). Once one matched, weaker ones are
	 * skipped without running their regex (the winner is the same in any
	 * order: better() is a total order). The bitmap is cleared on the way.
	 */
	size_t words = pattern_words(kb);
	uint64_t *b0 = s->bits, *b1 = s->bits + words;
	for (size_t w = 0; w < words; w++) {
		if (b0[w] == 0)
			continue;	/* most words: no pattern's first set occurred */
		uint64_t cand = b0[w] & (b1[w] | s->single[w]);
		b0[w] = 0;
		while (cand) {
			size_t pi = w * 64 + (size_t)__builtin_ctzll(cand);
			cand &= cand - 1;
			if (best.rule && kb->pat_prio[pi] < best.rule->priority)
				break;
			if (when_ok(&kb->rules[kb->pat_rule[pi]], reply, status))
				try_pattern(kb, s, pi, text, len, &best);
		}
	}
	memset(b1, 0, words * sizeof *b1);
	int ascii = -1;	/* not looked yet */
	for (size_t i = 0; i < kb->nalways; i++) {
		unsigned pi = kb->always_list[i];
		const bw_start *st = &kb->always_start[i];
		if (st->high && ascii < 0)
			ascii = all_ascii(text, len);
		if (may_start(st, (const unsigned char *)text, len, ascii == 1) &&
		    when_ok(&kb->rules[kb->pat_rule[pi]], reply, status))
			try_pattern(kb, s, pi, text, len, &best);
	}
	if (best.rule == NULL)
		return 0;
	*out = best;
	return 1;
}

int bw_match_best(const bw_kb *kb, bw_scratch *s, const char *text, size_t len, int reply,
		  const char *status, bw_match *out)
{
	return match_best(kb, s, text, len, reply, status, out, NULL);
}

int bw_match_best_cmd(const bw_kb *kb, bw_scratch *s, const char *text, size_t len, int reply,
		      const char *status, bw_match *out, const char **command)
{
	bw_command_found f;
	int rc;

	rc = bw_match_best_found(kb, s, text, len, reply, status, out, &f);
	*command = bw_command_found_end(&f);
	return rc;
}

int bw_match_best_found(const bw_kb *kb, bw_scratch *s, const char *text, size_t len,
			int reply, const char *status, bw_match *out, bw_command_found *found)
{
	bw_command_found_init(found, text, len);
	return match_best(kb, s, text, len, reply, status, out, found);
}

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
#include <stdlib.h>
#include <string.h>

#include "kb.h"
#include "literal.h"
#include "prefilter.h"

struct bw_scratch {
	unsigned long gen;	/* which kb this scratch is sized for */
	pcre2_match_data *md;
	unsigned char *hit;	/* pattern -> literal sets seen in this scan; 0x80: a candidate */
	unsigned *touched;	/* patterns whose hit is not 0 */
	unsigned *cand;		/* candidate patterns of this scan */
	size_t ntouched, ncand, cap;
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
	free(s->hit);
	free(s->cand);
	free(s->touched);
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

typedef struct doc_count {
	unsigned *freq;		/* set -> texts it occurred in */
	unsigned *seen;		/* set -> last text it was counted for, plus one */
	unsigned doc;
} doc_count;

static void count_hit(unsigned id, size_t start, void *p)
{
	doc_count *c = p;

	if (c->seen[id] != c->doc) {
		c->seen[id] = c->doc;
		c->freq[id]++;
	}
}

/*
 * Keeps, of each pattern's literal sets, the one or two that cost least: a
 * set whose strings turn up in many bounce texts makes many prefilter hits
 * and many regex runs. How often each set turns up is measured on the
 * rules' own examples (the bounce vocabulary at hand): the rarest set is
 * kept, and when even that one is common, the next rarest too (a text must
 * then hold both).
 */
static int choose_sets(const bw_kb *kb, bw_litset (*sets)[BW_LIT_SETS], size_t *nsets,
		       size_t npat)
{
	size_t total = 0, nlit = 0, g = 0, ndocs = 0;
	const char **lits;
	size_t *lens;
	unsigned *ids;
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
	dc.freq = calloc(total + 1, sizeof *dc.freq);
	dc.seen = calloc(total + 1, sizeof *dc.seen);
	if (!lits || !lens || !ids || !dc.freq || !dc.seen)
		goto out;
	nlit = 0;
	for (size_t k = 0; k < npat; k++) {
		for (size_t x = 0; x < nsets[k]; x++, g++) {
			for (size_t y = 0; y < sets[k][x].n; y++, nlit++) {
				lits[nlit] = sets[k][x].s[y];
				lens[nlit] = strlen(lits[nlit]);
				ids[nlit] = (unsigned)g;
			}
		}
	}
	if ((pf = bw_prefilter_new(lits, lens, ids, nlit)) == NULL)
		goto out;
	for (size_t i = 0; i < kb->nrules; i++) {
		size_t j;
		json_t *ex;
		json_array_foreach(kb->rules[i].examples, j, ex) {
			dc.doc = (unsigned)++ndocs;
			bw_prefilter_scan(pf, json_string_value(ex), json_string_length(ex), count_hit, &dc);
		}
	}
	g = 0;
	for (size_t k = 0; k < npat; k++) {
		size_t best = 0, second = (size_t)-1, n = nsets[k];
		unsigned *f = dc.freq + g;
		g += n;
		if (n <= 1)
			continue;
		for (size_t x = 1; x < n; x++)
			if (f[x] < f[best])
				best = x;
		for (size_t x = 0; x < n; x++)
			if (x != best && (second == (size_t)-1 || f[x] < f[second]))
				second = x;
		bw_litset a = sets[k][best], b = sets[k][second];
		sets[k][0] = a;
		nsets[k] = 1;
		/* common even at its rarest (more than 1 text in 200): ask for two */
		if ((size_t)f[best] * 200 > ndocs) {
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
	free(dc.freq);
	free(dc.seen);
	return rc;
}

int bw_matcher_build(bw_kb *kb, bw_error *err)
{
	size_t npat = 0, nlit = 0, ngroup = 0, k = 0, cap;
	const char **lits = NULL;
	size_t *lens = NULL;
	unsigned *ids = NULL;
	bw_litset (*sets)[BW_LIT_SETS] = NULL;
	size_t *nsets = NULL;

	kb->gen = atomic_fetch_add(&kb_generation, 1);
	for (size_t i = 0; i < kb->nrules; i++)
		npat += kb->rules[i].npats;
	kb->npat = npat;
	kb->pat_rule = calloc(npat + 1, sizeof *kb->pat_rule);
	kb->pat_code = calloc(npat + 1, sizeof *kb->pat_code);
	kb->pat_always = calloc(npat + 1, 1);
	kb->pat_need = calloc(npat + 1, 1);
	sets = calloc(npat + 1, sizeof *sets);
	nsets = calloc(npat + 1, sizeof *nsets);
	if (!kb->pat_rule || !kb->pat_code || !kb->pat_always || !kb->pat_need || !sets || !nsets)
		goto oom;
	for (size_t i = 0; i < kb->nrules; i++) {
		for (size_t j = 0; j < kb->rules[i].npats; j++, k++) {
			kb->pat_rule[k] = (unsigned)i;
			kb->pat_code[k] = kb->rules[i].pats[j];
			nsets[k] = bw_literal_sets(kb->rules[i].pat_src[j], MIN_LITERAL, sets[k]);
		}
	}
	if (choose_sets(kb, sets, nsets, npat) < 0)
		goto oom;
	kb->always_list = calloc(npat + 1, sizeof *kb->always_list);
	if (kb->always_list == NULL)
		goto oom;
	for (k = 0; k < npat; k++) {
		if (nsets[k] == 0) {
			kb->pat_always[k] = 1;
			kb->always_list[kb->nalways++] = (unsigned)k;
		}
		kb->pat_need[k] = (unsigned char)((1u << nsets[k]) - 1);
		ngroup += nsets[k];
		for (size_t x = 0; x < nsets[k]; x++)
			nlit += sets[k][x].n;
	}
	kb->ngroup = ngroup;
	kb->grp_pat = calloc(ngroup + 1, sizeof *kb->grp_pat);
	kb->grp_bit = calloc(ngroup + 1, 1);
	cap = nlit + 1;
	lits = calloc(cap, sizeof *lits);
	lens = calloc(cap, sizeof *lens);
	ids = calloc(cap, sizeof *ids);
	if (!lits || !lens || !ids || !kb->grp_pat || !kb->grp_bit)
		goto oom;
	nlit = 0;
	size_t g = 0;
	for (k = 0; k < npat; k++) {
		for (size_t x = 0; x < nsets[k]; x++, g++) {
			kb->grp_pat[g] = (unsigned)k;
			kb->grp_bit[g] = (unsigned char)(1u << x);
			for (size_t y = 0; y < sets[k][x].n; y++) {
				lits[nlit] = sets[k][x].s[y];
				lens[nlit] = strlen(sets[k][x].s[y]);
				ids[nlit] = (unsigned)g;
				nlit++;
			}
		}
	}
	if (nlit > 0 && (kb->pf = bw_prefilter_new(lits, lens, ids, nlit)) == NULL)
		goto oom;
	free(lits);
	free(lens);
	free(ids);
	free(sets);
	free(nsets);
	return 0;
oom:
	if (err)
		snprintf(err->text, sizeof err->text, "rules: out of memory");
	free(lits);
	free(lens);
	free(ids);
	free(sets);
	free(nsets);
	return -1;
}

void bw_matcher_free(bw_kb *kb)
{
	bw_prefilter_free(kb->pf);
	kb->pf = NULL;
	free(kb->pat_rule);
	free(kb->pat_code);
	free(kb->pat_always);
	free(kb->always_list);
	free(kb->pat_need);
	free(kb->grp_pat);
	free(kb->grp_bit);
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
	if (s->cap < kb->npat + 1) {
		unsigned char *hit = realloc(s->hit, kb->npat + 1);
		unsigned *cand = realloc(s->cand, (kb->npat + 1) * sizeof *cand);
		unsigned *touched = realloc(s->touched, (kb->npat + 1) * sizeof *touched);
		if (hit)
			s->hit = hit;
		if (cand)
			s->cand = cand;
		if (touched)
			s->touched = touched;
		if (!hit || !cand || !touched)
			return NULL;
		s->cap = kb->npat + 1;
	}
	memset(s->hit, 0, s->cap);
	s->gen = gen;
	return s;
}

typedef struct scan_ctx {
	const bw_kb *kb;
	bw_scratch *s;
} scan_ctx;

static void on_hit(unsigned id, size_t start, void *p)
{
	scan_ctx *c = p;
	bw_scratch *s = c->s;
	unsigned pi = c->kb->grp_pat[id];
	unsigned char h = s->hit[pi];

	if (h == 0)
		s->touched[s->ntouched++] = pi;
	h |= c->kb->grp_bit[id];
	/* a candidate once every literal set of the pattern has occurred */
	if ((h & 0x7f) == c->kb->pat_need[pi] && !(h & 0x80)) {
		h |= 0x80;
		s->cand[s->ncand++] = pi;
	}
	s->hit[pi] = h;
}

/* Does the rule's "when" allow these codes? Unknown codes never rule out. */
static int when_ok(const bw_rule *r, int reply, const char *status)
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
			size_t l = strlen(r->when_status[i]);
			ok = strncmp(status, r->when_status[i], l) == 0 &&
			     (status[l] == '\0' || status[l] == '.' || r->when_status[i][l - 1] == '.');
		}
		if (!ok)
			return 0;
	}
	return 1;
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

static void try_pattern(const bw_kb *kb, bw_scratch *s, size_t pi, const char *text,
			size_t len, bw_match *best)
{
	const bw_rule *r = &kb->rules[kb->pat_rule[pi]];
	int rc;

	/* a weaker rule cannot win: skip its regex */
	if (best->rule && r->priority < best->rule->priority)
		return;
	rc = pcre2_match(kb->pat_code[pi], (PCRE2_SPTR)text, len, 0, PCRE2_NO_UTF_CHECK, s->md,
			 kb->mctx);
	if (rc >= 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
		bw_match m = {r, ov[0], ov[1] < ov[0] ? ov[0] : ov[1]};
		if (better(&m, best))
			*best = m;
	}
}

int bw_match_best(const bw_kb *kb, bw_scratch *s, const char *text, size_t len, int reply,
		  const char *status, bw_match *out)
{
	scan_ctx c = {kb, s};
	bw_match best = {0};

	s->ncand = s->ntouched = 0;
	if (kb->pf)
		bw_prefilter_scan(kb->pf, text, len, on_hit, &c);
	for (size_t i = 0; i < s->ntouched; i++)
		s->hit[s->touched[i]] = 0;
	for (size_t i = 0; i < s->ncand; i++) {
		unsigned pi = s->cand[i];
		if (when_ok(&kb->rules[kb->pat_rule[pi]], reply, status))
			try_pattern(kb, s, pi, text, len, &best);
	}
	for (size_t i = 0; i < kb->nalways; i++) {
		unsigned pi = kb->always_list[i];
		if (when_ok(&kb->rules[kb->pat_rule[pi]], reply, status))
			try_pattern(kb, s, pi, text, len, &best);
	}
	if (best.rule == NULL)
		return 0;
	*out = best;
	return 1;
}

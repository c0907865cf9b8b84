/*
 * prefilter.c - many-string search by 4-byte (and 3-byte) grams.
 *
 * Equal strings (after lower-casing) are indexed once, with the list of ids
 * they stand for: the rules share many literals ("mailbox", "user"), and a
 * shared one then costs one comparison, not one per pattern. Each distinct
 * string is filed under one of its grams, the one whose bucket is emptiest
 * when it is added, so that common prefixes ("mail", "user") do not pile up
 * in one bucket. A scan rolls a lower-cased gram along the text, tests a
 * small bitmap first (most positions stop there), and only for a set bit
 * looks the gram up and compares the strings filed under it, eight bytes at
 * a time.
 *
 * Why not a library: Hyperscan's literal matcher was measured here at about
 * 15,000 instructions per 72-byte bounce line with the rules' 3,000 short
 * literals (its buckets fill with false positives and each needs a
 * confirmation); this index costs a few hundred on the same lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "prefilter.h"

#define FILTER_BITS 13

/* A distinct string, filed under one gram. */
typedef struct entry {
	unsigned word;		/* its first 8-byte word in words[] */
	unsigned id_first;	/* its ids: ids[id_first .. id_first + id_count) */
	unsigned short id_count;
	unsigned short off;	/* where the gram starts in the string */
	unsigned short len;
} entry;

typedef struct slot {
	uint32_t key;		/* a 4-gram (>= 2^24: no NUL in text), a 3-gram, 0: empty */
	unsigned first, count;	/* entries [first, first+count) */
	unsigned freq;		/* while building: occurrences in the sample texts */
} slot;

/*
 * The first test, one load per text position: filt[hash of the 3 bytes
 * before it] has bit 0 set when those 3 bytes are some string's 3-gram, and
 * bit cbit[next byte] when those 3 bytes and the next one are some string's
 * 4-gram.
 */
struct bw_prefilter {
	slot *slots;
	size_t mask;
	unsigned char filt[1u << FILTER_BITS];
	unsigned char low[256];		/* ASCII lower case */
	unsigned char cbit[256];	/* byte -> one of bits 1-7 (lower-cased first) */
	entry *entries;		/* bucket by bucket */
	uint64_t *words;	/* the strings, lower-cased, zero-padded to 8 bytes */
	uint64_t *masks;	/* per word: which bytes count */
	unsigned *ids;
	size_t n;		/* distinct strings */
};


static inline uint32_t mix(uint32_t k)
{
	k ^= k >> 15;
	k *= 0x2c1b3c6dU;
	k ^= k >> 12;
	k *= 0x297a2d39U;
	k ^= k >> 15;
	return k;
}

/* One multiply: the filter only has to spread grams, not resist anyone. */
static inline unsigned filt_of(uint32_t key3)
{
	return (key3 * 0x9E3779B1u) >> (32 - FILTER_BITS);
}

static uint32_t gram(const unsigned char *p, size_t w)
{
	uint32_t g = 0;

	for (size_t i = 0; i < w; i++)
		g = (g << 8) | low(p[i]);
	return g;
}

static slot *find(const bw_prefilter *pf, uint32_t key)
{
	size_t i = mix(key) & pf->mask;

	while (pf->slots[i].key) {
		if (pf->slots[i].key == key)
			return &pf->slots[i];
		i = (i + 1) & pf->mask;
	}
	return NULL;
}

static slot *find_or_add(bw_prefilter *pf, uint32_t key)
{
	size_t i = mix(key) & pf->mask;

	while (pf->slots[i].key) {
		if (pf->slots[i].key == key)
			return &pf->slots[i];
		i = (i + 1) & pf->mask;
	}
	pf->slots[i].key = key;
	return &pf->slots[i];
}

void bw_prefilter_free(bw_prefilter *pf)
{
	if (pf == NULL)
		return;
	free(pf->slots);
	free(pf->entries);
	free(pf->words);
	free(pf->masks);
	free(pf->ids);
	free(pf);
}

/* Input strings sorted by their lower-cased text, to find equal ones. */
typedef struct sorted {
	const char *low;
	size_t len;
	size_t i;
} sorted;

static int by_text(const void *a, const void *b)
{
	const sorted *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->low, y->low, n);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

bw_prefilter *bw_prefilter_new(const char *const *strs, const size_t *lens,
			       const unsigned *ids, size_t n)
{
	return bw_prefilter_new_tuned(strs, lens, ids, n, NULL, NULL, 0);
}

/* Counts, for each gram already in the table, its occurrences in text. */
static void count_grams(bw_prefilter *pf, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	uint32_t g = 0;

	for (size_t i = 0; i < len; i++) {
		slot *sl;
		g = (g << 8) | low(p[i]);
		if (i >= 2 && (sl = find(pf, g & 0xFFFFFFu)) != NULL)
			sl->freq++;
		if (i >= 3 && (sl = find(pf, g)) != NULL)
			sl->freq++;
	}
}

bw_prefilter *bw_prefilter_new_tuned(const char *const *strs, const size_t *lens,
				     const unsigned *ids, size_t n,
				     const char *const *samples, const size_t *slens,
				     size_t nsamples)
{
	bw_prefilter *pf = calloc(1, sizeof *pf);
	char *lowbuf = NULL;
	sorted *srt = NULL;
	size_t *first = NULL;	/* distinct string -> its first position in srt */
	size_t *gram_at = NULL;	/* distinct string -> chosen gram offset */
	size_t nd = 0, nwords = 0, total = 0, pos = 0, cap = 16;

	if (pf == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (lens[i] < 3 || lens[i] > 0xffff)
			goto fail;
		total += lens[i] + 1;
	}
	lowbuf = malloc(total + 1);
	srt = calloc(n + 1, sizeof *srt);
	first = calloc(n + 1, sizeof *first);
	gram_at = calloc(n + 1, sizeof *gram_at);
	pf->ids = calloc(n + 1, sizeof *pf->ids);
	if (!lowbuf || !srt || !first || !gram_at || !pf->ids)
		goto fail;
	for (size_t i = 0, o = 0; i < n; i++) {
		for (size_t k = 0; k < lens[i]; k++)
			lowbuf[o + k] = (char)low((unsigned char)strs[i][k]);
		srt[i] = (sorted){lowbuf + o, lens[i], i};
		o += lens[i] + 1;
	}
	qsort(srt, n, sizeof *srt, by_text);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || by_text(&(sorted){srt[i].low, srt[i].len, 0},
				      &(sorted){srt[i - 1].low, srt[i - 1].len, 0}) != 0) {
			first[nd++] = i;
			nwords += (srt[i].len + 7) / 8;
		}
		pf->ids[i] = ids[srt[i].i];
	}
	first[nd] = n;
	pf->n = nd;
	/* every gram of every string gets a slot while choosing */
	while (cap < total * 2 + 16)
		cap <<= 1;
	pf->slots = calloc(cap, sizeof *pf->slots);
	pf->mask = cap - 1;
	pf->entries = calloc(nd + 1, sizeof *pf->entries);
	pf->words = calloc(nwords + 1, sizeof *pf->words);
	pf->masks = calloc(nwords + 1, sizeof *pf->masks);
	if (!pf->slots || !pf->entries || !pf->words || !pf->masks)
		goto fail;
	/* every gram a string could be filed under, and how common it is */
	for (size_t d = 0; d < nd; d++) {
		const unsigned char *s = (const unsigned char *)srt[first[d]].low;
		size_t l = srt[first[d]].len, w = l >= 4 ? 4 : 3;
		for (size_t o = 0; o + w <= l; o++)
			find_or_add(pf, gram(s + o, w));
	}
	for (size_t i = 0; i < nsamples; i++)
		count_grams(pf, samples[i], slens[i]);
	/*
	 * Choose each string's gram: the rarest in the samples (each
	 * occurrence of a gram in a text costs a lookup), then the emptiest
	 * bucket (each string in it costs a comparison).
	 */
	for (size_t d = 0; d < nd; d++) {
		const unsigned char *s = (const unsigned char *)srt[first[d]].low;
		size_t l = srt[first[d]].len, w = l >= 4 ? 4 : 3, best = 0;
		slot *bs = NULL;
		for (size_t o = 0; o + w <= l; o++) {
			slot *sl = find(pf, gram(s + o, w));
			if (bs == NULL || sl->freq < bs->freq ||
			    (sl->freq == bs->freq && sl->count < bs->count)) {
				bs = sl;
				best = o;
			}
		}
		bs->count++;
		gram_at[d] = best;
	}
	/* keep only the chosen grams, in a table small enough to stay in cache */
	{
		size_t used = 0, big_mask = pf->mask, small = 16;
		slot *big = pf->slots;
		for (size_t i = 0; i <= big_mask; i++)
			used += big[i].count > 0;
		while (small < used * 2 + 16)
			small <<= 1;
		if ((pf->slots = calloc(small, sizeof *pf->slots)) == NULL) {
			pf->slots = big;
			goto fail;
		}
		pf->mask = small - 1;
		for (size_t i = 0; i <= big_mask; i++)
			if (big[i].count > 0)
				find_or_add(pf, big[i].key)->count = big[i].count;
		free(big);
	}
	/* lay out the entries bucket by bucket */
	for (size_t i = 0; i <= pf->mask; i++) {
		pf->slots[i].first = (unsigned)pos;
		pos += pf->slots[i].count;
		pf->slots[i].count = 0;
	}
	nwords = 0;
	for (size_t d = 0; d < nd; d++) {
		const sorted *st = &srt[first[d]];
		size_t l = st->len, w = l >= 4 ? 4 : 3;
		uint32_t key = gram((const unsigned char *)st->low + gram_at[d], w);
		slot *sl = find(pf, key);
		pf->entries[sl->first + sl->count++] = (entry){
			(unsigned)nwords, (unsigned)first[d], (unsigned short)(first[d + 1] - first[d]),
			(unsigned short)gram_at[d], (unsigned short)l};
		for (size_t k = 0; k < l; k += 8) {
			size_t m = l - k < 8 ? l - k : 8;
			unsigned char b[8] = {0};
			memcpy(b, st->low + k, m);
			memcpy(&pf->words[nwords], b, 8);
			memset(b, 0xff, m);
			memset(b + m, 0, 8 - m);
			memcpy(&pf->masks[nwords], b, 8);
			nwords++;
		}
		if (w == 4)
			pf->filt[filt_of(key >> 8)] |= (unsigned char)(2u << ((key & 0xff) % 7));
		else
			pf->filt[filt_of(key)] |= 1;
	}
	for (unsigned c = 0; c < 256; c++) {
		pf->low[c] = low((unsigned char)c);
		pf->cbit[c] = (unsigned char)(2u << (pf->low[c] % 7));
	}
	free(lowbuf);
	free(srt);
	free(first);
	free(gram_at);
	return pf;
fail:
	free(lowbuf);
	free(srt);
	free(first);
	free(gram_at);
	bw_prefilter_free(pf);
	return NULL;
}

/* Does the text at p (room bytes readable) hold entry e's string? */
static inline int same(const bw_prefilter *pf, const entry *e, const unsigned char *p,
		       size_t room)
{
	const uint64_t *w = pf->words + e->word, *m = pf->masks + e->word;
	size_t l = e->len;

	if (room >= ((l + 7) & ~(size_t)7)) {
		for (size_t k = 0; k < l; k += 8, w++, m++) {
			uint64_t x;
			memcpy(&x, p + k, 8);
			if ((low8(x) & *m) != *w)
				return 0;
		}
		return 1;
	}
	const unsigned char *s = (const unsigned char *)w;
	for (size_t k = 0; k < l; k++)
		if (low(p[k]) != s[k])
			return 0;
	return 1;
}

typedef void (*hit_fn)(const unsigned *ids, size_t n, size_t start, void *ctx);

static void probe(const bw_prefilter *pf, uint32_t key, const unsigned char *text, size_t len,
		  size_t gram_start, hit_fn hit, void *ctx)
{
	const slot *sl;

	if ((sl = find(pf, key)) == NULL)
		return;
	for (unsigned i = 0; i < sl->count; i++) {
		const entry *e = &pf->entries[sl->first + i];
		if (gram_start < e->off || gram_start - e->off + e->len > len)
			continue;
		size_t start = gram_start - e->off;
		if (same(pf, e, text + start, len - start))
			hit(pf->ids + e->id_first, e->id_count, start, ctx);
	}
}

void bw_prefilter_scan(const bw_prefilter *pf, const char *text, size_t len, hit_fn hit,
		       void *ctx)
{
	const unsigned char *p = (const unsigned char *)text;
	const unsigned char *lw = pf->low, *cb = pf->cbit, *filt = pf->filt;
	uint32_t g;

	if (len < 3)
		return;
	g = ((uint32_t)lw[p[0]] << 16) | ((uint32_t)lw[p[1]] << 8) | lw[p[2]];
	/* at i: the 3-gram p[i-3..i-1] and the 4-gram p[i-3..i] */
	for (size_t i = 3; i < len; i++) {
		unsigned char c = p[i];
		unsigned v = filt[filt_of(g & 0xFFFFFFu)];
		g = (g << 8) | lw[c];
		if (v & (1u | cb[c])) {
			if (v & 1)
				probe(pf, (g >> 8) & 0xFFFFFFu, p, len, i - 3, hit, ctx);
			if (v & cb[c])
				probe(pf, g, p, len, i - 3, hit, ctx);
		}
	}
	/* the last 3-gram */
	if (filt[filt_of(g & 0xFFFFFFu)] & 1)
		probe(pf, g & 0xFFFFFFu, p, len, len - 3, hit, ctx);
}

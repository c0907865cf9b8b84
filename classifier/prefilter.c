/*
 * prefilter.c - many-string search by 4-byte (and 3-byte) grams.
 *
 * Each string is filed under one of its grams, the one whose bucket is
 * emptiest when it is added, so that common prefixes ("mail", "user") do not
 * pile up in one bucket. A scan rolls a lower-cased gram along the text,
 * tests a small bitmap first (most positions stop there), and only for a
 * set bit looks the gram up and compares the strings filed under it.
 *
 * Why not a library: Hyperscan's literal matcher was measured here at about
 * 15,000 instructions per 72-byte bounce line with the rules' 3,000 short
 * literals (its buckets fill with false positives and each needs a
 * confirmation); this index costs a few hundred on the same lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prefilter.h"

#define BITMAP_BITS 16

typedef struct entry {
	unsigned sid;	/* string index */
	unsigned off;	/* where the gram starts in the string */
} entry;

typedef struct slot {
	uint32_t key;
	unsigned first, count;	/* entries [first, first+count) */
	int used;
} slot;

typedef struct table {
	slot *slots;
	size_t mask;
	unsigned char bitmap[(1u << BITMAP_BITS) / 8];
	int any;
} table;

struct bw_prefilter {
	table t4, t3;
	entry *entries;
	char **strs;	/* lower-cased copies */
	size_t *lens;
	unsigned *ids;
	size_t n;
};

static inline unsigned char low(unsigned char c)
{
	return (unsigned char)(c + (((unsigned)(c - 'A') < 26u) << 5));
}

static inline uint32_t mix(uint32_t k)
{
	k ^= k >> 15;
	k *= 0x2c1b3c6dU;
	k ^= k >> 12;
	k *= 0x297a2d39U;
	k ^= k >> 15;
	return k;
}

/* One multiply: the bitmap only has to spread grams, not resist anyone. */
static inline unsigned bit_of(uint32_t key)
{
	return (key * 0x9E3779B1u) >> (32 - BITMAP_BITS);
}

static uint32_t gram(const unsigned char *p, size_t w)
{
	uint32_t g = 0;

	for (size_t i = 0; i < w; i++)
		g = (g << 8) | low(p[i]);
	return g;
}

static slot *find(const table *t, uint32_t key)
{
	size_t i = mix(key) & t->mask;

	while (t->slots[i].used) {
		if (t->slots[i].key == key)
			return &t->slots[i];
		i = (i + 1) & t->mask;
	}
	return NULL;
}

static slot *find_or_add(table *t, uint32_t key)
{
	size_t i = mix(key) & t->mask;

	while (t->slots[i].used) {
		if (t->slots[i].key == key)
			return &t->slots[i];
		i = (i + 1) & t->mask;
	}
	t->slots[i].used = 1;
	t->slots[i].key = key;
	return &t->slots[i];
}

static int table_init(table *t, size_t n)
{
	size_t cap = 16;

	while (cap < n * 2 + 16)
		cap <<= 1;
	t->slots = calloc(cap, sizeof *t->slots);
	t->mask = cap - 1;
	return t->slots ? 0 : -1;
}

void bw_prefilter_free(bw_prefilter *pf)
{
	if (pf == NULL)
		return;
	free(pf->t4.slots);
	free(pf->t3.slots);
	free(pf->entries);
	for (size_t i = 0; i < pf->n; i++)
		free(pf->strs[i]);
	free(pf->strs);
	free(pf->lens);
	free(pf->ids);
	free(pf);
}

bw_prefilter *bw_prefilter_new(const char *const *strs, const size_t *lens,
			       const unsigned *ids, size_t n)
{
	bw_prefilter *pf = calloc(1, sizeof *pf);
	unsigned *gram_of = NULL;	/* string -> chosen key */
	unsigned char *width = NULL;
	size_t pos = 0;

	if (pf == NULL)
		return NULL;
	pf->strs = calloc(n + 1, sizeof *pf->strs);
	pf->lens = calloc(n + 1, sizeof *pf->lens);
	pf->ids = calloc(n + 1, sizeof *pf->ids);
	pf->entries = calloc(n + 1, sizeof *pf->entries);
	gram_of = calloc(n + 1, sizeof *gram_of);
	width = calloc(n + 1, 1);
	/* every gram of every string gets a slot while choosing */
	size_t grams = 0;
	for (size_t i = 0; i < n; i++)
		grams += lens[i] >= 3 ? lens[i] - 2 : 1;
	if (!pf->strs || !pf->lens || !pf->ids || !pf->entries || !gram_of || !width ||
	    table_init(&pf->t4, grams) < 0 || table_init(&pf->t3, grams) < 0)
		goto fail;
	pf->n = n;
	/* first pass: choose each string's gram and count the buckets */
	for (size_t i = 0; i < n; i++) {
		const unsigned char *s = (const unsigned char *)strs[i];
		size_t l = lens[i], best = 0;
		slot *bs = NULL;
		if (l < 3)
			goto fail;
		if ((pf->strs[i] = malloc(l + 1)) == NULL)
			goto fail;
		for (size_t k = 0; k < l; k++)
			pf->strs[i][k] = (char)low(s[k]);
		pf->strs[i][l] = '\0';
		pf->lens[i] = l;
		pf->ids[i] = ids[i];
		width[i] = l >= 4 ? 4 : 3;
		table *t = width[i] == 4 ? &pf->t4 : &pf->t3;
		for (size_t o = 0; o + width[i] <= l; o++) {
			slot *sl = find_or_add(t, gram(s + o, width[i]));
			if (bs == NULL || sl->count < bs->count) {
				bs = sl;
				best = o;
			}
		}
		bs->count++;
		gram_of[i] = (unsigned)best;
		t->any = 1;
	}
	/* lay out the entries bucket by bucket */
	for (int w = 0; w < 2; w++) {
		table *t = w ? &pf->t3 : &pf->t4;
		for (size_t i = 0; i <= t->mask; i++) {
			t->slots[i].first = (unsigned)pos;
			pos += t->slots[i].count;
			t->slots[i].count = 0;
		}
	}
	for (size_t i = 0; i < n; i++) {
		table *t = width[i] == 4 ? &pf->t4 : &pf->t3;
		uint32_t key = gram((const unsigned char *)pf->strs[i] + gram_of[i], width[i]);
		slot *sl = find(t, key);
		pf->entries[sl->first + sl->count++] = (entry){(unsigned)i, gram_of[i]};
		unsigned h = bit_of(key);
		t->bitmap[h >> 3] |= (unsigned char)(1u << (h & 7));
	}
	free(gram_of);
	free(width);
	return pf;
fail:
	free(gram_of);
	free(width);
	bw_prefilter_free(pf);
	return NULL;
}

static inline int maybe(const table *t, uint32_t key)
{
	unsigned h = bit_of(key);

	return t->bitmap[h >> 3] & (1u << (h & 7));
}

static void probe(const bw_prefilter *pf, const table *t, uint32_t key, const char *text,
		  size_t len, size_t gram_start, void (*hit)(unsigned, size_t, void *), void *ctx)
{
	const slot *sl;

	if ((sl = find(t, key)) == NULL)
		return;
	for (unsigned e = 0; e < sl->count; e++) {
		const entry *en = &pf->entries[sl->first + e];
		size_t l = pf->lens[en->sid];
		const char *s = pf->strs[en->sid];
		if (gram_start < en->off || gram_start - en->off + l > len)
			continue;
		const unsigned char *p = (const unsigned char *)text + gram_start - en->off;
		size_t k = 0;
		while (k < l && low(p[k]) == (unsigned char)s[k])
			k++;
		if (k == l)
			hit(pf->ids[en->sid], gram_start - en->off, ctx);
	}
}

void bw_prefilter_scan(const bw_prefilter *pf, const char *text, size_t len,
		       void (*hit)(unsigned id, size_t start, void *ctx), void *ctx)
{
	const unsigned char *p = (const unsigned char *)text;
	uint32_t g = 0;
	int any3 = pf->t3.any, any4 = pf->t4.any;

	for (size_t i = 0; i < len; i++) {
		g = (g << 8) | low(p[i]);
		if (i >= 2 && any3 && maybe(&pf->t3, g & 0xFFFFFFu))
			probe(pf, &pf->t3, g & 0xFFFFFFu, text, len, i - 2, hit, ctx);
		if (i >= 3 && any4 && maybe(&pf->t4, g))
			probe(pf, &pf->t4, g, text, len, i - 3, hit, ctx);
	}
}

/*
 * prefilter.c - many-string search by 4-byte (and 3-byte) grams.
 *
 * Equal strings (after lower-casing) are indexed once, with the list of ids
 * they stand for: the rules share many literals ("mailbox", "user"), and a
 * shared one then costs one comparison, not one per pattern. Each distinct
 * string is filed under one of its grams: the rarest in sample texts (each
 * occurrence costs a lookup), then the one whose bucket is emptiest. A scan
 * reads the text eight bytes at a time and looks at four places per read,
 * folds case by setting bit 5 of every byte (a function of the lower-cased
 * byte, so text and string agree on it whenever they agree caselessly),
 * tests a small bitmap first (most places stop there), and only for a set
 * bit hashes the folded gram to its bucket and compares the strings filed
 * there, eight bytes at a time (3- and 4-letter strings: the key alone).
 *
 * In bitmap mode (bw_prefilter_new_bits) a found string's ids are ORed into
 * the caller's bitmap as precomputed (word, mask) runs instead of being
 * reported one by one: the matcher then reads its candidates off the bitmap.
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
	uint32_t key;		/* its folded gram (see fold_key) */
	unsigned word;		/* its first 8-byte word in words[] */
	unsigned id_first;	/* its ids: ids[id_first .. id_first + id_count), ascending */
	unsigned run_first;	/* its bit ids as runs[run_first .. run_first + run_count) */
	unsigned short id_count;
	unsigned short id_bits;	/* how many of its ids are bit ids (< nbits): the first */
	unsigned short run_count;
	unsigned short off;	/* where the gram starts in the string */
	unsigned short len;
	unsigned short whole;	/* the gram is the string, all letters: equal keys suffice */
} entry;

/* Bits to set in one word of the caller's bitmap. */
typedef struct run {
	uint64_t mask;
	size_t word;
} run;

/* While building: a gram, and how it is used. */
typedef struct slot {
	uint32_t key;		/* a lower-cased 4-gram (>= 2^24) or 3-gram, 0: empty */
	unsigned count;		/* strings filed under it */
	unsigned freq;		/* occurrences in the sample texts */
} slot;

/*
 * The first test, one load per text position: filt[hash of the 3 folded
 * bytes there] has bit 0 set when they are some string's 3-gram, and bit
 * cbit[next folded byte] when those 3 bytes and the next one are some
 * string's 4-gram. Then bucket[hash of the gram] names the strings to
 * compare.
 */
struct bw_prefilter {
	unsigned char filt[1u << FILTER_BITS];
	unsigned char cbit[256];	/* folded byte -> bit 0 and one of bits 1-7 */
	unsigned *bucket;	/* nbucket + 1 starts into entries */
	unsigned bshift;	/* bucket of key: (key * mult) >> bshift */
	entry *entries;		/* bucket by bucket */
	uint64_t *words;	/* the strings, lower-cased, zero-padded to 8 bytes */
	uint64_t *masks;	/* per word: which bytes count */
	uint64_t *folds;	/* per word: 0x20 in each byte that is a letter */
	unsigned *ids;
	run *runs;
	size_t n;		/* distinct strings */
	size_t nbits;
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

/*
 * One multiply: the filter only has to spread grams, not resist anyone.
 * Of a folded key, only the 3-gram (its low 3 bytes) counts.
 */
static inline unsigned filt_of(uint32_t key)
{
	return ((key << 8) * 0x9E3779B1u) >> (32 - FILTER_BITS);
}

static inline unsigned bucket_of(const bw_prefilter *pf, uint32_t key)
{
	return (key * 0x85EBCA6Bu) >> pf->bshift;
}

/* The bytes at p as a little-endian number (one load on x86). */
static inline uint32_t load4(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t load8(const unsigned char *p)
{
	return (uint64_t)load4(p) | (uint64_t)load4(p + 4) << 32;
}

static inline uint32_t load3(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/*
 * The folded key of a gram of w bytes (3 or 4): each byte with bit 5 set,
 * little-endian. c | 0x20 equals low(c) | 0x20 for every byte, so equal
 * grams (ignoring ASCII case) have equal keys; other grams may too, and
 * the comparison of the strings sorts them out.
 */
static inline uint32_t fold_key(const unsigned char *p, size_t w)
{
	return w == 4 ? load4(p) | 0x20202020u : load3(p) | 0x202020u;
}

/* The lower-cased gram, big-endian, as the build's slot table keys it. */
static uint32_t gram(const unsigned char *p, size_t w)
{
	uint32_t g = 0;

	for (size_t i = 0; i < w; i++)
		g = (g << 8) | low(p[i]);
	return g;
}

/* The slot of key, or the empty one where it would go (linear probing). */
static slot *slot_of(slot *slots, size_t mask, uint32_t key)
{
	size_t i = mix(key) & mask;

	while (slots[i].key && slots[i].key != key)
		i = (i + 1) & mask;
	return &slots[i];
}

static slot *find(slot *slots, size_t mask, uint32_t key)
{
	slot *s = slot_of(slots, mask, key);

	return s->key ? s : NULL;
}

static slot *find_or_add(slot *slots, size_t mask, uint32_t key)
{
	slot *s = slot_of(slots, mask, key);

	s->key = key;
	return s;
}

void bw_prefilter_free(bw_prefilter *pf)
{
	if (pf == NULL)
		return;
	free(pf->bucket);
	free(pf->entries);
	free(pf->words);
	free(pf->masks);
	free(pf->folds);
	free(pf->ids);
	free(pf->runs);
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

/*
 * Is s (n bytes, lower-cased) 3 or 4 letters? Then it is its own gram, and
 * a text's gram with the same folded key is the string in some case: the
 * only bytes that fold to a letter are its two cases.
 */
static int all_letters(const char *s, size_t n)
{
	if (n > 4)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return 0;
	return 1;
}

static int by_id(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

bw_prefilter *bw_prefilter_new(const char *const *strs, const size_t *lens,
			       const unsigned *ids, size_t n)
{
	return bw_prefilter_new_bits(strs, lens, ids, n, NULL, NULL, 0, 0);
}

bw_prefilter *bw_prefilter_new_tuned(const char *const *strs, const size_t *lens,
				     const unsigned *ids, size_t n,
				     const char *const *samples, const size_t *slens,
				     size_t nsamples)
{
	return bw_prefilter_new_bits(strs, lens, ids, n, samples, slens, nsamples, 0);
}

/* Counts, for each gram already in the table, its occurrences in text. */
static void count_grams(slot *slots, size_t mask, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	uint32_t g = 0;

	for (size_t i = 0; i < len; i++) {
		slot *sl;
		g = (g << 8) | low(p[i]);
		if (i >= 2 && (sl = find(slots, mask, g & 0xFFFFFFu)) != NULL)
			sl->freq++;
		if (i >= 3 && (sl = find(slots, mask, g)) != NULL)
			sl->freq++;
	}
}

bw_prefilter *bw_prefilter_new_bits(const char *const *strs, const size_t *lens,
				    const unsigned *ids, size_t n,
				    const char *const *samples, const size_t *slens,
				    size_t nsamples, size_t nbits)
{
	bw_prefilter *pf = calloc(1, sizeof *pf);
	char *lowbuf = NULL;
	sorted *srt = NULL;
	slot *slots = NULL;
	size_t *first = NULL;	/* distinct string -> its first position in srt */
	size_t *gram_at = NULL;	/* distinct string -> chosen gram offset */
	size_t nd = 0, nwords = 0, total = 0, cap = 16, mask, nbucket = 16, nruns = 0;
	unsigned bbits = 4;

	if (pf == NULL)
		return NULL;
	pf->nbits = nbits;
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
	pf->runs = calloc(n + 1, sizeof *pf->runs);
	if (!lowbuf || !srt || !first || !gram_at || !pf->ids || !pf->runs)
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
	/* each string's ids ascending: its bit ids first */
	for (size_t d = 0; d < nd; d++)
		qsort(pf->ids + first[d], first[d + 1] - first[d], sizeof *pf->ids, by_id);
	/* every gram of every string gets a slot while choosing */
	while (cap < total * 2 + 16)
		cap <<= 1;
	mask = cap - 1;
	slots = calloc(cap, sizeof *slots);
	pf->entries = calloc(nd + 1, sizeof *pf->entries);
	pf->words = calloc(nwords + 1, sizeof *pf->words);
	pf->masks = calloc(nwords + 1, sizeof *pf->masks);
	pf->folds = calloc(nwords + 1, sizeof *pf->folds);
	if (!slots || !pf->entries || !pf->words || !pf->masks || !pf->folds)
		goto fail;
	/* every gram a string could be filed under, and how common it is */
	for (size_t d = 0; d < nd; d++) {
		const unsigned char *s = (const unsigned char *)srt[first[d]].low;
		size_t l = srt[first[d]].len, w = l >= 4 ? 4 : 3;
		for (size_t o = 0; o + w <= l; o++)
			find_or_add(slots, mask, gram(s + o, w));
	}
	for (size_t i = 0; i < nsamples; i++)
		count_grams(slots, mask, samples[i], slens[i]);
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
			slot *sl = find(slots, mask, gram(s + o, w));
			if (bs == NULL || sl->freq < bs->freq ||
			    (sl->freq == bs->freq && sl->count < bs->count)) {
				bs = sl;
				best = o;
			}
		}
		bs->count++;
		gram_at[d] = best;
	}
	/* buckets: about four per string, so that few keys share one */
	while (nbucket < nd * 4) {
		nbucket <<= 1;
		bbits++;
	}
	pf->bshift = 32 - bbits;
	if ((pf->bucket = calloc(nbucket + 1, sizeof *pf->bucket)) == NULL)
		goto fail;
	for (size_t d = 0; d < nd; d++) {
		const sorted *st = &srt[first[d]];
		size_t w = st->len >= 4 ? 4 : 3;
		uint32_t key = fold_key((const unsigned char *)st->low + gram_at[d], w);
		pf->bucket[bucket_of(pf, key) + 1]++;
	}
	for (size_t b = 0; b < nbucket; b++)
		pf->bucket[b + 1] += pf->bucket[b];
	/* lay out the entries bucket by bucket (bucket[b] counts up while filling) */
	nwords = 0;
	for (size_t d = 0; d < nd; d++) {
		const sorted *st = &srt[first[d]];
		size_t l = st->len, w = l >= 4 ? 4 : 3;
		uint32_t key = fold_key((const unsigned char *)st->low + gram_at[d], w);
		unsigned b = bucket_of(pf, key);
		size_t nid = first[d + 1] - first[d], nb = 0, r0 = nruns;
		for (size_t k = 0; k < nid; k++) {
			unsigned id = pf->ids[first[d] + k];
			if (id >= nbits)
				break;
			nb++;
			if (nruns == r0 || pf->runs[nruns - 1].word != id / 64)
				pf->runs[nruns++] = (run){0, id / 64};
			pf->runs[nruns - 1].mask |= (uint64_t)1 << (id % 64);
		}
		if (nid > 0xffff || nruns - r0 > 0xffff)
			goto fail;
		pf->entries[pf->bucket[b]++] = (entry){
			key, (unsigned)nwords, (unsigned)first[d], (unsigned)r0,
			(unsigned short)nid, (unsigned short)nb, (unsigned short)(nruns - r0),
			(unsigned short)gram_at[d], (unsigned short)l,
			(unsigned short)all_letters(st->low, l)};
		for (size_t k = 0; k < l; k += 8) {
			size_t m = l - k < 8 ? l - k : 8;
			unsigned char by[8] = {0};
			memcpy(by, st->low + k, m);
			memcpy(&pf->words[nwords], by, 8);
			memset(by, 0xff, m);
			memset(by + m, 0, 8 - m);
			memcpy(&pf->masks[nwords], by, 8);
			for (size_t j = 0; j < 8; j++)
				by[j] = j < m && st->low[k + j] >= 'a' && st->low[k + j] <= 'z' ? 0x20 : 0;
			memcpy(&pf->folds[nwords], by, 8);
			nwords++;
		}
	}
	/* bucket[b] now holds where bucket b + 1 starts: shift back */
	memmove(pf->bucket + 1, pf->bucket, nbucket * sizeof *pf->bucket);
	pf->bucket[0] = 0;
	for (unsigned c = 0; c < 256; c++)
		pf->cbit[c] = (unsigned char)(2u << (c % 7));	/* bit 0 below, after the filter */
	for (size_t d = 0; d < nd; d++) {
		const sorted *st = &srt[first[d]];
		size_t w = st->len >= 4 ? 4 : 3;
		uint32_t key = fold_key((const unsigned char *)st->low + gram_at[d], w);
		if (w == 4)
			pf->filt[filt_of(key)] |= pf->cbit[key >> 24];
		else
			pf->filt[filt_of(key)] |= 1;
	}
	/* the scan tests filt[3-gram] & cbit[4th byte]: a 3-gram passes with any */
	for (unsigned c = 0; c < 256; c++)
		pf->cbit[c] |= 1;
	free(slots);
	free(lowbuf);
	free(srt);
	free(first);
	free(gram_at);
	return pf;
fail:
	free(slots);
	free(lowbuf);
	free(srt);
	free(first);
	free(gram_at);
	bw_prefilter_free(pf);
	return NULL;
}

/*
 * Does the text at p (room bytes readable) hold entry e's string? Eight
 * bytes at a time: setting bit 5 where the string has a letter a-z folds
 * exactly that letter's two cases onto it (the string is lower case), and
 * every other byte must be equal.
 */
static inline int same(const bw_prefilter *pf, const entry *e, const unsigned char *p,
		       size_t room)
{
	const uint64_t *w = pf->words + e->word, *m = pf->masks + e->word,
		       *f = pf->folds + e->word;
	size_t l = e->len;

	if (room >= ((l + 7) & ~(size_t)7)) {
		for (size_t k = 0; k < l; k += 8, w++, m++, f++) {
			uint64_t x;
			memcpy(&x, p + k, 8);
			if (((x & *m) | *f) != *w)
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

/* The strings filed under key, which occurs folded at gram_start. */
static inline __attribute__((always_inline)) void
probe(const bw_prefilter *pf, uint32_t key, const unsigned char *text, size_t len,
      size_t gram_start, uint64_t *bits, hit_fn hit, void *ctx)
{
	unsigned b = bucket_of(pf, key);
	const entry *e = pf->entries + pf->bucket[b], *end = pf->entries + pf->bucket[b + 1];

	for (; e < end; e++) {
		if (e->key != key || gram_start < e->off || gram_start - e->off + e->len > len)
			continue;
		size_t start = gram_start - e->off;
		if (!e->whole && !same(pf, e, text + start, len - start))
			continue;
		if (bits == NULL) {
			hit(pf->ids + e->id_first, e->id_count, start, ctx);
			continue;
		}
		for (const run *r = pf->runs + e->run_first, *re = r + e->run_count; r < re; r++)
			bits[r->word] |= r->mask;
		if (e->id_count > e->id_bits)
			hit(pf->ids + e->id_first + e->id_bits, e->id_count - e->id_bits, start, ctx);
	}
}

/* The filter said v for the folded 4 bytes k at i: its 3-gram (bit 0), its 4-gram. */
static inline __attribute__((always_inline)) void
probe_both(const bw_prefilter *pf, unsigned v, uint32_t k, const unsigned char *text, size_t len,
	   size_t i, uint64_t *bits, hit_fn hit, void *ctx)
{
	if (v & 1)
		probe(pf, k & 0xFFFFFFu, text, len, i, bits, hit, ctx);
	if (v & ~1u)
		probe(pf, k, text, len, i, bits, hit, ctx);
}

static inline __attribute__((always_inline)) void
scan(const bw_prefilter *pf, const char *text, size_t len, uint64_t *bits, hit_fn hit,
     void *ctx)
{
	const unsigned char *p = (const unsigned char *)text;
	const unsigned char *cb = pf->cbit, *filt = pf->filt;
	uint32_t k;

	if (len < 3)
		return;
	/*
	 * At q: the 3-gram q[0..2] and the 4-gram q[0..3]; cbit has bit 0 set.
	 * Four places per 8-byte load, and one branch for all four.
	 */
	const unsigned char *q = p, *end = p + len - 3;
	for (; q + 8 <= p + len; q += 4) {
		uint64_t x = load8(q) | 0x2020202020202020u;
		uint32_t k0 = (uint32_t)x, k1 = (uint32_t)(x >> 8), k2 = (uint32_t)(x >> 16),
			 k3 = (uint32_t)(x >> 24);
		unsigned v0 = filt[filt_of(k0)] & cb[k0 >> 24], v1 = filt[filt_of(k1)] & cb[k1 >> 24],
			 v2 = filt[filt_of(k2)] & cb[k2 >> 24], v3 = filt[filt_of(k3)] & cb[k3 >> 24];
		if (__builtin_expect((v0 | v1 | v2 | v3) != 0, 0)) {
			size_t i = (size_t)(q - p);
			if (v0)
				probe_both(pf, v0, (uint32_t)x, p, len, i, bits, hit, ctx);
			if (v1)
				probe_both(pf, v1, (uint32_t)(x >> 8), p, len, i + 1, bits, hit, ctx);
			if (v2)
				probe_both(pf, v2, (uint32_t)(x >> 16), p, len, i + 2, bits, hit, ctx);
			if (v3)
				probe_both(pf, v3, (uint32_t)(x >> 24), p, len, i + 3, bits, hit, ctx);
		}
	}
	for (; q < end; q++) {
		k = load4(q) | 0x20202020u;
		unsigned v = filt[filt_of(k)] & cb[k >> 24];
		if (__builtin_expect(v != 0, 0))
			probe_both(pf, v, k, p, len, (size_t)(q - p), bits, hit, ctx);
	}
	/* the last 3-gram */
	k = load3(p + len - 3) | 0x202020u;
	if (filt[filt_of(k)] & 1)
		probe(pf, k, p, len, len - 3, bits, hit, ctx);
}

void bw_prefilter_scan(const bw_prefilter *pf, const char *text, size_t len, hit_fn hit,
		       void *ctx)
{
	scan(pf, text, len, NULL, hit, ctx);
}

void bw_prefilter_scan_bits(const bw_prefilter *pf, const char *text, size_t len,
			    uint64_t *bits, hit_fn hit, void *ctx)
{
	scan(pf, text, len, bits, hit, ctx);
}

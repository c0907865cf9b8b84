/*
 * match.c - find the best rule for a text, all rules at once.
 *
 * Running hundreds of PCRE2 patterns one after another over every text is
 * too slow, so every pattern is also compiled into one Hyperscan database in
 * prefilter mode: a single pass over the text names the candidate rules,
 * and PCRE2 (JIT) then confirms each candidate and gives the offsets.
 * Prefilter mode may report rules that do not really match, never the
 * reverse; a pattern Hyperscan cannot take at all is tried with PCRE2 on
 * every text.
 *
 * The database is immutable and shared; the scratch (Hyperscan scratch,
 * PCRE2 match data, candidate set) is per thread, kept in thread-specific
 * storage and freed when the thread ends.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kb.h"

struct bw_scratch {
	unsigned long gen;	/* which kb this scratch is sized for */
	hs_scratch_t *hs;
	pcre2_match_data *md;
	unsigned char *hit;	/* rule index -> seen in this scan */
	unsigned *cand;		/* candidate rule indices of this scan */
	size_t ncand, cap;
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
	hs_free_scratch(s->hs);
	pcre2_match_data_free(s->md);
	free(s->hit);
	free(s->cand);
	free(s);
}

static void scratch_key_make(void)
{
	pthread_key_create(&scratch_key, scratch_free);
}


/*
 * The prefilter's copy of a PCRE2 pattern: a superset that Hyperscan compiles
 * fast in byte mode. Long bounded repeats ({0,60}) are the costly part of a
 * Hyperscan compile, so they become unbounded; a non-ASCII byte becomes any
 * high byte (so "Ä" still finds "ä": Hyperscan's caseless is ASCII-only in
 * byte mode). Returns a new string, or NULL (ENOMEM, or a pattern that the
 * prefilter cannot take: *always is then set).
 */
static char *hs_copy(const char *p, int *always)
{
	size_t n = strlen(p), o = 0;
	char *out = malloc(n * 11 + 1);
	int in_class = 0;

	*always = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\\' && i + 1 < n) {
			out[o++] = p[i++];
			out[o++] = p[i];
			if (strchr("xpPNogk", p[i]) && i + 1 < n && p[i + 1] == '{') {
				while (i + 1 < n && p[i] != '}')
					out[o++] = p[++i];
			}
			continue;
		}
		if (in_class) {
			if (c >= 0x80) {
				*always = 1;
				free(out);
				return NULL;
			}
			if (c == ']')
				in_class = 0;
			out[o++] = (char)c;
			continue;
		}
		if (c == '[') {
			in_class = 1;
			out[o++] = p[i];
			if (i + 1 < n && p[i + 1] == '^')
				out[o++] = p[++i];
			if (i + 1 < n && p[i + 1] == ']')
				out[o++] = p[++i];
			continue;
		}
		if (c >= 0x80) {
			memcpy(out + o, "[\\x80-\\xff]", 11);
			o += 11;
			continue;
		}
		if (c == '{') {
			size_t j = i + 1;
			unsigned long lo = 0, hi = 0;
			int have_hi = 0, comma = 0, digits = 0;
			while (j < n && p[j] >= '0' && p[j] <= '9' && digits < 6)
				lo = lo * 10 + (unsigned long)(p[j++] - '0'), digits++;
			if (digits && j < n && p[j] == ',') {
				comma = 1;
				j++;
				while (j < n && p[j] >= '0' && p[j] <= '9' && have_hi < 6)
					hi = hi * 10 + (unsigned long)(p[j++] - '0'), have_hi++;
			}
			if (digits && j < n && p[j] == '}') {
				unsigned long top = comma ? (have_hi ? hi : 0) : lo;
				if (top > 8 || (comma && !have_hi)) {
					if (lo == 0)
						out[o++] = '*';
					else if (lo == 1)
						out[o++] = '+';
					else
						o += (size_t)sprintf(out + o, "{%lu,}", lo > 8 ? 8 : lo);
					if (j + 1 < n && (p[j + 1] == '?' || p[j + 1] == '+'))
						j++;	/* lazy or possessive: the same set */
					i = j;
					continue;
				}
			}
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/*
 * The compiled prefilter is kept on disk, keyed by a hash of every pattern
 * and flag, so that a start-up with unchanged rules takes milliseconds, not
 * the seconds of a Hyperscan compile. The folder is $BOUNCEWHY_CACHE, or
 * BW_CACHEDIR as built; a missing or unwritable folder only costs time.
 * File: "BWHS1\n", the key, the count of patterns, one byte per pattern
 * (1: left to PCRE2), then Hyperscan's serialized database.
 */
#ifndef BW_CACHEDIR
#define BW_CACHEDIR "/var/cache/bouncewhy"
#endif

static unsigned long long cache_key(const char **exprs, const unsigned *flags, size_t n)
{
	unsigned long long h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		const char *e = exprs[i] ? exprs[i] : "\x01(none)";
		for (; *e; e++)
			h = (h ^ (unsigned char)*e) * 1099511628211ULL;
		h = (h ^ flags[i] ^ 0xff) * 1099511628211ULL;
	}
	/* a database only fits the Hyperscan version (and CPU) that made it */
	for (const char *v = hs_version(); *v; v++)
		h = (h ^ (unsigned char)*v) * 1099511628211ULL;
	return h;
}

static void cache_path(char *buf, size_t cap, unsigned long long key)
{
	const char *dir = getenv("BOUNCEWHY_CACHE");

	snprintf(buf, cap, "%s/prefilter-%016llx.hsdb", dir && *dir ? dir : BW_CACHEDIR, key);
}

static int cache_load(bw_kb *kb, const char **exprs, const unsigned *flags, size_t n)
{
	char path[4096];
	unsigned long long key = cache_key(exprs, flags, n), fkey;
	size_t fn, len;
	FILE *f;
	char *buf = NULL;
	unsigned char *dropped = NULL;
	long size;

	cache_path(path, sizeof path, key);
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if (fscanf(f, "BWHS1 %llx %zu", &fkey, &fn) != 2 || fkey != key || fn != n || fgetc(f) != '\n')
		goto fail;
	if ((dropped = malloc(n + 1)) == NULL || fread(dropped, 1, n, f) != n)
		goto fail;
	long at = ftell(f);
	if (at < 0 || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= at ||
	    fseek(f, at, SEEK_SET) != 0)
		goto fail;
	len = (size_t)(size - at);
	if ((buf = malloc(len)) == NULL || fread(buf, 1, len, f) != len)
		goto fail;
	if (hs_deserialize_database(buf, len, &kb->hsdb) != HS_SUCCESS) {
		kb->hsdb = NULL;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (dropped[i] && !kb->always[kb->hs_rule[i]]) {
			kb->always[kb->hs_rule[i]] = 1;
			kb->nalways++;
		}
	}
	fclose(f);
	free(buf);
	free(dropped);
	return 0;
fail:
	fclose(f);
	free(buf);
	free(dropped);
	return -1;
}

static void cache_store(const bw_kb *kb, const char **exprs, const unsigned *flags, size_t n)
{
	char path[4096], tmp[4200];
	char *bytes = NULL;
	size_t len = 0;
	FILE *f;
	int ok;

	if (kb->hsdb == NULL || hs_serialize_database(kb->hsdb, &bytes, &len) != HS_SUCCESS)
		return;
	cache_path(path, sizeof path, cache_key(exprs, flags, n));
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	if ((f = fopen(tmp, "wb")) == NULL) {
		free(bytes);
		return;
	}
	ok = fprintf(f, "BWHS1 %016llx %zu\n", cache_key(exprs, flags, n), n) > 0;
	for (size_t i = 0; i < n && ok; i++)
		ok = fputc(exprs[i] == NULL, f) != EOF;
	ok = ok && fwrite(bytes, 1, len, f) == len;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0)
		unlink(tmp);
	free(bytes);
}

int bw_matcher_build(bw_kb *kb, bw_error *err)
{
	size_t n = 0, k = 0;
	const char **exprs;
	unsigned *flags, *ids;
	hs_compile_error_t *cerr = NULL;

	kb->gen = atomic_fetch_add(&kb_generation, 1);
	for (size_t i = 0; i < kb->nrules; i++)
		n += kb->rules[i].npats;
	exprs = calloc(n + 1, sizeof *exprs);
	flags = calloc(n + 1, sizeof *flags);
	ids = calloc(n + 1, sizeof *ids);
	kb->hs_rule = calloc(n + 1, sizeof *kb->hs_rule);
	kb->always = calloc(kb->nrules + 1, 1);
	if (!exprs || !flags || !ids || !kb->hs_rule || !kb->always)
		goto oom;
	for (size_t i = 0; i < kb->nrules; i++) {
		for (size_t j = 0; j < kb->rules[i].npats; j++) {
			int always = 0;
			hs_expr_info_t *info = NULL;
			hs_compile_error_t *ce = NULL;
			exprs[k] = hs_copy(kb->rules[i].pat_src[j], &always);
			kb->hs_rule[k] = (unsigned)i;
			flags[k] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH | HS_FLAG_PREFILTER |
				   HS_FLAG_ALLOWEMPTY | HS_FLAG_DOTALL;
			/* what Hyperscan cannot parse is tried by PCRE2 on every text */
			if (exprs[k] && hs_expression_info(exprs[k], flags[k], &info, &ce) != HS_SUCCESS) {
				hs_free_compile_error(ce);
				free((char *)exprs[k]);
				exprs[k] = NULL;
				always = 1;
			}
			free(info);
			if (exprs[k] == NULL && !always)
				goto oom;
			if (always && !kb->always[i]) {
				kb->always[i] = 1;
				kb->nalways++;
			}
			ids[k] = (unsigned)k;
			k++;
		}
	}
	if (cache_load(kb, exprs, flags, n) == 0)
		goto done;
	for (;;) {
		/* Drop what Hyperscan rejects, one at a time, to PCRE2-only. */
		size_t m = 0;
		const char **e2 = calloc(n + 1, sizeof *e2);
		unsigned *f2 = calloc(n + 1, sizeof *f2), *i2 = calloc(n + 1, sizeof *i2);
		if (!e2 || !f2 || !i2) {
			free(e2); free(f2); free(i2);
			goto oom;
		}
		for (size_t x = 0; x < n; x++) {
			if (exprs[x] == NULL)
				continue;
			e2[m] = exprs[x];
			f2[m] = flags[x];
			i2[m] = ids[x];
			m++;
		}
		if (m == 0) {
			free(e2); free(f2); free(i2);
			break;
		}
		hs_error_t rc = hs_compile_multi(e2, f2, i2, (unsigned)m, HS_MODE_BLOCK, NULL,
						 &kb->hsdb, &cerr);
		if (rc == HS_SUCCESS) {
			free(e2); free(f2); free(i2);
			break;
		}
		if (cerr == NULL || cerr->expression < 0) {
			if (err)
				snprintf(err->text, sizeof err->text, "rules: prefilter: %s",
					 cerr ? cerr->message : "compile failed");
			hs_free_compile_error(cerr);
			free(e2); free(f2); free(i2);
			goto fail;
		}
		unsigned bad = i2[cerr->expression];
		hs_free_compile_error(cerr);
		cerr = NULL;
		free(e2); free(f2); free(i2);
		free((char *)exprs[bad]);
		exprs[bad] = NULL;
		if (!kb->always[kb->hs_rule[bad]]) {
			kb->always[kb->hs_rule[bad]] = 1;
			kb->nalways++;
		}
	}
	cache_store(kb, exprs, flags, n);
done:
	for (size_t x = 0; x < n; x++)
		free((char *)exprs[x]);
	free(exprs);
	free(flags);
	free(ids);
	return 0;
oom:
	if (err)
		snprintf(err->text, sizeof err->text, "rules: out of memory");
fail:
	if (exprs)
		for (size_t x = 0; x < n; x++)
			free((char *)exprs[x]);
	free(exprs);
	free(flags);
	free(ids);
	return -1;
}

void bw_matcher_free(bw_kb *kb)
{
	hs_free_database(kb->hsdb);
	kb->hsdb = NULL;
	free(kb->hs_rule);
	free(kb->always);
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
	if (kb->hsdb && hs_alloc_scratch(kb->hsdb, &s->hs) != HS_SUCCESS)
		return NULL;
	if (s->cap < kb->nrules + 1) {
		unsigned char *hit = realloc(s->hit, kb->nrules + 1);
		unsigned *cand = realloc(s->cand, (kb->nrules + 1) * sizeof *cand);
		if (hit)
			s->hit = hit;
		if (cand)
			s->cand = cand;
		if (!hit || !cand)
			return NULL;
		s->cap = kb->nrules + 1;
	}
	memset(s->hit, 0, s->cap);
	s->gen = gen;
	return s;
}

typedef struct scan_ctx {
	const bw_kb *kb;
	bw_scratch *s;
} scan_ctx;

static int on_hit(unsigned id, unsigned long long from, unsigned long long to,
		  unsigned fl, void *p)
{
	scan_ctx *c = p;
	unsigned r = c->kb->hs_rule[id];

	if (!c->s->hit[r]) {
		c->s->hit[r] = 1;
		c->s->cand[c->s->ncand++] = r;
	}
	return 0;
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

static void try_rule(const bw_kb *kb, bw_scratch *s, const bw_rule *r, const char *text,
		     size_t len, bw_match *best)
{
	for (size_t j = 0; j < r->npats; j++) {
		int rc = pcre2_match(r->pats[j], (PCRE2_SPTR)text, len, 0, PCRE2_NO_UTF_CHECK,
				     s->md, kb->mctx);
		if (rc >= 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
			bw_match m = {r, ov[0], ov[1] < ov[0] ? ov[0] : ov[1]};
			if (better(&m, best))
				*best = m;
		}
	}
}

int bw_match_best(const bw_kb *kb, bw_scratch *s, const char *text, size_t len, int reply,
		  const char *status, bw_match *out)
{
	scan_ctx c = {kb, s};
	bw_match best = {0};

	s->ncand = 0;
	if (kb->hsdb && hs_scan(kb->hsdb, text, (unsigned)len, 0, s->hs, on_hit, &c) != HS_SUCCESS)
		return -1;
	for (size_t i = 0; i < s->ncand; i++) {
		const bw_rule *r = &kb->rules[s->cand[i]];
		s->hit[s->cand[i]] = 0;
		if (!kb->always[s->cand[i]] && when_ok(r, reply, status))
			try_rule(kb, s, r, text, len, &best);
	}
	if (kb->nalways) {
		for (size_t i = 0; i < kb->nrules; i++)
			if (kb->always[i] && when_ok(&kb->rules[i], reply, status))
				try_rule(kb, s, &kb->rules[i], text, len, &best);
	}
	if (best.rule == NULL)
		return 0;
	*out = best;
	return 1;
}

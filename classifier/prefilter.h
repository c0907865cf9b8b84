/*
 * prefilter.h - find which of many short strings occur in a text, in one
 * pass, ignoring ASCII case.
 *
 * The rules' required literals (literal.c) go in; a scan reports every
 * string that occurs in the text, and the matcher then runs PCRE2 only for
 * the patterns whose literals all occurred. Built once, immutable, shared by
 * threads; a scan allocates nothing.
 */
#ifndef BW_PREFILTER_H
#define BW_PREFILTER_H

#include <stddef.h>
#include <stdint.h>

typedef struct bw_prefilter bw_prefilter;

/*
 * bw_prefilter_new - index n strings (strs[i], lens[i] bytes, at least 3,
 * any bytes but NUL), reported under ids[i]. New; NULL on ENOMEM or when a
 * string is shorter than 3 bytes.
 */
bw_prefilter *bw_prefilter_new(const char *const *strs, const size_t *lens,
			       const unsigned *ids, size_t n);
/*
 * bw_prefilter_new_tuned - the same, tuned for texts like the nsamples
 * samples (samples[i], slens[i] bytes): each string is looked up by its
 * part that is rarest in them. Only the speed depends on the samples.
 */
bw_prefilter *bw_prefilter_new_tuned(const char *const *strs, const size_t *lens,
				     const unsigned *ids, size_t n,
				     const char *const *samples, const size_t *slens,
				     size_t nsamples);
/*
 * bw_prefilter_new_bits - the same, but ids below nbits are bit numbers:
 * bw_prefilter_scan_bits sets them in a bitmap instead of reporting them
 * (a string's ids are then ORed in with a few word-wide operations, which
 * is what a caller counting hits per id wants). nbits 0: as _tuned.
 */
bw_prefilter *bw_prefilter_new_bits(const char *const *strs, const size_t *lens,
				    const unsigned *ids, size_t n,
				    const char *const *samples, const size_t *slens,
				    size_t nsamples, size_t nbits);
void bw_prefilter_free(bw_prefilter *pf);

/*
 * bw_prefilter_scan - for each occurrence of an indexed string in text
 * (ASCII letters match either case), calls hit(ids, n, start, ctx) with the
 * n ids it was indexed under (equal strings are indexed once) and start its
 * byte offset. A string may be reported more than once, in no set order.
 */
void bw_prefilter_scan(const bw_prefilter *pf, const char *text, size_t len,
		       void (*hit)(const unsigned *ids, size_t n, size_t start, void *ctx),
		       void *ctx);
/*
 * bw_prefilter_scan_bits - the same scan; for each occurrence, the ids
 * below the index's nbits are set in bits[] (bit id % 64 of bits[id / 64],
 * nbits bits the caller has zeroed), and hit() is called with the others
 * only, when there are any.
 */
void bw_prefilter_scan_bits(const bw_prefilter *pf, const char *text, size_t len,
			    uint64_t *bits,
			    void (*hit)(const unsigned *ids, size_t n, size_t start, void *ctx),
			    void *ctx);

#endif

/*
 * dnscache.h - DNS answers as the IP check sees them, how they are read off
 * the wire, and a bounded, thread-safe cache of them that honours TTLs.
 *
 * An answer is a status and up to BW_DNS_MAX_VALUES values in text form:
 * addresses for A/AAAA ("127.0.0.2"), the joined strings of each TXT record,
 * the names of PTR records (no trailing dot). Text from the wire is reduced
 * to printable ASCII so it can go into JSON and HTML as it is.
 *
 * The cache (bw_ipcache) maps a key chosen by the caller (resolver, type and
 * name) to a copy of an answer until its TTL runs out; at capacity the least
 * recently used entry goes. One mutex guards it: any number of threads may
 * share one cache.
 */
#ifndef BW_DNSCACHE_H
#define BW_DNSCACHE_H

#include <stddef.h>
#include <time.h>

#define BW_DNS_MAX_VALUES 16
/* Negative answers whose response carries no SOA are kept this long. */
#define BW_DNS_NEG_TTL_DEFAULT 60u
/* Failures (timeout, SERVFAIL, REFUSED, no resolver) are kept this long, so
 * that a refresh does not wait for a dead list again (RFC 2308 allows up
 * to five minutes). */
#define BW_DNS_FAIL_TTL 30u
/* No answer is kept longer than this, whatever its TTL says. */
#define BW_DNS_TTL_CAP 3600u

enum bw_dns_status {
	BW_DNS_OK = 0,		/* at least one record of the type asked */
	BW_DNS_NXDOMAIN,	/* the name does not exist */
	BW_DNS_NODATA,		/* the name exists, no record of that type */
	BW_DNS_SERVFAIL,	/* the server failed */
	BW_DNS_REFUSED,		/* the server refused */
	BW_DNS_TIMEOUT,		/* no answer in time */
	BW_DNS_ERROR		/* anything else: malformed answer, no server */
};

typedef struct bw_dns_answer {
	int status;		/* enum bw_dns_status */
	unsigned ttl;		/* seconds it may be kept; 0: not at all */
	const char *reason;	/* static text on a failure, or NULL */
	size_t n;		/* values used */
	char *v[BW_DNS_MAX_VALUES];	/* owned, NUL-terminated */
} bw_dns_answer;

/* bw_dns_status_name - static text: "ok", "nxdomain", "nodata",
 * "servfail", "refused", "timeout", "error". */
const char *bw_dns_status_name(int status);

/* bw_dns_answer_clear - free the values and zero a. NULL is fine. */
void bw_dns_answer_clear(bw_dns_answer *a);

/* bw_dns_answer_add - append a copy of text[0..len) (made printable).
 * Returns 0, 1 when the answer is full (value dropped), -1 on ENOMEM. */
int bw_dns_answer_add(bw_dns_answer *a, const char *text, size_t len);

/*
 * bw_dns_parse - read a DNS response (abuf, alen bytes, as c-ares hands it
 * over) for a question of qtype (1 A, 28 AAAA, 16 TXT, 12 PTR) into *out,
 * which must be zeroed or cleared. Records of other types (CNAME chains) are
 * skipped. The TTL is the least of the records used; for NXDOMAIN and
 * NODATA it is min(SOA TTL, SOA minimum) when the response carries an SOA,
 * BW_DNS_NEG_TTL_DEFAULT otherwise; never above BW_DNS_TTL_CAP. Returns 0,
 * or -1 when the message is malformed or memory runs out (out is then
 * cleared with status BW_DNS_ERROR). Never reads outside abuf.
 */
int bw_dns_parse(const unsigned char *abuf, size_t alen, int qtype,
		 bw_dns_answer *out);

typedef struct bw_ipcache bw_ipcache;

/* bw_ipcache_new - a new empty cache of capacity entries (0: 1024).
 * NULL on ENOMEM. Free with bw_ipcache_free. */
bw_ipcache *bw_ipcache_new(size_t capacity);

/* bw_ipcache_free - release the cache and all it holds. NULL is fine. Not
 * while other threads still use it. */
void bw_ipcache_free(bw_ipcache *c);

/*
 * bw_ipcache_get - look key up at time now (seconds, any monotonic clock).
 * On a live entry fills *out (zeroed or cleared by the caller) with a copy
 * whose ttl is what remains, and returns 1. Returns 0 when absent or
 * expired (an expired entry is dropped), -1 on ENOMEM. Thread-safe.
 */
int bw_ipcache_get(bw_ipcache *c, const char *key, time_t now,
		   bw_dns_answer *out);

/*
 * bw_ipcache_put - keep a copy of a under key until now + a->ttl,
 * replacing an entry with the same key; an answer with ttl 0 is not kept.
 * Returns 0 (also when not kept) or -1 on ENOMEM. Thread-safe.
 */
int bw_ipcache_put(bw_ipcache *c, const char *key, const bw_dns_answer *a,
		   time_t now);

/* bw_ipcache_count - number of entries held (live or not yet dropped). */
size_t bw_ipcache_count(bw_ipcache *c);

#endif /* BW_DNSCACHE_H */

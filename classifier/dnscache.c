/*
 * dnscache.c - DNS answers read off the wire, and the TTL-bound LRU cache
 * of them (see dnscache.h).
 *
 * The reader walks the response itself rather than through c-ares's
 * per-type parsers so that one bounded loop yields values and TTLs for
 * every type, and the SOA of negative answers; c-ares only expands the
 * (possibly compressed) PTR target names.
 *
 * The cache is an array of entries chained into a hash table and a
 * doubly linked recency list, both by index, under one mutex.
 */
#include "dnscache.h"

#include <ares.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define T_A 1
#define T_NS 2
#define T_CNAME 5
#define T_SOA 6
#define T_PTR 12
#define T_TXT 16
#define T_AAAA 28

const char *bw_dns_status_name(int status)
{
	switch (status) {
	case BW_DNS_OK: return "ok";
	case BW_DNS_NXDOMAIN: return "nxdomain";
	case BW_DNS_NODATA: return "nodata";
	case BW_DNS_SERVFAIL: return "servfail";
	case BW_DNS_REFUSED: return "refused";
	case BW_DNS_TIMEOUT: return "timeout";
	default: return "error";
	}
}

void bw_dns_answer_clear(bw_dns_answer *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n && i < BW_DNS_MAX_VALUES; i++)
		free(a->v[i]);
	memset(a, 0, sizeof *a);
}

int bw_dns_answer_add(bw_dns_answer *a, const char *text, size_t len)
{
	char *s;
	size_t i;

	if (a->n >= BW_DNS_MAX_VALUES)
		return 1;
	s = malloc(len + 1);
	if (!s)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		s[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	s[len] = '\0';
	a->v[a->n++] = s;
	return 0;
}

static int answer_copy(bw_dns_answer *dst, const bw_dns_answer *src)
{
	size_t i;

	memset(dst, 0, sizeof *dst);
	dst->status = src->status;
	dst->ttl = src->ttl;
	dst->reason = src->reason;
	for (i = 0; i < src->n; i++)
		if (bw_dns_answer_add(dst, src->v[i], strlen(src->v[i])) < 0) {
			bw_dns_answer_clear(dst);
			return -1;
		}
	return 0;
}

/* ---- the wire ---- */

static unsigned rd16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Skip the name at *pos; -1 when it runs outside the message. */
static int skip_name(const unsigned char *m, size_t len, size_t *pos)
{
	size_t p = *pos;

	for (;;) {
		unsigned c;

		if (p >= len)
			return -1;
		c = m[p];
		if (c == 0) {
			*pos = p + 1;
			return 0;
		}
		if ((c & 0xc0) == 0xc0) {	/* pointer: the name ends here */
			if (p + 2 > len)
				return -1;
			*pos = p + 2;
			return 0;
		}
		if (c & 0xc0)
			return -1;		/* reserved label types */
		p += 1 + c;
	}
}

static unsigned ttl_min(unsigned cur, uint32_t ttl, int first)
{
	if (ttl > 0x7fffffffu)		/* RFC 2181: treat as zero */
		ttl = 0;
	if (first || ttl < cur)
		return (unsigned)ttl;
	return cur;
}

static int add_value(bw_dns_answer *out, int qtype, const unsigned char *m,
		     size_t len, size_t rdpos, unsigned rdlen)
{
	const unsigned char *rd = m + rdpos;
	char buf[1024];
	size_t n = 0, i;

	switch (qtype) {
	case T_A:
		if (rdlen != 4 || !inet_ntop(AF_INET, rd, buf, sizeof buf))
			return -2;
		return bw_dns_answer_add(out, buf, strlen(buf));
	case T_AAAA:
		if (rdlen != 16 || !inet_ntop(AF_INET6, rd, buf, sizeof buf))
			return -2;
		return bw_dns_answer_add(out, buf, strlen(buf));
	case T_TXT:
		/* character-strings, joined: long texts are split at 255 */
		for (i = 0; i < rdlen;) {
			unsigned sl = rd[i++];

			if (i + sl > rdlen)
				return -2;
			if (n + sl < sizeof buf) {
				memcpy(buf + n, rd + i, sl);
				n += sl;
			}
			i += sl;
		}
		return bw_dns_answer_add(out, buf, n);
	case T_PTR: {
		char *name = NULL;
		long enclen = 0;
		int rc;

		if (ares_expand_name(rd, m, (int)len, &name, &enclen) !=
		    ARES_SUCCESS)
			return -2;
		rc = bw_dns_answer_add(out, name, strlen(name));
		ares_free_string(name);
		return rc;
	}
	default:
		return 0;
	}
}

int bw_dns_parse(const unsigned char *m, size_t len, int qtype,
		 bw_dns_answer *out)
{
	unsigned rcode, qd, an, ns, i;
	size_t pos = 12;
	int have_ttl = 0, have_soa = 0;
	unsigned ttl = 0, soa_ttl = 0;

	memset(out, 0, sizeof *out);
	if (!m || len < 12 || len > 65535)
		goto bad;
	rcode = m[3] & 0xf;
	qd = rd16(m + 4);
	an = rd16(m + 6);
	ns = rd16(m + 8);
	for (i = 0; i < qd; i++) {
		if (skip_name(m, len, &pos) != 0 || pos + 4 > len)
			goto bad;
		pos += 4;
	}
	for (i = 0; i < an + ns; i++) {
		unsigned type, rdlen;
		uint32_t rttl;
		int rc;

		if (skip_name(m, len, &pos) != 0 || pos + 10 > len)
			goto bad;
		type = rd16(m + pos);
		rttl = rd32(m + pos + 4);
		rdlen = rd16(m + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			goto bad;
		if (i < an && (int)type == qtype && rcode == 0) {
			rc = add_value(out, qtype, m, len, pos, rdlen);
			if (rc == -1)
				goto bad;
			if (rc == 0) {
				ttl = ttl_min(ttl, rttl, !have_ttl);
				have_ttl = 1;
			}
		} else if (i >= an && type == T_SOA && !have_soa) {
			size_t p = pos;

			if (skip_name(m, len, &p) == 0 &&
			    skip_name(m, len, &p) == 0 && p + 20 <= pos + rdlen) {
				uint32_t minimum = rd32(m + p + 16);

				soa_ttl = ttl_min(0, rttl, 1);
				soa_ttl = ttl_min(soa_ttl, minimum, 0);
				have_soa = 1;
			}
		}
		pos += rdlen;
	}
	switch (rcode) {
	case 0:
		out->status = out->n ? BW_DNS_OK : BW_DNS_NODATA;
		break;
	case 2:
		out->status = BW_DNS_SERVFAIL;
		break;
	case 3:
		out->status = BW_DNS_NXDOMAIN;
		break;
	case 5:
		out->status = BW_DNS_REFUSED;
		break;
	default:
		out->status = BW_DNS_ERROR;
		break;
	}
	if (out->status == BW_DNS_OK)
		out->ttl = ttl;
	else if (out->status == BW_DNS_NXDOMAIN || out->status == BW_DNS_NODATA)
		out->ttl = have_soa ? soa_ttl : BW_DNS_NEG_TTL_DEFAULT;
	else
		out->ttl = 0;
	if (out->ttl > BW_DNS_TTL_CAP)
		out->ttl = BW_DNS_TTL_CAP;
	return 0;
bad:
	bw_dns_answer_clear(out);
	out->status = BW_DNS_ERROR;
	return -1;
}

/* ---- the cache ---- */

struct entry {
	char *key;		/* NULL: free slot */
	bw_dns_answer ans;
	time_t expires;
	int hnext;		/* next in hash chain, -1 at the end */
	int prev, next;		/* recency list: head is the newest */
};

struct bw_ipcache {
	pthread_mutex_t lock;
	struct entry *e;
	size_t cap, count;
	int *buckets;		/* nbuckets heads, -1 when empty */
	size_t nbuckets;	/* a power of two */
	int head, tail;		/* recency list, -1 when empty */
	int free_head;		/* free slots chained through hnext */
};

static size_t hash_key(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 ^ (unsigned char)*s++;
	return h;
}

bw_ipcache *bw_ipcache_new(size_t capacity)
{
	bw_ipcache *c;
	size_t i;

	if (capacity == 0)
		capacity = 1024;
	if (capacity > 1u << 20)
		capacity = 1u << 20;
	c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->cap = capacity;
	c->nbuckets = 1;
	while (c->nbuckets < capacity * 2)
		c->nbuckets <<= 1;
	c->e = calloc(capacity, sizeof *c->e);
	c->buckets = malloc(c->nbuckets * sizeof *c->buckets);
	if (!c->e || !c->buckets || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->e);
		free(c->buckets);
		free(c);
		return NULL;
	}
	for (i = 0; i < c->nbuckets; i++)
		c->buckets[i] = -1;
	for (i = 0; i < capacity; i++)
		c->e[i].hnext = i + 1 < capacity ? (int)(i + 1) : -1;
	c->free_head = 0;
	c->head = c->tail = -1;
	return c;
}

void bw_ipcache_free(bw_ipcache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->cap; i++) {
		free(c->e[i].key);
		bw_dns_answer_clear(&c->e[i].ans);
	}
	pthread_mutex_destroy(&c->lock);
	free(c->e);
	free(c->buckets);
	free(c);
}

static void list_unlink(bw_ipcache *c, int i)
{
	struct entry *x = &c->e[i];

	if (x->prev >= 0)
		c->e[x->prev].next = x->next;
	else
		c->head = x->next;
	if (x->next >= 0)
		c->e[x->next].prev = x->prev;
	else
		c->tail = x->prev;
	x->prev = x->next = -1;
}

static void list_push_front(bw_ipcache *c, int i)
{
	c->e[i].prev = -1;
	c->e[i].next = c->head;
	if (c->head >= 0)
		c->e[c->head].prev = i;
	c->head = i;
	if (c->tail < 0)
		c->tail = i;
}

static int find(bw_ipcache *c, const char *key, size_t h)
{
	int i;

	for (i = c->buckets[h & (c->nbuckets - 1)]; i >= 0; i = c->e[i].hnext)
		if (strcmp(c->e[i].key, key) == 0)
			return i;
	return -1;
}

/* Take entry i out of its chain and the list, free it, return the slot. */
static void drop(bw_ipcache *c, int i)
{
	size_t b = hash_key(c->e[i].key) & (c->nbuckets - 1);
	int *pp = &c->buckets[b];

	while (*pp >= 0 && *pp != i)
		pp = &c->e[*pp].hnext;
	if (*pp == i)
		*pp = c->e[i].hnext;
	list_unlink(c, i);
	free(c->e[i].key);
	c->e[i].key = NULL;
	bw_dns_answer_clear(&c->e[i].ans);
	c->e[i].hnext = c->free_head;
	c->free_head = i;
	c->count--;
}

int bw_ipcache_get(bw_ipcache *c, const char *key, time_t now,
		   bw_dns_answer *out)
{
	int i, rc = 0;

	if (!c || !key || !out)
		return 0;
	pthread_mutex_lock(&c->lock);
	i = find(c, key, hash_key(key));
	if (i >= 0 && c->e[i].expires <= now) {
		drop(c, i);
		i = -1;
	}
	if (i >= 0) {
		if (answer_copy(out, &c->e[i].ans) != 0) {
			rc = -1;
		} else {
			out->ttl = (unsigned)(c->e[i].expires - now);
			list_unlink(c, i);
			list_push_front(c, i);
			rc = 1;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int bw_ipcache_put(bw_ipcache *c, const char *key, const bw_dns_answer *a,
		   time_t now)
{
	bw_dns_answer copy;
	char *k;
	size_t h;
	int i;

	if (!c || !key || !a || a->ttl == 0)
		return 0;
	if (answer_copy(&copy, a) != 0)
		return -1;
	k = strdup(key);
	if (!k) {
		bw_dns_answer_clear(&copy);
		return -1;
	}
	h = hash_key(key);
	pthread_mutex_lock(&c->lock);
	i = find(c, key, h);
	if (i >= 0)
		drop(c, i);
	if (c->free_head < 0)
		drop(c, c->tail);
	i = c->free_head;
	c->free_head = c->e[i].hnext;
	c->e[i].key = k;
	c->e[i].ans = copy;
	c->e[i].expires = now + (time_t)a->ttl;
	c->e[i].hnext = c->buckets[h & (c->nbuckets - 1)];
	c->buckets[h & (c->nbuckets - 1)] = i;
	list_push_front(c, i);
	c->count++;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

size_t bw_ipcache_count(bw_ipcache *c)
{
	size_t n;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

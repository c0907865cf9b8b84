/*
 * ipcheck.c - the IP check: reverse DNS and DNS blocklists under one
 * deadline (see ipcheck.h).
 *
 * One call = one c-ares channel driven by poll(). Every blocklist zone's A
 * query and the PTR query go out at once; a listed zone's TXT query and the
 * forward lookups of PTR names follow from the callbacks, inside the same
 * deadline. When the deadline passes, ares_cancel() ends what is left and
 * those lookups report "timeout". Answers are looked up in, and stored to,
 * the shared cache before and after the wire.
 *
 * Security: zone names come from the knowledge base, the address from the
 * request but only after strict parsing, so query names are bounded and
 * well-formed. Text from DNS answers is reduced to printable ASCII by
 * dnscache.c before it reaches JSON.
 */
#include "ipcheck.h"

#include <ares.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T_A 1
#define T_PTR 12
#define T_TXT 16
#define T_AAAA 28

#define NAME_MAX_LEN 254

enum qkind { Q_LIST_A, Q_LIST_TXT, Q_PTR, Q_FWD };

struct run;

struct query {
	struct run *run;
	int kind;		/* enum qkind */
	size_t idx;		/* zone or PTR-name index */
	int qtype;
	char name[NAME_MAX_LEN + 2];
	bw_dns_answer ans;
	const char *reason;	/* static text for failures, or NULL */
	int started, done, cached;
	long long t0, t1;	/* ms, monotonic */
};

struct job {			/* one blocklist zone */
	const json_t *list, *zone;
	struct query a, txt;
	int listed;
};

struct run {
	ares_channel ch;
	int have_channel;
	int stopping;		/* deadline passed: start nothing new */
	int setup_failed;
	const char *servers;	/* key prefix for the cache */
	bw_ipcache *cache;
	bw_ipaddr ip;
	struct job *jobs;
	size_t njobs;
	struct query ptr;
	struct query fwd[BW_IPCHECK_MAX_PTR];
	size_t nfwd;
	size_t pending;
	long long start, deadline;
	unsigned timeout_ms;
	int cache_lookups, cache_hits;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void set_err(bw_error *err, int *code, int c, const char *text)
{
	if (code)
		*code = c;
	if (err) {
		err->file[0] = '\0';
		err->line = 0;
		snprintf(err->text, sizeof err->text, "%s", text);
	}
}

int bw_ipcheck_http_status(int code)
{
	switch (code) {
	case BW_IPCHECK_OK: return 200;
	case BW_IPCHECK_EMALFORMED: return 400;
	case BW_IPCHECK_ENOTPUBLIC: return 422;
	case BW_IPCHECK_EOPTION: return 400;
	case BW_IPCHECK_ERESOLVER: return 503;
	default: return 500;
	}
}

/* ---- answers explained ---- */

static const char *json_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *code_meaning(const json_t *map, const char *code)
{
	return json_is_object(map) ? json_str(map, code) : NULL;
}

/* Spamhaus-style return codes that say the query, not the IP, is wrong. */
static const char *builtin_error_code(const char *code)
{
	if (strcmp(code, "127.255.255.252") == 0)
		return "the list says the query used a mistyped or wrong "
		       "zone name";
	if (strcmp(code, "127.255.255.254") == 0)
		return "the list refuses queries from this resolver (a public "
		       "or open resolver): ask through your own resolver";
	if (strcmp(code, "127.255.255.255") == 0)
		return "the list refuses queries from this resolver because "
		       "of excessive query volume";
	if (strncmp(code, "127.255.255.", 12) == 0)
		return "the list answered with an error code, not a listing";
	return NULL;
}

static int add_code(json_t *codes, const char *code, const char *meaning)
{
	json_t *o = json_pack("{s:s, s:s}", "code", code, "meaning", meaning);

	return o ? json_array_append_new(codes, o) : -1;
}

int bw_ipcheck_interpret(const json_t *list, const json_t *zone,
			 const bw_dns_answer *a, json_t *listing)
{
	const json_t *codes_map = json_object_get(zone, "codes");
	const json_t *err_zone = json_object_get(zone, "error_codes");
	const json_t *err_list = json_object_get(list, "error_codes");
	json_t *codes = json_array();
	const char *status = "not_listed", *reason = NULL;
	int listed = 0, errors = 0;
	size_t i;

	if (!codes)
		return -1;
	switch (a->status) {
	case BW_DNS_NXDOMAIN:
	case BW_DNS_NODATA:
		break;
	case BW_DNS_TIMEOUT:
		status = "timeout";
		reason = "no answer before the deadline";
		break;
	case BW_DNS_SERVFAIL:
		status = "error";
		reason = "the DNS server failed to answer (SERVFAIL); the "
			 "list may be down or refuse this resolver";
		break;
	case BW_DNS_REFUSED:
		status = "error";
		reason = "the DNS server refused the query (REFUSED)";
		break;
	case BW_DNS_OK:
		for (i = 0; i < a->n; i++) {
			const char *c = a->v[i];
			const char *m;
			bw_ipaddr ad;

			if (bw_ipaddr_parse(c, strlen(c), &ad) != 0 ||
			    ad.family != 4 || ad.b[0] != 127) {
				errors++;
				reason = "the answer is outside 127.0.0.0/8: "
					 "the resolver rewrites unknown names "
					 "or the list no longer works";
				if (add_code(codes, c, "not a blocklist "
					     "return code") != 0)
					goto nomem;
				continue;
			}
			m = code_meaning(err_zone, c);
			if (!m)
				m = code_meaning(err_list, c);
			if (!m && !code_meaning(codes_map, c))
				m = builtin_error_code(c);
			if (m) {
				errors++;
				reason = m;
				if (add_code(codes, c, m) != 0)
					goto nomem;
				continue;
			}
			m = code_meaning(codes_map, c);
			if (!m)
				m = "listed (a return code this list does "
				    "not document)";
			listed++;
			if (add_code(codes, c, m) != 0)
				goto nomem;
		}
		if (errors) {
			status = "error";
			listed = 0;
		} else if (listed) {
			status = "listed";
		}
		break;
	default:
		status = "error";
		reason = "the DNS answer could not be read";
		break;
	}
	if (json_object_set_new(listing, "listed", json_boolean(listed > 0)) ||
	    json_object_set_new(listing, "status", json_string(status)) ||
	    json_object_set_new(listing, "reason",
				reason ? json_string(reason) : json_null()) ||
	    json_object_set_new(listing, "codes", codes))
		return -1;
	return listed > 0;
nomem:
	json_decref(codes);
	return -1;
}

/* ---- generic-looking names ---- */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* Is needle in hay, not glued to more digits (or hex digits) either side? */
static int find_bounded(const char *hay, const char *needle, int hex)
{
	size_t nl = strlen(needle);
	const char *p = hay;

	if (nl == 0)
		return 0;
	while ((p = strstr(p, needle)) != NULL) {
		char before = p > hay ? p[-1] : '\0';
		char after = p[nl];
		int glued = hex ? (is_hex(before) || is_hex(after))
				: (is_digit(before) || is_digit(after));

		if (!glued)
			return 1;
		p++;
	}
	return 0;
}

static int digits_v4(const bw_ipaddr *ip, const char *name, char *form,
		     size_t fsize)
{
	static const char seps[] = "-._";
	const unsigned char *b = ip->b;
	size_t s;

	for (s = 0; s < sizeof seps - 1; s++) {
		char c = seps[s];

		snprintf(form, fsize, "%u%c%u%c%u%c%u", b[0], c, b[1], c, b[2],
			 c, b[3]);
		if (find_bounded(name, form, 0))
			return 1;
		snprintf(form, fsize, "%u%c%u%c%u%c%u", b[3], c, b[2], c, b[1],
			 c, b[0]);
		if (find_bounded(name, form, 0))
			return 1;
		snprintf(form, fsize, "%03u%c%03u%c%03u%c%03u", b[0], c, b[1],
			 c, b[2], c, b[3]);
		if (find_bounded(name, form, 0))
			return 1;
	}
	snprintf(form, fsize, "%03u%03u%03u%03u", b[0], b[1], b[2], b[3]);
	if (find_bounded(name, form, 0))
		return 1;
	snprintf(form, fsize, "%03u%03u%03u%03u", b[3], b[2], b[1], b[0]);
	if (find_bounded(name, form, 0))
		return 1;
	snprintf(form, fsize, "%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
	if (find_bounded(name, form, 1))
		return 1;
	return 0;
}

static int digits_v6(const bw_ipaddr *ip, const char *name, char *form,
		     size_t fsize)
{
	char text[BW_IPADDR_TEXT_MAX];
	size_t i, n = 0;

	/* all 32 nibbles */
	for (i = 0; i < 16 && n + 3 <= fsize; i++)
		n += (size_t)snprintf(form + n, fsize - n, "%02x", ip->b[i]);
	if (find_bounded(name, form, 1))
		return 1;
	/* eight groups with dashes, unpadded */
	n = 0;
	for (i = 0; i < 8 && n + 6 <= fsize; i++)
		n += (size_t)snprintf(form + n, fsize - n, i ? "-%x" : "%x",
				      (unsigned)(ip->b[2 * i] << 8 |
						 ip->b[2 * i + 1]));
	if (find_bounded(name, form, 1))
		return 1;
	/* compressed text with ':' turned into '-' */
	if (bw_ipaddr_format(ip, text, sizeof text) > 0) {
		for (i = 0; text[i]; i++)
			if (text[i] == ':')
				text[i] = '-';
		snprintf(form, fsize, "%s", text);
		if (strlen(form) > 4 && find_bounded(name, form, 1))
			return 1;
	}
	return 0;
}

static const char *const generic_words[] = {
	"dynamic", "dyn", "dynip", "dhcp", "dsl", "adsl", "vdsl", "xdsl",
	"sdsl", "pool", "ppp", "pppoe", "pppoa", "cable", "cablemodem",
	"customer", "customers", "cust", "broadband", "client", "clients",
	"dialup", "dial", "dialin", "residential", "cpe", "subscriber",
	"subscribers", "user", "users", "unassigned", "staticip", "dip",
	"hsd", "nat", "home", "wireless", "mobile", NULL
};

int bw_ipcheck_generic_name(const bw_ipaddr *ip, const char *name, char *why,
			    size_t size)
{
	char low[NAME_MAX_LEN + 2], form[80];
	char prev_tok[32] = "";
	size_t n, i, end, dots = 0;

	if (why && size)
		why[0] = '\0';
	if (!ip || !name)
		return 0;
	n = strnlen(name, NAME_MAX_LEN + 1);
	if (n > NAME_MAX_LEN)
		n = NAME_MAX_LEN;
	for (i = 0; i < n; i++) {
		char c = name[i];

		low[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	low[n] = '\0';
	while (n > 0 && low[n - 1] == '.')
		low[--n] = '\0';

	if ((ip->family == 4 && digits_v4(ip, low, form, sizeof form)) ||
	    (ip->family == 6 && digits_v6(ip, low, form, sizeof form))) {
		if (why && size)
			snprintf(why, size, "contains the address's digits "
				 "(\"%s\")", form);
		return 1;
	}

	/* Words count outside the last two labels (the registered domain). */
	end = n;
	for (i = n; i > 0; i--)
		if (low[i - 1] == '.' && ++dots == 2) {
			end = i - 1;
			break;
		}
	if (dots < 2)
		return 0;
	for (i = 0; i < end;) {
		char tok[32];
		size_t t = 0, w;

		while (i < end && !(low[i] >= 'a' && low[i] <= 'z'))
			i++;
		while (i < end && low[i] >= 'a' && low[i] <= 'z') {
			if (t + 1 < sizeof tok)
				tok[t++] = low[i];
			i++;
		}
		tok[t] = '\0';
		if (t == 0)
			break;
		for (w = 0; generic_words[w]; w++)
			if (strcmp(tok, generic_words[w]) == 0) {
				if (why && size)
					snprintf(why, size, "contains the "
						 "word \"%s\"", tok);
				return 1;
			}
		if (strcmp(prev_tok, "static") == 0 && strcmp(tok, "ip") == 0) {
			if (why && size)
				snprintf(why, size,
					 "contains the words \"static ip\"");
			return 1;
		}
		snprintf(prev_tok, sizeof prev_tok, "%s", tok);
	}
	return 0;
}

/* ---- the DNS engine ---- */

static void cache_key(const struct run *r, const struct query *q, char *buf,
		      size_t size)
{
	snprintf(buf, size, "%s|%d|%s", r->servers, q->qtype, q->name);
}

static void finish(struct query *q);

static void on_answer(void *arg, int status, int timeouts,
		      unsigned char *abuf, int alen)
{
	struct query *q = arg;

	(void)timeouts;
	if (q->done)
		return;
	bw_dns_answer_clear(&q->ans);
	if (abuf && alen > 0 && status != ARES_ETIMEOUT &&
	    status != ARES_ECANCELLED && status != ARES_EDESTRUCTION) {
		if (bw_dns_parse(abuf, (size_t)alen, q->qtype, &q->ans) != 0)
			q->reason = "the DNS answer could not be read";
	} else {
		switch (status) {
		case ARES_ETIMEOUT:
		case ARES_ECANCELLED:
		case ARES_EDESTRUCTION:
			q->ans.status = BW_DNS_TIMEOUT;
			break;
		case ARES_ENOTFOUND:
			q->ans.status = BW_DNS_NXDOMAIN;
			q->ans.ttl = BW_DNS_NEG_TTL_DEFAULT;
			break;
		case ARES_ENODATA:
			q->ans.status = BW_DNS_NODATA;
			q->ans.ttl = BW_DNS_NEG_TTL_DEFAULT;
			break;
		case ARES_ESERVFAIL:
			q->ans.status = BW_DNS_SERVFAIL;
			break;
		case ARES_EREFUSED:
			q->ans.status = BW_DNS_REFUSED;
			break;
		case ARES_ECONNREFUSED:
			q->ans.status = BW_DNS_ERROR;
			q->reason = "the resolver could not be reached";
			break;
		default:
			q->ans.status = BW_DNS_ERROR;
			q->reason = ares_strerror(status);
			break;
		}
	}
	if (q->reason && !q->ans.reason)
		q->ans.reason = q->reason;
	if (q->ans.status != BW_DNS_OK && q->ans.status != BW_DNS_NXDOMAIN &&
	    q->ans.status != BW_DNS_NODATA)
		q->ans.ttl = BW_DNS_FAIL_TTL;
	if (q->run->cache) {
		char key[NAME_MAX_LEN + 1100];

		cache_key(q->run, q, key, sizeof key);
		bw_ipcache_put(q->run->cache, key, &q->ans, now_s());
	}
	finish(q);
}

/* Start q: from the cache, or on the wire. */
static void start(struct run *r, struct query *q)
{
	q->run = r;
	q->started = 1;
	q->t0 = now_ms();
	r->pending++;
	if (r->cache) {
		char key[NAME_MAX_LEN + 1100];
		int hit;

		cache_key(r, q, key, sizeof key);
		r->cache_lookups++;
		hit = bw_ipcache_get(r->cache, key, now_s(), &q->ans);
		if (hit == 1) {
			r->cache_hits++;
			q->cached = 1;
			finish(q);
			return;
		}
	}
	if (r->stopping || !r->have_channel) {
		q->ans.status = r->have_channel ? BW_DNS_TIMEOUT : BW_DNS_ERROR;
		finish(q);
		return;
	}
	ares_query(r->ch, q->name, 1 /* ns_c_in */, q->qtype, on_answer, q);
}

static void start_forward(struct run *r)
{
	size_t i;

	for (i = 0; i < r->ptr.ans.n && r->nfwd < BW_IPCHECK_MAX_PTR; i++) {
		struct query *f = &r->fwd[r->nfwd];

		if (strlen(r->ptr.ans.v[i]) > NAME_MAX_LEN)
			continue;
		memset(f, 0, sizeof *f);
		f->kind = Q_FWD;
		f->idx = i;
		f->qtype = r->ip.family == 4 ? T_A : T_AAAA;
		snprintf(f->name, sizeof f->name, "%s", r->ptr.ans.v[i]);
		r->nfwd++;
		start(r, f);
	}
}

static void finish(struct query *q)
{
	struct run *r = q->run;

	q->done = 1;
	q->t1 = now_ms();
	r->pending--;
	if (q->kind == Q_LIST_A) {
		struct job *j = &r->jobs[q->idx];
		json_t *tmp = json_object();
		int listed = tmp ? bw_ipcheck_interpret(j->list, j->zone,
							&q->ans, tmp) : 0;

		json_decref(tmp);
		j->listed = listed == 1;
		if (j->listed) {
			memset(&j->txt, 0, sizeof j->txt);
			j->txt.kind = Q_LIST_TXT;
			j->txt.idx = q->idx;
			j->txt.qtype = T_TXT;
			memcpy(j->txt.name, q->name, sizeof j->txt.name);
			start(r, &j->txt);
		}
	} else if (q->kind == Q_PTR && q->ans.status == BW_DNS_OK) {
		start_forward(r);
	}
}

/* Drive the channel until nothing is pending or the deadline passes. */
static void drive(struct run *r)
{
	while (r->pending > 0) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval maxtv, tv, *tvp;
		long long left = r->deadline - now_ms();
		int bits, i, n = 0, wait_ms, rc;

		if (left <= 0)
			break;
		bits = ares_getsock(r->ch, socks, ARES_GETSOCK_MAXNUM);
		for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;

			/* c-ares's own macros shift a signed 1 into the sign bit */
			if ((unsigned)bits & (1u << i))
				ev |= POLLIN;
			if ((unsigned)bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
				ev |= POLLOUT;
			if (!ev)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = ev;
			pfd[n].revents = 0;
			n++;
		}
		maxtv.tv_sec = left / 1000;
		maxtv.tv_usec = (left % 1000) * 1000;
		tvp = ares_timeout(r->ch, &maxtv, &tv);
		wait_ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
		if (wait_ms > left)
			wait_ms = (int)left;
		rc = poll(pfd, (nfds_t)n, wait_ms);
		if (rc < 0 && errno != EINTR)
			break;
		if (rc <= 0) {
			ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (i = 0; i < n; i++) {
			ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;

			if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
				rfd = pfd[i].fd;
			if (pfd[i].revents & POLLOUT)
				wfd = pfd[i].fd;
			if (rfd != ARES_SOCKET_BAD || wfd != ARES_SOCKET_BAD)
				ares_process_fd(r->ch, rfd, wfd);
		}
	}
	r->stopping = 1;
	if (r->pending > 0)
		ares_cancel(r->ch);	/* callbacks: ARES_ECANCELLED */
}

static int channel_open(struct run *r, const char *servers, bw_error *err,
			int *code)
{
	struct ares_options ao;
	int rc, per_try;

	memset(&ao, 0, sizeof ao);
	per_try = (int)r->timeout_ms / 4;
	if (per_try < 50)
		per_try = 50;
	ao.timeout = per_try;
	ao.tries = 3;
	/* NOCHECKRESP: hand SERVFAIL and REFUSED to us rather than retry
	 * them (c-ares 1.18 then reports a refused connection) */
	ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP;
	rc = ares_init_options(&r->ch, &ao,
			       ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
			       ARES_OPT_FLAGS);
	if (rc != ARES_SUCCESS) {
		char t[200];

		snprintf(t, sizeof t, "cannot set up the DNS resolver: %s",
			 ares_strerror(rc));
		set_err(err, code, rc == ARES_ENOMEM ? BW_IPCHECK_ENOMEM :
			BW_IPCHECK_ERESOLVER, t);
		return -1;
	}
	r->have_channel = 1;
	if (servers && *servers) {
		rc = ares_set_servers_ports_csv(r->ch, servers);
		if (rc != ARES_SUCCESS) {
			set_err(err, code, BW_IPCHECK_EOPTION,
				"bad resolver list: expected host:port, "
				"comma-separated");
			return -1;
		}
	}
	return 0;
}

/* ---- the answer ---- */

static json_t *fill_url(const char *tmpl, const char *ip)
{
	char buf[2048];
	size_t n = 0, il = strlen(ip);
	const char *p;

	if (!tmpl)
		return json_null();
	for (p = tmpl; *p && n + 1 < sizeof buf;) {
		if (strncmp(p, "{ip}", 4) == 0) {
			if (n + il + 1 >= sizeof buf)
				break;
			memcpy(buf + n, ip, il);
			n += il;
			p += 4;
		} else {
			buf[n++] = *p++;
		}
	}
	buf[n] = '\0';
	return json_string(buf);
}

static json_t *string_array(const bw_dns_answer *a)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr && i < a->n; i++)
		if (json_array_append_new(arr, json_string(a->v[i])) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static json_t *txt_text(const struct job *j)
{
	char buf[2048];
	size_t n = 0, i;

	if (!j->txt.started || j->txt.ans.status != BW_DNS_OK)
		return json_null();
	buf[0] = '\0';
	for (i = 0; i < j->txt.ans.n; i++)
		n += (size_t)snprintf(buf + n, n < sizeof buf ? sizeof buf - n : 0,
				      "%s%s", i ? " | " : "", j->txt.ans.v[i]);
	return json_string(buf);
}

static long long elapsed(const struct query *q)
{
	return q->started && q->done ? q->t1 - q->t0 : 0;
}

static json_t *build_listing(const struct run *r, const struct job *j,
			     const char *iptext)
{
	json_t *o = json_object();
	const struct query *a = &j->a;
	long long ms = elapsed(a);
	int cached = a->cached;

	if (!o)
		return NULL;
	if (j->txt.started) {
		if (j->txt.t1 - a->t0 > ms)
			ms = j->txt.t1 - a->t0;
		cached = cached && j->txt.cached;
	}
	(void)r;
	if (json_object_set_new(o, "id", json_string(json_str(j->list, "id") ?
						     json_str(j->list, "id") : "")) ||
	    json_object_set_new(o, "name", json_str(j->list, "name") ?
				json_string(json_str(j->list, "name")) :
				json_null()) ||
	    json_object_set_new(o, "zone", json_string(json_str(j->zone, "zone"))) ||
	    json_object_set_new(o, "query", json_string(a->name)) ||
	    bw_ipcheck_interpret(j->list, j->zone, &a->ans, o) < 0)
		goto fail;
	if (a->ans.reason && !json_is_true(json_object_get(o, "listed")) &&
	    json_object_set_new(o, "reason", json_string(a->ans.reason)))
		goto fail;
	if (json_object_set_new(o, "txt", txt_text(j)) ||
	    json_object_set_new(o, "lookup_url",
				fill_url(json_str(j->list, "lookup_url"), iptext)) ||
	    json_object_set_new(o, "delist_url",
				fill_url(json_str(j->list, "delist_url"), iptext)) ||
	    json_object_set_new(o, "elapsed_ms", json_integer(ms)) ||
	    json_object_set_new(o, "cached", json_boolean(cached)))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

static const char *rdns_status(const struct query *q, const char **reason)
{
	*reason = NULL;
	switch (q->ans.status) {
	case BW_DNS_OK: return "ok";
	case BW_DNS_NXDOMAIN:
	case BW_DNS_NODATA:
		*reason = "the address has no PTR record (no reverse DNS); "
			  "many receivers refuse mail from such addresses";
		return "none";
	case BW_DNS_TIMEOUT:
		*reason = "no answer before the deadline";
		return "timeout";
	default:
		*reason = q->ans.reason ? q->ans.reason :
			  "the reverse DNS lookup failed";
		return "error";
	}
}

static json_t *build_rdns(const struct run *r)
{
	json_t *o, *names, *ptr;
	const char *reason, *st = rdns_status(&r->ptr, &reason);
	int confirmed = 0, generic = 0, cached = r->ptr.cached;
	size_t i, k;

	o = json_object();
	names = json_array();
	ptr = string_array(&r->ptr.ans);
	if (!o || !names || !ptr)
		goto fail;
	if (r->ptr.ans.status != BW_DNS_OK)
		json_array_clear(ptr);
	for (i = 0; r->ptr.ans.status == BW_DNS_OK && i < r->ptr.ans.n; i++) {
		const char *name = r->ptr.ans.v[i];
		const struct query *f = NULL;
		char why[160];
		int gen = bw_ipcheck_generic_name(&r->ip, name, why, sizeof why);
		int conf = 0;
		json_t *fwd = NULL, *n;

		for (k = 0; k < r->nfwd; k++)
			if (r->fwd[k].idx == i)
				f = &r->fwd[k];
		if (f) {
			cached = cached && f->cached;
			if (f->ans.status == BW_DNS_OK) {
				for (k = 0; k < f->ans.n; k++) {
					bw_ipaddr fa;

					if (bw_ipaddr_parse(f->ans.v[k],
							    strlen(f->ans.v[k]),
							    &fa) == 0 &&
					    bw_ipaddr_equal(&fa, &r->ip))
						conf = 1;
				}
			}
			fwd = string_array(&f->ans);
			if (!fwd)
				goto fail;
			if (f->ans.status != BW_DNS_OK)
				json_array_clear(fwd);
		}
		n = json_pack("{s:s, s:o, s:s, s:b, s:b, s:o}", "name", name,
			      "forward", fwd ? fwd : json_null(),
			      "forward_status", f ? (f->ans.status == BW_DNS_OK ?
				 "ok" : bw_dns_status_name(f->ans.status)) :
				 "not_checked",
			      "forward_confirmed", conf, "generic", gen,
			      "generic_reason", gen ? json_string(why) : json_null());
		if (!n || json_array_append_new(names, n))
			goto fail;
		confirmed |= conf;
		generic |= gen;
	}
	if (json_object_set_new(o, "query", json_string(r->ptr.name)) ||
	    json_object_set_new(o, "status", json_string(st)) ||
	    json_object_set_new(o, "reason", reason ? json_string(reason) :
				json_null()) ||
	    json_object_set_new(o, "ptr", ptr) ||
	    json_object_set_new(o, "forward_confirmed", json_boolean(confirmed)) ||
	    json_object_set_new(o, "generic", json_boolean(generic)) ||
	    json_object_set_new(o, "names", names) ||
	    json_object_set_new(o, "cached", json_boolean(cached))) {
		ptr = names = NULL;
		goto fail;
	}
	return o;
fail:
	json_decref(ptr);
	json_decref(names);
	json_decref(o);
	return NULL;
}

/* Does a zone of list take this family and belong in the default check? */
static int zone_wanted(const json_t *list, const json_t *zone, int family)
{
	const char *kind = json_str(list, "kind");
	const char *name = json_str(zone, "zone");

	if (kind && strcmp(kind, "dnsbl") != 0)
		return 0;
	if (!name || !*name || strlen(name) > 180)
		return 0;
	if (!json_is_true(json_object_get(zone, "query")))
		return 0;
	return json_is_true(json_object_get(zone, family == 4 ? "ipv4" : "ipv6"));
}

json_t *bw_ipcheck_run_lists(const json_t *blocklists, bw_ipcache *cache,
			     const char *ip, const bw_ipcheck_opts *o,
			     int *code, bw_error *err)
{
	bw_ipcheck_opts def = {NULL, 0, 0, 0};
	struct run r;
	char iptext[BW_IPADDR_TEXT_MAX], rev[BW_IPADDR_REVERSE_MAX];
	json_t *ans = NULL, *listings = NULL, *summary;
	size_t i, j, nz = 0;
	int cls, c_listed = 0, c_not = 0, c_err = 0, c_to = 0;
	long long total;

	if (code)
		*code = BW_IPCHECK_OK;
	if (!o)
		o = &def;
	memset(&r, 0, sizeof r);
	if (!ip || (o->lenient ? bw_ipaddr_parse_lenient(ip, strlen(ip), &r.ip)
			       : bw_ipaddr_parse(ip, strnlen(ip, 64), &r.ip)) != 0 ||
	    strnlen(ip, 64) >= 64) {
		set_err(err, code, BW_IPCHECK_EMALFORMED,
			"not an IPv4 or IPv6 address");
		return NULL;
	}
	bw_ipaddr_unmap(&r.ip);
	cls = bw_ipaddr_classify(&r.ip);
	if (cls != BW_IP_PUBLIC && !o->allow_private) {
		char t[200];

		snprintf(t, sizeof t, "not a public address (%s); blocklists "
			 "do not list it", bw_ipclass_name(cls));
		set_err(err, code, BW_IPCHECK_ENOTPUBLIC, t);
		return NULL;
	}
	r.timeout_ms = o->timeout_ms ? o->timeout_ms :
		       BW_IPCHECK_TIMEOUT_DEFAULT_MS;
	if (r.timeout_ms > BW_IPCHECK_TIMEOUT_MAX_MS) {
		set_err(err, code, BW_IPCHECK_EOPTION,
			"the DNS timeout is too long (at most 30 s)");
		return NULL;
	}
	if (o->servers && strlen(o->servers) > 1000) {
		set_err(err, code, BW_IPCHECK_EOPTION, "resolver list too long");
		return NULL;
	}
	r.servers = o->servers ? o->servers : "";
	r.cache = cache;
	bw_ipaddr_format(&r.ip, iptext, sizeof iptext);
	bw_ipaddr_reverse(&r.ip, rev, sizeof rev);

	/* the zones to ask */
	for (i = 0; i < json_array_size(blocklists); i++) {
		const json_t *zones = json_object_get(json_array_get(blocklists, i),
						      "zones");

		for (j = 0; j < json_array_size(zones); j++)
			nz++;
	}
	r.jobs = calloc(nz ? nz : 1, sizeof *r.jobs);
	if (!r.jobs) {
		set_err(err, code, BW_IPCHECK_ENOMEM, "out of memory");
		return NULL;
	}
	for (i = 0; i < json_array_size(blocklists); i++) {
		const json_t *list = json_array_get(blocklists, i);
		const json_t *zones = json_object_get(list, "zones");

		for (j = 0; j < json_array_size(zones); j++) {
			const json_t *zone = json_array_get(zones, j);
			struct job *jb = &r.jobs[r.njobs];

			if (!zone_wanted(list, zone, r.ip.family))
				continue;
			jb->list = list;
			jb->zone = zone;
			jb->a.kind = Q_LIST_A;
			jb->a.idx = r.njobs;
			jb->a.qtype = T_A;
			snprintf(jb->a.name, sizeof jb->a.name, "%s.%s", rev,
				 json_str(zone, "zone"));
			r.njobs++;
		}
	}
	r.ptr.kind = Q_PTR;
	r.ptr.qtype = T_PTR;
	snprintf(r.ptr.name, sizeof r.ptr.name, "%s.%s", rev,
		 r.ip.family == 4 ? "in-addr.arpa" : "ip6.arpa");

	r.start = now_ms();
	r.deadline = r.start + r.timeout_ms;
	if (channel_open(&r, o->servers, err, code) != 0)
		goto out;
	start(&r, &r.ptr);
	for (i = 0; i < r.njobs; i++)
		start(&r, &r.jobs[i].a);
	drive(&r);
	total = now_ms() - r.start;

	listings = json_array();
	ans = json_object();
	if (!listings || !ans)
		goto nomem;
	for (i = 0; i < r.njobs; i++) {
		json_t *l = build_listing(&r, &r.jobs[i], iptext);
		const char *st;

		if (!l || json_array_append_new(listings, l))
			goto nomem;
		st = json_string_value(json_object_get(l, "status"));
		if (strcmp(st, "listed") == 0)
			c_listed++;
		else if (strcmp(st, "not_listed") == 0)
			c_not++;
		else if (strcmp(st, "timeout") == 0)
			c_to++;
		else
			c_err++;
	}
	summary = json_pack("{s:i, s:i, s:i, s:i, s:i, s:I}",
			    "checked", (int)r.njobs, "listed", c_listed,
			    "not_listed", c_not, "errors", c_err,
			    "timeouts", c_to, "elapsed_ms", (json_int_t)total);
	if (!summary ||
	    json_object_set_new(ans, "api_version", json_string(BW_API_VERSION)) ||
	    json_object_set_new(ans, "ip", json_string(iptext)) ||
	    json_object_set_new(ans, "family",
				json_string(r.ip.family == 4 ? "ipv4" : "ipv6")) ||
	    json_object_set_new(ans, "class", json_string(bw_ipclass_name(cls))) ||
	    json_object_set_new(ans, "resolver", json_string(*r.servers ?
							     r.servers : "system")) ||
	    json_object_set_new(ans, "timeout_ms", json_integer(r.timeout_ms)) ||
	    json_object_set_new(ans, "cached",
				json_boolean(r.cache_lookups > 0 &&
					     r.cache_hits == r.cache_lookups)) ||
	    json_object_set_new(ans, "reverse_dns", build_rdns(&r)) ||
	    json_object_set_new(ans, "listings", listings) ||
	    json_object_set_new(ans, "summary", summary)) {
		listings = NULL;
		goto nomem;
	}
	goto out;
nomem:
	json_decref(listings);
	json_decref(ans);
	ans = NULL;
	set_err(err, code, BW_IPCHECK_ENOMEM, "out of memory");
out:
	if (r.have_channel)
		ares_destroy(r.ch);
	for (i = 0; i < r.njobs; i++) {
		bw_dns_answer_clear(&r.jobs[i].a.ans);
		bw_dns_answer_clear(&r.jobs[i].txt.ans);
	}
	bw_dns_answer_clear(&r.ptr.ans);
	for (i = 0; i < r.nfwd; i++)
		bw_dns_answer_clear(&r.fwd[i].ans);
	free(r.jobs);
	return ans;
}

json_t *bw_ipcheck_run(const bw_kb *kb, bw_ipcache *cache, const char *ip,
		       const bw_ipcheck_opts *o, int *code, bw_error *err)
{
	return bw_ipcheck_run_lists(kb ? bw_kb_blocklists(kb) : NULL, cache,
				    ip, o, code, err);
}

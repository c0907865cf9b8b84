/*
 * metrics.c - request, finding and DNS counters, and their Prometheus text.
 *
 * Small fixed tables under one mutex: the names come from our own route
 * table, reason list and outcome words, so the tables stay small; anything
 * past their size is counted under "other".
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define MAX_SERIES 128
static const double buckets[] = {0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

typedef struct series {
	char name[48];
	int status;
	unsigned long long count;
} series;

struct bw_metrics {
	pthread_mutex_t mu;
	series req[MAX_SERIES];
	size_t nreq;
	series reason[64];
	size_t nreason;
	series dns[16];
	size_t ndns;
	unsigned long long hist[NBUCKETS + 1];
	double sum_ms;
	unsigned long long count;
};

bw_metrics *bw_metrics_new(void)
{
	bw_metrics *m = calloc(1, sizeof *m);

	if (m)
		pthread_mutex_init(&m->mu, NULL);
	return m;
}

void bw_metrics_free(bw_metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* Finds or adds the series (name, status) in v; the last slot is "other". */
static series *find(series *v, size_t *n, size_t cap, const char *name, int status)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i].status == status && strcmp(v[i].name, name) == 0)
			return &v[i];
	if (*n + 1 >= cap)
		name = "other";
	for (size_t i = 0; i < *n; i++)
		if (v[i].status == status && strcmp(v[i].name, name) == 0)
			return &v[i];
	if (*n >= cap)
		return &v[cap - 1];
	snprintf(v[*n].name, sizeof v[*n].name, "%s", name);
	v[*n].status = status;
	return &v[(*n)++];
}

void bw_metrics_observe(bw_metrics *m, const char *route, int status, double ms)
{
	size_t b = 0;

	if (m == NULL)
		return;
	while (b < NBUCKETS && ms > buckets[b])
		b++;
	pthread_mutex_lock(&m->mu);
	find(m->req, &m->nreq, MAX_SERIES, route ? route : "-", status)->count++;
	m->hist[b]++;
	m->sum_ms += ms;
	m->count++;
	pthread_mutex_unlock(&m->mu);
}

void bw_metrics_finding(bw_metrics *m, const char *reason)
{
	if (m == NULL || reason == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	find(m->reason, &m->nreason, 64, reason, 0)->count++;
	pthread_mutex_unlock(&m->mu);
}

void bw_metrics_dns(bw_metrics *m, const char *outcome, unsigned long n)
{
	if (m == NULL || outcome == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	find(m->dns, &m->ndns, 16, outcome, 0)->count += n;
	pthread_mutex_unlock(&m->mu);
}

static int put(bw_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int put(bw_buf *out, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	return bw_buf_append(out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

int bw_metrics_render(bw_metrics *m, bw_buf *out)
{
	unsigned long long cum = 0;
	int rc = 0;

	if (m == NULL)
		return 0;
	pthread_mutex_lock(&m->mu);
	rc |= put(out, "# HELP bouncewhy_requests_total HTTP requests by route and status.\n"
		       "# TYPE bouncewhy_requests_total counter\n");
	for (size_t i = 0; i < m->nreq; i++)
		rc |= put(out, "bouncewhy_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
			  m->req[i].name, m->req[i].status, m->req[i].count);
	rc |= put(out, "# HELP bouncewhy_request_duration_ms Time from request read to answer sent.\n"
		       "# TYPE bouncewhy_request_duration_ms histogram\n");
	for (size_t b = 0; b < NBUCKETS; b++) {
		cum += m->hist[b];
		rc |= put(out, "bouncewhy_request_duration_ms_bucket{le=\"%g\"} %llu\n", buckets[b], cum);
	}
	cum += m->hist[NBUCKETS];
	rc |= put(out, "bouncewhy_request_duration_ms_bucket{le=\"+Inf\"} %llu\n", cum);
	rc |= put(out, "bouncewhy_request_duration_ms_sum %.3f\n", m->sum_ms);
	rc |= put(out, "bouncewhy_request_duration_ms_count %llu\n", m->count);
	rc |= put(out, "# HELP bouncewhy_findings_total Findings served, by reason.\n"
		       "# TYPE bouncewhy_findings_total counter\n");
	for (size_t i = 0; i < m->nreason; i++)
		rc |= put(out, "bouncewhy_findings_total{reason=\"%s\"} %llu\n", m->reason[i].name,
			  m->reason[i].count);
	rc |= put(out, "# HELP bouncewhy_dns_queries_total DNS blocklist and reverse DNS queries, by outcome.\n"
		       "# TYPE bouncewhy_dns_queries_total counter\n");
	for (size_t i = 0; i < m->ndns; i++)
		rc |= put(out, "bouncewhy_dns_queries_total{outcome=\"%s\"} %llu\n", m->dns[i].name,
			  m->dns[i].count);
	pthread_mutex_unlock(&m->mu);
	return rc ? -1 : 0;
}

void bw_api_metrics(const bw_app *app, const bw_request *req, bw_response *res, const char *tail)
{
	res->status = 200;
	snprintf(res->content_type, sizeof res->content_type, "text/plain; version=0.0.4");
	bw_buf_reset(&res->body);
	if (bw_metrics_render(app->metrics, &res->body) < 0)
		bw_response_problem(res, 503, "Out of memory.");
}

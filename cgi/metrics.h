/*
 * metrics.h - counters for GET /metrics (Prometheus text format).
 *
 * Thread-safe: every function may be called from any thread; a NULL
 * bw_metrics is accepted and ignored, so callers need no checks.
 */
#ifndef BW_METRICS_H
#define BW_METRICS_H

#include "http.h"

typedef struct bw_metrics bw_metrics;

/* New, empty counters; NULL when memory runs out. */
bw_metrics *bw_metrics_new(void);
void bw_metrics_free(bw_metrics *m);
/* One request done: route name (static string), HTTP status, latency in ms. */
void bw_metrics_observe(bw_metrics *m, const char *route, int status, double ms);
/* One finding of this reason (a name from the knowledge base) was served. */
void bw_metrics_finding(bw_metrics *m, const char *reason);
/* A DNS query ended with outcome ("listed", "not_listed", "timeout", "error", "cache_hit"). */
void bw_metrics_dns(bw_metrics *m, const char *outcome, unsigned long n);
/* Appends the text exposition to out. Returns 0 or -1 (ENOMEM). */
int bw_metrics_render(bw_metrics *m, bw_buf *out);

/* GET /metrics */
void bw_api_metrics(const bw_app *app, const bw_request *req, bw_response *res, const char *tail);

#endif

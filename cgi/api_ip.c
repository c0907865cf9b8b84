/*
 * api_ip.c - GET /api/v1/ip/{ip}: reverse DNS and DNS blocklists of one
 * address, as JSON (the shape documented in classifier/ipcheck.h).
 *
 * The resolver, the deadline and whether private addresses may be checked
 * come from the server's command line (bw_config), never from the request:
 * a client cannot point the server at its own DNS or make it wait longer.
 * Errors are problem+json: 400 not an address, 422 not a public address,
 * 503 resolver could not be set up, 500 otherwise.
 */
#include <string.h>

#include "http.h"
#include "ipcheck.h"
#include "metrics.h"

/* Exported for routes.c (declared there until http.h declares it). */
void bw_api_ip(const bw_app *app, const bw_request *req, bw_response *res,
	       const char *tail);

static void count_dns(const bw_app *app, const json_t *out)
{
	const json_t *s = json_object_get(out, "summary");

	if (!app->metrics || !s)
		return;
	bw_metrics_dns(app->metrics, "listed",
		       (unsigned long)json_integer_value(json_object_get(s, "listed")));
	bw_metrics_dns(app->metrics, "not_listed",
		       (unsigned long)json_integer_value(json_object_get(s, "not_listed")));
	bw_metrics_dns(app->metrics, "timeout",
		       (unsigned long)json_integer_value(json_object_get(s, "timeouts")));
	bw_metrics_dns(app->metrics, "error",
		       (unsigned long)json_integer_value(json_object_get(s, "errors")));
	if (json_is_true(json_object_get(out, "cached")))
		bw_metrics_dns(app->metrics, "cache_hit", 1);
}

void bw_api_ip(const bw_app *app, const bw_request *req, bw_response *res,
	       const char *tail)
{
	bw_ipcheck_opts o = {NULL, 0, 0, 0};
	bw_error err = {0};
	json_t *out;
	int code = 0, st;

	(void)req;
	bw_response_header(res, "Access-Control-Allow-Origin", "*");
	if (!tail || !*tail || strlen(tail) > 64) {
		bw_response_problem(res, 400, "Not an IPv4 or IPv6 address.");
		return;
	}
	o.servers = app->cfg->resolver;
	o.timeout_ms = app->cfg->dns_timeout_ms;
	o.allow_private = app->cfg->allow_private;
	out = bw_ipcheck_run(app->kb, app->ipcache, tail, &o, &code, &err);
	if (!out) {
		st = bw_ipcheck_http_status(code);
		if (code == BW_IPCHECK_EOPTION)
			st = 500;	/* the server's own configuration */
		bw_response_problem(res, st, err.text);
		return;
	}
	count_dns(app, out);
	json_object_set_new(out, "version", json_string(bw_kb_version(app->kb)));
	bw_response_header(res, "Cache-Control", "no-store");
	bw_response_json(res, 200, out);
}

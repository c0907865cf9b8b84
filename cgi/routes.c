/*
 * routes.c - the route table: which handler answers which path and method.
 *
 * A path ending in "*" matches every path with that prefix; the handler gets
 * the rest as its tail. Unknown paths are 404, known paths with another
 * method 405 with Allow, both as problem+json. HEAD is served as GET.
 */
#include <string.h>

#include "http.h"
#include "metrics.h"
#include "pages.h"



static const bw_route routes[] = {
	{"healthz", "GET", "/healthz", bw_api_healthz},
	{"api.explain", "POST", "/api/v1/explain", bw_api_explain},
	{"api.reasons", "GET", "/api/v1/reasons", bw_api_reasons},
	{"api.reason", "GET", "/api/v1/reasons/*", bw_api_reason},
	{"api.blocklists", "GET", "/api/v1/blocklists", bw_api_blocklists},
	{"api.openapi", "GET", "/api/v1/openapi.json", bw_api_openapi},
	{"metrics", "GET", "/metrics", bw_api_metrics},
	/* BEGIN routes added by other modules (one line each) */
	{"page.home", "GET", "/", bw_page_home},			/* pages.c */
	{"page.explain", "GET,POST", "/explain", bw_page_explain},	/* pages.c */
	{"page.ip", "GET", "/ip/*", bw_page_ip},			/* pages.c */
	{"page.kb", "GET", "/kb", bw_page_kb},				/* pages.c */
	{"page.kb", "GET", "/kb/", bw_page_kb},				/* pages.c */
	{"page.kb", "GET", "/kb/*", bw_page_kb},			/* pages.c */
	{"page.blocklist", "GET", "/kb/blocklist/*", bw_page_kb_blocklist}, /* pages.c */
	{"embed.explain", "GET,POST", "/embed/explain", bw_page_explain}, /* pages.c */
	{"embed.kb", "GET", "/embed/kb/*", bw_page_kb},			/* pages.c */
	{"api.ip", "GET", "/api/v1/ip/*", bw_api_ip},			/* api_ip.c */
	{"api.explain_batch", "POST", "/api/v1/explain/batch", bw_api_explain_batch}, /* api_batch.c */
	/* END routes added by other modules */
};

static int method_ok(const char *list, const char *m)
{
	size_t n = strlen(m);
	const char *p = list;

	if (strcmp(m, "HEAD") == 0)
		m = "GET", n = 3;
	while ((p = strstr(p, m)) != NULL) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static const char *path_match(const bw_route *r, const char *path)
{
	size_t n = strlen(r->path);

	if (n > 0 && r->path[n - 1] == '*') {
		if (strncmp(path, r->path, n - 1) == 0 && path[n - 1] != '\0' &&
		    strchr(path + n - 1, '/') == NULL)
			return path + n - 1;
		return NULL;
	}
	return strcmp(path, r->path) == 0 ? "" : NULL;
}

void bw_route_dispatch(const bw_app *app, const bw_request *req, bw_response *res)
{
	char allow[128] = "";
	int found = 0;

	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const char *tail = path_match(&routes[i], req->path);
		if (tail == NULL)
			continue;
		found = 1;
		if (method_ok(routes[i].methods, req->method)) {
			res->route = routes[i].name;
			routes[i].handler(app, req, res, tail);
			return;
		}
		if (strcmp(req->method, "OPTIONS") == 0 && strncmp(req->path, "/api/", 5) == 0) {
			/* CORS preflight for the API */
			res->route = "cors";
			res->status = 204;
			bw_response_header(res, "Access-Control-Allow-Origin", "*");
			bw_response_header(res, "Access-Control-Allow-Methods", routes[i].methods);
			bw_response_header(res, "Access-Control-Allow-Headers", "Content-Type, Accept");
			bw_response_header(res, "Access-Control-Max-Age", "86400");
			return;
		}
		if (allow[0])
			strncat(allow, ",", sizeof allow - strlen(allow) - 1);
		strncat(allow, routes[i].methods, sizeof allow - strlen(allow) - 1);
	}
	res->route = found ? "method_not_allowed" : "not_found";
	/* a person's browser outside the API gets a readable page */
	int page = app->templates && strncmp(req->path, "/api/", 5) != 0 &&
		   strcmp(req->path, "/healthz") != 0 && strcmp(req->path, "/metrics") != 0 &&
		   strcmp(bw_negotiate(req, "json"), "json") != 0;
	if (found) {
		if (strstr(allow, "GET"))
			strncat(allow, ",HEAD", sizeof allow - strlen(allow) - 1);
		bw_response_header(res, "Allow", allow);
		if (page)
			bw_page_error(app, req, res, 405, "Method not allowed",
				      "This page does not take that kind of request.");
		else
			bw_response_problem(res, 405, "This path does not take that method; see the Allow header.");
	} else if (page) {
		bw_page_error(app, req, res, 404, "Page not found",
			      "There is no page at this address. Start again from the form.");
	} else {
		bw_response_problem(res, 404, "There is nothing at this path.");
	}
}

/*
 * http.h - the FastCGI front's view of one request and its answer.
 *
 * request.c turns FastCGI params and body into a bw_request with a size
 * bound on everything; handlers only see these typed, decoded values and
 * never touch raw params. A handler fills a bw_response; main.c writes it.
 */
#ifndef BW_HTTP_H
#define BW_HTTP_H

#include <stddef.h>
#include <jansson.h>
#include <fcgiapp.h>

#include "bouncewhy.h"
#include "mustache.h"	/* bw_buf */

#define BW_MAX_PARAMS 64
#define BW_MAX_PATH 2048
#define BW_MAX_QUERY 8192

struct bw_tpl_set;
struct bw_ipcache;
struct bw_metrics;

/* Settings from the command line; fixed once serving starts. */
typedef struct bw_config {
	const char *listen;	/* UNIX socket path or 127.0.0.1:PORT */
	const char *rules_dir;
	const char *override;
	const char *templates_dir;
	const char *static_dir;
	const char *user;	/* drop to this user when started as root */
	int threads;
	size_t max_body;	/* bytes; bigger bodies get 413 */
	size_t max_batch;	/* items of a batch */
	const char *resolver;	/* DNS servers host:port,...; NULL = system */
	unsigned dns_timeout_ms;
	int allow_private;	/* IP check of private addresses (tests) */
	const char *frame_ancestors;	/* CSP frame-ancestors for /embed/ */
} bw_config;

/* What every handler may use: immutable after start-up, shared by threads. */
typedef struct bw_app {
	const bw_config *cfg;
	const bw_kb *kb;
	struct bw_tpl_set *templates;	/* NULL when no templates are loaded */
	struct bw_ipcache *ipcache;	/* NULL: no cache */
	struct bw_metrics *metrics;	/* NULL: no metrics */
	char *openapi;			/* static/openapi.json contents, or NULL */
	size_t openapi_len;
} bw_app;

typedef struct bw_param {
	char *name, *value;	/* decoded, NUL-terminated (values may hold NUL-free UTF-8 only) */
	size_t value_len;
} bw_param;

typedef struct bw_request {
	const char *method;	/* GET, POST, ... */
	char path[BW_MAX_PATH];	/* percent-decoded, without the query */
	const char *query;	/* raw query string, "" when none */
	char content_type[128];	/* media type only, lower case: "application/json" */
	const char *accept;	/* Accept header, "" when none */
	const char *origin;	/* Origin header, "" when none */
	const char *remote_addr;
	char *body;		/* NUL-terminated; body_len bytes */
	size_t body_len;
	bw_param params[BW_MAX_PARAMS];	/* query, then form body */
	size_t nparams;
	int form_invalid;	/* a form body that did not decode; see body */
	FCGX_Request *fcgi;
} bw_request;

typedef struct bw_response {
	int status;
	char content_type[128];
	bw_buf headers;		/* extra "Name: value\r\n" lines */
	bw_buf body;
	const char *route;	/* route name for logs and metrics */
} bw_response;

/* request.c */
/*
 * Fills req from the FastCGI request: method, path, query, headers, body
 * (at most max_body bytes) and parameters. Returns 0, or an HTTP status
 * (400, 413, 414) with *why set to a static message when the request is bad.
 */
int bw_request_read(bw_request *req, FCGX_Request *f, size_t max_body, const char **why);
void bw_request_free(bw_request *req);
/* Borrowed decoded value of a query or form parameter, or NULL. */
const char *bw_request_param(const bw_request *req, const char *name, size_t *len);
/* Decodes application/x-www-form-urlencoded s into req->params; 0, or -1 when too many. */
int bw_form_decode(bw_request *req, const char *s, size_t n);

/* jsonout.c */
/*
 * The compact JSON text of v (an object or array) into buf: what
 * json_dumpb(v, buf, size, JSON_COMPACT) writes, byte for byte, and the same
 * return value (the length the text needs, which may exceed size; 0 when
 * jansson would fail), at a fraction of its cost.
 */
size_t bw_json_compact(const json_t *v, char *buf, size_t size);

/* response.c */
void bw_response_init(bw_response *r);
void bw_response_free(bw_response *r);
void bw_response_header(bw_response *r, const char *name, const char *value);
/* Sets status and body to the JSON value (stolen), compact, one newline after. */
void bw_response_json(bw_response *r, int status, json_t *v);
/* An RFC 9457 problem: {"type","title","status","detail"} as application/problem+json. */
void bw_response_problem(bw_response *r, int status, const char *detail);
void bw_response_text(bw_response *r, int status, const char *ctype, const char *s, size_t n);
/* Writes status line, headers and body to the FastCGI stream. */
void bw_response_send(const bw_response *r, FCGX_Request *f, const char *method);
const char *bw_status_text(int status);

/* routes.c */
typedef void (*bw_handler)(const bw_app *app, const bw_request *req, bw_response *res,
			   const char *tail);
typedef struct bw_route {
	const char *name;	/* for logs and metrics: "api.explain" */
	const char *methods;	/* "GET", "POST", "GET,POST" */
	const char *path;	/* exact path, or a prefix ending in '/' followed by '*' */
	bw_handler handler;
} bw_route;

/* Finds the route of req and runs it; 404 and 405 (with Allow) otherwise. */
void bw_route_dispatch(const bw_app *app, const bw_request *req, bw_response *res);

/* api.c */
void bw_api_healthz(const bw_app *app, const bw_request *req, bw_response *res, const char *tail);
void bw_api_explain(const bw_app *app, const bw_request *req, bw_response *res, const char *tail);
void bw_api_reasons(const bw_app *app, const bw_request *req, bw_response *res, const char *tail);
void bw_api_reason(const bw_app *app, const bw_request *req, bw_response *res, const char *tail);
void bw_api_blocklists(const bw_app *app, const bw_request *req, bw_response *res, const char *tail);
void bw_api_openapi(const bw_app *app, const bw_request *req, bw_response *res, const char *tail);
/* api_ip.c: GET /api/v1/ip/{ip} */
void bw_api_ip(const bw_app *app, const bw_request *req, bw_response *res, const char *tail);
/* api_batch.c: POST /api/v1/explain/batch (contract work) */
void bw_api_explain_batch(const bw_app *app, const bw_request *req, bw_response *res,
			  const char *tail);
/* Which form the client wants: "json", "html" or "fragment" (?format= beats Accept). */
const char *bw_negotiate(const bw_request *req, const char *dflt);

#endif /* BW_HTTP_H */

/*
 * response.c - build and send an answer: status, headers, body.
 *
 * JSON values are jansson's, written by jsonout.c; problems in the RFC 9457
 * shape. Every answer carries the security headers that do not depend on
 * the page, and a Content-Security-Policy that allows nothing unless the
 * handler set one.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

const char *bw_status_text(int s)
{
	switch (s) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

void bw_response_init(bw_response *r)
{
	memset(r, 0, sizeof *r);
	r->status = 200;
	strcpy(r->content_type, "text/plain; charset=utf-8");
}

void bw_response_free(bw_response *r)
{
	bw_buf_free(&r->headers);
	bw_buf_free(&r->body);
}

void bw_response_header(bw_response *r, const char *name, const char *value)
{
	/* values are ours, never the client's raw bytes; still refuse line breaks */
	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return;
	bw_buf_puts(&r->headers, name);
	bw_buf_puts(&r->headers, ": ");
	bw_buf_puts(&r->headers, value);
	bw_buf_puts(&r->headers, "\r\n");
}

/*
 * Answers are compact JSON written once, straight into the body buffer
 * (bw_json_compact, jansson's compact text at a fraction of its cost, into a
 * generous reserve; a bigger answer is written again into the size the
 * first pass measured).
 */
#define BW_JSON_RESERVE 8192

void bw_response_json(bw_response *r, int status, json_t *v)
{
	size_t need = 0, room;

	r->status = status;
	memcpy(r->content_type, "application/json", sizeof "application/json");
	bw_buf_reset(&r->body);
	if (v && bw_buf_reserve(&r->body, BW_JSON_RESERVE) == 0) {
		room = r->body.cap - 2;	/* a newline and a NUL follow */
		need = bw_json_compact(v, r->body.data, room);
		if (need > room && (bw_buf_reserve(&r->body, need + 2) < 0 ||
				    bw_json_compact(v, r->body.data, need) != need))
			need = 0;
	}
	if (need == 0) {
		bw_buf_reset(&r->body);
		r->status = 500;
		bw_buf_puts(&r->body, "{\"title\":\"Internal Server Error\",\"status\":500}");
	} else {
		r->body.len = need;
	}
	bw_buf_puts(&r->body, "\n");
	json_decref(v);
}

void bw_response_problem(bw_response *r, int status, const char *detail)
{
	char type[64];

	snprintf(type, sizeof type, "/problems/%d", status);
	bw_response_json(r, status, json_pack("{s:s, s:s, s:i, s:s}", "type", type,
					      "title", bw_status_text(status), "status", status,
					      "detail", detail ? detail : ""));
	snprintf(r->content_type, sizeof r->content_type, "application/problem+json");
}

void bw_response_text(bw_response *r, int status, const char *ctype, const char *s, size_t n)
{
	r->status = status;
	snprintf(r->content_type, sizeof r->content_type, "%s", ctype);
	bw_buf_reset(&r->body);
	bw_buf_append(&r->body, s, n);
}

void bw_response_send(const bw_response *r, FCGX_Request *f, const char *method)
{
	char head[640];
	int n;
	/* Pages set their own policy; anything else (JSON, text, problems) may
	 * load nothing and be framed by nobody. */
	int csp = r->headers.len == 0 || strstr(r->headers.data, "Content-Security-Policy:") == NULL;

	/* one formatting of the fixed headers (libfcgi's own printf knows no %zu) */
	n = snprintf(head, sizeof head,
		     "Status: %d %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "X-Content-Type-Options: nosniff\r\n"
		     "Referrer-Policy: no-referrer\r\n"
		     "Cache-Control: no-store\r\n"
		     "%s",
		     r->status, bw_status_text(r->status), r->content_type, r->body.len,
		     csp ? "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n" : "");
	FCGX_PutStr(head, n < (int)sizeof head ? n : (int)sizeof head - 1, f->out);
	if (r->headers.len)
		FCGX_PutStr(r->headers.data, (int)r->headers.len, f->out);
	FCGX_PutStr("\r\n", 2, f->out);
	if (r->body.len && strcmp(method, "HEAD") != 0)
		FCGX_PutStr(r->body.data, (int)r->body.len, f->out);
}

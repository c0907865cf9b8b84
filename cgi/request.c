/*
 * request.c - validate at the edge: FastCGI params and body to a bw_request.
 *
 * Every size is bounded here (path, query, body, number of parameters);
 * percent-decoding rejects NUL; the body is read fully or not at all. A
 * handler that gets a bw_request can trust its shape.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

static const char *param(FCGX_Request *f, const char *name)
{
	const char *v = FCGX_GetParam(name, f->envp);
	return v ? v : "";
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into out (cap bytes); plus_space for forms.
 * Returns the length, or -1 for a bad escape, a NUL, or no room. */
static long pct_decode(const char *s, size_t n, char *out, size_t cap, int plus_space)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int h, l;
			if (i + 2 >= n)
				return -1;
			h = hexval((unsigned char)s[i + 1]);
			l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

int bw_form_decode(bw_request *req, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t e = i, eq;
		while (e < n && s[e] != '&' && s[e] != ';')
			e++;
		for (eq = i; eq < e && s[eq] != '='; eq++)
			;
		if (e > i) {
			bw_param *p;
			long kl, vl;
			if (req->nparams == BW_MAX_PARAMS)
				return -1;
			p = &req->params[req->nparams];
			p->name = malloc(eq - i + 1);
			p->value = malloc((eq < e ? e - eq : 0) + 1);
			if (!p->name || !p->value) {
				free(p->name);
				free(p->value);
				return -1;
			}
			kl = pct_decode(s + i, eq - i, p->name, eq - i + 1, 1);
			vl = eq < e ? pct_decode(s + eq + 1, e - eq - 1, p->value, e - eq, 1) : 0;
			if (eq >= e)
				p->value[0] = '\0';
			if (kl < 0 || vl < 0) {
				free(p->name);
				free(p->value);
				return -1;
			}
			p->value_len = (size_t)vl;
			req->nparams++;
		}
		i = e + 1;
	}
	return 0;
}

const char *bw_request_param(const bw_request *req, const char *name, size_t *len)
{
	for (size_t i = 0; i < req->nparams; i++) {
		if (strcmp(req->params[i].name, name) == 0) {
			if (len)
				*len = req->params[i].value_len;
			return req->params[i].value;
		}
	}
	return NULL;
}

int bw_request_read(bw_request *req, FCGX_Request *f, size_t max_body, const char **why)
{
	const char *uri = param(f, "REQUEST_URI");
	const char *q, *ct, *cl;
	size_t plen;
	unsigned long long want;
	char *end;

	memset(req, 0, sizeof *req);
	req->fcgi = f;
	req->method = param(f, "REQUEST_METHOD");
	req->accept = param(f, "HTTP_ACCEPT");
	req->origin = param(f, "HTTP_ORIGIN");
	req->remote_addr = param(f, "REMOTE_ADDR");
	req->query = param(f, "QUERY_STRING");
	strcpy(req->path, "/");

	q = strchr(uri, '?');
	plen = q ? (size_t)(q - uri) : strlen(uri);
	if (plen >= BW_MAX_PATH || strlen(req->query) > BW_MAX_QUERY) {
		*why = "The request URI is too long.";
		return 414;
	}
	if (plen == 0 || pct_decode(uri, plen, req->path, sizeof req->path, 0) < 0) {
		*why = "The request path is not valid.";
		return 400;
	}

	ct = param(f, "CONTENT_TYPE");
	{
		size_t n = strcspn(ct, ";");
		while (n > 0 && isspace((unsigned char)ct[n - 1]))
			n--;
		if (n >= sizeof req->content_type)
			n = sizeof req->content_type - 1;
		for (size_t i = 0; i < n; i++)
			req->content_type[i] = (char)tolower((unsigned char)ct[i]);
		req->content_type[n] = '\0';
	}

	if (bw_form_decode(req, req->query, strlen(req->query)) < 0) {
		*why = "The query string is not valid (bad escapes or too many parameters).";
		return 400;
	}

	cl = param(f, "CONTENT_LENGTH");
	errno = 0;
	want = *cl ? strtoull(cl, &end, 10) : 0;
	if (*cl && (errno || *end || cl[0] == '-')) {
		*why = "Content-Length is not a number.";
		return 400;
	}
	if (want > max_body) {
		*why = "The request body is larger than this service accepts.";
		return 413;
	}
	if ((req->body = malloc(want + 1)) == NULL) {
		*why = "Out of memory.";
		return 503;
	}
	if (want > 0) {
		int got = FCGX_GetStr(req->body, (int)want, f->in);
		if (got < 0 || (unsigned long long)got != want) {
			*why = "The request body ended early.";
			return 400;
		}
	}
	req->body[want] = '\0';
	req->body_len = want;

	/* A body sent as a form that does not decode as one (curl -d with a raw
	 * bounce) is kept as it is; handlers fall back to the raw body. */
	if (strcmp(req->content_type, "application/x-www-form-urlencoded") == 0) {
		size_t before = req->nparams;
		if (bw_form_decode(req, req->body, req->body_len) < 0) {
			while (req->nparams > before) {
				req->nparams--;
				free(req->params[req->nparams].name);
				free(req->params[req->nparams].value);
			}
			req->form_invalid = 1;
		}
	}
	return 0;
}

void bw_request_free(bw_request *req)
{
	for (size_t i = 0; i < req->nparams; i++) {
		free(req->params[i].name);
		free(req->params[i].value);
	}
	req->nparams = 0;
	free(req->body);
	req->body = NULL;
}

/*
 * fuzz_form.c - libFuzzer target: the request decoders of cgi/request.c
 * and cgi/api.c.
 *
 * The input is split at its first newline: the first part is an Accept
 * header for bw_negotiate, the rest a query string or form body for
 * bw_form_decode. Every decoded parameter must be NUL-terminated with no NUL
 * inside (value_len == strlen), and looking a name up must find it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nl = memchr(s, '\n', size);
	size_t alen = nl ? (size_t)(nl - s) : 0;
	char *accept = malloc(alen + 1);
	bw_request *req = calloc(1, sizeof *req);
	const char *fmt;

	if (accept == NULL || req == NULL) {
		free(accept);
		free(req);
		return 0;
	}
	memcpy(accept, s, alen);
	accept[alen] = '\0';
	req->accept = accept;
	req->query = "";
	req->method = "GET";
	if (nl)
		s = nl + 1, size -= alen + 1;

	if (bw_form_decode(req, s, size) == 0) {
		for (size_t i = 0; i < req->nparams; i++) {
			const bw_param *p = &req->params[i];
			if (strlen(p->value) != p->value_len)
				abort();
			if (bw_request_param(req, p->name, NULL) == NULL)
				abort();
		}
	}
	fmt = bw_negotiate(req, "json");
	if (strcmp(fmt, "json") != 0 && strcmp(fmt, "html") != 0 && strcmp(fmt, "fragment") != 0)
		abort();
	bw_request_free(req);
	free(req);
	free(accept);
	return 0;
}

/*
 * bench_api.c - the CPU cost of one API request inside bouncewhy-fcgi,
 * without the sockets: the FastCGI params and body of a POST
 * /api/v1/explain (the typical bounce of bench/http.sh) or a GET /healthz
 * are read by request.c from in-memory FastCGI streams, the handler of
 * api.c runs, and response.c writes the answer to an in-memory stream that
 * is thrown away; the body's memory is kept from one answer to the next as
 * main.c keeps it. What is left out is what libfcgi does on the socket and
 * the per-request log line of main.c.
 *
 *   bench_api [RULES_DIR] [N] [explain|healthz]
 *
 * Runs N requests (default 20000) on one thread and prints the thread CPU
 * time per request. For an instruction count per request, run it under
 * callgrind counting only the timed loop:
 *
 *   valgrind --tool=callgrind --toggle-collect=bench_loop \
 *            build/bench/bench_api rules 1000 explain
 *
 * and divide the total Ir by N. With BENCH_API_PRINT=1 in the environment
 * it writes the last FastCGI answer (headers and body) to standard output
 * instead of the figures, to compare answers byte for byte. Exit status 1
 * when the rules cannot be read or an answer is not a 200.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "metrics.h"

/* The Makefile links every bench with the FastCGI front's objects (not main.c). */

static const char bounce[] =
	"Delivery to the following recipient failed permanently:\n"
	"\n"
	"     jane.doe@example.org\n"
	"\n"
	"Technical details of permanent failure:\n"
	"The recipient server did not accept our requests to connect. Learn more at "
	"https://support.example.com/mail/answer/7720\n"
	"[mx.example.org. 192.0.2.25: 550 5.7.1 Service unavailable; Client host "
	"[198.51.100.7] blocked using zen.spamhaus.org; "
	"https://www.spamhaus.org/query/ip/198.51.100.7]";

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The in-memory FastCGI streams: the body is there at once; output is dropped. */
static void in_fill(FCGX_Stream *s)
{
	s->rdNext = s->stop;
	s->isClosed = 1;
}

static void out_empty(FCGX_Stream *s, int doClose)
{
	s->wrNext = s->stopUnget;	/* the start of the buffer */
	(void)doClose;
}

typedef struct bench {
	bw_app app;
	FCGX_Request f;
	FCGX_Stream in, out;
	unsigned char outbuf[16384];
	char *env[24];
	const char *body;
	size_t body_len;
	int explain;
	bw_buf keep;		/* kept from one answer to the next, as main.c does */
	size_t last_len;	/* bytes of the last answer's body */
	int last_status;
} bench;

static int one_request(bench *b)
{
	bw_request req;
	bw_response res;
	const char *why = "";
	int st;

	b->in.rdNext = b->in.stopUnget = (unsigned char *)b->body;
	b->in.stop = (unsigned char *)b->body + b->body_len;
	b->in.isClosed = 0;
	b->out.wrNext = b->out.stopUnget = b->outbuf;
	b->out.stop = b->outbuf + sizeof b->outbuf;

	bw_response_init(&res);
	res.body = b->keep;
	b->keep = (bw_buf){0};
	bw_buf_reset(&res.body);
	st = bw_request_read(&req, &b->f, b->app.cfg->max_body, &why);
	if (st)
		bw_response_problem(&res, st, why);
	else if (b->explain)
		bw_api_explain(&b->app, &req, &res, "");
	else
		bw_api_healthz(&b->app, &req, &res, "");
	bw_response_send(&res, &b->f, req.method ? req.method : "GET");
	b->last_status = res.status;
	b->last_len = res.body.len;
	bw_request_free(&req);
	b->keep = res.body;
	res.body = (bw_buf){0};
	bw_response_free(&res);
	return b->last_status == 200 ? 0 : -1;
}

/* The timed loop; callgrind's --toggle-collect=bench_loop counts only this. */
int bench_loop(bench *b, long n) __attribute__((noinline));
int bench_loop(bench *b, long n)
{
	int bad = 0;

	for (long i = 0; i < n; i++)
		bad |= one_request(b);
	return bad;
}

int main(int argc, char **argv)
{
	const char *rules = argc > 1 ? argv[1] : "rules";
	long n = argc > 2 ? atol(argv[2]) : 20000;
	const char *what = argc > 3 ? argv[3] : "explain";
	static bench b;
	static char clen[64];
	bw_config cfg = {.max_body = BW_MAX_INPUT_DEFAULT, .max_batch = 100,
			 .dns_timeout_ms = 3000};
	bw_error err = {0};
	bw_kb *kb;
	size_t k = 0;
	double t0, t;

	if (n <= 0)
		n = 1;
	if ((kb = bw_kb_load(rules, NULL, &err)) == NULL) {
		fprintf(stderr, "bench_api: %s\n", err.text);
		return 1;
	}
	b.app.cfg = &cfg;
	b.app.kb = kb;
	b.explain = strcmp(what, "healthz") != 0;
	b.body = b.explain ? bounce : "";
	b.body_len = b.explain ? sizeof bounce - 1 : 0;
	snprintf(clen, sizeof clen, "CONTENT_LENGTH=%zu", b.explain ? b.body_len : (size_t)0);

	/* what nginx's fastcgi_params send, in its order */
	b.env[k++] = "QUERY_STRING=";
	b.env[k++] = b.explain ? "REQUEST_METHOD=POST" : "REQUEST_METHOD=GET";
	b.env[k++] = b.explain ? "CONTENT_TYPE=text/plain" : "CONTENT_TYPE=";
	b.env[k++] = b.explain ? clen : "CONTENT_LENGTH=";
	b.env[k++] = "SCRIPT_NAME=/api/v1/explain";
	b.env[k++] = b.explain ? "REQUEST_URI=/api/v1/explain" : "REQUEST_URI=/healthz";
	b.env[k++] = "DOCUMENT_URI=/api/v1/explain";
	b.env[k++] = "DOCUMENT_ROOT=/usr/share/nginx/html";
	b.env[k++] = "SERVER_PROTOCOL=HTTP/1.1";
	b.env[k++] = "REQUEST_SCHEME=http";
	b.env[k++] = "GATEWAY_INTERFACE=CGI/1.1";
	b.env[k++] = "SERVER_SOFTWARE=nginx";
	b.env[k++] = "REMOTE_ADDR=127.0.0.1";
	b.env[k++] = "REMOTE_PORT=40000";
	b.env[k++] = "SERVER_ADDR=127.0.0.1";
	b.env[k++] = "SERVER_PORT=8080";
	b.env[k++] = "SERVER_NAME=localhost";
	b.env[k++] = "REDIRECT_STATUS=200";
	b.env[k++] = "HTTP_HOST=127.0.0.1:8080";
	b.env[k++] = "HTTP_USER_AGENT=bench_api";
	b.env[k++] = "HTTP_ACCEPT=*/*";
	b.env[k] = NULL;

	b.in.isReader = 1;
	b.in.fillBuffProc = in_fill;
	b.out.emptyBuffProc = out_empty;
	b.f.in = &b.in;
	b.f.out = &b.out;
	b.f.envp = b.env;

	/* one untimed request: first-use costs (scratch, lazy tables) stay out */
	if (one_request(&b) != 0) {
		fprintf(stderr, "bench_api: the %s answer was a %d\n", what, b.last_status);
		return 1;
	}
	t0 = cpu_s();
	if (bench_loop(&b, n) != 0) {
		fprintf(stderr, "bench_api: an answer was not a 200\n");
		return 1;
	}
	t = cpu_s() - t0;
	if (getenv("BENCH_API_PRINT")) {
		fwrite(b.outbuf, 1, (size_t)(b.out.wrNext - b.outbuf), stdout);
		bw_kb_free(kb);
		return 0;
	}
	printf("%s: %ld requests, %.2f us CPU per request (%.0f/s on one core), answer %zu bytes\n",
	       what, n, t / (double)n * 1e6, (double)n / t, b.last_len);
	bw_kb_free(kb);
	return 0;
}

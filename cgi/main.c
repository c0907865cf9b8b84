/*
 * main.c - bouncewhy-fcgi, the FastCGI front of libbouncewhy.
 *
 *   bouncewhy-fcgi --listen PATH|HOST:PORT|- [--threads N] [--rules DIR]
 *                  [--override FILE] [--templates DIR] [--static DIR]
 *                  [--max-body BYTES] [--user NAME] [--resolver HOST:PORT,...]
 *                  [--dns-timeout MS] [--allow-private] [--frame-ancestors LIST]
 *
 * Loads the knowledge base and templates once, opens the socket, then serves
 * with a pool of threads, each in its own FCGX_Accept_r loop. SIGTERM or
 * SIGINT stops accepting, lets in-flight requests finish, and exits 0. One
 * line per request goes to stderr.
 *
 * --listen - serves the listening socket already open on standard input
 * (FCGI_LISTENSOCK_FILENO): what a FastCGI process manager or systemd socket
 * activation (StandardInput=socket) hands over. That socket belongs to the
 * caller, so stopping leaves it open and usable for the next start.
 *
 * SECURITY
 *   - Started as root, it opens its socket and reads its data, then drops to
 *     --user (default "nobody") before serving any request: it never serves
 *     as root.
 *   - Every request is validated in request.c before a handler sees it:
 *     bounded path, query, parameters and body (--max-body, default 1 MiB,
 *     413 beyond it, whatever nginx was told).
 *   - Input bytes are made valid UTF-8 before classification; nothing raw
 *     is echoed. JSON is written only by jansson, HTML only by templates
 *     that escape by default.
 *   - Regex work is bounded per call (PCRE2 match and depth limits); the
 *     input examined is bounded (the body limit).
 *   - No state is kept between requests beyond caches, so a crashed or
 *     killed backend loses nothing; nginx retries another backend.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>	/* FCGI_LISTENSOCK_FILENO */

#include "dnscache.h"
#include "http.h"
#include "metrics.h"

#ifndef BW_DATADIR
#define BW_DATADIR "."
#endif

typedef struct server {
	bw_app app;
	int fd;
	int inherited;		/* fd came from --listen -: not ours to shut down */
	atomic_int stopping;
	atomic_int busy;	/* requests being served */
} server;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * What a serving thread keeps from one request to the next: the memory of
 * the answer's body (most answers fit the first one) and the time stamp of
 * the log lines of the current second.
 */
typedef struct worker_state {
	bw_buf body;
	time_t stamp_sec;
	char stamp[32];
	size_t stamp_len;
} worker_state;

/* Answers bigger than this give their memory back instead of keeping it. */
#define KEEP_BODY_MAX (256 * 1024)

/* One line per request, written with one write() so threads do not interleave. */
static void log_request(worker_state *ws, const bw_request *req, const bw_response *res,
			double ms)
{
	char line[600], path[200];
	size_t n = 0;
	time_t t = time(NULL);

	for (const char *p = req->path; *p && n + 1 < sizeof path; p++)
		path[n++] = (*p < 0x20 || *p == 0x7f || *p == '"') ? '?' : *p;
	path[n] = '\0';
	if (t != ws->stamp_sec || ws->stamp_len == 0) {
		struct tm tm;
		gmtime_r(&t, &tm);
		ws->stamp_len = strftime(ws->stamp, sizeof ws->stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
		ws->stamp_sec = t;
	}
	memcpy(line, ws->stamp, ws->stamp_len);
	n = ws->stamp_len;
	n += (size_t)snprintf(line + n, sizeof line - n, " %s \"%s %s\" %d %zu %.2fms %s\n",
			      req->remote_addr && *req->remote_addr ? req->remote_addr : "-",
			      req->method && *req->method ? req->method : "-", path, res->status,
			      res->body.len, ms, res->route ? res->route : "-");
	if (n > sizeof line)
		n = sizeof line;
	ssize_t w = write(2, line, n);
	(void)w;
}

static void handle(const bw_app *app, FCGX_Request *f, worker_state *ws)
{
	double t0 = now_ms();
	bw_request req;
	bw_response res;
	const char *why = "";
	int st;

	bw_response_init(&res);
	res.body = ws->body;	/* the last answer's memory, emptied */
	ws->body = (bw_buf){0};
	bw_buf_reset(&res.body);
	st = bw_request_read(&req, f, app->cfg->max_body, &why);
	if (st) {
		res.route = "bad_request";
		bw_response_problem(&res, st, why);
	} else {
		bw_route_dispatch(app, &req, &res);
	}
	bw_response_send(&res, f, req.method ? req.method : "GET");
	double ms = now_ms() - t0;
	log_request(ws, &req, &res, ms);
	bw_metrics_observe(app->metrics, res.route, res.status, ms);
	bw_request_free(&req);
	if (res.body.cap <= KEEP_BODY_MAX) {
		ws->body = res.body;
		res.body = (bw_buf){0};
	}
	bw_response_free(&res);
}

static void *worker(void *arg)
{
	server *s = arg;
	FCGX_Request f;
	worker_state ws = {0};

	if (FCGX_InitRequest(&f, s->fd, 0) != 0)
		return NULL;
	while (!atomic_load(&s->stopping)) {
		if (FCGX_Accept_r(&f) < 0)
			break;
		atomic_fetch_add(&s->busy, 1);
		handle(&s->app, &f, &ws);
		/*
		 * Once its stdin has ended, nginx sends nothing more on this
		 * connection, so it can be closed at once: detached, libfcgi
		 * skips its lingering close (shutdown, then wait for nginx to
		 * close first), three system calls and a round trip per
		 * request. A body left unread (413) keeps the lingering close,
		 * so that nginx still reads the answer.
		 */
		if (FCGX_GetChar(f.in) == EOF)
			FCGX_Detach(&f);
		FCGX_Finish_r(&f);
		atomic_fetch_sub(&s->busy, 1);
	}
	bw_buf_free(&ws.body);
	FCGX_Free(&f, 0);
	return NULL;
}

static void usage(FILE *out)
{
	fputs("usage: bouncewhy-fcgi --listen PATH|HOST:PORT|- [--threads N] [--rules DIR]\n"
	      "       [--override FILE] [--templates DIR] [--static DIR] [--max-body BYTES]\n"
	      "       [--user NAME] [--resolver HOST:PORT,...] [--dns-timeout MS]\n"
	      "       [--allow-private] [--frame-ancestors 'SOURCES']\n",
	      out);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

static int drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "bouncewhy-fcgi: no user %s to run as\n", user);
		return -1;
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		fprintf(stderr, "bouncewhy-fcgi: cannot become %s: %s\n", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		fprintf(stderr, "bouncewhy-fcgi: still able to regain root; refusing to serve\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char rules_def[4096], tpl_def[4096], static_def[4096];
	bw_config cfg = {
		.threads = 0,
		.max_body = BW_MAX_INPUT_DEFAULT,
		.max_batch = 100,
		.dns_timeout_ms = 3000,
		.user = "nobody",
		.frame_ancestors = "*",
	};
	server *s = calloc(1, sizeof *s);
	bw_error err = {0};
	sigset_t sigs;
	pthread_t *th;
	int sig;

	snprintf(rules_def, sizeof rules_def, "%s/rules", BW_DATADIR);
	snprintf(tpl_def, sizeof tpl_def, "%s/templates", BW_DATADIR);
	snprintf(static_def, sizeof static_def, "%s/static", BW_DATADIR);
	cfg.rules_dir = rules_def;
	cfg.templates_dir = tpl_def;
	cfg.static_dir = static_def;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;
		if (strcmp(a, "--listen") == 0 && v) cfg.listen = v;
		else if (strcmp(a, "--rules") == 0 && v) cfg.rules_dir = v;
		else if (strcmp(a, "--override") == 0 && v) cfg.override = v;
		else if (strcmp(a, "--templates") == 0 && v) cfg.templates_dir = v;
		else if (strcmp(a, "--static") == 0 && v) cfg.static_dir = v;
		else if (strcmp(a, "--user") == 0 && v) cfg.user = v;
		else if (strcmp(a, "--threads") == 0 && v) cfg.threads = atoi(v);
		else if (strcmp(a, "--max-body") == 0 && v) cfg.max_body = strtoul(v, NULL, 10);
		else if (strcmp(a, "--max-batch") == 0 && v) cfg.max_batch = strtoul(v, NULL, 10);
		else if (strcmp(a, "--resolver") == 0 && v) cfg.resolver = v;
		else if (strcmp(a, "--dns-timeout") == 0 && v) cfg.dns_timeout_ms = (unsigned)atoi(v);
		else if (strcmp(a, "--frame-ancestors") == 0 && v) cfg.frame_ancestors = v;
		else if (strcmp(a, "--allow-private") == 0) { cfg.allow_private = 1; takes = 0; }
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(stdout); return 0; }
		else {
			fprintf(stderr, "bouncewhy-fcgi: bad argument %s\n", a);
			usage(stderr);
			return 2;
		}
		i += takes;
	}
	if (cfg.listen == NULL) {
		usage(stderr);
		return 2;
	}
	if (cfg.threads <= 0) {
		/*
		 * One thread per processor (at least two): a request is CPU work
		 * from accept to close, since a finished connection is closed at
		 * once (see worker()). Measured with bench/http.sh on 2 cores:
		 * 2 threads serve explain 15-20% faster than 4, with a shorter
		 * tail. Sites whose IP checks wait on a slow resolver want more
		 * (--threads): a thread waits out its DNS deadline.
		 */
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg.threads = n > 2 ? (int)(n > 512 ? 512 : n) : 2;
	}
	if (cfg.max_body == 0)
		cfg.max_body = BW_MAX_INPUT_DEFAULT;
	if (cfg.dns_timeout_ms == 0)
		cfg.dns_timeout_ms = 3000;
	if (cfg.dns_timeout_ms > 30000) {
		fprintf(stderr, "bouncewhy-fcgi: --dns-timeout is at most 30000 ms\n");
		return 2;
	}

	s->app.cfg = &cfg;
	if ((s->app.kb = bw_kb_load(cfg.rules_dir, cfg.override, &err)) == NULL) {
		fprintf(stderr, "bouncewhy-fcgi: %s\n", err.text);
		return 1;
	}
	{
		struct stat st;
		/* Templates are optional (an API-only install); broken ones are fatal. */
		if (stat(cfg.templates_dir, &st) == 0 &&
		    (s->app.templates = bw_tpl_set_load(cfg.templates_dir, &err)) == NULL) {
			fprintf(stderr, "bouncewhy-fcgi: %s\n", err.text);
			return 1;
		}
	}
	{
		char p[4200];
		snprintf(p, sizeof p, "%s/openapi.json", cfg.static_dir);
		s->app.openapi = slurp(p, &s->app.openapi_len);
	}
	s->app.metrics = bw_metrics_new();
	s->app.ipcache = bw_ipcache_new(1024);	/* NULL: every check asks DNS again */

	/* Signals go to the main thread only, which waits for them below. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (FCGX_Init() != 0) {
		fprintf(stderr, "bouncewhy-fcgi: FCGX_Init failed\n");
		return 1;
	}
	if (strcmp(cfg.listen, "-") == 0) {
		struct stat st;
		if (fstat(FCGI_LISTENSOCK_FILENO, &st) < 0 || !S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "bouncewhy-fcgi: --listen -: standard input is not a socket\n");
			return 1;
		}
		s->fd = FCGI_LISTENSOCK_FILENO;
		s->inherited = 1;
	} else {
		if (cfg.listen[0] == '/' || cfg.listen[0] == '.')
			unlink(cfg.listen);
		s->fd = FCGX_OpenSocket(cfg.listen, 256);
	}
	if (s->fd < 0) {
		fprintf(stderr, "bouncewhy-fcgi: cannot listen on %s: %s\n", cfg.listen, strerror(errno));
		return 1;
	}
	if (cfg.listen[0] == '/' || cfg.listen[0] == '.')
		chmod(cfg.listen, 0666);	/* the web server's workers connect to it */
	if (drop_privileges(cfg.user) < 0)
		return 1;

	th = calloc((size_t)cfg.threads, sizeof *th);
	for (int i = 0; i < cfg.threads; i++) {
		if (pthread_create(&th[i], NULL, worker, s) != 0) {
			fprintf(stderr, "bouncewhy-fcgi: cannot start thread: %s\n", strerror(errno));
			return 1;
		}
	}
	fprintf(stderr, "bouncewhy-fcgi: serving on %s with %d threads, %zu rules (%s)\n",
		cfg.listen, cfg.threads, bw_kb_rule_count(s->app.kb), bw_kb_version(s->app.kb));

	sigwait(&sigs, &sig);
	fprintf(stderr, "bouncewhy-fcgi: %s: finishing in-flight requests\n",
		sig == SIGTERM ? "SIGTERM" : "SIGINT");
	atomic_store(&s->stopping, 1);
	FCGX_ShutdownPending();
	if (s->inherited) {
		/* Shutting the socket down would break it for whoever handed it
		 * over (systemd keeps it for the next start): wait for the requests
		 * in flight instead, and leave threads blocked in accept() to exit
		 * with the process. */
		for (int i = 0; i < 3000 && atomic_load(&s->busy) > 0; i++)
			usleep(10000);
		fprintf(stderr, "bouncewhy-fcgi: stopped\n");
		return 0;
	}
	shutdown(s->fd, SHUT_RDWR);	/* wakes the threads blocked in accept() */
	for (int i = 0; i < cfg.threads; i++)
		pthread_join(th[i], NULL);
	close(s->fd);
	if (cfg.listen[0] == '/' || cfg.listen[0] == '.')
		unlink(cfg.listen);
	free(th);
	bw_tpl_set_free(s->app.templates);
	bw_metrics_free(s->app.metrics);
	bw_ipcache_free(s->app.ipcache);
	free(s->app.openapi);
	bw_kb_free((bw_kb *)s->app.kb);
	free(s);
	fprintf(stderr, "bouncewhy-fcgi: stopped\n");
	return 0;
}

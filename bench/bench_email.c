/*
 * bench_email.c - throughput of reading and classifying whole bounce emails.
 *
 *   bench_email [DIR] [RULES_DIR] [SECONDS]
 *
 * Loads every regular file of DIR (default
 * $BW_SHARED/testdata/bounces/emails/maildir/bsd) into memory, then on one
 * thread times, each for about SECONDS (default 2):
 *   - GMime alone (construct the message, free it): the floor under the rest,
 *   - GMime as bw_email_parse drives it: the buffer read in place (not
 *     copied into the stream) and the top level read as a MIME part, not as
 *     a GMimeMessage (no address lists, dates, ...); the input is not
 *     trimmed here as bw_email_parse trims it, so this is GMime's part only,
 *   - bw_email_parse alone (MIME, DSN, text splitting),
 *   - bw_explain (parse + facts + rules + finding JSON),
 * and prints emails/s for each. The knowledge base is loaded once, before
 * timing. Exit status 1 when the files or rules cannot be read.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gmime/gmime.h>

#include "bouncewhy.h"
#include "segment.h"

typedef struct blob {
	char *data;
	size_t len;
} blob;

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this thread: fair on a busy machine */
static double cpu(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static int load_dir(const char *dir, blob **out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%.255s", dir, e->d_name) >= sizeof path)
			continue;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (*n == cap) {
			blob *v = realloc(*out, (cap = cap ? cap * 2 : 256) * sizeof *v);

			if (!v)
				break;
			*out = v;
		}
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		(*out)[*n].data = malloc((size_t)st.st_size + 1);
		if ((*out)[*n].data) {
			(*out)[*n].len = fread((*out)[*n].data, 1, (size_t)st.st_size, f);
			(*out)[*n].data[(*out)[*n].len] = '\0';
			(*n)++;
		}
		fclose(f);
	}
	closedir(d);
	return 0;
}

/* What one timed pass does with one file. */
typedef void (*one_fn)(const blob *b, void *ctx);

/*
 * Runs one over every file, pass after pass, for about secs; prints the
 * line "NAME emails/s wall, emails/s of CPU (us CPU each, NOTE)".
 */
static void timed(const char *name, const char *note, one_fn one, void *ctx,
		  const blob *files, size_t n, double secs)
{
	size_t done = 0;
	double t0 = now(), c0 = cpu(), t, c;

	do {
		for (size_t i = 0; i < n; i++)
			one(&files[i], ctx);
		done += n;
	} while ((t = now() - t0) < secs);
	c = cpu() - c0;
	printf("%-8s %.0f emails/s wall, %.0f emails/s of CPU (%.1f us CPU each%s%s)\n", name,
	       (double)done / t, (double)done / c, 1e6 * c / (double)done, *note ? ", " : "", note);
}

/* GMime only: what bw_email_parse cannot go below while it uses GMime */
static void gmime_message(const blob *b, void *ctx)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(b->data, b->len);
	GMimeParser *ps = g_mime_parser_new_with_stream(st);
	GMimeMessage *m;

	(void)ctx;
	g_object_unref(st);
	g_mime_parser_set_format(ps, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(ps, NULL);
	g_object_unref(ps);
	if (m)
		g_object_unref(m);
}

/* GMime configured as bw_email_parse uses it (untrimmed input) */
static void gmime_part(const blob *b, void *ctx)
{
	/* an mbox's "From " line skipped, as for one message */
	size_t off = 0;
	GByteArray *ba;
	GMimeStream *st;
	GMimeParser *ps;
	GMimeObject *o;

	(void)ctx;
	if (strncmp(b->data, "From ", 5) == 0) {
		const char *eol = memchr(b->data, '\n', b->len);

		off = eol ? (size_t)(eol + 1 - b->data) : 0;
	}
	ba = g_byte_array_new_take((guint8 *)b->data + off, b->len - off);
	st = g_mime_stream_mem_new_with_byte_array(ba);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
	ps = g_mime_parser_new_with_stream(st);
	o = g_mime_parser_construct_part(ps, NULL);
	g_object_unref(ps);
	if (o)
		g_object_unref(o);
	g_object_unref(st);
	g_byte_array_free(ba, FALSE);	/* the data stays ours */
}

/* parse only; ctx counts the segments */
static void parse_only(const blob *b, void *ctx)
{
	bw_input in = { 0 };
	bw_error err = { 0 };

	if (bw_email_parse(b->data, b->len, &in, &err) == 0)
		for (size_t m = 0; m < in.nmsgs; m++)
			*(size_t *)ctx += in.msgs[m].nsegs;
	bw_input_free(&in);
}

/* parse + classify + the JSON answer; ctx is the knowledge base */
static void explain(const blob *b, void *ctx)
{
	bw_error err = { 0 };

	json_decref(bw_explain(ctx, b->data, b->len, NULL, &err));
}

int main(int argc, char **argv)
{
	const char *shared = getenv("BW_SHARED");
	char defdir[2048];
	const char *dir = argc > 1 ? argv[1] : NULL;
	const char *rules = argc > 2 ? argv[2] : getenv("BOUNCEWHY_RULES");
	double secs = argc > 3 ? atof(argv[3]) : 2.0;
	blob *files;
	size_t n, segs = 0;
	bw_error err = { 0 };
	bw_kb *kb;

	if (!dir) {
		snprintf(defdir, sizeof defdir, "%s/testdata/bounces/emails/maildir/bsd",
			 shared ? shared : "../shared");
		dir = defdir;
	}
	if (!rules)
		rules = "rules";
	if (secs <= 0)
		secs = 2.0;
	if (load_dir(dir, &files, &n) != 0 || n == 0) {
		fprintf(stderr, "bench_email: no files in %s\n", dir);
		return 1;
	}
	if ((kb = bw_kb_load(rules, NULL, &err)) == NULL) {
		fprintf(stderr, "bench_email: %s\n", err.text);
		return 1;
	}

	g_mime_init();
	printf("bench_email: %zu files from %s\n", n, dir);
	timed("gmime:", "GMime's own parse and free", gmime_message, NULL, files, n, secs);
	timed("gmime-p:", "in place, read as a MIME part", gmime_part, NULL, files, n, secs);
	for (size_t i = 0; i < n; i++)	/* one untimed pass: the segments of a pass */
		parse_only(&files[i], &segs);
	char note[64];
	snprintf(note, sizeof note, "%zu segments per pass", segs);
	timed("parse:", note, parse_only, &(size_t){0}, files, n, secs);
	timed("explain:", "", explain, kb, files, n, secs);

	for (size_t i = 0; i < n; i++)
		free(files[i].data);
	free(files);
	bw_kb_free(kb);
	return 0;
}

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

int main(int argc, char **argv)
{
	const char *shared = getenv("BW_SHARED");
	char defdir[2048];
	const char *dir = argc > 1 ? argv[1] : NULL;
	const char *rules = argc > 2 ? argv[2] : getenv("BOUNCEWHY_RULES");
	double secs = argc > 3 ? atof(argv[3]) : 2.0;
	blob *files;
	size_t n, done, segs = 0;
	bw_error err = { 0 };
	bw_kb *kb;
	double t0, t, c0, c;

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

	/* GMime only: what bw_email_parse cannot go below while it uses GMime */
	g_mime_init();
	done = 0;
	t0 = now();
	c0 = cpu();
	do {
		for (size_t i = 0; i < n; i++) {
			GMimeStream *st = g_mime_stream_mem_new_with_buffer(files[i].data, files[i].len);
			GMimeParser *ps = g_mime_parser_new_with_stream(st);
			GMimeMessage *m;

			g_object_unref(st);
			g_mime_parser_set_format(ps, GMIME_FORMAT_MESSAGE);
			m = g_mime_parser_construct_message(ps, NULL);
			g_object_unref(ps);
			if (m)
				g_object_unref(m);
		}
		done += n;
	} while ((t = now() - t0) < secs);
	c = cpu() - c0;
	printf("bench_email: %zu files from %s\n", n, dir);
	printf("gmime:   %.0f emails/s wall, %.0f emails/s of CPU (%.1f us CPU each: GMime's own parse and free)\n",
	       (double)done / t, (double)done / c, 1e6 * c / (double)done);

	/* GMime configured as bw_email_parse uses it (untrimmed input) */
	done = 0;
	t0 = now();
	c0 = cpu();
	do {
		for (size_t i = 0; i < n; i++) {
			/* an mbox's "From " line skipped, as for one message */
			size_t off = 0;
			GByteArray *ba;
			GMimeStream *st;
			GMimeParser *ps;
			GMimeObject *o;

			if (strncmp(files[i].data, "From ", 5) == 0) {
				const char *eol = memchr(files[i].data, '\n', files[i].len);

				off = eol ? (size_t)(eol + 1 - files[i].data) : 0;
			}
			ba = g_byte_array_new_take((guint8 *)files[i].data + off, files[i].len - off);
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
		done += n;
	} while ((t = now() - t0) < secs);
	c = cpu() - c0;
	printf("gmime-p: %.0f emails/s wall, %.0f emails/s of CPU (%.1f us CPU each: in place, read as a MIME part)\n",
	       (double)done / t, (double)done / c, 1e6 * c / (double)done);

	/* parse only */
	done = 0;
	t0 = now();
	c0 = cpu();
	do {
		for (size_t i = 0; i < n; i++) {
			bw_input in = { 0 };

			if (bw_email_parse(files[i].data, files[i].len, &in, &err) == 0)
				for (size_t m = 0; m < in.nmsgs; m++)
					segs += in.msgs[m].nsegs;
			bw_input_free(&in);
		}
		done += n;
	} while ((t = now() - t0) < secs);
	c = cpu() - c0;
	printf("parse:   %.0f emails/s wall, %.0f emails/s of CPU (%.1f us CPU each, %zu segments per pass)\n",
	       (double)done / t, (double)done / c, 1e6 * c / (double)done, segs / (done / n));

	/* parse + classify */
	done = 0;
	t0 = now();
	c0 = cpu();
	do {
		for (size_t i = 0; i < n; i++) {
			json_t *r = bw_explain(kb, files[i].data, files[i].len, NULL, &err);

			json_decref(r);
		}
		done += n;
	} while ((t = now() - t0) < secs);
	c = cpu() - c0;
	printf("explain: %.0f emails/s wall, %.0f emails/s of CPU (%.1f us CPU each)\n",
	       (double)done / t, (double)done / c, 1e6 * c / (double)done);

	for (size_t i = 0; i < n; i++)
		free(files[i].data);
	free(files);
	bw_kb_free(kb);
	return 0;
}

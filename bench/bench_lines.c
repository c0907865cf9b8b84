/*
 * bench_lines.c - single-line classification throughput, in one process on
 * one core: the mix is every example of every rule plus the hand-written
 * cases of tests/cases/lines.tsv (when present), cycled for a fixed time.
 * Prints lines per second and MiB/s for bw_classify (the verdict) and for
 * bw_explain (the whole JSON answer), and the time of the pathological
 * input (1 MiB of near-matches). Figures only: it never fails on speed.
 *
 *   bench_lines RULES_DIR [SECONDS]
 *
 * For instruction counts (callgrind), BW_BENCH_ROUNDS=N runs exactly N
 * rounds of bw_classify over the mix and nothing else; N=0 gives the cost
 * of loading the rules, to subtract. BW_BENCH_DUMP=1 prints each line's
 * verdict instead (to compare two builds). BW_BENCH_LINES=FILE takes the
 * mix from FILE instead (one text per line, up to a tab), e.g. texts the
 * rules were not written from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bouncewhy.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* This thread's CPU time: on a shared machine, steadier than the clock. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 1 MiB of near-matches: each example cut before its last word, repeated. */
char *bw_bench_near_misses(const bw_kb *kb, size_t want, size_t *len);

char *bw_bench_near_misses(const bw_kb *kb, size_t want, size_t *len)
{
	size_t failed;
	json_t *all = bw_kb_check_examples(kb, &failed), *e;
	char *buf = malloc(want + 1);
	size_t n = 0, i;

	while (n < want && json_array_size(all)) {
		json_array_foreach(all, i, e) {
			const char *s = json_string_value(json_object_get(e, "example"));
			size_t l = strlen(s);
			const char *cut = strrchr(s, ' ');
			if (cut && cut > s)
				l = (size_t)(cut - s);
			if (n + l + 1 > want)
				break;
			memcpy(buf + n, s, l);
			n += l;
			buf[n++] = ' ';
		}
		if (i < json_array_size(all))
			break;
	}
	json_decref(all);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	bw_error err = {0};
	bw_kb *kb;
	double secs = argc > 2 ? atof(argv[2]) : 2.0;
	json_t *all;
	size_t failed, nlines, bytes = 0;
	const char **lines;
	size_t *lens;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_lines RULES_DIR [SECONDS]\n");
		return 2;
	}
	if ((kb = bw_kb_load(argv[1], NULL, &err)) == NULL) {
		fprintf(stderr, "bench_lines: %s\n", err.text);
		return 2;
	}
	all = bw_kb_check_examples(kb, &failed);
	/* BW_BENCH_LINES=FILE: a mix of one text per line (up to a tab) instead */
	const char *mixfile = getenv("BW_BENCH_LINES");
	nlines = mixfile ? 0 : json_array_size(all);
	lines = calloc(nlines + 100000, sizeof *lines);
	lens = calloc(nlines + 100000, sizeof *lens);
	for (size_t i = 0; i < nlines; i++) {
		lines[i] = json_string_value(json_object_get(json_array_get(all, i), "example"));
		lens[i] = strlen(lines[i]);
		bytes += lens[i];
	}
	FILE *f = fopen(mixfile ? mixfile : "tests/cases/lines.tsv", "r");
	char buf[4096];
	size_t cap = nlines + 100000;
	if (mixfile && f == NULL) {
		fprintf(stderr, "bench_lines: cannot read %s\n", mixfile);
		return 2;
	}
	while (f && fgets(buf, sizeof buf, f) && nlines < cap) {
		char *tab = strchr(buf, '\t');
		if (tab == NULL)
			tab = strchr(buf, '\n');
		if (buf[0] == '#' || tab == NULL || tab == buf)
			continue;
		*tab = '\0';
		lines[nlines] = strdup(buf);
		lens[nlines] = strlen(buf);
		bytes += lens[nlines++];
	}
	if (f)
		fclose(f);
	printf("mix: %zu lines, %.0f bytes on average, %zu rules\n", nlines,
	       (double)bytes / (double)nlines, bw_kb_rule_count(kb));

	/* warm up: scratch, caches */
	bw_verdict v;
	for (size_t i = 0; i < nlines; i++)
		bw_classify(kb, lines[i], lens[i], &v);

	const char *rounds_env = getenv("BW_BENCH_ROUNDS");
	if (getenv("BW_BENCH_DUMP")) {
		for (size_t i = 0; i < nlines; i++) {
			int rc = bw_classify(kb, lines[i], lens[i], &v);
			printf("%d\t%s\t%s\t%s\t%d\t%d\t%s\t%d\t%s\t%s\t%zu\t%zu\n", rc,
			       rc == 1 ? v.reason : "-", v.rule ? v.rule : "-",
			       v.blocklist ? v.blocklist : "-", v.temporary, v.hard_bounce,
			       v.action_by ? v.action_by : "-", v.reply_code, v.status, v.ip,
			       v.match_start, v.match_end);
		}
		rounds_env = "0";
	}
	if (rounds_env) {
		long rounds = atol(rounds_env);
		size_t found = 0;
		for (long r = 0; r < rounds; r++)
			for (size_t i = 0; i < nlines; i++)
				found += bw_classify(kb, lines[i], lens[i], &v) == 1;
		if (!getenv("BW_BENCH_DUMP"))
			printf("bw_classify: %ld rounds of %zu lines, %zu found a bounce\n", rounds,
			       nlines, found);
		json_decref(all);
		free(lines);
		free(lens);
		bw_kb_free(kb);
		return 0;
	}

	size_t done = 0, found = 0, b = 0;
	double t0 = now(), c0 = cpu_now(), t;
	do {
		for (size_t i = 0; i < nlines; i++) {
			found += bw_classify(kb, lines[i], lens[i], &v) == 1;
			b += lens[i];
		}
		done += nlines;
	} while ((t = now() - t0) < secs);
	double cpu = cpu_now() - c0;
	printf("bw_classify: %.0f lines/s, %.1f MiB/s (%zu lines in %.2f s, %.1f%% found a bounce;"
	       " %.0f lines per CPU second)\n",
	       done / t, b / t / 1048576.0, done, t, 100.0 * found / done, done / cpu);

	done = b = 0;
	t0 = now();
	bw_options o = {.single = 1};
	do {
		for (size_t i = 0; i < nlines; i++) {
			json_t *r = bw_explain(kb, lines[i], lens[i], &o, NULL);
			json_decref(r);
			b += lens[i];
		}
		done += nlines;
	} while ((t = now() - t0) < secs);
	printf("bw_explain (full JSON): %.0f lines/s, %.1f MiB/s\n", done / t, b / t / 1048576.0);

	size_t plen;
	char *path = bw_bench_near_misses(kb, 1024 * 1024, &plen);
	t0 = now();
	json_t *r = bw_explain(kb, path, plen, &o, NULL);
	t = now() - t0;
	printf("pathological: 1 MiB of near-matches classified in %.1f ms (target 50 ms)\n", t * 1e3);
	json_decref(r);
	free(path);
	json_decref(all);
	free(lines);
	free(lens);
	bw_kb_free(kb);
	return 0;
}

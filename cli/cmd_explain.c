/*
 * cmd_explain.c - `bouncewhy explain` and `bouncewhy check-rules`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

char *bw_cli_slurp(const char *path, size_t max, size_t *len, int *truncated)
{
	FILE *f = (path == NULL || strcmp(path, "-") == 0) ? stdin : fopen(path, "rb");
	size_t cap = 65536, n = 0;
	char *buf;

	*truncated = 0;
	if (f == NULL)
		return NULL;
	if ((buf = malloc(cap + 1)) == NULL)
		goto fail;
	for (;;) {
		size_t want = cap - n, got;
		if (want == 0) {
			if (cap >= max) {
				/* keep reading to know, but keep only max bytes */
				char sink[4096];
				if (fread(sink, 1, sizeof sink, f) > 0)
					*truncated = 1;
				if (*truncated || feof(f) || ferror(f))
					break;
				continue;
			}
			cap = cap * 2 > max ? max : cap * 2;
			char *nb = realloc(buf, cap + 1);
			if (nb == NULL)
				goto fail;
			buf = nb;
			continue;
		}
		got = fread(buf + n, 1, want, f);
		n += got;
		if (got < want) {
			if (ferror(f))
				goto fail;
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail: {
	int e = errno;
	free(buf);
	if (f != stdin)
		fclose(f);
	errno = e ? e : EIO;
	return NULL;
}
}

/* contract work: the input kind of an explain answer ("" when absent). */
static const char *input_kind(const json_t *res)
{
	const char *k = json_string_value(json_object_get(json_object_get(res, "input"), "kind"));
	return k ? k : "";
}

/* Classifies one buffer; prints it; returns 0 found, 1 none, 2 error. */
static int explain_one(const bw_kb *kb, const char *buf, size_t len, const bw_options *o,
		       const char *file, int compact)
{
	bw_error err = {0};
	json_t *res = bw_explain(kb, buf, len, o, &err);
	int found;

	if (res == NULL) {
		fprintf(stderr, "bouncewhy: %s\n", err.text);
		return 2;
	}
	if (file)
		json_object_set_new(res, "file", json_string(file));
	found = json_array_size(json_object_get(res, "findings")) > 0;
	/* BEGIN contract work: NDJSON of an mbox is one line per message, each
	 * with its own findings (the "message" index says which). */
	if (compact && file && strcmp(input_kind(res), "mbox") == 0) {
		size_t i;
		json_t *m;
		json_array_foreach(json_object_get(res, "messages"), i, m) {
			json_t *line = json_pack("{s:O, s:O, s:s, s:I, s:O, s:[]}",
				"api_version", json_object_get(res, "api_version"),
				"version", json_object_get(res, "version"), "file", file,
				"message", (json_int_t)i, "input", json_object_get(res, "input"),
				"findings");
			size_t j;
			json_t *f;
			json_object_set_new(line, "messages", json_pack("[O]", m));
			json_array_foreach(json_object_get(res, "findings"), j, f)
				if (json_integer_value(json_object_get(f, "message")) == (json_int_t)i)
					json_array_append(json_object_get(line, "findings"), f);
			json_dumpf(line, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
			fputc('\n', stdout);
			json_decref(line);
		}
		json_decref(res);
		return found ? 0 : 1;
	}
	/* END contract work */
	if (compact) {
		json_dumpf(res, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
		fputc('\n', stdout);
	} else {
		json_dumpf(res, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	json_decref(res);
	return found ? 0 : 1;
}

int bw_cmd_explain(const bw_kb *kb, int argc, char **argv)
{
	bw_options o = {0};
	int line = 0, ndjson = 0, i, rc = 1, nfiles = 0;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--line") == 0)
			line = 1;
		else if (strcmp(argv[i], "--ndjson") == 0)
			ndjson = 1;
		else if (strcmp(argv[i], "--audience") == 0 && i + 1 < argc)
			o.audience = argv[++i];
		else if (strcmp(argv[i], "--max-input") == 0 && i + 1 < argc)
			o.max_input = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			fprintf(stderr, "bouncewhy explain: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (o.audience && strcmp(o.audience, "user") != 0 && strcmp(o.audience, "admin") != 0) {
		fprintf(stderr, "bouncewhy explain: --audience is user or admin\n");
		return 2;
	}
	nfiles = argc - i;
	if (nfiles > 1 && !ndjson && !line)
		ndjson = 1;	/* several files: one line each */
	for (int k = 0; k < (nfiles ? nfiles : 1); k++) {
		const char *path = nfiles ? argv[i + k] : NULL;
		size_t len;
		int trunc;
		char *buf = bw_cli_slurp(path, 64u * 1024 * 1024, &len, &trunc);
		if (buf == NULL) {
			fprintf(stderr, "bouncewhy explain: %s: %s\n", path ? path : "stdin",
				strerror(errno));
			if (!ndjson)
				return 2;
			rc = 2;
			continue;
		}
		if (line) {
			/* one case per line: each line alone, compact output */
			o.single = 1;
			char *p = buf, *end = buf + len;
			while (p < end) {
				char *nl = memchr(p, '\n', (size_t)(end - p));
				size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
				if (l && p[l - 1] == '\r')
					l--;
				int r = explain_one(kb, p, l, &o, NULL, 1);
				if (r == 0 && rc == 1)
					rc = 0;
				if (r == 2)
					rc = 2;
				p = nl ? nl + 1 : end;
			}
		} else {
			int r = explain_one(kb, buf, len, &o, ndjson ? (path ? path : "-") : NULL, ndjson);
			if (r == 0 && rc == 1)
				rc = 0;
			if (r == 2)
				rc = 2;
		}
		free(buf);
	}
	fflush(stdout);
	return rc;
}

int bw_cmd_check_rules(const bw_kb *kb, int argc, char **argv)
{
	size_t failed = 0, i;
	json_t *all = bw_kb_check_examples(kb, &failed), *f;

	if (all == NULL) {
		fprintf(stderr, "bouncewhy check-rules: out of memory\n");
		return 2;
	}
	printf("1..%zu\n", json_array_size(all));
	json_array_foreach(all, i, f) {
		const char *rule = json_string_value(json_object_get(f, "rule"));
		if (json_is_true(json_object_get(f, "ok"))) {
			printf("ok %zu - %s\n", i + 1, rule);
			continue;
		}
		printf("not ok %zu - rule %s (%s): example \"%s\" gave %s (rule %s, blocklist %s)\n",
		       i + 1, rule, json_string_value(json_object_get(f, "file")),
		       json_string_value(json_object_get(f, "example")),
		       json_string_value(json_object_get(f, "got_reason")) ?: "nothing",
		       json_string_value(json_object_get(f, "got_rule")) ?: "-",
		       json_string_value(json_object_get(f, "got_blocklist")) ?: "-");
	}
	printf("# %zu rules, %zu examples, %zu failed\n", bw_kb_rule_count(kb),
	       json_array_size(all), failed);
	json_decref(all);
	return failed ? 1 : 0;
}

/* Until the IP check is linked in, `bouncewhy ip` says so. */
__attribute__((weak)) int bw_cmd_ip(const bw_kb *kb, int argc, char **argv)
{
	fprintf(stderr, "bouncewhy ip: not available in this build\n");
	return 2;
}

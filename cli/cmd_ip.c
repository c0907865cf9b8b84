/*
 * cmd_ip.c - `bouncewhy ip ADDR`: reverse DNS and DNS blocklists of one
 * address, as JSON on stdout.
 *
 *   bouncewhy ip ADDR [--resolver HOST:PORT[,...]] [--timeout SECONDS]
 *                     [--allow-private] [--blocklists FILE] [--compact]
 *
 * --blocklists FILE checks the lists of FILE (the format of
 * rules/blocklists.json) instead of the knowledge base's: an operator's own
 * set, or the tests' fake zones. Exit status: 0 listed nowhere, 1 listed
 * somewhere, 2 usage or input error (message on stderr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ipcheck.h"

static void usage(void)
{
	fputs("usage: bouncewhy ip ADDR [--resolver HOST:PORT[,...]] "
	      "[--timeout SECONDS] [--allow-private] [--blocklists FILE] "
	      "[--compact]\n", stderr);
}

/* "2", "0.5", "1.25" -> milliseconds; -1 when not a sane number. */
static long parse_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v > 0) || v > 30.0)
		return -1;
	return (long)(v * 1000.0 + 0.5);
}

int bw_cmd_ip(const bw_kb *kb, int argc, char **argv)
{
	bw_ipcheck_opts o = {NULL, 0, 0, 0};
	const char *addr = NULL, *lists_file = NULL;
	json_t *lists_doc = NULL, *res;
	const json_t *lists;
	bw_error err = {0};
	int i, code = 0, compact = 0, rc;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--resolver") == 0 && i + 1 < argc) {
			o.servers = argv[++i];
		} else if (strcmp(a, "--timeout") == 0 && i + 1 < argc) {
			long ms = parse_seconds(argv[++i]);

			if (ms < 1) {
				fprintf(stderr, "bouncewhy ip: --timeout wants "
					"seconds, more than 0 and at most 30\n");
				return 2;
			}
			o.timeout_ms = (unsigned)ms;
		} else if (strcmp(a, "--allow-private") == 0) {
			o.allow_private = 1;
		} else if (strcmp(a, "--blocklists") == 0 && i + 1 < argc) {
			lists_file = argv[++i];
		} else if (strcmp(a, "--compact") == 0) {
			compact = 1;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage();
			return 0;
		} else if (a[0] == '-' && a[1] == '-') {
			fprintf(stderr, "bouncewhy ip: unknown option %s\n", a);
			usage();
			return 2;
		} else if (!addr) {
			addr = a;
		} else {
			fprintf(stderr, "bouncewhy ip: one address at a time\n");
			return 2;
		}
	}
	if (!addr) {
		usage();
		return 2;
	}
	if (lists_file) {
		json_error_t jerr;

		lists_doc = json_load_file(lists_file, 0, &jerr);
		if (!lists_doc) {
			fprintf(stderr, "bouncewhy ip: %s:%d: %s\n", lists_file,
				jerr.line, jerr.text);
			return 2;
		}
		lists = json_object_get(lists_doc, "blocklists");
		if (!json_is_array(lists)) {
			fprintf(stderr, "bouncewhy ip: %s: no \"blocklists\" "
				"array\n", lists_file);
			json_decref(lists_doc);
			return 2;
		}
	} else {
		lists = bw_kb_blocklists(kb);
	}
	res = bw_ipcheck_run_lists(lists, NULL, addr, &o, &code, &err);
	json_decref(lists_doc);
	if (!res) {
		fprintf(stderr, "bouncewhy ip: %s: %s\n", addr, err.text);
		return 2;
	}
	json_dumpf(res, stdout, compact ? JSON_COMPACT :
		   JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	rc = json_integer_value(json_object_get(json_object_get(res, "summary"),
						"listed")) > 0 ? 1 : 0;
	json_decref(res);
	if (fflush(stdout) != 0)
		return 2;
	return rc;
}

/*
 * main.c - bouncewhy, the command-line front of libbouncewhy.
 *
 *   bouncewhy [--rules DIR] [--override FILE] explain [--line] [--ndjson]
 *             [--audience user|admin] [FILE...]
 *   bouncewhy [--rules DIR] ip ADDR [--resolver HOST:PORT] [--timeout SECONDS]
 *   bouncewhy [--rules DIR] check-rules
 *   bouncewhy version
 *
 * JSON goes to stdout, diagnostics to stderr. Exit status: see cli.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef BW_DATADIR
#define BW_DATADIR "."
#endif

static void usage(FILE *out)
{
	fputs("usage: bouncewhy [--rules DIR] [--override FILE] COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  explain [--line|--ndjson] [--audience user|admin] [FILE...]\n"
	      "          explain a bounce (stdin by default); JSON on stdout.\n"
	      "          --line: one case per input line, one JSON object per line.\n"
	      "          --ndjson: several files (an mbox too), one JSON line each.\n"
	      "          exit 0 found a bounce, 1 found none, 2 error\n"
	      "  ip ADDR [--resolver HOST:PORT[,...]] [--timeout SECONDS] [--allow-private]\n"
	      "          reverse DNS and DNS blocklists of an IP address;\n"
	      "          exit 0 listed nowhere, 1 listed somewhere, 2 error\n"
	      "  check-rules\n"
	      "          classify every example of every rule (TAP on stdout)\n"
	      "  version\n"
	      "\n"
	      "The knowledge files are read from --rules, $BOUNCEWHY_RULES or " BW_DATADIR "/rules.\n",
	      out);
}

int main(int argc, char **argv)
{
	const char *rules = getenv("BOUNCEWHY_RULES");
	const char *override = NULL;
	char defdir[4096];
	int i = 1, rc;
	bw_error err = {0};
	bw_kb *kb;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc) {
			rules = argv[++i];
		} else if (strcmp(argv[i], "--override") == 0 && i + 1 < argc) {
			override = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "bouncewhy: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "version") == 0) {
		printf("bouncewhy %s (API %s)\n", BW_VERSION, BW_API_VERSION);
		return 0;
	}
	if (rules == NULL) {
		snprintf(defdir, sizeof defdir, "%s/rules", BW_DATADIR);
		rules = defdir;
	}
	if ((kb = bw_kb_load(rules, override, &err)) == NULL) {
		fprintf(stderr, "bouncewhy: %s\n", err.text);
		return 2;
	}
	if (strcmp(argv[i], "explain") == 0) {
		rc = bw_cmd_explain(kb, argc - i, argv + i);
	} else if (strcmp(argv[i], "ip") == 0) {
		rc = bw_cmd_ip(kb, argc - i, argv + i);
	} else if (strcmp(argv[i], "check-rules") == 0) {
		rc = bw_cmd_check_rules(kb, argc - i, argv + i);
	} else {
		fprintf(stderr, "bouncewhy: unknown command %s\n", argv[i]);
		usage(stderr);
		rc = 2;
	}
	bw_kb_free(kb);
	return rc;
}

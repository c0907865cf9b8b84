/*
 * cli.h - the subcommands of the bouncewhy command-line tool.
 *
 * Each takes the loaded knowledge base and its own arguments (argv[0] is the
 * subcommand name) and returns the process exit status: 0, 1 (a negative
 * answer: nothing found / listed somewhere, as each documents) or 2 (usage
 * or input error, with a message on stderr).
 */
#ifndef BW_CLI_H
#define BW_CLI_H

#include "bouncewhy.h"

int bw_cmd_explain(const bw_kb *kb, int argc, char **argv);
int bw_cmd_check_rules(const bw_kb *kb, int argc, char **argv);
int bw_cmd_ip(const bw_kb *kb, int argc, char **argv);

/* Reads a whole file ("-" or NULL: stdin). New buffer, NUL-terminated; NULL
 * with errno set on failure. At most max bytes are kept; *truncated says. */
char *bw_cli_slurp(const char *path, size_t max, size_t *len, int *truncated);

#endif

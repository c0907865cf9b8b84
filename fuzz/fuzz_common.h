/*
 * fuzz_common.h - what the libFuzzer targets of bouncewhy share: one
 * knowledge base loaded once per process, before the first input.
 *
 * The fuzzers are single-threaded processes, so the knowledge base lives in
 * a static of the target file (the one place the style allows a process-wide
 * value: it plays the part of main()'s locals). Rules come from
 * $BOUNCEWHY_RULES, else BW_DATADIR/rules.
 */
#ifndef BW_FUZZ_COMMON_H
#define BW_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "bouncewhy.h"

#ifndef BW_DATADIR
#define BW_DATADIR "."
#endif

/* The knowledge base, loaded on first use; exits when rules do not load. */
static const bw_kb *fuzz_kb(void)
{
	static bw_kb *kb;

	if (kb == NULL) {
		bw_error err = {0};
		char dir[4096];
		const char *env = getenv("BOUNCEWHY_RULES");
		snprintf(dir, sizeof dir, "%s", env ? env : BW_DATADIR "/rules");
		if ((kb = bw_kb_load(dir, NULL, &err)) == NULL) {
			fprintf(stderr, "fuzz: cannot load rules from %s: %s\n", dir, err.text);
			exit(1);
		}
	}
	return kb;
}

/* Checks what every explain answer must be: an object that serialises
 * (jansson refuses invalid UTF-8, so this proves none got through) and has
 * a findings array. Aborts, which libFuzzer reports as a crash, otherwise. */
static void fuzz_check_answer(json_t *out)
{
	char *s;

	if (out == NULL)
		return;	/* only when memory runs out */
	if (!json_is_object(out) || !json_is_array(json_object_get(out, "findings")))
		abort();
	if ((s = json_dumps(out, 0)) == NULL)
		abort();
	free(s);
	json_decref(out);
}

#endif /* BW_FUZZ_COMMON_H */

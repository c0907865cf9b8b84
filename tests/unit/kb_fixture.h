/*
 * kb_fixture.h - the shared fixture of the unit tests that classify: the
 * project's own knowledge base, loaded once per test group.
 *
 *   cmocka_run_group_tests(tests, kb_fixture_load, kb_fixture_unload);
 *
 * Include it once, in a test program's single .c file.
 */
#ifndef BW_KB_FIXTURE_H
#define BW_KB_FIXTURE_H

#include <stdio.h>

#include "bouncewhy.h"

#ifndef BW_DATADIR
#define BW_DATADIR "."
#endif

static bw_kb *kb;

static int kb_fixture_load(void **state)
{
	bw_error err = {0};

	(void)state;
	kb = bw_kb_load(BW_DATADIR "/rules", NULL, &err);
	if (kb == NULL)
		fprintf(stderr, "# %s\n", err.text);
	return kb ? 0 : -1;
}

static int kb_fixture_unload(void **state)
{
	(void)state;
	bw_kb_free(kb);
	return 0;
}

#endif

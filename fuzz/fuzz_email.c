/*
 * fuzz_email.c - libFuzzer target: the email and mbox parser.
 *
 * bw_explain with default options on raw bytes: the kind is detected (text,
 * email, mbox), emails go through GMime, DSN parts, attachments and nested
 * messages. Half the inputs get the admin audience, to reach that path too.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bw_options opt = {.audience = size % 2 ? "admin" : "user"};
	bw_error err = {0};

	fuzz_check_answer(bw_explain(fuzz_kb(), (const char *)data, size, &opt, &err));
	return 0;
}

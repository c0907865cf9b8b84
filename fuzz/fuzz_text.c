/*
 * fuzz_text.c - libFuzzer target: the text classifier on raw bytes.
 *
 * bw_explain with opt.single = 1, so every input is one pasted bounce (no
 * email or mbox detection): segmentation, the prefilter, the rules, the
 * fact extractors. The answer must always be a serialisable object.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bw_options opt = {.single = 1};
	bw_error err = {0};

	fuzz_check_answer(bw_explain(fuzz_kb(), (const char *)data, size, &opt, &err));
	return 0;
}

/*
 * fuzz_tpl.c - libFuzzer target: the Mustache parser and renderer.
 *
 * The input is a template, parsed with bw_tpl_parse and, when it parses,
 * rendered against a small fixed context (strings with HTML specials,
 * numbers, booleans, nested objects, one-element arrays) with one fixed
 * partial "p". Arrays have one element and the template cannot include
 * itself, so rendering stays linear in the input: templates are the
 * operator's files, and an exponential one is not what this looks for.
 * A {{name}} slot must never put a raw '<' from the context into the
 * output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mustache.h"

static const char ctx_json[] =
	"{\"title\": \"<b>bounce</b> & \\\"co\\\"\", \"n\": 42, \"r\": 1.5, \"yes\": true,"
	" \"no\": false, \"nil\": null, \"empty\": \"\", \"zero\": 0,"
	" \"esc\": \"<script>x</script>\","
	" \"list\": [{\"name\": \"a<b\", \"tags\": [\"t1\"]}],"
	" \"obj\": {\"inner\": {\"deep\": \"d'e`e=p\"}, \"list\": [\"x\"]},"
	" \"unicode\": \"\\u00e9\\u4e2d\\ud83d\\ude00\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *ctx;
	static bw_tpl_set *set;
	bw_error err = {0};
	bw_tpl *tpl;

	if (ctx == NULL) {
		ctx = json_loads(ctx_json, 0, NULL);
		set = bw_tpl_set_new();
		if (ctx == NULL || set == NULL ||
		    bw_tpl_set_add(set, "p", "[{{title}}|{{#obj}}{{inner.deep}}{{/obj}}]", 42, &err) < 0)
			abort();
	}
	tpl = bw_tpl_parse("fuzz", (const char *)data, size, &err);
	if (tpl != NULL) {
		bw_buf out = {0};
		/* No raw slot ({{{ or &), no delimiter change (=), no '<' of its
		 * own: then a '<' in the output came through an escaped slot. */
		int plain = memchr(data, '<', size) == NULL && memchr(data, '&', size) == NULL &&
			    memchr(data, '=', size) == NULL && memmem(data, size, "{{{", 3) == NULL;
		if (bw_tpl_render_tpl(tpl, set, ctx, &out, &err) == 0 && plain && out.len &&
		    memchr(out.data, '<', out.len) != NULL)
			abort();
		bw_buf_free(&out);
		bw_tpl_free(tpl);
	} else if (err.text[0] == '\0') {
		abort();	/* a parse failure must say why */
	}
	return 0;
}

/*
 * test_mustache.c - the Mustache renderer (cgi/mustache.c).
 *
 * Runs every test of the core modules of the Mustache specification, read
 * from $BW_SHARED/testdata/mustache-spec (default ../shared), one cmocka test
 * each (skipped with a note when the folder is absent), then bouncewhy's own
 * tests: escaping, raw output, errors with their line, the template folder
 * loader, nesting bounds.
 *
 * Run with CMOCKA_MESSAGE_OUTPUT=TAP for TAP output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mustache.h"

static const char *const spec_files[] = {
	"comments", "delimiters", "interpolation", "inverted", "partials",
	"sections",
};

/* One specification test: a borrowed object of the loaded file. */
struct spec_case {
	const json_t *test;
};

static void run_spec_case(void **state)
{
	const json_t *t = ((struct spec_case *)*state)->test;
	const json_t *tmpl = json_object_get(t, "template");
	const json_t *want = json_object_get(t, "expected");
	const json_t *partials = json_object_get(t, "partials");
	bw_tpl_set *set = NULL;
	bw_tpl *tpl;
	bw_error err = {0};
	bw_buf out = {0};

	assert_non_null(tmpl);
	assert_non_null(want);
	if (partials) {
		set = bw_tpl_set_from_json(partials, &err);
		if (!set)
			fail_msg("partials: %s:%d: %s", err.file, err.line,
				 err.text);
	}
	tpl = bw_tpl_parse("spec", json_string_value(tmpl),
			   json_string_length(tmpl), &err);
	if (!tpl)
		fail_msg("parse: line %d: %s", err.line, err.text);
	if (bw_tpl_render_tpl(tpl, set, json_object_get(t, "data"), &out,
			      &err) < 0)
		fail_msg("render: line %d: %s", err.line, err.text);
	assert_string_equal(out.data, json_string_value(want));
	bw_buf_free(&out);
	bw_tpl_free(tpl);
	bw_tpl_set_free(set);
}

/* Passes; its name carries the TAP "# SKIP" directive (cmocka's own skip()
 * prints "not ok ... # SKIP", which some TAP summers count as a failure). */
static void spec_absent(void **state)
{
	(void)state;
}

/* ---- our own tests --------------------------------------------------- */

/* Render src over the JSON text data; returns a malloc'd string or NULL. */
static char *render(const char *src, const char *data, const char *partials)
{
	json_t *ctx = json_loads(data, JSON_DECODE_ANY, NULL);
	json_t *pj = partials ? json_loads(partials, 0, NULL) : NULL;
	bw_tpl_set *set = pj ? bw_tpl_set_from_json(pj, NULL) : NULL;
	bw_tpl *tpl = bw_tpl_parse("t", src, strlen(src), NULL);
	bw_buf out = {0};
	char *res = NULL;

	assert_non_null(ctx);
	assert_non_null(tpl);
	if (bw_tpl_render_tpl(tpl, set, ctx, &out, NULL) == 0)
		res = out.data;
	else
		bw_buf_free(&out);
	bw_tpl_free(tpl);
	bw_tpl_set_free(set);
	json_decref(pj);
	json_decref(ctx);
	return res;
}

static void expect(const char *src, const char *data, const char *want)
{
	char *got = render(src, data, NULL);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_escaping(void **state)
{
	(void)state;
	expect("{{x}}", "{\"x\": \"<script>alert('x')</script>\"}",
	       "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
	expect("<a title=\"{{x}}\">", "{\"x\": \"\\\" onmouseover=`y`\"}",
	       "<a title=\"&quot; onmouseover&#61;&#96;y&#96;\">");
	expect("{{x}}", "{\"x\": \"a & b\"}", "a &amp; b");
	/* UTF-8 passes through untouched */
	expect("{{x}}", "{\"x\": \"caf\\u00e9 \\u2713\"}", "caf\xc3\xa9 \xe2\x9c\x93");
}

static void test_raw_only_when_asked(void **state)
{
	(void)state;
	expect("{{{x}}}|{{&x}}|{{x}}", "{\"x\": \"<b>\"}", "<b>|<b>|&lt;b&gt;");
	/* a value that looks like a tag is not rendered again */
	expect("{{x}}", "{\"x\": \"{{y}}\", \"y\": \"no\"}", "{{y}}");
}

static void test_values(void **state)
{
	(void)state;
	expect("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}}|",
	       "{\"a\": 42, \"b\": 0.5, \"c\": true, \"d\": false, \"e\": null,"
	       " \"f\": {\"g\": 1}}",
	       "42 0.5 true false  |");
	expect("{{#s}}yes{{/s}}{{^s}}no{{/s}}", "{\"s\": \"\"}", "no");
	expect("{{#s}}yes{{/s}}{{^s}}no{{/s}}", "{\"s\": 0}", "no");
	expect("{{#s}}[{{.}}]{{/s}}", "{\"s\": \"ip\"}", "[ip]");
	expect("{{#l}}{{n}}.{{/l}}", "{\"l\": [{\"n\": 1}, {\"n\": 2}]}",
	       "1.2.");
}

static void expect_error(const char *src, int line, const char *text)
{
	bw_error err = {0};
	bw_tpl *tpl = bw_tpl_parse("page.mustache", src, strlen(src), &err);

	assert_null(tpl);
	assert_string_equal(err.file, "page.mustache");
	assert_int_equal(err.line, line);
	if (!strstr(err.text, text))
		fail_msg("error '%s' does not say '%s'", err.text, text);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("a\nb\n{{#steps}}\n<li>{{.}}</li>\n", 3,
		     "unclosed section 'steps'");
	expect_error("{{#a}}\n{{#b}}\n{{/a}}\n{{/b}}\n", 3,
		     "section 'b' (line 2) closed by 'a'");
	expect_error("x\n{{/a}}", 2, "without a section");
	expect_error("one\ntwo {{name", 2, "unclosed tag");
	expect_error("{{{raw}}", 1, "unclosed tag");
	expect_error("\n\n{{=<% =}}", 3, "bad set-delimiter");
	expect_error("{{}}", 1, "bad tag name");
	expect_error("{{a b}}", 1, "bad tag name");
}

static void test_depth_bound(void **state)
{
	bw_error err = {0};
	bw_tpl_set *set = bw_tpl_set_new();
	bw_buf out = {0};

	(void)state;
	assert_non_null(set);
	assert_int_equal(bw_tpl_set_add(set, "loop", "x{{>loop}}", 10, &err), 0);
	assert_int_equal(bw_tpl_render(set, "loop", json_null(), &out, &err), -1);
	if (!strstr(err.text, "deeper"))
		fail_msg("unexpected error '%s'", err.text);
	bw_buf_free(&out);
	memset(&err, 0, sizeof err);
	assert_int_equal(bw_tpl_render(set, "nope", json_null(), &out, &err), -1);
	if (!strstr(err.text, "no template"))
		fail_msg("unexpected error '%s'", err.text);
	bw_buf_free(&out);
	bw_tpl_set_free(set);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load_dir(void **state)
{
	char dir[] = "/tmp/bw-tpl-XXXXXX", path[256];
	bw_error err = {0};
	bw_tpl_set *set;
	bw_buf out = {0};
	json_t *ctx;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/page.mustache", dir);
	write_file(path, "<ul>\n  {{>item}}\n</ul>\n");
	snprintf(path, sizeof path, "%s/item.mustache", dir);
	write_file(path, "{{#items}}<li>{{.}}</li>\n{{/items}}");
	snprintf(path, sizeof path, "%s/notes.txt", dir);
	write_file(path, "{{#ignored");

	set = bw_tpl_set_load(dir, &err);
	if (!set)
		fail_msg("%s:%d: %s", err.file, err.line, err.text);
	ctx = json_pack("{s:[s,s]}", "items", "a<", "b");
	assert_int_equal(bw_tpl_render(set, "page", ctx, &out, &err), 0);
	assert_string_equal(out.data,
			    "<ul>\n  <li>a&lt;</li>\n  <li>b</li>\n</ul>\n");
	assert_null(bw_tpl_set_get(set, "notes"));
	json_decref(ctx);
	bw_buf_free(&out);
	bw_tpl_set_free(set);

	/* one broken template fails the load, naming file and line */
	snprintf(path, sizeof path, "%s/broken.mustache", dir);
	write_file(path, "ok\n\n{{#open}}\n");
	set = bw_tpl_set_load(dir, &err);
	assert_null(set);
	if (!strstr(err.file, "broken.mustache"))
		fail_msg("error names '%s'", err.file);
	assert_int_equal(err.line, 3);

	unlink(path);
	snprintf(path, sizeof path, "%s/page.mustache", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/item.mustache", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/notes.txt", dir);
	unlink(path);
	rmdir(dir);

	assert_null(bw_tpl_set_load("/nonexistent/bw-templates", &err));
	assert_string_equal(err.file, "/nonexistent/bw-templates");
}

static void test_buf(void **state)
{
	bw_buf b = {0};
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		assert_int_equal(bw_buf_puts(&b, "0123456789"), 0);
	assert_int_equal(b.len, 10000);
	assert_int_equal(strlen(b.data), 10000);
	bw_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	bw_buf_free(&b);
	bw_buf_free(&b);
	bw_buf_free(NULL);
}

int main(void)
{
	const char *shared = getenv("BW_SHARED");
	struct CMUnitTest *tests = NULL;
	struct spec_case *cases = NULL;
	json_t *files[sizeof spec_files / sizeof spec_files[0]] = {0};
	size_t ntests = 0, ncases = 0, cap = 0, i, j;
	char path[1024];
	int rc, have_spec = 1;
	static const struct CMUnitTest own[] = {
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_raw_only_when_asked),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_depth_bound),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_buf),
	};

	if (!shared || !*shared)
		shared = "../shared";
	for (i = 0; i < sizeof spec_files / sizeof spec_files[0]; i++) {
		snprintf(path, sizeof path, "%s/testdata/mustache-spec/%s.json",
			 shared, spec_files[i]);
		files[i] = json_load_file(path, 0, NULL);
		if (!files[i]) {
			have_spec = 0;
			break;
		}
		ncases += json_array_size(json_object_get(files[i], "tests"));
	}
	cap = ncases + sizeof own / sizeof own[0] + 1;
	tests = calloc(cap, sizeof *tests);
	cases = calloc(ncases + 1, sizeof *cases);
	if (!tests || !cases)
		return 1;
	if (have_spec) {
		size_t k = 0;

		for (i = 0; i < sizeof spec_files / sizeof spec_files[0]; i++) {
			json_t *arr = json_object_get(files[i], "tests"), *t;

			json_array_foreach(arr, j, t) {
				char *name = malloc(256);

				if (!name)
					return 1;
				snprintf(name, 256, "spec %s: %s", spec_files[i],
					 json_string_value(json_object_get(t, "name")));
				cases[k].test = t;
				tests[ntests].name = name;
				tests[ntests].test_func = run_spec_case;
				tests[ntests].initial_state = &cases[k];
				ntests++;
				k++;
			}
		}
	} else {
		tests[ntests].name = "mustache spec tests # SKIP no "
				     "$BW_SHARED/testdata/mustache-spec";
		tests[ntests].test_func = spec_absent;
		ntests++;
	}
	for (i = 0; i < sizeof own / sizeof own[0]; i++)
		tests[ntests++] = own[i];

	rc = _cmocka_run_group_tests("mustache", tests, ntests, NULL, NULL);

	if (have_spec)
		for (i = 0; i < ntests - sizeof own / sizeof own[0]; i++)
			free((char *)tests[i].name);
	for (i = 0; i < sizeof spec_files / sizeof spec_files[0]; i++)
		json_decref(files[i]);
	free(tests);
	free(cases);
	return rc;
}

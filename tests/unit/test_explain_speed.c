/*
 * test_explain_speed.c - the shortcuts taken to make an explain cheaper give
 * the answers of the plain ways they replace.
 *
 * A session transcript is read from one '<' or '>' to the next, not byte by
 * byte (command.c); a copy-of-the-message line is told by two quick searches
 * before the phrase table (textbounce.c); a kb text's placeholders are found
 * by name length (explain.c). Each case here sits on an edge of one of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "kb.h"
#include "segment.h"
#include "kb_fixture.h"

static void expect_cmd(const char *t, const char *cmd)
{
	const char *got = bw_command_scan(t, strlen(t));

	if (cmd == NULL) {
		assert_null(got);
	} else {
		assert_non_null(got);
		assert_string_equal(got, cmd);
	}
}

static void test_transcript_edges(void **state)
{
	(void)state;
	/* angle brackets of addresses before the session are skipped over */
	expect_cmd("<a@example.com> <b@example.com>: see below\n>>> RCPT To:<a@example.com>\n"
		   "<<< 550 no such user\n", "RCPT");
	/* four '>': the session line starts one byte later */
	expect_cmd(">>>> DATA\n<<< 554 rejected\n", "DATA");
	expect_cmd("x>>> DATA\n<<< 554 rejected\n", "DATA");
	/* a reply that ends the text, with nothing after its code */
	expect_cmd(">>> DATA\n<<< 5", NULL);
	expect_cmd(">>> DATA\n<<< 554", "DATA");
	/* a command line that ends the text: "<<< " needs a byte after it */
	expect_cmd(">>> RCPT To:<a@example.com>\n<<< ", NULL);
	/* "<<< 503" anywhere answers for RCPT TO, with or without a session */
	expect_cmd("the server said <<< 503 need RCPT", "RCPT");
	expect_cmd("the server said << 503 need nothing", NULL);
	expect_cmd(">>> DATA\n<<< 550 no\n<<< 503 5.5.1 bad sequence\n", "RCPT");
}

/* The text of the one segment bw_text_split makes of t. */
static void expect_notice(const char *t, const char *has, const char *lacks)
{
	bw_input in = {0};
	bw_message *m = bw_input_add_message(&in);

	assert_non_null(m);
	assert_true(bw_text_split(t, strlen(t), m) >= 1);
	assert_non_null(m->segs[0].text);
	if (has)
		assert_non_null(strstr(m->segs[0].text, has));
	if (lacks)
		assert_null(strstr(m->segs[0].text, lacks));
	bw_input_free(&in);
}

static void test_copy_markers(void **state)
{
	(void)state;
	/* a separator line, a line ending in a colon, a sentence with "below" */
	expect_notice("550 5.1.1 user unknown\n----- Original message -----\nSubject: secret\n",
		      "user unknown", "secret");
	expect_notice("550 5.1.1 user unknown\nA copy of your message is below.\nSubject: secret\n",
		      "user unknown", "secret");
	expect_notice("550 5.1.1 user unknown\nThe original message FOLLOWS\nSubject: secret\n",
		      "user unknown", "secret");
	expect_notice("550 5.1.1 user unknown\nReturned message:\nSubject: secret\n",
		      "user unknown", "secret");
	/* a sentence that names the message but announces nothing */
	expect_notice("550 5.1.1 user unknown\nYour original message was too big.\nSubject: kept\n",
		      "kept", NULL);
	/* announcing words without a phrase of the table */
	expect_notice("550 5.1.1 user unknown\nDetails follow.\nSubject: kept\n", "kept", NULL);
}

static const char blocked[] =
	"Delivery to the following recipient failed permanently:\n\n     bob@example.net\n\n"
	"550 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using "
	"zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.9";

/* Does any string of the steps (user and admin) hold s? */
static int steps_hold(const json_t *f, const char *s)
{
	const char *aud[] = {"user", "admin"};

	for (int a = 0; a < 2; a++) {
		const json_t *arr = json_object_get(json_object_get(f, "steps"), aud[a]), *v;
		size_t i;

		json_array_foreach(arr, i, v)
			if (strstr(json_string_value(v), s))
				return 1;
	}
	return 0;
}

static void test_placeholders(void **state)
{
	bw_error err = {0};
	json_t *res, *f;
	char buf[32];

	(void)state;
	res = bw_explain(kb, blocked, sizeof blocked - 1, NULL, &err);
	assert_non_null(res);
	f = json_array_get(json_object_get(res, "findings"), 0);
	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "reason")), "blocked");
	/* every known name is filled, none is left as written */
	assert_true(steps_hold(f, "203.0.113.9"));
	assert_false(steps_hold(f, "{ip}"));
	assert_false(steps_hold(f, "{blocklist}"));
	assert_false(steps_hold(f, "{delist_url}"));
	snprintf(buf, sizeof buf, "%lld",
		 (long long)json_integer_value(json_object_get(json_object_get(f, "smtp"),
							       "reply_code")));
	assert_string_equal(buf, "550");
	json_decref(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transcript_edges),
		cmocka_unit_test(test_copy_markers),
		cmocka_unit_test(test_placeholders),
	};

	return cmocka_run_group_tests(tests, kb_fixture_load, kb_fixture_unload);
}

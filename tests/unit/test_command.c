/*
 * test_command.c - the SMTP command a failure answered (command.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "facts.h"
#include "kb.h"
#include "segment.h"

static const char *scan(const char *t)
{
	return bw_command_scan(t, strlen(t));
}

static void expect(const char *t, const char *cmd)
{
	const char *got = scan(t);

	if (cmd == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, cmd);
	}
}

static void test_mta_phrases(void **state)
{
	(void)state;
	expect("host mx.example.com[192.0.2.1] said: 550 5.1.1 <a@example.com>: User unknown"
	       " (in reply to RCPT TO command)", "RCPT");
	expect("said: 550 Unknown user a@example.com (in reply to end of DATA command)", "DATA");
	expect("SMTP error from remote mail server after end of data: 550 Rejected", "DATA");
	expect("SMTP error from remote mail server after MAIL FROM:<s@example.org> SIZE=1543: 550 no", "MAIL");
	expect("SMTP error from remote mail server after initial connection: 554 go away", "CONN");
	expect("192.0.2.1 does not like recipient. Remote host said: 550 no such user", "RCPT");
	expect("192.0.2.1 failed after I sent the message. Remote host said: 554 spam", "DATA");
	expect("connect to example.com[192.0.2.1]:25: Connection timed out", "CONN");
	expect("The recipient server did not accept our requests to connect.", "CONN");
	/* the earliest phrase wins */
	expect("550 no (in reply to RCPT TO command) ... connection timed out", "RCPT");
	/* nothing said; words inside other words do not count */
	expect("550 5.1.1 User unknown", NULL);
	expect("after database maintenance", NULL);
	expect("", NULL);
}

static void test_transcripts(void **state)
{
	(void)state;
	/* the last command sent before the first failing reply */
	expect("... while talking to mx.example.jp.:\n>>> DATA\n<<< 550 Unknown user a@example.jp\n"
	       "554 5.0.0 Service unavailable\n", "DATA");
	expect(">>> MAIL From:<s@example.org>\n<<< 250 ok\n>>> RCPT To:<a@example.com>\n"
	       "<<< 550 no such user\n", "RCPT");
	/* pipelined: DATA failed for want of recipients, so the failing reply
	 * before it answered RCPT TO */
	expect("... while talking to mx.example.jp.:\n>>> DATA\n<<< 550 5.1.1 <a@example.jp>... User Unknown\n"
	       "550 5.1.1 <a@example.jp>... User unknown\n<<< 503 5.0.0 Need RCPT (recipient)\n", "RCPT");
	expect(">>> DATA\n<<< 550 <a@example.jp>: User unknown\n<<< 554 Error: no valid recipients\n", "RCPT");
	/* a gateway's field */
	expect("-------server message\n550 unknown user <a@example.com>\n\n-------SMTP command\nDATA\n", "DATA");
	/* Postfix says "Recipient address rejected" only at RCPT TO, whatever
	 * a gateway reports as the last command sent */
	expect("550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in local recipient table\n"
	       "-------SMTP command\nDATA\n", "RCPT");
}

/*
 * The rule matcher finds the command strings and the retry words in its
 * own scan (bw_match_best_found): the answers must be those of
 * bw_command_scan and of the facts' own look for the retry words.
 */
static void test_rule_scan_agrees(void **state)
{
	static const char *const texts[] = {
		"550 5.1.1 <a@example.com>: User unknown (in reply to RCPT TO command)",
		"421 Please try again later",
		"Please try again later",
		"Mailbox temporarily unavailable, TRY LATER",
		"Message deferred: greylisted, please retry later",
		"Your message has not yet been delivered. Delivery delayed.",
		"the message will be retried for 5 days",	/* not one of the words looked for */
		"connect to mx.example.com[192.0.2.1]:25: Connection refused",
		"Graylist in effect",
		">>> RCPT TO:<a@example.com>\n<<< 550 no such user",
		"nothing to see here",
		"Temporar",
		"",
	};
	bw_error err = {0};
	bw_kb *kb = bw_kb_load(BW_DATADIR "/rules", NULL, &err);
	(void)state;

	if (kb == NULL)
		skip();
	bw_scratch *sc = bw_scratch_get(kb);
	assert_non_null(sc);
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		const char *t = texts[i];
		size_t len = strlen(t);
		bw_command_found found;
		bw_match m;
		bw_facts f;
		const char *want = bw_command_scan(t, len), *got;

		assert_true(bw_match_best_found(kb, sc, t, len, 0, NULL, &m, &found) >= 0);
		got = bw_command_found_end(&found);
		if (want == NULL)
			assert_null(got);
		else
			assert_string_equal(got, want);
		/* the words decide only where no code does (says_retry -1) */
		bw_facts_extract_codes(t, len, &f);
		if (f.says_retry >= 0)
			continue;
		int words = bw_facts_says_retry(t, len, &f);
		if (found.retry != words)
			print_error("\"%s\": the scan says %d, the facts %d\n", t, found.retry, words);
		assert_int_equal(found.retry, words);
	}
	bw_kb_free(kb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mta_phrases),
		cmocka_unit_test(test_transcripts),
		cmocka_unit_test(test_rule_scan_agrees),
	};

	return cmocka_run_group_tests_name("command", tests, NULL, NULL);
}

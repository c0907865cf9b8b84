/*
 * test_command.c - the SMTP command a failure answered (command.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mta_phrases),
		cmocka_unit_test(test_transcripts),
	};

	return cmocka_run_group_tests_name("command", tests, NULL, NULL);
}

/*
 * test_textbounce.c - splitting a notice into per-recipient segments
 * (textbounce.c): where the notice ends, the agent, the command, and the
 * session transcript, each read in one pass over the text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "segment.h"

/* Split t into in (one message); returns the number of segments added. */
static int split(const char *t, bw_input *in)
{
	bw_message *m;

	memset(in, 0, sizeof *in);
	m = bw_input_add_message(in);
	assert_non_null(m);
	return bw_text_split(t, strlen(t), m);
}

static void test_agent_and_command_from_notice(void **state)
{
	bw_input in;
	const bw_segment *s;

	(void)state;
	assert_int_equal(split("This is the mail system at host mx.example.org.\n"
			       "\n"
			       "<user@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1\n"
			       "    User unknown (in reply to RCPT TO command)\n", &in), 1);
	s = &in.msgs[0].segs[0];
	assert_string_equal(s->recipient, "user@example.com");
	assert_string_equal(s->agent, "Postfix");
	assert_string_equal(s->command, "RCPT");
	assert_string_equal(s->remote_mta, "mx.example.com");
	bw_input_free(&in);
}

static void test_copy_marker_ends_notice(void **state)
{
	bw_input in;
	const bw_segment *s;

	(void)state;
	/* the copy of the message (after the marker) says nothing that counts:
	 * neither its agent words nor its command phrase */
	assert_int_equal(split("Delivery to the following recipient failed:\n"
			       "\n"
			       "  user@example.com\n"
			       "\n"
			       "550 mailbox unavailable\n"
			       "\n"
			       "Original message follows:\n"
			       "This is the mail system at host mx.example.org.\n"
			       "connection timed out\n", &in), 1);
	s = &in.msgs[0].segs[0];
	assert_string_equal(s->recipient, "user@example.com");
	assert_null(s->agent);
	assert_null(s->command);
	assert_null(strstr(s->text, "mail system"));
	bw_input_free(&in);

	/* a line that names the original but announces nothing is no marker */
	assert_int_equal(split("Delivery to the following recipient failed:\n"
			       "\n"
			       "  user@example.com\n"
			       "\n"
			       "550 mailbox unavailable; the original message was kept\n"
			       "connection timed out\n", &in), 1);
	s = &in.msgs[0].segs[0];
	assert_non_null(strstr(s->text, "connection timed out"));
	assert_string_equal(s->command, "CONN");
	bw_input_free(&in);
}

static void test_transcript_anywhere(void **state)
{
	bw_input in;
	const bw_segment *s;

	(void)state;
	/* "Transcript of session" makes "554 <addr>... why" a recipient line,
	 * even when it comes after the notice's end */
	assert_int_equal(split("The original message was received from localhost\n"
			       "554 <user@example.com>... Service unavailable\n"
			       "\n"
			       "----- Original message follows -----\n"
			       "Transcript of session follows\n", &in), 1);
	s = &in.msgs[0].segs[0];
	assert_string_equal(s->recipient, "user@example.com");
	bw_input_free(&in);
}

static void test_failing_replies_first(void **state)
{
	bw_input in;
	const bw_segment *s;

	(void)state;
	assert_int_equal(split("<user@example.com>: the session was:\n"
			       "Out: 250 OK Out: 550 5.1.1 no such user In: QUIT\n", &in), 1);
	s = &in.msgs[0].segs[0];
	assert_int_equal(strncmp(s->text, "550 5.1.1 no such user\n", 23), 0);
	bw_input_free(&in);
}

/* The inner bounce of one forwarded by a person, quoted or not. */
static const char forwarded[] =
	"Begin forwarded message:\n"
	"\n"
	"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>\n"
	"Date: Thu, 16 May 2024 17:19:03 +0900\n"
	"To: <ann@example.org>\n"
	"Subject: Returned mail: see transcript for details\n"
	"Return-Path: <MAILER-DAEMON>\n"
	"Message-Id: <202405160826.n888ba7x019999@mx.example.org>\n"
	"\n"
	"   ----- The following addresses had permanent fatal errors -----\n"
	"<bob@example.net>\n"
	"    (reason: 550 5.1.1 <bob@example.net>... User unknown)\n"
	"\n"
	"From: ann@example.org\n"
	"To: bob@example.net\n"
	"Subject: Lunch\n";

static void test_forwarded_bounce(void **state)
{
	bw_input in;
	char quoted[sizeof forwarded * 2 + 64];
	size_t n = 0;

	(void)state;
	assert_int_equal(split(forwarded, &in), 1);
	assert_string_equal(in.msgs[0].segs[0].recipient, "bob@example.net");
	assert_non_null(strstr(in.msgs[0].segs[0].text, "User unknown"));
	bw_input_free(&in);

	/* the same with "> " before every line, as a mail client forwards it */
	for (const char *p = forwarded; *p;) {
		const char *eol = strchr(p, '\n');

		memcpy(quoted + n, "> ", 2);
		n += 2;
		memcpy(quoted + n, p, (size_t)(eol - p + 1));
		n += (size_t)(eol - p + 1);
		p = eol + 1;
	}
	quoted[n] = '\0';
	assert_int_equal(split(quoted, &in), 1);
	assert_string_equal(in.msgs[0].segs[0].recipient, "bob@example.net");
	bw_input_free(&in);

	/* a bounce's own transcript lines do not make it a quoted text */
	assert_int_equal(split("... while talking to mx.example.net.:\n"
			       ">>> RCPT To:<bob@example.net>\n"
			       "<<< 550 5.1.1 <bob@example.net>... User unknown\n"
			       "550 5.1.1 <bob@example.net>... User unknown\n", &in), 1);
	assert_string_equal(in.msgs[0].segs[0].recipient, "bob@example.net");
	bw_input_free(&in);
}

/* MDaemon: "did NOT receive a copy" introduces the recipients, "> " is a bullet */
static void test_mdaemon_recipients(void **state)
{
	bw_input in;

	(void)state;
	assert_int_equal(split("The attached message had PERMANENT fatal delivery errors!\n"
			       "\n"
			       "The following addresses did NOT receive a copy of your message: \n"
			       "\n"
			       "> ann@example.com\n"
			       "\n"
			       "--- Session Transcript ---\n"
			       " RCPT To:<ann@example.com>\n"
			       " 552 Message for <ann@example.com> would exceed mailbox quota\n"
			       " QUIT\n"
			       "--- End Transcript ---\n", &in), 1);
	assert_string_equal(in.msgs[0].segs[0].recipient, "ann@example.com");
	assert_non_null(strstr(in.msgs[0].segs[0].text, "would exceed mailbox quota"));
	bw_input_free(&in);
}

/* A line announcing the next recipient is not the text of the one before */
static void test_announcement_not_text(void **state)
{
	bw_input in;

	(void)state;
	assert_int_equal(split("Your message was not delivered because the destination computer was\n"
			       "not reachable within the allowed queue period.\n"
			       "\n"
			       "The following recipients did not receive your message:\n"
			       "\n"
			       "     <ann@example.com>\n"
			       "The following recipients did not receive your message:\n"
			       "\n"
			       "     <bob@example.com>\n", &in), 2);
	/* each has only the announcement as its own text: the notice speaks for both */
	assert_string_equal(in.msgs[0].segs[0].recipient, "ann@example.com");
	assert_non_null(strstr(in.msgs[0].segs[0].text, "allowed queue period"));
	assert_string_equal(in.msgs[0].segs[1].recipient, "bob@example.com");
	assert_non_null(strstr(in.msgs[0].segs[1].text, "allowed queue period"));
	bw_input_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_and_command_from_notice),
		cmocka_unit_test(test_copy_marker_ends_notice),
		cmocka_unit_test(test_transcript_anywhere),
		cmocka_unit_test(test_failing_replies_first),
		cmocka_unit_test(test_forwarded_bounce),
		cmocka_unit_test(test_mdaemon_recipients),
		cmocka_unit_test(test_announcement_not_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

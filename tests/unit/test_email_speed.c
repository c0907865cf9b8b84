/*
 * test_email_speed.c - the work bw_email_parse() takes off GMime reads every
 * email as GMime would.
 *
 * The top-level fields the classifier reads (Subject, From, Return-Path,
 * X-Failed-Recipients, Auto-Submitted, X-Autoreply...) are read from the
 * header block itself and GMime is not given them: their values must be
 * GMime's (unfolded, encoded words and 8-bit text decoded, the first of
 * repeated fields). A text part in another charset is converted without
 * GMime's stream objects; a report whose structure GMime will not find is
 * parsed once, whole. Each case checks what the full parse gives.
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
#include <cmocka.h>

#include "segment.h"

static bw_input parse_ok(const char *data)
{
	bw_input in = { 0 };
	bw_error err = { 0 };

	assert_int_equal(bw_email_parse(data, strlen(data), &in, &err), 0);
	assert_int_equal(in.nmsgs, 1);
	return in;
}

/* an encoded, folded Subject and an 8-bit From, repeated fields */
static void test_decoded_fields(void **state)
{
	static const char mail[] =
		"Received: from a by b; Mon, 1 Jan 2024 10:00:00 +0000\n"
		"Subject: =?UTF-8?B?QWJ3ZXNlbmhlaXQ=?= bis\n"
		"\t=?ISO-8859-1?Q?M=E4rz?=\n"
		"From: J\xf6rg <joerg@example.com>\n"
		"Subject: second subject\n"
		"Auto-Submitted: auto-replied\n"
		"MIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"\n"
		"Ich bin nicht im B\xc3\xbcro.\n";
	bw_input in = parse_ok(mail);
	const bw_message *m = &in.msgs[0];

	(void)state;
	assert_int_equal(m->kind, BW_MSG_AUTOREPLY);
	assert_int_equal(m->nsegs, 1);
	assert_int_equal(m->segs[0].kind, BW_SEG_VACATION);
	assert_string_equal(m->segs[0].recipient, "joerg@example.com");
	assert_string_equal(m->segs[0].text,
			    "Abwesenheit bis\tM\xc3\xa4rz\nIch bin nicht im B\xc3\xbcro.\n");
	bw_input_free(&in);
}

/* no Content- field at all: the fields read here still classify it */
static void test_no_content_fields(void **state)
{
	static const char mail[] =
		"From: Colleague <colleague@example.com>\n"
		"To: sender@example.org\n"
		"Subject: Re: meeting\n"
		"X-Autoresponder: yes\n"
		"\n"
		"Back on Monday.\n";
	bw_input in = parse_ok(mail);
	const bw_message *m = &in.msgs[0];

	(void)state;
	assert_int_equal(m->kind, BW_MSG_AUTOREPLY);
	assert_int_equal(m->nsegs, 1);
	assert_string_equal(m->segs[0].recipient, "colleague@example.com");
	assert_string_equal(m->segs[0].text, "Re: meeting\nBack on Monday.\n");
	bw_input_free(&in);
}

/* a folded X-Failed-Recipients names the recipient; a null Return-Path */
static void test_failed_recipients(void **state)
{
	static const char mail[] =
		"Return-Path: <>\n"
		"X-Failed-Recipients: gone@example.com,\n"
		"  other@example.com\n"
		"From: Mail Delivery System <Mailer-Daemon@example.net>\n"
		"Subject: Mail delivery failed: returning message to sender\n"
		"Content-Type: text/plain\n"
		"\n"
		"This message was created automatically by mail delivery software.\n"
		"\n"
		"A message that you sent could not be delivered to one or more of its\n"
		"recipients. This is a permanent error.\n";
	bw_input in = parse_ok(mail);
	const bw_message *m = &in.msgs[0];

	(void)state;
	assert_int_equal(m->kind, BW_MSG_BOUNCE);
	assert_true(m->nsegs >= 1);
	assert_string_equal(m->segs[0].recipient, "gone@example.com");
	bw_input_free(&in);
}

/* a quoted-printable part in ISO-8859-1 arrives as UTF-8 */
static void test_charset_part(void **state)
{
	static const char mail[] =
		"From: MAILER-DAEMON@example.net\n"
		"Subject: Undelivered Mail Returned to Sender\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"X\"\n"
		"\n"
		"--X\n"
		"Content-Type: text/plain; charset=iso-8859-1\n"
		"Content-Transfer-Encoding: quoted-printable\n"
		"\n"
		"<caf=E9@example.com>: 550 5.1.1 Benutzer unbekannt (in reply to RCPT TO command)\n"
		"--X--\n";
	bw_input in = parse_ok(mail);
	const bw_message *m = &in.msgs[0];

	(void)state;
	assert_int_equal(m->kind, BW_MSG_BOUNCE);
	assert_int_equal(m->nsegs, 1);
	assert_string_equal(m->segs[0].recipient, "caf\xc3\xa9@example.com");
	assert_string_equal(m->segs[0].command, "RCPT");
	bw_input_free(&in);
}

/* the declared boundary is not the one used: read from the prologue */
static void test_wrong_boundary(void **state)
{
	static const char mail[] =
		"From: MAILER-DAEMON@example.net\n"
		"Subject: Undelivered Mail Returned to Sender\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=delivery-status;\n"
		"\tboundary=\"declared\"\n"
		"\n"
		"--used\n"
		"Content-Type: text/plain\n"
		"\n"
		"<user@example.com>: 550 5.1.1 User unknown\n"
		"\n"
		"--used\n"
		"Content-Type: message/delivery-status\n"
		"\n"
		"Final-Recipient: rfc822; user@example.com\n"
		"Action: failed\n"
		"Status: 5.1.1\n"
		"Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
		"\n"
		"--used\n"
		"Content-Type: message/rfc822\n"
		"\n"
		"From: sender@example.org\n"
		"Subject: hello\n"
		"\n"
		"body\n"
		"--used--\n";
	bw_input in = parse_ok(mail);
	const bw_message *m = &in.msgs[0];

	(void)state;
	assert_int_equal(m->kind, BW_MSG_BOUNCE);
	assert_int_equal(m->nsegs, 1);
	assert_string_equal(m->segs[0].recipient, "user@example.com");
	assert_string_equal(m->segs[0].status, "5.1.1");
	assert_string_equal(m->orig_subject, "hello");
	bw_input_free(&in);
}

/*
 * The returned message's header fields: the ones not kept are skipped with
 * their continuation lines (which may look like fields), names in any
 * case, the first of each kept; read from a text/rfc822-headers part and
 * from a message/rfc822 part's header block.
 */
static void check_orig(const char *ctype)
{
	char mail[2048];
	bw_input in;
	const bw_message *m;

	snprintf(mail, sizeof mail,
		 "From: MAILER-DAEMON@example.net\n"
		 "Subject: Undelivered Mail Returned to Sender\n"
		 "MIME-Version: 1.0\n"
		 "Content-Type: multipart/report; report-type=delivery-status;\n"
		 "\tboundary=\"b1\"\n"
		 "\n"
		 "--b1\n"
		 "Content-Type: text/plain\n"
		 "\n"
		 "<user@example.com>: 550 5.1.1 User unknown\n"
		 "\n"
		 "--b1\n"
		 "Content-Type: message/delivery-status\n"
		 "\n"
		 "Final-Recipient: rfc822; user@example.com\n"
		 "Action: failed\n"
		 "Status: 5.1.1\n"
		 "\n"
		 "--b1\n"
		 "Content-Type: %s\n"
		 "\n"
		 "Received: from a by b;\n"
		 " Subject: not this one\n"
		 "\tFrom: nor this\n"
		 "DKIM-Signature: v=1; a=rsa-sha256;\n"
		 "\tTo: no\n"
		 "SUBJECT: the real one\n"
		 "from: Sender <s@example.org>\n"
		 "Subject: a second one\n"
		 "To: user@example.com\n"
		 "Message-Id: <id@example.org>\n"
		 "X-Long-Field-Name-That-Goes-On-And-On-Past-Sixteen-Bytes: x\n"
		 "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
		 "\n"
		 "body\n"
		 "--b1--\n", ctype);
	in = parse_ok(mail);
	m = &in.msgs[0];
	assert_int_equal(m->kind, BW_MSG_BOUNCE);
	assert_string_equal(m->orig_subject, "the real one");
	assert_string_equal(m->orig_from, "Sender <s@example.org>");
	assert_string_equal(m->orig_to, "user@example.com");
	assert_string_equal(m->orig_message_id, "<id@example.org>");
	assert_string_equal(m->orig_date, "Mon, 1 Jan 2024 10:00:00 +0000");
	bw_input_free(&in);
}

static void test_orig_fields(void **state)
{
	(void)state;
	check_orig("text/rfc822-headers");
	check_orig("message/rfc822");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decoded_fields),
		cmocka_unit_test(test_no_content_fields),
		cmocka_unit_test(test_failed_recipients),
		cmocka_unit_test(test_charset_part),
		cmocka_unit_test(test_wrong_boundary),
		cmocka_unit_test(test_orig_fields),
	};

	return cmocka_run_group_tests_name("email_speed", tests, NULL, NULL);
}

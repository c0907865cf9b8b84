/*
 * test_email_fast.c - the short cuts bw_email_parse() takes to spare GMime
 * work, and that they read every email as the full parse does.
 *
 * The top-level header block is given to GMime without trace fields; the
 * returned message's header block (after the DSN) is read here instead of
 * by GMime, with the full parse as the fallback when the report is not what
 * the short cut expects; an mbox of one message reads as that message; a
 * header block with a stray line is left whole; a leading ">From " line
 * still reads. Each case checks the findings the full parse gives.
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

/* a report whose returned message has folded, encoded and repeated fields */
static const char report[] =
	"Received: from mx.example.net by relay.example.org; Mon, 1 Jan 2024 10:00:02 +0000\n"
	"Received: from localhost by mx.example.net; Mon, 1 Jan 2024 10:00:01 +0000\n"
	"DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=s1;\n"
	"\tb=AAAA\n"
	"Return-Path: <>\n"
	"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
	"To: sender@example.org\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status;\n"
	"\tboundary=\"B\"\n"
	"\n"
	"--B\n"
	"Content-Type: text/plain; charset=us-ascii\n"
	"\n"
	"This is the mail system at host mx.example.net.\n"
	"\n"
	"<user@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1 User unknown\n"
	"    (in reply to RCPT TO command)\n"
	"\n"
	"--B\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; mx.example.net\n"
	"\n"
	"Final-Recipient: rfc822; user@example.com\n"
	"Action: failed\n"
	"Status: 5.1.1\n"
	"Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
	"\n"
	"--B\n"
	"Content-Type: message/rfc822\n"
	"Content-Description: Undelivered Message\n"
	"\n"
	"Received: from client.example.org by mx.example.net; Mon, 1 Jan 2024 09:59:59 +0000\n"
	"X-Mailer: Test\tMailer\n"
	"Subject: =?UTF-8?B?SGVsbG8gd29ybGQ=?=\n"
	" and\tmore\n"
	"From: \"Sender, S.\" <sender@example.org>\n"
	"To: user@example.com,\n"
	"\tother@example.com\n"
	"Message-ID: <abc@example.org>\n"
	"Date: Mon, 1 Jan 2024 09:59:00 +0000\n"
	"Content-Type: multipart/mixed; boundary=\"inner\"\n"
	"\n"
	"--inner\n"
	"Content-Type: text/plain\n"
	"\n"
	"Hello.\n"
	"--inner\n"
	"Content-Type: image/png\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"iVBORw0KGgo=\n"
	"--inner--\n"
	"\n"
	"--B--\n";

/* the DSN line is only quoted in a text part: GMime finds no DSN part */
static const char quoted[] =
	"From: postmaster@example.net\n"
	"To: sender@example.org\n"
	"Subject: Returned mail: see transcript for details\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"Q\"\n"
	"\n"
	"--Q\n"
	"Content-Type: text/plain\n"
	"\n"
	"The original report said:\n"
	"Content-Type: message/delivery-status\n"
	"and user@example.com was not delivered: 550 5.1.1 User unknown\n"
	"\n"
	"--Q\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"From: Sender <sender@example.org>\n"
	"To: user@example.com\n"
	"Subject: Quoted report\n"
	"Message-ID: <q@example.org>\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"R\"\n"
	"\n"
	"--R\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Final-Recipient: rfc822; inner@example.com\n"
	"Action: failed\n"
	"Status: 5.2.2\n"
	"\n"
	"--R--\n"
	"\n"
	"--Q--\n";

static const char vacation[] =
	"Received: from a by b; Mon, 1 Jan 2024 10:00:00 +0000\n"
	"Received: from c by d; Mon, 1 Jan 2024 10:00:00 +0000\n"
	"ARC-Seal: i=1; a=rsa-sha256; t=1; cv=none;\n"
	"\tb=xyz\n"
	"From: Colleague <colleague@example.com>\n"
	"To: sender@example.org\n"
	"Subject: Re: meeting\n"
	"X-Autoreply: yes\n"
	"Content-Type: text/plain\n"
	"\n"
	"I am away until Monday.\n";

static const char stray[] =
	"Received: from a by b\n"
	"this line is not a field\n"
	"From: MAILER-DAEMON@example.net\n"
	"Subject: failure notice\n"
	"X-Failed-Recipients: gone@example.com\n"
	"\n"
	"Sorry, 550 5.1.1 user unknown\n";

static const char gtfrom[] =
	">From someone Mon Jan  1 10:00:00 2024\n"
	"From: MAILER-DAEMON@example.net\n"
	"Subject: failure notice\n"
	"\n"
	"<gone@example.com>: 550 5.1.1 user unknown\n";

static bw_input parse_ok(const char *data, size_t len)
{
	bw_input in = { 0 };
	bw_error err = { 0 };

	assert_int_equal(bw_email_parse(data, len, &in, &err), 0);
	return in;
}

static void check_report(const bw_input *in)
{
	const bw_message *m;

	assert_int_equal(in->nmsgs, 1);
	m = &in->msgs[0];
	assert_int_equal(m->kind, BW_MSG_BOUNCE);
	assert_int_equal(m->nsegs, 1);
	assert_string_equal(m->segs[0].recipient, "user@example.com");
	assert_string_equal(m->segs[0].status, "5.1.1");
	assert_string_equal(m->segs[0].agent, "RFC3464");
	assert_string_equal(m->segs[0].command, "RCPT");
	assert_string_equal(m->segs[0].text, "550 5.1.1 User unknown (in reply to RCPT TO command)");
	/* as GMime gives raw values: trimmed, folds and tabs become spaces */
	assert_string_equal(m->orig_from, "\"Sender, S.\" <sender@example.org>");
	assert_string_equal(m->orig_to, "user@example.com,  other@example.com");
	assert_string_equal(m->orig_subject, "Hello world  and more");
	assert_string_equal(m->orig_message_id, "<abc@example.org>");
	assert_string_equal(m->orig_date, "Mon, 1 Jan 2024 09:59:00 +0000");
}

static void test_returned_headers(void **state)
{
	bw_input in = parse_ok(report, sizeof report - 1);

	(void)state;
	assert_int_equal(in.kind, BW_INPUT_EMAIL);
	check_report(&in);
	bw_input_free(&in);
}

static void test_crlf_and_cr(void **state)
{
	size_t n = sizeof report - 1, k = 0, j = 0;
	char *crlf = malloc(2 * n + 1), *cr = malloc(n + 1);
	bw_input in;

	(void)state;
	assert_non_null(crlf);
	assert_non_null(cr);
	for (size_t i = 0; i < n; i++) {
		if (report[i] == '\n')
			crlf[k++] = '\r';
		crlf[k++] = report[i];
		cr[j++] = report[i] == '\n' ? '\r' : report[i];
	}
	in = parse_ok(crlf, k);
	check_report(&in);
	bw_input_free(&in);
	in = parse_ok(cr, j);
	check_report(&in);
	bw_input_free(&in);
	free(crlf);
	free(cr);
}

static void test_mbox_of_one(void **state)
{
	static const char from[] = "From MAILER-DAEMON Mon Jan  1 10:00:00 2024\n";
	char *mb = malloc(sizeof from + sizeof report);
	bw_input in;

	(void)state;
	assert_non_null(mb);
	memcpy(mb, from, sizeof from - 1);
	memcpy(mb + sizeof from - 1, report, sizeof report);
	in = parse_ok(mb, sizeof from - 1 + sizeof report - 1);
	assert_int_equal(in.kind, BW_INPUT_MBOX);
	check_report(&in);
	bw_input_free(&in);
	free(mb);
}

static void test_quoted_dsn_line(void **state)
{
	bw_input in = parse_ok(quoted, sizeof quoted - 1);
	const bw_message *m = &in.msgs[0];

	(void)state;
	assert_int_equal(in.nmsgs, 1);
	assert_int_equal(m->kind, BW_MSG_BOUNCE);
	assert_int_equal(m->nsegs, 1);
	assert_null(m->segs[0].recipient);
	assert_string_equal(m->segs[0].text,
			    "The original report said: Content-Type: message/delivery-status "
			    "and user@example.com was not delivered: 550 5.1.1 User unknown");
	bw_input_free(&in);
}

static void test_fields_after_trace(void **state)
{
	bw_input in = parse_ok(vacation, sizeof vacation - 1);

	(void)state;
	assert_int_equal(in.msgs[0].kind, BW_MSG_AUTOREPLY);
	assert_int_equal(in.msgs[0].nsegs, 1);
	assert_string_equal(in.msgs[0].segs[0].recipient, "colleague@example.com");
	assert_string_equal(in.msgs[0].segs[0].agent, "RFC3834");
	bw_input_free(&in);

	/* a header block with a line that is not a field is left whole */
	in = parse_ok(stray, sizeof stray - 1);
	assert_int_equal(in.msgs[0].kind, BW_MSG_BOUNCE);
	assert_int_equal(in.msgs[0].nsegs, 1);
	assert_string_equal(in.msgs[0].segs[0].recipient, "gone@example.com");
	assert_string_equal(in.msgs[0].segs[0].text, "Sorry, 550 5.1.1 user unknown");
	bw_input_free(&in);
}

static void test_leading_gt_from(void **state)
{
	bw_input in = parse_ok(gtfrom, sizeof gtfrom - 1);

	(void)state;
	assert_int_equal(in.kind, BW_INPUT_EMAIL);
	assert_int_equal(in.nmsgs, 1);
	assert_int_equal(in.msgs[0].kind, BW_MSG_BOUNCE);
	assert_string_equal(in.msgs[0].segs[0].recipient, "gone@example.com");
	assert_string_equal(in.msgs[0].segs[0].text, "550 5.1.1 user unknown");
	bw_input_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_returned_headers),
		cmocka_unit_test(test_crlf_and_cr),
		cmocka_unit_test(test_mbox_of_one),
		cmocka_unit_test(test_quoted_dsn_line),
		cmocka_unit_test(test_fields_after_trace),
		cmocka_unit_test(test_leading_gt_from),
	};

	return cmocka_run_group_tests_name("email_fast", tests, NULL, NULL);
}

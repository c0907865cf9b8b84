/*
 * test_email.c - the email reader (classifier/email.c) and the plain-text
 * splitter (classifier/textbounce.c).
 *
 * Small emails written for these tests: an RFC 3464 report and its fields,
 * several recipients, CR-only line endings, an mbox, tiny and broken inputs,
 * base64 with ISO-2022-JP, feedback reports, auto-replies, mail that is not
 * a bounce, and the per-recipient text of Postfix, Exim, qmail and Exchange
 * bounces without a DSN.
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

static const char dsn_mail[] =
	"Return-Path: <>\n"
	"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
	"To: sender@example.org\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status;\n"
	"\tboundary=\"BOUNDARY\"\n"
	"\n"
	"--BOUNDARY\n"
	"Content-Type: text/plain; charset=us-ascii\n"
	"\n"
	"This is the mail system at host mx.example.net.\n"
	"\n"
	"<user@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1 <user@example.com>:\n"
	"    Recipient address rejected: User unknown (in reply to RCPT TO command)\n"
	"\n"
	"--BOUNDARY\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; mx.example.net\n"
	"Arrival-Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
	"\n"
	"Final-Recipient: rfc822; user@example.com\n"
	"Original-Recipient: rfc822;user@example.com\n"
	"Action: failed\n"
	"Status: 5.1.1\n"
	"Remote-MTA: dns; mx.example.com\n"
	"Diagnostic-Code: smtp; 550 5.1.1 <user@example.com>: Recipient address\n"
	"    rejected: User unknown\n"
	"Last-Attempt-Date: Mon, 1 Jan 2024 10:00:01 +0000\n"
	"\n"
	"--BOUNDARY\n"
	"Content-Type: text/rfc822-headers\n"
	"\n"
	"From: Sender <sender@example.org>\n"
	"To: user@example.com\n"
	"Subject: Hello there\n"
	"Message-ID: <abc@example.org>\n"
	"Date: Mon, 1 Jan 2024 09:59:00 +0000\n"
	"\n"
	"--BOUNDARY--\n";

static const char multi_mail[] =
	"From: MAILER-DAEMON@mx.example.net\n"
	"Subject: Delivery Status Notification\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n"
	"\n"
	"--b1\n"
	"Content-Type: text/plain\n"
	"\n"
	"Some recipients failed.\n"
	"--b1\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; mx.example.net\n"
	"\n"
	"Final-Recipient: rfc822; one@example.com\n"
	"Action: failed\n"
	"Status: 5.2.2\n"
	"Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\n"
	"\n"
	"Final-Recipient: rfc822; two@example.com\n"
	"Action: delayed\n"
	"Status: 4.4.1\n"
	"Diagnostic-Code: smtp; 421 4.4.1 Connection timed out\n"
	"\n"
	"Final-Recipient: rfc822; three@example.com\n"
	"Action: delivered\n"
	"Status: 2.0.0\n"
	"\n"
	"--b1--\n";

static bw_input parse_ok(const char *data, size_t len)
{
	bw_input in = { 0 };
	bw_error err = { 0 };

	assert_int_equal(bw_email_parse(data, len, &in, &err), 0);
	return in;
}

static void test_dsn_fields(void **state)
{
	bw_input in = parse_ok(dsn_mail, sizeof dsn_mail - 1);
	bw_message *m;
	bw_segment *s;

	(void)state;
	assert_true(bw_email_detect(dsn_mail, sizeof dsn_mail - 1));
	assert_int_equal(in.kind, BW_INPUT_EMAIL);
	assert_int_equal(in.nmsgs, 1);
	m = &in.msgs[0];
	assert_int_equal(m->kind, BW_MSG_BOUNCE);
	assert_int_equal(m->nsegs, 1);
	s = &m->segs[0];
	assert_int_equal(s->kind, BW_SEG_FAILED);
	assert_string_equal(s->recipient, "user@example.com");
	assert_string_equal(s->status, "5.1.1");
	assert_int_equal(s->reply_code, 550);
	assert_string_equal(s->remote_mta, "mx.example.com");
	assert_string_equal(s->action, "failed");
	assert_string_equal(s->last_attempt, "Mon, 1 Jan 2024 10:00:01 +0000");
	/* the Diagnostic-Code without "smtp;", unfolded; the command it
	 * answered (Postfix says "Recipient address rejected" only at RCPT TO,
	 * and the human-readable part says so too) */
	assert_string_equal(s->text,
			    "550 5.1.1 <user@example.com>: Recipient address rejected: User unknown");
	assert_string_equal(s->command, "RCPT");
	assert_int_equal(s->len, strlen(s->text));
	assert_string_equal(m->orig_subject, "Hello there");
	assert_string_equal(m->orig_message_id, "<abc@example.org>");
	assert_string_equal(m->orig_to, "user@example.com");
	assert_non_null(m->orig_from);
	assert_non_null(strstr(m->orig_from, "sender@example.org"));
	bw_input_free(&in);
}

/* Sendmail copies only the first line of a multi-line reply into
 * Diagnostic-Code; the transcript in the notice has all of it */
static const char cut_mail[] =
	"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>\n"
	"Subject: Returned mail: see transcript for details\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"c1\"\n"
	"\n"
	"--c1\n"
	"\n"
	"   ----- The following addresses had permanent fatal errors -----\n"
	"<ann@example.com>\n"
	"    (reason: 550-5.7.1 [192.0.2.7] Our system has detected that this message is)\n"
	"\n"
	"   ----- Transcript of session follows -----\n"
	"... while talking to mx.example.com.:\n"
	">>> DATA\n"
	"<<< 550-5.7.1 [192.0.2.7] Our system has detected that this message is\n"
	"<<< 550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent,\n"
	"<<< 550 5.7.1 this message has been blocked.\n"
	"554 5.0.0 Service unavailable\n"
	"\n"
	"--c1\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; mx.example.org\n"
	"\n"
	"Final-Recipient: RFC822; ann@example.com\n"
	"Action: failed\n"
	"Status: 5.7.1\n"
	"Diagnostic-Code: SMTP; 550-5.7.1 [192.0.2.7] Our system has detected that this message is\n"
	"\n"
	"--c1--\n";

static void test_cut_diagnostic(void **state)
{
	bw_input in = parse_ok(cut_mail, sizeof cut_mail - 1);
	const bw_segment *s;

	(void)state;
	assert_int_equal(in.nmsgs, 1);
	assert_int_equal(in.msgs[0].nsegs, 1);
	s = &in.msgs[0].segs[0];
	assert_string_equal(s->recipient, "ann@example.com");
	/* the rest of the reply is read from the transcript */
	assert_non_null(strstr(s->text, "likely unsolicited mail"));
	assert_int_equal(s->reply_code, 550);
	assert_string_equal(s->status, "5.7.1");
	bw_input_free(&in);

	/* a whole multi-line reply in Diagnostic-Code is kept as it is */
	in = parse_ok(dsn_mail, sizeof dsn_mail - 1);
	assert_string_equal(in.msgs[0].segs[0].text,
			    "550 5.1.1 <user@example.com>: Recipient address rejected: User unknown");
	bw_input_free(&in);
}

/* blank lines of spaces and tabs pasted before the header */
static void test_leading_blank_lines(void **state)
{
	char buf[sizeof dsn_mail + 64];
	bw_input in;

	(void)state;
	snprintf(buf, sizeof buf, "\n    \n\t \r\n%s", dsn_mail);
	assert_true(bw_email_detect(buf, strlen(buf)));
	in = parse_ok(buf, strlen(buf));
	assert_int_equal(in.kind, BW_INPUT_EMAIL);
	assert_int_equal(in.nmsgs, 1);
	assert_int_equal(in.msgs[0].nsegs, 1);
	assert_string_equal(in.msgs[0].segs[0].recipient, "user@example.com");
	assert_string_equal(in.msgs[0].segs[0].status, "5.1.1");
	bw_input_free(&in);
	/* a line that starts with a space and has text is not blank */
	snprintf(buf, sizeof buf, "  hello\n%s", dsn_mail);
	assert_false(bw_email_detect(buf, strlen(buf)));
}

static void test_multi_recipient(void **state)
{
	bw_input in = parse_ok(multi_mail, sizeof multi_mail - 1);
	bw_message *m = &in.msgs[0];

	(void)state;
	assert_int_equal(m->kind, BW_MSG_BOUNCE);
	assert_int_equal(m->nsegs, 3);
	assert_string_equal(m->segs[0].recipient, "one@example.com");
	assert_int_equal(m->segs[0].kind, BW_SEG_FAILED);
	assert_int_equal(m->segs[0].reply_code, 552);
	assert_string_equal(m->segs[1].recipient, "two@example.com");
	assert_int_equal(m->segs[1].kind, BW_SEG_DELAYED);
	assert_string_equal(m->segs[1].status, "4.4.1");
	assert_string_equal(m->segs[2].recipient, "three@example.com");
	assert_int_equal(m->segs[2].kind, BW_SEG_DELIVERED);
	bw_input_free(&in);
}

/* Same findings whatever the line endings. */
static void same_segments(const bw_input *a, const bw_input *b)
{
	assert_int_equal(a->nmsgs, b->nmsgs);
	for (size_t i = 0; i < a->nmsgs; i++) {
		const bw_message *x = &a->msgs[i], *y = &b->msgs[i];

		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->nsegs, y->nsegs);
		for (size_t j = 0; j < x->nsegs; j++) {
			assert_string_equal(x->segs[j].text, y->segs[j].text);
			if (x->segs[j].recipient || y->segs[j].recipient)
				assert_string_equal(x->segs[j].recipient, y->segs[j].recipient);
			if (x->segs[j].status || y->segs[j].status)
				assert_string_equal(x->segs[j].status, y->segs[j].status);
			assert_int_equal(x->segs[j].reply_code, y->segs[j].reply_code);
		}
	}
}

static char *with_eol(const char *src, const char *eol)
{
	size_t n = strlen(src), el = strlen(eol), k = 0;
	char *out = malloc(n * el + 1);

	assert_non_null(out);
	for (size_t i = 0; i < n; i++) {
		if (src[i] == '\n') {
			memcpy(out + k, eol, el);
			k += el;
		} else {
			out[k++] = src[i];
		}
	}
	out[k] = '\0';
	return out;
}

static void test_cr_only_equals_lf(void **state)
{
	const char *srcs[] = { dsn_mail, multi_mail };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		char *cr = with_eol(srcs[i], "\r"), *crlf = with_eol(srcs[i], "\r\n");
		bw_input lf = parse_ok(srcs[i], strlen(srcs[i]));
		bw_input c = parse_ok(cr, strlen(cr));
		bw_input d = parse_ok(crlf, strlen(crlf));

		assert_true(bw_email_detect(cr, strlen(cr)));
		same_segments(&lf, &c);
		same_segments(&lf, &d);
		bw_input_free(&lf);
		bw_input_free(&c);
		bw_input_free(&d);
		free(cr);
		free(crlf);
	}
}

static const char mbox3[] =
	"From MAILER-DAEMON Mon Jan  1 10:00:00 2024\n"
	"From: MAILER-DAEMON@a.example\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"\n"
	"<a@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1 User unknown\n"
	"    (in reply to RCPT TO command)\n"
	"\n"
	"From MAILER-DAEMON Mon Jan  1 10:00:01 2024\n"
	"From: MAILER-DAEMON@b.example\n"
	"Subject: failure notice\n"
	"\n"
	"<b@example.com>:\n"
	"192.0.2.2 does not like recipient.\n"
	"Remote host said: 552 5.2.2 Mailbox full\n"
	"Giving up on 192.0.2.2.\n"
	"\n"
	"From MAILER-DAEMON Mon Jan  1 10:00:02 2024\n"
	"From: Mail Delivery System <Mailer-Daemon@c.example>\n"
	"Subject: Mail delivery failed: returning message to sender\n"
	"\n"
	"This message was created automatically by mail delivery software.\n"
	"\n"
	"A message that you sent could not be delivered to one or more of its\n"
	"recipients. This is a permanent error. The following address(es) failed:\n"
	"\n"
	"  c@example.com\n"
	"    host mx.example.com [192.0.2.3]\n"
	"    SMTP error from remote mail server after RCPT TO:<c@example.com>:\n"
	"    550-5.1.1 The email account that you tried to reach does not exist.\n"
	"    550 5.1.1 Please try double-checking the address.\n";

static void test_mbox_three(void **state)
{
	bw_input in = parse_ok(mbox3, sizeof mbox3 - 1);

	(void)state;
	assert_true(bw_email_detect(mbox3, sizeof mbox3 - 1));
	assert_int_equal(in.kind, BW_INPUT_MBOX);
	assert_int_equal(in.nmsgs, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(in.msgs[i].kind, BW_MSG_BOUNCE);
		assert_int_equal(in.msgs[i].nsegs, 1);
	}
	assert_string_equal(in.msgs[0].segs[0].recipient, "a@example.com");
	assert_non_null(strstr(in.msgs[0].segs[0].text, "550 5.1.1 User unknown"));
	assert_string_equal(in.msgs[0].segs[0].remote_mta, "mx.example.com");
	assert_string_equal(in.msgs[1].segs[0].recipient, "b@example.com");
	assert_non_null(strstr(in.msgs[1].segs[0].text, "552 5.2.2 Mailbox full"));
	assert_string_equal(in.msgs[2].segs[0].recipient, "c@example.com");
	/* the multi-line reply is joined, its repeated prefix dropped */
	assert_non_null(strstr(in.msgs[2].segs[0].text,
			       "550-5.1.1 The email account that you tried to reach does not exist. "
			       "Please try double-checking the address."));
	bw_input_free(&in);
}

static void test_tiny_inputs(void **state)
{
	const char *inputs[] = { "", " ", "22\n", "\n\n\n" };
	const size_t lens[] = { 0, 1, 3, 3 };

	(void)state;
	assert_false(bw_email_detect("From", 4));
	for (size_t i = 0; i < 4; i++) {
		bw_input in = { 0 };
		bw_error err = { 0 };
		bw_message msg = { 0 };

		assert_false(bw_email_detect(inputs[i], lens[i]));
		/* parsing anyway must not crash */
		(void)bw_email_parse(inputs[i], lens[i], &in, &err);
		bw_input_free(&in);
		assert_int_equal(bw_text_split(inputs[i], lens[i], &msg), 0);
		assert_int_equal(msg.nsegs, 0);
		free(msg.segs);
	}
	assert_int_equal(bw_email_parse("", 0, &(bw_input){ 0 }, NULL), -1);
}

static const char broken_mail[] =
	"From: MAILER-DAEMON@example.net\n"
	"Subject: Returned mail: see transcript for details\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"--missing-boundary\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Final-Recipient: rfc822; lost@example.com\n"
	"Status: 5.1.1\n"
	"Diagnostic-Code: smtp; 550 5.1.1 no such user\n";

static void test_broken_mime(void **state)
{
	bw_input in = { 0 };
	bw_error err = { 0 };
	/* a header that never ends and a truncated multipart */
	static const char cut[] =
		"From: MAILER-DAEMON@example.net\nContent-Type: multipart/mixed; boundary=\"x\"\n"
		"\n--x\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n"
		"<a@example.com>: 550 5.1.1 user=\n unknown=";

	(void)state;
	assert_int_equal(bw_email_parse(broken_mail, sizeof broken_mail - 1, &in, &err), 0);
	assert_int_equal(in.nmsgs, 1);
	assert_int_equal(in.msgs[0].kind, BW_MSG_BOUNCE);
	assert_true(in.msgs[0].nsegs >= 1);
	assert_non_null(in.msgs[0].segs[0].text);
	bw_input_free(&in);

	assert_int_equal(bw_email_parse(cut, sizeof cut - 1, &in, &err), 0);
	assert_int_equal(in.msgs[0].kind, BW_MSG_BOUNCE);
	assert_int_equal(in.msgs[0].nsegs, 1);
	assert_string_equal(in.msgs[0].segs[0].recipient, "a@example.com");
	bw_input_free(&in);
}

static const char jp_mail[] =
	"From: MAILER-DAEMON@example.jp\n"
	"Subject: =?ISO-2022-JP?B?GyRCJWEhPCVrJSglaSE8GyhC?=\n"
	"MIME-Version: 1.0\n"
	"Content-Type: text/plain; charset=ISO-2022-JP\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"PHVzZXJAZXhhbXBsZS5qcD46IBskQjA4QGgkTiVmITwlNiE8JCw4KyREJCskaiReJDskcxsoQiAoNTUwIDUuMS4xIHVzZXIgdW5rbm93bikK\n";

static void test_base64_iso2022jp(void **state)
{
	bw_input in = parse_ok(jp_mail, sizeof jp_mail - 1);
	bw_segment *s;

	(void)state;
	assert_int_equal(in.msgs[0].kind, BW_MSG_BOUNCE);
	assert_int_equal(in.msgs[0].nsegs, 1);
	s = &in.msgs[0].segs[0];
	assert_string_equal(s->recipient, "user@example.jp");
	/* 宛先のユーザーが見つかりません, now UTF-8 */
	assert_non_null(strstr(s->text,
			       "\xe5\xae\x9b\xe5\x85\x88\xe3\x81\xae\xe3\x83\xa6\xe3\x83\xbc\xe3\x82\xb6"
			       "\xe3\x83\xbc\xe3\x81\x8c\xe8\xa6\x8b\xe3\x81\xa4\xe3\x81\x8b\xe3\x82\x8a"
			       "\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93"));
	assert_non_null(strstr(s->text, "550 5.1.1 user unknown"));
	bw_input_free(&in);
}

static const char plain_mail[] =
	"From: Friend <friend@example.org>\n"
	"To: me@example.com\n"
	"Subject: Lunch tomorrow?\n"
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"\n"
	"Shall we meet at noon? The 550 bus stops right there.\n";

static void test_not_a_bounce(void **state)
{
	bw_input in = parse_ok(plain_mail, sizeof plain_mail - 1);

	(void)state;
	assert_int_equal(in.nmsgs, 1);
	assert_int_equal(in.msgs[0].kind, BW_MSG_NOT_BOUNCE);
	assert_int_equal(in.msgs[0].nsegs, 0);
	bw_input_free(&in);
}

static const char arf_mail[] =
	"From: feedback@fbl.example.net\n"
	"Subject: Abuse Report\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=feedback-report; boundary=\"f\"\n"
	"\n"
	"--f\n"
	"Content-Type: text/plain\n"
	"\n"
	"This is an email abuse report for a message received from IP 192.0.2.9.\n"
	"--f\n"
	"Content-Type: message/feedback-report\n"
	"\n"
	"Feedback-Type: abuse\n"
	"User-Agent: ExampleFBL/1.0\n"
	"Version: 1\n"
	"Source-IP: 192.0.2.9\n"
	"Original-Rcpt-To: a@example.com\n"
	"Original-Rcpt-To: b@example.com\n"
	"--f--\n";

static const char vacation_mail[] =
	"From: Colleague <colleague@example.com>\n"
	"To: me@example.org\n"
	"Subject: Out of office: Project\n"
	"Auto-Submitted: auto-replied\n"
	"\n"
	"I am away until Monday.\n";

static void test_feedback_and_autoreply(void **state)
{
	bw_input in = parse_ok(arf_mail, sizeof arf_mail - 1);

	(void)state;
	assert_int_equal(in.msgs[0].kind, BW_MSG_FEEDBACK);
	assert_int_equal(in.msgs[0].nsegs, 2);
	assert_int_equal(in.msgs[0].segs[0].kind, BW_SEG_FEEDBACK);
	assert_string_equal(in.msgs[0].segs[0].feedback_type, "abuse");
	assert_string_equal(in.msgs[0].segs[0].source_ip, "192.0.2.9");
	assert_string_equal(in.msgs[0].segs[1].recipient, "b@example.com");
	bw_input_free(&in);

	in = parse_ok(vacation_mail, sizeof vacation_mail - 1);
	assert_int_equal(in.msgs[0].kind, BW_MSG_AUTOREPLY);
	assert_int_equal(in.msgs[0].nsegs, 1);
	assert_int_equal(in.msgs[0].segs[0].kind, BW_SEG_VACATION);
	assert_string_equal(in.msgs[0].segs[0].recipient, "colleague@example.com");
	bw_input_free(&in);
}

/* The kind of the one message of an email written out here. */
static int kind_of(const char *mail)
{
	bw_input in = parse_ok(mail, strlen(mail));
	int k;

	assert_int_equal(in.nmsgs, 1);
	k = in.msgs[0].kind;
	bw_input_free(&in);
	return k;
}

static void test_autoreply_signs(void **state)
{
	(void)state;
	/* a subject in another language */
	assert_int_equal(kind_of("From: A <a@example.pl>\nTo: me@example.org\n"
				 "Subject: [Automatyczna =?iso-8859-2?Q?odpowied=BC?=] test\n"
				 "MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-2\n\n"
				 "Jestem na urlopie.\n"), BW_MSG_AUTOREPLY);
	/* from the null sender, "Precedence: bulk", and no bounce */
	assert_int_equal(kind_of("Return-Path: <>\nFrom: John <john@example.com>\n"
				 "To: me@example.org\nSubject: Thank you for your e-mail\n"
				 "Precedence: bulk\n\nI will reply as soon as possible.\n"),
			 BW_MSG_AUTOREPLY);
	assert_int_equal(kind_of("From: John <john@example.com>\nTo: me@example.org\n"
				 "Subject: Re: lunch\nPrecedence: auto_reply\n\nAway.\n"),
			 BW_MSG_AUTOREPLY);
	/* a list's mail is bulk too, but it has a sender */
	assert_int_equal(kind_of("Return-Path: <list-bounces@example.net>\n"
				 "From: Ann <ann@example.com>\nTo: list@example.net\n"
				 "Subject: Meeting notes\nPrecedence: bulk\n\nNotes attached.\n"),
			 BW_MSG_NOT_BOUNCE);
}

static const char verify_mail[] =
	"From: MAILER-DAEMON@mx.example.net\nSubject: Mail Delivery Status Report\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"v\"\n\n"
	"--v\nContent-Type: text/plain\n\nEnclosed is the mail delivery report.\n"
	"--v\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
	"Final-Recipient: rfc822; ann@example.com\nAction: deliverable\nStatus: 2.1.5\n"
	"Diagnostic-Code: smtp; 250 2.1.5 Ok\n--v--\n";

static void test_receipts(void **state)
{
	bw_input in;

	(void)state;
	/* a read receipt (RFC 8098) is no bounce */
	assert_int_equal(kind_of("From: Ann <ann@example.com>\nTo: me@example.org\n"
				 "Subject: Read: Hello\nMIME-Version: 1.0\n"
				 "Content-Type: multipart/report; report-type=disposition-notification; boundary=\"m\"\n\n"
				 "--m\nContent-Type: text/plain\n\nThe message was displayed.\n"
				 "--m\nContent-Type: message/disposition-notification\n\n"
				 "Final-Recipient: rfc822; ann@example.com\n"
				 "Disposition: manual-action/MDN-sent-manually; displayed\n--m--\n"),
			 BW_MSG_NOT_BOUNCE);
	/* Postfix's address verification report: "deliverable" */
	in = parse_ok(verify_mail, sizeof verify_mail - 1);
	assert_int_equal(in.msgs[0].nsegs, 1);
	assert_int_equal(in.msgs[0].segs[0].kind, BW_SEG_DELIVERED);
	bw_input_free(&in);
}

static const char lmtp_mail[] =
	"From: MAILER-DAEMON@mx.example.net\nSubject: Delivery failure\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"l\"\n\n"
	"--l\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
	"--l\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
	"Original-recipient: rfc822;ann@example.net\n"
	"Final-recipient: rfc822;@mx.example.net.lmtp:35065@lmtp-daemon\n"
	"Action: failed\nStatus: 5.2.2 (mailbox full)\n--l--\n";

static void test_original_recipient(void **state)
{
	bw_input in = parse_ok(lmtp_mail, sizeof lmtp_mail - 1);

	(void)state;
	assert_int_equal(in.msgs[0].nsegs, 1);
	/* the Final-Recipient is no address: the one the sender wrote */
	assert_string_equal(in.msgs[0].segs[0].recipient, "ann@example.net");
	bw_input_free(&in);
	/* a plain Final-Recipient stays */
	in = parse_ok(dsn_mail, sizeof dsn_mail - 1);
	assert_string_equal(in.msgs[0].segs[0].recipient, "user@example.com");
	bw_input_free(&in);
}

/* a person forwards the bounce as an attachment: the attached bounce is read */
static void test_attached_bounce(void **state)
{
	char buf[sizeof dsn_mail + 512];
	bw_input in;

	(void)state;
	snprintf(buf, sizeof buf,
		 "From: Ann <ann@example.org>\nTo: helpdesk@example.org\n"
		 "Subject: Fwd: why did this bounce?\nMIME-Version: 1.0\n"
		 "Content-Type: multipart/mixed; boundary=\"zz\"\n\n"
		 "--zz\nContent-Type: text/plain\n\nCan you help? See attached.\n\n"
		 "--zz\nContent-Type: message/rfc822\n\n%s\n--zz--\n", dsn_mail);
	in = parse_ok(buf, strlen(buf));
	assert_int_equal(in.msgs[0].kind, BW_MSG_BOUNCE);
	assert_int_equal(in.msgs[0].nsegs, 1);
	assert_string_equal(in.msgs[0].segs[0].recipient, "user@example.com");
	assert_string_equal(in.msgs[0].segs[0].status, "5.1.1");
	bw_input_free(&in);
}

static void split(const char *text, bw_message *m)
{
	memset(m, 0, sizeof *m);
	assert_true(bw_text_split(text, strlen(text), m) >= 0);
}

static void free_msg(bw_message *m)
{
	bw_input in = { 0 };
	bw_message *x = bw_input_add_message(&in);

	assert_non_null(x);
	*x = *m;
	bw_input_free(&in);
}

static void test_text_split(void **state)
{
	bw_message m;

	(void)state;
	/* Postfix, two recipients, then the returned message */
	split("This is the mail system at host mx.example.net.\n\n"
	      "<a@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1\n"
	      "    <a@example.com>: Recipient address rejected: User unknown (in reply to\n"
	      "    RCPT TO command)\n\n"
	      "<b@example.org>: host mx.example.org[192.0.2.2] said: 552 5.2.2 Mailbox full\n"
	      "    (in reply to RCPT TO command)\n\n"
	      "--- Below this line is a copy of the message.\n\n"
	      "Received: from x by y\nFrom: c@example.net\nTo: a@example.com, b@example.org\n", &m);
	assert_int_equal(m.nsegs, 2);
	assert_string_equal(m.segs[0].recipient, "a@example.com");
	assert_string_equal(m.segs[0].remote_mta, "mx.example.com");
	assert_non_null(strstr(m.segs[0].text, "Recipient address rejected: User unknown"));
	assert_null(strstr(m.segs[0].text, "Mailbox full"));
	assert_string_equal(m.segs[1].recipient, "b@example.org");
	assert_non_null(strstr(m.segs[1].text, "552 5.2.2 Mailbox full"));
	free_msg(&m);

	/* Exchange / Office 365 */
	split("Delivery has failed to these recipients or groups:\n\n"
	      "x@example.com (x@example.com)\n"
	      "The email address you entered couldn't be found.\n\n"
	      "Diagnostic information for administrators:\n\n"
	      "Generating server: mail.example.com\n\n"
	      "x@example.com\n"
	      "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'\n", &m);
	assert_int_equal(m.nsegs, 1);
	assert_string_equal(m.segs[0].recipient, "x@example.com");
	assert_non_null(strstr(m.segs[0].text, "550 5.1.1 RESOLVER.ADR.RecipNotFound"));
	free_msg(&m);

	/* a pasted line: one segment, all of it */
	split("550 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.example.org", &m);
	assert_int_equal(m.nsegs, 1);
	assert_null(m.segs[0].recipient);
	assert_string_equal(m.segs[0].text,
			    "550 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.example.org");
	free_msg(&m);

	/* a pasted DSN block */
	split("Final-Recipient: rfc822; d@example.com\nAction: failed\nStatus: 5.2.2\n"
	      "Diagnostic-Code: smtp; 552 5.2.2 Over quota\n", &m);
	assert_int_equal(m.nsegs, 1);
	assert_string_equal(m.segs[0].recipient, "d@example.com");
	assert_string_equal(m.segs[0].status, "5.2.2");
	assert_string_equal(m.segs[0].text, "552 5.2.2 Over quota");
	free_msg(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dsn_fields),
		cmocka_unit_test(test_multi_recipient),
		cmocka_unit_test(test_cut_diagnostic),
		cmocka_unit_test(test_leading_blank_lines),
		cmocka_unit_test(test_cr_only_equals_lf),
		cmocka_unit_test(test_mbox_three),
		cmocka_unit_test(test_tiny_inputs),
		cmocka_unit_test(test_broken_mime),
		cmocka_unit_test(test_base64_iso2022jp),
		cmocka_unit_test(test_not_a_bounce),
		cmocka_unit_test(test_feedback_and_autoreply),
		cmocka_unit_test(test_autoreply_signs),
		cmocka_unit_test(test_receipts),
		cmocka_unit_test(test_original_recipient),
		cmocka_unit_test(test_attached_bounce),
		cmocka_unit_test(test_text_split),
	};

	return cmocka_run_group_tests_name("email", tests, NULL, NULL);
}

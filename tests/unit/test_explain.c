/*
 * test_explain.c - the decisions of explain.c that depend on the SMTP
 * command a failure answered and on whether the report is final.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bouncewhy.h"
#include "kb_fixture.h"





/* The reason (and command) of the first finding of text. */
static void expect(const char *text, const char *reason, const char *command)
{
	bw_options o = {0};
	json_t *res = bw_explain(kb, text, strlen(text), &o, NULL);
	json_t *f = json_array_get(json_object_get(res, "findings"), 0);
	json_t *smtp = json_object_get(f, "smtp");

	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "reason")), reason);
	if (command)
		assert_string_equal(json_string_value(json_object_get(smtp, "command")), command);
	else
		assert_true(json_is_null(json_object_get(smtp, "command")));
	json_decref(res);
}

/* A Postfix-style bounce email for one recipient with this diagnostic. */
static void expect_mail(const char *subject, const char *action, const char *status,
			const char *diag, const char *reason)
{
	char buf[4096];

	snprintf(buf, sizeof buf,
		 "Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.net\nTo: s@example.org\n"
		 "Subject: %s\nMIME-Version: 1.0\n"
		 "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
		 "--B\nContent-Type: text/plain\n\nThis is the mail system at host mx.example.net.\n\n"
		 "<a@example.com>: %s\n\n"
		 "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
		 "Final-Recipient: rfc822; a@example.com\nAction: %s\nStatus: %s\n"
		 "Diagnostic-Code: X-Postfix; %s\n\n--B--\n",
		 subject, diag, action, status, diag);
	bw_options o = {0};
	json_t *res = bw_explain(kb, buf, strlen(buf), &o, NULL);
	json_t *f = json_array_get(json_object_get(res, "findings"), 0);

	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "reason")), reason);
	json_decref(res);
}

static void test_unknown_user_after_data(void **state)
{
	(void)state;
	/* accepted at RCPT TO, refused after the data: a filter speaking */
	expect("host mx.example.com[192.0.2.1] said: 550 Unknown user a@example.com"
	       " (in reply to end of DATA command)", "filtered", "DATA");
	expect("host mx.example.com[192.0.2.1] said: 550 5.1.1 Unknown user a@example.com"
	       " (in reply to RCPT TO command)", "userunknown", "RCPT");
	expect("550 5.1.1 Unknown user a@example.com", "userunknown", NULL);
}

/* The status of the first finding of a one-recipient report. */
static void expect_mail_status(const char *status, const char *diag, const char *want)
{
	char buf[4096];

	snprintf(buf, sizeof buf,
		 "Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.net\nTo: s@example.org\n"
		 "Subject: Undelivered Mail\nMIME-Version: 1.0\n"
		 "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
		 "--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
		 "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
		 "Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: %s\n"
		 "Diagnostic-Code: smtp; %s\n\n--B--\n", status, diag);
	bw_options o = {0};
	json_t *res = bw_explain(kb, buf, strlen(buf), &o, NULL);
	json_t *f = json_array_get(json_object_get(res, "findings"), 0);

	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(json_object_get(f, "smtp"), "status")),
			    want);
	json_decref(res);
}

static void test_vague_status_yields(void **state)
{
	(void)state;
	/* the report's "other" status gives way to the server's precise one */
	expect_mail_status("5.0.0", "550 5.2.2 <a@example.com>... Mailbox Full", "5.2.2");
	expect_mail_status("5.0.0 (Remote SMTP server has rejected address)",
			   "550 5.7.1 550 User Unknown: a@example.com", "5.7.1");
	expect_mail_status("5.1.0", "Unknown address error 5.2.2 <a@example.com>... Mailbox Full",
			   "5.2.2");
	/* a precise report status with nothing more precise in the text stays */
	expect_mail_status("5.1.1", "550 User unknown", "5.1.1");
	/* a code of another class is not taken */
	expect_mail_status("5.0.0", "421 4.2.2 Mailbox Full", "5.0.0");
}

static void test_connection_expiry(void **state)
{
	(void)state;
	/* a final report: the queue gave up reaching the server */
	expect_mail("Undelivered Mail Returned to Sender", "failed", "4.4.1",
		    "connect to mx.example.com[192.0.2.1]:25: Connection timed out", "expired");
	/* a delay warning: still being retried */
	expect_mail("Delayed Mail (still being retried)", "delayed", "4.4.1",
		    "connect to mx.example.com[192.0.2.1]:25: Connection timed out", "networkerror");
	/* pasted text alone does not say the queue gave up */
	expect("connect to mx.example.com[192.0.2.1]:25: Connection timed out", "networkerror", "CONN");
}

static void test_delay_without_cause(void **state)
{
	(void)state;
	/* a delay warning that names no cause: still queued, so on hold */
	expect_mail("Delayed Mail (still being retried)", "delayed", "4.0.0",
		    "retry time not reached", "onhold");
	/* the same words in a final failure say nothing of a cause either */
	expect_mail("Undelivered Mail Returned to Sender", "failed", "5.0.0",
		    "retry time not reached", "undefined");
}

static void test_reply_code_last(void **state)
{
	(void)state;
	/* a basic reply code decides only when no enhanced status says more */
	expect("552 Nope.", "mailboxfull", NULL);
	expect("552 5.0.0 Nope.", "mailboxfull", NULL);
	expect("552 5.7.0 Nope.", "undefined", NULL);
}

/* The reason of the first finding of an ARF report of this feedback type. */
static void expect_arf(const char *type, const char *reason)
{
	char buf[2048];

	snprintf(buf, sizeof buf,
		 "From: fbl@example.net\nTo: abuse@example.org\nSubject: Report\nMIME-Version: 1.0\n"
		 "Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\n\n"
		 "--F\nContent-Type: text/plain\n\nA report about a message from 192.0.2.9.\n"
		 "--F\nContent-Type: message/feedback-report\n\nFeedback-Type: %s\n"
		 "User-Agent: ExampleFBL/1.0\nVersion: 1\nSource-IP: 192.0.2.9\n"
		 "Original-Rcpt-To: a@example.com\n--F--\n", type);
	bw_options o = {0};
	json_t *res = bw_explain(kb, buf, strlen(buf), &o, NULL);
	json_t *f = json_array_get(json_object_get(res, "findings"), 0);

	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "reason")), reason);
	assert_string_equal(json_string_value(json_object_get(f, "feedback_type")), type);
	json_decref(res);
}

static void test_feedback_types(void **state)
{
	(void)state;
	/* a complaint is feedback; an authentication failure report (RFC 6591) is not */
	expect_arf("abuse", "feedback");
	expect_arf("auth-failure", "authfailure");
}

static void test_expiry_names_cause(void **state)
{
	(void)state;
	/* the queue gave up on a full mailbox: the cause says more */
	expect_mail("failure notice", "failed", "4.2.2",
		    "192.0.2.1 does not like recipient. Remote host said: 450 4.2.2 Mailbox Full."
		    " I'm not going to try again; this message has been in the queue too long.",
		    "mailboxfull");
	/* ... on connections that never succeeded: that is what expired means */
	expect_mail("failure notice", "failed", "4.4.7",
		    "554 4.4.7 Message expired: unable to deliver in 840 minutes."
		    "<421 4.4.2 Connection timed out>", "expired");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_user_after_data),
		cmocka_unit_test(test_vague_status_yields),
		cmocka_unit_test(test_connection_expiry),
		cmocka_unit_test(test_expiry_names_cause),
		cmocka_unit_test(test_delay_without_cause),
		cmocka_unit_test(test_reply_code_last),
		cmocka_unit_test(test_feedback_types),
	};

	return cmocka_run_group_tests_name("explain", tests, kb_fixture_load, kb_fixture_unload);
}

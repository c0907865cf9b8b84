/*
 * test_webhook.c - webhook.c: providers' JSON bounce notifications (Amazon
 * SES bare and in its SNS envelope, SendGrid, Mailgun, Postmark) become
 * segments with the provider's diagnostic text, and bw_explain classifies
 * them; JSON of other shapes, and text, are left alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bouncewhy.h"
#include "kb_fixture.h"
#include "segment.h"
#include "webhook.h"





static const char ses_bounce[] =
	"{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":\"Permanent\","
	"\"bounceSubType\":\"General\",\"bouncedRecipients\":[{\"emailAddress\":"
	"\"nobody@example.com\",\"action\":\"failed\",\"status\":\"5.1.1\","
	"\"diagnosticCode\":\"smtp; 550 5.1.1 <nobody@example.com>: Recipient address rejected: "
	"User unknown in virtual mailbox table\"}],\"timestamp\":\"2026-01-02T03:04:05.000Z\","
	"\"remoteMtaIp\":\"192.0.2.25\",\"reportingMTA\":\"dsn; a1-2.smtp-out.amazonses.com\"},"
	"\"mail\":{\"timestamp\":\"2026-01-02T03:04:00.000Z\",\"source\":\"shop@example.org\","
	"\"messageId\":\"0100-ses-id\",\"destination\":[\"nobody@example.com\"],"
	"\"commonHeaders\":{\"from\":[\"Shop <shop@example.org>\"],\"to\":[\"nobody@example.com\"],"
	"\"subject\":\"Your order\",\"messageId\":\"<order-1@example.org>\"}}}";

static void test_ses_bounce(void **state)
{
	bw_input in = {0};

	assert_int_equal(bw_webhook_parse(ses_bounce, strlen(ses_bounce), &in), 1);
	assert_int_equal(in.nmsgs, 1);
	assert_int_equal(in.msgs[0].kind, BW_MSG_BOUNCE);
	assert_string_equal(in.msgs[0].orig_subject, "Your order");
	assert_string_equal(in.msgs[0].orig_message_id, "<order-1@example.org>");
	bw_segment *s = &in.msgs[0].segs[0];
	assert_string_equal(s->agent, "Amazon SES");
	assert_string_equal(s->recipient, "nobody@example.com");
	assert_string_equal(s->status, "5.1.1");
	assert_int_equal(s->reply_code, 550);
	assert_string_equal(s->remote_mta, "192.0.2.25");
	/* the transport word "smtp;" is not part of the diagnosis */
	assert_true(strncmp(s->text, "550 5.1.1 <nobody@example.com>", 30) == 0);
	assert_int_equal(s->len, strlen(s->text));
	bw_input_free(&in);
}

/* The SNS envelope holds the notification as a JSON string. */
static void test_sns_envelope(void **state)
{
	json_t *env = json_pack("{s:s, s:s, s:s, s:s}", "Type", "Notification", "MessageId",
				"abc", "TopicArn", "arn:aws:sns:eu-west-1:123456789012:bounces",
				"Message", ses_bounce);
	char *txt = json_dumps(env, JSON_COMPACT);
	bw_input in = {0};

	assert_int_equal(bw_webhook_parse(txt, strlen(txt), &in), 1);
	assert_string_equal(in.msgs[0].segs[0].recipient, "nobody@example.com");
	bw_input_free(&in);
	free(txt);
	json_decref(env);
}

static json_t *explain(const char *s)
{
	bw_options o = {0};
	json_t *r = bw_explain(kb, s, strlen(s), &o, NULL);

	assert_non_null(r);
	return r;
}

static const char *fs(const json_t *res, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(res, "findings"), i), key));
}

static void test_ses_explained(void **state)
{
	json_t *r = explain(ses_bounce);

	assert_int_equal(json_array_size(json_object_get(r, "findings")), 1);
	assert_string_equal(fs(r, 0, "reason"), "userunknown");
	assert_string_equal(fs(r, 0, "agent"), "Amazon SES");
	assert_string_equal(fs(r, 0, "recipient"), "nobody@example.com");
	json_decref(r);
}

static void test_ses_suppressed(void **state)
{
	const char *s = "{\"notificationType\":\"Bounce\",\"mail\":{\"messageId\":\"x\"},"
			"\"bounce\":{\"bounceType\":\"Permanent\",\"bounceSubType\":\"OnAccountSuppressionList\","
			"\"bouncedRecipients\":[{\"emailAddress\":\"gone@example.com\"}]}}";
	json_t *r = explain(s);

	assert_string_equal(fs(r, 0, "reason"), "suppressed");
	json_decref(r);
}

static void test_ses_complaint(void **state)
{
	const char *s = "{\"notificationType\":\"Complaint\",\"mail\":{\"messageId\":\"x\"},"
			"\"complaint\":{\"complainedRecipients\":[{\"emailAddress\":\"a@example.com\"}],"
			"\"complaintFeedbackType\":\"abuse\"}}";
	json_t *r = explain(s);

	assert_string_equal(fs(r, 0, "reason"), "feedback");
	assert_string_equal(fs(r, 0, "feedback_type"), "abuse");
	json_decref(r);
}

static void test_sendgrid(void **state)
{
	const char *s =
		"[{\"email\":\"a@example.com\",\"timestamp\":1767225600,\"event\":\"processed\","
		"\"sg_event_id\":\"e1\"},"
		"{\"email\":\"full@example.com\",\"timestamp\":1767225601,\"smtp-id\":\"<m1@example.org>\","
		"\"event\":\"bounce\",\"type\":\"bounce\",\"status\":\"5.2.2\",\"sg_event_id\":\"e2\","
		"\"reason\":\"552 5.2.2 The email account that you tried to reach is over quota.\"},"
		"{\"email\":\"slow@example.net\",\"timestamp\":1767225602,\"event\":\"deferred\","
		"\"response\":\"451 4.7.1 Greylisted, please try again later\",\"attempt\":\"2\","
		"\"sg_event_id\":\"e3\"},"
		"{\"email\":\"old@example.com\",\"timestamp\":1767225603,\"event\":\"dropped\","
		"\"reason\":\"Bounced Address\",\"sg_event_id\":\"e4\"}]";
	bw_input in = {0};
	json_t *r;

	assert_int_equal(bw_webhook_parse(s, strlen(s), &in), 3);
	assert_int_equal(in.nmsgs, 3);
	assert_string_equal(in.msgs[0].segs[0].agent, "SendGrid");
	assert_string_equal(in.msgs[0].segs[0].status, "5.2.2");
	assert_int_equal(in.msgs[0].segs[0].reply_code, 552);
	assert_string_equal(in.msgs[0].orig_message_id, "<m1@example.org>");
	assert_int_equal(in.msgs[1].segs[0].kind, BW_SEG_DELAYED);
	bw_input_free(&in);

	r = explain(s);
	assert_int_equal(json_array_size(json_object_get(r, "findings")), 3);
	assert_string_equal(fs(r, 0, "reason"), "mailboxfull");
	assert_string_equal(fs(r, 0, "recipient"), "full@example.com");
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(r, "findings"), 1),
						 "temporary")));
	assert_string_equal(fs(r, 2, "reason"), "suppressed");
	json_decref(r);
}

static void test_mailgun(void **state)
{
	const char *s =
		"{\"signature\":{\"timestamp\":\"1767225600\",\"token\":\"t\",\"signature\":\"s\"},"
		"\"event-data\":{\"event\":\"failed\",\"severity\":\"permanent\",\"reason\":\"bounce\","
		"\"recipient\":\"nobody@example.com\",\"log-level\":\"error\","
		"\"delivery-status\":{\"code\":550,\"enhanced-code\":\"5.1.1\",\"attempt-no\":1,"
		"\"mx-host\":\"mx.example.com\",\"description\":\"\","
		"\"message\":\"5.1.1 The email account that you tried to reach does not exist.\"},"
		"\"message\":{\"headers\":{\"to\":\"nobody@example.com\",\"message-id\":\"m2@example.org\","
		"\"from\":\"shop@example.org\",\"subject\":\"Hello\"}}}}";
	bw_input in = {0};
	json_t *r;

	assert_int_equal(bw_webhook_parse(s, strlen(s), &in), 1);
	bw_segment *g = &in.msgs[0].segs[0];
	assert_string_equal(g->agent, "Mailgun");
	assert_int_equal(g->reply_code, 550);
	assert_string_equal(g->status, "5.1.1");
	assert_string_equal(g->remote_mta, "mx.example.com");
	assert_string_equal(in.msgs[0].orig_from, "shop@example.org");
	bw_input_free(&in);

	r = explain(s);
	assert_string_equal(fs(r, 0, "reason"), "userunknown");
	json_decref(r);
}

static void test_mailgun_temporary(void **state)
{
	const char *s =
		"{\"event-data\":{\"event\":\"failed\",\"severity\":\"temporary\",\"reason\":\"generic\","
		"\"recipient\":\"a@example.com\",\"delivery-status\":{\"code\":421,"
		"\"message\":\"421 4.7.0 Try again later, closing connection.\"}}}";
	json_t *r = explain(s);

	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(r, "findings"), 0),
						 "temporary")));
	json_decref(r);
}

static void test_postmark(void **state)
{
	const char *s =
		"{\"RecordType\":\"Bounce\",\"ID\":42,\"Type\":\"HardBounce\",\"TypeCode\":1,"
		"\"Name\":\"Hard bounce\",\"MessageID\":\"883953f4-6105-42a2-a16a-77a8eac79483\","
		"\"Description\":\"The server was unable to deliver your message (ex: unknown user, "
		"mailbox not found).\",\"Details\":\"smtp;552 5.2.2 Mailbox full: quota exceeded\","
		"\"Email\":\"full@example.com\",\"From\":\"shop@example.org\","
		"\"BouncedAt\":\"2026-01-02T03:04:05Z\",\"Inactive\":true,\"Subject\":\"Hi\"}";
	bw_input in = {0};
	json_t *r;

	assert_int_equal(bw_webhook_parse(s, strlen(s), &in), 1);
	bw_segment *g = &in.msgs[0].segs[0];
	assert_string_equal(g->agent, "Postmark");
	assert_string_equal(g->recipient, "full@example.com");
	/* Details, not Postmark's generic description of the type */
	assert_string_equal(g->text, "552 5.2.2 Mailbox full: quota exceeded");
	assert_string_equal(g->last_attempt, "2026-01-02T03:04:05Z");
	bw_input_free(&in);

	r = explain(s);
	assert_string_equal(fs(r, 0, "reason"), "mailboxfull");
	json_decref(r);
}

/* Other JSON, broken JSON and text are not notifications. */
static void test_not_webhooks(void **state)
{
	const char *no[] = {
		"{\"text\": \"550 5.1.1 User unknown\"}",
		"[1, 2, 3]",
		"{\"event\": \"open\", \"email\": \"a@example.com\", \"timestamp\": 1}",
		"[{\"email\":\"a@example.com\",\"timestamp\":1,\"event\":\"click\"}]",
		"{\"notificationType\": \"Bounce\"",
		"[192.0.2.1] blocked using zen.spamhaus.org",
		"550 5.1.1 User unknown",
		"",
	};
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		bw_input in = {0};
		assert_int_equal(bw_webhook_parse(no[i], strlen(no[i]), &in), 0);
		assert_int_equal(in.nmsgs, 0);
		assert_null(in.msgs);
	}
}

/* Bounds: a notification cut short is not one; no read past len. */
static void test_length_respected(void **state)
{
	bw_input in = {0};
	size_t n = strlen(ses_bounce);
	char *cut = malloc(n);

	memcpy(cut, ses_bounce, n);	/* no terminating NUL */
	assert_int_equal(bw_webhook_parse(cut, n, &in), 1);
	bw_input_free(&in);
	memset(&in, 0, sizeof in);
	assert_int_equal(bw_webhook_parse(cut, n - 1, &in), 0);
	free(cut);
}

/* A single-case call (opt.single) never reads JSON as a notification. */
static void test_single_is_text(void **state)
{
	bw_options o = {.single = 1};
	json_t *r = bw_explain(kb, ses_bounce, strlen(ses_bounce), &o, NULL);

	assert_non_null(r);
	assert_null(fs(r, 0, "agent"));
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ses_bounce),
		cmocka_unit_test(test_sns_envelope),
		cmocka_unit_test(test_ses_explained),
		cmocka_unit_test(test_ses_suppressed),
		cmocka_unit_test(test_ses_complaint),
		cmocka_unit_test(test_sendgrid),
		cmocka_unit_test(test_mailgun),
		cmocka_unit_test(test_mailgun_temporary),
		cmocka_unit_test(test_postmark),
		cmocka_unit_test(test_not_webhooks),
		cmocka_unit_test(test_length_respected),
		cmocka_unit_test(test_single_is_text),
	};
	return cmocka_run_group_tests(tests, kb_fixture_load, kb_fixture_unload);
}

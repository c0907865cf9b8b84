/*
 * test_classifier.c - libbouncewhy from the outside: loading, facts,
 * precedence, the four foundation messages, bounds and bad rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bouncewhy.h"
#include "kb_fixture.h"
#include "facts.h"





/* The first finding of text, as a new JSON object (or NULL). */
static json_t *first(const char *text)
{
	bw_options o = {0};
	json_t *res = bw_explain(kb, text, strlen(text), &o, NULL);
	json_t *f = json_incref(json_array_get(json_object_get(res, "findings"), 0));
	json_decref(res);
	return f;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void test_bad_reverse_dns(void **state)
{
	json_t *f = first("451 Bad reverse DNS.");
	assert_non_null(f);
	assert_string_equal(str(f, "reason"), "requireptr");
	assert_true(json_is_true(json_object_get(f, "temporary")));
	assert_string_equal(str(f, "action_by"), "sender_admin");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(f, "smtp"), "reply_code")), 451);
	json_decref(f);
}

static void test_barracuda(void **state)
{
	json_t *f = first("blocked using b.barracudacentral.org; "
			  "https://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1");
	json_t *bl;
	assert_non_null(f);
	assert_string_equal(str(f, "reason"), "blocked");
	assert_string_equal(str(f, "ip"), "192.0.2.1");
	bl = json_object_get(f, "blocklist");
	assert_string_equal(str(bl, "id"), "barracuda");
	assert_string_equal(str(bl, "delist_url"),
			    "https://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1");
	json_decref(f);
}

static void test_trend_micro(void **state)
{
	json_t *f = first("Mail from 192.0.2.1 deferred using Trend Micro Email Reputation "
			  "database. Please see https://www.mail-abuse.com/cgi-bin/lookup?192.0.2.1");
	assert_non_null(f);
	assert_string_equal(str(f, "reason"), "blocked");
	assert_true(json_is_true(json_object_get(f, "temporary")));
	assert_string_equal(str(f, "ip"), "192.0.2.1");
	assert_non_null(strstr(str(json_object_get(f, "blocklist"), "name"), "Trend Micro"));
	assert_non_null(strstr(str(json_object_get(f, "blocklist"), "lookup_url"), "192.0.2.1"));
	json_decref(f);
}

static void test_policy_matched(void **state)
{
	json_t *f = first("553 User defined policy matched for 192.0.2.1");
	assert_non_null(f);
	assert_string_equal(str(f, "reason"), "blocked");
	assert_false(json_is_true(json_object_get(f, "temporary")));
	assert_string_equal(str(f, "action_by"), "sender_admin");
	assert_string_equal(str(f, "ip"), "192.0.2.1");
	assert_non_null(strstr(str(json_object_get(f, "explanation"), "user"), "polic"));
	json_decref(f);
}

static void test_sender_refused_beats_status(void **state)
{
	/* 5.1.1 alone means user unknown; these words say the sender was refused */
	json_t *f = first("550 5.1.1 <sender@example.org>: Sender address rejected: "
			  "Domain not found");
	assert_non_null(f);
	assert_string_equal(str(f, "reason"), "rejected");
	json_decref(f);
	f = first("550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown");
	assert_string_equal(str(f, "reason"), "userunknown");
	assert_true(json_is_true(json_object_get(f, "hard_bounce")));
	assert_string_equal(str(f, "recipient"), "nobody@example.com");
	json_decref(f);
}

static void test_status_beats_reply(void **state)
{
	/* no rule words: the enhanced status decides, then the reply code */
	json_t *f = first("552 5.2.2 xyzzy");
	assert_string_equal(str(f, "reason"), "mailboxfull");
	assert_string_equal(str(json_object_get(f, "smtp"), "status"), "5.2.2");
	json_decref(f);
}

static void test_not_a_bounce(void **state)
{
	bw_options o = {0};
	json_t *res = bw_explain(kb, "hello, how are you?", 19, &o, NULL);
	assert_non_null(res);
	assert_int_equal(json_array_size(json_object_get(res, "findings")), 0);
	json_decref(res);
}

static void test_facts(void **state)
{
	bw_facts f;
	const char *t = "host mx.example.net[198.51.100.7] said: 550-5.7.1 Client host "
			"[192.0.2.44] blocked; see <user@example.com>";
	bw_facts_extract(t, strlen(t), &f);
	assert_int_equal(f.reply_code, 550);
	assert_string_equal(f.status, "5.7.1");
	assert_string_equal(f.remote_mta, "mx.example.net");
	assert_string_equal(f.remote_ip, "198.51.100.7");
	assert_string_equal(f.ip, "192.0.2.44");
	assert_string_equal(f.recipient, "user@example.com");

	t = "421 4.7.0 [IPv6:2001:db8::25] rate limited, try again later";
	bw_facts_extract(t, strlen(t), &f);
	assert_int_equal(f.reply_code, 421);
	assert_string_equal(f.ip, "2001:db8::25");
	assert_int_equal(f.says_retry, 1);

	/* version numbers, dates and IP parts are not codes */
	t = "Exim 4.96 at 12:30:45 on 2024-05-01 from 10.1.2.3";
	bw_facts_extract(t, strlen(t), &f);
	assert_int_equal(f.reply_code, 0);
	assert_string_equal(f.status, "");
	assert_string_equal(f.ip, "10.1.2.3");

	t = "MAIL FROM:<a@example.org> rejected";
	bw_facts_extract(t, strlen(t), &f);
	assert_string_equal(f.recipient, "");

	/* Yahoo's "550: <a@example.com>: User unknown" */
	t = "550: <a@example.com>: User unknown";
	bw_facts_extract(t, strlen(t), &f);
	assert_int_equal(f.reply_code, 550);
	t = "retried at 23:59: done";
	bw_facts_extract(t, strlen(t), &f);
	assert_int_equal(f.reply_code, 0);

	/* a telephone number's area code is no reply code */
	t = "Virus found. Call (408) 988-3832 for help.";
	bw_facts_extract(t, strlen(t), &f);
	assert_int_equal(f.reply_code, 0);
	t = "host said: (550) user unknown";
	bw_facts_extract(t, strlen(t), &f);
	assert_int_equal(f.reply_code, 550);

	/* a multi-line reply's codes before "[ip]" are no host name (Gmail's form) */
	t = "550-5.7.1 [192.0.2.1      19] Our system has detected that this message is";
	bw_facts_extract(t, strlen(t), &f);
	assert_string_equal(f.ip, "192.0.2.1");
	assert_string_equal(f.remote_mta, "");
}

/*
 * The IP scanner tests sixteen bytes at a time and looks a few bytes past
 * each block for the '.' or ':' an address needs: addresses that start
 * near a block's end, texts shorter than a block, numbers that are none.
 */
static void test_ip_scan_edges(void **state)
{
	static const struct {
		const char *text, *ip;
	} cases[] = {
		{"blocked from fe80::1 now", "fe80::1"},	/* its ':' in the next block */
		{"client addr abcd:ef01::2 rejected", "abcd:ef01::2"},
		{"from 10.0.0.1", "10.0.0.1"},			/* shorter than a block */
		{"refused by us, 192.0.2.9", "192.0.2.9"},	/* its '.' in the next block */
		{"version 1234.5.6.7 and 300.1.2.3 and 1.2.3.4.5", ""},
		{"7", ""},
		{"550 5.7.1 see 5.7.1 at 12:30", ""},
	};
	bw_facts f;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		bw_facts_extract(cases[i].text, strlen(cases[i].text), &f);
		assert_string_equal(f.ip, cases[i].ip);
	}
}

static void test_utf8_clean(void **state)
{
	size_t n;
	int changed;
	char *s = bw_utf8_clean("a\xff" "b\0c\xc3\xa9", 7, &n, &changed);
	assert_int_equal(changed, 1);
	assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xc3\xa9");
	free(s);
	s = bw_utf8_clean("\xed\xa0\x80", 3, &n, &changed);	/* a surrogate */
	assert_int_equal(changed, 1);
	free(s);
}

static void test_truncation(void **state)
{
	size_t n = 3u * 1024 * 1024;
	char *big = malloc(n);
	bw_options o = {0};
	json_t *res;

	memset(big, 'x', n);
	memcpy(big + 10, " 550 5.1.1 user unknown ", 24);
	res = bw_explain(kb, big, n, &o, NULL);
	assert_non_null(res);
	assert_true(json_is_true(json_object_get(json_object_get(res, "input"), "truncated")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "input"), "window")),
			 BW_MAX_INPUT_DEFAULT);
	json_decref(res);
	free(big);
}

/* Writes a rules folder with the real reasons and codes and one rule file. */
static char *bad_rules(const char *rules_json)
{
	static char dir[] = "/tmp/bw-rules-XXXXXX";
	char cmd[512], path[300];
	FILE *f;

	strcpy(dir, "/tmp/bw-rules-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof cmd, "cp %s/rules/reasons.json %s/rules/status-codes.json "
		 "%s/rules/blocklists.json %s/", BW_DATADIR, BW_DATADIR, BW_DATADIR, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof path, "%s/zz.json", dir);
	f = fopen(path, "w");
	fputs(rules_json, f);
	fclose(f);
	return dir;
}

static void rm_rules(const char *dir)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_bad_rule_names_file_and_id(void **state)
{
	bw_error err = {0};
	char *dir = bad_rules("{\"rules\": [{\"id\": \"broken-one\", \"reason\": \"blocked\", "
			      "\"patterns\": [\"(unclosed\"], \"examples\": [\"x\"]}]}");
	bw_kb *k = bw_kb_load(dir, NULL, &err);
	assert_null(k);
	assert_non_null(strstr(err.text, "zz.json"));
	assert_non_null(strstr(err.text, "broken-one"));
	rm_rules(dir);

	dir = bad_rules("{\"rules\": [{\"id\": \"no-such-reason\", \"reason\": \"nonsense\", "
			"\"patterns\": [\"x\"], \"examples\": [\"x\"]}]}");
	assert_null(bw_kb_load(dir, NULL, &err));
	assert_non_null(strstr(err.text, "no-such-reason"));
	rm_rules(dir);

	dir = bad_rules("{\"rules\": [ {\"id\": \"trailing\", }]}");
	assert_null(bw_kb_load(dir, NULL, &err));
	assert_non_null(strstr(err.text, "zz.json:1"));
	rm_rules(dir);
}

static void test_override_replaces_rule(void **state)
{
	bw_error err = {0};
	char path[] = "/tmp/bw-override-XXXXXX";
	int fd = mkstemp(path);
	const char *o = "{\"rules\": [{\"id\": \"local-shout\", \"reason\": \"spamdetected\", "
			"\"priority\": 100, \"patterns\": [\"LOCAL POLICY 42\"], "
			"\"examples\": [\"550 LOCAL POLICY 42\"]}]}";
	assert_true(write(fd, o, strlen(o)) == (ssize_t)strlen(o));
	close(fd);
	bw_kb *k = bw_kb_load(BW_DATADIR "/rules", path, &err);
	assert_non_null(k);
	json_t *res = bw_explain(k, "550 5.7.1 LOCAL POLICY 42", 25, NULL, NULL);
	json_t *f = json_array_get(json_object_get(res, "findings"), 0);
	assert_string_equal(str(f, "reason"), "spamdetected");
	json_decref(res);
	bw_kb_free(k);
	unlink(path);
}

/* Typographic quotes and no-break spaces read as the plain ones. */
static void test_typographic_quotes(void **state)
{
	json_t *plain = first("554 delivery error: dd This user doesn't have a yahoo.com account");
	json_t *curly = first("554\xc2\xa0" "delivery error: dd This user doesn\xe2\x80\x99t have a "
			      "yahoo.com account");
	assert_non_null(plain);
	assert_non_null(curly);
	assert_string_equal(str(curly, "reason"), str(plain, "reason"));
	assert_string_equal(str(json_object_get(curly, "matched"), "rule"),
			    str(json_object_get(plain, "matched"), "rule"));
	json_decref(plain);
	json_decref(curly);
}

/* "does not exist" in reply to MAIL FROM speaks of the sender's address. */
static void test_mail_from_refusal_is_the_sender(void **state)
{
	json_t *f = first("host mx.example.org[192.0.2.9] said: 553 5.1.0 example.com does not "
			  "exist (in reply to MAIL FROM command)");
	assert_string_equal(str(f, "reason"), "rejected");
	json_decref(f);
	f = first("host mx.example.org[192.0.2.9] said: 553 5.1.0 example.com does not "
		  "exist (in reply to RCPT TO command)");
	assert_string_equal(str(f, "reason"), "hostunknown");
	json_decref(f);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Pathological input: 1 MiB made of every rule example cut before its last
 * word (near-matches for every pattern, the heaviest included), classified
 * as one text. It must take well under a second; the time is reported.
 */
static void test_pathological_near_misses(void **state)
{
	size_t failed, n = 0, want = 1024 * 1024, i;
	json_t *all = bw_kb_check_examples(kb, &failed), *e;
	char *buf = malloc(want + 1);
	bw_options o = {.single = 1};
	double t0, t;

	assert_non_null(buf);
	while (n + 256 < want) {
		json_array_foreach(all, i, e) {
			const char *s = json_string_value(json_object_get(e, "example"));
			const char *cut = strrchr(s, ' ');
			size_t l = cut && cut > s ? (size_t)(cut - s) : strlen(s);
			if (n + l + 1 > want)
				break;
			memcpy(buf + n, s, l);
			n += l;
			buf[n++] = ' ';
		}
	}
	t0 = now_s();
	json_t *res = bw_explain(kb, buf, n, &o, NULL);
	t = now_s() - t0;
	printf("# pathological: %zu bytes of near-matches classified in %.1f ms\n", n, t * 1e3);
	assert_non_null(res);
	assert_true(t < 1.0);
	json_decref(res);
	json_decref(all);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_reverse_dns),
		cmocka_unit_test(test_barracuda),
		cmocka_unit_test(test_trend_micro),
		cmocka_unit_test(test_policy_matched),
		cmocka_unit_test(test_sender_refused_beats_status),
		cmocka_unit_test(test_status_beats_reply),
		cmocka_unit_test(test_not_a_bounce),
		cmocka_unit_test(test_facts),
		cmocka_unit_test(test_ip_scan_edges),
		cmocka_unit_test(test_utf8_clean),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_bad_rule_names_file_and_id),
		cmocka_unit_test(test_override_replaces_rule),
		cmocka_unit_test(test_pathological_near_misses),
		cmocka_unit_test(test_typographic_quotes),
		cmocka_unit_test(test_mail_from_refusal_is_the_sender),
	};
	return cmocka_run_group_tests(tests, kb_fixture_load, kb_fixture_unload);
}

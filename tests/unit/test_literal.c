/*
 * test_literal.c - the required literals of literal.c.
 *
 * The contract the matcher relies on: every match of a pattern holds a
 * string of the set bw_literals() returns, and a string of every set
 * bw_literal_sets() returns (ASCII letters in either case). Each case below
 * is a pattern and texts it matches; the test compiles the pattern as the
 * knowledge base does (caseless, UTF), finds every match in every text and
 * checks each set against the matched bytes. A few cases also pin down the
 * exact answer, and malformed or literal-less patterns must give 0 without
 * crashing.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcre2.h>

#include "literal.h"

#define MAX_TEXTS 6

typedef struct lit_case {
	const char *pattern;
	const char *texts[MAX_TEXTS];	/* each matches the pattern at least once */
	int subject_ok;		/* a literal may lie before the reported match (\K) */
} lit_case;

/*
 * Patterns like the rules' ones, and the constructs that could fool the
 * reader. The last group are misreadings found while writing this test:
 * they fail until literal.c reads those constructs (see the report).
 */
static const lit_case cases[] = {
	{"user unknown", {"550 User Unknown here", "USER UNKNOWN", "user unknown"}, 0},
	{"mailbox (full|unavailable)", {"Mailbox full", "mailbox UNAVAILABLE now"}, 0},
	{"relay (?:access )?denied", {"Relay access denied", "relay denied", "RELAY ACCESS DENIED"}, 0},
	{"quota{0,3}exceeded", {"quotexceeded", "quotaaaexceeded", "QUOTAEXCEEDED"}, 0},
	{"colou?r blind", {"color blind", "Colour Blind"}, 0},
	{"spam*ed", {"spaed", "spammmed", "SPAMED"}, 0},
	{"no+ such user", {"no such user", "nooo such user"}, 0},
	{"(?:ha){2}ppy days", {"hahappy days", "HAHAPPY DAYS"}, 0},
	{"x{2,}yz and more", {"xxyz and more", "xxxxxyz and more"}, 0},
	{"fo{1}bar", {"fobar", "FoBaR"}, 0},
	{"x*+yyy", {"yyy", "xxyyy"}, 0},
	{"a(?:b|)c done", {"abc done", "ac done"}, 0},
	{"(?:abc)+def", {"abcabcdef", "ABCDEF"}, 0},
	{"[0-9]{3} rejected", {"554 rejected", "550 REJECTED"}, 0},
	{"\\d\\.\\d\\.\\d blocked", {"5.7.1 blocked", "4.7.0 Blocked"}, 0},
	{"550[ -]5\\.1\\.1", {"550 5.1.1", "550-5.1.1"}, 0},
	{"spamhaus\\.org", {"zen.spamhaus.org", "SPAMHAUS.ORG"}, 0},
	{"[a-z]+@[a-z]+\\.com\\b", {"bob@example.com", "A@B.COM"}, 0},
	{"over\\s+quota", {"over quota", "over\t\tquota", "OVER  QUOTA"}, 0},
	{"\\bdenied\\b by policy", {"access denied by policy.", "DENIED BY POLICY"}, 0},
	{"tab\\there", {"tab\there"}, 0},
	{"\\x41BC\\x44", {"abcd", "ABCD"}, 0},
	{"\\Qa.b\\E long text", {"a.b long text"}, 0},
	{"(?#comment)mail(?#another)box", {"mailbox", "MAILBOX"}, 0},
	{"(?<=access )denied", {"access denied", "ACCESS DENIED"}, 0},
	{"denied(?= by policy)", {"denied by policy"}, 0},
	{"(?<!not )allowed here", {"is allowed here"}, 0},
	{"(?!spam)\\w+ filter", {"junk filter", "spam filter"}, 0},
	{"abc\\Kdef", {"abcdef", "ABCDEF"}, 1},
	{"(?i)Relay Denied", {"relay denied", "RELAY DENIED"}, 0},
	{"(?i:mailbox) full", {"MAILBOX full", "mailbox FULL"}, 0},
	{"(?-i)Mailbox full", {"Mailbox full"}, 0},
	{"(?s)start.end", {"start\nend", "startxend"}, 0},
	{"(?m)^line end$", {"first\nline end\nlast"}, 0},
	{"caf\xc3\xa9 bar", {"caf\xc3\xa9 bar", "CAF\xc3\x89 BAR"}, 0},
	{"l'adresse \xc3\xa9lectronique", {"L'ADRESSE \xc3\x89LECTRONIQUE", "l'adresse \xc3\xa9lectronique"}, 0},
	{"Gr\xc3\xb6\xc3\x9f" "e \xc3\xbc" "berschritten",
	 {"gr\xc3\xb6\xc3\x9f" "e \xc3\xbc" "berschritten", "GR\xc3\x96\xc3\x9f" "E \xc3\x9c" "BERSCHRITTEN"}, 0},
	{"\xd0\x96" "ivot mail", {"\xd0\xb6ivot mail", "\xd0\x96IVOT MAIL"}, 0},
	/* kana, CJK and Hangul have no case: they may join a run */
	{"\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x83\x9c\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9",
	 {"550 \xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x83\x9c\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9 full"}, 0},
	{"\xe7\x94\xa8\xe6\x88\xb7\xe4\xb8\x8d\xe5\xad\x98\xe5\x9c\xa8",
	 {"550 \xe7\x94\xa8\xe6\x88\xb7\xe4\xb8\x8d\xe5\xad\x98\xe5\x9c\xa8"}, 0},
	{"\xec\x82\xac\xec\x9a\xa9\xec\x9e\x90 \xec\x97\x86\xec\x9d\x8c",
	 {"\xec\x82\xac\xec\x9a\xa9\xec\x9e\x90 \xec\x97\x86\xec\x9d\x8c"}, 0},
	{"\xe6\x96\x87\xe5\xad\x97?\xe5\x88\x97", {"\xe6\x96\x87\xe5\x88\x97", "\xe6\x96\x87\xe5\xad\x97\xe5\x88\x97"}, 0},
	{"unknown (?:user|recipient|mailbox)", {"Unknown user", "unknown MAILBOX"}, 0},
	{"(?:user|recipient) (?:unknown|not found)", {"user unknown", "Recipient not found"}, 0},
	{"no such (?:user|mailbox|e-?mail address)", {"no such email address", "no such e-mail address", "No such user"}, 0},
	{"(?<name>host) (?:not|never) found", {"host not found", "HOST never FOUND"}, 0},
	{"(?:a|b|c)(?:d|e)", {"ad", "ce"}, 0},
	/* a run goes on through a group of whole strings or a small class */
	{"\\b(?:DYN|RLY|CON):[A-Z]{1,2}\\d\\b", {"CON:B1 blocked", "dyn:xy7", "Rly:A2"}, 0},
	{"\\bgr[ae]y[\\s-]?list(?:ed|ing)?\\b", {"greylisted", "Gray-listing", "GREY LIST"}, 0},
	{"\\b[45]\\.1\\.[78]\\b", {"5.1.7", "4.1.8 x"}, 0},
	{"x[.-]y[a-]z(?:ab|c)", {"x.yazab", "x-y-zc", "X.YAZC"}, 0},
	{"(?:a|bc)(?:d|ef)(?:g|hi) (?:on|off)", {"adg on", "BCEFHI OFF", "aefg off"}, 0},
	{"mail(?:box)? (?:is )?full", {"mail full", "mailbox is full"}, 0},
	{"(?:no|not a) (?:valid|known) user", {"not a known user", "no valid user"}, 0},
	{"^5\\d\\d\\s", {"550 x", "554 y"}, 0},
	{"a rather long literal, longer than sixty four bytes, which the reader has to split",
	 {"A RATHER LONG LITERAL, LONGER THAN SIXTY FOUR BYTES, WHICH THE READER HAS TO SPLIT"}, 0},
	{"blocked (?:using|by) (?:spamhaus|spamcop|barracuda)\\b",
	 {"blocked using Spamhaus", "Blocked by BARRACUDA"}, 0},
	/* top-level alternations: any branch alone is a match */
	{"mailbox full|quota exceeded", {"Mailbox full", "QUOTA EXCEEDED", "mailbox full, quota exceeded"}, 0},
	{"abcd|efgh", {"xx abcd yy", "EFGH"}, 0},
	{"(?:mailbox|inbox) is full|quota exceeded", {"inbox is full", "quota exceeded"}, 0},
	{"abcd|", {"xyz", "abcd"}, 0},
	{"a|\\d", {"5", "a"}, 0},			/* the empty branch matches anywhere */
	/* misreadings (fail until literal.c is fixed) */
	{"\\101bcde", {"Abcde"}, 0},			/* octal escape: not "01bcde" */
	{"\\pLabcd", {"xabcd"}, 0},			/* one-letter property: not "Labcd" */
	{"(?<n>ab)\\k<n>", {"abab"}, 0},		/* named back reference: not "<n>" */
	{"(a)\\g1xyz", {"aaxyz"}, 0},			/* \g1: not "1xyz" */
	{"(?<n>a|b)x(?P=n)", {"axa"}, 0},		/* not "=n" */
	{"(?<n>a|b)x(?&n)", {"axb"}, 0},		/* subroutine call: not "&n" */
	{"(*UCP)abc", {"abc"}, 0},			/* verb: not "*UCP" */
	{"(?(DEFINE)(?<w>abc))xyz", {"xyz"}, 0},	/* condition: not "DEFINE" */
	{"(?x)abc def", {"abcdef"}, 0},		/* extended mode: not "abc def" */
};

static int ascii_low(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Does hay (n bytes) hold s, ASCII letters in either case? Naive on purpose. */
static int holds(const char *hay, size_t n, const char *s)
{
	size_t m = strlen(s);

	for (size_t i = 0; i + m <= n; i++) {
		size_t k = 0;
		while (k < m && ascii_low((unsigned char)hay[i + k]) == ascii_low((unsigned char)s[k]))
			k++;
		if (k == m)
			return 1;
	}
	return 0;
}

static size_t shortest(const bw_litset *s)
{
	size_t m = (size_t)-1;

	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->s[i]) < m)
			m = strlen(s->s[i]);
	return s->n ? m : 0;
}

/* The shape every answer must have, malformed pattern or not. */
static void check_shape(const bw_litset *s)
{
	assert_true(s->n <= BW_LIT_MAX);
	for (size_t i = 0; i < s->n; i++) {
		assert_non_null(memchr(s->s[i], '\0', BW_LIT_LEN + 1));
		assert_true(strlen(s->s[i]) >= 1);
	}
}

static void print_set(const bw_litset *s)
{
	print_message("#   {");
	for (size_t i = 0; i < s->n; i++)
		print_message("%s\"%s\"", i ? ", " : "", s->s[i]);
	print_message("}\n");
}

/* Fails unless m (len bytes) holds a string of the set. */
static void check_set(const bw_litset *set, const char *what, const char *pattern,
		      const char *m, size_t len)
{
	for (size_t i = 0; i < set->n; i++)
		if (holds(m, len, set->s[i]))
			return;
	print_error("%s of /%s/ misses the match \"%.*s\":\n", what, pattern, (int)len, m);
	print_set(set);
	fail();
}

/* Every match of c->pattern in every text of c holds a string of every set. */
static void test_contract(void **state)
{
	const lit_case *c = *state;
	int err;
	PCRE2_SIZE eoff;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)c->pattern, PCRE2_ZERO_TERMINATED,
					 PCRE2_CASELESS | PCRE2_UTF, &err, &eoff, NULL);
	bw_litset one, sets1[BW_LIT_SETS], sets3[BW_LIT_SETS];
	size_t st = bw_literals(c->pattern, &one);
	size_t n1 = bw_literal_sets(c->pattern, 1, sets1);
	size_t n3 = bw_literal_sets(c->pattern, 3, sets3);

	assert_non_null(code);
	check_shape(&one);
	assert_int_equal(st, shortest(&one));
	assert_true(n1 <= BW_LIT_SETS && n3 <= BW_LIT_SETS);
	for (size_t k = 0; k < n1; k++) {
		check_shape(&sets1[k]);
		assert_true(shortest(&sets1[k]) >= 1);
	}
	for (size_t k = 0; k < n3; k++) {
		check_shape(&sets3[k]);
		assert_true(shortest(&sets3[k]) >= 3);
	}

	pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
	assert_non_null(md);
	for (size_t t = 0; t < MAX_TEXTS && c->texts[t]; t++) {
		const char *text = c->texts[t];
		size_t len = strlen(text), at = 0, nmatch = 0;
		while (at <= len) {
			int rc = pcre2_match(code, (PCRE2_SPTR)text, len, at, 0, md, NULL);
			if (rc < 0)
				break;
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
			size_t s = ov[0], e = ov[1] >= ov[0] ? ov[1] : ov[0];
			const char *m = c->subject_ok ? text : text + s;
			size_t mlen = c->subject_ok ? len : e - s;
			nmatch++;
			if (st > 0)
				check_set(&one, "bw_literals", c->pattern, m, mlen);
			for (size_t k = 0; k < n1; k++)
				check_set(&sets1[k], "bw_literal_sets(min 1)", c->pattern, m, mlen);
			for (size_t k = 0; k < n3; k++)
				check_set(&sets3[k], "bw_literal_sets(min 3)", c->pattern, m, mlen);
			at = e > at ? e : at + 1;
			while (at < len && ((unsigned char)text[at] & 0xC0) == 0x80)
				at++;	/* a UTF-8 continuation byte is no start */
		}
		if (nmatch == 0)
			print_error("the test's text \"%s\" does not match /%s/\n", text, c->pattern);
		assert_true(nmatch > 0);
	}
	pcre2_match_data_free(md);
	pcre2_code_free(code);
}

/* bw_literals(pattern) is exactly want ("|"-separated, any order). */
static void expect_literals(const char *pattern, const char *want, size_t strength)
{
	bw_litset s;
	char buf[512];
	size_t nwant = 0;

	assert_int_equal(bw_literals(pattern, &s), strength);
	snprintf(buf, sizeof buf, "%s", want);
	for (char *tok = strtok(buf, "|"); tok; tok = strtok(NULL, "|")) {
		size_t i = 0;
		while (i < s.n && strcmp(s.s[i], tok) != 0)
			i++;
		if (i == s.n) {
			print_error("/%s/: \"%s\" is not in\n", pattern, tok);
			print_set(&s);
		}
		assert_true(i < s.n);
		nwant++;
	}
	assert_int_equal(s.n, nwant);
}

static void test_exact_answers(void **state)
{
	(void)state;
	expect_literals("user unknown", "user unknown", 12);
	expect_literals("mailbox (full|unavailable)", "mailbox full|mailbox unavailable", 12);
	expect_literals("(?:mailbox|inbox) (?:full|unavailable)",
			"mailbox full|mailbox unavailable|inbox full|inbox unavailable", 10);
	expect_literals("\\b(?:DYN|RLY|CON):[A-Z]", "DYN:|RLY:|CON:", 4);
	expect_literals("x[ae]y", "xay|xey", 3);
	expect_literals("x[a-e]yz", "yz", 2);		/* a range is no small class */
	expect_literals("(?:ab|cd)?efg", "efg", 3);	/* optional: breaks the run */
	expect_literals("a.b\\.cde", "b.cde", 5);
	expect_literals("quota{0,3}exceeded", "exceeded", 8);
	expect_literals("no+ such", " such", 5);
	expect_literals("fo{1}bar", "fobar", 5);
	expect_literals("550[ -]5\\.1\\.1", "550 5.1.1|550-5.1.1", 9);
	expect_literals("ab\\scd\\bef", "cdef", 4);
	expect_literals("(?i)Relay denied", "Relay denied", 12);
	expect_literals("(?#c)mail(?#d)box", "mailbox", 7);
	expect_literals("mailbox full|quota exceeded", "mailbox full|quota exceeded", 12);
	/* é has case, so it ends a run; CJK has none and joins one */
	expect_literals("caf\xc3\xa9 bar", " bar", 4);
	expect_literals("\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", 9);
	expect_literals("\xe6\x96\x87\xe5\xad\x97?\xe5\x88\x97", "\xe6\x96\x87", 3);

	bw_litset sets[BW_LIT_SETS];
	assert_int_equal(bw_literal_sets("mailbox (full|unavailable)", 3, sets), 1);
	assert_int_equal(sets[0].n, 2);
	assert_int_equal(bw_literal_sets("mailbox (?:is )?(full|unavailable)", 3, sets), 2);
	assert_string_equal(sets[0].s[0], "mailbox ");
	assert_int_equal(sets[1].n, 2);
	assert_int_equal(bw_literal_sets("quota{0,3}exceeded", 3, sets), 2);
	assert_int_equal(bw_literal_sets("quota{0,3}exceeded", 5, sets), 1);
	assert_string_equal(sets[0].s[0], "exceeded");
}

/* No usable literal: 0, an empty set, no sets. */
static void test_no_literal(void **state)
{
	static const char *const pats[] = {
		"", "\\d+", ".*", "[a-z]+", "(?:abc)?", "x?y*z{0,2}", "\\w+\\s\\w+",
		"(?=abc)", "(?:mailbox|\\d)", "\\Qabc\\E", "(?:abc|)", "[abc]{3}",
		"\\bx{0}\\b", "(?i)", "^$",
	};
	(void)state;
	for (size_t i = 0; i < sizeof pats / sizeof *pats; i++) {
		bw_litset s, sets[BW_LIT_SETS];
		size_t st = bw_literals(pats[i], &s);
		if (st != 0)
			print_error("/%s/ gave %zu\n", pats[i], st);
		assert_int_equal(st, 0);
		size_t n = bw_literal_sets(pats[i], 1, sets);
		if (n != 0)
			print_error("/%s/ gave %zu sets\n", pats[i], n);
		assert_int_equal(n, 0);
	}
	/* 60 alternatives: more than a set holds */
	char big[1024] = "(?:";
	for (int i = 0; i < 60; i++)
		snprintf(big + strlen(big), sizeof big - strlen(big), "%sword%02d", i ? "|" : "", i);
	strcat(big, ")");
	bw_litset s;
	assert_int_equal(bw_literals(big, &s), 0);
	/* sets weaker than min are left out */
	bw_litset sets[BW_LIT_SETS];
	assert_int_equal(bw_literal_sets("ab\\dcd\\def", 4, sets), 0);
}

/* Malformed and pathological patterns: no crash, a well-formed answer. */
static void test_malformed(void **state)
{
	static const char *const pats[] = {
		"(abc", "abc)", "[abc", "[", "]", "\\", "abc\\", "(?", "(?<", "(?<name", "(?P<",
		"(?'", "a{2", "a{", "{2}", "*abc", "+", "(?#unterminated", "\\Qabc", "\\x{41",
		"\\p{L", "(?i", "(?:", "((((", "))))", "(*", "[[:alpha:", "[]", "[^]", "a{99999999999}b",
		"(?(", "\\c", "\\k<", "\\g{", "(?<=", "(?!", "\xff\xfe", "\xe4\xb8", "abc\xe4",
	};
	(void)state;
	for (size_t i = 0; i < sizeof pats / sizeof *pats; i++) {
		bw_litset s, sets[BW_LIT_SETS];
		bw_literals(pats[i], &s);
		check_shape(&s);
		size_t n = bw_literal_sets(pats[i], 1, sets);
		assert_true(n <= BW_LIT_SETS);
		for (size_t k = 0; k < n; k++)
			check_shape(&sets[k]);
	}
	bw_litset s;
	assert_int_equal(bw_literals("abc)", &s), 0);

	/* deep nesting and a long pattern */
	size_t depth = 5000;
	char *p = malloc(depth * 2 + 8);
	assert_non_null(p);
	memset(p, '(', depth);
	memcpy(p + depth, "abc", 3);
	memset(p + depth + 3, ')', depth);
	p[depth * 2 + 3] = '\0';
	bw_literals(p, &s);
	check_shape(&s);
	bw_litset sets[BW_LIT_SETS];
	bw_literal_sets(p, 1, sets);
	for (size_t i = 0; i < depth * 2 + 3; i++)
		p[i] = "ab|(x)?\\.[]{3}"[i % 14];
	bw_literals(p, &s);
	check_shape(&s);
	free(p);
}

int main(void)
{
	size_t nc = sizeof cases / sizeof *cases;
	struct CMUnitTest *tests = calloc(nc + 3, sizeof *tests);
	char (*names)[96] = calloc(nc, sizeof *names);
	int rc;

	if (tests == NULL || names == NULL)
		return 1;
	for (size_t i = 0; i < nc; i++) {
		snprintf(names[i], sizeof names[i], "contract /%s/", cases[i].pattern);
		tests[i] = (struct CMUnitTest){names[i], test_contract, NULL, NULL, (void *)&cases[i]};
	}
	tests[nc] = (struct CMUnitTest){"exact answers", test_exact_answers, NULL, NULL, NULL};
	tests[nc + 1] = (struct CMUnitTest){"no literal gives 0", test_no_literal, NULL, NULL, NULL};
	tests[nc + 2] = (struct CMUnitTest){"malformed patterns", test_malformed, NULL, NULL, NULL};
	rc = _cmocka_run_group_tests("literal", tests, nc + 3, NULL, NULL);
	free(tests);
	free(names);
	return rc;
}

/*
 * literal.c - required literals of a PCRE2 pattern (see literal.h).
 *
 * A small recursive-descent reader of the pattern syntax the rules use.
 * For each sequence it collects the runs of literal characters and the
 * literal sets of its groups, and keeps the strongest one (the longest
 * shortest string). An alternation's set is the union of its branches'
 * sets, and exists only when every branch has one. Anything it does not
 * understand breaks a run, which only ever makes the answer weaker, never
 * wrong: a run is only ever made of characters every match must contain,
 * in that order, with nothing between them.
 *
 * A run may go on through a group that matches one of a few whole strings
 * ("(?:DYN|CON):" gives "dyn:", "con:") or a class of a few characters
 * ("gr[ae]y" gives "gray", "grey"): it becomes a set of runs, one per
 * choice, which is rarer in texts than the shorter pieces.
 */
#include <ctype.h>
#include <string.h>

#include "literal.h"

typedef struct reader {
	const char *p;
	/* at the top level, every factor is kept here too (bw_literal_sets) */
	bw_litset *keep;
	size_t nkeep, min;
	int top_alt;	/* the pattern is an alternation at its top level */
	int bad;	/* a construct we do not read (backreference, recursion,
			 * condition, verb, extended mode): no literals at all */
} reader;

static size_t strength(const bw_litset *s)
{
	size_t m = (size_t)-1;

	if (s->n == 0)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		size_t l = strlen(s->s[i]);
		if (l < m)
			m = l;
	}
	return m;
}

/* Keeps cand in *best when it is stronger (longer shortest string; then fewer strings). */
static void consider(bw_litset *best, const bw_litset *cand)
{
	size_t a = strength(cand), b = strength(best);

	if (a == 0)
		return;
	if (a > b || (a == b && cand->n < best->n))
		*best = *cand;
}

/* Remembers a factor of the top-level sequence, keeping the strongest few. */
static void keep(reader *r, const bw_litset *f, int depth)
{
	size_t st = strength(f), weakest = 0;

	if (r->keep == NULL || depth != 0 || st < r->min || st == 0)
		return;
	if (r->nkeep < BW_LIT_SETS) {
		r->keep[r->nkeep++] = *f;
		return;
	}
	for (size_t i = 1; i < r->nkeep; i++)
		if (strength(&r->keep[i]) < strength(&r->keep[weakest]))
			weakest = i;
	if (strength(&r->keep[weakest]) < st)
		r->keep[weakest] = *f;
}

/*
 * The runs being read: n strings of which a match holds one right here
 * (n 1: a plain run), all of them long rl bytes or more.
 */
typedef struct runs {
	bw_litset set;
	size_t rl;		/* the shortest; 0: no run */
} runs;

static void runs_reset(runs *u)
{
	u->set.n = 1;
	u->set.s[0][0] = '\0';
	u->rl = 0;
}

static void run_flush(reader *r, bw_litset *best, runs *u, int depth)
{
	if (u->rl > 0) {
		consider(best, &u->set);
		keep(r, &u->set, depth);
	}
	runs_reset(u);
}

/*
 * Appends the n bytes at c to every run; when they would grow too long, they
 * are flushed first (and *broken set: the sequence is no longer one run).
 */
static void run_add(reader *r, bw_litset *best, runs *u, const char *c, size_t n, int depth,
		    int *broken)
{
	size_t longest = 0;

	for (size_t i = 0; i < u->set.n; i++) {
		size_t l = strlen(u->set.s[i]);
		if (l > longest)
			longest = l;
	}
	if (longest + n > BW_LIT_LEN) {
		run_flush(r, best, u, depth);
		*broken = 1;
	}
	for (size_t i = 0; i < u->set.n; i++)
		strncat(u->set.s[i], c, n);
	u->rl += n;
}

/*
 * Goes on with every run followed by every string of g (a group or class
 * matching exactly one of g's strings). Returns 0 when there would be too
 * many or too long strings: the caller then breaks the run.
 */
static int run_times(runs *u, const bw_litset *g)
{
	bw_litset prod;
	size_t shortest = (size_t)-1;

	if (g->n == 0 || u->set.n * g->n > BW_LIT_MAX)
		return 0;
	prod.n = 0;
	for (size_t i = 0; i < u->set.n; i++) {
		for (size_t j = 0; j < g->n; j++) {
			size_t a = strlen(u->set.s[i]), b = strlen(g->s[j]);
			if (a + b > BW_LIT_LEN)
				return 0;
			memcpy(prod.s[prod.n], u->set.s[i], a);
			memcpy(prod.s[prod.n] + a, g->s[j], b + 1);
			if (a + b < shortest)
				shortest = a + b;
			prod.n++;
		}
	}
	u->set = prod;
	u->rl = shortest;
	return 1;
}

/* Reads a quantifier at r->p if any: *min gets its lower bound, *many
 * whether it allows more than one. Returns 1 when one was read. */
static int quantifier(reader *r, unsigned long *min, int *many)
{
	const char *p = r->p;

	if (*p == '?' || *p == '*' || *p == '+') {
		*min = *p == '+';
		*many = *p != '?';
		p++;
	} else if (*p == '{') {
		unsigned long lo = 0, hi = 0;
		int d = 0, comma = 0, hd = 0;
		const char *q = p + 1;
		while (isdigit((unsigned char)*q) && d < 9)
			lo = lo * 10 + (unsigned long)(*q++ - '0'), d++;
		if (d && *q == ',') {
			comma = 1;
			q++;
			while (isdigit((unsigned char)*q) && hd < 9)
				hi = hi * 10 + (unsigned long)(*q++ - '0'), hd++;
		}
		if (!d || *q != '}')
			return 0;	/* a literal '{' */
		*min = lo;
		*many = comma ? (hd == 0 || hi > 1) : lo > 1;
		p = q + 1;
	} else {
		return 0;
	}
	if (*p == '?' || *p == '+')
		p++;	/* lazy or possessive: the same strings */
	r->p = p;
	return 1;
}

static int alternation(reader *r, bw_litset *out, int depth, int *exact);

static int quantifier_follows(const char *p)
{
	return *p == '?' || *p == '*' || *p == '+' || (*p == '{' && p[1] >= '0' && p[1] <= '9');
}

/*
 * A class of a few plain characters at r->p ('[' first), as the strings of
 * one character each ("[ae]", "[45]", "[.-]"); 0 when it is anything
 * else: negated, a range, an escape other than a quoted punctuation mark,
 * a POSIX class, a non-ASCII byte, more than four characters.
 */
static int class_set(const char *p, bw_litset *out)
{
	out->n = 0;
	p++;
	if (*p == '^' || *p == ']')
		return 0;
	while (*p && *p != ']') {
		char c = *p;
		if (c == '\\') {
			c = p[1];
			if (c == '\0' || isalnum((unsigned char)c) || (unsigned char)c >= 0x80)
				return 0;
			p += 2;
		} else {
			if (c == '[' || (unsigned char)c >= 0x80 || (c == '-' && p[1] != ']' && out->n))
				return 0;
			p++;
		}
		if (out->n == 4)
			return 0;
		out->s[out->n][0] = c;
		out->s[out->n][1] = '\0';
		out->n++;
	}
	return *p == ']' && out->n > 0;
}

/* Skips a character class starting at '['. */
static void skip_class(reader *r)
{
	const char *p = r->p + 1;

	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (*p == '\\' && p[1])
			p += 2;
		else if (*p == '[' && p[1] == ':') {
			const char *e = strstr(p + 2, ":]");
			p = e ? e + 2 : p + 1;
		} else
			p++;
	}
	r->p = *p ? p + 1 : p;
}

/*
 * One branch: a sequence of atoms up to '|' or ')' or the end. *exact gets
 * 1 when the branch matches exactly one of the strings of *best (nothing
 * but literal characters, exact groups and zero-width assertions).
 */
static void sequence(reader *r, bw_litset *best, int depth, int *exact)
{
	runs run;
	int broken = 0;

	runs_reset(&run);
	best->n = 0;
	while (*r->p && *r->p != '|' && *r->p != ')') {
		const char *p = r->p;
		int lit = -1;		/* the literal character of this atom, if any */
		int zero_width = 0;
		bw_litset group = {0};
		int is_group = 0, group_exact = 0;
		unsigned long min = 1;
		int many = 0;

		if (*p == '\\') {
			char c = p[1];
			if (c == '\0') {
				r->p = p + 1;
				break;
			}
			if (strchr("bBAzZG", c)) {
				zero_width = 1;
				r->p = p + 2;
			} else if (c == 'Q') {
				const char *e = strstr(p + 2, "\\E");
				r->p = e ? e + 2 : p + strlen(p);
			} else if ((c == 'x' || c == 'p' || c == 'P' || c == 'g' || c == 'k' ||
				    c == 'o' || c == 'N') && p[2] == '{') {
				const char *e = strchr(p + 2, '}');
				r->p = e ? e + 1 : p + strlen(p);
			} else if (c == 'x') {
				r->p = p + 2;
				while (isxdigit((unsigned char)*r->p) && r->p < p + 4)
					r->p++;
			} else if (c == 'c' && p[2]) {
				r->p = p + 3;
			} else if ((c == 'p' || c == 'P') && p[2]) {
				r->p = p + 3;	/* a one-letter property: a class */
			} else if (isdigit((unsigned char)c) || c == 'g' || c == 'k') {
				r->bad = 1;	/* backreference or octal: not read */
				r->p = p + 2;
			} else if (isalnum((unsigned char)c)) {
				r->p = p + 2;	/* a class or a control: breaks */
			} else if ((unsigned char)c >= 0x80) {
				r->p = p + 2;
				while (((unsigned char)*r->p & 0xC0) == 0x80)
					r->p++;
			} else {
				lit = c;
				r->p = p + 2;
			}
		} else if (*p == '[') {
			/* only ever a part of a run: one character is too weak alone */
			if (class_set(p, &group)) {
				is_group = 3;
				group_exact = 1;
			}
			skip_class(r);
		} else if (*p == '(') {
			r->p = p + 1;
			if (*r->p == '*')
				r->bad = 1;	/* a verb such as (*UCP) */
			if (*r->p == '?') {
				const char *q = r->p + 1;
				/* recursion, subroutine calls, named backreferences and
				 * conditions are not read */
				if ((*q == 'P' && (q[1] == '=' || q[1] == '>')) || *q == '&' || *q == 'R' ||
				    *q == '(' || isdigit((unsigned char)*q) ||
				    ((*q == '+' || *q == '-') && isdigit((unsigned char)q[1])))
					r->bad = 1;
				if (*q == '#') {
					const char *e = strchr(q, ')');
					r->p = e ? e + 1 : q + strlen(q);
					continue;
				}
				if (*q == '=' || *q == '!' || (*q == '<' && (q[1] == '=' || q[1] == '!'))) {
					/* a lookaround: zero width, and it tells us nothing sure */
					bw_litset ignore;
					int ig;
					r->p = q + (*q == '<' ? 2 : 1);
					alternation(r, &ignore, depth + 1, &ig);
					if (*r->p == ')')
						r->p++;
					zero_width = 1;
					run_flush(r, best, &run, depth);
					broken = 1;
					goto quant;
				}
				if (*q == ':' || *q == '>' || *q == '|') {
					r->p = q + 1;
				} else if (*q == '<' || *q == '\'' || (*q == 'P' && q[1] == '<')) {
					const char *e = strchr(q, *q == '\'' ? '\'' : '>');
					if (*q == '\'')
						e = strchr(q + 1, '\'');
					r->p = e ? e + 1 : q + strlen(q);
				} else {
					/* inline options: (?i) alone, or (?i:...); in extended
					 * mode (x) spaces are not literal: not read */
					while (*q && (isalpha((unsigned char)*q) || *q == '-' || *q == '^')) {
						if (*q == 'x')
							r->bad = 1;
						q++;
					}
					if (*q == ')') {
						r->p = q + 1;
						continue;
					}
					r->p = *q == ':' ? q + 1 : q;
				}
			}
			is_group = alternation(r, &group, depth + 1, &group_exact) == 0 ? 2 : 1;
			if (*r->p == ')')
				r->p++;
		} else if (*p == '.') {
			r->p = p + 1;
		} else if (*p == '^' || *p == '$') {
			zero_width = 1;
			r->p = p + 1;
		} else if ((unsigned char)*p >= 0x80) {
			/* CJK and kana have no case: their bytes may join a run; a
			 * letter with case (é, Ä, Ж) breaks it, since the prefilter's
			 * caseless matching knows ASCII only. */
			unsigned char c0 = (unsigned char)p[0];
			/* U+3000-U+9FFF (kana, CJK) and U+B000-U+D7FF (Hangul) */
			int nocase = (c0 >= 0xE3 && c0 <= 0xE9) || (c0 >= 0xEB && c0 <= 0xED);
			size_t n = 1;
			while (((unsigned char)p[n] & 0xC0) == 0x80)
				n++;
			r->p = p + n;
			if (nocase && n == 3 && !quantifier_follows(r->p)) {
				run_add(r, best, &run, p, n, depth, &broken);
				continue;
			}
		} else if (*p == ' ' || *p == '#') {
			lit = *p;
			r->p = p + 1;
		} else {
			lit = *p;
			r->p = p + 1;
		}
quant:
		if (quantifier(r, &min, &many)) {
			if (zero_width)
				continue;
		}
		if (zero_width)
			continue;
		if (lit >= 0 && min >= 1 && lit > 0 && (unsigned char)lit < 0x80) {
			char c = (char)lit;
			run_add(r, best, &run, &c, 1, depth, &broken);
			if (many) {
				run_flush(r, best, &run, depth);
				broken = 1;
			}
			continue;
		}
		/* a group or class matching one of a few strings, once: the runs go on */
		if (is_group >= 2 && group_exact && min == 1 && !many && run_times(&run, &group))
			continue;
		run_flush(r, best, &run, depth);
		broken = 1;
		if (is_group == 2 && min >= 1) {
			consider(best, &group);
			keep(r, &group, depth);
		}
	}
	/* an exact branch: its whole set, even when a part alone was stronger */
	*exact = !broken && run.rl > 0;
	if (*exact) {
		*best = run.set;
		keep(r, &run.set, depth);
	} else {
		run_flush(r, best, &run, depth);
	}
}

/*
 * Alternatives up to ')' or the end. Returns 0, or -1 when too deep.
 * *exact: every branch matches exactly one of its strings (so the group
 * matches exactly one of *out's).
 */
static int alternation(reader *r, bw_litset *out, int depth, int *exact)
{
	int all = 1;

	out->n = 0;
	*exact = 1;
	if (depth > 50)
		return -1;
	for (;;) {
		bw_litset b;
		int ex;
		sequence(r, &b, depth, &ex);
		*exact &= ex;
		if (b.n == 0 || out->n + b.n > BW_LIT_MAX)
			all = 0;
		else if (all) {
			for (size_t i = 0; i < b.n; i++)
				strcpy(out->s[out->n++], b.s[i]);
		}
		if (*r->p != '|')
			break;
		if (depth == 0)
			r->top_alt = 1;
		r->p++;
	}
	if (!all) {
		out->n = 0;
		*exact = 0;
	}
	return 0;
}

size_t bw_literal_sets(const char *pattern, size_t min, bw_litset out[BW_LIT_SETS])
{
	reader r = {pattern, out, 0, min, 0, 0};
	bw_litset best;
	int exact;

	if (alternation(&r, &best, 0, &exact) < 0 || *r.p != '\0' || r.bad)
		return 0;
	if (r.top_alt || r.nkeep == 0) {
		/* a top-level alternation: the factors kept belong to single
		 * branches; only the union of all branches is required */
		if (strength(&best) < min || best.n == 0)
			return 0;
		out[0] = best;
		return 1;
	}
	return r.nkeep;
}

size_t bw_literals(const char *pattern, bw_litset *out)
{
	reader r = {pattern, NULL, 0, 0, 0, 0};
	int exact;

	out->n = 0;
	if (alternation(&r, out, 0, &exact) < 0 || *r.p != '\0' || r.bad) {
		out->n = 0;
		return 0;
	}
	return strength(out);
}

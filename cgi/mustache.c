/*
 * mustache.c - parse Mustache templates into immutable trees and render
 * them over jansson values (see mustache.h for the contract).
 *
 * Parsing applies the standalone-line rules once, so rendering is a plain
 * walk: text nodes are copied, names are looked up on a per-call context
 * stack, sections recurse. The only render-time whitespace work is the
 * indentation of standalone partials, which is added lazily in front of
 * each line the partial's own text starts (never inside interpolated data).
 *
 * Security: every {{name}} is HTML-escaped; raw output only through
 * {{{name}}} / {{&name}}, which the template author chooses. Recursion is
 * bounded by BW_TPL_MAX_DEPTH.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mustache.h"

/* Largest template file bw_tpl_set_load reads. */
#define TPL_MAX_FILE (1024 * 1024)
/* Longest delimiter a {{=a b=}} tag may set. */
#define DELIM_MAX 16

enum node_type { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_PARTIAL };

struct node {
	int type;
	int line;		/* where the tag starts, for diagnostics */
	char *text;		/* N_TEXT: the bytes; others: the tag's name */
	size_t len;
	char **path;		/* the name split at dots; npath 0 means "." */
	size_t npath;
	char *indent;		/* N_PARTIAL: standalone indentation, or NULL */
	struct node *kids;	/* N_SECTION, N_INVERTED */
	size_t nkids, capkids;
};

struct bw_tpl {
	char *name;
	struct node root;
};

struct set_entry {
	char *name;
	bw_tpl *tpl;
};

struct bw_tpl_set {
	struct set_entry *v;
	size_t n, cap;
};

static void set_err(bw_error *err, const char *file, int line,
		    const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	snprintf(err->file, sizeof err->file, "%s", file ? file : "");
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof err->text, fmt, ap);
	va_end(ap);
}

/* ---- bw_buf ---------------------------------------------------------- */

int bw_buf_reserve(bw_buf *b, size_t n)
{
	if (b->cap - b->len <= n || !b->data) {
		size_t need = b->len + n + 1, cap = b->cap ? b->cap : 256;
		char *d;

		if (need < b->len)
			return -1;
		while (cap < need) {
			if (cap > ((size_t)-1) / 2)
				return -1;
			cap *= 2;
		}
		d = realloc(b->data, cap);
		if (!d)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	return 0;
}

int bw_buf_append(bw_buf *b, const char *s, size_t n)
{
	if (bw_buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int bw_buf_puts(bw_buf *b, const char *s)
{
	return bw_buf_append(b, s, strlen(s));
}

int bw_buf_append_html(bw_buf *b, const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		const char *rep;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '`': rep = "&#96;"; break;
		case '=': rep = "&#61;"; break;
		default: continue;
		}
		if (bw_buf_append(b, s + run, i - run) < 0 ||
		    bw_buf_puts(b, rep) < 0)
			return -1;
		run = i + 1;
	}
	return bw_buf_append(b, s + run, n - run);
}

void bw_buf_reset(bw_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void bw_buf_free(bw_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* ---- nodes ----------------------------------------------------------- */

static void node_clear(struct node *nd)
{
	size_t i;

	for (i = 0; i < nd->nkids; i++)
		node_clear(&nd->kids[i]);
	free(nd->kids);
	for (i = 0; i < nd->npath; i++)
		free(nd->path[i]);
	free(nd->path);
	free(nd->text);
	free(nd->indent);
}

/* Append a zeroed child to parent; NULL on ENOMEM. */
static struct node *node_add(struct node *parent)
{
	struct node *nd;

	if (parent->nkids == parent->capkids) {
		size_t cap = parent->capkids ? parent->capkids * 2 : 8;
		struct node *k = realloc(parent->kids, cap * sizeof *k);

		if (!k)
			return NULL;
		parent->kids = k;
		parent->capkids = cap;
	}
	nd = &parent->kids[parent->nkids++];
	memset(nd, 0, sizeof *nd);
	return nd;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* Split name at dots into nd->path ("." itself is the empty path). */
static int node_set_name(struct node *nd, const char *s, size_t n)
{
	size_t i, start, parts = 1;

	nd->text = dup_n(s, n);
	nd->len = n;
	if (!nd->text)
		return -1;
	if (n == 1 && s[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == '.')
			parts++;
	nd->path = calloc(parts, sizeof *nd->path);
	if (!nd->path)
		return -1;
	for (i = 0, start = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			nd->path[nd->npath] = dup_n(s + start, i - start);
			if (!nd->path[nd->npath])
				return -1;
			nd->npath++;
			start = i + 1;
		}
	}
	return 0;
}

/* ---- parser ---------------------------------------------------------- */

struct parser {
	const char *name;	/* for diagnostics */
	const char *src;
	size_t len;
	char otag[DELIM_MAX + 1], ctag[DELIM_MAX + 1];
	size_t olen, clen;
	/* line bookkeeping: lines counted up to counted_pos */
	size_t counted_pos;
	int line;
	/* the line being parsed: where it starts, and whether anything other
	 * than blanks and standalone-able tags has appeared on it */
	size_t line_start;
	int line_dirty;
	/* open sections, innermost last */
	struct node **open;
	size_t nopen, capopen;
	bw_error *err;
};

static int line_of(struct parser *p, size_t pos)
{
	for (; p->counted_pos < pos; p->counted_pos++)
		if (p->src[p->counted_pos] == '\n')
			p->line++;
	return p->line;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static const char *find_str(const char *hay, size_t hlen, const char *needle,
			    size_t nlen)
{
	size_t i;

	if (nlen == 0 || hlen < nlen)
		return NULL;
	for (i = 0; i + nlen <= hlen; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
			return hay + i;
	return NULL;
}

static struct node *parser_container(struct parser *p, struct node *root)
{
	return p->nopen ? p->open[p->nopen - 1] : root;
}

/* Add literal text to the current container, merging with a text before. */
static int add_text(struct parser *p, struct node *root, const char *s,
		    size_t n)
{
	struct node *c = parser_container(p, root), *nd;
	char *t;

	if (n == 0)
		return 0;
	if (c->nkids && c->kids[c->nkids - 1].type == N_TEXT) {
		nd = &c->kids[c->nkids - 1];
		t = realloc(nd->text, nd->len + n + 1);
		if (!t)
			return -1;
		memcpy(t + nd->len, s, n);
		nd->len += n;
		t[nd->len] = '\0';
		nd->text = t;
		return 0;
	}
	nd = node_add(c);
	if (!nd)
		return -1;
	nd->type = N_TEXT;
	nd->text = dup_n(s, n);
	nd->len = n;
	return nd->text ? 0 : -1;
}

/* Note the text [from, to) for the standalone bookkeeping. */
static void scan_text(struct parser *p, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++) {
		if (p->src[i] == '\n') {
			p->line_start = i + 1;
			p->line_dirty = 0;
		} else if (!is_blank(p->src[i])) {
			p->line_dirty = 1;
		}
	}
}

/* {{=<% %>=}}: content is "<% %>" (already trimmed). */
static int set_delims(struct parser *p, const char *s, size_t n, int line)
{
	size_t i = 0, a0, a1, b0, b1;

	while (i < n && !is_space(s[i]))
		i++;
	a0 = 0;
	a1 = i;
	while (i < n && is_space(s[i]))
		i++;
	b0 = i;
	while (i < n && !is_space(s[i]))
		i++;
	b1 = i;
	if (a1 == a0 || b1 == b0 || i != n || a1 - a0 > DELIM_MAX ||
	    b1 - b0 > DELIM_MAX || memchr(s, '=', n)) {
		set_err(p->err, p->name, line, "bad set-delimiter tag '%.*s'",
			(int)(n > 40 ? 40 : n), s);
		return -1;
	}
	memcpy(p->otag, s + a0, a1 - a0);
	p->otag[a1 - a0] = '\0';
	p->olen = a1 - a0;
	memcpy(p->ctag, s + b0, b1 - b0);
	p->ctag[b1 - b0] = '\0';
	p->clen = b1 - b0;
	return 0;
}

static int valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (is_space(s[i]))
			return 0;
	return 1;
}

static int parse(struct parser *p, struct node *root)
{
	size_t pos = 0;

	while (pos < p->len) {
		const char *o = find_str(p->src + pos, p->len - pos, p->otag,
					 p->olen);
		size_t t, c0, c1, tag_end, after;
		const char *close, *cs;
		char closing[DELIM_MAX + 2], type;
		size_t closing_len;
		int line, standalone = 0;

		if (!o) {
			scan_text(p, pos, p->len);
			return add_text(p, root, p->src + pos, p->len - pos);
		}
		t = (size_t)(o - p->src);
		scan_text(p, pos, t);
		line = line_of(p, t);

		c0 = t + p->olen;
		type = c0 < p->len ? p->src[c0] : '\0';
		switch (type) {
		case '#': case '^': case '/': case '>': case '!': case '=':
		case '{': case '&':
			c0++;
			break;
		default:
			type = 0;
		}
		closing_len = 0;
		if (type == '{' || type == '=')
			closing[closing_len++] = type == '{' ? '}' : '=';
		memcpy(closing + closing_len, p->ctag, p->clen);
		closing_len += p->clen;
		close = c0 <= p->len ? find_str(p->src + c0, p->len - c0,
						 closing, closing_len) : NULL;
		if (!close) {
			set_err(p->err, p->name, line, "unclosed tag '%.*s'",
				(int)(p->len - t > 20 ? 20 : p->len - t),
				p->src + t);
			return -1;
		}
		c1 = (size_t)(close - p->src);
		tag_end = c1 + closing_len;
		if (type != '!') {
			while (c0 < c1 && is_space(p->src[c0]))
				c0++;
			while (c1 > c0 && is_space(p->src[c1 - 1]))
				c1--;
		}
		cs = p->src + c0;

		/* A standalone tag takes its whole line with it. */
		after = tag_end;
		if (type && type != '{' && type != '&' && !p->line_dirty) {
			size_t q = tag_end;

			while (q < p->len && is_blank(p->src[q]))
				q++;
			if (q == p->len) {
				standalone = 1;
				after = q;
			} else if (p->src[q] == '\n') {
				standalone = 1;
				after = q + 1;
			} else if (p->src[q] == '\r' && q + 1 < p->len &&
				   p->src[q + 1] == '\n') {
				standalone = 1;
				after = q + 2;
			}
		}
		if (add_text(p, root, p->src + pos,
			     (standalone ? p->line_start : t) - pos) < 0)
			goto nomem;

		switch (type) {
		case '!':
			break;
		case '=':
			if (set_delims(p, cs, c1 - c0, line) < 0)
				return -1;
			break;
		case '/': {
			struct node *sec;

			if (p->nopen == 0) {
				set_err(p->err, p->name, line,
					"closing tag '%.*s' without a section",
					(int)(c1 - c0), cs);
				return -1;
			}
			sec = p->open[p->nopen - 1];
			if (sec->len != c1 - c0 || memcmp(sec->text, cs, sec->len)) {
				set_err(p->err, p->name, line,
					"section '%s' (line %d) closed by '%.*s'",
					sec->text, sec->line, (int)(c1 - c0),
					cs);
				return -1;
			}
			p->nopen--;
			break;
		}
		default: {
			struct node *nd;

			if (!valid_name(cs, c1 - c0)) {
				set_err(p->err, p->name, line,
					"bad tag name '%.*s'", (int)(c1 - c0),
					cs);
				return -1;
			}
			nd = node_add(parser_container(p, root));
			if (!nd)
				goto nomem;
			nd->line = line;
			nd->type = type == '#' ? N_SECTION :
				   type == '^' ? N_INVERTED :
				   type == '>' ? N_PARTIAL :
				   type == '{' || type == '&' ? N_RAW : N_VAR;
			if (node_set_name(nd, cs, c1 - c0) < 0)
				goto nomem;
			if (standalone && type == '>' && t > p->line_start) {
				nd->indent = dup_n(p->src + p->line_start,
						   t - p->line_start);
				if (!nd->indent)
					goto nomem;
			}
			if (nd->type == N_SECTION || nd->type == N_INVERTED) {
				if (p->nopen == p->capopen) {
					size_t cap = p->capopen ? p->capopen * 2 : 8;
					struct node **v = realloc(p->open,
								  cap * sizeof *v);

					if (!v)
						goto nomem;
					p->open = v;
					p->capopen = cap;
				}
				p->open[p->nopen++] = nd;
			}
		}
		}

		if (standalone) {
			p->line_start = after;
			p->line_dirty = 0;
		} else {
			p->line_dirty = 1;
		}
		pos = after;
	}
	return 0;
nomem:
	set_err(p->err, p->name, 0, "out of memory");
	return -1;
}

bw_tpl *bw_tpl_parse(const char *name, const char *src, size_t len,
		     bw_error *err)
{
	struct parser p;
	bw_tpl *tpl;

	memset(&p, 0, sizeof p);
	p.name = name ? name : "";
	p.src = src;
	p.len = len;
	p.line = 1;
	p.err = err;
	strcpy(p.otag, "{{");
	strcpy(p.ctag, "}}");
	p.olen = p.clen = 2;

	tpl = calloc(1, sizeof *tpl);
	if (!tpl || !(tpl->name = strdup(p.name))) {
		free(tpl);
		set_err(err, p.name, 0, "out of memory");
		return NULL;
	}
	if (parse(&p, &tpl->root) < 0)
		goto fail;
	if (p.nopen) {
		struct node *sec = p.open[p.nopen - 1];

		set_err(err, p.name, sec->line, "unclosed section '%s'",
			sec->text);
		goto fail;
	}
	free(p.open);
	return tpl;
fail:
	free(p.open);
	bw_tpl_free(tpl);
	return NULL;
}

void bw_tpl_free(bw_tpl *tpl)
{
	if (!tpl)
		return;
	node_clear(&tpl->root);
	free(tpl->name);
	free(tpl);
}

/* ---- sets ------------------------------------------------------------ */

bw_tpl_set *bw_tpl_set_new(void)
{
	return calloc(1, sizeof(bw_tpl_set));
}

static struct set_entry *set_find(const bw_tpl_set *set, const char *name)
{
	size_t i;

	if (!set)
		return NULL;
	for (i = 0; i < set->n; i++)
		if (strcmp(set->v[i].name, name) == 0)
			return &set->v[i];
	return NULL;
}

/* Put tpl under name; takes tpl (freed on failure). */
static int set_put(bw_tpl_set *set, const char *name, bw_tpl *tpl,
		   bw_error *err)
{
	struct set_entry *e = set_find(set, name);

	if (e) {
		bw_tpl_free(e->tpl);
		e->tpl = tpl;
		return 0;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct set_entry *v = realloc(set->v, cap * sizeof *v);

		if (!v)
			goto nomem;
		set->v = v;
		set->cap = cap;
	}
	e = &set->v[set->n];
	e->name = strdup(name);
	if (!e->name)
		goto nomem;
	e->tpl = tpl;
	set->n++;
	return 0;
nomem:
	bw_tpl_free(tpl);
	set_err(err, name, 0, "out of memory");
	return -1;
}

int bw_tpl_set_add(bw_tpl_set *set, const char *name, const char *src,
		   size_t len, bw_error *err)
{
	bw_tpl *tpl = bw_tpl_parse(name, src, len, err);

	if (!tpl)
		return -1;
	return set_put(set, name, tpl, err);
}

void bw_tpl_set_free(bw_tpl_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++) {
		free(set->v[i].name);
		bw_tpl_free(set->v[i].tpl);
	}
	free(set->v);
	free(set);
}

const bw_tpl *bw_tpl_set_get(const bw_tpl_set *set, const char *name)
{
	struct set_entry *e = set_find(set, name);

	return e ? e->tpl : NULL;
}

bw_tpl_set *bw_tpl_set_from_json(const json_t *sources, bw_error *err)
{
	bw_tpl_set *set = bw_tpl_set_new();
	const char *key;
	json_t *val;

	if (!set) {
		set_err(err, "", 0, "out of memory");
		return NULL;
	}
	json_object_foreach((json_t *)sources, key, val) {
		if (!json_is_string(val))
			continue;
		if (bw_tpl_set_add(set, key, json_string_value(val),
				   json_string_length(val), err) < 0) {
			bw_tpl_set_free(set);
			return NULL;
		}
	}
	return set;
}

static int read_file(const char *path, bw_buf *b, bw_error *err)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;

	if (!f) {
		set_err(err, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (b->len + n > TPL_MAX_FILE) {
			set_err(err, path, 0, "larger than %d bytes",
				TPL_MAX_FILE);
			fclose(f);
			return -1;
		}
		if (bw_buf_append(b, chunk, n) < 0) {
			set_err(err, path, 0, "out of memory");
			fclose(f);
			return -1;
		}
	}
	if (ferror(f)) {
		set_err(err, path, 0, "cannot read: %s", strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

bw_tpl_set *bw_tpl_set_load(const char *dir, bw_error *err)
{
	static const char ext[] = ".mustache";
	bw_tpl_set *set;
	DIR *d;
	struct dirent *de;
	bw_buf path = {0}, src = {0};

	d = opendir(dir);
	if (!d) {
		set_err(err, dir, 0, "cannot open template folder: %s",
			strerror(errno));
		return NULL;
	}
	set = bw_tpl_set_new();
	if (!set) {
		set_err(err, dir, 0, "out of memory");
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name), stem = n - (sizeof ext - 1);
		char name[256];
		bw_tpl *tpl;

		if (n <= sizeof ext - 1 || de->d_name[0] == '.' ||
		    strcmp(de->d_name + stem, ext) != 0 || stem >= sizeof name)
			continue;
		memcpy(name, de->d_name, stem);
		name[stem] = '\0';
		bw_buf_reset(&path);
		bw_buf_reset(&src);
		if (bw_buf_puts(&path, dir) < 0 || bw_buf_puts(&path, "/") < 0 ||
		    bw_buf_puts(&path, de->d_name) < 0) {
			set_err(err, dir, 0, "out of memory");
			goto fail;
		}
		if (read_file(path.data, &src, err) < 0)
			goto fail;
		tpl = bw_tpl_parse(path.data, src.data ? src.data : "",
				   src.len, err);
		if (!tpl || set_put(set, name, tpl, err) < 0)
			goto fail;
	}
	closedir(d);
	bw_buf_free(&path);
	bw_buf_free(&src);
	return set;
fail:
	closedir(d);
	bw_buf_free(&path);
	bw_buf_free(&src);
	bw_tpl_set_free(set);
	return NULL;
}

/* ---- rendering ------------------------------------------------------- */

struct render {
	const bw_tpl_set *set;
	bw_buf *out;
	const json_t **stack;	/* context stack, innermost last; borrowed */
	size_t n, cap;
	bw_buf indent;		/* indentation of the standalone partials we are in */
	int at_line_start;	/* the next output starts a line of template text */
	int depth;
	const char *tname;	/* for diagnostics */
	bw_error *err;
};

static int push(struct render *r, const json_t *v)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		const json_t **s = realloc(r->stack, cap * sizeof *s);

		if (!s)
			return -1;
		r->stack = s;
		r->cap = cap;
	}
	r->stack[r->n++] = v;
	return 0;
}

static const json_t *lookup(const struct render *r, const struct node *nd)
{
	const json_t *v = NULL;
	size_t i;

	if (nd->npath == 0)
		return r->n ? r->stack[r->n - 1] : NULL;
	for (i = r->n; i-- > 0;) {
		if (json_is_object(r->stack[i]) &&
		    (v = json_object_get(r->stack[i], nd->path[0])) != NULL)
			break;
	}
	if (!v)
		return NULL;
	for (i = 1; i < nd->npath; i++) {
		if (!json_is_object(v))
			return NULL;
		v = json_object_get(v, nd->path[i]);
		if (!v)
			return NULL;
	}
	return v;
}

static int truthy(const json_t *v)
{
	if (!v)
		return 0;
	switch (json_typeof(v)) {
	case JSON_NULL:
	case JSON_FALSE:
		return 0;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0.0;
	default:
		return 1;
	}
}

/* Put the pending indentation in front of template output. */
static int indent_if_due(struct render *r)
{
	if (r->at_line_start && r->indent.len) {
		if (bw_buf_append(r->out, r->indent.data, r->indent.len) < 0)
			return -1;
	}
	r->at_line_start = 0;
	return 0;
}

static int emit_text(struct render *r, const char *s, size_t n)
{
	while (n) {
		const char *nl = memchr(s, '\n', n);
		size_t k = nl ? (size_t)(nl - s) + 1 : n;

		if (indent_if_due(r) < 0 || bw_buf_append(r->out, s, k) < 0)
			return -1;
		if (nl)
			r->at_line_start = 1;
		s += k;
		n -= k;
	}
	return 0;
}

/* The shortest "%g" form that reads back as the same double. */
static void format_real(double d, char *dst, size_t size)
{
	int prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(dst, size, "%.*g", prec, d);
		if (strtod(dst, NULL) == d)
			return;
	}
}

static int emit_value(struct render *r, const json_t *v, int escape)
{
	char num[64];
	const char *s = NULL;
	size_t n = 0;

	if (!v)
		return 0;
	switch (json_typeof(v)) {
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		s = num;
		n = strlen(num);
		break;
	case JSON_REAL:
		format_real(json_real_value(v), num, sizeof num);
		s = num;
		n = strlen(num);
		break;
	case JSON_TRUE:
		s = "true";
		n = 4;
		break;
	case JSON_FALSE:
		s = "false";
		n = 5;
		break;
	default:
		return 0;
	}
	if (n == 0)
		return 0;
	if (indent_if_due(r) < 0)
		return -1;
	return escape ? bw_buf_append_html(r->out, s, n)
		      : bw_buf_append(r->out, s, n);
}

static int render_nodes(struct render *r, const struct node *parent);

static int too_deep(struct render *r, const struct node *nd)
{
	if (r->depth < BW_TPL_MAX_DEPTH)
		return 0;
	set_err(r->err, r->tname, nd->line,
		"sections and partials nest deeper than %d at '%s'",
		BW_TPL_MAX_DEPTH, nd->text);
	return 1;
}

static int render_section(struct render *r, const struct node *nd)
{
	const json_t *v = lookup(r, nd);
	int rc = 0;

	if (nd->type == N_INVERTED)
		return truthy(v) ? 0 : render_nodes(r, nd);
	if (!truthy(v))
		return 0;
	if (too_deep(r, nd))
		return -1;
	r->depth++;
	if (json_is_array(v)) {
		size_t i;

		for (i = 0; i < json_array_size(v) && rc == 0; i++) {
			if (push(r, json_array_get(v, i)) < 0)
				goto nomem;
			rc = render_nodes(r, nd);
			r->n--;
		}
	} else {
		if (push(r, v) < 0)
			goto nomem;
		rc = render_nodes(r, nd);
		r->n--;
	}
	r->depth--;
	return rc;
nomem:
	r->depth--;
	set_err(r->err, r->tname, nd->line, "out of memory");
	return -1;
}

static int render_partial(struct render *r, const struct node *nd)
{
	const bw_tpl *p = bw_tpl_set_get(r->set, nd->text);
	size_t saved = r->indent.len;
	int rc;

	if (!p)
		return 0;
	if (too_deep(r, nd))
		return -1;
	if (nd->indent && bw_buf_puts(&r->indent, nd->indent) < 0) {
		set_err(r->err, r->tname, nd->line, "out of memory");
		return -1;
	}
	r->depth++;
	rc = render_nodes(r, &p->root);
	r->depth--;
	r->indent.len = saved;
	return rc;
}

static int render_nodes(struct render *r, const struct node *parent)
{
	size_t i;

	for (i = 0; i < parent->nkids; i++) {
		const struct node *nd = &parent->kids[i];
		int rc = 0;

		switch (nd->type) {
		case N_TEXT:
			rc = emit_text(r, nd->text, nd->len);
			break;
		case N_VAR:
		case N_RAW:
			rc = emit_value(r, lookup(r, nd), nd->type == N_VAR);
			break;
		case N_SECTION:
		case N_INVERTED:
			rc = render_section(r, nd);
			break;
		case N_PARTIAL:
			rc = render_partial(r, nd);
			break;
		}
		if (rc < 0) {
			if (r->err && r->err->text[0] == '\0')
				set_err(r->err, r->tname, nd->line,
					"out of memory");
			return -1;
		}
	}
	return 0;
}

int bw_tpl_render_tpl(const bw_tpl *tpl, const bw_tpl_set *set,
		      const json_t *ctx, bw_buf *out, bw_error *err)
{
	struct render r;
	int rc;

	memset(&r, 0, sizeof r);
	r.set = set;
	r.out = out;
	r.at_line_start = 1;
	r.tname = tpl->name;
	r.err = err;
	if (err)
		err->text[0] = '\0';
	if (push(&r, ctx) < 0) {
		set_err(err, tpl->name, 0, "out of memory");
		return -1;
	}
	/* make sure out is a valid (possibly empty) string */
	rc = bw_buf_append(out, "", 0);
	if (rc == 0)
		rc = render_nodes(&r, &tpl->root);
	if (rc < 0 && err && err->text[0] == '\0')
		set_err(err, tpl->name, 0, "out of memory");
	free(r.stack);
	bw_buf_free(&r.indent);
	return rc;
}

int bw_tpl_render(const bw_tpl_set *set, const char *name, const json_t *ctx,
		  bw_buf *out, bw_error *err)
{
	const bw_tpl *tpl = bw_tpl_set_get(set, name);

	if (!tpl) {
		set_err(err, name, 0, "no template called '%s'", name);
		return -1;
	}
	return bw_tpl_render_tpl(tpl, set, ctx, out, err);
}

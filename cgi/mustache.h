/*
 * mustache.h - bouncewhy's Mustache renderer over jansson values.
 *
 * The web pages and embeddable fragments are Mustache templates in
 * templates/. They are read and parsed once at start-up (bw_tpl_set_load),
 * then the set is immutable and any number of threads render from it at
 * once; each render call allocates only its own scratch and appends to the
 * caller's buffer.
 *
 * Supported: the core modules of the Mustache specification (interpolation,
 * sections, inverted sections, comments, partials with standalone
 * indentation, set delimiter, dotted names, the implicit iterator {{.}},
 * standalone-line rules). Not supported: lambdas and inheritance (optional
 * modules).
 *
 * Escaping: {{name}} is HTML-escaped (& < > " ' ` =), so a value is safe in
 * element content and in quoted attribute values. {{{name}}} and {{&name}}
 * insert raw text and are for values the program built itself as HTML.
 *
 * Values: a string prints as is, an integer in decimal, a real in its
 * shortest round-trip form, true/false as words, null/missing/object/array
 * as nothing. Sections treat false, null, missing, "", 0 and [] as false
 * (as JavaScript Mustache does, so a template may write {{#ip}} for "when
 * there is an IP"); a non-empty array repeats the section once per element;
 * any other value renders it once with the value pushed on the context
 * stack. Inverted sections render exactly when a section would not.
 *
 * Errors: parse functions return NULL and fill a bw_error with the file (the
 * template's name), the 1-based line and a one-line reason ("unclosed
 * section 'steps'"). Render fails only when memory runs out or partials nest
 * deeper than BW_TPL_MAX_DEPTH (a template that includes itself forever).
 */
#ifndef BW_MUSTACHE_H
#define BW_MUSTACHE_H

#include <stddef.h>
#include <jansson.h>
#include "bouncewhy.h"

/* Sections and partials nest at most this deep while rendering. */
#define BW_TPL_MAX_DEPTH 100

/*
 * bw_buf - a growable byte buffer, always NUL-terminated once something was
 * appended. Start with a zeroed struct ({0}); release with bw_buf_free.
 */
typedef struct bw_buf {
	char *data;
	size_t len, cap;
} bw_buf;

/* Append n bytes. Returns 0, or -1 when memory runs out (buffer unchanged). */
int bw_buf_append(bw_buf *b, const char *s, size_t n);
/* Make room for n more bytes (and a NUL) without changing the contents.
 * Returns 0, or -1 when memory runs out (buffer unchanged). */
int bw_buf_reserve(bw_buf *b, size_t n);
/* Append a NUL-terminated string. Returns 0 or -1 (ENOMEM). */
int bw_buf_puts(bw_buf *b, const char *s);
/* Append s HTML-escaped (& < > " ' ` =). Returns 0 or -1 (ENOMEM). */
int bw_buf_append_html(bw_buf *b, const char *s, size_t n);
/* Forget the contents, keep the memory. */
void bw_buf_reset(bw_buf *b);
/* Release the memory; the buffer is zeroed and may be reused. NULL is fine. */
void bw_buf_free(bw_buf *b);

/* A parsed template: immutable once made. */
typedef struct bw_tpl bw_tpl;
/* A named collection of parsed templates; partials resolve within it. */
typedef struct bw_tpl_set bw_tpl_set;

/*
 * bw_tpl_parse - parse len bytes of Mustache source. name is used in error
 * messages (and copied). Returns a new bw_tpl for bw_tpl_free, or NULL with
 * err filled (file = name, line = where the problem starts).
 */
bw_tpl *bw_tpl_parse(const char *name, const char *src, size_t len,
		     bw_error *err);

/* bw_tpl_free - release a template. NULL is fine. */
void bw_tpl_free(bw_tpl *tpl);

/* bw_tpl_set_new - a new, empty set, or NULL when memory runs out. */
bw_tpl_set *bw_tpl_set_new(void);

/*
 * bw_tpl_set_add - parse src and add it under name (replacing an entry of
 * that name). Returns 0, or -1 with err filled. Not thread-safe: build the
 * set before sharing it.
 */
int bw_tpl_set_add(bw_tpl_set *set, const char *name, const char *src,
		   size_t len, bw_error *err);

/*
 * bw_tpl_set_load - read and parse every "*.mustache" file of dir; the name of
 * each is the file name without ".mustache" ("page", "card"). Returns a new set
 * for bw_tpl_set_free, or NULL with err filled ("dir/card.mustache", line,
 * reason) on the first file that cannot be read or parsed.
 */
bw_tpl_set *bw_tpl_set_load(const char *dir, bw_error *err);

/*
 * bw_tpl_set_from_json - a set made of the string members of an object
 * name -> source (the "partials" of the specification's tests). Returns a
 * new set, or NULL with err filled.
 */
bw_tpl_set *bw_tpl_set_from_json(const json_t *sources, bw_error *err);

/* bw_tpl_set_free - release a set and its templates. NULL is fine. */
void bw_tpl_set_free(bw_tpl_set *set);

/* bw_tpl_set_get - borrowed template called name, or NULL. */
const bw_tpl *bw_tpl_set_get(const bw_tpl_set *set, const char *name);

/*
 * bw_tpl_render - render the template called name from set with ctx (a
 * borrowed JSON value, usually an object) as the root context, appending
 * to out. Partials {{>x}} resolve in set; an unknown partial renders as
 * nothing (the specification says so). Returns 0, or -1 with err filled when
 * name is not in set, memory runs out or nesting is too deep; out may then
 * hold a partial result. Thread-safe for a set nobody modifies.
 */
int bw_tpl_render(const bw_tpl_set *set, const char *name, const json_t *ctx,
		  bw_buf *out, bw_error *err);

/*
 * bw_tpl_render_tpl - as bw_tpl_render, for a template held outside a set;
 * partials resolve in set, which may be NULL (no partials).
 */
int bw_tpl_render_tpl(const bw_tpl *tpl, const bw_tpl_set *set,
		      const json_t *ctx, bw_buf *out, bw_error *err);

#endif /* BW_MUSTACHE_H */

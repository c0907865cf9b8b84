/*
 * example.c - the smallest program that links libbouncewhy.
 *
 *   cc -o example example.c $(pkg-config --cflags --libs bouncewhy)
 *   ./example RULES_DIR [OVERRIDE_FILE] < bounce.eml
 *
 * Loads the knowledge base from RULES_DIR (the rules/ folder; an operator's
 * override file may follow), explains what arrives on stdin (a pasted SMTP
 * line, a whole bounce email, an mbox or a provider's JSON notification),
 * and prints one line per finding: the reason, who must act, the
 * recipient, and whether a retry may work. Exit status: 0 when something
 * bounced, 1 when the input holds no bounce, 2 on error.
 *
 * Ownership, as bouncewhy.h says: bw_kb_load gives a bw_kb to bw_kb_free;
 * bw_explain gives a JSON object to json_decref; everything read from that
 * object with json_object_get is borrowed from it.
 */
#include <stdio.h>
#include <stdlib.h>

#include <bouncewhy.h>

/* Reads all of stdin into a new buffer; NULL when memory runs out. */
static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 65536, n = 0, got;
	char *buf = malloc(cap), *nb;

	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			if ((nb = realloc(buf, cap *= 2)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
	}
	*len = n;
	return buf;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

int main(int argc, char **argv)
{
	bw_error err = {0};
	bw_options opt = {0};	/* defaults: input bound 1 MiB, audience "user" */
	bw_kb *kb;
	json_t *res, *f;
	char *data;
	size_t len, i;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s RULES_DIR [OVERRIDE_FILE] < bounce\n", argv[0]);
		return 2;
	}
	/* Once per program; the kb is then read-only and may serve many threads. */
	if ((kb = bw_kb_load(argv[1], argc == 3 ? argv[2] : NULL, &err)) == NULL) {
		fprintf(stderr, "%s: %s\n", argv[0], err.text);
		return 2;
	}
	if ((data = read_all(stdin, &len)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", argv[0]);
		bw_kb_free(kb);
		return 2;
	}
	res = bw_explain(kb, data, len, &opt, &err);
	free(data);
	if (res == NULL) {
		fprintf(stderr, "%s: %s\n", argv[0], err.text);
		bw_kb_free(kb);
		return 2;
	}
	printf("# %s (API %s)\n", str(res, "version"), str(res, "api_version"));
	json_array_foreach(json_object_get(res, "findings"), i, f) {
		printf("%s\t%s\t%s\t%s\n", str(f, "reason"), str(f, "action_by"),
		       str(f, "recipient"),
		       json_is_true(json_object_get(f, "temporary")) ? "temporary" : "permanent");
	}
	i = json_array_size(json_object_get(res, "findings"));
	json_decref(res);
	bw_kb_free(kb);
	return i > 0 ? 0 : 1;
}

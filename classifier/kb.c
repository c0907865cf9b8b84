/*
 * kb.c - load bouncewhy's knowledge files (rules/, docs/rules-format.md).
 *
 * bw_kb_load() reads reasons.json, status-codes.json, blocklists.json and
 * every other *.json of the folder as a rule set, in name order, then an
 * operator's override file. It validates everything and compiles every
 * pattern; any fault fails the whole load with "FILE: ID: why". The result is
 * immutable and may be shared by any number of threads.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb.h"

#define MAX_FILE_BYTES (16u * 1024u * 1024u)

static int kb_fail(bw_error *err, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int kb_fail(bw_error *err, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[400];

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(err->file, sizeof err->file, "%s", file ? file : "");
	err->line = line;
	if (file && *file && line > 0)
		snprintf(err->text, sizeof err->text, "%s:%d: %s", file, line, msg);
	else if (file && *file)
		snprintf(err->text, sizeof err->text, "%s: %s", file, msg);
	else
		snprintf(err->text, sizeof err->text, "%s", msg);
	return -1;
}

/* FNV-1a over every byte of the knowledge, for the version string. */
static unsigned long long fnv(unsigned long long h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Reads and parses one JSON file; the document is appended to kb->docs. */
static json_t *kb_read(bw_kb *kb, const char *path, unsigned long long *hash, bw_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	json_error_t jerr;
	json_t *doc;

	if (f == NULL) {
		kb_fail(err, path, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	buf = malloc(MAX_FILE_BYTES);
	if (buf == NULL) {
		fclose(f);
		kb_fail(err, path, 0, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, MAX_FILE_BYTES, f);
	fclose(f);
	if (n == MAX_FILE_BYTES) {
		free(buf);
		kb_fail(err, path, 0, "larger than %u bytes", MAX_FILE_BYTES);
		return NULL;
	}
	*hash = fnv(*hash, buf, n);
	doc = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (doc == NULL || !json_is_object(doc)) {
		kb_fail(err, path, doc ? 1 : jerr.line, "%s",
			doc ? "top level is not a JSON object" : jerr.text);
		json_decref(doc);
		return NULL;
	}
	json_array_append_new(kb->docs, doc);
	return doc;
}

static const char *const action_names[] = {
	"sender", "sender_admin", "recipient", "recipient_admin", "nobody", NULL
};

static int valid_action(const char *s)
{
	for (size_t i = 0; action_names[i]; i++)
		if (strcmp(s, action_names[i]) == 0)
			return 1;
	return 0;
}

static int valid_id(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '.' || *s == '_'))
			return 0;
	return 1;
}

/* Checks a {"user": "...", "admin": "..."} or {"user": [..], "admin": [..]} value. */
static int valid_audiences(const json_t *v, int arrays)
{
	const char *aud[] = {"user", "admin"};

	if (!json_is_object(v))
		return 0;
	for (int i = 0; i < 2; i++) {
		json_t *x = json_object_get(v, aud[i]);
		if (arrays) {
			size_t j;
			json_t *s;
			if (!json_is_array(x) || json_array_size(x) == 0)
				return 0;
			json_array_foreach(x, j, s) if (!json_is_string(s)) return 0;
		} else if (!json_is_string(x)) {
			return 0;
		}
	}
	return 1;
}

static int load_reasons(bw_kb *kb, json_t *doc, const char *path, bw_error *err)
{
	json_t *reasons = json_object_get(doc, "reasons");
	const char *name;
	json_t *r;

	if (!json_is_object(reasons))
		return kb_fail(err, path, 0, "missing object \"reasons\"");
	json_object_foreach(reasons, name, r) {
		json_t *t = json_object_get(r, "temporary");
		json_t *a = json_object_get(r, "action_by");
		if (!valid_id(name))
			return kb_fail(err, path, 0, "%s: bad reason name", name);
		if (!json_is_string(json_object_get(r, "title")))
			return kb_fail(err, path, 0, "%s: missing title", name);
		if (!json_is_boolean(json_object_get(r, "hard_bounce")))
			return kb_fail(err, path, 0, "%s: hard_bounce must be true or false", name);
		if (!json_is_string(a) || !valid_action(json_string_value(a)))
			return kb_fail(err, path, 0, "%s: bad action_by", name);
		if (t && !json_is_boolean(t) && !json_is_null(t))
			return kb_fail(err, path, 0, "%s: temporary must be true, false or null", name);
		if (!valid_audiences(json_object_get(r, "summary"), 0))
			return kb_fail(err, path, 0, "%s: summary needs user and admin texts", name);
		if (!valid_audiences(json_object_get(r, "steps"), 1))
			return kb_fail(err, path, 0, "%s: steps need user and admin lists", name);
		json_object_set_new(r, "id", json_string(name));
		json_object_set(kb->reasons, name, r);
	}
	return 0;
}

static int load_status(bw_kb *kb, json_t *doc, const char *path, bw_error *err)
{
	const char *keys[] = {"status", "reply"};
	json_t *dest[] = {kb->status, kb->reply};

	for (int k = 0; k < 2; k++) {
		json_t *arr = json_object_get(doc, keys[k]);
		size_t i;
		json_t *e;
		if (!json_is_array(arr))
			return kb_fail(err, path, 0, "missing array \"%s\"", keys[k]);
		json_array_foreach(arr, i, e) {
			json_t *code = json_object_get(e, "code");
			json_t *reason = json_object_get(e, "reason");
			char key[16];
			if (k == 0 && json_is_string(code))
				snprintf(key, sizeof key, "%s", json_string_value(code));
			else if (k == 1 && json_is_integer(code))
				snprintf(key, sizeof key, "%lld", (long long)json_integer_value(code));
			else
				return kb_fail(err, path, 0, "%s[%zu]: bad code", keys[k], i);
			if (!json_is_string(json_object_get(e, "title")))
				return kb_fail(err, path, 0, "%s: missing title", key);
			if (reason && !json_is_null(reason)) {
				if (!json_is_string(reason) ||
				    !json_object_get(kb->reasons, json_string_value(reason)))
					return kb_fail(err, path, 0, "%s: unknown reason", key);
			}
			json_object_set(dest[k], key, e);
		}
	}
	return 0;
}

/* A growable list of the rule objects in load order, with their files. */
typedef struct rule_src {
	json_t *rule;
	const char *file;
} rule_src;

typedef struct rule_list {
	rule_src *v;
	size_t n, cap;
	json_t *index;	/* id -> position */
} rule_list;

static int rule_list_put(rule_list *l, json_t *rule, const char *file, int replace,
			 bw_error *err)
{
	const char *id = json_string_value(json_object_get(rule, "id"));
	json_t *at;

	if (id == NULL || !valid_id(id))
		return kb_fail(err, file, 0, "%s: rule without a valid id", id ? id : "?");
	at = json_object_get(l->index, id);
	if (at) {
		if (!replace)
			return kb_fail(err, file, 0, "%s: duplicate rule id (also in %s)", id,
				       l->v[json_integer_value(at)].file);
		l->v[json_integer_value(at)] = (rule_src){rule, file};
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		rule_src *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			return kb_fail(err, file, 0, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	json_object_set_new(l->index, id, json_integer((json_int_t)l->n));
	l->v[l->n++] = (rule_src){rule, file};
	return 0;
}

static int load_blocklists(bw_kb *kb, json_t *doc, const char *path, int replace,
			   rule_list *rules, bw_error *err)
{
	json_t *arr = json_object_get(doc, "blocklists");
	size_t i;
	json_t *bl;

	if (!json_is_array(arr))
		return kb_fail(err, path, 0, "missing array \"blocklists\"");
	json_array_foreach(arr, i, bl) {
		const char *id = json_string_value(json_object_get(bl, "id"));
		json_t *mentions = json_object_get(bl, "mentions");
		json_t *zones = json_object_get(bl, "zones");
		const char *reason = json_string_value(json_object_get(bl, "reason"));
		if (id == NULL || !valid_id(id))
			return kb_fail(err, path, 0, "blocklists[%zu]: missing or bad id", i);
		if (!json_is_string(json_object_get(bl, "name")))
			return kb_fail(err, path, 0, "%s: missing name", id);
		if (zones && !json_is_array(zones))
			return kb_fail(err, path, 0, "%s: zones must be an array", id);
		if (json_object_get(kb->bl_index, id)) {
			if (!replace)
				return kb_fail(err, path, 0, "%s: duplicate blocklist id", id);
			/* replace in place, keeping the order */
			size_t j;
			json_t *old;
			json_array_foreach(kb->blocklists, j, old) {
				if (strcmp(json_string_value(json_object_get(old, "id")), id) == 0) {
					json_array_set(kb->blocklists, j, bl);
					break;
				}
			}
		} else {
			json_array_append(kb->blocklists, bl);
		}
		json_object_set(kb->bl_index, id, bl);
		if (reason && !json_object_get(kb->reasons, reason))
			return kb_fail(err, path, 0, "%s: unknown reason %s", id, reason);
		if (mentions && json_array_size(mentions) > 0) {
			/* Each list that bounces name becomes a rule of its own. */
			char rid[160];
			json_t *rule;
			if (!json_is_array(mentions))
				return kb_fail(err, path, 0, "%s: mentions must be an array", id);
			snprintf(rid, sizeof rid, "bl-%s", id);
			rule = json_pack("{s:s, s:s, s:O, s:s, s:i, s:[]}", "id", rid, "reason",
					 reason ? reason : "blocked", "patterns", mentions,
					 "blocklist", id, "priority", 50, "examples");
			if (rule == NULL)
				return kb_fail(err, path, 0, "out of memory");
			json_array_append_new(kb->docs, rule);
			if (rule_list_put(rules, rule, path, 1, err) < 0)
				return -1;
		}
	}
	return 0;
}

static int load_ruleset(json_t *doc, const char *path, int replace, rule_list *rules,
			bw_error *err)
{
	json_t *arr = json_object_get(doc, "rules");
	size_t i;
	json_t *r;

	if (!json_is_array(arr))
		return kb_fail(err, path, 0, "missing array \"rules\"");
	json_array_foreach(arr, i, r) {
		if (!json_is_object(r))
			return kb_fail(err, path, 0, "rules[%zu]: not an object", i);
		if (rule_list_put(rules, r, path, replace, err) < 0)
			return -1;
	}
	return 0;
}

static int compile_rule(bw_kb *kb, bw_rule *rule, json_t *r, const char *file, bw_error *err)
{
	const char *id = json_string_value(json_object_get(r, "id"));
	json_t *pats = json_object_get(r, "patterns");
	json_t *when = json_object_get(r, "when");
	json_t *t = json_object_get(r, "temporary");
	json_t *a = json_object_get(r, "action_by");
	json_t *bl = json_object_get(r, "blocklist");
	json_t *ex = json_object_get(r, "examples");
	json_t *p;
	size_t i;

	rule->id = id;
	rule->file = file;
	rule->reason = json_string_value(json_object_get(r, "reason"));
	if (rule->reason == NULL || !json_object_get(kb->reasons, rule->reason))
		return kb_fail(err, file, 0, "%s: unknown reason %s", id,
			       rule->reason ? rule->reason : "(none)");
	if (bl && !json_is_null(bl)) {
		rule->blocklist = json_string_value(bl);
		rule->blocklist_entry = rule->blocklist ?
			json_object_get(kb->bl_index, rule->blocklist) : NULL;
		if (rule->blocklist_entry == NULL)
			return kb_fail(err, file, 0, "%s: unknown blocklist", id);
	}
	rule->priority = (int)json_integer_value(json_object_get(r, "priority"));
	rule->temporary = json_is_boolean(t) ? json_is_true(t) : -1;
	if (a && !json_is_null(a)) {
		if (!json_is_string(a) || !valid_action(json_string_value(a)))
			return kb_fail(err, file, 0, "%s: bad action_by", id);
		rule->action_by = json_string_value(a);
	}
	p = json_object_get(r, "summary");
	if (p && !json_is_null(p)) {
		if (!valid_audiences(p, 0))
			return kb_fail(err, file, 0, "%s: summary needs user and admin texts", id);
		rule->summary = p;
	}
	p = json_object_get(r, "steps");
	if (p && !json_is_null(p)) {
		if (!valid_audiences(p, 1))
			return kb_fail(err, file, 0, "%s: steps need user and admin lists", id);
		rule->steps = p;
	}
	if (!json_is_array(ex))
		return kb_fail(err, file, 0, "%s: examples must be an array", id);
	/* Rules derived from blocklists carry no examples of their own. */
	if (json_array_size(ex) == 0 && strncmp(id, "bl-", 3) != 0)
		return kb_fail(err, file, 0, "%s: needs at least one example", id);
	rule->examples = ex;
	if (when && !json_is_null(when)) {
		json_t *wr = json_object_get(when, "reply");
		json_t *ws = json_object_get(when, "status");
		json_array_foreach(wr, i, p) {
			if (!json_is_integer(p) || i >= 8)
				return kb_fail(err, file, 0, "%s: when.reply: integers, at most 8", id);
			rule->when_reply[rule->n_when_reply++] = (int)json_integer_value(p);
		}
		json_array_foreach(ws, i, p) {
			if (!json_is_string(p) || i >= 8 || json_string_length(p) >= 12)
				return kb_fail(err, file, 0, "%s: when.status: short strings, at most 8", id);
			snprintf(rule->when_status[rule->n_when_status], 12, "%s", json_string_value(p));
			rule->when_status_len[rule->n_when_status] =
				(unsigned char)strlen(rule->when_status[rule->n_when_status]);
			rule->n_when_status++;
		}
	}
	if (!json_is_array(pats) || json_array_size(pats) == 0)
		return kb_fail(err, file, 0, "%s: needs at least one pattern", id);
	rule->pats = calloc(json_array_size(pats), sizeof *rule->pats);
	rule->pat_src = calloc(json_array_size(pats), sizeof *rule->pat_src);
	if (rule->pats == NULL || rule->pat_src == NULL)
		return kb_fail(err, file, 0, "out of memory");
	json_array_foreach(pats, i, p) {
		int ecode;
		PCRE2_SIZE eoff;
		pcre2_code *code;
		if (!json_is_string(p) || json_string_length(p) == 0)
			return kb_fail(err, file, 0, "%s: pattern %zu is not a string", id, i + 1);
		code = pcre2_compile((PCRE2_SPTR)json_string_value(p), json_string_length(p),
				     PCRE2_CASELESS | PCRE2_UTF | PCRE2_NO_UTF_CHECK |
				     PCRE2_USE_OFFSET_LIMIT, &ecode, &eoff, NULL);
		if (code == NULL) {
			PCRE2_UCHAR msg[200];
			pcre2_get_error_message(ecode, msg, sizeof msg);
			return kb_fail(err, file, 0, "%s: pattern %zu: %s at offset %zu", id,
				       i + 1, (char *)msg, (size_t)eoff);
		}
		pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);	/* interpreted if JIT is unavailable */
		rule->pat_src[rule->npats] = json_string_value(p);
		rule->pats[rule->npats++] = code;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the *.json files of dir, sorted; NULL-terminated, caller frees. */
static char **list_json(const char *dir, bw_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL) {
		kb_fail(err, dir, 0, "cannot open folder: %s", strerror(errno));
		return NULL;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0 || e->d_name[0] == '.')
			continue;
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 32;
			char **nv = realloc(v, cap * sizeof *v);
			if (nv == NULL)
				goto oom;
			v = nv;
		}
		if ((v[n] = strdup(e->d_name)) == NULL)
			goto oom;
		n++;
	}
	closedir(d);
	if (v == NULL && (v = calloc(1, sizeof *v)) == NULL) {
		kb_fail(err, dir, 0, "out of memory");
		return NULL;
	}
	v[n] = NULL;
	qsort(v, n, sizeof *v, by_name);
	return v;
oom:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	kb_fail(err, dir, 0, "out of memory");
	return NULL;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const bw_code *)a)->key, ((const bw_code *)b)->key);
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const bw_reason_info *)a)->id, ((const bw_reason_info *)b)->id);
}

/*
 * The status, reply and reason tables as sorted arrays, and the common
 * codes ("5.1.1", 550) as direct indexes: a lookup per call costs a few
 * loads instead of formatting a key and hashing it.
 */
static int build_tables(bw_kb *kb)
{
	const char *key;
	json_t *e;
	size_t i = 0;

	kb->st_codes = calloc(json_object_size(kb->status) + 1, sizeof *kb->st_codes);
	kb->rp_codes = calloc(json_object_size(kb->reply) + 1, sizeof *kb->rp_codes);
	kb->rinfo = calloc(json_object_size(kb->reasons) + 1, sizeof *kb->rinfo);
	if (!kb->st_codes || !kb->rp_codes || !kb->rinfo)
		return -1;
	json_object_foreach(kb->status, key, e)
		kb->st_codes[kb->n_st++] = (bw_code){key, e,
			json_string_value(json_object_get(e, "reason"))};
	json_object_foreach(kb->reply, key, e)
		kb->rp_codes[kb->n_rp++] = (bw_code){key, e,
			json_string_value(json_object_get(e, "reason"))};
	json_object_foreach(kb->reasons, key, e) {
		const json_t *t = json_object_get(e, "temporary");
		kb->rinfo[i++] = (bw_reason_info){key, e,
			json_string_value(json_object_get(e, "action_by")),
			json_is_boolean(t) ? json_is_true(t) : -1,
			json_is_true(json_object_get(e, "hard_bounce"))};
	}
	kb->n_rinfo = i;
	qsort(kb->st_codes, kb->n_st, sizeof *kb->st_codes, by_key);
	qsort(kb->rp_codes, kb->n_rp, sizeof *kb->rp_codes, by_key);
	qsort(kb->rinfo, kb->n_rinfo, sizeof *kb->rinfo, by_id);
	for (i = 0; i < kb->n_st; i++) {
		const char *k = kb->st_codes[i].key;
		if (strlen(k) == 5 && k[0] == 'X' && k[1] == '.' && k[2] >= '0' && k[2] <= '9' &&
		    k[3] == '.' && k[4] >= '0' && k[4] <= '9')
			kb->st_fast[k[2] - '0'][k[4] - '0'] = &kb->st_codes[i];
	}
	for (i = 0; i < kb->n_rp; i++) {
		const char *k = kb->rp_codes[i].key;
		char want[16];
		if (k[0] >= '0' && k[0] <= '9' && strlen(k) <= 3) {
			int v = atoi(k);
			/* only the key "%d" would print: "550", not "0550" */
			snprintf(want, sizeof want, "%d", v);
			if (strcmp(want, k) == 0)
				kb->rp_fast[v] = &kb->rp_codes[i];
		}
	}
	return 0;
}

bw_kb *bw_kb_load(const char *dir, const char *override, bw_error *err)
{
	static const char *const special[] = {"reasons.json", "status-codes.json",
					       "blocklists.json"};
	bw_kb *kb = calloc(1, sizeof *kb);
	char **names = NULL;
	rule_list rules = {0};
	json_t *paths;
	unsigned long long hash = 1469598103934665603ULL;
	char path[4096];
	json_t *doc;

	if (kb == NULL) {
		kb_fail(err, dir, 0, "out of memory");
		return NULL;
	}
	kb->reasons = json_object();
	kb->blocklists = json_array();
	kb->bl_index = json_object();
	kb->status = json_object();
	kb->reply = json_object();
	kb->docs = json_array();
	paths = json_array();	/* keeps the file names alive for diagnostics */
	rules.index = json_object();
	json_array_append_new(kb->docs, paths);
	if (!kb->reasons || !kb->blocklists || !kb->bl_index || !kb->status || !kb->reply ||
	    !kb->docs || !paths || !rules.index) {
		kb_fail(err, dir, 0, "out of memory");
		goto fail;
	}

	/* The three fixed files come first, in the order their references need. */
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, special[i]);
		json_array_append_new(paths, json_string(path));
		const char *p = json_string_value(json_array_get(paths, json_array_size(paths) - 1));
		if ((doc = kb_read(kb, p, &hash, err)) == NULL)
			goto fail;
		if ((i == 0 && load_reasons(kb, doc, p, err) < 0) ||
		    (i == 1 && load_status(kb, doc, p, err) < 0) ||
		    (i == 2 && load_blocklists(kb, doc, p, 0, &rules, err) < 0))
			goto fail;
	}
	if ((names = list_json(dir, err)) == NULL)
		goto fail;
	for (size_t i = 0; names[i]; i++) {
		int skip = 0;
		for (int s = 0; s < 3; s++)
			skip |= strcmp(names[i], special[s]) == 0;
		if (skip)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		json_array_append_new(paths, json_string(path));
		const char *p = json_string_value(json_array_get(paths, json_array_size(paths) - 1));
		if ((doc = kb_read(kb, p, &hash, err)) == NULL ||
		    load_ruleset(doc, p, 0, &rules, err) < 0)
			goto fail;
	}
	if (override) {
		/* An operator's file: any of the three kinds of entry, replacing by id. */
		json_array_append_new(paths, json_string(override));
		const char *p = json_string_value(json_array_get(paths, json_array_size(paths) - 1));
		if ((doc = kb_read(kb, p, &hash, err)) == NULL)
			goto fail;
		if (json_object_get(doc, "reasons") && load_reasons(kb, doc, p, err) < 0)
			goto fail;
		if (json_object_get(doc, "blocklists") &&
		    load_blocklists(kb, doc, p, 1, &rules, err) < 0)
			goto fail;
		if (json_object_get(doc, "rules") && load_ruleset(doc, p, 1, &rules, err) < 0)
			goto fail;
	}

	kb->rules = calloc(rules.n ? rules.n : 1, sizeof *kb->rules);
	if (kb->rules == NULL) {
		kb_fail(err, dir, 0, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < rules.n; i++) {
		/* a derived rule may point at a list an override replaced */
		kb->nrules = i + 1;
		if (compile_rule(kb, &kb->rules[i], rules.v[i].rule, rules.v[i].file, err) < 0)
			goto fail;
	}
	kb->mctx = pcre2_match_context_create(NULL);
	if (kb->mctx == NULL) {
		kb_fail(err, dir, 0, "out of memory");
		goto fail;
	}
	/* Bounded work per call: no pattern may take long on hostile input. */
	pcre2_set_match_limit(kb->mctx, 200000);
	pcre2_set_depth_limit(kb->mctx, 2000);
	if (build_tables(kb) < 0) {
		kb_fail(err, dir, 0, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < kb->nrules; i++)
		kb->rules[i].ri = bw_kb_reason_info(kb, kb->rules[i].reason);
	if (bw_matcher_build(kb, err) < 0)
		goto fail;
	snprintf(kb->version, sizeof kb->version, "%s+rules.%08llx", BW_VERSION,
		 (hash ^ (hash >> 32)) & 0xffffffffULL);
	for (size_t i = 0; names[i]; i++)
		free(names[i]);
	free(names);
	free(rules.v);
	json_decref(rules.index);
	return kb;
fail:
	if (names) {
		for (size_t i = 0; names[i]; i++)
			free(names[i]);
		free(names);
	}
	free(rules.v);
	json_decref(rules.index);
	bw_kb_free(kb);
	return NULL;
}

void bw_kb_free(bw_kb *kb)
{
	if (kb == NULL)
		return;
	bw_matcher_free(kb);
	for (size_t i = 0; i < kb->nrules; i++) {
		for (size_t j = 0; j < kb->rules[i].npats; j++)
			pcre2_code_free(kb->rules[i].pats[j]);
		free(kb->rules[i].pats);
		free(kb->rules[i].pat_src);
	}
	free(kb->rules);
	free(kb->st_codes);
	free(kb->rp_codes);
	free(kb->rinfo);
	pcre2_match_context_free(kb->mctx);
	json_decref(kb->reasons);
	json_decref(kb->blocklists);
	json_decref(kb->bl_index);
	json_decref(kb->status);
	json_decref(kb->reply);
	json_decref(kb->docs);
	free(kb);
}

const char *bw_kb_version(const bw_kb *kb) { return kb->version; }
const json_t *bw_kb_reasons(const bw_kb *kb) { return kb->reasons; }
const json_t *bw_kb_blocklists(const bw_kb *kb) { return kb->blocklists; }
size_t bw_kb_rule_count(const bw_kb *kb) { return kb->nrules; }

const json_t *bw_kb_reason(const bw_kb *kb, const char *reason)
{
	return reason ? json_object_get(kb->reasons, reason) : NULL;
}

const json_t *bw_kb_blocklist(const bw_kb *kb, const char *id)
{
	return id ? json_object_get(kb->bl_index, id) : NULL;
}

static const bw_code *code_find(const bw_code *v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(key, v[mid].key);
		if (c == 0)
			return &v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const bw_code *bw_kb_status_code(const bw_kb *kb, const char *status)
{
	char key[16];
	size_t l;

	if (status == NULL || status[0] == '\0' || (l = strlen(status)) > 12)
		return NULL;
	if (l == 5 && status[1] == '.' && status[2] >= '0' && status[2] <= '9' &&
	    status[3] == '.' && status[4] >= '0' && status[4] <= '9')
		return kb->st_fast[status[2] - '0'][status[4] - '0'];
	key[0] = 'X';
	memcpy(key + 1, status + 1, l);	/* with the NUL */
	return code_find(kb->st_codes, kb->n_st, key);
}

const bw_code *bw_kb_reply_code(const bw_kb *kb, int reply)
{
	char key[16];

	if (reply >= 0 && reply < 1000)
		return kb->rp_fast[reply];
	snprintf(key, sizeof key, "%d", reply);
	return code_find(kb->rp_codes, kb->n_rp, key);
}

const bw_reason_info *bw_kb_reason_info(const bw_kb *kb, const char *reason)
{
	size_t lo = 0, hi = kb->n_rinfo;

	if (reason == NULL)
		return NULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(reason, kb->rinfo[mid].id);
		if (c == 0)
			return &kb->rinfo[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/*
 * jsonw.c: a JSON writer that prints what jansson's
 * json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS) prints, byte for byte,
 * into a sink (cora_write_fn), and lets its caller stand in for values it
 * does not hold: a marker (rd_jw_mark()) in an array or as an object's
 * value is handed to the caller's expand hook, which writes any number of
 * elements (or the key and its value, or nothing) by streaming.  That is
 * how a crate of a million files is written without a JSON value per file.
 *
 * The layout jansson uses, which this file copies:
 *
 *     {                     "{" or "[", newline, indent of the inside
 *       "a": 1,             key, ": ", value; "," newline indent between
 *       "b": [              members; keys sorted (strcmp)
 *         "x"
 *       ]                   newline, indent of the outside, "}" or "]"
 *     }                     an empty object or array is "{}" or "[]"
 *
 * Indent: two spaces a level.  Scalars are encoded by jansson itself
 * (JSON_ENCODE_ANY, no other flag: the flags of json_dumps() above do not
 * change how a scalar is written), except strings of plain printable ASCII
 * without '"' or '\\', which jansson copies unchanged and so do we.
 *
 * Separators are written lazily (rd_jw_item(), rd_jw_key() open the
 * container before the first member), so a marker may stand for zero
 * members and the container still comes out as jansson would print it.
 */
#include "schema/render_int.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define JW_BUF (64 * 1024)
#define MARK_KEY "\x01"

void rd_jw_init(struct rd_jw *w, cora_write_fn write, void *arg)
{
	memset(w, 0, sizeof(*w));
	w->write = write;
	w->arg = arg;
	w->buf = malloc(JW_BUF);
	if (!w->buf)
		w->rc = cora_error_set(CORA_ENOMEM, "out of memory");
}

void rd_jw_fail(struct rd_jw *w, int rc)
{
	if (!w->rc)
		w->rc = rc;
}

static void flush(struct rd_jw *w)
{
	int rc;

	if (w->rc || !w->used)
		return;
	rc = w->write(w->arg, w->buf, w->used);
	w->used = 0;
	if (rc)
		rd_jw_fail(w, rc);
}

int rd_jw_finish(struct rd_jw *w)
{
	flush(w);
	free(w->buf);
	w->buf = NULL;
	return w->rc;
}

void rd_jw_raw(struct rd_jw *w, const char *s, size_t n)
{
	size_t k;

	while (!w->rc && n) {
		if (w->used == JW_BUF)
			flush(w);
		k = JW_BUF - w->used < n ? JW_BUF - w->used : n;
		memcpy(w->buf + w->used, s, k);
		w->used += k;
		s += k;
		n -= k;
	}
}

static void newline(struct rd_jw *w, size_t depth)
{
	static const char spaces[] = "                                "
				     "                                ";
	size_t n = depth * 2;

	rd_jw_raw(w, "\n", 1);
	while (n) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		rd_jw_raw(w, spaces, k);
		n -= k;
	}
}

static int put_cb(const char *buf, size_t len, void *arg)
{
	rd_jw_raw(arg, buf, len);
	return ((struct rd_jw *)arg)->rc ? -1 : 0;
}

/* A scalar as jansson encodes it. */
static void scalar(struct rd_jw *w, const json_t *v)
{
	if (json_dump_callback(v, put_cb, w, JSON_ENCODE_ANY) != 0)
		rd_jw_fail(w, cora_error_set(CORA_ENOMEM, "out of memory"));
}

static bool plain(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			return false;
	}
	return true;
}

void rd_jw_string(struct rd_jw *w, const char *s, size_t n)
{
	json_t *v;

	if (plain(s, n)) {
		rd_jw_raw(w, "\"", 1);
		rd_jw_raw(w, s, n);
		rd_jw_raw(w, "\"", 1);
		return;
	}
	v = json_stringn_nocheck(s, n);
	if (!v) {
		rd_jw_fail(w, cora_error_set(CORA_ENOMEM, "out of memory"));
		return;
	}
	scalar(w, v);
	json_decref(v);
}

void rd_jw_item(struct rd_jw *w, size_t depth, bool *first)
{
	if (*first) {
		rd_jw_raw(w, "[", 1);
		*first = false;
	} else {
		rd_jw_raw(w, ",", 1);
	}
	newline(w, depth);
}

void rd_jw_key(struct rd_jw *w, const char *key, size_t depth, bool *first)
{
	if (*first) {
		rd_jw_raw(w, "{", 1);
		*first = false;
	} else {
		rd_jw_raw(w, ",", 1);
	}
	newline(w, depth);
	rd_jw_string(w, key, strlen(key));
	rd_jw_raw(w, ": ", 2);
}

void rd_jw_close(struct rd_jw *w, char close, size_t depth, bool first)
{
	char c[2] = { close == ']' ? '[' : '{', close };

	if (first) {
		rd_jw_raw(w, c, 2);
		return;
	}
	newline(w, depth);
	rd_jw_raw(w, &close, 1);
}

json_t *rd_jw_mark(json_int_t n)
{
	return json_pack("{s:I}", MARK_KEY, n);
}

bool rd_jw_is_mark(const json_t *v, json_int_t *n)
{
	const json_t *x;

	if (!json_is_object(v) || json_object_size(v) != 1 ||
	    !(x = json_object_get(v, MARK_KEY)))
		return false;
	if (n)
		*n = json_integer_value(x);
	return true;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void object(struct rd_jw *w, const json_t *v, size_t depth)
{
	size_t n = json_object_size(v), i = 0;
	const char **keys, *key;
	bool first = true;
	json_t *x;

	keys = malloc((n ? n : 1) * sizeof(*keys));
	if (!keys) {
		rd_jw_fail(w, cora_error_set(CORA_ENOMEM, "out of memory"));
		return;
	}
	json_object_foreach((json_t *)v, key, x)
		keys[i++] = key;
	qsort(keys, n, sizeof(*keys), by_key);
	for (i = 0; i < n && !w->rc; i++) {
		x = json_object_get(v, keys[i]);
		if (w->expand && rd_jw_is_mark(x, NULL)) {
			w->expand(w, x, keys[i], depth + 1, &first);
			continue;
		}
		rd_jw_key(w, keys[i], depth + 1, &first);
		rd_jw_value(w, x, depth + 1);
	}
	free(keys);
	rd_jw_close(w, '}', depth, first);
}

static void array(struct rd_jw *w, const json_t *v, size_t depth)
{
	bool first = true;
	size_t i;
	json_t *x;

	json_array_foreach(v, i, x) {
		if (w->rc)
			break;
		if (w->expand && rd_jw_is_mark(x, NULL)) {
			w->expand(w, x, NULL, depth + 1, &first);
			continue;
		}
		rd_jw_item(w, depth + 1, &first);
		rd_jw_value(w, x, depth + 1);
	}
	rd_jw_close(w, ']', depth, first);
}

void rd_jw_value(struct rd_jw *w, const json_t *v, size_t depth)
{
	if (w->rc)
		return;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		object(w, v, depth);
		break;
	case JSON_ARRAY:
		array(w, v, depth);
		break;
	case JSON_STRING:
		rd_jw_string(w, json_string_value(v), json_string_length(v));
		break;
	default:
		scalar(w, v);
		break;
	}
}

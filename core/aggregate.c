/*
 * aggregate.c: the event and command tables of all aggregates, the
 * generic fold, and small JSON helpers shared by deciders and evolvers.
 */
#include "core/aggregate.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

/* ---- emit list ---------------------------------------------------------- */

void cora_emit_init(struct cora_emit *e)
{
	memset(e, 0, sizeof(*e));
}

int cora_emit(struct cora_emit *e, const char *event_type, json_t *payload)
{
	struct cora_new_event *items;

	if (!payload)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 4;
		items = realloc(e->items, cap * sizeof(*items));
		if (!items) {
			json_decref(payload);
			return cora_error_set(CORA_ENOMEM, "out of memory");
		}
		e->items = items;
		e->cap = cap;
	}
	e->items[e->n].event_type = strdup(event_type);
	if (!e->items[e->n].event_type) {
		json_decref(payload);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	e->items[e->n].payload = payload;
	e->n++;
	return 0;
}

void cora_emit_release(struct cora_emit *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		free(e->items[i].event_type);
		json_decref(e->items[i].payload);
	}
	free(e->items);
	cora_emit_init(e);
}

/* ---- tables --------------------------------------------------------------- */

static const struct cora_event_def *const event_tables[] = {
	cora_asset_events, cora_model_events, cora_family_events,
	cora_dataset_events, cora_run_events, cora_acquisition_events,
	cora_bundle_events,
};

static const struct cora_command_def *const command_tables[] = {
	cora_asset_commands, cora_model_commands, cora_family_commands,
	cora_dataset_commands, cora_run_commands, cora_acquisition_commands,
	cora_bundle_commands,
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const struct cora_event_def *cora_event_def_at(size_t i)
{
	size_t t, k;

	for (t = 0; t < COUNT(event_tables); t++) {
		for (k = 0; event_tables[t][k].type; k++)
			if (i-- == 0)
				return &event_tables[t][k];
	}
	return NULL;
}

const struct cora_command_def *cora_command_def_at(size_t i)
{
	size_t t, k;

	for (t = 0; t < COUNT(command_tables); t++) {
		for (k = 0; command_tables[t][k].name; k++)
			if (i-- == 0)
				return &command_tables[t][k];
	}
	return NULL;
}

const struct cora_event_def *cora_event_def_find(const char *event_type)
{
	const struct cora_event_def *d;
	size_t i;

	for (i = 0; (d = cora_event_def_at(i)); i++)
		if (strcmp(d->type, event_type) == 0)
			return d;
	return NULL;
}

const struct cora_command_def *cora_command_def_find(const char *name)
{
	const struct cora_command_def *d;
	size_t i;

	for (i = 0; (d = cora_command_def_at(i)); i++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

int cora_evolve(json_t **state, const char *stream_type,
		const char *event_type, const json_t *payload)
{
	const struct cora_event_def *def = cora_event_def_find(event_type);
	const char *at;
	int rc;

	if (!def)
		return cora_error_set(CORA_ECORRUPT,
				      "unknown event type '%s'", event_type);
	if (strcmp(def->stream_type, stream_type) != 0)
		return cora_error_set(CORA_ECORRUPT,
				      "event '%s' on a %s stream", event_type,
				      stream_type);
	if (def->genesis != (*state == NULL))
		return cora_error_set(CORA_ECORRUPT,
				      def->genesis ?
				      "genesis event '%s' on an existing stream" :
				      "event '%s' on an empty stream",
				      event_type);
	rc = def->evolve(state, event_type, payload);
	if (rc)
		return rc;
	if (!*state)
		CORA_BUG("genesis evolver made no state");
	at = cora_json_str(payload, "occurred_at");
	if (at) {
		if (def->genesis)
			json_object_set_new(*state, "created_at",
					    json_string(at));
		json_object_set_new(*state, "updated_at", json_string(at));
	}
	return 0;
}

/* ---- JSON helpers ----------------------------------------------------------- */

const char *cora_json_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

json_int_t cora_json_int(const json_t *obj, const char *key,
			 json_int_t dflt)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

json_t *cora_payload_new(const struct cora_ctx *ctx, const char *id_key)
{
	json_t *p = json_object();

	if (!p)
		return NULL;
	if (id_key)
		json_object_set_new(p, id_key, json_string(ctx->stream_id));
	json_object_set_new(p, "occurred_at", json_string(ctx->now));
	return p;
}

static int cmp_strings(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;

	return strcmp(json_string_value(x) ? json_string_value(x) : "",
		      json_string_value(y) ? json_string_value(y) : "");
}

/* Rebuilds array from a sorted copy of its elements. */
static void sort_array(json_t *array, int (*cmp)(const void *, const void *),
		       bool dedup)
{
	size_t n = json_array_size(array), i;
	json_t **items;

	if (n < 2)
		return;
	items = malloc(n * sizeof(*items));
	if (!items)
		return; /* leaves it unsorted; callers check nothing else */
	for (i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(array, i));
	qsort(items, n, sizeof(*items), cmp);
	json_array_clear(array);
	for (i = 0; i < n; i++) {
		size_t kept = json_array_size(array);
		json_t *last = kept ? json_array_get(array, kept - 1) : NULL;

		if (dedup && last && cmp(&last, &items[i]) == 0)
			json_decref(items[i]);
		else
			json_array_append_new(array, items[i]);
	}
	free(items);
}

void cora_json_sort_strings(json_t *array)
{
	sort_array(array, cmp_strings, true);
}

static _Thread_local const char *sort_key, *sort_key2;

static int cmp_member(const json_t *x, const json_t *y, const char *key)
{
	const char *a = key ? cora_json_str(x, key) : NULL;
	const char *b = key ? cora_json_str(y, key) : NULL;

	return strcmp(a ? a : "", b ? b : "");
}

static int cmp_objects(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = cmp_member(x, y, sort_key);

	return c ? c : cmp_member(x, y, sort_key2);
}

void cora_json_sort_objects(json_t *array, const char *key, const char *key2)
{
	sort_key = key;
	sort_key2 = key2;
	sort_array(array, cmp_objects, false);
}

bool cora_json_array_has(const json_t *array, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(array, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

ssize_t cora_json_find_object(const json_t *array, const char *key,
			      const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(array, i, v) {
		const char *m = cora_json_str(v, key);
		if (m && strcmp(m, s) == 0)
			return (ssize_t)i;
	}
	return -1;
}

char *cora_json_dump(const json_t *value)
{
	return json_dumps(value, JSON_SORT_KEYS | JSON_COMPACT |
				 JSON_ENCODE_ANY);
}

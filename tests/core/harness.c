/*
 * harness.c: the shared helpers of the aggregate unit tests
 * (harness.h), once copied into each test file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/core/harness.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

/* ---- both styles ---------------------------------------------------- */

json_t *J(const char *text)
{
	char *s = strdup(text), *p;
	json_error_t err;
	json_t *v;

	assert_non_null(s);
	for (p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(s, 0, &err);
	if (!v)
		fail_msg("bad test JSON: %s: %s", err.text, s);
	free(s);
	return v;
}

bool listed(const char *const *list, const char *key)
{
	for (; list && *list; list++)
		if (strcmp(*list, key) == 0)
			return true;
	return false;
}

void check_payload(const char *type, const json_t *payload)
{
	const struct cora_event_def *def = cora_event_def_find(type);
	const char *key;
	json_t *v;
	size_t i;

	if (!def)
		fail_msg("no event '%s' in the tables", type);
	for (i = 0; def->keys[i]; i++)
		if (!json_object_get(payload, def->keys[i]))
			fail_msg("%s: key '%s' is missing", type, def->keys[i]);
	json_object_foreach((json_t *)payload, key, v)
		if (!listed(def->keys, key) && !listed(def->optional_keys, key))
			fail_msg("%s: key '%s' is not in the table", type, key);
}

void assert_keys(const json_t *obj, const char *list)
{
	char *copy = strdup(list), *k, *save = NULL;
	size_t n = 0;

	for (k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		if (!json_object_get(obj, k))
			fail_msg("key '%s' is missing", k);
		n++;
	}
	free(copy);
	assert_int_equal(json_object_size(obj), n);
}

/* ---- one shared fixture, events logged per stream -------------------- */

struct fixture fx;
json_t *logs;

int fx_setup(void **st)
{
	fixture_init(&fx, NOW);
	logs = json_object();
	cora_error_clear();
	return 0;
}

int fx_teardown(void **st)
{
	fixture_release(&fx);
	json_decref(logs);
	return 0;
}

size_t ok_last(const char *name, json_t **state, json_t *cmd,
	       json_t **last)
{
	struct cora_emit out;
	json_t *log;
	size_t i, n;
	int rc;

	rc = fixture_run(&fx, name, state, cmd, &out);
	if (rc)
		fail_msg("%s failed: %s", name, cora_error_last());
	for (i = 0; i < out.n; i++)
		check_payload(out.items[i].event_type, out.items[i].payload);
	log = json_object_get(logs, cora_json_str(*state, "id"));
	if (!log) {
		log = json_array();
		json_object_set_new(logs, cora_json_str(*state, "id"), log);
	}
	for (i = 0; i < out.n; i++)
		json_array_append_new(log, json_pack("{s:s, s:O}", "type",
			out.items[i].event_type, "payload",
			out.items[i].payload));
	if (last)
		*last = out.n ? json_deep_copy(out.items[out.n - 1].payload) :
			NULL;
	n = out.n;
	cora_emit_release(&out);
	json_decref(cmd);
	return n;
}

size_t ok(const char *name, json_t **state, json_t *cmd)
{
	return ok_last(name, state, cmd, NULL);
}

void ok_one(const char *name, json_t **state, json_t *cmd, const char *type)
{
	json_t *log;
	size_t n = ok(name, state, cmd);

	assert_int_equal(n, 1);
	log = json_object_get(logs, cora_json_str(*state, "id"));
	assert_string_equal(cora_json_str(json_array_get(log,
		json_array_size(log) - 1), "type"), type);
}

void fails(const char *name, json_t *state, json_t *cmd, int code,
	   const char *msg)
{
	json_t *before = state ? json_deep_copy(state) : NULL, *s = state;
	struct cora_emit out;
	int rc;

	rc = fixture_run(&fx, name, &s, cmd, &out);
	if (rc != code)
		fail_msg("%s: expected %d, got %d (%s)", name, code, rc,
			 cora_error_last());
	assert_string_equal(cora_error_last(), msg);
	assert_int_equal(out.n, 0);
	assert_true(s == state);
	if (state)
		assert_true(json_equal(before, state));
	json_decref(before);
	cora_emit_release(&out);
	json_decref(cmd);
}

void assert_replay(const char *stream_type, const json_t *state)
{
	json_t *log = json_object_get(logs, cora_json_str(state, "id")), *e;
	json_t *s = NULL;
	size_t i;

	assert_non_null(log);
	json_array_foreach(log, i, e)
		assert_int_equal(cora_evolve(&s, stream_type,
					     cora_json_str(e, "type"),
					     json_object_get(e, "payload")), 0);
	if (!json_equal(s, state)) {
		char *a = json_dumps(s, JSON_SORT_KEYS);
		char *b = json_dumps(state, JSON_SORT_KEYS);
		fail_msg("replay differs:\n%s\n%s", a, b);
	}
	json_decref(s);
}

json_t *reason(const char *r)
{
	return json_pack("{s:s}", "reason", r);
}

/* ---- a stream under test per test ------------------------------------ */

struct env *env_new(void **st, const char *type, const char *id)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	fixture_init(&e->f, NOW);
	cora_emit_init(&e->log);
	e->type = type;
	e->id = id;
	*st = e;
	return e;
}

int env_teardown(void **st)
{
	struct env *e = *st;

	json_decref(e->state);
	cora_emit_release(&e->log);
	fixture_release(&e->f);
	free(e);
	return 0;
}

int run(struct env *e, const char *name, json_t *cmd)
{
	const struct cora_command_def *def = cora_command_def_find(name);
	struct cora_emit out;
	char id[37];
	size_t i;
	int rc;

	assert_non_null(def);
	cora_error_clear();
	if (def->genesis && def->genesis_id) {
		rc = def->genesis_id(cmd, id);
		if (rc) {
			json_decref(cmd);
			return rc;
		}
		fixture_set_stream(&e->f, id);
	} else if (e->id) {
		fixture_set_stream(&e->f, cora_json_str(e->state, "id") ?
				   cora_json_str(e->state, "id") : e->id);
	}
	rc = fixture_run(&e->f, name, &e->state, cmd, &out);
	e->emitted = out.n;
	if (rc == 0) {
		for (i = 0; i < out.n; i++) {
			check_payload(out.items[i].event_type,
				      out.items[i].payload);
			assert_int_equal(cora_emit(&e->log,
				out.items[i].event_type,
				json_incref(out.items[i].payload)), 0);
		}
	} else {
		/* A refused command emits nothing. */
		assert_int_equal(out.n, 0);
	}
	cora_emit_release(&out);
	json_decref(cmd);
	return rc;
}

void assert_fails(struct env *e, const char *name, json_t *cmd, int code,
		  const char *message)
{
	assert_int_equal(run(e, name, cmd), code);
	assert_string_equal(cora_error_last(), message);
}

const json_t *last_payload(struct env *e)
{
	assert_true(e->log.n > 0);
	return e->log.items[e->log.n - 1].payload;
}

void assert_replays(struct env *e)
{
	json_t *again = NULL;

	assert_int_equal(fixture_apply(&again, e->type, &e->log), 0);
	if (!json_equal(again, e->state)) {
		char *a = cora_json_dump(again), *b = cora_json_dump(e->state);
		fail_msg("replay differs:\n%s\n%s", a, b);
	}
	json_decref(again);
}

void define(struct env *e, const char *name, const char *type, json_t *cmd)
{
	const struct cora_command_def *def = cora_command_def_find(name);
	json_t *s = NULL;
	char id[37];

	assert_non_null(def);
	assert_int_equal(def->genesis_id(cmd, id), 0);
	fixture_set_stream(&e->f, id);
	assert_int_equal(fixture_run(&e->f, name, &s, cmd, NULL), 0);
	fixture_put(&e->f, type, s);
	json_decref(s);
	json_decref(cmd);
}

/*
 * harness.h: the helpers the aggregate unit tests share, on top of the
 * JSON fixture of fixture.h.  Two styles of test use them:
 *
 *  - The Dataset, Run and Bundle tests share one fixture `fx` (reset by
 *    fx_setup/fx_teardown around each test) and keep every event they
 *    fold in `logs`, so assert_replay() can fold it again:
 *
 *        ok("dataset.register", &s, json_pack(...));
 *        fails("dataset.promote", s, cmd, CORA_ESTATE, "cannot ...");
 *        assert_replay("Dataset", s);
 *
 *  - The Asset, Model and Family tests keep a struct env per test (the
 *    stream under test and its events) and write commands with J():
 *
 *        assert_int_equal(run(e, "family.define", J("{'name': 'X'}")), 0);
 *        assert_fails(e, "family.define", J("{}"), CORA_EINVALID, "...");
 *        assert_replays(e);
 *
 * Every runner checks the keys of each emitted payload against the event
 * table.  The names are short and unprefixed on purpose: they are the
 * vocabulary of the test bodies, and only test programs link them.
 * Functions that take a command (json_t *cmd) take its reference.
 */
#ifndef CORA_TEST_HARNESS_H
#define CORA_TEST_HARNESS_H

#include "core/aggregate.h"
#include "tests/core/fixture.h"

#include <stddef.h>

/* ---- both styles ---------------------------------------------------- */

/* The time of every command (ctx->now) in these fixtures. */
#define NOW "2026-05-19T14:03:22+00:00"


/* JSON with ' for ", to keep the commands readable. */
json_t *J(const char *text);
/* True when key is in the NULL-terminated list (may be NULL). */
bool listed(const char *const *list, const char *key);
/* The payload has every always-present key of its event and nothing
 * that the event table does not list. */
void check_payload(const char *type, const json_t *payload);
/* The object's keys are exactly those listed (comma separated). */
void assert_keys(const json_t *obj, const char *list);

/* ---- one shared fixture, events logged per stream -------------------- */

extern struct fixture fx;
extern json_t *logs; /* {stream id: [{type, payload}]}: for replay */

int fx_setup(void **st);
int fx_teardown(void **st);
/* Runs a command that must succeed; returns how many events it emitted.
 * If last is not NULL it gets a copy of the last payload (caller's). */
size_t ok_last(const char *name, json_t **state, json_t *cmd,
	       json_t **last);
size_t ok(const char *name, json_t **state, json_t *cmd);
/* The command emits exactly one event, of this type. */
void ok_one(const char *name, json_t **state, json_t *cmd,
	    const char *type);
/* Runs a command that must fail with code and message, changing
 * nothing. */
void fails(const char *name, json_t *state, json_t *cmd, int code,
	   const char *msg);
/* Folding the logged events from nothing gives the state again. */
void assert_replay(const char *stream_type, const json_t *state);
/* {"reason": r} (a new reference). */
json_t *reason(const char *r);

/* ---- a stream under test per test ------------------------------------ */

struct env {
	struct fixture f;
	json_t *state;          /* the stream under test */
	const char *type;       /* its stream type */
	const char *id;         /* for a command without a derived id: the
	                         * stream when there is no state yet, or
	                         * NULL to leave the fixture's stream */
	struct cora_emit log;   /* every event folded into state */
	size_t emitted;         /* events of the last run */
};

/* A new env (in *st) on an empty fixture. */
struct env *env_new(void **st, const char *type, const char *id);
/* Frees the env in *st. */
int env_teardown(void **st);
/* Runs a command on the stream under test the way the runner does:
 * genesis commands get their derived id first, and see the state of that
 * stream if it exists.  Checks the payloads and keeps the events; a
 * refused command must emit nothing. */
int run(struct env *e, const char *name, json_t *cmd);
void assert_fails(struct env *e, const char *name, json_t *cmd, int code,
		  const char *message);
/* The payload of the last event kept (there must be one). */
const json_t *last_payload(struct env *e);
/* Folding the kept events again from nothing gives the same state. */
void assert_replays(struct env *e);
/* Defines a Family or Model (stream type `type`) with its derived id and
 * puts it in the fixture (not the stream under test). */
void define(struct env *e, const char *name, const char *type, json_t *cmd);

#endif

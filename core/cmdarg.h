/*
 * cmdarg.h: helpers the aggregates' deciders and evolvers share: reading
 * command arguments, building payloads and states, and naming and
 * finding other aggregates in messages.
 *
 * Invariants.  Every reader of a command argument treats an absent
 * member and a JSON null alike.  A reader that fails returns a negative
 * CORA_E* code after cora_error_set() with a message naming the argument
 * by `what` ("%s is missing", "%s must be text", ...); tests assert on
 * these messages, so they are part of the API.
 *
 * Ownership.  Strings and lists read from a command are borrowed from it
 * (valid while the command lives).  cora_json_put() and cora_emit_by()
 * take ownership of the value / payload they are given, even on failure.
 *
 * Thread safety: none needed; the functions keep no state (errors go to
 * the thread-local message of error.h).
 */
#ifndef CORA_CMDARG_H
#define CORA_CMDARG_H

#include "core/aggregate.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- command arguments ------------------------------------------------ */

/* A required string member: "<what> is missing", "<what> must be text". */
int cora_arg_str(const char **out, const json_t *cmd, const char *key,
		 const char *what);
/* An optional string member: absent or null leaves *out NULL. */
int cora_arg_opt_str(const char **out, const json_t *cmd, const char *key,
		     const char *what);
/* An optional list of at most max entries; absent or null leaves *out
 * NULL. */
int cora_arg_opt_list(const json_t **out, const json_t *cmd,
		      const char *key, size_t max, const char *what);
/* cora_arg_opt_list() whose entries must all be strings. */
int cora_arg_opt_strings(const json_t **out, const json_t *cmd,
			 const char *key, size_t max, const char *what);
/* A new sorted set (*out, caller's) of the UUIDs in list (may be NULL):
 * "<what> '<s>' is not a UUID".  On failure *out may hold a partial set
 * the caller still frees. */
int cora_arg_uuid_set(json_t **out, const json_t *list, const char *what);

/* ---- payloads and states ---------------------------------------------- */

/* json_string(s), or null when s is NULL. */
json_t *cora_json_str_or_null(const char *s);
/* A deep copy of obj's member key, or null when it is absent: a state
 * never shares a value with a payload, so folding later events cannot
 * change an earlier event. */
json_t *cora_json_copy_of(const json_t *obj, const char *key);
/* Sets key on an object under construction (takes v); a failure (out of
 * memory, or obj itself NULL) is remembered in *bad and reported once,
 * when the payload is emitted. */
void cora_json_put(json_t *obj, const char *key, json_t *v, bool *bad);
/* Adds by_key = ctx->principal and emits p (taken), unless building it
 * failed (bad): then CORA_ENOMEM. */
int cora_emit_by(struct cora_emit *out, const char *type, json_t *p,
		 const char *by_key, const struct cora_ctx *ctx, bool bad);

/* State key <- payload key, for a genesis fold. */
struct cora_field_map {
	const char *to, *from;
};

/* A new state for a genesis event: p[id_key] must be text, else
 * CORA_ECORRUPT "malformed <type> payload" and *out NULL.  Copies
 * p[map[i].from] (or null) to state[map[i].to]; a failure to build is
 * remembered in *bad, as with cora_json_put(). */
int cora_state_from(json_t **out, const char *type, const json_t *p,
		    const char *id_key, const struct cora_field_map *map,
		    size_t n, bool *bad);
/* Ends a genesis fold: stores s in *state, or frees it and returns
 * CORA_ENOMEM when building it failed (bad). */
int cora_state_done(json_t **state, json_t *s, bool bad);

/* ---- sets and names --------------------------------------------------- */

/* True when s (may be NULL) is one of the NULL-terminated set. */
bool cora_one_of(const char *s, const char *const *set);
/* Adds s (ignored when NULL) to a sorted set of strings.  Duplicates are
 * dropped here rather than by cora_json_sort_strings(), whose dedup
 * compares the next element with the duplicate it has just released (a
 * use after free). */
void cora_json_set_add(json_t *set, const char *s);
/* True when the string member key of state equals value. */
bool cora_json_is(const json_t *state, const char *key, const char *value);
/* How messages name a Dataset, Run or Bundle: its slug, else its id. */
const char *cora_label(const json_t *state);
/* How messages name an Asset, Model or Family: its slug, else its name,
 * else its id, else "?". */
const char *cora_label_named(const json_t *state);

/* ---- other aggregates ------------------------------------------------- */

/* Another aggregate by id or slug into *st (borrowed); `what` names it in
 * the message: "<what> is missing", "<what> '<ref>' does not exist". */
int cora_resolve(struct cora_ctx *ctx, const char *stream_type,
		 const char *what, const char *ref, const json_t **st);
/* Refuses a command on a stream that does not exist:
 * "<noun> '<ctx->stream_id>' does not exist". */
int cora_need_state(const json_t *state, const struct cora_ctx *ctx,
		    const char *noun);
/* The deprecation of a Model or Family (`noun`): refuses a missing or
 * already Deprecated one, takes an optional "reason" and emits `type`
 * on id_key. */
int cora_decide_deprecate(const json_t *state, const json_t *cmd,
			  struct cora_ctx *ctx, struct cora_emit *out,
			  const char *noun, const char *id_key,
			  const char *type);
/* A slug for a new stream of stream_type: present, valid, not a UUID and
 * not taken; `what` ("asset", "model", ...) names the kind. */
int cora_check_slug(struct cora_ctx *ctx, const char *stream_type,
		    const char *what, const char *slug);

#endif

/*
 * aggregate.h: the contract every aggregate follows.
 *
 * An aggregate (Asset, Model, Family, Dataset, Run, Acquisition, Bundle) is
 * a pair of pure functions over a JSON state object:
 *
 *     evolve(state, event)          -> state'        (fold one event)
 *     decide(state, command, ctx)   -> events | typed error
 *
 * Neither touches the database, the clock or the random generator: what a
 * decider needs from outside (the time, the principal, fresh ids, other
 * aggregates' states, the files of a dataset) comes through struct
 * cora_ctx, which the command runner (command.c) fills from the catalog and
 * unit tests fill from fixtures.  That keeps every guard testable without
 * SQLite and makes a replay (cora fsck) reproduce the projections exactly.
 *
 * State.  The state of a stream is a JSON object; it is also the entity
 * summary the projections store and `cora ... show --json` prints.  Every
 * state has at least:
 *
 *     "id"          the stream id (UUID text)
 *     "slug"        the name in the tree (absent for Model, Family)
 *     "created_at"  occurred_at of the genesis event
 *     "updated_at"  occurred_at of the latest event
 *
 * plus the aggregate's own fields, named as in reference sections 2-4.
 * The runner sets "version" after folding; evolvers ignore it.
 *
 * Events.  A decider appends (event_type, payload) pairs with cora_emit().
 * Payload keys are exactly those of the event catalogue (docs/events.md);
 * every payload has "occurred_at" and the aggregate's id key (asset_id,
 * dataset_id, ...).  Sets inside payloads are sorted arrays, so equal
 * logical values serialise to equal bytes.  Status never appears in a
 * payload: the event type implies it.
 *
 * Errors.  A decider returns 0, or a negative CORA_E* code after
 * cora_error_set() with the user-facing message.  On error it has emitted
 * nothing that will be used (the runner discards the list).
 *
 * Ownership.  decide() borrows state, cmd and ctx; cora_emit() takes
 * ownership of the payload (a json_t reference).  evolve() modifies
 * *state in place, or, for a genesis event, creates it (state == NULL on
 * entry, the new object stored in *state).
 */
#ifndef CORA_AGGREGATE_H
#define CORA_AGGREGATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- what a decider emits ------------------------------------------- */

struct cora_new_event {
	char *event_type;
	json_t *payload;
};

struct cora_emit {
	struct cora_new_event *items;
	size_t n, cap;
};

void cora_emit_init(struct cora_emit *e);
/* Takes ownership of payload (even on failure). */
int cora_emit(struct cora_emit *e, const char *event_type, json_t *payload);
void cora_emit_release(struct cora_emit *e);

/* ---- what a decider may see ----------------------------------------- */

/* Inode numbers of nodes (catalog.h, nodes.ino): a node gets the log
 * position of the event that created it, unless that event carries an
 * "ino" the mount reserved for a file it was writing, which are taken
 * from [CORA_INO_RESERVED, CORA_INO_LIMIT) so the two never meet. */
#define CORA_INO_RESERVED (1LL << 35)
#define CORA_INO_LIMIT (1LL << 36)

/* One node of a dataset's file tree, as the projection holds it. */
struct cora_node_info {
	int64_t ino;
	char type;               /* 'd' folder, 'f' file, 'l' symbolic link */
	int64_t size;
	char sha256[65];         /* files only */
	uint32_t mode;           /* permission bits */
	int64_t mtime_ns;
	int64_t uid, gid;        /* owner, -1 when the mount's user */
};

struct cora_ctx {
	const char *now;         /* occurred_at for new events */
	const char *principal;   /* actor id of the caller */
	const char *stream_id;   /* id of the stream decided on; for a
	                          * genesis command, the id to create */

	/* Another aggregate's state, by id or slug.  Returns 0 and a
	 * borrowed state valid until the command finishes, or
	 * CORA_ENOTFOUND (without setting a message). */
	int (*lookup)(struct cora_ctx *ctx, const char *stream_type,
		      const char *ref, const json_t **state);

	/* A node of dataset `dataset_id` by relative path ("" is the
	 * root).  0 and *info filled, or CORA_ENOTFOUND. */
	int (*node)(struct cora_ctx *ctx, const char *dataset_id,
		    const char *path, struct cora_node_info *info);

	/* Counts the entries of a folder (for rmdir). */
	int (*node_children)(struct cora_ctx *ctx, const char *dataset_id,
			     const char *path, int64_t *count);

	/* Calls fn for every regular file of the dataset (for promote's
	 * sha256-tree); stops at fn's first non-zero return. */
	int (*files)(struct cora_ctx *ctx, const char *dataset_id,
		     int (*fn)(void *arg, const char *path,
			       const struct cora_node_info *info),
		     void *arg);

	/* Fresh UUIDv7 text, for ids a decider mints (acquisition ids). */
	void (*new_id)(struct cora_ctx *ctx, char out[37]);

	void *arg;               /* for the implementer */
};

/* ---- the tables ------------------------------------------------------ */

typedef int (*cora_evolve_fn)(json_t **state, const char *event_type,
			      const json_t *payload);
typedef int (*cora_decide_fn)(const json_t *state, const json_t *cmd,
			      struct cora_ctx *ctx, struct cora_emit *out);

/* One event type: its stream type, its payload keys (those always
 * present, then those that may be omitted), and its evolver. */
struct cora_event_def {
	const char *type;
	const char *stream_type;
	const char *const *keys;          /* NULL-terminated, always present */
	const char *const *optional_keys; /* NULL-terminated, may be absent */
	bool genesis;
	cora_evolve_fn evolve;
};

/* One command: "dataset.promote" acting on stream type "Dataset".
 *
 * For a genesis command the runner needs the new stream's id before
 * deciding.  Most aggregates take a fresh UUIDv7; Model and Family derive
 * theirs from the command (uuid5, reference 1.2) with genesis_id, which
 * returns 0 and the id, or an error for a malformed command.  When the
 * id names an existing stream the decider sees its state and refuses
 * with CORA_EEXISTS. */
struct cora_command_def {
	const char *name;
	const char *stream_type;
	bool genesis;                     /* creates the stream */
	cora_decide_fn decide;
	int (*genesis_id)(const json_t *cmd, char out[37]); /* optional */
};

/* Each aggregate module exports its two tables, terminated by an entry
 * whose type / name is NULL. */
extern const struct cora_event_def cora_asset_events[];
extern const struct cora_command_def cora_asset_commands[];
extern const struct cora_event_def cora_model_events[];
extern const struct cora_command_def cora_model_commands[];
extern const struct cora_event_def cora_family_events[];
extern const struct cora_command_def cora_family_commands[];
extern const struct cora_event_def cora_dataset_events[];
extern const struct cora_command_def cora_dataset_commands[];
extern const struct cora_event_def cora_run_events[];
extern const struct cora_command_def cora_run_commands[];
extern const struct cora_event_def cora_acquisition_events[];
extern const struct cora_command_def cora_acquisition_commands[];
extern const struct cora_event_def cora_bundle_events[];
extern const struct cora_command_def cora_bundle_commands[];

/* Lookups across all modules (aggregate.c). */
const struct cora_event_def *cora_event_def_find(const char *event_type);
const struct cora_command_def *cora_command_def_find(const char *name);
/* Iterate: i = 0, 1, ... until NULL. */
const struct cora_event_def *cora_event_def_at(size_t i);
const struct cora_command_def *cora_command_def_at(size_t i);

/* Folds one event with the right evolver (checks stream type and
 * genesis: a non-genesis event on an empty state is CORA_ECORRUPT, an
 * unknown type fails loudly), then sets "updated_at" (and "created_at"
 * for genesis) from the payload's occurred_at. */
int cora_evolve(json_t **state, const char *stream_type,
		const char *event_type, const json_t *payload);

/* ---- helpers for deciders and evolvers -------------------------------- */

/* A string member or NULL. */
const char *cora_json_str(const json_t *obj, const char *key);
/* An integer member or dflt. */
json_int_t cora_json_int(const json_t *obj, const char *key,
			 json_int_t dflt);
/* A new payload object with "occurred_at" = ctx->now and
 * id_key = ctx->stream_id. */
json_t *cora_payload_new(const struct cora_ctx *ctx, const char *id_key);
/* Sorts an array of strings in place (byte order) and drops duplicates. */
void cora_json_sort_strings(json_t *array);
/* Sorts an array of objects by the string member `key`, then `key2`
 * (may be NULL). */
void cora_json_sort_objects(json_t *array, const char *key,
			    const char *key2);
/* True when the string array contains s. */
bool cora_json_array_has(const json_t *array, const char *s);
/* Index of the object in array whose member key equals s, or -1. */
ssize_t cora_json_find_object(const json_t *array, const char *key,
			      const char *s);
/* Canonical bytes of a JSON value: sorted keys, compact, UTF-8 kept.
 * Caller frees. */
char *cora_json_dump(const json_t *value);

#endif

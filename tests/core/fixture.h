/*
 * fixture.h: a decider context backed by JSON, for unit tests.
 *
 * Deciders see other aggregates and dataset files only through struct
 * cora_ctx; this fixture answers those questions from plain JSON that a
 * test fills in, so guards are tested without SQLite:
 *
 *     struct fixture f;
 *     fixture_init(&f, "2026-05-19T14:03:22+00:00");
 *     fixture_put(&f, "Dataset", state);          // lookup by id or slug
 *     fixture_put_node(&f, ds_id, "raw/a.h5", 'f', 10, sha, 0644);
 *     rc = decide(state, cmd, &f.ctx, &out);
 *     fixture_release(&f);
 *
 * fixture_apply() folds emitted events into a state, the way the runner
 * does, so a test can chain commands.
 */
#ifndef CORA_TEST_FIXTURE_H
#define CORA_TEST_FIXTURE_H

#include "core/aggregate.h"

struct fixture {
	struct cora_ctx ctx;
	json_t *states;  /* {"Asset": {id: state}, ...} */
	json_t *nodes;   /* {dataset_id: {path: {...}}} */
	char now[40];
	char stream_id[37];
	int next_id;
};

void fixture_init(struct fixture *f, const char *now);
void fixture_release(struct fixture *f);
/* Registers a state (borrowed reference is copied) under its "id". */
void fixture_put(struct fixture *f, const char *stream_type,
		 const json_t *state);
void fixture_put_node(struct fixture *f, const char *dataset_id,
		      const char *path, char type, int64_t size,
		      const char *sha256, uint32_t mode);
/* Sets the id a genesis command creates. */
void fixture_set_stream(struct fixture *f, const char *id);
/* Folds out's events into *state (creating it for genesis events). */
int fixture_apply(json_t **state, const char *stream_type,
		  const struct cora_emit *out);
/* Runs command `name` on *state (NULL for genesis), folding the result
 * into *state on success; returns the decider's code.  If out is not
 * NULL the emitted events are left there (caller releases). */
int fixture_run(struct fixture *f, const char *name, json_t **state,
		json_t *cmd, struct cora_emit *out);

/* Reference 7.2: family names and the uuid5 ids derived from them,
 * ended by { NULL, NULL }. */
struct fixture_family_id {
	const char *name, *id;
};
extern const struct fixture_family_id fixture_family_ids[];

/* A 64-hex digest made from a small integer, for tests. */
const char *fixture_sha(int n);

#endif

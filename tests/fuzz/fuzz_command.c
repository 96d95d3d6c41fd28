/*
 * fuzz_command.c: libFuzzer target for the command runner and every
 * decider (command.h, aggregate.h), on a scratch catalog in memory.
 *
 * Commands carry what users type (the CLI) and what programs write
 * through the mount, so any arguments must give a typed error, never a
 * crash.  The input is JSON:
 *
 *     {"steps": [{"command": "dataset.register", "target": null,
 *                 "cmd": {"slug": "d1"}}, ...]}
 *
 * run in order with cora_command() on one catalog (so later steps see
 * what earlier ones made).  After each step: a success names a stream
 * whose entity row holds an object state, and a failure is a negative
 * CORA_E* code with a message.  The clock is pinned (CORA_FAKE_NOW) so
 * inputs replay the same way.  FUZZ_VERBOSE=1 prints each step's result.
 */
#include "core/catalog.h"
#include "core/command.h"
#include "core/error.h"
#include "core/projection.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("CORA_FAKE_NOW", "2026-05-21T00:00:00Z", 1);
	return 0;
}

static void step(struct cora_catalog *cat, const json_t *s)
{
	const char *name = json_string_value(json_object_get(s, "command"));
	const char *target = json_string_value(json_object_get(s, "target"));
	const json_t *cmd = json_object_get(s, "cmd");
	struct cora_result res;
	json_t *state = NULL;
	int rc;

	if (!name || !json_is_object(cmd))
		return;
	memset(&res, 0, sizeof(res));
	cora_error_clear();
	rc = cora_command(cat, name, target, cmd, &res);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "%s %s: %d %s\n", name, target ? target : "-",
			rc, rc ? cora_error_last() : "");
	if (rc > 0 || (rc < 0 && !*cora_error_last())) {
		fprintf(stderr, "%s returned %d without a message\n", name, rc);
		abort();
	}
	if (rc == 0 && res.stream_id[0]) {
		rc = cora_entity_get(cat, NULL, res.stream_id, &state, NULL,
				     NULL);
		if (rc != 0 || !json_is_object(state)) {
			fprintf(stderr, "%s made stream %s but its entity "
				"is missing (%d: %s)\n", name, res.stream_id,
				rc, cora_error_last());
			abort();
		}
		json_decref(state);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cora_catalog *cat = NULL;
	json_t *root, *steps;
	const json_t *s;
	size_t i;

	root = json_loadb((const char *)data, size, 0, NULL);
	if (!root)
		return 0;
	steps = json_is_array(root) ? root : json_object_get(root, "steps");
	if (!json_is_array(steps) || json_array_size(steps) > 64) {
		json_decref(root);
		return 0;
	}
	if (cora_catalog_open_scratch(&cat, ":memory:") != 0) {
		fprintf(stderr, "scratch catalog: %s\n", cora_error_last());
		abort();
	}
	json_array_foreach(steps, i, s)
		step(cat, s);
	cora_catalog_free(cat);
	json_decref(root);
	return 0;
}

/*
 * fuzz_event.c: libFuzzer target for event folding (aggregate.h).
 *
 * The log is read back from disk (fsck, projections, a future import), so
 * every evolver must turn any payload into a state or a typed error,
 * never a crash.  A fold stops at the first error, as fsck and the
 * command runner do.  The input is one of two forms:
 *
 *   JSON    {"events": [{"type": T, "payload": P}, ...]}
 *           or {"type": T, "payloads": [P, ...]}
 *           each event is folded in order with cora_evolve() on one
 *           state, starting from NULL (genesis); the stream type is that
 *           of the first known event type (or "stream" when given).
 *   bytes   b0 = number of events - 1 (mod 8), then that many bytes each
 *           picking an event type (the first over the whole table, the
 *           rest among the events of the first one's stream type), then
 *           a JSON value: an array of payloads used in turn, or one
 *           payload used for every event.
 *
 * After every successful fold the state must be an object that
 * serialises (cora_json_dump), since the projections store it.
 *
 * Built with -DFUZZ_PROJECT this is the fuzz_project target: every fold
 * is also applied to the projections (cora_project) of a scratch catalog
 * in memory, inside one transaction per input, as `cora fsck` replays a
 * log.  Events carry "stream_id" in the JSON form; by default all fold
 * into one stream.
 */
#include "core/aggregate.h"
#include "core/error.h"
#ifdef FUZZ_PROJECT
#include "core/catalog.h"
#include "core/projection.h"
#endif

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t n_defs;

#ifdef FUZZ_PROJECT
static struct cora_catalog *scratch;
static int64_t position;
#define DEFAULT_STREAM "01900000-0000-7000-8000-000000000001"
#endif

static void count_defs(void)
{
	if (n_defs == 0)
		while (cora_event_def_at(n_defs))
			n_defs++;
}

/* Folds one event; aborts (a finding) when a success breaks the state. */
static int fold(json_t **state, const char *stream, const char *type,
		const json_t *payload, const char *stream_id)
{
	int rc = cora_evolve(state, stream, type, payload);
	char *dump;

	if (rc > 0 || (rc == 0 && !json_is_object(*state))) {
		fprintf(stderr, "cora_evolve(%s) returned %d, state %p\n",
			type, rc, (void *)*state);
		abort();
	}
	if (rc == 0) {
		dump = cora_json_dump(*state);
		if (!dump)
			abort();
		free(dump);
	}
#ifdef FUZZ_PROJECT
	if (rc == 0 && scratch) {
		struct cora_event e;
		const char *at = json_string_value(json_object_get(payload,
							"occurred_at"));

		memset(&e, 0, sizeof(e));
		e.position = ++position;
		snprintf(e.event_id, sizeof(e.event_id),
			 "01900000-0000-7000-9000-%012llu",
			 (unsigned long long)position % 1000000000000ULL);
		snprintf(e.stream_type, sizeof(e.stream_type), "%s", stream);
		snprintf(e.stream_id, sizeof(e.stream_id), "%s",
			 stream_id ? stream_id : DEFAULT_STREAM);
		e.version = position;
		snprintf(e.event_type, sizeof(e.event_type), "%s", type);
		e.payload = (json_t *)payload;
		snprintf(e.principal, sizeof(e.principal), "%s",
			 DEFAULT_STREAM);
		snprintf(e.occurred_at, sizeof(e.occurred_at), "%s",
			 at ? at : "2026-05-19T14:03:22+00:00");
		snprintf(e.recorded_at, sizeof(e.recorded_at), "%s",
			 e.occurred_at);
		rc = cora_project(scratch, &e, *state);
	}
#else
	(void)stream_id;
#endif
	return rc;
}

static void run_json(const json_t *root)
{
	const json_t *events = json_object_get(root, "events");
	const json_t *payloads = json_object_get(root, "payloads");
	const char *stream = json_string_value(json_object_get(root, "stream"));
	json_t *state = NULL;
	const json_t *v;
	size_t i;

	if (json_is_array(events)) {
		json_array_foreach(events, i, v) {
			const char *type = json_string_value(
				json_object_get(v, "type"));
			const json_t *p = json_object_get(v, "payload");
			const struct cora_event_def *d;

			if (!type || !p)
				continue;
			d = cora_event_def_find(type);
			if (!stream)
				stream = d ? d->stream_type : "Dataset";
			if (fold(&state, stream, type, p,
				 json_string_value(json_object_get(v,
							"stream_id"))))
				break;
		}
	} else if (json_is_array(payloads)) {
		const char *type = json_string_value(json_object_get(root,
								     "type"));
		const struct cora_event_def *d;

		if (type) {
			d = cora_event_def_find(type);
			if (!stream)
				stream = d ? d->stream_type : "Dataset";
			json_array_foreach(payloads, i, v)
				if (fold(&state, stream, type, v, NULL))
					break;
		}
	}
	json_decref(state);
}

static void run_bytes(const uint8_t *data, size_t size)
{
	const struct cora_event_def *first, *d;
	const struct cora_event_def *same[64];
	size_t n_same = 0, n_events, i;
	json_t *payloads, *state = NULL;

	if (size < 2)
		return;
	n_events = (size_t)(data[0] % 8) + 1;
	if (size < 1 + n_events)
		return;
	first = cora_event_def_at(data[1] % n_defs);
	for (i = 0; (d = cora_event_def_at(i)) && n_same < 64; i++)
		if (strcmp(d->stream_type, first->stream_type) == 0)
			same[n_same++] = d;
	payloads = json_loadb((const char *)data + 1 + n_events,
			      size - 1 - n_events, JSON_DECODE_ANY, NULL);
	if (!payloads)
		payloads = json_object();
	for (i = 0; i < n_events; i++) {
		const json_t *p = payloads;

		d = i == 0 ? first : same[data[1 + i] % n_same];
		if (json_is_array(payloads)) {
			if (json_array_size(payloads) == 0)
				break;
			p = json_array_get(payloads,
					   i % json_array_size(payloads));
		}
		if (fold(&state, first->stream_type, d->type, p, NULL))
			break;
	}
	json_decref(state);
	json_decref(payloads);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root;

	count_defs();
#ifdef FUZZ_PROJECT
	position = 0;
	if (cora_catalog_open_scratch(&scratch, ":memory:") != 0 ||
	    cora_tx_begin(scratch) != 0) {
		fprintf(stderr, "scratch catalog: %s\n", cora_error_last());
		abort();
	}
#endif
	if (size > 0 && (data[0] == '{' || data[0] == '[')) {
		root = json_loadb((const char *)data, size, 0, NULL);
		if (root)
			run_json(root);
		json_decref(root);
	} else {
		run_bytes(data, size);
	}
#ifdef FUZZ_PROJECT
	cora_tx_rollback(scratch);
	cora_catalog_free(scratch);
	scratch = NULL;
#endif
	return 0;
}

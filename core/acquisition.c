/*
 * acquisition.c: the Acquisition aggregate (reference 3.6), the birth
 * certificate of a dataset: "asset X captured the bytes of dataset D
 * (during run R)".  Bundles use it to list the instruments actually used.
 *
 * State machine: none.  An acquisition is a recorded fact, terminal at
 * creation:
 *
 *     (none) --acquisition.record--> recorded      AcquisitionRecorded
 *
 * Invariants:
 *
 *  1. The stream id is the acquisition id (ctx->stream_id, a UUIDv7 the
 *     runner mints); acquisitions have no slug.
 *  2. The producing asset has at least one Family with the Capturing
 *     affordance; the dataset exists and is not Discarded; the run, when
 *     named, exists (its status is not checked).
 *  3. captured_at is the instrument's clock: any time up to 60 s after
 *     ctx->now, stored in the canonical form of reference 1.3.
 *  4. settings and evidence are objects whose leaves are primitives
 *     (text, number, boolean, null), nested at most 32 objects deep.
 */
#include "core/aggregate.h"

#include "core/clock.h"
#include "core/cmdarg.h"
#include "core/error.h"

#include <string.h>

#define ACQ_FUTURE_US (60 * (int64_t)1000000)
#define ACQ_DEPTH_MAX 32

/* Invariant 4: depth counts objects, the outermost being 1. */
static int check_tree(const json_t *v, int depth, const char *what)
{
	const char *key;
	json_t *member;

	if (depth > ACQ_DEPTH_MAX)
		return cora_error_set(CORA_EINVALID,
				      "%s nests deeper than %d objects", what,
				      ACQ_DEPTH_MAX);
	json_object_foreach((json_t *)v, key, member) {
		if (json_is_object(member)) {
			int rc = check_tree(member, depth + 1, what);
			if (rc)
				return rc;
		} else if (json_is_array(member)) {
			return cora_error_set(CORA_EINVALID,
				"%s '%s' is a list: values must be text, "
				"numbers, booleans, null or objects", what,
				key);
		}
	}
	return 0;
}

/* An optional object argument; absent or null gives {}. */
static int arg_tree(json_t **out, const json_t *cmd, const char *key)
{
	const json_t *v = json_object_get(cmd, key);
	int rc;

	*out = NULL;
	if (v && !json_is_null(v)) {
		if (!json_is_object(v))
			return cora_error_set(CORA_EINVALID,
					      "%s must be an object", key);
		if ((rc = check_tree(v, 1, key)))
			return rc;
	}
	*out = v && !json_is_null(v) ? json_deep_copy(v) : json_object();
	return *out ? 0 : cora_error_set(CORA_ENOMEM, "out of memory");
}

/* Invariant 3. */
static int captured_at(char buf[CORA_TIME_STRLEN], const json_t *cmd,
		       struct cora_ctx *ctx)
{
	const char *in;
	int64_t at, now;
	int rc;

	if ((rc = cora_arg_str(&in, cmd, "captured_at", "captured_at")))
		return rc;
	if (cora_time_parse(&at, in) != 0)
		return cora_error_set(CORA_EINVALID,
				      "captured_at '%s' is not an RFC 3339 "
				      "time (like 2026-05-19T14:03:22Z)", in);
	if (cora_time_parse(&now, ctx->now) != 0)
		CORA_BUG("ctx->now is not a time");
	if (at > now + ACQ_FUTURE_US)
		return cora_error_set(CORA_EINVALID,
				      "captured_at '%s' is more than 60 s in "
				      "the future", in);
	cora_time_format(buf, at);
	return 0;
}

/* Invariant 2: some Family of the asset affords Capturing. */
static bool can_capture(const json_t *asset, struct cora_ctx *ctx)
{
	const json_t *e, *family;
	size_t i;

	json_array_foreach(json_object_get(asset, "family_ids"), i, e) {
		const char *id = json_string_value(e);
		if (id && ctx->lookup(ctx, "Family", id, &family) == 0 &&
		    cora_json_array_has(json_object_get(family, "affordances"),
					"Capturing"))
			return true;
	}
	return false;
}

static int decide_record(const json_t *state, const json_t *cmd,
			 struct cora_ctx *ctx, struct cora_emit *out)
{
	const char *ds_ref, *asset_ref, *run_ref = NULL, *status;
	const json_t *dataset, *asset, *run = NULL;
	char at[CORA_TIME_STRLEN];
	json_t *settings = NULL, *evidence = NULL, *p;
	bool bad = false;
	int rc;

	if (state)
		return cora_error_set(CORA_EEXISTS,
				      "acquisition '%s' already exists",
				      ctx->stream_id);
	if ((rc = cora_arg_opt_str(&run_ref, cmd, "run", "run")))
		return rc;
	if ((rc = cora_arg_str(&ds_ref, cmd, "dataset", "dataset")) ||
	    (rc = cora_arg_str(&asset_ref, cmd, "asset", "asset")) ||
	    (rc = captured_at(at, cmd, ctx)) ||
	    (rc = arg_tree(&settings, cmd, "settings")) ||
	    (rc = arg_tree(&evidence, cmd, "evidence")))
		goto fail;

	/* References, once every value is well formed. */
	rc = CORA_ENOTFOUND;
	if (ctx->lookup(ctx, "Dataset", ds_ref, &dataset) != 0) {
		cora_error_set(rc, "dataset '%s' does not exist", ds_ref);
		goto fail;
	}
	status = cora_json_str(dataset, "status");
	if (status && strcmp(status, "Discarded") == 0) {
		rc = cora_error_set(CORA_ESTATE,
				    "cannot record an acquisition of dataset "
				    "'%s': it is Discarded", ds_ref);
		goto fail;
	}
	if (ctx->lookup(ctx, "Asset", asset_ref, &asset) != 0) {
		cora_error_set(rc, "asset '%s' does not exist", asset_ref);
		goto fail;
	}
	if (!can_capture(asset, ctx)) {
		rc = cora_error_set(CORA_ESTATE,
				    "cannot record an acquisition by asset "
				    "'%s': none of its families has the "
				    "Capturing affordance", asset_ref);
		goto fail;
	}
	if (run_ref && ctx->lookup(ctx, "Run", run_ref, &run) != 0) {
		cora_error_set(rc, "run '%s' does not exist", run_ref);
		goto fail;
	}

	p = cora_payload_new(ctx, "acquisition_id");
	cora_json_put(p, "dataset_id",
		      json_string(cora_json_str(dataset, "id")), &bad);
	cora_json_put(p, "producing_asset_id",
		      json_string(cora_json_str(asset, "id")), &bad);
	cora_json_put(p, "producing_run_id",
		      run ? json_string(cora_json_str(run, "id")) : json_null(),
		      &bad);
	cora_json_put(p, "captured_at", json_string(at), &bad);
	cora_json_put(p, "settings", settings, &bad);
	cora_json_put(p, "evidence", evidence, &bad);
	return cora_emit_by(out, "AcquisitionRecorded", p, "recorded_by", ctx,
			    bad);
fail:
	json_decref(settings);
	json_decref(evidence);
	return rc;
}

/* State key <- payload key. */
static const struct cora_field_map recorded_fields[] = {
	{ "id", "acquisition_id" },
	{ "dataset_id", "dataset_id" },
	{ "producing_asset_id", "producing_asset_id" },
	{ "producing_run_id", "producing_run_id" },
	{ "captured_at", "captured_at" },
	{ "settings", "settings" },
	{ "evidence", "evidence" },
};

static int evolve_recorded(json_t **state, const char *type, const json_t *p)
{
	bool bad = false;
	json_t *s;
	int rc;

	if ((rc = cora_state_from(&s, type, p, "acquisition_id",
				  recorded_fields,
				  sizeof(recorded_fields) /
				  sizeof(recorded_fields[0]), &bad)))
		return rc;
	return cora_state_done(state, s, bad);
}

static const char *const k_none[] = { NULL };
static const char *const k_recorded[] = {
	"acquisition_id", "dataset_id", "producing_asset_id",
	"producing_run_id", "captured_at", "settings", "evidence",
	"recorded_by", "occurred_at", NULL,
};

const struct cora_event_def cora_acquisition_events[] = {
	{ .type = "AcquisitionRecorded", .stream_type = "Acquisition",
	  .keys = k_recorded, .optional_keys = k_none, .genesis = true,
	  .evolve = evolve_recorded },
	{ .type = NULL },
};

const struct cora_command_def cora_acquisition_commands[] = {
	{ .name = "acquisition.record", .stream_type = "Acquisition",
	  .genesis = true, .decide = decide_record },
	{ .name = NULL },
};

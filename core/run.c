/*
 * run.c: the Run aggregate (reference 4.1), the experiment unit: one
 * execution whose reason to exist is a dataset of record.
 *
 * State machine (the four ends are terminal):
 *
 *               hold                complete
 *     Running -------> Held         Running ----------> Completed
 *        ^               |          Running|Held -abort-> Aborted
 *        +---- resume ---+          Running|Held -stop--> Stopped
 *                                   Running|Held -truncate-> Truncated
 *
 *     transition                 command        event
 *     (none) -> Running          run.start      RunStarted
 *     Running -> Held            run.hold       RunHeld
 *     Held -> Running            run.resume     RunResumed
 *     Running -> Completed       run.complete   RunCompleted
 *     Running|Held -> Aborted    run.abort      RunAborted
 *     Running|Held -> Stopped    run.stop       RunStopped
 *     Running|Held -> Truncated  run.truncate   RunTruncated
 *
 * Invariants:
 *
 *  1. Transitions are strict (reference 1.1): a command from the wrong
 *     state, its own target included, is CORA_ESTATE.
 *  2. started_at is RunStarted's occurred_at; ended_at is null until the
 *     terminal event, then its occurred_at.  end_reason and
 *     interrupted_at are null unless the terminal event carries them.
 *  3. pinned_calibration_ids and asset_ids are fixed at start (CORA's
 *     "AsShot"); sets are sorted without duplicates; external_refs are
 *     sorted by (scheme, value).
 *  4. effective_parameters equals override_parameters: corafs has no
 *     Plan defaults to merge them over.
 */
#include "core/aggregate.h"

#include "core/clock.h"
#include "core/cmdarg.h"
#include "core/error.h"
#include "core/text.h"
#include "core/uuid.h"

#include <stdlib.h>
#include <string.h>

#define RUN_NAME_MAX 200
#define RUN_TRIGGER_MAX 200
#define RUN_REFS_MAX 64
#define RUN_CALIBRATIONS_MAX 64
#define RUN_ASSETS_MAX 256
#define RUN_SCHEME_MAX 50
#define RUN_VALUE_MAX 200

/* ---- small helpers ---------------------------------------------------- */

static int opt_uuid(const char *s, const char *what)
{
	if (s && !cora_uuid_valid(s))
		return cora_error_set(CORA_EINVALID, "%s '%s' is not a UUID",
				      what, s);
	return 0;
}

/* ---- evolvers --------------------------------------------------------- */

/* State key <- RunStarted key. */
static const struct cora_field_map started_fields[] = {
	{ "id", "run_id" },
	{ "slug", "slug" },
	{ "name", "name" },
	{ "subject_id", "subject_id" },
	{ "plan_id", "plan_id" },
	{ "campaign_id", "campaign_id" },
	{ "effective_parameters", "effective_parameters" },
	{ "override_parameters", "override_parameters" },
	{ "trigger_source", "trigger_source" },
	{ "external_refs", "external_refs" },
	{ "pinned_calibration_ids", "pinned_calibration_ids" },
	{ "asset_ids", "asset_ids" },
	{ "started_at", "occurred_at" },
};

static int evolve_started(json_t **state, const char *type, const json_t *p)
{
	bool bad = false;
	json_t *s;
	int rc;

	if ((rc = cora_state_from(&s, type, p, "run_id", started_fields,
				  sizeof(started_fields) /
				  sizeof(started_fields[0]), &bad)))
		return rc;
	cora_json_put(s, "status", json_string("Running"), &bad);
	cora_json_put(s, "ended_at", json_null(), &bad);
	cora_json_put(s, "end_reason", json_null(), &bad);
	cora_json_put(s, "interrupted_at", json_null(), &bad);
	return cora_state_done(state, s, bad);
}

/* ---- transitions ------------------------------------------------------ */

enum {
	RUNNING = 1 << 0,
	HELD = 1 << 1,
};

/* One row per transition; the evolver and the decider both read it. */
struct transition {
	const char *verb;      /* for messages: "hold" */
	const char *event;     /* RunHeld */
	const char *by_key;    /* held_by */
	const char *to;        /* Held */
	unsigned from;         /* RUNNING | HELD */
	bool reason;           /* takes a reason */
	bool terminal;         /* sets ended_at */
};

static const struct transition transitions[] = {
	/* verb, event, by_key, to, from, reason, terminal */
	{ "hold", "RunHeld", "held_by", "Held", RUNNING, false, false },
	{ "resume", "RunResumed", "resumed_by", "Running", HELD, false,
	  false },
	{ "complete", "RunCompleted", "completed_by", "Completed", RUNNING,
	  false, true },
	{ "abort", "RunAborted", "aborted_by", "Aborted", RUNNING | HELD,
	  true, true },
	{ "stop", "RunStopped", "stopped_by", "Stopped", RUNNING | HELD,
	  true, true },
	{ "truncate", "RunTruncated", "truncated_by", "Truncated",
	  RUNNING | HELD, true, true },
};

#define N_TRANSITIONS (sizeof(transitions) / sizeof(transitions[0]))

static const struct transition *transition_by_event(const char *type)
{
	size_t i;

	for (i = 0; i < N_TRANSITIONS; i++)
		if (strcmp(transitions[i].event, type) == 0)
			return &transitions[i];
	CORA_BUG("run event without a transition row");
}

static int evolve_transition(json_t **state, const char *type,
			     const json_t *p)
{
	const struct transition *t = transition_by_event(type);
	bool bad = false;

	cora_json_put(*state, "status", json_string(t->to), &bad);
	if (t->terminal) {
		cora_json_put(*state, "ended_at",
		    cora_json_copy_of(p, "occurred_at"), &bad);
		cora_json_put(*state, "end_reason",
		    cora_json_copy_of(p, "reason"), &bad);
		cora_json_put(*state, "interrupted_at",
		    cora_json_copy_of(p, "interrupted_at"), &bad);
	}
	return bad ? cora_error_set(CORA_ENOMEM, "out of memory") : 0;
}

static unsigned status_bit(const json_t *state)
{
	const char *s = cora_json_str(state, "status");

	if (s && strcmp(s, "Running") == 0)
		return RUNNING;
	if (s && strcmp(s, "Held") == 0)
		return HELD;
	return 0; /* terminal */
}

/* When given, interrupted_at is an RFC 3339 time between the start and
 * now; it is stored in the canonical form of reference 1.3. */
static int interrupted_at(char buf[CORA_TIME_STRLEN], const json_t *state,
			  const json_t *cmd, struct cora_ctx *ctx,
			  bool *given)
{
	const char *in;
	int64_t at, start, now;
	int rc;

	*given = false;
	if ((rc = cora_arg_opt_str(&in, cmd, "interrupted_at",
				   "interrupted_at")))
		return rc;
	if (!in)
		return 0;
	if (cora_time_parse(&at, in) != 0)
		return cora_error_set(CORA_EINVALID,
				      "interrupted_at '%s' is not an RFC "
				      "3339 time (like 2026-05-19T14:03:22Z)",
				      in);
	if (cora_time_parse(&now, ctx->now) == 0 && at > now)
		return cora_error_set(CORA_EINVALID,
				      "interrupted_at '%s' is in the future",
				      in);
	if (cora_time_parse(&start, cora_json_str(state, "started_at")) == 0 &&
	    at < start)
		return cora_error_set(CORA_EINVALID,
				      "interrupted_at '%s' is before run '%s' "
				      "started", in, cora_label(state));
	cora_time_format(buf, at);
	*given = true;
	return 0;
}

static int decide_transition(const struct transition *t, const json_t *state,
			     const json_t *cmd, struct cora_ctx *ctx,
			     struct cora_emit *out)
{
	char at[CORA_TIME_STRLEN];
	const char *in_reason;
	char *reason = NULL;
	bool bad = false, has_at = false;
	json_t *p;
	int rc;

	if (!state)
		return cora_error_set(CORA_ENOTFOUND,
				      "run '%s' does not exist",
				      ctx->stream_id);
	if (!(status_bit(state) & t->from))
		return cora_error_set(CORA_ESTATE,
				      "cannot %s run '%s': it is %s", t->verb,
				      cora_label(state),
				      cora_json_str(state, "status"));
	if (t->reason &&
	    ((rc = cora_arg_str(&in_reason, cmd, "reason", "reason")) ||
	     (rc = cora_text_reason(&reason, in_reason))))
		return rc;
	if (strcmp(t->event, "RunTruncated") == 0 &&
	    (rc = interrupted_at(at, state, cmd, ctx, &has_at))) {
		free(reason);
		return rc;
	}
	p = cora_payload_new(ctx, "run_id");
	if (reason)
		cora_json_put(p, "reason", json_string(reason), &bad);
	if (has_at)
		cora_json_put(p, "interrupted_at", json_string(at), &bad);
	free(reason);
	return cora_emit_by(out, t->event, p, t->by_key, ctx, bad);
}

/* A decider cannot see its command's name, so each command gets a small
 * wrapper naming its row by event type. */
#define TRANSITION(fn, event)                                               \
	static int fn(const json_t *state, const json_t *cmd,                \
		      struct cora_ctx *ctx, struct cora_emit *out)           \
	{                                                                    \
		return decide_transition(transition_by_event(event), state,  \
					 cmd, ctx, out);                     \
	}

TRANSITION(decide_hold, "RunHeld")
TRANSITION(decide_resume, "RunResumed")
TRANSITION(decide_complete, "RunCompleted")
TRANSITION(decide_abort, "RunAborted")
TRANSITION(decide_stop, "RunStopped")
TRANSITION(decide_truncate, "RunTruncated")

/* ---- start ------------------------------------------------------------ */

/* external_refs: [{scheme 1..50, value 1..200}], trimmed, sorted by
 * (scheme, value), duplicates dropped. */
static int external_refs(json_t **out, const json_t *list)
{
	const json_t *e;
	char *scheme = NULL, *value = NULL;
	json_t *sorted;
	size_t i;
	int rc = 0;

	*out = json_array();
	if (!*out)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	json_array_foreach(list, i, e) {
		if (!json_is_object(e))
			return cora_error_set(CORA_EINVALID,
					      "external reference %zu must be "
					      "an object {scheme, value}",
					      i + 1);
		if ((rc = cora_text_bounded(&scheme, cora_json_str(e, "scheme"),
					    1, RUN_SCHEME_MAX,
					    "external reference scheme")) ||
		    (rc = cora_text_bounded(&value, cora_json_str(e, "value"),
					    1, RUN_VALUE_MAX,
					    "external reference value"))) {
			free(scheme);
			return rc;
		}
		if (json_array_append_new(*out,
			json_pack("{s:s, s:s}", "scheme", scheme,
				  "value", value)))
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
		free(scheme);
		free(value);
		scheme = value = NULL;
		if (rc)
			return rc;
	}
	cora_json_sort_objects(*out, "scheme", "value");
	sorted = json_array();
	if (!sorted)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	json_array_foreach(*out, i, e) {
		const json_t *prev = i ? json_array_get(*out, i - 1) : NULL;
		if (prev && json_equal(prev, e))
			continue;
		json_array_append(sorted, (json_t *)e);
	}
	json_decref(*out);
	*out = sorted;
	return 0;
}

/* The Assets bound to the run: each exists and is not Decommissioned. */
static int bound_assets(json_t **out, const json_t *list, const char *slug,
			struct cora_ctx *ctx)
{
	const json_t *e, *asset;
	size_t i;

	*out = json_array();
	if (!*out)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	json_array_foreach(list, i, e) {
		const char *ref = json_string_value(e), *life;
		if (!ref)
			return cora_error_set(CORA_EINVALID,
					      "assets must be a list of text");
		if (ctx->lookup(ctx, "Asset", ref, &asset) != 0)
			return cora_error_set(CORA_ENOTFOUND,
					      "cannot start run '%s': asset "
					      "'%s' does not exist", slug, ref);
		life = cora_json_str(asset, "lifecycle");
		if (life && strcmp(life, "Decommissioned") == 0)
			return cora_error_set(CORA_ESTATE,
					      "cannot start run '%s': asset "
					      "'%s' is Decommissioned", slug,
					      ref);
		if (json_array_append_new(*out,
				json_string(cora_json_str(asset, "id"))))
			return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	cora_json_sort_strings(*out);
	return 0;
}

static int decide_start(const json_t *state, const json_t *cmd,
			struct cora_ctx *ctx, struct cora_emit *out)
{
	const char *slug, *in_name, *subject, *plan, *campaign, *in_trigger;
	const json_t *params, *in_refs, *in_calib, *in_assets, *other;
	json_t *refs = NULL, *calib = NULL, *assets = NULL, *p;
	char *name = NULL, *trigger = NULL;
	bool bad = false;
	struct cora_uuid u;
	int rc;

	if ((rc = cora_arg_str(&slug, cmd, "slug", "run slug")) ||
	    (rc = cora_text_slug(slug, "run")))
		return rc;
	/* A reference is an id or a slug: a slug shaped like an id would
	 * be ambiguous. */
	if (cora_uuid_parse(&u, slug) == 0)
		return cora_error_set(CORA_EINVALID,
				      "run slug '%s' may not be a uuid", slug);
	if (state || ctx->lookup(ctx, "Run", slug, &other) == 0)
		return cora_error_set(CORA_EEXISTS, "run '%s' already exists",
				      slug);
	params = json_object_get(cmd, "override_parameters");
	if (params && !json_is_null(params) && !json_is_object(params))
		return cora_error_set(CORA_EINVALID,
				      "override_parameters must be an object");
	if ((rc = cora_arg_str(&in_name, cmd, "name", "run name")) ||
	    (rc = cora_arg_opt_str(&subject, cmd, "subject_id",
				   "subject id")) ||
	    (rc = cora_arg_opt_str(&plan, cmd, "plan_id", "plan id")) ||
	    (rc = cora_arg_opt_str(&campaign, cmd, "campaign_id",
			      "campaign id")) ||
	    (rc = cora_arg_opt_str(&in_trigger, cmd, "trigger_source",
			      "trigger source")) ||
	    (rc = opt_uuid(subject, "subject id")) ||
	    (rc = opt_uuid(plan, "plan id")) ||
	    (rc = opt_uuid(campaign, "campaign id")) ||
	    (rc = cora_arg_opt_list(&in_refs, cmd, "external_refs",
				    RUN_REFS_MAX,
			       "external_refs")) ||
	    (rc = cora_arg_opt_list(&in_calib, cmd, "pinned_calibration_ids",
			       RUN_CALIBRATIONS_MAX,
			       "pinned_calibration_ids")) ||
	    (rc = cora_arg_opt_list(&in_assets, cmd, "assets", RUN_ASSETS_MAX,
			       "assets")))
		return rc;
	if ((rc = cora_text_bounded(&name, in_name, 1, RUN_NAME_MAX,
				    "run name")) ||
	    (in_trigger && (rc = cora_text_bounded(&trigger, in_trigger, 1,
						   RUN_TRIGGER_MAX,
						   "trigger source"))) ||
	    (rc = external_refs(&refs, in_refs)) ||
	    (rc = cora_arg_uuid_set(&calib, in_calib, "calibration id")) ||
	    (rc = bound_assets(&assets, in_assets, slug, ctx)))
		goto out;

	p = cora_payload_new(ctx, "run_id");
	cora_json_put(p, "slug", json_string(slug), &bad);
	cora_json_put(p, "name", json_string(name), &bad);
	cora_json_put(p, "subject_id", cora_json_str_or_null(subject), &bad);
	cora_json_put(p, "plan_id", cora_json_str_or_null(plan), &bad);
	cora_json_put(p, "campaign_id", cora_json_str_or_null(campaign), &bad);
	cora_json_put(p, "override_parameters",
	    params && json_is_object(params) ? json_deep_copy(params) :
	    json_object(), &bad);
	cora_json_put(p, "effective_parameters",
	    json_deep_copy(json_object_get(p, "override_parameters")), &bad);
	cora_json_put(p, "trigger_source", cora_json_str_or_null(trigger),
		      &bad);
	cora_json_put(p, "external_refs", json_incref(refs), &bad);
	cora_json_put(p, "pinned_calibration_ids", json_incref(calib), &bad);
	cora_json_put(p, "asset_ids", json_incref(assets), &bad);
	rc = cora_emit_by(out, "RunStarted", p, "started_by", ctx, bad);
out:
	free(name);
	free(trigger);
	json_decref(refs);
	json_decref(calib);
	json_decref(assets);
	return rc;
}

/* ---- tables ----------------------------------------------------------- */

static const char *const k_none[] = { NULL };
static const char *const k_started[] = {
	"run_id", "slug", "name", "subject_id", "plan_id", "campaign_id",
	"effective_parameters", "override_parameters", "trigger_source",
	"external_refs", "pinned_calibration_ids", "asset_ids", "started_by",
	"occurred_at", NULL,
};
static const char *const k_held[] = {
	"run_id", "occurred_at", "held_by", NULL,
};
static const char *const k_resumed[] = {
	"run_id", "occurred_at", "resumed_by", NULL,
};
static const char *const k_completed[] = {
	"run_id", "occurred_at", "completed_by", NULL,
};
static const char *const k_aborted[] = {
	"run_id", "reason", "occurred_at", "aborted_by", NULL,
};
static const char *const k_stopped[] = {
	"run_id", "reason", "occurred_at", "stopped_by", NULL,
};
static const char *const k_truncated[] = {
	"run_id", "reason", "occurred_at", "truncated_by", NULL,
};
static const char *const k_truncated_opt[] = { "interrupted_at", NULL };

#define EV(t, k, opt, g, fn) { .type = (t), .stream_type = "Run", \
	.keys = (k), .optional_keys = (opt), .genesis = (g), .evolve = (fn) }

const struct cora_event_def cora_run_events[] = {
	EV("RunStarted", k_started, k_none, true, evolve_started),
	EV("RunHeld", k_held, k_none, false, evolve_transition),
	EV("RunResumed", k_resumed, k_none, false, evolve_transition),
	EV("RunCompleted", k_completed, k_none, false, evolve_transition),
	EV("RunAborted", k_aborted, k_none, false, evolve_transition),
	EV("RunStopped", k_stopped, k_none, false, evolve_transition),
	EV("RunTruncated", k_truncated, k_truncated_opt, false,
	   evolve_transition),
	{ .type = NULL },
};

#define CMD(n, g, fn) { .name = (n), .stream_type = "Run", .genesis = (g), \
	.decide = (fn) }

const struct cora_command_def cora_run_commands[] = {
	CMD("run.start", true, decide_start),
	CMD("run.hold", false, decide_hold),
	CMD("run.resume", false, decide_resume),
	CMD("run.complete", false, decide_complete),
	CMD("run.abort", false, decide_abort),
	CMD("run.stop", false, decide_stop),
	CMD("run.truncate", false, decide_truncate),
	{ .name = NULL },
};

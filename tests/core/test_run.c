/*
 * test_run.c: the Run aggregate (state machine of reference 4.1) and the
 * Acquisition aggregate (reference 3.6).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/aggregate.h"
#include "core/error.h"
#include "tests/core/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN1 "01900000-0000-7000-8000-0000000000a1"
#define DS1 "01900000-0000-7000-8000-0000000000d1"
#define ACQ1 "01900000-0000-7000-8000-0000000000e1"
#define CAM "01900000-0000-7000-8000-0000000000b1"
#define ROT "01900000-0000-7000-8000-0000000000b2"
#define OLD "01900000-0000-7000-8000-0000000000b3"
#define FAM_CAMERA "01900000-0000-7000-8000-0000000000f1"
#define FAM_STAGE "01900000-0000-7000-8000-0000000000f2"
#define CAL1 "01900000-0000-7000-8000-0000000000c1"
#define CAL2 "01900000-0000-7000-8000-0000000000c2"


/* ---- helpers ---------------------------------------------------------- */

static void put_state(const char *type, const char *fmt, ...)
{
	va_list ap;
	json_t *s;

	va_start(ap, fmt);
	s = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	assert_non_null(s);
	fixture_put(&fx, type, s);
	json_decref(s);
}

/* Two assets and the families behind them; one decommissioned asset. */
static void put_equipment(void)
{
	put_state("Family", "{s:s, s:s, s:[s, s]}", "id", FAM_CAMERA, "name",
		  "Camera", "affordances", "Capturing", "Imageable");
	put_state("Family", "{s:s, s:s, s:[s, s]}", "id", FAM_STAGE, "name",
		  "RotaryStage", "affordances", "Rotatable", "Homeable");
	put_state("Asset", "{s:s, s:s, s:s, s:[s]}", "id", CAM, "slug",
		  "camera", "lifecycle", "Active", "family_ids", FAM_CAMERA);
	put_state("Asset", "{s:s, s:s, s:s, s:[s]}", "id", ROT, "slug",
		  "rotary", "lifecycle", "Active", "family_ids", FAM_STAGE);
	put_state("Asset", "{s:s, s:s, s:s, s:[]}", "id", OLD, "slug",
		  "old-camera", "lifecycle", "Decommissioned", "family_ids");
}

static json_t *start_run(const char *slug)
{
	json_t *s = NULL;

	fixture_set_stream(&fx, RUN1);
	ok("run.start", &s, json_pack("{s:s, s:s}", "slug", slug, "name",
				      "2-BM continuous-rotation acquisition"));
	fixture_put(&fx, "Run", s);
	return s;
}

/* ---- tables ----------------------------------------------------------- */

static void test_run_events__every_payload_names_its_run(void **st)
{
	const struct cora_event_def *d;
	size_t i, k, runs = 0, acqs = 0;

	for (i = 0; (d = cora_event_def_at(i)); i++) {
		const char *id;
		bool has_id = false, at = false, by = false;
		if (strcmp(d->stream_type, "Run") == 0) {
			id = "run_id";
			runs++;
			assert_int_equal(d->genesis,
					 strcmp(d->type, "RunStarted") == 0);
		} else if (strcmp(d->stream_type, "Acquisition") == 0) {
			id = "acquisition_id";
			acqs++;
			assert_true(d->genesis);
		} else {
			continue;
		}
		for (k = 0; d->keys[k]; k++) {
			size_t n = strlen(d->keys[k]);
			has_id |= strcmp(d->keys[k], id) == 0;
			at |= strcmp(d->keys[k], "occurred_at") == 0;
			by |= n > 3 && strcmp(d->keys[k] + n - 3, "_by") == 0;
		}
		if (!has_id || !at || !by)
			fail_msg("%s lacks its id, time or attribution",
				 d->type);
	}
	assert_int_equal(runs, 7);
	assert_int_equal(acqs, 1);
}

/* ---- start ------------------------------------------------------------ */

static void test_run_start__minimal(void **st)
{
	json_t *s = NULL, *p;

	fixture_set_stream(&fx, RUN1);
	ok_last("run.start", &s, json_pack("{s:s, s:s}", "slug", "run-7",
		"name", " Dark field "), &p);
	assert_string_equal(cora_json_str(p, "run_id"), RUN1);
	assert_string_equal(cora_json_str(p, "name"), "Dark field");
	assert_string_equal(cora_json_str(p, "started_by"), fx.ctx.principal);
	assert_true(json_is_null(json_object_get(p, "subject_id")));
	assert_true(json_is_null(json_object_get(p, "plan_id")));
	assert_true(json_is_null(json_object_get(p, "campaign_id")));
	assert_true(json_is_null(json_object_get(p, "trigger_source")));
	assert_int_equal(json_object_size(json_object_get(p,
			 "override_parameters")), 0);
	assert_int_equal(json_array_size(json_object_get(p, "asset_ids")), 0);
	json_decref(p);
	assert_string_equal(cora_json_str(s, "status"), "Running");
	assert_string_equal(cora_json_str(s, "started_at"), NOW);
	assert_true(json_is_null(json_object_get(s, "ended_at")));
	assert_true(json_is_null(json_object_get(s, "end_reason")));
	assert_replay("Run", s);
	json_decref(s);
}

static void test_run_start__all_fields_sorted(void **st)
{
	json_t *s = NULL, *p, *refs;

	put_equipment();
	fixture_set_stream(&fx, RUN1);
	ok_last("run.start", &s, json_pack("{s:s, s:s, s:s, s:s, s:s,"
		" s:{s:f, s:i}, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}],"
		" s:[s, s], s:[s, s]}",
		"slug", "run-7",
		"name", "2-BM continuous-rotation acquisition",
		"subject_id", CAL1, "plan_id", CAL2, "campaign_id", CAL1,
		"override_parameters", "rotation_speed_deg_per_s", 0.5,
		"exposure_time_ms", 50,
		"trigger_source", "operator:opid:42",
		"external_refs", "scheme", "proposal", "value", " GUP-1234 ",
		"scheme", "cycle", "value", "2026-1",
		"scheme", "proposal", "value", "GUP-1234",
		"pinned_calibration_ids", CAL2, CAL1,
		"assets", "rotary", CAM), &p);
	refs = json_object_get(p, "external_refs");
	assert_int_equal(json_array_size(refs), 2);
	assert_string_equal(cora_json_str(json_array_get(refs, 0), "scheme"),
			    "cycle");
	assert_string_equal(cora_json_str(json_array_get(refs, 1), "value"),
			    "GUP-1234");
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(p, "pinned_calibration_ids"), 0)), CAL1);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(p, "asset_ids"), 0)), CAM);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(p, "asset_ids"), 1)), ROT);
	assert_true(json_equal(json_object_get(p, "effective_parameters"),
			       json_object_get(p, "override_parameters")));
	assert_int_equal(cora_json_int(json_object_get(p,
			 "override_parameters"), "exposure_time_ms", 0), 50);
	assert_string_equal(cora_json_str(p, "trigger_source"),
			    "operator:opid:42");
	json_decref(p);
	assert_string_equal(cora_json_str(s, "plan_id"), CAL2);
	assert_replay("Run", s);
	json_decref(s);
}

static void test_run_start__refuses_bad_input(void **st)
{
	json_t *s = start_run("run-7"), *many;
	char longname[202];
	int i;

	fixture_set_stream(&fx, CAL1);
	fails("run.start", NULL, json_pack("{s:s, s:s}", "slug", "run-7",
	      "name", "x"), CORA_EEXISTS, "run 'run-7' already exists");
	fails("run.start", s, json_pack("{s:s, s:s}", "slug", "run-8",
	      "name", "x"), CORA_EEXISTS, "run 'run-8' already exists");
	fails("run.start", NULL, json_pack("{s:s, s:s}", "slug", "_x",
	      "name", "x"), CORA_EINVALID, "run '_x' is not a valid name: use "
	      "letters, digits, '.', '_' and '-', starting with a letter or "
	      "digit");
	fails("run.start", NULL, json_pack("{s:s}", "slug", "r"),
	      CORA_EINVALID, "run name is missing");
	fails("run.start", NULL, json_pack("{s:s, s:s}", "slug", CAL2,
	      "name", "x"), CORA_EINVALID,
	      "run slug '" CAL2 "' may not be a uuid");
	fails("run.complete", NULL, json_object(), CORA_ENOTFOUND,
	      "run '" CAL1 "' does not exist");
	fails("run.start", NULL, json_pack("{s:s, s:s}", "slug", "r", "name",
	      "  "), CORA_EINVALID, "run name is empty");
	memset(longname, 'n', 201);
	longname[201] = 0;
	fails("run.start", NULL, json_pack("{s:s, s:s}", "slug", "r", "name",
	      longname), CORA_EINVALID,
	      "run name must be 1 to 200 characters, not 201");
	fails("run.start", NULL, json_pack("{s:s, s:s, s:s}", "slug", "r",
	      "name", "x", "trigger_source", longname), CORA_EINVALID,
	      "trigger source must be 1 to 200 characters, not 201");
	fails("run.start", NULL, json_pack("{s:s, s:s, s:s}", "slug", "r",
	      "name", "x", "subject_id", "sn-2024-038"), CORA_EINVALID,
	      "subject id 'sn-2024-038' is not a UUID");
	fails("run.start", NULL, json_pack("{s:s, s:s, s:s}", "slug", "r",
	      "name", "x", "plan_id", "p"), CORA_EINVALID,
	      "plan id 'p' is not a UUID");
	fails("run.start", NULL, json_pack("{s:s, s:s, s:[]}", "slug", "r",
	      "name", "x", "override_parameters"), CORA_EINVALID,
	      "override_parameters must be an object");
	fails("run.start", NULL, json_pack("{s:s, s:s, s:{}}", "slug", "r",
	      "name", "x", "external_refs"), CORA_EINVALID,
	      "external_refs must be a list");
	fails("run.start", NULL, json_pack("{s:s, s:s, s:[s]}", "slug", "r",
	      "name", "x", "external_refs", "proposal"), CORA_EINVALID,
	      "external reference 1 must be an object {scheme, value}");
	fails("run.start", NULL, json_pack("{s:s, s:s, s:[{s:s, s:s}]}",
	      "slug", "r", "name", "x", "external_refs", "scheme", " ",
	      "value", "v"), CORA_EINVALID,
	      "external reference scheme is empty");
	fails("run.start", NULL, json_pack("{s:s, s:s, s:[{s:s}]}",
	      "slug", "r", "name", "x", "external_refs", "scheme", "btr"),
	      CORA_EINVALID, "external reference value is missing");
	fails("run.start", NULL, json_pack("{s:s, s:s, s:[{s:s, s:s}]}",
	      "slug", "r", "name", "x", "external_refs", "scheme", "visit",
	      "value", longname), CORA_EINVALID,
	      "external reference value must be 1 to 200 characters, not 201");
	many = json_array();
	for (i = 0; i < 65; i++)
		json_array_append_new(many, json_string(CAL1));
	fails("run.start", NULL, json_pack("{s:s, s:s, s:o}", "slug", "r",
	      "name", "x", "pinned_calibration_ids", many), CORA_EINVALID,
	      "pinned_calibration_ids has 65 entries: at most 64");
	fails("run.start", NULL, json_pack("{s:s, s:s, s:[s]}", "slug", "r",
	      "name", "x", "pinned_calibration_ids", "rotation_center"),
	      CORA_EINVALID,
	      "calibration id 'rotation_center' is not a UUID");
	json_decref(s);
}

static void test_run_start__refuses_missing_or_decommissioned_assets(void **st)
{
	put_equipment();
	fixture_set_stream(&fx, RUN1);
	fails("run.start", NULL, json_pack("{s:s, s:s, s:[s, s]}", "slug",
	      "run-7", "name", "x", "assets", "camera", "hexapod"),
	      CORA_ENOTFOUND,
	      "cannot start run 'run-7': asset 'hexapod' does not exist");
	fails("run.start", NULL, json_pack("{s:s, s:s, s:[s]}", "slug",
	      "run-7", "name", "x", "assets", "old-camera"), CORA_ESTATE,
	      "cannot start run 'run-7': asset 'old-camera' is Decommissioned");
	fails("run.start", NULL, json_pack("{s:s, s:s, s:[i]}", "slug",
	      "run-7", "name", "x", "assets", 7), CORA_EINVALID,
	      "assets must be a list of text");
}

/* ---- the state machine ------------------------------------------------ */

static const char *const statuses[] = {
	"Running", "Held", "Completed", "Aborted", "Stopped", "Truncated",
};

static const struct {
	const char *command, *verb, *to;
	bool from_running, from_held;
} moves[] = {
	{ "run.hold", "hold", "Held", true, false },
	{ "run.resume", "resume", "Running", false, true },
	{ "run.complete", "complete", "Completed", true, false },
	{ "run.abort", "abort", "Aborted", true, true },
	{ "run.stop", "stop", "Stopped", true, true },
	{ "run.truncate", "truncate", "Truncated", true, true },
};

static void test_run_transitions__follow_the_table(void **st)
{
	json_t *base = start_run("run-7");
	size_t i, k;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		for (k = 0; k < sizeof(moves) / sizeof(moves[0]); k++) {
			json_t *s = json_deep_copy(base);
			bool allowed = (i == 0 && moves[k].from_running) ||
				       (i == 1 && moves[k].from_held);
			char msg[200];

			json_object_set_new(s, "status",
					    json_string(statuses[i]));
			if (allowed) {
				ok(moves[k].command, &s, reason("because"));
				assert_string_equal(cora_json_str(s, "status"),
						    moves[k].to);
			} else {
				snprintf(msg, sizeof(msg),
					 "cannot %s run 'run-7': it is %s",
					 moves[k].verb, statuses[i]);
				fails(moves[k].command, s, reason("because"),
				      CORA_ESTATE, msg);
			}
			json_decref(s);
		}
	}
	json_decref(base);
}

static void test_run_complete__refuses_held(void **st)
{
	json_t *s = start_run("run-7");

	ok("run.hold", &s, json_object());
	fails("run.complete", s, json_object(), CORA_ESTATE,
	      "cannot complete run 'run-7': it is Held");
	json_decref(s);
}

static void test_run_lifecycle__hold_resume_complete_replays(void **st)
{
	json_t *s = start_run("run-7"), *p;

	fx.ctx.now = "2026-05-19T14:10:00+00:00";
	ok_last("run.hold", &s, json_object(), &p);
	assert_string_equal(cora_json_str(p, "held_by"), fx.ctx.principal);
	json_decref(p);
	assert_true(json_is_null(json_object_get(s, "ended_at")));
	fx.ctx.now = "2026-05-19T14:20:00+00:00";
	ok("run.resume", &s, json_object());
	fx.ctx.now = "2026-05-19T15:00:00.250000+00:00";
	ok_last("run.complete", &s, json_object(), &p);
	assert_null(json_object_get(p, "reason"));
	json_decref(p);
	assert_string_equal(cora_json_str(s, "status"), "Completed");
	assert_string_equal(cora_json_str(s, "started_at"), NOW);
	assert_string_equal(cora_json_str(s, "ended_at"),
			    "2026-05-19T15:00:00.250000+00:00");
	assert_true(json_is_null(json_object_get(s, "end_reason")));
	assert_replay("Run", s);
	json_decref(s);
}

static void test_run_abort_and_stop__need_a_reason(void **st)
{
	json_t *s = start_run("run-7"), *p;

	fails("run.abort", s, json_object(), CORA_EINVALID,
	      "reason is missing");
	fails("run.stop", s, reason(""), CORA_EINVALID, "reason is empty");
	ok_last("run.abort", &s, reason(" shutter fault "), &p);
	assert_string_equal(cora_json_str(p, "reason"), "shutter fault");
	assert_string_equal(cora_json_str(p, "aborted_by"), fx.ctx.principal);
	json_decref(p);
	assert_string_equal(cora_json_str(s, "end_reason"), "shutter fault");
	assert_string_equal(cora_json_str(s, "ended_at"), NOW);
	assert_replay("Run", s);
	json_decref(s);
}

static void test_run_truncate__interrupted_at(void **st)
{
	json_t *s, *p;

	fx.ctx.now = "2026-05-19T13:00:00+00:00";
	s = start_run("run-7");
	fx.ctx.now = NOW;
	fails("run.truncate", s, json_pack("{s:s, s:s}", "reason", "beam lost",
	      "interrupted_at", "yesterday"), CORA_EINVALID,
	      "interrupted_at 'yesterday' is not an RFC 3339 time (like "
	      "2026-05-19T14:03:22Z)");
	fails("run.truncate", s, json_pack("{s:s, s:s}", "reason", "beam lost",
	      "interrupted_at", "2026-05-19T14:03:23Z"), CORA_EINVALID,
	      "interrupted_at '2026-05-19T14:03:23Z' is in the future");
	fails("run.truncate", s, json_pack("{s:s, s:s}", "reason", "beam lost",
	      "interrupted_at", "2026-05-19T12:59:59Z"), CORA_EINVALID,
	      "interrupted_at '2026-05-19T12:59:59Z' is before run 'run-7' "
	      "started");
	ok_last("run.truncate", &s, json_pack("{s:s, s:s}", "reason",
		"beam lost", "interrupted_at", "2026-05-19T15:30:00+01:30"), &p);
	assert_string_equal(cora_json_str(p, "interrupted_at"),
			    "2026-05-19T14:00:00+00:00");
	json_decref(p);
	assert_string_equal(cora_json_str(s, "status"), "Truncated");
	assert_string_equal(cora_json_str(s, "interrupted_at"),
			    "2026-05-19T14:00:00+00:00");
	assert_replay("Run", s);
	json_decref(s);

	/* interrupted_at is optional: absent from the payload, not null. */
	s = start_run("run-8");
	ok_last("run.truncate", &s, reason("beam lost"), &p);
	assert_null(json_object_get(p, "interrupted_at"));
	json_decref(p);
	assert_true(json_is_null(json_object_get(s, "interrupted_at")));
	json_decref(s);
}

/* ---- acquisition ------------------------------------------------------ */

static void put_dataset(const char *status)
{
	put_state("Dataset", "{s:s, s:s, s:s, s:s}", "id", DS1, "slug",
		  "scan-1", "status", status, "intent", "Trial");
}

static json_t *record_cmd(const char *captured_at)
{
	return json_pack("{s:s, s:s, s:s}", "dataset", "scan-1", "asset",
			 "camera", "captured_at", captured_at);
}

static void test_acquisition_record__payload(void **st)
{
	json_t *run = start_run("run-7"), *s = NULL, *p;

	fixture_put(&fx, "Run", run);
	put_equipment();
	put_dataset("Registered");
	fixture_set_stream(&fx, ACQ1);
	ok_last("acquisition.record", &s, json_pack("{s:s, s:s, s:s, s:s,"
		" s:{s:i, s:i}, s:{s:s}}", "dataset", "scan-1", "asset",
		"camera", "run", "run-7", "captured_at", "2026-05-19T14:03:22Z",
		"settings", "exposure_ms", 50, "frames", 1500, "evidence",
		"detector_serial", "19173710"), &p);
	assert_string_equal(cora_json_str(p, "acquisition_id"), ACQ1);
	assert_string_equal(cora_json_str(p, "dataset_id"), DS1);
	assert_string_equal(cora_json_str(p, "producing_asset_id"), CAM);
	assert_string_equal(cora_json_str(p, "producing_run_id"), RUN1);
	assert_string_equal(cora_json_str(p, "captured_at"),
			    "2026-05-19T14:03:22+00:00");
	assert_string_equal(cora_json_str(p, "recorded_by"), fx.ctx.principal);
	assert_int_equal(cora_json_int(json_object_get(p, "settings"),
				       "frames", 0), 1500);
	json_decref(p);
	assert_string_equal(cora_json_str(s, "id"), ACQ1);
	assert_string_equal(cora_json_str(json_object_get(s, "evidence"),
					  "detector_serial"), "19173710");
	assert_replay("Acquisition", s);
	json_decref(s);
	json_decref(run);
}

static void test_acquisition_record__defaults(void **st)
{
	json_t *s = NULL, *p;

	put_equipment();
	put_dataset("Registered");
	fixture_set_stream(&fx, ACQ1);
	ok_last("acquisition.record", &s, record_cmd("2020-01-01T00:00:00Z"),
		&p);
	assert_true(json_is_null(json_object_get(p, "producing_run_id")));
	assert_int_equal(json_object_size(json_object_get(p, "settings")), 0);
	assert_int_equal(json_object_size(json_object_get(p, "evidence")), 0);
	json_decref(p);
	assert_replay("Acquisition", s);
	fails("acquisition.record", s, record_cmd("2020-01-01T00:00:00Z"),
	      CORA_EEXISTS, "acquisition '" ACQ1 "' already exists");
	json_decref(s);
}

static void test_acquisition_record__refuses_without_capturing(void **st)
{
	put_equipment();
	put_dataset("Registered");
	put_state("Asset", "{s:s, s:s, s:s, s:[s]}", "id", OLD, "slug",
		  "ghost", "lifecycle", "Active", "family_ids",
		  "01900000-0000-7000-8000-0000000000ff");
	fails("acquisition.record", NULL, json_pack("{s:s, s:s, s:s}",
	      "dataset", "scan-1", "asset", "rotary", "captured_at", NOW),
	      CORA_ESTATE, "cannot record an acquisition by asset 'rotary': "
	      "none of its families has the Capturing affordance");
	fails("acquisition.record", NULL, json_pack("{s:s, s:s, s:s}",
	      "dataset", "scan-1", "asset", "ghost", "captured_at", NOW),
	      CORA_ESTATE, "cannot record an acquisition by asset 'ghost': "
	      "none of its families has the Capturing affordance");
}

static void test_acquisition_record__refuses_missing_references(void **st)
{
	put_equipment();
	fails("acquisition.record", NULL, record_cmd(NOW), CORA_ENOTFOUND,
	      "dataset 'scan-1' does not exist");
	put_dataset("Discarded");
	fails("acquisition.record", NULL, record_cmd(NOW), CORA_ESTATE,
	      "cannot record an acquisition of dataset 'scan-1': it is "
	      "Discarded");
	put_dataset("Registered");
	fails("acquisition.record", NULL, json_pack("{s:s, s:s, s:s}",
	      "dataset", "scan-1", "asset", "hexapod", "captured_at", NOW),
	      CORA_ENOTFOUND, "asset 'hexapod' does not exist");
	fails("acquisition.record", NULL, json_pack("{s:s, s:s, s:s, s:s}",
	      "dataset", "scan-1", "asset", "camera", "run", "run-9",
	      "captured_at", NOW), CORA_ENOTFOUND, "run 'run-9' does not exist");
	fails("acquisition.record", NULL, json_pack("{s:s, s:s}",
	      "dataset", "scan-1", "captured_at", NOW), CORA_EINVALID,
	      "asset is missing");
}

static void test_acquisition_record__captured_at_window(void **st)
{
	json_t *s = NULL;

	put_equipment();
	put_dataset("Registered");
	fails("acquisition.record", NULL, record_cmd("2026-05-19T14:04:23Z"),
	      CORA_EINVALID, "captured_at '2026-05-19T14:04:23Z' is more than "
	      "60 s in the future");
	fails("acquisition.record", NULL, record_cmd("19 May 2026"),
	      CORA_EINVALID, "captured_at '19 May 2026' is not an RFC 3339 "
	      "time (like 2026-05-19T14:03:22Z)");
	fails("acquisition.record", NULL, json_pack("{s:s, s:s}", "dataset",
	      "scan-1", "asset", "camera"), CORA_EINVALID,
	      "captured_at is missing");
	fixture_set_stream(&fx, ACQ1);
	ok("acquisition.record", &s, record_cmd("2026-05-19T14:04:22Z"));
	assert_string_equal(cora_json_str(s, "captured_at"),
			    "2026-05-19T14:04:22+00:00");
	json_decref(s);
}

/* {"k": {"k": ... {"k": 1}}} with `depth` objects. */
static json_t *nested(int depth)
{
	json_t *v = json_integer(1);
	int i;

	for (i = 0; i < depth; i++)
		v = json_pack("{s:o}", "k", v);
	return v;
}

static void test_acquisition_record__settings_shape(void **st)
{
	json_t *s = NULL, *cmd;

	put_equipment();
	put_dataset("Registered");
	cmd = record_cmd(NOW);
	json_object_set_new(cmd, "settings", json_string("fast"));
	fails("acquisition.record", NULL, cmd, CORA_EINVALID,
	      "settings must be an object");
	cmd = record_cmd(NOW);
	json_object_set_new(cmd, "settings",
			    json_pack("{s:{s:[i]}}", "roi", "frames", 1));
	fails("acquisition.record", NULL, cmd, CORA_EINVALID,
	      "settings 'frames' is a list: values must be text, numbers, "
	      "booleans, null or objects");
	cmd = record_cmd(NOW);
	json_object_set_new(cmd, "evidence", nested(33));
	fails("acquisition.record", NULL, cmd, CORA_EINVALID,
	      "evidence nests deeper than 32 objects");
	cmd = record_cmd(NOW);
	json_object_set_new(cmd, "evidence", nested(32));
	json_object_set_new(cmd, "settings",
			    json_pack("{s:n, s:b, s:f, s:s}", "a", "b", 1,
				      "c", 0.5, "d", "x"));
	fixture_set_stream(&fx, ACQ1);
	ok("acquisition.record", &s, cmd);
	assert_replay("Acquisition", s);
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_run_events__every_payload_names_its_run),
		T(test_run_start__minimal),
		T(test_run_start__all_fields_sorted),
		T(test_run_start__refuses_bad_input),
		T(test_run_start__refuses_missing_or_decommissioned_assets),
		T(test_run_transitions__follow_the_table),
		T(test_run_complete__refuses_held),
		T(test_run_lifecycle__hold_resume_complete_replays),
		T(test_run_abort_and_stop__need_a_reason),
		T(test_run_truncate__interrupted_at),
		T(test_acquisition_record__payload),
		T(test_acquisition_record__defaults),
		T(test_acquisition_record__refuses_without_capturing),
		T(test_acquisition_record__refuses_missing_references),
		T(test_acquisition_record__captured_at_window),
		T(test_acquisition_record__settings_shape),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

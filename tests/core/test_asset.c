/*
 * test_asset.c: the Asset deciders and evolvers (core/asset.c) against a
 * JSON fixture: every guard with its message, the payload keys of every
 * event against the event table, the lifecycle fold and the replay.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/aggregate.h"
#include "core/error.h"
#include "tests/core/harness.h"

#include <stdlib.h>
#include <string.h>

#define PRINCIPAL "01900000-0000-7000-8000-00000000aaaa"
#define ROOT_ID "01900000-0000-7000-8000-0000000000b0"
#define CAMERA_ID "01900000-0000-7000-8000-0000000000a1"
#define TABLE_ID "01900000-0000-7000-8000-0000000000a2"
#define LENS_ID "01900000-0000-7000-8000-0000000000a3"

/* Family ids of reference 7.2. */
#define ROTARY_FAMILY "ac85e2a5-19f3-579f-8111-f71d7822f539"
#define CAMERA_FAMILY "28608285-97cb-57ec-a20d-09c33a0dba33"
#define LINEAR_FAMILY "a3617f96-1d9d-52cc-b0e7-6c256a2e500e"
/* Aerotech ABRS-250MP-M-AS, reference 7.2; defined without a slug. */
#define ABRS_MODEL "2a92d664-6108-54ce-864b-6dd75916602a"

/* Registers another asset (not the one under test) in the fixture. */
static void put_asset(struct env *e, const char *id, json_t *cmd)
{
	json_t *s = NULL;

	fixture_set_stream(&e->f, id);
	if (fixture_run(&e->f, "asset.register", &s, cmd, NULL))
		fail_msg("register: %s", cora_error_last());
	fixture_put(&e->f, "Asset", s);
	json_decref(s);
	json_decref(cmd);
}

static int setup(void **st)
{
	struct env *e = env_new(st, "Asset", CAMERA_ID);

	define(e, "family.define", "Family",
	       J("{'name': 'RotaryStage', 'affordances': ['Rotatable', 'Homeable']}"));
	define(e, "family.define", "Family",
	       J("{'name': 'Camera', 'affordances': ['Imageable', 'Capturing']}"));
	define(e, "family.define", "Family",
	       J("{'name': 'LinearStage', 'affordances': ['Translatable']}"));
	define(e, "model.define", "Model",
	       J("{'name': 'ABRS-250MP-M-AS', 'part_number': 'ABRS-250MP-M-AS',"
		 " 'manufacturer': {'name': 'Aerotech'},"
		 " 'families': ['RotaryStage']}"));
	define(e, "model.define", "Model",
	       J("{'name': 'Oryx 5.0 MP', 'slug': 'ORX-10G-51S5M-C',"
		 " 'part_number': 'ORX-10G-51S5M-C',"
		 " 'manufacturer': {'name': 'FLIR'}, 'families': ['Camera']}"));
	put_asset(e, ROOT_ID,
		  J("{'slug': '2-BM', 'name': '2-BM', 'tier': 'Unit',"
		    " 'facility_code': 'aps',"
		    " 'drawing': {'system': 'ICMS', 'number': 'A342-RT1000',"
		    " 'revision': '02'}}"));
	return 0;
}

/* The asset under test: Camera under 2-BM, Commissioned. */
static void register_camera(struct env *e)
{
	assert_int_equal(run(e, "asset.register",
		J("{'slug': 'Camera', 'name': 'Camera', 'tier': 'Device',"
		  " 'parent': '2-BM'}")), 0);
	fixture_put(&e->f, "Asset", e->state);
}

/* ---- register --------------------------------------------------------- */

static void test_asset_register__emits_reference_payload(void **st)
{
	struct env *e = *st;
	const struct cora_new_event *ev;
	struct cora_emit out;
	json_t *p, *cmd, *s = NULL;

	fixture_set_stream(&e->f, CAMERA_ID);
	cmd = J("{'slug': 'Rotary', 'name': '  Rotary ', 'tier': 'Device',"
		" 'parent': '" ROOT_ID "', 'model': '" ABRS_MODEL "',"
		" 'families': ['RotaryStage', '" ROTARY_FAMILY "'],"
		" 'owners': [{'name': 'HZB', 'contact': 'instrument-data@hzb.de'},"
		"  {'name': 'Advanced Photon Source', 'contact': 'aps-ops@anl.gov',"
		"   'identifier': 'https://ror.org/05gvnxz63', 'identifier_type': 'ROR'}],"
		" 'alternate_identifiers': [{'kind': 'Other', 'value': '2bmb:m102'},"
		"  {'kind': 'SerialNumber', 'value': ' 146853-A-1-1-X '},"
		"  {'kind': 'Other', 'value': '2bmb:m102'}],"
		" 'drawing': {'system': 'EDMS', 'number': '630C2125'}}");
	assert_int_equal(fixture_run(&e->f, "asset.register", &s, cmd, &out), 0);
	assert_int_equal(out.n, 2);

	ev = &out.items[0];
	assert_string_equal(ev->event_type, "AssetRegistered");
	p = ev->payload;
	check_payload(ev->event_type, p);
	assert_keys(p, "asset_id,slug,name,tier,parent_id,occurred_at,"
		    "commissioned_by,model_id,drawing,owners,"
		    "alternate_identifiers");
	assert_string_equal(cora_json_str(p, "asset_id"), CAMERA_ID);
	assert_string_equal(cora_json_str(p, "name"), "Rotary");
	assert_string_equal(cora_json_str(p, "parent_id"), ROOT_ID);
	assert_string_equal(cora_json_str(p, "commissioned_by"), PRINCIPAL);
	assert_string_equal(cora_json_str(p, "occurred_at"), NOW);
	assert_string_equal(cora_json_str(p, "model_id"),
			    "2a92d664-6108-54ce-864b-6dd75916602a");
	{
		/* Sorted sets, null inner fields written as null, the
		 * duplicate alternate id kept once. */
		char *owners = cora_json_dump(json_object_get(p, "owners"));
		char *alts = cora_json_dump(json_object_get(p,
						"alternate_identifiers"));
		char *drawing = cora_json_dump(json_object_get(p, "drawing"));
		assert_string_equal(owners,
			"[{\"contact\":\"aps-ops@anl.gov\",\"identifier\":"
			"\"https://ror.org/05gvnxz63\",\"identifier_type\":\"ROR\","
			"\"name\":\"Advanced Photon Source\"},"
			"{\"contact\":\"instrument-data@hzb.de\",\"identifier\":null,"
			"\"identifier_type\":null,\"name\":\"HZB\"}]");
		assert_string_equal(alts,
			"[{\"kind\":\"Other\",\"value\":\"2bmb:m102\"},"
			"{\"kind\":\"SerialNumber\",\"value\":\"146853-A-1-1-X\"}]");
		assert_string_equal(drawing,
			"{\"number\":\"630C2125\",\"revision\":null,"
			"\"system\":\"EDMS\"}");
		free(owners);
		free(alts);
		free(drawing);
	}

	/* The family named twice (slug and id) is added once. */
	ev = &out.items[1];
	assert_string_equal(ev->event_type, "AssetFamilyAdded");
	check_payload(ev->event_type, ev->payload);
	assert_keys(ev->payload, "asset_id,family_id,occurred_at");
	assert_string_equal(cora_json_str(ev->payload, "family_id"),
			    ROTARY_FAMILY);

	assert_string_equal(cora_json_str(s, "lifecycle"), "Commissioned");
	assert_string_equal(cora_json_str(s, "condition"), "Nominal");
	assert_string_equal(cora_json_str(s, "commissioned_at"), NOW);
	assert_string_equal(cora_json_str(s, "created_at"), NOW);
	assert_true(json_is_null(json_object_get(s, "decommissioned_at")));
	assert_true(json_is_null(json_object_get(s, "persistent_id")));
	assert_true(json_is_null(json_object_get(s, "facility_code")));
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(s, "family_ids"), 0)), ROTARY_FAMILY);
	assert_int_equal(json_array_size(json_object_get(s, "owners")), 2);
	cora_emit_release(&out);
	json_decref(cmd);
	json_decref(s);
}

static void test_asset_register__omits_empty_optionals(void **st)
{
	struct env *e = *st;
	struct cora_emit out;
	json_t *cmd, *s = NULL;

	/* A root: facility code trimmed, parent_id written as null. */
	fixture_set_stream(&e->f, TABLE_ID);
	cmd = J("{'slug': '7-BM', 'name': '7-BM', 'tier': 'Unit',"
		" 'facility_code': ' aps ', 'owners': [],"
		" 'alternate_identifiers': [], 'families': []}");
	assert_int_equal(fixture_run(&e->f, "asset.register", &s, cmd, &out), 0);
	assert_int_equal(out.n, 1);
	assert_keys(out.items[0].payload, "asset_id,slug,name,tier,parent_id,"
		    "occurred_at,commissioned_by,facility_code");
	assert_true(json_is_null(json_object_get(out.items[0].payload,
						 "parent_id")));
	assert_string_equal(cora_json_str(out.items[0].payload,
					  "facility_code"), "aps");
	assert_string_equal(cora_json_str(s, "facility_code"), "aps");
	cora_emit_release(&out);
	json_decref(cmd);

	/* A plain child: only the always-present keys. */
	assert_int_equal(run(e, "asset.register",
		J("{'slug': 'Camera', 'name': 'Camera', 'tier': 'Device',"
		  " 'parent': '2-BM'}")), 0);
	assert_int_equal(e->emitted, 1);
	assert_keys(e->log.items[0].payload, "asset_id,slug,name,tier,"
		    "parent_id,occurred_at,commissioned_by");
	assert_true(json_is_null(json_object_get(e->state, "model_id")));
	assert_true(json_is_null(json_object_get(e->state, "drawing")));
	assert_int_equal(json_array_size(json_object_get(e->state,
							 "family_ids")), 0);
	json_decref(s);
}

static void test_asset_register__refuses_parent_and_facility(void **st)
{
	assert_fails(*st, "asset.register",
		J("{'slug': 'Camera', 'name': 'Camera', 'tier': 'Device',"
		  " 'parent': '2-BM', 'facility_code': 'aps'}"), CORA_EINVALID,
		"asset 'Camera' cannot have both a parent and a facility code: "
		"only a root asset carries a facility code");
}

static void test_asset_register__refuses_neither_parent_nor_facility(void **st)
{
	assert_fails(*st, "asset.register",
		J("{'slug': 'Camera', 'name': 'Camera', 'tier': 'Device'}"),
		CORA_EINVALID,
		"asset 'Camera' needs a parent, or a facility code if it is a "
		"root asset");
}

static void test_asset_register__refuses_bad_or_taken_slug(void **st)
{
	struct env *e = *st;

	assert_fails(e, "asset.register",
		J("{'slug': '2-BM', 'name': 'Again', 'tier': 'Unit',"
		  " 'facility_code': 'aps'}"), CORA_EEXISTS,
		"asset '2-BM' already exists");
	assert_fails(e, "asset.register",
		J("{'slug': 'a b', 'name': 'x', 'tier': 'Device', 'parent': '2-BM'}"),
		CORA_EINVALID,
		"asset 'a b' is not a valid name: use letters, digits, '.', '_' "
		"and '-', starting with a letter or digit");
	assert_fails(e, "asset.register",
		J("{'name': 'x', 'tier': 'Device', 'parent': '2-BM'}"),
		CORA_EINVALID, "asset slug is missing");
	assert_fails(e, "asset.register",
		J("{'slug': '01900000-0000-7000-8000-0000000000ff', 'name': 'x',"
		  " 'tier': 'Device', 'parent': '2-BM'}"), CORA_EINVALID,
		"asset slug '01900000-0000-7000-8000-0000000000ff' may not be a uuid");
}

static void test_asset_register__refuses_bad_fields(void **st)
{
	struct env *e = *st;
	char big[300], cmd[400];

	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': '  ', 'tier': 'Device', 'parent': '2-BM'}"),
		CORA_EINVALID, "asset name is empty");
	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': 'x', 'tier': 'Enterprise', 'parent': '2-BM'}"),
		CORA_EINVALID,
		"asset tier 'Enterprise' must be Unit, Component or Device");
	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': 'x', 'parent': '2-BM'}"),
		CORA_EINVALID, "asset tier is missing");
	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': 'x', 'tier': 'Unit', 'facility_code': 'APS'}"),
		CORA_EINVALID, "facility code 'APS' may hold only a-z, 0-9 and '-'");
	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': 'x', 'tier': 'Device', 'parent': '2-BM',"
		  " 'drawing': {'system': 'CAD', 'number': '1'}}"),
		CORA_EINVALID, "drawing system 'CAD' must be ICMS, EDMS or DOI");
	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': 'x', 'tier': 'Device', 'parent': '2-BM',"
		  " 'drawing': {'system': 'ICMS'}}"),
		CORA_EINVALID, "drawing number is missing");
	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': 'x', 'tier': 'Device', 'parent': '2-BM',"
		  " 'alternate_identifiers': [{'kind': 'EPICS_PV', 'value': '2bmb:m1'}]}"),
		CORA_EINVALID,
		"alternate identifier kind 'EPICS_PV' must be SerialNumber, "
		"InventoryNumber or Other");
	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': 'x', 'tier': 'Device', 'parent': '2-BM',"
		  " 'families': 'Camera'}"),
		CORA_EINVALID, "families must be a list");
	memset(big, 'a', 256);
	big[256] = '\0';
	snprintf(cmd, sizeof(cmd), "{'slug': 'x', 'name': 'x', 'tier': 'Device',"
		 " 'parent': '2-BM', 'owners': [{'name': '%s'}]}", big);
	assert_fails(e, "asset.register", J(cmd), CORA_EINVALID,
		     "owner name must be 1 to 255 characters, not 256");
}

static void test_asset_register__refuses_missing_references(void **st)
{
	struct env *e = *st;

	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': 'x', 'tier': 'Device', 'parent': 'nowhere'}"),
		CORA_ENOTFOUND, "parent asset 'nowhere' does not exist");
	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': 'x', 'tier': 'Device', 'parent': '2-BM',"
		  " 'model': 'HAL-9000'}"),
		CORA_ENOTFOUND, "model 'HAL-9000' does not exist");
	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': 'x', 'tier': 'Device', 'parent': '2-BM',"
		  " 'families': ['Monochromator']}"),
		CORA_ENOTFOUND, "family 'Monochromator' does not exist");
}

static void test_asset_register__refuses_family_outside_model(void **st)
{
	assert_fails(*st, "asset.register",
		J("{'slug': 'Rotary', 'name': 'Rotary', 'tier': 'Device',"
		  " 'parent': '2-BM', 'model': '" ABRS_MODEL "',"
		  " 'families': ['RotaryStage', 'Camera']}"), CORA_EINVALID,
		"family 'Camera' is not declared by model 'ABRS-250MP-M-AS'");
}

static void test_asset_register__refuses_bad_owners(void **st)
{
	struct env *e = *st;

	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': 'x', 'tier': 'Device', 'parent': '2-BM',"
		  " 'owners': [{'name': 'APS'}, {'name': ' APS ', 'contact': 'a@b'}]}"),
		CORA_EEXISTS, "owner 'APS' is listed twice");
	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': 'x', 'tier': 'Device', 'parent': '2-BM',"
		  " 'owners': [{'name': 'APS', 'identifier': '05gvnxz63'}]}"),
		CORA_EINVALID,
		"owner 'APS': identifier and identifier_type go together, give "
		"both or neither");
	assert_fails(e, "asset.register",
		J("{'slug': 'x', 'name': 'x', 'tier': 'Device', 'parent': '2-BM',"
		  " 'owners': [{'contact': 'a@b'}]}"),
		CORA_EINVALID, "owner name is missing");
}

/* ---- lifecycle -------------------------------------------------------------- */

static void test_asset_lifecycle__folds_to_decommissioned(void **st)
{
	struct env *e = *st;
	static const struct {
		const char *command, *event, *lifecycle;
	} steps[] = {
		{ "asset.activate", "AssetActivated", "Active" },
		{ "asset.enter_maintenance", "AssetMaintenanceEntered", "Maintenance" },
		{ "asset.exit_maintenance", "AssetMaintenanceExited", "Active" },
		{ "asset.enter_maintenance", "AssetMaintenanceEntered", "Maintenance" },
		{ "asset.decommission", "AssetDecommissioned", "Decommissioned" },
	};
	const json_t *last;
	size_t i;

	register_camera(e);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		assert_int_equal(run(e, steps[i].command, json_object()), 0);
		assert_int_equal(e->emitted, 1);
		assert_string_equal(e->log.items[e->log.n - 1].event_type,
				    steps[i].event);
		assert_string_equal(cora_json_str(e->state, "lifecycle"),
				    steps[i].lifecycle);
	}
	last = last_payload(e);
	assert_keys(last, "asset_id,occurred_at,decommissioned_by");
	assert_string_equal(cora_json_str(last, "decommissioned_by"), PRINCIPAL);
	assert_keys(e->log.items[1].payload, "asset_id,occurred_at");
	assert_string_equal(cora_json_str(e->state, "decommissioned_at"), NOW);
	assert_string_equal(cora_json_str(e->state, "commissioned_at"), NOW);
	assert_replays(e);
}

static void test_asset_lifecycle__refuses_wrong_state(void **st)
{
	struct env *e = *st;

	register_camera(e);
	assert_fails(e, "asset.enter_maintenance", json_object(), CORA_ESTATE,
		     "cannot start maintenance on asset 'Camera': it is Commissioned");
	assert_fails(e, "asset.exit_maintenance", json_object(), CORA_ESTATE,
		     "cannot end maintenance on asset 'Camera': it is Commissioned");
	assert_int_equal(run(e, "asset.activate", json_object()), 0);
	assert_fails(e, "asset.activate", json_object(), CORA_ESTATE,
		     "cannot activate asset 'Camera': it is Active");
	assert_fails(e, "asset.exit_maintenance", json_object(), CORA_ESTATE,
		     "cannot end maintenance on asset 'Camera': it is Active");
	assert_int_equal(run(e, "asset.decommission", json_object()), 0);
	assert_fails(e, "asset.activate", json_object(), CORA_ESTATE,
		     "cannot activate asset 'Camera': it is Decommissioned");
	assert_fails(e, "asset.decommission", json_object(), CORA_ESTATE,
		     "cannot decommission asset 'Camera': it is Decommissioned");
	assert_replays(e);
}

static void test_asset_lifecycle__refuses_unknown_asset(void **st)
{
	struct env *e = *st;

	/* No state: the stream does not exist. */
	assert_fails(e, "asset.activate", json_object(), CORA_ENOTFOUND,
		     "asset '" CAMERA_ID "' does not exist");
	register_camera(e);
	assert_fails(e, "asset.register",
		J("{'slug': 'Other', 'name': 'x', 'tier': 'Device', 'parent': '2-BM'}"),
		CORA_EEXISTS, "asset 'Camera' already exists");
}

static void test_asset_decommission__refuses_fixture_binding(void **st)
{
	struct env *e = *st;

	register_camera(e);
	/* No fixture aggregate here: set the back-reference by hand. */
	json_object_set_new(e->state, "fixture_id",
			    json_string("01900000-0000-7000-8000-0000000000f1"));
	assert_fails(e, "asset.decommission", json_object(), CORA_ESTATE,
		     "cannot decommission asset 'Camera': it is attached to "
		     "fixture '01900000-0000-7000-8000-0000000000f1', detach it first");
}

/* ---- condition --------------------------------------------------------------- */

static void test_asset_condition__no_events_when_already_there(void **st)
{
	struct env *e = *st;

	register_camera(e);
	assert_int_equal(run(e, "asset.restore", J("{'reason': 'checked'}")), 0);
	assert_int_equal(e->emitted, 0);
	assert_int_equal(run(e, "asset.degrade",
			     J("{'reason': ' hot pixel at (12, 42) '}")), 0);
	assert_int_equal(e->emitted, 1);
	assert_string_equal(cora_json_str(e->state, "condition"), "Degraded");
	assert_keys(last_payload(e),
		    "asset_id,reason,occurred_at");
	assert_string_equal(cora_json_str(last_payload(e),
					  "reason"), "hot pixel at (12, 42)");
	assert_int_equal(run(e, "asset.degrade", J("{'reason': 'again'}")), 0);
	assert_int_equal(e->emitted, 0);
	assert_int_equal(run(e, "asset.fault", J("{'reason': 'm18 failed'}")), 0);
	assert_int_equal(e->emitted, 1);
	assert_string_equal(cora_json_str(e->state, "condition"), "Faulted");
	assert_int_equal(run(e, "asset.fault", J("{'reason': 'still'}")), 0);
	assert_int_equal(e->emitted, 0);

	/* Any lifecycle, Decommissioned included. */
	assert_int_equal(run(e, "asset.decommission", json_object()), 0);
	assert_int_equal(run(e, "asset.restore", J("{'reason': 'repaired'}")), 0);
	assert_int_equal(e->emitted, 1);
	assert_string_equal(e->log.items[e->log.n - 1].event_type,
			    "AssetRestored");
	assert_string_equal(cora_json_str(e->state, "condition"), "Nominal");
	assert_string_equal(cora_json_str(e->state, "lifecycle"),
			    "Decommissioned");
	assert_replays(e);
}

static void test_asset_condition__requires_reason(void **st)
{
	struct env *e = *st;
	char big[520], cmd[560];

	register_camera(e);
	assert_fails(e, "asset.degrade", json_object(), CORA_EINVALID,
		     "reason is missing");
	assert_fails(e, "asset.fault", J("{'reason': ' \\t '}"), CORA_EINVALID,
		     "reason is empty");
	memset(big, 'r', 501);
	big[501] = '\0';
	snprintf(cmd, sizeof(cmd), "{'reason': '%s'}", big);
	/* Even when the asset is already there. */
	assert_fails(e, "asset.restore", J(cmd), CORA_EINVALID,
		     "reason must be 1 to 500 characters, not 501");
}

/* ---- relocate ---------------------------------------------------------------- */

static void test_asset_relocate__records_both_parents(void **st)
{
	struct env *e = *st;
	const json_t *p;

	put_asset(e, TABLE_ID, J("{'slug': 'DetectorTable', 'name': 'DetectorTable',"
				 " 'tier': 'Device', 'parent': '2-BM'}"));
	register_camera(e);
	assert_int_equal(run(e, "asset.relocate",
		J("{'parent': 'DetectorTable', 'reason': 'moved to the rail'}")), 0);
	p = last_payload(e);
	assert_string_equal(e->log.items[e->log.n - 1].event_type,
			    "AssetRelocated");
	assert_keys(p, "asset_id,from_parent_id,to_parent_id,reason,occurred_at");
	assert_string_equal(cora_json_str(p, "from_parent_id"), ROOT_ID);
	assert_string_equal(cora_json_str(p, "to_parent_id"), TABLE_ID);
	assert_string_equal(cora_json_str(e->state, "parent_id"), TABLE_ID);
	assert_replays(e);
}

static void test_asset_relocate__refuses(void **st)
{
	struct env *e = *st;
	json_t *root, *loop;
	const json_t *r;

	register_camera(e);
	put_asset(e, LENS_ID, J("{'slug': 'Lens', 'name': 'Lens',"
				" 'tier': 'Device', 'parent': 'Camera'}"));
	assert_fails(e, "asset.relocate", J("{'parent': 'Camera', 'reason': 'x'}"),
		     CORA_EINVALID, "cannot move asset 'Camera' into itself");
	assert_fails(e, "asset.relocate",
		     J("{'parent': '" CAMERA_ID "', 'reason': 'x'}"),
		     CORA_EINVALID, "cannot move asset 'Camera' into itself");
	assert_fails(e, "asset.relocate", J("{'parent': '2-BM', 'reason': 'x'}"),
		     CORA_ESTATE, "cannot move asset 'Camera': it is already in '2-BM'");
	assert_fails(e, "asset.relocate", J("{'parent': 'nowhere', 'reason': 'x'}"),
		     CORA_ENOTFOUND, "parent asset 'nowhere' does not exist");
	assert_fails(e, "asset.relocate", J("{'reason': 'x'}"),
		     CORA_EINVALID, "parent asset is missing");
	assert_fails(e, "asset.relocate", J("{'parent': 'Lens', 'reason': 'x'}"),
		     CORA_EINVALID,
		     "cannot move asset 'Camera' under 'Lens': 'Lens' is inside 'Camera'");

	/* A loop already in the catalog: the walk stops. */
	loop = J("{'id': '01900000-0000-7000-8000-0000000000c1', 'slug': 'X',"
		 " 'parent_id': '01900000-0000-7000-8000-0000000000c2'}");
	fixture_put(&e->f, "Asset", loop);
	json_decref(loop);
	loop = J("{'id': '01900000-0000-7000-8000-0000000000c2', 'slug': 'Y',"
		 " 'parent_id': '01900000-0000-7000-8000-0000000000c1'}");
	fixture_put(&e->f, "Asset", loop);
	json_decref(loop);
	assert_fails(e, "asset.relocate", J("{'parent': 'X', 'reason': 'x'}"),
		     CORA_EINVALID,
		     "cannot move asset 'Camera' under 'X': its chain of parents "
		     "is longer than 1000");

	assert_fails(e, "asset.relocate", J("{'parent': 'Lens'}"),
		     CORA_EINVALID,
		     "cannot move asset 'Camera' under 'Lens': 'Lens' is inside 'Camera'");
	put_asset(e, TABLE_ID, J("{'slug': 'Table', 'name': 'Table',"
				 " 'tier': 'Device', 'parent': '2-BM'}"));
	assert_fails(e, "asset.relocate", J("{'parent': 'Table'}"),
		     CORA_EINVALID, "reason is missing");

	assert_int_equal(run(e, "asset.decommission", json_object()), 0);
	assert_fails(e, "asset.relocate", J("{'parent': 'Table', 'reason': 'x'}"),
		     CORA_ESTATE, "cannot move asset 'Camera': it is Decommissioned");

	/* The root never moves. */
	assert_int_equal(e->f.ctx.lookup(&e->f.ctx, "Asset", "2-BM", &r), 0);
	root = json_deep_copy(r);
	json_decref(e->state);
	e->state = root;
	assert_fails(e, "asset.relocate", J("{'parent': 'Table', 'reason': 'x'}"),
		     CORA_ESTATE, "cannot move asset '2-BM': it is a root asset");
}

/* ---- families ------------------------------------------------------------------ */

static void test_asset_family__add_and_remove(void **st)
{
	struct env *e = *st;
	const json_t *p;

	register_camera(e);
	assert_int_equal(run(e, "asset.add_family", J("{'family': 'LinearStage'}")), 0);
	assert_int_equal(run(e, "asset.add_family", J("{'family': 'Camera'}")), 0);
	p = last_payload(e);
	assert_keys(p, "asset_id,family_id,occurred_at");
	assert_string_equal(cora_json_str(p, "family_id"), CAMERA_FAMILY);
	/* Sorted by id. */
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(e->state, "family_ids"), 0)), CAMERA_FAMILY);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(e->state, "family_ids"), 1)), LINEAR_FAMILY);
	assert_fails(e, "asset.add_family", J("{'family': '" CAMERA_FAMILY "'}"),
		     CORA_EEXISTS, "asset 'Camera' already has family 'Camera'");
	assert_fails(e, "asset.add_family", J("{'family': 'Monochromator'}"),
		     CORA_ENOTFOUND, "family 'Monochromator' does not exist");
	assert_fails(e, "asset.add_family", json_object(),
		     CORA_EINVALID, "family is missing");
	assert_int_equal(run(e, "asset.remove_family", J("{'family': 'LinearStage'}")), 0);
	assert_string_equal(e->log.items[e->log.n - 1].event_type,
			    "AssetFamilyRemoved");
	assert_int_equal(json_array_size(json_object_get(e->state, "family_ids")), 1);
	assert_fails(e, "asset.remove_family", J("{'family': 'LinearStage'}"),
		     CORA_ENOTFOUND,
		     "asset 'Camera' does not have family 'LinearStage'");
	assert_fails(e, "asset.remove_family", J("{'family': 'Monochromator'}"),
		     CORA_ENOTFOUND, "family 'Monochromator' does not exist");
	assert_int_equal(run(e, "asset.decommission", json_object()), 0);
	assert_fails(e, "asset.add_family", J("{'family': 'LinearStage'}"),
		     CORA_ESTATE,
		     "cannot add a family to asset 'Camera': it is Decommissioned");
	assert_fails(e, "asset.remove_family", J("{'family': 'Camera'}"),
		     CORA_ESTATE,
		     "cannot remove a family from asset 'Camera': it is Decommissioned");
	assert_replays(e);
}

static void test_asset_family__keeps_model_subset(void **st)
{
	struct env *e = *st;

	assert_int_equal(run(e, "asset.register",
		J("{'slug': 'Camera', 'name': 'Camera', 'tier': 'Device',"
		  " 'parent': '2-BM', 'model': 'ORX-10G-51S5M-C',"
		  " 'families': ['Camera']}")), 0);
	assert_int_equal(e->emitted, 2);
	assert_string_equal(cora_json_str(e->state, "model_id"),
			    "3c729263-7639-5f30-ad91-b9f39f2ca886");
	assert_fails(e, "asset.add_family", J("{'family': 'LinearStage'}"),
		     CORA_EINVALID,
		     "family 'LinearStage' is not declared by model 'ORX-10G-51S5M-C'");
	assert_int_equal(run(e, "asset.remove_family",
			     J("{'family': '" CAMERA_FAMILY "'}")), 0);
	assert_int_equal(run(e, "asset.add_family", J("{'family': 'Camera'}")), 0);
	assert_replays(e);
}

/* ---- owners -------------------------------------------------------------------- */

static void test_asset_owner__add_and_remove(void **st)
{
	struct env *e = *st;
	const json_t *p;

	register_camera(e);
	assert_int_equal(run(e, "asset.add_owner",
		J("{'owner': {'name': 'HZB', 'contact': 'instrument-data@hzb.de',"
		  " 'identifier': 'https://ror.org/02aj13c28', 'identifier_type': 'ROR'}}")), 0);
	p = last_payload(e);
	assert_string_equal(e->log.items[e->log.n - 1].event_type,
			    "AssetOwnerAdded");
	assert_keys(p, "asset_id,owner,occurred_at");
	assert_keys(json_object_get(p, "owner"),
		    "name,contact,identifier,identifier_type");
	assert_int_equal(run(e, "asset.add_owner",
		J("{'owner': {'name': 'Advanced Photon Source'}}")), 0);
	assert_true(json_is_null(json_object_get(json_object_get(
		last_payload(e), "owner"), "contact")));
	assert_string_equal(cora_json_str(json_array_get(json_object_get(
		e->state, "owners"), 0), "name"), "Advanced Photon Source");
	assert_fails(e, "asset.add_owner", J("{'owner': {'name': ' HZB '}}"),
		     CORA_EEXISTS, "asset 'Camera' already has owner 'HZB'");
	assert_fails(e, "asset.add_owner",
		     J("{'owner': {'name': 'ESRF', 'identifier_type': 'ROR'}}"),
		     CORA_EINVALID,
		     "owner 'ESRF': identifier and identifier_type go together, "
		     "give both or neither");
	assert_fails(e, "asset.add_owner", json_object(), CORA_EINVALID,
		     "an owner must be an object with a name");
	assert_int_equal(run(e, "asset.remove_owner", J("{'owner_name': 'HZB'}")), 0);
	assert_keys(last_payload(e),
		    "asset_id,owner_name,occurred_at");
	assert_int_equal(json_array_size(json_object_get(e->state, "owners")), 1);
	assert_fails(e, "asset.remove_owner", J("{'owner_name': 'HZB'}"),
		     CORA_ENOTFOUND, "asset 'Camera' has no owner 'HZB'");
	assert_int_equal(run(e, "asset.decommission", json_object()), 0);
	assert_fails(e, "asset.add_owner", J("{'owner': {'name': 'ESRF'}}"),
		     CORA_ESTATE,
		     "cannot add an owner to asset 'Camera': it is Decommissioned");
	assert_fails(e, "asset.remove_owner",
		     J("{'owner_name': 'Advanced Photon Source'}"), CORA_ESTATE,
		     "cannot remove an owner from asset 'Camera': it is Decommissioned");
	assert_replays(e);
}

/* ---- alternate identifiers ------------------------------------------------------- */

static void test_asset_alternate_id__add_and_remove(void **st)
{
	struct env *e = *st;
	const json_t *alts;

	register_camera(e);
	assert_int_equal(run(e, "asset.add_alternate_id",
			     J("{'kind': 'SerialNumber', 'value': '19173710'}")), 0);
	assert_keys(last_payload(e),
		    "asset_id,alternate_identifier,occurred_at");
	assert_keys(json_object_get(last_payload(e),
				    "alternate_identifier"), "kind,value");
	assert_int_equal(run(e, "asset.add_alternate_id",
			     J("{'kind': 'Other', 'value': '2bmSP1:'}")), 0);
	assert_int_equal(run(e, "asset.add_alternate_id",
			     J("{'kind': 'InventoryNumber', 'value': 'A-1'}")), 0);
	alts = json_object_get(e->state, "alternate_identifiers");
	assert_string_equal(cora_json_str(json_array_get(alts, 0), "kind"),
			    "InventoryNumber");
	assert_string_equal(cora_json_str(json_array_get(alts, 1), "kind"), "Other");
	assert_string_equal(cora_json_str(json_array_get(alts, 2), "kind"),
			    "SerialNumber");
	assert_fails(e, "asset.add_alternate_id",
		     J("{'kind': 'SerialNumber', 'value': ' 19173710'}"), CORA_EEXISTS,
		     "asset 'Camera' already has SerialNumber '19173710'");
	assert_fails(e, "asset.add_alternate_id",
		     J("{'kind': 'Serial', 'value': '1'}"), CORA_EINVALID,
		     "alternate identifier kind 'Serial' must be SerialNumber, "
		     "InventoryNumber or Other");
	assert_fails(e, "asset.add_alternate_id", J("{'kind': 'Other'}"),
		     CORA_EINVALID, "alternate identifier value is missing");
	assert_int_equal(run(e, "asset.remove_alternate_id",
			     J("{'kind': 'Other', 'value': '2bmSP1:'}")), 0);
	assert_string_equal(e->log.items[e->log.n - 1].event_type,
			    "AssetAlternateIdentifierRemoved");
	assert_int_equal(json_array_size(alts), 2);
	assert_fails(e, "asset.remove_alternate_id",
		     J("{'kind': 'Other', 'value': '2bmSP1:'}"), CORA_ENOTFOUND,
		     "asset 'Camera' has no Other '2bmSP1:'");
	assert_int_equal(run(e, "asset.decommission", json_object()), 0);
	assert_fails(e, "asset.add_alternate_id",
		     J("{'kind': 'Other', 'value': 'x'}"), CORA_ESTATE,
		     "cannot add an alternate identifier to asset 'Camera': "
		     "it is Decommissioned");
	assert_fails(e, "asset.remove_alternate_id",
		     J("{'kind': 'InventoryNumber', 'value': 'A-1'}"), CORA_ESTATE,
		     "cannot remove an alternate identifier from asset 'Camera': "
		     "it is Decommissioned");
	assert_replays(e);
}

/* ---- persistent identifier -------------------------------------------------------- */

static void test_asset_persistent_id__set_once(void **st)
{
	struct env *e = *st;
	const json_t *pid;

	register_camera(e);
	assert_fails(e, "asset.assign_persistent_id",
		     J("{'scheme': 'ARK', 'value': 'ark:/1/x'}"), CORA_EINVALID,
		     "persistent id scheme 'ARK' must be DOI or Handle");
	assert_fails(e, "asset.assign_persistent_id",
		     J("{'scheme': 'DOI', 'value': 'doi:10.0000/x'}"), CORA_EINVALID,
		     "'doi:10.0000/x' is not a DOI (like 10.5072/abc-123, "
		     "without 'doi:')");
	assert_fails(e, "asset.assign_persistent_id", J("{'scheme': 'Handle'}"),
		     CORA_EINVALID, "persistent id is missing");
	assert_int_equal(run(e, "asset.assign_persistent_id",
		J("{'scheme': 'DOI', 'value': '10.0000/cora-stub/camera'}")), 0);
	assert_keys(last_payload(e),
		    "asset_id,persistent_id_scheme,persistent_id_value,occurred_at");
	pid = json_object_get(e->state, "persistent_id");
	assert_string_equal(cora_json_str(pid, "scheme"), "DOI");
	assert_string_equal(cora_json_str(pid, "value"), "10.0000/cora-stub/camera");
	assert_fails(e, "asset.assign_persistent_id",
		     J("{'scheme': 'Handle', 'value': '20.500.0000/cora-stub/x'}"),
		     CORA_EEXISTS,
		     "asset 'Camera' already has persistent id DOI "
		     "'10.0000/cora-stub/camera'");
	assert_replays(e);
}

static void test_asset_persistent_id__refused_when_decommissioned(void **st)
{
	struct env *e = *st;

	register_camera(e);
	assert_int_equal(run(e, "asset.decommission", json_object()), 0);
	assert_fails(e, "asset.assign_persistent_id",
		     J("{'scheme': 'Handle', 'value': '20.500.0000/cora-stub/x'}"),
		     CORA_ESTATE,
		     "cannot assign a persistent id to asset 'Camera': it is "
		     "Decommissioned");
}

/* ---- tables and replay ---------------------------------------------------------- */

static void test_asset_tables__well_formed(void **st)
{
	const struct cora_command_def *c;
	size_t i, n = 0;

	for (i = 0; cora_asset_events[i].type; i++) {
		const struct cora_event_def *d = &cora_asset_events[i];
		assert_string_equal(d->stream_type, "Asset");
		assert_non_null(d->keys);
		assert_non_null(d->optional_keys);
		assert_non_null(d->evolve);
		assert_true(listed(d->keys, "asset_id"));
		assert_true(listed(d->keys, "occurred_at"));
		assert_true(cora_event_def_find(d->type) == d);
		n += d->genesis;
	}
	assert_int_equal(i, 16);
	assert_int_equal(n, 1);
	for (i = 0; cora_asset_commands[i].name; i++) {
		c = &cora_asset_commands[i];
		assert_string_equal(c->stream_type, "Asset");
		assert_non_null(c->decide);
		assert_true(cora_command_def_find(c->name) == c);
	}
	assert_int_equal(i, 16);
}

/* Everything at once, then the replay of the whole stream. */
static void test_asset_replay__reproduces_state(void **st)
{
	struct env *e = *st;
	json_t *again = NULL;
	char *a, *b;

	put_asset(e, TABLE_ID, J("{'slug': 'Housing', 'name': 'Housing',"
				 " 'tier': 'Component', 'parent': '2-BM'}"));
	assert_int_equal(run(e, "asset.register",
		J("{'slug': 'Camera', 'name': 'Camera', 'tier': 'Device',"
		  " 'parent': '2-BM', 'model': 'ORX-10G-51S5M-C',"
		  " 'families': ['Camera'], 'owners': [{'name': 'APS'}],"
		  " 'alternate_identifiers': [{'kind': 'SerialNumber', 'value': '19173710'}],"
		  " 'drawing': {'system': 'EDMS', 'number': 'MAN-11863', 'revision': 'A'}}")), 0);
	assert_int_equal(run(e, "asset.activate", json_object()), 0);
	assert_int_equal(run(e, "asset.relocate",
			     J("{'parent': 'Housing', 'reason': 'mounted'}")), 0);
	assert_int_equal(run(e, "asset.degrade", J("{'reason': 'hot pixel'}")), 0);
	assert_int_equal(run(e, "asset.add_owner",
			     J("{'owner': {'name': 'ANL', 'contact': 'x@anl.gov'}}")), 0);
	assert_int_equal(run(e, "asset.remove_owner", J("{'owner_name': 'APS'}")), 0);
	assert_int_equal(run(e, "asset.add_alternate_id",
			     J("{'kind': 'Other', 'value': '2bmSP1:'}")), 0);
	assert_int_equal(run(e, "asset.assign_persistent_id",
			     J("{'scheme': 'Handle', 'value': '20.500.0000/cora-stub/c'}")), 0);
	assert_int_equal(run(e, "asset.enter_maintenance", json_object()), 0);
	assert_int_equal(run(e, "asset.restore", J("{'reason': 'fixed'}")), 0);
	assert_int_equal(run(e, "asset.exit_maintenance", json_object()), 0);
	assert_int_equal(e->log.n, 12);
	assert_replays(e);

	/* And the events' canonical bytes are what a second run makes. */
	assert_int_equal(fixture_apply(&again, "Asset", &e->log), 0);
	a = cora_json_dump(again);
	b = cora_json_dump(e->state);
	assert_string_equal(a, b);
	free(a);
	free(b);
	json_decref(again);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, env_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_asset_register__emits_reference_payload),
		T(test_asset_register__omits_empty_optionals),
		T(test_asset_register__refuses_parent_and_facility),
		T(test_asset_register__refuses_neither_parent_nor_facility),
		T(test_asset_register__refuses_bad_or_taken_slug),
		T(test_asset_register__refuses_bad_fields),
		T(test_asset_register__refuses_missing_references),
		T(test_asset_register__refuses_family_outside_model),
		T(test_asset_register__refuses_bad_owners),
		T(test_asset_lifecycle__folds_to_decommissioned),
		T(test_asset_lifecycle__refuses_wrong_state),
		T(test_asset_lifecycle__refuses_unknown_asset),
		T(test_asset_decommission__refuses_fixture_binding),
		T(test_asset_condition__no_events_when_already_there),
		T(test_asset_condition__requires_reason),
		T(test_asset_relocate__records_both_parents),
		T(test_asset_relocate__refuses),
		T(test_asset_family__add_and_remove),
		T(test_asset_family__keeps_model_subset),
		T(test_asset_owner__add_and_remove),
		T(test_asset_alternate_id__add_and_remove),
		T(test_asset_persistent_id__set_once),
		T(test_asset_persistent_id__refused_when_decommissioned),
		T(test_asset_tables__well_formed),
		T(test_asset_replay__reproduces_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

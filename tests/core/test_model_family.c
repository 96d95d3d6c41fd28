/*
 * test_model_family.c: the Model and Family aggregates (core/model.c,
 * core/family.c): the deterministic ids of reference 7.2, every guard with
 * its message, the payload keys against the event tables, and the replay.
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

#define CAMERA_FAMILY "28608285-97cb-57ec-a20d-09c33a0dba33"
#define ROTARY_FAMILY "ac85e2a5-19f3-579f-8111-f71d7822f539"
#define LINEAR_FAMILY "a3617f96-1d9d-52cc-b0e7-6c256a2e500e"

/* The id a genesis command would create. */
static int genesis_id(const char *name, const json_t *cmd, char id[37])
{
	const struct cora_command_def *def = cora_command_def_find(name);

	assert_non_null(def);
	assert_non_null(def->genesis_id);
	return def->genesis_id(cmd, id);
}

/* Starts over with an empty stream under test (the fixture stays). */
static void fresh(struct env *e, const char *type)
{
	json_decref(e->state);
	e->state = NULL;
	e->type = type;
	cora_emit_release(&e->log);
}

/* Defines a family in the fixture (not the stream under test). */
static void put_family(struct env *e, const char *cmdtext)
{
	define(e, "family.define", "Family", J(cmdtext));
}

static int setup(void **st)
{
	env_new(st, "Family", NULL);
	return 0;
}

static int setup_families(void **st)
{
	struct env *e;

	setup(st);
	e = *st;
	put_family(e, "{'name': 'Camera', 'affordances': ['Imageable']}");
	put_family(e, "{'name': 'RotaryStage'}");
	put_family(e, "{'name': 'LinearStage'}");
	fixture_set_stream(&e->f, "01900000-0000-7000-8000-000000000001");
	e->type = "Model";
	return 0;
}

/* ---- family ------------------------------------------------------------ */

static void test_family_define__reference_ids(void **st)
{
	const struct fixture_family_id *v;
	struct env *e = *st;
	const json_t *p;
	char cmd[120];

	for (v = fixture_family_ids; v->name; v++) {
		fresh(e, "Family");
		snprintf(cmd, sizeof(cmd), "{'name': '%s'}", v->name);
		assert_int_equal(run(e, "family.define", J(cmd)), 0);
		assert_int_equal(e->emitted, 1);
		assert_string_equal(e->log.items[0].event_type, "FamilyDefined");
		p = last_payload(e);
		assert_keys(p, "family_id,name,affordances,occurred_at,slug");
		assert_string_equal(cora_json_str(p, "family_id"), v->id);
		assert_string_equal(cora_json_str(e->state, "id"), v->id);
		/* A name that is a valid slug is the slug. */
		assert_string_equal(cora_json_str(e->state, "slug"), v->name);
		assert_string_equal(cora_json_str(e->state, "status"), "Defined");
		assert_replays(e);
	}
}

static void test_family_define__refuses_same_name_in_any_case(void **st)
{
	struct env *e = *st;
	char a[37], b[37];
	json_t *cmd;

	cmd = J("{'name': ' camera\\u3000'}");
	assert_int_equal(genesis_id("family.define", cmd, a), 0);
	json_decref(cmd);
	assert_string_equal(a, CAMERA_FAMILY);
	cmd = J("{'name': 'CAMERA'}");
	assert_int_equal(genesis_id("family.define", cmd, b), 0);
	json_decref(cmd);
	assert_string_equal(b, CAMERA_FAMILY);

	assert_int_equal(run(e, "family.define", J("{'name': 'Camera'}")), 0);
	assert_fails(e, "family.define", J("{'name': 'CAMERA'}"), CORA_EEXISTS,
		     "family 'Camera' already exists");
	assert_fails(e, "family.define", J("{'name': ' '}"), CORA_EINVALID,
		     "family name is empty");
	assert_fails(e, "family.define", J("{}"), CORA_EINVALID,
		     "family name is missing");
}

static void test_family_define__affordances_sorted_and_closed(void **st)
{
	struct env *e = *st;
	const json_t *aff;
	char *dump;

	assert_int_equal(run(e, "family.define",
		J("{'name': 'Camera', 'affordances': ['Triggerable', 'Capturing',"
		  " 'Imageable', 'Capturing']}")), 0);
	aff = json_object_get(last_payload(e), "affordances");
	dump = cora_json_dump(aff);
	assert_string_equal(dump, "[\"Capturing\",\"Imageable\",\"Triggerable\"]");
	free(dump);
	assert_true(json_equal(json_object_get(e->state, "affordances"),
			       (json_t *)aff));

	fresh(e, "Family");
	assert_int_equal(run(e, "family.define",
		J("{'name': 'Everything', 'affordances': ['Rotatable',"
		  " 'Translatable', 'Homeable', 'Limitable', 'Imageable',"
		  " 'Capturing', 'Triggerable', 'Pulsing', 'Settable',"
		  " 'Identifiable', 'Reportable', 'Consumable', 'Posable']}")), 0);
	assert_int_equal(json_array_size(json_object_get(e->state,
							 "affordances")), 13);

	fresh(e, "Family");
	assert_int_equal(run(e, "family.define", J("{'name': 'Housing'}")), 0);
	assert_int_equal(json_array_size(json_object_get(last_payload(e),
							 "affordances")), 0);

	fresh(e, "Family");
	assert_fails(e, "family.define",
		     J("{'name': 'Stage', 'affordances': ['Move.Continuous']}"),
		     CORA_EINVALID, "unknown affordance 'Move.Continuous'");
	assert_fails(e, "family.define",
		     J("{'name': 'Stage', 'affordances': ['rotatable']}"),
		     CORA_EINVALID, "unknown affordance 'rotatable'");
	assert_fails(e, "family.define",
		     J("{'name': 'Stage', 'affordances': 'Rotatable'}"),
		     CORA_EINVALID, "affordances must be a list");
}

static void test_family_define__slug_rules(void **st)
{
	struct env *e = *st;

	/* Not a valid slug: no slug at all. */
	assert_int_equal(run(e, "family.define", J("{'name': 'Rotary Stage'}")), 0);
	assert_keys(last_payload(e), "family_id,name,affordances,occurred_at");
	assert_null(json_object_get(e->state, "slug"));
	fixture_put(&e->f, "Family", e->state);

	fresh(e, "Family");
	assert_int_equal(run(e, "family.define",
			     J("{'name': 'Tilt Stage', 'slug': 'tilt-stage'}")), 0);
	assert_string_equal(cora_json_str(last_payload(e), "slug"), "tilt-stage");
	assert_string_equal(cora_json_str(e->state, "slug"), "tilt-stage");
	fixture_put(&e->f, "Family", e->state);

	fresh(e, "Family");
	assert_fails(e, "family.define",
		     J("{'name': 'Pitch Stage', 'slug': 'tilt-stage'}"),
		     CORA_EEXISTS, "family 'tilt-stage' already exists");
	assert_fails(e, "family.define", J("{'name': 'x', 'slug': 'a/b'}"),
		     CORA_EINVALID,
		     "family 'a/b' is not a valid name: use letters, digits, "
		     "'.', '_' and '-', starting with a letter or digit");
	assert_fails(e, "family.define",
		     J("{'name': 'x', 'slug': '" CAMERA_FAMILY "'}"),
		     CORA_EINVALID,
		     "family slug '" CAMERA_FAMILY "' may not be a uuid");
	/* A derived slug must be free too. */
	assert_fails(e, "family.define", J("{'name': 'tilt-stage'}"),
		     CORA_EEXISTS, "family 'tilt-stage' already exists");
}

static void test_family_deprecate__once(void **st)
{
	struct env *e = *st;

	assert_fails(e, "family.deprecate", json_object(), CORA_ENOTFOUND,
		     "family '01900000-0000-7000-8000-000000000001' does not exist");
	assert_int_equal(run(e, "family.define", J("{'name': 'Camera'}")), 0);
	assert_fails(e, "family.deprecate", J("{'reason': ''}"), CORA_EINVALID,
		     "reason is empty");
	assert_int_equal(run(e, "family.deprecate",
			     J("{'reason': ' split into AreaCamera and LineCamera '}")), 0);
	assert_string_equal(e->log.items[1].event_type, "FamilyDeprecated");
	assert_keys(last_payload(e), "family_id,occurred_at,reason");
	assert_string_equal(cora_json_str(last_payload(e), "reason"),
			    "split into AreaCamera and LineCamera");
	assert_string_equal(cora_json_str(e->state, "status"), "Deprecated");
	assert_fails(e, "family.deprecate", json_object(), CORA_ESTATE,
		     "cannot deprecate family 'Camera': it is Deprecated");
	assert_replays(e);

	fresh(e, "Family");
	assert_int_equal(run(e, "family.define", J("{'name': 'Objective'}")), 0);
	assert_int_equal(run(e, "family.deprecate", json_object()), 0);
	assert_keys(last_payload(e), "family_id,occurred_at");
	assert_replays(e);
}

/* ---- model ----------------------------------------------------------------- */

static void test_model_define__reference_ids(void **st)
{
	static const struct { const char *maker, *part, *id; } v[] = {
		{ "Aerotech", "ABRS-250MP-M-AS", "2a92d664-6108-54ce-864b-6dd75916602a" },
		{ "Aerotech", "HEX300-230HL-E1-PL4-TAS", "4fd90fb4-ad9b-5021-a718-0dea36bd0420" },
		{ "Aerotech", "PRO225SL-1000", "a6a05020-1266-5ff7-9c5b-c4987555958e" },
		{ "Oregon Micro Systems", "VME58", "7e73db70-b786-583b-8aeb-cfe1f808de4e" },
		{ "Kohzu", "CYAT-070", "ed7ed4e4-128a-5b38-8212-aaa36b218fa6" },
		{ "FLIR", "ORX-10G-51S5M-C", "3c729263-7639-5f30-ad91-b9f39f2ca886" },
		{ "Crytur", "LuAG:Ce-100um", "9b848b31-3011-5fa4-b923-fcfdd2322fd6" },
		{ "Optique Peter", "MICRX080", "82d27ced-ae68-592e-b89b-3e4c98cb6173" },
	};
	struct env *e = *st;
	const json_t *p;
	char cmd[200];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		fresh(e, "Model");
		snprintf(cmd, sizeof(cmd), "{'name': '%s', 'part_number': '%s',"
			 " 'manufacturer': {'name': '%s'}}", v[i].part,
			 v[i].part, v[i].maker);
		assert_int_equal(run(e, "model.define", J(cmd)), 0);
		assert_int_equal(e->emitted, 1);
		assert_string_equal(e->log.items[0].event_type, "ModelDefined");
		p = last_payload(e);
		assert_keys(p, "model_id,name,manufacturer,part_number,"
			    "declared_family_ids,occurred_at");
		assert_keys(json_object_get(p, "manufacturer"), "name");
		assert_string_equal(cora_json_str(p, "model_id"), v[i].id);
		assert_string_equal(cora_json_str(e->state, "id"), v[i].id);
		assert_string_equal(cora_json_str(e->state, "status"), "Defined");
		assert_null(json_object_get(e->state, "slug"));
		assert_replays(e);
	}
}

static void test_model_define__id_rules(void **st)
{
	static const struct { const char *cmd, *id; } v[] = {
		/* Manufacturer: trimmed, case ignored. */
		{ "{'manufacturer': {'name': '  AEROTECH '}, 'part_number': 'ABRS-250MP-M-AS'}",
		  "2a92d664-6108-54ce-864b-6dd75916602a" },
		/* Part number: trimmed, case kept. */
		{ "{'manufacturer': {'name': 'Aerotech'}, 'part_number': ' ABRS-250MP-M-AS\\t'}",
		  "2a92d664-6108-54ce-864b-6dd75916602a" },
	};
	char id[37], other[37];
	json_t *cmd;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cmd = J(v[i].cmd);
		assert_int_equal(genesis_id("model.define", cmd, id), 0);
		assert_string_equal(id, v[i].id);
		json_decref(cmd);
	}
	cmd = J("{'manufacturer': {'name': 'Aerotech'}, 'part_number': 'abrs-250mp-m-as'}");
	assert_int_equal(genesis_id("model.define", cmd, id), 0);
	assert_string_not_equal(id, "2a92d664-6108-54ce-864b-6dd75916602a");
	json_decref(cmd);

	/* The placeholder part number stands for many products: fresh v7. */
	cmd = J("{'manufacturer': {'name': 'Oregon Micro Systems'},"
		" 'part_number': ' Unknown-Pending-Confirmation '}");
	assert_int_equal(genesis_id("model.define", cmd, id), 0);
	assert_int_equal(genesis_id("model.define", cmd, other), 0);
	assert_int_equal(id[14], '7');
	assert_string_not_equal(id, other);
	json_decref(cmd);

	cmd = J("{'part_number': 'VME58'}");
	assert_int_equal(genesis_id("model.define", cmd, id), CORA_EINVALID);
	assert_string_equal(cora_error_last(), "manufacturer name is missing");
	json_decref(cmd);
	cmd = J("{'manufacturer': {'name': 'Kohzu'}, 'part_number': ''}");
	assert_int_equal(genesis_id("model.define", cmd, id), CORA_EINVALID);
	assert_string_equal(cora_error_last(), "part number is empty");
	json_decref(cmd);
}

static void test_model_define__payload(void **st)
{
	struct env *e = *st;
	const json_t *p;
	char *dump;

	assert_int_equal(run(e, "model.define",
		J("{'name': 'Oryx 5.0 MP', 'slug': 'ORX-10G-51S5M-C',"
		  " 'part_number': 'ORX-10G-51S5M-C',"
		  " 'manufacturer': {'name': ' FLIR ', 'identifier': 'https://ror.org/04bw7nh07',"
		  "  'identifier_type': 'ROR'},"
		  " 'families': ['RotaryStage', '" CAMERA_FAMILY "', 'Camera']}")), 0);
	p = last_payload(e);
	assert_keys(p, "model_id,name,manufacturer,part_number,"
		    "declared_family_ids,occurred_at,slug");
	dump = cora_json_dump(json_object_get(p, "manufacturer"));
	assert_string_equal(dump, "{\"identifier\":\"https://ror.org/04bw7nh07\","
			    "\"identifier_type\":\"ROR\",\"name\":\"FLIR\"}");
	free(dump);
	dump = cora_json_dump(json_object_get(p, "declared_family_ids"));
	assert_string_equal(dump, "[\"" CAMERA_FAMILY "\",\"" ROTARY_FAMILY "\"]");
	free(dump);
	assert_string_equal(cora_json_str(e->state, "slug"), "ORX-10G-51S5M-C");
	assert_string_equal(cora_json_str(e->state, "part_number"),
			    "ORX-10G-51S5M-C");
	assert_replays(e);
}

static void test_model_define__refuses(void **st)
{
	struct env *e = *st;
	char name[220], cmd[300];

	assert_int_equal(run(e, "model.define",
		J("{'name': 'VME58', 'slug': 'vme58', 'part_number': 'VME58',"
		  " 'manufacturer': {'name': 'Oregon Micro Systems'}}")), 0);
	fixture_put(&e->f, "Model", e->state);
	assert_fails(e, "model.define",
		     J("{'name': 'VME-58', 'part_number': 'VME58',"
		       " 'manufacturer': {'name': 'oregon micro systems'}}"),
		     CORA_EEXISTS, "model 'vme58' already exists");

	fresh(e, "Model");
	assert_fails(e, "model.define",
		     J("{'name': 'x', 'part_number': 'P1', 'slug': 'vme58',"
		       " 'manufacturer': {'name': 'Kohzu'}}"),
		     CORA_EEXISTS, "model 'vme58' already exists");
	assert_fails(e, "model.define",
		     J("{'name': 'x', 'part_number': 'P1', 'slug': '-x',"
		       " 'manufacturer': {'name': 'Kohzu'}}"),
		     CORA_EINVALID,
		     "model '-x' is not a valid name: use letters, digits, '.', "
		     "'_' and '-', starting with a letter or digit");
	assert_fails(e, "model.define",
		     J("{'name': 'x', 'part_number': 'P1',"
		       " 'manufacturer': {'name': 'Kohzu', 'identifier': '03v4gjf40'}}"),
		     CORA_EINVALID,
		     "manufacturer 'Kohzu': identifier and identifier_type go "
		     "together, give both or neither");
	assert_fails(e, "model.define",
		     J("{'name': 'x', 'part_number': 'P1',"
		       " 'manufacturer': {'name': 'Kohzu', 'identifier': '1',"
		       " 'identifier_type': 'DUNS'}}"),
		     CORA_EINVALID,
		     "manufacturer identifier type 'DUNS' must be ROR, GRID or ISNI");
	assert_fails(e, "model.define",
		     J("{'part_number': 'P1', 'manufacturer': {'name': 'Kohzu'}}"),
		     CORA_EINVALID, "model name is missing");
	assert_fails(e, "model.define",
		     J("{'name': 'x', 'part_number': 'P1',"
		       " 'manufacturer': {'name': 'Kohzu'}, 'families': ['Monochromator']}"),
		     CORA_ENOTFOUND, "family 'Monochromator' does not exist");
	assert_fails(e, "model.define",
		     J("{'name': 'x', 'part_number': 'P1',"
		       " 'manufacturer': {'name': 'Kohzu'}, 'families': 'Camera'}"),
		     CORA_EINVALID, "families must be a list");
	memset(name, 'n', 201);
	name[201] = '\0';
	snprintf(cmd, sizeof(cmd), "{'name': '%s', 'part_number': 'P1',"
		 " 'manufacturer': {'name': 'Kohzu'}}", name);
	assert_fails(e, "model.define", J(cmd), CORA_EINVALID,
		     "model name must be 1 to 200 characters, not 201");
}

static void test_model_family__add_and_remove(void **st)
{
	struct env *e = *st;

	assert_int_equal(run(e, "model.define",
		J("{'name': 'CYAT-070', 'part_number': 'CYAT-070',"
		  " 'manufacturer': {'name': 'Kohzu'}}")), 0);
	assert_int_equal(run(e, "model.add_family", J("{'family': 'LinearStage'}")), 0);
	assert_string_equal(e->log.items[1].event_type, "ModelFamilyAdded");
	assert_keys(last_payload(e), "model_id,family_id,occurred_at");
	assert_string_equal(cora_json_str(last_payload(e), "family_id"),
			    LINEAR_FAMILY);
	assert_int_equal(run(e, "model.add_family", J("{'family': 'Camera'}")), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
		e->state, "declared_family_ids"), 0)), CAMERA_FAMILY);
	assert_fails(e, "model.add_family", J("{'family': '" LINEAR_FAMILY "'}"),
		     CORA_EEXISTS,
		     "model 'CYAT-070' already declares family 'LinearStage'");
	assert_fails(e, "model.add_family", J("{'family': 'Monochromator'}"),
		     CORA_ENOTFOUND, "family 'Monochromator' does not exist");
	assert_int_equal(run(e, "model.remove_family",
			     J("{'family': '" CAMERA_FAMILY "'}")), 0);
	assert_string_equal(e->log.items[e->log.n - 1].event_type,
			    "ModelFamilyRemoved");
	assert_keys(last_payload(e), "model_id,family_id,occurred_at");
	assert_fails(e, "model.remove_family", J("{'family': 'Camera'}"),
		     CORA_ENOTFOUND,
		     "model 'CYAT-070' does not declare family 'Camera'");
	assert_fails(e, "model.remove_family", json_object(),
		     CORA_EINVALID, "family is missing");
	assert_int_equal(run(e, "model.deprecate", json_object()), 0);
	assert_fails(e, "model.add_family", J("{'family': 'Camera'}"),
		     CORA_ESTATE,
		     "cannot add a family to model 'CYAT-070': it is Deprecated");
	assert_fails(e, "model.remove_family", J("{'family': 'LinearStage'}"),
		     CORA_ESTATE,
		     "cannot remove a family from model 'CYAT-070': it is Deprecated");
	assert_replays(e);
}

static void test_model_deprecate__once(void **st)
{
	struct env *e = *st;

	assert_fails(e, "model.deprecate", json_object(), CORA_ENOTFOUND,
		     "model '01900000-0000-7000-8000-000000000001' does not exist");
	assert_int_equal(run(e, "model.define",
		J("{'name': 'VME58', 'part_number': 'VME58',"
		  " 'manufacturer': {'name': 'Oregon Micro Systems'}}")), 0);
	assert_fails(e, "model.deprecate", J("{'reason': 7}"), CORA_EINVALID,
		     "reason must be text");
	assert_int_equal(run(e, "model.deprecate",
			     J("{'reason': 'replaced by the MAXv'}")), 0);
	assert_string_equal(e->log.items[1].event_type, "ModelDeprecated");
	assert_keys(last_payload(e), "model_id,occurred_at,reason");
	assert_string_equal(cora_json_str(e->state, "status"), "Deprecated");
	assert_fails(e, "model.deprecate", json_object(), CORA_ESTATE,
		     "cannot deprecate model 'VME58': it is Deprecated");
	assert_replays(e);

	fresh(e, "Model");
	assert_int_equal(run(e, "model.define",
		J("{'name': 'MICRX080', 'part_number': 'MICRX080',"
		  " 'manufacturer': {'name': 'Optique Peter'}}")), 0);
	assert_int_equal(run(e, "model.deprecate", json_object()), 0);
	assert_keys(last_payload(e), "model_id,occurred_at");
	assert_replays(e);
}

static void test_model_family__tables_well_formed(void **st)
{
	static const struct {
		const struct cora_event_def *events;
		const struct cora_command_def *commands;
		const char *type, *id_key;
		size_t n_events, n_commands;
	} t[] = {
		{ cora_model_events, cora_model_commands, "Model", "model_id", 4, 4 },
		{ cora_family_events, cora_family_commands, "Family", "family_id", 2, 2 },
	};
	size_t k, i, genesis;

	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		genesis = 0;
		for (i = 0; t[k].events[i].type; i++) {
			const struct cora_event_def *d = &t[k].events[i];
			assert_string_equal(d->stream_type, t[k].type);
			assert_non_null(d->optional_keys);
			assert_non_null(d->evolve);
			assert_true(listed(d->keys, t[k].id_key));
			assert_true(listed(d->keys, "occurred_at"));
			assert_true(cora_event_def_find(d->type) == d);
			genesis += d->genesis;
		}
		assert_int_equal(i, t[k].n_events);
		assert_int_equal(genesis, 1);
		for (i = 0; t[k].commands[i].name; i++) {
			const struct cora_command_def *c = &t[k].commands[i];
			assert_string_equal(c->stream_type, t[k].type);
			assert_true(cora_command_def_find(c->name) == c);
			assert_true(!c->genesis || c->genesis_id);
		}
		assert_int_equal(i, t[k].n_commands);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, env_teardown)
#define TF(fn) cmocka_unit_test_setup_teardown(fn, setup_families, env_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_family_define__reference_ids),
		T(test_family_define__refuses_same_name_in_any_case),
		T(test_family_define__affordances_sorted_and_closed),
		T(test_family_define__slug_rules),
		T(test_family_deprecate__once),
		TF(test_model_define__reference_ids),
		TF(test_model_define__id_rules),
		TF(test_model_define__payload),
		TF(test_model_define__refuses),
		TF(test_model_family__add_and_remove),
		TF(test_model_deprecate__once),
		T(test_model_family__tables_well_formed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_bundle.c: the Bundle aggregate (CORA's Edition): membership, the
 * seal guards and its content hash, publish and withdraw.
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

#define B1 "01900000-0000-7000-8000-000000000b01"
#define DS1 "01900000-0000-7000-8000-0000000000d1"
#define DS2 "01900000-0000-7000-8000-0000000000d2"
#define DS3 "01900000-0000-7000-8000-0000000000d3"
#define DS4 "01900000-0000-7000-8000-0000000000d4"
#define DS5 "01900000-0000-7000-8000-0000000000d5"
#define RUN1 "01900000-0000-7000-8000-0000000000a1"
#define CAM "01900000-0000-7000-8000-0000000000b1"
#define A1 "01900000-0000-7000-8000-00000000c0a1"
#define A2 "01900000-0000-7000-8000-00000000c0a2"
#define TITLE "Catalyst degradation series, beamtime 2026-1 \xe2\x80\x94 2-BM"
#define DOI "10.0000/cora-stub/catalyst-2026-1"


/* ---- helpers ---------------------------------------------------------- */

/* A dataset state as the Dataset aggregate would hold it. */
static void put_dataset(const char *id, const char *slug, const char *status,
			const char *intent, int sha, json_int_t bytes)
{
	json_t *s = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "slug", slug,
			      "status", status, "intent", intent);

	if (strcmp(intent, "Trial") == 0) {
		json_object_set_new(s, "checksum", json_null());
		json_object_set_new(s, "byte_size", json_null());
	} else {
		json_object_set_new(s, "checksum", json_pack("{s:s, s:s}",
			"algorithm", "sha256-tree", "value", fixture_sha(sha)));
		json_object_set_new(s, "byte_size", json_integer(bytes));
	}
	fixture_put(&fx, "Dataset", s);
	json_decref(s);
}

static void put_catalog(void)
{
	json_t *run = json_pack("{s:s, s:s, s:s}", "id", RUN1, "slug", "run-7",
				"status", "Completed");
	json_t *cam = json_pack("{s:s, s:s, s:s}", "id", CAM, "slug",
				"camera", "lifecycle", "Active");

	put_dataset(DS1, "raw-1", "Registered", "Production", 1, 100);
	put_dataset(DS2, "recon-2", "Registered", "Production", 2,
		    4831838208LL);
	put_dataset(DS3, "trial-3", "Registered", "Trial", 0, 0);
	put_dataset(DS4, "gone-4", "Discarded", "Trial", 0, 0);
	put_dataset(DS5, "trial-5", "Registered", "Trial", 0, 0);
	fixture_put(&fx, "Run", run);
	fixture_put(&fx, "Asset", cam);
	json_decref(run);
	json_decref(cam);
}

static json_t *create(json_t *cmd)
{
	json_t *s = NULL;

	json_object_set_new(cmd, "slug", json_string("catalyst"));
	json_object_set_new(cmd, "title", json_string(TITLE));
	fixture_set_stream(&fx, B1);
	ok("bundle.create", &s, cmd);
	fixture_put(&fx, "Bundle", s);
	return s;
}

static json_t *ref(const char *key, const char *value)
{
	return json_pack("{s:s}", key, value);
}

/* A complete Registered bundle, ready to seal. */
static json_t *ready(void)
{
	json_t *s;

	put_catalog();
	s = create(json_pack("{s:s, s:[s, s], s:s}", "license", "CC-BY-4.0",
			     "creators", A2, A1, "publisher", "aps"));
	ok("bundle.add_dataset", &s, ref("dataset", "recon-2"));
	ok("bundle.add_dataset", &s, ref("dataset", "raw-1"));
	ok("bundle.add_run", &s, ref("run", "run-7"));
	ok("bundle.add_asset", &s, ref("asset", "camera"));
	return s;
}

/* ---- tables ----------------------------------------------------------- */

static void test_bundle_events__every_payload_names_its_bundle(void **st)
{
	const struct cora_event_def *d;
	size_t i, k, n = 0;

	for (i = 0; (d = cora_event_def_at(i)); i++) {
		bool id = false, at = false, by = false;
		if (strcmp(d->stream_type, "Bundle") != 0)
			continue;
		n++;
		for (k = 0; d->keys[k]; k++) {
			size_t len = strlen(d->keys[k]);
			id |= strcmp(d->keys[k], "bundle_id") == 0;
			at |= strcmp(d->keys[k], "occurred_at") == 0;
			by |= len > 3 && strcmp(d->keys[k] + len - 3,
						"_by") == 0;
		}
		if (!id || !at || !by)
			fail_msg("%s lacks its id, time or attribution",
				 d->type);
		assert_int_equal(d->genesis,
				 strcmp(d->type, "BundleRegistered") == 0);
	}
	assert_int_equal(n, 13);
}

/* ---- create ----------------------------------------------------------- */

static void test_bundle_create__defaults(void **st)
{
	json_t *s = NULL, *p;

	fixture_set_stream(&fx, B1);
	ok_last("bundle.create", &s, json_pack("{s:s, s:s}", "slug",
		"catalyst", "title", " " TITLE " "), &p);
	assert_string_equal(cora_json_str(p, "bundle_id"), B1);
	assert_string_equal(cora_json_str(p, "title"), TITLE);
	assert_string_equal(cora_json_str(p, "kind"), "ROCrate");
	assert_true(json_is_null(json_object_get(p, "license")));
	assert_true(json_is_null(json_object_get(p,
				 "publisher_facility_code")));
	assert_int_equal(json_array_size(json_object_get(p, "creators")), 0);
	assert_string_equal(cora_json_str(p, "registered_by"),
			    fx.ctx.principal);
	json_decref(p);
	assert_string_equal(cora_json_str(s, "status"), "Registered");
	assert_int_equal(json_array_size(json_object_get(s, "dataset_ids")),
			 0);
	assert_true(json_is_null(json_object_get(s, "content_hash")));
	assert_true(json_is_null(json_object_get(s, "external_pid")));
	assert_replay("Bundle", s);
	json_decref(s);
}

static void test_bundle_create__all_fields(void **st)
{
	json_t *s = NULL, *p;

	fixture_set_stream(&fx, B1);
	ok_last("bundle.create", &s, json_pack("{s:s, s:s, s:s, s:[s, s],"
		" s:s, s:s}", "slug", "catalyst", "title", TITLE, "license",
		"CC-BY-4.0", "creators", A2, A1, "publisher", " aps ", "kind",
		"DataCite"), &p);
	/* Creators keep their order: it is the citation's author order. */
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(p, "creators"), 0)), A2);
	assert_string_equal(cora_json_str(p, "publisher_facility_code"),
			    "aps");
	assert_string_equal(cora_json_str(p, "license"), "CC-BY-4.0");
	assert_string_equal(cora_json_str(p, "kind"), "DataCite");
	json_decref(p);
	assert_replay("Bundle", s);
	json_decref(s);
}

static void test_bundle_create__refuses_bad_input(void **st)
{
	json_t *s = create(json_object()), *many;
	char title[502];
	int i;

	fixture_set_stream(&fx, DS1);
	fails("bundle.create", NULL, json_pack("{s:s, s:s}", "slug",
	      "catalyst", "title", "t"), CORA_EEXISTS,
	      "bundle 'catalyst' already exists");
	fails("bundle.create", s, json_pack("{s:s, s:s}", "slug", "other",
	      "title", "t"), CORA_EEXISTS, "bundle 'other' already exists");
	fails("bundle.create", NULL, json_pack("{s:s}", "slug", "b"),
	      CORA_EINVALID, "bundle title is missing");
	fails("bundle.create", NULL, json_pack("{s:s, s:s}", "slug", A1,
	      "title", "t"), CORA_EINVALID,
	      "bundle slug '" A1 "' may not be a uuid");
	fails("bundle.seal", NULL, json_object(), CORA_ENOTFOUND,
	      "bundle '" DS1 "' does not exist");
	fails("bundle.add_run", NULL, ref("run", "run-7"), CORA_ENOTFOUND,
	      "bundle '" DS1 "' does not exist");
	memset(title, 't', 501);
	title[501] = 0;
	fails("bundle.create", NULL, json_pack("{s:s, s:s}", "slug", "b",
	      "title", title), CORA_EINVALID,
	      "bundle title must be 1 to 500 characters, not 501");
	fails("bundle.create", NULL, json_pack("{s:s, s:s, s:s}", "slug", "b",
	      "title", "t", "license", "CC BY"), CORA_EINVALID,
	      "licence 'CC BY' is not an SPDX id (letters, digits, '.', '+', "
	      "'-')");
	fails("bundle.create", NULL, json_pack("{s:s, s:s, s:[]}", "slug", "b",
	      "title", "t", "creators"), CORA_EINVALID,
	      "creators must list 1 to 100 actors, not 0");
	fails("bundle.create", NULL, json_pack("{s:s, s:s, s:[s, s, s]}",
	      "slug", "b", "title", "t", "creators", A1, A2, A1),
	      CORA_EINVALID, "creator '" A1 "' is listed twice");
	fails("bundle.create", NULL, json_pack("{s:s, s:s, s:[s]}", "slug",
	      "b", "title", "t", "creators", "0000-0002-1825-0097"),
	      CORA_EINVALID, "creator '0000-0002-1825-0097' is not an actor "
	      "id (a UUID)");
	fails("bundle.create", NULL, json_pack("{s:s, s:s, s:s}", "slug", "b",
	      "title", "t", "creators", A1), CORA_EINVALID,
	      "creators must be a list of actor ids");
	many = json_array();
	for (i = 0; i < 101; i++) {
		char id[37];
		snprintf(id, sizeof(id), "01900000-0000-7000-8000-%012d", i);
		json_array_append_new(many, json_string(id));
	}
	fails("bundle.create", NULL, json_pack("{s:s, s:s, s:o}", "slug", "b",
	      "title", "t", "creators", many), CORA_EINVALID,
	      "creators must list 1 to 100 actors, not 101");
	fails("bundle.create", NULL, json_pack("{s:s, s:s, s:s}", "slug", "b",
	      "title", "t", "publisher", "APS"), CORA_EINVALID,
	      "facility code 'APS' may hold only a-z, 0-9 and '-'");
	fails("bundle.create", NULL, json_pack("{s:s, s:s, s:s}", "slug", "b",
	      "title", "t", "kind", "Zip"), CORA_EINVALID,
	      "bundle kind 'Zip' is not one of ROCrate, DataCite, Croissant, "
	      "OAIS_AIP, OAIS_DIP, NeXus");
	json_decref(s);
}

/* ---- members ---------------------------------------------------------- */

static void test_bundle_members__add_and_remove(void **st)
{
	json_t *s, *p, *ids;

	put_catalog();
	s = create(json_object());
	ok_last("bundle.add_dataset", &s, ref("dataset", "recon-2"), &p);
	assert_string_equal(cora_json_str(p, "dataset_id"), DS2);
	assert_string_equal(cora_json_str(p, "added_by"), fx.ctx.principal);
	json_decref(p);
	ok("bundle.add_dataset", &s, ref("dataset", DS1));
	ok("bundle.add_dataset", &s, ref("dataset", "trial-3"));
	ids = json_object_get(s, "dataset_ids");
	assert_int_equal(json_array_size(ids), 3);
	assert_string_equal(json_string_value(json_array_get(ids, 0)), DS1);
	assert_string_equal(json_string_value(json_array_get(ids, 1)), DS2);

	fails("bundle.add_dataset", s, ref("dataset", "raw-1"), CORA_EEXISTS,
	      "dataset 'raw-1' is already in bundle 'catalyst'");
	fails("bundle.add_dataset", s, ref("dataset", "nope"), CORA_ENOTFOUND,
	      "dataset 'nope' does not exist");
	fails("bundle.add_dataset", s, ref("dataset", "gone-4"), CORA_ESTATE,
	      "cannot add dataset 'gone-4' to bundle 'catalyst': it is "
	      "Discarded");
	fails("bundle.add_dataset", s, json_object(), CORA_EINVALID,
	      "dataset is missing");
	fails("bundle.remove_dataset", s, ref("dataset", "trial-5"),
	      CORA_ENOTFOUND, "dataset 'trial-5' is not in bundle 'catalyst'");
	ok_last("bundle.remove_dataset", &s, ref("dataset", "trial-3"), &p);
	assert_string_equal(cora_json_str(p, "removed_by"), fx.ctx.principal);
	json_decref(p);
	assert_int_equal(json_array_size(json_object_get(s, "dataset_ids")),
			 2);

	ok("bundle.add_run", &s, ref("run", "run-7"));
	fails("bundle.add_run", s, ref("run", "run-7"), CORA_EEXISTS,
	      "run 'run-7' is already in bundle 'catalyst'");
	fails("bundle.add_run", s, ref("run", "run-9"), CORA_ENOTFOUND,
	      "run 'run-9' does not exist");
	ok("bundle.remove_run", &s, ref("run", RUN1));
	assert_int_equal(json_array_size(json_object_get(s, "run_ids")), 0);
	ok_last("bundle.add_asset", &s, ref("asset", "camera"), &p);
	assert_string_equal(cora_json_str(p, "asset_id"), CAM);
	json_decref(p);
	fails("bundle.remove_asset", s, ref("asset", "hexapod"),
	      CORA_ENOTFOUND, "asset 'hexapod' does not exist");
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(s, "asset_ids"), 0)), CAM);
	assert_replay("Bundle", s);
	json_decref(s);
}

static void test_bundle_fields__set_only_on_change(void **st)
{
	json_t *s = create(json_object()), *p;

	ok_last("bundle.set_license", &s, ref("license", "CC0-1.0"), &p);
	assert_string_equal(cora_json_str(p, "set_by"), fx.ctx.principal);
	json_decref(p);
	assert_string_equal(cora_json_str(s, "license"), "CC0-1.0");
	assert_int_equal(ok("bundle.set_license", &s,
			    ref("license", "CC0-1.0")), 0);
	fails("bundle.set_license", s, ref("license", "GPL 3"), CORA_EINVALID,
	      "licence 'GPL 3' is not an SPDX id (letters, digits, '.', '+', "
	      "'-')");
	fails("bundle.set_license", s, json_object(), CORA_EINVALID,
	      "licence is missing");

	ok("bundle.set_creators", &s, json_pack("{s:[s, s]}", "creators", A1,
						A2));
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(s, "creators"), 1)), A2);
	assert_int_equal(ok("bundle.set_creators", &s,
			    json_pack("{s:[s, s]}", "creators", A1, A2)), 0);
	assert_int_equal(ok("bundle.set_creators", &s,
			    json_pack("{s:[s, s]}", "creators", A2, A1)), 1);
	fails("bundle.set_creators", s, json_pack("{s:[]}", "creators"),
	      CORA_EINVALID, "creators must list 1 to 100 actors, not 0");

	ok("bundle.set_publisher", &s, ref("publisher", "aps"));
	assert_string_equal(cora_json_str(s, "publisher_facility_code"),
			    "aps");
	assert_int_equal(ok("bundle.set_publisher", &s,
			    ref("publisher", " aps")), 0);
	fails("bundle.set_publisher", s, ref("publisher", "a p s"),
	      CORA_EINVALID,
	      "facility code 'a p s' may hold only a-z, 0-9 and '-'");
	assert_replay("Bundle", s);
	json_decref(s);
}

/* ---- seal ------------------------------------------------------------- */

/* python3 -c '
 * import json, hashlib
 * m = {"bundle_id": B1, "title": TITLE, "license": "CC-BY-4.0",
 *      "creators": [A2, A1], "publisher": "aps", "publication_year": 2026,
 *      "datasets": [{"id": DS1, "checksum": {"algorithm": "sha256-tree",
 *                    "value": "%064x" % 1}, "byte_size": 100},
 *                   {"id": DS2, "checksum": {"algorithm": "sha256-tree",
 *                    "value": "%064x" % 2}, "byte_size": 4831838208}],
 *      "runs": [RUN1], "assets": [CAM]}
 * d = lambda m: json.dumps(m, sort_keys=True, separators=(",", ":"),
 *                          ensure_ascii=False).encode()
 * print(hashlib.sha256(d(m)).hexdigest())      # SEALED_HASH
 * m["doi"] = DOI
 * print(hashlib.sha256(d(m)).hexdigest())'     # PUBLISHED_HASH
 * with the ids, TITLE (its dash is U+2014) and DOI defined above.
 */
#define SEALED_HASH "238c96e61d1255e41cf3c3b7784676bcab898aa4fc8ff34b95771596fd445cc2"
#define PUBLISHED_HASH "2016941d9fb88082b26e4c765df7577a0ce2216f1b59ef318bcdebb4e7b58a03"

static void test_bundle_seal__records_the_content_hash(void **st)
{
	json_t *s = ready(), *p, *ids;

	ok_last("bundle.seal", &s, json_object(), &p);
	assert_string_equal(cora_json_str(p, "content_hash"), SEALED_HASH);
	assert_int_equal(cora_json_int(p, "publication_year", 0), 2026);
	assert_string_equal(cora_json_str(p, "license"), "CC-BY-4.0");
	assert_string_equal(cora_json_str(p, "publisher_facility_code"),
			    "aps");
	assert_string_equal(cora_json_str(p, "sealed_by"), fx.ctx.principal);
	ids = json_object_get(p, "sealed_dataset_ids");
	assert_int_equal(json_array_size(ids), 2);
	assert_string_equal(json_string_value(json_array_get(ids, 0)), DS1);
	json_decref(p);
	assert_string_equal(cora_json_str(s, "status"), "Sealed");
	assert_string_equal(cora_json_str(s, "content_hash"), SEALED_HASH);
	assert_int_equal(cora_json_int(s, "publication_year", 0), 2026);
	assert_replay("Bundle", s);
	json_decref(s);
}

static void test_bundle_seal__year_bounds(void **st)
{
	json_t *s = ready(), *p;

	fails("bundle.seal", s, json_pack("{s:i}", "year", 1899),
	      CORA_EINVALID, "publication year 1899 is outside 1900 to 2031");
	fails("bundle.seal", s, json_pack("{s:i}", "year", 2032),
	      CORA_EINVALID, "publication year 2032 is outside 1900 to 2031");
	fails("bundle.seal", s, json_pack("{s:s}", "year", "2026"),
	      CORA_EINVALID, "publication year must be an integer");
	ok_last("bundle.seal", &s, json_pack("{s:i}", "year", 2031), &p);
	assert_int_equal(cora_json_int(p, "publication_year", 0), 2031);
	assert_string_not_equal(cora_json_str(p, "content_hash"),
				SEALED_HASH);
	json_decref(p);
	json_decref(s);
}

static void test_bundle_seal__refuses_each_gap(void **st)
{
	json_t *s;

	put_catalog();
	s = create(json_object());
	fails("bundle.seal", s, json_object(), CORA_ESTATE,
	      "cannot seal bundle 'catalyst': it has no datasets");
	/* Both trial-5 and trial-3 are Trial: the lower id is named. */
	ok("bundle.add_dataset", &s, ref("dataset", "trial-5"));
	ok("bundle.add_dataset", &s, ref("dataset", "trial-3"));
	ok("bundle.add_dataset", &s, ref("dataset", "raw-1"));
	fails("bundle.seal", s, json_object(), CORA_ESTATE,
	      "cannot seal bundle 'catalyst': dataset 'trial-3' is Trial, not "
	      "Production");
	/* A Discarded member is named first, even after a lower Trial id. */
	put_dataset(DS5, "trial-5", "Discarded", "Trial", 0, 0);
	fails("bundle.seal", s, json_object(), CORA_ESTATE,
	      "cannot seal bundle 'catalyst': dataset 'trial-5' is Discarded");
	ok("bundle.remove_dataset", &s, ref("dataset", "trial-5"));
	put_dataset(DS3, "trial-3", "Registered", "Retracted", 3, 1);
	fails("bundle.seal", s, json_object(), CORA_ESTATE,
	      "cannot seal bundle 'catalyst': dataset 'trial-3' is Retracted, "
	      "not Production");
	ok("bundle.remove_dataset", &s, ref("dataset", "trial-3"));
	fails("bundle.seal", s, json_object(), CORA_ESTATE,
	      "cannot seal bundle 'catalyst': it has no licence");
	ok("bundle.set_license", &s, ref("license", "CC-BY-4.0"));
	fails("bundle.seal", s, json_object(), CORA_ESTATE,
	      "cannot seal bundle 'catalyst': it has no creators");
	ok("bundle.set_creators", &s, json_pack("{s:[s]}", "creators", A1));
	fails("bundle.seal", s, json_object(), CORA_ESTATE,
	      "cannot seal bundle 'catalyst': it has no publisher");
	ok("bundle.set_publisher", &s, ref("publisher", "aps"));
	ok("bundle.seal", &s, json_object());
	fails("bundle.seal", s, json_object(), CORA_ESTATE,
	      "cannot seal bundle 'catalyst': it is Sealed");
	assert_replay("Bundle", s);
	json_decref(s);
}

static void test_bundle_sealed__cannot_change(void **st)
{
	static const char *const cmds[][3] = {
		{ "bundle.add_dataset", "dataset", "trial-3" },
		{ "bundle.remove_dataset", "dataset", "raw-1" },
		{ "bundle.add_run", "run", "run-7" },
		{ "bundle.remove_run", "run", "run-7" },
		{ "bundle.add_asset", "asset", "camera" },
		{ "bundle.remove_asset", "asset", "camera" },
		{ "bundle.set_license", "license", "MIT" },
		{ "bundle.set_publisher", "publisher", "esrf" },
	};
	json_t *s = ready();
	size_t i;

	ok("bundle.seal", &s, json_object());
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fails(cmds[i][0], s, ref(cmds[i][1], cmds[i][2]), CORA_ESTATE,
		      "bundle 'catalyst' is Sealed: it cannot change");
	fails("bundle.set_creators", s, json_pack("{s:[s]}", "creators", A1),
	      CORA_ESTATE, "bundle 'catalyst' is Sealed: it cannot change");
	json_decref(s);
}

/* ---- publish, withdraw ------------------------------------------------ */

static void test_bundle_publish__records_the_doi(void **st)
{
	json_t *s = ready(), *p, *pid;

	fails("bundle.publish", s, ref("doi", DOI), CORA_ESTATE,
	      "cannot publish bundle 'catalyst': it is Registered");
	ok("bundle.seal", &s, json_object());
	fails("bundle.publish", s, ref("doi", "doi:10.0000/x"), CORA_EINVALID,
	      "'doi:10.0000/x' is not a DOI (like 10.5072/abc-123, without "
	      "'doi:')");
	fails("bundle.publish", s, json_object(), CORA_EINVALID,
	      "DOI is missing");
	ok_last("bundle.publish", &s, ref("doi", DOI), &p);
	assert_string_equal(cora_json_str(p, "external_pid_scheme"), "DOI");
	assert_string_equal(cora_json_str(p, "external_pid_value"), DOI);
	assert_string_equal(cora_json_str(p, "published_content_hash"),
			    PUBLISHED_HASH);
	assert_string_equal(cora_json_str(p, "published_by"),
			    fx.ctx.principal);
	json_decref(p);
	assert_string_equal(cora_json_str(s, "status"), "Published");
	pid = json_object_get(s, "external_pid");
	assert_string_equal(cora_json_str(pid, "scheme"), "DOI");
	assert_string_equal(cora_json_str(pid, "value"), DOI);
	fails("bundle.publish", s, ref("doi", DOI), CORA_ESTATE,
	      "cannot publish bundle 'catalyst': it is Published");
	assert_replay("Bundle", s);
	json_decref(s);
}

static void test_bundle_publish__refuses_changed_members(void **st)
{
	json_t *s = ready();

	ok("bundle.seal", &s, json_object());
	put_dataset(DS1, "raw-1", "Discarded", "Production", 1, 100);
	fails("bundle.publish", s, ref("doi", DOI), CORA_ESTATE,
	      "cannot publish bundle 'catalyst': dataset 'raw-1' is Discarded");
	/* Impossible through the deciders (Production files are frozen), so
	 * a changed checksum means a damaged catalog. */
	put_dataset(DS1, "raw-1", "Registered", "Production", 7, 100);
	fails("bundle.publish", s, ref("doi", DOI), CORA_EMISMATCH,
	      "cannot publish bundle 'catalyst': its content changed since it "
	      "was sealed");
	json_decref(s);
}

static void test_bundle_withdraw__only_when_published(void **st)
{
	json_t *s = ready(), *p;

	ok("bundle.seal", &s, json_object());
	fails("bundle.withdraw", s, ref("reason", "x"), CORA_ESTATE,
	      "cannot withdraw bundle 'catalyst': it is Sealed");
	ok("bundle.publish", &s, ref("doi", DOI));
	fails("bundle.withdraw", s, json_object(), CORA_EINVALID,
	      "reason is missing");
	ok_last("bundle.withdraw", &s, ref("reason", "licence dispute"), &p);
	assert_string_equal(cora_json_str(p, "reason"), "licence dispute");
	assert_string_equal(cora_json_str(p, "withdrawn_by"),
			    fx.ctx.principal);
	json_decref(p);
	assert_string_equal(cora_json_str(s, "status"), "Withdrawn");
	fails("bundle.withdraw", s, ref("reason", "x"), CORA_ESTATE,
	      "cannot withdraw bundle 'catalyst': it is Withdrawn");
	fails("bundle.add_run", s, ref("run", "run-7"), CORA_ESTATE,
	      "bundle 'catalyst' is Withdrawn: it cannot change");
	assert_replay("Bundle", s);
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_bundle_events__every_payload_names_its_bundle),
		T(test_bundle_create__defaults),
		T(test_bundle_create__all_fields),
		T(test_bundle_create__refuses_bad_input),
		T(test_bundle_members__add_and_remove),
		T(test_bundle_fields__set_only_on_change),
		T(test_bundle_seal__records_the_content_hash),
		T(test_bundle_seal__year_bounds),
		T(test_bundle_seal__refuses_each_gap),
		T(test_bundle_sealed__cannot_change),
		T(test_bundle_publish__records_the_doi),
		T(test_bundle_publish__refuses_changed_members),
		T(test_bundle_withdraw__only_when_published),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

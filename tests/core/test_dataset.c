/*
 * test_dataset.c: the Dataset aggregate: registration, the file tree of a
 * Trial dataset, promote / demote / discard, and replay.
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

#define NOW_NS 1779199402000000000LL /* NOW in ns since the epoch */
#define DS1 "01900000-0000-7000-8000-0000000000d1"
#define DS2 "01900000-0000-7000-8000-0000000000d2"
#define DS3 "01900000-0000-7000-8000-0000000000d3"
#define RUN1 "01900000-0000-7000-8000-0000000000a1"
#define CAL1 "01900000-0000-7000-8000-0000000000c1"
#define CAL2 "01900000-0000-7000-8000-0000000000c2"


/* ---- helpers ---------------------------------------------------------- */

static json_t *register_ds(const char *id, const char *slug, json_t *cmd)
{
	json_t *s = NULL;

	if (!cmd)
		cmd = json_object();
	json_object_set_new(cmd, "slug", json_string(slug));
	fixture_set_stream(&fx, id);
	ok("dataset.register", &s, cmd);
	fixture_put(&fx, "Dataset", s);
	return s;
}

static void put_run(const char *id, const char *slug, const char *status)
{
	json_t *run = json_pack("{s:s, s:s, s:s}", "id", id, "slug", slug,
				"status", status);

	fixture_put(&fx, "Run", run);
	json_decref(run);
}

static json_t *put_file_cmd(const char *path, int sha, json_int_t size,
			    int mode)
{
	return json_pack("{s:s, s:s, s:I, s:i, s:I}", "path", path, "sha256",
			 fixture_sha(sha), "size", size, "mode", mode,
			 "mtime_ns", (json_int_t)0);
}

/* A Production dataset DS1 'scan-1' with one file. */
static json_t *production_ds(void)
{
	json_t *s = register_ds(DS1, "scan-1", NULL);

	fixture_put_node(&fx, DS1, "a.h5", 'f', 10, fixture_sha(1), 0644);
	ok("dataset.promote", &s, reason("good data"));
	fixture_put(&fx, "Dataset", s);
	return s;
}

/* ---- the event table -------------------------------------------------- */

static void test_dataset_events__every_payload_names_its_dataset(void **st)
{
	const struct cora_event_def *d;
	size_t i, k, n = 0;

	for (i = 0; (d = cora_event_def_at(i)); i++) {
		bool id = false, at = false, by = false;
		if (strcmp(d->stream_type, "Dataset") != 0)
			continue;
		n++;
		for (k = 0; d->keys[k]; k++) {
			id |= strcmp(d->keys[k], "dataset_id") == 0;
			at |= strcmp(d->keys[k], "occurred_at") == 0;
			by |= strlen(d->keys[k]) > 3 &&
			      strcmp(d->keys[k] + strlen(d->keys[k]) - 3,
				     "_by") == 0;
		}
		if (!id || !at || !by)
			fail_msg("%s lacks its id, time or attribution",
				 d->type);
		assert_int_equal(d->genesis,
				 strcmp(d->type, "DatasetRegistered") == 0);
	}
	assert_int_equal(n, 16);
	assert_non_null(cora_command_def_find("dataset.promote"));
}

/* ---- register --------------------------------------------------------- */

static void test_dataset_register__defaults(void **st)
{
	json_t *s = NULL, *p;

	fixture_set_stream(&fx, DS1);
	ok_last("dataset.register", &s, json_pack("{s:s}", "slug", "scan-1"),
		&p);
	assert_string_equal(cora_json_str(p, "dataset_id"), DS1);
	assert_string_equal(cora_json_str(p, "registered_by"),
			    fx.ctx.principal);
	assert_string_equal(cora_json_str(p, "occurred_at"), NOW);
	assert_true(json_is_null(json_object_get(p, "checksum")));
	assert_true(json_is_null(json_object_get(p, "byte_size")));
	assert_true(json_is_null(json_object_get(p, "producing_run_id")));
	assert_true(json_is_null(json_object_get(p,
				"producing_run_end_state")));
	assert_string_equal(cora_json_str(p, "intent"), "Trial");
	json_decref(p);

	assert_string_equal(cora_json_str(s, "id"), DS1);
	assert_string_equal(cora_json_str(s, "slug"), "scan-1");
	assert_string_equal(cora_json_str(s, "name"), "scan-1");
	assert_string_equal(cora_json_str(s, "uri"), "urn:uuid:" DS1);
	assert_string_equal(cora_json_str(s, "media_type"),
			    "application/octet-stream");
	assert_int_equal(json_array_size(json_object_get(s, "conforms_to")), 0);
	assert_string_equal(cora_json_str(s, "status"), "Registered");
	assert_string_equal(cora_json_str(s, "intent"), "Trial");
	assert_true(json_is_null(json_object_get(s, "file_count")));
	assert_string_equal(cora_json_str(s, "created_at"), NOW);
	assert_replay("Dataset", s);
	json_decref(s);
}

static void test_dataset_register__all_fields_sorted_and_resolved(void **st)
{
	json_t *in1 = register_ds(DS2, "dark-1", NULL);
	json_t *in2 = register_ds(DS3, "flat-1", NULL);
	json_t *s = NULL, *p, *enc, *cmd;

	put_run(RUN1, "run-7", "Running");
	cmd = json_pack("{s:s, s:s, s:s, s:s, s:[s, s, s], s:s, s:s,"
			" s:[s, s], s:[s, s]}",
			"slug", "recon-1",
			"name", "  Recon \xe2\x80\x94 SIRT chain ",
			"uri", "file:///data/2bm/recon/",
			"media_type", "image/tiff",
			"conforms_to", "https://z.example/b",
			"https://a.example/a", "https://z.example/b",
			"producing_run", "run-7",
			"subject_id", CAL1,
			"derived_from", "flat-1", DS2,
			"used_calibration_ids", CAL2, CAL1);
	fixture_set_stream(&fx, DS1);
	ok_last("dataset.register", &s, cmd, &p);
	enc = json_object_get(p, "encoding");
	assert_string_equal(cora_json_str(enc, "media_type"), "image/tiff");
	assert_int_equal(json_array_size(json_object_get(enc, "conforms_to")),
			 2);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(enc, "conforms_to"), 0)), "https://a.example/a");
	assert_string_equal(cora_json_str(p, "producing_run_id"), RUN1);
	assert_string_equal(cora_json_str(p, "producing_run_end_state"),
			    "Running");
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(p, "derived_from"), 0)), DS2);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(p, "derived_from"), 1)), DS3);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(p, "used_calibration_ids"), 0)), CAL1);
	json_decref(p);
	assert_string_equal(cora_json_str(s, "name"),
			    "Recon \xe2\x80\x94 SIRT chain");
	assert_string_equal(cora_json_str(s, "producing_run_id"), RUN1);
	assert_replay("Dataset", s);
	json_decref(s);
	json_decref(in1);
	json_decref(in2);
}

static void test_dataset_register__refuses_bad_input(void **st)
{
	json_t *s = register_ds(DS1, "scan-1", NULL), *many;
	char longname[202];
	int i;

	fixture_set_stream(&fx, DS2);
	fails("dataset.register", NULL, json_pack("{s:s}", "slug", "scan-1"),
	      CORA_EEXISTS, "dataset 'scan-1' already exists");
	fails("dataset.register", s, json_pack("{s:s}", "slug", "other"),
	      CORA_EEXISTS, "dataset 'other' already exists");
	fails("dataset.register", NULL, json_object(), CORA_EINVALID,
	      "dataset slug is missing");
	fails("dataset.register", NULL, json_pack("{s:s}", "slug", DS3),
	      CORA_EINVALID, "dataset slug '" DS3 "' may not be a uuid");
	fails("dataset.promote", NULL, reason("x"), CORA_ENOTFOUND,
	      "dataset '" DS2 "' does not exist");
	fails("dataset.remove", NULL, json_pack("{s:s}", "path", "a"),
	      CORA_ENOTFOUND, "dataset '" DS2 "' does not exist");
	fails("dataset.register", NULL, json_pack("{s:s}", "slug", "a b"),
	      CORA_EINVALID, "dataset 'a b' is not a valid name: use letters, "
	      "digits, '.', '_' and '-', starting with a letter or digit");
	memset(longname, 'n', 201);
	longname[201] = 0;
	fails("dataset.register", NULL, json_pack("{s:s, s:s}", "slug", "x",
	      "name", longname), CORA_EINVALID,
	      "dataset name must be 1 to 200 characters, not 201");
	fails("dataset.register", NULL, json_pack("{s:s, s:i}", "slug", "x",
	      "name", 3), CORA_EINVALID, "dataset name must be text");
	fails("dataset.register", NULL, json_pack("{s:s, s:s}", "slug", "x",
	      "uri", "javascript:alert(1)"), CORA_EINVALID,
	      "dataset uri scheme 'javascript' is not allowed");
	fails("dataset.register", NULL, json_pack("{s:s, s:s}", "slug", "x",
	      "media_type", "hdf5"), CORA_EINVALID,
	      "media type 'hdf5' is not of the form type/subtype");
	many = json_array();
	for (i = 0; i < 17; i++)
		json_array_append_new(many, json_string("https://a.example/"));
	fails("dataset.register", NULL, json_pack("{s:s, s:o}", "slug", "x",
	      "conforms_to", many), CORA_EINVALID,
	      "conforms_to has 17 entries: at most 16");
	fails("dataset.register", NULL, json_pack("{s:s, s:[s]}", "slug", "x",
	      "conforms_to", "nexus"), CORA_EINVALID,
	      "conforms_to URI 'nexus' has no scheme (like https: or s3:)");
	fails("dataset.register", NULL, json_pack("{s:s, s:s}", "slug", "x",
	      "subject_id", "sn-2024-038"), CORA_EINVALID,
	      "subject id 'sn-2024-038' is not a UUID");
	fails("dataset.register", NULL, json_pack("{s:s, s:[s]}", "slug", "x",
	      "used_calibration_ids", "magnification"), CORA_EINVALID,
	      "calibration id 'magnification' is not a UUID");
	fails("dataset.register", NULL, json_pack("{s:s, s:s}", "slug", "x",
	      "derived_from", DS1), CORA_EINVALID,
	      "derived_from must be a list");
	json_decref(s);
}

static void test_dataset_register__refuses_missing_references(void **st)
{
	json_t *gone = register_ds(DS2, "gone-1", NULL);

	ok("dataset.discard", &gone, reason("bad scan"));
	fixture_put(&fx, "Dataset", gone);
	fixture_set_stream(&fx, DS1);
	fails("dataset.register", NULL, json_pack("{s:s, s:s}", "slug", "x",
	      "producing_run", "run-9"), CORA_ENOTFOUND,
	      "cannot register dataset 'x': producing run 'run-9' does not "
	      "exist");
	fails("dataset.register", NULL, json_pack("{s:s, s:[s]}", "slug", "x",
	      "derived_from", "raw-9"), CORA_ENOTFOUND,
	      "cannot register dataset 'x': derived-from dataset 'raw-9' does "
	      "not exist");
	fails("dataset.register", NULL, json_pack("{s:s, s:[s]}", "slug", "x",
	      "derived_from", "gone-1"), CORA_ESTATE,
	      "cannot register dataset 'x': derived-from dataset 'gone-1' is "
	      "Discarded");
	json_decref(gone);
}

/* ---- file tree -------------------------------------------------------- */

static void test_dataset_put_file__adds_replaces_and_skips_identical(void **st)
{
	json_t *s = register_ds(DS1, "scan-1", NULL), *p;

	ok_last("dataset.put_file", &s, put_file_cmd("a.h5", 1, 10, 0644), &p);
	assert_string_equal(cora_json_str(p, "path"), "a.h5");
	assert_string_equal(cora_json_str(p, "sha256"), fixture_sha(1));
	assert_int_equal(cora_json_int(p, "size", -1), 10);
	assert_int_equal(cora_json_int(p, "mode", -1), 0644);
	assert_string_equal(cora_json_str(p, "added_by"), fx.ctx.principal);
	json_decref(p);
	fixture_put_node(&fx, DS1, "a.h5", 'f', 10, fixture_sha(1), 0644);

	ok_one("dataset.put_file", &s, put_file_cmd("a.h5", 2, 12, 0644),
	       "DatasetFileReplaced");
	assert_int_equal(ok("dataset.put_file", &s,
			    put_file_cmd("a.h5", 1, 10, 0644)), 0);
	ok_one("dataset.put_file", &s, put_file_cmd("a.h5", 1, 10, 0600),
	       "DatasetFileReplaced");

	fixture_put_node(&fx, DS1, "raw", 'd', 0, NULL, 0755);
	ok_one("dataset.put_file", &s, put_file_cmd("raw/b.h5", 3, 1, 0644),
	       "DatasetFileAdded");
	/* mode and mtime_ns default to 0644 and the command's time. */
	ok_last("dataset.put_file", &s, json_pack("{s:s, s:s, s:i}", "path",
		"c.h5", "sha256", fixture_sha(4), "size", 0), &p);
	assert_int_equal(cora_json_int(p, "mode", 0), 0644);
	assert_int_equal(cora_json_int(p, "mtime_ns", 0), NOW_NS);
	json_decref(p);
	assert_replay("Dataset", s);
	json_decref(s);
}

static void test_dataset_put_file__refuses(void **st)
{
	json_t *s = register_ds(DS1, "scan-1", NULL);

	fixture_put_node(&fx, DS1, "raw", 'd', 0, NULL, 0755);
	fixture_put_node(&fx, DS1, "a.h5", 'f', 10, fixture_sha(1), 0644);
	fixture_put_node(&fx, DS1, "latest", 'l', 4, NULL, 0777);
	fails("dataset.put_file", s, put_file_cmd("raw", 1, 1, 0644),
	      CORA_EISDIR, "'raw' is a folder in dataset 'scan-1'");
	fails("dataset.put_file", s, put_file_cmd("nope/b.h5", 1, 1, 0644),
	      CORA_ENOTFOUND, "folder 'nope' does not exist in dataset "
	      "'scan-1'");
	fails("dataset.put_file", s, put_file_cmd("a.h5/b.h5", 1, 1, 0644),
	      CORA_ENOTDIR, "'a.h5' is a file in dataset 'scan-1', not a "
	      "folder");
	fails("dataset.put_file", s, put_file_cmd("latest/b.h5", 1, 1, 0644),
	      CORA_ENOTDIR, "'latest' is a symbolic link in dataset 'scan-1', "
	      "not a folder");
	fails("dataset.put_file", s, put_file_cmd("latest", 1, 1, 0644),
	      CORA_EEXISTS, "'latest' is a symbolic link in dataset 'scan-1'");
	fails("dataset.put_file", s, put_file_cmd("raw/../x", 1, 1, 0644),
	      CORA_EINVALID, "path may not be '.' or '..'");
	fails("dataset.put_file", s, put_file_cmd("/x", 1, 1, 0644),
	      CORA_EINVALID, "path '/x' must be relative");
	fails("dataset.put_file", s, put_file_cmd("x", 1, -1, 0644),
	      CORA_EINVALID, "size must be 0 or more, not -1");
	fails("dataset.put_file", s, put_file_cmd("x", 1, 1, 010000),
	      CORA_EINVALID, "mode 010000 is outside 0 to 07777");
	fails("dataset.put_file", s, json_pack("{s:s, s:s, s:i, s:i, s:i}",
	      "path", "x", "sha256", "ABC", "size", 1, "mode", 0644,
	      "mtime_ns", 0), CORA_EINVALID,
	      "sha256 'ABC' must be 64 lowercase hex digits");
	fails("dataset.put_file", s, json_pack("{s:s, s:s}", "path", "x",
	      "sha256", fixture_sha(1)), CORA_EINVALID, "size is missing");
	json_decref(s);
}

static void test_dataset_tree__refuses_frozen_datasets(void **st)
{
	json_t *s = production_ds(), *d;

	fails("dataset.put_file", s, put_file_cmd("b.h5", 1, 1, 0644),
	      CORA_EREADONLY, "dataset 'scan-1' is Production: its files are "
	      "frozen");
	fails("dataset.remove", s, json_pack("{s:s}", "path", "a.h5"),
	      CORA_EREADONLY, "dataset 'scan-1' is Production: its files are "
	      "frozen");
	fails("dataset.set_xattr", s, json_pack("{s:s, s:s, s:s}", "path", "",
	      "name", "user.x", "value", ""), CORA_EREADONLY,
	      "dataset 'scan-1' is Production: its files are frozen");
	ok("dataset.demote", &s, reason("wrong energy"));
	fails("dataset.add_folder", s, json_pack("{s:s, s:i, s:i}", "path",
	      "f", "mode", 0755, "mtime_ns", 0), CORA_EREADONLY,
	      "dataset 'scan-1' is Retracted: its files are frozen");
	d = register_ds(DS2, "scan-2", NULL);
	ok("dataset.discard", &d, reason("beam dump"));
	fails("dataset.move", d, json_pack("{s:s, s:s}", "from", "a", "to",
	      "b"), CORA_EREADONLY,
	      "dataset 'scan-2' is Discarded: its files are frozen");
	json_decref(s);
	json_decref(d);
}

static void test_dataset_add_symlink__rules(void **st)
{
	json_t *s = register_ds(DS1, "scan-1", NULL), *p, *cmd;
	char target[4097];

	ok_last("dataset.add_symlink", &s, json_pack("{s:s, s:s, s:I}",
		"path", "latest", "target", "raw/scan_0001.h5", "mtime_ns",
		(json_int_t)1747663402000000000), &p);
	assert_string_equal(cora_json_str(p, "target"), "raw/scan_0001.h5");
	assert_int_equal(cora_json_int(p, "mtime_ns", 0), 1747663402000000000);
	json_decref(p);
	fixture_put_node(&fx, DS1, "latest", 'l', 16, NULL, 0777);
	fails("dataset.add_symlink", s, json_pack("{s:s, s:s, s:i}", "path",
	      "latest", "target", "x", "mtime_ns", 0), CORA_EEXISTS,
	      "'latest' already exists in dataset 'scan-1'");
	fails("dataset.add_symlink", s, json_pack("{s:s, s:s, s:i}", "path",
	      "l2", "target", "", "mtime_ns", 0), CORA_EINVALID,
	      "link target must be 1 to 4095 bytes, not 0");
	memset(target, 'a', 4096);
	target[4096] = 0;
	fails("dataset.add_symlink", s, json_pack("{s:s, s:s, s:i}", "path",
	      "l2", "target", target, "mtime_ns", 0), CORA_EINVALID,
	      "link target must be 1 to 4095 bytes, not 4096");
	target[4095] = 0;
	assert_int_equal(ok("dataset.add_symlink", &s, json_pack(
		"{s:s, s:s, s:i}", "path", "l2", "target", target,
		"mtime_ns", 0)), 1);
	/* jansson refuses invalid UTF-8 when it parses; a command built in
	 * C can still carry it. */
	cmd = json_pack("{s:s, s:i}", "path", "l3", "mtime_ns", 0);
	json_object_set_new(cmd, "target", json_string_nocheck("a\xc0\xaf"));
	fails("dataset.add_symlink", s, cmd, CORA_EINVALID,
	      "link target is not valid UTF-8 text");
	assert_replay("Dataset", s);
	json_decref(s);
}

/* The tree used by the move tests:
 *
 *     a.h5  b.h5  link -> a.h5  raw/  raw/x.h5  empty/  full/  full/y.h5
 */
static json_t *move_tree(void)
{
	json_t *s = register_ds(DS1, "scan-1", NULL);

	fixture_put_node(&fx, DS1, "a.h5", 'f', 1, fixture_sha(1), 0644);
	fixture_put_node(&fx, DS1, "b.h5", 'f', 2, fixture_sha(2), 0644);
	fixture_put_node(&fx, DS1, "link", 'l', 4, NULL, 0777);
	fixture_put_node(&fx, DS1, "raw", 'd', 0, NULL, 0755);
	fixture_put_node(&fx, DS1, "raw/x.h5", 'f', 3, fixture_sha(3), 0644);
	fixture_put_node(&fx, DS1, "empty", 'd', 0, NULL, 0755);
	fixture_put_node(&fx, DS1, "full", 'd', 0, NULL, 0755);
	fixture_put_node(&fx, DS1, "full/y.h5", 'f', 4, fixture_sha(4), 0644);
	return s;
}

static json_t *mv(const char *from, const char *to)
{
	return json_pack("{s:s, s:s}", "from", from, "to", to);
}

static void test_dataset_move__follows_rename_rules(void **st)
{
	json_t *s = move_tree(), *p;

	ok_last("dataset.move", &s, mv("a.h5", "raw/a.h5"), &p);
	assert_string_equal(cora_json_str(p, "from"), "a.h5");
	assert_string_equal(cora_json_str(p, "to"), "raw/a.h5");
	assert_string_equal(cora_json_str(p, "moved_by"), fx.ctx.principal);
	json_decref(p);
	ok_one("dataset.move", &s, mv("a.h5", "b.h5"), "DatasetEntryMoved");
	ok_one("dataset.move", &s, mv("link", "b.h5"), "DatasetEntryMoved");
	ok_one("dataset.move", &s, mv("a.h5", "link"), "DatasetEntryMoved");
	ok_one("dataset.move", &s, mv("raw", "empty"), "DatasetEntryMoved");
	/* "raw2" starts with "raw" but is not inside it. */
	ok_one("dataset.move", &s, mv("raw", "raw2"), "DatasetEntryMoved");
	assert_int_equal(ok("dataset.move", &s, mv("raw", "raw")), 0);
	assert_replay("Dataset", s);
	json_decref(s);
}

static void test_dataset_move__refuses(void **st)
{
	json_t *s = move_tree();

	fails("dataset.move", s, mv("raw", "full"), CORA_ENOTEMPTY,
	      "cannot move folder 'raw' over folder 'full' in dataset "
	      "'scan-1': it is not empty");
	fails("dataset.move", s, mv("a.h5", "raw"), CORA_EISDIR,
	      "cannot move 'a.h5' over folder 'raw' in dataset 'scan-1'");
	fails("dataset.move", s, mv("raw", "a.h5"), CORA_ENOTDIR,
	      "cannot move folder 'raw' over file 'a.h5' in dataset 'scan-1'");
	fails("dataset.move", s, mv("raw", "link"), CORA_ENOTDIR,
	      "cannot move folder 'raw' over symbolic link 'link' in dataset "
	      "'scan-1'");
	fails("dataset.move", s, mv("raw", "raw/sub"), CORA_EINVALID,
	      "cannot move folder 'raw' into itself ('raw/sub') in dataset "
	      "'scan-1'");
	fails("dataset.move", s, mv("raw", "raw/x.h5/deeper"), CORA_EINVALID,
	      "cannot move folder 'raw' into itself ('raw/x.h5/deeper') in "
	      "dataset 'scan-1'");
	fails("dataset.move", s, mv("nope", "x"), CORA_ENOTFOUND,
	      "'nope' does not exist in dataset 'scan-1'");
	fails("dataset.move", s, mv("a.h5", "nope/a.h5"), CORA_ENOTFOUND,
	      "folder 'nope' does not exist in dataset 'scan-1'");
	fails("dataset.move", s, mv("a.h5", "b.h5/a.h5"), CORA_ENOTDIR,
	      "'b.h5' is a file in dataset 'scan-1', not a folder");
	fails("dataset.move", s, mv("a.h5", ""), CORA_EINVALID,
	      "to is empty");
	json_decref(s);
}

static void test_dataset_remove__files_and_links_only(void **st)
{
	json_t *s = move_tree(), *p;

	ok_last("dataset.remove", &s, json_pack("{s:s}", "path", "raw/x.h5"),
		&p);
	assert_string_equal(cora_json_str(p, "path"), "raw/x.h5");
	assert_string_equal(cora_json_str(p, "removed_by"), fx.ctx.principal);
	json_decref(p);
	ok_one("dataset.remove", &s, json_pack("{s:s}", "path", "link"),
	       "DatasetFileRemoved");
	fails("dataset.remove", s, json_pack("{s:s}", "path", "raw"),
	      CORA_EISDIR, "'raw' is a folder in dataset 'scan-1'");
	fails("dataset.remove", s, json_pack("{s:s}", "path", "zz"),
	      CORA_ENOTFOUND, "'zz' does not exist in dataset 'scan-1'");
	assert_replay("Dataset", s);
	json_decref(s);
}

static void test_dataset_folders__add_and_remove(void **st)
{
	json_t *s = move_tree(), *p;

	ok_last("dataset.add_folder", &s, json_pack("{s:s, s:i, s:i}", "path",
		"raw/sub", "mode", 0750, "mtime_ns", 5), &p);
	assert_int_equal(cora_json_int(p, "mode", 0), 0750);
	assert_int_equal(cora_json_int(p, "mtime_ns", 0), 5);
	json_decref(p);
	fails("dataset.add_folder", s, json_pack("{s:s, s:i, s:i}", "path",
	      "raw", "mode", 0755, "mtime_ns", 0), CORA_EEXISTS,
	      "'raw' already exists in dataset 'scan-1'");
	fails("dataset.add_folder", s, json_pack("{s:s, s:i, s:i}", "path",
	      "x/y", "mode", 0755, "mtime_ns", 0), CORA_ENOTFOUND,
	      "folder 'x' does not exist in dataset 'scan-1'");
	fails("dataset.add_folder", s, json_pack("{s:s, s:s}", "path",
	      "x", "mode", "rwx"), CORA_EINVALID, "mode must be an integer");
	/* mode and mtime_ns default to 0755 and the command's time. */
	ok_last("dataset.add_folder", &s, json_pack("{s:s}", "path", "new"),
		&p);
	assert_int_equal(cora_json_int(p, "mode", 0), 0755);
	assert_int_equal(cora_json_int(p, "mtime_ns", 0), NOW_NS);
	json_decref(p);

	ok_one("dataset.remove_folder", &s, json_pack("{s:s}", "path",
	       "empty"), "DatasetFolderRemoved");
	fails("dataset.remove_folder", s, json_pack("{s:s}", "path", "full"),
	      CORA_ENOTEMPTY, "folder 'full' of dataset 'scan-1' is not empty");
	fails("dataset.remove_folder", s, json_pack("{s:s}", "path", "a.h5"),
	      CORA_ENOTDIR, "'a.h5' is a file in dataset 'scan-1', not a "
	      "folder");
	fails("dataset.remove_folder", s, json_pack("{s:s}", "path", ""),
	      CORA_EPERM, "the root folder of dataset 'scan-1' cannot be "
	      "removed");
	fails("dataset.remove_folder", s, json_pack("{s:s}", "path", "gone"),
	      CORA_ENOTFOUND, "'gone' does not exist in dataset 'scan-1'");
	assert_replay("Dataset", s);
	json_decref(s);
}

static void test_dataset_set_mode_and_mtime__only_on_change(void **st)
{
	json_t *s = move_tree(), *p;

	ok_last("dataset.set_mode", &s, json_pack("{s:s, s:i}", "path", "a.h5",
		"mode", 0600), &p);
	assert_int_equal(cora_json_int(p, "mode", 0), 0600);
	assert_string_equal(cora_json_str(p, "changed_by"), fx.ctx.principal);
	json_decref(p);
	assert_int_equal(ok("dataset.set_mode", &s, json_pack("{s:s, s:i}",
			    "path", "a.h5", "mode", 0644)), 0);
	/* "" is the root folder, 0755 in the fixture. */
	assert_int_equal(ok("dataset.set_mode", &s, json_pack("{s:s, s:i}",
			    "path", "", "mode", 0755)), 0);
	ok_one("dataset.set_mode", &s, json_pack("{s:s, s:i}", "path", "",
	       "mode", 0700), "DatasetModeChanged");
	fails("dataset.set_mode", s, json_pack("{s:s, s:i}", "path", "zz",
	      "mode", 0600), CORA_ENOTFOUND,
	      "'zz' does not exist in dataset 'scan-1'");
	fails("dataset.set_mode", s, json_pack("{s:s, s:i}", "path", "a.h5",
	      "mode", -1), CORA_EINVALID, "mode -01 is outside 0 to 07777");

	ok_last("dataset.set_mtime", &s, json_pack("{s:s, s:I}", "path",
		"raw/x.h5", "mtime_ns", (json_int_t)1747663402123456789), &p);
	assert_int_equal(cora_json_int(p, "mtime_ns", 0), 1747663402123456789);
	json_decref(p);
	/* The fixture's nodes all have mtime 0. */
	assert_int_equal(ok("dataset.set_mtime", &s, json_pack("{s:s, s:i}",
			    "path", "raw/x.h5", "mtime_ns", 0)), 0);
	fails("dataset.set_mtime", s, json_pack("{s:s, s:s}", "path", "a.h5",
	      "mtime_ns", "now"), CORA_EINVALID, "mtime_ns must be an integer");
	fails("dataset.set_mtime", s, json_pack("{s:s}", "path", "a.h5"),
	      CORA_EINVALID, "mtime_ns is missing");
	fails("dataset.set_mode", s, json_pack("{s:s}", "path", "a.h5"),
	      CORA_EINVALID, "mode is missing");
	assert_replay("Dataset", s);
	json_decref(s);
}

/* chown through the mount: recorded, refused without both ids, and no
 * event when the owner is already the one asked for. */
static void test_dataset_set_owner__records_uid_and_gid(void **st)
{
	json_t *s = move_tree(), *p;

	ok_last("dataset.set_owner", &s, json_pack("{s:s, s:i, s:i}", "path",
		"a.h5", "uid", 1000, "gid", 100), &p);
	assert_int_equal(cora_json_int(p, "uid", -1), 1000);
	assert_int_equal(cora_json_int(p, "gid", -1), 100);
	assert_string_equal(cora_json_str(p, "changed_by"), fx.ctx.principal);
	json_decref(p);
	fails("dataset.set_owner", s, json_pack("{s:s, s:i}", "path", "a.h5",
	      "uid", 1000), CORA_EINVALID, "an owner needs a uid and a gid");
	fails("dataset.set_owner", s, json_pack("{s:s, s:i, s:i}", "path",
	      "a.h5", "uid", -5, "gid", 0), CORA_EINVALID,
	      "uid must be a number from 0 to 4294967294");
	fails("dataset.set_owner", s, json_pack("{s:s, s:i, s:i}", "path",
	      "zz", "uid", 1, "gid", 1), CORA_ENOTFOUND,
	      "'zz' does not exist in dataset 'scan-1'");
	assert_replay("Dataset", s);
	json_decref(s);
}

/* The mount sends the inode number it reserved and the writer's ids. */
static void test_dataset_put_file__carries_reserved_ino_and_owner(void **st)
{
	json_t *s = move_tree(), *p;

	ok_last("dataset.put_file", &s, json_pack("{s:s, s:s, s:i, s:I, s:i, s:i}",
		"path", "new.h5", "sha256", fixture_sha(9), "size", 3, "ino",
		(json_int_t)CORA_INO_RESERVED + 7, "uid", 1000, "gid", 100), &p);
	assert_true(cora_json_int(p, "ino", 0) == CORA_INO_RESERVED + 7);
	assert_int_equal(cora_json_int(p, "uid", -1), 1000);
	json_decref(p);
	fails("dataset.put_file", s, json_pack("{s:s, s:s, s:i, s:i}", "path",
	      "other.h5", "sha256", fixture_sha(9), "size", 3, "ino", 42),
	      CORA_EINVALID, "inode number must be a reserved one");
	assert_replay("Dataset", s);
	json_decref(s);
}

static void test_dataset_xattr__names_and_values(void **st)
{
	json_t *s = move_tree(), *p, *cmd;
	char name[260], *big;
	size_t i;

	ok_last("dataset.set_xattr", &s, json_pack("{s:s, s:s, s:s}", "path",
		"a.h5", "name", "user.beamline", "value", "Mi1CTQ=="), &p);
	assert_string_equal(cora_json_str(p, "name"), "user.beamline");
	assert_string_equal(cora_json_str(p, "value"), "Mi1CTQ==");
	assert_string_equal(cora_json_str(p, "set_by"), fx.ctx.principal);
	json_decref(p);
	ok_one("dataset.set_xattr", &s, json_pack("{s:s, s:s, s:s}", "path",
	       "", "name", "user.empty", "value", ""), "DatasetXattrSet");
	ok_one("dataset.remove_xattr", &s, json_pack("{s:s, s:s}", "path",
	       "a.h5", "name", "user.beamline"), "DatasetXattrRemoved");

	fails("dataset.set_xattr", s, json_pack("{s:s, s:s, s:s}", "path",
	      "a.h5", "name", "trusted.x", "value", ""), CORA_EINVALID,
	      "extended attribute name 'trusted.x' must be user.<name>");
	fails("dataset.set_xattr", s, json_pack("{s:s, s:s, s:s}", "path",
	      "a.h5", "name", "user.", "value", ""), CORA_EINVALID,
	      "extended attribute name 'user.' must be user.<name>");
	fails("dataset.set_xattr", s, json_pack("{s:s, s:s, s:s}", "path",
	      "a.h5", "name", "user.cora.sha256", "value", ""), CORA_EPERM,
	      "extended attribute 'user.cora.sha256' is reserved");
	fails("dataset.remove_xattr", s, json_pack("{s:s, s:s}", "path",
	      "a.h5", "name", "user.cora.id"), CORA_EPERM,
	      "extended attribute 'user.cora.id' is reserved");
	memcpy(name, "user.", 5);
	memset(name + 5, 'x', 251);
	name[256] = 0;
	fails("dataset.set_xattr", s, json_pack("{s:s, s:s, s:s}", "path",
	      "a.h5", "name", name, "value", ""), CORA_EINVALID,
	      "extended attribute name must be 1 to 255 bytes of UTF-8 text");
	name[255] = 0;
	assert_int_equal(ok("dataset.set_xattr", &s, json_pack(
		"{s:s, s:s, s:s}", "path", "a.h5", "name", name, "value", "")),
		1);
	fails("dataset.set_xattr", s, json_pack("{s:s, s:s, s:s}", "path",
	      "a.h5", "name", "user.x", "value", "abc"), CORA_EINVALID,
	      "extended attribute value is not base64 text");
	fails("dataset.set_xattr", s, json_pack("{s:s, s:s, s:s}", "path",
	      "a.h5", "name", "user.x", "value", "a=bc"), CORA_EINVALID,
	      "extended attribute value is not base64 text");
	fails("dataset.set_xattr", s, json_pack("{s:s, s:s, s:s}", "path",
	      "zz", "name", "user.x", "value", ""), CORA_ENOTFOUND,
	      "'zz' does not exist in dataset 'scan-1'");

	/* 65536 bytes = 21845 groups of 3 + 1 byte: 87384 base64
	 * characters ending in "==". */
	big = malloc(87384 + 5);
	for (i = 0; i < 87380; i++)
		big[i] = 'A';
	memcpy(big + 87380, "AA==", 5);
	cmd = json_pack("{s:s, s:s, s:s}", "path", "a.h5", "name", "user.big",
			"value", big);
	assert_int_equal(ok("dataset.set_xattr", &s, cmd), 1);
	memcpy(big + 87380, "AAA=", 5); /* 65537 bytes */
	fails("dataset.set_xattr", s, json_pack("{s:s, s:s, s:s}", "path",
	      "a.h5", "name", "user.big", "value", big), CORA_EINVALID,
	      "extended attribute value is 65537 bytes: at most 65536");
	free(big);
	assert_replay("Dataset", s);
	json_decref(s);
}

static void test_dataset_tree_events__fold_to_no_change(void **st)
{
	json_t *s = move_tree(), *before = json_deep_copy(s);

	fx.ctx.now = "2026-05-19T15:00:00+00:00";
	ok("dataset.remove", &s, json_pack("{s:s}", "path", "a.h5"));
	json_object_del(before, "updated_at");
	assert_string_equal(cora_json_str(s, "updated_at"),
			    "2026-05-19T15:00:00+00:00");
	json_object_del(s, "updated_at");
	assert_true(json_equal(before, s));
	json_decref(before);
	json_decref(s);
}

/* ---- promote ---------------------------------------------------------- */

/* python3 -c '
 * import hashlib, unicodedata, struct
 * e = [("raw/scan_0001.h5", 1), ("raw/scan_0002.h5", 2),
 *      ("notes.txt", 3), ("cafe\u0301.txt", 4)]
 * h = hashlib.sha256()
 * for p, n in sorted((unicodedata.normalize("NFC", p).encode(), n)
 *                    for p, n in e):
 *     h.update(struct.pack(">Q", len(p))); h.update(p)
 *     h.update(bytes.fromhex("%064x" % n))
 * print(h.hexdigest())'
 */
#define TREE_SHA "73e4d8cd254e38ec88b38af8a829eca84ddf8d8235a26e8c3995a7f801ca9149"

static void test_dataset_promote__records_the_sha256_tree(void **st)
{
	json_t *s, *p;

	put_run(RUN1, "run-7", "Running");
	s = register_ds(DS1, "scan-1", json_pack("{s:s}", "producing_run",
						 "run-7"));
	fixture_put_node(&fx, DS1, "raw", 'd', 0, NULL, 0755);
	fixture_put_node(&fx, DS1, "raw/scan_0001.h5", 'f', 100,
			 fixture_sha(1), 0644);
	fixture_put_node(&fx, DS1, "raw/scan_0002.h5", 'f', 200,
			 fixture_sha(2), 0644);
	fixture_put_node(&fx, DS1, "notes.txt", 'f', 5, fixture_sha(3), 0644);
	/* Decomposed e + U+0301: hashed under its NFC form. */
	fixture_put_node(&fx, DS1, "cafe\xcc\x81.txt", 'f', 7,
			 fixture_sha(4), 0644);
	fixture_put_node(&fx, DS1, "latest", 'l', 16, NULL, 0777);
	put_run(RUN1, "run-7", "Completed");

	ok_last("dataset.promote", &s, reason("  looks good "), &p);
	assert_string_equal(cora_json_str(p, "reason"), "looks good");
	assert_string_equal(cora_json_str(p, "promoted_by"), fx.ctx.principal);
	assert_string_equal(cora_json_str(json_object_get(p, "checksum"),
					  "algorithm"), "sha256-tree");
	assert_string_equal(cora_json_str(json_object_get(p, "checksum"),
					  "value"), TREE_SHA);
	assert_int_equal(cora_json_int(p, "byte_size", 0), 312);
	assert_int_equal(cora_json_int(p, "file_count", 0), 4);
	json_decref(p);
	assert_string_equal(cora_json_str(s, "intent"), "Production");
	assert_string_equal(cora_json_str(json_object_get(s, "checksum"),
					  "value"), TREE_SHA);
	assert_int_equal(cora_json_int(s, "byte_size", 0), 312);
	assert_int_equal(cora_json_int(s, "file_count", 0), 4);
	/* The registration-time snapshot stays as it was. */
	assert_string_equal(cora_json_str(s, "producing_run_end_state"),
			    "Running");
	assert_replay("Dataset", s);
	json_decref(s);
}

static void test_dataset_promote__refuses_discarded(void **st)
{
	json_t *s = register_ds(DS1, "scan-1", NULL);

	ok("dataset.discard", &s, reason("beam dump"));
	fails("dataset.promote", s, reason("x"), CORA_ESTATE,
	      "cannot promote dataset 'scan-1': it is Discarded");
	json_decref(s);
}

static void test_dataset_promote__refuses_twice_and_retracted(void **st)
{
	json_t *s = production_ds();

	fails("dataset.promote", s, reason("again"), CORA_ESTATE,
	      "cannot promote dataset 'scan-1': it is already Production");
	ok("dataset.demote", &s, reason("wrong energy"));
	fails("dataset.promote", s, reason("again"), CORA_ESTATE,
	      "cannot promote dataset 'scan-1': it is Retracted");
	json_decref(s);
}

static void test_dataset_promote__refuses_unfinished_run(void **st)
{
	json_t *s;

	put_run(RUN1, "run-7", "Running");
	s = register_ds(DS1, "scan-1", json_pack("{s:s}", "producing_run",
						 RUN1));
	fixture_put_node(&fx, DS1, "a.h5", 'f', 1, fixture_sha(1), 0644);
	fails("dataset.promote", s, reason("x"), CORA_ESTATE,
	      "cannot promote dataset 'scan-1': producing run 'run-7' did not "
	      "complete (it is Running)");
	put_run(RUN1, "run-7", "Aborted");
	fails("dataset.promote", s, reason("x"), CORA_ESTATE,
	      "cannot promote dataset 'scan-1': producing run 'run-7' did not "
	      "complete (it is Aborted)");
	put_run(RUN1, "run-7", "Completed");
	assert_int_equal(ok("dataset.promote", &s, reason("x")), 1);
	json_decref(s);
}

static void test_dataset_promote__refuses_trial_inputs(void **st)
{
	json_t *in = register_ds(DS2, "dark-1", NULL), *s;

	s = register_ds(DS1, "recon-1", json_pack("{s:[s]}", "derived_from",
						  "dark-1"));
	fixture_put_node(&fx, DS1, "a.tif", 'f', 1, fixture_sha(1), 0644);
	fails("dataset.promote", s, reason("x"), CORA_ESTATE,
	      "cannot promote dataset 'recon-1': input dataset 'dark-1' is "
	      "Trial, not Production: promote inputs first");
	fixture_put_node(&fx, DS2, "d.tif", 'f', 1, fixture_sha(2), 0644);
	ok("dataset.promote", &in, reason("dark ok"));
	fixture_put(&fx, "Dataset", in);
	ok("dataset.discard", &in, reason("lost"));
	fixture_put(&fx, "Dataset", in);
	fails("dataset.promote", s, reason("x"), CORA_ESTATE,
	      "cannot promote dataset 'recon-1': input dataset 'dark-1' is "
	      "Discarded, not Production: promote inputs first");
	json_decref(in);
	json_decref(s);
}

static void test_dataset_promote__refuses_simulated_actuation(void **st)
{
	json_t *s = register_ds(DS1, "sim-1", NULL);

	fixture_put_node(&fx, DS1, "a.h5", 'f', 1, fixture_sha(1), 0644);
	/* Not settable through our commands; a CORA import could carry it. */
	json_object_set_new(s, "producing_actuation_kind",
			    json_string("Simulated"));
	fails("dataset.promote", s, reason("x"), CORA_ESTATE,
	      "cannot promote dataset 'sim-1': it was produced by a Simulated "
	      "actuation");
	json_object_set_new(s, "producing_actuation_kind", json_null());
	json_object_set_new(s, "producing_procedure_id", json_string(CAL1));
	fails("dataset.promote", s, reason("x"), CORA_ESTATE,
	      "cannot promote dataset 'sim-1': the actuation kind of its "
	      "producing procedure is unknown");
	json_decref(s);
}

static void test_dataset_promote__refuses_bad_reason_and_no_files(void **st)
{
	json_t *s = register_ds(DS1, "scan-1", NULL);
	char r[502];

	fails("dataset.promote", s, json_object(), CORA_EINVALID,
	      "reason is missing");
	fails("dataset.promote", s, reason(" \t"), CORA_EINVALID,
	      "reason is empty");
	memset(r, 'r', 501);
	r[501] = 0;
	fails("dataset.promote", s, reason(r), CORA_EINVALID,
	      "reason must be 1 to 500 characters, not 501");
	fixture_put_node(&fx, DS1, "raw", 'd', 0, NULL, 0755);
	fixture_put_node(&fx, DS1, "link", 'l', 3, NULL, 0777);
	fails("dataset.promote", s, reason("x"), CORA_ESTATE,
	      "cannot promote dataset 'scan-1': it has no files");
	json_decref(s);
}

/* ---- demote, discard -------------------------------------------------- */

static void test_dataset_demote__rules(void **st)
{
	json_t *t = register_ds(DS2, "trial-1", NULL), *s = production_ds(), *p;

	fails("dataset.demote", t, reason("x"), CORA_ESTATE,
	      "cannot demote dataset 'trial-1': it is Trial, not Production "
	      "(discard it instead)");
	fails("dataset.demote", s, json_object(), CORA_EINVALID,
	      "reason is missing");
	ok_last("dataset.demote", &s, reason("wrong energy"), &p);
	assert_string_equal(cora_json_str(p, "reason"), "wrong energy");
	assert_string_equal(cora_json_str(p, "demoted_by"), fx.ctx.principal);
	json_decref(p);
	assert_string_equal(cora_json_str(s, "intent"), "Retracted");
	fails("dataset.demote", s, reason("x"), CORA_ESTATE,
	      "cannot demote dataset 'scan-1': it is already Retracted");
	ok("dataset.discard", &t, reason("junk"));
	fails("dataset.demote", t, reason("x"), CORA_ESTATE,
	      "cannot demote dataset 'trial-1': it is Discarded");
	assert_replay("Dataset", s);
	json_decref(s);
	json_decref(t);
}

static void test_dataset_discard__any_intent_once(void **st)
{
	json_t *s = production_ds(), *p;

	ok_last("dataset.discard", &s, reason("superseded"), &p);
	assert_string_equal(cora_json_str(p, "discarded_by"),
			    fx.ctx.principal);
	json_decref(p);
	assert_string_equal(cora_json_str(s, "status"), "Discarded");
	assert_string_equal(cora_json_str(s, "intent"), "Production");
	fails("dataset.discard", s, reason("again"), CORA_ESTATE,
	      "cannot discard dataset 'scan-1': it is already Discarded");
	assert_replay("Dataset", s);
	json_decref(s);
}

static void test_dataset_lifecycle__replays_to_the_same_state(void **st)
{
	json_t *s = register_ds(DS1, "scan-1", json_pack("{s:s, s:[s]}",
		"media_type", "application/x-hdf5", "conforms_to",
		"https://manual.nexusformat.org/classes/applications/NXtomo"));

	fx.ctx.now = "2026-05-19T14:05:00+00:00";
	ok("dataset.add_folder", &s, json_pack("{s:s, s:i, s:i}", "path",
	   "raw", "mode", 0755, "mtime_ns", 1));
	fixture_put_node(&fx, DS1, "raw", 'd', 0, NULL, 0755);
	ok("dataset.put_file", &s, put_file_cmd("raw/p.h5", 9, 4831838208LL,
	   0644));
	fixture_put_node(&fx, DS1, "raw/p.h5", 'f', 4831838208LL,
			 fixture_sha(9), 0644);
	fx.ctx.now = "2026-05-19T16:00:00.5+00:00";
	ok("dataset.promote", &s, reason("projections complete"));
	ok("dataset.demote", &s, reason("wrong energy"));
	ok("dataset.discard", &s, reason("re-scan"));
	assert_string_equal(cora_json_str(s, "created_at"), NOW);
	assert_string_equal(cora_json_str(s, "updated_at"),
			    "2026-05-19T16:00:00.5+00:00");
	assert_int_equal(cora_json_int(s, "byte_size", 0), 4831838208LL);
	assert_replay("Dataset", s);
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_dataset_events__every_payload_names_its_dataset),
		T(test_dataset_register__defaults),
		T(test_dataset_register__all_fields_sorted_and_resolved),
		T(test_dataset_register__refuses_bad_input),
		T(test_dataset_register__refuses_missing_references),
		T(test_dataset_put_file__adds_replaces_and_skips_identical),
		T(test_dataset_put_file__refuses),
		T(test_dataset_tree__refuses_frozen_datasets),
		T(test_dataset_add_symlink__rules),
		T(test_dataset_move__follows_rename_rules),
		T(test_dataset_move__refuses),
		T(test_dataset_remove__files_and_links_only),
		T(test_dataset_folders__add_and_remove),
		T(test_dataset_set_mode_and_mtime__only_on_change),
		T(test_dataset_set_owner__records_uid_and_gid),
		T(test_dataset_put_file__carries_reserved_ino_and_owner),
		T(test_dataset_xattr__names_and_values),
		T(test_dataset_tree_events__fold_to_no_change),
		T(test_dataset_promote__records_the_sha256_tree),
		T(test_dataset_promote__refuses_discarded),
		T(test_dataset_promote__refuses_twice_and_retracted),
		T(test_dataset_promote__refuses_unfinished_run),
		T(test_dataset_promote__refuses_trial_inputs),
		T(test_dataset_promote__refuses_simulated_actuation),
		T(test_dataset_promote__refuses_bad_reason_and_no_files),
		T(test_dataset_demote__rules),
		T(test_dataset_discard__any_intent_once),
		T(test_dataset_lifecycle__replays_to_the_same_state),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

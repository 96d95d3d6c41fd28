/*
 * test_eventstore.c: the event store, projections, the command runner
 * and fsck, on real SQLite catalogs in temporary folders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/catalog.h"
#include "core/command.h"
#include "core/error.h"
#include "core/fsck.h"
#include "core/projection.h"
#include "core/uuid.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *make_catalog(void)
{
	char tmpl[] = "/tmp/cora-test-XXXXXX";
	char *dir = strdup(mkdtemp(tmpl)), *cat;

	assert_non_null(dir);
	assert_true(asprintf(&cat, "%s/cat", dir) > 0);
	free(dir);
	assert_int_equal(cora_catalog_create(cat, NULL), 0);
	return cat;
}

static void remove_catalog(char *path)
{
	char *cmd;

	/* the parent is the mkdtemp folder */
	assert_true(asprintf(&cmd, "rm -rf \"$(dirname '%s')\"", path) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

static struct cora_catalog *open_cat(const char *path)
{
	struct cora_catalog *cat;

	assert_int_equal(cora_catalog_open(&cat, path, 0), 0);
	return cat;
}

static struct cora_new_event ev(const char *type, const char *json)
{
	struct cora_new_event e;
	json_error_t jerr;

	e.event_type = (char *)type;
	e.payload = json_loads(json, 0, &jerr);
	assert_non_null(e.payload);
	return e;
}

static void test_append__versions_and_explicit_check(void **st)
{
	char *path = make_catalog();
	struct cora_catalog *cat = open_cat(path);
	struct cora_new_event e[2] = {
		ev("DatasetMtimeChanged", "{\"occurred_at\":\"2026-05-19T14:03:22+00:00\"}"),
		ev("DatasetMtimeChanged", "{\"occurred_at\":\"2026-05-19T14:03:23+00:00\"}"),
	};
	const char *id = "01900000-0000-7000-8000-000000000001";
	int64_t v, pos[2];

	assert_int_equal(cora_store_append(cat, "Dataset", id, 0, e, 2, pos), 0);
	assert_true(pos[1] == pos[0] + 1);
	assert_int_equal(cora_store_version(cat, "Dataset", id, &v), 0);
	assert_int_equal(v, 2);
	/* behind the stream */
	assert_int_equal(cora_store_append(cat, "Dataset", id, 1, e, 1, NULL),
			 CORA_ECONFLICT);
	assert_string_equal(cora_error_last(),
		"stream Dataset 01900000-0000-7000-8000-000000000001: "
		"expected version 1, found 2");
	/* ahead of the stream: would leave a gap */
	assert_int_equal(cora_store_append(cat, "Dataset", id, 5, e, 1, NULL),
			 CORA_ECONFLICT);
	assert_int_equal(cora_store_version(cat, "Dataset", id, &v), 0);
	assert_int_equal(v, 2);
	json_decref(e[0].payload);
	json_decref(e[1].payload);
	cora_catalog_free(cat);
	remove_catalog(path);
}

static void test_events__triggers_refuse_update_and_delete(void **st)
{
	char *path = make_catalog();
	struct cora_catalog *cat = open_cat(path);
	json_t *cmd = json_pack("{s:s}", "slug", "scan-0042");

	assert_int_equal(cora_command(cat, "dataset.register", NULL, cmd, NULL), 0);
	assert_int_equal(cora_exec_sql(cat, "UPDATE events SET event_type = 'x'"),
			 CORA_EIO);
	assert_non_null(strstr(cora_error_last(), "append-only"));
	assert_int_equal(cora_exec_sql(cat, "DELETE FROM events"), CORA_EIO);
	assert_non_null(strstr(cora_error_last(), "append-only"));
	json_decref(cmd);
	cora_catalog_free(cat);
	remove_catalog(path);
}

/* Two processes load the same version and append: one wins, the other
 * gets a conflict, and the log holds exactly the winner's event. */
static void test_append__two_processes_one_conflict(void **st)
{
	char *path = make_catalog();
	const char *id = "01900000-0000-7000-8000-0000000000aa";
	int fds[2][2], go[2][2], i, status, conflicts = 0, wins = 0;
	pid_t pid[2];
	int64_t v;
	struct cora_catalog *cat;

	for (i = 0; i < 2; i++) {
		assert_int_equal(pipe(fds[i]), 0);
		assert_int_equal(pipe(go[i]), 0);
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			struct cora_catalog *c;
			struct cora_new_event e;
			char b;
			int64_t ver = -1;
			int rc;

			if (cora_catalog_open(&c, path, 0) != 0)
				free(path), _exit(10);
			cora_store_version(c, "Run", id, &ver); /* both see 0 */
			if (write(fds[i][1], "r", 1) != 1 ||
			    read(go[i][0], &b, 1) != 1)
				free(path), _exit(11);
			e = ev("RunHeld", "{\"occurred_at\":\"2026-05-19T14:03:22+00:00\"}");
			rc = cora_store_append(c, "Run", id, ver, &e, 1, NULL);
			json_decref(e.payload);
			cora_catalog_free(c);
			free(path), _exit(rc == 0 ? 0 : rc == CORA_ECONFLICT ? 1 : 12);
		}
	}
	for (i = 0; i < 2; i++) {
		char b;
		assert_int_equal(read(fds[i][0], &b, 1), 1);
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(write(go[i][1], "g", 1), 1);
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == 0)
			wins++;
		else if (WEXITSTATUS(status) == 1)
			conflicts++;
		close(fds[i][0]);
		close(fds[i][1]);
		close(go[i][0]);
		close(go[i][1]);
	}
	assert_int_equal(wins, 1);
	assert_int_equal(conflicts, 1);
	cat = open_cat(path);
	assert_int_equal(cora_store_version(cat, "Run", id, &v), 0);
	assert_int_equal(v, 1);
	cora_catalog_free(cat);
	remove_catalog(path);
}

/* Many commands from two processes at once: nothing is lost. */
static void test_command__parallel_writers_lose_nothing(void **st)
{
	char *path = make_catalog();
	struct cora_catalog *cat;
	pid_t pid[2];
	int i, k, status;
	json_t *cmd, *state;
	int64_t v;

	cat = open_cat(path);
	cmd = json_pack("{s:s}", "slug", "shared");
	assert_int_equal(cora_command(cat, "dataset.register", NULL, cmd, NULL), 0);
	json_decref(cmd);
	cora_catalog_free(cat);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			struct cora_catalog *c;
			char p[32];
			if (cora_catalog_open(&c, path, 0) != 0)
				free(path), _exit(10);
			for (k = 0; k < 50; k++) {
				json_t *m;
				int rc;
				snprintf(p, sizeof(p), "p%d-%02d", i, k);
				m = json_pack("{s:s, s:i, s:I}", "path", p,
					      "mode", 0755, "mtime_ns",
					      (json_int_t)0);
				rc = cora_command(c, "dataset.add_folder",
						  "shared", m, NULL);
				json_decref(m);
				if (rc)
					free(path), _exit(11);
			}
			cora_catalog_free(c);
			free(path), _exit(0);
		}
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	cat = open_cat(path);
	assert_int_equal(cora_entity_get(cat, "Dataset", "shared", &state, &v,
					 NULL), 0);
	assert_int_equal(v, 101);
	json_decref(state);
	cora_catalog_free(cat);
	remove_catalog(path);
}

static void test_command__failure_changes_nothing(void **st)
{
	char *path = make_catalog();
	struct cora_catalog *cat = open_cat(path);
	json_t *cmd = json_pack("{s:s}", "slug", "bad slug");
	int64_t head;

	assert_int_equal(cora_command(cat, "dataset.register", NULL, cmd, NULL),
			 CORA_EINVALID);
	assert_int_equal(cora_store_head(cat, &head), 0);
	assert_int_equal(head, 0);
	json_decref(cmd);
	/* a batch that fails half-way leaves nothing behind */
	cmd = json_pack("{s:s}", "slug", "ok-one");
	assert_int_equal(cora_tx_begin(cat), 0);
	assert_int_equal(cora_command(cat, "dataset.register", NULL, cmd, NULL), 0);
	json_decref(cmd);
	cmd = json_pack("{s:s}", "slug", "ok-one");
	assert_int_equal(cora_command(cat, "dataset.register", NULL, cmd, NULL),
			 CORA_EEXISTS);
	json_decref(cmd);
	assert_int_not_equal(cora_tx_commit(cat), 0);
	assert_int_equal(cora_store_head(cat, &head), 0);
	assert_int_equal(head, 0);
	cora_catalog_free(cat);
	remove_catalog(path);
}

static void test_projection__tree_and_fsck_clean(void **st)
{
	char *path = make_catalog();
	struct cora_catalog *cat = open_cat(path);
	struct cora_fsck_report r;
	struct cora_node_info info;
	json_t *state;
	const char *sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	json_t *c;

	c = json_pack("{s:s}", "slug", "d1");
	assert_int_equal(cora_command(cat, "dataset.register", NULL, c, NULL), 0);
	json_decref(c);
	c = json_pack("{s:s, s:i, s:I}", "path", "sub", "mode", 0750,
		      "mtime_ns", (json_int_t)5);
	assert_int_equal(cora_command(cat, "dataset.add_folder", "d1", c, NULL), 0);
	json_decref(c);
	c = json_pack("{s:s, s:s, s:i, s:i, s:I}", "path", "sub/a", "sha256",
		      sha, "size", 0, "mode", 0600, "mtime_ns",
		      (json_int_t)1234567890123456789LL);
	assert_int_equal(cora_command(cat, "dataset.put_file", "d1", c, NULL), 0);
	json_decref(c);
	c = json_pack("{s:s, s:s}", "from", "sub/a", "to", "b");
	assert_int_equal(cora_command(cat, "dataset.move", "d1", c, NULL), 0);
	json_decref(c);

	assert_int_equal(cora_entity_get(cat, "Dataset", "d1", &state, NULL,
					 NULL), 0);
	assert_int_equal(cora_node_get(cat, cora_json_str(state, "id"), "b",
				       &info), 0);
	assert_int_equal(info.type, 'f');
	assert_int_equal(info.mode, 0600);
	assert_true(info.mtime_ns == 1234567890123456789LL);
	assert_int_equal(cora_node_get(cat, cora_json_str(state, "id"), "sub/a",
				       &info), CORA_ENOTFOUND);
	json_decref(state);

	/* the blob is not stored: fsck notices */
	assert_int_equal(cora_fsck(cat, &r), 0);
	assert_int_equal(json_array_size(r.problems), 1);
	assert_non_null(strstr(json_string_value(json_array_get(r.problems, 0)),
			       "missing from the blob store"));
	assert_int_equal(r.nodes, 3);
	cora_fsck_report_release(&r);

	/* tamper with a projection: fsck reports the row */
	assert_int_equal(cora_exec_sql(cat, "UPDATE nodes SET mode = 511"
				       " WHERE name = 'b'"), 0);
	assert_int_equal(cora_fsck(cat, &r), 0);
	assert_true(json_array_size(r.problems) >= 2);
	cora_fsck_report_release(&r);
	cora_catalog_free(cat);
	remove_catalog(path);
}

static void test_open__refuses_newer_schema_and_garbage(void **st)
{
	char *path = make_catalog();
	struct cora_catalog *cat = open_cat(path);
	char *db;
	FILE *f;

	assert_int_equal(cora_exec_sql(cat, "UPDATE meta SET value = '99'"
				       " WHERE key = 'schema_version'"), 0);
	cora_catalog_free(cat);
	assert_int_equal(cora_catalog_open(&cat, path, 0), CORA_EVERSION);
	assert_non_null(strstr(cora_error_last(), "newer than this corafs"));

	assert_true(asprintf(&db, "%s/catalog.db", path) > 0);
	unlink(db);
	free(db);
	assert_true(asprintf(&db, "%s/catalog.db-wal", path) > 0);
	unlink(db);
	free(db);
	assert_true(asprintf(&db, "%s/catalog.db", path) > 0);
	f = fopen(db, "w");
	fputs("this is not a database, just some text of some length "
	      "that fills a page or so ..............................", f);
	fclose(f);
	free(db);
	assert_int_equal(cora_catalog_open(&cat, path, 0), CORA_ECORRUPT);
	remove_catalog(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append__versions_and_explicit_check),
		cmocka_unit_test(test_events__triggers_refuse_update_and_delete),
		cmocka_unit_test(test_append__two_processes_one_conflict),
		cmocka_unit_test(test_command__parallel_writers_lose_nothing),
		cmocka_unit_test(test_command__failure_changes_nothing),
		cmocka_unit_test(test_projection__tree_and_fsck_clean),
		cmocka_unit_test(test_open__refuses_newer_schema_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_eventstore.c: the event store, projections, the command runner
 * and fsck, on real SQLite catalogs in temporary folders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/blobstore.h"
#include "core/catalog.h"
#include "core/hash.h"
#include "core/command.h"
#include "core/error.h"
#include "core/fault.h"
#include "core/fsck.h"
#include "core/projection.h"
#include "core/uuid.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* A blob stored the way the mount stores a small file at close: a
 * staging file adopted without fsyncs, and its journal row in a
 * transaction.  hex gets the digest. */
static void journal_blob(struct cora_catalog *cat, const char *content,
			 char hex[CORA_SHA256_HEXLEN + 1])
{
	char *tmp;
	FILE *f;

	cora_sha256_buf(hex, content, strlen(content));
	assert_true(asprintf(&tmp, "%s/staging/t-%s", cat->root, hex) > 0);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	assert_int_equal(cat->blobs->adopt_later(cat->blobs, tmp, hex, NULL), 0);
	free(tmp);
	assert_int_equal(cora_tx_begin(cat), 0);
	assert_int_equal(cora_blob_journal_add(cat, hex, content,
					       strlen(content)), 0);
	assert_int_equal(cora_tx_commit(cat), 0);
}

static int journal_rows(struct cora_catalog *cat)
{
	sqlite3_stmt *s = cora_stmt(cat, "SELECT count(*) FROM blob_journal");
	int n;

	assert_non_null(s);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return n;
}

static char *blob_file(struct cora_catalog *cat, const char *hex)
{
	char *p;

	assert_int_equal(cora_blob_path(cat->blobs, hex, &p), 0);
	return p;
}

static void test_journal__flush_restores_lost_and_damaged_blobs(void **st)
{
	char *path = make_catalog(), *p, *staging;
	struct cora_catalog *cat = open_cat(path);
	char lost[65], damaged[65], intact[65], late[65];
	size_t flushed, rewritten;
	char big[CORA_JOURNAL_MAX + 1];
	FILE *f;

	assert_true(asprintf(&staging, "%s/staging", path) > 0);
	mkdir(staging, 0700);
	free(staging);
	journal_blob(cat, "the blob that never reached the disk", lost);
	journal_blob(cat, "the blob the disk kept half of ......", damaged);
	journal_blob(cat, "the blob that made it", intact);
	assert_int_equal(journal_rows(cat), 3);

	/* what a power cut may do to files that were never fsynced */
	p = blob_file(cat, lost);
	assert_int_equal(unlink(p), 0);
	free(p);
	p = blob_file(cat, damaged);
	chmod(p, 0644);
	f = fopen(p, "r+");
	assert_non_null(f);
	fputs("XXXX", f); /* same size, other bytes */
	fclose(f);
	free(p);
	assert_int_equal(cora_blob_verify(cat->blobs, damaged), CORA_EMISMATCH);

	assert_int_equal(cora_blob_journal_flush(cat, cat->blobs, &flushed,
						 &rewritten), 0);
	assert_int_equal(flushed, 3);
	assert_int_equal(rewritten, 2);
	assert_int_equal(journal_rows(cat), 0);
	assert_int_equal(cora_blob_verify(cat->blobs, lost), 0);
	assert_int_equal(cora_blob_verify(cat->blobs, damaged), 0);
	assert_int_equal(cora_blob_verify(cat->blobs, intact), 0);

	/* recovery at open: a writer flushes before anything else */
	journal_blob(cat, "journalled just before the crash", late);
	p = blob_file(cat, late);
	assert_int_equal(unlink(p), 0);
	cora_catalog_free(cat);
	cat = open_cat(path);
	assert_int_equal(journal_rows(cat), 0);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(cora_blob_verify(cat->blobs, late), 0);
	free(p);

	/* too big for the journal: refused, nothing added */
	memset(big, 'x', sizeof(big));
	assert_int_equal(cora_blob_journal_add(cat, intact, big, sizeof(big)),
			 CORA_EINVALID);
	assert_int_equal(journal_rows(cat), 0);
	cora_catalog_free(cat);
	remove_catalog(path);
}

/* A reader cannot delete journal rows, but it puts back what a crash
 * lost: cora_blob_journal_restore directly, and at a read-only open. */
static void test_journal__reader_restores_and_keeps_rows(void **st)
{
	char *path = make_catalog(), *p, *staging;
	struct cora_catalog *cat = open_cat(path), *ro;
	char lost[65], intact[65];
	size_t rewritten;

	assert_true(asprintf(&staging, "%s/staging", path) > 0);
	mkdir(staging, 0700);
	free(staging);
	journal_blob(cat, "lost before the disk saw it", lost);
	journal_blob(cat, "kept by the disk", intact);
	p = blob_file(cat, lost);
	assert_int_equal(unlink(p), 0);

	assert_int_equal(cora_blob_journal_restore(cat, cat->blobs,
						   &rewritten), 0);
	assert_int_equal(rewritten, 1);
	assert_int_equal(journal_rows(cat), 2);
	assert_int_equal(cora_blob_verify(cat->blobs, lost), 0);
	assert_int_equal(cora_blob_verify(cat->blobs, intact), 0);

	/* at a read-only open, with the writer gone */
	assert_int_equal(unlink(p), 0);
	cora_catalog_free(cat);
	assert_int_equal(cora_catalog_open(&ro, path, CORA_OPEN_READONLY), 0);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(cora_blob_verify(ro->blobs, lost), 0);
	assert_int_equal(journal_rows(ro), 2);
	cora_catalog_free(ro);
	free(p);
	remove_catalog(path);
}

/* Whatever fails during a flush (every fault point in turn: reads,
 * writes, fsyncs, syncfs, renames, SQLite steps, allocations), a row is
 * never gone while its blob is not intact, and a flush after the fault
 * finishes the work.  22 blobs: more than the local store persists one
 * by one, so its syncfs path is walked too. */
static void test_journal__flush_under_every_fault(void **st)
{
	enum { NBLOBS = 22 };
	char hex[NBLOBS][65], text[64], *p;
	uint64_t n;
	bool fired = true;
	int i, rc;

	for (n = 1; fired && n < 2000; n++) {
		char *path = make_catalog(), *staging;
		struct cora_catalog *cat = open_cat(path);

		assert_true(asprintf(&staging, "%s/staging", path) > 0);
		mkdir(staging, 0700);
		free(staging);
		for (i = 0; i < NBLOBS; i++) {
			snprintf(text, sizeof(text), "journalled blob %d", i);
			journal_blob(cat, text, hex[i]);
		}
		p = blob_file(cat, hex[0]); /* lost */
		assert_int_equal(unlink(p), 0);
		free(p);
		p = blob_file(cat, hex[1]); /* damaged */
		truncate(p, 3);
		free(p);

		cora_fault_sim(n);
		rc = cora_blob_journal_flush(cat, cat->blobs, NULL, NULL);
		fired = cora_fault_fired();
		cora_fault_sim(0);
		if (!fired)
			assert_int_equal(rc, 0);
		for (i = 0; i < NBLOBS; i++) {
			sqlite3_stmt *s = cora_stmt(cat, "SELECT count(*) FROM"
						    " blob_journal WHERE sha256 = ?1");
			int rows;

			sqlite3_bind_text(s, 1, hex[i], -1, SQLITE_STATIC);
			assert_int_equal(sqlite3_step(s), SQLITE_ROW);
			rows = sqlite3_column_int(s, 0);
			sqlite3_reset(s);
			if (rows == 0 &&
			    cora_blob_verify(cat->blobs, hex[i]) != 0)
				fail_msg("fault %llu: row of blob %d gone, blob "
					 "not intact", (unsigned long long)n, i);
		}
		assert_int_equal(cora_blob_journal_flush(cat, cat->blobs, NULL,
							 NULL), 0);
		assert_int_equal(journal_rows(cat), 0);
		for (i = 0; i < NBLOBS; i++)
			assert_int_equal(cora_blob_verify(cat->blobs, hex[i]), 0);
		cora_catalog_free(cat);
		remove_catalog(path);
	}
	assert_false(fired); /* the walk reached the end */
	assert_true(n > 5);  /* and there were points to walk */
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
		cmocka_unit_test(test_journal__flush_restores_lost_and_damaged_blobs),
		cmocka_unit_test(test_journal__flush_under_every_fault),
		cmocka_unit_test(test_journal__reader_restores_and_keeps_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fsck.c: replay the log into a scratch database and compare (fsck.h).
 */
#include "core/fsck.h"

#include "core/blobstore.h"
#include "core/error.h"
#include "core/projection.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PROBLEMS 100

struct replay {
	struct cora_catalog *scratch;
	struct cora_fsck_report *report;
	char last_stream[37];
	int64_t last_version;
};

static void problem(struct cora_fsck_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct cora_fsck_report *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (json_array_size(r->problems) >= MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(r->problems, json_string(buf));
}

static int replay_one(void *arg, const struct cora_event *e)
{
	struct replay *rp = arg;
	json_t *state = NULL;
	int64_t version = 0;
	int rc;

	rp->report->events++;
	rc = cora_entity_get(rp->scratch, NULL, e->stream_id, &state,
			     &version, NULL);
	if (rc && rc != CORA_ENOTFOUND)
		return rc;
	if (e->version != version + 1)
		problem(rp->report, "stream %s %s: event %lld has version "
			"%lld after version %lld", e->stream_type, e->stream_id,
			(long long)e->position, (long long)e->version,
			(long long)version);
	rc = cora_evolve(&state, e->stream_type, e->event_type, e->payload);
	if (rc == 0)
		rc = cora_project(rp->scratch, e, state);
	json_decref(state);
	if (rc) {
		problem(rp->report, "event %lld (%s) cannot be replayed: %s",
			(long long)e->position, e->event_type,
			cora_error_last());
		return rc;
	}
	return 0;
}

/* Reports rows of `table` that differ between main and the scratch. */
static int compare(struct cora_catalog *cat, struct cora_fsck_report *r,
		   const char *table, const char *key, const char *cols,
		   int64_t *count)
{
	static const char *const sides[2][2] = {
		{ "main", "scratch" }, { "scratch", "main" },
	};
	sqlite3_stmt *s;
	char *sql;
	int rc, side;

	if (asprintf(&sql, "SELECT count(*) FROM main.%s", table) < 0)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	rc = sqlite3_prepare_v2(cat->db, sql, -1, &s, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return cora_sqlite_error(cat, rc, "fsck");
	if (sqlite3_step(s) == SQLITE_ROW)
		*count = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);

	for (side = 0; side < 2; side++) {
		if (asprintf(&sql, "SELECT %s FROM (SELECT %s FROM %s.%s"
			     " EXCEPT SELECT %s FROM %s.%s) ORDER BY 1",
			     key, cols, sides[side][0], table, cols,
			     sides[side][1], table) < 0)
			return cora_error_set(CORA_ENOMEM, "out of memory");
		rc = sqlite3_prepare_v2(cat->db, sql, -1, &s, NULL);
		free(sql);
		if (rc != SQLITE_OK)
			return cora_sqlite_error(cat, rc, "fsck");
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			problem(r, "%s row %s %s", table,
				(const char *)sqlite3_column_text(s, 0),
				side == 0 ? "differs from the log (or is "
				"not in it)" : "is missing from the catalog");
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			return cora_sqlite_error(cat, rc, "fsck");
	}
	return 0;
}

static int check_blobs(struct cora_catalog *cat, struct cora_fsck_report *r)
{
	sqlite3_stmt *s;
	int rc;

	if (!cat->blobs)
		return 0;
	rc = sqlite3_prepare_v2(cat->db, "SELECT DISTINCT sha256 FROM nodes"
				" WHERE type = 'f' ORDER BY sha256", -1, &s,
				NULL);
	if (rc != SQLITE_OK)
		return cora_sqlite_error(cat, rc, "fsck");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *sha = (const char *)sqlite3_column_text(s, 0);
		uint64_t size = 0;

		r->blobs_checked++;
		if (!sha) {
			problem(r, "a file node has no digest");
			continue;
		}
		rc = cat->blobs->exists(cat->blobs, sha, &size);
		if (rc == CORA_ENOTFOUND)
			problem(r, "blob %s is missing from the blob store",
				sha);
		else if (rc)
			problem(r, "blob %s cannot be checked: %s", sha,
				cora_error_last());
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : cora_sqlite_error(cat, rc, "fsck");
}

int cora_fsck(struct cora_catalog *cat, struct cora_fsck_report *report)
{
	struct replay rp;
	char *path = NULL, *sql = NULL;
	int rc;

	memset(report, 0, sizeof(*report));
	report->problems = json_array();
	memset(&rp, 0, sizeof(rp));
	rp.report = report;
	if (asprintf(&path, "%s/staging/fsck-%d.db", cat->root,
		     (int)getpid()) < 0)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	rc = cora_catalog_open_scratch(&rp.scratch, path);
	if (rc)
		goto out;
	rc = cora_tx_begin(rp.scratch);
	if (rc == 0) {
		rc = cora_store_scan(cat, NULL, 0, replay_one, &rp);
		if (rc == 0)
			rc = cora_tx_commit(rp.scratch);
		else
			cora_tx_rollback(rp.scratch);
	}
	cora_catalog_free(rp.scratch);
	rp.scratch = NULL;
	if (rc) {
		/* A log that cannot be replayed is a finding, not a crash. */
		if (json_array_size(report->problems) > 0)
			rc = 0;
		goto out;
	}
	if (asprintf(&sql, "ATTACH DATABASE '%s' AS scratch", path) < 0) {
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
		goto out;
	}
	rc = cora_exec_sql(cat, sql);
	if (rc)
		goto out;
	rc = compare(cat, report, "entities", "stream_id",
		     "rowid, stream_type, stream_id, slug, version, state,"
		     " created_at, updated_at, position", &report->entities);
	if (rc == 0)
		rc = compare(cat, report, "nodes", "ino",
			     "ino, dataset_id, parent, name, type, size,"
			     " sha256, mode, mtime_ns, target, xattrs, uid,"
			     " gid, position", &report->nodes);
	cora_exec_sql(cat, "DETACH DATABASE scratch");
	if (rc == 0)
		rc = check_blobs(cat, report);
out:
	if (path)
		unlink(path);
	free(path);
	free(sql);
	return rc;
}

void cora_fsck_report_release(struct cora_fsck_report *report)
{
	json_decref(report->problems);
	report->problems = NULL;
}

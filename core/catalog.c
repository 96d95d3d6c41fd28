/*
 * catalog.c: creating and opening a catalog, its SQLite schema, the
 * statement cache, transactions and the append-only event store.
 * The format and its invariants are specified in catalog.h.
 */
#include "core/catalog.h"

#include "core/blobstore.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/error.h"
#include "core/fault.h"
#include "core/uuid.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Additive (catalog.h): also created in catalogs made before it. */
#define BLOB_JOURNAL_SQL \
	"CREATE TABLE IF NOT EXISTS blob_journal(" \
	" seq INTEGER PRIMARY KEY AUTOINCREMENT," \
	" sha256 TEXT NOT NULL," \
	" content BLOB NOT NULL);"

static const char schema_sql[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE events("
	" position INTEGER PRIMARY KEY AUTOINCREMENT,"
	" event_id TEXT NOT NULL UNIQUE,"
	" stream_type TEXT NOT NULL,"
	" stream_id TEXT NOT NULL,"
	" version INTEGER NOT NULL CHECK (version > 0),"
	" event_type TEXT NOT NULL,"
	" schema_version INTEGER NOT NULL DEFAULT 1,"
	" payload TEXT NOT NULL CHECK (json_valid(payload)),"
	" metadata TEXT NOT NULL DEFAULT '{}',"
	" correlation_id TEXT NOT NULL,"
	" causation_id TEXT,"
	" principal_id TEXT,"
	" occurred_at TEXT NOT NULL,"
	" recorded_at TEXT NOT NULL,"
	" UNIQUE (stream_type, stream_id, version));"
	"CREATE INDEX events_stream ON events(stream_id, version);"
	"CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
	" BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
	" BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TABLE entities("
	" rowid INTEGER PRIMARY KEY AUTOINCREMENT,"
	" stream_type TEXT NOT NULL,"
	" stream_id TEXT NOT NULL UNIQUE,"
	" slug TEXT,"
	" version INTEGER NOT NULL,"
	" state TEXT NOT NULL,"
	" created_at TEXT NOT NULL,"
	" updated_at TEXT NOT NULL,"
	" position INTEGER NOT NULL,"
	" UNIQUE (stream_type, slug));"
	"CREATE TABLE nodes("
	" ino INTEGER PRIMARY KEY,"
	" dataset_id TEXT NOT NULL,"
	" parent INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" type TEXT NOT NULL CHECK (type IN ('d', 'f', 'l')),"
	" size INTEGER NOT NULL DEFAULT 0,"
	" sha256 TEXT,"
	" mode INTEGER NOT NULL,"
	" mtime_ns INTEGER NOT NULL,"
	" target TEXT,"
	" xattrs TEXT,"
	" uid INTEGER,"
	" gid INTEGER,"
	" position INTEGER NOT NULL,"
	" UNIQUE (parent, name));"
	"CREATE INDEX nodes_listing ON nodes(parent, ino);"
	"CREATE INDEX nodes_dataset ON nodes(dataset_id);"
	"CREATE INDEX nodes_sha256 ON nodes(sha256);"
	"CREATE TABLE persons("
	" id TEXT PRIMARY KEY,"
	" slug TEXT NOT NULL UNIQUE,"
	" name TEXT NOT NULL,"
	" orcid TEXT,"
	" affiliation TEXT,"
	" affiliation_ror TEXT,"
	" email TEXT,"
	" unix_user TEXT UNIQUE);"
	BLOB_JOURNAL_SQL;

/* ---- statement cache -------------------------------------------------------- */

struct stmt_cache {
	size_t n, cap;
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} *items;
};

sqlite3_stmt *cora_stmt(struct cora_catalog *cat, const char *sql)
{
	struct stmt_cache *c = cat->stmts;
	sqlite3_stmt *s;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (c->items[i].sql == sql || strcmp(c->items[i].sql, sql) == 0) {
			s = c->items[i].stmt;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
	}
	if (sqlite3_prepare_v3(cat->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &s, NULL) != SQLITE_OK) {
		cora_error_set(CORA_EIO, "cannot prepare statement: %s",
			       sqlite3_errmsg(cat->db));
		return NULL;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 32;
		void *items = realloc(c->items, cap * sizeof(*c->items));
		if (!items) {
			sqlite3_finalize(s);
			cora_error_set(CORA_ENOMEM, "out of memory");
			return NULL;
		}
		c->items = items;
		c->cap = cap;
	}
	c->items[c->n].sql = sql;
	c->items[c->n].stmt = s;
	c->n++;
	return s;
}

static void stmt_cache_free(struct stmt_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		sqlite3_finalize(c->items[i].stmt);
	free(c->items);
	free(c);
}

int cora_sqlite_error(struct cora_catalog *cat, int rc, const char *what)
{
	int prim = rc & 0xff;

	if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB)
		return cora_error_set(CORA_ECORRUPT,
				      "catalog database is damaged (%s): %s",
				      what, sqlite3_errmsg(cat->db));
	if (prim == SQLITE_BUSY)
		return cora_error_set(CORA_EIO,
				      "catalog is busy (%s): %s", what,
				      sqlite3_errmsg(cat->db));
	if (prim == SQLITE_READONLY)
		return cora_error_set(CORA_EREADONLY,
				      "catalog is read-only (%s)", what);
	return cora_error_set(CORA_EIO, "%s failed: %s", what,
			      sqlite3_errmsg(cat->db));
}

int cora_exec_sql(struct cora_catalog *cat, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(cat->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		rc = cora_sqlite_error(cat, rc, msg ? msg : "statement");
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

/* ---- opening --------------------------------------------------------------- */

static int path_join(char **out, const char *a, const char *b)
{
	if (asprintf(out, "%s/%s", a, b) < 0) {
		*out = NULL;
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	return 0;
}

static int open_db(struct cora_catalog *cat, const char *path, int oflags)
{
	int rc;

	rc = sqlite3_open_v2(path, &cat->db, oflags | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		rc = cora_error_set(rc == SQLITE_CANTOPEN ? CORA_ENOTFOUND :
				    CORA_EIO, "cannot open catalog database "
				    "'%s': %s", path,
				    cat->db ? sqlite3_errmsg(cat->db) :
				    sqlite3_errstr(rc));
		return rc;
	}
	sqlite3_extended_result_codes(cat->db, 1);
	sqlite3_busy_timeout(cat->db, 30000);
	cat->stmts = calloc(1, sizeof(struct stmt_cache));
	if (!cat->stmts)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	return 0;
}

static int set_pragmas(struct cora_catalog *cat)
{
	int rc;

	if (!(cat->flags & CORA_OPEN_READONLY)) {
		rc = cora_exec_sql(cat, "PRAGMA journal_mode=WAL");
		if (rc)
			return rc;
	}
	/* The daemon opens one connection per thread: a small page cache
	 * each (the kernel's page cache holds the file anyway), so listing
	 * a huge folder does not grow the daemon by megabytes a thread. */
	return cora_exec_sql(cat, cat->flags & CORA_OPEN_SYNC_NORMAL ?
			     "PRAGMA synchronous=NORMAL;"
			     "PRAGMA foreign_keys=OFF;"
			     "PRAGMA cache_size=-1024" :
			     "PRAGMA synchronous=FULL;"
			     "PRAGMA foreign_keys=OFF;"
			     "PRAGMA cache_size=-16384");
}

static int write_schema(struct cora_catalog *cat)
{
	char id[37], now[CORA_TIME_STRLEN], *sql;
	int rc;

	rc = cora_exec_sql(cat, "BEGIN IMMEDIATE");
	if (rc)
		return rc;
	rc = cora_exec_sql(cat, schema_sql);
	if (rc)
		goto fail;
	if (asprintf(&sql, "INSERT INTO meta VALUES"
		     " ('schema_version', '%d'), ('catalog_id', '%s'),"
		     " ('created_at', '%s'), ('next_ino', '%lld')",
		     CORA_SCHEMA_VERSION, cora_uuid_v7_str(id),
		     cora_time_now(now), (long long)CORA_INO_RESERVED) < 0) {
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
		goto fail;
	}
	rc = cora_exec_sql(cat, sql);
	free(sql);
	if (rc)
		goto fail;
	return cora_exec_sql(cat, "COMMIT");
fail:
	cora_exec_sql(cat, "ROLLBACK");
	return rc;
}

static int check_schema(struct cora_catalog *cat)
{
	sqlite3_stmt *s;
	int rc, version;

	rc = sqlite3_prepare_v2(cat->db,
		"SELECT value FROM meta WHERE key = 'schema_version'", -1,
		&s, NULL);
	if (rc != SQLITE_OK) {
		if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
			return cora_sqlite_error(cat, rc, "reading the schema");
		return cora_error_set(CORA_ECORRUPT,
				      "'%s' is not a corafs catalog: %s",
				      cat->root, sqlite3_errmsg(cat->db));
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		return cora_error_set(CORA_ECORRUPT,
				      "'%s' is not a corafs catalog: no "
				      "schema version", cat->root);
	}
	version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version > CORA_SCHEMA_VERSION)
		return cora_error_set(CORA_EVERSION,
			"catalog '%s' has schema version %d, newer than this "
			"corafs understands (%d): upgrade corafs", cat->root,
			version, CORA_SCHEMA_VERSION);
	if (version < 1)
		return cora_error_set(CORA_ECORRUPT,
				      "catalog '%s' has a bad schema version",
				      cat->root);
	return 0;
}

/* Opens the blob store the config names: "local" (CATALOG/blobs) or a
 * kind registered by the program (blob_registry.c; store/ adds "s3"). */
static int open_blobs(struct cora_catalog *cat)
{
	return cora_blobstore_open(&cat->blobs,
				   cora_catalog_config(cat, "blobs", "local"),
				   cat->root, cat->config);
}

/* *any: one row of `sql` says 1 */
static int ask(struct cora_catalog *cat, const char *sql, int *any)
{
	sqlite3_stmt *s = cora_stmt(cat, sql);
	int rc;

	if (!s)
		return cora_error_code();
	rc = sqlite3_step(s);
	*any = rc == SQLITE_ROW && sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 :
	       cora_sqlite_error(cat, rc, "reading the blob journal");
}

/* A writer's first step (invariant 5): the blobs of events that
 * survived a crash before their blobs reached the disk are put back.
 * A reader puts them back too but cannot delete the rows; when it
 * cannot write the store either (another user's catalog) it goes on,
 * and such a blob stays unreadable until a writer opens the catalog. */
static int flush_journal(struct cora_catalog *cat)
{
	int rc, any;

	if (!cat->blobs->persist)
		return 0;
	if (cat->flags & CORA_OPEN_READONLY) {
		/* writers create the table; a reader may come first */
		rc = ask(cat, "SELECT EXISTS (SELECT 1 FROM sqlite_master"
			 " WHERE type = 'table' AND name = 'blob_journal')",
			 &any);
		if (rc == 0 && any) /* a walk of no rows is one step */
			(void)cora_blob_journal_restore(cat, cat->blobs, NULL);
		return rc;
	}
	rc = ask(cat, "SELECT EXISTS (SELECT 1 FROM blob_journal)", &any);
	if (rc || !any)
		return rc;
	rc = cora_blob_journal_flush(cat, cat->blobs, NULL, NULL);
	if (rc) {
		char why[512];

		snprintf(why, sizeof(why), "%s", cora_error_last());
		return cora_error_set(rc, "cannot make the journalled blobs of "
				      "catalog '%s' durable: %s", cat->root,
				      why);
	}
	return 0;
}

static struct cora_catalog *catalog_alloc(const char *root, unsigned flags)
{
	struct cora_catalog *cat = calloc(1, sizeof(*cat));

	if (!cat)
		return NULL;
	cat->root = strdup(root);
	cat->flags = flags;
	if (!cat->root) {
		free(cat);
		return NULL;
	}
	cora_actor_for_uid(cat->principal, getuid());
	return cat;
}

int cora_catalog_create(const char *root, const struct cora_create_opts *o)
{
	static const char *const folders[] = { "staging", "cache" };
	struct cora_catalog *cat;
	struct stat st;
	json_t *cfg;
	char *path = NULL;
	const char *blobs = o && o->blobs ? o->blobs : "local";
	int rc;
	size_t i;

	if (strcmp(blobs, "local") != 0 && strcmp(blobs, "s3") != 0)
		return cora_error_set(CORA_EINVALID,
				      "unknown blob store '%s' (local or s3)",
				      blobs);
	if (mkdir(root, 0700) != 0) {
		if (errno != EEXIST)
			return cora_error_sys(CORA_EIO, "cannot create '%s'",
					      root);
		rc = path_join(&path, root, "catalog.db");
		if (rc)
			return rc;
		rc = stat(path, &st);
		free(path);
		if (rc == 0)
			return cora_error_set(CORA_EEXISTS,
					      "catalog '%s' already exists",
					      root);
	}
	chmod(root, 0700);
	for (i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		rc = path_join(&path, root, folders[i]);
		if (rc)
			return rc;
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			rc = cora_error_sys(CORA_EIO, "cannot create '%s'", path);
			free(path);
			return rc;
		}
		free(path);
	}

	cfg = o && o->config ? json_deep_copy(o->config) : json_object();
	json_object_set_new(cfg, "blobs", json_string(blobs));
	if (!json_object_get(cfg, "doi_prefix"))
		json_object_set_new(cfg, "doi_prefix", json_string("10.5072"));
	if (!json_object_get(cfg, "stub_doi_prefix"))
		json_object_set_new(cfg, "stub_doi_prefix",
				    json_string("10.0000/cora-stub"));
	rc = path_join(&path, root, "config");
	if (rc) {
		json_decref(cfg);
		return rc;
	}
	rc = cora_config_save(cfg, path, 0600);
	free(path);
	json_decref(cfg);
	if (rc)
		return rc;

	cat = catalog_alloc(root, 0);
	if (!cat)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	rc = path_join(&path, root, "catalog.db");
	if (rc == 0)
		rc = open_db(cat, path, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE);
	free(path);
	if (rc == 0)
		rc = set_pragmas(cat);
	if (rc == 0)
		rc = write_schema(cat);
	cora_catalog_free(cat);
	if (rc)
		return rc;
	/* Opening creates the blob store's folders. */
	rc = cora_catalog_open(&cat, root, 0);
	if (rc == 0)
		cora_catalog_free(cat);
	return rc;
}

int cora_catalog_open(struct cora_catalog **out, const char *root,
		      unsigned flags)
{
	struct cora_catalog *cat;
	struct stat st;
	char *path = NULL;
	int rc;

	*out = NULL;
	if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
		return cora_error_set(CORA_ENOTFOUND,
				      "'%s' is not a catalog (no such folder)",
				      root);
	cat = catalog_alloc(root, flags);
	if (!cat)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	rc = path_join(&path, root, "catalog.db");
	if (rc)
		goto fail;
	if (stat(path, &st) != 0) {
		rc = cora_error_set(CORA_ENOTFOUND,
				    "'%s' is not a catalog (no catalog.db; "
				    "create one with 'cora init')", root);
		goto fail;
	}
	rc = open_db(cat, path, flags & CORA_OPEN_READONLY ?
		     SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
	if (rc)
		goto fail;
	rc = check_schema(cat);
	if (rc)
		goto fail;
	rc = set_pragmas(cat);
	if (rc)
		goto fail;
	free(path);
	rc = path_join(&path, root, "config");
	if (rc)
		goto fail;
	rc = cora_config_load(&cat->config, path);
	if (rc)
		goto fail;
	if (!(flags & CORA_OPEN_READONLY)) {
		rc = cora_exec_sql(cat, BLOB_JOURNAL_SQL);
		if (rc)
			goto fail;
	}
	if (!(flags & CORA_OPEN_NO_BLOBS)) {
		rc = open_blobs(cat);
		if (rc)
			goto fail;
		rc = flush_journal(cat);
		if (rc)
			goto fail;
	}
	free(path);
	*out = cat;
	return 0;
fail:
	free(path);
	cora_catalog_free(cat);
	return rc;
}

int cora_catalog_open_scratch(struct cora_catalog **out, const char *path)
{
	struct cora_catalog *cat = catalog_alloc(path, CORA_OPEN_SYNC_NORMAL);
	int rc;

	*out = NULL;
	if (!cat)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	unlink(path);
	rc = open_db(cat, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	if (rc == 0)
		rc = cora_exec_sql(cat, "PRAGMA journal_mode=OFF;"
				   "PRAGMA synchronous=OFF");
	if (rc == 0)
		rc = write_schema(cat);
	if (rc == 0)
		cat->config = json_object();
	if (rc) {
		cora_catalog_free(cat);
		return rc;
	}
	*out = cat;
	return 0;
}

void cora_catalog_free(struct cora_catalog *cat)
{
	if (!cat)
		return;
	stmt_cache_free(cat->stmts);
	if (cat->db)
		sqlite3_close_v2(cat->db);
	if (cat->blobs)
		cat->blobs->free(cat->blobs);
	json_decref(cat->config);
	free(cat->root);
	free(cat);
}

void cora_actor_for_uid(char out[37], unsigned uid)
{
	char name[32];
	int n = snprintf(name, sizeof(name), "unix-uid:%u", uid);

	cora_uuid_v5_str(out, CORA_NS_ACTOR, name, (size_t)n);
}

void cora_catalog_set_principal(struct cora_catalog *cat, const char *id)
{
	snprintf(cat->principal, sizeof(cat->principal), "%s", id);
}

const char *cora_catalog_config(const struct cora_catalog *cat,
				const char *key, const char *dflt)
{
	const char *v = cora_json_str(cat->config, key);

	return v ? v : dflt;
}

/* ---- transactions ------------------------------------------------------------ */

int cora_tx_begin(struct cora_catalog *cat)
{
	int rc;

	if (cat->tx_depth++ > 0)
		return 0;
	rc = cora_exec_sql(cat, "BEGIN IMMEDIATE");
	if (rc)
		cat->tx_depth = 0;
	return rc;
}

int cora_tx_commit(struct cora_catalog *cat)
{
	int rc;

	if (cat->tx_depth <= 0)
		return cora_error_set(CORA_EIO, "the transaction was rolled "
				      "back: nothing was written");
	if (--cat->tx_depth > 0)
		return 0;
	if (CORA_FAULT(CORA_FAULT_SQLITE)) {
		cora_exec_sql(cat, "ROLLBACK");
		return cora_error_set(CORA_EIO, "commit failed: injected fault");
	}
	rc = cora_exec_sql(cat, "COMMIT");
	if (rc)
		cora_exec_sql(cat, "ROLLBACK");
	return rc;
}

void cora_tx_rollback(struct cora_catalog *cat)
{
	if (cat->tx_depth <= 0)
		return;
	cat->tx_depth = 0;
	if (!sqlite3_get_autocommit(cat->db))
		cora_exec_sql(cat, "ROLLBACK");
}

int cora_ino_reserve(struct cora_catalog *cat, int64_t n, int64_t *first)
{
	sqlite3_stmt *s;
	int rc;

	rc = cora_tx_begin(cat);
	if (rc)
		return rc;
	s = cora_stmt(cat, "UPDATE meta SET value = CAST(value AS INTEGER) + ?1"
		      " WHERE key = 'next_ino'"
		      " RETURNING CAST(value AS INTEGER) - ?1");
	if (!s) {
		cora_tx_rollback(cat);
		return cora_error_code();
	}
	sqlite3_bind_int64(s, 1, n);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*first = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		cora_tx_rollback(cat);
		return cora_sqlite_error(cat, rc, "reserving inode numbers");
	}
	if (*first + n > CORA_INO_LIMIT) {
		cora_tx_rollback(cat);
		return cora_error_set(CORA_EIO, "inode numbers exhausted");
	}
	return cora_tx_commit(cat);
}

/* ---- the event store ----------------------------------------------------------- */

void cora_event_release(struct cora_event *e)
{
	json_decref(e->payload);
	e->payload = NULL;
}

int cora_store_version(struct cora_catalog *cat, const char *stream_type,
		       const char *stream_id, int64_t *version)
{
	sqlite3_stmt *s = cora_stmt(cat,
		"SELECT coalesce(max(version), 0) FROM events"
		" WHERE stream_type = ?1 AND stream_id = ?2");
	int rc;

	if (!s)
		return cora_error_code();
	sqlite3_bind_text(s, 1, stream_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, stream_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW)
		return cora_sqlite_error(cat, rc, "reading a stream version");
	*version = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return 0;
}

int cora_store_append(struct cora_catalog *cat, const char *stream_type,
		      const char *stream_id, int64_t expected_version,
		      const struct cora_new_event *events, size_t n,
		      int64_t *positions)
{
	char event_id[37], correlation[37], now[CORA_TIME_STRLEN];
	sqlite3_stmt *s = NULL;
	int64_t current;
	size_t i;
	int rc;

	rc = cora_tx_begin(cat);
	if (rc)
		return rc;
	/* Invariant 2: the explicit check catches a stale expected version
	 * and one that is ahead of the stream; UNIQUE only the first. */
	rc = cora_store_version(cat, stream_type, stream_id, &current);
	if (rc)
		goto fail;
	if (current != expected_version) {
		rc = cora_error_set(CORA_ECONFLICT,
				    "stream %s %s: expected version %lld, "
				    "found %lld", stream_type, stream_id,
				    (long long)expected_version,
				    (long long)current);
		goto fail;
	}
	cora_uuid_v7_str(correlation);
	cora_time_now(now);
	s = cora_stmt(cat,
		"INSERT INTO events(event_id, stream_type, stream_id, version,"
		" event_type, payload, correlation_id, principal_id,"
		" occurred_at, recorded_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	if (!s) {
		rc = cora_error_code();
		goto fail;
	}
	for (i = 0; i < n; i++) {
		const char *occurred = cora_json_str(events[i].payload,
						     "occurred_at");
		char *payload = cora_json_dump(events[i].payload);

		if (!payload) {
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
			goto fail;
		}
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, cora_uuid_v7_str(event_id), -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, stream_type, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, stream_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, expected_version + (int64_t)i + 1);
		sqlite3_bind_text(s, 5, events[i].event_type, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 6, payload, -1, free);
		sqlite3_bind_text(s, 7, correlation, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, cat->principal, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 9, occurred ? occurred : now, -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 10, now, -1, SQLITE_STATIC);
		if (CORA_FAULT(CORA_FAULT_SQLITE)) {
			rc = cora_error_set(CORA_EIO,
					    "appending an event failed: "
					    "injected fault");
			goto fail;
		}
		rc = sqlite3_step(s);
		if (rc != SQLITE_DONE) {
			if ((rc & 0xff) == SQLITE_CONSTRAINT)
				rc = cora_error_set(CORA_ECONFLICT,
					"stream %s %s: version %lld exists "
					"already", stream_type, stream_id,
					(long long)(expected_version +
						    (int64_t)i + 1));
			else
				rc = cora_sqlite_error(cat, rc,
						       "appending an event");
			goto fail;
		}
		if (positions)
			positions[i] = sqlite3_last_insert_rowid(cat->db);
	}
	sqlite3_reset(s);
	return cora_tx_commit(cat);
fail:
	if (s)
		sqlite3_reset(s);
	cora_tx_rollback(cat);
	return rc;
}

static void copy_col(char *dst, size_t size, sqlite3_stmt *s, int col)
{
	const unsigned char *v = sqlite3_column_text(s, col);

	snprintf(dst, size, "%s", v ? (const char *)v : "");
}

int cora_store_scan(struct cora_catalog *cat, const char *stream_id,
		    int64_t after,
		    int (*fn)(void *arg, const struct cora_event *e),
		    void *arg)
{
	sqlite3_stmt *s;
	struct cora_event e;
	json_error_t jerr;
	int rc;

	/* Not cached: the callback may run statements of its own. */
	rc = sqlite3_prepare_v2(cat->db, stream_id ?
		"SELECT position, event_id, stream_type, stream_id, version,"
		" event_type, payload, principal_id, occurred_at, recorded_at"
		" FROM events WHERE stream_id = ?1 AND position > ?2"
		" ORDER BY position" :
		"SELECT position, event_id, stream_type, stream_id, version,"
		" event_type, payload, principal_id, occurred_at, recorded_at"
		" FROM events WHERE position > ?2 ORDER BY position", -1, &s,
		NULL);
	if (rc != SQLITE_OK)
		return cora_sqlite_error(cat, rc, "reading the log");
	if (stream_id)
		sqlite3_bind_text(s, 1, stream_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, after);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		e.position = sqlite3_column_int64(s, 0);
		copy_col(e.event_id, sizeof(e.event_id), s, 1);
		copy_col(e.stream_type, sizeof(e.stream_type), s, 2);
		copy_col(e.stream_id, sizeof(e.stream_id), s, 3);
		e.version = sqlite3_column_int64(s, 4);
		copy_col(e.event_type, sizeof(e.event_type), s, 5);
		e.payload = json_loads((const char *)sqlite3_column_text(s, 6),
				       0, &jerr);
		copy_col(e.principal, sizeof(e.principal), s, 7);
		copy_col(e.occurred_at, sizeof(e.occurred_at), s, 8);
		copy_col(e.recorded_at, sizeof(e.recorded_at), s, 9);
		if (!e.payload) {
			rc = cora_error_set(CORA_ECORRUPT,
					    "event %lld has a bad payload: %s",
					    (long long)e.position, jerr.text);
			sqlite3_finalize(s);
			return rc;
		}
		rc = fn(arg, &e);
		cora_event_release(&e);
		if (rc) {
			sqlite3_finalize(s);
			return rc;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cora_sqlite_error(cat, rc, "reading the log");
	return 0;
}

int cora_store_head(struct cora_catalog *cat, int64_t *position)
{
	sqlite3_stmt *s = cora_stmt(cat,
		"SELECT coalesce(max(position), 0) FROM events");
	int rc;

	if (!s)
		return cora_error_code();
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW)
		return cora_sqlite_error(cat, rc, "reading the log head");
	*position = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return 0;
}

struct fold_arg {
	const char *stream_type;
	json_t *state;
	int64_t version;
};

static int fold_one(void *arg, const struct cora_event *e)
{
	struct fold_arg *f = arg;

	if (strcmp(e->stream_type, f->stream_type) != 0)
		return 0;
	f->version = e->version;
	return cora_evolve(&f->state, e->stream_type, e->event_type,
			   e->payload);
}

int cora_store_fold(struct cora_catalog *cat, const char *stream_type,
		    const char *stream_id, json_t **state, int64_t *version)
{
	struct fold_arg f = { stream_type, NULL, 0 };
	int rc = cora_store_scan(cat, stream_id, 0, fold_one, &f);

	if (rc) {
		json_decref(f.state);
		return rc;
	}
	*state = f.state;
	if (version)
		*version = f.version;
	return 0;
}

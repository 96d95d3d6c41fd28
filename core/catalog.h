/*
 * catalog.h: a catalog on disk, its database, and the event store.
 *
 * LAYOUT
 *
 *     CATALOG/              mode 0700
 *       config              key = value lines, mode 0600 (config.c)
 *       catalog.db          SQLite in WAL mode: the event log and projections
 *       blobs/sha256/ab/…   the local blob store (blob_local.c)
 *       staging/            files being written through the mount
 *       cache/              local cache of remote blobs
 *
 * DATABASE (schema version 1; meta.schema_version)
 *
 *   meta(key PRIMARY KEY, value)
 *       schema_version, catalog_id (UUIDv7), created_at, next_ino (the
 *       next inode number the mount may reserve, cora_ino_reserve()).
 *
 *   events(position INTEGER PRIMARY KEY AUTOINCREMENT, event_id UNIQUE,
 *          stream_type, stream_id, version, event_type, schema_version,
 *          payload JSON, metadata JSON, correlation_id, causation_id,
 *          principal_id, occurred_at, recorded_at,
 *          UNIQUE(stream_type, stream_id, version))
 *       The log.  Ids are canonical UUID text.  Payloads are canonical
 *       JSON (sorted keys, compact; cora_json_dump).
 *
 *   entities(rowid INTEGER PRIMARY KEY AUTOINCREMENT, stream_type,
 *            stream_id UNIQUE, slug, version, state JSON, created_at,
 *            updated_at, position, UNIQUE(stream_type, slug))
 *       One row per stream: its folded state (the entity summary, also
 *       the snapshot the runner decides on) at `version`, last changed by
 *       the event at `position`.
 *
 *   nodes(ino INTEGER PRIMARY KEY, dataset_id, parent,
 *         name, type, size, sha256, mode, mtime_ns, target, xattrs JSON,
 *         uid, gid, position, UNIQUE(parent, name))
 *       The file tree of every dataset.  A dataset's root folder is the
 *       node with parent = 0 and name = its dataset_id.  type is 'd', 'f'
 *       or 'l'.  Indexed on (parent, ino) for streaming listings.
 *
 *   persons(id PRIMARY KEY, slug UNIQUE, name, orcid, affiliation,
 *           affiliation_ror, email, unix_user)
 *       Person profiles: personal data, outside the log, erasable.
 *
 *   blob_journal(seq INTEGER PRIMARY KEY AUTOINCREMENT, sha256, content)
 *       Small blobs (at most CORA_JOURNAL_MAX bytes) the mount stored
 *       at close(2) without waiting for the disk (->adopt_later): each
 *       row is inserted in the transaction of the event that names the
 *       blob, and deleted by cora_blob_journal_flush() once the store's
 *       copy is durable.  Outside the log (replay ignores it); created
 *       by any writer that opens a catalog without it (additive: the
 *       schema version stays 1).
 *
 * INVARIANTS
 *
 *   1. Rows of `events` are never updated or deleted (triggers refuse).
 *   2. For each stream, versions are 1, 2, 3, ... without gaps: an append
 *      with an expected version other than the stream's current one, behind
 *      or ahead, fails with CORA_ECONFLICT and writes nothing.
 *   3. Projections (entities, nodes) change only in the transaction that
 *      appends the event they reflect; a reader never sees an event
 *      without its projection.  Replaying the log from position 1 into
 *      empty projections reproduces them exactly, row ids included
 *      (cora fsck checks this).
 *   4. Row ids of entities (AUTOINCREMENT) and nodes are never reused, so
 *      they serve as stable inode numbers across remounts.  A node's ino
 *      is the log position of the event that created it, or the "ino" of
 *      that event's payload: a number the mount reserved from meta.next_ino
 *      (>= CORA_INO_RESERVED) for a file it was writing before any event
 *      existed.  Both are reproduced exactly by a replay.
 *   5. An event that names a blob commits only after the blob is durable
 *      in the blob store, or in the same transaction as a blob_journal
 *      row holding the blob's content.  So whenever an event survives a
 *      crash, so does its blob: in the store, or in the journal, from
 *      which cora_blob_journal_flush() rewrites a blob whose file was
 *      lost or damaged.  Every writer that opens a catalog with its blob
 *      store flushes the journal first (cora_catalog_open), and the
 *      mount flushes it about once a second, so rows are few and young.
 *      A reader that opens it with its blob store rewrites lost or
 *      damaged blobs from their rows too, but leaves the rows.
 *   6. Durability: every transaction commits to the WAL.  The catalog is
 *      opened with synchronous=FULL by `cora` (a command that returned is
 *      on disk) and by the daemon for fsync(); the daemon's close() path
 *      may use NORMAL, which survives a crash of the process but not a
 *      power cut (DESIGN 4).  A small file's blob on that path goes to
 *      the journal (5) instead of being fsynced: the WAL write orders
 *      the two, where two fsyncs a file did before.
 *
 * THREADS
 *
 *   A struct cora_catalog holds one SQLite connection and is used by one
 *   thread at a time; the daemon opens one per thread (they share nothing
 *   but the files).  SQLite's busy timeout plus BEGIN IMMEDIATE serialise
 *   writers across threads and processes.
 */
#ifndef CORA_CATALOG_H
#define CORA_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/aggregate.h"

struct sqlite3;
struct cora_blobstore;

#define CORA_SCHEMA_VERSION 1

enum cora_open_flags {
	CORA_OPEN_READONLY = 1 << 0,
	CORA_OPEN_NO_BLOBS = 1 << 1,   /* do not open the blob store */
	CORA_OPEN_SYNC_NORMAL = 1 << 2, /* synchronous=NORMAL (daemon) */
};

struct cora_catalog {
	char *root;                     /* the CATALOG folder */
	struct sqlite3 *db;
	struct cora_blobstore *blobs;   /* NULL with CORA_OPEN_NO_BLOBS */
	json_t *config;                 /* {key: value} from CATALOG/config */
	unsigned flags;
	int tx_depth;
	char principal[37];             /* actor id recorded on events */
	void *stmts;                    /* prepared statement cache */
};

/* Options of cora_catalog_create(). */
struct cora_create_opts {
	const char *blobs;              /* "local" (default) or "s3" */
	const json_t *config;           /* extra key = value pairs */
};

/* Creates CATALOG (must not exist or be an empty folder). */
int cora_catalog_create(const char *root, const struct cora_create_opts *o);

/* Opens an existing catalog.  Refuses a newer schema version
 * (CORA_EVERSION) and a damaged database (CORA_ECORRUPT). */
int cora_catalog_open(struct cora_catalog **out, const char *root,
		      unsigned flags);

/* Opens a fresh scratch database at path with the same schema (for
 * fsck's rebuild); no blob store, no config. */
int cora_catalog_open_scratch(struct cora_catalog **out, const char *path);

void cora_catalog_free(struct cora_catalog *cat);

/* The principal recorded on events: the actor id of unix uid. */
void cora_actor_for_uid(char out[37], unsigned uid);
void cora_catalog_set_principal(struct cora_catalog *cat, const char *id);

/* A config value or dflt. */
const char *cora_catalog_config(const struct cora_catalog *cat,
				const char *key, const char *dflt);

/* ---- transactions ------------------------------------------------------ */

/* BEGIN IMMEDIATE (nesting: inner calls only count). */
int cora_tx_begin(struct cora_catalog *cat);
int cora_tx_commit(struct cora_catalog *cat);
void cora_tx_rollback(struct cora_catalog *cat);

/* Reserves n inode numbers for nodes not yet created (the mount's files
 * being written): *first .. *first + n - 1, never handed out again. */
int cora_ino_reserve(struct cora_catalog *cat, int64_t n, int64_t *first);

/* ---- the blob journal (invariant 5) ------------------------------------ */

/* The largest blob the journal takes: bigger ones are fsynced. */
#define CORA_JOURNAL_MAX (64 * 1024)

/* Adds a row for a blob stored with ->adopt_later, inside the current
 * transaction (the caller's, which also appends the event naming it).
 * CORA_EINVALID when n > CORA_JOURNAL_MAX. */
int cora_blob_journal_add(struct cora_catalog *cat, const char *sha256,
			  const void *content, size_t n);

/* Makes every journalled blob durable in bs and deletes its row: a blob
 * whose file is intact is persisted (->persist: fsync of the file and
 * its folder); one that is missing or does not hash to its name (a
 * crash before it reached the disk) is removed and put again from the
 * row.  Rows added meanwhile stay for the next flush.  A failure leaves
 * the rows of the blobs not yet made durable.  *flushed (may be NULL)
 * gets the number of rows done, *rewritten (may be NULL) how many of
 * them had to be written again. */
int cora_blob_journal_flush(struct cora_catalog *cat,
			    struct cora_blobstore *bs, size_t *flushed,
			    size_t *rewritten);

/* What a reader can do of a flush: every journalled blob that is missing
 * or damaged in bs is written again (durably) from its row; intact ones
 * are left as they are, and no row is deleted (the next writer's flush
 * does that).  *rewritten (may be NULL) gets how many were written. */
int cora_blob_journal_restore(struct cora_catalog *cat,
			      struct cora_blobstore *bs, size_t *rewritten);

/* ---- the event store ---------------------------------------------------- */

struct cora_event {
	int64_t position;
	char event_id[37];
	char stream_type[32];
	char stream_id[37];
	int64_t version;
	char event_type[64];
	json_t *payload;                /* owned */
	char principal[37];
	char occurred_at[40];
	char recorded_at[40];
};

void cora_event_release(struct cora_event *e);

/* Appends n events to a stream at expected_version (0 for a new
 * stream), inside the current transaction (or its own).  Each event's
 * occurred_at is taken from its payload.  positions (may be NULL) gets
 * the log positions.  A stale expected version is CORA_ECONFLICT
 * `stream Dataset 0190…: expected version 3, found 4`. */
int cora_store_append(struct cora_catalog *cat, const char *stream_type,
		      const char *stream_id, int64_t expected_version,
		      const struct cora_new_event *events, size_t n,
		      int64_t *positions);

/* The current version of a stream (0 when it does not exist). */
int cora_store_version(struct cora_catalog *cat, const char *stream_type,
		       const char *stream_id, int64_t *version);

/* Calls fn for each event with position > after, in order, of one
 * stream (stream_id != NULL) or of the whole log; stops at fn's first
 * non-zero return, which it returns. */
int cora_store_scan(struct cora_catalog *cat, const char *stream_id,
		    int64_t after,
		    int (*fn)(void *arg, const struct cora_event *e),
		    void *arg);

/* The position of the newest event (0 for an empty log). */
int cora_store_head(struct cora_catalog *cat, int64_t *position);

/* Folds a stream from its events (no snapshot): *state is NULL when the
 * stream does not exist. */
int cora_store_fold(struct cora_catalog *cat, const char *stream_type,
		    const char *stream_id, json_t **state, int64_t *version);

/* ---- SQLite helpers shared by core modules --------------------------------- */

/* A cached prepared statement for sql (reset, bindings cleared). */
struct sqlite3_stmt *cora_stmt(struct cora_catalog *cat, const char *sql);
/* Turns an SQLite failure into a CORA code with the db's message. */
int cora_sqlite_error(struct cora_catalog *cat, int rc, const char *what);
/* Executes SQL without results. */
int cora_exec_sql(struct cora_catalog *cat, const char *sql);

#endif

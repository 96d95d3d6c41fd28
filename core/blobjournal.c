/*
 * blobjournal.c: small blobs that ride in the catalog's transaction
 * (catalog.h, table blob_journal and invariant 5).
 *
 * The mount commits a file at close(2).  Making its blob durable first
 * costs two fsyncs (the file, its folder), which for a 4 KiB file is
 * nearly all of the time a close takes.  For a blob of at most
 * CORA_JOURNAL_MAX bytes the mount instead stores the file without
 * fsyncs (->adopt_later) and puts a copy of the content in the same
 * transaction as the event that names it.  Whatever survives a crash,
 * the event and its blob survive together: the journal row is in the
 * same WAL commit as the event.
 *
 * The flush turns rows back into nothing: for each row, the store's copy
 * is checked against its digest, written again from the row when it was
 * lost or damaged, then made durable (->persist), and only then is the
 * row deleted.  Rows are deleted by sequence number up to the last one
 * handled, so a row added during a flush (even for the same digest) stays
 * for the next one.
 *
 * Every writer that opens a catalog with its blob store flushes first
 * (catalog.c), which is also the recovery after a crash; the mount
 * flushes about once a second and when it unmounts.  A reader cannot
 * delete rows, but it restores: a read-only open puts back the blobs a
 * crash lost or damaged (cora_blob_journal_restore), so a `-o ro` mount
 * after a power cut serves them too.
 */
#include "core/blobstore.h"
#include "core/catalog.h"
#include "core/error.h"
#include "core/text.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int cora_blob_journal_add(struct cora_catalog *cat, const char *sha256,
			  const void *content, size_t n)
{
	sqlite3_stmt *s;
	int rc;

	if (n > CORA_JOURNAL_MAX)
		return cora_error_set(CORA_EINVALID, "blob %s is too big for the "
				      "journal (%zu bytes; at most %d)", sha256,
				      n, CORA_JOURNAL_MAX);
	s = cora_stmt(cat, "INSERT INTO blob_journal(sha256, content)"
		      " VALUES (?1, ?2)");
	if (!s)
		return cora_error_code();
	sqlite3_bind_text(s, 1, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, n ? content : "", (int)n, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 :
	       cora_sqlite_error(cat, rc, "adding a blob to the journal");
}

/* Checks one journalled blob in bs, writing it again (durably) from the
 * row when it is missing or damaged; *again says it was.  A blob found
 * intact still needs ->persist. */
static int check_or_rewrite(struct cora_blobstore *bs, const char *sha256,
			    const void *content, size_t n, bool *again)
{
	char got[CORA_SHA256_HEXLEN + 1];
	int rc;

	*again = false;
	rc = cora_blob_verify(bs, sha256);
	if (rc != CORA_ENOTFOUND && rc != CORA_EMISMATCH)
		return rc;
	/* lost or damaged before it reached the disk: a put of the same
	 * content would dedup against a damaged file of the right size, so
	 * the damaged one goes first */
	*again = true;
	if (rc == CORA_EMISMATCH) {
		rc = cora_blob_delete(bs, sha256);
		if (rc && rc != CORA_ENOTFOUND)
			return rc;
	}
	rc = cora_blob_put_buf(bs, content, n, sha256, got, NULL);
	if (rc == CORA_EMISMATCH)
		return cora_error_set(CORA_ECORRUPT, "the blob journal's copy of "
				      "%s does not hash to it: the catalog "
				      "database is damaged", sha256);
	return rc;
}

int cora_blob_journal_restore(struct cora_catalog *cat,
			      struct cora_blobstore *bs, size_t *rewritten)
{
	sqlite3_stmt *s;
	size_t again = 0;
	bool redo;
	int rc = 0, step;

	if (rewritten)
		*rewritten = 0;
	step = sqlite3_prepare_v2(cat->db, "SELECT sha256, content FROM"
				  " blob_journal ORDER BY seq", -1, &s, NULL);
	if (step != SQLITE_OK)
		return cora_sqlite_error(cat, step, "reading the blob journal");
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *sha = (const char *)sqlite3_column_text(s, 0);

		if (!sha || cora_text_sha256(sha, "sha256") != 0) {
			rc = cora_error_set(CORA_ECORRUPT, "the blob journal has "
					    "a row without a valid digest");
			break;
		}
		rc = check_or_rewrite(bs, sha, sqlite3_column_blob(s, 1),
				      (size_t)sqlite3_column_bytes(s, 1),
				      &redo);
		if (rc)
			break;
		again += redo;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = cora_sqlite_error(cat, step, "reading the blob journal");
	sqlite3_finalize(s);
	if (rewritten)
		*rewritten = again;
	return rc;
}

/* Deletes the rows up to seq `last` in a transaction of their own. */
static int drop_rows(struct cora_catalog *cat, int64_t last)
{
	sqlite3_stmt *s;
	int rc, step;

	rc = cora_tx_begin(cat);
	if (rc)
		return rc;
	s = cora_stmt(cat, "DELETE FROM blob_journal WHERE seq <= ?1");
	if (!s) {
		rc = cora_error_code();
		cora_tx_rollback(cat);
		return rc;
	}
	sqlite3_bind_int64(s, 1, last);
	step = sqlite3_step(s);
	sqlite3_reset(s);
	if (step != SQLITE_DONE) {
		rc = cora_sqlite_error(cat, step, "emptying the blob journal");
		cora_tx_rollback(cat);
		return rc;
	}
	return cora_tx_commit(cat);
}

int cora_blob_journal_flush(struct cora_catalog *cat,
			    struct cora_blobstore *bs, size_t *flushed,
			    size_t *rewritten)
{
	sqlite3_stmt *s;
	char **intact = NULL;
	size_t n = 0, cap = 0, done = 0, again = 0, i;
	int64_t last = 0;
	bool redo;
	int rc = 0, step;

	if (flushed)
		*flushed = 0;
	if (rewritten)
		*rewritten = 0;
	if (!bs->persist)
		return cora_error_set(CORA_EINVALID, "the %s blob store keeps no "
				      "journalled blobs", bs->name);
	/* a statement of its own: the walk calls into the store */
	step = sqlite3_prepare_v2(cat->db, "SELECT seq, sha256, content FROM"
				  " blob_journal ORDER BY seq", -1, &s, NULL);
	if (step != SQLITE_OK)
		return cora_sqlite_error(cat, step, "reading the blob journal");
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *sha = (const char *)sqlite3_column_text(s, 1);
		const void *content = sqlite3_column_blob(s, 2);
		size_t len = (size_t)sqlite3_column_bytes(s, 2);

		if (!sha || cora_text_sha256(sha, "sha256") != 0) {
			rc = cora_error_set(CORA_ECORRUPT, "the blob journal has "
					    "a row without a valid digest");
			break;
		}
		rc = check_or_rewrite(bs, sha, content, len, &redo);
		if (rc)
			break;
		if (!redo) {
			if (n == cap) {
				char **more = realloc(intact, (cap ? 2 * cap : 64) *
						      sizeof(*intact));
				if (!more) {
					rc = cora_error_set(CORA_ENOMEM,
							    "out of memory");
					break;
				}
				intact = more;
				cap = cap ? 2 * cap : 64;
			}
			intact[n] = strdup(sha);
			if (!intact[n]) {
				rc = cora_error_set(CORA_ENOMEM, "out of memory");
				break;
			}
			n++;
		}
		last = sqlite3_column_int64(s, 0);
		done++;
		again += redo;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = cora_sqlite_error(cat, step, "reading the blob journal");
	sqlite3_finalize(s);
	/* the rows up to `last` are checked (and rewritten ones durable):
	 * once the intact ones are durable too, the rows can go */
	if (last > 0) {
		int prc = n ? bs->persist(bs, (const char *const *)intact, n) : 0;
		if (prc == 0)
			prc = drop_rows(cat, last);
		if (prc) {
			done = 0;
			again = 0;
			if (rc == 0)
				rc = prc;
		}
	}
	for (i = 0; i < n; i++)
		free(intact[i]);
	free(intact);
	if (flushed)
		*flushed = done;
	if (rewritten)
		*rewritten = again;
	return rc;
}

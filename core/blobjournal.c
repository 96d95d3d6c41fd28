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

/* How far a walk of the journal got (check_rows). */
struct walk {
	bool keep_intact;        /* collect the digests found intact */
	char **intact;
	size_t n, cap;
	int64_t last;            /* seq of the last row checked, 0: none */
	size_t done, again;      /* rows checked, blobs written again */
};

static int keep(struct walk *w, const char *sha)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		char **more = realloc(w->intact, cap * sizeof(*more));
		if (!more)
			return cora_error_set(CORA_ENOMEM, "out of memory");
		w->intact = more;
		w->cap = cap;
	}
	w->intact[w->n] = strdup(sha);
	if (!w->intact[w->n])
		return cora_error_set(CORA_ENOMEM, "out of memory");
	w->n++;
	return 0;
}

static void walk_release(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->intact[i]);
	free(w->intact);
}

/* Checks the blob of every row in order, writing a lost or damaged one
 * again from its row; stops at the first failure, with *w saying how
 * far it got. */
static int check_rows(struct cora_catalog *cat, struct cora_blobstore *bs,
		      struct walk *w)
{
	sqlite3_stmt *s;
	bool redo;
	int rc = 0, step;

	/* a statement of its own: the walk calls into the store */
	step = sqlite3_prepare_v2(cat->db, "SELECT seq, sha256, content FROM"
				  " blob_journal ORDER BY seq", -1, &s, NULL);
	if (step != SQLITE_OK)
		return cora_sqlite_error(cat, step, "reading the blob journal");
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *sha = (const char *)sqlite3_column_text(s, 1);

		if (!sha || cora_text_sha256(sha, "sha256") != 0) {
			rc = cora_error_set(CORA_ECORRUPT, "the blob journal has "
					    "a row without a valid digest");
			break;
		}
		rc = check_or_rewrite(bs, sha, sqlite3_column_blob(s, 2),
				      (size_t)sqlite3_column_bytes(s, 2),
				      &redo);
		if (rc == 0 && !redo && w->keep_intact)
			rc = keep(w, sha);
		if (rc)
			break;
		w->last = sqlite3_column_int64(s, 0);
		w->done++;
		w->again += redo;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = cora_sqlite_error(cat, step, "reading the blob journal");
	sqlite3_finalize(s);
	return rc;
}

int cora_blob_journal_restore(struct cora_catalog *cat,
			      struct cora_blobstore *bs, size_t *rewritten)
{
	struct walk w = { .keep_intact = false };
	int rc = check_rows(cat, bs, &w);

	if (rewritten)
		*rewritten = w.again;
	walk_release(&w);
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
	struct walk w = { .keep_intact = true };
	int rc;

	if (flushed)
		*flushed = 0;
	if (rewritten)
		*rewritten = 0;
	if (!bs->persist)
		return cora_error_set(CORA_EINVALID, "the %s blob store keeps no "
				      "journalled blobs", bs->name);
	rc = check_rows(cat, bs, &w);
	/* the rows up to w.last are checked (and rewritten ones durable):
	 * once the intact ones are durable too, the rows can go */
	if (w.last > 0) {
		int prc = w.n ? bs->persist(bs, (const char *const *)w.intact,
					    w.n) : 0;
		if (prc == 0)
			prc = drop_rows(cat, w.last);
		if (prc) {
			w.done = 0;
			w.again = 0;
			if (rc == 0)
				rc = prc;
		}
	}
	if (flushed)
		*flushed = w.done;
	if (rewritten)
		*rewritten = w.again;
	walk_release(&w);
	return rc;
}

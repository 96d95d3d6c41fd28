/*
 * blobstore.h: content-addressed blob stores behind one table of functions.
 *
 * A blob is an immutable byte string named by the SHA-256 of its content,
 * written as 64 lowercase hex digits.  A blob store keeps blobs; where it
 * keeps them (a local folder, an S3 bucket, a local cache in front of S3)
 * is the business of the implementation behind struct cora_blobstore, a
 * versioned table of function pointers in the manner of libgit2's
 * git_odb_backend.  A decorator (the S3 read cache) holds a `next` store
 * and implements the same table, so callers never know which they have.
 *
 * Invariants every implementation keeps:
 *
 *   1. A blob is never visible under a digest its content does not hash
 *      to, and never visible partially written.  (Media corruption after
 *      the fact is what ->verify() is for.)
 *   2. A put returns 0 only once the blob is durable: it survives a crash
 *      or power cut from that moment on.  An event may name a blob only
 *      after its put returned 0 (DESIGN 3.3).
 *   3. Blobs are immutable: no op rewrites a stored blob in place.  A
 *      put of content already stored is a no-op that still returns 0
 *      (dedup) and still guarantees invariant 2 for the existing blob.
 *   4. A put with an expected digest stores nothing unless the content
 *      hashes to it; otherwise it returns CORA_EMISMATCH.
 *   5. Every op refuses a digest that is not 64 lowercase hex digits with
 *      CORA_EINVALID before touching storage (digests become paths and
 *      keys; "../x" must never reach the file system).
 *
 * Errors: 0 or a negative CORA_E* code with the thread-local message set
 * (core/error.h).  CORA_ENOTFOUND: no such blob.  CORA_EMISMATCH: content
 * and digest differ.  CORA_EINVALID: malformed digest or an op the store
 * does not have.  CORA_ENOMEM: allocation.  CORA_EIO: anything the
 * operating system or the network refused (ENOSPC, EIO, ...), with the
 * path or key and strerror in the message.
 *
 * Lifecycle and ownership:
 *
 *   - A store comes from its constructor (cora_blob_local_open(), later
 *     the S3 and cache constructors) into `**out`; the caller owns it and
 *     releases it with cora_blobstore_free().  Close every reader and
 *     finish every writer of a store before freeing it.
 *   - A writer comes from cora_blob_writer_new(); it is consumed by
 *     exactly one of cora_blob_writer_commit() (whatever it returns) or
 *     cora_blob_writer_abort().  After a failed write the writer is
 *     poisoned: further writes and the commit return the same code; the
 *     caller still commits or aborts it to free it.
 *   - A reader comes from cora_blob_open(); the caller owns it and
 *     releases it with cora_blob_reader_close().  A reader keeps reading
 *     the blob it opened even if the blob is deleted meanwhile.
 *   - Digests passed in are borrowed; digests passed out are written to
 *     caller buffers of CORA_SHA256_HEXLEN + 1 bytes.
 *
 * Thread safety: the store ops may be called from many threads at once on
 * the same store (the FUSE daemon is multithreaded; ingest runs in
 * parallel).  A writer is used by one thread at a time.  A reader may be
 * read from several threads at once (reads are positional, like pread);
 * closing it must not race with its reads.  Nothing here orders a delete
 * against a concurrent put of the same digest: a put may dedup against
 * the blob being deleted and report success.  Garbage collection must
 * therefore hold off writers, or only delete blobs that no put in flight
 * can produce (see docs and the GC design).
 *
 * Implementing a store: embed struct cora_blobstore as the first member
 * of your own struct, set .version = CORA_BLOBSTORE_VERSION and every op
 * (->path, ->adopt, ->stored_at, ->adopt_later and ->persist may be
 * NULL), and downcast in the
 * ops.  Readers and writers are embedded the same way.  A decorator calls
 * cora_blobstore_check() on the store it wraps.
 *
 *     struct cora_blobstore *bs;
 *     char sha[CORA_SHA256_HEXLEN + 1];
 *     uint64_t size;
 *
 *     if (cora_blob_local_open(&bs, "/cat/blobs") == 0 &&
 *         cora_blob_put_file(bs, "/data/scan.h5", NULL, sha, &size) == 0)
 *             ... append the event naming sha ...
 *     cora_blobstore_free(bs);
 *
 * The method signatures take the store (or reader/writer) first, inputs
 * next and out parameters last, like struct cora_ctx in aggregate.h; the
 * cora_blob_* wrappers below mirror them one to one.
 */
#ifndef CORA_BLOBSTORE_H
#define CORA_BLOBSTORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/hash.h"

/* Bumped whenever a member of struct cora_blobstore, cora_blob_writer or
 * cora_blob_reader changes meaning, position or signature. */
#define CORA_BLOBSTORE_VERSION 4

struct cora_blobstore;

/* A put in progress: bytes go in with ->write, the digest comes out of
 * ->commit.  The implementation buffers as it likes. */
struct cora_blob_writer {
	struct cora_blobstore *store; /* borrowed: the store written to */

	/* Appends n bytes.  On failure the writer is poisoned. */
	int (*write)(struct cora_blob_writer *w, const void *buf, size_t n);

	/* Makes the blob durable and visible, writes its digest and size
	 * (either may be NULL), and frees the writer whatever the result. */
	int (*commit)(struct cora_blob_writer *w,
		      char sha256[CORA_SHA256_HEXLEN + 1], uint64_t *size);

	/* Drops everything written and frees the writer. */
	void (*abort)(struct cora_blob_writer *w);
};

/* An open blob. */
struct cora_blob_reader {
	struct cora_blobstore *store; /* borrowed: the store read from */
	uint64_t size;                /* the blob's length in bytes */

	/* A read-only descriptor on the whole blob, or -1 when the store
	 * has none (S3).  Borrowed: it lives until ->close.  The FUSE daemon
	 * hands it to fuse_reply_data() for zero-copy reads. */
	int fd;

	/* Reads up to n bytes at offset; *nread < n only at the end of the
	 * blob (0 at or past it).  Safe from several threads at once. */
	int (*read)(struct cora_blob_reader *r, void *buf, size_t n,
		    uint64_t offset, size_t *nread);

	/* Releases the reader (and its fd). */
	void (*close)(struct cora_blob_reader *r);
};

/* Called by ->list once per blob; a non-zero return stops the walk and is
 * what ->list returns. */
typedef int (*cora_blob_list_fn)(const char *sha256, uint64_t size,
				 void *payload);

struct cora_blobstore {
	int version;      /* CORA_BLOBSTORE_VERSION */
	const char *name; /* "local", "s3", "cache": for messages */

	/* Stores the content of the file at path, copying it while hashing
	 * it (the file may change under us: what was copied is what was
	 * hashed).  expect_sha256 may be NULL; otherwise content that hashes
	 * to anything else is refused with CORA_EMISMATCH and nothing is
	 * stored.  A missing file is CORA_ENOTFOUND, a folder CORA_EISDIR.
	 * sha256 and size (either may be NULL) get the result. */
	int (*put_file)(struct cora_blobstore *bs, const char *path,
			const char *expect_sha256,
			char sha256[CORA_SHA256_HEXLEN + 1], uint64_t *size);

	/* Starts a streamed put; expect_sha256 as for ->put_file, checked
	 * at commit. */
	int (*writer_new)(struct cora_blobstore *bs, const char *expect_sha256,
			  struct cora_blob_writer **out);

	/* Opens a blob for reading; CORA_ENOTFOUND when absent. */
	int (*open)(struct cora_blobstore *bs, const char *sha256,
		    struct cora_blob_reader **out);

	/* One-shot ranged read: like opening, ->read, closing. */
	int (*read)(struct cora_blobstore *bs, const char *sha256, void *buf,
		    size_t n, uint64_t offset, size_t *nread);

	/* 0 and the size (size may be NULL) if the blob is stored,
	 * CORA_ENOTFOUND if not. */
	int (*exists)(struct cora_blobstore *bs, const char *sha256,
		      uint64_t *size);

	/* Removes a blob durably; CORA_ENOTFOUND when absent.  Open readers
	 * keep working.  See the thread-safety note about puts. */
	int (*del)(struct cora_blobstore *bs, const char *sha256);

	/* Calls fn(sha256, size, payload) for every stored blob, in no
	 * particular order.  Blobs put or deleted during the walk may or
	 * may not be seen. */
	int (*list)(struct cora_blobstore *bs, cora_blob_list_fn fn,
		    void *payload);

	/* Re-reads and re-hashes a blob: 0 if its content still hashes to
	 * its name, CORA_EMISMATCH (message naming the digest) if not. */
	int (*verify)(struct cora_blobstore *bs, const char *sha256);

	/* The file-system path where the blob is or would be stored,
	 * allocated into *out (caller frees).  NULL for stores without
	 * local files. */
	int (*path)(struct cora_blobstore *bs, const char *sha256, char **out);

	/* Optional (NULL when a store cannot): stores the file at path by
	 * moving it into the store instead of copying it.  The caller has
	 * hashed the content (sha256) and guarantees nobody writes the file
	 * any more.  The file is made durable (fsync), given mode 0444 and
	 * renamed to its final name (or dropped when the blob exists), and
	 * the folder fsynced, as for a put (L2, L3).  CORA_EXDEV-like
	 * failures (another file system) are CORA_EINVALID: copy instead.
	 * size (may be NULL) gets the blob's size. */
	int (*adopt)(struct cora_blobstore *bs, const char *path,
		     const char *sha256, uint64_t *size);

	/* Frees the store (and, for a decorator, the store it wraps if it
	 * took ownership of it: the constructor says). */
	void (*free)(struct cora_blobstore *bs);

	/* Optional (NULL when a store cannot tell; added in version 3):
	 * when the blob was stored, in seconds since the epoch (S3's
	 * Last-Modified).  Garbage collection keeps blobs younger than its
	 * grace period, which may belong to a write whose event has not
	 * committed yet; stores with ->path get that from the file instead.
	 * CORA_ENOTFOUND when absent. */
	int (*stored_at)(struct cora_blobstore *bs, const char *sha256,
			 int64_t *when);

	/* Optional (added in version 4, with ->persist; NULL when a store
	 * cannot): ->adopt without waiting for the disk.  The file gets its
	 * final name (complete and readable at once, by an atomic rename)
	 * but neither it nor its folder is fsynced, so a power cut may lose
	 * or damage it.  The one exception to invariant 2: the caller must
	 * hold a durable copy of the content elsewhere (the catalog's blob
	 * journal, catalog.h invariant 5) until ->persist returned 0. */
	int (*adopt_later)(struct cora_blobstore *bs, const char *path,
			   const char *sha256, uint64_t *size);

	/* Makes n stored blobs durable (their content and their names),
	 * all or none: 0 only when every one is.  CORA_ENOTFOUND when one
	 * is absent.  Does not check content (that is ->verify).  The local
	 * store fsyncs each file and each folder once, or, for many blobs,
	 * syncs the whole file system in one call (syncfs). */
	int (*persist)(struct cora_blobstore *bs, const char *const *sha256,
		       size_t n);
};

/*
 * The local store: a folder on a local file system.
 *
 * LOCAL STORE FORMAT (persistent; changing it needs a migration)
 *
 *     ROOT/                  mode 0700
 *       sha256/              mode 0700
 *         00/ .. ff/         mode 0700, all 256 made by cora_blob_local_open()
 *           <62 hex>         one blob, mode 0444: the content whose SHA-256
 *                            is the folder name followed by the file name
 *       tmp/                 mode 0700
 *         put-<16 hex>       a put in progress, or the remains of one
 *
 *   Names under sha256/ that are not 62 lowercase hex digits (editor
 *   droppings, lost+found) are ignored by every op.  ROOT is normally
 *   CATALOG/blobs (DESIGN 3.1).
 *
 * Invariants (numbered for reference from blob_local.c and its tests):
 *
 *   L1. A file under sha256/ holds the complete content its name
 *       digests; it got there by one atomic rename from tmp/ after its
 *       content was fsynced.  No partial file ever has a final name.
 *   L2. Write order of a put: content written and hashed in tmp/; file
 *       fsynced; then renamed into sha256/ab/; then sha256/ab/ fsynced;
 *       only then does the put return 0.  "Content durable before the
 *       name is visible, name durable before put returns."
 *   L3. A dedup put (the name already holds a file of the same size)
 *       drops its tmp file and still fsyncs sha256/ab/, so a put racing
 *       with the one that renamed never returns before the name is
 *       durable.  An existing file of the wrong size is damaged and is
 *       replaced by rename (same content, so readers see no change).
 *   L4. Nothing opens a file under sha256/ for writing; they are 0444.
 *   L5. tmp/ and sha256/ are on one file system (both under ROOT), so
 *       the rename is atomic.
 *   L6. A file in tmp/ is live while its writer holds flock(LOCK_EX) on
 *       it.  Cleanup removes only files whose lock it can take, while
 *       holding it; a writer that finds its fresh tmp file already
 *       unlinked (st_nlink == 0) after locking it starts over.  So
 *       cleanup is safe while other threads and processes write.
 *   L7. The 256 folders exist once open returned; a put that finds one
 *       missing (damaged store) makes it and fsyncs sha256/ first.
 *   L8. ->adopt_later renames without the fsyncs of L2, so until
 *       ->persist a power cut may leave its name with partial content
 *       (the exception to L1).  Only blobs whose content the catalog's
 *       journal holds are stored that way, and the journal's flush
 *       verifies each before persisting it (catalog.h invariant 5); the
 *       mount checks a blob's digest before serving it in any case.
 *
 * State of one put, and the function behind each transition:
 *
 *     (none) --writer_new: create tmp/put-X 0444, flock--> WRITING
 *     WRITING --write--> WRITING          (buffered; big writes go through)
 *     WRITING --abort, failure, digest mismatch: unlink tmp--> (none)
 *     WRITING --commit, same-size blob exists: unlink tmp,
 *                                          fsync ab/--> STORED
 *     WRITING --commit: fsync tmp--> DURABLE
 *     DURABLE --commit: rename tmp/put-X -> sha256/ab/c..--> VISIBLE
 *     VISIBLE --commit: fsync ab/--> STORED      (commit returns 0)
 *
 *   A crash in WRITING or DURABLE leaves a tmp file that cleanup removes.
 *   A crash (or a failed fsync) in VISIBLE leaves a whole blob whose name
 *   may or may not survive; the put did not return 0, so no event names
 *   it, and it is not removed because a concurrent put may have deduped
 *   against it.  Delete: unlink sha256/ab/c.., fsync ab/.
 */

/* Opens (creating as needed) the local store at root: ROOT, ROOT/sha256
 * and its 256 folders, ROOT/tmp; removes leftover tmp files (L6).
 * *out is owned by the caller (cora_blobstore_free()).  ->path is
 * provided; ->open readers have a file descriptor. */
int cora_blob_local_open(struct cora_blobstore **out, const char *root);

/* Removes abandoned files from ROOT/tmp (those no live writer holds,
 * L6); *removed (may be NULL) gets how many.  CORA_EINVALID when bs is
 * not a local store.  Safe while other threads and processes put. */
int cora_blob_local_cleanup(struct cora_blobstore *bs, size_t *removed);

/*
 * Kinds of store.  "local" is built in (CATALOG/blobs); other kinds live
 * in libraries above core (store/: "s3", wrapped in its local cache) and
 * are registered by the program at start (cora_store_register_all()), so
 * that core can open them without depending on them.  CATALOG/config's
 * `blobs` key names the kind.
 *
 * A factory builds a store of its kind for the catalog at root (the
 * CATALOG folder) from the catalog's config (a JSON object of strings),
 * into *out.  Registering an existing kind replaces it.  Registration is
 * meant for the start of main(); it and lookups are thread safe.
 */
typedef int (*cora_blobstore_factory)(struct cora_blobstore **out,
				      const char *root,
				      const json_t *config);

void cora_blobstore_register(const char *kind, cora_blobstore_factory f);

/* Opens the store of the given kind for the catalog at root: "local" is
 * ROOT/blobs, other kinds go to their factory.  An unknown kind is
 * CORA_EINVALID ("not supported by this build"). */
int cora_blobstore_open(struct cora_blobstore **out, const char *kind,
			const char *root, const json_t *config);

/* Checks a store's table version (for decorators and constructors that
 * receive a store from elsewhere): 0 or CORA_EINVALID. */
static inline int cora_blobstore_check(const struct cora_blobstore *bs)
{
	if (!bs || bs->version != CORA_BLOBSTORE_VERSION)
		return cora_error_set(CORA_EINVALID,
			"blob store '%s' has table version %d, not %d",
			bs && bs->name ? bs->name : "?", bs ? bs->version : 0,
			CORA_BLOBSTORE_VERSION);
	return 0;
}

/* The wrappers: one per op, same arguments. */

static inline int cora_blob_put_file(struct cora_blobstore *bs,
				     const char *path,
				     const char *expect_sha256,
				     char sha256[CORA_SHA256_HEXLEN + 1],
				     uint64_t *size)
{
	return bs->put_file(bs, path, expect_sha256, sha256, size);
}

static inline int cora_blob_writer_new(struct cora_blobstore *bs,
				       const char *expect_sha256,
				       struct cora_blob_writer **out)
{
	return bs->writer_new(bs, expect_sha256, out);
}

static inline int cora_blob_writer_write(struct cora_blob_writer *w,
					 const void *buf, size_t n)
{
	return w->write(w, buf, n);
}

static inline int cora_blob_writer_commit(struct cora_blob_writer *w,
					  char sha256[CORA_SHA256_HEXLEN + 1],
					  uint64_t *size)
{
	return w->commit(w, sha256, size);
}

static inline void cora_blob_writer_abort(struct cora_blob_writer *w)
{
	if (w)
		w->abort(w);
}

/* Stores a buffer: writer_new, one write, commit. */
static inline int cora_blob_put_buf(struct cora_blobstore *bs,
				    const void *buf, size_t n,
				    const char *expect_sha256,
				    char sha256[CORA_SHA256_HEXLEN + 1],
				    uint64_t *size)
{
	struct cora_blob_writer *w;
	int rc = bs->writer_new(bs, expect_sha256, &w);

	if (rc)
		return rc;
	rc = w->write(w, buf, n);
	if (rc) {
		w->abort(w);
		return rc;
	}
	return w->commit(w, sha256, size);
}

static inline int cora_blob_open(struct cora_blobstore *bs,
				 const char *sha256,
				 struct cora_blob_reader **out)
{
	return bs->open(bs, sha256, out);
}

/* The reader's file descriptor, or -1 when its store has none. */
static inline int cora_blob_reader_fd(const struct cora_blob_reader *r)
{
	return r->fd;
}

static inline uint64_t cora_blob_reader_size(const struct cora_blob_reader *r)
{
	return r->size;
}

static inline int cora_blob_reader_read(struct cora_blob_reader *r, void *buf,
					size_t n, uint64_t offset,
					size_t *nread)
{
	return r->read(r, buf, n, offset, nread);
}

static inline void cora_blob_reader_close(struct cora_blob_reader *r)
{
	if (r)
		r->close(r);
}

static inline int cora_blob_read(struct cora_blobstore *bs,
				 const char *sha256, void *buf, size_t n,
				 uint64_t offset, size_t *nread)
{
	return bs->read(bs, sha256, buf, n, offset, nread);
}

static inline int cora_blob_exists(struct cora_blobstore *bs,
				   const char *sha256, uint64_t *size)
{
	return bs->exists(bs, sha256, size);
}

static inline int cora_blob_delete(struct cora_blobstore *bs,
				   const char *sha256)
{
	return bs->del(bs, sha256);
}

static inline int cora_blob_list(struct cora_blobstore *bs,
				 cora_blob_list_fn fn, void *payload)
{
	return bs->list(bs, fn, payload);
}

static inline int cora_blob_verify(struct cora_blobstore *bs,
				   const char *sha256)
{
	return bs->verify(bs, sha256);
}

/* CORA_EINVALID when the store keeps no local files. */
static inline int cora_blob_path(struct cora_blobstore *bs,
				 const char *sha256, char **out)
{
	if (!bs->path) {
		*out = NULL;
		return cora_error_set(CORA_EINVALID,
			"blob store '%s' has no local paths", bs->name);
	}
	return bs->path(bs, sha256, out);
}

static inline void cora_blobstore_free(struct cora_blobstore *bs)
{
	if (bs)
		bs->free(bs);
}

#endif

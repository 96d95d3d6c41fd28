/*
 * write.c: the write side of the mount (DESIGN 1, "Writing through the
 * mount"): files written through staging and committed at flush/fsync,
 * and the namespace operations that become one event each.
 *
 * A file created here has no event until its first commit: it lives in
 * the pending table, with an inode number reserved from the catalog
 * (cora_ino_reserve) that its DatasetFileAdded event will carry, so the
 * number a writer saw is the number the file keeps.  After a crash a
 * pending file simply never existed; its staging file is removed at the
 * next start.  Commit order (catalog.h invariant 5): the blob is durable
 * in the store before the event that names it is appended.
 */
#include "fs/corafs.h"

#include "core/base64.h"
#include "core/blobstore.h"
#include "core/clock.h"
#include "core/command.h"
#include "core/error.h"
#include "core/fault.h"
#include "core/io.h"
#include "core/projection.h"
#include "core/text.h"
#include "fs/errno.h"
#include "fs/handle.h"
#include "fs/inode.h"
#include "fs/verify.h"
#include "schema/render.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fs_pending {
	struct fs_pending *next;
	uint64_t ino;               /* fuse inode */
	uint64_t parent;            /* fuse inode of its folder */
	char *name;
	struct fs_handle *h;        /* the handle that created it */
};

static struct corafs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static int64_t now_ns(void)
{
	return cora_time_us_to_ns(cora_clock_now_us());
}

/* ---- inode reservations ------------------------------------------------------ */

static pthread_mutex_t ino_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t ino_next, ino_end;

static int reserve_ino(struct cora_catalog *cat, int64_t *ino)
{
	int64_t first;
	int rc;

	pthread_mutex_lock(&ino_lock);
	if (ino_next >= ino_end) {
		rc = cora_ino_reserve(cat, 1024, &first);
		if (rc) {
			pthread_mutex_unlock(&ino_lock);
			return -fs_errno(rc);
		}
		ino_next = first;
		ino_end = first + 1024;
	}
	*ino = ino_next++;
	pthread_mutex_unlock(&ino_lock);
	return 0;
}

/* ---- pending table ------------------------------------------------------------ */

static void handle_free(struct fs_handle *h);

/* References to a handle: the open file holds one, the pending table
 * one, and an op that found the handle through the table one while it
 * works, so a release racing with it cannot free it under it. */
static void handle_get(struct fs_handle *h)
{
	__atomic_add_fetch(&h->refs, 1, __ATOMIC_SEQ_CST);
}

static void handle_put(struct fs_handle *h)
{
	if (h && __atomic_sub_fetch(&h->refs, 1, __ATOMIC_SEQ_CST) == 0)
		handle_free(h);
}

static void pending_add(struct corafs *fs, struct fs_pending *p)
{
	handle_get(p->h);
	pthread_mutex_lock(&fs->pending_lock);
	p->next = fs->pending;
	fs->pending = p;
	atomic_fetch_add(&fs->npending, 1);
	pthread_mutex_unlock(&fs->pending_lock);
}

static void pending_remove(struct corafs *fs, struct fs_handle *h)
{
	struct fs_pending **pp, *p;
	bool found = false;

	pthread_mutex_lock(&fs->pending_lock);
	for (pp = &fs->pending; (p = *pp); pp = &p->next) {
		if (p->h == h) {
			*pp = p->next;
			free(p->name);
			free(p);
			atomic_fetch_sub(&fs->npending, 1);
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&fs->pending_lock);
	if (found)
		handle_put(h); /* the table's reference; never the last */
}

/* The handle of a pending inode (or of a pending name), with a
 * reference the caller drops with handle_put(); NULL when not pending. */
static struct fs_handle *pending_handle(struct corafs *fs, fuse_ino_t ino,
					fuse_ino_t parent, const char *name)
{
	struct fs_pending *p;
	struct fs_handle *h = NULL;

	pthread_mutex_lock(&fs->pending_lock);
	for (p = fs->pending; p && !h; p = p->next)
		if (name ? p->parent == parent && strcmp(p->name, name) == 0 :
			   p->ino == ino)
			h = p->h;
	if (h)
		handle_get(h);
	pthread_mutex_unlock(&fs->pending_lock);
	return h;
}

static void pending_stat(struct corafs *fs, const struct fs_handle *h,
			 struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = h->ino;
	st->st_mode = S_IFREG | (h->mode & 07777);
	st->st_nlink = 1;
	st->st_uid = h->uid >= 0 ? (uid_t)h->uid : fs->uid;
	st->st_gid = h->gid >= 0 ? (gid_t)h->gid : fs->gid;
	st->st_size = (off_t)h->size;
	st->st_blksize = FS_BLKSIZE;
	st->st_blocks = (blkcnt_t)((h->size + 511) / 512);
	st->st_mtim.tv_sec = h->mtime_ns / 1000000000;
	st->st_mtim.tv_nsec = h->mtime_ns % 1000000000;
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

int fs_pending_lookup(struct corafs *fs, fuse_ino_t parent, const char *name,
		      struct stat *st)
{
	struct fs_pending *p;
	int rc = -ENOENT;

	pthread_mutex_lock(&fs->pending_lock);
	for (p = fs->pending; p; p = p->next) {
		if (p->parent == parent && strcmp(p->name, name) == 0) {
			pending_stat(fs, p->h, st);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&fs->pending_lock);
	return rc;
}

int fs_pending_getattr(struct corafs *fs, fuse_ino_t ino, struct stat *st)
{
	struct fs_pending *p;
	int rc = -ENOENT;

	if (atomic_load_explicit(&fs->npending, memory_order_relaxed) == 0)
		return -ENOENT;
	pthread_mutex_lock(&fs->pending_lock);
	for (p = fs->pending; p; p = p->next) {
		if (p->ino == ino) {
			pending_stat(fs, p->h, st);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&fs->pending_lock);
	return rc;
}

/* ---- where a write goes ---------------------------------------------------------- */

/* A folder of a dataset that may be written: its dataset and path. */
struct place {
	json_t *dataset;     /* state */
	char *path;          /* folder path inside the dataset, "" = root */
	const char *id;      /* dataset id (borrowed from dataset) */
	const char *slug;
};

static void place_release(struct place *pl)
{
	json_decref(pl->dataset);
	free(pl->path);
	memset(pl, 0, sizeof(*pl));
}

static bool frozen(const json_t *ds)
{
	const char *intent = cora_json_str(ds, "intent");
	const char *status = cora_json_str(ds, "status");

	return (intent && strcmp(intent, "Trial") != 0) ||
	       (status && strcmp(status, "Registered") != 0);
}

/* Whether the caller may write (catalog.h: the principal is the caller).
 * The user who mounted and root may; with allow_other, others only when
 * CATALOG/config names them: `writers = alice, bob, 1001`.  Also makes the
 * caller the principal of the events this request appends. */
int fs_may_write(fuse_req_t req, struct corafs *fs, struct cora_catalog *cat)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	const char *writers;
	char actor[37], *list, *tok, *save = NULL;
	bool ok;

	cora_actor_for_uid(actor, ctx->uid);
	cora_catalog_set_principal(cat, actor);
	if (ctx->uid == fs->uid || ctx->uid == 0)
		return 0;
	writers = cora_catalog_config(cat, "writers", NULL);
	if (!writers)
		return -EACCES;
	list = strdup(writers);
	ok = false;
	for (tok = strtok_r(list, ", \t", &save); tok && !ok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		struct passwd *pw = getpwnam(tok);
		char *end;
		unsigned long n = strtoul(tok, &end, 10);
		ok = (pw && pw->pw_uid == ctx->uid) ||
		     (*end == '\0' && end != tok && n == ctx->uid);
	}
	free(list);
	return ok ? 0 : -EACCES;
}

/* Resolves a folder inode for writing into: -EROFS for places that are
 * generated or frozen, -EPERM for datasets/ itself (only mkdir). */
static int writable_folder(fuse_req_t req, struct corafs *fs,
			   struct cora_catalog *cat, fuse_ino_t dir,
			   struct place *pl)
{
	int rc;

	memset(pl, 0, sizeof(*pl));
	if (fs->readonly)
		return -EROFS;
	rc = fs_may_write(req, fs, cat);
	if (rc)
		return rc;
	if (fs_ino_tag(dir) != FS_TAG_NODE)
		return dir == fs_ino(FS_TAG_FIXED, FS_DATASETS, 0) ? -EPERM :
		       -EROFS;
	rc = fs_node_path(cat, fs_ino_row(dir), &pl->dataset, &pl->path);
	if (rc)
		return rc;
	pl->id = cora_json_str(pl->dataset, "id");
	pl->slug = cora_json_str(pl->dataset, "slug");
	if (frozen(pl->dataset)) {
		place_release(pl);
		return -EROFS;
	}
	return 0;
}

static char *join_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s%s%s", dir, *dir ? "/" : "", name) < 0)
		return NULL;
	return p;
}

/* Checks a new name in a folder: valid, not reserved at a root. */
static int check_name(const struct place *pl, const char *name)
{
	if (strlen(name) > 255)
		return -ENAMETOOLONG;
	if (cora_text_name(name, "name") != 0)
		return -EINVAL;
	if (pl->path[0] == '\0' && cora_doc_reserved(name, strlen(name)))
		return -EPERM;
	return 0;
}

/* Runs one command on the dataset; -errno.  With `durable`, the commit
 * is synced (synchronous=FULL) before returning. */
static int run(struct cora_catalog *cat, const char *command,
	       const char *dataset_id, json_t *cmd, bool durable)
{
	int rc;

	if (durable)
		cora_exec_sql(cat, "PRAGMA synchronous=FULL");
	rc = cora_command(cat, command, dataset_id, cmd, NULL);
	if (durable)
		cora_exec_sql(cat, "PRAGMA synchronous=NORMAL");
	json_decref(cmd);
	return rc ? -fs_errno(rc) : 0;
}

/* The fuse inode of a dataset node by path (after a command made it). */
static int node_ino(struct cora_catalog *cat, const char *dataset_id,
		    const char *path, fuse_ino_t *ino)
{
	struct cora_node_info info;
	int rc = cora_node_get(cat, dataset_id, path, &info);

	if (rc)
		return -fs_errno(rc);
	*ino = fs_ino(FS_TAG_NODE, (uint64_t)info.ino, 0);
	return 0;
}

/* ---- hashing while data arrives ---------------------------------------------------
 *
 * A file written in order is hashed as its bytes arrive, so commit does
 * not read it again, and no byte is read back from the staging file:
 *
 *   1. A WRITE at the offset where the claimed bytes end claims its
 *      bytes (h->claimed) while it copies them to the staging file under
 *      h->lock, and replies: the writer goes on, and its next WRITE is
 *      copied by another thread.
 *   2. Then, still holding the request's buffer, it has the bytes hashed
 *      in their turn, once every earlier claim is (h->hashed reaches its
 *      offset): itself for the first HASH_BEHIND_FROM bytes (a small
 *      file pays for no thread), else by the handle's hasher thread,
 *      which stays on its CPU while the writer and the copies run on the
 *      other (hashing on whichever FUSE thread had the WRITE made those
 *      copies 3-4x slower: docs/performance.md, "Fourth pass"); the WRITE
 *      returns, freeing the buffer, when its bytes are hashed.
 *   3. Every WRITEBACK_STEP bytes hashed also start the kernel's writeback
 *      of the staging file (sync_file_range), so the fsync at commit finds
 *      little left to write.
 *
 * Writing behind.  On a write-only handle (which the kernel never reads
 * through, and whose pages it does not cache: write_open_flags) a claim
 * past HASH_BEHIND_FROM is not copied to the staging file before the
 * reply but after it, by the WRITE's thread, before its turn is queued:
 * with O_DIRECT from an aligned copy when offset and length are aligned
 * (no page cache: no fresh pages to fault in, no writeback left for the
 * fsync at commit), else by pwrite.  The reply then promises what a
 * local file system's write() promises: the bytes are taken, and an
 * error shows at close or fsync (h->lost, then h->error).  A big cp
 * thus keeps up to the FUSE threads' count of WRITEs in flight.
 *
 * Invariants, under h->hash_lock: hashed <= claimed, and claimed only
 * moves under h->lock too, so a thread holding h->lock sees it fixed;
 * a claim in flight holds a reference to the handle and keeps h->fd
 * and h->dfd open, and from when its bytes are in the staging file until
 * it is hashed its hash_turn is in h->turns; so hashed == claimed means
 * every byte claimed is written.  Only the turn that starts at `hashed`
 * touches h->hash and h->synced.  A write anywhere else, a truncate below
 * `claimed` (before it truncates: a write behind in flight must not land
 * after) or a failed write cancels the hash (hash_abandon): the turns in
 * flight end without hashing, and commit reads the staging file again.
 */
#define HASH_BEHIND_FROM (8u << 20)
#define WRITEBACK_STEP (16u << 20)
#define DIRECT_ALIGN 4096u          /* O_DIRECT: offsets, lengths, memory */
#define DIRECT_BUF (1u << 20)       /* a thread's aligned copy (max_write) */

/* A claim in flight, on the stack of the WRITE that made it. */
struct hash_turn {
	struct hash_turn *next;
	const void *buf;
	uint64_t off, n;
	bool behind;                /* hashed by the hasher thread */
	bool done;
	pthread_cond_t cond;        /* its turn came (or, behind, done) */
};

/* Hashes one turn's bytes, then starts writeback; called without
 * h->hash_lock, by the thread whose turn it is, which read `skip` (the
 * hash was cancelled) under it. */
static void hash_bytes(struct fs_handle *h, const struct hash_turn *t,
		       bool skip)
{
	uint64_t end = t->off + t->n;

	if (skip)
		return;
	cora_sha256_update(&h->hash, t->buf, (size_t)t->n);
	if (end - h->synced >= WRITEBACK_STEP) {
		/* only a head start for fsync: errors show there */
		(void)sync_file_range(h->fd, (off_t)h->synced,
				      (off_t)(end - h->synced),
				      SYNC_FILE_RANGE_WRITE);
		h->synced = end;
	}
}

/* Marks turn `t` hashed and wakes whoever goes next.  With
 * h->hash_lock held. */
static void hash_advance(struct fs_handle *h, struct hash_turn *t)
{
	struct hash_turn **p;

	for (p = &h->turns; *p != t; p = &(*p)->next)
		;
	*p = t->next;
	h->hashed = t->off + t->n;
	t->done = true;
	pthread_cond_signal(&t->cond);
	for (t = h->turns; t; t = t->next)
		if (t->off == h->hashed) {
			pthread_cond_signal(t->behind ? &h->hasher_cond :
					    &t->cond);
			break;
		}
	if (h->hashed == h->claimed)
		pthread_cond_broadcast(&h->hash_cond);
}

/* The turn that starts at `hashed`, when it is there. */
static struct hash_turn *hash_next(struct fs_handle *h)
{
	struct hash_turn *t;

	for (t = h->turns; t && t->off != h->hashed; t = t->next)
		;
	return t;
}

static void *hasher_main(void *arg)
{
	struct fs_handle *h = arg;
	struct hash_turn *t;
	bool skip;

	pthread_mutex_lock(&h->hash_lock);
	while (!h->hasher_stop) {
		t = hash_next(h);
		if (!t || !t->behind) {
			pthread_cond_wait(&h->hasher_cond, &h->hash_lock);
			continue;
		}
		skip = h->hash_cancel;
		pthread_mutex_unlock(&h->hash_lock);
		hash_bytes(h, t, skip);
		pthread_mutex_lock(&h->hash_lock);
		hash_advance(h, t);
	}
	pthread_mutex_unlock(&h->hash_lock);
	return NULL;
}

/* Waits until every claim in flight is hashed (or skipped), then ends
 * the hasher thread.  With h->lock held, so no claim comes meanwhile. */
static void hash_wait(struct fs_handle *h)
{
	bool join;

	pthread_mutex_lock(&h->hash_lock);
	while (h->hashed != h->claimed)
		pthread_cond_wait(&h->hash_cond, &h->hash_lock);
	join = h->hasher_on;
	if (join) {
		h->hasher_stop = true;
		pthread_cond_signal(&h->hasher_cond);
	}
	pthread_mutex_unlock(&h->hash_lock);
	if (!join)
		return; /* a small file: no thread to end */
	pthread_join(h->hasher, NULL);
	pthread_mutex_lock(&h->hash_lock);
	h->hasher_on = h->hasher_stop = false;
	pthread_mutex_unlock(&h->hash_lock);
}

/* Gives up the running hash: commit reads the file again.  With h->lock
 * held. */
static void hash_abandon(struct fs_handle *h)
{
	if (!h->hashing)
		return;
	pthread_mutex_lock(&h->hash_lock);
	h->hash_cancel = true;
	pthread_mutex_unlock(&h->hash_lock);
	hash_wait(h);
	cora_sha256_release(&h->hash);
	h->hashing = h->hash_cancel = false;
}

/* Starts the running hash of a new staging file. */
static void hash_start(struct fs_handle *h)
{
	h->hashing = cora_sha256_init(&h->hash) == 0;
	h->hashed = h->claimed = h->synced = 0;
}

/* Claims `n` bytes at `off` for the running hash, before they are
 * written: true when they continue it; the caller then hands them to
 * hash_claimed after its reply.  With h->lock held. */
static bool hash_claim(struct fs_handle *h, uint64_t off, uint64_t n)
{
	if (!h->hashing || n == 0)
		return false;
	if (off != h->claimed) {
		hash_abandon(h);
		return false;
	}
	pthread_mutex_lock(&h->hash_lock);
	h->claimed = off + n;
	pthread_mutex_unlock(&h->hash_lock);
	handle_get(h);
	return true;
}

/* Takes back the claim just made, whose bytes were not all written:
 * with h->lock held, so no later claim exists. */
static void hash_unclaim(struct fs_handle *h, uint64_t off)
{
	pthread_mutex_lock(&h->hash_lock);
	h->claimed = off;
	pthread_mutex_unlock(&h->hash_lock);
	handle_put(h);
	hash_abandon(h);
}

/* This thread's aligned buffer for O_DIRECT, kept for its life. */
static pthread_key_t direct_key;
static pthread_once_t direct_once = PTHREAD_ONCE_INIT;

static void direct_key_make(void)
{
	(void)pthread_key_create(&direct_key, free);
}

static void *direct_buffer(void)
{
	void *b;

	(void)pthread_once(&direct_once, direct_key_make);
	b = pthread_getspecific(direct_key);
	if (!b && posix_memalign(&b, DIRECT_ALIGN, DIRECT_BUF) == 0 &&
	    pthread_setspecific(direct_key, b) != 0) {
		free(b);
		b = NULL;
	}
	return b;
}

/* Writes a claim's bytes behind its reply (see above): 0 or -errno. */
static int write_behind(struct fs_handle *h, const void *buf, uint64_t off,
			uint64_t n)
{
	char *b = NULL;
	size_t k;
	int rc = 0;

	if (CORA_FAULT(CORA_FAULT_WRITE))
		return -ENOSPC;
	if (h->dfd >= 0 && off % DIRECT_ALIGN == 0 && n % DIRECT_ALIGN == 0)
		b = direct_buffer();
	if (!b)
		return cora_pwrite_full(h->fd, buf, (size_t)n, off) ? -errno : 0;
	while (rc == 0 && n > 0) {
		k = n < DIRECT_BUF ? (size_t)n : DIRECT_BUF;
		memcpy(b, buf, k);
		rc = cora_pwrite_full(h->dfd, b, k, off) ? -errno : 0;
		buf = (const char *)buf + k;
		n -= k;
		off += k;
	}
	return rc;
}

/* Has the claimed bytes [off, off + n) hashed from `buf` in their turn
 * (with `behind`, written to the staging file first), and drops the
 * claim's reference.  Without h->lock. */
static void hash_claimed(struct fs_handle *h, const void *buf, uint64_t off,
			 uint64_t n, bool behind)
{
	struct hash_turn t = { .buf = buf, .off = off, .n = n,
			       .behind = off >= HASH_BEHIND_FROM };
	bool skip;
	int rc = behind ? write_behind(h, buf, off, n) : 0;

	pthread_cond_init(&t.cond, NULL);
	pthread_mutex_lock(&h->hash_lock);
	if (rc) {
		/* taken but lost: the file is not what was written */
		if (!h->lost)
			h->lost = rc;
		h->hash_cancel = true;
	}
	t.next = h->turns;
	h->turns = &t;
	if (t.behind && !h->hasher_on)
		h->hasher_on = pthread_create(&h->hasher, NULL, hasher_main,
					      h) == 0;
	if (t.behind && !h->hasher_on)
		t.behind = false; /* no thread: hashed here */
	if (t.behind) {
		if (h->hashed == off)
			pthread_cond_signal(&h->hasher_cond);
		while (!t.done)
			pthread_cond_wait(&t.cond, &h->hash_lock);
	} else {
		while (h->hashed != off)
			pthread_cond_wait(&t.cond, &h->hash_lock);
		skip = h->hash_cancel;
		pthread_mutex_unlock(&h->hash_lock);
		hash_bytes(h, &t, skip);
		pthread_mutex_lock(&h->hash_lock);
		hash_advance(h, &t);
	}
	pthread_mutex_unlock(&h->hash_lock);
	pthread_cond_destroy(&t.cond);
	handle_put(h);
}

/* ---- staging ------------------------------------------------------------------ */

static atomic_uint_fast64_t staging_serial;

static int staging_open(struct corafs *fs, struct fs_handle *h)
{
	char *name;

	if (asprintf(&name, "%s/w-%d-%llu", fs->staging, (int)getpid(),
		     (unsigned long long)atomic_fetch_add(&staging_serial, 1)) < 0)
		return -ENOMEM;
	h->fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (h->fd < 0) {
		int e = errno;
		free(name);
		return -e;
	}
	h->staging = name;
	hash_start(h);
	return 0;
}

/* A second descriptor of the staging file, for O_DIRECT writes behind:
 * -2 where the file system has no O_DIRECT (then pwrite, never asked
 * again). */
static int staging_open_direct(struct fs_handle *h)
{
	int fd = open(h->staging, O_WRONLY | O_DIRECT | O_CLOEXEC);

	return fd >= 0 ? fd : -2;
}

static void staging_close_direct(struct fs_handle *h)
{
	if (h->dfd >= 0)
		close(h->dfd);
	h->dfd = -1;
}

static void staging_drop(struct fs_handle *h)
{
	hash_abandon(h); /* first: claims in flight use the staging file */
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	staging_close_direct(h);
	if (h->staging) {
		unlink(h->staging);
		free(h->staging);
		h->staging = NULL;
	}
}

/* Makes the handle DIRTY with a staging file holding the current
 * content (or none, with `truncate`). */
static int make_dirty(struct corafs *fs, struct fs_handle *h, bool truncate)
{
	char *buf;
	uint64_t off = 0;
	size_t n;
	int rc;

	if (h->dirty)
		return 0;
	rc = staging_open(fs, h);
	if (rc)
		return rc;
	if (!truncate && h->size > 0) {
		struct cora_blob_reader *r = h->reader;
		bool own = false;

		if (!r) {
			rc = cora_blob_open(fs->blobs, h->sha256, &r);
			if (rc) {
				staging_drop(h);
				return -fs_errno(rc);
			}
			own = true;
		}
		buf = malloc(1 << 20);
		rc = buf ? 0 : -ENOMEM;
		while (rc == 0 && off < h->size) {
			rc = r->read(r, buf, 1 << 20, off, &n);
			if (rc) {
				rc = -fs_errno(rc);
				break;
			}
			if (n == 0)
				break;
			if (pwrite(h->fd, buf, n, (off_t)off) != (ssize_t)n) {
				rc = -EIO;
				break;
			}
			if (h->hashing)
				cora_sha256_update(&h->hash, buf, n);
			off += n;
		}
		h->hashed = h->claimed = off;
		free(buf);
		if (own)
			r->close(r);
		if (rc) {
			staging_drop(h);
			return rc;
		}
	}
	if (truncate)
		h->size = 0;
	h->dirty = true;
	return 0;
}

/* Digest of the staging file: from the running hash when every byte
 * arrived in order, else by reading it again. */
static int staging_digest(struct fs_handle *h, char sha[65])
{
	struct cora_sha256 c;
	char *buf;
	uint64_t off = 0;
	ssize_t n;

	hash_wait(h);
	if (h->hashing && h->hashed == h->size) {
		cora_sha256_final(&h->hash, sha);
		h->hashing = false;
		return 0;
	}
	hash_abandon(h);
	if (cora_sha256_init(&c) != 0)
		return -ENOMEM;
	buf = malloc(1 << 20);
	if (!buf) {
		cora_sha256_release(&c);
		return -ENOMEM;
	}
	while (off < h->size) {
		n = pread(h->fd, buf, 1 << 20, (off_t)off);
		if (n <= 0) {
			free(buf);
			cora_sha256_release(&c);
			return n < 0 ? -errno : -EIO;
		}
		cora_sha256_update(&c, buf, (size_t)n);
		off += (uint64_t)n;
	}
	free(buf);
	cora_sha256_final(&c, sha);
	return 0;
}

/* DIRTY -> CLEAN: the blob made durable, then the event appended.
 * Called with h->lock held. */
/* The whole staging file in memory (for the blob journal), or NULL. */
static void *staging_content(struct fs_handle *h)
{
	char *buf = malloc(h->size ? h->size : 1);
	uint64_t off = 0;
	ssize_t n;

	while (buf && off < h->size) {
		n = pread(h->fd, buf + off, h->size - off, (off_t)off);
		if (n <= 0) {
			free(buf);
			return NULL; /* then the blob is fsynced instead */
		}
		off += (uint64_t)n;
	}
	return buf;
}

/* The mode a commit records: the one set through this handle, else the
 * node's own (a chmod by path while the file was open for writing, the
 * kernel's removal of set-user-ID before a write, must not be undone by
 * the commit), less set-user-ID and set-group-ID (the latter only with
 * group execute, as for local files) when someone other than root wrote:
 * the kernel does not do that for direct_io writes. */
static uint32_t commit_mode(struct cora_catalog *cat, struct fs_handle *h)
{
	struct cora_node_info info;
	uint32_t mode = h->mode;

	if (!h->pending && !h->mode_set &&
	    cora_node_get(cat, h->dataset_id, h->path, &info) == 0)
		mode = info.mode;
	if (h->kill_priv) {
		mode &= ~(uint32_t)S_ISUID;
		if (mode & S_IXGRP)
			mode &= ~(uint32_t)S_ISGID;
	}
	return mode & 07777;
}

static int commit(struct corafs *fs, struct cora_catalog *cat,
		  struct fs_handle *h, bool durable)
{
	char sha[65];
	uint64_t size;
	void *content = NULL;
	bool journal, priv_dropped;
	uint32_t mode;
	json_t *cmd;
	int rc;

	if (h->error)
		return h->error;
	if (!h->dirty)
		return 0;
	hash_wait(h); /* every write behind has landed, or is lost */
	if (h->lost)
		return h->error = h->lost;
	if (ftruncate(h->fd, (off_t)h->size) != 0)
		return -errno;
	rc = staging_digest(h, sha);
	if (rc)
		return rc;
	/* A small file closed (not fsynced) goes to the store without
	 * fsyncs and to the blob journal in the event's transaction
	 * (catalog.h invariant 5): one WAL write where two fsyncs were. */
	if (!durable && h->size <= CORA_JOURNAL_MAX &&
	    fs->blobs->adopt_later && fs->blobs->persist)
		content = staging_content(h);
	/* the staging file becomes the blob (no second copy) when the
	 * store can take it; else it is copied */
	if (content)
		rc = fs->blobs->adopt_later(fs->blobs, h->staging, sha, &size);
	else
		rc = fs->blobs->adopt ? fs->blobs->adopt(fs->blobs, h->staging,
							 sha, &size) :
		     CORA_EINVALID;
	if (rc == CORA_EINVALID) {
		free(content); /* another file system: a durable copy */
		content = NULL;
		rc = cora_blob_put_file(fs->blobs, h->staging, sha, NULL, &size);
	}
	journal = content != NULL;
	if (rc == 0 && journal && (rc = cora_tx_begin(cat)) == 0 &&
	    (rc = cora_blob_journal_add(cat, sha, content, size)) != 0)
		cora_tx_rollback(cat);
	free(content);
	if (rc)
		return -fs_errno(rc);
	mode = commit_mode(cat, h);
	priv_dropped = h->mode & ~mode & (S_ISUID | S_ISGID);
	h->mode = mode;
	cmd = json_pack("{s:s, s:s, s:I, s:i, s:I}", "path", h->path,
			"sha256", sha, "size", (json_int_t)size, "mode",
			(int)(h->mode & 07777), "mtime_ns",
			(json_int_t)h->mtime_ns);
	if (h->pending) {
		json_object_set_new(cmd, "ino", json_integer(
			(json_int_t)fs_ino_row(h->ino)));
		if (h->uid >= 0)
			json_object_set_new(cmd, "uid", json_integer(h->uid));
		if (h->gid >= 0)
			json_object_set_new(cmd, "gid", json_integer(h->gid));
	}
	cora_catalog_set_principal(cat, h->principal);
	rc = run(cat, "dataset.put_file", h->dataset_id, cmd, durable);
	if (journal && rc == 0 && (rc = cora_tx_commit(cat)) != 0)
		rc = -fs_errno(rc);
	else if (journal && rc)
		cora_tx_rollback(cat);
	if (journal && rc == 0)
		atomic_fetch_add(&fs->journalled, 1);
	if (rc) {
		/* The staging file may be the blob now: never write through
		 * that descriptor again.  Start a fresh staging copy so the
		 * handle stays DIRTY and a later flush can try again. */
		int keep = h->fd;
		hash_abandon(h);
		h->fd = -1;
		close(keep);
		staging_close_direct(h);
		free(h->staging);
		h->staging = NULL;
		memcpy(h->sha256, sha, sizeof(sha));
		h->dirty = false;
		if (make_dirty(fs, h, false) != 0)
			h->error = rc;
		return rc;
	}
	if (h->pending) {
		pending_remove(fs, h);
		h->pending = false;
	}
	memcpy(h->sha256, sha, sizeof(sha));
	fs_verify_good(sha);
	if (priv_dropped && fs->se) /* the kernel still has the old mode */
		fuse_lowlevel_notify_inval_inode(fs->se, h->ino, -1, 0);
	h->dirty = false;
	staging_drop(h);
	if (h->reader) {
		h->reader->close(h->reader);
		h->reader = NULL;
	}
	return 0;
}

static void handle_free(struct fs_handle *h)
{
	staging_drop(h);
	if (h->reader)
		h->reader->close(h->reader);
	pthread_cond_destroy(&h->hash_cond);
	pthread_mutex_destroy(&h->hash_lock);
	pthread_cond_destroy(&h->hasher_cond);
	pthread_mutex_destroy(&h->lock);
	free(h->dataset_id);
	free(h->path);
	free(h->doc);
	free(h);
}

static struct fs_handle *handle_new(uint64_t ino, enum fs_handle_kind kind)
{
	struct fs_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->kind = kind;
	h->ino = ino;
	h->fd = h->dfd = -1;
	h->uid = h->gid = -1;
	h->refs = 1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->hash_cond, NULL);
	pthread_mutex_init(&h->hash_lock, NULL);
	pthread_cond_init(&h->hasher_cond, NULL);
	return h;
}

/* ---- create, open, read, write, flush, fsync, release --------------------------- */

/* A write handle's reply flags.  The kernel's pages of the file are
 * dropped at open (keep_cache off): the content is about to change.
 * A descriptor opened write-only can neither read nor be mapped, so the
 * kernel's page cache could never serve it: direct_io sends the
 * writer's pages straight to the daemon, one copy fewer per WRITE and
 * no second copy of a big file in memory (cp of 2 GiB: 4.8-6.4 s ->
 * 2.2-2.5 s, docs/performance.md).  O_RDWR keeps the page cache, for
 * mmap. */
static void write_open_flags(struct fuse_file_info *fi, struct fs_handle *h)
{
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->keep_cache = 0;
	fi->direct_io = (fi->flags & O_ACCMODE) == O_WRONLY;
	h->write_only = fi->direct_io;
}

void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
	       mode_t mode, struct fuse_file_info *fi)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat = fs_cat(fs);
	struct fuse_entry_param ep;
	struct cora_node_info info;
	struct fs_pending *p = NULL;
	struct fs_handle *h = NULL;
	struct place pl;
	int64_t ino = 0;
	char *path = NULL;
	int rc;

	if (!cat) {
		fuse_reply_err(req, EIO);
		return;
	}
	rc = writable_folder(req, fs, cat, parent, &pl);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	rc = check_name(&pl, name);
	if (rc == 0 && !(path = join_path(pl.path, name)))
		rc = -ENOMEM;
	if (rc == 0 && cora_node_get(cat, pl.id, path, &info) == 0)
		rc = -EEXIST;
	if (rc == 0 && fs_pending_lookup(fs, parent, name, &ep.attr) == 0)
		rc = -EEXIST;
	if (rc == 0)
		rc = reserve_ino(cat, &ino);
	if (rc == 0) {
		h = handle_new(fs_ino(FS_TAG_NODE, (uint64_t)ino, 0), FS_H_WRITE);
		p = calloc(1, sizeof(*p));
		if (!h || !p)
			rc = -ENOMEM;
	}
	if (rc == 0) {
		h->dataset_id = strdup(pl.id);
		h->path = path;
		path = NULL;
		h->pending = true;
		h->uid = fuse_req_ctx(req)->uid;
		h->gid = fuse_req_ctx(req)->gid;
		memcpy(h->principal, cat->principal, sizeof(h->principal));
		h->mode = mode & 07777;
		h->mtime_ns = now_ns();
		rc = make_dirty(fs, h, true);
	}
	if (rc) {
		if (h)
			handle_free(h);
		free(p);
		free(path);
		place_release(&pl);
		fuse_reply_err(req, -rc);
		return;
	}
	place_release(&pl);
	p->ino = h->ino;
	p->parent = parent;
	p->name = strdup(name);
	p->h = h;
	pending_add(fs, p);
	memset(&ep, 0, sizeof(ep));
	ep.ino = h->ino;
	pending_stat(fs, h, &ep.attr);
	write_open_flags(fi, h);
	fuse_reply_create(req, &ep, fi);
}

/* A committed file opened for reading: its blob, by inode (one indexed
 * query), verified once (verify.c); reads go zero-copy from the blob. */
static int open_reader(struct corafs *fs, struct cora_catalog *cat,
		       fuse_ino_t ino, struct fuse_file_info *fi)
{
	sqlite3_stmt *s = cora_stmt(cat, "SELECT type, sha256 FROM nodes"
				    " WHERE ino = ?1");
	struct fs_handle *h;
	char sha[65] = "", type = 0;
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, (int64_t)fs_ino_row(ino));
	if (sqlite3_step(s) == SQLITE_ROW) {
		type = (char)sqlite3_column_text(s, 0)[0];
		if (sqlite3_column_text(s, 1))
			snprintf(sha, sizeof(sha), "%s",
				 (const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_reset(s);
	if (type != 'f')
		return type == 0 ? -ENOENT : type == 'd' ? -EISDIR : -ELOOP;
	h = handle_new(ino, FS_H_BLOB);
	if (!h)
		return -ENOMEM;
	rc = cora_blob_open(fs->blobs, sha, &h->reader);
	if (rc == 0 && fs_verify_open(fs->blobs, sha, h->reader->size) != 0)
		rc = CORA_EMISMATCH; /* corrupt: EIO, never bad bytes */
	if (rc) {
		handle_free(h);
		return rc == CORA_EMISMATCH ? -EIO : -fs_errno(rc);
	}
	memcpy(h->sha256, sha, sizeof(h->sha256));
	fi->fh = (uint64_t)(uintptr_t)h;
	/* content changes only by events, and the watcher invalidates the
	 * page cache when one does; nothing to flush at close */
	fi->keep_cache = 1;
	fi->noflush = 1;
	return 0;
}

int fs_open_file(struct corafs *fs, struct cora_catalog *cat, fuse_ino_t ino,
		 struct fuse_file_info *fi)
{
	struct cora_node_info info;
	struct fs_handle *h;
	json_t *ds = NULL;
	char *path = NULL;
	struct stat st;
	int rc;

	if (fs_pending_getattr(fs, ino, &st) == 0)
		return -EBUSY; /* being written by another open: commit first */
	if ((fi->flags & O_ACCMODE) == O_RDONLY)
		return open_reader(fs, cat, ino, fi);
	rc = fs_node_path(cat, fs_ino_row(ino), &ds, &path);
	if (rc)
		return rc;
	rc = cora_node_get(cat, cora_json_str(ds, "id"), path, &info);
	if (rc) {
		rc = -fs_errno(rc);
		goto out;
	}
	if (info.type != 'f') {
		rc = info.type == 'd' ? -EISDIR : -ELOOP;
		goto out;
	}
	if (fs->readonly || frozen(ds)) {
		rc = -EROFS;
		goto out;
	}
	h = handle_new(ino, FS_H_WRITE);
	if (!h) {
		rc = -ENOMEM;
		goto out;
	}
	h->dataset_id = strdup(cora_json_str(ds, "id"));
	h->path = path;
	path = NULL;
	memcpy(h->principal, cat->principal, sizeof(h->principal));
	memcpy(h->sha256, info.sha256, sizeof(h->sha256));
	h->size = (uint64_t)info.size;
	h->mode = info.mode;
	h->mtime_ns = info.mtime_ns;
	if (fi->flags & O_TRUNC) {
		rc = make_dirty(fs, h, true);
		h->mtime_ns = now_ns();
		if (rc) {
			handle_free(h);
			goto out;
		}
	}
	write_open_flags(fi, h);
out:
	json_decref(ds);
	free(path);
	return rc;
}

void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	     struct fuse_file_info *fi)
{
	struct corafs *fs = fs_of(req);
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	int rc;

	if (h->kind == FS_H_WRITE) {
		pthread_mutex_lock(&h->lock);
		if (!h->dirty && !h->reader && h->size > 0) {
			rc = cora_blob_open(fs->blobs, h->sha256, &h->reader);
			if (rc) {
				pthread_mutex_unlock(&h->lock);
				fuse_reply_err(req, fs_errno(rc));
				return;
			}
		}
		if (h->dirty) {
			/* from staging; the fd outlives this reply only
			 * because we copy through a buffer here */
			char *b = malloc(size ? size : 1);
			ssize_t n = b ? pread(h->fd, b, size, off) : -1;
			pthread_mutex_unlock(&h->lock);
			if (n < 0)
				fuse_reply_err(req, b ? errno : ENOMEM);
			else
				fuse_reply_buf(req, b, (size_t)n);
			free(b);
			return;
		}
		pthread_mutex_unlock(&h->lock);
		if (!h->reader) {
			fuse_reply_buf(req, NULL, 0);
			return;
		}
	}
	if (h->kind == FS_H_BLOB && fs_verify_bad(h->sha256)) {
		fuse_reply_err(req, EIO);
		return;
	}
	if (h->reader->fd >= 0) {
		/* zero-copy: the kernel reads the blob's descriptor */
		buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		buf.buf[0].fd = h->reader->fd;
		buf.buf[0].pos = off;
		fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
		return;
	}
	{
		char *b = malloc(size ? size : 1);
		size_t n = 0;
		rc = b ? h->reader->read(h->reader, b, size, (uint64_t)off, &n) :
			 CORA_ENOMEM;
		if (rc)
			fuse_reply_err(req, fs_errno(rc));
		else
			fuse_reply_buf(req, b, n);
		free(b);
	}
}

void fs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv,
		  off_t off, struct fuse_file_info *fi)
{
	struct corafs *fs = fs_of(req);
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	size_t total = fuse_buf_size(bufv);
	struct fuse_bufvec dst = FUSE_BUFVEC_INIT(total);
	bool mem, claimed, behind;
	ssize_t n;
	int rc;

	if (!h || h->kind != FS_H_WRITE) {
		fuse_reply_err(req, EBADF);
		return;
	}
	pthread_mutex_lock(&h->lock);
	rc = make_dirty(fs, h, false);
	if (rc) {
		pthread_mutex_unlock(&h->lock);
		fuse_reply_err(req, -rc);
		return;
	}
	/* in order: claimed for the hash here, hashed after the reply; out
	 * of order (an overwrite of hashed bytes, or a gap): hashed again at
	 * commit */
	mem = bufv->count == 1 && !(bufv->buf[0].flags & FUSE_BUF_IS_FD);
	if (!mem)
		hash_abandon(h);
	claimed = hash_claim(h, (uint64_t)off, total);
	behind = claimed && h->write_only && (uint64_t)off >= HASH_BEHIND_FROM;
	if (behind && h->dfd == -1)
		h->dfd = staging_open_direct(h);
	dst.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	dst.buf[0].fd = h->fd;
	dst.buf[0].pos = off;
	n = behind ? (ssize_t)total : fuse_buf_copy(&dst, bufv, 0);
	if (claimed && (size_t)n != total) {
		hash_unclaim(h, (uint64_t)off);
		claimed = false;
	}
	if (n >= 0) {
		h->written = true;
		if (fuse_req_ctx(req)->uid != 0)
			h->kill_priv = true;
		if ((uint64_t)off + (uint64_t)n > h->size)
			h->size = (uint64_t)off + (uint64_t)n;
		if (!h->mtime_set)
			h->mtime_ns = now_ns();
	}
	pthread_mutex_unlock(&h->lock);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
	if (claimed)
		hash_claimed(h, bufv->buf[0].mem, (uint64_t)off, total, behind);
}

void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct corafs *fs = fs_of(req);
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	struct cora_catalog *cat;
	int rc = 0;

	if (!h || h->kind != FS_H_WRITE) {
		fuse_reply_err(req, 0);
		return;
	}
	cat = fs_cat(fs);
	pthread_mutex_lock(&h->lock);
	/* a new file nobody wrote yet: at release (handle.h) */
	if (!(h->pending && !h->written))
		rc = cat ? commit(fs, cat, h, false) : -EIO;
	pthread_mutex_unlock(&h->lock);
	fuse_reply_err(req, -rc);
}

void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	      struct fuse_file_info *fi)
{
	struct corafs *fs = fs_of(req);
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	struct cora_catalog *cat = fs_cat(fs);
	int rc = 0;

	if (!cat) {
		fuse_reply_err(req, EIO);
		return;
	}
	if (h && h->kind == FS_H_WRITE) {
		pthread_mutex_lock(&h->lock);
		if (h->dirty)
			rc = commit(fs, cat, h, true);
		pthread_mutex_unlock(&h->lock);
	}
	/* an earlier commit at close used synchronous=NORMAL: a checkpoint
	 * syncs the write-ahead log first, so it is durable after this */
	if (rc == 0 && sqlite3_wal_checkpoint_v2(cat->db, NULL,
						 SQLITE_CHECKPOINT_PASSIVE,
						 NULL, NULL) != SQLITE_OK)
		rc = -EIO;
	fuse_reply_err(req, -rc);
}

void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct corafs *fs = fs_of(req);
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	struct cora_catalog *cat = fs_cat(fs);
	int rc;

	if (!h) {
		fuse_reply_err(req, 0);
		return;
	}
	if (h->kind == FS_H_WRITE) {
		pthread_mutex_lock(&h->lock);
		if (h->dirty && cat && !h->unlinked) {
			/* close() has returned already: a failure here can
			 * only be logged (flush reported it first) */
			rc = commit(fs, cat, h, false);
			if (rc)
				fprintf(stderr, "corafs: '%s' was not saved: "
					"%s\n", h->path, strerror(-rc));
		}
		pthread_mutex_unlock(&h->lock);
		if (h->pending)
			pending_remove(fs, h);
	}
	handle_put(h);
	fuse_reply_err(req, 0);
}

/* ---- namespace --------------------------------------------------------------------- */

void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
	      mode_t mode)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat = fs_cat(fs);
	struct place pl;
	fuse_ino_t ino = 0;
	char *path;
	json_t *cmd;
	int rc;

	if (!cat) {
		fuse_reply_err(req, EIO);
		return;
	}
	if (parent == fs_ino(FS_TAG_FIXED, FS_DATASETS, 0) && !fs->readonly) {
		/* registers a Trial dataset */
		rc = fs_may_write(req, fs, cat);
		if (rc) {
			fuse_reply_err(req, -rc);
			return;
		}
		cmd = json_pack("{s:s}", "slug", name);
		rc = cora_command(cat, "dataset.register", NULL, cmd, NULL);
		json_decref(cmd);
		if (rc) {
			fuse_reply_err(req, fs_errno(rc));
			return;
		}
		{
			json_t *ds;
			rc = cora_entity_get(cat, "Dataset", name, &ds, NULL,
					     NULL);
			if (rc == 0) {
				rc = node_ino(cat, cora_json_str(ds, "id"), "",
					      &ino);
				json_decref(ds);
			} else {
				rc = -fs_errno(rc);
			}
		}
		if (rc == 0)
			rc = fs_reply_entry(req, fs, cat, ino);
		if (rc)
			fuse_reply_err(req, -rc);
		return;
	}
	rc = writable_folder(req, fs, cat, parent, &pl);
	if (rc == 0)
		rc = check_name(&pl, name);
	if (rc) {
		place_release(&pl);
		fuse_reply_err(req, -rc);
		return;
	}
	path = join_path(pl.path, name);
	cmd = json_pack("{s:s, s:i, s:I, s:I, s:I}", "path", path, "mode",
			(int)(mode & 07777), "mtime_ns", (json_int_t)now_ns(),
			"uid", (json_int_t)fuse_req_ctx(req)->uid, "gid",
			(json_int_t)fuse_req_ctx(req)->gid);
	rc = run(cat, "dataset.add_folder", pl.id, cmd, false);
	if (rc == 0)
		rc = node_ino(cat, pl.id, path, &ino);
	if (rc == 0)
		rc = fs_reply_entry(req, fs, cat, ino);
	if (rc)
		fuse_reply_err(req, -rc);
	free(path);
	place_release(&pl);
}

/* rm and rmdir: one event each. */
static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
			 bool folder)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat = fs_cat(fs);
	struct fs_handle *ph;
	struct place pl;
	char *path;
	json_t *cmd;
	int rc;

	if (!cat) {
		fuse_reply_err(req, EIO);
		return;
	}
	rc = writable_folder(req, fs, cat, parent, &pl);
	if (rc) {
		/* datasets/X: discarding needs a reason: use cora */
		fuse_reply_err(req, rc == -EPERM ? EPERM : -rc);
		return;
	}
	if (!folder && (ph = pending_handle(fs, 0, parent, name))) {
		/* a file still being written: it never gets an event */
		pthread_mutex_lock(&ph->lock);
		ph->unlinked = true;
		pthread_mutex_unlock(&ph->lock);
		pending_remove(fs, ph);
		handle_put(ph);
		place_release(&pl);
		fuse_reply_err(req, 0);
		return;
	}
	path = join_path(pl.path, name);
	if (pl.path[0] == '\0' && cora_doc_reserved(name, strlen(name)))
		rc = -EROFS; /* a generated file */
	if (rc == 0) {
		cmd = json_pack("{s:s}", "path", path);
		rc = run(cat, folder ? "dataset.remove_folder" :
			 "dataset.remove", pl.id, cmd, false);
	}
	free(path);
	place_release(&pl);
	fuse_reply_err(req, -rc);
}

void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, false);
}

void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, true);
}

void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	       fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat = fs_cat(fs);
	struct cora_node_info info;
	struct place from, to;
	struct stat st;
	char *a = NULL, *b = NULL;
	json_t *cmd;
	struct fs_handle *ph;
	int rc;

	if (!cat) {
		fuse_reply_err(req, EIO);
		return;
	}
	if (flags & RENAME_EXCHANGE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	rc = writable_folder(req, fs, cat, parent, &from);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	rc = writable_folder(req, fs, cat, newparent, &to);
	if (rc) {
		place_release(&from);
		fuse_reply_err(req, -rc);
		return;
	}
	if (strcmp(from.id, to.id) != 0)
		rc = -EXDEV; /* tools fall back to copying */
	/* a new file whose writer closed it but whose release has not come
	 * yet (rsync renames its temporary file right after close): commit
	 * it now, then move it */
	if (rc == 0 && (ph = pending_handle(fs, 0, parent, name))) {
		pthread_mutex_lock(&ph->lock);
		rc = ph->unlinked ? -ENOENT : commit(fs, cat, ph, false);
		pthread_mutex_unlock(&ph->lock);
		handle_put(ph);
	}
	if (rc == 0 && fs_pending_lookup(fs, newparent, newname, &st) == 0)
		rc = -EBUSY;
	if (rc == 0)
		rc = check_name(&to, newname);
	if (rc == 0) {
		a = join_path(from.path, name);
		b = join_path(to.path, newname);
		if (!a || !b)
			rc = -ENOMEM;
	}
	if (rc == 0 && from.path[0] == '\0' &&
	    cora_doc_reserved(name, strlen(name)))
		rc = -EROFS;
	if (rc == 0 && (flags & RENAME_NOREPLACE) &&
	    cora_node_get(cat, to.id, b, &info) == 0)
		rc = -EEXIST;
	if (rc == 0) {
		cmd = json_pack("{s:s, s:s}", "from", a, "to", b);
		rc = run(cat, "dataset.move", from.id, cmd, false);
	}
	free(a);
	free(b);
	place_release(&from);
	place_release(&to);
	fuse_reply_err(req, -rc);
}

void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		const char *name)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat = fs_cat(fs);
	struct place pl;
	fuse_ino_t ino = 0;
	char *path;
	json_t *cmd;
	int rc;

	if (!cat) {
		fuse_reply_err(req, EIO);
		return;
	}
	rc = writable_folder(req, fs, cat, parent, &pl);
	if (rc == 0)
		rc = check_name(&pl, name);
	if (rc) {
		place_release(&pl);
		fuse_reply_err(req, -rc);
		return;
	}
	path = join_path(pl.path, name);
	cmd = json_pack("{s:s, s:s, s:I, s:I, s:I}", "path", path, "target",
			link, "mtime_ns", (json_int_t)now_ns(), "uid",
			(json_int_t)fuse_req_ctx(req)->uid, "gid",
			(json_int_t)fuse_req_ctx(req)->gid);
	rc = run(cat, "dataset.add_symlink", pl.id, cmd, false);
	if (rc == 0)
		rc = node_ino(cat, pl.id, path, &ino);
	if (rc == 0)
		rc = fs_reply_entry(req, fs, cat, ino);
	if (rc)
		fuse_reply_err(req, -rc);
	free(path);
	place_release(&pl);
}

void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
	     const char *newname)
{
	fuse_reply_err(req, EPERM); /* no hard links: one path per file */
}

/* A node inode's dataset and path, refusing frozen places. */
static int writable_node(fuse_req_t req, struct corafs *fs,
			 struct cora_catalog *cat, fuse_ino_t ino, json_t **ds,
			 char **path)
{
	int rc;

	*ds = NULL;
	*path = NULL;
	if (fs_ino_tag(ino) != FS_TAG_NODE || fs->readonly)
		return -EROFS;
	rc = fs_may_write(req, fs, cat);
	if (rc)
		return rc;
	rc = fs_node_path(cat, fs_ino_row(ino), ds, path);
	if (rc)
		return rc;
	if (frozen(*ds)) {
		json_decref(*ds);
		free(*path);
		*ds = NULL;
		*path = NULL;
		return -EROFS;
	}
	return 0;
}

static int64_t set_time(const struct stat *attr, int to_set)
{
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		return now_ns();
	return cora_time_ts_to_ns(attr->st_mtim.tv_sec, attr->st_mtim.tv_nsec);
}

static void do_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fs_handle *h)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat = fs_cat(fs);
	struct fs_handle *tmp = NULL;
	struct stat st;
	double timeout;
	json_t *ds = NULL;
	char *path = NULL;
	int rc = 0;

	if (!cat) {
		fuse_reply_err(req, EIO);
		return;
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		/* chown: recorded as an event; only root gives files away */
		rc = fs_getattr(fs, cat, ino, &st, &timeout);
		if (rc == 0 && fuse_req_ctx(req)->uid != 0 &&
		    (((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != st.st_uid) ||
		     ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != st.st_gid)))
			rc = -EPERM;
		if (rc == 0 && h && h->pending) {
			if (to_set & FUSE_SET_ATTR_UID)
				h->uid = attr->st_uid;
			if (to_set & FUSE_SET_ATTR_GID)
				h->gid = attr->st_gid;
		} else if (rc == 0) {
			json_t *dsv = NULL, *cmd;
			char *p = NULL;
			rc = writable_node(req, fs, cat, ino, &dsv, &p);
			if (rc == 0) {
				cmd = json_pack("{s:s, s:I, s:I}", "path", p, "uid",
					(json_int_t)((to_set & FUSE_SET_ATTR_UID) ?
						     attr->st_uid : st.st_uid),
					"gid",
					(json_int_t)((to_set & FUSE_SET_ATTR_GID) ?
						     attr->st_gid : st.st_gid));
				rc = run(cat, "dataset.set_owner",
					 cora_json_str(dsv, "id"), cmd, false);
			}
			json_decref(dsv);
			free(p);
		}
		if (rc) {
			fuse_reply_err(req, -rc);
			return;
		}
		to_set &= ~(FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID);
	}
	if (h) {
		/* decided under the lock: a release may commit the file
		 * meanwhile, and then the change must become an event */
		pthread_mutex_lock(&h->lock);
		if (!(h->dirty || h->pending || (to_set & FUSE_SET_ATTR_SIZE))) {
			pthread_mutex_unlock(&h->lock);
			goto committed;
		}
		/* an open file being written: the new attributes go with the
		 * commit at close (or fsync) */
		if (to_set & FUSE_SET_ATTR_SIZE) {
			rc = make_dirty(fs, h, attr->st_size == 0);
			/* first: a write behind in flight lands before */
			if (rc == 0 && (uint64_t)attr->st_size < h->claimed)
				hash_abandon(h);
			if (rc == 0 && ftruncate(h->fd, attr->st_size) != 0)
				rc = -errno;
			if (rc == 0) {
				h->size = (uint64_t)attr->st_size;
				h->written |= attr->st_size > 0;
				if (!h->mtime_set)
					h->mtime_ns = now_ns();
			}
		}
		if (rc == 0 && (to_set & FUSE_SET_ATTR_MODE)) {
			h->mode = attr->st_mode & 07777;
			h->mode_set = true;
		}
		if (rc == 0 && (to_set & FUSE_SET_ATTR_MTIME)) {
			h->mtime_ns = set_time(attr, to_set);
			h->mtime_set = true;
		}
		pending_stat(fs, h, &st);
		pthread_mutex_unlock(&h->lock);
		if (rc)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_attr(req, &st, 0);
		return;
	}
committed:
	if (!(to_set & (FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_MODE |
			FUSE_SET_ATTR_MTIME)))
		goto reply; /* atime, ctime, same owner: nothing to record */
	rc = writable_node(req, fs, cat, ino, &ds, &path);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		/* truncate(2) without an open file: through a staging copy */
		struct fuse_file_info tfi = { .flags = O_WRONLY };
		rc = fs_open_file(fs, cat, ino, &tfi);
		if (rc == 0) {
			tmp = (struct fs_handle *)(uintptr_t)tfi.fh;
			pthread_mutex_lock(&tmp->lock);
			rc = make_dirty(fs, tmp, attr->st_size == 0);
			if (rc == 0 && ftruncate(tmp->fd, attr->st_size) != 0)
				rc = -errno;
			if (rc == 0) {
				hash_abandon(tmp);
				tmp->size = (uint64_t)attr->st_size;
				if (to_set & FUSE_SET_ATTR_MODE)
					tmp->mode = attr->st_mode & 07777;
				tmp->mtime_ns = (to_set & FUSE_SET_ATTR_MTIME) ?
						set_time(attr, to_set) : now_ns();
				rc = commit(fs, cat, tmp, false);
			}
			pthread_mutex_unlock(&tmp->lock);
			handle_free(tmp);
		}
		to_set &= ~(FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_MTIME);
	}
	if (rc == 0 && (to_set & FUSE_SET_ATTR_MODE)) {
		json_t *cmd = json_pack("{s:s, s:i}", "path", path, "mode",
					(int)(attr->st_mode & 07777));
		rc = run(cat, "dataset.set_mode", cora_json_str(ds, "id"), cmd,
			 false);
	}
	if (rc == 0 && (to_set & FUSE_SET_ATTR_MTIME)) {
		json_t *cmd = json_pack("{s:s, s:I}", "path", path, "mtime_ns",
					(json_int_t)set_time(attr, to_set));
		rc = run(cat, "dataset.set_mtime", cora_json_str(ds, "id"), cmd,
			 false);
	}
	json_decref(ds);
	free(path);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (h && (to_set & FUSE_SET_ATTR_MTIME)) {
		/* a clean open handle: a later write must not undo this (the
		 * mode needs nothing: commit keeps the node's, commit_mode) */
		pthread_mutex_lock(&h->lock);
		h->mtime_ns = set_time(attr, to_set);
		h->mtime_set = true;
		pthread_mutex_unlock(&h->lock);
	}
reply:
	rc = fs_getattr(fs, cat, ino, &st, &timeout);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, timeout);
}

void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		struct fuse_file_info *fi)
{
	struct fs_handle *h = fi ? (struct fs_handle *)(uintptr_t)fi->fh : NULL;
	struct fs_handle *ref = NULL;

	if (h && h->kind != FS_H_WRITE)
		h = NULL;
	if (!h) /* utimens(path) of a file just closed, not yet released */
		h = ref = pending_handle(fs_of(req), ino, 0, NULL);
	do_setattr(req, ino, attr, to_set, h);
	handle_put(ref);
}

/* ---- extended attributes ------------------------------------------------------------- */

void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		 const char *value, size_t size, int flags)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat = fs_cat(fs);
	json_t *ds = NULL, *cmd;
	char *path = NULL, *b64, *cur = NULL;
	size_t curlen = 0;
	int rc;

	if (fs->noxattr) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	if (!cat) {
		fuse_reply_err(req, EIO);
		return;
	}
	if (strncmp(name, "user.", 5) != 0) {
		fuse_reply_err(req, ENOTSUP);
		return;
	}
	if (strncmp(name, "user.cora.", 10) == 0) {
		/* read-only: the current value is accepted (cp -a, rsync -X
		 * between datasets), anything else refused */
		struct stat pst;

		rc = fs_xattr_current(fs, cat, ino, name, &cur, &curlen);
		if (rc == 0 && curlen == size && memcmp(cur, value, size) == 0)
			rc = 0;
		else if (fs_pending_getattr(fs, ino, &pst) == 0)
			rc = 0; /* its digest is known at commit: nothing to set */
		else
			rc = -EPERM;
		free(cur);
		fuse_reply_err(req, -rc);
		return;
	}
	if (size > 65536) {
		fuse_reply_err(req, E2BIG);
		return;
	}
	rc = writable_node(req, fs, cat, ino, &ds, &path);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	b64 = cora_base64_encode(value, size);
	cmd = json_pack("{s:s, s:s, s:s}", "path", path, "name", name,
			"value", b64 ? b64 : "");
	free(b64);
	rc = run(cat, "dataset.set_xattr", cora_json_str(ds, "id"), cmd, false);
	json_decref(ds);
	free(path);
	fuse_reply_err(req, -rc);
}

void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat = fs_cat(fs);
	json_t *ds = NULL, *cmd;
	char *path = NULL;
	int rc;

	if (fs->noxattr) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	if (!cat) {
		fuse_reply_err(req, EIO);
		return;
	}
	if (strncmp(name, "user.", 5) != 0) {
		fuse_reply_err(req, ENOTSUP);
		return;
	}
	if (strncmp(name, "user.cora.", 10) == 0) {
		/* read-only and computed: removing one changes nothing and
		 * succeeds, as setting its current value does, so rsync -X
		 * from a folder without them works (it removes what the
		 * source lacks) */
		char *cur = NULL;
		size_t len;
		rc = fs_xattr_current(fs, cat, ino, name, &cur, &len);
		free(cur);
		fuse_reply_err(req, rc == 0 ? 0 : ENODATA);
		return;
	}
	rc = writable_node(req, fs, cat, ino, &ds, &path);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	cmd = json_pack("{s:s, s:s}", "path", path, "name", name);
	rc = run(cat, "dataset.remove_xattr", cora_json_str(ds, "id"), cmd,
		 false);
	json_decref(ds);
	free(path);
	fuse_reply_err(req, rc == -ENOENT ? ENODATA : -rc);
}

/* ---- start-up ------------------------------------------------------------------- */

int fs_staging_cleanup(struct corafs *fs)
{
	DIR *d = opendir(fs->staging);
	struct dirent *de;
	char *p;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "w-", 2) != 0)
			continue;
		if (asprintf(&p, "%s/%s", fs->staging, de->d_name) < 0)
			break;
		if (unlink(p) == 0)
			n++;
		free(p);
	}
	closedir(d);
	return n;
}

/*
 * blob_local.c: the local blob store, a folder of files named by the
 * SHA-256 of their content.  The format, the invariants L1-L7 and the
 * state machine of a put are specified in blobstore.h; this file follows
 * them and cites them where it matters.
 *
 * The store opens three directory descriptors (ROOT, ROOT/sha256,
 * ROOT/tmp) and never changes after cora_blob_local_open() returns, so
 * every op is safe from many threads without a lock: each works with
 * *at() calls relative to those descriptors and with its own buffers.
 *
 * Temporary files are named files in ROOT/tmp rather than O_TMPFILE
 * ones: O_TMPFILE is missing on some file systems (NFS, older overlayfs),
 * linking one in without CAP_DAC_READ_SEARCH needs /proc, and linkat()
 * cannot replace a damaged blob (L3) the way rename() can.  The price is
 * that a crash leaves a file behind, which cleanup removes (L6).
 *
 * Every write(), fsync(), rename()/unlink() and allocation that matters
 * sits behind a CORA_FAULT() point so tests can fail each one (fault.h).
 */
#include "core/blobstore.h"

#include "core/error.h"
#include "core/fault.h"
#include "core/hash.h"
#include "core/text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WRITE_BUF (128 * 1024)  /* a writer's buffer; bigger writes go through */
#define COPY_BUF (1024 * 1024)  /* put_file and verify read this much at once */
#define REL_LEN 66              /* "ab/" + 62 hex + NUL */
#define TMP_NAME_LEN 21         /* "put-" + 16 hex + NUL */
#define TMP_ATTEMPTS 64

struct local_store {
	struct cora_blobstore base;
	char *root;      /* absolute path, for messages and ->path */
	int root_fd;     /* ROOT */
	int objects_fd;  /* ROOT/sha256 */
	int tmp_fd;      /* ROOT/tmp */
};

struct local_writer {
	struct cora_blob_writer base;
	struct local_store *ls;
	int fd;                       /* the tmp file, flock()ed (L6) */
	char tmp[TMP_NAME_LEN];       /* its name in tmp/; "" once renamed */
	struct cora_sha256 hash;
	uint64_t size;
	char *buf;                    /* WRITE_BUF bytes, allocated on demand */
	size_t used;
	int failed;                   /* sticky code after a failure */
	char err[512];                /* and its message */
	bool has_expect;
	char expect[CORA_SHA256_HEXLEN + 1];
};

struct local_reader {
	struct cora_blob_reader base;
	struct local_store *ls;
	char sha256[CORA_SHA256_HEXLEN + 1];
};

static void local_free(struct cora_blobstore *bs);

/* Fault-aware system calls: each fails like the real one would. */

static void *f_malloc(size_t n)
{
	if (CORA_FAULT(CORA_FAULT_ALLOC))
		return NULL;
	return malloc(n);
}

static ssize_t f_write(int fd, const void *buf, size_t n)
{
	if (CORA_FAULT(CORA_FAULT_WRITE)) {
		errno = ENOSPC;
		return -1;
	}
	return write(fd, buf, n);
}

static int f_fsync(int fd)
{
	if (CORA_FAULT(CORA_FAULT_FSYNC)) {
		errno = EIO;
		return -1;
	}
	return fsync(fd);
}

static int f_syncfs(int fd)
{
	if (CORA_FAULT(CORA_FAULT_FSYNC)) {
		errno = EIO;
		return -1;
	}
	return syncfs(fd);
}

static int f_renameat(int olddir, const char *oldname, int newdir,
		      const char *newname)
{
	if (CORA_FAULT(CORA_FAULT_RENAME)) {
		errno = EIO;
		return -1;
	}
	return renameat(olddir, oldname, newdir, newname);
}

/* Removing a name is a change of name like rename(): same fault kind. */
static int f_unlinkat(int dir, const char *name)
{
	if (CORA_FAULT(CORA_FAULT_RENAME)) {
		errno = EIO;
		return -1;
	}
	return unlinkat(dir, name, 0);
}

static int oom(void)
{
	return cora_error_set(CORA_ENOMEM, "out of memory");
}

/* Digests become path names: check them before anything else
 * (blobstore.h invariant 5). */
static int check_digest(const char *sha256)
{
	return cora_text_sha256(sha256, "blob digest");
}

/* "ab/cdef...": the blob's name relative to ROOT/sha256. */
static void rel_name(char rel[REL_LEN], const char *sha256)
{
	rel[0] = sha256[0];
	rel[1] = sha256[1];
	rel[2] = '/';
	memcpy(rel + 3, sha256 + 2, CORA_SHA256_HEXLEN - 2);
	rel[REL_LEN - 1] = '\0';
}

static bool is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

static struct local_store *store_of(struct cora_blobstore *bs)
{
	return (struct local_store *)bs;
}

static int write_full(int fd, const void *buf, size_t n, const char *root,
		      const char *name)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t k = f_write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return cora_error_sys(CORA_EIO, "cannot write '%s/tmp/%s'",
					      root, name);
		}
		if (k == 0) {
			errno = ENOSPC;
			return cora_error_sys(CORA_EIO, "cannot write '%s/tmp/%s'",
					      root, name);
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads up to n bytes at off, stopping early only at end of file. */
static int pread_full(int fd, void *buf, size_t n, uint64_t off,
		      size_t *nread, const struct local_store *ls,
		      const char *sha256)
{
	char *p = buf;
	size_t done = 0;

	*nread = 0;
	if (off > (uint64_t)INT64_MAX)
		return 0;
	while (done < n) {
		ssize_t k = pread(fd, p + done, n - done, (off_t)(off + done));

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return cora_error_sys(CORA_EIO,
					      "cannot read '%s/sha256/%.2s/%s'",
					      ls->root, sha256, sha256 + 2);
		}
		if (k == 0)
			break;
		done += (size_t)k;
	}
	*nread = done;
	return 0;
}

/* fsync()s ROOT/sha256/ab/ so the names in it are durable (L2, L3). */
static int fsync_folder(struct local_store *ls, const char *sha256)
{
	char dir[3] = { sha256[0], sha256[1], '\0' };
	int fd, rc = 0;

	fd = openat(ls->objects_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cora_error_sys(CORA_EIO, "cannot open folder '%s/sha256/%s'",
				      ls->root, dir);
	if (f_fsync(fd) < 0)
		rc = cora_error_sys(CORA_EIO, "cannot fsync folder '%s/sha256/%s'",
				    ls->root, dir);
	close(fd);
	return rc;
}

/* Opens a blob read-only; CORA_ENOTFOUND when absent. */
static int open_blob(struct local_store *ls, const char *sha256, int *fdp,
		     uint64_t *size)
{
	char rel[REL_LEN];
	struct stat st;
	int fd;

	rel_name(rel, sha256);
	fd = openat(ls->objects_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return cora_error_set(CORA_ENOTFOUND,
					      "blob '%s' not found", sha256);
		return cora_error_sys(CORA_EIO, "cannot open '%s/sha256/%s'",
				      ls->root, rel);
	}
	if (fstat(fd, &st) < 0) {
		int rc = cora_error_sys(CORA_EIO, "cannot stat '%s/sha256/%s'",
					ls->root, rel);
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return cora_error_set(CORA_EIO, "'%s/sha256/%s' is not a file",
				      ls->root, rel);
	}
	*fdp = fd;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* ---- writing ---------------------------------------------------------- */

static void tmp_name(char name[TMP_NAME_LEN])
{
	static atomic_uint_fast64_t counter;
	uint64_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		/* No entropy yet (early boot): unique enough within the
		 * process, and O_EXCL catches the rest. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		r = ((uint64_t)getpid() << 40) ^ (uint64_t)ts.tv_nsec ^
		    ((uint64_t)ts.tv_sec << 20) ^ atomic_fetch_add(&counter, 1);
	}
	snprintf(name, TMP_NAME_LEN, "put-%016llx", (unsigned long long)r);
}

/* Creates and locks a fresh tmp file (L6). */
static int create_tmp(struct local_store *ls, char name[TMP_NAME_LEN],
		      int *fdp)
{
	struct stat st;
	int attempt, fd;

	for (attempt = 0; attempt < TMP_ATTEMPTS; attempt++) {
		tmp_name(name);
		if (CORA_FAULT(CORA_FAULT_WRITE)) {
			errno = ENOSPC;
			fd = -1;
		} else {
			fd = openat(ls->tmp_fd, name,
				    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
				    O_NOFOLLOW, 0444);
		}
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return cora_error_sys(CORA_EIO, "cannot create '%s/tmp/%s'",
					      ls->root, name);
		}
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				int rc = cora_error_sys(CORA_EIO,
					"cannot lock '%s/tmp/%s'", ls->root, name);
				unlinkat(ls->tmp_fd, name, 0);
				close(fd);
				return rc;
			}
		}
		if (fstat(fd, &st) < 0) {
			int rc = cora_error_sys(CORA_EIO, "cannot stat '%s/tmp/%s'",
						ls->root, name);
			unlinkat(ls->tmp_fd, name, 0);
			close(fd);
			return rc;
		}
		if (st.st_nlink == 0) {
			/* Cleanup took it between create and lock (L6). */
			close(fd);
			continue;
		}
		/* Exactly 0444 whatever the umask (L4).  The descriptor
		 * keeps its write access. */
		if (fchmod(fd, 0444) < 0) {
			int rc = cora_error_sys(CORA_EIO, "cannot chmod '%s/tmp/%s'",
						ls->root, name);
			unlinkat(ls->tmp_fd, name, 0);
			close(fd);
			return rc;
		}
		*fdp = fd;
		return 0;
	}
	return cora_error_set(CORA_EIO, "cannot create a temporary file in '%s/tmp'",
			      ls->root);
}

/* Drops the tmp file (if still ours), the descriptor and the writer. */
static void writer_free(struct local_writer *w)
{
	/* Unlink before close: while we hold the lock nobody else may
	 * remove the name (L6). */
	if (w->tmp[0])
		unlinkat(w->ls->tmp_fd, w->tmp, 0);
	if (w->fd >= 0)
		close(w->fd);
	cora_sha256_release(&w->hash);
	free(w->buf);
	free(w);
}

static int writer_poison(struct local_writer *w, int rc)
{
	w->failed = rc;
	snprintf(w->err, sizeof(w->err), "%s", cora_error_last());
	return rc;
}

static int writer_failed(const struct local_writer *w)
{
	return cora_error_set(w->failed, "%s", w->err);
}

static int writer_flush(struct local_writer *w)
{
	int rc;

	if (w->used == 0)
		return 0;
	rc = write_full(w->fd, w->buf, w->used, w->ls->root, w->tmp);
	w->used = 0;
	return rc;
}

static int lw_write(struct cora_blob_writer *base, const void *buf, size_t n)
{
	struct local_writer *w = (struct local_writer *)base;
	int rc;

	if (w->failed)
		return writer_failed(w);
	if (n == 0)
		return 0;
	if (n >= WRITE_BUF) {
		rc = writer_flush(w);
		if (!rc)
			rc = write_full(w->fd, buf, n, w->ls->root, w->tmp);
		if (rc)
			return writer_poison(w, rc);
	} else {
		if (w->used + n > WRITE_BUF) {
			rc = writer_flush(w);
			if (rc)
				return writer_poison(w, rc);
		}
		if (!w->buf) {
			w->buf = f_malloc(WRITE_BUF);
			if (!w->buf)
				return writer_poison(w, oom());
		}
		memcpy(w->buf + w->used, buf, n);
		w->used += n;
	}
	/* Hash what was accepted, in order: buffered bytes precede. */
	cora_sha256_update(&w->hash, buf, n);
	w->size += n;
	return 0;
}

/* Moves the fsynced tmp file to its final name (L1, L7). */
static int rename_into_place(struct local_writer *w, const char *rel)
{
	struct local_store *ls = w->ls;
	char dir[3] = { rel[0], rel[1], '\0' };

	if (f_renameat(ls->tmp_fd, w->tmp, ls->objects_fd, rel) == 0)
		return 0;
	if (errno == ENOENT &&
	    (mkdirat(ls->objects_fd, dir, 0700) == 0 || errno == EEXIST)) {
		/* The folder was missing (L7): make its name durable
		 * before a blob's name depends on it, then try again.  If
		 * it was there all along, the retry fails like the first
		 * attempt did. */
		if (f_fsync(ls->objects_fd) < 0)
			return cora_error_sys(CORA_EIO, "cannot fsync folder '%s/sha256'",
					      ls->root);
		if (f_renameat(ls->tmp_fd, w->tmp, ls->objects_fd, rel) == 0)
			return 0;
	}
	return cora_error_sys(CORA_EIO, "cannot rename '%s/tmp/%s' to '%s/sha256/%s'",
			      ls->root, w->tmp, ls->root, rel);
}

static int lw_commit(struct cora_blob_writer *base,
		     char sha256[CORA_SHA256_HEXLEN + 1], uint64_t *size)
{
	struct local_writer *w = (struct local_writer *)base;
	struct local_store *ls = w->ls;
	char hex[CORA_SHA256_HEXLEN + 1], rel[REL_LEN];
	struct stat st;
	int rc;

	if (w->failed) {
		rc = writer_failed(w);
		goto out;
	}
	rc = writer_flush(w);
	if (rc)
		goto out;
	cora_sha256_final(&w->hash, hex);
	if (w->has_expect && strcmp(hex, w->expect) != 0) {
		rc = cora_error_set(CORA_EMISMATCH,
			"content does not match expected digest '%s': it hashes to '%s'",
			w->expect, hex);
		goto out;
	}
	rel_name(rel, hex);

	if (fstatat(ls->objects_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && (uint64_t)st.st_size == w->size) {
		/* Dedup (L3): ours is not needed, but the existing name
		 * may belong to a put that renamed and has not yet fsynced
		 * the folder, so do it before answering. */
		rc = fsync_folder(ls, hex);
		goto out;
	}

	/* L2: content durable, then the name, then the name durable. */
	if (f_fsync(w->fd) < 0) {
		rc = cora_error_sys(CORA_EIO, "cannot fsync '%s/tmp/%s'",
				    ls->root, w->tmp);
		goto out;
	}
	rc = rename_into_place(w, rel);
	if (rc)
		goto out;
	w->tmp[0] = '\0';
	close(w->fd); /* releases the lock; the name is gone from tmp/ */
	w->fd = -1;
	/* A failure here leaves a whole blob under its name (see the state
	 * machine in blobstore.h): not removed, a concurrent put may have
	 * deduped against it. */
	rc = fsync_folder(ls, hex);
out:
	if (rc == 0) {
		if (sha256)
			memcpy(sha256, hex, sizeof(hex));
		if (size)
			*size = w->size;
	}
	writer_free(w);
	return rc;
}

static void lw_abort(struct cora_blob_writer *base)
{
	writer_free((struct local_writer *)base);
}

static int local_writer_new(struct cora_blobstore *bs,
			    const char *expect_sha256,
			    struct cora_blob_writer **out)
{
	struct local_store *ls = store_of(bs);
	struct local_writer *w;
	int rc;

	*out = NULL;
	if (expect_sha256) {
		rc = check_digest(expect_sha256);
		if (rc)
			return rc;
	}
	w = f_malloc(sizeof(*w));
	if (!w)
		return oom();
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->ls = ls;
	w->base.store = bs;
	w->base.write = lw_write;
	w->base.commit = lw_commit;
	w->base.abort = lw_abort;
	if (expect_sha256) {
		w->has_expect = true;
		memcpy(w->expect, expect_sha256, sizeof(w->expect));
	}
	rc = cora_sha256_init(&w->hash);
	if (rc) {
		free(w);
		return rc;
	}
	rc = create_tmp(ls, w->tmp, &w->fd);
	if (rc) {
		w->tmp[0] = '\0';
		writer_free(w);
		return rc;
	}
	*out = &w->base;
	return 0;
}

static int local_put_file(struct cora_blobstore *bs, const char *path,
			  const char *expect_sha256,
			  char sha256[CORA_SHA256_HEXLEN + 1], uint64_t *size)
{
	struct cora_blob_writer *w = NULL;
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd, rc;

	if (!path || !*path)
		return cora_error_set(CORA_EINVALID, "file to store is missing");
	if (expect_sha256) {
		rc = check_digest(expect_sha256);
		if (rc)
			return rc;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cora_error_sys(errno == ENOENT ? CORA_ENOTFOUND : CORA_EIO,
				      "cannot open '%s'", path);
	if (fstat(fd, &st) < 0) {
		rc = cora_error_sys(CORA_EIO, "cannot stat '%s'", path);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = cora_error_set(CORA_EISDIR, "'%s' is a folder", path);
		goto out;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	buf = f_malloc(COPY_BUF);
	if (!buf) {
		rc = oom();
		goto out;
	}
	rc = local_writer_new(bs, expect_sha256, &w);
	if (rc)
		goto out;
	for (;;) {
		n = read(fd, buf, COPY_BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = cora_error_sys(CORA_EIO, "cannot read '%s'", path);
			break;
		}
		if (n == 0)
			break;
		rc = w->write(w, buf, (size_t)n);
		if (rc)
			break;
	}
	if (rc)
		w->abort(w);
	else
		rc = w->commit(w, sha256, size);
out:
	free(buf);
	close(fd);
	return rc;
}

/* ---- reading ---------------------------------------------------------- */

/* Moves a finished file into the store (->adopt): the write path of the
 * mount, which saves copying every byte a second time.  Without
 * `durable` (->adopt_later, L8) nothing is fsynced. */
static int adopt(struct cora_blobstore *bs, const char *path,
		 const char *sha256, uint64_t *size, bool durable)
{
	struct local_store *ls = (struct local_store *)bs;
	char rel[REL_LEN];
	struct stat st, have;
	int fd, rc;

	rc = check_digest(sha256);
	if (rc)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cora_error_sys(errno == ENOENT ? CORA_ENOTFOUND : CORA_EIO,
				      "cannot open '%s'", path);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cora_error_set(CORA_EINVALID, "'%s' is not a file", path);
	}
	rel_name(rel, sha256);
	if (fstatat(ls->objects_fd, rel, &have, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(have.st_mode) && have.st_size == st.st_size) {
		/* dedup (L3) */
		close(fd);
		unlink(path);
		rc = durable ? fsync_folder(ls, sha256) : 0;
		goto out;
	}
	/* L2: content durable, then the name, then the name durable */
	if (fchmod(fd, 0444) != 0 || (durable && f_fsync(fd) < 0)) {
		rc = cora_error_sys(CORA_EIO, "cannot fsync '%s'", path);
		close(fd);
		return rc;
	}
	close(fd);
	if (f_renameat(AT_FDCWD, path, ls->objects_fd, rel) != 0) {
		if (errno == EXDEV)
			return cora_error_set(CORA_EINVALID, "'%s' is on another "
					      "file system than the blob store",
					      path);
		return cora_error_sys(CORA_EIO, "cannot rename '%s' to "
				      "'%s/sha256/%s'", path, ls->root, rel);
	}
	rc = durable ? fsync_folder(ls, sha256) : 0;
out:
	if (rc == 0 && size)
		*size = (uint64_t)st.st_size;
	return rc;
}

static int local_adopt(struct cora_blobstore *bs, const char *path,
		       const char *sha256, uint64_t *size)
{
	return adopt(bs, path, sha256, size, true);
}

static int local_adopt_later(struct cora_blobstore *bs, const char *path,
			     const char *sha256, uint64_t *size)
{
	return adopt(bs, path, sha256, size, false);
}

/* ->persist: the fsyncs ->adopt_later left out (L8).  Up to
 * PERSIST_ONE_BY_ONE blobs get an fsync each and one per folder; more
 * get one syncfs(): the whole file system, which is what many fsyncs
 * add up to, in one request the disk can order as it likes. */
#define PERSIST_ONE_BY_ONE 16

static int persist_one(struct local_store *ls, const char *sha256)
{
	char rel[REL_LEN];
	int fd, rc = 0;

	rel_name(rel, sha256);
	fd = openat(ls->objects_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return cora_error_sys(errno == ENOENT ? CORA_ENOTFOUND : CORA_EIO,
				      "cannot open '%s/sha256/%s'", ls->root,
				      rel);
	if (f_fsync(fd) < 0)
		rc = cora_error_sys(CORA_EIO, "cannot fsync '%s/sha256/%s'",
				    ls->root, rel);
	close(fd);
	return rc;
}

static int local_persist(struct cora_blobstore *bs, const char *const *sha256,
			 size_t n)
{
	struct local_store *ls = (struct local_store *)bs;
	bool folder[256] = { false };
	char rel[REL_LEN];
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = check_digest(sha256[i]);
		if (rc)
			return rc;
		rel_name(rel, sha256[i]);
		if (n > PERSIST_ONE_BY_ONE &&
		    faccessat(ls->objects_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
			return cora_error_sys(errno == ENOENT ? CORA_ENOTFOUND :
					      CORA_EIO, "cannot find "
					      "'%s/sha256/%s'", ls->root, rel);
	}
	if (n > PERSIST_ONE_BY_ONE) {
		if (f_syncfs(ls->root_fd) != 0)
			return cora_error_sys(CORA_EIO, "cannot sync the file "
					      "system of '%s'", ls->root);
		return 0;
	}
	for (i = 0; i < n; i++) {
		rc = persist_one(ls, sha256[i]);
		if (rc)
			return rc;
	}
	for (i = 0; i < n; i++) {
		unsigned k = (unsigned)strtoul((char[3]){ sha256[i][0],
						   sha256[i][1], 0 }, NULL, 16);
		if (folder[k])
			continue;
		folder[k] = true;
		rc = fsync_folder(ls, sha256[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int lr_read(struct cora_blob_reader *base, void *buf, size_t n,
		   uint64_t offset, size_t *nread)
{
	struct local_reader *r = (struct local_reader *)base;

	return pread_full(base->fd, buf, n, offset, nread, r->ls, r->sha256);
}

static void lr_close(struct cora_blob_reader *base)
{
	close(base->fd);
	free(base);
}

static int local_open(struct cora_blobstore *bs, const char *sha256,
		      struct cora_blob_reader **out)
{
	struct local_store *ls = store_of(bs);
	struct local_reader *r;
	uint64_t size;
	int fd, rc;

	*out = NULL;
	rc = check_digest(sha256);
	if (rc)
		return rc;
	r = f_malloc(sizeof(*r));
	if (!r)
		return oom();
	rc = open_blob(ls, sha256, &fd, &size);
	if (rc) {
		free(r);
		return rc;
	}
	memset(r, 0, sizeof(*r));
	r->base.store = bs;
	r->base.size = size;
	r->base.fd = fd;
	r->base.read = lr_read;
	r->base.close = lr_close;
	r->ls = ls;
	memcpy(r->sha256, sha256, sizeof(r->sha256));
	*out = &r->base;
	return 0;
}

static int local_read(struct cora_blobstore *bs, const char *sha256,
		      void *buf, size_t n, uint64_t offset, size_t *nread)
{
	struct local_store *ls = store_of(bs);
	uint64_t size;
	int fd, rc;

	*nread = 0;
	rc = check_digest(sha256);
	if (rc)
		return rc;
	rc = open_blob(ls, sha256, &fd, &size);
	if (rc)
		return rc;
	rc = pread_full(fd, buf, n, offset, nread, ls, sha256);
	close(fd);
	return rc;
}

static int local_exists(struct cora_blobstore *bs, const char *sha256,
			uint64_t *size)
{
	struct local_store *ls = store_of(bs);
	char rel[REL_LEN];
	struct stat st;
	int rc;

	rc = check_digest(sha256);
	if (rc)
		return rc;
	rel_name(rel, sha256);
	if (fstatat(ls->objects_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return cora_error_set(CORA_ENOTFOUND,
					      "blob '%s' not found", sha256);
		return cora_error_sys(CORA_EIO, "cannot stat '%s/sha256/%s'",
				      ls->root, rel);
	}
	if (!S_ISREG(st.st_mode))
		return cora_error_set(CORA_EIO, "'%s/sha256/%s' is not a file",
				      ls->root, rel);
	if (size)
		*size = (uint64_t)st.st_size;
	return 0;
}

static int local_del(struct cora_blobstore *bs, const char *sha256)
{
	struct local_store *ls = store_of(bs);
	char rel[REL_LEN];
	int rc;

	rc = check_digest(sha256);
	if (rc)
		return rc;
	rel_name(rel, sha256);
	if (f_unlinkat(ls->objects_fd, rel) < 0) {
		if (errno == ENOENT)
			return cora_error_set(CORA_ENOTFOUND,
					      "blob '%s' not found", sha256);
		return cora_error_sys(CORA_EIO, "cannot remove '%s/sha256/%s'",
				      ls->root, rel);
	}
	return fsync_folder(ls, sha256);
}

static int local_list(struct cora_blobstore *bs, cora_blob_list_fn fn,
		      void *payload)
{
	struct local_store *ls = store_of(bs);
	char sha256[CORA_SHA256_HEXLEN + 1];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int i, dfd, rc = 0;

	for (i = 0; i < 256 && rc == 0; i++) {
		snprintf(sha256, 3, "%02x", i);
		dfd = openat(ls->objects_fd, sha256,
			     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			if (errno == ENOENT)
				continue;
			return cora_error_sys(CORA_EIO, "cannot open folder '%s/sha256/%s'",
					      ls->root, sha256);
		}
		d = fdopendir(dfd);
		if (!d) {
			rc = cora_error_sys(CORA_EIO, "cannot read folder '%s/sha256/%s'",
					    ls->root, sha256);
			close(dfd);
			return rc;
		}
		for (;;) {
			errno = 0;
			de = readdir(d);
			if (!de) {
				if (errno)
					rc = cora_error_sys(CORA_EIO,
						"cannot read folder '%s/sha256/%.2s'",
						ls->root, sha256);
				break;
			}
			if (!is_hex(de->d_name, CORA_SHA256_HEXLEN - 2))
				continue;
			if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT)
					continue; /* deleted meanwhile */
				rc = cora_error_sys(CORA_EIO,
					"cannot stat '%s/sha256/%.2s/%s'",
					ls->root, sha256, de->d_name);
				break;
			}
			if (!S_ISREG(st.st_mode))
				continue;
			memcpy(sha256 + 2, de->d_name, CORA_SHA256_HEXLEN - 2 + 1);
			rc = fn(sha256, (uint64_t)st.st_size, payload);
			if (rc)
				break;
		}
		closedir(d);
	}
	return rc;
}

static int local_verify(struct cora_blobstore *bs, const char *sha256)
{
	struct local_store *ls = store_of(bs);
	char hex[CORA_SHA256_HEXLEN + 1];
	struct cora_sha256 h;
	uint64_t size, off = 0;
	size_t n;
	char *buf;
	int fd, rc;

	rc = check_digest(sha256);
	if (rc)
		return rc;
	buf = f_malloc(COPY_BUF);
	if (!buf)
		return oom();
	rc = open_blob(ls, sha256, &fd, &size);
	if (rc) {
		free(buf);
		return rc;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = cora_sha256_init(&h);
	if (rc)
		goto out;
	for (;;) {
		rc = pread_full(fd, buf, COPY_BUF, off, &n, ls, sha256);
		if (rc) {
			cora_sha256_release(&h);
			goto out;
		}
		if (n == 0)
			break;
		cora_sha256_update(&h, buf, n);
		off += n;
	}
	cora_sha256_final(&h, hex);
	if (strcmp(hex, sha256) != 0)
		rc = cora_error_set(CORA_EMISMATCH,
			"blob '%s' is corrupt: its content hashes to '%s'",
			sha256, hex);
out:
	close(fd);
	free(buf);
	return rc;
}

static int local_path(struct cora_blobstore *bs, const char *sha256,
		      char **out)
{
	struct local_store *ls = store_of(bs);
	size_t n;
	int rc;

	*out = NULL;
	rc = check_digest(sha256);
	if (rc)
		return rc;
	n = strlen(ls->root) + sizeof("/sha256/") - 1 + REL_LEN;
	*out = f_malloc(n);
	if (!*out)
		return oom();
	snprintf(*out, n, "%s/sha256/%.2s/%s", ls->root, sha256, sha256 + 2);
	return 0;
}

/* ---- the store -------------------------------------------------------- */

int cora_blob_local_cleanup(struct cora_blobstore *bs, size_t *removed)
{
	struct local_store *ls;
	struct stat st, now;
	struct dirent *de;
	size_t count = 0;
	DIR *d;
	int dfd, fd, rc = 0;

	if (removed)
		*removed = 0;
	if (!bs || bs->free != local_free)
		return cora_error_set(CORA_EINVALID,
				      "blob store '%s' is not a local store",
				      bs && bs->name ? bs->name : "?");
	ls = store_of(bs);
	/* fdopendir() takes its descriptor: give it a fresh one. */
	dfd = openat(ls->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cora_error_sys(CORA_EIO, "cannot open folder '%s/tmp'",
				      ls->root);
	d = fdopendir(dfd);
	if (!d) {
		rc = cora_error_sys(CORA_EIO, "cannot read folder '%s/tmp'",
				    ls->root);
		close(dfd);
		return rc;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = cora_error_sys(CORA_EIO,
					"cannot read folder '%s/tmp'", ls->root);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		fd = openat(dfd, de->d_name,
			    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			continue; /* gone, a link or a folder: not ours */
		/* L6: only a file no writer holds, removed while we hold
		 * it, and only if the name still means this file. */
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    fstatat(dfd, de->d_name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now.st_ino == st.st_ino && now.st_dev == st.st_dev) {
			if (unlinkat(dfd, de->d_name, 0) == 0)
				count++;
			else if (errno != ENOENT && rc == 0)
				rc = cora_error_sys(CORA_EIO,
						    "cannot remove '%s/tmp/%s'",
						    ls->root, de->d_name);
		}
		close(fd);
	}
	closedir(d);
	if (removed)
		*removed = count;
	return rc;
}

static void local_free(struct cora_blobstore *bs)
{
	struct local_store *ls = store_of(bs);

	if (ls->tmp_fd >= 0)
		close(ls->tmp_fd);
	if (ls->objects_fd >= 0)
		close(ls->objects_fd);
	if (ls->root_fd >= 0)
		close(ls->root_fd);
	free(ls->root);
	free(ls);
}

/* mkdirat() that accepts an existing folder; *created tells which. */
static int ensure_dir(int parent, const char *name, const char *shown,
		      bool *created)
{
	struct stat st;

	if (mkdirat(parent, name, 0700) == 0) {
		*created = true;
		return 0;
	}
	if (errno != EEXIST)
		return cora_error_sys(CORA_EIO, "cannot create folder '%s'", shown);
	if (fstatat(parent, name, &st, 0) < 0)
		return cora_error_sys(CORA_EIO, "cannot stat '%s'", shown);
	if (!S_ISDIR(st.st_mode))
		return cora_error_set(CORA_ENOTDIR, "'%s' is not a folder", shown);
	return 0;
}

static int fsync_fd(int fd, const char *shown)
{
	if (f_fsync(fd) < 0)
		return cora_error_sys(CORA_EIO, "cannot fsync folder '%s'", shown);
	return 0;
}

/* Makes the root's own name durable after creating it. */
static int fsync_parent(const char *abs_root)
{
	const char *slash = strrchr(abs_root, '/');
	char *parent;
	int fd, rc;

	if (!slash)
		return 0;
	parent = strndup(abs_root, slash == abs_root ? 1 : (size_t)(slash - abs_root));
	if (!parent)
		return oom();
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = cora_error_sys(CORA_EIO, "cannot open folder '%s'", parent);
	} else {
		rc = fsync_fd(fd, parent);
		close(fd);
	}
	free(parent);
	return rc;
}

static int open_dir_at(int parent, const char *name, const char *root,
		       int *fdp)
{
	*fdp = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fdp < 0)
		return cora_error_sys(CORA_EIO, "cannot open folder '%s/%s'",
				      root, name);
	return 0;
}

int cora_blob_local_open(struct cora_blobstore **out, const char *root)
{
	struct local_store *ls;
	bool root_made = false, top_made = false, sub_made = false;
	char shown[4096], dir[3];
	int i, rc;

	*out = NULL;
	if (!root || !*root)
		return cora_error_set(CORA_EINVALID, "blob store folder is missing");
	if (mkdir(root, 0700) == 0)
		root_made = true;
	else if (errno != EEXIST)
		return cora_error_sys(CORA_EIO, "cannot create blob store '%s'", root);

	ls = f_malloc(sizeof(*ls));
	if (!ls)
		return oom();
	memset(ls, 0, sizeof(*ls));
	ls->root_fd = ls->objects_fd = ls->tmp_fd = -1;
	ls->base.version = CORA_BLOBSTORE_VERSION;
	ls->base.name = "local";
	ls->base.put_file = local_put_file;
	ls->base.writer_new = local_writer_new;
	ls->base.open = local_open;
	ls->base.read = local_read;
	ls->base.exists = local_exists;
	ls->base.del = local_del;
	ls->base.list = local_list;
	ls->base.verify = local_verify;
	ls->base.path = local_path;
	ls->base.adopt = local_adopt;
	ls->base.adopt_later = local_adopt_later;
	ls->base.persist = local_persist;
	ls->base.free = local_free;

	ls->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ls->root_fd < 0) {
		rc = cora_error_sys(errno == ENOTDIR ? CORA_ENOTDIR : CORA_EIO,
				    "cannot open blob store '%s'", root);
		goto fail;
	}
	if (CORA_FAULT(CORA_FAULT_ALLOC)) {
		errno = ENOMEM;
		ls->root = NULL;
	} else {
		ls->root = realpath(root, NULL);
	}
	if (!ls->root) {
		rc = errno == ENOMEM ? oom() :
		     cora_error_sys(CORA_EIO, "cannot resolve '%s'", root);
		goto fail;
	}

	snprintf(shown, sizeof(shown), "%s/sha256", ls->root);
	rc = ensure_dir(ls->root_fd, "sha256", shown, &top_made);
	if (rc)
		goto fail;
	snprintf(shown, sizeof(shown), "%s/tmp", ls->root);
	rc = ensure_dir(ls->root_fd, "tmp", shown, &top_made);
	if (rc)
		goto fail;
	rc = open_dir_at(ls->root_fd, "sha256", ls->root, &ls->objects_fd);
	if (!rc)
		rc = open_dir_at(ls->root_fd, "tmp", ls->root, &ls->tmp_fd);
	if (rc)
		goto fail;
	for (i = 0; i < 256; i++) {
		snprintf(dir, sizeof(dir), "%02x", i);
		snprintf(shown, sizeof(shown), "%s/sha256/%s", ls->root, dir);
		rc = ensure_dir(ls->objects_fd, dir, shown, &sub_made);
		if (rc)
			goto fail;
	}
	/* Make new folder names durable, innermost first (L7). */
	if (sub_made) {
		snprintf(shown, sizeof(shown), "%s/sha256", ls->root);
		rc = fsync_fd(ls->objects_fd, shown);
		if (rc)
			goto fail;
	}
	if (top_made) {
		rc = fsync_fd(ls->root_fd, ls->root);
		if (rc)
			goto fail;
	}
	if (root_made) {
		rc = fsync_parent(ls->root);
		if (rc)
			goto fail;
	}
	rc = cora_blob_local_cleanup(&ls->base, NULL);
	if (rc)
		goto fail;
	*out = &ls->base;
	return 0;
fail:
	local_free(&ls->base);
	return rc;
}

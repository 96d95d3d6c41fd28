/*
 * corafs.h: the daemon's shared state.
 *
 * The FUSE glue (ops.c, write.c) translates and decides nothing: each op
 * resolves its inode (inode.h), makes one call into core or schema, maps
 * the result (errno.c) and replies once.  Work that needs more than one
 * call sits in helpers here that return 0 or -errno.
 *
 * THREADS AND LOCKS
 *
 *   FUSE runs ops on a pool of worker threads.  Each worker has its own
 *   catalog connection (fs_cat(): one SQLite connection per thread,
 *   opened on first use); the blob store is shared and thread safe.
 *   The pending-file table (write.c) has one mutex, `pending_lock`,
 *   taken for lookups and updates of the table only, never across I/O
 *   or a catalog call.  The watcher thread (watch.c) owns its own
 *   connection and talks to the kernel only through notify calls, never
 *   from inside an op (libfuse may deadlock otherwise).
 *
 *   Lock order: pending_lock, then a handle's lock (struct fs_handle).
 */
#ifndef CORAFS_H
#define CORAFS_H

#define FUSE_USE_VERSION 314

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/catalog.h"

struct fs_pending;

struct corafs {
	char *catalog;               /* CATALOG path */
	struct fuse_session *se;
	struct cora_blobstore *blobs;
	char *staging;               /* CATALOG/staging */

	/* options */
	bool readonly;               /* -o ro */
	bool noxattr;                /* -o noxattr: ENOSYS for xattrs */
	bool debug;
	double attr_timeout;         /* for things that may change */
	double frozen_timeout;       /* for frozen content */
	uid_t uid;
	gid_t gid;

	pthread_key_t cat_key;       /* per-thread struct cora_catalog */

	pthread_mutex_t pending_lock;
	struct fs_pending *pending;  /* files created, not yet committed */
	atomic_uint npending;        /* how many: read without the lock, a
	                              * GETATTR's shortcut when none */

	pthread_t watcher;
	bool watching;
	atomic_bool stopping;        /* the watcher's signal to end */
	int64_t head;                /* log position the kernel has seen */
	int64_t head_time_ns;        /* occurred_at of that event */

	/* small blobs committed through the blob journal since the
	 * watcher last flushed it (catalog.h invariant 5) */
	atomic_uint journalled;
};

/* This thread's catalog connection (opened on first use), or NULL with
 * cora_error_last() set. */
struct cora_catalog *fs_cat(struct corafs *fs);

/* st_blksize of every file: cp and friends size their buffers by it, so
 * it sets how many bytes a WRITE request carries (up to max_write). */
#define FS_BLKSIZE (1 << 20)

/* ---- ops.c -------------------------------------------------------------- */

extern const struct fuse_lowlevel_ops corafs_ops;

/* The attributes of an inode; 0 or -errno. */
int fs_getattr(struct corafs *fs, struct cora_catalog *cat, fuse_ino_t ino,
	       struct stat *st, double *timeout);

/* Replies to a request with the entry of ino (its attributes and
 * timeouts); 0, or -errno without replying. */
int fs_reply_entry(fuse_req_t req, struct corafs *fs,
		   struct cora_catalog *cat, fuse_ino_t ino);

/* Where a node inode lives: its dataset's id and state, the path inside
 * the dataset ("" for the root).  0 or -errno; caller frees *path and
 * json_decref()s *dataset. */
int fs_node_path(struct cora_catalog *cat, uint64_t node, json_t **dataset,
		 char **path);

/* The value of extended attribute `name` of an inode (0, *out
 * allocated), -ENODATA when it has none. */
int fs_xattr_current(struct corafs *fs, struct cora_catalog *cat,
		     fuse_ino_t ino, const char *name, char **out, size_t *len);

/* ---- write.c ------------------------------------------------------------ */

/* 0 when the caller of req may write (and makes it the principal of the
 * events that follow on cat), -EACCES when not. */
int fs_may_write(fuse_req_t req, struct corafs *fs, struct cora_catalog *cat);

void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
	       mode_t mode, struct fuse_file_info *fi);
void fs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv,
		  off_t off, struct fuse_file_info *fi);
void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	      struct fuse_file_info *fi);
void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
	      mode_t mode);
void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	       fuse_ino_t newparent, const char *newname, unsigned int flags);
void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		const char *name);
void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
	     const char *newname);
void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		struct fuse_file_info *fi);
void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		 const char *value, size_t size, int flags);
void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/* Opening an existing file: read-only opens get the blob, others a
 * write handle.  Fills fi; 0 or -errno. */
int fs_open_file(struct corafs *fs, struct cora_catalog *cat, fuse_ino_t ino,
		 struct fuse_file_info *fi);
/* A pending (created, uncommitted) file by folder and name: 0 and its
 * attributes, or -ENOENT. */
int fs_pending_lookup(struct corafs *fs, fuse_ino_t parent, const char *name,
		      struct stat *st);
/* Attributes of a pending inode: 0, or -ENOENT when not pending. */
int fs_pending_getattr(struct corafs *fs, fuse_ino_t ino, struct stat *st);
/* Reads for handles opened through fs_open_file(). */
void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	     struct fuse_file_info *fi);
/* Removes staging files left by a crash (called at start). */
int fs_staging_cleanup(struct corafs *fs);

/* ---- watch.c ------------------------------------------------------------ */

/* Starts the thread that follows the log and invalidates the kernel's
 * caches for what changed (also changes made by other processes). */
int fs_watch_start(struct corafs *fs);
void fs_watch_stop(struct corafs *fs);

#endif

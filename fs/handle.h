/*
 * handle.h: open files (fuse_file_info.fh points at one).
 *
 *   FS_H_BLOB   a committed file opened read-only: the blob's reader;
 *               reads are zero-copy replies from its descriptor.
 *   FS_H_DOC    a generated file: its bytes rendered at open, so one
 *               open sees one consistent version (in memory, or a big
 *               one in an unlinked staging file read zero-copy).
 *   FS_H_EVENTS .cora/events.jsonl: lines streamed from the log.
 *   FS_H_WRITE  a file opened for writing (write.c): bytes go to a
 *               staging file under CATALOG/staging and are committed (blob
 *               durable, then one event) at flush or fsync.
 *
 * STAGING STATE OF A WRITE HANDLE
 *
 *     CLEAN   no staging file; content = the committed blob (or none)
 *       --first write, truncate, or create--> DIRTY
 *     DIRTY   staging file holds the whole new content
 *       --flush / fsync: blob put (durable), event committed--> CLEAN
 *       --commit fails--> DIRTY (the error goes to close() / fsync())
 *
 *   A file created here and never written is not committed at flush but
 *   at release: a flush also comes when a duplicate descriptor closes
 *   (dd, a shell's `> file`), and committing then would make an empty file
 *   visible that its writer was about to fill.  `touch` still creates it,
 *   at release.
 *
 *   A staging file is named CATALOG/staging/w-<pid>-<serial>; a daemon
 *   that starts removes every w-* file (fs_staging_cleanup): a file whose
 *   bytes were never committed was never acknowledged to anyone.
 */
#ifndef CORAFS_HANDLE_H
#define CORAFS_HANDLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/hash.h"

struct cora_blob_reader;
struct hash_turn;

enum fs_handle_kind {
	FS_H_BLOB,
	FS_H_DOC,
	FS_H_EVENTS,
	FS_H_WRITE,
};

struct fs_handle {
	enum fs_handle_kind kind;
	uint64_t ino;

	/* FS_H_BLOB (and FS_H_WRITE while CLEAN with content) */
	struct cora_blob_reader *reader;

	/* FS_H_DOC: the bytes in doc, or for a document bigger than the
	 * daemon keeps in memory in doc_fd, an unlinked file in the staging
	 * folder (-1 when none), closed at release */
	char *doc;
	size_t doc_len;
	int doc_fd;

	/* FS_H_EVENTS: a cursor, so sequential reads do not rescan */
	int64_t ev_position;     /* last event copied */
	uint64_t ev_offset;      /* file offset just after it */

	/* FS_H_WRITE */
	pthread_mutex_t lock;
	char *dataset_id;        /* the dataset written into */
	char principal[37];      /* actor id of the writer (events) */
	char *path;              /* path inside the dataset */
	bool pending;            /* created here, no event yet */
	bool written;            /* a byte was written (or size set) */
	bool unlinked;           /* removed while pending: never commit */
	int refs;                /* the open file, the pending table and
	                          * ops working on it (atomic) */
	bool dirty;
	int fd;                  /* staging file, -1 when CLEAN */
	int dfd;                 /* the same with O_DIRECT, for writes
	                          * behind (write.c); -1 none yet, -2 none
	                          * to be had */
	bool write_only;         /* opened O_WRONLY: direct_io, and writes
	                          * behind the reply */
	char *staging;           /* its name */
	char sha256[65];         /* committed content ("" when none) */
	uint64_t size;           /* current size */
	uint32_t mode;
	int64_t mtime_ns;
	int64_t uid, gid;        /* owner (-1: the mount's) */
	bool mtime_set;          /* utimens while open: keep it */
	bool mode_set;           /* chmod through this handle: keep it;
	                          * else commit keeps the node's mode, which
	                          * a chmod by path may have changed */
	bool kill_priv;          /* written by a caller other than root:
	                          * commit drops set-user-ID (and
	                          * set-group-ID with group execute) */
	/* hashing while data arrives (write.c): valid while writes were
	 * sequential */
	struct cora_sha256 hash;
	bool hashing;
	pthread_mutex_t hash_lock; /* taken inside h->lock; guards the
	                          * fields below but synced */
	bool hash_cancel;        /* given up: turns in flight skip it */
	uint64_t claimed;        /* bytes claimed by WRITEs for the hash
	                          * (changes under h->lock as well) */
	uint64_t hashed;         /* bytes of those hashed (<= claimed) */
	uint64_t synced;         /* writeback started up to here */
	struct hash_turn *turns; /* claims in flight */
	pthread_cond_t hash_cond; /* hashed reached claimed */
	pthread_t hasher;        /* past HASH_BEHIND_FROM: hashes behind
	                          * the writer on a CPU of its own */
	bool hasher_on, hasher_stop;
	pthread_cond_t hasher_cond; /* a turn for the hasher thread */
	int lost;                /* -errno of a write behind that failed */
	int error;               /* sticky -errno from a failed commit or a
	                          * lost write: every later flush and fsync
	                          * of this handle reports it */
};

#endif

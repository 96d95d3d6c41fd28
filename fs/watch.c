/*
 * watch.c: following the log and telling the kernel what changed.
 *
 * The kernel caches names and attributes for as long as corafs says
 * (long, for speed: anchors lesson 4).  This thread polls the head of the
 * log (one indexed query, every 200 ms) and, for each new event, whatever
 * process appended it, invalidates exactly the inodes and names the event
 * touched: the entity's folder and generated files, the dataset nodes a
 * tree event names, README.txt and .cora/events.jsonl.  A change made with
 * `cora` therefore shows in the mount well within a second.  The same
 * thread flushes the blob journal (catalog.h invariant 5).
 */
#include "fs/corafs.h"

#include "core/clock.h"
#include "core/blobstore.h"
#include "core/error.h"
#include "core/projection.h"
#include "fs/inode.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 200
#define SEEN_SLOTS 4096 /* notifications remembered per scan */
#define JOURNAL_POLLS 5 /* flush the blob journal every 5 polls (1 s) */
#define JOURNAL_ROWS 512 /* or as soon as this many rows wait */

/* What one scan already told the kernel.  Every event of a scan is
 * committed before the scan starts, so a second identical notice in the
 * same scan says nothing new (whatever the kernel looked up in between
 * already saw the state after all of them); a cp -r of 1,000 files
 * would otherwise send the same dataset's folder and generated files
 * 1,000 times.  Open addressing over a 64-bit hash of (kind, inode,
 * name) (a collision, which would skip one notice, has odds near 2^-40
 * per scan); a full table simply stops remembering. */
struct seen {
	uint64_t slot[SEEN_SLOTS]; /* 0: empty */
	unsigned used;
};

static struct seen seen; /* the watcher thread's alone */

static bool seen_before(uint64_t key)
{
	unsigned i;

	key |= 1; /* never 0 */
	for (i = (unsigned)(key % SEEN_SLOTS); seen.slot[i];
	     i = (i + 1) % SEEN_SLOTS)
		if (seen.slot[i] == key)
			return true;
	if (seen.used + 1 >= SEEN_SLOTS)
		return false;
	seen.slot[i] = key;
	seen.used++;
	return false;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ull; /* FNV-1a step, 64 bit */
}

static void inval_inode(struct corafs *fs, fuse_ino_t ino)
{
	if (!seen_before(mix(mix(0xcbf29ce484222325ull, 'i'), ino)))
		fuse_lowlevel_notify_inval_inode(fs->se, ino, 0, 0);
}

static void inval_entry(struct corafs *fs, fuse_ino_t parent,
			const char *name)
{
	uint64_t h = mix(mix(0xcbf29ce484222325ull, 'e'), parent);
	const char *c;

	for (c = name; *c; c++)
		h = mix(h, (unsigned char)*c);
	if (!seen_before(h))
		fuse_lowlevel_notify_inval_entry(fs->se, parent, name,
						 strlen(name));
}

/* The fuse inode of the folder holding path, and the last component. */
static int parent_of(struct cora_catalog *cat, const char *dataset_id,
		     const char *path, fuse_ino_t *parent, const char **leaf)
{
	struct cora_node_info info;
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc;

	*leaf = slash ? slash + 1 : path;
	dir = slash ? strndup(path, (size_t)(slash - path)) : strdup("");
	if (!dir)
		return -1;
	rc = cora_node_get(cat, dataset_id, dir, &info);
	free(dir);
	if (rc)
		return -1;
	*parent = fs_ino(FS_TAG_NODE, (uint64_t)info.ino, 0);
	return 0;
}

static void touch_path(struct corafs *fs, struct cora_catalog *cat,
		       const char *dataset_id, const char *path)
{
	struct cora_node_info info;
	fuse_ino_t parent;
	const char *leaf;

	if (!path)
		return;
	if (parent_of(cat, dataset_id, path, &parent, &leaf) == 0) {
		inval_entry(fs, parent, leaf);
		inval_inode(fs, parent);
	}
	if (cora_node_get(cat, dataset_id, path, &info) == 0)
		inval_inode(fs, fs_ino(FS_TAG_NODE, (uint64_t)info.ino, 0));
}

static int on_event(void *arg, const struct cora_event *e)
{
	struct corafs *fs = arg;
	struct cora_catalog *cat = pthread_getspecific(fs->cat_key);
	json_t *state = NULL;
	int64_t rowid = 0;
	const char *slug;
	int k;

	if (cora_entity_get(cat, NULL, e->stream_id, &state, NULL, &rowid) != 0)
		return 0;
	slug = cora_json_str(state, "slug");
	for (k = 0; k < 4; k++)
		inval_inode(fs, fs_ino(FS_TAG_DOC + k, (uint64_t)rowid, 0));
	if (strcmp(e->stream_type, "Asset") == 0) {
		inval_inode(fs, fs_ino(FS_TAG_ASSET, (uint64_t)rowid, 0));
		if (slug)
			inval_entry(fs, fs_ino(FS_TAG_FIXED, FS_ASSETS, 0), slug);
	} else if (strcmp(e->stream_type, "Bundle") == 0) {
		const char *member = cora_json_str(e->payload, "dataset_id");
		json_t *ds;

		inval_inode(fs, fs_ino(FS_TAG_BUNDLE, (uint64_t)rowid, 0));
		if (slug)
			inval_entry(fs, fs_ino(FS_TAG_FIXED, FS_BUNDLES, 0), slug);
		/* a member added or removed: its name in the bundle folder */
		if (member && cora_entity_get(cat, "Dataset", member, &ds, NULL,
					      NULL) == 0) {
			if (cora_json_str(ds, "slug"))
				inval_entry(fs, fs_ino(FS_TAG_BUNDLE,
					    (uint64_t)rowid, 0),
					    cora_json_str(ds, "slug"));
			json_decref(ds);
		}
	} else if (strcmp(e->stream_type, "Dataset") == 0) {
		struct cora_node_info root;
		if (slug)
			inval_entry(fs, fs_ino(FS_TAG_FIXED, FS_DATASETS, 0),
				    slug);
		if (cora_node_get(cat, e->stream_id, "", &root) == 0)
			inval_inode(fs, fs_ino(FS_TAG_NODE, (uint64_t)root.ino,
					       0));
		touch_path(fs, cat, e->stream_id,
			   cora_json_str(e->payload, "path"));
		touch_path(fs, cat, e->stream_id,
			   cora_json_str(e->payload, "from"));
		touch_path(fs, cat, e->stream_id,
			   cora_json_str(e->payload, "to"));
		/* a removed node's inode (gone from the tree) keeps its
		 * cached pages until forgotten; names were dropped above */
	}
	json_decref(state);
	{
		int64_t us;
		if (cora_time_parse(&us, e->occurred_at) == 0)
			fs->head_time_ns = cora_time_us_to_ns(us);
	}
	fs->head = e->position;
	return 0;
}

/* Makes the blobs the mount journalled durable (catalog.h invariant 5):
 * about once a second while files are being written, at once when many
 * wait, and at unmount. */
static void flush_journal(struct corafs *fs, struct cora_catalog *cat)
{
	unsigned n = atomic_exchange(&fs->journalled, 0);

	if (n == 0)
		return;
	if (cora_blob_journal_flush(cat, fs->blobs, NULL, NULL) != 0) {
		fprintf(stderr, "corafs: %s (will try again)\n",
			cora_error_last());
		atomic_fetch_add(&fs->journalled, n);
	}
}

static void *watch_main(void *arg)
{
	struct corafs *fs = arg;
	struct cora_catalog *cat = fs_cat(fs);
	struct timespec ts = { 0, POLL_MS * 1000000L };
	unsigned polls = 0;
	int64_t head;

	if (!cat)
		return NULL;
	while (!atomic_load(&fs->stopping)) {
		nanosleep(&ts, NULL);
		if (++polls % JOURNAL_POLLS == 0 ||
		    atomic_load(&fs->journalled) >= JOURNAL_ROWS)
			flush_journal(fs, cat);
		if (cora_store_head(cat, &head) != 0 || head <= fs->head)
			continue;
		memset(&seen, 0, sizeof(seen));
		cora_store_scan(cat, NULL, fs->head, on_event, fs);
		inval_inode(fs, fs_ino(FS_TAG_FIXED, FS_README, 0));
		inval_inode(fs, fs_ino(FS_TAG_FIXED, FS_EVENTS, 0));
		inval_inode(fs, 1);
		inval_inode(fs, fs_ino(FS_TAG_FIXED, FS_ASSETS, 0));
		inval_inode(fs, fs_ino(FS_TAG_FIXED, FS_DATASETS, 0));
		inval_inode(fs, fs_ino(FS_TAG_FIXED, FS_BUNDLES, 0));
	}
	return NULL;
}

int fs_watch_start(struct corafs *fs)
{
	struct cora_catalog *cat = fs_cat(fs);
	int64_t head;

	if (!cat || cora_store_head(cat, &head) != 0)
		return -1;
	/* the newest event's time is the mtime of the fixed folders */
	fs->head = head > 0 ? head - 1 : 0;
	memset(&seen, 0, sizeof(seen));
	cora_store_scan(cat, NULL, fs->head, on_event, fs);
	fs->head = head;
	atomic_store(&fs->stopping, false);
	if (pthread_create(&fs->watcher, NULL, watch_main, fs) != 0)
		return -1;
	fs->watching = true;
	return 0;
}

void fs_watch_stop(struct corafs *fs)
{
	struct cora_catalog *cat;

	if (!fs->watching)
		return;
	atomic_store(&fs->stopping, true);
	pthread_join(fs->watcher, NULL);
	fs->watching = false;
	cat = fs_cat(fs);
	if (cat)
		flush_journal(fs, cat);
}

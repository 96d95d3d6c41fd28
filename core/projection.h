/*
 * projection.h: the read models kept beside the log (catalog.h, tables
 * entities and nodes), and the queries the mount and the CLI make on them.
 *
 * cora_project() is called by the command runner for every appended event,
 * inside the appending transaction (invariant 3 of catalog.h), and by
 * cora fsck when it replays the log into a scratch database.  It must be a
 * pure function of (projections so far, event, folded state), so that a
 * replay reproduces the projections row for row.
 *
 * NODE EVENTS (Dataset stream)
 *
 *     DatasetRegistered      root folder node: parent 0, name = dataset id
 *     DatasetFolderAdded     folder node at path
 *     DatasetFileAdded       file node (sha256, size, mode, mtime_ns)
 *     DatasetFileReplaced    same node, new content and attributes
 *     DatasetSymlinkAdded    link node; size = length of the target
 *     DatasetEntryMoved      node re-parented and renamed; a node already
 *                            at the target (file, link or empty folder)
 *                            is removed first, as rename(2) does
 *     DatasetFileRemoved     node removed (file or link)
 *     DatasetFolderRemoved   node removed (an empty folder)
 *     DatasetModeChanged     mode bits
 *     DatasetMtimeChanged    mtime_ns
 *     DatasetOwnerChanged    uid and gid
 *     DatasetXattrSet/Removed  the node's xattrs object {name: base64}
 *     DatasetDiscarded       every node of the dataset removed (its bytes
 *                            become garbage for `cora gc`)
 *
 * Adding, removing or moving an entry sets its folder's mtime_ns to the
 * event's occurred_at, as POSIX does for directories.
 */
#ifndef CORA_PROJECTION_H
#define CORA_PROJECTION_H

#include "core/catalog.h"

/* Applies event e (already appended) whose stream now has `state`. */
int cora_project(struct cora_catalog *cat, const struct cora_event *e,
		 const json_t *state);

/* The entity row of a stream, by id or slug (slug needs stream_type).
 * *state is a new reference; version and rowid may be NULL. */
int cora_entity_get(struct cora_catalog *cat, const char *stream_type,
		    const char *ref, json_t **state, int64_t *version,
		    int64_t *rowid);

/* The node at `path` of a dataset ("" = the root folder). */
int cora_node_get(struct cora_catalog *cat, const char *dataset_id,
		  const char *path, struct cora_node_info *info);

/* Number of entries in a folder node. */
int cora_node_count_children(struct cora_catalog *cat, int64_t ino,
			     int64_t *count);

/* Calls fn for each regular file of a dataset with its relative path,
 * in no particular order. */
int cora_dataset_files(struct cora_catalog *cat, const char *dataset_id,
		       int (*fn)(void *arg, const char *path,
				 const struct cora_node_info *info),
		       void *arg);

#endif

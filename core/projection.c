/*
 * projection.c: keeping entities and nodes in step with the log, and the
 * lookups made on them.  The node events are listed in projection.h.
 */
#include "core/projection.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/fault.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static int step_done(struct cora_catalog *cat, sqlite3_stmt *s,
		     const char *what)
{
	int rc;

	if (CORA_FAULT(CORA_FAULT_SQLITE)) {
		sqlite3_reset(s);
		return cora_error_set(CORA_EIO, "%s failed: injected fault",
				      what);
	}
	rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return cora_sqlite_error(cat, rc, what);
	return 0;
}

/* ---- entities ---------------------------------------------------------------- */

static int project_entity(struct cora_catalog *cat, const struct cora_event *e,
			  const json_t *state)
{
	sqlite3_stmt *s = cora_stmt(cat,
		"INSERT INTO entities(stream_type, stream_id, slug, version,"
		" state, created_at, updated_at, position)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
		" ON CONFLICT(stream_id) DO UPDATE SET slug = excluded.slug,"
		" version = excluded.version, state = excluded.state,"
		" updated_at = excluded.updated_at,"
		" position = excluded.position");
	const char *created = cora_json_str(state, "created_at");
	const char *updated = cora_json_str(state, "updated_at");
	char *json;

	if (!s)
		return cora_error_code();
	json = cora_json_dump(state);
	if (!json)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	sqlite3_bind_text(s, 1, e->stream_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, e->stream_id, -1, SQLITE_STATIC);
	if (cora_json_str(state, "slug"))
		sqlite3_bind_text(s, 3, cora_json_str(state, "slug"), -1,
				  SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, e->version);
	sqlite3_bind_text(s, 5, json, -1, free);
	sqlite3_bind_text(s, 6, created ? created : e->occurred_at, -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(s, 7, updated ? updated : e->occurred_at, -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, e->position);
	return step_done(cat, s, "updating an entity");
}

/* ---- nodes ---------------------------------------------------------------- */

static int64_t time_ns(const char *rfc3339)
{
	int64_t us = 0;

	if (rfc3339)
		cora_time_parse(&us, rfc3339);
	return cora_time_us_to_ns(us);
}

static int root_ino(struct cora_catalog *cat, const char *dataset_id,
		    int64_t *ino)
{
	sqlite3_stmt *s = cora_stmt(cat,
		"SELECT ino FROM nodes WHERE parent = 0 AND name = ?1");
	int rc;

	if (!s)
		return cora_error_code();
	sqlite3_bind_text(s, 1, dataset_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ino = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return CORA_ENOTFOUND;
	return cora_sqlite_error(cat, rc, "looking up a dataset");
}

static int child_ino(struct cora_catalog *cat, int64_t parent,
		     const char *name, size_t len, int64_t *ino)
{
	sqlite3_stmt *s = cora_stmt(cat,
		"SELECT ino FROM nodes WHERE parent = ?1 AND name = ?2");
	int rc;

	if (!s)
		return cora_error_code();
	sqlite3_bind_int64(s, 1, parent);
	sqlite3_bind_text(s, 2, name, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ino = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return CORA_ENOTFOUND;
	return cora_sqlite_error(cat, rc, "looking up a node");
}

/* Resolves path to a node ino.  With `parent_only`, resolves the folder
 * holding the last component and points *leaf at that component. */
static int resolve(struct cora_catalog *cat, const char *dataset_id,
		   const char *path, bool parent_only, int64_t *ino,
		   const char **leaf)
{
	const char *p = path, *slash;
	int64_t cur;
	int rc;

	rc = root_ino(cat, dataset_id, &cur);
	if (rc)
		return rc;
	while (*p) {
		slash = strchr(p, '/');
		if (parent_only && !slash) {
			*leaf = p;
			break;
		}
		rc = child_ino(cat, cur, p,
			       slash ? (size_t)(slash - p) : strlen(p), &cur);
		if (rc)
			return rc;
		if (!slash) {
			p += strlen(p);
			break;
		}
		p = slash + 1;
	}
	if (parent_only && !*p && leaf)
		*leaf = p;
	*ino = cur;
	return 0;
}

static int corrupt_path(const struct cora_event *e, const char *path)
{
	return cora_error_set(CORA_ECORRUPT,
			      "event %lld (%s) names '%s', which is not in "
			      "the tree of dataset %s", (long long)e->position,
			      e->event_type, path, e->stream_id);
}

static int touch_folder(struct cora_catalog *cat, int64_t ino, int64_t ns,
			int64_t position)
{
	sqlite3_stmt *s = cora_stmt(cat,
		"UPDATE nodes SET mtime_ns = ?2, position = ?3 WHERE ino = ?1");

	if (!s)
		return cora_error_code();
	sqlite3_bind_int64(s, 1, ino);
	sqlite3_bind_int64(s, 2, ns);
	sqlite3_bind_int64(s, 3, position);
	return step_done(cat, s, "updating a folder");
}

static int insert_node(struct cora_catalog *cat, const struct cora_event *e,
		       int64_t parent, const char *name, const char *type,
		       const json_t *p)
{
	sqlite3_stmt *s = cora_stmt(cat,
		"INSERT INTO nodes(dataset_id, parent, name, type, size,"
		" sha256, mode, mtime_ns, target, position, ino, uid, gid)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		" ?13)");
	const char *target = cora_json_str(p, "target");
	int64_t size = target ? (int64_t)strlen(target) :
		       cora_json_int(p, "size", 0);
	int rc;

	if (!s)
		return cora_error_code();
	sqlite3_bind_text(s, 1, e->stream_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, parent);
	sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, size);
	if (cora_json_str(p, "sha256"))
		sqlite3_bind_text(s, 6, cora_json_str(p, "sha256"), -1,
				  SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, cora_json_int(p, "mode",
					       type[0] == 'd' ? 0755 :
					       type[0] == 'l' ? 0777 : 0644));
	sqlite3_bind_int64(s, 8, cora_json_int(p, "mtime_ns",
					       time_ns(e->occurred_at)));
	if (target)
		sqlite3_bind_text(s, 9, target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 10, e->position);
	/* catalog.h invariant 4: the creating event's position, or the
	 * number the mount reserved */
	sqlite3_bind_int64(s, 11, cora_json_int(p, "ino", e->position));
	if (json_is_integer(json_object_get(p, "uid")))
		sqlite3_bind_int64(s, 12, cora_json_int(p, "uid", 0));
	if (json_is_integer(json_object_get(p, "gid")))
		sqlite3_bind_int64(s, 13, cora_json_int(p, "gid", 0));
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return cora_error_set(CORA_ECORRUPT,
				      "event %lld (%s): '%s' exists already",
				      (long long)e->position, e->event_type,
				      name);
	if (rc != SQLITE_DONE)
		return cora_sqlite_error(cat, rc, "adding a node");
	return 0;
}

static int delete_node(struct cora_catalog *cat, int64_t ino)
{
	sqlite3_stmt *s = cora_stmt(cat, "DELETE FROM nodes WHERE ino = ?1");

	if (!s)
		return cora_error_code();
	sqlite3_bind_int64(s, 1, ino);
	return step_done(cat, s, "removing a node");
}

/* Applies `set` (an UPDATE with ?1 = ino, ?2 = value, ?3 = position). */
static int update_node(struct cora_catalog *cat, const char *sql,
		       int64_t ino, const json_t *value, int64_t position)
{
	sqlite3_stmt *s = cora_stmt(cat, sql);

	if (!s)
		return cora_error_code();
	sqlite3_bind_int64(s, 1, ino);
	if (json_is_integer(value))
		sqlite3_bind_int64(s, 2, json_integer_value(value));
	else if (json_is_string(value))
		sqlite3_bind_text(s, 2, json_string_value(value), -1,
				  SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, position);
	return step_done(cat, s, "updating a node");
}

static int node_add(struct cora_catalog *cat, const struct cora_event *e,
		    const char *type)
{
	const char *path = cora_json_str(e->payload, "path"), *leaf = NULL;
	int64_t parent;
	int rc;

	if (!path || resolve(cat, e->stream_id, path, true, &parent, &leaf))
		return corrupt_path(e, path ? path : "");
	rc = insert_node(cat, e, parent, leaf, type, e->payload);
	if (rc == 0)
		rc = touch_folder(cat, parent, time_ns(e->occurred_at),
				  e->position);
	return rc;
}

static int node_remove(struct cora_catalog *cat, const struct cora_event *e)
{
	const char *path = cora_json_str(e->payload, "path"), *leaf;
	int64_t ino, parent;
	int rc;

	if (!path || resolve(cat, e->stream_id, path, true, &parent, &leaf) ||
	    child_ino(cat, parent, leaf, strlen(leaf), &ino))
		return corrupt_path(e, path ? path : "");
	rc = delete_node(cat, ino);
	if (rc == 0)
		rc = touch_folder(cat, parent, time_ns(e->occurred_at),
				  e->position);
	return rc;
}

static int node_move(struct cora_catalog *cat, const struct cora_event *e)
{
	const char *from = cora_json_str(e->payload, "from");
	const char *to = cora_json_str(e->payload, "to");
	const char *from_leaf, *to_leaf;
	int64_t ino, from_parent, to_parent, existing;
	sqlite3_stmt *s;
	int rc;

	if (!from || resolve(cat, e->stream_id, from, true, &from_parent,
			     &from_leaf) ||
	    child_ino(cat, from_parent, from_leaf, strlen(from_leaf), &ino))
		return corrupt_path(e, from ? from : "");
	if (!to || resolve(cat, e->stream_id, to, true, &to_parent, &to_leaf))
		return corrupt_path(e, to ? to : "");
	if (child_ino(cat, to_parent, to_leaf, strlen(to_leaf), &existing) == 0) {
		rc = delete_node(cat, existing);
		if (rc)
			return rc;
	}
	s = cora_stmt(cat, "UPDATE nodes SET parent = ?2, name = ?3,"
		      " position = ?4 WHERE ino = ?1");
	if (!s)
		return cora_error_code();
	sqlite3_bind_int64(s, 1, ino);
	sqlite3_bind_int64(s, 2, to_parent);
	sqlite3_bind_text(s, 3, to_leaf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, e->position);
	rc = step_done(cat, s, "moving a node");
	if (rc == 0)
		rc = touch_folder(cat, from_parent, time_ns(e->occurred_at),
				  e->position);
	if (rc == 0 && to_parent != from_parent)
		rc = touch_folder(cat, to_parent, time_ns(e->occurred_at),
				  e->position);
	return rc;
}

static int node_at(struct cora_catalog *cat, const struct cora_event *e,
		   int64_t *ino)
{
	const char *path = cora_json_str(e->payload, "path");

	if (!path || resolve(cat, e->stream_id, path, false, ino, NULL))
		return corrupt_path(e, path ? path : "");
	return 0;
}

static int node_replace(struct cora_catalog *cat, const struct cora_event *e)
{
	sqlite3_stmt *s;
	int64_t ino;
	int rc = node_at(cat, e, &ino);

	if (rc)
		return rc;
	s = cora_stmt(cat, "UPDATE nodes SET sha256 = ?2, size = ?3,"
		      " mode = ?4, mtime_ns = ?5, position = ?6 WHERE ino = ?1");
	if (!s)
		return cora_error_code();
	sqlite3_bind_int64(s, 1, ino);
	sqlite3_bind_text(s, 2, cora_json_str(e->payload, "sha256"), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, cora_json_int(e->payload, "size", 0));
	sqlite3_bind_int64(s, 4, cora_json_int(e->payload, "mode", 0644));
	sqlite3_bind_int64(s, 5, cora_json_int(e->payload, "mtime_ns",
					       time_ns(e->occurred_at)));
	sqlite3_bind_int64(s, 6, e->position);
	return step_done(cat, s, "replacing a file");
}

static int node_set(struct cora_catalog *cat, const struct cora_event *e,
		    const char *key, const char *sql)
{
	int64_t ino;
	int rc = node_at(cat, e, &ino);

	if (rc)
		return rc;
	return update_node(cat, sql, ino, json_object_get(e->payload, key),
			   e->position);
}

static int node_xattr(struct cora_catalog *cat, const struct cora_event *e,
		      bool set)
{
	sqlite3_stmt *s;
	const char *name = cora_json_str(e->payload, "name");
	json_t *xattrs = NULL;
	json_error_t jerr;
	char *json;
	int64_t ino;
	int rc = node_at(cat, e, &ino);

	if (rc)
		return rc;
	s = cora_stmt(cat, "SELECT xattrs FROM nodes WHERE ino = ?1");
	if (!s)
		return cora_error_code();
	sqlite3_bind_int64(s, 1, ino);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		xattrs = json_loads((const char *)sqlite3_column_text(s, 0), 0,
				    &jerr);
	sqlite3_reset(s);
	if (!xattrs)
		xattrs = json_object();
	if (set)
		json_object_set_new(xattrs, name ? name : "",
			json_string(cora_json_str(e->payload, "value") ?
				    cora_json_str(e->payload, "value") : ""));
	else
		json_object_del(xattrs, name ? name : "");
	json = json_object_size(xattrs) ? cora_json_dump(xattrs) : NULL;
	json_decref(xattrs);
	s = cora_stmt(cat, "UPDATE nodes SET xattrs = ?2, position = ?3"
		      " WHERE ino = ?1");
	if (!s) {
		free(json);
		return cora_error_code();
	}
	sqlite3_bind_int64(s, 1, ino);
	if (json)
		sqlite3_bind_text(s, 2, json, -1, free);
	sqlite3_bind_int64(s, 3, e->position);
	return step_done(cat, s, "setting an extended attribute");
}

static int node_root(struct cora_catalog *cat, const struct cora_event *e)
{
	return insert_node(cat, e, 0, e->stream_id, "d", e->payload);
}

static int node_discard(struct cora_catalog *cat, const struct cora_event *e)
{
	sqlite3_stmt *s = cora_stmt(cat,
		"DELETE FROM nodes WHERE dataset_id = ?1");

	if (!s)
		return cora_error_code();
	sqlite3_bind_text(s, 1, e->stream_id, -1, SQLITE_STATIC);
	return step_done(cat, s, "removing a dataset's files");
}

static int project_nodes(struct cora_catalog *cat, const struct cora_event *e)
{
	const char *t = e->event_type;

	if (strcmp(t, "DatasetRegistered") == 0)
		return node_root(cat, e);
	if (strcmp(t, "DatasetFileAdded") == 0)
		return node_add(cat, e, "f");
	if (strcmp(t, "DatasetFolderAdded") == 0)
		return node_add(cat, e, "d");
	if (strcmp(t, "DatasetSymlinkAdded") == 0)
		return node_add(cat, e, "l");
	if (strcmp(t, "DatasetFileReplaced") == 0)
		return node_replace(cat, e);
	if (strcmp(t, "DatasetEntryMoved") == 0)
		return node_move(cat, e);
	if (strcmp(t, "DatasetFileRemoved") == 0 ||
	    strcmp(t, "DatasetFolderRemoved") == 0)
		return node_remove(cat, e);
	if (strcmp(t, "DatasetModeChanged") == 0)
		return node_set(cat, e, "mode", "UPDATE nodes SET mode = ?2,"
				" position = ?3 WHERE ino = ?1");
	if (strcmp(t, "DatasetMtimeChanged") == 0)
		return node_set(cat, e, "mtime_ns", "UPDATE nodes SET"
				" mtime_ns = ?2, position = ?3 WHERE ino = ?1");
	if (strcmp(t, "DatasetOwnerChanged") == 0)
		return node_set(cat, e, "uid", "UPDATE nodes SET uid = ?2,"
				" position = ?3 WHERE ino = ?1") ||
		       node_set(cat, e, "gid", "UPDATE nodes SET gid = ?2,"
				" position = ?3 WHERE ino = ?1") ?
		       cora_error_code() : 0;
	if (strcmp(t, "DatasetXattrSet") == 0)
		return node_xattr(cat, e, true);
	if (strcmp(t, "DatasetXattrRemoved") == 0)
		return node_xattr(cat, e, false);
	if (strcmp(t, "DatasetDiscarded") == 0)
		return node_discard(cat, e);
	return 0;
}

int cora_project(struct cora_catalog *cat, const struct cora_event *e,
		 const json_t *state)
{
	int rc = project_entity(cat, e, state);

	if (rc == 0 && strcmp(e->stream_type, "Dataset") == 0)
		rc = project_nodes(cat, e);
	return rc;
}

/* ---- queries --------------------------------------------------------------- */

int cora_entity_get(struct cora_catalog *cat, const char *stream_type,
		    const char *ref, json_t **state, int64_t *version,
		    int64_t *rowid)
{
	sqlite3_stmt *s = cora_stmt(cat,
		"SELECT state, version, rowid FROM entities"
		" WHERE (stream_id = ?2 OR slug = ?2)"
		" AND (?1 IS NULL OR stream_type = ?1)"
		" ORDER BY stream_id = ?2 DESC LIMIT 1");
	json_error_t jerr;
	int rc;

	*state = NULL;
	if (!s)
		return cora_error_code();
	if (stream_type)
		sqlite3_bind_text(s, 1, stream_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return CORA_ENOTFOUND;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return cora_sqlite_error(cat, rc, "reading an entity");
	}
	*state = json_loads((const char *)sqlite3_column_text(s, 0), 0, &jerr);
	if (version)
		*version = sqlite3_column_int64(s, 1);
	if (rowid)
		*rowid = sqlite3_column_int64(s, 2);
	sqlite3_reset(s);
	if (!*state)
		return cora_error_set(CORA_ECORRUPT, "entity '%s' has a bad "
				      "state: %s", ref, jerr.text);
	return 0;
}

int cora_node_get(struct cora_catalog *cat, const char *dataset_id,
		  const char *path, struct cora_node_info *info)
{
	sqlite3_stmt *s;
	int64_t ino;
	int rc = resolve(cat, dataset_id, path, false, &ino, NULL);

	if (rc)
		return rc;
	s = cora_stmt(cat, "SELECT type, size, sha256, mode, mtime_ns,"
		      " coalesce(uid, -1), coalesce(gid, -1)"
		      " FROM nodes WHERE ino = ?1");
	if (!s)
		return cora_error_code();
	sqlite3_bind_int64(s, 1, ino);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return cora_sqlite_error(cat, rc, "reading a node");
	}
	memset(info, 0, sizeof(*info));
	info->ino = ino;
	info->type = (char)sqlite3_column_text(s, 0)[0];
	info->size = sqlite3_column_int64(s, 1);
	if (sqlite3_column_text(s, 2))
		snprintf(info->sha256, sizeof(info->sha256), "%s",
			 (const char *)sqlite3_column_text(s, 2));
	info->mode = (uint32_t)sqlite3_column_int64(s, 3);
	info->mtime_ns = sqlite3_column_int64(s, 4);
	info->uid = sqlite3_column_int64(s, 5);
	info->gid = sqlite3_column_int64(s, 6);
	sqlite3_reset(s);
	return 0;
}

int cora_node_count_children(struct cora_catalog *cat, int64_t ino,
			     int64_t *count)
{
	sqlite3_stmt *s = cora_stmt(cat,
		"SELECT count(*) FROM nodes WHERE parent = ?1");
	int rc;

	if (!s)
		return cora_error_code();
	sqlite3_bind_int64(s, 1, ino);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return cora_sqlite_error(cat, rc, "counting a folder");
	}
	*count = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return 0;
}

int cora_dataset_files(struct cora_catalog *cat, const char *dataset_id,
		       int (*fn)(void *arg, const char *path,
				 const struct cora_node_info *info),
		       void *arg)
{
	struct cora_node_info info;
	sqlite3_stmt *s;
	int64_t root;
	int rc = root_ino(cat, dataset_id, &root);

	if (rc == CORA_ENOTFOUND)
		return 0;  /* a discarded dataset has no files */
	if (rc)
		return rc;
	/* Not cached: fn may query the catalog itself. */
	rc = sqlite3_prepare_v2(cat->db,
		"WITH RECURSIVE t(ino, path, type) AS ("
		"  SELECT ino, name, type FROM nodes WHERE parent = ?1"
		"  UNION ALL"
		"  SELECT n.ino, t.path || '/' || n.name, n.type"
		"  FROM nodes n JOIN t ON n.parent = t.ino WHERE t.type = 'd')"
		" SELECT t.ino, t.path, n.size, n.sha256, n.mode, n.mtime_ns"
		" FROM t JOIN nodes n ON n.ino = t.ino WHERE t.type = 'f'",
		-1, &s, NULL);
	if (rc != SQLITE_OK)
		return cora_sqlite_error(cat, rc, "listing files");
	sqlite3_bind_int64(s, 1, root);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&info, 0, sizeof(info));
		info.ino = sqlite3_column_int64(s, 0);
		info.type = 'f';
		info.size = sqlite3_column_int64(s, 2);
		snprintf(info.sha256, sizeof(info.sha256), "%s",
			 sqlite3_column_text(s, 3) ?
			 (const char *)sqlite3_column_text(s, 3) : "");
		info.mode = (uint32_t)sqlite3_column_int64(s, 4);
		info.mtime_ns = sqlite3_column_int64(s, 5);
		info.uid = info.gid = -1; /* not needed by file walks */
		rc = fn(arg, (const char *)sqlite3_column_text(s, 1), &info);
		if (rc) {
			sqlite3_finalize(s);
			return rc;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 :
	       cora_sqlite_error(cat, rc, "listing files");
}

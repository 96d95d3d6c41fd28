/*
 * ops.c: the read side of the mount: lookup, getattr, readdir(plus),
 * open and read of committed and generated files, readlink, xattrs,
 * statfs, and the table of all operations.  The tree is DESIGN section
 * 1; inode numbers are inode.h.
 */
#include "fs/corafs.h"

#include "core/base64.h"
#include "core/blobstore.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/io.h"
#include "core/projection.h"
#include "fs/errno.h"
#include "fs/handle.h"
#include "fs/inode.h"
#include "schema/render.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#define DIR_MODE (S_IFDIR | 0755)

/* The generated files of each kind of folder. */
static const enum fs_doc asset_docs[] = { FS_DOC_DATACITE, FS_DOC_PIDINST };
static const enum fs_doc dataset_docs[] = { FS_DOC_ROCRATE, FS_DOC_DATACITE };
static const enum fs_doc bundle_docs[] = { FS_DOC_ROCRATE, FS_DOC_PREVIEW,
					   FS_DOC_DATACITE };
#define NDOCS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- per-thread catalogs --------------------------------------------------- */

struct cora_catalog *fs_cat(struct corafs *fs)
{
	struct cora_catalog *cat = pthread_getspecific(fs->cat_key);

	if (cat)
		return cat;
	if (cora_catalog_open(&cat, fs->catalog, CORA_OPEN_NO_BLOBS |
			      CORA_OPEN_SYNC_NORMAL |
			      (fs->readonly ? CORA_OPEN_READONLY : 0)) != 0)
		return NULL;
	cat->blobs = NULL;
	pthread_setspecific(fs->cat_key, cat);
	return cat;
}

static struct corafs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* ---- entities ------------------------------------------------------------------ */

struct entity {
	int64_t rowid;
	char type[16];
	char id[37];
	char slug[130];
	int64_t position;
	int64_t mtime_ns;
	json_t *state;
};

static int64_t iso_ns(const char *s)
{
	int64_t us = 0;

	if (s)
		cora_time_parse(&us, s);
	return cora_time_us_to_ns(us);
}

static void entity_fill(struct entity *e, sqlite3_stmt *s)
{
	json_error_t jerr;

	memset(e, 0, sizeof(*e));
	e->rowid = sqlite3_column_int64(s, 0);
	snprintf(e->type, sizeof(e->type), "%s", sqlite3_column_text(s, 1));
	snprintf(e->id, sizeof(e->id), "%s", sqlite3_column_text(s, 2));
	if (sqlite3_column_text(s, 3))
		snprintf(e->slug, sizeof(e->slug), "%s",
			 sqlite3_column_text(s, 3));
	e->position = sqlite3_column_int64(s, 4);
	e->mtime_ns = iso_ns((const char *)sqlite3_column_text(s, 5));
	e->state = json_loads((const char *)sqlite3_column_text(s, 6), 0,
			      &jerr);
}

#define ENTITY_COLS "rowid, stream_type, stream_id, slug, position," \
		    " updated_at, state"

/* Steps a bound entity query: 0 and *e filled, or -ENOENT / -EIO. */
static int entity_row(sqlite3_stmt *s, struct entity *e)
{
	int rc;

	if (!s)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		entity_fill(e, s);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : -ENOENT;
}

static int entity_by_row(struct cora_catalog *cat, int64_t rowid,
			 struct entity *e)
{
	sqlite3_stmt *s = cora_stmt(cat, "SELECT " ENTITY_COLS
				    " FROM entities WHERE rowid = ?1");

	if (s)
		sqlite3_bind_int64(s, 1, rowid);
	return entity_row(s, e);
}

static int entity_by_slug(struct cora_catalog *cat, const char *type,
			  const char *slug, struct entity *e)
{
	sqlite3_stmt *s = cora_stmt(cat, "SELECT " ENTITY_COLS
				    " FROM entities WHERE stream_type = ?1"
				    " AND slug = ?2");

	if (s) {
		sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, slug, -1, SQLITE_STATIC);
	}
	return entity_row(s, e);
}

static int entity_by_id(struct cora_catalog *cat, const char *id,
			struct entity *e)
{
	sqlite3_stmt *s = cora_stmt(cat, "SELECT " ENTITY_COLS
				    " FROM entities WHERE stream_id = ?1");

	if (s)
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	return entity_row(s, e);
}

static void entity_release(struct entity *e)
{
	json_decref(e->state);
	e->state = NULL;
}

static bool dataset_frozen(const json_t *state)
{
	const char *intent = cora_json_str(state, "intent");
	const char *status = cora_json_str(state, "status");

	return (intent && strcmp(intent, "Trial") != 0) ||
	       (status && strcmp(status, "Registered") != 0);
}

/* ---- nodes -------------------------------------------------------------------- */

struct node {
	int64_t ino;
	int64_t parent;
	char type;
	int64_t size;
	uint32_t mode;
	int64_t mtime_ns;
	char dataset_id[37];
	char sha256[65];
	char *name;
	int64_t uid, gid;        /* -1: the mount's owner */
};

#define NODE_COLS "ino, parent, type, size, mode, mtime_ns, dataset_id," \
		  " sha256, name, coalesce(uid, -1), coalesce(gid, -1)"

static void node_fill(struct node *n, sqlite3_stmt *s)
{
	memset(n, 0, sizeof(*n));
	n->ino = sqlite3_column_int64(s, 0);
	n->parent = sqlite3_column_int64(s, 1);
	n->type = (char)sqlite3_column_text(s, 2)[0];
	n->size = sqlite3_column_int64(s, 3);
	n->mode = (uint32_t)sqlite3_column_int64(s, 4);
	n->mtime_ns = sqlite3_column_int64(s, 5);
	snprintf(n->dataset_id, sizeof(n->dataset_id), "%s",
		 sqlite3_column_text(s, 6));
	if (sqlite3_column_text(s, 7))
		snprintf(n->sha256, sizeof(n->sha256), "%s",
			 sqlite3_column_text(s, 7));
	n->name = strdup((const char *)sqlite3_column_text(s, 8));
	n->uid = sqlite3_column_int64(s, 9);
	n->gid = sqlite3_column_int64(s, 10);
}

/* Steps a bound node query: 0 and *n filled, or -ENOENT / -EIO. */
static int node_row(sqlite3_stmt *s, struct node *n)
{
	int rc;

	if (!s)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		node_fill(n, s);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : -ENOENT;
}

static int node_by_ino(struct cora_catalog *cat, int64_t ino, struct node *n)
{
	sqlite3_stmt *s = cora_stmt(cat, "SELECT " NODE_COLS
				    " FROM nodes WHERE ino = ?1");

	if (s)
		sqlite3_bind_int64(s, 1, ino);
	return node_row(s, n);
}

static int node_child(struct cora_catalog *cat, int64_t parent,
		      const char *name, struct node *n)
{
	sqlite3_stmt *s = cora_stmt(cat, "SELECT " NODE_COLS
				    " FROM nodes WHERE parent = ?1"
				    " AND name = ?2");

	if (s) {
		sqlite3_bind_int64(s, 1, parent);
		sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	}
	return node_row(s, n);
}

static void node_release(struct node *n)
{
	free(n->name);
	n->name = NULL;
}

int fs_node_path(struct cora_catalog *cat, uint64_t node, json_t **dataset,
		 char **path)
{
	sqlite3_stmt *s;
	struct node n;
	char *p = NULL, *q;
	int rc, depth = 0;
	int64_t cur = (int64_t)node;

	*dataset = NULL;
	*path = NULL;
	s = cora_stmt(cat, "SELECT parent, name, dataset_id FROM nodes"
		      " WHERE ino = ?1");
	if (!s)
		return -EIO;
	p = strdup("");
	for (;;) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, cur);
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(s);
			free(p);
			return -ENOENT;
		}
		if (sqlite3_column_int64(s, 0) == 0) {
			const char *id = (const char *)sqlite3_column_text(s, 2);
			rc = cora_entity_get(cat, "Dataset", id, dataset, NULL,
					     NULL);
			sqlite3_reset(s);
			if (rc) {
				free(p);
				return -ENOENT;
			}
			break;
		}
		if (asprintf(&q, "%s%s%s", sqlite3_column_text(s, 1),
			     *p ? "/" : "", p) < 0) {
			sqlite3_reset(s);
			free(p);
			return -ENOMEM;
		}
		free(p);
		p = q;
		cur = sqlite3_column_int64(s, 0);
		if (++depth > 4096) {
			sqlite3_reset(s);
			free(p);
			return -ELOOP;
		}
	}
	(void)n;
	*path = p;
	return 0;
}

/* ---- attributes ------------------------------------------------------------------ */

static void stat_base(struct corafs *fs, struct stat *st, uint64_t ino,
		      mode_t mode, int64_t size, int64_t mtime_ns)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = size;
	st->st_blksize = FS_BLKSIZE;
	st->st_blocks = (size + 511) / 512;
	st->st_mtim.tv_sec = mtime_ns / 1000000000;
	st->st_mtim.tv_nsec = mtime_ns % 1000000000;
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

static void stat_node(struct corafs *fs, struct stat *st, uint64_t ino,
		      const struct node *n)
{
	mode_t type = n->type == 'd' ? S_IFDIR : n->type == 'l' ? S_IFLNK :
		      S_IFREG;

	stat_base(fs, st, ino, type | (n->mode & 07777), n->size,
		  n->mtime_ns);
	if (n->uid >= 0)
		st->st_uid = (uid_t)n->uid;
	if (n->gid >= 0)
		st->st_gid = (gid_t)n->gid;
	if (fs->readonly)
		st->st_mode &= ~0222;
}

/* Rendered generated files, cached by (inode, entity position).
 *
 * A render streams into struct doc_out: the bytes stay in memory while
 * they fit in DOC_KEEP_MAX; past it they go to an unlinked temporary
 * file in the staging folder when the bytes are wanted (an open), or are
 * only counted when the size is (a stat).  So the crate of a dataset of
 * a million files costs the daemon no more memory than a small one
 * (schema/render.h).  The cache keeps the size of every document and the
 * bytes of the small ones; a big one is rendered again at each open,
 * into the open file's own temporary file, so one open sees one version. */
#define DOC_CACHE 64
#define DOC_KEEP_MAX (1 << 20)

struct doc_key {
	int64_t a, b;
};

static struct doc_slot {
	uint64_t ino;
	int64_t position, position2;
	char *buf;
	size_t len;
} doc_cache[DOC_CACHE];
static pthread_mutex_t doc_lock = PTHREAD_MUTEX_INITIALIZER;

static const enum cora_doc_kind doc_kinds[] = {
	[FS_DOC_DATACITE] = CORA_DOC_DATACITE,
	[FS_DOC_PIDINST] = CORA_DOC_PIDINST,
	[FS_DOC_ROCRATE] = CORA_DOC_ROCRATE,
	[FS_DOC_PREVIEW] = CORA_DOC_PREVIEW,
};

/* Where a render goes: buf (while the bytes fit in DOC_KEEP_MAX), then
 * fd (an unlinked file in `spill`), or nowhere when spill is NULL. */
struct doc_out {
	char *buf;
	size_t len, total;
	const char *spill;
	int fd;
};

/* An unlinked temporary file in folder dir: O_TMPFILE, else a named
 * file removed at once (named w-*, so fs_staging_cleanup() removes it
 * if we die in between). */
static int doc_tmpfile(const char *dir)
{
	char *name = NULL;
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
			errno != EINVAL))
		return fd >= 0 ? fd : -errno;
	if (asprintf(&name, "%s/w-doc-XXXXXX", dir) < 0)
		return -ENOMEM;
	fd = mkostemp(name, O_CLOEXEC);
	if (fd >= 0)
		unlink(name);
	else
		fd = -errno;
	free(name);
	return fd;
}

static int doc_write_all(int fd, const char *buf, size_t len)
{
	return cora_write_full(fd, buf, len) == 0 ? 0 :
	       cora_error_set(CORA_EIO, "cannot write a document to "
			      "staging: %s", strerror(errno));
}

static int doc_sink(void *arg, const char *buf, size_t len)
{
	struct doc_out *o = arg;
	char *p;
	int fd;

	o->total += len;
	if (o->fd >= 0)
		return doc_write_all(o->fd, buf, len);
	if (o->total <= DOC_KEEP_MAX) {
		p = realloc(o->buf, o->len + len + 1);
		if (!p)
			return cora_error_set(CORA_ENOMEM, "out of memory");
		o->buf = p;
		memcpy(o->buf + o->len, buf, len);
		o->len += len;
		return 0;
	}
	/* too big to keep: spill what we have and go on in the file, or
	 * just count */
	if (o->spill) {
		fd = doc_tmpfile(o->spill);
		if (fd < 0)
			return cora_error_set(CORA_EIO, "cannot make a temporary "
					      "file in '%s': %s", o->spill,
					      strerror(-fd));
		o->fd = fd;
		if (o->len && doc_write_all(fd, o->buf, o->len) != 0)
			return cora_error_code();
	}
	free(o->buf);
	o->buf = NULL;
	o->len = 0;
	return o->fd >= 0 ? doc_write_all(o->fd, buf, len) : 0;
}

static void doc_out_release(struct doc_out *o)
{
	free(o->buf);
	if (o->fd >= 0)
		close(o->fd);
	memset(o, 0, sizeof(*o));
	o->fd = -1;
}

/* Generated files are rendered from the catalog and cached by (inode,
 * log position): any new event renders them anew, since a document may
 * depend on other entities (an asset's on its children and datasets).
 * Renders into o (o->spill says whether big bytes are wanted) and
 * caches the size, and the bytes when they fit. */
static int doc_render(struct cora_catalog *cat, uint64_t ino,
		      const struct entity *e, struct doc_key key,
		      struct doc_out *o)
{
	enum fs_doc doc = (enum fs_doc)(fs_ino_tag(ino) - FS_TAG_DOC);
	size_t slot = (ino * 31) % DOC_CACHE;
	char *keep = NULL;
	int rc;

	rc = cora_render_to(cat, doc_kinds[doc], e->id, doc_sink, o);
	if (rc) {
		doc_out_release(o);
		return -fs_errno(rc);
	}
	if (o->total <= DOC_KEEP_MAX) {
		keep = malloc(o->len + 1);
		if (keep && o->len)
			memcpy(keep, o->buf, o->len);
	}
	pthread_mutex_lock(&doc_lock);
	free(doc_cache[slot].buf);
	doc_cache[slot].ino = ino;
	doc_cache[slot].position = key.a;
	doc_cache[slot].position2 = key.b;
	doc_cache[slot].buf = keep;
	doc_cache[slot].len = o->total;
	pthread_mutex_unlock(&doc_lock);
	return 0;
}

/* What a document's bytes depend on: two log positions that together
 * change whenever the bytes may.  A bundle's documents describe its
 * members' files: the log head.  An asset's or a dataset's describe the
 * entity itself and other kinds (runs, acquisitions, assets, bundles) but
 * no other dataset's files: the entity's own position and the newest
 * position of any non-dataset stream, so writing into one dataset does
 * not re-render every other dataset's crate.  (Person profiles are
 * outside the log: a change to one shows with the next event.) */
static struct doc_key doc_key(struct cora_catalog *cat,
			      const struct entity *e)
{
	struct doc_key k = { -1, -1 };
	sqlite3_stmt *s;

	if (strcmp(e->type, "Bundle") == 0) {
		if (cora_store_head(cat, &k.a) != 0)
			k.a = -1;
		k.b = 0;
		return k;
	}
	s = cora_stmt(cat, "SELECT coalesce(max(position), 0) FROM entities"
		      " WHERE stream_type != 'Dataset'");
	if (s && sqlite3_step(s) == SQLITE_ROW) {
		k.a = e->position;
		k.b = sqlite3_column_int64(s, 0);
	}
	if (s)
		sqlite3_reset(s);
	return k;
}

static bool doc_fresh(const struct doc_slot *slot, uint64_t ino,
		      struct doc_key k)
{
	return k.a >= 0 && slot->ino == ino && slot->position == k.a &&
	       slot->position2 == k.b;
}

/* The size of a generated file (for getattr), rendering it only when
 * the log moved since it was last rendered; a big one is counted, not
 * kept. */
static int doc_size(struct cora_catalog *cat, uint64_t ino,
		    const struct entity *e, size_t *len)
{
	size_t slot = (ino * 31) % DOC_CACHE;
	struct doc_key key = doc_key(cat, e);
	struct doc_out o = { NULL, 0, 0, NULL, -1 };
	int rc;

	pthread_mutex_lock(&doc_lock);
	if (doc_fresh(&doc_cache[slot], ino, key)) {
		*len = doc_cache[slot].len;
		pthread_mutex_unlock(&doc_lock);
		return 0;
	}
	pthread_mutex_unlock(&doc_lock);
	rc = doc_render(cat, ino, e, key, &o);
	if (rc == 0) {
		*len = o.total;
		doc_out_release(&o);
	}
	return rc;
}

/* The bytes of a generated file for an open handle: a copy in h->doc,
 * or, for a big one, h->doc_fd (an unlinked file in the staging
 * folder). */
static int doc_bytes(struct corafs *fs, struct cora_catalog *cat,
		     uint64_t ino, const struct entity *e, struct fs_handle *h)
{
	size_t slot = (ino * 31) % DOC_CACHE;
	struct doc_key key = doc_key(cat, e);
	struct doc_out o = { NULL, 0, 0, fs->staging, -1 };
	int rc;

	pthread_mutex_lock(&doc_lock);
	if (doc_fresh(&doc_cache[slot], ino, key) && doc_cache[slot].buf) {
		h->doc = malloc(doc_cache[slot].len + 1);
		if (h->doc) {
			memcpy(h->doc, doc_cache[slot].buf, doc_cache[slot].len);
			h->doc_len = doc_cache[slot].len;
		}
		pthread_mutex_unlock(&doc_lock);
		return h->doc ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&doc_lock);
	if ((rc = doc_render(cat, ino, e, key, &o)))
		return rc;
	if (o.fd >= 0) {
		h->doc_fd = o.fd;
		h->doc_len = o.total;
		o.fd = -1;
	} else {
		h->doc = o.buf;
		h->doc_len = o.len;
		o.buf = NULL;
		if (!h->doc)
			h->doc = calloc(1, 1);
	}
	doc_out_release(&o);
	return h->doc || h->doc_fd >= 0 ? 0 : -ENOMEM;
}

/* README.txt: what this is, counts, how to use it.  Its counts scan the
 * tree, so the text is kept until the log moves on. */
static pthread_mutex_t readme_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t readme_head = -1;
static char *readme_text;
static size_t readme_len;

static int readme_render(struct cora_catalog *cat, char **out, size_t *len);

static int readme_bytes(struct cora_catalog *cat, char **out, size_t *len)
{
	int64_t head;
	int rc;

	if (cora_store_head(cat, &head) != 0)
		return -EIO;
	pthread_mutex_lock(&readme_lock);
	if (readme_head == head && readme_text) {
		*out = malloc(readme_len);
		if (*out)
			memcpy(*out, readme_text, readme_len);
		*len = readme_len;
		pthread_mutex_unlock(&readme_lock);
		return *out ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&readme_lock);
	rc = readme_render(cat, out, len);
	if (rc)
		return rc;
	pthread_mutex_lock(&readme_lock);
	free(readme_text);
	readme_text = malloc(*len);
	if (readme_text) {
		memcpy(readme_text, *out, *len);
		readme_len = *len;
		readme_head = head;
	}
	pthread_mutex_unlock(&readme_lock);
	return 0;
}

static int readme_render(struct cora_catalog *cat, char **out, size_t *len)
{
	sqlite3_stmt *s = cora_stmt(cat,
		"SELECT (SELECT count(*) FROM entities WHERE stream_type = 'Asset'),"
		" (SELECT count(*) FROM entities WHERE stream_type = 'Dataset'"
		"  AND json_extract(state, '$.status') != 'Discarded'),"
		" (SELECT count(*) FROM entities WHERE stream_type = 'Bundle'),"
		" (SELECT coalesce(max(position), 0) FROM events)");
	FILE *f;
	char *buf = NULL;
	size_t n = 0;

	if (!s || sqlite3_step(s) != SQLITE_ROW) {
		if (s)
			sqlite3_reset(s);
		return -EIO;
	}
	f = open_memstream(&buf, &n);
	if (!f) {
		sqlite3_reset(s);
		return -ENOMEM;
	}
	fprintf(f,
		"corafs: a research catalog as folders\n"
		"\n"
		"This folder is a live view of a corafs catalog.  Every change is an\n"
		"event in its log (.cora/events.jsonl); file contents are stored once,\n"
		"by SHA-256.\n"
		"\n"
		"  assets/    %lld instruments and components, each with datacite.xml\n"
		"             (DataCite 4.6, Instrument) and pidinst.json (PIDINST 1.0)\n"
		"  datasets/  %lld datasets, each an RO-Crate 1.2 folder with datacite.xml\n"
		"  bundles/   %lld experiment bundles (RO-Crate + Process Run Crate,\n"
		"             a preview page, DataCite)\n"
		"\n"
		"%lld events in the log (cora log; .cora/events.jsonl).\n"
		"\n"
		"Writing: mkdir datasets/NAME registers a Trial dataset; copy files into\n"
		"it with cp or rsync.  Each file is committed when it is closed.  Once\n"
		"promoted ('cora dataset promote') a dataset is read-only.  Digests:\n"
		"getfattr -n user.cora.sha256 FILE.  More: 'cora --help'.\n",
		(long long)sqlite3_column_int64(s, 0),
		(long long)sqlite3_column_int64(s, 1),
		(long long)sqlite3_column_int64(s, 2),
		(long long)sqlite3_column_int64(s, 3));
	sqlite3_reset(s);
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

/* events.jsonl: one line per event, rendered by SQLite itself so that
 * the size is one query.  The line is a JSON object with the envelope
 * fields and the payload, and a newline. */
#define EVENT_LINE "json_object('position', position, 'event_id', event_id," \
	" 'stream_type', stream_type, 'stream_id', stream_id," \
	" 'version', version, 'event_type', event_type," \
	" 'occurred_at', occurred_at, 'recorded_at', recorded_at," \
	" 'principal_id', principal_id, 'payload', json(payload))"

static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t events_head = -1;
static int64_t events_size;

static int events_stat(struct cora_catalog *cat, int64_t *size,
		       int64_t *head)
{
	sqlite3_stmt *s;
	int64_t from, add = 0, h;

	if (cora_store_head(cat, &h) != 0)
		return -EIO;
	pthread_mutex_lock(&events_lock);
	if (events_head > h) { /* cannot happen: the log only grows */
		events_head = -1;
		events_size = 0;
	}
	from = events_head < 0 ? 0 : events_head;
	pthread_mutex_unlock(&events_lock);
	if (from < h) {
		s = cora_stmt(cat, "SELECT coalesce(sum(length(CAST("
			      EVENT_LINE " AS BLOB)) + 1), 0) FROM events"
			      " WHERE position > ?1 AND position <= ?2");
		if (!s)
			return -EIO;
		sqlite3_bind_int64(s, 1, from);
		sqlite3_bind_int64(s, 2, h);
		if (sqlite3_step(s) == SQLITE_ROW)
			add = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		pthread_mutex_lock(&events_lock);
		if (events_head == from || (events_head < 0 && from == 0)) {
			events_size += add;
			events_head = h;
		}
		pthread_mutex_unlock(&events_lock);
	}
	pthread_mutex_lock(&events_lock);
	*size = events_size;
	*head = events_head;
	pthread_mutex_unlock(&events_lock);
	return 0;
}

/* occurred_at of the newest event, in nanoseconds (0 for none). */
static int64_t head_time_ns(struct cora_catalog *cat)
{
	sqlite3_stmt *s = cora_stmt(cat, "SELECT occurred_at FROM events"
				    " ORDER BY position DESC LIMIT 1");
	int64_t ns = 0;

	if (s && sqlite3_step(s) == SQLITE_ROW)
		ns = iso_ns((const char *)sqlite3_column_text(s, 0));
	if (s)
		sqlite3_reset(s);
	return ns;
}

/* The time of a fixed folder: when an entry appeared in it or left it.
 * assets/, bundles/: the newest entity of the kind; datasets/: also the
 * newest discard; .cora/ (events.jsonl grows): the newest event; the
 * root: when the catalog was created. */
static int64_t fixed_time_ns(struct cora_catalog *cat, uint64_t row)
{
	sqlite3_stmt *s;
	int64_t ns = 0;

	if (row == FS_DOTCORA)
		return head_time_ns(cat);
	s = cora_stmt(cat, row == FS_ROOT ?
		"SELECT value FROM meta WHERE key = 'created_at'" :
		"SELECT max(CASE WHEN json_extract(state, '$.status')"
		" = 'Discarded' THEN updated_at ELSE created_at END)"
		" FROM entities WHERE stream_type = ?1");
	if (!s)
		return 0;
	if (row != FS_ROOT)
		sqlite3_bind_text(s, 1, row == FS_ASSETS ? "Asset" :
				  row == FS_DATASETS ? "Dataset" : "Bundle",
				  -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		ns = iso_ns((const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	return ns;
}

int fs_getattr(struct corafs *fs, struct cora_catalog *cat, fuse_ino_t ino,
	       struct stat *st, double *timeout)
{
	int64_t head_ns = 0;
	enum fs_tag tag = fs_ino_tag(ino);
	uint64_t row = fs_ino_row(ino);
	int64_t head = 0, size;
	struct entity e;
	struct node n;
	char *buf;
	size_t len;
	int rc;

	*timeout = fs->attr_timeout;
	switch (tag) {
	case FS_TAG_FIXED:
		if (row == FS_README || row == FS_EVENTS) {
			/* they change with every event: the newest event's
			 * time, and the kernel asks each time */
			*timeout = 0;
			head_ns = head_time_ns(cat);
			if (row == FS_README) {
				rc = readme_bytes(cat, &buf, &len);
				if (rc)
					return rc;
				free(buf);
				size = (int64_t)len;
			} else {
				rc = events_stat(cat, &size, &head);
				if (rc)
					return rc;
			}
			stat_base(fs, st, ino, S_IFREG | 0444, size, head_ns);
			return 0;
		}
		if (row < FS_ROOT || row > FS_DOTCORA)
			return -ENOENT;
		/* a folder's time changes when its entries do; cached long
		 * (every path walk passes here), the watcher invalidates */
		stat_base(fs, st, ino, DIR_MODE, 0, fixed_time_ns(cat, row));
		return 0;
	case FS_TAG_NODE:
	case FS_TAG_VIEW:
		rc = node_by_ino(cat, (int64_t)row, &n);
		if (rc)
			return rc;
		stat_node(fs, st, ino, &n);
		if (tag == FS_TAG_VIEW)
			st->st_mode &= ~0222; /* bundles show, never take */
		{
			json_t *ds;
			/* frozen content never changes: cache it long */
			if (cora_entity_get(cat, "Dataset", n.dataset_id, &ds,
					    NULL, NULL) == 0) {
				if (dataset_frozen(ds)) {
					*timeout = fs->frozen_timeout;
					st->st_mode &= ~0222;
				}
				json_decref(ds);
			}
		}
		node_release(&n);
		return 0;
	case FS_TAG_ASSET:
	case FS_TAG_BUNDLE:
		rc = entity_by_row(cat, (int64_t)row, &e);
		if (rc)
			return rc;
		stat_base(fs, st, ino, DIR_MODE, 0, e.mtime_ns);
		entity_release(&e);
		return 0;
	default:
		if (tag >= FS_TAG_DOC && tag < FS_TAG_DOC + 4) {
			rc = entity_by_row(cat, (int64_t)row, &e);
			if (rc)
				return rc;
			rc = doc_size(cat, ino, &e, &len);
			if (rc == 0)
				stat_base(fs, st, ino, S_IFREG | 0444,
					  (int64_t)len, e.mtime_ns);
			entity_release(&e);
			return rc;
		}
		return -ENOENT;
	}
}

/* ---- lookup -------------------------------------------------------------------- */

int fs_reply_entry(fuse_req_t req, struct corafs *fs,
		   struct cora_catalog *cat, fuse_ino_t ino)
{
	struct fuse_entry_param ep;
	double timeout;
	int rc;

	memset(&ep, 0, sizeof(ep));
	rc = fs_getattr(fs, cat, ino, &ep.attr, &timeout);
	if (rc)
		return rc;
	ep.ino = ino;
	ep.attr_timeout = timeout;
	/* the fixed names never change, though their times do */
	ep.entry_timeout = fs_ino_tag(ino) == FS_TAG_FIXED ? fs->attr_timeout :
			   timeout;
	fuse_reply_entry(req, &ep);
	return 0;
}

static int doc_lookup(const enum fs_doc *docs, size_t n, const char *name,
		      int64_t rowid, fuse_ino_t *ino)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(name, cora_doc_name(doc_kinds[docs[i]])) == 0) {
			*ino = fs_ino(FS_TAG_DOC + docs[i], (uint64_t)rowid, 0);
			return 0;
		}
	}
	return -ENOENT;
}

/* The inode of the dataset folder of a Dataset entity (its root node). */
static int dataset_root(struct cora_catalog *cat, const char *dataset_id,
			int64_t *ino)
{
	sqlite3_stmt *s = cora_stmt(cat, "SELECT ino FROM nodes"
				    " WHERE parent = 0 AND name = ?1");
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, dataset_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ino = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : -ENOENT;
}

/* Member dataset `name` of the bundle with entities.rowid `bundle`:
 * its folder is the dataset's root node seen through the bundle. */
static int member_lookup(struct cora_catalog *cat, int64_t bundle,
			 const char *name, fuse_ino_t *ino)
{
	struct entity b, d;
	json_t *v;
	size_t i;
	int64_t root;
	int rc = -ENOENT;

	if (entity_by_row(cat, bundle, &b) != 0)
		return -ENOENT;
	json_array_foreach(json_object_get(b.state, "dataset_ids"), i, v) {
		if (!json_is_string(v) ||
		    entity_by_id(cat, json_string_value(v), &d) != 0)
			continue;
		if (strcmp(d.slug, name) == 0 &&
		    dataset_root(cat, d.id, &root) == 0) {
			*ino = fs_ino(FS_TAG_VIEW, (uint64_t)root,
				      (uint64_t)bundle);
			rc = 0;
		}
		entity_release(&d);
		if (rc == 0)
			break;
	}
	entity_release(&b);
	return rc;
}

static int do_lookup(struct corafs *fs, struct cora_catalog *cat,
		     fuse_ino_t parent, const char *name, fuse_ino_t *ino)
{
	static const struct { const char *name; enum fs_fixed row; } root[] = {
		{ "README.txt", FS_README }, { "assets", FS_ASSETS },
		{ "datasets", FS_DATASETS }, { "bundles", FS_BUNDLES },
		{ ".cora", FS_DOTCORA },
	};
	enum fs_tag tag = fs_ino_tag(parent);
	uint64_t row = fs_ino_row(parent);
	struct entity e;
	struct node n;
	int64_t root_ino;
	size_t i;
	int rc;

	switch (tag) {
	case FS_TAG_FIXED:
		if (row == FS_ROOT) {
			for (i = 0; i < sizeof(root) / sizeof(root[0]); i++)
				if (strcmp(name, root[i].name) == 0) {
					*ino = fs_ino(FS_TAG_FIXED, root[i].row, 0);
					return 0;
				}
			return -ENOENT;
		}
		if (row == FS_DOTCORA) {
			if (strcmp(name, "events.jsonl") != 0)
				return -ENOENT;
			*ino = fs_ino(FS_TAG_FIXED, FS_EVENTS, 0);
			return 0;
		}
		if (row == FS_ASSETS || row == FS_BUNDLES) {
			rc = entity_by_slug(cat, row == FS_ASSETS ? "Asset" :
					    "Bundle", name, &e);
			if (rc)
				return rc;
			*ino = fs_ino(row == FS_ASSETS ? FS_TAG_ASSET :
				      FS_TAG_BUNDLE, (uint64_t)e.rowid, 0);
			entity_release(&e);
			return 0;
		}
		if (row == FS_DATASETS) {
			rc = entity_by_slug(cat, "Dataset", name, &e);
			if (rc)
				return rc;
			rc = dataset_root(cat, e.id, &root_ino);
			entity_release(&e);
			if (rc)
				return rc; /* discarded: its folder is gone */
			*ino = fs_ino(FS_TAG_NODE, (uint64_t)root_ino, 0);
			return 0;
		}
		return -ENOTDIR;
	case FS_TAG_ASSET:
		return doc_lookup(asset_docs, NDOCS(asset_docs), name,
				  (int64_t)row, ino);
	case FS_TAG_BUNDLE:
		rc = doc_lookup(bundle_docs, NDOCS(bundle_docs), name,
				(int64_t)row, ino);
		if (rc != -ENOENT)
			return rc;
		return member_lookup(cat, (int64_t)row, name, ino);
	case FS_TAG_VIEW:
		rc = node_child(cat, (int64_t)row, name, &n);
		if (rc)
			return rc;
		*ino = fs_ino(FS_TAG_VIEW, (uint64_t)n.ino, fs_ino_view(parent));
		node_release(&n);
		return 0;
	case FS_TAG_NODE:
		rc = node_child(cat, (int64_t)row, name, &n);
		if (rc == 0) {
			*ino = fs_ino(FS_TAG_NODE, (uint64_t)n.ino, 0);
			node_release(&n);
			return 0;
		}
		if (rc != -ENOENT)
			return rc;
		/* a dataset root: its generated files */
		rc = node_by_ino(cat, (int64_t)row, &n);
		if (rc)
			return rc;
		if (n.parent == 0 && entity_by_id(cat, n.dataset_id, &e) == 0) {
			rc = doc_lookup(dataset_docs, NDOCS(dataset_docs), name,
					e.rowid, ino);
			entity_release(&e);
		} else {
			rc = n.type == 'd' ? -ENOENT : -ENOTDIR;
		}
		node_release(&n);
		return rc;
	default:
		return -ENOTDIR;
	}
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat = fs_cat(fs);
	struct fuse_entry_param ep;
	fuse_ino_t ino;
	int rc;

	if (!cat) {
		fuse_reply_err(req, fs_errno(cora_error_code()));
		return;
	}
	rc = do_lookup(fs, cat, parent, name, &ino);
	if (rc == -ENOENT && fs_pending_lookup(fs, parent, name, &ep.attr) == 0) {
		ep.ino = ep.attr.st_ino;
		ep.attr_timeout = 0;
		ep.entry_timeout = 0;
		ep.generation = 0;
		fuse_reply_entry(req, &ep);
		return;
	}
	if (rc == -ENOENT) {
		/* a negative entry, cached until the watcher says otherwise */
		memset(&ep, 0, sizeof(ep));
		ep.entry_timeout = fs->attr_timeout;
		fuse_reply_entry(req, &ep);
		return;
	}
	if (rc == 0)
		rc = fs_reply_entry(req, fs, cat, ino);
	if (rc)
		fuse_reply_err(req, -rc);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat = fs_cat(fs);
	struct stat st;
	double timeout;
	int rc;

	if (!cat) {
		fuse_reply_err(req, fs_errno(cora_error_code()));
		return;
	}
	if (fs_pending_getattr(fs, ino, &st) == 0) {
		fuse_reply_attr(req, &st, 0);
		return;
	}
	rc = fs_getattr(fs, cat, ino, &st, &timeout);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, timeout);
}

/* ---- readdir ------------------------------------------------------------------- */

/*
 * Directory offsets: 1 and 2 are "." and "..", 3..15 the fixed or
 * generated entries, and from 16 on a row id + 16 (entities.rowid or
 * nodes.ino), so a listing resumes with one indexed query "row > off -
 * 16" however large the folder, and never holds it in memory.
 */
#define OFF_ROWS 16

struct dirbuf {
	fuse_req_t req;
	char *buf;
	size_t size, used;
	bool plus;
	struct corafs *fs;
};

/* Adds one entry; false when the buffer is full. */
static bool dir_add(struct dirbuf *d, const char *name, const struct stat *st,
		    double timeout, off_t next)
{
	size_t n;

	if (d->plus) {
		struct fuse_entry_param ep;
		memset(&ep, 0, sizeof(ep));
		ep.ino = st->st_ino;
		ep.attr = *st;
		ep.attr_timeout = timeout;
		ep.entry_timeout = timeout;
		n = fuse_add_direntry_plus(d->req, d->buf + d->used,
					   d->size - d->used, name, &ep, next);
	} else {
		n = fuse_add_direntry(d->req, d->buf + d->used,
				      d->size - d->used, name, st, next);
	}
	if (n > d->size - d->used)
		return false;
	d->used += n;
	return true;
}

/* An entry without attributes (no lookup count, nothing cached): for
 * "." and "..", and for generated files, whose size would mean rendering
 * them; the kernel asks for those attributes only when someone stats. */
static bool bare_entry(struct dirbuf *d, const char *name, fuse_ino_t ino,
		       mode_t mode, off_t next)
{
	struct stat st;
	size_t n;

	memset(&st, 0, sizeof(st));
	st.st_ino = ino;
	st.st_mode = mode;
	if (d->plus) {
		struct fuse_entry_param ep;
		memset(&ep, 0, sizeof(ep));
		ep.attr = st;
		n = fuse_add_direntry_plus(d->req, d->buf + d->used,
					   d->size - d->used, name, &ep, next);
	} else {
		n = fuse_add_direntry(d->req, d->buf + d->used,
				      d->size - d->used, name, &st, next);
	}
	if (n > d->size - d->used)
		return false;
	d->used += n;
	return true;
}

static int list_fixed(struct dirbuf *d, struct cora_catalog *cat,
		      fuse_ino_t dir, fuse_ino_t parent, off_t off,
		      const char *const *names, const fuse_ino_t *inos,
		      size_t n)
{
	struct stat st;
	double timeout;
	size_t i;
	int rc;

	/* "." and "..": no lookup count (ino 0), only the numbers shown */
	if (off < 1 && !bare_entry(d, ".", dir, S_IFDIR, 1))
		return 1;
	if (off < 2 && !bare_entry(d, "..", parent, S_IFDIR, 2))
		return 1;
	for (i = 0; i < n; i++) {
		if (off >= (off_t)(3 + i))
			continue;
		if (fs_ino_tag(inos[i]) >= FS_TAG_DOC &&
		    fs_ino_tag(inos[i]) < FS_TAG_DOC + 4) {
			if (!bare_entry(d, names[i], inos[i], S_IFREG,
					(off_t)(3 + i)))
				return 1;
			continue;
		}
		rc = fs_getattr(d->fs, cat, inos[i], &st, &timeout);
		if (rc)
			continue;
		if (!dir_add(d, names[i], &st, timeout, (off_t)(3 + i)))
			return 1;
	}
	return 0;
}

static int list_entities(struct dirbuf *d, struct cora_catalog *cat,
			 const char *type, off_t off)
{
	sqlite3_stmt *s;
	struct stat st;
	int64_t after = off > OFF_ROWS ? off - OFF_ROWS : 0;
	int rc;

	/* Not cached: fs_getattr may use cached statements meanwhile. */
	rc = sqlite3_prepare_v2(cat->db,
		"SELECT e.rowid, e.slug, e.updated_at, n.ino FROM entities e"
		" LEFT JOIN nodes n ON n.parent = 0 AND n.name = e.stream_id"
		" WHERE e.stream_type = ?1 AND e.rowid > ?2"
		" AND e.slug IS NOT NULL ORDER BY e.rowid", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, after);
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t rowid = sqlite3_column_int64(s, 0);
		const char *slug = (const char *)sqlite3_column_text(s, 1);
		fuse_ino_t ino;
		double timeout;

		if (strcmp(type, "Dataset") == 0) {
			if (sqlite3_column_type(s, 3) == SQLITE_NULL)
				continue; /* discarded */
			ino = fs_ino(FS_TAG_NODE,
				     (uint64_t)sqlite3_column_int64(s, 3), 0);
		} else {
			ino = fs_ino(strcmp(type, "Asset") == 0 ? FS_TAG_ASSET :
				     FS_TAG_BUNDLE, (uint64_t)rowid, 0);
		}
		if (fs_getattr(d->fs, cat, ino, &st, &timeout) != 0)
			continue;
		if (!dir_add(d, slug, &st, timeout, OFF_ROWS + rowid))
			break;
	}
	sqlite3_finalize(s);
	return 0;
}

static int list_nodes(struct dirbuf *d, struct cora_catalog *cat,
		      int64_t parent, uint64_t view, off_t off)
{
	sqlite3_stmt *s;
	struct stat st;
	struct node n;
	int64_t after = off > OFF_ROWS ? off - OFF_ROWS : 0;
	double timeout = d->fs->attr_timeout;
	bool is_frozen = false;
	json_t *ds = NULL;
	int rc;

	rc = node_by_ino(cat, parent, &n);
	if (rc)
		return rc;
	if (cora_entity_get(cat, "Dataset", n.dataset_id, &ds, NULL, NULL) == 0 &&
	    dataset_frozen(ds)) {
		timeout = d->fs->frozen_timeout;
		is_frozen = true;
	}
	json_decref(ds);
	node_release(&n);
	rc = sqlite3_prepare_v2(cat->db, "SELECT " NODE_COLS " FROM nodes"
				" WHERE parent = ?1 AND ino > ?2 ORDER BY ino",
				-1, &s, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(s, 1, parent);
	sqlite3_bind_int64(s, 2, after);
	while (sqlite3_step(s) == SQLITE_ROW) {
		node_fill(&n, s);
		stat_node(d->fs, &st, view ?
			  fs_ino(FS_TAG_VIEW, (uint64_t)n.ino, view) :
			  fs_ino(FS_TAG_NODE, (uint64_t)n.ino, 0), &n);
		if (is_frozen || view)
			st.st_mode &= ~0222;
		if (!dir_add(d, n.name, &st, timeout, OFF_ROWS + n.ino)) {
			node_release(&n);
			break;
		}
		node_release(&n);
	}
	sqlite3_finalize(s);
	return 0;
}

/* The member datasets of a bundle, as folders (offsets OFF_ROWS + i). */
static void list_members(struct dirbuf *d, struct cora_catalog *cat,
			 const struct entity *bundle, off_t off)
{
	struct entity ds;
	struct stat st;
	double timeout;
	int64_t root;
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(bundle->state, "dataset_ids"), i, v) {
		fuse_ino_t ino;

		if (off >= (off_t)(OFF_ROWS + i + 1) || !json_is_string(v) ||
		    entity_by_id(cat, json_string_value(v), &ds) != 0)
			continue;
		if (dataset_root(cat, ds.id, &root) != 0) {
			entity_release(&ds);
			continue;
		}
		ino = fs_ino(FS_TAG_VIEW, (uint64_t)root, (uint64_t)bundle->rowid);
		if (fs_getattr(d->fs, cat, ino, &st, &timeout) == 0 &&
		    !dir_add(d, ds.slug, &st, timeout, (off_t)(OFF_ROWS + i + 1))) {
			entity_release(&ds);
			break;
		}
		entity_release(&ds);
	}
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, bool plus)
{
	static const char *const root_names[] = {
		"README.txt", "assets", "datasets", "bundles", ".cora",
	};
	const fuse_ino_t root_inos[] = {
		fs_ino(FS_TAG_FIXED, FS_README, 0),
		fs_ino(FS_TAG_FIXED, FS_ASSETS, 0),
		fs_ino(FS_TAG_FIXED, FS_DATASETS, 0),
		fs_ino(FS_TAG_FIXED, FS_BUNDLES, 0),
		fs_ino(FS_TAG_FIXED, FS_DOTCORA, 0),
	};
	static const char *const dotcora_names[] = { "events.jsonl" };
	const fuse_ino_t dotcora_inos[] = { fs_ino(FS_TAG_FIXED, FS_EVENTS, 0) };
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat = fs_cat(fs);
	struct dirbuf d = { req, NULL, size, 0, plus, fs };
	enum fs_tag tag = fs_ino_tag(ino);
	uint64_t row = fs_ino_row(ino);
	const char *names[4];
	fuse_ino_t inos[4];
	const enum fs_doc *docs = NULL;
	size_t ndocs = 0, i;
	struct entity e;
	struct node n;
	fuse_ino_t up = 1;
	int rc = 0;

	if (!cat) {
		fuse_reply_err(req, fs_errno(cora_error_code()));
		return;
	}
	d.buf = malloc(size);
	if (!d.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	switch (tag) {
	case FS_TAG_FIXED:
		if (row == FS_ROOT) {
			list_fixed(&d, cat, ino, 1, off, root_names, root_inos, 5);
		} else if (row == FS_DOTCORA) {
			list_fixed(&d, cat, ino, 1, off, dotcora_names,
				   dotcora_inos, 1);
		} else if (row >= FS_ASSETS && row <= FS_BUNDLES) {
			if (list_fixed(&d, cat, ino, 1, off, NULL, NULL, 0) == 0)
				rc = list_entities(&d, cat,
					row == FS_ASSETS ? "Asset" :
					row == FS_DATASETS ? "Dataset" : "Bundle",
					off);
		} else {
			rc = -ENOTDIR;
		}
		break;
	case FS_TAG_ASSET:
	case FS_TAG_BUNDLE:
		rc = entity_by_row(cat, (int64_t)row, &e);
		if (rc)
			break;
		docs = tag == FS_TAG_ASSET ? asset_docs : bundle_docs;
		ndocs = tag == FS_TAG_ASSET ? NDOCS(asset_docs) :
			NDOCS(bundle_docs);
		for (i = 0; i < ndocs; i++) {
			names[i] = cora_doc_name(doc_kinds[docs[i]]);
			inos[i] = fs_ino(FS_TAG_DOC + docs[i], (uint64_t)e.rowid,
					 0);
		}
		if (list_fixed(&d, cat, ino, fs_ino(FS_TAG_FIXED,
			       tag == FS_TAG_ASSET ? FS_ASSETS : FS_BUNDLES, 0),
			       off, names, inos, ndocs) == 0 &&
		    tag == FS_TAG_BUNDLE)
			list_members(&d, cat, &e, off);
		entity_release(&e);
		break;
	case FS_TAG_VIEW:
		rc = node_by_ino(cat, (int64_t)row, &n);
		if (rc)
			break;
		if (n.type != 'd') {
			node_release(&n);
			rc = -ENOTDIR;
			break;
		}
		up = n.parent == 0 ?
		     fs_ino(FS_TAG_BUNDLE, fs_ino_view(ino), 0) :
		     fs_ino(FS_TAG_VIEW, (uint64_t)n.parent, fs_ino_view(ino));
		node_release(&n);
		if (list_fixed(&d, cat, ino, up, off, NULL, NULL, 0) == 0)
			rc = list_nodes(&d, cat, (int64_t)row, fs_ino_view(ino),
					off);
		break;
	case FS_TAG_NODE:
		rc = node_by_ino(cat, (int64_t)row, &n);
		if (rc)
			break;
		if (n.type != 'd') {
			node_release(&n);
			rc = -ENOTDIR;
			break;
		}
		ndocs = 0;
		if (n.parent == 0) {
			up = fs_ino(FS_TAG_FIXED, FS_DATASETS, 0);
			if (entity_by_id(cat, n.dataset_id, &e) == 0) {
				for (i = 0; i < NDOCS(dataset_docs); i++) {
					names[i] = cora_doc_name(
						doc_kinds[dataset_docs[i]]);
					inos[i] = fs_ino(FS_TAG_DOC +
							 dataset_docs[i],
							 (uint64_t)e.rowid, 0);
				}
				ndocs = NDOCS(dataset_docs);
				entity_release(&e);
			}
		} else {
			up = fs_ino(FS_TAG_NODE, (uint64_t)n.parent, 0);
		}
		node_release(&n);
		if (list_fixed(&d, cat, ino, up, off, names, inos, ndocs) == 0)
			rc = list_nodes(&d, cat, (int64_t)row, 0, off);
		break;
	default:
		rc = -ENOTDIR;
	}
	if (rc && d.used == 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, d.buf, d.used);
	free(d.buf);
}

/* Listings are cached by the kernel (a warm ls -lR or find asks
 * nothing): the watcher invalidates a folder's inode when its entries
 * change, which drops the cached listing too. */
static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, true);
}

/* ---- open and read ---------------------------------------------------------------- */

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat = fs_cat(fs);
	enum fs_tag tag = fs_ino_tag(ino);
	struct fs_handle *h;
	struct entity e;
	int rc;

	if (!cat) {
		fuse_reply_err(req, fs_errno(cora_error_code()));
		return;
	}
	if (tag == FS_TAG_VIEW) {
		if ((fi->flags & O_ACCMODE) != O_RDONLY) {
			fuse_reply_err(req, EROFS);
			return;
		}
		ino = fs_ino(FS_TAG_NODE, fs_ino_row(ino), 0);
		tag = FS_TAG_NODE;
	}
	if (tag == FS_TAG_NODE) {
		if ((fi->flags & O_ACCMODE) != O_RDONLY &&
		    (rc = fs_may_write(req, fs, cat)) != 0) {
			fuse_reply_err(req, -rc);
			return;
		}
		rc = fs_open_file(fs, cat, ino, fi);
		if (rc)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_open(req, fi);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	h->ino = ino;
	h->fd = -1;
	h->doc_fd = -1;
	if (tag == FS_TAG_FIXED && fs_ino_row(ino) == FS_README) {
		h->kind = FS_H_DOC;
		rc = readme_bytes(cat, &h->doc, &h->doc_len);
	} else if (tag == FS_TAG_FIXED && fs_ino_row(ino) == FS_EVENTS) {
		h->kind = FS_H_EVENTS;
		fi->direct_io = 1; /* grows under readers: no stale pages */
		rc = 0;
	} else if (tag >= FS_TAG_DOC && tag < FS_TAG_DOC + 4) {
		h->kind = FS_H_DOC;
		rc = entity_by_row(cat, (int64_t)fs_ino_row(ino), &e);
		if (rc == 0) {
			rc = doc_bytes(fs, cat, ino, &e, h);
			entity_release(&e);
		}
	} else {
		rc = -EISDIR;
	}
	if (rc) {
		free(h->doc);
		if (h->doc_fd >= 0)
			close(h->doc_fd);
		free(h);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

static void read_events(fuse_req_t req, struct corafs *fs,
			struct cora_catalog *cat, struct fs_handle *h,
			size_t size, off_t off)
{
	sqlite3_stmt *s;
	char *out = malloc(size ? size : 1);
	size_t used = 0;
	int64_t pos = 0;
	uint64_t at = 0;
	int rc;

	if (!out) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* resume from the handle's cursor when reading on */
	if (h->ev_offset <= (uint64_t)off && h->ev_position > 0) {
		pos = h->ev_position;
		at = h->ev_offset;
	}
	rc = sqlite3_prepare_v2(cat->db, "SELECT position, " EVENT_LINE
				" FROM events WHERE position > ?1"
				" ORDER BY position", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		free(out);
		fuse_reply_err(req, EIO);
		return;
	}
	sqlite3_bind_int64(s, 1, pos);
	while (used < size && sqlite3_step(s) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(s, 1);
		uint64_t len = (uint64_t)sqlite3_column_bytes(s, 1) + 1;
		uint64_t end = at + len;

		if (end > (uint64_t)off) {
			uint64_t from = (uint64_t)off > at ? (uint64_t)off - at : 0;
			for (uint64_t k = from; k < len && used < size; k++)
				out[used++] = k + 1 == len ? '\n' : line[k];
		}
		if (end <= (uint64_t)off + size) {
			h->ev_position = sqlite3_column_int64(s, 0);
			h->ev_offset = end;
		}
		at = end;
	}
	sqlite3_finalize(s);
	(void)fs;
	fuse_reply_buf(req, out, used);
	free(out);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct corafs *fs = fs_of(req);
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	struct cora_catalog *cat;

	switch (h->kind) {
	case FS_H_DOC: {
		if (h->doc_fd >= 0) {
			/* zero-copy from the temporary file, as blob reads;
			 * the descriptor is read before the kernel gets the
			 * reply, so a release after it cannot race */
			struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
			buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
			buf.buf[0].fd = h->doc_fd;
			buf.buf[0].pos = off;
			fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
			return;
		}
		/* Replied from a copy: the reader may close and release the
		 * handle on another thread the moment the kernel has the
		 * bytes, while this thread is still returning from the
		 * write (ASan's writev check would read freed memory). */
		size_t n = (size_t)off >= h->doc_len ? 0 :
			   h->doc_len - (size_t)off < size ?
			   h->doc_len - (size_t)off : size;
		char *copy = n ? malloc(n) : NULL;

		if (n && !copy) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		if (n)
			memcpy(copy, h->doc + off, n);
		fuse_reply_buf(req, copy, n);
		free(copy);
		return;
	}
	case FS_H_EVENTS:
		cat = fs_cat(fs);
		if (!cat) {
			fuse_reply_err(req, EIO);
			return;
		}
		read_events(req, fs, cat, h, size, off);
		return;
	default:
		fs_read(req, ino, size, off, fi);
	}
}

static void op_release_ro(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;

	if (h && (h->kind == FS_H_DOC || h->kind == FS_H_EVENTS)) {
		free(h->doc);
		if (h->kind == FS_H_DOC && h->doc_fd >= 0)
			close(h->doc_fd);
		free(h);
		fuse_reply_err(req, 0);
		return;
	}
	fs_release(req, ino, fi);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat = fs_cat(fs);
	sqlite3_stmt *s;

	if (!cat || (fs_ino_tag(ino) != FS_TAG_NODE &&
		     fs_ino_tag(ino) != FS_TAG_VIEW)) {
		fuse_reply_err(req, cat ? EINVAL : EIO);
		return;
	}
	s = cora_stmt(cat, "SELECT target FROM nodes WHERE ino = ?1"
		      " AND type = 'l'");
	if (!s) {
		fuse_reply_err(req, EIO);
		return;
	}
	sqlite3_bind_int64(s, 1, (int64_t)fs_ino_row(ino));
	if (sqlite3_step(s) == SQLITE_ROW)
		fuse_reply_readlink(req, (const char *)sqlite3_column_text(s, 0));
	else
		fuse_reply_err(req, EINVAL);
	sqlite3_reset(s);
}

/* ---- extended attributes ------------------------------------------------------------ */

/*
 * Files: user.cora.sha256, user.cora.blob (the digest a reader of the
 * blob store would use: "sha256:<hex>"), and user.* attributes stored
 * with events.  Entity folders: user.cora.id, user.cora.intent,
 * user.cora.status (datasets; assets report lifecycle as status).
 */
int fs_xattr_current(struct corafs *fs, struct cora_catalog *cat,
		     fuse_ino_t ino, const char *name, char **out, size_t *len)
{
	if (fs_ino_tag(ino) == FS_TAG_VIEW) /* a dataset's node, shown */
		ino = fs_ino(FS_TAG_NODE, fs_ino_row(ino), 0);

	enum fs_tag tag = fs_ino_tag(ino);
	const char *v = NULL;
	struct entity e = { 0 };
	struct node n;
	bool have_e = false;
	char *buf = NULL;
	int rc = -ENODATA;

	if (tag == FS_TAG_ASSET || tag == FS_TAG_BUNDLE) {
		if (entity_by_row(cat, (int64_t)fs_ino_row(ino), &e) != 0)
			return -ENOENT;
		have_e = true;
	} else if (tag == FS_TAG_NODE) {
		if (node_by_ino(cat, (int64_t)fs_ino_row(ino), &n) != 0)
			return -ENOENT;
		if (n.parent == 0 && entity_by_id(cat, n.dataset_id, &e) == 0)
			have_e = true;
		if (n.type == 'f' && !strcmp(name, "user.cora.sha256"))
			buf = strdup(n.sha256);
		else if (n.type == 'f' && !strcmp(name, "user.cora.blob") &&
			 asprintf(&buf, "sha256:%s", n.sha256) < 0)
			buf = NULL;
		node_release(&n);
		if (!buf && strncmp(name, "user.", 5) == 0 &&
		    strncmp(name, "user.cora.", 10) != 0) {
			sqlite3_stmt *s = cora_stmt(cat, "SELECT json_extract("
				"xattrs, '$.' || json_quote(?2)) FROM nodes"
				" WHERE ino = ?1");
			if (s) {
				sqlite3_bind_int64(s, 1, (int64_t)fs_ino_row(ino));
				sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
				if (sqlite3_step(s) == SQLITE_ROW &&
				    sqlite3_column_text(s, 0))
					buf = cora_base64_decode(
						(const char *)sqlite3_column_text(s, 0),
						len);
				sqlite3_reset(s);
				if (buf) {
					*out = buf;
					if (have_e)
						entity_release(&e);
					return 0;
				}
			}
		}
	}
	if (!buf && have_e) {
		if (!strcmp(name, "user.cora.id"))
			v = e.id;
		else if (!strcmp(name, "user.cora.intent"))
			v = cora_json_str(e.state, "intent");
		else if (!strcmp(name, "user.cora.status"))
			v = cora_json_str(e.state, "status") ?
			    cora_json_str(e.state, "status") :
			    cora_json_str(e.state, "lifecycle");
		if (v)
			buf = strdup(v);
	}
	if (have_e)
		entity_release(&e);
	if (buf) {
		*out = buf;
		*len = strlen(buf);
		rc = 0;
	}
	return rc;
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat;
	char *v = NULL;
	size_t len = 0;
	int rc;

	/* -o noxattr: "not supported", and not ENOSYS, after which the
	 * kernel would answer alone, but for a POSIX ACL name "no data",
	 * and ls -l would then ask every file for its ACL (cold ls -lR of
	 * 10,000 files: 10,204 getxattr calls, +10-15 ms).  "Not
	 * supported" makes coreutils stop asking the device at the first
	 * file. */
	if (fs->noxattr) {
		fuse_reply_err(req, ENOTSUP);
		return;
	}
	/* Only user.* names are kept (setxattr refuses the others with
	 * ENOTSUP), so asking for another namespace gets the same answer,
	 * from memory.  It matters for speed: ls -l asks every file for
	 * security.selinux, and coreutils stops asking a device once it
	 * answered "not supported", where "no data" makes it ask again
	 * for each of 100,000 files. */
	if (strncmp(name, "user.", 5) != 0) {
		fuse_reply_err(req, ENOTSUP);
		return;
	}
	cat = fs_cat(fs);
	if (!cat) {
		fuse_reply_err(req, EIO);
		return;
	}
	rc = fs_xattr_current(fs, cat, ino, name, &v, &len);
	if (rc) {
		fuse_reply_err(req, -rc);
	} else if (size == 0) {
		fuse_reply_xattr(req, len);
	} else if (size < len) {
		fuse_reply_err(req, ERANGE);
	} else {
		fuse_reply_buf(req, v, len);
	}
	free(v);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct corafs *fs = fs_of(req);
	struct cora_catalog *cat;
	enum fs_tag tag = fs_ino_tag(ino);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	struct node n;

	if (fs->noxattr) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	cat = fs_cat(fs);
	if (!cat) {
		fuse_reply_err(req, EIO);
		return;
	}
	if (tag == FS_TAG_VIEW) {
		ino = fs_ino(FS_TAG_NODE, fs_ino_row(ino), 0);
		tag = FS_TAG_NODE;
	}
	/* Folders' user.cora.id, .intent and .status are read by name and
	 * not listed: tools that copy every listed attribute (cp -a, rsync
	 * -X) would otherwise try to carry one dataset's identity onto
	 * another, which is refused.  Files list their digests: a copy of
	 * the same bytes has the same ones. */
	f = open_memstream(&buf, &len);
	if (tag == FS_TAG_NODE &&
	    node_by_ino(cat, (int64_t)fs_ino_row(ino), &n) == 0) {
		if (n.type == 'f') {
			fputs("user.cora.blob", f); fputc(0, f);
			fputs("user.cora.sha256", f); fputc(0, f);
		}
		node_release(&n);
		{
			sqlite3_stmt *s = cora_stmt(cat, "SELECT key FROM nodes,"
				" json_each(nodes.xattrs) WHERE ino = ?1"
				" ORDER BY key");
			if (s) {
				sqlite3_bind_int64(s, 1, (int64_t)fs_ino_row(ino));
				while (sqlite3_step(s) == SQLITE_ROW) {
					fputs((const char *)sqlite3_column_text(s, 0), f);
					fputc(0, f);
				}
				sqlite3_reset(s);
			}
		}
	}
	fclose(f);
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, len);
	free(buf);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct corafs *fs = fs_of(req);
	struct statvfs sv;
	char *path;

	if (asprintf(&path, "%s/blobs", fs->catalog) < 0 ||
	    statvfs(path, &sv) != 0) {
		fuse_reply_err(req, errno ? errno : ENOMEM);
		return;
	}
	free(path);
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	/* No FUSE_CAP_POSIX_ACL: corafs keeps no ACLs (getxattr of
	 * system.* answers ENOTSUP), so the kernel checks the mode bits. */
	(void)userdata;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	if (conn->capable & FUSE_CAP_READDIRPLUS_AUTO)
		conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	conn->max_write = 1 << 20;
	conn->max_readahead = 1 << 20;
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	/* inode numbers are computed (inode.h): nothing to free */
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	fuse_reply_none(req);
}

const struct fuse_lowlevel_ops corafs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = fs_setattr,
	.readlink = op_readlink,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_rmdir,
	.symlink = fs_symlink,
	.rename = fs_rename,
	.link = fs_link,
	.open = op_open,
	.read = op_read,
	.write_buf = fs_write_buf,
	.flush = fs_flush,
	.release = op_release_ro,
	.fsync = fs_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.statfs = op_statfs,
	.setxattr = fs_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = fs_removexattr,
	.create = fs_create,
};

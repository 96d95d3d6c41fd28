/*
 * render.c: cora_render(), which generated file of which entity is made
 * by which renderer.
 *
 *     entity    datacite.xml   pidinst.json   ro-crate-metadata.json   preview
 *     Asset     datacite.c     pidinst.c      -                        -
 *     Dataset   datacite.c     -              rocrate.c                -
 *     Bundle    datacite.c     -              rocrate.c                preview.c
 *
 * Any other pair is CORA_ENOTFOUND.  A render reads the catalog through
 * one struct rd (render_int.h), in one read transaction, and writes
 * nothing.  Every render goes through a sink (cora_render_to()): the
 * buffer of cora_render() and the counter of cora_render_size() are two.
 */
#include "schema/render.h"

#include "schema/render_int.h"

#include "core/error.h"

#include <libxml/parser.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

const char *cora_doc_name(enum cora_doc_kind kind)
{
	static const char *const names[] = {
		[CORA_DOC_DATACITE] = "datacite.xml",
		[CORA_DOC_PIDINST] = "pidinst.json",
		[CORA_DOC_ROCRATE] = "ro-crate-metadata.json",
		[CORA_DOC_PREVIEW] = "ro-crate-preview.html",
	};

	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ?
	       names[kind] : "";
}

static const struct {
	const char *stream_type;
	const char *noun;
	unsigned kinds;   /* bit per enum cora_doc_kind */
} documents[] = {
	{ "Asset", "asset", 1u << CORA_DOC_DATACITE | 1u << CORA_DOC_PIDINST },
	{ "Dataset", "dataset",
	  1u << CORA_DOC_DATACITE | 1u << CORA_DOC_ROCRATE },
	{ "Bundle", "bundle", 1u << CORA_DOC_DATACITE | 1u << CORA_DOC_ROCRATE |
	  1u << CORA_DOC_PREVIEW },
};

/* libxml2 wants its globals set up once, before threads use it. */
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

/* Up to two entities whose column `col` equals ref. */
static int lookup(struct cora_catalog *cat, const char *sql,
		  const char *ref, char type[32], char id[37], int *found)
{
	sqlite3_stmt *s = cora_stmt(cat, sql);
	int rc;

	*found = 0;
	if (!s)
		return cora_error_code();
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((*found)++ == 0) {
			snprintf(type, 32, "%s", sqlite3_column_text(s, 0));
			snprintf(id, 37, "%s", sqlite3_column_text(s, 1));
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return cora_sqlite_error(cat, rc, "reading an entity");
	return 0;
}

/* The stream type and id of an entity named by its id, or by a slug
 * that names exactly one entity. */
static int resolve(struct cora_catalog *cat, const char *ref, char type[32],
		   char id[37])
{
	int found, rc;

	rc = lookup(cat, "SELECT stream_type, stream_id FROM entities"
		    " WHERE stream_id = ?1", ref, type, id, &found);
	if (rc || found)
		return rc;
	rc = lookup(cat, "SELECT stream_type, stream_id FROM entities"
		    " WHERE slug = ?1 LIMIT 2", ref, type, id, &found);
	if (rc)
		return rc;
	if (found == 0)
		return cora_error_set(CORA_ENOTFOUND,
				      "entity '%s' does not exist", ref);
	if (found > 1)
		return cora_error_set(CORA_ENOTFOUND,
				      "'%s' names more than one entity: give "
				      "its id", ref);
	return 0;
}

bool cora_doc_reserved(const char *name, size_t len)
{
	static const enum cora_doc_kind kinds[] = {
		CORA_DOC_DATACITE, CORA_DOC_ROCRATE, CORA_DOC_PREVIEW,
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *n = cora_doc_name(kinds[i]);
		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return true;
	}
	return false;
}

/* Renders into a sink: the crate streams, the other documents are made
 * whole and then handed over. */
static int render(struct rd *r, enum cora_doc_kind kind, const char *type,
		  const json_t *state, cora_write_fn write, void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = 0;

	switch (kind) {
	case CORA_DOC_DATACITE:
		rc = rd_datacite(r, type, state, &buf, &len);
		break;
	case CORA_DOC_PIDINST:
		rc = rd_pidinst(r, state, &buf, &len);
		break;
	case CORA_DOC_ROCRATE:
		return rd_rocrate_to(r, type, state, write, arg);
	case CORA_DOC_PREVIEW:
		rc = rd_preview(r, state, &buf, &len);
		break;
	}
	if (rc == 0 && len)
		rc = write(arg, buf, len);
	free(buf);
	return rc;
}

int cora_render_to(struct cora_catalog *cat, enum cora_doc_kind kind,
		   const char *stream_id, cora_write_fn write, void *arg)
{
	char type[32], id[37];
	const json_t *state;
	struct rd r;
	bool tx;
	size_t i;
	int rc;

	pthread_once(&xml_once, xml_init);
	if (!stream_id)
		return cora_error_set(CORA_ENOTFOUND, "no entity named");
	/* one catalog state for the whole document: a crate is read by
	 * many statements, one after the other */
	tx = cat->tx_depth == 0 && sqlite3_get_autocommit(cat->db);
	if (tx && (rc = cora_exec_sql(cat, "BEGIN")))
		return rc;
	if ((rc = resolve(cat, stream_id, type, id)))
		goto out;
	for (i = 0; i < sizeof(documents) / sizeof(documents[0]); i++)
		if (strcmp(documents[i].stream_type, type) == 0)
			break;
	if (i == sizeof(documents) / sizeof(documents[0]) ||
	    (unsigned)kind >= 32 || !(documents[i].kinds & (1u << kind))) {
		rc = cora_error_set(CORA_ENOTFOUND, "%s '%s' has no %s",
				    i < sizeof(documents) /
				    sizeof(documents[0]) ?
				    documents[i].noun : type, stream_id,
				    cora_doc_name(kind)[0] ?
				    cora_doc_name(kind) : "such document");
		goto out;
	}
	rd_init(&r, cat);
	if (!r.cache) {
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
		goto out;
	}
	rc = rd_get(&r, type, id, &state);
	if (rc == CORA_ENOTFOUND)
		rc = cora_error_set(CORA_ENOTFOUND, "entity '%s' does not exist",
				    stream_id);
	if (rc == 0)
		rc = render(&r, kind, type, state, write, arg);
	rd_release(&r);
out:
	if (tx && cora_exec_sql(cat, "COMMIT") != 0 && rc == 0)
		rc = cora_error_code();
	return rc;
}

struct buffer {
	char *buf;
	size_t len, cap;
};

static int to_buffer(void *arg, const char *buf, size_t len)
{
	struct buffer *b = arg;
	size_t cap;
	char *p;

	if (b->len + len + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len + 1)
			cap *= 2;
		p = realloc(b->buf, cap);
		if (!p)
			return cora_error_set(CORA_ENOMEM, "out of memory");
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, buf, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return 0;
}

int cora_render(struct cora_catalog *cat, enum cora_doc_kind kind,
		const char *stream_id, char **out, size_t *len)
{
	struct buffer b = { NULL, 0, 0 };
	int rc;

	*out = NULL;
	*len = 0;
	rc = cora_render_to(cat, kind, stream_id, to_buffer, &b);
	if (rc == 0 && !b.buf)
		rc = to_buffer(&b, "", 0);
	if (rc) {
		free(b.buf);
		return rc;
	}
	*out = b.buf;
	*len = b.len;
	return 0;
}

static int count(void *arg, const char *buf, size_t len)
{
	(void)buf;
	*(size_t *)arg += len;
	return 0;
}

int cora_render_size(struct cora_catalog *cat, enum cora_doc_kind kind,
		     const char *stream_id, size_t *len)
{
	int rc;

	*len = 0;
	rc = cora_render_to(cat, kind, stream_id, count, len);
	if (rc)
		*len = 0;
	return rc;
}

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
 * one struct rd (render_int.h) and writes nothing.
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

int cora_render(struct cora_catalog *cat, enum cora_doc_kind kind,
		const char *stream_id, char **out, size_t *len)
{
	char type[32], id[37];
	const json_t *state;
	struct rd r;
	size_t i;
	int rc;

	*out = NULL;
	*len = 0;
	pthread_once(&xml_once, xml_init);
	if (!stream_id)
		return cora_error_set(CORA_ENOTFOUND, "no entity named");
	if ((rc = resolve(cat, stream_id, type, id)))
		return rc;
	for (i = 0; i < sizeof(documents) / sizeof(documents[0]); i++)
		if (strcmp(documents[i].stream_type, type) == 0)
			break;
	if (i == sizeof(documents) / sizeof(documents[0]) ||
	    (unsigned)kind >= 32 || !(documents[i].kinds & (1u << kind)))
		return cora_error_set(CORA_ENOTFOUND, "%s '%s' has no %s",
				      i < sizeof(documents) /
				      sizeof(documents[0]) ?
				      documents[i].noun : type, stream_id,
				      cora_doc_name(kind)[0] ?
				      cora_doc_name(kind) : "such document");
	rd_init(&r, cat);
	if (!r.cache)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	rc = rd_get(&r, type, id, &state);
	if (rc == CORA_ENOTFOUND)
		rc = cora_error_set(CORA_ENOTFOUND, "entity '%s' does not exist",
				    stream_id);
	if (rc == 0) {
		switch (kind) {
		case CORA_DOC_DATACITE:
			rc = rd_datacite(&r, type, state, out, len);
			break;
		case CORA_DOC_PIDINST:
			rc = rd_pidinst(&r, state, out, len);
			break;
		case CORA_DOC_ROCRATE:
			rc = rd_rocrate(&r, type, state, out, len);
			break;
		case CORA_DOC_PREVIEW:
			rc = rd_preview(&r, state, out, len);
			break;
		}
	}
	rd_release(&r);
	if (rc) {
		free(*out);
		*out = NULL;
		*len = 0;
	}
	return rc;
}

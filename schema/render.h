/*
 * render.h: the generated files of an entity, rendered from the catalog.
 *
 * Every generated file is a pure function of catalog state: the same
 * state renders the same bytes (sorted sets, stable key order), so the
 * mount can report exact sizes and a second rsync transfers nothing.
 * Both the mount and `cora ... show --format` call cora_render(), so they
 * print the same bytes.
 */
#ifndef CORA_RENDER_H
#define CORA_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/catalog.h"

enum cora_doc_kind {
	CORA_DOC_DATACITE,   /* datacite.xml: DataCite 4.6 */
	CORA_DOC_PIDINST,    /* pidinst.json: PIDINST 1.0 (assets) */
	CORA_DOC_ROCRATE,    /* ro-crate-metadata.json: RO-Crate 1.2 */
	CORA_DOC_PREVIEW,    /* ro-crate-preview.html (bundles) */
};

/* File name of a kind ("datacite.xml"). */
const char *cora_doc_name(enum cora_doc_kind kind);

/* True when name (len bytes) is the name of a generated file of a
 * dataset or bundle folder: reserved at a dataset root (DESIGN 1). */
bool cora_doc_reserved(const char *name, size_t len);

/* Renders document `kind` of the entity `stream_id` into a new buffer
 * (*out, *len; caller frees).  CORA_ENOTFOUND when the entity does not
 * exist or has no such document. */
int cora_render(struct cora_catalog *cat, enum cora_doc_kind kind,
		const char *stream_id, char **out, size_t *len);

#endif

/*
 * render.h: the generated files of an entity, rendered from the catalog.
 *
 * Every generated file is a pure function of catalog state: the same
 * state renders the same bytes (sorted sets, stable key order), so the
 * mount can report exact sizes and a second rsync transfers nothing.
 * Both the mount and `cora ... show --format` call cora_render(), so they
 * print the same bytes.
 *
 * Three ways to get the bytes, all the same bytes for the same state:
 *
 *     cora_render()        into one new buffer (the CLI, small documents)
 *     cora_render_to()     into a sink, piece by piece
 *     cora_render_size()   only the length: no byte is kept
 *
 * The crate of a dataset or bundle (ro-crate-metadata.json) streams: its
 * file entities are written as they are read from the catalog, so
 * cora_render_to() and cora_render_size() use memory bounded by the
 * folder depth and one entity, not by the number of files (a dataset of a
 * million files renders in a few MiB).  cora_render() still holds the
 * whole document; the other documents are small and are rendered whole
 * in every case.
 *
 * A render reads the catalog in one read transaction when the connection
 * has none open, so the bytes come from one catalog state.  Renders on
 * different connections may run in parallel; one connection renders one
 * document at a time (the sink must not use the catalog).
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

/* A sink: takes len bytes (len > 0) of a document, in order.  Returns 0,
 * or a negative CORA_E* code (with cora_error_set()) that stops the
 * render and is returned by it. */
typedef int (*cora_write_fn)(void *arg, const char *buf, size_t len);

/* Renders document `kind` of `stream_id` into the sink write(arg, ...).
 * Errors as cora_render(); when it fails the sink may already have been
 * given part of the document, which the caller throws away.  The sink
 * gets pieces of at most 64 KiB. */
int cora_render_to(struct cora_catalog *cat, enum cora_doc_kind kind,
		   const char *stream_id, cora_write_fn write, void *arg);

/* The length in bytes of what cora_render() would return, counted
 * without keeping the bytes. */
int cora_render_size(struct cora_catalog *cat, enum cora_doc_kind kind,
		     const char *stream_id, size_t *len);

#endif

/*
 * render_int.h: what the renderers of schema/ share (not a public API).
 *
 * One call of cora_render() makes one struct rd: the catalog plus a cache
 * of the entity states read so far, so a bundle that names the same asset
 * from three runs reads it once.  Everything a renderer needs from the
 * catalog goes through the rd_* readers below (facts.c), which return
 * lists in a fixed order: the renderers never sort by anything that is
 * not in the catalog, so the same state gives the same bytes.
 *
 * Text written into a document goes through one of the two cleaners of
 * escape.c first: rd_clean() for XML and HTML (characters XML 1.0 or HTML
 * forbid become U+FFFD), rd_uri_path() for RO-Crate @id paths.  JSON text
 * is escaped by jansson.
 *
 * Ownership: functions named *_new or returning char * give the caller a
 * malloc'd string or a new JSON reference; rd_get() lends a state owned
 * by the cache, valid until rd_release().
 */
#ifndef CORA_RENDER_INT_H
#define CORA_RENDER_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/catalog.h"
#include "schema/render.h"

/* The version of corafs named by the documents (the default Process Run
 * tool); keep it equal to the project version in meson.build. */
#define RD_CORAFS_VERSION "0.1.0"

#define RD_DATACITE_NS "http://datacite.org/schema/kernel-4"
#define RD_DATACITE_XSD \
	"https://schema.datacite.org/meta/kernel-4.6/metadata.xsd"
#define RD_DATACITE_PROFILE "https://schema.datacite.org/meta/kernel-4.6/"
#define RD_ROCRATE_SPEC "https://w3id.org/ro/crate/1.2"
#define RD_ROCRATE_CONTEXT "https://w3id.org/ro/crate/1.2/context"
#define RD_PROCESS_PROFILE "https://w3id.org/ro/wfrun/process/0.5"

struct rd {
	struct cora_catalog *cat;
	json_t *cache;           /* stream id -> state */
};

void rd_init(struct rd *r, struct cora_catalog *cat);
void rd_release(struct rd *r);

/* ---- reading the catalog (facts.c) ------------------------------------ */

/* The state of entity `id` (of stream_type, or any when NULL), borrowed
 * from the cache.  CORA_ENOTFOUND (no message) when it does not exist. */
int rd_get(struct rd *r, const char *stream_type, const char *id,
	   const json_t **out);

/* The states of the entities an SQL query selects: its first column is
 * the state JSON, ?1 is bound to arg (may be NULL).  A new array, in the
 * query's ORDER BY order. */
int rd_query(struct rd *r, const char *sql, const char *arg, json_t **out);

/* The newest (last = true) or first event of a type on a stream: its
 * occurred_at and principal.  CORA_ENOTFOUND when there is none. */
int rd_event(struct rd *r, const char *stream_id, const char *event_type,
	     bool last, char at[40], char principal[37]);

/* The profile of the person behind an actor id, or *out = NULL when there
 * is none or it was erased.  A new reference. */
int rd_person(struct rd *r, const char *actor_id, json_t **out);

/* A catalog config value, or dflt. */
const char *rd_config(struct rd *r, const char *key, const char *dflt);

/* ---- identifiers and organisations (facts.c) --------------------------- */

/* The registered DOI of an asset or bundle, or NULL. */
const char *rd_doi(const json_t *state);

/* `<doi_prefix>/cora.<kind>.<uuid>`, the draft DOI (standards 8); new. */
char *rd_draft_doi(struct rd *r, const char *kind, const char *id);

/* The DOI a record carries: its registered DOI, else its draft; new. */
char *rd_record_doi(struct rd *r, const char *kind, const json_t *state);

/* An organisation: name and its ROR URL (or NULL). */
struct rd_org {
	const char *name;
	const char *ror;
};

/* The catalog's publisher, or the facility `code` when it names another
 * one (name = code, no ROR). */
void rd_publisher(struct rd *r, const char *code, struct rd_org *org);

/* A human name for an SPDX licence id (the id itself when unknown). */
const char *rd_license_name(const char *spdx);
/* A one-sentence description of a licence. */
const char *rd_license_description(const char *spdx);

/* ---- derived facts (facts.c) ------------------------------------------- */

/* The licence a dataset is published under: that of the first Sealed or
 * Published bundle holding it (by bundle id), else NULL. */
int rd_dataset_license(struct rd *r, const json_t *ds, const char **spdx);

/* Bytes and files of a dataset: the promoted totals, else the sum of its
 * current files. */
int rd_dataset_size(struct rd *r, const json_t *ds, int64_t *bytes,
		    int64_t *files);

/* The date (YYYY-MM-DD) a dataset was published: its promotion, else its
 * registration. */
int rd_dataset_published(struct rd *r, const json_t *ds, char date[11]);

/* The acquisitions of a dataset (by id), or of an asset (by
 * producing_asset_id), sorted by captured_at then id. */
int rd_acquisitions(struct rd *r, const char *key, const char *id,
		    json_t **out);

/* The assets that captured a dataset: distinct, sorted by id. */
int rd_capturing_assets(struct rd *r, const char *dataset_id, json_t **out);

/* Human sentences (new strings, never NULL on success). */
int rd_asset_abstract(struct rd *r, const json_t *asset, char **out);
int rd_dataset_abstract(struct rd *r, const json_t *ds, char **out);
int rd_bundle_abstract(struct rd *r, const json_t *bundle, char **out);
/* The run and acquisitions behind a dataset, or NULL when none. */
int rd_dataset_methods(struct rd *r, const json_t *ds, char **out);

/* The families of an asset, sorted by (name, id); a new array. */
int rd_asset_families(struct rd *r, const json_t *asset, json_t **out);

/* ---- text (escape.c) ---------------------------------------------------- */

/* A copy of UTF-8 text safe for XML 1.0 and HTML: invalid sequences, C0
 * controls other than tab, LF and CR, DEL, C1 controls and noncharacters
 * become U+FFFD.  Never NULL unless out of memory. */
char *rd_clean(const char *s);

/* A relative path as an RO-Crate @id: '/' kept, unreserved and sub-delim
 * characters and non-ASCII UTF-8 kept, everything else (space, '%', ':',
 * '#', '?', controls, ...) percent-encoded.  New string. */
char *rd_uri_path(const char *path);

/* Appends s to a string being built (grows *buf); HTML-escaped and
 * cleaned when html is true. */
struct rd_str {
	char *buf;
	size_t len, cap;
	bool oom;
};
void rd_str_add(struct rd_str *s, const char *text);
void rd_str_addf(struct rd_str *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rd_str_html(struct rd_str *s, const char *text);
/* Hands the buffer over (NUL-terminated; *len without the NUL); on OOM
 * frees it and returns CORA_ENOMEM. */
int rd_str_take(struct rd_str *s, char **out, size_t *len);

/* "2026-05-19T14:05:00+00:00" -> "2026-05-19" (out must hold 11). */
void rd_date(char out[11], const char *iso);
/* The year of an ISO time, or 0. */
int rd_year(const char *iso);
/* Nanoseconds since the epoch as RFC 3339 UTC ("...Z", fraction when
 * not whole seconds). */
void rd_time_ns(char out[48], int64_t ns);
/* The IANA media type guessed from a file name's extension. */
const char *rd_media_type(const char *path);

/* ---- writing JSON as jansson does (jsonw.c) ----------------------------- */

/* A writer into a sink (64 KiB buffer).  Errors are sticky: after the
 * first (the sink's, or out of memory) every call does nothing and
 * rd_jw_finish() returns it.  `depth` is the nesting level of the value
 * being written (0 for the document), as JSON_INDENT(2) indents it. */
struct rd_jw {
	cora_write_fn write;
	void *arg;
	int rc;
	char *buf;
	size_t used;
	/* Called for each marker (rd_jw_mark()) met by rd_jw_value(): in an
	 * array (key NULL) it writes zero or more elements, each after
	 * rd_jw_item(w, depth, first); as the value of `key` it writes the
	 * member after rd_jw_key(w, key, depth, first), or nothing to leave
	 * the key out.  It reports errors with rd_jw_fail(). */
	void (*expand)(struct rd_jw *w, const json_t *mark, const char *key,
		       size_t depth, bool *first);
	void *ctx;                /* the hook's */
};

void rd_jw_init(struct rd_jw *w, cora_write_fn write, void *arg);
/* Flushes, frees the buffer, returns the first error (or 0). */
int rd_jw_finish(struct rd_jw *w);
void rd_jw_fail(struct rd_jw *w, int rc);
void rd_jw_raw(struct rd_jw *w, const char *s, size_t n);
/* v as json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS) writes it at depth
 * (markers expanded). */
void rd_jw_value(struct rd_jw *w, const json_t *v, size_t depth);
/* A string (valid UTF-8, n bytes) as a JSON string. */
void rd_jw_string(struct rd_jw *w, const char *s, size_t n);
/* What comes before an array element or an object member at depth: the
 * opening bracket for the first (*first is then cleared), else ",". */
void rd_jw_item(struct rd_jw *w, size_t depth, bool *first);
void rd_jw_key(struct rd_jw *w, const char *key, size_t depth, bool *first);
/* Ends a container of depth opened by rd_jw_item()/rd_jw_key() (close is
 * ']' or '}'); with first still set it writes "[]" or "{}". */
void rd_jw_close(struct rd_jw *w, char close, size_t depth, bool first);
/* A marker carrying n (a new reference), and the test for one. */
json_t *rd_jw_mark(json_int_t n);
bool rd_jw_is_mark(const json_t *v, json_int_t *n);

/* ---- the renderers ------------------------------------------------------ */

int rd_datacite(struct rd *r, const char *stream_type, const json_t *state,
		char **out, size_t *len);
int rd_pidinst(struct rd *r, const json_t *asset, char **out, size_t *len);
/* The crate of a Dataset or Bundle into a sink, streaming its files. */
int rd_rocrate_to(struct rd *r, const char *stream_type, const json_t *state,
		  cora_write_fn write, void *arg);
int rd_preview(struct rd *r, const json_t *bundle, char **out, size_t *len);

/* The crate of a bundle as JSON for its preview: a new reference to
 * {"@context", "@graph"}, every file entity in memory (the preview's
 * memory grows with the files; the crate's does not). */
int rd_bundle_crate(struct rd *r, const json_t *bundle, json_t **out);

#endif

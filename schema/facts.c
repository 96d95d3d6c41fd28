/*
 * facts.c: what the renderers read from the catalog, and the facts they
 * derive from it (draft DOIs, licences, sizes, dates, the sentences of
 * the descriptions).
 *
 * Reads go to the projections (entities, nodes, persons) and, for the
 * time and principal of one event, to the log.  Every list comes back in
 * an order fixed by the catalog (ids, paths, capture times), never by
 * memory addresses or hash tables, which is what makes the documents
 * deterministic.
 */
#include "schema/render_int.h"

#include "core/error.h"
#include "core/person.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rd_init(struct rd *r, struct cora_catalog *cat)
{
	r->cat = cat;
	r->cache = json_object();
}

void rd_release(struct rd *r)
{
	json_decref(r->cache);
	r->cache = NULL;
}

/* ---- reading ----------------------------------------------------------- */

int rd_get(struct rd *r, const char *stream_type, const char *id,
	   const json_t **out)
{
	json_t *hit = json_object_get(r->cache, id), *state;
	json_error_t jerr;
	sqlite3_stmt *s;
	char type[32];
	int rc;

	*out = NULL;
	if (!id)
		return CORA_ENOTFOUND;
	if (!hit) {
		s = cora_stmt(r->cat, "SELECT stream_type, state FROM entities"
			      " WHERE stream_id = ?1");
		if (!s)
			return cora_error_code();
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			sqlite3_reset(s);
			return CORA_ENOTFOUND;
		}
		if (rc != SQLITE_ROW) {
			sqlite3_reset(s);
			return cora_sqlite_error(r->cat, rc, "reading an entity");
		}
		snprintf(type, sizeof(type), "%s",
			 (const char *)sqlite3_column_text(s, 0));
		state = json_loads((const char *)sqlite3_column_text(s, 1), 0,
				   &jerr);
		sqlite3_reset(s);
		if (!state)
			return cora_error_set(CORA_ECORRUPT, "entity '%s' has a "
					      "bad state: %s", id, jerr.text);
		hit = json_pack("[s,o]", type, state);
		if (!hit || json_object_set_new(r->cache, id, hit) != 0)
			return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	if (stream_type && strcmp(json_string_value(json_array_get(hit, 0)),
				  stream_type) != 0)
		return CORA_ENOTFOUND;
	*out = json_array_get(hit, 1);
	return 0;
}

int rd_query(struct rd *r, const char *sql, const char *arg, json_t **out)
{
	sqlite3_stmt *s = cora_stmt(r->cat, sql);
	json_error_t jerr;
	json_t *v;
	int rc;

	*out = NULL;
	if (!s)
		return cora_error_code();
	if (arg)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
	*out = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = json_loads((const char *)sqlite3_column_text(s, 0), 0,
			       &jerr);
		if (!v) {
			sqlite3_reset(s);
			json_decref(*out);
			*out = NULL;
			return cora_error_set(CORA_ECORRUPT, "bad entity "
					      "state: %s", jerr.text);
		}
		json_array_append_new(*out, v);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(*out);
		*out = NULL;
		return cora_sqlite_error(r->cat, rc, "querying entities");
	}
	return 0;
}

int rd_event(struct rd *r, const char *stream_id, const char *event_type,
	     bool last, char at[40], char principal[37])
{
	sqlite3_stmt *s = cora_stmt(r->cat, last ?
		"SELECT occurred_at, principal_id FROM events"
		" WHERE stream_id = ?1 AND event_type = ?2"
		" ORDER BY position DESC LIMIT 1" :
		"SELECT occurred_at, principal_id FROM events"
		" WHERE stream_id = ?1 AND event_type = ?2"
		" ORDER BY position LIMIT 1");
	const unsigned char *v;
	int rc;

	at[0] = '\0';
	if (principal)
		principal[0] = '\0';
	if (!s)
		return cora_error_code();
	sqlite3_bind_text(s, 1, stream_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, event_type, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_text(s, 0);
		snprintf(at, 40, "%s", v ? (const char *)v : "");
		v = sqlite3_column_text(s, 1);
		if (principal)
			snprintf(principal, 37, "%s", v ? (const char *)v : "");
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return CORA_ENOTFOUND;
	if (rc != SQLITE_ROW)
		return cora_sqlite_error(r->cat, rc, "reading the log");
	return 0;
}

int rd_person(struct rd *r, const char *actor_id, json_t **out)
{
	const char *name;
	int rc;

	*out = NULL;
	if (!actor_id || !*actor_id)
		return 0;
	rc = cora_person_get(r->cat, actor_id, out);
	if (rc == CORA_ENOTFOUND) {
		cora_error_clear();   /* no profile: expected, not a failure */
		return 0;
	}
	if (rc)
		return rc;
	name = cora_json_str(*out, "name");
	/* cora_person_erase() leaves "(erased)" and no ORCID */
	if (!name || !*name || (strcmp(name, "(erased)") == 0 &&
				!cora_json_str(*out, "orcid"))) {
		json_decref(*out);
		*out = NULL;
	}
	return 0;
}

const char *rd_config(struct rd *r, const char *key, const char *dflt)
{
	const char *v = cora_catalog_config(r->cat, key, dflt);

	return v && *v ? v : dflt;
}

/* ---- identifiers -------------------------------------------------------- */

const char *rd_doi(const json_t *state)
{
	const json_t *pid = json_object_get(state, "persistent_id");
	const char *scheme;

	if (!json_is_object(pid))
		pid = json_object_get(state, "external_pid");
	scheme = cora_json_str(pid, "scheme");
	if (scheme && strcmp(scheme, "DOI") == 0)
		return cora_json_str(pid, "value");
	return NULL;
}

char *rd_draft_doi(struct rd *r, const char *kind, const char *id)
{
	char *s = NULL;

	if (asprintf(&s, "%s/cora.%s.%s", rd_config(r, "doi_prefix",
						     "10.5072"),
		     kind, id ? id : "") < 0)
		return NULL;
	return s;
}

char *rd_record_doi(struct rd *r, const char *kind, const json_t *state)
{
	const char *doi = rd_doi(state);

	return doi ? strdup(doi) :
		     rd_draft_doi(r, kind, cora_json_str(state, "id"));
}

void rd_publisher(struct rd *r, const char *code, struct rd_org *org)
{
	const char *own = rd_config(r, "publisher", NULL);

	if (code && own && strcmp(code, own) != 0) {
		org->name = code;
		org->ror = NULL;
		return;
	}
	org->name = rd_config(r, "publisher_name", own ? own :
			      code ? code : "CORA");
	org->ror = rd_config(r, "publisher_ror", NULL);
}

static const struct licence {
	const char *id, *name, *description;
} licences[] = {
	{ "CC-BY-4.0", "Creative Commons Attribution 4.0 International",
	  "Reuse, sharing and adaptation are allowed for any purpose, "
	  "provided the creators are credited." },
	{ "CC-BY-SA-4.0",
	  "Creative Commons Attribution Share Alike 4.0 International",
	  "Reuse is allowed with credit; adaptations must be shared under "
	  "the same licence." },
	{ "CC-BY-NC-4.0",
	  "Creative Commons Attribution Non Commercial 4.0 International",
	  "Reuse is allowed with credit, for non-commercial purposes only." },
	{ "CC0-1.0", "Creative Commons Zero v1.0 Universal",
	  "Dedicated to the public domain: no rights reserved." },
	{ "ODbL-1.0", "Open Data Commons Open Database License v1.0",
	  "Share, create and adapt the database, with attribution and "
	  "share-alike." },
	{ "MIT", "MIT License",
	  "A permissive licence: reuse with the copyright notice kept." },
	{ "Apache-2.0", "Apache License 2.0",
	  "A permissive licence with a patent grant." },
};

static const struct licence *licence_find(const char *spdx)
{
	size_t i;

	for (i = 0; spdx && i < sizeof(licences) / sizeof(licences[0]); i++)
		if (strcmp(licences[i].id, spdx) == 0)
			return &licences[i];
	return NULL;
}

const char *rd_license_name(const char *spdx)
{
	const struct licence *l = licence_find(spdx);

	return l ? l->name : spdx;
}

const char *rd_license_description(const char *spdx)
{
	const struct licence *l = licence_find(spdx);

	return l ? l->description :
		   "The licence with this SPDX identifier; its text is at "
		   "https://spdx.org/licenses/.";
}

/* ---- derived facts ------------------------------------------------------ */

int rd_dataset_license(struct rd *r, const json_t *ds, const char **spdx)
{
	const json_t *b;
	json_t *ids;
	int rc;

	*spdx = NULL;
	rc = rd_query(r,
		"SELECT json_object('id', stream_id) FROM entities"
		" WHERE stream_type = 'Bundle'"
		" AND json_extract(state, '$.status') IN ('Sealed', 'Published')"
		" AND json_extract(state, '$.license') IS NOT NULL"
		" AND EXISTS (SELECT 1 FROM json_each(entities.state,"
		"  '$.dataset_ids') WHERE value = ?1)"
		" ORDER BY stream_id LIMIT 1",
		cora_json_str(ds, "id"), &ids);
	if (rc)
		return rc;
	if (json_array_size(ids) > 0) {
		rc = rd_get(r, "Bundle",
			    cora_json_str(json_array_get(ids, 0), "id"), &b);
		if (rc == 0)
			*spdx = cora_json_str(b, "license");
	}
	json_decref(ids);
	return rc == CORA_ENOTFOUND ? 0 : rc;
}

int rd_dataset_size(struct rd *r, const json_t *ds, int64_t *bytes,
		    int64_t *files)
{
	const json_t *bs = json_object_get(ds, "byte_size");
	const json_t *fc = json_object_get(ds, "file_count");
	sqlite3_stmt *s;
	int rc;

	if (json_is_integer(bs) && json_is_integer(fc)) {
		*bytes = json_integer_value(bs);
		*files = json_integer_value(fc);
		return 0;
	}
	*bytes = *files = 0;
	s = cora_stmt(r->cat,
		"WITH RECURSIVE t(ino, type) AS ("
		"  SELECT ino, type FROM nodes WHERE parent ="
		"   (SELECT ino FROM nodes WHERE parent = 0 AND name = ?1)"
		"  UNION ALL"
		"  SELECT n.ino, n.type FROM nodes n JOIN t ON n.parent = t.ino"
		"  WHERE t.type = 'd')"
		" SELECT coalesce(sum(n.size), 0), count(*)"
		" FROM t JOIN nodes n ON n.ino = t.ino WHERE t.type = 'f'");
	if (!s)
		return cora_error_code();
	sqlite3_bind_text(s, 1, cora_json_str(ds, "id"), -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*bytes = sqlite3_column_int64(s, 0);
		*files = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 :
	       cora_sqlite_error(r->cat, rc, "summing files");
}

int rd_dataset_published(struct rd *r, const json_t *ds, char date[11])
{
	char at[40];
	int rc = rd_event(r, cora_json_str(ds, "id"), "DatasetPromoted", false,
			  at, NULL);

	if (rc == CORA_ENOTFOUND)
		snprintf(at, sizeof(at), "%s",
			 cora_json_str(ds, "created_at") ?
			 cora_json_str(ds, "created_at") : "");
	else if (rc)
		return rc;
	rd_date(date, at);
	return 0;
}

int rd_acquisitions(struct rd *r, const char *key, const char *id,
		    json_t **out)
{
	const char *sql = strcmp(key, "dataset_id") == 0 ?
		"SELECT state FROM entities WHERE stream_type = 'Acquisition'"
		" AND json_extract(state, '$.dataset_id') = ?1"
		" ORDER BY json_extract(state, '$.captured_at'), stream_id" :
		"SELECT state FROM entities WHERE stream_type = 'Acquisition'"
		" AND json_extract(state, '$.producing_asset_id') = ?1"
		" ORDER BY json_extract(state, '$.captured_at'), stream_id";

	return rd_query(r, sql, id, out);
}

int rd_capturing_assets(struct rd *r, const char *dataset_id, json_t **out)
{
	json_t *ids;
	const json_t *a;
	size_t i;
	json_t *e;
	int rc;

	*out = NULL;
	rc = rd_query(r,
		"SELECT DISTINCT json_object('id',"
		"  json_extract(state, '$.producing_asset_id')) FROM entities"
		" WHERE stream_type = 'Acquisition'"
		" AND json_extract(state, '$.dataset_id') = ?1"
		" ORDER BY json_extract(state, '$.producing_asset_id')",
		dataset_id, &ids);
	if (rc)
		return rc;
	*out = json_array();
	json_array_foreach(ids, i, e) {
		rc = rd_get(r, "Asset", cora_json_str(e, "id"), &a);
		if (rc == CORA_ENOTFOUND)
			continue;
		if (rc)
			break;
		json_array_append(*out, (json_t *)a);
	}
	json_decref(ids);
	if (rc && rc != CORA_ENOTFOUND) {
		json_decref(*out);
		*out = NULL;
		return rc;
	}
	return 0;
}

static int by_name_then_id(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a;
	const json_t *y = *(const json_t *const *)b;
	const char *nx = cora_json_str(x, "name"), *ny = cora_json_str(y, "name");
	int c = strcmp(nx ? nx : "", ny ? ny : "");

	if (c)
		return c;
	return strcmp(cora_json_str(x, "id"), cora_json_str(y, "id"));
}

int rd_asset_families(struct rd *r, const json_t *asset, json_t **out)
{
	const json_t *ids = json_object_get(asset, "family_ids"), *e, *f;
	const json_t **v;
	size_t i, n = 0;
	int rc;

	*out = json_array();
	v = calloc(json_array_size(ids) + 1, sizeof(*v));
	if (!v || !*out) {
		free(v);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	json_array_foreach(ids, i, e) {
		rc = rd_get(r, "Family", json_string_value(e), &f);
		if (rc == CORA_ENOTFOUND)
			continue;
		if (rc) {
			free(v);
			json_decref(*out);
			*out = NULL;
			return rc;
		}
		v[n++] = f;
	}
	qsort(v, n, sizeof(*v), by_name_then_id);
	for (i = 0; i < n; i++)
		json_array_append(*out, (json_t *)v[i]);
	free(v);
	return 0;
}

/* ---- sentences ------------------------------------------------------------ */

static void lower_word(struct rd_str *s, const char *w)
{
	char c[2] = { 0, 0 };

	for (; w && *w; w++) {
		c[0] = (*w >= 'A' && *w <= 'Z') ? (char)(*w + 32) : *w;
		rd_str_add(s, c);
	}
}

int rd_asset_abstract(struct rd *r, const json_t *asset, char **out)
{
	const char *chain[64];
	const json_t *p = asset, *f;
	json_t *fams = NULL;
	struct rd_str s = { 0 };
	size_t n = 0, i, depth = 0;
	size_t len;
	int rc;

	*out = NULL;
	rc = rd_asset_families(r, asset, &fams);
	if (rc)
		return rc;
	/* ancestors, nearest first; bounded like core's parent walk */
	while (cora_json_str(p, "parent_id") && depth++ < 1000) {
		if (rd_get(r, "Asset", cora_json_str(p, "parent_id"), &p) != 0)
			break;
		if (n < sizeof(chain) / sizeof(chain[0]))
			chain[n++] = cora_json_str(p, "name");
	}
	rd_str_add(&s, cora_json_str(asset, "name"));
	rd_str_add(&s, ": ");
	if (cora_json_str(asset, "parent_id")) {
		rd_str_add(&s, "a ");
		lower_word(&s, cora_json_str(asset, "tier"));
	} else {
		rd_str_add(&s, "the ");
		lower_word(&s, cora_json_str(asset, "tier"));
		rd_str_add(&s, " at the root of the instrument tree");
	}
	if (json_array_size(fams)) {
		rd_str_add(&s, json_array_size(fams) > 1 ? " of the families " :
			   " of the family ");
		json_array_foreach(fams, i, f) {
			if (i)
				rd_str_add(&s, ", ");
			rd_str_add(&s, cora_json_str(f, "name"));
		}
	}
	if (n) {
		rd_str_add(&s, ", inside ");
		for (i = n; i-- > 0;) {
			rd_str_add(&s, chain[i]);
			if (i)
				rd_str_add(&s, " / ");
		}
	}
	if (cora_json_str(p, "facility_code")) {
		rd_str_add(&s, ", at facility ");
		rd_str_add(&s, cora_json_str(p, "facility_code"));
	}
	rd_str_add(&s, ".");
	json_decref(fams);
	return rd_str_take(&s, out, &len);
}

static const char *plural(int64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int rd_dataset_abstract(struct rd *r, const json_t *ds, char **out)
{
	struct rd_str s = { 0 };
	const json_t *e, *other;
	int64_t bytes, files;
	size_t i, len;
	int rc;

	*out = NULL;
	rc = rd_dataset_size(r, ds, &bytes, &files);
	if (rc)
		return rc;
	rd_str_add(&s, cora_json_str(ds, "name"));
	rd_str_addf(&s, ": %s dataset%s of %lld %s, %lld bytes",
		    cora_json_str(ds, "intent") ? cora_json_str(ds, "intent") :
		    "a", strcmp(cora_json_str(ds, "status") ?
				cora_json_str(ds, "status") : "",
				"Discarded") == 0 ? " (discarded)" : "",
		    (long long)files, plural(files, "file", "files"),
		    (long long)bytes);
	if (cora_json_str(ds, "media_type")) {
		rd_str_add(&s, ", ");
		rd_str_add(&s, cora_json_str(ds, "media_type"));
	}
	rd_str_add(&s, ".");
	if (json_array_size(json_object_get(ds, "derived_from"))) {
		rd_str_add(&s, " Derived from ");
		json_array_foreach(json_object_get(ds, "derived_from"), i, e) {
			if (i)
				rd_str_add(&s, ", ");
			if (rd_get(r, "Dataset", json_string_value(e),
				   &other) == 0)
				rd_str_add(&s, cora_json_str(other, "name"));
			else
				rd_str_add(&s, json_string_value(e));
		}
		rd_str_add(&s, ".");
	}
	return rd_str_take(&s, out, &len);
}

int rd_dataset_methods(struct rd *r, const json_t *ds, char **out)
{
	struct rd_str s = { 0 };
	const json_t *run, *asset;
	json_t *acqs = NULL, *a;
	char *settings;
	size_t i, len;
	int rc;

	*out = NULL;
	if (rd_get(r, "Run", cora_json_str(ds, "producing_run_id"), &run) == 0) {
		rd_str_add(&s, "Produced by run ");
		rd_str_add(&s, cora_json_str(run, "name"));
		rd_str_addf(&s, " (%s, started %s",
			    cora_json_str(run, "status"),
			    cora_json_str(run, "started_at"));
		if (cora_json_str(run, "ended_at"))
			rd_str_addf(&s, ", ended %s",
				    cora_json_str(run, "ended_at"));
		rd_str_add(&s, ").");
	}
	rc = rd_acquisitions(r, "dataset_id", cora_json_str(ds, "id"), &acqs);
	if (rc) {
		free(s.buf);
		return rc;
	}
	json_array_foreach(acqs, i, a) {
		rd_str_add(&s, s.len ? " Captured by " : "Captured by ");
		if (rd_get(r, "Asset", cora_json_str(a, "producing_asset_id"),
			   &asset) == 0)
			rd_str_add(&s, cora_json_str(asset, "name"));
		else
			rd_str_add(&s, cora_json_str(a, "producing_asset_id"));
		rd_str_addf(&s, " at %s", cora_json_str(a, "captured_at"));
		if (json_object_size(json_object_get(a, "settings"))) {
			settings = cora_json_dump(json_object_get(a, "settings"));
			rd_str_add(&s, ", settings ");
			rd_str_add(&s, settings);
			free(settings);
		}
		rd_str_add(&s, ".");
	}
	json_decref(acqs);
	if (!s.len && !s.oom)
		return 0;   /* nothing to say: *out stays NULL */
	return rd_str_take(&s, out, &len);
}

int rd_bundle_abstract(struct rd *r, const json_t *bundle, char **out)
{
	struct rd_str s = { 0 };
	const json_t *e, *ds;
	int64_t total = 0, bytes, files;
	size_t i, len, nds = json_array_size(json_object_get(bundle,
							    "dataset_ids"));
	size_t nruns = json_array_size(json_object_get(bundle, "run_ids"));
	struct rd_org org;
	int rc;

	*out = NULL;
	json_array_foreach(json_object_get(bundle, "dataset_ids"), i, e) {
		rc = rd_get(r, "Dataset", json_string_value(e), &ds);
		if (rc == CORA_ENOTFOUND)
			continue;
		if (rc)
			return rc;
		if ((rc = rd_dataset_size(r, ds, &bytes, &files)))
			return rc;
		total += bytes;
	}
	rd_publisher(r, cora_json_str(bundle, "publisher_facility_code"), &org);
	rd_str_add(&s, cora_json_str(bundle, "title"));
	rd_str_addf(&s, ": experiment bundle of %zu %s (%lld bytes) from "
		    "%zu %s; status %s; publisher ", nds,
		    nds == 1 ? "dataset" : "datasets", (long long)total, nruns,
		    nruns == 1 ? "run" : "runs",
		    cora_json_str(bundle, "status"));
	rd_str_add(&s, org.name);
	rd_str_add(&s, ".");
	return rd_str_take(&s, out, &len);
}

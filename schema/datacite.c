/*
 * datacite.c: datacite.xml, DataCite Metadata Schema 4.6, for assets
 * (resourceTypeGeneral Instrument, the PIDINST mapping), datasets
 * (Dataset) and bundles (Collection), written with libxml2's
 * xmlTextWriter.  docs/standards.md has the field tables.
 *
 * Every record is valid against the 4.6 XSD and the extra rules of
 * standards.md at every stage of its entity:
 *
 *  1. identifier is a bare DOI: the registered one (asset persistent id,
 *     bundle publication), else the draft `<doi_prefix>/cora.<kind>.<id>`
 *     (standards 8); the entity's UUID is always an alternateIdentifier.
 *  2. creators, titles and publisher are never empty: an asset without a
 *     model has the creator ":unav", a dataset without a known person
 *     and a bundle whose creators have no profile have the publisher.
 *  3. An Instrument always has a HostingInstitution (the owners, else
 *     the publisher) and an Abstract.
 *  4. Text passes through rd_clean(), so characters XML 1.0 forbids
 *     never reach the writer; xmlTextWriter escapes markup.
 *
 * Element order follows the schema's documentation order; the XSD
 * itself accepts any order (xs:all).
 */
#include "schema/render_int.h"

#include "core/error.h"

#include <libxml/xmlwriter.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a writer with a sticky error ----------------------------------- */

struct xw {
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
	int rc;
};

static void x_fail(struct xw *x, int ret)
{
	if (ret < 0 && x->rc == 0)
		x->rc = cora_error_set(CORA_ENOMEM, "cannot write XML");
}

static void x_open(struct xw *x, const char *name)
{
	if (x->rc == 0)
		x_fail(x, xmlTextWriterStartElement(x->w, BAD_CAST name));
}

static void x_close(struct xw *x)
{
	if (x->rc == 0)
		x_fail(x, xmlTextWriterEndElement(x->w));
}

/* An attribute; skipped when value is NULL. */
static void x_attr(struct xw *x, const char *name, const char *value)
{
	char *c;

	if (x->rc || !value)
		return;
	c = rd_clean(value);
	if (!c) {
		x_fail(x, -1);
		return;
	}
	x_fail(x, xmlTextWriterWriteAttribute(x->w, BAD_CAST name,
					      BAD_CAST c));
	free(c);
}

static void x_text(struct xw *x, const char *text)
{
	char *c;

	if (x->rc || !text)
		return;
	c = rd_clean(text);
	if (!c) {
		x_fail(x, -1);
		return;
	}
	x_fail(x, xmlTextWriterWriteString(x->w, BAD_CAST c));
	free(c);
}

/* <name a1="v1" ...>text</name>; attributes as NULL-terminated pairs,
 * a pair with a NULL value is left out. */
static void x_leaf(struct xw *x, const char *name, const char *text, ...)
{
	const char *k, *v;
	va_list ap;

	x_open(x, name);
	va_start(ap, text);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		x_attr(x, k, v);
	}
	va_end(ap);
	x_text(x, text);
	x_close(x);
}

static int x_begin(struct xw *x)
{
	memset(x, 0, sizeof(*x));
	x->buf = xmlBufferCreate();
	x->w = x->buf ? xmlNewTextWriterMemory(x->buf, 0) : NULL;
	if (!x->w) {
		if (x->buf)
			xmlBufferFree(x->buf);
		x->buf = NULL;
		return x->rc = cora_error_set(CORA_ENOMEM, "out of memory");
	}
	x_fail(x, xmlTextWriterSetIndent(x->w, 1));
	x_fail(x, xmlTextWriterSetIndentString(x->w, BAD_CAST "  "));
	x_fail(x, xmlTextWriterStartDocument(x->w, NULL, "UTF-8", NULL));
	x_open(x, "resource");
	x_attr(x, "xmlns", RD_DATACITE_NS);
	x_attr(x, "xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance");
	x_attr(x, "xsi:schemaLocation", RD_DATACITE_NS " " RD_DATACITE_XSD);
	return x->rc;
}

static int x_finish(struct xw *x, char **out, size_t *len)
{
	int rc;

	*out = NULL;
	*len = 0;
	if (x->rc == 0)
		x_fail(x, xmlTextWriterEndDocument(x->w));
	if (x->w) {
		xmlFreeTextWriter(x->w);   /* flushes into buf */
		x->w = NULL;
	}
	rc = x->rc;
	if (rc == 0) {
		*len = (size_t)xmlBufferLength(x->buf);
		*out = malloc(*len + 1);
		if (*out) {
			memcpy(*out, xmlBufferContent(x->buf), *len);
			(*out)[*len] = '\0';
		} else {
			*len = 0;
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
		}
	}
	if (x->buf)
		xmlBufferFree(x->buf);
	x->buf = NULL;
	return rc;
}

/* ---- pieces shared by the three records --------------------------------- */

/* The nameIdentifier of an organisation or person identifier whose type
 * is given (ROR, GRID, ISNI, ORCID, or free text as stored). */
static void name_identifier(struct xw *x, const char *value,
			    const char *type)
{
	static const struct {
		const char *type, *uri;
	} schemes[] = {
		{ "ROR", "https://ror.org/" },
		{ "GRID", "https://www.grid.ac/" },
		{ "ISNI", "http://www.isni.org/" },
		{ "ORCID", "https://orcid.org/" },
		{ "Wikidata", "https://www.wikidata.org/wiki/" },
	};
	const char *uri = NULL;
	size_t i;

	if (!value || !*value || !type || !*type)
		return;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strcasecmp(type, schemes[i].type) == 0) {
			type = schemes[i].type;
			uri = schemes[i].uri;
		}
	x_leaf(x, "nameIdentifier", value, "nameIdentifierScheme", type,
	       "schemeURI", uri, NULL);
}

static void affiliation(struct xw *x, const char *name, const char *ror)
{
	if (!name || !*name)
		return;
	x_leaf(x, "affiliation", name, "affiliationIdentifier", ror,
	       "affiliationIdentifierScheme", ror ? "ROR" : NULL,
	       "schemeURI", ror ? "https://ror.org/" : NULL, NULL);
}

static void org_creator(struct xw *x, const struct rd_org *org)
{
	x_open(x, "creator");
	x_leaf(x, "creatorName", org->name, "nameType", "Organizational",
	       NULL);
	name_identifier(x, org->ror, "ROR");
	x_close(x);
}

static void person_creator(struct xw *x, const json_t *p)
{
	x_open(x, "creator");
	x_leaf(x, "creatorName", cora_json_str(p, "name"), "nameType",
	       "Personal", NULL);
	name_identifier(x, cora_json_str(p, "orcid"), "ORCID");
	affiliation(x, cora_json_str(p, "affiliation"),
		    cora_json_str(p, "affiliation_ror"));
	x_close(x);
}

static void hosting(struct xw *x, const char *name, const char *id,
		    const char *id_type)
{
	x_open(x, "contributor");
	x_attr(x, "contributorType", "HostingInstitution");
	x_leaf(x, "contributorName", name, "nameType",
	       id_type && strcasecmp(id_type, "ORCID") == 0 ? "Personal" :
	       "Organizational", NULL);
	name_identifier(x, id, id_type);
	x_close(x);
}

static void publisher(struct xw *x, const struct rd_org *org)
{
	x_leaf(x, "publisher", org->name,
	       "publisherIdentifier", org->ror,
	       "publisherIdentifierScheme", org->ror ? "ROR" : NULL,
	       "schemeURI", org->ror ? "https://ror.org/" : NULL, NULL);
}

static void year(struct xw *x, int y)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "%04d", y >= 1000 && y <= 9999 ? y : 1970);
	x_leaf(x, "publicationYear", buf, NULL);
}

static void date(struct xw *x, const char *type, const char *iso,
		 const char *info)
{
	char d[11];

	if (!iso || !*iso)
		return;
	rd_date(d, iso);
	x_leaf(x, "date", d, "dateType", type, "dateInformation", info, NULL);
}

/* A date range "start/end" from the capture times of acquisitions. */
static void collected(struct xw *x, const json_t *acqs)
{
	const char *lo = NULL, *hi = NULL, *t;
	char a[11], b[11], range[24];
	const json_t *e;
	size_t i;

	json_array_foreach(acqs, i, e) {
		t = cora_json_str(e, "captured_at");
		if (!t)
			continue;
		if (!lo || strcmp(t, lo) < 0)
			lo = t;
		if (!hi || strcmp(t, hi) > 0)
			hi = t;
	}
	if (!lo)
		return;
	rd_date(a, lo);
	rd_date(b, hi);
	if (strcmp(a, b) == 0)
		snprintf(range, sizeof(range), "%s", a);
	else
		snprintf(range, sizeof(range), "%s/%s", a, b);
	x_leaf(x, "date", range, "dateType", "Collected", NULL);
}

static void uuid_alternate(struct xw *x, const json_t *state)
{
	x_leaf(x, "alternateIdentifier", cora_json_str(state, "id"),
	       "alternateIdentifierType", "UUID", NULL);
}

static void related(struct xw *x, const char *value, const char *id_type,
		    const char *relation, const char *general)
{
	if (!value || !*value)
		return;
	x_leaf(x, "relatedIdentifier", value, "relatedIdentifierType", id_type,
	       "relationType", relation, "resourceTypeGeneral", general, NULL);
}

/* A related entity named by the DOI its own record carries. */
static void related_record(struct xw *x, struct rd *r, const char *kind,
			   const json_t *state, const char *relation,
			   const char *general)
{
	char *doi = rd_record_doi(r, kind, state);

	if (!doi) {
		x_fail(x, -1);
		return;
	}
	related(x, doi, "DOI", relation, general);
	free(doi);
}

static void rights(struct xw *x, const char *spdx)
{
	char uri[160];

	if (!spdx)
		return;
	snprintf(uri, sizeof(uri), "https://spdx.org/licenses/%s", spdx);
	x_open(x, "rightsList");
	x_leaf(x, "rights", rd_license_name(spdx), "rightsURI", uri,
	       "rightsIdentifier", spdx, "rightsIdentifierScheme", "SPDX",
	       "schemeURI", "https://spdx.org/licenses/", NULL);
	x_close(x);
}

static void description(struct xw *x, const char *type, const char *text)
{
	if (!text || !*text)
		return;
	x_leaf(x, "description", text, "xml:lang", "en", "descriptionType",
	       type, NULL);
}

static void identifier(struct xw *x, struct rd *r, const char *kind,
		       const json_t *state)
{
	char *doi = rd_record_doi(r, kind, state);

	if (!doi) {
		x_fail(x, -1);
		return;
	}
	x_leaf(x, "identifier", doi, "identifierType", "DOI", NULL);
	free(doi);
}

/* ---- Instrument (asset) ------------------------------------------------------ */

static int asset_record(struct rd *r, struct xw *x, const json_t *asset)
{
	const json_t *model = NULL, *parent, *m, *e, *drawing, *pid;
	json_t *fams = NULL, *children = NULL, *acqs = NULL, *seen = NULL;
	const char *id = cora_json_str(asset, "id"), *first_family = NULL;
	char *abstract = NULL, *info = NULL;
	struct rd_org org;
	size_t i;
	int rc;

	if ((rc = rd_asset_families(r, asset, &fams)) ||
	    (rc = rd_query(r, "SELECT state FROM entities"
			   " WHERE stream_type = 'Asset'"
			   " AND json_extract(state, '$.parent_id') = ?1"
			   " ORDER BY stream_id", id, &children)) ||
	    (rc = rd_acquisitions(r, "producing_asset_id", id, &acqs)) ||
	    (rc = rd_asset_abstract(r, asset, &abstract)))
		goto out;
	if (rd_get(r, "Model", cora_json_str(asset, "model_id"), &model) != 0)
		model = NULL;
	if (json_array_size(fams))
		first_family = cora_json_str(json_array_get(fams, 0), "name");
	rd_publisher(r, NULL, &org);

	identifier(x, r, "asset", asset);
	x_open(x, "creators");
	m = json_object_get(model, "manufacturer");
	if (m && cora_json_str(m, "name")) {
		x_open(x, "creator");
		x_leaf(x, "creatorName", cora_json_str(m, "name"), "nameType",
		       "Organizational", NULL);
		name_identifier(x, cora_json_str(m, "identifier"),
				cora_json_str(m, "identifier_type"));
		x_close(x);
	} else {
		/* no model, no manufacturer: DataCite's code for "value
		 * unavailable" */
		x_open(x, "creator");
		x_leaf(x, "creatorName", ":unav", "nameType",
		       "Organizational", NULL);
		x_close(x);
	}
	x_close(x);
	x_open(x, "titles");
	x_leaf(x, "title", cora_json_str(asset, "name"), NULL);
	x_close(x);
	publisher(x, &org);
	year(x, rd_year(cora_json_str(asset, "commissioned_at") ?
			cora_json_str(asset, "commissioned_at") :
			cora_json_str(asset, "created_at")));
	x_leaf(x, "resourceType", first_family ? first_family :
	       cora_json_str(asset, "tier"), "resourceTypeGeneral",
	       "Instrument", NULL);

	if (json_array_size(fams)) {
		x_open(x, "subjects");
		json_array_foreach(fams, i, e) {
			char uri[64];
			snprintf(uri, sizeof(uri), "urn:cora:family:%s",
				 cora_json_str(e, "id"));
			x_leaf(x, "subject", cora_json_str(e, "name"),
			       "subjectScheme", "CORA Family", "valueURI", uri,
			       NULL);
		}
		x_close(x);
	}

	x_open(x, "contributors");
	if (json_array_size(json_object_get(asset, "owners"))) {
		json_array_foreach(json_object_get(asset, "owners"), i, e)
			hosting(x, cora_json_str(e, "name"),
				cora_json_str(e, "identifier"),
				cora_json_str(e, "identifier_type"));
	} else {
		hosting(x, org.name, org.ror, org.ror ? "ROR" : NULL);
	}
	x_close(x);

	x_open(x, "dates");
	date(x, "Other", cora_json_str(asset, "commissioned_at"),
	     "Commissioned");
	date(x, "Other", cora_json_str(asset, "decommissioned_at"),
	     "Decommissioned");
	x_close(x);

	x_open(x, "alternateIdentifiers");
	json_array_foreach(json_object_get(asset, "alternate_identifiers"), i,
			   e)
		x_leaf(x, "alternateIdentifier", cora_json_str(e, "value"),
		       "alternateIdentifierType", cora_json_str(e, "kind"),
		       NULL);
	pid = json_object_get(asset, "persistent_id");
	if (cora_json_str(pid, "scheme") &&
	    strcmp(cora_json_str(pid, "scheme"), "DOI") != 0)
		x_leaf(x, "alternateIdentifier", cora_json_str(pid, "value"),
		       "alternateIdentifierType", cora_json_str(pid, "scheme"),
		       NULL);
	uuid_alternate(x, asset);
	x_close(x);

	x_open(x, "relatedIdentifiers");
	/* The hierarchy links only assets with a registered DOI (CORA:
	 * unminted components are skipped). */
	if (rd_get(r, "Asset", cora_json_str(asset, "parent_id"), &parent) ==
	    0 && rd_doi(parent))
		related(x, rd_doi(parent), "DOI", "IsPartOf", "Instrument");
	json_array_foreach(children, i, e)
		if (rd_doi(e))
			related(x, rd_doi(e), "DOI", "HasPart", "Instrument");
	/* Captured datasets by the DOI their records carry (drafts). */
	seen = json_object();
	json_array_foreach(acqs, i, e) {
		const json_t *ds;
		const char *dsid = cora_json_str(e, "dataset_id");
		if (!dsid || json_object_get(seen, dsid) ||
		    rd_get(r, "Dataset", dsid, &ds) != 0)
			continue;
		json_object_set_new(seen, dsid, json_true());
		related_record(x, r, "dataset", ds, "Collects", "Dataset");
	}
	drawing = json_object_get(asset, "drawing");
	if (cora_json_str(drawing, "system") &&
	    strcmp(cora_json_str(drawing, "system"), "DOI") == 0 &&
	    cora_json_str(drawing, "number") &&
	    strncmp(cora_json_str(drawing, "number"), "10.", 3) == 0)
		related(x, cora_json_str(drawing, "number"), "DOI",
			"IsDescribedBy", NULL);
	x_close(x);

	x_open(x, "descriptions");
	description(x, "Abstract", abstract);
	if (model) {
		if (asprintf(&info, "Model: %s (%s)",
			     cora_json_str(model, "name"),
			     cora_json_str(model, "part_number")) < 0)
			info = NULL;
		description(x, "TechnicalInfo", info);
		free(info);
		info = NULL;
	}
	if (json_array_size(fams)) {
		struct rd_str s = { 0 };
		size_t n;
		rd_str_add(&s, "Instrument type: ");
		json_array_foreach(fams, i, e) {
			if (i)
				rd_str_add(&s, ", ");
			rd_str_add(&s, cora_json_str(e, "name"));
		}
		if (rd_str_take(&s, &info, &n) == 0)
			description(x, "TechnicalInfo", info);
		free(info);
		info = NULL;
	}
	if (cora_json_str(drawing, "system")) {
		if (asprintf(&info, "Drawing: %s %s, revision %s",
			     cora_json_str(drawing, "system"),
			     cora_json_str(drawing, "number"),
			     cora_json_str(drawing, "revision") ?
			     cora_json_str(drawing, "revision") : "latest") < 0)
			info = NULL;
		description(x, "TechnicalInfo", info);
		free(info);
		info = NULL;
	}
	if (asprintf(&info, "Status: lifecycle %s, condition %s",
		     cora_json_str(asset, "lifecycle"),
		     cora_json_str(asset, "condition")) < 0)
		info = NULL;
	description(x, "TechnicalInfo", info);
	free(info);
	x_close(x);
	rc = x->rc;
out:
	json_decref(fams);
	json_decref(children);
	json_decref(acqs);
	json_decref(seen);
	free(abstract);
	return rc;
}

/* ---- Dataset -------------------------------------------------------------------- */

static int dataset_record(struct rd *r, struct xw *x, const json_t *ds)
{
	const char *id = cora_json_str(ds, "id"), *spdx = NULL;
	json_t *person = NULL, *assets = NULL, *acqs = NULL, *bundles = NULL;
	const json_t *e, *other, *checksum;
	char at[40], principal[37], published[11], buf[64];
	char *abstract = NULL, *methods = NULL, *info = NULL;
	int64_t bytes, files;
	struct rd_org org;
	size_t i;
	int rc;

	rc = rd_event(r, id, "DatasetRegistered", false, at, principal);
	if (rc == 0)
		rc = rd_person(r, principal, &person);
	if (rc == CORA_ENOTFOUND)
		rc = 0;
	if (rc || (rc = rd_capturing_assets(r, id, &assets)) ||
	    (rc = rd_acquisitions(r, "dataset_id", id, &acqs)) ||
	    (rc = rd_query(r, "SELECT state FROM entities"
			   " WHERE stream_type = 'Bundle' AND EXISTS (SELECT 1"
			   " FROM json_each(entities.state, '$.dataset_ids')"
			   " WHERE value = ?1) ORDER BY stream_id", id,
			   &bundles)) ||
	    (rc = rd_dataset_license(r, ds, &spdx)) ||
	    (rc = rd_dataset_size(r, ds, &bytes, &files)) ||
	    (rc = rd_dataset_published(r, ds, published)) ||
	    (rc = rd_dataset_abstract(r, ds, &abstract)) ||
	    (rc = rd_dataset_methods(r, ds, &methods)))
		goto out;
	rd_publisher(r, NULL, &org);

	identifier(x, r, "dataset", ds);
	x_open(x, "creators");
	if (person)
		person_creator(x, person);
	else
		org_creator(x, &org);
	x_close(x);
	x_open(x, "titles");
	x_leaf(x, "title", cora_json_str(ds, "name"), NULL);
	x_close(x);
	publisher(x, &org);
	year(x, rd_year(published));
	x_leaf(x, "resourceType", NULL, "resourceTypeGeneral", "Dataset",
	       NULL);

	x_open(x, "contributors");
	hosting(x, org.name, org.ror, org.ror ? "ROR" : NULL);
	x_close(x);

	x_open(x, "dates");
	date(x, "Created", cora_json_str(ds, "created_at"), NULL);
	collected(x, acqs);
	if (rd_event(r, id, "DatasetPromoted", false, at, NULL) == 0)
		date(x, "Issued", at, NULL);
	if (rd_event(r, id, "DatasetDemoted", true, at, NULL) == 0)
		date(x, "Withdrawn", at, NULL);
	x_close(x);

	x_open(x, "alternateIdentifiers");
	uuid_alternate(x, ds);
	x_close(x);

	x_open(x, "relatedIdentifiers");
	json_array_foreach(assets, i, e)
		related_record(x, r, "asset", e, "IsCollectedBy", "Instrument");
	json_array_foreach(json_object_get(ds, "derived_from"), i, e)
		if (rd_get(r, "Dataset", json_string_value(e), &other) == 0)
			related_record(x, r, "dataset", other, "IsDerivedFrom",
				       "Dataset");
	json_array_foreach(bundles, i, e)
		related_record(x, r, "bundle", e, "IsPartOf", "Collection");
	json_array_foreach(json_object_get(ds, "conforms_to"), i, e)
		related(x, json_string_value(e), "URL", "HasMetadata", NULL);
	x_close(x);

	x_open(x, "sizes");
	snprintf(buf, sizeof(buf), "%lld bytes", (long long)bytes);
	x_leaf(x, "size", buf, NULL);
	snprintf(buf, sizeof(buf), "%lld %s", (long long)files,
		 files == 1 ? "file" : "files");
	x_leaf(x, "size", buf, NULL);
	x_close(x);
	if (cora_json_str(ds, "media_type")) {
		x_open(x, "formats");
		x_leaf(x, "format", cora_json_str(ds, "media_type"), NULL);
		x_close(x);
	}
	rights(x, spdx);

	x_open(x, "descriptions");
	description(x, "Abstract", abstract);
	description(x, "Methods", methods);
	checksum = json_object_get(ds, "checksum");
	if (cora_json_str(checksum, "value")) {
		if (asprintf(&info, "Checksum (%s): %s",
			     cora_json_str(checksum, "algorithm"),
			     cora_json_str(checksum, "value")) < 0)
			info = NULL;
		description(x, "TechnicalInfo", info);
		free(info);
	}
	x_close(x);
	rc = x->rc;
out:
	json_decref(person);
	json_decref(assets);
	json_decref(acqs);
	json_decref(bundles);
	free(abstract);
	free(methods);
	return rc;
}

/* ---- Collection (bundle) ------------------------------------------------------ */

static int bundle_record(struct rd *r, struct xw *x, const json_t *b)
{
	const char *id = cora_json_str(b, "id");
	json_t *people = json_array(), *acqs = json_array(), *assets = NULL;
	json_t *formats = json_array(), *p, *list;
	const json_t *e, *ds;
	char at[40], buf[64], *abstract = NULL, *kind = NULL;
	int64_t total = 0, bytes, files;
	struct rd_org org;
	size_t i, k;
	int rc = 0;

	assets = json_object();
	/* creators with a profile, in the bundle's order */
	json_array_foreach(json_object_get(b, "creators"), i, e) {
		if ((rc = rd_person(r, json_string_value(e), &p)))
			goto out;
		if (p)
			json_array_append_new(people, p);
	}
	/* member facts: sizes, formats, capture times, instruments */
	json_array_foreach(json_object_get(b, "dataset_ids"), i, e) {
		rc = rd_get(r, "Dataset", json_string_value(e), &ds);
		if (rc == CORA_ENOTFOUND)
			continue;
		if (rc || (rc = rd_dataset_size(r, ds, &bytes, &files)))
			goto out;
		total += bytes;
		if (cora_json_str(ds, "media_type") &&
		    !cora_json_array_has(formats,
					 cora_json_str(ds, "media_type")))
			json_array_append_new(formats, json_string(
				cora_json_str(ds, "media_type")));
		if ((rc = rd_acquisitions(r, "dataset_id",
					  json_string_value(e), &list)))
			goto out;
		json_array_extend(acqs, list);
		json_decref(list);
		if ((rc = rd_capturing_assets(r, json_string_value(e), &list)))
			goto out;
		json_array_foreach(list, k, p)
			json_object_set(assets, cora_json_str(p, "id"), p);
		json_decref(list);
	}
	rc = 0;
	cora_json_sort_strings(formats);
	if ((rc = rd_bundle_abstract(r, b, &abstract)))
		goto out;
	rd_publisher(r, cora_json_str(b, "publisher_facility_code"), &org);

	identifier(x, r, "bundle", b);
	x_open(x, "creators");
	json_array_foreach(people, i, p)
		person_creator(x, p);
	if (json_array_size(people) == 0)
		org_creator(x, &org);
	x_close(x);
	x_open(x, "titles");
	x_leaf(x, "title", cora_json_str(b, "title"), NULL);
	x_close(x);
	publisher(x, &org);
	year(x, json_is_integer(json_object_get(b, "publication_year")) ?
	     (int)cora_json_int(b, "publication_year", 0) :
	     rd_year(cora_json_str(b, "created_at")));
	if (asprintf(&kind, "Experiment bundle (%s)",
		     cora_json_str(b, "kind") ? cora_json_str(b, "kind") :
		     "ROCrate") < 0)
		kind = NULL;
	x_leaf(x, "resourceType", kind, "resourceTypeGeneral", "Collection",
	       NULL);

	x_open(x, "contributors");
	hosting(x, org.name, org.ror, org.ror ? "ROR" : NULL);
	x_close(x);

	x_open(x, "dates");
	date(x, "Created", cora_json_str(b, "created_at"), NULL);
	collected(x, acqs);
	if (rd_event(r, id, "BundlePublished", false, at, NULL) == 0)
		date(x, "Issued", at, NULL);
	if (rd_event(r, id, "BundleWithdrawn", true, at, NULL) == 0)
		date(x, "Withdrawn", at, NULL);
	x_close(x);

	x_open(x, "alternateIdentifiers");
	uuid_alternate(x, b);
	x_close(x);

	x_open(x, "relatedIdentifiers");
	json_array_foreach(json_object_get(b, "dataset_ids"), i, e)
		if (rd_get(r, "Dataset", json_string_value(e), &ds) == 0)
			related_record(x, r, "dataset", ds, "HasPart",
				       "Dataset");
	{
		/* instruments, by asset id (json objects keep insertion
		 * order, so sort the keys) */
		json_t *keys = json_array();
		const char *key;
		json_object_foreach(assets, key, p)
			json_array_append_new(keys, json_string(key));
		cora_json_sort_strings(keys);
		json_array_foreach(keys, i, e)
			related_record(x, r, "asset",
				       json_object_get(assets,
						       json_string_value(e)),
				       "IsCollectedBy", "Instrument");
		json_decref(keys);
	}
	x_close(x);

	x_open(x, "sizes");
	snprintf(buf, sizeof(buf), "%lld bytes", (long long)total);
	x_leaf(x, "size", buf, NULL);
	snprintf(buf, sizeof(buf), "%zu %s",
		 json_array_size(json_object_get(b, "dataset_ids")),
		 json_array_size(json_object_get(b, "dataset_ids")) == 1 ?
		 "dataset" : "datasets");
	x_leaf(x, "size", buf, NULL);
	x_close(x);
	if (json_array_size(formats)) {
		x_open(x, "formats");
		json_array_foreach(formats, i, e)
			x_leaf(x, "format", json_string_value(e), NULL);
		x_close(x);
	}
	rights(x, cora_json_str(b, "license"));
	x_open(x, "descriptions");
	description(x, "Abstract", abstract);
	x_close(x);
	rc = x->rc;
out:
	json_decref(people);
	json_decref(acqs);
	json_decref(assets);
	json_decref(formats);
	free(abstract);
	free(kind);
	return rc;
}

int rd_datacite(struct rd *r, const char *stream_type, const json_t *state,
		char **out, size_t *len)
{
	struct xw x;
	int rc;

	*out = NULL;
	*len = 0;
	if (x_begin(&x) == 0) {
		if (strcmp(stream_type, "Asset") == 0)
			rc = asset_record(r, &x, state);
		else if (strcmp(stream_type, "Dataset") == 0)
			rc = dataset_record(r, &x, state);
		else
			rc = bundle_record(r, &x, state);
		if (rc && x.rc == 0)
			x.rc = rc;
		x_close(&x);   /* resource */
	}
	return x_finish(&x, out, len);
}

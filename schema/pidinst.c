/*
 * pidinst.c: pidinst.json, the PIDINST 1.0 record of an asset in the
 * shape of CORA's GET /assets/{id}/pidinst (reference 2.6): the same
 * field names and value rules, keys in PIDINST property order.
 *
 * PIDINST makes a landing page, a name, at least one owner and a
 * manufacturer mandatory.  Where CORA answers 409/422, the file holds
 *
 *     {"error": "<message>", "missing": ["owners", "model", ...]}
 *
 * (every missing property, in PIDINST order), so the mount can still
 * serve a file and a reader sees why there is no record.
 *
 * One addition to CORA, which leaves related_identifiers empty for
 * assets: the parent (IsComponentOf) and children (HasComponent) that
 * have a persistent identifier, as CORA's Fixture record does.
 */
#include "schema/render_int.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* landing_page_template with every {asset_id} replaced. */
static char *landing_page(struct rd *r, const char *id)
{
	const char *t = rd_config(r, "landing_page_template",
				  "https://cora.local/assets/{asset_id}/landing");
	struct rd_str s = { 0 };
	const char *p;
	char *out;
	size_t len;

	while ((p = strstr(t, "{asset_id}")) != NULL) {
		char *head = strndup(t, (size_t)(p - t));
		rd_str_add(&s, head);
		free(head);
		rd_str_add(&s, id);
		t = p + strlen("{asset_id}");
	}
	rd_str_add(&s, t);
	return rd_str_take(&s, &out, &len) == 0 ? out : NULL;
}

static json_t *pid_ref(const json_t *asset, const char *relation)
{
	const json_t *pid = json_object_get(asset, "persistent_id");

	if (!cora_json_str(pid, "value"))
		return NULL;
	return json_pack("{s:s, s:s, s:s}", "value", cora_json_str(pid, "value"),
			 "identifier_type", cora_json_str(pid, "scheme"),
			 "relation_type", relation);
}

static int error_record(const json_t *asset, json_t *missing, json_t **out)
{
	struct rd_str s = { 0 };
	const json_t *e;
	char *msg;
	size_t i, len;
	int rc;

	rd_str_addf(&s, "no PIDINST record for asset '%s': it has no ",
		    cora_json_str(asset, "slug"));
	json_array_foreach(missing, i, e) {
		const char *m = json_string_value(e);
		if (i)
			rd_str_add(&s, i + 1 == json_array_size(missing) ?
				   " and no " : ", no ");
		rd_str_add(&s, strcmp(m, "owners") == 0 ? "owner" :
			   strcmp(m, "model") == 0 ?
			   "model (PIDINST's manufacturer)" :
			   strcmp(m, "landing_page") == 0 ? "landing page" : m);
	}
	if ((rc = rd_str_take(&s, &msg, &len)))
		return rc;
	*out = json_pack("{s:s, s:O}", "error", msg, "missing", missing);
	free(msg);
	return *out ? 0 : cora_error_set(CORA_ENOMEM, "out of memory");
}

static int record(struct rd *r, const json_t *asset, json_t **out)
{
	const char *id = cora_json_str(asset, "id");
	const json_t *model = NULL, *pid, *e, *m, *parent;
	json_t *rec = NULL, *missing = json_array(), *list, *fams = NULL;
	json_t *children = NULL;
	char *landing = landing_page(r, id), date[11], urn[64];
	struct rd_org org;
	size_t i;
	int rc, y;

	*out = NULL;
	if (!landing || !missing) {
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
		goto done;
	}
	if (rd_get(r, "Model", cora_json_str(asset, "model_id"), &model) != 0)
		model = NULL;
	/* mandatory properties, in PIDINST order */
	if (!*landing)
		json_array_append_new(missing, json_string("landing_page"));
	if (!cora_json_str(asset, "name"))
		json_array_append_new(missing, json_string("name"));
	if (json_array_size(json_object_get(asset, "owners")) == 0)
		json_array_append_new(missing, json_string("owners"));
	if (!model)
		json_array_append_new(missing, json_string("model"));
	if (json_array_size(missing)) {
		rc = error_record(asset, missing, out);
		goto done;
	}
	if ((rc = rd_asset_families(r, asset, &fams)) ||
	    (rc = rd_query(r, "SELECT state FROM entities"
			   " WHERE stream_type = 'Asset'"
			   " AND json_extract(state, '$.parent_id') = ?1"
			   " ORDER BY stream_id", id, &children)))
		goto done;

	rd_publisher(r, NULL, &org);
	rec = json_object();
	pid = json_object_get(asset, "persistent_id");
	snprintf(urn, sizeof(urn), "urn:uuid:%s", id);
	json_object_set_new(rec, "identifier", cora_json_str(pid, "value") ?
		json_pack("{s:s, s:s}", "value", cora_json_str(pid, "value"),
			  "scheme", cora_json_str(pid, "scheme")) :
		json_pack("{s:s, s:s}", "value", urn, "scheme", "URN"));
	json_object_set_new(rec, "schema_version", json_string("1.0"));
	json_object_set_new(rec, "landing_page", json_string(landing));
	json_object_set_new(rec, "name",
			    json_string(cora_json_str(asset, "name")));
	json_object_set_new(rec, "publisher", json_string(org.name));
	y = rd_year(cora_json_str(asset, "commissioned_at"));
	json_object_set_new(rec, "publication_year",
			    y ? json_integer(y) : json_null());

	list = json_array();
	json_array_foreach(json_object_get(asset, "owners"), i, e)
		json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o}",
			"name", str_or_null(cora_json_str(e, "name")),
			"contact", str_or_null(cora_json_str(e, "contact")),
			"identifier",
			str_or_null(cora_json_str(e, "identifier")),
			"identifier_type",
			str_or_null(cora_json_str(e, "identifier_type"))));
	json_object_set_new(rec, "owners", list);

	m = json_object_get(model, "manufacturer");
	json_object_set_new(rec, "manufacturers", json_pack("[{s:o, s:o, s:o}]",
		"name", str_or_null(cora_json_str(m, "name")),
		"identifier", str_or_null(cora_json_str(m, "identifier")),
		"identifier_type",
		str_or_null(cora_json_str(m, "identifier_type"))));
	json_object_set_new(rec, "model", json_pack("{s:o, s:o, s:s}",
		"name", str_or_null(cora_json_str(model, "name")),
		"identifier", str_or_null(cora_json_str(model, "part_number")),
		"identifier_type", "PartNumber"));
	json_object_set_new(rec, "description", json_null());

	list = json_array();
	json_array_foreach(fams, i, e) {
		char fam[64];
		snprintf(fam, sizeof(fam), "urn:cora:family:%s",
			 cora_json_str(e, "id"));
		json_array_append_new(list, json_pack("{s:s, s:s, s:s}",
			"name", cora_json_str(e, "name"), "identifier", fam,
			"identifier_type", "URN"));
	}
	json_object_set_new(rec, "instrument_types", list);
	json_object_set_new(rec, "measured_variables", json_array());

	list = json_array();
	if (cora_json_str(asset, "commissioned_at")) {
		rd_date(date, cora_json_str(asset, "commissioned_at"));
		json_array_append_new(list, json_pack("{s:s, s:s}", "value",
			date, "date_type", "Commissioned"));
	}
	if (cora_json_str(asset, "decommissioned_at")) {
		rd_date(date, cora_json_str(asset, "decommissioned_at"));
		json_array_append_new(list, json_pack("{s:s, s:s}", "value",
			date, "date_type", "DeCommissioned"));
	}
	json_object_set_new(rec, "dates", list);

	list = json_array();
	if (rd_get(r, "Asset", cora_json_str(asset, "parent_id"), &parent) == 0)
		json_array_append_new(list, pid_ref(parent, "IsComponentOf"));
	json_array_foreach(children, i, e)
		json_array_append_new(list, pid_ref(e, "HasComponent"));
	json_object_set_new(rec, "related_identifiers", list);

	list = json_array();
	json_array_foreach(json_object_get(asset, "alternate_identifiers"), i,
			   e)
		json_array_append_new(list, json_pack("{s:s?, s:s?, s:n}",
			"value", cora_json_str(e, "value"),
			"kind", cora_json_str(e, "kind"), "name"));
	json_object_set_new(rec, "alternate_identifiers", list);
	json_object_set_new(rec, "measurement_techniques", json_array());
	*out = rec;
	rc = 0;
done:
	free(landing);
	json_decref(missing);
	json_decref(fams);
	json_decref(children);
	return rc;
}

int rd_pidinst(struct rd *r, const json_t *asset, char **out, size_t *len)
{
	json_t *rec;
	char *text;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = record(r, asset, &rec)))
		return rc;
	/* insertion order: PIDINST property order (jansson keeps it) */
	text = json_dumps(rec, JSON_INDENT(2));
	json_decref(rec);
	if (!text)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	*len = strlen(text);
	*out = realloc(text, *len + 2);
	if (!*out) {
		free(text);
		*len = 0;
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	(*out)[(*len)++] = '\n';
	(*out)[*len] = '\0';
	return 0;
}

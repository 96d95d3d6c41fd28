/*
 * rocrate.c: ro-crate-metadata.json, RO-Crate 1.2, for a dataset folder
 * and for a bundle folder (which also follows the Process Run Crate 0.5
 * profile).  Built with jansson as a flattened graph; written with 2-space
 * indentation and sorted keys.
 *
 * The graph (struct graph) keeps entities in the order they are first
 * added and refuses a second entity with the same @id, so shared things
 * (an organisation that makes one instrument and owns another, the
 * person behind two runs) appear once.  Everything is added in catalog
 * order (paths, ids), so the bytes are a function of catalog state.
 *
 * Folder layout the crates describe (DESIGN 1):
 *
 *     datasets/<slug>/                    bundles/<slug>/
 *       ro-crate-metadata.json              ro-crate-metadata.json
 *       datacite.xml                        ro-crate-preview.html
 *       <path>                              datacite.xml
 *                                           <dataset-slug>/<path>
 *
 * Data entities: one File per regular file (@id = the percent-encoded
 * relative path, rd_uri_path()), one Dataset per folder (@id ending in
 * '/'), each linked from its folder by hasPart; datacite.xml is a File
 * about the root that conforms to the DataCite 4.6 profile.  The
 * metadata file itself and the preview are never data entities.
 */
#include "schema/render_int.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define UNSPECIFIED_LICENSE "#license-unspecified"
#define RUN_SOFTWARE "#run-software"

struct graph {
	json_t *list;      /* the @graph array */
	json_t *index;     /* @id -> entity (borrowed) */
};

static json_t *ref(const char *id)
{
	return json_pack("{s:s}", "@id", id);
}

/* The entity with this @id, created with @type when new.  type may be
 * "A|B" for ["A", "B"]. */
static json_t *entity(struct graph *g, const char *id, const char *type,
		      bool *created)
{
	json_t *e = json_object_get(g->index, id), *t;
	const char *bar;

	if (created)
		*created = e == NULL;
	if (e)
		return e;
	bar = strchr(type, '|');
	if (bar) {
		char first[32];
		snprintf(first, sizeof(first), "%.*s", (int)(bar - type), type);
		t = json_pack("[s,s]", first, bar + 1);
	} else {
		t = json_string(type);
	}
	e = json_pack("{s:s, s:o}", "@id", id, "@type", t);
	if (!e)
		return NULL;
	json_array_append_new(g->list, e);
	json_object_set(g->index, id, e);
	return e;
}

static void put_str(json_t *e, const char *key, const char *v)
{
	if (e && v)
		json_object_set_new(e, key, json_string(v));
}

/* Adds {"@id": id} to a property: a single reference, then an array
 * (RO-Crate unwraps one-element arrays); a reference already there is
 * not repeated. */
static void add_ref(json_t *e, const char *key, const char *id)
{
	json_t *v, *arr;
	size_t i;
	json_t *x;

	if (!e || !id)
		return;
	v = json_object_get(e, key);
	if (!v) {
		json_object_set_new(e, key, ref(id));
		return;
	}
	if (json_is_object(v)) {
		if (strcmp(cora_json_str(v, "@id"), id) == 0)
			return;
		arr = json_array();
		json_array_append(arr, v);
		json_array_append_new(arr, ref(id));
		json_object_set_new(e, key, arr);
		return;
	}
	json_array_foreach(v, i, x)
		if (strcmp(cora_json_str(x, "@id"), id) == 0)
			return;
	json_array_append_new(v, ref(id));
}

/* Like add_ref(), for ids known to be new to the property (the entries
 * of a folder): no search, so a folder of 100,000 files stays linear. */
static void append_ref(json_t *e, const char *key, const char *id)
{
	json_t *v, *arr;

	if (!e || !id)
		return;
	v = json_object_get(e, key);
	if (!v) {
		json_object_set_new(e, key, ref(id));
	} else if (json_is_object(v)) {
		arr = json_array();
		json_array_append(arr, v);
		json_array_append_new(arr, ref(id));
		json_object_set_new(e, key, arr);
	} else {
		json_array_append_new(v, ref(id));
	}
}

static const char *id_of(const json_t *e)
{
	return cora_json_str(e, "@id");
}

/* ---- contextual entities ------------------------------------------------- */

/* "#org-Oregon%20Micro%20Systems" */
static char *local_id(const char *prefix, const char *name)
{
	char *enc = rd_uri_path(name ? name : ""), *id = NULL;

	if (enc && asprintf(&id, "%s%s", prefix, enc) < 0)
		id = NULL;
	free(enc);
	return id;
}

static bool is_url(const char *s)
{
	return s && (strncmp(s, "https://", 8) == 0 ||
		     strncmp(s, "http://", 7) == 0);
}

/* An Organization; its @id is its ROR (or other URL) identifier, else a
 * local id from its name.  Returns the entity. */
static json_t *organization(struct graph *g, const char *name,
			    const char *url_id)
{
	char *lid = NULL;
	json_t *e;
	bool created;

	if (!is_url(url_id)) {
		lid = local_id("#org-", name);
		if (!lid)
			return NULL;
	}
	e = entity(g, lid ? lid : url_id, "Organization", &created);
	if (e && created) {
		put_str(e, "name", name);
		if (!lid)
			put_str(e, "url", url_id);
	}
	free(lid);
	return e;
}

static json_t *publisher_org(struct rd *r, struct graph *g, const char *code)
{
	struct rd_org org;

	rd_publisher(r, code, &org);
	return organization(g, org.name, org.ror);
}

/* A Person from a profile: @id = ORCID URL, else "#person-<id>". */
static json_t *person(struct graph *g, const json_t *p)
{
	const char *orcid = cora_json_str(p, "orcid");
	char *lid = NULL;
	json_t *e, *aff;
	bool created;

	if (!orcid && asprintf(&lid, "#person-%s", cora_json_str(p, "id")) < 0)
		return NULL;
	e = entity(g, orcid ? orcid : lid, "Person", &created);
	free(lid);
	if (e && created) {
		put_str(e, "name", cora_json_str(p, "name"));
		if (cora_json_str(p, "affiliation")) {
			aff = organization(g, cora_json_str(p, "affiliation"),
					   cora_json_str(p, "affiliation_ror"));
			add_ref(e, "affiliation", id_of(aff));
		}
	}
	return e;
}

/* The licence entity for an SPDX id, or the "not granted" entity. */
static json_t *license(struct graph *g, const char *spdx, const char *what)
{
	char url[160];
	json_t *e;
	bool created;

	if (!spdx) {
		e = entity(g, UNSPECIFIED_LICENSE, "CreativeWork", &created);
		if (e && created) {
			put_str(e, "name", "No licence granted");
			put_str(e, "description", what);
		}
		return e;
	}
	snprintf(url, sizeof(url), "https://spdx.org/licenses/%s", spdx);
	e = entity(g, url, "CreativeWork", &created);
	if (e && created) {
		put_str(e, "name", rd_license_name(spdx));
		put_str(e, "description", rd_license_description(spdx));
		put_str(e, "identifier", spdx);
	}
	return e;
}

static json_t *profile(struct graph *g, const char *url, const char *name,
		       const char *version)
{
	json_t *e;
	bool created;

	e = entity(g, url, "CreativeWork|Profile", &created);
	if (e && created) {
		put_str(e, "name", name);
		put_str(e, "version", version);
	}
	return e;
}

/* A specification a dataset conforms to (a NeXus application
 * definition...): a profile named by the last part of its URL. */
static json_t *format_profile(struct graph *g, const char *url)
{
	const char *end = url + strlen(url), *start;
	char name[200];

	while (end > url && end[-1] == '/')
		end--;
	start = end;
	while (start > url && start[-1] != '/')
		start--;
	snprintf(name, sizeof(name), "%.*s", (int)(end - start), start);
	return profile(g, url, *name ? name : url, NULL);
}

static json_t *datacite_file(struct graph *g, const char *about_what)
{
	json_t *e;
	bool created;

	profile(g, RD_DATACITE_PROFILE, "DataCite Metadata Schema 4.6", "4.6");
	e = entity(g, "datacite.xml", "File", &created);
	if (e && created) {
		put_str(e, "name", about_what);
		put_str(e, "encodingFormat", "application/xml");
		add_ref(e, "conformsTo", RD_DATACITE_PROFILE);
		add_ref(e, "about", "./");
	}
	return e;
}

/* An instrument: IndividualProduct with @id = its DOI (or Handle) URL,
 * else urn:uuid:<id>. */
static json_t *product(struct rd *r, struct graph *g, const json_t *asset)
{
	const json_t *pid = json_object_get(asset, "persistent_id"), *model,
		     *m, *e;
	const char *scheme = cora_json_str(pid, "scheme");
	char *id = NULL, *text = NULL, urn[64];
	json_t *p, *org;
	bool created;
	size_t i;

	snprintf(urn, sizeof(urn), "urn:uuid:%s", cora_json_str(asset, "id"));
	if (scheme && strcmp(scheme, "DOI") == 0) {
		if (asprintf(&id, "https://doi.org/%s",
			     cora_json_str(pid, "value")) < 0)
			id = NULL;
	} else if (scheme && strcmp(scheme, "Handle") == 0) {
		if (asprintf(&id, "https://hdl.handle.net/%s",
			     cora_json_str(pid, "value")) < 0)
			id = NULL;
	}
	p = entity(g, id ? id : urn, "IndividualProduct", &created);
	free(id);
	if (!p || !created)
		return p;
	put_str(p, "name", cora_json_str(asset, "name"));
	if (rd_asset_abstract(r, asset, &text) == 0)
		put_str(p, "description", text);
	free(text);
	if (strcmp(id_of(p), urn) != 0)
		put_str(p, "identifier", urn);
	json_array_foreach(json_object_get(asset, "alternate_identifiers"), i,
			   e) {
		if (strcmp(cora_json_str(e, "kind"), "SerialNumber") == 0) {
			put_str(p, "serialNumber", cora_json_str(e, "value"));
			break;
		}
	}
	if (rd_get(r, "Model", cora_json_str(asset, "model_id"), &model) == 0) {
		if (asprintf(&text, "%s (%s)", cora_json_str(model, "name"),
			     cora_json_str(model, "part_number")) >= 0) {
			put_str(p, "model", text);
			free(text);
		}
		m = json_object_get(model, "manufacturer");
		if (cora_json_str(m, "name")) {
			org = organization(g, cora_json_str(m, "name"),
					   cora_json_str(m, "identifier"));
			add_ref(p, "manufacturer", id_of(org));
		}
	}
	return p;
}

/* ---- the file tree ---------------------------------------------------------- */

/* Adds the folders and files of a dataset below `top` (the root "./" or
 * the dataset's folder "<slug>/"); prefix is "" or "<slug>/". */
static int file_tree(struct rd *r, struct graph *g, const json_t *ds,
		     json_t *top, const char *prefix)
{
	json_t *nodes, *n, *e, *parent;
	char *enc, *id, *pid, when[48];
	const char *path, *slash;
	size_t i;
	int rc;

	if ((rc = rd_nodes(r, cora_json_str(ds, "id"), &nodes)))
		return rc;
	json_array_foreach(nodes, i, n) {
		bool dir = strcmp(cora_json_str(n, "type"), "d") == 0;
		path = cora_json_str(n, "path");
		enc = rd_uri_path(path);
		id = NULL;
		if (!enc || asprintf(&id, "%s%s%s", prefix, enc,
				     dir ? "/" : "") < 0) {
			free(enc);
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
			break;
		}
		free(enc);
		e = entity(g, id, dir ? "Dataset" : "File", NULL);
		slash = strrchr(path, '/');
		put_str(e, "name", slash ? slash + 1 : path);
		rd_time_ns(when, cora_json_int(n, "mtime_ns", 0));
		put_str(e, "dateModified", when);
		if (!dir) {
			char size[32];
			snprintf(size, sizeof(size), "%lld",
				 (long long)cora_json_int(n, "size", 0));
			put_str(e, "contentSize", size);
			put_str(e, "sha256", cora_json_str(n, "sha256"));
			put_str(e, "encodingFormat", rd_media_type(path));
		}
		/* the folder holding it was added before (paths sort
		 * after their folder's) */
		parent = top;
		if (slash) {
			char *dirpath = strndup(path, (size_t)(slash - path));
			char *denc = dirpath ? rd_uri_path(dirpath) : NULL;
			pid = NULL;
			if (denc && asprintf(&pid, "%s%s/", prefix, denc) >= 0) {
				json_t *f = json_object_get(g->index, pid);
				if (f)
					parent = f;
			}
			free(pid);
			free(denc);
			free(dirpath);
		}
		append_ref(parent, "hasPart", id);
		free(id);
	}
	json_decref(nodes);
	return rc;
}

static json_t *new_graph(struct graph *g)
{
	json_t *desc;

	g->list = json_array();
	g->index = json_object();
	desc = entity(g, "ro-crate-metadata.json", "CreativeWork", NULL);
	add_ref(desc, "conformsTo", RD_ROCRATE_SPEC);
	add_ref(desc, "about", "./");
	return entity(g, "./", "Dataset", NULL);
}

static int finish(struct graph *g, json_t **out)
{
	*out = json_pack("{s:s, s:O}", "@context", RD_ROCRATE_CONTEXT,
			 "@graph", g->list);
	json_decref(g->list);
	json_decref(g->index);
	g->list = g->index = NULL;
	return *out ? 0 : cora_error_set(CORA_ENOMEM, "out of memory");
}

static void drop(struct graph *g)
{
	json_decref(g->list);
	json_decref(g->index);
	g->list = g->index = NULL;
}

/* abstract + " " + methods */
static int dataset_description(struct rd *r, const json_t *ds, char **out)
{
	char *abstract = NULL, *methods = NULL;
	int rc;

	*out = NULL;
	if ((rc = rd_dataset_abstract(r, ds, &abstract)) ||
	    (rc = rd_dataset_methods(r, ds, &methods))) {
		free(abstract);
		return rc;
	}
	if (!methods) {
		*out = abstract;
		return 0;
	}
	if (asprintf(out, "%s %s", abstract, methods) < 0)
		*out = NULL;
	free(abstract);
	free(methods);
	return *out ? 0 : cora_error_set(CORA_ENOMEM, "out of memory");
}

/* ---- dataset crate ------------------------------------------------------------ */

static int dataset_crate(struct rd *r, const json_t *ds, json_t **out)
{
	const char *id = cora_json_str(ds, "id"), *spdx;
	struct graph g;
	json_t *root, *p = NULL, *e;
	char published[11], at[40], principal[37], urn[64], *text = NULL;
	size_t i;
	int rc;

	*out = NULL;
	root = new_graph(&g);
	if ((rc = rd_dataset_published(r, ds, published)) ||
	    (rc = rd_dataset_license(r, ds, &spdx)) ||
	    (rc = dataset_description(r, ds, &text)))
		goto fail;
	put_str(root, "name", cora_json_str(ds, "name"));
	put_str(root, "description", text);
	free(text);
	text = NULL;
	put_str(root, "datePublished", published);
	snprintf(urn, sizeof(urn), "urn:uuid:%s", id);
	put_str(root, "identifier", urn);
	add_ref(root, "license", id_of(license(&g, spdx,
		"No licence has been granted for this dataset yet: it is in "
		"no sealed or published bundle. Ask the publisher before "
		"reuse.")));
	/* the publisher first: an organisation named twice (publisher
	 * and affiliation, same ROR) keeps the catalog's name for it */
	add_ref(root, "publisher", id_of(publisher_org(r, &g, NULL)));
	rc = rd_event(r, id, "DatasetRegistered", false, at, principal);
	if (rc == 0)
		rc = rd_person(r, principal, &p);
	if (rc && rc != CORA_ENOTFOUND)
		goto fail;
	rc = 0;
	if (p)
		add_ref(root, "author", id_of(person(&g, p)));
	json_decref(p);
	json_array_foreach(json_object_get(ds, "conforms_to"), i, e)
		add_ref(root, "conformsTo",
			id_of(format_profile(&g, json_string_value(e))));
	if ((rc = file_tree(r, &g, ds, root, "")))
		goto fail;
	add_ref(root, "hasPart", id_of(datacite_file(&g,
		"DataCite metadata of this dataset")));
	return finish(&g, out);
fail:
	free(text);
	drop(&g);
	return rc;
}

/* ---- bundle crate (Process Run Crate) -------------------------------------- */

/* The reference to a dataset in a bundle crate: its folder when it is a
 * member, else an external CreativeWork named urn:uuid:<id>. */
static const char *dataset_ref(struct graph *g, const json_t *ds,
			       const json_t *members)
{
	char *id = NULL;
	json_t *e;
	bool created;
	const char *rid;

	if (cora_json_array_has(members, cora_json_str(ds, "id"))) {
		if (asprintf(&id, "%s/", cora_json_str(ds, "slug")) < 0)
			return NULL;
		e = json_object_get(g->index, id);
		free(id);
		return id_of(e);
	}
	if (asprintf(&id, "urn:uuid:%s", cora_json_str(ds, "id")) < 0)
		return NULL;
	e = entity(g, id, "CreativeWork", &created);
	free(id);
	if (e && created) {
		put_str(e, "name", cora_json_str(ds, "name"));
		put_str(e, "description", "A dataset of the same catalog that "
			"is not part of this bundle.");
	}
	rid = id_of(e);
	return rid;
}

static json_t *run_software(struct rd *r, struct graph *g)
{
	json_t *e;
	bool created;

	e = entity(g, RUN_SOFTWARE, "SoftwareApplication", &created);
	if (e && created) {
		put_str(e, "name", rd_config(r, "run_software_name", "corafs"));
		put_str(e, "url", rd_config(r, "run_software_url",
					    "https://github.com/mittoalb/cora"));
		put_str(e, "softwareVersion",
			rd_config(r, "run_software_version",
				  RD_CORAFS_VERSION));
		put_str(e, "description", rd_config(r, "run_software_description",
			"The run control of the catalog, which recorded the "
			"start, end and outcome of the run (set "
			"run_software_name, _url and _version in the catalog "
			"config to name the beamline's acquisition software)."));
	}
	return e;
}

static const char *action_status(const char *run_status)
{
	if (!run_status)
		return NULL;
	if (strcmp(run_status, "Completed") == 0)
		return "http://schema.org/CompletedActionStatus";
	if (strcmp(run_status, "Running") == 0 ||
	    strcmp(run_status, "Held") == 0)
		return "http://schema.org/ActiveActionStatus";
	return "http://schema.org/FailedActionStatus";
}

static int run_action(struct rd *r, struct graph *g, json_t *root,
		      const json_t *bundle, const json_t *run)
{
	const char *rid = cora_json_str(run, "id"), *status;
	const json_t *members = json_object_get(bundle, "dataset_ids"), *e,
		     *ds, *asset;
	json_t *results = NULL, *instruments = json_array(), *inputs =
		json_array(), *acqs, *a, *p = NULL, *act, *agent;
	struct rd_str s = { 0 };
	char id[64], at[40], principal[37], *text;
	size_t i, k, len;
	int rc;

	if ((rc = rd_query(r, "SELECT state FROM entities"
			   " WHERE stream_type = 'Dataset'"
			   " AND json_extract(state, '$.producing_run_id') = ?1"
			   " ORDER BY stream_id", rid, &results)))
		goto out;
	/* instruments: the run's assets and the assets that captured
	 * its results */
	json_array_foreach(json_object_get(run, "asset_ids"), i, e)
		if (!cora_json_array_has(instruments, json_string_value(e)))
			json_array_append(instruments, (json_t *)e);
	json_array_foreach(results, i, ds) {
		if ((rc = rd_acquisitions(r, "dataset_id",
					  cora_json_str(ds, "id"), &acqs)))
			goto out;
		json_array_foreach(acqs, k, a) {
			const char *aid = cora_json_str(a, "producing_asset_id");
			if (aid && !cora_json_array_has(instruments, aid))
				json_array_append_new(instruments,
						      json_string(aid));
		}
		json_decref(acqs);
		json_array_foreach(json_object_get(ds, "derived_from"), k, e)
			if (!cora_json_array_has(inputs, json_string_value(e)))
				json_array_append(inputs, (json_t *)e);
	}
	cora_json_sort_strings(instruments);
	cora_json_sort_strings(inputs);

	snprintf(id, sizeof(id), "#run-%s", rid);
	act = entity(g, id, json_array_size(results) ? "CreateAction" :
		     "ActivateAction", NULL);
	put_str(act, "name", cora_json_str(run, "name"));
	rd_str_addf(&s, "Run %s", cora_json_str(run, "slug"));
	if (cora_json_str(run, "trigger_source")) {
		rd_str_add(&s, ", triggered by ");
		rd_str_add(&s, cora_json_str(run, "trigger_source"));
	}
	if (json_object_size(json_object_get(run, "effective_parameters"))) {
		text = cora_json_dump(json_object_get(run,
						      "effective_parameters"));
		rd_str_add(&s, ", parameters ");
		rd_str_add(&s, text);
		free(text);
	}
	json_array_foreach(json_object_get(run, "external_refs"), i, e)
		rd_str_addf(&s, "%s %s %s", i ? "," : "; references",
			    cora_json_str(e, "scheme"),
			    cora_json_str(e, "value"));
	rd_str_add(&s, ".");
	if ((rc = rd_str_take(&s, &text, &len)))
		goto out;
	put_str(act, "description", text);
	free(text);
	put_str(act, "startTime", cora_json_str(run, "started_at"));
	put_str(act, "endTime", cora_json_str(run, "ended_at"));
	status = cora_json_str(run, "status");
	add_ref(act, "actionStatus", action_status(status));
	if (status && strcmp(status, "Completed") != 0 &&
	    strcmp(status, "Running") != 0 && strcmp(status, "Held") != 0) {
		char err[600];
		snprintf(err, sizeof(err), "Run %s%s%s", status,
			 cora_json_str(run, "end_reason") ? ": " : "",
			 cora_json_str(run, "end_reason") ?
			 cora_json_str(run, "end_reason") : "");
		put_str(act, "error", err);
	}

	/* agent: the person who started the run, else the facility */
	rc = rd_event(r, rid, "RunStarted", false, at, principal);
	if (rc == 0)
		rc = rd_person(r, principal, &p);
	if (rc && rc != CORA_ENOTFOUND)
		goto out;
	rc = 0;
	agent = p ? person(g, p) :
		publisher_org(r, g, cora_json_str(bundle,
						  "publisher_facility_code"));
	add_ref(act, "agent", id_of(agent));

	add_ref(act, "instrument", id_of(run_software(r, g)));
	json_array_foreach(instruments, i, e)
		if (rd_get(r, "Asset", json_string_value(e), &asset) == 0)
			add_ref(act, "instrument", id_of(product(r, g, asset)));
	json_array_foreach(inputs, i, e)
		if (rd_get(r, "Dataset", json_string_value(e), &ds) == 0)
			add_ref(act, "object", dataset_ref(g, ds, members));
	json_array_foreach(results, i, ds)
		add_ref(act, "result", dataset_ref(g, ds, members));
	add_ref(root, "mentions", id);
out:
	json_decref(p);
	json_decref(results);
	json_decref(instruments);
	json_decref(inputs);
	return rc;
}

int rd_bundle_crate(struct rd *r, const json_t *b, json_t **out)
{
	const char *id = cora_json_str(b, "id"), *doi = rd_doi(b);
	const json_t *e, *ds, *run, *asset;
	json_t *root, *folder, *p, *runs = NULL, *pv;
	struct graph g;
	char at[40], date[11], *text = NULL, *fid;
	size_t i;
	int rc;

	*out = NULL;
	root = new_graph(&g);
	if ((rc = rd_bundle_abstract(r, b, &text)))
		goto fail;
	put_str(root, "name", cora_json_str(b, "title"));
	put_str(root, "description", text);
	free(text);
	text = NULL;
	if (rd_event(r, id, "BundlePublished", false, at, NULL) != 0 &&
	    rd_event(r, id, "BundleSealed", false, at, NULL) != 0)
		snprintf(at, sizeof(at), "%s", cora_json_str(b, "created_at"));
	rd_date(date, at);
	put_str(root, "datePublished", date);
	add_ref(root, "license", id_of(license(&g, cora_json_str(b, "license"),
		"No licence has been set for this bundle yet; it is still "
		"being assembled.")));
	if (doi) {
		char url[300], value[300];
		snprintf(url, sizeof(url), "https://doi.org/%s", doi);
		snprintf(value, sizeof(value), "doi:%s", doi);
		pv = entity(&g, url, "PropertyValue", NULL);
		put_str(pv, "propertyID",
			"https://registry.identifiers.org/registry/doi");
		put_str(pv, "value", value);
		put_str(pv, "url", url);
		add_ref(root, "identifier", url);
		put_str(root, "cite-as", url);
	} else {
		char urn[64];
		snprintf(urn, sizeof(urn), "urn:uuid:%s", id);
		put_str(root, "identifier", urn);
	}
	add_ref(root, "publisher", id_of(publisher_org(r, &g,
		cora_json_str(b, "publisher_facility_code"))));
	json_array_foreach(json_object_get(b, "creators"), i, e) {
		if ((rc = rd_person(r, json_string_value(e), &p)))
			goto fail;
		if (p)
			add_ref(root, "author", id_of(person(&g, p)));
		json_decref(p);
	}

	/* member datasets: <slug>/ folders with their files */
	json_array_foreach(json_object_get(b, "dataset_ids"), i, e) {
		size_t k;
		const json_t *c;
		char urn[64];
		if (rd_get(r, "Dataset", json_string_value(e), &ds) != 0)
			continue;
		if (asprintf(&fid, "%s/", cora_json_str(ds, "slug")) < 0) {
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
			goto fail;
		}
		folder = entity(&g, fid, "Dataset", NULL);
		free(fid);
		put_str(folder, "name", cora_json_str(ds, "name"));
		if ((rc = dataset_description(r, ds, &text)))
			goto fail;
		put_str(folder, "description", text);
		free(text);
		text = NULL;
		snprintf(urn, sizeof(urn), "urn:uuid:%s",
			 cora_json_str(ds, "id"));
		put_str(folder, "identifier", urn);
		json_array_foreach(json_object_get(ds, "conforms_to"), k, c)
			add_ref(folder, "conformsTo",
				id_of(format_profile(&g, json_string_value(c))));
		add_ref(root, "hasPart", id_of(folder));
		if ((rc = file_tree(r, &g, ds, folder, id_of(folder))))
			goto fail;
	}
	add_ref(root, "hasPart", id_of(datacite_file(&g,
		"DataCite metadata of this bundle")));

	/* runs: the bundle's and those that produced its datasets */
	runs = json_deep_copy(json_object_get(b, "run_ids"));
	if (!runs)
		runs = json_array();
	json_array_foreach(json_object_get(b, "dataset_ids"), i, e)
		if (rd_get(r, "Dataset", json_string_value(e), &ds) == 0 &&
		    cora_json_str(ds, "producing_run_id") &&
		    !cora_json_array_has(runs,
					 cora_json_str(ds, "producing_run_id")))
			json_array_append_new(runs, json_string(
				cora_json_str(ds, "producing_run_id")));
	cora_json_sort_strings(runs);
	json_array_foreach(runs, i, e) {
		if (rd_get(r, "Run", json_string_value(e), &run) != 0)
			continue;
		if ((rc = run_action(r, &g, root, b, run)))
			goto fail;
	}
	/* a Process Run Crate needs at least one action */
	if (json_object_get(root, "mentions")) {
		profile(&g, RD_PROCESS_PROFILE, "Process Run Crate", "0.5");
		add_ref(root, "conformsTo", RD_PROCESS_PROFILE);
	}
	/* instruments named by the bundle itself */
	json_array_foreach(json_object_get(b, "asset_ids"), i, e)
		if (rd_get(r, "Asset", json_string_value(e), &asset) == 0)
			add_ref(root, "mentions", id_of(product(r, &g, asset)));
	json_decref(runs);
	return finish(&g, out);
fail:
	json_decref(runs);
	free(text);
	drop(&g);
	return rc;
}

int rd_rocrate(struct rd *r, const char *stream_type, const json_t *state,
	       char **out, size_t *len)
{
	json_t *doc;
	char *text;
	int rc;

	*out = NULL;
	*len = 0;
	rc = strcmp(stream_type, "Bundle") == 0 ?
	     rd_bundle_crate(r, state, &doc) : dataset_crate(r, state, &doc);
	if (rc)
		return rc;
	text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
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

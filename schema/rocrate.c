/*
 * rocrate.c: ro-crate-metadata.json, RO-Crate 1.2, for a dataset folder
 * and for a bundle folder (which also follows the Process Run Crate 0.5
 * profile).  The small part (the root, people, licences, instruments,
 * runs) is built with jansson as a flattened graph; the files are not:
 * the graph holds stand-ins for them that the writer (jsonw.c) expands
 * by reading the catalog as it writes ("the file tree" below).  The
 * bytes are what json_dumps(JSON_INDENT(2) | JSON_SORT_KEYS) printed of
 * the whole graph when it was all in memory.
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

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define UNSPECIFIED_LICENSE "#license-unspecified"
#define RUN_SOFTWARE "#run-software"

struct part;

struct graph {
	json_t *list;      /* the @graph array */
	json_t *index;     /* @id -> entity (borrowed) */
	struct part *parts; /* what the markers in list stand for */
	size_t nparts;
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

/*
 * The files of a dataset are never in the graph.  It holds stand-ins
 * instead (struct part, a marker from rd_jw_mark() carrying the part's
 * index in graph.parts):
 *
 *     PART_ENTITIES  an element of @graph: the Dataset and File entities
 *                    of every folder and file below a folder
 *     PART_HASPART   the hasPart value of a folder: its children ('d' and
 *                    'f') by name, then the ids in `extra`
 *
 * rd_rocrate_to() expands them while it writes, reading the nodes table
 * as it goes (struct walk): memory grows with the folder depth (two
 * statements a level) and one entity, not with the files.
 * rd_bundle_crate() expands them into JSON instead, for the preview.
 *
 * Order (the bytes the crate always had).  The entities come in the byte
 * order of their paths, so a folder's own entity comes at its name and
 * its contents at its name + '/':
 *
 *     a/   a b/   a b/c   a-b   a/x          ('' < ' ' < '-' < '/')
 *
 * visit() makes that order for one folder by merging two cursors over its
 * children: the entries by name, and the subfolders by name || '/', whose
 * contents are written (depth first) when their key sorts first.  A
 * folder's hasPart lists its children by name (their paths differ only
 * there).  One reference is written as an object, two or more as an
 * array, none as no hasPart at all, as add_ref() does; counting the
 * children stops at two.
 */
enum part_kind { PART_ENTITIES, PART_HASPART };

struct part {
	enum part_kind kind;
	int64_t ino;            /* the folder; 0 when the dataset has none */
	const char *path;       /* its path below the dataset root */
	char *prefix;           /* "" or "<slug>/" (owned in graph.parts) */
	json_t *extra;          /* PART_HASPART: ids after the children */
	json_t *top;            /* PART_HASPART: the entity (borrowed) */
	const char *merged;     /* a child at the root that is an entity of
	                         * the graph already (reserved_files()) */
};

/* A new part; its marker (a new reference) or NULL when out of memory. */
static json_t *add_part(struct graph *g, enum part_kind kind, int64_t ino,
			const char *prefix, json_t *top)
{
	struct part *p = realloc(g->parts, (g->nparts + 1) * sizeof(*p));
	json_t *mark;

	if (!p)
		return NULL;
	g->parts = p;
	p += g->nparts;
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->ino = ino;
	p->path = "";
	p->prefix = strdup(prefix);
	p->top = top;
	mark = p->prefix ? rd_jw_mark((json_int_t)g->nparts) : NULL;
	if (!mark) {
		free(p->prefix);
		return NULL;
	}
	g->nparts++;
	return mark;
}

/* The folder of a dataset (its root node), or 0 when it has none (a
 * discarded dataset). */
static int dataset_folder(struct rd *r, const char *dataset_id,
			  int64_t *ino)
{
	sqlite3_stmt *s = cora_stmt(r->cat, "SELECT ino FROM nodes"
				    " WHERE parent = 0 AND name = ?1");
	int rc;

	*ino = 0;
	if (!s)
		return cora_error_code();
	sqlite3_bind_text(s, 1, dataset_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ino = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cora_sqlite_error(r->cat, rc, "listing files");
	return 0;
}

/* A file at a dataset's root named like an entity every crate has
 * (ro-crate-metadata.json, datacite.xml: names the mount refuses but
 * `cora dataset ingest` lets in) was merged into that entity when the
 * whole graph was in memory, and these are still the bytes: the
 * descriptor takes the file's properties and is not handed out again
 * (entities->merged); datacite.xml is handed out at its place among the
 * files, and the graph's own gets a stand-in in the index so that
 * datacite_file() neither adds it again nor sets its properties, and
 * the root lists it once (has_part->merged). */
static int reserved_files(struct rd *r, struct graph *g, int64_t ino,
			  struct part *entities, struct part *has_part)
{
	sqlite3_stmt *s = cora_stmt(r->cat, "SELECT name, size, sha256,"
				    " mtime_ns FROM nodes WHERE parent = ?1"
				    " AND type = 'f' AND name IN"
				    " ('ro-crate-metadata.json', 'datacite.xml')");
	const char *name, *sha;
	char when[48], size[32];
	json_t *e;
	int rc;

	if (!s)
		return cora_error_code();
	sqlite3_bind_int64(s, 1, ino);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(s, 0);
		if (strcmp(name, "datacite.xml") == 0) {
			json_object_set_new(g->index, "datacite.xml",
					    json_pack("{s:s}", "@id",
						      "datacite.xml"));
			has_part->merged = "datacite.xml";
			continue;
		}
		e = json_object_get(g->index, "ro-crate-metadata.json");
		sha = (const char *)sqlite3_column_text(s, 2);
		put_str(e, "name", name);
		rd_time_ns(when, sqlite3_column_int64(s, 3));
		put_str(e, "dateModified", when);
		snprintf(size, sizeof(size), "%lld",
			 (long long)sqlite3_column_int64(s, 1));
		put_str(e, "contentSize", size);
		put_str(e, "sha256", sha ? sha : "");
		put_str(e, "encodingFormat", rd_media_type(name));
		entities->merged = "ro-crate-metadata.json";
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 :
	       cora_sqlite_error(r->cat, rc, "listing files");
}

/* Puts the folders and files of a dataset below `top` (the root "./" or
 * the dataset's folder "<slug>/"): their entities at this point of the
 * graph, top's hasPart their references.  prefix is "" or "<slug>/". */
static int file_tree(struct rd *r, struct graph *g, const json_t *ds,
		     json_t *top, const char *prefix)
{
	json_t *mark;
	int64_t ino;
	int rc;

	if ((rc = dataset_folder(r, cora_json_str(ds, "id"), &ino)))
		return rc;
	mark = add_part(g, PART_ENTITIES, ino, prefix, NULL);
	if (!mark || json_array_append_new(g->list, mark) != 0)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	mark = add_part(g, PART_HASPART, ino, prefix, top);
	if (!mark || json_object_set_new(top, "hasPart", mark) != 0)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	if (ino && !*prefix)
		return reserved_files(r, g, ino, &g->parts[g->nparts - 2],
				      &g->parts[g->nparts - 1]);
	return 0;
}

/* add_ref(e, "hasPart", id) for a folder whose hasPart may stand for its
 * files: the id goes after them. */
static void add_part_ref(struct graph *g, json_t *e, const char *id)
{
	json_t *v = json_object_get(e, "hasPart"), *x;
	struct part *p;
	json_int_t n;
	size_t i;

	if (!id)
		return;
	if (!rd_jw_is_mark(v, &n)) {
		add_ref(e, "hasPart", id);
		return;
	}
	p = &g->parts[n];
	if (p->merged && strcmp(p->merged, id) == 0)
		return;     /* a child already */
	if (!p->extra)
		p->extra = json_array();
	json_array_foreach(p->extra, i, x)
		if (strcmp(json_string_value(x), id) == 0)
			return;
	json_array_append_new(p->extra, json_string(id));
}

struct level {
	sqlite3_stmt *entries;   /* a folder's children by name */
	sqlite3_stmt *dirs;      /* its subfolders by name || '/' */
};

struct walk {
	struct rd *r;
	struct graph *g;
	struct level *lv;        /* one per depth below the dataset root */
	size_t nlv;
	sqlite3_stmt *count, *names;
	char *path;              /* of the node being handed out */
	size_t len, cap;
	const char *prefix;
	const char *merged;      /* a root file not to hand out */
	struct part cur;         /* hasPart of the folder being handed out */
	/* where entities go: written at depth (jw), or appended (out) */
	struct rd_jw *jw;
	size_t depth;
	bool *first;
	json_t *out;
};

static void walk_init(struct walk *w, struct rd *r, struct graph *g)
{
	memset(w, 0, sizeof(*w));
	w->r = r;
	w->g = g;
	w->prefix = "";
}

static void walk_release(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->nlv; i++) {
		sqlite3_finalize(w->lv[i].entries);
		sqlite3_finalize(w->lv[i].dirs);
	}
	free(w->lv);
	sqlite3_finalize(w->count);
	sqlite3_finalize(w->names);
	free(w->path);
	memset(w, 0, sizeof(*w));
}

/* Statements of their own, not cora_stmt()'s: one per level is open at
 * once. */
static int prepare(struct walk *w, sqlite3_stmt **s, const char *sql)
{
	int rc;

	if (*s)
		return 0;
	rc = sqlite3_prepare_v2(w->r->cat->db, sql, -1, s, NULL);
	return rc == SQLITE_OK ? 0 :
	       cora_sqlite_error(w->r->cat, rc, "listing files");
}

/* Appends "/name" (or "name" at the root) to w->path; returns the length
 * to go back to, or (size_t)-1 when out of memory. */
static size_t push(struct walk *w, const char *name, size_t n)
{
	size_t keep = w->len, need = w->len + n + 2;
	char *p;

	if (need > w->cap) {
		p = realloc(w->path, need * 2);
		if (!p)
			return (size_t)-1;
		w->path = p;
		w->cap = need * 2;
	}
	if (w->len)
		w->path[w->len++] = '/';
	memcpy(w->path + w->len, name, n);
	w->len += n;
	w->path[w->len] = '\0';
	return keep;
}

static void pop(struct walk *w, size_t keep)
{
	w->len = keep;
	if (w->path)
		w->path[keep] = '\0';
}

/* The @id of a child `name` of part's folder (new string). */
static char *child_id(const struct part *p, const char *name, bool dir)
{
	char *path = NULL, *enc, *id = NULL;

	if (asprintf(&path, "%s%s%s", p->path, *p->path ? "/" : "",
		     name) < 0)
		return NULL;
	enc = rd_uri_path(path);
	if (enc && asprintf(&id, "%s%s%s", p->prefix, enc,
			    dir ? "/" : "") < 0)
		id = NULL;
	free(enc);
	free(path);
	return id;
}

/* How many references the hasPart of part has, counting its children up
 * to two. */
static int part_refs(struct walk *w, const struct part *p, size_t *n)
{
	int rc;

	*n = json_array_size(p->extra);
	if (!p->ino)
		return 0;
	if ((rc = prepare(w, &w->count, "SELECT count(*) FROM"
			  " (SELECT 1 FROM nodes WHERE parent = ?1"
			  " AND type IN ('d', 'f') LIMIT 2)")))
		return rc;
	sqlite3_bind_int64(w->count, 1, p->ino);
	rc = sqlite3_step(w->count);
	if (rc == SQLITE_ROW)
		*n += (size_t)sqlite3_column_int64(w->count, 0);
	sqlite3_reset(w->count);
	return rc == SQLITE_ROW ? 0 :
	       cora_sqlite_error(w->r->cat, rc, "listing files");
}

/* Calls each(w, ref, arg) with {"@id": ...} of every reference of part's
 * hasPart, in order. */
static int each_ref(struct walk *w, const struct part *p,
		    int (*each)(struct walk *w, json_t *ref, void *arg),
		    void *arg)
{
	json_t *x, *ref;
	char *id;
	size_t i;
	int rc = 0, step;

	if (p->ino) {
		if ((rc = prepare(w, &w->names, "SELECT name, type FROM nodes"
				  " WHERE parent = ?1 AND type IN ('d', 'f')"
				  " ORDER BY name")))
			return rc;
		sqlite3_bind_int64(w->names, 1, p->ino);
		while ((step = sqlite3_step(w->names)) == SQLITE_ROW) {
			const char *type = (const char *)
				sqlite3_column_text(w->names, 1);
			id = child_id(p, (const char *)
				      sqlite3_column_text(w->names, 0),
				      type && *type == 'd');
			ref = id ? json_pack("{s:s}", "@id", id) : NULL;
			free(id);
			rc = ref ? each(w, ref, arg) :
			     cora_error_set(CORA_ECORRUPT, "a file name in "
					    "'%s' is not UTF-8", p->path);
			json_decref(ref);
			if (rc)
				break;
		}
		sqlite3_reset(w->names);
		if (!rc && step != SQLITE_DONE)
			rc = cora_sqlite_error(w->r->cat, step,
					       "listing files");
	}
	json_array_foreach(p->extra, i, x) {
		if (rc)
			break;
		ref = json_pack("{s:O}", "@id", x);
		rc = ref ? each(w, ref, arg) :
		     cora_error_set(CORA_ENOMEM, "out of memory");
		json_decref(ref);
	}
	return rc;
}

struct ref_out {
	size_t depth;
	bool many, first;
};

static int write_ref(struct walk *w, json_t *ref, void *arg)
{
	struct ref_out *o = arg;

	if (o->many)
		rd_jw_item(w->jw, o->depth + 1, &o->first);
	rd_jw_value(w->jw, ref, o->many ? o->depth + 1 : o->depth);
	return w->jw->rc;
}

/* Writes "hasPart": ... of part at depth, or nothing when it is empty. */
static int write_has_part(struct walk *w, const struct part *p,
			  const char *key, size_t depth, bool *first)
{
	struct ref_out o = { depth, false, true };
	size_t n;
	int rc;

	if ((rc = part_refs(w, p, &n)) || n == 0)
		return rc;
	o.many = n > 1;
	rd_jw_key(w->jw, key, depth, first);
	if ((rc = each_ref(w, p, write_ref, &o)))
		return rc;
	if (o.many)
		rd_jw_close(w->jw, ']', depth, o.first);
	return w->jw->rc;
}

static int keep_ref(struct walk *w, json_t *ref, void *arg)
{
	(void)w;
	return json_array_append(arg, ref) == 0 ? 0 :
	       cora_error_set(CORA_ENOMEM, "out of memory");
}

/* Sets (or removes) e's hasPart to that of part, as JSON. */
static int keep_has_part(struct walk *w, const struct part *p, json_t *e)
{
	json_t *refs = json_array();
	int rc;

	if (!refs)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	rc = each_ref(w, p, keep_ref, refs);
	if (rc == 0) {
		if (json_array_size(refs) == 0)
			json_object_del(e, "hasPart");
		else if (json_array_size(refs) == 1)
			json_object_set(e, "hasPart", json_array_get(refs, 0));
		else
			json_object_set(e, "hasPart", refs);
	}
	json_decref(refs);
	return rc;
}

/* The entity of the node in the current row of s (ino, name, type, size,
 * sha256, mtime_ns), handed to where entities go. */
static int hand_out(struct walk *w, sqlite3_stmt *s)
{
	const char *name = (const char *)sqlite3_column_text(s, 1);
	const char *type = (const char *)sqlite3_column_text(s, 2);
	const char *sha = (const char *)sqlite3_column_text(s, 4);
	size_t nlen = (size_t)sqlite3_column_bytes(s, 1), keep, n;
	bool dir = type && *type == 'd';
	char *enc = NULL, *id = NULL, when[48], size[32];
	json_t *e = NULL, *nm;
	int rc = 0;

	if (!name || (keep = push(w, name, nlen)) == (size_t)-1)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	nm = json_stringn(name, nlen);
	if (!nm) {
		rc = cora_error_set(CORA_ECORRUPT, "file name '%s' is not "
				    "UTF-8", w->path);
		goto out;
	}
	enc = rd_uri_path(w->path);
	if (!enc || asprintf(&id, "%s%s%s", w->prefix, enc,
			     dir ? "/" : "") < 0) {
		id = NULL;
		json_decref(nm);
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
		goto out;
	}
	e = json_pack("{s:s, s:s, s:o}", "@id", id, "@type",
		      dir ? "Dataset" : "File", "name", nm);
	if (!e) {
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
		goto out;
	}
	rd_time_ns(when, sqlite3_column_int64(s, 5));
	put_str(e, "dateModified", when);
	if (!dir) {
		snprintf(size, sizeof(size), "%lld",
			 (long long)sqlite3_column_int64(s, 3));
		put_str(e, "contentSize", size);
		put_str(e, "sha256", sha ? sha : "");
		put_str(e, "encodingFormat", rd_media_type(w->path));
	} else {
		w->cur = (struct part){ PART_HASPART, sqlite3_column_int64(s, 0),
					w->path, (char *)w->prefix, NULL, e };
		if ((rc = part_refs(w, &w->cur, &n)))
			goto out;
		if (n)
			json_object_set_new(e, "hasPart", rd_jw_mark(-1));
	}
	if (w->jw) {
		rd_jw_item(w->jw, w->depth, w->first);
		rd_jw_value(w->jw, e, w->depth);
		rc = w->jw->rc;
	} else {
		if (dir && json_object_get(e, "hasPart"))
			rc = keep_has_part(w, &w->cur, e);
		if (!rc && json_array_append(w->out, e) != 0)
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
	}
out:
	json_decref(e);
	free(id);
	free(enc);
	pop(w, keep);
	return rc;
}

/* Is the entry `a` before the contents of the folder `b` (key b + '/')? */
static bool entry_first(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	if (c)
		return c < 0;
	if (na <= nb)
		return true;        /* a is a prefix of b + '/' */
	return (unsigned char)a[nb] < '/';
}

static int stepped(struct walk *w, int rc)
{
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
	       cora_sqlite_error(w->r->cat, rc, "listing files");
}

/* Hands out every node below folder ino (w->path) in path order. */
static int visit(struct walk *w, size_t depth, int64_t ino)
{
	sqlite3_stmt *a, *b;
	struct level *lv;
	int ra, rb, rc = 0;
	size_t keep;

	if (depth == w->nlv) {
		lv = realloc(w->lv, (w->nlv + 1) * sizeof(*lv));
		if (!lv)
			return cora_error_set(CORA_ENOMEM, "out of memory");
		w->lv = lv;
		memset(&w->lv[w->nlv++], 0, sizeof(*lv));
	}
	if ((rc = prepare(w, &w->lv[depth].entries,
			  "SELECT ino, name, type, size, sha256, mtime_ns"
			  " FROM nodes WHERE parent = ?1"
			  " AND type IN ('d', 'f') ORDER BY name")) ||
	    (rc = prepare(w, &w->lv[depth].dirs,
			  "SELECT ino, name FROM nodes WHERE parent = ?1"
			  " AND type = 'd' ORDER BY name || '/'")))
		return rc;
	a = w->lv[depth].entries;
	b = w->lv[depth].dirs;
	sqlite3_bind_int64(a, 1, ino);
	sqlite3_bind_int64(b, 1, ino);
	ra = sqlite3_step(a);
	rb = sqlite3_step(b);
	while (!(rc = stepped(w, ra)) && !(rc = stepped(w, rb)) &&
	       (ra == SQLITE_ROW || rb == SQLITE_ROW)) {
		if (ra == SQLITE_ROW && depth == 0 && w->merged &&
		    strcmp((const char *)sqlite3_column_text(a, 1),
			   w->merged) == 0 &&
		    strcmp((const char *)sqlite3_column_text(a, 2), "f") == 0) {
			ra = sqlite3_step(a);   /* the descriptor has it */
			continue;
		}
		if (ra == SQLITE_ROW &&
		    (rb != SQLITE_ROW ||
		     entry_first((const char *)sqlite3_column_text(a, 1),
				 (size_t)sqlite3_column_bytes(a, 1),
				 (const char *)sqlite3_column_text(b, 1),
				 (size_t)sqlite3_column_bytes(b, 1)))) {
			if ((rc = hand_out(w, a)))
				break;
			ra = sqlite3_step(a);
			continue;
		}
		keep = push(w, (const char *)sqlite3_column_text(b, 1),
			    (size_t)sqlite3_column_bytes(b, 1));
		if (keep == (size_t)-1) {
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
			break;
		}
		rc = visit(w, depth + 1, sqlite3_column_int64(b, 0));
		pop(w, keep);
		if (rc)
			break;
		rb = sqlite3_step(b);
	}
	sqlite3_reset(a);
	sqlite3_reset(b);
	return rc;
}

/* Hands out the entities of a PART_ENTITIES. */
static int walk_part(struct walk *w, const struct part *p)
{
	w->prefix = p->prefix;
	w->merged = p->merged;
	pop(w, 0);
	return p->ino ? visit(w, 0, p->ino) : 0;
}

/* rd_jw's hook: writes the part a marker stands for. */
static void expand(struct rd_jw *jw, const json_t *mark, const char *key,
		   size_t depth, bool *first)
{
	struct walk *w = jw->ctx;
	const struct part *p;
	json_int_t n = -1;
	int rc;

	rd_jw_is_mark(mark, &n);
	p = n < 0 ? &w->cur : &w->g->parts[n];
	if (key) {
		rc = write_has_part(w, p, key, depth, first);
	} else {
		w->depth = depth;
		w->first = first;
		rc = walk_part(w, p);
	}
	if (rc)
		rd_jw_fail(jw, rc);
}

/* Replaces every marker of the graph by what it stands for. */
static int expand_all(struct rd *r, struct graph *g)
{
	json_t *list = json_array(), *x;
	struct walk w;
	json_int_t n;
	size_t i;
	int rc = 0;

	if (!list)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	walk_init(&w, r, g);
	w.out = list;
	for (i = 0; i < g->nparts && !rc; i++)
		if (g->parts[i].kind == PART_HASPART)
			rc = keep_has_part(&w, &g->parts[i], g->parts[i].top);
	json_array_foreach(g->list, i, x) {
		if (rc)
			break;
		if (rd_jw_is_mark(x, &n))
			rc = walk_part(&w, &g->parts[n]);
		else if (json_array_append(list, x) != 0)
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
	}
	walk_release(&w);
	if (rc) {
		json_decref(list);
		return rc;
	}
	json_decref(g->list);
	g->list = list;
	return 0;
}

static json_t *new_graph(struct graph *g)
{
	json_t *desc;

	memset(g, 0, sizeof(*g));
	g->list = json_array();
	g->index = json_object();
	desc = entity(g, "ro-crate-metadata.json", "CreativeWork", NULL);
	add_ref(desc, "conformsTo", RD_ROCRATE_SPEC);
	add_ref(desc, "about", "./");
	return entity(g, "./", "Dataset", NULL);
}

static void drop(struct graph *g)
{
	size_t i;

	json_decref(g->list);
	json_decref(g->index);
	for (i = 0; i < g->nparts; i++) {
		free(g->parts[i].prefix);
		json_decref(g->parts[i].extra);
	}
	free(g->parts);
	memset(g, 0, sizeof(*g));
}

static int finish(struct graph *g, json_t **out)
{
	*out = json_pack("{s:s, s:O}", "@context", RD_ROCRATE_CONTEXT,
			 "@graph", g->list);
	drop(g);
	return *out ? 0 : cora_error_set(CORA_ENOMEM, "out of memory");
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

/* The graph of a dataset's crate, its files as parts (drop() it). */
static int dataset_graph(struct rd *r, const json_t *ds, struct graph *g)
{
	const char *id = cora_json_str(ds, "id"), *spdx;
	json_t *root, *p = NULL, *e;
	char published[11], at[40], principal[37], urn[64], *text = NULL;
	size_t i;
	int rc;

	root = new_graph(g);
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
	add_ref(root, "license", id_of(license(g, spdx,
		"No licence has been granted for this dataset yet: it is in "
		"no sealed or published bundle. Ask the publisher before "
		"reuse.")));
	/* the publisher first: an organisation named twice (publisher
	 * and affiliation, same ROR) keeps the catalog's name for it */
	add_ref(root, "publisher", id_of(publisher_org(r, g, NULL)));
	rc = rd_event(r, id, "DatasetRegistered", false, at, principal);
	if (rc == 0)
		rc = rd_person(r, principal, &p);
	if (rc && rc != CORA_ENOTFOUND)
		goto fail;
	rc = 0;
	if (p)
		add_ref(root, "author", id_of(person(g, p)));
	json_decref(p);
	json_array_foreach(json_object_get(ds, "conforms_to"), i, e)
		add_ref(root, "conformsTo",
			id_of(format_profile(g, json_string_value(e))));
	if ((rc = file_tree(r, g, ds, root, "")))
		goto fail;
	add_part_ref(g, root, id_of(datacite_file(g,
		"DataCite metadata of this dataset")));
	return 0;
fail:
	free(text);
	drop(g);
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

/* The graph of a bundle's crate, its files as parts (drop() it). */
static int bundle_graph(struct rd *r, const json_t *b, struct graph *g)
{
	const char *id = cora_json_str(b, "id"), *doi = rd_doi(b);
	const json_t *e, *ds, *run, *asset;
	json_t *root, *folder, *p, *runs = NULL, *pv;
	char at[40], date[11], *text = NULL, *fid;
	size_t i;
	int rc;

	root = new_graph(g);
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
	add_ref(root, "license", id_of(license(g, cora_json_str(b, "license"),
		"No licence has been set for this bundle yet; it is still "
		"being assembled.")));
	if (doi) {
		char url[300], value[300];
		snprintf(url, sizeof(url), "https://doi.org/%s", doi);
		snprintf(value, sizeof(value), "doi:%s", doi);
		pv = entity(g, url, "PropertyValue", NULL);
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
	add_ref(root, "publisher", id_of(publisher_org(r, g,
		cora_json_str(b, "publisher_facility_code"))));
	json_array_foreach(json_object_get(b, "creators"), i, e) {
		if ((rc = rd_person(r, json_string_value(e), &p)))
			goto fail;
		if (p)
			add_ref(root, "author", id_of(person(g, p)));
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
		folder = entity(g, fid, "Dataset", NULL);
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
				id_of(format_profile(g, json_string_value(c))));
		add_ref(root, "hasPart", id_of(folder));
		if ((rc = file_tree(r, g, ds, folder, id_of(folder))))
			goto fail;
	}
	add_ref(root, "hasPart", id_of(datacite_file(g,
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
		if ((rc = run_action(r, g, root, b, run)))
			goto fail;
	}
	/* a Process Run Crate needs at least one action */
	if (json_object_get(root, "mentions")) {
		profile(g, RD_PROCESS_PROFILE, "Process Run Crate", "0.5");
		add_ref(root, "conformsTo", RD_PROCESS_PROFILE);
	}
	/* instruments named by the bundle itself */
	json_array_foreach(json_object_get(b, "asset_ids"), i, e)
		if (rd_get(r, "Asset", json_string_value(e), &asset) == 0)
			add_ref(root, "mentions", id_of(product(r, g, asset)));
	json_decref(runs);
	return 0;
fail:
	json_decref(runs);
	free(text);
	drop(g);
	return rc;
}

int rd_bundle_crate(struct rd *r, const json_t *b, json_t **out)
{
	struct graph g;
	int rc;

	*out = NULL;
	if ((rc = bundle_graph(r, b, &g)))
		return rc;
	if ((rc = expand_all(r, &g))) {
		drop(&g);
		return rc;
	}
	return finish(&g, out);
}

int rd_rocrate_to(struct rd *r, const char *stream_type, const json_t *state,
		  cora_write_fn write, void *arg)
{
	struct graph g;
	struct walk w;
	struct rd_jw jw;
	json_t *doc;
	int rc;

	rc = strcmp(stream_type, "Bundle") == 0 ?
	     bundle_graph(r, state, &g) : dataset_graph(r, state, &g);
	if (rc)
		return rc;
	doc = json_pack("{s:s, s:O}", "@context", RD_ROCRATE_CONTEXT,
			"@graph", g.list);
	walk_init(&w, r, &g);
	rd_jw_init(&jw, write, arg);
	jw.expand = expand;
	jw.ctx = &w;
	w.jw = &jw;
	if (!doc)
		rd_jw_fail(&jw, cora_error_set(CORA_ENOMEM, "out of memory"));
	rd_jw_value(&jw, doc, 0);
	rd_jw_raw(&jw, "\n", 1);
	rc = rd_jw_finish(&jw);
	walk_release(&w);
	json_decref(doc);
	drop(&g);
	return rc;
}

/*
 * preview.c: ro-crate-preview.html, the landing page of a bundle folder.
 *
 * The page is drawn from the bundle's crate (rd_bundle_crate()), so it
 * shows exactly what ro-crate-metadata.json says: title, identifier,
 * people, licence, runs, instruments, and each dataset with its files,
 * sizes and checksums.
 *
 * Self-contained: one HTML5 document, CSS inline in <style>, no
 * scripts, no external fonts or images.  Every piece of catalog text is
 * cleaned and escaped (rd_str_html()) and wrapped in <bdi>, so markup in
 * a title stays text and a right-to-left override in a name cannot
 * reorder the text around it.  Links are made only to http(s) URLs.
 */
#include "schema/render_int.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILES_SHOWN 1000

static const char style[] =
	"body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,"
	"sans-serif;margin:0;color:#1d2330;background:#f6f7f9;line-height:1.45}"
	"main{max-width:72rem;margin:0 auto;padding:1.5rem 2rem 3rem;"
	"background:#fff}"
	"h1{font-size:1.6rem;margin:.2rem 0 .6rem}"
	"h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d8dce3;"
	"padding-bottom:.2rem}"
	"h3{font-size:1rem;margin:1.4rem 0 .3rem}"
	".kind{color:#5b6475;font-size:.9rem;text-transform:uppercase;"
	"letter-spacing:.06em}"
	"dl{display:grid;grid-template-columns:max-content 1fr;"
	"gap:.25rem 1rem;margin:1rem 0}"
	"dt{font-weight:600;color:#3a4254}dd{margin:0}"
	"table{border-collapse:collapse;width:100%;font-size:.9rem;"
	"margin:.4rem 0 1rem}"
	"th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;"
	"border-bottom:1px solid #e4e7ec}"
	"th{background:#f0f2f5}"
	"td.num{text-align:right;white-space:nowrap}"
	"code{font-family:ui-monospace,\"SFMono-Regular\",Menlo,monospace;"
	"font-size:.8rem;word-break:break-all}"
	"a{color:#1f5fbf}"
	"footer{margin-top:2.5rem;color:#5b6475;font-size:.85rem}";

struct page {
	struct rd_str s;
	json_t *index;     /* @id -> entity */
};

static const json_t *get(struct page *p, const char *id)
{
	return id ? json_object_get(p->index, id) : NULL;
}

static const char *str(const json_t *e, const char *key)
{
	return cora_json_str(e, key);
}

/* The ids a property refers to, as an array (borrowed elements). */
static json_t *refs(const json_t *e, const char *key)
{
	const json_t *v = json_object_get(e, key), *x;
	json_t *out = json_array();
	size_t i;

	if (json_is_object(v) && str(v, "@id"))
		json_array_append_new(out, json_string(str(v, "@id")));
	else if (json_is_array(v))
		json_array_foreach(v, i, x)
			if (str(x, "@id"))
				json_array_append_new(out,
						      json_string(str(x, "@id")));
	return out;
}

static bool has_type(const json_t *e, const char *type)
{
	const json_t *t = json_object_get(e, "@type"), *x;
	size_t i;

	if (json_is_string(t))
		return strcmp(json_string_value(t), type) == 0;
	json_array_foreach(t, i, x)
		if (json_is_string(x) && strcmp(json_string_value(x), type) == 0)
			return true;
	return false;
}

static bool is_url(const char *s)
{
	return s && (strncmp(s, "https://", 8) == 0 ||
		     strncmp(s, "http://", 7) == 0);
}

/* User text: escaped and isolated. */
static void text(struct page *p, const char *t)
{
	rd_str_add(&p->s, "<bdi>");
	rd_str_html(&p->s, t ? t : "");
	rd_str_add(&p->s, "</bdi>");
}

static void link(struct page *p, const char *href, const char *t)
{
	if (!is_url(href)) {
		text(p, t ? t : href);
		return;
	}
	rd_str_add(&p->s, "<a href=\"");
	rd_str_html(&p->s, href);
	rd_str_add(&p->s, "\">");
	text(p, t ? t : href);
	rd_str_add(&p->s, "</a>");
}

/* The name of an entity, linked to its @id when that is a URL. */
static void named(struct page *p, const char *id)
{
	const json_t *e = get(p, id);

	link(p, id, e && str(e, "name") ? str(e, "name") : id);
}

static void named_list(struct page *p, const json_t *e, const char *key)
{
	json_t *ids = refs(e, key), *x;
	size_t i;

	json_array_foreach(ids, i, x) {
		if (i)
			rd_str_add(&p->s, ", ");
		named(p, json_string_value(x));
	}
	if (json_array_size(ids) == 0)
		rd_str_add(&p->s, "&ndash;");
	json_decref(ids);
}

static void human_size(struct page *p, long long bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB",
					     "PiB" };
	double v = (double)bytes;
	int u = -1;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		rd_str_addf(&p->s, "%lld B", bytes);
	else
		rd_str_addf(&p->s, "%.1f %s", v, units[u]);
}

/* ---- sections ------------------------------------------------------------ */

static void facts(struct page *p, const json_t *root)
{
	const char *cite = str(root, "cite-as");
	json_t *ids;

	rd_str_add(&p->s, "<dl>\n<dt>Identifier</dt><dd>");
	if (cite) {
		link(p, cite, cite);
	} else {
		text(p, str(root, "identifier"));
		rd_str_add(&p->s, " (no DOI yet)");
	}
	rd_str_add(&p->s, cite ? "</dd>\n<dt>Published</dt><dd>" :
		   "</dd>\n<dt>Date</dt><dd>");
	text(p, str(root, "datePublished"));
	if (!cite)
		rd_str_add(&p->s, " (not published yet)");
	rd_str_add(&p->s, "</dd>\n<dt>Creators</dt><dd>");
	named_list(p, root, "author");
	rd_str_add(&p->s, "</dd>\n<dt>Publisher</dt><dd>");
	named_list(p, root, "publisher");
	rd_str_add(&p->s, "</dd>\n<dt>Licence</dt><dd>");
	named_list(p, root, "license");
	ids = refs(root, "license");
	if (json_array_size(ids) &&
	    str(get(p, json_string_value(json_array_get(ids, 0))),
		"description")) {
		rd_str_add(&p->s, " &ndash; ");
		text(p, str(get(p, json_string_value(json_array_get(ids, 0))),
			    "description"));
	}
	json_decref(ids);
	rd_str_add(&p->s, "</dd>\n<dt>Conforms to</dt><dd>"
		   "<a href=\"https://w3id.org/ro/crate/1.2\">RO-Crate 1.2</a>");
	ids = refs(root, "conformsTo");
	if (json_array_size(ids)) {
		rd_str_add(&p->s, ", ");
		named_list(p, root, "conformsTo");
	}
	json_decref(ids);
	rd_str_add(&p->s, "</dd>\n</dl>\n");
}

static void status_cell(struct page *p, const json_t *act)
{
	json_t *ids = refs(act, "actionStatus");
	const char *s = json_string_value(json_array_get(ids, 0));
	const char *slash = s ? strrchr(s, '/') : NULL;
	char word[64];

	snprintf(word, sizeof(word), "%s", slash ? slash + 1 : "unknown");
	if (strstr(word, "ActionStatus"))
		*strstr(word, "ActionStatus") = '\0';
	text(p, word);
	if (str(act, "error")) {
		rd_str_add(&p->s, ": ");
		text(p, str(act, "error"));
	}
	json_decref(ids);
}

static void runs(struct page *p, const json_t *root)
{
	json_t *ids = refs(root, "mentions"), *x;
	const json_t *act;
	size_t i, n = 0;

	rd_str_add(&p->s, "<h2>Runs</h2>\n");
	json_array_foreach(ids, i, x) {
		act = get(p, json_string_value(x));
		if (!has_type(act, "CreateAction") &&
		    !has_type(act, "ActivateAction"))
			continue;
		if (n++ == 0)
			rd_str_add(&p->s, "<table>\n<thead><tr><th>Run</th>"
				   "<th>Status</th><th>Start</th><th>End</th>"
				   "<th>Agent</th><th>Instruments</th>"
				   "<th>Inputs</th><th>Results</th></tr>"
				   "</thead>\n<tbody>\n");
		rd_str_add(&p->s, "<tr><td>");
		text(p, str(act, "name"));
		if (str(act, "description")) {
			rd_str_add(&p->s, "<br><small>");
			text(p, str(act, "description"));
			rd_str_add(&p->s, "</small>");
		}
		rd_str_add(&p->s, "</td><td>");
		status_cell(p, act);
		rd_str_add(&p->s, "</td><td>");
		text(p, str(act, "startTime"));
		rd_str_add(&p->s, "</td><td>");
		text(p, str(act, "endTime"));
		rd_str_add(&p->s, "</td><td>");
		named_list(p, act, "agent");
		rd_str_add(&p->s, "</td><td>");
		named_list(p, act, "instrument");
		rd_str_add(&p->s, "</td><td>");
		named_list(p, act, "object");
		rd_str_add(&p->s, "</td><td>");
		named_list(p, act, "result");
		rd_str_add(&p->s, "</td></tr>\n");
	}
	if (n)
		rd_str_add(&p->s, "</tbody>\n</table>\n");
	else
		rd_str_add(&p->s, "<p>No runs are recorded for this "
			   "bundle.</p>\n");
	json_decref(ids);
}

static void instruments(struct page *p, const json_t *graph)
{
	const json_t *e;
	size_t i, n = 0;

	rd_str_add(&p->s, "<h2>Instruments</h2>\n");
	json_array_foreach(graph, i, e) {
		if (!has_type(e, "IndividualProduct"))
			continue;
		if (n++ == 0)
			rd_str_add(&p->s, "<table>\n<thead><tr><th>Name</th>"
				   "<th>Model</th><th>Manufacturer</th>"
				   "<th>Serial number</th><th>Identifier</th>"
				   "</tr></thead>\n<tbody>\n");
		rd_str_add(&p->s, "<tr><td>");
		text(p, str(e, "name"));
		rd_str_add(&p->s, "</td><td>");
		text(p, str(e, "model"));
		rd_str_add(&p->s, "</td><td>");
		named_list(p, e, "manufacturer");
		rd_str_add(&p->s, "</td><td>");
		text(p, str(e, "serialNumber"));
		rd_str_add(&p->s, "</td><td>");
		link(p, str(e, "@id"), str(e, "@id"));
		rd_str_add(&p->s, "</td></tr>\n");
	}
	if (n)
		rd_str_add(&p->s, "</tbody>\n</table>\n");
	else
		rd_str_add(&p->s, "<p>No instruments are recorded.</p>\n");
}

/* The files below a folder entity, depth first in hasPart order; a
 * file is shown by its path below the dataset's folder (names, not the
 * percent-encoded @id). */
static void file_rows(struct page *p, const json_t *folder, const char *dir,
		      size_t *shown, size_t *total, long long *bytes)
{
	json_t *ids = refs(folder, "hasPart"), *x;
	const json_t *e;
	const char *size;
	char *path;
	size_t i;

	json_array_foreach(ids, i, x) {
		e = get(p, json_string_value(x));
		if (!e)
			continue;
		if (asprintf(&path, "%s%s%s", dir, *dir ? "/" : "",
			     str(e, "name") ? str(e, "name") : "?") < 0) {
			p->s.oom = true;
			break;
		}
		if (has_type(e, "Dataset")) {
			file_rows(p, e, path, shown, total, bytes);
			free(path);
			continue;
		}
		size = str(e, "contentSize") ? str(e, "contentSize") : "0";
		(*total)++;
		*bytes += atoll(size);
		if ((*shown)++ < MAX_FILES_SHOWN) {
			rd_str_add(&p->s, "<tr><td>");
			text(p, path);
			rd_str_add(&p->s, "</td><td class=\"num\">");
			human_size(p, atoll(size));
			rd_str_add(&p->s, "</td><td><code>");
			text(p, str(e, "sha256"));
			rd_str_add(&p->s, "</code></td></tr>\n");
		}
		free(path);
	}
	json_decref(ids);
}

static void datasets(struct page *p, const json_t *root)
{
	json_t *ids = refs(root, "hasPart"), *x;
	const json_t *ds;
	size_t i, shown, total, n = 0;
	long long bytes;

	rd_str_add(&p->s, "<h2>Datasets</h2>\n");
	json_array_foreach(ids, i, x) {
		ds = get(p, json_string_value(x));
		if (!has_type(ds, "Dataset"))
			continue;
		n++;
		rd_str_add(&p->s, "<h3>");
		text(p, str(ds, "name"));
		rd_str_add(&p->s, " <small>(folder <code>");
		text(p, str(ds, "@id"));
		rd_str_add(&p->s, "</code>)</small></h3>\n<p>");
		text(p, str(ds, "description"));
		rd_str_add(&p->s, "</p>\n<table>\n<thead><tr><th>File</th>"
			   "<th>Size</th><th>SHA-256</th></tr></thead>\n"
			   "<tbody>\n");
		shown = total = 0;
		bytes = 0;
		file_rows(p, ds, "", &shown, &total, &bytes);
		rd_str_add(&p->s, "</tbody>\n</table>\n<p>");
		rd_str_addf(&p->s, "%zu %s, ", total,
			    total == 1 ? "file" : "files");
		human_size(p, bytes);
		rd_str_addf(&p->s, " (%lld bytes)", bytes);
		if (shown > MAX_FILES_SHOWN)
			rd_str_addf(&p->s, "; the first %d are listed, "
				    "ro-crate-metadata.json lists all",
				    MAX_FILES_SHOWN);
		rd_str_add(&p->s, ".</p>\n");
	}
	if (n == 0)
		rd_str_add(&p->s, "<p>This bundle holds no datasets yet.</p>\n");
	json_decref(ids);
}

int rd_preview(struct rd *r, const json_t *bundle, char **out, size_t *len)
{
	struct page p = { { 0 }, NULL };
	json_t *crate;
	const json_t *graph, *e, *root;
	size_t i;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = rd_bundle_crate(r, bundle, &crate)))
		return rc;
	graph = json_object_get(crate, "@graph");
	p.index = json_object();
	json_array_foreach(graph, i, e)
		json_object_set(p.index, str(e, "@id"), (json_t *)e);
	root = get(&p, "./");

	rd_str_add(&p.s, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		   "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
		   "content=\"width=device-width, initial-scale=1\">\n"
		   "<title>");
	rd_str_html(&p.s, str(root, "name"));
	rd_str_add(&p.s, "</title>\n<style>");
	rd_str_add(&p.s, style);
	rd_str_add(&p.s, "</style>\n</head>\n<body>\n<main>\n"
		   "<p class=\"kind\">Experiment bundle</p>\n<h1>");
	text(&p, str(root, "name"));
	rd_str_add(&p.s, "</h1>\n<p>");
	text(&p, str(root, "description"));
	rd_str_add(&p.s, "</p>\n");
	facts(&p, root);
	runs(&p, root);
	instruments(&p, graph);
	datasets(&p, root);
	rd_str_add(&p.s, "<footer>This page is generated by corafs from the "
		   "catalog. The machine-readable metadata is in "
		   "<code>ro-crate-metadata.json</code> (RO-Crate 1.2) and "
		   "<code>datacite.xml</code> (DataCite 4.6) in this folder."
		   "</footer>\n</main>\n</body>\n</html>\n");
	json_decref(p.index);
	json_decref(crate);
	return rd_str_take(&p.s, out, len);
}

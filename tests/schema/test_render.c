/*
 * test_render.c: the generated files (schema/render.h): datacite.xml,
 * pidinst.json, ro-crate-metadata.json and ro-crate-preview.html, rendered
 * from a real catalog built in a temporary folder.
 *
 * The catalog is a small 2-BM beamline (families, models, a tree of
 * assets with owners, serial numbers and persistent ids, runs that
 * complete and one that aborts, datasets with files in folders and
 * awkward names, acquisitions, a published bundle and an open one).  It
 * is built once per run of this program, before any other test, with
 * fixed ids (cora_command_with_id, person ids set in the table) and a
 * fake clock (CORA_FAKE_NOW), so every document is byte for byte the
 * same on every run: the golden files under tests/schema/golden/ are
 * compared exactly.  CORA_UPDATE_GOLDEN=1 rewrites them; CORA_TEST_KEEP=1
 * keeps the catalogs (for the offline validators of the standards
 * reference).
 *
 * Checks, none of which needs anything outside the repository:
 *  - every XML document is valid against schema/xsd/metadata.xsd
 *    (libxml2's schema API) and against extra-rules.sch, a copy of the
 *    Schematron rules of the standards reference (libxml2's engine);
 *  - every JSON document parses; every crate follows the RO-Crate 1.2
 *    rules checked in C below (descriptor, root, flattened graph, data
 *    entities reachable through hasPart, files that exist) and bundle
 *    crates the Process Run Crate 0.5 requirements;
 *  - rendering twice gives the same bytes; a crate rendered into a
 *    buffer, into a sink and only counted agrees, and is what jansson
 *    prints of it (the crate streams: schema/jsonw.c);
 *  - hostile text (markup, quotes, control characters, U+202E, emoji,
 *    U+FFFE) stays text and never makes a document invalid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/blobstore.h"
#include "core/catalog.h"
#include "core/command.h"
#include "core/error.h"
#include "core/person.h"
#include "core/projection.h"
#include "core/text.h"
#include "schema/render.h"
#include "schema/render_int.h"

#include <ctype.h>
#include <ftw.h>
#include <libxml/parser.h>
#include <libxml/schematron.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CORA_SOURCE_DIR
#error "CORA_SOURCE_DIR must name the source tree (tests/meson.build)"
#endif

#define XSD_PATH CORA_SOURCE_DIR "/schema/xsd/metadata.xsd"
#define SCH_PATH CORA_SOURCE_DIR "/tests/schema/extra-rules.sch"
#define GOLDEN_DIR CORA_SOURCE_DIR "/tests/schema/golden"

/* Fixed ids: uuid-shaped, readable. */
#define ID(n) "0190c0de-0000-7000-8000-0000000" n
#define A_ROOT ID("0a001")
#define A_PD ID("0a002")
#define A_HOUSING ID("0a003")
#define A_CAMERA ID("0a004")
#define A_SCINT ID("0a005")
#define A_ROTARY ID("0a006")
#define A_FILTER ID("0a007")
#define A_TIMING ID("0a008")
#define R_DARK ID("0b001")
#define R_RAW ID("0b002")
#define R_RECON ID("0b003")
#define R_BAD ID("0b004")
#define D_DARK ID("0d001")
#define D_RAW ID("0d002")
#define D_RECON ID("0d003")
#define D_BAD ID("0d004")
#define Q_DARK ID("0f001")
#define Q_RAW ID("0f002")
#define B_PUB ID("0e001")
#define B_OPEN ID("0e002")
#define P_CARBERRY ID("0c001")
#define P_OKAFOR ID("0c002")

#define CAMERA_DOI "10.5072/2bm-camera"
#define HOUSING_DOI "10.5072/2bm-housing"
#define BUNDLE_DOI "10.5072/catalyst-2026-1"

/* Hostile text: markup, quotes, C0 controls (some invalid in XML 1.0),
 * DEL, a tab, the right-to-left override, an emoji and U+FFFE. */
#define EVIL "<b>Evil</b> & \"quoted\" 'single' \x01\x02\x08\x0b\x0c\x1b" \
	     "\x7f tab\there \xe2\x80\xae RLO \xf0\x9f\xa7\xaa emoji " \
	     "\xef\xbf\xbe end"
/* The same in a file name (no '/'), with characters an @id must
 * percent-encode. */
#define EVIL_FILE "<i>Evil & \"q\" 'x' \x01\x1b\x7f \xe2\x80\xae RLO " \
		  "\xf0\x9f\xa7\xaa %20 #?:.h5"

static char *workdir;            /* temporary folder of this run */
static struct cora_catalog *cat; /* the 2-BM catalog */
static xmlSchemaPtr xsd;
static xmlSchematronPtr sch;

/* ---- building the catalog --------------------------------------------- */

/* JSON with single quotes (no value holds one), as cli/cmd_demo.c does. */
static json_t *j(const char *text)
{
	char *t = strdup(text), *c;
	json_error_t jerr;
	json_t *v;

	assert_non_null(t);
	for (c = t; *c; c++)
		if (*c == '\'')
			*c = '"';
	v = json_loads(t, 0, &jerr);
	if (!v)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	free(t);
	return v;
}

/* Runs a command (genesis with a fixed id when id is not NULL); takes
 * ownership of cmd. */
static void run(struct cora_catalog *c, const char *name, const char *target,
		const char *id, json_t *cmd)
{
	int rc = id ? cora_command_with_id(c, name, target, id, cmd, NULL) :
		      cora_command(c, name, target, cmd, NULL);

	if (rc)
		fail_msg("%s %s: %s", name, target ? target : (id ? id : ""),
			 cora_error_last());
	json_decref(cmd);
}

static void cmd(const char *name, const char *target, const char *id,
		const char *json)
{
	run(cat, name, target, id, j(json));
}

static void put_file(struct cora_catalog *c, const char *ds,
		     const char *path, const char *content, int64_t mtime_s)
{
	char sha[65];
	uint64_t size;

	assert_int_equal(cora_blob_put_buf(c->blobs, content, strlen(content),
					   NULL, sha, &size), 0);
	run(c, "dataset.put_file", ds, NULL,
	    json_pack("{s:s, s:s, s:I, s:i, s:I}", "path", path, "sha256", sha,
		      "size", (json_int_t)size, "mode", 0644, "mtime_ns",
		      (json_int_t)mtime_s * 1000000000));
}

static void add_folder(struct cora_catalog *c, const char *ds,
		       const char *path)
{
	run(c, "dataset.add_folder", ds, NULL,
	    json_pack("{s:s, s:i, s:I}", "path", path, "mode", 0755,
		      "mtime_ns", (json_int_t)1779267600 * 1000000000));
}

static void add_person(struct cora_catalog *c, const struct cora_person *p,
		       const char *fixed_id)
{
	char id[37], sql[256];

	assert_int_equal(cora_person_add(c, p, id), 0);
	snprintf(sql, sizeof(sql), "UPDATE persons SET id = '%s' WHERE id = "
		 "'%s'", fixed_id, id);
	assert_int_equal(sqlite3_exec(c->db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	if (flag == FTW_D || flag == FTW_DP)
		chmod(path, 0700);
	return remove(path);
}

static struct cora_catalog *new_catalog(const char *name)
{
	struct cora_create_opts o = { 0 };
	struct cora_catalog *c = NULL;
	char path[512];
	json_t *cfg;

	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	cfg = json_pack("{s:s, s:s, s:s, s:s}", "publisher", "aps",
			"publisher_name", "Advanced Photon Source",
			"publisher_ror", "https://ror.org/05gvnxz63",
			"doi_prefix", "10.5072");
	o.config = cfg;
	if (cora_catalog_create(path, &o) != 0)
		fail_msg("cannot create a catalog: %s", cora_error_last());
	json_decref(cfg);
	if (cora_catalog_open(&c, path, 0) != 0)
		fail_msg("cannot open the catalog: %s", cora_error_last());
	return c;
}

#define APS "{'name':'Advanced Photon Source','contact':'aps-ops@anl.gov'," \
	    "'identifier':'https://ror.org/05gvnxz63','identifier_type':'ROR'}"
#define AEROTECH "{'name':'Aerotech','identifier':'https://ror.org/04bw7nh07'," \
		 "'identifier_type':'ROR'}"

static void build_2bm(void)
{
	struct cora_person carberry = {
		.slug = "carberry", .name = "Josiah Carberry",
		.orcid = "0000-0002-1825-0097",
		.affiliation = "Argonne National Laboratory",
		.affiliation_ror = "https://ror.org/05gvnxz63",
	};
	struct cora_person okafor = {
		.slug = "okafor", .name = "Ada Okafor",
		.affiliation = "Argonne National Laboratory",
	};
	char principal[37];

	cat = new_catalog("2bm");
	snprintf(principal, sizeof(principal), "%s", cat->principal);
	add_person(cat, &carberry, P_CARBERRY);
	add_person(cat, &okafor, P_OKAFOR);

	cmd("family.define", NULL, NULL, "{'name':'RotaryStage','affordances':['Rotatable']}");
	cmd("family.define", NULL, NULL, "{'name':'LinearStage','affordances':['Translatable']}");
	cmd("family.define", NULL, NULL, "{'name':'Housing','affordances':['Identifiable']}");
	cmd("family.define", NULL, NULL, "{'name':'Camera','affordances':['Capturing','Imageable']}");
	cmd("family.define", NULL, NULL, "{'name':'Scintillator','affordances':['Identifiable']}");
	cmd("family.define", NULL, NULL, "{'name':'Filter','affordances':['Translatable']}");
	cmd("family.define", NULL, NULL, "{'name':'TimingController','affordances':['Triggerable']}");
	cmd("model.define", NULL, NULL, "{'slug':'ABRS-250MP-M-AS','name':'ABRS-250MP air-bearing rotary stage','manufacturer':" AEROTECH ",'part_number':'ABRS-250MP-M-AS','families':['RotaryStage']}");
	cmd("model.define", NULL, NULL, "{'slug':'PRO225SL-1000','name':'PRO225SL linear stage','manufacturer':" AEROTECH ",'part_number':'PRO225SL-1000','families':['LinearStage']}");
	cmd("model.define", NULL, NULL, "{'slug':'MICRX080','name':'Optique Peter microscope','manufacturer':{'name':'Optique Peter'},'part_number':'MICRX080','families':['Housing']}");
	cmd("model.define", NULL, NULL, "{'slug':'ORX-10G-51S5M-C','name':'Oryx 10GigE 5.0 MP','manufacturer':{'name':'FLIR'},'part_number':'ORX-10G-51S5M-C','families':['Camera']}");
	cmd("model.define", NULL, NULL, "{'slug':'LuAG-Ce-100um','name':'LuAG:Ce scintillator, 100 um','manufacturer':{'name':'Crytur'},'part_number':'LuAG:Ce-100um','families':['Scintillator']}");

	cmd("asset.register", NULL, A_ROOT, "{'slug':'2-BM','name':'2-BM','tier':'Unit','facility_code':'aps','owners':[" APS "]}");
	cmd("asset.register", NULL, A_PD, "{'slug':'PropagationDistance','name':'PropagationDistance','tier':'Device','parent':'2-BM','model':'PRO225SL-1000','families':['LinearStage'],'owners':[" APS "],'alternate_identifiers':[{'kind':'Other','value':'2bmbAERO:m1'}]}");
	cmd("asset.register", NULL, A_HOUSING, "{'slug':'Housing','name':'Housing','tier':'Component','parent':'PropagationDistance','model':'MICRX080','families':['Housing'],'owners':[" APS "],'drawing':{'system':'EDMS','number':'MAN-11863','revision':'0521-0465-A'}}");
	cmd("asset.register", NULL, A_CAMERA, "{'slug':'Camera','name':'Camera','tier':'Device','parent':'Housing','model':'ORX-10G-51S5M-C','families':['Camera'],'owners':[" APS "],'alternate_identifiers':[{'kind':'SerialNumber','value':'19173710'},{'kind':'InventoryNumber','value':'APS-000123'}]}");
	cmd("asset.register", NULL, A_SCINT, "{'slug':'Scintillator','name':'Scintillator','tier':'Device','parent':'Housing','model':'LuAG-Ce-100um','families':['Scintillator'],'owners':[" APS "]}");
	cmd("asset.register", NULL, A_ROTARY, "{'slug':'Rotary','name':'Rotary','tier':'Device','parent':'2-BM','model':'ABRS-250MP-M-AS','families':['RotaryStage'],'owners':[" APS "],'alternate_identifiers':[{'kind':'SerialNumber','value':'146853-A-1-1-X'}]}");
	cmd("asset.register", NULL, A_FILTER, "{'slug':'Filter_FoilSelector_Downstream','name':'Filter_FoilSelector_Downstream','tier':'Device','parent':'2-BM','families':['Filter'],'owners':[" APS "]}");
	cmd("asset.register", NULL, A_TIMING, "{'slug':'Timing','name':'Timing','tier':'Device','parent':'2-BM','families':['TimingController']}");
	cmd("asset.activate", "Camera", NULL, "{}");
	cmd("asset.fault", "Filter_FoilSelector_Downstream", NULL, "{'reason':'m18 failed: paddle does not move'}");
	cmd("asset.assign_persistent_id", "Camera", NULL, "{'scheme':'DOI','value':'" CAMERA_DOI "'}");
	cmd("asset.assign_persistent_id", "Housing", NULL, "{'scheme':'DOI','value':'" HOUSING_DOI "'}");
	cmd("asset.assign_persistent_id", "PropagationDistance", NULL, "{'scheme':'Handle','value':'20.500.12345/2bm-pd'}");
	cmd("asset.decommission", "Timing", NULL, "{}");

	cmd("run.start", NULL, R_DARK, "{'slug':'dark-2026-05-19','name':'Dark field','assets':['Camera']}");
	cmd("run.complete", "dark-2026-05-19", NULL, "{}");
	/* the raw scan is run and registered by Josiah Carberry */
	cora_catalog_set_principal(cat, P_CARBERRY);
	cmd("run.start", NULL, R_RAW, "{'slug':'run-2026-05-19-007','name':'2-BM continuous-rotation acquisition','override_parameters':{'rotation_speed_deg_per_s':0.5},'trigger_source':'operator:opid:42','external_refs':[{'scheme':'proposal','value':'GUP-1234'}],'assets':['Camera','Rotary','Scintillator']}");
	cmd("dataset.register", NULL, D_RAW, "{'slug':'pellet-b12-raw','name':'Catalyst pellet B-12, raw projections','media_type':'application/x-hdf5','conforms_to':['https://manual.nexusformat.org/classes/applications/NXtomo'],'producing_run':'run-2026-05-19-007'}");
	cora_catalog_set_principal(cat, principal);
	cmd("dataset.register", NULL, D_DARK, "{'slug':'darkfield-cal','name':'DarkField-cal','media_type':'application/x-hdf5','producing_run':'dark-2026-05-19'}");
	put_file(cat, D_DARK, "dark.h5", "\x89HDF dark field frames", 1779198000);
	put_file(cat, D_RAW, "projections.h5", "\x89HDF raw projections", 1779201000);
	add_folder(cat, D_RAW, "meta");
	put_file(cat, D_RAW, "meta/notes one.txt", "operator notes\n", 1779201000);
	put_file(cat, D_RAW, "meta/50%.json", "{\"done\": 0.5}\n", 1779201000);
	put_file(cat, D_RAW, "meta/scan:1#?.xml", "<scan/>\n", 1779201000);
	cmd("run.complete", "run-2026-05-19-007", NULL, "{}");
	cmd("acquisition.record", NULL, Q_RAW, "{'dataset':'pellet-b12-raw','asset':'Camera','run':'run-2026-05-19-007','captured_at':'2026-05-19T14:03:22Z','settings':{'exposure_ms':50,'frames':1500}}");
	cmd("acquisition.record", NULL, Q_DARK, "{'dataset':'darkfield-cal','asset':'Camera','run':'dark-2026-05-19','captured_at':'2026-05-19T13:40:00Z','settings':{'exposure_ms':50,'frames':20}}");
	cmd("dataset.promote", "darkfield-cal", NULL, "{'reason':'dark field checked'}");
	cmd("dataset.promote", "pellet-b12-raw", NULL, "{'reason':'projections complete'}");

	cmd("run.start", NULL, R_RECON, "{'slug':'recon-2026-05-20-sirt','name':'SIRT reconstruction chain','trigger_source':'tomocupy on polaris'}");
	cmd("dataset.register", NULL, D_RECON, "{'slug':'recon-sirt','name':'SIRT reconstruction of pellet B-12','media_type':'image/tiff','producing_run':'recon-2026-05-20-sirt','derived_from':['pellet-b12-raw','darkfield-cal']}");
	add_folder(cat, D_RECON, "slices");
	put_file(cat, D_RECON, "slices/recon_00000.tiff", "II*\0slice 0", 1779267600);
	put_file(cat, D_RECON, "slices/recon_00001.tiff", "II*\0slice 1", 1779267600);
	cmd("run.complete", "recon-2026-05-20-sirt", NULL, "{}");
	cmd("run.start", NULL, R_BAD, "{'slug':'scan-aborted','name':'Aborted scan','assets':['Camera']}");
	cmd("dataset.register", NULL, D_BAD, "{'slug':'scan-aborted-data','name':'Partial projections of an aborted scan','media_type':'application/x-hdf5','producing_run':'scan-aborted'}");
	put_file(cat, D_BAD, "partial.h5", "\x89HDF partial", 1779270000);
	cmd("run.abort", "scan-aborted", NULL, "{'reason':'beam lost'}");

	cmd("bundle.create", NULL, B_PUB, "{'slug':'catalyst-2026-1','title':'Catalyst degradation series, beamtime 2026-1','license':'CC-BY-4.0','creators':['" P_CARBERRY "','" P_OKAFOR "'],'publisher':'aps'}");
	cmd("bundle.add_dataset", "catalyst-2026-1", NULL, "{'dataset':'pellet-b12-raw'}");
	cmd("bundle.add_dataset", "catalyst-2026-1", NULL, "{'dataset':'darkfield-cal'}");
	cmd("bundle.add_run", "catalyst-2026-1", NULL, "{'run':'run-2026-05-19-007'}");
	cmd("bundle.add_run", "catalyst-2026-1", NULL, "{'run':'dark-2026-05-19'}");
	cmd("bundle.add_asset", "catalyst-2026-1", NULL, "{'asset':'Rotary'}");
	cmd("bundle.seal", "catalyst-2026-1", NULL, "{'year':2026}");
	cmd("bundle.publish", "catalyst-2026-1", NULL, "{'doi':'" BUNDLE_DOI "'}");
	cmd("bundle.create", NULL, B_OPEN, "{'slug':'recon-review','title':'SIRT reconstruction of pellet B-12, for review','creators':['" P_OKAFOR "'],'publisher':'aps'}");
	cmd("bundle.add_dataset", "recon-review", NULL, "{'dataset':'recon-sirt'}");
	cmd("bundle.add_dataset", "recon-review", NULL, "{'dataset':'scan-aborted-data'}");
}

static int group_setup(void **state)
{
	char tmpl[] = "/tmp/cora-test-render-XXXXXX";
	const char *dir;

	/* before anything reads the clock */
	setenv("CORA_FAKE_NOW", "2026-05-19T14:05:00Z", 1);
	dir = mkdtemp(tmpl);
	if (!dir)
		return -1;
	workdir = strdup(dir);
	xmlInitParser();
	{
		xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(XSD_PATH);
		xsd = pc ? xmlSchemaParse(pc) : NULL;
		xmlSchemaFreeParserCtxt(pc);
	}
	{
		xmlSchematronParserCtxtPtr pc =
			xmlSchematronNewParserCtxt(SCH_PATH);
		sch = pc ? xmlSchematronParse(pc) : NULL;
		xmlSchematronFreeParserCtxt(pc);
	}
	if (!xsd || !sch) {
		fprintf(stderr, "cannot load %s or %s\n", XSD_PATH, SCH_PATH);
		return -1;
	}
	build_2bm();
	return 0;
}

static int group_teardown(void **state)
{
	cora_catalog_free(cat);
	cat = NULL;
	if (workdir && getenv("CORA_TEST_KEEP"))
		fprintf(stderr, "catalogs kept in %s\n", workdir);
	else if (workdir)
		nftw(workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(workdir);
	xmlSchemaFree(xsd);
	xmlSchematronFree(sch);
	xmlCleanupParser();
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

/* A rendered document, NUL-terminated. */
struct doc {
	char *buf;
	size_t len;
};

static int render(struct cora_catalog *c, enum cora_doc_kind kind,
		  const char *id, struct doc *d)
{
	char *out = NULL;
	size_t len = 0;
	int rc = cora_render(c, kind, id, &out, &len);

	d->buf = NULL;
	d->len = 0;
	if (rc)
		return rc;
	d->buf = malloc(len + 1);
	assert_non_null(d->buf);
	memcpy(d->buf, out, len);
	d->buf[len] = '\0';
	d->len = len;
	free(out);
	assert_int_equal(strlen(d->buf), len);  /* no NUL inside */
	return 0;
}

static void must_render(struct cora_catalog *c, enum cora_doc_kind kind,
			const char *id, struct doc *d)
{
	if (render(c, kind, id, d) != 0)
		fail_msg("cannot render %s of %s: %s", cora_doc_name(kind), id,
			 cora_error_last());
}

/* No code point XML 1.0 forbids, and valid UTF-8 throughout. */
static void assert_xml_chars(const char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		k = cora_utf8_decode(s + i, n - i, &cp);
		if (k == 0)
			fail_msg("invalid UTF-8 at byte %zu", i);
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
		    cp == 0xfffe || cp == 0xffff)
			fail_msg("character U+%04X at byte %zu", cp, i);
		i += k;
	}
}

/* Parses and validates a datacite.xml; returns the document. */
static xmlDocPtr check_datacite(const struct doc *d, const char *what)
{
	xmlSchemaValidCtxtPtr v;
	xmlSchematronValidCtxtPtr sv;
	xmlDocPtr x;
	int rc;

	assert_xml_chars(d->buf, d->len);
	assert_non_null(strstr(d->buf, "xsi:schemaLocation=\"http://datacite.org/"
			       "schema/kernel-4 https://schema.datacite.org/"
			       "meta/kernel-4.6/metadata.xsd\""));
	x = xmlReadMemory(d->buf, (int)d->len, "datacite.xml", NULL,
			  XML_PARSE_NONET);
	if (!x)
		fail_msg("%s: datacite.xml is not well-formed XML", what);
	v = xmlSchemaNewValidCtxt(xsd);
	rc = xmlSchemaValidateDoc(v, x);
	xmlSchemaFreeValidCtxt(v);
	if (rc != 0)
		fail_msg("%s: datacite.xml is not valid against the 4.6 XSD "
			 "(%d):\n%s", what, rc, d->buf);
	sv = xmlSchematronNewValidCtxt(sch, XML_SCHEMATRON_OUT_QUIET);
	rc = xmlSchematronValidateDoc(sv, x);
	xmlSchematronFreeValidCtxt(sv);
	if (rc != 0)
		fail_msg("%s: datacite.xml breaks %d extra rules:\n%s", what, rc,
			 d->buf);
	return x;
}

/* The string values an XPath (with prefix dc) selects, joined by '\n'. */
static char *xpath(xmlDocPtr x, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(x);
	xmlXPathObjectPtr o;
	size_t cap = 1, len = 0;
	char *out = calloc(1, 1);
	int i;

	xmlXPathRegisterNs(ctx, BAD_CAST "dc",
			   BAD_CAST "http://datacite.org/schema/kernel-4");
	o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	assert_non_null(o);
	for (i = 0; o->nodesetval && i < o->nodesetval->nodeNr; i++) {
		xmlChar *c = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
		size_t n = strlen((const char *)c);
		out = realloc(out, cap + len + n + 1);
		cap += n + 1;
		if (len)
			out[len++] = '\n';
		memcpy(out + len, c, n);
		len += n;
		out[len] = '\0';
		xmlFree(c);
	}
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return out;
}

static void assert_xpath(xmlDocPtr x, const char *expr, const char *want)
{
	char *got = xpath(x, expr);

	if (strcmp(got, want) != 0)
		fail_msg("%s:\n  got  '%s'\n  want '%s'", expr, got, want);
	free(got);
}

/* ---- RO-Crate rules --------------------------------------------------- */

static const char *sget(const json_t *e, const char *k)
{
	return json_string_value(json_object_get(e, k));
}

static bool has_type(const json_t *e, const char *type)
{
	const json_t *t = json_object_get(e, "@type"), *x;
	size_t i;

	if (json_is_string(t))
		return strcmp(json_string_value(t), type) == 0;
	json_array_foreach(t, i, x)
		if (strcmp(json_string_value(x), type) == 0)
			return true;
	return false;
}

/* The @ids a property refers to; fails on anything but references. */
static json_t *ids_of(const json_t *e, const char *k)
{
	const json_t *v = json_object_get(e, k), *x;
	json_t *out = json_array();
	size_t i;

	if (!v)
		return out;
	if (json_is_object(v)) {
		assert_int_equal(json_object_size(v), 1);
		assert_non_null(sget(v, "@id"));
		json_array_append_new(out, json_string(sget(v, "@id")));
		return out;
	}
	assert_true(json_is_array(v));
	assert_true(json_array_size(v) > 1);  /* single values unwrapped */
	json_array_foreach(v, i, x) {
		assert_true(json_is_object(x));
		assert_int_equal(json_object_size(x), 1);
		json_array_append_new(out, json_string(sget(x, "@id")));
	}
	return out;
}

static bool ids_have(const json_t *ids, const char *id)
{
	const json_t *x;
	size_t i;

	json_array_foreach(ids, i, x)
		if (strcmp(json_string_value(x), id) == 0)
			return true;
	return false;
}

static bool is_date(const char *s)
{
	int i;

	if (!s || strlen(s) != 10)
		return false;
	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return false;
	return true;
}

/* Percent-decoding of an @id path. */
static char *pct_decode(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	unsigned v;

	for (; *s; s++) {
		if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1) {
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

/* A relative @id path must be a valid URI reference: nothing RFC 3986
 * leaves out of paths, '%' only as an escape, no leading '/'. */
static void assert_uri_path(const char *id)
{
	const unsigned char *p = (const unsigned char *)id;

	assert_true(id[0] != '/');
	for (; *p; p++) {
		if (*p == '%') {
			assert_true(isxdigit(p[1]) && isxdigit(p[2]));
			continue;
		}
		if (*p < 0x80 && !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "abcdefghijklmnopqrstuvwxyz0123456789"
					  "-._~!$&'()*+,;=/@", *p))
			fail_msg("@id '%s' holds a raw '%c'", id, *p);
	}
	assert_null(strchr(id, ':'));   /* would read as a scheme */
}

/* The RO-Crate 1.2 rules; returns the index @id -> entity (new ref).
 * dataset_ids: the datasets whose files the crate lists (with their
 * folder prefix in the crate: "" or "<slug>/"). */
static json_t *check_crate(const struct doc *d, const char *what,
			   const json_t *folders)
{
	json_error_t jerr;
	json_t *doc = json_loads(d->buf, 0, &jerr), *index, *reach, *queue,
	       *ids, *x;
	const json_t *graph, *e, *desc, *root, *lic, *v;
	const char *key;
	size_t i, k;

	if (!doc)
		fail_msg("%s: not JSON: %s", what, jerr.text);
	assert_int_equal(json_object_size(doc), 2);
	assert_string_equal(sget(doc, "@context"),
			    "https://w3id.org/ro/crate/1.2/context");
	graph = json_object_get(doc, "@graph");
	assert_true(json_is_array(graph));
	index = json_object();
	json_array_foreach(graph, i, e) {
		const char *id = sget(e, "@id");
		if (!id)
			fail_msg("%s: an entity without @id", what);
		if (json_object_get(index, id))
			fail_msg("%s: @id '%s' twice", what, id);
		assert_non_null(json_object_get(e, "@type"));
		json_object_foreach((json_t *)e, key, v) {
			if (json_is_object(v))
				assert_int_equal(json_object_size(v), 1);
			if (json_is_array(v))
				json_array_foreach(v, k, x)
					if (json_is_object(x))
						assert_int_equal(
							json_object_size(x), 1);
		}
		json_object_set(index, id, (json_t *)e);
	}
	/* descriptor */
	desc = json_object_get(index, "ro-crate-metadata.json");
	assert_non_null(desc);
	assert_true(has_type(desc, "CreativeWork"));
	assert_string_equal(sget(json_object_get(desc, "about"), "@id"), "./");
	assert_string_equal(sget(json_object_get(desc, "conformsTo"), "@id"),
			    "https://w3id.org/ro/crate/1.2");
	/* root */
	root = json_object_get(index, "./");
	assert_non_null(root);
	assert_true(has_type(root, "Dataset"));
	assert_true(sget(root, "name") && *sget(root, "name"));
	assert_true(sget(root, "description") && *sget(root, "description"));
	assert_true(is_date(sget(root, "datePublished")));
	ids = ids_of(root, "license");
	assert_int_equal(json_array_size(ids), 1);
	lic = json_object_get(index, json_string_value(json_array_get(ids, 0)));
	assert_non_null(lic);
	assert_non_null(sget(lic, "name"));
	assert_non_null(sget(lic, "description"));
	json_decref(ids);
	/* every reference to a local or relative id is described */
	json_array_foreach(graph, i, e) {
		json_object_foreach((json_t *)e, key, v) {
			if (key[0] == '@' || (!json_is_object(v) &&
					      !json_is_array(v)))
				continue;
			if (strcmp(sget(e, "@id"), "ro-crate-metadata.json") == 0)
				continue;
			ids = ids_of(e, key);
			json_array_foreach(ids, k, x) {
				const char *rid = json_string_value(x);
				if (!strstr(rid, "://") &&
				    strncmp(rid, "urn:", 4) != 0 &&
				    !json_object_get(index, rid))
					fail_msg("%s: %s.%s -> '%s' is not "
						 "described", what,
						 sget(e, "@id"), key, rid);
			}
			json_decref(ids);
		}
	}
	/* reachability through hasPart; metadata and preview never parts */
	reach = json_object();
	queue = json_array();
	json_array_append_new(queue, json_string("./"));
	for (i = 0; i < json_array_size(queue); i++) {
		e = json_object_get(index,
				    json_string_value(json_array_get(queue, i)));
		ids = ids_of(e, "hasPart");
		json_array_foreach(ids, k, x) {
			const char *pid = json_string_value(x);
			assert_string_not_equal(pid, "ro-crate-metadata.json");
			assert_string_not_equal(pid, "ro-crate-preview.html");
			if (!json_object_get(reach, pid)) {
				json_object_set_new(reach, pid, json_true());
				json_array_append_new(queue, json_string(pid));
			}
		}
		json_decref(ids);
	}
	json_decref(queue);
	json_array_foreach(graph, i, e) {
		const char *id = sget(e, "@id");
		if (strcmp(id, "./") == 0 || id[0] == '#' ||
		    strcmp(id, "ro-crate-metadata.json") == 0 ||
		    strstr(id, "://") || strncmp(id, "urn:", 4) == 0)
			continue;
		if (!has_type(e, "File") && !has_type(e, "Dataset"))
			continue;
		assert_uri_path(id);
		if (!json_object_get(reach, id))
			fail_msg("%s: data entity '%s' is not reachable by "
				 "hasPart", what, id);
		if (has_type(e, "Dataset"))
			assert_int_equal(id[strlen(id) - 1], '/');
		if (has_type(e, "File") && strcmp(id, "datacite.xml") != 0) {
			/* a file of one of the datasets, at that path */
			const char *dsid, *prefix;
			struct cora_node_info info;
			bool found = false;
			json_object_foreach((json_t *)folders, dsid, x) {
				prefix = json_string_value(x);
				if (strncmp(id, prefix, strlen(prefix)) != 0)
					continue;
				char *path = pct_decode(id + strlen(prefix));
				found = cora_node_get(cat, dsid, path,
						      &info) == 0 &&
					info.type == 'f';
				if (found) {
					char size[32];
					snprintf(size, sizeof(size), "%lld",
						 (long long)info.size);
					assert_string_equal(
						sget(e, "contentSize"), size);
					assert_string_equal(sget(e, "sha256"),
							    info.sha256);
				}
				free(path);
				if (found)
					break;
			}
			if (!found)
				fail_msg("%s: File '%s' is no file of the "
					 "crate's datasets", what, id);
			assert_non_null(sget(e, "encodingFormat"));
			assert_non_null(sget(e, "dateModified"));
		}
	}
	json_decref(reach);
	json_decref(doc);
	return index;
}

/* Number of regular files of a dataset. */
static size_t file_count(const char *dsid)
{
	sqlite3_stmt *s;
	size_t n = 0;

	assert_int_equal(sqlite3_prepare_v2(cat->db,
		"WITH RECURSIVE t(ino, type) AS (SELECT ino, type FROM nodes"
		" WHERE parent = (SELECT ino FROM nodes WHERE parent = 0 AND"
		" name = ?1) UNION ALL SELECT n.ino, n.type FROM nodes n JOIN"
		" t ON n.parent = t.ino) SELECT count(*) FROM t WHERE type = 'f'",
		-1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, dsid, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (size_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static size_t count_type(const json_t *index, const char *type)
{
	const char *k;
	json_t *e;
	size_t n = 0;

	json_object_foreach((json_t *)index, k, e)
		if (has_type(e, type) && strcmp(k, "datacite.xml") != 0)
			n++;
	return n;
}

/* Process Run Crate 0.5 (the MUSTs and the SHOULDs we promise). */
static void check_process_run(const json_t *index, const char *what)
{
	const json_t *root = json_object_get(index, "./"), *e, *x, *p;
	json_t *ids, *mentions, *list;
	const char *k;
	size_t i, actions = 0;

	ids = ids_of(root, "conformsTo");
	assert_true(ids_have(ids, "https://w3id.org/ro/wfrun/process/0.5"));
	json_decref(ids);
	p = json_object_get(index, "https://w3id.org/ro/wfrun/process/0.5");
	assert_non_null(p);
	assert_true(has_type(p, "Profile"));
	assert_true(has_type(p, "CreativeWork"));
	mentions = ids_of(root, "mentions");
	json_object_foreach((json_t *)index, k, e) {
		if (!has_type(e, "CreateAction") &&
		    !has_type(e, "ActivateAction"))
			continue;
		actions++;
		assert_true(ids_have(mentions, k));
		assert_non_null(sget(e, "name"));
		assert_non_null(sget(e, "startTime"));
		assert_non_null(sget(e, "endTime"));
		list = ids_of(e, "instrument");
		assert_true(json_array_size(list) > 0);
		json_array_foreach(list, i, x)
			assert_non_null(json_object_get(index,
							json_string_value(x)));
		json_decref(list);
		list = ids_of(e, "agent");
		assert_int_equal(json_array_size(list), 1);
		x = json_object_get(index,
				    json_string_value(json_array_get(list, 0)));
		assert_true(has_type(x, "Person") || has_type(x, "Organization"));
		json_decref(list);
		if (has_type(e, "CreateAction")) {
			list = ids_of(e, "result");
			assert_true(json_array_size(list) > 0);
			json_decref(list);
		}
		if (!sget(e, "error")) {
			assert_string_equal(sget(json_object_get(e,
				"actionStatus"), "@id"),
				"http://schema.org/CompletedActionStatus");
		} else {
			assert_string_equal(sget(json_object_get(e,
				"actionStatus"), "@id"),
				"http://schema.org/FailedActionStatus");
		}
	}
	json_decref(mentions);
	if (actions == 0)
		fail_msg("%s: no CreateAction", what);
}

/* ---- the tests --------------------------------------------------------- */

/* Every document of every asset, dataset and bundle is valid. */
static void test_render__every_document_is_valid(void **state)
{
	static const char *const types[] = { "Asset", "Dataset", "Bundle" };
	sqlite3_stmt *s;
	struct doc d;
	size_t t;
	int kind, n = 0;

	for (t = 0; t < 3; t++) {
		assert_int_equal(sqlite3_prepare_v2(cat->db,
			"SELECT stream_id, state FROM entities"
			" WHERE stream_type = ?1 ORDER BY stream_id", -1, &s,
			NULL), SQLITE_OK);
		sqlite3_bind_text(s, 1, types[t], -1, SQLITE_STATIC);
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *id = (const char *)sqlite3_column_text(s, 0);
			char what[128];
			json_t *st = json_loads((const char *)
				sqlite3_column_text(s, 1), 0, NULL);
			for (kind = CORA_DOC_DATACITE; kind <= CORA_DOC_PREVIEW;
			     kind++) {
				int rc = render(cat, (enum cora_doc_kind)kind,
						id, &d);
				snprintf(what, sizeof(what), "%s %s %s",
					 types[t], sget(st, "slug"),
					 cora_doc_name(kind));
				if (rc == CORA_ENOTFOUND)
					continue;
				if (rc)
					fail_msg("%s: %s", what,
						 cora_error_last());
				n++;
				if (kind == CORA_DOC_DATACITE) {
					xmlFreeDoc(check_datacite(&d, what));
				} else if (kind == CORA_DOC_ROCRATE) {
					json_t *folders = json_object(), *ix;
					if (t == 1) {
						json_object_set_new(folders, id,
							json_string(""));
					} else {
						const json_t *x;
						size_t i;
						json_array_foreach(
						    json_object_get(st,
						    "dataset_ids"), i, x) {
							json_t *ds;
							char pre[160];
							cora_entity_get(cat,
							    NULL,
							    json_string_value(x),
							    &ds, NULL, NULL);
							snprintf(pre,
							    sizeof(pre), "%s/",
							    sget(ds, "slug"));
							json_object_set_new(
							    folders,
							    json_string_value(x),
							    json_string(pre));
							json_decref(ds);
						}
					}
					ix = check_crate(&d, what, folders);
					if (t == 2)
						check_process_run(ix, what);
					json_decref(ix);
					json_decref(folders);
				} else if (kind == CORA_DOC_PIDINST) {
					json_t *v = json_loads(d.buf, 0, NULL);
					assert_non_null(v);
					json_decref(v);
				} else {
					assert_xml_chars(d.buf, d.len);
				}
				free(d.buf);
			}
			json_decref(st);
		}
		sqlite3_finalize(s);
	}
	/* 8 assets x 2, 4 datasets x 2, 2 bundles x 3 */
	assert_int_equal(n, 8 * 2 + 4 * 2 + 2 * 3);
}

static void test_render__same_state_same_bytes(void **state)
{
	static const struct {
		enum cora_doc_kind kind;
		const char *id;
	} docs[] = {
		{ CORA_DOC_DATACITE, A_CAMERA }, { CORA_DOC_PIDINST, A_CAMERA },
		{ CORA_DOC_DATACITE, D_RAW }, { CORA_DOC_ROCRATE, D_RAW },
		{ CORA_DOC_DATACITE, B_PUB }, { CORA_DOC_ROCRATE, B_PUB },
		{ CORA_DOC_PREVIEW, B_PUB }, { CORA_DOC_ROCRATE, B_OPEN },
	};
	struct cora_catalog *again = NULL;
	struct doc a, b, c;
	size_t i;

	/* a second connection, as another thread of the daemon has */
	assert_int_equal(cora_catalog_open(&again, cat->root,
					   CORA_OPEN_READONLY), 0);
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		must_render(cat, docs[i].kind, docs[i].id, &a);
		must_render(cat, docs[i].kind, docs[i].id, &b);
		must_render(again, docs[i].kind, docs[i].id, &c);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.buf, b.buf, a.len);
		assert_int_equal(a.len, c.len);
		assert_memory_equal(a.buf, c.buf, a.len);
		free(a.buf);
		free(b.buf);
		free(c.buf);
	}
	cora_catalog_free(again);
}

static void test_render__wrong_document_is_not_found(void **state)
{
	char *out = (char *)1;
	size_t len = 1;

	assert_int_equal(cora_render(cat, CORA_DOC_ROCRATE, A_CAMERA, &out,
				     &len), CORA_ENOTFOUND);
	assert_null(out);
	assert_int_equal(len, 0);
	assert_int_equal(cora_render(cat, CORA_DOC_PIDINST, D_RAW, &out, &len),
			 CORA_ENOTFOUND);
	assert_int_equal(cora_render(cat, CORA_DOC_PREVIEW, D_RAW, &out, &len),
			 CORA_ENOTFOUND);
	assert_int_equal(cora_render(cat, CORA_DOC_DATACITE, R_RAW, &out, &len),
			 CORA_ENOTFOUND);
	assert_int_equal(cora_render(cat, CORA_DOC_DATACITE,
				     ID("99999"), &out, &len), CORA_ENOTFOUND);
	/* a slug names the entity too, when it names only one */
	assert_int_equal(cora_render(cat, CORA_DOC_DATACITE, "pellet-b12-raw",
				     &out, &len), 0);
	free(out);
	assert_int_equal(cora_render(cat, CORA_DOC_DATACITE, "Camera", &out,
				     &len), CORA_ENOTFOUND);  /* and a family */
	assert_string_equal(cora_doc_name(CORA_DOC_PREVIEW),
			    "ro-crate-preview.html");
}

static void test_datacite__asset_follows_the_pidinst_mapping(void **state)
{
	struct doc d;
	xmlDocPtr x;

	must_render(cat, CORA_DOC_DATACITE, A_CAMERA, &d);
	x = check_datacite(&d, "Camera");
	assert_xpath(x, "/dc:resource/dc:identifier", CAMERA_DOI);
	assert_xpath(x, "//dc:resourceType[@resourceTypeGeneral='Instrument']",
		     "Camera");
	assert_xpath(x, "//dc:creator/dc:creatorName[@nameType="
		     "'Organizational']", "FLIR");
	assert_xpath(x, "//dc:contributor[@contributorType="
		     "'HostingInstitution']/dc:contributorName",
		     "Advanced Photon Source");
	assert_xpath(x, "//dc:contributor/dc:nameIdentifier"
		     "[@nameIdentifierScheme='ROR']", "https://ror.org/05gvnxz63");
	assert_xpath(x, "//dc:subject[@subjectScheme='CORA Family']"
		     "[@valueURI='urn:cora:family:"
		     "28608285-97cb-57ec-a20d-09c33a0dba33']", "Camera");
	assert_xpath(x, "//dc:description[@descriptionType='TechnicalInfo']"
		     "[starts-with(., 'Model')]",
		     "Model: Oryx 10GigE 5.0 MP (ORX-10G-51S5M-C)");
	assert_xpath(x, "//dc:description[@descriptionType='TechnicalInfo']"
		     "[starts-with(., 'Instrument type')]",
		     "Instrument type: Camera");
	assert_xpath(x, "//dc:description[@descriptionType='Abstract']",
		     "Camera: a device of the family Camera, inside 2-BM / "
		     "PropagationDistance / Housing, at facility aps.");
	assert_xpath(x, "//dc:date[@dateType='Other'][@dateInformation="
		     "'Commissioned']", "2026-05-19");
	assert_xpath(x, "//dc:alternateIdentifier[@alternateIdentifierType="
		     "'SerialNumber']", "19173710");
	assert_xpath(x, "//dc:alternateIdentifier[@alternateIdentifierType="
		     "'InventoryNumber']", "APS-000123");
	assert_xpath(x, "//dc:alternateIdentifier[@alternateIdentifierType="
		     "'UUID']", A_CAMERA);
	/* the parent has a DOI: IsPartOf; the datasets it captured are
	 * named by their records' draft DOIs */
	assert_xpath(x, "//dc:relatedIdentifier[@relationType='IsPartOf']",
		     HOUSING_DOI);
	assert_xpath(x, "//dc:relatedIdentifier[@relationType='Collects']",
		     "10.5072/cora.dataset." D_DARK "\n"
		     "10.5072/cora.dataset." D_RAW);
	xmlFreeDoc(x);
	free(d.buf);

	/* Housing: HasPart the camera (the scintillator has no DOI);
	 * its parent has a Handle, not a DOI: no IsPartOf */
	must_render(cat, CORA_DOC_DATACITE, A_HOUSING, &d);
	x = check_datacite(&d, "Housing");
	assert_xpath(x, "//dc:relatedIdentifier[@relationType='HasPart']",
		     CAMERA_DOI);
	assert_xpath(x, "//dc:relatedIdentifier[@relationType='IsPartOf']", "");
	assert_xpath(x, "//dc:description[starts-with(., 'Drawing')]",
		     "Drawing: EDMS MAN-11863, revision 0521-0465-A");
	xmlFreeDoc(x);
	free(d.buf);

	/* a Handle is not a DataCite identifier: draft DOI + Handle */
	must_render(cat, CORA_DOC_DATACITE, A_PD, &d);
	x = check_datacite(&d, "PropagationDistance");
	assert_xpath(x, "/dc:resource/dc:identifier",
		     "10.5072/cora.asset." A_PD);
	assert_xpath(x, "//dc:alternateIdentifier[@alternateIdentifierType="
		     "'Handle']", "20.500.12345/2bm-pd");
	xmlFreeDoc(x);
	free(d.buf);

	/* no model, no owner, decommissioned: still valid */
	must_render(cat, CORA_DOC_DATACITE, A_TIMING, &d);
	x = check_datacite(&d, "Timing");
	assert_xpath(x, "//dc:creatorName", ":unav");
	assert_xpath(x, "//dc:contributor[@contributorType="
		     "'HostingInstitution']/dc:contributorName",
		     "Advanced Photon Source");
	assert_xpath(x, "//dc:date[@dateInformation='Decommissioned']",
		     "2026-05-19");
	xmlFreeDoc(x);
	free(d.buf);
}

static void test_datacite__dataset_and_bundle_records(void **state)
{
	struct doc d;
	xmlDocPtr x;

	must_render(cat, CORA_DOC_DATACITE, D_RAW, &d);
	x = check_datacite(&d, "pellet-b12-raw");
	assert_xpath(x, "/dc:resource/dc:identifier",
		     "10.5072/cora.dataset." D_RAW);
	/* registered by a person with a profile: the creator */
	assert_xpath(x, "//dc:creator/dc:creatorName[@nameType='Personal']",
		     "Josiah Carberry");
	assert_xpath(x, "//dc:creator/dc:nameIdentifier[@nameIdentifierScheme"
		     "='ORCID']", "https://orcid.org/0000-0002-1825-0097");
	assert_xpath(x, "//dc:creator/dc:affiliation[@affiliationIdentifier="
		     "'https://ror.org/05gvnxz63']",
		     "Argonne National Laboratory");
	assert_xpath(x, "//dc:relatedIdentifier[@relationType="
		     "'IsCollectedBy'][@resourceTypeGeneral='Instrument']",
		     CAMERA_DOI);
	assert_xpath(x, "//dc:relatedIdentifier[@relationType='IsPartOf']",
		     BUNDLE_DOI);
	assert_xpath(x, "//dc:relatedIdentifier[@relationType='HasMetadata']",
		     "https://manual.nexusformat.org/classes/applications/"
		     "NXtomo");
	assert_xpath(x, "//dc:rights/@rightsIdentifier", "CC-BY-4.0");
	assert_xpath(x, "//dc:rights/@rightsURI",
		     "https://spdx.org/licenses/CC-BY-4.0");
	assert_xpath(x, "//dc:rights/@rightsIdentifierScheme", "SPDX");
	assert_xpath(x, "//dc:format", "application/x-hdf5");
	assert_xpath(x, "//dc:date[@dateType='Collected']", "2026-05-19");
	assert_xpath(x, "//dc:alternateIdentifier[@alternateIdentifierType="
		     "'UUID']", D_RAW);
	xmlFreeDoc(x);
	free(d.buf);

	/* registered by an actor without a profile: the publisher */
	must_render(cat, CORA_DOC_DATACITE, D_RECON, &d);
	x = check_datacite(&d, "recon-sirt");
	assert_xpath(x, "//dc:creatorName[@nameType='Organizational']",
		     "Advanced Photon Source");
	assert_xpath(x, "//dc:relatedIdentifier[@relationType="
		     "'IsDerivedFrom']", "10.5072/cora.dataset." D_DARK "\n"
		     "10.5072/cora.dataset." D_RAW);
	assert_xpath(x, "//dc:rightsList", "");   /* no licence yet */
	assert_xpath(x, "//dc:relatedIdentifier[@relationType='IsPartOf']",
		     "10.5072/cora.bundle." B_OPEN);
	xmlFreeDoc(x);
	free(d.buf);

	/* a published bundle carries its DOI, creators in order */
	must_render(cat, CORA_DOC_DATACITE, B_PUB, &d);
	x = check_datacite(&d, "catalyst-2026-1");
	assert_xpath(x, "/dc:resource/dc:identifier", BUNDLE_DOI);
	assert_xpath(x, "//dc:resourceType/@resourceTypeGeneral", "Collection");
	assert_xpath(x, "//dc:creatorName", "Josiah Carberry\nAda Okafor");
	assert_xpath(x, "//dc:publicationYear", "2026");
	assert_xpath(x, "//dc:relatedIdentifier[@relationType='HasPart']",
		     "10.5072/cora.dataset." D_DARK "\n"
		     "10.5072/cora.dataset." D_RAW);
	assert_xpath(x, "//dc:rights", "Creative Commons Attribution 4.0 "
		     "International");
	assert_xpath(x, "//dc:date[@dateType='Issued']", "2026-05-19");
	xmlFreeDoc(x);
	free(d.buf);

	/* before publication: the draft DOI and the UUID */
	must_render(cat, CORA_DOC_DATACITE, B_OPEN, &d);
	x = check_datacite(&d, "recon-review");
	assert_xpath(x, "/dc:resource/dc:identifier",
		     "10.5072/cora.bundle." B_OPEN);
	assert_xpath(x, "//dc:alternateIdentifier[@alternateIdentifierType="
		     "'UUID']", B_OPEN);
	xmlFreeDoc(x);
	free(d.buf);
}

static void test_pidinst__record_and_missing_properties(void **state)
{
	static const char *const keys[] = {
		"identifier", "schema_version", "landing_page", "name",
		"publisher", "publication_year", "owners", "manufacturers",
		"model", "description", "instrument_types",
		"measured_variables", "dates", "related_identifiers",
		"alternate_identifiers", "measurement_techniques",
	};
	const char *k;
	json_t *v, *rec;
	struct doc d;
	size_t i = 0;

	must_render(cat, CORA_DOC_PIDINST, A_CAMERA, &d);
	rec = json_loads(d.buf, 0, NULL);
	assert_non_null(rec);
	/* PIDINST property order, exactly these keys */
	assert_int_equal(json_object_size(rec), 16);
	json_object_foreach(rec, k, v)
		assert_string_equal(k, keys[i++]);
	assert_string_equal(sget(json_object_get(rec, "identifier"), "value"),
			    CAMERA_DOI);
	assert_string_equal(sget(json_object_get(rec, "identifier"), "scheme"),
			    "DOI");
	assert_string_equal(sget(rec, "schema_version"), "1.0");
	assert_string_equal(sget(rec, "landing_page"),
			    "https://cora.local/assets/" A_CAMERA "/landing");
	assert_int_equal(json_integer_value(json_object_get(rec,
				"publication_year")), 2026);
	assert_string_equal(sget(json_array_get(json_object_get(rec,
				"manufacturers"), 0), "name"), "FLIR");
	assert_true(json_is_null(json_object_get(json_array_get(
		json_object_get(rec, "manufacturers"), 0), "identifier")));
	assert_string_equal(sget(json_object_get(rec, "model"), "identifier"),
			    "ORX-10G-51S5M-C");
	assert_string_equal(sget(json_object_get(rec, "model"),
				 "identifier_type"), "PartNumber");
	assert_string_equal(sget(json_array_get(json_object_get(rec,
		"instrument_types"), 0), "identifier"),
		"urn:cora:family:28608285-97cb-57ec-a20d-09c33a0dba33");
	assert_string_equal(sget(json_array_get(json_object_get(rec, "dates"),
						0), "date_type"),
			    "Commissioned");
	/* parent Housing has a DOI */
	assert_string_equal(sget(json_array_get(json_object_get(rec,
		"related_identifiers"), 0), "relation_type"), "IsComponentOf");
	assert_string_equal(sget(json_array_get(json_object_get(rec,
		"alternate_identifiers"), 0), "kind"), "InventoryNumber");
	json_decref(rec);
	free(d.buf);

	/* no persistent id: the URN fallback */
	must_render(cat, CORA_DOC_PIDINST, A_SCINT, &d);
	rec = json_loads(d.buf, 0, NULL);
	assert_string_equal(sget(json_object_get(rec, "identifier"), "value"),
			    "urn:uuid:" A_SCINT);
	assert_string_equal(sget(json_object_get(rec, "identifier"), "scheme"),
			    "URN");
	json_decref(rec);
	free(d.buf);

	/* no model: an error object naming what is missing */
	must_render(cat, CORA_DOC_PIDINST, A_FILTER, &d);
	rec = json_loads(d.buf, 0, NULL);
	assert_int_equal(json_object_size(rec), 2);
	assert_non_null(strstr(sget(rec, "error"),
			       "'Filter_FoilSelector_Downstream'"));
	assert_int_equal(json_array_size(json_object_get(rec, "missing")), 1);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(rec, "missing"), 0)), "model");
	json_decref(rec);
	free(d.buf);
	must_render(cat, CORA_DOC_PIDINST, A_TIMING, &d);
	rec = json_loads(d.buf, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(rec, "missing")), 2);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(rec, "missing"), 0)), "owners");
	json_decref(rec);
	free(d.buf);
}

static void test_rocrate__dataset_crate_lists_every_file(void **state)
{
	json_t *ix, *folders = json_pack("{s:s}", D_RAW, ""), *ids;
	const json_t *root, *e;
	struct doc d;

	must_render(cat, CORA_DOC_ROCRATE, D_RAW, &d);
	ix = check_crate(&d, "pellet-b12-raw crate", folders);
	assert_int_equal(count_type(ix, "File"), file_count(D_RAW));
	/* names that need percent-encoding */
	assert_non_null(json_object_get(ix, "meta/notes%20one.txt"));
	assert_non_null(json_object_get(ix, "meta/50%25.json"));
	assert_non_null(json_object_get(ix, "meta/scan%3A1%23%3F.xml"));
	e = json_object_get(ix, "meta/");
	assert_true(has_type(e, "Dataset"));
	e = json_object_get(ix, "projections.h5");
	assert_string_equal(sget(e, "encodingFormat"), "application/x-hdf5");
	assert_string_equal(sget(e, "dateModified"), "2026-05-19T14:30:00Z");
	assert_string_equal(sget(json_object_get(ix, "meta/50%25.json"),
				 "encodingFormat"), "application/json");
	root = json_object_get(ix, "./");
	assert_string_equal(sget(root, "identifier"), "urn:uuid:" D_RAW);
	/* licence of the published bundle; author registered it */
	assert_string_equal(sget(json_object_get(root, "license"), "@id"),
			    "https://spdx.org/licenses/CC-BY-4.0");
	assert_string_equal(sget(json_object_get(root, "author"), "@id"),
			    "https://orcid.org/0000-0002-1825-0097");
	ids = ids_of(root, "hasPart");
	assert_true(ids_have(ids, "datacite.xml"));
	assert_true(ids_have(ids, "meta/"));
	assert_false(ids_have(ids, "meta/50%25.json"));  /* inside meta/ */
	json_decref(ids);
	assert_true(has_type(json_object_get(ix, "https://manual.nexusformat"
		".org/classes/applications/NXtomo"), "Profile"));
	json_decref(ix);
	free(d.buf);

	/* no licence granted: a described placeholder */
	json_object_clear(folders);
	json_object_set_new(folders, D_RECON, json_string(""));
	must_render(cat, CORA_DOC_ROCRATE, D_RECON, &d);
	ix = check_crate(&d, "recon-sirt crate", folders);
	root = json_object_get(ix, "./");
	assert_string_equal(sget(json_object_get(root, "license"), "@id"),
			    "#license-unspecified");
	assert_null(json_object_get(root, "author"));
	json_decref(ix);
	json_decref(folders);
	free(d.buf);
}

static void test_rocrate__bundle_is_a_process_run_crate(void **state)
{
	json_t *ix, *folders = json_pack("{s:s, s:s}", D_RAW, "pellet-b12-raw/",
					 D_DARK, "darkfield-cal/"), *ids;
	const json_t *root, *act, *cam;
	char id[64];
	struct doc d;

	must_render(cat, CORA_DOC_ROCRATE, B_PUB, &d);
	ix = check_crate(&d, "catalyst crate", folders);
	check_process_run(ix, "catalyst crate");
	root = json_object_get(ix, "./");
	assert_string_equal(sget(root, "cite-as"),
			    "https://doi.org/" BUNDLE_DOI);
	assert_non_null(json_object_get(ix, "pellet-b12-raw/meta/50%25.json"));
	assert_int_equal(count_type(ix, "File"),
			 file_count(D_RAW) + file_count(D_DARK));
	ids = ids_of(root, "author");
	assert_int_equal(json_array_size(ids), 2);
	assert_string_equal(json_string_value(json_array_get(ids, 0)),
			    "https://orcid.org/0000-0002-1825-0097");
	assert_string_equal(json_string_value(json_array_get(ids, 1)),
			    "#person-" P_OKAFOR);
	json_decref(ids);
	/* the publisher keeps the catalog's name for its ROR */
	assert_string_equal(sget(json_object_get(ix,
		"https://ror.org/05gvnxz63"), "name"), "Advanced Photon Source");
	/* the raw run: a person started it; camera, rotary, scintillator */
	snprintf(id, sizeof(id), "#run-%s", R_RAW);
	act = json_object_get(ix, id);
	assert_true(has_type(act, "CreateAction"));
	assert_string_equal(sget(json_object_get(act, "agent"), "@id"),
			    "https://orcid.org/0000-0002-1825-0097");
	assert_string_equal(sget(json_object_get(act, "result"), "@id"),
			    "pellet-b12-raw/");
	ids = ids_of(act, "instrument");
	assert_int_equal(json_array_size(ids), 4);
	assert_true(ids_have(ids, "https://doi.org/" CAMERA_DOI));
	assert_true(ids_have(ids, "urn:uuid:" A_ROTARY));
	json_decref(ids);
	cam = json_object_get(ix, "https://doi.org/" CAMERA_DOI);
	assert_true(has_type(cam, "IndividualProduct"));
	assert_string_equal(sget(cam, "serialNumber"), "19173710");
	assert_string_equal(sget(cam, "model"),
			    "Oryx 10GigE 5.0 MP (ORX-10G-51S5M-C)");
	assert_true(has_type(json_object_get(ix, sget(json_object_get(cam,
		"manufacturer"), "@id")), "Organization"));
	assert_string_equal(sget(json_object_get(json_object_get(ix,
		"urn:uuid:" A_ROTARY), "manufacturer"), "@id"),
		"https://ror.org/04bw7nh07");
	/* the dark run: started by an actor without a profile */
	snprintf(id, sizeof(id), "#run-%s", R_DARK);
	assert_string_equal(sget(json_object_get(json_object_get(ix, id),
				 "agent"), "@id"), "https://ror.org/05gvnxz63");
	json_decref(ix);
	free(d.buf);

	/* the open bundle: an aborted run fails with its reason; inputs
	 * from outside the bundle are named by urn:uuid */
	json_object_clear(folders);
	json_object_set_new(folders, D_RECON, json_string("recon-sirt/"));
	json_object_set_new(folders, D_BAD, json_string("scan-aborted-data/"));
	must_render(cat, CORA_DOC_ROCRATE, B_OPEN, &d);
	ix = check_crate(&d, "recon-review crate", folders);
	check_process_run(ix, "recon-review crate");
	root = json_object_get(ix, "./");
	assert_null(json_object_get(root, "cite-as"));
	assert_string_equal(sget(root, "identifier"), "urn:uuid:" B_OPEN);
	assert_string_equal(sget(json_object_get(root, "license"), "@id"),
			    "#license-unspecified");
	snprintf(id, sizeof(id), "#run-%s", R_BAD);
	act = json_object_get(ix, id);
	assert_string_equal(sget(act, "error"), "Run Aborted: beam lost");
	snprintf(id, sizeof(id), "#run-%s", R_RECON);
	act = json_object_get(ix, id);
	ids = ids_of(act, "object");
	assert_true(ids_have(ids, "urn:uuid:" D_RAW));
	assert_true(has_type(json_object_get(ix, "urn:uuid:" D_RAW),
			     "CreativeWork"));
	json_decref(ids);
	json_decref(ix);
	json_decref(folders);
	free(d.buf);
}

static void test_preview__is_a_self_contained_page(void **state)
{
	struct doc d;

	must_render(cat, CORA_DOC_PREVIEW, B_PUB, &d);
	assert_xml_chars(d.buf, d.len);
	assert_int_equal(strncmp(d.buf, "<!DOCTYPE html>\n<html lang=\"en\">", 31),
			 0);
	assert_non_null(strstr(d.buf, "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(d.buf, "<style>"));
	assert_null(strstr(d.buf, "<script"));
	assert_null(strstr(d.buf, "<link"));
	assert_null(strstr(d.buf, "src="));
	assert_null(strstr(d.buf, "@import"));
	assert_null(strstr(d.buf, "url("));
	assert_non_null(strstr(d.buf, "Catalyst degradation series"));
	assert_non_null(strstr(d.buf, "https://doi.org/" BUNDLE_DOI));
	assert_non_null(strstr(d.buf, "Josiah Carberry"));
	assert_non_null(strstr(d.buf, "Creative Commons Attribution 4.0"));
	assert_non_null(strstr(d.buf, "2-BM continuous-rotation acquisition"));
	assert_non_null(strstr(d.buf, "19173710"));       /* serial */
	assert_non_null(strstr(d.buf, "meta/notes one.txt"));
	assert_non_null(strstr(d.buf, "meta/50%.json"));
	assert_non_null(strstr(d.buf, "</html>\n"));
	free(d.buf);
}

/* Golden files: exact bytes (fixed ids and clock, see the top). */
static void golden(enum cora_doc_kind kind, const char *id, const char *name)
{
	char path[512];
	struct doc d;
	FILE *f;
	char *want;
	long n;

	snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
	must_render(cat, kind, id, &d);
	if (getenv("CORA_UPDATE_GOLDEN")) {
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(d.buf, 1, d.len, f), d.len);
		fclose(f);
	}
	f = fopen(path, "rb");
	if (!f)
		fail_msg("no golden file %s (CORA_UPDATE_GOLDEN=1 writes it)",
			 path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	want = malloc((size_t)n + 1);
	assert_int_equal(fread(want, 1, (size_t)n, f), (size_t)n);
	want[n] = '\0';
	fclose(f);
	if ((size_t)n != d.len || memcmp(want, d.buf, d.len) != 0)
		fail_msg("%s differs from %s:\n%s", cora_doc_name(kind), path,
			 d.buf);
	free(want);
	free(d.buf);
}

static void test_render__golden_files(void **state)
{
	golden(CORA_DOC_DATACITE, A_CAMERA, "asset-camera.datacite.xml");
	golden(CORA_DOC_PIDINST, A_CAMERA, "asset-camera.pidinst.json");
	golden(CORA_DOC_DATACITE, B_PUB, "bundle-catalyst.datacite.xml");
	golden(CORA_DOC_ROCRATE, B_PUB, "bundle-catalyst.ro-crate-metadata.json");
	golden(CORA_DOC_ROCRATE, D_RAW, "dataset-raw.ro-crate-metadata.json");
}

/* ---- hostile text ------------------------------------------------------ */

/* EVIL as XML and HTML show it: the characters XML 1.0 forbids, DEL and
 * U+FFFE replaced by U+FFFD. */
#define FFFD "\xef\xbf\xbd"
#define EVIL_CLEAN "<b>Evil</b> & \"quoted\" 'single' " FFFD FFFD FFFD FFFD \
	FFFD FFFD FFFD " tab\there \xe2\x80\xae RLO \xf0\x9f\xa7\xaa emoji " \
	FFFD " end"

static void test_render__hostile_text_stays_text(void **state)
{
	struct cora_person evil = {
		.slug = "evil", .name = EVIL, .affiliation = EVIL,
		.affiliation_ror = "https://ror.org/05gvnxz63",
	};
	struct cora_catalog *c = new_catalog("hostile");
	const char *evil_path = "d\xe2\x80\xae" "ir/" EVIL_FILE;
	char *got, *s;
	struct doc d;
	xmlDocPtr x;
	json_t *v, *ix, *folders;
	int kind;

	add_person(c, &evil, ID("0c0ee"));
	cora_catalog_set_principal(c, ID("0c0ee"));
	run(c, "family.define", NULL, NULL, json_pack("{s:s, s:s, s:[s]}",
	    "slug", "evil-family", "name", "Evil family " EVIL,
	    "affordances", "Capturing"));
	run(c, "model.define", NULL, NULL, json_pack(
	    "{s:s, s:s, s:{s:s}, s:s, s:[s]}", "slug", "evil-model", "name",
	    EVIL, "manufacturer", "name", EVIL, "part_number", EVIL,
	    "families", "evil-family"));
	run(c, "asset.register", NULL, ID("0a0ee"), json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s}], s:[s],"
	    " s:[{s:s, s:s}]}", "slug", "evil", "name", EVIL, "tier", "Unit",
	    "facility_code", "aps", "model", "evil-model",
	    "owners", "name", EVIL, "contact", EVIL, "families",
	    "evil-family", "alternate_identifiers", "kind",
	    "SerialNumber", "value", EVIL));
	run(c, "run.start", NULL, ID("0b0ee"), json_pack(
	    "{s:s, s:s, s:s, s:[s]}", "slug", "evil-run", "name", EVIL,
	    "trigger_source", EVIL, "assets", "evil"));
	run(c, "dataset.register", NULL, ID("0d0ee"), json_pack(
	    "{s:s, s:s, s:s, s:s}", "slug", "evil-data", "name", EVIL,
	    "media_type", "application/x-hdf5", "producing_run", "evil-run"));
	add_folder(c, ID("0d0ee"), "d\xe2\x80\xae" "ir");
	put_file(c, ID("0d0ee"), evil_path, EVIL, 1779201000);
	run(c, "run.complete", "evil-run", NULL, json_object());
	run(c, "acquisition.record", NULL, ID("0f0ee"), json_pack(
	    "{s:s, s:s, s:s, s:s, s:{s:s}}", "dataset", "evil-data", "asset",
	    "evil", "run", "evil-run", "captured_at", "2026-05-19T14:03:22Z",
	    "settings", EVIL, EVIL));
	run(c, "bundle.create", NULL, ID("0e0ee"), json_pack(
	    "{s:s, s:s, s:s, s:[s], s:s}", "slug", "evil-bundle", "title",
	    EVIL, "license", "CC-BY-4.0", "creators", ID("0c0ee"),
	    "publisher", "aps"));
	run(c, "bundle.add_dataset", "evil-bundle", NULL,
	    json_pack("{s:s}", "dataset", "evil-data"));

	/* XML: valid, the text is the cleaned text, markup is escaped */
	must_render(c, CORA_DOC_DATACITE, ID("0a0ee"), &d);
	x = check_datacite(&d, "evil asset");
	assert_xpath(x, "//dc:title", EVIL_CLEAN);
	assert_xpath(x, "//dc:creatorName", EVIL_CLEAN);
	assert_xpath(x, "//dc:contributorName", EVIL_CLEAN);
	assert_xpath(x, "//dc:alternateIdentifier[@alternateIdentifierType="
		     "'SerialNumber']", EVIL_CLEAN);
	got = xpath(x, "//dc:description[starts-with(., 'Model')]");
	assert_non_null(strstr(got, EVIL_CLEAN));
	free(got);
	assert_null(strstr(d.buf, "<b>"));
	assert_non_null(strstr(d.buf, "&lt;b&gt;Evil&lt;/b&gt; &amp; "));
	xmlFreeDoc(x);
	free(d.buf);
	for (kind = CORA_DOC_DATACITE; kind <= CORA_DOC_PREVIEW; kind++) {
		static const char *const ids[] = { ID("0a0ee"), ID("0d0ee"),
						   ID("0e0ee") };
		size_t i;
		for (i = 0; i < 3; i++) {
			if (render(c, (enum cora_doc_kind)kind, ids[i], &d))
				continue;
			if (kind == CORA_DOC_DATACITE) {
				xmlFreeDoc(check_datacite(&d, ids[i]));
			} else if (kind == CORA_DOC_PREVIEW) {
				assert_xml_chars(d.buf, d.len);
				assert_null(strstr(d.buf, "<b>"));
				assert_null(strstr(d.buf, "<script"));
				/* user text is isolated: the override
				 * ends with its <bdi> */
				assert_non_null(strstr(d.buf, "<bdi>&lt;b&gt;"
						       "Evil&lt;/b&gt; &amp; "
						       "&quot;quoted&quot; "
						       "&#39;single&#39; "));
				s = strstr(d.buf, "\xe2\x80\xae RLO");
				assert_non_null(s);
				s = strstr(s, "</bdi>");
				assert_non_null(s);
			} else {
				/* JSON: jansson escapes; the text is exact */
				v = json_loads(d.buf, 0, NULL);
				assert_non_null(v);
				json_decref(v);
				/* control characters escaped, never raw */
				for (s = d.buf; *s; s++)
					if ((unsigned char)*s < 0x20)
						assert_true(*s == '\n');
			}
			free(d.buf);
		}
	}
	/* JSON keeps the exact text; the file @id is percent-encoded */
	must_render(c, CORA_DOC_PIDINST, ID("0a0ee"), &d);
	v = json_loads(d.buf, 0, NULL);
	assert_string_equal(sget(v, "name"), EVIL);
	assert_string_equal(sget(json_object_get(v, "model"), "identifier"),
			    EVIL);
	json_decref(v);
	free(d.buf);
	must_render(c, CORA_DOC_ROCRATE, ID("0d0ee"), &d);
	folders = json_object();
	json_object_set_new(folders, ID("0d0ee"), json_string(""));
	{
		/* check_crate() asks the 2-BM catalog for files */
		struct cora_catalog *saved = cat;
		cat = c;
		ix = check_crate(&d, "evil crate", folders);
		cat = saved;
	}
	assert_string_equal(sget(json_object_get(ix, "./"), "name"), EVIL);
	assert_non_null(json_object_get(ix, "d%E2%80%AEir/"));
	json_decref(ix);
	json_decref(folders);
	free(d.buf);
	cora_catalog_free(c);
}

/* ---- streaming crates --------------------------------------------------- */

struct chunks {
	char *buf;
	size_t len, calls;
};

static int collect(void *arg, const char *buf, size_t len)
{
	struct chunks *c = arg;

	assert_true(len > 0 && len <= 64 * 1024);
	c->buf = realloc(c->buf, c->len + len + 1);
	assert_non_null(c->buf);
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	c->buf[c->len] = '\0';
	c->calls++;
	return 0;
}

/* The crate as cora_render(), cora_render_to() and cora_render_size()
 * give it, which must agree, and as jansson prints it again: the same
 * bytes (the streaming writer prints what json_dumps(JSON_INDENT(2) |
 * JSON_SORT_KEYS) did).  Returns the parsed crate's @id index. */
static json_t *crate_as_jansson_prints_it(struct cora_catalog *c,
					  const char *id, json_t **doc_out)
{
	struct chunks ch = { NULL, 0, 0 };
	json_error_t jerr;
	json_t *doc, *ix, *e;
	struct doc d;
	char *again;
	size_t len, i;

	must_render(c, CORA_DOC_ROCRATE, id, &d);
	assert_int_equal(cora_render_to(c, CORA_DOC_ROCRATE, id, collect, &ch),
			 0);
	assert_int_equal(ch.len, d.len);
	assert_memory_equal(ch.buf, d.buf, d.len);
	assert_int_equal(cora_render_size(c, CORA_DOC_ROCRATE, id, &len), 0);
	assert_int_equal(len, d.len);
	doc = json_loads(d.buf, 0, &jerr);
	if (!doc)
		fail_msg("crate of %s is not JSON: %s", id, jerr.text);
	again = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	assert_non_null(again);
	assert_int_equal(strlen(again) + 1, d.len);
	assert_memory_equal(again, d.buf, d.len - 1);
	assert_int_equal(d.buf[d.len - 1], '\n');
	free(again);
	free(ch.buf);
	free(d.buf);
	ix = json_object();
	json_array_foreach(json_object_get(doc, "@graph"), i, e)
		json_object_set(ix, sget(e, "@id"), e);
	*doc_out = doc;
	return ix;
}

/* The @ids of hasPart: one reference is an object, more an array. */
static void assert_parts(const json_t *ix, const char *folder,
			 const char *want)
{
	const json_t *e = json_object_get(ix, folder), *v, *x;
	char got[1024] = "";
	size_t i;

	if (!e)
		fail_msg("no entity '%s'", folder);
	v = json_object_get(e, "hasPart");
	if (json_is_object(v)) {
		snprintf(got, sizeof(got), "%s", sget(v, "@id"));
	} else if (json_is_array(v)) {
		assert_true(json_array_size(v) >= 2);
		json_array_foreach(v, i, x) {
			size_t n = strlen(got);
			snprintf(got + n, sizeof(got) - n, "%s%s", i ? " " : "",
				 sget(x, "@id"));
		}
	} else {
		assert_null(v);
	}
	if (strcmp(got, want) != 0)
		fail_msg("hasPart of '%s': got [%s], want [%s]", folder, got,
			 want);
}

/* The writer alone, on values the crates do not hold (yet): empty and
 * nested containers, escapes, numbers, literals, unsorted keys. */
static void test_jsonw__prints_what_jansson_prints(void **state)
{
	static const char *const values[] = {
		"{}", "[]", "[[], {}, [[]], {\"a\": {}}]", "\"x\"", "0", "null",
		"{\"b\": 1, \"a\": [1, 2.5, -3, true, false, null], "
		"\"\": \"\", \"A\": {\"z\": [], \"y\": {\"x\": [{}]}}}",
		"[\"quote \\\" back \\\\ slash / tab \\t nl \\n ctl \\u0001 "
		"del \\u007f \\u00e9 \\u65e5 \\ud83e\\uddea\"]",
		"{\"k\\u00e9y \\\"q\\\"\": \"v\", \"@id\": \"./\", "
		"\"hasPart\": [{\"@id\": \"a\"}, {\"@id\": \"b\"}]}",
		"[1e300, 0.1, 123456789012345]",
	};
	struct chunks ch;
	struct rd_jw w;
	json_error_t jerr;
	json_t *v;
	char *want;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		v = json_loads(values[i], JSON_DECODE_ANY, &jerr);
		if (!v)
			fail_msg("bad test JSON %s: %s", values[i], jerr.text);
		want = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS |
				  JSON_ENCODE_ANY);
		memset(&ch, 0, sizeof(ch));
		rd_jw_init(&w, collect, &ch);
		rd_jw_value(&w, v, 0);
		assert_int_equal(rd_jw_finish(&w), 0);
		assert_non_null(ch.buf);
		assert_string_equal(ch.buf, want);
		free(ch.buf);
		free(want);
		json_decref(v);
	}
}

static void test_rocrate__streamed_crate_is_what_jansson_prints(void **state)
{
	struct cora_catalog *c = new_catalog("stream");
	static const char *const folders[] = {
		"a", "a b", "a!", "a/sub", "a/sub-", "empty", "one", "deep",
		"deep/x", "deep/x/y", "\xc3\xa9 dir",
	};
	static const char *const files[] = {
		"a/x.tif", "a/y.h5", "a/sub/n", "a/sub-/m", "a/sub.x", "a-b",
		"a b/in space.txt", "a!/k", "a!/j", "a.txt", "a#1", "a%20x",
		"one/only.dat", "deep/x/y/file.tif", "Z upper", "q\"uote",
		"\xc3\xa9 dir/\xe6\x97\xa5\xe6\x9c\xac.h5",
	};
	/* the tree's entities in path (byte) order: a folder at its name,
	 * its contents at its name + '/' */
	static const char order[] =
		"Z%20upper a/ a%20b/ a%20b/in%20space.txt a!/ a!/j a!/k a%231 "
		"a%2520x a-b a.txt a/sub/ a/sub-/ a/sub-/m a/sub.x a/sub/n "
		"a/x.tif a/y.h5 deep/ deep/x/ deep/x/y/ deep/x/y/file.tif "
		"empty/ one/ one/only.dat q%22uote \xc3\xa9%20dir/ "
		"\xc3\xa9%20dir/\xe6\x97\xa5\xe6\x9c\xac.h5";
	char got[2048] = "";
	json_t *ix, *doc, *e;
	size_t i;

	(void)state;
	run(c, "dataset.register", NULL, ID("0d101"),
	    json_pack("{s:s, s:s}", "slug", "tree", "name", "Tree"));
	for (i = 0; i < sizeof(folders) / sizeof(folders[0]); i++)
		add_folder(c, ID("0d101"), folders[i]);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put_file(c, ID("0d101"), files[i], files[i], 1779201000);
	run(c, "dataset.register", NULL, ID("0d102"),
	    json_pack("{s:s, s:s}", "slug", "single", "name", "Single"));
	put_file(c, ID("0d102"), "only.txt", "hello", 1779201000);
	run(c, "dataset.register", NULL, ID("0d103"),
	    json_pack("{s:s, s:s}", "slug", "none", "name", "None"));
	run(c, "bundle.create", NULL, ID("0e101"),
	    json_pack("{s:s, s:s, s:s, s:s}", "slug", "all", "title", "All",
		      "license", "CC-BY-4.0", "publisher", "aps"));
	run(c, "bundle.add_dataset", "all", NULL,
	    json_pack("{s:s}", "dataset", "tree"));
	run(c, "bundle.add_dataset", "all", NULL,
	    json_pack("{s:s}", "dataset", "single"));
	run(c, "bundle.add_dataset", "all", NULL,
	    json_pack("{s:s}", "dataset", "none"));

	ix = crate_as_jansson_prints_it(c, ID("0d101"), &doc);
	json_array_foreach(json_object_get(doc, "@graph"), i, e) {
		const char *id = sget(e, "@id");
		size_t n = strlen(got);
		if (strcmp(id, "./") == 0 || strcmp(id, "datacite.xml") == 0 ||
		    strncmp(id, "https:", 6) == 0 ||
		    !(strcmp(sget(e, "@type") ? sget(e, "@type") : "",
			     "File") == 0 || id[strlen(id) - 1] == '/'))
			continue;
		snprintf(got + n, sizeof(got) - n, "%s%s", n ? " " : "", id);
	}
	assert_string_equal(got, order);
	assert_parts(ix, "./", "Z%20upper a/ a%20b/ a!/ a%231 a%2520x a-b "
		     "a.txt deep/ empty/ one/ q%22uote \xc3\xa9%20dir/ "
		     "datacite.xml");
	assert_parts(ix, "a/", "a/sub/ a/sub-/ a/sub.x a/x.tif a/y.h5");
	assert_parts(ix, "a!/", "a!/j a!/k");
	assert_parts(ix, "one/", "one/only.dat");
	assert_parts(ix, "deep/", "deep/x/");
	assert_parts(ix, "empty/", "");
	assert_string_equal(sget(json_object_get(ix, "a%20b/in%20space.txt"),
				 "name"), "in space.txt");
	assert_string_equal(sget(json_object_get(ix, "one/only.dat"),
				 "contentSize"), "12");
	json_decref(ix);
	json_decref(doc);

	/* one file at the root: the file and datacite.xml */
	ix = crate_as_jansson_prints_it(c, ID("0d102"), &doc);
	assert_parts(ix, "./", "only.txt datacite.xml");
	json_decref(ix);
	json_decref(doc);
	/* no files: datacite.xml alone, as an object */
	ix = crate_as_jansson_prints_it(c, ID("0d103"), &doc);
	assert_parts(ix, "./", "datacite.xml");
	json_decref(ix);
	json_decref(doc);

	/* files named like the crate's own entities (the mount refuses
	 * them at a dataset's root, a put_file does not): one entity each,
	 * listed once */
	run(c, "dataset.register", NULL, ID("0d104"),
	    json_pack("{s:s, s:s}", "slug", "reserved", "name", "Reserved"));
	put_file(c, ID("0d104"), "datacite.xml", "<x/>", 1779201000);
	put_file(c, ID("0d104"), "ro-crate-metadata.json", "{}", 1779201000);
	put_file(c, ID("0d104"), "b", "b", 1779201000);
	ix = crate_as_jansson_prints_it(c, ID("0d104"), &doc);
	assert_parts(ix, "./", "b datacite.xml ro-crate-metadata.json");
	assert_int_equal(json_object_size(ix),
			 json_array_size(json_object_get(doc, "@graph")));
	json_decref(ix);
	json_decref(doc);

	/* a bundle: each member's files below its folder */
	ix = crate_as_jansson_prints_it(c, ID("0e101"), &doc);
	assert_parts(ix, "./", "tree/ single/ none/ datacite.xml");
	assert_parts(ix, "single/", "single/only.txt");
	assert_parts(ix, "none/", "");
	assert_parts(ix, "tree/a/", "tree/a/sub/ tree/a/sub-/ tree/a/sub.x "
		     "tree/a/x.tif tree/a/y.h5");
	assert_parts(ix, "tree/one/", "tree/one/only.dat");
	assert_non_null(json_object_get(ix, "tree/a/sub-/m"));
	json_decref(ix);
	json_decref(doc);
	cora_catalog_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* first: the golden files need the fresh fake clock's
		 * catalog, which the group setup builds */
		cmocka_unit_test(test_render__golden_files),
		cmocka_unit_test(test_render__every_document_is_valid),
		cmocka_unit_test(test_render__same_state_same_bytes),
		cmocka_unit_test(test_render__wrong_document_is_not_found),
		cmocka_unit_test(test_datacite__asset_follows_the_pidinst_mapping),
		cmocka_unit_test(test_datacite__dataset_and_bundle_records),
		cmocka_unit_test(test_pidinst__record_and_missing_properties),
		cmocka_unit_test(test_rocrate__dataset_crate_lists_every_file),
		cmocka_unit_test(test_rocrate__bundle_is_a_process_run_crate),
		cmocka_unit_test(test_preview__is_a_self_contained_page),
		cmocka_unit_test(test_render__hostile_text_stays_text),
		cmocka_unit_test(test_jsonw__prints_what_jansson_prints),
		cmocka_unit_test(
			test_rocrate__streamed_crate_is_what_jansson_prints),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

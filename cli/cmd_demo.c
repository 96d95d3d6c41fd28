/*
 * cmd_demo.c: `cora demo CATALOG`, the 2-BM sample catalog of reference
 * section 7: families, models, the microscope's assets with owners and
 * serial numbers, runs, raw/dark/flat/reconstruction datasets with small
 * synthetic files, an acquisition, one bundle sealed and published with a
 * stub DOI and one still open.
 *
 * The steps are data: a table of (command, target, JSON) rows run in
 * order.  JSON is written with single quotes to keep the table readable;
 * they become double quotes before parsing (no value contains one).
 * Event times come from a fixed clock (CORA_FAKE_NOW, unless already
 * set), so the demo reads like the beamtime it describes.
 */
#include "cli/cli.h"

#include "core/blobstore.h"
#include "core/command.h"
#include "core/error.h"
#include "core/person.h"
#include "core/projection.h"

#include <stdlib.h>
#include <string.h>

struct step {
	const char *command;
	const char *target;
	const char *json;
};

#define APS_OWNER "{'name':'Advanced Photon Source','contact':'aps-ops@anl.gov'," \
		  "'identifier':'https://ror.org/05gvnxz63','identifier_type':'ROR'}"
#define AEROTECH "{'name':'Aerotech','identifier':'https://ror.org/04bw7nh07'," \
		 "'identifier_type':'ROR'}"

static const struct step equipment[] = {
	{ "family.define", NULL, "{'name':'RotaryStage','affordances':['Rotatable','Homeable','Limitable']}" },
	{ "family.define", NULL, "{'name':'LinearStage','affordances':['Translatable','Homeable','Limitable']}" },
	{ "family.define", NULL, "{'name':'TiltStage','affordances':['Rotatable','Limitable']}" },
	{ "family.define", NULL, "{'name':'Hexapod','affordances':['Translatable','Rotatable','Homeable']}" },
	{ "family.define", NULL, "{'name':'MotionController','affordances':['Reportable','Settable']}" },
	{ "family.define", NULL, "{'name':'Housing','affordances':['Identifiable']}" },
	{ "family.define", NULL, "{'name':'Objective','affordances':['Identifiable']}" },
	{ "family.define", NULL, "{'name':'Camera','affordances':['Capturing','Imageable','Triggerable']}" },
	{ "family.define", NULL, "{'name':'Scintillator','affordances':['Identifiable']}" },
	{ "family.define", NULL, "{'name':'Filter','affordances':['Translatable']}" },

	{ "model.define", NULL, "{'slug':'ABRS-250MP-M-AS','name':'ABRS-250MP air-bearing rotary stage','manufacturer':" AEROTECH ",'part_number':'ABRS-250MP-M-AS','families':['RotaryStage']}" },
	{ "model.define", NULL, "{'slug':'HEX300-230HL','name':'HEX300-230HL hexapod','manufacturer':" AEROTECH ",'part_number':'HEX300-230HL-E1-PL4-TAS','families':['Hexapod']}" },
	{ "model.define", NULL, "{'slug':'PRO225SL-1000','name':'PRO225SL linear stage','manufacturer':" AEROTECH ",'part_number':'PRO225SL-1000','families':['LinearStage']}" },
	{ "model.define", NULL, "{'slug':'ENSEMBLEML','name':'Ensemble ML drive','manufacturer':" AEROTECH ",'part_number':'ENSEMBLEML 10-40-IO-MXH','families':['MotionController']}" },
	{ "model.define", NULL, "{'slug':'VME58','name':'VME58 motion controller','manufacturer':{'name':'Oregon Micro Systems'},'part_number':'VME58','families':['MotionController']}" },
	{ "model.define", NULL, "{'slug':'CYAT-070','name':'CYAT-070 linear stage','manufacturer':{'name':'Kohzu'},'part_number':'CYAT-070','families':['LinearStage']}" },
	{ "model.define", NULL, "{'slug':'ORX-10G-51S5M-C','name':'Oryx 10GigE 5.0 MP','manufacturer':{'name':'FLIR'},'part_number':'ORX-10G-51S5M-C','families':['Camera']}" },
	{ "model.define", NULL, "{'slug':'ORX-10G-310S9M','name':'Oryx 10GigE 31 MP','manufacturer':{'name':'FLIR'},'part_number':'ORX-10G-310S9M','families':['Camera']}" },
	{ "model.define", NULL, "{'slug':'LuAG-Ce-100um','name':'LuAG:Ce scintillator, 100 um','manufacturer':{'name':'Crytur'},'part_number':'LuAG:Ce-100um','families':['Scintillator']}" },
	{ "model.define", NULL, "{'slug':'MICRX080','name':'Optique Peter microscope','manufacturer':{'name':'Optique Peter'},'part_number':'MICRX080','families':['Housing']}" },
	{ "model.define", NULL, "{'slug':'Plan-Apo-NIR','name':'Mitutoyo Plan Apo NIR','manufacturer':{'name':'Mitutoyo'},'part_number':'Plan-Apo-NIR','families':['Objective']}" },

	{ "asset.register", NULL, "{'slug':'2-BM','name':'2-BM','tier':'Unit','facility_code':'aps','owners':[" APS_OWNER "],'drawing':{'system':'ICMS','number':'A342-RT1000','revision':'02'}}" },
	{ "asset.register", NULL, "{'slug':'Hexapod','name':'Hexapod','tier':'Device','parent':'2-BM','model':'HEX300-230HL','families':['Hexapod'],'owners':[" APS_OWNER "],'alternate_identifiers':[{'kind':'SerialNumber','value':'486060-01'},{'kind':'Other','value':'2bmHXP:'}],'drawing':{'system':'EDMS','number':'Hex300-Data-Sheet','revision':'D20250203'}}" },
	{ "asset.register", NULL, "{'slug':'LaminographyPitch','name':'LaminographyPitch','tier':'Device','parent':'Hexapod','families':['TiltStage'],'owners':[" APS_OWNER "],'alternate_identifiers':[{'kind':'Other','value':'2bmb:m49'}]}" },
	{ "asset.register", NULL, "{'slug':'Rotary','name':'Rotary','tier':'Device','parent':'LaminographyPitch','model':'ABRS-250MP-M-AS','families':['RotaryStage'],'owners':[" APS_OWNER "],'alternate_identifiers':[{'kind':'SerialNumber','value':'146853-A-1-1-X'},{'kind':'Other','value':'2bmb:m102'}],'drawing':{'system':'EDMS','number':'630C2125','revision':'(-)'}}" },
	{ "asset.register", NULL, "{'slug':'SampleTop_X','name':'SampleTop_X','tier':'Device','parent':'Rotary','model':'CYAT-070','families':['LinearStage'],'owners':[" APS_OWNER "],'alternate_identifiers':[{'kind':'Other','value':'2bmb:m18'}]}" },
	{ "asset.register", NULL, "{'slug':'SampleTop_Z','name':'SampleTop_Z','tier':'Device','parent':'SampleTop_X','model':'CYAT-070','families':['LinearStage'],'owners':[" APS_OWNER "],'alternate_identifiers':[{'kind':'Other','value':'2bmb:m17'}]}" },
	{ "asset.register", NULL, "{'slug':'RotaryDrive','name':'RotaryDrive','tier':'Device','parent':'2-BM','model':'ENSEMBLEML','families':['MotionController'],'owners':[" APS_OWNER "],'alternate_identifiers':[{'kind':'SerialNumber','value':'730792/1'}]}" },
	{ "asset.register", NULL, "{'slug':'SampleStageDrive','name':'SampleStageDrive','tier':'Device','parent':'2-BM','model':'VME58','families':['MotionController'],'owners':[" APS_OWNER "],'alternate_identifiers':[{'kind':'Other','value':'ioc2bmb'}]}" },
	{ "asset.register", NULL, "{'slug':'PropagationDistance','name':'PropagationDistance','tier':'Device','parent':'2-BM','model':'PRO225SL-1000','families':['LinearStage'],'owners':[" APS_OWNER "],'alternate_identifiers':[{'kind':'Other','value':'2bmbAERO:m1'}]}" },
	{ "asset.register", NULL, "{'slug':'Housing','name':'Housing','tier':'Component','parent':'PropagationDistance','model':'MICRX080','families':['Housing'],'owners':[" APS_OWNER "],'drawing':{'system':'EDMS','number':'MAN-11863','revision':'0521-0465-A'}}" },
	{ "asset.register", NULL, "{'slug':'Camera','name':'Camera','tier':'Device','parent':'Housing','model':'ORX-10G-51S5M-C','families':['Camera'],'owners':[" APS_OWNER "],'alternate_identifiers':[{'kind':'SerialNumber','value':'19173710'},{'kind':'Other','value':'2bmSP1:'}]}" },
	{ "asset.register", NULL, "{'slug':'Camera_HighRes','name':'Camera_HighRes','tier':'Device','parent':'Housing','model':'ORX-10G-310S9M','families':['Camera'],'owners':[" APS_OWNER "],'alternate_identifiers':[{'kind':'SerialNumber','value':'22150530'},{'kind':'Other','value':'2bmSP2:'}]}" },
	{ "asset.register", NULL, "{'slug':'Scintillator','name':'Scintillator','tier':'Device','parent':'Housing','model':'LuAG-Ce-100um','families':['Scintillator'],'owners':[" APS_OWNER "]}" },
	{ "asset.register", NULL, "{'slug':'Objective_10x','name':'Objective_10x','tier':'Device','parent':'Housing','model':'Plan-Apo-NIR','families':['Objective'],'owners':[" APS_OWNER "]}" },
	{ "asset.register", NULL, "{'slug':'Objective_2x','name':'Objective_2x','tier':'Device','parent':'Housing','model':'Plan-Apo-NIR','families':['Objective'],'owners':[" APS_OWNER "]}" },
	{ "asset.register", NULL, "{'slug':'Objective_1.1x','name':'Objective_1.1x','tier':'Device','parent':'Housing','model':'Plan-Apo-NIR','families':['Objective'],'owners':[" APS_OWNER "]}" },
	{ "asset.register", NULL, "{'slug':'Filter_FoilSelector_Downstream','name':'Filter_FoilSelector_Downstream','tier':'Device','parent':'2-BM','families':['Filter'],'owners':[" APS_OWNER "]}" },
	{ NULL },
};

/* Everything but the decommissioned-never root goes Active. */
static const char *const activate[] = {
	"2-BM", "Hexapod", "LaminographyPitch", "Rotary", "SampleTop_X",
	"SampleTop_Z", "RotaryDrive", "SampleStageDrive",
	"PropagationDistance", "Housing", "Camera", "Camera_HighRes",
	"Scintillator", "Objective_10x", "Objective_2x", "Objective_1.1x",
	"Filter_FoilSelector_Downstream", NULL,
};

static const struct step experiment[] = {
	{ "asset.fault", "Filter_FoilSelector_Downstream", "{'reason':'m18 failed on 2026-06-19: paddle does not move'}" },
	{ "asset.assign_persistent_id", "Camera", "{'scheme':'DOI','value':'10.0000/cora-stub/2bm-camera'}" },
	{ "run.start", NULL, "{'slug':'dark-2026-05-19','name':'Dark field','assets':['Camera']}" },
	{ "run.complete", "dark-2026-05-19", "{}" },
	{ "run.start", NULL, "{'slug':'flat-2026-05-19','name':'Flat field','assets':['Camera']}" },
	{ "run.complete", "flat-2026-05-19", "{}" },
	{ "run.start", NULL, "{'slug':'run-2026-05-19-007','name':'2-BM continuous-rotation acquisition (Subject sn-2024-038)','override_parameters':{'rotation_speed_deg_per_s':0.5,'exposure_time_ms':50},'trigger_source':'operator:opid:42','external_refs':[{'scheme':'proposal','value':'GUP-1234'},{'scheme':'cycle','value':'2026-1'}],'assets':['Camera','Rotary','Scintillator','Objective_10x']}" },
	{ "dataset.register", NULL, "{'slug':'pellet-b12-raw','name':'Catalyst pellet B-12, run 2026-05-19-007, raw projections','media_type':'application/x-hdf5','conforms_to':['https://manual.nexusformat.org/classes/applications/NXtomo'],'producing_run':'run-2026-05-19-007'}" },
	{ "dataset.register", NULL, "{'slug':'darkfield-cal','name':'DarkField-cal','media_type':'application/x-hdf5','producing_run':'dark-2026-05-19'}" },
	{ "dataset.register", NULL, "{'slug':'flatfield-cal','name':'FlatField-cal','media_type':'application/x-hdf5','producing_run':'flat-2026-05-19'}" },
	{ NULL },
};

static const struct step publication[] = {
	{ "run.complete", "run-2026-05-19-007", "{}" },
	{ "acquisition.record", NULL, "{'dataset':'pellet-b12-raw','asset':'Camera','run':'run-2026-05-19-007','captured_at':'2026-05-19T14:03:22Z','settings':{'exposure_ms':50,'frames':1500},'evidence':{'detector_serial':'19173710'}}" },
	{ "acquisition.record", NULL, "{'dataset':'darkfield-cal','asset':'Camera','run':'dark-2026-05-19','captured_at':'2026-05-19T13:40:00Z','settings':{'exposure_ms':50,'frames':20}}" },
	{ "acquisition.record", NULL, "{'dataset':'flatfield-cal','asset':'Camera','run':'flat-2026-05-19','captured_at':'2026-05-19T13:45:00Z','settings':{'exposure_ms':50,'frames':20}}" },
	{ "dataset.promote", "darkfield-cal", "{'reason':'dark field checked against the detector baseline'}" },
	{ "dataset.promote", "flatfield-cal", "{'reason':'flat field uniform within 2 percent'}" },
	{ "dataset.promote", "pellet-b12-raw", "{'reason':'projections complete: 1500 frames, no dropped frames'}" },
	{ "run.start", NULL, "{'slug':'recon-2026-05-20-sirt','name':'SIRT reconstruction chain','trigger_source':'tomocupy on polaris'}" },
	{ "dataset.register", NULL, "{'slug':'2BM_recon_2026-05-20_sirt_chain','name':'2BM_recon_2026-05-20_sirt_chain','media_type':'image/tiff','uri':'file:///data/2bm/2026-05-20/recon/','producing_run':'recon-2026-05-20-sirt','derived_from':['pellet-b12-raw','darkfield-cal','flatfield-cal']}" },
	{ NULL },
};

static const struct step bundles[] = {
	{ "run.complete", "recon-2026-05-20-sirt", "{}" },
	{ "bundle.create", NULL, "{'slug':'catalyst-2026-1','title':'Catalyst degradation series, beamtime 2026-1','license':'CC-BY-4.0','creators':['@carberry'],'publisher':'aps'}" },
	{ "bundle.add_dataset", "catalyst-2026-1", "{'dataset':'pellet-b12-raw'}" },
	{ "bundle.add_dataset", "catalyst-2026-1", "{'dataset':'darkfield-cal'}" },
	{ "bundle.add_dataset", "catalyst-2026-1", "{'dataset':'flatfield-cal'}" },
	{ "bundle.add_run", "catalyst-2026-1", "{'run':'run-2026-05-19-007'}" },
	{ "bundle.add_run", "catalyst-2026-1", "{'run':'dark-2026-05-19'}" },
	{ "bundle.add_run", "catalyst-2026-1", "{'run':'flat-2026-05-19'}" },
	{ "bundle.seal", "catalyst-2026-1", "{'year':2026}" },
	{ "bundle.publish", "catalyst-2026-1", "{'doi':'10.0000/cora-stub/catalyst-2026-1'}" },
	{ "bundle.create", NULL, "{'slug':'recon-review','title':'SIRT reconstruction of pellet B-12, for review','license':'CC-BY-4.0','creators':['@carberry','@okafor'],'publisher':'aps'}" },
	{ "bundle.add_dataset", "recon-review", "{'dataset':'2BM_recon_2026-05-20_sirt_chain'}" },
	{ "bundle.add_run", "recon-review", "{'run':'recon-2026-05-20-sirt'}" },
	{ NULL },
};

/* Replaces '@slug' strings with person ids (bundle creators). */
static int resolve_persons(struct cora_catalog *cat, json_t *v)
{
	size_t i;
	json_t *item, *p;
	const char *k;
	int rc;

	if (json_is_string(v) && json_string_value(v)[0] == '@') {
		rc = cora_person_get(cat, json_string_value(v) + 1, &p);
		if (rc)
			return rc;
		json_string_set(v, cora_json_str(p, "id"));
		json_decref(p);
		return 0;
	}
	if (json_is_array(v))
		json_array_foreach(v, i, item)
			if ((rc = resolve_persons(cat, item)))
				return rc;
	if (json_is_object(v))
		json_object_foreach(v, k, item)
			if ((rc = resolve_persons(cat, item)))
				return rc;
	return 0;
}

static int run_steps(struct cora_catalog *cat, const struct step *steps)
{
	json_error_t jerr;
	json_t *cmd;
	char *text, *c;
	int rc;

	for (; steps->command; steps++) {
		text = strdup(steps->json);
		for (c = text; *c; c++)
			if (*c == '\'')
				*c = '"';
		cmd = json_loads(text, 0, &jerr);
		free(text);
		if (!cmd)
			return cora_error_set(CORA_EINVALID, "demo step %s: %s",
					      steps->command, jerr.text);
		rc = resolve_persons(cat, cmd);
		if (rc == 0)
			rc = cora_command(cat, steps->command, steps->target,
					  cmd, NULL);
		json_decref(cmd);
		if (rc) {
			char msg[512];
			snprintf(msg, sizeof(msg), "%s", cora_error_last());
			return cora_error_set(rc, "demo step %s %s: %s",
					      steps->command,
					      steps->target ? steps->target : "",
					      msg);
		}
	}
	return 0;
}

/* ---- synthetic files ---------------------------------------------------- */

static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* An HDF5-signature file of n bytes of deterministic noise.  Not a
 * valid HDF5 file: the demo has no HDF5 library to write one. */
static unsigned char *fake_h5(size_t n, uint32_t seed)
{
	static const unsigned char sig[8] = { 0x89, 'H', 'D', 'F', '\r', '\n',
					      0x1a, '\n' };
	unsigned char *b = malloc(n);
	size_t i;

	if (!b)
		return NULL;
	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(rng_next(&seed) >> 24);
	memcpy(b, sig, sizeof(sig));
	return b;
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

/* A valid little-endian 8-bit grayscale TIFF of w x h pixels: one
 * reconstructed slice, a disc whose radius depends on the slice. */
static unsigned char *tiff_slice(size_t *len, unsigned w, unsigned h,
				 unsigned slice)
{
	static const struct { unsigned tag, type; uint32_t value; } tags[] = {
		{ 256, 3, 0 }, { 257, 3, 0 }, { 258, 3, 8 }, { 259, 3, 1 },
		{ 262, 3, 1 }, { 273, 4, 0 }, { 277, 3, 1 }, { 278, 3, 0 },
		{ 279, 4, 0 },
	};
	size_t ntags = sizeof(tags) / sizeof(tags[0]);
	size_t ifd = 8, data = ifd + 2 + ntags * 12 + 4, i;
	unsigned char *b;
	unsigned x, y;

	*len = data + (size_t)w * h;
	b = calloc(1, *len);
	if (!b)
		return NULL;
	memcpy(b, "II*\0", 4);
	put32(b + 4, (uint32_t)ifd);
	put16(b + ifd, (unsigned)ntags);
	for (i = 0; i < ntags; i++) {
		unsigned char *e = b + ifd + 2 + i * 12;
		uint32_t v = tags[i].value;
		if (tags[i].tag == 256) v = w;
		if (tags[i].tag == 257 || tags[i].tag == 278) v = h;
		if (tags[i].tag == 273) v = (uint32_t)data;
		if (tags[i].tag == 279) v = w * h;
		put16(e, tags[i].tag);
		put16(e + 2, tags[i].type);
		put32(e + 4, 1);
		if (tags[i].type == 3)
			put16(e + 8, v);
		else
			put32(e + 8, v);
	}
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			int dx = (int)x - (int)w / 2, dy = (int)y - (int)h / 2;
			int r = (int)(w / 3) - (int)slice;
			b[data + (size_t)y * w + x] =
				(unsigned char)(dx * dx + dy * dy < r * r ?
				200 - (x ^ y) % 40 : 20 + (x * y) % 11);
		}
	return b;
}

static int put_file(struct cora_catalog *cat, const char *dataset,
		    const char *path, const unsigned char *buf, size_t n,
		    int64_t mtime_ns)
{
	char sha[65];
	uint64_t size;
	json_t *cmd;
	int rc;

	rc = cora_blob_put_buf(cat->blobs, buf, n, NULL, sha, &size);
	if (rc)
		return rc;
	cmd = json_pack("{s:s, s:s, s:I, s:i, s:I}", "path", path, "sha256",
			sha, "size", (json_int_t)size, "mode", 0644,
			"mtime_ns", (json_int_t)mtime_ns);
	rc = cora_command(cat, "dataset.put_file", dataset, cmd, NULL);
	json_decref(cmd);
	return rc;
}

/* Times: raw at 2026-05-19T14:30:00Z, recon at 2026-05-20T09:00:00Z. */
static int add_raw_files(struct cora_catalog *cat)
{
	const int64_t raw_time = 1779201000LL * 1000000000LL;
	unsigned char *b;
	int rc;

	b = fake_h5(1 << 20, 7);
	rc = b ? put_file(cat, "pellet-b12-raw", "projections.h5", b, 1 << 20,
			  raw_time) : CORA_ENOMEM;
	free(b);
	b = fake_h5(256 << 10, 11);
	if (rc == 0)
		rc = put_file(cat, "darkfield-cal", "dark.h5", b, 256 << 10,
			      raw_time - 3000000000000LL);
	free(b);
	b = fake_h5(256 << 10, 13);
	if (rc == 0)
		rc = put_file(cat, "flatfield-cal", "flat.h5", b, 256 << 10,
			      raw_time - 2700000000000LL);
	free(b);
	return rc;
}

static int add_recon_files(struct cora_catalog *cat)
{
	const int64_t recon_time = 1779267600LL * 1000000000LL;
	unsigned char *b;
	size_t n;
	char path[64];
	unsigned i;
	json_t *cmd;
	int rc;

	cmd = json_pack("{s:s, s:i, s:I}", "path", "slices", "mode", 0755,
			"mtime_ns", (json_int_t)recon_time);
	rc = cora_command(cat, "dataset.add_folder",
			  "2BM_recon_2026-05-20_sirt_chain", cmd, NULL);
	json_decref(cmd);
	for (i = 0; i < 16 && rc == 0; i++) {
		b = tiff_slice(&n, 64, 64, i);
		snprintf(path, sizeof(path), "slices/recon_%05u.tiff", i);
		rc = b ? put_file(cat, "2BM_recon_2026-05-20_sirt_chain", path,
				  b, n, recon_time) : CORA_ENOMEM;
		free(b);
	}
	return rc;
}

int cmd_demo(struct cli *cli, int argc, char **argv)
{
	struct cora_person carberry = {
		.slug = "carberry", .name = "Josiah Carberry",
		.orcid = "0000-0002-1825-0097",
		.affiliation = "Argonne National Laboratory",
		.affiliation_ror = "https://ror.org/05gvnxz63",
		.email = "carberry@example.org",
	};
	struct cora_person okafor = {
		.slug = "okafor", .name = "Ada Okafor",
		.affiliation = "Argonne National Laboratory",
		.affiliation_ror = "https://ror.org/05gvnxz63",
	};
	struct cora_create_opts o = { 0 };
	struct cora_catalog *cat = NULL;
	const char *path = argc > 1 ? argv[1] : cli->catalog_path;
	json_t *cfg;
	size_t i;
	int rc;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: cora demo CATALOG\n  creates CATALOG with the "
		       "2-BM sample of the domain reference\n");
		return 0;
	}
	if (!path) {
		fprintf(stderr, "usage: cora demo CATALOG\n");
		return 2;
	}
	setenv("CORA_FAKE_NOW", "2026-05-19T14:05:00Z", 0);
	cfg = json_pack("{s:s, s:s, s:s}", "publisher", "aps",
			"publisher_name", "Advanced Photon Source",
			"publisher_ror", "https://ror.org/05gvnxz63");
	o.config = cfg;
	rc = cora_catalog_create(path, &o);
	json_decref(cfg);
	if (rc == 0)
		rc = cora_catalog_open(&cat, path, 0);
	if (rc == 0)
		rc = cora_person_add(cat, &carberry, NULL);
	if (rc == 0)
		rc = cora_person_add(cat, &okafor, NULL);
	if (rc == 0)
		rc = run_steps(cat, equipment);
	for (i = 0; activate[i] && rc == 0; i++) {
		json_t *cmd = json_object();
		rc = cora_command(cat, "asset.activate", activate[i], cmd, NULL);
		json_decref(cmd);
	}
	if (rc == 0)
		rc = run_steps(cat, experiment);
	if (rc == 0)
		rc = add_raw_files(cat);
	if (rc == 0)
		rc = run_steps(cat, publication);
	if (rc == 0)
		rc = add_recon_files(cat);
	if (rc == 0)
		rc = run_steps(cat, bundles);
	cora_catalog_free(cat);
	if (rc)
		return cli_fail(cli, rc);
	if (!cli->quiet && !cli->json)
		printf("created the 2-BM demo catalog in '%s'\n", path);
	return 0;
}

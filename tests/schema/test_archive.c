/*
 * test_archive.c: exports (schema/export.c) read back with libarchive, and
 * imports (schema/import.c) of archives this test crafts with libarchive,
 * against the rules of schema/archives.h.
 *
 * One catalog for the whole run, made in a temporary folder: a promoted
 * dataset "raw" with awkward names (a space and '%', a line break, UTF-8,
 * an empty file, an empty folder, a link), a promoted "cal", and a
 * bundle "b1" holding both, sealed and published.  Every import goes into
 * a fresh Trial dataset; a refused one must leave the log exactly as it
 * was (same head position, same dataset version).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "schema/archives.h"
#include "schema/render.h"

#include "core/aggregate.h"
#include "core/blobstore.h"
#include "core/command.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/person.h"
#include "core/projection.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];
static struct cora_catalog *cat;
static int serial;

#define RAW_NS 1779201000123456789LL   /* 2026-05-19T14:30:00.123456789Z */
#define NL_NAME "line\nbreak.txt"

/* ---- building the catalog --------------------------------------------------- */

static void cmd(const char *name, const char *target, json_t *args)
{
	int rc = cora_command(cat, name, target, args, NULL);

	if (rc)
		fail_msg("%s %s: %s", name, target ? target : "",
			 cora_error_last());
	json_decref(args);
}

static void put(const char *ds, const char *path, const void *buf,
		size_t n, int mode)
{
	char sha[CORA_SHA256_HEXLEN + 1];
	uint64_t size;

	assert_int_equal(cora_blob_put_buf(cat->blobs, buf, n, NULL, sha,
					   &size), 0);
	cmd("dataset.put_file", ds, json_pack("{s:s, s:s, s:I, s:i, s:I}",
	    "path", path, "sha256", sha, "size", (json_int_t)size, "mode",
	    mode, "mtime_ns", (json_int_t)RAW_NS));
}

static unsigned char *noise(size_t n, unsigned seed)
{
	unsigned char *b = malloc(n);
	size_t i;

	assert_non_null(b);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (unsigned char)(seed >> 16);
	}
	return b;
}

static void new_dataset(char slug[32])
{
	snprintf(slug, 32, "imp-%d", ++serial);
	cmd("dataset.register", NULL, json_pack("{s:s}", "slug", slug));
}

static int group_setup(void **state)
{
	struct cora_person p = { .slug = "carberry", .name = "Josiah Carberry",
				 .affiliation = "Argonne National Laboratory" };
	struct cora_create_opts o = { 0 };
	char path[PATH_MAX + 8], pid[37];
	unsigned char *b;
	json_t *cfg;

	setenv("CORA_FAKE_NOW", "2026-05-19T14:05:00Z", 1);
	snprintf(dir, sizeof(dir), "/tmp/cora-test-archive-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cat", dir);
	cfg = json_pack("{s:s, s:s, s:s}", "publisher", "aps",
			"publisher_name", "Advanced Photon Source",
			"publisher_ror", "https://ror.org/05gvnxz63");
	o.config = cfg;
	assert_int_equal(cora_catalog_create(path, &o), 0);
	json_decref(cfg);
	assert_int_equal(cora_catalog_open(&cat, path, 0), 0);
	assert_int_equal(cora_person_add(cat, &p, pid), 0);

	cmd("dataset.register", NULL, json_pack("{s:s}", "slug", "raw"));
	b = noise(300000, 7);
	put("raw", "scan.h5", b, 300000, 0644);
	free(b);
	cmd("dataset.add_folder", "raw", json_pack("{s:s, s:i, s:I}", "path",
	    "notes", "mode", 0750, "mtime_ns", (json_int_t)RAW_NS));
	put("raw", "notes/readme.txt", "read me\n", 8, 0600);
	put("raw", "notes/empty.txt", "", 0, 0644);
	put("raw", "odd name %41.txt", "odd\n", 4, 0644);
	put("raw", NL_NAME, "nl\n", 3, 0644);
	put("raw", "\xc3\xa9t\xc3\xa9.tiff", "tiff-ish text, deflated\n", 24,
	    0644);
	cmd("dataset.add_folder", "raw", json_pack("{s:s, s:i, s:I}", "path",
	    "empty-folder", "mode", 0755, "mtime_ns", (json_int_t)RAW_NS));
	cmd("dataset.add_symlink", "raw", json_pack("{s:s, s:s, s:I}", "path",
	    "latest", "target", "scan.h5", "mtime_ns", (json_int_t)RAW_NS));
	cmd("dataset.promote", "raw", json_pack("{s:s}", "reason",
	    "checked"));

	cmd("dataset.register", NULL, json_pack("{s:s}", "slug", "cal"));
	b = noise(70000, 11);
	put("cal", "dark.h5", b, 70000, 0444);
	free(b);
	cmd("dataset.promote", "cal", json_pack("{s:s}", "reason", "checked"));

	cmd("bundle.create", NULL, json_pack("{s:s, s:s, s:s, s:[s], s:s}",
	    "slug", "b1", "title", "Test bundle", "license", "CC-BY-4.0",
	    "creators", pid, "publisher", "aps"));
	cmd("bundle.add_dataset", "b1", json_pack("{s:s}", "dataset", "raw"));
	cmd("bundle.add_dataset", "b1", json_pack("{s:s}", "dataset", "cal"));
	cmd("bundle.seal", "b1", json_pack("{s:i}", "year", 2026));
	cmd("bundle.publish", "b1", json_pack("{s:s}", "doi",
	    "10.0000/cora-test/b1"));
	/* exports and imports happen "later": the bag date must not follow */
	setenv("CORA_FAKE_NOW", "2026-07-01T09:00:00Z", 1);
	*state = NULL;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static int group_teardown(void **state)
{
	(void)state;
	cora_catalog_free(cat);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- reading archives back ------------------------------------------------- */

struct got {
	char *path;
	int type;               /* AE_IFREG, ... */
	int64_t size;
	unsigned mode;
	int64_t mtime_ns;
	bool atime, ctime, birth;
	int64_t uid, gid;
	char sha256[65];
	char *link;
	char *data;             /* first 64 KiB, NUL-terminated */
};

struct listing {
	struct got v[64];
	size_t n;
};

static void listing_release(struct listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].link);
		free(l->v[i].data);
	}
	l->n = 0;
}

static void read_archive(const char *path, struct listing *l)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char buf[65536];
	locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t old = uselocale(loc);
	int r;

	memset(l, 0, sizeof(*l));
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	assert_int_equal(archive_read_open_filename(a, path, 65536),
			 ARCHIVE_OK);
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		struct got *g = &l->v[l->n++];
		struct cora_sha256 h;
		size_t kept = 0;
		la_ssize_t k;

		assert_true(l->n < 64);
		memset(g, 0, sizeof(*g));
		g->path = strdup(archive_entry_pathname_utf8(e));
		g->type = (int)archive_entry_filetype(e);
		g->size = archive_entry_size(e);
		g->mode = archive_entry_perm(e);
		g->mtime_ns = (int64_t)archive_entry_mtime(e) * 1000000000 +
			      archive_entry_mtime_nsec(e);
		g->atime = archive_entry_atime_is_set(e);
		g->ctime = archive_entry_ctime_is_set(e);
		g->birth = archive_entry_birthtime_is_set(e);
		g->uid = archive_entry_uid(e);
		g->gid = archive_entry_gid(e);
		if (archive_entry_symlink_utf8(e))
			g->link = strdup(archive_entry_symlink_utf8(e));
		g->data = calloc(1, sizeof(buf) + 1);
		cora_sha256_init(&h);
		while ((k = archive_read_data(a, buf, sizeof(buf))) > 0) {
			cora_sha256_update(&h, buf, (size_t)k);
			if (kept < sizeof(buf)) {
				size_t c = (size_t)k < sizeof(buf) - kept ?
					   (size_t)k : sizeof(buf) - kept;
				memcpy(g->data + kept, buf, c);
				kept += c;
			}
		}
		assert_int_equal(k, 0);
		cora_sha256_final(&h, g->sha256);
	}
	assert_int_equal(r, ARCHIVE_EOF);
	archive_read_free(a);
	uselocale(old);
	freelocale(loc);
}

static const struct got *lookup(const struct listing *l, const char *path)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const char *p = l->v[i].path;
		size_t n = strlen(p);

		if (strcmp(p, path) == 0 ||
		    (n && p[n - 1] == '/' && strncmp(p, path, n - 1) == 0 &&
		     strlen(path) == n - 1))
			return &l->v[i];
	}
	return NULL;
}

/* ---- export ---------------------------------------------------------------- */

static void export_to(const char *type, const char *ref,
		      enum cora_archive_format f, bool bag_zip,
		      const char *path, struct cora_archive_stats *st)
{
	struct cora_export_opts o = { .format = f, .bag_zip = bag_zip };
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int rc;

	assert_true(fd >= 0);
	rc = cora_export(cat, type, ref, fd, &o, st);
	if (rc)
		fail_msg("export %s: %s", ref, cora_error_last());
	close(fd);
}

struct check_arg {
	const struct listing *l;
	const char *prefix;       /* "<...>/<slug>/" */
	size_t seen;
};

static int check_file(void *arg, const char *path,
		      const struct cora_node_info *info)
{
	struct check_arg *c = arg;
	char full[PATH_MAX];
	const struct got *g;

	snprintf(full, sizeof(full), "%s%s", c->prefix, path);
	g = lookup(c->l, full);
	if (!g)
		fail_msg("'%s' is not in the archive", full);
	assert_int_equal(g->type, AE_IFREG);
	assert_string_equal(g->sha256, info->sha256);
	assert_int_equal(g->size, info->size);
	assert_int_equal(g->mode, info->mode);
	c->seen++;
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* Checks a bundle export whose crate root is prefix ("" or "b1/data/"). */
static void check_bundle(const struct listing *l, const char *prefix,
			 bool links, bool zip)
{
	static const enum cora_doc_kind kinds[] = {
		CORA_DOC_ROCRATE, CORA_DOC_PREVIEW, CORA_DOC_DATACITE,
	};
	struct check_arg c = { .l = l };
	const char *slugs[] = { "raw", "cal" };
	char full[PATH_MAX], prev[PATH_MAX] = "";
	const struct got *g;
	json_error_t jerr;
	json_t *crate, *ds;
	size_t i, len;
	char *doc;

	for (i = 0; i < l->n; i++) {
		/* E1: sorted, owners, no atime/ctime */
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s", l->v[i].path);
		if (p[0] && p[strlen(p) - 1] == '/')
			p[strlen(p) - 1] = '\0';
		if (strcmp(prev, p) >= 0)
			fail_msg("'%s' comes after '%s'", p, prev);
		snprintf(prev, sizeof(prev), "%s", p);
		assert_int_equal(l->v[i].uid, 0);
		assert_int_equal(l->v[i].gid, 0);
		/* libarchive's zip reader always reports atime and ctime
		 * (as 0); the zip's extra fields are checked apart */
		if (!zip) {
			assert_false(l->v[i].atime);
			assert_false(l->v[i].ctime);
		}
		assert_false(l->v[i].birth);
	}
	for (i = 0; i < 3; i++) {
		snprintf(full, sizeof(full), "%s%s", prefix,
			 cora_doc_name(kinds[i]));
		g = lookup(l, full);
		if (!g)
			fail_msg("no '%s'", full);
		assert_int_equal(cora_render(cat, kinds[i], "b1", &doc, &len),
				 0);
		assert_int_equal(g->size, (int64_t)len);
		assert_int_equal(g->mode, 0644);
		if (len < 65536)
			assert_memory_equal(g->data, doc, len);
		free(doc);
	}
	snprintf(full, sizeof(full), "%sro-crate-metadata.json", prefix);
	crate = json_loads(lookup(l, full)->data, 0, &jerr);
	assert_non_null(crate);
	assert_non_null(json_object_get(crate, "@graph"));
	json_decref(crate);

	for (i = 0; i < 2; i++) {
		snprintf(full, sizeof(full), "%s%s/", prefix, slugs[i]);
		c.prefix = full;
		c.seen = 0;
		assert_int_equal(cora_entity_get(cat, "Dataset", slugs[i], &ds,
						 NULL, NULL), 0);
		assert_int_equal(cora_dataset_files(cat,
			cora_json_str(ds, "id"), check_file, &c), 0);
		assert_true(c.seen == (i == 0 ? 6u : 1u));
		json_decref(ds);
		full[strlen(full) - 1] = '\0';
		g = lookup(l, full);
		assert_non_null(g);
		assert_int_equal(g->type, AE_IFDIR);
	}
	snprintf(full, sizeof(full), "%sraw/scan.h5", prefix);
	/* zip keeps whole seconds */
	assert_int_equal(lookup(l, full)->mtime_ns,
			 zip ? RAW_NS / 1000000000 * 1000000000 : RAW_NS);
	snprintf(full, sizeof(full), "%sraw/notes", prefix);
	assert_int_equal(lookup(l, full)->type, AE_IFDIR);
	assert_int_equal(lookup(l, full)->mode, 0750);
	snprintf(full, sizeof(full), "%sraw/empty-folder", prefix);
	assert_non_null(lookup(l, full));
	snprintf(full, sizeof(full), "%sraw/latest", prefix);
	g = lookup(l, full);
	if (links) {
		assert_non_null(g);
		assert_int_equal(g->type, AE_IFLNK);
		assert_string_equal(g->link, "scan.h5");
	} else {
		assert_null(g);       /* E5 */
	}
}

static void test_export_bundle__every_format_reads_back(void **st)
{
	static const enum cora_archive_format fs[] = {
		CORA_ARCHIVE_ZIP, CORA_ARCHIVE_TAR, CORA_ARCHIVE_TAR_GZ,
		CORA_ARCHIVE_TAR_ZST,
	};
	struct cora_archive_stats s;
	struct listing l;
	char path[PATH_MAX];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		snprintf(path, sizeof(path), "%s/b1%s", dir,
			 cora_archive_suffix(fs[i], false));
		export_to("Bundle", "b1", fs[i], false, path, &s);
		assert_int_equal(s.files, 3 + 7);
		assert_int_equal(s.links, 1);
		assert_int_equal(s.folders, 4);
		read_archive(path, &l);
		assert_int_equal(l.n, 3 + 7 + 1 + 4);
		check_bundle(&l, "", true, fs[i] == CORA_ARCHIVE_ZIP);
		listing_release(&l);
	}
}

/* E3 and the tag files of a bag, in a tar and in a zip. */
static void test_export_bundle__bagit(void **st)
{
	struct cora_archive_stats s;
	struct listing l;
	char path[PATH_MAX], line[1200], date[11];
	const struct got *g, *info, *man, *tag;
	uint64_t oxum = 0, count = 0;
	size_t i, k;
	json_t *b;
	char *p, *nl;

	(void)st;
	assert_int_equal(cora_entity_get(cat, "Bundle", "b1", &b, NULL, NULL),
			 0);
	for (k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/b1%s", dir,
			 cora_archive_suffix(CORA_ARCHIVE_BAGIT, k == 1));
		export_to("Bundle", "b1", CORA_ARCHIVE_BAGIT, k == 1, path, &s);
		oxum = count = 0;
		assert_int_equal(s.skipped, 1);      /* the link */
		read_archive(path, &l);
		check_bundle(&l, "b1/data/", false, k == 1);
		g = lookup(&l, "b1/bagit.txt");
		assert_non_null(g);
		assert_string_equal(g->data, "BagIt-Version: 1.0\n"
				    "Tag-File-Character-Encoding: UTF-8\n");

		/* every payload file once, with its digest, encoded */
		man = lookup(&l, "b1/manifest-sha256.txt");
		assert_non_null(man);
		for (i = 0; i < l.n; i++) {
			const char *q = l.v[i].path;
			char enc[1024], *e = enc;

			if (strncmp(q, "b1/data/", 8) != 0 ||
			    l.v[i].type != AE_IFREG)
				continue;
			for (q += 3; *q; q++) {
				if (*q == '%')
					e += sprintf(e, "%%25");
				else if (*q == '\n')
					e += sprintf(e, "%%0A");
				else
					*e++ = *q;
			}
			*e = '\0';
			snprintf(line, sizeof(line), "%s  %s\n", l.v[i].sha256,
				 enc);
			if (!strstr(man->data, line))
				fail_msg("manifest lacks '%s'", line);
			oxum += (uint64_t)l.v[i].size;
			count++;
		}
		assert_non_null(strstr(man->data, "data/raw/odd name %2541.txt\n"));
		assert_non_null(strstr(man->data, "data/raw/line%0Abreak.txt\n"));
		for (i = 0, p = man->data; (nl = strchr(p, '\n')); p = nl + 1)
			i++;
		assert_int_equal(i, count);
		assert_int_equal(count, 10);

		/* E3: the publication's date, not today */
		info = lookup(&l, "b1/bag-info.txt");
		assert_non_null(info);
		snprintf(date, sizeof(date), "%s", "2026-05-19");
		snprintf(line, sizeof(line), "Bagging-Date: %s\n", date);
		assert_non_null(strstr(info->data, line));
		snprintf(line, sizeof(line), "External-Identifier: urn:uuid:%s\n",
			 cora_json_str(b, "id"));
		assert_non_null(strstr(info->data, line));
		snprintf(line, sizeof(line), "Payload-Oxum: %llu.%llu\n",
			 (unsigned long long)oxum, (unsigned long long)count);
		assert_non_null(strstr(info->data, line));

		/* the tag manifest covers the three tag files */
		tag = lookup(&l, "b1/tagmanifest-sha256.txt");
		assert_non_null(tag);
		for (i = 0; i < 3; i++) {
			const char *names[] = { "bagit.txt", "bag-info.txt",
						"manifest-sha256.txt" };
			char full[64];

			snprintf(full, sizeof(full), "b1/%s", names[i]);
			snprintf(line, sizeof(line), "%s  %s\n",
				 lookup(&l, full)->sha256, names[i]);
			assert_non_null(strstr(tag->data, line));
		}
		assert_null(lookup(&l, "b1/ro-crate-metadata.json"));
		listing_release(&l);
	}
	json_decref(b);
}

/* E1: byte for byte the same, whatever the time zone. */
static void test_export__deterministic(void **st)
{
	static const enum cora_archive_format fs[] = {
		CORA_ARCHIVE_ZIP, CORA_ARCHIVE_TAR, CORA_ARCHIVE_TAR_GZ,
		CORA_ARCHIVE_TAR_ZST, CORA_ARCHIVE_BAGIT,
	};
	char a[PATH_MAX], b[PATH_MAX];
	char *x, *y;
	size_t i, nx, ny;

	(void)st;
	for (i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		snprintf(a, sizeof(a), "%s/d1", dir);
		snprintf(b, sizeof(b), "%s/d2", dir);
		setenv("TZ", "America/Chicago", 1);
		export_to("Bundle", "b1", fs[i], false, a, NULL);
		setenv("TZ", "Asia/Tokyo", 1);
		export_to("Bundle", "b1", fs[i], false, b, NULL);
		x = slurp(a, &nx);
		y = slurp(b, &ny);
		assert_int_equal(nx, ny);
		assert_memory_equal(x, y, nx);
		free(x);
		free(y);
	}
	unsetenv("TZ");
}

/* The central directory's compression method of a zip entry; checks on
 * the way that every entry's local extra fields are only "UT" with the
 * mtime alone (flags 1) and "ux" (E1). */
static int zip_method(const char *zip, size_t n, const char *name)
{
	const unsigned char *z = (const unsigned char *)zip, *eocd = z + n - 22;
	uint32_t off;
	uint16_t count, i;
	int method = -1;

#define U16(p) ((uint16_t)((p)[0] | (p)[1] << 8))
#define U32(p) ((uint32_t)U16(p) | (uint32_t)U16((p) + 2) << 16)
	assert_int_equal(U32(eocd), 0x06054b50u);
	count = U16(eocd + 10);
	off = U32(eocd + 16);
	for (i = 0; i < count; i++) {
		const unsigned char *c = z + off, *loc, *x, *end;
		uint16_t nl = U16(c + 28), xl = U16(c + 30), cl = U16(c + 32);

		assert_int_equal(U32(c), 0x02014b50u);
		if (nl == strlen(name) && memcmp(c + 46, name, nl) == 0)
			method = U16(c + 10);
		loc = z + U32(c + 42);
		assert_int_equal(U32(loc), 0x04034b50u);
		x = loc + 30 + U16(loc + 26);
		end = x + U16(loc + 28);
		while (x + 4 <= end) {
			uint16_t id = U16(x), len = U16(x + 2);

			if (id == 0x5455)
				assert_int_equal(x[4], 1);   /* mtime only */
			else if (id != 0x7875 && id != 0x0001)
				fail_msg("extra field %#x", id);
			x += 4 + len;
		}
		off += 46u + nl + xl + cl;
	}
#undef U16
#undef U32
	return method;
}

/* E4: .h5 stored, TIFF and text deflated. */
static void test_export_zip__stores_compressed_formats(void **st)
{
	char path[PATH_MAX];
	size_t n;
	char *z;

	(void)st;
	snprintf(path, sizeof(path), "%s/raw.zip", dir);
	export_to("Dataset", "raw", CORA_ARCHIVE_ZIP, false, path, NULL);
	z = slurp(path, &n);
	assert_int_equal(zip_method(z, n, "scan.h5"), 0);
	assert_int_equal(zip_method(z, n, "notes/empty.txt"), 0);
	assert_int_equal(zip_method(z, n, "notes/readme.txt"), 8);
	assert_int_equal(zip_method(z, n, "\xc3\xa9t\xc3\xa9.tiff"), 8);
	assert_int_equal(zip_method(z, n, "ro-crate-metadata.json"), 8);
	free(z);
}

static void test_export__refuses_unknown(void **st)
{
	struct cora_export_opts o = { .format = CORA_ARCHIVE_TAR };
	enum cora_archive_format f;
	int fd = open("/dev/null", O_WRONLY);

	(void)st;
	assert_int_equal(cora_export(cat, "Bundle", "nope", fd, &o, NULL),
			 CORA_ENOTFOUND);
	assert_string_equal(cora_error_last(), "bundle 'nope' does not exist");
	close(fd);
	assert_int_equal(cora_archive_format_parse(&f, "rar"), CORA_EINVALID);
	assert_int_equal(cora_archive_format_parse(&f, "tar.zst"), 0);
	assert_int_equal(f, CORA_ARCHIVE_TAR_ZST);
}

/* ---- crafting archives -------------------------------------------------------- */

struct spec {
	const char *name;
	char type;          /* f d l h(ard link) c(har dev) p(fifo) s(ocket) */
	const char *data;   /* file content, or link / hard link target */
	int64_t zeros;      /* file: this many zero bytes instead of data */
	unsigned mode;
	int64_t sparse;     /* file: logical size of a sparse entry (pax) */
};

enum fmt { TAR, TAR_GZ, ZIP, CPIO, SEVENZIP, ISO };

static void craft(const char *path, enum fmt fmt, const struct spec *s,
		  size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	static char zero[65536];
	size_t i;

	switch (fmt) {
	case TAR: archive_write_set_format_pax(a); break;
	case TAR_GZ:
		archive_write_set_format_pax(a);
		archive_write_add_filter_gzip(a);
		break;
	case ZIP: archive_write_set_format_zip(a); break;
	case CPIO: archive_write_set_format_cpio_newc(a); break;
	case SEVENZIP: archive_write_set_format_7zip(a); break;
	case ISO: archive_write_set_format_iso9660(a); break;
	}
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		int64_t size = 0;

		archive_entry_clear(e);
		archive_entry_copy_pathname(e, s[i].name);
		archive_entry_set_mtime(e, 1779201000, 500);
		archive_entry_set_perm(e, s[i].mode ? s[i].mode : 0644);
		switch (s[i].type) {
		case 'f':
			archive_entry_set_filetype(e, AE_IFREG);
			size = s[i].zeros ? s[i].zeros :
			       (int64_t)strlen(s[i].data ? s[i].data : "");
			if (s[i].sparse)
				size = s[i].sparse;
			break;
		case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_copy_symlink(e, s[i].data);
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_copy_hardlink(e, s[i].data);
			break;
		case 'c':
			archive_entry_set_filetype(e, AE_IFCHR);
			archive_entry_set_rdev(e, 0x0103);
			break;
		case 'p': archive_entry_set_filetype(e, AE_IFIFO); break;
		case 's': archive_entry_set_filetype(e, AE_IFSOCK); break;
		}
		archive_entry_set_size(e, size);
		if (s[i].type == 'f' && s[i].sparse)
			archive_entry_sparse_add_entry(e, 0, 4096);
		/* WARN: a name pax must store as binary */
		assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
		if (s[i].type == 'f' && s[i].sparse) {
			memset(zero, 'x', 4096);
			assert_int_equal(archive_write_data(a, zero, 4096), 4096);
			memset(zero, 0, 4096);
		} else if (s[i].type == 'f' && s[i].zeros) {
			int64_t left = s[i].zeros;

			while (left > 0) {
				size_t k = left > (int64_t)sizeof(zero) ?
					   sizeof(zero) : (size_t)left;
				assert_int_equal(archive_write_data(a, zero, k),
						 (la_ssize_t)k);
				left -= (int64_t)k;
			}
		} else if (s[i].type == 'f' && size) {
			assert_int_equal(archive_write_data(a, s[i].data,
				(size_t)size), size);
		}
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
}

/* The log head and the dataset's version, to show nothing changed. */
struct snap {
	int64_t head, version;
};

static struct snap snap_of(const char *slug)
{
	struct snap s;
	json_t *st;

	assert_int_equal(cora_store_head(cat, &s.head), 0);
	assert_int_equal(cora_entity_get(cat, "Dataset", slug, &st, &s.version,
					 NULL), 0);
	json_decref(st);
	return s;
}

static int import(const char *slug, const char *path,
		  const struct cora_import_opts *o,
		  struct cora_archive_stats *st)
{
	return cora_import(cat, slug, path, o, st);
}

/* An archive of these entries is refused with a message containing
 * `want`, and nothing changes. */
static void refused_with(enum fmt fmt, const struct spec *s, size_t n,
			 const struct cora_import_opts *o, const char *want)
{
	char slug[32], path[PATH_MAX];
	struct snap before, after;
	int rc;

	new_dataset(slug);
	cmd("dataset.add_folder", slug, json_pack("{s:s}", "path", "keep"));
	put(slug, "old.txt", "old\n", 4, 0644);
	snprintf(path, sizeof(path), "%s/crafted-%d", dir, serial);
	craft(path, fmt, s, n);
	before = snap_of(slug);
	rc = import(slug, path, o, NULL);
	if (rc == 0)
		fail_msg("import of an archive with '%s' succeeded", s[n - 1].name);
	if (!strstr(cora_error_last(), want))
		fail_msg("message '%s' lacks '%s'", cora_error_last(), want);
	assert_null(strchr(cora_error_last(), '\n'));
	after = snap_of(slug);
	assert_int_equal(before.head, after.head);
	assert_int_equal(before.version, after.version);
}

#define REFUSED(fmt, o, want, ...)                                            \
	do {                                                                   \
		const struct spec s_[] = { __VA_ARGS__ };                      \
		refused_with(fmt, s_, sizeof(s_) / sizeof(s_[0]), o, want);    \
	} while (0)

/* ---- import: refusals --------------------------------------------------------- */

static void test_import__refuses_names_leaving_the_dataset(void **st)
{
	struct cora_import_opts o = { .label = "x.tar" };
	char slug[32], path[PATH_MAX];
	const struct spec s[] = { { "ok.txt", 'f', "fine" },
				  { "../etc/passwd", 'f', "root" } };

	(void)st;
	new_dataset(slug);
	snprintf(path, sizeof(path), "%s/leave.tar", dir);
	craft(path, TAR, s, 2);
	assert_int_equal(import(slug, path, &o, NULL), CORA_EINVALID);
	assert_string_equal(cora_error_last(), "cannot import 'x.tar': entry "
			    "'../etc/passwd' leaves the dataset");
	REFUSED(TAR, NULL, "'/etc/passwd' has an absolute path",
		{ "/etc/passwd", 'f', "root" });
	REFUSED(TAR, NULL, "'a/../../b' leaves the dataset",
		{ "a/../../b", 'f', "x" });
	REFUSED(ZIP, NULL, "has a '..' component", { "a/../b", 'f', "x" });
	REFUSED(TAR, NULL, "has a name that is not UTF-8",
		{ "bad\xff.txt", 'f', "x" });
	REFUSED(TAR, NULL, "'datacite.xml/x' uses a name the catalog generates",
		{ "datacite.xml/x", 'f', "x" });
	REFUSED(TAR, NULL, "'ro-crate-metadata.json' uses a name the catalog",
		{ "ro-crate-metadata.json", 'l', "keep" });
}

static void test_import__refuses_links_out(void **st)
{
	(void)st;
	REFUSED(TAR, NULL, "is a link to '../../etc', outside the dataset",
		{ "sub/l", 'l', "../../etc" });
	REFUSED(TAR, NULL, "is a link to '/etc/passwd', outside the dataset",
		{ "l", 'l', "/etc/passwd" });
	/* each link stays inside by itself; together they leave */
	REFUSED(TAR, NULL, "'esc' is a link to 'here/../outside', outside",
		{ "esc", 'l', "here/../outside" }, { "here", 'l', "." });
	REFUSED(ZIP, NULL, "is a link to '..', outside the dataset",
		{ "up", 'l', ".." });
	REFUSED(TAR, NULL, "goes through too many links",
		{ "a", 'l', "b/x" }, { "b", 'l', "a/x" });
	/* nothing may be written through a link */
	REFUSED(TAR, NULL, "would go inside the link 'here'",
		{ "here", 'l', "keep" }, { "here/x", 'f', "x" });
}

static void test_import__refuses_hard_links_out(void **st)
{
	(void)st;
	REFUSED(TAR, NULL, "'h' is a hard link to '/etc/passwd', outside",
		{ "h", 'h', "/etc/passwd" });
	REFUSED(TAR, NULL, "'h' is a hard link to '../x', outside",
		{ "h", 'h', "../x" });
	REFUSED(TAR, NULL, "is a hard link to 'missing', which is not a file",
		{ "h", 'h', "missing" });
}

static void test_import__refuses_special_files(void **st)
{
	(void)st;
	REFUSED(TAR, NULL, "'null' is a device node", { "null", 'c' });
	REFUSED(TAR, NULL, "'fifo' is a FIFO", { "fifo", 'p' });
	REFUSED(CPIO, NULL, "'sock' is a socket", { "sock", 's' });
}

static void test_import__refuses_replacing(void **st)
{
	(void)st;
	REFUSED(TAR, NULL, "'a' would replace a folder with a file",
		{ "a", 'd' }, { "a", 'f', "x" });
	REFUSED(TAR, NULL, "'a' would replace a folder with a file",
		{ "a/x", 'f', "x" }, { "a", 'f', "x" });
	REFUSED(TAR, NULL, "'a/' would replace a file with a folder",
		{ "a", 'f', "x" }, { "a/", 'd' });
	REFUSED(TAR, NULL, "'a/x' would go inside the file 'a'",
		{ "a", 'f', "x" }, { "a/x", 'f', "y" });
	REFUSED(ZIP, NULL, "'./a' appears twice in the archive",
		{ "a", 'f', "x" }, { "./a", 'f', "y" });
	/* against what the dataset holds */
	REFUSED(TAR, NULL, "would replace the folder 'keep' of dataset",
		{ "keep", 'f', "x" });
	REFUSED(TAR, NULL, "would replace the file 'old.txt' of dataset",
		{ "old.txt/", 'd' });
}

static void test_import__refuses_over_the_bounds(void **st)
{
	struct cora_import_opts small = { .max_size = 1 << 20 };
	struct cora_import_opts few = { .max_entries = 2 };

	(void)st;
	REFUSED(TAR, &small, "expands to more than 1048576 bytes (--max-size)",
		{ "a", 'f', NULL, 600000 }, { "b", 'f', NULL, 600000 });
	/* 50 MiB of zeros deflate to about 50 KiB: a bomb */
	REFUSED(ZIP, NULL, "entry 'zeros' expands it more than 200 times "
		"(--max-ratio)", { "zeros", 'f', NULL, 50 << 20 });
	REFUSED(TAR_GZ, NULL, "(--max-ratio)",
		{ "zeros", 'f', NULL, 50 << 20 });
	/* a sparse entry: a 7 KiB tar that expands to 64 MiB */
	REFUSED(TAR, NULL, "(--max-ratio)",
		{ "sparse", 'f', NULL, 0, 0, 64 << 20 });
	REFUSED(TAR, &few, "more than 2 entries (--max-entries)",
		{ "a", 'f', "1" }, { "b", 'f', "2" }, { "c", 'f', "3" });
}

static void test_import__truncated_archive_changes_nothing(void **st)
{
	char slug[32], path[PATH_MAX];
	struct spec s[8];
	struct snap before, after;
	unsigned char *b[8];
	struct stat sb;
	size_t i;

	(void)st;
	for (i = 0; i < 8; i++) {
		char *name = malloc(16);

		snprintf(name, 16, "part-%zu.bin", i);
		b[i] = noise(100000, (unsigned)i + 100);
		b[i][99999] = '\0';
		for (size_t k = 0; k < 99999; k++)   /* no NUL in the data */
			b[i][k] = (unsigned char)(b[i][k] | 1);
		s[i] = (struct spec){ name, 'f', (const char *)b[i] };
	}
	new_dataset(slug);
	put(slug, "before.txt", "before\n", 7, 0644);
	snprintf(path, sizeof(path), "%s/cut.tar.gz", dir);
	craft(path, TAR_GZ, s, 8);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(truncate(path, sb.st_size - sb.st_size / 3), 0);
	before = snap_of(slug);
	assert_int_equal(import(slug, path, NULL, NULL), CORA_EINVALID);
	assert_non_null(strstr(cora_error_last(), "cannot import '"));
	after = snap_of(slug);
	assert_int_equal(before.head, after.head);
	assert_int_equal(before.version, after.version);
	{
		struct cora_node_info info;
		json_t *ds;

		assert_int_equal(cora_entity_get(cat, "Dataset", slug, &ds,
						 NULL, NULL), 0);
		assert_int_equal(cora_node_get(cat, cora_json_str(ds, "id"),
					       "part-0.bin", &info),
				 CORA_ENOTFOUND);
		assert_int_equal(cora_node_get(cat, cora_json_str(ds, "id"),
					       "before.txt", &info), 0);
		json_decref(ds);
	}
	for (i = 0; i < 8; i++) {
		free((char *)s[i].name);
		free(b[i]);
	}
}

static void test_import__refuses_frozen_datasets(void **st)
{
	char path[PATH_MAX];
	const struct spec s[] = { { "a", 'f', "x" } };

	(void)st;
	snprintf(path, sizeof(path), "%s/frozen.tar", dir);
	craft(path, TAR, s, 1);
	assert_int_equal(import("raw", path, NULL, NULL), CORA_ESTATE);
	assert_non_null(strstr(cora_error_last(), "is Production, not Trial"));
	assert_int_equal(import("no-such", path, NULL, NULL), CORA_ENOTFOUND);
	snprintf(path, sizeof(path), "%s/not-there.tar", dir);
	assert_int_equal(import("raw", path, NULL, NULL), CORA_ENOTFOUND);
}

/* ---- import: what gets in ------------------------------------------------------ */

static const char *sha_of(const char *slug, const char *path,
			  struct cora_node_info *info)
{
	static char sha[65];
	json_t *ds;
	int rc;

	assert_int_equal(cora_entity_get(cat, "Dataset", slug, &ds, NULL,
					 NULL), 0);
	rc = cora_node_get(cat, cora_json_str(ds, "id"), path, info);
	json_decref(ds);
	if (rc)
		fail_msg("'%s' is not in dataset '%s'", path, slug);
	snprintf(sha, sizeof(sha), "%s", info->sha256);
	return sha;
}

static void test_import__every_kind_of_entry(void **st)
{
	const struct spec s[] = {
		{ "./", 'd', NULL, 0, 0755 },
		{ "./deep/er/file.txt", 'f', "hello\n", 0, 04755 },
		{ "deep/", 'd', NULL, 0, 0700 },
		{ "deep/link", 'l', "er/file.txt" },
		{ "deep/er/up", 'l', "../../top.txt" },
		{ "top.txt", 'f', "top\n" },
		{ "copy.txt", 'h', "deep/er/file.txt" },
		{ "ro-crate-metadata.json", 'f', "{}" },
		{ "datacite.xml", 'f', "<x/>" },
		{ "empty/", 'd' },
	};
	struct cora_archive_stats stats;
	struct cora_node_info info;
	char slug[32], path[PATH_MAX], hello[65];
	enum fmt fmts[] = { TAR, TAR_GZ };
	size_t k;

	(void)st;
	cora_sha256_buf(hello, "hello\n", 6);
	for (k = 0; k < 2; k++) {
		new_dataset(slug);
		snprintf(path, sizeof(path), "%s/kinds-%zu", dir, k);
		craft(path, fmts[k], s, sizeof(s) / sizeof(s[0]));
		if (import(slug, path, NULL, &stats))
			fail_msg("%s", cora_error_last());
		assert_int_equal(stats.files, 3);
		assert_int_equal(stats.links, 2);
		assert_int_equal(stats.skipped, 2);
		assert_int_equal(stats.folders, 3);
		assert_string_equal(sha_of(slug, "deep/er/file.txt", &info),
				    hello);
		assert_int_equal(info.mode, 0755);   /* no setuid */
		assert_int_equal(info.mtime_ns, 1779201000000000500LL);
		assert_string_equal(sha_of(slug, "copy.txt", &info), hello);
		assert_int_equal(info.size, 6);
		sha_of(slug, "deep", &info);
		assert_int_equal(info.type, 'd');
		assert_int_equal(info.mode, 0700);
		assert_int_equal(info.mtime_ns, 1779201000000000500LL);
		sha_of(slug, "deep/er", &info);      /* implied: 0755 */
		assert_int_equal(info.mode, 0755);
		sha_of(slug, "deep/link", &info);
		assert_int_equal(info.type, 'l');
		sha_of(slug, "empty", &info);
		assert_int_equal(info.type, 'd');
	}
}

static void test_import__into_a_folder_and_other_formats(void **st)
{
	const struct spec s[] = {
		{ "a.txt", 'f', "a\n" },
		{ "sub/b.txt", 'f', "b\n" },
		{ "ro-crate-metadata.json", 'f', "{}" },
	};
	struct cora_import_opts o = { .into = "x/y" };
	struct cora_archive_stats stats;
	struct cora_node_info info;
	enum fmt fmts[] = { ZIP, CPIO, SEVENZIP, ISO };
	char slug[32], path[PATH_MAX], a[65];
	size_t k;

	(void)st;
	cora_sha256_buf(a, "a\n", 2);
	new_dataset(slug);
	snprintf(path, sizeof(path), "%s/into.zip", dir);
	craft(path, ZIP, s, 3);
	if (import(slug, path, &o, &stats))
		fail_msg("%s", cora_error_last());
	assert_string_equal(sha_of(slug, "x/y/a.txt", &info), a);
	sha_of(slug, "x/y/sub/b.txt", &info);
	/* under --into the names are not the generated ones */
	sha_of(slug, "x/y/ro-crate-metadata.json", &info);
	assert_int_equal(stats.skipped, 0);
	/* a second import merges into the folders, replacing files */
	if (import(slug, path, &o, &stats))
		fail_msg("%s", cora_error_last());

	for (k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++) {
		new_dataset(slug);
		snprintf(path, sizeof(path), "%s/fmt-%zu", dir, k);
		craft(path, fmts[k], s, 2);
		if (import(slug, path, NULL, &stats))
			fail_msg("format %zu: %s", k, cora_error_last());
		assert_string_equal(sha_of(slug, "a.txt", &info), a);
		sha_of(slug, "sub/b.txt", &info);
	}
}

/* A sparse entry under the bounds imports whole, holes as zeros. */
static void test_import__large_sparse_entry_under_the_bound(void **st)
{
	const int64_t size = 64 << 20;
	const struct spec s[] = { { "sparse.raw", 'f', NULL, 0, 0, size } };
	struct cora_import_opts o = { .max_ratio = UINT64_MAX };
	struct cora_archive_stats stats;
	struct cora_node_info info;
	struct cora_sha256 h;
	char slug[32], path[PATH_MAX], want[65];
	static char buf[1 << 16];
	int64_t left;
	struct stat sb;

	(void)st;
	cora_sha256_init(&h);
	memset(buf, 'x', 4096);
	cora_sha256_update(&h, buf, 4096);
	memset(buf, 0, sizeof(buf));
	for (left = size - 4096; left > 0; left -= (int64_t)sizeof(buf))
		cora_sha256_update(&h, buf, left < (int64_t)sizeof(buf) ?
				   (size_t)left : sizeof(buf));
	cora_sha256_final(&h, want);

	new_dataset(slug);
	snprintf(path, sizeof(path), "%s/sparse.tar", dir);
	craft(path, TAR, s, 1);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size < 16384);
	if (import(slug, path, &o, &stats))
		fail_msg("%s", cora_error_last());
	assert_int_equal(stats.bytes, (uint64_t)size);
	assert_string_equal(sha_of(slug, "sparse.raw", &info), want);
	assert_int_equal(info.size, size);
}

struct files_arg {
	json_t *out;
};

static int collect(void *arg, const char *path,
		   const struct cora_node_info *info)
{
	struct files_arg *f = arg;

	json_object_set_new(f->out, path, json_pack("{s:s, s:I, s:i}",
			    "sha256", info->sha256, "size",
			    (json_int_t)info->size, "mode", (int)info->mode));
	return 0;
}

static json_t *files_of(const char *slug)
{
	struct files_arg f = { json_object() };
	json_t *ds;

	assert_int_equal(cora_entity_get(cat, "Dataset", slug, &ds, NULL,
					 NULL), 0);
	assert_int_equal(cora_dataset_files(cat, cora_json_str(ds, "id"),
					    collect, &f), 0);
	json_decref(ds);
	return f.out;
}

/* export dataset -> import into a new dataset: same files, digests, modes
 * (and the link, except from a bag, which has none). */
static void test_import__round_trip(void **st)
{
	static const enum cora_archive_format fs[] = {
		CORA_ARCHIVE_ZIP, CORA_ARCHIVE_TAR, CORA_ARCHIVE_TAR_GZ,
		CORA_ARCHIVE_TAR_ZST,
	};
	struct cora_archive_stats stats;
	struct cora_node_info info;
	char slug[32], path[PATH_MAX];
	json_t *want = files_of("raw"), *got;
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		snprintf(path, sizeof(path), "%s/rt%s", dir,
			 cora_archive_suffix(fs[i], false));
		export_to("Dataset", "raw", fs[i], false, path, NULL);
		new_dataset(slug);
		if (import(slug, path, NULL, &stats))
			fail_msg("%s: %s", path, cora_error_last());
		assert_int_equal(stats.skipped, 2);
		got = files_of(slug);
		if (!json_equal(want, got)) {
			char *a = json_dumps(want, JSON_SORT_KEYS);
			char *b = json_dumps(got, JSON_SORT_KEYS);
			fail_msg("%s: %s != %s", path, a, b);
		}
		json_decref(got);
		sha_of(slug, "latest", &info);
		assert_int_equal(info.type, 'l');
		sha_of(slug, "empty-folder", &info);
		assert_int_equal(info.type, 'd');
		sha_of(slug, "notes", &info);
		assert_int_equal(info.mode, 0750);
	}
	json_decref(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_bundle__every_format_reads_back),
		cmocka_unit_test(test_export_bundle__bagit),
		cmocka_unit_test(test_export__deterministic),
		cmocka_unit_test(test_export_zip__stores_compressed_formats),
		cmocka_unit_test(test_export__refuses_unknown),
		cmocka_unit_test(test_import__refuses_names_leaving_the_dataset),
		cmocka_unit_test(test_import__refuses_links_out),
		cmocka_unit_test(test_import__refuses_hard_links_out),
		cmocka_unit_test(test_import__refuses_special_files),
		cmocka_unit_test(test_import__refuses_replacing),
		cmocka_unit_test(test_import__refuses_over_the_bounds),
		cmocka_unit_test(test_import__truncated_archive_changes_nothing),
		cmocka_unit_test(test_import__refuses_frozen_datasets),
		cmocka_unit_test(test_import__every_kind_of_entry),
		cmocka_unit_test(test_import__into_a_folder_and_other_formats),
		cmocka_unit_test(test_import__large_sparse_entry_under_the_bound),
		cmocka_unit_test(test_import__round_trip),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

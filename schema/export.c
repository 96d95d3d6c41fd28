/*
 * export.c: a bundle or dataset as a zip, tar, tar.gz, tar.zst or BagIt
 * archive (archives.h, EXPORT LAYOUT and invariants E1-E6).
 *
 * An export is planned, then written.  The plan is the list of every
 * entry (path, type, mode, mtime, digest; generated and tag files with
 * their bytes), built from the catalog and sorted by path; writing it
 * streams each file's blob into libarchive in fixed-size chunks.  The
 * plan is the only thing that grows with the export, by entry, never by
 * content.
 */
#include "schema/archives.h"

#include "schema/render.h"

#include "core/blobstore.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/projection.h"
#include "core/text.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <locale.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1u << 20)

static const struct {
	const char *name;
	enum cora_archive_format format;
	const char *suffix;
} formats[] = {
	{ "zip", CORA_ARCHIVE_ZIP, ".zip" },
	{ "tar", CORA_ARCHIVE_TAR, ".tar" },
	{ "tar.gz", CORA_ARCHIVE_TAR_GZ, ".tar.gz" },
	{ "tgz", CORA_ARCHIVE_TAR_GZ, ".tar.gz" },
	{ "tar.zst", CORA_ARCHIVE_TAR_ZST, ".tar.zst" },
	{ "bagit", CORA_ARCHIVE_BAGIT, ".bag.tar" },
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

/* cora_error_set() of a message on one line: paths may hold line breaks
 * and libarchive ends some messages with "\n", but the CLI prints the
 * message after "cora: " as one line.  Trailing control characters and
 * spaces go, the others become '?'. */
static int fail_one_line(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail_one_line(int code, const char *fmt, ...)
{
	char msg[1024], *c;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	while (n > 0 && ((unsigned char)msg[n - 1] < 0x20 ||
			 msg[n - 1] == 0x7f || msg[n - 1] == ' '))
		msg[--n] = '\0';
	for (c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return cora_error_set(code, "%s", msg);
}

int cora_archive_format_parse(enum cora_archive_format *out,
			      const char *name)
{
	size_t i;

	for (i = 0; i < NFORMATS; i++)
		if (name && strcmp(name, formats[i].name) == 0) {
			*out = formats[i].format;
			return 0;
		}
	return cora_error_set(CORA_EINVALID, "unknown archive format '%s': "
			      "use zip, tar, tar.gz, tar.zst or bagit",
			      name ? name : "");
}

const char *cora_archive_format_name(enum cora_archive_format f)
{
	size_t i;

	for (i = 0; i < NFORMATS; i++)
		if (formats[i].format == f)
			return formats[i].name;
	return "?";
}

const char *cora_archive_suffix(enum cora_archive_format f, bool bag_zip)
{
	size_t i;

	if (f == CORA_ARCHIVE_BAGIT && bag_zip)
		return ".bag.zip";
	for (i = 0; i < NFORMATS; i++)
		if (formats[i].format == f)
			return formats[i].suffix;
	return "";
}

/* ---- small helpers ---------------------------------------------------------- */

/* libarchive converts names through the locale's character set, and 3.6
 * dereferences a NULL name when a UTF-8 name cannot be converted (the
 * "C" locale).  So the archive work runs in a UTF-8 locale, for this
 * thread only.  (import.c has the same three functions.) */
struct ar_locale {
	locale_t mine, old;
};

static void ar_locale_enter(struct ar_locale *l)
{
	static const char *const names[] = { "C.UTF-8", "C.utf8",
					     "en_US.UTF-8" };
	size_t i;

	l->mine = (locale_t)0;
	l->old = (locale_t)0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && !l->mine; i++)
		l->mine = newlocale(LC_CTYPE_MASK, names[i], (locale_t)0);
	if (l->mine)
		l->old = uselocale(l->mine);
}

static void ar_locale_leave(struct ar_locale *l)
{
	if (!l->mine)
		return;
	uselocale(l->old);
	freelocale(l->mine);
	l->mine = (locale_t)0;
}

static bool ar_locale_utf8(const struct ar_locale *l)
{
	return l->mine != (locale_t)0;
}

/* A string being built; oom set on the first failed allocation. */
struct ar_str {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void ar_str_addn(struct ar_str *s, const char *text, size_t n)
{
	if (s->oom)
		return;
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 256;
		char *b;

		while (cap < s->len + n + 1)
			cap *= 2;
		b = realloc(s->buf, cap);
		if (!b) {
			s->oom = true;
			return;
		}
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, text, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

static void ar_str_add(struct ar_str *s, const char *text)
{
	ar_str_addn(s, text, strlen(text));
}

static void ar_str_addf(struct ar_str *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ar_str_addf(struct ar_str *s, const char *fmt, ...)
{
	char *t;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&t, fmt, ap);
	va_end(ap);
	if (n < 0) {
		s->oom = true;
		return;
	}
	ar_str_addn(s, t, (size_t)n);
	free(t);
}

/* "a/b" (b may be "": "a/"); NULL when out of memory. */
static char *ar_path(const char *a, const char *b)
{
	char *s;

	return asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

/* ---- the plan ------------------------------------------------------------- */

/* One entry of the archive. */
struct xent {
	char *path;              /* archive path, no trailing '/' */
	char type;               /* 'd' folder, 'f' blob file, 'l' link,
	                          * 'g' file whose bytes are in buf */
	uint32_t mode;
	int64_t mtime_ns;
	int64_t size;
	char sha256[CORA_SHA256_HEXLEN + 1];
	char *target;            /* links */
	char *buf;               /* 'g' */
};

struct plan {
	struct cora_catalog *cat;
	struct xent *v;
	size_t n, cap;
	bool bag;
	char *prefix;            /* "" or "<slug>/data/" */
	int64_t meta_ns;         /* time of synthetic entries */
	uint64_t payload_bytes, payload_files, skipped;
};

static void plan_release(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].path);
		free(p->v[i].target);
		free(p->v[i].buf);
	}
	free(p->v);
	free(p->prefix);
}

/* Appends an entry; takes ownership of path, target and buf (freed on
 * failure too). */
static int plan_add(struct plan *p, char *path, char type, uint32_t mode,
		    int64_t mtime_ns, int64_t size, const char *sha256,
		    char *target, char *buf)
{
	struct xent *e;

	if (!path)
		goto oom;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct xent *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			goto oom;
		p->v = v;
		p->cap = cap;
	}
	e = &p->v[p->n++];
	memset(e, 0, sizeof(*e));
	e->path = path;
	e->type = type;
	e->mode = mode;
	e->mtime_ns = mtime_ns;
	e->size = size;
	if (sha256)
		snprintf(e->sha256, sizeof(e->sha256), "%s", sha256);
	e->target = target;
	e->buf = buf;
	return 0;
oom:
	free(path);
	free(target);
	free(buf);
	return cora_error_set(CORA_ENOMEM, "out of memory");
}

static char *cat_path(const char *a, const char *b)
{
	char *s;

	return asprintf(&s, "%s%s", a, b) < 0 ? NULL : s;
}

/* A generated or tag file: its bytes, hashed now (they are small). */
static int plan_bytes(struct plan *p, char *path, char *buf, size_t len)
{
	char sha[CORA_SHA256_HEXLEN + 1];

	cora_sha256_buf(sha, buf, len);
	return plan_add(p, path, 'g', 0644, p->meta_ns, (int64_t)len, sha,
			NULL, buf);
}

static int64_t ar_time_ns(const char *rfc3339)
{
	int64_t us;

	if (!rfc3339 || cora_time_parse(&us, rfc3339) != 0)
		return 0;
	return us * 1000;
}

/* The dataset's nodes under `under` ("" or "<slug>/", after the prefix),
 * folders, files and links.  The root folder itself is not an entry; its
 * mode and mtime go to *root_mode, *root_ns. */
static int plan_nodes(struct plan *p, const char *dataset_id,
		      const char *under, uint32_t *root_mode,
		      int64_t *root_ns)
{
	sqlite3_stmt *s;
	int rc;

	*root_mode = 0755;
	*root_ns = p->meta_ns;
	rc = sqlite3_prepare_v2(p->cat->db,
		"SELECT mode, mtime_ns FROM nodes WHERE parent = 0 AND name = ?1",
		-1, &s, NULL);
	if (rc != SQLITE_OK)
		return cora_sqlite_error(p->cat, rc, "reading a dataset");
	sqlite3_bind_text(s, 1, dataset_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*root_mode = (uint32_t)sqlite3_column_int64(s, 0) & 07777;
		*root_ns = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;  /* discarded: no tree */
	if (rc != SQLITE_ROW)
		return cora_sqlite_error(p->cat, rc, "reading a dataset");

	rc = sqlite3_prepare_v2(p->cat->db,
		"WITH RECURSIVE t(ino, path, type) AS ("
		"  SELECT ino, name, type FROM nodes WHERE parent ="
		"   (SELECT ino FROM nodes WHERE parent = 0 AND name = ?1)"
		"  UNION ALL"
		"  SELECT n.ino, t.path || '/' || n.name, n.type"
		"  FROM nodes n JOIN t ON n.parent = t.ino WHERE t.type = 'd')"
		" SELECT t.path, t.type, n.size, n.sha256, n.mode, n.mtime_ns,"
		"  n.target FROM t JOIN nodes n ON n.ino = t.ino",
		-1, &s, NULL);
	if (rc != SQLITE_OK)
		return cora_sqlite_error(p->cat, rc, "listing a dataset");
	sqlite3_bind_text(s, 1, dataset_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(s, 0);
		const char *type = (const char *)sqlite3_column_text(s, 1);
		const char *sha = (const char *)sqlite3_column_text(s, 3);
		const char *target = (const char *)sqlite3_column_text(s, 6);
		int64_t size = sqlite3_column_int64(s, 2);
		uint32_t mode = (uint32_t)sqlite3_column_int64(s, 4) & 07777;
		int64_t ns = sqlite3_column_int64(s, 5);
		char *full;

		if (!path || !type) {
			rc = cora_error_set(CORA_ECORRUPT, "a node of dataset "
					    "%s has no name or type",
					    dataset_id);
			break;
		}
		if (type[0] == 'l' && p->bag) {
			p->skipped++;   /* E5 */
			continue;
		}
		if (asprintf(&full, "%s%s%s", p->prefix, under, path) < 0)
			full = NULL;
		switch (type[0]) {
		case 'd':
			rc = plan_add(p, full, 'd', mode, ns, 0, NULL, NULL,
				      NULL);
			break;
		case 'f':
			if (!sha || cora_text_sha256(sha, "sha256") != 0) {
				free(full);
				rc = fail_one_line(CORA_ECORRUPT, "file '%s' "
						   "of dataset %s has no "
						   "digest", path,
						   dataset_id);
				break;
			}
			rc = plan_add(p, full, 'f', mode, ns, size, sha, NULL,
				      NULL);
			p->payload_bytes += (uint64_t)size;
			p->payload_files++;
			break;
		case 'l':
			rc = plan_add(p, full, 'l', 0777, ns, 0, NULL,
				      strdup(target ? target : ""), NULL);
			break;
		default:
			free(full);
			rc = fail_one_line(CORA_ECORRUPT, "node '%s' of "
					   "dataset %s has type '%s'", path,
					   dataset_id, type);
		}
		if (rc)
			break;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	return rc < 0 ? rc : cora_sqlite_error(p->cat, rc, "listing a dataset");
}

/* The generated files of an entity, under the prefix. */
static int plan_docs(struct plan *p, const char *id, bool bundle)
{
	static const enum cora_doc_kind bundle_docs[] = {
		CORA_DOC_ROCRATE, CORA_DOC_PREVIEW, CORA_DOC_DATACITE,
	};
	static const enum cora_doc_kind dataset_docs[] = {
		CORA_DOC_ROCRATE, CORA_DOC_DATACITE,
	};
	const enum cora_doc_kind *kinds = bundle ? bundle_docs : dataset_docs;
	size_t n = bundle ? 3 : 2, i, len;
	char *buf;
	int rc;

	for (i = 0; i < n; i++) {
		rc = cora_render(p->cat, kinds[i], id, &buf, &len);
		if (rc)
			return rc;
		rc = plan_bytes(p, cat_path(p->prefix, cora_doc_name(kinds[i])),
				buf, len);
		if (rc)
			return rc;
		p->payload_bytes += len;
		p->payload_files++;
	}
	return 0;
}

/* E3: the day the entity was frozen, else its last change. */
static int bagging_date(struct plan *p, const json_t *state, char out[11])
{
	sqlite3_stmt *s;
	const char *at = NULL;
	char *copy = NULL;
	int rc;

	rc = sqlite3_prepare_v2(p->cat->db,
		"SELECT occurred_at FROM events WHERE stream_id = ?1"
		" AND event_type IN ('BundlePublished', 'BundleSealed',"
		"  'DatasetPromoted')"
		" ORDER BY event_type = 'BundlePublished' DESC, position DESC"
		" LIMIT 1", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return cora_sqlite_error(p->cat, rc, "reading the log");
	sqlite3_bind_text(s, 1, cora_json_str(state, "id"), -1,
			  SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_text(s, 0))
		copy = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cora_sqlite_error(p->cat, rc, "reading the log");
	at = copy ? copy : cora_json_str(state, "updated_at");
	snprintf(out, 11, "%.10s", at ? at : "1970-01-01");
	free(copy);
	return 0;
}

/* A manifest path: only '%', CR and LF are encoded (RFC 8493 2.1.3). */
static void add_manifest_path(struct ar_str *s, const char *path)
{
	for (; *path; path++) {
		if (*path == '%')
			ar_str_add(s, "%25");
		else if (*path == '\r')
			ar_str_add(s, "%0D");
		else if (*path == '\n')
			ar_str_add(s, "%0A");
		else
			ar_str_addn(s, path, 1);
	}
}

static int cmp_xent(const void *a, const void *b)
{
	return strcmp(((const struct xent *)a)->path,
		      ((const struct xent *)b)->path);
}

/* The tag files of a bag; the payload is planned and sorted. */
static int plan_bag(struct plan *p, const char *top, const json_t *state)
{
	static const char bagit[] = "BagIt-Version: 1.0\n"
				    "Tag-File-Character-Encoding: UTF-8\n";
	struct ar_str man = { 0 }, info = { 0 }, tag = { 0 };
	const char *names[3] = { "bagit.txt", "bag-info.txt",
				 "manifest-sha256.txt" };
	struct ar_str *bufs[3] = { NULL, &info, &man };
	size_t plen = strlen(p->prefix) - strlen("data/"), i;
	char date[11], sha[CORA_SHA256_HEXLEN + 1];
	char *b;
	int rc;

	for (i = 0; i < p->n; i++) {
		if (p->v[i].type != 'f' && p->v[i].type != 'g')
			continue;
		ar_str_add(&man, p->v[i].sha256);
		ar_str_add(&man, "  ");
		add_manifest_path(&man, p->v[i].path + plen);
		ar_str_add(&man, "\n");
	}
	if ((rc = bagging_date(p, state, date)))
		goto out;
	ar_str_addf(&info, "Bagging-Date: %s\n", date);
	ar_str_addf(&info, "External-Identifier: urn:uuid:%s\n",
		    cora_json_str(state, "id"));
	ar_str_addf(&info, "Payload-Oxum: %llu.%llu\n",
		    (unsigned long long)p->payload_bytes,
		    (unsigned long long)p->payload_files);
	for (i = 0; i < 3; i++) {
		const char *text = bufs[i] ? bufs[i]->buf : bagit;
		size_t len = bufs[i] ? bufs[i]->len : strlen(bagit);

		if (bufs[i] && bufs[i]->oom) {
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
			goto out;
		}
		cora_sha256_buf(sha, text ? text : "", len);
		ar_str_addf(&tag, "%s  %s\n", sha, names[i]);
		b = malloc(len + 1);
		if (!b) {
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
			goto out;
		}
		memcpy(b, text ? text : "", len);
		b[len] = '\0';
		rc = plan_bytes(p, ar_path(top, names[i]), b, len);
		if (rc)
			goto out;
	}
	if (tag.oom) {
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
		goto out;
	}
	rc = plan_bytes(p, ar_path(top, "tagmanifest-sha256.txt"), tag.buf,
			tag.len);
	tag.buf = NULL;
out:
	free(man.buf);
	free(info.buf);
	free(tag.buf);
	return rc;
}

static int build_plan(struct plan *p, const char *stream_type,
		      const json_t *state)
{
	const char *id = cora_json_str(state, "id");
	const char *slug = cora_json_str(state, "slug");
	bool bundle = strcmp(stream_type, "Bundle") == 0;
	uint32_t mode;
	int64_t ns;
	size_t i;
	int rc;

	p->prefix = p->bag ? ar_path(slug, "data/") : strdup("");
	if (!p->prefix)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	if ((rc = plan_docs(p, id, bundle)))
		return rc;
	if (bundle) {
		const json_t *v;

		json_array_foreach(json_object_get(state, "dataset_ids"), i,
				   v) {
			json_t *ds;
			char *under;

			rc = cora_entity_get(p->cat, "Dataset",
					     json_string_value(v), &ds, NULL,
					     NULL);
			if (rc == CORA_ENOTFOUND)
				rc = cora_error_set(CORA_ECORRUPT, "bundle "
						    "'%s' names dataset %s, "
						    "which does not exist",
						    slug, json_string_value(v));
			if (rc)
				return rc;
			under = ar_path(cora_json_str(ds, "slug"), "");
			rc = under ? plan_nodes(p, json_string_value(v), under,
						&mode, &ns) :
				     cora_error_set(CORA_ENOMEM,
						    "out of memory");
			if (rc == 0)
				rc = plan_add(p, cat_path(p->prefix,
					      cora_json_str(ds, "slug")), 'd',
					      mode, ns, 0, NULL, NULL, NULL);
			free(under);
			json_decref(ds);
			if (rc)
				return rc;
		}
		mode = 0755;
		ns = p->meta_ns;
	} else {
		rc = plan_nodes(p, id, "", &mode, &ns);
		if (rc)
			return rc;
	}
	if (p->bag) {
		/* data/ is the dataset's root folder, or a bundle's */
		rc = plan_add(p, ar_path(slug, "data"), 'd', mode, ns, 0, NULL,
			      NULL, NULL);
		if (rc == 0)
			rc = plan_add(p, strdup(slug), 'd', 0755, p->meta_ns, 0,
				      NULL, NULL, NULL);
		if (rc)
			return rc;
		qsort(p->v, p->n, sizeof(*p->v), cmp_xent);
		if ((rc = plan_bag(p, slug, state)))
			return rc;
	}
	qsort(p->v, p->n, sizeof(*p->v), cmp_xent);
	for (i = 1; i < p->n; i++)
		if (strcmp(p->v[i - 1].path, p->v[i].path) == 0)
			return fail_one_line(CORA_EINVALID, "cannot export "
					     "'%s': two entries are named "
					     "'%s'", slug, p->v[i].path);
	return 0;
}

/* ---- writing -------------------------------------------------------------- */

/* E4: formats that are compressed already. */
static bool stored_in_zip(const char *path)
{
	static const char *const exts[] = {
		".h5", ".hdf5", ".nxs", ".nx5", ".zip", ".gz", ".tgz", ".bz2",
		".xz", ".zst", ".7z", ".lz4", ".png", ".jpg", ".jpeg", ".gif",
		".webp", ".jp2", ".mp4", ".mkv",
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	if (!dot || strchr(dot, '/'))
		return false;
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcasecmp(dot, exts[i]) == 0)
			return true;
	return false;
}

struct writer {
	struct archive *a;
	struct archive_entry *e;
	struct cora_blobstore *bs;
	const struct cora_archive_progress *progress;
	bool zip, utf8;
	char *chunk;
	const char *label;        /* "bundle 'x'" for messages */
	int fd;
	int werr;                 /* errno of the first failed write(), or 0 */
};

static int ar_fail(struct writer *w, const char *what)
{
	const char *msg = w->werr ? strerror(w->werr) :
			  archive_error_string(w->a);

	return fail_one_line(CORA_EIO, "cannot export %s: %s: %s", w->label,
			     what, msg ? msg : "unknown libarchive error");
}

static int write_all(struct writer *w, const void *buf, size_t n,
		     const char *path)
{
	const char *p = buf;

	while (n > 0) {
		la_ssize_t k = archive_write_data(w->a, p, n);
		if (k <= 0 || w->werr)
			return ar_fail(w, path);
		p += k;
		n -= (size_t)k;
		if (w->progress->add)
			w->progress->add(w->progress->arg, (uint64_t)k);
	}
	return 0;
}

/* E2: the blob, in chunks. */
static int write_blob(struct writer *w, const struct xent *x)
{
	struct cora_blob_reader *r;
	uint64_t off = 0;
	size_t got;
	int rc = cora_blob_open(w->bs, x->sha256, &r);

	if (rc == CORA_ENOTFOUND)
		return fail_one_line(CORA_ENOTFOUND, "cannot export %s: the "
				     "blob of '%s' (%s) is missing", w->label,
				     x->path, x->sha256);
	if (rc)
		return rc;
	if (cora_blob_reader_size(r) != (uint64_t)x->size) {
		rc = fail_one_line(CORA_EMISMATCH, "cannot export %s: the "
				   "blob of '%s' has %llu bytes, the catalog "
				   "records %lld", w->label, x->path,
				   (unsigned long long)cora_blob_reader_size(r),
				   (long long)x->size);
		goto out;
	}
	while (off < (uint64_t)x->size) {
		rc = cora_blob_reader_read(r, w->chunk, CHUNK, off, &got);
		if (rc)
			goto out;
		if (got == 0) {
			rc = fail_one_line(CORA_EIO, "cannot export %s: the "
					   "blob of '%s' ended early",
					   w->label, x->path);
			goto out;
		}
		if ((rc = write_all(w, w->chunk, got, x->path)))
			goto out;
		off += got;
	}
out:
	cora_blob_reader_close(r);
	return rc;
}

static int write_entry(struct writer *w, const struct xent *x)
{
	struct archive_entry *e = w->e;
	int64_t sec = x->mtime_ns / 1000000000, nsec = x->mtime_ns % 1000000000;
	char *name = NULL;
	int rc;

	if (nsec < 0) {         /* before 1970: floor */
		sec -= 1;
		nsec += 1000000000;
	}
	archive_entry_clear(e);
	if (x->type == 'd')
		name = ar_path(x->path, "");
	if (x->type == 'd' && !name)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	if (w->utf8)
		archive_entry_set_pathname_utf8(e, name ? name : x->path);
	else
		archive_entry_copy_pathname(e, name ? name : x->path);
	free(name);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_copy_uname(e, "root");
	archive_entry_copy_gname(e, "root");
	archive_entry_set_mtime(e, (time_t)sec, (long)nsec);
	switch (x->type) {
	case 'd':
		archive_entry_set_filetype(e, AE_IFDIR);
		archive_entry_set_perm(e, x->mode);
		archive_entry_set_size(e, 0);
		break;
	case 'l':
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_perm(e, 0777);
		if (w->utf8)
			archive_entry_set_symlink_utf8(e, x->target);
		else
			archive_entry_copy_symlink(e, x->target);
		archive_entry_set_size(e, 0);
		break;
	default:
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, x->mode);
		archive_entry_set_size(e, x->size);
	}
	if (w->zip) {
		if (x->type != 'f' && x->type != 'g')
			archive_write_zip_set_compression_store(w->a);
		else if (x->size == 0 || stored_in_zip(x->path))
			archive_write_zip_set_compression_store(w->a);
		else
			archive_write_zip_set_compression_deflate(w->a);
	}
	if (archive_write_header(w->a, e) != ARCHIVE_OK || w->werr)
		return ar_fail(w, x->path);
	if (x->type == 'g')
		rc = write_all(w, x->buf, (size_t)x->size, x->path);
	else if (x->type == 'f')
		rc = write_blob(w, x);
	else
		rc = 0;
	if (rc == 0 && (archive_write_finish_entry(w->a) != ARCHIVE_OK ||
			w->werr))
		rc = ar_fail(w, x->path);
	return rc;
}

/*
 * The output, as archive_write_open_fd() does it, but a failed write()
 * is not passed on to libarchive: it is kept in w->werr, the rest of the
 * bytes are dropped, and the caller stops at its next check of werr.  A
 * write error is fatal to libarchive, and archive_write_free() of an
 * archive in the fatal state does not close it, so libarchive 3.6 leaks
 * the zip format's deflate stream (libarchive issue 1740, PR 2729); kept
 * out of its sight, the archive is closed and freed as usual.
 */
static int out_open(struct archive *a, void *arg)
{
	struct writer *w = arg;
	struct stat st;

	if (fstat(w->fd, &st) != 0) {
		archive_set_error(a, errno, "cannot stat the output");
		return ARCHIVE_FATAL;
	}
	/* what archive_write_open_fd() does: pad the last block only for
	 * devices and standard output */
	if (archive_write_get_bytes_in_last_block(a) < 0)
		archive_write_set_bytes_in_last_block(a,
			S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ||
			w->fd == 1 ? 0 : 1);
	return ARCHIVE_OK;
}

static la_ssize_t out_write(struct archive *a, void *arg, const void *buf,
			    size_t n)
{
	struct writer *w = arg;
	ssize_t k;

	(void)a;
	if (w->werr)
		return (la_ssize_t)n;
	do
		k = write(w->fd, buf, n);
	while (k < 0 && errno == EINTR);
	if (k > 0)
		return k;
	w->werr = k < 0 ? errno : EIO;
	return (la_ssize_t)n;
}

static int open_writer(struct writer *w, const struct cora_export_opts *o,
		       int fd)
{
	bool zip = o->format == CORA_ARCHIVE_ZIP ||
		   (o->format == CORA_ARCHIVE_BAGIT && o->bag_zip);
	int r;

	w->a = archive_write_new();
	w->e = archive_entry_new();
	w->chunk = malloc(CHUNK);
	if (!w->a || !w->e || !w->chunk)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	w->zip = zip;
	if (zip) {
		/* E1: DOS times are local; make local time UTC. */
		setenv("TZ", "UTC0", 1);
		tzset();
		r = archive_write_set_format_zip(w->a);
	} else {
		r = archive_write_set_format_pax(w->a);
	}
	if (r == ARCHIVE_OK && o->format == CORA_ARCHIVE_TAR_GZ) {
		r = archive_write_add_filter_gzip(w->a);
		if (r == ARCHIVE_OK)
			r = archive_write_set_filter_option(w->a, "gzip",
							    "timestamp", NULL);
	} else if (r == ARCHIVE_OK && o->format == CORA_ARCHIVE_TAR_ZST) {
		r = archive_write_add_filter_zstd(w->a);
	}
	if (r == ARCHIVE_OK && !zip)
		r = archive_write_set_bytes_in_last_block(w->a, 1);
	w->fd = fd;
	if (r == ARCHIVE_OK)
		r = archive_write_open(w->a, w, out_open, out_write, NULL);
	return r == ARCHIVE_OK ? 0 : ar_fail(w, "cannot start the archive");
}

static void close_writer(struct writer *w)
{
	if (w->a)
		archive_write_free(w->a);
	archive_entry_free(w->e);
	free(w->chunk);
}

int cora_export(struct cora_catalog *cat, const char *stream_type,
		const char *ref, int fd, const struct cora_export_opts *o,
		struct cora_archive_stats *stats)
{
	struct plan p = { .cat = cat };
	struct writer w = { 0 };
	struct ar_locale loc;
	char label[200];
	const char *noun;
	json_t *state;
	uint64_t total = 0;
	bool snapshot;
	size_t i;
	int rc;

	if (stats)
		memset(stats, 0, sizeof(*stats));
	noun = strcmp(stream_type, "Bundle") == 0 ? "bundle" : "dataset";
	rc = cora_entity_get(cat, stream_type, ref, &state, NULL, NULL);
	if (rc == CORA_ENOTFOUND)
		return cora_error_set(CORA_ENOTFOUND, "%s '%s' does not exist",
				      noun, ref);
	if (rc)
		return rc;
	snprintf(label, sizeof(label), "%s '%s'", noun,
		 cora_json_str(state, "slug") ? cora_json_str(state, "slug") :
		 ref);
	if (!cat->blobs) {
		json_decref(state);
		return cora_error_set(CORA_EINVALID, "cannot export %s: the "
				      "catalog was opened without its blob "
				      "store", label);
	}
	p.bag = o->format == CORA_ARCHIVE_BAGIT;
	p.meta_ns = ar_time_ns(cora_json_str(state, "updated_at"));
	/* one read transaction: the plan is one state of the catalog even
	 * while others write (WAL snapshot) */
	snapshot = cat->tx_depth == 0 && cora_exec_sql(cat, "BEGIN") == 0;
	rc = build_plan(&p, stream_type, state);
	if (snapshot)
		cora_exec_sql(cat, rc == 0 ? "COMMIT" : "ROLLBACK");
	json_decref(state);

	w.bs = cat->blobs;
	w.progress = &o->progress;
	w.label = label;
	for (i = 0; i < p.n; i++)
		if (p.v[i].type == 'f' || p.v[i].type == 'g')
			total += (uint64_t)p.v[i].size;
	ar_locale_enter(&loc);
	w.utf8 = ar_locale_utf8(&loc);
	if (rc == 0)
		rc = open_writer(&w, o, fd);
	if (rc == 0 && w.progress->start)
		w.progress->start(w.progress->arg, total);
	for (i = 0; i < p.n && rc == 0; i++) {
		rc = write_entry(&w, &p.v[i]);
		if (rc == 0 && stats) {
			switch (p.v[i].type) {
			case 'd': stats->folders++; break;
			case 'l': stats->links++; break;
			default:
				stats->files++;
				stats->bytes += (uint64_t)p.v[i].size;
			}
		}
	}
	if (rc == 0 && (archive_write_close(w.a) != ARCHIVE_OK || w.werr))
		rc = ar_fail(&w, "cannot finish the archive");
	close_writer(&w);
	ar_locale_leave(&loc);
	if (stats)
		stats->skipped = p.skipped;
	plan_release(&p);
	return rc;
}

/*
 * import.c: an archive into a Trial dataset, all or nothing (archives.h,
 * IMPORT RULES I1-I8 and the states of an import).
 *
 * One pass over the archive builds the plan, the list of folders, files
 * and links the import will make, parents before children, with an index
 * from path to plan item.  Each regular file's bytes go straight from
 * libarchive into a blob writer (hashed while stored), so memory grows
 * with the number of entries, never with their size.  When the archive
 * has been read to its end and every link checked, one transaction sends
 * a command per item and commits; any failure before or inside it leaves
 * the log untouched.
 */
#include "schema/archives.h"
#include "schema/render.h"

#include "core/aggregate.h"
#include "core/blobstore.h"
#include "core/command.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/projection.h"
#include "core/text.h"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Links followed while resolving one link target, at most (as the
 * kernel's MAXSYMLINKS). */
#define MAX_HOPS 40

/* ---- locale (as in export.c) ------------------------------------------------- */

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
}

/* ---- the plan ---------------------------------------------------------------- */

struct item {
	char *path;              /* in the dataset */
	char type;               /* 'd', 'f', 'l' */
	bool exists;             /* the dataset has it (folder: merge;
	                          * file: replace) */
	uint32_t mode;
	int64_t mtime_ns;
	int64_t size;
	char sha256[CORA_SHA256_HEXLEN + 1];
	char *target;            /* links */
	char *entry;             /* the entry's name, for messages */
};

struct imp {
	struct cora_catalog *cat;
	struct archive *a;
	const char *label;       /* the archive, for messages */
	const char *into;        /* "" or a folder */
	char dataset_id[37];
	char *slug;
	uint64_t max_size, max_ratio, max_entries;
	const struct cora_archive_progress *progress;
	uint64_t reported;       /* archive bytes reported to progress */
	int64_t default_ns;      /* mtime for entries without one */

	struct item *v;
	size_t n, cap;
	json_t *index;           /* path -> position in v */

	uint64_t out;            /* bytes expanded so far */
	uint64_t entries;
	struct cora_archive_stats st;
	char *zeros;             /* CHUNK of zeros, for sparse holes */
};

#define CHUNK (64u << 10)

static void imp_release(struct imp *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].path);
		free(m->v[i].target);
		free(m->v[i].entry);
	}
	free(m->v);
	json_decref(m->index);
	free(m->slug);
	free(m->zeros);
}

/* An entry name fit for a one-line message: control characters as '?',
 * at most 300 bytes. */
static void printable(char out[304], const char *name)
{
	size_t i;

	for (i = 0; name && name[i] && i < 300; i++)
		out[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ?
			 '?' : name[i];
	if (name && name[i])
		out[i++] = '.', out[i++] = '.', out[i++] = '.';
	out[i] = '\0';
}

/* Makes s one line: control characters trailing it (libarchive ends some
 * messages with "\n") dropped, the others '?'.  Entry names, link
 * targets and libarchive's words all go into messages the CLI prints
 * after "cora: " on one line. */
static void one_line(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && ((unsigned char)s[n - 1] < 0x20 ||
			 s[n - 1] == 0x7f || s[n - 1] == ' '))
		s[--n] = '\0';
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* "cannot import 'x.tar': entry 'name' <what>", CORA_EINVALID. */
static int refuse(struct imp *m, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct imp *m, const char *name, const char *fmt, ...)
{
	char what[600], shown[304];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	one_line(what);
	printable(shown, name);
	return cora_error_set(CORA_EINVALID, "cannot import '%s': entry '%s' "
			      "%s", m->label, shown, what);
}

/* libarchive's complaint, CORA_EINVALID (a bad archive is bad input). */
static int unreadable(struct imp *m, const char *name)
{
	const char *msg = archive_error_string(m->a);
	char shown[304], why[512];

	snprintf(why, sizeof(why), "%s", msg ? msg : "");
	one_line(why);
	if (!name)
		return cora_error_set(CORA_EINVALID, "cannot import '%s': %s",
				      m->label, *why ? why : "cannot read it");
	printable(shown, name);
	return cora_error_set(CORA_EINVALID, "cannot import '%s': entry '%s' "
			      "cannot be read: %s", m->label, shown,
			      *why ? why : "the archive is truncated or damaged");
}

static ssize_t find(struct imp *m, const char *path)
{
	json_t *v = json_object_get(m->index, path);

	return v ? (ssize_t)json_integer_value(v) : -1;
}

/* Appends an item (path copied); *out is its position. */
static int add_item(struct imp *m, const char *path, char type,
		    const char *entry, size_t *out)
{
	struct item *it;

	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 256;
		struct item *v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return cora_error_set(CORA_ENOMEM, "out of memory");
		m->v = v;
		m->cap = cap;
	}
	it = &m->v[m->n];
	memset(it, 0, sizeof(*it));
	it->path = strdup(path);
	it->entry = strdup(entry);
	it->type = type;
	if (!it->path || !it->entry ||
	    json_object_set_new(m->index, path, json_integer((json_int_t)m->n))) {
		free(it->path);
		free(it->entry);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	*out = m->n++;
	return 0;
}

/* The type of the dataset's node at path, 0 when there is none. */
static int node_type(struct imp *m, const char *path, char *type)
{
	struct cora_node_info info;
	int rc = cora_node_get(m->cat, m->dataset_id, path, &info);

	*type = 0;
	if (rc == CORA_ENOTFOUND || rc == CORA_ENOTDIR) {
		cora_error_clear();
		return 0;
	}
	if (rc)
		return rc;
	*type = info.type;
	return 0;
}

/* The target of the dataset's link at path (new string), or NULL. */
static int node_target(struct imp *m, const char *path, char **out)
{
	struct cora_node_info info;
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	rc = cora_node_get(m->cat, m->dataset_id, path, &info);
	if (rc == CORA_ENOTFOUND || rc == CORA_ENOTDIR) {
		cora_error_clear();
		return 0;
	}
	if (rc || info.type != 'l')
		return rc;
	s = cora_stmt(m->cat, "SELECT target FROM nodes WHERE ino = ?1");
	if (!s)
		return cora_error_code();
	sqlite3_bind_int64(s, 1, info.ino);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_text(s, 0))
		*out = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return cora_sqlite_error(m->cat, rc, "reading a link");
	return *out ? 0 : cora_error_set(CORA_ENOMEM, "out of memory");
}

static const char *kind(char type)
{
	return type == 'd' ? "folder" : type == 'l' ? "link" : "file";
}

/* Makes sure every folder above path is planned or exists (implied
 * parents get 0755 and the child's time). */
static int need_parents(struct imp *m, const char *path, const char *entry,
			int64_t ns)
{
	char *p = strdup(path), *slash;
	size_t pos;
	ssize_t at;
	char type;
	int rc = 0;

	if (!p)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	for (slash = strchr(p, '/'); slash && rc == 0;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		at = find(m, p);
		if (at >= 0) {
			if (m->v[at].type != 'd')
				rc = refuse(m, entry, "would go inside the %s "
					    "'%s'", kind(m->v[at].type), p);
		} else if ((rc = node_type(m, p, &type)) == 0) {
			if (type && type != 'd')
				rc = refuse(m, entry, "would go inside the %s "
					    "'%s' of dataset '%s'",
					    kind(type), p, m->slug);
			else if ((rc = add_item(m, p, 'd', entry, &pos)) == 0) {
				m->v[pos].exists = type == 'd';
				m->v[pos].mode = 0755;
				m->v[pos].mtime_ns = ns;
			}
		}
		*slash = '/';
	}
	free(p);
	return rc;
}

/* ---- names -------------------------------------------------------------------- */

enum { NAME_OK, NAME_ABSOLUTE, NAME_DOTDOT, NAME_LEAVES };

/* Drops empty and "." components of a relative name; *out is the result
 * ("" for the root).  Absolute names and ".." are refused (I1). */
static int normalise(const char *raw, char **out, int *why)
{
	const char *s = raw, *e;
	size_t len = strlen(raw), n = 0;
	long depth = 0;
	char *o;

	*out = NULL;
	*why = NAME_OK;
	if (raw[0] == '/') {
		*why = NAME_ABSOLUTE;
		return 0;
	}
	o = malloc(len + 1);
	if (!o)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	while (*s) {
		e = strchr(s, '/');
		if (!e)
			e = s + strlen(s);
		if (e - s == 2 && s[0] == '.' && s[1] == '.') {
			*why = --depth < 0 ? NAME_LEAVES : NAME_DOTDOT;
			if (*why == NAME_LEAVES)
				break;
		} else if (e > s && !(e - s == 1 && s[0] == '.')) {
			if (n)
				o[n++] = '/';
			memcpy(o + n, s, (size_t)(e - s));
			n += (size_t)(e - s);
			depth++;
		}
		s = *e ? e + 1 : e;
	}
	o[n] = '\0';
	if (*why != NAME_OK) {
		free(o);
		return 0;
	}
	*out = o;
	return 0;
}

/* The dataset path (into/name) of an archive name (I1).  hard_of: the
 * hard link whose target name is meant, for messages (else NULL). */
static int dataset_path(struct imp *m, const char *raw, const char *hard_of,
			char **out)
{
	char *rel;
	int why, rc;

	*out = NULL;
	if ((rc = normalise(raw, &rel, &why)))
		return rc;
	if (why != NAME_OK && hard_of)
		return refuse(m, hard_of, "is a hard link to '%s', outside "
			      "the dataset", raw);
	if (why == NAME_ABSOLUTE)
		return refuse(m, raw, "has an absolute path");
	if (why == NAME_LEAVES)
		return refuse(m, raw, "leaves the dataset");
	if (why == NAME_DOTDOT)
		return refuse(m, raw, "has a '..' component");
	if (*m->into && *rel) {
		char *full;

		if (asprintf(&full, "%s/%s", m->into, rel) < 0) {
			free(rel);
			return cora_error_set(CORA_ENOMEM, "out of memory");
		}
		free(rel);
		rel = full;
	}
	*out = rel;
	return 0;
}

/* ---- content ----------------------------------------------------------------- */

/* Counts expanded bytes against the bounds (I7) and hands them on. */
static int emit(struct imp *m, struct cora_blob_writer *w, const char *name,
		const void *buf, size_t n)
{
	uint64_t in;
	int rc;

	if (n > m->max_size || m->out > m->max_size - n)
		return cora_error_set(CORA_EINVALID, "cannot import '%s': it "
				      "expands to more than %llu bytes "
				      "(--max-size)", m->label,
				      (unsigned long long)m->max_size);
	m->out += n;
	in = (uint64_t)archive_filter_bytes(m->a, -1);
	if (in == 0)
		in = 1;
	if (m->out > CORA_IMPORT_RATIO_FLOOR && m->max_ratio != UINT64_MAX &&
	    m->out / in >= m->max_ratio && m->out > m->max_ratio * in) {
		char shown[304];

		printable(shown, name);
		return cora_error_set(CORA_EINVALID, "cannot import '%s': "
				      "entry '%s' expands it more than %llu "
				      "times (--max-ratio)", m->label, shown,
				      (unsigned long long)m->max_ratio);
	}
	if (in > m->reported && m->progress->add) {
		m->progress->add(m->progress->arg, in - m->reported);
		m->reported = in;
	}
	if ((rc = cora_blob_writer_write(w, buf, n)))
		return rc;
	return 0;
}

static int emit_zeros(struct imp *m, struct cora_blob_writer *w,
		      const char *name, uint64_t n)
{
	int rc = 0;

	while (n > 0 && rc == 0) {
		size_t k = n > CHUNK ? CHUNK : (size_t)n;
		rc = emit(m, w, name, m->zeros, k);
		n -= k;
	}
	return rc;
}

/* Streams the current entry into a blob: sha256 and size of item it. */
static int read_content(struct imp *m, struct archive_entry *e,
			const char *name, struct item *it)
{
	struct cora_blob_writer *w;
	const void *buf;
	size_t len;
	la_int64_t off;
	uint64_t pos = 0, size;
	int r, rc;

	if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
	    ((uint64_t)archive_entry_size(e) > m->max_size ||
	     m->out > m->max_size - (uint64_t)archive_entry_size(e)))
		return cora_error_set(CORA_EINVALID, "cannot import '%s': it "
				      "expands to more than %llu bytes "
				      "(--max-size)", m->label,
				      (unsigned long long)m->max_size);
	if ((rc = cora_blob_writer_new(m->cat->blobs, NULL, &w)))
		return rc;
	for (;;) {
		r = archive_read_data_block(m->a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			rc = unreadable(m, name);
			break;
		}
		if (off < 0 || (uint64_t)off < pos) {
			rc = refuse(m, name, "has overlapping data blocks");
			break;
		}
		if ((uint64_t)off > pos)     /* a sparse hole */
			rc = emit_zeros(m, w, name, (uint64_t)off - pos);
		if (rc == 0 && len)
			rc = emit(m, w, name, buf, len);
		if (rc)
			break;
		pos = (uint64_t)off + len;
	}
	/* a hole at the end of a sparse entry */
	if (rc == 0 && archive_entry_size_is_set(e) &&
	    archive_entry_size(e) > 0 && (uint64_t)archive_entry_size(e) > pos)
		rc = emit_zeros(m, w, name,
				(uint64_t)archive_entry_size(e) - pos);
	if (rc) {
		cora_blob_writer_abort(w);
		return rc;
	}
	if ((rc = cora_blob_writer_commit(w, it->sha256, &size)))
		return rc;
	it->size = (int64_t)size;
	m->st.bytes += size;
	return 0;
}

/* ---- entries ------------------------------------------------------------------ */

static bool is_generated(const char *path)
{
	return cora_doc_reserved(path, strlen(path));
}

/* True when path's first component is a generated name. */
static bool generated_root(const char *path)
{
	return cora_doc_reserved(path, strcspn(path, "/"));
}

static uint32_t clean_mode(mode_t mode, char type)
{
	uint32_t m = (uint32_t)mode & 0777;

	return m ? m : type == 'd' ? 0755 : 0644;
}

/* I6: where the entry's path may go; *pos is the item to fill, or
 * (size_t)-1 when a folder entry merges into a planned folder. */
static int place(struct imp *m, const char *name, const char *path,
		 char type, size_t *pos, bool *merge)
{
	ssize_t at = find(m, path);
	char have;
	int rc;

	*merge = false;
	if (at >= 0) {
		char old = m->v[at].type;

		if (old == 'd' && type == 'd') {
			*pos = (size_t)at;
			*merge = true;
			return 0;
		}
		if (old == 'd')
			return refuse(m, name, "would replace a folder with a "
				      "%s", kind(type));
		if (type == 'd')
			return refuse(m, name, "would replace a %s with a "
				      "folder", kind(old));
		return refuse(m, name, "appears twice in the archive");
	}
	if ((rc = node_type(m, path, &have)))
		return rc;
	if (have == 'd' && type != 'd')
		return refuse(m, name, "would replace the folder '%s' of "
			      "dataset '%s' with a %s", path, m->slug,
			      kind(type));
	if (have && have != 'd' && type == 'd')
		return refuse(m, name, "would replace the %s '%s' of dataset "
			      "'%s' with a folder", kind(have), path, m->slug);
	if (have == 'l' || (have == 'f' && type == 'l'))
		return refuse(m, name, "would replace the %s '%s' of dataset "
			      "'%s' with a %s", kind(have), path, m->slug,
			      kind(type));
	if ((rc = add_item(m, path, type, name, pos)))
		return rc;
	m->v[*pos].exists = have != 0;
	return 0;
}

/* The entry's mtime in ns.  Times past what int64 ns hold (before 1678,
 * after 2262: a tar or ar header can say year 2533) are clamped to the
 * nearest one it holds; the plain sum overflowed. */
static int64_t entry_ns(struct archive_entry *e)
{
	int64_t ns;

	if (__builtin_mul_overflow((int64_t)archive_entry_mtime(e),
				   (int64_t)1000000000, &ns) ||
	    __builtin_add_overflow(ns, (int64_t)archive_entry_mtime_nsec(e),
				   &ns))
		return archive_entry_mtime(e) < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

static int one_entry(struct imp *m, struct archive_entry *e)
{
	const char *name = archive_entry_pathname_utf8(e);
	const char *hard = NULL, *link = NULL;
	char *path = NULL, *hpath = NULL;
	size_t pos;
	ssize_t at;
	bool merge;
	int64_t ns;
	char type;
	int rc;

	if (!name)
		name = archive_entry_pathname(e);
	if (!name)
		return cora_error_set(CORA_EINVALID, "cannot import '%s': an "
				      "entry has no name", m->label);
	if (!cora_utf8_valid(name, strlen(name)))
		return refuse(m, name, "has a name that is not UTF-8");
	if (++m->entries > m->max_entries)
		return cora_error_set(CORA_EINVALID, "cannot import '%s': it "
				      "has more than %llu entries "
				      "(--max-entries)", m->label,
				      (unsigned long long)m->max_entries);
	if (archive_entry_hardlink(e)) {
		hard = archive_entry_hardlink_utf8(e);
		if (!hard)
			hard = archive_entry_hardlink(e);
	}
	switch (archive_entry_filetype(e)) {
	case AE_IFREG: type = 'f'; break;
	case AE_IFDIR: type = 'd'; break;
	case AE_IFLNK: type = 'l'; break;
	case AE_IFCHR:
	case AE_IFBLK:
		return refuse(m, name, "is a device node");
	case AE_IFIFO:
		return refuse(m, name, "is a FIFO");
	case AE_IFSOCK:
		return refuse(m, name, "is a socket");
	default:
		if (!hard)
			return refuse(m, name, "is not a file, folder or link");
		type = 'f';
	}
	if (hard)
		type = 'f';
	ns = archive_entry_mtime_is_set(e) ? entry_ns(e) : m->default_ns;

	if ((rc = dataset_path(m, name, NULL, &path)))
		return rc;
	if (!*path) {                   /* the archive's root folder */
		free(path);
		if (type == 'd')
			return 0;
		return refuse(m, name, "has no name");
	}
	if ((rc = cora_text_relpath(path, "path"))) {
		rc = refuse(m, name, "has a bad name: %s", cora_error_last());
		goto out;
	}
	if (!*m->into && is_generated(path) && type == 'f' && !hard) {
		m->st.skipped++;        /* the catalog generates its own */
		goto out;
	}
	if (!*m->into && generated_root(path)) {
		rc = refuse(m, name, "uses a name the catalog generates at "
			    "the dataset root");
		goto out;
	}
	if ((rc = need_parents(m, path, name, ns)) ||
	    (rc = place(m, name, path, type, &pos, &merge)))
		goto out;
	m->v[pos].mtime_ns = ns;
	m->v[pos].mode = clean_mode(archive_entry_perm(e), type);
	if (merge || type == 'd')
		goto out;

	if (type == 'l') {
		link = archive_entry_symlink_utf8(e);
		if (!link)
			link = archive_entry_symlink(e);
		if (!link || !*link) {
			rc = refuse(m, name, "is a link without a target");
			goto out;
		}
		if (link[0] == '/') {
			rc = refuse(m, name, "is a link to '%s', outside the "
				    "dataset", link);
			goto out;
		}
		m->v[pos].target = strdup(link);
		if (!m->v[pos].target)
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
		m->st.links++;
		goto out;
	}
	if (hard && !(archive_entry_size_is_set(e) &&
		      archive_entry_size(e) > 0)) {
		/* I5: a copy of a file named before */
		if ((rc = dataset_path(m, hard, name, &hpath)))
			goto out;
		at = find(m, hpath);
		if (at < 0 || m->v[at].type != 'f' || (size_t)at == pos ||
		    !m->v[at].sha256[0]) {
			rc = refuse(m, name, "is a hard link to '%s', which is "
				    "not a file earlier in the archive", hard);
			goto out;
		}
		memcpy(m->v[pos].sha256, m->v[at].sha256,
		       sizeof(m->v[pos].sha256));
		m->v[pos].size = m->v[at].size;
		m->st.files++;
		m->st.bytes += (uint64_t)m->v[at].size;
		goto out;
	}
	if (hard && (rc = dataset_path(m, hard, name, &hpath)))
		goto out;
	if ((rc = read_content(m, e, name, &m->v[pos])) == 0)
		m->st.files++;
out:
	free(path);
	free(hpath);
	return rc;
}

/* ---- links -------------------------------------------------------------------- */

/* The target of the link at path, in the plan or the dataset (borrowed
 * or in *own), or NULL when path is not a link. */
static int link_at(struct imp *m, const char *path, const char **target,
		   char **own)
{
	ssize_t at = find(m, path);

	*target = NULL;
	*own = NULL;
	if (at >= 0) {
		if (m->v[at].type == 'l')
			*target = m->v[at].target;
		return 0;
	}
	if (node_target(m, path, own))
		return cora_error_code();
	*target = *own;
	return 0;
}

/* I4: resolves the link of item it through the folders and links of the
 * plan and the dataset; refuses when it climbs above the root. */
static int check_link(struct imp *m, const struct item *it)
{
	char *stack = malloc(strlen(it->path) + 1);
	char *queue = NULL, *own = NULL;
	const char *c, *next, *t;
	size_t top, qlen;
	int hops = 0, rc = 0;
	char *slash;

	/* stack: the resolved folder so far; queue: what is left */
	if (!stack)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	strcpy(stack, it->path);
	slash = strrchr(stack, '/');
	top = slash ? (size_t)(slash - stack) : 0;
	stack[top] = '\0';
	queue = strdup(it->target);
	if (!queue) {
		free(stack);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	c = queue;
	while (*c && rc == 0) {
		size_t len;

		next = strchr(c, '/');
		len = next ? (size_t)(next - c) : strlen(c);
		if (len == 0 || (len == 1 && c[0] == '.')) {
			c += len + (next ? 1 : 0);
			continue;
		}
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			if (top == 0 && !stack[0]) {
				rc = refuse(m, it->entry, "is a link to '%s', "
					    "outside the dataset", it->target);
				break;
			}
			slash = strrchr(stack, '/');
			top = slash ? (size_t)(slash - stack) : 0;
			stack[top] = '\0';
			c += len + (next ? 1 : 0);
			continue;
		}
		/* push the component */
		{
			char *grown = realloc(stack, top + len + 2);
			if (!grown) {
				rc = cora_error_set(CORA_ENOMEM,
						    "out of memory");
				break;
			}
			stack = grown;
			if (top)
				stack[top++] = '/';
			memcpy(stack + top, c, len);
			top += len;
			stack[top] = '\0';
		}
		c += len + (next ? 1 : 0);
		if (!next || !*c)
			break;          /* the last component is not followed */
		free(own);
		if ((rc = link_at(m, stack, &t, &own)))
			break;
		if (!t)
			continue;
		if (++hops > MAX_HOPS) {
			rc = refuse(m, it->entry, "is a link to '%s', which "
				    "goes through too many links", it->target);
			break;
		}
		if (t[0] == '/') {
			rc = refuse(m, it->entry, "is a link to '%s', which "
				    "goes through a link outside the dataset",
				    it->target);
			break;
		}
		/* replace the component by the link's target */
		slash = strrchr(stack, '/');
		top = slash ? (size_t)(slash - stack) : 0;
		stack[top] = '\0';
		{
			char *rest;

			qlen = strlen(c);
			if (asprintf(&rest, "%s/%.*s", t, (int)qlen, c) < 0) {
				rc = cora_error_set(CORA_ENOMEM,
						    "out of memory");
				break;
			}
			free(queue);
			queue = rest;
			c = queue;
		}
	}
	free(own);
	free(queue);
	free(stack);
	return rc;
}

/* ---- committing --------------------------------------------------------------- */

static int command(struct imp *m, const char *name, json_t *cmd)
{
	int rc;

	if (!cmd)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	rc = cora_command(m->cat, name, m->dataset_id, cmd, NULL);
	json_decref(cmd);
	return rc;
}

static int commit(struct imp *m)
{
	const struct item *it;
	size_t i;
	int rc = cora_tx_begin(m->cat);

	for (i = 0; i < m->n && rc == 0; i++) {
		it = &m->v[i];
		if (it->type == 'd' && !it->exists)
			rc = command(m, "dataset.add_folder",
				     json_pack("{s:s, s:i, s:I}", "path",
					       it->path, "mode", (int)it->mode,
					       "mtime_ns",
					       (json_int_t)it->mtime_ns));
		else if (it->type == 'f')
			rc = command(m, "dataset.put_file",
				     json_pack("{s:s, s:s, s:I, s:i, s:I}",
					       "path", it->path, "sha256",
					       it->sha256, "size",
					       (json_int_t)it->size, "mode",
					       (int)it->mode, "mtime_ns",
					       (json_int_t)it->mtime_ns));
		else if (it->type == 'l')
			rc = command(m, "dataset.add_symlink",
				     json_pack("{s:s, s:s, s:I}", "path",
					       it->path, "target", it->target,
					       "mtime_ns",
					       (json_int_t)it->mtime_ns));
	}
	/* folders last, deepest first, so their times stick */
	for (i = m->n; i-- > 0 && rc == 0;) {
		it = &m->v[i];
		if (it->type == 'd' && !it->exists)
			rc = command(m, "dataset.set_mtime",
				     json_pack("{s:s, s:I}", "path", it->path,
					       "mtime_ns",
					       (json_int_t)it->mtime_ns));
	}
	if (rc == 0)
		return cora_tx_commit(m->cat);
	cora_tx_rollback(m->cat);
	return rc;
}

/* ---- the import ------------------------------------------------------------ */

static int open_dataset(struct imp *m, const char *ref)
{
	const char *status, *intent;
	json_t *ds;
	int rc = cora_entity_get(m->cat, "Dataset", ref, &ds, NULL, NULL);

	if (rc == CORA_ENOTFOUND)
		return cora_error_set(CORA_ENOTFOUND, "dataset '%s' does not "
				      "exist", ref);
	if (rc)
		return rc;
	snprintf(m->dataset_id, sizeof(m->dataset_id), "%s",
		 cora_json_str(ds, "id"));
	m->slug = strdup(cora_json_str(ds, "slug") ? cora_json_str(ds, "slug")
			 : ref);
	status = cora_json_str(ds, "status");
	intent = cora_json_str(ds, "intent");
	if (!m->slug)
		rc = cora_error_set(CORA_ENOMEM, "out of memory");
	else if (!status || strcmp(status, "Registered") != 0)
		rc = cora_error_set(CORA_ESTATE, "cannot import '%s' into "
				    "dataset '%s': it is %s", m->label,
				    m->slug, status ? status : "unknown");
	else if (!intent || strcmp(intent, "Trial") != 0)
		rc = cora_error_set(CORA_ESTATE, "cannot import '%s' into "
				    "dataset '%s': it is %s, not Trial",
				    m->label, m->slug,
				    intent ? intent : "unknown");
	json_decref(ds);
	return rc;
}

int cora_import(struct cora_catalog *cat, const char *dataset,
		const char *path, const struct cora_import_opts *o,
		struct cora_archive_stats *stats)
{
	static const struct cora_import_opts dflt = { 0 };
	struct imp m = { .cat = cat };
	struct archive_entry *e;
	struct ar_locale loc;
	struct stat sb;
	size_t i;
	int r, rc;

	if (!o)
		o = &dflt;
	if (stats)
		memset(stats, 0, sizeof(*stats));
	m.label = o->label ? o->label : path;
	m.into = o->into ? o->into : "";
	m.max_size = o->max_size ? o->max_size : CORA_IMPORT_MAX_SIZE;
	m.max_ratio = o->max_ratio ? o->max_ratio : CORA_IMPORT_MAX_RATIO;
	m.max_entries = o->max_entries ? o->max_entries :
			CORA_IMPORT_MAX_ENTRIES;
	m.progress = &o->progress;
	if (*m.into && cora_text_relpath(m.into, "--into"))
		return CORA_EINVALID;
	if (!cat->blobs)
		return cora_error_set(CORA_EINVALID, "cannot import '%s': the "
				      "catalog was opened without its blob "
				      "store", m.label);
	if (stat(path, &sb) != 0)
		return cora_error_sys(CORA_ENOTFOUND, "cannot import '%s'",
				      m.label);
	if (S_ISDIR(sb.st_mode))
		return cora_error_set(CORA_EISDIR, "cannot import '%s': it is "
				      "a folder (use cora dataset ingest)",
				      m.label);
	m.default_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
		       sb.st_mtim.tv_nsec;
	if ((rc = open_dataset(&m, dataset))) {
		imp_release(&m);
		return rc;
	}
	m.index = json_object();
	m.zeros = calloc(1, CHUNK);
	if (!m.index || !m.zeros) {
		imp_release(&m);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	if (*m.into) {
		char have;

		/* the folder itself, made when missing */
		rc = node_type(&m, m.into, &have);
		if (rc == 0 && have && have != 'd')
			rc = cora_error_set(CORA_ENOTDIR, "cannot import '%s' "
					    "into '%s': it is a %s of dataset "
					    "'%s'", m.label, m.into, kind(have),
					    m.slug);
		if (rc == 0)
			rc = need_parents(&m, m.into, m.into, m.default_ns);
		if (rc == 0) {
			size_t pos;
			bool merge;

			rc = place(&m, m.into, m.into, 'd', &pos, &merge);
			if (rc == 0 && !merge && !m.v[pos].exists) {
				m.v[pos].mode = 0755;
				m.v[pos].mtime_ns = m.default_ns;
			}
		}
		if (rc) {
			imp_release(&m);
			return rc;
		}
	}

	ar_locale_enter(&loc);
	m.a = archive_read_new();
	if (!m.a) {
		ar_locale_leave(&loc);
		imp_release(&m);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	archive_read_support_filter_all(m.a);
	archive_read_support_format_all(m.a);
	if (m.progress->start)
		m.progress->start(m.progress->arg, (uint64_t)sb.st_size);
	if (archive_read_open_filename(m.a, path, 1 << 16) != ARCHIVE_OK)
		rc = unreadable(&m, NULL);
	while (rc == 0) {
		r = archive_read_next_header(m.a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			rc = unreadable(&m, NULL);
			break;
		}
		rc = one_entry(&m, e);
	}
	if (rc == 0 && archive_read_close(m.a) != ARCHIVE_OK)
		rc = unreadable(&m, NULL);
	archive_read_free(m.a);
	ar_locale_leave(&loc);
	for (i = 0; i < m.n && rc == 0; i++)
		if (m.v[i].type == 'l')
			rc = check_link(&m, &m.v[i]);
	if (rc == 0) {
		for (i = 0; i < m.n; i++)
			if (m.v[i].type == 'd' && !m.v[i].exists)
				m.st.folders++;
		rc = commit(&m);
	}
	if (rc == 0 && m.progress->add && (uint64_t)sb.st_size > m.reported)
		m.progress->add(m.progress->arg,
				(uint64_t)sb.st_size - m.reported);
	if (rc == 0 && stats)
		*stats = m.st;
	imp_release(&m);
	return rc;
}

/*
 * archives.h: bundles and datasets as archives (export), and archives
 * into a Trial dataset (import), with libarchive.
 *
 * EXPORT LAYOUT (persistent: people publish these files)
 *
 *   zip, tar, tar.gz, tar.zst: the entity's folder as the mount shows it,
 *   at the archive root (no top folder):
 *
 *       ro-crate-metadata.json     generated (cora_render)
 *       ro-crate-preview.html      generated (bundles only)
 *       datacite.xml               generated
 *       <dataset-slug>/...         bundle: one folder per member dataset
 *       ...                        dataset: its own files and folders
 *
 *   bagit: a BagIt 1.0 bag (RFC 8493) whose top folder is the slug; the
 *   payload (data/) is exactly the layout above, so data/ is the RO-Crate
 *   root (RO-Crate 1.2 "RO-Crate in BagIt"):
 *
 *       <slug>/bagit.txt                  "BagIt-Version: 1.0" and
 *                                         "Tag-File-Character-Encoding: UTF-8"
 *       <slug>/bag-info.txt               Bagging-Date, External-Identifier,
 *                                         Payload-Oxum
 *       <slug>/data/...                   the payload
 *       <slug>/manifest-sha256.txt        "<hex>  data/<path>" per payload file
 *       <slug>/tagmanifest-sha256.txt     the three tag files above
 *
 *   The bag is written as a tar (pax), or as a zip with bag_zip.
 *
 * INVARIANTS OF AN EXPORT
 *
 *   E1. Deterministic: the same catalog state gives the same bytes (with
 *       the same libarchive, zlib and zstd).  Entries come in the byte
 *       order of their paths (so a folder precedes its contents); every
 *       entry has uid = gid = 0, uname = gname = "root", no atime, ctime
 *       or birth time; files and folders keep their recorded mode and
 *       mtime_ns; generated files, tag files and folders that are not
 *       dataset nodes get mode 0644 / 0755 and the entity's updated_at.
 *       gzip carries no time stamp; zstd runs single-threaded; zip keeps
 *       its DOS time plus the mtime-only "UT" extra field (the only UTC
 *       time zip has; a function of the catalog) and a "ux" field with
 *       uid/gid 0.  DOS times are local time by definition, so
 *       cora_export() writes zips with TZ=UTC0 (see there).
 *   E2. Streaming: blob contents go to the archive in 1 MiB chunks
 *       (cora_blob_open + read); memory is bounded by the number of
 *       entries, never by their size.  Nothing is re-hashed: manifests
 *       carry the digests the catalog stored.  Generated and tag files
 *       (small) are rendered in memory and hashed.
 *   E3. Bagging-Date is the date of the bundle's publication (else its
 *       seal; for a dataset, its promotion), else of its updated_at: never
 *       today.  External-Identifier is urn:uuid:<entity id>.
 *   E4. zip entries whose names end in a compressed format's extension
 *       (.h5 .hdf5 .nxs .nx5 .zip .gz .tgz .bz2 .xz .zst .7z .lz4 .png
 *       .jpg .jpeg .gif .webp .jp2 .mp4 .mkv) are stored; everything else,
 *       TIFF included (detector TIFFs are mostly uncompressed), is
 *       deflated.  Empty files and folders are stored.
 *   E5. Symbolic links are links in tar and zip; a bag has none (BagIt
 *       payload manifests list regular files only), so a bag leaves them
 *       out and counts them in stats->skipped.
 *   E6. An unsealed bundle exports like any other; only a sealed or
 *       published one is frozen, so only its archive stays the same.
 *
 * IMPORT RULES
 *
 *   Readable: every format and filter of libarchive (tar and its gz, bz2,
 *   xz, zst, lz4 compressions; zip, 7z, cpio, iso9660, ar, ...).  Names are
 *   normalised: empty and "." components are dropped ("./a//b" is
 *   "a/b"); the entry naming the archive root itself is skipped.  Then an
 *   entry is refused, and nothing is imported, when:
 *
 *   I1. its name is absolute, or has a ".." component ("leaves the
 *       dataset" when it climbs above the root);
 *   I2. its name fails cora_text_relpath() (UTF-8, length, ...);
 *   I3. it is a device node, a FIFO, a socket or of unknown type;
 *   I4. it is a symbolic link whose target is absolute or resolves,
 *       through the folders and other links of the dataset and the
 *       archive, to a place outside the dataset (or loops);
 *   I5. it is a hard link without data whose target is not a regular file
 *       named earlier in the archive: hard links are imported as copies
 *       (same digest, so no bytes are stored twice);
 *   I6. it would replace a folder with a file or link, a file with a folder
 *       or link, or anything with itself: a path may appear only once in
 *       an archive, except a folder, whose later entries update its mode
 *       and time.  Against the dataset: an existing folder is merged into,
 *       an existing file is replaced by a file (like cp), anything else is
 *       refused;
 *   I7. the archive expands to more than max_size bytes (file contents,
 *       sparse holes included), or, once past CORA_IMPORT_RATIO_FLOOR
 *       bytes, to more than max_ratio times the archive bytes read so far
 *       (archive_filter_bytes(a, -1)), or has more than max_entries
 *       entries;
 *   I8. it cannot be read (damaged or truncated archive, bad checksum).
 *
 *   Permission bits are kept without setuid, setgid and sticky (mode &
 *   0777; 0 becomes 0644 / 0755); owners, xattrs and ACLs are dropped.
 *   Files named ro-crate-metadata.json, ro-crate-preview.html or
 *   datacite.xml at the dataset root are skipped (the catalog makes its
 *   own; so an export imports back), counted in stats->skipped; any other
 *   use of those names at the root (a folder, a link) is refused.
 *
 * STATES OF AN IMPORT, and the function behind each transition
 *
 *     READING --entry ok: blob put (cora_blob_writer)--> READING
 *     READING --refusal or read error: writer aborted--> FAILED
 *     READING --end: link check--> COMMITTING
 *     COMMITTING --cora_tx_begin, one command per entry, folder mtimes,
 *                  cora_tx_commit--> DONE
 *     COMMITTING --any command fails: cora_tx_rollback--> FAILED
 *
 *   FAILED appends no event: the dataset is exactly as before (its
 *   version too).  Blobs stored before the failure are garbage for
 *   `cora gc`.
 *
 * Errors: 0 or a negative CORA_E* code with the thread-local message, one
 * line, naming the archive and the entry:
 *
 *     cannot import 'x.tar': entry '../etc/passwd' leaves the dataset
 *
 * Threads: one call at a time per catalog (it uses the connection).  Both
 * functions switch the calling thread to a UTF-8 locale (uselocale) while
 * libarchive runs, because libarchive 3.6 crashes on non-ASCII names in
 * the "C" locale; cora_export() of a zip also sets TZ (process-wide).
 */
#ifndef CORA_ARCHIVES_H
#define CORA_ARCHIVES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/catalog.h"

enum cora_archive_format {
	CORA_ARCHIVE_ZIP,
	CORA_ARCHIVE_TAR,      /* POSIX pax (mtimes to the nanosecond) */
	CORA_ARCHIVE_TAR_GZ,
	CORA_ARCHIVE_TAR_ZST,
	CORA_ARCHIVE_BAGIT,    /* a bag, in a tar (default) or a zip */
};

/* "zip", "tar", "tar.gz" (or "tgz"), "tar.zst", "bagit": 0, or
 * CORA_EINVALID naming the choices. */
int cora_archive_format_parse(enum cora_archive_format *out,
			      const char *name);

/* The name of a format ("tar.zst") and the usual file name suffix
 * (".tar.zst"; a bag: ".bag.tar" or ".bag.zip"). */
const char *cora_archive_format_name(enum cora_archive_format f);
const char *cora_archive_suffix(enum cora_archive_format f, bool bag_zip);

/* Progress: start once with the total, then bytes as they pass. */
struct cora_archive_progress {
	void (*start)(void *arg, uint64_t total);
	void (*add)(void *arg, uint64_t n);
	void *arg;
};

struct cora_archive_stats {
	uint64_t files;    /* regular files (generated and tag files too) */
	uint64_t folders;
	uint64_t links;    /* symbolic links (import: hard links as copies
	                    * count as files) */
	uint64_t skipped;  /* export: links left out of a bag; import:
	                    * generated names at the root */
	uint64_t bytes;    /* bytes of file content */
};

struct cora_export_opts {
	enum cora_archive_format format;
	bool bag_zip;                     /* bagit: a zip, not a tar */
	struct cora_archive_progress progress; /* members may be NULL */
};

/* Writes the archive of entity `ref` (id or slug) of stream_type
 * "Bundle" or "Dataset" to fd (not closed; written sequentially, so a
 * pipe will do).  stats may be NULL.  On failure the bytes written so far
 * are garbage: write to a temporary file and rename.  For zip output it
 * sets TZ=UTC0 and calls tzset() (process-wide, not restored: restoring
 * would race other threads just the same). */
int cora_export(struct cora_catalog *cat, const char *stream_type,
		const char *ref, int fd, const struct cora_export_opts *o,
		struct cora_archive_stats *stats);

/* Import bounds (defaults; a 0 in the options means the default). */
#define CORA_IMPORT_MAX_SIZE (64ULL << 30)      /* 64 GiB expanded */
#define CORA_IMPORT_MAX_RATIO 200ULL            /* expanded / archive */
#define CORA_IMPORT_MAX_ENTRIES 1000000ULL
#define CORA_IMPORT_RATIO_FLOOR (1ULL << 20)    /* ratio checked past this */

struct cora_import_opts {
	uint64_t max_size;      /* UINT64_MAX: no bound */
	uint64_t max_ratio;     /* UINT64_MAX: no bound */
	uint64_t max_entries;
	const char *into;       /* folder of the dataset ("" or NULL: root);
	                         * made if missing */
	const char *label;      /* the archive's name in messages (NULL:
	                         * the path) */
	struct cora_archive_progress progress; /* over archive bytes read */
};

/* Imports the archive at path into the Trial dataset `dataset` (id or
 * slug), all or nothing (see IMPORT RULES).  o and stats may be NULL. */
int cora_import(struct cora_catalog *cat, const char *dataset,
		const char *path, const struct cora_import_opts *o,
		struct cora_archive_stats *stats);

#endif

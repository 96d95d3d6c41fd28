/*
 * fuzz_import.c: libFuzzer target for cora_import (schema/archives.h):
 * the input bytes are an archive (any format or filter libarchive reads).
 *
 * One scratch catalog (under $TMPDIR, /dev/shm when there is one, made
 * again every RESET inputs so it stays small and removed at exit).  The
 * archive goes into a Trial dataset holding a folder "d", a file "d/f",
 * a file "top.txt" and a link "l" -> "d", so archives meet existing
 * nodes: a fresh one whenever an import changed the last one.  It is
 * imported three times: at the root, at the root again (every path it
 * made now exists) and --into "in/to".
 *
 * Properties: no crash, leak or sanitizer report; an import either
 * succeeds or fails with a CORA_E* code and a non-empty message of one
 * line (no control characters: the CLI prints it after "cora: "); a
 * failed import leaves the log head and the dataset's version exactly as
 * they were (all or nothing); after a successful import (at the root)
 * the dataset exports as a zip and as a tar, and the tar imports back
 * into an empty dataset.  FUZZ_VERBOSE=1 prints every result.
 */
#include "schema/archives.h"

#include "core/blobstore.h"
#include "core/catalog.h"
#include "core/command.h"
#include "core/error.h"
#include "core/projection.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define RESET 400          /* inputs per scratch catalog */

static char top[512];           /* the scratch folder */
static char root[PATH_MAX];     /* its catalog */
static char input[PATH_MAX];    /* the archive file */
static char exported[PATH_MAX]; /* an export of it */
static struct cora_catalog *cat;
static unsigned long serial;    /* datasets registered */
static unsigned long inputs;
static char file_sha[CORA_SHA256_HEXLEN + 1];
static bool verbose;            /* FUZZ_VERBOSE=1: print each result */

static void die(const char *what)
{
	fprintf(stderr, "fuzz_import: %s: %s\n", what, cora_error_last());
	abort();
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void close_catalog(void)
{
	if (cat)
		cora_catalog_free(cat);
	cat = NULL;
	rm_tree(root);
}

static void cleanup(void)
{
	close_catalog();
	rm_tree(top);
}

static void open_catalog(void)
{
	uint64_t n;

	if (cora_catalog_create(root, NULL))
		die("cora_catalog_create");
	/* NORMAL: nothing here needs to survive a power cut */
	if (cora_catalog_open(&cat, root, CORA_OPEN_SYNC_NORMAL))
		die("cora_catalog_open");
	if (cora_blob_put_buf(cat->blobs, "existing\n", 9, NULL, file_sha, &n))
		die("blob put");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	struct stat sb;

	(void)argc;
	(void)argv;
	if (!tmp || !*tmp)
		tmp = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) &&
		      access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(top, sizeof(top), "%s/cora-fuzz-import-XXXXXX", tmp);
	if (!mkdtemp(top)) {
		perror("fuzz_import: mkdtemp");
		abort();
	}
	snprintf(root, sizeof(root), "%s/cat", top);
	snprintf(input, sizeof(input), "%s/input", top);
	snprintf(exported, sizeof(exported), "%s/export", top);
	verbose = getenv("FUZZ_VERBOSE") && *getenv("FUZZ_VERBOSE") == '1';
	atexit(cleanup);
	open_catalog();
	return 0;
}

static void cmd(const char *name, const char *target, json_t *args)
{
	if (!args || cora_command(cat, name, target, args, NULL))
		die(name);
	json_decref(args);
}

static void snap(const char *slug, int64_t *head, int64_t *version)
{
	json_t *st = NULL;

	if (cora_store_head(cat, head) ||
	    cora_entity_get(cat, "Dataset", slug, &st, version, NULL))
		die("snapshot");
	json_decref(st);
}

static void check_message(int rc)
{
	const char *msg = cora_error_last();
	const unsigned char *p;

	if (rc > 0 || rc < CORA_ENOTDIR) {
		fprintf(stderr, "import returned %d, not a CORA_E* code\n", rc);
		abort();
	}
	if (!*msg) {
		fprintf(stderr, "import failed (%d) without a message\n", rc);
		abort();
	}
	for (p = (const unsigned char *)msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(stderr, "import message has control character "
				"0x%02x: %s\n", *p, msg);
			abort();
		}
}

static int import_once(const char *slug, const char *into)
{
	struct cora_import_opts o = {
		/* small bounds: an input must not take seconds */
		.max_size = 8u << 20,
		.max_entries = 2000,
		.into = into,
		.label = "fuzz.archive",
	};
	struct cora_archive_stats st;
	int64_t head0, ver0, head1, ver1;
	int rc;

	snap(slug, &head0, &ver0);
	cora_error_clear();
	rc = cora_import(cat, slug, input, &o, &st);
	snap(slug, &head1, &ver1);
	if (verbose)
		fprintf(stderr, "import %s%s%s: %d %s\n", slug,
			into ? " --into " : "", into ? into : "", rc,
			rc ? cora_error_last() : "");
	if (rc == 0)
		return 0;
	check_message(rc);
	if (head0 != head1 || ver0 != ver1) {
		fprintf(stderr, "a failed import (%s) changed the log: head "
			"%lld -> %lld, dataset version %lld -> %lld\n",
			cora_error_last(), (long long)head0, (long long)head1,
			(long long)ver0, (long long)ver1);
		abort();
	}
	return rc;
}

/* Exports dataset slug as a zip and as a tar, which must work, and
 * imports the tar into a new empty dataset, which must work too (an
 * export imports back, archives.h). */
static void round_trip(const char *slug)
{
	static const enum cora_archive_format formats[] = {
		CORA_ARCHIVE_ZIP, CORA_ARCHIVE_TAR };
	struct cora_export_opts eo = { 0 };
	struct cora_import_opts io = { .label = "export.tar" };
	char back[40];
	size_t i;
	int fd, rc;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		fd = open(exported, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0600);
		if (fd < 0) {
			perror("fuzz_import: export file");
			abort();
		}
		eo.format = formats[i];
		rc = cora_export(cat, "Dataset", slug, fd, &eo, NULL);
		close(fd);
		if (rc) {
			fprintf(stderr, "export of an imported dataset failed: "
				"%s\n", cora_error_last());
			abort();
		}
	}
	snprintf(back, sizeof(back), "rt-%lu", ++serial);
	cmd("dataset.register", NULL, json_pack("{s:s}", "slug", back));
	if (cora_import(cat, back, exported, &io, NULL)) {
		fprintf(stderr, "an export does not import back: %s\n",
			cora_error_last());
		abort();
	}
}

/* Registers dataset fz-N with its existing nodes, as slug. */
static void new_dataset(char slug[40])
{
	snprintf(slug, 40, "fz-%lu", ++serial);
	cmd("dataset.register", NULL, json_pack("{s:s}", "slug", slug));
	cmd("dataset.add_folder", slug, json_pack("{s:s, s:i, s:I}", "path",
	    "d", "mode", 0755, "mtime_ns", (json_int_t)1000000000));
	cmd("dataset.put_file", slug, json_pack("{s:s, s:s, s:I, s:i, s:I}",
	    "path", "d/f", "sha256", file_sha, "size", (json_int_t)9,
	    "mode", 0644, "mtime_ns", (json_int_t)1000000000));
	cmd("dataset.put_file", slug, json_pack("{s:s, s:s, s:I, s:i, s:I}",
	    "path", "top.txt", "sha256", file_sha, "size", (json_int_t)9,
	    "mode", 0644, "mtime_ns", (json_int_t)1000000000));
	cmd("dataset.add_symlink", slug, json_pack("{s:s, s:s, s:I}", "path",
	    "l", "target", "d", "mtime_ns", (json_int_t)1000000000));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the dataset of the last input, while no import changed it (most
	 * inputs are refused: registering one per input would be most of
	 * the time spent) */
	static char slug[40];
	static int64_t fresh_version;
	int64_t head, version;
	size_t done = 0;
	ssize_t w;
	int fd;

	if (inputs && inputs % RESET == 0) {
		close_catalog();
		open_catalog();
		slug[0] = '\0';
	}
	inputs++;

	fd = open(input, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror("fuzz_import: input");
		abort();
	}
	while (done < size) {
		w = write(fd, data + done, size - done);
		if (w <= 0) {
			perror("fuzz_import: write");
			abort();
		}
		done += (size_t)w;
	}
	close(fd);

	if (!slug[0]) {
		new_dataset(slug);
		snap(slug, &head, &fresh_version);
	}
	if (import_once(slug, NULL) == 0)
		round_trip(slug);
	import_once(slug, NULL);
	import_once(slug, "in/to");
	snap(slug, &head, &version);
	if (version != fresh_version)
		slug[0] = '\0';
	cora_error_clear();
	return 0;
}

/*
 * cmd_blobs.c: `cora blobs ...`: where a catalog's blobs live.
 *
 *     cora blobs info [--check]
 *     cora blobs migrate --to s3|local [--endpoint URL --bucket B
 *                        --region R --prefix P --addressing A] [--dry-run]
 *
 * `info` prints the store's settings, where the S3 credentials come from
 * (never the credentials), and the cache's use; --check also asks the
 * bucket for one listing page.
 *
 * `migrate` copies every blob a file refers to (the nodes projection,
 * which is also what gc keeps) into the new store, each put with its
 * digest as the expected one so a corrupt copy is refused, then switches
 * CATALOG/config's `blobs` (and s3.* keys) by one atomic rename.  It
 * copies in two passes: the bulk without locks, then, holding the
 * catalog's write lock so no new reference can appear, whatever was added
 * meanwhile, and the switch.  The old store is left intact; the command
 * says how to remove it.  A running corafs keeps using the store it
 * opened: unmount before migrating.
 */
#include "cli/cli.h"

#include "core/config.h"
#include "core/error.h"
#include "store/store.h"

#include <fcntl.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COPY_BUF (4 * 1024 * 1024)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cora blobs info [--check]\n"
		"       cora blobs migrate --to s3|local [--endpoint URL] "
		"[--bucket B]\n"
		"                          [--region R] [--prefix P] "
		"[--addressing path|virtual]\n"
		"                          [--dry-run]\n"
		"  info: where blobs live, where S3 credentials come from, "
		"cache use\n"
		"  migrate: copy every referenced blob to the other store "
		"(verified), then\n  switch the catalog to it; the old store "
		"is left intact\n");
}

static const char *cfg(const json_t *c, const char *key, const char *dflt)
{
	const char *v = json_string_value(json_object_get(c, key));

	return v && *v ? v : dflt;
}

/* ---- info ----------------------------------------------------------- */

static int blobs_info(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const json_t *conf = cli->cat->config;
	const char *kind = cfg(conf, "blobs", "local");
	struct cora_blobstore *bs = cli->cat->blobs;
	char source[300] = "", buf[32], buf2[32];
	uint64_t used = 0, limit = 0;
	bool check = false, cached;
	json_t *out;
	int c, rc = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'c') {
			check = true;
		} else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	cached = cora_blob_cache_usage(bs, &used, &limit) == 0;
	cora_error_clear();
	out = json_pack("{s:s}", "blobs", kind);
	if (!strcmp(kind, "local")) {
		char *p = NULL;
		if (asprintf(&p, "%s/blobs", cli->cat->root) > 0)
			json_object_set_new(out, "path", json_string(p));
		free(p);
	} else if (!strcmp(kind, "s3")) {
		rc = cora_s3_check(cli->cat->root, conf, source);
		if (rc)
			goto out;
		json_object_set_new(out, "endpoint",
				    json_string(cfg(conf, "s3.endpoint", "")));
		json_object_set_new(out, "bucket",
				    json_string(cfg(conf, "s3.bucket", "")));
		json_object_set_new(out, "region",
				    json_string(cfg(conf, "s3.region", "us-east-1")));
		json_object_set_new(out, "prefix",
				    json_string(cfg(conf, "s3.prefix", "")));
		json_object_set_new(out, "addressing",
				    json_string(cfg(conf, "s3.addressing", "path")));
		json_object_set_new(out, "credentials", json_string(source));
	}
	if (cached) {
		json_object_set_new(out, "cache_used", json_integer((json_int_t)used));
		json_object_set_new(out, "cache_size", json_integer((json_int_t)limit));
	}
	if (check && !strcmp(kind, "s3")) {
		rc = cora_s3_probe(bs);
		json_object_set_new(out, "reachable", json_boolean(rc == 0));
		if (rc)
			goto out;
	}
	if (cli->json) {
		cli_print_json(out);
	} else {
		const char *k;
		json_t *v;
		json_object_foreach(out, k, v) {
			if (json_is_integer(v))
				printf("%s: %s\n", k, cli_bytes(!strcmp(k, "cache_used") ?
				       buf : buf2, (double)json_integer_value(v)));
			else if (json_is_boolean(v))
				printf("%s: %s\n", k, json_is_true(v) ? "yes" : "no");
			else
				printf("%s: %s\n", k, json_string_value(v));
		}
	}
out:
	json_decref(out);
	return rc ? cli_fail(cli, rc) : 0;
}

/* ---- migrate -------------------------------------------------------- */

struct migration {
	struct cli *cli;
	struct cora_blobstore *src, *dst; /* bare stores: no cache churn */
	json_t *done;                     /* {sha256: true} */
	uint64_t copied, present, bytes;
	bool dry;
	struct cli_progress prog;
};

/* Copies one blob, verified by its digest; counts it. */
static int copy_blob(struct migration *m, const char *sha, uint64_t size)
{
	struct cora_blob_reader *r = NULL;
	struct cora_blob_writer *w = NULL;
	uint64_t have, off = 0;
	char *path = NULL, *buf;
	size_t n;
	int rc;

	rc = m->dst->exists(m->dst, sha, &have);
	if (rc == 0 && have == size) {
		m->present++;
		return 0;
	}
	if (rc && rc != CORA_ENOTFOUND)
		return rc;
	cora_error_clear();
	if (m->dry) {
		m->copied++;
		m->bytes += size;
		return 0;
	}
	if (m->src->path && m->src->path(m->src, sha, &path) == 0) {
		rc = m->dst->put_file(m->dst, path, sha, NULL, &have);
		free(path);
	} else {
		buf = malloc(COPY_BUF);
		if (!buf)
			return cora_error_set(CORA_ENOMEM, "out of memory");
		rc = m->src->open(m->src, sha, &r);
		if (rc == 0)
			rc = m->dst->writer_new(m->dst, sha, &w);
		while (rc == 0 && off < r->size) {
			rc = r->read(r, buf, COPY_BUF, off, &n);
			if (rc == 0 && n == 0)
				rc = cora_error_set(CORA_EIO, "blob '%s' ended "
						    "early", sha);
			if (rc == 0)
				rc = w->write(w, buf, n);
			off += n;
		}
		/* the commit checks the digest: a bad copy is refused */
		if (w && rc == 0)
			rc = w->commit(w, NULL, &have);
		else if (w)
			w->abort(w);
		cora_blob_reader_close(r);
		free(buf);
	}
	if (rc)
		return rc;
	m->copied++;
	m->bytes += have;
	cli_progress_add(&m->prog, have);
	return 0;
}

/* Copies every referenced blob not copied yet. */
static int copy_referenced(struct migration *m)
{
	sqlite3_stmt *st;
	const char *sha;
	int rc = 0, s;

	st = cora_stmt(m->cli->cat, "SELECT sha256, max(size) FROM nodes "
		       "WHERE type = 'f' AND sha256 IS NOT NULL GROUP BY sha256");
	if (!st)
		return cora_error_code();
	while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
		sha = (const char *)sqlite3_column_text(st, 0);
		if (!sha || json_object_get(m->done, sha))
			continue;
		rc = copy_blob(m, sha, (uint64_t)sqlite3_column_int64(st, 1));
		if (rc == 0)
			json_object_set_new(m->done, sha, json_true());
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = cora_sqlite_error(m->cli->cat, s, "listing blobs");
	sqlite3_reset(st);
	return rc;
}

static bool same_s3(const json_t *a, const json_t *b)
{
	static const char *const keys[] = { "s3.endpoint", "s3.bucket",
					    "s3.prefix" };
	size_t i;

	for (i = 0; i < 3; i++)
		if (strcmp(cfg(a, keys[i], ""), cfg(b, keys[i], "")) != 0)
			return false;
	return true;
}

static int save_config(struct cli *cli, const json_t *conf)
{
	char *path;
	int fd, rc;

	if (asprintf(&path, "%s/config", cli->cat->root) < 0)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	rc = cora_config_save(conf, path, 0600);
	free(path);
	if (rc)
		return rc;
	/* the rename is the switch: make it durable */
	fd = open(cli->cat->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) != 0)
			rc = cora_error_sys(CORA_EIO, "cannot fsync '%s'",
					    cli->cat->root);
		close(fd);
	}
	return rc;
}

static void cleanup_hint(struct cli *cli, const char *from, const json_t *old)
{
	const char *prefix = cfg(old, "s3.prefix", "");
	const char *slash = *prefix && prefix[strlen(prefix) - 1] != '/' ?
			    "/" : "";

	if (!strcmp(from, "local"))
		printf("the old blobs are still in '%s/blobs'; once you are "
		       "sure, remove them with: rm -rf '%s/blobs'\n",
		       cli->cat->root, cli->cat->root);
	else
		printf("the old objects are still in s3 bucket '%s' under "
		       "'%s%ssha256/' at %s; once you are sure, remove them "
		       "with your S3 tools, e.g.: aws s3 rm --recursive "
		       "s3://%s/%s%ssha256/\n", cfg(old, "s3.bucket", "?"),
		       prefix, slash, cfg(old, "s3.endpoint", "?"),
		       cfg(old, "s3.bucket", "?"), prefix, slash);
}

static int blobs_migrate(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "endpoint", required_argument, NULL, 1000 },
		{ "bucket", required_argument, NULL, 1001 },
		{ "region", required_argument, NULL, 1002 },
		{ "prefix", required_argument, NULL, 1003 },
		{ "addressing", required_argument, NULL, 1004 },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = { "s3.endpoint", "s3.bucket",
		"s3.region", "s3.prefix", "s3.addressing" };
	struct migration m = { .cli = cli };
	struct cora_blobstore *dst = NULL, *bare;
	const json_t *old = cli->cat->config;
	const char *from = cfg(old, "blobs", "local"), *to = NULL;
	json_t *conf;
	char buf[32];
	int c, rc;
	bool locked = false;

	conf = json_deep_copy(old);
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 't') {
			to = optarg;
		} else if (c == 'n') {
			m.dry = true;
		} else if (c >= 1000 && c <= 1004) {
			json_object_set_new(conf, keys[c - 1000],
					    json_string(optarg));
		} else {
			usage(c == 'h' ? stdout : stderr);
			json_decref(conf);
			return c == 'h' ? 0 : 2;
		}
	}
	if (!to || (strcmp(to, "s3") && strcmp(to, "local")) || optind < argc) {
		fprintf(stderr, "cora blobs migrate: say --to s3 or --to "
			"local\n");
		usage(stderr);
		json_decref(conf);
		return 2;
	}
	json_object_set_new(conf, "blobs", json_string(to));
	if (!strcmp(from, to) && (!strcmp(to, "local") || same_s3(old, conf))) {
		json_decref(conf);
		return cli_fail(cli, cora_error_set(CORA_EINVALID, "the blobs "
			"of '%s' are in that store already", cli->cat->root));
	}
	if (!strcmp(to, "s3") &&
	    (rc = cora_s3_check(cli->cat->root, conf, NULL)) != 0) {
		json_decref(conf);
		return cli_fail(cli, rc);
	}
	rc = cora_blobstore_open(&dst, to, cli->cat->root, conf);
	if (rc) {
		json_decref(conf);
		return cli_fail(cli, rc);
	}
	bare = cora_blob_cache_next(cli->cat->blobs);
	m.src = bare ? bare : cli->cat->blobs;
	bare = cora_blob_cache_next(dst);
	m.dst = bare ? bare : dst;
	m.done = json_object();

	cli_progress_start(cli, &m.prog, "migrate", 0);
	rc = copy_referenced(&m);
	/* second pass under the write lock: nothing new can refer to a
	 * blob the new store lacks, then the switch */
	if (rc == 0) {
		rc = cora_tx_begin(cli->cat);
		locked = rc == 0;
	}
	if (rc == 0)
		rc = copy_referenced(&m);
	if (rc == 0 && !m.dry)
		rc = save_config(cli, conf);
	if (locked)
		cora_tx_rollback(cli->cat); /* nothing written: a release */
	cli_progress_end(&m.prog);
	if (rc == 0) {
		if (cli->json) {
			json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I}",
				"from", from, "to", to, "dry_run", m.dry,
				"copied", (json_int_t)m.copied, "present",
				(json_int_t)m.present, "bytes",
				(json_int_t)m.bytes);
			cli_print_json(o);
			json_decref(o);
		} else {
			printf("%s %llu blobs (%s) to %s%s%s%s, %llu already "
			       "there%s\n", m.dry ? "would copy" : "copied",
			       (unsigned long long)m.copied,
			       cli_bytes(buf, (double)m.bytes), to,
			       !strcmp(to, "s3") ? " bucket '" : "",
			       !strcmp(to, "s3") ? cfg(conf, "s3.bucket", "") : "",
			       !strcmp(to, "s3") ? "'" : "",
			       (unsigned long long)m.present,
			       m.dry ? "" : "; the catalog uses it now");
			if (!m.dry)
				cleanup_hint(cli, from, old);
		}
	}
	json_decref(m.done);
	cora_blobstore_free(dst);
	json_decref(conf);
	return rc ? cli_fail(cli, rc) : 0;
}

int cmd_blobs(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || !cli->cat || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "info"))
		return blobs_info(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "migrate"))
		return blobs_migrate(cli, argc - 1, argv + 1);
	fprintf(stderr, "cora blobs: unknown verb '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}

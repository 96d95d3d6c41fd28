/*
 * cmd_dataset.c: dataset verbs that do more than one command: ingest
 * (copy a tree in), verify (re-hash), ls (datasets, or files of one).
 */
#include "cli/cli.h"

#include "core/blobstore.h"
#include "core/clock.h"
#include "core/command.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/projection.h"
#include "core/text.h"
#include "schema/render.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- ingest ------------------------------------------------------------ */

/* One entry of the tree to ingest, in walk order (parents first). */
struct entry {
	char *src;        /* path on the local disk */
	char *dst;        /* path inside the dataset */
	char type;        /* 'd', 'f', 'l' */
	struct stat st;
	char *target;     /* symlink target */
	char sha256[65];
};

struct plan {
	struct entry *items;
	size_t n, cap;
	uint64_t bytes;
};

static void plan_release(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->items[i].src);
		free(p->items[i].dst);
		free(p->items[i].target);
	}
	free(p->items);
}

static int plan_add(struct plan *p, const char *src, const char *dst,
		    const struct stat *st)
{
	struct entry *e;

	/* the mount and import refuse these at a dataset root: the
	 * catalog writes its own files there */
	if (!strchr(dst, '/') && cora_doc_reserved(dst, strlen(dst)))
		return cora_error_set(CORA_EINVALID, "'%s': %s is a name the "
				      "catalog generates at a dataset root; "
				      "rename it, or ingest with --into a "
				      "sub-folder", src, dst);
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 256;
		struct entry *items = realloc(p->items, cap * sizeof(*items));
		if (!items)
			return cora_error_set(CORA_ENOMEM, "out of memory");
		p->items = items;
		p->cap = cap;
	}
	e = &p->items[p->n];
	memset(e, 0, sizeof(*e));
	e->src = strdup(src);
	e->dst = strdup(dst);
	e->st = *st;
	if (!e->src || !e->dst)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	if (S_ISDIR(st->st_mode)) {
		e->type = 'd';
	} else if (S_ISREG(st->st_mode)) {
		e->type = 'f';
		p->bytes += (uint64_t)st->st_size;
	} else if (S_ISLNK(st->st_mode)) {
		char buf[PATH_MAX];
		ssize_t n = readlink(src, buf, sizeof(buf) - 1);
		if (n < 0)
			return cora_error_sys(CORA_EIO, "cannot read link '%s'",
					      src);
		buf[n] = '\0';
		e->type = 'l';
		e->target = strdup(buf);
	} else {
		return cora_error_set(CORA_EINVALID,
				      "'%s' is not a file, folder or link: "
				      "devices, sockets and pipes cannot be "
				      "ingested", src);
	}
	p->n++;
	return cora_text_relpath(dst, "path");
}

static int join(char **out, const char *a, const char *b)
{
	if (asprintf(out, "%s%s%s", a, *a ? "/" : "", b) < 0) {
		*out = NULL;
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks src (a folder) into plan under dst, in sorted order. */
static int walk(struct plan *p, const char *src, const char *dst)
{
	DIR *d = opendir(src);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (!d)
		return cora_error_sys(CORA_EIO, "cannot read folder '%s'", src);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				rc = cora_error_set(CORA_ENOMEM, "out of memory");
				break;
			}
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == 0 && n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n && rc == 0; i++) {
		char *s, *t;
		struct stat st;

		rc = join(&s, src, names[i]);
		if (rc)
			break;
		rc = join(&t, dst, names[i]);
		if (rc) {
			free(s);
			break;
		}
		if (lstat(s, &st) != 0)
			rc = cora_error_sys(CORA_EIO, "cannot stat '%s'", s);
		if (rc == 0)
			rc = plan_add(p, s, t, &st);
		if (rc == 0 && S_ISDIR(st.st_mode))
			rc = walk(p, s, t);
		free(s);
		free(t);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int64_t mtime_ns(const struct stat *st)
{
	return cora_time_ts_to_ns(st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

/* Sends the commands for one entry; folders get their mtime later. */
static int ingest_entry(struct cora_catalog *cat, const char *slug,
			const struct entry *e)
{
	struct cora_node_info info;
	json_t *cmd;
	json_t *ds;
	int rc;

	if (e->type == 'd') {
		rc = cora_entity_get(cat, "Dataset", slug, &ds, NULL, NULL);
		if (rc)
			return rc;
		rc = cora_node_get(cat, cora_json_str(ds, "id"), e->dst, &info);
		json_decref(ds);
		if (rc == 0)
			return info.type == 'd' ? 0 :
			       cora_error_set(CORA_ENOTDIR, "'%s' is a file in "
					      "dataset '%s', not a folder",
					      e->dst, slug);
		cmd = json_pack("{s:s, s:i, s:I}", "path", e->dst, "mode",
				(int)(e->st.st_mode & 07777), "mtime_ns",
				(json_int_t)mtime_ns(&e->st));
		rc = cora_command(cat, "dataset.add_folder", slug, cmd, NULL);
	} else if (e->type == 'f') {
		cmd = json_pack("{s:s, s:s, s:I, s:i, s:I}", "path", e->dst,
				"sha256", e->sha256, "size",
				(json_int_t)e->st.st_size, "mode",
				(int)(e->st.st_mode & 07777), "mtime_ns",
				(json_int_t)mtime_ns(&e->st));
		rc = cora_command(cat, "dataset.put_file", slug, cmd, NULL);
	} else {
		cmd = json_pack("{s:s, s:s, s:I}", "path", e->dst, "target",
				e->target, "mtime_ns",
				(json_int_t)mtime_ns(&e->st));
		rc = cora_command(cat, "dataset.add_symlink", slug, cmd, NULL);
	}
	json_decref(cmd);
	return rc;
}

int cmd_dataset_ingest(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "into", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cora_catalog *cat = cli->cat;
	struct cli_progress prog;
	struct plan p = { 0 };
	const char *into = "", *slug;
	char buf[32];
	uint64_t size = 0;
	size_t i, files = 0;
	int c, rc = 0, k;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': into = optarg; break;
		case 'h':
			printf("usage: cora dataset ingest DATASET PATH... "
			       "[--into FOLDER]\n"
			       "  copies files and folders into a Trial "
			       "dataset: the contents of a\n  folder PATH go "
			       "to the dataset root (or FOLDER), a file PATH "
			       "by its name;\n  all of it commits in one "
			       "transaction, or nothing does\n");
			return 0;
		default:
			return 2;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: cora dataset ingest DATASET PATH... "
			"[--into FOLDER]\n");
		return 2;
	}
	slug = argv[optind];
	if (*into && cora_text_relpath(into, "--into") != 0)
		return cli_fail(cli, CORA_EINVALID);

	/* 1. plan: walk every PATH (sorted, parents before children) */
	for (k = optind + 1; k < argc && rc == 0; k++) {
		struct stat st;
		char *base, *dst;

		if (lstat(argv[k], &st) != 0) {
			rc = cora_error_sys(CORA_ENOTFOUND, "cannot ingest "
					    "'%s'", argv[k]);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			if (*into) {
				struct stat ist = st;
				ist.st_mode = S_IFDIR | 0755;
				rc = plan_add(&p, argv[k], into, &ist);
			}
			if (rc == 0)
				rc = walk(&p, argv[k], into);
			continue;
		}
		base = strrchr(argv[k], '/');
		base = base ? base + 1 : argv[k];
		rc = join(&dst, into, base);
		if (rc == 0)
			rc = plan_add(&p, argv[k], dst, &st);
		free(dst);
	}

	/* 2. store every file as a blob (hashed while copied; durable) */
	cli_progress_start(cli, &prog, "ingest", p.bytes);
	for (i = 0; i < p.n && rc == 0; i++) {
		if (p.items[i].type != 'f')
			continue;
		size = 0;
		rc = cat->blobs->put_file(cat->blobs, p.items[i].src, NULL,
					  p.items[i].sha256, &size);
		if (rc == 0 && size != (uint64_t)p.items[i].st.st_size) {
			/* it changed while we read: record what we stored */
			p.bytes += size - (uint64_t)p.items[i].st.st_size;
			p.items[i].st.st_size = (off_t)size;
		}
		cli_progress_add(&prog, size);
		files++;
	}
	cli_progress_end(&prog);

	/* 3. one transaction: every event or none */
	if (rc == 0)
		rc = cora_tx_begin(cat);
	for (i = 0; i < p.n && rc == 0; i++)
		rc = ingest_entry(cat, slug, &p.items[i]);
	/* folders last, deepest first, so their mtimes stick */
	for (i = p.n; i-- > 0 && rc == 0;) {
		json_t *cmd;
		if (p.items[i].type != 'd')
			continue;
		cmd = json_pack("{s:s, s:I}", "path", p.items[i].dst,
				"mtime_ns", (json_int_t)mtime_ns(&p.items[i].st));
		rc = cora_command(cat, "dataset.set_mtime", slug, cmd, NULL);
		json_decref(cmd);
	}
	if (rc == 0)
		rc = cora_tx_commit(cat);
	else
		cora_tx_rollback(cat);
	if (rc) {
		plan_release(&p);
		return cli_fail(cli, rc);
	}
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:I, s:I, s:I}", "dataset", slug,
				      "files", (json_int_t)files, "entries",
				      (json_int_t)p.n, "bytes",
				      (json_int_t)p.bytes);
		cli_print_json(o);
		json_decref(o);
	} else if (!cli->quiet) {
		printf("ingested %zu files (%s) into dataset '%s'\n", files,
		       cli_bytes(buf, (double)p.bytes), slug);
	}
	plan_release(&p);
	return 0;
}

/* ---- verify -------------------------------------------------------------- */

struct verify_arg {
	struct cli *cli;
	struct cli_progress prog;
	struct cora_tree_entry *tree;
	char **paths;
	size_t n, cap;
	json_t *bad;
	uint64_t bytes;
};

static int collect(void *arg, const char *path,
		   const struct cora_node_info *info)
{
	struct verify_arg *v = arg;

	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 256;
		struct cora_tree_entry *t = realloc(v->tree, cap * sizeof(*t));
		char **p;
		if (!t)
			return cora_error_set(CORA_ENOMEM, "out of memory");
		v->tree = t;
		p = realloc(v->paths, cap * 2 * sizeof(*p));
		if (!p)
			return cora_error_set(CORA_ENOMEM, "out of memory");
		v->paths = p;
		v->cap = cap;
	}
	v->paths[2 * v->n] = strdup(path);
	v->paths[2 * v->n + 1] = strdup(info->sha256);
	v->tree[v->n].path = v->paths[2 * v->n];
	v->tree[v->n].sha256 = v->paths[2 * v->n + 1];
	v->bytes += (uint64_t)info->size;
	v->n++;
	return 0;
}

int cmd_dataset_verify(struct cli *cli, int argc, char **argv)
{
	struct verify_arg v = { .cli = cli, .bad = json_array() };
	struct cora_blobstore *bs = cli->cat->blobs;
	const char *recorded;
	json_t *ds, *checksum;
	char tree[65], buf[32];
	uint64_t size;
	size_t i;
	int rc;

	if (argc != 2 || !strcmp(argv[1], "--help")) {
		printf("usage: cora dataset verify DATASET\n"
		       "  re-reads every file's blob, re-hashes it and "
		       "compares with the catalog;\n  for a promoted "
		       "dataset also recomputes the sha256-tree\n");
		json_decref(v.bad);
		return argc == 2 ? 0 : 2;
	}
	rc = cora_entity_get(cli->cat, "Dataset", argv[1], &ds, NULL, NULL);
	if (rc == CORA_ENOTFOUND)
		rc = cora_error_set(CORA_ENOTFOUND, "dataset '%s' does not "
				    "exist", argv[1]);
	if (rc) {
		json_decref(v.bad);
		return cli_fail(cli, rc);
	}
	rc = cora_dataset_files(cli->cat, cora_json_str(ds, "id"), collect,
				&v);
	cli_progress_start(cli, &v.prog, "verify", v.bytes);
	for (i = 0; i < v.n && rc == 0; i++) {
		int r;

		size = 0;
		r = bs->exists(bs, v.tree[i].sha256, &size);
		if (r == 0)
			r = bs->verify(bs, v.tree[i].sha256);
		if (r == CORA_ENOTFOUND || r == CORA_EMISMATCH) {
			json_array_append_new(v.bad, json_pack("{s:s, s:s, s:s}",
				"path", v.tree[i].path, "sha256",
				v.tree[i].sha256, "problem",
				r == CORA_ENOTFOUND ? "blob missing" :
				"content does not match its digest"));
		} else if (r) {
			rc = r;
		}
		cli_progress_add(&v.prog, size);
	}
	cli_progress_end(&v.prog);
	checksum = json_object_get(ds, "checksum");
	recorded = cora_json_str(checksum, "value");
	if (rc == 0 && recorded) {
		rc = cora_sha256_tree(tree, v.tree, v.n);
		if (rc == 0 && strcmp(tree, recorded) != 0)
			json_array_append_new(v.bad, json_pack("{s:s, s:s, s:s}",
				"path", "", "sha256", tree, "problem",
				"sha256-tree differs from the promoted one"));
	}
	if (rc == 0) {
		if (cli->json) {
			json_t *o = json_pack("{s:s, s:b, s:I, s:I, s:O}",
				"dataset", argv[1], "ok",
				json_array_size(v.bad) == 0, "files",
				(json_int_t)v.n, "bytes", (json_int_t)v.bytes,
				"problems", v.bad);
			cli_print_json(o);
			json_decref(o);
		} else {
			json_t *b;
			json_array_foreach(v.bad, i, b)
				printf("BAD %s: %s (%s)\n",
				       cora_json_str(b, "path"),
				       cora_json_str(b, "problem"),
				       cora_json_str(b, "sha256"));
			printf("%s: %zu files, %s%s%s\n",
			       json_array_size(v.bad) ? "FAILED" : "verified",
			       v.n, cli_bytes(buf, (double)v.bytes),
			       recorded ? ", sha256-tree " : "",
			       recorded ? recorded : "");
		}
	}
	for (i = 0; i < 2 * v.n; i++)
		free(v.paths[i]);
	free(v.paths);
	free(v.tree);
	json_decref(ds);
	if (rc) {
		json_decref(v.bad);
		return cli_fail(cli, rc);
	}
	rc = json_array_size(v.bad) ? 1 : 0;
	json_decref(v.bad);
	return rc;
}

/* ---- ls ------------------------------------------------------------------ */

int cmd_dataset_ls(struct cli *cli, int argc, char **argv)
{
	struct verify_arg v = { .cli = cli };
	json_t *ds, *out;
	size_t i;
	int rc;

	if (argc == 1)
		return cmd_list(cli, argc, argv);
	if (argc != 2 || !strcmp(argv[1], "--help")) {
		printf("usage: cora dataset ls [DATASET]\n");
		return argc == 2 ? 0 : 2;
	}
	rc = cora_entity_get(cli->cat, "Dataset", argv[1], &ds, NULL, NULL);
	if (rc == CORA_ENOTFOUND)
		rc = cora_error_set(CORA_ENOTFOUND, "dataset '%s' does not "
				    "exist", argv[1]);
	if (rc)
		return cli_fail(cli, rc);
	rc = cora_dataset_files(cli->cat, cora_json_str(ds, "id"), collect,
				&v);
	json_decref(ds);
	if (rc)
		return cli_fail(cli, rc);
	out = json_array();
	for (i = 0; i < v.n; i++)
		json_array_append_new(out, json_pack("{s:s, s:s}", "path",
				      v.tree[i].path, "sha256",
				      v.tree[i].sha256));
	for (i = 0; i < 2 * v.n; i++)
		free(v.paths[i]);
	free(v.paths);
	free(v.tree);
	cora_json_sort_objects(out, "path", NULL); /* for people and diffs */
	if (cli->json) {
		cli_print_json(out);
	} else {
		json_t *f;
		json_array_foreach(out, i, f)
			printf("%s  %s\n", cora_json_str(f, "sha256"),
			       cora_json_str(f, "path"));
	}
	json_decref(out);
	return 0;
}

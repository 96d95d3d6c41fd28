/*
 * cmd_catalog.c: catalog-wide verbs: init, ls and show of any kind,
 * person, log, fsck and gc.
 */
#include "cli/cli.h"

#include "core/blobstore.h"
#include "core/error.h"
#include "core/fsck.h"
#include "core/person.h"
#include "core/projection.h"
#include "schema/render.h"

#include <ctype.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>

/* "asset" -> "Asset" */
static const char *stream_type_of(const char *noun)
{
	static const char *const map[][2] = {
		{ "asset", "Asset" }, { "model", "Model" },
		{ "family", "Family" }, { "dataset", "Dataset" },
		{ "run", "Run" }, { "acquisition", "Acquisition" },
		{ "bundle", "Bundle" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], noun) == 0)
			return map[i][1];
	return NULL;
}

/* Parses only --help for verbs that take no options beyond positionals;
 * returns -1 after printing help, 0 to go on. */
static int plain_args(struct cli *cli, int argc, char **argv,
		      const char *usage)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: %s %s\n", cli->prog, usage);
			return -1;
		}
	}
	return 0;
}

/* render.h's sink for `show --format`: the document goes to stdout as
 * it is rendered. */
static int stdout_sink(void *arg, const char *buf, size_t len)
{
	(void)arg;
	if (fwrite(buf, 1, len, stdout) != len)
		return cora_error_sys(CORA_EIO, "cannot write the document");
	return 0;
}

/* One summary line of an entity for `ls`. */
static void print_summary(const char *type, const json_t *s)
{
	const char *slug = cora_json_str(s, "slug");
	const char *name = cora_json_str(s, "name");
	const char *a = NULL, *b = NULL;

	if (!strcmp(type, "Asset")) {
		a = cora_json_str(s, "lifecycle");
		b = cora_json_str(s, "condition");
	} else if (!strcmp(type, "Dataset")) {
		a = cora_json_str(s, "intent");
		b = cora_json_str(s, "status");
	} else if (!strcmp(type, "Run") || !strcmp(type, "Bundle") ||
		   !strcmp(type, "Model") || !strcmp(type, "Family")) {
		a = cora_json_str(s, "status");
	}
	if (!strcmp(type, "Bundle"))
		name = cora_json_str(s, "title");
	printf("%-28s %-12s %-10s %s\n", slug ? slug : cora_json_str(s, "id"),
	       a ? a : "", b ? b : "", name ? name : "");
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	const char *type = stream_type_of(cli->spec->noun);
	sqlite3_stmt *s;
	json_t *all = json_array(), *state;
	json_error_t jerr;
	size_t i;
	int rc;

	if (plain_args(cli, argc, argv, "") < 0) {
		json_decref(all);
		return 0;
	}
	s = cora_stmt(cli->cat, "SELECT state FROM entities"
		      " WHERE stream_type = ?1 ORDER BY slug, stream_id");
	if (!s) {
		json_decref(all);
		return cli_fail(cli, cora_error_code());
	}
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		state = json_loads((const char *)sqlite3_column_text(s, 0), 0,
				   &jerr);
		if (state)
			json_array_append_new(all, state);
	}
	sqlite3_reset(s);
	if (cli->json) {
		cli_print_json(all);
	} else {
		json_array_foreach(all, i, state)
			print_summary(type, state);
	}
	json_decref(all);
	return 0;
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
	/* --format: the generated files, exactly the bytes the mount
	 * serves (cora_render()), and the nouns that have them */
	static const struct {
		const char *name;
		enum cora_doc_kind kind;
		const char *nouns;
	} docs[] = {
		{ "datacite", CORA_DOC_DATACITE, " asset dataset bundle " },
		{ "pidinst", CORA_DOC_PIDINST, " asset " },
		{ "rocrate", CORA_DOC_ROCRATE, " dataset bundle " },
		{ "html", CORA_DOC_PREVIEW, " bundle " },
	};
	const size_t ndocs = sizeof(docs) / sizeof(docs[0]);
	const char *type = stream_type_of(cli->spec->noun);
	const char *format = NULL, *ref = NULL;
	char usage[160], formats[96] = "", word[32];
	json_t *state;
	int64_t version;
	size_t i;
	int rc;

	snprintf(word, sizeof(word), " %s ", cli->spec->noun);
	for (i = 0; i < ndocs; i++)
		if (strstr(docs[i].nouns, word)) {
			strcat(formats, docs[i].name);
			strcat(formats, "|");
		}
	strcat(formats, "json");
	snprintf(usage, sizeof(usage), "ID-OR-SLUG [--format %s]", formats);
	if (plain_args(cli, argc, argv, usage) < 0)
		return 0;
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < (size_t)argc)
			format = argv[++i];
		else if (strncmp(argv[i], "--format=", 9) == 0)
			format = argv[i] + 9;
		else if (argv[i][0] != '-' && !ref)
			ref = argv[i];
		else
			ref = NULL, i = (size_t)argc + 1;
	}
	if (!ref || i > (size_t)argc) {
		fprintf(stderr, "usage: %s %s\n", cli->prog, usage);
		return 2;
	}
	rc = cora_entity_get(cli->cat, type, ref, &state, &version, NULL);
	if (rc == CORA_ENOTFOUND)
		rc = cora_error_set(CORA_ENOTFOUND, "%s '%s' does not exist",
				    cli->spec->noun, ref);
	if (rc)
		return cli_fail(cli, rc);
	if (format && strcmp(format, "json") != 0) {
		for (i = 0; i < ndocs; i++)
			if (strcmp(docs[i].name, format) == 0 &&
			    strstr(docs[i].nouns, word))
				break;
		if (i == ndocs) {
			json_decref(state);
			fprintf(stderr, "%s: unknown format '%s': use %s\n",
				cli->prog, format, formats);
			return 2;
		}
		/* streamed: a crate of a million files is never whole in
		 * memory (render.h) */
		rc = cora_render_to(cli->cat, docs[i].kind,
				    cora_json_str(state, "id"), stdout_sink,
				    NULL);
		json_decref(state);
		if (rc == 0 && fflush(stdout) != 0)
			rc = cora_error_sys(CORA_EIO, "cannot write the "
					    "document");
		return rc ? cli_fail(cli, rc) : 0;
	}
	json_object_set_new(state, "version", json_integer(version));
	if (format) {
		cli_print_json(state);
		json_decref(state);
		return 0;
	}
	if (cli->json)
		cli_print_json(state);
	else
		cli_print_state(state);
	json_decref(state);
	return 0;
}

/* ---- person ------------------------------------------------------------- */

static int person_usage(FILE *f)
{
	fprintf(f,
		"usage: cora person add SLUG --name NAME [--orcid ID] "
		"[--affiliation TEXT]\n"
		"                 [--ror ROR] [--email ADDR] [--unix-user USER]\n"
		"       cora person update PERSON [same options]\n"
		"       cora person erase PERSON\n"
		"       cora person ls | show PERSON\n");
	return f == stdout ? 0 : 2;
}

int cmd_person(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "orcid", required_argument, NULL, 'o' },
		{ "affiliation", required_argument, NULL, 'a' },
		{ "ror", required_argument, NULL, 'r' },
		{ "email", required_argument, NULL, 'e' },
		{ "unix-user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cora_person p = { 0 };
	const char *verb;
	json_t *out = NULL;
	char id[37];
	int c, rc;

	if (argc < 2)
		return person_usage(stderr);
	verb = argv[1];
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h") ||
	    !strcmp(verb, "help"))
		return person_usage(stdout);
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': p.name = optarg; break;
		case 'o': p.orcid = optarg; break;
		case 'a': p.affiliation = optarg; break;
		case 'r': p.affiliation_ror = optarg; break;
		case 'e': p.email = optarg; break;
		case 'u': p.unix_user = optarg; break;
		case 'h': return person_usage(stdout);
		default: return person_usage(stderr);
		}
	}
	if (!strcmp(verb, "ls")) {
		size_t i;
		json_t *v;
		rc = cora_person_list(cli->cat, &out);
		if (rc)
			return cli_fail(cli, rc);
		if (cli->json)
			cli_print_json(out);
		else
			json_array_foreach(out, i, v)
				printf("%-20s %-30s %s\n",
				       cora_json_str(v, "slug"),
				       cora_json_str(v, "name"),
				       cora_json_str(v, "orcid") ?
				       cora_json_str(v, "orcid") : "");
		json_decref(out);
		return 0;
	}
	/* after permutation the operands are the verb, then the person */
	optind++;
	if (optind >= argc)
		return person_usage(stderr);
	if (!strcmp(verb, "add")) {
		p.slug = argv[optind];
		rc = cora_person_add(cli->cat, &p, id);
	} else if (!strcmp(verb, "update")) {
		rc = cora_person_update(cli->cat, argv[optind], &p);
	} else if (!strcmp(verb, "erase")) {
		rc = cora_person_erase(cli->cat, argv[optind]);
	} else if (!strcmp(verb, "show")) {
		rc = cora_person_get(cli->cat, argv[optind], &out);
		if (rc)
			return cli_fail(cli, rc);
		if (cli->json)
			cli_print_json(out);
		else
			cli_print_state(out);
		json_decref(out);
		return 0;
	} else {
		fprintf(stderr, "cora person: unknown verb '%s'\n", verb);
		return person_usage(stderr);
	}
	if (rc)
		return cli_fail(cli, rc);
	if (cli->json) {
		rc = cora_person_get(cli->cat, argv[optind], &out);
		if (rc == 0)
			cli_print_json(out);
		json_decref(out);
	} else if (!cli->quiet) {
		printf("%s person '%s'\n", !strcmp(verb, "add") ? "added" :
		       !strcmp(verb, "update") ? "updated" : "erased",
		       argv[optind]);
	}
	return 0;
}

/* ---- log ------------------------------------------------------------------- */

struct log_arg {
	struct cli *cli;
	int64_t limit, shown;
};

static int print_event(void *arg, const struct cora_event *e)
{
	struct log_arg *a = arg;

	if (a->limit >= 0 && a->shown >= a->limit)
		return 1;
	a->shown++;
	if (a->cli->json) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:O,"
				      " s:s, s:s, s:s}",
				      "position", (json_int_t)e->position,
				      "event_id", e->event_id,
				      "stream_type", e->stream_type,
				      "stream_id", e->stream_id,
				      "version", (json_int_t)e->version,
				      "event_type", e->event_type,
				      "payload", e->payload,
				      "principal_id", e->principal,
				      "occurred_at", e->occurred_at,
				      "recorded_at", e->recorded_at);
		char *line = cora_json_dump(o);
		printf("%s\n", line);
		free(line);
		json_decref(o);
	} else {
		const char *what = cora_json_str(e->payload, "slug");
		if (!what)
			what = cora_json_str(e->payload, "path");
		printf("%6lld  %s  %-26s %s %s v%lld%s%s\n",
		       (long long)e->position, e->occurred_at, e->event_type,
		       e->stream_type, e->stream_id, (long long)e->version,
		       what ? "  " : "", what ? what : "");
	}
	return 0;
}

int cmd_log(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stream", required_argument, NULL, 's' },
		{ "after", required_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct log_arg a = { cli, -1, 0 };
	const char *stream = NULL;
	char stream_id[37];
	int64_t after = 0;
	json_t *state;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': stream = optarg; break;
		case 'a': after = strtoll(optarg, NULL, 10); break;
		case 'n': a.limit = strtoll(optarg, NULL, 10); break;
		case 'h':
			printf("usage: cora log [--stream ID-OR-SLUG] "
			       "[--after POSITION] [-n N]\n"
			       "  -n N alone prints the newest N events\n"
			       "  --json prints one JSON object per line\n");
			return 0;
		default:
			return 2;
		}
	}
	if (stream) {
		rc = cora_entity_get(cli->cat, NULL, stream, &state, NULL,
				     NULL);
		if (rc == CORA_ENOTFOUND)
			rc = cora_error_set(CORA_ENOTFOUND, "'%s' names "
					    "nothing in the catalog", stream);
		if (rc)
			return cli_fail(cli, rc);
		snprintf(stream_id, sizeof(stream_id), "%s",
			 cora_json_str(state, "id"));
		json_decref(state);
		stream = stream_id;
	}
	if (a.limit > 0 && after == 0) {
		/* -n N: the newest N events (of the stream) */
		sqlite3_stmt *s = cora_stmt(cli->cat, "SELECT position FROM"
			" events WHERE ?1 IS NULL OR stream_id = ?1"
			" ORDER BY position DESC LIMIT 1 OFFSET ?2");
		if (s) {
			if (stream)
				sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 2, a.limit - 1);
			if (sqlite3_step(s) == SQLITE_ROW)
				after = sqlite3_column_int64(s, 0) - 1;
			sqlite3_reset(s);
		}
	}
	rc = cora_store_scan(cli->cat, stream, after, print_event, &a);
	if (rc < 0)
		return cli_fail(cli, rc);
	return 0;
}

/* ---- fsck ------------------------------------------------------------------ */

int cmd_fsck(struct cli *cli, int argc, char **argv)
{
	struct cora_fsck_report r;
	size_t i, n;
	json_t *v;
	int rc;

	if (plain_args(cli, argc, argv, "") < 0)
		return 0;
	rc = cora_fsck(cli->cat, &r);
	if (rc) {
		cora_fsck_report_release(&r);
		return cli_fail(cli, rc);
	}
	n = json_array_size(r.problems);
	if (cli->json) {
		json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:O}",
				      "clean", n == 0,
				      "events", (json_int_t)r.events,
				      "entities", (json_int_t)r.entities,
				      "nodes", (json_int_t)r.nodes,
				      "blobs", (json_int_t)r.blobs_checked,
				      "problems", r.problems);
		cli_print_json(o);
		json_decref(o);
	} else {
		json_array_foreach(r.problems, i, v)
			printf("problem: %s\n", json_string_value(v));
		printf("%s: %lld events replayed, %lld entities and %lld "
		       "nodes compared, %lld blobs present\n",
		       n ? "NOT CLEAN" : "clean", (long long)r.events,
		       (long long)r.entities, (long long)r.nodes,
		       (long long)r.blobs_checked);
	}
	cora_fsck_report_release(&r);
	return n ? 1 : 0;
}

/* ---- gc -------------------------------------------------------------------- */

struct gc_arg {
	struct cli *cli;
	sqlite3_stmt *referenced;
	json_t *victims;
	long grace;
	time_t now;
	uint64_t kept, bytes;
};

static int gc_visit(const char *sha256, uint64_t size, void *arg)
{
	struct gc_arg *g = arg;
	struct cora_blobstore *bs = g->cli->cat->blobs;
	struct stat st;
	char *path = NULL;
	int rc;

	sqlite3_reset(g->referenced);
	sqlite3_bind_text(g->referenced, 1, sha256, -1, SQLITE_STATIC);
	rc = sqlite3_step(g->referenced);
	sqlite3_reset(g->referenced);
	if (rc == SQLITE_ROW) {
		g->kept++;
		return 0;
	}
	/* A blob younger than the grace period may belong to a write whose
	 * event is not committed yet (invariant 5 of catalog.h). */
	if (g->grace > 0) {
		int64_t when = -1;

		if (bs->path && bs->path(bs, sha256, &path) == 0 &&
		    stat(path, &st) == 0)
			when = (int64_t)st.st_mtime;
		else if (bs->stored_at && bs->stored_at(bs, sha256, &when) != 0)
			when = (int64_t)g->now; /* cannot tell: keep it */
		if (when >= 0 && (int64_t)g->now - when < g->grace) {
			free(path);
			g->kept++;
			return 0;
		}
	}
	free(path);
	json_array_append_new(g->victims, json_string(sha256));
	g->bytes += size;
	return 0;
}

int cmd_gc(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "grace", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gc_arg g = { cli, NULL, json_array(), 3600, time(NULL), 0, 0 };
	bool dry = false;
	char buf[32];
	size_t i, deleted = 0;
	json_t *v;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': dry = true; break;
		case 'g': g.grace = strtol(optarg, NULL, 10); break;
		case 'h':
			printf("usage: cora gc [--dry-run] [--grace SECONDS]\n"
			       "  deletes blobs that no file of a dataset "
			       "names; blobs younger than\n  the grace "
			       "period (default 3600 s) are kept\n");
			json_decref(g.victims);
			return 0;
		default:
			json_decref(g.victims);
			return 2;
		}
	}
	/* Holding the write lock keeps new events (and their references)
	 * out while we decide and delete. */
	rc = cora_tx_begin(cli->cat);
	if (rc == 0) {
		g.referenced = cora_stmt(cli->cat, "SELECT 1 FROM nodes"
					 " WHERE sha256 = ?1 LIMIT 1");
		rc = g.referenced ? cli->cat->blobs->list(cli->cat->blobs,
							  gc_visit, &g) :
				    cora_error_code();
	}
	if (rc == 0 && !dry) {
		json_array_foreach(g.victims, i, v) {
			rc = cli->cat->blobs->del(cli->cat->blobs,
						  json_string_value(v));
			if (rc && rc != CORA_ENOTFOUND)
				break;
			rc = 0;
			deleted++;
		}
	}
	if (cli->cat->tx_depth)
		cora_tx_rollback(cli->cat);
	if (rc) {
		json_decref(g.victims);
		return cli_fail(cli, rc);
	}
	if (cli->json) {
		json_t *o = json_pack("{s:b, s:O, s:I, s:I}", "dry_run", dry,
				      "deleted", g.victims, "kept",
				      (json_int_t)g.kept, "bytes",
				      (json_int_t)g.bytes);
		cli_print_json(o);
		json_decref(o);
	} else {
		printf("%s %zu blobs (%s), kept %llu\n",
		       dry ? "would delete" : "deleted",
		       dry ? json_array_size(g.victims) : deleted,
		       cli_bytes(buf, (double)g.bytes),
		       (unsigned long long)g.kept);
	}
	json_decref(g.victims);
	return 0;
}

/* ---- mount --------------------------------------------------------------------- */

/* `cora mount CATALOG MOUNTPOINT [corafs options]` runs corafs: the one
 * next to this cora (installed side by side, or fs/ of a build tree),
 * else the first on PATH. */
int cmd_mount(struct cli *cli, int argc, char **argv)
{
	static char prog[] = "corafs";
	char self[4096], *dir, *candidates[2] = { NULL, NULL };
	ssize_t n;
	char **args;
	int i;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: cora mount [CATALOG] MOUNTPOINT [-o opts] [-f]\n"
		       "  the same as: corafs CATALOG MOUNTPOINT [-o opts] "
		       "[-f]\n");
		return argc < 2 ? 2 : 0;
	}
	args = calloc((size_t)argc + 3, sizeof(*args));
	if (!args)
		return cli_fail(cli, cora_error_set(CORA_ENOMEM, "out of memory"));
	args[0] = prog;
	i = 1;
	/* one operand: the mount point, the catalog from -C */
	if (argc == 2 || argv[2][0] == '-') {
		if (!cli->catalog_path) {
			fprintf(stderr, "cora mount: which catalog? Give "
				"CATALOG or -C CATALOG\n");
			free(args);
			return 2;
		}
		args[i++] = (char *)cli->catalog_path;
	}
	memcpy(args + i, argv + 1, (size_t)(argc - 1) * sizeof(*args));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		dir = strrchr(self, '/');
		if (dir) {
			*dir = '\0';
			if (asprintf(&candidates[0], "%s/corafs", self) < 0)
				candidates[0] = NULL;
			if (asprintf(&candidates[1], "%s/../fs/corafs", self) < 0)
				candidates[1] = NULL;
		}
	}
	for (i = 0; i < 2; i++)
		if (candidates[i] && access(candidates[i], X_OK) == 0)
			execv(candidates[i], args);
	execvp("corafs", args);
	fprintf(stderr, "cora mount: cannot run corafs: %s\n", strerror(errno));
	free(args);
	return 1;
}

/*
 * cmd_archive.c: archives out and in (libarchive, through
 * schema/archives.h): `cora bundle export`, `cora dataset export`,
 * `cora dataset import`.
 *
 * An export goes to a temporary file beside the output (mkstemp), is
 * fsynced and renamed into place only when complete, so a failed export
 * leaves no half archive under the name; `-o -` writes to standard output
 * (never to a terminal).
 */
#include "cli/cli.h"

#include "schema/archives.h"

#include "core/aggregate.h"
#include "core/error.h"
#include "core/projection.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void progress_start(void *arg, uint64_t total)
{
	struct cli_progress *p = arg;

	p->total = total;
}

static void progress_add(void *arg, uint64_t n)
{
	cli_progress_add(arg, n);
}

/* ---- export ------------------------------------------------------------------ */

static void export_usage(FILE *f, const char *noun)
{
	fprintf(f, "usage: cora %s export %s [--format zip|tar|tar.gz|"
		"tar.zst|bagit]\n"
		"                 [--container tar|zip] [-o FILE | -o -]\n",
		noun, strcmp(noun, "bundle") == 0 ? "BUNDLE" : "DATASET");
}

static int do_export(struct cli *cli, int argc, char **argv,
		     const char *stream_type, const char *noun)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "container", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cora_export_opts o = { .format = CORA_ARCHIVE_ZIP };
	struct cora_archive_stats st;
	struct cli_progress prog;
	const char *out = NULL, *ref, *status = NULL;
	char *dflt = NULL, *tmp = NULL, buf[32];
	json_t *state;
	int c, fd, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (cora_archive_format_parse(&o.format, optarg)) {
				fprintf(stderr, "cora: %s\n",
					cora_error_last());
				return 2;
			}
			break;
		case 'c':
			if (strcmp(optarg, "zip") && strcmp(optarg, "tar")) {
				fprintf(stderr, "cora: unknown container '%s': "
					"use tar or zip\n", optarg);
				return 2;
			}
			o.bag_zip = strcmp(optarg, "zip") == 0;
			break;
		case 'o': out = optarg; break;
		case 'h':
			export_usage(stdout, noun);
			printf("  writes the %s's folder as an archive: its "
			       "generated files and\n  %s.  The same catalog "
			       "state gives the same bytes.\n  bagit: a BagIt "
			       "1.0 bag (a tar, or a zip with --container zip)"
			       "\n  with the RO-Crate in data/.  Default: zip, "
			       "to SLUG.zip (SLUG.bag.tar)\n", noun,
			       strcmp(noun, "bundle") == 0 ?
			       "one folder per member dataset" : "its files");
			return 0;
		default:
			export_usage(stderr, noun);
			return 2;
		}
	}
	/* a lone "-" after the slug means standard output, like -o - */
	if (argc - optind == 2 && strcmp(argv[optind + 1], "-") == 0 && !out)
		out = "-";
	else if (argc - optind != 1) {
		export_usage(stderr, noun);
		return 2;
	}
	ref = argv[optind];
	if (o.bag_zip && o.format != CORA_ARCHIVE_BAGIT) {
		fprintf(stderr, "cora: --container is for --format bagit\n");
		return 2;
	}
	rc = cora_entity_get(cli->cat, stream_type, ref, &state, NULL, NULL);
	if (rc == CORA_ENOTFOUND)
		rc = cora_error_set(CORA_ENOTFOUND, "%s '%s' does not exist",
				    noun, ref);
	if (rc)
		return cli_fail(cli, rc);
	if (!out) {
		if (asprintf(&dflt, "%s%s", cora_json_str(state, "slug"),
			     cora_archive_suffix(o.format, o.bag_zip)) < 0) {
			json_decref(state);
			return cli_fail(cli, cora_error_set(CORA_ENOMEM,
							    "out of memory"));
		}
		out = dflt;
	}
	if (strcmp(stream_type, "Bundle") == 0 &&
	    strcmp(cora_json_str(state, "status") ?
		   cora_json_str(state, "status") : "", "Registered") == 0)
		status = "Registered";

	if (strcmp(out, "-") == 0) {
		if (isatty(STDOUT_FILENO)) {
			json_decref(state);
			free(dflt);
			return cli_fail(cli, cora_error_set(CORA_EINVALID,
				"refusing to write an archive to a terminal: "
				"redirect it or give -o FILE"));
		}
		fd = STDOUT_FILENO;
	} else {
		if (asprintf(&tmp, "%s.tmp-XXXXXX", out) < 0) {
			tmp = NULL;
			fd = -1;
			errno = ENOMEM;
		} else {
			fd = mkstemp(tmp);
		}
		if (fd < 0) {
			rc = cora_error_sys(CORA_EIO, "cannot write '%s'", out);
			json_decref(state);
			free(tmp);
			free(dflt);
			return cli_fail(cli, rc);
		}
		{
			mode_t mask = umask(0);   /* mkstemp made it 0600 */

			umask(mask);
			fchmod(fd, 0666 & ~mask);
		}
	}

	cli_progress_start(cli, &prog, "export", 0);
	o.progress.start = progress_start;
	o.progress.add = progress_add;
	o.progress.arg = &prog;
	rc = cora_export(cli->cat, stream_type, cora_json_str(state, "id"), fd,
			 &o, &st);
	cli_progress_end(&prog);
	if (fd != STDOUT_FILENO) {
		if (rc == 0 && fsync(fd) != 0)
			rc = cora_error_sys(CORA_EIO, "cannot write '%s'", out);
		if (close(fd) != 0 && rc == 0)
			rc = cora_error_sys(CORA_EIO, "cannot write '%s'", out);
		if (rc == 0 && rename(tmp, out) != 0)
			rc = cora_error_sys(CORA_EIO, "cannot write '%s'", out);
		if (rc)
			unlink(tmp);
	}
	if (rc == 0 && cli->json && fd != STDOUT_FILENO) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, "
				      "s:I}", noun, cora_json_str(state, "slug"),
				      "format",
				      cora_archive_format_name(o.format),
				      "container", o.format == CORA_ARCHIVE_BAGIT
				      ? (o.bag_zip ? "zip" : "tar") :
				      cora_archive_format_name(o.format),
				      "output", out, "files",
				      (json_int_t)st.files, "folders",
				      (json_int_t)st.folders, "links",
				      (json_int_t)st.links, "skipped",
				      (json_int_t)st.skipped, "bytes",
				      (json_int_t)st.bytes);
		cli_print_json(j);
		json_decref(j);
	} else if (rc == 0 && !cli->quiet) {
		FILE *f = fd == STDOUT_FILENO ? stderr : stdout;

		fprintf(f, "exported %s '%s' as %s%s to '%s': %llu files, %s\n",
			noun, cora_json_str(state, "slug"),
			cora_archive_format_name(o.format),
			o.format == CORA_ARCHIVE_BAGIT ?
			(o.bag_zip ? " (zip)" : " (tar)") : "", out,
			(unsigned long long)st.files,
			cli_bytes(buf, (double)st.bytes));
		if (st.skipped)
			fprintf(f, "note: %llu symbolic links left out (a bag "
				"holds regular files only)\n",
				(unsigned long long)st.skipped);
		if (status)
			fprintf(stderr, "note: bundle '%s' is not sealed: its "
				"members may still change, so this archive "
				"is not the one to publish\n",
				cora_json_str(state, "slug"));
	}
	json_decref(state);
	free(tmp);
	free(dflt);
	return rc ? cli_fail(cli, rc) : 0;
}

int cmd_bundle_export(struct cli *cli, int argc, char **argv)
{
	return do_export(cli, argc, argv, "Bundle", "bundle");
}

int cmd_dataset_export(struct cli *cli, int argc, char **argv)
{
	return do_export(cli, argc, argv, "Dataset", "dataset");
}

/* ---- import ------------------------------------------------------------------ */

/* A byte count with an optional binary suffix: 64G, 512MiB, 1000. */
static int parse_bytes(const char *s, uint64_t *out)
{
	static const char suffixes[] = "KMGTPE";
	unsigned long long v;
	const char *p;
	char *end;
	int shift = 0;

	errno = 0;
	if (!s || *s == '-' || *s == '\0')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end) {
		p = strchr(suffixes, end[0] & ~0x20);
		if (!p || !*p)
			return -1;
		shift = 10 * (int)(p - suffixes + 1);
		end++;
		if (strcmp(end, "") && strcmp(end, "iB") && strcmp(end, "B"))
			return -1;
	}
	if (shift && v > (ULLONG_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static void import_usage(FILE *f)
{
	fprintf(f, "usage: cora dataset import DATASET ARCHIVE [--into FOLDER]"
		"\n       [--max-size BYTES] [--max-ratio N] "
		"[--max-entries N]\n");
}

int cmd_dataset_import(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "into", required_argument, NULL, 'i' },
		{ "max-size", required_argument, NULL, 's' },
		{ "max-ratio", required_argument, NULL, 'r' },
		{ "max-entries", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cora_import_opts o = { 0 };
	struct cora_archive_stats st;
	struct cli_progress prog;
	uint64_t *bound;
	char buf[32];
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': o.into = optarg; break;
		case 's':
		case 'r':
		case 'e':
			bound = c == 's' ? &o.max_size : c == 'r' ?
				&o.max_ratio : &o.max_entries;
			if (parse_bytes(optarg, bound) != 0 ||
			    (c != 's' && strspn(optarg, "0123456789") !=
			     strlen(optarg))) {
				fprintf(stderr, "cora: --%s wants a number%s, "
					"not '%s'\n", longopts[c == 's' ? 1 :
					c == 'r' ? 2 : 3].name, c == 's' ?
					" of bytes (64G, 512M, ...)" : "",
					optarg);
				return 2;
			}
			if (*bound == 0)
				*bound = UINT64_MAX;    /* 0: no bound */
			break;
		case 'h':
			import_usage(stdout);
			printf("  unpacks tar (gz, bz2, xz, zst), zip, 7z, cpio "
			       "or iso into a Trial dataset,\n  all or "
			       "nothing.  Refuses absolute paths, '..', links "
			       "leaving the\n  dataset, devices, FIFOs, "
			       "sockets, a file over a folder and the like.\n"
			       "  Bounds: --max-size (default 64G expanded), "
			       "--max-ratio (default 200\n  times the archive), "
			       "--max-entries (default 1000000); 0 lifts one."
			       "\n");
			return 0;
		default:
			import_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		import_usage(stderr);
		return 2;
	}
	cli_progress_start(cli, &prog, "import", 0);
	o.progress.start = progress_start;
	o.progress.add = progress_add;
	o.progress.arg = &prog;
	rc = cora_import(cli->cat, argv[optind], argv[optind + 1], &o, &st);
	cli_progress_end(&prog);
	if (rc)
		return cli_fail(cli, rc);
	if (cli->json) {
		json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}",
				      "dataset", argv[optind], "archive",
				      argv[optind + 1], "files",
				      (json_int_t)st.files, "folders",
				      (json_int_t)st.folders, "links",
				      (json_int_t)st.links, "skipped",
				      (json_int_t)st.skipped, "bytes",
				      (json_int_t)st.bytes);
		cli_print_json(j);
		json_decref(j);
	} else if (!cli->quiet) {
		printf("imported %llu files (%s), %llu folders, %llu links "
		       "from '%s' into dataset '%s'\n",
		       (unsigned long long)st.files,
		       cli_bytes(buf, (double)st.bytes),
		       (unsigned long long)st.folders,
		       (unsigned long long)st.links, argv[optind + 1],
		       argv[optind]);
		if (st.skipped)
			printf("skipped %llu generated files at the archive "
			       "root (the catalog makes its own)\n",
			       (unsigned long long)st.skipped);
	}
	return 0;
}

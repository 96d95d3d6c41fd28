/*
 * cmd_init.c: `cora init`, creating a catalog.
 *
 *     cora init CATALOG [--blobs local]
 *     cora init CATALOG --blobs s3 --endpoint URL --bucket B [--region R]
 *                       [--prefix P] [--addressing path|virtual]
 *                       [--cache-size 10G] [--set key=value]...
 *
 * The S3 flags are the s3.* keys of CATALOG/config (docs/s3.md); --set
 * writes any other key.  An S3 catalog's settings and credentials are
 * checked before anything is created, and no request is made: a wrong
 * endpoint shows at the first use (or with `cora blobs info --check`).
 */
#include "cli/cli.h"

#include "core/error.h"
#include "store/store.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Flags that are plain config keys. */
static const struct {
	const char *flag;
	const char *key;
} keyed[] = {
	{ "endpoint", "s3.endpoint" },
	{ "bucket", "s3.bucket" },
	{ "region", "s3.region" },
	{ "prefix", "s3.prefix" },
	{ "addressing", "s3.addressing" },
	{ "cache-size", "cache.size" },
};
#define NKEYED (sizeof(keyed) / sizeof(keyed[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cora init [CATALOG] [--blobs local|s3] [--set key=value]...\n"
		"       cora init [CATALOG] --blobs s3 --endpoint URL --bucket B\n"
		"                 [--region R] [--prefix P] [--addressing path|virtual]\n"
		"                 [--cache-size SIZE]\n"
		"  S3 credentials come from AWS_ACCESS_KEY_ID and "
		"AWS_SECRET_ACCESS_KEY,\n  or CATALOG/credentials or "
		"~/.aws/credentials (mode 0600); see docs/s3.md\n");
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "blobs", required_argument, NULL, 'b' },
		{ "set", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "endpoint", required_argument, NULL, 1000 },
		{ "bucket", required_argument, NULL, 1001 },
		{ "region", required_argument, NULL, 1002 },
		{ "prefix", required_argument, NULL, 1003 },
		{ "addressing", required_argument, NULL, 1004 },
		{ "cache-size", required_argument, NULL, 1005 },
		{ NULL, 0, NULL, 0 },
	};
	struct cora_create_opts o = { 0 };
	json_t *cfg = json_object();
	const char *path = cli->catalog_path;
	char source[300] = "none";
	bool s3_flags = false;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o.blobs = optarg;
			break;
		case 's': {
			char *eq = strchr(optarg, '=');
			if (!eq) {
				fprintf(stderr, "cora init: --set wants "
					"key=value\n");
				json_decref(cfg);
				return 2;
			}
			*eq = '\0';
			json_object_set_new(cfg, optarg, json_string(eq + 1));
			break;
		}
		case 'h':
			usage(stdout);
			json_decref(cfg);
			return 0;
		default:
			if (c >= 1000 && c < 1000 + (int)NKEYED) {
				json_object_set_new(cfg, keyed[c - 1000].key,
						    json_string(optarg));
				s3_flags = s3_flags || c != 1005;
				break;
			}
			usage(stderr);
			json_decref(cfg);
			return 2;
		}
	}
	if (optind < argc)
		path = argv[optind];
	if (!path) {
		fprintf(stderr, "cora init: which folder? Give CATALOG or "
			"-C CATALOG\n");
		json_decref(cfg);
		return 2;
	}
	if (s3_flags && (!o.blobs || strcmp(o.blobs, "s3") != 0)) {
		fprintf(stderr, "cora init: --endpoint, --bucket, --region, "
			"--prefix and --addressing go with --blobs s3\n");
		json_decref(cfg);
		return 2;
	}
	if (o.blobs && strcmp(o.blobs, "s3") == 0) {
		/* refuse bad settings or an unsafe credentials file before
		 * anything exists on disk */
		rc = cora_s3_check(path, cfg, source);
		if (rc) {
			json_decref(cfg);
			return cli_fail(cli, rc);
		}
	}
	o.config = cfg;
	rc = cora_catalog_create(path, &o);
	if (rc) {
		json_decref(cfg);
		return cli_fail(cli, rc);
	}
	if (cli->json) {
		json_t *out = json_pack("{s:s, s:s}", "catalog", path, "blobs",
					o.blobs ? o.blobs : "local");
		if (o.blobs && !strcmp(o.blobs, "s3"))
			json_object_set_new(out, "credentials",
					    json_string(source));
		cli_print_json(out);
		json_decref(out);
	} else if (!cli->quiet) {
		if (o.blobs && !strcmp(o.blobs, "s3"))
			printf("created catalog '%s' (blobs in s3 bucket '%s' "
			       "at %s)\n", path,
			       json_string_value(json_object_get(cfg, "s3.bucket")),
			       json_string_value(json_object_get(cfg, "s3.endpoint")));
		else
			printf("created catalog '%s'\n", path);
	}
	if (o.blobs && !strcmp(o.blobs, "s3") && !strcmp(source, "none"))
		fprintf(stderr, "cora init: note: no S3 credentials found yet: "
			"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
			"write %s/credentials (mode 0600)\n", path);
	json_decref(cfg);
	return 0;
}

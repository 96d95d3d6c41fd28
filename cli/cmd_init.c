/*
 * cmd_init.c: `cora init`, creating a catalog.
 */
#include "cli/cli.h"

#include "core/error.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

int cmd_init(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "blobs", required_argument, NULL, 'b' },
		{ "set", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cora_create_opts o = { 0 };
	json_t *cfg = json_object();
	const char *path = cli->catalog_path;
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
			printf("usage: cora init [CATALOG] [--blobs local] "
			       "[--set key=value]...\n");
			json_decref(cfg);
			return 0;
		default:
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
	o.config = cfg;
	rc = cora_catalog_create(path, &o);
	json_decref(cfg);
	if (rc)
		return cli_fail(cli, rc);
	if (cli->json) {
		json_t *out = json_pack("{s:s}", "catalog", path);
		cli_print_json(out);
		json_decref(out);
	} else if (!cli->quiet) {
		printf("created catalog '%s'\n", path);
	}
	return 0;
}


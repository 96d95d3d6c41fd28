/*
 * cmd_bundle.c: `cora bundle publish`, which mints a DOI when none is
 * given before running the bundle.publish command.
 */
#include "cli/cli.h"

#include "core/command.h"
#include "core/error.h"
#include "core/projection.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* The stub minter of reference 1.2: <stub_doi_prefix>/<suffix>.  The
 * suffix is the bundle's slug, so a re-publication after a failed
 * attempt names the same DOI. */
static int mint_stub(struct cli *cli, const json_t *bundle, char **doi)
{
	const char *prefix = cora_catalog_config(cli->cat, "stub_doi_prefix",
						 "10.0000/cora-stub");

	if (asprintf(doi, "%s/%s", prefix, cora_json_str(bundle, "slug")) < 0)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	return 0;
}

int cmd_bundle_publish(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "doi", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cora_result res;
	const char *given = NULL, *minter;
	char *doi = NULL;
	json_t *bundle, *cmd;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': given = optarg; break;
		case 'h':
			printf("usage: cora bundle publish BUNDLE [--doi DOI]\n"
			       "  without --doi the configured minter assigns "
			       "one (offline: the stub\n  minter, "
			       "<stub_doi_prefix>/<bundle>)\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: cora bundle publish BUNDLE [--doi "
			"DOI]\n");
		return 2;
	}
	rc = cora_entity_get(cli->cat, "Bundle", argv[optind], &bundle, NULL,
			     NULL);
	if (rc == CORA_ENOTFOUND)
		rc = cora_error_set(CORA_ENOTFOUND, "bundle '%s' does not "
				    "exist", argv[optind]);
	if (rc)
		return cli_fail(cli, rc);
	if (given) {
		doi = strdup(given);
	} else {
		minter = cora_catalog_config(cli->cat, "doi_minter", "stub");
		if (strcmp(minter, "stub") != 0)
			rc = cora_error_set(CORA_EINVALID, "DOI minter '%s' is "
					    "not available in this build: give "
					    "--doi", minter);
		else
			rc = mint_stub(cli, bundle, &doi);
	}
	json_decref(bundle);
	if (rc)
		return cli_fail(cli, rc);
	cmd = json_pack("{s:s}", "doi", doi);
	rc = cora_command(cli->cat, "bundle.publish", argv[optind], cmd, &res);
	json_decref(cmd);
	if (rc) {
		free(doi);
		return cli_fail(cli, rc);
	}
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:s, s:I}", "id", res.stream_id,
				      "doi", doi, "version",
				      (json_int_t)res.version);
		cli_print_json(o);
		json_decref(o);
	} else if (!cli->quiet) {
		printf("published bundle '%s' as doi:%s\n", argv[optind], doi);
	}
	free(doi);
	return 0;
}

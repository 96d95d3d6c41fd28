/*
 * cmd_archive.c: archives out and in (libarchive): `cora bundle export`,
 * `cora dataset export`, `cora dataset import`.
 */
#include "cli/cli.h"

#include "core/error.h"

static int not_yet(struct cli *cli)
{
	return cli_fail(cli, cora_error_set(CORA_EINVALID,
		"'%s' is not available in this build yet", cli->prog));
}

int cmd_bundle_export(struct cli *cli, int argc, char **argv)
{
	return not_yet(cli);
}

int cmd_dataset_export(struct cli *cli, int argc, char **argv)
{
	return not_yet(cli);
}

int cmd_dataset_import(struct cli *cli, int argc, char **argv)
{
	return not_yet(cli);
}

/*
 * cmd_blobs.c: `cora blobs ...`: where a catalog's blobs live.
 */
#include "cli/cli.h"

#include "core/error.h"

int cmd_blobs(struct cli *cli, int argc, char **argv)
{
	return cli_fail(cli, cora_error_set(CORA_EINVALID,
		"'cora blobs' is not available in this build yet"));
}

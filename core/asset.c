/*
 * asset.c: the asset aggregate (placeholder until its deciders land).
 */
#include "core/aggregate.h"

const struct cora_event_def cora_asset_events[] = {
	{ .type = NULL },
};

const struct cora_command_def cora_asset_commands[] = {
	{ .name = NULL },
};

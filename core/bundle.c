/*
 * bundle.c: the bundle aggregate (placeholder until its deciders land).
 */
#include "core/aggregate.h"

const struct cora_event_def cora_bundle_events[] = {
	{ .type = NULL },
};

const struct cora_command_def cora_bundle_commands[] = {
	{ .name = NULL },
};

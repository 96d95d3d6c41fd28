/*
 * family.c: the family aggregate (placeholder until its deciders land).
 */
#include "core/aggregate.h"

const struct cora_event_def cora_family_events[] = {
	{ .type = NULL },
};

const struct cora_command_def cora_family_commands[] = {
	{ .name = NULL },
};

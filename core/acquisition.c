/*
 * acquisition.c: the acquisition aggregate (placeholder until its deciders land).
 */
#include "core/aggregate.h"

const struct cora_event_def cora_acquisition_events[] = {
	{ .type = NULL },
};

const struct cora_command_def cora_acquisition_commands[] = {
	{ .name = NULL },
};

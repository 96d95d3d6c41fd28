/*
 * run.c: the run aggregate (placeholder until its deciders land).
 */
#include "core/aggregate.h"

const struct cora_event_def cora_run_events[] = {
	{ .type = NULL },
};

const struct cora_command_def cora_run_commands[] = {
	{ .name = NULL },
};

/*
 * model.c: the model aggregate (placeholder until its deciders land).
 */
#include "core/aggregate.h"

const struct cora_event_def cora_model_events[] = {
	{ .type = NULL },
};

const struct cora_command_def cora_model_commands[] = {
	{ .name = NULL },
};

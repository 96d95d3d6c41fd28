/*
 * dataset.c: the dataset aggregate (placeholder until its deciders land).
 */
#include "core/aggregate.h"

const struct cora_event_def cora_dataset_events[] = {
	{ .type = NULL },
};

const struct cora_command_def cora_dataset_commands[] = {
	{ .name = NULL },
};

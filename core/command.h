/*
 * command.h: running a command against the catalog.
 *
 * cora_command() is the one write path of the catalog.  Inside one
 * BEGIN IMMEDIATE transaction it:
 *
 *   1. resolves the target stream (by id or slug) and reads its state and
 *      version from the entities projection (the snapshot; invariant 3 of
 *      catalog.h makes it equal to folding the log);
 *   2. calls the command's pure decider with a context that answers from
 *      the projections (other entities, dataset files);
 *   3. appends the events with the version read in step 1 as the expected
 *      version, folds each into the state and updates the projections;
 *   4. commits.
 *
 * Commands may be grouped: between cora_tx_begin() and cora_tx_commit()
 * any number of cora_command() calls commit together or not at all (an
 * ingest of many files is one transaction).
 */
#ifndef CORA_COMMAND_H
#define CORA_COMMAND_H

#include "core/catalog.h"

struct cora_result {
	char stream_id[37];
	int64_t version;        /* stream version after the command */
	size_t events;          /* number of events appended (may be 0) */
	int64_t position;       /* log position of the last one */
};

/* Runs command `name` (e.g. "dataset.promote") on target (an id or slug;
 * NULL for a genesis command) with arguments cmd.  res may be NULL. */
int cora_command(struct cora_catalog *cat, const char *name,
		 const char *target, const json_t *cmd,
		 struct cora_result *res);

/* Like cora_command(), but the caller supplies the id a genesis
 * command creates (used when the id must be known in advance). */
int cora_command_with_id(struct cora_catalog *cat, const char *name,
			 const char *target, const char *new_id,
			 const json_t *cmd, struct cora_result *res);

/* The stream type a command acts on, for messages ("Dataset"). */
const char *cora_command_stream_type(const char *name);

#endif

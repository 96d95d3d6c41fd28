/*
 * fsck.h: checking a catalog against its own log.
 *
 * cora_fsck() replays the whole log into a scratch database (next to the
 * catalog, removed afterwards), rebuilding the projections from nothing,
 * and compares them row for row with the live ones (catalog.h invariant
 * 3).  It also checks that stream versions have no gaps (invariant 2)
 * and that every blob a file names exists in the blob store
 * (invariant 5).  It changes nothing in the catalog.
 */
#ifndef CORA_FSCK_H
#define CORA_FSCK_H

#include "core/catalog.h"

struct cora_fsck_report {
	int64_t events;          /* events replayed */
	int64_t entities;        /* entity rows compared */
	int64_t nodes;           /* node rows compared */
	int64_t blobs_checked;   /* distinct blobs looked for */
	json_t *problems;        /* array of one-line messages */
};

/* Returns 0 when the check ran (clean or not: see problems), or an error
 * when it could not run. */
int cora_fsck(struct cora_catalog *cat, struct cora_fsck_report *report);
void cora_fsck_report_release(struct cora_fsck_report *report);

#endif

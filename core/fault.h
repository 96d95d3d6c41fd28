/*
 * fault.h: fault injection for tests.
 *
 * cora_fault_sim(N) arms a countdown: the Nth fault point reached from
 * then on (counting from 1, across all threads) fails as if the
 * operation had failed (an allocation returning NULL, write() returning
 * EIO, fsync() failing, rename() failing, an SQLite step failing, an S3
 * request failing).  N = 0 disarms.  cora_fault_points() tells how many
 * points were passed since the last arming, so a test can walk N from 1
 * to that count and see every point fail once.
 *
 * Points are marked in the code with CORA_FAULT(kind): it evaluates to
 * true when this point must fail.  Builds without fault injection
 * (-Dfault_injection=false) compile it to false and the hook to no-ops.
 *
 * The environment variable CORA_FAULT=N arms the countdown at the first
 * fault point, so whole commands can be walked from a shell script;
 * CORA_FAULT_REPORT=path makes the process write "POINTS FIRED" (the
 * number of points passed, and 1 or 0) to path at exit, so a walk knows
 * when N has gone past the last point.
 */
#ifndef CORA_FAULT_H
#define CORA_FAULT_H

#include <stdbool.h>
#include <stdint.h>

enum cora_fault_kind {
	CORA_FAULT_ALLOC,
	CORA_FAULT_WRITE,
	CORA_FAULT_FSYNC,
	CORA_FAULT_RENAME,
	CORA_FAULT_SQLITE,
	CORA_FAULT_S3,
};

void cora_fault_sim(uint64_t n);
uint64_t cora_fault_points(void);
/* True once the armed point has fired (until re-armed). */
bool cora_fault_fired(void);

#ifdef CORA_FAULT_INJECTION
bool cora_fault_hit(enum cora_fault_kind kind);
#define CORA_FAULT(kind) cora_fault_hit(kind)
#else
#define CORA_FAULT(kind) false
#endif

#endif

/*
 * fault.c: the countdown behind cora_fault_sim().
 *
 * For walks from a shell, CORA_FAULT=N arms the countdown and
 * CORA_FAULT_REPORT=PATH makes the process write, at exit(), one line
 * "POINTS FIRED" to PATH: the fault points it passed and 1 when the
 * armed one fired (0 otherwise).  A walk stops at the first N whose run
 * succeeds with FIRED = 0.  A process that reaches no fault point
 * writes no report.
 */
#include "core/fault.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_uint_fast64_t countdown;   /* 0: disarmed */
static atomic_uint_fast64_t points;
static atomic_bool fired;
static atomic_bool env_checked;

void cora_fault_sim(uint64_t n)
{
	atomic_store(&points, 0);
	atomic_store(&fired, false);
	atomic_store(&countdown, n);
	atomic_store(&env_checked, true);
}

uint64_t cora_fault_points(void)
{
	return atomic_load(&points);
}

bool cora_fault_fired(void)
{
	return atomic_load(&fired);
}

#ifdef CORA_FAULT_INJECTION
static const char *report_path;

static void write_report(void)
{
	FILE *f = fopen(report_path, "we");

	if (!f)
		return;
	fprintf(f, "%llu %d\n", (unsigned long long)atomic_load(&points),
		atomic_load(&fired) ? 1 : 0);
	fclose(f);
}

bool cora_fault_hit(enum cora_fault_kind kind)
{
	uint_fast64_t c;

	(void)kind;
	if (!atomic_exchange(&env_checked, true)) {
		const char *env = getenv("CORA_FAULT");
		if (env && *env)
			atomic_store(&countdown, strtoull(env, NULL, 10));
		report_path = getenv("CORA_FAULT_REPORT");
		if (report_path && *report_path)
			atexit(write_report);
	}
	atomic_fetch_add(&points, 1);
	c = atomic_load(&countdown);
	while (c > 0) {
		if (atomic_compare_exchange_weak(&countdown, &c, c - 1)) {
			if (c == 1) {
				atomic_store(&fired, true);
				return true;
			}
			return false;
		}
	}
	return false;
}
#endif

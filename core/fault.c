/*
 * fault.c: the countdown behind cora_fault_sim().
 */
#include "core/fault.h"

#include <stdatomic.h>
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
bool cora_fault_hit(enum cora_fault_kind kind)
{
	uint_fast64_t c;

	(void)kind;
	if (!atomic_exchange(&env_checked, true)) {
		const char *env = getenv("CORA_FAULT");
		if (env && *env)
			atomic_store(&countdown, strtoull(env, NULL, 10));
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

/*
 * fuzz_time.c: libFuzzer target for cora_time_parse (clock.h).
 *
 * Any text parses or is CORA_EINVALID, never a crash (UBSan watches the
 * arithmetic); a time that parses formats to a string that parses to the
 * same microseconds, and a UTC time (Z or +00:00, no leap second) formats
 * to the date and time it was written with: the parser takes only real
 * calendar dates.
 */
#include "core/clock.h"
#include "core/error.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Written in UTC, without a leap second. */
static bool utc(const char *s)
{
	size_t n = strlen(s);

	if (s[17] == '6')
		return false;
	return s[n - 1] == 'Z' || s[n - 1] == 'z' ||
	       (n >= 6 && strcmp(s + n - 6, "+00:00") == 0) ||
	       (n >= 6 && strcmp(s + n - 6, "-00:00") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char buf[CORA_TIME_STRLEN];
	int64_t us = 0, back = 0;
	int rc;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	rc = cora_time_parse(&us, s);
	if (rc != 0 && rc != CORA_EINVALID)
		abort();
	if (rc == 0) {
		cora_time_format(buf, us);
		if (cora_time_parse(&back, buf) != 0 || back != us) {
			fprintf(stderr, "'%s' -> %" PRId64 " -> '%s' -> %"
				PRId64 "\n", s, us, buf, back);
			abort();
		}
		if (utc(s) && (strncmp(buf, s, 10) != 0 ||
			       strncmp(buf + 11, s + 11, 8) != 0)) {
			fprintf(stderr, "'%s' formats as '%s'\n", s, buf);
			abort();
		}
	}
	free(s);
	return 0;
}

/*
 * clock.h: time stamps of events.
 *
 * Events carry RFC 3339 UTC times as Python's isoformat() writes them
 * (reference 1.3): "2026-05-19T14:03:22.123456+00:00", microseconds
 * omitted when zero.  The reader accepts that form and the "Z" form.
 *
 * The clock can be pinned for reproducible demos and tests with the
 * environment variable CORA_FAKE_NOW (an RFC 3339 time); each call then
 * advances the fake clock by one millisecond so event order stays strict.
 */
#ifndef CORA_CLOCK_H
#define CORA_CLOCK_H

#include <stdint.h>

#define CORA_TIME_STRLEN 40

/* Microseconds since the Unix epoch, now (or the fake clock). */
int64_t cora_clock_now_us(void);

/* Formats microseconds since the epoch into buf. */
char *cora_time_format(char buf[CORA_TIME_STRLEN], int64_t us);

/* Microseconds to nanoseconds, saturating: years after 2262 (or before
 * 1677) do not fit in 64-bit nanoseconds and become the largest (or
 * smallest) time that does, never an overflow. */
int64_t cora_time_us_to_ns(int64_t us);

/* A struct timespec's seconds and nanoseconds as nanoseconds since the
 * epoch, saturating like cora_time_us_to_ns(). */
int64_t cora_time_ts_to_ns(int64_t sec, long nsec);

/* Now, formatted. */
char *cora_time_now(char buf[CORA_TIME_STRLEN]);

/* Parses an RFC 3339 time (offset Z or +hh:mm / -hh:mm, optional
 * fraction) into microseconds since the epoch.  Returns 0 or
 * CORA_EINVALID. */
int cora_time_parse(int64_t *us, const char *s);

#endif

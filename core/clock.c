/*
 * clock.c: RFC 3339 formatting and parsing, and the fakeable clock.
 */
#include "core/clock.h"

#include "core/error.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t fake_us = -1;

int64_t cora_clock_now_us(void)
{
	const char *fake = getenv("CORA_FAKE_NOW");
	struct timespec ts;
	int64_t us;

	if (fake && *fake) {
		pthread_mutex_lock(&fake_lock);
		if (fake_us < 0 && cora_time_parse(&fake_us, fake) != 0)
			fake_us = 0;
		us = fake_us;
		fake_us += 1000;
		pthread_mutex_unlock(&fake_lock);
		return us;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *cora_time_format(char buf[CORA_TIME_STRLEN], int64_t us)
{
	time_t secs = (time_t)(us / 1000000);
	int frac = (int)(us % 1000000);
	struct tm tm;
	size_t n;

	if (frac < 0) {
		frac += 1000000;
		secs -= 1;
	}
	gmtime_r(&secs, &tm);
	/* Not strftime's %Y: it writes year 26 as "26", which no RFC 3339
	 * reader (ours included) takes back. */
	n = (size_t)snprintf(buf, CORA_TIME_STRLEN,
			     "%04d-%02d-%02dT%02d:%02d:%02d",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (frac)
		n += (size_t)snprintf(buf + n, CORA_TIME_STRLEN - n, ".%06d",
				      frac);
	snprintf(buf + n, CORA_TIME_STRLEN - n, "+00:00");
	return buf;
}

char *cora_time_now(char buf[CORA_TIME_STRLEN])
{
	return cora_time_format(buf, cora_clock_now_us());
}

static int digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z */
#define MIN_US (-62167219200LL * 1000000)
#define MAX_US (253402300800LL * 1000000 - 1)

/* timegm() would quietly roll 2026-02-31 over into March. */
static int days_in_month(int year, int month)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

int cora_time_parse(int64_t *us, const char *s)
{
	int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 1;
	int64_t frac = 0, scale = 1000000, t;
	const char *p;
	struct tm tm;

	if (!s || strlen(s) < 20 || digits(s, 4, &Y) || s[4] != '-' ||
	    digits(s + 5, 2, &M) || s[7] != '-' || digits(s + 8, 2, &D) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		goto bad;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		for (; isdigit((unsigned char)*p); p++) {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' ||
		    digits(p + 4, 2, &om))
			goto bad;
		p += 6;
	} else {
		goto bad;
	}
	if (*p || M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) ||
	    h > 23 || m > 59 || sec > 60 || oh > 23 || om > 59)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	t = ((int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60)) * 1000000 +
	    frac;
	/* An offset can push 9999-12-31 or 0000-01-01 out of the years
	 * RFC 3339 (and so cora_time_format) can write. */
	if (t < MIN_US || t > MAX_US)
		goto bad;
	*us = t;
	return 0;
bad:
	return cora_error_set(CORA_EINVALID,
			      "'%s' is not an RFC 3339 time (like "
			      "2026-05-19T14:03:22Z)", s ? s : "");
}

int64_t cora_time_us_to_ns(int64_t us)
{
	int64_t ns;

	if (__builtin_mul_overflow(us, (int64_t)1000, &ns))
		return us < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

int64_t cora_time_ts_to_ns(int64_t sec, long nsec)
{
	int64_t ns;

	if (__builtin_mul_overflow(sec, (int64_t)1000000000, &ns) ||
	    __builtin_add_overflow(ns, (int64_t)nsec, &ns))
		return sec < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

/*
 * error.h: error codes and the thread-local error message.
 *
 * Every core function that can fail returns an int: 0 on success, or one
 * of the negative CORA_E* codes below.  The human message that goes with
 * the most recent failure on this thread is kept in thread-local storage;
 * the function that detects the failure sets it with cora_error_set(), and
 * callers that only propagate a code leave it alone.
 *
 * Messages follow the project style: lower case, no final full stop, what
 * went wrong first, the subject quoted:
 *
 *     cannot promote dataset 'scan-0042': producing run 'run-7' did not complete
 *
 * Thread safety: all functions are safe to call from any thread; each
 * thread has its own message.
 */
#ifndef CORA_ERROR_H
#define CORA_ERROR_H

#include <stdio.h>
#include <stdlib.h>

enum cora_error_code {
	CORA_OK = 0,
	CORA_ENOTFOUND = -1,  /* a named thing does not exist */
	CORA_EEXISTS = -2,    /* it exists already */
	CORA_ECONFLICT = -3,  /* a stream moved on: the expected version is stale */
	CORA_EINVALID = -4,   /* bad input: a value out of bounds or malformed */
	CORA_ESTATE = -5,     /* the transition is not allowed from this state */
	CORA_EMISMATCH = -6,  /* content does not match its digest */
	CORA_EIO = -7,        /* the operating system or SQLite failed */
	CORA_ENOMEM = -8,     /* an allocation failed */
	CORA_EREADONLY = -9,  /* the place is frozen or generated */
	CORA_EPERM = -10,     /* not allowed: reserved name, wrong principal */
	CORA_EVERSION = -11,  /* the catalog is from a newer version */
	CORA_ECORRUPT = -12,  /* the catalog database is damaged */
	CORA_ENOTEMPTY = -13, /* a folder still has entries */
	CORA_EISDIR = -14,    /* a folder where a file was expected */
	CORA_ENOTDIR = -15,   /* a file where a folder was expected */
};

/* Sets this thread's message (printf-style) and returns code, so a
 * failure reads `return cora_error_set(CORA_EINVALID, "...", ...);`. */
int cora_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like cora_error_set(), but appends ": strerror(errno)" to the message. */
int cora_error_sys(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The message of this thread's last failure, never NULL (may be ""). */
const char *cora_error_last(void);

/* The code recorded with that message (0 when none). */
int cora_error_code(void);

/* Clears this thread's message. */
void cora_error_clear(void);

/* A short stable name for a code: "not found", "conflict", ... */
const char *cora_error_name(int code);

/* Aborts with file and line: for states that must be impossible even
 * when NDEBUG removes asserts. */
#define CORA_BUG(msg)                                                        \
	do {                                                                 \
		fprintf(stderr, "corafs bug at %s:%d: %s\n", __FILE__,        \
			__LINE__, (msg));                                    \
		abort();                                                     \
	} while (0)

#endif

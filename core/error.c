/*
 * error.c: the thread-local error message behind cora_error_set().
 */
#include "core/error.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#define CORA_ERROR_MAX 1024

static _Thread_local char last_message[CORA_ERROR_MAX];
static _Thread_local int last_code;

int cora_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
	va_end(ap);
	last_code = code;
	return code;
}

int cora_error_sys(int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
	va_end(ap);
	n = strlen(last_message);
	snprintf(last_message + n, sizeof(last_message) - n, ": %s",
		 strerror(saved));
	last_code = code;
	errno = saved;
	return code;
}

const char *cora_error_last(void)
{
	return last_message;
}

int cora_error_code(void)
{
	return last_code;
}

void cora_error_clear(void)
{
	last_message[0] = '\0';
	last_code = 0;
}

const char *cora_error_name(int code)
{
	static const char *const names[] = {
		[0] = "ok",
		[-CORA_ENOTFOUND] = "not found",
		[-CORA_EEXISTS] = "already exists",
		[-CORA_ECONFLICT] = "conflict",
		[-CORA_EINVALID] = "invalid",
		[-CORA_ESTATE] = "not allowed in this state",
		[-CORA_EMISMATCH] = "digest mismatch",
		[-CORA_EIO] = "i/o error",
		[-CORA_ENOMEM] = "out of memory",
		[-CORA_EREADONLY] = "read-only",
		[-CORA_EPERM] = "not permitted",
		[-CORA_EVERSION] = "newer catalog version",
		[-CORA_ECORRUPT] = "corrupt catalog",
		[-CORA_ENOTEMPTY] = "not empty",
		[-CORA_EISDIR] = "is a folder",
		[-CORA_ENOTDIR] = "not a folder",
	};

	if (code > 0 || -code >= (int)(sizeof(names) / sizeof(names[0])) ||
	    !names[-code])
		return "unknown error";
	return names[-code];
}

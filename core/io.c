/*
 * io.c: small system-call helpers (io.h).
 */
#include "core/io.h"

#include <errno.h>
#include <unistd.h>

int cora_write_full(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t k;

	while (n > 0) {
		k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int cora_pwrite_full(int fd, const void *buf, size_t n, uint64_t off)
{
	const char *p = buf;
	ssize_t k;

	while (n > 0) {
		k = pwrite(fd, p, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

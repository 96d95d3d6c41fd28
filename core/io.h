/*
 * io.h: small system-call helpers shared by the libraries above core.
 */
#ifndef CORA_IO_H
#define CORA_IO_H

#include <stddef.h>
#include <stdint.h>

/* Writes all n bytes of buf to fd, going on after short writes and
 * EINTR.  0, or -1 with errno set (ENOSPC when write() wrote nothing). */
int cora_write_full(int fd, const void *buf, size_t n);

/* The same with pwrite() at offset off. */
int cora_pwrite_full(int fd, const void *buf, size_t n, uint64_t off);

#endif

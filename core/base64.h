/*
 * base64.h: RFC 4648 base64 (with padding), for extended attribute
 * values carried in event payloads.
 */
#ifndef CORA_BASE64_H
#define CORA_BASE64_H

#include <stddef.h>

/* Encodes n bytes; returns a NUL-terminated string (caller frees) or
 * NULL when out of memory. */
char *cora_base64_encode(const void *buf, size_t n);

/* Decodes text; returns the bytes (caller frees; one extra NUL byte is
 * appended) and their number in *n, or NULL when text is not base64. */
char *cora_base64_decode(const char *text, size_t *n);

#endif

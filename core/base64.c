/*
 * base64.c: base64 through OpenSSL's EVP block coder.
 */
#include "core/base64.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

char *cora_base64_encode(const void *buf, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, buf, (int)n);
	return out;
}

char *cora_base64_decode(const char *text, size_t *n)
{
	size_t len = strlen(text), pad = 0;
	unsigned char *out;
	int got;

	if (len % 4 != 0)
		return NULL;
	if (len >= 1 && text[len - 1] == '=')
		pad++;
	if (len >= 2 && text[len - 2] == '=')
		pad++;
	out = malloc(3 * (len / 4) + 1);
	if (!out)
		return NULL;
	got = len ? EVP_DecodeBlock(out, (const unsigned char *)text,
				    (int)len) : 0;
	if (got < 0 || (size_t)got < pad) {
		free(out);
		return NULL;
	}
	*n = (size_t)got - pad;
	out[*n] = '\0';
	return (char *)out;
}

/*
 * base64.c: base64 through OpenSSL's EVP block coder.
 */
#include "core/base64.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdbool.h>
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

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

char *cora_base64_decode(const char *text, size_t *n)
{
	size_t len = strlen(text), pad = 0, i;
	unsigned char *out;
	int got;

	if (len % 4 != 0 || len > INT_MAX)
		return NULL;
	if (len >= 1 && text[len - 1] == '=')
		pad++;
	if (len >= 2 && text[len - 2] == '=')
		pad++;
	/* EVP_DecodeBlock skips white space and takes '=' anywhere, so
	 * "YQ===Q==" came out as four bytes: only the alphabet, with '='
	 * as the last one or two characters, is base64 (the rule of
	 * dataset.c's decider). */
	for (i = 0; i < len - pad; i++)
		if (!is_b64(text[i]))
			return NULL;
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

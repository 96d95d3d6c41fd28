/*
 * fuzz_base64.c: libFuzzer target for cora_base64_decode (base64.h).
 *
 * Any text decodes or is refused, never a crash, and exactly the strict
 * RFC 4648 form decodes: characters of the alphabet, a length that is a
 * multiple of 4, '=' only as the last one or two characters (the rule
 * the dataset decider checks values with).  What decodes has n/4*3 - pad
 * bytes, encodes to the same text up to the unused bits of the last
 * group, and any bytes encode and decode back to themselves.
 */
#include "core/base64.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool alphabet(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* The reference grammar: -1 when not base64, else the decoded size. */
static long long strict_len(const char *s)
{
	size_t n = strlen(s), pad = 0, i;

	if (n % 4)
		return -1;
	if (n && s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	for (i = 0; i < n - pad; i++)
		if (!alphabet(s[i]))
			return -1;
	return (long long)(n / 4 * 3 - pad);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *dec, *enc, *again;
	long long want;
	size_t n = 0, m = 0, len;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	len = strlen(text);
	want = strict_len(text);

	dec = cora_base64_decode(text, &n);
	if ((dec != NULL) != (want >= 0)) {
		fprintf(stderr, "'%s': decode %s, grammar says %lld\n", text,
			dec ? "accepted" : "refused", want);
		abort();
	}
	if (dec) {
		if ((long long)n != want || dec[n] != '\0')
			abort();
		enc = cora_base64_encode(dec, n);
		if (!enc)
			abort();
		/* equal but for the unused low bits of the last character
		 * before the padding */
		if (strlen(enc) != len ||
		    (len && strncmp(enc, text, len - 4) != 0)) {
			fprintf(stderr, "'%s' decodes to %zu bytes that "
				"encode to '%s'\n", text, n, enc);
			abort();
		}
		again = cora_base64_decode(enc, &m);
		if (!again || m != n || memcmp(again, dec, n) != 0)
			abort();
		free(again);
		free(enc);
		free(dec);
	}

	enc = cora_base64_encode(data, size);
	if (!enc)
		abort();
	dec = cora_base64_decode(enc, &n);
	if (!dec || n != size || memcmp(dec, data, size) != 0) {
		fprintf(stderr, "%zu bytes do not round trip\n", size);
		abort();
	}
	free(dec);
	free(enc);
	free(text);
	return 0;
}

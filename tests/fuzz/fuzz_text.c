/*
 * fuzz_text.c: libFuzzer target for the validators of text.h.
 *
 * The raw input goes through the UTF-8 decoder as bytes, and, cut at
 * its first NUL, through every validator.  Besides "no crash", a few
 * properties must hold:
 *   - cora_utf8_valid(s) agrees with decoding s scalar by scalar;
 *   - a bounded text result is valid UTF-8, trimmed, within its bounds;
 *   - the cleaned forms (ORCID, ROR, URI, facility code) validate again
 *     to themselves;
 *   - a valid relative path is made of valid names.
 */
#include "core/error.h"
#include "core/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                     \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "property failed: %s\n", #cond); \
			abort();                                        \
		}                                                       \
	} while (0)

/* cleaned value v must validate to itself with fn */
static void again(int (*fn)(char **, const char *), const char *v)
{
	char *w = NULL;

	CHECK(fn(&w, v) == 0);
	CHECK(strcmp(v, w) == 0);
	free(w);
}

static int uri(char **out, const char *in)
{
	return cora_text_uri(out, in, "uri");
}

static void bytes(const char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;
	bool ok = true;

	while (i < n) {
		k = cora_utf8_decode(s + i, n - i, &cp);
		if (k == 0 || cp == 0) {
			ok = false;
			break;
		}
		CHECK(k <= 4 && k <= n - i);
		CHECK(cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff));
		i += k;
	}
	CHECK(ok == cora_utf8_valid(s, n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *out = NULL;
	size_t len, min, max;
	uint32_t cp;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	bytes(s, size);
	len = strlen(s);

	if (cora_utf8_valid(s, len))
		CHECK(cora_utf8_length(s) <= len);

	min = size ? data[0] % 4 : 0;
	max = size > 1 ? data[1] : 10;
	if (cora_text_bounded(&out, s, min, max, "text") == 0) {
		size_t n = strlen(out), k;
		CHECK(cora_utf8_valid(out, n));
		CHECK(cora_utf8_length(out) >= min &&
		      cora_utf8_length(out) <= max);
		if (n) {
			k = cora_utf8_decode(out, n, &cp);
			CHECK(k && !cora_unicode_is_space(cp));
		}
		free(out);
	}
	if (cora_text_reason(&out, s) == 0)
		free(out);

	cora_text_slug(s, "slug");
	cora_text_sha256(s, "sha256");
	cora_text_spdx(s);
	cora_text_doi(s);
	cora_text_name(s, "name");
	if (cora_text_relpath(s, "path") == 0) {
		char *copy = strdup(s), *save = NULL, *part;
		CHECK(copy);
		for (part = strtok_r(copy, "/", &save); part;
		     part = strtok_r(NULL, "/", &save))
			CHECK(cora_text_name(part, "name") == 0);
		free(copy);
	}
	if (cora_text_orcid(&out, s) == 0) {
		again(cora_text_orcid, out);
		free(out);
	}
	if (cora_text_ror(&out, s) == 0) {
		again(cora_text_ror, out);
		free(out);
	}
	if (cora_text_uri(&out, s, "uri") == 0) {
		again(uri, out);
		free(out);
	}
	if (cora_text_facility_code(&out, s) == 0) {
		again(cora_text_facility_code, out);
		free(out);
	}
	free(s);
	return 0;
}

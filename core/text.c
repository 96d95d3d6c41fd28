/*
 * text.c: UTF-8 decoding and the validators of text.h.
 */
#include "core/text.h"

#include "core/error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

size_t cora_utf8_decode(const char *str, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c;
	size_t len, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past Unicode. */
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
	    (len == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

bool cora_utf8_valid(const char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		k = cora_utf8_decode(s + i, n - i, &cp);
		if (k == 0 || cp == 0)
			return false;
		i += k;
	}
	return true;
}

size_t cora_utf8_length(const char *s)
{
	size_t count = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			count++;
	return count;
}

bool cora_unicode_is_space(uint32_t cp)
{
	switch (cp) {
	case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d:
	case 0x1c: case 0x1d: case 0x1e: case 0x1f: case 0x20:
	case 0x85: case 0xa0: case 0x1680:
	case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000:
		return true;
	default:
		return cp >= 0x2000 && cp <= 0x200a;
	}
}

/* Trims in[0..n) and returns the bounds of the kept part. */
static void trim_span(const char *in, size_t n, size_t *start, size_t *end)
{
	size_t i = 0, k, last_end = 0;
	uint32_t cp;
	bool seen = false;

	*start = n;
	while (i < n) {
		k = cora_utf8_decode(in + i, n - i, &cp);
		if (!cora_unicode_is_space(cp)) {
			if (!seen)
				*start = i;
			seen = true;
			last_end = i + k;
		}
		i += k;
	}
	*end = seen ? last_end : n;
}

int cora_text_bounded(char **out, const char *in, size_t min, size_t max,
		      const char *what)
{
	size_t n, start, end, len;
	char *copy;

	*out = NULL;
	if (!in)
		return cora_error_set(CORA_EINVALID, "%s is missing", what);
	n = strlen(in);
	if (!cora_utf8_valid(in, n))
		return cora_error_set(CORA_EINVALID,
				      "%s is not valid UTF-8 text", what);
	trim_span(in, n, &start, &end);
	copy = strndup(in + start, end - start);
	if (!copy)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	len = cora_utf8_length(copy);
	if (len < min || len > max) {
		free(copy);
		if (len == 0)
			return cora_error_set(CORA_EINVALID, "%s is empty",
					      what);
		return cora_error_set(CORA_EINVALID,
				      "%s must be %zu to %zu characters, "
				      "not %zu", what, min, max, len);
	}
	*out = copy;
	return 0;
}

int cora_text_reason(char **out, const char *in)
{
	return cora_text_bounded(out, in, 1, 500, "reason");
}

int cora_text_slug(const char *in, const char *what)
{
	size_t i, n;

	if (!in || !*in)
		return cora_error_set(CORA_EINVALID, "%s is empty", what);
	n = strlen(in);
	if (n > 128)
		return cora_error_set(CORA_EINVALID,
				      "%s '%.40s...' is longer than 128 "
				      "characters", what, in);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		bool ok = isascii(c) && (isalnum(c) ||
			  (i > 0 && (c == '.' || c == '_' || c == '-')));
		if (!ok)
			return cora_error_set(CORA_EINVALID,
				"%s '%s' is not a valid name: use letters, "
				"digits, '.', '_' and '-', starting with a "
				"letter or digit", what, in);
	}
	return 0;
}

int cora_text_facility_code(char **out, const char *in)
{
	char *v;
	int rc;
	size_t i;

	rc = cora_text_bounded(&v, in, 1, 32, "facility code");
	if (rc)
		return rc;
	for (i = 0; v[i]; i++) {
		if (!(islower((unsigned char)v[i]) ||
		      isdigit((unsigned char)v[i]) || v[i] == '-')) {
			rc = cora_error_set(CORA_EINVALID,
				"facility code '%s' may hold only a-z, 0-9 "
				"and '-'", v);
			free(v);
			return rc;
		}
	}
	*out = v;
	return 0;
}

int cora_text_uri(char **out, const char *in, const char *what)
{
	static const char *const blocked[] = {
		"javascript", "vbscript", "data", "about", "view-source",
	};
	char *v;
	size_t i, slen;
	int rc;

	rc = cora_text_bounded(&v, in, 1, 2048, what);
	if (rc)
		return rc;
	/* RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	slen = 0;
	if (isalpha((unsigned char)v[0])) {
		for (slen = 1; v[slen] && (isalnum((unsigned char)v[slen]) ||
			v[slen] == '+' || v[slen] == '-' || v[slen] == '.');
		     slen++)
			;
	}
	if (slen == 0 || v[slen] != ':') {
		rc = cora_error_set(CORA_EINVALID,
				    "%s '%s' has no scheme (like https: or "
				    "s3:)", what, v);
		free(v);
		return rc;
	}
	for (i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++) {
		if (strlen(blocked[i]) == slen &&
		    strncasecmp(v, blocked[i], slen) == 0) {
			rc = cora_error_set(CORA_EINVALID,
					    "%s scheme '%.*s' is not allowed",
					    what, (int)slen, v);
			free(v);
			return rc;
		}
	}
	*out = v;
	return 0;
}

int cora_text_sha256(const char *in, const char *what)
{
	size_t i;

	if (!in)
		return cora_error_set(CORA_EINVALID, "%s is missing", what);
	for (i = 0; in[i]; i++) {
		if (!((in[i] >= '0' && in[i] <= '9') ||
		      (in[i] >= 'a' && in[i] <= 'f')))
			return cora_error_set(CORA_EINVALID,
				"%s '%.80s' must be 64 lowercase hex digits",
				what, in);
	}
	if (i != 64)
		return cora_error_set(CORA_EINVALID,
				      "%s must be 64 lowercase hex digits, "
				      "not %zu", what, i);
	return 0;
}

int cora_text_spdx(const char *in)
{
	size_t i;

	if (!in || !*in)
		return cora_error_set(CORA_EINVALID, "licence is empty");
	for (i = 0; in[i]; i++) {
		unsigned char c = (unsigned char)in[i];
		if (!(isascii(c) && (isalnum(c) || c == '.' || c == '+' ||
				     c == '-')))
			return cora_error_set(CORA_EINVALID,
				"licence '%s' is not an SPDX id (letters, "
				"digits, '.', '+', '-')", in);
	}
	if (i > 100)
		return cora_error_set(CORA_EINVALID,
				      "licence id is longer than 100 "
				      "characters");
	return 0;
}

int cora_text_orcid(char **out, const char *in)
{
	static const char prefix[] = "https://orcid.org/";
	const char *p = in;
	char digits[16];
	int total = 0, check, i, n = 0;

	*out = NULL;
	if (!in)
		return cora_error_set(CORA_EINVALID, "ORCID iD is missing");
	if (strncmp(p, prefix, sizeof(prefix) - 1) == 0)
		p += sizeof(prefix) - 1;
	/* 0000-0002-1825-0097: four groups of four, last may end in X. */
	if (strlen(p) != 19)
		goto bad;
	for (i = 0; i < 19; i++) {
		if (i % 5 == 4) {
			if (p[i] != '-')
				goto bad;
			continue;
		}
		if (!(isdigit((unsigned char)p[i]) || (i == 18 && p[i] == 'X')))
			goto bad;
		digits[n++] = p[i];
	}
	for (i = 0; i < 15; i++)
		total = (total + (digits[i] - '0')) * 2;
	check = (12 - total % 11) % 11;
	if ((check == 10 ? 'X' : '0' + check) != digits[15])
		return cora_error_set(CORA_EINVALID,
				      "ORCID iD '%s' has a wrong check digit",
				      in);
	if (asprintf(out, "%s%s", prefix, p) < 0) {
		*out = NULL;
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	return 0;
bad:
	return cora_error_set(CORA_EINVALID,
			      "'%s' is not an ORCID iD (like "
			      "0000-0002-1825-0097)", in);
}

int cora_text_ror(char **out, const char *in)
{
	static const char prefix[] = "https://ror.org/";
	const char *p = in;
	size_t i;

	*out = NULL;
	if (!in)
		return cora_error_set(CORA_EINVALID, "ROR id is missing");
	if (strncmp(p, prefix, sizeof(prefix) - 1) == 0)
		p += sizeof(prefix) - 1;
	/* 0 + 6 base-32 characters + 2 check digits. */
	if (strlen(p) != 9 || p[0] != '0')
		goto bad;
	for (i = 0; i < 9; i++)
		if (!(isdigit((unsigned char)p[i]) || islower((unsigned char)p[i])))
			goto bad;
	if (asprintf(out, "%s%s", prefix, p) < 0) {
		*out = NULL;
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	return 0;
bad:
	return cora_error_set(CORA_EINVALID,
			      "'%s' is not a ROR id (like "
			      "https://ror.org/05gvnxz63)", in);
}

int cora_text_doi(const char *in)
{
	const char *p = in;
	size_t n;

	if (!in || strncmp(in, "10.", 3) != 0)
		goto bad;
	for (p = in + 3; isdigit((unsigned char)*p) || *p == '.'; p++)
		;
	if (p == in + 3 || *p != '/' || !p[1])
		goto bad;
	n = strlen(in);
	if (n > 200 || !cora_utf8_valid(in, n))
		goto bad;
	for (p = in; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			goto bad;
	return 0;
bad:
	return cora_error_set(CORA_EINVALID,
			      "'%s' is not a DOI (like 10.5072/abc-123, "
			      "without 'doi:')", in ? in : "");
}

int cora_text_name(const char *in, const char *what)
{
	size_t n;

	if (!in || !*in)
		return cora_error_set(CORA_EINVALID, "%s is empty", what);
	n = strlen(in);
	if (n > 255)
		return cora_error_set(CORA_EINVALID,
				      "%s '%.40s...' is longer than 255 bytes",
				      what, in);
	if (strchr(in, '/'))
		return cora_error_set(CORA_EINVALID, "%s '%s' contains '/'",
				      what, in);
	if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0)
		return cora_error_set(CORA_EINVALID,
				      "%s may not be '.' or '..'", what);
	if (!cora_utf8_valid(in, n))
		return cora_error_set(CORA_EINVALID,
				      "%s is not valid UTF-8", what);
	return 0;
}

int cora_text_relpath(const char *in, const char *what)
{
	char name[256];
	const char *p, *slash;
	size_t n, len;
	int rc;

	if (!in || !*in)
		return cora_error_set(CORA_EINVALID, "%s is empty", what);
	n = strlen(in);
	if (n > 4096)
		return cora_error_set(CORA_EINVALID,
				      "%s is longer than 4096 bytes", what);
	if (in[0] == '/')
		return cora_error_set(CORA_EINVALID,
				      "%s '%s' must be relative", what, in);
	for (p = in; ; p = slash + 1) {
		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0)
			return cora_error_set(CORA_EINVALID,
					      "%s '%s' has an empty component",
					      what, in);
		if (len > 255)
			return cora_error_set(CORA_EINVALID,
				"%s '%.40s...' has a name longer than 255 "
				"bytes", what, in);
		memcpy(name, p, len);
		name[len] = '\0';
		rc = cora_text_name(name, what);
		if (rc)
			return rc;
		if (!slash)
			break;
	}
	return 0;
}

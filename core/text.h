/*
 * text.h: validation of user text and identifiers.
 *
 * The domain's rules (reference section 1.1): bounded text is trimmed of
 * Unicode white space, must not be empty, and its length is counted in
 * code points, not bytes.  All input must be valid UTF-8 (no overlong
 * forms, no surrogates, nothing above U+10FFFF) and contain no NUL.
 *
 * Every validator returns 0, or CORA_EINVALID with a message naming the
 * field (the `what` argument, e.g. "dataset name") and the problem.
 * Functions that produce a cleaned value allocate it into *out; the caller
 * frees it.  None keeps state; all are thread safe.
 */
#ifndef CORA_TEXT_H
#define CORA_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes one UTF-8 scalar at s (at most n bytes).  Returns its length in
 * bytes and stores the code point in *cp, or returns 0 when the bytes are
 * not valid UTF-8. */
size_t cora_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* True when s[0..n) is valid UTF-8 without NUL. */
bool cora_utf8_valid(const char *s, size_t n);

/* Number of code points in a valid UTF-8 string. */
size_t cora_utf8_length(const char *s);

/* True for the code points Python's str.isspace() accepts. */
bool cora_unicode_is_space(uint32_t cp);

/* Trims Unicode white space from both ends and checks that the result
 * has min..max code points.  On success *out is the trimmed copy. */
int cora_text_bounded(char **out, const char *in, size_t min, size_t max,
		      const char *what);

/* A reason for a transition: bounded text 1..500. */
int cora_text_reason(char **out, const char *in);

/* A slug: [A-Za-z0-9][A-Za-z0-9._-]{0,127}, taken as given (no trim). */
int cora_text_slug(const char *in, const char *what);

/* A facility code: trimmed, ^[a-z0-9-]{1,32}$. */
int cora_text_facility_code(char **out, const char *in);

/* A URI: trimmed 1..2048, with a non-empty scheme that is not one of the
 * blocked ones (javascript, vbscript, data, about, view-source). */
int cora_text_uri(char **out, const char *in, const char *what);

/* A SHA-256 digest: exactly 64 lowercase hex characters. */
int cora_text_sha256(const char *in, const char *what);

/* An SPDX licence id: 1..100 of [A-Za-z0-9.+-]. */
int cora_text_spdx(const char *in);

/* An ORCID iD, bare (0000-0002-1825-0097) or as https://orcid.org/ URL,
 * with its ISO 7064 check digit.  *out is the https://orcid.org/ form. */
int cora_text_orcid(char **out, const char *in);

/* A ROR id, bare (05gvnxz63) or https://ror.org/ URL; *out is the URL. */
int cora_text_ror(char **out, const char *in);

/* A DOI: 10.<digits>/<suffix>, no "doi:" prefix, no white space. */
int cora_text_doi(const char *in);

/* A relative path inside a dataset: components separated by '/', none
 * empty, ".", ".." or over 255 bytes, valid UTF-8, no NUL, at most 4096
 * bytes in all, no leading or trailing '/'. */
int cora_text_relpath(const char *in, const char *what);

/* One component of such a path (a file or folder name). */
int cora_text_name(const char *in, const char *what);

#endif

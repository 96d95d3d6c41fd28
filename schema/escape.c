/*
 * escape.c: making catalog text safe for the documents, and small text
 * helpers (dates, media types) the renderers share.
 *
 * Catalog text is valid UTF-8 (core checks it), but it may hold anything
 * Unicode allows, and XML 1.0 does not allow everything: U+0000-U+0008,
 * U+000B, U+000C, U+000E-U+001F, U+FFFE and U+FFFF are not characters of
 * an XML document, not even as &#x..; references.  HTML forbids the same
 * and the C1 controls.  rd_clean() replaces all of those, DEL and the
 * other noncharacters with U+FFFD, so a hostile title can change what a
 * record says but never whether it parses.  Markup characters are left
 * to the writer (xmlTextWriter escapes < & > and quotes; rd_str_html()
 * escapes for HTML).  Bidirectional controls such as U+202E are valid
 * text and stay; the preview isolates user text with <bdi>.
 */
#include "schema/render_int.h"

#include "core/error.h"
#include "core/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* U+FFFD in UTF-8. */
static const char replacement[] = "\xef\xbf\xbd";

static bool forbidden(uint32_t cp)
{
	if (cp < 0x20)
		return cp != '\t' && cp != '\n' && cp != '\r';
	if (cp >= 0x7f && cp <= 0x9f)
		return true;
	if (cp >= 0xfdd0 && cp <= 0xfdef)
		return true;
	return (cp & 0xfffe) == 0xfffe;   /* U+xFFFE, U+xFFFF */
}

char *rd_clean(const char *s)
{
	size_t n = strlen(s), i = 0, o = 0;
	/* each bad byte may grow to three */
	char *out = malloc(n * 3 + 1);
	uint32_t cp;
	size_t k;

	if (!out)
		return NULL;
	while (i < n) {
		k = cora_utf8_decode(s + i, n - i, &cp);
		if (k == 0 || forbidden(cp)) {
			memcpy(out + o, replacement, 3);
			o += 3;
			i += k ? k : 1;
			continue;
		}
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return out;
}

/* RFC 3986 pchar minus ':' (a colon in a first segment reads as a
 * scheme) and '@' (kept simple): unreserved and sub-delims. */
static bool uri_keep(unsigned char c)
{
	if (c >= 0x80)
		return true;     /* IRI: RO-Crate prefers native UTF-8 */
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return strchr("-._~!$&'()*+,;=/", c) != NULL && c != '\0';
}

/* U+200E, U+200F, U+202A-U+202E, U+2066-U+2069 (3 UTF-8 bytes). */
static bool is_bidi(const unsigned char *p)
{
	if (p[0] != 0xe2)
		return false;
	if (p[1] == 0x80)
		return p[2] == 0x8e || p[2] == 0x8f ||
		       (p[2] >= 0xaa && p[2] <= 0xae);
	return p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9;
}

static size_t pct(char *out, size_t o, unsigned char b)
{
	static const char hex[] = "0123456789ABCDEF";

	out[o++] = '%';
	out[o++] = hex[b >> 4];
	out[o++] = hex[b & 15];
	return o;
}

char *rd_uri_path(const char *path)
{
	size_t n = strlen(path), i = 0, o = 0, k, j;
	char *out = malloc(n * 3 + 1);
	uint32_t cp;

	if (!out)
		return NULL;
	while (i < n) {
		unsigned char c = (unsigned char)path[i];
		if (c < 0x80) {
			if (uri_keep(c))
				out[o++] = (char)c;
			else
				o = pct(out, o, c);
			i++;
			continue;
		}
		/* Non-ASCII stays as UTF-8 (an IRI), except what RFC 3987
		 * leaves out of ucschar (C1 controls, noncharacters) and
		 * bidirectional controls, which would make the id read
		 * backwards: those bytes are percent-encoded. */
		k = cora_utf8_decode(path + i, n - i, &cp);
		if (k == 0) {
			o = pct(out, o, c);
			i++;
			continue;
		}
		if (cp < 0xa0 || forbidden(cp) ||
		    is_bidi((const unsigned char *)path + i)) {
			for (j = 0; j < k; j++)
				o = pct(out, o, (unsigned char)path[i + j]);
		} else {
			memcpy(out + o, path + i, k);
			o += k;
		}
		i += k;
	}
	out[o] = '\0';
	return out;
}

/* ---- growing strings ------------------------------------------------- */

static void grow(struct rd_str *s, size_t more)
{
	size_t cap;
	char *b;

	if (s->oom || s->len + more + 1 <= s->cap)
		return;
	cap = s->cap ? s->cap : 256;
	while (cap < s->len + more + 1)
		cap *= 2;
	b = realloc(s->buf, cap);
	if (!b) {
		s->oom = true;
		return;
	}
	s->buf = b;
	s->cap = cap;
}

static void add_n(struct rd_str *s, const char *text, size_t n)
{
	grow(s, n);
	if (s->oom)
		return;
	memcpy(s->buf + s->len, text, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

void rd_str_add(struct rd_str *s, const char *text)
{
	if (text)
		add_n(s, text, strlen(text));
}

void rd_str_addf(struct rd_str *s, const char *fmt, ...)
{
	va_list ap;
	char *t = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&t, fmt, ap);
	va_end(ap);
	if (n < 0) {
		s->oom = true;
		return;
	}
	add_n(s, t, (size_t)n);
	free(t);
}

void rd_str_html(struct rd_str *s, const char *text)
{
	char *c, *p;

	if (!text)
		return;
	c = rd_clean(text);
	if (!c) {
		s->oom = true;
		return;
	}
	for (p = c; *p; p++) {
		switch (*p) {
		case '&': rd_str_add(s, "&amp;"); break;
		case '<': rd_str_add(s, "&lt;"); break;
		case '>': rd_str_add(s, "&gt;"); break;
		case '"': rd_str_add(s, "&quot;"); break;
		case '\'': rd_str_add(s, "&#39;"); break;
		case '\r': break;   /* HTML turns CR LF into LF anyway */
		default: add_n(s, p, 1);
		}
	}
	free(c);
}

int rd_str_take(struct rd_str *s, char **out, size_t *len)
{
	if (!s->oom && !s->buf)
		grow(s, 0);
	if (s->oom) {
		free(s->buf);
		memset(s, 0, sizeof(*s));
		*out = NULL;
		*len = 0;
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	*out = s->buf;
	*len = s->len;
	s->buf[s->len] = '\0';
	memset(s, 0, sizeof(*s));
	return 0;
}

/* ---- dates and types ---------------------------------------------------- */

void rd_date(char out[11], const char *iso)
{
	snprintf(out, 11, "%.10s", iso ? iso : "");
}

int rd_year(const char *iso)
{
	int y = 0, i;

	if (!iso)
		return 0;
	for (i = 0; i < 4; i++) {
		if (iso[i] < '0' || iso[i] > '9')
			return 0;
		y = y * 10 + (iso[i] - '0');
	}
	return y;
}

void rd_time_ns(char out[48], int64_t ns)
{
	time_t secs = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;
	size_t n;

	if (frac < 0) {
		frac += 1000000000;
		secs -= 1;
	}
	gmtime_r(&secs, &tm);
	/* not strftime's %Y, which writes year 26 as "26" */
	n = (size_t)snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n >= 48)
		n = 47;
	if (frac) {
		/* shortest fraction: drop trailing zeros */
		char f[16];
		int k = snprintf(f, sizeof(f), "%09ld", frac);
		while (k > 0 && f[k - 1] == '0')
			f[--k] = '\0';
		n += (size_t)snprintf(out + n, 48 - n, ".%s", f);
	}
	snprintf(out + n, 48 - n, "Z");
}

const char *rd_media_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} table[] = {
		{ "h5", "application/x-hdf5" },
		{ "hdf5", "application/x-hdf5" },
		{ "nxs", "application/x-hdf5" },
		{ "tif", "image/tiff" },
		{ "tiff", "image/tiff" },
		{ "json", "application/json" },
		{ "txt", "text/plain" },
		{ "xml", "application/xml" },
		{ "csv", "text/csv" },
		{ "png", "image/png" },
		{ "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },
	};
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t i;

	if (dot && dot != base)
		for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
			if (strcasecmp(dot + 1, table[i].ext) == 0)
				return table[i].type;
	return "application/octet-stream";
}

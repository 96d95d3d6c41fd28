/*
 * s3_util.c: the S3 store's settings, credentials, object keys, URLs,
 * canonical queries and request headers: everything about a request that
 * can be decided without the network (specified in s3_int.h).
 */
#include "store/s3_int.h"

#include "core/error.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int oom(void)
{
	return cora_error_set(CORA_ENOMEM, "out of memory");
}

/* ---- settings ------------------------------------------------------- */

int s3_size_parse(const char *text, uint64_t *out)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{ "", 1 }, { "b", 1 },
		{ "k", 1ULL << 10 }, { "kib", 1ULL << 10 }, { "kb", 1ULL << 10 },
		{ "m", 1ULL << 20 }, { "mib", 1ULL << 20 }, { "mb", 1ULL << 20 },
		{ "g", 1ULL << 30 }, { "gib", 1ULL << 30 }, { "gb", 1ULL << 30 },
		{ "t", 1ULL << 40 }, { "tib", 1ULL << 40 }, { "tb", 1ULL << 40 },
	};
	unsigned long long n;
	char *end, unit[8];
	size_t i, k = 0;

	if (!text || !isdigit((unsigned char)*text))
		return CORA_EINVALID;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno)
		return CORA_EINVALID;
	while (*end == ' ')
		end++;
	for (; *end && k + 1 < sizeof(unit); end++)
		unit[k++] = (char)tolower((unsigned char)*end);
	unit[k] = '\0';
	if (*end)
		return CORA_EINVALID;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].suffix) != 0)
			continue;
		if (n > UINT64_MAX / units[i].mult)
			return CORA_EINVALID;
		*out = n * units[i].mult;
		return 0;
	}
	return CORA_EINVALID;
}

static const char *get(const json_t *cfg, const char *key)
{
	const char *v = json_string_value(json_object_get(cfg, key));

	return v && *v ? v : NULL;
}

static int bad(const char *key, const char *why)
{
	return cora_error_set(CORA_EINVALID, "config '%s': %s", key, why);
}

static int get_size(const json_t *cfg, const char *key, uint64_t dflt,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	const char *v = get(cfg, key);
	char why[128];

	*out = dflt;
	if (!v)
		return 0;
	if (s3_size_parse(v, out) != 0)
		return bad(key, "not a size (e.g. 16M, 10G or bytes)");
	if (*out != 0 && (*out < min || *out > max)) {
		snprintf(why, sizeof(why), "must be between %" PRIu64 " and %"
			 PRIu64 " bytes", min, max);
		return bad(key, why);
	}
	return 0;
}

static int get_num(const json_t *cfg, const char *key, long dflt, long min,
		   long max, long *out)
{
	const char *v = get(cfg, key);
	char *end, why[96];
	long n;

	*out = dflt;
	if (!v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < min || n > max) {
		snprintf(why, sizeof(why), "must be a whole number from %ld "
			 "to %ld", min, max);
		return bad(key, why);
	}
	*out = n;
	return 0;
}

static bool all_chars(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) || (unsigned char)*s > 0x7f)
			if (!strchr(extra, *s))
				return false;
	return true;
}

static int parse_endpoint(struct s3_config *c, const char *v)
{
	const char *host;
	size_t n;

	if (!v)
		return bad("s3.endpoint", "missing (e.g. https://s3.us-east-1."
			   "amazonaws.com or http://127.0.0.1:9000)");
	if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else
		return bad("s3.endpoint", "must start with http:// or https://");
	n = strlen(host);
	while (n > 0 && host[n - 1] == '/')
		n--;
	if (n == 0 || memchr(host, '/', n) || memchr(host, '?', n) ||
	    memchr(host, '#', n))
		return bad("s3.endpoint", "must be http(s)://HOST[:PORT] "
			   "without a path");
	if (memchr(host, '@', n))
		return bad("s3.endpoint", "must not carry credentials (use "
			   "the environment or a credentials file)");
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)host[i]) ||
		    (unsigned char)host[i] > 0x7f)
			if (!strchr(".-:[]", host[i]) || !host[i])
				return bad("s3.endpoint", "has a bad host name");
	if (n > 255)
		return bad("s3.endpoint", "has a bad host name");
	c->endpoint = strndup(v, (size_t)(host - v) + n);
	return c->endpoint ? 0 : oom();
}

static int parse_prefix(struct s3_config *c, const char *v)
{
	size_t n;

	if (!v)
		v = "";
	n = strlen(v);
	if (n > 512 || !all_chars(v, "._/-") || v[0] == '/' ||
	    strstr(v, "//") || strstr(v, "/../") || !strncmp(v, "../", 3) ||
	    !strcmp(v, "..") || (n >= 3 && !strcmp(v + n - 3, "/..")))
		return bad("s3.prefix", "may hold letters, digits and . _ - /, "
			   "not start with '/' nor contain '//' or '..'");
	if (asprintf(&c->prefix, "%s%s", v, n && v[n - 1] != '/' ? "/" : "") < 0) {
		c->prefix = NULL;
		return oom();
	}
	return 0;
}

int s3_config_parse(struct s3_config *c, const json_t *cfg)
{
	const char *v;
	long n;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = parse_endpoint(c, get(cfg, "s3.endpoint"));
	if (rc)
		goto fail;
	v = get(cfg, "s3.bucket");
	if (!v || strlen(v) > 255 || !all_chars(v, ".-_")) {
		rc = bad("s3.bucket", v ? "may hold letters, digits and . - _"
			 : "missing");
		goto fail;
	}
	c->bucket = strdup(v);
	v = get(cfg, "s3.region");
	if (v && (strlen(v) > 64 || !all_chars(v, "-_"))) {
		rc = bad("s3.region", "may hold letters, digits and -");
		goto fail;
	}
	c->region = strdup(v ? v : "us-east-1");
	if (!c->bucket || !c->region) {
		rc = oom();
		goto fail;
	}
	rc = parse_prefix(c, get(cfg, "s3.prefix"));
	if (rc)
		goto fail;
	v = get(cfg, "s3.addressing");
	if (v && strcmp(v, "path") && strcmp(v, "virtual")) {
		rc = bad("s3.addressing", "must be 'path' or 'virtual'");
		goto fail;
	}
	c->virtual_host = v && !strcmp(v, "virtual");
	if (c->virtual_host && !all_chars(c->bucket, ".-")) {
		rc = bad("s3.bucket", "must be a DNS name for virtual-host "
			 "addressing");
		goto fail;
	}
	if ((rc = get_size(cfg, "s3.multipart_threshold", 16 * S3_MIB,
			   S3_MIN_PART, 5ULL << 30, &c->multipart_threshold)) ||
	    (rc = get_size(cfg, "s3.part_size", 8 * S3_MIB, S3_MIN_PART,
			   5ULL << 30, &c->part_size)) ||
	    (rc = get_size(cfg, "cache.size", 10ULL << 30, 64 * S3_MIB,
			   UINT64_MAX, &c->cache_size)) ||
	    (rc = get_size(cfg, "cache.chunk", 8 * S3_MIB, 64 * 1024,
			   1ULL << 30, &c->cache_chunk)))
		goto fail;
	if (c->multipart_threshold == 0 || c->part_size == 0 ||
	    c->cache_chunk == 0) {
		rc = bad(c->part_size == 0 ? "s3.part_size" : c->cache_chunk == 0 ?
			 "cache.chunk" : "s3.multipart_threshold",
			 "must not be 0");
		goto fail;
	}
	if ((rc = get_num(cfg, "s3.parallel", 4, 1, 32, &n)))
		goto fail;
	c->parallel = (unsigned)n;
	if ((rc = get_num(cfg, "s3.retries", 5, 0, 20, &n)))
		goto fail;
	c->retries = (unsigned)n;
	if ((rc = get_num(cfg, "s3.list_page", 1000, 1, 1000, &n)))
		goto fail;
	c->list_page = (unsigned)n;
	if ((rc = get_num(cfg, "cache.readahead", 4, 0, 64, &n)))
		goto fail;
	c->cache_readahead = (unsigned)n;
	if ((rc = get_num(cfg, "s3.retry_delay_ms", 200, 1, 60000,
			  &c->retry_delay_ms)) ||
	    (rc = get_num(cfg, "s3.connect_timeout", 10, 1, 3600,
			  &c->connect_timeout)) ||
	    (rc = get_num(cfg, "s3.stall_timeout", 30, 1, 3600,
			  &c->stall_timeout)) ||
	    (rc = get_num(cfg, "s3.timeout", 300, 0, 86400, &c->timeout)))
		goto fail;
	return 0;
fail:
	s3_config_release(c);
	return rc;
}

void s3_config_release(struct s3_config *c)
{
	free(c->endpoint);
	free(c->bucket);
	free(c->region);
	free(c->prefix);
	memset(c, 0, sizeof(*c));
}

/* ---- credentials ---------------------------------------------------- */

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void s3_creds_release(struct s3_creds *cr)
{
	wipe_free(cr->access_key);
	wipe_free(cr->secret_key);
	wipe_free(cr->token);
	cr->access_key = cr->secret_key = cr->token = NULL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Reads one line of f into *buf, grown to fit: a line is never cut (a
 * session token has no documented bound, and half of one would be taken
 * for the whole).  A buffer outgrown is wiped before it is freed, as it
 * may hold a secret.  1: a line, 0: end of file, or CORA_ENOMEM. */
static int read_line(FILE *f, char **buf, size_t *cap)
{
	size_t n = 0;
	char *nb;

	for (;;) {
		if (*cap - n < 2) {
			nb = malloc(*cap ? *cap * 2 : 4096);
			if (!nb)
				return oom();
			if (*buf) {
				memcpy(nb, *buf, n);
				explicit_bzero(*buf, *cap);
				free(*buf);
			}
			*buf = nb;
			*cap = *cap ? *cap * 2 : 4096;
		}
		(*buf)[n] = '\0';
		if (!fgets(*buf + n, (int)(*cap - n), f))
			return n > 0;
		n += strlen(*buf + n);
		if (n > 0 && (*buf)[n - 1] == '\n')
			return 1;
	}
}

/* Reads one profile of an INI-style credentials file.  Keys before any
 * section count when loose is set (CATALOG/credentials).  Messages name
 * the file and line, never a value. */
static int creds_file(struct s3_creds *cr, const char *path,
		      const char *profile, bool loose, bool *found)
{
	char *line = NULL, *p, *eq, *key, *val, **slot;
	size_t cap = 0;
	struct stat st;
	bool in = loose;
	int fd, lineno = 0, rc = 0;
	FILE *f;

	*found = false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return cora_error_sys(CORA_EIO, "cannot read credentials file "
				      "'%s'", path);
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cora_error_set(CORA_EIO, "credentials file '%s' is not "
				      "a file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return cora_error_set(CORA_EPERM, "refusing credentials file "
			"'%s': group or others may read it (mode %04o); run "
			"'chmod 600 %s'", path, (unsigned)(st.st_mode & 07777),
			path);
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return oom();
	}
	*found = true;
	while (rc == 0 && (rc = read_line(f, &line, &cap)) > 0) {
		rc = 0;
		lineno++;
		p = trim(line);
		if (!*p || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			char *end = strchr(p, ']');
			if (end)
				*end = '\0';
			in = strcmp(trim(p + 1), profile) == 0;
			continue;
		}
		eq = strchr(p, '=');
		if (!eq) {
			rc = cora_error_set(CORA_EINVALID, "credentials file "
				"'%s' line %d: expected 'key = value'", path,
				lineno);
			break;
		}
		*eq = '\0';
		key = trim(p);
		val = trim(eq + 1);
		if (!in)
			continue;
		if (!strncmp(key, "aws_", 4))
			key += 4;
		if (!strcmp(key, "access_key_id"))
			slot = &cr->access_key;
		else if (!strcmp(key, "secret_access_key"))
			slot = &cr->secret_key;
		else if (!strcmp(key, "session_token"))
			slot = &cr->token;
		else
			continue;
		wipe_free(*slot);
		*slot = strdup(val);
		if (!*slot)
			rc = oom();
	}
	if (line)
		explicit_bzero(line, cap);
	free(line);
	fclose(f);
	if (rc == 0 && (!cr->access_key || !cr->secret_key))
		rc = cora_error_set(CORA_EINVALID, "credentials file '%s' "
			"has no access_key_id and secret_access_key%s%s%s",
			path, profile[0] ? " in [" : "", profile,
			profile[0] ? "]" : "");
	if (rc == 0)
		snprintf(cr->source, sizeof(cr->source), "file '%s'", path);
	return rc;
}

int s3_creds_load(struct s3_creds *cr, const char *catalog_root)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	const char *file, *home, *profile;
	char *path = NULL;          /* allocated: a cut name is another file */
	bool found;
	int rc;

	memset(cr, 0, sizeof(*cr));
	snprintf(cr->source, sizeof(cr->source), "none");
	if ((id && *id) || (secret && *secret)) {
		if (!id || !*id || !secret || !*secret)
			return cora_error_set(CORA_EINVALID, "s3: "
				"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
				"must be set together");
		cr->access_key = strdup(id);
		cr->secret_key = strdup(secret);
		cr->token = token && *token ? strdup(token) : NULL;
		if (!cr->access_key || !cr->secret_key ||
		    (token && *token && !cr->token)) {
			s3_creds_release(cr);
			return oom();
		}
		snprintf(cr->source, sizeof(cr->source), "environment");
		return 0;
	}
	if (catalog_root) {
		if (asprintf(&path, "%s/credentials", catalog_root) < 0)
			return oom();
		rc = creds_file(cr, path, "default", true, &found);
		if (rc || found)
			goto out;
		free(path);
		path = NULL;
	}
	file = getenv("AWS_SHARED_CREDENTIALS_FILE");
	home = getenv("HOME");
	profile = getenv("AWS_PROFILE");
	if (file && *file)
		rc = asprintf(&path, "%s", file);
	else if (home && *home)
		rc = asprintf(&path, "%s/.aws/credentials", home);
	else
		return 0;
	if (rc < 0)
		return oom();
	rc = creds_file(cr, path, profile && *profile ? profile : "default",
			false, &found);
out:
	free(path);
	if (rc)
		s3_creds_release(cr);
	return rc;
}

/* ---- keys, URLs, queries, headers ----------------------------------- */

char *s3_uri_encode(const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(3 * strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) && ch < 0x80)
			*o++ = (char)ch;
		else if (ch == '-' || ch == '_' || ch == '.' || ch == '~' ||
			 (ch == '/' && keep_slash))
			*o++ = (char)ch;
		else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = '\0';
	return out;
}

int s3_object_key(char **out, const struct s3_config *c, const char *sha256)
{
	if (asprintf(out, "%ssha256/%.2s/%s", c->prefix, sha256, sha256 + 2) < 0) {
		*out = NULL;
		return oom();
	}
	return 0;
}

bool s3_key_digest(const char *key, const char *prefix,
		   char sha256[CORA_SHA256_HEXLEN + 1])
{
	size_t n = strlen(prefix), i;
	const char *p;

	if (strncmp(key, prefix, n) != 0)
		return false;
	p = key + n;
	if (strncmp(p, "sha256/", 7) != 0 || strlen(p + 7) != 2 + 1 + 62 ||
	    p[9] != '/')
		return false;
	p += 7;
	sha256[0] = p[0];
	sha256[1] = p[1];
	memcpy(sha256 + 2, p + 3, 62);
	sha256[CORA_SHA256_HEXLEN] = '\0';
	for (i = 0; i < CORA_SHA256_HEXLEN; i++)
		if (!isxdigit((unsigned char)sha256[i]) ||
		    isupper((unsigned char)sha256[i]))
			return false;
	return true;
}

int s3_url(char **out, const struct s3_config *c, const char *key,
	   const char *query)
{
	const char *host = strstr(c->endpoint, "://") + 3;
	int n;

	if (c->virtual_host)
		n = asprintf(out, "%.*s%s.%s/%s%s%s",
			     (int)(host - c->endpoint), c->endpoint, c->bucket,
			     host, key ? key : "", query ? "?" : "",
			     query ? query : "");
	else
		n = asprintf(out, "%s/%s/%s%s%s", c->endpoint, c->bucket,
			     key ? key : "", query ? "?" : "",
			     query ? query : "");
	if (n < 0) {
		*out = NULL;
		return oom();
	}
	return 0;
}

int s3_list_query(char **out, const char *prefix, const char *token,
		  unsigned max_keys)
{
	char *p = s3_uri_encode(prefix, false);
	char *t = token ? s3_uri_encode(token, false) : NULL;
	int n;

	*out = NULL;
	if (!p || (token && !t)) {
		free(p);
		free(t);
		return oom();
	}
	/* sorted by name: continuation-token < list-type < max-keys < prefix */
	n = asprintf(out, "%s%s%slist-type=2&max-keys=%u&prefix=%s",
		     t ? "continuation-token=" : "", t ? t : "", t ? "&" : "",
		     max_keys, p);
	free(p);
	free(t);
	if (n < 0) {
		*out = NULL;
		return oom();
	}
	return 0;
}

int s3_upload_query(char **out, const char *upload_id, size_t part)
{
	char *id = s3_uri_encode(upload_id, false);
	int n;

	*out = NULL;
	if (!id)
		return oom();
	/* sorted by name: partNumber < uploadId */
	if (part > 0)
		n = asprintf(out, "partNumber=%zu&uploadId=%s", part, id);
	else
		n = asprintf(out, "uploadId=%s", id);
	free(id);
	if (n < 0) {
		*out = NULL;
		return oom();
	}
	return 0;
}

static int add_header(struct curl_slist **list, const char *name,
		      const char *value)
{
	struct curl_slist *l;
	char *h;

	if (asprintf(&h, "%s: %s", name, value) < 0)
		return oom();
	l = curl_slist_append(*list, h);
	explicit_bzero(h, strlen(h)); /* may be the session token */
	free(h);
	if (!l)
		return oom();
	*list = l;
	return 0;
}

int s3_headers(struct curl_slist **out, const char *payload_sha256,
	       const char *token, const char *range, const char *content_type)
{
	struct curl_slist *l = NULL;
	int rc;

	*out = NULL;
	rc = add_header(&l, "x-amz-content-sha256",
			payload_sha256 ? payload_sha256 : "UNSIGNED-PAYLOAD");
	if (!rc && token)
		rc = add_header(&l, "x-amz-security-token", token);
	if (!rc && range)
		rc = add_header(&l, "Range", range);
	if (!rc && content_type)
		rc = add_header(&l, "Content-Type", content_type);
	if (rc) {
		curl_slist_free_all(l);
		return rc;
	}
	*out = l;
	return 0;
}

int s3_sigv4_param(char **out, const char *region)
{
	if (asprintf(out, "aws:amz:%s:s3", region) < 0) {
		*out = NULL;
		return oom();
	}
	return 0;
}

/*
 * config.c: parsing and writing CATALOG/config.
 */
#include "core/config.h"

#include "core/error.h"
#include "core/text.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *trim_end(const char *start, const char *end)
{
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' ||
			       end[-1] == '\r'))
		end--;
	return end;
}

int cora_config_parse(json_t **out, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *eol, *eq, *k, *kend, *v;
	json_t *cfg;
	int line = 0;
	char *key, *value;

	*out = NULL;
	if (!cora_utf8_valid(text, len))
		return cora_error_set(CORA_EINVALID,
				      "config is not valid UTF-8 text");
	cfg = json_object();
	if (!cfg)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	for (; p < end; p = eol + 1) {
		line++;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		k = skip_space(p, eol);
		if (k == eol || *k == '#' || trim_end(k, eol) == k)
			continue;
		eq = memchr(k, '=', (size_t)(eol - k));
		if (!eq) {
			json_decref(cfg);
			return cora_error_set(CORA_EINVALID,
				"config line %d: expected 'key = value'", line);
		}
		kend = trim_end(k, eq);
		for (const char *c = k; c < kend; c++) {
			if (!(islower((unsigned char)*c) ||
			      isdigit((unsigned char)*c) || *c == '_' ||
			      *c == '.' || *c == '-')) {
				json_decref(cfg);
				return cora_error_set(CORA_EINVALID,
					"config line %d: bad key '%.*s'", line,
					(int)(kend - k), k);
			}
		}
		if (kend == k) {
			json_decref(cfg);
			return cora_error_set(CORA_EINVALID,
					      "config line %d: empty key", line);
		}
		v = skip_space(eq + 1, eol);
		key = strndup(k, (size_t)(kend - k));
		value = strndup(v, (size_t)(trim_end(v, eol) - v));
		if (!key || !value) {
			free(key);
			free(value);
			json_decref(cfg);
			return cora_error_set(CORA_ENOMEM, "out of memory");
		}
		if (json_object_get(cfg, key)) {
			cora_error_set(CORA_EINVALID,
				       "config line %d: '%s' is set twice",
				       line, key);
			free(key);
			free(value);
			json_decref(cfg);
			return CORA_EINVALID;
		}
		json_object_set_new(cfg, key, json_string(value));
		free(key);
		free(value);
		if (eol == end)
			break;
	}
	*out = cfg;
	return 0;
}

int cora_config_load(json_t **out, const char *path)
{
	FILE *f;
	char *buf = NULL;
	size_t cap = 0, n = 0, r;
	int rc;

	*out = NULL;
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return cora_config_parse(out, "", 0);
		return cora_error_sys(CORA_EIO, "cannot read '%s'", path);
	}
	do {
		if (n == cap) {
			char *nb;
			cap = cap ? 2 * cap : 4096;
			if (cap > (1 << 20)) {
				fclose(f);
				free(buf);
				return cora_error_set(CORA_EINVALID,
					"config '%s' is larger than 1 MiB",
					path);
			}
			nb = realloc(buf, cap);
			if (!nb) {
				fclose(f);
				free(buf);
				return cora_error_set(CORA_ENOMEM,
						      "out of memory");
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	rc = cora_config_parse(out, buf ? buf : "", n);
	free(buf);
	return rc;
}

int cora_config_save(const json_t *cfg, const char *path, unsigned mode)
{
	char *tmp = NULL;
	const char *key;
	json_t *v;
	FILE *f;
	int fd, rc = 0;
	void *iter;
	const char **keys;
	size_t n = json_object_size(cfg), i = 0;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = cora_error_sys(CORA_EIO, "cannot write '%s'", tmp);
		free(tmp);
		return rc;
	}
	fchmod(fd, mode);
	f = fdopen(fd, "w");
	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!f || !keys) {
		if (f)
			fclose(f);
		else
			close(fd);
		free(keys);
		free(tmp);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	fprintf(f, "# corafs catalog configuration (key = value)\n");
	json_object_foreach_safe((json_t *)cfg, iter, key, v)
		keys[i++] = key;
	/* json objects keep insertion order; write sorted for stable diffs */
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			if (strcmp(keys[a], keys[b]) > 0) {
				const char *t = keys[a];
				keys[a] = keys[b];
				keys[b] = t;
			}
	for (i = 0; i < n; i++)
		fprintf(f, "%s = %s\n", keys[i],
			json_string_value(json_object_get(cfg, keys[i])));
	free(keys);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = cora_error_sys(CORA_EIO, "cannot write '%s'", tmp);
	if (fclose(f) != 0 && rc == 0)
		rc = cora_error_sys(CORA_EIO, "cannot write '%s'", tmp);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = cora_error_sys(CORA_EIO, "cannot rename '%s'", tmp);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

/*
 * blob_registry.c: the kinds of blob store a catalog may name in its
 * config (`blobs = local | s3 | ...`), and opening one (blobstore.h).
 *
 * "local" is built in.  Other kinds are registered at program start by
 * the libraries that implement them (store/ registers "s3"), because
 * core/ may not depend on them: it only holds their factories.  The
 * table is small and fixed; a mutex makes registration and lookup safe
 * from any thread, though registration belongs at the top of main().
 */
#include "core/blobstore.h"

#include "core/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KINDS 8

static struct {
	char kind[32];
	cora_blobstore_factory factory;
} kinds[MAX_KINDS];
static size_t nkinds;
static pthread_mutex_t kinds_lock = PTHREAD_MUTEX_INITIALIZER;

void cora_blobstore_register(const char *kind, cora_blobstore_factory f)
{
	size_t i;

	if (!kind || strlen(kind) >= sizeof(kinds[0].kind) || !f)
		CORA_BUG("bad blob store registration");
	pthread_mutex_lock(&kinds_lock);
	for (i = 0; i < nkinds; i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			break;
	if (i == MAX_KINDS)
		CORA_BUG("too many blob store kinds");
	if (i == nkinds) {
		snprintf(kinds[i].kind, sizeof(kinds[i].kind), "%s", kind);
		nkinds++;
	}
	kinds[i].factory = f;
	pthread_mutex_unlock(&kinds_lock);
}

static cora_blobstore_factory lookup(const char *kind)
{
	cora_blobstore_factory f = NULL;
	size_t i;

	pthread_mutex_lock(&kinds_lock);
	for (i = 0; i < nkinds && i < MAX_KINDS; i++) /* (the bound for gcc) */
		if (strcmp(kinds[i].kind, kind) == 0)
			f = kinds[i].factory;
	pthread_mutex_unlock(&kinds_lock);
	return f;
}

int cora_blobstore_open(struct cora_blobstore **out, const char *kind,
			const char *root, const json_t *config)
{
	cora_blobstore_factory f;
	char *path;
	int rc;

	*out = NULL;
	if (!kind || !*kind)
		kind = "local";
	if (strcmp(kind, "local") == 0) {
		if (asprintf(&path, "%s/blobs", root) < 0)
			return cora_error_set(CORA_ENOMEM, "out of memory");
		rc = cora_blob_local_open(out, path);
		free(path);
		return rc;
	}
	f = lookup(kind);
	if (!f)
		return cora_error_set(CORA_EINVALID, "catalog '%s': blob store "
				      "'%s' is not supported by this build",
				      root, kind);
	rc = f(out, root, config);
	if (rc == 0 && cora_blobstore_check(*out) != 0) {
		rc = cora_error_code();
		cora_blobstore_free(*out);
		*out = NULL;
	}
	return rc;
}

/*
 * register.c: makes the stores of this library known to core's registry
 * (core/blob_registry.c), so a catalog with `blobs = s3` opens as the
 * cache over the S3 store (store.h).
 */
#include "store/store.h"
#include "store/s3_int.h"

#include "core/error.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static int s3_factory(struct cora_blobstore **out, const char *root,
		      const json_t *config)
{
	struct cora_blobstore *s3;
	struct s3_config c;
	char *dir;
	int rc;

	*out = NULL;
	rc = s3_config_parse(&c, config);
	if (rc)
		return rc;
	rc = cora_blob_s3_open(&s3, root, config);
	if (rc == 0 && c.cache_size == 0) {
		*out = s3;
	} else if (rc == 0) {
		if (asprintf(&dir, "%s/cache", root) < 0) {
			cora_blobstore_free(s3);
			rc = cora_error_set(CORA_ENOMEM, "out of memory");
		} else {
			rc = cora_blob_cache_open(out, dir, s3, c.cache_size,
						  c.cache_chunk,
						  c.cache_readahead);
			free(dir);
		}
	}
	s3_config_release(&c);
	return rc;
}

static void register_once(void)
{
	/* both want to be set up before any thread runs */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	xmlInitParser();
	cora_blobstore_register("s3", s3_factory);
}

void cora_store_register_all(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, register_once);
}

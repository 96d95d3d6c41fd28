/*
 * store.h: blob stores that need libraries core/ may not link: the S3
 * store (libcurl, libxml2) and the local cache that decorates it.
 *
 * Dependencies point down: core/ cannot call into store/.  So core keeps a
 * registry of store kinds (cora_blobstore_register() in core/blobstore.h)
 * and a program that wants S3 calls cora_store_register_all() once at the
 * top of main(), before any thread starts.  After that, a catalog whose
 * config says `blobs = s3` opens as:
 *
 *     cache (CATALOG/cache, cache.size)  -->  s3 (s3.endpoint, s3.bucket)
 *
 * or the bare S3 store when cache.size = 0.  The settings, the credentials
 * and the on-disk cache are described in docs/s3.md.
 *
 * Ownership: constructors allocate into **out (free with
 * cora_blobstore_free()).  cora_blob_cache_open() takes ownership of next.
 *
 * Thread safety: both stores may be used from many threads at once, and
 * the cache folder from several processes at once (cora and corafs).
 */
#ifndef CORA_STORE_STORE_H
#define CORA_STORE_STORE_H

#include <jansson.h>
#include <stdint.h>

#include "core/blobstore.h"

/* Registers the "s3" kind and initialises libcurl and libxml2.  Call once
 * from main() before threads start; later calls do nothing. */
void cora_store_register_all(void);

/* The S3 store for the s3.* keys of config.  catalog_root (may be NULL)
 * is where CATALOG/credentials is looked for.  No request is made: a
 * wrong endpoint shows at the first use.  A group- or world-readable
 * credentials file is refused here (CORA_EPERM). */
int cora_blob_s3_open(struct cora_blobstore **out, const char *catalog_root,
		      const json_t *config);

/* The cache decorator over next, keeping blobs under dir (created) up to
 * max_bytes, in chunks of chunk bytes, reading ahead readahead chunks for
 * sequential readers.  Takes ownership of next, also on failure. */
int cora_blob_cache_open(struct cora_blobstore **out, const char *dir,
			 struct cora_blobstore *next, uint64_t max_bytes,
			 uint64_t chunk, unsigned readahead);

/* The store a cache store wraps, or NULL when bs is not a cache store. */
struct cora_blobstore *cora_blob_cache_next(struct cora_blobstore *bs);

/* What a cache store holds now: bytes on disk and the bound.
 * CORA_EINVALID when bs is not a cache store. */
int cora_blob_cache_usage(struct cora_blobstore *bs, uint64_t *used,
			  uint64_t *limit);

/* Checks the S3 settings of config and finds credentials as a store open
 * would, without making a request: for `cora init` and `cora blobs` to
 * refuse a bad setting before changing anything.  *source (may be NULL)
 * gets where the credentials come from ("environment", "file '...'",
 * "none"); never the credentials themselves. */
int cora_s3_check(const char *catalog_root, const json_t *config,
		  char source[300]);

/* Asks the bucket for one listing page: 0 when the endpoint, bucket and
 * credentials work, else the S3 error. */
int cora_s3_probe(struct cora_blobstore *bs);

#endif

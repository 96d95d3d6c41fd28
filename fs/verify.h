/*
 * verify.h: checking blobs against their digests before serving them.
 */
#ifndef CORAFS_VERIFY_H
#define CORAFS_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

struct cora_blobstore;

/* Called when a blob is opened for reading: 0 to go on, CORA_EMISMATCH
 * when the blob is known to be corrupt (small blobs are checked now). */
int fs_verify_open(struct cora_blobstore *bs, const char *sha, uint64_t size);

/* True once the blob has been found corrupt (reads then fail). */
bool fs_verify_bad(const char *sha);

/* Records a blob just written (its digest was computed from its bytes). */
void fs_verify_good(const char *sha);

#endif

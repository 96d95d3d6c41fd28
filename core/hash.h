/*
 * hash.h: SHA-256 digests (OpenSSL libcrypto) and the sha256-tree checksum.
 *
 * Digests travel as 64 lowercase hex characters.  The sha256-tree checksum
 * of a folder (reference 3.4): for each regular file, in the byte order of
 * its NFC-normalised relative path, feed one SHA-256 with the path length
 * as an 8-byte big-endian integer, the path bytes, then the file's 32 raw
 * digest bytes.  The caller supplies (path, digest) pairs; this module
 * normalises and sorts them.
 */
#ifndef CORA_HASH_H
#define CORA_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CORA_SHA256_HEXLEN 64

struct cora_sha256 {
	void *md; /* EVP_MD_CTX, hidden so users need no OpenSSL header */
};

int cora_sha256_init(struct cora_sha256 *h);
void cora_sha256_update(struct cora_sha256 *h, const void *buf, size_t n);
/* Writes the hex digest and releases the context. */
void cora_sha256_final(struct cora_sha256 *h,
		       char hex[CORA_SHA256_HEXLEN + 1]);
/* Releases a context without finishing it. */
void cora_sha256_release(struct cora_sha256 *h);

/* One-shot digest of a buffer. */
void cora_sha256_buf(char hex[CORA_SHA256_HEXLEN + 1], const void *buf,
		     size_t n);

/* Digest of a whole file; *size gets its length. */
int cora_sha256_file(char hex[CORA_SHA256_HEXLEN + 1], uint64_t *size,
		     const char *path);

/* Hex <-> raw. */
int cora_hex_decode(uint8_t *out, const char *hex, size_t nbytes);

/* One file of a tree checksum. */
struct cora_tree_entry {
	const char *path;   /* relative, '/'-separated, UTF-8 */
	const char *sha256; /* hex */
};

/* sha256-tree over n entries (order does not matter). */
int cora_sha256_tree(char hex[CORA_SHA256_HEXLEN + 1],
		     const struct cora_tree_entry *entries, size_t n);

/* NFC normalisation of UTF-8 text (libunistring); *out is allocated. */
int cora_nfc(char **out, const char *in);

/* NFC, then Unicode lower case (Python's str.lower()). */
int cora_nfc_lower(char **out, const char *in);

#endif

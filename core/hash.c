/*
 * hash.c: SHA-256 through OpenSSL's EVP interface, the sha256-tree
 * checksum, and NFC normalisation through libunistring.
 */
#include "core/hash.h"

#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistd.h>

int cora_sha256_init(struct cora_sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		h->md = NULL;
		return cora_error_set(CORA_ENOMEM, "cannot start SHA-256");
	}
	h->md = ctx;
	return 0;
}

void cora_sha256_update(struct cora_sha256 *h, const void *buf, size_t n)
{
	if (!EVP_DigestUpdate(h->md, buf, n))
		CORA_BUG("EVP_DigestUpdate failed");
}

static void to_hex(char *hex, const uint8_t *raw, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[raw[i] >> 4];
		hex[2 * i + 1] = digits[raw[i] & 0x0f];
	}
	hex[2 * n] = '\0';
}

void cora_sha256_final(struct cora_sha256 *h,
		       char hex[CORA_SHA256_HEXLEN + 1])
{
	uint8_t raw[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_DigestFinal_ex(h->md, raw, &n) || n != 32)
		CORA_BUG("EVP_DigestFinal_ex failed");
	to_hex(hex, raw, 32);
	cora_sha256_release(h);
}

void cora_sha256_release(struct cora_sha256 *h)
{
	EVP_MD_CTX_free(h->md);
	h->md = NULL;
}

void cora_sha256_buf(char hex[CORA_SHA256_HEXLEN + 1], const void *buf,
		     size_t n)
{
	struct cora_sha256 h;

	if (cora_sha256_init(&h))
		CORA_BUG("SHA-256 unavailable");
	cora_sha256_update(&h, buf, n);
	cora_sha256_final(&h, hex);
}

int cora_sha256_file(char hex[CORA_SHA256_HEXLEN + 1], uint64_t *size,
		     const char *path)
{
	struct cora_sha256 h;
	static const size_t bufsize = 1 << 20;
	char *buf;
	ssize_t n;
	uint64_t total = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cora_error_sys(CORA_EIO, "cannot open '%s'", path);
	buf = malloc(bufsize);
	if (!buf) {
		close(fd);
		return cora_error_set(CORA_ENOMEM, "out of memory");
	}
	rc = cora_sha256_init(&h);
	if (rc)
		goto out;
	while ((n = read(fd, buf, bufsize)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = cora_error_sys(CORA_EIO, "cannot read '%s'", path);
			cora_sha256_release(&h);
			goto out;
		}
		cora_sha256_update(&h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	cora_sha256_final(&h, hex);
	if (size)
		*size = total;
out:
	free(buf);
	close(fd);
	return rc;
}

int cora_hex_decode(uint8_t *out, const char *hex, size_t nbytes)
{
	size_t i;

	for (i = 0; i < nbytes; i++) {
		int v = 0, k;
		for (k = 0; k < 2; k++) {
			char c = hex[2 * i + k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				v |= c - 'A' + 10;
			else
				return cora_error_set(CORA_EINVALID,
						      "bad hex digit");
		}
		out[i] = (uint8_t)v;
	}
	return hex[2 * nbytes] == '\0' ? 0 :
	       cora_error_set(CORA_EINVALID, "hex string too long");
}

int cora_nfc(char **out, const char *in)
{
	size_t len = 0;
	uint8_t *r;

	r = u8_normalize(UNINORM_NFC, (const uint8_t *)in, strlen(in) + 1,
			 NULL, &len);
	if (!r)
		return cora_error_sys(CORA_EINVALID,
				      "cannot normalise '%s'", in);
	*out = (char *)r;
	return 0;
}

int cora_nfc_lower(char **out, const char *in)
{
	size_t len = 0;
	uint8_t *r;

	r = u8_tolower((const uint8_t *)in, strlen(in) + 1, NULL,
		       UNINORM_NFC, NULL, &len);
	if (!r)
		return cora_error_sys(CORA_EINVALID,
				      "cannot lower-case '%s'", in);
	*out = (char *)r;
	return 0;
}

struct tree_item {
	char *path;
	const char *sha256;
};

static int tree_cmp(const void *a, const void *b)
{
	const struct tree_item *x = a, *y = b;

	return strcmp(x->path, y->path); /* byte order on UTF-8 */
}

int cora_sha256_tree(char hex[CORA_SHA256_HEXLEN + 1],
		     const struct cora_tree_entry *entries, size_t n)
{
	struct tree_item *items;
	struct cora_sha256 h;
	uint8_t raw[32], len8[8];
	size_t i, k, done = 0;
	uint64_t plen;
	int rc = 0;

	items = calloc(n ? n : 1, sizeof(*items));
	if (!items)
		return cora_error_set(CORA_ENOMEM, "out of memory");
	for (done = 0; done < n; done++) {
		rc = cora_nfc(&items[done].path, entries[done].path);
		if (rc)
			goto out;
		items[done].sha256 = entries[done].sha256;
	}
	qsort(items, n, sizeof(*items), tree_cmp);
	rc = cora_sha256_init(&h);
	if (rc)
		goto out;
	for (i = 0; i < n; i++) {
		rc = cora_hex_decode(raw, items[i].sha256, 32);
		if (rc) {
			cora_sha256_release(&h);
			goto out;
		}
		plen = strlen(items[i].path);
		for (k = 0; k < 8; k++)
			len8[k] = (uint8_t)(plen >> (56 - 8 * k));
		cora_sha256_update(&h, len8, 8);
		cora_sha256_update(&h, items[i].path, plen);
		cora_sha256_update(&h, raw, 32);
	}
	cora_sha256_final(&h, hex);
out:
	for (i = 0; i < done; i++)
		free(items[i].path);
	free(items);
	return rc;
}

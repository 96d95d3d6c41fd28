/*
 * uuid.c: UUIDv7 generation, UUIDv5 (SHA-1 via OpenSSL) and the text form.
 */
#include "core/uuid.h"

#include "core/error.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

const char CORA_NS_DNS[] = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
const char CORA_NS_FAMILY[] = "14ce275b-7d45-54b0-887e-972a88c69d98";
const char CORA_NS_ROLE[] = "d22027f6-9667-5f9f-bab9-5775f0aa70c4";
const char CORA_NS_MODEL[] = "80ac1aef-8d97-54e2-ae52-22b33b29b3a8";
/* uuid5(NAMESPACE_DNS, 'cora.actor'), computed once and frozen. */
const char CORA_NS_ACTOR[] = "b72dce80-6e6d-557d-9cd4-0e379cfeaeef";

static pthread_mutex_t v7_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t v7_last_ms;
static uint16_t v7_seq;

static void fill_random(void *buf, size_t n)
{
	if (getrandom(buf, n, 0) != (ssize_t)n)
		CORA_BUG("getrandom failed");
}

void cora_uuid_v7(struct cora_uuid *out)
{
	struct timespec ts;
	uint64_t ms;
	uint16_t seq;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	fill_random(out->b, sizeof(out->b));

	/* A 12-bit counter in rand_a keeps ids from one process ordered
	 * within the same millisecond (RFC 9562, method 1). */
	pthread_mutex_lock(&v7_lock);
	if (ms <= v7_last_ms) {
		ms = v7_last_ms;
		if (++v7_seq > 0x0fff) {
			v7_seq = 0;
			ms = ++v7_last_ms;
		}
	} else {
		v7_last_ms = ms;
		v7_seq = (uint16_t)((out->b[6] << 8 | out->b[7]) & 0x01ff);
	}
	seq = v7_seq;
	pthread_mutex_unlock(&v7_lock);

	out->b[0] = (uint8_t)(ms >> 40);
	out->b[1] = (uint8_t)(ms >> 32);
	out->b[2] = (uint8_t)(ms >> 24);
	out->b[3] = (uint8_t)(ms >> 16);
	out->b[4] = (uint8_t)(ms >> 8);
	out->b[5] = (uint8_t)ms;
	out->b[6] = (uint8_t)(0x70 | ((seq >> 8) & 0x0f));
	out->b[7] = (uint8_t)seq;
	out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
}

void cora_uuid_v5(struct cora_uuid *out, const struct cora_uuid *ns,
		  const void *name, size_t len)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) ||
	    !EVP_DigestUpdate(ctx, ns->b, sizeof(ns->b)) ||
	    !EVP_DigestUpdate(ctx, name, len) ||
	    !EVP_DigestFinal_ex(ctx, digest, NULL))
		CORA_BUG("SHA-1 failed");
	EVP_MD_CTX_free(ctx);
	memcpy(out->b, digest, 16);
	out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x50);
	out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
}

char *cora_uuid_format(char buf[CORA_UUID_STRLEN + 1],
		       const struct cora_uuid *u)
{
	static const char hex[] = "0123456789abcdef";
	int i, j = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[j++] = '-';
		buf[j++] = hex[u->b[i] >> 4];
		buf[j++] = hex[u->b[i] & 0x0f];
	}
	buf[j] = '\0';
	return buf;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cora_uuid_parse(struct cora_uuid *out, const char *s)
{
	int i, j = 0, hi, lo;

	if (!s || strlen(s) != CORA_UUID_STRLEN)
		goto bad;
	for (i = 0; i < 16; i++) {
		if (j == 8 || j == 13 || j == 18 || j == 23) {
			if (s[j] != '-')
				goto bad;
			j++;
		}
		hi = hexval(s[j]);
		lo = hexval(s[j + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
		out->b[i] = (uint8_t)(hi << 4 | lo);
		j += 2;
	}
	return 0;
bad:
	return cora_error_set(CORA_EINVALID, "'%s' is not a UUID",
			      s ? s : "");
}

bool cora_uuid_valid(const char *s)
{
	struct cora_uuid u;
	char buf[CORA_UUID_STRLEN + 1];

	return cora_uuid_parse(&u, s) == 0 &&
	       strcmp(cora_uuid_format(buf, &u), s) == 0;
}

char *cora_uuid_v7_str(char buf[CORA_UUID_STRLEN + 1])
{
	struct cora_uuid u;

	cora_uuid_v7(&u);
	return cora_uuid_format(buf, &u);
}

char *cora_uuid_v5_str(char buf[CORA_UUID_STRLEN + 1], const char *ns,
		       const char *name, size_t len)
{
	struct cora_uuid nsu, u;

	if (cora_uuid_parse(&nsu, ns))
		CORA_BUG("bad uuid namespace constant");
	cora_uuid_v5(&u, &nsu, name, len);
	return cora_uuid_format(buf, &u);
}

/*
 * s3_int.h: the parts of the S3 blob store that need no network, shared by
 * blob_s3.c, blob_cache.c, the `cora` command and the unit tests
 * (tests/s3/test_s3_unit.c): the S3 settings of CATALOG/config, the
 * credentials, URL, query and header assembly for libcurl's SigV4 signing,
 * and the XML of S3's replies (s3_xml.c).
 *
 * Invariants:
 *
 *   1. Nothing here ever puts a secret (access key, secret key, session
 *      token) into an error message, a URL or a log line.  The secret
 *      travels only to libcurl (CURLOPT_USERNAME/PASSWORD) and the session
 *      token only in the x-amz-security-token header, which curl signs.
 *   2. Queries are built already canonical for SigV4 (names sorted, values
 *      URI-encoded as AWS specifies, every name with '='), so the
 *      signature is right whether or not a given libcurl canonicalises
 *      the query itself (7.88 does not).
 *   3. Object keys contain only [A-Za-z0-9._/-] (the prefix is checked,
 *      digests are hex), so the path needs no encoding and is canonical.
 *
 * Thread safety: the functions are reentrant; a parsed struct s3_config
 * and struct s3_creds are read-only after parsing and may be shared.
 */
#ifndef CORA_STORE_S3_INT_H
#define CORA_STORE_S3_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "core/hash.h"

#define S3_MIB (1024ULL * 1024ULL)
#define S3_MAX_PARTS 10000               /* S3's limit per upload */
#define S3_MIN_PART (5 * S3_MIB)         /* S3's smallest non-last part */
/* The longest UploadId taken from a server.  S3 documents no bound (ids
 * of several hundred bytes are seen); this one only keeps every URL that
 * names the upload (up to 3 bytes per byte once URI-encoded) far inside
 * libcurl's limit on a URL, CURL_MAX_INPUT_LENGTH (8,000,000 bytes). */
#define S3_UPLOAD_ID_MAX (1024 * 1024)

/* The S3 and cache settings of CATALOG/config (see docs/s3.md). */
struct s3_config {
	char *endpoint;            /* "http://host:port", no trailing '/' */
	char *bucket;
	char *region;              /* "us-east-1" */
	char *prefix;              /* "" or "path/ending/in/slash/" */
	bool virtual_host;         /* s3.addressing = virtual */
	uint64_t multipart_threshold; /* s3.multipart_threshold, 16 MiB */
	uint64_t part_size;        /* s3.part_size, 8 MiB */
	unsigned parallel;         /* s3.parallel: part uploads at once, 4 */
	unsigned retries;          /* s3.retries: after the first try, 5 */
	long retry_delay_ms;       /* s3.retry_delay_ms: first backoff, 200 */
	long connect_timeout;      /* s3.connect_timeout (s), 10 */
	long stall_timeout;        /* s3.stall_timeout (s), 30 */
	long timeout;              /* s3.timeout (s) per request, 300 */
	unsigned list_page;        /* s3.list_page: keys per listing, 1000 */
	uint64_t cache_size;       /* cache.size, 10 GiB; 0: no cache */
	uint64_t cache_chunk;      /* cache.chunk, 8 MiB */
	unsigned cache_readahead;  /* cache.readahead in chunks, 4 */
};

/* Parses and checks the s3.* and cache.* keys of cfg (a JSON object of
 * strings).  CORA_EINVALID names the key at fault. */
int s3_config_parse(struct s3_config *c, const json_t *cfg);
void s3_config_release(struct s3_config *c);

/* "16M", "16MiB", "10G", "512k", "4096" -> bytes (binary units). */
int s3_size_parse(const char *text, uint64_t *out);

/* Credentials, see s3_creds_load(). */
struct s3_creds {
	char *access_key;          /* NULL: none found */
	char *secret_key;
	char *token;               /* NULL unless a session token was given */
	char source[300];          /* where they came from, for `cora blobs
	                            * info`: "environment", a file name, or
	                            * "none" */
};

/* Finds credentials, first match wins:
 *   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
 *   2. CATALOG/credentials (keys outside sections or in [default]);
 *   3. $AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile
 *      $AWS_PROFILE or [default].
 * A credentials file readable or writable by group or others is refused
 * (CORA_EPERM, naming the file and its mode, never its content).  Finding
 * none is not an error: cr->access_key stays NULL and every request then
 * fails with a message saying how to provide them.  catalog_root may be
 * NULL (step 2 skipped). */
int s3_creds_load(struct s3_creds *cr, const char *catalog_root);
/* Wipes and frees. */
void s3_creds_release(struct s3_creds *cr);

/* URI-encodes s as SigV4 wants: A-Z a-z 0-9 - _ . ~ kept, and '/' kept
 * when keep_slash; everything else %XX (upper case).  NULL on ENOMEM. */
char *s3_uri_encode(const char *s, bool keep_slash);

/* PREFIX + "sha256/ab/cdef..." */
int s3_object_key(char **out, const struct s3_config *c, const char *sha256);

/* The digest an object key names, or false for keys that are not blobs
 * of this store (other prefixes, stray objects). */
bool s3_key_digest(const char *key, const char *prefix,
		   char sha256[CORA_SHA256_HEXLEN + 1]);

/* The URL of key (NULL: the bucket) with an already canonical query
 * (NULL: none), path-style or virtual-host. */
int s3_url(char **out, const struct s3_config *c, const char *key,
	   const char *query);

/* The canonical query of a ListObjectsV2 page. */
int s3_list_query(char **out, const char *prefix, const char *token,
		  unsigned max_keys);

/* The canonical query naming multipart upload upload_id (unencoded, as
 * the server gave it): "uploadId=ENC" when part is 0, else
 * "partNumber=PART&uploadId=ENC".  Allocated to fit: any length works. */
int s3_upload_query(char **out, const char *upload_id, size_t part);

/* The headers of one request, in the order curl receives them:
 * x-amz-content-sha256 (always: the payload's hex digest, or
 * UNSIGNED-PAYLOAD), then x-amz-security-token, Range and Content-Type
 * when given.  curl adds Host and x-amz-date and signs them all. */
int s3_headers(struct curl_slist **out, const char *payload_sha256,
	       const char *token, const char *range,
	       const char *content_type);

/* "aws:amz:REGION:s3", the CURLOPT_AWS_SIGV4 parameter. */
int s3_sigv4_param(char **out, const char *region);

/* The SHA-256 of the empty payload (GET, HEAD, DELETE). */
#define S3_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- XML (s3_xml.c) ------------------------------------------------- */

/* An S3 error reply: <Error><Code>..</Code><Message>..</Message></Error>. */
struct s3_error {
	char code[64];
	char message[512];
};

/* True when xml (n bytes) is an S3 <Error> document; e gets its code and
 * message (truncated, control characters dropped). */
bool s3_xml_error(const char *xml, size_t n, struct s3_error *e);

/* The UploadId of an InitiateMultipartUploadResult, allocated.  CORA_EIO
 * when it is missing, empty or longer than S3_UPLOAD_ID_MAX. */
int s3_xml_upload_id(const char *xml, size_t n, char **out);

/* Calls fn for every <Contents> of a ListBucketResult (ListObjectsV2);
 * *truncated and *next_token (allocated, NULL when absent) tell how to
 * ask for the next page.  A non-zero return of fn stops and is returned. */
typedef int (*s3_list_item_fn)(const char *key, uint64_t size,
			       const char *last_modified, void *arg);
int s3_xml_list(const char *xml, size_t n, s3_list_item_fn fn, void *arg,
		bool *truncated, char **next_token);

/* The body of CompleteMultipartUpload for parts 1..n with their ETags. */
int s3_xml_complete_body(char **out, size_t *len, char *const *etags,
			 size_t n);

/* Parses an S3 timestamp ("2026-11-28T07:26:39.000Z") to seconds. */
int s3_parse_time(const char *text, int64_t *out);

#endif

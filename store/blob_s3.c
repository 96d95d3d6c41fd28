/*
 * blob_s3.c: the S3 blob store.  Blobs are objects of one bucket, named
 * by digest like the local store's files:
 *
 *     s3://BUCKET/PREFIX sha256/ab/cdef...(62 hex)
 *
 * so identical content is stored once (a put asks HEAD first) and the two
 * layouts mirror each other.  Requests go through libcurl, signed with its
 * built-in SigV4 (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3"); every request
 * carries x-amz-content-sha256 before it is signed: the hex digest of the
 * body we send (so S3 checks every byte it stores against the digest we
 * computed), or of the empty body.
 *
 * Puts.  A blob up to s3.multipart_threshold (16 MiB) is read into
 * memory, hashed, and sent in one PUT: what was hashed is what was sent.
 * A larger one is read twice: once to hash the whole and each part, then
 * by s3.parallel threads that each read a part, check it still hashes to
 * what the first pass saw (the file may change under us), and upload it
 * (multipart upload, parts of s3.part_size, 8 MiB, larger when the blob
 * would need more than 10,000).  Any failure aborts the upload, so no
 * half object is left behind and no name appears before it is whole.  An
 * S3 PUT or CompleteMultipartUpload that answered 200 is durable, which
 * is invariant 2 of blobstore.h.
 *
 * Requests.  Each store keeps a pool of CURL easy handles (a handle keeps
 * its connections alive between requests) and shares DNS and TLS
 * sessions between them.  A request is tried 1 + s3.retries times, with
 * exponential backoff from s3.retry_delay_ms, on connection failures,
 * timeouts, 5xx, 429 and S3's RequestTimeout/SlowDown; never on other
 * 4xx.  Every attempt is bounded: s3.connect_timeout to connect,
 * s3.stall_timeout without progress (below 1 KiB/s), and s3.timeout in
 * all.  Before every request sits a CORA_FAULT(CORA_FAULT_S3) point.
 *
 * Errors read "s3: PUT blob <sha>: 403 AccessDenied: <S3's message>".
 * Credentials never appear in them (s3_int.h invariant 1): a message is
 * also scrubbed of them in case a server echoes one back.
 */
#include "store/store.h"
#include "store/s3_int.h"

#include "core/error.h"
#include "core/io.h"
#include "core/fault.h"
#include "core/text.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POOL_MAX 16
#define MEM_MAX (16 * 1024 * 1024)   /* bound on an XML or error reply */
#define LOW_SPEED_BYTES 1024         /* below this a transfer is stalled */
#define BACKOFF_MAX_MS 10000

struct s3_store {
	struct cora_blobstore base;
	struct s3_config cfg;
	struct s3_creds creds;
	char *sigv4;                /* "aws:amz:REGION:s3" */
	char *spool_dir;            /* where streamed writers spill */
	char *creds_hint;           /* how to provide credentials */
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t pool_lock;  /* guards pool, npool */
	CURL *pool[POOL_MAX];
	size_t npool;
};

enum sink { SINK_MEM, SINK_BUF, SINK_FD };

/* One request and its reply. */
struct s3_req {
	/* what to send */
	const char *method;         /* GET PUT HEAD DELETE POST */
	const char *key;            /* object key, NULL: the bucket */
	const char *query;          /* canonical (s3_int.h 2), or NULL */
	const char *what;           /* "PUT blob <sha>", for messages */
	const void *body;           /* PUT and POST */
	size_t body_len;
	const char *payload_sha;    /* hex digest of body, NULL: empty */
	const char *range;          /* "bytes=a-b" */
	const char *content_type;
	/* where the reply body goes (error replies always go to mem) */
	enum sink sink;
	char *buf;                  /* SINK_BUF: up to cap bytes */
	size_t cap;
	int fd;                     /* SINK_FD: written from offset 0 */
	struct cora_sha256 *hash;   /* SINK_FD: hashed as written (may be NULL) */
	/* state of the current attempt */
	CURL *curl;
	size_t body_pos;
	char *mem;
	size_t mem_len, mem_cap;
	uint64_t got;
	int sink_errno;
	/* results */
	long status;
	char *etag;                 /* allocated: no small bound either */
	int64_t last_modified;      /* -1 when unknown */
	uint64_t length;            /* Content-Length of the reply */
	char errbuf[CURL_ERROR_SIZE];
};

static int oom(void)
{
	return cora_error_set(CORA_ENOMEM, "out of memory");
}

static struct s3_store *store_of(struct cora_blobstore *bs)
{
	return (struct s3_store *)bs;
}

/* ---- handles -------------------------------------------------------- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a,
		       void *arg)
{
	struct s3_store *s = arg;

	(void)h;
	(void)a;
	if (data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&s->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
	struct s3_store *s = arg;

	(void)h;
	if (data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&s->share_locks[data]);
}

static CURL *pool_get(struct s3_store *s)
{
	CURL *h = NULL;

	pthread_mutex_lock(&s->pool_lock);
	if (s->npool > 0)
		h = s->pool[--s->npool];
	pthread_mutex_unlock(&s->pool_lock);
	return h ? h : curl_easy_init();
}

static void pool_put(struct s3_store *s, CURL *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&s->pool_lock);
	if (s->npool < POOL_MAX) {
		s->pool[s->npool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&s->pool_lock);
	if (h)
		curl_easy_cleanup(h);
}

/* ---- callbacks ------------------------------------------------------ */

static int mem_append(struct s3_req *r, const char *p, size_t n)
{
	if (r->mem_len + n + 1 > r->mem_cap) {
		size_t cap = r->mem_cap ? r->mem_cap : 4096;
		char *m;

		while (cap < r->mem_len + n + 1)
			cap *= 2;
		if (cap > MEM_MAX)
			return -1;
		m = realloc(r->mem, cap);
		if (!m)
			return -1;
		r->mem = m;
		r->mem_cap = cap;
	}
	memcpy(r->mem + r->mem_len, p, n);
	r->mem_len += n;
	r->mem[r->mem_len] = '\0';
	return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct s3_req *r = arg;
	size_t n = size * nmemb, k;
	long code = 0;

	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299 || r->sink == SINK_MEM)
		return mem_append(r, p, n) == 0 ? n : 0;
	if (r->sink == SINK_BUF) {
		/* a server that sends more than the range asked is cut */
		k = r->got < r->cap ? r->cap - (size_t)r->got : 0;
		if (k > n)
			k = n;
		memcpy(r->buf + r->got, p, k);
		r->got += k;
		return n;
	}
	for (k = 0; k < n;) {
		ssize_t w = pwrite(r->fd, p + k, n - k, (off_t)(r->got + k));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r->sink_errno = w < 0 ? errno : ENOSPC;
			return 0;
		}
		k += (size_t)w;
	}
	if (r->hash)
		cora_sha256_update(r->hash, p, n);
	r->got += n;
	return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct s3_req *r = arg;
	size_t n = size * nmemb, i = 5;

	if (n > 5 && strncasecmp(p, "etag:", 5) == 0) {
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		while (n > i && (p[n - 1] == '\r' || p[n - 1] == '\n' ||
				 p[n - 1] == ' '))
			n--;
		free(r->etag);
		r->etag = strndup(p + i, n - i);
		if (!r->etag) {
			r->sink_errno = ENOMEM;
			return 0; /* curl stops the transfer */
		}
	}
	return size * nmemb;
}

static size_t on_read(char *p, size_t size, size_t nmemb, void *arg)
{
	struct s3_req *r = arg;
	size_t n = size * nmemb;

	if (n > r->body_len - r->body_pos)
		n = r->body_len - r->body_pos;
	memcpy(p, (const char *)r->body + r->body_pos, n);
	r->body_pos += n;
	return n;
}

/* ---- one request ---------------------------------------------------- */

/* Replaces every occurrence of a credential in msg by "***". */
static void scrub(char *msg, const struct s3_creds *cr)
{
	const char *secrets[3] = { cr->secret_key, cr->access_key, cr->token };
	size_t i, n;
	char *p;

	for (i = 0; i < 3; i++) {
		if (!secrets[i] || strlen(secrets[i]) < 4)
			continue;
		n = strlen(secrets[i]);
		while ((p = strstr(msg, secrets[i]))) {
			memmove(p + 3, p + n, strlen(p + n) + 1);
			memcpy(p, "***", 3);
		}
	}
}

static int fail(struct s3_store *s, int code, char *msg)
{
	scrub(msg, &s->creds);
	return cora_error_set(code, "%s", msg);
}

static bool retry_curl(CURLcode res)
{
	switch (res) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
		return true;
	default:
		return false;
	}
}

static bool retry_status(long status, const struct s3_error *e)
{
	return status == 429 || status >= 500 ||
	       !strcmp(e->code, "RequestTimeout") ||
	       !strcmp(e->code, "SlowDown") ||
	       !strcmp(e->code, "InternalError");
}

static void backoff(const struct s3_store *s, unsigned attempt)
{
	long ms = s->cfg.retry_delay_ms;
	struct timespec ts;
	unsigned i;

	for (i = 1; i < attempt && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	/* up to a quarter less, so clients that failed together do not
	 * come back together */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ms -= (long)((unsigned long)ts.tv_nsec % (unsigned long)(ms / 4 + 1));
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void attempt_reset(struct s3_req *r)
{
	r->body_pos = 0;
	r->mem_len = 0;
	if (r->mem)
		r->mem[0] = '\0';
	r->got = 0;
	r->sink_errno = 0;
	r->status = 0;
	free(r->etag);
	r->etag = NULL;
	r->errbuf[0] = '\0';
	r->last_modified = -1;
	r->length = 0;
}

static int setup(struct s3_store *s, struct s3_req *r, const char *url,
		 struct curl_slist *headers)
{
	CURL *h = r->curl;
	CURLcode c = CURLE_OK;

#define SET(opt, val) if (c == CURLE_OK) c = curl_easy_setopt(h, opt, val)
	curl_easy_reset(h);
	SET(CURLOPT_URL, url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_SHARE, s->share);
	SET(CURLOPT_AWS_SIGV4, s->sigv4);
	SET(CURLOPT_USERNAME, s->creds.access_key);
	SET(CURLOPT_PASSWORD, s->creds.secret_key);
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_CONNECTTIMEOUT, s->cfg.connect_timeout);
	SET(CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BYTES);
	SET(CURLOPT_LOW_SPEED_TIME, s->cfg.stall_timeout);
	SET(CURLOPT_TIMEOUT, s->cfg.timeout);
	SET(CURLOPT_ERRORBUFFER, r->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, r);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, r);
	SET(CURLOPT_FILETIME, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	if (!strcmp(r->method, "HEAD")) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->method, "PUT")) {
		SET(CURLOPT_UPLOAD, 1L);
		SET(CURLOPT_READFUNCTION, on_read);
		SET(CURLOPT_READDATA, r);
		SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
	} else if (!strcmp(r->method, "POST")) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDS, r->body ? r->body : "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "GET") != 0) {
		SET(CURLOPT_CUSTOMREQUEST, r->method);
	}
#undef SET
	if (c != CURLE_OK)
		return cora_error_set(CORA_EIO, "s3: %s: cannot set up the "
				      "request: %s", r->what,
				      curl_easy_strerror(c));
	return 0;
}

/* Runs a request with retries.  0 for a 2xx reply; CORA_ENOTFOUND for
 * 404; CORA_EIO (with the S3 code and message) otherwise.  r->mem
 * and r->etag are freed by req_release(). */
static int perform(struct s3_store *s, struct s3_req *r)
{
	struct curl_slist *headers = NULL;
	struct s3_error e;
	char *url = NULL, msg[1024];
	unsigned attempt, attempts = 1 + s->cfg.retries;
	CURLcode res;
	int rc;

	r->last_modified = -1;
	if (!s->creds.access_key) {
		snprintf(msg, sizeof(msg), "s3: %s: no credentials: %s",
			 r->what, s->creds_hint);
		return fail(s, CORA_EIO, msg);
	}
	if (CORA_FAULT(CORA_FAULT_S3))
		return cora_error_set(CORA_EIO, "s3: %s: simulated failure",
				      r->what);
	rc = s3_url(&url, &s->cfg, r->key, r->query);
	if (rc == 0)
		rc = s3_headers(&headers, r->payload_sha ? r->payload_sha :
				S3_EMPTY_SHA256, s->creds.token, r->range,
				r->content_type);
	if (rc) {
		free(url);
		return rc;
	}
	r->curl = pool_get(s);
	if (!r->curl) {
		free(url);
		curl_slist_free_all(headers);
		return oom();
	}
	rc = CORA_EIO;
	msg[0] = '\0';
	for (attempt = 1; attempt <= attempts; attempt++) {
		if (attempt > 1)
			backoff(s, attempt - 1);
		attempt_reset(r);
		if (r->sink == SINK_FD) {
			if (ftruncate(r->fd, 0) != 0) {
				rc = cora_error_sys(CORA_EIO, "s3: %s: cannot "
						    "truncate the cache file",
						    r->what);
				goto out;
			}
			if (r->hash) {
				cora_sha256_release(r->hash);
				if (cora_sha256_init(r->hash) != 0) {
					rc = oom();
					goto out;
				}
			}
		}
		if (setup(s, r, url, headers) != 0) {
			rc = cora_error_code();
			goto out;
		}
		res = curl_easy_perform(r->curl);
		if (res != CURLE_OK) {
			if (r->sink_errno) {
				errno = r->sink_errno;
				rc = cora_error_sys(CORA_EIO, "s3: %s: cannot "
						    "write what arrived",
						    r->what);
				goto out;
			}
			/* one snprintf: a strcat after it could pass the end */
			snprintf(msg, sizeof(msg), "s3: %s: %s%s%s%s", r->what,
				 curl_easy_strerror(res),
				 r->errbuf[0] ? " (" : "", r->errbuf,
				 r->errbuf[0] ? ")" : "");
			rc = CORA_EIO;
			if (!retry_curl(res))
				break;
			continue;
		}
		curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &r->status);
		{
			curl_off_t v = -1;
			if (curl_easy_getinfo(r->curl, CURLINFO_FILETIME_T,
					      &v) == CURLE_OK && v >= 0)
				r->last_modified = (int64_t)v;
			v = -1;
			if (curl_easy_getinfo(r->curl,
					      CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
					      &v) == CURLE_OK && v >= 0)
				r->length = (uint64_t)v;
		}
		if (r->status >= 200 && r->status <= 299) {
			rc = 0;
			break;
		}
		if (!s3_xml_error(r->mem, r->mem_len, &e)) {
			snprintf(e.code, sizeof(e.code), "%s",
				 r->status == 404 ? "NotFound" :
				 r->status == 403 ? "Forbidden" : "Error");
			snprintf(e.message, sizeof(e.message), "HTTP status %ld",
				 r->status);
		}
		snprintf(msg, sizeof(msg), "s3: %s: %ld %s: %s", r->what,
			 r->status, e.code, e.message);
		rc = r->status == 404 ? CORA_ENOTFOUND : CORA_EIO;
		if (!retry_status(r->status, &e))
			break;
	}
	if (rc != 0) {
		if (attempt > attempts && attempts > 1) {
			size_t n = strlen(msg);
			snprintf(msg + n, sizeof(msg) - n, " (gave up after %u "
				 "attempts)", attempts);
		}
		rc = fail(s, rc, msg);
	}
out:
	pool_put(s, r->curl);
	r->curl = NULL;
	free(url);
	curl_slist_free_all(headers);
	return rc;
}

static void req_release(struct s3_req *r)
{
	free(r->mem);
	r->mem = NULL;
	free(r->etag);
	r->etag = NULL;
}

/* ---- helpers over requests ------------------------------------------ */

static int check_digest(const char *sha256)
{
	return cora_text_sha256(sha256, "blob digest");
}

struct key {
	char *key;
	char what[96];
};

static int key_for(struct s3_store *s, struct key *k, const char *verb,
		   const char *sha256)
{
	snprintf(k->what, sizeof(k->what), "%s blob %s", verb, sha256);
	return s3_object_key(&k->key, &s->cfg, sha256);
}

static int head(struct s3_store *s, const char *sha256, uint64_t *size,
		int64_t *mtime)
{
	struct s3_req r = { .method = "HEAD", .sink = SINK_MEM };
	struct key k;
	int rc;

	rc = key_for(s, &k, "HEAD", sha256);
	if (rc)
		return rc;
	r.key = k.key;
	r.what = k.what;
	rc = perform(s, &r);
	if (rc == CORA_ENOTFOUND)
		cora_error_set(CORA_ENOTFOUND, "blob '%s' not found in s3 "
			       "bucket '%s'", sha256, s->cfg.bucket);
	if (rc == 0) {
		if (size)
			*size = r.length;
		if (mtime)
			*mtime = r.last_modified;
	}
	req_release(&r);
	free(k.key);
	return rc;
}

/* A ranged GET of [off, off + n) into buf; *got may be less at the end
 * of the object, 0 past it. */
static int get_range(struct s3_store *s, const char *sha256, void *buf,
		     size_t n, uint64_t off, size_t *got)
{
	struct s3_req r = { .method = "GET", .sink = SINK_BUF };
	char range[64];
	struct key k;
	int rc;

	*got = 0;
	if (n == 0)
		return 0;
	rc = key_for(s, &k, "GET", sha256);
	if (rc)
		return rc;
	snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64, off,
		 off + n - 1);
	r.key = k.key;
	r.what = k.what;
	r.range = range;
	r.buf = buf;
	r.cap = n;
	rc = perform(s, &r);
	if (rc == CORA_EIO && r.status == 416) {
		rc = 0; /* at or past the end */
		r.got = 0;
		cora_error_clear();
	} else if (rc == CORA_ENOTFOUND) {
		cora_error_set(CORA_ENOTFOUND, "blob '%s' not found in s3 "
			       "bucket '%s'", sha256, s->cfg.bucket);
	} else if (rc == 0 && r.status != 206 && off > 0) {
		/* a server that ignored Range sent the whole object: it
		 * went into buf from offset 0, which is wrong here */
		rc = cora_error_set(CORA_EIO, "s3: %s: the server ignored "
				    "the Range header", k.what);
	}
	if (rc == 0)
		*got = (size_t)r.got;
	req_release(&r);
	free(k.key);
	return rc;
}

/* ---- puts ----------------------------------------------------------- */

static int put_object(struct s3_store *s, const char *sha256,
		      const void *buf, size_t n)
{
	struct s3_req r = { .method = "PUT", .sink = SINK_MEM };
	struct key k;
	int rc;

	rc = key_for(s, &k, "PUT", sha256);
	if (rc)
		return rc;
	r.key = k.key;
	r.what = k.what;
	r.body = buf;
	r.body_len = n;
	r.payload_sha = sha256; /* the body is the blob: S3 checks it */
	r.content_type = "application/octet-stream";
	rc = perform(s, &r);
	req_release(&r);
	free(k.key);
	return rc;
}

/* Invariant 4, then dedup: 1 when the blob is there already. */
static int precheck(struct s3_store *s, const char *hex, uint64_t size,
		    const char *expect)
{
	uint64_t have;
	int rc;

	if (expect && strcmp(hex, expect) != 0)
		return cora_error_set(CORA_EMISMATCH, "content does not match "
			"expected digest '%s': it hashes to '%s'", expect, hex);
	rc = head(s, hex, &have, NULL);
	if (rc == 0 && have == size)
		return 1;
	if (rc == 0 || rc == CORA_ENOTFOUND) {
		cora_error_clear();
		return 0; /* absent, or damaged (wrong size): put it */
	}
	return rc;
}

static int put_mem(struct s3_store *s, const void *buf, size_t n,
		   const char *expect, char sha256[CORA_SHA256_HEXLEN + 1],
		   uint64_t *size)
{
	char hex[CORA_SHA256_HEXLEN + 1];
	int rc;

	cora_sha256_buf(hex, buf, n);
	rc = precheck(s, hex, n, expect);
	if (rc == 0)
		rc = put_object(s, hex, buf, n);
	if (rc < 0)
		return rc;
	if (sha256)
		memcpy(sha256, hex, sizeof(hex));
	if (size)
		*size = n;
	return 0;
}

/* A multipart upload in progress, shared by its threads. */
struct upload {
	struct s3_store *s;
	int fd;
	uint64_t size, part;        /* blob size, part size */
	size_t nparts;
	char (*digests)[CORA_SHA256_HEXLEN + 1]; /* per part, first pass */
	char **etags;               /* per part, from S3 */
	char *key, *upload_id;
	char *id_query;             /* "uploadId=...": complete, abort */
	char hex[CORA_SHA256_HEXLEN + 1];
	pthread_mutex_t lock;       /* guards next, rc, err */
	size_t next;
	int rc;
	char err[1024];
};

static void upload_fail(struct upload *u, int rc)
{
	pthread_mutex_lock(&u->lock);
	if (u->rc == 0) {
		u->rc = rc;
		snprintf(u->err, sizeof(u->err), "%s", cora_error_last());
	}
	pthread_mutex_unlock(&u->lock);
}

static int upload_part(struct upload *u, size_t i, char *buf)
{
	uint64_t off = (uint64_t)i * u->part;
	size_t n = (size_t)(off + u->part > u->size ? u->size - off : u->part);
	char hex[CORA_SHA256_HEXLEN + 1], *query = NULL, what[128];
	struct s3_req r = { .method = "PUT", .sink = SINK_MEM };
	size_t done = 0;
	ssize_t k;
	int rc;

	while (done < n) {
		k = pread(u->fd, buf + done, n - done, (off_t)(off + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		done += (size_t)k;
	}
	snprintf(what, sizeof(what), "PUT blob %s part %zu", u->hex, i + 1);
	if (done < n)
		return cora_error_set(CORA_EIO, "s3: %s: the file shrank while "
				      "it was uploaded", what);
	cora_sha256_buf(hex, buf, n);
	if (strcmp(hex, u->digests[i]) != 0)
		return cora_error_set(CORA_EIO, "s3: %s: the file changed while "
				      "it was uploaded", what);
	/* sized to fit: an UploadId has no small bound */
	rc = s3_upload_query(&query, u->upload_id, i + 1);
	if (rc)
		return rc;
	r.key = u->key;
	r.query = query;
	r.what = what;
	r.body = buf;
	r.body_len = n;
	r.payload_sha = hex;
	r.content_type = "application/octet-stream";
	rc = perform(u->s, &r);
	if (rc == 0 && (!r.etag || !r.etag[0]))
		rc = cora_error_set(CORA_EIO, "s3: %s: the reply has no ETag",
				    what);
	if (rc == 0) {
		u->etags[i] = r.etag; /* the upload owns it now */
		r.etag = NULL;
	}
	req_release(&r);
	free(query);
	return rc;
}

static void *upload_worker(void *arg)
{
	struct upload *u = arg;
	char *buf = malloc((size_t)u->part);
	size_t i;
	int rc;

	if (!buf) {
		upload_fail(u, oom());
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&u->lock);
		i = u->next++;
		rc = u->rc;
		pthread_mutex_unlock(&u->lock);
		if (rc || i >= u->nparts)
			break;
		rc = upload_part(u, i, buf);
		if (rc)
			upload_fail(u, rc);
	}
	free(buf);
	return NULL;
}

static int upload_post(struct upload *u, const char *query, const char *what,
		       const char *body, size_t len, struct s3_req *r)
{
	char sha[CORA_SHA256_HEXLEN + 1];

	memset(r, 0, sizeof(*r));
	r->method = "POST";
	r->sink = SINK_MEM;
	r->key = u->key;
	r->query = query;
	r->what = what;
	r->body = body;
	r->body_len = len;
	if (body) {
		cora_sha256_buf(sha, body, len);
		r->payload_sha = sha;
		r->content_type = "application/xml";
	}
	return perform(u->s, r);
}

static void upload_abort(struct upload *u)
{
	struct s3_req r = { .method = "DELETE", .sink = SINK_MEM };
	char what[128];
	char saved[1024];
	int code = cora_error_code();

	/* best effort: keep the message of what went wrong first */
	snprintf(saved, sizeof(saved), "%s", cora_error_last());
	snprintf(what, sizeof(what), "abort upload of blob %s", u->hex);
	r.key = u->key;
	r.query = u->id_query;
	r.what = what;
	perform(u->s, &r);
	req_release(&r);
	cora_error_set(code, "%s", saved);
}

static int multipart(struct upload *u)
{
	struct s3_store *s = u->s;
	pthread_t threads[32];
	size_t nthreads = s->cfg.parallel, started = 0, i;
	struct s3_req r;
	char what[128], *body = NULL;
	size_t len;
	int rc;

	snprintf(what, sizeof(what), "start upload of blob %s", u->hex);
	rc = upload_post(u, "uploads=", what, NULL, 0, &r);
	if (rc == 0)
		rc = s3_xml_upload_id(r.mem, r.mem_len, &u->upload_id);
	req_release(&r);
	if (rc)
		return rc;
	rc = s3_upload_query(&u->id_query, u->upload_id, 0);
	if (rc)
		return rc;
	if (nthreads > u->nparts)
		nthreads = u->nparts;
	for (i = 1; i < nthreads && i < 32; i++)
		if (pthread_create(&threads[started], NULL, upload_worker, u) == 0)
			started++;
	upload_worker(u); /* this thread works too */
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	if (u->rc) {
		cora_error_set(u->rc, "%s", u->err);
		upload_abort(u);
		return u->rc;
	}
	rc = s3_xml_complete_body(&body, &len, u->etags, u->nparts);
	if (rc) {
		upload_abort(u);
		return rc;
	}
	snprintf(what, sizeof(what), "complete upload of blob %s", u->hex);
	rc = upload_post(u, u->id_query, what, body, len, &r);
	if (rc == 0) {
		/* S3 may answer 200 and put an error in the body */
		struct s3_error e;
		if (s3_xml_error(r.mem, r.mem_len, &e)) {
			char msg[1024];
			snprintf(msg, sizeof(msg), "s3: %s: %s: %s", what,
				 e.code, e.message);
			rc = fail(s, CORA_EIO, msg);
		}
	}
	req_release(&r);
	free(body);
	if (rc)
		upload_abort(u);
	return rc;
}

/* Puts the first size bytes of fd (a file of ours or the caller's) by
 * multipart upload: first pass hashes, second uploads (see the top). */
static int put_fd(struct s3_store *s, int fd, const char *shown,
		  const char *expect, char sha256[CORA_SHA256_HEXLEN + 1],
		  uint64_t *size_out)
{
	struct upload u;
	struct cora_sha256 whole, part;
	char *buf = NULL;
	uint64_t off = 0, in_part = 0;
	size_t i = 0, chunk = 1 << 20;
	struct stat st;
	ssize_t n;
	int rc;

	memset(&u, 0, sizeof(u));
	u.s = s;
	u.fd = fd;
	pthread_mutex_init(&u.lock, NULL);
	if (fstat(fd, &st) != 0) {
		rc = cora_error_sys(CORA_EIO, "cannot stat '%s'", shown);
		goto out;
	}
	u.size = (uint64_t)st.st_size;
	u.part = s->cfg.part_size;
	while ((u.size + u.part - 1) / u.part > S3_MAX_PARTS)
		u.part += S3_MIB;
	u.nparts = u.size ? (size_t)((u.size + u.part - 1) / u.part) : 1;
	u.digests = calloc(u.nparts, sizeof(*u.digests));
	u.etags = calloc(u.nparts, sizeof(*u.etags));
	buf = malloc(chunk);
	if (!u.digests || !u.etags || !buf) {
		rc = oom();
		goto out;
	}
	/* first pass: the whole digest and one per part, to the size seen
	 * by fstat (what grows later is not ours) */
	if (cora_sha256_init(&whole) != 0 || cora_sha256_init(&part) != 0) {
		rc = oom();
		goto out;
	}
	while (off < u.size) {
		size_t want = chunk;
		if (want > u.part - in_part)
			want = (size_t)(u.part - in_part);
		if (want > u.size - off)
			want = (size_t)(u.size - off);
		n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? cora_error_sys(CORA_EIO, "cannot read '%s'",
						    shown) :
			     cora_error_set(CORA_EIO, "'%s' shrank while it "
					    "was read", shown);
			cora_sha256_release(&whole);
			cora_sha256_release(&part);
			goto out;
		}
		cora_sha256_update(&whole, buf, (size_t)n);
		cora_sha256_update(&part, buf, (size_t)n);
		off += (uint64_t)n;
		in_part += (uint64_t)n;
		if (in_part == u.part || off == u.size) {
			cora_sha256_final(&part, u.digests[i++]);
			in_part = 0;
			if (off < u.size && cora_sha256_init(&part) != 0) {
				cora_sha256_release(&whole);
				rc = oom();
				goto out;
			}
		}
	}
	if (u.size == 0)
		cora_sha256_final(&part, u.digests[0]);
	cora_sha256_final(&whole, u.hex);
	rc = precheck(s, u.hex, u.size, expect);
	if (rc < 0)
		goto out;
	if (rc == 0) {
		rc = s3_object_key(&u.key, &s->cfg, u.hex);
		if (rc == 0)
			rc = multipart(&u);
	}
	if (rc >= 0) {
		rc = 0;
		if (sha256)
			memcpy(sha256, u.hex, sizeof(u.hex));
		if (size_out)
			*size_out = u.size;
	}
out:
	for (i = 0; u.etags && i < u.nparts; i++)
		free(u.etags[i]);
	free(u.etags);
	free(u.digests);
	free(u.key);
	free(u.upload_id);
	free(u.id_query);
	free(buf);
	pthread_mutex_destroy(&u.lock);
	return rc;
}

/* Reads a whole small file into memory. */
static int slurp(int fd, const char *path, char **out, size_t *len)
{
	size_t cap = 64 * 1024, n = 0;
	char *buf = malloc(cap), *nb;
	ssize_t k;

	if (!buf)
		return oom();
	for (;;) {
		if (n == cap) {
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return oom();
			}
			buf = nb;
		}
		k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			free(buf);
			return cora_error_sys(CORA_EIO, "cannot read '%s'", path);
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int s3_put_file(struct cora_blobstore *bs, const char *path,
		       const char *expect, char sha256[CORA_SHA256_HEXLEN + 1],
		       uint64_t *size)
{
	struct s3_store *s = store_of(bs);
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	if (!path || !*path)
		return cora_error_set(CORA_EINVALID, "file to store is missing");
	if (expect && (rc = check_digest(expect)))
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cora_error_sys(errno == ENOENT ? CORA_ENOTFOUND : CORA_EIO,
				      "cannot open '%s'", path);
	if (fstat(fd, &st) != 0) {
		rc = cora_error_sys(CORA_EIO, "cannot stat '%s'", path);
	} else if (S_ISDIR(st.st_mode)) {
		rc = cora_error_set(CORA_EISDIR, "'%s' is a folder", path);
	} else if ((uint64_t)st.st_size <= s->cfg.multipart_threshold) {
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		rc = slurp(fd, path, &buf, &len);
		if (rc == 0) {
			rc = put_mem(s, buf, len, expect, sha256, size);
			free(buf);
		}
	} else {
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		rc = put_fd(s, fd, path, expect, sha256, size);
	}
	close(fd);
	return rc;
}

/* ---- streamed writers: memory up to the threshold, then a file ------ */

struct s3_writer {
	struct cora_blob_writer base;
	struct s3_store *s;
	char *mem;
	size_t len, cap;
	int fd;                    /* the spill file (unlinked), or -1 */
	uint64_t size;
	int failed;
	char err[512];
	bool has_expect;
	char expect[CORA_SHA256_HEXLEN + 1];
};

static int spill_open(struct s3_store *s, int *fdp)
{
	char *tmpl;
	int fd;

	fd = open(s->spool_dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
	if (fd >= 0) {
		*fdp = fd;
		return 0;
	}
	if (asprintf(&tmpl, "%s/s3-spool-XXXXXX", s->spool_dir) < 0)
		return oom();
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd >= 0)
		unlink(tmpl);
	else
		cora_error_sys(CORA_EIO, "cannot create a spool file in '%s'",
			       s->spool_dir);
	free(tmpl);
	if (fd < 0)
		return CORA_EIO;
	*fdp = fd;
	return 0;
}

static int write_all(int fd, const void *buf, size_t n)
{
	return cora_write_full(fd, buf, n) == 0 ? 0 :
	       cora_error_sys(CORA_EIO, "cannot write a spool file");
}

static void sw_free(struct s3_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w->mem);
	free(w);
}

static int sw_poison(struct s3_writer *w, int rc)
{
	w->failed = rc;
	snprintf(w->err, sizeof(w->err), "%s", cora_error_last());
	return rc;
}

static int sw_write(struct cora_blob_writer *base, const void *buf, size_t n)
{
	struct s3_writer *w = (struct s3_writer *)base;
	int rc;

	if (w->failed)
		return cora_error_set(w->failed, "%s", w->err);
	if (w->fd < 0 && w->len + n <= w->s->cfg.multipart_threshold) {
		if (w->len + n > w->cap) {
			size_t cap = w->cap ? w->cap : 64 * 1024;
			char *m;
			while (cap < w->len + n)
				cap *= 2;
			m = realloc(w->mem, cap);
			if (!m)
				return sw_poison(w, oom());
			w->mem = m;
			w->cap = cap;
		}
		memcpy(w->mem + w->len, buf, n);
		w->len += n;
		w->size += n;
		return 0;
	}
	if (w->fd < 0) {
		rc = spill_open(w->s, &w->fd);
		if (rc == 0)
			rc = write_all(w->fd, w->mem, w->len);
		if (rc)
			return sw_poison(w, rc);
		free(w->mem);
		w->mem = NULL;
		w->len = w->cap = 0;
	}
	rc = write_all(w->fd, buf, n);
	if (rc)
		return sw_poison(w, rc);
	w->size += n;
	return 0;
}

static int sw_commit(struct cora_blob_writer *base,
		     char sha256[CORA_SHA256_HEXLEN + 1], uint64_t *size)
{
	struct s3_writer *w = (struct s3_writer *)base;
	const char *expect = w->has_expect ? w->expect : NULL;
	int rc;

	if (w->failed)
		rc = cora_error_set(w->failed, "%s", w->err);
	else if (w->fd < 0)
		rc = put_mem(w->s, w->mem ? w->mem : "", w->len, expect, sha256,
			     size);
	else
		rc = put_fd(w->s, w->fd, "spool file", expect, sha256, size);
	sw_free(w);
	return rc;
}

static void sw_abort(struct cora_blob_writer *base)
{
	sw_free((struct s3_writer *)base);
}

static int s3_writer_new(struct cora_blobstore *bs, const char *expect,
			 struct cora_blob_writer **out)
{
	struct s3_writer *w;
	int rc;

	*out = NULL;
	if (expect && (rc = check_digest(expect)))
		return rc;
	w = calloc(1, sizeof(*w));
	if (!w)
		return oom();
	w->s = store_of(bs);
	w->fd = -1;
	w->base.store = bs;
	w->base.write = sw_write;
	w->base.commit = sw_commit;
	w->base.abort = sw_abort;
	if (expect) {
		w->has_expect = true;
		memcpy(w->expect, expect, sizeof(w->expect));
	}
	*out = &w->base;
	return 0;
}

/* ---- reading -------------------------------------------------------- */

struct s3_reader {
	struct cora_blob_reader base;
	struct s3_store *s;
	char sha256[CORA_SHA256_HEXLEN + 1];
};

static int sr_read(struct cora_blob_reader *base, void *buf, size_t n,
		   uint64_t off, size_t *nread)
{
	struct s3_reader *r = (struct s3_reader *)base;
	int rc;

	*nread = 0;
	if (off >= base->size)
		return 0;
	if (n > base->size - off)
		n = (size_t)(base->size - off);
	rc = get_range(r->s, r->sha256, buf, n, off, nread);
	if (rc == 0 && *nread < n)
		rc = cora_error_set(CORA_EIO, "s3: GET blob %s: short read "
				    "(%zu of %zu bytes at %" PRIu64 ")",
				    r->sha256, *nread, n, off);
	return rc;
}

static void sr_close(struct cora_blob_reader *base)
{
	free(base);
}

static int s3_open(struct cora_blobstore *bs, const char *sha256,
		   struct cora_blob_reader **out)
{
	struct s3_store *s = store_of(bs);
	struct s3_reader *r;
	uint64_t size;
	int rc;

	*out = NULL;
	if ((rc = check_digest(sha256)) || (rc = head(s, sha256, &size, NULL)))
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return oom();
	r->s = s;
	memcpy(r->sha256, sha256, sizeof(r->sha256));
	r->base.store = bs;
	r->base.size = size;
	r->base.fd = -1; /* no local file: no zero-copy */
	r->base.read = sr_read;
	r->base.close = sr_close;
	*out = &r->base;
	return 0;
}

static int s3_read(struct cora_blobstore *bs, const char *sha256, void *buf,
		   size_t n, uint64_t off, size_t *nread)
{
	int rc;

	*nread = 0;
	if ((rc = check_digest(sha256)))
		return rc;
	return get_range(store_of(bs), sha256, buf, n, off, nread);
}

static int s3_exists(struct cora_blobstore *bs, const char *sha256,
		     uint64_t *size)
{
	int rc = check_digest(sha256);

	return rc ? rc : head(store_of(bs), sha256, size, NULL);
}

static int s3_stored_at(struct cora_blobstore *bs, const char *sha256,
			int64_t *when)
{
	int rc = check_digest(sha256);

	if (rc == 0)
		rc = head(store_of(bs), sha256, NULL, when);
	if (rc == 0 && *when < 0)
		rc = cora_error_set(CORA_EIO, "s3: HEAD blob %s: no "
				    "Last-Modified in the reply", sha256);
	return rc;
}

static int s3_del(struct cora_blobstore *bs, const char *sha256)
{
	struct s3_store *s = store_of(bs);
	struct s3_req r = { .method = "DELETE", .sink = SINK_MEM };
	struct key k;
	int rc;

	/* S3 answers 204 for absent keys too: ask first, to say
	 * CORA_ENOTFOUND as the table promises */
	if ((rc = check_digest(sha256)) || (rc = head(s, sha256, NULL, NULL)))
		return rc;
	rc = key_for(s, &k, "DELETE", sha256);
	if (rc)
		return rc;
	r.key = k.key;
	r.what = k.what;
	rc = perform(s, &r);
	req_release(&r);
	free(k.key);
	return rc;
}

struct list_arg {
	struct s3_store *s;
	cora_blob_list_fn fn;
	void *payload;
};

static int list_item(const char *key, uint64_t size, const char *mtime,
		     void *arg)
{
	struct list_arg *a = arg;
	char sha[CORA_SHA256_HEXLEN + 1];

	(void)mtime;
	if (!s3_key_digest(key, a->s->cfg.prefix, sha))
		return 0; /* not one of ours */
	return a->fn(sha, size, a->payload);
}

static int s3_list(struct cora_blobstore *bs, cora_blob_list_fn fn,
		   void *payload)
{
	struct s3_store *s = store_of(bs);
	struct list_arg a = { s, fn, payload };
	char *prefix = NULL, *token = NULL, *query = NULL;
	bool more = true;
	int rc = 0;

	if (asprintf(&prefix, "%ssha256/", s->cfg.prefix) < 0)
		return oom();
	while (more && rc == 0) {
		struct s3_req r = { .method = "GET", .sink = SINK_MEM,
				    .what = "list blobs" };
		char *next = NULL;

		rc = s3_list_query(&query, prefix, token, s->cfg.list_page);
		if (rc)
			break;
		r.query = query;
		rc = perform(s, &r);
		if (rc == 0)
			rc = s3_xml_list(r.mem, r.mem_len, list_item, &a, &more,
					 &next);
		req_release(&r);
		free(query);
		query = NULL;
		free(token);
		token = next;
	}
	free(token);
	free(prefix);
	return rc;
}

static int s3_verify(struct cora_blobstore *bs, const char *sha256)
{
	struct s3_store *s = store_of(bs);
	char hex[CORA_SHA256_HEXLEN + 1], *buf;
	struct cora_sha256 h;
	uint64_t size, off = 0;
	size_t got, step = (size_t)s->cfg.part_size;
	int rc;

	if ((rc = check_digest(sha256)) || (rc = head(s, sha256, &size, NULL)))
		return rc;
	buf = malloc(step);
	if (!buf)
		return oom();
	if (cora_sha256_init(&h) != 0) {
		free(buf);
		return oom();
	}
	/* ranged GETs, so each request stays within the time bounds */
	while (off < size) {
		size_t want = size - off < step ? (size_t)(size - off) : step;
		rc = get_range(s, sha256, buf, want, off, &got);
		if (rc == 0 && got != want)
			rc = cora_error_set(CORA_EIO, "s3: GET blob %s: short "
					    "read", sha256);
		if (rc) {
			cora_sha256_release(&h);
			free(buf);
			return rc;
		}
		cora_sha256_update(&h, buf, got);
		off += got;
	}
	cora_sha256_final(&h, hex);
	free(buf);
	if (strcmp(hex, sha256) != 0)
		return cora_error_set(CORA_EMISMATCH, "blob '%s' is corrupt in "
				      "s3 bucket '%s': its content hashes to "
				      "'%s'", sha256, s->cfg.bucket, hex);
	return 0;
}

/* ---- the store ------------------------------------------------------ */

static void s3_free(struct cora_blobstore *bs)
{
	struct s3_store *s = store_of(bs);
	int i;

	while (s->npool > 0)
		curl_easy_cleanup(s->pool[--s->npool]);
	if (s->share)
		curl_share_cleanup(s->share);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&s->share_locks[i]);
	pthread_mutex_destroy(&s->pool_lock);
	s3_creds_release(&s->creds);
	s3_config_release(&s->cfg);
	free(s->sigv4);
	free(s->spool_dir);
	free(s->creds_hint);
	free(s);
}

int cora_blob_s3_open(struct cora_blobstore **out, const char *catalog_root,
		      const json_t *config)
{
	struct s3_store *s;
	const char *tmp = getenv("TMPDIR");
	int i, rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return oom();
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&s->share_locks[i], NULL);
	pthread_mutex_init(&s->pool_lock, NULL);
	s->base.version = CORA_BLOBSTORE_VERSION;
	s->base.name = "s3";
	s->base.put_file = s3_put_file;
	s->base.writer_new = s3_writer_new;
	s->base.open = s3_open;
	s->base.read = s3_read;
	s->base.exists = s3_exists;
	s->base.del = s3_del;
	s->base.list = s3_list;
	s->base.verify = s3_verify;
	s->base.path = NULL;
	s->base.adopt = NULL;
	s->base.stored_at = s3_stored_at;
	s->base.free = s3_free;

	rc = s3_config_parse(&s->cfg, config);
	if (rc)
		goto fail;
	rc = s3_creds_load(&s->creds, catalog_root);
	if (rc)
		goto fail;
	if (asprintf(&s->creds_hint, "set AWS_ACCESS_KEY_ID and "
		     "AWS_SECRET_ACCESS_KEY, or write %s%scredentials (mode "
		     "0600) or ~/.aws/credentials",
		     catalog_root ? catalog_root : "CATALOG", "/") < 0) {
		s->creds_hint = NULL;
		rc = oom();
		goto fail;
	}
	rc = s3_sigv4_param(&s->sigv4, s->cfg.region);
	if (rc)
		goto fail;
	if (catalog_root)
		rc = asprintf(&s->spool_dir, "%s/staging", catalog_root);
	else
		rc = asprintf(&s->spool_dir, "%s", tmp && *tmp ? tmp : "/tmp");
	if (rc < 0) {
		s->spool_dir = NULL;
		rc = oom();
		goto fail;
	}
	s->share = curl_share_init();
	if (!s->share) {
		rc = oom();
		goto fail;
	}
	curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(s->share, CURLSHOPT_USERDATA, s);
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	*out = &s->base;
	return 0;
fail:
	s3_free(&s->base);
	return rc;
}

/* The S3 store under a cache, or bs itself. */
static struct s3_store *s3_of(struct cora_blobstore *bs)
{
	struct cora_blobstore *next = cora_blob_cache_next(bs);

	if (next)
		bs = next;
	return bs && bs->free == s3_free ? store_of(bs) : NULL;
}

int cora_s3_probe(struct cora_blobstore *bs)
{
	struct s3_store *s = s3_of(bs);
	struct s3_req r = { .method = "GET", .sink = SINK_MEM,
			    .what = "list the bucket" };
	char *query = NULL;
	bool more;
	char *next = NULL;
	int rc;

	if (!s)
		return cora_error_set(CORA_EINVALID, "blob store '%s' is not "
				      "an s3 store", bs ? bs->name : "?");
	rc = s3_list_query(&query, s->cfg.prefix, NULL, 1);
	if (rc)
		return rc;
	r.query = query;
	rc = perform(s, &r);
	if (rc == 0)
		rc = s3_xml_list(r.mem, r.mem_len, NULL, NULL, &more, &next);
	free(next);
	req_release(&r);
	free(query);
	return rc;
}

int cora_s3_check(const char *catalog_root, const json_t *config,
		  char source[300])
{
	struct s3_config c;
	struct s3_creds cr;
	int rc;

	rc = s3_config_parse(&c, config);
	if (rc)
		return rc;
	s3_config_release(&c);
	rc = s3_creds_load(&cr, catalog_root);
	if (rc)
		return rc;
	if (source)
		snprintf(source, 300, "%s", cr.source);
	s3_creds_release(&cr);
	return 0;
}

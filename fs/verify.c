/*
 * verify.c: a blob is checked against its digest before the mount serves
 * it (anchors lesson 8).  Once per daemon: a table of digests already
 * verified (good) or found corrupt (bad).  Blobs up to VERIFY_SYNC bytes
 * are hashed when first opened, before open returns; larger ones are
 * hashed by a background thread while the reader goes on, and reads fail
 * with EIO from the moment the blob is found corrupt.  `cora dataset
 * verify` names the file.
 */
#include "fs/verify.h"

#include "core/blobstore.h"
#include "core/error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define VERIFY_SYNC (64ULL << 20)
#define SLOTS 4096    /* open addressing; a full table forgets the oldest */

enum vstate { V_EMPTY, V_RUNNING, V_GOOD, V_BAD };

static struct slot {
	char sha[65];
	enum vstate state;
} table[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;

static size_t slot_of(const char *sha)
{
	size_t h = 0, i;

	for (i = 0; i < 16; i++)
		h = h * 16 + (size_t)(sha[i] <= '9' ? sha[i] - '0' :
				      sha[i] - 'a' + 10);
	return h % SLOTS;
}

/* The slot for sha (lock held): found, or taken over. */
static struct slot *find(const char *sha)
{
	size_t i = slot_of(sha), k;

	for (k = 0; k < 8; k++) {
		struct slot *s = &table[(i + k) % SLOTS];
		if (s->state != V_EMPTY && strcmp(s->sha, sha) == 0)
			return s;
	}
	for (k = 0; k < 8; k++) {
		struct slot *s = &table[(i + k) % SLOTS];
		if (s->state == V_EMPTY || s->state == V_GOOD) {
			/* forgetting a good one costs a re-check only */
			memcpy(s->sha, sha, 65);
			s->state = V_EMPTY;
			return s;
		}
	}
	return NULL; /* all eight busy or bad: check without recording */
}

static void record(const char *sha, enum vstate st)
{
	struct slot *s;

	pthread_mutex_lock(&lock);
	s = find(sha);
	if (s) {
		s->state = st;
		memcpy(s->sha, sha, 65);
	}
	pthread_cond_broadcast(&done);
	pthread_mutex_unlock(&lock);
	if (st == V_BAD)
		syslog(LOG_ERR, "corafs: blob %s is corrupt: reads fail with "
		       "EIO; run 'cora dataset verify'", sha);
}

struct job {
	struct cora_blobstore *bs;
	char sha[65];
};

static void *verify_thread(void *arg)
{
	struct job *j = arg;
	int rc = j->bs->verify(j->bs, j->sha);

	record(j->sha, rc == CORA_EMISMATCH ? V_BAD : rc ? V_EMPTY : V_GOOD);
	free(j);
	return NULL;
}

int fs_verify_open(struct cora_blobstore *bs, const char *sha,
		   uint64_t size)
{
	struct slot *s;
	pthread_t t;
	struct job *j;
	int rc;

	pthread_mutex_lock(&lock);
	s = find(sha);
	while (s && s->state == V_RUNNING && size <= VERIFY_SYNC)
		pthread_cond_wait(&done, &lock), s = find(sha);
	if (s && (s->state == V_GOOD || s->state == V_BAD ||
		  s->state == V_RUNNING)) {
		enum vstate st = s->state;
		pthread_mutex_unlock(&lock);
		return st == V_BAD ? CORA_EMISMATCH : 0;
	}
	if (s)
		s->state = V_RUNNING;
	pthread_mutex_unlock(&lock);

	if (size <= VERIFY_SYNC) {
		rc = bs->verify(bs, sha);
		record(sha, rc == CORA_EMISMATCH ? V_BAD : rc ? V_EMPTY : V_GOOD);
		return rc == CORA_EMISMATCH ? rc : 0;
	}
	j = malloc(sizeof(*j));
	if (j) {
		j->bs = bs;
		memcpy(j->sha, sha, 65);
		if (pthread_create(&t, NULL, verify_thread, j) == 0)
			pthread_detach(t);
		else
			free(j), record(sha, V_EMPTY);
	}
	return 0;
}

bool fs_verify_bad(const char *sha)
{
	struct slot *s;
	bool bad;

	pthread_mutex_lock(&lock);
	s = find(sha);
	bad = s && s->state == V_BAD;
	pthread_mutex_unlock(&lock);
	return bad;
}

void fs_verify_good(const char *sha)
{
	record(sha, V_GOOD);
}

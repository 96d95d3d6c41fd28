/*
 * test_blob_local.c: the local blob store (core/blob_local.c) against the
 * contract and format in core/blobstore.h.
 *
 * Besides the fault hook (core/fault.h), this test defines write(),
 * fsync(), renameat() and pread64() itself.  The store is linked
 * statically into this program, so its calls land here; these pass
 * through to the kernel with syscall(), and on request record the order
 * of fsyncs and renames (to check L2: content durable before the name is
 * visible, name durable before put returns) or return short counts and
 * EINTR (to check the full-write and full-read loops).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/blobstore.h"
#include "core/error.h"
#include "core/fault.h"
#include "core/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HELLO_SHA "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"

/* ---- system call interposers ------------------------------------------ */

struct trace_ev {
	char op;                  /* 'F' fsync, 'R' rename */
	char path[PATH_MAX];      /* what was fsynced, or the new name */
	char from[PATH_MAX];      /* rename: the old name */
	bool final_visible;       /* was watch_final there at that moment */
};

static atomic_int trace_on;
static atomic_int short_io;
static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static struct trace_ev trace[32];
static int ntrace;
static char watch_final[PATH_MAX];

static void fd_path(char out[PATH_MAX], int fd)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, PATH_MAX - 1);
	out[n < 0 ? 0 : n] = '\0';
}

static struct trace_ev *trace_add(char op)
{
	struct trace_ev *ev = NULL;

	pthread_mutex_lock(&trace_lock);
	if (ntrace < (int)(sizeof(trace) / sizeof(trace[0]))) {
		ev = &trace[ntrace++];
		memset(ev, 0, sizeof(*ev));
		ev->op = op;
		ev->final_visible = access(watch_final, F_OK) == 0;
	}
	pthread_mutex_unlock(&trace_lock);
	return ev;
}

static void trace_start(const char *final)
{
	ntrace = 0;
	snprintf(watch_final, sizeof(watch_final), "%s", final);
	atomic_store(&trace_on, 1);
}

static void trace_stop(void)
{
	atomic_store(&trace_on, 0);
}

/* Every fifth call of a kind is interrupted; the others move at most
 * `cap` bytes. */
static bool io_interrupt(void)
{
	static atomic_uint calls;

	return atomic_fetch_add(&calls, 1) % 5 == 4;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	if (atomic_load(&short_io)) {
		if (io_interrupt()) {
			errno = EINTR;
			return -1;
		}
		if (n > 4093)
			n = 4093;
	}
	return syscall(SYS_write, fd, buf, n);
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	if (atomic_load(&short_io)) {
		if (io_interrupt()) {
			errno = EINTR;
			return -1;
		}
		if (n > 1021)
			n = 1021;
	}
	return syscall(SYS_pread64, fd, buf, n, off);
}

int fsync(int fd)
{
	if (atomic_load(&trace_on)) {
		struct trace_ev *ev = trace_add('F');
		if (ev)
			fd_path(ev->path, fd);
	}
	return (int)syscall(SYS_fsync, fd);
}

int renameat(int olddir, const char *oldname, int newdir, const char *newname)
{
	if (atomic_load(&trace_on)) {
		struct trace_ev *ev = trace_add('R');
		if (ev) {
			char d[PATH_MAX];
			fd_path(d, olddir);
			snprintf(ev->from, sizeof(ev->from), "%.2000s/%.1000s", d, oldname);
			fd_path(d, newdir);
			snprintf(ev->path, sizeof(ev->path), "%.2000s/%.1000s", d, newname);
		}
	}
#ifdef SYS_renameat
	return (int)syscall(SYS_renameat, olddir, oldname, newdir, newname);
#else
	return (int)syscall(SYS_renameat2, olddir, oldname, newdir, newname, 0);
#endif
}

/* ---- fixture ------------------------------------------------------------ */

struct fx {
	char dir[PATH_MAX];   /* scratch folder (resolved) */
	char root[PATH_MAX];  /* the store: dir/blobs */
	struct cora_blobstore *bs;
};

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/cora-blob-XXXXXX";

	if (!f || !mkdtemp(tmpl) || !realpath(tmpl, f->dir))
		return -1;
	snprintf(f->root, sizeof(f->root), "%.4000s/blobs", f->dir);
	if (cora_blob_local_open(&f->bs, f->root) != 0) {
		fprintf(stderr, "open: %s\n", cora_error_last());
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cora_fault_sim(0);
	atomic_store(&short_io, 0);
	trace_stop();
	cora_blobstore_free(f->bs);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static void fill(uint8_t *buf, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
}

static void write_file(const char *path, const void *buf, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static void src_path(char out[PATH_MAX], const struct fx *f, const char *name)
{
	snprintf(out, PATH_MAX, "%.4000s/%.80s", f->dir, name);
}

static void final_path(char out[PATH_MAX], const struct fx *f,
		       const char *sha)
{
	snprintf(out, PATH_MAX, "%.4000s/sha256/%.2s/%.62s", f->root, sha, sha + 2);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int tmp_count(const struct fx *f)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%.4000s/tmp", f->root);
	return count_entries(p);
}

/* Number of blobs under sha256/, by walking it directly. */
static int blob_count(const struct fx *f)
{
	char p[PATH_MAX];
	int i, n = 0;

	for (i = 0; i < 256; i++) {
		snprintf(p, sizeof(p), "%.4000s/sha256/%02x", f->root, i);
		n += count_entries(p);
	}
	return n;
}

static bool visible(const struct fx *f, const char *sha)
{
	char p[PATH_MAX];

	final_path(p, f, sha);
	return access(p, F_OK) == 0;
}

/* ---- basic puts and reads --------------------------------------------- */

static void test_put_file__layout_mode_and_digest(void **state)
{
	struct fx *f = *state;
	char src[PATH_MAX], fin[PATH_MAX], sha[65], *path;
	struct stat st;
	uint64_t size;
	int i;

	src_path(src, f, "hello.txt");
	write_file(src, "hello world", 11);
	assert_int_equal(cora_blob_put_file(f->bs, src, NULL, sha, &size), 0);
	assert_string_equal(sha, HELLO_SHA);
	assert_int_equal(size, 11);

	final_path(fin, f, sha);
	assert_int_equal(stat(fin, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0444);
	assert_int_equal(st.st_size, 11);
	assert_int_equal(stat(f->root, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	for (i = 0; i < 256; i++) {
		char d[PATH_MAX];
		snprintf(d, sizeof(d), "%.4000s/sha256/%02x", f->root, i);
		assert_int_equal(stat(d, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
	}
	assert_int_equal(tmp_count(f), 0);

	assert_int_equal(cora_blob_path(f->bs, sha, &path), 0);
	assert_string_equal(path, fin);
	free(path);
	assert_int_equal(cora_blobstore_check(f->bs), 0);
	assert_string_equal(f->bs->name, "local");
}

static void test_put_file__refuses_missing_and_folder(void **state)
{
	struct fx *f = *state;
	char src[PATH_MAX], sha[65];

	src_path(src, f, "nope");
	assert_int_equal(cora_blob_put_file(f->bs, src, NULL, sha, NULL),
			 CORA_ENOTFOUND);
	assert_non_null(strstr(cora_error_last(), "nope"));
	assert_int_equal(cora_blob_put_file(f->bs, f->dir, NULL, sha, NULL),
			 CORA_EISDIR);
	assert_int_equal(cora_blob_put_file(f->bs, "", NULL, sha, NULL),
			 CORA_EINVALID);
	assert_int_equal(tmp_count(f), 0);
	assert_int_equal(blob_count(f), 0);
}

static void test_writer__chunks_of_every_size_match_put_file(void **state)
{
	static const size_t chunks[] = { 1, 4095, 65536, 131072, 131071,
					 1048577, 7, 300000 };
	struct fx *f = *state;
	size_t total = 0, i, off = 0;
	struct cora_blob_writer *w;
	char src[PATH_MAX], a[65], b[65], want[65];
	uint64_t sa, sb;
	uint8_t *buf;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		total += chunks[i];
	buf = malloc(total);
	assert_non_null(buf);
	fill(buf, total, 7);
	cora_sha256_buf(want, buf, total);

	assert_int_equal(cora_blob_writer_new(f->bs, NULL, &w), 0);
	assert_ptr_equal(w->store, f->bs);
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		assert_int_equal(cora_blob_writer_write(w, buf + off, chunks[i]), 0);
		assert_int_equal(cora_blob_writer_write(w, buf, 0), 0);
		off += chunks[i];
	}
	assert_int_equal(tmp_count(f), 1); /* in progress, in tmp/ */
	assert_false(visible(f, want));
	assert_int_equal(cora_blob_writer_commit(w, a, &sa), 0);
	assert_string_equal(a, want);
	assert_int_equal(sa, total);
	assert_int_equal(tmp_count(f), 0);

	assert_int_equal(cora_blob_delete(f->bs, a), 0);
	src_path(src, f, "chunks");
	write_file(src, buf, total);
	assert_int_equal(cora_blob_put_file(f->bs, src, want, b, &sb), 0);
	assert_string_equal(b, want);
	assert_int_equal(sb, total);
	assert_int_equal(cora_blob_verify(f->bs, b), 0);
	free(buf);
}

static void test_writer__abort_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct cora_blob_writer *w;

	assert_int_equal(cora_blob_writer_new(f->bs, NULL, &w), 0);
	assert_int_equal(cora_blob_writer_write(w, "partial", 7), 0);
	assert_int_equal(tmp_count(f), 1);
	cora_blob_writer_abort(w);
	cora_blob_writer_abort(NULL);
	assert_int_equal(tmp_count(f), 0);
	assert_int_equal(blob_count(f), 0);
}

static void test_put__dedup_keeps_one_file(void **state)
{
	struct fx *f = *state;
	char src[PATH_MAX], fin[PATH_MAX], a[65], b[65];
	struct stat st1, st2;
	uint64_t size;

	src_path(src, f, "hello.txt");
	write_file(src, "hello world", 11);
	assert_int_equal(cora_blob_put_file(f->bs, src, NULL, a, NULL), 0);
	final_path(fin, f, a);
	assert_int_equal(stat(fin, &st1), 0);

	/* A dedup put renames nothing but still fsyncs the folder (L3). */
	trace_start(fin);
	assert_int_equal(cora_blob_put_buf(f->bs, "hello world", 11, NULL, b,
					   &size), 0);
	trace_stop();
	assert_string_equal(a, b);
	assert_int_equal(size, 11);
	assert_int_equal(ntrace, 1);
	assert_int_equal(trace[0].op, 'F');
	assert_non_null(strstr(trace[0].path, "/sha256/b9"));

	assert_int_equal(cora_blob_put_file(f->bs, src, HELLO_SHA, b, NULL), 0);
	assert_int_equal(stat(fin, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino); /* the same file, untouched */
	assert_int_equal(blob_count(f), 1);
	assert_int_equal(tmp_count(f), 0);
}

static void test_put__replaces_truncated_blob(void **state)
{
	struct fx *f = *state;
	char fin[PATH_MAX], sha[65];
	uint64_t size;

	assert_int_equal(cora_blob_put_buf(f->bs, "hello world", 11, NULL, sha,
					   NULL), 0);
	final_path(fin, f, sha);
	assert_int_equal(chmod(fin, 0644), 0);
	assert_int_equal(truncate(fin, 5), 0);
	assert_int_equal(chmod(fin, 0444), 0);
	assert_int_equal(cora_blob_verify(f->bs, sha), CORA_EMISMATCH);

	assert_int_equal(cora_blob_put_buf(f->bs, "hello world", 11, NULL, sha,
					   NULL), 0);
	assert_int_equal(cora_blob_exists(f->bs, sha, &size), 0);
	assert_int_equal(size, 11);
	assert_int_equal(cora_blob_verify(f->bs, sha), 0);
}

/* L7: a folder removed behind the store's back is made again, durably. */
static void test_put__remakes_missing_folder(void **state)
{
	struct fx *f = *state;
	char folder[PATH_MAX], fin[PATH_MAX], sha[65];

	snprintf(folder, sizeof(folder), "%.4000s/sha256/b9", f->root);
	assert_int_equal(rmdir(folder), 0);
	final_path(fin, f, HELLO_SHA);
	trace_start(fin);
	assert_int_equal(cora_blob_put_buf(f->bs, "hello world", 11, NULL, sha,
					   NULL), 0);
	trace_stop();
	assert_string_equal(sha, HELLO_SHA);
	assert_int_equal(cora_blob_verify(f->bs, sha), 0);
	/* fsync(tmp), failed rename, fsync(sha256/), rename, fsync(b9/) */
	assert_int_equal(ntrace, 5);
	assert_int_equal(trace[2].op, 'F');
	assert_true(strlen(trace[2].path) > 7);
	assert_string_equal(trace[2].path + strlen(trace[2].path) - 7, "/sha256");
	assert_int_equal(trace[3].op, 'R');
	assert_string_equal(trace[4].path, folder);
	assert_true(trace[4].final_visible);
	assert_int_equal(tmp_count(f), 0);
}

static void test_exists_read_range_and_reader(void **state)
{
	struct fx *f = *state;
	struct cora_blob_reader *r;
	char sha[65], buf[32], fin[PATH_MAX];
	struct stat a, b;
	uint64_t size = 0;
	size_t n;

	assert_int_equal(cora_blob_put_buf(f->bs, "0123456789", 10, NULL, sha,
					   NULL), 0);
	assert_int_equal(cora_blob_exists(f->bs, sha, &size), 0);
	assert_int_equal(size, 10);
	assert_int_equal(cora_blob_exists(f->bs, sha, NULL), 0);

	assert_int_equal(cora_blob_read(f->bs, sha, buf, 4, 3, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "3456", 4);
	assert_int_equal(cora_blob_read(f->bs, sha, buf, sizeof(buf), 8, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "89", 2);
	assert_int_equal(cora_blob_read(f->bs, sha, buf, 4, 10, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(cora_blob_read(f->bs, sha, buf, 4, UINT64_MAX, &n), 0);
	assert_int_equal(n, 0);

	assert_int_equal(cora_blob_open(f->bs, sha, &r), 0);
	assert_ptr_equal(r->store, f->bs);
	assert_int_equal(cora_blob_reader_size(r), 10);
	assert_true(cora_blob_reader_fd(r) >= 0);
	assert_int_equal(fcntl(cora_blob_reader_fd(r), F_GETFD) & FD_CLOEXEC,
			 FD_CLOEXEC);
	assert_int_equal(fcntl(cora_blob_reader_fd(r), F_GETFL) & O_ACCMODE,
			 O_RDONLY);
	final_path(fin, f, sha);
	assert_int_equal(fstat(cora_blob_reader_fd(r), &a), 0);
	assert_int_equal(stat(fin, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(cora_blob_reader_read(r, buf, 5, 5, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "56789", 5);

	/* A reader outlives the blob's deletion. */
	assert_int_equal(cora_blob_delete(f->bs, sha), 0);
	assert_int_equal(cora_blob_reader_read(r, buf, 3, 0, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "012", 3);
	cora_blob_reader_close(r);
	cora_blob_reader_close(NULL);
}

static void test_short_writes_and_eintr_are_retried(void **state)
{
	struct fx *f = *state;
	struct cora_blob_writer *w;
	size_t total = 400000, n, off;
	char sha[65], want[65];
	uint8_t *buf, *back;

	buf = malloc(total);
	back = malloc(total);
	assert_non_null(buf);
	assert_non_null(back);
	fill(buf, total, 3);
	cora_sha256_buf(want, buf, total);

	atomic_store(&short_io, 1);
	assert_int_equal(cora_blob_writer_new(f->bs, want, &w), 0);
	for (off = 0; off < total; off += n) {
		n = total - off < 150000 ? total - off : 150000; /* direct */
		if (off == 0)
			n = 1000;                                /* buffered */
		assert_int_equal(cora_blob_writer_write(w, buf + off, n), 0);
	}
	assert_int_equal(cora_blob_writer_commit(w, sha, NULL), 0);
	assert_string_equal(sha, want);
	assert_int_equal(cora_blob_read(f->bs, sha, back, total, 0, &n), 0);
	assert_int_equal(n, total);
	assert_memory_equal(back, buf, total);
	assert_int_equal(cora_blob_verify(f->bs, sha), 0);
	atomic_store(&short_io, 0);
	free(buf);
	free(back);
}

static void test_empty_blob(void **state)
{
	struct fx *f = *state;
	struct cora_blob_reader *r;
	char src[PATH_MAX], a[65], b[65], buf[4];
	uint64_t size = 1;
	size_t n = 1;

	assert_int_equal(cora_blob_put_buf(f->bs, NULL, 0, NULL, a, &size), 0);
	assert_string_equal(a, EMPTY_SHA);
	assert_int_equal(size, 0);
	src_path(src, f, "empty");
	write_file(src, "", 0);
	assert_int_equal(cora_blob_put_file(f->bs, src, EMPTY_SHA, b, &size), 0);
	assert_string_equal(b, EMPTY_SHA);
	assert_int_equal(blob_count(f), 1);

	assert_int_equal(cora_blob_open(f->bs, EMPTY_SHA, &r), 0);
	assert_int_equal(cora_blob_reader_size(r), 0);
	assert_int_equal(cora_blob_reader_read(r, buf, sizeof(buf), 0, &n), 0);
	assert_int_equal(n, 0);
	cora_blob_reader_close(r);
	assert_int_equal(cora_blob_verify(f->bs, EMPTY_SHA), 0);
}

static void test_big_blob_20mib(void **state)
{
	struct fx *f = *state;
	size_t total = 20u << 20, n, i;
	char src[PATH_MAX], sha[65], want[65];
	struct cora_blob_reader *r;
	uint8_t *buf, back[8192];
	uint64_t size;

	buf = malloc(total);
	assert_non_null(buf);
	fill(buf, total, 20);
	src_path(src, f, "big");
	write_file(src, buf, total);
	assert_int_equal(cora_sha256_file(want, &size, src), 0);

	assert_int_equal(cora_blob_put_file(f->bs, src, NULL, sha, &size), 0);
	assert_string_equal(sha, want);
	assert_int_equal(size, total);

	assert_int_equal(cora_blob_open(f->bs, sha, &r), 0);
	assert_int_equal(cora_blob_reader_size(r), total);
	for (i = 0; i < 16; i++) {
		uint64_t off = (uint64_t)i * 1318027u % total;
		assert_int_equal(cora_blob_reader_read(r, back, sizeof(back), off, &n), 0);
		assert_int_equal(n, total - off < sizeof(back) ? total - off : sizeof(back));
		assert_memory_equal(back, buf + off, n);
	}
	/* The last bytes, straight from the descriptor, as FUSE would. */
	assert_int_equal(pread(cora_blob_reader_fd(r), back, sizeof(back),
			       (off_t)(total - 100)), 100);
	assert_memory_equal(back, buf + total - 100, 100);
	cora_blob_reader_close(r);
	assert_int_equal(cora_blob_verify(f->bs, sha), 0);
	free(buf);
}

/* ---- delete, list, verify --------------------------------------------- */

static void test_delete__removes_and_reports_missing(void **state)
{
	struct fx *f = *state;
	char sha[65];

	assert_int_equal(cora_blob_put_buf(f->bs, "x", 1, NULL, sha, NULL), 0);
	assert_int_equal(cora_blob_delete(f->bs, sha), 0);
	assert_false(visible(f, sha));
	assert_int_equal(cora_blob_exists(f->bs, sha, NULL), CORA_ENOTFOUND);
	assert_int_equal(cora_blob_delete(f->bs, sha), CORA_ENOTFOUND);
	assert_non_null(strstr(cora_error_last(), sha));
}

struct seen {
	int n;
	char sha[8][65];
	uint64_t size[8];
	int stop_after;
};

static int collect(const char *sha256, uint64_t size, void *payload)
{
	struct seen *s = payload;

	if (s->n < 8) {
		snprintf(s->sha[s->n], 65, "%s", sha256);
		s->size[s->n] = size;
	}
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 7 : 0;
}

static int find_seen(const struct seen *s, const char *sha)
{
	int i;

	for (i = 0; i < s->n && i < 8; i++)
		if (!strcmp(s->sha[i], sha))
			return i;
	return -1;
}

static void test_list__every_blob_once_ignoring_strays(void **state)
{
	struct fx *f = *state;
	char a[65], b[65], c[65], p[PATH_MAX];
	struct seen s = { 0 };
	int i;

	assert_int_equal(cora_blob_put_buf(f->bs, "a", 1, NULL, a, NULL), 0);
	assert_int_equal(cora_blob_put_buf(f->bs, "bb", 2, NULL, b, NULL), 0);
	assert_int_equal(cora_blob_put_buf(f->bs, NULL, 0, NULL, c, NULL), 0);
	/* Strays the store must not mistake for blobs. */
	snprintf(p, sizeof(p), "%.4000s/sha256/%.2s/README", f->root, a);
	write_file(p, "x", 1);
	snprintf(p, sizeof(p), "%.4000s/sha256/%.2s/%.62s", f->root, a,
		 "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567");
	write_file(p, "x", 1);
	snprintf(p, sizeof(p), "%.4000s/sha256/lost+found", f->root);
	assert_int_equal(mkdir(p, 0700), 0);

	assert_int_equal(cora_blob_list(f->bs, collect, &s), 0);
	assert_int_equal(s.n, 3);
	i = find_seen(&s, a);
	assert_true(i >= 0);
	assert_int_equal(s.size[i], 1);
	i = find_seen(&s, b);
	assert_true(i >= 0);
	assert_int_equal(s.size[i], 2);
	i = find_seen(&s, c);
	assert_true(i >= 0);
	assert_int_equal(s.size[i], 0);

	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(cora_blob_list(f->bs, collect, &s), 7);
	assert_int_equal(s.n, 2);
}

static void test_verify__detects_flipped_byte(void **state)
{
	struct fx *f = *state;
	char sha[65], fin[PATH_MAX], buf[16];
	size_t n;
	int fd;

	assert_int_equal(cora_blob_put_buf(f->bs, "hello world", 11, NULL, sha,
					   NULL), 0);
	assert_int_equal(cora_blob_verify(f->bs, sha), 0);

	final_path(fin, f, sha);
	assert_int_equal(chmod(fin, 0644), 0);
	fd = open(fin, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "H", 1, 0), 1);
	close(fd);
	assert_int_equal(chmod(fin, 0444), 0);

	/* Reading still works (and shows the damage); verify does not. */
	assert_int_equal(cora_blob_read(f->bs, sha, buf, sizeof(buf), 0, &n), 0);
	assert_int_equal(n, 11);
	assert_memory_equal(buf, "Hello world", 11);
	assert_int_equal(cora_blob_exists(f->bs, sha, NULL), 0);
	assert_int_equal(cora_blob_verify(f->bs, sha), CORA_EMISMATCH);
	assert_non_null(strstr(cora_error_last(), sha));
	assert_non_null(strstr(cora_error_last(), "corrupt"));
}

/* ---- refusals ---------------------------------------------------------- */

static void test_expected_digest_mismatch_stores_nothing(void **state)
{
	struct fx *f = *state;
	struct cora_blob_writer *w;
	char src[PATH_MAX], sha[65] = "";

	src_path(src, f, "hello.txt");
	write_file(src, "hello world", 11);
	assert_int_equal(cora_blob_put_file(f->bs, src, EMPTY_SHA, sha, NULL),
			 CORA_EMISMATCH);
	assert_non_null(strstr(cora_error_last(), EMPTY_SHA));
	assert_non_null(strstr(cora_error_last(), HELLO_SHA));
	assert_string_equal(sha, "");

	assert_int_equal(cora_blob_writer_new(f->bs, HELLO_SHA, &w), 0);
	assert_int_equal(cora_blob_writer_write(w, "hello World", 11), 0);
	assert_int_equal(cora_blob_writer_commit(w, sha, NULL), CORA_EMISMATCH);

	assert_int_equal(cora_blob_exists(f->bs, HELLO_SHA, NULL), CORA_ENOTFOUND);
	assert_int_equal(cora_blob_exists(f->bs, EMPTY_SHA, NULL), CORA_ENOTFOUND);
	assert_int_equal(blob_count(f), 0);
	assert_int_equal(tmp_count(f), 0);

	/* A malformed expectation is refused before anything is written. */
	assert_int_equal(cora_blob_put_file(f->bs, src, "B94D", sha, NULL),
			 CORA_EINVALID);
	assert_int_equal(cora_blob_writer_new(f->bs, "zz", &w), CORA_EINVALID);
	assert_null(w);
	assert_int_equal(tmp_count(f), 0);
}

static void test_malformed_and_unknown_digests(void **state)
{
	static const char *const bad[] = {
		"../../../../etc/passwd",
		"B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9",
		"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde",
		"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9/",
		"",
		NULL,
	};
	struct fx *f = *state;
	struct cora_blob_reader *r;
	char buf[4], *path;
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cora_blob_open(f->bs, bad[i], &r), CORA_EINVALID);
		assert_null(r);
		assert_int_equal(cora_blob_read(f->bs, bad[i], buf, 4, 0, &n),
				 CORA_EINVALID);
		assert_int_equal(cora_blob_exists(f->bs, bad[i], NULL), CORA_EINVALID);
		assert_int_equal(cora_blob_delete(f->bs, bad[i]), CORA_EINVALID);
		assert_int_equal(cora_blob_verify(f->bs, bad[i]), CORA_EINVALID);
		assert_int_equal(cora_blob_path(f->bs, bad[i], &path), CORA_EINVALID);
		assert_null(path);
	}

	assert_int_equal(cora_blob_open(f->bs, HELLO_SHA, &r), CORA_ENOTFOUND);
	assert_string_equal(cora_error_last(), "blob '" HELLO_SHA "' not found");
	assert_int_equal(cora_blob_read(f->bs, HELLO_SHA, buf, 4, 0, &n),
			 CORA_ENOTFOUND);
	assert_int_equal(cora_blob_verify(f->bs, HELLO_SHA), CORA_ENOTFOUND);
	assert_int_equal(cora_blob_exists(f->bs, HELLO_SHA, NULL), CORA_ENOTFOUND);
}

static void test_open__refuses_file_root_and_checks_tables(void **state)
{
	struct fx *f = *state;
	struct cora_blobstore *bs, fake;
	char p[PATH_MAX], *path;
	size_t removed;

	src_path(p, f, "plain");
	write_file(p, "x", 1);
	assert_int_equal(cora_blob_local_open(&bs, p), CORA_ENOTDIR);
	assert_null(bs);
	src_path(p, f, "no/such/parent");
	assert_int_equal(cora_blob_local_open(&bs, p), CORA_EIO);
	assert_non_null(strstr(cora_error_last(), "no/such/parent"));
	assert_int_equal(cora_blob_local_open(&bs, ""), CORA_EINVALID);

	/* Another store's table: versions, missing ops, cleanup. */
	fake = *f->bs;
	fake.name = "s3";
	fake.path = NULL;
	assert_int_equal(cora_blob_path(&fake, HELLO_SHA, &path), CORA_EINVALID);
	assert_null(path);
	assert_string_equal(cora_error_last(), "blob store 's3' has no local paths");
	fake.version = CORA_BLOBSTORE_VERSION + 1;
	assert_int_equal(cora_blobstore_check(&fake), CORA_EINVALID);
	assert_int_equal(cora_blobstore_check(NULL), CORA_EINVALID);
	fake.free = NULL;
	assert_int_equal(cora_blob_local_cleanup(&fake, &removed), CORA_EINVALID);
}

/* ---- tmp cleanup -------------------------------------------------------- */

static void test_cleanup__removes_leftovers_not_live_writers(void **state)
{
	struct fx *f = *state;
	struct cora_blob_writer *w;
	char p[PATH_MAX], sha[65];
	size_t removed = 99;

	snprintf(p, sizeof(p), "%.4000s/tmp/put-0123456789abcdef", f->root);
	write_file(p, "half a blo", 10);
	snprintf(p, sizeof(p), "%.4000s/tmp/stray", f->root);
	write_file(p, "x", 1);

	assert_int_equal(cora_blob_writer_new(f->bs, NULL, &w), 0);
	assert_int_equal(cora_blob_writer_write(w, "live", 4), 0);
	assert_int_equal(tmp_count(f), 3);
	assert_int_equal(cora_blob_local_cleanup(f->bs, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(tmp_count(f), 1); /* the live one survives (L6) */
	assert_int_equal(cora_blob_writer_commit(w, sha, NULL), 0);
	assert_int_equal(tmp_count(f), 0);
	assert_int_equal(cora_blob_verify(f->bs, sha), 0);

	/* Reopening cleans up too. */
	snprintf(p, sizeof(p), "%.4000s/tmp/put-fedcba9876543210", f->root);
	write_file(p, "crash", 5);
	cora_blobstore_free(f->bs);
	assert_int_equal(cora_blob_local_open(&f->bs, f->root), 0);
	assert_int_equal(tmp_count(f), 0);
	assert_int_equal(cora_blob_exists(f->bs, sha, NULL), 0);
}

/* A writer in another process, killed mid-put, as kill -9 would. */
static void test_cleanup__writer_killed_in_another_process(void **state)
{
	struct fx *f = *state;
	size_t removed = 99;
	int pipefd[2], status;
	pid_t pid;
	char c;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct cora_blob_writer *w;

		close(pipefd[0]);
		if (cora_blob_writer_new(f->bs, NULL, &w) ||
		    cora_blob_writer_write(w, "unfinished", 10))
			_exit(1);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);

	assert_int_equal(cora_blob_local_cleanup(f->bs, &removed), 0);
	assert_int_equal(removed, 0); /* still writing */
	assert_int_equal(tmp_count(f), 1);

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(cora_blob_local_cleanup(f->bs, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(tmp_count(f), 0);
	assert_int_equal(blob_count(f), 0);
}

/* ---- concurrency --------------------------------------------------------- */

#define THREADS 4
#define ROUNDS 12

struct worker {
	struct fx *f;
	int id;
	int failures;
	char shared_sha[65];
	char own_sha[ROUNDS][65];
	char file_sha[65];
};

static atomic_int cleaners_stop;

static void *put_worker(void *arg)
{
	struct worker *wk = arg;
	char src[PATH_MAX], sha[65];
	uint8_t buf[70000];
	int i;

	src_path(src, wk->f, "shared-file");
	for (i = 0; i < ROUNDS; i++) {
		fill(buf, sizeof(buf), 1000);            /* same for all */
		if (cora_blob_put_buf(wk->f->bs, buf, sizeof(buf), NULL, sha, NULL))
			wk->failures++;
		else
			memcpy(wk->shared_sha, sha, 65);
		fill(buf, sizeof(buf), (uint64_t)(wk->id * 100 + i)); /* own */
		if (cora_blob_put_buf(wk->f->bs, buf, sizeof(buf) - (size_t)i,
				      NULL, wk->own_sha[i], NULL))
			wk->failures++;
		if (cora_blob_put_file(wk->f->bs, src, NULL, wk->file_sha, NULL))
			wk->failures++;
	}
	return NULL;
}

static void *cleaner(void *arg)
{
	struct fx *f = arg;

	while (!atomic_load(&cleaners_stop))
		if (cora_blob_local_cleanup(f->bs, NULL))
			return (void *)1;
	return NULL;
}

static void test_concurrent_puts_same_and_different_content(void **state)
{
	struct fx *f = *state;
	struct worker wk[THREADS];
	pthread_t th[THREADS], cl;
	char src[PATH_MAX], want_shared[65], want_file[65];
	struct seen s = { 0 };
	uint8_t buf[70000];
	void *cl_rc;
	int i, j;

	fill(buf, sizeof(buf), 1000);
	cora_sha256_buf(want_shared, buf, sizeof(buf));
	src_path(src, f, "shared-file");
	write_file(src, "the same file from every thread", 31);
	cora_sha256_buf(want_file, "the same file from every thread", 31);

	/* A cleaner runs all along: it must never take a live tmp (L6). */
	atomic_store(&cleaners_stop, 0);
	assert_int_equal(pthread_create(&cl, NULL, cleaner, f), 0);
	for (i = 0; i < THREADS; i++) {
		memset(&wk[i], 0, sizeof(wk[i]));
		wk[i].f = f;
		wk[i].id = i + 1;
		assert_int_equal(pthread_create(&th[i], NULL, put_worker, &wk[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	atomic_store(&cleaners_stop, 1);
	assert_int_equal(pthread_join(cl, &cl_rc), 0);
	assert_null(cl_rc);

	for (i = 0; i < THREADS; i++) {
		assert_int_equal(wk[i].failures, 0);
		assert_string_equal(wk[i].shared_sha, want_shared);
		assert_string_equal(wk[i].file_sha, want_file);
		for (j = 0; j < ROUNDS; j++)
			assert_int_equal(cora_blob_verify(f->bs, wk[i].own_sha[j]), 0);
	}
	assert_int_equal(cora_blob_verify(f->bs, want_shared), 0);
	assert_int_equal(blob_count(f), 2 + THREADS * ROUNDS);
	assert_int_equal(cora_blob_list(f->bs, collect, &s), 0);
	assert_int_equal(s.n, 2 + THREADS * ROUNDS);
	assert_int_equal(tmp_count(f), 0);
}

/* ---- durability order and fault injection ------------------------------ */

/* L2, observed: fsync(tmp) while the final name is absent, then the
 * rename from that tmp file, then fsync(ab/), then return. */
static void test_put__fsyncs_content_before_name_and_name_before_return(void **state)
{
	struct fx *f = *state;
	char fin[PATH_MAX], folder[PATH_MAX], sha[65], want[65];
	uint8_t buf[5000];

	fill(buf, sizeof(buf), 42);
	cora_sha256_buf(want, buf, sizeof(buf));
	final_path(fin, f, want);
	snprintf(folder, sizeof(folder), "%.4000s/sha256/%.2s", f->root, want);

	trace_start(fin);
	assert_int_equal(cora_blob_put_buf(f->bs, buf, sizeof(buf), NULL, sha,
					   NULL), 0);
	trace_stop();
	assert_string_equal(sha, want);
	assert_int_equal(ntrace, 3);
	assert_int_equal(trace[0].op, 'F');
	assert_non_null(strstr(trace[0].path, "/tmp/put-"));
	assert_false(trace[0].final_visible);
	assert_int_equal(trace[1].op, 'R');
	assert_string_equal(trace[1].from, trace[0].path);
	assert_string_equal(trace[1].path, fin);
	assert_false(trace[1].final_visible);
	assert_int_equal(trace[2].op, 'F');
	assert_string_equal(trace[2].path, folder);
	assert_true(trace[2].final_visible);
}

/* After a failed put: a typed error with a message, no tmp file, and a
 * final file only if the failure came after the rename, in which case it
 * is whole.  Returns whether the final name was visible. */
static bool check_failed_put(const struct fx *f, int rc, bool fired,
			     const char *sha)
{
	char msg[1024];
	size_t removed = 99;
	bool vis;

	snprintf(msg, sizeof(msg), "%s", cora_error_last());
	assert_true(fired);
	assert_true(rc == CORA_EIO || rc == CORA_ENOMEM);
	assert_int_equal(cora_error_code(), rc);
	assert_true(msg[0] != '\0');
	if (rc == CORA_EIO)
		assert_non_null(strstr(msg, f->root));
	assert_int_equal(tmp_count(f), 0);
	assert_int_equal(cora_blob_local_cleanup(f->bs, &removed), 0);
	assert_int_equal(removed, 0);

	vis = visible(f, sha);
	if (strstr(msg, "cannot fsync folder")) {
		/* Past the rename: whole, read-only, merely not known
		 * to be durable; the caller got an error and names it
		 * nowhere. */
		assert_true(vis);
		assert_int_equal(cora_blob_verify(f->bs, sha), 0);
	} else {
		/* Including a failed fsync of the content: the name
		 * never appeared (L1, L2). */
		assert_false(vis);
	}
	return vis;
}

static void test_put_file__every_fault_point_fails_cleanly(void **state)
{
	struct fx *f = *state;
	char src[PATH_MAX], sha[65], want[65];
	size_t total = 3 * 1048576 + 12345;
	bool was_visible = false, vis, fired;
	uint64_t points, n;
	uint8_t *buf;
	int rc;

	buf = malloc(total);
	assert_non_null(buf);
	fill(buf, total, 9);
	cora_sha256_buf(want, buf, total);
	src_path(src, f, "faulty");
	write_file(src, buf, total);
	free(buf);

	cora_fault_sim(0);
	assert_int_equal(cora_blob_put_file(f->bs, src, want, sha, NULL), 0);
	points = cora_fault_points();
	assert_true(points >= 8); /* 2 allocs, create, 4 writes, 2 fsyncs, rename */
	assert_int_equal(cora_blob_delete(f->bs, want), 0);

	for (n = 1; n <= points; n++) {
		cora_fault_sim(n);
		rc = cora_blob_put_file(f->bs, src, want, sha, NULL);
		fired = cora_fault_fired();
		cora_fault_sim(0);
		assert_int_not_equal(rc, 0);
		vis = check_failed_put(f, rc, fired, want);
		/* Once visible, every later point is visible too: the
		 * rename is the last step but one. */
		assert_true(vis || !was_visible);
		was_visible = vis;
		if (vis)
			assert_int_equal(cora_blob_delete(f->bs, want), 0);
	}
	assert_true(was_visible); /* the last point is the folder fsync */
	cora_fault_sim(points + 1);
	assert_int_equal(cora_blob_put_file(f->bs, src, want, sha, NULL), 0);
	assert_false(cora_fault_fired());
	cora_fault_sim(0);
	assert_int_equal(cora_blob_verify(f->bs, want), 0);
	assert_int_equal(blob_count(f), 1);
}

static int stream_put(struct cora_blobstore *bs, const uint8_t *buf,
		      size_t total, char sha[65])
{
	static const size_t chunks[] = { 100, 50000, 200000, 30000 };
	struct cora_blob_writer *w;
	size_t off = 0, i = 0, n;
	int rc, again;

	rc = cora_blob_writer_new(bs, NULL, &w);
	if (rc)
		return rc;
	while (off < total) {
		n = chunks[i++ % 4];
		if (n > total - off)
			n = total - off;
		rc = cora_blob_writer_write(w, buf + off, n);
		if (rc) {
			/* Poisoned: the same code again, then commit. */
			again = cora_blob_writer_write(w, buf, 1);
			assert_int_equal(again, rc);
			return cora_blob_writer_commit(w, sha, NULL);
		}
		off += n;
	}
	return cora_blob_writer_commit(w, sha, NULL);
}

static void test_writer__every_fault_point_fails_cleanly(void **state)
{
	struct fx *f = *state;
	size_t total = 600000;
	char sha[65], want[65];
	bool was_visible = false, vis, fired;
	uint64_t points, n;
	uint8_t *buf;
	int rc;

	buf = malloc(total);
	assert_non_null(buf);
	fill(buf, total, 11);
	cora_sha256_buf(want, buf, total);

	cora_fault_sim(0);
	assert_int_equal(stream_put(f->bs, buf, total, sha), 0);
	points = cora_fault_points();
	assert_true(points >= 6);
	assert_int_equal(cora_blob_delete(f->bs, want), 0);

	for (n = 1; n <= points; n++) {
		cora_fault_sim(n);
		rc = stream_put(f->bs, buf, total, sha);
		fired = cora_fault_fired();
		cora_fault_sim(0);
		assert_int_not_equal(rc, 0);
		vis = check_failed_put(f, rc, fired, want);
		assert_true(vis || !was_visible);
		was_visible = vis;
		if (vis)
			assert_int_equal(cora_blob_delete(f->bs, want), 0);
	}
	assert_true(was_visible);
	assert_int_equal(stream_put(f->bs, buf, total, sha), 0);
	assert_string_equal(sha, want);
	free(buf);
}

static void test_dedup_put__every_fault_point_keeps_existing_blob(void **state)
{
	struct fx *f = *state;
	char sha[65], want[65];
	uint64_t points, n;
	uint8_t buf[300000];
	int rc;

	fill(buf, sizeof(buf), 5);
	assert_int_equal(cora_blob_put_buf(f->bs, buf, sizeof(buf), NULL, want,
					   NULL), 0);
	cora_fault_sim(0);
	assert_int_equal(cora_blob_put_buf(f->bs, buf, sizeof(buf), NULL, sha,
					   NULL), 0);
	points = cora_fault_points();
	assert_true(points >= 4); /* alloc, create, write, folder fsync */
	for (n = 1; n <= points; n++) {
		cora_fault_sim(n);
		rc = cora_blob_put_buf(f->bs, buf, sizeof(buf), NULL, sha, NULL);
		assert_true(cora_fault_fired());
		cora_fault_sim(0);
		assert_true(rc == CORA_EIO || rc == CORA_ENOMEM);
		assert_int_equal(tmp_count(f), 0);
		assert_int_equal(cora_blob_verify(f->bs, want), 0);
	}
	assert_int_equal(blob_count(f), 1);
}

static void test_open_and_read_ops__every_fault_point_fails_cleanly(void **state)
{
	struct fx *f = *state;
	struct cora_blobstore *bs;
	struct cora_blob_reader *r;
	char root[PATH_MAX], sha[65], *path;
	uint64_t points, n;
	int rc;

	/* Creating a store: allocations and the folder fsyncs. */
	src_path(root, f, "fresh");
	cora_fault_sim(0);
	assert_int_equal(cora_blob_local_open(&bs, root), 0);
	points = cora_fault_points();
	assert_true(points >= 4);
	cora_blobstore_free(bs);
	for (n = 1; n <= points; n++) {
		rm_rf(root);
		cora_fault_sim(n);
		rc = cora_blob_local_open(&bs, root);
		cora_fault_sim(0);
		assert_true(rc == CORA_EIO || rc == CORA_ENOMEM);
		assert_null(bs);
	}
	assert_int_equal(cora_blob_local_open(&bs, root), 0);
	cora_blobstore_free(bs);

	/* Reading: open, verify, path, delete. */
	assert_int_equal(cora_blob_put_buf(f->bs, "abc", 3, NULL, sha, NULL), 0);
	cora_fault_sim(0);
	assert_int_equal(cora_blob_open(f->bs, sha, &r), 0);
	cora_blob_reader_close(r);
	assert_int_equal(cora_blob_verify(f->bs, sha), 0);
	assert_int_equal(cora_blob_path(f->bs, sha, &path), 0);
	free(path);
	points = cora_fault_points();
	assert_int_equal(points, 3);
	for (n = 1; n <= points; n++) {
		cora_fault_sim(n);
		rc = cora_blob_open(f->bs, sha, &r);
		if (rc == 0)
			cora_blob_reader_close(r);
		else
			assert_null(r);
		if (rc == 0)
			rc = cora_blob_verify(f->bs, sha);
		if (rc == 0) {
			rc = cora_blob_path(f->bs, sha, &path);
			free(path);
		}
		cora_fault_sim(0);
		assert_int_equal(rc, CORA_ENOMEM);
	}
	for (n = 1; n <= 2; n++) {
		cora_fault_sim(n);
		rc = cora_blob_delete(f->bs, sha);
		cora_fault_sim(0);
		assert_int_equal(rc, CORA_EIO);
		/* The unlink failed (blob kept) or the fsync did (gone). */
		assert_int_equal(cora_blob_exists(f->bs, sha, NULL),
				 n == 1 ? 0 : CORA_ENOTFOUND);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_put_file__layout_mode_and_digest),
		T(test_put_file__refuses_missing_and_folder),
		T(test_writer__chunks_of_every_size_match_put_file),
		T(test_writer__abort_leaves_nothing),
		T(test_put__dedup_keeps_one_file),
		T(test_put__replaces_truncated_blob),
		T(test_put__remakes_missing_folder),
		T(test_exists_read_range_and_reader),
		T(test_short_writes_and_eintr_are_retried),
		T(test_empty_blob),
		T(test_big_blob_20mib),
		T(test_delete__removes_and_reports_missing),
		T(test_list__every_blob_once_ignoring_strays),
		T(test_verify__detects_flipped_byte),
		T(test_expected_digest_mismatch_stores_nothing),
		T(test_malformed_and_unknown_digests),
		T(test_open__refuses_file_root_and_checks_tables),
		T(test_cleanup__removes_leftovers_not_live_writers),
		T(test_cleanup__writer_killed_in_another_process),
		T(test_concurrent_puts_same_and_different_content),
		T(test_put__fsyncs_content_before_name_and_name_before_return),
		T(test_put_file__every_fault_point_fails_cleanly),
		T(test_writer__every_fault_point_fails_cleanly),
		T(test_dedup_put__every_fault_point_keeps_existing_blob),
		T(test_open_and_read_ops__every_fault_point_fails_cleanly),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}

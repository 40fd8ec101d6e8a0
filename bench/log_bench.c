/* bench/log_bench.c: `tern-bench log`, the storage engine's append and read
 * throughput, each figure beside a plain-syscall baseline measured in the
 * same run, interleaved with it so that drift of a noisy machine hits both. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "log/log.h"

#define MIB	    ((size_t)1 << 20)
#define DEFAULT_MIB 256
#define QUICK_MIB   32
#define MAX_MIB	    65536

/* Every figure is the median of RUNS runs; in each run the log and its
 * baseline go one after the other, in the opposite order the next run. */
#define RUNS 3

/* 1 KiB records: 1000-byte values plus 9-10 bytes of record framing, so
 * that 16 of them fit a 16 KiB batch and 1024 of them fit message.max.bytes'
 * 1 MiB. */
#define VALUE_BYTES 1000

/* Distinct batches built up front and cycled: more than the CPU caches
 * hold, so every copy reads its source from memory as a producer's would. */
#define DISTINCT_BYTES (8 * MIB)

/* Group commit: appends kept in flight under flush.policy=sync. */
#define SYNC_WINDOW_BYTES (16 * MIB)

#define READ_BYTES  MIB /* log_read's max_bytes and the baseline's pread size */
#define READ_PASSES 4	/* timed passes over the log per run, after a warm-up */

#define EPOCH	     0		      /* the leader epoch of every append */
#define WAIT_MS	     (10 * 60 * 1000) /* bound on any single wait */
#define IO_TRIES     1000	      /* bound on the pieces of one pwrite or pread */
#define MAX_SEGMENTS 4096

#define LOG_SUBDIR  "log"      /* DIR/log: the log_dir */
#define BASE_SUBDIR "baseline" /* DIR/baseline: the baselines' files */

#define GOAL_ASYNC_RATIO 0.90
#define GOAL_SYNC_RATIO	 0.70
#define GOAL_READ_MBPS	 1500.0

/* One batch shape. */
typedef struct shape {
	const char *key; /* in JSON keys and log names */
	const char *label;
	int records;	/* per batch */
	size_t nominal; /* nominal batch size */
} shape_t;

static const shape_t shapes[] = {
    {"16k", "16 KiB", 16, 16 << 10},
    {"1m", "1 MiB", 1024, 1 << 20},
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

/* The batches of one shape and the run they make. */
typedef struct batch_set {
	uint8_t **buf; /* n batches, malloc()ed by the builder */
	size_t *len;
	size_t n;
	int records;	   /* per batch */
	size_t count;	   /* batches per run, buf[i % n] for the i-th */
	uint64_t bytes;	   /* bytes per run */
	size_t sync_every; /* the sync baseline's batches per fdatasync (1 MiB) */
} batch_set_t;

/* What a figure's runs moved and took. */
typedef struct figure {
	char key[48];	   /* JSON: <key>_mbps, <key>_rps, ratio_<key> */
	char base_key[48]; /* JSON: <base_key>_mbps, <base_key>_rps */
	char label[48];
	const char *base_label;
	double goal_ratio;	 /* 0: none */
	double goal_mbps;	 /* 0: none */
	uint64_t bytes, records; /* per run */
	double log_s[RUNS], base_s[RUNS];
} figure_t;

/* Figures: three per shape, then the read. */
enum { FIG_ASYNC, FIG_ASYNC_FLUSHED, FIG_SYNC, FIGS_PER_SHAPE };
#define FIG_READ (NSHAPES * FIGS_PER_SHAPE)
#define NFIGS	 (FIG_READ + 1)

/* Appends in flight under flush.policy=sync. The log's writer thread
 * completes them (window_done) while the main thread appends; both take
 * mu only. Invariant: inflight counts appends accepted by log_append whose
 * callback has not run. */
typedef struct window {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t inflight;
	tern_err_t err; /* the first failed completion */
} window_t;

typedef struct bench {
	char logdir[PATH_MAX];	/* DIR/LOG_SUBDIR */
	char basedir[PATH_MAX]; /* DIR/BASE_SUBDIR */
	unsigned mib;
	bool made_dirs; /* the subdirectories are this run's, to remove at exit */
	log_dir_t *d;
	window_t win; /* outlives every log, whose callbacks point at it */
	batch_set_t sets[NSHAPES];
	figure_t fig[NFIGS];
	char err[1024]; /* why the run failed */
} bench_t;

static tern_err_t fail(bench_t *b, tern_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records why the run fails: what was being done, then err's text. */
static tern_err_t fail(bench_t *b, tern_err_t err, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(b->err, sizeof b->err, "%s: %s", what, tern_strerror(err));
	return err;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------ */
/* Files and directories                                                      */

/* out = dir/name, or an error when it does not fit. */
static tern_err_t path_join(bench_t *b, char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len)
		return fail(b, TERN_ERR__INVALID_ARG, "path %s/%s is too long", dir, name);
	return TERN_OK;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

/* Removes the tree at path (symbolic links are removed, not followed). */
static tern_err_t rm_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? TERN_OK : tern_err_errno(errno);
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return tern_err_errno(errno);
	return TERN_OK;
}

/* mkdir -p. */
static tern_err_t make_dirs(const char *path)
{
	char p[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof p)
		return TERN_ERR__INVALID_ARG;
	memcpy(p, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return tern_err_errno(errno);
		p[i] = path[i];
	}
	return TERN_OK;
}

static tern_err_t pwrite_all(int fd, const uint8_t *buf, size_t len, off_t off)
{
	for (int i = 0; len; i++) {
		ssize_t n;

		if (i == IO_TRIES)
			return tern_err_errno(EIO);
		n = pwrite(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tern_err_errno(errno);
		if (n == 0)
			return tern_err_errno(EIO);
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                    */

static void set_free(batch_set_t *s)
{
	for (size_t i = 0; i < s->n && s->buf; i++)
		free(s->buf[i]);
	free(s->buf);
	free(s->len);
	memset(s, 0, sizeof *s);
}

/* Builds the distinct batches of one shape: uncompressed, null keys,
 * pseudo-random values, one timestamp. */
static tern_err_t set_build(bench_t *b, const shape_t *sh, batch_set_t *s)
{
	log_batch_builder_t *bld = NULL;
	uint8_t value[VALUE_BYTES];
	uint64_t rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)sh->records;
	uint64_t target = (uint64_t)b->mib * MIB;
	struct timespec now;
	int64_t ts;
	tern_err_t err;

	clock_gettime(CLOCK_REALTIME, &now);
	ts = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	s->n = DISTINCT_BYTES / sh->nominal;
	s->records = sh->records;
	s->sync_every = MIB / sh->nominal;
	s->buf = calloc(s->n, sizeof *s->buf);
	s->len = calloc(s->n, sizeof *s->len);
	if (!s->buf || !s->len)
		return fail(b, TERN_ERR__NOMEM, "allocating the %s batches", sh->label);
	err = log_batch_builder_new(NULL, &bld);
	if (err)
		return fail(b, err, "log_batch_builder_new");
	for (size_t i = 0; i < s->n; i++) {
		for (int r = 0; r < sh->records; r++) {
			for (size_t k = 0; k + 8 <= sizeof value; k += 8) {
				rng ^= rng << 13;
				rng ^= rng >> 7;
				rng ^= rng << 17;
				memcpy(value + k, &rng, 8);
			}
			err = log_batch_builder_add(bld, ts, NULL, 0, value, sizeof value, NULL, 0);
			if (err) {
				fail(b, err, "log_batch_builder_add");
				goto out;
			}
		}
		err = log_batch_builder_finish(bld, &s->buf[i], &s->len[i]);
		if (err) {
			fail(b, err, "log_batch_builder_finish");
			goto out;
		}
	}
	/* The same bytes for the log and its baseline: whole batches, about
	 * --mib MiB. */
	for (s->count = 0; s->bytes < target; s->count++)
		s->bytes += s->len[s->count % s->n];
out:
	log_batch_builder_free(bld);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Baselines: plain system calls on a file of their own                      */

static tern_err_t base_open(bench_t *b, const char *name, int *fd, char *path, size_t plen)
{
	tern_err_t err = path_join(b, path, plen, b->basedir, name);

	if (err)
		return err;
	*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (*fd < 0)
		return fail(b, tern_err_errno(errno), "open %s", path);
	return TERN_OK;
}

static void base_close(int fd, const char *path)
{
	close(fd);
	unlink(path);
}

/* A pwrite per batch, no fsync (*written_s), then one fdatasync
 * (*flushed_s, from the same start). */
static tern_err_t base_async(bench_t *b, const batch_set_t *s, double *written_s, double *flushed_s)
{
	char path[PATH_MAX];
	off_t off = 0;
	double t0;
	tern_err_t err;
	int fd;

	err = base_open(b, "buffered", &fd, path, sizeof path);
	if (err)
		return err;
	t0 = now_s();
	for (size_t i = 0; i < s->count; i++) {
		size_t k = i % s->n;

		err = pwrite_all(fd, s->buf[k], s->len[k], off);
		if (err) {
			fail(b, err, "pwrite %s", path);
			goto out;
		}
		off += (off_t)s->len[k];
	}
	*written_s = now_s() - t0;
	if (fdatasync(fd) < 0) {
		err = fail(b, tern_err_errno(errno), "fdatasync %s", path);
		goto out;
	}
	*flushed_s = now_s() - t0;
out:
	base_close(fd, path);
	return err;
}

/* A pwrite per batch and an fdatasync after every MiB of batches (and
 * after the last). */
static tern_err_t base_sync(bench_t *b, const batch_set_t *s, double *secs)
{
	char path[PATH_MAX];
	off_t off = 0;
	double t0;
	tern_err_t err;
	int fd;

	err = base_open(b, "fdatasync", &fd, path, sizeof path);
	if (err)
		return err;
	t0 = now_s();
	for (size_t i = 0; i < s->count; i++) {
		size_t k = i % s->n;

		err = pwrite_all(fd, s->buf[k], s->len[k], off);
		if (err) {
			fail(b, err, "pwrite %s", path);
			goto out;
		}
		off += (off_t)s->len[k];
		if (((i + 1) % s->sync_every == 0 || i + 1 == s->count) && fdatasync(fd) < 0) {
			err = fail(b, tern_err_errno(errno), "fdatasync %s", path);
			goto out;
		}
	}
	*secs = now_s() - t0;
out:
	base_close(fd, path);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .log files of one partition directory, in offset order (their names
 * are zero-padded base offsets). */
static tern_err_t list_segments(bench_t *b, const char *name, char ***out, size_t *n)
{
	char dir[PATH_MAX];
	char **paths = NULL;
	struct dirent *de;
	size_t cnt = 0;
	tern_err_t err;
	DIR *dh;

	err = path_join(b, dir, sizeof dir, b->logdir, name);
	if (err)
		return err;
	dh = opendir(dir);
	if (!dh)
		return fail(b, tern_err_errno(errno), "opendir %s", dir);
	paths = calloc(MAX_SEGMENTS, sizeof *paths);
	if (!paths) {
		err = fail(b, TERN_ERR__NOMEM, "listing %s", dir);
		goto out;
	}
	while ((de = readdir(dh))) {
		size_t len = strlen(de->d_name);

		if (len < 4 || strcmp(de->d_name + len - 4, ".log") != 0)
			continue;
		if (cnt == MAX_SEGMENTS) {
			err = fail(b, TERN_ERR__INVALID_ARG, "%s holds more than %d segments", dir,
				   MAX_SEGMENTS);
			goto out;
		}
		if (asprintf(&paths[cnt], "%s/%s", dir, de->d_name) < 0) {
			paths[cnt] = NULL;
			err = fail(b, TERN_ERR__NOMEM, "listing %s", dir);
			goto out;
		}
		cnt++;
	}
	qsort(paths, cnt, sizeof *paths, cmp_str);
	*out = paths;
	*n = cnt;
	paths = NULL;
out:
	for (size_t i = 0; paths && i < cnt; i++)
		free(paths[i]);
	free(paths);
	closedir(dh);
	return err;
}

/* One pass of pread over the files, READ_BYTES at a time, into one
 * buffer; *bytes gets what was read. */
static tern_err_t base_read_pass(bench_t *b, char **paths, size_t n, uint8_t *buf, uint64_t *bytes)
{
	*bytes = 0;
	for (size_t i = 0; i < n; i++) {
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		struct stat st;
		off_t off = 0;
		tern_err_t err = TERN_OK;

		if (fd < 0)
			return fail(b, tern_err_errno(errno), "open %s", paths[i]);
		if (fstat(fd, &st) < 0)
			err = fail(b, tern_err_errno(errno), "fstat %s", paths[i]);
		/* A cached regular file gives whole chunks; a short read shows
		 * up as a byte count that does not match. */
		for (off_t k = 0; !err && off < st.st_size && k <= st.st_size / (off_t)READ_BYTES;
		     k++) {
			ssize_t got = pread(fd, buf, READ_BYTES, off);

			if (got < 0)
				err = fail(b, tern_err_errno(errno), "pread %s", paths[i]);
			else if (got == 0)
				break;
			else
				off += got;
		}
		close(fd);
		if (err)
			return err;
		*bytes += (uint64_t)off;
	}
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* The log                                                                    */

/* Opens a log of its own for one run. */
static tern_err_t log_start(bench_t *b, const char *name, log_flush_policy_t policy, log_t **out)
{
	log_config_t cfg;
	char why[512] = "";
	tern_err_t err;

	log_config_default(&cfg);
	cfg.flush_policy = policy;
	err = log_open(b->d, name, &cfg, out, why, sizeof why);
	if (err)
		return fail(b, err, "log_open %s%s%s", name, *why ? ": " : "", why);
	/* A new leader enters its epoch before it takes appends, so the
	 * appends never rewrite the leader-epoch checkpoint while timed. */
	err = log_assign_epoch(*out, EPOCH, 0);
	if (err) {
		log_delete(*out);
		*out = NULL;
		return fail(b, err, "log_assign_epoch %s", name);
	}
	return TERN_OK;
}

/* Deletes a run's log. err is the run's result so far, kept when set. */
static tern_err_t log_finish(bench_t *b, log_t *l, const char *name, tern_err_t err)
{
	tern_err_t derr;

	if (!l)
		return err;
	derr = log_delete(l);
	if (derr && !err)
		err = fail(b, derr, "log_delete %s", name);
	return err;
}

/* Appends every batch without a callback until the log has written them
 * all (*written_s: log_wait_end), then forces an fsync (*flushed_s:
 * log_flush, from the same start). */
static tern_err_t log_async(bench_t *b, log_t *l, const batch_set_t *s, double *written_s,
			    double *flushed_s)
{
	log_append_info_t info = {0};
	tern_err_t err;
	double t0;

	t0 = now_s();
	for (size_t i = 0; i < s->count; i++) {
		size_t k = i % s->n;

		err = log_append(l, s->buf[k], s->len[k], EPOCH, LOG_APPEND_ASSIGN_OFFSETS, &info,
				 NULL, NULL);
		if (err)
			return fail(b, err, "log_append of batch %zu", i);
	}
	err = log_wait_end(l, info.last_offset + 1, WAIT_MS);
	if (err)
		return fail(b, err, "log_wait_end(%lld)", (long long)info.last_offset + 1);
	*written_s = now_s() - t0;
	err = log_flush(l);
	if (err)
		return fail(b, err, "log_flush");
	*flushed_s = now_s() - t0;
	return TERN_OK;
}

/* log_append_cb: runs on the log's writer thread; takes w->mu only. */
static void window_done(void *opaque, tern_err_t err, int64_t base_offset, int64_t last_offset)
{
	window_t *w = opaque;

	pthread_mutex_lock(&w->mu);
	w->inflight--;
	if (err && !w->err)
		w->err = err;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Waits until at most max appends are in flight (or one has failed, or
 * WAIT_MS passed). Main thread; takes w->mu. */
static tern_err_t window_wait(window_t *w, size_t max)
{
	struct timespec dl;
	tern_err_t err = TERN_OK;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&w->mu);
	while (w->inflight > max && !w->err) {
		if (pthread_cond_timedwait(&w->cv, &w->mu, &dl) == ETIMEDOUT) {
			err = TERN_ERR__TIMED_OUT;
			break;
		}
	}
	if (!err)
		err = w->err;
	pthread_mutex_unlock(&w->mu);
	return err;
}

/* Group commit: appends with a callback, at most SYNC_WINDOW_BYTES in
 * flight, until the last one is durable (log_wait_durable). */
static tern_err_t log_sync(bench_t *b, log_t *l, const batch_set_t *s, double *secs)
{
	window_t *w = &b->win;
	size_t cap = SYNC_WINDOW_BYTES / s->len[0];
	log_append_info_t info = {0};
	tern_err_t err;
	double t0;

	if (cap == 0)
		cap = 1;
	w->inflight = 0;
	w->err = TERN_OK;
	t0 = now_s();
	for (size_t i = 0; i < s->count; i++) {
		size_t k = i % s->n;

		err = window_wait(w, cap - 1);
		if (err)
			return fail(b, err, "waiting for appends in flight");
		pthread_mutex_lock(&w->mu);
		w->inflight++;
		pthread_mutex_unlock(&w->mu);
		err = log_append(l, s->buf[k], s->len[k], EPOCH, LOG_APPEND_ASSIGN_OFFSETS, &info,
				 window_done, w);
		if (err) {
			pthread_mutex_lock(&w->mu);
			w->inflight--;
			pthread_mutex_unlock(&w->mu);
			return fail(b, err, "log_append of batch %zu", i);
		}
	}
	err = log_wait_durable(l, info.last_offset + 1, WAIT_MS);
	if (err)
		return fail(b, err, "log_wait_durable(%lld)", (long long)info.last_offset + 1);
	*secs = now_s() - t0;
	/* The last callbacks run just after the offsets become durable. */
	err = window_wait(w, 0);
	return err ? fail(b, err, "the appends' completions") : TERN_OK;
}

/* One pass of log_read over the whole log; *bytes gets what it returned. */
static tern_err_t log_read_pass(bench_t *b, log_t *l, const batch_set_t *s, uint64_t *bytes)
{
	int64_t off = log_start_offset(l), end = log_end_offset(l);
	char why[512] = "";

	*bytes = 0;
	/* Every call returns at least one batch. */
	for (size_t i = 0; off < end; i++) {
		log_read_result_t rr;
		tern_err_t err;

		if (i > s->count)
			return fail(b, TERN_ERR__STATE, "log_read: no end after %zu calls", i);
		err = log_read(l, off, READ_BYTES, INT64_MAX, &rr, why, sizeof why);
		if (err)
			return fail(b, err, "log_read(%lld)%s%s", (long long)off, *why ? ": " : "",
				    why);
		free(rr.buf);
		if (!rr.len || rr.next_offset <= off)
			return fail(b, TERN_ERR__STATE, "log_read(%lld) returned nothing",
				    (long long)off);
		*bytes += rr.len;
		off = rr.next_offset;
	}
	return TERN_OK;
}

/* ------------------------------------------------------------------------ */
/* Runs                                                                       */

/* Whether the k-th (0 or 1) of a run's pair is the log: the order flips
 * from one run to the next. */
static bool log_turn(int run, int k)
{
	return (k == 1) != (run % 2 == 1);
}

/* The page-cache-hot read: one pass of each untimed, then READ_PASSES of
 * each, alternating. */
static tern_err_t run_read(bench_t *b, log_t *l, const char *name, const batch_set_t *s, int run)
{
	figure_t *f = &b->fig[FIG_READ];
	char **paths = NULL;
	uint8_t *buf = NULL;
	uint64_t got;
	size_t n = 0;
	tern_err_t err;

	err = list_segments(b, name, &paths, &n);
	if (err)
		return err;
	buf = malloc(READ_BYTES);
	if (!buf) {
		err = fail(b, TERN_ERR__NOMEM, "allocating the read buffer");
		goto out;
	}
	f->log_s[run] = f->base_s[run] = 0;
	for (int pass = -1; pass < READ_PASSES; pass++) {
		for (int k = 0; k < 2; k++) {
			bool is_log = log_turn(run, k);
			double t0 = now_s();

			err = is_log ? log_read_pass(b, l, s, &got)
				     : base_read_pass(b, paths, n, buf, &got);
			if (err)
				goto out;
			if (got != s->bytes) {
				err = fail(b, TERN_ERR__STATE, "%s read %llu bytes of %llu",
					   is_log ? "log_read" : "pread", (unsigned long long)got,
					   (unsigned long long)s->bytes);
				goto out;
			}
			if (pass >= 0)
				*(is_log ? &f->log_s[run] : &f->base_s[run]) += now_s() - t0;
		}
	}
out:
	free(buf);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return err;
}

/* One run of one shape: async pair (then the read on the 16 KiB log), sync
 * pair. */
static tern_err_t run_shape(bench_t *b, size_t si, int run)
{
	const shape_t *sh = &shapes[si];
	const batch_set_t *s = &b->sets[si];
	figure_t *fa = &b->fig[si * FIGS_PER_SHAPE + FIG_ASYNC];
	figure_t *ff = &b->fig[si * FIGS_PER_SHAPE + FIG_ASYNC_FLUSHED];
	figure_t *fs = &b->fig[si * FIGS_PER_SHAPE + FIG_SYNC];
	char name[64];
	log_t *l = NULL;
	tern_err_t err;

	snprintf(name, sizeof name, "async%s-%d", sh->key, run);
	err = log_start(b, name, LOG_FLUSH_ASYNC, &l);
	for (int k = 0; k < 2 && !err; k++)
		err = log_turn(run, k) ? log_async(b, l, s, &fa->log_s[run], &ff->log_s[run])
				       : base_async(b, s, &fa->base_s[run], &ff->base_s[run]);
	if (!err && si == 0)
		err = run_read(b, l, name, s, run);
	err = log_finish(b, l, name, err);
	if (err)
		return err;

	snprintf(name, sizeof name, "sync%s-%d", sh->key, run);
	l = NULL;
	err = log_start(b, name, LOG_FLUSH_SYNC, &l);
	for (int k = 0; k < 2 && !err; k++)
		err = log_turn(run, k) ? log_sync(b, l, s, &fs->log_s[run])
				       : base_sync(b, s, &fs->base_s[run]);
	return log_finish(b, l, name, err);
}

/* ------------------------------------------------------------------------ */
/* Figures                                                                    */

static void figures_init(bench_t *b)
{
	static const struct {
		const char *key, *base_key, *label, *suffix, *base_label;
		double goal_ratio;
	} kinds[FIGS_PER_SHAPE] = {
	    [FIG_ASYNC] = {"append_async", "baseline_buffered", "append async", ", written",
			   "pwrite", GOAL_ASYNC_RATIO},
	    [FIG_ASYNC_FLUSHED] = {"append_async_flushed", "baseline_buffered_fdatasync",
				   "append async", ", +log_flush", "pwrite, +fdatasync", 0},
	    [FIG_SYNC] = {"append_sync", "baseline_fdatasync_per_mib", "append sync", "",
			  "pwrite, fdatasync/MiB", GOAL_SYNC_RATIO},
	};
	figure_t *f;

	for (size_t si = 0; si < NSHAPES; si++) {
		const batch_set_t *s = &b->sets[si];

		for (size_t k = 0; k < FIGS_PER_SHAPE; k++) {
			f = &b->fig[si * FIGS_PER_SHAPE + k];
			snprintf(f->key, sizeof f->key, "%s_%s", kinds[k].key, shapes[si].key);
			snprintf(f->base_key, sizeof f->base_key, "%s_%s", kinds[k].base_key,
				 shapes[si].key);
			snprintf(f->label, sizeof f->label, "%s %s%s", kinds[k].label,
				 shapes[si].label, kinds[k].suffix);
			f->base_label = kinds[k].base_label;
			f->goal_ratio = kinds[k].goal_ratio;
			f->bytes = s->bytes;
			f->records = (uint64_t)s->count * (uint64_t)s->records;
		}
	}
	f = &b->fig[FIG_READ];
	snprintf(f->key, sizeof f->key, "read");
	snprintf(f->base_key, sizeof f->base_key, "baseline_read");
	snprintf(f->label, sizeof f->label, "read %s batches, cached", shapes[0].label);
	f->base_label = "pread 1 MiB";
	f->goal_mbps = GOAL_READ_MBPS;
	f->bytes = READ_PASSES * b->sets[0].bytes;
	f->records = READ_PASSES * (uint64_t)b->sets[0].count * (uint64_t)b->sets[0].records;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, size_t n)
{
	double s[RUNS];

	memcpy(s, v, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Medians over the runs; the ratio is the median of the runs' own ratios,
 * each taken between a log run and the baseline run beside it. */
typedef struct summary {
	double mbps, rps, base_mbps, base_rps, ratio;
	bool met;
} summary_t;

static summary_t summarize(const figure_t *f)
{
	double mbps[RUNS], rps[RUNS], bmbps[RUNS], brps[RUNS], ratio[RUNS];
	summary_t r;

	for (int i = 0; i < RUNS; i++) {
		mbps[i] = (double)f->bytes / f->log_s[i] / 1e6;
		rps[i] = (double)f->records / f->log_s[i];
		bmbps[i] = (double)f->bytes / f->base_s[i] / 1e6;
		brps[i] = (double)f->records / f->base_s[i];
		ratio[i] = f->base_s[i] / f->log_s[i];
	}
	r.mbps = median(mbps, RUNS);
	r.rps = median(rps, RUNS);
	r.base_mbps = median(bmbps, RUNS);
	r.base_rps = median(brps, RUNS);
	r.ratio = median(ratio, RUNS);
	r.met = (!f->goal_ratio || r.ratio >= f->goal_ratio) &&
		(!f->goal_mbps || r.mbps >= f->goal_mbps);
	return r;
}

static void report(const bench_t *b, bool json)
{
	summary_t sum[NFIGS];
	bool all_met = true;

	for (size_t i = 0; i < NFIGS; i++) {
		sum[i] = summarize(&b->fig[i]);
		all_met = all_met && sum[i].met;
	}
	printf("tern-bench log: %u MiB per case, median of %d runs, each interleaved with its "
	       "baseline\n",
	       b->mib, RUNS);
	printf("records of %d-byte values; batches of 16 (%zu B) and 1024 (%zu B); "
	       "MB = 10^6 bytes of batches\n\n",
	       VALUE_BYTES, b->sets[0].len[0], b->sets[1].len[0]);
	printf("%-36s %11s %9s   %-22s %11s %9s %7s   %s\n", "figure", "records/s", "MB/s",
	       "baseline", "records/s", "MB/s", "ratio", "goal");
	for (size_t i = 0; i < NFIGS; i++) {
		const figure_t *f = &b->fig[i];
		const summary_t *r = &sum[i];
		char goal[64] = "-";

		if (f->goal_ratio)
			snprintf(goal, sizeof goal, "ratio >= %.2f: %s", f->goal_ratio,
				 r->met ? "met" : "MISSED");
		else if (f->goal_mbps)
			snprintf(goal, sizeof goal, ">= %.0f MB/s: %s", f->goal_mbps,
				 r->met ? "met" : "MISSED");
		printf("%-36s %11.0f %9.1f   %-22s %11.0f %9.1f %7.3f   %s\n", f->label, r->rps,
		       r->mbps, f->base_label, r->base_rps, r->base_mbps, r->ratio, goal);
	}
	printf("\nwhat is timed:\n"
	       "  async, written     log_append of every batch (flush.policy=async, no callback)\n"
	       "                     until log_wait_end of the last offset; baseline: the pwrite "
	       "loop\n"
	       "  async, +log_flush  the same plus one final log_flush; baseline: plus one "
	       "fdatasync\n"
	       "  sync               log_append with a callback (flush.policy=sync), at most %zu "
	       "MiB in\n"
	       "                     flight, until log_wait_durable of the last offset; baseline: "
	       "pwrite,\n"
	       "                     fdatasync after every MiB\n"
	       "  read               log_read(offset, 1 MiB) over the whole async 16 KiB log "
	       "(every batch\n"
	       "                     CRC-checked), %d passes after a warm-up; baseline: pread of "
	       "its segment\n"
	       "                     file(s) in 1 MiB chunks\n"
	       "log settings: 1 writer thread, segment.bytes 1 GiB, flush.ms 1000 (an async run "
	       "longer\n"
	       "than 1 s includes the log's own fsyncs), the rest Kafka's defaults\n",
	       SYNC_WINDOW_BYTES / MIB, READ_PASSES);
	printf("goals: %s\n", all_met ? "all met" : "some MISSED");
	if (!json)
		return;
	printf("{\"mib\":%u,\"runs\":%d,\"value_bytes\":%d", b->mib, RUNS, VALUE_BYTES);
	for (size_t i = 0; i < NFIGS; i++) {
		const figure_t *f = &b->fig[i];
		const summary_t *r = &sum[i];

		printf(",\"%s_mbps\":%.1f,\"%s_rps\":%.0f,\"%s_mbps\":%.1f,\"%s_rps\":%.0f,"
		       "\"ratio_%s\":%.3f",
		       f->key, r->mbps, f->key, r->rps, f->base_key, r->base_mbps, f->base_key,
		       r->base_rps, f->key, r->ratio);
	}
	printf(",\"goal_ratio_append_async\":%.2f,\"goal_ratio_append_sync\":%.2f,"
	       "\"goal_read_mbps\":%.0f,\"goals_met\":%s}\n",
	       GOAL_ASYNC_RATIO, GOAL_SYNC_RATIO, GOAL_READ_MBPS, all_met ? "true" : "false");
}

/* ------------------------------------------------------------------------ */
/* Command line                                                               */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern-bench log [--dir DIR] [--mib N] [--json] [--quick]\n"
		"  Appends 1 KiB records in 16 KiB and 1 MiB batches under flush.policy=async\n"
		"  and sync, reads them back, and sets each figure beside a plain pwrite or\n"
		"  pread baseline measured in the same run (median of %d interleaved runs).\n"
		"  --dir DIR   scratch directory (default ./tern-data/bench); only its\n"
		"              subdirectories '%s' and '%s' are deleted and recreated\n"
		"  --mib N     MiB written per case (default %d, at most %d)\n"
		"  --quick     %d MiB per case (unless --mib is given)\n"
		"  --json      end the output with one JSON line of every figure\n",
		RUNS, LOG_SUBDIR, BASE_SUBDIR, DEFAULT_MIB, MAX_MIB, QUICK_MIB);
}

/* Creates DIR and its two fresh subdirectories and opens the log_dir. */
static tern_err_t setup(bench_t *b, const char *dir)
{
	log_dir_opts_t o = {.path = b->logdir, .writer_threads = 1};
	char why[512] = "";
	tern_err_t err;

	err = path_join(b, b->logdir, sizeof b->logdir, dir, LOG_SUBDIR);
	if (!err)
		err = path_join(b, b->basedir, sizeof b->basedir, dir, BASE_SUBDIR);
	if (err)
		return err;
	err = make_dirs(dir);
	if (err)
		return fail(b, err, "creating %s", dir);
	if ((err = rm_tree(b->logdir)))
		return fail(b, err, "removing %s", b->logdir);
	if ((err = rm_tree(b->basedir)))
		return fail(b, err, "removing %s", b->basedir);
	if (mkdir(b->basedir, 0755) < 0)
		return fail(b, tern_err_errno(errno), "mkdir %s", b->basedir);
	b->made_dirs = true;
	err = log_dir_open(&o, &b->d, why, sizeof why);
	if (err)
		return fail(b, err, "log_dir_open %s%s%s", b->logdir, *why ? ": " : "", why);
	return TERN_OK;
}

int bench_log_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'}, {"mib", required_argument, NULL, 'm'},
	    {"json", no_argument, NULL, 'j'},	   {"quick", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},	   {NULL, 0, NULL, 0},
	};
	const char *dir = "./tern-data/bench";
	bool json = false, quick = false;
	pthread_condattr_t ca;
	long mib = 0;
	bench_t *b;
	tern_err_t err, cerr;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'm':
			errno = 0;
			mib = strtol(optarg, &end, 10);
			if (errno || *end || mib < 1 || mib > MAX_MIB) {
				fprintf(stderr, "tern-bench log: --mib wants 1 to %d, not '%s'\n",
					MAX_MIB, optarg);
				return 2;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'q':
			quick = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tern-bench log: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	b = calloc(1, sizeof *b);
	if (!b) {
		fprintf(stderr, "tern-bench log: %s\n", tern_strerror(TERN_ERR__NOMEM));
		return 1;
	}
	b->mib = (unsigned)(mib ? mib : quick ? QUICK_MIB : DEFAULT_MIB);
	pthread_mutex_init(&b->win.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->win.cv, &ca);
	pthread_condattr_destroy(&ca);

	err = setup(b, dir);
	for (size_t si = 0; si < NSHAPES && !err; si++)
		err = set_build(b, &shapes[si], &b->sets[si]);
	if (!err)
		figures_init(b);
	for (int run = 0; run < RUNS && !err; run++) {
		fprintf(stderr, "tern-bench log: run %d of %d\n", run + 1, RUNS);
		for (size_t si = 0; si < NSHAPES && !err; si++)
			err = run_shape(b, si, run);
	}
	if (!err)
		report(b, json);

	if (b->d && (cerr = log_dir_close(b->d)) && !err)
		err = fail(b, cerr, "log_dir_close %s", b->logdir);
	if (b->made_dirs && (cerr = rm_tree(b->logdir)) && !err)
		err = fail(b, cerr, "removing %s", b->logdir);
	if (b->made_dirs && (cerr = rm_tree(b->basedir)) && !err)
		err = fail(b, cerr, "removing %s", b->basedir);
	pthread_mutex_destroy(&b->win.mu);
	pthread_cond_destroy(&b->win.cv);
	for (size_t si = 0; si < NSHAPES; si++)
		set_free(&b->sets[si]);
	if (err) {
		fprintf(stderr, "tern-bench log: %s\n", b->err);
		rc = 1;
	}
	free(b);
	return rc;
}

/* I/O errors injected into the partition log (log_fault_inject): ENOSPC and
 * EIO on writes, failed fsyncs, failed reads, faults at a segment roll and
 * during recovery; and the cap on open segment files. Each case checks the
 * error the caller gets, that nothing partial becomes readable, and that
 * after a reopen the log is valid and holds everything that was durable. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "testutil.h"

#define NAME "faults-0"
/* How long a test waits for something that should happen at once. */
#define WAIT_MS 10000

static char *dir;

/* The runner's directory for the whole case (unchecked fixture): a failed
 * assertion ends a forked case with _exit, skipping its teardown, but the
 * runner still removes this. */
static char *root;

static void root_setup(void)
{
	root = tt_mkdtemp("faults");
}

static void root_teardown(void)
{
	tt_rmtree(root);
	free(root);
	root = NULL;
}

static void setup(void)
{
	if (asprintf(&dir, "%s/case-XXXXXX", root) < 0 || !mkdtemp(dir))
		ck_abort_msg("cannot create a directory under %s", root);
}

static void teardown(void)
{
	log_fault_clear();
	tt_rmtree(dir);
	free(dir);
	dir = NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "ok", "EIO", "KAFKA_STORAGE_ERROR"... for the tables printed. */
static const char *err_label(tern_err_t err)
{
	int e = tern_err_to_errno(err);

	if (err == TERN_OK)
		return "ok";
	return e ? strerrorname_np(e) : tern_err_name(err);
}

static const char *op_name(unsigned op)
{
	return op == LOG_FAULT_WRITE ? "write" : op == LOG_FAULT_READ ? "read" : "fsync";
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                    */

static char *subdir(const char *name)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
	return p;
}

static log_dir_t *open_dir_opts(const char *path, int max_open_files, int writers)
{
	log_dir_opts_t o = {
	    .path = path, .max_open_files = max_open_files, .writer_threads = writers};
	log_dir_t *d = NULL;
	char err[256] = "";
	tern_err_t rc = log_dir_open(&o, &d, err, sizeof err);

	ck_assert_msg(rc == TERN_OK, "log_dir_open %s: %s (%s)", path, err, tern_strerror(rc));
	return d;
}

static log_dir_t *open_dir(const char *path)
{
	return open_dir_opts(path, 0, 1);
}

static log_t *open_log_named(log_dir_t *d, const char *name, const log_config_t *cfg)
{
	log_t *l = NULL;
	char err[256] = "";
	tern_err_t rc = log_open(d, name, cfg, &l, err, sizeof err);

	ck_assert_msg(rc == TERN_OK, "log_open %s: %s (%s)", name, err, tern_strerror(rc));
	return l;
}

static log_t *open_log(log_dir_t *d, const log_config_t *cfg)
{
	return open_log_named(d, NAME, cfg);
}

/* Sync, small indexes (cheap to copy), otherwise Kafka's defaults. */
static log_config_t base_cfg(void)
{
	log_config_t c;

	log_config_default(&c);
	c.segment_index_bytes = 4096;
	return c;
}

/* Small segments that roll every dozen batches or so. */
static log_config_t small_cfg(void)
{
	log_config_t c = base_cfg();

	c.segment_bytes = 4096;
	c.index_interval_bytes = 512;
	return c;
}

/* ------------------------------------------------------------------------ */
/* Records: the value at offset o is "v<o>:" then pad copies of 'a' + o % 26 */

static char pad_char(int64_t off)
{
	return (char)('a' + (int)(off % 26));
}

static uint8_t *make_batch(int64_t first, int n, size_t pad, size_t *len)
{
	log_builder_opts_t o;
	log_batch_builder_t *b;
	uint8_t *buf;
	char *val = malloc(pad + 32);

	ck_assert_ptr_nonnull(val);
	log_builder_opts_default(&o);
	ck_assert_int_eq(log_batch_builder_new(&o, &b), TERN_OK);
	for (int i = 0; i < n; i++) {
		int64_t off = first + i;
		int k = snprintf(val, 32, "v%lld:", (long long)off);

		memset(val + k, pad_char(off), pad);
		ck_assert_int_eq(log_batch_builder_add(b, 1700000000000LL + off, "k", 1, val,
						       (size_t)k + pad, NULL, 0),
				 TERN_OK);
	}
	ck_assert_int_eq(log_batch_builder_finish(b, &buf, len), TERN_OK);
	log_batch_builder_free(b);
	free(val);
	return buf;
}

static bool value_ok(const log_record_t *rec)
{
	char want[32];
	int k = snprintf(want, sizeof want, "v%lld:", (long long)rec->offset);

	if (!rec->value || rec->value_len < k || memcmp(rec->value, want, (size_t)k) != 0)
		return false;
	for (int32_t i = k; i < rec->value_len; i++)
		if (rec->value[i] != (uint8_t)pad_char(rec->offset))
			return false;
	return true;
}

/* Completion of one append, recorded for the test thread. */
typedef struct cbrec {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool fired;
	tern_err_t err;
	int64_t base, last;
	/* A gate: the callback says it has started, then holds the writer
	 * thread until the test releases it (bounded by a deadline). */
	bool gate, entered, released;
} cbrec_t;

static void cb_init(cbrec_t *r, bool gate)
{
	memset(r, 0, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->gate = gate;
}

static void cb_destroy(cbrec_t *r)
{
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
}

static struct timespec deadline_ts(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static void rec_cb(void *opaque, tern_err_t err, int64_t base, int64_t last)
{
	cbrec_t *r = opaque;
	struct timespec dl = deadline_ts(WAIT_MS);

	pthread_mutex_lock(&r->mu);
	r->fired = true;
	r->err = err;
	r->base = base;
	r->last = last;
	r->entered = true;
	pthread_cond_broadcast(&r->cv);
	while (r->gate && !r->released)
		if (pthread_cond_timedwait(&r->cv, &r->mu, &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&r->mu);
}

/* Waits up to ms for the callback; false when it has not fired. */
static bool cb_wait(cbrec_t *r, int ms)
{
	struct timespec dl = deadline_ts(ms);
	bool fired;

	pthread_mutex_lock(&r->mu);
	while (!r->fired)
		if (pthread_cond_timedwait(&r->cv, &r->mu, &dl) == ETIMEDOUT)
			break;
	fired = r->fired;
	pthread_mutex_unlock(&r->mu);
	return fired;
}

static void gate_release(cbrec_t *r)
{
	pthread_mutex_lock(&r->mu);
	r->released = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Appends one batch of n records at the predicted next offset. With
 * check_offset, asserts that it got that offset (no fault about). */
/* The leader epoch appends stamp. */
static int32_t cur_epoch = 1;

static tern_err_t append_one(log_t *l, int n, size_t pad, cbrec_t *r, bool check_offset,
			     log_append_info_t *info)
{
	int64_t first = log_next_offset(l);
	size_t len;
	uint8_t *b = make_batch(first, n, pad, &len);
	log_append_info_t local;
	tern_err_t rc;

	if (!info)
		info = &local;
	rc =
	    log_append(l, b, len, cur_epoch, LOG_APPEND_ASSIGN_OFFSETS, info, r ? rec_cb : NULL, r);
	free(b);
	if (rc == TERN_OK && check_offset) {
		ck_assert_int_eq(info->base_offset, first);
		ck_assert_int_eq(info->last_offset, first + n - 1);
	}
	return rc;
}

/* Appends batches and waits until they are durable. */
static void append_durable(log_t *l, int batches, int n, size_t pad)
{
	for (int i = 0; i < batches; i++)
		ck_assert_int_eq(append_one(l, n, pad, NULL, true, NULL), TERN_OK);
	ck_assert_int_eq(log_wait_durable(l, log_next_offset(l), WAIT_MS), TERN_OK);
}

/* Reads every offset from the start to the LEO: whole CRC-checked batches,
 * contiguous offsets, the right values. Returns the LEO. */
static int64_t verify_log(log_t *l)
{
	int64_t leo = log_end_offset(l), expect = log_start_offset(l);
	log_read_result_t r;
	char err[512] = "";

	while (expect < leo) {
		size_t p = 0;

		ck_assert_msg(
		    log_read(l, expect, 64 << 10, INT64_MAX, &r, err, sizeof err) == TERN_OK,
		    "log_read(%lld), LEO %lld: %s", (long long)expect, (long long)leo, err);
		ck_assert_uint_gt(r.len, 0);
		while (p < r.len) {
			log_batch_hdr_t h;
			log_batch_iter_t *it;
			log_record_t rec;

			ck_assert_int_eq(log_batch_hdr_parse(r.data + p, r.len - p, &h), TERN_OK);
			ck_assert_int_eq(h.base_offset, expect);
			ck_assert_int_eq(log_batch_iter_new(r.data + p, log_batch_size(&h), 0, &it),
					 TERN_OK);
			while (log_batch_iter_next(it, &rec) == TERN_OK) {
				ck_assert_int_eq(rec.offset, expect);
				ck_assert_msg(value_ok(&rec), "offset %lld holds a wrong value",
					      (long long)rec.offset);
				expect++;
			}
			log_batch_iter_free(it);
			ck_assert_int_eq(expect, log_batch_last_offset(&h) + 1);
			p += log_batch_size(&h);
		}
		free(r.buf);
	}
	ck_assert_int_eq(log_read(l, leo, 1 << 20, INT64_MAX, &r, NULL, 0), TERN_OK);
	ck_assert_uint_eq(r.len, 0);
	return leo;
}

/* Reopens the directory at path and checks the log holds at least
 * min_leo offsets, all valid; returns the LEO. */
static int64_t reopen_and_verify(const char *path, const log_config_t *cfg, int64_t min_leo,
				 bool *was_clean)
{
	log_dir_t *d = open_dir(path);
	log_t *l = open_log(d, cfg);
	int64_t leo;

	if (was_clean)
		*was_clean = log_dir_was_clean(d);
	leo = verify_log(l);
	ck_assert_msg(leo >= min_leo, "LEO %lld after reopening, %lld were durable", (long long)leo,
		      (long long)min_leo);
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
	return leo;
}

/* A failed log serves and takes nothing. */
static void assert_serves_nothing(log_t *l)
{
	log_read_result_t r = {0};
	char err[512] = "";

	ck_assert(log_is_failed(l));
	ck_assert_int_eq(log_read(l, log_start_offset(l), 1 << 20, INT64_MAX, &r, err, sizeof err),
			 TERN_ERR_KAFKA_STORAGE_ERROR);
	ck_assert_ptr_null(r.buf);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_msg(err[0] != 0, "no reason given for the storage error");
	ck_assert_int_eq(append_one(l, 1, 4, NULL, false, NULL), TERN_ERR_KAFKA_STORAGE_ERROR);
	ck_assert_int_eq(log_wait_durable(l, log_next_offset(l) + 1, WAIT_MS),
			 TERN_ERR_KAFKA_STORAGE_ERROR);
}

/* A healthy log whose last append failed: nothing past leo is readable. */
static void assert_nothing_past(log_t *l, int64_t leo)
{
	log_read_result_t r;

	ck_assert(!log_is_failed(l));
	ck_assert_int_eq(log_end_offset(l), leo);
	ck_assert_int_eq(log_next_offset(l), leo);
	ck_assert_int_eq(log_read(l, leo, 1 << 20, INT64_MAX, &r, NULL, 0), TERN_OK);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_int_eq(log_read(l, leo + 1, 1 << 20, INT64_MAX, &r, NULL, 0),
			 TERN_ERR_OFFSET_OUT_OF_RANGE);
}

/* ------------------------------------------------------------------------ */
/* Writes                                                                     */

/* A full disk fails the appends it hits with ENOSPC, and only those: the
 * log stays usable. */
START_TEST(enospc_on_write_keeps_log_usable)
{
	log_config_t cfg = base_cfg();
	log_dir_t *d = open_dir(dir);
	log_t *l = open_log(d, &cfg);
	cbrec_t r, gate, burst[5];
	int64_t n0;

	append_durable(l, 3, 2, 10);
	n0 = log_next_offset(l);

	/* One append, one failed write. */
	cb_init(&r, false);
	ck_assert_int_eq(log_fault_inject(LOG_FAULT_WRITE, ENOSPC, 0, 1), TERN_OK);
	ck_assert_int_eq(append_one(l, 2, 10, &r, true, NULL), TERN_OK);
	ck_assert_msg(cb_wait(&r, WAIT_MS), "the failed append's callback never fired");
	ck_assert_int_eq(r.err, tern_err_errno(ENOSPC));
	ck_assert_int_eq(r.base, n0);
	assert_nothing_past(l, n0);
	append_durable(l, 2, 2, 10);
	n0 = log_next_offset(l);

	/* Appends queued behind the failed write fail the same way. The
	 * writer is held in a callback while they queue, so that all of them
	 * go in one round. */
	cb_init(&gate, true);
	ck_assert_int_eq(append_one(l, 1, 4, &gate, true, NULL), TERN_OK);
	ck_assert(cb_wait(&gate, WAIT_MS));
	ck_assert_int_eq(gate.err, TERN_OK);
	n0 = log_next_offset(l);
	for (int i = 0; i < 5; i++) {
		cb_init(&burst[i], false);
		ck_assert_int_eq(append_one(l, 2, 10, &burst[i], true, NULL), TERN_OK);
	}
	ck_assert_int_eq(log_fault_inject(LOG_FAULT_WRITE, ENOSPC, 0, 1), TERN_OK);
	gate_release(&gate);
	for (int i = 0; i < 5; i++) {
		ck_assert_msg(cb_wait(&burst[i], WAIT_MS), "callback %d never fired", i);
		ck_assert_int_eq(burst[i].err, tern_err_errno(ENOSPC));
		cb_destroy(&burst[i]);
	}
	assert_nothing_past(l, n0);

	/* Space again: appends continue from the same offset. */
	append_durable(l, 2, 2, 10);
	n0 = verify_log(l);
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
	ck_assert_int_eq(reopen_and_verify(dir, &cfg, n0, NULL), n0);
	cb_destroy(&r);
	cb_destroy(&gate);
}
END_TEST

/* EIO on a write fails the log: the append gets the error, the log serves
 * nothing more, and a reopen finds exactly what was durable before. */
START_TEST(eio_on_write_fails_log)
{
	log_config_t cfg = base_cfg();
	log_dir_t *d = open_dir(dir);
	log_t *l = open_log(d, &cfg);
	bool clean = true;
	cbrec_t r;
	int64_t n0;

	append_durable(l, 3, 2, 10);
	n0 = log_next_offset(l);
	cb_init(&r, false);
	ck_assert_int_eq(log_fault_inject(LOG_FAULT_WRITE, EIO, 0, 1), TERN_OK);
	ck_assert_int_eq(append_one(l, 2, 10, &r, true, NULL), TERN_OK);
	ck_assert_msg(cb_wait(&r, WAIT_MS), "the failed append's callback never fired");
	ck_assert_msg(r.err == tern_err_errno(EIO) || r.err == TERN_ERR_KAFKA_STORAGE_ERROR,
		      "callback error %s", tern_strerror(r.err));
	log_fault_clear();
	ck_assert(log_is_failed(l));
	ck_assert(!log_is_repairable(l)); /* an I/O error: no cut mends it */
	ck_assert_msg(strstr(log_failure(l), "write") != NULL, "failure: %s", log_failure(l));
	ck_assert_int_eq(log_durable_end_offset(l), n0);
	assert_serves_nothing(l);
	ck_assert_int_ne(log_close(l), TERN_OK);
	ck_assert_int_ne(log_dir_close(d), TERN_OK);

	ck_assert_int_eq(reopen_and_verify(dir, &cfg, n0, &clean), n0);
	ck_assert(!clean);
	cb_destroy(&r);
}
END_TEST

/* The text form a broker is told through (ternd's TERN_TEST_DISK_FAULTS)
 * injects what it names and refuses what it cannot read. */
START_TEST(fault_spec_injects_and_clears)
{
	static const char *const bad[] = {"",	      "write",		 "write EBADNAME",
					  "disk EIO", "write,disk EIO",	 "write EIO -1",
					  "write 0",  "write EIO 0 1 2", "clear now"};
	log_config_t cfg = base_cfg();
	log_dir_t *d = open_dir(dir);
	log_t *l = open_log(d, &cfg);
	char why[256];
	cbrec_t r;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(log_fault_inject_spec(bad[i], why, sizeof why) ==
				  TERN_ERR__INVALID_ARG,
			      "'%s' accepted", bad[i]);
		ck_assert_msg(why[0], "'%s': no reason", bad[i]);
	}
	/* Cleared: an append goes through. */
	ck_assert_int_eq(log_fault_inject_spec("write,fsync EIO", why, sizeof why), TERN_OK);
	ck_assert_int_eq(log_fault_inject_spec(" clear\n", why, sizeof why), TERN_OK);
	append_durable(l, 1, 2, 10);
	/* EIO by number, SKIP 0, COUNT every one: the next append fails. */
	ck_assert_int_eq(log_fault_inject_spec("fsync,write 5 0", why, sizeof why), TERN_OK);
	cb_init(&r, false);
	ck_assert_int_eq(append_one(l, 2, 10, &r, true, NULL), TERN_OK);
	ck_assert_msg(cb_wait(&r, WAIT_MS), "the failed append's callback never fired");
	ck_assert_msg(r.err == tern_err_errno(EIO) || r.err == TERN_ERR_KAFKA_STORAGE_ERROR,
		      "callback error %s", tern_strerror(r.err));
	ck_assert(log_is_failed(l));
	log_fault_clear();
	log_close(l);
	log_dir_close(d);
	cb_destroy(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Fsyncs                                                                     */

/* Any failed fsync fails the log (the kernel may have dropped the dirty
 * pages): log_wait_durable reports it, nothing more is served, and a
 * reopen finds at least what was durable before. */
START_TEST(fsync_failure_fails_log)
{
	static const int errs[] = {EIO, ENOSPC};
	log_config_t cfg = base_cfg();

	for (size_t i = 0; i < 2; i++) {
		char name[32];
		char *path;
		log_dir_t *d;
		log_t *l;
		int64_t n0;
		bool clean = true;

		snprintf(name, sizeof name, "e%d", errs[i]);
		path = subdir(name);
		d = open_dir(path);
		l = open_log(d, &cfg);
		append_durable(l, 3, 2, 10);
		n0 = log_next_offset(l);
		ck_assert_int_eq(log_fault_inject(LOG_FAULT_FSYNC, errs[i], 0, 1), TERN_OK);
		ck_assert_int_eq(append_one(l, 2, 10, NULL, true, NULL), TERN_OK);
		ck_assert_int_eq(log_wait_durable(l, n0 + 2, WAIT_MS),
				 TERN_ERR_KAFKA_STORAGE_ERROR);
		log_fault_clear();
		ck_assert(log_is_failed(l));
		ck_assert_msg(strstr(log_failure(l), "fdatasync") != NULL, "failure: %s",
			      log_failure(l));
		ck_assert_msg(strstr(log_failure(l), strerror(errs[i])) != NULL, "failure: %s",
			      log_failure(l));
		ck_assert_int_eq(log_durable_end_offset(l), n0);
		assert_serves_nothing(l);
		ck_assert_int_ne(log_close(l), TERN_OK);
		ck_assert_int_ne(log_dir_close(d), TERN_OK);
		reopen_and_verify(path, &cfg, n0, &clean);
		ck_assert(!clean);
		free(path);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Reads                                                                      */

/* A read that hits EIO is a KAFKA_STORAGE_ERROR with a reason and no data;
 * the files are intact, so a reopen serves everything. */
START_TEST(read_eio_is_storage_error)
{
	log_config_t cfg = small_cfg();
	log_dir_t *d = open_dir(dir);
	log_t *l = open_log(d, &cfg);
	log_read_result_t r;
	char err[512];
	int64_t n;

	append_durable(l, 60, 3, 40);
	n = log_next_offset(l);
	ck_assert_int_ge(log_segment_count(l), 3);
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
	d = open_dir(dir);
	l = open_log(d, &cfg); /* closed segments load their indexes lazily */

	/* The first read of a closed segment: its index load or its data. */
	memset(&r, 0xff, sizeof r);
	err[0] = 0;
	ck_assert_int_eq(log_fault_inject(LOG_FAULT_READ, EIO, 0, 1), TERN_OK);
	ck_assert_int_eq(log_read(l, 1, 1 << 20, INT64_MAX, &r, err, sizeof err),
			 TERN_ERR_KAFKA_STORAGE_ERROR);
	log_fault_clear();
	ck_assert_ptr_null(r.buf);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_msg(err[0] != 0, "no reason given");
	if (!log_is_failed(l)) {
		/* Only the index load failed: the next read tries again. */
		ck_assert_int_eq(log_read(l, 1, 1 << 20, INT64_MAX, &r, NULL, 0), TERN_OK);
		ck_assert_uint_gt(r.len, 0);
		free(r.buf);
	}

	/* The data read of the active segment. */
	if (!log_is_failed(l)) {
		err[0] = 0;
		ck_assert_int_eq(log_fault_inject(LOG_FAULT_READ, EIO, 0, 1), TERN_OK);
		ck_assert_int_eq(log_read(l, n - 1, 1 << 20, INT64_MAX, &r, err, sizeof err),
				 TERN_ERR_KAFKA_STORAGE_ERROR);
		log_fault_clear();
		ck_assert_ptr_null(r.buf);
		ck_assert_uint_eq(r.len, 0);
		ck_assert_msg(strstr(err, ".log") != NULL, "reason: %s", err);
	}
	ck_assert_msg(strstr(log_failure(l), strerror(EIO)) != NULL, "failure: %s", log_failure(l));
	assert_serves_nothing(l);
	log_dir_close(d);

	ck_assert_int_eq(reopen_and_verify(dir, &cfg, n, NULL), n);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Faults at a segment roll                                                   */

/* Waits for an append's outcome: its callback, or the log failing. */
static tern_err_t wait_outcome(log_t *l, cbrec_t *r, int ms)
{
	int64_t deadline = now_ms() + ms;

	for (;;) {
		bool fired;

		pthread_mutex_lock(&r->mu);
		fired = r->fired;
		pthread_mutex_unlock(&r->mu);
		if (fired)
			return r->err;
		if (log_is_failed(l))
			return TERN_ERR_KAFKA_STORAGE_ERROR;
		if (now_ms() >= deadline)
			return TERN_ERR__TIMED_OUT;
		usleep(1000);
	}
}

#define ROLL_SKIPS	   7
#define ROLL_BATCH_RECORDS 3
#define ROLL_BATCH_PAD	   40

/* How many batches fit the first segment: the next one rolls. */
static int batches_before_roll(const log_config_t *cfg)
{
	char *path = subdir("dry");
	log_dir_t *d = open_dir(path);
	log_t *l = open_log(d, cfg);
	int k = 0;

	while (log_segment_count(l) == 1) {
		ck_assert_int_eq(
		    append_one(l, ROLL_BATCH_RECORDS, ROLL_BATCH_PAD, NULL, true, NULL), TERN_OK);
		k++;
		ck_assert_int_lt(k, 1000);
	}
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
	tt_rmtree(path);
	free(path);
	return k - 1;
}

/* One fault armed before the append that rolls the segment. Returns the
 * append's outcome; *failed tells whether the log failed. Checks what
 * holds whatever the fault hit, and the contract for each kind of error:
 * ENOSPC on a write leaves the log usable, EIO on a write and any failed
 * fsync fail it; violations are added to viol. */
static tern_err_t roll_fault_case(unsigned op, int e, long skip, int before, char *viol,
				  size_t vlen)
{
	log_config_t cfg = small_cfg();
	char name[64];
	char *path;
	log_dir_t *d;
	log_t *l;
	cbrec_t r;
	int64_t n0, target;
	tern_err_t rc, out;
	bool failed;

	snprintf(name, sizeof name, "%s-%d-%ld", op_name(op), e, skip);
	path = subdir(name);
	d = open_dir(path);
	l = open_log(d, &cfg);
	for (int i = 0; i < before; i++)
		ck_assert_int_eq(
		    append_one(l, ROLL_BATCH_RECORDS, ROLL_BATCH_PAD, NULL, true, NULL), TERN_OK);
	ck_assert_int_eq(log_wait_durable(l, log_next_offset(l), WAIT_MS), TERN_OK);
	ck_assert_int_eq(log_segment_count(l), 1);
	n0 = log_next_offset(l);
	target = n0 + ROLL_BATCH_RECORDS;

	cb_init(&r, false);
	ck_assert_int_eq(log_fault_inject(op, e, skip, 1), TERN_OK);
	rc = append_one(l, ROLL_BATCH_RECORDS, ROLL_BATCH_PAD, &r, false, NULL);
	out = rc != TERN_OK ? rc : wait_outcome(l, &r, WAIT_MS);
	log_fault_clear();
	ck_assert_msg(out != TERN_ERR__TIMED_OUT, "%s: no outcome in %d ms", name, WAIT_MS);
	failed = log_is_failed(l);

	if (out == TERN_OK) {
		ck_assert(!failed);
		ck_assert_int_eq(log_segment_count(l), 2);
		ck_assert_int_eq(log_wait_durable(l, target, WAIT_MS), TERN_OK);
	} else if (failed) {
		assert_serves_nothing(l);
	} else {
		/* Refused, log healthy: nothing of it readable, and the log
		 * takes appends again. */
		assert_nothing_past(l, n0);
		append_durable(l, 3, ROLL_BATCH_RECORDS, ROLL_BATCH_PAD);
	}
	if (out != TERN_OK) {
		bool want_failed = !(op == LOG_FAULT_WRITE && e == ENOSPC);
		size_t k = strlen(viol);

		if (failed != want_failed)
			snprintf(viol + k, vlen - k,
				 "\n  %s %s, skip %ld: the append got %s and the log is %s "
				 "(expected %s)",
				 op_name(op), strerror(e), skip, tern_strerror(out),
				 failed ? "failed" : "healthy", want_failed ? "failed" : "healthy");
	}
	if (failed) {
		ck_assert_int_ne(log_dir_close(d), TERN_OK);
	} else {
		ck_assert_int_eq(log_dir_close(d), TERN_OK);
	}
	reopen_and_verify(path, &cfg, out == TERN_OK ? target : n0, NULL);
	cb_destroy(&r);
	free(path);
	return out;
}

static void roll_faults(void)
{
	static const unsigned ops[] = {LOG_FAULT_WRITE, LOG_FAULT_FSYNC};
	static const int errs[] = {EIO, ENOSPC};
	log_config_t cfg = small_cfg();
	int before = batches_before_roll(&cfg);
	char viol[4096] = "";

	for (size_t o = 0; o < 2; o++) {
		for (size_t e = 0; e < 2; e++) {
			char line[256];
			int k = snprintf(line, sizeof line, "roll, %s %s:", op_name(ops[o]),
					 strerror(errs[e]));
			long first_ok = -1;

			for (long skip = 0; skip < ROLL_SKIPS; skip++) {
				tern_err_t out = roll_fault_case(ops[o], errs[e], skip, before,
								 viol, sizeof viol);

				k += snprintf(line + k, sizeof line - (size_t)k, " %s",
					      err_label(out));
				/* Once the fault lands after the append, it stays
				 * there: an error after a success would be a fault
				 * some operation ignored. The one write a full disk
				 * may skip by design is the closing segment's last
				 * time-index entry (the first write of a roll): it
				 * is a hint. */
				bool hint =
				    ops[o] == LOG_FAULT_WRITE && errs[e] == ENOSPC && skip == 0;

				if (out == TERN_OK && first_ok < 0 && !hint)
					first_ok = skip;
				ck_assert_msg(out == TERN_OK || first_ok < 0,
					      "roll, %s %s: skip %ld failed after skip %ld passed",
					      op_name(ops[o]), strerror(errs[e]), skip, first_ok);
			}
			fprintf(stderr, "%s\n", line);
			/* A roll writes and fsyncs: the first fault always lands
			 * (but for the hint above). */
			ck_assert_int_ne(first_ok, 0);
			ck_assert_int_ne(first_ok, 1);
		}
	}
	ck_assert_msg(viol[0] == 0, "errors at a roll broke the contract:%s", viol);
}

/* ------------------------------------------------------------------------ */
/* Faults during recovery                                                     */

static void copy_tree(const char *src, const char *dst)
{
	DIR *dh = opendir(src);
	struct dirent *de;

	ck_assert_msg(dh != NULL, "opendir %s: %s", src, strerror(errno));
	ck_assert_int_eq(mkdir(dst, 0755), 0);
	while ((de = readdir(dh))) {
		char s[4096], t[4096];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(s, sizeof s, "%s/%s", src, de->d_name);
		snprintf(t, sizeof t, "%s/%s", dst, de->d_name);
		ck_assert_int_eq(lstat(s, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			copy_tree(s, t);
		} else {
			size_t len;
			uint8_t *buf = tt_read_file(s, &len);
			int fd = open(t, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			ck_assert_int_ge(fd, 0);
			ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
			close(fd);
			free(buf);
		}
	}
	closedir(dh);
}

/* The active (last) segment's .log under a log directory. */
static void last_segment_path(const char *logdir, char *out, size_t len)
{
	DIR *dh = opendir(logdir);
	struct dirent *de;
	char best[64] = "";

	ck_assert_ptr_nonnull(dh);
	while ((de = readdir(dh)))
		if (strlen(de->d_name) == 24 && strcmp(de->d_name + 20, ".log") == 0 &&
		    strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof best, "%s", de->d_name);
	closedir(dh);
	ck_assert(best[0] != 0);
	ck_assert_int_lt(snprintf(out, len, "%s/%s", logdir, best), (int)len);
}

/* A crashed directory: several segments, never checkpointed (so recovery
 * scans them all), a torn batch at the end of the active one. Returns its
 * path and the number of offsets it holds. */
static char *make_crashed(const log_config_t *cfg, int64_t *n)
{
	static const uint8_t torn[40] = {0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 1, 0, 0, 0, 0, 1, 2};
	char *path = subdir("pristine"), seg[4096], logdir[4096];
	log_dir_t *d = open_dir(path);
	log_t *l = open_log(d, cfg);
	int fd;

	append_durable(l, 80, 3, 40);
	*n = log_next_offset(l);
	ck_assert_int_ge(log_segment_count(l), 4);
	log_dir_abandon(d);
	snprintf(logdir, sizeof logdir, "%s/%s", path, NAME);
	last_segment_path(logdir, seg, sizeof seg);
	fd = open(seg, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, torn, sizeof torn), (ssize_t)sizeof torn);
	close(fd);
	return path;
}

/* log_open of a crashed copy with one fault armed. Returns its result;
 * then checks that the directory, closed or abandoned, reopens with
 * every offset. */
static tern_err_t open_fault_case(const char *pristine, const log_config_t *cfg, int64_t n,
				  unsigned op, long skip, bool abandon, bool *clean_after,
				  bool *no_reason)
{
	char *path;
	char name[64], err[512] = "";
	log_dir_t *d;
	log_t *l = NULL;
	tern_err_t rc;

	snprintf(name, sizeof name, "open-%s-%ld", op_name(op), skip);
	path = subdir(name);
	copy_tree(pristine, path);
	d = open_dir(path);
	ck_assert_int_eq(log_fault_inject(op, EIO, skip, 1), TERN_OK);
	rc = log_open(d, NAME, cfg, &l, err, sizeof err);
	log_fault_clear();
	if (rc == TERN_OK) {
		ck_assert_int_eq(verify_log(l), n);
		ck_assert_int_eq(log_latest_epoch(l), cur_epoch);
	} else if (no_reason) {
		*no_reason = err[0] == 0;
	}
	if (abandon)
		log_dir_abandon(d);
	else
		log_dir_close(d);
	ck_assert_int_eq(reopen_and_verify(path, cfg, n, clean_after), n);
	tt_rmtree(path);
	free(path);
	return rc;
}

/* log_open of a crashed log (recovery reads, rewrites indexes, cuts a torn
 * tail, fsyncs) with an EIO on its N-th read, write or fsync, for every N
 * until the fault lands after the open: each open either fails or opens a
 * whole log, and the directory, closed or abandoned, then reopens with
 * every offset; every failure gives its reason. */
static void recovery_faults(void)
{
	static const unsigned ops[] = {LOG_FAULT_READ, LOG_FAULT_WRITE, LOG_FAULT_FSYNC};
	log_config_t cfg = small_cfg();
	int64_t n;
	char *pristine = make_crashed(&cfg, &n);
	char silent[1024] = "";

	for (size_t o = 0; o < 3; o++) {
		long skip, ok_run = 0, fails = 0;
		char line[1024];
		int k = snprintf(line, sizeof line, "recovery, %s EIO:", op_name(ops[o]));

		/* A fault the open survives is fine as long as the log it
		 * opened is whole (open_fault_case checks it). */
		for (skip = 0; skip < 400 && ok_run < 3; skip++) {
			bool no_reason = false;
			tern_err_t rc = open_fault_case(pristine, &cfg, n, ops[o], skip, skip % 2,
							NULL, &no_reason);

			ok_run = rc == TERN_OK ? ok_run + 1 : 0;
			fails += rc != TERN_OK;
			if (k < (int)sizeof line - 16)
				k += snprintf(line + k, sizeof line - (size_t)k, " %s%s",
					      rc == TERN_OK ? "ok" : "fail",
					      no_reason ? "(no reason)" : "");
			if (no_reason && strlen(silent) < sizeof silent - 64)
				snprintf(silent + strlen(silent), sizeof silent - strlen(silent),
					 " %s skip %ld (%s);", op_name(ops[o]), skip,
					 tern_strerror(rc));
		}
		fprintf(stderr, "%s\n", line);
		ck_assert_int_gt(fails, 0); /* recovery reads, writes and fsyncs */
		ck_assert_int_eq(ok_run, 3);
	}
	ck_assert_msg(silent[0] == 0, "log_open failed without a reason in errstr:%s", silent);
	tt_rmtree(pristine);
	free(pristine);
}

START_TEST(faults_during_recovery)
{
	recovery_faults();
}
END_TEST

/* A failed fsync while log_dir_open removes the clean-shutdown marker
 * fails the open; the next open recovers. */
START_TEST(fault_in_dir_open)
{
	log_config_t cfg = small_cfg();
	log_dir_opts_t o = {.path = dir};
	log_dir_t *d = open_dir(dir), *d2 = NULL;
	log_t *l = open_log(d, &cfg);
	char err[256] = "";
	bool clean = true;
	int64_t n;

	append_durable(l, 10, 3, 40);
	n = log_next_offset(l);
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
	ck_assert_int_eq(log_fault_inject(LOG_FAULT_FSYNC, EIO, 0, 1), TERN_OK);
	ck_assert_int_ne(log_dir_open(&o, &d2, err, sizeof err), TERN_OK);
	log_fault_clear();
	ck_assert_msg(strstr(err, "fsync") != NULL, "reason: %s", err);
	ck_assert_int_eq(reopen_and_verify(dir, &cfg, n, &clean), n);
	ck_assert(!clean);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Open files                                                                 */

static int count_fds(int *max_fd)
{
	DIR *dh = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0, mx = -1;

	ck_assert_ptr_nonnull(dh);
	while ((de = readdir(dh))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == dirfd(dh))
			continue;
		n++;
		if (fd > mx)
			mx = fd;
	}
	closedir(dh);
	if (max_fd)
		*max_fd = mx;
	return n;
}

/* The RLIMIT_NOFILE under which the process can open exactly `more` new
 * descriptors (they take the lowest free numbers, whatever holes the
 * inherited ones leave). */
static int fd_limit_for(int more)
{
	int lim = 0;

	while (more > 0) {
		if (fcntl(lim, F_GETFD) < 0 && errno == EBADF)
			more--;
		lim++;
	}
	return lim;
}

#define MAX_OPEN 8
/* Beyond the cap: the directory lock, the writer's ring, the active
 * segment's three files, a reader's ring, one file over the cap while a
 * reader holds it, and a spare. */
#define FD_SLACK 8

/* A log of at least 100 segments, cleanly closed; returns its LEO. */
static int64_t make_many_segments(const log_config_t *cfg)
{
	log_dir_t *d = open_dir_opts(dir, MAX_OPEN, 1);
	log_t *l = open_log(d, cfg);
	int64_t n;

	while (log_segment_count(l) < 100)
		append_durable(l, 10, 4, 60);
	n = log_next_offset(l);
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
	return n;
}

static void read_one(log_t *l, int64_t off, int64_t *next)
{
	log_read_result_t r;
	log_batch_iter_t *it;
	log_record_t rec;
	char err[512] = "";
	bool seen = false;

	ck_assert_msg(log_read(l, off, 1, INT64_MAX, &r, err, sizeof err) == TERN_OK,
		      "read %lld: %s", (long long)off, err);
	ck_assert_uint_gt(r.len, 0);
	ck_assert_int_eq(log_batch_iter_new(r.data, r.len, 0, &it), TERN_OK);
	while (log_batch_iter_next(it, &rec) == TERN_OK) {
		ck_assert(value_ok(&rec));
		seen |= rec.offset == off;
	}
	log_batch_iter_free(it);
	ck_assert(seen);
	if (next)
		*next = r.next_offset;
	free(r.buf);
}

/* Reading every offset of a 100-segment log with max_open_files = 8 keeps
 * the process's descriptors within the cap plus a few. */
START_TEST(bounded_open_files)
{
	log_config_t cfg = small_cfg();
	int64_t n = make_many_segments(&cfg), off;
	uint64_t rng = tt_seed();
	int base, most, cur;
	log_dir_t *d;
	log_t *l;

	base = count_fds(NULL);
	d = open_dir_opts(dir, MAX_OPEN, 1);
	l = open_log(d, &cfg);
	ck_assert_int_ge(log_segment_count(l), 100);
	most = count_fds(NULL);
	for (off = 0; off < n;) {
		read_one(l, off, &off);
		cur = count_fds(NULL);
		if (cur > most)
			most = cur;
	}
	for (int i = 0; i < 500; i++) {
		read_one(l, (int64_t)(tt_rand(&rng) % (uint64_t)n), NULL);
		cur = count_fds(NULL);
		if (cur > most)
			most = cur;
	}
	fprintf(stderr, "open files: %d before the open, at most %d while reading %d segments\n",
		base, most, log_segment_count(l));
	ck_assert_msg(most <= base + MAX_OPEN + FD_SLACK,
		      "%d descriptors open, %d before the open: over the cap of %d + %d", most,
		      base, MAX_OPEN, FD_SLACK);
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Regressions: each pins a bug the first run of this suite found.           */

/* A failed fdatasync must complete the appends it leaves undurable. */
START_TEST(fsync_failure_completes_callbacks)
{
	log_config_t cfg = base_cfg();
	log_dir_t *d = open_dir(dir);
	log_t *l = open_log(d, &cfg);
	cbrec_t r;

	append_durable(l, 3, 2, 10);
	cb_init(&r, false);
	ck_assert_int_eq(log_fault_inject(LOG_FAULT_FSYNC, EIO, 0, 1), TERN_OK);
	ck_assert_int_eq(append_one(l, 2, 10, &r, true, NULL), TERN_OK);
	ck_assert_int_eq(log_wait_durable(l, log_next_offset(l), WAIT_MS),
			 TERN_ERR_KAFKA_STORAGE_ERROR);
	ck_assert_msg(cb_wait(&r, 3000),
		      "the append's callback never fired after its fdatasync failed "
		      "(durable %lld, LEO %lld)",
		      (long long)log_durable_end_offset(l), (long long)log_end_offset(l));
	ck_assert_int_ne(r.err, TERN_OK);
	log_dir_abandon(d);
	cb_destroy(&r);
}
END_TEST

/* Two chunks in one round, the second write fails with EIO: the first
 * chunk's append (written, never fsynced) must complete too. */
START_TEST(write_eio_completes_earlier_callbacks)
{
	log_config_t cfg = base_cfg();
	log_dir_t *d;
	log_t *l;
	cbrec_t gate, x, y;

	cfg.max_batch_bytes = 2 << 20;
	cfg.index_interval_bytes = 1 << 30; /* no index writes: one op per chunk */
	d = open_dir(dir);
	l = open_log(d, &cfg);
	cb_init(&gate, true);
	cb_init(&x, false);
	cb_init(&y, false);
	/* Hold the writer in a callback while two 700 KB batches queue: they
	 * do not fit one 1 MiB chunk, so the next round writes two chunks. */
	ck_assert_int_eq(append_one(l, 1, 10, &gate, true, NULL), TERN_OK);
	ck_assert(cb_wait(&gate, WAIT_MS));
	ck_assert_int_eq(append_one(l, 1, 700 << 10, &x, true, NULL), TERN_OK);
	ck_assert_int_eq(append_one(l, 1, 700 << 10, &y, true, NULL), TERN_OK);
	ck_assert_int_eq(log_fault_inject(LOG_FAULT_WRITE, EIO, 1, 1), TERN_OK);
	gate_release(&gate);
	ck_assert_int_eq(log_wait_durable(l, log_next_offset(l), WAIT_MS),
			 TERN_ERR_KAFKA_STORAGE_ERROR);
	log_fault_clear();
	ck_assert_msg(cb_wait(&y, 3000), "the failed chunk's callback never fired");
	ck_assert_int_ne(y.err, TERN_OK);
	ck_assert_msg(cb_wait(&x, 3000),
		      "the callback of the chunk written before the failed one never fired "
		      "(durable %lld, LEO %lld)",
		      (long long)log_durable_end_offset(l), (long long)log_end_offset(l));
	log_dir_abandon(d);
	cb_destroy(&gate);
	cb_destroy(&x);
	cb_destroy(&y);
}
END_TEST

/* An append made after an ENOSPC rollback, while the failed round is still
 * completing its appends, must not be failed with that round's error: its
 * batch is queued and gets written by the next round. */
START_TEST(enospc_does_not_fail_later_append)
{
	log_config_t cfg = base_cfg();
	log_dir_t *d;
	log_t *a, *b;
	cbrec_t gate, relay, b1, b2;
	log_append_info_t info;
	log_read_result_t r;

	cfg.index_interval_bytes = 1 << 30;
	d = open_dir_opts(dir, 0, 1); /* one writer serves both logs, a first */
	a = open_log_named(d, "a-0", &cfg);
	b = open_log_named(d, "b-0", &cfg);
	cb_init(&gate, true);
	cb_init(&relay, true);
	cb_init(&b1, false);
	cb_init(&b2, false);

	ck_assert_int_eq(append_one(a, 1, 10, &gate, true, NULL), TERN_OK);
	ck_assert(cb_wait(&gate, WAIT_MS));
	/* Next round: a's write passes, b's fails with ENOSPC. */
	ck_assert_int_eq(append_one(a, 1, 10, &relay, true, NULL), TERN_OK);
	ck_assert_int_eq(append_one(b, 1, 10, &b1, true, NULL), TERN_OK);
	ck_assert_int_eq(log_fault_inject(LOG_FAULT_WRITE, ENOSPC, 1, 1), TERN_OK);
	gate_release(&gate);
	/* a's completion runs before b's: append to b while it runs. */
	ck_assert(cb_wait(&relay, WAIT_MS));
	ck_assert_int_eq(relay.err, TERN_OK);
	log_fault_clear();
	ck_assert(!log_is_failed(b));
	ck_assert_int_eq(append_one(b, 1, 10, &b2, true, &info), TERN_OK);
	gate_release(&relay);

	ck_assert(cb_wait(&b1, WAIT_MS));
	ck_assert_int_eq(b1.err, tern_err_errno(ENOSPC));
	ck_assert(cb_wait(&b2, WAIT_MS));
	ck_assert_int_eq(log_flush(b), TERN_OK);
	if (b2.err != TERN_OK) {
		ck_assert_msg(log_end_offset(b) <= info.base_offset,
			      "append [%lld, %lld] was told %s, but it was written: LEO %lld",
			      (long long)info.base_offset, (long long)info.last_offset,
			      tern_strerror(b2.err), (long long)log_end_offset(b));
	} else {
		ck_assert_int_gt(log_durable_end_offset(b), info.last_offset);
		ck_assert_int_eq(log_read(b, info.base_offset, 1, INT64_MAX, &r, NULL, 0), TERN_OK);
		free(r.buf);
	}
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
	cb_destroy(&gate);
	cb_destroy(&relay);
	cb_destroy(&b1);
	cb_destroy(&b2);
}
END_TEST

/* Regression (disk-full chaos scenario): a follower waits for its fetched
 * records with log_wait_end/durable and no callback. When their write
 * failed on a full disk the wait used to run out its whole timeout (10 s,
 * holding the broker's topics lock, which stopped its heartbeats); now it
 * ends with the write's error, and the log stays usable. */
START_TEST(enospc_ends_waits_for_rolled_back_offsets)
{
	log_config_t cfg = base_cfg();
	log_dir_t *d = open_dir(dir);
	log_t *l = open_log(d, &cfg);
	log_append_info_t info;
	int64_t n0;

	append_durable(l, 2, 2, 10);
	n0 = log_next_offset(l);
	ck_assert_int_eq(log_fault_inject(LOG_FAULT_WRITE, ENOSPC, 0, 1), TERN_OK);
	ck_assert_int_eq(append_one(l, 3, 10, NULL, true, &info), TERN_OK);
	ck_assert_int_eq(log_wait_end(l, info.last_offset + 1, WAIT_MS), tern_err_errno(ENOSPC));
	ck_assert_int_eq(log_wait_durable(l, info.last_offset + 1, WAIT_MS),
			 tern_err_errno(ENOSPC));
	log_fault_clear();
	assert_nothing_past(l, n0);
	/* Offsets written before the failure still count. */
	ck_assert_int_eq(log_wait_durable(l, n0, WAIT_MS), TERN_OK);
	append_durable(l, 2, 2, 10);
	n0 = verify_log(l);
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
	ck_assert_int_eq(reopen_and_verify(dir, &cfg, n0, NULL), n0);
}
END_TEST

/* Regression (disk-full chaos scenario): an append that enters a new leader
 * epoch writes the epoch file first; on a full disk that write used to
 * fail the whole log (KAFKA_STORAGE_ERROR until a restart, so a follower
 * never rejoined once the disk had room). Now the append fails with ENOSPC,
 * the epoch is not entered, and the next append enters it. */
START_TEST(enospc_on_epoch_file_keeps_log_usable)
{
	log_config_t cfg = base_cfg();
	log_dir_t *d = open_dir(dir);
	log_t *l = open_log(d, &cfg);
	int64_t n0;

	cur_epoch = 1;
	append_durable(l, 2, 2, 10);
	n0 = log_next_offset(l);
	ck_assert_int_eq(log_latest_epoch(l), 1);
	cur_epoch = 2;
	ck_assert_int_eq(log_fault_inject(LOG_FAULT_WRITE, ENOSPC, 0, 1), TERN_OK);
	ck_assert_int_eq(append_one(l, 2, 10, NULL, false, NULL), tern_err_errno(ENOSPC));
	log_fault_clear();
	ck_assert_int_eq(log_latest_epoch(l), 1);
	assert_nothing_past(l, n0);
	append_durable(l, 1, 2, 10);
	ck_assert_int_eq(log_latest_epoch(l), 2);
	n0 = verify_log(l);
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
	ck_assert_int_eq(reopen_and_verify(dir, &cfg, n0, NULL), n0);
	cur_epoch = 1;
}
END_TEST

/* Faults at a roll, with the contract for each kind of error. */
START_TEST(roll_fault_contract)
{
	roll_faults();
}
END_TEST

/* A log whose recovery failed was never brought to a clean state: the
 * directory closed after it must not claim a clean shutdown. */
START_TEST(failed_recovery_leaves_dir_unclean)
{
	log_config_t cfg = small_cfg();
	int64_t n;
	char *pristine = make_crashed(&cfg, &n);
	bool clean = false;

	/* Skip 0 is the epoch checkpoint's read, which log_open survives. */
	ck_assert_int_ne(open_fault_case(pristine, &cfg, n, LOG_FAULT_READ, 1, false, &clean, NULL),
			 TERN_OK);
	ck_assert_msg(!clean, "log_dir_close wrote the clean-shutdown marker although a log's "
			      "recovery had failed");
	tt_rmtree(pristine);
	free(pristine);
}
END_TEST

/* max_open_files caps the segment files open while log_open loads a log,
 * too: with descriptors limited to the cap plus a few, a 100-segment log
 * opens. */
START_TEST(log_open_within_max_open_files)
{
	log_config_t cfg = small_cfg();
	struct rlimit old, lim;
	log_dir_t *d;
	log_t *l = NULL;
	char err[256] = "";
	tern_err_t rc;

	make_many_segments(&cfg);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)fd_limit_for(MAX_OPEN + FD_SLACK);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
	d = open_dir_opts(dir, MAX_OPEN, 1);
	rc = log_open(d, NAME, &cfg, &l, err, sizeof err);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_msg(rc == TERN_OK, "log_open with %d descriptors allowed: %s (%s)",
		      (int)lim.rlim_cur, err, tern_strerror(rc));
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
}
END_TEST

/* After a clean stop, a leader-epoch-checkpoint that cannot be read (EIO)
 * or is corrupt is rebuilt from the batches (log_open's design), or the
 * open fails; either way the log never runs with its epochs lost. */
static void epoch_file_unreadable(bool corrupt)
{
	log_config_t cfg = small_cfg();
	log_dir_t *d = open_dir(dir);
	log_t *l = open_log(d, &cfg);
	char path[4096], err[256] = "";
	int64_t mid;
	int32_t e;
	int64_t end;
	tern_err_t rc;

	cur_epoch = 1;
	append_durable(l, 20, 3, 40);
	mid = log_next_offset(l);
	cur_epoch = 2;
	append_durable(l, 20, 3, 40);
	ck_assert_int_ge(log_segment_count(l), 2);
	ck_assert_int_eq(log_latest_epoch(l), 2);
	ck_assert_int_eq(log_dir_close(d), TERN_OK);

	snprintf(path, sizeof path, "%s/%s/leader-epoch-checkpoint", dir, NAME);
	if (corrupt) {
		int fd = open(path, O_WRONLY | O_TRUNC);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, "0\n7\nrubbish\n", 13), 13);
		close(fd);
	}
	d = open_dir(dir);
	ck_assert(log_dir_was_clean(d));
	if (!corrupt)
		ck_assert_int_eq(log_fault_inject(LOG_FAULT_READ, EIO, 0, 1), TERN_OK);
	rc = log_open(d, NAME, &cfg, &l, err, sizeof err);
	log_fault_clear();
	if (rc != TERN_OK) {
		ck_assert_msg(err[0] != 0, "log_open failed without a reason");
		log_dir_abandon(d);
		return;
	}
	ck_assert_msg(log_latest_epoch(l) == 2, "latest epoch %d after the open, 2 before",
		      log_latest_epoch(l));
	log_end_offset_for_epoch(l, 1, &e, &end);
	ck_assert_int_eq(e, 1);
	ck_assert_int_eq(end, mid);
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
}

START_TEST(epoch_file_read_error_after_clean_stop)
{
	epoch_file_unreadable(false);
}
END_TEST

START_TEST(epoch_file_corrupt_after_clean_stop)
{
	epoch_file_unreadable(true);
}
END_TEST

/* ------------------------------------------------------------------------ */

/* The cases that need no injection hook. */
static TCase *files_tcase(void)
{
	TCase *tc = tcase_create("files");

	tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bounded_open_files);
	tcase_add_test(tc, epoch_file_corrupt_after_clean_stop);
	tcase_add_test(tc, log_open_within_max_open_files);
	return tc;
}

static Suite *faults_suite(bool hook)
{
	Suite *s = suite_create("faults");

	suite_add_tcase(s, files_tcase());
	if (hook) {
		TCase *tc = tcase_create("faults");

		tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, enospc_on_write_keeps_log_usable);
		tcase_add_test(tc, eio_on_write_fails_log);
		tcase_add_test(tc, fault_spec_injects_and_clears);
		tcase_add_test(tc, fsync_failure_fails_log);
		tcase_add_test(tc, read_eio_is_storage_error);
		tcase_add_test(tc, roll_fault_contract);
		tcase_add_test(tc, faults_during_recovery);
		tcase_add_test(tc, fault_in_dir_open);
		tcase_add_test(tc, fsync_failure_completes_callbacks);
		tcase_add_test(tc, write_eio_completes_earlier_callbacks);
		tcase_add_test(tc, enospc_does_not_fail_later_append);
		tcase_add_test(tc, enospc_ends_waits_for_rolled_back_offsets);
		tcase_add_test(tc, enospc_on_epoch_file_keeps_log_usable);
		tcase_add_test(tc, failed_recovery_leaves_dir_unclean);
		tcase_add_test(tc, epoch_file_read_error_after_clean_stop);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	bool hook;
	int rc;

	tt_require_io_uring();
	tt_seed();
	hook = log_fault_inject(LOG_FAULT_READ, EIO, 0, 0) != TERN_ERR__UNSUPPORTED;
	log_fault_clear();
	rc = tt_run(faults_suite(hook));
	if (rc == EXIT_SUCCESS && !hook)
		tt_skip(
		    "this build has no I/O error-injection hook (meson -Dfault_injection=true): "
		    "only the open-files case ran");
	return rc;
}

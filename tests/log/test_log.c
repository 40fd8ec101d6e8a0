/* Check suite of the partition log: appends and reads, segments and their
 * indexes, reopening (clean and after a crash), time lookups, retention,
 * truncation, leader epochs and corruption found on read. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "log/log.h"
#include "testutil.h"

static char *dir;
static int64_t fake_now;

static int64_t fake_clock(void *opaque)
{
	(void)opaque;
	return fake_now;
}

static void setup(void)
{
	dir = tt_mkdtemp("log");
	fake_now = 1700000000000LL;
}

static void teardown(void)
{
	tt_rmtree(dir);
	free(dir);
	dir = NULL;
}

static log_dir_t *open_dir(void)
{
	log_dir_opts_t o = {.path = dir, .clock_ms = fake_clock, .max_open_files = 4};
	log_dir_t *d = NULL;
	char err[256];
	tern_err_t rc = log_dir_open(&o, &d, err, sizeof err);

	ck_assert_msg(rc == TERN_OK, "log_dir_open: %s", err);
	return d;
}

static log_t *open_log(log_dir_t *d, const log_config_t *cfg)
{
	log_t *l = NULL;
	char err[256];
	tern_err_t rc = log_open(d, "events-0", cfg, &l, err, sizeof err);

	ck_assert_msg(rc == TERN_OK, "log_open: %s (%s)", err, tern_strerror(rc));
	return l;
}

/* A batch of n records "v<first+i>" with timestamps ts, ts+1, ... */
static uint8_t *make_batch(int n, int first, int64_t ts, size_t vlen, size_t *len)
{
	log_builder_opts_t o;
	log_batch_builder_t *b;
	uint8_t *buf;
	char *val = malloc(vlen + 32);

	log_builder_opts_default(&o);
	ck_assert_int_eq(log_batch_builder_new(&o, &b), TERN_OK);
	for (int i = 0; i < n; i++) {
		int k = snprintf(val, vlen + 32, "v%d", first + i);

		memset(val + k, 'x', vlen > (size_t)k ? vlen - (size_t)k : 0);
		ck_assert_int_eq(log_batch_builder_add(b, ts + i, "k", 1, val,
						       vlen > (size_t)k ? vlen : (size_t)k, NULL,
						       0),
				 TERN_OK);
	}
	ck_assert_int_eq(log_batch_builder_finish(b, &buf, len), TERN_OK);
	log_batch_builder_free(b);
	free(val);
	return buf;
}

/* Appends n batches of per records each; the record with global number g
 * gets value "v<g>" and timestamp base_ts + g. */
static void append_n(log_t *l, int n, int per, size_t vlen, int64_t base_ts)
{
	for (int i = 0; i < n; i++) {
		int64_t first = log_next_offset(l);
		size_t len;
		uint8_t *b = make_batch(per, (int)first, base_ts + first, vlen, &len);
		log_append_info_t info;

		ck_assert_int_eq(
		    log_append(l, b, len, 3, LOG_APPEND_ASSIGN_OFFSETS, &info, NULL, NULL),
		    TERN_OK);
		ck_assert_int_eq(info.base_offset, first);
		ck_assert_int_eq(info.last_offset, first + per - 1);
		free(b);
	}
}

/* Reads the record at offset and checks its value is "v<offset>". */
static void check_offset(log_t *l, int64_t offset)
{
	log_read_result_t r;
	log_batch_iter_t *it;
	log_record_t rec;
	char err[256] = "", want[32];
	bool seen = false;

	ck_assert_msg(log_read(l, offset, 1, INT64_MAX, &r, err, sizeof err) == TERN_OK,
		      "read %lld: %s", (long long)offset, err);
	ck_assert_uint_gt(r.len, 0);
	ck_assert_int_le(r.first_offset, offset);
	ck_assert_int_gt(r.next_offset, offset);
	ck_assert_int_eq(log_batch_iter_new(r.data, r.len, 0, &it), TERN_OK);
	snprintf(want, sizeof want, "v%lld", (long long)offset);
	while (log_batch_iter_next(it, &rec) == TERN_OK) {
		if (rec.offset != offset)
			continue;
		ck_assert_int_ge(rec.value_len, (int32_t)strlen(want));
		ck_assert(memcmp(rec.value, want, strlen(want)) == 0);
		seen = true;
	}
	log_batch_iter_free(it);
	free(r.buf);
	ck_assert_msg(seen, "offset %lld not in the batch read", (long long)offset);
}

static log_config_t small_cfg(void)
{
	log_config_t c;

	log_config_default(&c);
	c.segment_bytes = 8192;
	c.index_interval_bytes = 512;
	c.segment_index_bytes = 4096;
	return c;
}

START_TEST(append_read_sync)
{
	log_dir_t *d = open_dir();
	log_config_t cfg;
	log_t *l;

	log_config_default(&cfg);
	l = open_log(d, &cfg);
	ck_assert_int_eq(log_end_offset(l), 0);
	append_n(l, 10, 5, 20, 1000);
	ck_assert_int_eq(log_next_offset(l), 50);
	ck_assert_int_eq(log_wait_durable(l, 50, 10000), TERN_OK);
	ck_assert_int_eq(log_end_offset(l), 50);
	for (int64_t o = 0; o < 50; o++)
		check_offset(l, o);
	ck_assert_int_eq(log_close(l), TERN_OK);
	ck_assert_int_eq(log_dir_close(d), TERN_OK);
}
END_TEST

START_TEST(read_edges)
{
	log_dir_t *d = open_dir();
	log_config_t cfg;
	log_read_result_t r;
	log_t *l;

	log_config_default(&cfg);
	l = open_log(d, &cfg);
	append_n(l, 3, 4, 10, 0);
	ck_assert_int_eq(log_wait_end(l, 12, 10000), TERN_OK);
	/* At the end: nothing; past it: out of range. */
	ck_assert_int_eq(log_read(l, 12, 1 << 20, INT64_MAX, &r, NULL, 0), TERN_OK);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_int_eq(log_read(l, 13, 1 << 20, INT64_MAX, &r, NULL, 0),
			 TERN_ERR_OFFSET_OUT_OF_RANGE);
	/* max_bytes smaller than a batch still returns that whole batch. */
	ck_assert_int_eq(log_read(l, 5, 1, INT64_MAX, &r, NULL, 0), TERN_OK);
	ck_assert_int_eq(r.first_offset, 4);
	ck_assert_int_eq(r.next_offset, 8);
	free(r.buf);
	/* A large max_bytes returns all three batches from the first. */
	ck_assert_int_eq(log_read(l, 0, 1 << 20, INT64_MAX, &r, NULL, 0), TERN_OK);
	ck_assert_int_eq(r.next_offset, 12);
	free(r.buf);
	/* upper (the HWM) hides the batches at or above it. */
	ck_assert_int_eq(log_read(l, 0, 1 << 20, 8, &r, NULL, 0), TERN_OK);
	ck_assert_int_eq(r.next_offset, 8);
	free(r.buf);
	ck_assert_int_eq(log_read(l, 8, 1 << 20, 8, &r, NULL, 0), TERN_OK);
	ck_assert_uint_eq(r.len, 0);
	log_dir_close(d);
}
END_TEST

START_TEST(segments_roll_and_lookup)
{
	log_dir_t *d = open_dir();
	log_config_t cfg = small_cfg();
	log_t *l = open_log(d, &cfg);
	int64_t n;

	append_n(l, 120, 3, 40, 0);
	n = log_next_offset(l);
	ck_assert_int_eq(log_wait_durable(l, n, 10000), TERN_OK);
	ck_assert_int_ge(log_segment_count(l), 3);
	for (int64_t o = 0; o < n; o++)
		check_offset(l, o);
	/* Segment base offsets are contiguous: every file name is a base. */
	log_close(l);
	l = open_log(d, &cfg);
	ck_assert_int_eq(log_end_offset(l), n);
	for (int64_t o = 0; o < n; o++)
		check_offset(l, o);
	log_dir_close(d);
}
END_TEST

START_TEST(roll_by_time)
{
	log_dir_t *d = open_dir();
	log_config_t cfg = small_cfg();
	log_t *l;

	cfg.segment_bytes = 1 << 20;
	cfg.segment_ms = 1000;
	l = open_log(d, &cfg);
	append_n(l, 2, 2, 10, 0);
	ck_assert_int_eq(log_segment_count(l), 1);
	fake_now += 1001;
	append_n(l, 1, 2, 10, 0);
	ck_assert_int_eq(log_segment_count(l), 2);
	log_dir_close(d);
}
END_TEST

START_TEST(reopen_after_crash)
{
	log_dir_t *d = open_dir();
	log_config_t cfg = small_cfg();
	log_t *l = open_log(d, &cfg);
	int64_t n;

	append_n(l, 50, 3, 40, 0);
	n = log_next_offset(l);
	ck_assert_int_eq(log_wait_durable(l, n, 10000), TERN_OK);
	log_dir_abandon(d); /* no close, no marker */

	d = open_dir();
	ck_assert(!log_dir_was_clean(d));
	l = open_log(d, &cfg);
	ck_assert_int_eq(log_end_offset(l), n);
	for (int64_t o = 0; o < n; o++)
		check_offset(l, o);
	append_n(l, 5, 3, 40, 0);
	ck_assert_int_eq(log_wait_durable(l, n + 15, 10000), TERN_OK);
	log_dir_close(d);

	d = open_dir();
	ck_assert(log_dir_was_clean(d));
	l = open_log(d, &cfg);
	ck_assert_int_eq(log_end_offset(l), n + 15);
	check_offset(l, n + 14);
	log_dir_close(d);
}
END_TEST

/* Garbage after the last batch (a torn write) is cut on recovery. */
START_TEST(recovery_cuts_torn_tail)
{
	log_dir_t *d = open_dir();
	log_config_t cfg;
	char path[4096];
	log_t *l;
	int fd;

	log_config_default(&cfg);
	l = open_log(d, &cfg);
	append_n(l, 4, 2, 30, 0);
	ck_assert_int_eq(log_wait_durable(l, 8, 10000), TERN_OK);
	log_dir_abandon(d);

	snprintf(path, sizeof path, "%s/events-0/%020d.log", dir, 0);
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "\0\0\0\0\0\0\0\x08\0\0\0\x40garbage", 19), 19);
	close(fd);

	d = open_dir();
	l = open_log(d, &cfg);
	ck_assert_int_eq(log_end_offset(l), 8);
	append_n(l, 1, 2, 30, 0);
	ck_assert_int_eq(log_wait_durable(l, 10, 10000), TERN_OK);
	for (int64_t o = 0; o < 10; o++)
		check_offset(l, o);
	log_dir_close(d);
}
END_TEST

START_TEST(time_lookup)
{
	log_dir_t *d = open_dir();
	log_config_t cfg = small_cfg();
	log_t *l = open_log(d, &cfg);
	int64_t off, n;

	append_n(l, 60, 4, 40, 5000); /* record g has timestamp 5000 + g */
	n = log_next_offset(l);
	ck_assert_int_eq(log_wait_end(l, n, 10000), TERN_OK);
	for (int64_t g = 0; g < n; g += 7) {
		ck_assert_int_eq(log_offset_for_timestamp(l, 5000 + g, &off), TERN_OK);
		ck_assert_int_eq(off, g);
	}
	ck_assert_int_eq(log_offset_for_timestamp(l, 0, &off), TERN_OK);
	ck_assert_int_eq(off, 0);
	ck_assert_int_eq(log_offset_for_timestamp(l, 5000 + n, &off), TERN_ERR__END);
	log_dir_close(d);
}
END_TEST

START_TEST(retention_by_size)
{
	log_dir_t *d = open_dir();
	log_config_t cfg = small_cfg();
	log_t *l = open_log(d, &cfg);
	int deleted = 0;
	int64_t n;

	append_n(l, 100, 3, 40, 0);
	n = log_next_offset(l);
	ck_assert_int_eq(log_wait_durable(l, n, 10000), TERN_OK);
	cfg.retention_bytes = 3 * 8192;
	log_set_config(l, &cfg);
	/* Nothing at or above upper may go. */
	ck_assert_int_eq(log_retain(l, 0, &deleted), TERN_OK);
	ck_assert_int_eq(deleted, 0);
	ck_assert_int_eq(log_retain(l, n, &deleted), TERN_OK);
	ck_assert_int_gt(deleted, 0);
	ck_assert_int_le(log_size_bytes(l), 3 * 8192);
	ck_assert_int_gt(log_start_offset(l), 0);
	ck_assert_int_eq(log_read(l, 0, 100, INT64_MAX, &(log_read_result_t){0}, NULL, 0),
			 TERN_ERR_OFFSET_OUT_OF_RANGE);
	check_offset(l, log_start_offset(l));
	check_offset(l, n - 1);
	/* The start survives a reopen. */
	{
		int64_t start = log_start_offset(l);

		log_close(l);
		l = open_log(d, &cfg);
		ck_assert_int_eq(log_start_offset(l), start);
	}
	log_dir_close(d);
}
END_TEST

START_TEST(retention_by_time)
{
	log_dir_t *d = open_dir();
	log_config_t cfg = small_cfg();
	log_t *l = open_log(d, &cfg);
	int deleted = 0;
	int64_t n, old_end;

	append_n(l, 40, 3, 40, fake_now - 100000); /* old records */
	old_end = log_next_offset(l);
	fake_now += 1;
	append_n(l, 40, 3, 40, fake_now); /* new ones */
	n = log_next_offset(l);
	ck_assert_int_eq(log_wait_durable(l, n, 10000), TERN_OK);
	cfg.retention_ms = 50000;
	log_set_config(l, &cfg);
	ck_assert_int_eq(log_retain(l, n, &deleted), TERN_OK);
	ck_assert_int_gt(deleted, 0);
	ck_assert_int_le(log_start_offset(l), old_end);
	check_offset(l, old_end);
	log_dir_close(d);
}
END_TEST

START_TEST(truncate_and_continue)
{
	log_dir_t *d = open_dir();
	log_config_t cfg = small_cfg();
	log_t *l = open_log(d, &cfg);
	int64_t n, end;
	int32_t e;
	int64_t eoff;

	append_n(l, 60, 3, 40, 0);
	n = log_next_offset(l);
	ck_assert_int_eq(log_wait_durable(l, n, 10000), TERN_OK);
	/* Truncate into the middle of a batch: the whole batch goes. */
	ck_assert_int_eq(log_truncate(l, 31, &end), TERN_OK);
	ck_assert_int_eq(end, 30);
	ck_assert_int_eq(log_end_offset(l), 30);
	ck_assert_int_eq(log_read(l, 31, 100, INT64_MAX, &(log_read_result_t){0}, NULL, 0),
			 TERN_ERR_OFFSET_OUT_OF_RANGE);
	/* New epoch from here. */
	ck_assert_int_eq(log_assign_epoch(l, 5, 30), TERN_OK);
	append_n(l, 10, 3, 40, 0);
	ck_assert_int_eq(log_wait_durable(l, 60, 10000), TERN_OK);
	for (int64_t o = 0; o < 60; o++)
		check_offset(l, o);
	log_end_offset_for_epoch(l, 3, &e, &eoff);
	ck_assert_int_eq(e, 3);
	ck_assert_int_eq(eoff, 30);
	log_dir_abandon(d);

	d = open_dir();
	l = open_log(d, &cfg);
	ck_assert_int_eq(log_end_offset(l), 60);
	for (int64_t o = 0; o < 60; o++)
		check_offset(l, o);
	ck_assert_int_eq(log_latest_epoch(l), 3); /* append_n stamps epoch 3 */
	log_dir_close(d);
}
END_TEST

/* Kafka's truncateTo drops an empty epoch at the log end even when no byte
 * is cut: a deposed leader must not keep answering for it. */
START_TEST(truncate_at_end_drops_empty_epoch)
{
	log_dir_t *d = open_dir();
	log_config_t cfg = small_cfg();
	log_t *l = open_log(d, &cfg);
	int64_t end;

	append_n(l, 2, 3, 40, 0); /* epoch 3 */
	ck_assert_int_eq(log_wait_durable(l, 6, 10000), TERN_OK);
	ck_assert_int_eq(log_assign_epoch(l, 9, 6), TERN_OK);
	ck_assert_int_eq(log_latest_epoch(l), 9);
	ck_assert_int_eq(log_truncate(l, 6, &end), TERN_OK);
	ck_assert_int_eq(end, 6);
	ck_assert_int_eq(log_latest_epoch(l), 3);
	log_dir_close(d);
}
END_TEST

START_TEST(truncate_fully)
{
	log_dir_t *d = open_dir();
	log_config_t cfg = small_cfg();
	log_t *l = open_log(d, &cfg);

	append_n(l, 10, 3, 40, 0);
	ck_assert_int_eq(log_wait_durable(l, 30, 10000), TERN_OK);
	ck_assert_int_eq(log_truncate_fully(l, 1000), TERN_OK);
	ck_assert_int_eq(log_start_offset(l), 1000);
	ck_assert_int_eq(log_end_offset(l), 1000);
	append_n(l, 2, 3, 40, 0);
	ck_assert_int_eq(log_wait_durable(l, 1006, 10000), TERN_OK);
	check_offset(l, 1005);
	log_close(l);
	l = open_log(d, &cfg);
	ck_assert_int_eq(log_start_offset(l), 1000);
	ck_assert_int_eq(log_end_offset(l), 1006);
	log_dir_close(d);
}
END_TEST

START_TEST(follower_append_keeps_offsets)
{
	log_dir_t *d = open_dir();
	log_config_t cfg;
	log_t *l;
	size_t len;
	uint8_t *b = make_batch(3, 0, 0, 10, &len);

	log_config_default(&cfg);
	l = open_log(d, &cfg);
	log_batch_set_base_offset(b, 0);
	log_batch_set_leader_epoch(b, 7);
	ck_assert_int_eq(log_append(l, b, len, -1, 0, NULL, NULL, NULL), TERN_OK);
	/* Not at the log end: refused. */
	ck_assert_int_eq(log_append(l, b, len, -1, 0, NULL, NULL, NULL),
			 TERN_ERR_OFFSET_OUT_OF_RANGE);
	ck_assert_int_eq(log_latest_epoch(l), 7);
	free(b);
	log_dir_close(d);
}
END_TEST

START_TEST(corrupt_closed_segment_not_served)
{
	log_dir_t *d = open_dir();
	log_config_t cfg = small_cfg();
	log_read_result_t r;
	char path[4096], err[512] = "";
	log_t *l = open_log(d, &cfg);
	int fd;
	uint8_t byte;

	append_n(l, 60, 3, 40, 0);
	ck_assert_int_eq(log_wait_durable(l, 180, 10000), TERN_OK);
	ck_assert_int_ge(log_segment_count(l), 2);
	log_close(l);

	/* Flip one bit inside the first batch's records (CRC-covered). */
	snprintf(path, sizeof path, "%s/events-0/%020d.log", dir, 0);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &byte, 1, 70), 1);
	byte ^= 0x10;
	ck_assert_int_eq(pwrite(fd, &byte, 1, 70), 1);
	close(fd);

	l = open_log(d, &cfg); /* clean: closed segments are not rescanned */
	ck_assert_int_eq(log_read(l, 0, 1 << 20, INT64_MAX, &r, err, sizeof err),
			 TERN_ERR_KAFKA_STORAGE_ERROR);
	ck_assert_msg(strstr(err, "00000000000000000000.log") != NULL, "error: %s", err);
	ck_assert(log_is_failed(l));
	/* Once corrupt, nothing more is served. */
	ck_assert_int_eq(log_read(l, 150, 100, INT64_MAX, &r, NULL, 0),
			 TERN_ERR_KAFKA_STORAGE_ERROR);
	log_dir_abandon(d);
}
END_TEST

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* A read that finds corrupt bytes fails the log; log_repair() cuts it at
 * the first bad batch, which may sit in a closed segment, and the log then
 * serves what is left and takes appends (a follower fetching back what was
 * cut). A failure that is not corruption is not repairable. */
START_TEST(repair_cuts_at_the_first_corrupt_batch)
{
	log_dir_t *d = open_dir();
	log_config_t cfg = small_cfg();
	log_read_result_t r;
	char path[4096];
	log_t *l = open_log(d, &cfg);
	int64_t seg1, end = -1;
	int64_t *bases = NULL;
	int fd;
	uint8_t byte;

	append_n(l, 120, 3, 40, 0);
	ck_assert_int_eq(log_wait_durable(l, 360, 10000), TERN_OK);
	ck_assert_int_ge(log_segment_count(l), 3);
	/* A healthy log needs no repair. */
	ck_assert_int_eq(log_repair(l, &end), TERN_OK);
	ck_assert_int_eq(end, 360);
	log_close(l);

	/* The second segment's first batch gets a flipped bit. */
	{
		char seg_dir[4096];
		DIR *dd;
		struct dirent *e;
		int k = 0;

		snprintf(seg_dir, sizeof seg_dir, "%s/events-0", dir);
		dd = opendir(seg_dir);
		ck_assert_ptr_nonnull(dd);
		bases = calloc(64, sizeof *bases);
		while ((e = readdir(dd)) && k < 64) {
			size_t n = strlen(e->d_name);

			if (n > 4 && strcmp(e->d_name + n - 4, ".log") == 0)
				bases[k++] = strtoll(e->d_name, NULL, 10);
		}
		closedir(dd);
		ck_assert_int_ge(k, 3);
		qsort(bases, (size_t)k, sizeof *bases, cmp_i64);
	}
	seg1 = bases[1];
	free(bases);
	snprintf(path, sizeof path, "%s/events-0/%020lld.log", dir, (long long)seg1);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &byte, 1, 70), 1);
	byte ^= 0x10;
	ck_assert_int_eq(pwrite(fd, &byte, 1, 70), 1);
	close(fd);

	l = open_log(d, &cfg);
	ck_assert_int_eq(log_read(l, 0, 1 << 20, INT64_MAX, &r, NULL, 0), TERN_OK);
	free(r.buf);
	ck_assert_int_eq(log_read(l, seg1, 1 << 20, INT64_MAX, &r, NULL, 0),
			 TERN_ERR_KAFKA_STORAGE_ERROR);
	ck_assert(log_is_failed(l));
	ck_assert_int_eq(log_repair(l, &end), TERN_OK);
	ck_assert_int_eq(end, seg1);
	ck_assert(!log_is_failed(l));
	ck_assert_int_eq(log_end_offset(l), seg1);
	check_offset(l, 0);
	check_offset(l, seg1 - 1);
	/* A follower appends back from the cut, keeping offsets. */
	{
		size_t len;
		uint8_t *b = make_batch(3, (int)seg1, seg1, 40, &len);
		log_append_info_t info;

		log_batch_set_base_offset(b, seg1);
		ck_assert_int_eq(log_append(l, b, len, 3, 0, &info, NULL, NULL), TERN_OK);
		free(b);
	}
	ck_assert_int_eq(log_wait_end(l, seg1 + 3, 10000), TERN_OK);
	check_offset(l, seg1 + 2);
	log_close(l);
	/* The cut survives a reopen. */
	l = open_log(d, &cfg);
	ck_assert_int_eq(log_end_offset(l), seg1 + 3);
	check_offset(l, seg1 + 1);
	log_close(l);
	log_dir_close(d);
}
END_TEST

START_TEST(async_flush)
{
	log_dir_t *d = open_dir();
	log_config_t cfg;
	log_t *l;

	log_config_default(&cfg);
	cfg.flush_policy = LOG_FLUSH_ASYNC;
	cfg.flush_ms = 50;
	l = open_log(d, &cfg);
	append_n(l, 20, 5, 10, 0);
	ck_assert_int_eq(log_wait_end(l, 100, 10000), TERN_OK);
	/* The periodic flush makes it durable without being asked. */
	ck_assert_int_eq(log_wait_durable(l, 100, 10000), TERN_OK);
	append_n(l, 1, 5, 10, 0);
	ck_assert_int_eq(log_flush(l), TERN_OK);
	ck_assert_int_eq(log_durable_end_offset(l), 105);
	log_dir_close(d);
}
END_TEST

/* The periodic fdatasync of an async log runs beside the writer (on its
 * flusher thread): a failure there fails the log as one in a round does,
 * and nothing after the last good flush counts as durable. */
START_TEST(async_flush_failure_fails_the_log)
{
	log_dir_t *d = open_dir();
	log_config_t cfg;
	log_t *l;
	int64_t deadline;

	if (log_fault_inject(LOG_FAULT_FSYNC, EIO, 0, 0) == TERN_ERR__UNSUPPORTED) {
		log_dir_close(d);
		return; /* a build without the hook has nothing to test here */
	}
	log_fault_clear();
	log_config_default(&cfg);
	cfg.flush_policy = LOG_FLUSH_ASYNC;
	cfg.flush_ms = 20;
	l = open_log(d, &cfg);
	append_n(l, 4, 5, 10, 0);
	ck_assert_int_eq(log_wait_durable(l, 20, 10000), TERN_OK);
	ck_assert_int_eq(log_fault_inject(LOG_FAULT_FSYNC, EIO, 0, -1), TERN_OK);
	append_n(l, 4, 5, 10, 0);
	ck_assert_int_eq(log_wait_end(l, 40, 10000), TERN_OK);
	deadline = tern_mono_ms() + 10000;
	while (!log_is_failed(l)) {
		ck_assert_msg(tern_mono_ms() < deadline, "the failed flush did not fail the log");
		usleep(1000);
	}
	log_fault_clear();
	ck_assert_int_eq(log_durable_end_offset(l), 20);
	log_dir_close(d);
}
END_TEST

static int cb_count;
static tern_err_t cb_last_err;

static void count_cb(void *opaque, tern_err_t err, int64_t base, int64_t last)
{
	(void)opaque;
	(void)base;
	(void)last;
	__atomic_add_fetch(&cb_count, 1, __ATOMIC_SEQ_CST);
	cb_last_err = err;
}

START_TEST(injected_write_errors)
{
	log_dir_t *d = open_dir();
	log_config_t cfg;
	log_t *l;
	size_t len;
	uint8_t *b = make_batch(2, 0, 0, 10, &len);

	if (log_fault_inject(LOG_FAULT_WRITE, ENOSPC, 0, 0) == TERN_ERR__UNSUPPORTED) {
		free(b);
		log_dir_close(d);
		return; /* a build without the hook has nothing to test here */
	}
	log_fault_clear();
	log_config_default(&cfg);
	l = open_log(d, &cfg);
	append_n(l, 3, 2, 10, 0);
	ck_assert_int_eq(log_wait_durable(l, 6, 10000), TERN_OK);

	/* A full disk: the append fails with ENOSPC, the log stays usable. */
	cb_count = 0;
	ck_assert_int_eq(log_fault_inject(LOG_FAULT_WRITE, ENOSPC, 0, 1), TERN_OK);
	ck_assert_int_eq(log_append(l, b, len, 3, LOG_APPEND_ASSIGN_OFFSETS, NULL, count_cb, NULL),
			 TERN_OK);
	/* A wait for what was rolled back ends with the write's error. */
	ck_assert_int_eq(log_wait_durable(l, 8, 2000), tern_err_errno(ENOSPC));
	while (__atomic_load_n(&cb_count, __ATOMIC_SEQ_CST) < 1)
		usleep(1000);
	ck_assert_int_eq(cb_last_err, tern_err_errno(ENOSPC));
	ck_assert(!log_is_failed(l));
	ck_assert_int_eq(log_end_offset(l), 6);
	append_n(l, 1, 2, 10, 0);
	ck_assert_int_eq(log_wait_durable(l, 8, 10000), TERN_OK);

	/* A failed fsync: the log fails and serves nothing until reopened. */
	ck_assert_int_eq(log_fault_inject(LOG_FAULT_FSYNC, EIO, 0, 1), TERN_OK);
	ck_assert_int_eq(log_append(l, b, len, 3, LOG_APPEND_ASSIGN_OFFSETS, NULL, NULL, NULL),
			 TERN_OK);
	ck_assert_int_eq(log_wait_durable(l, 10, 10000), TERN_ERR_KAFKA_STORAGE_ERROR);
	ck_assert(log_is_failed(l));
	ck_assert_msg(strstr(log_failure(l), "fdatasync") != NULL, "%s", log_failure(l));
	log_fault_clear();
	ck_assert_int_ne(log_close(l), TERN_OK);
	/* A log that failed to close leaves no clean-shutdown marker. */
	ck_assert_int_ne(log_dir_close(d), TERN_OK);

	d = open_dir();
	ck_assert(!log_dir_was_clean(d));
	l = open_log(d, &cfg);
	ck_assert_int_ge(log_end_offset(l), 8);
	for (int64_t o = 0; o < 8; o++)
		check_offset(l, o);
	free(b);
	log_dir_close(d);
}
END_TEST

START_TEST(dir_lock_refuses_second_open)
{
	log_dir_t *d = open_dir(), *d2 = NULL;
	log_dir_opts_t o = {.path = dir};
	char err[256] = "";

	ck_assert_int_ne(log_dir_open(&o, &d2, err, sizeof err), TERN_OK);
	ck_assert_msg(strstr(err, "in use") != NULL, "%s", err);
	log_dir_close(d);
}
END_TEST

START_TEST(bad_names_refused)
{
	log_dir_t *d = open_dir();
	log_config_t cfg;
	log_t *l;
	static const char *const bad[] = {"nopartition", "-1", "a/b-1", "t-x", "t-", "..-0"};

	log_config_default(&cfg);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_int_eq(log_open(d, bad[i], &cfg, &l, NULL, 0),
				 TERN_ERR_INVALID_TOPIC_EXCEPTION);
	log_dir_close(d);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, append_read_sync);
	tcase_add_test(tc, read_edges);
	tcase_add_test(tc, segments_roll_and_lookup);
	tcase_add_test(tc, roll_by_time);
	tcase_add_test(tc, reopen_after_crash);
	tcase_add_test(tc, recovery_cuts_torn_tail);
	tcase_add_test(tc, time_lookup);
	tcase_add_test(tc, retention_by_size);
	tcase_add_test(tc, retention_by_time);
	tcase_add_test(tc, truncate_and_continue);
	tcase_add_test(tc, truncate_at_end_drops_empty_epoch);
	tcase_add_test(tc, truncate_fully);
	tcase_add_test(tc, follower_append_keeps_offsets);
	tcase_add_test(tc, corrupt_closed_segment_not_served);
	tcase_add_test(tc, repair_cuts_at_the_first_corrupt_batch);
	tcase_add_test(tc, async_flush);
	tcase_add_test(tc, async_flush_failure_fails_the_log);
	tcase_add_test(tc, injected_write_errors);
	tcase_add_test(tc, dir_lock_refuses_second_open);
	tcase_add_test(tc, bad_names_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	tt_require_io_uring();
	return tt_run(log_suite());
}

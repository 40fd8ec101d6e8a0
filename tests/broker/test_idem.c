/* tests/broker/test_idem.c: the idempotent producers' state snapshots
 * (broker/idem.c over log/'s snapshot files): written at every segment
 * roll, the newest two kept, used on reopen instead of a full scan, a
 * corrupt one skipped, deleted by truncation above the new end and by
 * retention below the new start; and a real ternd that still answers a
 * repeat with its original offsets after kill -9. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker_int.h"
#include "log/log.h"
#include "tclient.h"
#include "testutil.h"

#define PART  "idem-0"
#define PID_A 1000
#define PID_B 2000

static char *dir;
static log_dir_t *ld;
static bk_topic_t topic = {.name = "idem"};
static bk_part_t part;

/* ------------------------------------------------------------------------ */
/* A partition without the broker: the log, the state and the real roll
 * callback, appended to in the order append_locked() keeps. */

static void open_part(void)
{
	log_dir_opts_t o = {.path = dir};
	log_config_t cfg;
	char err[512] = "";
	tern_err_t rc;

	rc = log_dir_open(&o, &ld, err, sizeof err);
	ck_assert_msg(rc == TERN_OK, "log_dir_open: %s", err);
	log_config_default(&cfg);
	cfg.segment_bytes = 1; /* every batch after the first rolls */
	cfg.segment_index_bytes = 4096;
	rc = log_open(ld, PART, &cfg, &part.log, err, sizeof err);
	ck_assert_msg(rc == TERN_OK, "log_open: %s", err);
	part.topic = &topic;
	part.index = 0;
	memset(&part.idem, 0, sizeof part.idem);
	log_set_roll_cb(part.log, bk_idem_roll, &part);
}

static void close_part(void)
{
	ck_assert_int_eq(log_dir_close(ld), TERN_OK);
	ld = NULL;
	part.log = NULL;
	bk_idem_free(&part.idem);
}

/* Reopens and rebuilds the state; *load says how. */
static tern_err_t reopen(bk_idem_load_t *load)
{
	char err[512] = "";

	close_part();
	open_part();
	return bk_idem_rebuild(&part.idem, part.log, PART, load, err, sizeof err);
}

static void setup(void)
{
	dir = tt_mkdtemp("idem");
	pthread_mutex_init(&part.mu, NULL);
	open_part();
}

static void teardown(void)
{
	if (ld)
		log_dir_close(ld);
	ld = NULL;
	bk_idem_free(&part.idem);
	pthread_mutex_destroy(&part.mu);
	tt_rmtree(dir);
	free(dir);
}

static uint8_t *idem_batch(int64_t pid, int16_t epoch, int32_t seq, int n, size_t *len,
			   log_batch_hdr_t *h)
{
	log_builder_opts_t o;
	log_batch_builder_t *b;
	uint8_t *buf;

	log_builder_opts_default(&o);
	o.producer_id = pid;
	o.producer_epoch = epoch;
	o.base_sequence = seq;
	ck_assert_int_eq(log_batch_builder_new(&o, &b), TERN_OK);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(
		    log_batch_builder_add(b, 1700000000000LL, "k", 1, "value", 5, NULL, 0),
		    TERN_OK);
	ck_assert_int_eq(log_batch_builder_finish(b, &buf, len), TERN_OK);
	log_batch_builder_free(b);
	ck_assert_int_eq(log_batch_hdr_parse(buf, *len, h), TERN_OK);
	return buf;
}

/* Sends a batch of n records at seq as the broker would: check, append,
 * record. Returns the verdict; *base gets the appended (or original)
 * base offset, *err the refusal. */
static bk_idem_verdict_t produce(int64_t pid, int32_t seq, int n, int64_t *base, tern_err_t *err)
{
	log_batch_hdr_t h;
	log_append_info_t info;
	bk_idem_batch_t dup;
	bk_idem_verdict_t v;
	tern_err_t e = TERN_OK;
	size_t len;
	uint8_t *buf = idem_batch(pid, 0, seq, n, &len, &h);

	v = bk_idem_check(&part.idem, &h, &dup, &e);
	if (v == BK_IDEM_APPEND) {
		ck_assert_int_eq(
		    log_append(part.log, buf, len, 0, LOG_APPEND_ASSIGN_OFFSETS, &info, NULL, NULL),
		    TERN_OK);
		ck_assert_int_eq(bk_idem_record(&part.idem, &h, info.base_offset), TERN_OK);
		/* As the broker's append callback would: written before the
		 * next step looks at the log end. */
		ck_assert_int_eq(log_wait_end(part.log, info.base_offset + n, 10000), TERN_OK);
		if (base)
			*base = info.base_offset;
	} else if (v == BK_IDEM_DUPLICATE && base) {
		*base = dup.base_offset;
	}
	if (err)
		*err = e;
	free(buf);
	return v;
}

static void produce_ok(int64_t pid, int32_t seq, int n, int64_t expect_base)
{
	int64_t base = -1;

	ck_assert_int_eq(produce(pid, seq, n, &base, NULL), BK_IDEM_APPEND);
	ck_assert_int_eq(base, expect_base);
}

static void expect_dup(int64_t pid, int32_t seq, int n, int64_t original)
{
	int64_t base = -1;

	ck_assert_int_eq(produce(pid, seq, n, &base, NULL), BK_IDEM_DUPLICATE);
	ck_assert_int_eq(base, original);
}

static bool snap_file_exists(int64_t offset)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/%s/%020lld.snapshot", dir, PART, (long long)offset);
	return access(path, F_OK) == 0;
}

/* The snapshot offsets the log lists, newest first, as "a,b,..". */
static char *snap_list(void)
{
	static char s[256];
	int64_t *offs = NULL;
	size_t n = 0, k = 0;

	ck_assert_int_eq(log_snapshot_list(part.log, &offs, &n), TERN_OK);
	s[0] = '\0';
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(s + k, sizeof s - k, "%s%lld", i ? "," : "",
				      (long long)offs[i]);
	free(offs);
	return s;
}

/* Flips one byte at pos of a file of the partition. */
static void flip(const char *name, off_t pos)
{
	char path[4096];
	uint8_t c;
	int fd;

	snprintf(path, sizeof path, "%s/%s/%s", dir, PART, name);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, pos), 1);
	c ^= 0x5a;
	ck_assert_int_eq(pwrite(fd, &c, 1, pos), 1);
	close(fd);
}

/* A's batches 0-2 (seq 0), 3-4 (seq 3), 5 (seq 5), 6-9 (seq 6), B's
 * 10-11 (seq 0): one segment each, snapshots at every roll. */
static void five_batches(void)
{
	produce_ok(PID_A, 0, 3, 0);
	produce_ok(PID_A, 3, 2, 3);
	ck_assert(snap_file_exists(3));
	produce_ok(PID_A, 5, 1, 5);
	produce_ok(PID_A, 6, 4, 6);
	produce_ok(PID_B, 0, 2, 10);
}

START_TEST(snapshot_written_at_each_roll_holds_the_state_before_it_and_two_are_kept)
{
	bk_idem_t s = {0};
	uint8_t *payload = NULL;
	size_t len = 0;
	char why[256] = "";

	five_batches();
	/* Rolls at 3, 5, 6 and 10; the newest two stay. */
	ck_assert_str_eq(snap_list(), "10,6");
	ck_assert(!snap_file_exists(3));
	ck_assert(!snap_file_exists(5));

	/* The snapshot at 10 holds A's four batches and not B's, at 10. */
	ck_assert_int_eq(log_snapshot_read(part.log, 10, &payload, &len, why, sizeof why), TERN_OK);
	ck_assert_msg(bk_idem_decode(&s, payload, len, 10, why, sizeof why) == TERN_OK, "%s", why);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_int_eq(s.p[0].pid, PID_A);
	ck_assert_int_eq(s.p[0].n, 4);
	ck_assert_int_eq(s.p[0].b[3].first_seq, 6);
	ck_assert_int_eq(s.p[0].b[3].last_seq, 9);
	ck_assert_int_eq(s.p[0].b[3].base_offset, 6);
	ck_assert_int_eq(s.p[0].b[3].last_offset, 9);
	/* Refused as the state of an earlier offset: its batches reach 9. */
	ck_assert_int_eq(bk_idem_decode(&s, payload, len, 9, why, sizeof why), TERN_ERR__CORRUPT);
	free(payload);
	bk_idem_free(&s);
}
END_TEST

START_TEST(reopen_reads_only_the_batches_after_the_newest_snapshot)
{
	bk_idem_load_t load;
	char err[512] = "";
	int64_t *offs = NULL;
	size_t n = 0;

	five_batches();
	ck_assert_int_eq(reopen(&load), TERN_OK);
	ck_assert_int_eq(load.snapshot_offset, 10);
	ck_assert_int_eq(load.discarded, 0);
	ck_assert_int_eq(load.batches_scanned, 1);
	expect_dup(PID_A, 0, 3, 0);
	expect_dup(PID_A, 6, 4, 6);
	expect_dup(PID_B, 0, 2, 10);
	produce_ok(PID_A, 10, 1, 12);

	/* A bad batch below the snapshot: the rebuild never reads it, a full
	 * scan does (and fails the log). */
	flip("00000000000000000000.log", 70);
	ck_assert_int_eq(reopen(&load), TERN_OK);
	ck_assert_int_eq(load.snapshot_offset, 12);
	expect_dup(PID_A, 3, 2, 3);
	ck_assert_int_eq(log_snapshot_list(part.log, &offs, &n), TERN_OK);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(log_snapshot_delete(part.log, offs[i]), TERN_OK);
	free(offs);
	ck_assert_int_eq(bk_idem_rebuild(&part.idem, part.log, PART, &load, err, sizeof err),
			 TERN_ERR_KAFKA_STORAGE_ERROR);
	ck_assert_int_eq(load.snapshot_offset, -1);
}
END_TEST

START_TEST(corrupt_snapshot_falls_back_to_the_older_then_to_a_full_scan)
{
	bk_idem_load_t load;
	char path[4096];

	five_batches();
	close_part();
	flip("00000000000000000010.snapshot", 30);
	open_part();
	ck_assert_int_eq(bk_idem_rebuild(&part.idem, part.log, PART, &load, NULL, 0), TERN_OK);
	ck_assert_int_eq(load.snapshot_offset, 6);
	ck_assert_int_eq(load.discarded, 1);
	ck_assert_int_eq(load.batches_scanned, 2);
	ck_assert(!snap_file_exists(10));
	expect_dup(PID_A, 6, 4, 6);
	expect_dup(PID_B, 0, 2, 10);

	/* A file cut short (a lost write): nothing left, so a full scan. */
	snprintf(path, sizeof path, "%s/%s/%020d.snapshot", dir, PART, 6);
	ck_assert_int_eq(truncate(path, 10), 0);
	ck_assert_int_eq(reopen(&load), TERN_OK);
	ck_assert_int_eq(load.snapshot_offset, -1);
	ck_assert_int_eq(load.discarded, 1);
	ck_assert_int_eq(load.batches_scanned, 5);
	expect_dup(PID_A, 0, 3, 0);
	expect_dup(PID_A, 6, 4, 6);
	expect_dup(PID_B, 0, 2, 10);
}
END_TEST

START_TEST(truncation_below_a_snapshot_deletes_it_and_the_rebuild_forgets_the_cut)
{
	bk_idem_load_t load;
	char err[512] = "";
	int64_t end = -1;
	tern_err_t e;

	five_batches();
	/* Cut A's last batch (6-9) and B's: the snapshot at 10 goes, 6 stays. */
	ck_assert_int_eq(log_truncate(part.log, 7, &end), TERN_OK);
	ck_assert_int_eq(end, 6);
	ck_assert(!snap_file_exists(10));
	ck_assert_str_eq(snap_list(), "6");
	ck_assert_int_eq(bk_idem_rebuild(&part.idem, part.log, PART, &load, err, sizeof err),
			 TERN_OK);
	ck_assert_int_eq(load.snapshot_offset, 6);
	ck_assert_int_eq(load.batches_scanned, 0);
	/* The cut batches are new again; those before the cut are repeats. */
	expect_dup(PID_A, 5, 1, 5);
	ck_assert_int_eq(produce(PID_A, 10, 1, NULL, &e), BK_IDEM_REFUSE);
	ck_assert_int_eq(e, TERN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	produce_ok(PID_A, 6, 4, 6);
	produce_ok(PID_B, 0, 1, 10);
	/* Offset 10 again, other bytes: a new snapshot there, and a reopen
	 * agrees with what the log now holds. */
	ck_assert_str_eq(snap_list(), "10,6");
	ck_assert_int_eq(reopen(&load), TERN_OK);
	ck_assert_int_eq(load.snapshot_offset, 10);
	expect_dup(PID_B, 0, 1, 10);
	ck_assert_int_eq(produce(PID_B, 0, 2, NULL, &e), BK_IDEM_REFUSE);
}
END_TEST

START_TEST(retention_deletes_snapshots_below_the_start_and_the_state_outlives_it)
{
	log_config_t cfg;
	bk_idem_load_t load;
	int deleted = 0;

	five_batches();
	log_config_default(&cfg);
	cfg.segment_bytes = 1;
	cfg.segment_index_bytes = 4096;
	cfg.retention_bytes = 0;
	log_set_config(part.log, &cfg);
	ck_assert_int_eq(log_retain(part.log, INT64_MAX, &deleted), TERN_OK);
	ck_assert_int_eq(deleted, 4);
	ck_assert_int_eq(log_start_offset(part.log), 10);
	ck_assert(!snap_file_exists(6));
	ck_assert_str_eq(snap_list(), "10");

	/* A's batches are gone from the log, not from its state. */
	ck_assert_int_eq(reopen(&load), TERN_OK);
	ck_assert_int_eq(load.snapshot_offset, 10);
	expect_dup(PID_A, 6, 4, 6);
	produce_ok(PID_A, 10, 2, 12);

	/* The start moved inside the segment at 12: no scan from 10 or 12
	 * can be made any more, so both snapshots go. */
	ck_assert_str_eq(snap_list(), "12,10");
	ck_assert_int_eq(log_advance_start(part.log, 13), TERN_OK);
	ck_assert(!snap_file_exists(10));
	ck_assert(!snap_file_exists(12));
	ck_assert_str_eq(snap_list(), "");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A real ternd                                                               */

static tc_broker_t br;
static tc_conn_t conn;

static void up(void)
{
	tc_broker_init(&br, "idem");
	tc_broker_start(&br);
	tc_connect(&conn, br.url);
}

static void down(void)
{
	if (conn.pool)
		tc_close(&conn);
	tc_broker_fini(&br);
}

START_TEST(ternd_detects_repeats_after_kill9_from_its_snapshots)
{
	proto_init_producer_id_req_t ireq = {.transactional_id = PROTO_NULL_STR};
	proto_init_producer_id_resp_t iresp;
	proto_config_kv_t kv = {PROTO_STR("segment.bytes"), PROTO_STR("14")};
	int64_t pid, bases[8], base;
	char path[4096];
	proto_buf_t body;
	tc_resp_t r;
	size_t len;
	uint8_t *b;
	int nsnap = 0;

	ck_assert_int_eq(tc_create_topic(&conn, "snap", 1, &kv, 1), 0);
	proto_buf_init(&body);
	proto_init_producer_id_req_encode(&body, 1, &ireq);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_INIT_PRODUCER_ID, 1, &body, 30000, &r), 0);
	ck_assert_int_eq(proto_init_producer_id_resp_decode(&r.r, 1, &iresp), 0);
	ck_assert_int_eq(iresp.error_code, 0);
	pid = iresp.producer_id;
	tc_resp_free(&r);
	proto_buf_free(&body);

	for (int i = 0; i < 8; i++) {
		b = tc_batch(2, "s", LOG_CODEC_NONE, pid, 0, 2 * i, &len);
		ck_assert_int_eq(tc_produce(&conn, "snap", 0, -1, b, len, &bases[i]), 0);
		free(b);
	}
	/* Every batch rolled a segment: the newest two snapshots are there. */
	for (int i = 0; i < 8; i++) {
		snprintf(path, sizeof path, "%s/data/snap-0/%020lld.snapshot", br.dir,
			 (long long)bases[i]);
		nsnap += access(path, F_OK) == 0;
	}
	ck_assert_int_eq(nsnap, 2);

	tc_close(&conn);
	tc_broker_kill(&br);
	tc_broker_start(&br);
	tc_connect(&conn, br.url);
	/* The last batch (after the snapshot) and an older one (in it). */
	for (int i = 7; i >= 3; i -= 4) {
		b = tc_batch(2, "s", LOG_CODEC_NONE, pid, 0, 2 * i, &len);
		ck_assert_int_eq(tc_produce(&conn, "snap", 0, -1, b, len, &base), 0);
		ck_assert_int_eq(base, bases[i]);
		free(b);
	}
	b = tc_batch(2, "s", LOG_CODEC_NONE, pid, 0, 20, &len);
	ck_assert_int_eq(tc_produce(&conn, "snap", 0, -1, b, len, &base),
			 TERN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	free(b);
	b = tc_batch(2, "s", LOG_CODEC_NONE, pid, 0, 16, &len);
	ck_assert_int_eq(tc_produce(&conn, "snap", 0, -1, b, len, &base), 0);
	ck_assert_int_eq(base, bases[7] + 2);
	free(b);
}
END_TEST

/* Corrupt data found by a read fails the log, but repairably: a failed
 * append behind it (bk_part_storage_failed) reports the replica and must
 * not take it offline for good as an I/O error does (found by the soak:
 * the replica never repaired and never rejoined). */
START_TEST(a_corrupt_log_is_reported_not_taken_offline)
{
	log_read_result_t rr;
	char path[1024], err[256];
	uint8_t byte;
	int fd;

	produce_ok(PID_A, 0, 3, 0);
	produce_ok(PID_A, 3, 3, 3);
	ck_assert_int_eq(log_wait_durable(part.log, 6, 10000), TERN_OK);
	snprintf(path, sizeof path, "%s/%s/%020d.log", dir, PART, 0);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &byte, 1, 70), 1);
	byte ^= 0x10;
	ck_assert_int_eq(pwrite(fd, &byte, 1, 70), 1);
	close(fd);
	ck_assert_int_ne(log_read(part.log, 0, 1 << 20, INT64_MAX, &rr, err, sizeof err), TERN_OK);
	ck_assert(log_is_failed(part.log));
	ck_assert(log_is_repairable(part.log));
	ck_assert(bk_part_mark_corrupt(&part));
	bk_part_storage_failed(NULL, &part); /* reported already: no broker needed */
	ck_assert(part.corrupt_reported);
	ck_assert(!part.offline);
}
END_TEST

/* A failed append rolls back everything from its base offset: the state
 * forgets those batches (newest first, per producer), keeps the ones
 * before, and a retry is then appended again rather than answered with
 * offsets later records will take. */
START_TEST(a_rolled_back_append_is_forgotten)
{
	bk_idem_t s = {0};
	bk_idem_batch_t dup;
	log_batch_hdr_t h = {.producer_id = PID_A, .producer_epoch = 0, .last_offset_delta = 1};
	tern_err_t err = TERN_OK;

	/* A: seq 0-1 at 10, 2-3 at 14, 4-5 at 20; B: seq 0-1 at 12, 2-3 at 22. */
	h.base_sequence = 0;
	ck_assert_int_eq(bk_idem_record(&s, &h, 10), TERN_OK);
	h.base_sequence = 2;
	ck_assert_int_eq(bk_idem_record(&s, &h, 14), TERN_OK);
	h.base_sequence = 4;
	ck_assert_int_eq(bk_idem_record(&s, &h, 20), TERN_OK);
	h.producer_id = PID_B;
	h.base_sequence = 0;
	ck_assert_int_eq(bk_idem_record(&s, &h, 12), TERN_OK);
	h.base_sequence = 2;
	ck_assert_int_eq(bk_idem_record(&s, &h, 22), TERN_OK);

	bk_idem_forget_from(&s, 14);
	/* B's 2-3 (at 22) is gone: a retry is new, in sequence. */
	ck_assert_int_eq(bk_idem_check(&s, &h, &dup, &err), BK_IDEM_APPEND);
	/* B's 0-1 (at 12) stays a duplicate with its offsets. */
	h.base_sequence = 0;
	ck_assert_int_eq(bk_idem_check(&s, &h, &dup, &err), BK_IDEM_DUPLICATE);
	ck_assert_int_eq(dup.base_offset, 12);
	/* A keeps 0-1 only: 2-3 is next again, 4-5 out of order. */
	h.producer_id = PID_A;
	h.base_sequence = 2;
	ck_assert_int_eq(bk_idem_check(&s, &h, &dup, &err), BK_IDEM_APPEND);
	h.base_sequence = 4;
	ck_assert_int_eq(bk_idem_check(&s, &h, &dup, &err), BK_IDEM_REFUSE);
	ck_assert_int_eq(err, TERN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	h.base_sequence = 0;
	ck_assert_int_eq(bk_idem_check(&s, &h, &dup, &err), BK_IDEM_DUPLICATE);
	ck_assert_int_eq(dup.base_offset, 10);
	/* Past every batch: nothing changes. */
	bk_idem_forget_from(&s, 100);
	ck_assert_int_eq(bk_idem_check(&s, &h, &dup, &err), BK_IDEM_DUPLICATE);
	bk_idem_free(&s);
}
END_TEST

static Suite *idem_suite(void)
{
	Suite *s = suite_create("idem");
	TCase *tc = tcase_create("snapshots");
	TCase *tt = tcase_create("ternd");
	TCase *tf = tcase_create("state");

	tcase_add_test(tf, a_rolled_back_append_is_forgotten);
	suite_add_tcase(s, tf);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		       snapshot_written_at_each_roll_holds_the_state_before_it_and_two_are_kept);
	tcase_add_test(tc, reopen_reads_only_the_batches_after_the_newest_snapshot);
	tcase_add_test(tc, corrupt_snapshot_falls_back_to_the_older_then_to_a_full_scan);
	tcase_add_test(tc, truncation_below_a_snapshot_deletes_it_and_the_rebuild_forgets_the_cut);
	tcase_add_test(tc, retention_deletes_snapshots_below_the_start_and_the_state_outlives_it);
	tcase_add_test(tc, a_corrupt_log_is_reported_not_taken_offline);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tt, up, down);
	tcase_set_timeout(tt, 120);
	tcase_add_test(tt, ternd_detects_repeats_after_kill9_from_its_snapshots);
	suite_add_tcase(s, tt);
	return s;
}

int main(int argc, char **argv)
{
	tc_enter_namespace(argc, argv);
	tt_require_io_uring();
	return tt_run(idem_suite());
}

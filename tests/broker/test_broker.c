/* tests/broker/test_broker.c: real ternd processes spoken to over proto/:
 * topics and metadata, produce at every acks and fetch back, long polls,
 * crash and clean stop, bad input, idempotent producers. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log/log.h"
#include "tclient.h"
#include "testutil.h"

static tc_broker_t br;
static tc_conn_t conn;

static void up(void)
{
	tc_broker_init(&br, "broker");
	tc_broker_start(&br);
	tc_connect(&conn, br.url);
}

static void down(void)
{
	if (conn.pool)
		tc_close(&conn);
	tc_broker_fini(&br);
}

static void restart(bool hard)
{
	tc_close(&conn);
	if (hard)
		tc_broker_kill(&br);
	else
		ck_assert_int_eq(tc_broker_term(&br), 0);
	tc_broker_start(&br);
	tc_connect(&conn, br.url);
}

/* Fetches every record of a partition from offset 0 (up to max). */
static int fetch_all(const char *topic, int32_t part, char **vals, int64_t *offs, int max)
{
	int n = 0;
	int64_t hwm = 0, next = 0;

	do {
		int before = n;

		ck_assert_int_eq(
		    tc_fetch(&conn, topic, part, next, 0, 0, vals, offs, max, &n, &hwm), 0);
		if (n == before)
			break;
		next = offs[n - 1] + 1;
	} while (next < hwm && n < max);
	return n;
}

static void free_vals(char **vals, int n)
{
	for (int i = 0; i < n; i++)
		free(vals[i]);
}

START_TEST(create_topic_then_metadata_names_it_with_leader_and_epoch)
{
	proto_str_t name = PROTO_STR("orders");
	proto_metadata_req_t req = {.topics = &name, .topics_count = 1};
	proto_metadata_resp_t resp;
	proto_buf_t body;
	tc_resp_t r;

	ck_assert_int_eq(tc_create_topic(&conn, "orders", 3, NULL, 0), 0);
	ck_assert_int_eq(tc_create_topic(&conn, "orders", 3, NULL, 0),
			 TERN_ERR_TOPIC_ALREADY_EXISTS);
	proto_buf_init(&body);
	proto_metadata_req_encode(&body, 8, &req);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_METADATA, 8, &body, 30000, &r), 0);
	proto_buf_free(&body);
	ck_assert_int_eq(proto_metadata_resp_decode(&r.r, 8, &resp), 0);
	ck_assert_int_eq(resp.brokers_count, 1);
	ck_assert_int_eq(resp.controller_id, 0);
	ck_assert_int_eq(resp.topics_count, 1);
	ck_assert_int_eq(resp.topics[0].error_code, 0);
	ck_assert_int_eq(resp.topics[0].partitions_count, 3);
	for (int i = 0; i < 3; i++) {
		const proto_metadata_partition_t *p = &resp.topics[0].partitions[i];

		ck_assert_int_eq(p->leader_id, 0);
		ck_assert_int_ge(p->leader_epoch, 0);
		ck_assert_int_eq(p->replica_nodes_count, 1);
		ck_assert_int_eq(p->isr_nodes_count, 1);
	}
	tc_resp_free(&r);
}
END_TEST

START_TEST(produce_at_every_acks_then_fetch_returns_offsets_and_values)
{
	char *vals[64];
	int64_t offs[64], base;
	size_t len;
	uint8_t *b;
	int n;

	ck_assert_int_eq(tc_create_topic(&conn, "t", 1, NULL, 0), 0);
	b = tc_batch(3, "one", LOG_CODEC_NONE, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "t", 0, 1, b, len, &base), 0);
	ck_assert_int_eq(base, 0);
	free(b);
	b = tc_batch(4, "all", LOG_CODEC_ZSTD, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "t", 0, -1, b, len, &base), 0);
	ck_assert_int_eq(base, 3);
	free(b);
	b = tc_batch(2, "zero", LOG_CODEC_NONE, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "t", 0, 0, b, len, NULL), 0);
	free(b);
	b = tc_batch(1, "after", LOG_CODEC_NONE, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "t", 0, -1, b, len, &base), 0);
	ck_assert_int_eq(base, 9);
	ck_assert_int_eq(tc_produce(&conn, "t", 0, 2, b, len, &base),
			 TERN_ERR_INVALID_REQUIRED_ACKS);
	ck_assert_int_eq(tc_produce(&conn, "nope", 0, 1, b, len, &base),
			 TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	free(b);

	n = fetch_all("t", 0, vals, offs, 64);
	ck_assert_int_eq(n, 10);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(offs[i], i);
	ck_assert_str_eq(vals[0], "one-0");
	ck_assert_str_eq(vals[3], "all-0");
	ck_assert_str_eq(vals[7], "zero-0");
	ck_assert_str_eq(vals[9], "after-0");
	free_vals(vals, n);
}
END_TEST

START_TEST(fetch_past_the_end_is_out_of_range)
{
	char *vals[4];
	int64_t offs[4], hwm;
	int n = 0;

	ck_assert_int_eq(tc_create_topic(&conn, "t", 1, NULL, 0), 0);
	ck_assert_int_eq(tc_fetch(&conn, "t", 0, 0, 0, 0, vals, offs, 4, &n, &hwm), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(hwm, 0);
	ck_assert_int_eq(tc_fetch(&conn, "t", 0, 5, 0, 0, vals, offs, 4, &n, &hwm),
			 TERN_ERR_OFFSET_OUT_OF_RANGE);
}
END_TEST

/* Produces one record half a second after it starts (nanomsg sockets do
 * not survive fork(): a thread, with its own connection). */
static void *late_producer(void *arg)
{
	tc_conn_t other;
	size_t len;
	uint8_t *b;
	int64_t base;
	int16_t *code = arg;

	usleep(500000);
	tc_connect(&other, br.url);
	b = tc_batch(1, "late", LOG_CODEC_NONE, -1, 0, 0, &len);
	*code = tc_produce(&other, "poll", 0, 1, b, len, &base);
	free(b);
	tc_close(&other);
	return NULL;
}

START_TEST(long_poll_returns_when_data_arrives)
{
	pthread_t th;
	char *vals[4];
	int64_t offs[4], hwm, t0, took;
	int16_t code = -1;
	int n = 0;

	ck_assert_int_eq(tc_create_topic(&conn, "poll", 1, NULL, 0), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, late_producer, &code), 0);
	t0 = proto_now_ms();
	ck_assert_int_eq(tc_fetch(&conn, "poll", 0, 0, 20000, 1, vals, offs, 4, &n, &hwm), 0);
	took = proto_now_ms() - t0;
	pthread_join(th, NULL);
	ck_assert_int_eq(code, 0);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(vals[0], "late-0");
	ck_assert_msg(took < 15000, "the long poll took %lld ms", (long long)took);
	free_vals(vals, n);

	/* Without data it ends at its max wait, with nothing. */
	n = 0;
	t0 = proto_now_ms();
	ck_assert_int_eq(tc_fetch(&conn, "poll", 0, 1, 300, 1, vals, offs, 4, &n, &hwm), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_ge(proto_now_ms() - t0, 250);
}
END_TEST

START_TEST(kill9_and_restart_keeps_every_acknowledged_record)
{
	char *vals[256];
	int64_t offs[256], base;
	size_t len;
	int n, acked = 0;

	ck_assert_int_eq(tc_create_topic(&conn, "durable", 2, NULL, 0), 0);
	for (int i = 0; i < 20; i++) {
		char prefix[16];
		uint8_t *b;

		snprintf(prefix, sizeof prefix, "b%d", i);
		b = tc_batch(5, prefix, i % 2 ? LOG_CODEC_ZSTD : LOG_CODEC_NONE, -1, 0, 0, &len);
		ck_assert_int_eq(tc_produce(&conn, "durable", i % 2, i % 3 ? 1 : -1, b, len, &base),
				 0);
		acked += 5;
		free(b);
	}
	restart(true);
	n = fetch_all("durable", 0, vals, offs, 256);
	n += fetch_all("durable", 1, vals + n, offs + n, 256 - n);
	ck_assert_int_eq(n, acked);
	free_vals(vals, n);
	/* The restart started new leader epochs; appends go on after the end. */
	{
		uint8_t *b = tc_batch(1, "post", LOG_CODEC_NONE, -1, 0, 0, &len);

		ck_assert_int_eq(tc_produce(&conn, "durable", 0, -1, b, len, &base), 0);
		ck_assert_int_eq(base, 50);
		free(b);
	}
}
END_TEST

START_TEST(sigterm_exits_zero_and_leaves_the_clean_marker)
{
	char path[600];
	size_t len;
	uint8_t *b;
	int64_t base;

	ck_assert_int_eq(tc_create_topic(&conn, "t", 1, NULL, 0), 0);
	b = tc_batch(3, "x", LOG_CODEC_NONE, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "t", 0, 1, b, len, &base), 0);
	free(b);
	tc_close(&conn);
	ck_assert_int_eq(tc_broker_term(&br), 0);
	snprintf(path, sizeof path, "%s/data/.tern-clean-shutdown", br.dir);
	ck_assert_msg(access(path, F_OK) == 0, "no clean-shutdown marker at %s", path);
}
END_TEST

/* The broker still answers a Metadata request correctly. */
static void still_serving(void)
{
	proto_metadata_req_t req = {.topics_count = -1};
	proto_metadata_resp_t resp;
	proto_buf_t body;
	tc_resp_t r;

	proto_buf_init(&body);
	proto_metadata_req_encode(&body, 1, &req);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_METADATA, 1, &body, 30000, &r), 0);
	proto_buf_free(&body);
	ck_assert_int_eq(proto_metadata_resp_decode(&r.r, 1, &resp), 0);
	ck_assert_int_eq(resp.brokers_count, 1);
	tc_resp_free(&r);
}

START_TEST(bad_input_gets_an_error_and_the_broker_keeps_serving)
{
	/* Metadata v1, correlation id 7, a client id claiming 32767 bytes. */
	static const uint8_t garbage[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00,
					  0x00, 0x07, 0x7f, 0xff, 0x41, 0x42};
	/* An unknown API key (0xdead). */
	static const uint8_t unknown[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x08, 0x05};
	static const uint8_t truncated[] = {0x00, 0x03, 0x00};
	proto_config_kv_t zstd = {PROTO_STR("compression.type"), PROTO_STR("zstd")};
	proto_config_kv_t small = {PROTO_STR("max.message.bytes"), PROTO_STR("200")};
	proto_config_kv_t bad = {PROTO_STR("flush.policy"), PROTO_STR("fast")};
	proto_buf_t body;
	tc_resp_t r;
	proto_reader_t *rd;
	int64_t base;
	size_t len;
	uint8_t *b;

	/* Bytes that are no request: no answer, the next client is served. */
	ck_assert_int_eq(tc_call_raw(&conn, garbage, sizeof garbage, 500, &r),
			 TERN_ERR_REQUEST_TIMED_OUT);
	ck_assert_int_eq(tc_call_raw(&conn, truncated, sizeof truncated, 500, &r),
			 TERN_ERR__INVALID_ARG);
	still_serving();
	ck_assert_int_eq(tc_call_raw(&conn, unknown, sizeof unknown, 30000, &r), 0);
	ck_assert_int_eq(proto_rd_i32(&r.r), 8);
	ck_assert_int_eq(proto_rd_i16(&r.r), TERN_ERR_UNSUPPORTED_VERSION);
	tc_resp_free(&r);

	/* An unknown API key and an unknown version: UNSUPPORTED_VERSION. */
	proto_buf_init(&body);
	ck_assert_int_eq(tc_call(&conn, 999, 0, &body, 30000, &r), 0);
	rd = &r.r;
	ck_assert_int_eq(proto_rd_i16(rd), TERN_ERR_UNSUPPORTED_VERSION);
	tc_resp_free(&r);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_PRODUCE, 99, &body, 30000, &r), 0);
	ck_assert_int_eq(proto_rd_i16(&r.r), TERN_ERR_UNSUPPORTED_VERSION);
	tc_resp_free(&r);
	/* A truncated body: INVALID_REQUEST. */
	proto_wr_i16(&body, 1);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_PRODUCE, 8, &body, 30000, &r), 0);
	ck_assert_int_eq(proto_rd_i16(&r.r), TERN_ERR_INVALID_REQUEST);
	tc_resp_free(&r);
	proto_buf_free(&body);

	/* Names and configs. */
	ck_assert_int_eq(tc_create_topic(&conn, "bad name!", 1, NULL, 0),
			 TERN_ERR_INVALID_TOPIC_EXCEPTION);
	ck_assert_int_eq(tc_create_topic(&conn, "..", 1, NULL, 0),
			 TERN_ERR_INVALID_TOPIC_EXCEPTION);
	ck_assert_int_eq(tc_create_topic(&conn, "cfg", 1, &bad, 1), TERN_ERR_INVALID_CONFIG);
	ck_assert_int_eq(tc_create_topic(&conn, "cfg", 0, NULL, 0), TERN_ERR_INVALID_PARTITIONS);

	/* A CRC-corrupt batch, a batch above max.message.bytes, the wrong codec. */
	ck_assert_int_eq(tc_create_topic(&conn, "z", 1, &zstd, 1), 0);
	ck_assert_int_eq(tc_create_topic(&conn, "small", 1, &small, 1), 0);
	b = tc_batch(3, "x", LOG_CODEC_NONE, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "z", 0, 1, b, len, &base),
			 TERN_ERR_UNSUPPORTED_COMPRESSION_TYPE);
	b[len - 1] ^= 0x40;
	ck_assert_int_eq(tc_produce(&conn, "small", 0, 1, b, len, &base), TERN_ERR_CORRUPT_MESSAGE);
	free(b);
	b = tc_batch(40, "a-longer-record-value", LOG_CODEC_NONE, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "small", 0, 1, b, len, &base),
			 TERN_ERR_MESSAGE_TOO_LARGE);
	free(b);

	/* None of it was appended; a good batch still is, at offset 0. */
	b = tc_batch(1, "ok", LOG_CODEC_ZSTD, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "z", 0, -1, b, len, &base), 0);
	ck_assert_int_eq(base, 0);
	free(b);
	still_serving();
}
END_TEST

START_TEST(idempotent_repeat_gets_original_offsets_and_a_gap_gets_45)
{
	proto_init_producer_id_req_t ireq = {.transactional_id = PROTO_NULL_STR};
	proto_init_producer_id_resp_t iresp;
	proto_buf_t body;
	tc_resp_t r;
	int64_t pid, pid2, base, base2;
	size_t len;
	uint8_t *b;

	ck_assert_int_eq(tc_create_topic(&conn, "idem", 1, NULL, 0), 0);
	proto_buf_init(&body);
	proto_init_producer_id_req_encode(&body, 1, &ireq);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_INIT_PRODUCER_ID, 1, &body, 30000, &r), 0);
	ck_assert_int_eq(proto_init_producer_id_resp_decode(&r.r, 1, &iresp), 0);
	ck_assert_int_eq(iresp.error_code, 0);
	pid = iresp.producer_id;
	tc_resp_free(&r);

	b = tc_batch(3, "s0", LOG_CODEC_NONE, pid, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "idem", 0, -1, b, len, &base), 0);
	ck_assert_int_eq(tc_produce(&conn, "idem", 0, -1, b, len, &base2), 0);
	ck_assert_int_eq(base2, base);
	free(b);
	b = tc_batch(2, "s3", LOG_CODEC_NONE, pid, 0, 3, &len);
	ck_assert_int_eq(tc_produce(&conn, "idem", 0, 1, b, len, &base2), 0);
	ck_assert_int_eq(base2, base + 3);
	free(b);
	b = tc_batch(2, "gap", LOG_CODEC_NONE, pid, 0, 9, &len);
	ck_assert_int_eq(tc_produce(&conn, "idem", 0, 1, b, len, &base2),
			 TERN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	free(b);

	/* After a crash the state comes back from the log, and producer ids
	 * are never handed out twice. */
	restart(true);
	b = tc_batch(2, "s3", LOG_CODEC_NONE, pid, 0, 3, &len);
	ck_assert_int_eq(tc_produce(&conn, "idem", 0, 1, b, len, &base2), 0);
	ck_assert_int_eq(base2, base + 3);
	free(b);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_INIT_PRODUCER_ID, 1, &body, 30000, &r), 0);
	ck_assert_int_eq(proto_init_producer_id_resp_decode(&r.r, 1, &iresp), 0);
	pid2 = iresp.producer_id;
	ck_assert_int_gt(pid2, pid);
	tc_resp_free(&r);
	proto_buf_free(&body);
}
END_TEST

static Suite *broker_suite(void)
{
	Suite *s = suite_create("broker");
	TCase *tc = tcase_create("ternd");

	tcase_add_checked_fixture(tc, up, down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, create_topic_then_metadata_names_it_with_leader_and_epoch);
	tcase_add_test(tc, produce_at_every_acks_then_fetch_returns_offsets_and_values);
	tcase_add_test(tc, fetch_past_the_end_is_out_of_range);
	tcase_add_test(tc, long_poll_returns_when_data_arrives);
	tcase_add_test(tc, kill9_and_restart_keeps_every_acknowledged_record);
	tcase_add_test(tc, sigterm_exits_zero_and_leaves_the_clean_marker);
	tcase_add_test(tc, bad_input_gets_an_error_and_the_broker_keeps_serving);
	tcase_add_test(tc, idempotent_repeat_gets_original_offsets_and_a_gap_gets_45);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	tc_enter_namespace(argc, argv);
	tt_require_io_uring();
	return tt_run(broker_suite());
}

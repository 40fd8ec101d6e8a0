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

/* ---- bad input, case by case ---------------------------------------- */

/* Records acknowledged before the bad input: every case checks they are all
 * still there afterwards. */
#define ACKED_TOPIC "acked"
#define ACKED_N	    12

static void produce_acked(void)
{
	int64_t base;
	size_t len;
	uint8_t *b;

	ck_assert_int_eq(tc_create_topic(&conn, ACKED_TOPIC, 1, NULL, 0), 0);
	for (int i = 0; i < ACKED_N / 3; i++) {
		char prefix[16];

		snprintf(prefix, sizeof prefix, "acked%d", i);
		b = tc_batch(3, prefix, i % 2 ? LOG_CODEC_ZSTD : LOG_CODEC_NONE, -1, 0, 0, &len);
		ck_assert_int_eq(tc_produce(&conn, ACKED_TOPIC, 0, -1, b, len, &base), 0);
		ck_assert_int_eq(base, 3 * i);
		free(b);
	}
}

/* A client that was not part of the bad exchange is served correctly, and
 * every record acknowledged before it is still readable, in order. */
static void next_client_served_and_acked_records_readable(void)
{
	tc_conn_t saved = conn;
	char *vals[ACKED_N + 4];
	int64_t offs[ACKED_N + 4];
	int n;

	tc_connect(&conn, br.url);
	still_serving();
	n = fetch_all(ACKED_TOPIC, 0, vals, offs, ACKED_N + 4);
	ck_assert_int_eq(n, ACKED_N);
	for (int i = 0; i < n; i++) {
		char want[32];

		snprintf(want, sizeof want, "acked%d-%d", i / 3, i % 3);
		ck_assert_int_eq(offs[i], i);
		ck_assert_str_eq(vals[i], want);
	}
	free_vals(vals, n);
	tc_close(&conn);
	conn = saved;
}

/* Sends header (key, version, the next correlation id) + body as they are
 * and expects the error-only answer of docs/broker.md: the response header
 * and one INT16, want, and nothing else. */
static void expect_error_only(int16_t key, int16_t version, const proto_buf_t *body, int16_t want,
			      const char *what)
{
	tc_resp_t r;

	ck_assert_msg(!body->oom, "%s: encoding", what);
	ck_assert_msg(tc_call(&conn, key, version, body, 30000, &r) == TERN_OK, "%s: no answer",
		      what);
	ck_assert_msg(proto_rd_left(&r.r) == 2, "%s: %zu bytes of body, want 2", what,
		      proto_rd_left(&r.r));
	ck_assert_msg(proto_rd_i16(&r.r) == want, "%s: wrong error code", what);
	tc_resp_free(&r);
}

/* Sends raw bytes (no header of ours) and returns the INT16 that follows
 * the response header, checking the correlation id; -1000 when the broker
 * did not answer within timeout_ms. */
static int raw_error_code(const void *bytes, size_t len, int timeout_ms, int32_t corr)
{
	tc_resp_t r;
	tern_err_t err = tc_call_raw(&conn, bytes, len, timeout_ms, &r);
	int code;

	if (err == TERN_ERR_REQUEST_TIMED_OUT)
		return -1000;
	ck_assert_int_eq(err, TERN_OK);
	ck_assert_int_eq(proto_rd_i32(&r.r), corr);
	code = proto_rd_i16(&r.r);
	ck_assert_int_eq(r.r.err, TERN_OK);
	tc_resp_free(&r);
	return code;
}

START_TEST(garbage_and_truncated_frames_never_hurt_acknowledged_records)
{
	/* Bytes that are no Kafka request at all: an HTTP request line
	 * (read as API key 0x4745) and all-ones (API key -1). Both have a
	 * header the broker can read, so it answers UNSUPPORTED_VERSION. */
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	int64_t base;
	size_t len;
	uint8_t *b;
	proto_buf_t req;
	proto_req_hdr_t h = {.api_key = PROTO_API_PRODUCE,
			     .api_version = 8,
			     .correlation_id = 77,
			     .client_id = PROTO_STR("tern-test")};
	proto_produce_req_partition_t p = {.index = 0};
	proto_produce_req_topic_t t = {
	    .name = PROTO_STR(ACKED_TOPIC), .partitions = &p, .partitions_count = 1};
	proto_produce_req_t pr = {.transactional_id = PROTO_NULL_STR,
				  .acks = -1,
				  .timeout_ms = 20000,
				  .topics = &t,
				  .topics_count = 1};
	uint32_t corr_http = ((uint32_t)'/' << 24) | ((uint32_t)' ' << 16) | ('H' << 8) | 'T';

	produce_acked();
	ck_assert_int_eq(
	    raw_error_code(http, sizeof http - 1, 30000, (int32_t)(corr_http & ~0x80000000u)),
	    TERN_ERR_UNSUPPORTED_VERSION);
	next_client_served_and_acked_records_readable();
	/* All-ones has correlation id -1: the SP id (top bit set) agrees
	 * with it, so it is answered too. */
	ck_assert_int_eq(raw_error_code(ones, sizeof ones, 30000, -1),
			 TERN_ERR_UNSUPPORTED_VERSION);
	next_client_served_and_acked_records_readable();

	/* A whole Produce request cut short at every length from just past
	 * the header to one byte before its end: the header decodes, the
	 * body does not, so each gets INVALID_REQUEST; none is appended. */
	b = tc_batch(2, "cut", LOG_CODEC_NONE, -1, 0, 0, &len);
	p.records = (proto_bytes_t){b, (int32_t)len};
	proto_buf_init(&req);
	proto_req_hdr_encode(&req, &h);
	proto_produce_req_encode(&req, 8, &pr);
	ck_assert(!req.oom);
	for (size_t cut = 8 + 2 + 9; cut < req.len; cut += cut < 40 ? 1 : 7)
		ck_assert_msg(raw_error_code(req.p, cut, 30000, 77) == TERN_ERR_INVALID_REQUEST,
			      "cut at %zu of %zu", cut, req.len);
	/* Cut inside the header's client id: no header, no answer. */
	ck_assert_int_eq(raw_error_code(req.p, 8 + 2 + 4, 500, 77), -1000);
	proto_buf_free(&req);
	free(b);
	next_client_served_and_acked_records_readable();

	/* The next append still lands right after the acknowledged ones. */
	b = tc_batch(1, "after", LOG_CODEC_NONE, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "acked", 0, -1, b, len, &base), 0);
	ck_assert_int_eq(base, ACKED_N);
	free(b);
}
END_TEST

/* Produce v8 with a negative length or count at one place (which). */
enum neg_where {
	NEG_TXN_ID,	/* transactional_id: NULLABLE_STRING of length -2 */
	NEG_TOPICS,	/* topics: ARRAY count -2 */
	NEG_TOPIC_NAME, /* topic name: STRING of length -5 */
	NEG_NULL_NAME,	/* topic name: -1 where null is not allowed */
	NEG_PARTS,	/* partitions: ARRAY count -3 */
	NEG_RECORDS,	/* records: NULLABLE_BYTES of length -2 */
	NEG_RECORDS_MIN /* records: length INT32_MIN */
};

static void produce_body(proto_buf_t *out, enum neg_where w, const uint8_t *batch, size_t len)
{
	proto_buf_init(out);
	if (w == NEG_TXN_ID)
		proto_wr_i16(out, -2);
	else
		proto_wr_nstring(out, PROTO_NULL_STR);
	proto_wr_i16(out, -1);	  /* acks */
	proto_wr_i32(out, 20000); /* timeout */
	proto_wr_i32(out, w == NEG_TOPICS ? -2 : 1);
	if (w == NEG_TOPIC_NAME)
		proto_wr_i16(out, -5);
	else if (w == NEG_NULL_NAME)
		proto_wr_i16(out, -1);
	else
		proto_wr_string(out, PROTO_STR(ACKED_TOPIC));
	proto_wr_i32(out, w == NEG_PARTS ? -3 : 1);
	proto_wr_i32(out, 0); /* partition index */
	if (w == NEG_RECORDS)
		proto_wr_i32(out, -2);
	else if (w == NEG_RECORDS_MIN)
		proto_wr_i32(out, INT32_MIN);
	else
		proto_wr_i32(out, (int32_t)len);
	proto_wr_raw(out, batch, len);
}

START_TEST(negative_lengths_in_produce_metadata_and_create_topics_are_invalid_request)
{
	static const struct {
		enum neg_where w;
		const char *what;
	} produce_cases[] = {
	    {NEG_TXN_ID, "Produce transactional_id length -2"},
	    {NEG_TOPICS, "Produce topics count -2"},
	    {NEG_TOPIC_NAME, "Produce topic name length -5"},
	    {NEG_NULL_NAME, "Produce topic name null"},
	    {NEG_PARTS, "Produce partitions count -3"},
	    {NEG_RECORDS, "Produce records length -2"},
	    {NEG_RECORDS_MIN, "Produce records length INT32_MIN"},
	};
	proto_buf_t body;
	int64_t base;
	size_t len;
	uint8_t *b;
	tc_resp_t r;
	proto_produce_resp_t presp;

	produce_acked();
	b = tc_batch(2, "neg", LOG_CODEC_NONE, -1, 0, 0, &len);
	for (size_t i = 0; i < sizeof produce_cases / sizeof produce_cases[0]; i++) {
		produce_body(&body, produce_cases[i].w, b, len);
		expect_error_only(PROTO_API_PRODUCE, 8, &body, TERN_ERR_INVALID_REQUEST,
				  produce_cases[i].what);
		proto_buf_free(&body);
	}
	/* A null record set (-1, which the schema allows) reaches the
	 * partition: INVALID_RECORD there, nothing appended. */
	proto_buf_init(&body);
	proto_wr_nstring(&body, PROTO_NULL_STR);
	proto_wr_i16(&body, -1);
	proto_wr_i32(&body, 20000);
	proto_wr_i32(&body, 1);
	proto_wr_string(&body, PROTO_STR(ACKED_TOPIC));
	proto_wr_i32(&body, 1);
	proto_wr_i32(&body, 0);
	proto_wr_i32(&body, -1);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_PRODUCE, 8, &body, 30000, &r), 0);
	ck_assert_int_eq(proto_produce_resp_decode(&r.r, 8, &presp), 0);
	ck_assert_int_eq(presp.topics_count, 1);
	ck_assert_int_eq(presp.topics[0].partitions_count, 1);
	ck_assert_int_eq(presp.topics[0].partitions[0].error_code, TERN_ERR_INVALID_RECORD);
	tc_resp_free(&r);
	proto_buf_free(&body);
	/* A negative batchLength inside the record set: the batch is
	 * refused, not appended. */
	b[8] = 0xff;
	b[9] = 0xff;
	b[10] = 0xff;
	b[11] = 0xfe;
	ck_assert_int_eq(tc_produce(&conn, ACKED_TOPIC, 0, -1, b, len, &base),
			 TERN_ERR_CORRUPT_MESSAGE);
	free(b);
	next_client_served_and_acked_records_readable();

	/* Metadata v8: topics count -2, a name of length -2, a null name. */
	proto_buf_init(&body);
	proto_wr_i32(&body, -2);
	proto_wr_bool(&body, false);
	proto_wr_bool(&body, false);
	proto_wr_bool(&body, false);
	expect_error_only(PROTO_API_METADATA, 8, &body, TERN_ERR_INVALID_REQUEST,
			  "Metadata topics count -2");
	proto_buf_free(&body);
	for (int16_t neg = -2; neg <= -1; neg++) {
		proto_buf_init(&body);
		proto_wr_i32(&body, 1);
		proto_wr_i16(&body, neg);
		proto_wr_bool(&body, false);
		proto_wr_bool(&body, false);
		proto_wr_bool(&body, false);
		expect_error_only(PROTO_API_METADATA, 8, &body, TERN_ERR_INVALID_REQUEST,
				  neg == -1 ? "Metadata topic name null"
					    : "Metadata name length -2");
		proto_buf_free(&body);
	}
	next_client_served_and_acked_records_readable();

	/* CreateTopics v4, one negative field at a time: topics count, name
	 * length, assignments count, broker ids count, configs count, a
	 * config name (null), a config value length (-2). */
	for (int w = 0; w < 7; w++) {
		static const char *const what[] = {
		    "CreateTopics topics count -2",	  "CreateTopics name length -3",
		    "CreateTopics assignments count -2",  "CreateTopics broker ids count -4",
		    "CreateTopics configs count -2",	  "CreateTopics config name null",
		    "CreateTopics config value length -2"};

		proto_buf_init(&body);
		proto_wr_i32(&body, w == 0 ? -2 : 1);
		if (w == 1)
			proto_wr_i16(&body, -3);
		else
			proto_wr_string(&body, PROTO_STR("negative"));
		proto_wr_i32(&body, -1); /* num_partitions: from the assignments */
		proto_wr_i16(&body, -1); /* replication_factor */
		proto_wr_i32(&body, w == 2 ? -2 : 1);
		proto_wr_i32(&body, 0); /* partition index */
		proto_wr_i32(&body, w == 3 ? -4 : 1);
		proto_wr_i32(&body, 0); /* broker id */
		proto_wr_i32(&body, w == 4 ? -2 : 1);
		if (w == 5)
			proto_wr_i16(&body, -1);
		else
			proto_wr_string(&body, PROTO_STR("retention.ms"));
		if (w == 6)
			proto_wr_i16(&body, -2);
		else
			proto_wr_nstring(&body, PROTO_STR("60000"));
		proto_wr_i32(&body, 10000); /* timeout */
		proto_wr_bool(&body, false);
		expect_error_only(PROTO_API_CREATE_TOPICS, 4, &body, TERN_ERR_INVALID_REQUEST,
				  what[w]);
		proto_buf_free(&body);
	}
	/* None of them made the topic. */
	ck_assert_int_eq(tc_create_topic(&conn, "negative", 1, NULL, 0), 0);
	next_client_served_and_acked_records_readable();
}
END_TEST

START_TEST(records_refused_by_topic_rules_leave_acknowledged_records_alone)
{
	proto_config_kv_t zstd = {PROTO_STR("compression.type"), PROTO_STR("zstd")};
	proto_config_kv_t none = {PROTO_STR("compression.type"), PROTO_STR("uncompressed")};
	proto_config_kv_t small = {PROTO_STR("max.message.bytes"), PROTO_STR("300")};
	proto_str_t bad_name = PROTO_STR("no/slashes");
	proto_metadata_req_t mreq = {
	    .topics = &bad_name, .topics_count = 1, .allow_auto_topic_creation = true};
	proto_metadata_resp_t mresp;
	char big[600];
	int64_t base;
	size_t len;
	uint8_t *b;
	proto_buf_t body;
	tc_resp_t r;
	log_batch_builder_t *bb;
	log_builder_opts_t o;

	produce_acked();
	ck_assert_int_eq(tc_create_topic(&conn, "z", 1, &zstd, 1), 0);
	ck_assert_int_eq(tc_create_topic(&conn, "plain", 1, &none, 1), 0);
	ck_assert_int_eq(tc_create_topic(&conn, "small", 1, &small, 1), 0);

	/* Wrong codec both ways. */
	b = tc_batch(2, "c", LOG_CODEC_NONE, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "z", 0, -1, b, len, &base),
			 TERN_ERR_UNSUPPORTED_COMPRESSION_TYPE);
	free(b);
	b = tc_batch(2, "c", LOG_CODEC_ZSTD, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "plain", 0, -1, b, len, &base),
			 TERN_ERR_UNSUPPORTED_COMPRESSION_TYPE);
	/* A CRC mismatch (a flipped bit in the last record): CORRUPT_MESSAGE,
	 * also on the topic whose records it carries. */
	b[len - 1] ^= 0x01;
	ck_assert_int_eq(tc_produce(&conn, ACKED_TOPIC, 0, -1, b, len, &base),
			 TERN_ERR_CORRUPT_MESSAGE);
	free(b);
	next_client_served_and_acked_records_readable();

	/* One record above max.message.bytes. */
	memset(big, 'x', sizeof big);
	log_builder_opts_default(&o);
	ck_assert_int_eq(log_batch_builder_new(&o, &bb), TERN_OK);
	ck_assert_int_eq(
	    log_batch_builder_add(bb, 1700000000000LL, NULL, 0, big, sizeof big, NULL, 0), TERN_OK);
	ck_assert_int_eq(log_batch_builder_finish(bb, &b, &len), TERN_OK);
	log_batch_builder_free(bb);
	ck_assert_int_eq(tc_produce(&conn, "small", 0, -1, b, len, &base),
			 TERN_ERR_MESSAGE_TOO_LARGE);
	free(b);

	/* Invalid topic names: Produce, Metadata (auto-creation allowed) and
	 * CreateTopics. */
	b = tc_batch(1, "n", LOG_CODEC_NONE, -1, 0, 0, &len);
	ck_assert_int_eq(tc_produce(&conn, "no/slashes", 0, -1, b, len, &base),
			 TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	free(b);
	proto_buf_init(&body);
	proto_metadata_req_encode(&body, 8, &mreq);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_METADATA, 8, &body, 30000, &r), 0);
	proto_buf_free(&body);
	ck_assert_int_eq(proto_metadata_resp_decode(&r.r, 8, &mresp), 0);
	ck_assert_int_eq(mresp.topics_count, 1);
	ck_assert_int_eq(mresp.topics[0].error_code, TERN_ERR_INVALID_TOPIC_EXCEPTION);
	tc_resp_free(&r);
	ck_assert_int_eq(tc_create_topic(&conn, "no/slashes", 1, NULL, 0),
			 TERN_ERR_INVALID_TOPIC_EXCEPTION);
	next_client_served_and_acked_records_readable();
}
END_TEST

/* Opens a connection whose client-side limit is far above the broker's
 * socket.request.max.bytes, so that the transport sends what the broker's
 * nanomsg must refuse. */
static void connect_unlimited(tc_conn_t *c, const char *url)
{
	proto_transport_opts_t o;
	char err[256];

	proto_transport_opts_default(&o);
	o.max_request_bytes = 64u << 20;
	o.request_timeout_ms = 30000;
	c->corr = 1;
	ck_assert_msg(proto_pool_new(url, 1, &o, &c->pool, err, sizeof err) == TERN_OK, "%s", err);
}

START_TEST(frame_above_socket_request_max_bytes_breaks_only_its_connection)
{
	const size_t limit = 65536;
	tc_conn_t big;
	proto_buf_t body;
	tc_resp_t r;
	uint8_t *pad;

	/* The fixture's broker is replaced by one with a small limit. */
	tc_close(&conn);
	tc_broker_fini(&br);
	tc_broker_init(&br, "broker");
	br.extra[br.nextra++] = "--socket.request.max.bytes=65536";
	tc_broker_start(&br);
	tc_connect(&conn, br.url);
	produce_acked();

	/* A Metadata request padded to one byte above the limit: the
	 * broker's nanomsg breaks the connection without reading it. */
	connect_unlimited(&big, br.url);
	pad = calloc(1, limit);
	ck_assert_ptr_nonnull(pad);
	proto_buf_init(&body);
	proto_wr_i32(&body, -1);
	proto_wr_bool(&body, false);
	proto_wr_bool(&body, false);
	proto_wr_bool(&body, false);
	proto_wr_raw(&body, pad, limit - body.len - 8 - 2 - 9 + 1);
	{
		tc_conn_t saved = conn;

		conn = big;
		ck_assert_int_eq(tc_call(&conn, PROTO_API_METADATA, 8, &body, 30000, &r),
				 TERN_ERR_NETWORK_EXCEPTION);
		/* One byte less is exactly the limit, and is answered. */
		body.len--;
		ck_assert_int_eq(tc_call(&conn, PROTO_API_METADATA, 8, &body, 30000, &r), 0);
		tc_resp_free(&r);
		/* The same client connects again and is served. */
		still_serving();
		big = conn;
		conn = saved;
	}
	proto_buf_free(&body);
	free(pad);
	tc_close(&big);
	next_client_served_and_acked_records_readable();
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
	tcase_add_test(tc, garbage_and_truncated_frames_never_hurt_acknowledged_records);
	tcase_add_test(tc,
		       negative_lengths_in_produce_metadata_and_create_topics_are_invalid_request);
	tcase_add_test(tc, records_refused_by_topic_rules_leave_acknowledged_records_alone);
	tcase_add_test(tc, frame_above_socket_request_max_bytes_breaks_only_its_connection);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	tc_enter_namespace(argc, argv);
	tt_require_io_uring();
	return tt_run(broker_suite());
}

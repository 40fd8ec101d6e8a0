/* tests/consumer/test_consumer.c: the consumer against the fake broker:
 * everything a topic holds consumed once and in order (zstd and
 * uncompressed batches, headers, null and empty keys and values) with a
 * checksum; a start inside a batch; seek and position; auto.offset.reset
 * on out of range; the long poll; commits and committed offsets; a
 * CRC-corrupt batch surfaced and not delivered; leader changes; the
 * bounded prefetch queue; partition EOF events. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumer/consumer_int.h"
#include "fake_broker.h"
#include "testutil.h"

#define TOPIC "t"

/* The record at offset off of partition part: its key, value and headers
 * are a function of both, covering null and empty keys and values. */
typedef struct expect {
	char key[32], val[64], hval[32];
	bool key_null, val_null;
	int nheaders; /* 0 or 2: "h1" = hval, "hn" = null */
} expect_t;

static void expected(int32_t part, int64_t off, expect_t *e)
{
	memset(e, 0, sizeof(*e));
	e->key_null = off % 5 == 0;
	if (off % 5 >= 2)
		snprintf(e->key, sizeof(e->key), "k%d-%lld", part, (long long)off);
	e->val_null = off % 7 == 0;
	if (off % 7 >= 2)
		snprintf(e->val, sizeof(e->val), "value %d/%lld %s", part, (long long)off,
			 off % 2 ? "odd" : "even");
	if (off % 3 == 0) {
		e->nheaders = 2;
		snprintf(e->hval, sizeof(e->hval), "x%lld", (long long)off);
	}
}

/* Appends n records from offset from (the log end) to part as one batch. */
static void put(fake_broker_t *fb, int32_t part, int codec, int64_t from, int n)
{
	log_builder_opts_t o;
	log_batch_builder_t *b;
	uint8_t *buf;
	size_t len;

	log_builder_opts_default(&o);
	o.codec = codec;
	ck_assert_int_eq(log_batch_builder_new(&o, &b), TERN_OK);
	for (int64_t off = from; off < from + n; off++) {
		expect_t e;
		log_header_t h[2] = {{"h1", 2, NULL, 0}, {"hn", 2, NULL, 0}};

		expected(part, off, &e);
		h[0].value = e.hval;
		h[0].value_len = strlen(e.hval);
		ck_assert_int_eq(log_batch_builder_add(b, 1700000000000 + off,
						       e.key_null ? NULL : e.key, strlen(e.key),
						       e.val_null ? NULL : e.val, strlen(e.val),
						       e.nheaders ? h : NULL, (size_t)e.nheaders),
				 TERN_OK);
	}
	ck_assert_int_eq(log_batch_builder_finish(b, &buf, &len), TERN_OK);
	log_batch_builder_free(b);
	ck_assert_int_eq(fb_append(fb, part, buf, len), from);
	free(buf);
}

/* Checks that m is the expected record and returns its checksum term. */
static uint64_t check_msg(const tern_message_t *m)
{
	expect_t e;
	uint64_t h = 1469598103934665603ULL;

	ck_assert_int_eq(m->err, TERN_OK);
	ck_assert_str_eq(m->topic, TOPIC);
	expected(m->partition, m->offset, &e);
	ck_assert_int_eq(m->timestamp, 1700000000000 + m->offset);
	if (e.key_null) {
		ck_assert_ptr_null(m->key);
	} else {
		ck_assert_ptr_nonnull(m->key);
		ck_assert_uint_eq(m->key_len, strlen(e.key));
		ck_assert(memcmp(m->key, e.key, m->key_len) == 0);
	}
	if (e.val_null) {
		ck_assert_ptr_null(m->value);
	} else {
		ck_assert_ptr_nonnull(m->value);
		ck_assert_uint_eq(m->value_len, strlen(e.val));
		ck_assert(memcmp(m->value, e.val, m->value_len) == 0);
	}
	ck_assert_uint_eq(m->nheaders, (size_t)e.nheaders);
	if (e.nheaders) {
		ck_assert_uint_eq(m->headers[0].key_len, 2);
		ck_assert(memcmp(m->headers[0].key, "h1", 2) == 0);
		ck_assert_uint_eq(m->headers[0].value_len, strlen(e.hval));
		ck_assert(memcmp(m->headers[0].value, e.hval, strlen(e.hval)) == 0);
		ck_assert(memcmp(m->headers[1].key, "hn", 2) == 0);
		ck_assert_ptr_null(m->headers[1].value);
	}
	for (size_t i = 0; i < m->value_len; i++)
		h = (h ^ ((const uint8_t *)m->value)[i]) * 1099511628211ULL;
	return h ^ (uint64_t)m->offset ^ ((uint64_t)m->partition << 40);
}

/* TERN_TEST_DEBUG=1 prints the consumer's log lines. */
static void log_line(void *opaque, int level, const char *id, const char *line)
{
	(void)opaque;
	fprintf(stderr, "%d %s %s\n", level, id, line);
}

static tern_consumer_t *mk(const char *url, const char *extra[][2])
{
	tern_conf_t *conf = tern_conf_new();
	char err[256];
	tern_consumer_t *c;

	ck_assert_int_eq(tern_conf_set(conf, "bootstrap.servers", url, err, sizeof(err)), TERN_OK);
	ck_assert_int_eq(tern_conf_set(conf, "request.timeout.ms", "3000", err, sizeof(err)),
			 TERN_OK);
	ck_assert_int_eq(tern_conf_set(conf, "retry.backoff.ms", "20", err, sizeof(err)), TERN_OK);
	ck_assert_int_eq(tern_conf_set(conf, "fetch.max.wait.ms", "200", err, sizeof(err)),
			 TERN_OK);
	for (int i = 0; extra && extra[i][0]; i++)
		ck_assert_msg(tern_conf_set(conf, extra[i][0], extra[i][1], err, sizeof(err)) ==
				  TERN_OK,
			      "%s", err);
	if (getenv("TERN_TEST_DEBUG")) {
		tern_conf_set_log_cb(conf, log_line, NULL);
		tern_conf_set(conf, "log_level", "7", err, sizeof(err));
	}
	c = tern_consumer_new(conf, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	return c;
}

/* Polls the next record (failing on events and after 10 s). */
static tern_message_t *next_record(tern_consumer_t *c)
{
	int64_t deadline = proto_now_ms() + 10000;

	while (proto_now_ms() < deadline) {
		tern_message_t *m;
		tern_err_t err = tern_consumer_poll(c, 200, &m);

		if (err == TERN_ERR__TIMED_OUT)
			continue;
		ck_assert_msg(err == TERN_OK, "poll: %s at offset %lld", tern_err_name(err),
			      m ? (long long)m->offset : -1LL);
		return m;
	}
	ck_abort_msg("no record within 10 s");
	return NULL;
}

/* Polls until an event (not a record) arrives; returns it. */
static tern_message_t *next_event(tern_consumer_t *c)
{
	int64_t deadline = proto_now_ms() + 10000;

	while (proto_now_ms() < deadline) {
		tern_message_t *m;
		tern_err_t err = tern_consumer_poll(c, 200, &m);

		if (err == TERN_ERR__TIMED_OUT)
			continue;
		ck_assert_msg(err != TERN_OK, "a record at %lld where an event was expected",
			      (long long)m->offset);
		return m;
	}
	ck_abort_msg("no event within 10 s");
	return NULL;
}

static int64_t position_when_known(tern_consumer_t *c, int32_t part)
{
	int64_t deadline = proto_now_ms() + 10000, pos = TERN_OFFSET_INVALID;

	while (proto_now_ms() < deadline) {
		ck_assert_int_eq(tern_consumer_position(c, TOPIC, part, &pos), TERN_OK);
		if (pos != TERN_OFFSET_INVALID)
			return pos;
		usleep(10000);
	}
	ck_abort_msg("position never resolved");
	return pos;
}

START_TEST(consumes_every_record_once_in_order_with_checksum)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19731", TOPIC, 3);
	const char *extra[][2] = {
	    {"group.id", "g-all"}, {"auto.offset.reset", "earliest"}, {NULL, NULL}};
	const char *topics[] = {TOPIC};
	uint64_t want = 0, got = 0;
	int64_t next[3] = {0, 0, 0}, per = 0;
	tern_consumer_t *c;

	ck_assert_ptr_nonnull(fb);
	for (int32_t p = 0; p < 3; p++) {
		int64_t off = 0;

		for (int k = 0; k < 12; k++) {
			int n = 1 + (k * 37 + p * 11) % 60;

			put(fb, p, k % 2 ? LOG_CODEC_ZSTD : LOG_CODEC_NONE, off, n);
			off += n;
		}
		for (int64_t o = 0; o < off; o++) {
			expect_t e;
			uint64_t h = 1469598103934665603ULL;

			expected(p, o, &e);
			for (size_t i = 0; !e.val_null && i < strlen(e.val); i++)
				h = (h ^ (uint8_t)e.val[i]) * 1099511628211ULL;
			want += h ^ (uint64_t)o ^ ((uint64_t)p << 40);
		}
		per += off;
	}
	c = mk("tcp://127.0.0.1:19731", extra);
	ck_assert_int_eq(tern_consumer_subscribe(c, topics, 1), TERN_OK);
	for (int64_t i = 0; i < per; i++) {
		tern_message_t *m = next_record(c);

		ck_assert_int_eq(m->offset, next[m->partition]);
		next[m->partition]++;
		got += check_msg(m);
		tern_message_destroy(m);
	}
	ck_assert_uint_eq(got, want);
	for (int32_t p = 0; p < 3; p++) {
		int64_t pos;

		ck_assert_int_eq(tern_consumer_position(c, TOPIC, p, &pos), TERN_OK);
		ck_assert_int_eq(pos, fb_end_offset(fb, p));
	}
	ck_assert_int_eq(tern_consumer_close(c), TERN_OK);
	/* Auto commit at close wrote every position. */
	for (int32_t p = 0; p < 3; p++)
		ck_assert_int_eq(fb_committed(fb, "g-all", p), fb_end_offset(fb, p));
	fb_stop(fb);
}
END_TEST

START_TEST(assign_inside_a_batch_skips_records_below)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19732", TOPIC, 1);
	tern_consumer_t *c;

	put(fb, 0, LOG_CODEC_ZSTD, 0, 10);
	put(fb, 0, LOG_CODEC_NONE, 10, 10);
	c = mk("tcp://127.0.0.1:19732", NULL);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, 5), TERN_OK);
	for (int64_t o = 5; o < 20; o++) {
		tern_message_t *m = next_record(c);

		ck_assert_int_eq(m->offset, o);
		check_msg(m);
		tern_message_destroy(m);
	}
	/* Inside the second, uncompressed batch too. */
	ck_assert_int_eq(tern_consumer_seek(c, TOPIC, 0, 13), TERN_OK);
	for (int64_t o = 13; o < 20; o++) {
		tern_message_t *m = next_record(c);

		ck_assert_int_eq(m->offset, o);
		tern_message_destroy(m);
	}
	tern_consumer_close(c);
	fb_stop(fb);
}
END_TEST

START_TEST(seek_and_position)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19733", TOPIC, 1);
	tern_consumer_t *c;
	tern_message_t *m;
	int64_t pos;

	put(fb, 0, LOG_CODEC_NONE, 0, 20);
	c = mk("tcp://127.0.0.1:19733", NULL);
	ck_assert_int_eq(tern_consumer_position(c, TOPIC, 0, &pos),
			 TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, TERN_OFFSET_BEGINNING), TERN_OK);
	for (int64_t o = 0; o < 3; o++) {
		m = next_record(c);
		ck_assert_int_eq(m->offset, o);
		tern_message_destroy(m);
	}
	ck_assert_int_eq(tern_consumer_position(c, TOPIC, 0, &pos), TERN_OK);
	ck_assert_int_eq(pos, 3);
	ck_assert_int_eq(tern_consumer_seek(c, TOPIC, 0, 15), TERN_OK);
	ck_assert_int_eq(tern_consumer_position(c, TOPIC, 0, &pos), TERN_OK);
	ck_assert_int_eq(pos, 15);
	m = next_record(c);
	ck_assert_int_eq(m->offset, 15);
	tern_message_destroy(m);
	ck_assert_int_eq(tern_consumer_position(c, TOPIC, 0, &pos), TERN_OK);
	ck_assert_int_eq(pos, 16);
	/* Back to the start: prefetched records of 16.. are dropped. */
	ck_assert_int_eq(tern_consumer_seek(c, TOPIC, 0, TERN_OFFSET_BEGINNING), TERN_OK);
	m = next_record(c);
	ck_assert_int_eq(m->offset, 0);
	tern_message_destroy(m);
	/* To the end: nothing until a record is appended. */
	ck_assert_int_eq(tern_consumer_seek(c, TOPIC, 0, TERN_OFFSET_END), TERN_OK);
	ck_assert_int_eq(position_when_known(c, 0), 20);
	ck_assert_int_eq(tern_consumer_poll(c, 300, &m), TERN_ERR__TIMED_OUT);
	ck_assert_ptr_null(m);
	put(fb, 0, LOG_CODEC_ZSTD, 20, 2);
	m = next_record(c);
	ck_assert_int_eq(m->offset, 20);
	tern_message_destroy(m);
	ck_assert_int_eq(tern_consumer_seek(c, TOPIC, 1, 0), TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	tern_consumer_close(c);
	fb_stop(fb);
}
END_TEST

START_TEST(out_of_range_resets_to_earliest_or_latest_or_reports)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19734", TOPIC, 1);
	const char *earliest[][2] = {{"auto.offset.reset", "earliest"}, {NULL, NULL}};
	const char *latest[][2] = {{"auto.offset.reset", "latest"}, {NULL, NULL}};
	const char *none[][2] = {{"auto.offset.reset", "none"}, {NULL, NULL}};
	tern_consumer_t *c;
	tern_message_t *m;

	put(fb, 0, LOG_CODEC_NONE, 0, 10);
	put(fb, 0, LOG_CODEC_ZSTD, 10, 10);
	fb_set_log_start(fb, 0, 10);

	c = mk("tcp://127.0.0.1:19734", earliest);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, 2), TERN_OK);
	m = next_record(c);
	ck_assert_int_eq(m->offset, 10);
	tern_message_destroy(m);
	tern_consumer_close(c);

	c = mk("tcp://127.0.0.1:19734", latest);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, 100), TERN_OK);
	ck_assert_int_eq(position_when_known(c, 0) >= 0, 1);
	{
		int64_t deadline = proto_now_ms() + 10000, pos = -1;

		while (pos != 20 && proto_now_ms() < deadline) {
			tern_consumer_position(c, TOPIC, 0, &pos);
			usleep(10000);
		}
		ck_assert_int_eq(pos, 20);
	}
	put(fb, 0, LOG_CODEC_NONE, 20, 1);
	m = next_record(c);
	ck_assert_int_eq(m->offset, 20);
	tern_message_destroy(m);
	tern_consumer_close(c);

	c = mk("tcp://127.0.0.1:19734", none);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, 2), TERN_OK);
	m = next_event(c);
	ck_assert_int_eq(m->err, TERN_ERR_OFFSET_OUT_OF_RANGE);
	ck_assert_int_eq(m->offset, 2);
	ck_assert_int_eq(m->partition, 0);
	tern_message_destroy(m);
	ck_assert_int_eq(tern_consumer_seek(c, TOPIC, 0, 12), TERN_OK);
	m = next_record(c);
	ck_assert_int_eq(m->offset, 12);
	tern_message_destroy(m);
	tern_consumer_close(c);
	fb_stop(fb);
}
END_TEST

typedef struct later {
	fake_broker_t *fb;
	int delay_ms;
} later_t;

static void *append_later(void *arg)
{
	later_t *l = arg;

	usleep((useconds_t)l->delay_ms * 1000);
	put(l->fb, 0, LOG_CODEC_ZSTD, 0, 1);
	return NULL;
}

START_TEST(long_poll_returns_a_record_soon_after_it_is_appended)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19735", TOPIC, 1);
	const char *extra[][2] = {{"fetch.max.wait.ms", "5000"}, {NULL, NULL}};
	later_t l = {fb, 300};
	tern_consumer_t *c;
	tern_message_t *m;
	pthread_t th;
	int fetches;

	c = mk("tcp://127.0.0.1:19735", extra);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, TERN_OFFSET_END), TERN_OK);
	ck_assert_int_eq(position_when_known(c, 0), 0);
	pthread_create(&th, NULL, append_later, &l);
	/* The broker holds the Fetch up to 5 s; the record arrives at once
	 * all the same (a generous deadline, no speed asserted). */
	ck_assert_int_eq(tern_consumer_poll(c, 4000, &m), TERN_OK);
	ck_assert_int_eq(m->offset, 0);
	tern_message_destroy(m);
	pthread_join(th, NULL);
	/* It was a long poll, not a stream of empty fetches. */
	fetches = fb_request_count(fb, PROTO_API_FETCH);
	ck_assert_int_le(fetches, 5);
	tern_consumer_close(c);
	fb_stop(fb);
}
END_TEST

typedef struct commit_seen {
	pthread_mutex_t mu;
	int calls;
	tern_err_t err;
	size_t n;
} commit_seen_t;

static void on_commit(void *opaque, tern_err_t err, size_t n)
{
	commit_seen_t *s = opaque;

	pthread_mutex_lock(&s->mu);
	s->calls++;
	s->err = err;
	s->n = n;
	pthread_mutex_unlock(&s->mu);
}

START_TEST(commit_sync_and_async_and_committed_read_back)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19736", TOPIC, 2);
	const char *extra[][2] = {{"group.id", "g1"},
				  {"enable.auto.commit", "false"},
				  {"auto.offset.reset", "earliest"},
				  {NULL, NULL}};
	commit_seen_t seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
	tern_consumer_t *c;
	tern_message_t *m;
	int64_t off;

	put(fb, 0, LOG_CODEC_ZSTD, 0, 20);
	c = mk("tcp://127.0.0.1:19736", extra);
	tern_consumer_set_commit_cb(c, on_commit, &seen);
	ck_assert_int_eq(tern_consumer_committed(c, TOPIC, 0, 5000, &off), TERN_OK);
	ck_assert_int_eq(off, TERN_OFFSET_INVALID);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, TERN_OFFSET_STORED), TERN_OK);
	for (int i = 0; i < 5; i++) {
		m = next_record(c);
		ck_assert_int_eq(m->offset, i);
		tern_message_destroy(m);
	}
	ck_assert_int_eq(tern_consumer_commit(c, true), TERN_OK);
	ck_assert_int_eq(fb_committed(fb, "g1", 0), 5);
	ck_assert_int_eq(tern_consumer_committed(c, TOPIC, 0, 5000, &off), TERN_OK);
	ck_assert_int_eq(off, 5);
	/* Nothing moved: a commit with nothing to say succeeds. */
	ck_assert_int_eq(tern_consumer_commit(c, true), TERN_OK);

	for (int i = 5; i < 8; i++) {
		m = next_record(c);
		tern_message_destroy(m);
	}
	ck_assert_int_eq(tern_consumer_commit(c, false), TERN_OK);
	for (int64_t deadline = proto_now_ms() + 10000; proto_now_ms() < deadline;) {
		tern_err_t err = tern_consumer_poll(c, 100, &m);

		tern_message_destroy(m);
		ck_assert(err == TERN_OK || err == TERN_ERR__TIMED_OUT);
		pthread_mutex_lock(&seen.mu);
		if (seen.calls) {
			pthread_mutex_unlock(&seen.mu);
			break;
		}
		pthread_mutex_unlock(&seen.mu);
	}
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_int_eq(seen.err, TERN_OK);
	ck_assert_uint_eq(seen.n, 1);
	ck_assert_int_eq(tern_consumer_committed(c, TOPIC, 0, 5000, &off), TERN_OK);
	ck_assert_int_ge(off, 8);
	off = fb_committed(fb, "g1", 0);
	tern_consumer_close(c);
	/* The polls that ran the callback took records too: there is a
	 * record at the committed offset whatever it is. */
	put(fb, 0, LOG_CODEC_NONE, 20, 5);

	/* A new consumer of the group starts at the committed offset. */
	c = mk("tcp://127.0.0.1:19736", extra);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, TERN_OFFSET_STORED), TERN_OK);
	m = next_record(c);
	ck_assert_int_eq(m->offset, off);
	tern_message_destroy(m);
	tern_consumer_close(c);
	fb_stop(fb);
}
END_TEST

START_TEST(auto_commit_every_interval_and_at_close)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19737", TOPIC, 1);
	const char *extra[][2] = {{"group.id", "g2"},
				  {"auto.commit.interval.ms", "100"},
				  {"auto.offset.reset", "earliest"},
				  {NULL, NULL}};
	const char *nogroup[][2] = {{NULL, NULL}};
	tern_consumer_t *c;
	int64_t deadline, off;

	put(fb, 0, LOG_CODEC_NONE, 0, 10);
	c = mk("tcp://127.0.0.1:19737", extra);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, TERN_OFFSET_STORED), TERN_OK);
	for (int i = 0; i < 4; i++)
		tern_message_destroy(next_record(c));
	deadline = proto_now_ms() + 10000;
	while (fb_committed(fb, "g2", 0) != 4 && proto_now_ms() < deadline)
		usleep(20000);
	ck_assert_int_eq(fb_committed(fb, "g2", 0), 4);
	for (int i = 4; i < 6; i++)
		tern_message_destroy(next_record(c));
	ck_assert_int_eq(tern_consumer_close(c), TERN_OK);
	ck_assert_int_eq(fb_committed(fb, "g2", 0), 6);

	/* Without group.id commits are refused. */
	c = mk("tcp://127.0.0.1:19737", nogroup);
	ck_assert_int_eq(tern_consumer_commit(c, true), TERN_ERR__INVALID_ARG);
	ck_assert_int_eq(tern_consumer_committed(c, TOPIC, 0, 100, &off), TERN_ERR__INVALID_ARG);
	tern_consumer_close(c);
	fb_stop(fb);
}
END_TEST

START_TEST(crc_corrupt_batch_is_surfaced_not_delivered)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19738", TOPIC, 1);
	tern_consumer_t *c;
	tern_message_t *m;
	int64_t pos;

	put(fb, 0, LOG_CODEC_NONE, 0, 10);
	put(fb, 0, LOG_CODEC_ZSTD, 10, 10);
	fb_fetch_fault(fb, 0, FBF_CORRUPT, 0);
	c = mk("tcp://127.0.0.1:19738", NULL);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, 10), TERN_OK);
	m = next_event(c);
	ck_assert_int_eq(m->err, TERN_ERR_CORRUPT_MESSAGE);
	ck_assert_int_eq(m->offset, 10);
	tern_message_destroy(m);
	/* Nothing of the batch came, and the partition waits for a seek. */
	ck_assert_int_eq(tern_consumer_poll(c, 300, &m), TERN_ERR__TIMED_OUT);
	ck_assert_int_eq(tern_consumer_position(c, TOPIC, 0, &pos), TERN_OK);
	ck_assert_int_eq(pos, 10);
	ck_assert_int_eq(tern_consumer_seek(c, TOPIC, 0, 10), TERN_OK);
	for (int64_t o = 10; o < 20; o++) {
		m = next_record(c);
		ck_assert_int_eq(m->offset, o);
		check_msg(m);
		tern_message_destroy(m);
	}
	tern_consumer_close(c);
	fb_stop(fb);
}
END_TEST

START_TEST(not_leader_and_fenced_epoch_refresh_metadata_and_go_on)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19739", TOPIC, 2);
	tern_consumer_t *c;
	int64_t next[2] = {0, 0};
	int metas;

	for (int32_t p = 0; p < 2; p++)
		put(fb, p, LOG_CODEC_ZSTD, 0, 10);
	c = mk("tcp://127.0.0.1:19739", NULL);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, 0), TERN_OK);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 1, 0), TERN_OK);
	for (int i = 0; i < 20; i++) {
		tern_message_t *m = next_record(c);

		ck_assert_int_eq(m->offset, next[m->partition]++);
		tern_message_destroy(m);
	}
	metas = fb_request_count(fb, PROTO_API_METADATA);
	fb_fetch_fault(fb, 0, FBF_ERROR, TERN_ERR_NOT_LEADER_OR_FOLLOWER);
	fb_set_leader_epoch(fb, 1); /* partition 1's next Fetch is fenced */
	for (int32_t p = 0; p < 2; p++)
		put(fb, p, LOG_CODEC_NONE, 10, 10);
	for (int i = 0; i < 20; i++) {
		tern_message_t *m = next_record(c);

		ck_assert_int_eq(m->offset, next[m->partition]++);
		check_msg(m);
		tern_message_destroy(m);
	}
	ck_assert_int_gt(fb_request_count(fb, PROTO_API_METADATA), metas);
	tern_consumer_close(c);
	fb_stop(fb);
}
END_TEST

START_TEST(prefetch_queue_stays_bounded)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19740", TOPIC, 1);
	const char *extra[][2] = {{"queued.max.messages.kbytes", "4"}, {NULL, NULL}};
	tern_consumer_t *c;
	size_t bytes, count, max_bytes = 0;
	/* One batch of 10 records is returned even past the room left. */
	const size_t bound = 4096 + 10 * (sizeof(cons_msg_t) + 256);

	for (int k = 0; k < 200; k++)
		put(fb, 0, k % 2 ? LOG_CODEC_ZSTD : LOG_CODEC_NONE, (int64_t)k * 10, 10);
	c = mk("tcp://127.0.0.1:19740", extra);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, 0), TERN_OK);
	usleep(500000);
	cons_queue_stats(c, &bytes, &count);
	ck_assert_uint_gt(count, 0);
	ck_assert_uint_le(bytes, bound);
	for (int64_t o = 0; o < 2000; o++) {
		tern_message_t *m = next_record(c);

		ck_assert_int_eq(m->offset, o);
		check_msg(m);
		tern_message_destroy(m);
		cons_queue_stats(c, &bytes, &count);
		if (bytes > max_bytes)
			max_bytes = bytes;
	}
	ck_assert_uint_le(max_bytes, bound);
	tern_consumer_close(c);
	fb_stop(fb);
}
END_TEST

START_TEST(partition_eof_events_and_unknown_partition)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19741", TOPIC, 1);
	const char *extra[][2] = {{"enable.partition.eof", "true"}, {NULL, NULL}};
	tern_consumer_t *c;
	tern_message_t *m;

	put(fb, 0, LOG_CODEC_NONE, 0, 5);
	c = mk("tcp://127.0.0.1:19741", extra);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 0, TERN_OFFSET_BEGINNING), TERN_OK);
	ck_assert_int_eq(tern_consumer_assign(c, TOPIC, 3, 0), TERN_OK);
	for (int found = 0, recs = 0; found < 2;) {
		tern_err_t err = tern_consumer_poll(c, 10000, &m);

		ck_assert_int_ne(err, TERN_ERR__TIMED_OUT);
		if (err == TERN_OK) {
			ck_assert_int_eq(m->offset, recs++);
		} else if (err == TERN_ERR__PARTITION_EOF) {
			ck_assert_int_eq(recs, 5);
			ck_assert_int_eq(m->partition, 0);
			ck_assert_int_eq(m->offset, 5);
			found++;
		} else {
			ck_assert_int_eq(err, TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);
			ck_assert_int_eq(m->partition, 3);
			found++;
		}
		tern_message_destroy(m);
	}
	ck_assert_int_eq(tern_consumer_subscribe(c, (const char *[]){TOPIC}, 1), TERN_ERR__STATE);
	tern_consumer_close(c);
	fb_stop(fb);
}
END_TEST

START_TEST(conf_keys_of_both_scopes)
{
	tern_conf_t *conf = tern_conf_new();
	char err[256], *v;

	ck_assert_int_eq(tern_conf_set(conf, "auto.offset.reset", "smallest", err, sizeof(err)),
			 TERN_OK);
	ck_assert_int_eq(tern_conf_get(conf, "auto.offset.reset", &v), TERN_OK);
	ck_assert_str_eq(v, "earliest"); /* an alias reads back as its value's name */
	free(v);
	ck_assert_int_eq(tern_conf_set(conf, "auto.offset.reset", "sometimes", err, sizeof(err)),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "auto.offset.reset"));
	/* A shared key reaches both scopes. */
	ck_assert_int_eq(tern_conf_set(conf, "client.id", "both", err, sizeof(err)), TERN_OK);
	ck_assert_str_eq(conf->prod.client_id, "both");
	ck_assert_str_eq(conf->cons.client_id, "both");
	ck_assert_int_eq(tern_conf_set(conf, "bootstrap.servers", "nohost", err, sizeof(err)),
			 TERN_ERR_INVALID_CONFIG);
	ck_assert_int_eq(tern_conf_get(conf, "queued.max.messages.kbytes", &v), TERN_OK);
	ck_assert_str_eq(v, "65536");
	free(v);
	tern_conf_destroy(conf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("consumer");
	TCase *tc = tcase_create("fake_broker");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, conf_keys_of_both_scopes);
	tcase_add_test(tc, consumes_every_record_once_in_order_with_checksum);
	tcase_add_test(tc, assign_inside_a_batch_skips_records_below);
	tcase_add_test(tc, seek_and_position);
	tcase_add_test(tc, out_of_range_resets_to_earliest_or_latest_or_reports);
	tcase_add_test(tc, long_poll_returns_a_record_soon_after_it_is_appended);
	tcase_add_test(tc, commit_sync_and_async_and_committed_read_back);
	tcase_add_test(tc, auto_commit_every_interval_and_at_close);
	tcase_add_test(tc, crc_corrupt_batch_is_surfaced_not_delivered);
	tcase_add_test(tc, not_leader_and_fenced_epoch_refresh_metadata_and_go_on);
	tcase_add_test(tc, prefetch_queue_stays_bounded);
	tcase_add_test(tc, partition_eof_events_and_unknown_partition);
	suite_add_tcase(s, tc);
	return tt_run(s);
}

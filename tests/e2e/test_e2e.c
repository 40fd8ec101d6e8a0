/* Check suite of Tern end to end: a real ternd (TERND) and libtern's
 * producer and consumer, the way applications use them: a million records
 * with a checksum and every offset exactly once; kill -9 and restart under
 * an idempotent producer; reads from an offset and from a timestamp; the
 * long poll; buffer.memory pressure against a stopped broker; and the tern
 * CLI's produce and consume (TERN_BIN), --group's committed offsets
 * included. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tclient.h"
#include "tern/admin.h"
#include "tern/consumer.h"
#include "tern/producer.h"
#include "testutil.h"

static tc_broker_t br;

static void up(void)
{
	tc_broker_init(&br, "e2e");
	tc_broker_start(&br);
}

static void down(void)
{
	tc_broker_fini(&br);
}

/* ------------------------------------------------------------------------ */
/* Clients                                                                    */

/* A conf for br with the (key, value) pairs of kv, NULL-terminated. */
static tern_conf_t *conf_with(const char *const *kv)
{
	tern_conf_t *conf = tern_conf_new();
	char why[512];

	ck_assert_ptr_nonnull(conf);
	ck_assert_msg(tern_conf_set(conf, "bootstrap.servers", br.url, why, sizeof why) == 0, "%s",
		      why);
	for (; kv && kv[0]; kv += 2)
		ck_assert_msg(tern_conf_set(conf, kv[0], kv[1], why, sizeof why) == 0, "%s", why);
	return conf;
}

static tern_producer_t *producer_new(const char *const *kv)
{
	tern_conf_t *conf = conf_with(kv);
	char why[512];
	tern_producer_t *p = tern_producer_new(conf, why, sizeof why);

	ck_assert_msg(p != NULL, "%s", why);
	return p;
}

static tern_consumer_t *consumer_new(const char *const *kv)
{
	tern_conf_t *conf = conf_with(kv);
	char why[512];
	tern_consumer_t *c = tern_consumer_new(conf, why, sizeof why);

	ck_assert_msg(c != NULL, "%s", why);
	return c;
}

#define KV(...) ((const char *const[]){__VA_ARGS__, NULL})

static tern_admin_t *admin_new(void)
{
	tern_conf_t *conf = conf_with(NULL);
	char why[512];
	tern_admin_t *a = tern_admin_new(conf, why, sizeof why);

	ck_assert_msg(a != NULL, "%s", why);
	return a;
}

static void create_topic(const char *name, int32_t partitions)
{
	tern_admin_t *a = admin_new();
	char why[512];

	ck_assert_msg(tern_admin_create_topic(a, name, partitions, -1, NULL, 0, why, sizeof why) ==
			  TERN_OK,
		      "%s", why);
	tern_admin_destroy(a);
}

/* Each partition's HWM into hwm[0..n). */
static void hwms(const char *topic, int64_t *hwm, size_t n)
{
	tern_admin_t *a = admin_new();
	tern_topic_info_t *t = NULL;
	char why[512];

	ck_assert_msg(tern_admin_describe_topic(a, topic, &t, why, sizeof why) == TERN_OK, "%s",
		      why);
	ck_assert_uint_eq(t->npartitions, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(t->partitions[i].offsets_err == 0, "partition %zu: %s", i,
			      tern_err_name(t->partitions[i].offsets_err));
		hwm[i] = t->partitions[i].high_watermark;
	}
	tern_topic_info_destroy(t);
	tern_admin_destroy(a);
}

/* ------------------------------------------------------------------------ */
/* Records and their outcomes                                                 */

/* Record i's value: its number, a colon, then 20 to 79 bytes of content
 * that varies with i (so zstd has work to do). len gets its length. */
static size_t value_of(long i, char *buf, size_t cap)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789 .,-";
	uint64_t s = (uint64_t)i * 0x9E3779B97F4A7C15ull + 1;
	int n = snprintf(buf, cap, "%ld:", i);
	size_t len = (size_t)n, extra = 20 + (size_t)(i % 60);

	ck_assert_uint_le(len + extra, cap);
	for (size_t k = 0; k < extra; k++)
		buf[len++] = alphabet[tt_rand(&s) % (sizeof alphabet - 1)];
	return len;
}

/* The record number at the start of a value, -1 if it has none. */
static long index_of(const void *v, size_t len)
{
	char tmp[24];
	char *end;
	long i;

	if (!v || len == 0)
		return -1;
	if (len >= sizeof tmp)
		len = sizeof tmp - 1;
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	i = strtol(tmp, &end, 10);
	return end != tmp && *end == ':' ? i : -1;
}

static uint64_t fnv1a(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* The outcomes of records 0..n, written by delivery callbacks (the sender
 * thread, one at a time, or the destroying thread); calls counts them. */
typedef struct acks {
	long n;
	atomic_int *calls;
	int32_t *part;
	int64_t *off;
	int64_t *ts;
	tern_err_t *err;
	atomic_long delivered; /* callbacks with success */
	atomic_long done;      /* callbacks of any outcome */
} acks_t;

static acks_t acks;

static void acks_init(long n)
{
	acks.n = n;
	acks.calls = calloc((size_t)n, sizeof *acks.calls);
	acks.part = calloc((size_t)n, sizeof *acks.part);
	acks.off = calloc((size_t)n, sizeof *acks.off);
	acks.ts = calloc((size_t)n, sizeof *acks.ts);
	acks.err = calloc((size_t)n, sizeof *acks.err);
	ck_assert(acks.calls && acks.part && acks.off && acks.ts && acks.err);
	atomic_store(&acks.delivered, 0);
	atomic_store(&acks.done, 0);
}

static void acks_fini(void)
{
	free(acks.calls);
	free(acks.part);
	free(acks.off);
	free(acks.ts);
	free(acks.err);
	memset(&acks, 0, sizeof acks);
}

/* The delivery callback: opaque is the record's number. */
static void on_delivery(void *opaque, const tern_delivery_t *d)
{
	long i = (long)(intptr_t)opaque;

	if (i < 0 || i >= acks.n)
		abort();
	if (atomic_fetch_add(&acks.calls[i], 1) == 0) {
		acks.part[i] = d->partition;
		acks.off[i] = d->offset;
		acks.ts[i] = d->timestamp;
		acks.err[i] = d->err;
	}
	if (!d->err)
		atomic_fetch_add(&acks.delivered, 1);
	atomic_fetch_add(&acks.done, 1);
}

/* Sends record i; fails the test unless tern_produce accepts it. */
static void produce_one(tern_producer_t *p, const char *topic, int32_t partition, long i)
{
	char v[128];
	size_t len = value_of(i, v, sizeof v);
	tern_err_t err = tern_produce(p, topic, partition, NULL, 0, v, len, NULL, 0, on_delivery,
				      (void *)(intptr_t)i);

	ck_assert_msg(err == TERN_OK, "record %ld: %s", i, tern_err_name(err));
}

/* Every record 0..n had exactly one callback. */
static void ck_exactly_once(long n)
{
	for (long i = 0; i < n; i++)
		ck_assert_msg(atomic_load(&acks.calls[i]) == 1, "record %ld had %d callbacks", i,
			      atomic_load(&acks.calls[i]));
}

/* ------------------------------------------------------------------------ */
/* Reading everything back                                                    */

/* One record read back. */
typedef struct seen {
	int64_t offset;
	long idx; /* the record number in its value */
	uint64_t hash;
} seen_t;

/* What drain() read: per partition, the records in the order poll
 * returned them. */
typedef struct log_copy {
	size_t nparts;
	seen_t **recs;
	size_t *n;
} log_copy_t;

/* Reads every partition of topic from the log start up to its HWM now
 * with a consumer; fails the test on any error event or after a generous
 * deadline. */
static void drain(const char *topic, size_t nparts, log_copy_t *out)
{
	int64_t *hwm = calloc(nparts, sizeof *hwm);
	size_t *cap = calloc(nparts, sizeof *cap), left = 0;
	int64_t deadline = proto_now_ms() + 600000;
	tern_consumer_t *c;

	ck_assert(hwm && cap);
	hwms(topic, hwm, nparts);
	out->nparts = nparts;
	out->recs = calloc(nparts, sizeof *out->recs);
	out->n = calloc(nparts, sizeof *out->n);
	ck_assert(out->recs && out->n);
	c = consumer_new(KV("enable.auto.commit", "false"));
	for (size_t p = 0; p < nparts; p++) {
		ck_assert_int_eq(tern_consumer_assign(c, topic, (int32_t)p, TERN_OFFSET_BEGINNING),
				 TERN_OK);
		if (hwm[p] > 0)
			left++;
	}
	while (left > 0) {
		tern_message_t *m = NULL;
		tern_err_t err = tern_consumer_poll(c, 1000, &m);
		size_t p;

		ck_assert_msg(proto_now_ms() < deadline, "drain: %zu partitions unread after 600 s",
			      left);
		if (err == TERN_ERR__TIMED_OUT)
			continue;
		ck_assert_msg(err == TERN_OK, "drain: %s at partition %d offset %" PRId64,
			      tern_err_name(err), m ? m->partition : -1, m ? m->offset : -1);
		p = (size_t)m->partition;
		ck_assert_uint_lt(p, nparts);
		if (m->offset < hwm[p]) {
			if (out->n[p] == cap[p]) {
				cap[p] = cap[p] ? cap[p] * 2 : 1024;
				out->recs[p] = realloc(out->recs[p], cap[p] * sizeof **out->recs);
				ck_assert_ptr_nonnull(out->recs[p]);
			}
			out->recs[p][out->n[p]++] = (seen_t){
			    .offset = m->offset,
			    .idx = index_of(m->value, m->value_len),
			    .hash = m->value ? fnv1a(m->value, m->value_len) : 0,
			};
			if (m->offset + 1 == hwm[p])
				left--;
		}
		tern_message_destroy(m);
	}
	tern_consumer_close(c);
	free(hwm);
	free(cap);
}

static void log_copy_free(log_copy_t *l)
{
	for (size_t p = 0; p < l->nparts; p++)
		free(l->recs[p]);
	free(l->recs);
	free(l->n);
}

/* The record read at (partition, offset), or NULL. Offsets increase within
 * a partition's copy (checked by the callers), so this is a binary search. */
static const seen_t *find_seen(const log_copy_t *l, int32_t part, int64_t off)
{
	size_t lo = 0, hi;

	if (part < 0 || (size_t)part >= l->nparts)
		return NULL;
	hi = l->n[part];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->recs[part][mid].offset < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n[part] && l->recs[part][lo].offset == off ? &l->recs[part][lo] : NULL;
}

/* Offsets strictly increase in each partition's copy: every offset read
 * once, in order. */
static void ck_offsets_increase(const log_copy_t *l)
{
	for (size_t p = 0; p < l->nparts; p++)
		for (size_t k = 1; k < l->n[p]; k++)
			ck_assert_msg(l->recs[p][k].offset > l->recs[p][k - 1].offset,
				      "partition %zu: offset %" PRId64 " after %" PRId64, p,
				      l->recs[p][k].offset, l->recs[p][k - 1].offset);
}

/* ------------------------------------------------------------------------ */
/* (a) a million records                                                      */

START_TEST(a_million_records_each_read_once_with_matching_checksum)
{
	const long n = tt_scale(1000000);
	const size_t nparts = 2;
	tern_producer_t *p;
	log_copy_t l;
	uint64_t sum_sent = 0, sum_read = 0;
	long nread = 0;
	char v[128];

	create_topic("bulk", (int32_t)nparts);
	acks_init(n);
	p = producer_new(KV("acks", "all", "compression.type", "zstd", "linger.ms", "5",
			    "enable.idempotence", "true"));
	for (long i = 0; i < n; i++) {
		size_t len = value_of(i, v, sizeof v);

		sum_sent += fnv1a(v, len);
		produce_one(p, "bulk", TERN_PARTITION_ANY, i);
	}
	ck_assert_int_eq(tern_producer_flush(p, 600000), TERN_OK);
	tern_producer_destroy(p);
	ck_exactly_once(n);
	for (long i = 0; i < n; i++)
		ck_assert_msg(acks.err[i] == 0, "record %ld: %s", i, tern_err_name(acks.err[i]));

	drain("bulk", nparts, &l);
	ck_offsets_increase(&l);
	for (size_t q = 0; q < nparts; q++) {
		/* One producer wrote the topic: offsets run 0, 1, ... with no gap. */
		for (size_t k = 0; k < l.n[q]; k++) {
			const seen_t *s = &l.recs[q][k];

			ck_assert_msg(s->offset == (int64_t)k,
				      "partition %zu: offset %" PRId64 " at position %zu", q,
				      s->offset, k);
			ck_assert_msg(s->idx >= 0 && s->idx < n,
				      "partition %zu offset %" PRId64 ": not a record of this test",
				      q, s->offset);
			ck_assert_msg(
			    acks.part[s->idx] == (int32_t)q && acks.off[s->idx] == s->offset,
			    "record %ld acknowledged at %d/%" PRId64 ", read at %zu/%" PRId64,
			    s->idx, acks.part[s->idx], acks.off[s->idx], q, s->offset);
			sum_read += s->hash;
		}
		nread += (long)l.n[q];
	}
	ck_assert_int_eq(nread, n);
	ck_assert_msg(sum_read == sum_sent, "checksum %016" PRIx64 " read, %016" PRIx64 " sent",
		      sum_read, sum_sent);
	fprintf(stderr, "a million: %ld records over %zu partitions (%zu + %zu)\n", n, nparts,
		l.n[0], l.n[1]);
	log_copy_free(&l);
	acks_fini();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* (b) kill -9 and restart under an idempotent producer                       */

/* Waits (deadline 120 s) until at least want records are acknowledged. */
static void wait_delivered(long want)
{
	int64_t deadline = proto_now_ms() + 120000;

	while (atomic_load(&acks.delivered) < want) {
		ck_assert_msg(proto_now_ms() < deadline, "only %ld of %ld acknowledged in 120 s",
			      atomic_load(&acks.delivered), want);
		usleep(1000);
	}
}

START_TEST(kill_9_mid_produce_keeps_every_acknowledged_record_once_in_order)
{
	const long n = tt_scale(200000);
	const size_t nparts = 2;
	tern_producer_t *p;
	long acked = 0, failed = 0, unacked_in_log = 0;
	long *where; /* per record number, how often it is in the log */
	log_copy_t l;
	char why[512];

	create_topic("crash", (int32_t)nparts);
	acks_init(n);
	p = producer_new(KV("acks", "all", "enable.idempotence", "true", "linger.ms", "5",
			    "delivery.timeout.ms", "180000", "request.timeout.ms", "5000",
			    "retry.backoff.ms", "100", "socket.connection.setup.timeout.ms",
			    "2000"));
	for (long i = 0; i < n; i++) {
		/* Kill once a sixth is acknowledged, with records in flight;
		 * keep producing into the buffer while the broker is down,
		 * then restart it on the same data and listener. */
		if (i == n / 3) {
			wait_delivered(n / 6);
			tc_broker_kill(&br);
		}
		if (i == n / 2)
			tc_broker_start(&br);
		produce_one(p, "crash", TERN_PARTITION_ANY, i);
	}
	ck_assert_int_eq(tern_producer_flush(p, 300000), TERN_OK);
	ck_assert_msg(tern_producer_fatal_error(p, why, sizeof why) == 0,
		      "the producer stopped: %s", why);
	tern_producer_destroy(p);
	ck_exactly_once(n);

	drain("crash", nparts, &l);
	ck_offsets_increase(&l);
	where = calloc((size_t)n, sizeof *where);
	ck_assert_ptr_nonnull(where);
	for (size_t q = 0; q < nparts; q++) {
		long prev = -1;

		for (size_t k = 0; k < l.n[q]; k++) {
			long idx = l.recs[q][k].idx;

			ck_assert_msg(idx >= 0 && idx < n,
				      "partition %zu offset %" PRId64 ": not a record of this test",
				      q, l.recs[q][k].offset);
			ck_assert_msg(++where[idx] == 1, "record %ld is in the log twice", idx);
			/* One thread produced in number order: each partition
			 * must hold its records in that order. */
			ck_assert_msg(idx > prev, "partition %zu: record %ld after record %ld", q,
				      idx, prev);
			prev = idx;
		}
	}
	for (long i = 0; i < n; i++) {
		const seen_t *s;

		if (acks.err[i]) {
			failed++;
			unacked_in_log += where[i] > 0;
			continue;
		}
		acked++;
		s = find_seen(&l, acks.part[i], acks.off[i]);
		ck_assert_msg(s != NULL, "record %ld acknowledged at %d/%" PRId64 " is lost", i,
			      acks.part[i], acks.off[i]);
		ck_assert_msg(s->idx == i,
			      "record %ld acknowledged at %d/%" PRId64 " but record %ld is there",
			      i, acks.part[i], acks.off[i], s->idx);
	}
	fprintf(stderr,
		"kill -9: %ld records, %ld acknowledged, %ld failed (%ld of them in the log)\n", n,
		acked, failed, unacked_in_log);
	/* delivery.timeout.ms covers the restart: nothing should fail. */
	ck_assert_int_eq(failed, 0);
	free(where);
	log_copy_free(&l);
	acks_fini();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* (c) from an offset, from a timestamp                                       */

/* ListOffsets v5 by timestamp for one partition, raw through proto/ (the
 * consumer has no offsets-for-times and the admin client no ListOffsets
 * by time). Returns the partition's error code; *offset gets the answer. */
static int16_t offset_for_time(const char *topic, int32_t partition, int64_t ts, int64_t *offset)
{
	proto_list_offsets_req_partition_t rp = {
	    .partition_index = partition, .current_leader_epoch = -1, .timestamp = ts};
	proto_list_offsets_req_topic_t rt = {
	    .name = proto_str(topic), .partitions = &rp, .partitions_count = 1};
	proto_list_offsets_req_t req = {.replica_id = -1, .topics = &rt, .topics_count = 1};
	proto_list_offsets_resp_t resp;
	proto_buf_t body;
	tc_conn_t conn;
	tc_resp_t r;
	int16_t code;

	tc_connect(&conn, br.url);
	proto_buf_init(&body);
	proto_list_offsets_req_encode(&body, 5, &req);
	ck_assert_int_eq(tc_call(&conn, PROTO_API_LIST_OFFSETS, 5, &body, 30000, &r), TERN_OK);
	proto_buf_free(&body);
	ck_assert_int_eq(proto_list_offsets_resp_decode(&r.r, 5, &resp), TERN_OK);
	ck_assert_int_eq(resp.topics_count, 1);
	ck_assert_int_eq(resp.topics[0].partitions_count, 1);
	code = resp.topics[0].partitions[0].error_code;
	*offset = resp.topics[0].partitions[0].offset;
	tc_resp_free(&r);
	tc_close(&conn);
	return code;
}

/* The first record a consumer assigned at start returns. */
static tern_message_t *first_from(const char *topic, int32_t partition, int64_t start)
{
	tern_consumer_t *c = consumer_new(KV("enable.auto.commit", "false"));
	int64_t deadline = proto_now_ms() + 60000;
	tern_message_t *m = NULL;
	tern_err_t err;

	ck_assert_int_eq(tern_consumer_assign(c, topic, partition, start), TERN_OK);
	while ((err = tern_consumer_poll(c, 1000, &m)) == TERN_ERR__TIMED_OUT)
		ck_assert_msg(proto_now_ms() < deadline, "nothing read from %" PRId64 " in 60 s",
			      start);
	ck_assert_msg(err == TERN_OK, "%s", tern_err_name(err));
	tern_consumer_close(c);
	return m;
}

START_TEST(consume_from_an_offset_and_from_a_timestamp)
{
	const long n = 200;
	tern_producer_t *p;
	tern_message_t *m;
	int64_t off, ts_max = INT64_MIN;

	create_topic("times", 1);
	acks_init(n);
	p = producer_new(KV("acks", "all", "linger.ms", "0"));
	/* One record at a time, so that their timestamps spread over
	 * several milliseconds. */
	for (long i = 0; i < n; i++) {
		produce_one(p, "times", 0, i);
		ck_assert_int_eq(tern_producer_flush(p, 60000), TERN_OK);
	}
	tern_producer_destroy(p);
	ck_exactly_once(n);
	for (long i = 0; i < n; i++) {
		ck_assert_int_eq(acks.err[i], 0);
		ck_assert_int_eq(acks.off[i], i);
		if (acks.ts[i] > ts_max)
			ts_max = acks.ts[i];
	}

	/* From an offset: the record there first, then the next. */
	m = first_from("times", 0, 137);
	ck_assert_int_eq(m->offset, 137);
	ck_assert_int_eq(index_of(m->value, m->value_len), 137);
	tern_message_destroy(m);

	/* From a timestamp: for several targets, the earliest offset whose
	 * timestamp is at or after it (Kafka's offsetsForTimes). */
	for (long k = 0; k < n; k += 41) {
		int64_t target = acks.ts[k], want = -1;

		for (long i = n - 1; i >= 0; i--)
			if (acks.ts[i] >= target)
				want = i;
		ck_assert_int_eq(offset_for_time("times", 0, target, &off), 0);
		ck_assert_msg(off == want,
			      "timestamp %" PRId64 ": offset %" PRId64 ", not %" PRId64, target,
			      off, want);
		m = first_from("times", 0, off);
		ck_assert_int_eq(m->offset, want);
		ck_assert_int_ge(m->timestamp, target);
		ck_assert_int_eq(index_of(m->value, m->value_len), want);
		tern_message_destroy(m);
	}
	ck_assert_int_eq(offset_for_time("times", 0, 0, &off), 0);
	ck_assert_int_eq(off, 0);
	/* After the last record: no offset (-1), as Kafka answers. */
	ck_assert_int_eq(offset_for_time("times", 0, ts_max + 1, &off), 0);
	ck_assert_int_eq(off, -1);
	acks_fini();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* (d) the long poll                                                          */

static atomic_bool polling;

/* Produces record 7 once the main thread is about to block in poll. */
static void *late_producer(void *arg)
{
	tern_producer_t *p = arg;
	char v[128];
	size_t len = value_of(7, v, sizeof v);

	while (!atomic_load(&polling))
		usleep(1000);
	/* Give the poll a moment to block; the test's claim does not depend
	 * on how long. */
	usleep(300000);
	if (tern_produce(p, "longpoll", 0, NULL, 0, v, len, NULL, 0, NULL, NULL) != TERN_OK ||
	    tern_producer_flush(p, 60000) != TERN_OK)
		return (void *)1;
	return NULL;
}

START_TEST(a_consumer_blocked_in_poll_returns_once_a_record_arrives)
{
	tern_producer_t *p;
	tern_consumer_t *c;
	tern_message_t *m = NULL;
	int64_t pos = TERN_OFFSET_INVALID, deadline = proto_now_ms() + 60000;
	pthread_t t;
	void *res;
	tern_err_t err;

	create_topic("longpoll", 1);
	p = producer_new(KV("acks", "all", "linger.ms", "0"));
	/* The broker holds each Fetch up to a minute: a poll of 30 s can only
	 * return the record if the broker answers the held Fetch when the
	 * record is appended. */
	c = consumer_new(KV("fetch.max.wait.ms", "60000", "enable.auto.commit", "false"));
	ck_assert_int_eq(tern_consumer_assign(c, "longpoll", 0, TERN_OFFSET_END), TERN_OK);
	while (tern_consumer_position(c, "longpoll", 0, &pos) == TERN_OK &&
	       pos == TERN_OFFSET_INVALID) {
		ck_assert_msg(proto_now_ms() < deadline, "the end offset was not found in 60 s");
		usleep(1000);
	}
	ck_assert_int_eq(pos, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, late_producer, p), 0);
	atomic_store(&polling, true);
	err = tern_consumer_poll(c, 30000, &m);
	ck_assert_int_eq(pthread_join(t, &res), 0);
	ck_assert_msg(res == NULL, "the record could not be produced");
	ck_assert_msg(err == TERN_OK, "poll: %s", tern_err_name(err));
	ck_assert_int_eq(m->offset, 0);
	ck_assert_int_eq(index_of(m->value, m->value_len), 7);
	tern_message_destroy(m);
	tern_consumer_close(c);
	tern_producer_destroy(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* (e) buffer.memory pressure, the broker stopped then killed                  */

START_TEST(buffer_memory_pressure_blocks_then_fails_and_every_callback_fires_once)
{
	const long cap = 100000;
	const char *const cfg[] = {"acks",
				   "all",
				   "buffer.memory",
				   "65536",
				   "message.max.bytes",
				   "10000",
				   "batch.size",
				   "10000",
				   "max.block.ms",
				   "1000",
				   "delivery.timeout.ms",
				   "6000",
				   "request.timeout.ms",
				   "2000",
				   "socket.connection.setup.timeout.ms",
				   "1000",
				   "linger.ms",
				   "5",
				   NULL};
	tern_producer_t *p;
	tern_err_t err = TERN_OK;
	char big[1000];
	long i, accepted, phase2;
	int64_t t0 = 0, took;

	memset(big, 'x', sizeof big);
	create_topic("pressure", 1);
	acks_init(cap);

	/* Phase 1: the broker stops (SIGSTOP) with the producer connected;
	 * records fill buffer.memory, then tern_produce blocks max.block.ms
	 * and fails with _QUEUE_FULL. The stopped broker is then killed with
	 * the requests in flight, and flush must see every callback. */
	p = producer_new(cfg);
	produce_one(p, "pressure", 0, 0);
	ck_assert_int_eq(tern_producer_flush(p, 30000), TERN_OK);
	ck_assert_int_eq(acks.err[0], 0);
	ck_assert_int_eq(kill(br.pid, SIGSTOP), 0);
	for (i = 1; i < cap; i++) {
		int k = snprintf(big, sizeof big, "%ld:", i);

		big[k] = 'x';
		t0 = proto_now_ms();
		err = tern_produce(p, "pressure", 0, NULL, 0, big, sizeof big, NULL, 0, on_delivery,
				   (void *)(intptr_t)i);
		if (err)
			break;
	}
	took = proto_now_ms() - t0;
	ck_assert_msg(err == TERN_ERR__QUEUE_FULL, "tern_produce: %s after %ld records",
		      tern_err_name(err), i);
	ck_assert_msg(took >= 500, "tern_produce failed after %" PRId64 " ms, not max.block.ms",
		      took);
	accepted = i;
	tc_broker_kill(&br);
	ck_assert_int_eq(tern_producer_flush(p, 60000), TERN_OK);
	ck_exactly_once(accepted);
	for (long j = 1; j < accepted; j++)
		ck_assert_msg(acks.err[j] != 0, "record %ld delivered to a stopped broker", j);
	tern_producer_destroy(p);
	ck_exactly_once(accepted);
	ck_assert_int_eq(atomic_load(&acks.done), accepted);

	/* Phase 2: the same, but the producer is destroyed while records are
	 * in flight to a killed broker: every callback still fires once. */
	tc_broker_start(&br);
	p = producer_new(cfg);
	phase2 = accepted;
	produce_one(p, "pressure", 0, phase2++);
	ck_assert_int_eq(tern_producer_flush(p, 30000), TERN_OK);
	ck_assert_int_eq(kill(br.pid, SIGSTOP), 0);
	for (i = 0; i < 20 && phase2 < cap; i++)
		produce_one(p, "pressure", 0, phase2++);
	tc_broker_kill(&br);
	tern_producer_destroy(p);
	ck_exactly_once(phase2);
	ck_assert_int_eq(atomic_load(&acks.done), phase2);
	acks_fini();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* (f) the CLI                                                                */

/* Runs `sh -c cmd` in its own process group with standard output and error
 * to files read into *out and *err (the caller frees them); kills the group
 * if it outlives 120 s. Returns the exit status. */
static int sh(const char *cmd, char **out, char **err)
{
	char *opath, *epath;
	int64_t deadline = proto_now_ms() + 120000;
	size_t len;
	uint8_t *buf;
	pid_t pid;
	int st = 0;

	ck_assert_int_ge(asprintf(&opath, "%s/sh.out", br.dir), 0);
	ck_assert_int_ge(asprintf(&epath, "%s/sh.err", br.dir), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fi = open("/dev/null", O_RDONLY);
		int fo = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fe = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fi < 0 || fo < 0 || fe < 0 || dup2(fi, 0) < 0 || dup2(fo, 1) < 0 ||
		    dup2(fe, 2) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		ck_assert_msg(r == 0 || errno == EINTR, "waitpid: %s", strerror(errno));
		if (proto_now_ms() > deadline) {
			killpg(pid, SIGKILL);
			waitpid(pid, &st, 0);
			ck_abort_msg("'%s' still running after 120 s", cmd);
		}
		usleep(10000);
	}
	/* Whatever the shell left behind in its group goes too. */
	killpg(pid, SIGKILL);
	buf = tt_read_file(opath, &len);
	*out = strndup((char *)buf, len);
	free(buf);
	buf = tt_read_file(epath, &len);
	*err = strndup((char *)buf, len);
	free(buf);
	free(opath);
	free(epath);
	ck_assert_msg(WIFEXITED(st), "'%s' killed by signal %d", cmd, WTERMSIG(st));
	return WEXITSTATUS(st);
}

/* The command line of `tern ARGS -b <br>`, malloc()ed. */
static char *tern_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *tern_cmd(const char *fmt, ...)
{
	const char *bin = getenv("TERN_BIN");
	char *args, *cmd;
	va_list ap;

	ck_assert_ptr_nonnull(bin);
	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&args, fmt, ap), 0);
	va_end(ap);
	ck_assert_int_ge(asprintf(&cmd, "'%s' %s -b %s", bin, args, br.url), 0);
	free(args);
	return cmd;
}

static void write_lines(const char *path, long n, bool keys)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	for (long i = 0; i < n; i++) {
		if (keys)
			fprintf(f, "k%ld:value %ld with spaces\n", i % 7, i);
		else
			fprintf(f, "value %ld with spaces\n", i);
	}
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(cli_produce_then_consume_round_trips_every_line)
{
	const long n = tt_scale(3000);
	char *in, *cmd, *cmd2, *full, *out, *err, *line, *save;
	long *count = calloc((size_t)n, sizeof *count), lines = 0;
	int64_t last[3] = {-1, -1, -1};

	ck_assert_ptr_nonnull(count);
	create_topic("cli", 3);
	ck_assert_int_ge(asprintf(&in, "%s/in.txt", br.dir), 0);
	write_lines(in, n, true);

	/* produce, then consume everything up to the HWM at start. */
	cmd = tern_cmd("produce cli --key-separator : < '%s'", in);
	cmd2 = tern_cmd("consume cli --from-beginning --exit-at-end --print-offset --print-key");
	ck_assert_int_ge(asprintf(&full, "%s && %s", cmd, cmd2), 0);
	ck_assert_msg(sh(full, &out, &err) == 0, "%s", err);
	ck_assert_str_eq(err, "");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int part, kk, used = 0;
		long long off;
		long i;

		ck_assert_msg(sscanf(line, "%d %lld k%d value %ld with spaces%n", &part, &off, &kk,
				     &i, &used) == 4 &&
				  line[used] == '\0',
			      "bad line '%s'", line);
		ck_assert_int_eq(kk, i % 7);
		ck_assert(part >= 0 && part < 3 && i >= 0 && i < n);
		ck_assert_msg(off > last[part], "partition %d: offset %lld after %" PRId64, part,
			      off, last[part]);
		last[part] = off;
		ck_assert_msg(++count[i] == 1, "line %ld printed twice", i);
		lines++;
	}
	ck_assert_int_eq(lines, n);
	free(cmd);
	free(cmd2);
	free(full);
	free(out);
	free(err);

	/* A consumer started first, then the producer: the consumer prints
	 * the lines as they arrive and stops after the last. */
	write_lines(in, n, false);
	create_topic("pipe", 1);
	cmd = tern_cmd("consume pipe --partition 0 --offset 0 --max-messages %ld", n);
	cmd2 = tern_cmd("produce pipe < '%s'", in);
	ck_assert_int_ge(asprintf(&full, "%s & c=$!; %s >/dev/null && wait $c", cmd, cmd2), 0);
	ck_assert_msg(sh(full, &out, &err) == 0, "%s", err);
	{
		size_t len;
		uint8_t *want = tt_read_file(in, &len);

		ck_assert_msg(strlen(out) == len && memcmp(out, want, len) == 0,
			      "consumed lines differ from the produced ones");
		free(want);
	}
	free(cmd);
	free(cmd2);
	free(full);
	free(out);
	free(err);

	/* --exit-at-end on an empty topic ends at once; errors are clear. */
	create_topic("empty", 2);
	cmd = tern_cmd("consume empty --exit-at-end --from-beginning");
	ck_assert_msg(sh(cmd, &out, &err) == 0, "%s", err);
	ck_assert_str_eq(out, "");
	free(cmd);
	free(out);
	free(err);
	cmd = tern_cmd("consume absent --exit-at-end");
	ck_assert_int_eq(sh(cmd, &out, &err), 1);
	ck_assert_msg(strstr(err, "topic 'absent' does not exist"), "%s", err);
	free(cmd);
	free(out);
	free(err);
	cmd = tern_cmd("consume pipe --offset 3");
	ck_assert_int_eq(sh(cmd, &out, &err), 2);
	ck_assert_msg(strstr(err, "--offset needs --partition"), "%s", err);
	free(cmd);
	free(out);
	free(err);
	cmd = tern_cmd("consume pipe --offset 3 --from-beginning --partition 0");
	ck_assert_int_eq(sh(cmd, &out, &err), 2);
	ck_assert_msg(strstr(err, "give one of them"), "%s", err);
	free(cmd);
	free(out);
	free(err);
	cmd = tern_cmd("consume pipe --partition 4");
	ck_assert_int_eq(sh(cmd, &out, &err), 1);
	ck_assert_msg(strstr(err, "has no partition 4"), "%s", err);
	free(cmd);
	free(out);
	free(err);
	free(in);
	free(count);
}
END_TEST

START_TEST(cli_consume_json_keeps_null_empty_binary_and_headers)
{
	static const uint8_t bin[] = {0xff, 0x00, 0x41};
	const tern_header_t hdrs[] = {{"h1", 2, "x", 1}, {"h2", 2, NULL, 0}};
	tern_producer_t *p;
	char *cmd, *out, *err;
	char want[2048];
	int k;

	create_topic("json", 1);
	acks_init(4);
	p = producer_new(KV("acks", "all"));
	ck_assert_int_eq(
	    tern_produce(p, "json", 0, NULL, 0, NULL, 0, NULL, 0, on_delivery, (void *)0), TERN_OK);
	ck_assert_int_eq(tern_produce(p, "json", 0, "", 0, "", 0, NULL, 0, on_delivery, (void *)1),
			 TERN_OK);
	ck_assert_int_eq(
	    tern_produce(p, "json", 0, "k", 1, bin, sizeof bin, hdrs, 2, on_delivery, (void *)2),
	    TERN_OK);
	ck_assert_int_eq(tern_produce(p, "json", 0, "k\"\n", 3, "caf\xc3\xa9", 5, NULL, 0,
				      on_delivery, (void *)3),
			 TERN_OK);
	ck_assert_int_eq(tern_producer_flush(p, 60000), TERN_OK);
	tern_producer_destroy(p);
	ck_exactly_once(4);

	cmd = tern_cmd("consume json --from-beginning --exit-at-end --format json");
	ck_assert_msg(sh(cmd, &out, &err) == 0, "%s", err);
	k = snprintf(want, sizeof want,
		     "{\"partition\":0,\"offset\":0,\"timestamp\":%" PRId64
		     ",\"key\":null,\"value\":null,\"headers\":[]}\n"
		     "{\"partition\":0,\"offset\":1,\"timestamp\":%" PRId64
		     ",\"key\":\"\",\"value\":\"\",\"headers\":[]}\n"
		     "{\"partition\":0,\"offset\":2,\"timestamp\":%" PRId64
		     ",\"key\":\"k\",\"value\":{\"base64\":\"/wBB\"},\"headers\":[{\"key\":\"h1\","
		     "\"value\":\"x\"},{\"key\":\"h2\",\"value\":null}]}\n"
		     "{\"partition\":0,\"offset\":3,\"timestamp\":%" PRId64
		     ",\"key\":\"k\\\"\\n\",\"value\":\"caf\xc3\xa9\",\"headers\":[]}\n",
		     acks.ts[0], acks.ts[1], acks.ts[2], acks.ts[3]);
	ck_assert_int_lt(k, (int)sizeof want);
	ck_assert_str_eq(out, want);
	free(cmd);
	free(out);
	free(err);

	/* Text: null stays "null", the key first with --print-key. */
	cmd = tern_cmd("consume json --from-beginning --exit-at-end --print-key --max-messages 2");
	ck_assert_msg(sh(cmd, &out, &err) == 0, "%s", err);
	ck_assert_str_eq(out, "null null\n \n");
	free(cmd);
	free(out);
	free(err);
	acks_fini();
}
END_TEST

START_TEST(cli_consume_group_resumes_from_committed_offsets_after_kill_9)
{
	char *in, *cmd, *out, *err;

	create_topic("grouped", 1);
	ck_assert_int_ge(asprintf(&in, "%s/in.txt", br.dir), 0);
	write_lines(in, 5, false);
	cmd = tern_cmd("produce grouped < '%s'", in);
	ck_assert_msg(sh(cmd, &out, &err) == 0, "%s", err);
	free(cmd);
	free(out);
	free(err);

	/* The group has no offset yet: --from-beginning starts at 0; the
	 * positions reached are committed when the command ends. */
	cmd =
	    tern_cmd("consume grouped --group g --from-beginning --max-messages 2 --print-offset");
	ck_assert_msg(sh(cmd, &out, &err) == 0, "%s", err);
	ck_assert_str_eq(out, "0 0 value 0 with spaces\n0 1 value 1 with spaces\n");
	free(out);
	free(err);

	/* The next run of the group goes on at 2, --from-beginning or not,
	 * even after the broker is killed and restarted. */
	tc_broker_kill(&br);
	tc_broker_start(&br);
	ck_assert_msg(sh(cmd, &out, &err) == 0, "%s", err);
	ck_assert_str_eq(out, "0 2 value 2 with spaces\n0 3 value 3 with spaces\n");
	free(cmd);
	free(out);
	free(err);
	cmd = tern_cmd("consume grouped --group g --exit-at-end --print-offset");
	ck_assert_msg(sh(cmd, &out, &err) == 0, "%s", err);
	ck_assert_str_eq(out, "0 4 value 4 with spaces\n");
	free(out);
	free(err);
	/* At the end: nothing more, and a new group starts at the end. */
	ck_assert_msg(sh(cmd, &out, &err) == 0, "%s", err);
	ck_assert_str_eq(out, "");
	free(cmd);
	free(out);
	free(err);
	cmd = tern_cmd("consume grouped --group other --exit-at-end");
	ck_assert_msg(sh(cmd, &out, &err) == 0, "%s", err);
	ck_assert_str_eq(out, "");
	free(cmd);
	free(out);
	free(err);
	free(in);
}
END_TEST

static Suite *e2e_suite(void)
{
	Suite *s = suite_create("e2e");
	TCase *big = tcase_create("volume");
	TCase *tc = tcase_create("ternd");

	tcase_add_checked_fixture(big, up, down);
	tcase_set_timeout(big, 1500);
	tcase_add_test(big, a_million_records_each_read_once_with_matching_checksum);
	tcase_add_test(big, kill_9_mid_produce_keeps_every_acknowledged_record_once_in_order);
	suite_add_tcase(s, big);

	tcase_add_checked_fixture(tc, up, down);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, consume_from_an_offset_and_from_a_timestamp);
	tcase_add_test(tc, a_consumer_blocked_in_poll_returns_once_a_record_arrives);
	tcase_add_test(tc, buffer_memory_pressure_blocks_then_fails_and_every_callback_fires_once);
	tcase_add_test(tc, cli_produce_then_consume_round_trips_every_line);
	tcase_add_test(tc, cli_consume_json_keeps_null_empty_binary_and_headers);
	tcase_add_test(tc, cli_consume_group_resumes_from_committed_offsets_after_kill_9);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	tc_enter_namespace(argc, argv);
	tt_require_io_uring();
	return tt_run(e2e_suite());
}

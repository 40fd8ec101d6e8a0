/* tests/producer/test_producer.c: the producer against the fake broker:
 * every record's callback exactly once, per-partition order without
 * duplicates in the broker's log through dropped replies, retriable errors,
 * a closed socket and a duplicate; OUT_OF_ORDER is fatal; buffer.memory
 * blocks then fails; flush waits; destroy calls back what is in flight. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_broker.h"
#include "proto/proto.h"
#include "tern/producer.h"
#include "testutil.h"

#define NREC 2000

typedef struct acks {
	pthread_mutex_t mu;
	int calls[NREC];
	tern_err_t err[NREC];
	int64_t off[NREC];
	int32_t part[NREC];
} acks_t;

typedef struct rec_ctx {
	acks_t *a;
	int i;
} rec_ctx_t;

static rec_ctx_t ctxs[NREC];

static void on_ack(void *opaque, const tern_delivery_t *d)
{
	rec_ctx_t *c = opaque;

	pthread_mutex_lock(&c->a->mu);
	c->a->calls[c->i]++;
	c->a->err[c->i] = d->err;
	c->a->off[c->i] = d->offset;
	c->a->part[c->i] = d->partition;
	pthread_mutex_unlock(&c->a->mu);
}

static tern_producer_t *mk(const char *url, const char *extra[][2])
{
	tern_conf_t *c = tern_conf_new();
	char err[256];
	tern_producer_t *p;

	ck_assert_int_eq(tern_conf_set(c, "bootstrap.servers", url, err, sizeof(err)), TERN_OK);
	ck_assert_int_eq(tern_conf_set(c, "request.timeout.ms", "1000", err, sizeof(err)), TERN_OK);
	ck_assert_int_eq(tern_conf_set(c, "retry.backoff.ms", "20", err, sizeof(err)), TERN_OK);
	ck_assert_int_eq(tern_conf_set(c, "delivery.timeout.ms", "20000", err, sizeof(err)),
			 TERN_OK);
	for (int i = 0; extra && extra[i][0]; i++)
		ck_assert_msg(tern_conf_set(c, extra[i][0], extra[i][1], err, sizeof(err)) == TERN_OK,
			      "%s", err);
	p = tern_producer_new(c, err, sizeof(err));
	ck_assert_msg(p != NULL, "%s", err);
	return p;
}

/* Produces n records "v<i>" with key "k<i % 7>" (or null keys). */
static void produce_n(tern_producer_t *p, acks_t *a, int from, int n, bool keyed)
{
	for (int i = from; i < from + n; i++) {
		char k[16], v[16];

		snprintf(k, sizeof(k), "k%d", i % 7);
		snprintf(v, sizeof(v), "v%d", i);
		ctxs[i] = (rec_ctx_t){a, i};
		ck_assert_int_eq(tern_produce(p, "t", TERN_PARTITION_ANY, keyed ? k : NULL,
					      keyed ? strlen(k) : 0, v, strlen(v), NULL, 0, on_ack,
					      &ctxs[i]),
				 TERN_OK);
	}
}

/* Every record called back once with success, and each partition's log
 * holds every record once, in the order produced. */
static void check_exactly_once(fake_broker_t *fb, acks_t *a, int n, int nparts)
{
	for (int i = 0; i < n; i++) {
		ck_assert_msg(a->calls[i] == 1, "record %d: %d callbacks", i, a->calls[i]);
		ck_assert_msg(a->err[i] == TERN_OK, "record %d: %s", i, tern_err_name(a->err[i]));
	}
	for (int32_t pt = 0; pt < nparts; pt++) {
		int64_t ln;
		char **vals = fb_log(fb, pt, &ln);
		int last = -1;

		for (int64_t k = 0; k < ln; k++) {
			int idx = atoi(vals[k] + 1);

			ck_assert_msg(idx > last, "partition %d offset %lld: v%d after v%d", pt,
				      (long long)k, idx, last);
			ck_assert_int_eq(a->part[idx], pt);
			ck_assert_int_eq(a->off[idx], k);
			last = idx;
		}
	}
	{
		int64_t total = 0, ln;

		for (int32_t pt = 0; pt < nparts; pt++) {
			fb_log(fb, pt, &ln);
			total += ln;
		}
		ck_assert_int_eq(total, n);
	}
}

static acks_t *acks_new(void)
{
	acks_t *a = calloc(1, sizeof(*a));

	pthread_mutex_init(&a->mu, NULL);
	return a;
}

START_TEST(every_record_once_in_order)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19711", "t", 3);
	tern_producer_t *p = mk("tcp://127.0.0.1:19711", NULL);
	acks_t *a = acks_new();

	produce_n(p, a, 0, 1000, true);
	produce_n(p, a, 1000, 500, false);
	ck_assert_int_eq(tern_producer_flush(p, 20000), TERN_OK);
	check_exactly_once(fb, a, 1500, 3);
	ck_assert_int_eq(fb_last_codec(fb), 4);
	tern_producer_destroy(p);
	fb_stop(fb);
	free(a);
}
END_TEST

START_TEST(faults_retried_without_duplicates)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19712", "t", 2);
	const char *x[][2] = {{"linger.ms", "2"}, {NULL, NULL}};
	tern_producer_t *p = mk("tcp://127.0.0.1:19712", x);
	acks_t *a = acks_new();

	/* Appended but unanswered: the retry with the same sequence is a
	 * duplicate the broker answers with the first offsets. */
	fb_script(fb, 0, FB_DROP_REPLY, 0);
	fb_script(fb, 2, FB_ERROR, TERN_ERR_NOT_LEADER_OR_FOLLOWER);
	fb_script(fb, 4, FB_ERROR_APPEND, TERN_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
	fb_script(fb, 6, FB_CLOSE, 0);
	fb_script(fb, 8, FB_ERROR, TERN_ERR_REQUEST_TIMED_OUT);
	for (int r = 0; r < 10; r++) {
		produce_n(p, a, r * 100, 100, true);
		ck_assert_int_eq(tern_producer_flush(p, 20000), TERN_OK);
	}
	check_exactly_once(fb, a, 1000, 2);
	tern_producer_destroy(p);
	fb_stop(fb);
	free(a);
}
END_TEST

START_TEST(out_of_order_is_fatal)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19713", "t", 1);
	tern_producer_t *p = mk("tcp://127.0.0.1:19713", NULL);
	acks_t *a = acks_new();
	char why[256];

	fb_script(fb, 0, FB_OUT_OF_ORDER, 0);
	produce_n(p, a, 0, 10, true);
	ck_assert_int_eq(tern_producer_flush(p, 10000), TERN_OK);
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(a->calls[i], 1);
		ck_assert_int_eq(a->err[i], TERN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	}
	ck_assert_int_eq(tern_producer_fatal_error(p, why, sizeof(why)),
			 TERN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	ck_assert_int_eq(tern_produce(p, "t", 0, NULL, 0, "x", 1, NULL, 0, NULL, NULL),
			 TERN_ERR__FATAL);
	tern_producer_destroy(p);
	fb_stop(fb);
	free(a);
}
END_TEST

START_TEST(buffer_memory_blocks_then_fails)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19714", "t", 1);
	const char *x[][2] = {{"buffer.memory", "1000000"},
			      {"max.block.ms", "300"},
			      {"request.timeout.ms", "5000"},
			      {NULL, NULL}};
	tern_producer_t *p = mk("tcp://127.0.0.1:19714", x);
	acks_t *a = acks_new();
	static char big[100000];
	int64_t t0;
	tern_err_t err = TERN_OK;
	int i;

	memset(big, 'x', sizeof(big));
	fb_script(fb, 0, FB_STALL, 0);
	for (i = 0; i < 50 && err == TERN_OK; i++) {
		ctxs[i] = (rec_ctx_t){a, i};
		t0 = proto_now_ms();
		err = tern_produce(p, "t", 0, NULL, 0, big, sizeof(big), NULL, 0, on_ack, &ctxs[i]);
	}
	ck_assert_int_eq(err, TERN_ERR__QUEUE_FULL);
	ck_assert_int_ge(proto_now_ms() - t0, 290);
	/* Destroy with records in flight: each gets _DESTROY, once. */
	tern_producer_destroy(p);
	for (int k = 0; k < i - 1; k++) {
		ck_assert_int_eq(a->calls[k], 1);
		ck_assert_int_eq(a->err[k], TERN_ERR__DESTROY);
	}
	ck_assert_int_eq(a->calls[i - 1], 0);
	fb_stop(fb);
	free(a);
}
END_TEST

START_TEST(unknown_topic_fails_after_max_block)
{
	fake_broker_t *fb = fb_start("tcp://127.0.0.1:19715", "t", 1);
	const char *x[][2] = {{"max.block.ms", "300"}, {NULL, NULL}};
	tern_producer_t *p = mk("tcp://127.0.0.1:19715", x);

	ck_assert_int_eq(tern_produce(p, "nope", TERN_PARTITION_ANY, NULL, 0, "x", 1, NULL, 0, NULL,
				      NULL),
			 TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(tern_produce(p, "t", 5, NULL, 0, "x", 1, NULL, 0, NULL, NULL),
			 TERN_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	tern_producer_destroy(p);
	fb_stop(fb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("producer");
	TCase *tc = tcase_create("fake_broker");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_record_once_in_order);
	tcase_add_test(tc, faults_retried_without_duplicates);
	tcase_add_test(tc, out_of_order_is_fatal);
	tcase_add_test(tc, buffer_memory_blocks_then_fails);
	tcase_add_test(tc, unknown_topic_fails_after_max_block);
	suite_add_tcase(s, tc);
	return tt_run(s);
}

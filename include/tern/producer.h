/* tern/producer.h: libtern's producer. Records are batched per partition
 * into Kafka RecordBatch v2 (zstd by default), sent by one background
 * sender thread, retried on retriable errors until delivery.timeout.ms, and
 * with enable.idempotence (the default) written exactly once and in order
 * per partition. docs/producer.md has the configuration, the threading and
 * the delivery guarantees.
 *
 *	tern_conf_t *conf = tern_conf_new();
 *	tern_conf_set(conf, "bootstrap.servers", "tcp://127.0.0.1:9700", err, sizeof(err));
 *	tern_producer_t *p = tern_producer_new(conf, err, sizeof(err));
 *	tern_produce(p, "events", TERN_PARTITION_ANY, "k", 1, "v", 1, NULL, 0, on_ack, NULL);
 *	tern_producer_flush(p, 10000);
 *	tern_producer_destroy(p);
 *
 * Configuration is tern/conf.h's tern_conf_t, the object the consumer
 * shares. Link with `pkg-config --cflags --libs tern`. */
#ifndef TERN_PRODUCER_H
#define TERN_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include "tern/conf.h"
#include "tern/errors.h"
#include "tern/record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tern_producer tern_producer_t;

/* Let the partitioner choose: murmur2 of the key as Kafka's Java client
 * does (toPositive(murmur2(key)) % partitions), or for a null key a sticky
 * partition that changes each time its batch is closed. */
#define TERN_PARTITION_ANY (-1)

/* The outcome of one record, borrowed for the callback's duration. */
typedef struct tern_delivery {
	tern_err_t err;	   /* 0 on success */
	const char *topic;
	int32_t partition; /* -1 when no partition was chosen */
	int64_t offset;	   /* -1 on error, and on success under acks=0 */
	int64_t timestamp; /* the record's CreateTime, or the broker's LogAppendTime */
} tern_delivery_t;

/* Called exactly once per record accepted by tern_produce(), with its
 * outcome. Runs on the producer's sender thread (or, for records still
 * queued at tern_producer_destroy(), on the thread that destroys), one
 * callback at a time, with no lock of the producer held: it may call
 * tern_produce() but never tern_producer_flush() or tern_producer_destroy(),
 * and a slow callback delays every delivery. */
typedef void(tern_delivery_cb)(void *opaque, const tern_delivery_t *d);

/* Starts a producer: checks the configuration (the checks across keys
 * included), starts the sender thread, which fetches metadata and, with
 * enable.idempotence, a producer id. On success the producer owns conf;
 * on error the caller keeps it and errstr says what is wrong. Errors:
 * TERN_ERR_INVALID_CONFIG, TERN_ERR__NOMEM, errno values. */
tern_producer_t *tern_producer_new(tern_conf_t *conf, char *errstr, size_t errlen);

/* Queues one record for topic and partition (or TERN_PARTITION_ANY). key
 * NULL is a null key (key_len 0 with a non-NULL key is an empty key); the
 * same for value. Everything is copied before the call returns; headers
 * likewise. cb (may be NULL) and opaque are given the outcome.
 *
 * Blocks while buffer.memory is used up or the topic's metadata is not yet
 * known, at most max.block.ms; then fails: TERN_ERR__QUEUE_FULL (no room),
 * or the topic's metadata error (UNKNOWN_TOPIC_OR_PARTITION). Other errors:
 * MESSAGE_TOO_LARGE (record above message.max.bytes or buffer.memory),
 * UNKNOWN_TOPIC_OR_PARTITION (partition out of range), _INVALID_ARG,
 * _FATAL (the producer hit a fatal error: see tern_producer_fatal_error()),
 * _DESTROY (destroy has begun). On any error the callback is not called.
 * Threads: any number of threads at once, the delivery callback included. */
tern_err_t tern_produce(tern_producer_t *p, const char *topic, int32_t partition, const void *key,
			size_t key_len, const void *value, size_t value_len,
			const tern_header_t *headers, size_t nheaders, tern_delivery_cb *cb,
			void *opaque);

/* Sends everything queued now, without waiting for linger.ms, and waits
 * until every record produced before the call has had its callback, at
 * most timeout_ms (-1: without end). Returns 0, or TERN_ERR__TIMED_OUT
 * with records still outstanding.
 * Threads: any, but not from a delivery callback. */
tern_err_t tern_producer_flush(tern_producer_t *p, int timeout_ms);

/* Records accepted and not yet called back. Threads: any. */
size_t tern_producer_outstanding(tern_producer_t *p);

/* 0, or the fatal error the producer stopped on (an idempotence state it
 * cannot recover without risking duplicates), with the reason in errstr. */
tern_err_t tern_producer_fatal_error(tern_producer_t *p, char *errstr, size_t errlen);

/* Stops the producer without waiting: records not yet delivered (queued or
 * in flight) get their callback with TERN_ERR__DESTROY (a record in flight
 * may still have been written by the broker), the sender thread is joined
 * and everything freed, the conf too. Call tern_producer_flush() first to
 * deliver what is queued. NULL is fine.
 * Threads: one call, not from a delivery callback, with no other call on p
 * running or starting. */
void tern_producer_destroy(tern_producer_t *p);

#ifdef __cplusplus
}
#endif
#endif

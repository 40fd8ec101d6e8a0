/* tern/consumer.h: libtern's consumer. A background fetcher thread sends
 * long-polling Fetch requests to each partition's leader, checks and
 * decodes the batches (zstd included) and fills a bounded prefetch queue;
 * tern_consumer_poll() hands the records out one at a time, in offset
 * order per partition. Positions can be committed to the group's
 * coordinator (group.id), by hand or every auto.commit.interval.ms.
 * docs/consumer.md has the configuration, the threading and the offset
 * rules.
 *
 *	tern_conf_t *conf = tern_conf_new();
 *	tern_conf_set(conf, "bootstrap.servers", "tcp://127.0.0.1:9700", err, sizeof(err));
 *	tern_conf_set(conf, "group.id", "billing", err, sizeof(err));
 *	tern_consumer_t *c = tern_consumer_new(conf, err, sizeof(err));
 *	const char *topics[] = {"events"};
 *	tern_consumer_subscribe(c, topics, 1);
 *	for (;;) {
 *		tern_message_t *m;
 *		tern_err_t e = tern_consumer_poll(c, 1000, &m);
 *		if (e == TERN_OK)
 *			handle(m->value, m->value_len);
 *		tern_message_destroy(m);	// NULL after a timeout: fine
 *	}
 *	tern_consumer_close(c);
 *
 * Not yet: consumer-group membership. tern_consumer_subscribe() gives this
 * consumer every partition of the topics (no JoinGroup, no rebalancing),
 * so two consumers of one group both read everything; group.id works for
 * committed offsets only. Link with `pkg-config --cflags --libs tern`. */
#ifndef TERN_CONSUMER_H
#define TERN_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/conf.h"
#include "tern/errors.h"
#include "tern/record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tern_consumer tern_consumer_t;

/* Start offsets of tern_consumer_assign() and targets of
 * tern_consumer_seek(), besides a plain offset >= 0. */
#define TERN_OFFSET_BEGINNING (-2)    /* the log start offset */
#define TERN_OFFSET_END	      (-1)    /* the high-water mark: only new records */
#define TERN_OFFSET_STORED    (-1000) /* the group's committed offset, else auto.offset.reset */
#define TERN_OFFSET_INVALID   (-1001) /* "no offset" in answers (position, committed) */

/* One record, or one event of a partition (err != 0). Owned by the
 * caller of tern_consumer_poll() until tern_message_destroy(); every
 * pointer in it lives as long as the message, the consumer's lifetime
 * aside. */
typedef struct tern_message {
	tern_err_t err;	      /* 0 for a record */
	const char *topic;    /* NULL for an event of no partition */
	int32_t partition;    /* -1 for an event of no partition */
	int64_t offset;	      /* the record's; for an event, the position it concerns */
	int64_t timestamp;    /* CreateTime, or the broker's LogAppendTime (ms); -1 for events */
	bool log_append_time; /* timestamp is the broker's LogAppendTime */
	int32_t leader_epoch; /* of the batch, -1 when unknown */
	const void *key;      /* NULL for a null key; non-NULL with key_len 0: empty */
	size_t key_len;
	const void *value; /* NULL for a null value; non-NULL with value_len 0: empty */
	size_t value_len;
	const tern_header_t *headers; /* nheaders of them, in record order */
	size_t nheaders;
} tern_message_t;

/* Called with the outcome of every tern_consumer_commit(c, false) and of
 * every automatic commit: err 0 or why the commit failed, and the number of
 * partitions it carried. Runs on the thread that calls tern_consumer_poll()
 * (or tern_consumer_close()), from inside that call. */
typedef void(tern_commit_cb)(void *opaque, tern_err_t err, size_t npartitions);

/* Starts a consumer and its fetcher thread. On success the consumer owns
 * conf; on error the caller keeps it and errstr says what is wrong.
 * Errors: TERN_ERR_INVALID_CONFIG, _NOMEM, errno values. Nothing is fetched
 * until tern_consumer_assign() or tern_consumer_subscribe(). */
tern_consumer_t *tern_consumer_new(tern_conf_t *conf, char *errstr, size_t errlen);

/* Adds partition of topic to what this consumer reads, starting at offset
 * (>= 0, or TERN_OFFSET_BEGINNING / _END / _STORED); assigning a partition
 * already assigned moves it there, like tern_consumer_seek(). The topic and
 * partition need not exist yet: the fetcher waits for them in metadata
 * (an unknown partition of a known topic is reported by poll as
 * UNKNOWN_TOPIC_OR_PARTITION). Errors: _INVALID_ARG, _NOMEM, _STATE (the
 * consumer subscribed: the two are not mixed, as in Kafka). */
tern_err_t tern_consumer_assign(tern_consumer_t *c, const char *topic, int32_t partition,
				int64_t offset);

/* Reads every partition of topics[0..n) (copied), now and as partitions
 * appear in metadata, each from TERN_OFFSET_STORED. No group rebalancing
 * yet: see the top of this header. Errors: _INVALID_ARG, _NOMEM, _STATE
 * (partitions were assigned by hand). */
tern_err_t tern_consumer_subscribe(tern_consumer_t *c, const char *const *topics, size_t n);

/* The next record or event, waiting at most timeout_ms (0: do not wait;
 * -1: without end). Returns:
 *   - TERN_OK: *msg is a record;
 *   - an error with *msg an event carrying the same err and its partition:
 *     _PARTITION_EOF (enable.partition.eof: the position reached the
 *     high-water mark), OFFSET_OUT_OF_RANGE (auto.offset.reset=none, or
 *     no reset could be made: the partition waits for a seek), _NO_OFFSET
 *     (no committed offset under auto.offset.reset=none: likewise),
 *     CORRUPT_MESSAGE (a batch failed its CRC or could not be decoded: no
 *     record of it is delivered, the position stays at the batch and the
 *     partition waits for a seek), UNKNOWN_TOPIC_OR_PARTITION (an assigned
 *     partition is not in the topic), or another non-retriable error of a
 *     Fetch (retriable ones are retried with backoff and not returned);
 *   - _TIMED_OUT with *msg NULL: nothing within timeout_ms;
 *   - _INVALID_ARG or _CLOSED with *msg NULL.
 * A record returned moves the partition's position past it. Commit
 * callbacks (tern_consumer_set_commit_cb) run inside this call. */
tern_err_t tern_consumer_poll(tern_consumer_t *c, int timeout_ms, tern_message_t **msg);

/* Frees a message from tern_consumer_poll(). NULL is fine. It may be
 * called after the consumer is closed. */
void tern_message_destroy(tern_message_t *msg);

/* Moves the position of an assigned partition to offset (>= 0, or
 * TERN_OFFSET_BEGINNING / _END / _STORED): records prefetched for it are
 * dropped and the next record poll returns for it is the one at offset
 * (or the first after it that exists). Also resumes a partition that
 * waits for a seek. Errors: _INVALID_ARG, UNKNOWN_TOPIC_OR_PARTITION (not
 * assigned). */
tern_err_t tern_consumer_seek(tern_consumer_t *c, const char *topic, int32_t partition,
			      int64_t offset);

/* The offset of the next record poll will return for the partition: the
 * one after the last returned, or where it was assigned or sought once
 * resolved. *offset gets TERN_OFFSET_INVALID while the start is still
 * being looked up. Errors: _INVALID_ARG, UNKNOWN_TOPIC_OR_PARTITION (not
 * assigned). */
tern_err_t tern_consumer_position(tern_consumer_t *c, const char *topic, int32_t partition,
				  int64_t *offset);

/* Commits the position of every assigned partition whose position is known
 * and moved since its last commit (Kafka's commitSync()/commitAsync() of
 * consumed offsets) to the group's coordinator (OffsetCommit v7).
 * sync: waits for the answer (request.timeout.ms, retrying through a moving
 * coordinator) and returns its error; async: returns at once, the fetcher
 * thread sends it and the commit callback gets the outcome. Errors:
 * _INVALID_ARG (no group.id), the coordinator's or the partitions' errors,
 * REQUEST_TIMED_OUT, NETWORK_EXCEPTION, _CLOSED. Nothing to commit is
 * success. */
tern_err_t tern_consumer_commit(tern_consumer_t *c, bool sync);

/* Sets the commit callback (NULL: none) and its opaque. */
void tern_consumer_set_commit_cb(tern_consumer_t *c, tern_commit_cb *cb, void *opaque);

/* The group's committed offset of a partition (assigned or not), asked of
 * the coordinator (OffsetFetch v5), waiting at most timeout_ms. *offset
 * gets TERN_OFFSET_INVALID when none is committed. Errors: _INVALID_ARG
 * (no group.id), the coordinator's error, REQUEST_TIMED_OUT,
 * NETWORK_EXCEPTION. */
tern_err_t tern_consumer_committed(tern_consumer_t *c, const char *topic, int32_t partition,
				   int timeout_ms, int64_t *offset);

/* Stops the consumer: with enable.auto.commit and a group.id, commits the
 * positions synchronously first (its error is returned; the consumer is
 * closed anyway), runs pending commit callbacks, stops and joins the
 * fetcher thread, frees prefetched records and everything else, the conf
 * too. Messages already returned by poll stay valid. NULL is fine. */
tern_err_t tern_consumer_close(tern_consumer_t *c);

/* Threads: a consumer is used by one application thread at a time (as
 * Kafka's KafkaConsumer is); calls from several threads must be serialised
 * by the application. Network I/O happens on the consumer's fetcher thread,
 * except the commits and lookups of tern_consumer_commit(c, true),
 * tern_consumer_committed() and tern_consumer_close(), made by the calling
 * thread. */

#ifdef __cplusplus
}
#endif
#endif

/* tests/fake/fake_broker.h: a one-broker stand-in for ternd, shared by the
 * producer and consumer tests. It speaks ApiVersions, Metadata,
 * InitProducerId, Produce, Fetch (long poll), ListOffsets, FindCoordinator,
 * OffsetCommit and OffsetFetch on proto_server over an in-memory log per
 * partition: the batches as they came (base offsets assigned), a log start
 * offset, and HWM = log end. It answers exact idempotent repeats by
 * sequence with their first offsets and injects scripted faults. */
#ifndef TERN_TEST_FAKE_BROKER_H
#define TERN_TEST_FAKE_BROKER_H

#include <stdbool.h>
#include <stdint.h>

typedef enum fb_fault {
	FB_NONE,
	FB_DROP_REPLY,	 /* append, then send no reply (the client times out) */
	FB_ERROR,	 /* answer with error (not appended) */
	FB_ERROR_APPEND, /* append, then answer with error */
	FB_CLOSE,	 /* append, then close the socket (server restarts) */
	FB_OUT_OF_ORDER, /* answer OUT_OF_ORDER_SEQUENCE_NUMBER */
	FB_STALL,	 /* no more replies at all (the broker hangs) */
} fb_fault_t;

typedef struct fake_broker fake_broker_t;

/* Starts a broker on url with one topic of nparts partitions. */
fake_broker_t *fb_start(const char *url, const char *topic, int32_t nparts);
void fb_stop(fake_broker_t *fb);

/* The next Produce request (counting from now, 0 = the next one) number
 * nth gets fault, with err for FB_ERROR / FB_ERROR_APPEND. */
void fb_script(fake_broker_t *fb, int nth, fb_fault_t fault, int16_t err);

/* The values appended to partition part, in log order (borrowed; n gets
 * the count). Each value is the record's value as a NUL-terminated copy. */
char **fb_log(fake_broker_t *fb, int32_t part, int64_t *n);

/* Produce requests seen. */
int fb_produce_count(fake_broker_t *fb);

/* The codec of the last batch seen (0 none, 4 zstd). */
int fb_last_codec(fake_broker_t *fb);

/* Appends one whole RecordBatch (as log_batch_builder_finish() makes it)
 * to partition part, as a Produce would; returns its base offset, or -1
 * when the batch does not validate. Waiting Fetch requests see it. */
int64_t fb_append(fake_broker_t *fb, int32_t part, const uint8_t *batch, size_t len);

/* The log end (= HWM) and log start offset of part. */
int64_t fb_end_offset(fake_broker_t *fb, int32_t part);
/* Moves part's log start to off (retention deleted what is below it);
 * fetches below it answer OFFSET_OUT_OF_RANGE. */
void fb_set_log_start(fake_broker_t *fb, int32_t part, int64_t off);

/* The leader epoch metadata reports (0 at start). A Fetch or ListOffsets
 * with an older current leader epoch gets FENCED_LEADER_EPOCH, a newer one
 * UNKNOWN_LEADER_EPOCH. */
void fb_set_leader_epoch(fake_broker_t *fb, int32_t epoch);

typedef enum fb_fetch_fault {
	FBF_ERROR,   /* the next fetch of the partition gets err */
	FBF_CORRUPT, /* the next fetch of the partition returns its first batch with a
			flipped bit inside the CRC's range (the log itself stays good) */
} fb_fetch_fault_t;

/* Scripts a one-shot fault on the next Fetch that asks for part. */
void fb_fetch_fault(fake_broker_t *fb, int32_t part, fb_fetch_fault_t fault, int16_t err);

/* The offset group committed for part of the topic, -1 when none. */
int64_t fb_committed(fake_broker_t *fb, const char *group, int32_t part);

/* Requests seen of one API key (PROTO_API_*). */
int fb_request_count(fake_broker_t *fb, int16_t api_key);

#endif

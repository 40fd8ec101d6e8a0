/* tests/producer/fake_broker.h: a one-broker stand-in for ternd that
 * speaks ApiVersions, Metadata, InitProducerId and Produce on proto_server,
 * keeps each partition's log of (producer id, sequence) per record, answers
 * exact repeats by sequence with their first offsets, and injects scripted
 * faults. */
#ifndef TERN_TEST_FAKE_BROKER_H
#define TERN_TEST_FAKE_BROKER_H

#include <stdbool.h>
#include <stdint.h>

typedef enum fb_fault {
	FB_NONE,
	FB_DROP_REPLY,	  /* append, then send no reply (the client times out) */
	FB_ERROR,	  /* answer with error (not appended) */
	FB_ERROR_APPEND,  /* append, then answer with error */
	FB_CLOSE,	  /* append, then close the socket (server restarts) */
	FB_OUT_OF_ORDER,  /* answer OUT_OF_ORDER_SEQUENCE_NUMBER */
	FB_STALL,	  /* no more replies at all (the broker hangs) */
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

#endif

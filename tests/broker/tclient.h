/* tests/broker/tclient.h: what the broker tests share: real ternd processes
 * (each in its own process group, output to files, reaped on every path)
 * and a small client that speaks proto/ to them. */
#ifndef TERN_TESTS_BROKER_TCLIENT_H
#define TERN_TESTS_BROKER_TCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/proto.h"

/* Re-runs the test binary inside `unshare --pid --fork --kill-child --net
 * --mount-proc` when root (a private network: fixed ports cannot collide; every
 * process dies with the namespace) and brings lo up there. Call first in
 * main(). Without root the tests use free ports on 127.0.0.1. */
void tc_enter_namespace(int argc, char **argv);

/* One ternd process. */
typedef struct tc_broker {
	pid_t pid;
	char *dir;	/* scratch directory: data/, out.txt, err.txt */
	char url[64];	/* its listener */
	char *extra[8]; /* more --key=value arguments (borrowed) */
	int nextra;
} tc_broker_t;

/* Fills b with a fresh directory and a free listener; extra arguments may be
 * added to b->extra before tc_broker_start. */
void tc_broker_init(tc_broker_t *b, const char *tag);
/* Starts ternd --dev on b's directory and listener and waits (deadline
 * 30 s) until it says where it listens. */
void tc_broker_start(tc_broker_t *b);
/* SIGTERM, then waits (deadline 30 s) and returns the exit status. */
int tc_broker_term(tc_broker_t *b);
/* SIGKILL to its process group, then waitpid. */
void tc_broker_kill(tc_broker_t *b);
/* Kills it if running and removes its directory. */
void tc_broker_fini(tc_broker_t *b);

/* A connection to a broker. */
typedef struct tc_conn {
	proto_pool_t *pool;
	int32_t corr;
} tc_conn_t;

void tc_connect(tc_conn_t *c, const char *url);
void tc_close(tc_conn_t *c);

/* A decoded response: r is positioned at the body, arena holds arrays. */
typedef struct tc_resp {
	uint8_t *frame;
	size_t len;
	proto_reader_t r;
	proto_arena_t arena;
	proto_limits_t lim;
} tc_resp_t;

/* Sends body (encoded for key/version) and waits up to timeout_ms for the
 * response; returns the transport's error (0 on success, resp filled). */
tern_err_t tc_call(tc_conn_t *c, int16_t key, int16_t version, const proto_buf_t *body,
		   int timeout_ms, tc_resp_t *resp);
/* Sends raw bytes as they are. */
tern_err_t tc_call_raw(tc_conn_t *c, const void *bytes, size_t len, int timeout_ms,
		       tc_resp_t *resp);
void tc_resp_free(tc_resp_t *resp);

/* Helpers over tc_call that fail the test on transport errors. */
int16_t tc_create_topic(tc_conn_t *c, const char *name, int32_t partitions,
			const proto_config_kv_t *configs, int32_t nconfigs);
/* One batch of n records "<prefix>-<i>" (codec LOG_CODEC_*; pid -1 for a
 * plain producer). *len gets its size; the caller frees it. */
uint8_t *tc_batch(int n, const char *prefix, int codec, int64_t pid, int16_t epoch, int32_t seq,
		  size_t *len);
/* Produces one batch; returns the partition's error code and its base
 * offset in *base (acks 0: returns 0 without waiting for anything). */
int16_t tc_produce(tc_conn_t *c, const char *topic, int32_t partition, int16_t acks,
		   const uint8_t *batch, size_t len, int64_t *base);
/* Fetches from offset and appends every record value (as C strings) to
 * vals (up to max); returns the partition's error code. *hwm gets the HWM. */
int16_t tc_fetch(tc_conn_t *c, const char *topic, int32_t partition, int64_t offset,
		 int32_t max_wait_ms, int32_t min_bytes, char **vals, int64_t *offs, int max,
		 int *n, int64_t *hwm);

#endif

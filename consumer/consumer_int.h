/* consumer/consumer_int.h: the consumer's private types, shared by the files
 * of consumer/: the partitions it reads, the prefetch queue, the brokers
 * and the coordinator, and the functions the fetcher thread (fetcher.c),
 * the coordinator calls (coord.c) and the application side (consumer.c)
 * offer each other. */
#ifndef TERN_CONSUMER_INT_H
#define TERN_CONSUMER_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "common/clock.h"
#include "log/log.h"
#include "proto/proto.h"
#include "tern/consumer.h"

/* Pinned request versions (KAFKA-REFERENCE §5): Fetch v11 carries the
 * current leader epoch, ListOffsets v5 too. */
#define CONS_METADATA_VERSION	   8
#define CONS_FETCH_VERSION	   11
#define CONS_LIST_OFFSETS_VERSION  5
#define CONS_FIND_COORD_VERSION	   2
#define CONS_OFFSET_COMMIT_VERSION 7
#define CONS_OFFSET_FETCH_VERSION  5

typedef struct cons_part cons_part_t;

/* One record or event in the prefetch queue, and the allocation
 * tern_message_destroy() frees: the public message comes first, its topic,
 * key, value and headers follow in the same block. */
typedef struct cons_msg {
	tern_message_t m;
	struct cons_msg *next;
	cons_part_t *part; /* NULL for an event of no partition */
	uint64_t version;  /* part->version when it was fetched */
	size_t size;	   /* bytes of the block, counted in the queue */
} cons_msg_t;

enum cons_pstate {
	CONS_P_LOOKUP, /* the start (want) is being resolved to an offset */
	CONS_P_ACTIVE, /* fetching from fetch_offset */
	CONS_P_PAUSED, /* an error was returned by poll: waits for a seek */
};

/* One assigned partition. Partitions are never freed before the consumer,
 * so the fetcher keeps pointers to them across requests; a seek bumps
 * version instead, and whatever was fetched or looked up under an older
 * version is dropped. Invariants: in ACTIVE, position <= fetch_offset and
 * the queue holds nqueued records of the partition, all of the current
 * version, with offsets in [position, fetch_offset); in LOOKUP, position
 * is TERN_OFFSET_INVALID and nqueued is 0. */
struct cons_part {
	struct cons_part *next;
	char *topic; /* owned */
	int32_t id;
	int state;	      /* enum cons_pstate */
	int64_t want;	      /* LOOKUP: TERN_OFFSET_BEGINNING, _END or _STORED */
	int64_t fetch_offset; /* ACTIVE: the next offset to fetch */
	int64_t position;     /* the next offset poll returns */
	int64_t committed;    /* the last position this consumer committed, -1 */
	uint64_t version;
	size_t nqueued;
	int32_t leader; /* node id, -1 unknown */
	int32_t leader_epoch;
	int64_t hwm;	       /* from the last Fetch, -1 unknown */
	int64_t eof_reported;  /* fetch_offset of the last _PARTITION_EOF, -1 */
	int64_t retry_at_ms;   /* no request for it before this */
	bool inflight;	       /* in a Fetch or ListOffsets now */
	bool missing_reported; /* UNKNOWN_TOPIC_OR_PARTITION returned once */
};

/* A broker learnt from metadata. Its pool has two connections: 0 carries
 * the long-polling Fetch requests (send/poll/recv), 1 the ListOffsets
 * requests. Fetcher thread only. */
typedef struct cons_broker {
	struct cons_broker *next;
	int32_t id;
	char *url;
	proto_pool_t *pool; /* opened on first use */
} cons_broker_t;

/* The outcome of an asynchronous commit, waiting for its callback. */
typedef struct cons_commit_res {
	struct cons_commit_res *next;
	tern_err_t err;
	size_t n;
} cons_commit_res_t;

/* One partition's offset in a commit. */
typedef struct cons_commit_item {
	cons_part_t *part;
	int64_t offset;
	int32_t leader_epoch;
} cons_commit_item_t;

struct tern_consumer {
	tern_conf_t *conf; /* owned */
	const cons_config_t *cfg;
	proto_transport_opts_t topts;
	size_t queue_max;	  /* queued.max.messages.kbytes in bytes */
	proto_pool_t **bootstrap; /* one single-connection pool per server; read-only */

	/* Everything below up to the fetcher's own fields is guarded by
	 * lock. */
	pthread_mutex_t lock;
	pthread_cond_t wake;  /* work for the fetcher */
	pthread_cond_t ready; /* the queue or the results grew */
	cons_part_t *parts;
	char **subs; /* subscribed topics, nsubs of them */
	size_t nsubs;
	bool assigned; /* tern_consumer_assign() was called */
	cons_msg_t *qhead, *qtail;
	size_t qbytes, qcount;
	cons_commit_res_t *results, *results_tail;
	tern_commit_cb *commit_cb;
	void *commit_opaque;
	int commit_async; /* asynchronous commits asked for */
	bool metadata_wanted;
	bool stopping;
	int32_t corr;

	/* Coordinator: guarded by coord_lock, taken without lock held (the
	 * fetcher's auto commits and the application's sync calls meet
	 * here). */
	pthread_mutex_t coord_lock;
	int32_t coord_id; /* -1 unknown */
	char *coord_url;
	proto_pool_t *coord_pool;

	/* Fetcher thread only. */
	pthread_t thread;
	bool thread_started;
	cons_broker_t *brokers;
	size_t bootstrap_next;
	int64_t metadata_next_ms, metadata_last_ms;
	int64_t auto_commit_next_ms;
	double expand; /* queue bytes per fetched byte, last seen (>= 1) */
};

/* Logs at level when the conf's level lets it through. Threads: any. */
void cons_log(const tern_consumer_t *c, int level, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A new request header of key/ver in b (initialised here). Locks: any. */
void cons_req_header(tern_consumer_t *c, proto_buf_t *b, int16_t key, int16_t ver);

/* Opens a response made by a request of cons_req_header(): *r is at the
 * body. The caller frees *a. */
tern_err_t cons_resp_open(proto_reader_t *r, proto_arena_t *a, const proto_limits_t *lim,
			  const uint8_t *resp, size_t len, int16_t key, int16_t ver);

/* Sends b on a bootstrap server (rotating on failure) and waits for the
 * answer. Locks: none held. Threads: any. */
tern_err_t cons_bootstrap_call(tern_consumer_t *c, const proto_buf_t *b, uint8_t **resp,
			       size_t *len);

/* Appends m to the queue and wakes poll. Locks: lock held. */
void cons_queue_push(tern_consumer_t *c, cons_msg_t *m);

/* A new event for part (NULL: none) at offset. NULL when memory is short.
 * Locks: any. */
cons_msg_t *cons_event_new(cons_part_t *part, tern_err_t err, int64_t offset);

/* Queues an event for part and pauses it until a seek. Locks: lock held. */
void cons_part_fail(tern_consumer_t *c, cons_part_t *part, tern_err_t err, int64_t offset);

/* The partition, or NULL. Locks: lock held. */
cons_part_t *cons_part_find(tern_consumer_t *c, const char *topic, int32_t id);

/* Adds a partition in LOOKUP of want. Locks: lock held. */
cons_part_t *cons_part_add(tern_consumer_t *c, const char *topic, int32_t id, int64_t want);

/* Moves part to offset (>= 0: ACTIVE; a sentinel: LOOKUP), dropping its
 * queued records and whatever is in flight for it. Locks: lock held. */
void cons_part_move(tern_consumer_t *c, cons_part_t *part, int64_t offset);

/* The positions to commit (known and moved since their last commit) into
 * a malloc()ed array, *n of them (NULL with 0: nothing). Locks: lock held. */
cons_commit_item_t *cons_commit_snapshot(tern_consumer_t *c, size_t *n);

/* Commits items[0..n) to the coordinator by deadline_ms, retrying through
 * coordinator moves; on success marks them committed. Locks: none held. */
tern_err_t cons_commit_items(tern_consumer_t *c, cons_commit_item_t *items, size_t n,
			     int64_t deadline_ms);

/* The committed offsets of parts[0..n) of the group into out[] (-1 when
 * none), by deadline_ms. Locks: none held. */
tern_err_t cons_fetch_committed(tern_consumer_t *c, const char *const *topics, const int32_t *ids,
				size_t n, int64_t deadline_ms, int64_t *out);

/* Records an asynchronous commit's outcome for poll's callbacks. Locks:
 * lock held. */
void cons_commit_result(tern_consumer_t *c, tern_err_t err, size_t n);

/* Closes the coordinator's pool. Locks: none; the fetcher is stopped. */
void cons_coord_free(tern_consumer_t *c);

/* The fetcher thread (fetcher.c). */
void *cons_fetcher_main(void *arg);

/* Frees the fetcher's brokers. Locks: none; the fetcher is stopped. */
void cons_brokers_free(tern_consumer_t *c);

/* Bytes and messages in the prefetch queue (for tests and docs).
 * Threads: any. */
void cons_queue_stats(tern_consumer_t *c, size_t *bytes, size_t *count);

/* Waits on cv until deadline_ms (proto_now_ms clock; -1: without end). */

#endif

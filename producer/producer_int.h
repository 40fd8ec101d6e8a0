/* producer/producer_int.h: the producer's private types, shared by the
 * files of producer/: the checks across its keys, the partitioner, and the
 * producer's state. */
#ifndef TERN_PRODUCER_INT_H
#define TERN_PRODUCER_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "common/clock.h"
#include "common/config.h"
#include "log/log.h"
#include "proto/proto.h"
#include "tern/producer.h"

/* ------------------------------------------------------------------------ */
/* Configuration (prod_config_t, its table and the conf object: client/)      */

/* The checks across keys, made by tern_producer_new(): fills *out (a copy
 * of c with idempotence resolved) or returns INVALID_CONFIG with the
 * reason in errstr. *why_off gets a note when idempotence was turned off
 * (empty otherwise). */
tern_err_t prod_config_resolve(const tern_conf_t *c, bool *idempotent, char *errstr, size_t errlen,
			       char *why_off, size_t whylen);

/* ------------------------------------------------------------------------ */
/* Partitioner (Kafka's Utils.murmur2 and toPositive)                         */

int32_t prod_murmur2(const void *key, size_t len);
static inline int32_t prod_to_positive(int32_t v)
{
	return v & 0x7fffffff;
}
/* The partition of a non-null key among n (> 0) partitions. */
int32_t prod_key_partition(const void *key, size_t len, int32_t n);

/* ------------------------------------------------------------------------ */
/* Producer state                                                             */

/* One record's callback. */
typedef struct prod_msg {
	tern_delivery_cb *cb;
	void *opaque;
	int64_t timestamp;
} prod_msg_t;

typedef struct prod_part prod_part_t;
typedef struct prod_topic prod_topic_t;

/* Empty batch builders a producer keeps for reuse: one suffices while the
 * sender keeps up; a few more cover several partitions closing at once. */
#define PROD_SPARE_BUILDERS 4

/* A closed batch of one partition: its bytes and its records' callbacks.
 * It is closed under p->lock with its records still uncompressed in
 * builder; the sender thread seals it (compresses, fills the header and
 * CRC) with the lock dropped, so that compression never holds up
 * tern_produce(). Invariant: exactly one of builder and buf is set, and
 * only a sealed batch (buf) is sent. base_seq is -1 until it is first sent
 * (stamped with the producer id, epoch and sequence, then resent byte for
 * byte on every retry). */
typedef struct prod_batch {
	struct prod_batch *next;
	prod_part_t *part;
	log_batch_builder_t *builder; /* owned until sealed, then NULL */
	uint8_t *buf;		      /* owned; NULL until sealed */
	size_t len;
	prod_msg_t *msgs; /* owned, n of them */
	size_t n;
	size_t mem;	      /* buffer.memory bytes it holds */
	int64_t deadline_ms;  /* first record's arrival + delivery.timeout.ms */
	int64_t retry_at_ms;  /* not sent again before this */
	int32_t attempts;     /* sends so far */
	int32_t base_seq;     /* -1 until stamped */
	int64_t producer_id;  /* of the stamp */
	bool maybe_persisted; /* a send ended without a clear answer */
	/* The outcome, set when it moves to the producer's done list. */
	tern_err_t err;
	int64_t base_offset;
	int64_t append_time;
} prod_batch_t;

/* One partition. The open batch is the records in builder (nopen of them,
 * callbacks in open_msgs); closed batches wait in queue, whose head is the
 * only one that can be in flight (inflight), since every request of a
 * partition goes through its one connection one at a time.
 * Invariants: queue is in sequence order; inflight implies queue != NULL. */
struct prod_part {
	prod_topic_t *topic;
	int32_t id;
	int32_t leader; /* node id, -1 unknown */
	log_batch_builder_t *builder;
	prod_msg_t *open_msgs;
	size_t nopen, open_cap;
	size_t open_mem;
	int64_t open_since_ms; /* arrival of its first record */
	prod_batch_t *queue, *tail;
	bool inflight;
	int32_t next_seq; /* sequence of the next batch stamped */
};

struct prod_topic {
	struct prod_topic *next;
	char *name;
	tern_err_t err; /* the last metadata error of the topic, 0 when known */
	bool known;	/* has partitions */
	int32_t nparts;
	prod_part_t **parts; /* nparts of them */
	int32_t sticky;	     /* sticky partition for null keys, -1: choose again */
	int64_t first_wanted_ms;
};

/* A broker learnt from metadata, with its pool of connections. */
typedef struct prod_broker {
	struct prod_broker *next;
	int32_t id;
	char *url;
	proto_pool_t *pool; /* opened on first use */
	bool *busy;	    /* per connection: a request is out */
} prod_broker_t;

/* One Produce request in flight on one connection. */
typedef struct prod_req {
	prod_broker_t *broker;
	size_t conn;
	int32_t corr;
	prod_part_t **parts; /* the partitions whose head batch it carries */
	size_t nparts;
	bool expect_reply; /* false under acks=0 */
} prod_req_t;

struct tern_producer {
	tern_conf_t *conf; /* owned */
	const prod_config_t *cfg;
	bool idempotent;
	proto_transport_opts_t topts;

	/* Everything below is guarded by lock. */
	pthread_mutex_t lock;
	pthread_cond_t wake_sender; /* work for the sender */
	pthread_cond_t space;	    /* memory freed, metadata arrived, or fatal */
	pthread_cond_t idle;	    /* outstanding fell, or a flush round finished */
	prod_topic_t *topics;
	prod_batch_t *done, *done_tail; /* outcomes waiting for their callbacks */
	/* Empty builders kept for the next batch that closes, so that their
	 * zstd context and buffer are reused. */
	log_batch_builder_t *spare[PROD_SPARE_BUILDERS];
	size_t nspare;
	prod_broker_t *brokers;
	int64_t mem_used;
	size_t outstanding;
	int flushing;		  /* flush calls waiting: close open batches at once */
	bool metadata_wanted;	  /* refresh at the next chance */
	int64_t metadata_next_ms; /* earliest next metadata request */
	int64_t metadata_last_ms;
	int64_t producer_id;
	int16_t producer_epoch;
	bool pid_wanted;     /* (re)acquire a producer id before sending */
	int64_t pid_next_ms; /* earliest next InitProducerId (after a failure) */
	tern_err_t fatal;
	char fatal_why[256];
	bool stopping;
	int32_t corr;
	uint64_t rnd;

	/* Sender thread only (no lock needed). */
	pthread_t thread;
	bool thread_started;
	prod_req_t *reqs; /* in flight */
	size_t nreqs, reqs_cap;
	size_t bootstrap_next;
	proto_pool_t **bootstrap; /* one single-connection pool per server */
};

/* Logs at level when the conf's level lets it through. Threads: any. */
void prod_log(const tern_producer_t *p, int level, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The monotonic clock of every deadline (proto_now_ms) and the wall clock
 * of timestamps. */
int64_t prod_wall_ms(void);

/* Sender thread (sender.c). */
void *prod_sender_main(void *arg);

/* Closes the open batch of part into its queue, unsealed: its records stay
 * in their builder and part gets an empty one. Cheap: compression happens
 * later, in the sender thread's prod_seal_batches(). Threads: any.
 * Locks: p->lock held. */
tern_err_t prod_part_close_open(tern_producer_t *p, prod_part_t *part, int64_t now);

/* An empty builder for p's codec: a spare one, else a new one; NULL without
 * memory. Threads: any. Locks: p->lock held. */
log_batch_builder_t *prod_builder_take(tern_producer_t *p);

/* Keeps the empty builder bl as a spare, or frees it when there are
 * enough. Threads: any. Locks: p->lock held. */
void prod_builder_give(tern_producer_t *p, log_batch_builder_t *bl);

/* Ends b (already off its partition's queue) with err, or with offsets
 * from base_offset: moves it to p->done for prod_deliver_done().
 * Locks: p->lock held. */
void prod_batch_done(tern_producer_t *p, prod_batch_t *b, tern_err_t err, int64_t base_offset,
		     int64_t log_append_time);

/* Runs the callbacks of every batch on p->done, then frees them and
 * releases their memory. Drops p->lock around the callbacks, so a caller
 * must hold no pointer into the topic and partition lists across it.
 * Locks: p->lock held on entry and on return. */
void prod_deliver_done(tern_producer_t *p);

/* The topic called name, or NULL. Locks: p->lock held. */
prod_topic_t *prod_topic_find(tern_producer_t *p, const char *name);

/* Applies a topic's partition count from metadata, creating partitions.
 * Locks: p->lock held. */
tern_err_t prod_topic_set_partitions(tern_producer_t *p, prod_topic_t *t, int32_t n);

#endif

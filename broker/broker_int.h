/* broker/broker_int.h: what the parts of ternd share: the broker, its topics
 * and partitions, the request context handlers get, and the functions each
 * file of broker/ offers the others. Private to broker/. */
#ifndef TERN_BROKER_BROKER_INT_H
#define TERN_BROKER_BROKER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/broker.h"
#include "broker/config.h"
#include "controller/controller.h"
#include "isr/isr.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "proto/proto.h"

#define BK_OFFSETS_TOPIC "__consumer_offsets"
#define BK_TICK_MS	 50 /* timer granularity: produce timeouts, long polls */
#define BK_IDEM_BATCHES	 5  /* sequence ranges kept per producer (KIP-98) */

/* Logs a line on stderr: level is 'E', 'W' or 'I'; id a short stable tag. */
void bk_log(char level, const char *id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* One line per interval for an error that repeats (a full disk failing
 * every fetched append, a corrupt log failing every read), counting those
 * left out. The caller serialises calls on one limiter. */
#define BK_ERRLOG_MS 10000
typedef struct bk_errlog {
	int64_t last_ms; /* when a line was last allowed; 0: never */
	long skipped;	 /* calls since, not logged */
} bk_errlog_t;

/* Whether to log now (then *skipped gets how many were left out since the
 * last line), or only count this one. */
static inline bool bk_errlog_due(bk_errlog_t *e, int64_t now_ms, long *skipped)
{
	if (e->last_ms && now_ms - e->last_ms < BK_ERRLOG_MS) {
		e->skipped++;
		return false;
	}
	*skipped = e->skipped;
	e->last_ms = now_ms;
	e->skipped = 0;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Idempotent producers (KAFKA-REFERENCE.md §4)                               */

/* One appended batch of a producer: its sequence range and offsets. */
typedef struct bk_idem_batch {
	int32_t first_seq, last_seq;
	int64_t base_offset, last_offset;
} bk_idem_batch_t;

/* A producer's state on one partition. Invariant: the n batches (n <=
 * BK_IDEM_BATCHES) are in append order, oldest first, ring-ordered from
 * head, all of epoch `epoch`. */
typedef struct bk_idem_producer {
	int64_t pid;
	int16_t epoch;
	int n, head;
	bk_idem_batch_t b[BK_IDEM_BATCHES];
} bk_idem_producer_t;

typedef struct bk_idem {
	bk_idem_producer_t *p; /* sorted by pid */
	size_t n, cap;
} bk_idem_t;

/* What to do with a batch of producer (pid, epoch, seq range). */
typedef enum bk_idem_verdict {
	BK_IDEM_APPEND,	   /* new, in sequence: append it and bk_idem_record() */
	BK_IDEM_DUPLICATE, /* an exact repeat: answer with *dup's offsets */
	BK_IDEM_REFUSE,	   /* answer with *err */
} bk_idem_verdict_t;

bk_idem_verdict_t bk_idem_check(const bk_idem_t *s, const log_batch_hdr_t *h, bk_idem_batch_t *dup,
				tern_err_t *err);
/* Records an appended batch; _NOMEM leaves s unchanged. */
tern_err_t bk_idem_record(bk_idem_t *s, const log_batch_hdr_t *h, int64_t base_offset);
/* Forgets every recorded batch at or after offset (an append that failed
 * and was rolled back, with everything queued after it): a retry of one is
 * then appended again rather than answered with offsets that later records
 * will take. */
void bk_idem_forget_from(bk_idem_t *s, int64_t offset);
void bk_idem_free(bk_idem_t *s);

/* The state as a snapshot payload (docs/broker.md): *buf malloc()ed. */
tern_err_t bk_idem_encode(const bk_idem_t *s, uint8_t **buf, size_t *len);
/* Replaces s (empty or not) with the payload of the snapshot at offset;
 * _CORRUPT with why for a payload that is not one this code writes (s is
 * then unchanged). */
tern_err_t bk_idem_decode(bk_idem_t *s, const uint8_t *buf, size_t len, int64_t offset, char *why,
			  size_t whylen);

/* What a rebuild did: the snapshot it started from (-1: none, a scan from
 * the log start), the snapshots it found corrupt and deleted, and the
 * batch headers it read after the snapshot. */
typedef struct bk_idem_load {
	int64_t snapshot_offset;
	int discarded;
	int64_t batches_scanned;
} bk_idem_load_t;

/* Replaces s with the state of l as it is now (recovery, and after a
 * truncation): from the newest valid snapshot at or below the LEO, then
 * the batch headers after it; without one, from every batch header. A
 * corrupt snapshot is deleted with a warning naming name. *load (may be
 * NULL) says what was done. No append may run meanwhile. */
tern_err_t bk_idem_rebuild(bk_idem_t *s, log_t *l, const char *name, bk_idem_load_t *load,
			   char *errstr, size_t errlen);

/* The log's roll callback of a partition (opaque: the bk_part_t): writes
 * the state as the snapshot at base, or warns. Runs inside log_append() on
 * the appending thread, which holds p->append_mu and has not recorded the
 * appended batch yet, so p->idem is exactly the state as of base. Takes
 * p->mu to encode, not to write. */
void bk_idem_roll(void *opaque, int64_t base);

/* ------------------------------------------------------------------------ */
/* Topics and partitions                                                      */

/* Called once when appended records are acknowledged (err 0) or cannot be
 * (the error): base_offset is the first offset of the append. Runs on the
 * thread that saw it happen (a writer thread, the timer, a worker, the
 * caller of bk_part_append itself) with p->mu of the partition held: it
 * must not take p->mu, append_mu or topics_lock for writing. */
typedef void(bk_wait_cb)(void *arg, tern_err_t err, int64_t base_offset);

/* An append (a produce request's partition, an offset commit) waiting for
 * its records to be acknowledged. in_isr: handed to isr_produce_wait();
 * otherwise still waiting for the log's LEO (as isr knows it) to reach
 * end_offset. */
typedef struct bk_wait {
	uint64_t token;
	int64_t base_offset;
	int64_t end_offset;
	int64_t deadline_ms;
	int16_t acks;
	bool in_isr;
	bk_wait_cb *done;
	void *arg;
} bk_wait_t;

typedef struct bk_topic bk_topic_t;

/* A partition as the latest cluster image says: its leader, epochs,
 * replicas and ISR, and the replicas reported corrupt. */
typedef struct bk_pstate {
	isr_leader_and_isr_t st;
	int32_t ncorrupt;
	int32_t corrupt[ISR_MAX_REPLICAS];
} bk_pstate_t;

/* A broker of the cluster image. */
typedef struct bk_peer {
	int32_t id;
	char host[256];
	int32_t port;
	int64_t epoch;
	bool alive;
	bool shutting_down;
} bk_peer_t;

/* An ISR change a partition leader proposes, or (health) a report that a
 * replica here is corrupt or healthy again, queued for the link thread. */
typedef struct bk_alter {
	struct bk_alter *next;
	char *topic;
	int32_t partition;
	isr_alter_t alter;
	bool corrupt;
} bk_alter_t;

/* The link to the controller (cluster.c). mu guards kick, the heartbeat
 * counters and alters; cond signals each heartbeat's end and wakes the
 * link thread. hb_sent counts heartbeats sent, hb_applied the latest one
 * whose answer was applied, hb_failed the latest that failed. The other
 * fields belong to the link thread (and to start-up and shutdown, when it
 * does not run). */
typedef struct bk_link {
	bool inited, started, registered_once;
	atomic_bool stop;
	pthread_t thread;
	proto_pool_t *pool; /* to a controller elsewhere */
	atomic_uint_fast32_t corr;
	int64_t incarnation;
	int64_t epoch;	 /* this broker's registration */
	int64_t version; /* of the image applied last */
	int32_t heartbeat_ms;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool kick;
	uint64_t hb_sent, hb_applied, hb_failed;
	/* metadata.store=zookeeper: the session, and where the controller is
	 * (b->ctl when here, else pool to ctl_url). ctl_lock guards b->ctl,
	 * pool and ctl_url: read to use them, written by the link thread when
	 * the controller moves. */
	ctl_zk_t *zk;
	pthread_rwlock_t ctl_lock;
	char ctl_url[300];
	bk_alter_t *alters;
	bk_alter_t *health; /* ReplicaHealth reports to send */
} bk_link_t;

/* One partition this broker leads.
 * Locks: append_mu serialises the appends (idempotence check, log_append,
 * recording) so that offsets follow the order of the checks; mu guards isr,
 * waits and idem and is taken inside append_mu, and alone by the log's
 * completion callback (a writer thread). Neither is held across a wait for
 * another thread, except log_append()'s own back-pressure under append_mu.
 * Invariants: isr.leo <= log_end_offset(log); every wait's token is unique;
 * a wait with !in_isr has end_offset > isr.leo when mu is released. */
typedef struct bk_part {
	broker_t *broker;
	bk_topic_t *topic;
	int32_t index;
	log_t *log;
	pthread_mutex_t append_mu;
	pthread_mutex_t mu;
	isr_partition_t isr;
	/* Follower: reconcile with the leader (OffsetForLeaderEpoch) before
	 * the next fetch. Guarded by mu. */
	bool reconcile;
	/* Its log failed on corrupt data and the controller has been told
	 * (once); cleared when the repaired replica reports healthy. Guarded
	 * by mu. */
	bool corrupt_reported;
	/* It led and an append failed on a full disk (ENOSPC, EDQUOT): the
	 * controller has been told, as for a corrupt replica, so that it
	 * leaves the ISR and leadership moves. Cleared, and reported healthy,
	 * once it no longer leads (it rejoins the ISR by catching up, which
	 * takes room) or once an append succeeds while it still leads (it was
	 * the last ISR member). Guarded by mu. */
	bool full_reported;
	/* Its log failed for good (an I/O error: a failed write or fsync, a
	 * read error that log_repair cannot cut away): reported like a corrupt
	 * replica, and never repaired here; the replica comes back when the
	 * broker restarts and recovers the log (Kafka takes the log directory
	 * offline). Implies corrupt_reported. Guarded by mu. */
	bool offline;
	/* Appends that failed (bk_append_done with an error): an append that
	 * sees this move while it queues may have failed before its wait
	 * was added. Guarded by mu. */
	uint64_t append_fails;
	/* Reads that failed on this log. Guarded by mu. */
	bk_errlog_t read_errlog;
	bk_wait_t *waits;
	size_t nwaits, wcap;
	bk_idem_t idem;
} bk_part_t;

/* A topic. Guarded by the broker's topics_lock: read to use, write to
 * change (create, delete, alter). overrides are the topic's own config
 * keys (malloc()ed strings, in the order they were set); cfg is what they
 * resolve to over the broker's settings. */
struct bk_topic {
	char *name;
	int32_t npart;
	int16_t rf;
	bool internal;
	tern_conf_kv_t *overrides;
	size_t noverrides;
	broker_topic_config_t cfg;
	bk_pstate_t *state; /* each partition as the latest image says */
	bk_part_t **parts;  /* NULL where this broker holds no replica */
};

/* The broker's metrics (stats.c): the registry, its endpoint, and the
 * series that hot paths update. */
typedef struct bk_stats {
	metrics_registry_t *reg;
	metrics_http_t *http;
	int port;
	metrics_family_t *modes, *lag_offsets, *lag_seconds, *req_latency;
	metrics_gauge_t *under_replicated, *under_min_isr, *offline;
	metrics_counter_t *isr_shrinks, *isr_expands, *elections, *unclean;
	metrics_counter_t *repl_in, *repl_out;
	metrics_histogram_t *produce_latency, *fetch_latency, *fsync_latency;
} bk_stats_t;

/* The replica fetchers (replica.c). */
typedef struct bk_fetchers bk_fetchers_t;

/* A fetch waiting for data (long poll). */
typedef struct bk_fetch bk_fetch_t;

/* Committed offsets: the cache of __consumer_offsets and its cleaner
 * (offsets.c). */
typedef struct bk_offsets bk_offsets_t;

struct broker {
	const broker_config_t *cfg;
	char *data_dir;
	char *meta_path;
	char cluster_id[40];
	log_dir_t *dir;

	/* Guards topics and the metadata file; see bk_topic. */
	pthread_rwlock_t topics_lock;
	bk_topic_t **topics;
	size_t ntopics, tcap;

	/* Producer ids: next_pid is handed out; pid_limit is the end of the
	 * block written to the metadata file, so that ids stay unique across
	 * restarts (a new block is taken before any id of it is given). */
	pthread_mutex_t pid_mu;
	int64_t next_pid, pid_limit;

	proto_server_t **servers;
	char **listeners;
	size_t nservers;
	pthread_t *workers;
	size_t nworkers;
	pthread_t timer;
	bool timer_started;
	atomic_bool stopping;

	/* Parked fetches and the timer thread's wake-up. */
	pthread_mutex_t park_mu;
	pthread_cond_t park_cond;
	bk_fetch_t *parked;
	bool kick;
	atomic_uint_fast64_t token_seq; /* produce wait tokens */

	bk_offsets_t *offsets;

	bk_stats_t stats;

	/* leader.replication.throttled.rate: a token bucket (bytes) shared by
	 * every follower outside an ISR. Guarded by throttle_mu. */
	pthread_mutex_t throttle_mu;
	double throttle_tokens;
	int64_t throttle_ms;

	/* Replica fetchers, one per leader broker (replica.c). */
	bk_fetchers_t *fetchers;

	/* The controller when it runs in this process, else NULL (under
	 * ZooKeeper it comes and goes: see bk_link_t.ctl_lock). */
	ctl_t *ctl;
	bk_link_t link;
	/* The brokers of the latest image and the controller's id. Guarded
	 * by topics_lock. */
	bk_peer_t *peers;
	size_t npeers;
	int32_t controller_id;
};

/* The topic called name (len bytes), or NULL. topics_lock held. */
bk_topic_t *bk_topic_find(broker_t *b, const char *name, size_t len);
/* This broker's replica of the partition, or NULL. topics_lock held. */
bk_part_t *bk_part_find(broker_t *b, proto_str_t topic, int32_t partition);
/* Why there is no replica here: NOT_LEADER_OR_FOLLOWER when the partition
 * exists (elsewhere), else UNKNOWN_TOPIC_OR_PARTITION. topics_lock held. */
tern_err_t bk_part_missing(broker_t *b, proto_str_t topic, int32_t partition);

/* Makes the topics and partitions match a cluster image (a heartbeat's
 * answer with brokers and topics): creates and deletes topics, applies
 * their configs, opens the replicas this broker holds and gives each its
 * state (leader or follower, ISR, replica health). Takes topics_lock for
 * writing. */
void bk_image_apply(broker_t *b, const proto_broker_heartbeat_resp_t *m);
/* Closes every partition (logs flushed and closed) and frees the topics. */
tern_err_t bk_topics_close(broker_t *b);

/* Frees n owned config pairs. */
void bk_overrides_free(tern_conf_kv_t *ov, size_t n);

/* The isr/ configuration of a topic. */
void bk_isr_config(const broker_t *b, const broker_topic_config_t *t, isr_config_t *out);

/* Carries out what an isr/ event decided. p->mu held. */
void bk_part_apply(broker_t *b, bk_part_t *p, const isr_decisions_t *d);

/* Appends one validated batch (buf, len: borrowed) to p as its leader,
 * stamped with the leader epoch, for a write at acks (-1, 0 or 1).
 * idem is the batch's header when its producer is idempotent (NULL
 * otherwise): a repeat is then not appended; for acks != 0 it waits as the
 * original would have (done runs as below, with the original's base
 * offset), for acks=0 *dup_base gets the original's base offset (-1 when
 * not a repeat). Returns an error when
 * nothing was appended (the ISR too small for acks=all, an idempotence
 * refusal, the log's refusal); otherwise *info is filled and, for acks != 0,
 * done(arg, ...) runs exactly once, possibly before this returns, when the
 * records are acknowledged or at deadline_ms. Takes p->append_mu and p->mu;
 * topics_lock held (read). */
tern_err_t bk_part_append(broker_t *b, bk_part_t *p, const uint8_t *buf, size_t len, int16_t acks,
			  int64_t deadline_ms, const log_batch_hdr_t *idem, bk_wait_cb *done,
			  void *arg, log_append_info_t *info, int64_t *dup_base);
/* The same for a broker's own batch (no idempotence), with p->append_mu
 * already held by the caller: nothing else can append in between. */
tern_err_t bk_part_append_locked(broker_t *b, bk_part_t *p, const uint8_t *buf, size_t len,
				 int16_t acks, int64_t deadline_ms, bk_wait_cb *done, void *arg,
				 log_append_info_t *info);

/* Marks p's log as found corrupt: true the first time (the caller then
 * reports it). Takes p->mu. */
bool bk_part_mark_corrupt(bk_part_t *p);

/* p's log failed (log_is_failed): on an I/O error marks it offline and
 * reports it to the controller as a corrupt replica, once; on corrupt data
 * (log_is_repairable) only reports it, for part_repair to cut. Takes p->mu. */
void bk_part_storage_failed(broker_t *b, bk_part_t *p);

/* Answers every wait of p with err (a deleted topic, shutdown). p->mu held. */
void bk_part_fail_waits(bk_part_t *p, tern_err_t err);

/* The timer's pass over p: isr_tick and the deadlines of waits not yet in
 * isr. Takes p->mu. */
void bk_part_tick(broker_t *b, bk_part_t *p, int64_t now);

/* Wakes the timer thread: a HWM moved, a fetch was parked, shutdown. */
void bk_kick(broker_t *b);

/* ------------------------------------------------------------------------ */
/* The controller link (cluster.c)                                            */

/* Opens the controller (in this process) or the connection to it, then
 * registers and applies the first image. Before the workers start. */
tern_err_t bk_cluster_open(broker_t *b, char *errstr, size_t errlen);
/* Starts the link thread (heartbeats, ISR changes). */
tern_err_t bk_cluster_start(broker_t *b);
/* Stops the link thread after a controlled shutdown. */
void bk_cluster_shutdown(broker_t *b);
void bk_cluster_close(broker_t *b);
/* Queues an ISR change for the controller (from bk_part_apply). */
void bk_cluster_alter(broker_t *b, bk_part_t *p, const isr_alter_t *a);
/* The controller in this process, if it runs here now: answers one frame
 * (NOT_CONTROLLER when it does not), ticks it, reads its figures (false
 * when it does not run here). */
tern_err_t bk_ctl_local_handle(broker_t *b, const uint8_t *req, size_t len, uint8_t **resp,
			       size_t *resp_len);
void bk_ctl_local_tick(broker_t *b, int64_t now_ms);
bool bk_ctl_local_stats(broker_t *b, ctl_stats_t *out);
bool bk_ctl_is_local(broker_t *b);

/* Reports this broker's replica p corrupt (a read found bad data: it must
 * leave the ISR and never lead until repaired) or healthy again. Queued
 * for the link thread; resent until the controller takes it. */
void bk_cluster_health(broker_t *b, bk_part_t *p, bool corrupt);
/* The same report for a leader whose disk is full (full: it must leave the
 * ISR and give up leadership), or that may take part again (!full). */
void bk_cluster_health_full(broker_t *b, bk_part_t *p, bool full);
/* Waits until a heartbeat sent after this call has been answered and its
 * image applied: every change the controller made before is then known
 * here. REQUEST_TIMED_OUT at deadline_ms. No topics_lock held. */
tern_err_t bk_cluster_sync(broker_t *b, int64_t deadline_ms);
/* Sends a whole request frame to the controller and returns its response
 * frame (*resp malloc()ed), after bk_cluster_sync(). No topics_lock held. */
tern_err_t bk_cluster_forward(broker_t *b, const uint8_t *req, size_t len, uint8_t **resp,
			      size_t *resp_len);
/* Creates a topic through the controller (auto-creation, the offsets
 * topic); why gets the controller's message. No topics_lock held. */
tern_err_t bk_cluster_create_topic(broker_t *b, const char *name, int32_t npart, int32_t rf,
				   const tern_conf_kv_t *configs, size_t n, char *why,
				   size_t whylen);
/* A block of producer ids from the controller. */
tern_err_t bk_cluster_producer_ids(broker_t *b, int64_t *start, int32_t *len);

/* ------------------------------------------------------------------------ */
/* Metrics (stats.c)                                                          */

/* Creates the registry and every series. Before the log directory opens
 * (bk_stats_fsync_hook wires its fsync timings). */
tern_err_t bk_stats_open(broker_t *b, char *errstr, size_t errlen);
void bk_stats_fsync_hook(broker_t *b, log_dir_opts_t *o);
/* Starts the endpoint at metrics.listener (empty: none). A failure is a
 * warning: the broker runs without it. */
void bk_stats_serve(broker_t *b);
void bk_stats_close(broker_t *b);
/* A monotonic time in microseconds, and the seconds since one. */
int64_t bk_now_us(void);
double bk_seconds_since(int64_t t0_us);

/* ------------------------------------------------------------------------ */
/* Replica fetchers (replica.c)                                               */

/* Starts a fetcher for every leader broker this broker follows a partition
 * of (after an image); each fetches for all of them in one Fetch. Fetchers
 * live until broker stop. topics_lock held for writing. */
void bk_replica_update(broker_t *b);
/* Wakes the fetchers (a partition needs reconciling, a new follower). */
void bk_replica_kick(broker_t *b);
/* Stops and frees every fetcher. No topics_lock held. */
void bk_replica_stop(broker_t *b);

/* ------------------------------------------------------------------------ */
/* Requests                                                                   */

/* One request being handled. */
typedef struct bk_req {
	broker_t *b;
	proto_server_t *srv;
	proto_srv_msg_t *msg;
	proto_req_hdr_t hdr;
	proto_reader_t rd; /* positioned at the body */
	proto_arena_t *arena;
	proto_limits_t *lim;
	int64_t t0_us; /* arrival (bk_now_us) */
} bk_req_t;

/* Encodes the response header into out (proto_buf_init()ed). */
void bk_resp_begin(const bk_req_t *q, proto_buf_t *out);
/* Sends out (header and body) as the answer to q->msg and frees out. */
void bk_resp_send(const bk_req_t *q, proto_buf_t *out);
/* Answers a request whose body cannot be read or whose version Tern does
 * not speak: the response header and the INT16 err (docs/broker.md). */
void bk_reply_error(const bk_req_t *q, tern_err_t err);

/* Handlers. Each answers q->msg (or drops it, or takes it over for a later
 * answer: produce, fetch) and leaves q's arena for the caller to free
 * unless it says otherwise. */
void bk_handle_metadata(bk_req_t *q);
void bk_handle_create_topics(bk_req_t *q);
void bk_handle_delete_topics(bk_req_t *q);
void bk_handle_describe_configs(bk_req_t *q);
void bk_handle_alter_configs(bk_req_t *q);
void bk_handle_incremental_alter_configs(bk_req_t *q);
void bk_handle_elect_leaders(bk_req_t *q);
/* DescribePartitions and DescribeCluster (describe.c): live state of the
 * partitions led here, and the cluster as this broker's image says. */
void bk_handle_describe_partitions(bk_req_t *q);
void bk_handle_describe_cluster(bk_req_t *q);
/* Answers a request addressed to the controller in this process. */
void bk_serve_controller(bk_req_t *q);
/* Produce and Fetch may keep q's arena: they set q->arena to NULL then. */
void bk_handle_produce(bk_req_t *q);
void bk_handle_fetch(bk_req_t *q);
void bk_handle_list_offsets(bk_req_t *q);
void bk_handle_init_producer_id(bk_req_t *q);
void bk_handle_offset_for_leader_epoch(bk_req_t *q);

/* The broker epoch a replica fetch names in its client id
 * ("ternd-replica-ID-EPOCH", docs/protocol.md), or ISR_NO_BROKER_EPOCH. */
int64_t bk_replica_client_epoch(proto_str_t client_id);

/* The log's completion callback of every leader append (opaque: the
 * bk_part_t). Runs on a writer thread; takes p->mu. */
void bk_append_done(void *opaque, tern_err_t err, int64_t base_offset, int64_t last_offset);

/* Bytes a follower outside the ISR may be served now (at most want), and
 * the bytes it was then served. */
size_t bk_throttle_allow(broker_t *b, size_t want);
void bk_throttle_used(broker_t *b, size_t n);

/* Parked fetches: the timer thread retries them; shutdown answers them. */
void bk_fetch_retry_parked(broker_t *b, bool force);

/* The listener address clients are told to use (advertised.listeners, else
 * the first listener): host into host (hostlen bytes) and *port. */
void bk_self_address(const broker_t *b, char *host, size_t hostlen, int32_t *port);

/* ------------------------------------------------------------------------ */
/* Committed offsets (offsets.c)                                              */

/* Java's String.hashCode of the UTF-8 string s (len bytes) as Java decodes
 * it (malformed sequences become U+FFFD): the sum of s[i]*31^(n-1-i) over
 * its UTF-16 code units, wrapping as an int. */
int32_t bk_java_string_hash(const char *s, size_t len);
/* The partition of __consumer_offsets (npart of them) that holds a group:
 * Kafka's Utils.abs(groupId.hashCode()) % npart. */
int32_t bk_offsets_partition_for(const char *group, size_t len, int32_t npart);

/* Builds the offset cache from __consumer_offsets (each partition from its
 * log start to its HWM) when the topic exists. After bk_meta_load(). */
tern_err_t bk_offsets_open(broker_t *b, char *errstr, size_t errlen);
/* Starts and stops the cleaner thread that keeps the partitions bounded.
 * Stop before the topics close. */
tern_err_t bk_offsets_start(broker_t *b);
void bk_offsets_stop(broker_t *b);
void bk_offsets_free(broker_t *b);
/* Partition p (of __consumer_offsets: others are ignored) is now led here
 * (its groups' offsets are loaded from its log) or no longer (they are
 * forgotten). topics_lock held for writing. */
void bk_offsets_leadership(broker_t *b, bk_part_t *p, bool leader);
/* Wakes the cleaner when offsets partition p has outgrown its bound. */
void bk_offsets_kick(broker_t *b, bk_part_t *p);

void bk_handle_find_coordinator(bk_req_t *q);
void bk_handle_offset_commit(bk_req_t *q);
void bk_handle_offset_fetch(bk_req_t *q);

#endif

/* tests/isr/cluster.h: a simulated cluster driven only through the isr/
 * API, for the scenario replays and the randomized test of isr/. Brokers
 * 0..n-1 each hold a log (an array of (epoch, value), the offset being the
 * index), a leader-epoch cache (log/'s, with Kafka's semantics) and an
 * isr_partition_t; one isr_ctl_t is the controller. Messages are steps the
 * test chooses: a fetch, a metadata delivery, an AlterPartition and its
 * answer are separate events, so any interleaving can be replayed.
 *
 * cl_check() verifies KAFKA-REFERENCE.md §3's safety invariants. */
#ifndef TERN_TEST_ISR_CLUSTER_H
#define TERN_TEST_ISR_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "isr/isr.h"
#include "log/log.h"

#define CL_MAX_NODES 5
#define CL_TRACE     48 /* events remembered for a failure report */

typedef struct cl_rec {
	int32_t epoch;
	uint64_t value;
} cl_rec_t;

/* The controller's answer to an AlterPartition, on its way back. */
typedef struct cl_alter_resp {
	uint64_t id;
	tern_err_t err;
	int32_t leader_epoch, partition_epoch;
	isr_set_t isr;
} cl_alter_resp_t;

typedef struct cl_node {
	int32_t id;
	bool up;
	bool isolated;	 /* cut off from the controller (a zombie while it leads) */
	bool clean_stop; /* its last stop was a controlled shutdown */
	int64_t broker_epoch;
	cl_rec_t *log;
	int64_t len, durable, cap;
	int64_t saved_hwm; /* its HWM checkpoint */
	log_epoch_cache_t cache;
	isr_partition_t p; /* valid while up */
	bool need_reconcile;
	bool alter_out; /* an AlterPartition on its way to the controller */
	isr_alter_t alter;
	bool resp_in; /* an answer on its way back */
	cl_alter_resp_t resp;
	/* For "the HWM never decreases within a leader epoch". */
	int32_t led_epoch;
	int64_t led_hwm;
	/* Bumped whenever the log loses records, so that the incremental
	 * checks below know to look again. */
	uint64_t gen;
	/* log[0..pair_upto) was found equal to node pair_leader's (at the
	 * gens noted). */
	int64_t pair_upto;
	int32_t pair_leader;
	uint64_t pair_gen, pair_lgen;
	/* log[0..com_upto) was found equal to the committed prefix. */
	int64_t com_upto;
	uint64_t com_gen;
} cl_node_t;

/* A produce request waiting for its answer. */
typedef struct cl_req {
	uint64_t value;
	int64_t offset;
	int32_t node;
	int16_t acks;
} cl_req_t;

typedef struct cl_ack {
	int64_t offset;
	uint64_t value;
} cl_ack_t;

typedef struct cluster {
	int n;
	isr_config_t cfg;
	isr_ctl_t ctl;
	cl_node_t node[CL_MAX_NODES];
	int64_t now;
	int64_t next_broker_epoch;
	uint64_t next_value;
	cl_req_t *reqs;
	size_t nreqs, reqs_cap;
	cl_ack_t *acked; /* acks=all records acknowledged with success */
	size_t nacked, acked_cap;
	/* The committed prefix: what every leader's HWM has covered, offset
	 * by offset. Meaningless once an unclean election happened. */
	uint64_t *committed;
	int64_t ncommitted, committed_cap;
	bool unclean;	 /* an unclean election happened */
	bool check_data; /* check acked and committed records (no unclean election) */
	/* Answers seen, by error. */
	uint64_t n_ok, n_19, n_20, n_7, n_6, n_elections;
	char trace[CL_TRACE][96];
	unsigned ntrace;
	char err[512];
} cluster_t;

/* n brokers (1..CL_MAX_NODES) registered and started, broker 0 elected,
 * the state delivered everywhere. */
void cl_init(cluster_t *cl, int n, const isr_config_t *cfg);
void cl_fini(cluster_t *cl);

/* Appends one record at node id as a produce request with acks (the
 * acks=all answer comes later, or now in the decisions). Returns
 * isr_produce_check's error (nothing written then) or NONE; *value gets
 * the record's value when not NULL. */
tern_err_t cl_produce(cluster_t *cl, int id, int16_t acks, int64_t timeout_ms, uint64_t *value);

/* Registers an acks=all waiter for an append that already happened
 * (end_offset), the way a broker would that registers late. */
tern_err_t cl_wait_late(cluster_t *cl, int id, uint64_t value, int64_t end_offset,
			int64_t timeout_ms);

/* fsync on node id: everything written becomes durable; the HWM checkpoint
 * is written. */
void cl_flush(cluster_t *cl, int id);

/* One fetch by follower id from the leader it knows: reconciliation first
 * when due, then (under sync) an fsync, the Fetch, and up to max records
 * back. drop_response: the leader processes the fetch but the follower
 * never sees the answer. Returns the leader's error, or _STATE when there
 * is nobody to fetch from. */
tern_err_t cl_fetch(cluster_t *cl, int id, int max, bool drop_response);

/* The controller's current state (and brokers' health) reaches node id,
 * unless it is down or isolated. */
void cl_deliver(cluster_t *cl, int id);
void cl_deliver_all(cluster_t *cl);

/* Node id's AlterPartition reaches the controller / its answer reaches id. */
void cl_deliver_alter(cluster_t *cl, int id);
void cl_deliver_alter_resp(cluster_t *cl, int id);

/* Time passes; every node that is up ticks. */
void cl_advance(cluster_t *cl, int64_t ms);

/* Node id stops without warning, keeping only the first keep records
 * beyond its durable end (-1: all of them, a process crash; 0: a power
 * loss). fence: the controller notices at once (session expiry) rather
 * than at the restart. */
void cl_crash(cluster_t *cl, int id, int64_t keep, bool fence);

/* The controller fences node id (its session expired). */
void cl_fence(cluster_t *cl, int id);

/* Node id starts again: recovery rebuilds its epoch cache from its log;
 * it registers with a new broker epoch and gets the state. */
void cl_restart(cluster_t *cl, int id);

/* Controlled shutdown of node id: leadership moves away, it flushes and
 * stops. */
void cl_shutdown(cluster_t *cl, int id);

/* Node id loses / regains the controller (it keeps serving clients and
 * followers meanwhile); the controller fences / unfences it. */
void cl_isolate(cluster_t *cl, int id);
void cl_heal(cluster_t *cl, int id);

/* Node id finds a corrupt batch: it is reported, moves to follower,
 * truncates to truncate_to (its last valid batch) and reports healthy. */
void cl_corrupt(cluster_t *cl, int id, int64_t truncate_to);

/* An operator's election. */
tern_err_t cl_elect(cluster_t *cl, isr_election_t type);

/* The node that leads per the controller, up and acting as leader in the
 * controller's epoch, or -1. */
int cl_leader(const cluster_t *cl);

/* Whether node id's log holds value at offset. */
bool cl_has(const cluster_t *cl, int id, int64_t offset, uint64_t value);

/* The safety invariants: false with the reason in cl->err. */
bool cl_check(cluster_t *cl);

/* Appends a line to the event trace. */
void cl_note(cluster_t *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the trace to stderr (on a failure). */
void cl_dump(const cluster_t *cl);

#endif

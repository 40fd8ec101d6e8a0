/* isr/isr.h: the replication state machine of one partition, the one public
 * header of isr/ (KAFKA-REFERENCE.md §3; DESIGN.md decisions 6, 8, 9, 10).
 *
 * Pure logic: no I/O, no threads, no clock reads. Every input is an event
 * that carries the time it happened; every output is a decision the caller
 * carries out (send an AlterPartition, answer produce requests, record a
 * leader epoch, truncate a log). Three parts:
 *   - isr_partition_t: one replica's view of a partition, as leader or as
 *     follower: follower progress, the HWM, ISR shrink and expansion,
 *     acks waiters, the leader-epoch fences, KIP-207;
 *   - isr_ctl_t: the controller's record of a partition: AlterPartition,
 *     brokers that die, shut down, restart or find corrupt data, elections
 *     (clean, from the eligible leader replicas, unclean), the mode;
 *   - pure functions a follower uses to reconcile its log with a new leader
 *     (OffsetForLeaderEpoch) and to react to OFFSET_OUT_OF_RANGE.
 * docs/replication.md describes each rule and the incident it prevents.
 *
 * Library code: nothing here prints. Errors come back as tern_err_t; on
 * error an event changes nothing. Not thread-safe: the owner of a partition
 * serialises the calls on it. Only the waiter queue of an isr_partition_t
 * allocates memory. */
#ifndef TERN_ISR_H
#define TERN_ISR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/errors.h"

/* Replicas of one partition, at most. Kafka has no such limit, but a
 * replication factor above a handful buys nothing and fixed arrays keep
 * every set operation free of allocation. */
#define ISR_MAX_REPLICAS 16

#define ISR_NO_LEADER	    (-1)      /* no leader (partition offline) */
#define ISR_NO_EPOCH	    (-1)      /* a request without a current leader epoch */
#define ISR_UNKNOWN_OFFSET  (-1)      /* e.g. a follower's LEO before its first fetch */
#define ISR_NO_BROKER_EPOCH (-1)      /* broker epoch not known */
#define ISR_TIME_NEVER	    INT64_MIN /* "never" for times: 0 is a real time on a faked clock */

/* ------------------------------------------------------------------------ */
/* Configuration                                                              */

typedef enum isr_flush_policy {
	/* An offset counts toward the HWM, caught-up and expansion rules only
	 * once it is fsynced: the leader's durable LEO, the follower's fetch
	 * offset (its durable LEO: it fsyncs before each fetch). */
	ISR_FLUSH_SYNC = 0,
	/* Kafka's default: the plain LEO counts. */
	ISR_FLUSH_ASYNC = 1,
} isr_flush_policy_t;

/* A topic's replication settings. All may change at run time
 * (isr_set_config, isr_ctl_set_config). */
typedef struct isr_config {
	int32_t min_insync;	       /* min.insync.replicas, >= 1 */
	int64_t lag_time_max_ms;       /* replica.lag.time.max.ms, > 0 */
	isr_flush_policy_t flush;      /* flush.policy */
	bool unclean_election;	       /* unclean.leader.election.enable */
	bool eligible_leader_replicas; /* KIP-966 eligible leader replicas */
} isr_config_t;

/* min.insync 1, lag 30 000 ms (Kafka's default), sync, no unclean
 * election, no eligible leader replicas. */
void isr_config_default(isr_config_t *c);

/* _INVALID_ARG unless min_insync >= 1, lag_time_max_ms > 0 and flush is
 * one of the two policies. */
tern_err_t isr_config_check(const isr_config_t *c);

/* ------------------------------------------------------------------------ */
/* Shared types                                                               */

/* A set of broker ids. Invariant: 0 <= n <= ISR_MAX_REPLICAS, the ids are
 * distinct and >= 0. Sets that isr/ builds list their members in
 * assignment order; sets given to it may come in any order. */
typedef struct isr_set {
	int32_t n;
	int32_t id[ISR_MAX_REPLICAS];
} isr_set_t;

bool isr_set_contains(const isr_set_t *s, int32_t id);

/* What cluster metadata says about the broker that holds one replica. A
 * replica is *eligible* (to join the ISR, to be elected) when its broker is
 * alive, not shutting down and not corrupt; the leader also requires that
 * the follower's fetches name broker_epoch (KIP-903: a fetch state from
 * before a restart must not bring a replica back into the ISR). */
typedef struct isr_health {
	bool alive;	      /* registered and unfenced (its session is live) */
	bool shutting_down;   /* a controlled shutdown has begun */
	bool corrupt;	      /* reported KAFKA_STORAGE_ERROR for this partition */
	int64_t broker_epoch; /* epoch of its current registration, or ISR_NO_BROKER_EPOCH */
} isr_health_t;

/* The partition state the controller decides and pushes to every replica
 * (LeaderAndIsr; Kafka's PartitionRegistration). */
typedef struct isr_leader_and_isr {
	int32_t leader;		 /* ISR_NO_LEADER when offline */
	int32_t leader_epoch;	 /* bumped by every election and every leader restart */
	int32_t partition_epoch; /* bumped by every change of this state */
	int32_t nreplicas;
	int32_t replicas[ISR_MAX_REPLICAS]; /* assignment order */
	isr_set_t isr;			    /* contains the leader when there is one */
	bool recovering;		    /* since an unclean election, until a 2nd ISR member */
} isr_leader_and_isr_t;

/* An ISR change proposed by a leader (AlterPartition, KIP-497). */
typedef struct isr_alter {
	uint64_t id; /* names this proposal in isr_alter_committed/_rejected */
	int32_t leader;
	int32_t leader_epoch;
	int32_t partition_epoch; /* the state the proposal is based on */
	isr_set_t isr;		 /* the whole proposed ISR */
	/* broker_epoch[i] is the broker epoch the last fetch of isr.id[i]
	 * named (the leader's own for itself), ISR_NO_BROKER_EPOCH when the
	 * leader has seen no fetch from it in this leader epoch. */
	int64_t broker_epoch[ISR_MAX_REPLICAS];
} isr_alter_t;

/* Modes of DESIGN.md decision 9: the first that matches. */
typedef enum isr_mode {
	ISR_MODE_OFFLINE = 0,  /* no leader */
	ISR_MODE_FLOOR = 1,    /* ISR < min(min.insync, replicas): acks=all refused, HWM frozen */
	ISR_MODE_RECOVERY = 2, /* after an unclean election, until a second replica joins */
	ISR_MODE_DEGRADED = 3, /* ISR < replicas */
	ISR_MODE_TARGET = 4,   /* ISR = all replicas */
} isr_mode_t;

/* "offline", "floor", "recovery", "degraded", "target". */
const char *isr_mode_name(isr_mode_t m);

/* ------------------------------------------------------------------------ */
/* One replica's state machine                                                */

typedef enum isr_role {
	ISR_ROLE_NONE = 0, /* no partition state received yet */
	ISR_ROLE_LEADER = 1,
	ISR_ROLE_FOLLOWER = 2,
} isr_role_t;

/* What the leader knows of one replica (the entry of the leader itself
 * holds only health). All progress fields are reset when a new leader epoch
 * begins: nothing a follower said to an older leader counts.
 * Invariants: leo == ISR_UNKNOWN_OFFSET or leo >= 0; last_fetch_ms ==
 * ISR_TIME_NEVER exactly when no fetch arrived in this leader epoch, and
 * then last_fetch_leader_leo == ISR_UNKNOWN_OFFSET; last_caught_up_ms <=
 * the latest fetch time seen or is the become-leader time. */
typedef struct isr_replica {
	int32_t id;
	isr_health_t health;
	/* The follower's acknowledged LEO: the fetch offset of its latest
	 * fetch in this leader epoch (its durable LEO under sync). */
	int64_t leo;
	int64_t last_fetch_ms;
	/* The leader's acknowledged LEO when that fetch arrived: the first
	 * step of the two-step caught-up rule (KAFKA-4485). */
	int64_t last_fetch_leader_leo;
	/* Largest t at which a fetch showed the follower had everything the
	 * leader had acknowledged at t; ISR_TIME_NEVER for "never". */
	int64_t last_caught_up_ms;
	int64_t fetch_broker_epoch; /* named by its latest fetch */
} isr_replica_t;

/* A produce request waiting for its records to be acknowledged. */
typedef struct isr_waiter {
	uint64_t token;	     /* the caller's, returned in the completion */
	int64_t offset;	     /* last offset + 1 of its records */
	int64_t deadline_ms; /* REQUEST_TIMED_OUT at the first tick at or after it */
} isr_waiter_t;

/* Waiters sorted by offset (stable): w[head..tail) are live. */
typedef struct isr_waitq {
	isr_waiter_t *w;
	size_t head, tail, cap;
} isr_waitq_t;

/* A produce request to answer: err is NONE, NOT_ENOUGH_REPLICAS_AFTER_APPEND,
 * REQUEST_TIMED_OUT or NOT_LEADER_OR_FOLLOWER. */
typedef struct isr_completion {
	uint64_t token;
	tern_err_t err;
} isr_completion_t;

/* What an event asks the caller to do, in this order. */
typedef struct isr_decisions {
	/* Leader: a new epoch starts; record (epoch, epoch_start) in the
	 * leader-epoch cache before the first append of the epoch. */
	bool assign_epoch;
	int32_t epoch;
	int64_t epoch_start;
	/* Follower: reconcile with the leader (isr_reconcile_*) before the
	 * next fetch: the leader epoch changed. */
	bool reconcile;
	/* The HWM changed to hwm: on a leader it only rises within a leader
	 * epoch; on a follower it is min(leader's HWM, own LEO). */
	bool hwm_changed;
	int64_t hwm;
	/* Send this AlterPartition to the controller. */
	bool alter;
	isr_alter_t alter_req;
	/* Produce requests to answer. Borrowed from the partition: valid
	 * until the next call on it. */
	size_t ndone;
	const isr_completion_t *done;
} isr_decisions_t;

/* Counters for metrics (they only grow). */
typedef struct isr_counters {
	uint64_t shrinks_proposed, expands_proposed;
	uint64_t alters_committed, alters_rejected;
	uint64_t acks_all_ok, acks_all_after_append, acks_timed_out;
} isr_counters_t;

/* One replica of one partition.
 *
 * The fields are readable (for metrics, describe, tests); change them only
 * through the functions below. Invariants (isr_partition_validate() checks
 * those that need no history):
 *   - nreplicas in 1..ISR_MAX_REPLICAS, replicas distinct, self among them
 *     once any state is received; r[i].id == replicas[i];
 *   - 0 <= hwm <= leo and 0 <= durable_leo <= leo;
 *   - isr is the ISR of the latest state received, then of the latest
 *     AlterPartition committed; isr ⊆ max_isr ⊆ replicas;
 *   - leader role: self ∈ isr (the ISR always contains the leader);
 *     hwm <= isr_acked_leo() (under sync only fsynced records count);
 *     max_isr == isr ∪ pending.isr while alter_inflight, == isr otherwise
 *     (the maximal ISR: a pending expansion counts at once, a pending
 *     shrink only once committed); epoch_start <= leo; the HWM never
 *     decreases within a leader epoch; every acks=all waiter has offset >
 *     hwm and every acks=1 waiter offset > the acknowledged LEO;
 *   - other roles: no waiters, nothing in flight, max_isr == isr;
 *   - at most one ISR change in flight (alter_inflight). */
typedef struct isr_partition {
	int32_t self;
	isr_config_t cfg;
	isr_role_t role;
	int32_t leader;		 /* as the latest state says */
	int32_t leader_epoch;	 /* ISR_NO_EPOCH before any state */
	int32_t partition_epoch; /* -1 before any state */
	bool recovering;
	int32_t nreplicas;
	int32_t replicas[ISR_MAX_REPLICAS];
	isr_replica_t r[ISR_MAX_REPLICAS]; /* parallel to replicas */
	isr_set_t isr;			   /* committed ISR */
	isr_set_t max_isr;		   /* committed ∪ pending expansion */

	/* The ISR change in flight. Stuck: the controller rejected it as stale
	 * (INVALID_UPDATE_VERSION, FENCED_LEADER_EPOCH, INVALID_REQUEST) and
	 * the leader proposes nothing until a newer state arrives. */
	bool alter_inflight;
	bool alter_stuck;
	isr_alter_t pending;
	uint64_t next_alter_id;

	int64_t leo;	     /* this replica's log end offset (plain) */
	int64_t durable_leo; /* its fsynced end */
	int64_t hwm;
	int64_t leader_hwm;  /* follower: the HWM of the latest fetch response */
	int64_t epoch_start; /* leader: where its leader epoch starts (plain LEO at election) */
	int64_t next_shrink_check_ms;

	isr_waitq_t acks_all; /* waiting for hwm >= offset */
	isr_waitq_t acks_one; /* waiting for the acknowledged LEO >= offset */
	isr_completion_t *done;
	size_t done_cap;
	isr_counters_t counters;
} isr_partition_t;

/* Sets up p for replica self (broker id) with no state yet: the role is
 * NONE until isr_become_leader/_follower. hwm is this replica's HWM from
 * its checkpoint (0 when none), leo and durable_leo its log's. Health of
 * every replica is unknown (not alive) until isr_set_health. */
tern_err_t isr_partition_init(isr_partition_t *p, int32_t self, const isr_config_t *cfg,
			      int64_t leo, int64_t durable_leo, int64_t hwm);

/* Frees the waiter queues; waiters still queued are dropped unanswered. */
void isr_partition_fini(isr_partition_t *p);

/* _STATE with the broken invariant in why when p breaks one (a bug). */
tern_err_t isr_partition_validate(const isr_partition_t *p, char *why, size_t whylen);

/* The offset that counts as acknowledged on this replica: the durable LEO
 * under sync, the LEO under async. */
int64_t isr_acked_leo(const isr_partition_t *p);

/* min(min.insync.replicas, replication factor): Kafka's effective min ISR. */
int32_t isr_effective_min_insync(const isr_partition_t *p);

/* The mode from this replica's view (the leader's is the one that counts). */
isr_mode_t isr_partition_mode(const isr_partition_t *p);

/* ---- events: state from the controller ---- */

/* This replica leads st (st->leader == self; self in st->isr and in
 * st->replicas; st->isr within st->replicas). leo and durable_leo are the
 * log's now.
 *  - A newer leader epoch starts a new epoch: the epoch starts at leo
 *    (decision assign_epoch), every follower's progress is forgotten, ISR
 *    members count as caught up at now, others as never.
 *  - The same leader epoch with a newer partition epoch updates ISR and
 *    replicas (an ISR change in flight is dropped: a newer state decides).
 *  - The same epochs again: nothing.
 * Errors: FENCED_LEADER_EPOCH (st older than p), INVALID_UPDATE_VERSION
 * (same leader epoch, older partition epoch), _INVALID_ARG. */
tern_err_t isr_become_leader(isr_partition_t *p, const isr_leader_and_isr_t *st, int64_t leo,
			     int64_t durable_leo, int64_t now_ms, isr_decisions_t *d);

/* This replica follows st->leader (or nothing is led: ISR_NO_LEADER).
 * Waiters are answered NOT_LEADER_OR_FOLLOWER. A new leader epoch asks for
 * reconciliation (decision reconcile). Errors as isr_become_leader. */
tern_err_t isr_become_follower(isr_partition_t *p, const isr_leader_and_isr_t *st, int64_t leo,
			       int64_t durable_leo, isr_decisions_t *d);

/* ---- events: the leader's log ---- */

/* The leader appended: its LEO is now leo (>= the previous). Under async
 * this is acknowledged at once. NOT_LEADER_OR_FOLLOWER unless leader. */
tern_err_t isr_local_append(isr_partition_t *p, int64_t leo, int64_t now_ms, isr_decisions_t *d);

/* This replica's log is fsynced up to durable_leo (>= the previous, <=
 * leo). Leader or follower. */
tern_err_t isr_durable_advance(isr_partition_t *p, int64_t durable_leo, int64_t now_ms,
			       isr_decisions_t *d);

/* ---- events: followers ---- */

/* A Fetch from follower replica_id arrived at now: it names its current
 * leader epoch, its broker epoch, and fetch_offset (its LEO; its durable
 * LEO under sync). Call only once the log accepted fetch_offset (not
 * below its start). Errors, with nothing changed: the fences of
 * isr_check_epoch; UNKNOWN_LEADER_EPOCH when replica_id is not a follower
 * of this partition; OFFSET_OUT_OF_RANGE when fetch_offset < 0 or > the
 * leader's LEO; NOT_LEADER_OR_FOLLOWER when broker_epoch is older than the
 * follower's registration (a fetch from before it restarted). */
tern_err_t isr_follower_fetch(isr_partition_t *p, int32_t replica_id, int32_t current_leader_epoch,
			      int64_t fetch_offset, int64_t broker_epoch, int64_t now_ms,
			      isr_decisions_t *d);

/* Follower side: its log is now (leo, durable_leo), after appending fetched
 * records or truncating; leader_hwm is the HWM of the latest fetch
 * response, ISR_UNKNOWN_OFFSET when there is no new one. The HWM becomes
 * min(leader's HWM, leo). NOT_LEADER_OR_FOLLOWER unless follower. */
tern_err_t isr_follower_progress(isr_partition_t *p, int64_t leo, int64_t durable_leo,
				 int64_t leader_hwm, isr_decisions_t *d);

/* ---- events: the controller's answer to an AlterPartition ---- */

/* The controller committed proposal id: the state is now (leader_epoch,
 * partition_epoch, isr). Ignored: _STATE when id is not the proposal in
 * flight; FENCED_LEADER_EPOCH or INVALID_UPDATE_VERSION when the answer is
 * older than what p knows; UNKNOWN_LEADER_EPOCH when its leader epoch is
 * newer (the new state will come as metadata); _INVALID_ARG when isr lacks
 * the leader. */
tern_err_t isr_alter_committed(isr_partition_t *p, uint64_t id, int32_t leader_epoch,
			       int32_t partition_epoch, const isr_set_t *isr, int64_t now_ms,
			       isr_decisions_t *d);

/* The controller refused proposal id with err:
 *  - OPERATION_NOT_ATTEMPTED (it applied nothing: a proposed member is not
 *    eligible): back to the committed ISR;
 *  - INVALID_UPDATE_VERSION, FENCED_LEADER_EPOCH, INVALID_REQUEST: the
 *    leader's state is stale: the proposal stays in flight, and the
 *    maximal ISR with it, until a newer state arrives;
 *  - a retriable error (the controller did not answer): send it again
 *    (decision alter).
 * _STATE when id is not the proposal in flight. */
tern_err_t isr_alter_rejected(isr_partition_t *p, uint64_t id, tern_err_t err, int64_t now_ms,
			      isr_decisions_t *d);

/* ---- events: cluster metadata, configuration, time ---- */

/* Metadata about the broker of replica id changed. _INVALID_ARG when id is
 * not a replica. */
tern_err_t isr_set_health(isr_partition_t *p, int32_t id, const isr_health_t *h, int64_t now_ms,
			  isr_decisions_t *d);

/* The topic's configuration changed. */
tern_err_t isr_set_config(isr_partition_t *p, const isr_config_t *cfg, int64_t now_ms,
			  isr_decisions_t *d);

/* Time passed. Answers waiters whose deadline is <= now with
 * REQUEST_TIMED_OUT and, on a leader, every lag_time_max_ms / 2 proposes
 * to drop from the ISR the followers that are not caught up. */
tern_err_t isr_tick(isr_partition_t *p, int64_t now_ms, isr_decisions_t *d);

/* ---- produce ---- */

/* Before appending a produce request with acks: INVALID_REQUIRED_ACKS
 * unless acks is -1, 0 or 1; NOT_LEADER_OR_FOLLOWER unless leader;
 * NOT_ENOUGH_REPLICAS for acks=-1 when the committed ISR is smaller than
 * isr_effective_min_insync() (nothing may be written then). */
tern_err_t isr_produce_check(const isr_partition_t *p, int16_t acks);

/* After appending (and isr_local_append): answer token once end_offset
 * (last offset + 1) is acknowledged: for acks=-1 once the HWM reaches it
 * (NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND when the maximal ISR is then
 * below the effective min.insync), for acks=1 once the leader's
 * acknowledged LEO does; REQUEST_TIMED_OUT at deadline_ms;
 * NOT_LEADER_OR_FOLLOWER if leadership ends first. acks=0: nothing. The
 * answer may be immediate (in d). Errors: NOT_LEADER_OR_FOLLOWER,
 * INVALID_REQUIRED_ACKS, _INVALID_ARG (end_offset beyond the LEO), _NOMEM. */
tern_err_t isr_produce_wait(isr_partition_t *p, int16_t acks, int64_t end_offset,
			    int64_t deadline_ms, uint64_t token, isr_decisions_t *d);

/* ---- queries ---- */

/* The fence of Fetch (v9+), ListOffsets (v4+) and OffsetForLeaderEpoch:
 * with current_leader_epoch (ISR_NO_EPOCH: none sent, no check)
 * FENCED_LEADER_EPOCH when it is older than p's, UNKNOWN_LEADER_EPOCH when
 * newer; then NOT_LEADER_OR_FOLLOWER when require_leader and p does not
 * lead, or when p has no state. */
tern_err_t isr_check_epoch(const isr_partition_t *p, int32_t current_leader_epoch,
			   bool require_leader);

/* ListOffsets "latest" from a client: the HWM, after the fence (leader
 * only); OFFSET_NOT_AVAILABLE while the HWM is below the start of the
 * leader's epoch (KIP-207: a new leader's HWM may still lag the old
 * leader's, and a client must never see the end of the partition move
 * backwards). */
tern_err_t isr_list_latest(const isr_partition_t *p, int32_t current_leader_epoch, int64_t *offset);

/* A follower's lag on the leader, for metrics: offsets behind the leader's
 * acknowledged LEO (ISR_UNKNOWN_OFFSET before its first fetch) and ms since
 * it was last caught up (ISR_UNKNOWN_OFFSET when never). NOT_LEADER_OR_FOLLOWER
 * unless leader; _INVALID_ARG unless id is a follower. */
tern_err_t isr_follower_lag(const isr_partition_t *p, int32_t id, int64_t now_ms, int64_t *offsets,
			    int64_t *ms);

/* ------------------------------------------------------------------------ */
/* The controller's record of one partition                                   */

/* The controller's record. Invariants (isr_ctl_validate() checks those
 * that need no history):
 *   - replicas distinct, 1..ISR_MAX_REPLICAS; health[i] is replicas[i]'s;
 *   - isr ⊆ replicas, elr ⊆ replicas, isr ∩ elr = ∅; elr empty unless
 *     cfg.eligible_leader_replicas, and empty while the ISR is at the
 *     effective min.insync;
 *   - leader == ISR_NO_LEADER or leader ∈ isr;
 *   - every elr member left the ISR while the ISR was below the effective
 *     min.insync (so the HWM was frozen and it holds everything below it),
 *     and has not since restarted uncleanly under async nor been corrupt;
 *   - the ISR is empty only with eligible leader replicas, or after an
 *     unclean restart under async removed its last member;
 *   - leader_epoch and partition_epoch never decrease; every change of
 *     the state bumps partition_epoch, every election leader_epoch. */
typedef struct isr_ctl {
	isr_config_t cfg;
	int32_t nreplicas;
	int32_t replicas[ISR_MAX_REPLICAS];
	isr_health_t health[ISR_MAX_REPLICAS];
	int32_t leader;
	int32_t leader_epoch;
	int32_t partition_epoch;
	isr_set_t isr;
	isr_set_t elr; /* eligible leader replicas (KIP-966) */
	bool recovering;
	uint64_t unclean_elections;
} isr_ctl_t;

/* What a controller event did. */
typedef struct isr_ctl_result {
	bool changed;	/* the state changed: push isr_ctl_state() to the replicas */
	bool elected;	/* an election ran: the leader epoch was bumped */
	bool unclean;	/* ... and it was unclean: committed data may be lost */
	bool from_elr;	/* ... and it chose an eligible leader replica */
	int32_t leader; /* the leader now */
} isr_ctl_result_t;

typedef enum isr_election {
	ISR_ELECT_PREFERRED = 0, /* move leadership to the first replica (tern elect) */
	ISR_ELECT_UNCLEAN = 1,	 /* forced unclean election of an offline partition */
} isr_election_t;

/* A new partition: ISR = all replicas, no leader yet (epochs 0), every
 * broker unknown until it registers. */
tern_err_t isr_ctl_init(isr_ctl_t *c, const isr_config_t *cfg, const int32_t *replicas,
			int32_t nreplicas);

/* _STATE with the broken invariant in why when c breaks one (a bug). */
tern_err_t isr_ctl_validate(const isr_ctl_t *c, char *why, size_t whylen);

/* The state to push to the replicas. */
void isr_ctl_state(const isr_ctl_t *c, isr_leader_and_isr_t *out);

isr_mode_t isr_ctl_mode(const isr_ctl_t *c);

/* Broker id registered with broker_epoch; clean_shutdown: its last stop
 * was clean (it found its clean-shutdown marker), or it never ran before.
 *  - A newer epoch is a restart (DESIGN.md decision 10): if it led the
 *    partition, a new election (new leader epoch) even if it wins again;
 *    under async, a restart without a clean-shutdown marker first takes it
 *    out of the ISR and the eligible leader replicas (its unsynced tail may
 *    be gone), even when it was the last ISR member.
 *  - The same epoch is an unfence (its session came back).
 * An offline partition then tries an election. STALE_BROKER_EPOCH for an
 * older epoch; _INVALID_ARG when id is not a replica. */
tern_err_t isr_ctl_register(isr_ctl_t *c, int32_t id, int64_t broker_epoch, bool clean_shutdown,
			    isr_ctl_result_t *r);

/* Broker id's session expired (fenced) / it began a controlled shutdown /
 * it reported this replica corrupt: it leaves the ISR at once, without
 * the lag rule, and if it led, a new leader is elected. The last ISR member
 * stays in the ISR (so it can be elected cleanly when it returns) unless
 * eligible leader replicas are on: then it moves to the ELR (unless corrupt)
 * and the ISR may be empty. A corrupt report, and the report that the
 * replica truncated its corrupt tail and is healthy again, always bump the
 * partition epoch: proposals to add it based on fetches from before its
 * truncation become stale. The replica reports healthy only once no fetch
 * it sent before the truncation is still unanswered. */
tern_err_t isr_ctl_fence(isr_ctl_t *c, int32_t id, isr_ctl_result_t *r);
tern_err_t isr_ctl_shutdown(isr_ctl_t *c, int32_t id, isr_ctl_result_t *r);
tern_err_t isr_ctl_set_corrupt(isr_ctl_t *c, int32_t id, bool corrupt, isr_ctl_result_t *r);

/* An AlterPartition from req->leader. Accepted only if both epochs match
 * c's and req->leader leads: then partition_epoch is bumped and the ISR is
 * req->isr. Errors (nothing changes): FENCED_LEADER_EPOCH (older leader
 * epoch), NOT_CONTROLLER (newer epochs than c's: c is stale),
 * INVALID_REQUEST (not from the leader; an ISR outside the replicas or
 * without the leader), INVALID_UPDATE_VERSION (older partition epoch),
 * OPERATION_NOT_ATTEMPTED (a member is dead, shutting down or corrupt, or
 * the broker epoch the leader names for it is not its registration's).
 * The same ISR as c's is accepted without a new partition epoch. */
tern_err_t isr_ctl_alter(isr_ctl_t *c, const isr_alter_t *req, isr_ctl_result_t *r);

/* An election asked for by an operator. ELECTION_NOT_NEEDED when the
 * preferred replica already leads or (unclean) the partition has a leader;
 * PREFERRED_LEADER_NOT_AVAILABLE when the preferred replica is not an
 * eligible ISR member; ELIGIBLE_LEADERS_NOT_AVAILABLE when even an unclean
 * election finds no live replica. */
tern_err_t isr_ctl_elect(isr_ctl_t *c, isr_election_t type, isr_ctl_result_t *r);

/* The topic's configuration changed: turning eligible leader replicas off
 * empties the ELR; an offline partition tries an election (unclean
 * election may just have been allowed). */
tern_err_t isr_ctl_set_config(isr_ctl_t *c, const isr_config_t *cfg, isr_ctl_result_t *r);

/* ------------------------------------------------------------------------ */
/* Follower-side log reconciliation (pure functions)                         */

/* One entry of a leader-epoch cache (the layout of log_epoch_entry_t). */
typedef struct isr_epoch_entry {
	int32_t epoch;
	int64_t start_offset;
} isr_epoch_entry_t;

/* One step of reconciliation. Truncate the log to truncate_to (nothing to
 * cut when it is >= the LEO), then: done → fetch from there; otherwise ask
 * the leader OffsetForLeaderEpoch(ask_epoch) (not the cache's latest epoch:
 * a former leader may keep an epoch without records at its LEO) and call
 * isr_reconcile_step with the truncated cache. Each round asks an older
 * epoch, so the rounds end. */
typedef struct isr_reconcile {
	bool done;
	int64_t truncate_to;
	int32_t ask_epoch;
} isr_reconcile_t;

/* The first step: a follower whose cache (epochs strictly increasing,
 * start offsets non-decreasing) is empty holds no batch to check and is
 * done; otherwise it asks its latest epoch. leo is the plain LEO.
 * _INVALID_ARG for a malformed cache. */
tern_err_t isr_reconcile_begin(const isr_epoch_entry_t *cache, size_t n, int64_t leo,
			       isr_reconcile_t *out);

/* The leader answered (leader_epoch E', leader_end) to asked (KIP-101,
 * KIP-279): E' is its largest epoch <= asked, leader_end the start of its
 * next epoch (its LEO if E' is its current one). With F the follower's
 * largest epoch <= E':
 *  - F == E': truncate to min(leader_end, end of F here, leo); done;
 *  - F < E': truncate to min(end of F here, leo) and ask F;
 *  - no such F (everything here is from epochs the leader does not have
 *    at these offsets): truncate to the start of the first epoch here
 *    (the log start), done.
 * Never the HWM. UNKNOWN_LEADER_EPOCH when the leader knows no epoch <=
 * asked (it answered UNDEFINED: it is behind; ask again later);
 * _INVALID_ARG for a malformed cache or an answer that breaks the protocol
 * (E' > asked, a negative end). */
tern_err_t isr_reconcile_step(const isr_epoch_entry_t *cache, size_t n, int64_t leo, int32_t asked,
			      int32_t leader_epoch, int64_t leader_end, isr_reconcile_t *out);

/* What a follower does when the leader answered OFFSET_OUT_OF_RANGE. */
typedef enum isr_oor_action {
	/* Below the leader's log start: truncate fully, restart at restart_at. */
	ISR_OOR_RESTART_AT = 0,
	/* Above the leader's LEO: the logs diverged (or the leader lost a
	 * tail): reconcile again through OffsetForLeaderEpoch; never truncate
	 * blindly to the leader's LEO. */
	ISR_OOR_RECONCILE = 1,
	/* Within the leader's log by now: fetch again. */
	ISR_OOR_RETRY = 2,
} isr_oor_action_t;

/* fetch_offset was refused; leader_log_start and leader_leo come from
 * ListOffsets (earliest, latest) on the leader. _INVALID_ARG when
 * leader_log_start > leader_leo or either is negative. */
tern_err_t isr_follower_out_of_range(int64_t fetch_offset, int64_t leader_log_start,
				     int64_t leader_leo, isr_oor_action_t *action,
				     int64_t *restart_at);

#endif
